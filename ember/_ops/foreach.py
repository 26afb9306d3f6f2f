"""PyTorch's ``torch._foreach_*`` family: one op applied to every tensor of a list.

Optimizers (``ember.optim``) and EMA/SWA code update hundreds of parameters per step; these
ops let them do it in a few dispatches instead of a few per parameter, on whatever backend the
arrays live on.

NOTE [ Foreach records ]
Each ``_foreach_<op>`` and ``_foreach_<op>_`` is one ``OpDef``. Its inputs are *lists* of
tensors (``self``, and for list overloads ``other``/``tensor1``/``tensor2``/``weight``), so
its forward takes one list of raw arrays per tensor-list argument, then the named attributes:
``fwd(lists, *attrs)``. ``mutates=(0,)`` on the in-place records means "every tensor of the
first list" (the fused optimizer records mutate several lists). Overloads share a record: a
Python number or a tuple of numbers (one per tensor) travels in the
``scalar``/``value``/``weight`` attribute; a single 0-dim tensor travels as a second list of
length one, broadcast over the first. Forwards take their array module from
the arrays (``xp_of``) and update in place with ``out=``, so nothing is allocated per tensor
beyond what the arithmetic needs.

``_dispatch`` is the one way into these records: it passes them to the spine's
``core.dispatch`` with the tensor lists as inputs (so interception modes see each call once,
lists and all), which runs ``op.impl``. Without autograd that runs the forward on the
raw arrays, then wraps the outputs (out-of-place) or bumps the version of every mutated
tensor (in-place; the public in-place ops return the list they were given, the fused
records None, as PyTorch's do). When grad mode is on and a tensor needs
a gradient, it runs the record's per-tensor composite of ordinary ember ops instead, so
gradients flow (out-of-place) and in-place history rewriting and leaf checks behave exactly as
for ``Tensor.add_`` and friends. ``Optimizer(differentiable=True)`` relies on that.

Arithmetic follows PyTorch's CPU kernels operation by operation: ``addcdiv`` computes
``self + (value * t1) / t2``, ``addcmul`` ``self + (value * t1) * t2``, ``lerp`` the
two-sided formula that is exact at both ends, and Python numbers take the array's dtype
(NumPy's NEP 50 rule, the same as PyTorch's wrapped scalars).

Example::

    >>> ps = [ember.ones(2), ember.zeros(3)]
    >>> _ = ember._foreach_mul_(ps, 0.5)  # in place; returns ps
    >>> ember._foreach_add(ps, 1.0)[0]
    tensor([1.5000, 1.5000])
"""

from __future__ import annotations

import math as _math
import numbers
import operator as _operator

from ember import _dtype as D
from ember._backends import DEFAULT, backend_of, xp_of
from ember._graph import GRAD
from ember._ops import elementwise as _E
from ember._ops.core import OpDef, dispatch, register, wrap
from ember._tensor import Tensor

__all__: list[str] = []  # filled by _publish

_NP = DEFAULT.xp  # the host backend's array module
_HOST = _NP.ndarray  # the host backend's array class (for a host-only fast path)


# =============================================================================== dispatch
def _needs_grad(lists):
    for lst in lists:
        for t in lst:
            if t._requires_grad:
                return True
    return False


# The one way into the records: ``core.dispatch`` with the tensor lists as inputs, so that
# interception modes see each call once, lists and all (NOTE [ Foreach records ]); it returns
# a list of tensors (out-of-place) or None (in-place). An alias, not a wrapper: one frame
# less per call.
_dispatch = dispatch


def _impl(op, lists, params):
    """The records' path below the modes (``op.impl``)."""
    if GRAD.enabled:
        for lst in lists:
            for t in lst:
                if t._requires_grad:
                    return _SLOW[op.name](lists, params)
    if len(lists) == 1:
        arrays = ([t._data for t in lists[0]],)
    else:
        arrays = tuple([[t._data for t in lst] for lst in lists])
    mutates = op.mutates
    try:
        if mutates and arrays[0] and arrays[0][0].__class__ is not _HOST and \
                backend_of(arrays[0][0]).device_type == "meta":
            pass  # writes into data-less arrays are no-ops (and steps have no value)
        else:
            out = op.fwd(arrays, *params)
    except (TypeError, ValueError) as e:  # NumPy casting / broadcasting / read-only errors
        raise RuntimeError(f"{op.name}(): {e} (shapes "
                           f"{[[list(a.shape) for a in lst] for lst in arrays]})") from None
    if mutates:
        for i in mutates:
            for t in lists[i]:  # Tensor._bump, inlined: one per tensor adds up
                c = t._vc
                if c is None:
                    t._vc = [1]
                else:
                    c[0] += 1
        return None
    return [wrap(a) for a in out]


# record name -> its per-tensor composite ``slow(lists, params)`` of ordinary ember ops, run
# under autograd (NOTE [ Foreach records ]). Kept beside the records, not in a subclass: test
# and interception code swap a record's class, which needs OpDef's exact slot layout.
_SLOW: dict = {}


def _record(name, fwd, slow, attrs, doc, mutates=(0,)):
    inplace = name.endswith("_")
    op = OpDef(name, fwd, None, differentiable=False, multi=not inplace,
               mutates=mutates if inplace else (), attrs=attrs,
               kind="elementwise" if mutates == (0,) else "opaque", doc=doc)
    op.impl = _impl
    _SLOW[name] = slow
    return op


def _publish(fn, name):
    """Publish ``fn`` as ``ember.<name>`` (PyTorch's in-place foreach ops return the very list
    they were given: their wrappers return ``self``)."""
    fn.__name__ = fn.__qualname__ = name
    register(fn, name=name, method=False)
    __all__.append(name)
    return fn


# =============================================================================== arguments
_LIST_CLASSES = {Tensor}  # Tensor and the subclasses met in lists so far (Parameter, ...)


def _tensor_list(name, arg, value, n=None):
    if value.__class__ in (list, tuple) and _LIST_CLASSES.issuperset(map(type, value)) and (
            len(value) == n if n is not None else value):
        return list(value)  # (the common case: one pass over the classes at C speed)
    if isinstance(value, Tensor) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name}(): argument '{arg}' must be a list of Tensors, not "
                        f"{type(value).__name__}")
    for c in set(map(type, value)):  # (one check per class: lists run to hundreds)
        if not issubclass(c, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be a list of Tensors, but it "
                            f"holds a {c.__name__}")
        _LIST_CLASSES.add(c)
    if n is None:
        if not value:
            raise RuntimeError(f"{name}(): Tensor list must have at least one tensor.")
    elif len(value) != n:
        raise RuntimeError(f"{name}(): Tensor lists must have the same number of tensors, got "
                           f"{n} and {len(value)}")
    return list(value)


def _number(name, arg, v):
    """A Python number from a number, a NumPy scalar or a one-element tensor."""
    if isinstance(v, (bool, int, float, complex)):
        return v
    if isinstance(v, numbers.Number):  # a NumPy scalar: as a Python number, so that it takes
        return v.item() if hasattr(v, "item") else v  # the array's dtype (NEP 50)
    if isinstance(v, Tensor) and v.numel() == 1:
        return v.item()
    raise TypeError(f"{name}(): argument '{arg}' must be a Number, a list of Numbers or of "
                    f"Tensors, or a Tensor, not {type(v).__name__}")


def _scalars(name, arg, values, n):
    if len(values) != n:
        raise RuntimeError(f"{name}(): Tensor list must have same number of elements as scalar "
                           f"list ({n} tensors, {len(values)} scalars)")
    return tuple(_number(name, arg, v) for v in values)


def _other(name, xs, other, arg="other"):
    """Split an overloaded ``other`` into (extra tensor lists, scalar attribute)."""
    if other.__class__ is float or other.__class__ is int:
        return None, other
    if isinstance(other, Tensor):
        if other.dim() != 0:
            raise RuntimeError(f"{name}(): scalar tensor expected to be 0 dim but it has "
                               f"{other.dim()} dimensions")
        return [other], None
    if isinstance(other, (list, tuple)):
        if other and all(isinstance(t, Tensor) for t in other):
            return _tensor_list(name, arg, other, len(xs)), None
        return None, _scalars(name, arg, other, len(xs))
    return None, _number(name, arg, other)


def _each(scalar, n):
    return scalar if isinstance(scalar, tuple) else (scalar,) * n


def _others(lists):
    """The second list, a one-tensor list broadcast over the first."""
    xs, ys = lists[0], lists[1]
    return ys * len(xs) if len(ys) == 1 and len(xs) != 1 else ys


# =============================================================================== dtypes
def _result_np(x, other_arr=None, scalar=None, true_div=False):
    """PyTorch's result dtype (as a NumPy dtype) of ``x op other`` (array or scalar)."""
    dx = D.FROM_NP[x.dtype]
    if other_arr is not None:
        r = D.result_type_tt(dx, x.ndim == 0, D.FROM_NP[other_arr.dtype], other_arr.ndim == 0)
    elif scalar is not None:
        r = D.result_type_ts(dx, scalar)
    else:
        r = dx
    if true_div and r.category < D.FLOAT:
        r = D.get_default_dtype()
    return r.np


def _kernel(name, operands, out=None, expr=None):
    """The threaded kernel of elementwise op ``name`` (NOTE [ Threaded elementwise kernels ])
    on one tensor's raw operands, written into ``out`` when given, or None: a small or
    non-host first operand, or a call the kernels do not cover (the caller's NumPy code then
    runs)."""
    x = operands[0]
    if x.__class__ is not _HOST:
        return None
    entry = _E.THREADED.get(name)
    if entry is None or x.size < entry[2]:
        return None
    texpr, kinds, _ = entry
    return _E._threaded(expr or texpr or _E.OPS[name].expr, kinds, operands, out)


def _kernel_of(name, expr=None):
    """``(expression, kinds, minimum size)`` of elementwise op ``name``'s threaded kernel
    (NOTE [ Threaded elementwise kernels ]), or None: looked up once per call, not once per
    tensor (``_kernel`` does both)."""
    entry = _E.THREADED.get(name)
    if entry is None:
        return None
    texpr, kinds, kmin = entry
    return expr or texpr or _E.OPS[name].expr, kinds, kmin


def _cast(r, dt):
    if not getattr(r, "ndim", 0):  # NumPy returns scalars for 0-dim results
        r = xp_of(r).asarray(r)
    return r if r.dtype == dt else r.astype(dt)


