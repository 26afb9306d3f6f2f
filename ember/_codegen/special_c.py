"""Hand-written C kernels for the eager special functions digamma, lgamma and erf, built and
cached like the generated kernels.

NOTE [ Special-function kernels in C ]
The NumPy kernels (``_backends/special_math.py``) and SciPy's are single-threaded, and the
NumPy ones take 10-40 array passes per function; PyTorch runs these ops as one vectorised,
multi-threaded loop. Here each is one OpenMP loop over a contiguous host array, compiled
through ``build.load`` (same compiler, flags, disk cache and instruction-set level as the
generated kernels; no FMA contraction, no fast-math):

- ``digamma``: the algorithm of the NumPy kernel (reflection below 1/2, recurrence to
  x >= 10, the asymptotic series with B2..B16), in double for both float types;
- ``lgamma``: libm's ``lgamma_r``/``lgammaf_r`` (the reentrant forms: the plain ones
  write the global ``signgam`` from every thread), as PyTorch's ``std::lgamma``;
- ``erf``: libm's in double; in float32 the NumPy backend's rational approximation,
  operation for operation (bitwise the same results as the NumPy path and the generated
  kernels).

CPU time for 1M values on one thread (this shared machine, rough; PyTorch / C / the backend
kernel, i.e. SciPy): erf float32 1.3 / 0.4 / 2.6 ms, float64 3.1 / 7.6 / 14.4; lgamma
float32 5.2 / 13.2 / 25.1, float64 13.4 / 14.3 / 24.4; digamma about 20 ms for all three,
so its gain is the threads (PyTorch's loop is multi-threaded, SciPy's is not). erfc
(libm's erfcf, 27 vs 14 ms) and erfinv (Giles' start plus Newton steps, 37-54 vs 13 ms) were
slower in C than SciPy's and stay on the backend.

Each function returns ``None`` where it does not apply (not a host NumPy array, not
float32/float64, fewer than ``MIN_SIZE`` elements, no compiler, ``EMBER_JIT_DISABLE``), and
the caller runs the backend kernel.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen import build
from ember._codegen.kernel import disabled, get_num_threads

MIN_SIZE = 4096  # below this the ctypes call costs more than the NumPy/SciPy kernel

_SRC = r"""
#include <math.h>

static const double B2K[8] = {1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66,
                              -691.0 / 2730, 7.0 / 6, -3617.0 / 510};

static double ember_digamma(double x)
{
    if (isnan(x) || x == INFINITY) return x;
    if (x == 0.0) return copysign(INFINITY, -x);
    if (x < 0.0 && x == floor(x)) return NAN;
    double refl = 0.0;
    if (x < 0.5) {  /* psi(x) = psi(1 - x) - pi cot(pi x), the argument reduced first */
        double r = x - nearbyint(x);
        refl = M_PI / tan(M_PI * r);
        x = 1.0 - x;
    }
    double acc = 0.0;
    while (x < 10.0) { acc -= 1.0 / x; x += 1.0; }
    double inv2 = 1.0 / (x * x), p = inv2, s = 0.0;
    for (int k = 1; k <= 8; k++) { s += B2K[k - 1] / (2 * k) * p; p *= inv2; }
    return log(x) - 0.5 / x - s + acc - refl;
}

/* erf for float32: x P(x^2) / Q(x^2) on [-4, 4], the NumPy backend's approximation */
static inline float ember_erf32(float x)
{
    static const float P[7] = {-2.72614225801306e-10f, 2.77068142495902e-08f,
        -2.10102402082508e-06f, -5.69250639462346e-05f, -7.34990630326855e-04f,
        -2.95459980854025e-03f, -1.60960333262415e-02f};
    static const float Q[5] = {-1.45660718464996e-05f, -2.13374055278905e-04f,
        -1.68282697438203e-03f, -7.37332916720468e-03f, -1.42647390514189e-02f};
    float c = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
    if (x != x) c = x;
    float x2 = c * c, p = P[0], q = Q[0];
    for (int i = 1; i < 7; i++) { p *= x2; p += P[i]; }
    for (int i = 1; i < 5; i++) { q *= x2; q += Q[i]; }
    p *= c;
    p /= q;
    return p;
}

#define LOOP(NAME, T, EXPR)                                                            \
void NAME(const T* x, T* y, long n, int nt)                                            \
{                                                                                      \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                       \
    for (long i = 0; i < n; i++) { T v = x[i]; y[i] = (T)(EXPR); }                     \
}

LOOP(digamma_f64, double, ember_digamma(v))
LOOP(digamma_f32, float, ember_digamma((double)v))
LOOP(lgamma_f64, double, ({ int s; lgamma_r(v, &s); }))
LOOP(lgamma_f32, float, ({ int s; lgammaf_r(v, &s); }))
LOOP(erf_f64, double, erf(v))
LOOP(erf_f32, float, ember_erf32(v))
"""

NAMES = ("digamma", "lgamma", "erf")
_LIB = []
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _lib():
    """The compiled library, or None (no compiler, or kernels disabled)."""
    if disabled():
        return None
    if not _LIB:
        try:
            lib = build.load("#define _GNU_SOURCE\n" + _SRC)
        except build.CompilerMissing:
            lib = None
        if lib is not None:
            for name in NAMES:
                for sfx in ("f32", "f64"):
                    getattr(lib, f"{name}_{sfx}").restype = None
        _LIB.append(lib)
    return _LIB[0]


def run(name, x):
    """``name`` (one of ``NAMES``) of the host array ``x`` by its C kernel, or None where the
    kernel does not apply (the caller then runs its backend kernel)."""
    if type(x) is not np.ndarray or x.size < MIN_SIZE:
        return None
    sfx = _SUFFIX.get(x.dtype)
    if sfx is None:
        return None
    lib = _lib()
    if lib is None:
        return None
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    getattr(lib, f"{name}_{sfx}")(ctypes.c_void_p(x.ctypes.data), ctypes.c_void_p(y.ctypes.data),
                                  ctypes.c_long(x.size), ctypes.c_int(get_num_threads()))
    return y
