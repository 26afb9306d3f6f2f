"""Hand-written C kernels for convolution: depthwise convolution (forward, input gradient,
weight gradient) and the channels-last im2col, built and cached like the other
hand-written libraries (``kernel.c_library``).

NOTE [ Depthwise convolution kernels ]
A depthwise convolution (groups == channels, one filter per channel) is K multiply-adds per
output value. The NumPy path (NOTE [ Depthwise convolution ] in ``_ops/conv.py``) makes
them K full passes over the tensor with a temporary each, single threaded: at 8x64x44x44
float32 with a 3x3 kernel it took 5.8 ms where PyTorch's direct kernel takes 0.3 ms. Here
each (sample, channel) plane is one task of an OpenMP loop.

* Row loops over the output columns (one per kernel row and column, bounds worked out once
  per call) are mostly vector prologue and epilogue on 44-wide rows (~26 cycles per row
  segment measured), so with stride 1 the plane is first copied into a zero-bordered
  buffer of width ``Wp = OW + (KW-1)*dw``: each kernel row is then one long unit-stride
  pass over the flattened plane (the kernel-column loop unrolled for KW in 1, 2, 3, 5, 7),
  and the valid columns are copied out. 1 thread, the shape above: 0.78 ms; a 3x3 kernel
  takes its nine taps in one pass over the padded plane (the same adds in the same order,
  one write instead of three read-modify-write passes): 0.95 -> 0.61 ms (PyTorch 0.54).
* forward: ``y = b + sum_{kh, kw} x[oh*sh - ph + kh*dh, ow*sw - pw + kw*dw] w[kh, kw]``,
  in kernel order. A weight that is not finite sends its plane to the checked row loop
  (the padded buffer would add 0 * inf = nan where PyTorch's float32 kernel skips the tap).
* input gradient: with stride 1, the forward of gy with the kernel flipped and padding
  ``d*(k-1) - p`` (no scatter); with larger strides the output-gradient rows are scattered
  (added) into the rows they read, each plane owned by one thread.
* weight gradient: one task per channel. With stride 1, x is padded and gy widened to
  ``Wp`` with zero columns, so each tap is one long dot product (``omp simd`` reduction in
  the float type) whose extra terms are exact zeros -- unless the plane holds inf/nan
  (0 * inf), which takes the per-row sums instead; the partial sums add up in double.

NOTE [ Channels-last packing kernel ]
``cl_pack`` fills the channels-last ``cols (N, *out, *kernel, C)`` of NOTE [ Channels-last
windows ] (``_ops/conv.py``) with samples split over the threads: each sample is transposed
once into a zero-bordered (Hp, Wp, C) buffer of its thread, then every window row is one
``memcpy`` of ``KW*C`` values. On one thread it costs what NumPy's window-view copy costs
(both move the same bytes); it exists for the second thread, which NumPy's copy never uses.
``im2col`` and ``col2im`` do the same for the (C, N, *S) layout of NOTE [ Batch-blocked
convolution ]: the packing split over (channel, tap) slices, each row a memcpy between
zeroed ends (no padded copy of the input; 8x32x64x64 3x3: 2.2 -> 1.3 ms on one thread),
and the transposed convolution's scatter-add split over output planes, written straight
into the cropped NCHW output.

``cv_fused``, ``ct_fused`` and ``cw_fused`` are the strided convolution passes of NOTE
[ Fused strided convolution kernels ] (``_ops/conv.py``), each task calling the CBLAS gemm
whose address it is given on its own thread.

1-d convolutions run as one-row 2-d ones. Each function returns ``None`` where it does not
apply (not host NumPy, not float32/float64, more than 2 spatial dims, no compiler,
``EMBER_JIT_DISABLE``), and the caller runs its NumPy code.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_COMMON = r"""
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#ifdef __AVX__
#include <immintrin.h>

