"""Hand-written threaded C kernels for softmax and log_softmax along one dimension.

NOTE [ Softmax kernels ]
The generated softmax kernel calls glibc's scalar ``exp`` for float64 (a call per element,
~7x the float32 time: ``softmax(x, dim, dtype=torch.float64)`` on float32 data was 4x
PyTorch's). Here each slice along ``dim`` takes three sweeps over the
operand, all in cache for rows up to a few hundred KiB: the maximum; ``e = exp(x - max)``
stored and summed (log_softmax: only summed); then the scale ``e * (1 / sum)`` (log_softmax:
``(x - max) - log(sum)``). ``exp`` is a branch-free polynomial that vectorises: ``n = round(x /
ln 2)``, ``r = x - n ln 2`` in two parts (Cody-Waite), ``e^r`` by its Taylor series (degree
13 in double, 7 in single precision, both below half an ulp of truncation error on |r| <=
ln(2)/2), and ``2^n`` applied in two halves so underflow to subnormals and 0 is right.
Arguments are clamped to [-746, 0] (double) / [-104, 0] (float): ``x - max`` is never
positive, and NaN propagates (a NaN anywhere in a slice makes the slice NaN, as PyTorch's
vectorised max does). Along rows, sums are taken in blocks of 1024 in the operand's dtype
(SIMD lanes) and the block sums in double; along columns, in double.

Cross-entropy over class indices (``cross_entropy``) is the row softmax with the row's
maximum and sum kept: ``nll = log(sum) - (x[target] - max)`` (the generated kernel's
formula), the softmax saved for the backward; 1000 x 1000 float32 on one thread 768 ->
643 us, two threads ~340 us (PyTorch ~310).

Along the last dimension the slices are rows; along another, ``inner`` independent columns
are swept together (the operand viewed as (outer, n, inner)), so every access is
contiguous. Threads split the rows, or the (outer, column block) pairs.

Functions return None where they do not apply (not host float32/float64 NumPy data, a
small or empty operand, no compiler, ``EMBER_JIT_DISABLE``) and the
caller runs the generated kernel or NumPy.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_EXPS = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* steps fused where the CPU has FMA (fewer instructions; bit for bit the unfused results
   without it) */
#ifdef __FMA__
#define SM_FMA(a, b, c) fma(a, b, c)
#define SM_FMAF(a, b, c) fmaf(a, b, c)
#else
#define SM_FMA(a, b, c) ((a) * (b) + (c))
#define SM_FMAF(a, b, c) ((a) * (b) + (c))
#endif

static inline double sm_exp_f64(double x)
{
    x = x < -746.0 ? -746.0 : x;
    double n = SM_FMA(x, 1.4426950408889634, 6755399441055744.0)  /* 1.5 * 2^52: round */
               - 6755399441055744.0;
    double r = SM_FMA(n, -0.6931471803691238, x);
    r = SM_FMA(n, -1.9082149292705877e-10, r);
    double p = 1.6059043836821613e-10;            /* 1/13! */
    p = SM_FMA(p, r, 2.08767569878681e-09);       /* 1/12! */
    p = SM_FMA(p, r, 2.505210838544172e-08);      /* 1/11! */
    p = SM_FMA(p, r, 2.755731922398589e-07);      /* 1/10! */
    p = SM_FMA(p, r, 2.7557319223985893e-06);     /* 1/9! */
    p = SM_FMA(p, r, 2.48015873015873e-05);       /* 1/8! */
    p = SM_FMA(p, r, 0.0001984126984126984);      /* 1/7! */
    p = SM_FMA(p, r, 0.001388888888888889);       /* 1/6! */
    p = SM_FMA(p, r, 0.008333333333333333);       /* 1/5! */
    p = SM_FMA(p, r, 0.041666666666666664);       /* 1/4! */
    p = SM_FMA(p, r, 0.16666666666666666);        /* 1/3! */
    p = SM_FMA(p, r, 0.5);
    p = SM_FMA(p, r * r, r) + 1.0;
    int64_t ni = (int64_t)n;
    int64_t n1 = ni >> 1, n2 = ni - n1;
    union { int64_t i; double d; } s1, s2;
    s1.i = (n1 + 1023) << 52;
    s2.i = (n2 + 1023) << 52;
    return p * s1.d * s2.d;
}

static inline float sm_exp_f32(float x)
{
    x = x < -104.0f ? -104.0f : x;
    float n = SM_FMAF(x, 1.44269504088896341f, 12582912.0f)  /* 1.5 * 2^23: round */
              - 12582912.0f;
    float r = SM_FMAF(n, -0.693359375f, x);
    r = SM_FMAF(n, 2.12194440e-4f, r);
    float p = 1.98412698e-4f;                     /* 1/7! */
    p = SM_FMAF(p, r, 1.38888889e-3f);            /* 1/6! */
    p = SM_FMAF(p, r, 8.33333333e-3f);            /* 1/5! */
    p = SM_FMAF(p, r, 4.16666667e-2f);            /* 1/4! */
    p = SM_FMAF(p, r, 1.66666667e-1f);            /* 1/3! */
    p = SM_FMAF(p, r, 0.5f);
    p = SM_FMAF(p, r * r, r) + 1.0f;
    int32_t ni = (int32_t)n;
    int32_t n1 = ni >> 1, n2 = ni - n1;
    union { int32_t i; float f; } s1, s2;
    s1.i = (n1 + 127) << 23;
    s2.i = (n2 + 127) << 23;
    return p * s1.f * s2.f;
}
"""