class _Scratch:
    """Temporaries for an in-place kernel: one flat buffer per dtype, sized for the largest
    tensor of the call, handed out as views shaped like each tensor. Fresh memory costs page
    faults on every first touch, so one buffer per call is much cheaper than one per tensor.
    """

    __slots__ = ("xp", "sizes", "bufs")

    def __init__(self, xp, arrays):
        self.xp = xp
        sizes = {}
        for a in arrays:
            d = a.dtype
            if a.size > sizes.get(d, -1):
                sizes[d] = a.size
        self.sizes = sizes
        self.bufs = {}

    def like(self, a):
        """Scratch space shaped and typed like ``a`` (contents undefined)."""
        d = a.dtype
        b = self.bufs.get(d)
        if b is None:
            b = self.bufs[d] = self.xp.empty(self.sizes.get(d, a.size), d)
        if b.size < a.size:  # a dtype only met through promotion
            b = self.bufs[d] = self.xp.empty(a.size, d)
        return b[:a.size].reshape(a.shape)


# =============================================================================== binary family
_BINARY = {  # name -> (array-module function, ember method for the composite, true division)
    "add": ("add", "add", False),
    "sub": ("subtract", "sub", False),
    "mul": ("multiply", "mul", False),
    "div": ("divide", "div", True),
    "maximum": ("maximum", "maximum", False),
    "minimum": ("minimum", "minimum", False),
}
_HAS_ALPHA = ("add", "sub")


# maximum/minimum with a number: NumPy's loop with a broadcast scalar runs ~4x slower than
# with two arrays (no vectorised path for a zero stride); clamp's threaded kernels compute the
# same NaN-propagating maximum(x, s) / minimum(x, s).
_SCALAR_KERNEL = {"maximum": "clamp_min", "minimum": "clamp_max"}


def _py_div(v, s):
    return v / s if s else None  # (x / 0 gives inf or NaN by sign rules: NumPy's)


def _py_max(v, s):
    if v > s or v == s and v:  # (equal non-zero values have the same bits)
        return v
    # (±0 ties and NaN: NumPy decides which operand)
    return s if s > v else None


def _py_min(v, s):
    if v < s or v == s and v:
        return v
    return s if s < v else None


# NOTE [ 0-dim foreach operands in Python ]
# A ufunc call on a 0-dim array costs ~1 us (~2 with the result's re-wrapping): more than the
# rest of a small list's call. Where the operation is one correctly rounded IEEE operation
# (+, -, *, / and sqrt) or a choice between its operands (maximum, minimum, neg, abs, sign),
# a 0-dim float operand (float16/32/64) runs on Python floats instead: the operands are
# exact in float64, the float64 result of +, -, *, / or sqrt of two values of a p-bit format
# rounds back to that format to the same value as the operation done in it (53 >= 2p + 2),
# and the store rounds once. The number operand is rounded to the array's dtype first, as
# NumPy does (NEP 50). NaN results, zero divisors and ties of maximum/minimum (±0) are left
# to NumPy (the helpers return None, or the caller sees the NaN), so NaN payloads and signs
# and signed zeros stay NumPy's (before issue 18 the add/sub/mul path stored Python's NaN:
# NaN * NaN kept the number's payload where NumPy's in-place loop keeps the array's).
_PY_OPS = {"add": float.__add__, "subtract": float.__sub__, "multiply": float.__mul__,
           "divide": _py_div, "maximum": _py_max, "minimum": _py_min}


def _binary_fwds(short, ufunc, true_div):
    sshort = _SCALAR_KERNEL.get(short, short)
    py = _PY_OPS.get(ufunc)

    def fwd_(lists, scalar, alpha):
        xs = lists[0]
        x0 = xs[0]
        xp = _NP if x0.__class__ is _HOST else xp_of(x0)
        f = getattr(xp, ufunc)
        if len(lists) == 1:
            k = _kernel_of(sshort)
            each = scalar.__class__ is tuple
            s = scalar
            last = rounded = None
            for i, x in enumerate(xs):
                if each:
                    s = scalar[i]
                if x.__class__ is _HOST:
                    if not x.ndim:
                        if py is not None and x.dtype.kind == "f" and \
                                s.__class__ in (int, float):
                            # NOTE [ 0-dim foreach operands in Python ] (optimizer steps,
                            # NAdam's mu_product, ...)
                            if (x.dtype, s) != last:  # (one conversion per dtype and scalar)
                                last = (x.dtype, s)
                                rounded = float(x.dtype.type(s))
                            v = py(float(x), rounded)
                            if v is not None and v == v:
                                x[()] = v
                                continue
                    elif k is not None and x.size >= k[2] and \
                            _E._threaded(k[0], k[1], (x, s), x) is not None:
                        continue
                f(x, s, out=x)
        elif alpha == 1:
            k = _kernel_of(short)
            for x, y in zip(xs, _others(lists)):
                if k is not None and x.__class__ is _HOST and x.size >= k[2] and \
                        _E._threaded(k[0], k[1], (x, y), x) is not None:
                    continue
                f(x, y, out=x)
        else:
            mul = xp.multiply
            for x, y in zip(xs, _others(lists)):
                if _kernel(short + "_alpha", (x, y, alpha), x) is None:
                    f(x, mul(y, alpha), out=x)

    def fwd(lists, scalar, alpha):
        xs = lists[0]
        x0 = xs[0]
        xp = _NP if x0.__class__ is _HOST else xp_of(x0)
        f = getattr(xp, ufunc)
        out = []
        if len(lists) == 1:
            k = _kernel_of(sshort)
            each = scalar.__class__ is tuple
            s = scalar
            last = rounded = key = dt = None
            for i, x in enumerate(xs):
                if each:
                    s = scalar[i]
                r = None
                if x.__class__ is _HOST:
                    if not x.ndim:
                        if py is not None and x.dtype.kind == "f" and \
                                s.__class__ in (int, float):
                            # NOTE [ 0-dim foreach operands in Python ]: a number and a
                            # float tensor give the tensor's dtype
                            if (x.dtype, s) != last:
                                last = (x.dtype, s)
                                rounded = float(x.dtype.type(s))
                            v = py(float(x), rounded)
                            if v is not None and v == v:
                                out.append(_NP.asarray(v, x.dtype))
                                continue
                    elif k is not None and x.size >= k[2] and (
                            not true_div or x.dtype.kind == "f"):
                        r = _E._threaded(k[0], k[1], (x, s))
                if (x.dtype, s.__class__) != key:  # (the result dtype: once per class pair)
                    key = (x.dtype, s.__class__)
                    dt = _result_np(x, scalar=s, true_div=true_div)
                out.append(_cast(f(x, s) if r is None else r, dt))
        else:
            mul = xp.multiply
            k = _kernel_of(short) if alpha == 1 else None
            for x, y in zip(xs, _others(lists)):
                if alpha == 1:
                    r = None
                    if k is not None and x.__class__ is _HOST and x.size >= k[2] and (
                            not true_div or x.dtype.kind == "f"):
                        r = _E._threaded(k[0], k[1], (x, y))
                    r = f(x, y) if r is None else r
                else:
                    r = _kernel(short + "_alpha", (x, y, alpha))
                    r = f(x, mul(y, alpha)) if r is None else r
                out.append(_cast(r, _result_np(x, y, true_div=true_div)))
        return out

    return fwd_, fwd


def _binary_slow(method, inplace):
    def slow(lists, params):
        scalar, alpha = params
        xs = lists[0]
        kw = {"alpha": alpha} if alpha != 1 else {}
        if len(lists) == 1:
            pairs = zip(xs, _each(scalar, len(xs)))
        else:
            pairs = zip(xs, _others(lists))
        if method in ("maximum", "minimum"):
            # maximum with a number is clamp; a tensor is used as the other operand directly.
            def op(x, o):
                if isinstance(o, Tensor):
                    return getattr(x, method)(o)
                return x.clamp_min(o) if method == "maximum" else x.clamp_max(o)
            if not inplace:
                return [op(x, o) for x, o in pairs]
            for x, o in pairs:
                # on a clone: the op saves its input, which copy_ is about to overwrite
                x.copy_(op(x.clone(), o))
            return None
        if not inplace:
            return [getattr(x, method)(o, **kw) for x, o in pairs]
        for x, o in pairs:
            getattr(x, method + "_")(o, **kw)
        return None

    return slow


def _make_binary(short, ufunc, method, true_div):
    fwd_, fwd = _binary_fwds(short, ufunc, true_div)
    has_alpha = short in _HAS_ALPHA
    for inplace, f in ((False, fwd), (True, fwd_)):
        name = f"_foreach_{short}" + ("_" if inplace else "")
        op = _record(name, f, _binary_slow(method, inplace), ("scalar", "alpha"),
                     f"``{short}`` of every tensor of a list with a number, a list of numbers, "
                     "a list of tensors or one 0-dim tensor.")

        def wrapper(self, other, *, alpha=1, _op=op, _name=name, _inplace=inplace):
            xs = _tensor_list(_name, "self", self)
            more, scalar = _other(_name, xs, other)
            if alpha != 1:
                if not has_alpha:
                    raise TypeError(f"{_name}() got an unexpected keyword argument 'alpha'")
                if more is None:
                    raise TypeError(f"{_name}(): 'alpha' is only accepted with a tensor or a "
                                    "list of tensors as 'other'")
                alpha = _number(_name, "alpha", alpha)
            r = _dispatch(_op, (xs,) if more is None else (xs, more), (scalar, alpha))
            return self if _inplace else r

        wrapper.__doc__ = f"""``torch.{name}``: {op.doc}

        Args:
            self: list of tensors{' (updated in place; returned)' if inplace else ''}.
            other: a number, a list of numbers or of tensors (one per tensor), or a 0-dim
                tensor.
            alpha: multiplier of ``other`` when it holds tensors{'' if has_alpha else
                                                                  ' (not accepted)'}.

        Example::

            >>> ember.{name}([ember.ones(2)], 2.0)
        """
        _publish(wrapper, name)


for _short, (_uf, _meth, _td) in _BINARY.items():
    _make_binary(_short, _uf, _meth, _td)


# =============================================================================== addcmul / addcdiv
# NOTE [ Small foreach operands ]
# Below ~4096 elements a tensor's cost is the number of NumPy calls, not their work. When a
# tensor's operands are host arrays of its shape and dtype (the optimizer case), the
# pointwise and lerp records skip the threaded-kernel checks and the shared scratch buffer:
# a temporary of a few KiB comes from NumPy's allocator cache, and the same ufuncs run in
# the same order and dtype, so the values are the same. A 0-dim tensor runs the same
# sequence on NumPy scalars (``a[()]``): NumPy's scalar arithmetic is the ufuncs' C operation
# on one element, a tenth of a 0-dim ufunc call.
_SMALL = 4096


