"""``nn.functional``: dropout and its feature and alpha variants.

Every variant is one random record, ``native_dropout(x, p, mask_dims, alpha) -> (y, mask)``
(PyTorch's ``native_dropout`` returns the same pair): the mask is drawn inside the forward
from ember's default generator (``random=True``, so a trace replays it with fresh
randomness and ``ember.manual_seed`` reproduces it) and kept as forward state for the
backward ``g * mask`` (NOTE [ Forward state as outputs ]).
"""

from __future__ import annotations

import math

from ember._backends import xp_of
from ember._ops.core import OpDef, apply
from ember._random import _gen
from ember._tensor import Tensor
from ember.nn._functional_common import _maybe_inplace, _state

__all__ = [
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
]

_ALPHA_P = 1.7580993408473766  # -SELU's negative saturation value (scale * alpha)


# --------------------------------------------------------------------------- the record
def _dropout_fwd(x, p, mask_dims, alpha):
    """``native_dropout`` record: ``(x, p, mask_dims, alpha)`` -> ``(y, mask)``.

    The mask varies over the first ``mask_dims`` dimensions of ``x`` (all of them when
    None) and broadcasts over the rest (feature dropout). Plain dropout: ``y = x * mask``
    with ``mask = keep / (1 - p)``. Alpha dropout (``alpha=True``) keeps SELU's mean and
    variance: ``y = x * mask + (1 - keep) * c`` with ``mask = keep * a``.
    """
    xp = xp_of(x)
    dt = x.dtype
    nd = x.ndim if mask_dims is None else mask_dims
    shape = tuple(x.shape[:nd]) + (1,) * (x.ndim - nd)
    if p == 1:  # nothing kept, nothing drawn
        mask = xp.zeros(shape, dt)
        return x * mask, mask
    # drawn on the host (ember's generator), moved to x's device (a no-op for NumPy arrays)
    keep = xp.asarray(_gen(None).random(shape) >= p)
    if not alpha:
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
        return x * mask, mask
    keep = keep.astype(xp.float64)
    a = 1.0 / math.sqrt((_ALPHA_P * _ALPHA_P * p + 1) * (1 - p))
    mask = (keep * a).astype(dt)
    y = x * mask
    y += ((keep - 1) * (_ALPHA_P * a) + _ALPHA_P * a * p).astype(dt)
    return y, mask


def _dropout_bwd(ctx, grads):
    mask, = _state(ctx)
    return (grads[0] * Tensor._wrap(mask),)


_DROPOUT = OpDef("native_dropout", _dropout_fwd, _dropout_bwd, multi=True, public=1, random=True,
                 attrs=("p", "mask_dims", "alpha"), node_name="NativeDropoutBackward0",
                 onnx="Dropout")


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _run(input, p, mask_dims, alpha, inplace, name):
    attrs = (float(p), mask_dims, alpha)

    def fn(x):
        return apply(_DROPOUT, (x,), attrs)

    return _maybe_inplace(fn, name, input, (), inplace)


# --------------------------------------------------------------------------- public API
def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from ember's default generator, so ``ember.manual_seed`` reproduces it.

    Args:
        input: any shape.
        p: probability of zeroing an element.
        training: apply dropout (identity when False).
        inplace: write the result into ``input``.

    Example::

        >>> F.dropout(ember.ones(4), 0.5, training=False)
        tensor([1., 1., 1., 1.])
    """
    _check_p(p)
    if not training or p == 0:
        return input
    return _run(input, p, None, False, inplace, "dropout_")


def _feature_dropout(input, p, training, inplace, name, batched_ndim):
    _check_p(p)
    nd = input.dim()
    if nd not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but "
                           f"received a {nd}D input of shape {list(input.shape)}")
    if not training or p == 0:
        return input
    return _run(input, p, 2 if nd == batched_ndim else 1, False, inplace, name + "_")


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


def _alpha_dropout(input, p, training, inplace, feature):
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    return _run(input, p, 2 if feature else None, True, inplace, "alpha_dropout_")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance."""
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    return _alpha_dropout(input, p, training, inplace, True)
