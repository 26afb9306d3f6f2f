"""Hand-written C kernels for one time step of the LSTM and GRU gate math (forward and
backward), built and cached like the generated kernels.

NOTE [ Recurrent step kernels ]
A recurrent layer's loop (``nn/_functional_seq.py``) runs one small GEMM per time step and
then the gate math on an (n, 4H) or (n, 3H) block: about 8,000-30,000 elements, a few dozen
microseconds of arithmetic. Through the generic elementwise kernels each step paid ~60-120
us: building a dozen strided views and the kernel's argument signature in Python, then
scalar ``tanhf`` calls that do not vectorise. Here each step is one ``ctypes`` call with
precomputed addresses (``base + t * step_stride``, no array objects made per step), and the
float32 gates use branch-free ``exp``/``tanh``/``sigmoid`` written so the compiler
vectorises them (the Cephes polynomials: within a few ulp of libm, NaN and +-inf handled
as libm does); float64 keeps libm's ``exp``/``tanh`` (its results are what gradcheck sees).

Formulas, as the NumPy fallbacks of the layer records spell them: ``sigmoid(x) = 1 / (1 +
exp(-x))`` (written with ``exp(-|x|)`` so it never overflows), ``c' = f * c + i * g``,
``h' = o * tanh(c')``; the backward takes the saved activations. A step's inputs and
outputs are rows of (T, B, ...) buffers with a contiguous last dimension; the row strides
are passed, so a gate-major recurrent product (4, n, H) and a row-major one (n, 4H) both
work.

NOTE [ Recurrent layer buffers ]
A layer call allocates a handful of (T, B, 4H)-sized arrays (activations, cells, states,
gate gradients: 2-8 MiB each for the char-LSTM example) and frees them when the graph
goes. glibc hands such blocks back to the kernel when the heap's top is freed, so every
training step page-faults them in again: ~2,300 minor faults per step of the char-LSTM,
the biggest part of its gap to PyTorch (CPU time 79 -> 66 ms/step with
``ember.cpu.allocator.enable_heap_reuse()``, the default since the sixth session). ``empty`` and
``zeros`` here take those buffers from a small pool instead: each array is a view of a
pooled block whose holder object returns the block to the pool when the last view of it
dies (reference counting, so a block is never handed out while anything, a retained graph
or a user's output, still sees it). Only these buffers are pooled, nothing else of the
process changes; the pool keeps at most ``POOL_LIMIT`` bytes of idle blocks (and
:func:`release_buffers` drops them).

Each preparer returns None where the kernels do not apply (not host NumPy, a dtype other
than float32/float64, a last dimension that is not contiguous, no compiler,
``EMBER_JIT_DISABLE``); the caller then runs its own code.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ember._codegen.kernel import c_library

_SRC = r"""
#include <math.h>
#include <omp.h>
#include <string.h>
#include <stdint.h>

/* float32: branch-free Cephes-style exp/tanh/sigmoid the compiler vectorises; FMA where
   the instruction set has it (fmaf would otherwise be a libm call per element) */
#ifdef __FMA__
#define MADD(a, b, c) fmaf(a, b, c)
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

static inline float exp_f32(float x)
{
    float v = x < -87.33654f ? -87.33654f : x;     /* NaN passes both tests unchanged */
    v = v > 88.37626f ? 88.37626f : v;
    float fx = floorf(MADD(v, 1.44269504088896341f, 0.5f));
    float r = MADD(fx, -0.693359375f, v);
    r = MADD(fx, 2.12194440e-4f, r);
    float y = MADD(1.9875691500E-4f, r, 1.3981999507E-3f);
    y = MADD(y, r, 8.3334519073E-3f);
    y = MADD(y, r, 4.1665795894E-2f);
    y = MADD(y, r, 1.6666665459E-1f);
    y = MADD(y, r, 5.0000001201E-1f);
    y = MADD(y, r * r, r + 1.0f);
    int32_t n = (int32_t)fx;
    n = (n + 127) << 23;
    float scale;
    memcpy(&scale, &n, sizeof scale);
    y = y * scale;
    y = x < -87.33654f ? 0.0f : y;                 /* underflow (libm: denormal or 0) */
    return x > 88.72283f ? INFINITY : y;
}

static inline float tanh_f32(float x)
{
    float a = fabsf(x);
    float z = x * x;
    float p = MADD(-5.70498872745E-3f, z, 2.06390887954E-2f);
    p = MADD(p, z, -5.37397155531E-2f);
    p = MADD(p, z, 1.33314422036E-1f);
    p = MADD(p, z, -3.33332819422E-1f);
    float small = MADD(p * z, x, x);
    float e = exp_f32(-2.0f * a);
    float big = (1.0f - e) / (1.0f + e);
    return copysignf(a < 0.625f ? small : big, x);  /* also keeps tanh(-0) = -0 */
}

static inline float sigmoid_f32(float x)
{
    float e = exp_f32(-fabsf(x));
    float s = 1.0f / (1.0f + e);
    return x >= 0.0f ? s : e * s;
}

