"""``DataLoader``: batches from a dataset, in the main process or in worker processes.

NOTE [ DataLoader liveness ]
The main process never waits without bound: it ``select``s on the workers' sockets for at
most ``_POLL`` seconds at a time and checks between polls that every worker is alive; a
dead worker's socket also becomes readable (end of file) at once. A worker's death raises
``RuntimeError`` naming the worker, its pid and its exit code or signal; ``timeout``
raises ``RuntimeError`` with the stuck workers' Python stacks (``faulthandler`` dumps them
on SIGUSR1 into a per-worker unnamed temp file). On any error, on exhaustion (unless
``persistent_workers``), on garbage collection of the iterator and at interpreter exit,
workers are told to stop, joined, then terminated and killed if they do not stop in
time. Batches live in unlinked shared memory (NOTE [ Shared memory ]), so nothing is left
in ``/dev/shm`` whatever happens.
"""

from __future__ import annotations

import atexit
import collections
import collections.abc
import itertools
import math
import multiprocessing
import multiprocessing.context
import os
import select
import signal
import tempfile
import time
import warnings
import weakref
from typing import Any, Callable, Generic, Iterable, TypeVar

from ember.autograd.profiler import _ACTIVE as _PROFILING
from ember.autograd.profiler import record_function as _record_function
from ember.multiprocessing import _shm
from ember.utils.data._utils import collate as _collate
from ember.utils.data._utils.fetch import create_fetcher
from ember.utils.data._utils.worker import ExceptionWrapper, IterableStop, worker_loop
# Re-exported where PyTorch has them: programs import them from torch.utils.data.dataloader.
from ember.utils.data._utils.collate import default_collate, default_convert  # noqa: F401
from ember.utils.data._utils.worker import get_worker_info  # noqa: F401
from ember.utils.data.dataset import Dataset, IterableDataset
from ember.utils.data.sampler import (BatchSampler, RandomSampler, Sampler,
                                      SequentialSampler)

T_co = TypeVar("T_co", covariant=True)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

_POLL = 0.5  # seconds between liveness checks while waiting for a batch
_JOIN_TIMEOUT = 2.0  # seconds a worker gets to exit before it is terminated


