"""Special functions the distributions need, with gradients of every order.

``lgamma -> digamma -> polygamma(1) -> polygamma(2) -> ...``: each op's backward is the next
one, so entropies and KL divergences of Gamma/Beta/Dirichlet differentiate (twice, too).
The kernels are NumPy-only (series and asymptotic expansions), so SciPy is not required.
"""

from __future__ import annotations

import math

import numpy as np

from ember._backends import KERNELS as B
from ember._ops.core import OpDef, apply
from ember._tensor import Tensor

# Bernoulli numbers B_2k for the asymptotic expansions
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def digamma_np(x):
    """psi(x) for real x (float arrays); poles give nan/inf like SciPy."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    neg = x < 0.5
    with np.errstate(all="ignore"):
        # reflection: psi(1 - x) - psi(x) = pi cot(pi x)
        xr = np.where(neg, 1.0 - x, x)
        acc = np.zeros_like(xr)
        while True:
            small = xr < 10
            if not small.any():
                break
            acc = np.where(small, acc - 1.0 / xr, acc)
            xr = np.where(small, xr + 1.0, xr)
        inv2 = 1.0 / (xr * xr)
        series = 0.0
        p = inv2
        for k, b in enumerate(_B2K, start=1):
            series = series + b / (2 * k) * p
            p = p * inv2
        r = np.log(xr) - 0.5 / xr - series + acc
        refl = r - math.pi / np.tan(math.pi * x)
        out = np.where(neg, refl, r)
        out = np.where((x <= 0) & (x == np.floor(x)), np.nan, out)
    return out


def polygamma_np(n, x):
    """psi^(n)(x) for integer n >= 1 and x > 0 (recurrence, then the asymptotic series)."""
    x = np.asarray(x, dtype=np.float64)
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    with np.errstate(all="ignore"):
        acc = np.zeros_like(x)
        xr = x.copy()
        lim = 10.0 + n
        while True:
            small = xr < lim
            if not small.any():
                break
            acc = np.where(small, acc + 1.0 / xr ** (n + 1), acc)
            xr = np.where(small, xr + 1.0, xr)
        fact = math.factorial(n)
        s = math.factorial(n - 1) / xr ** n + fact / (2 * xr ** (n + 1))
        for k, b in enumerate(_B2K, start=1):
            s = s + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / xr ** (2 * k + n)
        r = sign * (s + fact * acc)
        r = np.where(x <= 0, np.where(x == np.floor(x), np.inf if n % 2 else np.nan, np.nan), r)
    return r


def _cast(r, like):
    return r.astype(like.dtype, copy=False) if like.dtype.kind == "f" else r


_DIGAMMA = OpDef("distributions_digamma", lambda x: _cast(digamma_np(x), x), None, save="x",
                 node_name="DigammaBackward0")
_POLYGAMMA = OpDef("distributions_polygamma", lambda x, n: _cast(polygamma_np(n, x), x), None,
                   save="x", node_name="PolygammaBackward0")
_LGAMMA = OpDef("distributions_lgamma", lambda x: B.lgamma(x), None, save="x",
                node_name="LgammaBackward0")


@_DIGAMMA.grad
def _(ctx, g):
    x, = ctx.inputs
    return (g * apply(_POLYGAMMA, (x,), (1,)),)


@_POLYGAMMA.grad
def _(ctx, g):
    x, = ctx.inputs
    return (g * apply(_POLYGAMMA, (x,), (ctx.params[0] + 1,)),)


@_LGAMMA.grad
def _(ctx, g):
    x, = ctx.inputs
    return (g * apply(_DIGAMMA, (x,)),)


def _float(x):
    if x._data.dtype.kind not in "fc":
        from ember import _dtype as D

        return x.to(D.get_default_dtype())
    return x


def digamma(x: Tensor) -> Tensor:
    """psi(x) = d/dx log Gamma(x), differentiable to any order."""
    return apply(_DIGAMMA, (_float(x),))


def polygamma(n: int, x: Tensor) -> Tensor:
    """n-th derivative of digamma, differentiable to any order."""
    if n == 0:
        return digamma(x)
    return apply(_POLYGAMMA, (_float(x),), (int(n),))


def lgamma(x: Tensor) -> Tensor:
    """log |Gamma(x)|, differentiable to any order."""
    return apply(_LGAMMA, (_float(x),))


def xlogy(x: Tensor, y: Tensor) -> Tensor:
    """x * log(y), with 0 where x == 0 (also for y == 0)."""
    zero = x == 0
    return (x * y.masked_fill(zero & (y == 0), 1.0).log()).masked_fill(zero & ~y.isnan(), 0.0)


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), stable for large |x|."""
    return x.clamp(min=0) + (-x.abs()).exp().log1p()
