"""One C call for a whole fused optimizer step over every parameter of a group.

NOTE [ Multi-tensor optimizer kernels ]
``_fused_adam_``/``_fused_adamw_`` (NOTE [ Fused optimizer records ] in
``ember/_ops/foreach.py``) ran one generated kernel per parameter: each call checks and
collects a dozen operands in Python (~8 us), which is most of a small model's optimizer
step (three parameters of 1e3 elements: ~50 us against PyTorch's ~10). Here the Python
side gathers every parameter's data pointers and constants once, and one C function
loops over the parameters, each update element by element in the records' operation
order (the same sequence as the generated kernel and the NumPy path, with floating-point
contraction off: bit-identical results), splitting a large parameter's elements over the
kernel threads.

``adam`` returns False where it does not apply (not host NumPy arrays, parameters of more
than one dtype or other than float32/float64, an operand that is not C-contiguous and of
its parameter's shape, read-only state, no compiler, ``EMBER_JIT_DISABLE``), and the
caller runs its per-parameter loop.
"""

from __future__ import annotations

import array
import ctypes

import numpy as np

from ember._codegen import kernel as _kernel
from ember._codegen.kernel import _OFF_C, _objects, c_library, get_num_threads

def _source():
    cases = "".join(
        f"        case {s * 12 + a * 6 + m * 3 + w}: adam_run_##SFX(X, G, M, V, VM, LO, HI, C, "
        f"{s}, {a}, {m}, {w}); break;                                   \\\n"
        for s in (0, 1) for a in (0, 1) for m in (0, 1) for w in (0, 1, 2))
    return _SRC.replace("@CASES@", cases)


_HEAD = r"""
#include <math.h>
#include <omp.h>
/* operands arrive as NumPy array objects and the offset of their data pointer (off >= 0,
   kernel._OFF), or as data pointers (off < 0): NOTE [ Lean kernel calls ] */
#define DATA(T, obj, off) ((T*)((off) >= 0 ? *(char**)((char*)(obj) + (off)) : (char*)(obj)))
"""

_SRC = r"""
/* wdmode: 0 none, 1 coupled (added to the gradient), 2 decoupled (AdamW). The flags are
   constants of each inlined copy (a switch picks one of 24): with them as run-time ints
   in the loop GCC did not vectorise it (10x slower). Without amsgrad the maximum is not
   taken and vmax is v (the same value is stored twice). */
#define ADAM(SFX, T, SQRT)                                                                \
static inline __attribute__((always_inline)) void adam_run_##SFX(                         \
    T* restrict x, const T* restrict g, T* restrict m, T* v, T* vmax, long lo, long hi,   \
    const T* c, const int small, const int amsgrad, const int maximize, const int wdmode) \
{                                                                                         \
    const T w = c[0], b2 = c[1], omb2 = c[2], eps = c[3], bc2s = c[4], nss = c[5];       \
    const T decay = c[6], wd = c[7];                                                      \
    _Pragma("omp simd")                                                                   \
    for (long i = lo; i < hi; i++) {                                                      \
        const T xi = x[i], gi = g[i], mi = m[i], vi = v[i], a = vmax[i];                  \
        T xd = wdmode == 2 ? xi * decay : xi;                                             \
        T g1 = maximize ? -gi : gi;                                                       \
        T gg = wdmode == 1 ? g1 + xd * wd : g1;                                           \
        T tmp = (gg - mi) * w;                                                            \
        T m2 = small ? mi + tmp : gg - tmp;                                               \
        T v2 = vi * b2 + (gg * omb2) * gg;                                                \
        T vv = amsgrad ? ((a >= v2 || a != a) ? a : v2) : v2;  /* NaN wins, as NumPy */   \
        x[i] = xd + (m2 * nss) / (SQRT(vv) / bc2s + eps);                                 \
        m[i] = m2;                                                                        \
        vmax[i] = vv;                                                                     \
        v[i] = v2;                                                                        \
    }                                                                                     \
}                                                                                         \
static void adam_pick_##SFX(T* X, const T* G, T* M, T* V, T* VM, long LO, long HI,       \
                            const T* C, int code)                                         \
{                                                                                         \
    switch (code) {                                                                       \
@CASES@    }                                                                              \
}                                                                                         \
void adam_##SFX(long np_, void* const* xs, void* const* gs, void* const* ms,             \
                void* const* vs, void* const* vmaxs, long off, const long* ns,            \
                const T* cs, int small, int amsgrad, int maximize, int wdmode, int nt)    \
{                                                                                         \
    const int code = small * 12 + amsgrad * 6 + maximize * 3 + wdmode;                    \
    for (long p = 0; p < np_; p++) {                                                      \
        T* x = DATA(T, xs[p], off);                                                       \
        const T* g = DATA(T, gs[p], off);                                                 \
        T* m = DATA(T, ms[p], off);                                                       \
        T* v = DATA(T, vs[p], off);                                                       \
        T* vmax = amsgrad ? DATA(T, vmaxs[p], off) : v;                                   \
        const long n = ns[p];                                                             \
        if (n < 65536 || nt < 2) {                                                        \
            adam_pick_##SFX(x, g, m, v, vmax, 0, n, cs + 8 * p, code);                    \
            continue;                                                                     \
        }                                                                                 \
        _Pragma("omp parallel num_threads(nt)")                                           \
        {                                                                                 \
            long k = omp_get_num_threads(), me = omp_get_thread_num();                    \
            adam_pick_##SFX(x, g, m, v, vmax, n * me / k, n * (me + 1) / k, cs + 8 * p,   \
                            code);                                                        \
        }                                                                                 \
    }                                                                                     \
}
ADAM(f32, float, sqrtf)
ADAM(f64, double, sqrt)
"""

