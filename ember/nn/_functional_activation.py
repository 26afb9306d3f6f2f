"""``nn.functional``: activations (fused single-node kernels) and softmax variants."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember._backends import xp_of
from ember._graph import GRAD
from ember._ops.core import OpDef, apply
from ember._ops.elementwise import _kernel_for, _sigmoid_passes, _threaded
from ember._ops.elementwise import relu as _core_relu
from ember._random import _gen
from ember._tensor import Tensor
from ember.nn._functional_common import (_composite_grad, _float_input, _maybe_inplace, _state, _t)

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu",
    "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign",
    "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "tanhshrink", "softshrink",
    "hardshrink", "threshold", "threshold_", "sigmoid", "tanh", "logsigmoid", "softmax",
    "log_softmax", "softmin", "glu",
]


# --------------------------------------------------------------------------- activations
def _activation(name, fwd, dfwd, composite, save="x", node_name=None, attrs=()):
    """A fused activation: ``fwd(x, *p)`` and ``dfwd(g, x_or_y, *p)`` on arrays; the
    differentiable ``composite(x, *p)`` in ember ops serves double backward."""
    bwd_op = OpDef(name + "_backward", dfwd, None, differentiable=False, attrs=attrs)

    def bwd(ctx, g):
        if GRAD.enabled:
            return _composite_grad(ctx, g, composite)
        saved = ctx.inputs[0] if save == "x" else ctx.output
        return (apply(bwd_op, (g, saved), ctx.params),)

    if save == "y":
        def bwd(ctx, g):  # noqa: F811  (output-saving activations compose from y)
            y = ctx.output
            if GRAD.enabled:
                return (composite_y(g, y, *ctx.params),)
            return (apply(bwd_op, (g, y), ctx.params),)
        composite_y = composite
    return OpDef(name, fwd, bwd, save=save, fusible=True, node_name=node_name, attrs=attrs)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(0, x)``: the core ``relu`` op (its backward is one branch-free select).

    Example::

        >>> F.relu(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    _t(input, "relu")
    return _maybe_inplace(_core_relu, "relu_", input, (), inplace)


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`.

    Args:
        input: the input tensor.

    Returns:
        ``input``, modified in place.

    Example:
        >>> x = ember.tensor([-1.0, 2.0])
        >>> F.relu_(x)
        tensor([0., 2.])
        >>> x
        tensor([0., 2.])
    """
    return relu(input, inplace=True)


def _hardtanh_fwd(x, lo, hi):
    return np.clip(x, lo, hi)


def _hardtanh_dfwd(g, x, lo, hi):
    return np.where((x > lo) & (x < hi), g, 0).astype(g.dtype)


