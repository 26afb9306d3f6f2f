"""``ember.cpu``: PyTorch's ``torch.cpu`` device module (the CPU is always there).

Example::

    >>> import ember
    >>> ember.cpu.is_available(), ember.cpu.device_count(), ember.cpu.current_device()
    (True, 1, 'cpu')
"""

from __future__ import annotations

import importlib

__all__ = ["amp", "current_device", "device_count", "is_available", "set_device",
           "synchronize"]


def is_available() -> bool:
    """Whether the CPU device can be used: True.

    Returns:
        bool: True.

    Example::

        >>> ember.cpu.is_available()
        True
    """
    return True


def device_count() -> int:
    """Number of CPU devices: 1 (all cores are one device, as in PyTorch).

    Returns:
        The int 1.

    Example::

        >>> ember.cpu.device_count()
        1
    """
    return 1


def current_device() -> str:
    """The current CPU device: ``"cpu"``.

    Returns:
        The string ``"cpu"``.

    Example::

        >>> ember.cpu.current_device()
        'cpu'
    """
    return "cpu"


def set_device(device) -> None:
    """Select the CPU device; only ``"cpu"`` (or a CPU ``device``) exists.

    Args:
        device: "cpu" or ``ember.device("cpu")``.

    Returns:
        None.

    Example::

        >>> ember.cpu.set_device("cpu")
    """
    from ember._device import device as _device

    if _device(device).type != "cpu":
        raise ValueError(f"ember.cpu.set_device: expected a CPU device, got {device!r}")


def synchronize(device=None) -> None:
    """Wait for queued CPU work: ember's CPU ops run synchronously, so it returns at once.

    Args:
        device: ignored (there is one CPU device).

    Returns:
        None.

    Example::

        >>> ember.cpu.synchronize()
    """


def __getattr__(name):
    if name in ("amp", "allocator"):
        return importlib.import_module("ember.cpu." + name)
    raise AttributeError(f"module 'ember.cpu' has no attribute '{name}'")