class _DatasetKind:
    """The two kinds of dataset a DataLoader fetches from: ``Map`` (indexed by a sampler) and
    ``Iterable`` (iterated). PyTorch's private name, public here because libraries import it
    from ``torch.utils.data``.

    Example:
        >>> from ember.utils.data import _DatasetKind
        >>> _DatasetKind.Map, _DatasetKind.Iterable
        (0, 1)
    """

    Map = 0
    Iterable = 1


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the sampler of an IterableDataset (workers ignore indices)."""

    def __iter__(self):
        while True:
            yield None


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class DataLoader(Generic[T_co]):
    """Iterate over a dataset in batches, optionally with worker processes.

    Args:
        dataset: a map-style :class:`Dataset` or an :class:`IterableDataset`.
        batch_size: samples per batch; None disables automatic batching.
        shuffle: reshuffle indices every epoch (map-style datasets only).
        sampler: an iterable of indices (exclusive with ``shuffle``).
        batch_sampler: an iterable of index lists (exclusive with ``batch_size``,
            ``shuffle``, ``sampler``, ``drop_last``).
        num_workers: worker processes (0: load in the main process).
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`,
            or :func:`default_convert` without batching).
        pin_memory: yield batches in page-locked memory (when CUDA is available; without an
            accelerator a warning, as PyTorch, and ordinary batches).
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a batch from the workers (0: forever); on expiry a
            ``RuntimeError`` holding the stuck workers' stack traces.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name or a multiprocessing context.
        generator: an ``ember.Generator`` for the sampler and the workers' base seed.
        prefetch_factor: batches loaded in advance per worker (default 2 with workers).
        persistent_workers: keep the workers alive between epochs.
        pin_memory_device: deprecated in PyTorch; "" or "cuda" (the one accelerator ember
            pins for), anything else is refused.
        in_order: yield batches in sampler order (False: as soon as they are ready).

    Each worker seeds Python's ``random``, NumPy's global generator and ember's default
    generator from ``base_seed + worker_id`` (``base_seed`` drawn from ``generator``), so
    random augmentations differ between workers and repeat across runs.

    Example::

        >>> from ember.utils.data import TensorDataset
        >>> ds = TensorDataset(ember.randn(100, 3), ember.arange(100))
        >>> for x, y in DataLoader(ds, batch_size=16, shuffle=True):
        ...     pass
        >>> x.shape, y.shape   # the last, smaller batch
        (torch.Size([4, 3]), torch.Size([4]))
    """

    _IterableDataset_len_called: int | None = None
    __initialized = False

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing. Let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        if pin_memory_device not in ("", "cuda"):
            raise NotImplementedError(f"DataLoader: pin_memory_device={pin_memory_device!r}: "
                                      "ember pins memory for 'cuda' only")
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = (_collate.default_collate if self._auto_collation
                          else _collate.default_convert)
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__initialized = True
        self.multiprocessing_context = multiprocessing_context
        self._iterator = None
        self._check_worker_number()

    @property
    def multiprocessing_context(self):
        """The ``multiprocessing`` context worker processes are started with (None: the
        platform's default start method).

        Set it from the constructor or by assignment before iterating: a start method name
        ("fork", "spawn", "forkserver") or a context object. It needs ``num_workers > 0``
        (ValueError otherwise, as in PyTorch).

        Example:
            >>> from ember.utils.data import DataLoader
            >>> loader = DataLoader(range(4), num_workers=2, multiprocessing_context="spawn")
            >>> loader.multiprocessing_context.get_start_method()
            'spawn'
            >>> DataLoader(range(4)).multiprocessing_context is None
            True
        """
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx) -> None:
        if ctx is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError("multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={ctx!r}")
                ctx = multiprocessing.get_context(ctx)
            if not isinstance(ctx, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={ctx}")
        self.__multiprocessing_context = ctx

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler",
                                           "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            it = self._iterator
            if it is None or it._shutdown:
                self._iterator = self._get_iterator()
            else:
                it._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            length = len(self.dataset)  # type: ignore[arg-type]
            self._IterableDataset_len_called = length
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)

    def _check_worker_number(self) -> None:
        cpus = _cpu_count()
        if self.num_workers > cpus:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes "
                          f"in total, but this machine has {cpus} usable CPUs; too many "
                          "workers may make loading slow or freeze it. Consider lowering "
                          "num_workers.", stacklevel=3)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        import ember

        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._in_order = loader.in_order
        self._sampler_iter = iter(self._index_sampler)
        # Drawn in both modes so num_workers does not change the sampler's random stream.
        self._base_seed = int(ember.empty((), dtype=ember.int64)
                              .random_(generator=loader.generator).item())
        self._num_yielded = 0
        self._shutdown = False
        # NOTE [ Pinned batches ]: as PyTorch, pin only where an accelerator can use pinned
        # memory; without one say so once per iterator and yield ordinary batches. With
        # workers, a pin thread (``_pinner``) copies each batch into pinned memory as soon as
        # it arrives, while the caller computes on the previous one; the main thread hands
        # it out and, after each batch, takes in the batches that have already arrived so
        # they are pinned ahead (PyTorch's pin_memory_thread, fed here by the main thread,
        # which alone owns the worker channels). Without workers the batch is pinned as it
        # is handed out, as PyTorch does.
        self._pinner = None
        self._pin_memory = False
        if loader.pin_memory:
            import ember.cuda

            self._pin_memory = ember.cuda.is_available()
            if not self._pin_memory:
                warnings.warn("'pin_memory' argument is set as true but no accelerator is "
                              "found, then device pinned memory won't be used.", stacklevel=3)

    def __iter__(self):
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:  # noqa: ARG002 - used by PyTorch's worker iterator only; a single-process reset is the same
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        if _PROFILING:  # a profiler runs: the wait shows as PyTorch's named range
            with _record_function(f"enumerate(DataLoader)#{type(self).__name__}.__next__"):
                data = self._next_data()
        else:
            data = self._next_data()
        if self._pin_memory and self._pinner is None:
            data = _pin(data)
        self._num_yielded += 1
        n = self._IterableDataset_len_called
        if (self._dataset_kind == _DatasetKind.Iterable and n is not None
                and self._num_yielded > n):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be {n} (when "
                   f"accessing len(dataloader)), but {self._num_yielded} samples have been "
                   "fetched. ")
            if self._num_workers > 0:
                msg += ("With workers, this can mean the IterableDataset does not shard its "
                        "items per worker (see get_worker_info).")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)


def _pin(data):
    """``data`` with every tensor in page-locked memory (NOTE [ Pinned batches ]); custom
    batch types pin themselves through their ``pin_memory()`` method, as in PyTorch."""
    from ember._tensor import Tensor

    if isinstance(data, Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        pinned = {k: _pin(v) for k, v in data.items()}
        try:
            return type(data)(pinned)
        except TypeError:
            return pinned
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(_pin(v) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(_pin(v) for v in data)
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    return data


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._fetcher = create_fetcher(self._dataset_kind == _DatasetKind.Iterable,
                                       self._dataset, self._auto_collation, self._collate_fn,
                                       self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._fetcher.fetch(index)


class _FdHandle:
    """A descriptor handed to a worker: inherited under fork, passed by SCM_RIGHTS otherwise."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self):
        from multiprocessing.reduction import DupFd

        return (_rebuild_fd_handle, (DupFd(self.fd),))


def _rebuild_fd_handle(dupfd) -> _FdHandle:
    return _FdHandle(dupfd.detach())


_LIVE_ITERATORS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    for it in list(_LIVE_ITERATORS):
        it._shutdown_workers()


def _exit_description(code: int | None) -> str:
    if code is None:
        return "closed its connection"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        hint = ""
        if name == "SIGKILL":
            hint = "; a SIGKILL often means the kernel's out-of-memory killer (see dmesg)"
        elif name == "SIGBUS":
            hint = "; a SIGBUS often means /dev/shm is full (enlarge it, e.g. --shm-size)"
        return f"killed by signal {name}{hint}"
    return f"exit code {code}"


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        self._workers: list = []
        self._channels: list[_shm.Channel] = []
        self._dump_files: list = []
        self._epoch = 0
        self._shm_checked = False
        # NOTE [ Segment recycling ]: per worker, the segments we map and the released ones.
        self._held: list[dict] = [{} for _ in range(self._num_workers)]
        self._released: list[collections.OrderedDict] = [
            collections.OrderedDict() for _ in range(self._num_workers)]
        self._segs_per_batch = 1
        _LIVE_ITERATORS.add(self)
        iterable = self._dataset_kind == _DatasetKind.Iterable
        try:
            for i in range(self._num_workers):
                chan, child = _shm.channel_pair()
                self._channels.append(chan)
                dump = tempfile.TemporaryFile()
                self._dump_files.append(dump)
                w = ctx.Process(
                    target=worker_loop,
                    args=(iterable, self._dataset, child, self._auto_collation,
                          self._collate_fn, self._drop_last, self._base_seed,
                          loader.worker_init_fn, i, self._num_workers,
                          _FdHandle(dump.fileno()), _collate.SHARED_MIN_BYTES),
                    daemon=True)
                w.start()
                child.close()
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        if self._pin_memory:  # started after the workers: forked children get no thread
            from concurrent.futures import ThreadPoolExecutor

            import ember.cuda

            # CUDA's current device is per thread: the pin thread uses the caller's
            self._pinner = ThreadPoolExecutor(1, thread_name_prefix="ember_pin_memory",
                                              initializer=ember.cuda.set_device,
                                              initargs=(ember.cuda.current_device(),))
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        if not first_iter:
            self._epoch += 1  # answers still in flight from the last epoch get discarded
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info: dict[int, tuple] = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    # ------------------------------------------------------------ sending tasks
    def _try_put_index(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            w = next(self._worker_cycle)
            if self._workers_status[w]:
                break
        else:
            return  # every worker's iterable is exhausted
        released, forgotten = self._recyclable(w)
        try:
            self._channels[w].send((self._epoch, self._send_idx, index, released, forgotten))
            sent = True
        except OSError:
            sent = False
        if not sent:
            self._worker_failed(w)
        self._task_info[self._send_idx] = (w,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _recyclable(self, w: int) -> tuple[list[str], list[str]]:
        """Segments from worker ``w`` that no array uses any more: (released, forgotten)."""
        held, rel = self._held[w], self._released[w]
        released, forgotten = [], []
        for name in list(held):
            if name in rel or not _shm.unused(held, name):
                continue
            if getattr(held[name], "escaped", False):  # sent to another process: drop it
                del held[name]
                forgotten.append(name)
            else:
                rel[name] = None
                released.append(name)
        cap = (self._prefetch_factor + 2) * self._segs_per_batch
        while len(rel) > cap:
            name, _ = rel.popitem(last=False)
            held.pop(name, None)
            forgotten.append(name)
        return released, forgotten

    def _hold(self, w: int, chan: _shm.Channel) -> None:
        segs, chan.last_segments = chan.last_segments, []
        self._segs_per_batch = max(self._segs_per_batch, len(segs))
        held, rel = self._held[w], self._released[w]
        for seg in segs:
            held[seg.name] = seg
            rel.pop(seg.name, None)

    # ------------------------------------------------------------ receiving batches
    def _next_data(self):
        if self._shutdown:
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                # consumed out of order, or sent to a worker whose iterable has ended
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(info[1])
            task, data = self._receive()
            self._tasks_outstanding -= 1
            if task not in self._task_info:
                continue  # an answer for a task we already gave up on
            if isinstance(data, IterableStop):
                self._workers_status[data.worker_id] = False
                del self._task_info[task]
                self._try_put_index()
                continue
            if task != self._rcvd_idx:
                if self._in_order:
                    self._task_info[task] += (data,)
                    continue
                del self._task_info[task]
                return self._process_data(data)
            del self._task_info[task]
            self._rcvd_idx += 1
            return self._process_data(data)

    def _receive(self) -> tuple[int, Any]:
        """The next answer from a worker; a batch goes to the pin thread at once (a Future
        of its pinned copy; NOTE [ Pinned batches ])."""
        task, data = self._get_data()
        if self._pinner is not None and not isinstance(data, (ExceptionWrapper, IterableStop)):
            data = self._pinner.submit(_pin, data)
        return task, data

    def _pin_ahead(self) -> None:
        """Take in the answers that have already arrived, without waiting, so the pin
        thread pins them while the caller computes (kept until their turn comes)."""
        while self._tasks_outstanding > 0 and not self._shutdown:
            ready, _, _ = select.select(self._channels, [], [], 0)
            if not ready:
                return
            task, data = self._receive()
            self._tasks_outstanding -= 1
            if task not in self._task_info:
                continue
            if isinstance(data, IterableStop):
                self._workers_status[data.worker_id] = False
                del self._task_info[task]
                self._try_put_index()
                continue
            self._task_info[task] += (data,)

    def _process_data(self, data):
        if self._pinner is not None:
            if not isinstance(data, (ExceptionWrapper, IterableStop)):
                data = data.result()
            self._try_put_index()
            self._pin_ahead()
        else:
            self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        if not self._shm_checked:
            self._check_shared_memory(data)
        return data

    def _get_data(self) -> tuple[int, Any]:
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic()))
            ready, _, _ = select.select(self._channels, [], [], wait)
            for chan in ready:
                w = self._channels.index(chan)
                try:
                    ep, task, data = chan.recv(on_wait=lambda w=w: self._check_worker(w))
                except (EOFError, OSError):
                    ep = None  # handled below, outside the except (no chained traceback)
                if ep is None:
                    self._worker_failed(w)
                self._hold(w, chan)
                if ep == self._epoch:
                    return task, data
            if not ready:
                for w in range(self._num_workers):
                    self._check_worker(w)
                if deadline is not None and time.monotonic() >= deadline:
                    self._raise_timeout()

    def _check_worker(self, w: int) -> None:
        if not self._workers[w].is_alive():
            self._worker_failed(w)

    def _worker_failed(self, w: int):
        p = self._workers[w]
        p.join(_JOIN_TIMEOUT)  # reap it to learn the exit code
        desc = _exit_description(p.exitcode)
        self._shutdown_workers(graceful=False)
        raise RuntimeError(f"DataLoader worker {w} (pid {p.pid}) exited unexpectedly "
                           f"({desc})")

    def _raise_timeout(self):
        stuck = sorted({info[0] for info in self._task_info.values() if len(info) == 1})
        dumps = self._dump_stacks(stuck)
        self._shutdown_workers(graceful=False)
        raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds waiting for "
                           f"worker(s) {stuck}{dumps}")

    def _dump_stacks(self, workers: list[int]) -> str:
        if not hasattr(signal, "SIGUSR1"):
            return ""
        sizes = {}
        for w in workers:
            f = self._dump_files[w]
            sizes[w] = os.fstat(f.fileno()).st_size
            try:
                os.kill(self._workers[w].pid, signal.SIGUSR1)
            except OSError:
                pass
        text = []
        deadline = time.monotonic() + 1.0
        for w in workers:
            f = self._dump_files[w]
            size = sizes[w]
            while time.monotonic() < deadline:  # faulthandler writes from a signal handler
                new = os.fstat(f.fileno()).st_size
                if new > size:
                    time.sleep(0.02)
                    if os.fstat(f.fileno()).st_size == new:
                        break
                else:
                    time.sleep(0.01)
            f.seek(size)
            dump = f.read().decode(errors="replace").strip()
            if dump:
                text.append(f"\n\nStack of worker {w} (pid {self._workers[w].pid}):\n{dump}")
        return "".join(text)

    def _check_shared_memory(self, batch) -> None:
        self._shm_checked = True
        nbytes = _shared_bytes(batch)
        free = _shm.free_bytes()
        if not nbytes or free is None:
            return
        needed = nbytes * self._tasks_outstanding
        if free < needed:
            where = _shm.SHM_DIR or tempfile.gettempdir()
            self._shutdown_workers()
            raise RuntimeError(
                f"DataLoader: not enough shared memory in {where}: {free} bytes free, but "
                f"{self._tasks_outstanding} prefetched batches of {nbytes} bytes need "
                f"{needed}. Enlarge it (e.g. `docker run --shm-size=...`) or lower "
                "batch_size, num_workers or prefetch_factor")

    # ------------------------------------------------------------ shutdown
    def _shutdown_workers(self, graceful: bool = True) -> None:
        """Stop the workers: ask, wait up to ``_JOIN_TIMEOUT`` (if graceful), terminate, kill."""
        if self._shutdown:
            return
        self._shutdown = True
        _LIVE_ITERATORS.discard(self)
        if self._pinner is not None:
            self._pinner.shutdown(wait=False, cancel_futures=True)
        for chan in self._channels:
            try:
                chan.sock.setblocking(False)
                chan.send(None)
            except Exception:
                pass
        for chan in self._channels:
            chan.close()
        deadline = time.monotonic() + (_JOIN_TIMEOUT if graceful else 0.0)
        for w in self._workers:
            w.join(max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
        for w in self._workers:
            w.join(1.0)
            if w.is_alive():
                w.kill()
                w.join()
        for f in self._dump_files:
            f.close()
        for held in self._held:
            held.clear()  # our mappings go once the caller drops the batches too

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:
            pass


def _shared_bytes(obj) -> int:
    from ember._tensor import Tensor

    if isinstance(obj, Tensor):
        return obj._data.nbytes if _shm.segment_of(obj._data) is not None else 0
    if isinstance(obj, dict):
        return sum(_shared_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_shared_bytes(v) for v in obj)
    return 0