def _small_same(x, a, b=None):
    """Whether NOTE [ Small foreach operands ] applies: ``x`` a small host array, ``a`` (and
    ``b``) host arrays of its shape and dtype."""
    if x.__class__ is not _HOST or x.size >= _SMALL:
        return False
    shape, dt = x.shape, x.dtype
    if a.__class__ is not _HOST or a.shape != shape or a.dtype != dt:
        return False
    return b is None or b.__class__ is _HOST and b.shape == shape and b.dtype == dt


def _pointwise_fwds(short, ufunc):
    op = _operator.mul if ufunc == "multiply" else _operator.truediv  # (on NumPy scalars)

    def fwd_(lists, value):
        xs, t1s, t2s = lists
        xp = _NP if xs[0].__class__ is _HOST else xp_of(xs[0])
        f, mul, add = getattr(xp, ufunc), xp.multiply, xp.add
        scratch = None
        for x, a, b, v in zip(xs, t1s, t2s, _each(value, len(xs))):
            if _small_same(x, a, b) and x.dtype.kind in "fc" and v.__class__ is not complex:
                # NOTE [ Small foreach operands ]: the ops below, in their order
                if not x.ndim:
                    av = a[()]
                    x[()] = x[()] + op(av if v == 1 else av * v, b[()])
                else:
                    tmp = f(a, b) if v == 1 else f(mul(a, v), b)
                    add(x, tmp, out=x)
                continue
            if _kernel(short, (x, a, b, v), x) is not None:  # one threaded pass
                continue
            # PyTorch's CPU kernel: self + value * t1 OP t2, evaluated left to right, in
            # self's dtype
            if a.shape == x.shape:
                if scratch is None:
                    scratch = _Scratch(xp, xs)
                tmp = scratch.like(x)
            else:
                tmp = xp.empty(xp.broadcast_shapes(a.shape, b.shape), x.dtype)
            if v == 1:  # 1 * t1 is t1 exactly: skip that pass
                f(a, b, out=tmp, casting="same_kind")
            else:
                mul(a, v, out=tmp, casting="same_kind")
                f(tmp, b, out=tmp, casting="same_kind")
            add(x, tmp, out=x)

    def fwd(lists, value):
        xs, t1s, t2s = lists
        xp = _NP if xs[0].__class__ is _HOST else xp_of(xs[0])
        f, mul = getattr(xp, ufunc), xp.multiply
        out = []
        for x, a, b, v in zip(xs, t1s, t2s, _each(value, len(xs))):
            if not x.ndim and _small_same(x, a, b) and x.dtype.kind in "fc" and \
                    v.__class__ is not complex:
                # NOTE [ Small foreach operands ]: NumPy scalars, as the 0-dim ufuncs give
                av = a[()]
                out.append(_NP.asarray(x[()] + op(av if v == 1 else av * v, b[()])))
                continue
            r = _kernel(short, (x, a, b, v))
            if r is None:
                tmp = mul(a, v) if v != 1 else a
                r = x + f(tmp, b)
            out.append(_cast(r, _result_np(x, a)))
        return out

    return fwd_, fwd


def _pointwise_slow(method, inplace):
    def slow(lists, params):
        (value,) = params
        xs, t1s, t2s = lists
        res = [getattr(x, method + ("_" if inplace else ""))(a, b, value=v)
               for x, a, b, v in zip(xs, t1s, t2s, _each(value, len(xs)))]
        return None if inplace else res

    return slow


def _make_pointwise(short, ufunc):
    fwd_, fwd = _pointwise_fwds(short, ufunc)
    for inplace, f in ((False, fwd), (True, fwd_)):
        name = f"_foreach_{short}" + ("_" if inplace else "")
        op = _record(name, f, _pointwise_slow(short, inplace), ("value",),
                     f"``self + value * tensor1 {'*' if short == 'addcmul' else '/'} tensor2``"
                     " for every tensor of a list.")

        def wrapper(self, tensor1, tensor2, value=1, _op=op, _name=name, _inplace=inplace):
            xs = _tensor_list(_name, "self", self)
            t1 = _tensor_list(_name, "tensor1", tensor1, len(xs))
            t2 = _tensor_list(_name, "tensor2", tensor2, len(xs))
            if value.__class__ is not int and value.__class__ is not float:
                if isinstance(value, Tensor) and value.dim() == 1:
                    value = value.tolist()  # PyTorch's Tensor overload: one per tensor
                if isinstance(value, (list, tuple)):
                    value = _scalars(_name, "scalars", value, len(xs))
                else:
                    value = _number(_name, "value", value)
            r = _dispatch(_op, (xs, t1, t2), (value,))
            return self if _inplace else r

        wrapper.__doc__ = f"""``torch.{name}``: {op.doc}

        Args:
            self: list of tensors{' (updated in place; returned)' if inplace else ''}.
            tensor1, tensor2: lists of tensors, one per tensor of ``self``.
            value: a number, a list of numbers or a 1-D tensor of them (one per tensor).

        Example::

            >>> ember.{name}([ember.ones(2)], [ember.ones(2)], [ember.ones(2)], 0.5)
        """
        _publish(wrapper, name)


_make_pointwise("addcmul", "multiply")
_make_pointwise("addcdiv", "divide")


# =============================================================================== lerp
def _lerp_into(xp, x, end, w, out, scratch=None):
    """PyTorch's lerp: ``x + w (end - x)`` for |w| < 0.5, else ``end - (end - x)(1 - w)``;
    ``scratch``: a ``_Scratch`` for the temporary when ``end`` has ``out``'s shape (taken only
    where the threaded kernel does not run: a view of the call's one buffer)."""
    if out.flags.c_contiguous:  # one threaded pass on large host arrays
        if isinstance(w, (int, float)):
            hi = abs(w) >= 0.5
            r = _kernel("lerp", (x, end, 1 - w if hi else w), out, _LERP_FOREACH[hi])
        else:
            r = _kernel("lerp", (x, end, w), out, _LERP_TENSOR)
        if r is not None:
            return out
    if isinstance(w, (int, float)):
        tmp = scratch.like(out) if scratch is not None else None
        if tmp is None:
            tmp = xp.subtract(end, x)
            if not tmp.ndim:
                tmp = xp.asarray(tmp)
        else:
            xp.subtract(end, x, out=tmp)
        if abs(w) < 0.5:
            xp.multiply(tmp, w, out=tmp)
            xp.add(x, tmp, out=out)
        else:
            xp.multiply(tmp, 1 - w, out=tmp)
            xp.subtract(end, tmp, out=out)
        return out
    tmp = xp.subtract(end, x)
    # tensor weights: choose the formula per element
    small = xp.abs(w) < 0.5
    lo = x + w * tmp
    hi = end - tmp * (1 - w)
    xp.copyto(out, xp.where(small, lo, hi), casting="same_kind")
    return out


# the two formulas as kernel expressions (a: self, b: end, c: weight), in the order above;
# a scalar weight picks one, and the second takes 1 - weight as its scalar
_LERP_FOREACH = {False: "a + (b - a) * c", True: "b - (b - a) * c"}
_LERP_TENSOR = "where(abs(c) < 0.5, a + c * (b - a), b - (b - a) * (1 - c))"


def _lerp_small(x, e, w, out):
    """``_lerp_into`` for a number weight on operands of NOTE [ Small foreach operands ]
    (``out`` None: a new array): the same ufuncs in the same order, or NumPy scalars for
    0-dim operands."""
    if not x.ndim:
        xv, ev = x[()], e[()]
        r = xv + (ev - xv) * w if abs(w) < 0.5 else ev - (ev - xv) * (1 - w)
        if out is None:
            return _NP.asarray(r)
        out[()] = r
        return out
    tmp = _NP.subtract(e, x)
    if abs(w) < 0.5:
        _NP.multiply(tmp, w, out=tmp)
        return _NP.add(x, tmp, out=out)
    _NP.multiply(tmp, 1 - w, out=tmp)
    return _NP.subtract(e, tmp, out=out)


def _lerp_fwd_(lists, weight):
    xs, ends = lists[0], lists[1]
    xp = _NP if xs[0].__class__ is _HOST else xp_of(xs[0])
    ws = lists[2] if len(lists) == 3 else _each(weight, len(xs))
    scratch = None
    for x, e, w in zip(xs, ends, ws):
        if w.__class__ in (int, float) and x.dtype.kind == "f" and _small_same(x, e):
            _lerp_small(x, e, w, x)
            continue
        if e.shape == x.shape and scratch is None:
            scratch = _Scratch(xp, xs)  # (no memory until a tensor takes NumPy's path)
        _lerp_into(xp, x, e, w, x, scratch if e.shape == x.shape else None)


def _lerp_fwd(lists, weight):
    xs, ends = lists[0], lists[1]
    xp = _NP if xs[0].__class__ is _HOST else xp_of(xs[0])
    ws = lists[2] if len(lists) == 3 else _each(weight, len(xs))
    out = []
    for x, e, w in zip(xs, ends, ws):
        if w.__class__ in (int, float) and x.dtype.kind == "f" and _small_same(x, e):
            out.append(_lerp_small(x, e, w, None))
            continue
        dt = _result_np(x, e)
        shape = x.shape if e.shape == x.shape else xp.broadcast_shapes(x.shape, e.shape)
        out.append(_lerp_into(xp, x, e, w, xp.empty(shape, dt)))
    return out


def _lerp_slow(inplace):
    def slow(lists, params):
        (weight,) = params
        xs, ends = lists[0], lists[1]
        ws = lists[2] if len(lists) == 3 else _each(weight, len(xs))
        res = [getattr(x, "lerp_" if inplace else "lerp")(e, w) for x, e, w in zip(xs, ends, ws)]
        return None if inplace else res

    return slow