/* d[j*ldd + i] = s[i*lds + j] for an 8x8 float block, in registers */
static inline void tr8_ps(const float* s, long lds, float* d, long ldd)
{
    __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lds);
    __m256 r2 = _mm256_loadu_ps(s + 2 * lds), r3 = _mm256_loadu_ps(s + 3 * lds);
    __m256 r4 = _mm256_loadu_ps(s + 4 * lds), r5 = _mm256_loadu_ps(s + 5 * lds);
    __m256 r6 = _mm256_loadu_ps(s + 6 * lds), r7 = _mm256_loadu_ps(s + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* the same for a 4x4 double block */
static inline void tr4_pd(const double* s, long lds, double* d, long ldd)
{
    __m256d r0 = _mm256_loadu_pd(s), r1 = _mm256_loadu_pd(s + lds);
    __m256d r2 = _mm256_loadu_pd(s + 2 * lds), r3 = _mm256_loadu_pd(s + 3 * lds);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(d + ldd, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(d + 2 * ldd, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(d + 3 * ldd, _mm256_permute2f128_pd(t1, t3, 0x31));
}
#endif

/* per kernel column kw, the output columns [lo[kw], hi[kw]) whose input column
   ow*s - p + kw*d lies in [0, W) (worked out once per call, not per row: the divisions
   cost more than a short row's multiply-adds) */
static void dw_cols(long W, long OW, long KW, long s, long p, long d, long* lo, long* hi)
{
    for (long kw = 0; kw < KW; kw++) {
        long off = kw * d - p;  /* input column of output column 0 */
        long a = off >= 0 ? 0 : (-off + s - 1) / s;
        long b = (W - 1 - off) >= 0 ? (W - 1 - off) / s + 1 : 0;
        if (b > OW) b = OW;
        if (a > b) a = b;
        lo[kw] = a; hi[kw] = b;
    }
}
"""

# One copy per float type: T is the type (a macro), SFX the name suffix.
_TYPED = r"""
/* the plane x (H, W) into buf (Hp, Wp) at row offset ph, column offset pw (either may be
   negative: a crop), zeros elsewhere, then `extra` more zeros */
static void dw_pad_SFX(const T* restrict x, long H, long W, T* restrict buf, long Hp,
                       long Wp, long ph, long pw, long extra)
{
    long c0 = pw > 0 ? pw : 0, c1 = pw + W < Wp ? pw + W : Wp;
    if (c1 < c0) c1 = c0;
    for (long r = 0; r < Hp; r++) {
        T* br = buf + r * Wp;
        long ih = r - ph;
        if (ih < 0 || ih >= H) { memset(br, 0, sizeof(T) * Wp); continue; }
        const T* xr = x + ih * W - pw;
        for (long c = 0; c < c0; c++) br[c] = 0;
        for (long c = c0; c < c1; c++) br[c] = xr[c];
        for (long c = c1; c < Wp; c++) br[c] = 0;
    }
    memset(buf + Hp * Wp, 0, sizeof(T) * extra);
}

/* whether every value of a[0:n] is finite (a sum of a * 0 stays 0 exactly then) */
static int dw_finite_SFX(const T* a, long n)
{
    T z = 0;
    #pragma omp simd reduction(+:z)
    for (long i = 0; i < n; i++) z += a[i] * (T)0;
    return z == 0;
}

/* y[i] += sum_kw xs[i + kw*d] w[kw] for i in [0, n); inlined with a literal KW, so the tap
   loop unrolls and the loop over i vectorises with KW shifted loads */
static inline __attribute__((always_inline)) void dw_taps_SFX(
    T* restrict y, const T* restrict xs, const T* restrict wk, long n, long KW, long d)
{
    for (long i = 0; i < n; i++) {
        T acc = y[i];
        for (long kw = 0; kw < KW; kw++) acc += xs[i + kw * d] * wk[kw];
        y[i] = acc;
    }
}

static void dw_taps_any_SFX(T* restrict y, const T* restrict xs, const T* restrict wk,
                            long n, long KW, long d)
{
    switch (KW) {
    case 1: dw_taps_SFX(y, xs, wk, n, 1, d); break;
    case 2: dw_taps_SFX(y, xs, wk, n, 2, d); break;
    case 3: dw_taps_SFX(y, xs, wk, n, 3, d); break;
    case 5: dw_taps_SFX(y, xs, wk, n, 5, d); break;
    case 7: dw_taps_SFX(y, xs, wk, n, 7, d); break;
    default: dw_taps_SFX(y, xs, wk, n, KW, d);
    }
}

/* One plane of the forward, any stride, bounds checked per tap (the general path). */
static void dw_plane_rows_SFX(const T* restrict xp, const T* restrict wp, T b0,
                              T* restrict yp, long H, long W, long OH, long OW, long KH,
                              long KW, long sh, long sw, long ph, long pw, long dh, long dw,
                              const long* clo, const long* chi)
{
    for (long oh = 0; oh < OH; oh++) {
        T* yr = yp + oh * OW;
        for (long ow = 0; ow < OW; ow++) yr[ow] = b0;
        for (long kh = 0; kh < KH; kh++) {
            long ih = oh * sh - ph + kh * dh;
            if (ih < 0 || ih >= H) continue;
            const T* xr = xp + ih * W;
            for (long kw = 0; kw < KW; kw++) {
                T wv = wp[kh * KW + kw];
                const T* xs = xr + kw * dw - pw;
                for (long ow = clo[kw]; ow < chi[kw]; ow++) yr[ow] += xs[ow * sw] * wv;
            }
        }
    }
}

/* Forward: y (N, C, OH, OW) = the depthwise convolution of x (N, C, H, W) with w (C, KH,
   KW) plus bias (or none); each output is the bias plus the in-image taps in kernel
   order. Stride 1 with finite weights: the plane is copied into a zero-padded buffer of
   width Wp = OW + (KW-1)*dw, so each kernel row is one long unit-stride pass over the
   flattened plane (a 44-wide row's vector loop is mostly prologue and epilogue), and the
   valid columns are copied out. */
void dw_fwd_SFX(const T* restrict x, const T* restrict w, const T* restrict bias,
                T* restrict y, long N, long C, long H, long W, long OH, long OW, long KH,
                long KW, long sh, long sw, long ph, long pw, long dh, long dw, int nt)
{
    long clo[KW], chi[KW];
    dw_cols(W, OW, KW, sw, pw, dw, clo, chi);
    long Wp = OW + (KW - 1) * dw, Hp = OH + (KH - 1) * dh, extra = (KW - 1) * dw;
    int unit = sh == 1 && sw == 1;
    #pragma omp parallel num_threads(nt)
    {
        T* xb = unit ? malloc(sizeof(T) * (Hp * Wp + extra + OH * Wp)) : NULL;
        T* yb = xb ? xb + Hp * Wp + extra : NULL;
        #pragma omp for schedule(static)
        for (long pl = 0; pl < N * C; pl++) {
            long c = pl % C;
            const T* xp = x + pl * H * W;
            const T* wp = w + c * KH * KW;
            T b0 = bias ? bias[c] : (T)0;
            T* yp = y + pl * OH * OW;
            if (!xb || !dw_finite_SFX(wp, KH * KW)) {
                dw_plane_rows_SFX(xp, wp, b0, yp, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dh,
                                  dw, clo, chi);
                continue;
            }
            dw_pad_SFX(xp, H, W, xb, Hp, Wp, ph, pw, extra);
            long n = OH * Wp;
            if (KH == 3 && KW == 3) {
                /* the nine taps in one pass (same adds in the same order as the per-row
                   passes below: one write of the plane instead of three read-modify-write
                   passes) */
                const T* x0 = xb;
                const T* x1 = xb + dh * Wp;
                const T* x2 = xb + 2 * dh * Wp;
                T w0 = wp[0], w1 = wp[1], w2 = wp[2], w3 = wp[3], w4 = wp[4], w5 = wp[5],
                  w6 = wp[6], w7 = wp[7], w8 = wp[8];
                long d1 = dw, d2 = 2 * dw;
                #pragma omp simd
                for (long i = 0; i < n; i++) {
                    T acc = b0;
                    acc += x0[i] * w0; acc += x0[i + d1] * w1; acc += x0[i + d2] * w2;
                    acc += x1[i] * w3; acc += x1[i + d1] * w4; acc += x1[i + d2] * w5;
                    acc += x2[i] * w6; acc += x2[i + d1] * w7; acc += x2[i + d2] * w8;
                    yb[i] = acc;
                }
            } else {
                for (long i = 0; i < n; i++) yb[i] = b0;
                for (long kh = 0; kh < KH; kh++)
                    dw_taps_any_SFX(yb, xb + kh * dh * Wp, wp + kh * KW, n, KW, dw);
            }
            for (long oh = 0; oh < OH; oh++)
                memcpy(yp + oh * OW, yb + oh * Wp, sizeof(T) * OW);
        }
        free(xb);
    }
}

/* Input gradient gx (N, C, H, W) from gy (N, C, OH, OW), the adjoint of dw_fwd in x, for
   strides above 1 (stride 1 runs as dw_fwd with the kernel flipped): each output-gradient
   row scattered into the input rows it read; each plane belongs to one thread. */
void dw_bwd_x_SFX(const T* restrict gy, const T* restrict w, T* restrict gx, long N,
                  long C, long H, long W, long OH, long OW, long KH, long KW, long sh,
                  long sw, long ph, long pw, long dh, long dw, int nt)
{
    long clo[KW], chi[KW];
    dw_cols(W, OW, KW, sw, pw, dw, clo, chi);
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long pl = 0; pl < N * C; pl++) {
        long c = pl % C;
        T* xp = gx + pl * H * W;
        const T* wp = w + c * KH * KW;
        memset(xp, 0, sizeof(T) * H * W);
        for (long oh = 0; oh < OH; oh++) {
            const T* gr = gy + pl * OH * OW + oh * OW;
            for (long kh = 0; kh < KH; kh++) {
                long ih = oh * sh - ph + kh * dh;
                if (ih < 0 || ih >= H) continue;
                T* xr = xp + ih * W;
                for (long kw = 0; kw < KW; kw++) {
                    T wv = wp[kh * KW + kw];
                    T* xs = xr + kw * dw - pw;
                    for (long ow = clo[kw]; ow < chi[kw]; ow++) xs[ow * sw] += gr[ow] * wv;
                }
            }
        }
    }
}

/* Weight gradient gw (C, KH, KW): per channel (one thread each), the sum over samples and
   output positions of input windows times gy; each tap's products are summed in T per
   row (stride > 1, or a plane with a non-finite value) or per plane (stride 1: x padded
   and gy widened to Wp with zero columns, so each tap is one long dot product whose
   extra terms are exact zeros), the partial sums accumulated in double. */
void dw_bwd_w_SFX(const T* restrict x, const T* restrict gy, T* restrict gw, long N,
                  long C, long H, long W, long OH, long OW, long KH, long KW, long sh,
                  long sw, long ph, long pw, long dh, long dw, int nt)
{
    long clo[KW], chi[KW];
    dw_cols(W, OW, KW, sw, pw, dw, clo, chi);
    long Wp = OW + (KW - 1) * dw, Hp = OH + (KH - 1) * dh, extra = (KW - 1) * dw;
    int unit = sh == 1 && sw == 1;
    #pragma omp parallel num_threads(nt)
    {
        T* xb = unit ? malloc(sizeof(T) * (Hp * Wp + extra + OH * Wp)) : NULL;
        T* gb = xb ? xb + Hp * Wp + extra : NULL;
        double* acc = malloc(sizeof(double) * KH * KW);
        #pragma omp for schedule(static)
        for (long c = 0; c < C; c++) {
            for (long k = 0; k < KH * KW; k++) acc[k] = 0.0;
            for (long n = 0; n < N; n++) {
                const T* xp = x + (n * C + c) * H * W;
                const T* gp = gy + (n * C + c) * OH * OW;
                if (xb && dw_finite_SFX(xp, H * W) && dw_finite_SFX(gp, OH * OW)) {
                    dw_pad_SFX(xp, H, W, xb, Hp, Wp, ph, pw, extra);
                    dw_pad_SFX(gp, OH, OW, gb, OH, Wp, 0, 0, 0);
                    long m = OH * Wp;
                    for (long kh = 0; kh < KH; kh++) {
                        for (long kw = 0; kw < KW; kw++) {
                            const T* xs = xb + kh * dh * Wp + kw * dw;
                            T s = 0;
                            #pragma omp simd reduction(+:s)
                            for (long i = 0; i < m; i++) s += xs[i] * gb[i];
                            acc[kh * KW + kw] += (double)s;
                        }
                    }
                    continue;
                }
                for (long oh = 0; oh < OH; oh++) {
                    const T* gr = gp + oh * OW;
                    for (long kh = 0; kh < KH; kh++) {
                        long ih = oh * sh - ph + kh * dh;
                        if (ih < 0 || ih >= H) continue;
                        const T* xr = xp + ih * W;
                        for (long kw = 0; kw < KW; kw++) {
                            const T* xs = xr + kw * dw - pw;
                            T s = 0;
                            #pragma omp simd reduction(+:s)
                            for (long ow = clo[kw]; ow < chi[kw]; ow++)
                                s += xs[ow * sw] * gr[ow];
                            acc[kh * KW + kw] += (double)s;
                        }
                    }
                }
            }
            for (long k = 0; k < KH * KW; k++) gw[c * KH * KW + k] = (T)acc[k];
        }
        free(xb);
        free(acc);
    }
}

/* Channels-last im2col (NOTE [ Channels-last windows ] in _ops/conv.py): cols (N, OH, OW,
   KH, KW, C) from x (N, C, H, W). Each thread takes whole samples: the sample is first
   transposed into a zero-bordered (Hp, Wp, C) buffer of its own (rows r - ph, columns
   c - pw of x; negative pads crop), then every (oh, ow, kh) window row is one memcpy of
   KW*C values (dilation 1) or KW copies of C. */
void cl_pack_SFX(const T* restrict x, T* restrict cols, long N, long C, long H, long W,
                 long OH, long OW, long KH, long KW, long sh, long sw, long ph, long pw,
                 long dh, long dw, int nt)
{
    long Hp = (OH - 1) * sh + (KH - 1) * dh + 1, Wp = (OW - 1) * sw + (KW - 1) * dw + 1;
    long c0 = pw > 0 ? pw : 0, c1 = pw + W < Wp ? pw + W : Wp;
    if (c1 < c0) c1 = c0;
    #pragma omp parallel num_threads(nt)
    {
        T* buf = calloc((size_t)(Hp * Wp * C), sizeof(T));
        #pragma omp for schedule(static)
        for (long n = 0; n < N; n++) {
            const T* xn = x + n * C * H * W;
            for (long r = 0; r < Hp; r++) {
                long ih = r - ph;
                if (ih < 0 || ih >= H) continue;  /* a border row: zero from calloc */
                T* br = buf + r * Wp * C;
                for (long c = 0; c < C; c++) {
                    const T* xr = xn + c * H * W + ih * W - pw;
                    for (long q = c0; q < c1; q++) br[q * C + c] = xr[q];
                }
            }
            T* dst = cols + n * OH * OW * KH * KW * C;
            for (long oh = 0; oh < OH; oh++)
                for (long ow = 0; ow < OW; ow++)
                    for (long kh = 0; kh < KH; kh++) {
                        const T* src = buf + ((oh * sh + kh * dh) * Wp + ow * sw) * C;
                        if (dw == 1) {
                            memcpy(dst, src, sizeof(T) * KW * C);
                            dst += KW * C;
                        } else {
                            for (long kw = 0; kw < KW; kw++, dst += C)
                                memcpy(dst, src + kw * dw * C, sizeof(T) * C);
                        }
                    }
        }
        free(buf);
    }
}

/* NCHW im2col (NOTE [ Batch-blocked convolution ] in _ops/conv.py): cols (C, KH, KW, M,
   OH, OW) of x (M, C, H, W) padded by (ph, pw) in front (negative: cropped), zeros where a
   tap falls outside; the (channel, tap) slices are split over the threads, each output
   row a memcpy (stride 1) or a strided copy between zeroed ends. */
void im2col_SFX(const T* restrict x, T* restrict cols, long M, long C, long H, long W,
                long OH, long OW, long KH, long KW, long sh, long sw, long ph, long pw,
                long dh, long dw, int nt)
{
    long clo[KW], chi[KW];
    dw_cols(W, OW, KW, sw, pw, dw, clo, chi);
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long idx = 0; idx < C * KH * KW; idx++) {
        long c = idx / (KH * KW), kh = (idx / KW) % KH, kw = idx % KW;
        long lo = clo[kw], hi = chi[kw];
        T* dst = cols + idx * M * OH * OW;
        for (long n = 0; n < M; n++) {
            const T* xp = x + (n * C + c) * H * W;
            for (long oh = 0; oh < OH; oh++, dst += OW) {
                long ih = oh * sh - ph + kh * dh;
                if (ih < 0 || ih >= H) { memset(dst, 0, sizeof(T) * OW); continue; }
                const T* xs = xp + ih * W + kw * dw - pw;
                for (long ow = 0; ow < lo; ow++) dst[ow] = 0;
                if (sw == 1) {
                    if (hi > lo) memcpy(dst + lo, xs + lo, sizeof(T) * (hi - lo));
                } else {
                    for (long ow = lo; ow < hi; ow++) dst[ow] = xs[ow * sw];
                }
                for (long ow = hi; ow < OW; ow++) dst[ow] = 0;
            }
        }
    }
}

/* NCHW col2im, the adjoint of im2col, straight into the cropped output: y (M, C, OH, OW)
   = the sum over taps of cols (C, KH, KW, M, IH, IW) placed at oh = ih*sh - ph + kh*dh,
   ow = iw*sw - pw + kw*dw (positions outside y dropped: the transposed convolution's
   crop); each output plane belongs to one thread, so the adds need no atomics, and taps
   add in kernel order. Here (H, W) is the output's size and (OH, OW) the columns'. */
void col2im_SFX(const T* restrict cols, T* restrict y, long M, long C, long H, long W,
                long OH, long OW, long KH, long KW, long sh, long sw, long ph, long pw,
                long dh, long dw, int nt)
{
    long clo[KW], chi[KW];
    dw_cols(W, OW, KW, sw, pw, dw, clo, chi);
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long pl = 0; pl < M * C; pl++) {
        long n = pl / C, c = pl % C;
        T* yp = y + pl * H * W;
        memset(yp, 0, sizeof(T) * H * W);
        for (long kh = 0; kh < KH; kh++)
            for (long kw = 0; kw < KW; kw++) {
                const T* src = cols + (((c * KH + kh) * KW + kw) * M + n) * OH * OW;
                long lo = clo[kw], hi = chi[kw];
                for (long oh = 0; oh < OH; oh++) {
                    long ih = oh * sh - ph + kh * dh;
                    if (ih < 0 || ih >= H) continue;
                    T* yr = yp + ih * W + kw * dw - pw;
                    const T* sr = src + oh * OW;
                    if (sw == 1) {
                        for (long ow = lo; ow < hi; ow++) yr[ow] += sr[ow];
                    } else {
                        for (long ow = lo; ow < hi; ow++) yr[ow * sw] += sr[ow];
                    }
                }
            }
    }
}

