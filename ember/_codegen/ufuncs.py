"""Eager elementwise ops on large host arrays through generated, threaded C kernels.

NOTE [ Threaded elementwise kernels ]
NumPy's ufuncs run on one core, and a few of its float loops are slow at any size
(``floor_divide``/``remainder``/``fmod`` call libm's ``fmod`` per element, ``sign`` and
``clip`` take generic paths); PyTorch runs the same ops vectorised on every thread. Here
an eager op's forward becomes the generated elementwise kernel of its scalar expression
(``ember._ops.elementwise.THREADED``: the record's ``op.expr``, NOTE [ Scalar expressions ],
or the table's own expression where the eager forward computes differently), compiled by
``elementwise_kernel`` (OpenMP over blocks, SIMD inner loops, NOTE [ C kernels ]) and built
once per (expression, dtypes) in this process.

``run`` is asked only for host arrays of at least the entry's minimum size (callers test
``size`` first, so small tensors pay one comparison). It returns None, and the caller runs
its NumPy forward, where the kernels do not apply: dtypes other than
bool/int32/int64/float32/float64 (or a kind the entry does not list), operands that are not
C-contiguous (NumPy would give the result their layout; the kernel writes C order),
shapes that do not broadcast (NumPy then raises its error), a Python integer that does not
fit the array's dtype, no compiler or ``EMBER_JIT_DISABLE``. Results equal NumPy's bit for
bit for the IEEE-exact operations (the C emitter spells out NumPy's NaN, signed-zero,
integer-wrap and division semantics); ``sigmoid`` on float32 uses the emitter's
vectorised ``tanhf`` (within an ulp or two of libm's).
"""

from __future__ import annotations

import numpy as np

from ember._codegen import elementwise_kernel
from ember._codegen.kernel import disabled, get_num_threads

__all__ = ["run", "get_num_threads"]

_DTYPES = {np.dtype(n): n for n in ("bool", "int32", "int64", "float32", "float64")}
_K = {}
_EXACT = {"f": (float, int, bool, np.float32, np.float64), "i": (int, bool), "b": (bool,)}


def _kernel(expr, dts):
    """The compiled kernel of ``expr`` over inputs ``a`` (, ``b``, ...) of dtypes ``dts``
    (its output dtype is NumPy's for the expression), or None when it would not run as C."""
    key = (expr, dts)
    k = _K.get(key)
    if k is None:
        from ember._codegen.ir import parse_program

        names = "abcdefgh"[:len(dts)]
        ins = list(zip(names, dts))
        if expr.__class__ is tuple:  # outputs y0, y1, ... of the first operand's dtype
            body = [(f"y{i}", e) for i, e in enumerate(expr)]
            k = elementwise_kernel(ins, body, [(n, dts[0]) for n, _ in body])
        else:
            # the output dtype: what NumPy's typing of the expression gives (bool for tests)
            prog = parse_program(ins, [("y", expr)], [("y", dts[-1])])
            out_dt = prog.outputs[0][0].dtype
            k = elementwise_kernel(ins, [("y", expr)], [("y", out_dt.name)])
        if k.backend != "c":
            k = False
        _K[key] = k
    return k or None


def run(expr, kinds, operands, out=None):
    """``expr`` evaluated on ``operands`` (host arrays and Python numbers, at least one
    array) by its threaded kernel, or None where the kernel does not apply (see NOTE
    [ Threaded elementwise kernels ]).

    Args:
        expr: the scalar expression over ``a``, ``b``, ``c``, ``d`` (the operands in order;
            NOTE [ Scalar expressions ]).
        kinds: the dtype kinds (``"f"``, ``"i"``, ``"b"``) the kernel takes; ``"F"``:
            float32 only (where the C loop calls libm in float64, slower than NumPy's
            vectorised routines).
            A tuple of expressions gives one output each (``y0``, ``y1``, ...: later ones
            may use earlier ones), of the first operand's dtype, written into ``out``.
        operands: the forward's operands, in order; numbers take the dtype of the arrays
            (which must then share one dtype), as NumPy's weak scalars do.
        out: a C-contiguous array of the result's shape and dtype to write into (it may be
            one of the operands: in place), or None for a new array; a list of such arrays
            for a tuple of expressions.

    Returns:
        The result (``out`` when given; the list ``out`` for a tuple), or None.

    Example:
        >>> import numpy as np
        >>> x = np.arange(1 << 16, dtype=np.float32)
        >>> y = run("remainder(a, b)", "f", (x, 3.0))
        >>> y is None or bool((y == np.remainder(x, 3.0)).all())
        True
    """
    dt = None
    mixed = False
    for o in operands:
        if o.__class__ is np.ndarray:
            odt = o.dtype
            k = odt.kind
            if odt not in _DTYPES or not o.flags.c_contiguous or (
                    k not in kinds and not (k == "f" and odt.itemsize == 4 and "F" in kinds)):
                return None
            if dt is None:
                dt = odt
            elif odt != dt:
                mixed = True
    if dt is None or disabled():
        return None
    arrays = []
    names = []
    for o in operands:
        if o.__class__ is not np.ndarray:
            # a number takes the arrays' dtype (NumPy's weak scalars); one that would change
            # in the conversion (a float into an integer dtype, an int out of range) is
            # left to NumPy
            if mixed or o.__class__ not in _EXACT.get(dt.kind, ()):
                return None
            try:
                o = np.asarray(o, dtype=dt)
            except (OverflowError, TypeError, ValueError):
                return None
        arrays.append(o)
        names.append(_DTYPES[o.dtype])
    k = _kernel(expr, tuple(names))
    if k is None:
        return None
    outs = out if expr.__class__ is tuple else None if out is None else [out]
    for o, odt in zip(outs or (), k.out_dtypes):
        if o.__class__ is not np.ndarray or not o.flags.c_contiguous or \
                not o.flags.writeable or o.dtype != odt:
            return None
        # an operand may be the output itself (in place, element i read before written), but
        # not overlap it otherwise (x[1:] into x[:-1]: NumPy buffers, the kernel would read
        # elements it already wrote)
        for a in arrays:
            if a is o or not np.may_share_memory(a, o):
                continue  # (an operand that is the output itself: the common in-place call)
            if a.__array_interface__["data"][0] != o.__array_interface__["data"][0] or \
                    a.shape != o.shape:
                return None
    try:
        r = k(arrays, out=outs)
    except ValueError:  # shapes that do not broadcast: NumPy raises its own error
        return None
    return r if expr.__class__ is tuple else r[0]


