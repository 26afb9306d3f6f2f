"""Pooling layers: max, average, adaptive, LP pooling and max unpooling."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.nn import _functional_spatial as F
from ember.nn.modules.module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "AvgPool1d",
           "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "LPPool1d", "LPPool2d"]


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}, "
                "dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))

    def forward(self, input: Tensor):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L).

    Args:
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit padding on both sides (default 0).
        dilation: the spacing of window elements (default 1).
        return_indices: also return the positions of the maxima (for ``MaxUnpool``).
        ceil_mode: round the output size up instead of down (default False).

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)``, each ``out = floor((in + 2 * padding - dilation *
          (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``).

    Example:
        >>> nn.MaxPool1d(2)(ember.randn(1, 2, 8)).shape
        torch.Size([1, 2, 4])
    """

    _fn = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over (N, C, H, W); ``return_indices`` gives flat H*W indices.

    Args:
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit padding on both sides (default 0).
        dilation: the spacing of window elements (default 1).
        return_indices: also return the positions of the maxima (for ``MaxUnpool``).
        ceil_mode: round the output size up instead of down (default False).

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``, each ``out = floor((in + 2 * padding - dilation
          * (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``).

    Example:
        >>> nn.MaxPool2d(2)(ember.randn(1, 2, 8, 8)).shape
        torch.Size([1, 2, 4, 4])
    """

    _fn = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W).

    Args:
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit padding on both sides (default 0).
        dilation: the spacing of window elements (default 1).
        return_indices: also return the positions of the maxima (for ``MaxUnpool``).
        ceil_mode: round the output size up instead of down (default False).

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - Output: ``(N, C, D_out, H_out, W_out)``, each ``out = floor((in + 2 * padding -
          dilation * (kernel_size - 1) - 1) / stride + 1)`` (ceil with ``ceil_mode``).

    Example:
        >>> nn.MaxPool3d(2)(ember.ones(1, 1, 4, 4, 4)).shape
        torch.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(F.max_pool3d)


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        nd = self._nd

        def tup(v):
            return tuple(v) if isinstance(v, (list, tuple)) else (v,) * nd

        self.kernel_size = tup(kernel_size)
        self.stride = tup(stride if stride is not None else kernel_size)
        self.padding = tup(padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        fn = F.max_unpool1d if self._nd == 1 else F.max_unpool2d
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d.

    Args:
        kernel_size: the pooling window.
        stride: the pooling step (default: the window).
        padding: the pooling padding.

    Shape:
        - Input: ``(N, C, L)`` pooled values and their indices.
        - Output: the size before pooling (or ``output_size`` given to ``forward``).

    Example:
        >>> pool, unpool = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2)
        >>> unpool(*pool(ember.tensor([[[1.0, 3.0, 2.0, 0.0]]])))
        tensor([[[0., 3., 2., 0.]]])
    """

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d: scatter values back to their indices, zeros elsewhere.

    Args:
        kernel_size: the pooling window.
        stride: the pooling step (default: the window).
        padding: the pooling padding.

    Shape:
        - Input: ``(N, C, H, W)`` pooled values and their indices.
        - Output: the size before pooling (or ``output_size`` given to ``forward``).

    Example:
        >>> y, i = nn.MaxPool2d(2, return_indices=True)(ember.randn(1, 1, 4, 4))
        >>> nn.MaxUnpool2d(2)(y, i).shape
        torch.Size([1, 1, 4, 4])
    """

    _nd = 2


class _AvgPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding,
                              self.ceil_mode, self.count_include_pad, self.divisor_override)


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over (N, C, L): each output is the mean of a window of the input.

    Args:
        kernel_size: the window size (an int or a 1-tuple).
        stride: the step (default: the window size).
        padding: implicit zero padding on both sides (default 0), at most half the window.
        ceil_mode: round the output length up instead of down (default False).
        count_include_pad: count the padding in the average's divisor (default True).

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)``, ``L_out = floor((L + 2 * padding - kernel_size) / stride
          + 1)`` (ceil with ``ceil_mode``).

    Example:
        >>> nn.AvgPool1d(2)(ember.arange(6.0).reshape(1, 1, 6))
        tensor([[[0.5000, 2.5000, 4.5000]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        for n in ("kernel_size", "stride", "padding"):
            v = getattr(self, n)
            setattr(self, n, tuple(v) if isinstance(v, (list, tuple)) else (v,))
        del self.divisor_override  # PyTorch's AvgPool1d has none

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling over (N, C, H, W).

    Args:
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit padding on both sides (default 0).
        ceil_mode: round the output size up instead of down (default False).
        count_include_pad: count padding in the average's divisor (default True).
        divisor_override: divide by this instead of the window size.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``, each ``out = floor((in + 2 * padding -
          kernel_size) / stride + 1)`` (ceil with ``ceil_mode``).

    Example:
        >>> nn.AvgPool2d(2)(ember.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
        tensor([[ 2.5000,  4.5000],
                [10.5000, 12.5000]])
    """

    _fn = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling over (N, C, D, H, W).

    Args:
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit padding on both sides (default 0).
        ceil_mode: round the output size up instead of down (default False).
        count_include_pad: count padding in the average's divisor (default True).
        divisor_override: divide by this instead of the window size.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - Output: ``(N, C, D_out, H_out, W_out)``, each ``out = floor((in + 2 * padding -
          kernel_size) / stride + 1)`` (ceil with ``ceil_mode``).

    Example:
        >>> nn.AvgPool3d(2)(ember.ones(1, 1, 4, 4, 4)).shape
        torch.Size([1, 1, 2, 2, 2])
    """

    _fn = staticmethod(F.avg_pool3d)


class _AdaptiveNd(Module):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        if self._max:
            self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveNd):
    """Average pooling into ``output_size`` bins over (N, C, L).

    Args:
        output_size: the output size (None keeps a dimension's size).
        return_indices: also return the positions of the maxima.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, *output_size)``.

    Example:
        >>> nn.AdaptiveAvgPool1d(2)(ember.ones(1, 3, 8)).shape
        torch.Size([1, 3, 2])
    """

    _max = False

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveNd):
    """Average pooling into ``output_size`` bins over (N, C, H, W).

    Args:
        output_size: the output size (None keeps a dimension's size).
        return_indices: also return the positions of the maxima.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, *output_size)``.

    Example:
        >>> nn.AdaptiveAvgPool2d((1, 1))(ember.randn(2, 8, 7, 7)).shape
        torch.Size([2, 8, 1, 1])
    """

    _max = False

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptiveNd):
    """Max pooling into ``output_size`` bins over (N, C, L).

    Args:
        output_size: the output size (None keeps a dimension's size).
        return_indices: also return the positions of the maxima.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, *output_size)``.

    Example:
        >>> nn.AdaptiveMaxPool1d(2)(ember.ones(1, 3, 8)).shape
        torch.Size([1, 3, 2])
    """

    _max = True

    def forward(self, input: Tensor):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveNd):
    """Max pooling into ``output_size`` bins over (N, C, H, W).

    Args:
        output_size: the output size (None keeps a dimension's size).
        return_indices: also return the positions of the maxima.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, *output_size)``.

    Example:
        >>> nn.AdaptiveMaxPool2d((2, 1))(ember.ones(1, 3, 8, 8)).shape
        torch.Size([1, 3, 2, 1])
    """

    _max = True

    def forward(self, input: Tensor):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return ("norm_type={norm_type}, kernel_size={kernel_size}, stride={stride}, "
                "ceil_mode={ceil_mode}".format(**self.__dict__))


class LPPool1d(_LPPoolNd):
    """1-D power-average pooling.

    Args:
        norm_type: p of ``sum(x ** p) ** (1 / p)``.
        kernel_size: the window size.
        stride: the step (default: the window size).
        ceil_mode: round the output size up instead of down (default False).

    Shape:
        - Input: ``(N, C, L)``.
        - Output: pooled as ``AvgPool``.

    Example:
        >>> nn.LPPool1d(2, 2)(ember.ones(1, 1, 4)).shape
        torch.Size([1, 1, 2])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling: (sum of x**p over the window) ** (1/p).

    Args:
        norm_type: p of ``sum(x ** p) ** (1 / p)``.
        kernel_size: the window size.
        stride: the step (default: the window size).
        ceil_mode: round the output size up instead of down (default False).

    Shape:
        - Input: ``(N, C, H, W)``.
        - Output: pooled as ``AvgPool``.

    Example:
        >>> nn.LPPool2d(2, 2)(ember.ones(1, 1, 4, 4)).shape
        torch.Size([1, 1, 2, 2])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)
