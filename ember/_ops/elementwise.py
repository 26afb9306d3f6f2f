"""Elementwise ops: unary math, binary arithmetic, comparisons, logical ops, where, clamp.

Each op is one ``unary(...)``/``binary(...)`` line: name, array forward, backward formula(s)
in ember ops, and metadata. See NOTE [ The op pattern ] in core.py.
"""

from __future__ import annotations

import math
import re
import types

import numpy as _np

from ember import _dtype as D
from ember._backends import DEFAULT, xp_of
from ember._backends import KERNELS as B
from ember._graph import GRAD, node_class, renamed, save_inputs
from ember._ops.special_fast import accelerated
from ember._ops.core import _type_error, as_array
from ember._ops.core import (COPY_INTO, FUNCTIONS, METHODS, MODES, OPS, OpDef,
                             _check_inplace_autograd, _intercept, apply, refresh_view,
                             check_cast, inplace_apply, make_inplace, record, register,
                             shape_error, write_out)
from ember._tensor import Tensor, _new

xp = DEFAULT.xp
_ndarray = xp.ndarray
_asarray = xp.asarray
_FROM_NP = D.FROM_NP
_number = (int, float, bool, complex)
_INTLIKE = "biu"


def _default_float_np():
    return D._default[0].np


# NOTE [ Threaded elementwise kernels ] (ember/_codegen/ufuncs.py): on host arrays of at least
# ``min`` elements these ops run the generated, threaded C kernel of their scalar expression
# (None: the record's ``op.expr``, NOTE [ Scalar expressions ]) for the dtype kinds listed,
# else their NumPy forward. Where NumPy's loop is slow at any size (libm's fmod behind
# floor_divide/remainder/fmod, sign, clamp) the kernel pays from a few thousand elements;
# where it saves passes (composites, frac, rsqrt), from 2^16.
_KMIN, _KMIN_SLOW, _KMIN_PASS = 1 << 16, 1 << 12, 1 << 18
THREADED = {  # op name -> (expression or None, dtype kinds, min elements)
    # single streaming passes NumPy runs at one core's memory speed: two threads pay from
    # 2^18 elements, since the workers spin briefly after each region (NOTE [ OpenMP wait
    # policy ] in ember/_codegen/build.py; a 1e6 float32 add: 88 us threaded, 165 us NumPy;
    # with every worker asleep the wake-up cost more than the second core gave)
    "add": (None, "fi", _KMIN_PASS), "sub": (None, "fi", _KMIN_PASS),
    "mul": (None, "fi", _KMIN_PASS), "div": (None, "f", _KMIN_PASS),
    "neg": (None, "fi", _KMIN_PASS), "abs": (None, "fi", _KMIN_PASS),
    "square": (None, "fi", _KMIN_PASS), "relu": (None, "fi", _KMIN_PASS),
    "floor": (None, "f", _KMIN_PASS), "ceil": (None, "f", _KMIN_PASS),
    "trunc": (None, "f", _KMIN_PASS),
    "maximum": (None, "fi", _KMIN_PASS), "minimum": (None, "fi", _KMIN_PASS),
    "fmax": (None, "f", _KMIN_PASS), "fmin": (None, "f", _KMIN_PASS),
    "eq": (None, "fi", _KMIN_PASS), "ne": (None, "fi", _KMIN_PASS),
    "lt": (None, "fi", _KMIN_PASS), "le": (None, "fi", _KMIN_PASS),
    "gt": (None, "fi", _KMIN_PASS), "ge": (None, "fi", _KMIN_PASS),
    "sqrt": (None, "f", _KMIN_PASS),
    # the activation gradients' records (g, y), NumPy's three passes in their order
    "sigmoid_backward": ("a * (b * (1 - b))", "f", _KMIN_PASS),
    "tanh_backward": ("a * (1 - b * b)", "f", _KMIN_PASS),
    "bitwise_and": ("bitwise_and(a, b)", "ib", _KMIN_PASS),
    "bitwise_or": ("bitwise_or(a, b)", "ib", _KMIN_PASS),
    "bitwise_xor": ("bitwise_xor(a, b)", "ib", _KMIN_PASS),
    "bitwise_not": ("invert(a)", "ib", _KMIN_PASS),
    # libm's fmod per element: the kernel's fixed cost (~6 us) pays from a few hundred
    "remainder": (None, "f", 512), "fmod": (None, "f", 512),
    "floor_divide": ("floor_divide(a, b)", "f", 512),
    # NumPy's logical ops on non-bool inputs convert first: 5-8x slower than one pass
    "logical_and": (None, "fib", _KMIN), "logical_or": (None, "fib", _KMIN),
    "logical_xor": (None, "fib", _KMIN), "logical_not": (None, "fib", _KMIN),
    # sign: PyTorch's (NaN gives 0, -0 gives +0) as selects only, ~20% under the record's
    # where(isnan(a), 0, sign(a)) (same bits, float and int)
    "sign": ("where(a > 0, 1, where(a < 0, -1, where(a == 0, abs(a), 0)))", "fi", _KMIN_SLOW),
    # two NumPy passes, or a slow loop, in one
    "frac": (None, "f", _KMIN), "reciprocal": (None, "f", _KMIN), "rsqrt": (None, "f", _KMIN),
    # records and composites outside the unary/binary families (their forwards ask)
    "clamp": ("minimum(maximum(a, b), c)", "fi", _KMIN_SLOW),
    "clamp_min": ("maximum(a, b)", "fi", _KMIN_SLOW),
    "clamp_max": ("minimum(a, b)", "fi", _KMIN_SLOW),
    "where": ("where(a, b, c)", "fib", _KMIN),
    "nan_to_num": ("where(isnan(a), b, where(a == inf, c, where(a == -inf, d, a)))", "f",
                   _KMIN_SLOW),
    # the composites' operation order: input + (end - input) * weight, input + value *
    # tensor1 * tensor2, input + value * tensor1 / tensor2, input + other * alpha
    "lerp": ("a + (b - a) * c", "f", _KMIN), "addcmul": ("a + d * b * c", "f", _KMIN),
    "addcdiv": ("a + d * b / c", "f", _KMIN), "add_alpha": ("a + b * c", "fi", _KMIN),
    "sub_alpha": ("a - b * c", "fi", _KMIN),
    "div_trunc": ("trunc(a / b)", "f", _KMIN),  # div(rounding_mode="trunc"): NumPy's 2 passes
    # round: NumPy's rint runs on one core (1e6 float32 88 us, PyTorch 47); with decimals,
    # np.round's three passes (scale, rint, unscale) in one
    "round": ("rint(a)", "f", _KMIN_PASS), "round_dec": ("rint(a * b) / b", "f", _KMIN),
    "round_negdec": ("rint(a / b) * b", "f", _KMIN),
    # fused optimizer steps (foreach.py), each update in the records' operation order:
    # SGD's buf * momentum + g, Adagrad's sum + g * g and x + (clr * g) / (sqrt(sum) + eps)
    "sgd_momentum": ("a * c + b", "f", _KMIN), "adagrad_sum": ("a + b * b", "f", _KMIN),
    "adagrad_step": ("a + d * b / (sqrt(c) + e)", "f", _KMIN),
    # sigmoid, nn.functional.silu (x / (1 + exp(-x))) and silu's gradient (g, x), the
    # record's formula s * (1 + x * (1 - s)), all with the accurate sigmoid (NOTE in
    # _sigmoid): one threaded pass instead of NumPy's four or more; float32 only (the C
    # loop's float64 exp is libm's scalar one)
    "sigmoid": ("1 / (1 + exp(-a))", "F", _KMIN),
    # exp2 on float32 by the emitter's vectorised ember_exp2f (within an ulp; NumPy's SIMD
    # exp2 runs on one core: 1e6 215 us, PyTorch 145)
    "exp2": ("exp2(a)", "F", _KMIN),
    # log1p on float32 by the emitter's vectorised ember_log1pf (within 1.06 ulp, NumPy's
    # 1.89; NumPy's runs on one core: 1e6 438 us, PyTorch 388)
    "log1p": (None, "F", _KMIN),
    # exp on float32 by the emitter's vectorised ember_expf (within 1.01 ulp with FMA, 0.98
    # without; NumPy's SIMD expf runs on one core: 1e6 445 us, PyTorch 426)
    "exp": (None, "F", _KMIN),
    "silu": ("a / (1 + exp(-a))", "F", _KMIN),
    "silu_backward": ("a * ((1 / (1 + exp(-b))) * (1 + b * (1 - 1 / (1 + exp(-b)))))", "F",
                      _KMIN),
}


def _kernel_for(name, *operands):
    """``THREADED[name]``'s kernel result on these raw operands when the first is a host
    array of at least the entry's size, else None (the caller's NumPy code runs)."""
    expr, kinds, kmin = THREADED[name]
    x = operands[0]
    if x.__class__ is not _ndarray or x.size < kmin:
        return None
    return _threaded(expr, kinds, operands)


_INT_EXPRS = {}  # (expression, float dtype name) -> the expression on the converted input
_VAR_A = re.compile(r"\ba\b")  # the first operand's name in a scalar expression


def _threaded_int(expr, kinds, d):
    """A to-float unary op of the integer array ``d`` as one threaded kernel: ``expr`` on
    ``astype(a, <default float>)`` (NumPy's conversion, then the op in the float dtype: the
    two passes' result bit for bit), or None (the caller converts, then runs the op). Only for
    ops whose table entry covers floats and int32/int64 inputs (bool and other ints: NumPy)."""
    if "f" not in kinds or d.dtype.kind != "i":
        return None
    fdt = _default_float_np().name
    key = (expr, fdt)
    e = _INT_EXPRS.get(key)
    if e is None:
        e = _INT_EXPRS[key] = _VAR_A.sub(f"astype(a, '{fdt}')", expr)
    return _threaded(e, kinds + "i", (d,))


def _plain(*tensors):
    """Whether a composite may run as one kernel instead of its ember ops: no dispatch mode
    to see the ops and no gradient to record."""
    if MODES:
        return False
    if GRAD.enabled:
        for t in tensors:
            if getattr(t, "_requires_grad", False):
                return False
    return True


_RUN = []  # ember._codegen.ufuncs.run, once imported


def _threaded(expr, kinds, operands, out=None):
    """The threaded kernel's result for these operands (into ``out`` when given), or None
    (NOTE [ Threaded elementwise kernels ]); imported on first use, so ``import ember`` does
    not load the generator."""
    if not _RUN:
        from ember._codegen.ufuncs import run

        _RUN.append(run)
    return _RUN[0](expr, kinds, operands, out)


# NOTE [ Results written where they belong ]
# ``torch.add(a, b, out=o)``, ``x.clamp_min_(0.5)``, ``x.lerp_(y, 0.3)``, ``x.maximum_(y)``
# computed a fresh result and then copied it into the destination: an allocation (page faults
# when large), a second pass, and that copy on one core. At 1e6 float32 they took 3-8x
# PyTorch's time (add out= 278 us against 73, clamp_min_ 262 against 37, addcmul_ 313
# against 45). Where nothing can differ, the op's threaded kernel writes straight into the
# destination instead: no dispatch mode, no gradient to record (no operand, nor the
# destination or its base, requires grad), tensor operands of one dtype on the host (numbers
# take it, NumPy's weak scalars as PyTorch's wrapped ones), a destination at least the
# kernel's minimum size. ``ufuncs.run`` itself declines what it does not cover, and then the
# general path runs: a destination that is not C-contiguous, writeable, of the result's
# exact shape and dtype (a comparison's bool into a float tensor, a broadcast to a larger
# shape), or that overlaps an operand other than by being it. Same kernel as the op's
# out-of-place result, so the same bits; the destination's version is bumped as before.
def _dst_array(dst, args, kmin):
    """``dst``'s host array where a kernel may write a result into it (NOTE [ Results
    written where they belong ]): at least ``kmin`` elements, no mode, no gradient to record
    for ``dst``, its base or ``args``; else None."""
    o = getattr(dst, "_data", None)
    if o.__class__ is not _ndarray or o.size < kmin or not _plain(dst, *args) or \
            GRAD.enabled and dst._base is not None and dst._base._requires_grad:
        return None
    return o


def _into(dst, name, args, expr=None):
    """Write ``THREADED[name]`` of ``args`` (tensors and Python numbers, in the kernel's
    operand order) into tensor ``dst`` by its kernel: True when done, False where NOTE
    [ Results written where they belong ] does not apply (nothing is written)."""
    entry = THREADED.get(name)
    o = None if entry is None else _dst_array(dst, args, entry[2])
    if o is None:
        return False
    dt = None
    ops = []
    for t in args:
        c = t.__class__
        if c is Tensor:
            a = t._data
            if a.__class__ is not _ndarray or dt is not None and a.dtype != dt:
                return False
            dt = a.dtype
            ops.append(a)
        elif c is float or c is int or c is bool:
            ops.append(t)
        else:
            return False
    if dt is None or _threaded(expr or entry[0] or OPS[name].expr, entry[1], ops, o) is None:
        return False
    dst._bump()
    return True


