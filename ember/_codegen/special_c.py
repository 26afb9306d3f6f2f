"""Hand-written C kernels for the eager special functions digamma, lgamma, erf, erfc and
erfinv, built and cached like the generated kernels.

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
so its gain is the threads (PyTorch's loop is multi-threaded, SciPy's is not).

NOTE [ erfc and erfinv kernels ]
libm's ``erfc``/``erfcf`` and a scalar erfinv were slower in C than SciPy's (27 vs 14 ms,
37-54 vs 13 ms per 1M): their loops do not vectorise. These are written without libm calls
and without branches, so the compiler vectorises them. Float64 ``erfc(x)`` is ``1 - x P(x^2)``
(erf's Taylor series) below 1/2 and ``exp(-x^2) erfcx(x)`` above, ``erfcx(x) (x + 2)`` a
Chebyshev fit in ``(x - 2)/(x + 2)`` (degree 24, 1e-15, coefficients fitted against mpmath),
``exp`` a Taylor polynomial with the exponent built by bit arithmetic and ``x^2``'s rounding
error taken from an ``fma``: within 8 ulps of libm's (4 ulps of the true value; and, unlike
SciPy's Cephes routine, not flushed to zero beyond 26.6: libm's subnormals). Float64 erfinv
(a Newton form needed four steps in the far tail and was slower than SciPy's) stays on the
backend.

Float32 results compute in double with the lowest polynomial degrees that keep the double
value within ~1e-9 relative (a float32 ulp is 6e-8), so the one rounding to float32 leaves
every result within 0.51 ulp (erfc) and 0.61 ulp (erfinv) of SciPy's float64 value rounded,
PyTorch's being within 0.92 and 0.50. A float32-arithmetic version ran twice as fast but was
up to 4.5 ulps off (the exp, the fit and the divisions each round once in float), and
double-float corrections cost more than the double arithmetic they replace. ``erfc`` is one
branch for every ``|x|``: ``exp(-a^2) erfcx(a)`` with ``erfcx(a) (a + 2)`` of degree 11 in
``(a - 2)/(a + 2)`` on [0, 10.1] (3.7e-10; beyond 10.1 float32's result is 0), exp of degree
8, and ``2 - erfc(|x|)`` below 0; no Taylor branch beside it, since a vectorised loop
evaluates both branches of a select. ``erfinv`` is ``y P(w)``, ``w = -log(1 - y^2)`` (Giles'
variable, log by the atanh series), ``P`` of degree 9 in ``w / 5`` below ``w = 5`` and in
``sqrt(w)`` above (6e-9, fitted to SciPy's float64 erfinv). The tail (``|y| >= 0.99663``,
0.3% of uniform inputs) is rare, so the loop runs in blocks of 512: the vectorised pass
evaluates the central polynomial only and counts tail inputs, and a block with some runs
them again with both; evaluating both everywhere cost 40% more. CPU time per 1M float32 on
one thread (this shared machine): erfc 1.7 ms (the earlier degree-14/24 double kernel 4.4,
PyTorch 1.8), erfinv 2.1 ms (earlier 4.0, PyTorch 1.9). The helpers are ``always_inline``:
a call left in a loop stops its vectorisation. The gradients are one pass each as well
(``run_grad``, used by the records' backward when no graph is built over it; erfinv's
recomputes erfinv, as PyTorch's formula does): erfc's 1.1 ms, erfinv's 1.8 ms (was 5.7).

Each function returns ``None`` where it does not apply (not a host NumPy array, not
float32/float64, fewer than ``MIN_SIZE`` elements, no compiler, ``EMBER_JIT_DISABLE``), and
the caller runs the backend kernel.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen import build
from ember._codegen.kernel import data_ptr, disabled, get_num_threads

MIN_SIZE = 64  # below this the ctypes call (~2 us) costs more than the NumPy/SciPy kernel
SERIAL_BELOW = 1 << 14  # one thread below this: the others' wake-up costs more than the work


def _threads(n):
    return 1 if n < SERIAL_BELOW else get_num_threads()

_SRC = r"""
#include <math.h>
#include <stdint.h>
#include <string.h>

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


/* always inlined: a call left in a loop stops its vectorisation */
#define AI inline __attribute__((always_inline))

/* erfc and erfinv (NOTE [ erfc and erfinv kernels ]): branch-free double arithmetic the
 * compiler vectorises, no libm calls in the loop. */
