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

from ember._codegen.kernel import c_library, get_num_threads

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
    for (long j = 0; j < n; j++) {
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
    if keepdim:
        shape = tuple(1 if d in axes else s for d, s in enumerate(x.shape))
    else:
        shape = tuple(s for d, s in enumerate(x.shape) if d not in axes)
    out = np.empty(shape, _F32)
    scale = 1.0 / n if mean else 1.0
    lib.sum_f32(_P(x.ctypes.data), _P(out.ctypes.data), _L(outer), _L(n), _L(inner),
                ctypes.c_double(scale), ctypes.c_int(get_num_threads()))
    return out


def scan(x, dim, prod=False, reverse=False):
    """cumsum (``prod``: cumprod) of float ``x`` along ``dim`` in its own dtype, or None;
    ``reverse`` scans from the end (``flip(cumsum(flip(x)))``, cumsum's backward)."""
    if type(x) is not np.ndarray or x.dtype not in _SUFFIX or x.size < MIN_ELEMS:
        return None
    lib = _lib()
    if lib is None:
        return None
    x = np.ascontiguousarray(x)
    outer, n, inner = _run_geometry(x.shape, (dim,))
    y = np.empty(x.shape, x.dtype)
    name = ("cumprod_" if prod else "cumsum_") + _SUFFIX[x.dtype]
    getattr(lib, name)(_P(x.ctypes.data), _P(y.ctypes.data), _L(outer), _L(n), _L(inner),
                       ctypes.c_int(1 if reverse else 0), ctypes.c_int(get_num_threads()))
    return y
