"""Shared-memory segments for tensors, and a socket channel that passes them by descriptor.

NOTE [ Shared memory ]
A segment is a file that we create in ``/dev/shm`` under a unique name
(``ember_<pid>_<n>_<random>``, opened with ``O_EXCL``), size with ``ftruncate`` plus
``posix_fallocate``, map ``MAP_SHARED`` and *unlink at once*. From then on the memory has no
name: the kernel keeps it exactly as long as some process holds a descriptor or a mapping of
it, so it is released when the last user drops it — and also when a user dies by SIGKILL,
where a named segment (``multiprocessing.shared_memory``) would leak in ``/dev/shm`` and
needs a resource tracker. The only window for a leak is the few microseconds between
``open`` and ``unlink``. ``posix_fallocate`` reserves the pages up front so that a full
``/dev/shm`` is a clear ``RuntimeError`` now rather than a SIGBUS when the memory is first
touched (the classic "bus error" of loaders in small Docker ``/dev/shm``).

Another process gets a segment by receiving its descriptor over a Unix socket
(SCM_RIGHTS): ``multiprocessing.reduction.DupFd`` for the generic ``Queue``/``Pipe``/process
arguments path (``reductions.py``), and :class:`Channel` for DataLoader workers, which sends
the descriptors of a batch in the same message as the pickled batch (one ``sendmsg``, no
per-tensor connection or authentication round trip). Each segment keeps its name as an
identity: a process maps a given segment once (:data:`_CACHE`), so tensors that share a
segment in the sender share it in the receiver too.

Without ``/dev/shm`` (macOS), segments are unlinked temporary files in the temp directory.
"""

from __future__ import annotations

import array
import io
import itertools
import mmap
import os
import pickle
import secrets
import select
import socket
import struct
import sys
import tempfile
import weakref
from multiprocessing.reduction import ForkingPickler

import numpy as np

SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
_COUNTER = itertools.count()
_CACHE: weakref.WeakValueDictionary[str, Segment] = weakref.WeakValueDictionary()
_HAS_FALLOCATE = hasattr(os, "posix_fallocate")


