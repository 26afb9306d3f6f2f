"""LeNet-5 in the layout of PyTorch's introductory tutorial (torchvision has no LeNet)."""

from __future__ import annotations

from typing import Any

import ember
from ember import nn
from ember.nn import functional as F
from ember.vision.models._utils import check_weights, register_model

__all__ = ["LeNet", "lenet"]


class LeNet(nn.Module):
    """LeNet-5: two 5x5 convolutions with max pooling, then three linear layers.

    State-dict keys are ``conv1``, ``conv2``, ``fc1``, ``fc2``, ``fc3`` (PyTorch's tutorial
    ``Net``). The input is (N, in_channels, input_size, input_size); the classic model takes
    32x32, and ``input_size=28`` fits MNIST without padding.

    Args:
        num_classes: output size.
        in_channels: image channels.
        input_size: height and width of the input images.

    Example:
        >>> LeNet()(ember.zeros(2, 1, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 32):
        super().__init__()
        side = ((input_size - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"LeNet: input_size must be at least 12, got {input_size}")
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = ember.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


@register_model
def lenet(*, weights: Any = None, **kwargs: Any) -> LeNet:
    """Build a ``LeNet`` (``weights`` must be None).

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise).
        **kwargs: passed to ``LeNet`` (``num_classes``, ``input_size``, ...).

    Returns:
        A ``LeNet``.

    Example:
        >>> lenet(num_classes=4, input_size=28).fc3.out_features
        4
    """
    check_weights("lenet", weights, kwargs)
    return LeNet(**kwargs)
