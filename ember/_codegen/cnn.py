"""Hand-written C kernels for the memory-bound parts of CNN layers (max pooling's forward
for 2x2/2 windows and its backward), built and cached like the generated kernels.

NOTE [ Hand-written CNN kernels ]
Max pooling's backward in NumPy is one masked scatter per kernel offset into a padded,
zeroed buffer (a read of the gradient and the offsets and a read-modify-write of the buffer
per offset, single threaded, then a cropping copy). A scatter is not an elementwise
expression the kernel IR can state, so it is written here in C, once per float type, and
compiled through ``build.load`` (same compiler, flags, disk cache and instruction-set level
as the generated kernels): one pass over the gradient, each output's value added to the
input position its recorded kernel offset names (padding positions dropped), planes
(sample, channel) split over the OpenMP threads (``kernel.get_num_threads()``, one in forked
children). Measured (1 thread, LeNet's 64x32x26x26 pool): 2x2/2 1.7 -> 1.0 ms, 3x3/2 with
padding 5.6 -> 0.9 ms CPU. Sums follow output order (the NumPy code adds in kernel-offset
order, so with overlapping windows a sum may differ in the last bit; PyTorch also adds in
output order).

The forward: for 2x2 windows of stride 2 without padding (LeNet-style nets) each output row
is a branch-free loop over its columns (the "take if greater" choice as selects, the
offset by masks; the NaN test of PyTorch's rule, `v > b || isnan(v)`, compiled to a branch
that mispredicted on random data, so it runs only in planes that hold a NaN, found by one
vectorised pass): 64x32x26x26 float32 1.9 -> 0.75 ms CPU on one thread, planes split over
the threads. Other windows stay NumPy: a scalar C loop over windows (or over kernel
offsets with strided loads) ran 2-2.5x slower than NumPy's vectorised maximum and equality
passes (3x3/2 with padding: 12.6 vs 4.8 ms).

NOTE [ Global average pool kernel ]
``adaptive_avg_pool2d(x, 1)`` without a graph (every classifier head's global pool) was one
BLAS matrix-vector product with a column of 1/L: single-threaded in effect, and slower on
two threads (OpenBLAS's wake-up). ``row_mean`` sums each (sample, channel) row in 64 float
lanes (four vector accumulators, so the adds do not wait on each other), the lanes pairwise,
and scales by 1/L, rows split over the threads: 8x32x64x64 float32 on one thread 75-107 ->
64 us (PyTorch 53-69), on two ~50 -> 40 us (PyTorch 33), min of 200 on a shared machine.
Sums are in the operand's dtype, as PyTorch's and BLAS's.

Each function returns ``None`` where it does not apply (not host NumPy, not
float32/float64, offsets not int8, more than 2 spatial dims, no compiler,
``EMBER_JIT_DISABLE``), and the caller runs its NumPy code.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

_SRC = r"""
#include <math.h>
#include <string.h>

