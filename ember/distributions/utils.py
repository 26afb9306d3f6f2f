"""Helpers shared by the distributions: broadcasting, probs <-> logits, lazy properties."""

from __future__ import annotations

import numbers

import numpy as np

import ember
from ember._ops.core import wrap
from ember._tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "lazy_property",
           "clamp_probs", "sum_rightmost", "sample_array"]


def broadcast_all(*values):
    """Broadcast tensors and numbers together; numbers take the tensors' dtype (or default).

    Args:
        *values: tensors and numbers.

    Returns:
        A tuple of tensors of the broadcast shape.

    Example:
        >>> from ember.distributions.utils import broadcast_all
        >>> broadcast_all(ember.ones(2), 3.0)
        (tensor([1., 1.]), tensor([3., 3.]))
    """
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else ember.get_default_dtype()
    device = tensors[0].device if tensors else None  # numbers join the tensors' device
    vals = [v if isinstance(v, Tensor) else ember.tensor(float(v), dtype=dtype, device=device)
            for v in values]
    return tuple(ember.broadcast_tensors(*vals))


def _finfo(dtype):
    return np.finfo(dtype.np)


def clamp_probs(probs):
    """Clamp probabilities into ``[eps, 1 - eps]`` (``eps`` of their dtype), so that their
    logs and log-odds stay finite.

    Args:
        probs: a tensor of probabilities.

    Returns:
        The clamped tensor.

    Example:
        >>> from ember.distributions.utils import clamp_probs
        >>> clamp_probs(ember.tensor([0.0, 0.5]))
        tensor([1.1921e-07, 5.0000e-01])
    """
    eps = float(_finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: the sigmoid (``is_binary``) or a softmax over the last
    dim.

    Args:
        logits: a tensor of logits.
        is_binary: each element is one event's log-odds (Bernoulli), not a category score.

    Returns:
        A tensor of ``logits``' shape.

    Example:
        >>> from ember.distributions.utils import logits_to_probs
        >>> logits_to_probs(ember.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (clamped first): log-odds (``is_binary``) or
    log-probabilities.

    Args:
        probs: a tensor of probabilities.
        is_binary: each element is one event's probability (Bernoulli).

    Returns:
        A tensor of ``probs``' shape.

    Example:
        >>> from ember.distributions.utils import probs_to_logits
        >>> probs_to_logits(ember.tensor([0.5]), is_binary=True)
        tensor([0.])
    """
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


def sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions (a distribution's event dims).

    Args:
        value: a tensor.
        dim: how many trailing dims to sum (0: none).

    Returns:
        The summed tensor.

    Example:
        >>> from ember.distributions.utils import sum_rightmost
        >>> sum_rightmost(ember.ones(2, 3, 4), 2)
        tensor([12., 12.])
    """
    if dim == 0:
        return value
    return value.reshape(*value.shape[:value.ndim - dim], -1).sum(-1)


class lazy_property:
    """Compute on first access, then cache on the instance (PyTorch's ``lazy_property``;
    distributions use it for ``probs``/``logits`` pairs).

    Args:
        wrapped: the getter.

    Example:
        >>> from ember.distributions.utils import lazy_property
        >>> class Dist:
        ...     @lazy_property
        ...     def scale(self):
        ...         print("computing")
        ...         return 2.0
        >>> d = Dist()
        >>> d.scale
        computing
        2.0
        >>> d.scale
        2.0
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def sample_array(fn, dtype):
    """Run a NumPy sampler and wrap its result in ``dtype`` (no grad): how distributions
    without a differentiable sampler draw.

    Args:
        fn: a function of no arguments returning a NumPy array.
        dtype: the ember dtype of the result.

    Returns:
        A tensor.

    Example:
        >>> import numpy as np
        >>> from ember.distributions.utils import sample_array
        >>> sample_array(lambda: np.ones(2), ember.float32)
        tensor([1., 1.])
    """
    return wrap(np.asarray(fn(), dtype=dtype.np))