/* y (M, O, P) = res (M, P, O) transposed, plus bias[o] when given: the channels-last GEMM
   result written into NCHW in one threaded pass (in 16x16 tiles, so both sides move in
   cache lines) instead of a bias pass and a transposing copy. Sample n of res starts at
   res + n * ldm (ldm >= P * O: the row-shift kernels' results hold unused rows between
   samples). */
void to_nchw_SFX(const T* restrict res, const T* restrict bias, T* restrict y, long M,
                 long P, long O, long ldm, int nt)
{
    long tp = (P + 15) / 16, to = (O + 15) / 16;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < M * tp * to; t++) {
        long n = t / (tp * to), p0 = (t / to) % tp * 16, o0 = t % to * 16;
        long p1 = p0 + 16 < P ? p0 + 16 : P, o1 = o0 + 16 < O ? o0 + 16 : O;
        const T* r = res + n * ldm;
        T* yn = y + n * O * P;
        for (long o = o0; o < o1; o++) {
            T b = bias ? bias[o] : (T)0;
            for (long p = p0; p < p1; p++) yn[o * P + p] = r[p * O + o] + b;
        }
    }
}

/* The inverse of to_nchw without bias, for the row-shift weight gradient: rows (M, L, O)
   with rows[n, p, o] = g[n, o, p] for p < P and zeros for P <= p < L (the rows of output
   positions that the row-shift products compute but do not keep), in 16x16 tiles. */
void from_nchw_SFX(const T* restrict g, T* restrict rows, long M, long P, long O, long L,
                   int nt)
{
    long tp = (P + 15) / 16, to = (O + 15) / 16;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < M * (tp * to + 1); t++) {
        long n = t / (tp * to + 1), i = t % (tp * to + 1);
        T* r = rows + n * L * O;
        if (i == tp * to) {  /* the sample's unused rows */
            memset(r + P * O, 0, sizeof(T) * (L - P) * O);
            continue;
        }
        long p0 = i / to * 16, o0 = i % to * 16;
        long p1 = p0 + 16 < P ? p0 + 16 : P, o1 = o0 + 16 < O ? o0 + 16 : O;
        const T* gn = g + n * O * P;
        for (long p = p0; p < p1; p++)
            for (long o = o0; o < o1; o++) r[p * O + o] = gn[o * P + p];
    }
}

/* Row-shift packing (NOTE [ Row-shift convolution ] in _ops/conv.py): X3 (N, Hp, OW, KW,
   C) with X3[n, h, ow, kw, c] = x[n, c, h - ph, ow*sw + kw*dw - pw] (zero outside x; the
   kernel rows are not packed: each is a shifted row window of X3). One task per (sample,
   padded row): the input row of every channel is transposed into a small zero-bordered
   (Wp, C) buffer of the thread's (L1-resident), then each output column's window is one
   memcpy of KW*C values (dilation 1) or KW of C. */
void rs_pack_SFX(const T* restrict x, T* restrict X3, long N, long C, long H, long W,
                 long Hp, long OW, long KW, long sw, long ph, long pw, long dw, int nt)
{
    long Wp = (OW - 1) * sw + (KW - 1) * dw + 1;
    long c0 = pw > 0 ? pw : 0, c1 = pw + W < Wp ? pw + W : Wp;
    if (c1 < c0) c1 = c0;
    long row = OW * KW * C;
    #pragma omp parallel num_threads(nt)
    {
        T* buf = calloc((size_t)(Wp * C), sizeof(T));  /* border columns stay zero */
        #pragma omp for schedule(static)
        for (long t = 0; t < N * Hp; t++) {
            long n = t / Hp, ih = t % Hp - ph;
            T* dst = X3 + t * row;
            if (ih < 0 || ih >= H) { memset(dst, 0, sizeof(T) * row); continue; }
            const T* xr = x + n * C * H * W + ih * W - pw;
            for (long q0 = c0; q0 < c1; q0 += 8) {  /* 8 columns x C channels at a time */
                long q1 = q0 + 8 < c1 ? q0 + 8 : c1;
                for (long c = 0; c < C; c++) {
                    const T* xc = xr + c * H * W;
                    for (long q = q0; q < q1; q++) buf[q * C + c] = xc[q];
                }
            }
            if (dw == 1) {
                for (long ow = 0; ow < OW; ow++, dst += KW * C)
                    memcpy(dst, buf + ow * sw * C, sizeof(T) * KW * C);
            } else {
                for (long ow = 0; ow < OW; ow++)
                    for (long kw = 0; kw < KW; kw++, dst += C)
                        memcpy(dst, buf + (ow * sw + kw * dw) * C, sizeof(T) * C);
            }
        }
        free(buf);
    }
}

