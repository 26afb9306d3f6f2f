"""``nn.functional``: 3-d adaptive, LP and unpooling, fractional max pooling, the
``*_with_indices`` spellings, channel shuffle and the fused linear + cross-entropy loss.

These compose the kernels of ``ember/_ops/pool.py`` and the helpers of
``_functional_spatial.py``; the only new kernel work is fractional pooling's window choice,
which runs on the raw arrays and hands its flat indices to the differentiable spatial gather
(whose backward scatters the gradient back to the chosen positions).
"""

from __future__ import annotations

import math
import numbers

import ember
from ember._backends import xp_of
from ember._ops import pool as _pool
from ember._tensor import Tensor
from ember.nn import _functional_spatial as _sp

__all__ = [
    "adaptive_avg_pool3d", "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
    "max_pool3d_with_indices", "max_unpool3d", "lp_pool3d", "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices", "channel_shuffle", "assert_int_or_pair",
]


# --------------------------------------------------------------------------- 3-d and indices
def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average pooling over (N, C, D, H, W) into ``output_size`` bins.

    Args:
        input: a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) tensor.
        output_size: an int or a triple; ``None`` in the triple keeps that input size.

    Returns:
        The pooled tensor with spatial size ``output_size``.

    Example:
        >>> F.adaptive_avg_pool3d(ember.randn(2, 3, 4, 5, 6), (2, None, 3)).shape
        torch.Size([2, 3, 2, 5, 3])
    """
    return _sp._adaptive_avg("adaptive_avg_pool3d", input, 3, output_size)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling over (N, C, D, H, W) into ``output_size`` bins (PyTorch's bin edges).

    Args:
        input: a 4-D or 5-D tensor.
        output_size: an int or a triple (``None`` keeps that size).
        return_indices: also return the flat D*H*W positions of the maxima.

    Returns:
        The pooled tensor, or ``(values, indices)`` when ``return_indices``.

    Example:
        >>> F.adaptive_max_pool3d(ember.randn(1, 2, 4, 4, 4), 2).shape
        torch.Size([1, 2, 2, 2, 2])
    """
    return _sp._adaptive_max("adaptive_max_pool3d", input, 3, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size,
                                     return_indices: bool = False):  # noqa: ARG001 - always True
    """:func:`adaptive_max_pool1d` that always returns ``(values, indices)``.

    Args:
        input: a 2-D (C, L) or 3-D (N, C, L) tensor.
        output_size: the output length.
        return_indices: ignored (the indices are always returned, as in PyTorch).

    Returns:
        ``(values, indices)``.

    Example:
        >>> v, i = F.adaptive_max_pool1d_with_indices(ember.arange(6.).view(1, 1, 6), 2)
        >>> i.tolist()
        [[[2, 5]]]
    """
    return _sp._adaptive_max("adaptive_max_pool1d", input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size,
                                     return_indices: bool = False):  # noqa: ARG001 - always True
    """:func:`adaptive_max_pool2d` that always returns ``(values, indices)``.

    Args:
        input: a 3-D or 4-D tensor.
        output_size: an int or a pair.
        return_indices: ignored (the indices are always returned, as in PyTorch).

    Returns:
        ``(values, indices)``; indices are flat H*W positions.

    Example:
        >>> v, i = F.adaptive_max_pool2d_with_indices(ember.randn(1, 1, 4, 4), 1)
        >>> i.shape
        torch.Size([1, 1, 1, 1])
    """
    return _sp._adaptive_max("adaptive_max_pool2d", input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size,
                                     return_indices: bool = False):  # noqa: ARG001 - always True
    """:func:`adaptive_max_pool3d` that always returns ``(values, indices)``.

    Args:
        input: a 4-D or 5-D tensor.
        output_size: an int or a triple.
        return_indices: ignored (the indices are always returned, as in PyTorch).

    Returns:
        ``(values, indices)``; indices are flat D*H*W positions.

    Example:
        >>> v, i = F.adaptive_max_pool3d_with_indices(ember.randn(1, 1, 2, 2, 2), 1)
        >>> v.shape
        torch.Size([1, 1, 1, 1, 1])
    """
    return _sp._adaptive_max("adaptive_max_pool3d", input, 3, output_size, True)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False,
                            return_indices: bool = False):  # noqa: ARG001 - always True
    """:func:`max_pool3d` that always returns ``(values, indices)``.

    Args:
        input: a 4-D or 5-D tensor.
        kernel_size, stride, padding, dilation, ceil_mode: as :func:`max_pool3d`.
        return_indices: ignored (the indices are always returned, as in PyTorch).

    Returns:
        ``(values, indices)``; indices are flat D*H*W positions.

    Example:
        >>> v, i = F.max_pool3d_with_indices(ember.randn(1, 1, 4, 4, 4), 2)
        >>> i.shape
        torch.Size([1, 1, 2, 2, 2])
    """
    return _pool.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of :func:`max_pool3d`: values back at ``indices``, zeros elsewhere.

    Args:
        input: the pooled values (N, C, D, H, W) or (C, D, H, W).
        indices: the indices :func:`max_pool3d` returned.
        kernel_size, stride, padding: the pooling's arguments.
        output_size: the size to restore (defaults to the pooling's inverse size).

    Returns:
        The unpooled tensor.

    Example:
        >>> y, i = F.max_pool3d(ember.randn(1, 1, 4, 4, 4), 2, return_indices=True)
        >>> F.max_unpool3d(y, i, 2).shape
        torch.Size([1, 1, 4, 4, 4])
    """
    return _sp._max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                           output_size)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """3-D power-average pooling: (sum over the window of x**p) ** (1/p).

    Args:
        input: a 4-D or 5-D tensor.
        norm_type: the power ``p``.
        kernel_size: an int or a triple.
        stride: defaults to ``kernel_size``.
        ceil_mode: use ceil instead of floor for the output size.

    Returns:
        The pooled tensor.

    Example:
        >>> F.lp_pool3d(ember.ones(1, 1, 2, 2, 2), 2, 2).flatten().tolist()
        [2.8284270763397217]
    """
    ks = _pool._tuple(kernel_size, 3, "lp_pool3d", "kernel_size")
    p = input.pow(norm_type)
    if stride is not None:
        out = _pool.avg_pool3d(p, ks, stride, 0, ceil_mode)
    else:
        out = _pool.avg_pool3d(p, ks, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(ks)).pow(1.0 / norm_type)


# --------------------------------------------------------------------------- fractional
# NOTE [ Fractional max pooling windows ]
# Graham's fractional max pooling places ``out`` windows of size ``k`` over ``L`` inputs with
# pseudo-random starts: for a sample ``u`` in [0, 1) per (batch, channel, dim) and
# ``alpha = (L - k) / (out - 1)`` (computed in the input's dtype, as PyTorch does), window
# ``i < out - 1`` starts at ``int((i + u) * alpha) - int(u * alpha)`` and the last one at
# ``L - k``. The samples are laid out (N, C, nd) with the last spatial dim first for 2-D
# (W, H) and in order for 3-D (T, H, W), PyTorch's layout, so a given ``_random_samples``
# reproduces PyTorch's windows. The maximum of each window is found on the raw arrays and the
# values are taken with the differentiable spatial gather, whose gradient is the scatter.
def _frac_starts(xp, u, length, out, k):
    """Window starts (..., out) for samples ``u`` (...,) of the input's dtype."""
    starts = xp.empty(u.shape + (out,), xp.int64)
    if out > 1:
        alpha = (u.dtype.type(length - k) / u.dtype.type(out - 1)).astype(u.dtype)
        i = xp.arange(out - 1, dtype=u.dtype)
        a = ((i + u[..., None]) * alpha).astype(xp.int64)
        b = (u * alpha).astype(xp.int64)[..., None]
        starts[..., :out - 1] = a - b
    starts[..., out - 1] = length - k
    return starts


def _fractional(name, nd, input, kernel_size, output_size, output_ratio, return_indices,
                _random_samples):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{input.ndim}D input of size {list(input.shape)}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an "
                         "output_ratio")
    ks = _pool._tuple(kernel_size, nd, name, "kernel_size")
    spatial = tuple(input.shape[-nd:])
    if output_size is None:
        ratio = (output_ratio,) * nd if isinstance(output_ratio, numbers.Real) \
            else tuple(output_ratio)
        if len(ratio) == 1:
            ratio = ratio * nd
        out = tuple(int(L * r) for L, r in zip(spatial, ratio))
    else:
        out = _pool._tuple(output_size, nd, name, "output_size")
    for L, o, k in zip(spatial, out, ks):
        if k <= 0 or o <= 0:
            raise RuntimeError(f"{name}(): kernel_size and output_size must be positive, got "
                               f"kernel_size={list(ks)}, output_size={list(out)}")
        if o + k - 1 > L:
            raise RuntimeError(f"{name}(): pool size {list(ks)} too large relative to input "
                               f"size {list(spatial)} for output size {list(out)} (need "
                               "output_size + kernel_size - 1 <= input_size)")
    unb = input.ndim == nd + 1
    x = input.unsqueeze(0) if unb else input
    n, c = x.shape[:2]
    if _random_samples is None:
        _random_samples = ember.rand(n, c, nd, dtype=x.dtype, device=x.device)
    if tuple(_random_samples.shape) != (n, c, nd):
        raise RuntimeError(f"{name}(): expected _random_samples of shape {[n, c, nd]}, got "
                           f"{list(_random_samples.shape)}")
    if _random_samples.dtype != x.dtype:
        raise RuntimeError(f"{name}(): expected _random_samples of dtype {x.dtype}, got "
                           f"{_random_samples.dtype}")
    a = x.detach()._data
    xp = xp_of(a)
    u = _random_samples.detach()._data
    order = (1, 0) if nd == 2 else (0, 1, 2)  # which sample column drives each spatial dim
    # positions (N, C, out_d, k_d) per dim, combined into flat indices (N, C, *out, *k)
    flat = 0
    for d in range(nd):
        st = _frac_starts(xp, u[..., order[d]], spatial[d], out[d], ks[d])
        pos = st[..., None] + xp.arange(ks[d], dtype=xp.int64)
        shape = [n, c] + [1] * (2 * nd)
        shape[2 + d], shape[2 + nd + d] = out[d], ks[d]
        flat = flat + pos.reshape(shape) * math.prod(spatial[d + 1:])
    flat = xp.broadcast_to(flat, (n, c, *out, *ks)).reshape(n, c, math.prod(out), -1)
    win = xp.take_along_axis(a.reshape(n, c, 1, -1), flat.reshape(n, c, 1, -1),
                             3).reshape(flat.shape)
    k = xp.argmax(win, axis=3)
    if a.dtype.kind == "f":
        nan = xp.isnan(win)
        k = xp.where(nan.any(axis=3), xp.argmax(nan, axis=3), k)
    idx = xp.take_along_axis(flat, k[..., None], 3)[..., 0]  # (N, C, prod(out))
    y = _pool.gather_spatial(x, idx, (n, c, *out))
    ind = Tensor._wrap(idx.reshape(n, c, *out))
    if unb:
        y, ind = y.squeeze(0), ind.squeeze(0)
    return (y, ind) if return_indices else y


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """2-D fractional max pooling (Graham, 2014) over (N, C, H, W).

    Args:
        input: a 3-D or 4-D tensor.
        kernel_size: the window size, an int or a pair.
        output_size: the output (oH, oW); or give ``output_ratio``.
        output_ratio: the output size as a fraction of the input size, in (0, 1).
        return_indices: also return the flat H*W positions of the maxima.
        _random_samples: (N, C, 2) samples in [0, 1) of the input's dtype that place the
            windows (drawn with ``ember.rand`` when not given).

    Returns:
        The pooled tensor, or ``(values, indices)``.

    Example:
        >>> F.fractional_max_pool2d(ember.randn(1, 2, 9, 9), 2, output_size=4).shape
        torch.Size([1, 2, 4, 4])
    """
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size,
                       output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None,
                                       return_indices: bool = False,  # noqa: ARG001 - always True
                                       _random_samples=None):
    """:func:`fractional_max_pool2d` that always returns ``(values, indices)``.

    Args:
        input, kernel_size, output_size, output_ratio, _random_samples: as
            :func:`fractional_max_pool2d`.
        return_indices: ignored (the indices are always returned, as in PyTorch).

    Returns:
        ``(values, indices)``.

    Example:
        >>> v, i = F.fractional_max_pool2d_with_indices(ember.randn(1, 1, 6, 6), 2,
        ...                                             output_ratio=0.5)
        >>> i.shape
        torch.Size([1, 1, 3, 3])
    """
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size,
                       output_ratio, True, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """3-D fractional max pooling over (N, C, T, H, W).

    Args:
        input: a 4-D or 5-D tensor.
        kernel_size: the window size, an int or a triple.
        output_size: the output (oT, oH, oW); or give ``output_ratio``.
        output_ratio: the output size as a fraction of the input size, in (0, 1).
        return_indices: also return the flat T*H*W positions of the maxima.
        _random_samples: (N, C, 3) samples in [0, 1) of the input's dtype.

    Returns:
        The pooled tensor, or ``(values, indices)``.

    Example:
        >>> F.fractional_max_pool3d(ember.randn(1, 1, 6, 6, 6), 2, output_size=3).shape
        torch.Size([1, 1, 3, 3, 3])
    """
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size,
                       output_ratio, return_indices, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None,
                                       return_indices: bool = False,  # noqa: ARG001 - always True
                                       _random_samples=None):
    """:func:`fractional_max_pool3d` that always returns ``(values, indices)``.

    Args:
        input, kernel_size, output_size, output_ratio, _random_samples: as
            :func:`fractional_max_pool3d`.
        return_indices: ignored (the indices are always returned, as in PyTorch).

    Returns:
        ``(values, indices)``.

    Example:
        >>> v, i = F.fractional_max_pool3d_with_indices(ember.randn(1, 1, 4, 4, 4), 2,
        ...                                             output_size=2)
        >>> v.shape
        torch.Size([1, 1, 2, 2, 2])
    """
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size,
                       output_ratio, True, _random_samples)


