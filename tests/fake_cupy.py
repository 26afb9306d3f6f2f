"""A stand-in for CuPy on machines without a GPU: NumPy behind CuPy's module layout.

``install(monkeypatch)`` puts modules named ``cupy``, ``cupyx``, ``cupyx.scipy.special``
and ``cupy._core._routines_linalg`` into ``sys.modules`` for one test, so that
``ember._backends.cupy_backend`` loads, registers and runs exactly as it would on a GPU:
its transfers, factories, kernels, matmul-precision switching, device indices, memory
counters and ``ember.cuda``'s streams and events all execute. Arrays are ``FakeArray``s,
which, like CuPy's, refuse implicit conversion to NumPy (``np.asarray`` raises) and reach
NumPy's functions only through ``__array_function__``/``__array_ufunc__``. What this cannot
show is whether CuPy itself has every NumPy function a forward calls: the coverage test in
``test_cuda_cpu_side.py`` checks the names against the real CuPy when it is installed.
"""

from __future__ import annotations

import sys
import types

import numpy as np

CALLS = {"functions": set(), "ufuncs": set(), "methods": set(), "compute_type": []}


class _Device:
    id = 0


class FakeArray(np.lib.mixins.NDArrayOperatorsMixin):
    """A device array: NumPy data reachable only through the dispatch protocols."""

    __slots__ = ("a",)
    __array_priority__ = 3000
    device = _Device()

    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (fake CuPy)")

    def __repr__(self):
        return f"FakeArray({self.a!r})"

    shape = property(lambda self: self.a.shape)
    dtype = property(lambda self: self.a.dtype)
    ndim = property(lambda self: self.a.ndim)
    size = property(lambda self: self.a.size)
    strides = property(lambda self: self.a.strides)
    itemsize = property(lambda self: self.a.itemsize)
    nbytes = property(lambda self: self.a.nbytes)
    flags = property(lambda self: self.a.flags)
    base = property(lambda self: None if self.a.base is None else _wrap(self.a.base))
    T = property(lambda self: _wrap(self.a.T))
    real = property(lambda self: _wrap(self.a.real))
    imag = property(lambda self: _wrap(self.a.imag))

    def __len__(self):
        return len(self.a)

    @property
    def data(self):
        """CuPy's ``MemoryPointer``: ``.ptr`` is the address of the first element (here a
        host address, which the fake NCCL reads and writes through)."""
        return types.SimpleNamespace(ptr=self.a.ctypes.data)

    def item(self, *args):
        _no_sync("item")
        return self.a.item(*args)

    def tolist(self):
        _no_sync("tolist")
        return self.a.tolist()

    def get(self):
        _no_sync("get")
        return self.a.copy()

    def __bool__(self):
        _no_sync("__bool__")
        return bool(self.a)

    def __float__(self):
        _no_sync("__float__")
        return float(self.a)

    def __int__(self):
        _no_sync("__int__")
        return int(self.a)

    def __index__(self):
        _no_sync("__index__")
        return self.a.__index__()

    def __getitem__(self, key):
        return _call(lambda a, k: a[k], (self, key), {}, "getitem")

    def __setitem__(self, key, value):
        _call(_setitem, (self, key, value), {}, "setitem", writes=(self,))

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        target = getattr(self.a, attr)
        if not callable(target):
            return _wrap(target)
        CALLS["methods"].add(attr)

        def method(*args, **kwargs):
            return _call(lambda a, *r, **k: getattr(a, attr)(*r, **k), (self,) + args,
                         kwargs, attr, writes=(self,) if attr in _IN_PLACE_METHODS else ())

        return method

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _no_host(ufunc.__name__, inputs)
        CALLS["ufuncs"].add(ufunc.__name__ if method == "__call__" else
                            f"{ufunc.__name__}.{method}")
        out = kwargs.get("out")
        writes = tuple(out or ()) + ((inputs[0],) if method == "at" else ())
        r = _call(getattr(ufunc, method), inputs, kwargs, ufunc.__name__, writes=writes)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return r

    def __array_function__(self, func, types, args, kwargs):
        _no_host(func.__name__, args)
        mod = getattr(func, "__module__", "") or ""
        prefix = "" if mod in ("numpy", "numpy.core", "numpy._core") else mod + "."
        CALLS["functions"].add(prefix.replace("numpy.", "") + func.__name__)
        writes = (args[0],) if func is np.copyto else ()
        if kwargs.get("out") is not None:
            writes += (kwargs["out"],)
        r = _call(func, args, kwargs, func.__name__, writes=writes)
        if func is np.copyto:
            return None
        return r


