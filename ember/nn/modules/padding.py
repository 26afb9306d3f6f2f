"""Padding layers: constant/zero, reflection, replication and circular padding."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.nn import _functional_spatial as F
from ember.nn.modules.module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    _nd = 2
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        n = 2 * self._nd
        self.padding = tuple(padding) if isinstance(padding, (list, tuple)) else (padding,) * n
        if len(self.padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a {n}-tuple, "
                             f"got {padding}")

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _make(name, nd, mode, doc, base=_PadNd):
    cls = type(name, (base,), {"_nd": nd, "_mode": mode, "__doc__": doc,
                               "__module__": __name__})
    return cls


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: ``padding`` = int or (left, right).

    Args:
        padding: an int (all sides) or a 2-tuple (left, right).
        value: the fill value.

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 1 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ConstantPad1d(1, 0.5)(ember.ones(1, 1, 2)).shape
        torch.Size([1, 1, 4])
    """

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``: (left, right, top, bottom).

    Args:
        padding: an int (all sides) or a 4-tuple (left, right, top, bottom).
        value: the fill value.

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 2 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ConstantPad2d(1, 3.5)(ember.zeros(1, 2, 2)).shape
        torch.Size([1, 4, 4])
    """

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``.

    Args:
        padding: an int (all sides) or a 6-tuple (left, right, top, bottom, front, back).
        value: the fill value.

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 3 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ConstantPad3d(1, 0.5)(ember.ones(1, 1, 2, 2, 2)).shape
        torch.Size([1, 1, 4, 4, 4])
    """

    _nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros.

    Args:
        padding: an int (all sides) or a 2-tuple (left, right).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 1 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ZeroPad1d(1)(ember.ones(1, 1, 2)).shape
        torch.Size([1, 1, 4])
    """

    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros: (left, right, top, bottom).

    Args:
        padding: an int (all sides) or a 4-tuple (left, right, top, bottom).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 2 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ZeroPad2d((1, 1, 2, 0))(ember.ones(1, 1, 3, 3)).shape
        torch.Size([1, 1, 5, 5])
    """

    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros.

    Args:
        padding: an int (all sides) or a 6-tuple (left, right, top, bottom, front, back).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 3 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ZeroPad3d(1)(ember.ones(1, 1, 2, 2, 2)).shape
        torch.Size([1, 1, 4, 4, 4])
    """

    _nd = 3


ReflectionPad1d = _make("ReflectionPad1d", 1, "reflect",
                        "Pad the last dim with its reflection (edge not repeated).")
ReflectionPad2d = _make("ReflectionPad2d", 2, "reflect",
                        "Pad the last two dims with their reflection: (left, right, top, bottom)"
                        ".\n\n    Example:\n        >>> nn.ReflectionPad2d(1)(ember.randn(1, 1, 3,"
                        " 3)).shape\n        torch.Size([1, 1, 5, 5])\n")
ReflectionPad3d = _make("ReflectionPad3d", 3, "reflect", "Reflection padding of 3 dims.")
ReplicationPad1d = _make("ReplicationPad1d", 1, "replicate",
                         "Pad the last dim by repeating its edge values.")
ReplicationPad2d = _make("ReplicationPad2d", 2, "replicate",
                         "Pad the last two dims by repeating edge values.")
ReplicationPad3d = _make("ReplicationPad3d", 3, "replicate", "Replication padding of 3 dims.")
CircularPad1d = _make("CircularPad1d", 1, "circular", "Pad the last dim circularly.")
CircularPad2d = _make("CircularPad2d", 2, "circular", "Pad the last two dims circularly.")
CircularPad3d = _make("CircularPad3d", 3, "circular", "Pad the last three dims circularly.")
