"""The CUDA backend: device arrays are CuPy arrays (the ``cuda`` extra: ``cupy-cuda13x``).

NOTE [ The CUDA backend ]
Loaded only when a ``cuda`` device is asked for (``ember._backends.for_device("cuda")``,
reached from ``ember.device``-taking calls, ``Tensor.cuda()``/``.to("cuda")`` and
``ember.cuda``): ``import ember`` never imports CuPy, and the CPU path pays nothing for this
module (device checks happen only where a non-NumPy array or a non-CPU device appears).
:func:`load` imports CuPy, asks the driver how many devices there are and registers this
module for ``cupy.ndarray``; when CuPy is missing, the driver is too old or there is no GPU,
it records why (:func:`unavailable_reason`) and ``check_device`` raises a RuntimeError that
names the ``cuda`` extra.

What the backend adds to CuPy's NumPy API:

- transfers (``from_host``/``to_host``) and creation records (``factory``): zeros/ones/
  empty/full allocate on the device; other factories (arange, eye, rand, randn, ...) run
  their host forward and copy, so a seeded ``ember.randn(..., device="cuda")`` draws the
  same values as on the CPU (ember's generator stays the one source of randomness);
- the kernels NumPy lacks (``erf``, ``erfinv``, ``lgamma``, ``scatter_add``, ...) from
  ``cupyx``;
- the float32 matmul precision: ``ember.set_float32_matmul_precision`` and
  ``ember.backends.cuda.matmul.allow_tf32`` choose cuBLAS's compute type (TF32 for "high"
  and "medium", full float32 for "highest"), applied when a record runs on this backend;
- one device per process: tensors live on the current device (``ember.cuda.set_device``);
  asking for another index raises NotImplementedError rather than placing data silently.

CuPy 14 has no bfloat16 arrays, so bfloat16 tensors are refused on ``cuda`` with a
TypeError naming the dtype. Memory comes from CuPy's default memory pool, the caching
allocator behind ``ember.cuda.memory_allocated``/``empty_cache``.
"""

from __future__ import annotations

import sys

import numpy as np

name = "cupy"
device_type = "cuda"

cp = None  # the cupy module, once loaded
xp = None
# capture_keep: while a CUDA graph is captured, the list that keeps every block allocated
# during the capture alive (NOTE [ CUDA graphs on CuPy ] in ember/cuda/graphs.py)
_STATE = {"loaded": False, "reason": None, "precision": None, "peak": 0, "capture_keep": None}


def load() -> bool:
    """Import CuPy and register this backend for ``cuda``; False (with a reason) otherwise.

    Returns:
        bool: whether a CUDA device can be used in this process.

    Example::

        >>> from ember._backends import cupy_backend
        >>> isinstance(cupy_backend.load(), bool)
        True
    """
    global cp, xp
    if _STATE["loaded"]:
        return True
    if _STATE["reason"] is not None:
        return False
    try:
        import cupy
    except Exception as e:  # ImportError, or a broken CUDA library behind it
        _STATE["reason"] = (f"CuPy is not installed ({type(e).__name__}: {e}); install the "
                            "'cuda' extra: pip install 'ember[cuda]'")  # (a prefix _device reads)
        return False
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError: no driver, driver too old, no device
        _STATE["reason"] = f"CuPy found no usable CUDA driver or device ({e})"
        return False
    if n < 1:
        _STATE["reason"] = "CuPy found no CUDA device"
        return False
    cp = xp = cupy
    _STATE["loaded"] = True
    cupy.cuda.set_allocator(_tracking_malloc)
    from ember._backends import register_backend

    register_backend(sys.modules[__name__], [cupy.ndarray])
    return True


def unavailable_reason() -> str | None:
    """Why :func:`load` failed (None before a try, or when CUDA works).

    Example::

        >>> from ember._backends import cupy_backend
        >>> cupy_backend.load() or isinstance(cupy_backend.unavailable_reason(), str)
        True
    """
    return _STATE["reason"]


def _reset_for_tests():
    """Forget the outcome of :func:`load` (tests that fake CuPy's absence)."""
    global cp, xp
    from ember._backends import unregister_backend

    if _STATE["loaded"]:
        unregister_backend(sys.modules[__name__])
    cp = xp = None
    _STATE.update(loaded=False, reason=None, precision=None, capture_keep=None)


# ------------------------------------------------------------------------ devices
def current_index() -> int:
    """The current CUDA device's index (where new arrays are allocated)."""
    return cp.cuda.runtime.getDevice()