/* The adjoint of rs_pack: gx (N, C, H, W) = the sum, over the (ow, kw) that read input
   column iw = ow*sw + kw*dw - pw, of X3[n, ih + ph, ow, kw, c] (zero where none does). One
   task per (sample, input row): the row's KW*C runs are added into a zeroed (Wp, C)
   buffer of the thread's, then transposed into the NCHW row of every channel. */
void rs_unpack_SFX(const T* restrict X3, T* restrict gx, long N, long C, long H, long W,
                   long Hp, long OW, long KW, long sw, long ph, long pw, long dw, int nt)
{
    long Wp = (OW - 1) * sw + (KW - 1) * dw + 1;
    long row = OW * KW * C;
    #pragma omp parallel num_threads(nt)
    {
        T* buf = malloc(sizeof(T) * Wp * C);
        #pragma omp for schedule(static)
        for (long t = 0; t < N * H; t++) {
            long n = t / H, ih = t % H, h = ih + ph;
            T* gr = gx + n * C * H * W + ih * W;
            if (h < 0 || h >= Hp) {
                for (long c = 0; c < C; c++) memset(gr + c * H * W, 0, sizeof(T) * W);
                continue;
            }
            memset(buf, 0, sizeof(T) * Wp * C);
            const T* src = X3 + (n * Hp + h) * row;
            for (long ow = 0; ow < OW; ow++)
                for (long kw = 0; kw < KW; kw++, src += C) {
                    T* d = buf + (ow * sw + kw * dw) * C;
                    for (long c = 0; c < C; c++) d[c] += src[c];
                }
            for (long q0 = 0; q0 < W; q0 += 8) {  /* 8 columns x C channels at a time */
                long q1 = q0 + 8 < W ? q0 + 8 : W;
                for (long c = 0; c < C; c++) {
                    T* gc = gr + c * H * W;
                    for (long iw = q0; iw < q1; iw++) {
                        long q = iw + pw;
                        gc[iw] = q >= 0 && q < Wp ? buf[q * C + c] : (T)0;
                    }
                }
            }
        }
        free(buf);
    }
}

/* Row-shift products (NOTE [ Row-shift convolution ] in _ops/conv.py) through the CBLAS
   gemm at `fn` (64-bit sizes), one task per sample, split over the threads: for every
   kernel row k, C_k += A_k @ B_k over the sample's P rows, A_k = A + n*ans + k*aks (rows of
   lda, P x K), B_k = B + k*bks (K x N, ldb, transposed when tb), C_k = C + n*cns + k*cks
   (rows of ldc), with beta = beta0 for k = 0 and 1 after it; with zero = 1 the sample's
   `zlen` values at C + n*cns are zeroed first. The P rows run in pieces of r (r*N*K
   under ~10**6 multiply-adds, OpenBLAS's small-matrix kernels, ~20% faster here than its
   packed path), every kernel row of a piece before the next piece. Only the rows of
   valid output positions are multiplied: no products of rows that mix samples. */
typedef void (*gemm_SFX_t)(int, int, int, long, long, long, T, const T*, long, const T*,
                           long, T, T*, long);

void rs_mm_SFX(void* fn, int tb, long NS, long P, long N, long K, long KH, const T* A,
               long lda, long ans, long aks, const T* B, long ldb, long bks, T* C, long ldc,
               long cns, long cks, int beta0, int zero, long zlen, long r, int nt)
{
    gemm_SFX_t f = (gemm_SFX_t)fn;
    /* pieces of one sample write overlapping rows when C shifts (cks != 0): then a task is
       a whole sample, else a (sample, piece) pair (a block of one large sample still
       spreads over the threads) */
    long np = (P + r - 1) / r, per = cks ? 1 : np;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < NS * per; t++) {
        long n = t / per, i0 = cks ? 0 : t % per, i1 = cks ? np : i0 + 1;
        if (zero && i0 == 0) memset(C + n * cns, 0, sizeof(T) * zlen);
        for (long i = i0; i < i1; i++) {
            long m0 = i * r, m = P - m0 < r ? P - m0 : r;
            for (long k = 0; k < KH; k++)
                f(101, 111, tb, m, N, K, (T)1, A + n * ans + k * aks + m0 * lda, lda,
                  B + k * bks, ldb, k || beta0 ? (T)1 : (T)0, C + n * cns + k * cks + m0 * ldc,
                  ldc);
        }
    }
}

/* The row-shift weight gradient's products: G (O x KH*N, row-major) = the sum over samples
   n, their P output rows p and kernel rows k of GY[n, p]^T X[n, p + k*s] (GY (NS, P, O),
   X rows of N values, sample stride xns). Each thread sums its samples, in pieces of r
   rows (the products' reduction dimension, small-matrix sized), into a partial of its
   own; the partials are added at the end in thread order. */
void rs_mmw_SFX(void* fn, long NS, long P, long O, long N, long KH, long s, long xns,
                const T* GY, const T* X, T* G, long r, int nt)
{
    gemm_SFX_t f = (gemm_SFX_t)fn;
    long sz = O * KH * N, np = (P + r - 1) / r;
    if (nt > NS * np) nt = NS * np > 0 ? NS * np : 1;
    T* parts = calloc((size_t)(nt * sz), sizeof(T));
    #pragma omp parallel num_threads(nt)
    {
        int me = omp_get_thread_num(), used = 0;
        T* part = parts + me * sz;
        #pragma omp for schedule(static)
        for (long t = 0; t < NS * np; t++) {  /* (sample, piece) pairs */
            long n = t / np, m0 = t % np * r, m = P - m0 < r ? P - m0 : r;
            for (long k = 0; k < KH; k++)
                f(101, 112, 111, O, N, m, (T)1, GY + (n * P + m0) * O, O,
                  X + n * xns + (m0 + k * s) * N, N, used ? (T)1 : (T)0, part + k * N,
                  KH * N);
            used = 1;
        }
    }
    for (long j = 0; j < sz; j++) {
        T acc = parts[j];
        for (int t = 1; t < nt; t++) acc += parts[t * sz + j];
        G[j] = acc;
    }
    free(parts);
}

/* dst (Q, C) = src (C, Q) transposed (source rows lds apart, destination rows ldd apart).
   Blocks run along the rows of the side whose rows lie further apart: those strides are
   often powers of two (a plane of an NCHW tensor), and values a block apart by one of
   them share an L1 set. With AVX the blocks are 8x8 (float) or 4x4 (double) register
   transposes; the scalar loops (~1 value a cycle) had cost ~half of a fused
   convolution's packing. */
static void tr_SFX(const T* restrict src, long lds, T* restrict dst, long ldd, long C,
                   long Q)
{
#ifdef __AVX__
    long B = sizeof(T) == 4 ? 8 : 4, Cf = C - C % B, Qf = Q - Q % B;
    if (lds >= ldd) {
        for (long c0 = 0; c0 < Cf; c0 += B)
            for (long q0 = 0; q0 < Qf; q0 += B) {
                if (sizeof(T) == 4)
                    tr8_ps((const float*)(src + c0 * lds + q0), lds,
                           (float*)(dst + q0 * ldd + c0), ldd);
                else
                    tr4_pd((const double*)(src + c0 * lds + q0), lds,
                           (double*)(dst + q0 * ldd + c0), ldd);
            }
    } else {
        for (long q0 = 0; q0 < Qf; q0 += B)
            for (long c0 = 0; c0 < Cf; c0 += B) {
                if (sizeof(T) == 4)
                    tr8_ps((const float*)(src + c0 * lds + q0), lds,
                           (float*)(dst + q0 * ldd + c0), ldd);
                else
                    tr4_pd((const double*)(src + c0 * lds + q0), lds,
                           (double*)(dst + q0 * ldd + c0), ldd);
            }
    }
    /* the edges: rows c >= Cf (every q), then columns q >= Qf of rows c < Cf */
    for (long c = Cf; c < C; c++)
        for (long q = 0; q < Q; q++) dst[q * ldd + c] = src[c * lds + q];
    for (long c = 0; c < Cf; c++)
        for (long q = Qf; q < Q; q++) dst[q * ldd + c] = src[c * lds + q];
#else
    for (long q0 = 0; q0 < Q; q0 += 16)
        for (long c0 = 0; c0 < C; c0 += 16) {
            long q1 = q0 + 16 < Q ? q0 + 16 : Q, c1 = c0 + 16 < C ? c0 + 16 : C;
            if (lds >= ldd) {
                for (long c = c0; c < c1; c++)
                    for (long q = q0; q < q1; q++) dst[q * ldd + c] = src[c * lds + q];
            } else {
                for (long q = q0; q < q1; q++)
                    for (long c = c0; c < c1; c++) dst[q * ldd + c] = src[c * lds + q];
            }
        }
#endif
}