def _kernel_inplace(general, operands):
    """The in-place method whose op's kernel writes into ``self`` (NOTE [ Results written
    where they belong ]): ``operands(self, *args, **kwargs)`` gives the ``THREADED`` key and
    the kernel's operands (None, or an error for arguments it does not take, where the
    kernel does not apply); else ``general``, the generic in-place variant, runs (it records
    gradients and raises the errors)."""

    def inplace(self, *args, **kwargs):
        try:
            plan = operands(self, *args, **kwargs)
        except (TypeError, AttributeError, ValueError):  # (not a Tensor, a bad argument)
            plan = None
        if plan is not None and _into(self, *plan):
            return self
        return general(self, *args, **kwargs)

    inplace.__name__ = general.__name__
    inplace.__doc__ = general.__doc__
    inplace.__wrapped__ = general.__wrapped__  # its parameters are the op's
    return inplace


# =============================================================================== unary
# NOTE [ Complex gradients ]
# PyTorch's gradient for complex inputs is the conjugate Wirtinger derivative: for a
# holomorphic f with real coefficients (exp, sin, mul, div, pow, ...) the incoming gradient is
# multiplied by conj(f'(z)) = f'(conj z). The family wrappers therefore hand formulas the
# conjugated saved values when the gradient is complex, and the formulas stay written for
# the real case. Non-holomorphic ops (abs, angle, real, imag) opt out and write their own.
def _conj(v):
    if v is None:
        return None
    if v.__class__ is complex:
        return v.conjugate()
    if getattr(v, "_data", None) is not None and v._data.dtype.kind == "c":
        return v.conj()
    return v


_CAST_EXPRS = {}


def _cast_expr(test, dt):
    """A comparison's expression with its bool result cast to ``dt`` in the same pass (an
    in-place comparison into a non-bool tensor)."""
    key = (test, dt)
    e = _CAST_EXPRS.get(key)
    if e is None:
        e = _CAST_EXPRS[key] = f"astype({test}, '{dt.name}')"
    return e


def _ufunc_into(dst, ufunc, x):
    """``ufunc(x, out=dst's array)``: a float op's NumPy ufunc writing into ``dst`` of
    ``x``'s dtype and shape (NOTE [ Results written where they belong ]); True when done."""
    o = _dst_array(dst, (x,), 0)
    d = x._data
    if o is None or d.__class__ is not _ndarray or d.dtype.kind != "f" or \
            o.dtype != d.dtype or o.shape != d.shape or not o.flags.writeable:
        return False
    ufunc(d, out=o)
    dst._bump()
    return True


def unary(name, fwd, bwd=None, *, save="x", to_float=True, differentiable=True, onnx=None,
          method=True, inplace=True, node_name=None, holomorphic=True):
    """Define a unary elementwise op and publish ``ember.name``, ``Tensor.name``, ``name_``.

    ``bwd(g, x, y)`` gives the input's gradient; ``x``/``y`` are the saved input/output
    (None unless named in ``save``). ``to_float``: integer inputs compute in the default
    float dtype (PyTorch's rule for exp, sin, ...).
    """
    if bwd is not None:
        def backward(n, g, _f=bwd, _sx="x" in save, _sy="y" in save):
            x = n.inputs[0] if _sx else None
            y = n.output if _sy else None
            if holomorphic and g._data.dtype.kind == "c":
                x, y = _conj(x), _conj(y)  # NOTE [ Complex gradients ]
            return (_f(g, x, y),)
    else:
        backward = None
    opdef = OpDef(name, fwd, backward, save=save, differentiable=differentiable and bwd is not
                  None, onnx=onnx, fusible=True, node_name=node_name)
    is_ufunc = isinstance(fwd, xp.ufunc)
    texpr, tkinds, kmin = THREADED.get(name, (None, "", None))

    def fn(input, *, out=None):
        if MODES:  # NOTE [ The dispatch spine ]
            if not isinstance(input, Tensor):
                raise _type_error(name, "input", input)
            y = _intercept(opdef, (input,), ())
            return write_out(name, out, y) if out is not None else y
        try:
            d = input._data
        except AttributeError:
            raise _type_error(name, "input", input) from None
        if out is not None and out.__class__ is Tensor and (
                kmin is not None and _into(out, name, (input,), texpr or opdef.expr) or
                to_float and is_ufunc and _ufunc_into(out, fwd, input)):
            return out  # NOTE [ Results written where they belong ]
        r = None
        if to_float and d.dtype.kind in _INTLIKE:
            if kmin is not None and d.__class__ is _ndarray and d.size >= kmin:
                r = _threaded_int(texpr or opdef.expr, tkinds, d)  # conversion and op in one
            if r is None:
                d = d.astype(_default_float_np())
        if r is None:
            if kmin is not None and d.__class__ is _ndarray and d.size >= kmin:
                r = _threaded(texpr or opdef.expr, tkinds, (d,))
            if r is None:
                r = fwd(d)
        if r.__class__ is not _ndarray:
            r = as_array(r)
        y = _new(Tensor)  # make_tensor's body, inlined (NOTE [ Hot path ] in _tensor.py)
        y._data = r
        y._requires_grad = False
        y._grad_fn = None
        y._grad = None
        y._vc = None
        y._base = None
        y._meta = None
        if input._requires_grad and GRAD.enabled and opdef.differentiable:
            record(opdef, y, (input,))
        if out is not None:
            return write_out(name, out, y)
        return y

    opdef.impl = lambda op, inputs, params: fn(inputs[0])

    def fn_(self):
        d = self._data
        if (is_ufunc or kmin is not None) and not MODES and not (GRAD.enabled and (
                self._requires_grad or self._base is not None and self._base._requires_grad)):
            if to_float and d.dtype.kind in _INTLIKE:
                check_cast(name + "_", D.get_default_dtype(), _FROM_NP[d.dtype])
            # the table's kernel writes in place (also for forwards that are not ufuncs:
            # neg_, abs_, relu_, square_ went through a new array and a copy, ~8x slower);
            # it declines (None) what it does not cover, a bool neg_ included
            if kmin is None or d.__class__ is not _ndarray or d.size < kmin or \
                    _threaded(texpr or opdef.expr, tkinds, (d,), d) is None:
                if not is_ufunc:
                    return inplace_apply(fn, name + "_", self, (), {})
                try:
                    fwd(d, out=d)
                except ValueError as e:
                    raise RuntimeError(f"{name}_(): {e}") from None
            self._bump()
            return self
        return inplace_apply(fn, name + "_", self, (), {})

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = (f"{name}(input, *, out=None) -> Tensor\n\n"
                  f"Elementwise ``{name}`` of ``input`` (a new tensor; ``Tensor.{name}_`` works "
                  f"in place)."
                  f"{' Integer inputs compute in the default float dtype.' if to_float else ''}"
                  f"{' Differentiable.' if opdef.differentiable else ' Not differentiable.'}"
                  f"\n\nExample:\n    >>> ember.{name}(ember.tensor([0.5, 1.0]))")
    fn.op = opdef
    FUNCTIONS[name] = fn
    if method:
        METHODS[name] = fn
    if inplace:
        fn_.__name__ = name + "_"
        METHODS[name + "_"] = fn_
        FUNCTIONS[name + "_"] = fn_
    return fn


def _zero_grad(g, x, y):  # noqa: ARG001 - the backward formula's fixed signature
    # PyTorch's zeros_like(grad) for the step functions (floor, sign, ...): zeros even where
    # the incoming gradient is NaN or inf, and a fill instead of a multiply's pass; a large
    # host one filled by threads (np.zeros' calloc is one core's memset: 1e6 float32 ~45 us)
    d = g._data
    if d.__class__ is _ndarray and d.nbytes >= 1 << 19 and not MODES:
        from ember._codegen.copy_kernels import zeros

        z = zeros(d.shape, d.dtype)
        if z is not None:
            return Tensor._wrap(z)
    return FUNCTIONS["zeros_like"](g)


def _sigmoid(x):
    # 1 / (1 + exp(-x)): relative accuracy down to the smallest results, as PyTorch's
    # (the cheaper 0.5 * tanh(x / 2) + 0.5 rounds every result below ~6e-8 in float32
    # to 0 or a few ulps of 0.5 apart, so log(sigmoid(-30)) was -inf). exp(-x) overflowing
    # to inf is the right limit (1 / inf = 0), not an error. Half-width floats compute in
    # float32 and round once.
    if x.dtype.itemsize < 4 and x.dtype.kind == "f":
        return _sigmoid(x.astype(_np.float32)).astype(x.dtype)
    r = _kernel_for("sigmoid", x)
    if r is not None:
        return r
    return _sigmoid_passes(x)


def _sigmoid_passes(x):
    # _sigmoid's NumPy passes, in x's own dtype and without the threaded kernel (whose
    # float32 results differ from these by an ulp here and there): nn's activation
    # gradients (silu, mish, softplus, log_sigmoid) use it
    r = xp.negative(x, out=xp.empty_like(x))  # (an array for 0-dim input too)
    with _np.errstate(over="ignore"):
        xp.exp(r, out=r)
    r += 1
    return xp.reciprocal(r, out=r)


_KERNEL_MIN = 1 << 17  # elements from which ReLU runs a threaded kernel (eager.RELU_MIN)


def _relu(x):
    if x.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if x.size >= _KERNEL_MIN:
        from ember._codegen import eager  # NOTE [ Eager ops on generated kernels ]

        r = eager.relu(x)
        if r is not None:
            return r
    return xp.maximum(x, x.dtype.type(0))


def _rsqrt(x):
    return 1 / xp.sqrt(x)


def _sign(x):
    if x.dtype.kind == "b":
        return x.copy()
    if x.__class__ is _ndarray and x.size >= _KMIN_SLOW:
        r = _threaded(THREADED["sign"][0], "fi", (x,))
        if r is not None:
            return r
    r = xp.sign(x)
    if x.dtype.kind == "f":  # sign(NaN) is 0 in PyTorch
        r = xp.where(xp.isnan(x), x.dtype.type(0), r)
    return r


def _abs(x):
    if x.dtype.kind == "b":
        raise _not_implemented("abs", x.dtype)
    return xp.abs(x)


def _not_implemented(name, np_dtype):
    """PyTorch's error for a kernel that has no implementation for a dtype."""
    return NotImplementedError(f'"{name}_cpu" not implemented for '
                               f"'{_FROM_NP[_np.dtype(np_dtype)]._short}'")


def _frac(x):
    if x.dtype.kind in _INTLIKE:
        raise _not_implemented("frac", x.dtype)
    return x - xp.trunc(x)


def _neg(x):
    if x.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return xp.negative(x)


# Activation gradients are ops of their own (one dispatch instead of three), with their own
# formulas so that double backward still works: d/dg and d/dy of the fused expression.
def _tanh_bwd_fwd(g, y):
    r = _kernel_for("tanh_backward", g, y)  # one threaded pass on large arrays
    return g * (1 - y * y) if r is None else r


def _sigmoid_bwd_fwd(g, y):
    r = _kernel_for("sigmoid_backward", g, y)
    return g * (y * (1 - y)) if r is None else r


def _threshold_bwd_fwd(g, y):
    if y.size >= _KERNEL_MIN and g.shape == y.shape:
        from ember._codegen import eager  # one threaded pass on large tensors

        r = eager.relu_backward(g, y)
        if r is not None:
            return r
    return B.masked_select_zero(g, y > 0)  # branch-free: np.where is ~15x slower here


_TANH_BWD = OpDef("tanh_backward", _tanh_bwd_fwd,
                  lambda ctx, gg: _pair_grads(ctx, gg, lambda g, y: gg * (1 - y * y),
                                              lambda g, y: -2 * gg * g * y), save="x")
_SIGMOID_BWD = OpDef("sigmoid_backward", _sigmoid_bwd_fwd,
                     lambda ctx, gg: _pair_grads(ctx, gg, lambda g, y: gg * y * (1 - y),
                                                 lambda g, y: gg * g * (1 - 2 * y)), save="x")
_THRESHOLD_BWD = OpDef("relu_backward", _threshold_bwd_fwd,
                       lambda ctx, gg: (gg * (ctx.inputs[1] > 0), None), save="x")


def _pair_grads(ctx, gg, fg, fy):  # noqa: ARG001 - the backward formula's fixed signature
    g, y = ctx.inputs
    ng, ny = ctx.next
    return (fg(g, y) if ng is not None else None, fy(g, y) if ny is not None else None)