# $I: the input type, $O: the output (and compute) type, $E: the exp for $O, $S: the name
_TEMPLATE = r"""
/* one row of n contiguous elements; its maximum and sum of exponentials into *mo, *so */
static void $S_row_ms(const $I* x, $O* y, long n, int lg, $O* mo, double* so)
{
    $O m = -INFINITY;
    int nan = 0;
    double s = 0;
    #pragma omp simd reduction(max:m) reduction(|:nan)
    for (long j = 0; j < n; j++) {
        $O v = ($O)x[j];
        m = v > m ? v : m;
        nan |= v != v;
    }
    if (nan) m = NAN;
    /* blocks of 1024 summed in $O lanes (vectorised), the block sums in double */
    for (long j0 = 0; j0 < n; j0 += 1024) {
        long j1 = j0 + 1024 < n ? j0 + 1024 : n;
        $O l = 0;
        if (lg) {
            #pragma omp simd reduction(+:l)
            for (long j = j0; j < j1; j++) l += $E(($O)x[j] - m);
        } else {
            #pragma omp simd reduction(+:l)
            for (long j = j0; j < j1; j++) {
                $O e = $E(($O)x[j] - m);
                y[j] = e;
                l += e;
            }
        }
        s += l;
    }
    if (lg) {
        $O c = ($O)log(s);
        #pragma omp simd
        for (long j = 0; j < n; j++) y[j] = (($O)x[j] - m) - c;
    } else {
        $O r = ($O)(1.0 / s);
        #pragma omp simd
        for (long j = 0; j < n; j++) y[j] *= r;
    }
    *mo = m;
    *so = s;
}

static void $S_row(const $I* x, $O* y, long n, int lg)
{
    $O m;
    double s;
    $S_row_ms(x, y, n, lg, &m, &s);
}

/* cross-entropy over class indices (NOTE [ Softmax kernels ]): prob (M, n) = the rows'
   softmax, nll[o] = log(sum) - (x[o, t[o]] - max), the generated kernel's formula */
int $S_ce(const $I* x, const long* t, $O* prob, $O* nll, long M, long n, int nt)
{
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long o = 0; o < M; o++) {
        $O m;
        double s;
        $S_row_ms(x + o * n, prob + o * n, n, 0, &m, &s);
        nll[o] = ($O)log(s) - (($O)x[o * n + t[o]] - m);
    }
    return 0;
}

/* columns [i0, i1) of one (n, inner) slice; mx, acc and tb: scratch of i1 - i0 (tb: rounded
   up to 16) */
static void $S_cols(const $I* restrict x, $O* restrict y, long n, long inner, long i0,
                    long i1, int lg, $O* restrict mx, double* restrict acc, $O* restrict tb)
{
    long w = i1 - i0;
    for (long i = 0; i < w; i++) {
        mx[i] = -INFINITY;
        acc[i] = 0;
    }
    for (long j = 0; j < n; j++) {
        const $I* xr = x + j * inner + i0;
        #pragma omp simd
        for (long i = 0; i < w; i++) {
            $O v = ($O)xr[i];
            mx[i] = (v > mx[i] || v != v) ? v : mx[i];
        }
    }
    /* exp over whole vectors of a scratch row (its tail zeros): a column block's width is
       rarely a multiple of the vector length, and the polynomial's scalar epilogue had
       cost as much as the vector body on 87 columns */
    long wp = (w + 15) / 16 * 16;
    for (long i = w; i < wp; i++) tb[i] = 0;
    for (long j = 0; j < n; j++) {
        const $I* xr = x + j * inner + i0;
        $O* yr = y + j * inner + i0;
        #pragma omp simd
        for (long i = 0; i < w; i++) tb[i] = ($O)xr[i] - mx[i];
        #pragma omp simd
        for (long i = 0; i < wp; i++) tb[i] = $E(tb[i]);
        if (!lg) {
            #pragma omp simd
            for (long i = 0; i < w; i++) yr[i] = tb[i];
        }
        #pragma omp simd
        for (long i = 0; i < w; i++) acc[i] += tb[i];
    }
    if (lg) {
        for (long i = 0; i < w; i++) acc[i] = log(acc[i]);
        for (long j = 0; j < n; j++) {
            const $I* xr = x + j * inner + i0;
            $O* yr = y + j * inner + i0;
            #pragma omp simd
            for (long i = 0; i < w; i++) yr[i] = (($O)xr[i] - mx[i]) - ($O)acc[i];
        }
    } else {
        for (long i = 0; i < w; i++) acc[i] = 1.0 / acc[i];
        for (long j = 0; j < n; j++) {
            $O* yr = y + j * inner + i0;
            #pragma omp simd
            for (long i = 0; i < w; i++) yr[i] *= ($O)acc[i];
        }
    }
}

int $S(const $I* x, $O* y, long outer, long n, long inner, int lg, int nt)
{
    if (inner == 1) {
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long o = 0; o < outer; o++) $S_row(x + o * n, y + o * n, n, lg);
        return 0;
    }
    const long B = 512, nb = (inner + B - 1) / B;
    int bad = 0;
    #pragma omp parallel num_threads(nt)
    {
        $O* mx = malloc(sizeof($O) * B);
        double* acc = malloc(sizeof(double) * B);
        $O* tb = malloc(sizeof($O) * B);
        if (!mx || !acc || !tb) {
            #pragma omp atomic write
            bad = 1;
        } else {
            #pragma omp for schedule(static)
            for (long t = 0; t < outer * nb; t++) {
                long o = t / nb, i0 = (t % nb) * B, i1 = i0 + B < inner ? i0 + B : inner;
                $S_cols(x + o * n * inner, y + o * n * inner, n, inner, i0, i1, lg, mx, acc,
                        tb);
            }
        }
        free(mx);
        free(acc);
        free(tb);
    }
    return bad;
}/* backward of one row: softmax y * (g - sum(g y)); log_softmax g - exp(y) sum(g) */
static void $S_brow(const $O* g, const $O* y, $O* out, long n, int lg)
{
    double s = 0;
    for (long j0 = 0; j0 < n; j0 += 1024) {
        long j1 = j0 + 1024 < n ? j0 + 1024 : n;
        $O l = 0;
        if (lg) {
            #pragma omp simd reduction(+:l)
            for (long j = j0; j < j1; j++) l += g[j];
        } else {
            #pragma omp simd reduction(+:l)
            for (long j = j0; j < j1; j++) l += g[j] * y[j];
        }
        s += l;
    }
    $O c = ($O)s;
    if (lg) {
        #pragma omp simd
        for (long j = 0; j < n; j++) out[j] = g[j] - $E(y[j]) * c;
    } else {
        #pragma omp simd
        for (long j = 0; j < n; j++) out[j] = y[j] * (g[j] - c);
    }
}

static void $S_bcols(const $O* restrict g, const $O* restrict y, $O* restrict out, long n,
                     long inner, long i0, long i1, int lg, double* restrict acc,
                     $O* restrict tb)
{
    long w = i1 - i0, wp = (w + 15) / 16 * 16;
    for (long i = w; i < wp; i++) tb[i] = 0;
    for (long i = 0; i < w; i++) acc[i] = 0;
    for (long j = 0; j < n; j++) {
        const $O* gr = g + j * inner + i0;
        const $O* yr = y + j * inner + i0;
        if (lg) {
            #pragma omp simd
            for (long i = 0; i < w; i++) acc[i] += gr[i];
        } else {
            #pragma omp simd
            for (long i = 0; i < w; i++) acc[i] += gr[i] * yr[i];
        }
    }
    for (long j = 0; j < n; j++) {
        const $O* gr = g + j * inner + i0;
        const $O* yr = y + j * inner + i0;
        $O* orow = out + j * inner + i0;
        if (lg) {  /* exp over whole vectors of tb, as in $S_cols */
            #pragma omp simd
            for (long i = 0; i < w; i++) tb[i] = yr[i];
            #pragma omp simd
            for (long i = 0; i < wp; i++) tb[i] = $E(tb[i]);
            #pragma omp simd
            for (long i = 0; i < w; i++) orow[i] = gr[i] - tb[i] * ($O)acc[i];
        } else {
            #pragma omp simd
            for (long i = 0; i < w; i++) orow[i] = yr[i] * (gr[i] - ($O)acc[i]);
        }
    }
}

int $S_bwd(const $O* g, const $O* y, $O* out, long outer, long n, long inner, int lg, int nt)
{
    if (inner == 1) {
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (long o = 0; o < outer; o++) $S_brow(g + o * n, y + o * n, out + o * n, n, lg);
        return 0;
    }
    const long B = 512, nb = (inner + B - 1) / B;
    int bad = 0;
    #pragma omp parallel num_threads(nt)
    {
        double* acc = malloc(sizeof(double) * B);
        $O* tb = malloc(sizeof($O) * B);
        if (!acc || !tb) {
            #pragma omp atomic write
            bad = 1;
        } else {
            #pragma omp for schedule(static)
            for (long t = 0; t < outer * nb; t++) {
                long o = t / nb, i0 = (t % nb) * B, i1 = i0 + B < inner ? i0 + B : inner;
                long off = o * n * inner;
                $S_bcols(g + off, y + off, out + off, n, inner, i0, i1, lg, acc, tb);
            }
        }
        free(acc);
        free(tb);
    }
    return bad;
}
"""

