"""Hand-written threaded C kernel for the backward of ``cdist`` with p = 1, 2 or infinity.

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

from ember._codegen.kernel import c_library, get_num_threads

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
"""

_TYPES = {np.dtype(np.float32): ("float", "f32"), np.dtype(np.float64): ("double", "f64")}
_L = ctypes.c_long
_I = ctypes.c_int
_P = ctypes.c_void_p
_SERIAL_BELOW = 1 << 16  # N * M * D below which one thread beats waking the others

_lib = c_library("".join(_TEMPLATE.replace("$T", t).replace("$S", s)
                         for t, s in _TYPES.values()),
                 [s + "_cdist_bwd" for _, s in _TYPES.values()])


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
            fn(_P(x1c.ctypes.data), _P(x2c.ctypes.data), _P(gc.ctypes.data),
               _P(dc.ctypes.data), _P(out.ctypes.data), _L(b), _L(n), _L(m), _L(d),
               _I(code), _I(side), _I(nt))
    return g1, g2
