"""The C dialect: kernel IR -> C99 with OpenMP loops the compiler vectorises.

NOTE [ C kernels ]
Every value computes in the dtype NumPy would use (``Node.loop``), so float32 math stays in
float32 (``tanhf``, ``expf``) and results equal NumPy's up to the libraries' rounding of
transcendental functions. Semantics C does not give for free are spelled out:
``maximum``/``minimum`` propagate NaN (and return the second operand on ties, as NumPy),
integer ``+ - *`` and negation wrap (computed on unsigned types: signed overflow is
undefined in C), integer ``remainder``/``fmod`` by 0 give 0 and by -1 give 0 (NumPy's
results, which C would trap on), float -> int casts give the type's minimum for NaN, inf
and out-of-range values (what NumPy gives on x86), and ``remainder`` on floats follows
NumPy's ``divmod``. Anything else (integer ``power``, dtypes other than
bool/int32/int64/float32/float64) raises ``Unsupported`` and the NumPy executor runs the
program. float32 ``erf`` uses the same rational approximation as the NumPy backend's
``erf`` for float32 (max relative error ~4e-7), so eager results match either way.

Loops: the generated function receives the collapsed shape, per-operand byte strides and
pointers; the innermost loop is specialised per operand as contiguous (``p[i]``),
broadcast (loaded once) or strided, under ``#pragma omp simd``; outer work is cut into
fixed-size blocks (``BLOCK`` elements) shared among threads by ``omp parallel for``.
Reductions accumulate float32 sums in double and never split a reduction across threads
in a thread-count-dependent way: a row is reduced by one thread, or, for few long rows
(``chunked``), in fixed ``BLOCK``-sized chunks whose partials are combined in order, so
results are bitwise identical for any ``OMP_NUM_THREADS``.
"""

from __future__ import annotations

import math

import numpy as np

from ember._codegen.ir import REDUCTIONS, Unsupported

BLOCK = 16384          # elements per parallel work item (independent of the thread count)
PARALLEL_MIN = 65536   # smaller problems run on one thread (thread start-up costs more)
SUB = 1024             # float32 sums: elements per float partial before adding in double
MAX_DIMS = 16

_CT = {"bool": "uint8_t", "int32": "int32_t", "int64": "int64_t", "float32": "float",
       "float64": "double"}
_UT = {"int32": "uint32_t", "int64": "uint64_t"}
_INT_MIN = {"int32": "INT32_MIN", "int64": "INT64_MIN"}
_INT_BOUNDS = {"int32": (-2.0 ** 31, 2.0 ** 31), "int64": (-2.0 ** 63, 2.0 ** 63)}