class Segment(mmap.mmap):
    """A shared mapping that owns the descriptor of its (unlinked) file.

    ``fd`` stays open while the mapping lives so the segment can be sent on; both are
    released when the last array viewing the mapping is garbage collected.
    """

    def __new__(cls, fd: int, size: int, name: str) -> Segment:
        self = super().__new__(cls, fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.fd = fd
        self.name = name
        self.size = size
        # The address lets us find a view's offset inside the segment from its data pointer.
        self.addr = np.frombuffer(self, np.uint8, 1).__array_interface__["data"][0]
        return self

    def __del__(self, _close=os.close):
        fd, self.fd = getattr(self, "fd", -1), -1
        if fd >= 0:
            try:
                _close(fd)
            except OSError:
                pass

    def __reduce__(self):
        raise TypeError("ember shared-memory segments are sent with multiprocessing's "
                        "ForkingPickler (import ember.multiprocessing), not plain pickle")


def free_bytes() -> int | None:
    """Free bytes in the shared-memory filesystem (None when it cannot be measured)."""
    try:
        st = os.statvfs(SHM_DIR or tempfile.gettempdir())
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _open_unlinked() -> tuple[int, str]:
    d = SHM_DIR or tempfile.gettempdir()
    pid = os.getpid()
    while True:
        name = f"ember_{pid}_{next(_COUNTER)}_{secrets.token_hex(4)}"
        path = os.path.join(d, name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.unlink(path)
        return fd, name


def create_segment(nbytes: int) -> Segment:
    """Create an anonymous shared segment of at least ``nbytes`` bytes (at least 1)."""
    size = max(int(nbytes), 1)
    fd, name = _open_unlinked()
    try:
        os.ftruncate(fd, size)
        if _HAS_FALLOCATE and SHM_DIR:
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as e:
                if e.errno not in (28, 12):  # ENOSPC, ENOMEM; others: filesystem can't, skip
                    if e.errno not in (95, 22):  # EOPNOTSUPP, EINVAL
                        raise
                else:
                    free = free_bytes()
                    raise RuntimeError(
                        f"unable to allocate {size} bytes of shared memory in "
                        f"{SHM_DIR} ({free} bytes free): {e.strerror}. Enlarge it (e.g. "
                        "`docker run --shm-size=2g`, or remount /dev/shm with a larger "
                        "size=) or lower batch_size, num_workers or prefetch_factor"
                    ) from None
        seg = Segment(fd, size, name)
    except BaseException:
        os.close(fd)
        raise
    _CACHE[name] = seg
    return seg


def attach_segment(fd: int, size: int, name: str) -> Segment:
    """Map a received descriptor, reusing this process's mapping of the same segment."""
    seg = _CACHE.get(name)
    if seg is not None and seg.size == size:
        os.close(fd)
        return seg
    try:
        seg = Segment(fd, size, name)
    except BaseException:
        os.close(fd)
        raise
    _CACHE[name] = seg
    return seg


def segment_of(arr) -> Segment | None:
    """The shared segment holding ``arr``'s memory, or None."""
    b = arr
    while isinstance(b, np.ndarray):
        b = b.base
    if isinstance(b, memoryview):
        b = b.obj
    return b if isinstance(b, Segment) else None


def empty(shape, dtype) -> np.ndarray:
    """A C-contiguous array of ``shape``/``dtype`` in shared memory (a recycled segment in a
    DataLoader worker when one of the right size is free, else a new one)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    seg = ALLOCATOR.acquire(max(n, 1)) if ALLOCATOR is not None else None
    if seg is None:
        seg = create_segment(n)
    return np.ndarray(shape, dtype, buffer=seg)


def _probe_refcount() -> int:
    d = {"k": object()}
    return sys.getrefcount(d["k"])


_UNUSED_REFS = _probe_refcount()


def unused(d: dict, key) -> bool:
    """True if nothing but the dict ``d`` references ``d[key]`` (no array views it)."""
    return sys.getrefcount(d[key]) <= _UNUSED_REFS


class RecyclePool:
    """A DataLoader worker's segments: those sent and not yet released, and free ones.

    NOTE [ Segment recycling ]
    Fresh shared memory is expensive: every page is zeroed and faulted in, in the worker
    that writes it and again in the main process that maps it (~40 ms for a 38 MB batch
    on a VM), while the copy itself takes ~2 ms. So segments go round: the main process
    keeps its mapping of each segment a worker sent and, once no array references it any
    more (its reference count drops to the holding dict's), lists it as *released* in its
    next task message to that worker; the worker stacks a later batch of the same size
    into it, and the main process finds it already mapped (``_CACHE``). The main process
    bounds the released segments it keeps per worker and tells the worker to *forget*
    the rest; a segment sent on to another process (``escaped``) is never recycled.
    """

    def __init__(self) -> None:
        self.in_flight: dict[str, Segment] = {}
        self.free: dict[str, Segment] = {}

    def sent(self, segs) -> None:
        for seg in segs:
            self.in_flight[seg.name] = seg

    def release(self, names) -> None:
        for name in names:
            seg = self.in_flight.pop(name, None)
            if seg is not None:
                self.free[name] = seg

    def forget(self, names) -> None:
        for name in names:
            self.in_flight.pop(name, None)
            self.free.pop(name, None)

    def acquire(self, size: int) -> Segment | None:
        for name in list(self.free):
            seg = self.free[name]
            fits = seg.size == size and not getattr(seg, "escaped", False)
            del seg  # `unused` counts references: hold none here
            if fits and unused(self.free, name):
                return self.free.pop(name)
        return None


ALLOCATOR: RecyclePool | None = None  # set in DataLoader workers


def view(seg: Segment, dtype, shape, strides, offset: int) -> np.ndarray:
    return np.ndarray(shape, np.dtype(dtype), buffer=seg, offset=offset, strides=strides)


def _dense_layout(a: np.ndarray) -> bool:
    return a.flags.c_contiguous or a.flags.f_contiguous


def copy_to_shared(a: np.ndarray) -> np.ndarray:
    """Copy ``a`` into a new segment, keeping its strides when it is dense (C or F order)."""
    if _dense_layout(a) and a.size:
        seg = create_segment(a.nbytes)
        out = np.ndarray(a.shape, a.dtype, buffer=seg,
                         offset=0, strides=a.strides) if all(s >= 0 for s in a.strides) \
            else None
        if out is not None:
            np.copyto(out, a)
            return out
    out = empty(a.shape, a.dtype)
    np.copyto(out, a)
    return out


def offset_in(seg: Segment, a: np.ndarray) -> int:
    return a.__array_interface__["data"][0] - seg.addr


# ---------------------------------------------------------------- descriptor channel
# Wire format of one message: header (payload length, number of descriptors), the
# descriptors in SCM_RIGHTS ancillary data of the header (at most _MAX_FDS per sendmsg;
# more ride on extra one-byte messages), then the pickle payload.
_HEADER = struct.Struct("<QI")
_MAX_FDS = 250  # the kernel's SCM_MAX_FD is 253


class ChannelClosed(EOFError):
    """The peer closed its end of the channel (or died)."""


class _SendPickler(ForkingPickler):
    """ForkingPickler that sends shared segments as descriptors on the channel."""

    def __init__(self, file, inline_below: int):
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self.fds: list[int] = []
        self.segments: list[Segment] = []
        self._index: dict[str, int] = {}
        self.inline_below = inline_below

    def persistent_id(self, obj):
        if type(obj) is Segment:
            i = self._index.get(obj.name)
            if i is None:
                i = self._index[obj.name] = len(self.fds)
                self.fds.append(obj.fd)
                self.segments.append(obj)
            return ("ember.shm", i, obj.name, obj.size)
        return None


class _RecvUnpickler(pickle.Unpickler):
    def __init__(self, file, fds):
        super().__init__(file)
        self.fds = fds
        self.used: set[int] = set()
        self.segments: list[Segment] = []

    def persistent_load(self, pid):
        tag, i, name, size = pid
        if tag != "ember.shm":
            raise pickle.UnpicklingError(f"unknown persistent id {tag!r}")
        self.used.add(i)
        seg = attach_segment(self.fds[i], size, name)
        self.segments.append(seg)
        return seg


class Channel:
    """A message channel over a Unix stream socket whose tensors travel in shared memory.

    ``send`` pickles with ForkingPickler; a tensor in shared memory is sent as its segment's
    descriptor; tensors below ``inline_below`` bytes that are not shared travel inline
    (an fd, a mapping and an unmapping cost more than copying a few KiB).
    """

    def __init__(self, sock: socket.socket, inline_below: int = 0):
        self.sock = sock
        self.inline_below = inline_below
        self.last_segments: list[Segment] = []  # segments of the last message sent/received

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    def send(self, obj) -> None:
        from ember.multiprocessing.reductions import inline_small_tensors

        buf = io.BytesIO()
        p = _SendPickler(buf, self.inline_below)
        with inline_small_tensors(self.inline_below):
            p.dump(obj)
        data = buf.getbuffer()
        fds = p.fds
        self.last_segments = p.segments
        header = _HEADER.pack(len(data), len(fds))
        if fds:
            self.sock.sendmsg([header], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                          array.array("i", fds[:_MAX_FDS]))])
            for k in range(_MAX_FDS, len(fds), _MAX_FDS):
                self.sock.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                            array.array("i", fds[k:k + _MAX_FDS]))])
        else:
            self.sock.sendall(header)
        self.sock.sendall(data)

    def poll(self, timeout: float | None) -> bool:
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    def _recvmsg(self, n: int, nfds: int, on_wait) -> tuple[bytes, list[int]]:
        fds: list[int] = []
        chunks = []
        got = 0
        anc = socket.CMSG_SPACE(nfds * 4) if nfds else 0
        while got < n:
            try:
                data, ancdata, flags, _ = self.sock.recvmsg(n - got, anc)
            except (socket.timeout, BlockingIOError):
                if on_wait is not None:
                    on_wait()
                continue
            except ConnectionResetError:
                data, ancdata, flags = b"", [], 0
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    a = array.array("i")
                    a.frombytes(payload[:len(payload) - len(payload) % a.itemsize])
                    fds.extend(a)
            if flags & getattr(socket, "MSG_CTRUNC", 0):
                for fd in fds:
                    os.close(fd)
                raise RuntimeError("shared-memory channel: descriptors were truncated "
                                   "(too many open files? raise `ulimit -n`)")
            if not data:
                for fd in fds:
                    os.close(fd)
                raise ChannelClosed("peer closed the channel")
            chunks.append(data)
            got += len(data)
            anc = socket.CMSG_SPACE(max(nfds - len(fds), 0) * 4) if nfds > len(fds) else 0
        return b"".join(chunks), fds

    def _recv_exact(self, n: int, on_wait) -> bytearray:
        buf = bytearray(n)
        mv = memoryview(buf)
        got = 0
        while got < n:
            try:
                k = self.sock.recv_into(mv[got:])
            except (socket.timeout, BlockingIOError):
                if on_wait is not None:
                    on_wait()
                continue
            except ConnectionResetError:
                k = 0
            if k == 0:
                raise ChannelClosed("peer closed the channel")
            got += k
        return buf

    def recv(self, on_wait=None):
        """Receive one message (blocking; ``on_wait`` runs at each socket timeout)."""
        header, fds = self._recvmsg(_HEADER.size, _MAX_FDS, on_wait)
        used: set[int] = set()
        try:
            size, nfds = _HEADER.unpack(header)
            while len(fds) < nfds:
                _, more = self._recvmsg(1, min(nfds - len(fds), _MAX_FDS), on_wait)
                fds.extend(more)
            payload = self._recv_exact(size, on_wait)
            u = _RecvUnpickler(io.BytesIO(payload), fds)
            used = u.used  # descriptors handed to a Segment (which now owns them)
            obj = u.load()
            self.last_segments = u.segments
            return obj
        finally:
            for i, fd in enumerate(fds):
                if i not in used:
                    _close_quietly(fd)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def channel_pair(inline_below: int = 0) -> tuple[Channel, socket.socket]:
    """A connected (parent channel, child socket) pair."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return Channel(a, inline_below), b
