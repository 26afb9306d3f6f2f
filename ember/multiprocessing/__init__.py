"""ember.multiprocessing: Python's ``multiprocessing`` with tensors passed in shared memory.

A drop-in for ``multiprocessing`` (everything it exports is re-exported: ``Process``,
``Queue``, ``Pipe``, ``Pool``, ``get_context``, ``set_start_method``, ...). Importing it
registers reductions with ``ForkingPickler`` so that a ``Tensor`` or ``nn.Parameter`` put
on a queue, sent through a pipe, or passed to a spawned process arrives as a view of the
*same* shared memory (NOTE [ Shared memory ] in ``_shm.py``), and adds
``Tensor.share_memory_()`` / ``Tensor.is_shared()``.

Example::

    >>> import ember, ember.multiprocessing as mp
    >>> def work(t):
    ...     t.add_(1)
    >>> t = ember.zeros(3).share_memory_()
    >>> p = mp.get_context("fork").Process(target=work, args=(t,)); p.start(); p.join()
    >>> t
    tensor([1., 1., 1.])
"""

from __future__ import annotations

import multiprocessing as _mp

from ember.multiprocessing.reductions import init_reductions
from ember.multiprocessing.spawn import (ProcessContext, ProcessException,
                                         ProcessExitedException, ProcessRaisedException,
                                         spawn, start_processes)

for _name in _mp.__all__:
    globals()[_name] = getattr(_mp, _name)

init_reductions()

_SHARING_STRATEGIES = frozenset({"file_descriptor"})


def get_all_sharing_strategies() -> set[str]:
    """The ways tensors can be shared between processes on this platform.

    Returns:
        ``{'file_descriptor'}``: shared tensors live in unlinked ``/dev/shm`` files passed
        between processes as file descriptors.

    Example:
        >>> ember.multiprocessing.get_all_sharing_strategies()
        {'file_descriptor'}
    """
    return set(_SHARING_STRATEGIES)


def get_sharing_strategy() -> str:
    """The current tensor-sharing strategy.

    Returns:
        ``'file_descriptor'``, the only one ember has (PyTorch's ``'file_system'`` is not
        provided).

    Example:
        >>> ember.multiprocessing.get_sharing_strategy()
        'file_descriptor'
    """
    return "file_descriptor"


def set_sharing_strategy(new_strategy: str) -> None:
    """Set the strategy; only ``'file_descriptor'`` exists in ember.

    Args:
        new_strategy: the strategy name; another than ``'file_descriptor'`` raises
            ValueError.

    Returns:
        None.

    Example::

        >>> ember.multiprocessing.set_sharing_strategy("file_descriptor")
    """
    if new_strategy not in _SHARING_STRATEGIES:
        raise ValueError(f"set_sharing_strategy: unsupported strategy {new_strategy!r}; "
                         f"ember supports {sorted(_SHARING_STRATEGIES)}")


__all__ = [*_mp.__all__, "spawn", "start_processes", "ProcessContext", "ProcessException",
           "ProcessRaisedException", "ProcessExitedException", "get_all_sharing_strategies",
           "get_sharing_strategy", "set_sharing_strategy", "init_reductions"]
