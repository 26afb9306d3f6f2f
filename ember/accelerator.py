"""``ember.accelerator``: the device-agnostic accelerator API, answering for a CPU-only build.

PyTorch's ``torch.accelerator`` reports the current accelerator (CUDA, MPS, XPU, ...). ember
runs on the CPU only until its GPU backend lands, so this module answers exactly as PyTorch
does on a CPU-only build: nothing is available, :func:`current_accelerator` is ``None``,
:func:`device_count` is 0, and everything that would touch a device raises PyTorch's
``RuntimeError``. Scripts written as ``device = torch.accelerator.current_accelerator() if
torch.accelerator.is_available() else torch.device("cpu")`` take their CPU path.

Example::

    >>> import ember
    >>> ember.accelerator.is_available(), ember.accelerator.device_count()
    (False, 0)
"""

from __future__ import annotations

import warnings

__all__ = ["current_accelerator", "current_device_idx", "current_device_index",
           "current_stream", "device_count", "device_index", "empty_cache",
           "empty_host_cache", "get_device_capability", "get_memory_info", "is_available",
           "max_memory_allocated", "max_memory_reserved", "memory_allocated",
           "memory_reserved", "memory_stats", "reset_accumulated_memory_stats",
           "reset_peak_memory_stats", "set_device_idx", "set_device_index", "set_stream",
           "synchronize"]

_NO_DEVICE = "Cannot access accelerator device when none is available."


def _none_available(*_args):
    # PyTorch's message, verbatim, so scripts matching on it behave the same.
    raise RuntimeError(_NO_DEVICE)


def is_available() -> bool:
    """Whether an accelerator is present and usable: always False in this CPU-only build.

    Returns:
        bool: False.

    Example::

        >>> ember.accelerator.is_available()
        False
    """
    return False


def current_accelerator(check_available: bool = False):  # noqa: ARG001 - no accelerator, so None either way
    """The accelerator device type in use, or ``None`` when there is none (here, always).

    Args:
        check_available: also require the accelerator to be usable (no difference here).

    Returns:
        ember.device or None: None, as on a CPU-only PyTorch build.

    Example::

        >>> ember.accelerator.current_accelerator() is None
        True
    """
    return None


def device_count() -> int:
    """How many accelerator devices are visible: 0.

    Returns:
        int: 0.

    Example::

        >>> ember.accelerator.device_count()
        0
    """
    return 0


def current_device_index() -> int:
    """Index of the current accelerator device; raises RuntimeError (no accelerator).

    Example::

        >>> ember.accelerator.current_device_index()
        Traceback (most recent call last):
        RuntimeError: Cannot access accelerator device when none is available.
    """
    _none_available()


def current_device_idx() -> int:
    """Deprecated spelling of :func:`current_device_index` (warns, then raises the same)."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_index(device, /) -> None:  # noqa: ARG001 - no accelerator: raises for every device
    """Select the current accelerator device; raises RuntimeError (no accelerator).

    Args:
        device: a device, a string or an index.
    """
    _none_available()


def set_device_idx(device, /) -> None:
    """Deprecated spelling of :func:`set_device_index`."""
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


class device_index:
    """Context manager selecting an accelerator device; ``device_index(None)`` is a no-op.

    Args:
        device: a device index, or None to leave the current device unchanged.

    Example::

        >>> with ember.accelerator.device_index(None):
        ...     pass
    """

    def __init__(self, device, /):
        self.idx = device

    def __enter__(self):
        if self.idx is not None:
            _none_available()
        return self

    def __exit__(self, *exc):
        return False


def synchronize(device=None, /) -> None:  # noqa: ARG001 - no accelerator: raises for every device
    """Wait for the accelerator's queued work; raises RuntimeError (no accelerator)."""
    _none_available()


def current_stream(device=None, /):  # noqa: ARG001 - no accelerator: raises for every device
    """The accelerator's current stream; raises RuntimeError (no accelerator)."""
    _none_available()


def set_stream(stream) -> None:  # noqa: ARG001 - no accelerator: raises for every stream
    """Make ``stream`` current; raises RuntimeError (no accelerator)."""
    _none_available()


def get_device_capability(device=None, /):  # noqa: ARG001 - no accelerator: raises for every device
    """Capabilities of an accelerator device; raises RuntimeError (no accelerator)."""
    _none_available()


def empty_cache() -> None:
    """Release the accelerator's cached memory; raises RuntimeError (no accelerator)."""
    _none_available()


def empty_host_cache() -> None:
    """Release cached pinned host memory; raises RuntimeError (no accelerator)."""
    _none_available()


def _memory_query(name):
    def query(device_index=None, /):  # noqa: ARG001 - no accelerator: raises for every device
        _none_available()

    query.__name__ = query.__qualname__ = name
    query.__doc__ = (f"PyTorch's ``torch.accelerator.{name}``; raises RuntimeError here (no "
                     "accelerator).")
    return query


get_memory_info = _memory_query("get_memory_info")
max_memory_allocated = _memory_query("max_memory_allocated")
max_memory_reserved = _memory_query("max_memory_reserved")
memory_allocated = _memory_query("memory_allocated")
memory_reserved = _memory_query("memory_reserved")
memory_stats = _memory_query("memory_stats")
reset_accumulated_memory_stats = _memory_query("reset_accumulated_memory_stats")
reset_peak_memory_stats = _memory_query("reset_peak_memory_stats")
del _memory_query
