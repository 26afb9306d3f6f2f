"""``nn.functional`` losses.

``cross_entropy`` with class indices (the loss of nearly every classifier) is one fused
OpDef: log-sum-exp, pick, weight, ignore and reduce in one pass over the logits, and a
backward ``softmax - one_hot`` without materialising ``log_softmax``. The other losses are
compositions of ember ops written in their numerically stable forms (log-sum-exp, softplus
via ``max(z, 0) + log1p(exp(-|z|))``, BCE on logits).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember import _dtype as D
from ember._graph import GRAD
from ember._backends import xp_of
from ember._ops.conv import _call_key, _remember
from ember._ops.core import OpDef, apply
from ember._tensor import Tensor
from ember.nn._functional_activation import logsigmoid
from ember.nn._functional_common import _composite_grad, _state
from ember.nn._functional_distance import pairwise_distance

__all__ = [
    "l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "smooth_l1_loss", "huber_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss",
]


# --------------------------------------------------------------------------- reduction
def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='{}' instead.".format(
                      "mean" if (size_average is None or size_average) and
                      (reduce is None or reduce) else ("sum" if reduce is None or reduce
                                                       else "none")), stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    if reduce:
        return "sum"
    return "none"


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _t(x, name, arg):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def _warn_size(name, input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise RuntimeError(f"{name}(): input of shape {list(input.shape)} and target of "
                               f"shape {list(target.shape)} are not broadcastable") from None


# --------------------------------------------------------------------------- regression
def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum) absolute error.

    Example::

        >>> F.l1_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor(1.5000)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size("l1_loss", input, target)
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum) squared error.

    Example::

        >>> F.mse_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor(2.5000)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size("mse_loss", input, target)
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below ``beta`` (``0.5 d^2 / beta``), linear above (``|d| - beta / 2``)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size("smooth_l1_loss", input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    ad = (input - target).abs()
    if beta == 0:
        return _reduce(ad, reduction)
    from ember import where

    loss = where(ad < beta, ad * ad * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Quadratic below ``delta`` (``0.5 d^2``), linear above (``delta * (|d| - delta/2)``)."""
    _check_reduction(reduction)
    _warn_size("huber_loss", input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    from ember import where

    ad = (input - target).abs()
    loss = where(ad <= delta, ad * ad * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- classification
def _check_class_target(name, input, target):
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{D.FROM_NP[target._data.dtype]._short.capitalize()} ({name}: "
                           f"input {list(input.shape)} {input.dtype}, target "
                           f"{list(target.shape)} {target.dtype})")
    nd = input.dim()
    if nd == 1:
        if target.dim() != 0:
            raise RuntimeError(f"{name}(): expected a 0-D target for 1-D input of shape "
                               f"{list(input.shape)}, got target of shape {list(target.shape)}")
        return
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if target.dim() >= 1 and target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    expected = [input.shape[0]] + list(input.shape[2:])
    if list(target.shape) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")


def _flat_classes(x, target):
    """(M, C) logits and (M,) int64 targets with the class dimension last (views where
    possible), from the arrays of ``(C,)``/``(N, C, *)`` logits and their targets."""
    if x.ndim == 1:
        return x[None, :], target.reshape(1).astype("int64")
    if x.ndim > 2:
        x = xp_of(x).moveaxis(x, 1, -1)
    return x.reshape(-1, x.shape[-1]), target.reshape(-1).astype("int64")


def _check_bounds(t, c, ignore_index, check=True):
    valid = t != ignore_index
    if t.__class__ is not np.ndarray:
        # Device targets: one host read (not four), none when ``check`` is off (backward:
        # the forward checked the same targets) or while a CUDA graph is being captured,
        # where a host read is not permitted (PyTorch's kernels assert on the device; here
        # out-of-range targets under capture go undiagnosed).
        from ember._backends import cupy_backend

        if not check or cupy_backend.capturing():
            return valid
        bad = ((t < 0) | (t >= c)) & valid
        if bad.any():
            raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
        return valid
    tv = t[valid]
    if tv.size and (tv.min() < 0 or tv.max() >= c):
        bad = tv.min() if tv.min() < 0 else tv.max()
        raise IndexError(f"Target {bad} is out of bounds.")
    return valid


# NOTE [ Cross-entropy rows all counted ]
# Nearly every call has every target a class and none ignored (the default ignore_index,
# -100, is no class). Two reductions (min, max) decide that on the host, and then the
# general path's work is known in advance: its ``where`` keeps every target, its ``*
# valid`` multiplies by 1, the row weights without class weights are all 1, and their sum
# is the row count (exact in the float type up to 2**24 rows; from there the sum of ones
# is taken as before). So the forward skips the boolean masks, the masked copy of the
# targets, the ones and the product by them: the same values (x * 1 is x, also for
# inf/nan), a third less work at 31x32.
def _all_classes(t, ignore_index, c):
    """Whether the host targets ``t`` are all classes in [0, c) and ``ignore_index`` is no
    class (so no target is ignored and none is out of bounds)."""
    return (t.__class__ is np.ndarray and t.size > 0 and not 0 <= ignore_index < c
            and t.min() >= 0 and t.max() < c)


def _count(m, dtype):
    """The sum of ``m`` ones in ``dtype``: ``m`` itself for float32/float64 up to 2**24
    (every partial sum an exact integer), else summed as before."""
    if m <= 1 << 24 and dtype in _EXACT_COUNT:
        return np.dtype(dtype).type(m)
    return np.ones(m, dtype).sum()


_EXACT_COUNT = (np.dtype(np.float32), np.dtype(np.float64))


def _ce_targets(t, ignore_index, c, w, dtype, check=True):
    """Clamped targets ``tc`` and per-row weights ``wt`` (0 where ignored) of (M,) targets
    (bounds checked unless ``check`` is False)."""
    if _all_classes(t, ignore_index, c):
        # NOTE [ Cross-entropy rows all counted ]: tc is t, the row weights the class
        # weights (or ones)
        wt = w[t] if w is not None else np.ones(t.shape, dtype)
        return t, wt.astype(dtype, copy=False)
    xp = xp_of(t)
    valid = _check_bounds(t, c, ignore_index, check)
    tc = xp.where(valid, t, 0)
    wt = (w[tc] if w is not None else xp.ones(tc.shape, dtype)) * valid
    return tc, wt.astype(dtype, copy=False)


def _ce_fwd(x, target, *args):
    """``cross_entropy`` record over class indices: ``(logits, target[, weight],
    ignore_index, reduction, has_weight)`` -> ``(loss, softmax)``; the (M, C) softmax, class
    dimension last, is saved for backward."""
    *arrays, ignore_index, reduction, has_w = args
    xp = xp_of(x)
    x2, t = _flat_classes(x, target)
    w = arrays[0].astype(x2.dtype, copy=False) if has_w else None
    if w is None and _all_classes(t, ignore_index, x2.shape[1]):
        # no weights and nothing ignored: every row weight is 1 (``wt`` None below), and a
        # product by 1 or a sum of ones would change nothing (NOTE [ Cross-entropy rows
        # all counted ])
        tc, wt = t, None
    else:
        tc, wt = _ce_targets(t, ignore_index, x2.shape[1], w, x2.dtype)
    from ember._codegen import eager, softmax_kernels

    # one threaded pass per row (NOTE [ Softmax kernels ]), else one generated kernel: row
    # losses and the softmax
    r = softmax_kernels.cross_entropy(x2, tc)
    r = eager.cross_entropy(x2, tc) if r is None else r
    if r is not None:
        loss, e = r
        if wt is not None:
            loss *= wt
    else:
        # One (M, C) buffer reused for shift, exp and normalisation: with a 10k-class LM
        # head every extra temporary is 28 MB of memory traffic (10 -> 7.4 ms at 700x10000).
        m = x2.max(axis=1, keepdims=True)
        e = xp.subtract(x2, m)
        xp.exp(e, out=e)
        s = e.sum(axis=1, keepdims=True)
        picked = xp.take_along_axis(x2, tc[:, None], axis=1)[:, 0] - m[:, 0]
        loss = xp.log(s[:, 0]) - picked
        if wt is not None:
            loss *= wt
        e /= s
    if reduction == "none":
        out = loss.reshape(target.shape)
    elif reduction == "sum":
        out = xp.asarray(loss.sum(), x2.dtype)
    else:
        den = wt.sum() if wt is not None else _count(len(t), x2.dtype)
        if isinstance(den, np.generic) and den != 0:  # a host scalar, no 0/0: no errstate
            out = xp.asarray(loss.sum() / den, x2.dtype)
        else:
            with xp.errstate(invalid="ignore", divide="ignore"):
                out = xp.asarray(loss.sum() / den, x2.dtype)
    return out.astype(x2.dtype, copy=False), e


def _ce_bwd_arrays(g_rows, prob, tc, wt):
    """``softmax - one_hot`` scaled per row, written over ``prob`` (which the caller owns)."""
    xp = xp_of(prob)
    gw = g_rows * wt
    from ember._codegen import eager

    if eager.cross_entropy_backward(prob, gw, tc):  # one generated kernel, in place
        return prob
    prob *= gw[:, None]
    prob[xp.arange(len(tc)), tc] -= gw
    return prob


def _ce_composite(x, w, ignore_index, reduction, target):
    return _nll_composed(x.log_softmax(1 if x.dim() > 1 else 0), target, w, ignore_index,
                         reduction)


def _ce_bwd(ctx, grads):
    g = grads[0]
    ignore_index, reduction, has_w = ctx.params
    inputs = ctx.inputs
    x, target = inputs[0], inputs[1]
    w = inputs[2] if has_w else None
    if GRAD.enabled:  # create_graph: differentiate the composed form
        def comp(xx, *_):
            return _ce_composite(xx, w, ignore_index, reduction, target)

        return _composite_grad(ctx, g, comp)
    prob, = _state(ctx)
    if prob is None:  # an earlier backward (retain_graph=True) consumed it: recompute
        prob = _ce_fwd(*[t._data for t in inputs], ignore_index, "none", has_w)[1]
    else:
        # The gradient is written over the saved softmax: no (M, C) allocation, whose page
        # faults cost more than the arithmetic with a large vocabulary.
        ctx.out = (None,)
    xp = xp_of(prob)
    shape = x._data.shape
    t = target._data.reshape(-1).astype(xp.int64)
    wd = None if w is None else w._data.astype(prob.dtype, copy=False)
    tc, wt = _ce_targets(t, ignore_index, prob.shape[1], wd, prob.dtype, check=False)
    gd = g._data
    if reduction == "none":
        g_rows = gd.reshape(-1)
    else:
        denom = wt.sum() if reduction == "mean" else 1.0
        g_rows = xp.full(len(tc), gd / denom, prob.dtype)
    gx = _ce_bwd_arrays(g_rows.astype(prob.dtype, copy=False), prob, tc, wt)
    if len(shape) > 2:
        n, c = shape[0], shape[1]
        gx = xp.moveaxis(gx.reshape((n,) + tuple(shape[2:]) + (c,)), -1, 1)
    return (Tensor._wrap(gx.reshape(shape).astype(prob.dtype, copy=False)), None) + \
        ((None,) if has_w else ())


_CROSS_ENTROPY = OpDef("cross_entropy", _ce_fwd, _ce_bwd, save="x", multi=True, public=1,
                       attrs=("ignore_index", "reduction", "has_weight"),
                       node_name="NllLossBackward0", onnx="SoftmaxCrossEntropyLoss")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits and class indices or class probabilities.

    Args:
        input: logits ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: int64 class indices ``()``/``(N)``/``(N, d1, ...)``, or probabilities with
            the input's shape.
        weight: per-class weights ``(C,)``.
        ignore_index: target value that contributes neither loss nor gradient (indices).
        reduction: ``'none'``, ``'mean'`` (weighted mean over non-ignored targets) or
            ``'sum'``.
        label_smoothing: mix ``label_smoothing / C`` of the uniform distribution into the
            target.

    Example::

        >>> F.cross_entropy(ember.zeros(2, 4), ember.tensor([0, 3]))
        tensor(1.3863)
    """
    _t(input, "cross_entropy", "input")
    _t(target, "cross_entropy", "target")
    key = None
    if weight is None and size_average is None and reduce is None:
        # the checks below depend on the shapes, dtypes and arguments only: a call seen
        # before goes straight to the record (NOTE [ Checked convolution calls ], conv.py)
        key = _call_key(input._data.shape, target._data.shape, ignore_index, reduction,
                        label_smoothing)
        if key is not None:
            key += (input._data.dtype, target._data.dtype)
            params = _CE_CALLS.get(key)
            if params is not None:
                return apply(_CROSS_ENTROPY, (input, target), params)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"cross_entropy(): expected floating-point logits, got "
                           f"{input.dtype}")
    class_dim = 0 if input.dim() == 1 else 1
    c = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != c):
        raise RuntimeError(f"cross_entropy(): weight tensor should be defined either for all "
                           f"{c} classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    if target._data.dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            if target.dim() == input.dim() - 1:
                raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                                   f"{target.dtype._short.capitalize()}")
            raise RuntimeError(f"cross_entropy(): probability targets must have the input's "
                               f"shape {list(input.shape)}, got {list(target.shape)}")
        return _ce_probs(input, target, weight, reduction, label_smoothing, class_dim)
    _check_class_target("cross_entropy", input, target)
    if label_smoothing > 0 or (weight is not None and weight._requires_grad):
        logp = input.log_softmax(class_dim)
        nll = _nll_composed(logp, target, weight, ignore_index, reduction)
        if label_smoothing == 0:
            return nll
        return _smooth_term(logp, target, weight, ignore_index, reduction, label_smoothing,
                            class_dim, c, nll)
    inputs = (input, target) + ((weight,) if weight is not None else ())
    params = (int(ignore_index), reduction, weight is not None)
    if key is not None:
        _remember(_CE_CALLS, key, params)
    return apply(_CROSS_ENTROPY, inputs, params)


_CE_CALLS: dict = {}


def _smooth_term(logp, target, weight, ignore_index, reduction, eps, class_dim, c, nll):
    shape = [1] * logp.dim()
    shape[class_dim] = c
    wl = logp * weight.reshape(shape) if weight is not None else logp
    smooth = -wl.sum(class_dim)
    keep = Tensor._wrap((target._data != ignore_index).astype(logp._data.dtype))
    smooth = smooth * keep
    if reduction == "mean":
        if weight is not None:
            tv = target._data[target._data != ignore_index].astype(np.int64)
            ret = smooth.sum() / weight[Tensor._wrap(tv)].sum()
        else:
            ret = smooth.sum() / float(keep._data.sum())
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - eps) + ret * (eps / c)


def _ce_probs(input, target, weight, reduction, eps, class_dim):
    c = input.shape[class_dim]
    logp = input.log_softmax(class_dim)
    if eps > 0:
        target = target * (1 - eps) + eps / c
    prod = logp * target
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = c
        prod = prod * weight.reshape(shape)
    loss = -prod.sum(class_dim)
    if reduction == "mean":
        n = input.numel() // c if input.numel() else 0
        return loss.sum() / n if n else loss.sum() / 0.0
    return _reduce(loss, reduction)


def _nll_none_fwd(x2, tc, wt):
    """``nll_loss`` record: ``-x2[i, tc[i]] * wt[i]`` for (M, C) log-probabilities, (M,)
    clamped targets and (M,) row weights (0 for ignored rows)."""
    return -xp_of(x2).take_along_axis(x2, tc[:, None], axis=1)[:, 0] * wt


def _nll_bwd_fwd(g, tc, wt, c):
    xp = xp_of(g)
    gx = xp.zeros((len(tc), c), g.dtype)
    gx[xp.arange(len(tc)), tc] = -g * wt
    return gx


_NLL_BWD = OpDef("nll_loss_backward", _nll_bwd_fwd, None, save="x", attrs=("num_classes",),
                 node_name="NllLossBackwardBackward0")
_NLL = OpDef("nll_loss", _nll_none_fwd, None, save="x", node_name="NllLossBackward0",
             onnx="NegativeLogLikelihoodLoss")


def _nll_composed(logp, target, weight, ignore_index, reduction):
    """``nll_loss`` as a differentiable node over (M, C) plus ember-op reduction."""
    class_dim = 0 if logp.dim() == 1 else 1
    c = logp.shape[class_dim]
    x = logp.movedim(class_dim, -1).reshape(-1, c) if logp.dim() > 2 else \
        (logp.reshape(1, c) if logp.dim() == 1 else logp)
    t = target._data.reshape(-1).astype(np.int64)
    dtype = logp._data.dtype
    tc, wt = _ce_targets(t, ignore_index, c, weight._data if weight is not None else None,
                         dtype)
    loss = _nll_apply(x, tc, wt)
    if weight is not None and weight._requires_grad:
        # weights that require grad: compose the weighting with ember ops
        valid = (t != ignore_index).astype(dtype)
        w_sel = weight[Tensor._wrap(tc)] * Tensor._wrap(valid)
        loss = _nll_apply(x, tc, valid) * w_sel
        denom = w_sel.sum()
    else:
        denom = float(wt.sum())
    if reduction == "none":
        return loss.reshape(target.shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / denom


def _nll_apply(x, tc, wt):
    return apply(_NLL, (x, Tensor._wrap(tc), Tensor._wrap(wt)))


def _nll_grad(ctx, g):
    x, tc, wt = ctx.inputs
    return (apply(_NLL_BWD, (g, tc, wt), (x._data.shape[1],)), None, None)


def _nll_bwd_grad(ctx, gg):
    _, tc, wt = ctx.inputs
    return (apply(_NLL, (gg, tc, wt)), None, None)


_NLL.bwd = _nll_grad
_NLL_BWD.bwd = _nll_bwd_grad


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class indices given log-probabilities.

    Example::

        >>> F.nll_loss(ember.tensor([[-1.0, -2.0]]), ember.tensor([1]))
        tensor(2.)
    """
    _t(input, "nll_loss", "input")
    _t(target, "nll_loss", "target")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_class_target("nll_loss", input, target)
    c = input.shape[0 if input.dim() == 1 else 1]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != c):
        raise RuntimeError(f"nll_loss(): weight tensor should be defined either for all {c} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    return _nll_composed(input, target, weight, ignore_index, reduction)


def _check_same_size(name, input, target):
    if tuple(target.shape) != tuple(input.shape):
        if name == "binary_cross_entropy":
            raise ValueError(f"Using a target size ({target.shape}) that is different to the "
                             f"input size ({input.shape}) is deprecated. Please ensure they "
                             "have the same size.")
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """BCE on probabilities; log terms are clamped at -100 as in PyTorch.

    Example::

        >>> F.binary_cross_entropy(ember.tensor([0.5]), ember.tensor([1.0]))
        tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_same_size("binary_cross_entropy", input, target)
    if target.dtype != input.dtype:  # PyTorch casts nothing here
        raise RuntimeError(f"binary_cross_entropy(): Found dtype {target.dtype._short} but "
                           f"expected {input.dtype._short}")
    xd = input._data
    if xd.size and not (xd.min() >= 0 and xd.max() <= 1):  # NaN fails both comparisons
        raise RuntimeError("all elements of input should be between 0 and 1")
    td = target._data
    if td.size and not (td.min() >= 0 and td.max() <= 1):
        raise RuntimeError("all elements of target should be between 0 and 1")
    loss = -(target * input.log().clamp_min(-100) + (1 - target) * (1 - input).log()
             .clamp_min(-100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _softplus_neg(x):
    """``log(1 + exp(-x))`` stably: ``max(-x, 0) + log1p(exp(-|x|))``."""
    return (-x).clamp_min(0) + (-x.abs()).exp().log1p()


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits, stable for any logit magnitude.

    ``loss = (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x))``, times ``weight``.

    Example::

        >>> F.binary_cross_entropy_with_logits(ember.tensor([0.0]), ember.tensor([1.0]))
        tensor(0.6931)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_same_size("binary_cross_entropy_with_logits", input, target)
    sp = _softplus_neg(input)
    if pos_weight is not None:
        lw = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + lw * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence ``sum target * (log target - input)``, ``input`` given as log-probs.

    Args:
        reduction: ``'batchmean'`` (the mathematical KL per sample), ``'mean'`` (per
            element; warns, as PyTorch), ``'sum'`` or ``'none'``.
        log_target: ``target`` is given as log-probabilities.

    Example::

        >>> F.kl_div(ember.tensor([[-0.5, -1.0]]), ember.tensor([[0.5, 0.5]]),
        ...          reduction="batchmean")
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                      "the support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        from ember import where

        pos = target > 0
        safe = where(pos, target, 1.0)
        loss = target * safe.log() - target * input
    if reduction == "batchmean":
        if input.dim() == 0:
            return loss.sum()
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- margins
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))`` for targets ``y`` in {-1, 1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _reduce(_softplus_neg(input * target), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class BCE-with-logits averaged over classes, for multi-label targets in {0, 1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    cd = input.dim() - 1
    loss = loss.sum(cd) / input.shape[cd]
    return _reduce(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge: ``sum_{j != y} max(0, margin - x_y + x_j)^p / C``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    n, c = x.shape
    t = target._data.reshape(-1).astype(np.int64)
    if len(t) != n:
        raise RuntimeError(f"multi_margin_loss(): inconsistent target size: {list(target.shape)} "
                           f"for input of size: {list(input.shape)}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise RuntimeError("target out of range")
    ti = Tensor._wrap(t)
    xy = x[Tensor._wrap(np.arange(n)), ti].unsqueeze(1)
    z = (x - xy + margin).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[ti].unsqueeze(1)
    notself = np.ones((n, c), x._data.dtype)
    notself[np.arange(n), t] = 0
    loss = (z * Tensor._wrap(notself)).sum(1) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge: targets are class indices padded with -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    x = input if input.dim() == 2 else input.reshape(1, -1)
    t = target._data.reshape(x.shape).astype(np.int64)
    n, c = x.shape
    is_target = np.zeros((n, c), bool)
    pairs_y, pairs_i = [], []
    for i in range(n):
        for j in range(c):
            if t[i, j] < 0:
                break
            is_target[i, t[i, j]] = True
            pairs_i.append(i)
            pairs_y.append(t[i, j])
    if not pairs_i:
        loss = x.sum(1) * 0
    else:
        rows = Tensor._wrap(np.array(pairs_i))
        xy = x[rows, Tensor._wrap(np.array(pairs_y))].unsqueeze(1)
        z = (1 - xy + x[rows]).clamp_min(0) * Tensor._wrap((~is_target[pairs_i]).astype(
            x._data.dtype))
        per = z.sum(1) / c
        loss = _scatter_rows(per, np.array(pairs_i), n)
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _scatter_rows(v, rows, n):
    onehot = np.zeros((n, len(rows)), v._data.dtype)
    onehot[rows, np.arange(len(rows))] = 1
    return Tensor._wrap(onehot).matmul(v)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    from ember import where

    zero = input * 0
    m = where(target != 1, (margin - input).clamp_min(0), zero)
    s = where(target != -1, input, zero)
    return _reduce(m + s, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos`` where ``y == 1``, ``max(0, cos - margin)`` where ``y == -1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.shape != input2.shape:
        raise RuntimeError(f"cosine_embedding_loss(): input1 {list(input1.shape)} and input2 "
                           f"{list(input2.shape)} must have the same shape")
    from ember import where

    d = input1.dim() - 1
    eps = 1e-12
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + eps
    m2 = (input2 * input2).sum(d) + eps
    cos = prod / (m1 * m2).sqrt()
    zero = cos * 0
    pos = where(target == 1, 1 - cos, zero)
    neg = where(target == -1, (cos - margin).clamp_min(0), zero)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with the p-norm pairwise distance."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.dim()}D, "
                           f"positive {positive.dim()}D, and negative {negative.dim()}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from ember import minimum

        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet loss with a custom ``distance_function`` (default: pairwise distance).

    Args:
        anchor: the anchors.
        positive: the positives.
        negative: the negatives.
        distance_function: a function of two tensors giving distances (default:
            ``pairwise_distance``).
        margin: the margin (default 1).
        swap: use the positive-negative distance when smaller.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.

    Returns:
        A 0-dim tensor, or per-triplet losses with ``reduction='none'``.

    Example:
        >>> a, p, n = ember.zeros(1, 2), ember.zeros(1, 2), ember.ones(1, 2)
        >>> F.triplet_margin_with_distance_loss(a, p, n)
        tensor(0.)
    """
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than "
                         f"0, got {margin} instead")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        from ember import minimum

        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


# --------------------------------------------------------------------------- likelihoods
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood (``exp(x) - t x`` for log-rate input).

    ``full`` adds the Stirling term ``t log t - t + 0.5 log(2 pi t)`` for ``t > 1``.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        td = target._data
        mask = td > 1
        safe = np.where(mask, td, 1.0)
        st = np.where(mask, safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe), 0)
        loss = loss + Tensor._wrap(st.astype(loss._data.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ``0.5 (log var + (x - t)^2 / var)``.

    ``var`` may have the input's shape, or lack its last dimension (one variance per
    sample), or be a float; it is clamped to ``eps`` without blocking its gradient.
    """
    if isinstance(var, (int, float)):
        var = Tensor._wrap(np.full(input.shape, float(var), input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    clamped = np.maximum(var._data, eps).astype(var._data.dtype)
    var = var + Tensor._wrap(clamped - var._data)  # value clamped, gradient passes through
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- CTC
def _logsumexp2(a, b):
    m = np.maximum(a, b)
    m_safe = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(m), m_safe + np.log(np.exp(a - m_safe) + np.exp(b - m_safe)),
                        m)


def _ctc_one(lp, tgt, blank):
    """Forward-backward in log space for one sequence; returns (nll, grad wrt lp)."""
    t_len, c = lp.shape
    ext = np.full(2 * len(tgt) + 1, blank, np.int64)
    ext[1::2] = tgt
    s_len = len(ext)
    neg = -np.inf
    # may state s skip from s-2 (a label different from the one two back)?
    skip = np.zeros(s_len, bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full((t_len, s_len), neg)
    alpha[0, 0] = lp[0, ext[0]]
    if s_len > 1:
        alpha[0, 1] = lp[0, ext[1]]
    for t in range(1, t_len):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = _logsumexp2(a[1:], prev[:-1])
        two = np.full(s_len, neg)
        two[2:] = np.where(skip[2:], prev[:-2], neg)
        a = _logsumexp2(a, two)
        alpha[t] = a + lp[t, ext]
    beta = np.full((t_len, s_len), neg)
    beta[-1, -1] = lp[-1, ext[-1]]
    if s_len > 1:
        beta[-1, -2] = lp[-1, ext[-2]]
    skip_fwd = np.zeros(s_len, bool)  # may s jump to s+2?
    skip_fwd[:-2] = skip[2:]
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        b = nxt.copy()
        b[:-1] = _logsumexp2(b[:-1], nxt[1:])
        two = np.full(s_len, neg)
        two[:-2] = np.where(skip_fwd[:-2], nxt[2:], neg)
        b = _logsumexp2(b, two)
        beta[t] = b + lp[t, ext]
    ll = alpha[-1, -1] if s_len == 1 else _logsumexp2(alpha[-1, -1], alpha[-1, -2])
    # d(-ll)/d lp[t, k] = exp(lp) - (1/p) sum_{s: ext[s]=k} alpha beta / exp(lp)  (log-softmax
    # inputs), written here for raw log-prob inputs: -exp(logsum_{s:ext=k}(a+b) - lp - ll)
    ab = alpha + beta
    grad = np.zeros((t_len, c))
    if np.isfinite(ll):
        for k in np.unique(ext):
            cols = ab[:, ext == k]
            m = cols.max(axis=1)
            ms = np.where(np.isfinite(m), m, 0)
            with np.errstate(divide="ignore"):
                lse = np.where(np.isfinite(m), ms + np.log(np.exp(cols - ms[:, None]).sum(1)), m)
            grad[:, k] = -np.exp(lse - lp[:, k] - ll)
    return -ll, grad


def _ctc_fwd_all(lp, targets, in_lens, tgt_lens, blank):
    t_max, n, c = lp.shape
    losses = np.zeros(n)
    grads = np.zeros((t_max, n, c))
    offs = np.concatenate([[0], np.cumsum(tgt_lens)])
    for b in range(n):
        if targets.ndim == 2:
            tgt = targets[b, :tgt_lens[b]]
        else:
            tgt = targets[offs[b]:offs[b + 1]]
        tl = in_lens[b]
        if tl == 0:
            losses[b] = 0.0 if len(tgt) == 0 else np.inf
            continue
        nll, g = _ctc_one(lp[:tl, b].astype(np.float64), np.asarray(tgt, np.int64), blank)
        losses[b] = nll
        grads[:tl, b] = g
    return losses, grads


def _ctc_fwd(lp, targets, in_lens, tgt_lens, blank, zero_infinity):
    """``ctc_loss`` record: ``(log_probs (T, N, C), targets, input_lengths, target_lengths,
    blank, zero_infinity)`` -> ``(losses (N,), grad (T, N, C))``; the gradient of each loss
    with respect to ``log_probs``, from the alpha-beta recursions, is saved for backward."""
    losses, grads = _ctc_fwd_all(lp, targets, in_lens, tgt_lens, blank)
    if zero_infinity:
        inf = ~xp_of(losses).isfinite(losses)
        losses[inf] = 0.0
        grads[:, inf] = 0
    return losses.astype(lp.dtype), grads


def _ctc_bwd(ctx, grads):
    g = grads[0]
    gr, = _state(ctx)
    xp = xp_of(gr)
    gr = gr * xp.asarray(g._data, xp.float64).reshape(1, -1, 1)
    x = ctx.inputs[0]
    return (Tensor._wrap(xp.nan_to_num(gr, nan=0.0).astype(x._data.dtype)), None, None, None)


_CTC = OpDef("ctc_loss", _ctc_fwd, _ctc_bwd, save="x", multi=True, public=1,
             attrs=("blank", "zero_infinity"), node_name="CtcLossBackward0")


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss (forward-backward in log space).

    Args:
        log_probs: ``(T, N, C)`` or ``(T, C)`` log-probabilities (e.g. ``log_softmax``).
        targets: ``(N, S)`` padded, or 1-D concatenated target sequences.
        input_lengths: ``(N,)`` lengths of the inputs.
        target_lengths: ``(N,)`` lengths of the targets.
        blank: the blank label.
        reduction: ``'mean'`` divides each loss by its target length, then averages.
        zero_infinity: replace infinite losses (impossible alignments) and their gradients
            by zero.

    Example::

        >>> lp = ember.randn(5, 1, 3).log_softmax(2)
        >>> F.ctc_loss(lp, ember.tensor([[1, 2]]), [5], [2])
    """
    _check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.dim() != 3:
        raise RuntimeError(f"ctc_loss(): log_probs must be 3-D (T, N, C) or 2-D (T, C), got "
                           f"shape {list(log_probs.shape)}")
    n = lp.shape[1]

    def as_arr(v):
        if isinstance(v, Tensor):
            return v._data.reshape(-1).astype(np.int64)
        return np.asarray(v, np.int64).reshape(-1)

    in_lens, tgt_lens = as_arr(input_lengths), as_arr(target_lengths)
    tg = targets._data.astype(np.int64)
    if unbatched and tg.ndim == 1 and len(tgt_lens) == 1:
        tg = tg.reshape(1, -1) if tg.size == tgt_lens[0] else tg
    if len(in_lens) != n or len(tgt_lens) != n:
        raise RuntimeError(f"ctc_loss(): input_lengths and target_lengths must have one entry "
                           f"per batch element ({n}), got {len(in_lens)} and {len(tgt_lens)}")
    if (in_lens > lp.shape[0]).any():
        raise RuntimeError(f"Expected input_lengths to have value at most {lp.shape[0]}, but "
                           f"got value {in_lens.max()}")
    per = apply(_CTC, (lp, Tensor._wrap(tg), Tensor._wrap(in_lens), Tensor._wrap(tgt_lens)),
                (int(blank), bool(zero_infinity)))
    if unbatched:
        per = per.reshape(())
    if reduction == "mean":
        denom = Tensor._wrap(np.maximum(tgt_lens, 1).astype(lp._data.dtype))
        return (per / (denom if not unbatched else denom.reshape(()))).mean()
    if reduction == "sum":
        return per.sum()
    return per