exp = unary("exp", xp.exp, lambda g, x, y: g * y, save="y", onnx="Exp")
exp2 = unary("exp2", xp.exp2, lambda g, x, y: g * y * math.log(2.0), save="y")
expm1 = unary("expm1", xp.expm1, lambda g, x, y: g * (y + 1), save="y")
log = unary("log", xp.log, lambda g, x, y: g / x, onnx="Log")
log2 = unary("log2", xp.log2, lambda g, x, y: g / (x * math.log(2.0)))
log10 = unary("log10", xp.log10, lambda g, x, y: g / (x * math.log(10.0)))
log1p = unary("log1p", xp.log1p, lambda g, x, y: g / (x + 1), node_name="Log1PBackward0")
sqrt = unary("sqrt", xp.sqrt, lambda g, x, y: g / (2 * y), save="y", onnx="Sqrt")
rsqrt = unary("rsqrt", _rsqrt, lambda g, x, y: -0.5 * g * y * y * y, save="y")
sin = unary("sin", xp.sin, lambda g, x, y: g * x.cos(), onnx="Sin")
cos = unary("cos", xp.cos, lambda g, x, y: -g * x.sin(), onnx="Cos")
tan = unary("tan", xp.tan, lambda g, x, y: g * (1 + y * y), save="y", onnx="Tan")
asin = unary("asin", xp.arcsin, lambda g, x, y: g * (1 - x * x).rsqrt())
acos = unary("acos", xp.arccos, lambda g, x, y: -g * (1 - x * x).rsqrt())
atan = unary("atan", xp.arctan, lambda g, x, y: g / (1 + x * x))
sinh = unary("sinh", xp.sinh, lambda g, x, y: g * x.cosh())
cosh = unary("cosh", xp.cosh, lambda g, x, y: g * x.sinh())
tanh = unary("tanh", xp.tanh, lambda g, x, y: apply(_TANH_BWD, (g, y)), save="y",
             onnx="Tanh")
asinh = unary("asinh", xp.arcsinh, lambda g, x, y: g * (x * x + 1).rsqrt())
acosh = unary("acosh", xp.arccosh, lambda g, x, y: g * (x * x - 1).rsqrt())
atanh = unary("atanh", xp.arctanh, lambda g, x, y: g / (1 - x * x))
sigmoid = unary("sigmoid", _sigmoid, lambda g, x, y: apply(_SIGMOID_BWD, (g, y)), save="y",
                onnx="Sigmoid")
erf = unary("erf", accelerated("erf", B.erf),
            lambda g, x, y: g * (2 / math.sqrt(math.pi)) * (-x * x).exp())


def _one_pass_grad(name, formula):
    """``formula(g, x, y)`` (a unary record's gradient), run as one threaded C pass
    (``special_c.run_grad``) on large host arrays when no graph is being built over it and no
    dispatch mode watches: NOTE [ erfc and erfinv kernels ]."""
    def bwd(g, x, y):
        if x.__class__ is Tensor and g.__class__ is Tensor and x._data.size >= 64 and \
                x._data.__class__ is _ndarray and _plain(g, x):
            from ember._codegen.special_c import run_grad

            r = run_grad(name, g._data, x._data)
            if r is not None:
                return Tensor._wrap(r)
        return formula(g, x, y)

    return bwd


erfc = unary("erfc", accelerated("erfc", B.erfc), _one_pass_grad(
    "erfc", lambda g, x, y: g * (-2 / math.sqrt(math.pi)) * (-x * x).exp()))
# keeps its input and recomputes erfinv(x) in backward, as PyTorch's ErfinvBackward0 does (so
# the result may be edited in place before backward)
erfinv = unary("erfinv", accelerated("erfinv", B.erfinv), _one_pass_grad(
    "erfinv", lambda g, x, y: g * (math.sqrt(math.pi) / 2) * x.erfinv().square().exp()))
reciprocal = unary("reciprocal", xp.reciprocal, lambda g, x, y: -g * y * y, save="y")
relu = unary("relu", _relu, lambda g, x, y: apply(_THRESHOLD_BWD, (g, y)), save="y",
             to_float=False,
             onnx="Relu")
neg = unary("neg", _neg, lambda g, x, y: -g, save="", to_float=False, onnx="Neg")
abs = unary("abs", _abs, lambda g, x, y: g * x.sgn(), to_float=False, onnx="Abs",
            holomorphic=False)
sign = unary("sign", _sign, _zero_grad, save="", to_float=False, onnx="Sign")
floor = unary("floor", xp.floor, _zero_grad, save="", to_float=False, onnx="Floor")
ceil = unary("ceil", xp.ceil, _zero_grad, save="", to_float=False, onnx="Ceil")
trunc = unary("trunc", xp.trunc, _zero_grad, save="", to_float=False)
frac = unary("frac", _frac, lambda g, x, y: g, save="", to_float=False)
def _square(x):
    # bool squares to int64, as PyTorch (NumPy would give int8)
    return xp.square(x.astype(xp.int64) if x.dtype.kind == "b" else x)


square = unary("square", _square, lambda g, x, y: 2 * g * x, to_float=False,
               node_name="PowBackward0")  # PyTorch's square is pow(x, 2)
def _lgamma(x):
    r = _lgamma_kernel(x)
    if x.dtype.kind == "f":  # lgamma(-inf) is +inf (|Gamma| grows without bound), as PyTorch
        r = xp.where(xp.isneginf(x), x.dtype.type(xp.inf), r)
    return r


_lgamma_kernel = accelerated("lgamma", B.lgamma)  # NOTE [ Special-function kernels in C ]
lgamma = unary("lgamma", _lgamma, lambda g, x, y: g * x.digamma())
# d/dx digamma = polygamma(1, x); polygamma lives in elementwise_math (which imports this file)
digamma = unary("digamma", accelerated("digamma", B.digamma),
                lambda g, x, y: g * FUNCTIONS["polygamma"](1, x))
FUNCTIONS["negative"] = METHODS["negative"] = neg
FUNCTIONS["absolute"] = METHODS["absolute"] = abs
FUNCTIONS["arcsin"], FUNCTIONS["arccos"], FUNCTIONS["arctan"] = asin, acos, atan
METHODS["arcsin"], METHODS["arccos"], METHODS["arctan"] = asin, acos, atan
FUNCTIONS["fix"] = METHODS["fix"] = trunc
for _n in ("abs", "neg"):
    METHODS[{"abs": "absolute_", "neg": "negative_"}[_n]] = METHODS[_n + "_"]

def _round_fwd(x, decimals):
    if x.dtype.kind in _INTLIKE:
        return x.copy()  # integers are already round (decimals != 0 is refused)
    if x.__class__ is _ndarray and x.size >= _KMIN:
        # NumPy's np.round, operation for operation, in x's dtype (the scale is a weak
        # scalar: 10.0 ** decimals rounded to float32 for float32 arrays, as NumPy and
        # PyTorch do): rint(x * 10^d) / 10^d, rint(x / 10^-d) * 10^-d for d < 0
        if not decimals:
            r = _kernel_for("round", x)
        elif decimals > 0:
            r = _kernel_for("round_dec", x, 10.0 ** decimals)
        else:
            r = _kernel_for("round_negdec", x, 10.0 ** -decimals)
        if r is not None:
            return r
    return xp_of(x).round(x, decimals)


# round(x) is RoundBackward0, round(x, decimals=d) RoundBackward1 (an explicit decimals=0
# reads as the first here: the attribute cannot tell them apart)
_round0 = OpDef("round", _round_fwd, lambda n, g: (FUNCTIONS["zeros_like"](g),),
                node_name="RoundBackward0",
                attrs=("decimals",),
                node_names=lambda p: "RoundBackward1" if p[0] else "RoundBackward0")


@register(inplace=True)
def round(input, *, decimals=0, out=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"round(): argument 'input' must be Tensor, not {type(input).__name__}")
    d = input._data
    if d.dtype.kind in _INTLIKE:
        if decimals != 0:
            raise _not_implemented("round", d.dtype)
    elif out is not None and out.__class__ is Tensor and _into(out, *_round_args(input,
                                                                                decimals)):
        return out  # NOTE [ Results written where they belong ]
    r = apply(_round0, (input,), (int(decimals),))
    return write_out("round", out, r) if out is not None else r


def _round_args(x, decimals):
    """(THREADED key, operands) of round's kernel (_round_fwd's, for float ``x``)."""
    if not decimals:
        return "round", (x,)
    if decimals > 0:
        return "round_dec", (x, 10.0 ** decimals)
    return "round_negdec", (x, 10.0 ** -decimals)


METHODS["round_"] = _kernel_inplace(
    METHODS["round_"], lambda self, *, decimals=0: _round_args(self, decimals) if
    decimals.__class__ is int and getattr(self._data.dtype, "kind", "") == "f" else None)


def _sgn_bwd(ctx, g):
    x, = ctx.inputs
    y = ctx.output
    if not x.is_complex():
        return (_zero_grad(g, x, y),)
    # sgn(z) = z/|z| is not holomorphic: dL/dz = (g - sgn(z)^2 conj(g)) / (2|z|), 0 at z = 0
    a = x.abs()
    return (((g - y * y * g.conj()) / (2 * a)).masked_fill(a == 0, 0),)


# keeps its input and output (PyTorch's SgnBackward0 does, for the complex formula)
_sgn_op = OpDef("sgn", lambda x: x / xp.where(x == 0, 1, xp.abs(x)) if x.dtype.kind == "c"
                else _sign(x), _sgn_bwd, save="xy")


@register(inplace=True)
def sgn(input, *, out=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"sgn(): argument 'input' must be Tensor, not {type(input).__name__}")
    if out is not None and out.__class__ is Tensor and input._data.dtype.kind != "c" and \
            _into(out, "sign", (input,)):
        return out  # NOTE [ Results written where they belong ]
    r = apply(_sgn_op, (input,))
    return write_out("sgn", out, r) if out is not None else r


METHODS["sgn_"] = _kernel_inplace(METHODS["sgn_"], lambda self: (
    "sign", (self,)) if getattr(self._data.dtype, "kind", "c") != "c" else None)


# =============================================================================== binary
_binary_defs = {}
# NOTE [ In-place binary ops write directly ]
# ``x.add_(y)`` (and sub_/mul_/div_, alpha 1, no rounding mode) without a graph to
# record ran the out-of-place op and copied its result into ``x``: a fresh result array
# (page-faulted in when large) and a second pass. Where nothing can differ, the ufunc writes
# into ``x`` itself (``out=``): a float32/float64 host array, the other operand a tensor of the
# same dtype and shape (or 0-dim), or a Python float or small int (NumPy's weak-scalar rule
# then gives x's dtype, as PyTorch's does). The same ufunc, so the same values, NaNs, signed
# zeros and warnings; NumPy buffers overlapping operands (``x[1:].add_(x[:-1])``) as before;
# the version counter is bumped as before. Everything else takes the general path.
_DIRECT = {"add": xp.add, "sub": xp.subtract, "mul": xp.multiply, "div": xp.true_divide}
_DIRECT_DTYPES = (_np.dtype(_np.float32), _np.dtype(_np.float64))


def _direct_operand(d, other):
    """Whether ``other`` can be written into ``d`` (a float host array) by the ufunc directly:
    NOTE [ In-place binary ops write directly ]."""
    c = other.__class__
    if c is Tensor:
        b = other._data
        return b.__class__ is _ndarray and b.dtype is d.dtype and (
            b.shape == d.shape or not b.ndim)
    return c is float or (c is int and -(1 << 31) < other < (1 << 31))