# ---------------------------------------------------------------- stream capture
# CuPy's ``Stream.begin_capture``/``end_capture`` and ``Graph.launch``. A real capture runs
# nothing: kernels are recorded with their arguments' device addresses and run at each
# launch. The fake runs every call eagerly (to learn its result's shape) and records it on a
# tape of (function, arguments, result); at the end of the capture, memory that existed
# before it is restored to its pre-capture contents (the capture changed nothing there) and
# floating memory allocated during it is filled with NaN (its contents are undefined until a
# launch); a launch re-runs the tape, writing each call's result into the array recorded
# for it, so later calls read the values of this launch, as kernels read fixed addresses.
# Host synchronisation (item, tolist, bool, ...) and pageable host-to-device copies raise
# during a capture, as CUDA refuses them.
_CAPTURE = [None]
_IN_PLACE_METHODS = frozenset({"fill", "sort", "put", "partition", "itemset"})


class _Tape:
    def __init__(self, stream):
        self.stream = stream
        self.entries = []
        self.created = {}   # id(root ndarray) -> root, allocated during the capture
        self.saved = {}     # id(root ndarray) -> (root, copy before the capture wrote it)


def _root(a):
    while isinstance(a, np.ndarray) and isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _no_sync(what):
    # every host read of device data waits for the device: counted, so tests can find the
    # hidden synchronisations of a training step
    CALLS.setdefault("host_syncs", []).append(what)
    if _CAPTURE[0] is not None:
        raise RuntimeError(f"fake CuPy: {what}() synchronises with the host, which is not "
                           "permitted while a stream is capturing "
                           "(cudaErrorStreamCaptureUnsupported)")


def _setitem(a, key, value):
    a[key] = value


def _call(fn, args, kwargs, name, writes=()):
    """Run ``fn`` on unwrapped arguments; while capturing, also put it on the tape."""
    tape = _CAPTURE[0]
    if tape is not None:
        for w in writes:
            root = _root(_unwrap(w))
            if isinstance(root, np.ndarray) and id(root) not in tape.created \
                    and id(root) not in tape.saved:
                tape.saved[id(root)] = (root, root.copy())
    r = _wrap(fn(*_unwrap(args), **_unwrap(kwargs)))
    if tape is not None:
        # a result whose memory is an argument's (a view) was not allocated by this call
        inputs = {id(_root(x.a)) for x in _flat((args, tuple(kwargs.values())))
                  if isinstance(x, FakeArray)}
        for x in (r if isinstance(r, tuple) else (r,)):
            if isinstance(x, FakeArray):
                root = _root(x.a)
                if id(root) not in inputs and id(root) not in tape.saved:
                    tape.created.setdefault(id(root), root)
        tape.entries.append((fn, args, kwargs, r))
    return r


class _Graph:
    """``cupy.cuda.Graph``: made by ``Stream.end_capture``, run by ``launch``."""

    def __init__(self, tape):
        self.tape = tape
        self.launches = 0

    def launch(self, stream=None):
        self.launches += 1
        for fn, args, kwargs, r in self.tape.entries:
            new = fn(*_unwrap(args), **_unwrap(kwargs))
            for old, val in zip(r if isinstance(r, tuple) else (r,),
                                new if isinstance(r, tuple) else (new,)):
                if isinstance(old, FakeArray) and isinstance(val, (np.ndarray, np.generic)) \
                        and not np.shares_memory(old.a, val):
                    np.copyto(old.a, val)

    def upload(self, stream=None):
        pass