for _inplace, _f in ((False, _lerp_fwd), (True, _lerp_fwd_)):
    _name = "_foreach_lerp" + ("_" if _inplace else "")
    _op = _record(_name, _f, _lerp_slow(_inplace), ("weight",),
                  "``self + weight * (end - self)`` for every tensor of a list.")

    def _lerp_wrapper(self, tensors1, weight, _op=_op, _name=_name, _inplace=_inplace):
        xs = _tensor_list(_name, "self", self)
        ends = _tensor_list(_name, "tensors1", tensors1, len(xs))
        if isinstance(weight, (list, tuple)) and weight and all(
                isinstance(w, Tensor) for w in weight):
            r = _dispatch(_op, (xs, ends, _tensor_list(_name, "weights", weight, len(xs))),
                          (None,))
        else:
            if isinstance(weight, (list, tuple)):
                w = _scalars(_name, "weight", weight, len(xs))
            else:
                w = _number(_name, "weight", weight)
            r = _dispatch(_op, (xs, ends), (w,))
        return self if _inplace else r

    _lerp_wrapper.__doc__ = f"""``torch.{_name}``: {_op.doc}

    Args:
        self: list of tensors{' (updated in place; returned)' if _inplace else ''}.
        tensors1: list of end points, one per tensor.
        weight: a number, a list of numbers, or a list of tensors (one per tensor).

    Example::

        >>> ember.{_name}([ember.zeros(2)], [ember.ones(2)], 0.25)
    """
    _publish(_lerp_wrapper, _name)


# =============================================================================== unary family
_UNARY = {  # name -> (array-module function, ember method, result is floating)
    "sqrt": ("sqrt", "sqrt", True),
    "neg": ("negative", "neg", False),
    "sign": ("sign", "sign", False),
    "abs": ("abs", "abs", False),
    "reciprocal": ("reciprocal", "reciprocal", True),
    "exp": ("exp", "exp", True),
}


def _py_sign(v):
    return 1.0 if v > 0 else -1.0 if v < 0 else 0.0  # (±0 and NaN give +0, as PyTorch)


# one-operand forms of NOTE [ 0-dim foreach operands in Python ]: None sends the value to
# NumPy (NaN for neg/abs, whose sign bit NumPy flips or clears; sqrt of a negative; 1 / ±0)
_PY_UNARY = {
    "neg": lambda v: -v if v == v else None,
    "abs": lambda v: abs(v) if v == v else None,
    "sqrt": lambda v: _math.sqrt(v) if v >= 0 else None,
    "reciprocal": lambda v: 1.0 / v if v and v == v else None,
    "sign": _py_sign,
}


_VDOT_DTYPES = (_NP.dtype("float32"), _NP.dtype("float64"))  # (BLAS dots; float16's is slow)


def _sign_has_nan(r):
    """Whether ``sign``'s float output ``r`` holds a NaN: the sum of its squares (each 0 or
    1 otherwise) is NaN exactly then, one BLAS pass instead of ``isnan``'s mask (other
    dtypes and backends: ``isnan``)."""
    if r.__class__ is _HOST and r.dtype in _VDOT_DTYPES and r.ndim:
        d = _NP.vdot(r, r)
        return d != d
    return bool(xp_of(r).isnan(r).any())


def _make_unary(short, ufunc, method, floating):
    threaded = short in _E.THREADED
    py = _PY_UNARY.get(short)

    def fwd_(lists):
        xs = lists[0]
        x0 = xs[0]
        xp = _NP if x0.__class__ is _HOST else xp_of(x0)
        f = getattr(xp, ufunc)
        k = _kernel_of(short) if threaded else None
        for x in xs:
            if x.__class__ is _HOST:
                if not x.ndim:
                    if py is not None and x.dtype.kind == "f":
                        v = py(float(x))  # NOTE [ 0-dim foreach operands in Python ]
                        if v is not None:
                            x[()] = v
                            continue
                elif k is not None and x.size >= k[2] and \
                        _E._threaded(k[0], k[1], (x,), x) is not None:
                    continue
            f(x, out=x)
            if short == "sign" and x.dtype.kind == "f" and _sign_has_nan(x):
                xp.copyto(x, 0, where=xp.isnan(x))  # sign(NaN) is 0, as ember.sign

    def fwd(lists):
        xs = lists[0]
        x0 = xs[0]
        f = getattr(_NP if x0.__class__ is _HOST else xp_of(x0), ufunc)
        k = _kernel_of(short) if threaded else None
        out = []
        for x in xs:
            if py is not None and x.__class__ is _HOST and not x.ndim and x.dtype.kind == "f":
                v = py(float(x))  # NOTE [ 0-dim foreach operands in Python ]
                if v is not None:
                    out.append(_NP.asarray(v, x.dtype))
                    continue
            src = x
            if floating and x.dtype.kind in "biu":
                src = x.astype(D.get_default_dtype().np)
            elif x.dtype.kind == "b" and short in ("neg", "sign"):
                if short == "neg":
                    raise RuntimeError("_foreach_neg(): Negation, the `-` operator, on a bool "
                                       "tensor is not supported.")
                out.append(x.copy())
                continue
            if short == "sign" and src.dtype.kind in "fiu":
                if src.__class__ is _HOST and src.size < _E._KMIN_SLOW and \
                        src.dtype in _VDOT_DTYPES:
                    # _E._sign's NumPy path, its NaN select only where there is a NaN
                    r = _NP.sign(src)
                    if _sign_has_nan(r):
                        r = _NP.where(_NP.isnan(src), src.dtype.type(0), r)
                else:
                    r = _E._sign(src)  # NaN gives 0, as PyTorch; threaded on large arrays
            else:
                r = None
                if k is not None and src.__class__ is _HOST and src.size >= k[2]:
                    r = _E._threaded(k[0], k[1], (src,))
                r = f(src) if r is None else r
            out.append(_cast(r, src.dtype if ufunc != "abs" or src.dtype.kind != "c"
                             else src.real.dtype))
        return out

    def slow(lists, params, _inplace):
        del params
        res = [getattr(x, method + ("_" if _inplace else ""))() for x in lists[0]]
        return None if _inplace else res

    for inplace, f in ((False, fwd), (True, fwd_)):
        name = f"_foreach_{short}" + ("_" if inplace else "")
        op = _record(name, f, lambda ls, ps, _i=inplace: slow(ls, ps, _i), (),
                     f"``{short}`` of every tensor of a list.")

        def wrapper(self, _op=op, _name=name, _inplace=inplace):
            r = _dispatch(_op, (_tensor_list(_name, "self", self),), ())
            return self if _inplace else r

        wrapper.__doc__ = f"""``torch.{name}``: {op.doc}

        Args:
            self: list of tensors{' (updated in place; returned)' if inplace else ''}.

        Example::

            >>> ember.{name}([ember.ones(2)])
        """
        _publish(wrapper, name)


for _short, (_uf, _meth, _fl) in _UNARY.items():
    _make_unary(_short, _uf, _meth, _fl)


# =============================================================================== zero_, copy_, norm
def _zero_fwd_(lists):
    kmin = _E._KMIN  # (_fill0's memset starts there)
    for x in lists[0]:
        if x.__class__ is _HOST and x.size < kmin:
            x.fill(0)
        elif not _E._fill0(x):  # memset on large host arrays
            x.fill(0)


_ZERO = _record("_foreach_zero_", _zero_fwd_,
                lambda ls, ps: [x.zero_() for x in ls[0]] and None, (),
                "Fill every tensor of a list with zeros.")


def _foreach_zero_(self):
    """``torch._foreach_zero_``: fill every tensor of a list with zeros (returns the list).

    Args:
        self: list of tensors.

    Example::

        >>> ember._foreach_zero_([ember.ones(2), ember.ones(3)])
    """
    _dispatch(_ZERO, (_tensor_list("_foreach_zero_", "self", self),), ())
    return self


_publish(_foreach_zero_, "_foreach_zero_")


def _copy_fwd_(lists, non_blocking):
    del non_blocking  # host copies are synchronous; the flag only matters across devices
    xs, srcs = lists
    copyto = xp_of(xs[0]).copyto
    copy_into = None
    kmin = _E.THREADED["add"][2]
    for x, s in zip(xs, srcs):
        if x.__class__ is _HOST:
            if x.size >= kmin:
                if copy_into is None:
                    from ember._codegen.copy_kernels import copy_into
                if copy_into(x, s):  # the threaded copy (False: does not apply)
                    continue
            elif s.__class__ is _HOST and s.dtype == x.dtype and s.shape == x.shape:
                x[...] = s  # (no cast or broadcast: half copyto's call cost)
                continue
        copyto(x, s, casting="unsafe")


_COPY = _record("_foreach_copy_", _copy_fwd_,
                lambda ls, ps: [x.copy_(s) for x, s in zip(*ls)] and None, ("non_blocking",),
                "Copy every tensor of ``src`` into the matching tensor of ``self``.")


def _foreach_copy_(self, src, non_blocking=False):
    """``torch._foreach_copy_``: copy ``src[i]`` into ``self[i]`` (broadcast, cast; returns
    ``self``).

    Args:
        self: list of destination tensors.
        src: list of source tensors, one per destination.
        non_blocking: accepted as PyTorch does; host copies complete before returning.

    Example::

        >>> dst = [ember.zeros(2)]; ember._foreach_copy_(dst, [ember.ones(2)])
    """
    xs = _tensor_list("_foreach_copy_", "self", self)
    _dispatch(_COPY, (xs, _tensor_list("_foreach_copy_", "src", src, len(xs))),
              (bool(non_blocking),))
    return self


_publish(_foreach_copy_, "_foreach_copy_")


def _norm_fwd(lists, ord, dtype):
    xs = lists[0]
    xp = xp_of(xs[0])
    out = []
    for x in xs:
        if x.dtype.kind not in "fc":
            raise RuntimeError(f"_foreach_norm(): input dtype should be either floating point "
                               f"or complex, got {D.FROM_NP[x.dtype]}")
        a = x if dtype is None else x.astype(dtype)
        if ord == 2 and a.__class__ is _HOST and a.dtype.kind == "f" and a.size:
            # |a|^2 is a^2 exactly, so the dot of a with itself is the dot of |a| (one pass
            # less); sqrt in float64 rounds to the dtype as the dtype's own sqrt does (NOTE
            # [ 0-dim foreach operands in Python ]). A NaN takes the path below, which
            # gives NumPy's NaN.
            r = a if a.ndim == 1 else a.reshape(-1)
            d = float(xp.dot(r, r))
            if d == d:
                out.append(_NP.asarray(_math.sqrt(d), a.dtype))
                continue
        a = xp.abs(a.reshape(-1))
        if ord == 2:
            r = xp.sqrt(xp.dot(a, a)) if a.size else xp.zeros((), a.dtype)
        elif ord == float("inf"):
            r = a.max() if a.size else xp.zeros((), a.dtype)
        elif ord == 1:
            r = a.sum()
        elif ord == 0:
            r = (a != 0).sum()
        else:
            r = (a ** ord).sum() ** (1.0 / ord)
        out.append(xp.asarray(r, dtype=a.dtype))
    return out


