"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

from ember._backends import xp_of
from ember._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:  # noqa: ARG001 - a speed switch in PyTorch; results are the same
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated).

    Args:
        tensors: the tensors (usually gradients).
        norm_type: the p of the norm (default 2; ``inf`` for the max norm).
        error_if_nonfinite: raise when the total norm is nan or inf (default False).
        foreach: use the foreach kernels (None: ember picks; results are identical).

    Returns:
        A 0-dim tensor.

    Example::

        >>> nn.utils.get_total_norm([ember.tensor([3.0]), ember.tensor([4.0])])
        tensor(5.)
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.asarray(0.0, np.float32))
    dt = tensors[0]._data.dtype
    xp = xp_of(tensors[0]._data)
    if xp is not np:
        return _device_total_norm(xp, tensors, norm_type, error_if_nonfinite, dt)
    if norm_type == math.inf:
        total = max(float(np.abs(t._data).max()) if t._data.size else 0.0 for t in tensors)
    elif norm_type == -math.inf:
        total = min(float(np.abs(t._data).min()) for t in tensors if t._data.size)
    elif norm_type == 2.0:
        # one BLAS dot per tensor: no temporaries
        total = math.sqrt(sum(float(np.dot(d, d)) for d in
                              (t._data.reshape(-1).astype(np.float64) if t._data.dtype.kind
                               != "f" or t._data.dtype.itemsize < 4 else t._data.reshape(-1)
                               for t in tensors)))
    elif norm_type == 0:
        total = float(sum(np.count_nonzero(t._data) for t in tensors))
    else:
        s = sum(float((np.abs(t._data.astype(np.float64)) ** norm_type).sum()) for t in tensors)
        total = s ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return Tensor._wrap(xp_of(tensors[0]._data).asarray(total, dt))  # on the grads' device


def _device_total_norm(xp, tensors, norm_type, error_if_nonfinite, dt):
    # On a device the norm stays there: reading each partial norm on the host (as the host
    # path does with float()) would make the host wait for the GPU once per tensor, and
    # could not be captured in a CUDA graph. One host read is left, for error_if_nonfinite,
    # as in PyTorch.
    flat = [t._data.reshape(-1) for t in tensors]
    flat = [d if d.dtype.kind == "f" and d.dtype.itemsize >= 4 else d.astype(xp.float32)
            for d in flat]
    acc = flat[0].dtype
    if norm_type in (math.inf, -math.inf):
        part = [(xp.abs(d).max() if norm_type > 0 else xp.abs(d).min()) for d in flat
                if d.size]
        if not part:
            total = xp.zeros((), acc)
        else:
            total = xp.stack(part).max() if norm_type > 0 else xp.stack(part).min()
    elif norm_type == 2.0:
        total = xp.sqrt(sum(xp.dot(d, d) for d in flat))
    elif norm_type == 0:
        total = sum(xp.count_nonzero(d) for d in flat).astype(acc)
    else:
        total = sum((xp.abs(d) ** norm_type).sum() for d in flat) ** (1.0 / norm_type)
    total = xp.asarray(total, acc)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return Tensor._wrap(total.astype(dt))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:  # noqa: ARG001 - a speed switch in PyTorch; results are the same
    """Scale the gradients by ``max_norm / (total_norm + 1e-6)`` when that is below 1.

    Args:
        parameters: an iterable of tensors (or one tensor) whose gradients to use.
        max_norm: the largest total norm allowed.
        total_norm: the total norm, from ``get_total_norm``.
        foreach: use the foreach kernels (None: ember picks; results are identical).

    Returns:
        None.

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> (w * 3).sum().backward()
        >>> nn.utils.clip_grads_with_norm_([w], 1.0, nn.utils.get_total_norm([w.grad]))
        >>> w.grad
        tensor([0.7071, 0.7071])
    """
    params = [p for p in _as_list(parameters) if p.grad is not None]
    td = total_norm._data if isinstance(total_norm, Tensor) else None
    if td is not None and td.__class__ is not np.ndarray:
        # a device norm: scale by the clamped coefficient (1 when not clipping) without
        # reading it on the host, as PyTorch does
        xp = xp_of(td)
        if td.dtype.kind != "f" or td.dtype.itemsize < 4:
            td = td.astype(xp.float32)
        coef = xp.minimum(float(max_norm) / (td + 1e-6), 1.0)
        for p in params:
            g = p.grad
            g._data *= coef.astype(g._data.dtype)
            g._bump()
        return
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    if coef < 1:
        for p in params:
            g = p.grad
            g._data *= g._data.dtype.type(coef)
            g._bump()


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale gradients in place so that their total norm is at most ``max_norm``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed total norm.
        norm_type: the p of the norm (``inf`` for the max norm).
        error_if_nonfinite: raise if the total norm is nan or inf.
        foreach: accepted for compatibility.

    Returns:
        The total norm before clipping (a 0-dim Tensor).

    Example::

        >>> total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    params = [p for p in _as_list(parameters) if p.grad is not None]
    grads = [p.grad for p in params]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`clip_grad_norm_`.

    Args:
        parameters: an iterable of tensors (or one tensor) whose gradients to use.
        max_norm: the largest total norm allowed.
        norm_type: the p of the norm (default 2; ``inf`` for the max norm).
        error_if_nonfinite: raise when the total norm is nan or inf (default False).
        foreach: use the foreach kernels (None: ember picks; results are identical).

    Returns:
        The total norm before clipping.

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> (w * 3).sum().backward()
        >>> nn.utils.clip_grad_norm(w, 1.0)
        tensor(4.2426)
    """
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach: bool | None = None) -> None:  # noqa: ARG001 - a speed switch in PyTorch; results are the same
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place.

    Args:
        parameters: an iterable of tensors (or one tensor) whose gradients to use.
        clip_value: the largest absolute value allowed.
        foreach: use the foreach kernels (None: ember picks; results are identical).

    Returns:
        None.

    Example::

        >>> nn.utils.clip_grad_value_(model.parameters(), 0.5)
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is not None:
            np.clip(g._data, -clip_value, clip_value, out=g._data)
            g._bump()