_SGD_SRC = r"""
/* c: weight_decay, momentum, 1 - dampening, -lr in the parameters' dtype (one set for
   all). The flags are constants of each inlined copy, as in ADAM: maximize, wd
   (weight_decay != 0), mom (momentum != 0), damp (dampening != 0), nest (nesterov),
   first (the buffer's first step: it takes the gradient). */
#define SGD(SFX, T)                                                                       \
static inline __attribute__((always_inline)) void sgd_run_##SFX(                          \
    T* restrict x, const T* restrict g, T* restrict b, long lo, long hi, const T* c,      \
    const int maximize, const int wd, const int mom, const int damp, const int nest,      \
    const int first)                                                                      \
{                                                                                         \
    const T cwd = c[0], cm = c[1], comd = c[2], nlr = c[3];                               \
    _Pragma("omp simd")                                                                   \
    for (long i = lo; i < hi; i++) {                                                      \
        const T xi = x[i], gi = g[i];                                                     \
        const T g1 = maximize ? -gi : gi;                                                 \
        const T gp = wd ? g1 + xi * cwd : g1;                                             \
        if (mom) {                                                                        \
            const T bi = first ? gp : b[i];                                               \
            const T bn = first ? gp : (damp ? bi * cm + gp * comd : bi * cm + gp);        \
            b[i] = bn;                                                                    \
            const T d = nest ? gp + bn * cm : bn;                                         \
            x[i] = xi + d * nlr;                                                          \
        } else {                                                                          \
            x[i] = xi + gp * nlr;                                                         \
        }                                                                                 \
    }                                                                                     \
}                                                                                         \
static void sgd_pick_##SFX(T* X, const T* G, T* B, long LO, long HI, const T* C, int code)\
{                                                                                         \
    switch (code) {                                                                       \
@CASES@    }                                                                              \
}                                                                                         \
void sgd_##SFX(long np_, void* const* xs, void* const* gs, void* const* bs, long off,    \
               const long* ns, const T* cs, int code, int nt)                             \
{                                                                                         \
    for (long p = 0; p < np_; p++) {                                                      \
        const long n = ns[p];                                                             \
        T* x = DATA(T, xs[p], off);                                                       \
        const T* g = DATA(T, gs[p], off);                                                 \
        T* b = (code & 4) ? DATA(T, bs[p], off) : 0;                                      \
        if (n < 65536 || nt < 2) {                                                        \
            sgd_pick_##SFX(x, g, b, 0, n, cs, code);                                      \
            continue;                                                                     \
        }                                                                                 \
        _Pragma("omp parallel num_threads(nt)")                                           \
        {                                                                                 \
            long k = omp_get_num_threads(), me = omp_get_thread_num();                    \
            sgd_pick_##SFX(x, g, b, n * me / k, n * (me + 1) / k, cs, code);              \
        }                                                                                 \
    }                                                                                     \
}
SGD(f32, float)
SGD(f64, double)
"""