PRELUDE = r"""
#include <stdint.h>
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
/* build.py picks the instruction set (-march=x86-64-v3/v4 where the CPU has it; the level is
   part of the cache key). FP contraction is off, so every level rounds each operation
   alike. */
#define EMBER_KERNEL
/* Operands arrive as NumPy array objects (off >= 0: the byte offset of the data pointer
   inside the object, checked by kernel.py at import) or as data pointers (off < 0). */
#define EMBER_DATA(obj, off) ((off) >= 0 ? *(char **)((char *)(obj) + (off)) : (char *)(obj))
/* erf for float32: x P(x^2) / Q(x^2) on [-4, 4], the NumPy backend's approximation */
static inline float ember_erf32(float x) {
    x = x > 4.0f ? 4.0f : (x < -4.0f ? -4.0f : x);
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f; p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f; p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f; p = p * x2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f; q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f; q = q * x2 + -1.42647390514189e-02f;
    return x * p / q;
}
#ifdef __FMA__  /* one rounding per step where the CPU has it (x86-64-v3 and up) */
#define EMBER_FMAF(a, b, c) fmaf(a, b, c)
#else
#define EMBER_FMAF(a, b, c) ((a) * (b) + (c))
#endif
/* exp for float32, branch-free so loops vectorise (glibc's expf is a call per element):
   n = round(x / ln 2) by the 1.5 * 2^23 trick, r = x - n ln 2 in two parts (Cody-Waite),
   e^r by a degree-7 polynomial (Cephes' coefficients), 2^n applied in two halves so that
   subnormal results and overflow to inf come out right; NaN stays NaN. Max error ~1 ulp.
   Steps are fused where the CPU has FMA (a ~20% shorter loop; results within the same
   bound, bit for bit the unfused ones without FMA). */
static inline float ember_expf(float x) {
    x = x > 89.0f ? 89.0f : (x < -104.0f ? -104.0f : x);
    float n = EMBER_FMAF(x, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
    float r = EMBER_FMAF(n, -0.693359375f, x);
    r = EMBER_FMAF(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = EMBER_FMAF(p, r, 1.3981999507e-3f); p = EMBER_FMAF(p, r, 8.3334519073e-3f);
    p = EMBER_FMAF(p, r, 4.1665795894e-2f); p = EMBER_FMAF(p, r, 1.6666665459e-1f);
    p = EMBER_FMAF(p, r, 5.0000001201e-1f);
    p = EMBER_FMAF(p, r * r, r) + 1.0f;
    int32_t ni = (int32_t)n;
    int32_t n1 = ni >> 1, n2 = ni - n1;
    union { int32_t i; float f; } s1, s2;
    s1.i = (n1 + 127) << 23; s2.i = (n2 + 127) << 23;
    return p * s1.f * s2.f;
}
/* exp2 for float32, branch-free so loops vectorise (glibc's exp2f is a call per element):
   n = round(x) by the 1.5 * 2^23 trick, r = x - n exactly (|r| <= 1/2), 2^r by a degree-6
   polynomial (least squares in Chebyshev form, 1.9e-9 relative; Horner steps fused where
   the CPU has FMA), 2^n applied in two halves so that subnormal results and overflow to
   inf come out right; NaN stays NaN. Within 0.95 ulp of the true value with FMA (PyTorch's
   Sleef exp2f: 0.86), 1.2 without; exact at integers. */
static inline float ember_exp2f(float x) {
    x = x > 128.0f ? 128.0f : (x < -150.0f ? -150.0f : x);
    float n = (x + 12582912.0f) - 12582912.0f;
    float r = x - n;
    float p = 0.00015337576041929424f;
    p = EMBER_FMAF(p, r, 0.0013399859890341759f); p = EMBER_FMAF(p, r, 0.009618519805371761f);
    p = EMBER_FMAF(p, r, 0.05550329014658928f); p = EMBER_FMAF(p, r, 0.24022646248340607f);
    p = EMBER_FMAF(p, r, 0.6931471824645996f);
    p = EMBER_FMAF(p, r, 1.0f);
    int32_t ni = (int32_t)n;
    int32_t n1 = ni >> 1, n2 = ni - n1;
    union { int32_t i; float f; } s1, s2;
    s1.i = (n1 + 127) << 23; s2.i = (n2 + 127) << 23;
    return p * s1.f * s2.f;
}
/* log1p for float32, branch-free so loops vectorise (glibc's log1pf is a call per element):
   u + c = 1 + x exactly (Fast2Sum), u = 2^e m with m in [sqrt(1/2), sqrt(2)), f = m - 1 and
   fl = c 2^-e (so f + fl is 1 + x reduced, exactly), log(1 + f) = f - f^2/2 + f^3 Q(f) with Q
   of degree 8 (least squares in Chebyshev form, 8.8e-10 relative), fl's share to first order,
   e ln 2 in two parts (Cephes' logf order). Within 1.06 ulp of the true value with FMA (NumPy's
   SIMD log1pf: 1.89, PyTorch's: 0.61); -1 gives -inf, below -1 NaN, -0 stays -0. */
static inline float ember_log1pf(float x) {
    /* u + c == 1 + x exactly (Fast2Sum, the larger operand first) */
    float u = 1.0f + x;
    float c = fabsf(x) > 1.0f ? (x - u) + 1.0f : (1.0f - u) + x;
    union { float f; int32_t i; } b, s;
    b.f = u;
    int32_t e = (b.i >> 23) - 127;
    b.i = (b.i & 0x7fffff) | 0x3f800000;
    float m = b.f;
    int big = m > 1.41421356f;
    m = big ? 0.5f * m : m;
    e = big ? e + 1 : e;
    int32_t es = e < 126 ? e : 126;
    s.i = (127 - es) << 23;  /* 2^-e: c's share of the reduced argument */
    float f = m - 1.0f, fl = c * s.f;  /* f + fl: 1 + x reduced, exactly */
    float z = f * f, q = 0.06675271689891815f;
    q = EMBER_FMAF(q, f, -0.11646434664726257f); q = EMBER_FMAF(q, f, 0.1190471202135086f);
    q = EMBER_FMAF(q, f, -0.12411268800497055f); q = EMBER_FMAF(q, f, 0.14217890799045563f);
    q = EMBER_FMAF(q, f, -0.16667643189430237f); q = EMBER_FMAF(q, f, 0.20002204179763794f);
    q = EMBER_FMAF(q, f, -0.25000014901161194f); q = EMBER_FMAF(q, f, 0.3333331048488617f);
    float ef = (float)e;
    float y = EMBER_FMAF(f * z, q, -0.5f * z);
    y = y + EMBER_FMAF(fl, 1.0f - f, ef * -2.12194440e-4f);
    float r = f + y;
    r = EMBER_FMAF(ef, 0.693359375f, r);
    r = x > -1.0f ? r : (x == -1.0f ? -INFINITY : NAN);
    r = x == INFINITY ? x : r;
    r = x == 0.0f ? x : r;  /* log1p(-0) = -0 */
    return x != x ? x : r;
}
/* tanh for float32: an odd polynomial below |x| = 0.625 (Cephes' coefficients), else
   sign(x) (1 - 2 / (e^{2|x|} + 1)); both computed, one selected, so loops vectorise. */
static inline float ember_tanhf(float x) {
    float ax = x < 0.0f ? -x : x;
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f; p = p * z + -5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f; p = p * z + -3.33332819422e-1f;
    float small = p * z * x + x;
    float big = 1.0f - 2.0f / (ember_expf(2.0f * ax) + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}
/* fmod, exact, without libm's slow loop on the common case (|a / b| < 2^24, resp. 2^50):
   q = trunc(a / b) is the true quotient or one too large in magnitude (the rounded division
   can reach an integer the true quotient stays below); a - q b is then computed exactly
   (float32: in double, where q b is exact; float64: by one fma, exact since the difference
   is representable), a result of the wrong sign gets |b| back, and fmod's result always has
   a's sign (zeros included). Other cases (inf, NaN, zero divisor, huge quotients) call libm. */
static inline float ember_fmodf(float a, float b) {
    double q = trunc((double)a / (double)b);
    double r = (double)a - q * (double)b;
    double fix = copysign((double)fabsf(b), (double)a);
    r = (r != 0.0 && ((r < 0.0) != (a < 0.0f))) ? r + fix : r;
    if (__builtin_expect(!(fabs(q) < 16777216.0) || isinf(b), 0)) return fmodf(a, b);
    return copysignf((float)r, a);
}
static inline double ember_fmod(double a, double b) {
    double q = trunc(a / b);
    double r = fma(-q, b, a);
    double fix = copysign(fabs(b), a);
    r = (r != 0.0 && ((r < 0.0) != (a < 0.0))) ? r + fix : r;
    if (__builtin_expect(!(fabs(q) < 1125899906842624.0) || isinf(b), 0)) return fmod(a, b);
    return copysign(r, a);
}
/* The same without the libm call, so a loop of them vectorises: *bad is set where the fast
   path does not apply, and the elementwise emitter recomputes those elements with the exact
   helpers above (NOTE [ Two-pass float division helpers ] in c_emit.py). */
static inline float ember_fmodf_v(float a, float b, int *bad) {
    double q = trunc((double)a / (double)b);
    double r = (double)a - q * (double)b;
    r = (r != 0.0 && ((r < 0.0) != (a < 0.0f))) ? r + copysign((double)fabsf(b), (double)a) : r;
    *bad |= !(fabs(q) < 16777216.0) | (fabsf(b) == INFINITY);
    return copysignf((float)r, a);
}
static inline double ember_fmod_v(double a, double b, int *bad) {
    double q = trunc(a / b);
    double r = fma(-q, b, a);
    r = (r != 0.0 && ((r < 0.0) != (a < 0.0))) ? r + copysign(fabs(b), a) : r;
    *bad |= !(fabs(q) < 1125899906842624.0) | (fabs(b) == INFINITY);
    return copysign(r, a);
}
/* floor division as NumPy's npy_floor_divide / PyTorch's div_floor_floating, operation by
   operation in the loop's precision: (a - fmod(a, b)) / b, one less where fmod's sign
   differs from b's, floored and snapped to the nearest integer; a / b for a zero divisor.
   Selects instead of branches: the signs are data, and a mispredicted branch stalls the
   divisions behind it. */
#define EMBER_FLOORDIV(NAME, T, FMOD, FLOOR, COPYSIGN, ARGS, FARGS)                       \
static inline T NAME ARGS {                                                               \
    T mod = FMOD FARGS;                                                                   \
    T div = (a - mod) / b;                                                                \
    div = (mod != (T)0 && ((b < (T)0) != (mod < (T)0))) ? div - (T)1 : div;               \
    T fl = FLOOR(div);                                                                    \
    fl = (div - fl > (T)0.5) ? fl + (T)1 : fl;                                            \
    T q = a / b;                                                                          \
    fl = div != (T)0 ? fl : COPYSIGN((T)0, q);                                            \
    return b == (T)0 ? q : fl;                                                            \
}
EMBER_FLOORDIV(ember_floordivf, float, ember_fmodf, floorf, copysignf, (float a, float b),
               (a, b))
EMBER_FLOORDIV(ember_floordiv, double, ember_fmod, floor, copysign, (double a, double b),
               (a, b))
EMBER_FLOORDIV(ember_floordivf_v, float, ember_fmodf_v, floorf, copysignf,
               (float a, float b, int *bad), (a, b, bad))
EMBER_FLOORDIV(ember_floordiv_v, double, ember_fmod_v, floor, copysign,
               (double a, double b, int *bad), (a, b, bad))
/* NumPy's remainder (npy_divmod's modulus): fmod, plus b where the signs differ, a zero
   takes b's sign (a zero divisor: fmod's NaN passes through both selects) */
#define EMBER_REM(NAME, T, FMOD, COPYSIGN, ARGS, FARGS)                                   \
static inline T NAME ARGS {                                                               \
    T m = FMOD FARGS;                                                                     \
    m = (m != (T)0 && ((b < (T)0) != (m < (T)0))) ? m + b : m;                            \
    return m == (T)0 ? COPYSIGN((T)0, b) : m;                                             \
}
EMBER_REM(ember_remf, float, ember_fmodf, copysignf, (float a, float b), (a, b))
EMBER_REM(ember_rem, double, ember_fmod, copysign, (double a, double b), (a, b))
EMBER_REM(ember_remf_v, float, ember_fmodf_v, copysignf, (float a, float b, int *bad),
          (a, b, bad))
EMBER_REM(ember_rem_v, double, ember_fmod_v, copysign, (double a, double b, int *bad),
          (a, b, bad))
static inline int32_t ember_rem_i32(int32_t a, int32_t b) {
    if (b == 0 || b == -1) return 0;
    int32_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline int64_t ember_rem_i64(int64_t a, int64_t b) {
    if (b == 0 || b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
"""

