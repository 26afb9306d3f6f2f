"""MobileNetV2 in torchvision's layout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
from ember import nn
from ember.nn import functional as F
from ember.vision.models._utils import check_weights, register_model

__all__ = ["MobileNetV2", "InvertedResidual", "Conv2dNormActivation", "mobilenet_v2"]


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``v`` to a multiple of ``divisor``, never going more than 10% below ``v``."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, normalisation, activation as one ``Sequential`` (keys ``0``, ``1``, ``2``).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: the convolution's kernel size.
        stride: its stride.
        padding: its padding (None: ``(kernel_size - 1) // 2 * dilation``).
        groups: its groups.
        norm_layer: the normalisation class (None: none).
        activation_layer: the activation class (None: none).
        dilation: its dilation.
        inplace: passed to the activation's ``inplace``.
        bias: the convolution's bias (None: only without a norm layer).

    Example:
        >>> len(Conv2dNormActivation(3, 8))
        3
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU, dilation: int = 1,
                 inplace: bool | None = True, bias: bool | None = None) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                                             padding, dilation=dilation, groups=groups,
                                             bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer() if inplace is None
                          else activation_layer(inplace=inplace))
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand (1x1), depthwise 3x3, project (1x1, linear), with a
    residual connection when the stride is 1 and the channels match.

    Args:
        inp: input channels.
        oup: output channels.
        stride: 1 or 2 (ValueError otherwise).
        expand_ratio: the hidden width as a multiple of ``inp`` (1: no expansion layer).
        norm_layer: the normalisation class (default ``nn.BatchNorm2d``).

    Example:
        >>> block = InvertedResidual(8, 8, stride=1, expand_ratio=6)
        >>> block.use_res_connect, block(ember.randn(1, 8, 5, 5)).shape
        (True, torch.Size([1, 8, 5, 5]))
    """

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        norm_layer = norm_layer or nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride,
                                        groups=hidden_dim, norm_layer=norm_layer,
                                        activation_layer=nn.ReLU6),
                   nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), norm_layer(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2: ``features`` (inverted residual stages) and ``classifier``.

    Args:
        num_classes: output size.
        width_mult: channel multiplier.
        inverted_residual_setting: rows ``[t, c, n, s]`` (expansion, channels, repeats,
            stride).
        round_nearest: round channel counts to a multiple of this.
        block: the residual block class (default ``InvertedResidual``).
        norm_layer: normalisation factory (default ``BatchNorm2d``).
        dropout: dropout before the final linear layer.

    Example:
        >>> MobileNetV2(num_classes=4)(ember.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 4])
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: list[list[int]] | None = None,
                 round_nearest: int = 8, block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 dropout: float = 0.2) -> None:
        super().__init__()
        block = block or InvertedResidual
        norm_layer = norm_layer or nn.BatchNorm2d
        if inverted_residual_setting is None:
            inverted_residual_setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2],
                                         [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
                                         [6, 320, 1, 1]]
        if not inverted_residual_setting or any(len(r) != 4 for r in inverted_residual_setting):
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element "
                             f"list, got {inverted_residual_setting}")
        input_channel = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [Conv2dNormActivation(3, input_channel, stride=2,
                                                          norm_layer=norm_layer,
                                                          activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(input_channel, output_channel, s if i == 0 else 1,
                                      expand_ratio=t, norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(ember.flatten(x, 1))


@register_model
def mobilenet_v2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> MobileNetV2:  # noqa: ARG001 - display only: no progress bar is drawn
    """Build a ``MobileNetV2`` (``weights`` must be None).

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise).
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``MobileNetV2`` (``num_classes``, ``width_mult``, ...).

    Returns:
        A ``MobileNetV2``.

    Example:
        >>> mobilenet_v2(num_classes=10).classifier[1].out_features
        10
    """
    check_weights("mobilenet_v2", weights, kwargs)
    return MobileNetV2(**kwargs)