def _no_host(fname, args):
    for a in _flat(args):
        if isinstance(a, np.ndarray) and a.ndim > 0:
            raise TypeError(f"fake CuPy: {fname}() mixes a host NumPy array "
                            f"{a.dtype}{list(a.shape)} with device arrays")


def _flat(obj):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _flat(o)
    else:
        yield obj


def _unwrap(obj):
    if isinstance(obj, FakeArray):
        return obj.a
    if isinstance(obj, tuple):
        return tuple(_unwrap(o) for o in obj)
    if isinstance(obj, list):
        return [_unwrap(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, np.ndarray):
        return FakeArray(obj)
    if isinstance(obj, np.generic):  # CuPy reductions give 0-d device arrays
        return FakeArray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class _Pool:
    def __init__(self):
        self.used = 0
        self.freed = 0

    def malloc(self, size):
        self.used += size
        return size

    def used_bytes(self):
        return self.used

    def total_bytes(self):
        return self.used + 1024

    def free_all_blocks(self):
        self.freed += 1


class _Stream:
    def __init__(self, non_blocking=False, priority=0, ptr=1):
        self.ptr, self.device_id, self.done = ptr if ptr != 1 else id(self), 0, True
        self.waited = []

    def synchronize(self):
        CALLS.setdefault("host_syncs", []).append("Stream.synchronize")

    def wait_event(self, e):
        self.waited.append(e)

    def record(self, event=None):
        e = event or _Event()
        e.record(self)
        return e

    def begin_capture(self, mode=None):
        if self.ptr == 0:
            raise RuntimeError("cudaErrorStreamCaptureUnsupported: operation not permitted "
                               "when stream is capturing (the legacy default stream)")
        if _CAPTURE[0] is not None:
            raise RuntimeError("cudaErrorIllegalState: a capture is already in progress")
        self.capture_mode = mode
        _CAPTURE[0] = _Tape(self)

    def is_capturing(self):
        return _CAPTURE[0] is not None and _CAPTURE[0].stream is self

    def end_capture(self):
        tape = _CAPTURE[0]
        if tape is None or tape.stream is not self:
            raise RuntimeError("cudaErrorIllegalState: the stream is not capturing")
        _CAPTURE[0] = None
        for root, before in tape.saved.values():
            np.copyto(root, before)
        for root in tape.created.values():
            if root.dtype.kind in "fc":
                root.fill(np.nan)
        CALLS.setdefault("graphs", []).append(len(tape.entries))
        return _Graph(tape)

    def __enter__(self):
        _STREAMS.append(self)
        return self

    def __exit__(self, *exc):
        _STREAMS.pop()
        return False


class _Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.t, self.done, self.timing = None, True, not disable_timing

    def record(self, stream=None):
        import time

        self.t = time.perf_counter()

    def synchronize(self):
        pass


_STREAMS = [_Stream(ptr=0)]
_PINNED, _KEEP = {}, []  # start address -> bytes of each pinned allocation


def _pinned(ptr):
    """Whether a host address lies inside a pinned allocation (as the driver answers for
    any address in a ``cudaHostAlloc`` block, views included)."""
    return any(start <= ptr < start + max(n, 1) for start, n in _PINNED.items())


class _DeviceCtx:
    current = 0

    def __init__(self, i=None):
        self.i = _DeviceCtx.current if i is None else i

    def use(self):
        _DeviceCtx.current = self.i

    def synchronize(self):
        CALLS.setdefault("host_syncs", []).append("Device.synchronize")

    def __enter__(self):
        self.prev = _DeviceCtx.current
        _DeviceCtx.current = self.i
        return self

    def __exit__(self, *exc):
        _DeviceCtx.current = self.prev
        return False


# ---------------------------------------------------------------- NCCL
# CuPy's ``cupy.cuda.nccl`` (CuPy 14: ``get_unique_id()`` gives 128 bytes; older CuPy a
# tuple of 128 signed chars, set UID_AS_TUPLE). Communicators of one unique id form a
# clique; each collective call deposits its rank's data and waits for the others on a
# barrier, so a world of N works with N threads (and a world of one without any).
NCCL_DTYPES = {0: np.int8, 1: np.uint8, 2: np.int32, 3: np.uint32, 4: np.int64,
               5: np.uint64, 6: np.float16, 7: np.float32, 8: np.float64}
NCCL_OPS = {0: np.add, 1: np.multiply, 2: np.maximum, 3: np.minimum}
UID_AS_TUPLE = [False]
_CLIQUES = {}


# ``DEFERRED[0] = True``: NCCL's asynchrony instead of a barrier. A real ``ncclAllReduce``
# returns at once and completes on the device when every rank has joined; in this mode the
# call deposits its rank's data and returns, and the last rank to join writes every rank's
# result, so a world of N can run rank after rank in one thread (results then land in the
# receive buffers as they would on the devices; reading them before the last rank joined
# is the race a real program avoids by stream order).
DEFERRED = [False]


class _Clique:
    def __init__(self, n):
        import threading

        self.slots = [None] * n
        self.barrier = threading.Barrier(n, timeout=30)
        self.pending = {}  # call number -> {rank: (data, deliver)}

    def deposit(self, seq, rank, value, finish):
        """Deferred mode: ``finish(parts)`` runs for every rank once all have deposited."""
        got = self.pending.setdefault(seq, {})
        got[rank] = (value, finish)
        if len(got) == len(self.slots):
            del self.pending[seq]
            parts = [got[r][0] for r in range(len(self.slots))]
            for r in range(len(self.slots)):
                got[r][1](parts)

    def exchange(self, rank, value):
        self.slots[rank] = value
        self.barrier.wait()
        out = list(self.slots)
        self.barrier.wait()
        return out


def _view(ptr, count, datatype):
    import ctypes

    dt = np.dtype(NCCL_DTYPES[datatype])
    buf = (ctypes.c_char * (count * dt.itemsize)).from_address(ptr)
    return np.frombuffer(buf, dtype=dt, count=count)


class NcclCommunicator:
    """``cupy.cuda.nccl.NcclCommunicator(ndev, commId, rank)`` on host memory."""

    def __init__(self, ndev, commId, rank):
        want = tuple if UID_AS_TUPLE[0] else bytes
        if not isinstance(commId, want) or len(commId) != 128:
            raise TypeError(f"fake NCCL: commId must be {want.__name__} of 128")
        key = bytes(x & 0xFF for x in commId)
        self.clique = _CLIQUES.setdefault(key, _Clique(ndev))
        self.n, self.r, self.seq = ndev, rank, 0
        CALLS.setdefault("nccl", []).append(("init", ndev, rank))

    def size(self):
        return self.n

    def rank_id(self):
        return self.r

    def _note(self, name, datatype, stream):
        if DEFERRED[0] and name != "allReduce":
            raise NotImplementedError(f"fake NCCL: {name} in deferred mode")
        CALLS.setdefault("nccl", []).append((name, NCCL_DTYPES[datatype].__name__, stream))

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        self._note("allReduce", datatype, stream)
        if DEFERRED[0]:
            def finish(parts):
                _view(recvbuf, count, datatype)[...] = NCCL_OPS[op].reduce(np.stack(parts), 0)

            self.seq += 1
            self.clique.deposit(self.seq, self.r, _view(sendbuf, count, datatype).copy(),
                                finish)
            return
        parts = self.clique.exchange(self.r, _view(sendbuf, count, datatype).copy())
        _view(recvbuf, count, datatype)[...] = NCCL_OPS[op].reduce(np.stack(parts), axis=0)

    def reduce(self, sendbuf, recvbuf, count, datatype, op, root, stream):
        self._note("reduce", datatype, stream)
        parts = self.clique.exchange(self.r, _view(sendbuf, count, datatype).copy())
        if self.r == root:
            _view(recvbuf, count, datatype)[...] = NCCL_OPS[op].reduce(np.stack(parts), 0)

    def broadcast(self, sendbuff, recvbuff, count, datatype, root, stream):
        self._note("broadcast", datatype, stream)
        parts = self.clique.exchange(self.r, _view(sendbuff, count, datatype).copy())
        _view(recvbuff, count, datatype)[...] = parts[root]

    def allGather(self, sendbuf, recvbuf, count, datatype, stream):
        self._note("allGather", datatype, stream)
        parts = self.clique.exchange(self.r, _view(sendbuf, count, datatype).copy())
        _view(recvbuf, count * self.n, datatype)[...] = np.concatenate(parts)

    def reduceScatter(self, sendbuf, recvbuf, recvcount, datatype, op, stream):
        self._note("reduceScatter", datatype, stream)
        parts = self.clique.exchange(self.r, _view(sendbuf, recvcount * self.n,
                                                   datatype).copy())
        total = NCCL_OPS[op].reduce(np.stack(parts), axis=0)
        _view(recvbuf, recvcount, datatype)[...] = \
            total[self.r * recvcount:(self.r + 1) * recvcount]

    def destroy(self):
        pass


def _get_unique_id():
    import os

    raw = os.urandom(128)
    return tuple(b - 256 if b > 127 else b for b in raw) if UID_AS_TUPLE[0] else raw


def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    return m


def build(device_count=1):
    """The fake ``cupy`` package's modules: ``{name: module}``."""
    pool, pinned = _Pool(), _Pool()

    def props(i):
        return {"name": b"Fake GPU", "major": 9, "minor": 0, "totalGlobalMem": 80 << 30,
                "multiProcessorCount": 132, "l2CacheSize": 50 << 20, "warpSize": 32}

    runtime = _module(
        "cupy.cuda.runtime", getDeviceCount=lambda: device_count,
        getDevice=lambda: _DeviceCtx.current, getDeviceProperties=props,
        memGetInfo=lambda: (70 << 30, 80 << 30), memoryTypeHost=1,
        streamCaptureModeGlobal=0, streamCaptureModeThreadLocal=1, streamCaptureModeRelaxed=2,
        pointerGetAttributes=lambda ptr: types.SimpleNamespace(type=int(_pinned(ptr))))
    allocator = []
    nccl = _module("cupy.cuda.nccl", NcclCommunicator=NcclCommunicator,
                   get_unique_id=_get_unique_id, available=True, get_version=lambda: 22605,
                   **{f"NCCL_{n}": i for i, n in enumerate(
                       ["INT8", "UINT8", "INT32", "UINT32", "INT64", "UINT64", "FLOAT16",
                        "FLOAT32", "FLOAT64"])},
                   **{f"NCCL_{n}": i for i, n in enumerate(["SUM", "PROD", "MAX", "MIN"])})
    cuda = _module(
        "cupy.cuda", runtime=runtime, Device=_DeviceCtx, Stream=_Stream, Event=_Event,
        nccl=nccl,
        get_current_stream=lambda: _STREAMS[-1],
        get_elapsed_time=lambda a, b: (b.t - a.t) * 1e3,
        set_allocator=allocator.append, allocator=allocator)
    _Stream.null = _STREAMS[0]
    rl = _module("cupy._core._routines_linalg",
                 **{f"COMPUTE_TYPE_{n}": i for i, n in enumerate(
                     ["TBD", "DEFAULT", "PEDANTIC", "FP16", "FP32", "FP64", "BF16", "TF32"])},
                 set_compute_type=lambda dt, ct: CALLS["compute_type"].append(
                     (np.dtype(dt).name, ct)))
    core = _module("cupy._core", _routines_linalg=rl)

    def passthrough(f):
        def call(*a, **k):
            return _call(f, a, k, f.__name__)
        return call

    def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
        # CuPy 14: a host copy is queued on the current stream (a pinned source directly, a
        # pageable one through a pinned staging buffer); ``blocking=True`` then waits
        if isinstance(a, FakeArray):
            if dtype is None or a.dtype == dtype:
                return a
            return _call(lambda x: x.astype(dtype), (a,), {}, "astype")
        if _CAPTURE[0] is not None and np.ndim(a) > 0:
            raise RuntimeError("fake CuPy: a host-to-device copy from pageable memory is not "
                               "permitted while a stream is capturing")
        if isinstance(a, np.ndarray):
            CALLS.setdefault("h2d", []).append(
                {"nbytes": a.nbytes, "pinned": _pinned(a.ctypes.data) and a.size > 0,
                 "stream": _STREAMS[-1]})
        out = FakeArray(np.array(a, dtype=dtype, order=order or "K"))
        if blocking:
            _STREAMS[-1].synchronize()
        return out

    def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
        if not isinstance(a, FakeArray):
            return np.asarray(a)
        if blocking:
            _no_sync("asnumpy")
        elif out is None or not _pinned(out.ctypes.data):
            raise ValueError("fake CuPy: asnumpy(blocking=False) needs a pinned `out`")
        CALLS.setdefault("d2h", []).append({"nbytes": a.nbytes, "blocking": blocking})
        if out is not None:
            np.copyto(out, a.a)
            return out
        return a.a.copy(order=order)

    cupy = _module("cupy", ndarray=FakeArray, cuda=cuda, _core=core, asarray=asarray,
                   asnumpy=asnumpy, get_default_memory_pool=lambda: pool,
                   get_default_pinned_memory_pool=lambda: pinned, __version__="fake")
    cupy.__getattr__ = lambda attr: (passthrough(getattr(np, attr))
                                     if callable(getattr(np, attr)) and not isinstance(
                                         getattr(np, attr), (type, np.ufunc))
                                     else getattr(np, attr))

    def special(name):
        def call(x, *rest):
            import scipy.special as sp

            return _call(getattr(sp, name), (x,) + rest, {}, name)
        return call

    sp = _module("cupyx.scipy.special", **{n: special(n) for n in (
        "erf", "erfc", "erfinv", "gammaln", "digamma", "i1", "polygamma", "i0", "i0e", "i1e",
        "erfcx", "log_ndtr", "j0", "j1", "y0", "y1", "k0", "k1", "k0e", "k1e", "gammainc",
        "gammaincc", "zeta")})  # each one in cupyx.scipy.special (CuPy 14's documentation)
    scipy = _module("cupyx.scipy", special=sp)

    def scatter_add(target, index, values):
        _call(np.add.at, (target, index, values), {}, "scatter_add", writes=(target,))

    def empty_pinned(shape, dtype):
        import threading

        a = np.empty(shape, dtype)
        _PINNED[a.ctypes.data] = a.nbytes
        CALLS.setdefault("pin_threads", []).append(threading.current_thread().name)
        _KEEP.append(a)  # keep the address taken while the test runs
        return a

    cupyx = _module("cupyx", scipy=scipy, scatter_add=scatter_add, empty_pinned=empty_pinned)
    return {"cupy": cupy, "cupy.cuda": cuda, "cupy.cuda.runtime": runtime,
            "cupy.cuda.nccl": nccl, "cupy._core": core,
            "cupy._core._routines_linalg": rl, "cupyx": cupyx, "cupyx.scipy": scipy,
            "cupyx.scipy.special": sp}


def install(monkeypatch, device_count=1):
    """Make ``import cupy`` give the fake for one test and reset ember's CUDA backend
    (undone by ``monkeypatch`` and :func:`uninstall`)."""
    from ember import _tensor
    from ember._backends import cupy_backend

    cupy_backend._reset_for_tests()
    _reset_nccl()
    _CAPTURE[0] = None
    for name, mod in build(device_count).items():
        monkeypatch.setitem(sys.modules, name, mod)
    _tensor._DEVICES.clear()
    for k in ("compute_type",):
        CALLS[k] = []
    return sys.modules["cupy"]


def _reset_nccl():
    from ember.distributed import _nccl

    _nccl._reset_for_tests()
    _CLIQUES.clear()
    DEFERRED[0] = False
    UID_AS_TUPLE[0] = False
    CALLS["nccl"] = []


def uninstall():
    from ember import _tensor
    from ember._backends import cupy_backend

    cupy_backend._reset_for_tests()
    _reset_nccl()
    _tensor._DEVICES.clear()