_FLOAT_FN = {
    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log", "log2": "log2",
    "log10": "log10", "log1p": "log1p", "sqrt": "sqrt", "sin": "sin", "cos": "cos",
    "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh", "arccosh": "acosh",
    "arctanh": "atanh", "absolute": "fabs", "floor": "floor", "ceil": "ceil",
    "trunc": "trunc", "erfc": "erfc", "power": "pow", "arctan2": "atan2", "fmod": "fmod",
    "fmax": "fmax", "fmin": "fmin",
    # round half to even in the default rounding mode, as NumPy's rint (vectorised:
    # -fno-trapping-math lets GCC use the SIMD round instruction)
    "rint": "rint",
}
_CMP = {"equal": "==", "not_equal": "!=", "less": "<", "less_equal": "<=", "greater": ">",
        "greater_equal": ">="}
_ARITH = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/"}
_BITWISE = {"bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^"}


def ctype(dt):
    t = _CT.get(np.dtype(dt).name)
    if t is None:
        raise Unsupported(f"dtype {np.dtype(dt)} has no C kernel")
    return t


def literal(value, dt):
    """``value`` (a Python number) converted to ``dt`` as NumPy converts a weak scalar, as a
    C expression."""
    dt = np.dtype(dt)
    name = dt.name
    if name == "bool":
        return "((uint8_t)1)" if value else "((uint8_t)0)"
    if dt.kind in "iu":
        if isinstance(value, float):
            raise Unsupported("float literal in an integer loop")
        v = int(value)
        info = np.iinfo(dt)
        if not info.min <= v <= info.max:
            raise Unsupported(f"literal {v} does not fit {dt}")
        if name == "int64":
            return f"((int64_t){v}LL)" if v != info.min else "INT64_MIN"
        return f"((int32_t){v})"
    x = float(dt.type(value))
    t = ctype(dt)
    if math.isnan(x):
        return f"(({t})NAN)"
    if math.isinf(x):
        return f"(({t})INFINITY)" if x > 0 else f"(-({t})INFINITY)"
    return f"(({t}){x.hex()})"


def convert(expr, src, dst):
    """C expression converting ``expr`` from dtype ``src`` to ``dst`` as NumPy's cast."""
    src, dst = np.dtype(src), np.dtype(dst)
    if src == dst:
        return expr
    t = ctype(dst)
    ctype(src)
    if dst.kind == "b":
        return f"((uint8_t)(({expr}) != 0))"
    if src.kind == "b":  # a select, not a widening of the byte: GCC vectorises the select
        return f"(({expr}) ? ({t})1 : ({t})0)"  # (1e6 bool->float32: ~4x faster)
    if src.kind == "f" and dst.kind in "iu":
        lo, hi = _INT_BOUNDS[dst.name]
        return (f"(({expr}) >= {lo.hex()} && ({expr}) < {hi.hex()} ? ({t})({expr}) : "
                f"{_INT_MIN[dst.name]})")
    return f"(({t})({expr}))"


def _f(dt):
    return "f" if dt.name == "float32" else ""


_TWO_PASS = ("fmod", "remainder", "floor_divide")


def two_pass(program):
    """Whether ``program`` uses a float helper with a vectorisable variant (NOTE [ Two-pass
    float division helpers ])."""
    return any(n.op in _TWO_PASS and n.loop and n.loop[0].kind == "f" for n in program.nodes)


