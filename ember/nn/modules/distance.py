"""PairwiseDistance and CosineSimilarity."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.nn import _functional_distance as F
from ember.nn.modules.module import Module

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` along the last dimension.

    Args:
        p: the norm order (default 2).
        eps: added to the difference (default 1e-6).
        keepdim: keep the vector dimension.

    Shape:
        - Input1: ``(N, D)`` or ``(D)``.
        - Input2: the same shape.
        - Output: ``(N)`` or ``()`` (``(N, 1)`` with ``keepdim``).

    Example::

        >>> nn.PairwiseDistance()(ember.randn(100, 128), ember.randn(100, 128)).shape
        torch.Size([100])
    """

    __constants__ = ["norm", "eps", "keepdim"]

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``.

    Args:
        dim: the dimension of the vectors (default 1).
        eps: the smallest norm used (default 1e-8).

    Shape:
        - Input1: ``(*, D, *)``.
        - Input2: broadcastable to Input1.
        - Output: the broadcast shape without ``dim``.

    Example::

        >>> nn.CosineSimilarity(dim=1)(ember.randn(100, 128), ember.randn(100, 128)).shape
        torch.Size([100])
    """

    __constants__ = ["dim", "eps"]

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