# --------------------------------------------------------------------------- channel shuffle
def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Shuffle channels (ShuffleNet): split C into ``groups`` and interleave them.

    Args:
        input: a tensor (N, C, *) with ``C`` divisible by ``groups``.
        groups: the number of groups.

    Returns:
        The tensor with channel ``g * (C // groups) + i`` moved to ``i * groups + g``.

    Example:
        >>> F.channel_shuffle(ember.arange(4.).view(1, 4, 1), 2).flatten().tolist()
        [0.0, 2.0, 1.0, 3.0]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"channel_shuffle(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"channel_shuffle(): argument 'groups' must be int, not "
                        f"{type(groups).__name__}")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    n, rest = input.shape[0], tuple(input.shape[2:])
    return (input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
            .reshape(n, c, *rest))


def assert_int_or_pair(arg, arg_name: str, message: str) -> None:
    """Assert that ``arg`` is an int or a pair (PyTorch's argument helper).

    Args:
        arg: the value to check.
        arg_name: its name, formatted into ``message``.
        message: a format string with one ``{}`` for ``arg_name``.

    Returns:
        None; raises ``AssertionError`` with the formatted message otherwise.

    Example:
        >>> F.assert_int_or_pair((2, 3), "kernel_size", "{} must be int or pair")
    """
    assert isinstance(arg, int) or len(arg) == 2, message.format(arg_name)
