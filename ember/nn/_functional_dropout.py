"""``nn.functional``: dropout and its feature and alpha variants."""

from __future__ import annotations

import math

import numpy as np

from ember._random import _gen
from ember._tensor import Tensor
from ember.nn._functional_common import _maybe_inplace

__all__ = [
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
]


# --------------------------------------------------------------------------- dropout
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, dtype):
    return (_gen(None).random(shape) >= p).astype(dtype)


def _apply_mask(input, mask, inplace, name):
    m = Tensor._wrap(mask)
    return _maybe_inplace(lambda x, m: x * m, name, input, (m,), inplace)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from ember's default generator, so ``ember.manual_seed`` reproduces it.

    Example::

        >>> F.dropout(ember.ones(4), 0.5, training=False)
        tensor([1., 1., 1., 1.])
    """
    _check_p(p)
    if not training or p == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        mask = np.zeros(input.shape, dt)
    else:
        mask = _keep_mask(input.shape, p, dt) * dt.type(1.0 / (1.0 - p))
    return _apply_mask(input, mask, inplace, "dropout_")


def _feature_dropout(input, p, training, inplace, name, batched_ndim):
    _check_p(p)
    nd = input.dim()
    if nd not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but "
                           f"received a {nd}D input of shape {list(input.shape)}")
    if not training or p == 0:
        return input
    lead = 1 if nd == batched_ndim else 0
    shape = tuple(input.shape[:lead + 1]) + (1,) * (nd - lead - 1)
    dt = input._data.dtype
    if p == 1:
        mask = np.zeros(shape, dt)
    else:
        mask = _keep_mask(shape, p, dt) * dt.type(1.0 / (1.0 - p))
    return _apply_mask(input, mask, inplace, name + "_")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, "dropout1d", 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` or ``(C, H, W)`` input with probability ``p``.

    A 3-D input is treated as unbatched ``(C, H, W)``.
    """
    return _feature_dropout(input, p, training, inplace, "dropout2d", 4)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input."""
    return _feature_dropout(input, p, training, inplace, "dropout3d", 5)


_ALPHA_P = 1.7580993408473766  # -SELU's negative saturation value (scale * alpha)


def _alpha_dropout(input, p, training, inplace, feature):
    _check_p(p)
    if not training or p == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        return input * 0
    shape = tuple(input.shape)
    if feature:
        shape = shape[:2] + (1,) * (len(shape) - 2)
    keep = _keep_mask(shape, p, np.float64)
    a = 1.0 / math.sqrt((_ALPHA_P * _ALPHA_P * p + 1) * (1 - p))
    b = (keep - 1) * (_ALPHA_P * a) + _ALPHA_P * a * p
    mul = Tensor._wrap((keep * a).astype(dt))
    add = Tensor._wrap(b.astype(dt))
    return _maybe_inplace(lambda x, m, c: x * m + c, "alpha_dropout_", input, (mul, add),
                          inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance."""
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    return _alpha_dropout(input, p, training, inplace, True)
