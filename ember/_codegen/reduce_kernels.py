"""Hand-written C kernels for sums, means and scans (cumsum, cumprod) along one run of
dimensions, built and cached like the generated kernels.

NOTE [ Threaded sums and scans ]
NumPy reduces and scans on one core: a float32 sum over the middle dim of an
(87, 131, 87) tensor took 0.28 ms against PyTorch's 0.05 ms, a cumsum along the rows of an
(816, 1225) matrix 3.5 ms (``add.accumulate`` walks one element at a time) against 0.48 ms.
Viewing the input as ``(outer, n, inner)`` (``n`` the reduced or scanned extent), these
kernels split ``outer`` (or, when it is smaller than the thread count, ranges of ``inner``)
over the OpenMP threads (``kernel.get_num_threads()``).

Accuracy. Every sum and scan accumulates in double, for float32 and float64 input alike,
as PyTorch's CPU scans do (its accumulate type for float is double). For float32 that is
far more accurate than NumPy's float32 pairwise sum (the error of a double sum of n float32
values is below n * 2**-53 * sum|x|, then one rounding to float32). Float64 sums stay on
NumPy (its pairwise sum beats a plain double accumulation); float64 scans come here (NumPy
scans sequentially in double too, so the results are identical). Along a contiguous run
(``inner == 1``) a sum keeps 32 independent partial sums (vectorised, then added
pairwise); a scan is the serial chain it must be. Results do not depend on the thread
count.

Each function returns ``None`` where it does not apply (not host NumPy, another dtype,
axes that are not one contiguous run of a C-contiguous array, a small input, no compiler,
``EMBER_JIT_DISABLE``), and the caller runs its NumPy code.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_SRC = r"""
#include <stdlib.h>

/* 32 partial sums: four independent vector chains (eight lanes each with AVX-512), so the
 * loop runs at the adds' throughput; one chain of eight was bound by their latency (1M
 * float32: 114 us on one thread against PyTorch's 43) */
static double sum_run(const float* x, long n)
{
    double a[32] = {0};
    long j = 0;
    for (; j + 32 <= n; j += 32)
        for (int k = 0; k < 32; k++) a[k] += (double)x[j + k];
    for (; j < n; j++) a[0] += (double)x[j];
    for (int w = 16; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) a[k] += a[k + w];
    return a[0];
}

static void sum_cols(const float* x, float* out, double* acc, long n, long inner,
                     long stride, long i0, long i1, double scale)
{
    for (long i = i0; i < i1; i++) acc[i - i0] = 0.0;
    long j = 0;
    /* four rows per pass over the accumulators, each column still summed in row order (the
       same result as one row at a time): a quarter of the accumulator loads and stores and
       of the short rows' loop overhead */
    for (; j + 4 <= n; j += 4) {
        const float* x0 = x + j * stride;
        const float* x1 = x0 + stride;
        const float* x2 = x1 + stride;
        const float* x3 = x2 + stride;
        for (long i = i0; i < i1; i++) {
            double a = acc[i - i0];
            a += (double)x0[i];
            a += (double)x1[i];
            a += (double)x2[i];
            a += (double)x3[i];
            acc[i - i0] = a;
        }
    }
    for (; j < n; j++) {
        const float* xr = x + j * stride;
        for (long i = i0; i < i1; i++) acc[i - i0] += (double)xr[i];
    }
    for (long i = i0; i < i1; i++) out[i] = (float)(acc[i - i0] * scale);
}

/* out[o, i] = scale * sum_j x[o, j, i], x float32 (outer, n, inner) C-contiguous */
void sum_f32(const float* x, float* out, long outer, long n, long inner, double scale,
             int nt)
{
    if (inner == 1) {
        if (outer >= nt) {
            #pragma omp parallel for num_threads(nt) schedule(static)
            for (long o = 0; o < outer; o++)
                out[o] = (float)(sum_run(x + o * n, n) * scale);
        } else {
            /* one long run: blocks of 4096 summed in parallel, then in order */
            long nb = (n + 4095) / 4096;
            double* part = (double*)malloc(sizeof(double) * (nb > 0 ? nb : 1));
            for (long o = 0; o < outer; o++) {
                const float* xo = x + o * n;
                #pragma omp parallel for num_threads(nt) schedule(static)
                for (long b = 0; b < nb; b++) {
                    long j0 = b * 4096, j1 = j0 + 4096 < n ? j0 + 4096 : n;
                    part[b] = sum_run(xo + j0, j1 - j0);
                }
                double s = 0.0;
                for (long b = 0; b < nb; b++) s += part[b];
                out[o] = (float)(s * scale);
            }
            free(part);
        }
        return;
    }
    if (outer >= nt) {
        #pragma omp parallel num_threads(nt)
        {
            double* acc = (double*)malloc(sizeof(double) * inner);
            #pragma omp for schedule(static)
            for (long o = 0; o < outer; o++)
                sum_cols(x + o * n * inner, out + o * inner, acc, n, inner, inner, 0, inner,
                         scale);
            free(acc);
        }
    } else {
        for (long o = 0; o < outer; o++) {
            #pragma omp parallel num_threads(nt)
            {
                #pragma omp for schedule(static)
                for (long b = 0; b < nt; b++) {
                    long i0 = inner * b / nt, i1 = inner * (b + 1) / nt;
                    double* acc = (double*)malloc(sizeof(double) * (i1 - i0 + 1));
                    sum_cols(x + o * n * inner, out + o * inner, acc, n, inner, inner, i0,
                             i1, scale);
                    free(acc);
                }
            }
        }
    }
}

