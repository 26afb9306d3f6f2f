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
    """Broadcast tensors and numbers together; numbers take the tensors' dtype (or default)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else ember.get_default_dtype()
    vals = [v if isinstance(v, Tensor) else ember.tensor(float(v), dtype=dtype) for v in values]
    return tuple(ember.broadcast_tensors(*vals))


def _finfo(dtype):
    return np.finfo(dtype.np)


def clamp_probs(probs):
    """Clamp probabilities into the open interval (eps, 1 - eps)."""
    eps = float(_finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """sigmoid (binary) or softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def probs_to_logits(probs, is_binary=False):
    """log-odds (binary) or log-probabilities, from clamped probabilities."""
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


def sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(*value.shape[:value.ndim - dim], -1).sum(-1)


class lazy_property:
    """Compute on first access, then cache on the instance (PyTorch's ``lazy_property``)."""

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
    """Run a NumPy sampler and wrap its result in ``dtype`` (no grad)."""
    return wrap(np.asarray(fn(), dtype=dtype.np))
