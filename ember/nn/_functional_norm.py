"""``nn.functional``: batch, layer, group, instance, RMS and local response
normalisation; normalize."""

from __future__ import annotations

import numpy as np

from ember._graph import GRAD
from ember._backends import xp_of
from ember._ops.core import OpDef, apply
from ember._tensor import Tensor
from ember.nn._functional_common import _float_input, _state

__all__ = [
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm",
    "rms_norm", "normalize",
]


# --------------------------------------------------------------------------- normalisation
def _stat_shape(nd, c):
    return (1, c) + (1,) * (nd - 2)


def _bn_stats(x, eps):
    """Per-channel batch mean, biased variance and inverse std of ``x`` (N, C, *)."""
    xp = xp_of(x)
    axes = (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = xp.square(xc).mean(axis=axes, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + eps)
    return xc, mean, var, invstd


def _bn_normalise(x, xc, invstd, w, b):
    y = xc * invstd
    if w is not None:
        y *= w.reshape(_stat_shape(x.ndim, -1))
    if b is not None:
        y += b.reshape(_stat_shape(x.ndim, -1))
    return y.astype(x.dtype, copy=False)


def _affine(arrays, has_w, has_b):
    return (arrays[0] if has_w else None), (arrays[has_w] if has_b else None)


def _bn_fwd(x, *args):
    """``batch_norm`` record: ``(x[, weight][, bias], eps, has_weight, has_bias)`` ->
    ``(y, mean, invstd)``; mean and invstd (shape ``(1, C, 1, ...)``) are saved for
    backward."""
    *arrays, eps, has_w, has_b = args
    w, b = _affine(arrays, has_w, has_b)
    from ember._codegen import eager

    r = eager.batch_norm(x, w, b, eps)  # one generated kernel (None: not covered)
    if r is not None:
        return r[0], r[1], r[3]
    xc, mean, _, invstd = _bn_stats(x, eps)
    y = _bn_normalise(x, xc, invstd, w, b)
    return y, mean, invstd


def _bn_stats_fwd(x, running_mean, running_var, *args):
    """``batch_norm_stats`` record: :func:`_bn_fwd` that also updates the running
    statistics in place (inputs 1 and 2, declared in ``mutates``) with ``momentum`` and the
    unbiased variance, as PyTorch does."""
    *arrays, eps, momentum, has_w, has_b = args
    w, b = _affine(arrays, has_w, has_b)
    from ember._codegen import eager

    r = eager.batch_norm(x, w, b, eps)  # one generated kernel (None: not covered)
    if r is not None:
        y, mean, var, invstd = r
    else:
        xc, mean, var, invstd = _bn_stats(x, eps)
        y = None
    n = x.size // x.shape[1]
    m = momentum
    running_mean *= 1 - m
    running_mean += (m * mean.reshape(-1)).astype(running_mean.dtype, copy=False)
    running_var *= 1 - m
    running_var += (m * var.reshape(-1) * (n / max(n - 1, 1))).astype(running_var.dtype,
                                                                       copy=False)
    if y is None:
        y = _bn_normalise(x, xc, invstd, w, b)
    return y, mean, invstd


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


def _bn_bwd(ctx, grads):
    g = grads[0]
    # saved: (x[, weight][, bias]) for both variants; the stats variant's running_mean and
    # running_var (inputs 1 and 2) are not saved and get no gradient
    inputs = ctx.inputs
    k = 2 if ctx.op is _BATCH_NORM_STATS else 0
    eps, has_w, has_b = ctx.params[0], ctx.params[-2], ctx.params[-1]
    x = inputs[0]
    w = inputs[1] if has_w else None
    if GRAD.enabled:
        from ember.autograd import grad as _grad

        nxt = ctx.next[:1] + ctx.next[1 + k:]
        idx = [i for i, e in enumerate(nxt) if e is not None]
        y = _bn_composite(x, w, inputs[1 + has_w] if has_b else None, eps, has_w, has_b)
        gs = _grad(y, [inputs[i] for i in idx], g, create_graph=True, allow_unused=True)
        out = [None] * len(inputs)
        for i, gi in zip(idx, gs):
            out[i] = gi
        return tuple(out[:1]) + (None,) * k + tuple(out[1:])
    mean, invstd = _state(ctx)
    xd, gd = x._data, g._data
    axes = (0,) + tuple(range(2, xd.ndim))
    shape = _stat_shape(xd.ndim, -1)
    from ember._codegen import eager

    r = eager.batch_norm_backward(gd, xd, mean, invstd, None if w is None else w._data,
                                  ctx.next[0] is not None)
    if r is not None:  # gx and both per-channel sums from one generated kernel
        gx, gxhat_sum, gsum = r
        res = [None if gx is None else Tensor._wrap(gx)] + [None] * k
        if has_w:
            res.append(Tensor._wrap(gxhat_sum.reshape(-1)) if ctx.next[1 + k] is not None
                       else None)
        if has_b:
            res.append(Tensor._wrap(gsum.reshape(-1)) if ctx.next[-1] is not None else None)
        return tuple(res)
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
    res.extend([None] * k)
    if has_w:
        res.append(Tensor._wrap(gxhat_sum.astype(xd.dtype)) if ctx.next[1 + k] is not None
                   else None)
    if has_b:
        res.append(Tensor._wrap(gsum.astype(xd.dtype)) if ctx.next[-1] is not None else None)
    return tuple(res)


_BATCH_NORM = OpDef("batch_norm", _bn_fwd, _bn_bwd, save="x", multi=True, public=1,
                    attrs=("eps", "has_weight", "has_bias"),
                    node_name="NativeBatchNormBackward0", onnx="BatchNormalization")
# saves x and the affine parameters (inputs 0, 3, 4), not the running statistics: a second
# forward of the layer (updating them again) before this backward is fine, as in PyTorch
_BATCH_NORM_STATS = OpDef("batch_norm_stats", _bn_stats_fwd, _bn_bwd, multi=True, public=1,
                          save=(0, 3, 4),
                          attrs=("eps", "momentum", "has_weight", "has_bias"), mutates=(1, 2),
                          node_name="NativeBatchNormBackward0", onnx="BatchNormalization")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise over the batch (and spatial) dimensions per channel (dim 1).

    In training, batch statistics are used and ``running_mean``/``running_var`` (if given)
    are updated in place with ``momentum`` (the unbiased variance, as PyTorch); otherwise
    the running statistics are used. Training runs one record: ``batch_norm``, or
    ``batch_norm_stats`` (which declares the running statistics as mutated inputs) when
    there are statistics to update.

    Args:
        input: ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` buffers, or None.
        weight, bias: ``(C,)`` affine parameters, or None.
        training: use batch statistics (and update the running ones).
        momentum: weight of the new batch statistics in the running ones.
        eps: added to the variance.

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
        affine = tuple(t for t in (weight, bias) if t is not None)
        has_w, has_b = weight is not None, bias is not None
        if running_mean is None and running_var is None:
            return apply(_BATCH_NORM, (input,) + affine, (float(eps), has_w, has_b))
        # a lone running statistic: the record updates both, the missing one in a scratch
        rm = running_mean if running_mean is not None else _scratch(running_var)
        rv = running_var if running_var is not None else _scratch(running_mean)
        return apply(_BATCH_NORM_STATS, (input, rm, rv) + affine,
                     (float(eps), float(momentum), has_w, has_b))  # bumps rm, rv
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


def _scratch(like):
    d = like._data
    return Tensor._wrap(xp_of(d).zeros(d.shape, d.dtype))


def _ln_fwd(x, *args):
    """``layer_norm`` record: ``(x[, weight][, bias], normalized_ndim, eps, has_weight,
    has_bias)`` -> ``(y, mean, invstd)``; mean and invstd (keepdim shape) are saved for
    backward."""
    *arrays, k, eps, has_w, has_b = args
    w, b = _affine(arrays, has_w, has_b)
    from ember._codegen import eager

    r = eager.layer_norm(x, w, b, k, eps)  # one generated kernel (None: not covered)
    if r is not None:
        return tuple(r)
    xp = xp_of(x)
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    invstd = 1.0 / xp.sqrt(xp.square(xc).mean(axis=axes, keepdims=True) + eps)
    y = xc * invstd
    if w is not None:
        y *= w
    if b is not None:
        y += b
    return y.astype(x.dtype, copy=False), mean, invstd


def _ln_bwd(ctx, grads):
    g = grads[0]
    inputs = ctx.inputs
    k, eps, has_w, has_b = ctx.params
    x = inputs[0]
    if GRAD.enabled:
        from ember.autograd import grad as _grad

        idx = [i for i, e in enumerate(ctx.next) if e is not None]
        y = _ln_composite(x, inputs[1] if has_w else None, inputs[1 + has_w] if has_b else None,
                          k, eps)
        gs = _grad(y, [inputs[i] for i in idx], g, create_graph=True, allow_unused=True)
        out = [None] * len(inputs)
        for i, gi in zip(idx, gs):
            out[i] = gi
        return tuple(out)
    mean, invstd = _state(ctx)
    xd, gd = x._data, g._data
    axes = tuple(range(xd.ndim - k, xd.ndim))
    lead = tuple(range(xd.ndim - k))
    w = inputs[1]._data if has_w else None
    from ember._codegen import eager

    need_gw = has_w and ctx.next[1] is not None
    r = eager.layer_norm_backward(gd, xd, mean, invstd, w, k, ctx.next[0] is not None,
                                  need_gw)
    if r is not None:  # gx and g * xhat from one generated kernel
        gx, gdx = r
        res = [None if gx is None else Tensor._wrap(gx)]
        if has_w:
            res.append(Tensor._wrap(gdx.sum(axis=lead)) if need_gw else None)
        if has_b:
            res.append(Tensor._wrap(gd.sum(axis=lead).astype(xd.dtype, copy=False))
                       if ctx.next[-1] is not None else None)
        return tuple(res)
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


_LAYER_NORM = OpDef("layer_norm", _ln_fwd, _ln_bwd, save="x", multi=True, public=1,
                    attrs=("normalized_ndim", "eps", "has_weight", "has_bias"),
                    node_name="NativeLayerNormBackward0", onnx="LayerNormalization")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions (one fused node).

    Example::

        >>> F.layer_norm(ember.randn(2, 5), (5,)).shape
        torch.Size([2, 5])
    """
    _float_input(input, "layer_norm")
    if not isinstance(normalized_shape, (tuple, list)):  # an int too: PyTorch's int[] here
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple "
                        f"of ints, not {type(normalized_shape).__name__}")
    from ember._ops.args import ints_arg

    ns = tuple(ints_arg("layer_norm", "normalized_shape", list(normalized_shape)))
    k = len(ns)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != ns or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in ns)}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"layer_norm(): expected {name} of shape {list(ns)}, got "
                               f"{list(t.shape)}")
    inputs = (input,) + tuple(t for t in (weight, bias) if t is not None)
    return apply(_LAYER_NORM, inputs, (k, float(eps), weight is not None, bias is not None))


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


def _instance_stats_fwd(x, running_mean, running_var, momentum):
    """``instance_norm_update_stats`` record: ``(x (N, C, L), running_mean, running_var,
    momentum)`` -> ``(mean, var)`` of the instances averaged over the batch (unbiased
    variance, as PyTorch), blended into the running statistics in place (inputs 1 and 2)."""
    mean = x.mean(axis=(0, 2))
    var = x.var(axis=2, ddof=1).mean(axis=0)
    running_mean *= 1 - momentum
    running_mean += (momentum * mean).astype(running_mean.dtype, copy=False)
    running_var *= 1 - momentum
    running_var += (momentum * var).astype(running_var.dtype, copy=False)
    return mean, var


_INSTANCE_STATS = OpDef("instance_norm_update_stats", _instance_stats_fwd, None, multi=True,
                        differentiable=False, attrs=("momentum",), mutates=(1, 2))


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
            rm = running_mean if running_mean is not None else _scratch(running_var)
            rv = running_var if running_var is not None else _scratch(running_mean)
            apply(_INSTANCE_STATS, (x.detach(), rm, rv), (float(momentum),))  # bumps rm, rv
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