static const double ERFCX_C[25] = {  /* erfcx(x) (x + 2), Chebyshev in 1.25 (x-2)/(x+2) - .25 */
    0.97399497931867607, -0.48202889723521325, 0.078343160396038558,
    -0.005640402632518084, -0.00063800517602861419, 0.00015524916589251884,
    7.8095178061246967e-06, -4.2130020109801353e-06, -2.3438312293287387e-07,
    1.2917225945375491e-07, 1.3095856055324613e-08, -4.0352943343338814e-09,
    -7.9648014367656463e-10, 9.9522714799387252e-11, 4.4278919640962673e-11,
    3.4718139542402861e-13, -2.0524912584503271e-12, -2.890395868696071e-13,
    6.3239575168483964e-14, 2.4805697309407544e-14, 5.9292367187706633e-16,
    -1.3319979386902049e-15, -3.090807354889282e-16, 1.0258762466722321e-16,
    5.4059079646671175e-17};
static const double ERF_T[13] = {  /* erf(x) / x, Taylor in x^2: 2/sqrt(pi) (-1)^n/(n!(2n+1)) */
    1.1283791670955126, -0.37612638903183754, 0.11283791670955126,
    -0.026866170645131252, 0.0052239776254421879, -0.00085483270234508533,
    0.00012055332981789664, -1.492565035840625e-05, 1.6462114365889248e-06,
    -1.6365844691234924e-07, 1.4807192815879218e-08, -1.2290555301717928e-09,
    9.4227590646504113e-11};

