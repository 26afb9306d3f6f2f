"""Sampling functions of ``ember.nn.functional``: ``gumbel_softmax``."""

from __future__ import annotations

import warnings

import numpy as np

import ember
from ember import _random
from ember._ops.core import wrap
from ember._tensor import Tensor

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution over ``dim``, optionally
    discretised to one-hot with a straight-through gradient.

    ``softmax((logits + g) / tau)`` with ``g`` standard Gumbel noise drawn from ember's
    default generator. With ``hard=True`` the forward value is the one-hot of the argmax
    while the gradient is the soft sample's (``y_hard - y_soft.detach() + y_soft``).

    Args:
        logits: unnormalised log-probabilities, shape ``(..., K, ...)``.
        tau: temperature (> 0).
        hard: return one-hot vectors (straight-through gradient).
        eps: deprecated and unused (PyTorch warns too).
        dim: the dimension of the categories.

    Example::

        >>> y = ember.nn.functional.gumbel_softmax(ember.zeros(2, 3), hard=True)
        >>> y.sum(-1)
        tensor([1., 1.])
    """
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax(): argument 'logits' must be Tensor, not "
                        f"{type(logits).__name__}")
    if not logits.is_floating_point():
        raise RuntimeError(f"gumbel_softmax: expected floating point logits, got "
                           f"{logits.dtype}")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    dt = logits._data.dtype
    e = _random._gen(None).standard_exponential(tuple(logits.shape))
    # -log(Exp(1)) is standard Gumbel; tiny keeps log finite in float32
    gumbels = wrap(-np.log(np.maximum(e, np.finfo(dt).tiny)).astype(dt))
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = ember.zeros_like(logits).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