static inline double tanh_f64(double x) { return tanh(x); }

static inline double sigmoid_f64(double x)
{
    double e = exp(-fabs(x));
    double s = 1.0 / (1.0 + e);
    return x >= 0.0 ? s : e * s;
}

/* One LSTM cell, forward and backward: the per-step kernels and the whole-sequence ones
   share these (the compiler inlines them into the vectorised loops) */
#define CELLS(T, S)                                                                    \
static inline void lstm_cell_fwd_##S(T zi, T zf, T zg, T zo, T c, T* ai, T* af, T* ag,   \
                                     T* ao, T* cn, T* tc, T* hn)                       \
{                                                                                      \
    T i = sigmoid_##S(zi), f = sigmoid_##S(zf), g = tanh_##S(zg), o = sigmoid_##S(zo);  \
    T cc = f * c + i * g;                                                              \
    T t = tanh_##S(cc);                                                                \
    *ai = i; *af = f; *ag = g; *ao = o;                                                \
    *cn = cc;                                                                          \
    *tc = t;                                                                           \
    *hn = o * t;                                                                       \
}                                                                                      \
/* returns the previous cell's gradient */                                             \
static inline T lstm_cell_bwd_##S(T dht, T dc, T i, T f, T g, T o, T t, T cp, T* di,    \
                                  T* df, T* dg, T* dz)                                 \
{                                                                                      \
    T dct = dc + dht * o * (1 - t * t);                                                \
    *di = dct * g * i * (1 - i);                                                       \
    *df = dct * cp * f * (1 - f);                                                      \
    *dg = dct * i * (1 - g * g);                                                       \
    *dz = dht * t * o * (1 - o);                                                       \
    return dct * f;                                                                    \
}

CELLS(float, f32)
CELLS(double, f64)

#define R __restrict__  /* distinct buffers: lets the compiler vectorise */
#define STEPS(T, S)                                                                    \
/* LSTM forward step: gates (xg + hg) -> a (i, f, g, o), cn, tc, hn (and out). hg is    \
   in column blocks of cb: column j of gate q of row r at q * hg_gs + (j / cb) * hg_bs  \
   + r * hg_rs + j % cb (cb = hs: gate-major or row-major layouts) */                  \
void lstm_fwd_##S(const T* R xg, long xg_rs, const T* R hg, long hg_gs, long hg_bs,     \
                  long hg_rs, long cb, const T* R c, long c_rs, T* R a, long a_rs,      \
                  T* R cn, long cn_rs, T* R tc, long tc_rs, T* R hn, long hn_rs,        \
                  T* R out, long out_rs, long n, long hs)                              \
{                                                                                      \
    for (long r = 0; r < n; r++) {                                                     \
        for (long j0 = 0; j0 < hs; j0 += cb) {                                         \
            const T* x = xg + r * xg_rs + j0;                                          \
            const T* h = hg + r * hg_rs + (j0 / cb) * hg_bs;                           \
            const T* cr = c + r * c_rs + j0;                                           \
            T* ar = a + r * a_rs + j0;                                                 \
            T* cnr = cn + r * cn_rs + j0;                                              \
            T* tcr = tc + r * tc_rs + j0;                                              \
            T* hnr = hn + r * hn_rs + j0;                                              \
            for (long j = 0; j < cb; j++)                                              \
                lstm_cell_fwd_##S(x[j] + h[j], x[hs + j] + h[hg_gs + j],                \
                                  x[2 * hs + j] + h[2 * hg_gs + j],                    \
                                  x[3 * hs + j] + h[3 * hg_gs + j], cr[j], ar + j,     \
                                  ar + hs + j, ar + 2 * hs + j, ar + 3 * hs + j,       \
                                  cnr + j, tcr + j, hnr + j);                          \
        }                                                                              \
        if (out) memcpy(out + r * out_rs, hn + r * hn_rs, sizeof(T) * hs);             \
    }                                                                                  \
}                                                                                      \
                                                                                       \
/* LSTM backward step: dh (+ gout when given), dc (updated in place to the previous    \
   cell's gradient), saved a, tc, previous cell cp -> gate gradients dg. dh is in       \
   column blocks of cb as hg in lstm_fwd (cb = hs: row-major) */                       \