def check_index(index: int) -> None:
    """Refuse a device index other than the current one (one device per process)."""
    n = cp.cuda.runtime.getDeviceCount()
    if not 0 <= index < n:
        raise RuntimeError(f"CUDA error: invalid device ordinal (cuda:{index}; this machine "
                           f"has {n} device(s))")
    cur = current_index()
    if index != cur:
        raise NotImplementedError(
            f"ember: tensors on cuda:{index} while the current device is cuda:{cur}: ember "
            f"uses one CUDA device per process; call ember.cuda.set_device({index}) first")


_DEVICES = {}


def device_of(array):
    """The ``ember.device`` of a CuPy array (its own device id; one object per id)."""
    i = array.device.id
    d = _DEVICES.get(i)
    if d is None:
        from ember._device import device

        d = _DEVICES[i] = device("cuda", i)
    return d


# ------------------------------------------------------------------------ transfers
def _check_dtype(dtype, what):
    if dtype.kind == "V" or dtype.name == "bfloat16":
        raise TypeError(f"{what}: bfloat16 tensors are not supported on the cuda device "
                        "(CuPy has no bfloat16 arrays); use float16 or float32")


# NOTE [ Non-blocking copies ]
# PyTorch's stream semantics: every copy is ordered on the *current* stream, so kernels
# queued after it on that stream see the copied values, with or without ``non_blocking``.
# What ``non_blocking`` changes is only whether the host waits:
#
# - host to device, ``non_blocking=False``: the source may be reused as soon as ``to``
#   returns. CuPy 14's ``asarray`` stages a pageable source through a pinned buffer (so the
#   caller may reuse it at once, with no wait) but copies a pinned source directly and
#   asynchronously, so a pinned source is followed by a stream synchronisation, as PyTorch
#   does.
# - host to device, ``non_blocking=True`` from pinned memory: queued, no host wait; CuPy
#   keeps the source alive until an event recorded after the copy has passed (its pinned
#   memory watch list), as PyTorch's caching host allocator does. This is what lets the
#   DataLoader's next pinned batch travel while the current one computes.
# - device to host, ``non_blocking=True``: the result is a new pinned host array filled
#   asynchronously (``asnumpy(..., blocking=False)``); as in PyTorch its values are valid
#   only after ``ember.cuda.synchronize()`` (or an event recorded after it).
#
# Another stream: ``with ember.cuda.stream(s): y = x.to("cuda", non_blocking=True)`` orders
# the copy on ``s``; the consumer stream must ``wait_stream(s)`` and ``y.record_stream(c)``
# keeps ``y``'s memory from being reused before ``c`` is done with it.
# The flag travels through a thread-local (set by ``Tensor.to``), not the ``to_device``
# record's parameters: it changes when the host waits, never a value, so a replayed record
# (blocking) computes the same thing.
import threading  # noqa: E402 - grouped with the code it serves

_ASYNC = threading.local()


class non_blocking:
    """Context manager: transfers inside it do not wait for the host (``non_blocking=True``)."""

    def __enter__(self):
        self.prev = getattr(_ASYNC, "on", False)
        _ASYNC.on = True

    def __exit__(self, *exc):
        _ASYNC.on = self.prev
        return False


def from_host(array):
    """Copy a host (NumPy) array to the current device, ordered on the current stream
    (NOTE [ Non-blocking copies ])."""
    _check_dtype(array.dtype, "to('cuda')")
    out = cp.asarray(array)
    if not getattr(_ASYNC, "on", False) and array.size and is_pinned(array):
        # CuPy copied straight from the caller's pinned buffer without waiting; a blocking
        # copy must leave that buffer free to reuse
        cp.cuda.get_current_stream().synchronize()
    return out


def to_host(array):
    """Copy a device array to a new host (NumPy) array: synchronises the current stream,
    or, under ``non_blocking``, fills a new pinned array asynchronously."""
    if getattr(_ASYNC, "on", False) and array.size:
        out = pinned_empty(array.shape, array.dtype)
        cp.asnumpy(array, out=out, blocking=False)
        return out
    return cp.asnumpy(array)


_WATCH = []  # (event, array): device arrays used on another stream (record_stream)


def record_stream(array, stream):
    """Keep ``array``'s memory from reuse until the work queued so far on ``stream`` is done
    (PyTorch's ``Tensor.record_stream``): the array is held until an event recorded on
    ``stream`` now has completed."""
    _WATCH[:] = [(e, a) for e, a in _WATCH if not e.done]
    _WATCH.append((stream.record(), array))