_ADAGRAD_SRC = r"""
/* c (per parameter): weight_decay, -clr, eps in its dtype; the gradient g' is g, -g,
   g + x wd or x wd - g (maximize, wd: _grad_into's forms); sum += g' g', then
   x += clr g' / (sqrt(sum) + eps), as ``_adagrad_exprs``. */
#define ADAGRAD(SFX, T, SQRT)                                                             \
static inline __attribute__((always_inline)) void adagrad_run_##SFX(                      \
    T* restrict x, const T* restrict g, T* restrict s, long lo, long hi, const T* c,      \
    const int maximize, const int wd)                                                     \
{                                                                                         \
    const T cwd = c[0], clr = c[1], eps = c[2];                                           \
    _Pragma("omp simd")                                                                   \
    for (long i = lo; i < hi; i++) {                                                      \
        const T xi = x[i], gi = g[i];                                                     \
        const T gp = wd ? (maximize ? xi * cwd - gi : gi + xi * cwd) : (maximize ? -gi : gi); \
        const T sn = s[i] + gp * gp;                                                      \
        s[i] = sn;                                                                        \
        x[i] = xi + clr * gp / (SQRT(sn) + eps);                                          \
    }                                                                                     \
}                                                                                         \
void adagrad_##SFX(long np_, void* const* xs, void* const* gs, void* const* ss, long off, \
                   const long* ns, const T* cs, int maximize, int wd, int nt)             \
{                                                                                         \
    for (long p = 0; p < np_; p++) {                                                      \
        const long n = ns[p];                                                             \
        T* x = DATA(T, xs[p], off);                                                       \
        const T* g = DATA(T, gs[p], off);                                                 \
        T* s = DATA(T, ss[p], off);                                                       \
        const T* c = cs + 3 * p;                                                          \
        const int t = (n < 65536 || nt < 2) ? 1 : nt;                                     \
        _Pragma("omp parallel num_threads(t) if(t > 1)")                                  \
        {                                                                                 \
            long k = omp_get_num_threads(), me = omp_get_thread_num();                    \
            long lo = n * me / k, hi = n * (me + 1) / k;                                  \
            if (maximize) {                                                               \
                if (wd) adagrad_run_##SFX(x, g, s, lo, hi, c, 1, 1);                      \
                else adagrad_run_##SFX(x, g, s, lo, hi, c, 1, 0);                         \
            } else {                                                                      \
                if (wd) adagrad_run_##SFX(x, g, s, lo, hi, c, 0, 1);                      \
                else adagrad_run_##SFX(x, g, s, lo, hi, c, 0, 0);                         \
            }                                                                             \
        }                                                                                 \
    }                                                                                     \
}
ADAGRAD(f32, float, sqrtf)
ADAGRAD(f64, double, sqrt)
"""


def _sgd_source():
    cases = "".join(
        f"        case {c}: sgd_run_##SFX(X, G, B, LO, HI, C, "
        + ", ".join(str((c >> k) & 1) for k in range(6)) + "); break;"
        + " " * 20 + "\\\n"
        for c in range(64))
    return _SGD_SRC.replace("@CASES@", cases)


# one library for the three updates (one build, one load)
_lib = c_library(_HEAD + _source() + _sgd_source() + _ADAGRAD_SRC,
                 ("adam_f32", "adam_f64", "sgd_f32", "sgd_f64", "adagrad_f32", "adagrad_f64"))
_SFX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}
_CT = {"f32": ctypes.c_float, "f64": ctypes.c_double}
_WD = {None: 0, "coupled": 1, "decoupled": 2}


def _covered(read, written):
    """The kernels' dtype suffix when they cover these lists (one per operand role: every
    array a C-contiguous host array of the first parameter's float32/float64 dtype and
    shape, the ``written`` ones writeable), else None."""
    xs = read[0]
    if not xs:
        return None
    dt = xs[0].dtype
    sfx = _SFX.get(dt)
    if sfx is None:
        return None
    others = read[1:]
    for i, x in enumerate(xs):
        if type(x) is not np.ndarray or (x.dtype is not dt and x.dtype != dt) or \
                not x.flags.c_contiguous:
            return None
        shape, strides = x.shape, x.strides
        for lst in others:
            a = lst[i]
            # (the shape, strides and itemsize of a C-contiguous array: C-contiguous too;
            # one tuple test instead of a flags object per array)
            if type(a) is not np.ndarray or (a.dtype is not dt and a.dtype != dt) or \
                    a.shape != shape or a.strides != strides:
                return None
    for lst in written:
        for a in lst:
            if not a.flags.writeable:
                return None
    return sfx


