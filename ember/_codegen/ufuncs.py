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
# NOTE [ Kernel launchers ]: a call's checks (dtypes, layouts, the numbers' types, the
# kernel's plan) depend only on its signature (expression, operand classes, shapes, strides,
# dtypes), so after one checked call ``run`` keeps the kernel's launcher under that
# signature and later calls with it skip to the launch: ~2.5 us of the ~6 a threaded op's
# front paid on top of the C loop. What depends on values is still done per call: the
# numbers' conversion (an int may not fit the dtype), the output's writeability and
# overlap, the compile switch (``disabled``). Bounded, as the kernels' own plan caches.
_FAST = {}
_FAST_MAX = 4096
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
    if expr.__class__ is str:  # the launcher of an earlier call with the same signature
        key = [expr, kinds]
        for o in operands:
            if o.__class__ is np.ndarray:
                key += (o.shape, o.strides, o.dtype)
            else:
                key.append(o.__class__)
        if out is not None:
            key.append(out.__class__)
            if out.__class__ is np.ndarray:
                key += (out.shape, out.strides, out.dtype)
        key = tuple(key)
        hit = _FAST.get(key)
        if hit is not None and not disabled():
            launch, shape, odt, sdt = hit
            arrays = operands
            if sdt is not None:  # numbers: converted per call (their values may not fit)
                arrays = []
                for o in operands:
                    if o.__class__ is not np.ndarray:
                        try:
                            o = np.asarray(o, dtype=sdt)
                        except (OverflowError, TypeError, ValueError):
                            return None
                    arrays.append(o)
            if out is None:
                out = np.empty(shape, odt)
            elif not out.flags.writeable or not _no_overlap(arrays, out):
                return None
            launch(arrays, (out,))
            return out
    else:
        key = None
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
        if not _no_overlap(arrays, o):
            return None
    try:
        r = k(arrays, out=outs)
    except ValueError:  # shapes that do not broadcast: NumPy raises its own error
        return None
    if key is not None and len(_FAST) < _FAST_MAX:
        launch = k.launcher(arrays, outs)
        if launch is not None:
            numbers = any(o.__class__ is not np.ndarray for o in operands)
            _FAST[key] = (launch, r[0].shape, r[0].dtype, dt if numbers else None)
    return r if expr.__class__ is tuple else r[0]


def _no_overlap(arrays, o):
    """Whether output ``o`` may be written while ``arrays`` are read: an operand may be the
    output itself (in place, element i read before written), but not overlap it otherwise
    (x[1:] into x[:-1]: NumPy buffers, the kernel would read elements it already wrote)."""
    for a in arrays:
        if a is o or not np.may_share_memory(a, o):
            continue  # (an operand that is the output itself: the common in-place call)
        if a.__array_interface__["data"][0] != o.__array_interface__["data"][0] or \
                a.shape != o.shape:
            return False
    return True
