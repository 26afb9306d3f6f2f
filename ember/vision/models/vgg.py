"""VGG 11/13/16/19, with and without batch norm, in torchvision's layout."""

from __future__ import annotations

from typing import Any

import ember
from ember import nn
from ember.vision.models._utils import check_weights, register_model

__all__ = ["VGG", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn"]

# Channels of each 3x3 convolution; "M" is a 2x2 max pool (the paper's configurations A-E).
cfgs: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    """Build VGG's ``features`` from a configuration list.

    Args:
        cfg: output channels of each 3x3 convolution, with ``"M"`` for a 2x2 max pool.
        batch_norm: put a ``BatchNorm2d`` after each convolution.

    Returns:
        An ``nn.Sequential`` (convolution[, batch norm], ReLU per number).

    Example:
        >>> len(make_layers([8, "M"], batch_norm=True))
        4
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(v)))
        layers.append(nn.ReLU(inplace=True))
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: ``features``, ``avgpool`` (7x7) and a three-layer ``classifier``.

    Args:
        features: the convolutional part (see ``make_layers``).
        num_classes: output size.
        init_weights: apply torchvision's initialisation (Kaiming for convolutions,
            N(0, 0.01) for linear layers).
        dropout: dropout probability in the classifier.

    Example:
        >>> VGG(make_layers([8, "M"]), num_classes=3).classifier[6].out_features
        3
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


def _vgg(name: str, cfg: str, batch_norm: bool, weights: Any, kwargs: dict) -> VGG:
    check_weights(name, weights, kwargs)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


@register_model
def vgg11(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-11 (configuration A).

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg11(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg11(weights=DEFAULT)
    """
    return _vgg("vgg11", "A", False, weights, kwargs)


@register_model
def vgg11_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-11 with batch normalization.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg11_bn(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg11_bn(weights=DEFAULT)
    """
    return _vgg("vgg11_bn", "A", True, weights, kwargs)


@register_model
def vgg13(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-13 (configuration B).

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg13(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg13(weights=DEFAULT)
    """
    return _vgg("vgg13", "B", False, weights, kwargs)


@register_model
def vgg13_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-13 with batch normalization.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg13_bn(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg13_bn(weights=DEFAULT)
    """
    return _vgg("vgg13_bn", "B", True, weights, kwargs)


@register_model
def vgg16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-16 (configuration D).

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg16(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg16(weights=DEFAULT)
    """
    return _vgg("vgg16", "D", False, weights, kwargs)


@register_model
def vgg16_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-16 with batch normalization.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg16_bn(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg16_bn(weights=DEFAULT)
    """
    return _vgg("vgg16_bn", "D", True, weights, kwargs)


@register_model
def vgg19(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-19 (configuration E).

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg19(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg19(weights=DEFAULT)
    """
    return _vgg("vgg19", "E", False, weights, kwargs)


@register_model
def vgg19_bn(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VGG:  # noqa: ARG001 - display only: no progress bar is drawn
    """VGG-19 with batch normalization.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VGG`` (``num_classes``, ...).

    Returns:
        A ``VGG``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vgg19_bn(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vgg19_bn(weights=DEFAULT)
    """
    return _vgg("vgg19_bn", "E", True, weights, kwargs)