def binary(name, fwd, bwd_a=None, bwd_b=None, *, save="x", to_float=False, out_bool=False,
           differentiable=True, onnx=None, ints_only=False, node_name=None, second="other"):  # noqa: ARG001 - marks the integer-only family; NumPy's kernels refuse floats (_binary_dtype_error)
    """Define a binary elementwise op with broadcasting and PyTorch type promotion.

    ``bwd_a(g, a, b, y)``/``bwd_b(...)`` give each input's gradient (the engine sums them back
    to the input's shape, NOTE [ Edges ]); ``a``/``b`` may be Python scalars. ``second`` is
    PyTorch's keyword for the second operand (``exponent`` for pow, NOTE [ Second operand's
    name ]).
    """
    def backward(n, g):
        a, b = n.inputs if n.saved is not None else (None, None)
        y = n.output if save_y and n.out is not None else None
        if g._data.dtype.kind == "c":  # NOTE [ Complex gradients ]
            a, b, y = _conj(a), _conj(b), _conj(y)
        ea, eb = n.next
        return (bwd_a(g, a, b, y) if ea is not None else None,
                bwd_b(g, a, b, y) if eb is not None else None)

    save_y = "y" in save
    opdef = OpDef(name, fwd, backward if bwd_a else None, save=save, onnx=onnx, fusible=True,
                  differentiable=differentiable and bwd_a is not None, node_name=node_name,
                  dtype_rule="bool" if out_bool else ("float" if to_float else "promote"))
    texpr, tkinds, kmin = THREADED.get(name, (None, "", None))

    def core(x, y):
        """x, y: Tensors or Python scalars (at least one Tensor)."""
        if MODES:  # NOTE [ The dispatch spine ]: scalar operands reach modes as numbers
            return _intercept(opdef, (x, y), ())
        if x.__class__ is Tensor or isinstance(x, Tensor):
            a = x._data
            if y.__class__ is Tensor or isinstance(y, Tensor):
                b = y._data
                if a.__class__ is not b.__class__:
                    a, b = _same_device(name, a, b)
                if a.dtype is not b.dtype:
                    rt = D.result_type_tt(_FROM_NP[a.dtype], a.ndim == 0,
                                          _FROM_NP[b.dtype], b.ndim == 0).np
                    a = a.astype(rt, copy=False)
                    b = b.astype(rt, copy=False)
                tensors = (x, y)
            else:
                y = _scalar(y, name)
                if y.__class__ is Tensor:
                    return core(x, y)
                rt = D.result_type_ts(_FROM_NP[a.dtype], y).np
                if rt is not a.dtype:
                    a = a.astype(rt)
                # NumPy's weak-scalar rule doesn't cover ml_dtypes' bfloat16: make it strong
                b = y if rt.num < 256 else rt.type(y)
                tensors = None
        else:
            x = _scalar(x, name)
            if x.__class__ is Tensor:
                return core(x, y)
            b = y._data
            rt = D.result_type_ts(_FROM_NP[b.dtype], x).np
            if rt is not b.dtype:
                b = b.astype(rt)
            a = x if rt.num < 256 else rt.type(x)
            tensors = None
        if to_float and (b if a.__class__ in _number else a).dtype.kind in _INTLIKE:
            a = _asarray(a).astype(_default_float_np())
            b = _asarray(b).astype(_default_float_np())
        if kmin is not None and (a.size if a.__class__ is _ndarray else
                                 b.size if b.__class__ is _ndarray else 0) >= kmin:
            r = _threaded(texpr or opdef.expr, tkinds, (a, b))
        else:
            r = None
        if r is None:
            try:
                r = fwd(a, b)
            except ValueError as e:
                if "broadcast" in str(e):
                    raise shape_error(name, _asarray(a), _asarray(b)) from None
                raise RuntimeError(f"{name}(): {e}") from None
            except TypeError as e:
                if name == "sub" and _asarray(a).dtype == _np.bool_:
                    raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is "
                                       "not supported. Use the `^` or `logical_xor()` operator "
                                       "instead.") from None
                raise _binary_dtype_error(name, a, b, e) from None
        if r.__class__ is not _ndarray:
            r = as_array(r)
        out = _new(Tensor)  # make_tensor's body, inlined (NOTE [ Hot path ] in _tensor.py)
        out._data = r
        out._requires_grad = False
        out._grad_fn = None
        out._grad = None
        out._vc = None
        out._base = None
        out._meta = None
        if GRAD.enabled and opdef.differentiable:
            if tensors is not None:
                if x._requires_grad or y._requires_grad:
                    _record2(opdef, out, x, y)
            elif x.__class__ is not _ndarray and getattr(x, "_requires_grad", False) or \
                    getattr(y, "_requires_grad", False):
                _record2(opdef, out, x, y)
        return out

    opdef.impl = lambda op, inputs, params: core(*inputs)

    def fn(input, other, *, out=None):
        if input.__class__ is not Tensor or other.__class__ is not Tensor:
            input = _check_operands(name, input, other)  # operators skip this: arrays
        if out is not None:
            if kmin is not None and out.__class__ is Tensor and \
                    _into(out, name, (input, other), texpr or opdef.expr):
                return out  # NOTE [ Results written where they belong ]
            return write_out(name, out, core(input, other))
        return core(input, other)

    def rfn(self, other):
        return core(other, self)

    direct = _DIRECT.get(name)

    def fn_(self, other):
        if not isinstance(self, Tensor):
            raise TypeError(f"{name}_(): self must be a Tensor")
        if GRAD.enabled and (self._requires_grad or getattr(other, "_requires_grad", False)
                             or (self._base is not None and self._base._requires_grad)):
            return inplace_apply(core, name + "_", self, (other,), {})
        d = self._data
        if kmin is not None and d.__class__ is _ndarray and d.size >= kmin and \
                _into(self, name, (self, other), texpr or opdef.expr if not out_bool or
                      d.dtype.kind == "b" else _cast_expr(texpr or opdef.expr, d.dtype)):
            return self  # NOTE [ Results written where they belong ]
        if direct is not None and not MODES and d.__class__ is _ndarray and \
                d.dtype in _DIRECT_DTYPES and _direct_operand(d, other):
            # NOTE [ In-place binary ops write directly ]
            o = other._data if other.__class__ is Tensor else other
            try:
                if name == "div":
                    with _np.errstate(divide="ignore", invalid="ignore"):
                        direct(d, o, out=d)
                else:
                    direct(d, o, out=d)
            except ValueError:  # read-only memory: an expanded tensor
                raise RuntimeError(f"{name}_(): unsupported operation: more than one element "
                                   "of the written-to tensor refers to a single memory "
                                   "location. Please clone() the tensor before performing "
                                   "the operation.") from None
            self._bump()
            return self
        res = core(self, other)
        r = res._data
        if r.shape != d.shape or r.dtype is not d.dtype or MODES:
            from ember._ops.core import _copy_into

            _copy_into(name + "_", self, res)
            return self
        try:
            xp.copyto(d, r)
        except ValueError:  # read-only memory: an expanded tensor
            raise RuntimeError(f"{name}_(): unsupported operation: more than one element of the "
                               "written-to tensor refers to a single memory location. Please "
                               "clone() the tensor before performing the operation.") from None
        self._bump()
        return self

    if second != "other":
        fn = _second_named(fn, second)
        fn_ = _second_named(fn_, second)
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = (f"{name}(input, {second}, *, out=None) -> Tensor\n\n"
                  f"Elementwise ``{name}`` of ``input`` and ``{second}`` (tensors or numbers), "
                  f"with broadcasting and PyTorch's type promotion"
                  f"{'; returns a bool tensor' if out_bool else ''}."
                  f"{' Differentiable.' if opdef.differentiable else ' Not differentiable.'}"
                  f"\n\nExample:\n    >>> ember.{name}(ember.tensor([1.0, 2.0]), "
                  f"ember.tensor(3.0))")
    fn.op = opdef
    fn.core = core
    fn.rcore = rfn
    fn.inplace = fn_
    _binary_defs[name] = fn
    FUNCTIONS[name] = fn
    METHODS[name] = fn
    METHODS[name + "_"] = fn_
    return fn


# NOTE [ Second operand's name ]
# PyTorch spells the second operand of most binary ops ``other`` but of some their own way
# (``pow(input, exponent)``, ``float_power(input, exponent)``, ``heaviside(input, values)``),
# and a keyword call must find it. The generated function is the same code with that one
# parameter renamed (its code object's variable name), so the call costs exactly what the
# ``other`` spelling costs: no wrapper, no keyword translation.
def _second_named(f, second):
    code = f.__code__
    names = list(code.co_varnames)
    assert names[1] == "other", names  # (input|self, other, ...)
    names[1] = second
    g = types.FunctionType(code.replace(co_varnames=tuple(names)), f.__globals__, f.__name__,
                           f.__defaults__, f.__closure__)
    g.__kwdefaults__ = f.__kwdefaults__
    return g


def _same_device(name, a, b):
    """Operands from two backends: a 0-d host tensor joins the other's device (PyTorch lets
    CPU scalars mix with any device); anything else is PyTorch's device-mismatch error."""
    from ember._backends import backend_of

    ba, bb = backend_of(a), backend_of(b)
    if ba is bb:
        return a, b
    if bb.device_type == "cpu" and b.ndim == 0:
        return a, ba.from_host(b)
    if ba.device_type == "cpu" and a.ndim == 0:
        return bb.from_host(a), b
    from ember._backends import device_mismatch

    raise device_mismatch((ba, bb), name)


def _binary_dtype_error(name, a, b, e):
    """NumPy has no loop for these dtypes: PyTorch raises NotImplementedError naming the
    kernel and the unsupported dtype (a float for the bitwise ops)."""
    da, db = _asarray(a).dtype, _asarray(b).dtype
    bad = db if da.kind in _INTLIKE and db.kind not in _INTLIKE else da
    try:
        return _not_implemented(name, bad)
    except KeyError:  # not an ember dtype
        return RuntimeError(f"{name}(): not implemented for dtypes {da}/{db} ({e})")


# NOTE [ What a binary node saves ]
# With a Python scalar operand, a node keeps only what its formula needs, as PyTorch's do:
# ``t * 2`` and ``t / 2`` keep nothing but the scalar, ``t ** 2`` keeps ``t`` (not the
# result), ``2 ** t`` keeps the result. So editing the result in place afterwards
# (``sq = (x - t) ** 2; sq[mask] = 0``, ``(z @ z.T / tau).fill_diagonal_(-inf)``) is allowed
# where PyTorch allows it. ``2 / t`` keeps ``t`` (PyTorch computes ``t.reciprocal() * 2`` and
# keeps the reciprocal: its result may be edited, as here; ``t`` may not be, unlike there).
# op name -> (keep when b is the scalar, when a is, then the node classes of PyTorch's
# Scalar overloads in the same order, NOTE [ Node names ]: ``t ** 2`` is PowBackward0,
# ``2 ** t`` PowBackward2, ``t ** t`` PowBackward1; None: the record's own name).
_SCALAR_SAVES = {"mul": ("", "", None, None), "div": ("", "x", None, None),
                 "pow": ("x", "xy", node_class("PowBackward0"), node_class("PowBackward2")),
                 "remainder": ("xy", "xy", node_class("RemainderBackward0"), None),
                 "fmod": ("xy", "xy", node_class("FmodBackward0"), None)}


def _record2(opdef, out, x, y):
    """Record a binary node; scalar operands get a None edge and are saved as values."""
    n = _new(opdef.node_cls)
    n.op = opdef
    ex = ey = None
    if x.__class__ is Tensor or isinstance(x, Tensor):
        if x._base is not None:
            refresh_view(x)
        ex = x._grad_fn if x._grad_fn is not None else (x if x._requires_grad else None)
    if y.__class__ is Tensor or isinstance(y, Tensor):
        if y._base is not None:
            refresh_view(y)
        ey = y._grad_fn if y._grad_fn is not None else (y if y._requires_grad else None)
    n.next = (ex, ey)
    n.params = None
    n.out = None
    if opdef.save_x or opdef.save_y:
        _save2(opdef, n, x, y, out)
    else:
        n.saved = None
        n.versions = None
    d = out._data
    n.shape = d.shape
    n.dtype = d.dtype
    n.pre_hooks = None
    n.hooks = None
    out._grad_fn = n
    out._requires_grad = True


def _save2(opdef, n, x, y, out):
    """What a binary node keeps for backward (NOTE [ What a binary node saves ])."""
    save_x, save_y = opdef.save_x, opdef.save_y
    n.saved = None
    n.versions = None
    if x.__class__ in _number or y.__class__ in _number:
        keep = _SCALAR_SAVES.get(opdef.name)
        if keep is not None:
            cls = keep[2] if y.__class__ in _number else keep[3]
            if cls is not None:
                n.__class__ = cls
            keep = keep[0] if y.__class__ in _number else keep[1]
            save_y = save_y and "y" in keep
            if save_x and "x" not in keep:  # the scalar is all the formula needs
                save_x = False
                n.saved = (x if x.__class__ in _number else None,
                           y if y.__class__ in _number else None)
    if save_x:
        save_inputs(n, (x, y))
    if save_y:
        from ember._graph import save_output

        save_output(n, out)


