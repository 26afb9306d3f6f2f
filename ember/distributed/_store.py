"""Key-value stores for rendezvous: ``HashStore``, ``FileStore``, ``TCPStore``, ``PrefixStore``.

PyTorch's store API: ``set``, ``get`` (waits for the key), ``add``, ``compare_set``,
``delete_key``, ``num_keys``, ``wait``, ``check``. Values are bytes (``set`` also takes
``str``); counters made by ``add`` are stored as their decimal text, as PyTorch does.

NOTE [ Stores are not the data path ]
Tensors never travel through a store: collectives run on MPI. Stores carry a few small
keys: the rendezvous (MPI port names for the spawn path), the failure watchdog's heartbeats
and failure marks, and whatever users put there themselves. So the TCP store favours a
small, obviously correct protocol (one request, one reply, length-prefixed fields) over
throughput.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import os
import socket
import socketserver
import struct
import threading
import time

__all__ = ["Store", "HashStore", "FileStore", "TCPStore", "PrefixStore", "DistError",
           "DistStoreError", "DistBackendError"]

_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)


class DistError(RuntimeError):
    """Base class of ``ember.distributed``'s errors (PyTorch's ``torch.distributed.DistError``),
    a RuntimeError.

    Example:
        >>> import ember.distributed as dist
        >>> issubclass(dist.DistStoreError, dist.DistError)
        True
        >>> issubclass(dist.DistError, RuntimeError)
        True
    """


class DistStoreError(DistError):
    """A store operation failed or timed out (a ``get`` or ``wait`` for a key nobody set, for
    instance).

    Example:
        >>> import datetime
        >>> import ember.distributed as dist
        >>> store = dist.HashStore()
        >>> store.set_timeout(datetime.timedelta(milliseconds=10))
        >>> try:
        ...     store.get("never-set")
        ... except dist.DistStoreError:
        ...     print("timed out")
        timed out
    """


class DistNetworkError(DistError):
    """A network operation failed: a ``TCPStore`` master could not listen on its port, or a
    client could not reach it.

    Example:
        >>> import ember.distributed as dist
        >>> issubclass(dist.DistNetworkError, dist.DistError)
        True
    """


class DistBackendError(DistError):
    """A collective failed: a peer rank was lost or the operation outlived the group's timeout.

    The message names the operation and, when known, the lost ranks (NOTE [ Failure
    detection ] in ``_c10d.py``); the process should exit, as its group can no longer be used.

    Example:
        >>> import ember.distributed as dist
        >>> issubclass(dist.DistBackendError, RuntimeError)
        True
    """


def _seconds(timeout):
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def _as_bytes(value, what):
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return bytes(value)  # PyTorch's bindings accept a list of byte values too
    raise TypeError(f"{what}: expected str or bytes, got {type(value).__name__}")


class _Table:
    """The store semantics on a dict, shared by HashStore and the TCP store's server."""

    def __init__(self):
        self.data = {}
        self.cond = threading.Condition()

    def set(self, key, value):
        with self.cond:
            self.data[key] = value
            self.cond.notify_all()

    def get(self, key, timeout):
        """The value of ``key`` once it exists; None on timeout."""
        self.wait([key], timeout)
        with self.cond:
            return self.data.get(key)

    def add(self, key, amount):
        with self.cond:
            cur = self.data.get(key)
            try:
                new = (int(cur) if cur is not None else 0) + amount
            except ValueError:
                raise DistStoreError(f"add: value of key '{key}' is not an integer") from None
            self.data[key] = str(new).encode()
            self.cond.notify_all()
            return new

    def compare_set(self, key, expected, desired):
        with self.cond:
            cur = self.data.get(key)
            if (cur is None and expected == b"") or (cur is not None and cur == expected):
                self.data[key] = desired
                self.cond.notify_all()
                return desired
            return expected if cur is None else cur

    def delete_key(self, key):
        with self.cond:
            return self.data.pop(key, None) is not None

    def num_keys(self):
        with self.cond:
            return len(self.data)

    def check(self, keys):
        with self.cond:
            return all(k in self.data for k in keys)

    def wait(self, keys, timeout):
        """Block until every key exists; False on timeout (``timeout`` in seconds or None)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while not all(k in self.data for k in keys):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self.cond.wait(left)
            return True


class Store:
    """Base class of the key-value stores ranks use to rendezvous (``HashStore``, ``FileStore``,
    ``TCPStore``, ``PrefixStore``).

    ``set``/``get``/``add``/``compare_set``/``wait``/``check``/``delete_key``/``num_keys`` work
    as in PyTorch: keys are strings, values bytes (strings are encoded), ``get`` and ``wait``
    block until the key exists or the timeout passes (``DistStoreError``). Subclasses
    implement the ``_set``/``_get``/... primitives on bytes.

    Args:
        timeout: a ``datetime.timedelta`` for blocking operations (default 300 s).

    Example:
        >>> import ember.distributed as dist
        >>> s = dist.HashStore()
        >>> s.set("k", "v")
        >>> s.get("k")
        b'v'
        >>> s.add("n", 2)
        2
    """

    def __init__(self, timeout=_DEFAULT_TIMEOUT):
        self._timeout = _seconds(timeout)

    @property
    def timeout(self):
        return datetime.timedelta(seconds=self._timeout)

    def set_timeout(self, timeout):
        self._timeout = _seconds(timeout)

    def set(self, key, value):
        self._set(str(key), _as_bytes(value, "Store.set"))

    def get(self, key):
        key = str(key)
        v = self._get(key, self._timeout)
        if v is None:
            raise DistStoreError(f"Store.get: wait timeout after {self._timeout * 1000:.0f}ms, "
                                 f"keys: {key}")
        return v

    def add(self, key, amount):
        return self._add(str(key), int(amount))

    def compare_set(self, key, expected_value, desired_value):
        return self._compare_set(str(key), _as_bytes(expected_value, "compare_set"),
                                 _as_bytes(desired_value, "compare_set"))

    def delete_key(self, key):
        return self._delete_key(str(key))

    def num_keys(self):
        return self._num_keys()

    def check(self, keys):
        return self._check([str(k) for k in keys])

    def wait(self, keys, timeout=None):
        keys = [str(k) for k in keys]
        t = self._timeout if timeout is None else _seconds(timeout)
        if not self._wait(keys, t):
            raise DistStoreError(f"Store.wait: wait timeout after {t * 1000:.0f}ms, "
                                 f"keys: {', '.join(keys)}")

    def multi_set(self, keys, values):
        for k, v in zip(keys, values):
            self.set(k, v)

    def multi_get(self, keys):
        return [self.get(k) for k in keys]


class HashStore(Store):
    """A store in this process's memory, safe across threads.

    Example:
        >>> s = HashStore(); s.add("n", 2)
        2
    """

    def __init__(self):
        super().__init__()
        self._t = _Table()

    def _set(self, key, value):
        self._t.set(key, value)

    def _get(self, key, timeout):
        return self._t.get(key, timeout)

    def _add(self, key, amount):
        return self._t.add(key, amount)

    def _compare_set(self, key, expected, desired):
        return self._t.compare_set(key, expected, desired)

    def _delete_key(self, key):
        return self._t.delete_key(key)

    def _num_keys(self):
        return self._t.num_keys()

    def _check(self, keys):
        return self._t.check(keys)

    def _wait(self, keys, timeout):
        return self._t.wait(keys, timeout)


class FileStore(Store):
    """A store in a file shared by processes of one machine or a shared file system.

    The file is an append-only log of ``set``/``delete`` records; every operation takes an
    exclusive ``flock``, replays the log, and appends what it changed. Waiting polls.

    Args:
        file_name: path of the file (created if missing).
        world_size: number of processes sharing it (accepted for PyTorch's signature; -1 for
            unknown).

    Example:
        >>> s = FileStore("/tmp/ember_store", 1); s.set("a", b"1")
    """

    def __init__(self, file_name, world_size=-1):
        super().__init__()
        self.path = os.fspath(file_name)
        self.world_size = world_size
        # Opening in append mode creates the file without truncating one another process uses.
        open(self.path, "ab").close()

    def _locked(self, fn):
        with open(self.path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                data = self._replay(f.read())
                return fn(data, f)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @staticmethod
    def _replay(raw):
        data, i = {}, 0
        while i < len(raw):
            op = raw[i:i + 1]
            (klen,) = struct.unpack_from(">I", raw, i + 1)
            key = raw[i + 5:i + 5 + klen].decode()
            i += 5 + klen
            if op == b"S":
                (vlen,) = struct.unpack_from(">I", raw, i)
                data[key] = raw[i + 4:i + 4 + vlen]
                i += 4 + vlen
            else:
                data.pop(key, None)
        return data

    @staticmethod
    def _append(f, op, key, value=None):
        k = key.encode()
        rec = op + struct.pack(">I", len(k)) + k
        if value is not None:
            rec += struct.pack(">I", len(value)) + value
        f.write(rec)
        f.flush()

    def _set(self, key, value):
        self._locked(lambda d, f: self._append(f, b"S", key, value))

    def _get(self, key, timeout):
        if not self._wait([key], timeout):
            return None
        return self._locked(lambda d, f: d.get(key))

    def _add(self, key, amount):
        def op(d, f):
            cur = d.get(key)
            try:
                new = (int(cur) if cur is not None else 0) + amount
            except ValueError:
                raise DistStoreError(f"add: value of key '{key}' is not an integer") from None
            self._append(f, b"S", key, str(new).encode())
            return new
        return self._locked(op)

    def _compare_set(self, key, expected, desired):
        def op(d, f):
            cur = d.get(key)
            if (cur is None and expected == b"") or (cur is not None and cur == expected):
                self._append(f, b"S", key, desired)
                return desired
            return expected if cur is None else cur
        return self._locked(op)

    def _delete_key(self, key):
        def op(d, f):
            if key not in d:
                return False
            self._append(f, b"D", key)
            return True
        return self._locked(op)

    def _num_keys(self):
        return self._locked(lambda d, f: len(d))

    def _check(self, keys):
        return self._locked(lambda d, f: all(k in d for k in keys))

    def _wait(self, keys, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.001
        while not self._check(keys):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return True


# ---------------------------------------------------------------------------- TCP store
# Wire format: a request is one opcode byte and a field count, then length-prefixed fields;
# the reply is one status byte and length-prefixed fields. Integers travel as decimal text.
_SET, _GET, _ADD, _CAS, _DEL, _NUM, _CHECK, _WAIT = range(8)
_OK, _TIMEOUT, _ERR = 0, 1, 2


def _send_msg(sock, head, fields):
    parts = [struct.pack(">BI", head, len(fields))]
    for f in fields:
        parts.append(struct.pack(">I", len(f)))
        parts.append(f)
    sock.sendall(b"".join(parts))


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("TCPStore: connection closed by the other side")
        buf += chunk
    return bytes(buf)


def _recv_msg(sock):
    head, count = struct.unpack(">BI", _recv_exact(sock, 5))
    fields = []
    for _ in range(count):
        (n,) = struct.unpack(">I", _recv_exact(sock, 4))
        fields.append(_recv_exact(sock, n))
    return head, fields


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        t = self.server.table
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                op, f = _recv_msg(sock)
            except (ConnectionError, OSError):
                return
            try:
                reply = self._run(t, op, f)
            except DistStoreError as e:
                reply = (_ERR, [str(e).encode()])
            try:
                _send_msg(sock, *reply)
            except OSError:
                return

    @staticmethod
    def _run(t, op, f):
        if op == _SET:
            t.set(f[0].decode(), f[1])
            return _OK, []
        if op == _GET:
            key = f[0].decode()
            timeout = None if f[1] == b"" else float(f[1])
            v = t.get(key, timeout)
            return (_TIMEOUT, []) if v is None else (_OK, [v])
        if op == _ADD:
            return _OK, [str(t.add(f[0].decode(), int(f[1]))).encode()]
        if op == _CAS:
            return _OK, [t.compare_set(f[0].decode(), f[1], f[2])]
        if op == _DEL:
            return _OK, [b"1" if t.delete_key(f[0].decode()) else b"0"]
        if op == _NUM:
            return _OK, [str(t.num_keys()).encode()]
        if op == _CHECK:
            return _OK, [b"1" if t.check([k.decode() for k in f]) else b"0"]
        if op == _WAIT:
            timeout = None if f[0] == b"" else float(f[0])
            return (_OK if t.wait([k.decode() for k in f[1:]], timeout) else _TIMEOUT), []
        return _ERR, [f"unknown opcode {op}".encode()]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPStore(Store):
    """A store served over TCP by one process (the master) to any number of clients.

    The master runs the server on a daemon thread of its own process and talks to it as a
    client like everyone else.

    Args:
        host_name: address of the master.
        port: its port (0 on the master: pick a free one, see ``.port``).
        world_size: number of processes; with ``wait_for_workers`` the master waits in the
            constructor until that many have connected.
        is_master: serve the store from this process.
        timeout: how long ``get``/``wait`` and connecting wait (``datetime.timedelta``).
        wait_for_workers: see ``world_size``.
        multi_tenant, master_listen_fd, use_libuv: PyTorch's; only their defaults are
            supported.

    Example:
        >>> master = TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
        >>> client = TCPStore("127.0.0.1", master.port)
        >>> client.add("n", 1)
        1
    """

    def __init__(self, host_name, port, world_size=None, is_master=False,
                 timeout=_DEFAULT_TIMEOUT, wait_for_workers=True, multi_tenant=False,
                 master_listen_fd=None, use_libuv=True):  # noqa: ARG002 - PyTorch's TCPStore backend choice; ember's store has one implementation
        super().__init__(timeout)
        if multi_tenant:
            raise NotImplementedError("TCPStore: multi_tenant=True is not supported")
        if master_listen_fd is not None:
            raise NotImplementedError("TCPStore: master_listen_fd is not supported")
        self.host = host_name
        self.world_size = world_size
        self._server = None
        if is_master:
            self._server = self._listen(int(port))
            self._server.table = _Table()
            threading.Thread(target=self._server.serve_forever, args=(0.05,),
                             name="ember-TCPStore", daemon=True).start()
            port = self._server.server_address[1]
        self.port = int(port)
        self._lock = threading.Lock()
        self._sock = self._connect()
        # Joining counts workers so the master can wait for all of them, as PyTorch's does.
        self._add("__tcpstore_init/num_members", 1)
        if is_master and wait_for_workers and world_size is not None and world_size > 0:
            deadline = time.monotonic() + self._timeout
            while int(self._get("__tcpstore_init/num_members", 0) or 0) < world_size:
                if time.monotonic() > deadline:
                    raise DistStoreError(f"TCPStore: timed out after {self._timeout:.0f}s "
                                         f"waiting for {world_size} workers to connect")
                time.sleep(0.01)

    def _listen(self, port):
        # A client that started first may hold the port for an instant (see _connect's
        # self-connect check); a port that stays taken fails after one second, naming it.
        deadline = time.monotonic() + 1.0
        while True:
            try:
                return _Server(("", port), _Handler)
            except OSError as e:
                if e.errno != errno.EADDRINUSE or port == 0 or time.monotonic() > deadline:
                    raise DistNetworkError(f"TCPStore: the master could not listen on port "
                                         f"{port}: {e}") from e
                time.sleep(0.02)

    def _connect(self):
        deadline = time.monotonic() + self._timeout
        delay = 0.01
        while True:
            try:
                s = socket.create_connection((self.host, self.port), timeout=10)
                if s.getsockname() == s.getpeername():
                    # TCP self-connect: with no listener yet, the kernel can pick the
                    # master's port as this socket's own ephemeral port and "connect" it
                    # to itself, which would also keep the master from binding. Drop it.
                    s.close()
                    raise ConnectionRefusedError("connected to itself (no listener yet)")
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return s
            except OSError as e:
                if time.monotonic() > deadline:
                    raise DistStoreError(f"TCPStore: could not connect to {self.host}:"
                                         f"{self.port} within {self._timeout:.0f}s: {e}") from e
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _call(self, op, fields):
        with self._lock:
            try:
                _send_msg(self._sock, op, fields)
                status, out = _recv_msg(self._sock)
            except OSError as e:
                raise DistStoreError(f"TCPStore: lost the connection to {self.host}:"
                                     f"{self.port}: {e}") from e
        if status == _ERR:
            raise DistStoreError(out[0].decode())
        return status, out

    @staticmethod
    def _t(timeout):
        return b"" if timeout is None else repr(float(timeout)).encode()

    def _set(self, key, value):
        self._call(_SET, [key.encode(), value])

    def _get(self, key, timeout):
        status, out = self._call(_GET, [key.encode(), self._t(timeout)])
        return out[0] if status == _OK else None

    def _add(self, key, amount):
        return int(self._call(_ADD, [key.encode(), str(amount).encode()])[1][0])

    def _compare_set(self, key, expected, desired):
        return self._call(_CAS, [key.encode(), expected, desired])[1][0]

    def _delete_key(self, key):
        return self._call(_DEL, [key.encode()])[1][0] == b"1"

    def _num_keys(self):
        return int(self._call(_NUM, [])[1][0])

    def _check(self, keys):
        return self._call(_CHECK, [k.encode() for k in keys])[1][0] == b"1"

    def _wait(self, keys, timeout):
        return self._call(_WAIT, [self._t(timeout)] + [k.encode() for k in keys])[0] == _OK

    def close(self):
        """Close the connection (and stop the server on the master)."""
        try:
            self._sock.close()
        finally:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None


class PrefixStore(Store):
    """A view of ``store`` in which every key is prefixed with ``prefix + "/"``, so that several
    users of one store do not collide.

    Args:
        prefix: the string put before each key.
        store: the underlying ``Store``.

    Example:
        >>> import ember.distributed as dist
        >>> base = dist.HashStore()
        >>> s = dist.PrefixStore("job1", base)
        >>> s.set("x", "1")
        >>> base.get("job1/x")
        b'1'
    """

    def __init__(self, prefix, store):
        super().__init__(store.timeout)
        self.prefix = prefix
        self.underlying_store = store

    def _k(self, key):
        return f"{self.prefix}/{key}"

    def _set(self, key, value):
        self.underlying_store._set(self._k(key), value)

    def _get(self, key, timeout):
        return self.underlying_store._get(self._k(key), timeout)

    def _add(self, key, amount):
        return self.underlying_store._add(self._k(key), amount)

    def _compare_set(self, key, expected, desired):
        return self.underlying_store._compare_set(self._k(key), expected, desired)

    def _delete_key(self, key):
        return self.underlying_store._delete_key(self._k(key))

    def _num_keys(self):
        return self.underlying_store._num_keys()

    def _check(self, keys):
        return self.underlying_store._check([self._k(k) for k in keys])

    def _wait(self, keys, timeout):
        return self.underlying_store._wait([self._k(k) for k in keys], timeout)