def _norm_slow(lists, params):
    ord, dtype = params
    dt = None if dtype is None else D.from_np(dtype)
    return [x.norm(ord) if dt is None else x.to(dt).norm(ord) for x in lists[0]]


_NORM = _record("_foreach_norm", _norm_fwd, _norm_slow, ("ord", "dtype"),
                "The vector ``ord``-norm of every tensor of a list (0-dim tensors).")


def _foreach_norm(self, ord=2, dtype=None):
    """``torch._foreach_norm``: the vector norm of every tensor of a list.

    Args:
        self: list of floating or complex tensors.
        ord: the order of the norm (2, 1, inf, 0 or any positive number; default 2).
        dtype: compute and return in this floating dtype.

    Returns:
        list of 0-dim tensors (real for complex input).

    Example::

        >>> ember._foreach_norm([ember.tensor([3.0, 4.0])])
        [tensor(5.)]
    """
    xs = _tensor_list("_foreach_norm", "self", self)
    ord = _number("_foreach_norm", "ord", ord)
    if ord < 0:
        raise RuntimeError(f"_foreach_norm(): ord must be non-negative, got {ord}")
    np_dtype = None if dtype is None else D.to_dtype(dtype).np
    return _dispatch(_NORM, (xs,), (ord, np_dtype))


_publish(_foreach_norm, "_foreach_norm")


# =============================================================================== fused optimizers
# NOTE [ Fused optimizer records ]
# PyTorch's ``_fused_adam_``/``_fused_adamw_``/``_fused_sgd_``: a whole optimizer update as one
# record, looping once over the parameters and running every formula step on one parameter
# while its arrays are in cache, instead of one pass over all parameters per formula step.
# On host arrays that is the fastest shape (a foreach pass per formula step costs a Python
# loop iteration and a version bump per tensor, ~1 us each), so ember's Adam/AdamW/SGD (and
# the other optimizers, NOTE [ Fused records of the other optimizers ]) use them by default;
# ``foreach=True`` picks the foreach records. The per-parameter arithmetic
# is the same sequence of operations as the foreach path (PyTorch's single-tensor formulas),
# so the two give identical trajectories. Scalars are converted to each array's dtype once
# per (dtype, step), which is what NumPy would do for Python floats anyway (NEP 50).
# Complex and 0-dim tensors must arrive as real, at-least-1-dim views (ember.optim does that).

def _no_autograd(name):
    def slow(lists, params):  # noqa: ARG001 - a record's impl(lists, params) signature; this one only refuses
        raise RuntimeError(f"{name}(): the fused optimizer kernels do not support autograd "
                           "(use differentiable=True without fused)")
    return slow


_OPTIM_KERNELS = []  # ember._codegen.optim_kernels, imported on first use


def _optim_kernels():
    if not _OPTIM_KERNELS:
        from ember._codegen import optim_kernels

        _OPTIM_KERNELS.append(optim_kernels)
    return _OPTIM_KERNELS[0]


def _grad_work(xp, x, g, maximize, wd, decoupled):
    """The gradient after ``maximize`` and coupled weight decay (a new array when changed)."""
    if maximize:
        g = xp.negative(g)
    if wd != 0 and not decoupled:
        tmp = xp.multiply(x, wd)
        # (0-dim inputs give NumPy scalars, which take no out=)
        g = xp.add(g, tmp, out=tmp) if tmp.ndim else g + tmp
    return g


def _fused_adam_fwd(lists, lr, beta1, beta2, weight_decay, eps, amsgrad, maximize, decoupled):
    xs, gs, ms, vs, vmaxs, steps = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, sub, add, sqrt = xp.multiply, xp.subtract, xp.add, xp.sqrt
    key = None
    w = 1 - beta1
    small = abs(w) < 0.5
    wd_mode = None if weight_decay == 0 else "decoupled" if decoupled else "coupled"
    # each parameter's constants, once per step: Python floats, which the C kernel's
    # constant array and the loop below round to the parameter's dtype (C's conversion, as
    # NumPy's scalars)
    made = {}
    scalars = []
    for st in steps:
        step = float(st)
        c = made.get(step)
        if c is None:
            c = made[step] = (
                w if small else 1 - w, beta2, 1 - beta2, eps, (1 - beta2 ** step) ** 0.5,
                -(lr / (1 - beta1 ** step)), 1 - lr * weight_decay, weight_decay)
        scalars.append(c)
    # every parameter in one C call (NOTE [ Multi-tensor optimizer kernels ])
    if _optim_kernels().adam(xs, gs, ms, vs, vmaxs if amsgrad else None, scalars, small,
                             amsgrad, maximize, wd_mode):
        return
    from ember._codegen import eager

    for i, (x, g, m, v) in enumerate(zip(xs, gs, ms, vs)):
        if key is None or key[0] is not scalars[i] or key[1] != x.dtype:
            key = (scalars[i], x.dtype)
            f = x.dtype.type
            typed = tuple(f(c) for c in scalars[i])
            w_, b2, one_m_b2, eps_, bc2_sqrt, neg_step_size, decay, _ = typed
            consts = [xp.asarray(c) for c in typed]
        # the whole update as one generated kernel (False: not covered, NumPy below)
        if eager.adam_step(x, g, m, v, vmaxs[i] if amsgrad else None, consts, small,
                           amsgrad, maximize, wd_mode):
            continue
        if weight_decay != 0 and decoupled:
            x *= decay
        g = _grad_work(xp, x, g, maximize, weight_decay, decoupled)
        tmp = xp.empty_like(m)
        # m.lerp_(g, 1 - beta1), PyTorch's two-sided formula
        sub(g, m, out=tmp)
        mul(tmp, w_, out=tmp)
        if small:
            add(m, tmp, out=m)
        else:
            sub(g, tmp, out=m)
        # v = v * beta2 + ((1 - beta2) * g) * g
        mul(v, b2, out=v)
        mul(g, one_m_b2, out=tmp)
        mul(tmp, g, out=tmp)
        add(v, tmp, out=v)
        if amsgrad:
            vmax = vmaxs[i]
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        # p += (-step_size * m) / (sqrt(v) / sqrt(bias_correction2) + eps)
        sqrt(v, out=tmp)
        tmp /= bc2_sqrt
        tmp += eps_
        upd = mul(m, neg_step_size)
        upd /= tmp
        add(x, upd, out=x)


for _name, _dec in (("_fused_adam_", False), ("_fused_adamw_", True)):
    _op = _record(_name, lambda lists, *a, _d=_dec: _fused_adam_fwd(lists, *a, _d),
                  _no_autograd(_name),
                  ("lr", "beta1", "beta2", "weight_decay", "eps", "amsgrad", "maximize"),
                  "A whole Adam update" + (" with decoupled weight decay" if _dec else "")
                  + " (NOTE [ Fused optimizer records ]).", mutates=(0, 2, 3, 4))

    def _fused_adam(self, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *,
                    lr, beta1, beta2, weight_decay, eps, amsgrad, maximize, grad_scale=None,
                    found_inf=None, _op=_op, _name=_name):
        if grad_scale is not None or found_inf is not None:
            raise NotImplementedError(f"{_name}(): grad_scale/found_inf (AMP gradient "
                                      "scaling) are not implemented in ember")
        xs = _tensor_list(_name, "self", self)
        n = len(xs)
        lists = (xs, _tensor_list(_name, "grads", grads, n),
                 _tensor_list(_name, "exp_avgs", exp_avgs, n),
                 _tensor_list(_name, "exp_avg_sqs", exp_avg_sqs, n),
                 _tensor_list(_name, "max_exp_avg_sqs", max_exp_avg_sqs, n) if amsgrad
                 else [], _tensor_list(_name, "state_steps", state_steps, n))
        return _dispatch(_op, lists, (float(lr), float(beta1), float(beta2),
                                      float(weight_decay), float(eps), bool(amsgrad),
                                      bool(maximize)))

    _fused_adam.__doc__ = f"""``torch.{_name}``: {_op.doc}

    The step counters are read, not incremented (PyTorch increments them before the call).

    Args:
        self: parameters (updated in place; returns None).
        grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps: one tensor per
            parameter (``max_exp_avg_sqs`` only read with ``amsgrad``).
        lr, beta1, beta2, weight_decay, eps, amsgrad, maximize: Adam's hyperparameters.
        grad_scale, found_inf: not implemented (must be None).

    Example::

        >>> p, g = [ember.ones(2)], [ember.ones(2)]
        >>> ember.{_name}(p, g, [ember.zeros(2)], [ember.zeros(2)], [], [ember.tensor(1.0)],
        ...     lr=0.1, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False,
        ...     maximize=False)
    """
    _publish(_fused_adam, _name)


def _fused_sgd_fwd(lists, weight_decay, momentum, lr, dampening, nesterov, maximize,
                   is_first_step):
    xs, gs, bufs = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, add = xp.multiply, xp.add
    if xs[0].__class__ is _HOST and xs[0].dtype.kind == "f":
        # every parameter in one C call (NOTE [ Multi-tensor optimizer kernels ]); the
        # kernel's constant array rounds these to the dtype as NumPy's scalars would
        c = (weight_decay, momentum, 1 - dampening, -lr)
        if _optim_kernels().sgd(xs, gs, bufs if momentum != 0 else None, c,
                             maximize, weight_decay, momentum, dampening, nesterov,
                             is_first_step):
            return
    key = None
    for i, (x, g) in enumerate(zip(xs, gs)):
        if key is not x.dtype:
            key = x.dtype
            f = key.type
            neg_lr, mom, one_m_damp = f(-lr), f(momentum), f(1 - dampening)
        if _sgd_threaded(x, g, bufs[i] if momentum != 0 else None, weight_decay, mom,
                         one_m_damp if dampening != 0 else None, neg_lr, nesterov, maximize,
                         is_first_step):
            continue
        g = _grad_work(xp, x, g, maximize, weight_decay, False)
        if momentum != 0:
            b = bufs[i]
            if is_first_step:
                xp.copyto(b, g)
            else:
                # buf = buf * momentum + (1 - dampening) * g
                mul(b, mom, out=b)
                add(b, mul(g, one_m_damp) if dampening != 0 else g, out=b)
            g = add(g, mul(b, mom)) if nesterov else b
        add(x, mul(g, neg_lr), out=x)