void lstm_bwd_##S(const T* R dh, long dh_bs, long dh_rs, long cb, const T* R go,        \
                  long go_rs, T* R dc, long dc_rs, const T* R a, long a_rs,             \
                  const T* R tc, long tc_rs, const T* R cp, long cp_rs, T* R dg,        \
                  long dg_rs, long n, long hs)                                         \
{                                                                                      \
    for (long r = 0; r < n; r++) {                                                     \
        for (long j0 = 0; j0 < hs; j0 += cb) {                                         \
            const T* d = dh + r * dh_rs + (j0 / cb) * dh_bs;                           \
            const T* gr = go ? go + r * go_rs + j0 : d;                                \
            T* dcr = dc + r * dc_rs + j0;                                              \
            const T* ar = a + r * a_rs + j0;                                           \
            const T* tcr = tc + r * tc_rs + j0;                                        \
            const T* cpr = cp + r * cp_rs + j0;                                        \
            T* dgr = dg + r * dg_rs + j0;                                              \
            for (long j = 0; j < cb; j++)  /* go ? : unswitched by the compiler */     \
                dcr[j] = lstm_cell_bwd_##S(go ? d[j] + gr[j] : d[j], dcr[j], ar[j],     \
                                           ar[hs + j], ar[2 * hs + j], ar[3 * hs + j],  \
                                           tcr[j], cpr[j], dgr + j, dgr + hs + j,       \
                                           dgr + 2 * hs + j, dgr + 3 * hs + j);         \
        }                                                                              \
    }                                                                                  \
}                                                                                      \
                                                                                       \
/* GRU forward step: x (r, z, n input parts), gh (recurrent parts, bias included),     \
   h -> a (r, z, n) and hn (and out) */                                                \
void gru_fwd_##S(const T* R x, long x_rs, const T* R gh, long gh_rs, const T* R h, long h_rs, \
                 T* R a, long a_rs, T* R ghn, long ghn_rs, T* R hn, long hn_rs, T* R out,       \
                 long out_rs, long n, long hs)                                         \
{                                                                                      \
    for (long q = 0; q < n; q++) {                                                     \
        const T* xr = x + q * x_rs;                                                    \
        const T* gr = gh + q * gh_rs;                                                  \
        const T* hr = h + q * h_rs;                                                    \
        T* ar = a + q * a_rs;                                                          \
        T* gnr = ghn + q * ghn_rs;                                                     \
        T* hnr = hn + q * hn_rs;                                                       \
        for (long j = 0; j < hs; j++) {                                                \
            T r = sigmoid_##S(xr[j] + gr[j]);                                          \
            T z = sigmoid_##S(xr[hs + j] + gr[hs + j]);                                \
            T nn = tanh_##S(xr[2 * hs + j] + r * gr[2 * hs + j]);                      \
            ar[j] = r; ar[hs + j] = z; ar[2 * hs + j] = nn;                            \
            gnr[j] = gr[2 * hs + j];                                                   \
            hnr[j] = nn + z * (hr[j] - nn);                                            \
        }                                                                              \
        if (out) memcpy(out + q * out_rs, hnr, sizeof(T) * hs);                        \
    }                                                                                  \
}                                                                                      \
                                                                                       \
/* GRU backward step: dh (+ gout when given), saved a, previous state hp and ghn ->    \
   input-side gradients dx, recurrent-side dgh, and dz = dh * z (the direct path) */   \
void gru_bwd_##S(const T* R dh, long dh_rs, const T* R go, long go_rs, const T* R a,          \
                 long a_rs, const T* R hp, long hp_rs, const T* R ghn, long ghn_rs,         \
                 T* R dx, long dx_rs, T* R dgh, long dgh_rs, T* R dzh, long dzh_rs,           \
                 long n, long hs)                                                      \
{                                                                                      \
    for (long q = 0; q < n; q++) {                                                     \
        const T* d = dh + q * dh_rs;                                                   \
        const T* gq = go ? go + q * go_rs : d;                                         \
        const T* ar = a + q * a_rs;                                                    \
        const T* hpr = hp + q * hp_rs;                                                 \
        const T* gnr = ghn + q * ghn_rs;                                               \
        T* dxr = dx + q * dx_rs;                                                       \
        T* dgr = dgh + q * dgh_rs;                                                     \
        T* dzr = dzh + q * dzh_rs;                                                     \
        for (long j = 0; j < hs; j++) {                                                \
            T dht = go ? d[j] + gq[j] : d[j];                                          \
            T r = ar[j], z = ar[hs + j], nn = ar[2 * hs + j];                          \
            T dn = dht * (1 - z) * (1 - nn * nn);                                      \
            T dz = dht * (hpr[j] - nn) * z * (1 - z);                                  \
            T dr = dn * gnr[j] * r * (1 - r);                                          \
            dxr[j] = dr; dxr[hs + j] = dz; dxr[2 * hs + j] = dn;                       \
            dgr[j] = dr; dgr[hs + j] = dz; dgr[2 * hs + j] = dn * r;                   \
            dzr[j] = dht * z;                                                          \
        }                                                                              \
    }                                                                                  \
}

STEPS(float, f32)
STEPS(double, f64)

/* NOTE [ Whole-sequence LSTM kernels ]: a layer without projection whose batch is full at
   every step runs its whole time loop in one call and one OpenMP region. The batch's rows
   are independent sequences, so each thread takes a range of rows through every step, its
   recurrent products by the BLAS (fn, on one thread: OpenBLAS's small-matrix path, the
   columns in blocks of cb) and its gate math, with no synchronisation between threads at
   all (a barrier per step cost more than the second thread gave, and splitting the hidden
   units instead made the threads write the same cache lines of every row). */
