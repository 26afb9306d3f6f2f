"""Hand-written threaded C kernels for ``cdist`` with p = 1, 2 or infinity: the forward and
the backward.

NOTE [ cdist forward kernel ]
The NumPy forward (NOTE [ cdist without an N x M x D intermediate ] in _ops/matrices.py)
makes one N x M difference array per coordinate block, then |t| or t*t, a sum and an add:
several passes over megabytes, on one thread (500 x 400 x 64 float32 p = 1: 7.8 ms, PyTorch
8.5 ms on one thread). Here x2 is transposed once to (D, M), so that for one row of x1 the
distances to all M rows grow by one coordinate at a time in a contiguous, vectorised pass;
four rows of x1 share each load of x2's coordinate row, and (batch, group of four rows)
tasks are split over the threads: 0.67 ms on one thread (p = 1; p = inf 1.1 ms). The
coordinates add in order (the NumPy form's block sums differ only by rounding); inf takes
NumPy's maximum (NaN propagates). Other p (0, fractional, > 2) keep the NumPy form.

NOTE [ cdist backward kernel ]
The NumPy backward forms the (B, N, M, k) coordinate differences block by block, a
gradient factor per difference (several full-size temporaries) and two sums over it; for
500 x 400 x 64 points that is ~13 million differences, written and read several times. Here
the differences are never stored: ``g1[b, i] = sum_j f(x1[b, i] - x2[b, j])`` runs over rows
``i`` (threaded) with a D-long accumulator, and ``g2[b, j] = -sum_i f(...)`` over rows ``j``,
``f`` being PyTorch's per-element factor (as ``_cdist_term`` in _ops/matrices.py):

* p = 1: ``sign(t) * g``;
* p = 2: ``t * (g / d)``, 0 where the distance ``d`` is 0;
* p = inf: ``sign(t) * (|t| == d) * g``.

Operands are (B, N, D), (B, M, D) and (B, N, M) for the gradient and the distances, all
float32 or all float64, batches already equal (the caller broadcasts). Sums run in the
operand's dtype over ``j`` (``i``) in order, so results agree with the NumPy form to
rounding, not bitwise. Returns None where the kernel does not apply (another p or dtype, no
compiler, ``EMBER_JIT_DISABLE``) and the caller runs the NumPy form.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_TEMPLATE = r"""
static inline $T $S_f($T t, $T d, $T g, int p)
{
    if (p == 2) return d == 0 ? ($T)0 : t * (g / d);
    $T s = t > 0 ? ($T)1 : (t < 0 ? ($T)-1 : t);  /* sign: 0 at 0, NaN at NaN */
    if (p == 1) return s * g;
    $T a = t < 0 ? -t : t;
    return s * (a == d ? ($T)1 : ($T)0) * g;
}

/* side 0: g1 rows (over x1's N rows, summing x2's M); side 1: g2 rows, negated */
void $S_cdist_bwd(const $T* x1, const $T* x2, const $T* g, const $T* dist, $T* out, long B,
                  long N, long M, long D, int p, int side, int nt)
{
    long R = side ? M : N, S = side ? N : M;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < B * R; t++) {
        long b = t / R, r = t % R;
        $T* o = out + t * D;
        for (long k = 0; k < D; k++) o[k] = 0;
        for (long s = 0; s < S; s++) {
            long i = side ? s : r, j = side ? r : s;
            const $T* xi = x1 + (b * N + i) * D;
            const $T* xj = x2 + (b * M + j) * D;
            $T gv = g[(b * N + i) * M + j], dv = dist[(b * N + i) * M + j];
            if (p == 2) {
                if (dv == 0) continue;
                $T c = gv / dv;
                for (long k = 0; k < D; k++) o[k] += (xi[k] - xj[k]) * c;
            } else {
                for (long k = 0; k < D; k++) o[k] += $S_f(xi[k] - xj[k], dv, gv, p);
            }
        }
        if (side)
            for (long k = 0; k < D; k++) o[k] = -o[k];
    }
}

