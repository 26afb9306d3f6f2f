"""Upsampling layers: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.nn import _functional_spatial as F
from ember.nn.modules.module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Resample by ``size`` or ``scale_factor`` with ``mode`` (see ``F.interpolate``).

    Args:
        size: the output spatial size.
        scale_factor: the multiplier of the spatial size.
        mode: ``'nearest'`` (default), ``'linear'``, ``'bilinear'``, ``'bicubic'`` or
            ``'trilinear'``.
        align_corners: for the linear modes: align the corner pixels' centres.
        recompute_scale_factor: compute the scale used from the output size.

    Shape:
        - Input: ``(N, C, *spatial)``.
        - Output: ``(N, C, *new_spatial)``.

    Example:
        >>> nn.Upsample(scale_factor=2, mode="nearest")(ember.randn(1, 1, 3, 3)).shape
        torch.Size([1, 1, 6, 6])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) \
            else (tuple(float(f) for f in scale_factor) if scale_factor else None)
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-D nearest-neighbour upsampling.

    Args:
        size: the output size.
        scale_factor: the multiplier of the size.

    Shape:
        - Input: ``(N, C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``.

    Example:
        >>> nn.UpsamplingNearest2d(scale_factor=2)(ember.ones(1, 1, 2, 2)).shape
        torch.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-D bilinear upsampling with ``align_corners=True``.

    Args:
        size: the output size.
        scale_factor: the multiplier of the size.

    Shape:
        - Input: ``(N, C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``.

    Example:
        >>> nn.UpsamplingBilinear2d(size=3)(ember.ones(1, 1, 2, 2)).shape
        torch.Size([1, 1, 3, 3])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