def op_expr(node, a, bad=None):
    """C expression for ``node`` given its arguments ``a`` (already in the loop dtypes);
    ``bad``: the C flag variable the vectorisable helpers set (None: the exact ones)."""
    op = node.op
    lt = node.loop[0] if node.loop else None
    kind = lt.kind if lt is not None else None
    if op == "where":
        return f"({a[0]} ? {a[1]} : {a[2]})"
    if op == "cast":
        return convert(a[0], node.loop[0], node.dtype)
    if op in _CMP:
        return f"((uint8_t)({a[0]} {_CMP[op]} {a[1]}))"
    if op == "logical_not":
        return f"((uint8_t)({a[0]} == 0))"
    if op in ("logical_and", "logical_or", "logical_xor"):
        sym = {"logical_and": "&", "logical_or": "|", "logical_xor": "!="}[op]
        return f"((uint8_t)(({a[0]} != 0) {sym} ({a[1]} != 0)))"
    if kind == "f":
        t = ctype(lt)
        f = _f(lt)
        if op in _ARITH:
            return f"({a[0]} {_ARITH[op]} {a[1]})"
        if op == "negative":
            return f"(-{a[0]})"
        if op == "square":
            return f"({a[0]} * {a[0]})"
        if op == "reciprocal":
            return f"(({t})1 / {a[0]})"
        if op == "sign":
            x = a[0]
            return f"({x} > 0 ? ({t})1 : ({x} < 0 ? ({t})-1 : ({x} == 0 ? ({t})0 : {x})))"
        if op == "isnan":
            return f"((uint8_t)({a[0]} != {a[0]}))"
        if op == "isinf":
            return f"((uint8_t)(isinf({a[0]}) != 0))"
        if op == "isfinite":
            return f"((uint8_t)(isfinite({a[0]}) != 0))"
        # NumPy's (a > b || isnan(a)) ? a : b, spelled so that GCC if-converts chains of
        # them (clamp: minimum(maximum(x, lo), hi)) and vectorises the loop; the same value
        # in every case (a NaN operand gives NaN, ties give b)
        if op == "maximum":
            return f"(!({a[0]} <= {a[1]}) ? ({a[1]} != {a[1]} ? {a[1]} : {a[0]}) : {a[1]})"
        if op == "minimum":
            return f"(!({a[0]} >= {a[1]}) ? ({a[1]} != {a[1]} ? {a[1]} : {a[0]}) : {a[1]})"
        if op in _TWO_PASS:
            fn = {"fmod": "fmod", "remainder": "rem", "floor_divide": "floordiv"}[op]
            if bad is None:
                return f"ember_{fn}{f}({a[0]}, {a[1]})"
            return f"ember_{fn}{f}_v({a[0]}, {a[1]}, &{bad})"
        if op == "erf":
            return f"ember_erf32({a[0]})" if f else f"erf({a[0]})"
        if op in ("exp", "exp2", "log1p", "tanh") and f:
            return f"ember_{op}f({a[0]})"
        if op in _FLOAT_FN:
            return f"{_FLOAT_FN[op]}{f}({', '.join(a)})"
        raise Unsupported(f"{op} on {lt}")
    if kind in "iu" and lt.name in _UT:
        t, u = ctype(lt), _UT[lt.name]
        if op in ("add", "subtract", "multiply"):
            return f"(({t})(({u}){a[0]} {_ARITH[op]} ({u}){a[1]}))"
        if op == "negative":
            return f"(({t})(({u})0 - ({u}){a[0]}))"
        if op == "square":
            return f"(({t})(({u}){a[0]} * ({u}){a[0]}))"
        if op == "absolute":
            return f"({a[0]} < 0 ? ({t})(({u})0 - ({u}){a[0]}) : {a[0]})"
        if op in ("floor", "ceil", "trunc"):
            return a[0]
        if op == "sign":
            return f"(({t})(({a[0]} > 0) - ({a[0]} < 0)))"
        if op in ("maximum", "fmax"):
            return f"({a[0]} > {a[1]} ? {a[0]} : {a[1]})"
        if op in ("minimum", "fmin"):
            return f"({a[0]} < {a[1]} ? {a[0]} : {a[1]})"
        if op == "fmod":
            return f"(({a[1]} == 0 || {a[1]} == -1) ? ({t})0 : ({t})({a[0]} % {a[1]}))"
        if op == "remainder":
            return f"ember_rem_i{lt.itemsize * 8}({a[0]}, {a[1]})"
        if op in ("isnan", "isinf"):
            return "((uint8_t)0)"
        if op == "isfinite":
            return "((uint8_t)1)"
        if op in _BITWISE:
            return f"(({t})({a[0]} {_BITWISE[op]} {a[1]}))"
        if op == "invert":
            return f"(({t})~{a[0]})"
        raise Unsupported(f"{op} on {lt}")
    if kind == "b":
        if op in _BITWISE:
            return f"((uint8_t)({a[0]} {_BITWISE[op]} {a[1]}))"
        if op == "invert":
            return f"((uint8_t)!{a[0]})"
        if op in ("add", "maximum", "fmax"):
            return f"((uint8_t)({a[0]} | {a[1]}))"
        if op in ("multiply", "minimum", "fmin"):
            return f"((uint8_t)({a[0]} & {a[1]}))"
        if op in ("absolute", "floor", "ceil", "trunc"):
            return a[0]
        if op in ("isnan", "isinf"):
            return "((uint8_t)0)"
        if op == "isfinite":
            return "((uint8_t)1)"
    raise Unsupported(f"{op} on {lt}")


def check(program):
    """Raise ``Unsupported`` unless every node of ``program`` has a C form."""
    for n in program.nodes:
        if n.op == "const" and n.dtype is None:
            continue
        ctype(n.dtype)
        for lt in n.loop or ():
            ctype(lt)
        if n.op in REDUCTIONS or n.op in ("input", "const", "rindex"):
            continue
        op_expr(n, ["a"] * len(n.args))
    for _, dt in program.outputs:
        ctype(dt)


class _Names:
    """C names and typed expressions of nodes while emitting one scope."""

    def __init__(self):
        self.var = {}

    def arg(self, node, loop_dt):
        if node.op == "const" and node.dtype is None:
            return literal(node.value, loop_dt)
        return convert(self.var[node.id], node.dtype, loop_dt)


