"""``ember.cuda``: CUDA devices through the CuPy backend (NOTE [ The CUDA backend ]).

Every function asks the backend, which imports CuPy on first use (never at ``import
ember``). Without CuPy or without a GPU, ``is_available()`` is False, ``device_count()`` is
0, the memory counters are 0 and ``empty_cache``/``manual_seed`` do nothing (as PyTorch's
CPU-only build answers), and anything that needs a device raises a RuntimeError naming the
``cuda`` extra, so scripts that test ``torch.cuda.is_available()`` take their CPU path.

Random values for cuda tensors are drawn by ember's default generator and copied (NOTE
[ The CUDA backend ]): ``ember.manual_seed`` makes them reproducible, and
``ember.cuda.manual_seed`` has no separate CUDA generator to seed.

Example::

    >>> import ember
    >>> dev = "cuda" if ember.cuda.is_available() else "cpu"
    >>> ember.ones(2, device=dev).device.type == dev
    True
"""

from __future__ import annotations

__all__ = ["Event", "Stream", "current_device", "current_stream", "default_stream",
           "device_count", "empty_cache", "get_device_capability", "get_device_name",
           "get_device_properties", "is_available", "is_bf16_supported", "is_initialized",
           "manual_seed", "manual_seed_all", "max_memory_allocated", "max_memory_reserved",
           "mem_get_info", "memory_allocated", "memory_reserved", "reset_peak_memory_stats",
           "set_device", "stream", "synchronize", "device", "CUDAGraph", "graph",
           "graph_pool_handle", "is_current_stream_capturing", "make_graphed_callables"]


def _backend():
    """The loaded CuPy backend, or None (trying to load it once)."""
    from ember._backends import cupy_backend

    return cupy_backend if cupy_backend.load() else None


def _need(what):
    b = _backend()
    if b is None:
        from ember._backends import cupy_backend

        raise RuntimeError(
            f"ember.cuda.{what}(): no CUDA device is available "
            f"({cupy_backend.unavailable_reason()}). The CUDA backend needs the 'cuda' "
            "extra (pip install 'ember[cuda]': CuPy) and an NVIDIA GPU.")
    return b


def _index(device, what):
    """A device argument (None, int, "cuda:N", ember.device) as an index."""
    b = _need(what)
    if device is None:
        return b.current_index()
    if isinstance(device, int):
        return device
    from ember._device import device as _dev

    d = _dev(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return b.current_index() if d.index is None else d.index


def is_available() -> bool:
    """Whether CuPy is installed and sees at least one CUDA device.

    Returns:
        bool.

    Example::

        >>> isinstance(ember.cuda.is_available(), bool)
        True
    """
    return _backend() is not None


def is_initialized() -> bool:
    """Whether the CUDA backend has been loaded in this process.

    Returns:
        bool: whether the CuPy backend was loaded.

    Example::

        >>> ember.cuda.is_initialized() == ember.cuda.is_available() or True
        True
    """
    from ember._backends import cupy_backend

    return cupy_backend._STATE["loaded"]


def device_count() -> int:
    """How many CUDA devices are visible (0 without CuPy or a GPU).

    Returns:
        An int, 0 without CuPy or a GPU.

    Example::

        >>> ember.cuda.device_count() >= 0
        True
    """
    b = _backend()
    return 0 if b is None else b.cp.cuda.runtime.getDeviceCount()


def current_device() -> int:
    """The index of the current CUDA device (RuntimeError without one).

    Returns:
        The current device's index; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     assert ember.cuda.current_device() >= 0
    """
    return _need("current_device").current_index()


def set_device(device) -> None:
    """Make ``device`` (an index, "cuda:N" or ``ember.device``) the current CUDA device.

    Args:
        device: the device; a negative index is a no-op, as in PyTorch.

    Returns:
        None; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     ember.cuda.set_device(0)
    """
    i = _index(device, "set_device")
    if i >= 0:
        _need("set_device").cp.cuda.Device(i).use()


class device:
    """Context manager making a CUDA device current for a block (``torch.cuda.device``).

    Args:
        device: an index, "cuda:N" or ``ember.device``; a negative index or None is a no-op.

    Example::

        >>> if ember.cuda.is_available():
        ...     with ember.cuda.device(0):
        ...         assert ember.cuda.current_device() == 0
    """

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device, "device")
        self.prev = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev = current_device()
            set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev >= 0:
            set_device(self.prev)
        return False