# NOTE [ SGD as threaded kernels ]
# A large host parameter's SGD update runs as one generated kernel written in place, the
# NumPy path's operation sequence as expressions (so the results are the same bits:
# -ffp-contract=off, the scalars in the array's dtype as NumPy converts them): with momentum
# two outputs per element, the buffer's ``buf * momentum + (1 - dampening) * g'`` (``g'`` on
# the first step) and then the parameter's ``x + d * -lr``; without, the parameter's alone.
# ``g' = (-g if maximize) + x * weight_decay``, ``d`` is the new ``buf``, ``g' + buf *
# momentum`` (nesterov) or ``g'`` (no momentum). NumPy's path makes up to eight passes over
# memory with temporaries (weight decay alone was 3.5x the plain update's time), and two
# kernels, one per output, cost nearly twice one. Operands: a the buffer (the parameter
# without momentum), b grad, c param, d weight_decay, e momentum, f 1 - dampening, g -lr.
def _sgd_exprs(wd, damp, nesterov, maximize, momentum, first):
    """The kernel's expression(s) of NOTE [ SGD as threaded kernels ]: a (buffer,
    parameter) pair with momentum, else the parameter's expression."""
    gp = ("-b" if maximize else "b") + (" + c * d" if wd else "")
    if not momentum:
        return f"c + ({gp}) * g"
    buf = gp if first else f"a * e + ({gp})" + (" * f" if damp else "")
    d = f"({gp}) + y0 * e" if nesterov else "y0"
    return buf, f"c + ({d}) * g"


def _sgd_threaded(x, g, b, wd, mom, one_m_damp, neg_lr, nesterov, maximize, first):
    """SGD's update of one large host tensor as a threaded kernel in place (NOTE [ SGD as
    threaded kernels ]): ``b`` None means no momentum, ``one_m_damp`` None no dampening,
    ``first`` the first step (``b = g'``). False where the kernel does not cover the call
    (nothing was written then)."""
    if x.__class__ is not _HOST or x.size < _E.THREADED["sgd_momentum"][2] or \
            g.__class__ is not _HOST or g.shape != x.shape or g.dtype != x.dtype:
        return False
    expr = _sgd_exprs(wd, one_m_damp is not None, nesterov, maximize, b is not None, first)
    omd = 1.0 if one_m_damp is None else one_m_damp
    if b is None:
        return _E._threaded(expr, "f", (x, g, x, wd, mom, omd, neg_lr), x) is not None
    if b.__class__ is not _HOST or b.shape != x.shape or b.dtype != x.dtype:
        return False
    return _E._threaded(expr, "f", (b, g, x, wd, mom, omd, neg_lr), [b, x]) is not None


_FUSED_SGD = _record("_fused_sgd_", _fused_sgd_fwd, _no_autograd("_fused_sgd_"),
                     ("weight_decay", "momentum", "lr", "dampening", "nesterov", "maximize",
                      "is_first_step"),
                     "A whole SGD update (NOTE [ Fused optimizer records ]).", mutates=(0, 2))


def _fused_sgd_(self, grads, momentum_buffer_list, *, weight_decay, momentum, lr, dampening,
                nesterov, maximize, is_first_step, grad_scale=None, found_inf=None):
    """``torch._fused_sgd_``: a whole SGD update (NOTE [ Fused optimizer records ]).

    Args:
        self: parameters (updated in place; returns None).
        grads: one gradient per parameter.
        momentum_buffer_list: one buffer per parameter (empty when ``momentum`` is 0); on
            ``is_first_step`` the buffers receive the gradients.
        weight_decay, momentum, lr, dampening, nesterov, maximize: SGD's hyperparameters.
        is_first_step: the buffers are new (PyTorch's first momentum step).
        grad_scale, found_inf: not implemented (must be None).

    Example::

        >>> p = [ember.ones(2)]
        >>> ember._fused_sgd_(p, [ember.ones(2)], [], weight_decay=0.0, momentum=0.0, lr=0.1,
        ...     dampening=0.0, nesterov=False, maximize=False, is_first_step=False)
    """
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("_fused_sgd_(): grad_scale/found_inf (AMP gradient scaling) "
                                  "are not implemented in ember")
    xs = _tensor_list("_fused_sgd_", "self", self)
    n = len(xs)
    bufs = (_tensor_list("_fused_sgd_", "momentum_buffer_list", momentum_buffer_list, n)
            if momentum != 0 else [])
    return _dispatch(_FUSED_SGD, (xs, _tensor_list("_fused_sgd_", "grads", grads, n), bufs),
                     (float(weight_decay), float(momentum), float(lr), float(dampening),
                      bool(nesterov), bool(maximize), bool(is_first_step)))


_publish(_fused_sgd_, "_fused_sgd_")


# =============================================================================== more fused records
# NOTE [ Fused records of the other optimizers ]
# RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD get one record each, shaped
# like ``_fused_adam_`` (NOTE [ Fused optimizer records ]): one loop over the parameters,
# every formula step of one parameter done before the next, on the raw arrays with ``out``.
# Each formula step is the very operation the foreach path runs (same ufunc, same operand
# order, scalars rounded to the array's dtype as NumPy does for Python floats), so both paths
# give bit-identical trajectories; tests/optim/test_optimizer_paths.py checks that. On this
# workload (hundreds of small tensors) the cost is per ufunc call more than per element, so
# the loops keep calls cheap: temporaries are views of one buffer per role and dtype, made
# once per shape (``_Work``); scalars are 0-dim arrays of the data's dtype on the host (a
# NumPy scalar or Python float operand costs a conversion per call; other backends get
# NumPy scalars); ``out`` is passed positionally. Only ``_fused_adagrad_`` is a PyTorch
# name; the others are ember's (PyTorch has no fused kernels for them).

class _Work:
    """``k`` scratch arrays shaped and typed like a tensor: views of one flat buffer per role
    and dtype, sized for the call's largest tensor, and made once per shape."""

    __slots__ = ("xp", "k", "sizes", "bufs", "views")

    def __init__(self, xp, arrays, k):
        self.xp = xp
        self.k = k
        sizes = {}
        for a in arrays:
            if a.size > sizes.get(a.dtype, -1):
                sizes[a.dtype] = a.size
        self.sizes = sizes
        self.bufs = {}
        self.views = {}

    def get(self, a):
        """``k`` arrays like ``a`` (contents undefined)."""
        v = self.views.get(a.shape)
        if v is None or v[0].dtype != a.dtype:
            d = a.dtype
            bufs = self.bufs.get(d)
            if bufs is None or bufs[0].size < a.size:
                n = max(self.sizes.get(d, 0), a.size)
                bufs = self.bufs[d] = [self.xp.empty(n, d) for _ in range(self.k)]
            v = self.views[a.shape] = tuple(b[:a.size].reshape(a.shape) for b in bufs)
        return v


def _consts(x, vals):
    """A step's scalars in ``x``'s dtype: 0-dim arrays on the host, NumPy scalars elsewhere.
    The kernels remake them only when the dtype (or step) changes: once per call usually."""
    if x.__class__ is _HOST:
        asarray, d = xp_of(x).asarray, x.dtype
        return tuple(asarray(v, d) for v in vals)
    f = x.dtype.type
    return tuple(f(v) for v in vals)


def _grad_into(xp, x, g, maximize, wd, buf):
    """The gradient after ``maximize`` and coupled weight decay ``wd`` (a 0-dim array or
    scalar; ``-g + wd * x``), in ``buf`` when changed: the foreach path's ``_grads``,
    operation for operation (``t - g`` is ``(-g) + t`` exactly: IEEE subtraction adds the
    negation)."""
    if wd == 0:
        return xp.negative(g, buf) if maximize else g
    xp.multiply(x, wd, buf)
    if maximize:
        return xp.subtract(buf, g, buf)
    return xp.add(g, buf, buf)


def _addc_(xp, f, x, a, b, v, one, tmp):
    """``x += (v * a) f b`` in place (``_foreach_addcmul_``/``addcdiv_``'s order); ``one``:
    ``v`` is 1, whose multiply is skipped as there."""
    if one:
        f(a, b, tmp)
    else:
        xp.multiply(a, v, tmp)
        f(tmp, b, tmp)
    xp.add(x, tmp, x)


def _lerp_(xp, m, g, small, w, tmp):
    """``m.lerp_(g, weight)``, PyTorch's two-sided formula: ``small`` is |weight| < 0.5 and
    ``w`` the weight (small) or 1 - weight (not), in the arrays' dtype."""
    xp.subtract(g, m, tmp)
    xp.multiply(tmp, w, tmp)
    if small:
        xp.add(m, tmp, m)
    else:
        xp.subtract(g, tmp, m)


