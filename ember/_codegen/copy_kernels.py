"""Hand-written threaded C kernels for the reordering copies of ``flip`` and ``roll`` along
one dimension.

NOTE [ Flip and roll kernels ]
``flip`` was ``np.flip(x).copy()`` (one single-threaded copy through a negative stride) and
``roll`` NumPy's ``np.roll`` (an empty array and two single-threaded slice copies). Viewing a
C-contiguous operand as ``(outer, n, inner)`` around the dimension, both are row copies:
``flip`` writes row ``j`` of each slice to ``n - 1 - j`` and ``roll`` by ``s`` writes row
``j`` to ``(j + s) mod n``; rows of ``inner`` elements move with ``memcpy``, and along the last
dimension (``inner == 1``) ``flip`` is a reversed loop and ``roll`` two ``memcpy`` per slice.
Threads split the slices, or the rows of one slice. The bytes are moved, never converted, so
the results equal NumPy's bit for bit, for any dtype (the element size is a parameter).

NOTE [ Threaded concatenation and copies ]
``cat`` (and ``stack``/``hstack``/``vstack``, which are cats of reshaped operands) was
``np.concatenate`` and ``clone`` ``ndarray.copy``: single-threaded copies, while PyTorch's
take both cores (1e6 float32: NumPy ~95 us, PyTorch ~55 us at two threads). Viewing the
output as ``(outer, row)`` around the dimension and each C-contiguous input as ``(outer,
row_t)``, ``cat_rows`` copies input ``t``'s row ``o`` to bytes ``[off_t, off_t + row_t)`` of
output row ``o``: threads split the rows when there are many, else every thread copies its
64-byte-aligned share of each row (``cat`` along dim 0 and ``clone`` are one row per input).
Bytes are moved, never converted: NumPy's result bit for bit, any dtype.

Functions return None where they do not apply (not host NumPy data, an object dtype, a
small operand, no compiler, ``EMBER_JIT_DISABLE``) and the caller runs NumPy.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_SRC = r"""
#include <string.h>
#include <stdint.h>

#define REVERSE(T)                                                              \
    for (long j = j0; j < j1; j++) ((T*)d)[n - 1 - j] = ((const T*)x)[j];

/* rows [j0, j1) of one slice of n rows of rowb bytes */
static void slice_copy(const char* x, char* d, long n, long rowb, long esz, long s, int flip,
                       long j0, long j1)
{
    if (!flip) {  /* roll: at most two contiguous runs */
        long a1 = j1 < n - s ? j1 : n - s;
        if (j0 < a1) memcpy(d + (j0 + s) * rowb, x + j0 * rowb, (a1 - j0) * rowb);
        long b0 = j0 > n - s ? j0 : n - s;
        if (b0 < j1) memcpy(d + (b0 + s - n) * rowb, x + b0 * rowb, (j1 - b0) * rowb);
        return;
    }
    if (rowb == esz) {  /* flip along the last dim: a reversed loop */
        switch (esz) {
        case 1: REVERSE(uint8_t) return;
        case 2: REVERSE(uint16_t) return;
        case 4: REVERSE(uint32_t) return;
        case 8: REVERSE(uint64_t) return;
        default: break;
        }
    }
    for (long j = j0; j < j1; j++) memcpy(d + (n - 1 - j) * rowb, x + j * rowb, rowb);
}

/* k inputs of outer rows of rowb[t] bytes into outer output rows of orow bytes */
void cat_rows(char* out, char* const* src, const long* rowb, long k, long outer, long orow,
              int nt)
{
    if (outer >= 4L * nt) {
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long o = 0; o < outer; o++) {
            char* d = out + o * orow;
            for (long t = 0; t < k; t++) {
                memcpy(d, src[t] + o * rowb[t], rowb[t]);
                d += rowb[t];
            }
        }
        return;
    }
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long b = 0; b < nt; b++) {
        for (long o = 0; o < outer; o++) {
            char* d = out + o * orow;
            for (long t = 0; t < k; t++) {
                long r = rowb[t];
                long a = b == 0 ? 0 : (r * b / nt) & ~63L;
                long e = b == nt - 1 ? r : (r * (b + 1) / nt) & ~63L;
                if (e > a) memcpy(d + a, src[t] + o * r + a, e - a);
                d += r;
            }
        }
    }
}

