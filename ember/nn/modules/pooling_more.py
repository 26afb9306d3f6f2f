"""3-d adaptive, LP and unpooling layers, fractional max pooling and channel shuffle."""

from __future__ import annotations

import numbers

from ember._tensor import Tensor
from ember.nn import _functional_pool_more as F
from ember.nn.modules.module import Module
from ember.nn.modules.pooling import _AdaptiveNd, _LPPoolNd, _MaxUnpoolNd

__all__ = ["AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "LPPool3d", "MaxUnpool3d",
           "FractionalMaxPool2d", "FractionalMaxPool3d", "ChannelShuffle"]


class AdaptiveAvgPool3d(_AdaptiveNd):
    """Average pooling into ``output_size`` bins over (N, C, D, H, W).

    Args:
        output_size: an int or a triple (``None`` keeps that input size).

    Shape:
        (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size).

    Example:
        >>> nn.AdaptiveAvgPool3d(1)(ember.randn(2, 3, 4, 4, 4)).shape
        torch.Size([2, 3, 1, 1, 1])
    """

    _max = False

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveNd):
    """Max pooling into ``output_size`` bins over (N, C, D, H, W).

    Args:
        output_size: an int or a triple (``None`` keeps that input size).
        return_indices: also return the flat D*H*W positions of the maxima.

    Shape:
        (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size).

    Example:
        >>> nn.AdaptiveMaxPool3d((1, 2, 2))(ember.randn(1, 3, 4, 4, 4)).shape
        torch.Size([1, 3, 1, 2, 2])
    """

    _max = True

    def forward(self, input: Tensor):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling: (sum of x**p over the window) ** (1/p).

    Args:
        norm_type: the power ``p``.
        kernel_size: an int or a triple.
        stride: defaults to ``kernel_size``.
        ceil_mode: use ceil instead of floor for the output size.

    Shape:
        (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out), as AvgPool3d.

    Example:
        >>> nn.LPPool3d(2, 2)(ember.ones(1, 1, 4, 4, 4)).shape
        torch.Size([1, 1, 2, 2, 2])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool3d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d: values back at their indices, zeros elsewhere.

    Args:
        kernel_size: the pooling's window size.
        stride: the pooling's stride (defaults to ``kernel_size``).
        padding: the pooling's padding.

    Shape:
        (N, C, D, H, W) -> (N, C, (D - 1) * stride - 2 * padding + kernel_size, ...), or
        ``output_size``.

    Example:
        >>> y, i = nn.MaxPool3d(2, return_indices=True)(ember.randn(1, 1, 4, 4, 4))
        >>> nn.MaxUnpool3d(2)(y, i).shape
        torch.Size([1, 1, 4, 4, 4])
    """

    _nd = 3

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None) -> None:
        super().__init__()
        nd = self._nd

        def tup(v):
            return tuple(v) if isinstance(v, (list, tuple)) else (v,) * nd

        self.kernel_size = tup(kernel_size)
        self.return_indices = return_indices
        # a fixed sample tensor makes the windows deterministic (PyTorch keeps it a buffer)
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        name = type(self).__name__
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a "
                             "pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None:
            for r in self.output_ratio:
                if not (isinstance(r, numbers.Real) and 0 < r < 1):
                    raise ValueError(f"output_ratio must be between 0 and 1 (got "
                                     f"{output_ratio})")

    def forward(self, input: Tensor):
        fn = F.fractional_max_pool2d if self._nd == 2 else F.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio,
                  self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-D fractional max pooling (Graham, 2014) with pseudo-random window placement.

    Args:
        kernel_size: the window size, an int or a pair.
        output_size: the output (oH, oW); or give ``output_ratio``.
        output_ratio: the output size as a fraction of the input size, in (0, 1).
        return_indices: also return the flat H*W positions of the maxima.
        _random_samples: an optional (N, C, 2) tensor in [0, 1) that fixes the windows.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, oH, oW).

    Example:
        >>> nn.FractionalMaxPool2d(3, output_ratio=0.5)(ember.randn(1, 2, 10, 10)).shape
        torch.Size([1, 2, 5, 5])
    """

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling over (N, C, T, H, W).

    Args:
        kernel_size: the window size, an int or a triple.
        output_size: the output (oT, oH, oW); or give ``output_ratio``.
        output_ratio: the output size as a fraction of the input size, in (0, 1).
        return_indices: also return the flat T*H*W positions of the maxima.
        _random_samples: an optional (N, C, 3) tensor in [0, 1) that fixes the windows.

    Shape:
        (N, C, T, H, W) or (C, T, H, W) -> (N, C, oT, oH, oW).

    Example:
        >>> nn.FractionalMaxPool3d(2, output_size=3)(ember.randn(1, 1, 6, 6, 6)).shape
        torch.Size([1, 1, 3, 3, 3])
    """

    _nd = 3


class ChannelShuffle(Module):
    """Divide the channels into ``groups`` and interleave them (ShuffleNet).

    Args:
        groups: the number of groups; the channel count must be divisible by it.

    Shape:
        (N, C, *) -> (N, C, *).

    Example:
        >>> nn.ChannelShuffle(2)(ember.arange(4.).view(1, 4, 1)).flatten().tolist()
        [0.0, 2.0, 1.0, 3.0]
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
