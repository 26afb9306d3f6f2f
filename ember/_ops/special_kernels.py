"""The special-function records behind ``ember.special`` (i1, i0e, i1e, erfcx, ndtr, ndtri,
log_ndtr, entr, xlog1py, zeta, gammainc/gammaincc, the Bessel and Airy functions, the
orthogonal polynomials) and the multivariate lgamma: records whose backward formulas sit
beside them (NOTE [ The op pattern ] in core.py). Their kernels are backend kernels
(``KERNELS``): SciPy's when it is installed (loaded on first use), the NumPy ones of
``ember/_backends/special_math.py`` otherwise (NOTE [ Special functions without SciPy ]).
"""

from __future__ import annotations

import math

import numpy as np

from ember import _dtype as ember_dtype
from ember._backends import DEFAULT, xp_of
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
        input: the tensor; integers compute in the default float dtype. The function's
            domain is ``x > (p - 1) / 2``; outside it the lgamma sum's value comes back
            (inf, nan or a finite number), unchecked, as in PyTorch 2.x.
        p: the number of dimensions (>= 1).

    Example:
        >>> ember.mvlgamma(ember.tensor([2.5]), 2)
        tensor([0.8600])
    """
    _check_tensor("mvlgamma", input)
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1 (got {p})")
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError("mvlgamma: The input tensor may not be a boolean tensor.")
    if kind == "c":
        raise _not_implemented("mvlgamma", input._data.dtype)
    if kind in "iu":  # PyTorch promotes integer input (its in-place form refuses the cast)
        input = input.to(ember_dtype.get_default_dtype())
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


def _ndtr(x):
    return (0.5 * B.erfc(-x / x.dtype.type(_SQRT2))).astype(x.dtype, copy=False)


def _ndtri_fb(p):
    with np.errstate(invalid="ignore"):
        return (_SQRT2 * B.erfinv(2 * p - 1)).astype(p.dtype, copy=False)


def _entr(x):
    xp = xp_of(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = -x * xp.log(xp.where(x > 0, x, x.dtype.type(1)))
    # +0.0 at 0 as PyTorch (-0 * log(1) is -0.0); entr(1) stays -0.0, as there
    r = xp.where(x == 0, x.dtype.type(0), r)
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


_I0E = OpDef("special_i0e", lambda x: B.i0e(x), None, save="xy")
_I1E = OpDef("special_i1e", lambda x: B.i1e(x), None, save="xy")


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
    "erfcx", lambda x: B.erfcx(x),
    lambda g, x, y: g * (2 * x * y - 2 / math.sqrt(math.pi)))
ndtr = _special_unary("ndtr", _ndtr, lambda g, x, y: g * (-0.5 * x * x).exp() / _SQRT2PI)
ndtri = _special_unary("ndtri", _kernel("ndtri", _ndtri_fb),
                       lambda g, x, y: g * _SQRT2PI * (0.5 * y * y).exp())
log_ndtr = _special_unary("log_ndtr", lambda x: B.log_ndtr(x),
                          lambda g, x, y: g * (-0.5 * x * x - y).exp() / _SQRT2PI)
entr = _special_unary("entr", _entr,
                      lambda g, x, y: (-g * (x.log() + 1)).masked_fill(x == 0, -math.inf)
                      .masked_fill(x < 0, math.nan))


def _xlog1py(x, y):
    xp = xp_of(x if hasattr(x, "dtype") else y)
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


def _broadcast(a, b):
    """Both operands at their broadcast shape when both are arrays of different shapes, so a
    backend kernel shaped like its first argument (the meta device's) gets the right shape."""
    sa, sb = getattr(a, "shape", None), getattr(b, "shape", None)
    if sa is not None and sb is not None and sa != sb:
        return xp_of(a).broadcast_arrays(a, b)
    return a, b


def _zeta(x, q):
    x, q = _broadcast(x, q)
    r = B.zeta(x, q)
    # Cephes' order, as PyTorch: the pole at x == 1 first (inf even for q = nan or inf),
    # then q = -inf counts as a non-positive integer q (inf) unless x < 1 (nan); q = +inf
    # gives nan (SciPy's and cupyx's kernels answer the limit 0 there).
    xp = xp_of(r)
    t = r.dtype.type
    r = xp.where(q == np.inf, t(np.nan), r)
    pole = (x == 1) | ((q == -np.inf) & ~(x < 1))
    return xp.where(pole, t(np.inf), r).astype(np.result_type(x, q), copy=False)


_zeta_fn = binary("special_zeta", _zeta, to_float=True, differentiable=False)


# =============================================================================== gammainc
# NOTE [ Incomplete gamma gradients ]: as in PyTorch, P(a, x) and Q(a, x) differentiate in x
# only (d/dx P = x^(a-1) e^-x / Gamma(a), written in ember ops so it differentiates again);
# asking for the gradient in a raises NotImplementedError at backward, with PyTorch's text.
def _igamma_dx(a, x):
    la = a.lgamma() if isinstance(a, Tensor) else math.lgamma(a)
    lx = x.log() if isinstance(x, Tensor) else math.log(x)
    e = (a - 1) * lx - x - la
    return e.exp() if isinstance(e, Tensor) else math.exp(e)


def _no_grad_in_a(which):
    def bwd(g, a, b, y):
        raise NotImplementedError(f"the derivative for '{which}: input' is not implemented.")

    return bwd


def _igamma_edges(a, x, r, upper):
    """PyTorch's edge rules over the kernel's result ``r``, in its order: nan for a or x
    negative; at a == 0, P = 1 for x > 0 else nan; at x == 0, P = 0; at a = inf, nan for
    x = inf else P = 0; at x = inf, P = 1 (Q = 1 - P). So a nan ``a`` still gives P(nan, 0)
    = 0, and P(inf, nan) = 0, where the kernels answer nan."""
    xp = xp_of(r)
    t = r.dtype.type
    lo, hi = (t(1), t(0)) if upper else (t(0), t(1))
    nan = t(np.nan)
    r = xp.where(xp.isinf(x), hi, r)
    r = xp.where(xp.isinf(a), xp.where(xp.isinf(x), nan, lo), r)
    r = xp.where(x == 0, lo, r)
    r = xp.where(a == 0, xp.where(x > 0, hi, nan), r)
    return xp.where((x < 0) | (a < 0), nan, r)


def _gammainc_kernel(a, x):
    a, x = _broadcast(a, x)
    r = B.gammainc(a, x).astype(np.result_type(a, x), copy=False)
    return _igamma_edges(a, x, r, False)


def _gammaincc_kernel(a, x):
    a, x = _broadcast(a, x)
    r = B.gammaincc(a, x).astype(np.result_type(a, x), copy=False)
    return _igamma_edges(a, x, r, True)


_gammainc_fn = binary("special_gammainc", _gammainc_kernel, _no_grad_in_a("igamma"),
                      lambda g, a, x, y: g * _igamma_dx(a, x), save="x", to_float=True,
                      node_name="IgammaBackward0")
_gammaincc_fn = binary("special_gammaincc", _gammaincc_kernel, _no_grad_in_a("igammac"),
                       lambda g, a, x, y: -g * _igamma_dx(a, x), save="x", to_float=True,
                       node_name="IgammacBackward0")


# =============================================================================== polynomials
# PyTorch's orthogonal polynomials take ``n`` as a tensor or a number, truncated to an integer
# (n < 0 gives 0); none has a derivative in PyTorch, so the records are not differentiable.
_POLY_KERNELS = {
    "chebyshev_polynomial_t": "chebyshev_t", "chebyshev_polynomial_u": "chebyshev_u",
    "chebyshev_polynomial_v": "chebyshev_v", "chebyshev_polynomial_w": "chebyshev_w",
    "shifted_chebyshev_polynomial_t": "shifted_chebyshev_t",
    "shifted_chebyshev_polynomial_u": "shifted_chebyshev_u",
    "shifted_chebyshev_polynomial_v": "shifted_chebyshev_v",
    "shifted_chebyshev_polynomial_w": "shifted_chebyshev_w",
    "hermite_polynomial_h": "hermite_h", "hermite_polynomial_he": "hermite_he",
    "laguerre_polynomial_l": "laguerre_l", "legendre_polynomial_p": "legendre_p",
}


def _poly_kernel(kernel):
    def fwd(x, n):
        x, n = _broadcast(x, n)
        return getattr(B, kernel)(x, n).astype(np.result_type(x, n), copy=False)

    return fwd


_POLY_FNS = {name: binary("special_" + name, _poly_kernel(k), to_float=True,
                          differentiable=False)
             for name, k in _POLY_KERNELS.items()}

for _n in ["special_xlog1py", "special_zeta", "special_gammainc", "special_gammaincc"] + [
        "special_" + _p for _p in _POLY_KERNELS]:
    FUNCTIONS.pop(_n)
    METHODS.pop(_n)
    METHODS.pop(_n + "_")


def _call_binary(name, fn, input, other, out):
    """Run the binary record behind ``fn``: either operand may be a number (PyTorch has
    Scalar overloads for both), not both; complex operands are refused."""
    for v in (input, other):
        if not isinstance(v, (Tensor, bool, int, float, complex, np.generic)):
            raise TypeError(f"{name}(): argument must be a Tensor or a number, not "
                            f"{type(v).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): expected at least one of input and other to be a Tensor "
                        f"(got {type(input).__name__} and {type(other).__name__})")
    for v in (input, other):
        dt = v._data.dtype if isinstance(v, Tensor) else None
        if (dt is not None and dt.kind == "c") or isinstance(v, complex):
            raise _not_implemented(name, dt if dt is not None else np.dtype(complex))
    with np.errstate(all="ignore"):
        r = fn.core(input, other)
    return write_out(name, out, r) if out is not None else r


def _incomplete_gamma(name, fn, input, other, out):
    """gammainc/gammaincc (``name``: the spelling PyTorch's messages use, e.g. ``igamma``):
    both operands tensors, as PyTorch's Tensor-Tensor-only schemas (no Scalar overload,
    unlike xlog1py and zeta), then the binary record."""
    for pos, arg, v in ((1, "input", input), (2, "other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")
    return _call_binary(name, fn, input, other, out)


def gammainc(input, other, *, out=None):
    """The regularised lower incomplete gamma function ``P(input, other)``.

    ``P(a, x) = 1/Gamma(a) int_0^x t^(a-1) e^-t dt``; nan where either argument is negative
    or both are 0. Differentiable in ``other`` only (as in PyTorch).

    Args:
        input: the shape parameter ``a`` (a tensor; numbers are refused, as PyTorch).
        other: the upper limit ``x`` (a tensor).
        out: optional output tensor.

    Returns:
        A floating tensor of the broadcast shape.

    Example:
        >>> ember.special.gammainc(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))
        tensor([0.6321, 0.2642])
    """
    return _incomplete_gamma("special_gammainc", _gammainc_fn, input, other, out)


def gammaincc(input, other, *, out=None):
    """The regularised upper incomplete gamma function ``Q(input, other) = 1 - P``.

    Args:
        input: the shape parameter ``a`` (a tensor; numbers are refused, as PyTorch).
        other: the lower limit ``x`` (a tensor).
        out: optional output tensor.

    Returns:
        A floating tensor of the broadcast shape.

    Example:
        >>> ember.special.gammaincc(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))
        tensor([0.3679, 0.7358])
    """
    return _incomplete_gamma("special_gammaincc", _gammaincc_fn, input, other, out)


def _poly_public(name, math_name, example):
    fn_core = _POLY_FNS[name]

    def fn(input, n, *, out=None):
        return _call_binary(name, fn_core, input, n, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""The {math_name} of degree ``n`` at ``input``, elementwise.

    ``n`` is truncated to an integer (a negative degree gives 0); ``input`` and ``n``
    broadcast, and either may be a number. Not differentiable (as in PyTorch).

    Args:
        input: the points (tensor or number).
        n: the degrees (tensor or number).
        out: optional output tensor.

    Returns:
        A floating tensor of the broadcast shape.

    Example:
        >>> ember.special.{name}(ember.tensor([0.5, 2.0]), 3)
        {example}
    """
    return fn


_POLY_DOCS = {
    "chebyshev_polynomial_t": ("Chebyshev polynomial of the first kind T_n",
                               "tensor([-1., 26.])"),
    "chebyshev_polynomial_u": ("Chebyshev polynomial of the second kind U_n",
                               "tensor([-1., 56.])"),
    "chebyshev_polynomial_v": ("Chebyshev polynomial of the third kind V_n",
                               "tensor([-1., 41.])"),
    "chebyshev_polynomial_w": ("Chebyshev polynomial of the fourth kind W_n",
                               "tensor([-1., 71.])"),
    "shifted_chebyshev_polynomial_t": ("shifted Chebyshev polynomial T*_n(x) = T_n(2x - 1)",
                                       "tensor([-0., 99.])"),
    "shifted_chebyshev_polynomial_u": ("shifted Chebyshev polynomial U*_n(x) = U_n(2x - 1)",
                                       "tensor([ -0., 204.])"),
    "shifted_chebyshev_polynomial_v": ("shifted Chebyshev polynomial V*_n(x) = V_n(2x - 1)",
                                       "tensor([  1., 169.])"),
    "shifted_chebyshev_polynomial_w": ("shifted Chebyshev polynomial W*_n(x) = W_n(2x - 1)",
                                       "tensor([ -1., 239.])"),
    "hermite_polynomial_h": ("physicists' Hermite polynomial H_n", "tensor([-5., 40.])"),
    "hermite_polynomial_he": ("probabilists' Hermite polynomial He_n",
                              "tensor([-1.3750,  2.0000])"),
    "laguerre_polynomial_l": ("Laguerre polynomial L_n", "tensor([-0.1458, -0.3333])"),
    "legendre_polynomial_p": ("Legendre polynomial P_n", "tensor([-0.4375, 17.0000])"),
}
for _p, (_m, _e) in _POLY_DOCS.items():
    globals()[_p] = _poly_public(_p, _m, _e)


# =============================================================================== Bessel, Airy
def _airy_ai(x):
    # Ai(x) underflows past x = 103.892, where PyTorch (Cephes) answers 0; the backend
    # kernels overflow to nan for huge finite x (+-inf stay nan, as PyTorch).
    r = B.airy_ai(x)
    return xp_of(r).where((x > 103.892) & (x < np.inf), r.dtype.type(0), r)


def _unary_doc(name, what, example, kernel=None):
    fn = _special_unary(name, kernel or getattr(B, name))
    fn.__doc__ = f"""{what}, elementwise (not differentiable, as in PyTorch).

    Computed in float64 and returned in the input's floating dtype (integers give the
    default dtype). NOTE [ Special functions without SciPy ] says how.

    Args:
        input: the tensor.
        out: optional output tensor.

    Returns:
        A floating tensor of the input's shape.

    Example:
        >>> ember.special.{name}(ember.tensor([0.5, 2.0]))
        {example}
    """
    return fn


airy_ai = _unary_doc("airy_ai", "The Airy function Ai", "tensor([0.2317, 0.0349])",
                     _airy_ai)
bessel_j0 = _unary_doc("bessel_j0", "The Bessel function of the first kind of order 0",
                       "tensor([0.9385, 0.2239])")
bessel_j1 = _unary_doc("bessel_j1", "The Bessel function of the first kind of order 1",
                       "tensor([0.2423, 0.5767])")
bessel_y0 = _unary_doc("bessel_y0", "The Bessel function of the second kind of order 0",
                       "tensor([-0.4445,  0.5104])")
bessel_y1 = _unary_doc("bessel_y1", "The Bessel function of the second kind of order 1",
                       "tensor([-1.4715, -0.1070])")
modified_bessel_i0 = _unary_doc("modified_bessel_i0",
                                "The modified Bessel function of the first kind of order 0",
                                "tensor([1.0635, 2.2796])")
modified_bessel_i1 = _unary_doc("modified_bessel_i1",
                                "The modified Bessel function of the first kind of order 1",
                                "tensor([0.2579, 1.5906])")
modified_bessel_k0 = _unary_doc("modified_bessel_k0",
                                "The modified Bessel function of the second kind of order 0",
                                "tensor([0.9244, 0.1139])")
modified_bessel_k1 = _unary_doc("modified_bessel_k1",
                                "The modified Bessel function of the second kind of order 1",
                                "tensor([1.6564, 0.1399])")
scaled_modified_bessel_k0 = _unary_doc("scaled_modified_bessel_k0",
                                       "``exp(x) K0(x)``, the scaled modified Bessel function "
                                       "of the second kind of order 0",
                                       "tensor([1.5241, 0.8416])")
scaled_modified_bessel_k1 = _unary_doc("scaled_modified_bessel_k1",
                                       "``exp(x) K1(x)``, the scaled modified Bessel function "
                                       "of the second kind of order 1",
                                       "tensor([2.7310, 1.0335])")
spherical_bessel_j0 = _unary_doc("spherical_bessel_j0",
                                 "``sin(x) / x``, the spherical Bessel function of the first "
                                 "kind of order 0", "tensor([0.9589, 0.4546])")


def xlog1py(input, other, *, out=None):
    """``input * log1p(other)``, 0 where ``input == 0`` (NaN ``other`` propagates); either
    operand may be a number."""
    return _xlog1py_fn(input, other, out=out)


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function ``sum_k (k + other) ** -input`` (no gradient, as PyTorch);
    either operand may be a number."""
    return _zeta_fn(input, other, out=out)