# PyTorch's function forms take a number as input only where a Scalar overload exists, and
# refuse one as other for these (their schemas are Tensor-Tensor only)
_NUMBER_INPUT_OK = frozenset(("add", "sub", "mul", "div", "true_divide", "floor_divide",
                              "remainder", "pow", "float_power", "xlogy", "bitwise_and",
                              "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                              "bitwise_right_shift", "special_xlog1py", "special_zeta"))
_NUMBER_OTHER_REFUSED = frozenset(("atan2", "arctan2", "fmax", "fmin", "gcd", "lcm",
                                   "heaviside", "hypot", "logaddexp", "logaddexp2",
                                   "logical_and", "logical_or", "logical_xor", "maximum",
                                   "minimum", "nextafter"))


# PyTorch's function forms that take two numbers (its argument parser wraps a number input
# as a 0-dim tensor for these names only): torch.mul(2.0, 3.0) is tensor(6.)
_TWO_NUMBERS_OK = frozenset(("add", "sub", "mul", "div", "floor_divide"))


def _check_operands(name, a, b):
    """PyTorch's TypeError for operands a binary op's function form refuses: arrays (the
    operators accept them), and numbers where the op has no Scalar overload. Returns the
    input, as a 0-dim tensor of its number's wrapped dtype where both operands are numbers
    and PyTorch takes them (``_TWO_NUMBERS_OK``)."""
    for pos, arg, v in ((1, "input", a), (2, "other", b)):
        if isinstance(v, Tensor):
            continue
        if isinstance(v, _ndarray) or not isinstance(v, (_number, _np.generic)) or (
                pos == 1 and name not in _NUMBER_INPUT_OK) or (
                pos == 2 and name in _NUMBER_OTHER_REFUSED):
            t = type(v)
            tn = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, "
                            f"not {tn}")
        if pos == 1 and not isinstance(b, Tensor) and isinstance(b, (_number, _np.generic)):
            if name in _TWO_NUMBERS_OK:  # two numbers: the input becomes a wrapped number
                return Tensor._wrap(_asarray(_scalar(a, name), D.scalar_dtype(a).np))
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(a).__name__}, {type(b).__name__}), but expected at least "
                            "one Tensor")
    return a


def _scalar(v, name):
    """Normalise a non-Tensor operand: Python number, NumPy scalar or array-like."""
    if v.__class__ in _number:
        return v
    if isinstance(v, _np.generic):
        return v.item()
    if isinstance(v, _number):
        return v
    if isinstance(v, _ndarray):
        return Tensor._wrap(v)
    raise TypeError(f"{name}(): unsupported operand type {type(v).__name__}; expected a "
                    "Tensor or a number")


def _pow_grad_a(g, a, b, y):  # noqa: ARG001 - the backward formula's fixed signature
    if isinstance(b, Tensor):
        return g * b * a.pow(b - 1)
    if b == 0:
        return g * 0
    return g * b * a.pow(b - 1)


def _pow_grad_b(g, a, b, y):
    if isinstance(a, Tensor):
        # d/db a**b = a**b * log(a); PyTorch defines it as 0 where a == 0 and b >= 0.
        return g * (y * where(a == 0, 1.0, a).log()).masked_fill((a == 0) & (b >= 0), 0)
    return g * y * math.log(a) if a > 0 else g * 0


def _square_x(a):
    return a * a


def _cube_x(a):
    r = a * a
    r *= a
    return r


def _rsqrt_x(a):
    r = xp_of(a).sqrt(a)
    return xp_of(a).reciprocal(r, out=r)


def _inv_square_x(a):
    r = a * a
    return xp_of(a).reciprocal(r, out=r)


# NOTE [ pow fast paths ]
# pow with exponent 2, 3, 0.5, -0.5, -1 or -2 is a multiplication, a square root or a
# reciprocal, as PyTorch's scalar-exponent kernel computes it: x ** 3 on 4M floats is much
# faster than the generic power routine, and the results equal PyTorch's bit for bit,
# signed zeros, infinities and NaN included (sqrt(-inf) is NaN, as PyTorch's). Other
# exponents (4 included) keep the correctly rounded generic routine, as PyTorch does.
_POW_FLOAT = {2: _square_x, 3: _cube_x, 0.5: lambda a: xp_of(a).sqrt(a),
              -0.5: _rsqrt_x, -1: lambda a: xp_of(a).reciprocal(a), -2: _inv_square_x}
_POW_INT = {2: _square_x, 3: _cube_x}


def _both_bool(a, b):
    """Both operands (after promotion) bool: PyTorch has no kernel for these ops on Bool."""
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    return (da.kind if da is not None else "b" if a.__class__ is bool else "") == "b" and \
        (db.kind if db is not None else "b" if b.__class__ is bool else "") == "b"


def _no_bool(kernel, fwd):
    def f(a, b):
        if _both_bool(a, b):
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
        return fwd(a, b)

    return f


def _pow(a, b):
    # ValueErrors (broadcasting, negative integer powers) become RuntimeErrors in core()
    if _both_bool(a, b):
        if b.__class__ is bool:  # x ** True is x, x ** False is 1: still bool, as PyTorch
            return a.copy() if b else xp_of(a).ones(a.shape, bool)
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if b.__class__ is int or b.__class__ is float:
        kind = getattr(a, "dtype", None)
        kind = kind.kind if kind is not None else None
        f = _POW_FLOAT.get(b) if kind == "f" else _POW_INT.get(b) if kind in ("i", "u") else None
        if f is not None and a.__class__ is not bool:
            return f(a)
    elif (a.__class__ is float or a.__class__ is int) and a == 2 and \
            b.__class__ is _ndarray and b.dtype == _np.float32:
        # 2 ** x (scalar base 2, float32 exponents) is exp2: the threaded float32 kernel,
        # within an ulp as the generic powf (NumPy's power on one core: 1e6 1.7 ms, PyTorch
        # 1.26); other bases would lose accuracy through x * log2(base)
        r = _kernel_for("exp2", b)
        if r is not None:
            return r
    if a.__class__ is _ndarray and a.size >= _KMIN and a.dtype.kind == "i":
        r = _pow_int_threaded(a, b)
        if r is not None:
            return r
    return xp.power(a, b)


# NOTE [ Integer pow as one threaded pass ]: NumPy's integer power is a scalar loop
# (1e6 int64 ** int64: 5.2 ms, PyTorch 2.7). With exponents in [0, 64) it is the product of
# the squarings a^(2^j) selected by the exponent's bits: one generated kernel of
# where(bitwise_and(b, 2^j) != 0, a^(2^j), 1) terms, as many as the largest exponent's bits
# (its min and max are read first: two vectorised reductions). Integer multiplication wraps
# modulo 2^bits in any order, so the result equals NumPy's (and PyTorch's) bit for bit.
# Negative exponents (NumPy's error, PyTorch's for a scalar exponent), exponents from 64 on,
# other dtypes and small arrays keep xp.power.
def _square_expr(j):
    e = "a"
    for _ in range(j):
        e = f"({e} * {e})"
    return e


def _pow_int_threaded(a, b):
    if b.__class__ is _ndarray:
        if b.dtype != a.dtype or b.size == 0:
            return None
        lo, hi = int(b.min()), int(b.max())
        if lo < 0 or hi >= 64:
            return None
        terms = [f"where(bitwise_and(b, {1 << j}) != 0, {_square_expr(j)}, 1)"
                 for j in range(hi.bit_length())]
        operands = (a, b)
    elif b.__class__ is int and 0 <= b < 64:
        terms = [_square_expr(j) for j in range(b.bit_length()) if b >> j & 1]
        operands = (a,)
    else:
        return None
    return _threaded(" * ".join(terms) or "a * 0 + 1", "i", operands)


def _int_zero_divisor(a, b):
    """Integer division by zero raises in PyTorch; only host values can be checked (a meta
    array has none, so its shape rule goes on, as PyTorch's meta kernels do)."""
    if getattr(a, "dtype", None) is None:
        a = _asarray(a)
    if a.dtype.kind not in "biu":
        return False
    if b.__class__ is not _ndarray and not isinstance(b, (int, float, _np.generic)):
        return False
    return bool((_asarray(b) == 0).any())


def _div_floor(a, b):
    if _both_bool(a, b):
        raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
    if _int_zero_divisor(a, b):
        raise RuntimeError("ZeroDivisionError")
    return xp.floor_divide(a, b)


def _max_grad(mine, other_is_a):
    """Gradient of maximum/minimum for one operand: all of it where this operand wins or a
    NaN is involved (every NaN comparison is False), half of it at ties, none where it
    loses (PyTorch's convention)."""

    def f(g, a, b, y):  # noqa: ARG001 - the backward formula's fixed signature
        a_, b_ = (a, b) if other_is_a else (b, a)
        lose = (a_ < b_) if mine == "max" else (a_ > b_)
        return where(a_ == b_, g * 0.5, g).masked_fill(lose, 0)

    return f


def _fmax_grad(mine, other_is_a):
    """Gradient of fmax/fmin: all of it goes to the selected operand; the first operand wins
    ties and beats a NaN second operand."""

    def f(g, a, b, y):  # noqa: ARG001 - the backward formula's fixed signature
        keep = (a >= b) if mine == "max" else (a <= b)
        if isinstance(b, Tensor):
            keep = keep | b.isnan()
        if not other_is_a:
            keep = keep.logical_not()
        return g * keep

    return f


def _remainder(a, b):
    if _both_bool(a, b):
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    with _np.errstate(divide="ignore", invalid="ignore"):
        if _int_zero_divisor(a, b) and getattr(a, "dtype", _asarray(a).dtype).kind in "iu":
            raise RuntimeError("ZeroDivisionError")
        return xp.remainder(a, b)


def _fmod(a, b):
    if _both_bool(a, b):
        raise NotImplementedError("\"fmod_cpu\" not implemented for 'Bool'")
    with _np.errstate(divide="ignore", invalid="ignore"):
        if _int_zero_divisor(a, b) and getattr(a, "dtype", _asarray(a).dtype).kind in "iu":
            raise RuntimeError("ZeroDivisionError")
        return xp.fmod(a, b)


def _true_div(a, b):
    with _np.errstate(divide="ignore", invalid="ignore"):
        return xp.true_divide(a, b)


add = binary("add", xp.add, lambda g, a, b, y: g, lambda g, a, b, y: g, save="", onnx="Add")
sub = binary("sub", xp.subtract, lambda g, a, b, y: g, lambda g, a, b, y: -g, save="",
             onnx="Sub")
mul = binary("mul", xp.multiply, lambda g, a, b, y: g * b, lambda g, a, b, y: g * a,
             onnx="Mul")
# d/d(other) = -g * (a / b) / b recomputes a / b from the saved inputs, as PyTorch's
# DivBackward0 keeps self and other but not its result: editing the quotient in place before
# backward is allowed
div = binary("div", _true_div, lambda g, a, b, y: g / b, lambda g, a, b, y: -g * (a / b) / b,
             save="x", to_float=True, onnx="Div")
# node names: PyTorch's Tensor-Tensor overloads; _save2 renames the Scalar ones
pow = binary("pow", _pow, _pow_grad_a, _pow_grad_b, save="xy", onnx="Pow",
             node_name="PowBackward1", second="exponent")
maximum = binary("maximum", xp.maximum, _max_grad("max", True), _max_grad("max", False),
                 onnx="Max")
minimum = binary("minimum", xp.minimum, _max_grad("min", True), _max_grad("min", False),
                 onnx="Min")
fmax = binary("fmax", xp.fmax, _fmax_grad("max", True), _fmax_grad("max", False))
fmin = binary("fmin", xp.fmin, _fmax_grad("min", True), _fmax_grad("min", False))
remainder = binary("remainder", _remainder, lambda g, a, b, y: g,
                   lambda g, a, b, y: -g * (a / b).floor(), node_name="RemainderBackward1")
fmod = binary("fmod", _fmod, lambda g, a, b, y: g, lambda g, a, b, y: -g * (a / b).trunc(),
              node_name="FmodBackward1")
floor_divide = binary("floor_divide", _div_floor, differentiable=False)
atan2 = binary("atan2", xp.arctan2, lambda g, a, b, y: g * b / (a * a + b * b),
               lambda g, a, b, y: -g * a / (a * a + b * b), to_float=True)

# Comparisons and logical/bitwise ops: not differentiable, bool (or integer) results.
eq = binary("eq", xp.equal, out_bool=True, onnx="Equal")
ne = binary("ne", xp.not_equal, out_bool=True)
def _ordered(ufunc, name):
    """An ordering comparison: complex numbers have no order (PyTorch refuses them)."""
    def f(a, b):
        if getattr(a, "dtype", None) is not None and a.dtype.kind == "c" or \
                getattr(b, "dtype", None) is not None and b.dtype.kind == "c" or \
                isinstance(a, complex) or isinstance(b, complex):
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'ComplexFloat'")
        return ufunc(a, b)

    return f


lt = binary("lt", _ordered(xp.less, "lt"), out_bool=True, onnx="Less")
le = binary("le", _ordered(xp.less_equal, "le"), out_bool=True, onnx="LessOrEqual")
gt = binary("gt", _ordered(xp.greater, "gt"), out_bool=True, onnx="Greater")
ge = binary("ge", _ordered(xp.greater_equal, "ge"), out_bool=True, onnx="GreaterOrEqual")
logical_and = binary("logical_and", xp.logical_and, out_bool=True, onnx="And")
logical_or = binary("logical_or", xp.logical_or, out_bool=True, onnx="Or")
logical_xor = binary("logical_xor", xp.logical_xor, out_bool=True, onnx="Xor")
bitwise_and = binary("bitwise_and", xp.bitwise_and, ints_only=True)
bitwise_or = binary("bitwise_or", xp.bitwise_or, ints_only=True)
bitwise_xor = binary("bitwise_xor", xp.bitwise_xor, ints_only=True)

