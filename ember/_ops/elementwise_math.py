"""More elementwise math: hypot, logaddexp(2), xlogy, copysign, float_power, sinc, i0, logit,
polygamma, ldexp, frexp, deg2rad/rad2deg, signbit, heaviside, gcd/lcm, nextafter, shifts.

Each op is one ``unary``/``binary`` record (NOTE [ The op pattern ] in core.py).
"""

from __future__ import annotations

import math

import numpy as np

from ember import _dtype as D
from ember._backends import DEFAULT, xp_of
from ember._backends import KERNELS as B
from ember._ops.core import FUNCTIONS, METHODS, OpDef, apply, register, write_out
from ember._ops.elementwise import _no_bool
from ember._ops.elementwise import binary, pow, unary, where
from ember._tensor import Tensor
from ember._ops.outarg import with_out

xp = DEFAULT.xp


def _nz_div(num, den):
    """num / den, 0 where den == 0 (for gradients defined as 0 at singular points)."""
    return where(den == 0, 0.0, num / den.masked_fill(den == 0, 1))


hypot = binary("hypot", xp.hypot, lambda g, a, b, y: g * _nz_div(a, y),
               lambda g, a, b, y: g * _nz_div(b, y), save="xy", to_float=True)
logaddexp = binary("logaddexp", xp.logaddexp, lambda g, a, b, y: g * (a - y).exp(),
                   lambda g, a, b, y: g * (b - y).exp(), save="xy", to_float=True)
logaddexp2 = binary("logaddexp2", xp.logaddexp2,
                    lambda g, a, b, y: g * ((a - y) * math.log(2.0)).exp(),
                    lambda g, a, b, y: g * ((b - y) * math.log(2.0)).exp(), save="xy",
                    to_float=True)


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = xp.where(x == 0, xp.zeros((), np.result_type(x, y)), x * xp.log(y))
        return xp.where(xp.isnan(y), y, r).astype(np.result_type(x, y), copy=False)


xlogy = binary("xlogy", _xlogy,
               lambda g, a, b, y: g * (b.log() if isinstance(b, Tensor) else math.log(b)),
               lambda g, a, b, y: g * a / b, save="x", to_float=True)


def _copysign_grad(g, a, b, y):  # noqa: ARG001 - the backward formula's fixed signature
    return g * _nz_div(y, a)


copysign = binary("copysign", xp.copysign, _copysign_grad, lambda g, a, b, y: g * 0,
                  save="xy", to_float=True)


def _kind(v):
    """The dtype kind of an array or a number (without a host copy of device arrays)."""
    return v.dtype.kind if hasattr(v, "dtype") else np.asarray(v).dtype.kind


def _float_power(a, b):
    dt = np.complex128 if "c" in (_kind(a), _kind(b)) else np.float64
    xp = xp_of(a if hasattr(a, "dtype") else b)
    # float_power follows C's pow at the edges (pow(-inf, 0.5) is +inf), as PyTorch does;
    # NumPy's power gives NaN there, its float_power doesn't.
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.float_power(xp.asarray(a, dt), xp.asarray(b, dt))


def _fp_grad_a(g, a, b, y):  # noqa: ARG001 - the backward formula's fixed signature
    return g * b * _as64(a).pow(b - 1) if isinstance(b, Tensor) or b != 0 else g * 0


def _fp_grad_b(g, a, b, y):
    if isinstance(a, Tensor):
        la = where(a == 0, 1.0, _as64(a)).log()
        return g * (y * la).masked_fill((a == 0) & (b >= 0), 0)
    return g * y * math.log(a) if a > 0 else g * 0


def _as64(t):
    return t.double() if isinstance(t, Tensor) and t.dtype.category < D.COMPLEX else t


float_power = binary("float_power", _float_power, _fp_grad_a, _fp_grad_b, save="xy",
                     second="exponent")
bitwise_left_shift = binary("bitwise_left_shift", _no_bool("lshift_cpu", xp.left_shift),
                            ints_only=True)
bitwise_right_shift = binary("bitwise_right_shift", _no_bool("rshift_cpu", xp.right_shift),
                             ints_only=True)
gcd = binary("gcd", xp.gcd, ints_only=True)
lcm = binary("lcm", xp.lcm, ints_only=True)
nextafter = binary("nextafter", xp.nextafter, differentiable=False)
def _heaviside(a, b):
    # NumPy computes bool inputs in float16; PyTorch keeps the promoted dtype
    dt = np.result_type(a, b)
    xp = xp_of(a if hasattr(a, "dtype") else b)
    r = xp.heaviside(a, b)
    if _kind(a) == "f":  # heaviside(NaN, v) is 0 in PyTorch (NaN > 0 fails)
        r = xp.where(xp.isnan(a), 0, r)
    return r.astype(dt, copy=False)


