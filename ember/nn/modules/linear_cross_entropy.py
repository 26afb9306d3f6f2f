"""``LinearCrossEntropyLoss`` and ``LinearCrossEntropyOptions``: a Linear head fused with
cross-entropy, optionally computed in batch chunks."""

from __future__ import annotations

import dataclasses
import math

from ember import _dtype as D
from ember._tensor import Tensor
from ember.nn import _functional_linear_ce as F
from ember.nn.modules.linear import Linear
from ember.nn.modules.loss import _WeightedLoss

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]

_POLICIES = ("auto", "accurate", "balanced", "compact")


@dataclasses.dataclass(slots=True)
class LinearCrossEntropyOptions:
    """How :func:`~ember.nn.functional.linear_cross_entropy` chunks the batch.

    ember computes each chunk's logits and loss under activation checkpointing, so only one
    chunk's ``(rows, num_classes)`` logits exist at a time, in the forward and again in the
    backward (NOTE [ Chunked linear cross-entropy ]).

    Args:
        allow_retain_graph: PyTorch's switch for a second backward; ember's chunks are
            recomputed in backward, so a second backward always works.
        batch_chunk_size: rows per chunk (None: from ``chunking_method``, or one chunk).
        chunking_method: ``"auto"`` (``"aspect_ratio:2"``, or ``"aspect_ratio"`` for
            float16/bfloat16 input), ``"aspect_ratio"`` (chunks whose logits are as large as
            the input: ``next_pow2(ceil(N / ceil(C / in_features)))`` rows),
            ``"aspect_ratio:K"`` (that divided by K) or None (use ``batch_chunk_size``).
        acc_policy: ``"auto"``, ``"accurate"``, ``"balanced"`` or ``"compact"``: PyTorch's
            memory/precision trade-offs of its kernels; ember always accumulates every
            intermediate in ``acc_dtype`` (the ``"accurate"`` policy).
        acc_dtype: the accumulation dtype (None: float32 for float16/bfloat16 input, else
            the input's dtype).

    Example:
        >>> opts = nn.LinearCrossEntropyOptions(batch_chunk_size=4, chunking_method=None)
        >>> F.linear_cross_entropy(ember.randn(8, 3), ember.randn(5, 3),
        ...                        ember.tensor([0, 1, 2, 3, 4, 0, 1, 2]), options=opts).shape
        torch.Size([])
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            if not (name == "aspect_ratio" and (not sep or (factor.isdigit()
                                                            and int(factor) > 0))):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        b = self.batch_chunk_size
        if not (b is None or (isinstance(b, int) and not isinstance(b, bool) and b > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {b!r}")
        if self.acc_dtype is not None and self.acc_dtype not in (
                D.float16, D.bfloat16, D.float32, D.float64):
            raise ValueError(f"acc_dtype must be one of {{None, torch.float16, "
                             f"torch.bfloat16, torch.float32, torch.float64}}, got "
                             f"{self.acc_dtype!r}. Pass acc_dtype=None to let the op pick "
                             "automatically.")

    def _chunk_rows(self, n, in_features, num_classes, dtype) -> int:
        """Rows per chunk for a batch of ``n`` (the documented rules)."""
        method = self.chunking_method
        if method == "auto":
            method = "aspect_ratio" if dtype in (D.float16, D.bfloat16) else "aspect_ratio:2"
        by_method = None
        if method is not None:
            k = int(method.partition(":")[2] or 1)
            inc = -(-num_classes // in_features)
            target = -(-n // inc)
            by_method = max(1, min((1 << max(target - 1, 0).bit_length()) // k, n))
        if self.batch_chunk_size is not None:
            if by_method is not None and self.chunking_method != "auto" \
                    and by_method != self.batch_chunk_size:
                raise ValueError(f"batch_chunk_size (={self.batch_chunk_size}) and "
                                 f"chunking_method ({self.chunking_method!r}) give different "
                                 f"chunk sizes ({self.batch_chunk_size} vs {by_method}); "
                                 "pass only one.")
            return self.batch_chunk_size
        return by_method if by_method is not None else max(n, 1)


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of a Linear projection of the input: a classifier head and its loss.

    ``forward(input, target)`` is ``F.linear_cross_entropy(input, W, target, ...)`` with
    ``W = linear.weight.view(num_classes, *out_features, in_features)``.

    Args:
        in_features: the size of each input sample.
        num_classes: the number of classes ``C``.
        out_features: extra dims ``(d_1, ..., d_K)`` for a K-dimensional loss.
        bias: give the projection a bias (stored flat, ``C * prod(out_features)``).
        device, dtype: where and how the projection's parameters are created.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        weight: a rescaling weight per class (size ``C``).
        ignore_index: a class index that is ignored (None: -100 for class indices).
        label_smoothing: in [0, 1].
        options: a :class:`LinearCrossEntropyOptions` to compute the loss in batch chunks.

    Shape:
        input (in_features,) or (N, in_features); target (), (N) or (N, *out_features)
        class indices, or class probabilities (C) or (N, C, *out_features); output a scalar,
        or the target's shape with ``reduction='none'``.

    Example:
        >>> loss = nn.LinearCrossEntropyLoss(5, 10, out_features=(4,))
        >>> loss(ember.randn(2, 5), ember.randint(0, 10, (2, 4))).shape
        torch.Size([])
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple = (),
                 bias: bool = False, device=None, dtype=None, reduction: str = "mean",
                 weight: Tensor | None = None, ignore_index: int | None = None,
                 label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None) -> None:
        super().__init__(weight, None, None, reduction)
        self.in_features = in_features
        self.num_classes = num_classes
        self.out_features = tuple(out_features)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.options = options
        self.linear = Linear(in_features, num_classes * math.prod(self.out_features),
                             bias=bias, device=device, dtype=dtype)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        w = self.linear.weight.view(self.num_classes, *self.out_features, self.in_features)
        b = self.linear.bias
        if b is not None:
            b = b.view(self.num_classes, *self.out_features)
        return F.linear_cross_entropy(input, w, target, linear_bias=b, weight=self.weight,
                                      reduction=self.reduction, ignore_index=self.ignore_index,
                                      label_smoothing=self.label_smoothing,
                                      options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
