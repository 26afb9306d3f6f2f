"""PixelShuffle and PixelUnshuffle."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.nn import _functional_spatial as F
from ember.nn.modules.module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r).

    Args:
        upscale_factor: r.

    Shape:
        - Input: ``(*, C * r * r, H, W)``.
        - Output: ``(*, C, H * r, W * r)``.

    Example:
        >>> nn.PixelShuffle(2)(ember.randn(1, 8, 3, 3)).shape
        torch.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W).

    Args:
        downscale_factor: r.

    Shape:
        - Input: ``(*, C, H * r, W * r)``.
        - Output: ``(*, C * r * r, H, W)``.

    Example:
        >>> nn.PixelUnshuffle(2)(ember.zeros(1, 1, 4, 4)).shape
        torch.Size([1, 4, 2, 2])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