/* nb bytes of zeros, threads splitting 64-byte aligned shares */
void zero_fill(char* d, long nb, int nt)
{
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long b = 0; b < nt; b++) {
        long a = b == 0 ? 0 : (nb * b / nt) & ~63L;
        long e = b == nt - 1 ? nb : (nb * (b + 1) / nt) & ~63L;
        if (e > a) memset(d + a, 0, e - a);
    }
}

/* nb bytes (a multiple of es) filled with the es-byte pattern v; the threads' shares are
   64-byte aligned and whole elements (64 is a multiple of 1, 2, 4 and 8) */
#define FILL(T) { T w; memcpy(&w, v, sizeof w); T* p = (T*)(d + a);                  \
                  for (long i = 0, m = (e - a) / (long)sizeof w; i < m; i++) p[i] = w; }
void fill_pattern(char* d, long nb, const char* v, long es, int nt)
{
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long b = 0; b < nt; b++) {
        long a = b == 0 ? 0 : (nb * b / nt) & ~63L;
        long e = b == nt - 1 ? nb : (nb * (b + 1) / nt) & ~63L;
        if (e <= a) continue;
        switch (es) {
        case 1: memset(d + a, v[0], e - a); break;
        case 2: FILL(uint16_t) break;
        case 4: FILL(uint32_t) break;
        case 8: FILL(uint64_t) break;
        default:
            for (long i = a; i < e; i += es) memcpy(d + i, v, es);
        }
    }
}