def _value_code(n, names, lines, indent, bad=None):
    """Append a declaration computing elementwise node ``n`` (its args are in ``names``)."""
    if n.op == "const":
        lines.append(f"{indent}const {ctype(n.dtype)} v{n.id} = {literal(n.value, n.dtype)};")
    else:
        args = [names.arg(a, lt) for a, lt in zip(n.args, n.loop)]
        lines.append(f"{indent}const {ctype(n.dtype)} v{n.id} = {op_expr(n, args, bad)};")
    names.var[n.id] = f"v{n.id}"


def _closure(roots, stop):
    """Nodes the ``roots`` need, in topological (id) order, not descending into ``stop``."""
    seen, stack = {}, list(roots)
    while stack:
        n = stack.pop()
        if n.id in seen or stop(n):
            continue
        seen[n.id] = n
        stack.extend(n.args)
    return [seen[i] for i in sorted(seen)]


def _load(k, mode, t):
    if mode == "1":
        return f"(({t}*)b{k})[i]"
    if mode == "0":
        return f"s{k}"
    return f"*({t}*)(b{k} + i * st{k})"


# ----------------------------------------------------------------------- elementwise
def emit_elementwise(program, name, modes):
    """C source of an elementwise kernel ``name`` specialised for the innermost-dimension
    ``modes`` of its operands (inputs then outputs: ``'1'`` contiguous, ``'0'`` broadcast,
    ``'g'`` strided).

    Signature: ``void name(int64_t nd, const int64_t *shape, const int64_t *strides,
    void *const *objs, int64_t off, int64_t nthreads)``; ``strides`` holds ``nd`` byte
    strides per operand, ``objs`` the operands (``EMBER_DATA``).
    """
    check(program)
    ins, outs = program.inputs, program.outputs
    nops = len(ins) + len(outs)
    L = []
    w = L.append
    w(f"EMBER_KERNEL void {name}(int64_t nd, const int64_t *shape, const int64_t *strides, "
      f"void *const *objs, int64_t off, int64_t nthreads) {{")
    w(f"    char *ptrs[{nops}];")
    w(f"    for (int k = 0; k < {nops}; k++) ptrs[k] = EMBER_DATA(objs[k], off);")
    w("    int64_t inner = shape[nd - 1], outer = 1;")
    w("    for (int64_t d = 0; d < nd - 1; d++) outer *= shape[d];")
    w("    int64_t total = outer * inner;")
    w("    if (total == 0) return;")
    w(f"    int64_t rpb = inner >= {BLOCK} ? 1 : {BLOCK} / inner;")
    w(f"    int64_t cblocks = inner >= {BLOCK} ? (inner + {BLOCK} - 1) / {BLOCK} : 1;")
    w("    int64_t nblocks = ((outer + rpb - 1) / rpb) * cblocks;")
    w(f"    int nt = (total >= {PARALLEL_MIN} && nblocks > 1) ? (int)nthreads : 1;")
    w("    #pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)")
    w("    for (int64_t blk = 0; blk < nblocks; blk++) {")
    w("        int64_t r0 = (blk / cblocks) * rpb, cb = blk % cblocks;")
    w("        int64_t r1 = r0 + rpb < outer ? r0 + rpb : outer;")
    w(f"        int64_t c0 = cb * {BLOCK}, c1 = c0 + {BLOCK} < inner ? c0 + {BLOCK} : inner;")
    w(f"        int64_t idx[{MAX_DIMS}];")
    w("        int64_t rem = r0;")
    w("        for (int64_t d = nd - 2; d >= 0; d--) { idx[d] = rem % shape[d]; "
      "rem /= shape[d]; }")
    for k in range(nops):
        w(f"        char *p{k} = ptrs[{k}];")
        w(f"        const int64_t st{k} = strides[{k} * nd + nd - 1];")
        w(f"        for (int64_t d = 0; d < nd - 1; d++) p{k} += idx[d] * strides[{k} * nd + d];")
    w("        for (int64_t r = r0; r < r1; r++) {")
    for k, n in enumerate(ins):
        t = ctype(n.dtype)
        w(f"            char *b{k} = p{k};")
        if modes[k] == "0":
            w(f"            const {t} s{k} = *({t}*)b{k};")
    for j in range(len(outs)):
        w(f"            char *b{len(ins) + j} = p{len(ins) + j};")
    def body(bad, ind):
        lines, nm = [], _Names()
        for k, n in enumerate(ins):
            lines.append(f"{ind}const {ctype(n.dtype)} v{n.id} = "
                         f"{_load(k, modes[k], ctype(n.dtype))};")
            nm.var[n.id] = f"v{n.id}"
        for n in _closure([o for o, _ in outs], lambda n: n.op == "input"):
            if n.op == "const" and n.dtype is None:
                continue
            _value_code(n, nm, lines, ind, bad)
        stores = []
        for j, (o, dt) in enumerate(outs):
            k = len(ins) + j
            t = ctype(dt)
            val = nm.arg(o, dt)
            if modes[k] == "1":
                stores.append(f"(({t}*)b{k})[i] = {val};")
            else:
                stores.append(f"*({t}*)(b{k} + i * st{k}) = {val};")
        return lines, stores

    if not two_pass(program):
        lines, stores = body(None, " " * 16)
        k = len(ins)
        if modes[k] == "1":
            # NOTE [ Aligned stores ]: NumPy's large arrays start 16 bytes past any 32- or
            # 64-byte boundary as often as on one, and a vector store that straddles a cache
            # line costs ~15% of a streaming pass (a 1e6 float32 neg: 45 against 52 us). The
            # elements before the first output's next 64-byte boundary run first, the vector
            # loop from there (results are per element: unchanged).
            sz = np.dtype(outs[0][1]).itemsize
            w("            int64_t ia = c0;")
            w(f"            {{ uintptr_t ad = (uintptr_t)(b{k} + c0 * {sz}), "
              f"pre = (64 - (ad & 63)) & 63;")
            w(f"              if (pre % {sz} == 0) ia = c0 + (int64_t)(pre / {sz}); "
              f"if (ia > c1) ia = c1; }}")
            w("            for (int64_t i = c0; i < ia; i++) {")
            L.extend(lines)
            L.extend(" " * 16 + st for st in stores)
            w("            }")
            start = "ia"
        else:
            start = "c0"
        w("            #pragma omp simd")
        w(f"            for (int64_t i = {start}; i < c1; i++) {{")
        L.extend(lines)
        L.extend(" " * 16 + st for st in stores)
        w("            }")
    else:
        # NOTE [ Two-pass float division helpers ]: fmod, remainder and floor division
        # on floats call libm only for huge quotients, inf and zero divisors; with that call
        # in the loop it would not vectorise (4-5x slower). The first pass runs the
        # call-free helpers, stores the elements they cover and flags the others; the rare
        # flagged elements are recomputed by the exact helpers (inputs there are untouched,
        # so an output may alias an input).
        w(f"            uint8_t ember_fl[{BLOCK}];")
        w("            int ember_any = 0;")
        w("            #pragma omp simd reduction(|:ember_any)")
        w("            for (int64_t i = c0; i < c1; i++) {")
        w("                int ember_bad = 0;")
        lines, stores = body("ember_bad", " " * 16)
        L.extend(lines)
        w("                ember_fl[i - c0] = (uint8_t)ember_bad;")
        w("                ember_any |= ember_bad;")
        w("                if (!ember_bad) {")
        L.extend(" " * 20 + st for st in stores)
        w("                }")
        w("            }")
        w("            if (ember_any) {")
        w("                for (int64_t i = c0; i < c1; i++) {")
        w("                    if (!ember_fl[i - c0]) continue;")
        lines, stores = body(None, " " * 20)
        L.extend(lines)
        L.extend(" " * 20 + st for st in stores)
        w("                }")
        w("            }")
    w("            for (int64_t d = nd - 2; d >= 0; d--) {")
    for k in range(nops):
        w(f"                p{k} += strides[{k} * nd + d];")
    w("                if (++idx[d] < shape[d]) break;")
    for k in range(nops):
        w(f"                p{k} -= strides[{k} * nd + d] * shape[d];")
    w("                idx[d] = 0;")
    w("            }")
    w("        }")
    w("    }")
    w("}")
    return "\n".join(L)


