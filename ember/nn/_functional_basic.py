"""``nn.functional``: linear, activations, dropout, embedding, normalisation, distances.

NOTE [ Fused nn kernels ]
Layers that run on every training step (linear, the activations, batch/layer norm,
embedding) are OpDefs: one node per call, a forward on raw arrays and a first-order backward
on raw arrays. A backward that must itself be differentiable (``create_graph=True``, i.e.
grad mode is on while the formula runs) takes a second path: it rebuilds the op from
differentiable ember ops (``_composite_grad``) and differentiates that, so double backward
is exact without a hand-written second-order formula for every kernel.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember import _dtype as D
from ember._graph import GRAD
from ember._ops.core import OpDef, apply, emit, inplace_apply
from ember._ops.elementwise import relu as _core_relu
from ember._random import _gen
from ember._tensor import Tensor

__all__ = [
    "linear", "bilinear", "identity",
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu",
    "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign",
    "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "tanhshrink", "softshrink",
    "hardshrink", "threshold", "threshold_", "sigmoid", "tanh", "logsigmoid", "softmax",
    "log_softmax", "softmin", "glu",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "embedding", "embedding_bag", "one_hot",
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "rms_norm",
    "normalize", "pairwise_distance", "cosine_similarity", "pdist",
]


# --------------------------------------------------------------------------- helpers
def _t(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def _composite_grad(ctx, g, composite):
    """Differentiable backward: re-run ``composite`` (the op in ember ops) on the saved
    inputs and differentiate it with ``create_graph=True`` (NOTE [ Fused nn kernels ])."""
    from ember.autograd import grad as _grad

    inputs = ctx.inputs
    idx = [i for i, e in enumerate(ctx.next) if e is not None]
    y = composite(*inputs, *ctx.params)
    gs = _grad(y, [inputs[i] for i in idx], g, create_graph=True, allow_unused=True)
    out = [None] * len(inputs)
    for i, gi in zip(idx, gs):
        out[i] = gi
    return tuple(out)


def _maybe_inplace(fn, name, x, args, inplace):
    if inplace:
        return inplace_apply(fn, name, x, args, {})
    return fn(x, *args)


def _float(x):
    return x._data.dtype.type


# --------------------------------------------------------------------------- linear
def _linear_fwd(x, w, b=None):
    y = np.matmul(x, w.T)
    if b is not None:
        y += b
    return y


def _linear_bwd(ctx, g):
    x, w = ctx.inputs[0], ctx.inputs[1]
    nx, nw = ctx.next[0], ctx.next[1]
    out = w.shape[0]
    gx = g.matmul(w) if nx is not None else None
    gw = gb = None
    if nw is not None:
        gw = g.reshape(-1, out).t().mm(x.reshape(-1, x.shape[-1]))
    if len(ctx.next) == 3 and ctx.next[2] is not None:
        gb = g.reshape(-1, out).sum(0)
    return (gx, gw) if len(ctx.next) == 2 else (gx, gw, gb)


_LINEAR = OpDef("linear", _linear_fwd, _linear_bwd, save="x", onnx="Gemm",
                node_name="AddmmBackward0")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y = input @ weight.T + bias``: one fused node (NOTE [ Fused nn kernels ]).

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Example::

        >>> F.linear(ember.randn(2, 3), ember.randn(4, 3)).shape
        torch.Size([2, 4])
    """
    _t(input, "linear")
    _t(weight, "linear", "weight")
    xd, wd = input._data, weight._data
    if wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[-1]:
        if wd.ndim == 1 and xd.ndim >= 1 and xd.shape[-1] == wd.shape[0]:
            y = input.matmul(weight)
            return y + bias if bias is not None else y
        raise RuntimeError(
            f"linear(): input has {xd.shape[-1] if xd.ndim else 0} features in its last "
            f"dimension (input shape {list(xd.shape)}) but the weight expects "
            f"in_features={wd.shape[-1] if wd.ndim else 0} (weight shape {list(wd.shape)})")
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"linear(): input and weight must have the same dtype, but got "
                           f"{D.FROM_NP[xd.dtype]} and {D.FROM_NP[wd.dtype]}")
    if bias is None:
        return apply(_LINEAR, (input, weight))
    if bias._data.dtype != wd.dtype:
        raise RuntimeError(f"linear(): bias and weight must have the same dtype, but got "
                           f"{bias.dtype} and {weight.dtype}")
    return apply(_LINEAR, (input, weight, bias))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y_k = input1 @ weight[k] @ input2 + bias_k``.

    Example::

        >>> F.bilinear(ember.randn(2, 3), ember.randn(2, 4), ember.randn(5, 3, 4)).shape
        torch.Size([2, 5])
    """
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input1 and input2 must have the same batch shape, "
                           f"got {list(input1.shape)} and {list(input2.shape)}")
    if weight.dim() != 3 or input1.shape[-1] != weight.shape[1] or \
            input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): expected weight of shape [out, {input1.shape[-1]}, "
                           f"{input2.shape[-1]}], got {list(weight.shape)}")
    from ember import einsum

    y = einsum("...i,kij,...j->...k", input1, weight, input2)
    return y + bias if bias is not None else y


def identity(input: Tensor) -> Tensor:
    return input


# --------------------------------------------------------------------------- activations
def _activation(name, fwd, dfwd, composite, save="x", node_name=None):
    """A fused activation: ``fwd(x, *p)`` and ``dfwd(g, x_or_y, *p)`` on arrays; the
    differentiable ``composite(x, *p)`` in ember ops serves double backward."""
    bwd_op = OpDef(name + "_backward", dfwd, None, differentiable=False)

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
    return OpDef(name, fwd, bwd, save=save, fusible=True, node_name=node_name)


def _float_input(x, name):
    _t(x, name)
    if x._data.dtype.kind in "biu":
        raise RuntimeError(f"\"{name}\" not implemented for '{x.dtype._short}'")
    return x


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(0, x)``: the core ``relu`` op (its backward is one branch-free select).

    Example::

        >>> F.relu(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    _t(input, "relu")
    return _maybe_inplace(_core_relu, "relu_", input, (), inplace)


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


def _hardtanh_fwd(x, lo, hi):
    return np.clip(x, lo, hi)


def _hardtanh_dfwd(g, x, lo, hi):
    return np.where((x > lo) & (x < hi), g, 0).astype(g.dtype)


_HARDTANH = _activation("hardtanh", _hardtanh_fwd, _hardtanh_dfwd,
                        lambda x, lo, hi: x.clamp(lo, hi))


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
    return np.where(x > 0, x, x * s).astype(x.dtype)


def _leaky_dfwd(g, x, s):
    return np.where(x > 0, g, g * s).astype(g.dtype)


_LEAKY = _activation("leaky_relu", _leaky_fwd, _leaky_dfwd,
                     lambda x, s: x.clamp(min=0) + x.clamp(max=0) * s)


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


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: random slopes in ``[lower, upper]`` when training, else the
    mean slope."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slopes = _gen(None).uniform(lower, upper, input.shape).astype(input._data.dtype)
    s = Tensor._wrap(np.where(input._data >= 0, 1, slopes).astype(input._data.dtype))
    return _maybe_inplace(lambda x, s: x * s, "rrelu_", input, (s,), inplace)


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


_ELU = _activation("elu", _elu_fwd, _elu_dfwd, _elu_comp)


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
    from ember._backends import DEFAULT

    if approx == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_PI
        return (x * 0.5 * (1 + np.tanh(inner))).astype(x.dtype)
    return (x * 0.5 * (1 + DEFAULT.erf(x / _SQRT_2))).astype(x.dtype)


def _gelu_dfwd(g, x, approx):
    from ember._backends import DEFAULT

    if approx == "tanh":
        x2 = x * x
        t = np.tanh((x + x2 * x * 0.044715) * _SQRT_2_PI)
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x2)
    else:
        d = 0.5 * (1 + DEFAULT.erf(x / _SQRT_2)) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * d).astype(g.dtype)


def _gelu_comp(x, approx):
    if approx == "tanh":
        return x * 0.5 * (1 + ((x + x * x * x * 0.044715) * _SQRT_2_PI).tanh())
    return x * 0.5 * (1 + (x / _SQRT_2).erf())


_GELU = _activation("gelu", _gelu_fwd, _gelu_dfwd, _gelu_comp)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``; ``approximate='tanh'`` uses the tanh approximation."""
    _float_input(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return apply(_GELU, (input,), (approximate,))


def _sig(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5


def _silu_fwd(x):
    return (x * _sig(x)).astype(x.dtype)


def _silu_dfwd(g, x):
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


_SOFTPLUS = _activation("softplus", _softplus_fwd, _softplus_dfwd, _softplus_comp)


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


def _shrink_dfwd(g, x, lambd, soft):
    return np.where(np.abs(x) > lambd, g, 0).astype(g.dtype)


def _shrink_comp(x, lambd, soft):
    keep = (x.abs() > lambd).to(x.dtype)
    return (x - x.sign() * lambd) * keep if soft else x * keep


_SHRINK = _activation("shrink", _shrink_fwd, _shrink_dfwd, _shrink_comp)


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


def _threshold_dfwd(g, x, th, value):
    return np.where(x > th, g, 0).astype(g.dtype)


def _threshold_comp(x, th, value):
    m = (x > th).to(x.dtype)
    return x * m + (1 - m) * value


_THRESHOLD = _activation("threshold", _threshold_fwd, _threshold_dfwd, _threshold_comp)


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


# --------------------------------------------------------------------------- dropout
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, dtype):
    return (_gen(None).random(shape) >= p).astype(dtype)


def _apply_mask(input, mask, inplace, name):
    m = Tensor._wrap(mask)
    return _maybe_inplace(lambda x, m: x * m, name, input, (m,), inplace)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from ember's default generator, so ``ember.manual_seed`` reproduces it.

    Example::

        >>> F.dropout(ember.ones(4), 0.5, training=False)
        tensor([1., 1., 1., 1.])
    """
    _check_p(p)
    if not training or p == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        mask = np.zeros(input.shape, dt)
    else:
        mask = _keep_mask(input.shape, p, dt) * dt.type(1.0 / (1.0 - p))
    return _apply_mask(input, mask, inplace, "dropout_")


def _feature_dropout(input, p, training, inplace, name, batched_ndim):
    _check_p(p)
    nd = input.dim()
    if nd not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but "
                           f"received a {nd}D input of shape {list(input.shape)}")
    if not training or p == 0:
        return input
    lead = 1 if nd == batched_ndim else 0
    shape = tuple(input.shape[:lead + 1]) + (1,) * (nd - lead - 1)
    dt = input._data.dtype
    if p == 1:
        mask = np.zeros(shape, dt)
    else:
        mask = _keep_mask(shape, p, dt) * dt.type(1.0 / (1.0 - p))
    return _apply_mask(input, mask, inplace, name + "_")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, "dropout1d", 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` or ``(C, H, W)`` input with probability ``p``.

    A 3-D input is treated as unbatched ``(C, H, W)``.
    """
    return _feature_dropout(input, p, training, inplace, "dropout2d", 4)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    return _feature_dropout(input, p, training, inplace, "dropout3d", 5)


_ALPHA_P = 1.7580993408473766  # -SELU's negative saturation value (scale * alpha)


def _alpha_dropout(input, p, training, inplace, feature):
    _check_p(p)
    if not training or p == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        return input * 0
    shape = tuple(input.shape)
    if feature:
        shape = shape[:2] + (1,) * (len(shape) - 2)
    keep = _keep_mask(shape, p, np.float64)
    a = 1.0 / math.sqrt((_ALPHA_P * _ALPHA_P * p + 1) * (1 - p))
    b = (keep - 1) * (_ALPHA_P * a) + _ALPHA_P * a * p
    mul = Tensor._wrap((keep * a).astype(dt))
    add = Tensor._wrap(b.astype(dt))
    return _maybe_inplace(lambda x, m, c: x * m + c, "alpha_dropout_", input, (mul, add),
                          inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance."""
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    return _alpha_dropout(input, p, training, inplace, True)


# --------------------------------------------------------------------------- embedding
def _check_indices(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'indices' must be Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.type()} instead "
                           f"(while checking arguments for {name})")


def _embedding_fwd(w, idx, num_weights, padding_idx, scale_grad):
    return w[idx]


def _embedding_bwd_fwd(g, idx, num_weights, padding_idx, scale_grad):
    d = g.shape[-1]
    flat_idx = idx.reshape(-1)
    g2 = g.reshape(-1, d)
    if scale_grad:
        counts = np.bincount(flat_idx, minlength=num_weights)
        g2 = g2 / counts[flat_idx][:, None].astype(g.dtype)
    if flat_idx.size > 4 * num_weights:
        # many lookups per row: a dense one-hot product beats np.add.at's slow scatter
        gw = np.zeros((num_weights, d), g.dtype)
        np.add.at(gw, flat_idx, g2)
    else:
        order = np.argsort(flat_idx, kind="stable")
        sidx = flat_idx[order]
        gw = np.zeros((num_weights, d), g.dtype)
        if sidx.size:
            starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
            gw[sidx[starts]] = np.add.reduceat(g2[order], starts, axis=0)
    if padding_idx is not None:
        gw[padding_idx] = 0
    return gw


_EMBEDDING_BWD = OpDef("embedding_backward", _embedding_bwd_fwd, None,
                       node_name="EmbeddingBackwardBackward0")
_EMBEDDING = OpDef("embedding", _embedding_fwd, None, node_name="EmbeddingBackward0",
                   onnx="Gather")


@_EMBEDDING.grad
def _(ctx, g):
    return (apply(_EMBEDDING_BWD, (g,), ctx.params),)


@_EMBEDDING_BWD.grad
def _(ctx, gg):
    idx, num, padding_idx, scale_grad = ctx.params
    if scale_grad:
        raise RuntimeError("double backward of embedding with scale_grad_by_freq is not "
                           "implemented")
    if padding_idx is not None:
        gg = gg.clone()
        gg._data[padding_idx] = 0
    return (apply(_EMBEDDING, (gg,), (idx, num, None, False)),)


def _renorm_rows(weight, idx, max_norm, norm_type):
    """``max_norm``: rescale (in place, untracked) the referenced rows whose norm exceeds it."""
    w = weight._data
    rows = np.unique(idx)
    sub = w[rows]
    if norm_type == float("inf"):
        norms = np.abs(sub).max(axis=1)
    else:
        norms = (np.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (sub * scale[:, None]).astype(w.dtype)
    weight._bump()


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` by the integer indices in ``input``.

    Args:
        input: integer tensor of any shape.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: the row that receives no gradient.
        max_norm: rescale looked-up rows whose ``norm_type``-norm exceeds it (in place).
        scale_grad_by_freq: divide gradients by the index frequency in the batch.

    Example::

        >>> F.embedding(ember.tensor([[0, 2]]), ember.randn(3, 4)).shape
        torch.Size([1, 2, 4])
    """
    _check_indices(input, "embedding")
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a {weight.dim()}-D tensor")
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= n:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    idx = input._data.astype(np.int64, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"index out of range in self (embedding: index {bad} with "
                         f"num_embeddings={n})")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return apply(_EMBEDDING, (weight,), (idx, n, padding_idx, scale_grad_by_freq))


def _segment_sum_fwd(x, seg, nseg):
    out = np.zeros((nseg,) + x.shape[1:], x.dtype)
    np.add.at(out, seg, x)
    return out


_SEGMENT_SUM = OpDef("segment_sum", _segment_sum_fwd, None, node_name="EmbeddingBagBackward0")


@_SEGMENT_SUM.grad
def _(ctx, g):
    seg, _ = ctx.params
    return (g[Tensor._wrap(seg)],)


def _segment_max_fwd(x, seg, nseg):
    out = np.full((nseg,) + x.shape[1:], -np.inf, x.dtype)
    np.maximum.at(out, seg, x)
    out[np.isneginf(out)] = 0  # empty bags give zeros, as PyTorch
    return out


_SEGMENT_MAX = OpDef("segment_max", _segment_max_fwd, None, save="xy",
                     node_name="EmbeddingBagBackward0")


@_SEGMENT_MAX.grad
def _(ctx, g):
    seg, nseg = ctx.params
    x, = ctx.inputs
    y = ctx.output
    st = Tensor._wrap(seg)
    hit = (x == y[st]).to(g.dtype)
    # one winner per bag and column: the first position that attains the max
    hd = hit._data
    first = np.zeros_like(hd)
    seen = np.zeros((nseg,) + hd.shape[1:], bool)
    for i in range(hd.shape[0]):
        s = seg[i]
        take = (hd[i] > 0) & ~seen[s]
        first[i] = take
        seen[s] |= take
    return (g[st] * Tensor._wrap(first),)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of embedding bags without materialising per-bag lists.

    ``input`` is either 2-D ``(B, N)`` (fixed-size bags) or 1-D with ``offsets`` marking
    where each bag starts.

    Example::

        >>> F.embedding_bag(ember.tensor([1, 2, 4, 5]), ember.randn(10, 3),
        ...                 ember.tensor([0, 2])).shape
        torch.Size([2, 3])
    """
    _check_indices(input, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        b, n = input.shape
        idx = input._data.reshape(-1)
        seg = np.repeat(np.arange(b), n)
        nseg = b
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = offsets._data.astype(np.int64)
        idx = input._data
        if include_last_offset:
            nseg = len(off) - 1
            off = off[:-1]
        else:
            nseg = len(off)
        if len(off) and off[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                               f"mini-batch has to start from position 0. However, got {off[0]}")
        seg = np.zeros(len(idx), np.int64)
        if len(off) > 1:
            starts = off[1:][off[1:] < len(idx)]
            np.add.at(seg, starts, 1)
            seg = np.cumsum(seg)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    n_emb = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n_emb
    keep = np.ones(len(idx), bool) if padding_idx is None else idx != padding_idx
    idx_k, seg_k = idx[keep], seg[keep]
    emb = embedding(Tensor._wrap(idx_k), weight, None, max_norm, norm_type,
                    scale_grad_by_freq)
    if per_sample_weights is not None:
        psw = per_sample_weights[Tensor._wrap(np.nonzero(keep)[0])] if not keep.all() \
            else per_sample_weights
        emb = emb * psw.unsqueeze(-1)
    if mode == "max":
        return apply(_SEGMENT_MAX, (emb,), (seg_k, nseg))
    out = apply(_SEGMENT_SUM, (emb,), (seg_k, nseg))
    if mode == "mean":
        counts = np.bincount(seg_k, minlength=nseg).astype(out._data.dtype)
        out = out / Tensor._wrap(np.maximum(counts, 1)[:, None])
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing class dimension.

    Example::

        >>> F.one_hot(ember.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    _t(tensor, "one_hot", "self")
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    if d.size:
        if d.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if d.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(d.shape + (num_classes,), np.int64)
    np.put_along_axis(out, d[..., None], 1, axis=-1)
    return Tensor._wrap(out)


# --------------------------------------------------------------------------- normalisation
def _stat_shape(nd, c):
    return (1, c) + (1,) * (nd - 2)


def _bn_train_fwd(x, w, b, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = np.square(xc).mean(axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(var + eps)
    y = xc * invstd
    if w is not None:
        y *= w.reshape(_stat_shape(x.ndim, -1))
    if b is not None:
        y += b.reshape(_stat_shape(x.ndim, -1))
    return y.astype(x.dtype, copy=False), mean, var, invstd


def _bn_composite(x, w, b, eps, has_w, has_b):
    axes = [0] + list(range(2, x.dim()))
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    y = xc * ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    shape = _stat_shape(x.dim(), -1)
    if has_w:
        y = y * w.reshape(shape)
    if has_b:
        y = y + b.reshape(shape)
    return y


def _bn_bwd(ctx, g):
    inputs = ctx.inputs
    eps, has_w, has_b, mean, invstd = ctx.params
    x = inputs[0]
    w = inputs[1] if has_w else None
    if GRAD.enabled:
        def comp(*ins):
            ws = ins[1] if has_w else None
            bs = ins[1 + has_w] if has_b else None
            return _bn_composite(ins[0], ws, bs, eps, has_w, has_b)

        from ember.autograd import grad as _grad

        idx = [i for i, e in enumerate(ctx.next) if e is not None]
        y = comp(*inputs)
        gs = _grad(y, [inputs[i] for i in idx], g, create_graph=True, allow_unused=True)
        out = [None] * len(inputs)
        for i, gi in zip(idx, gs):
            out[i] = gi
        return tuple(out)
    xd, gd = x._data, g._data
    axes = (0,) + tuple(range(2, xd.ndim))
    shape = _stat_shape(xd.ndim, -1)
    xhat = (xd - mean) * invstd
    gsum = gd.sum(axis=axes)
    gxhat_sum = (gd * xhat).sum(axis=axes)
    res = []
    if ctx.next[0] is not None:
        n = xd.size // xd.shape[1]
        wv = w._data.reshape(shape) if w is not None else 1
        # dx = w * invstd / n * (n*g - sum(g) - xhat*sum(g*xhat))
        gx = gd - gsum.reshape(shape) / n - xhat * (gxhat_sum.reshape(shape) / n)
        gx *= invstd * wv
        res.append(Tensor._wrap(gx.astype(xd.dtype, copy=False)))
    else:
        res.append(None)
    if has_w:
        res.append(Tensor._wrap(gxhat_sum.astype(xd.dtype)) if ctx.next[1] is not None
                   else None)
    if has_b:
        res.append(Tensor._wrap(gsum.astype(xd.dtype)) if ctx.next[-1] is not None else None)
    return tuple(res)


_BATCH_NORM = OpDef("batch_norm", None, _bn_bwd, save="x",
                    node_name="NativeBatchNormBackward0", onnx="BatchNormalization")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise over the batch (and spatial) dimensions per channel (dim 1).

    In training, batch statistics are used and ``running_mean``/``running_var`` (if given)
    are updated in place with ``momentum`` (the unbiased variance, as PyTorch); otherwise
    the running statistics are used.

    Example::

        >>> F.batch_norm(ember.randn(8, 3), None, None, training=True).shape
        torch.Size([8, 3])
    """
    _float_input(input, "batch_norm")
    if input.dim() < 2:
        raise ValueError(f"batch_norm(): expected at least 2D input (got {input.dim()}D input)")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"batch_norm(): {name} should contain {c} elements (one per "
                               f"channel of input shape {list(input.shape)}), got "
                               f"{t.numel()}")
    if training:
        size = input.numel() // c
        if size == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {list(input.shape)}")
        xd = input._data
        y, mean, var, invstd = _bn_train_fwd(
            xd, None if weight is None else weight._data, None if bias is None else bias._data,
            eps)
        if running_mean is not None or running_var is not None:
            n = xd.size // c
            m = momentum
            if running_mean is not None:
                rm = running_mean._data
                rm *= 1 - m
                rm += (m * mean.reshape(-1)).astype(rm.dtype)
                running_mean._bump()
            if running_var is not None:
                rv = running_var._data
                rv *= 1 - m
                rv += (m * var.reshape(-1) * (n / max(n - 1, 1))).astype(rv.dtype)
                running_var._bump()
        inputs = [input]
        if weight is not None:
            inputs.append(weight)
        if bias is not None:
            inputs.append(bias)
        return emit(_BATCH_NORM, y, tuple(inputs),
                    (eps, weight is not None, bias is not None, mean, invstd))
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm(): running_mean and running_var must be defined in "
                           "evaluation mode (training=False)")
    shape = _stat_shape(input.dim(), c)
    scale = (running_var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(shape).to(input.dtype) + shift.reshape(shape).to(input.dtype)


def _ln_fwd(x, w, b, k, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    invstd = 1.0 / np.sqrt(np.square(xc).mean(axis=axes, keepdims=True) + eps)
    y = xc * invstd
    if w is not None:
        y *= w
    if b is not None:
        y += b
    return y.astype(x.dtype, copy=False), mean, invstd


def _ln_bwd(ctx, g):
    inputs = ctx.inputs
    k, eps, has_w, has_b, mean, invstd = ctx.params
    x = inputs[0]
    if GRAD.enabled:
        def comp(*ins):
            return _ln_composite(ins[0], ins[1] if has_w else None,
                                 ins[1 + has_w] if has_b else None, k, eps)

        from ember.autograd import grad as _grad

        idx = [i for i, e in enumerate(ctx.next) if e is not None]
        y = comp(*inputs)
        gs = _grad(y, [inputs[i] for i in idx], g, create_graph=True, allow_unused=True)
        out = [None] * len(inputs)
        for i, gi in zip(idx, gs):
            out[i] = gi
        return tuple(out)
    xd, gd = x._data, g._data
    axes = tuple(range(xd.ndim - k, xd.ndim))
    lead = tuple(range(xd.ndim - k))
    w = inputs[1]._data if has_w else None
    # Few full-size temporaries, updated in place: on large inputs each fresh array costs
    # page faults as well as a pass over memory.
    xhat = xd - mean
    xhat *= invstd
    gdx = gd * xhat  # d/dw before the weight is folded in
    gw = gdx.sum(axis=lead).astype(xd.dtype) if has_w and ctx.next[1] is not None else None
    gb = gd.sum(axis=lead).astype(xd.dtype) if has_b and ctx.next[-1] is not None else None
    res = []
    if ctx.next[0] is not None:
        if has_w:
            gdx *= w  # now gxhat * xhat
            gxhat = gd * w
        else:
            gxhat = gd
        m1 = gxhat.mean(axis=axes, keepdims=True)
        m2 = gdx.mean(axis=axes, keepdims=True)
        xhat *= m2
        gx = gxhat - m1
        gx -= xhat
        gx *= invstd
        res.append(Tensor._wrap(gx.astype(xd.dtype, copy=False)))
    else:
        res.append(None)
    if has_w:
        res.append(Tensor._wrap(gw) if gw is not None else None)
    if has_b:
        res.append(Tensor._wrap(gb) if gb is not None else None)
    return tuple(res)


def _ln_composite(x, w, b, k, eps):
    dims = list(range(x.dim() - k, x.dim()))
    xc = x - x.mean(dims, keepdim=True)
    y = xc * ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


_LAYER_NORM = OpDef("layer_norm", None, _ln_bwd, save="x",
                    node_name="NativeLayerNormBackward0", onnx="LayerNormalization")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions (one fused node).

    Example::

        >>> F.layer_norm(ember.randn(2, 5), (5,)).shape
        torch.Size([2, 5])
    """
    _float_input(input, "layer_norm")
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(normalized_shape)
    k = len(ns)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != ns or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in ns)}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"layer_norm(): expected {name} of shape {list(ns)}, got "
                               f"{list(t.shape)}")
    y, mean, invstd = _ln_fwd(input._data, None if weight is None else weight._data,
                              None if bias is None else bias._data, k, eps)
    inputs = [input] + [t for t in (weight, bias) if t is not None]
    return emit(_LAYER_NORM, y, tuple(inputs),
                (k, eps, weight is not None, bias is not None, mean, invstd))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing dimensions."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = list(range(input.dim() - len(normalized_shape), input.dim()))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over groups of channels (and all spatial positions) per sample.

    Example::

        >>> F.group_norm(ember.randn(2, 4, 3), 2).shape
        torch.Size([2, 4, 3])
    """
    _float_input(input, "group_norm")
    if input.dim() < 2:
        raise RuntimeError(f"group_norm(): expected at least 2D input, got {input.dim()}D")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    x = input.reshape(n, num_groups, -1)
    y = layer_norm(x, (x.shape[-1],), None, None, eps).reshape(input.shape)
    shape = _stat_shape(input.dim(), c)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial positions.

    Example::

        >>> F.instance_norm(ember.randn(2, 3, 5)).shape
        torch.Size([2, 3, 5])
    """
    _float_input(input, "instance_norm")
    if input.dim() < 3:
        raise ValueError(f"instance_norm(): expected at least 3D input (N, C, L...), got "
                         f"{input.dim()}D input")
    n, c = input.shape[0], input.shape[1]
    if use_input_stats:
        sp = 1
        for s in input.shape[2:]:
            sp *= s
        if sp == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {list(input.shape)}")
        x = input.reshape(n, c, -1)
        y = layer_norm(x, (x.shape[-1],), None, None, eps).reshape(input.shape)
        if running_mean is not None or running_var is not None:
            xd = x._data
            mean = xd.mean(axis=(0, 2))
            var = xd.var(axis=2, ddof=1).mean(axis=0)
            if running_mean is not None:
                rm = running_mean._data
                rm *= 1 - momentum
                rm += (momentum * mean).astype(rm.dtype)
                running_mean._bump()
            if running_var is not None:
                rv = running_var._data
                rv *= 1 - momentum
                rv += (momentum * var).astype(rv.dtype)
                running_var._bump()
    else:
        shape = _stat_shape(input.dim(), c)
        y = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
    shape = _stat_shape(input.dim(), c)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise each element by the sum of squares of ``size`` neighbouring channels.

    Example::

        >>> F.local_response_norm(ember.randn(1, 6, 4, 4), size=3).shape
        torch.Size([1, 6, 4, 4])
    """
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    from ember import cat, zeros

    sq = input * input
    c = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    zshape = list(input.shape)
    parts = []
    if before:
        zshape[1] = before
        parts.append(zeros(zshape, dtype=input.dtype))
    parts.append(sq)
    if after:
        zshape[1] = after
        parts.append(zeros(zshape, dtype=input.dtype))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    acc = padded.narrow(1, 0, c)
    for i in range(1, size):
        acc = acc + padded.narrow(1, i, c)
    div = (acc * (alpha / size) + k) ** beta
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``.

    Example::

        >>> F.normalize(ember.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    r = input / denom
    if out is not None:
        out.copy_(r)
        return out
    return r


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dimension.

    Example::

        >>> F.pairwise_distance(ember.zeros(1, 2), ember.tensor([[3.0, 4.0]]), eps=0)
        tensor([5.])
    """
    nd = max(x1.dim(), x2.dim())
    return (x1 - x2 + eps).norm(p, nd - 1 if nd else None, keepdim=keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim``.

    Example::

        >>> F.cosine_similarity(ember.tensor([[1.0, 0.0]]), ember.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    from ember import broadcast_tensors

    x1, x2 = broadcast_tensors(x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Condensed pairwise distances between the rows of a 2-D input (upper triangle)."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    d = input[Tensor._wrap(i)] - input[Tensor._wrap(j)]
    return d.norm(p, 1)