def _fused_rmsprop_fwd(lists, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    xs, gs, vs, gas, bufs = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, add, sqrt, div = xp.multiply, xp.add, xp.sqrt, xp.divide
    work = _Work(xp, xs, 3)
    w = 1 - alpha
    small, w_one = abs(w) < 0.5, w == 1
    last = None
    grad_work = maximize or weight_decay != 0
    for i, (x, g, v) in enumerate(zip(xs, gs, vs)):
        if x.dtype is not last:
            last = x.dtype
            a_, w_, lw_, wd_, eps_, mom_, nlr_, m1_ = _consts(x, (
                alpha, w, w if small else 1 - w, weight_decay, eps, momentum, -lr, -1))
        gb, tmp, avg = work.get(x)
        if grad_work:
            g = _grad_into(xp, x, g, maximize, wd_, gb)
        # v = v * alpha + ((1 - alpha) * g) * g
        mul(v, a_, v)
        if w_one:
            mul(g, g, tmp)
        else:
            mul(g, w_, tmp)
            mul(tmp, g, tmp)
        add(v, tmp, v)
        if centered:
            ga = gas[i]
            _lerp_(xp, ga, g, small, lw_, tmp)
            # avg = sqrt(v + (-1 * ga) * ga)
            mul(ga, m1_, avg)
            mul(avg, ga, avg)
            add(v, avg, avg)
            sqrt(avg, avg)
        else:
            sqrt(v, avg)
        add(avg, eps_, avg)
        if momentum > 0:
            b = bufs[i]
            mul(b, mom_, b)
            _addc_(xp, div, b, g, avg, 1, True, tmp)
            add(x, mul(b, nlr_, tmp), x)  # _foreach_add_(params, bufs, alpha=-lr)
        else:  # x += (-lr * g) / avg
            mul(g, nlr_, tmp)
            div(tmp, avg, tmp)
            add(x, tmp, x)


def _adagrad_exprs(maximize, wd):
    """Adagrad's update of one large host tensor as one threaded kernel of two outputs, the
    NumPy path's operations in its order (so the same bits): ``sum + g' * g'``, then ``x +
    clr * g' / (sqrt(sum) + eps)``, ``g'`` as ``_grad_into`` forms it. Operands: a sum,
    b grad, c param, d weight_decay, e clr, f eps (NOTE [ SGD as threaded kernels ] says why
    one kernel: NumPy's path is up to eight passes, two kernels nearly twice one)."""
    gp = ("c * d - b" if maximize else "b + c * d") if wd else "-b" if maximize else "b"
    return f"a + ({gp}) * ({gp})", f"c + e * ({gp}) / (sqrt(y0) + f)"


def _fused_adagrad_fwd(lists, lr, lr_decay, weight_decay, eps, maximize):
    xs, gs, sums, steps = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    if xs[0].__class__ is _HOST and xs[0].dtype.kind == "f":
        # every parameter in one C call (NOTE [ Multi-tensor optimizer kernels ]); the
        # constants once per (dtype, step)
        consts = []
        made = {}
        for x, t in zip(xs, steps):
            key = (x.dtype, float(t))
            c = made.get(key)
            if c is None:
                c = made[key] = _consts(x, (weight_decay,
                                            -(lr / (1 + (key[1] - 1) * lr_decay)), eps))
            consts.append(c)
        if _optim_kernels().adagrad(xs, gs, sums, consts, maximize, weight_decay):
            return
    mul, add, sqrt, div = xp.multiply, xp.add, xp.sqrt, xp.divide
    work = _Work(xp, xs, 3)
    last_dt = last_step = None
    grad_work = maximize or weight_decay != 0
    for x, g, s, t in zip(xs, gs, sums, steps):
        step = float(t)
        if step != last_step or x.dtype is not last_dt:
            last_dt, last_step = x.dtype, step
            clr = -(lr / (1 + (step - 1) * lr_decay))
            wd_, eps_, clr_ = _consts(x, (weight_decay, eps, clr))
        if x.__class__ is _HOST and x.size >= _E.THREADED["adagrad_sum"][2] and \
                g.__class__ is _HOST and s.__class__ is _HOST and \
                g.shape == x.shape == s.shape and g.dtype == x.dtype == s.dtype and \
                _E._threaded(_adagrad_exprs(maximize, weight_decay != 0), "f",
                             (s, g, x, wd_, clr_, eps_), [s, x]) is not None:
            continue
        gb, tmp, std = work.get(x)
        if grad_work:
            g = _grad_into(xp, x, g, maximize, wd_, gb)
        # s += g * g (addcmul with value 1)
        mul(g, g, tmp)
        add(s, tmp, s)
        sqrt(s, std)
        add(std, eps_, std)
        # x += (clr * g) / std (addcdiv)
        if clr == 1:
            div(g, std, tmp)
        else:
            mul(g, clr_, tmp)
            div(tmp, std, tmp)
        add(x, tmp, x)


def _fused_adadelta_fwd(lists, lr, rho, eps, weight_decay, maximize):
    xs, gs, vs, us = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, add, sqrt, div = xp.multiply, xp.add, xp.sqrt, xp.divide
    work = _Work(xp, xs, 4)
    w = 1 - rho
    last = None
    grad_work = maximize or weight_decay != 0
    for x, g, v, u in zip(xs, gs, vs, us):
        if x.dtype is not last:
            last = x.dtype
            rho_, w_, wd_, eps_, nlr_ = _consts(x, (rho, w, weight_decay, eps, -lr))
        gb, tmp, std, delta = work.get(x)
        if grad_work:
            g = _grad_into(xp, x, g, maximize, wd_, gb)
        mul(v, rho_, v)
        _addc_(xp, mul, v, g, g, w_, w == 1, tmp)
        add(v, eps_, std)
        sqrt(std, std)
        # delta = sqrt(u + eps) / std * g
        add(u, eps_, delta)
        sqrt(delta, delta)
        div(delta, std, delta)
        mul(delta, g, delta)
        mul(u, rho_, u)
        _addc_(xp, mul, u, delta, delta, w_, w == 1, tmp)
        add(x, mul(delta, nlr_, tmp), x)  # _foreach_add_(params, delta, alpha=-lr)


def _fused_adamax_fwd(lists, lr, beta1, beta2, eps, weight_decay, maximize):
    xs, gs, ms, us, steps = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, add = xp.multiply, xp.add
    work = _Work(xp, xs, 3)
    w = 1 - beta1
    small = abs(w) < 0.5
    last = None
    grad_work = maximize or weight_decay != 0
    for i, (x, g, m, u) in enumerate(zip(xs, gs, ms, us)):
        step = float(steps[i])
        clr = -(lr / (1 - beta1 ** step))
        if (x.dtype, step) != last:
            last = (x.dtype, step)
            lw_, b2_, wd_, eps_, clr_ = _consts(x, (
                w if small else 1 - w, beta2, weight_decay, eps, clr))
        gb, tmp, a = work.get(x)
        if grad_work:
            g = _grad_into(xp, x, g, maximize, wd_, gb)
        _lerp_(xp, m, g, small, lw_, tmp)
        # u = max(beta2 * u, |g| + eps)
        mul(u, b2_, u)
        xp.abs(g, a)
        add(a, eps_, a)
        xp.maximum(u, a, out=u)
        _addc_(xp, xp.divide, x, m, u, clr_, clr == 1, tmp)


def _fused_nadam_fwd(lists, lr, beta1, beta2, eps, weight_decay, momentum_decay,
                     decoupled_weight_decay, maximize):
    xs, gs, ms, vs, mus_prod, steps = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, add, sqrt, div = xp.multiply, xp.add, xp.sqrt, xp.divide
    work = _Work(xp, xs, 3)
    w, w2 = 1 - beta1, 1 - beta2
    small = abs(w) < 0.5
    decoupled = decoupled_weight_decay and weight_decay != 0
    psi = momentum_decay
    last = last2 = None
    cwd = 0 if decoupled_weight_decay else weight_decay
    grad_work = maximize or cwd != 0
    for i, (x, g, m, v) in enumerate(zip(xs, gs, ms, vs)):
        step = float(steps[i])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
        mp = mus_prod[i]
        mp *= mu  # a 0-dim state tensor: rounded to its dtype, as in PyTorch
        prod = float(mp)
        c1 = -lr * (1.0 - mu) / (1.0 - prod)
        c2 = (-lr * mu_next) / (1.0 - prod * mu_next)
        if (x.dtype, step) != last:
            last = (x.dtype, step)
            decay_, lw_, b2_, w2_, wd_, eps_, bc2_ = _consts(x, (
                1 - lr * weight_decay, w if small else 1 - w, beta2, w2, cwd, eps,
                1 - beta2 ** step))
        if (x.dtype, c1, c2) != last2:
            last2 = (x.dtype, c1, c2)
            c1_, c2_ = _consts(x, (c1, c2))
        gb, tmp, d = work.get(x)
        if decoupled:
            mul(x, decay_, x)
        if grad_work:
            g = _grad_into(xp, x, g, maximize, wd_, gb)
        _lerp_(xp, m, g, small, lw_, tmp)
        mul(v, b2_, v)
        _addc_(xp, mul, v, g, g, w2_, w2 == 1, tmp)
        # d = sqrt(v / (1 - beta2^t)) + eps
        div(v, bc2_, d)
        sqrt(d, d)
        add(d, eps_, d)
        _addc_(xp, div, x, g, d, c1_, c1 == 1, tmp)
        _addc_(xp, div, x, m, d, c2_, c2 == 1, tmp)


def _fused_radam_fwd(lists, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay,
                     maximize):
    xs, gs, ms, vs, steps = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, add = xp.multiply, xp.add
    work = _Work(xp, xs, 3)
    w, w2 = 1 - beta1, 1 - beta2
    small = abs(w) < 0.5
    decoupled = decoupled_weight_decay and weight_decay != 0
    rho_inf = 2 / (1 - beta2) - 1
    last = None
    cwd = 0 if decoupled_weight_decay else weight_decay
    grad_work = maximize or cwd != 0
    for i, (x, g, m, v) in enumerate(zip(xs, gs, ms, vs)):
        step = float(steps[i])
        bc2 = 1 - beta2 ** step
        rho = rho_inf - 2 * step * (beta2 ** step) / bc2
        rect = ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) ** 0.5 \
            if rho > 5.0 else 1.0
        if (x.dtype, step) != last:
            last = (x.dtype, step)
            decay_, lw_, b2_, w2_, wd_, eps_, lr_, bc1_, bc2s_, rect_ = _consts(x, (
                1 - lr * weight_decay, w if small else 1 - w, beta2, w2, cwd, eps, lr,
                1 - beta1 ** step, bc2 ** 0.5, rect))
        gb, tmp, upd = work.get(x)
        if decoupled:
            mul(x, decay_, x)
        if grad_work:
            g = _grad_into(xp, x, g, maximize, wd_, gb)
        _lerp_(xp, m, g, small, lw_, tmp)
        mul(v, b2_, v)
        _addc_(xp, mul, v, g, g, w2_, w2 == 1, tmp)
        # update = lr * m / (1 - beta1^t), times the rectified adaptive lr where rho_t > 5
        xp.divide(m, bc1_, upd)
        mul(upd, lr_, upd)
        if rho > 5.0:
            xp.sqrt(v, tmp)
            add(tmp, eps_, tmp)
            xp.reciprocal(tmp, tmp)
            mul(tmp, bc2s_, tmp)
            mul(upd, tmp, upd)
            mul(upd, rect_, upd)
        xp.subtract(x, upd, x)


def _fused_rprop_fwd(lists, etaminus, etaplus, step_size_min, step_size_max, maximize):
    xs, gs, prevs, sizes = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, copyto, equal = xp.multiply, xp.copyto, xp.equal
    work = _Work(xp, xs, 3)
    last = None
    for x, g, prev, ss in zip(xs, gs, prevs, sizes):
        if x.dtype is not last:
            last = x.dtype
            em_, ep_, one_, zero_, lo_, hi_ = _consts(x, (
                etaminus, etaplus, 1, 0, step_size_min, step_size_max))
        gb, prod, upd = work.get(x)
        if maximize:
            g = xp.negative(g, gb)
        # The step size factor: etaplus where g * prev > 0, etaminus where < 0, 1 where 0,
        # NaN where NaN: the foreach path's sign() and masked fills, taken from the product
        # directly (its sign has the same comparisons); a select for the dense part, masked
        # writes for the usually few zeros and NaNs.
        mul(g, prev, prod)
        fac = xp.where(xp.greater(prod, 0), ep_, em_)
        copyto(fac, one_, where=equal(prod, 0))
        copyto(fac, prod, where=xp.isnan(prod))
        # prev = g, zeroed where the gradient changed sign (it skips this update)
        copyto(prev, g)
        copyto(prev, zero_, where=equal(fac, em_))
        mul(ss, fac, ss)
        xp.clip(ss, lo_, hi_, out=ss)  # max(min) then min(max), as the foreach path
        xp.sign(prev, upd)
        mul(upd, ss, upd)
        xp.subtract(x, upd, x)


