"""Pickling rules that move tensors between processes through shared memory.

``init_reductions()`` registers them with ``multiprocessing.reduction.ForkingPickler`` (the
pickler behind ``Queue``, ``Pipe``, ``Pool`` and the arguments of spawned processes): a tensor
is moved into shared memory if it is not there yet (in place, like PyTorch) and travels as
(segment descriptor, dtype, shape, strides, offset), so the receiver gets a view of the
*same* memory. See NOTE [ Shared memory ] in ``_shm.py``.

It also defines ``Tensor.share_memory_`` and ``Tensor.is_shared``, attached to ``Tensor``
when ``ember.multiprocessing`` is imported (they belong in ``ember/_tensor.py`` eventually).
"""

from __future__ import annotations

import contextlib
import threading
from multiprocessing.reduction import DupFd, ForkingPickler

import numpy as np

from ember._tensor import Tensor
from ember.multiprocessing import _shm

_local = threading.local()


@contextlib.contextmanager
def inline_small_tensors(nbytes: int):
    """While active, tensors under ``nbytes`` that are not shared are pickled by value
    (copied into the message) instead of being moved to shared memory: cheaper for many
    small tensors.

    Args:
        nbytes: the size below which a tensor is copied.

    Returns:
        A context manager.

    Example:
        >>> import pickle
        >>> from multiprocessing.reduction import ForkingPickler
        >>> from ember.multiprocessing.reductions import inline_small_tensors
        >>> t = ember.ones(3)
        >>> with inline_small_tensors(1024):
        ...     copy = pickle.loads(ForkingPickler.dumps(t))
        >>> t.is_shared(), copy.is_shared()
        (False, False)
    """
    prev = getattr(_local, "inline_below", 0)
    _local.inline_below = nbytes
    try:
        yield
    finally:
        _local.inline_below = prev


# ---------------------------------------------------------------- Tensor methods
def share_memory_(self: Tensor) -> Tensor:
    """Move the tensor's memory into shared memory (no-op if already there); returns self.

    Other processes that receive the tensor (``ember.multiprocessing`` queues, pipes or
    process arguments) then see and modify the same memory. The tensor keeps its shape,
    strides, version counter and autograd state. A view moves its base too and stays a view
    of it; other views taken earlier of the same base keep the old (private) memory.

    Args:
        self: the tensor.

    Returns:
        ``self``.

    Example::

        >>> t = ember.zeros(3).share_memory_()
        >>> t.is_shared()
        True
    """
    arr = self._data
    if not isinstance(arr, np.ndarray) or _shm.segment_of(arr) is not None:
        return self
    base = self._base
    if base is not None and isinstance(base._data, np.ndarray):
        share_memory_(base)
        moved = base._meta_get("shm_moved_from")  # where base's memory was before
        seg = _shm.segment_of(base._data)
        if moved is not None and seg is not None and base._data.strides == moved[1]:
            # This view still holds the old memory alive, so its address is meaningful.
            off = _shm.offset_in(seg, base._data) + _ptr(arr) - moved[0]
            try:
                self._data = _shm.view(seg, arr.dtype, arr.shape, arr.strides, off)
                return self
            except ValueError:
                pass  # not inside base's memory after all: copy below
    self._meta_set("shm_moved_from", (_ptr(arr), arr.strides))
    self._data = _shm.copy_to_shared(arr)
    return self


def _ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def is_shared(self: Tensor) -> bool:
    """True if the tensor's memory is in shared memory (see ``share_memory_``).

    Args:
        self: the tensor.

    Returns:
        bool.

    Example:
        >>> ember.zeros(2).is_shared(), ember.zeros(2).share_memory_().is_shared()
        (False, True)
    """
    return _shm.segment_of(self._data) is not None


# ---------------------------------------------------------------- reductions
def _rebuild_segment(name: str, size: int, dupfd) -> _shm.Segment:
    return _shm.attach_segment(dupfd.detach(), size, name)