_HARDTANH = _activation("hardtanh", _hardtanh_fwd, _hardtanh_dfwd,
                        lambda x, lo, hi: x.clamp(lo, hi),
                        attrs=("min_val", "max_val"))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamp to ``[min_val, max_val]``; the gradient is 0 outside the open interval."""
    _float_input(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(lambda x, a, b: apply(_HARDTANH, (x,), (a, b)), "hardtanh_", input,
                          (min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_fwd(x, s):
    if 0 < s <= 1 and type(x) is np.ndarray and x.ndim:
        # max(x, s * x) is the same function for such slopes (NaN, -0.0 and infinities
        # alike) in two passes instead of compare, multiply, select and copy (~7x faster);
        # one threaded pass on larger arrays (NOTE [ Threaded elementwise kernels ])
        if x.size >= _KERNEL_MIN:
            y = _threaded("maximum(a, a * b)", "f", (x, s))
            if y is not None:
                return y
        y = np.multiply(x, s)
        return np.maximum(x, y, out=y)
    return np.where(x > 0, x, x * s).astype(x.dtype, copy=False)


def _leaky_dfwd(g, x, s):
    if g.size >= _KERNEL_MIN and type(g) is np.ndarray and g.dtype == x.dtype:
        # one threaded pass instead of compare, multiply, select and a copy (a DCGAN step's
        # six leaky_relu gradients: ~0.5 ms of ~9.5)
        r = _threaded("where(b > 0, a, a * c)", "f", (g, x, s))
        if r is not None:
            return r
    return np.where(x > 0, g, g * s).astype(g.dtype, copy=False)


_KERNEL_MIN = 1 << 12


_LEAKY = _activation("leaky_relu", _leaky_fwd, _leaky_dfwd,
                     lambda x, s: x.clamp(min=0) + x.clamp(max=0) * s,
                     attrs=("negative_slope",))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``negative_slope * x``."""
    _float_input(input, "leaky_relu")
    return _maybe_inplace(lambda x, s: apply(_LEAKY, (x,), (s,)), "leaky_relu_", input,
                          (negative_slope,), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Leaky ReLU with a learned slope per channel (dim 1) or one shared slope."""
    _t(input, "prelu")
    n = weight.numel()
    if n != 1:
        if input.dim() < 2 or input.shape[1] != n:
            c = input.shape[1] if input.dim() >= 2 else 1
            raise RuntimeError(f"prelu(): mismatch of parameter numbers and input channel size. "
                               f"Found parameter numbers = {n} and channel size = {c}.")
        w = weight.reshape((1, n) + (1,) * (input.dim() - 2))
    else:
        w = weight.reshape(())
    return input.clamp(min=0) + w * input.clamp(max=0)


def _rrelu_fwd(x, lower, upper):
    """``rrelu_with_noise`` record: ``(x, lower, upper)`` -> ``(y, noise)`` with a slope drawn
    uniformly from ``[lower, upper]`` for each negative element (1 elsewhere); the noise is
    the forward state of the backward ``g * noise`` (NOTE [ Forward state as outputs ])."""
    xp = xp_of(x)
    slopes = _gen(None).uniform(lower, upper, x.shape).astype(x.dtype)
    noise = xp.where(x >= 0, 1, slopes).astype(x.dtype)
    return x * noise, noise


def _rrelu_bwd(ctx, grads):
    noise, = _state(ctx)
    return (grads[0] * Tensor._wrap(noise),)


_RRELU = OpDef("rrelu_with_noise", _rrelu_fwd, _rrelu_bwd, multi=True, public=1, random=True,
               attrs=("lower", "upper"), node_name="RreluWithNoiseBackward0")


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: random slopes in ``[lower, upper]`` when training, else the
    mean slope."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    attrs = (float(lower), float(upper))
    return _maybe_inplace(lambda x: apply(_RRELU, (x,), attrs), "rrelu_",
                          input, (), inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def _elu_fwd(x, alpha, scale, input_scale):
    neg = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
    return np.where(x > 0, x * scale, neg).astype(x.dtype)


def _elu_dfwd(g, x, alpha, scale, input_scale):
    d = np.exp(np.minimum(x, 0) * input_scale) * (alpha * scale * input_scale)
    return (g * np.where(x > 0, scale, d)).astype(g.dtype)


def _elu_comp(x, alpha, scale, input_scale):
    return x.clamp(min=0) * scale + ((x.clamp(max=0) * input_scale).expm1()) * (alpha * scale)


_ELU = _activation("elu", _elu_fwd, _elu_dfwd, _elu_comp,
                   attrs=("alpha", "scale", "input_scale"))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    _float_input(input, "elu")
    return _maybe_inplace(lambda x, a: apply(_ELU, (x,), (a, 1.0, 1.0)), "elu_", input,
                          (alpha,), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    _float_input(input, "selu")
    return _maybe_inplace(lambda x: apply(_ELU, (x,), (_SELU_ALPHA, _SELU_SCALE, 1.0)),
                          "selu_", input, (), inplace)


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _float_input(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(lambda x, a: apply(_ELU, (x,), (a, 1.0, 1.0 / a)), "celu_", input,
                          (alpha,), inplace)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, True)


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu_fwd(x, approx):
    from ember._backends import KERNELS
    from ember._codegen import eager

    y = eager.gelu(x, approx)  # one generated kernel (None: not a host float array)
    if y is not None:
        return y
    if approx == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_PI
        return (x * 0.5 * (1 + np.tanh(inner))).astype(x.dtype)
    return (x * 0.5 * (1 + KERNELS.erf(x / _SQRT_2))).astype(x.dtype)


def _gelu_dfwd(g, x, approx):
    from ember._backends import KERNELS
    from ember._codegen import eager

    gx = eager.gelu_backward(g, x, approx)
    if gx is not None:
        return gx
    if approx == "tanh":
        x2 = x * x
        t = np.tanh((x + x2 * x * 0.044715) * _SQRT_2_PI)
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x2)
    else:
        d = 0.5 * (1 + KERNELS.erf(x / _SQRT_2)) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * d).astype(g.dtype)


def _gelu_comp(x, approx):
    if approx == "tanh":
        return x * 0.5 * (1 + ((x + x * x * x * 0.044715) * _SQRT_2_PI).tanh())
    return x * 0.5 * (1 + (x / _SQRT_2).erf())


_GELU = _activation("gelu", _gelu_fwd, _gelu_dfwd, _gelu_comp,
                    attrs=("approximate",))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``; ``approximate='tanh'`` uses the tanh approximation."""
    _float_input(input, "gelu")
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not "
                        f"{type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return apply(_GELU, (input,), (approximate,))


# 1 / (1 + exp(-x)), accurate for the smallest results (the tanh form rounds them to 0:
# silu(-30) and log_sigmoid's gradient at 30 came out 0): the sigmoid op's NumPy passes
# (exp's overflow to inf is the limit, not an error; 0-dim arrays stay arrays)
_sig = _sigmoid_passes


def _silu_fwd(x):
    # NOTE [ Threaded elementwise kernels ]: one threaded pass on large float32 arrays
    r = _kernel_for("silu", x)
    if r is not None:
        return r
    with np.errstate(over="ignore", invalid="ignore"):  # silu(-inf) = -inf / inf: nan
        e = np.exp(-x, out=np.empty_like(x))  # (an array for 0-dim input too: out= below)
        e += 1
        return np.divide(x, e, out=e).astype(x.dtype, copy=False)


def _silu_dfwd(g, x):
    # NOTE [ Threaded elementwise kernels ]: one threaded pass on large float32 arrays
    r = _kernel_for("silu_backward", g, x)
    if r is not None:
        return r
    s = _sig(x)
    return (g * (s * (1 + x * (1 - s)))).astype(g.dtype)


_SILU = _activation("silu", _silu_fwd, _silu_dfwd, lambda x: x * x.sigmoid())


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    _float_input(input, "silu")
    return _maybe_inplace(lambda x: apply(_SILU, (x,)), "silu_", input, (), inplace)


def _softplus_arr(z):
    # log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _mish_fwd(x):
    return (x * np.tanh(_softplus_arr(x))).astype(x.dtype)


def _mish_dfwd(g, x):
    t = np.tanh(_softplus_arr(x))
    return (g * (t + x * _sig(x) * (1 - t * t))).astype(g.dtype)


def _softplus_comp(x, beta=1.0, threshold=20.0):
    z = x * beta
    sp = (z.clamp(min=0) + (-z.abs()).exp().log1p()) / beta
    from ember import where

    return where(z > threshold, x, sp)


_MISH = _activation("mish", _mish_fwd, _mish_dfwd, lambda x: x * _softplus_comp(x).tanh())


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    _float_input(input, "mish")
    return _maybe_inplace(lambda x: apply(_MISH, (x,)), "mish_", input, (), inplace)


def _softplus_fwd(x, beta, threshold):
    z = x * beta
    return np.where(z > threshold, x, _softplus_arr(z) / beta).astype(x.dtype)


def _softplus_dfwd(g, x, beta, threshold):
    z = x * beta
    return np.where(z > threshold, g, g * _sig(z)).astype(g.dtype)


_SOFTPLUS = _activation("softplus", _softplus_fwd, _softplus_dfwd, _softplus_comp,
                        attrs=("beta", "threshold"))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    _float_input(input, "softplus")
    return apply(_SOFTPLUS, (input,), (beta, threshold))


def _softsign_fwd(x):
    return x / (1 + np.abs(x))


def _softsign_dfwd(g, x):
    d = 1 + np.abs(x)
    return g / (d * d)


_SOFTSIGN = _activation("softsign", _softsign_fwd, _softsign_dfwd, lambda x: x / (1 + x.abs()))


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    _float_input(input, "softsign")
    return apply(_SOFTSIGN, (input,))


def _hardswish_fwd(x):
    return (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype)


def _hardswish_dfwd(g, x):
    # PyTorch's convention at the kinks: x < -3 -> 0, -3 <= x <= 3 -> x/3 + 1/2, x > 3 -> 1
    d = np.where(x < -3, 0, np.where(x <= 3, x / 3 + 0.5, 1))
    return (g * d).astype(g.dtype)


_HARDSWISH = _activation("hardswish", _hardswish_fwd, _hardswish_dfwd,
                         lambda x: x * (x + 3).clamp(0, 6) / 6)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    _float_input(input, "hardswish")
    return _maybe_inplace(lambda x: apply(_HARDSWISH, (x,)), "hardswish_", input, (), inplace)


def _hardsigmoid_fwd(x):
    return (np.clip(x + 3, 0, 6) / 6).astype(x.dtype)


def _hardsigmoid_dfwd(g, x):
    return np.where((x > -3) & (x < 3), g / 6, 0).astype(g.dtype)


_HARDSIGMOID = _activation("hardsigmoid", _hardsigmoid_fwd, _hardsigmoid_dfwd,
                           lambda x: (x + 3).clamp(0, 6) / 6)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    _float_input(input, "hardsigmoid")
    return _maybe_inplace(lambda x: apply(_HARDSIGMOID, (x,)), "hardsigmoid_", input, (),
                          inplace)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - input.tanh()


def _shrink_fwd(x, lambd, soft):
    keep = np.abs(x) > lambd
    if soft:
        return np.where(keep, x - np.sign(x) * lambd, 0).astype(x.dtype)
    return np.where(keep, x, 0).astype(x.dtype)


def _shrink_dfwd(g, x, lambd, soft):  # noqa: ARG001 - a record attribute, in the record's attrs order
    return np.where(np.abs(x) > lambd, g, 0).astype(g.dtype)


def _shrink_comp(x, lambd, soft):
    keep = (x.abs() > lambd).to(x.dtype)
    return (x - x.sign() * lambd) * keep if soft else x * keep


_SHRINK = _activation("shrink", _shrink_fwd, _shrink_dfwd, _shrink_comp,
                      attrs=("lambd", "soft"))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    _float_input(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return apply(_SHRINK, (input,), (lambd, True))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    _float_input(input, "hardshrink")
    return apply(_SHRINK, (input,), (lambd, False))


def _threshold_fwd(x, th, value):
    return np.where(x > th, x, value).astype(x.dtype)


def _threshold_dfwd(g, x, th, value):  # noqa: ARG001 - a record attribute, in the record's attrs order
    return np.where(x > th, g, 0).astype(g.dtype)


def _threshold_comp(x, th, value):
    m = (x > th).to(x.dtype)
    return x * m + (1 - m) * value


_THRESHOLD = _activation("threshold", _threshold_fwd, _threshold_dfwd, _threshold_comp,
                         attrs=("threshold", "value"))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    _t(input, "threshold")
    return _maybe_inplace(lambda x, t, v: apply(_THRESHOLD, (x,), (t, v)), "threshold_", input,
                          (threshold, value), inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return globals()["threshold"](input, threshold, value, True)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return input.tanh()


def _logsigmoid_fwd(x):
    return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype)


def _logsigmoid_dfwd(g, x):
    return (g * _sig(-x)).astype(g.dtype)


_LOGSIGMOID = _activation("log_sigmoid", _logsigmoid_fwd, _logsigmoid_dfwd,
                          lambda x: x.clamp(max=0) - (-x.abs()).exp().log1p())


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably."""
    _float_input(input, "log_sigmoid_forward")
    return apply(_LOGSIGMOID, (input,))


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return input.softmax(dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return input.log_softmax(dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.dim()
    if input.shape[d] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()
