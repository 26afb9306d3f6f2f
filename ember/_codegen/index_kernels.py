"""Hand-written C kernels for gathers and scatter-adds along one dimension (gather,
scatter_add, index_select, index_add, embedding and their backwards), built and cached like
the generated kernels.

NOTE [ Gather and scatter-add kernels ]
``gather(x, dim, idx)`` and its backward, ``scatter_add``, are NumPy fancy indexing with a
key of broadcast ``arange`` arrays (``x[(arange, idx, arange)]``) and ``np.add.at`` on that
key: NumPy walks the key element by element through its generic index machinery, single
threaded (a 1000x1000 gather along dim 1: ~4.5 ms, PyTorch 0.5 ms; its backward 13 ms).
Viewing the operands as ``(outer, n, inner)`` (``n`` the indexed dim's size) the same work is
one loop: ``out[o, j, i] = x[o, idx[o, j, i], i]`` and ``y[o, idx[o, j, i], i] += v[o, j, i]``
(``idx`` of shape ``(outer, m, inner)``, or ``(m,)`` for index_select/index_add/embedding,
where a whole row of ``inner`` elements moves at once).

Threads (``kernel.get_num_threads()``): gathers split the ``(o, j)`` rows; scatter-adds
split ``o`` when there are enough outer slices and otherwise ranges of ``i``, so no two
threads ever add into the same element and every element receives its contributions in
the order ``np.add.at`` adds them (``o`` then ``j``): results are bitwise those of the NumPy
code. With ``put`` the same loops store instead of adding (``scatter``, and the gradient of
max/min along a dim: its values into zeros at the indices), the last write winning as in
NumPy's ``y[key] = v``. Indices must already be checked to lie in ``[-n, n)`` (the callers
do, with PyTorch's messages); negative ones wrap as in NumPy.

Each function returns ``None``/``False`` where it does not apply (not host NumPy, a dtype
other than float32/float64/int32/int64, an index that is not int64, no compiler,
``EMBER_JIT_DISABLE``), and the caller runs its NumPy code.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_SRC = r"""
#include <string.h>

#define GATHER(T, NAME)                                                                \
/* returns 1 when an index is out of [-n, n): each row's (or slice's) indices are     \
   checked before any is read, and the caller raises, the output dropped */           \