_PAIRS = {(np.dtype(np.float32), np.dtype(np.float32)): ("float", "float", "f32_f32"),
          (np.dtype(np.float64), np.dtype(np.float64)): ("double", "double", "f64_f64")}


def _source():
    parts = [_EXPS]
    for i, o, s in _PAIRS.values():
        parts.append(_TEMPLATE.replace("$I", i).replace("$O", o).replace("$S", "softmax_" + s)
                     .replace("$E", "sm_exp_f64" if o == "double" else "sm_exp_f32"))
    return "".join(parts)


_L = ctypes.c_long
_I = ctypes.c_int
# Every size: with data pointers read from the array objects (kernel.data_ptr) this call
# costs ~3 us against the generated kernel's ~5 (1e3 float32 softmax: 6.1 vs 7.8 us); one
# thread below _SERIAL_BELOW (waking the others costs more than the work).
_MIN_ELEMS = 1
_SERIAL_BELOW = 65536

_lib = c_library(_source(), [])


def _geometry(x, dim):
    dim %= x.ndim
    outer = 1
    for s in x.shape[:dim]:
        outer *= s
    return outer, x.shape[dim], x.size // (outer * x.shape[dim])


def softmax_backward(g, y, dim, log=False):
    """The gradient of softmax (``log``: log_softmax) from the output gradient ``g`` and the
    output ``y`` along ``dim`` (softmax ``y * (g - sum(g * y))``, log_softmax
    ``g - exp(y) * sum(g)``, sums in double), or None where the kernel does not apply."""
    if (type(g) is not np.ndarray or type(y) is not np.ndarray or y.ndim == 0
            or y.size < _MIN_ELEMS or g.dtype != y.dtype or g.shape != y.shape):
        return None
    pair = _PAIRS.get((y.dtype, y.dtype))
    if pair is None:
        return None
    lib = _lib()
    if lib is None:
        return None
    outer, n, inner = _geometry(y, dim)
    g = np.ascontiguousarray(g)
    y = np.ascontiguousarray(y)
    out = np.empty(y.shape, y.dtype)
    nt = 1 if y.size < _SERIAL_BELOW else get_num_threads()
    if getattr(lib, "softmax_" + pair[2] + "_bwd")(
            data_ptr(g), data_ptr(y), data_ptr(out), _L(outer), _L(n),
            _L(inner), _I(1 if log else 0), _I(nt)):
        raise MemoryError("softmax backward: out of memory for the kernel's column scratch")
    return out