#define SCAN(T, NAME, OP, INIT)                                                        \
static void NAME##_block(const T* x, T* y, double* acc, long n, long inner, long i0,    \
                         long i1, int rev)                                             \
{                                                                                      \
    if (inner == 1) {                                                                  \
        double a = INIT;                                                               \
        if (rev)                                                                       \
            for (long j = n - 1; j >= 0; j--) { a = a OP (double)x[j]; y[j] = (T)a; }  \
        else                                                                           \
            for (long j = 0; j < n; j++) { a = a OP (double)x[j]; y[j] = (T)a; }       \
        return;                                                                        \
    }                                                                                  \
    for (long i = i0; i < i1; i++) acc[i - i0] = INIT;                                 \
    for (long jj = 0; jj < n; jj++) {                                                  \
        long j = rev ? n - 1 - jj : jj;                                                \
        const T* xr = x + j * inner;                                                   \
        T* yr = y + j * inner;                                                         \
        for (long i = i0; i < i1; i++) {                                               \
            double a = acc[i - i0] OP (double)xr[i];                                   \
            acc[i - i0] = a;                                                           \
            yr[i] = (T)a;                                                              \
        }                                                                              \
    }                                                                                  \
}                                                                                      \
                                                                                       \
void NAME(const T* x, T* y, long outer, long n, long inner, int rev, int nt)           \
{                                                                                      \
    if (outer >= nt || inner < 16L * nt) {                                             \
        _Pragma("omp parallel num_threads(nt)")                                        \
        {                                                                              \
            double* acc = (double*)malloc(sizeof(double) * inner);                     \
            _Pragma("omp for schedule(static)")                                        \
            for (long o = 0; o < outer; o++)                                           \
                NAME##_block(x + o * n * inner, y + o * n * inner, acc, n, inner, 0,   \
                             inner, rev);                                              \
            free(acc);                                                                 \
        }                                                                              \
    } else {                                                                           \
        for (long o = 0; o < outer; o++) {                                             \
            _Pragma("omp parallel for num_threads(nt) schedule(static)")               \
            for (long b = 0; b < nt; b++) {                                            \
                long i0 = inner * b / nt, i1 = inner * (b + 1) / nt;                   \
                double* acc = (double*)malloc(sizeof(double) * (i1 - i0 + 1));         \
                NAME##_block(x + o * n * inner, y + o * n * inner, acc, n, inner, i0,  \
                             i1, rev);                                                 \
                free(acc);                                                             \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
}

SCAN(float, cumsum_f32, +, 0.0)
SCAN(double, cumsum_f64, +, 0.0)
SCAN(float, cumprod_f32, *, 1.0)
SCAN(double, cumprod_f64, *, 1.0)
"""

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_SUFFIX = {_F32: "f32", _F64: "f64"}
_L = ctypes.c_long
_P = ctypes.c_void_p
MIN_ELEMS = 1 << 15  # below this NumPy's single pass is as fast as a threaded call


# the compiled library, or None (no compiler, or kernels disabled)
_lib = c_library(_SRC, ("sum_f32", "cumsum_f32", "cumsum_f64", "cumprod_f32",
                        "cumprod_f64"))


def _axes_reduced(shape, axes, keepdim):
    """The shape of a reduction of ``shape`` over ``axes`` (kept as 1 with ``keepdim``)."""
    if keepdim:
        return tuple(1 if d in axes else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in axes)


def _run_geometry(shape, axes):
    """(outer, n, inner) when ``axes`` (sorted) are one contiguous run of dims, else None."""
    if not axes:
        return None
    a0, a1 = axes[0], axes[-1]
    if a1 - a0 + 1 != len(axes):
        return None
    outer = n = inner = 1
    for d, s in enumerate(shape):
        if d < a0:
            outer *= s
        elif d <= a1:
            n *= s
        else:
            inner *= s
    return outer, n, inner


def sum_(x, axes, keepdim, mean=False):
    """The float32 sum (or mean) of ``x`` over ``axes`` (a tuple of dims), or None."""
    if type(x) is not np.ndarray or x.dtype != _F32 or x.size < MIN_ELEMS \
            or not x.flags.c_contiguous:
        return None
    axes = tuple(sorted(axes))
    geo = _run_geometry(x.shape, axes)
    if geo is None:
        return None
    lib = _lib()
    if lib is None:
        return None
    outer, n, inner = geo
    shape = _axes_reduced(x.shape, axes, keepdim)
    out = np.empty(shape, _F32)
    scale = 1.0 / n if mean else 1.0
    lib.sum_f32(data_ptr(x), data_ptr(out), _L(outer), _L(n), _L(inner),
                ctypes.c_double(scale), ctypes.c_int(get_num_threads()))
    return out


def scan(x, dim, prod=False, reverse=False, min_elems=MIN_ELEMS):
    """cumsum (``prod``: cumprod) of float ``x`` along ``dim`` in its own dtype, or None;
    ``reverse`` scans from the end (``flip(cumsum(flip(x)))``, cumsum's backward)."""
    if type(x) is not np.ndarray or x.dtype not in _SUFFIX or x.size < min_elems or \
            not x.ndim:
        return None
    lib = _lib()
    if lib is None:
        return None
    x = np.ascontiguousarray(x)
    outer, n, inner = _run_geometry(x.shape, (dim,))
    y = np.empty(x.shape, x.dtype)
    name = ("cumprod_" if prod else "cumsum_") + _SUFFIX[x.dtype]
    # small scans on this thread (no OpenMP wake-up): the same loop, the same results
    nt = 1 if x.size < MIN_ELEMS else get_num_threads()
    getattr(lib, name)(data_ptr(x), data_ptr(y), _L(outer), _L(n), _L(inner),
                       ctypes.c_int(1 if reverse else 0), ctypes.c_int(nt))
    return y


# ------------------------------------------------------------------ extremes and products
# NOTE [ One-pass extremes, products and integer means ]
# NumPy answers ``max(x, dim)`` with ``argmax`` then ``take_along_axis``: along a dim that
# is not the last, argmax copies the operand into a transposed buffer first, three passes
# on one core (an (87, 131, 87) float32 max over the middle dim: ~1.4 ms against PyTorch's
# 0.6 ms). ``ext_dim_*`` keeps the running extreme and its index for a row of ``inner``
# columns while it walks the ``n`` rows of each ``(outer, n, inner)`` slice: one read of
# the operand, vectorised across the columns, threads over ``outer`` (or over column
# ranges when ``outer`` is smaller than the thread count). A later element replaces the
# running one when it is strictly greater (less), or when it is NaN and the running one is
# not: the first NaN wins and ties keep the first index, PyTorch's and NumPy's rules; the
# value returned is the element at that index, so a -0.0 stays -0.0.
# ``prod_cols_*`` multiplies the rows in order in the operand's own dtype, the order NumPy's
# ``multiply.reduce`` uses along a dim that is not the last, so its results are NumPy's bit
# for bit. ``mean_i64`` is ``mean(x, dim, dtype=float64)`` of an int64 operand in one pass:
# each element converted to double as it is read (NumPy converted the whole operand into a
# float64 buffer first), summed in 32 partial sums per run. ``minmax_*`` gives the least
# and greatest element of a whole C-contiguous array in one threaded pass (NaN when there is
# one): aminmax, full amax/amin and the bounds checks of the index ops.
_EXT_SRC = r"""
#include <stdlib.h>

#define EXT(T, NAME)                                                                    \
/* the running index in int (n < 2^31, checked by the caller): lanes as wide as T's for  \
 * float32, so the compare-and-select loop vectorises without widening */               \
static void NAME##_block(const T* x, T* v, long* k, long n, long inner, long i0, long i1, \
                         int is_max)                                                    \
{                                                                                       \
    int* ki = (int*)malloc(sizeof(int) * (i1 - i0 + 1));                                \
    T* vv = v + i0;                                                                     \
    for (long i = i0; i < i1; i++) { vv[i - i0] = x[i]; ki[i - i0] = 0; }               \
    long w = i1 - i0;                                                                   \
    for (long j = 1; j < n; j++) {                                                      \
        const T* xr = x + j * inner + i0;                                               \
        int jj = (int)j;                                                                \
        if (is_max) {                                                                   \
            for (long i = 0; i < w; i++) {                                              \
                T a = xr[i], m = vv[i];                                                 \
                int t = (a > m) | ((a != a) & (m == m));                                \
                vv[i] = t ? a : m;                                                      \
                ki[i] = t ? jj : ki[i];                                                 \
            }                                                                           \
        } else {                                                                        \
            for (long i = 0; i < w; i++) {                                              \
                T a = xr[i], m = vv[i];                                                 \
                int t = (a < m) | ((a != a) & (m == m));                                \
                vv[i] = t ? a : m;                                                      \
                ki[i] = t ? jj : ki[i];                                                 \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
    for (long i = 0; i < w; i++) k[i0 + i] = ki[i];                                     \
    free(ki);                                                                           \
}                                                                                       \
                                                                                        \
void NAME(const T* x, T* v, long* k, long outer, long n, long inner, int is_max, int nt) \
{                                                                                       \
    if (outer >= nt) {                                                                  \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                    \
        for (long o = 0; o < outer; o++)                                                \
            NAME##_block(x + o * n * inner, v + o * inner, k + o * inner, n, inner, 0,  \
                         inner, is_max);                                                \
    } else {                                                                            \
        for (long o = 0; o < outer; o++) {                                              \
            _Pragma("omp parallel for num_threads(nt) schedule(static)")                \
            for (long b = 0; b < nt; b++)                                               \
                NAME##_block(x + o * n * inner, v + o * inner, k + o * inner, n, inner, \
                             inner * b / nt, inner * (b + 1) / nt, is_max);             \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
static void NAME##_prod_block(const T* x, T* y, long n, long inner, long i0, long i1)    \
{                                                                                       \
    for (long i = i0; i < i1; i++) y[i] = x[i];                                         \
    for (long j = 1; j < n; j++) {                                                      \
        const T* xr = x + j * inner;                                                    \
        for (long i = i0; i < i1; i++) y[i] = y[i] * xr[i];                             \
    }                                                                                   \
}                                                                                       \
                                                                                        \
void NAME##_prod(const T* x, T* y, long outer, long n, long inner, int nt)              \
{                                                                                       \
    if (outer >= nt) {                                                                  \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                    \
        for (long o = 0; o < outer; o++)                                                \
            NAME##_prod_block(x + o * n * inner, y + o * inner, n, inner, 0, inner);    \
    } else {                                                                            \
        for (long o = 0; o < outer; o++) {                                              \
            _Pragma("omp parallel for num_threads(nt) schedule(static)")                \
            for (long b = 0; b < nt; b++)                                               \
                NAME##_prod_block(x + o * n * inner, y + o * inner, n, inner,           \
                                  inner * b / nt, inner * (b + 1) / nt);                \
        }                                                                               \
    }                                                                                   \
}

/* The least and greatest of x[0:n] (n > 0) in 64 running lanes each, so the vector min/max
 * chains overlap (one chain ran at its latency: 1e6 float32, 92 us against 71); compiled
 * finite-math-only so ``a < l ? a : l`` becomes vminps, which is why NaN is looked for
 * apart, in the integer view of the bits: a float is NaN when its bits without the sign
 * exceed those of inf. */
#define MINMAX(T, U, NAME, ABS, INF)                                                    \
__attribute__((optimize("finite-math-only", "no-signed-zeros")))                        \
static void NAME##_mm_run(const T* x, long n, T* lo, T* hi, int* nan)                   \
{                                                                                       \
    T l[64], h[64];                                                                     \
    U q[64];                                                                            \
    const U* u = (const U*)x;                                                           \
    for (int w = 0; w < 64; w++) { l[w] = x[0]; h[w] = x[0]; q[w] = 0; }                \
    long j = 0;                                                                         \
    for (; j + 64 <= n; j += 64)                                                        \
        for (int w = 0; w < 64; w++) {                                                  \
            T a = x[j + w];                                                             \
            U b = u[j + w] & ABS;                                                       \
            l[w] = a < l[w] ? a : l[w];                                                 \
            h[w] = a > h[w] ? a : h[w];                                                 \
            q[w] = b > q[w] ? b : q[w];                                                 \
        }                                                                               \
    for (; j < n; j++) {                                                                \
        T a = x[j];                                                                     \
        U b = u[j] & ABS;                                                               \
        l[0] = a < l[0] ? a : l[0];                                                     \
        h[0] = a > h[0] ? a : h[0];                                                     \
        q[0] = b > q[0] ? b : q[0];                                                     \
    }                                                                                   \
    for (int w = 1; w < 64; w++) {                                                      \
        l[0] = l[w] < l[0] ? l[w] : l[0];                                               \
        h[0] = h[w] > h[0] ? h[w] : h[0];                                               \
        q[0] = q[w] > q[0] ? q[w] : q[0];                                               \
    }                                                                                   \
    *lo = l[0]; *hi = h[0]; *nan = INF != 0 && q[0] > INF;                              \
}                                                                                       \
                                                                                        \
/* res[0] least, res[1] greatest of x[0:n] (n > 0); returns 1 when a NaN was seen */    \
int NAME##_minmax(const T* x, long n, T* res, int nt)                                   \
{                                                                                       \
    T lo[64], hi[64];                                                                   \
    int nan[64];                                                                        \
    if (nt > 64) nt = 64;                                                               \
    if (n < 2L * nt) nt = 1;                                                            \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                        \
    for (long b = 0; b < nt; b++) {                                                     \
        long j0 = n * b / nt, j1 = n * (b + 1) / nt;                                    \
        NAME##_mm_run(x + j0, j1 - j0, lo + b, hi + b, nan + b);                        \
    }                                                                                   \
    int q = 0;                                                                          \
    T l = lo[0], h = hi[0];                                                             \
    for (int b = 0; b < nt; b++) {                                                      \
        l = lo[b] < l ? lo[b] : l;                                                      \
        h = hi[b] > h ? hi[b] : h;                                                      \
        q |= nan[b];                                                                    \
    }                                                                                   \
    res[0] = l; res[1] = h;                                                             \
    return q;                                                                           \
}

EXT(float, ext_f32)
EXT(double, ext_f64)
EXT(int, ext_i32)
EXT(long, ext_i64)
MINMAX(float, unsigned int, ext_f32, 0x7fffffffu, 0x7f800000u)
MINMAX(double, unsigned long, ext_f64, 0x7fffffffffffffffUL, 0x7ff0000000000000UL)
MINMAX(int, unsigned int, ext_i32, 0u, 0u)
MINMAX(long, unsigned long, ext_i64, 0UL, 0UL)

static double sum_i64_run(const long* x, long n)
{
    double a[32] = {0};
    long j = 0;
    for (; j + 32 <= n; j += 32)
        for (int k = 0; k < 32; k++) a[k] += (double)x[j + k];
    for (; j < n; j++) a[0] += (double)x[j];
    for (int w = 16; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) a[k] += a[k + w];
    return a[0];
}

/* out[o, i] = scale * sum_j (double)x[o, j, i], x int64 (outer, n, inner) */
void mean_i64(const long* x, double* out, long outer, long n, long inner, double scale,
              int nt)
{
    if (inner == 1) {
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long o = 0; o < outer; o++) out[o] = sum_i64_run(x + o * n, n) * scale;
        return;
    }
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long o = 0; o < outer; o++) {
        double* y = out + o * inner;
        const long* xo = x + o * n * inner;
        for (long i = 0; i < inner; i++) y[i] = 0.0;
        for (long j = 0; j < n; j++)
            for (long i = 0; i < inner; i++) y[i] += (double)xo[j * inner + i];
        for (long i = 0; i < inner; i++) y[i] *= scale;
    }
}
"""

_EXT_SUFFIX = {_F32: "f32", _F64: "f64", np.dtype(np.int32): "i32", np.dtype(np.int64): "i64"}
_ext_lib = c_library(_EXT_SRC, [f"ext_{s}{t}" for s in ("f32", "f64", "i32", "i64")
                                for t in ("", "_prod")] + ["mean_i64"])


def _dim_operand(x, axis):
    """(lib, outer, n, inner) when the one-dim kernels take ``x`` reduced over ``axis``."""
    if (type(x) is not np.ndarray or x.dtype not in _EXT_SUFFIX or x.size < MIN_ELEMS
            or not x.flags.c_contiguous):
        return None
    outer, n, inner = _run_geometry(x.shape, (axis,))
    if n == 0:
        return None
    lib = _ext_lib()
    if lib is None:
        return None
    return lib, outer, n, inner


def _reduced_shape(shape, axis, keepdim):
    return shape[:axis] + ((1,) if keepdim else ()) + shape[axis + 1:]


def max_dim(x, axis, keepdim, is_max):
    """``(values, indices)`` of ``max(x, axis)`` (``is_max`` False: min) in one threaded
    pass, or None where the kernel does not apply (the caller runs NumPy). Only a dim with
    something after it: along the last dim NumPy's own argmax is one vectorised pass."""
    geo = _dim_operand(x, axis)
    if geo is None or geo[3] == 1 or geo[2] >= 1 << 31:  # int running index: n < 2^31
        return None
    lib, outer, n, inner = geo
    shape = _reduced_shape(x.shape, axis, keepdim)
    v = np.empty(shape, x.dtype)
    k = np.empty(shape, np.int64)
    getattr(lib, "ext_" + _EXT_SUFFIX[x.dtype])(
        data_ptr(x), data_ptr(v), data_ptr(k), _L(outer), _L(n), _L(inner),
        ctypes.c_int(1 if is_max else 0), ctypes.c_int(get_num_threads()))
    return v, k


def prod_dim(x, axis, keepdim):
    """The product of ``x`` over ``axis`` in ``x``'s dtype, NumPy's result bit for bit, or
    None where the kernel does not apply (along the last dim, another dtype, ...)."""
    geo = _dim_operand(x, axis)
    if geo is None or geo[3] == 1 or x.dtype.kind != "f":
        return None
    lib, outer, n, inner = geo
    y = np.empty(_reduced_shape(x.shape, axis, keepdim), x.dtype)
    getattr(lib, "ext_" + _EXT_SUFFIX[x.dtype] + "_prod")(
        data_ptr(x), data_ptr(y), _L(outer), _L(n), _L(inner),
        ctypes.c_int(get_num_threads()))
    return y


def mean_int64(x, axes, keepdim):
    """``mean(x, axes, dtype=float64)`` of an int64 ``x`` over one run of dims, or None."""
    if (type(x) is not np.ndarray or x.dtype != np.int64 or x.size < MIN_ELEMS
            or not x.flags.c_contiguous):
        return None
    axes = tuple(sorted(axes))
    geo = _run_geometry(x.shape, axes)
    if geo is None or geo[1] == 0:
        return None
    lib = _ext_lib()
    if lib is None:
        return None
    outer, n, inner = geo
    shape = _axes_reduced(x.shape, axes, keepdim)
    out = np.empty(shape, np.float64)
    lib.mean_i64(data_ptr(x), data_ptr(out), _L(outer), _L(n), _L(inner),
                 ctypes.c_double(1.0 / n), ctypes.c_int(get_num_threads()))
    return out


def minmax(x):
    """``(least, greatest)`` elements of the whole non-empty array ``x`` as NumPy scalars of
    its dtype (both NaN when ``x`` holds one, as ``np.min``/``np.max``), or None where the
    kernel does not apply."""
    if (type(x) is not np.ndarray or x.dtype not in _EXT_SUFFIX or x.size < MIN_ELEMS
            or not x.flags.c_contiguous):
        return None
    lib = _ext_lib()
    if lib is None:
        return None
    res = np.empty(2, x.dtype)
    nan = getattr(lib, "ext_" + _EXT_SUFFIX[x.dtype] + "_minmax")(
        data_ptr(x), _L(x.size), data_ptr(res), ctypes.c_int(get_num_threads()))
    if nan:
        res[:] = np.nan
    return res[0], res[1]


# ------------------------------------------------------------------ column extremes
# NOTE [ Column extremes ]
# amax/amin over a run of dims that is not the last (an (87, 131, 87) float32 operand over
# dim -2: ``out[o, i] = max_j x[o, j, i]``) ran NumPy's reduce on one core: 417 us against
# PyTorch's 350. ``col_ext_*`` gives each thread blocks of ``inner`` columns of one ``o``
# and folds the rows into them in order, with the generated kernels' maximum/minimum
# (NumPy's: NaN propagates; otherwise ``acc <= v`` takes ``v``), so the values are NumPy's
# reduce's (a tie between -0.0 and +0.0 may keep the other zero: NumPy's SIMD and scalar
# loops already disagree there). Contiguous column blocks vectorise; nothing is allocated.
_COL_EXT_SRC = r"""
#define COL_EXT(NAME, T)                                                                  \
void NAME(const T* x, T* out, long outer, long n, long inner, int is_max, int nt)        \
{                                                                                         \
    long nb = (inner + 511) / 512, tasks = outer * nb;                                    \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                          \
    for (long t = 0; t < tasks; t++) {                                                    \
        long o = t / nb, i0 = (t % nb) * 512, i1 = i0 + 512 < inner ? i0 + 512 : inner;   \
        const T* xo = x + o * n * inner;                                                  \
        T* acc = out + o * inner;                                                         \
        for (long i = i0; i < i1; i++) acc[i] = xo[i];                                    \
        for (long j = 1; j < n; j++) {                                                    \
            const T* r = xo + j * inner;                                                  \
            if (is_max) {                                                                 \
                for (long i = i0; i < i1; i++) {                                          \
                    T a = acc[i], b = r[i];                                               \
                    acc[i] = !(a <= b) ? (b != b ? b : a) : b;                            \
                }                                                                         \
            } else {                                                                      \
                for (long i = i0; i < i1; i++) {                                          \
                    T a = acc[i], b = r[i];                                               \
                    acc[i] = !(a >= b) ? (b != b ? b : a) : b;                            \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
    }                                                                                     \
}
COL_EXT(col_ext_f32, float)
COL_EXT(col_ext_f64, double)
"""
_col_ext_lib = c_library(_COL_EXT_SRC, ["col_ext_f32", "col_ext_f64"])
_COL_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def column_extreme(x, axes, keepdim, is_max):
    """amax (``is_max``) or amin of float ``x`` over ``axes`` by NOTE [ Column extremes ],
    or None where it does not apply (not a large C-contiguous float32/float64 host array,
    axes that are not one run of dims ending before the last, an empty slice, no compiler).
    """
    if type(x) is not np.ndarray or x.dtype not in _COL_SUFFIX or x.size < MIN_ELEMS or \
            not x.flags.c_contiguous:
        return None
    axes = tuple(sorted(axes))
    geo = _run_geometry(x.shape, axes)
    if geo is None or geo[1] == 0 or geo[2] == 1:
        return None
    lib = _col_ext_lib()
    if lib is None:
        return None
    outer, n, inner = geo
    shape = _axes_reduced(x.shape, axes, keepdim)
    out = np.empty(shape, x.dtype)
    getattr(lib, "col_ext_" + _COL_SUFFIX[x.dtype])(
        data_ptr(x), data_ptr(out), _L(outer), _L(n), _L(inner), ctypes.c_int(int(is_max)),
        ctypes.c_int(get_num_threads()))
    return out


# ------------------------------------------------------------------ logsumexp
# NOTE [ logsumexp in two sweeps ]
# NumPy's logsumexp was five passes on one core (max, ``x - m`` into a new array, exp into
# another, sum, log): an (87, 131, 87) float32 operand over dims (0, 2), 2.1 ms against
# PyTorch's 1.2 ms. ``lse_*`` reads each slice twice, the maximum then ``sum exp(x - m)``
# (the vectorising ``exp`` of NOTE [ Softmax kernels ], in the operand's precision; the sum
# in double), and writes ``log(sum) + m``. Two shapes of the reduction, so every access runs
# along contiguous memory: the reduced dims one run (``(outer, n, inner)``, ``n`` reduced:
# rows when ``inner == 1``, else ``inner`` columns together), or the kept dims one run
# (``(a, k, c)``, ``a`` and ``c`` reduced, one slice per ``k``). A NaN in a slice gives NaN;
# a slice whose maximum is +inf gives +inf and one of only -inf gives -inf, NumPy's path's
# results.
def _lse_source():
    from ember._codegen.softmax_kernels import _EXPS

    body = r"""
#define LSE(T, NAME, EXP)                                                               \
static T NAME##_fin(double s, T m, int nan)                                             \
{                                                                                       \
    if (nan || m != m) return (T)NAN;                                                   \
    if (m == (T)INFINITY || m == -(T)INFINITY) return m;                                \
    return (T)(log(s) + (double)m);                                                     \
}                                                                                       \
                                                                                        \
/* sum of exp(r[j] - m), j < n: SIMD lanes in T over blocks of 1024, the blocks in double */ \
static double NAME##_sumexp(const T* r, long n, T m)                                    \
{                                                                                       \
    double s = 0.0;                                                                     \
    for (long j0 = 0; j0 < n; j0 += 1024) {                                             \
        long j1 = j0 + 1024 < n ? j0 + 1024 : n;                                        \
        T p = 0;                                                                        \
        _Pragma("omp simd reduction(+:p)")                                              \
        for (long j = j0; j < j1; j++) p += EXP(r[j] - m);                              \
        s += (double)p;                                                                 \
    }                                                                                   \
    return s;                                                                           \
}                                                                                       \
                                                                                        \
/* (outer, n, inner) C-contiguous, reduce n: y[o, i] */                                 \
void NAME##_run(const T* x, T* y, long outer, long n, long inner, int nt)               \
{                                                                                       \
    if (inner == 1) {                                                                   \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                    \
        for (long o = 0; o < outer; o++) {                                              \
            const T* r = x + o * n;                                                     \
            T m = r[0];                                                                 \
            int nan = 0;                                                                \
            _Pragma("omp simd reduction(max:m) reduction(|:nan)")                       \
            for (long j = 0; j < n; j++) { m = r[j] > m ? r[j] : m; nan |= r[j] != r[j]; } \
            double s = 0.0;                                                             \
            if (!nan && m == m && m != (T)INFINITY && m != -(T)INFINITY) {              \
                s = NAME##_sumexp(r, n, m);                                             \
            }                                                                           \
            y[o] = NAME##_fin(s, m, nan);                                               \
        }                                                                               \
        return;                                                                         \
    }                                                                                   \
    _Pragma("omp parallel num_threads(nt)")                                             \
    {                                                                                   \
        T* m = (T*)malloc(sizeof(T) * inner);                                           \
        double* s = (double*)malloc(sizeof(double) * inner);                            \
        int* q = (int*)malloc(sizeof(int) * inner);                                     \
        _Pragma("omp for schedule(static)")                                             \
        for (long o = 0; o < outer; o++) {                                              \
            const T* xo = x + o * n * inner;                                            \
            for (long i = 0; i < inner; i++) { m[i] = xo[i]; s[i] = 0.0; q[i] = 0; }    \
            for (long j = 0; j < n; j++)                                                \
                for (long i = 0; i < inner; i++) {                                      \
                    T a = xo[j * inner + i];                                            \
                    m[i] = a > m[i] ? a : m[i];                                         \
                    q[i] |= a != a;                                                     \
                }                                                                       \
            for (long i = 0; i < inner; i++)                                            \
                if (m[i] == (T)INFINITY || m[i] == -(T)INFINITY) q[i] |= 2;             \
            for (long j = 0; j < n; j++)                                                \
                for (long i = 0; i < inner; i++)                                        \
                    s[i] += (double)EXP(q[i] ? (T)0 : xo[j * inner + i] - m[i]);        \
            for (long i = 0; i < inner; i++)                                            \
                y[o * inner + i] = NAME##_fin(s[i], m[i], q[i] & 1);                    \
        }                                                                               \
        free(m); free(s); free(q);                                                      \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* (a, k, c) C-contiguous, reduce a and c: y[k] */                                      \
void NAME##_mid(const T* x, T* y, long a, long k, long c, int nt)                       \
{                                                                                       \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                        \
    for (long kk = 0; kk < k; kk++) {                                                   \
        T m = x[kk * c];                                                                \
        int nan = 0;                                                                    \
        for (long aa = 0; aa < a; aa++) {                                               \
            const T* r = x + (aa * k + kk) * c;                                         \
            T mm = r[0];                                                                \
            int q = 0;                                                                  \
            _Pragma("omp simd reduction(max:mm) reduction(|:q)")                        \
            for (long j = 0; j < c; j++) { mm = r[j] > mm ? r[j] : mm; q |= r[j] != r[j]; } \
            m = mm > m ? mm : m;                                                        \
            nan |= q;                                                                   \
        }                                                                               \
        double s = 0.0;                                                                 \
        if (!nan && m == m && m != (T)INFINITY && m != -(T)INFINITY) {                  \
            for (long aa = 0; aa < a; aa++) {                                           \
                const T* r = x + (aa * k + kk) * c;                                     \
                s += NAME##_sumexp(r, c, m);                                            \
            }                                                                           \
        }                                                                               \
        y[kk] = NAME##_fin(s, m, nan);                                                  \
    }                                                                                   \
}

LSE(float, lse_f32, sm_exp_f32)
LSE(double, lse_f64, sm_exp_f64)
"""
    return _EXPS + body


_lse_lib = c_library(_lse_source(), ["lse_f32_run", "lse_f32_mid", "lse_f64_run",
                                     "lse_f64_mid"])


def logsumexp(x, axes, keepdim):
    """``log(sum(exp(x)))`` over ``axes`` of float32/float64 ``x`` in two sweeps (NOTE
    [ logsumexp in two sweeps ]), or None where the kernel does not apply (a small or
    non-contiguous operand, reduced and kept dims both split in several runs, no compiler).

    Args:
        x: a host NumPy array.
        axes: the reduced dims, a tuple of non-negative ints.
        keepdim: keep the reduced dims with size 1.

    Returns:
        An array of ``x``'s dtype, or None.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((4, 10000), np.float32)
        >>> r = logsumexp(x, (1,), False)
        >>> r is None or bool(np.allclose(r, np.log(10000.0)))
        True
    """
    if (type(x) is not np.ndarray or x.dtype not in _SUFFIX or x.size < MIN_ELEMS
            or not x.flags.c_contiguous or not axes):
        return None
    axes = tuple(sorted(set(axes)))
    kept = tuple(d for d in range(x.ndim) if d not in axes)
    sfx = _SUFFIX[x.dtype]
    geo = _run_geometry(x.shape, axes)
    mid = None if geo is not None or not kept else _run_geometry(x.shape, kept)
    if geo is None and mid is None:
        return None
    lib = _lse_lib()
    if lib is None:
        return None
    shape = _axes_reduced(x.shape, axes, keepdim)
    y = np.empty(shape, x.dtype)
    nt = ctypes.c_int(get_num_threads())
    if geo is not None:
        outer, n, inner = geo
        getattr(lib, "lse_" + sfx + "_run")(data_ptr(x), data_ptr(y), _L(outer),
                                            _L(n), _L(inner), nt)
    else:
        a, k, c = mid
        getattr(lib, "lse_" + sfx + "_mid")(data_ptr(x), data_ptr(y), _L(a), _L(k),
                                            _L(c), nt)
    return y


# NOTE [ Threaded dot product ]: NumPy's 1-d ``dot`` is OpenBLAS's ``sdot``/``ddot`` on one
# core (1e6 float32: 84 us here, PyTorch 47). Here fixed blocks of 16384 elements are summed
# on the kernel threads, each with 64 (float32) or 32 (float64) independent partial sums in
# the operands' dtype (four vector chains: one is bound by the adds' latency; products and
# sums in double were bound by the conversions, 165 us on one thread), the partial sums of a
# block and then the blocks added in double, in order: the result does not depend on the
# thread count, and its error is that of a 16384-term sum, not of a 1e6-term one.
_DOT_SRC = r"""
#define DOT(SFX, T, NACC)                                                                 \
double dot_##SFX(const T* restrict a, const T* restrict b, long n, double* part, int nt) \
{                                                                                         \
    const long blk = 16384, nb = (n + blk - 1) / blk;                                     \
    _Pragma("omp parallel for num_threads(nt) schedule(static) if(nt > 1)")              \
    for (long k = 0; k < nb; k++) {                                                       \
        long lo = k * blk, hi = lo + blk < n ? lo + blk : n;                              \
        T s[NACC] = {0};                                                                  \
        long i = lo;                                                                      \
        for (; i + NACC <= hi; i += NACC)                                                 \
            for (int j = 0; j < NACC; j++) s[j] += a[i + j] * b[i + j];                   \
        for (; i < hi; i++) s[0] += a[i] * b[i];                                          \
        double t = 0;                                                                     \
        for (int j = 0; j < NACC; j++) t += (double)s[j];                                 \
        part[k] = t;                                                                      \
    }                                                                                     \
    double t = 0;                                                                         \
    for (long k = 0; k < nb; k++) t += part[k];                                           \
    return t;                                                                             \
}
DOT(f32, float, 64)
DOT(f64, double, 32)
"""
_dot_lib = c_library(_DOT_SRC, ())
DOT_MIN = 1 << 17


def dot(a, b):
    """The dot product of two 1-d host arrays of one float dtype on the kernel threads (NOTE
    [ Threaded dot product ]), as a 0-d array of that dtype, or None where it does not apply
    (another dtype or layout, fewer than ``DOT_MIN`` elements, no compiler).

    Args:
        a, b: 1-d float32/float64 arrays of one length.

    Returns:
        A 0-d array, or None.

    Example:
        >>> import numpy as np
        >>> x = np.ones(DOT_MIN, np.float32)
        >>> r = dot(x, x)
        >>> r is None or float(r) == DOT_MIN
        True
    """
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 1 or \
            a.shape != b.shape or a.size < DOT_MIN or a.dtype != b.dtype or \
            a.dtype.name not in ("float32", "float64") or not a.flags.c_contiguous or \
            not b.flags.c_contiguous:
        return None
    lib = _dot_lib()
    if lib is None:
        return None
    c = ctypes
    sfx = "f32" if a.dtype.itemsize == 4 else "f64"
    f = getattr(lib, "dot_" + sfx)
    f.restype = c.c_double
    part = np.empty(-(-a.size // 16384), np.float64)
    r = f(data_ptr(a), data_ptr(b), c.c_long(a.size), data_ptr(part),
          c.c_int(get_num_threads()))
    return np.asarray(r, a.dtype)