for _alias, _orig in dict(multiply=mul, subtract=sub, divide=div, true_divide=div,
                          greater=gt, greater_equal=ge, less=lt, less_equal=le,
                          not_equal=ne, arctan2=atan2).items():
    FUNCTIONS[_alias] = METHODS[_alias] = _orig
    METHODS[_alias + "_"] = _orig.inplace


def _logical_not(x):
    return xp.logical_not(x)


logical_not = unary("logical_not", _logical_not, None, save="", to_float=False,
                    differentiable=False)


def _bitwise_not(x):
    if x.dtype.kind not in _INTLIKE:
        raise _not_implemented("bitwise_not", x.dtype)
    return xp.invert(x)


bitwise_not = unary("bitwise_not", _bitwise_not, None, save="", to_float=False,
                    differentiable=False)
_isnan = unary("isnan", xp.isnan, None, save="", to_float=False, differentiable=False,
               inplace=False)
_isinf = unary("isinf", xp.isinf, None, save="", to_float=False, differentiable=False,
               inplace=False)
_isfinite = unary("isfinite", xp.isfinite, None, save="", to_float=False,
                  differentiable=False, inplace=False)

# add/sub take alpha; div takes rounding_mode: wrap the generated functions.
_add_core, _sub_core, _div_core = add.core, sub.core, div.core


def _alpha(other, alpha, input=None, name="add"):
    if alpha == 1:
        return other
    c = alpha.__class__
    if c is float:  # the common case: refused only beside two integral operands
        if _integral(input) and _integral(other):
            _check_alpha(alpha, input, other)
    elif c is not int:
        _check_alpha(alpha, input, other)
    elif not -2 ** 63 <= alpha < 2 ** 63:
        raise OverflowError(f"{name}(): argument 'alpha' is an int too big to convert")
    return other * alpha


def _integral(v):
    """Whether an operand is an integral or bool tensor or number."""
    return v._data.dtype.kind in "biu" if isinstance(v, Tensor) else \
        isinstance(v, (int, _np.integer, _np.bool_))


def _check_alpha(alpha, input, other):
    """PyTorch's refusals of an alpha its operands' dtypes cannot take."""
    ts = [t for t in (input, other) if isinstance(t, Tensor)]
    kinds = {t._data.dtype.kind for t in ts}
    if isinstance(alpha, float) and _integral(input) and _integral(other):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if isinstance(alpha, complex) and "c" not in kinds:
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a "
                           "complex number.")
    if isinstance(alpha, bool) and kinds - {"b"}:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def _is_bool(v):
    """Whether an operand is a bool tensor or a bool number (sub refuses one)."""
    return v._data.dtype.kind == "b" if isinstance(v, Tensor) else isinstance(v, (bool, _np.bool_))


def _all_bool(a, b):
    return all(isinstance(t, Tensor) and t._data.dtype.kind == "b" for t in (a, b))


@register(name="add")
def add(input, other, *, alpha=1, out=None):
    if input.__class__ is not Tensor or other.__class__ is not Tensor:
        input = _check_operands("add", input, other)
    if alpha != 1 and isinstance(alpha, int) and _all_bool(input, other):
        other = other & bool(alpha)  # bool + alpha * bool stays bool, as PyTorch
        alpha = 1
    if out is not None and out.__class__ is Tensor and (
            _into(out, "add", (input, other)) if alpha == 1 else
            other.__class__ is Tensor and _into(out, "add_alpha", (input, other, alpha))):
        return out  # NOTE [ Results written where they belong ]
    if alpha != 1 and other.__class__ is Tensor and other._data.dtype.kind == "f":
        r = _fused("add_alpha", (input, other, alpha))
        if r is not None:
            return write_out("add", out, r) if out is not None else r
    r = _add_core(input, _alpha(other, alpha, input) if alpha != 1 else other)
    return write_out("add", out, r) if out is not None else r


@register(name="sub")
def sub(input, other, *, alpha=1, out=None):
    if input.__class__ is not Tensor or other.__class__ is not Tensor:
        input = _check_operands("sub", input, other)
        mixed = _is_bool(input) != _is_bool(other)
    else:
        mixed = (input._data.dtype.kind == "b") != (other._data.dtype.kind == "b")
    if mixed:  # (both bool: the family's own message)
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    if out is not None and out.__class__ is Tensor and (
            _into(out, "sub", (input, other)) if alpha == 1 else
            other.__class__ is Tensor and _into(out, "sub_alpha", (input, other, alpha))):
        return out  # NOTE [ Results written where they belong ]
    if alpha != 1 and other.__class__ is Tensor and other._data.dtype.kind == "f":
        r = _fused("sub_alpha", (input, other, alpha))
        if r is not None:
            return write_out("sub", out, r) if out is not None else r
    r = _sub_core(input, _alpha(other, alpha, input, "sub") if alpha != 1 else other)
    return write_out("sub", out, r) if out is not None else r


@register(name="div")
def div(input, other, *, rounding_mode=None, out=None):
    if input.__class__ is not Tensor or other.__class__ is not Tensor:
        input = _check_operands("div", input, other)
    if out is not None and out.__class__ is Tensor and rounding_mode in _DIV_KERNEL and \
            _into(out, _DIV_KERNEL[rounding_mode], (input, other)):
        return out  # NOTE [ Results written where they belong ]
    if rounding_mode is None:
        r = _div_core(input, other)
    elif rounding_mode == "floor":
        r = floor_divide.core(input, other)
    elif rounding_mode == "trunc":
        r = _fused("div_trunc", (input, other)) if _is_float(input, other) else None
        if r is None:
            r = _div_core(input, other).trunc() if _is_float(input, other) else \
                _trunc_int_div(input, other)
    elif not isinstance(rounding_mode, str):
        raise TypeError(f"div(): argument 'rounding_mode' must be str, not "
                        f"{type(rounding_mode).__name__}")
    else:  # PyTorch's type for an unknown mode
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return write_out("div", out, r) if out is not None else r


_DIV_KERNEL = {None: "div", "trunc": "div_trunc", "floor": "floor_divide"}


def _is_float(a, b):
    ka = a._data.dtype.kind if isinstance(a, Tensor) else ("f" if isinstance(a, float) else "i")
    kb = b._data.dtype.kind if isinstance(b, Tensor) else ("f" if isinstance(b, float) else "i")
    return ka in "fcV" or kb in "fcV"


def _trunc_int_div(a, b):
    # floor(a / b) is one below trunc(a / b) where the quotient is negative and inexact, i.e.
    # the signs of a and b differ (the remainder takes b's sign, so it cannot tell).
    q = floor_divide.core(a, b)
    r = remainder.core(a, b)
    return q + ((r != 0) & ((a < 0) != (b < 0)))


def _add_(self, other, *, alpha=1):
    if other.__class__ is not Tensor:
        _check_operands("add_", self, other)
    elif alpha != 1 and _into(self, "add_alpha", (self, other, alpha)):
        return self  # NOTE [ Results written where they belong ]
    return _binary_defs["add"].inplace(self, _alpha(other, alpha, self, "add_")
                                       if alpha != 1 else other)


def _sub_(self, other, *, alpha=1):
    if other.__class__ is not Tensor:
        _check_operands("sub_", self, other)
    elif alpha != 1 and _into(self, "sub_alpha", (self, other, alpha)):
        return self  # NOTE [ Results written where they belong ]
    return _binary_defs["sub"].inplace(self, _alpha(other, alpha, self, "sub_")
                                       if alpha != 1 else other)


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return _binary_defs["div"].inplace(self, other)
    if rounding_mode in _DIV_KERNEL and _into(self, _DIV_KERNEL[rounding_mode], (self, other)):
        return self  # NOTE [ Results written where they belong ]
    return inplace_apply(div, "div_", self, (other,), {"rounding_mode": rounding_mode})


METHODS["add_"], METHODS["sub_"], METHODS["div_"] = _add_, _sub_, _div_
METHODS["subtract_"], METHODS["divide_"], METHODS["true_divide_"] = _sub_, _div_, _div_
FUNCTIONS["subtract"] = METHODS["subtract"] = sub
FUNCTIONS["divide"] = METHODS["divide"] = div


# =============================================================================== dtype cast
def _cast_bwd(n, g):
    return (g.to(_FROM_NP[n.params[0]]),)


# Casting to a non-float dtype ends the graph (the record is not differentiable there).
_CAST = OpDef("to_copy", lambda a, src, dst: a.astype(dst), _cast_bwd,
              node_name="ToCopyBackward0", attrs=("src_dtype", "dtype"))
_CAST_NODIFF = OpDef("to_copy_nondiff", lambda a, src, dst: a.astype(dst),
                     differentiable=False, attrs=("src_dtype", "dtype"))


def _to_dtype(x, dtype):
    op = _CAST if dtype.category >= D.FLOAT else _CAST_NODIFF
    return apply(op, (x,), (x._data.dtype, dtype.np))


def _to_device_fwd(a, src, dst):
    from ember._backends import for_device

    if src == dst:
        return a.copy()
    host = a if src == "cpu" else for_device(src).to_host(a)
    return host if dst == "cpu" else for_device(dst).from_host(host)


_TO_DEVICE = OpDef("to_device", _to_device_fwd,
                   lambda n, g: (apply(_TO_DEVICE, (g,), (n.params[1], n.params[0])),),
                   node_name="ToCopyBackward0", attrs=("src_device", "device"))


def to_device(x, dev):
    """``x`` on device ``dev`` (an ``ember.device``): a differentiable copy across backends."""
    return apply(_TO_DEVICE, (x,), (x.device.type, dev.type))


# =============================================================================== expressions
# NOTE [ Scalar expressions ]
# Each fusible elementwise record carries ``op.expr``: its value as one scalar expression
# over ``a`` (and ``b``), the inputs after promotion to the computation dtype, in Python
# syntax with a fixed vocabulary whose meaning is NumPy's function of the same name
# (``maximum`` propagates NaN, ``where(c, x, y)`` selects). A code generator translates it
# to C or CUDA C; tests/test_dispatch.py evaluates every expression with NumPy and checks it
# against the record on values that include zeros, negatives, infinities and NaN.
EXPRS = {
    "exp": "exp(a)", "exp2": "exp2(a)", "expm1": "expm1(a)", "log": "log(a)",
    "log2": "log2(a)", "log10": "log10(a)", "log1p": "log1p(a)", "sqrt": "sqrt(a)",
    "rsqrt": "1 / sqrt(a)", "sin": "sin(a)", "cos": "cos(a)", "tan": "tan(a)",
    "asin": "arcsin(a)", "acos": "arccos(a)", "atan": "arctan(a)", "sinh": "sinh(a)",
    "cosh": "cosh(a)", "tanh": "tanh(a)", "asinh": "arcsinh(a)", "acosh": "arccosh(a)",
    "atanh": "arctanh(a)", "sigmoid": "1 / (1 + exp(-a))", "reciprocal": "1 / a",
    "relu": "maximum(a, 0)", "neg": "-a", "abs": "abs(a)", "floor": "floor(a)",
    "ceil": "ceil(a)", "trunc": "trunc(a)", "frac": "a - trunc(a)", "square": "a * a",
    "sign": "where(isnan(a), 0, sign(a))", "erf": "erf(a)", "erfc": "erfc(a)",
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "pow": "power(a, b)",
    "maximum": "maximum(a, b)", "minimum": "minimum(a, b)", "fmax": "fmax(a, b)",
    "fmin": "fmin(a, b)", "atan2": "arctan2(a, b)", "fmod": "fmod(a, b)",
    "remainder": "remainder(a, b)",
    "eq": "a == b", "ne": "a != b", "lt": "a < b", "le": "a <= b", "gt": "a > b",
    "ge": "a >= b", "logical_and": "logical_and(a, b)", "logical_or": "logical_or(a, b)",
    "logical_xor": "logical_xor(a, b)", "logical_not": "logical_not(a)",
    "isnan": "isnan(a)", "isinf": "isinf(a)", "isfinite": "isfinite(a)",
    "tanh_backward": "a * (1 - b * b)", "sigmoid_backward": "a * (b * (1 - b))",
    "relu_backward": "where(b > 0, a, 0)",
}
for _name, _expr in EXPRS.items():
    OPS[_name].expr = _expr


# =============================================================================== where, clamp
def _where_fwd(c, a, b):
    r = _kernel_for("where", c, a, b)
    return xp.where(c, a, b) if r is None else r


# the condition only, as PyTorch's node: the branches' gradients need no values
_WHERE = OpDef("where", _where_fwd, None, save=(0,), onnx="Where")


