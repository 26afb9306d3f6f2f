"""``nn.functional.linear_cross_entropy``: a linear projection fused with cross-entropy."""

from __future__ import annotations

import warnings

import ember
from ember import _dtype as D
from ember._tensor import Tensor
from ember.nn import _functional_linear as _lin
from ember.nn import _functional_loss as _loss

__all__ = ["linear_cross_entropy"]


def _logits(input, w, b):
    """(N, C, *out) logits of ``input`` (N, in) or (in,) for a weight (C, *out, in)."""
    c, out = w.shape[0], tuple(w.shape[1:-1])
    y = _lin.linear(input, w.reshape(-1, w.shape[-1]),
                    None if b is None else b.reshape(-1))
    return y if not out else y.reshape(y.shape[0], c, *out)


# NOTE [ Chunked linear cross-entropy ]
# With ``options`` the batch is cut into chunks of rows (LinearCrossEntropyOptions decides
# how many) and each chunk's logits and summed loss are computed under activation
# checkpointing: the forward keeps only the chunk's inputs, the backward recomputes one
# chunk's logits at a time. So the (N, C) logits of a large vocabulary head never exist at
# once, which is the point of PyTorch's chunked kernel; the values equal the reference path's
# (the same per-row losses, summed per chunk). ``'mean'`` divides the total by the summed
# class weights of the non-ignored targets, as cross_entropy does. The chunked path has
# PyTorch's preconditions (class-index targets, no label smoothing, no K-dim loss, a (C,)
# bias); otherwise ``options`` is ignored with PyTorch's warning and the reference path runs.
def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options=None) -> Tensor:
    """Cross-entropy of ``linear(input, linear_weight, linear_bias)`` against ``target``.

    Args:
        input: (in_features,) or (N, in_features).
        linear_weight: (C, in_features), or (C, d_1, ..., d_K, in_features) for a
            K-dimensional loss (batched input only).
        target: class indices (), (N) or (N, d_1, ..., d_K), or class probabilities.
        linear_bias: (C,) or (C, d_1, ..., d_K).
        weight: a rescaling weight per class (C,).
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        ignore_index: a class index to ignore (None: -100 for class indices).
        label_smoothing: in [0, 1].
        options: a ``LinearCrossEntropyOptions`` to compute in batch chunks (NOTE [ Chunked
            linear cross-entropy ]); None runs the reference path.

    Returns:
        The loss: a scalar, or the target's shape with ``reduction='none'``.

    Example:
        >>> F.linear_cross_entropy(ember.zeros(2, 3), ember.zeros(4, 3), ember.tensor([0, 3]))
        tensor(1.3863)
    """
    if not isinstance(linear_weight, Tensor) or linear_weight.dim() < 2:
        raise RuntimeError(f"linear_cross_entropy: linear_weight must be a tensor of shape "
                           f"(C, in_features) or (C, d_1, ..., d_K, in_features), got "
                           f"{getattr(linear_weight, 'shape', type(linear_weight).__name__)}")
    out = tuple(linear_weight.shape[1:-1])
    if out and input.dim() != 2:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, (N, "
                           f"{linear_weight.shape[-1]}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    ii = -100 if ignore_index is None else ignore_index
    kw = dict(weight=weight, ignore_index=ii, label_smoothing=label_smoothing)
    if options is not None:
        chunkable = (reduction in ("mean", "sum", "none") and label_smoothing == 0
                     and target.dtype == D.int64 and not out
                     and (linear_bias is None or linear_bias.dim() == 1))
        if not chunkable:
            warnings.warn(
                "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
                f"out_features == (). Got reduction={reduction!r}, "
                f"label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                f"out_features={out}, linear_bias.shape="
                f"{None if linear_bias is None else tuple(linear_bias.shape)}.", stacklevel=2)
        elif input.dim() == 2 and input.shape[0] > 0:
            return _chunked(input, linear_weight, target, linear_bias, weight, reduction, ii,
                            options)
    return _loss.cross_entropy(_logits(input, linear_weight, linear_bias), target,
                               reduction=reduction, **kw)


def _chunked(input, w, target, b, weight, reduction, ii, options):
    from ember.utils.checkpoint import checkpoint

    n, c = input.shape[0], w.shape[0]
    acc = options.acc_dtype
    if acc is None and input.dtype in (D.float16, D.bfloat16):
        acc = D.float32
    rows = options._chunk_rows(n, w.shape[-1], c, input.dtype)
    red = "none" if reduction == "none" else "sum"

    def piece(x, t, w_, b_):
        if acc is not None and acc != x.dtype:
            x, w_ = x.to(acc), w_.to(acc)
            b_ = None if b_ is None else b_.to(acc)
        return _loss.cross_entropy(_logits(x, w_, b_), t, weight=weight, ignore_index=ii,
                                   reduction=red)

    parts = []
    for start in range(0, n, rows):
        sl = slice(start, min(start + rows, n))
        parts.append(checkpoint(piece, input[sl], target[sl], w, b, use_reentrant=False))
    if reduction == "none":
        return ember.cat(parts).to(input.dtype)
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    if reduction == "mean":
        keep = target != ii
        if weight is None:
            denom = keep.sum().to(total.dtype)
        else:
            denom = (weight[target.clamp(0, c - 1)] * keep).sum().to(total.dtype)
        total = total / denom
    return total.to(input.dtype)