#define SEQ(T, S)                                                                      \
typedef void (*gemm_##S##_t)(int, int, int, long, long, long, T, const T*, long,        \
                              const T*, long, T, T*, long);                            \
/* xg (TT, n, 4H), wc (4H / cb, H, cb) the column blocks of W_hh^T, hg (4H / cb, n, cb) \
   scratch, hsa and cs (TT + 1, n, H) with step 0 set, a (TT, n, 4H), tc and out (TT, n, \
   H) */                                                                               \
void lstm_seq_fwd_##S(void* fn, long TT, long n, long hs, long cb, const T* xg,         \
                      const T* wc, T* hg, T* hsa, T* cs, T* a, T* tc, T* out, int nt)   \
{                                                                                      \
    gemm_##S##_t f = (gemm_##S##_t)fn;                                                 \
    long nbh = hs / cb, g4 = 4 * hs, gs = nbh * n * cb;                                \
    _Pragma("omp parallel num_threads(nt)")                                            \
    {                                                                                  \
        long id = omp_get_thread_num(), m = omp_get_num_threads();                     \
        long r0 = n * id / m, r1 = n * (id + 1) / m;                                   \
        for (long t = 0; t < TT && r1 > r0; t++) {                                     \
            const T* h = hsa + (t * n + r0) * hs;                                      \
            for (long k = 0; k < 4 * nbh; k++)                                         \
                f(101, 111, 111, r1 - r0, cb, hs, (T)1, h, hs, wc + k * hs * cb, cb,   \
                  (T)0, hg + k * n * cb + r0 * cb, cb);                                \
            for (long r = r0; r < r1; r++) {                                           \
                const T* x = xg + (t * n + r) * g4;                                    \
                const T* cr = cs + (t * n + r) * hs;                                   \
                T* ar = a + (t * n + r) * g4;                                          \
                T* cnr = cs + ((t + 1) * n + r) * hs;                                  \
                T* tcr = tc + (t * n + r) * hs;                                        \
                T* hnr = hsa + ((t + 1) * n + r) * hs;                                 \
                T* outr = out + (t * n + r) * hs;                                      \
                for (long b = 0; b < nbh; b++) {                                       \
                    const T* hq = hg + b * n * cb + r * cb;                            \
                    long o0 = b * cb;                                                  \
                    _Pragma("omp simd")                                                \
                    for (long j = 0; j < cb; j++) {                                    \
                        long jj = o0 + j;                                              \
                        lstm_cell_fwd_##S(x[jj] + hq[j], x[hs + jj] + hq[gs + j],       \
                                          x[2 * hs + jj] + hq[2 * gs + j],             \
                                          x[3 * hs + jj] + hq[3 * gs + j], cr[jj],     \
                                          ar + jj, ar + hs + jj, ar + 2 * hs + jj,     \
                                          ar + 3 * hs + jj, cnr + jj, tcr + jj,        \
                                          hnr + jj);                                   \
                        outr[jj] = hnr[jj];                                            \
                    }                                                                  \
                }                                                                      \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
}                                                                                      \
                                                                                       \
/* go (TT, n, H) output gradients or NULL, dh (H / cb, n, cb) the last state's gradient  \
   in column blocks and dc (n, H) the last cell's, both replaced by step 0's inputs'; a,  \
   tc (TT, n, ...), cs (TT + 1, n, H) saved; dg (TT, n, 4H) written; wb (H / cb, 4H, cb)  \
   the column blocks of W_hh */                                                        \
void lstm_seq_bwd_##S(void* fn, long TT, long n, long hs, long cb, const T* go, T* dh,  \
                      T* dc, const T* a, const T* tc, const T* cs, T* dg, const T* wb,  \
                      int nt)                                                          \
{                                                                                      \
    gemm_##S##_t f = (gemm_##S##_t)fn;                                                 \
    long nbh = hs / cb, g4 = 4 * hs;                                                   \
    _Pragma("omp parallel num_threads(nt)")                                            \
    {                                                                                  \
        long id = omp_get_thread_num(), m = omp_get_num_threads();                     \
        long r0 = n * id / m, r1 = n * (id + 1) / m;                                   \
        for (long t = TT - 1; t >= 0 && r1 > r0; t--) {                                \
            for (long r = r0; r < r1; r++) {                                           \
                const T* ar = a + (t * n + r) * g4;                                    \
                const T* tcr = tc + (t * n + r) * hs;                                  \
                const T* cpr = cs + (t * n + r) * hs;                                  \
                const T* gr = go ? go + (t * n + r) * hs : 0;                          \
                T* dcr = dc + r * hs;                                                  \
                T* dgr = dg + (t * n + r) * g4;                                        \
                for (long b = 0; b < nbh; b++) {                                       \
                    T* d = dh + (b * n + r) * cb;                                      \
                    long o0 = b * cb;                                                  \
                    _Pragma("omp simd")                                                \
                    for (long j = 0; j < cb; j++) {                                    \
                        long jj = o0 + j;                                              \
                        dcr[jj] = lstm_cell_bwd_##S(gr ? d[j] + gr[jj] : d[j], dcr[jj], \
                                                    ar[jj], ar[hs + jj], ar[2 * hs + jj], \
                                                    ar[3 * hs + jj], tcr[jj], cpr[jj],   \
                                                    dgr + jj, dgr + hs + jj,             \
                                                    dgr + 2 * hs + jj, dgr + 3 * hs + jj); \
                    }                                                                  \
                }                                                                      \
            }                                                                          \
            for (long b = 0; b < nbh; b++)                                             \
                f(101, 111, 111, r1 - r0, cb, g4, (T)1, dg + (t * n + r0) * g4, g4,    \
                  wb + b * g4 * cb, cb, (T)0, dh + (b * n + r0) * cb, cb);             \
        }                                                                              \
    }                                                                                  \
}