/* Fused transposed convolution (NOTE [ Fused strided convolution kernels ]): y (M, Co, H,
   W) = bias + the sum over taps of (x[n, :, ih, iw] @ WL[:, kh, kw, :]) placed at oh =
   ih*sh - ph + kh*dh, ow = iw*sw - pw + kw*dw (outside y: dropped). WL is the weight
   (Ci, KH, KW, Co), row-major. A task is a band of BH output rows of one sample; it
   takes the input rows that reach the band in pieces of RB rows: the piece transposed
   to (RB*IW, Ci), one GEMM on this thread into cols (RB*IW, KH*KW*Co), whose channel
   vectors are added into the band's (BH, W, Co) accumulator, which is transposed into
   NCHW with the bias at the end. Every buffer is the thread's own and cache-sized. */
int ct_fused_SFX(void* fn, const T* restrict x, const T* restrict wl,
                  const T* restrict bias, T* restrict y, long M, long Ci, long IH, long IW,
                  long Co, long H, long W, long KH, long KW, long sh, long sw, long ph,
                  long pw, long dh, long dw, long BH, long RB, int nt)
{
    gemm_SFX_t f = (gemm_SFX_t)fn;
    long KC = KH * KW * Co, nb = (H + BH - 1) / BH;
    int bad = 0;
    #pragma omp parallel num_threads(nt)
    {
        T* xl = malloc(sizeof(T) * RB * IW * Ci);
        T* cols = malloc(sizeof(T) * RB * IW * KC);
        T* acc = malloc(sizeof(T) * BH * W * Co);
        int ok = xl && cols && acc;
        if (!ok) {
            #pragma omp atomic write
            bad = 1;
        }
        #pragma omp for schedule(static)
        for (long t = 0; t < M * nb; t++) {
            if (!ok) continue;
            long n = t / nb, oh0 = t % nb * BH, oh1 = oh0 + BH < H ? oh0 + BH : H;
            memset(acc, 0, sizeof(T) * (oh1 - oh0) * W * Co);
            /* input rows with ih*sh - ph + kh*dh in [oh0, oh1) for some kh */
            long a = oh0 + ph - (KH - 1) * dh, b = oh1 - 1 + ph;
            long ih0 = a <= 0 ? 0 : (a + sh - 1) / sh;
            long ih1 = b < 0 ? 0 : b / sh + 1;
            if (ih1 > IH) ih1 = IH;
            const T* xn = x + n * Ci * IH * IW;
            for (long r0 = ih0; r0 < ih1; r0 += RB) {
                long r1 = r0 + RB < ih1 ? r0 + RB : ih1, rows = (r1 - r0) * IW;
                tr_SFX(xn + r0 * IW, IH * IW, xl, Ci, Ci, rows);
                f(101, 111, 111, rows, KC, Ci, (T)1, xl, Ci, wl, KC, (T)0, cols, KC);
                for (long ih = r0; ih < r1; ih++)
                    for (long kh = 0; kh < KH; kh++) {
                        long oh = ih * sh - ph + kh * dh;
                        if (oh < oh0 || oh >= oh1) continue;
                        T* ar = acc + (oh - oh0) * W * Co;
                        for (long iw = 0; iw < IW; iw++) {
                            const T* src = cols + ((ih - r0) * IW + iw) * KC + kh * KW * Co;
                            for (long kw = 0; kw < KW; kw++, src += Co) {
                                long ow = iw * sw - pw + kw * dw;
                                if (ow < 0 || ow >= W) continue;
                                T* d = ar + ow * Co;
                                #pragma omp simd
                                for (long c = 0; c < Co; c++) d[c] += src[c];
                            }
                        }
                    }
            }
            long q = (oh1 - oh0) * W;
            T* yn = y + n * Co * H * W + oh0 * W;
            tr_SFX(acc, Co, yn, H * W, q, Co);
            if (bias)
                for (long c = 0; c < Co; c++) {
                    T bc = bias[c];
                    T* yr = yn + c * H * W;
                    #pragma omp simd
                    for (long i = 0; i < q; i++) yr[i] += bc;
                }
        }
        free(xl); free(cols); free(acc);
    }
    return bad;
}

/* The channels-last windows of output rows [oh0, oh1) of one sample xn (C, H, W) for the
   fused kernels: the input rows they read are transposed into the zero-bordered (rows, Wp,
   C) buffer xr, then cols[(oh - oh0, ow), (kh, kw, c)] = xn[c, oh*sh - ph + kh*dh, ow*sw -
   pw + kw*dw] (zero outside x), each (position, kernel row) window one run of KW*C values
   (dilation 1). */
static void cv_pack_SFX(const T* restrict xn, long C, long H, long W, long OW, long KH,
                        long KW, long sh, long sw, long ph, long pw, long dh, long dw,
                        long Wp, long oh0, long oh1, T* restrict xr, T* restrict cols)
{
    long KKC = KH * KW * C, hr = (oh1 - oh0 - 1) * sh + (KH - 1) * dh + 1;
    long c0 = pw > 0 ? pw : 0, c1 = pw + W < Wp ? pw + W : Wp;  /* buffer columns of x */
    if (c1 < c0) c1 = c0;
    for (long r = 0; r < hr; r++) {
        T* br = xr + r * Wp * C;
        long ih = oh0 * sh - ph + r;
        if (ih < 0 || ih >= H) { memset(br, 0, sizeof(T) * Wp * C); continue; }
        if (c0) memset(br, 0, sizeof(T) * c0 * C);
        if (c1 < Wp) memset(br + c1 * C, 0, sizeof(T) * (Wp - c1) * C);
        if (c1 > c0) tr_SFX(xn + ih * W + c0 - pw, H * W, br + c0 * C, C, C, c1 - c0);
    }
    for (long oh = oh0; oh < oh1; oh++)
        for (long ow = 0; ow < OW; ow++) {
            T* dst = cols + ((oh - oh0) * OW + ow) * KKC;
            for (long kh = 0; kh < KH; kh++) {
                const T* src = xr + (((oh - oh0) * sh + kh * dh) * Wp + ow * sw) * C;
                if (dw == 1) {  /* an inline loop: memcpy's call cost more */
                    #pragma omp simd
                    for (long i = 0; i < KW * C; i++) dst[i] = src[i];
                    dst += KW * C;
                } else {
                    for (long kw = 0; kw < KW; kw++, dst += C)
                        memcpy(dst, src + kw * dw * C, sizeof(T) * C);
                }
            }
        }
}

/* Fused convolution forward (NOTE [ Fused strided convolution kernels ]): y (M, O, OH, OW)
   = bias + cols @ WT with cv_pack's cols and WT (KH*KW*C, O) row-major. A task is a band
   of RB output rows of one sample: packed, one GEMM on this thread gives the band's
   (RB*OW, O) result, transposed into NCHW with the bias. */
int cv_fused_SFX(void* fn, const T* restrict x, const T* restrict wt,
                  const T* restrict bias, T* restrict y, long M, long C, long H, long W,
                  long O, long OH, long OW, long KH, long KW, long sh, long sw, long ph,
                  long pw, long dh, long dw, long RB, int nt)
{
    gemm_SFX_t f = (gemm_SFX_t)fn;
    long KKC = KH * KW * C, nb = (OH + RB - 1) / RB;
    long Wp = (OW - 1) * sw + (KW - 1) * dw + 1;   /* padded columns that windows read */
    long HR = (RB - 1) * sh + (KH - 1) * dh + 1;   /* input rows a band reads */
    int bad = 0;
    #pragma omp parallel num_threads(nt)
    {
        T* xr = malloc(sizeof(T) * HR * Wp * C);
        T* cols = malloc(sizeof(T) * RB * OW * KKC);
        T* res = malloc(sizeof(T) * RB * OW * O);
        int ok = xr && cols && res;
        if (!ok) {
            #pragma omp atomic write
            bad = 1;
        }
        #pragma omp for schedule(static)
        for (long t = 0; t < M * nb; t++) {
            if (!ok) continue;
            long n = t / nb, oh0 = t % nb * RB, oh1 = oh0 + RB < OH ? oh0 + RB : OH;
            long rows = (oh1 - oh0) * OW;
            cv_pack_SFX(x + n * C * H * W, C, H, W, OW, KH, KW, sh, sw, ph, pw, dh, dw, Wp,
                        oh0, oh1, xr, cols);
            f(101, 111, 111, rows, O, KKC, (T)1, cols, KKC, wt, O, (T)0, res, O);
            T* yn = y + n * O * OH * OW + oh0 * OW;
            tr_SFX(res, O, yn, OH * OW, rows, O);
            if (bias)
                for (long o = 0; o < O; o++) {
                    T bo = bias[o];
                    T* yr = yn + o * OH * OW;
                    #pragma omp simd
                    for (long i = 0; i < rows; i++) yr[i] += bo;
                }
        }
        free(xr); free(cols); free(res);
    }
    return bad;
}