/* Forward (NOTE [ cdist forward kernel ]): out (B, N, M) from x1 (B, N, D) and x2t (B, D,
   M) (x2 transposed: each coordinate's values contiguous over the M rows), p = 1 (sum of
   |t|), 2 (sqrt of the sum of t*t) or 0 for infinity (max of |t|); rows of x1 in groups of
   four share every load of x2t, threaded over (batch, group). Coordinates add in order. */
void $S_cdist_fwd(const $T* x1, const $T* x2t, $T* out, long B, long N, long M, long D,
                  int p, int nt)
{
    long G = (N + 3) / 4;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (long t = 0; t < B * G; t++) {
        long b = t / G, i0 = t % G * 4, ni = N - i0 < 4 ? N - i0 : 4;
        const $T* xb = x2t + b * D * M;
        $T* o[4];
        $T v[4];
        for (long r = 0; r < 4; r++) o[r] = out + (b * N + i0 + (r < ni ? r : 0)) * M;
        for (long r = 0; r < ni; r++)
            for (long j = 0; j < M; j++) o[r][j] = 0;
        for (long k = 0; k < D; k++) {
            const $T* xk = xb + k * M;
            for (long r = 0; r < 4; r++) v[r] = x1[(b * N + i0 + (r < ni ? r : 0)) * D + k];
            $T* restrict o0 = o[0];
            $T* restrict o1 = o[1];
            $T* restrict o2 = o[2];
            $T* restrict o3 = o[3];
            if (ni == 4) {
                if (p == 1) {
                    #pragma omp simd
                    for (long j = 0; j < M; j++) {
                        $T a = xk[j];
                        o0[j] += $A(v[0] - a); o1[j] += $A(v[1] - a);
                        o2[j] += $A(v[2] - a); o3[j] += $A(v[3] - a);
                    }
                } else if (p == 2) {
                    #pragma omp simd
                    for (long j = 0; j < M; j++) {
                        $T a = xk[j], d0 = v[0] - a, d1 = v[1] - a, d2 = v[2] - a,
                           d3 = v[3] - a;
                        o0[j] += d0 * d0; o1[j] += d1 * d1; o2[j] += d2 * d2; o3[j] += d3 * d3;
                    }
                } else {
                    #pragma omp simd
                    for (long j = 0; j < M; j++) {
                        $T a = xk[j], d0 = $A(v[0] - a), d1 = $A(v[1] - a),
                           d2 = $A(v[2] - a), d3 = $A(v[3] - a);
                        /* NaN propagates as in NumPy's maximum */
                        o0[j] = (d0 > o0[j] || d0 != d0) ? d0 : o0[j];
                        o1[j] = (d1 > o1[j] || d1 != d1) ? d1 : o1[j];
                        o2[j] = (d2 > o2[j] || d2 != d2) ? d2 : o2[j];
                        o3[j] = (d3 > o3[j] || d3 != d3) ? d3 : o3[j];
                    }
                }
                continue;
            }
            for (long r = 0; r < ni; r++) {
                $T* restrict orow = o[r];
                $T vr = v[r];
                #pragma omp simd
                for (long j = 0; j < M; j++) {
                    $T d = vr - xk[j];
                    if (p == 1) orow[j] += $A(d);
                    else if (p == 2) orow[j] += d * d;
                    else {
                        d = $A(d);
                        orow[j] = (d > orow[j] || d != d) ? d : orow[j];
                    }
                }
            }
        }
        if (p == 2)
            for (long r = 0; r < ni; r++)
                for (long j = 0; j < M; j++) o[r][j] = $Q(o[r][j]);
    }
}
"""

_TYPES = {np.dtype(np.float32): ("float", "f32"), np.dtype(np.float64): ("double", "f64")}
_L = ctypes.c_long
_I = ctypes.c_int
_P = ctypes.c_void_p
_SERIAL_BELOW = 1 << 16  # N * M * D below which one thread beats waking the others

_MATH = {"f32": ("fabsf", "sqrtf"), "f64": ("fabs", "sqrt")}  # $A, $Q per type
_lib = c_library("#include <math.h>\n" + "".join(
    _TEMPLATE.replace("$T", t).replace("$S", s).replace("$A", _MATH[s][0])
    .replace("$Q", _MATH[s][1]) for t, s in _TYPES.values()),
    [s + k for _, s in _TYPES.values() for k in ("_cdist_bwd", "_cdist_fwd")])


def cdist_backward(g, x1, x2, dist, p):
    """``(grad_x1, grad_x2)`` of ``cdist(x1, x2, p)`` for p in (1, 2, inf), or None where the
    kernel does not apply. ``x1`` (..., N, D), ``x2`` (..., M, D), ``g`` and ``dist``
    (..., N, M) with the same batch dimensions."""
    code = {1.0: 1, 2.0: 2, float("inf"): 0}.get(float(p))
    arrays = (g, x1, x2, dist)
    if (code is None or any(type(a) is not np.ndarray for a in arrays)
            or x1.dtype not in _TYPES or any(a.dtype != x1.dtype for a in arrays)
            or x1.ndim < 2 or x1.shape[:-2] != x2.shape[:-2]
            or g.shape != x1.shape[:-1] + (x2.shape[-2],) or dist.shape != g.shape):
        return None
    lib = _lib()
    if lib is None:
        return None
    n, d = x1.shape[-2:]
    m = x2.shape[-2]
    b = 1
    for s in x1.shape[:-2]:
        b *= s
    x1c, x2c, gc, dc = (np.ascontiguousarray(a) for a in (x1, x2, g, dist))
    g1 = np.empty(x1.shape, x1.dtype)
    g2 = np.empty(x2.shape, x1.dtype)
    if g1.size == 0 and g2.size == 0:
        return g1, g2
    nt = 1 if n * m * d < _SERIAL_BELOW else get_num_threads()
    fn = getattr(lib, _TYPES[x1.dtype][1] + "_cdist_bwd")
    for side, out in ((0, g1), (1, g2)):
        if out.size:
            fn(data_ptr(x1c), data_ptr(x2c), data_ptr(gc),
               data_ptr(dc), data_ptr(out), _L(b), _L(n), _L(m), _L(d),
               _I(code), _I(side), _I(nt))
    return g1, g2


def cdist_forward(x1, x2, p):
    """``cdist(x1, x2, p)`` for p in (1, 2, inf) as ``(..., N, M)`` (NOTE [ cdist forward
    kernel ]), or None where the kernel does not apply. ``x1`` (..., N, D) and ``x2``
    (..., M, D) of one dtype, batch dimensions broadcast here."""
    code = {1.0: 1, 2.0: 2, float("inf"): 0}.get(float(p))
    if (code is None or type(x1) is not np.ndarray or type(x2) is not np.ndarray
            or x1.dtype not in _TYPES or x2.dtype != x1.dtype or x1.ndim < 2 or x2.ndim < 2):
        return None
    lib = _lib()
    if lib is None:
        return None
    n, d = x1.shape[-2:]
    m = x2.shape[-2]
    batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    out = np.empty(batch + (n, m), x1.dtype)
    if out.size == 0:
        return out
    if d == 0:
        out.fill(0)
        return out
    x1c = np.ascontiguousarray(np.broadcast_to(x1, batch + (n, d)))
    x2t = np.ascontiguousarray(np.broadcast_to(x2, batch + (m, d)).swapaxes(-1, -2))
    b = out.size // (n * m)
    nt = 1 if n * m * d < _SERIAL_BELOW else get_num_threads()
    getattr(lib, _TYPES[x1.dtype][1] + "_cdist_fwd")(
        data_ptr(x1c), data_ptr(x2t), data_ptr(out), _L(b), _L(n), _L(m),
        _L(d), _I(code), _I(nt))
    return out