void reorder_rows(const char* x, char* d, long outer, long n, long rowb, long esz, long s,
                  int flip, int nt)
{
    if (outer >= nt) {
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long o = 0; o < outer; o++)
            slice_copy(x + o * n * rowb, d + o * n * rowb, n, rowb, esz, s, flip, 0, n);
    } else {
        for (long o = 0; o < outer; o++) {
            #pragma omp parallel for num_threads(nt) schedule(static)
            for (long b = 0; b < nt; b++)
                slice_copy(x + o * n * rowb, d + o * n * rowb, n, rowb, esz, s, flip,
                           n * b / nt, n * (b + 1) / nt);
        }
    }
}
"""

_L = ctypes.c_long
_I = ctypes.c_int
_P = ctypes.c_void_p
_MIN_BYTES = 1 << 16  # below this NumPy's copy is as quick as the call
# bytes below which one thread beats waking the others (~1e5 float32 elements since the
# short OpenMP spin of NOTE [ OpenMP wait policy ])
_SERIAL_BELOW = 1 << 19

_lib = c_library(_SRC, ["reorder_rows", "cat_rows", "zero_fill", "fill_pattern"])


def _reorder(x, dim, shift, flip):
    if (type(x) is not np.ndarray or x.ndim == 0 or x.dtype.hasobject
            or x.nbytes < _MIN_BYTES or not x.flags.c_contiguous):
        return None
    lib = _lib()
    if lib is None:
        return None
    n = x.shape[dim]
    outer = 1
    for s in x.shape[:dim]:
        outer *= s
    rowb = x.nbytes // (outer * n)
    out = np.empty_like(x)
    nt = 1 if x.nbytes < _SERIAL_BELOW else get_num_threads()
    lib.reorder_rows(data_ptr(x), data_ptr(out), _L(outer), _L(n), _L(rowb),
                     _L(x.itemsize), _L(shift), _I(1 if flip else 0), _I(nt))
    return out


def flip(x, dim):
    """``x`` reversed along ``dim`` (a fresh C-contiguous array), or None where the kernel
    does not apply."""
    return _reorder(x, dim % max(x.ndim, 1), 0, True)


def roll(x, shift, dim):
    """``x`` rolled by ``shift`` along ``dim`` (``np.roll``'s result), or None where the
    kernel does not apply."""
    if type(x) is not np.ndarray or x.ndim == 0 or x.shape[dim] == 0:
        return None
    return _reorder(x, dim % x.ndim, shift % x.shape[dim], False)


def concat(arrays, dim, out=None):
    """``np.concatenate(arrays, axis=dim)`` by the threaded row copy of NOTE [ Threaded
    concatenation and copies ], or None where it does not apply (not all host NumPy arrays
    of one dtype, one not C-contiguous, an object dtype, a small result, no compiler; an
    ``out`` that is not a writeable C-contiguous array of the result's shape and dtype, or
    that shares memory with an operand): the caller runs NumPy. The shapes must already
    agree except along ``dim``.

    Args:
        arrays: the operands, a sequence of NumPy arrays of one dtype and ndim >= 1.
        dim: the dimension to join along (non-negative).
        out: an array to write the result into, or None for a fresh one.

    Returns:
        The result (``out`` when given), or None.

    Example:
        >>> import numpy as np
        >>> a = np.arange(40000, dtype=np.float32).reshape(200, 200)
        >>> r = concat([a, a[:1]], 0)
        >>> r is None or bool((r == np.concatenate([a, a[:1]])).all())
        True
    """
    a0 = arrays[0]
    if type(a0) is not np.ndarray or a0.ndim == 0 or a0.dtype.hasobject:
        return None
    dt = a0.dtype
    total = 0
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dt or not a.flags.c_contiguous:
            return None
        total += a.nbytes
    if total < _MIN_BYTES:
        return None
    lib = _lib()
    if lib is None:
        return None
    shape = list(a0.shape)
    shape[dim] = sum(a.shape[dim] for a in arrays)
    outer = 1
    for s in shape[:dim]:
        outer *= s
    if out is None:
        out = np.empty(shape, dt)
    elif type(out) is not np.ndarray or out.dtype != dt or out.shape != tuple(shape) or \
            not out.flags.c_contiguous or not out.flags.writeable or \
            any(np.may_share_memory(a, out) for a in arrays):
        return None
    if out.nbytes == 0:
        return out
    keep = [a for a in arrays if a.nbytes]  # empty operands have no rows to copy
    k = len(keep)
    src = (_P * k)(*[data_ptr(a).value for a in keep])
    rowb = (_L * k)(*[a.nbytes // outer for a in keep])
    nt = 1 if total < _SERIAL_BELOW else get_num_threads()
    lib.cat_rows(data_ptr(out), src, rowb, _L(k), _L(outer), _L(out.nbytes // outer),
                 _I(nt))
    return out


def copy(x):
    """A C-contiguous copy of the C-contiguous array ``x`` by the threaded copy of NOTE
    [ Threaded concatenation and copies ] (``x.copy()``'s result), or None where it does
    not apply (as :func:`concat`).

    Args:
        x: a host NumPy array.

    Returns:
        A fresh array equal to ``x``, or None.

    Example:
        >>> import numpy as np
        >>> x = np.arange(100000, dtype=np.float32)
        >>> y = copy(x)
        >>> y is None or (bool((y == x).all()) and y is not x)
        True
    """
    if type(x) is not np.ndarray or x.ndim == 0:
        return None
    return concat((x,), 0)


def copy_into(dst, src):
    """Copy ``src`` into ``dst`` by the threaded copy of NOTE [ Threaded concatenation and
    copies ] (``np.copyto(dst, src)``) when both are C-contiguous host arrays of one dtype
    and shape and large enough; True when done, False where it does not apply (``dst`` is
    then untouched and the caller runs NumPy).

    Args:
        dst: the destination NumPy array, written in place.
        src: the source NumPy array.

    Returns:
        bool.

    Example:
        >>> import numpy as np
        >>> src = np.arange(100000, dtype=np.float32)
        >>> dst = np.zeros_like(src)
        >>> copy_into(dst, src) or np.copyto(dst, src) is None
        True
        >>> bool((dst == src).all())
        True
    """
    if (type(dst) is not np.ndarray or type(src) is not np.ndarray or dst.dtype != src.dtype
            or dst.shape != src.shape or dst.nbytes < _MIN_BYTES or dst.dtype.hasobject
            or not dst.flags.c_contiguous or not src.flags.c_contiguous
            or not dst.flags.writeable or np.may_share_memory(dst, src)):
        return False
    lib = _lib()
    if lib is None:
        return False
    src_p = (_P * 1)(data_ptr(src).value)
    rowb = (_L * 1)(src.nbytes)
    nt = 1 if src.nbytes < _SERIAL_BELOW else get_num_threads()
    lib.cat_rows(data_ptr(dst), src_p, rowb, _L(1), _L(1), _L(src.nbytes), _I(nt))
    return True


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)`` filled by threads when it is large (the zero-filled
    buffers of the scatter gradients: ``calloc`` of memory the heap reuses is a
    single-threaded memset), or None below the threads' minimum, for an object dtype or
    without a compiler (the caller runs ``np.zeros``).

    Args:
        shape: a tuple of ints.
        dtype: a NumPy dtype.

    Returns:
        A C-contiguous array of zeros, or None.

    Example:
        >>> import numpy as np
        >>> z = zeros((1000, 1000), np.float32)
        >>> z is None or (z.shape == (1000, 1000) and not z.any())
        True
    """
    dtype = np.dtype(dtype)
    n = dtype.itemsize
    for s in shape:
        n *= s
    if n < _SERIAL_BELOW or dtype.hasobject:
        return None
    lib = _lib()
    if lib is None:
        return None
    out = np.empty(shape, dtype)
    lib.zero_fill(data_ptr(out), _L(out.nbytes), _I(get_num_threads()))
    return out


def zero_into(x):
    """Write zero bytes over the whole of ``x`` (a writeable C-contiguous host array whose
    dtype's zero is all zero bits) by the threads' ``zero_fill``, as :func:`zeros` fills its
    buffers: ``zero_``/``fill_(0)`` on a large tensor (one memset runs on one core: 1M
    float32 47 us here, 32 threaded, PyTorch's zero_ 27). True when done, False without a
    compiler (the caller then fills it itself).

    Args:
        x: the array to zero.

    Returns:
        bool.

    Example:
        >>> import numpy as np
        >>> x = np.ones(1 << 18, np.float32)
        >>> zero_into(x) is False or not x.any()
        True
    """
    lib = _lib()
    if lib is None:
        return False
    lib.zero_fill(data_ptr(x), _L(x.nbytes), _I(get_num_threads()))
    return True


def fill_into(x, value):
    """Fill the whole of ``x`` with ``value`` by threads (``x[...] = value`` runs on one core:
    1e6 float32 ``fill_(1.0)`` 71 us, PyTorch's 25): ``value`` is converted to ``x``'s dtype
    by NumPy's own assignment (the same conversion, overflow errors included), then its bytes
    are repeated. True when done, False where it does not apply (not a writeable C-contiguous
    host array of at least 2^19 bytes, an object dtype, no compiler; ``x`` is then untouched
    and the caller fills it).

    Args:
        x: the array to fill.
        value: a Python number (or anything ``x[...] = value`` takes).

    Returns:
        bool.

    Example:
        >>> import numpy as np
        >>> x = np.zeros(1 << 18, np.float32)
        >>> fill_into(x, 2.5) is False or bool((x == 2.5).all())
        True
    """
    if type(x) is not np.ndarray or x.nbytes < _SERIAL_BELOW or x.dtype.hasobject or \
            not x.flags.c_contiguous or not x.flags.writeable:
        return False
    lib = _lib()
    if lib is None:
        return False
    v = np.empty((), x.dtype)
    v[()] = value
    lib.fill_pattern(data_ptr(x), _L(x.nbytes), data_ptr(v), _L(x.itemsize),
                     _I(get_num_threads()))
    return True


# NOTE [ Edge padding kernel ]: reflect/replicate padding of the last two dims (a 1-d pad is
# H = 1 with no rows added) as one threaded pass writing every output row once: the middle
# by memcpy from its source row, the edge elements from the reflected (or clamped) columns
# of the same row; rows above and below come from the reflected/clamped input rows. NumPy's
# slice assignments (NOTE [ Reflection and replication padding by slices ] in
# nn/_functional_spatial.py) copied the middle through a strided view on one core and then
# each edge (pad.reflect of (8, 32, 64, 64): 248 us against PyTorch's 101). Pure copies,
# so the result is the slice path's bit for bit.
_PAD_SRC = r"""
#include <string.h>
static inline long src_index(long i, long n, int reflect)
{
    if (i < 0) return reflect ? -i : 0;
    if (i >= n) return reflect ? 2 * (n - 1) - i : n - 1;
    return i;
}
void pad_edges(const char* x, char* y, long P, long H, long W, long t, long b, long l,
               long r, long es, int reflect, int nt)
{
    const long Ho = H + t + b, Wo = W + l + r;
    #pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)
    for (long q = 0; q < P * Ho; q++) {
        long p = q / Ho, oh = q % Ho, ih = src_index(oh - t, H, reflect);
        const char* src = x + ((p * H + ih) * W) * es;
        char* dst = y + q * Wo * es;
        memcpy(dst + l * es, src, (size_t)(W * es));
        for (long j = 0; j < l; j++)
            memcpy(dst + j * es, src + src_index(j - l, W, reflect) * es, (size_t)es);
        for (long j = 0; j < r; j++)
            memcpy(dst + (l + W + j) * es, src + src_index(W + j, W, reflect) * es,
                   (size_t)es);
    }
}
"""
_pad_lib = c_library(_PAD_SRC, ["pad_edges"])
PAD_MIN = 1 << 16


def pad_edges(x, pairs, reflect):
    """``x`` padded over its last one or two dims by reflection (``reflect``) or replication
    (NOTE [ Edge padding kernel ]), or None where the kernel does not apply (not a
    C-contiguous host array of at least ``PAD_MIN`` elements, other than one or two padded
    dims, no compiler). ``pairs``: (before, after) per padded dim, each smaller than the
    dim for reflection.

    Args:
        x: a host NumPy array.
        pairs: one (before, after) pair per padded trailing dim (one or two).
        reflect: reflection (True) or replication (False).

    Returns:
        The padded array, or None.

    Example:
        >>> import numpy as np
        >>> x = np.arange(1 << 16, dtype=np.float32).reshape(256, 256)
        >>> y = pad_edges(x, [(1, 1), (2, 0)], True)
        >>> y is None or bool((y == np.pad(x, [(1, 1), (2, 0)], mode="reflect")).all())
        True
    """
    if type(x) is not np.ndarray or x.size < PAD_MIN or not x.flags.c_contiguous or \
            len(pairs) not in (1, 2) or x.ndim < len(pairs):
        return None
    if len(pairs) == 1:
        (t, b), (l, r) = (0, 0), pairs[0]
        H, W = 1, x.shape[-1]
    else:
        (t, b), (l, r) = pairs
        H, W = x.shape[-2], x.shape[-1]
    if min(t, b, l, r) < 0 or reflect and (max(t, b) >= H and (t or b) or max(l, r) >= W):
        return None
    lib = _pad_lib()
    if lib is None:
        return None
    lead = x.shape[:x.ndim - len(pairs)]
    P = x.size // (H * W) if H * W else 0
    out_shape = lead + ((H + t + b,) if len(pairs) == 2 else ()) + (W + l + r,)
    y = np.empty(out_shape, x.dtype)
    if P == 0 or y.size == 0:
        return None
    from ember._codegen.kernel import data_ptr

    lib.pad_edges(data_ptr(x), data_ptr(y), ctypes.c_long(P), ctypes.c_long(H),
                  ctypes.c_long(W), ctypes.c_long(t), ctypes.c_long(b), ctypes.c_long(l),
                  ctypes.c_long(r), ctypes.c_long(x.dtype.itemsize),
                  ctypes.c_int(int(reflect)), ctypes.c_int(get_num_threads()))
    return y
