"""``nn.functional``: linear, bilinear, identity."""

from __future__ import annotations

import math

import numpy as np

from ember import _dtype as D
from ember._backends import xp_of
from ember._graph import GRAD
from ember._ops.core import OpDef, apply
from ember._ops.elementwise import _threaded
from ember._tensor import Tensor
from ember.nn._functional_common import _t

__all__ = ["linear", "bilinear", "identity"]


# --------------------------------------------------------------------------- linear
def _linear_fwd(x, w, b=None):
    xp = xp_of(x)
    if x.ndim > 2:
        # One GEMM over all leading dims: NumPy's stacked matmul runs one small GEMM per
        # leading index (measured 2x slower for a (35, 20, 200) @ (200, 10000) LM head).
        lead = x.shape[:-1]
        y = xp.matmul(x.reshape(math.prod(lead), x.shape[-1]), w.T).reshape(*lead, w.shape[0])
    else:
        y = xp.matmul(x, w.T)
    if b is not None:
        # the bias on two threads where the product is large (an LM head's (700, 10000):
        # one NumPy pass ~2.5 ms); the kernel declines what it does not cover
        if y.size < _THREADED_MIN or type(y) is not np.ndarray or \
                _threaded("a + b", "f", (y, b), y) is None:
            y += b
    return y


_THREADED_MIN = 1 << 18


def _bias_grad(g2):
    """The bias gradient ``g2.sum(0)``: float32 through the threaded column sums (float64
    accumulators, NOTE [ Threaded sums and scans ]) where they apply."""
    if g2.size >= _THREADED_MIN and type(g2) is np.ndarray:
        from ember._codegen.reduce_kernels import sum_

        r = sum_(g2, (0,), False)
        if r is not None:
            return r
    return g2.sum(0)


def _linear_bwd_fwd(g, x, w, need_x, need_w, need_b):
    """``linear_backward`` record: ``(grad_output, input, weight, need_input, need_weight,
    need_bias)`` -> the wanted ones of ``(grad_input, grad_weight, grad_bias)``, the same
    products as the composite formula below, on raw arrays."""
    out = w.shape[0]
    rows = math.prod(g.shape[:-1])
    res = []
    xp = xp_of(g)
    if need_x:
        res.append(xp.matmul(g.reshape(rows, out), w).reshape(x.shape) if g.ndim > 2 else
                   xp.matmul(g, w))
    if need_w:
        res.append(xp.matmul(g.reshape(rows, out).T, x.reshape(rows, x.shape[-1])))
    if need_b:
        res.append(_bias_grad(g.reshape(rows, out)))
    return tuple(res)


# NOTE [ Linear backward as one record ]
# Without create_graph the three gradients of a linear layer come from one record on raw
# arrays instead of ~8 dispatched ember ops (reshapes, transpose, mm, sum): a Linear's
# backward is then one dispatch, which is most of its cost for small layers (a policy
# network on single observations, a VAE's MLP). Modes still see the record; with
# create_graph the composite formula runs, so higher-order gradients are unchanged.
_LINEAR_BWD = OpDef("linear_backward", _linear_bwd_fwd, None, multi=True,
                    differentiable=False, attrs=("need_input", "need_weight", "need_bias"))


def _linear_bwd(ctx, g):
    x, w = ctx.inputs[0], ctx.inputs[1]
    nx, nw = ctx.next[0], ctx.next[1]
    nb = len(ctx.next) == 3 and ctx.next[2] is not None
    if not GRAD.enabled and type(g._data) is np.ndarray and g._data.dtype.kind == "f":
        flags = (nx is not None, nw is not None, nb)
        it = iter(apply(_LINEAR_BWD, (g, x, w), flags))
        res = tuple(next(it) if f else None for f in flags)
        return res if len(ctx.next) == 3 else res[:2]
    out = w.shape[0]
    rows = math.prod(g.shape[:-1])  # not -1: out or in_features may be 0
    gx = None
    if nx is not None:
        # 2-D GEMM for batched inputs, as in forward
        gx = g.reshape(rows, out).mm(w).reshape(x.shape) if g.ndim > 2 else \
            g.matmul(w)
    gw = gb = None
    if nw is not None:
        gw = g.reshape(rows, out).t().mm(x.reshape(rows, x.shape[-1]))
    if len(ctx.next) == 3 and ctx.next[2] is not None:
        gb = g.reshape(rows, out).sum(0)
    return (gx, gw) if len(ctx.next) == 2 else (gx, gw, gb)


# input and weight only, as PyTorch's node (the bias gradient needs no saved value)
_LINEAR = OpDef("linear", _linear_fwd, _linear_bwd, save=(0, 1), onnx="Gemm",
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
    """Returns ``input`` unchanged.

    Args:
        input: the input tensor.

    Returns:
        ``input``.

    Example:
        >>> F.identity(ember.ones(2))
        tensor([1., 1.])
    """
    return input