/* Fused convolution weight gradient (NOTE [ Fused strided convolution kernels ]): G (O,
   KH*KW*C) = the sum over samples and bands of gy[n, :, band] (O, rows; NCHW as it is) @
   cols (rows, KH*KW*C) with cv_pack's cols; each thread sums its tasks into a partial of
   its own (GEMMs with beta = 1), the partials added in thread order at the end. */
int cw_fused_SFX(void* fn, const T* restrict x, const T* restrict gy, T* restrict G,
                  long M, long C, long H, long W, long O, long OH, long OW, long KH, long KW,
                  long sh, long sw, long ph, long pw, long dh, long dw, long RB, int nt)
{
    gemm_SFX_t f = (gemm_SFX_t)fn;
    long KKC = KH * KW * C, nb = (OH + RB - 1) / RB, sz = O * KKC;
    long Wp = (OW - 1) * sw + (KW - 1) * dw + 1;
    long HR = (RB - 1) * sh + (KH - 1) * dh + 1;
    if (nt > M * nb) nt = M * nb > 0 ? M * nb : 1;
    T* parts = calloc((size_t)(nt * sz), sizeof(T));
    if (!parts) return 1;
    int bad = 0;
    #pragma omp parallel num_threads(nt)
    {
        T* xr = malloc(sizeof(T) * HR * Wp * C);
        T* cols = malloc(sizeof(T) * RB * OW * KKC);
        T* part = parts + omp_get_thread_num() * sz;
        int used = 0, ok = xr && cols;
        if (!ok) {
            #pragma omp atomic write
            bad = 1;
        }
        #pragma omp for schedule(static)
        for (long t = 0; t < M * nb; t++) {
            if (!ok) continue;
            long n = t / nb, oh0 = t % nb * RB, oh1 = oh0 + RB < OH ? oh0 + RB : OH;
            long rows = (oh1 - oh0) * OW;
            cv_pack_SFX(x + n * C * H * W, C, H, W, OW, KH, KW, sh, sw, ph, pw, dh, dw, Wp,
                        oh0, oh1, xr, cols);
            f(101, 111, 111, O, KKC, rows, (T)1, gy + n * O * OH * OW + oh0 * OW, OH * OW,
              cols, KKC, used ? (T)1 : (T)0, part, KKC);
            used = 1;
        }
        free(xr); free(cols);
    }
    for (long j = 0; j < sz; j++) {
        T acc = parts[j];
        for (int t = 1; t < nt; t++) acc += parts[t * sz + j];
        G[j] = acc;
    }
    free(parts);
    return bad;
}

/* Channels-last col2im: y (M, C, H, W) = bias + the sum over taps of cols (M, IH, IW, KH,
   KW, C) placed at oh = ih*sh - ph + kh*dh, ow = iw*sw - pw + kw*dw (outside y: dropped).
   Samples are split over the threads; each adds channel vectors into an (H, W, C) buffer
   of its own, then transposes it into the sample's NCHW output. */
