"""AlexNet with torchvision's layout and state_dict keys."""

from __future__ import annotations

from typing import Any

import ember
from ember import nn
from ember.vision.models._utils import check_weights, register_model

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """AlexNet (the single-GPU variant torchvision ships): ``features``, ``avgpool`` (6x6),
    ``classifier``.

    Args:
        num_classes: output size.
        dropout: dropout probability in the classifier.

    Example:
        >>> AlexNet(num_classes=10)(ember.zeros(1, 3, 64, 64)).shape
        torch.Size([1, 10])
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


@register_model
def alexnet(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> AlexNet:  # noqa: ARG001 - display only: no progress bar is drawn
    """Build an ``AlexNet`` (``weights`` must be None: nothing is downloaded).

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise).
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``AlexNet`` (``num_classes``, ``dropout``).

    Returns:
        An ``AlexNet`` (61 million parameters with 1000 classes).

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     alexnet(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        alexnet(weights=DEFAULT)
    """
    check_weights("alexnet", weights, kwargs)
    return AlexNet(**kwargs)