SEQ(float, f32)
SEQ(double, f64)
"""

_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
_NAMES = [f"{k}_{s}" for k in ("lstm_fwd", "lstm_bwd", "gru_fwd", "gru_bwd", "lstm_seq_fwd",
                                "lstm_seq_bwd") for s in ("f32", "f64")]
# argument kinds: p a pointer, l a long (row strides, sizes)
_ARGS = {"lstm_fwd": "plpllllplplplplplplll", "lstm_bwd": "plllplplplplplplll",
         "gru_fwd": "plplplplplplplll", "gru_bwd": "plplplplplplplplll",
         "lstm_seq_fwd": "pllllppppppppi", "lstm_seq_bwd": "pllllppppppppi"}

# the compiled library, or None (no compiler, or kernels disabled)
_lib = c_library(_SRC, _NAMES)
_FNS = {}


def _fn(kind, dtype):
    """The step function ``kind`` for ``dtype`` with its argument types set, or None."""
    key = (kind, dtype)
    f = _FNS.get(key)
    if f is None:
        lib = _lib()
        if lib is None:
            return None
        f = getattr(lib, f"{kind}_{_SUFFIX[dtype]}")
        f.argtypes = [ctypes.c_void_p if k == "p" else ctypes.c_int if k == "i" else
                      ctypes.c_long for k in _ARGS[kind]]
        _FNS[key] = f
    return f


class _Rows:
    """A (T, rows, cols) or (rows, cols) buffer as base address, step stride and row stride
    (bytes for the first two, elements for the row stride): row block ``t`` starts at
    ``base + t * step``."""

    __slots__ = ("base", "step", "rs")

    def __init__(self, arr):
        st = arr.strides
        self.base = arr.__array_interface__["data"][0]
        self.step = st[0] if arr.ndim == 3 else 0
        self.rs = st[-2] // arr.itemsize


def _applies(dtype, arrays):
    if dtype not in _SUFFIX:
        return False
    for a in arrays:
        if (type(a) is not np.ndarray or a.dtype != dtype or a.ndim not in (2, 3)
                or a.strides[-1] != a.itemsize or a.strides[-2] % a.itemsize):
            return False
    return True


def lstm_forward(xproj, hgb, gate_major, cs, acts, tcs, hn_buf, out):
    """A per-step runner of the LSTM gate math over these (T, ...) buffers, or None.

    Args:
        xproj: (T, B, 4H) input projections.
        hgb: the recurrent GEMM's buffer: column blocks (4H / cb, B, cb) (cb = H: one
            block per gate) or row-major (B, 4H).
        gate_major: whether ``hgb`` is in column blocks (else row-major).
        cs: (T + 1, B, H) cells (step t reads ``cs[t]``, writes ``cs[t + 1]``).
        acts: (T, B, 4H) activations; tcs: (T, B, H) tanh of the cells.
        hn_buf: (T, B, H) buffer step t writes its hidden state into (row t of it; pass
            ``hs_all[1:]`` for the states themselves).
        out: (T, B, H) output the hidden state is also copied into, or None.

    Returns:
        ``step(t, n)``: runs step ``t`` on the first ``n`` rows.

    Example:
        >>> import numpy as np
        >>> z = np.zeros
        >>> run = lstm_forward(z((1, 2, 4), "f"), z((2, 4), "f"), False, z((2, 2, 1), "f"),
        ...                    z((1, 2, 4), "f"), z((1, 2, 1), "f"), z((1, 2, 1), "f"), None)
        >>> run is None or run(0, 2) is None
        True
    """
    dt = xproj.dtype
    arrays = [xproj, hgb, cs, acts, tcs, hn_buf] + ([out] if out is not None else [])
    if not _applies(dt, arrays):
        return None
    fn = _fn("lstm_fwd", dt)
    if fn is None:
        return None
    hs = cs.shape[2]
    x, c, a, tc, hn = _Rows(xproj), _Rows(cs), _Rows(acts), _Rows(tcs), _Rows(hn_buf)
    o = _Rows(out) if out is not None else None
    isz = dt.itemsize
    hg = hgb.__array_interface__["data"][0]
    if gate_major:
        cb = hgb.shape[2]
        if hs % cb:
            return None
        hg_bs, hg_rs = hgb.strides[0] // isz, hgb.strides[1] // isz
        hg_gs = hs // cb * hg_bs
    else:
        cb, hg_gs, hg_bs, hg_rs = hs, hs, 0, hgb.strides[0] // isz

    def step(t, n):
        fn(x.base + t * x.step, x.rs, hg, hg_gs, hg_bs, hg_rs, cb, c.base + t * c.step, c.rs,
           a.base + t * a.step, a.rs, c.base + (t + 1) * c.step, c.rs,
           tc.base + t * tc.step, tc.rs, hn.base + t * hn.step, hn.rs,
           o.base + t * o.step if o is not None else None, o.rs if o is not None else 0,
           n, hs)

    return step


def lstm_backward(dh, gout, dc, acts, tcs, cs, dgates):
    """A per-step runner of the LSTM gate gradients, or None.

    Args:
        dh: (B, H) hidden-state gradient of the step (without the output's gradient when
            ``gout`` is given), or the same in column blocks, (H / cb, B, cb).
        gout: (T, B, H) gradient of the outputs, added to ``dh`` row by row, or None.
        dc: (B, H) cell gradient, replaced by the previous cell's gradient.
        acts, tcs, cs: the forward's saved activations, cell tanh and cells (T + 1 steps).
        dgates: (T, B, 4H) gate gradients written at step t.

    Returns:
        ``step(t, n)``: runs step ``t`` on the first ``n`` rows.

    Example:
        >>> import numpy as np
        >>> z = np.zeros
        >>> run = lstm_backward(z((2, 1), "f"), None, z((2, 1), "f"), z((1, 2, 4), "f"),
        ...                     z((1, 2, 1), "f"), z((2, 2, 1), "f"), z((1, 2, 4), "f"))
        >>> run is None or run(0, 2) is None
        True
    """
    dt = dh.dtype
    arrays = [dh, dc, acts, tcs, cs, dgates] + ([gout] if gout is not None else [])
    if not _applies(dt, arrays):
        return None
    fn = _fn("lstm_bwd", dt)
    if fn is None:
        return None
    hs = tcs.shape[2]
    d, dcr, a, tc, c, dg = _Rows(dh), _Rows(dc), _Rows(acts), _Rows(tcs), _Rows(cs), \
        _Rows(dgates)
    g = _Rows(gout) if gout is not None else None

    if dh.ndim == 3:  # column blocks (P / cb, B, cb)
        cb, d_bs = dh.shape[2], dh.strides[0] // dh.itemsize
        if hs % cb:
            return None
    else:
        cb, d_bs = hs, 0

    def step(t, n):
        fn(d.base, d_bs, d.rs, cb, g.base + t * g.step if g is not None else None,
           g.rs if g is not None else 0, dcr.base, dcr.rs, a.base + t * a.step, a.rs,
           tc.base + t * tc.step, tc.rs, c.base + t * c.step, c.rs,
           dg.base + t * dg.step, dg.rs, n, hs)

    return step


def _seq_ready(dt, arrays):
    """The BLAS gemm's address for the whole-sequence kernels, or None: host C-contiguous
    arrays of one float dtype, a compiled library and the BLAS's 64-bit-int ``gemm``."""
    if dt not in _SUFFIX or _lib() is None:
        return None
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dt or not a.flags.c_contiguous:
            return None
    from ember._codegen import blas

    return blas.address(dt)