void col2im_l_SFX(const T* restrict cols, const T* restrict bias, T* restrict y, long M,
                  long C, long H, long W, long IH, long IW, long KH, long KW, long sh,
                  long sw, long ph, long pw, long dh, long dw, int nt)
{
    #pragma omp parallel num_threads(nt)
    {
        T* buf = malloc(sizeof(T) * H * W * C);
        #pragma omp for schedule(static)
        for (long n = 0; n < M; n++) {
            memset(buf, 0, sizeof(T) * H * W * C);
            const T* src = cols + n * IH * IW * KH * KW * C;
            for (long ih = 0; ih < IH; ih++)
                for (long iw = 0; iw < IW; iw++)
                    for (long kh = 0; kh < KH; kh++) {
                        long oh = ih * sh - ph + kh * dh;
                        for (long kw = 0; kw < KW; kw++, src += C) {
                            long ow = iw * sw - pw + kw * dw;
                            if (oh < 0 || oh >= H || ow < 0 || ow >= W) continue;
                            T* d = buf + (oh * W + ow) * C;
                            for (long c = 0; c < C; c++) d[c] += src[c];
                        }
                    }
            T* yn = y + n * C * H * W;
            for (long c = 0; c < C; c++) {
                T b = bias ? bias[c] : (T)0;
                for (long q = 0; q < H * W; q++) yn[c * H * W + q] = buf[q * C + c] + b;
            }
        }
        free(buf);
    }
}
"""

_SRC = _COMMON + "".join(f"#define T {t}\n" + _TYPED.replace("SFX", sfx) + "#undef T\n"
                         for t, sfx in (("float", "f32"), ("double", "f64")))

_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
_L = ctypes.c_long
# the functions returning nothing (the fused kernels return 1 when out of memory)
_NAMES = tuple(f"{k}_{t}" for k in ("dw_fwd", "dw_bwd_x", "dw_bwd_w", "cl_pack", "im2col",
                                     "col2im", "to_nchw", "col2im_l", "from_nchw", "rs_pack",
                                     "rs_unpack", "rs_mm", "rs_mmw")
               for t in ("f32", "f64"))

# the compiled library, or None (no compiler, or kernels disabled)
_lib = c_library(_SRC, _NAMES)


def available():
    """Whether the compiled kernels can run here (a compiler, kernels not disabled).

    Returns:
        True when the library is built (or loads from the cache).

    Example:
        >>> isinstance(available(), bool)
        True
    """
    return _lib() is not None


def _ok(*arrays):
    a0 = arrays[0]
    if a0.__class__ is not np.ndarray or a0.dtype not in _SUFFIX or a0.ndim not in (3, 4):
        return False
    for a in arrays:
        if a.__class__ is not np.ndarray or a.dtype != a0.dtype:
            return False
    return True


def _geom(sp, osp, ks, s, lo, d):
    """(H, W, OH, OW, KH, KW, sh, sw, ph, pw, dh, dw), 1-d as one row."""
    if len(ks) == 1:
        return (1, sp[0], 1, osp[0], 1, ks[0], 1, s[0], 0, lo[0], 1, d[0])
    return (*sp, *osp, *ks, *s, *lo, *d)


_NULL = ctypes.c_void_p(None)


def _ptr(a):
    # read from the array object (NOTE [ Lean kernel calls ] in kernel.py): ~0.15 us where
    # ``a.ctypes.data`` costs ~1 us
    return data_ptr(a) if a is not None else _NULL


_LONGS: dict = {}


def _longs(values):
    """``values`` (a tuple of ints) as ``ctypes.c_long`` objects, kept per tuple: a small
    convolution's kernels take a dozen size arguments, ~0.2 us each to build, and the
    same ones on every call of a layer."""
    r = _LONGS.get(values)
    if r is None:
        if len(_LONGS) >= 1024:
            _LONGS.clear()
        r = _LONGS[values] = tuple(_L(v) for v in values)
    return r


# NOTE [ Small kernels on one thread ]
# Every kernel here splits its work over the OpenMP threads, and starting a parallel region
# wakes the other threads: a few microseconds on a quiet machine, and tens to hundreds on a
# busy one (the woken thread waits for a core), where a 1x16x8x8 pointwise convolution's
# two kernels move a few thousand values in ~1 us. Calls that touch fewer than
# _SERIAL_VALUES values (or, for products, _SERIAL_MACS multiply-adds) run on one thread.
# Measured (1x16x8x8 1x1 conv / 1x8x128 conv1d, 2 threads, a busy moment, min of 7):
# 279 / 540 us on two threads against 43 / 54 us on one. Every kernel given this
# count gives the same values on any number of threads (each output is written by one
# task, in a fixed order), so the choice changes no result; the ones whose sums depend on
# the split (rs_mmw's and cw_fused's per-thread partials) keep their own counts.
_SERIAL_VALUES = 1 << 16


def _nt(values):
    """The thread count for a kernel that touches ``values`` values (NOTE [ Small kernels on
    one thread ])."""
    return 1 if values < _SERIAL_VALUES else get_num_threads()


def _run(name, arrays, n, c, geom):
    # (the callers checked that the library is there)
    fn = _FNS.get(name)
    if fn is None:
        fn = _FNS[name] = getattr(_lib(), name)
    size = 0
    ptrs = []
    for a in arrays:
        if a is None:
            ptrs.append(_NULL)
        else:
            ptrs.append(data_ptr(a))
            if a.size > size:
                size = a.size
    fn(*ptrs, *_longs((n, c) + geom), _INTS[1] if size < _SERIAL_VALUES else
       ctypes.c_int(_nt(size)))


_INTS = {1: ctypes.c_int(1)}
_FNS: dict = {}


def dw_forward(x, w, b, s, lo, d, out):
    """Depthwise convolution of ``x (N, C, *S)`` with ``w (C, 1, *K)`` (and bias ``b``,
    or None) into ``(N, C, *out)``: stride ``s``, padding ``lo`` in front (the far side
    follows from ``out``), dilation ``d``; None where the kernel does not apply."""
    arrs = (x, w) if b is None else (x, w, b)
    if not _ok(*arrs) or x.ndim != w.ndim or _lib() is None:
        return None
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w)
    b = None if b is None else np.ascontiguousarray(b)
    n, c = x.shape[:2]
    y = np.empty((n, c, *out), x.dtype)
    if y.size:
        _run("dw_fwd_" + _SUFFIX[x.dtype], (x, w, b, y), n, c,
             _geom(x.shape[2:], out, w.shape[2:], s, lo, d))
    return y


def dw_input_grad(gy, w, s, lo, d, inp):
    """The input gradient ``(N, C, *inp)`` of a depthwise convolution from its output
    gradient ``gy``, or None where the kernel does not apply."""
    if not _ok(gy, w) or gy.ndim != w.ndim or _lib() is None:
        return None
    if all(si == 1 for si in s):
        # with stride 1 the adjoint is the convolution of gy with the flipped kernel, padded
        # by d*(k-1) - lo in front: the forward's flat, vectorised path, no scatter
        nd = len(s)
        wf = w[(slice(None), slice(None)) + (slice(None, None, -1),) * nd]
        return dw_forward(gy, wf, None, s, tuple(di * (k - 1) - a for di, k, a in
                                                 zip(d, w.shape[2:], lo)), d, tuple(inp))
    gy = np.ascontiguousarray(gy)
    w = np.ascontiguousarray(w)
    n, c = gy.shape[:2]
    gx = np.empty((n, c, *inp), gy.dtype)
    if gx.size:
        _run("dw_bwd_x_" + _SUFFIX[gy.dtype], (gy, w, gx), n, c,
             _geom(inp, gy.shape[2:], w.shape[2:], s, lo, d))
    return gx


def dw_weight_grad(x, gy, s, lo, d, ks):
    """The weight gradient ``(C, 1, *ks)`` of a depthwise convolution of ``x`` given its
    output gradient ``gy``, or None where the kernel does not apply."""
    if not _ok(x, gy) or x.ndim != gy.ndim or _lib() is None:
        return None
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(gy)
    n, c = x.shape[:2]
    gw = np.empty((c, 1, *ks), x.dtype)
    if gw.size:
        if x.size == 0 or gy.size == 0:
            gw.fill(0)
        else:
            _run("dw_bwd_w_" + _SUFFIX[x.dtype], (x, gy, gw), n, c,
                 _geom(x.shape[2:], gy.shape[2:], ks, s, lo, d))
    return gw


def cl_pack(x, lo, ks, s, d, out, buf=None):
    """Channels-last im2col: cols ``(N, *out, *ks, C)`` of ``x (N, C, *S)`` padded by ``lo``
    in front (negative: cropped; the far side follows from ``out``), written into
    ``buf[:N]`` when given (contiguous), or None where the kernel does not apply."""
    if not _ok(x) or _lib() is None or (buf is not None and not buf.flags.c_contiguous):
        return None
    x = np.ascontiguousarray(x)
    n, c = x.shape[:2]
    shape = (n, *out, *ks, c)
    cols = buf[:n] if buf is not None else np.empty(shape, x.dtype)
    if cols.shape != shape or cols.dtype != x.dtype:
        return None
    if cols.size:
        _run("cl_pack_" + _SUFFIX[x.dtype], (x, cols), n, c,
             _geom(x.shape[2:], out, ks, s, lo, d))
    return cols


def im2col(x, lo, ks, s, d, out, buf=None):
    """NCHW im2col: cols ``(C * prod(ks), N * prod(out))`` (order C, *ks, N, *out) of
    ``x (N, C, *S)`` padded by ``lo`` in front (negative: cropped; the far side follows
    from ``out``), into ``buf`` (contiguous, that size) when given; None where the kernel
    does not apply."""
    if not _ok(x) or _lib() is None:
        return None
    x = np.ascontiguousarray(x)
    n, c = x.shape[:2]
    shape = (c * math.prod(ks), n * math.prod(out))
    cols = buf if buf is not None else np.empty(shape, x.dtype)
    if cols.shape != shape or cols.dtype != x.dtype or not cols.flags.c_contiguous:
        return None
    if cols.size:
        _run("im2col_" + _SUFFIX[x.dtype], (x, cols), n, c,
             _geom(x.shape[2:], out, ks, s, lo, d))
    return cols


def col2im(cols, m, c, inp, ks, s, lo, d, out):
    """NCHW col2im into a new ``(m, c, *out)`` array: ``cols`` (c*prod(ks), m*prod(inp)),
    order (c, *ks, m, *inp), each value added at ``inp_pos * s - lo + k * d`` (positions
    outside ``out`` dropped); None where the kernel does not apply."""
    if not _ok(np.empty((1, 1, 1), cols.dtype)) or _lib() is None or len(ks) > 2 \
            or cols.ndim != 2 or type(cols) is not np.ndarray:
        return None
    cols = np.ascontiguousarray(cols)
    y = np.empty((m, c, *out), cols.dtype)
    if y.size:
        _run("col2im_" + _SUFFIX[cols.dtype], (cols, y), m, c, _geom(out, inp, ks, s, lo, d))
    return y


def to_nchw(res, b, y):
    """``y (M, O, *S)`` (contiguous) = ``res (M, P, O)`` transposed plus the bias ``b`` (or
    None); False where the kernel does not apply (nothing written). ``res`` may be a window
    of a larger buffer whose samples lie further apart (rows contiguous within a sample)."""
    arrs = (res, y) if b is None else (res, y, b)
    if not all(type(a) is np.ndarray and a.dtype == y.dtype for a in arrs) \
            or y.dtype not in _SUFFIX or not y.flags.c_contiguous or _lib() is None:
        return False
    m, p, o = res.shape
    isz = res.itemsize
    if res.strides[1:] != (o * isz, isz) or res.strides[0] % isz \
            or res.strides[0] < p * o * isz:
        res = np.ascontiguousarray(res)
    b = None if b is None else np.ascontiguousarray(b)
    getattr(_lib(), "to_nchw_" + _SUFFIX[y.dtype])(
        _ptr(res), _ptr(b), _ptr(y), *_longs((m, p, o, res.strides[0] // isz)),
        _INTS[1] if y.size < _SERIAL_VALUES else ctypes.c_int(_nt(y.size)))
    return True


def from_nchw(g, rows):
    """``rows (M, L, O)`` (contiguous) = ``g (M, O, P)`` transposed in its first ``P`` rows per
    sample, zeros in the other ``L - P``; False where the kernel does not apply."""
    if type(g) is not np.ndarray or type(rows) is not np.ndarray or g.dtype != rows.dtype \
            or g.dtype not in _SUFFIX or not rows.flags.c_contiguous or _lib() is None:
        return False
    m, o, p = g.shape
    g = np.ascontiguousarray(g)
    getattr(_lib(), "from_nchw_" + _SUFFIX[g.dtype])(
        _ptr(g), _ptr(rows), *_longs((m, p, o, rows.shape[1])),
        _INTS[1] if rows.size < _SERIAL_VALUES else ctypes.c_int(_nt(rows.size)))
    return True


def rs_mm(fn, ns, p, n, k, kh, a, lda, ans, aks, b, ldb, bks, tb, c, ldc, cns, cks,
          beta0=0, zlen=0, r=64):
    """Run the C ``rs_mm`` (row-shift products ``C_k += A_k @ B_k`` per sample and kernel
    row, NOTE [ Row-shift convolution ]) with the CBLAS gemm at address ``fn``; ``a``,
    ``b``, ``c`` are arrays (offsets and strides in elements); ``zlen`` > 0 zeroes each
    sample's first ``zlen`` values of ``c`` first."""
    l1 = _longs((ns, p, n, k, kh))
    l2 = _longs((lda, ans, aks, ldb, bks, ldc, cns, cks))
    getattr(_lib(), "rs_mm_" + _SUFFIX[c.dtype])(
        ctypes.c_void_p(fn), ctypes.c_int(112 if tb else 111), *l1, _ptr(a), *l2[:3],
        _ptr(b), *l2[3:5], _ptr(c), *l2[5:], ctypes.c_int(beta0), ctypes.c_int(zlen > 0),
        *_longs((zlen, r)), ctypes.c_int(_threads(ns * p * n * k * kh)))


def rs_mmw(fn, ns, p, o, n, kh, s, xns, gy, x, g, r):
    """Run the C ``rs_mmw`` (the row-shift weight gradient's products into ``g (O,
    kh*n)``, summed over samples and their ``p`` rows)."""
    getattr(_lib(), "rs_mmw_" + _SUFFIX[g.dtype])(
        ctypes.c_void_p(fn), _L(ns), _L(p), _L(o), _L(n), _L(kh), _L(s), _L(xns), _ptr(gy),
        _ptr(x), _ptr(g), _L(r), ctypes.c_int(get_num_threads()))