def _fused_asgd_fwd(lists, lambd, weight_decay, maximize, new_etas, new_mus):
    xs, gs, axs, etas, mus = lists
    if not xs:
        return
    xp = xp_of(xs[0])
    mul, add = xp.multiply, xp.add
    work = _Work(xp, xs, 2)
    last = None
    grad_work = maximize or weight_decay != 0
    for i, (x, g, ax) in enumerate(zip(xs, gs, axs)):
        eta, mu = float(etas[i]), float(mus[i])
        if (x.dtype, eta, mu) != last:
            last = (x.dtype, eta, mu)
            decay_, neta_, wd_, mu_ = _consts(x, (1 - lambd * eta, -eta, weight_decay, mu))
        gb, tmp = work.get(x)
        if grad_work:
            g = _grad_into(xp, x, g, maximize, wd_, gb)
        # p = p * (1 - lambd * eta) + g * -eta
        mul(x, decay_, x)
        add(x, mul(g, neta_, tmp), x)
        # ax += (p - ax) * mu, or ax = p while mu == 1
        if mu != 1:
            xp.subtract(x, ax, tmp)
            mul(tmp, mu_, tmp)
            add(ax, tmp, ax)
        else:
            xp.copyto(ax, x)
        etas[i][()] = new_etas[i]
        mus[i][()] = new_mus[i]


def _fused_wrapper(name, op, list_args, optional, attrs, example):
    """The public function of a fused record: tensor lists (``optional`` ones may be empty),
    then keyword-only hyperparameters ``attrs`` (name, converter) in the record's order."""
    import inspect

    def fn(*args, grad_scale=None, found_inf=None, **kw):
        if grad_scale is not None or found_inf is not None:
            raise NotImplementedError(f"{name}(): grad_scale/found_inf (AMP gradient "
                                      "scaling) are not implemented in ember")
        if len(args) != len(list_args):
            raise TypeError(f"{name}() takes {len(list_args)} tensor lists "
                            f"({', '.join(list_args)}), got {len(args)}")
        unknown = set(kw) - {a for a, _ in attrs}
        if unknown:
            raise TypeError(f"{name}() got an unexpected keyword argument "
                            f"'{sorted(unknown)[0]}'")
        missing = [a for a, _ in attrs if a not in kw]
        if missing:
            raise TypeError(f"{name}() missing required keyword-only argument '{missing[0]}'")
        xs = _tensor_list(name, list_args[0], args[0])
        n = len(xs)
        lists = [xs]
        for arg, v in zip(list_args[1:], args[1:]):
            if arg in optional and isinstance(v, (list, tuple)) and not v:
                lists.append([])
            else:
                lists.append(_tensor_list(name, arg, v, n))
        params = tuple(conv(kw[a]) for a, conv in attrs)
        for (a, _), v in zip(attrs, params):
            if isinstance(v, tuple) and len(v) != n:
                raise RuntimeError(f"{name}(): '{a}' must hold one number per tensor ({n} "
                                   f"tensors, {len(v)} numbers)")
        return _dispatch(op, tuple(lists), params)

    P = inspect.Parameter
    fn.__signature__ = inspect.Signature(
        [P(a, P.POSITIONAL_OR_KEYWORD) for a in list_args]
        + [P(a, P.KEYWORD_ONLY) for a, _ in attrs]
        + [P(a, P.KEYWORD_ONLY, default=None) for a in ("grad_scale", "found_inf")])
    fn.__doc__ = f"""``{name}``: {op.doc}

    The step counters are read, not incremented (the optimizer increments them first).

    Args:
        {', '.join(list_args)}: tensor lists, one tensor per parameter (``self`` and the
            state lists are updated in place; returns None){'; ' + ', '.join(optional)
                                                            + ' may be empty' if optional else ''}.
        {', '.join(a for a, _ in attrs)}: the optimizer's hyperparameters.
        grad_scale, found_inf: not implemented (must be None).

    Example::

        >>> {example}
    """
    _publish(fn, name)
    return fn


_FLOAT, _BOOL = float, bool


def _floats(v):
    return tuple(float(x) for x in v)


for _name, _fwd, _lists, _opt, _attrs, _mut, _what, _ex in (
        ("_fused_rmsprop_", _fused_rmsprop_fwd,
         ("self", "grads", "square_avgs", "grad_avgs", "momentum_buffer_list"),
         ("grad_avgs", "momentum_buffer_list"),
         (("lr", _FLOAT), ("alpha", _FLOAT), ("eps", _FLOAT), ("weight_decay", _FLOAT),
          ("momentum", _FLOAT), ("centered", _BOOL), ("maximize", _BOOL)), (0, 2, 3, 4),
         "RMSprop", "ember._fused_rmsprop_([ember.ones(2)], [ember.ones(2)], [ember.zeros(2)], "
         "[], [], lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, "
         "centered=False, maximize=False)"),
        ("_fused_adagrad_", _fused_adagrad_fwd, ("self", "grads", "state_sums", "state_steps"),
         (), (("lr", _FLOAT), ("lr_decay", _FLOAT), ("weight_decay", _FLOAT), ("eps", _FLOAT),
              ("maximize", _BOOL)), (0, 2),
         "Adagrad", "ember._fused_adagrad_([ember.ones(2)], [ember.ones(2)], [ember.zeros(2)], "
         "[ember.tensor(1.0)], lr=0.01, lr_decay=0.0, weight_decay=0.0, eps=1e-10, "
         "maximize=False)"),
        ("_fused_adadelta_", _fused_adadelta_fwd,
         ("self", "grads", "square_avgs", "acc_deltas"), (),
         (("lr", _FLOAT), ("rho", _FLOAT), ("eps", _FLOAT), ("weight_decay", _FLOAT),
          ("maximize", _BOOL)), (0, 2, 3),
         "Adadelta", "ember._fused_adadelta_([ember.ones(2)], [ember.ones(2)], "
         "[ember.zeros(2)], [ember.zeros(2)], lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, "
         "maximize=False)"),
        ("_fused_adamax_", _fused_adamax_fwd,
         ("self", "grads", "exp_avgs", "exp_infs", "state_steps"), (),
         (("lr", _FLOAT), ("beta1", _FLOAT), ("beta2", _FLOAT), ("eps", _FLOAT),
          ("weight_decay", _FLOAT), ("maximize", _BOOL)), (0, 2, 3),
         "Adamax", "ember._fused_adamax_([ember.ones(2)], [ember.ones(2)], [ember.zeros(2)], "
         "[ember.zeros(2)], [ember.tensor(1.0)], lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, "
         "weight_decay=0.0, maximize=False)"),
        ("_fused_nadam_", _fused_nadam_fwd,
         ("self", "grads", "exp_avgs", "exp_avg_sqs", "mu_products", "state_steps"), (),
         (("lr", _FLOAT), ("beta1", _FLOAT), ("beta2", _FLOAT), ("eps", _FLOAT),
          ("weight_decay", _FLOAT), ("momentum_decay", _FLOAT),
          ("decoupled_weight_decay", _BOOL), ("maximize", _BOOL)), (0, 2, 3, 4),
         "NAdam (``mu_products`` are multiplied by this step's momentum coefficient)",
         "ember._fused_nadam_([ember.ones(2)], [ember.ones(2)], [ember.zeros(2)], "
         "[ember.zeros(2)], [ember.tensor(1.0)], [ember.tensor(1.0)], lr=2e-3, beta1=0.9, "
         "beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, "
         "decoupled_weight_decay=False, maximize=False)"),
        ("_fused_radam_", _fused_radam_fwd,
         ("self", "grads", "exp_avgs", "exp_avg_sqs", "state_steps"), (),
         (("lr", _FLOAT), ("beta1", _FLOAT), ("beta2", _FLOAT), ("eps", _FLOAT),
          ("weight_decay", _FLOAT), ("decoupled_weight_decay", _BOOL), ("maximize", _BOOL)),
         (0, 2, 3), "RAdam",
         "ember._fused_radam_([ember.ones(2)], [ember.ones(2)], [ember.zeros(2)], "
         "[ember.zeros(2)], [ember.tensor(1.0)], lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, "
         "weight_decay=0.0, decoupled_weight_decay=False, maximize=False)"),
        ("_fused_rprop_", _fused_rprop_fwd, ("self", "grads", "prevs", "step_sizes"), (),
         (("etaminus", _FLOAT), ("etaplus", _FLOAT), ("step_size_min", _FLOAT),
          ("step_size_max", _FLOAT), ("maximize", _BOOL)), (0, 2, 3),
         "Rprop", "ember._fused_rprop_([ember.ones(2)], [ember.ones(2)], [ember.zeros(2)], "
         "[ember.full((2,), 0.01)], etaminus=0.5, etaplus=1.2, step_size_min=1e-6, "
         "step_size_max=50.0, maximize=False)"),
        ("_fused_asgd_", _fused_asgd_fwd, ("self", "grads", "axs", "etas", "mus"), (),
         (("lambd", _FLOAT), ("weight_decay", _FLOAT), ("maximize", _BOOL),
          ("new_etas", _floats), ("new_mus", _floats)), (0, 2, 3, 4),
         "ASGD (``etas`` and ``mus`` are read, then set to ``new_etas``/``new_mus``)",
         "ember._fused_asgd_([ember.ones(2)], [ember.ones(2)], [ember.zeros(2)], "
         "[ember.tensor(0.01)], [ember.tensor(1.0)], lambd=1e-4, weight_decay=0.0, "
         "maximize=False, new_etas=(0.01,), new_mus=(1.0,))")):
    _op = _record(_name, _fwd, _no_autograd(_name), tuple(a for a, _ in _attrs),
                  f"A whole {_what} update (NOTE [ Fused records of the other optimizers ]).",
                  mutates=_mut)
    _fused_wrapper(_name, _op, _lists, _opt, _attrs, _ex)
