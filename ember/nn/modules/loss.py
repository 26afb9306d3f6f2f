"""Loss modules: hold the options and call ``nn.functional``.

Class weights are registered as buffers named ``weight`` (and ``pos_weight``), so they
appear in ``state_dict`` exactly as in PyTorch.
"""

from __future__ import annotations

from typing import Callable

from ember._tensor import Tensor
from ember.nn import _functional_distance as FB
from ember.nn import _functional_loss as F
from ember.nn.modules.module import Module

__all__ = ["L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           "KLDivLoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss",
           "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
           "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
           "TripletMarginLoss", "TripletMarginWithDistanceLoss", "PoissonNLLLoss",
           "GaussianNLLLoss", "CTCLoss", "NLLLoss2d"]


class _Loss(Module):
    reduction: str

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = F._legacy_reduction(size_average, reduce, reduction)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """Mean absolute error.

    Args:
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example::

        >>> nn.L1Loss()(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor(1.5000)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error.

    Args:
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example::

        >>> nn.MSELoss(reduction="sum")(ember.tensor([1.0]), ember.tensor([3.0]))
        tensor(4.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy on logits with class-index or probability targets.

    Args:
        weight: per-class weights (a buffer).
        ignore_index: target value to skip (index targets).
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        label_smoothing: amount of uniform smoothing in [0, 1].

    Shape:
        - Input: ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)`` logits.
        - Target: class indices ``(N,)`` (``()``, ``(N, d1, ...)``) or probabilities of the
          input's shape.
        - Output: a scalar; with ``reduction='none'``, the target's shape (without C).

    Example::

        >>> logits = ember.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
        >>> nn.CrossEntropyLoss()(logits, ember.tensor([0, 2]))
        tensor(0.1672)
    """

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood on log-probabilities and class indices.

    Args:
        weight: optional per-class weights ``(C,)``.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        ignore_index: a target value to skip (default -100).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(N, C)`` or ``(N, C, d1, ...)`` log-probabilities.
        - Target: ``(N,)`` or ``(N, d1, ...)`` class indices.
        - Output: a scalar; with ``reduction='none'``, the target's shape.

    Example:
        >>> logp = ember.log(ember.tensor([[0.5, 0.5], [0.9, 0.1]]))
        >>> nn.NLLLoss()(logp, ember.tensor([0, 0]))
        tensor(0.3993)
    """

    __constants__ = ["ignore_index", "reduction"]

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """Deprecated alias of :class:`NLLLoss`.

    Args:
        weight: optional per-class weights ``(C,)``.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        ignore_index: a target value to skip (default -100).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(N, C, H, W)`` log-probabilities.
        - Target: ``(N, H, W)``.
        - Output: a scalar; with ``reduction='none'``, ``(N, H, W)``.

    Example:
        >>> logp = ember.zeros(1, 2, 1, 1).log_softmax(1)
        >>> nn.NLLLoss2d()(logp, ember.zeros(1, 1, 1, dtype=ember.int64))
        tensor(0.6931)
    """


class BCELoss(_WeightedLoss):
    """Binary cross entropy on probabilities.

    Args:
        weight: optional weights of each element (broadcast).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example:
        >>> nn.BCELoss()(ember.tensor([0.9, 0.2]), ember.tensor([1.0, 0.0]))
        tensor(0.1643)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy on logits (stable), with optional ``pos_weight``.

    Args:
        weight: optional weights of each element.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        pos_weight: optional weight of the positive term, per class (last dimension).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example::

        >>> nn.BCEWithLogitsLoss(pos_weight=ember.ones(3))(ember.zeros(2, 3), ember.ones(2, 3))
        tensor(0.6931)
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL divergence with log-probability input; ``reduction='batchmean'`` is the true KL.

    Args:
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'``, ``'batchmean'`` (the true KL divergence per sample),
            ``'sum'`` or ``'none'``.
        log_target: the target holds log-probabilities (default False).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example:
        >>> p = ember.tensor([[0.5, 0.5]])
        >>> nn.KLDivLoss(reduction='batchmean')(ember.log(ember.tensor([[0.9, 0.1]])), p)
        tensor(0.5108)
    """

    __constants__ = ["reduction"]

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, L1 above.

    Args:
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        beta: where the loss turns from squared to linear (default 1).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example:
        >>> nn.SmoothL1Loss()(ember.tensor([0.5, 3.0]), ember.zeros(2))
        tensor(1.3125)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, ``delta``-scaled L1 above.

    Args:
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        delta: where the loss turns from squared to linear (default 1).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example:
        >>> nn.HuberLoss(delta=2.0)(ember.tensor([0.5, 3.0]), ember.zeros(2))
        tensor(2.0625)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-y x))``.

    Args:
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example:
        >>> nn.SoftMarginLoss()(ember.tensor([0.0]), ember.tensor([1.0]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss.

    Args:
        weight: optional per-class weights.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(N, C)`` logits.
        - Target: ``(N, C)`` of 0/1 labels.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example:
        >>> nn.MultiLabelSoftMarginLoss()(ember.zeros(1, 2), ember.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss.

    Args:
        p: 1 or 2 (default 1).
        margin: the margin (default 1).
        weight: optional per-class weights.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(N, C)`` or ``(C)``.
        - Target: ``(N)`` or ``()`` class indices.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example:
        >>> nn.MultiMarginLoss()(ember.tensor([[0.1, 0.8, 0.4]]), ember.tensor([1]))
        tensor(0.3000)
    """

    __constants__ = ["p", "margin", "reduction"]

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.dim()}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss (targets padded with -1).

    Args:
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(N, C)`` or ``(C)``.
        - Target: the input's shape: class indices, padded with -1.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example:
        >>> x = ember.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> nn.MultiLabelMarginLoss()(x, ember.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """``max(0, -y (x1 - x2) + margin)``.

    Args:
        margin: the margin (default 0).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input1: ``(N)`` or ``()``.
        - Input2: the same shape.
        - Target: the same shape, entries 1 or -1.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example:
        >>> nn.MarginRankingLoss()(ember.tensor([1.0]), ember.tensor([2.0]), ember.tensor([1.0]))
        tensor(1.)
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` for ``y == 1``, ``max(0, margin - x)`` for ``y == -1``.

    Args:
        margin: the margin (default 1).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example:
        >>> nn.HingeEmbeddingLoss()(ember.tensor([0.3, 0.3]), ember.tensor([1.0, -1.0]))
        tensor(0.5000)
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos`` for similar pairs, ``max(0, cos - margin)`` for dissimilar ones.

    Args:
        margin: the margin (default 0).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input1: ``(N, D)`` or ``(D)``.
        - Input2: the same shape.
        - Target: ``(N)`` or ``()``, entries 1 or -1.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example:
        >>> a, b = ember.tensor([[1.0, 0.0]]), ember.tensor([[0.0, 1.0]])
        >>> nn.CosineEmbeddingLoss()(a, b, ember.tensor([1.0]))
        tensor(1.)
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, margin + d(a, p) - d(a, n))``.

    Args:
        margin: the margin (default 1).
        p: the norm order of the distance (default 2).
        eps: added inside the distance (default 1e-6).
        swap: use the positive-negative distance when smaller (default False).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Anchor, Positive, Negative: ``(N, D)`` or ``(D)``.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example:
        >>> a, p, n = ember.zeros(1, 2), ember.zeros(1, 2), ember.ones(1, 2)
        >>> nn.TripletMarginLoss()(a, p, n)
        tensor(0.)
    """

    __constants__ = ["margin", "p", "eps", "swap", "reduction"]

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with a custom distance function.

    Args:
        distance_function: a function of two tensors giving their distances (default:
            ``pairwise_distance``).
        margin: the margin (default 1).
        swap: use the positive-negative distance when smaller (default False).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Anchor, Positive, Negative: ``(N, *)``.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example:
        >>> a, p, n = ember.zeros(1, 2), ember.zeros(1, 2), ember.ones(1, 2)
        >>> nn.TripletMarginWithDistanceLoss()(a, p, n)
        tensor(0.)
    """

    __constants__ = ["margin", "swap", "reduction"]

    def __init__(self, *, distance_function: Callable | None = None, margin: float = 1.0,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = (distance_function if distance_function is not None
                                  else FB.pairwise_distance)
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log likelihood.

    Args:
        log_input: the input is the log-rate (default True).
        full: add the Stirling term (default False).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        eps: added to the rate before its log without ``log_input``.
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar; with ``reduction='none'``, ``(*)``.

    Example:
        >>> nn.PoissonNLLLoss()(ember.zeros(2), ember.tensor([1.0, 2.0]))
        tensor(1.)
    """

    __constants__ = ["log_input", "full", "eps", "reduction"]

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log likelihood with predicted variance.

    Args:
        full: add the constant term (default False).
        eps: the smallest variance used (default 1e-6).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Shape:
        - Input: ``(N, *)`` means.
        - Target: ``(N, *)``.
        - Var: ``(N, *)``, or with one fewer dimension or size 1 (broadcast).
        - Output: a scalar; with ``reduction='none'``, ``(N, *)``.

    Example:
        >>> nn.GaussianNLLLoss()(ember.zeros(2), ember.ones(2), ember.ones(2))
        tensor(0.5000)
    """

    __constants__ = ["full", "eps", "reduction"]

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss.

    Args:
        blank: the blank label (default 0).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        zero_infinity: replace infinite losses by 0 (default False).

    Shape:
        - Log_probs: ``(T, N, C)``.
        - Targets: ``(N, S)`` or concatenated ``(sum of target_lengths)``.
        - Input_lengths, Target_lengths: ``(N)``.
        - Output: a scalar; with ``reduction='none'``, ``(N)``.

    Example::

        >>> ctc = nn.CTCLoss()
        >>> loss = ctc(ember.randn(6, 2, 4).log_softmax(2), ember.tensor([[1, 2], [3, 3]]),
        ...            [6, 5], [2, 2])
        >>> loss.shape, bool(loss > 0)
        (torch.Size([]), True)
    """

    __constants__ = ["blank", "reduction"]

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths,
                target_lengths) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