def synchronize(device=None) -> None:
    """Wait until every kernel queued on ``device`` (default: the current one) is done.

    Args:
        device: an index, ``"cuda:N"`` or an ``ember.device``; None: the current device.

    Returns:
        None; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     ember.cuda.synchronize()
    """
    cp = _need("synchronize").cp
    with cp.cuda.Device(_index(device, "synchronize")):
        cp.cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Accepted for PyTorch's scripts: cuda tensors' random values come from ember's default
    generator (seed it with ``ember.manual_seed``), so there is no CUDA generator to seed.

    Args:
        seed: an int (checked).

    Returns:
        None.

    Example::

        >>> ember.cuda.manual_seed(0)
    """
    int(seed)


manual_seed_all = manual_seed


def _props(device=None):
    b = _need("get_device_properties")
    return b.cp.cuda.runtime.getDeviceProperties(_index(device, "get_device_properties"))


def get_device_name(device=None) -> str:
    """The name of a CUDA device, e.g. "NVIDIA H100 80GB HBM3".

    Args:
        device: an index, ``"cuda:N"`` or an ``ember.device``; None: the current device.

    Returns:
        The device's name (str); RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     assert isinstance(ember.cuda.get_device_name(), str)
    """
    name = _props(device)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


class _DeviceProperties:
    """What ``get_device_properties`` returns (PyTorch's field names)."""

    def __init__(self, p):
        name = p["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major, self.minor = p["major"], p["minor"]
        self.total_memory = p["totalGlobalMem"]
        self.multi_processor_count = p["multiProcessorCount"]
        self.L2_cache_size = p.get("l2CacheSize", 0)
        self.warp_size = p.get("warpSize", 32)
        self.is_integrated = bool(p.get("integrated", 0))

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1 << 20)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> _DeviceProperties:
    """Name, compute capability, memory and multiprocessor count of a CUDA device.

    Args:
        device: an index, ``"cuda:N"`` or an ``ember.device``; None: the current device.

    Returns:
        An object with PyTorch's fields ``name``, ``major``, ``minor``, ``total_memory``,
        ``multi_processor_count``, ``L2_cache_size``, ``warp_size``, ``is_integrated``;
        RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     assert ember.cuda.get_device_properties(0).total_memory > 0
    """
    return _DeviceProperties(_props(device))


def get_device_capability(device=None) -> tuple:
    """The compute capability ``(major, minor)`` of a CUDA device.

    Args:
        device: an index, ``"cuda:N"`` or an ``ember.device``; None: the current device.

    Returns:
        A tuple ``(major, minor)`` of ints; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     major, minor = ember.cuda.get_device_capability()
        ...     assert isinstance(major, int) and isinstance(minor, int)
    """
    p = _props(device)
    # PyTorch returns a plain tuple of two ints; CuPy's dict values may be numpy ints
    return (int(p["major"]), int(p["minor"]))


def is_bf16_supported(including_emulation: bool = True) -> bool:  # noqa: ARG001 - no bfloat16 on cuda either way
    """False: CuPy 14 has no bfloat16 arrays, so ember refuses bfloat16 on cuda.

    Args:
        including_emulation: accepted; the answer is the same.

    Returns:
        False.

    Example::

        >>> ember.cuda.is_bf16_supported()
        False
    """
    return False


# ----------------------------------------------------------------------------- memory
def memory_allocated(device=None) -> int:  # noqa: ARG001 - one device per process
    """Bytes held by live cuda tensors (CuPy's memory pool); 0 without CUDA.

    Args:
        device: accepted for PyTorch's signature; ember uses one device per process.

    Returns:
        An int (bytes).

    Example::

        >>> ember.cuda.memory_allocated() >= 0
        True
    """
    b = _backend()
    return 0 if b is None else b.memory_allocated()


def max_memory_allocated(device=None) -> int:  # noqa: ARG001 - one device per process
    """The peak of :func:`memory_allocated` since the start or the last reset; 0 without CUDA.

    Args:
        device: accepted for PyTorch's signature; ember uses one device per process.

    Returns:
        An int (bytes).

    Example::

        >>> ember.cuda.max_memory_allocated() >= ember.cuda.memory_allocated()
        True
    """
    b = _backend()
    return 0 if b is None else b.max_memory_allocated()


def reset_peak_memory_stats(device=None) -> None:  # noqa: ARG001 - one device per process
    """Restart :func:`max_memory_allocated` at the current usage (RuntimeError without CUDA).

    Args:
        device: accepted for PyTorch's signature; ember uses one device per process.

    Returns:
        None; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     ember.cuda.reset_peak_memory_stats()
    """
    _need("reset_peak_memory_stats").reset_peak_memory_stats()


def memory_reserved(device=None) -> int:  # noqa: ARG001 - one device per process
    """Bytes CuPy's pool holds from the driver (in use and cached); 0 without CUDA.

    Args:
        device: accepted for PyTorch's signature; ember uses one device per process.

    Returns:
        An int (bytes). ``max_memory_reserved`` is the same function: CuPy's pool only
        grows until ``empty_cache``.

    Example::

        >>> ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
        True
    """
    b = _backend()
    return 0 if b is None else b.memory_reserved()


max_memory_reserved = memory_reserved  # the pool only grows until empty_cache


def mem_get_info(device=None) -> tuple:
    """``(free, total)`` bytes of a CUDA device, from the driver.

    Args:
        device: an index, ``"cuda:N"`` or an ``ember.device``; None: the current device.

    Returns:
        A tuple ``(free, total)`` of ints; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     free, total = ember.cuda.mem_get_info()
    """
    cp = _need("mem_get_info").cp
    with cp.cuda.Device(_index(device, "mem_get_info")):
        return cp.cuda.runtime.memGetInfo()


def empty_cache() -> None:
    """Give cached, unused device memory back to the driver (nothing to do without CUDA).

    Returns:
        None.

    Example::

        >>> ember.cuda.empty_cache()
    """
    b = _backend()
    if b is not None:
        b.empty_cache()


# ----------------------------------------------------------------------------- streams
class Stream:
    """A CUDA stream (a CuPy stream): kernels queued on it run in order.

    Args:
        device: the device (None: the current one).
        priority: lower numbers run first (CUDA's stream priorities); 0 is the default.

    Example::

        >>> if ember.cuda.is_available():
        ...     s = ember.cuda.Stream()
        ...     with ember.cuda.stream(s):
        ...         y = ember.ones(3, device="cuda") * 2
        ...     s.synchronize()
    """

    def __init__(self, device=None, priority: int = 0, **kwargs):
        cp = _need("Stream").cp
        if kwargs:
            raise TypeError(f"Stream() got unexpected keyword arguments {sorted(kwargs)}")
        with cp.cuda.Device(_index(device, "Stream")):
            self._s = cp.cuda.Stream(non_blocking=True, priority=priority) if priority else \
                cp.cuda.Stream(non_blocking=True)

    @classmethod
    def _wrap(cls, s):
        obj = cls.__new__(cls)
        obj._s = s
        return obj

    @property
    def cuda_stream(self) -> int:
        """The raw ``cudaStream_t`` handle."""
        return self._s.ptr

    @property
    def device(self):
        from ember._device import device as _dev

        return _dev("cuda", self._s.device_id)

    def synchronize(self) -> None:
        """Wait for everything queued on this stream."""
        self._s.synchronize()

    def query(self) -> bool:
        """Whether everything queued on this stream is done."""
        return self._s.done

    def wait_event(self, event) -> None:
        """Make later work on this stream wait for ``event``."""
        self._s.wait_event(event._e)

    def wait_stream(self, stream) -> None:
        """Make later work on this stream wait for what is queued on ``stream`` now."""
        self._s.wait_event(stream._s.record())

    def record_event(self, event=None):
        """Record ``event`` (a new one when None) on this stream and return it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self._s.ptr == other._s.ptr

    def __hash__(self):
        return hash(self._s.ptr)

    def __enter__(self):
        self._s.__enter__()
        return self

    def __exit__(self, *exc):
        return self._s.__exit__(*exc)

    def __repr__(self):
        return f"<ember.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A CUDA event: a marker in a stream, for ordering and timing.

    Args:
        enable_timing: record times (needed by :meth:`elapsed_time`).
        blocking: :meth:`synchronize` blocks the thread instead of spinning.
        interprocess: share between processes (not supported: NotImplementedError).

    Example::

        >>> if ember.cuda.is_available():
        ...     a, b = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
        ...     a.record(); y = ember.ones(1000, device="cuda").sum(); b.record()
        ...     b.synchronize(); assert a.elapsed_time(b) >= 0
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        cp = _need("Event").cp
        if interprocess:
            raise NotImplementedError("ember.cuda.Event(interprocess=True) is not supported")
        self._e = cp.cuda.Event(block=blocking, disable_timing=not enable_timing)

    def record(self, stream=None) -> None:
        """Record the event on ``stream`` (default: the current stream)."""
        self._e.record(None if stream is None else stream._s)

    def wait(self, stream=None) -> None:
        """Make later work on ``stream`` (default: the current stream) wait for this event."""
        s = current_stream() if stream is None else stream
        s.wait_event(self)

    def query(self) -> bool:
        """Whether the work before the event is done."""
        return self._e.done

    def synchronize(self) -> None:
        """Wait until the work before the event is done."""
        self._e.synchronize()

    def elapsed_time(self, end_event) -> float:
        """Milliseconds between this event and ``end_event`` (both recorded with timing)."""
        return _need("Event").cp.cuda.get_elapsed_time(self._e, end_event._e)


def current_stream(device=None) -> Stream:
    """The stream new work goes to on ``device`` (the current device by default).

    Args:
        device: an index, ``"cuda:N"`` or an ``ember.device``; None: the current device.

    Returns:
        An ``ember.cuda.Stream``; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     ember.cuda.current_stream().synchronize()
    """
    cp = _need("current_stream").cp
    with cp.cuda.Device(_index(device, "current_stream")):
        return Stream._wrap(cp.cuda.get_current_stream())


def default_stream(device=None) -> Stream:
    """The device's default (legacy null) stream.

    Args:
        device: an index, ``"cuda:N"`` or an ``ember.device``; None: the current device.

    Returns:
        An ``ember.cuda.Stream``; RuntimeError when CUDA is not available.

    Example::

        >>> if ember.cuda.is_available():
        ...     ember.cuda.default_stream().synchronize()
    """
    cp = _need("default_stream").cp
    with cp.cuda.Device(_index(device, "default_stream")):
        return Stream._wrap(cp.cuda.Stream.null)


class stream:
    """Context manager queuing work on ``stream`` for a block; ``stream(None)`` does nothing.

    Args:
        stream: an :class:`Stream` or None.

    Example::

        >>> with ember.cuda.stream(None):
        ...     pass
    """

    def __init__(self, stream):
        self.s = stream

    def __enter__(self):
        if self.s is not None:
            self.s.__enter__()
        return self.s

    def __exit__(self, *exc):
        if self.s is not None:
            self.s.__exit__(*exc)
        return False


_GRAPH_NAMES = frozenset({"CUDAGraph", "graph", "graph_pool_handle",
                          "is_current_stream_capturing", "make_graphed_callables", "graphs"})


def __getattr__(name):
    if name in _GRAPH_NAMES:  # ember.cuda.graphs, loaded on first use
        import importlib

        graphs = importlib.import_module("ember.cuda.graphs")
        return graphs if name == "graphs" else getattr(graphs, name)
    if name == "amp":  # torch.cuda.amp, loaded on first use
        import importlib

        return importlib.import_module("ember.cuda.amp")
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")
