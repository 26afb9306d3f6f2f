"""``spawn``/``start_processes``: run ``fn(i, *args)`` in ``nprocs`` processes, like PyTorch's."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import sys
import traceback
from typing import Any, Callable


class ProcessException(Exception):
    """A child process started by ``spawn``/``start_processes`` failed; the base class of the
    two failures ``ProcessContext.join`` raises.

    Args:
        msg: the message.
        error_index: the failed child's index ``i`` (its first argument).
        pid: the failed child's process id.

    Example:
        >>> import ember.multiprocessing as mp
        >>> e = mp.ProcessRaisedException("boom", 1, 1234)
        >>> isinstance(e, mp.ProcessException), e.error_index, e.pid
        (True, 1, 1234)
    """

    def __init__(self, msg: str, error_index: int, pid: int):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A child raised an exception; ``msg`` holds its traceback text.

    Args:
        msg: the message with the child's traceback.
        error_index: the failed child's index.
        pid: the failed child's process id.

    Example:
        >>> import ember.multiprocessing as mp
        >>> def fail(i):
        ...     raise ValueError(f"bad input {i}")
        >>> try:
        ...     mp.start_processes(fail, nprocs=1, start_method="fork")
        ... except mp.ProcessRaisedException as e:
        ...     print(e.error_index, "ValueError: bad input 0" in e.msg)
        0 True
    """


class ProcessExitedException(ProcessException):
    """A child exited with a non-zero code, or was killed by a signal, without raising.

    Args:
        msg: the message.
        error_index: the failed child's index.
        error_pid: the failed child's process id (``pid``).
        exit_code: its exit code (minus the signal number when killed).
        signal_name: the signal's name ("SIGKILL", ...) when killed, else None.

    Example:
        >>> import os
        >>> import ember.multiprocessing as mp
        >>> def quit_early(i):
        ...     os._exit(3)
        >>> try:
        ...     mp.start_processes(quit_early, nprocs=1, start_method="fork")
        ... except mp.ProcessExitedException as e:
        ...     print(e.exit_code, e.signal_name, e.msg)
        3 None process 0 terminated with exit code 3
    """

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code,
                            self.signal_name)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting the children down
    except Exception:
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes started by ``start_processes(..., join=False)``: ``pids()`` lists them and
    ``join(timeout)`` waits, returning True once all ended well.

    When a child fails, ``join`` terminates the others and raises
    ``ProcessRaisedException`` (with the child's traceback) or ``ProcessExitedException``.

    Args:
        processes: the ``multiprocessing.Process`` objects.
        error_queues: one queue per process, where a child that raises puts its traceback.

    Example:
        >>> import ember.multiprocessing as mp
        >>> def work(i):
        ...     pass
        >>> ctx = mp.start_processes(work, nprocs=2, join=False, start_method="fork")
        >>> len(ctx.pids())
        2
        >>> while not ctx.join():
        ...     pass
    """

    def __init__(self, processes: list, error_queues: list):
        self.processes = processes
        self.error_queues = error_queues
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the processes; True once all ended well, False on timeout.

        If one fails, the others are terminated and the failure is raised as a
        :class:`ProcessRaisedException` (with the child's traceback) or a
        :class:`ProcessExitedException` (exit code or signal).
        """
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        error_index = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            p = self.processes[index]
            p.join()
            if p.exitcode != 0:
                error_index = index
                break
        if error_index is None:
            return not self.sentinels
        for p in self.processes:
            if p.is_alive():
                p.terminate()
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()
        failed = self.processes[error_index]
        q = self.error_queues[error_index]
        if q.empty():
            code = failed.exitcode
            if code < 0:
                name = signal.Signals(-code).name
                raise ProcessExitedException(
                    f"process {error_index} terminated with signal {name}",
                    error_index, failed.pid, code, name)
            raise ProcessExitedException(
                f"process {error_index} terminated with exit code {code}",
                error_index, failed.pid, code)
        msg = f"\n\n-- Process {error_index} terminated with the following error:\n" + q.get()
        raise ProcessRaisedException(msg, error_index, failed.pid)


def start_processes(fn: Callable[..., Any], args: tuple = (), nprocs: int = 1,
                    join: bool = True, daemon: bool = False,
                    start_method: str = "spawn") -> ProcessContext | None:
    """Start ``nprocs`` processes running ``fn(i, *args)`` with the given start method.

    Args:
        fn: a picklable function called as ``fn(i, *args)``, ``i`` in ``range(nprocs)``.
        args: extra positional arguments (tensors travel through shared memory).
        nprocs: number of processes.
        join: wait for all of them (raising on the first failure) and return None;
            otherwise return the :class:`ProcessContext`.
        daemon: make the children daemonic.
        start_method: ``"spawn"``, ``"fork"`` or ``"forkserver"``.

    Returns:
        None with ``join``; otherwise the ``ProcessContext`` of the running processes.

    Example:
        >>> def work(i, t):
        ...     t[i] = i + 1
        >>> t = ember.zeros(2).share_memory_()
        >>> ember.multiprocessing.start_processes(work, args=(t,), nprocs=2,
        ...                                       start_method="fork")
        >>> t
        tensor([1., 2.])
    """
    import ember.multiprocessing  # noqa: F401  (tensor reductions for the arguments)

    ctx = multiprocessing.get_context(start_method)
    queues, procs = [], []
    try:
        for i in range(nprocs):
            q = ctx.SimpleQueue()
            p = ctx.Process(target=_wrap, args=(fn, i, args, q), daemon=daemon)
            p.start()
            queues.append(q)
            procs.append(p)
    except BaseException:
        for p in procs:
            p.terminate()
            p.join()
        raise
    context = ProcessContext(procs, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn: Callable[..., Any], args: tuple = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """Run ``fn(i, *args)`` in ``nprocs`` new processes, like ``torch.multiprocessing.spawn``.

    Args:
        fn: a picklable (module-level) function, called as ``fn(i, *args)``.
        args: extra positional arguments for ``fn``.
        nprocs: number of processes.
        join: block until all processes end; a child's exception is re-raised here as
            :class:`ProcessRaisedException` with its traceback text.
        daemon: make the children daemonic.
        start_method: ``"spawn"`` (default), ``"fork"`` or ``"forkserver"``.

    Returns:
        None with ``join``; otherwise the ``ProcessContext`` of the running processes.

    Example:
        With ``"spawn"``, ``fn`` must be importable by the children (defined in a module,
        not typed in at the prompt), so this example forks:

        >>> def work(i, t):
        ...     t[i] = 10 * (i + 1)          # shared memory: the parent sees the writes
        >>> t = ember.zeros(2).share_memory_()
        >>> ember.multiprocessing.spawn(work, args=(t,), nprocs=2, start_method="fork")
        >>> t
        tensor([10., 20.])
    """
    return start_processes(fn, args, nprocs, join, daemon, start_method)
