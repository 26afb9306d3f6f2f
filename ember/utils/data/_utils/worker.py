"""What runs inside a DataLoader worker process, and ``get_worker_info``.

NOTE [ DataLoader worker protocol ]
Each worker owns one Unix socket to the main process (``_shm.Channel``). The main process
sends ``(epoch, task_id, index, released, forgotten)`` tasks (the last two are segment names,
NOTE [ Segment recycling ] in ``ember/multiprocessing/_shm.py``); the worker answers each with
``(epoch, task_id, batch)``, where ``batch`` is the collated batch, an
:class:`ExceptionWrapper`, or an :class:`IterableStop` once its iterable is exhausted.
Tensors in the batch are stacked straight into shared memory by ``default_collate`` and
cross as descriptors in the same ``sendmsg`` as the pickled rest. ``None`` asks the
worker to exit; so does the socket closing or the parent changing. A new ``epoch`` (a
persistent worker's next epoch) restarts the worker's iterator over an IterableDataset;
the main process discards answers tagged with an old epoch.
"""

from __future__ import annotations

import os
import pickle
import random
import sys
import traceback
from typing import Any

_worker_info: WorkerInfo | None = None


class WorkerInfo:
    """Facts about the current DataLoader worker (``id``, ``num_workers``, ``seed``,
    ``dataset``); read-only.

    Example:
        >>> ember.utils.data.WorkerInfo(id=0, num_workers=2).num_workers
        2
    """

    __initialized = False

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key: str, val: Any) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker: its :class:`WorkerInfo`; in the main process: None.

    ``info.dataset`` is the worker's own copy of the dataset, ``info.id`` in
    ``range(info.num_workers)``, ``info.seed`` the seed its RNGs were given.

    Returns:
        A ``WorkerInfo``, or None in the main process.

    Example::

        >>> def __iter__(self):
        ...     info = get_worker_info()
        ...     start = 0 if info is None else info.id
        ...     step = 1 if info is None else info.num_workers
        ...     return iter(self.items[start::step])
    """
    return _worker_info


class _KeyErrorText(str):
    # KeyError's str() shows repr(arg); this keeps a multi-line message readable.
    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its traceback."""

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        exc_type, exc, tb = exc_info if exc_info is not None else sys.exc_info()
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self) -> None:
        """Raise the exception again, its message holding the original traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorText(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            exc = RuntimeError(msg)
        try:
            raise exc
        finally:
            del exc  # no cycle exception -> traceback -> this frame -> exception


class IterableStop:
    """A worker's answer once its IterableDataset iterator is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


def numpy_seed(base_seed: int, worker_id: int):
    """The NumPy global seed of a worker: a SeedSequence hash of (base seed, worker id)."""
    import numpy as np

    return np.random.SeedSequence([worker_id, base_seed & ((1 << 64) - 1)]).generate_state(4)


def _describe(fetcher, index) -> str:
    if fetcher is None:
        return ""
    if fetcher.stage == "collate":
        return " while collating a batch"
    if fetcher.current is not None:
        return f" while fetching sample index {fetcher.current!r}"
    if isinstance(index, list) and index and index[0] is not None:
        return f" while fetching samples {index!r}"
    return ""


def worker_loop(iterable: bool, dataset, sock, auto_collation: bool, collate_fn, drop_last,
                base_seed: int, init_fn, worker_id: int, num_workers: int, dump_fd,
                inline_below: int) -> None:
    """The body of a worker process (see NOTE [ DataLoader worker protocol ])."""
    global _worker_info
    import faulthandler
    import signal

    import numpy as np

    import ember
    from ember.multiprocessing import _shm
    from ember.utils.data._utils.fetch import create_fetcher

    # Ctrl-C reaches the whole process group; the main process shuts workers down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if dump_fd is not None and hasattr(signal, "SIGUSR1"):
        # On a timeout the main process sends SIGUSR1 and reads where we are stuck.
        faulthandler.register(signal.SIGUSR1, file=dump_fd.fd, all_threads=True)
    chan = _shm.Channel(sock, inline_below)
    pool = _shm.ALLOCATOR = _shm.RecyclePool()  # NOTE [ Segment recycling ]
    parent = os.getppid()

    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                              dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"

    fetcher = init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
    except Exception:
        init_error = ExceptionWrapper(where=where)

    epoch = None
    exhausted = False
    while True:
        try:
            while not chan.poll(1.0):
                if os.getppid() != parent:
                    return  # the main process died
            msg = chan.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        ep, task, index, released, forgotten = msg
        pool.release(released)
        pool.forget(forgotten)
        if ep != epoch:
            if epoch is not None and iterable and init_error is None:
                try:
                    fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn,
                                             drop_last)
                except Exception:
                    init_error = ExceptionWrapper(where=where)
            epoch, exhausted = ep, False
        if init_error is not None:
            data: Any = init_error
        elif exhausted:
            data = IterableStop(worker_id)
        else:
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                if not iterable:
                    data = ExceptionWrapper(where=where + _describe(fetcher, index))
                else:
                    exhausted = True
                    data = IterableStop(worker_id)
            except Exception:
                data = ExceptionWrapper(where=where + _describe(fetcher, index))
        try:
            try:
                chan.send((ep, task, data))
            except (pickle.PicklingError, TypeError, AttributeError):
                if isinstance(data, ExceptionWrapper):
                    data.exc_type = RuntimeError  # e.g. an exception class defined locally
                else:
                    data = ExceptionWrapper(where=where + " while sending a batch")
                chan.send((ep, task, data))
        except OSError:
            return  # the main process closed the channel
        pool.sent(chan.last_segments)
        chan.last_segments = []
        del data
