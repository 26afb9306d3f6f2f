"""``nn.functional``: pairwise distances and cosine similarity."""

from __future__ import annotations

import numpy as np

from ember._dtype import get_default_dtype
from ember._tensor import Tensor

__all__ = ["pairwise_distance", "cosine_similarity", "pdist"]


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
    if x1._data.dtype.kind in "biu" or x2._data.dtype.kind in "biu":
        # integer/bool inputs compute in the floating dtype of the other input or the
        # default one, as in PyTorch
        ft = x1.dtype if x1.is_floating_point() else (
            x2.dtype if x2.is_floating_point() else get_default_dtype())
        x1, x2 = x1.to(ft), x2.to(ft)
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
