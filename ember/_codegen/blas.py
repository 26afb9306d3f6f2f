"""A direct binding of the BLAS matrix product that NumPy itself links (``sgemm``/``dgemm``).

NOTE [ Direct GEMM binding ]
NumPy's ``matmul`` hands 2-D products to its bundled OpenBLAS, but only as
``C = A @ B``: it cannot accumulate into an existing result (``beta = 1``), and a
row-strided view that is not contiguous is copied first. The row-shift convolution kernels
(NOTE [ Row-shift convolution ] in ``_ops/conv.py``) need exactly those two things: KH
products summed into one result, each reading a row window of one packed buffer. This module
finds the CBLAS ``gemm`` of the OpenBLAS that NumPy loaded (through threadpoolctl when it is
installed, else the library file next to NumPy, ``numpy.libs``) and calls it with ctypes
(which releases the GIL). NumPy's wheels export it under a ``scipy_`` prefix with a ``64_``
suffix (64-bit integers); a 32-bit-integer build's ``scipy_cblas_sgemm`` is accepted too.
Where none is found, or ``EMBER_BLAS_DIRECT=0``, :func:`gemm` returns False and callers use
``np.matmul``. The library's own thread count (OpenBLAS's pool, as for ``matmul``) applies.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# symbol prefix -> integer type of its dimension arguments
_VARIANTS = (("scipy_cblas_{}gemm64_", ctypes.c_int64), ("cblas_{}gemm64_", ctypes.c_int64),
             ("scipy_cblas_{}gemm", ctypes.c_int32))
_FOUND = []  # [{dtype: (function, int type)}], looked up once per process
_THREADS = []  # [(get, set) or None]: the library's thread-count functions


def _candidates():
    """Paths of the OpenBLAS libraries NumPy may have loaded, the most likely first: the
    wheel's own (a directory listing), then what threadpoolctl finds loaded (slower: it
    inspects every loaded library), only when needed."""
    base = os.path.dirname(os.path.dirname(np.__file__))
    yield from sorted(glob.glob(os.path.join(base, "numpy.libs", "*openblas*")))
    try:
        from threadpoolctl import threadpool_info

        yield from [i["filepath"] for i in threadpool_info()
                    if i.get("user_api") == "blas" and i.get("internal_api") == "openblas"]
    except Exception:  # noqa: BLE001 - optional dependency, or it cannot read the library
        pass


def _lookup():
    found = {}
    if os.environ.get("EMBER_BLAS_DIRECT", "1") == "0":
        return found
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pattern, ity in _VARIANTS:
            fns = {}
            for dt, ch, fty in ((np.float32, "s", ctypes.c_float),
                                (np.float64, "d", ctypes.c_double)):
                fn = getattr(lib, pattern.format(ch), None)
                if fn is None:
                    break
                fn.restype = None
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ity, ity, ity, fty,
                               ctypes.c_void_p, ity, ctypes.c_void_p, ity, fty,
                               ctypes.c_void_p, ity]
                fns[np.dtype(dt)] = (fn, ity)
            if len(fns) == 2:
                _THREADS.append(_thread_fns(lib))
                return fns
    return found


def _thread_fns(lib):
    for get, set_ in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                      ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                      ("openblas_get_num_threads", "openblas_set_num_threads")):
        g, s = getattr(lib, get, None), getattr(lib, set_, None)
        if g is not None and s is not None:
            g.restype, g.argtypes = ctypes.c_int, []
            s.restype, s.argtypes = None, [ctypes.c_int]
            return g, s
    return None


class one_thread:
    """Context manager: the BLAS runs on one thread inside (its own count restored after).

    For C kernels that call :func:`address`'s gemm from several OpenMP threads at once:
    a product too large for OpenBLAS's small-matrix path (float64, or a build without
    one) would otherwise start OpenBLAS's own threads inside every one of those calls. No
    figure claimed: on the row-shift shapes the float32 pieces take the small-matrix path,
    which is single-threaded anyway. The count is process-wide, so another Python thread's
    product started meanwhile also runs on one thread (slower, never wrong). Entries from
    several threads (or nested ones) share one window: the first saves the count, the last
    to leave restores it (each restoring what it found left the count at 1 when two
    windows overlapped).

    Example:
        >>> with one_thread():
        ...     pass
    """

    __slots__ = ()

    def __enter__(self):
        with _ONE_LOCK:
            if not _ONE[0] and available() and _THREADS and _THREADS[0] is not None:
                n = _THREADS[0][0]()
                _ONE[1] = n if n > 1 else 0
                if n > 1:
                    _THREADS[0][1](1)
            _ONE[0] += 1
        return self

    def __exit__(self, *exc):
        with _ONE_LOCK:
            _ONE[0] -= 1
            if not _ONE[0] and _ONE[1]:
                _THREADS[0][1](_ONE[1])
                _ONE[1] = 0
        return False


_ONE_LOCK = threading.Lock()
_ONE = [0, 0]  # [windows open, the count to restore when the last closes (0: none)]


def available(dtype=np.float32):
    """Whether :func:`gemm` can run products of ``dtype`` (float32 or float64).

    Args:
        dtype: a NumPy dtype.

    Returns:
        True where a CBLAS ``gemm`` of that type was found.

    Example:
        >>> import numpy as np
        >>> isinstance(available(np.float32), bool)
        True
    """
    if not _FOUND:
        _FOUND.append(_lookup())
    return np.dtype(dtype) in _FOUND[0]


def address(dtype=np.float32):
    """The address of the CBLAS ``gemm`` of ``dtype`` with 64-bit integer arguments, for C
    kernels that call it themselves (``int`` order/transpose flags, ``int64`` sizes), or
    None where none was found (or only a 32-bit-integer one).

    Args:
        dtype: float32 or float64.

    Returns:
        An integer address, or None.

    Example:
        >>> import numpy as np
        >>> address(np.float32) is None or address(np.float32) > 0
        True
    """
    if not available(dtype):
        return None
    fn, ity = _FOUND[0][np.dtype(dtype)]
    return ctypes.cast(fn, ctypes.c_void_p).value if ity is ctypes.c_int64 else None


def _operand(a):
    """(transpose flag, leading dimension) of a 2-D view for a row-major CBLAS call, or
    None where BLAS cannot read it in place."""
    isz = a.itemsize
    s0, s1 = a.strides
    r, c = a.shape
    if (s1 == isz or c == 1) and s0 % isz == 0 and s0 // isz >= max(c, 1):
        return _NO_TRANS, s0 // isz
    if (s0 == isz or r == 1) and s1 % isz == 0 and s1 // isz >= max(r, 1):
        return _TRANS, s1 // isz
    return None


def gemm(a, b, out, beta=0.0):
    """``out = a @ b + beta * out`` by the BLAS that NumPy links, in place.

    Every operand may be a row- or column-strided 2-D view (a window of rows of a larger
    buffer, a transposed matrix): no copy is made. ``out`` must be row-major (unit
    column stride).

    Args:
        a: (M, K) array of float32 or float64.
        b: (K, N) array of the same dtype.
        out: (M, N) array of the same dtype, written in place.
        beta: multiplier of ``out``'s current contents (0: they are ignored).

    Returns:
        True when the product ran; False (``out`` untouched) where no BLAS was found, the
        dtypes differ or are not float32/float64, or an operand is not a plain strided view.

    Example:
        >>> import numpy as np
        >>> a = np.ones((2, 3), np.float32); b = np.ones((3, 4), np.float32)
        >>> c = np.zeros((2, 4), np.float32)
        >>> gemm(a, b, c) and bool((c == 3).all()) or not available(np.float32)
        True
    """
    dt = out.dtype
    if not available(dt) or a.dtype != dt or b.dtype != dt or a.ndim != 2 or b.ndim != 2 \
            or out.ndim != 2:
        return False
    m, k = a.shape
    n = out.shape[1]
    if b.shape != (k, n) or out.shape[0] != m:
        raise ValueError(f"gemm: shapes {a.shape} @ {b.shape} -> {out.shape} do not match")
    if not all(type(v) is np.ndarray for v in (a, b, out)) or not out.flags.writeable:
        return False
    if m == 0 or n == 0:
        return True
    if k == 0:
        if beta == 0:
            out.fill(0)
        else:
            out *= beta
        return True
    ta, tb = _operand(a), _operand(b)
    if ta is None or tb is None or out.strides[1] != dt.itemsize \
            or out.strides[0] % dt.itemsize or out.strides[0] // dt.itemsize < n:
        return False
    fn, ity = _FOUND[0][dt]
    ldc = out.strides[0] // dt.itemsize
    fn(_ROW_MAJOR, ta[0], tb[0], m, n, k, 1.0, a.ctypes.data, ta[1], b.ctypes.data, tb[1],
       float(beta), out.ctypes.data, ldc)
    return True


# NOTE [ Batched products on two threads ]
# NumPy's stacked matmul runs one BLAS product per batch element, one after another, and
# OpenBLAS shares each small product out to its threads: for (87, 87, 131) @ (87, 131, 87)
# float32 (2 M multiply-adds each) the threads' start and sync cost more than the second
# core gives (1.71 ms; PyTorch 1.36 ms). Here the two halves of the batch run at once on two
# Python threads (NumPy releases the GIL inside matmul), the BLAS on one thread for that
# time: 1.15 ms. Each product is the BLAS's own, so results are NumPy's bit for bit (OpenBLAS
# splits a product's rows and columns among its threads, never the sum). Only where the
# products are small (each at most 2^22 multiply-adds: larger ones share out well) and the
# batch large enough to pay for a thread start (~50 us: at least 2^23 multiply-adds in all).
# The BLAS thread count is process-wide (``one_thread``): another Python thread's product
# started meanwhile also runs on one thread.
_ITEM_MAX = 1 << 22
_BATCH_MIN = 1 << 23


def batched_matmul(a, b):
    """``a @ b`` for stacks of matrices, the halves of the batch on two threads (NOTE
    [ Batched products on two threads ]), or None where that does not apply.

    Args:
        a: (B, M, K) host array of float32 or float64.
        b: (B, K, N) host array of the same dtype.

    Returns:
        The (B, M, N) product, or None (not host float32/float64 stacks of the same batch,
        small or large products, one BLAS thread, no BLAS thread control found).

    Example:
        >>> import numpy as np
        >>> a = np.ones((64, 128, 128), np.float32); b = np.ones((64, 128, 128), np.float32)
        >>> r = batched_matmul(a, b)
        >>> r is None or bool((r == 128).all())
        True
    """
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 3 or b.ndim != 3:
        return None
    nb, m, k = a.shape
    n = b.shape[2]
    if nb < 2 or b.shape[0] != nb or b.shape[1] != k or a.dtype != b.dtype or \
            a.dtype.char not in "fd":
        return None
    item = m * n * k
    if item > _ITEM_MAX or item * nb < _BATCH_MIN or not available(a.dtype) or \
            not _THREADS or _THREADS[0] is None or _THREADS[0][0]() < 2:
        return None

    out = np.empty((nb, m, n), a.dtype)
    h = nb // 2
    err = []

    def first():
        try:
            np.matmul(a[:h], b[:h], out=out[:h])
        except BaseException as e:  # re-raised on the caller's thread
            err.append(e)

    with one_thread():
        t = threading.Thread(target=first, name="ember-bmm", daemon=True)
        t.start()
        try:
            np.matmul(a[h:], b[h:], out=out[h:])
        finally:
            t.join()
    if err:
        raise err[0]
    return out