@_WHERE.grad
def _(ctx, g):
    c = ctx.inputs[0]
    z = Tensor._wrap(xp.zeros((), g._data.dtype))  # not g * 0: that turns inf into NaN
    na, nb = ctx.next[1] is not None, ctx.next[2] is not None
    return None, where(c, g, z) if na else None, where(c, z, g) if nb else None


@register(method=False)
def where(condition, input=None, other=None, *, out=None):
    """``where(cond, x, y)`` selects elementwise; ``where(cond)`` is ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}")
    xt, yt = isinstance(input, Tensor), isinstance(other, Tensor)
    if xt and yt:
        rt = D.result_type_tt(input.dtype, input.ndim == 0, other.dtype, other.ndim == 0)
    elif xt:
        rt = D.result_type_ts(input.dtype, other)
    elif yt:
        rt = D.result_type_ts(other.dtype, input)
    else:
        rt = D._combine(D.scalar_dtype(input), D.scalar_dtype(other))
    a = input.to(rt) if xt else Tensor._wrap(_asarray(input, dtype=rt.np))
    b = other.to(rt) if yt else Tensor._wrap(_asarray(other, dtype=rt.np))
    if out is not None and out.__class__ is Tensor and _where_into(out, condition, a, b):
        return out  # NOTE [ Results written where they belong ]
    try:
        r = apply(_WHERE, (condition, a, b))
    except RuntimeError as e:
        raise _where_error("where", e, condition, a, b) from None
    return write_out("where", out, r) if out is not None else r


def _where_into(dst, cond, a, b):
    """``where(cond, a, b)`` (``a``, ``b`` tensors of one dtype) written into tensor ``dst``
    by the where kernel (NOTE [ Results written where they belong ]): True when done."""
    o = _dst_array(dst, (a, b), THREADED["where"][2])
    if o is None or a._data.dtype != b._data.dtype:
        return False
    if _threaded("where(a, b, c)", THREADED["where"][1], (cond._data, a._data, b._data),
                 o) is None:
        return False
    dst._bump()
    return True


def _where_error(name, e, cond, a, b):
    """The error for a failed where: the three shapes when they do not broadcast (every
    shape named), else the original error (a device mismatch, ...)."""
    shapes = [tuple(t.shape) for t in (cond, a, b)]
    try:
        _np.broadcast_shapes(*shapes)
    except ValueError:
        if name == "masked_fill":
            return RuntimeError(f"masked_fill(): mask of shape {list(shapes[0])} is not "
                                f"broadcastable with input of shape {list(shapes[2])}")
        return RuntimeError(f"where(): shapes {list(shapes[0])} (condition), {list(shapes[1])} "
                            f"(input) and {list(shapes[2])} (other) are not broadcastable")
    return e


def _where_method(self, condition, other):
    """``x.where(condition, other)`` is ``where(condition, x, other)``."""
    return where(condition, self, other)


METHODS["where"] = _where_method


def _clamp_fwd(x, lo, hi):
    r = _kernel_for("clamp" if lo is not None and hi is not None else
                    "clamp_min" if lo is not None else "clamp_max",
                    x, *(b for b in (lo, hi) if b is not None))
    if r is not None:
        return r
    if lo is not None and hi is not None:
        return xp.minimum(xp.maximum(x, lo), hi)
    if lo is not None:
        return xp.maximum(x, lo)
    return xp.minimum(x, hi)


_CLAMP = OpDef("clamp", _clamp_fwd, None, save="x", onnx="Clip", node_name="ClampBackward1")
_CLAMP.attrs = ('min', 'max')


@_CLAMP.grad
def _(ctx, g):
    x, = ctx.inputs
    lo, hi = ctx.params
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        mask = (x <= hi) if mask is None else mask & (x <= hi)
    return (g * mask,)


@register(inplace=True)
def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    for v in (input, min, max):  # (after the bounds check: PyTorch's order)
        if isinstance(v, Tensor) and v._data.dtype.kind == "c":
            raise NotImplementedError("clamp is not supported for complex types")
    if out is not None and out.__class__ is Tensor and input.__class__ is Tensor and \
            _into(out, *_clamp_args(input, min, max)):
        return out  # NOTE [ Results written where they belong ]
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = _clamp_tensor(input, min, max)
    else:
        d = input._data
        if d.dtype.kind in _INTLIKE and (isinstance(min, float) or isinstance(max, float)):
            input = input.to(D.get_default_dtype())
        r = apply(_CLAMP, (input,), (min, max))
    return write_out("clamp", out, r) if out is not None else r


def _clamp_args(x, lo, hi):
    """(THREADED key, operands) of clamp's kernel for bounds ``lo``/``hi`` (one may be None)."""
    if lo is None:
        return "clamp_max", (x, hi)
    return ("clamp_min", (x, lo)) if hi is None else ("clamp", (x, lo, hi))


def _clamp_t_fwd(x, *bounds_and_which):
    *bounds, which = bounds_and_which
    r = _kernel_for("clamp" if which == "both" else "clamp_" + which, x, *bounds)
    if r is not None:
        return r
    if which == "min":
        return xp.maximum(x, bounds[0])
    if which == "max":
        return xp.minimum(x, bounds[0])
    return xp.minimum(xp.maximum(x, bounds[0]), bounds[1])


_CLAMP_T = OpDef("clamp_tensor", _clamp_t_fwd, None, save="x", node_name="ClampBackward0")
_CLAMP_T.attrs = ('which',)


@_CLAMP_T.grad
def _(ctx, g):
    # PyTorch's convention, ties included: x keeps the gradient where lo <= x <= hi; a bound
    # gets it only where it is the value selected (lo where x < lo < hi, hi where x > hi or
    # the bounds cross). Shapes are broadcast; the engine sums each back to its input.
    which, = ctx.params
    x, *bounds = ctx.inputs
    if which == "min":
        lo, = bounds
        return g * (x >= lo), g * (x < lo)
    if which == "max":
        hi, = bounds
        return g * (x <= hi), g * (x > hi)
    lo, hi = bounds
    return g * ((x >= lo) & (x <= hi)), g * ((x < lo) & (lo < hi)), g * ((x > hi) | (lo > hi))


def _clamp_tensor(input, min, max):
    """clamp with at least one Tensor bound: one node, operands promoted together."""
    bounds = [b for b in (min, max) if b is not None]
    rt = input.dtype
    for b in bounds:
        rt = D.result_type_tt(rt, False, b.dtype, b.ndim == 0) if isinstance(b, Tensor) else \
            D.result_type_ts(rt, b)
    ts = [t.to(rt) if isinstance(t, Tensor) else Tensor._wrap(_asarray(t, dtype=rt.np))
          for t in (input, *bounds)]
    which = "both" if len(bounds) == 2 else ("min" if min is not None else "max")
    return apply(_CLAMP_T, tuple(ts), (which,))


FUNCTIONS["clip"] = METHODS["clip"] = clamp
_clamp_general_ = METHODS["clamp_"]


def _clamp_bound(b):
    return b is None or b.__class__ is float or (b.__class__ is int and -(1 << 31) < b < (1 << 31))