static int NAME##_rows(const T* x, const long* idx, T* out, long o, long j0, long j1,   \
                       long n, long m, long inner, int rows)                          \
{                                                                                     \
    const T* xs = x + o * n * inner;                                                  \
    int bad = 0;                                                                      \
    if (inner == 1 && !rows) {  /* along the last dim: one element per index */       \
        const long* ip = idx + o * m;                                                 \
        T* op = out + o * m;                                                          \
        /* the indices checked first (a vectorised pass over a row then in L1), so the\
           gather loop stays the plain one */                                         \
        _Pragma("omp simd reduction(|:bad)")                                          \
        for (long j = j0; j < j1; j++)                                                \
            bad |= (ip[j] >= n) | (ip[j] < -n);  /* signed: vector compares */        \
        if (bad) return 1;                                                            \
        for (long j = j0; j < j1; j++) {                                              \
            long k = ip[j];                                                           \
            op[j] = xs[k < 0 ? k + n : k];                                            \
        }                                                                             \
        return 0;                                                                     \
    }                                                                                 \
    for (long j = j0; j < j1; j++) {                                                  \
        T* op = out + (o * m + j) * inner;                                            \
        if (rows) {                                                                   \
            long k = idx[j];                                                          \
            if (k >= n || k < -n) return 1;                                           \
            if (k < 0) k += n;                                                        \
            memcpy(op, xs + k * inner, sizeof(T) * inner);                            \
        } else {                                                                      \
            const long* ip = idx + (o * m + j) * inner;                               \
            _Pragma("omp simd reduction(|:bad)")                                      \
            for (long i = 0; i < inner; i++)                                          \
                bad |= (ip[i] >= n) | (ip[i] < -n);                                   \
            if (bad) return 1;                                                        \
            for (long i = 0; i < inner; i++) {                                        \
                long k = ip[i];                                                       \
                if (k < 0) k += n;                                                    \
                op[i] = xs[k * inner + i];                                            \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
    return 0;                                                                         \
}                                                                                     \
                                                                                      \
int NAME(const T* x, const long* idx, T* out, long outer, long n, long m, long inner,   \
         int rows, int nt)                                                            \
{                                                                                     \
    int bad = 0;                                                                      \
    if (outer >= nt) {                                                                \
        _Pragma("omp parallel for num_threads(nt) schedule(static) reduction(|:bad)") \
        for (long o = 0; o < outer; o++)                                              \
            bad |= NAME##_rows(x, idx, out, o, 0, m, n, m, inner, rows);              \
    } else {                                                                          \
        for (long o = 0; o < outer; o++) {                                            \
            _Pragma("omp parallel for num_threads(nt) schedule(static) reduction(|:bad)") \
            for (long b = 0; b < nt; b++)                                             \
                bad |= NAME##_rows(x, idx, out, o, m * b / nt, m * (b + 1) / nt, n, m,   \
                                   inner, rows);                                      \
        }                                                                             \
    }                                                                                 \
    return bad;                                                                       \
}                                                                                     \
                                                                                      \
static void NAME##_sadd_block(T* y, const long* idx, const T* v, long o0, long o1,     \
                              long n, long m, long inner, long i0, long i1, int rows,  \
                              int put)                                                 \
{                                                                                     \
    for (long o = o0; o < o1; o++) {                                                  \
        T* ys = y + o * n * inner;                                                    \
        if (inner == 1 && !rows) {                                                    \
            const long* ip = idx + o * m;                                             \
            const T* vp = v + o * m;                                                  \
            for (long j = 0; j < m; j++) {                                            \
                long k = ip[j];                                                       \
                if (put) ys[k < 0 ? k + n : k] = vp[j];                               \
                else ys[k < 0 ? k + n : k] += vp[j];                                  \
            }                                                                         \
            continue;                                                                 \
        }                                                                             \
        for (long j = 0; j < m; j++) {                                                \
            const T* vp = v + (o * m + j) * inner;                                    \
            if (rows) {                                                               \
                long k = idx[j];                                                      \
                if (k < 0) k += n;                                                    \
                T* yp = ys + k * inner;                                               \
                if (put) memcpy(yp + i0, vp + i0, sizeof(T) * (i1 - i0));             \
                else for (long i = i0; i < i1; i++) yp[i] += vp[i];                   \
            } else {                                                                  \
                const long* ip = idx + (o * m + j) * inner;                           \
                for (long i = i0; i < i1; i++) {                                      \
                    long k = ip[i];                                                   \
                    if (k < 0) k += n;                                                \
                    if (put) ys[k * inner + i] = vp[i];                               \
                    else ys[k * inner + i] += vp[i];                                  \
                }                                                                     \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}                                                                                     \
                                                                                      \
void NAME##_sadd(T* y, const long* idx, const T* v, long outer, long n, long m,        \
                 long inner, int rows, int put, int nt)                               \
{                                                                                     \
    if (outer >= 4L * nt || inner < 64L * nt) {                                       \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                  \
        for (long o = 0; o < outer; o++)                                              \
            NAME##_sadd_block(y, idx, v, o, o + 1, n, m, inner, 0, inner, rows, put); \
    } else {                                                                          \
        long nb = nt;                                                                 \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                  \
        for (long b = 0; b < nb; b++) {                                               \
            long i0 = inner * b / nb, i1 = inner * (b + 1) / nb;                      \
            NAME##_sadd_block(y, idx, v, 0, outer, n, m, inner, i0, i1, rows, put);   \
        }                                                                             \
    }                                                                                 \
}

GATHER(float, gather_f32)
GATHER(double, gather_f64)
GATHER(int, gather_i32)
GATHER(long, gather_i64)
"""

_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
           np.dtype(np.int32): "i32", np.dtype(np.int64): "i64"}
_L = ctypes.c_long
_I = ctypes.c_int
_P = ctypes.c_void_p
# below these the call's fixed cost (~2 us) outweighs NumPy's indexing: take_along_axis
# builds index arrays (~5 us for a 31 x 31 gather), and np.add.at, a scatter-add's NumPy
# path, costs ~13 ns per element (a 31 x 31 scatter_add: 26 -> ~12 us with the kernel)
_MIN_ELEMS = 256
_MIN_ADD = 16
_SERIAL_BELOW = 1 << 15  # one thread below this many elements: no OpenMP wake-up


# the compiled library, or None (no compiler, or kernels disabled)
_lib = c_library(_SRC, ["gather_" + s + "_sadd" for s in ("f32", "f64", "i32", "i64")])


def _geometry(shape, dim):
    outer = 1
    for s in shape[:dim]:
        outer *= s
    inner = 1
    for s in shape[dim + 1:]:
        inner *= s
    return outer, shape[dim], inner


def _applies(x, idx, dim, rows, other_shape, min_elems=_MIN_ELEMS):
    """The (outer, n, m, inner) geometry when the kernels take these operands, else None.

    ``other_shape`` is the shape of the gathered side (the output of a gather, the values of
    a scatter-add): with ``rows`` it is ``x.shape`` with ``n`` replaced by ``len(idx)``,
    otherwise it must equal ``idx.shape``."""
    if (type(x) is not np.ndarray or type(idx) is not np.ndarray
            or x.dtype not in _SUFFIX or idx.dtype != np.int64 or x.ndim == 0):
        return None
    if rows:
        if idx.ndim != 1:
            return None
        m = idx.shape[0]
        want = x.shape[:dim] + (m,) + x.shape[dim + 1:]
    else:
        if idx.ndim != x.ndim:
            return None
        m = idx.shape[dim]
        want = idx.shape
        if want[:dim] != x.shape[:dim] or want[dim + 1:] != x.shape[dim + 1:]:
            return None
    if tuple(other_shape) != want:
        return None
    outer, n, inner = _geometry(x.shape, dim)
    if outer * m * inner < min_elems:
        return None
    return outer, n, m, inner


def _threads(outer, m, inner):
    return 1 if outer * m * inner < _SERIAL_BELOW else get_num_threads()


class OutOfBounds(Exception):
    """An index outside ``[-n, n)`` met by :func:`gather` (the caller raises its own error)."""


def gather(x, idx, dim, rows):
    """``x`` gathered along ``dim`` at ``idx`` (``rows``: a 1-D index selecting whole slices,
    as index_select), or None where the kernel does not apply. The kernel checks every index
    as it reads it (no separate bounds pass over the index) and raises :class:`OutOfBounds`
    for one outside ``[-n, n)``."""
    want = (x.shape[:dim] + (idx.shape[0],) + x.shape[dim + 1:]) if rows and idx.ndim == 1 \
        else idx.shape
    geo = _applies(x, idx, dim, rows, want)
    if geo is None:
        return None
    lib = _lib()
    if lib is None:
        return None
    outer, n, m, inner = geo
    x = np.ascontiguousarray(x)
    idx = np.ascontiguousarray(idx)
    out = np.empty(want, x.dtype)
    if getattr(lib, "gather_" + _SUFFIX[x.dtype])(
            data_ptr(x), data_ptr(idx), data_ptr(out), _L(outer), _L(n), _L(m),
            _L(inner), _I(1 if rows else 0), _I(_threads(outer, m, inner))):
        raise OutOfBounds
    return out


def scatter_add(y, idx, v, dim, rows, put=False, serial=False):
    """Add ``v`` into ``y`` (C-contiguous, modified in place) along ``dim`` at ``idx``
    (``put``: store instead of adding, the last write winning as in NumPy's ``y[key] = v``;
    ``serial``: on this thread only); True when done, False where the kernel does not apply
    (``y`` is then untouched)."""
    if type(v) is not np.ndarray or type(y) is not np.ndarray or not y.flags.c_contiguous \
            or v.dtype != y.dtype:
        return False
    geo = _applies(y, idx, dim, rows, v.shape, _MIN_ELEMS if put else _MIN_ADD)
    if geo is None:
        return False
    lib = _lib()
    if lib is None:
        return False
    outer, n, m, inner = geo
    v = np.ascontiguousarray(v)
    idx = np.ascontiguousarray(idx)
    getattr(lib, "gather_" + _SUFFIX[y.dtype] + "_sadd")(
        data_ptr(y), data_ptr(idx), data_ptr(v), _L(outer), _L(n), _L(m),
        _L(inner), _I(1 if rows else 0), _I(1 if put else 0),
        _I(1 if serial else _threads(outer, m, inner)))
    return True


# ------------------------------------------------------------------ boolean masks
# NOTE [ Mask selection kernels ]
# ``x[mask]`` with a mask of ``x``'s shape (masked_select, a boolean index) is NumPy's
# boolean indexing on one core, a branch per element on random masks (1e6 float32, half set:
# ~4.5 ms against PyTorch's ~3.2 ms), and its backward ``np.add.at`` on that key. Here the
# flat operand is cut in blocks, one per thread: ``mask_counts`` counts each block's set
# bytes (a vectorised byte sum), the caller allocates the result from the total, and
# ``mask_select`` compacts each block at its prefix-sum offset. The compaction stores every
# element to a thread-local chunk and advances by the mask byte, no branch to mispredict,
# then copies the chunk out. ``mask_expand`` is the backward: ``out[j] = mask[j] ? g[k++] :
# 0``, the same offsets. Elements are moved as bytes of their size (1, 2, 4 or 8), so the
# results are NumPy's bit for bit, in NumPy's (C) order.
_MASK_SRC = r"""
#include <string.h>
#include <stdint.h>

void mask_counts(const unsigned char* m, long n, long* counts, long nb, int nt)
{
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long b = 0; b < nb; b++) {
        long j0 = n * b / nb, j1 = n * (b + 1) / nb;
        long c = 0;
        for (long j = j0; j < j1; j++) c += m[j] != 0;
        counts[b] = c;
    }
}

#define CHUNK 2048
#define SELECT(T)                                                                       \
    {                                                                                   \
        const T* xs = (const T*)x;                                                      \
        T* os = (T*)out + offs[b];                                                      \
        T buf[CHUNK + 1];                                                               \
        for (long c0 = j0; c0 < j1; c0 += CHUNK) {                                      \
            long c1 = c0 + CHUNK < j1 ? c0 + CHUNK : j1;                                \
            long k = 0;                                                                 \
            for (long j = c0; j < c1; j++) { buf[k] = xs[j]; k += m[j] != 0; }          \
            memcpy(os, buf, k * sizeof(T));                                             \
            os += k;                                                                    \
        }                                                                               \
    }

void mask_select(const char* x, const unsigned char* m, char* out, long n, long esz,
                 const long* offs, long nb, int nt)
{
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long b = 0; b < nb; b++) {
        long j0 = n * b / nb, j1 = n * (b + 1) / nb;
        switch (esz) {
        case 1: SELECT(uint8_t) break;
        case 2: SELECT(uint16_t) break;
        case 4: SELECT(uint32_t) break;
        default: SELECT(uint64_t) break;
        }
    }
}

#define EXPAND(T)                                                                       \
    {                                                                                   \
        const T* gs = (const T*)g;                                                      \
        T* os = (T*)out;                                                                \
        long k = offs[b];                                                               \
        for (long j = j0; j < j1; j++) {                                                \
            long r = k < total ? k : total - 1;                                         \
            T v = gs[r];                                                                \
            os[j] = v & (T)-(T)(m[j] != 0);  /* bits, no branch: T is unsigned */       \
            k += m[j] != 0;                                                             \
        }                                                                               \
    }

/* out[j] = m[j] ? g[k++] : 0 over the flat operand; total = number of set bytes > 0 */
void mask_expand(const char* g, const unsigned char* m, char* out, long n, long esz,
                 const long* offs, long total, long nb, int nt)
{
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long b = 0; b < nb; b++) {
        long j0 = n * b / nb, j1 = n * (b + 1) / nb;
        switch (esz) {
        case 1: EXPAND(uint8_t) break;
        case 2: EXPAND(uint16_t) break;
        case 4: EXPAND(uint32_t) break;
        default: EXPAND(uint64_t) break;
        }
    }
}
"""

_mask_lib = c_library(_MASK_SRC, ["mask_counts", "mask_select", "mask_expand"])
_MASK_MIN = 1 << 15  # elements: below this NumPy's boolean indexing is as quick


def _mask_operands(x, m):
    """(lib, nb) when the mask kernels take ``x`` (or the gradient's zeros) and ``m``."""
    if (type(x) is not np.ndarray or type(m) is not np.ndarray or m.dtype != np.bool_
            or m.shape != x.shape or x.size < _MASK_MIN or x.itemsize not in (1, 2, 4, 8)
            or x.dtype.hasobject or not x.flags.c_contiguous or not m.flags.c_contiguous):
        return None
    lib = _mask_lib()
    if lib is None:
        return None
    return lib, get_num_threads()


def _offsets(lib, m, nb, nt):
    counts = np.empty(nb, np.int64)
    lib.mask_counts(data_ptr(m), _L(m.size), data_ptr(counts), _L(nb), _I(nt))
    offs = np.zeros(nb, np.int64)
    np.cumsum(counts[:-1], out=offs[1:])
    return offs, int(counts.sum())


def mask_select(x, m):
    """``x[m]`` for a boolean ``m`` of ``x``'s shape (NOTE [ Mask selection kernels ]), or
    None where the kernel does not apply (the caller runs NumPy).

    Args:
        x: a host NumPy array.
        m: a NumPy bool array of ``x``'s shape.

    Returns:
        A 1-D array of the selected elements in C order, or None.

    Example:
        >>> import numpy as np
        >>> x = np.arange(40000, dtype=np.float32)
        >>> r = mask_select(x, x % 3 == 0)
        >>> r is None or bool((r == x[x % 3 == 0]).all())
        True
    """
    ops = _mask_operands(x, m)
    if ops is None:
        return None
    lib, nt = ops
    nb = nt
    offs, total = _offsets(lib, m, nb, nt)
    out = np.empty(total, x.dtype)
    if total:
        lib.mask_select(data_ptr(x), data_ptr(m), data_ptr(out), _L(x.size),
                        _L(x.itemsize), data_ptr(offs), _L(nb), _I(nt))
    return out


def mask_expand(g, m):
    """Zeros of ``m``'s shape holding ``g``'s elements where ``m`` is set, in C order (the
    gradient of ``x[m]``), or None where the kernel does not apply.

    Args:
        g: a 1-D host NumPy array with one element per set element of ``m``.
        m: a NumPy bool array.

    Returns:
        An array of ``m``'s shape and ``g``'s dtype, or None.

    Example:
        >>> import numpy as np
        >>> m = np.arange(40000) % 2 == 0
        >>> r = mask_expand(np.ones(20000, np.float32), m)
        >>> r is None or (r.sum() == 20000.0 and bool((r[1::2] == 0).all()))
        True
    """
    if (type(g) is not np.ndarray or type(m) is not np.ndarray or g.ndim != 1
            or m.dtype != np.bool_ or m.size < _MASK_MIN or g.itemsize not in (1, 2, 4, 8)
            or g.dtype.hasobject or not g.flags.c_contiguous or not m.flags.c_contiguous):
        return None
    lib = _mask_lib()
    if lib is None:
        return None
    nt = get_num_threads()
    nb = nt
    offs, total = _offsets(lib, m, nb, nt)
    if total != g.size:
        return None
    if total == 0:
        return np.zeros(m.shape, g.dtype)
    out = np.empty(m.shape, g.dtype)
    lib.mask_expand(data_ptr(g), data_ptr(m), data_ptr(out), _L(m.size),
                    _L(g.itemsize), data_ptr(offs), _L(total), _L(nb), _I(nt))
    return out