def _reduce_segment(seg: _shm.Segment):
    seg.escaped = True  # another process may use it: never recycle it (NOTE [ Segment recycling ])
    return (_rebuild_segment, (seg.name, seg.size, DupFd(seg.fd)))


def _rebuild_tensor(cls, seg, dtype, shape, strides, offset, requires_grad):
    t = Tensor._wrap(_shm.view(seg, dtype, shape, strides, offset))
    if cls is not Tensor:
        t = _as_subclass(cls, t, requires_grad)
    elif requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_inline(cls, arr, requires_grad):
    t = Tensor._wrap(arr)
    if cls is not Tensor:
        return _as_subclass(cls, t, requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _as_subclass(cls, t, requires_grad):
    from ember.nn.parameter import Buffer, Parameter

    if issubclass(cls, Parameter):
        p = Parameter(t, requires_grad)
        p.__class__ = cls
        return p
    if issubclass(cls, Buffer):
        b = Buffer(t)
        b.__class__ = cls
        b.requires_grad_(requires_grad)
        return b
    if requires_grad:
        t.requires_grad_(True)
    return t


def reduce_tensor(t: Tensor):
    """ForkingPickler reduction: send ``t`` as a view of shared memory (moving it there
    first), or by value when small under ``inline_small_tensors``.

    Args:
        t: the tensor to send; a non-leaf tensor that requires grad is refused
            (RuntimeError: graphs do not cross processes).

    Returns:
        The ``(rebuild function, arguments)`` pair pickling uses.

    Example:
        >>> from ember.multiprocessing.reductions import reduce_tensor
        >>> t = ember.ones(2)
        >>> rebuild, args = reduce_tensor(t)
        >>> rebuild(*args).add_(1) is not t, t     # the rebuilt tensor shares t's memory
        (True, tensor([2., 2.]))
    """
    if t._requires_grad and t._grad_fn is not None:
        raise RuntimeError(
            "ember.multiprocessing: cannot send a non-leaf tensor that requires grad to "
            "another process (autograd graphs do not cross process boundaries); send "
            "tensor.detach() instead")
    arr = t._data
    if not isinstance(arr, np.ndarray) or arr.size == 0:
        return (_rebuild_inline, (type(t), np.array(arr), t._requires_grad))
    seg = _shm.segment_of(arr)
    if seg is None:
        if arr.nbytes < getattr(_local, "inline_below", 0):
            return (_rebuild_inline, (type(t), arr, t._requires_grad))
        share_memory_(t)
        arr = t._data
        seg = _shm.segment_of(arr)
    return (_rebuild_tensor, (type(t), seg, arr.dtype.str, arr.shape, arr.strides,
                              _shm.offset_in(seg, arr), t._requires_grad))


_registered = False


def init_reductions() -> None:
    """Register how tensors, Parameters and Buffers are pickled between processes.

    Registered with ``multiprocessing``'s ForkingPickler: a tensor is moved to shared
    memory (``share_memory_``) and sent as a handle to that memory, so the receiver sees the
    same storage. ``import ember.multiprocessing`` calls it; calling it again does nothing.

    Returns:
        None.

    Example:
        >>> import pickle
        >>> from multiprocessing.reduction import ForkingPickler
        >>> from ember.multiprocessing import init_reductions
        >>> init_reductions()
        >>> t = ember.ones(3)
        >>> copy = pickle.loads(ForkingPickler.dumps(t))
        >>> _ = t.add_(1)
        >>> copy                            # the same memory
        tensor([2., 2., 2.])
    """
    global _registered
    if _registered:
        return
    from ember.nn.parameter import Buffer, Parameter

    ForkingPickler.register(_shm.Segment, _reduce_segment)
    for cls in (Tensor, Parameter, Buffer):
        ForkingPickler.register(cls, reduce_tensor)
    _registered = True