_ON_DEVICE = {"zeros": "zeros", "ones": "ones", "empty": "zeros"}  # empty: zeroed as on the CPU


def factory(op, params, shape_dtype):
    """Creation records: zeros/ones/empty/full allocate on the device; the others (arange,
    eye, random draws, ...) run their host forward and copy, keeping ember's generator."""
    shape, dtype = shape_dtype
    dtype = np.dtype(dtype)
    _check_dtype(dtype, op.name)
    f = _ON_DEVICE.get(op.name)
    if f is not None:
        return getattr(cp, f)(shape, dtype)
    if op.name == "full":
        return cp.full(shape, params[2], dtype)
    return cp.asarray(op.fwd(*params))


# ------------------------------------------------------------------------ running records
_PRECISION_TO_TYPE = {"highest": "COMPUTE_TYPE_DEFAULT", "high": "COMPUTE_TYPE_TF32",
                      "medium": "COMPUTE_TYPE_TF32"}


def _apply_precision(precision):
    """cuBLAS's float32 compute type for ``precision`` (TF32 unless "highest")."""
    from cupy._core import _routines_linalg as rl

    rl.set_compute_type(np.dtype(np.float32), getattr(rl, _PRECISION_TO_TYPE[precision]))
    rl.set_compute_type(np.dtype(np.complex64), getattr(rl, _PRECISION_TO_TYPE[precision]))
    _STATE["precision"] = precision


# Convolution records multiply through cuBLAS too (im2col + matmul): their float32 precision
# follows ``ember.backends.cudnn.allow_tf32`` (PyTorch's convolution flag), every other
# record's follows the float32 matmul precision.
_CONV_RECORDS = frozenset({"convolution", "convolution_transpose", "convolution_weight"})


def _precision(op):
    from ember import backends

    if op.name in _CONV_RECORDS:
        cudnn = sys.modules.get("ember.backends.cudnn")
        allow = True if cudnn is None else cudnn.allow_tf32  # PyTorch's default: True
        return "high" if allow else "highest"
    return backends._fp32_matmul_precision[0]


def run(op, arrays, params):
    """Run a record on device arrays: its forward on CuPy, after setting cuBLAS's float32
    compute type from the flags (a no-op unless they changed)."""
    p = _precision(op)
    if p != _STATE["precision"]:
        _apply_precision(p)
    return op.fwd(*arrays, *params)


# ------------------------------------------------------------------------ kernels
def _special(name):
    def call(x, *rest):
        import cupyx.scipy.special as sp

        return getattr(sp, name)(x, *rest).astype(x.dtype, copy=False)

    call.__name__ = name
    return call


erf = _special("erf")
erfc = _special("erfc")
erfinv = _special("erfinv")
lgamma = _special("gammaln")
digamma = _special("digamma")
i1 = _special("i1")


i0e = _special("i0e")
i1e = _special("i1e")
erfcx = _special("erfcx")
log_ndtr = _special("log_ndtr")
bessel_j0, bessel_j1 = _special("j0"), _special("j1")
bessel_y0, bessel_y1 = _special("y0"), _special("y1")
modified_bessel_i0, modified_bessel_i1 = _special("i0"), _special("i1")
modified_bessel_k0, modified_bessel_k1 = _special("k0"), _special("k1")
scaled_modified_bessel_k0, scaled_modified_bessel_k1 = _special("k0e"), _special("k1e")
gammainc, gammaincc, zeta = _special("gammainc"), _special("gammaincc"), _special("zeta")


def _on_host(name):
    """A kernel CuPy lacks, run by the host backend on a copy (correct, not fast: the
    orthogonal polynomials, Airy Ai, spherical j0, gammainc's x-derivative)."""
    def call(*args):
        from ember._backends import numpy_backend

        host = [to_host(a) if isinstance(a, cp.ndarray) else a for a in args]
        return from_host(getattr(numpy_backend, name)(*host))

    call.__name__ = name
    return call