# ----------------------------------------------------------------------- staged
_ACC = {  # reduction -> (accumulator C type, init, combine) by loop-dtype kind
    "sum": "+", "mean": "+", "prod": "*",
}


def _acc_type(red):
    """Accumulator C type of reduction node ``red``."""
    src = red.loop[0]
    if red.op in ("sum", "mean"):
        if src.kind == "f" or red.op == "mean":
            return "double"
        return "uint64_t"
    if red.op == "prod":
        if src.kind == "f":
            return ctype(src)
        return "uint64_t"
    return ctype(src)  # max / min


def _acc_init(red):
    t = _acc_type(red)
    src = red.loop[0]
    if red.op in ("sum", "mean"):
        return "0"
    if red.op == "prod":
        return "1"
    if src.kind == "f":
        return f"(({t})INFINITY)" if red.op == "min" else f"(-({t})INFINITY)"
    if src.kind == "b":
        return "1" if red.op == "min" else "0"
    return (_INT_MIN[src.name] if red.op == "max" else
            {"int32": "INT32_MAX", "int64": "INT64_MAX"}[src.name])


def _acc_update(red, acc, val):
    """Statements folding ``val`` (in the reduction's source dtype) into ``acc``."""
    src = red.loop[0]
    t = _acc_type(red)
    if red.op in ("sum", "mean", "prod"):
        sym = "+" if red.op != "prod" else "*"
        return f"{acc} {sym}= ({t})({val});"
    if src.kind == "b":
        return f"{acc} {'|' if red.op == 'max' else '&'}= {val};"
    cmp = ">" if red.op == "max" else "<"
    s = f"{acc} = ({val}) {cmp} {acc} ? ({val}) : {acc};"
    if src.kind == "f":
        s += f" {acc}_nan |= ({val}) != ({val});"
    return s


def _acc_clause(red, acc):
    src = red.loop[0]
    if red.op in ("sum", "mean"):
        c = f"reduction(+:{acc})"
    elif red.op == "prod":
        c = f"reduction(*:{acc})"
    elif src.kind == "b":
        c = f"reduction({'|' if red.op == 'max' else '&'}:{acc})"
    else:
        c = f"reduction({red.op}:{acc})"
        if src.kind == "f":
            c += f" reduction(|:{acc}_nan)"
    return c


def _acc_final(red, acc, count):
    """C expression of the reduction's result (in ``red.dtype``) from its accumulator."""
    src = red.loop[0]
    t = ctype(red.dtype)
    if red.op == "mean":
        return f"(({t})({acc} / (double)({count})))"
    if red.op in ("max", "min") and src.kind == "f":
        return f"({acc}_nan ? ({t})NAN : ({t}){acc})"
    if _acc_type(red) == "uint64_t":
        return f"(({t})(int64_t){acc})"
    return f"(({t}){acc})"


def _stashes(reds, levels, full_outs):
    """``{output index: node}``: full values the last reduction pass computes anyway and
    writes into an output's buffer, so the final pass reads them back instead of
    recomputing them (softmax's ``exp(x - m)``: one exp per element, not two). A value
    qualifies when it has the output's dtype and the output needs no other full value
    (no input, no ``rindex``) besides it."""
    if levels == 0:
        return {}
    last = [r.args[0] for r in reds if r.level == levels]
    cands = [n for n in _closure(last, lambda n: not n.full or n.op == "input")
             if n.op not in ("input", "rindex")]
    res, taken = {}, set()
    for j, o, dt in full_outs:
        for e in sorted(cands, key=lambda n: -n.id):
            if e.dtype != dt or e.id in taken:
                continue
            rest = _closure([o], lambda n, e=e: not n.full or n.id == e.id)
            if any(n.op in ("input", "rindex") for n in rest):
                continue
            res[j] = e
            taken.add(e.id)
            break
    return res


def chunkable(program):
    """Whether a staged program can be split into fixed chunks of each row: one stage of
    reductions and no full-size outputs."""
    return program.levels == 1 and not any(o.full for o, _ in program.outputs)