def rs_unpack(cols, lo, kw, sw, dw, gx):
    """The adjoint of :func:`rs_pack`: ``gx (N, C, H, W)`` (contiguous, written) from
    ``cols (N, hp, ow, kw, C)``, each value added at ``x[n, c, h - lo[0], j*sw + t*dw -
    lo[1]]`` (positions outside ``gx`` dropped); False where the kernel does not apply."""
    if not _ok(gx) or gx.ndim != 4 or type(cols) is not np.ndarray \
            or cols.dtype != gx.dtype or not gx.flags.c_contiguous or _lib() is None:
        return False
    cols = np.ascontiguousarray(cols)
    _rs_copy("rs_unpack_", cols, gx, gx.shape, cols.shape[1:3], kw, sw, lo, dw)
    return True


def _rs_copy(name, src, dst, nchw, hp_ow, kw, sw, lo, dw):
    """Call the C row-shift pack/unpack ``name`` (``rs_pack_``/``rs_unpack_``) from ``src``
    into ``dst`` for the (N, C, H, W) image ``nchw`` and (hp, ow) packed rows."""
    if dst.size:
        getattr(_lib(), name + _SUFFIX[dst.dtype])(
            _ptr(src), _ptr(dst), *_longs((*nchw, *hp_ow, kw, sw, lo[0], lo[1], dw)),
            ctypes.c_int(_nt(max(src.size, dst.size))))


def rs_pack(x, lo, kw, sw, dw, hp, ow, buf):
    """Row-shift packing: ``buf (N, hp, ow, kw, C)`` (contiguous) from ``x (N, C, H, W)``,
    ``buf[n, h, j, t, c] = x[n, c, h - lo[0], j*sw + t*dw - lo[1]]`` (zeros outside ``x``);
    False where the kernel does not apply (nothing written)."""
    if not _ok(x) or x.ndim != 4 or type(buf) is not np.ndarray or buf.dtype != x.dtype \
            or not buf.flags.c_contiguous or _lib() is None:
        return False
    x = np.ascontiguousarray(x)
    _rs_copy("rs_pack_", x, buf, x.shape, (hp, ow), kw, sw, lo, dw)
    return True


def col2im_l(cols, b, y, inp, ks, s, lo, d):
    """Channels-last col2im into ``y (M, C, *out)`` (contiguous): ``cols (M, *inp, *ks,
    C)`` summed at ``inp_pos * s - lo + k * d`` (outside ``out``: dropped), plus the bias
    ``b`` (or None); False where the kernel does not apply (nothing written)."""
    arrs = (cols, y) if b is None else (cols, y, b)
    if not all(type(a) is np.ndarray and a.dtype == y.dtype for a in arrs) \
            or y.dtype not in _SUFFIX or not y.flags.c_contiguous or len(ks) > 2 \
            or y.ndim != len(ks) + 2 or _lib() is None:
        return False
    cols = np.ascontiguousarray(cols)
    b = None if b is None else np.ascontiguousarray(b)
    m, c = y.shape[:2]
    _run("col2im_l_" + _SUFFIX[y.dtype], (cols, b, y), m, c,
         _geom(y.shape[2:], inp, ks, s, lo, d))
    return True


def _fused_ok(x, w, b, y):
    arrs = (x, w, y) if b is None else (x, w, y, b)
    return (all(type(a) is np.ndarray and a.dtype == y.dtype for a in arrs)
            and y.dtype in _SUFFIX and y.ndim == 4 and x.ndim == 4 and y.flags.c_contiguous
            and _lib() is not None)


_SERIAL_MACS = 1 << 21  # multiply-adds below which one thread beats waking the others


def _threads(macs):
    return 1 if macs < _SERIAL_MACS else get_num_threads()


def _call(name, args, nt):
    """Run the fused kernel ``name`` on ``nt`` threads, each calling the BLAS on one thread
    (NOTE [ Direct GEMM binding ]); MemoryError when its buffers could not be allocated."""
    from ember._codegen import blas

    fn = getattr(_lib(), name)
    if nt > 1:
        with blas.one_thread():
            bad = fn(*args, ctypes.c_int(nt))
    else:
        bad = fn(*args, ctypes.c_int(nt))
    if bad:
        what = {"ct": "conv_transpose", "cv": "convolution",
                "cw": "convolution weight gradient"}[name[:2]]
        raise MemoryError(f"{what}: out of memory for the fused kernel's per-thread buffers")


def _bands(m, rows, nt):
    """Rows per task: at least 2 tasks per thread where the batch is small, whole planes
    (one task per sample) where it is not or there is one thread."""
    per = max(1, -(-2 * nt // max(1, m))) if nt > 1 else 1
    return max(1, -(-rows // per)) if per > 1 else rows


def ct_fused(fn, x, wl, b, y, ks, s, lo, d):
    """Fused 2-d transposed convolution into ``y (M, Co, H, W)`` (contiguous, written) of
    ``x (M, Ci, IH, IW)`` with ``wl (Ci, KH*KW*Co)`` (the weight in (Ci, KH, KW, Co)
    order) and bias ``b`` (or None), through the CBLAS gemm at ``fn`` on each thread (NOTE
    [ Fused strided convolution kernels ]); False where it does not apply."""
    if not _fused_ok(x, wl, b, y):
        return False
    x = np.ascontiguousarray(x)
    wl = np.ascontiguousarray(wl)
    b = None if b is None else np.ascontiguousarray(b)
    m, ci, ih, iw = x.shape
    co, h, w_ = y.shape[1:]
    kc = ks[0] * ks[1] * co
    nt = _threads(m * ih * iw * ci * kc)
    # GEMM pieces of ~10**6 multiply-adds (OpenBLAS's small-matrix path, NOTE [ Row-split
    # GEMMs ] in _ops/conv.py), whole input rows
    rb = max(1, min(ih, 1_000_000 // max(1, iw * kc * ci)))
    bh = _bands(m, h, nt)
    _call("ct_fused_" + _SUFFIX[y.dtype], (
        ctypes.c_void_p(fn), _ptr(x), _ptr(wl), _ptr(b), _ptr(y),
        *[_L(v) for v in (m, ci, ih, iw, co, h, w_, *ks, *s, *lo, *d, bh, rb)]), nt)
    return True


def cv_fused(fn, x, wt, b, y, ks, s, lo, d):
    """Fused 2-d convolution forward into ``y (M, O, OH, OW)`` (contiguous, written) of
    ``x (M, C, H, W)`` with ``wt (KH*KW*C, O)`` (the weight in (KH, KW, C) row order) and
    bias ``b`` (or None), through the CBLAS gemm at ``fn`` on each thread (NOTE [ Fused
    strided convolution kernels ]); False where it does not apply."""
    if not _fused_ok(x, wt, b, y):
        return False
    x = np.ascontiguousarray(x)
    wt = np.ascontiguousarray(wt)
    b = None if b is None else np.ascontiguousarray(b)
    m, c, h, w_ = x.shape
    o, oh, ow = y.shape[1:]
    kkc = ks[0] * ks[1] * c
    nt = _threads(m * oh * ow * kkc * o)
    rb = max(1, min(oh, 1_000_000 // max(1, ow * kkc * o)))
    rb = min(rb, _bands(m, oh, nt))
    _call("cv_fused_" + _SUFFIX[y.dtype], (
        ctypes.c_void_p(fn), _ptr(x), _ptr(wt), _ptr(b), _ptr(y),
        *[_L(v) for v in (m, c, h, w_, o, oh, ow, *ks, *s, *lo, *d, rb)]), nt)
    return True


def cw_fused(fn, x, gy, g, ks, s, lo, d):
    """Fused 2-d convolution weight gradient into ``g (O, KH*KW*C)`` (contiguous, written;
    (O, KH, KW, C) order) of ``x (M, C, H, W)`` given ``gy (M, O, OH, OW)``, through the
    CBLAS gemm at ``fn`` on each thread (NOTE [ Fused strided convolution kernels ]); False
    where it does not apply."""
    if not (all(type(a) is np.ndarray and a.dtype == g.dtype for a in (x, gy, g))
            and g.dtype in _SUFFIX and x.ndim == gy.ndim == 4 and g.ndim == 2
            and g.flags.c_contiguous and _lib() is not None):
        return False
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(gy)
    m, c, h, w_ = x.shape
    o, oh, ow = gy.shape[1:]
    kkc = ks[0] * ks[1] * c
    # bands of ~10**6 multiply-adds (the rows are the GEMM's reduction)
    rb = max(1, min(oh, 1_000_000 // max(1, ow * kkc * o)))
    _call("cw_fused_" + _SUFFIX[g.dtype], (
        ctypes.c_void_p(fn), _ptr(x), _ptr(gy), _ptr(g),
        *[_L(v) for v in (m, c, h, w_, o, oh, ow, *ks, *s, *lo, *d, rb)]),
        _threads(m * oh * ow * kkc * o))
    return True