# NOTE [ Threaded dot product ]: NumPy's 1-d ``dot`` is OpenBLAS's ``sdot``/``ddot`` on one
# core (1e6 float32: 84 us here, PyTorch 47). Here fixed blocks of 16384 elements are summed
# on the kernel threads, each with 64 (float32) or 32 (float64) independent partial sums in
# the operands' dtype (four vector chains: one is bound by the adds' latency; products and
# sums in double were bound by the conversions, 165 us on one thread), the partial sums of a
# block and then the blocks added in double, in order: the result does not depend on the
# thread count, and its error is that of a 16384-term sum, not of a 1e6-term one.
_DOT_SRC = r"""
#define DOT(SFX, T, NACC)                                                                 \
double dot_##SFX(const T* restrict a, const T* restrict b, long n, double* part, int nt) \
{                                                                                         \
    const long blk = 16384, nb = (n + blk - 1) / blk;                                     \
    _Pragma("omp parallel for num_threads(nt) schedule(static) if(nt > 1)")              \
    for (long k = 0; k < nb; k++) {                                                       \
        long lo = k * blk, hi = lo + blk < n ? lo + blk : n;                              \
        T s[NACC] = {0};                                                                  \
        long i = lo;                                                                      \
        for (; i + NACC <= hi; i += NACC)                                                 \
            for (int j = 0; j < NACC; j++) s[j] += a[i + j] * b[i + j];                   \
        for (; i < hi; i++) s[0] += a[i] * b[i];                                          \
        double t = 0;                                                                     \
        for (int j = 0; j < NACC; j++) t += (double)s[j];                                 \
        part[k] = t;                                                                      \
    }                                                                                     \
    double t = 0;                                                                         \
    for (long k = 0; k < nb; k++) t += part[k];                                           \
    return t;                                                                             \
}
DOT(f32, float, 64)
DOT(f64, double, 32)
"""
_dot_lib = None
DOT_MIN = 1 << 17


def dot(a, b):
    """The dot product of two 1-d host arrays of one float dtype on the kernel threads (NOTE
    [ Threaded dot product ]), as a 0-d array of that dtype, or None where it does not apply
    (another dtype or layout, fewer than ``DOT_MIN`` elements, no compiler).

    Args:
        a, b: 1-d float32/float64 arrays of one length.

    Returns:
        A 0-d array, or None.

    Example:
        >>> import numpy as np
        >>> x = np.ones(DOT_MIN, np.float32)
        >>> r = dot(x, x)
        >>> r is None or float(r) == DOT_MIN
        True
    """
    global _dot_lib
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 1 or \
            a.shape != b.shape or a.size < DOT_MIN or a.dtype != b.dtype or \
            a.dtype.name not in ("float32", "float64") or not a.flags.c_contiguous or \
            not b.flags.c_contiguous:
        return None
    if _dot_lib is None:
        import ctypes

        from ember._codegen.kernel import c_library

        _dot_lib = (c_library(_DOT_SRC, ()), ctypes)
    lib = _dot_lib[0]()
    if lib is None:
        return None
    from ember._codegen.kernel import data_ptr

    c = _dot_lib[1]
    sfx = "f32" if a.dtype.itemsize == 4 else "f64"
    f = getattr(lib, "dot_" + sfx)
    f.restype = c.c_double
    part = np.empty(-(-a.size // 16384), np.float64)
    r = f(data_ptr(a), data_ptr(b), c.c_long(a.size), data_ptr(part),
          c.c_int(get_num_threads()))
    return np.asarray(r, a.dtype)
