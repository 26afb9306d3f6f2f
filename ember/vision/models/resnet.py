"""ResNet (18/34/50/101/152), ResNeXt and Wide ResNet in torchvision's layout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
from ember import nn
from ember.vision.models._utils import check_weights, register_model

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2",
           "wide_resnet101_2"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, no bias (a batch norm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34's block).

    Args:
        inplanes: input channels.
        planes: output channels (``expansion`` is 1).
        stride: the first convolution's stride.
        downsample: the module that reshapes the shortcut (None: identity).
        groups: must be 1 (ValueError otherwise).
        base_width: must be 64 (ValueError otherwise).
        dilation: must be 1 (NotImplementedError otherwise).
        norm_layer: the normalisation class (default ``nn.BatchNorm2d``).

    Example:
        >>> BasicBlock(8, 8)(ember.randn(1, 8, 6, 6)).shape
        torch.Size([1, 8, 6, 6])
    """

    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (stride here, as in torchvision's "ResNet v1.5"), 1x1 expand x4:
    the block of ResNet-50 and deeper.

    Args:
        inplanes: input channels.
        planes: the inner width; the output has ``planes * 4`` channels.
        stride: the 3x3 convolution's stride.
        downsample: the module that reshapes the shortcut (None: identity).
        groups: groups of the 3x3 convolution (ResNeXt).
        base_width: width per group, 64 for ResNet (the inner width scales with it).
        dilation: the 3x3 convolution's dilation.
        norm_layer: the normalisation class (default ``nn.BatchNorm2d``).

    Example:
        >>> down = nn.Conv2d(16, 32, 1)
        >>> Bottleneck(16, 8, downsample=down)(ember.randn(1, 16, 6, 6)).shape
        torch.Size([1, 32, 6, 6])
    """

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Residual network: stem (7x7 conv, BN, ReLU, max pool), four stages, pool, ``fc``.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: blocks per stage.
        num_classes: output size.
        zero_init_residual: start each block's last BN at zero (the block is an identity).
        groups: convolution groups in bottlenecks (ResNeXt).
        width_per_group: bottleneck width per group (Wide ResNet: 128).
        replace_stride_with_dilation: per stage 2-4, dilate instead of striding.
        norm_layer: normalisation layer factory (default ``BatchNorm2d``).

    Example:
        >>> ResNet(BasicBlock, [1, 1, 1, 1], num_classes=5)(ember.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 5])
    """

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], layers: list[int],
                 num_classes: int = 1000, zero_init_residual: bool = False, groups: int = 1,
                 width_per_group: int = 64,
                 replace_stride_with_dilation: list[bool] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes, self.dilation = 64, 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, "
                             f"got {replace_stride_with_dilation}")
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2, replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1,
                    dilate: bool = False) -> nn.Sequential:
        norm_layer, downsample, previous_dilation = self._norm_layer, None, self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(ember.flatten(self.avgpool(x), 1))


def _resnet(name: str, block, layers: list[int], weights: Any, kwargs: dict) -> ResNet:
    check_weights(name, weights, kwargs)
    return ResNet(block, layers, **kwargs)


@register_model
def resnet18(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """ResNet-18.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> model = resnet18(num_classes=10)
        >>> model(ember.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, kwargs)


@register_model
def resnet34(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """ResNet-34.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     resnet34(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        resnet34(weights=DEFAULT)
    """
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, kwargs)


@register_model
def resnet50(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """ResNet-50.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     resnet50(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        resnet50(weights=DEFAULT)
    """
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def resnet101(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """ResNet-101.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     resnet101(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        resnet101(weights=DEFAULT)
    """
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], weights, kwargs)


@register_model
def resnet152(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """ResNet-152.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     resnet152(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        resnet152(weights=DEFAULT)
    """
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], weights, kwargs)


@register_model
def resnext50_32x4d(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """ResNeXt-50 32x4d.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     resnext50_32x4d(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        resnext50_32x4d(weights=DEFAULT)
    """
    kwargs.update(groups=32, width_per_group=4)
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def resnext101_32x8d(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """ResNeXt-101 32x8d.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     resnext101_32x8d(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        resnext101_32x8d(weights=DEFAULT)
    """
    kwargs.update(groups=32, width_per_group=8)
    return _resnet("resnext101_32x8d", Bottleneck, [3, 4, 23, 3], weights, kwargs)


@register_model
def wide_resnet50_2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """Wide ResNet-50-2 (bottlenecks twice as wide).

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     wide_resnet50_2(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        wide_resnet50_2(weights=DEFAULT)
    """
    kwargs.update(width_per_group=128)
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def wide_resnet101_2(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ResNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """Wide ResNet-101-2.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``ResNet`` (``num_classes``, ...).

    Returns:
        A ``ResNet``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     wide_resnet101_2(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        wide_resnet101_2(weights=DEFAULT)
    """
    kwargs.update(width_per_group=128)
    return _resnet("wide_resnet101_2", Bottleneck, [3, 4, 23, 3], weights, kwargs)