def col_block(rows, k, hs, limit, narrowest):
    """The widest divisor of ``hs`` (at least ``narrowest``) whose (rows, k) @ (k, width)
    product stays under ``limit`` multiply-adds (OpenBLAS's small-matrix path), or None."""
    for d in range(1, hs // narrowest + 1):
        if hs % d == 0 and rows * k * (hs // d) <= limit:
            return hs // d
    return None


def seq_block(n, hs, nt, k=None, limit=600_000):
    """The column-block width of the whole-sequence kernels' products for ``n`` rows split
    among ``nt`` threads and ``hs`` hidden units (``k`` is ``hs`` forward, ``4 * hs``
    backward, where the last session measured ~850k as the better bound); None when
    ``hs`` has no such divisor of 8 or more columns."""
    rows = -(-n // max(1, min(nt, n)))
    return col_block(rows, hs if k is None else k, hs, limit, 8)


def lstm_seq_forward(xproj, whh_c, hs_all, cs, acts, tcs, out, nt):
    """Run a whole LSTM layer's time loop in one call (NOTE [ Whole-sequence LSTM kernels ]),
    or return False (nothing written) where it does not apply.

    Args:
        xproj: (T, B, 4H) input projections.
        whh_c: (4H / cb, H, cb) the column blocks of ``W_hh^T``.
        hs_all, cs: (T + 1, B, H) states and cells, row 0 set.
        acts: (T, B, 4H); tcs, out: (T, B, H): written.
        nt: threads.

    Returns:
        True when the layer ran.

    Example:
        >>> import numpy as np
        >>> z = lambda *s: np.zeros(s, np.float32)
        >>> lstm_seq_forward(z(1, 2, 32), z(4, 8, 8), z(2, 2, 8), z(2, 2, 8), z(1, 2, 32),
        ...                  z(1, 2, 8), z(1, 2, 8), 1) in (True, False)
        True
    """
    dt = xproj.dtype
    t_len, n, g4 = xproj.shape
    hs = g4 // 4
    fn_addr = _seq_ready(dt, (xproj, whh_c, hs_all, cs, acts, tcs, out))
    if fn_addr is None or whh_c.ndim != 3 or whh_c.shape[1] != hs or \
            whh_c.shape[0] * whh_c.shape[2] != g4:
        return False
    cb = whh_c.shape[2]
    fn = _fn("lstm_seq_fwd", dt)
    hg = np.empty((g4 // cb, n, cb), dt)
    from ember._codegen import blas

    with blas.one_thread():
        fn(fn_addr, t_len, n, hs, cb, _addr(xproj), _addr(whh_c), _addr(hg), _addr(hs_all),
           _addr(cs), _addr(acts), _addr(tcs), _addr(out), nt)
    return True


def lstm_seq_backward(gout, dh_c, dc, acts, tcs, cs, dgates, whh_b, nt):
    """Run a whole LSTM layer's backward time loop in one call (NOTE [ Whole-sequence LSTM
    kernels ]), or return False (nothing written) where it does not apply.

    Args:
        gout: (T, B, H) output gradients, or None.
        dh_c: (H / cb, B, cb) the last state's gradient in column blocks, replaced by the
            initial state's.
        dc: (B, H) the last cell's gradient, replaced by the initial cell's.
        acts, tcs, cs: the forward's saved activations, cell tanh, cells (T + 1 rows).
        dgates: (T, B, 4H) gate gradients, written.
        whh_b: (H / cb, 4H, cb) the column blocks of ``W_hh``.
        nt: threads.

    Returns:
        True when the loop ran.

    Example:
        >>> import numpy as np
        >>> z = lambda *s: np.zeros(s, np.float32)
        >>> lstm_seq_backward(None, z(1, 2, 8), z(2, 8), z(1, 2, 32), z(1, 2, 8), z(2, 2, 8),
        ...                   z(1, 2, 32), z(1, 32, 8), 1) in (True, False)
        True
    """
    dt = acts.dtype
    t_len, n, g4 = acts.shape
    hs = g4 // 4
    arrays = (dh_c, dc, acts, tcs, cs, dgates, whh_b) + ((gout,) if gout is not None else ())
    fn_addr = _seq_ready(dt, arrays)
    if fn_addr is None or dh_c.ndim != 3 or whh_b.shape[1] != g4 or \
            dh_c.shape[0] * dh_c.shape[2] != hs:
        return False
    cb = dh_c.shape[2]
    fn = _fn("lstm_seq_bwd", dt)
    from ember._codegen import blas

    with blas.one_thread():
        fn(fn_addr, t_len, n, hs, cb, _addr(gout) if gout is not None else None, _addr(dh_c),
           _addr(dc), _addr(acts), _addr(tcs), _addr(cs), _addr(dgates), _addr(whh_b), nt)
    return True


def _addr(a):
    return a.__array_interface__["data"][0]


def gru_forward(xproj, ghb, hs_all, acts, ghn, out):
    """A per-step runner of the GRU gate math, or None.

    Args:
        xproj: (T, B, 3H) input projections (input bias included).
        ghb: (B, 3H) the recurrent GEMM's buffer (recurrent bias included).
        hs_all: (T + 1, B, H) states (step t reads row t, writes row t + 1).
        acts: (T, B, 3H) activations r, z, n; ghn: (T, B, H) the recurrent part of n.
        out: (T, B, H) output the state is also copied into, or None.

    Returns:
        ``step(t, n)``: runs step ``t`` on the first ``n`` rows.

    Example:
        >>> import numpy as np
        >>> z = np.zeros
        >>> run = gru_forward(z((1, 2, 3), "f"), z((2, 3), "f"), z((2, 2, 1), "f"),
        ...                   z((1, 2, 3), "f"), z((1, 2, 1), "f"), None)
        >>> run is None or run(0, 2) is None
        True
    """
    dt = xproj.dtype
    arrays = [xproj, ghb, hs_all, acts, ghn] + ([out] if out is not None else [])
    if not _applies(dt, arrays):
        return None
    fn = _fn("gru_fwd", dt)
    if fn is None:
        return None
    hs = hs_all.shape[2]
    x, gh, h, a, gn = _Rows(xproj), _Rows(ghb), _Rows(hs_all), _Rows(acts), _Rows(ghn)
    o = _Rows(out) if out is not None else None

    def step(t, n):
        fn(x.base + t * x.step, x.rs, gh.base, gh.rs, h.base + t * h.step, h.rs,
           a.base + t * a.step, a.rs, gn.base + t * gn.step, gn.rs,
           h.base + (t + 1) * h.step, h.rs,
           o.base + t * o.step if o is not None else None, o.rs if o is not None else 0,
           n, hs)

    return step


def gru_backward(dh, gout, acts, hs_all, ghn, dx, dgh, dzh):
    """A per-step runner of the GRU gate gradients, or None.

    Args:
        dh: (B, H) state gradient of the step (without the output's gradient when ``gout``
            is given); gout: (T, B, H) or None.
        acts, hs_all, ghn: the forward's saved activations, states and recurrent n parts.
        dx, dgh: (T, B, 3H) input-side and recurrent-side gate gradients written at step t.
        dzh: (B, H) buffer for the direct path ``(dh + gout) * z``.

    Returns:
        ``step(t, n)``: runs step ``t`` on the first ``n`` rows.

    Example:
        >>> import numpy as np
        >>> z = np.zeros
        >>> run = gru_backward(z((2, 1), "f"), None, z((1, 2, 3), "f"), z((2, 2, 1), "f"),
        ...                    z((1, 2, 1), "f"), z((1, 2, 3), "f"), z((1, 2, 3), "f"),
        ...                    z((2, 1), "f"))
        >>> run is None or run(0, 2) is None
        True
    """
    dt = dh.dtype
    arrays = [dh, acts, hs_all, ghn, dx, dgh, dzh] + ([gout] if gout is not None else [])
    if not _applies(dt, arrays):
        return None
    fn = _fn("gru_bwd", dt)
    if fn is None:
        return None
    hs = hs_all.shape[2]
    d, a, h, gn, x, gh, dz = _Rows(dh), _Rows(acts), _Rows(hs_all), _Rows(ghn), _Rows(dx), \
        _Rows(dgh), _Rows(dzh)
    g = _Rows(gout) if gout is not None else None

    def step(t, n):
        fn(d.base, d.rs, g.base + t * g.step if g is not None else None,
           g.rs if g is not None else 0, a.base + t * a.step, a.rs, h.base + t * h.step, h.rs,
           gn.base + t * gn.step, gn.rs, x.base + t * x.step, x.rs,
           gh.base + t * gh.step, gh.rs, dz.base, dz.rs, n, hs)

    return step


# --------------------------------------------------------------------------- buffer pool
POOL_LIMIT = 256 << 20  # idle bytes the pool may keep
_MIN_POOLED = 256 << 10  # smaller arrays come from NumPy (glibc keeps those in its heap)
_POOL = {}  # nbytes -> [raw uint8 arrays]
_IDLE = [0]
_POOL_LOCK = threading.RLock()  # a block may die (GC) while the pool is in use


class _Block:
    """The holder of one pooled block: arrays made from it keep it alive (NumPy's ``base``),
    and when the last of them dies the block goes back to the pool."""

    __slots__ = ("raw", "__array_interface__")

    def __init__(self, raw, shape, dtype):
        self.raw = raw
        self.__array_interface__ = {"shape": shape, "typestr": dtype.str, "version": 3,
                                    "data": (raw.__array_interface__["data"][0], False)}

    def __del__(self):
        raw = self.raw
        with _POOL_LOCK:
            if _IDLE[0] + raw.nbytes <= POOL_LIMIT:
                _POOL.setdefault(raw.nbytes, []).append(raw)
                _IDLE[0] += raw.nbytes


def empty(shape, dtype):
    """An uninitialised host array for a recurrent layer's buffers, from the pool when one
    of the same size is idle (NOTE [ Recurrent layer buffers ]).

    Args:
        shape: the array's shape (a tuple of ints).
        dtype: a NumPy dtype.

    Returns:
        A C-contiguous, writeable ``numpy.ndarray``.

    Example:
        >>> a = empty((2, 3), np.dtype(np.float32))
        >>> a.shape, a.dtype.name, a.flags.c_contiguous
        ((2, 3), 'float32', True)
    """
    dtype = np.dtype(dtype)
    n = dtype.itemsize
    for d in shape:
        n *= d
    if n < _MIN_POOLED:
        return np.empty(shape, dtype)
    with _POOL_LOCK:
        free = _POOL.get(n)
        raw = free.pop() if free else None
        if raw is not None:
            _IDLE[0] -= n
    if raw is None:
        raw = np.empty(n, np.uint8)
    return np.asarray(_Block(raw, tuple(shape), dtype))


def zeros(shape, dtype):
    """:func:`empty`, filled with zeros.

    Args:
        shape: the array's shape (a tuple of ints).
        dtype: a NumPy dtype.

    Returns:
        A C-contiguous ``numpy.ndarray`` of zeros.

    Example:
        >>> zeros((2,), np.dtype(np.float64))
        array([0., 0.])
    """
    a = empty(shape, dtype)
    a.fill(0)
    return a


def release_buffers():
    """Drop the pool's idle blocks (their memory goes back to the C heap).

    Returns:
        The number of bytes released.

    Example:
        >>> release_buffers() >= 0
        True
    """
    with _POOL_LOCK:
        n = _IDLE[0]
        _POOL.clear()
        _IDLE[0] = 0
    return n