static AI double ember_bits2d(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static AI uint64_t ember_d2bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/* exp(-s) for s in [0, 1400]: s = k ln2 - r, |r| <= ln2 / 2, degree-13 Taylor polynomial of
 * exp(r), 2^k applied in two halves so results down to the subnormals stay right */
static AI double ember_exp_neg(double s)
{
    double z = -s * 1.4426950408889634;
    double kd = (z + 0x1.8p52) - 0x1.8p52;  /* round to nearest; no fast-math to undo it */
    double r = (-s - kd * 6.93147180369123816490e-01) - kd * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0; p = p * r + 1.0 / 39916800.0; p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0; p = p * r + 1.0 / 40320.0; p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0; p = p * r + 1.0 / 120.0; p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0; p = p * r + 0.5; p = p * r + 1.0; p = p * r + 1.0;
    int64_t k = (int64_t)(ember_d2bits(kd + 0x1.8p52) - 0x4338000000000000ULL);
    int64_t k1 = k >> 1, k2 = k - k1;
    return p * ember_bits2d((uint64_t)(k1 + 1023) << 52)
             * ember_bits2d((uint64_t)(k2 + 1023) << 52);
}

/* log(v) for finite normal v > 0: v = 2^e m, m in [sqrt(1/2), sqrt(2)), the atanh series */
static AI double ember_log(double v)
{
    uint64_t u = ember_d2bits(v);
    double m = ember_bits2d((u & 0xfffffffffffffULL) | 0x3ff0000000000000ULL);
    double e = ember_bits2d(0x4330000000000000ULL | (u >> 52)) - 4503599627371519.0;
    int big = m > 1.4142135623730951;
    m = big ? 0.5 * m : m;
    e = big ? e + 1.0 : e;
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, p = 1.0 / 21;
    _Pragma("GCC unroll 32")
    for (int k = 9; k >= 0; k--) p = p * s2 + 1.0 / (2 * k + 1);
    return e * 6.93147180369123816490e-01 + (e * 1.90821492927058770002e-10 + 2.0 * s * p);
}

/* erf(a) / a for |a| < 1/2 */
static AI double ember_erf_small(double a)
{
    double a2 = a * a, p = ERF_T[12];
    _Pragma("GCC unroll 32")
    for (int k = 11; k >= 0; k--) p = p * a2 + ERF_T[k];
    return p;
}

/* erfc(a) for a >= 0 (inf included): 1 - erf below 1/2, else exp(-a^2) erfcx(a), with a^2's
 * rounding error (fma) folded in so large a keeps its relative accuracy. SFX names the
 * variant (_d: float64 results, degree 24). */
#define ERFC_FUNCS(SFX, C, N)                                                              \
static AI double ember_erfc_nonneg##SFX(double a)                                      \
{                                                                                          \
    double b = a < 0.5 ? 0.5 : (a < 30.0 ? a : 30.0);                                      \
    double t = (b - 2.0) / (b + 2.0), u = 1.25 * t - 0.25, u2 = 2.0 * u, b1 = 0.0, b2 = 0.0; \
    _Pragma("GCC unroll 32")                                                               \
    for (int k = N; k >= 1; k--) { double b0 = C[k] + u2 * b1 - b2; b2 = b1; b1 = b0; }    \
    double g = C[0] + u * b1 - b2;                                                         \
    double s = b * b, e = fma(b, b, -s);                                                   \
    double big = ember_exp_neg(s) * (1.0 - e) * (g / (b + 2.0));                           \
    double small = 1.0 - a * ember_erf_small(a < 0.5 ? a : 0.0);                           \
    return a < 0.5 ? small : big;                                                          \
}                                                                                          \
                                                                                           \
static AI double ember_erfc##SFX(double x)                                             \
{                                                                                          \
    double c = ember_erfc_nonneg##SFX(fabs(x));                                            \
    double r = (x < -0.5) ? 2.0 - c : (x < 0.0 ? 1.0 - x * ember_erf_small(x) : c);        \
    return x != x ? x : r;                                                                 \
}

ERFC_FUNCS(_d, ERFCX_C, 24)

/* float32 results (NOTE [ erfc and erfinv kernels ]): double arithmetic, polynomials of
 * the lowest degree that keeps the double result within ~1e-9 relative (a float32 ulp is
 * 6e-8), so the one rounding to float32 leaves results within ~0.6 ulp. */

/* exp(-s) for s in [-20, 110]: s = k ln2 - r, |r| <= ln2 / 2, degree-8 Taylor polynomial
 * (2e-10); 2^k in one factor, so results stay normal doubles down to float32's subnormals */
static AI double ember_exp_neg8(double s)
{
    double kd = (s * -1.4426950408889634 + 0x1.8p52) - 0x1.8p52;  /* round to nearest */
    double r = (-s - kd * 6.93147180369123816490e-01) - kd * 1.90821492927058770002e-10;
    double p = 1.0 / 40320;
    p = p * r + 1.0 / 5040; p = p * r + 1.0 / 720; p = p * r + 1.0 / 120;
    p = p * r + 1.0 / 24; p = p * r + 1.0 / 6; p = p * r + 0.5; p = p * r + 1.0;
    p = p * r + 1.0;
    return p * ember_bits2d((uint64_t)((int64_t)kd + 1023) << 52);
}

/* erfcx(x) (x + 2) on [0, 10.1] as a polynomial in t = (x - 2) / (x + 2), degree 11
 * (3.7e-10 relative; least squares in Chebyshev form against SciPy's erfcx, then expanded) */
static const double ERFCX_T[12] = {
    1.0215827053353141, -0.68716068844629, 0.27947208115689826, -0.036442078032324875,
    -0.021510383212965244, 0.006477584230667632, 0.003087840489785765,
    -0.000830858860587902, -0.000650214757900498, 2.5560590841716094e-05,
    0.0001169681625527414, 2.9477543520831138e-05};

/* erfc for float32 results: one branch, exp(-a^2) erfcx(a), for every |x| (no Taylor
 * branch beside it: both would be evaluated); 2 - erfc(|x|) below 0. Beyond 10.1 the
 * result (below half the smallest float32 subnormal) rounds to 0, inf included. */
static AI double ember_erfc_fs(double x)
{
    double a = fabs(x), b = a < 10.1 ? a : 10.1;
    double inv = 1.0 / (b + 2.0), t = (b - 2.0) * inv, g = ERFCX_T[11];
    _Pragma("GCC unroll 16")
    for (int i = 10; i >= 0; i--) g = g * t + ERFCX_T[i];
    double big = ember_exp_neg8(b * b) * (g * inv);
    double r = x < 0.0 ? 2.0 - big : big;
    return x != x ? x : r;
}

/* log(v) for finite normal v > 0 to ~1e-10 absolute: v = 2^e m, m in [sqrt(1/2), sqrt(2)),
 * the atanh series to s^9 */
static AI double ember_log9(double v)
{
    uint64_t u = ember_d2bits(v);
    double m = ember_bits2d((u & 0xfffffffffffffULL) | 0x3ff0000000000000ULL);
    double e = (double)((int64_t)(u >> 52) - 1023);
    int big = m > 1.4142135623730951;
    m = big ? 0.5 * m : m;
    e = big ? e + 1.0 : e;
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, p = 1.0 / 9;
    p = p * s2 + 1.0 / 7; p = p * s2 + 1.0 / 5; p = p * s2 + 1.0 / 3; p = p * s2 + 1.0;
    return e * 6.93147180559945309e-01 + 2.0 * s * p;
}

/* erfinv(y) / y as polynomials of degree 9 in Giles' w = -log(1 - y^2): in w / 5 for
 * w < 5 (|y| < 0.99663) and in (sqrt(w) - 3.1149) * 1.1378 from 5 to 15.94 (y = 1 - 2^-24),
 * relative error 6.5e-9 / 6.0e-9 against SciPy's float64 erfinv */
static const double ERFINV_V[10] = {
    0.8862269234957616, 1.1600686499800836, 0.2887274432609464, -0.29189672885058127,
    -0.07912701563107247, 0.13771295056051291, 0.06483095118856809, -0.15694118698162465,
    0.08767445959278544, -0.017463699344209455};
static const double ERFINV_S[10] = {
    2.9482132205976077, 0.8820038856278102, 0.005570160184688225, -0.003704025235075839,
    0.0023331189870842966, -0.001362356116419868, 0.0006140781907669475,
    -0.0001268713697096454, -6.590145531121174e-05, 4.1275049931163825e-05};
#define ERFINV_TAIL 0.99663f  /* |y| from which w may reach 5: the tail polynomial */

/* |y| >= 1 and NaN give garbage in the log (no traps: -fno-trapping-math), replaced at the
 * end. TAIL: the sqrt(w) polynomial where w >= 5 (else only the central one is built). */
static AI double ember_erfinv_fs(double y, int tail)
{
    double a = fabs(y);
    double w = -ember_log9((1.0 - a) * (1.0 + a)), p = ERFINV_V[9], tp = w * 0.2;
    _Pragma("GCC unroll 16")
    for (int i = 8; i >= 0; i--) p = p * tp + ERFINV_V[i];
    if (tail) {
        double q = ERFINV_S[9], tq = (sqrt(w) - 3.114929815150628) * 1.137835274168872;
        _Pragma("GCC unroll 16")
        for (int i = 8; i >= 0; i--) q = q * tq + ERFINV_S[i];
        p = w < 5.0 ? p : q;
    }
    double r = a < 1.0 ? p * a : (a == 1.0 ? INFINITY : NAN);
    return copysign(y != y ? y : r, y);
}

/* sqrt(pi)/2 exp(erfinv(v)^2): erfinv's derivative (e^2 <= 16 for float32 inputs) */
static AI double ember_erfinv_grad_fs(double v, int tail)
{
    double e = ember_erfinv_fs(v, tail), s = e * e;
    double r = 0.88622692545275801 * ember_exp_neg8(-s);
    return e != e ? e : (s == INFINITY ? INFINITY : r);
}

/* float32 erfinv loops in blocks: the vectorised loop evaluates the central polynomial only
 * and counts the block's tail inputs (0.3% of uniform ones); a block that has some gets
 * them again in a scalar loop with both polynomials. Evaluating both everywhere cost 40%
 * more (the tail's sqrt and second polynomial in every lane). */
#define ERFINV_BLOCKS(BODY, TAILBODY)                                                      \
    long nb = (n + 511) / 512;                                                             \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                           \
    for (long blk = 0; blk < nb; blk++) {                                                  \
        long lo = blk * 512, hi = lo + 512 < n ? lo + 512 : n;                             \
        int cnt = 0;                                                                       \
        for (long i = lo; i < hi; i++) {                                                   \
            float v = x[i], av = fabsf(v);                                                 \
            BODY;                                                                          \
            cnt += av >= ERFINV_TAIL && av < 1.0f;                                         \
        }                                                                                  \
        if (cnt)                                                                           \
            for (long i = lo; i < hi; i++) {                                               \
                float v = x[i], av = fabsf(v);                                             \
                if (av >= ERFINV_TAIL && av < 1.0f) { TAILBODY; }                          \
            }                                                                              \
    }

void erfinv_f32(const float* x, float* y, long n, int nt)
{
    ERFINV_BLOCKS(y[i] = (float)ember_erfinv_fs((double)v, 0),
                  y[i] = (float)ember_erfinv_fs((double)v, 1))
}

void erfinv_grad_f32(const float* gp, const float* x, float* y, long n, int nt)
{
    ERFINV_BLOCKS(y[i] = (float)((double)gp[i] * ember_erfinv_grad_fs((double)v, 0)),
                  y[i] = (float)((double)gp[i] * ember_erfinv_grad_fs((double)v, 1)))
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
LOOP(erfc_f64, double, ember_erfc_d(v))
LOOP(erfc_f32, float, ember_erfc_fs((double)v))

/* gradients (g, x) -> g d/dx f(x): erfc' = -2/sqrt(pi) exp(-x^2), erfinv' = sqrt(pi)/2
 * exp(erfinv(x)^2), one pass instead of the records' four or five */
#define LOOP2(NAME, T, EXPR)                                                           \
void NAME(const T* gp, const T* x, T* y, long n, int nt)                               \
{                                                                                      \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                       \
    for (long i = 0; i < n; i++) { double v = x[i], g = gp[i]; y[i] = (T)(EXPR); }     \
}

static AI double ember_erfc_grad(double v)
{
    double s = v * v;
    return v != v ? v : -1.1283791670955126 * ember_exp_neg(s < 1400.0 ? s : 1400.0);
}

static AI double ember_erfc_grad_fs(double v)
{
    double s = v * v;
    return v != v ? v : -1.1283791670955126 * ember_exp_neg8(s < 110.0 ? s : 110.0);
}

LOOP2(erfc_grad_f64, double, g * ember_erfc_grad(v))
LOOP2(erfc_grad_f32, float, g * ember_erfc_grad_fs(v))
"""

NAMES = ("digamma", "lgamma", "erf", "erfc", "erfinv")
_NOT_BUILT = {("erfinv", "f64")}  # slower than SciPy's (NOTE [ erfc and erfinv kernels ])
_LIB = []
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
GRADS = ("erfc_grad_f64", "erfc_grad_f32", "erfinv_grad_f32")


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
            for name in GRADS:
                getattr(lib, name).restype = None
            for name in NAMES:
                for sfx in ("f32", "f64"):
                    if (name, sfx) not in _NOT_BUILT:
                        getattr(lib, f"{name}_{sfx}").restype = None
        _LIB.append(lib)
    return _LIB[0]


def run(name, x):
    """``name`` (one of ``NAMES``) of the host array ``x`` by its C kernel, or None where the
    kernel does not apply (the caller then runs its backend kernel)."""
    if type(x) is not np.ndarray or x.size < MIN_SIZE:
        return None
    sfx = _SUFFIX.get(x.dtype)
    if sfx is None or (name, sfx) in _NOT_BUILT:
        return None
    lib = _lib()
    if lib is None:
        return None
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    getattr(lib, f"{name}_{sfx}")(data_ptr(x), data_ptr(y), ctypes.c_long(x.size),
                                  ctypes.c_int(_threads(x.size)))
    return y


def run_grad(name, g, x):
    """The gradient ``g * f'(x)`` of ``name`` ("erfc" or "erfinv") in one threaded pass, for
    host arrays ``g`` and ``x`` of one shape and float dtype, or None where the kernel does
    not apply (the caller then evaluates the record's formula).

    Args:
        name: "erfc" or "erfinv" (float32 only).
        g: the incoming gradient.
        x: the op's input.

    Returns:
        A new array, or None.

    Example:
        >>> import numpy as np
        >>> x = np.zeros(MIN_SIZE, np.float32)
        >>> r = run_grad("erfc", np.ones_like(x), x)
        >>> r is None or bool(np.allclose(r, -2 / np.sqrt(np.pi)))
        True
    """
    if type(x) is not np.ndarray or type(g) is not np.ndarray or x.size < MIN_SIZE or \
            g.shape != x.shape or g.dtype != x.dtype:
        return None
    fn = f"{name}_grad_{_SUFFIX.get(x.dtype)}"
    if fn not in GRADS:
        return None
    lib = _lib()
    if lib is None:
        return None
    x = np.ascontiguousarray(x)
    g = np.ascontiguousarray(g)
    y = np.empty_like(x)
    getattr(lib, fn)(data_ptr(g), data_ptr(x), data_ptr(y), ctypes.c_long(x.size),
                     ctypes.c_int(_threads(x.size)))
    return y