#define MAXPOOL2D_BWD(T, NAME)                                                         \
void NAME(const T* g, const signed char* arg, T* gx, long planes, long H, long W,     \
          long OH, long OW, long KW, long sh, long sw, long ph, long pw, long dh,     \
          long dw, int nt)                                                            \
{                                                                                     \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                      \
    for (long pl = 0; pl < planes; pl++) {                                            \
        const T* gp = g + pl * OH * OW;                                               \
        const signed char* ap = arg + pl * OH * OW;                                   \
        T* xp = gx + pl * H * W;                                                      \
        memset(xp, 0, sizeof(T) * H * W);                                             \
        for (long oh = 0; oh < OH; oh++) {                                            \
            for (long ow = 0; ow < OW; ow++) {                                        \
                int kf = ap[oh * OW + ow];                                            \
                long ih = oh * sh - ph + (kf / KW) * dh;                              \
                long iw = ow * sw - pw + (kf % KW) * dw;                              \
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)                           \
                    xp[ih * W + iw] += gp[oh * OW + ow];                              \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}

MAXPOOL2D_BWD(float, maxpool2d_bwd_f32)
MAXPOOL2D_BWD(double, maxpool2d_bwd_f64)

/* PyTorch's rule: a later value replaces the maximum when greater, or when NaN (so the
   first of equal maxima wins, and of several NaNs the last). The NaN test makes the
   compiler branch (a misprediction per window on random data, ~6x slower), so planes
   without NaN (checked by one vectorised pass) take `v > b` alone, which compiles to
   selects. */
#define MP_TAKE(v, best) (((v) > (best)) | ((v) != (v)))

/* take v (offset k) when t: the offset by masks (a conditional move of an int index
   compiled to a branch, ~4x slower on random data) */
#define MP_SEL_T(t, v, b, a, k) do { int m_ = -(t); b = (t) ? (v) : b;                  \
                                     a = (a & ~m_) | ((k) & m_); } while (0)
#define MP_SEL(v, b, a, k) do { int t_ = (v) > (b); MP_SEL_T(t_, v, b, a, k); } while (0)

/* one output row of a 2x2, stride-2 window from input rows r0, r1, no NaN in the plane:
   branch free (separate restrict arguments: no aliasing checks) */
#define MP_ROW22(T, NAME)                                                              \
static void NAME(const T* restrict r0, const T* restrict r1, T* restrict yr,          \
                 signed char* restrict ar, long OW)                                   \
{                                                                                     \
    for (long ow = 0; ow < OW; ow++) {                                                \
        T b = r0[2 * ow], v = r0[2 * ow + 1];                                         \
        int a = 0;                                                                    \
        MP_SEL(v, b, a, 1);                                                           \
        v = r1[2 * ow]; MP_SEL(v, b, a, 2);                                           \
        v = r1[2 * ow + 1]; MP_SEL(v, b, a, 3);                                       \
        yr[ow] = b; ar[ow] = (signed char)a;                                          \
    }                                                                                 \
}

/* Max pooling forward: values and int8 kernel offsets of each window's maximum; padded
   positions count as -inf (as NumPy's -inf-padded path). 2x2 windows of stride 2 without
   padding (the common case, and the only one max_pool_forward passes) by MP_ROW22 in
   planes without NaN; any other plane or window by the checked loop. */
#define MAXPOOL2D_FWD(T, NAME, ROW)                                                    \
void NAME(const T* x, T* y, signed char* arg, long planes, long H, long W, long OH,  \
          long OW, long KH, long KW, long sh, long sw, long ph, long pw, long dh,     \
          long dw, int nt)                                                            \
{                                                                                     \
    int fast = KH == 2 && KW == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0         \
               && dh == 1 && dw == 1;                                                 \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                      \
    for (long pl = 0; pl < planes; pl++) {                                            \
        const T* xp = x + pl * H * W;                                                 \
        T* yp = y + pl * OH * OW;                                                     \
        signed char* ap = arg + pl * OH * OW;                                         \
        int nan = 0;                                                                  \
        for (long i = 0; i < H * W; i++) nan |= xp[i] != xp[i];                       \
        for (long oh = 0; oh < OH; oh++) {                                            \
            T* yr = yp + oh * OW;                                                     \
            signed char* ar = ap + oh * OW;                                           \
            if (fast && !nan) {                                                       \
                ROW(xp + 2 * oh * W, xp + (2 * oh + 1) * W, yr, ar, OW);              \
                continue;                                                             \
            }                                                                         \
            for (long ow = 0; ow < OW; ow++) {                                        \
                T b = 0;                                                              \
                int a = 0;                                                            \
                for (long kh = 0; kh < KH; kh++) {                                    \
                    long ih = oh * sh - ph + kh * dh;                                 \
                    int rok = ih >= 0 && ih < H;                                      \
                    for (long kw = 0; kw < KW; kw++) {                                \
                        long iw = ow * sw - pw + kw * dw;                             \
                        T v = (rok && iw >= 0 && iw < W) ? xp[ih * W + iw]            \
                              : -(T)INFINITY;                                         \
                        int k = (int)(kh * KW + kw);                                  \
                        int t = (k == 0) | (nan ? MP_TAKE(v, b) : v > b);             \
                        MP_SEL_T(t, v, b, a, k);                                      \
                    }                                                                 \
                }                                                                     \
                yr[ow] = b; ar[ow] = (signed char)a;                                  \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}

MP_ROW22(float, mp_row22_f32)
MP_ROW22(double, mp_row22_f64)
MAXPOOL2D_FWD(float, maxpool2d_fwd_f32, mp_row22_f32)
MAXPOOL2D_FWD(double, maxpool2d_fwd_f64, mp_row22_f64)

/* The global average pool (NOTE [ Global average pool kernel ]): y[r] = (sum of the L
   values of row r) * inv, rows split over the threads; each row summed in 64 lanes (four
   independent vector accumulators), the lanes then added pairwise, the tail in order. */
#define ROW_MEAN(T, NAME)                                                              \
void NAME(const T* x, T* y, long R, long L, T inv, int nt)                            \
{                                                                                     \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                      \
    for (long r = 0; r < R; r++) {                                                    \
        const T* xr = x + r * L;                                                      \
        T acc[64] = {0};                                                              \
        long L64 = L - L % 64, i = 0;                                                 \
        for (; i < L64; i += 64) {                                                    \
            _Pragma("omp simd")                                                       \
            for (int k = 0; k < 64; k++) acc[k] += xr[i + k];                         \
        }                                                                             \
        for (int w = 32; w > 0; w /= 2)                                               \
            for (int k = 0; k < w; k++) acc[k] += acc[k + w];                         \
        T s = acc[0];                                                                 \
        for (; i < L; i++) s += xr[i];                                                \
        y[r] = s * inv;                                                               \
    }                                                                                 \
}

ROW_MEAN(float, row_mean_f32)
ROW_MEAN(double, row_mean_f64)

/* Average pooling forward (NOTE [ Average pooling kernel ]): each output the sum of its
   window in kernel order, starting from the first tap's value (positions outside x count
   as zeros, as in NumPy's zero-padded copy: added, so -0.0 + 0.0 gives +0.0 as there),
   then divided by ov = div[0] (in T) when has_ov, else by the window size div[o] in
   double and rounded to T (NumPy's T / int64 division); the sizes and strides come in
   g (fewer ctypes arguments: ~0.1 us each). Row by row: for each tap, the output row's columns
   whose input column lies in x (worked out once per call) take the strided input row,
   the others a zero, so the loops run without per-value bounds checks. */
#define AVGPOOL2D_FWD(T, NAME)                                                         \
void NAME(const T* x, T* y, const double* div, const long* g, int nt)                \
{                                                                                     \
    long planes = g[0], H = g[1], W = g[2], OH = g[3], OW = g[4], KH = g[5], KW = g[6]; \
    long sh = g[7], sw = g[8], ph = g[9], pw = g[10], has_ov = g[11];                 \
    T ov = (T)div[0];                                                                 \
    long clo[KW], chi[KW];                                                            \
    for (long kw = 0; kw < KW; kw++) {                                                \
        long off = kw - pw;  /* the input column of output column 0 */               \
        long a = off >= 0 ? 0 : (-off + sw - 1) / sw;                                 \
        long b = (W - 1 - off) >= 0 ? (W - 1 - off) / sw + 1 : 0;                     \
        if (b > OW) b = OW;                                                           \
        if (a > b) a = b;                                                             \
        clo[kw] = a; chi[kw] = b;                                                     \
    }                                                                                 \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                      \
    for (long pl = 0; pl < planes; pl++) {                                            \
        const T* xp = x + pl * H * W;                                                 \
        T* yp = y + pl * OH * OW;                                                     \
        for (long oh = 0; oh < OH; oh++) {                                            \
            T* yr = yp + oh * OW;                                                     \
            for (long kh = 0; kh < KH; kh++) {                                        \
                long ih = oh * sh - ph + kh;                                          \
                int rok = ih >= 0 && ih < H;                                          \
                for (long kw = 0; kw < KW; kw++) {                                    \
                    long a = rok ? clo[kw] : 0, b = rok ? chi[kw] : 0;                \
                    const T* xs = xp + (rok ? ih * W + kw - pw : 0);                  \
                    if (kh == 0 && kw == 0) {                                         \
                        for (long ow = 0; ow < a; ow++) yr[ow] = 0;                   \
                        for (long ow = a; ow < b; ow++) yr[ow] = xs[ow * sw];         \
                        for (long ow = b; ow < OW; ow++) yr[ow] = 0;                  \
                    } else {                                                          \
                        for (long ow = 0; ow < a; ow++) yr[ow] += (T)0;               \
                        for (long ow = a; ow < b; ow++) yr[ow] += xs[ow * sw];        \
                        for (long ow = b; ow < OW; ow++) yr[ow] += (T)0;              \
                    }                                                                 \
                }                                                                     \
            }                                                                         \
            if (has_ov) {                                                             \
                for (long ow = 0; ow < OW; ow++) yr[ow] = yr[ow] / ov;                \
            } else {                                                                  \
                const double* dr = div + oh * OW;                                     \
                for (long ow = 0; ow < OW; ow++)                                      \
                    yr[ow] = (T)((double)yr[ow] / dr[ow]);                            \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}

AVGPOOL2D_FWD(float, avgpool2d_fwd_f32)
AVGPOOL2D_FWD(double, avgpool2d_fwd_f64)
"""

_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
_L = ctypes.c_long


# the compiled library, or None (no compiler, or kernels disabled)
_lib = c_library(_SRC, ("maxpool2d_bwd_f32", "maxpool2d_bwd_f64", "maxpool2d_fwd_f32",
                        "maxpool2d_fwd_f64", "row_mean_f32", "row_mean_f64",
                        "avgpool2d_fwd_f32", "avgpool2d_fwd_f64"))


def _geometry(ks, s, p, d):
    """(KH, KW, sh, sw, ph, pw, dh, dw) of a 1-d or 2-d window (1-d as one row)."""
    if len(ks) == 1:
        return (1, ks[0], 1, s[0], 0, p[0], 1, d[0])
    return (ks[0], ks[1], s[0], s[1], p[0], p[1], d[0], d[1])


def max_pool_backward(g, arg, ks, s, p, d, spatial):
    """The input gradient of max pooling from the output gradient ``g`` and the int8 kernel
    offsets ``arg``, or None where the kernel does not apply."""
    if (type(g) is not np.ndarray or type(arg) is not np.ndarray or g.dtype not in _SUFFIX
            or arg.dtype != np.int8 or len(ks) not in (1, 2) or g.ndim != len(ks) + 2
            or arg.shape != g.shape):
        return None
    lib = _lib()
    if lib is None:
        return None
    g = np.ascontiguousarray(g)
    arg = np.ascontiguousarray(arg)
    sp = tuple(spatial) if len(ks) == 2 else (1,) + tuple(spatial)
    osp = g.shape[2:] if len(ks) == 2 else (1,) + g.shape[2:]
    gx = np.empty(g.shape[:2] + tuple(spatial), g.dtype)
    if gx.size == 0:
        return gx
    # NOTE [ Lean pooling calls ]: the size arguments kept per geometry
    key = (g.shape, sp, ks, s, p, d)
    args = _MPB_ARGS.get(key)
    if args is None:
        kh, kw, sh, sw, ph, pw, dh, dw = _geometry(ks, s, p, d)
        if len(_MPB_ARGS) >= 256:
            _MPB_ARGS.clear()
        args = _MPB_ARGS[key] = tuple(_L(v) for v in (
            g.shape[0] * g.shape[1], sp[0], sp[1], osp[0], osp[1], kw, sh, sw, ph, pw, dh, dw))
    getattr(lib, "maxpool2d_bwd_" + _SUFFIX[g.dtype])(
        data_ptr(g), data_ptr(arg), data_ptr(gx), *args,
        ctypes.c_int(1 if gx.size < _SERIAL_BELOW else get_num_threads()))
    return gx


_MPB_ARGS: dict = {}


def max_pool_forward(x, ks, s, p, d, out):
    """Max pooling of ``x`` (N, C, *S): (values, int8 kernel offsets of the maxima), or None
    where the kernel does not apply (see the module's note)."""
    if type(x) is not np.ndarray:
        return None
    key = (x.shape, x.dtype, ks, s, p, d, out)
    plan = _MP_PLANS.get(key)
    if plan is None:
        plan = _max_pool_plan(x, ks, s, p, d, out)
        if len(_MP_PLANS) >= 256:
            _MP_PLANS.clear()
        _MP_PLANS[key] = plan
    if plan is False or _lib() is None:  # (compilation may have been turned off since)
        return None
    fn, yshape, args, nt = plan
    x = np.ascontiguousarray(x)
    y = np.empty(yshape, x.dtype)
    arg = np.empty(yshape, np.int8)
    if args is not None:  # (None: an empty output)
        fn(data_ptr(x), data_ptr(y), data_ptr(arg), *args,
           nt if nt is not None else ctypes.c_int(get_num_threads()))
    return y, arg


# NOTE [ Lean pooling calls ]: a max pooling call's ctypes arguments (15 integers, ~3 us
# to build) depend only on the shapes and the window, so they are built once per key
# (forward and backward);
# the arrays' data pointers are read from the array objects (kernel.data_ptr, ~0.15 us
# each against ~1 us for ``a.ctypes.data``).
_MP_PLANS: dict = {}


def _max_pool_plan(x, ks, s, p, d, out):
    """(function, output shape, ctypes arguments after the pointers, or None for an empty
    output) of a max pooling forward, or False where the kernel does not apply."""
    if (x.dtype not in _SUFFIX or tuple(ks) != (2, 2) or tuple(s) != (2, 2) or any(p)
            or x.ndim != 4):
        return False  # other windows: NumPy's vectorised passes beat a scalar C loop
    lib = _lib()
    if lib is None:
        return False
    yshape = x.shape[:2] + tuple(out)
    if 0 in yshape:
        return None, yshape, None, None
    sp = tuple(x.shape[2:]) if len(ks) == 2 else (1,) + tuple(x.shape[2:])
    osp = tuple(out) if len(ks) == 2 else (1,) + tuple(out)
    kh, kw, sh, sw, ph, pw, dh, dw = _geometry(ks, s, p, d)
    size = 1
    for v in x.shape:
        size *= v
    # the thread count: one below _SERIAL_BELOW values, else read at each call
    nt = ctypes.c_int(1) if size < _SERIAL_BELOW else None
    return getattr(lib, "maxpool2d_fwd_" + _SUFFIX[x.dtype]), yshape, (
        _L(x.shape[0] * x.shape[1]), _L(sp[0]), _L(sp[1]), _L(osp[0]), _L(osp[1]), _L(kh),
        _L(kw), _L(sh), _L(sw), _L(ph), _L(pw), _L(dh), _L(dw)), nt


_SCALAR = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}
_SERIAL_BELOW = 1 << 16  # values below which one thread beats waking the others


def row_mean(x, rows, length):
    """The mean of each of the ``rows`` runs of ``length`` values of ``x`` (C-contiguous
    host float32/float64, ``rows * length`` values) as a new ``(rows,)`` array, or None
    where the kernel does not apply (NOTE [ Global average pool kernel ])."""
    if (type(x) is not np.ndarray or x.dtype not in _SUFFIX or not x.flags.c_contiguous
            or x.size != rows * length or length == 0 or _lib() is None):
        return None
    y = np.empty(rows, x.dtype)
    if rows:
        nt = 1 if x.size < _SERIAL_BELOW else get_num_threads()
        getattr(_lib(), "row_mean_" + _SUFFIX[x.dtype])(
            ctypes.c_void_p(x.ctypes.data), ctypes.c_void_p(y.ctypes.data), _L(rows),
            _L(length), _SCALAR[x.dtype](1.0 / length), ctypes.c_int(nt))
    return y


# NOTE [ Average pooling kernel ]
# avg_pool's NumPy forward is one strided slice addition per kernel offset, then a division
# by the window sizes: at ~1e3 values, a handful of NumPy calls of ~1 us each. The kernel
# does the same arithmetic per output value in one pass: the window's values added in
# kernel order starting from the first one (a zero where the window leaves the input, as the
# zero-padded copy holds there), then divided as NumPy divides: by the window size in
# double, rounded to the float type (a float32 array divided in place by an int64 one runs
# NumPy's float64 loop), or by ``divisor_override`` in the float type (NumPy converts the
# Python int to the array's type). So the values are NumPy's bit for bit
# (tests/test_small_nn_s9.py). Taken for 1-d/2-d float32/float64 host arrays below
# _AVG_KERNEL_BELOW values (the kernel is a scalar loop; larger inputs keep NumPy's
# vectorised passes) and integer overrides below 2**24 (exact in float32).
_AVG_KERNEL_BELOW = 1 << 14
_AVG_PLANS: dict = {}


def avg_pool_forward(x, ks, s, p, out, count_include_pad, div, override):
    """Average pooling of ``x`` (N, C, *S) with the window sizes ``div`` (int64, broadcast
    to ``out``, as ``count_include_pad`` gives them; None with an override), or None where
    the kernel does not apply."""
    if type(x) is not np.ndarray or x.size >= _AVG_KERNEL_BELOW:
        return None
    key = (x.shape, x.dtype, ks, s, p, out, count_include_pad, override)
    plan = _AVG_PLANS.get(key)
    if plan is None:
        plan = _avg_pool_plan(x, ks, s, p, out, div, override)
        if len(_AVG_PLANS) >= 256:
            _AVG_PLANS.clear()
        _AVG_PLANS[key] = plan
    if plan is False or _lib() is None:  # (compilation may have been turned off since)
        return None
    fn, dv, geo = plan
    x = np.ascontiguousarray(x)
    y = np.empty(x.shape[:2] + out, x.dtype)
    if y.size:
        fn(data_ptr(x), data_ptr(y), dv, geo, _ONE)
    return y


_ONE = ctypes.c_int(1)


def _avg_pool_plan(x, ks, s, p, out, div, override):
    """(function, the divisors as a flat float64 array, the ctypes arguments after the
    pointers), or False where the kernel does not apply."""
    if x.dtype not in _SUFFIX or len(ks) not in (1, 2) or x.ndim != len(ks) + 2:
        return False
    if override and not (type(override) is int and abs(override) < 1 << 24):
        return False
    lib = _lib()
    if lib is None:
        return False
    if override:
        dv = np.array([override], np.float64)  # (exact: |override| < 2**24)
    else:
        dv = np.ascontiguousarray(np.broadcast_to(div, out), np.float64).reshape(-1)
    sp = tuple(x.shape[2:]) if len(ks) == 2 else (1,) + tuple(x.shape[2:])
    osp = tuple(out) if len(ks) == 2 else (1,) + tuple(out)
    kh, kw, sh, sw, ph, pw, _, _ = _geometry(ks, s, p, (1,) * len(ks))
    geo = np.array([x.shape[0] * x.shape[1], *sp, *osp, kh, kw, sh, sw, ph, pw,
                    1 if override else 0], np.dtype(_L))
    # the arrays live in the plan: their addresses as ctypes objects, built once
    return (getattr(lib, "avgpool2d_fwd_" + _SUFFIX[x.dtype]), _Kept(dv), _Kept(geo))


class _Kept:
    """An array passed to ctypes by its address, kept alive with it."""

    __slots__ = ("arr", "_as_parameter_")

    def __init__(self, arr):
        self.arr = arr
        self._as_parameter_ = ctypes.c_void_p(arr.ctypes.data)