def emit_staged(program, name, nk, nr, modes, chunked=False):
    """C source of a staged (multi-pass reduction) kernel.

    Operands are the inputs, then the outputs (full-size ones varying over the reduced axes,
    reduced ones with stride 0 there). The collapsed iteration space is ``nk`` kept dims
    (outer, parallel) then ``nr`` reduced dims; ``modes`` specialises the innermost reduced
    dim per operand. Pass ``p`` walks each row once, computing every reduction of level
    ``p`` (recomputing the elementwise values it needs); row values follow; a last pass
    writes the full-size outputs.

    Signature: ``void name(const int64_t *shape, const int64_t *strides, void *const *objs,
    int64_t off, int64_t nthreads)``: ``shape`` holds the ``nk + nr`` sizes, ``strides``
    ``nk + nr`` byte strides per operand, ``objs`` the operands then a scratch array with
    room for the chunked variant's partials (16 bytes per reduction per chunk per row).
    """
    check(program)
    ins, outs = program.inputs, program.outputs
    nops = len(ins) + len(outs)
    nd = nk + nr
    reds = [n for n in program.nodes if n.op in REDUCTIONS]
    levels = program.levels
    full_outs = [(j, o, dt) for j, (o, dt) in enumerate(outs) if o.full]
    row_outs = [(j, o, dt) for j, (o, dt) in enumerate(outs) if not o.full]
    L = []
    w = L.append
    w(f"EMBER_KERNEL void {name}(const int64_t *shape, const int64_t *strides, "
      f"void *const *objs, int64_t off, int64_t nthreads) {{")
    w(f"    char *ptrs[{nops}];")
    w(f"    for (int k = 0; k < {nops}; k++) ptrs[k] = EMBER_DATA(objs[k], off);")
    w(f"    int64_t *scratch = (int64_t *)EMBER_DATA(objs[{nops}], off);")
    w("    int64_t K = 1, R = 1;")
    w(f"    for (int d = 0; d < {nk}; d++) K *= shape[d];")
    w(f"    for (int d = {nk}; d < {nd}; d++) R *= shape[d];")
    w("    if (K == 0) return;")
    w(f"    const int64_t inner = shape[{nd - 1}];")
    for k in range(nops):
        w(f"    const int64_t st{k} = strides[{k * nd + nd - 1}];")
    if chunked:
        w(f"    const int64_t nch = (R + {BLOCK} - 1) / {BLOCK};")
        w("    const int64_t work = K * nch;")
    else:
        w("    const int64_t work = K;")
    w(f"    int nt = (K * R >= {PARALLEL_MIN} && work > 1) ? (int)nthreads : 1;")

    def kept_bases(var, indent):
        w(f"{indent}int64_t rem = {var};")
        for k in range(nops):
            w(f"{indent}char *p{k} = ptrs[{k}];")
        for d in range(nk - 1, -1, -1):
            w(f"{indent}{{ int64_t ix = rem % shape[{d}]; rem /= shape[{d}];")
            for k in range(nops):
                w(f"{indent}  p{k} += ix * strides[{k * nd + d}];")
            w(f"{indent}}}")
        for k, n in enumerate(ins):
            if not n.full:  # a row input: one value per kept index
                w(f"{indent}const {ctype(n.dtype)} v{n.id} = *({ctype(n.dtype)}*)p{k};")

    names = _Names()
    for n in program.nodes:
        if n.op == "input":
            names.var[n.id] = f"v{n.id}"

    def row_loop(indent, reds_here, full_here, lo="0", hi="R", store=(), load=None):
        """A walk over reduced indices [lo, hi) folding ``reds_here`` and writing the
        full outputs ``full_here``; ``store``: ``(operand, node)`` pairs also written (the
        stash of a later pass), ``load``: ``{node id: operand}`` read back instead of
        recomputed."""
        load = load or {}
        roots = [r.args[0] for r in reds_here] + [o for _, o, _ in full_here] + \
            [e for _, e in store]
        need = _closure(roots, lambda n: not n.full or n.op == "input" or n.id in load)
        inner_names = _Names()
        inner_names.var = dict(names.var)
        if nr == 1:
            w(f"{indent}{{ const int64_t i0 = {lo}, i1 = {hi};")
            for k in range(nops):
                w(f"{indent}  char *b{k} = p{k};")
            w(f"{indent}  const int64_t rbase = 0;")
            ind2 = indent + "  "
        else:
            # outer reduced dims by an odometer starting at flat index lo
            w(f"{indent}{{ int64_t ridx[{nr}]; int64_t rr = ({lo}) / inner;")
            w(f"{indent}  for (int d = {nr - 2}; d >= 0; d--) {{ ridx[d] = rr % "
              f"shape[{nk} + d]; rr /= shape[{nk} + d]; }}")
            for k in range(nops):
                w(f"{indent}  char *q{k} = p{k};")
                w(f"{indent}  for (int d = 0; d < {nr - 1}; d++) q{k} += ridx[d] * "
                  f"strides[{k * nd + nk} + d];")
            w(f"{indent}  for (int64_t row = ({lo}) / inner; row * inner < ({hi}); row++) {{")
            ind2 = indent + "    "
            w(f"{ind2}const int64_t rbase = row * inner;")
            w(f"{ind2}const int64_t i0 = ({lo}) > rbase ? ({lo}) - rbase : 0;")
            w(f"{ind2}const int64_t i1 = ({hi}) - rbase < inner ? ({hi}) - rbase : inner;")
            for k in range(nops):
                w(f"{ind2}char *b{k} = q{k};")
        for k, n in enumerate(ins):
            if modes[k] == "0" and n.full:
                w(f"{ind2}const {ctype(n.dtype)} s{k} = *({ctype(n.dtype)}*)b{k};")
        # float32 sums: float lanes over sub-blocks of SUB elements, each block's total added
        # to the double accumulator (GCC does not vectorise a float -> double reduction)
        lane = {r.id for r in reds_here
                if r.loop[0].name == "float32" and _acc_type(r) == "double"}
        w(f"{ind2}for (int64_t j0 = i0; j0 < i1; j0 += {SUB}) {{")
        w(f"{ind2}const int64_t j1 = j0 + {SUB} < i1 ? j0 + {SUB} : i1;")
        for r in reds_here:
            if r.id in lane:
                w(f"{ind2}float l{r.id} = 0.0f;")
        clauses = " ".join(f"reduction(+:l{r.id})" if r.id in lane else
                           _acc_clause(r, f"a{r.id}") for r in reds_here)
        w(f"{ind2}#pragma omp simd {clauses}")
        w(f"{ind2}for (int64_t i = j0; i < j1; i++) {{")
        ind3 = ind2 + "  "
        used = {n.id for n in need} | {a.id for n in need for a in n.args} | \
            {r.args[0].id for r in reds_here} | {o.id for _, o, _ in full_here}
        for k, n in enumerate(ins):
            if n.id in used and n.full:
                w(f"{ind3}const {ctype(n.dtype)} v{n.id} = {_load(k, modes[k], ctype(n.dtype))};")
        lines = []
        for nid, k in load.items():
            t = ctype(program.nodes_by_id[nid].dtype)
            src = f"(({t}*)b{k})[i]" if modes[k] == "1" else f"*({t}*)(b{k} + i * st{k})"
            lines.append(f"{ind3}const {t} v{nid} = {src};")
            inner_names.var[nid] = f"v{nid}"
        for n in need:
            if n.op == "rindex":
                lines.append(f"{ind3}const int64_t v{n.id} = rbase + i;")
                inner_names.var[n.id] = f"v{n.id}"
            elif n.op != "input":
                _value_code(n, inner_names, lines, ind3)
        L.extend(lines)
        for r in reds_here:
            val = inner_names.arg(r.args[0], r.loop[0])
            w(ind3 + (f"l{r.id} += {val};" if r.id in lane else
                      _acc_update(r, f"a{r.id}", val)))
        for k, val, t in [(len(ins) + j, inner_names.arg(o, dt), ctype(dt))
                          for j, o, dt in full_here] + \
                [(k, inner_names.var[e.id], ctype(e.dtype)) for k, e in store]:
            if modes[k] == "1":
                w(f"{ind3}(({t}*)b{k})[i] = {val};")
            else:
                w(f"{ind3}*({t}*)(b{k} + i * st{k}) = {val};")
        w(f"{ind2}}}")
        for r in reds_here:
            if r.id in lane:
                w(f"{ind2}a{r.id} += (double)l{r.id};")
        w(f"{ind2}}}")
        if nr > 1:
            w(f"{ind2}for (int d = {nr - 2}; d >= 0; d--) {{")
            for k in range(nops):
                w(f"{ind2}  q{k} += strides[{k * nd + nk} + d];")
            w(f"{ind2}  if (++ridx[d] < shape[{nk} + d]) break;")
            for k in range(nops):
                w(f"{ind2}  q{k} -= strides[{k * nd + nk} + d] * shape[{nk} + d];")
            w(f"{ind2}  ridx[d] = 0;")
            w(f"{ind2}}}")
            w(f"{indent}  }}")
        w(f"{indent}}}")

    def decl_accs(reds_here, indent):
        for r in reds_here:
            w(f"{indent}{_acc_type(r)} a{r.id} = {_acc_init(r)};")
            if r.op in ("max", "min") and r.loop[0].kind == "f":
                w(f"{indent}int a{r.id}_nan = 0;")

    def row_values(level, indent):
        """Declare the row values of ``level`` (reductions finished, then what follows)."""
        for n in program.nodes:
            if n.full or n.level != level or n.op == "input":
                continue
            if n.op == "const" and n.dtype is None:
                continue
            if n.op in REDUCTIONS:
                w(f"{indent}const {ctype(n.dtype)} v{n.id} = {_acc_final(n, f'a{n.id}', 'R')};")
                names.var[n.id] = f"v{n.id}"
            else:
                lines = []
                _value_code(n, names, lines, indent)
                L.extend(lines)

    def write_rows(indent):
        for j, o, dt in row_outs:
            k = len(ins) + j
            w(f"{indent}*({ctype(dt)}*)p{k} = {names.arg(o, dt)};")

    if chunked:
        acc_slots = {r.id: i for i, r in enumerate(reds)}
        nacc = len(reds)
        w("    #pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)")
        w("    for (int64_t wi = 0; wi < work; wi++) {")
        w("        int64_t kk = wi / nch, ch = wi % nch;")
        kept_bases("kk", "        ")
        decl_accs(reds, "        ")
        row_loop("        ", reds, [], lo=f"ch * {BLOCK}",
                 hi=f"(ch * {BLOCK} + {BLOCK} < R ? ch * {BLOCK} + {BLOCK} : R)")
        for r in reds:
            s = acc_slots[r.id]
            w(f"        memcpy(&scratch[(wi * {nacc} + {s}) * 2], &a{r.id}, sizeof(a{r.id}));")
            if r.op in ("max", "min") and r.loop[0].kind == "f":
                w(f"        scratch[(wi * {nacc} + {s}) * 2 + 1] = a{r.id}_nan;")
        w("    }")
        w("    #pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)")
        w("    for (int64_t kk = 0; kk < K; kk++) {")
        kept_bases("kk", "        ")
        decl_accs(reds, "        ")
        w("        for (int64_t ch = 0; ch < nch; ch++) {")
        for r in reds:
            s = acc_slots[r.id]
            t = _acc_type(r)
            w(f"            {{ {t} x; memcpy(&x, &scratch[((kk * nch + ch) * {nacc} + {s}) * 2],"
              f" sizeof(x));")
            if r.op in ("sum", "mean"):
                w(f"              a{r.id} += x; }}")
            elif r.op == "prod":
                w(f"              a{r.id} *= x; }}")
            elif r.loop[0].kind == "b":
                w(f"              a{r.id} {'|' if r.op == 'max' else '&'}= x; }}")
            else:
                cmp = ">" if r.op == "max" else "<"
                w(f"              a{r.id} = x {cmp} a{r.id} ? x : a{r.id};")
                if r.loop[0].kind == "f":
                    w(f"              a{r.id}_nan |= (int)scratch[((kk * nch + ch) * {nacc} + "
                      f"{s}) * 2 + 1];")
                w("            }")
        w("        }")
        row_values(1, "        ")
        write_rows("        ")
        w("    }")
    else:
        w("    #pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)")
        w("    for (int64_t kk = 0; kk < K; kk++) {")
        kept_bases("kk", "        ")
        row_values(0, "        ")
        stash = _stashes(reds, levels, full_outs)
        for lv in range(1, levels + 1):
            here = [r for r in reds if r.level == lv]
            decl_accs(here, "        ")
            row_loop("        ", here, [], store=[(len(ins) + j, e) for j, e in stash.items()]
                     if lv == levels else ())
            row_values(lv, "        ")
        if full_outs:
            row_loop("        ", [], full_outs,
                     load={e.id: len(ins) + j for j, e in stash.items()})
        write_rows("        ")
        w("    }")
    w("}")
    return "\n".join(L)