heaviside = binary("heaviside", _heaviside, differentiable=False, second="values")
METHODS["__lshift__"] = bitwise_left_shift.core
METHODS["__rshift__"] = bitwise_right_shift.core


def _sinc(x):
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.sinc(x).astype(x.dtype, copy=False)


def _sinc_grad(g, x, y):
    # d sinc/dx = (cos(pi x) - sinc(x)) / x, which is 0 at x = 0
    return g * _nz_div((x * math.pi).cos() - y, x)


sinc = unary("sinc", _sinc, lambda g, x, y: _sinc_grad(g, x, y), save="xy")
i0 = unary("i0", lambda x: xp.i0(x).astype(x.dtype, copy=False),
           lambda g, x, y: g * apply(_I1, (x,)))
_I1 = OpDef("special_i1", B.i1, None, save="xy")


@_I1.grad
def _(ctx, g):
    # d/dx I1 = I0 - I1 / x, whose limit at x = 0 is 1/2 (so i0 has a second derivative)
    x, y = ctx.inputs[0], ctx.output
    return (g * (x.i0() - where(x == 0, 0.5, y / x.masked_fill(x == 0, 1))),)
deg2rad = unary("deg2rad", lambda x: x * x.dtype.type(math.pi / 180),
                lambda g, x, y: g * (math.pi / 180), save="")
rad2deg = unary("rad2deg", lambda x: x * x.dtype.type(180 / math.pi),
                lambda g, x, y: g * (180 / math.pi), save="")
signbit = unary("signbit", xp.signbit, None, save="", to_float=False, differentiable=False,
                inplace=False)


@register
def positive(input):
    if input._data.dtype.kind == "b":
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


def _logit_fwd(x, eps):
    xp = xp_of(x)
    if eps is not None:
        if eps <= 0.5:
            x = xp.clip(x, eps, 1 - eps)
        else:  # bounds crossed: PyTorch tests the lower one first (clip lets the upper win)
            x = xp.where(x < eps, x.dtype.type(eps), xp.minimum(x, x.dtype.type(1 - eps)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.log(x / (1 - x))


_LOGIT = OpDef("logit", _logit_fwd, None, save="x")


@_LOGIT.grad
def _(ctx, g):
    (x,) = ctx.inputs
    (eps,) = ctx.params
    gx = g / (x * (1 - x))
    if eps is not None:
        gx = gx.masked_fill((x < eps) | (x > 1 - eps), 0)
    return (gx,)


@register(inplace=True)
def logit(input, eps=None, *, out=None):
    if input._data.dtype.kind in "biu":
        input = input.to(D.get_default_dtype())
    r = apply(_LOGIT, (input,), (eps,))
    return write_out("logit", out, r) if out is not None else r


def _polygamma_fwd(x, n):
    r = B.polygamma(n, x)
    if n == 0:
        return r
    # PyTorch's infinities: trigamma's reflection gives nan at -inf, and n >= 2 goes through
    # zeta(n + 1, x), which is nan at x = +inf (the kernels answer the limits, inf and 0)
    bad = x.dtype.type(-np.inf if n == 1 else np.inf)
    return xp_of(r).where(x == bad, r.dtype.type(np.nan), r)


_POLYGAMMA = OpDef("polygamma", _polygamma_fwd, None, save="x")


@_POLYGAMMA.grad
def _(ctx, g):
    (x,) = ctx.inputs
    (n,) = ctx.params
    return (g * apply(_POLYGAMMA, (x,), (n + 1,)),)


def polygamma(n, input, *, out=None):
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got {n})")
    if input._data.dtype.kind in "biu":
        input = input.to(D.get_default_dtype())
    r = apply(_POLYGAMMA, (input,), (n,))
    return write_out("polygamma", out, r) if out is not None else r


FUNCTIONS["polygamma"] = polygamma
METHODS["polygamma"] = lambda self, n: polygamma(n, self)


@register
def ldexp(input, other, *, out=None):
    # input * 2.0 ** other, promoted by PyTorch's rules exactly as that expression is
    # (2.0 ** an integer tensor is in the default float dtype)
    two_pow = (2.0 ** other) if not isinstance(other, Tensor) else pow(2.0, other)
    r = input * two_pow
    if r._data.dtype.kind in "biu":
        r = r.to(D.get_default_dtype())
    return write_out("ldexp", out, r) if out is not None else r


@register
@with_out("frexp")
def frexp(input, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got "
                           f"{input.dtype}")
    return apply(_FREXP, (input,))


_FREXP = OpDef("frexp", lambda x: (lambda m, e: (m, e.astype(np.int32)))(*xp_of(x).frexp(x)),
               None, differentiable=False, multi=True)