airy_ai, spherical_bessel_j0 = _on_host("airy_ai"), _on_host("spherical_bessel_j0")
chebyshev_t, chebyshev_u = _on_host("chebyshev_t"), _on_host("chebyshev_u")
chebyshev_v, chebyshev_w = _on_host("chebyshev_v"), _on_host("chebyshev_w")
shifted_chebyshev_t = _on_host("shifted_chebyshev_t")
shifted_chebyshev_u = _on_host("shifted_chebyshev_u")
shifted_chebyshev_v = _on_host("shifted_chebyshev_v")
shifted_chebyshev_w = _on_host("shifted_chebyshev_w")
hermite_h, hermite_he = _on_host("hermite_h"), _on_host("hermite_he")
laguerre_l, legendre_p = _on_host("laguerre_l"), _on_host("legendre_p")


def polygamma(n, x):
    """polygamma(n, x) from cupyx."""
    import cupyx.scipy.special as sp

    return sp.polygamma(n, x).astype(x.dtype, copy=False)


def scatter_add(target, index, values):
    """target[index] += values, accumulating repeated indices (cupyx.scatter_add)."""
    import cupyx

    cupyx.scatter_add(target, index, values)
    return target


def masked_select_zero(g, mask):
    """``g`` where ``mask`` else exactly 0 (a branch-free select is a GPU's native where)."""
    return cp.where(mask, g, cp.zeros((), g.dtype))


# ------------------------------------------------------------------------ pinned memory
def pinned_empty(shape, dtype):
    """A host NumPy array in page-locked memory (fast, asynchronous transfers)."""
    import cupyx

    return cupyx.empty_pinned(shape, dtype)


def is_pinned(array) -> bool:
    """Whether a host array's memory is page-locked (registered with CUDA)."""
    if array.size == 0:
        return False
    try:
        attrs = cp.cuda.runtime.pointerGetAttributes(array.ctypes.data)
    except Exception:  # plain pageable memory on older drivers raises
        return False
    return attrs.type == cp.cuda.runtime.memoryTypeHost


# ------------------------------------------------------------------------ memory
def _tracking_malloc(size):
    """CuPy's pool allocation, noting the peak of bytes in use (``max_memory_allocated``):
    one Python call per allocation, small beside a kernel launch."""
    pool = cp.get_default_memory_pool()
    keep = _STATE["capture_keep"]
    if keep is None:
        mem = pool.malloc(size)
    else:
        # CUDA forbids cudaMalloc (the pool growing) during a "global"/"thread_local"
        # capture; like PyTorch's allocator, grow it with this thread's mode relaxed
        prev = capture_mode_exchange(_RELAXED)
        try:
            mem = pool.malloc(size)
        finally:
            if prev is not None:
                capture_mode_exchange(prev)
        keep.append(mem)  # a graph's block: never reused while the graph may replay
    used = pool.used_bytes()
    if used > _STATE["peak"]:
        _STATE["peak"] = used
    return mem


_RELAXED = 2  # cudaStreamCaptureModeRelaxed


def capture_mode_exchange(mode):
    """The driver's ``cuThreadExchangeStreamCaptureMode``: set this thread's stream capture
    mode, return the previous one (None where the driver library cannot be loaded)."""
    fn = _STATE.get("exchange")
    if fn is None:
        import ctypes

        try:
            fn = ctypes.CDLL("libcuda.so.1").cuThreadExchangeStreamCaptureMode
            fn.argtypes, fn.restype = [ctypes.POINTER(ctypes.c_int)], ctypes.c_int
        except (OSError, AttributeError):
            fn = False
        _STATE["exchange"] = fn
    if not fn:
        return None
    import ctypes

    m = ctypes.c_int(mode)
    return m.value if fn(ctypes.byref(m)) == 0 else None


def capturing() -> bool:
    """Whether a CUDA graph is being captured in this process (ember's capture: NOTE [ CUDA
    graphs on CuPy ]); host reads of device data must not happen then."""
    return _STATE["capture_keep"] is not None


def memory_allocated() -> int:
    """Bytes held by live arrays in CuPy's default pool."""
    return cp.get_default_memory_pool().used_bytes()


def max_memory_allocated() -> int:
    """The most bytes in use since the start or the last ``reset_peak_memory_stats``."""
    return max(_STATE["peak"], memory_allocated())


def reset_peak_memory_stats() -> None:
    """Restart the peak at the current usage."""
    _STATE["peak"] = cp.get_default_memory_pool().used_bytes()


def memory_reserved() -> int:
    """Bytes the pool holds from the driver (live and cached)."""
    return cp.get_default_memory_pool().total_bytes()


def empty_cache() -> None:
    """Give the pool's unused blocks back to the driver."""
    cp.get_default_memory_pool().free_all_blocks()
    cp.get_default_pinned_memory_pool().free_all_blocks()