class _Buf:
    """A C array of numbers passed by address: ``array.array`` fills one from a list several
    times faster than a ctypes array type (~0.1 us against ~0.5 per ten floats); the object
    keeps the memory alive while it is referenced (through the call)."""

    __slots__ = ("arr", "_as_parameter_")

    def __init__(self, code, values):
        self.arr = array.array(code, values)
        self._as_parameter_ = ctypes.c_void_p(self.arr.buffer_info()[0])


_CODE = {"f32": "f", "f64": "d"}  # array.array type codes of the kernels' dtypes
_ARRAY_TYPES = {}  # n -> ctypes.c_void_p * n (made once per length)


def _pointers(arrays):
    """The operands for ``DATA``: the generated kernels' operand list (``kernel._objects``)."""
    n = len(arrays)
    t = _ARRAY_TYPES.get(n)
    if t is None:
        t = _ARRAY_TYPES[n] = ctypes.c_void_p * n
    return _objects(t, arrays)


# array.array's code for a pointer-sized integer (None: no such code; ctypes arrays then)
_PTR_CODE = next((c for c in "lq" if array.array(c).itemsize == ctypes.sizeof(ctypes.c_void_p)),
                 None)


def _operand_arrays(lists):
    """Each list's operand array for ``DATA`` (``kernel._objects``'s contents: the array
    objects, or their data pointers where the object layout is not confirmed), all in one
    C buffer: ``(buffer, [address of each list's part])``; keep the buffer through the
    call."""
    if _PTR_CODE is None:
        return None, [_pointers(lst) for lst in lists]
    ref = id if _kernel._OFF >= 0 else _kernel._addr
    vals = []
    for lst in lists:
        vals += map(ref, lst)
    buf = _Buf(_PTR_CODE, vals)
    base, step = buf.arr.buffer_info()[0], len(lists[0]) * buf.arr.itemsize
    return buf, [ctypes.c_void_p(base + k * step) for k in range(len(lists))]


def _flat(consts, k):
    """Per-parameter constant tuples (``k`` each) as one list of floats: converted once per
    distinct tuple (parameters of one step and dtype share theirs)."""
    out = []
    last = f = None
    for cc in consts:
        if cc is not last:
            last = cc
            f = [float(c) for c in cc]
            if len(f) != k:
                raise ValueError(f"expected {k} constants per parameter, got {len(f)}")
        out += f
    return out


def adam(xs, gs, ms, vs, vmaxs, consts, small, amsgrad, maximize, wd_mode):
    """Every parameter's Adam/AdamW update in place by one C call (NOTE [ Multi-tensor
    optimizer kernels ]), or False where it does not apply.

    Args:
        xs, gs, ms, vs: the parameters, gradients, first and second moments (host arrays).
        vmaxs: the running maxima of the second moments (amsgrad), or None.
        consts: one sequence per parameter of its eight constants (``w``, ``beta2``,
            ``1 - beta2``, ``eps``, ``sqrt(bias_correction2)``, ``-step_size``,
            ``1 - lr * weight_decay``, ``weight_decay``), as ``_fused_adam_fwd`` makes them:
            numbers, rounded to the parameters' dtype by C's conversion (NumPy's).
        small, amsgrad, maximize: the update's flags (``small``: ``|1 - beta1| < 0.5``).
        wd_mode: None, "coupled" or "decoupled".

    Returns:
        True when done.

    Example:
        >>> import numpy as np
        >>> x, g = np.ones(4, np.float32), np.full(4, 0.5, np.float32)
        >>> m, v = np.zeros(4, np.float32), np.zeros(4, np.float32)
        >>> c = [np.float32(v) for v in (0.1, 0.999, 0.001, 1e-8, 0.0316, -0.01, 1, 0)]
        >>> adam([x], [g], [m], [v], None, [c], True, False, False, None) in (True, False)
        True
    """
    state = (ms, vs) + ((vmaxs,) if amsgrad else ())
    sfx = _covered((xs, gs) + state, (xs,) + state)
    if sfx is None:
        return False
    lib = _lib()
    if lib is None:
        return False
    n = len(xs)
    ns = _Buf("l", [x.size for x in xs])
    cs = _Buf(_CODE[sfx], _flat(consts, 8))
    keep, ptrs = _operand_arrays((xs, gs, ms, vs) + ((vmaxs,) if amsgrad else ()))
    getattr(lib, "adam_" + sfx)(
        ctypes.c_long(n), *ptrs[:4], ptrs[4] if amsgrad else None, _OFF_C, ns, cs,
        ctypes.c_int(int(small)),
        ctypes.c_int(int(amsgrad)), ctypes.c_int(int(maximize)), ctypes.c_int(_WD[wd_mode]),
        ctypes.c_int(get_num_threads()))
    del keep  # (the operand buffer: alive through the call)
    return True


