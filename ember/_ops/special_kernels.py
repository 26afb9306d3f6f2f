"""The special-function kernels behind ``ember.special`` (i1, i0e, i1e, erfcx, ndtr, ndtri,
log_ndtr, entr, xlog1py, zeta) and the multivariate lgamma: records whose backward formulas
sit beside them (NOTE [ The op pattern ] in core.py); exact SciPy kernels when SciPy is
installed (loaded on first use), series or identities otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from ember._backends import DEFAULT
from ember._backends import KERNELS as B
from ember._ops.core import (FUNCTIONS, METHODS, OpDef, apply, register,
                             write_out)
from ember._ops.core import check_tensor as _check_tensor
from ember._ops.core import float_input as _float_input
from ember._ops.elementwise import _not_implemented, binary, where
from ember._ops.elementwise_math import _I1
from ember._tensor import Tensor

xp = DEFAULT.xp


def _sp():
    """SciPy's special functions, loaded on first use (optional: exact kernels when present,
    series/identities otherwise); importing SciPy costs ~0.5 s, which `import ember` avoids."""
    from ember._backends.numpy_backend import _scipy_special

    return _scipy_special()


_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


# =============================================================================== mvlgamma
@register(inplace=True)
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """Multivariate log-gamma: ``sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)``, ``i < p``.

    Args:
        input: the tensor (every element must exceed ``(p - 1) / 2``).
        p: the number of dimensions (>= 1).

    Example:
        >>> ember.mvlgamma(ember.tensor([2.5]), 2)
        tensor([0.8600])
    """
    _check_tensor("mvlgamma", input)
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1 (got {p})")
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"mvlgamma: expected a floating point tensor (got {input.dtype})")
    if input._data.size and not bool((input._data > (p - 1) / 2).all()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    steps = Tensor._wrap(-np.arange(p, dtype=input._data.dtype) / 2)
    r = (input.unsqueeze(-1) + steps).lgamma().sum(-1)
    return r + p * (p - 1) / 4 * math.log(math.pi)


# =============================================================================== special kernels
# ``ember.special`` reaches these through ``special_unary``; each is one record whose backward
# formula is written in ember ops (so double backward works where the formula is smooth).
def _kernel(sp_name, fallback):
    def k(x):
        sp = _sp()
        if sp is None:
            return fallback(x)
        return np.asarray(getattr(sp, sp_name)(x)).astype(x.dtype, copy=False)

    return k


def _i0e_fb(x):
    return (xp.i0(x) * xp.exp(-xp.abs(x))).astype(x.dtype, copy=False)


def _i1e_fb(x):
    return (B.i1(x) * xp.exp(-xp.abs(x))).astype(x.dtype, copy=False)


def _ndtr(x):
    return (0.5 * B.erfc(-x / x.dtype.type(_SQRT2))).astype(x.dtype, copy=False)


def _ndtri_fb(p):
    with np.errstate(invalid="ignore"):
        return (_SQRT2 * B.erfinv(2 * p - 1)).astype(p.dtype, copy=False)


def _log_ndtr_fb(x):
    with np.errstate(divide="ignore"):
        return xp.log(_ndtr(x))


def _entr(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = -x * xp.log(xp.where(x > 0, x, x.dtype.type(1)))
    r = xp.where(x < 0, x.dtype.type(-np.inf), r)
    return xp.where(xp.isnan(x), x, r).astype(x.dtype, copy=False)


def _wrapper(name, op):
    """The public function for a float-valued unary kernel record ``op``."""

    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        _check_tensor(name, input)
        x = _float_input(input)
        if x._data.dtype.kind == "c":
            raise _not_implemented(name, x._data.dtype)
        with np.errstate(all="ignore"):
            r = apply(op, (x,))
        return write_out(name, out, r) if out is not None else r

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.special.{name}``: elementwise, computed in floating point."
    fn.op = op
    return fn


def _special_unary(name, fwd, bwd=None):
    """One float-valued unary kernel record ``special_<name>``; ``bwd(g, x, y)``."""
    if bwd is None:
        op = OpDef("special_" + name, fwd, None, differentiable=False)
    else:
        op = OpDef("special_" + name, fwd, lambda ctx, g: (bwd(g, ctx.inputs[0], ctx.output),),
                   save="xy")
    return _wrapper(name, op)


def _safe_div(num, den, at_zero):
    """num / den with the limit ``at_zero`` where den == 0."""
    return where(den == 0, at_zero, num / den.masked_fill(den == 0, 1))


_I0E = OpDef("special_i0e", _kernel("i0e", _i0e_fb), None, save="xy")
_I1E = OpDef("special_i1e", _kernel("i1e", _i1e_fb), None, save="xy")


@_I0E.grad
def _(ctx, g):
    x, y = ctx.inputs[0], ctx.output
    return (g * (apply(_I1E, (x,)) - x.sgn() * y),)


@_I1E.grad
def _(ctx, g):
    # d/dx I1e = I0e - I1e (sign(x) + 1/x); the limit at 0 is 1/2
    x, y = ctx.inputs[0], ctx.output
    return (g * (apply(_I0E, (x,)) - y * x.sgn() - _safe_div(y, x, 0.5)),)


i0e = _wrapper("i0e", _I0E)
i1e = _wrapper("i1e", _I1E)
i1 = _wrapper("i1", _I1)
erfcx = _special_unary(
    "erfcx", _kernel("erfcx", lambda x: (xp.exp(x * x) * B.erfc(x)).astype(x.dtype)),
    lambda g, x, y: g * (2 * x * y - 2 / math.sqrt(math.pi)))
ndtr = _special_unary("ndtr", _ndtr, lambda g, x, y: g * (-0.5 * x * x).exp() / _SQRT2PI)
ndtri = _special_unary("ndtri", _kernel("ndtri", _ndtri_fb),
                       lambda g, x, y: g * _SQRT2PI * (0.5 * y * y).exp())
log_ndtr = _special_unary("log_ndtr", _kernel("log_ndtr", _log_ndtr_fb),
                          lambda g, x, y: g * (-0.5 * x * x - y).exp() / _SQRT2PI)
entr = _special_unary("entr", _entr,
                      lambda g, x, y: (-g * (x.log() + 1)).masked_fill(x == 0, -math.inf)
                      .masked_fill(x < 0, math.nan))


def _xlog1py(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        dt = np.result_type(x, y)
        r = xp.where(x == 0, xp.zeros((), dt), x * xp.log1p(y))
        return xp.where(xp.isnan(y), y, r).astype(dt, copy=False)


# binary() publishes ember.<name>; torch has xlog1py only in torch.special, so the public
# entry is removed again below and ember.special exports it.
_xlog1py_fn = binary("special_xlog1py", _xlog1py,
                     lambda g, a, b, y: g * (b.log1p() if isinstance(b, Tensor)
                                             else math.log1p(b)),
                     lambda g, a, b, y: g * a / (b + 1), save="x", to_float=True,
                     node_name="SpecialXlog1pyBackward0")


def _zeta(x, q):
    sp = _sp()
    if sp is None:
        raise NotImplementedError("zeta needs SciPy on the NumPy backend")
    return np.asarray(sp.zeta(x, q)).astype(np.result_type(x, q), copy=False)


_zeta_fn = binary("special_zeta", _zeta, to_float=True, differentiable=False)
for _n in ("special_xlog1py", "special_zeta"):
    FUNCTIONS.pop(_n)
    METHODS.pop(_n)
    METHODS.pop(_n + "_")


def xlog1py(input, other, *, out=None):
    """``input * log1p(other)``, 0 where ``input == 0`` (NaN ``other`` propagates)."""
    return _xlog1py_fn(input, other, out=out)


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function ``sum_k (k + other) ** -input`` (no gradient, as PyTorch)."""
    return _zeta_fn(input, other, out=out)