def _clamp_(self, min=None, max=None):
    """In-place version of :meth:`clamp`: each element limited to ``[min, max]``.

    With number bounds on a float32/float64 host tensor and no graph to record, the result
    is written into ``self``'s memory directly (NOTE [ In-place binary ops write directly ]);
    otherwise the general in-place path runs (tensor bounds, gradients, other dtypes).

    Args:
        self: the tensor to clamp in place.
        min: lower bound (number or tensor), or None.
        max: upper bound (number or tensor), or None.

    Returns:
        ``self``.

    Example:
        >>> t = ember.tensor([-2.0, 0.5, 3.0])
        >>> t.clamp_(-1.0, 1.0)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    d = getattr(self, "_data", None)
    if (min.__class__ is Tensor or max.__class__ is Tensor) and (min is not None or max is not
                                                                 None) and \
            _into(self, *_clamp_args(self, min, max)):
        return self  # tensor bounds (NOTE [ Results written where they belong ])
    if (min is None and max is None) or MODES or d.__class__ is not _ndarray or \
            d.dtype not in _DIRECT_DTYPES or not _clamp_bound(min) or not _clamp_bound(max) or (
                GRAD.enabled and (self._requires_grad or (
                    self._base is not None and self._base._requires_grad))):
        return _clamp_general_(self, min, max)
    if not d.flags.writeable:
        raise RuntimeError("clamp_(): unsupported operation: more than one element of the "
                           "written-to tensor refers to a single memory location. Please "
                           "clone() the tensor before performing the operation.")
    key = "clamp" if min is not None and max is not None else (
        "clamp_min" if min is not None else "clamp_max")
    expr, kinds, kmin = THREADED[key]
    bounds = tuple(b for b in (min, max) if b is not None)
    if d.size < kmin or not d.flags.c_contiguous or \
            _threaded(expr, kinds, (d, *bounds), d) is None:
        # the NumPy forward's operations, in place: min(max(x, lo), hi)
        if min is not None:
            xp.maximum(d, min, out=d)
        if max is not None:
            xp.minimum(d, max, out=d)
    self._bump()
    return self


_clamp_.__name__ = "clamp_"
_clamp_.__wrapped__ = clamp  # its parameters are clamp's, as make_inplace's variants say
METHODS["clamp_"] = METHODS["clip_"] = _clamp_


@register(inplace=True)
def clamp_min(input, min, *, out=None):
    if out is not None:
        return clamp(input, min=min, out=out)
    r = clamp(input, min=min)  # PyTorch's own nodes for clamp_min (NOTE [ Node names ])
    return renamed(renamed(r, _CLAMP, "ClampMinBackward0"), _CLAMP_T, "ClampMinBackward1")


@register(inplace=True)
def clamp_max(input, max, *, out=None):
    if out is not None:
        return clamp(input, max=max, out=out)
    r = clamp(input, max=max)
    return renamed(renamed(r, _CLAMP, "ClampMaxBackward0"), _CLAMP_T, "ClampMaxBackward1")


METHODS["clamp_min_"] = _kernel_inplace(METHODS["clamp_min_"],
                                        lambda self, min: ("clamp_min", (self, min)))
METHODS["clamp_max_"] = _kernel_inplace(METHODS["clamp_max_"],
                                        lambda self, max: ("clamp_max", (self, max)))


@register(method=True)
def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor):  # PyTorch's argument parser: a TypeError
        raise TypeError(f"masked_fill(): argument 'mask' (position 1) must be Tensor, not "
                        f"{type(mask).__name__}")
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        v = value.to(input.dtype)
    else:
        v = Tensor._wrap(_asarray(value, dtype=input._data.dtype))
    # out of place, input and mask broadcast together (PyTorch's expand_outplace); the
    # in-place form refuses a result of another shape when it copies back
    try:
        return where(mask, v, input)
    except RuntimeError as e:
        raise _where_error("masked_fill", e, mask, v, input) from None


_masked_fill_general_ = make_inplace(masked_fill, "masked_fill_")


def masked_fill_(self, mask, value):
    """In-place version of :meth:`masked_fill` (NOTE [ Results written where they belong ]:
    a number, or a 0-dim tensor of ``self``'s dtype, selected into ``self`` in one pass)."""
    d = getattr(self, "_data", None)
    if d.__class__ is _ndarray and d.size >= THREADED["where"][2] and \
            mask.__class__ is Tensor and mask._data.dtype.kind == "b" and d.dtype.kind in "fi":
        if value.__class__ in (int, float, bool):
            try:
                v = Tensor._wrap(_asarray(value, dtype=d.dtype))  # as masked_fill converts
            except (OverflowError, ValueError, TypeError):
                v = None
        else:
            v = value if value.__class__ is Tensor and value._data.dtype == d.dtype and \
                value._data.ndim == 0 else None
        if v is not None and _where_into(self, mask, v, self):
            return self
    return _masked_fill_general_(self, mask, value)


masked_fill_.__wrapped__ = masked_fill
METHODS["masked_fill_"] = masked_fill_


# NOTE [ lerp as one node ]
# lerp(input, end, weight) is input + (end - input) * weight. Built from ember ops it made
# three forward passes and, with a graph, five more in backward (the subtraction's negated
# gradient summed into input's); PyTorch's LerpBackward0/1 are one node: grad * (1 - w) and
# grad * w (and grad * (end - input) for a tensor weight). Float tensors of one dtype and
# shape (weight a number, or a 0-dim or same-shape tensor of that dtype) take these records:
# the same forward values (one threaded kernel on large host arrays), PyTorch's gradient
# formulas and node names; ONNX exports them as Sub, Mul, Add. Other calls (broadcasting,
# mixed dtypes) run the composite, whose errors are PyTorch's.
def _lerp_fwd(a, b, w):
    r = _kernel_for("lerp", a, b, w)
    return a + (b - a) * w if r is None else r


_LERP0 = OpDef("lerp", _lerp_fwd, None, node_name="LerpBackward0")
_LERP0.attrs = ("weight",)
_LERP1 = OpDef("lerp_tensor", _lerp_fwd, None, save="x", node_name="LerpBackward1")


@_LERP0.grad
def _(ctx, g):
    w, = ctx.params
    return (g * (1 - w) if ctx.next[0] is not None else None,
            g * w if ctx.next[1] is not None else None)


@_LERP1.grad
def _(ctx, g):
    a, b, w = ctx.inputs
    return (g * (1 - w) if ctx.next[0] is not None else None,
            g * w if ctx.next[1] is not None else None,
            g * (b - a) if ctx.next[2] is not None else None)


@register(method=True)
def lerp(input, end, weight, *, out=None):
    if out is not None and out.__class__ is Tensor and _into(out, "lerp", (input, end, weight)):
        return out  # NOTE [ Results written where they belong ]
    r = _fused("lerp", (input, end, weight))
    if r is not None:
        return write_out("lerp", out, r) if out is not None else r
    if input.__class__ is Tensor and end.__class__ is Tensor and \
            input._data.dtype == end._data.dtype and input._data.dtype.kind == "f" and \
            input.shape == end.shape:  # (the composite gives PyTorch's broadcast errors)
        if weight.__class__ is float or weight.__class__ is int:
            r = apply(_LERP0, (input, end), (weight,))
            return write_out("lerp", out, r) if out is not None else r
        if weight.__class__ is Tensor and weight._data.dtype == input._data.dtype and \
                (weight.ndim == 0 or weight.shape == input.shape):
            r = apply(_LERP1, (input, end, weight))
            return write_out("lerp", out, r) if out is not None else r
    # (end - input) first: a shape error then names the operands in PyTorch's order
    r = input + (end - input) * weight
    return write_out("lerp", out, r) if out is not None else r


@register(method=True)
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    if out is not None and out.__class__ is Tensor and \
            _into(out, "addcmul", (input, tensor1, tensor2, value)):
        return out  # NOTE [ Results written where they belong ]
    r = _fused("addcmul", (input, tensor1, tensor2, value))
    if r is not None:
        return write_out("addcmul", out, r) if out is not None else r
    r = input + value * tensor1 * tensor2
    return write_out("addcmul", out, r) if out is not None else r


@register(method=True)
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if all(t._data.dtype.kind in _INTLIKE for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. Use addcmul(input, tensor1, 1 / tensor2) or div instead.")
    if out is not None and out.__class__ is Tensor and \
            _into(out, "addcdiv", (input, tensor1, tensor2, value)):
        return out  # NOTE [ Results written where they belong ]
    r = _fused("addcdiv", (input, tensor1, tensor2, value))
    if r is not None:
        return write_out("addcdiv", out, r) if out is not None else r
    r = input + value * tensor1 / tensor2
    return write_out("addcdiv", out, r) if out is not None else r


def _fused(name, args):
    """A composite's result from one threaded kernel (``THREADED[name]``), or None: the
    tensors must share one dtype, need no gradient, see no dispatch mode; numbers keep
    NumPy's weak-scalar rule (they take that dtype), as the composite's ops do."""
    x = args[0]
    if not isinstance(x, Tensor) or x._data.__class__ is not _ndarray or not _plain(*args):
        return None
    dt = x._data.dtype
    ops = []
    for t in args:
        if isinstance(t, Tensor):
            if t._data.dtype != dt:
                return None
            ops.append(t._data)
        elif t.__class__ is int or t.__class__ is float:
            ops.append(t)
        else:
            return None
    r = _kernel_for(name, *ops)
    if r is None:
        # below the kernel's size (or where it declines): the composite's operations in
        # its order, on the arrays at once (ember ops cost ~1 us each in fronts)
        f = _COMPOSITE_NP.get(name)
        if f is None:
            return None
        try:
            if name == "addcdiv":
                with _np.errstate(divide="ignore", invalid="ignore"):
                    r = f(*ops)
            else:
                r = f(*ops)
        except (ValueError, TypeError):  # shapes that do not broadcast: the composite's
            return None                  # own ops raise PyTorch's errors
        if r.__class__ is not _ndarray:
            r = _asarray(r)
        if r.dtype != dt:  # (a promotion the composite's own ops would do differently)
            return None
    return Tensor._wrap(r)


# the composites of _fused as NumPy expressions, operation for operation (Python numbers
# stay weak scalars, as in the ember ops)
_COMPOSITE_NP = {
    "addcmul": lambda a, b, c, d: a + d * b * c,
    "addcdiv": lambda a, b, c, d: a + d * b / c,
    "add_alpha": lambda a, b, c: a + b * c,
    "sub_alpha": lambda a, b, c: a - b * c,
}


METHODS["addcmul_"] = _kernel_inplace(
    make_inplace(addcmul, "addcmul_"),
    lambda self, tensor1, tensor2, *, value=1: ("addcmul", (self, tensor1, tensor2, value)))
METHODS["addcdiv_"] = _kernel_inplace(
    make_inplace(addcdiv, "addcdiv_"),
    lambda self, tensor1, tensor2, *, value=1: ("addcdiv", (self, tensor1, tensor2, value)))
METHODS["lerp_"] = _kernel_inplace(make_inplace(lerp, "lerp_"),
                                   lambda self, end, weight: ("lerp", (self, end, weight)))


@register(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if isinstance(other, Tensor) and other._data.dtype != input._data.dtype:
        raise RuntimeError(f"{input.dtype._short} did not match {other.dtype._short}")
    b = other._data if isinstance(other, Tensor) else other
    try:
        return Tensor._wrap(xp.isclose(input._data, b, rtol=rtol, atol=atol,
                                       equal_nan=equal_nan))
    except ValueError:  # NumPy's broadcast error: PyTorch's RuntimeError naming the sizes
        raise shape_error("isclose", input._data, _asarray(b)) from None


@register(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@register(method=True)
def equal(input, other):
    a, b = input._data, other._data
    if a.shape != b.shape:  # the arrays' tuples: Tensor.shape builds a Size each time
        return False
    if a.size > _EQUAL_CHUNK and a.flags.c_contiguous and b.flags.c_contiguous:
        # chunk by chunk, stopping at the first difference (as PyTorch's equal does): unequal
        # tensors usually differ early, and no full-size boolean temporary is made
        a, b = a.reshape(-1), b.reshape(-1)
        if a.item(0) != b.item(0):  # differing first elements (or a NaN): 0.1 us, not 1.9
            return False
        s, n = 0, 256  # growing chunks: an early difference costs little, equal ones few calls
        while s < a.size:
            if not (a[s:s + n] == b[s:s + n]).all():
                return False
            s += n
            n = min(n * 4, 1 << 16)
        return True
    return bool((a == b).all())


_EQUAL_CHUNK = 1 << 12


@register(method=True, inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    d = input._data
    if out is not None and out.__class__ is Tensor and d.__class__ is _ndarray and \
            d.dtype.kind == "f" and _into(out, "nan_to_num", (input, *_nan_to_num_values(
                d.dtype, nan, posinf, neginf))):
        return out  # NOTE [ Results written where they belong ]
    r = None
    if d.__class__ is _ndarray and d.dtype.kind == "f" and d.size >= _KMIN_SLOW:
        r = _kernel_for("nan_to_num", d, *_nan_to_num_values(d.dtype, nan, posinf, neginf))
        if r is not None and _plain(input):
            r = Tensor._wrap(r)
            return write_out("nan_to_num", out, r) if out is not None else r
    if r is None and d.__class__ is _ndarray and d.dtype.kind in "fiub" and _plain(input):
        # no graph: a copy, and the replacements only where a value is not finite (NumPy's
        # nan_to_num costs ~10 us of Python per call, PyTorch's whole op ~1.5)
        r = d.copy()
        if r.dtype.kind == "f":
            bad = ~xp.isfinite(d)
            if bad.any():
                fi = _np.finfo(d.dtype)
                r[xp.isnan(d)] = nan
                r[d == _np.inf] = fi.max if posinf is None else posinf
                r[d == -_np.inf] = fi.min if neginf is None else neginf
        r = Tensor._wrap(r)
        return write_out("nan_to_num", out, r) if out is not None else r
    if r is None:
        r = xp.nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf)
    r = where(Tensor._wrap(xp.isfinite(d)), input, Tensor._wrap(r))
    return write_out("nan_to_num", out, r) if out is not None else r


METHODS["nan_to_num_"] = _kernel_inplace(
    METHODS["nan_to_num_"], lambda self, nan=0.0, posinf=None, neginf=None: (
        "nan_to_num", (self, *_nan_to_num_values(self._data.dtype, nan, posinf, neginf)))
    if getattr(self._data.dtype, "kind", "") == "f" else None)


def _nan_to_num_values(dt, nan, posinf, neginf):
    """nan_to_num's replacements for float dtype ``dt`` as Python floats (the kernel's)."""
    fi = _np.finfo(dt)
    return (float(nan), float(fi.max) if posinf is None else float(posinf),
            float(fi.min) if neginf is None else float(neginf))


# =============================================================================== in-place basics
@register(function=False)
def zero_(self):
    return fill_(self, 0)


@register(function=False)
def fill_(self, value):
    if GRAD.enabled and (self._requires_grad or getattr(value, "_requires_grad", False)):
        _check_inplace_autograd("fill_", self)
        return inplace_apply(_overwritten, "fill_", self, (value,), {})
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        value = value.item()
    apply(_FILL, (self,), (value,))  # bumps self's version (op.mutates)
    return self


def _fill0(x):
    """``x[...] = 0`` by memset where it applies (a writeable C-contiguous host array of a
    numeric dtype and at least 2^16 elements, whose zero is all zero bits): True when done.
    NumPy's fill loop took 69 us for 1M float32, memset 43 (PyTorch's zero_ on one thread)."""
    if x.__class__ is _ndarray and x.size >= _KMIN and x.dtype.kind in "biufc" and \
            x.flags.c_contiguous and x.flags.writeable:
        if x.size < _KMIN_PASS or not _fill0_threaded(x):
            import ctypes  # (the first call only: a cached module after)

            ctypes.memset(x.__array_interface__["data"][0], 0, x.nbytes)
        return True
    return False


def _fill0_threaded(x):
    """``copy_kernels.zero_into``: the threads' zero fill of large arrays; True when done."""
    from ember._codegen import copy_kernels

    return copy_kernels.zero_into(x)


def _fill_fwd(x, value):
    if value.__class__ in (int, float, bool) and value == 0 and \
            not (value.__class__ is float and math.copysign(1.0, value) < 0) and _fill0(x):
        return x
    try:
        if x.__class__ is _ndarray and x.size >= _KMIN_PASS and \
                value.__class__ in (int, float, bool):
            from ember._codegen.copy_kernels import fill_into

            if fill_into(x, value):
                return x
        x[...] = value
    except ValueError as e:
        raise RuntimeError(f"fill_: {e}") from None
    return x


_FILL = OpDef("fill_", _fill_fwd, None, differentiable=False, mutates=(0,), attrs=("value",),
              shape_rule=lambda x, value: x)


def _overwritten(s, v):
    """``s``'s shape filled with ``v``, still connected to ``s`` with a zero gradient, so an
    in-place fill/copy rewrites ``s``'s history (and never turns inf in ``s`` into NaN, as
    ``s * 0 + v`` would)."""
    vt = v.to(s.dtype) if isinstance(v, Tensor) else Tensor._wrap(_asarray(v, s._data.dtype))
    return where(Tensor._wrap(xp.zeros(s._data.shape, bool)), s, vt)


@register(function=False)
def copy_(self, src, non_blocking=False):  # noqa: ARG001 - a host-transfer hint: no effect on results
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' must be Tensor, not {type(src).__name__}")
    if GRAD.enabled and (self._requires_grad or src._requires_grad):
        _check_inplace_autograd("copy_", self)
        return inplace_apply(_overwritten, "copy_", self, (src,), {})
    if src._data.__class__ is not self._data.__class__ and src.device != self.device:
        src = src.to(self.device)  # copy_ crosses devices, as in PyTorch
    try:
        apply(COPY_INTO, (self, src), ("copy_()",))  # bumps self's version (op.mutates)
    except RuntimeError as e:
        raise RuntimeError(f"copy_(): the size of src {list(src.shape)} must be broadcastable "
                           f"to self {list(self.shape)} ({e})") from None
    return self


@register(method=True)
def clone(input, *, memory_format=None):  # noqa: ARG001 - a memory-format hint: results are the same in any format
    return apply(_CLONE, (input,))


def _clone_fwd(x):
    if x.__class__ is _ndarray and x.size >= _KMIN_PASS:
        from ember._codegen import copy_kernels  # the threaded copy (None: does not apply)

        r = copy_kernels.copy(x)
        if r is not None:
            return r
    return x.copy()


_CLONE = OpDef("clone", _clone_fwd, lambda n, g: (g,), onnx="Identity")