def sgd(xs, gs, bufs, consts, maximize, weight_decay, momentum, dampening, nesterov, first):
    """Every parameter's SGD update in place by one C call (NOTE [ Multi-tensor optimizer
    kernels ]; the operation order of NOTE [ SGD as threaded kernels ]), or False where it
    does not apply.

    Args:
        xs, gs: the parameters and their gradients (host arrays).
        bufs: the momentum buffers (read unless ``first``; written), or None without
            momentum.
        consts: ``weight_decay``, ``momentum``, ``1 - dampening`` and ``-lr``: numbers,
            rounded to the parameters' dtype by C's conversion as NumPy's scalars are (one
            set for all: they share it).
        maximize, weight_decay, momentum, dampening, nesterov, first: SGD's flags (the
            numbers only tested against zero; ``first``: the buffers' first step).

    Returns:
        True when done.

    Example:
        >>> import numpy as np
        >>> x, g = np.ones(4, np.float32), np.full(4, 0.5, np.float32)
        >>> c = tuple(np.float32(v) for v in (0, 0, 1, -0.1))
        >>> sgd([x], [g], None, c, False, 0, 0, 0, False, False) in (True, False)
        True
    """
    mom = momentum != 0
    if mom and bufs is None:
        return False
    state = (bufs,) if mom else ()
    sfx = _covered((xs, gs) + state, (xs,) + state)
    if sfx is None:
        return False
    lib = _lib()
    if lib is None:
        return False
    n = len(xs)
    code = (bool(maximize) | (weight_decay != 0) << 1 | mom << 2 | (dampening != 0) << 3
            | bool(nesterov) << 4 | bool(first) << 5)
    keep, ptrs = _operand_arrays((xs, gs) + state)
    getattr(lib, "sgd_" + sfx)(
        ctypes.c_long(n), ptrs[0], ptrs[1], ptrs[2] if mom else None, _OFF_C,
        _Buf("l", [x.size for x in xs]),
        _Buf(_CODE[sfx], [float(c) for c in consts]), ctypes.c_int(code),
        ctypes.c_int(get_num_threads()))
    del keep  # (the operand buffer: alive through the call)
    return True


def adagrad(xs, gs, sums, consts, maximize, weight_decay):
    """Every parameter's Adagrad update in place by one C call (NOTE [ Multi-tensor optimizer
    kernels ]; the operation order of ``_adagrad_exprs`` in ``ember/_ops/foreach.py``), or
    False where it does not apply.

    Args:
        xs, gs, sums: the parameters, their gradients and squared-gradient sums (host
            arrays).
        consts: one sequence per parameter of ``weight_decay``, ``-clr`` (its step's
            learning rate, negated) and ``eps`` in its dtype.
        maximize, weight_decay: Adagrad's flags (``weight_decay`` only tested against 0).

    Returns:
        True when done.

    Example:
        >>> import numpy as np
        >>> x, g, s = np.ones(4, np.float32), np.full(4, 0.5, np.float32), np.zeros(4, np.float32)
        >>> c = [tuple(np.float32(v) for v in (0, -0.1, 1e-10))]
        >>> adagrad([x], [g], [s], c, False, 0) in (True, False)
        True
    """
    sfx = _covered((xs, gs, sums), (xs, sums))
    if sfx is None:
        return False
    lib = _lib()
    if lib is None:
        return False
    n = len(xs)
    keep, ptrs = _operand_arrays((xs, gs, sums))
    getattr(lib, "adagrad_" + sfx)(
        ctypes.c_long(n), *ptrs, _OFF_C,
        _Buf("l", [x.size for x in xs]),
        _Buf(_CODE[sfx], _flat(consts, 3)),
        ctypes.c_int(int(bool(maximize))), ctypes.c_int(int(weight_decay != 0)),
        ctypes.c_int(get_num_threads()))
    del keep  # (the operand buffer: alive through the call)
    return True
