"""Fold and Unfold: sliding blocks to columns and back."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.nn import _functional_spatial as F
from ember.nn.modules.module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Sum sliding blocks (N, C*prod(k), L) into (N, C, *output_size): ``F.fold``.

    Args:
        output_size: the spatial size of the output.
        kernel_size: the block size.
        dilation: the spacing of block elements (default 1).
        padding: implicit zero padding (default 0).
        stride: the step between blocks (default 1).

    Shape:
        - Input: ``(N, C * prod(kernel_size), L)``.
        - Output: ``(N, C, *output_size)``.

    Example:
        >>> nn.Fold((4, 5), 2)(ember.randn(1, 12, 12)).shape
        torch.Size([1, 3, 4, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return ("output_size={output_size}, kernel_size={kernel_size}, dilation={dilation}, "
                "padding={padding}, stride={stride}".format(**self.__dict__))


class Unfold(Module):
    """Extract sliding blocks (N, C, *S) -> (N, C*prod(k), L): ``F.unfold``.

    Args:
        kernel_size: the block size.
        dilation: the spacing of block elements (default 1).
        padding: implicit zero padding (default 0).
        stride: the step between blocks (default 1).

    Shape:
        - Input: ``(N, C, *)``.
        - Output: ``(N, C * prod(kernel_size), L)``, L the number of blocks.

    Example:
        >>> nn.Unfold(2)(ember.randn(1, 3, 4, 5)).shape
        torch.Size([1, 12, 12])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, dilation={dilation}, padding={padding}, "
                "stride={stride}".format(**self.__dict__))
