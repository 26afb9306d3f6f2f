"""``ember.accelerator``: the device-agnostic accelerator API, answered by ``ember.cuda``.

PyTorch's ``torch.accelerator`` reports the current accelerator (CUDA, MPS, XPU, ...).
ember's one accelerator is CUDA through CuPy (NOTE [ The CUDA backend ]): with a usable GPU
these functions delegate to ``ember.cuda``; without one this module answers exactly as
PyTorch does on a CPU-only build: nothing is available, :func:`current_accelerator` is
``None``, :func:`device_count` is 0, and everything that would touch a device raises
PyTorch's ``RuntimeError``. Scripts written as ``device = torch.accelerator.current_accelerator() if
torch.accelerator.is_available() else torch.device("cpu")`` take their CPU path.

Example::

    >>> import ember
    >>> ember.accelerator.is_available() == (ember.accelerator.device_count() > 0)
    True
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


def _cuda():
    """``ember.cuda`` when a CUDA device is usable (the CuPy backend), else None."""
    from ember import cuda

    return cuda if cuda.is_available() else None


def _need():
    c = _cuda()
    if c is None:
        _none_available()
    return c


def is_available() -> bool:
    """Whether an accelerator is present and usable: always False in this CPU-only build.

    Returns:
        bool: False.

    Example::

        >>> isinstance(ember.accelerator.is_available(), bool)
        True
    """
    return _cuda() is not None


def current_accelerator(check_available: bool = False):  # noqa: ARG001 - no accelerator, so None either way
    """The accelerator device type in use, or ``None`` when there is none (here, always).

    Args:
        check_available: also require the accelerator to be usable (no difference here).

    Returns:
        ember.device or None: None, as on a CPU-only PyTorch build.

    Example::

        >>> ember.accelerator.current_accelerator() in (None, ember.device("cuda"))
        True
    """
    if _cuda() is None:
        return None
    from ember._device import device

    return device("cuda")


def device_count() -> int:
    """How many accelerator devices are visible: 0.

    Returns:
        int: 0.

    Example::

        >>> ember.accelerator.device_count() >= 0
        True
    """
    c = _cuda()
    return 0 if c is None else c.device_count()


def current_device_index() -> int:
    """Index of the current accelerator device; RuntimeError when there is no accelerator.

    Returns:
        An int; RuntimeError without an accelerator.

    Example::

        >>> if not ember.accelerator.is_available():
        ...     ember.accelerator.current_device_index()
        Traceback (most recent call last):
        RuntimeError: Cannot access accelerator device when none is available.
    """
    return _need().current_device()


def current_device_idx() -> int:
    """Deprecated spelling of :func:`current_device_index` (warns, then raises the same).

    Returns:
        An int.

    Example:
        >>> try:
        ...     ember.accelerator.current_device_idx()
        ... except RuntimeError as e:
        ...     print(ember.accelerator.is_available())
        ...
        False
    """
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_index(device, /) -> None:
    """Select the current accelerator device; RuntimeError when there is no accelerator.

    Args:
        device: a device, a string or an index.

    Returns:
        None.

    Example:
        >>> try:
        ...     ember.accelerator.set_device_index(0)
        ... except RuntimeError as e:
        ...     print(ember.accelerator.is_available())
        ...
        False
    """
    _need().set_device(device)


def set_device_idx(device, /) -> None:
    """Deprecated spelling of :func:`set_device_index`.

    Args:
        device: the device index.

    Returns:
        None.

    Example:
        >>> try:
        ...     ember.accelerator.set_device_idx(0)
        ... except RuntimeError as e:
        ...     print(ember.accelerator.is_available())
        ...
        False
    """
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
        self.ctx = None
        if self.idx is not None:
            self.ctx = _need().device(self.idx)
            self.ctx.__enter__()
        return self

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)
        return False


def synchronize(device=None, /) -> None:
    """Wait for the accelerator's queued work; RuntimeError when there is no accelerator.

    Args:
        device: the accelerator device (default: the current one).

    Returns:
        None.

    Example:
        >>> try:
        ...     ember.accelerator.synchronize()
        ... except RuntimeError as e:
        ...     print(ember.accelerator.is_available())
        ...
        False
    """
    _need().synchronize(device)


def current_stream(device=None, /):
    """The stream new work on ``device`` is queued to (an ``ember.cuda.Stream``).

    Raises RuntimeError (PyTorch's message) when no accelerator is present.

    Args:
        device: the device (an int, ``"cuda:N"`` or an ``ember.device``); None: the current
            one.

    Returns:
        The current ``ember.cuda.Stream`` of that device.

    Example:
        >>> try:
        ...     stream = ember.accelerator.current_stream()
        ... except RuntimeError:  # no accelerator on this machine
        ...     stream = None
        >>> stream is None or isinstance(stream, ember.cuda.Stream)
        True
    """
    return _need().current_stream(device)


def set_stream(stream) -> None:
    """Make ``stream`` the current stream: not supported, use ``with ember.cuda.stream(s):``.

    ember's streams are made current by a context manager, which restores the previous
    stream on exit; setting one current outside a block raises NotImplementedError with a
    device, and RuntimeError (PyTorch's message) without one.

    Args:
        stream: an ``ember.cuda.Stream``.

    Returns:
        Never returns (see above).

    Example:
        >>> try:
        ...     ember.accelerator.set_stream(None)
        ... except NotImplementedError:
        ...     refused = "not supported"
        ... except RuntimeError:
        ...     refused = "no accelerator"
        >>> refused == ("not supported" if ember.accelerator.is_available() else "no accelerator")
        True
    """
    _need()
    raise NotImplementedError(f"ember.accelerator.set_stream({stream!r}): use "
                              "`with ember.cuda.stream(s):` to queue work on a stream")


def get_device_capability(device=None, /):
    """The compute capability of an accelerator device.

    ember answers with ``ember.cuda.get_device_capability``'s ``(major, minor)`` tuple,
    where PyTorch 2.13 returns a dict of capabilities. Raises RuntimeError (PyTorch's
    message) when no accelerator is present.

    Args:
        device: the device (an int, ``"cuda:N"`` or an ``ember.device``); None: the current
            one.

    Returns:
        A tuple ``(major, minor)`` of ints.

    Example:
        >>> try:
        ...     cap = ember.accelerator.get_device_capability()
        ... except RuntimeError:  # no accelerator on this machine
        ...     cap = None
        >>> cap is None or len(cap) == 2
        True
    """
    return _need().get_device_capability(device)


def empty_cache() -> None:
    """Release the accelerator's cached memory; RuntimeError when there is no accelerator.

    Returns:
        None.

    Example:
        >>> try:
        ...     ember.accelerator.empty_cache()
        ... except RuntimeError as e:
        ...     print(ember.accelerator.is_available())
        ...
        False
    """
    _need().empty_cache()


def empty_host_cache() -> None:
    """Release cached pinned host memory; RuntimeError when there is no accelerator.

    Returns:
        None.

    Example:
        >>> try:
        ...     ember.accelerator.empty_host_cache()
        ... except RuntimeError as e:
        ...     print(ember.accelerator.is_available())
        ...
        False
    """
    _need()
    from ember._backends import cupy_backend

    cupy_backend.cp.get_default_pinned_memory_pool().free_all_blocks()


def _memory_query(name):
    def query(device_index=None, /):
        c = _need()
        if name == "get_memory_info":
            return c.mem_get_info(device_index)
        if name in ("memory_stats", "reset_accumulated_memory_stats"):
            raise NotImplementedError(f"ember.accelerator.{name}: CuPy's memory pool keeps "
                                      "no per-event statistics")
        return getattr(c, name)(device_index)

    query.__name__ = query.__qualname__ = name
    query.__doc__ = (f"PyTorch's ``torch.accelerator.{name}``: ``ember.cuda``'s answer; "
                     "RuntimeError when there is no accelerator.")
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


# The memory queries' docstrings live in a table (NOTE [ Docstring tables ], ember/_docs).
from ember import _docs as _docs_tables  # noqa: E402

_docs_tables.attach(__name__, globals())