def softmax(x, dim, log=False):
    """softmax (``log``: log_softmax) of ``x`` along ``dim``, or None where the kernel does
    not apply."""
    if type(x) is not np.ndarray or x.ndim == 0 or x.size < _MIN_ELEMS:
        return None
    od = x.dtype
    pair = _PAIRS.get((od, od))
    if pair is None:
        return None
    lib = _lib()
    if lib is None:
        return None
    outer, n, inner = _geometry(x, dim)
    x = np.ascontiguousarray(x)
    y = np.empty(x.shape, od)
    nt = 1 if x.size < _SERIAL_BELOW else get_num_threads()
    if getattr(lib, "softmax_" + pair[2])(data_ptr(x), data_ptr(y), _L(outer),
                                         _L(n), _L(inner), _I(1 if log else 0), _I(nt)):
        raise MemoryError("softmax(): out of memory for the kernel's column scratch")
    return y


def cross_entropy(x, tc):
    """``(nll, softmax)`` of (M, C) logits ``x`` and (M,) int64 class indices ``tc``
    (checked and clamped by the caller): per row ``log(sum(exp(x - max))) - (x[tc] -
    max)`` and the row softmax, or None where the kernel does not apply."""
    if (type(x) is not np.ndarray or x.ndim != 2 or x.size == 0 or type(tc) is not np.ndarray
            or tc.shape != x.shape[:1]):
        return None
    pair = _PAIRS.get((x.dtype, x.dtype))
    if pair is None:
        return None
    lib = _lib()
    if lib is None:
        return None
    x = np.ascontiguousarray(x)
    tc = np.ascontiguousarray(tc, dtype=np.int64)
    prob = np.empty(x.shape, x.dtype)
    nll = np.empty(x.shape[0], x.dtype)
    nt = 1 if x.size < _SERIAL_BELOW else get_num_threads()
    getattr(lib, "softmax_" + pair[2] + "_ce")(data_ptr(x), data_ptr(tc), data_ptr(prob),
                                               data_ptr(nll), _L(x.shape[0]), _L(x.shape[1]),
                                               _I(nt))
    return nll, prob
