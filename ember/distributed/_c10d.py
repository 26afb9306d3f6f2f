"""Process groups and collectives on MPI (PyTorch's ``torch.distributed`` API).

NOTE [ Collectives on MPI ]
Every collective is one MPI non-blocking call on the tensor's own array (no copy when the
tensor is C-contiguous; data movement travels as bytes so every dtype works) and a
``Work`` that completes it. A blocking call is the same call followed by ``Work.wait``.
Waiting drives MPI's progress engine with ``MPI_Test`` in a loop that checks a deadline
(the group's ``timeout``) and, after the first second, the failure watchdog (NOTE [ Lost
ranks ]). That is as fast as MPI's own blocking calls (which also busy-poll) and is what
lets a lost peer end the wait: MPI alone would wait forever. Every 256 tests the loop calls
``sched_yield``: free on an idle core, and on an oversubscribed machine it hands the core to
the peer being waited for instead of spinning out the time slice (a DDP step on 2 ranks of a
2-core machine loaded by other jobs: medians of 24-31 ms against 27-52 ms without, 9
alternated rounds, slower without in 8 of them).

Reductions run in the tensor's dtype except float16/bfloat16, which MPI lacks: they are
widened to float32, reduced, and rounded back once. ``AVG`` is ``SUM`` divided by the group
size; ``bool`` reduces with the logical ops (SUM/MAX = or, PRODUCT/MIN = and) as PyTorch does.
Results are written into the caller's tensors, whose version counters are bumped.

NOTE [ Lost ranks ]
Each rank runs a heartbeat thread that bumps its key in the group's store. A rank that dies
with an uncaught exception records itself as failed in the store (``sys.excepthook``); one
that exits otherwise (``sys.exit``, the script's end) records that it left. A wait longer
than one second polls the store twice a second: a recorded failure or exit, a heartbeat
unchanged for ``_LOST_AFTER`` seconds, or losing the store (whose host is rank 0) raise
``DistBackendError`` naming the rank; at the deadline the error names the ranks whose
heartbeats stalled. Under ``mpiexec``, hydra usually ends the job first (it kills the other
ranks when one is killed by a signal); with ``-disable-auto-cleanup``, in jobs joined through
the spawn path, or under launchers that don't clean up, the watchdog is what ends the wait.
"""

from __future__ import annotations

import datetime
import enum
import os
import pickle
import sys
import threading
import time

import numpy as np

from ember._tensor import Tensor
from ember.distributed import _mpi, _nccl
from ember.distributed._store import (DistBackendError, FileStore, PrefixStore, Store,
                                      TCPStore)

default_pg_timeout = datetime.timedelta(minutes=30)
_HEARTBEAT = 0.5   # seconds between heartbeats
_LOST_AFTER = 10.0  # a heartbeat unchanged this long means the rank is gone
_BACKENDS = ("mpi", "gloo", "nccl")  # nccl: CUDA tensors (NOTE [ Collectives on NCCL ])


class RedOpType(enum.IntEnum):
    """The reduction kinds as an integer enum (``SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``,
    ``BAND``, ``BOR``, ``BXOR``, ``PREMUL_SUM``); ``ReduceOp.SUM`` and the others are its members.

    Args:
        value: the member's integer value (``RedOpType(4)`` is ``MAX``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.RedOpType.MAX is dist.ReduceOp.MAX
        True
        >>> dist.RedOpType(1)
        <RedOpType.AVG: 1>
    """

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


class ReduceOp:
    """How a reduction combines the ranks' values: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``,
    ``MAX``, ``BAND``, ``BOR``, ``BXOR``.

    Pass a member (``dist.ReduceOp.MAX``) as the ``op`` of ``all_reduce``, ``reduce`` and the
    reduce-scatters. ``AVG`` divides the sum by the group's size (integer tensors: floor
    division, as MPI has no integer mean); ``PREMUL_SUM`` is refused with NotImplementedError.
    Calling the class makes a wrapper that compares equal to its member.

    Args:
        op: a ``RedOpType`` member or its integer value (default ``SUM``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> t = ember.tensor([1.0, 5.0])
        >>> dist.all_reduce(t, op=dist.ReduceOp.MAX)   # world of one: t is unchanged
        >>> t
        tensor([1., 5.])
        >>> dist.ReduceOp(dist.ReduceOp.MIN) == dist.ReduceOp.MIN
        True
        >>> dist.destroy_process_group()
    """

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM

    def __init__(self, op=RedOpType.SUM):
        self.op = _red_op(op)

    def __eq__(self, other):
        return _red_op(other) == self.op

    def __hash__(self):
        return hash(self.op)

    def __repr__(self):
        return f"ReduceOp({self.op.name})"


reduce_op = ReduceOp  # PyTorch's deprecated alias


def _red_op(op):
    if isinstance(op, ReduceOp):
        return op.op
    if isinstance(op, RedOpType):
        return op
    if isinstance(op, int) and not isinstance(op, bool) and 0 <= op <= 8:
        return RedOpType(op)
    raise ValueError(f"ember.distributed: unknown reduce op {op!r}")


class Backend(str):
    """Backend names: ``Backend.MPI`` is native; ``Backend.GLOO`` is accepted and served by MPI.

    Example:
        >>> Backend("gloo")
        'gloo'
    """

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"
    UNDEFINED = "undefined"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend name must be a string, but got: {name!r}")
        return super().__new__(cls, name.lower())


def _parse_backend(backend):
    if backend is None:
        return "mpi"
    name = str(backend).lower()
    # PyTorch's "device:backend" list form ("cpu:gloo,cuda:nccl"): only the CPU entry matters.
    if ":" in name:
        parts = dict(p.split(":", 1) for p in name.split(",") if ":" in p)
        if "cpu" not in parts and parts.get("cuda") == "nccl":
            parts["cpu"] = "nccl"
        if "cpu" not in parts:
            raise RuntimeError(f"ember.distributed: backend {backend!r} names no CPU backend")
        name = parts["cpu"]
    if name not in _BACKENDS:
        raise RuntimeError(f"ember.distributed: backend {backend!r} is not available; ember "
                           "runs collectives on MPI (NCCL for CUDA tensors) and accepts "
                           "'mpi', 'gloo' or 'nccl'")
    return name


# ------------------------------------------------------------------------ process groups
class ProcessGroup:
    """A set of ranks with its own MPI communicator, as returned by ``new_group`` (and
    ``GroupMember.WORLD`` for the default group).

    ``rank()`` and ``size()`` are this process's position in the group and the group's size;
    ``ranks`` lists the members' default-group ranks. Groups are made by
    ``init_process_group`` and ``new_group``, not by calling this class (its constructor,
    unlike PyTorch's, takes ember's internal state).

    Args:
        comm: the group's MPI communicator.
        ranks: the members' default-group ranks, in group order.
        backend: the backend name ("mpi", "gloo" or "nccl").
        timeout: a ``datetime.timedelta`` for the group's operations.
        watchdog: the failure detector shared with the default group.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> g = dist.new_group([0])
        >>> g.rank(), g.size(), g.ranks
        (0, 1, [0])
        >>> dist.destroy_process_group()
    """

    def __init__(self, comm, ranks, backend, timeout, watchdog):
        self._comm = comm
        self._ranks = list(ranks)
        self._g2l = {g: i for i, g in enumerate(self._ranks)}
        self._backend = backend
        self._timeout = timeout.total_seconds()
        self._watchdog = watchdog
        self._mb_seq = 0  # monitored_barrier calls, for their store keys

    def rank(self):
        return self._comm.Get_rank()

    def size(self):
        return len(self._ranks)

    def name(self):
        return self._backend

    @property
    def ranks(self):
        return list(self._ranks)

    def __repr__(self):
        return f"ProcessGroup(backend={self._backend!r}, ranks={self._ranks})"


class _NonMember:
    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    """Group sentinels: ``GroupMember.WORLD`` (the default group once one exists, else None) and
    ``GroupMember.NON_GROUP_MEMBER`` (what ``new_group`` returns on ranks outside the group).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.GroupMember.WORLD is dist.group.WORLD
        True
        >>> dist.GroupMember.NON_GROUP_MEMBER
        GroupMember.NON_GROUP_MEMBER
        >>> dist.destroy_process_group()
    """

    WORLD = None
    NON_GROUP_MEMBER = _NonMember()


class group:  # noqa: N801  (PyTorch's spelling: dist.group.WORLD)
    """PyTorch's ``dist.group`` namespace: ``group.WORLD`` is the default process group (None
    before ``init_process_group`` and after ``destroy_process_group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.group.WORLD
        ProcessGroup(backend='gloo', ranks=[0])
        >>> dist.destroy_process_group()
        >>> dist.group.WORLD is None
        True
    """

    WORLD = None


group_ns = group  # for functions whose ``group`` parameter hides the class


class DebugLevel(enum.IntEnum):
    """The levels of ``set_debug_level``: ``OFF``, ``INFO`` and ``DETAIL``.

    ``init_process_group`` sets the level from the TORCH_DISTRIBUTED_DEBUG environment
    variable. Only ``DETAIL`` changes behaviour (collectives check the ranks' shapes and
    dtypes first); ``INFO`` is accepted and behaves as ``OFF``.

    Args:
        value: the member's integer value.

    Example:
        >>> import ember.distributed as dist
        >>> dist.DebugLevel.DETAIL > dist.DebugLevel.OFF
        True
    """

    OFF = 0
    INFO = 1
    DETAIL = 2


def set_debug_level(level):
    """Set how much checking collectives do.

    At ``DETAIL``, every collective first checks that all ranks pass tensors of one shape
    and dtype and, when they do not, raises an error naming the ranks that differ (one extra
    small collective per call). ``OFF`` and ``INFO`` skip the check.

    Args:
        level: a ``DebugLevel`` (or its integer value).

    Returns:
        None.

    Example:
        >>> import ember.distributed as dist
        >>> dist.set_debug_level(dist.DebugLevel.DETAIL)
        >>> dist.get_debug_level()
        <DebugLevel.DETAIL: 2>
        >>> dist.set_debug_level(dist.DebugLevel.OFF)
    """
    _S.detail = DebugLevel(level) == DebugLevel.DETAIL


def get_debug_level():
    """The current ``DebugLevel`` (``DETAIL`` or ``OFF``; ``INFO`` is reported as ``OFF``).

    Returns:
        A ``DebugLevel`` member.

    Example:
        >>> import ember.distributed as dist
        >>> dist.get_debug_level()
        <DebugLevel.OFF: 0>
    """
    return DebugLevel.DETAIL if _S.detail else DebugLevel.OFF


def set_debug_level_from_env():
    """Set the debug level from the TORCH_DISTRIBUTED_DEBUG environment variable.

    The variable holds ``OFF`` (the default when unset), ``INFO`` or ``DETAIL``, in any case;
    another value raises ValueError.

    Returns:
        None.

    Example:
        >>> import os
        >>> import ember.distributed as dist
        >>> os.environ["TORCH_DISTRIBUTED_DEBUG"] = "detail"
        >>> dist.set_debug_level_from_env()
        >>> dist.get_debug_level()
        <DebugLevel.DETAIL: 2>
        >>> del os.environ["TORCH_DISTRIBUTED_DEBUG"]
        >>> dist.set_debug_level_from_env()
        >>> dist.get_debug_level()
        <DebugLevel.OFF: 0>
    """
    v = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if v not in DebugLevel.__members__:
        raise ValueError(f"TORCH_DISTRIBUTED_DEBUG={v!r}: expected OFF, INFO or DETAIL")
    set_debug_level(DebugLevel[v])


class _State:
    def __init__(self):
        self.detail = False
        self.default = None
        self.store = None
        self.backend = None
        self.watchdog = None
        self.groups = []


_S = _State()


def _not_init_error():
    return ValueError("Default process group has not been initialized, please make sure to "
                      "call init_process_group.")


def _pg(group_arg):
    if _S.default is None:
        raise _not_init_error()
    if group_arg is None or group_arg is GroupMember.WORLD:
        return _S.default
    if group_arg is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group_arg, ProcessGroup):
        raise TypeError(f"ember.distributed: group must be a ProcessGroup, got "
                        f"{type(group_arg).__name__}")
    if group_arg._comm is None:
        return None
    return group_arg


def is_available():
    """Whether ``ember.distributed`` can run: True when mpi4py is installed.

    Returns:
        bool (``pip install 'ember[dist]'`` installs mpi4py and an MPI library).

    Example:
        >>> import ember.distributed as dist
        >>> dist.is_available()
        True
    """
    return _mpi.available()


def is_initialized():
    """Whether the default process group exists (``init_process_group`` was called and
    ``destroy_process_group`` was not, since).

    Returns:
        bool.

    Example:
        >>> import ember.distributed as dist
        >>> dist.is_initialized()
        False
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.is_initialized()
        True
        >>> dist.destroy_process_group()
        >>> dist.is_initialized()
        False
    """
    return _S.default is not None


def is_mpi_available():
    """Whether the MPI backend is available: True when mpi4py is installed.

    Returns:
        bool.

    Example:
        >>> import ember.distributed as dist
        >>> dist.is_mpi_available() == dist.is_available()
        True
    """
    return _mpi.available()


def is_gloo_available():
    """Whether ``backend="gloo"`` can be used: True when MPI is, since ember serves the name
    "gloo" with its MPI collectives (PyTorch programs that ask for gloo run unchanged).

    Returns:
        bool.

    Example:
        >>> import ember.distributed as dist
        >>> dist.is_gloo_available()
        True
    """
    return _mpi.available()  # served by MPI


def is_nccl_available():
    """Whether ``backend="nccl"`` is available: a CUDA device and CuPy's NCCL bindings
    (NOTE [ Collectives on NCCL ] in ``_nccl.py``).

    Returns:
        bool (False on a machine without a GPU).

    Example:
        >>> import ember.distributed as dist
        >>> isinstance(dist.is_nccl_available(), bool)  # True only with a GPU and NCCL
        True
    """
    return _nccl.is_available()


def is_torchelastic_launched():
    """Whether this process was started by torchrun or ``python -m ember.distributed.run``:
    both set TORCHELASTIC_RUN_ID (a plain ``mpiexec`` does not).

    Returns:
        bool.

    Example:
        >>> import ember.distributed as dist
        >>> dist.is_torchelastic_launched()
        False
    """
    return "TORCHELASTIC_RUN_ID" in os.environ


def get_backend(group=None):
    """The name of the backend ``group`` was created with.

    Args:
        group: the process group (None: the default group).

    Returns:
        A string: "mpi", "gloo" (the name asked for; both run on MPI) or "nccl".

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.get_backend()
        'gloo'
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg._backend


def get_rank(group=None):
    """This process's rank in ``group``.

    Args:
        group: the process group (None: the default group).

    Returns:
        An int in ``[0, get_world_size(group))``, or -1 when this process is not a member of
        ``group``. ValueError when no default group exists.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.get_rank()
        0
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    """The number of ranks in ``group``.

    Args:
        group: the process group (None: the default group).

    Returns:
        An int, or -1 when this process is not a member of ``group``. ValueError when no
        default group exists.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.get_world_size()
        1
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    return -1 if pg is None else pg.size()


def get_node_local_rank(fallback_rank=None):
    """This process's rank among the ranks on its machine, from LOCAL_RANK (which
    ``python -m ember.distributed.run`` and torchrun set).

    Args:
        fallback_rank: returned when LOCAL_RANK is not set; None (default) makes that a
            RuntimeError.

    Returns:
        An int.

    Example:
        >>> import ember.distributed as dist
        >>> dist.get_node_local_rank(fallback_rank=0)   # LOCAL_RANK is not set here
        0
    """
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment; start the ranks with "
                       "python -m ember.distributed.run or pass fallback_rank")


def _get_default_group():
    """The default process group (PyTorch's private helper, used by some libraries)."""
    if _S.default is None:
        raise _not_init_error()
    return _S.default


def _get_default_store():
    """The store the default group was created with."""
    if _S.default is None:
        raise _not_init_error()
    return _S.store


def get_global_rank(group, group_rank):
    """Translate a rank in ``group`` to the default group's numbering.

    Args:
        group: the process group.
        group_rank: a rank within ``group``.

    Returns:
        The default-group rank; ValueError when ``group_rank`` is not in ``group``.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> g = dist.new_group([0])
        >>> dist.get_global_rank(g, 0)
        0
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    if pg is None or not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return pg._ranks[group_rank]


def get_group_rank(group, global_rank):
    """Translate a default-group rank to its rank within ``group``.

    Args:
        group: the process group.
        global_rank: a rank of the default group.

    Returns:
        The rank within ``group``; ValueError when ``global_rank`` is not a member.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> g = dist.new_group([0])
        >>> dist.get_group_rank(g, 0)
        0
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    if pg is None or global_rank not in pg._g2l:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return pg._g2l[global_rank]


def get_process_group_ranks(group):
    """The default-group ranks of ``group``'s members, in group order.

    Args:
        group: the process group (None: the default group).

    Returns:
        A list of ints (empty for ``GroupMember.NON_GROUP_MEMBER``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.get_process_group_ranks(dist.new_group([0]))
        [0]
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    return [] if pg is None else list(pg._ranks)


def _root(pg, global_rank, group_rank, what, default_zero=True):
    """Translate PyTorch's (global ``src``/``dst``, ``group_src``/``group_dst``) to a group rank."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError(f"{what}: pass the global rank or the group rank, not both")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"{what}: group rank {group_rank} is out of range for a group "
                             f"of size {pg.size()}")
        return group_rank
    if global_rank is None:
        if not default_zero:
            raise ValueError(f"{what}: either the global rank or the group rank must be set")
        return 0
    r = pg._g2l.get(global_rank)
    if r is None:
        raise ValueError(f"{what}: global rank {global_rank} is not part of group "
                         f"{pg._ranks}")
    return r


# ------------------------------------------------------------------------ init / destroy
def _env_int(name, what):
    v = os.environ.get(name)
    if v is None:
        raise ValueError(f"Error initializing torch.distributed using {what} rendezvous: "
                         f"environment variable {name} expected, but not set")
    return int(v)


def _store_from_init_method(init_method, rank, world_size, timeout):
    """(store, rank, world_size) for PyTorch's env:// tcp:// file:// init methods."""
    if init_method.startswith("env://"):
        if rank < 0:
            rank = _env_int("RANK", "env://")
        if world_size < 0:
            world_size = _env_int("WORLD_SIZE", "env://")
        addr = os.environ.get("MASTER_ADDR")
        if addr is None:
            raise ValueError("Error initializing torch.distributed using env:// rendezvous: "
                             "environment variable MASTER_ADDR expected, but not set")
        port = _env_int("MASTER_PORT", "env://")
        return TCPStore(addr, port, world_size, rank == 0, timeout, False), rank, world_size
    if init_method.startswith("tcp://"):
        from urllib.parse import parse_qs, urlparse

        u = urlparse(init_method)
        q = parse_qs(u.query)
        if rank < 0 and "rank" in q:
            rank = int(q["rank"][0])
        if world_size < 0 and "world_size" in q:
            world_size = int(q["world_size"][0])
        if rank < 0 or world_size < 0:
            raise ValueError("tcp:// init_method needs rank and world_size")
        return (TCPStore(u.hostname, u.port, world_size, rank == 0, timeout, False), rank,
                world_size)
    if init_method.startswith("file://"):
        if rank < 0 or world_size < 0:
            raise ValueError("file:// init_method needs rank and world_size")
        return FileStore(init_method[len("file://"):], world_size), rank, world_size
    raise ValueError(f"ember.distributed: unsupported init_method {init_method!r} (use env://, "
                     "tcp:// or file://)")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):  # noqa: ARG001 - ignored by PyTorch too (deprecated)
    """Create the default process group: every rank must call it before any collective.

    Ranks started by ``mpiexec``/``srun``/``python -m ember.distributed.run`` take rank and
    size from MPI (a ``rank`` argument reorders them). Independent processes
    (``multiprocessing``, ``mp.spawn``) rendezvous through ``init_method`` or ``store`` and
    are joined into one MPI communicator (NOTE [ The spawn path ] in ``_spawn.py``). A single
    process started on its own is a world of one, where every collective works.

    Args:
        backend: "mpi" (default), "gloo" (accepted, served by MPI) or "nccl" (CUDA tensors
            through NCCL, NOTE [ Collectives on NCCL ]); PyTorch's "cpu:gloo,cuda:nccl"
            form uses its CPU entry. Other names raise RuntimeError.
        init_method: "env://" (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE),
            "tcp://host:port", or "file:///path".
        timeout: how long a collective may wait for its peers (``datetime.timedelta``,
            default 30 minutes) before raising ``DistBackendError``.
        world_size: the number of ranks; -1 takes it from MPI or the environment.
        rank: this process's rank; -1 takes it from MPI or the environment.
        store: a ``Store`` for rendezvous (then ``rank`` and ``world_size`` are required).
        group_name: accepted and ignored (PyTorch deprecated it).
        pg_options: not supported (NotImplementedError).
        device_id: a CPU device, or with "nccl" a CUDA device (made current);
            NotImplementedError otherwise.

    Returns:
        None. A second call without ``destroy_process_group`` raises ValueError.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.get_rank(), dist.get_world_size()
        (0, 1)
        >>> dist.destroy_process_group()
    """
    if _S.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = _parse_backend(backend)
    _nccl.check_backend(name)
    if device_id is not None and str(getattr(device_id, "type", device_id)) != "cpu":
        _nccl.use_device_id(device_id, name)
    if pg_options is not None:
        raise NotImplementedError("init_process_group: pg_options is not supported")
    if store is not None and init_method is not None:
        raise ValueError("Cannot specify both init_method and store.")
    timeout = default_pg_timeout if timeout is None else timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    MPI = _mpi.mpi()
    world = MPI.COMM_WORLD
    if store is not None and (rank < 0 or world_size < 0):
        raise ValueError("world_size and rank must be specified when a store is given")

    if world.Get_size() > 1:
        comm, store = _init_from_mpi(world, init_method, store, rank, world_size, timeout)
    else:
        # A process of its own (mp.spawn, a script, or `mpiexec -n 1` each): rendezvous
        # through the store, then join the others over MPI (NOTE [ The spawn path ]).
        if init_method is None and store is None and "MASTER_ADDR" in os.environ:
            init_method = "env://"
        if (init_method or "").startswith("env://") and _mpi.launched_by_mpi() and \
                "RANK" not in os.environ and rank < 0:
            rank, world_size = 0, 1 if world_size < 0 else world_size  # `mpiexec -n 1`
        if init_method is not None:
            store, rank, world_size = _store_from_init_method(init_method, rank, world_size,
                                                              timeout)
        if world_size in (-1, 1):
            comm = world.Dup()
            if store is None:
                from ember.distributed._store import HashStore

                store = HashStore()
        else:
            if store is None:
                raise ValueError(f"init_process_group: world_size={world_size} in a process "
                                 "not started by an MPI launcher needs init_method or store "
                                 "for rendezvous")
            if not 0 <= rank < world_size:
                raise ValueError(f"init_process_group: rank {rank} out of range for "
                                 f"world_size {world_size}")
            from ember.distributed._spawn import join_singletons

            comm = join_singletons(store, rank, world_size, timeout)
    store.set_timeout(timeout)
    set_debug_level_from_env()
    size = comm.Get_size()
    watchdog = _Watchdog(store, comm.Get_rank(), size)
    pg = ProcessGroup(comm, range(size), name, timeout, watchdog)
    _S.default, _S.store, _S.backend, _S.watchdog = pg, store, name, watchdog
    GroupMember.WORLD = group.WORLD = pg
    watchdog.start()


def _init_from_mpi(world, init_method, store, rank, world_size, timeout):
    n = world.Get_size()
    if world_size not in (-1, n):
        raise ValueError(f"init_process_group: world_size={world_size} but MPI started {n} "
                         "ranks")
    want = world.Get_rank() if rank < 0 else rank
    wanted = world.allgather(want)
    if sorted(wanted) != list(range(n)):
        raise ValueError(f"init_process_group: the ranks asked for, {wanted}, are not a "
                         f"permutation of 0..{n - 1}")
    # A rank argument (or RANK from the environment) may order ranks differently from MPI.
    comm = world.Split(0, want) if wanted != list(range(n)) else world.Dup()
    r = comm.Get_rank()
    if store is None:
        if init_method is None and "MASTER_ADDR" in os.environ and "MASTER_PORT" in os.environ:
            init_method = "env://"
        if init_method is not None:
            if init_method.startswith("env://") and "RANK" not in os.environ:
                os.environ["RANK"] = str(r)
                os.environ.setdefault("WORLD_SIZE", str(n))
            store, _, _ = _store_from_init_method(init_method, r, n, timeout)
        else:
            # Plain mpiexec: rank 0 serves a store (for the watchdog and users) on a free port.
            import socket

            hosts = comm.allgather(socket.gethostname())
            addr = "127.0.0.1" if len(set(hosts)) == 1 else hosts[0]
            port = 0
            if r == 0:
                store = TCPStore(addr, 0, n, True, timeout, False)
                port = store.port
            port = comm.bcast(port, root=0)
            if r != 0:
                store = TCPStore(addr, port, n, False, timeout, False)
    return comm, store


def destroy_process_group(group=None):
    """Destroy ``group`` and free its communicator; with None, destroy every group and the
    default one (``is_initialized()`` is False afterwards and a new ``init_process_group``
    may follow).

    Args:
        group: the group to destroy (None: all of them).

    Returns:
        None.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.destroy_process_group(dist.new_group([0]))
        >>> dist.is_initialized()
        True
        >>> dist.destroy_process_group()
        >>> dist.is_initialized()
        False
    """
    if _S.default is None:
        raise _not_init_error()
    if group is None or group is GroupMember.WORLD:
        for g in _S.groups:
            _free(g)
        _S.groups = []
        if _S.watchdog is not None:
            _S.watchdog.stop()
        _free(_S.default)
        store = _S.store
        _S.default = _S.store = _S.backend = _S.watchdog = None
        GroupMember.WORLD = group_ns.WORLD = None
        if isinstance(store, TCPStore):
            store.close()
        return
    if group in _S.groups:
        _S.groups.remove(group)
        _free(group)


def _free(pg):
    if pg._comm is not None and not _mpi.FAILED[0]:
        try:
            pg._comm.Free()
        except Exception:  # noqa: BLE001 - freeing is best effort at teardown
            pass
    pg._comm = None


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None,  # noqa: ARG001 - a label for PyTorch's logs; ember's groups keep none
              sort_ranks=True):
    """Create a process group of a subset of the default group's ranks.

    Every rank of the default group must call it, with the same ``ranks``, unless
    ``use_local_synchronization`` is True, when only the members call it.

    Args:
        ranks: the members' default-group ranks (None: all ranks).
        timeout: a ``datetime.timedelta`` for the group's operations (default: the default
            group's).
        backend: the backend name (default: the default group's).
        pg_options: not supported (NotImplementedError).
        use_local_synchronization: only the members call ``new_group``.
        group_desc: a label; accepted and not kept.
        device_id: only a CPU device is accepted (NotImplementedError otherwise).
        sort_ranks: order the members by rank (False: group rank i is ``ranks[i]``).

    Returns:
        The new ``ProcessGroup`` on members; ``GroupMember.NON_GROUP_MEMBER`` elsewhere.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> g = dist.new_group([0])
        >>> t = ember.ones(2)
        >>> dist.all_reduce(t, group=g)
        >>> g.size()
        1
        >>> dist.destroy_process_group()
    """
    world = _pg(None)
    if pg_options is not None:
        raise NotImplementedError("new_group: pg_options is not supported")
    if device_id is not None and str(getattr(device_id, "type", device_id)) != "cpu":
        raise NotImplementedError(f"new_group: device_id={device_id!r} (ember runs "
                                  "collectives on the CPU)")
    name = world._backend if backend is None else _parse_backend(backend)
    _nccl.check_backend(name)
    n = world.size()
    ranks = list(range(n)) if ranks is None else list(ranks)
    if len(set(ranks)) != len(ranks) or any(not 0 <= r < n for r in ranks):
        raise ValueError(f"new_group: ranks {ranks} must be distinct ranks of 0..{n - 1}")
    if sort_ranks:
        ranks = sorted(ranks)
    MPI = _mpi.mpi()
    mpi_group = world._comm.Get_group().Incl(ranks)
    if use_local_synchronization:
        if world.rank() not in ranks:
            return GroupMember.NON_GROUP_MEMBER
        comm = world._comm.Create_group(mpi_group)
    else:
        comm = world._comm.Create(mpi_group)
    mpi_group.Free()
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    t = datetime.timedelta(seconds=world._timeout) if timeout is None else timeout
    pg = ProcessGroup(comm, ranks, name, t, world._watchdog)
    _S.groups.append(pg)
    return pg


# ------------------------------------------------------------------------ watchdog
class _Watchdog:
    """Heartbeats and failure marks in the store (NOTE [ Lost ranks ])."""

    def __init__(self, store, rank, size):
        self.store = store
        self.rank = rank
        self.size = size
        self._stop = threading.Event()
        self._thread = None
        self._seen = {}  # rank -> (last heartbeat value, monotonic time it last changed)
        self._prev_hook = None

    def start(self):
        if self.size == 1:
            return
        self.store.set(f"__ember/hb/{self.rank}", "0")
        self._thread = threading.Thread(target=self._beat, name="ember-dist-heartbeat",
                                        daemon=True)
        self._thread.start()
        self._prev_hook = sys.excepthook
        sys.excepthook = self._excepthook
        _mpi.AT_EXIT.append(self._mark_exit)

    def stop(self):
        self._stop.set()
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._prev_hook
        if self._mark_exit in _mpi.AT_EXIT:
            _mpi.AT_EXIT.remove(self._mark_exit)

    def _mark_exit(self):
        # A rank leaving with the group alive (sys.exit, end of script) will never join
        # another collective: peers still waiting on it fail now instead of at the timeout.
        self._stop.set()
        self._bounded(lambda: (self.store.set(f"__ember/exited/{self.rank}", "1"),
                               self.store.add("__ember/nexited", 1)))

    def _beat(self):
        n = 0
        while not self._stop.wait(_HEARTBEAT):
            n += 1
            try:
                self.store.set(f"__ember/hb/{self.rank}", str(n))
            except Exception:  # noqa: BLE001 - the store's host is gone; waits will say so
                return

    def _excepthook(self, tp, value, tb):
        _mpi.FAILED[0] = True
        msg = f"{tp.__name__}: {value}"[:500]
        self._bounded(lambda: (self.store.set(f"__ember/failed/{self.rank}", msg),
                               self.store.add("__ember/nfailed", 1)))
        (self._prev_hook or sys.__excepthook__)(tp, value, tb)

    @staticmethod
    def _bounded(fn, seconds=0.5):
        """Run a store update while exiting, giving up after ``seconds``.

        The store's host may already be inside MPI_Finalize, which holds the GIL, so its
        server cannot answer; waiting for it would keep this rank from reaching
        MPI_Finalize, which waits for this rank: a deadlock at exit.
        """
        def run():
            try:
                fn()
            except Exception:  # noqa: BLE001 - best effort while exiting
                pass
        th = threading.Thread(target=run, daemon=True)
        th.start()
        th.join(seconds)

    def check(self, pg, what, final=False):
        """Raise DistBackendError if a member of ``pg`` is known lost (or stalled, if final)."""
        now = time.monotonic()
        try:
            failed = []
            if self.store.add("__ember/nfailed", 0) > 0:
                for r in pg._ranks:
                    if self.store.check([f"__ember/failed/{r}"]):
                        failed.append((r, self.store.get(f"__ember/failed/{r}").decode()))
            exited = []
            if self.store.add("__ember/nexited", 0) > 0:
                exited = [r for r in pg._ranks if r != self.rank
                          and self.store.check([f"__ember/exited/{r}"])]
            stalled = []
            for r in pg._ranks:
                if r == self.rank:
                    continue
                v = self.store.get(f"__ember/hb/{r}") if self.store.check(
                    [f"__ember/hb/{r}"]) else b""
                last = self._seen.get(r)
                if last is None or last[0] != v:
                    self._seen[r] = (v, now)
                elif now - last[1] > (3 * _HEARTBEAT if final else _LOST_AFTER):
                    stalled.append(r)
        except Exception as e:  # noqa: BLE001 - the store's host (rank 0) is gone
            _mpi.FAILED[0] = True
            raise DistBackendError(f"{what}: lost rank 0 (the store's host is unreachable: "
                                   f"{e})") from None
        if failed:
            _mpi.FAILED[0] = True
            desc = "; ".join(f"rank {r} failed with {m}" for r, m in failed)
            raise DistBackendError(f"{what}: {desc}")
        if exited:
            _mpi.FAILED[0] = True
            raise DistBackendError(f"{what}: rank(s) {exited} exited while this operation was "
                                   "waiting for them")
        if stalled and (final or len(stalled) < pg.size() - 1 or pg.size() == 2):
            _mpi.FAILED[0] = True
            raise DistBackendError(f"{what}: lost rank(s) {stalled} (no heartbeat for "
                                   f"{now - min(self._seen[r][1] for r in stalled):.1f}s)")


# ------------------------------------------------------------------------ Work
class Work:
    """The handle of an operation started with ``async_op=True`` (or by ``isend``/``irecv``).

    ``wait()`` blocks until the operation is done (True; ``DistBackendError`` on a timeout or
    a lost peer), ``is_completed()`` polls, ``is_success()``/``exception()`` report the
    outcome, ``result()`` lists the output tensors and ``get_future()`` wraps it as a future.
    Handles are made by the collectives, not by users.

    Args:
        pg: the group the operation runs on.
        reqs: the MPI requests to complete.
        finish: called once when they complete (copies results into place), or None.
        what: the operation's name, for error messages.
        result: the output tensors ``result()`` returns.
        status: MPI status objects filled in by a receive.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> t = ember.ones(2)
        >>> work = dist.all_reduce(t, async_op=True)
        >>> work.wait(), work.is_completed()
        (True, True)
        >>> dist.destroy_process_group()
    """

    __slots__ = ("_pg", "_reqs", "_finish", "_what", "_done", "_exc", "_result", "_status")

    def __init__(self, pg, reqs, finish, what, result=None, status=None):
        self._pg = pg
        self._reqs = reqs
        self._finish = finish
        self._what = what
        self._done = False
        self._exc = None
        self._result = result
        self._status = status

    def _complete(self):
        self._done = True
        if self._finish is not None:
            f, self._finish = self._finish, None
            f()

    def is_completed(self):
        """Whether the operation finished (drives MPI's progress once)."""
        if not self._done and _mpi.mpi().Request.Testall(self._reqs, self._status):
            self._complete()
        return self._done

    def wait(self, timeout=None):
        """Block until done; raise DistBackendError on timeout or a lost peer."""
        if self._done:
            if self._exc is not None:
                raise self._exc
            return True
        t = self._pg._timeout if timeout is None else (
            timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else timeout)
        try:
            _progress(self._pg, self._reqs, t, self._what, self._status)
        except DistBackendError as e:
            self._exc = e
            raise
        self._complete()
        return True

    def is_success(self):
        return self._done and self._exc is None

    def exception(self):
        return self._exc

    def result(self):
        return self._result if self._result is not None else []

    def synchronize(self):
        self.wait()

    def source_rank(self):
        if self._status is None or not self._done:
            raise RuntimeError("source_rank: only completed receives have a source rank")
        return self._pg._ranks[self._status[0].Get_source()]

    def get_future(self):
        return _Future(self)


class _Future:
    """The small part of ``torch.futures.Future`` DDP communication hooks use."""

    def __init__(self, work):
        self._work = work

    def wait(self):
        self._work.wait()
        return self._work.result()

    def value(self):
        return self._work.result()

    def done(self):
        return self._work.is_completed()


_yield = getattr(os, "sched_yield", lambda: None)


def _progress(pg, reqs, timeout, what, status=None):
    if len(reqs) == 1 and status is None:
        test = reqs[0].Test
    else:
        testall = _mpi.mpi().Request.Testall

        def test():
            return testall(reqs, status)
    if test():
        return
    start = time.monotonic()
    deadline = start + timeout
    next_check = start + 1.0
    spins = 0
    while not test():
        spins += 1
        if spins & 255:
            continue
        # Every 256 tests (about 100 us) offer the core to anything else runnable: with
        # more ranks or jobs than cores, the rank this one waits for may be queued behind
        # this very spin (NOTE [ Collectives on MPI ]). On an idle core it returns at once.
        _yield()
        now = time.monotonic()
        if now >= next_check:
            pg._watchdog.check(pg, what)
            next_check = now + _HEARTBEAT
        if now >= deadline:
            pg._watchdog.check(pg, what, final=True)
            _mpi.FAILED[0] = True
            raise DistBackendError(f"{what}: timed out after {timeout:.1f}s waiting for the "
                                   f"other ranks of group {pg._ranks} (none reported lost)")
        if now - start > 1.0:
            # Past the first second this is a wait for a straggler, not a transfer: stop
            # hogging a core the straggler may need.
            time.sleep(1e-4)


# ------------------------------------------------------------------------ helpers
def _check_tensor(t, what, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: {name} must be a Tensor, got {type(t).__name__}")
    if not isinstance(t._data, np.ndarray) and what not in _nccl.SUPPORTED:
        _nccl.refuse(what)  # a CUDA tensor where no CUDA path exists
    return t._data


def _contig(arr):
    """(C-contiguous array to hand MPI, array to copy back into or None)."""
    if arr.flags.c_contiguous:
        return arr, None
    return np.ascontiguousarray(arr), arr


def _debug_check(pg, what, arrays, extra=()):
    """TORCH_DISTRIBUTED_DEBUG=DETAIL: verify shapes and dtypes agree across the group."""
    if not _S.detail:
        return
    sig = (what, tuple((a.shape, str(a.dtype)) for a in arrays), tuple(extra))
    sigs = _allgather_obj(pg, sig, what)
    if any(s != sigs[0] for s in sigs):
        desc = "; ".join(f"rank {pg._ranks[i]}: {s[1]}" for i, s in enumerate(sigs))
        raise RuntimeError(f"{what}: mismatched tensor shapes/dtypes across ranks ({desc})")


def _run(pg, reqs, finish, what, async_op, result=None, status=None):
    w = Work(pg, reqs, finish, what, result, status)
    if async_op:
        return w
    w.wait()
    return None


def _mpi_op(op, dtype, what):
    """(MPI op, post-scale factor) for a ReduceOp on numpy ``dtype``."""
    MPI = _mpi.mpi()
    op = _red_op(op)
    if op == RedOpType.PREMUL_SUM:
        raise NotImplementedError(f"{what}: ReduceOp.PREMUL_SUM is not supported")
    kind = dtype.kind
    if kind == "b":
        return {RedOpType.SUM: MPI.LOR, RedOpType.MAX: MPI.LOR, RedOpType.BOR: MPI.LOR,
                RedOpType.PRODUCT: MPI.LAND, RedOpType.MIN: MPI.LAND,
                RedOpType.BAND: MPI.LAND, RedOpType.BXOR: MPI.LXOR}.get(op) or _bad_op(
                    what, op, dtype)
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and kind not in "iu":
        _bad_op(what, op, dtype)
    if op in (RedOpType.MIN, RedOpType.MAX) and kind == "c":
        _bad_op(what, op, dtype)
    if op == RedOpType.AVG and kind in "iu":
        _bad_op(what, op, dtype)
    return {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
            RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
            RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}[op]


def _bad_op(what, op, dtype):
    raise RuntimeError(f"{what}: ReduceOp.{op.name} is not supported for dtype "
                       f"{_ember_dtype_name(dtype)}")


def _ember_dtype_name(npdtype):
    from ember._dtype import FROM_NP

    d = FROM_NP.get(npdtype)
    return str(d) if d is not None else str(npdtype)


def _reduce_buf(arr, what, op):
    """(buffer in the reduction dtype, MPI datatype, MPI op, copy-back target or None)."""
    mtype, rdt = _mpi.reduce_type(arr.dtype)
    mop = _mpi_op(op, arr.dtype, what)
    if rdt != arr.dtype:
        return arr.astype(rdt), mtype, mop, arr  # float16/bfloat16 widened to float32
    buf, back = _contig(arr)
    return buf, mtype, mop, back


# ------------------------------------------------------------------------ collectives
def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` from rank ``src`` to every rank of the group, in place.

    Args:
        tensor: the data to send on ``src``, the buffer to fill on the other ranks (same shape
            and dtype on every rank).
        src: the sending rank in the default group's numbering (default 0).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.
        group_src: the sending rank in ``group``'s numbering (instead of ``src``).

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> t = ember.arange(3.) if dist.get_rank() == 0 else ember.zeros(3)
        >>> dist.broadcast(t, src=0)
        >>> t
        tensor([0., 1., 2.])
        >>> dist.destroy_process_group()
    """
    what = "broadcast"
    arr = _check_tensor(tensor, what)
    if not isinstance(arr, np.ndarray):  # a CUDA tensor: NOTE [ Collectives on NCCL ]
        return _nccl.broadcast(tensor, src, group, async_op, group_src)
    pg = _pg(group)
    if pg is None:
        return None
    root = _root(pg, src, group_src, what, default_zero=False)
    _debug_check(pg, what, [arr], (root,))
    buf, back = _contig(arr)

    def finish():
        if back is not None:
            back[...] = buf
        tensor._bump()
    req = pg._comm.Ibcast([_mpi.byte_view(buf), _mpi.mpi().BYTE], root=root)
    return _run(pg, [req], finish, what, async_op, [tensor])


_AR_SPECS = {}  # (op, numpy dtype) -> (MPI datatype, MPI op, reduction dtype, is AVG)


def _ar_spec(op, dtype, what):
    key = (op, dtype)
    spec = _AR_SPECS.get(key)
    if spec is None:
        mtype, rdt = _mpi.reduce_type(dtype)
        mop = _mpi_op(op, dtype, what)
        spec = (mtype, mop, None if rdt == dtype else rdt, _red_op(op) == RedOpType.AVG)
        _AR_SPECS[key] = spec
    return spec


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group with ``op``; every rank gets the result in place.

    float16 and bfloat16 tensors are reduced in float32 and rounded back.

    Args:
        tensor: this rank's contribution, overwritten with the result (same shape and dtype on
            every rank).
        op: a ``ReduceOp`` (default ``SUM``).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> t = ember.ones(3) * (dist.get_rank() + 1)
        >>> dist.all_reduce(t)     # on N ranks: 1 + 2 + ... + N in each element
        >>> t
        tensor([1., 1., 1.])
        >>> dist.destroy_process_group()
    """
    # The hot path of DDP and of small reductions: cached specs, no closures when blocking.
    what = "all_reduce"
    arr = _check_tensor(tensor, what)
    if not isinstance(arr, np.ndarray):  # a CUDA tensor: NOTE [ Collectives on NCCL ]
        return _nccl.all_reduce(tensor, op, group, async_op)
    pg = _S.default if group is None and _S.default is not None else _pg(group)
    if pg is None:
        return None
    if _S.detail:
        _debug_check(pg, what, [arr], (int(_red_op(op)),))
    mtype, mop, widen, avg = _ar_spec(op, arr.dtype, what)
    if widen is not None:
        buf, back = arr.astype(widen), arr  # float16/bfloat16 reduce in float32
    elif arr.flags.c_contiguous:
        buf, back = arr, None
    else:
        buf, back = np.ascontiguousarray(arr), arr
    req = pg._comm.Iallreduce(_IN_PLACE[0] or _in_place(), [buf, mtype], mop)
    if async_op:
        return Work(pg, [req], lambda: _ar_finish(tensor, buf, back, avg, pg), what,
                    [tensor])
    if not req.Test():
        _progress(pg, [req], pg._timeout, what)
    _ar_finish(tensor, buf, back, avg, pg)
    return None


def _ar_finish(tensor, buf, back, avg, pg):
    if avg:
        np.divide(buf, pg.size(), out=buf, casting="unsafe")
    if back is not None:
        back[...] = buf
    tensor._bump()


_IN_PLACE = [None]


def _in_place():
    _IN_PLACE[0] = _mpi.mpi().IN_PLACE
    return _IN_PLACE[0]


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` across the group into rank ``dst``'s tensor; the other ranks keep theirs.

    Args:
        tensor: this rank's contribution; on ``dst``, overwritten with the result.
        dst: the receiving rank in the default group's numbering (default 0).
        op: a ``ReduceOp`` (default ``SUM``).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.
        group_dst: the receiving rank in ``group``'s numbering (instead of ``dst``).

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> t = ember.tensor([2.0, 3.0])
        >>> dist.reduce(t, dst=0, op=dist.ReduceOp.PRODUCT)
        >>> t
        tensor([2., 3.])
        >>> dist.destroy_process_group()
    """
    what = "reduce"
    arr = _check_tensor(tensor, what)
    if not isinstance(arr, np.ndarray):  # a CUDA tensor: NOTE [ Collectives on NCCL ]
        return _nccl.reduce(tensor, dst, op, group, async_op, group_dst)
    pg = _pg(group)
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, what)
    _debug_check(pg, what, [arr], (root, int(_red_op(op))))
    buf, mtype, mop, back = _reduce_buf(arr, what, op)
    is_root = pg.rank() == root
    scale = pg.size() if _red_op(op) == RedOpType.AVG else None
    MPI = _mpi.mpi()
    if is_root:
        req = pg._comm.Ireduce(MPI.IN_PLACE, [buf, mtype], mop, root=root)
    else:
        req = pg._comm.Ireduce([buf, mtype], None, mop, root=root)

    def finish():
        if not is_root:
            return
        if scale is not None:
            np.divide(buf, scale, out=buf, casting="unsafe")
        if back is not None:
            back[...] = buf
        tensor._bump()
    return _run(pg, [req], finish, what, async_op, [tensor])


def _same_layout(what, ref, arrs, name):
    for i, a in enumerate(arrs):
        if a.shape != ref.shape or a.dtype != ref.dtype:
            raise ValueError(f"{what}: {name}[{i}] has shape {tuple(a.shape)} and dtype "
                             f"{_ember_dtype_name(a.dtype)}, expected {tuple(ref.shape)} and "
                             f"{_ember_dtype_name(ref.dtype)}")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather ``tensor`` from every rank into ``tensor_list`` on every rank.

    Args:
        tensor_list: ``world_size`` tensors of ``tensor``'s shape and dtype; slot i receives
            rank i's tensor.
        tensor: this rank's contribution.
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = [ember.zeros(2) for _ in range(dist.get_world_size())]
        >>> dist.all_gather(out, ember.full((2,), float(dist.get_rank())))
        >>> out
        [tensor([0., 0.])]
        >>> dist.destroy_process_group()
    """
    what = "all_gather"
    arr = _check_tensor(tensor, what)
    if not isinstance(arr, np.ndarray):  # a CUDA tensor: NOTE [ Collectives on NCCL ]
        return _nccl.all_gather(tensor_list, tensor, group, async_op)
    pg = _pg(group)
    if pg is None:
        return None
    outs = [_check_tensor(t, what, "tensor_list element") for t in tensor_list]
    if len(outs) != pg.size():
        raise ValueError(f"{what}: tensor_list has {len(outs)} tensors, expected the group "
                         f"size {pg.size()}")
    _same_layout(what, arr, outs, "tensor_list")
    _debug_check(pg, what, [arr])
    send, _ = _contig(arr)
    recv = np.empty((pg.size(),) + arr.shape, arr.dtype)
    MPI = _mpi.mpi()

    def finish():
        for i, t in enumerate(tensor_list):
            t._data[...] = recv[i]
            t._bump()
    req = pg._comm.Iallgather([_mpi.byte_view(send), MPI.BYTE], [_mpi.byte_view(recv),
                                                                   MPI.BYTE])
    return _run(pg, [req], finish, what, async_op, list(tensor_list))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather every rank's ``input_tensor`` into one ``output_tensor`` on every rank.

    Args:
        output_tensor: ``world_size`` times ``input_tensor``'s elements, of its dtype: the
            ranks' tensors concatenated along dim 0 or stacked in a new leading dim.
        input_tensor: this rank's contribution.
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = ember.empty(2 * dist.get_world_size())
        >>> dist.all_gather_into_tensor(out, ember.tensor([1.0, 2.0]))
        >>> out
        tensor([1., 2.])
        >>> dist.destroy_process_group()
    """
    what = "all_gather_into_tensor"
    inp = _check_tensor(input_tensor, what, "input_tensor")
    out = _check_tensor(output_tensor, what, "output_tensor")
    if not isinstance(inp, np.ndarray):  # a CUDA tensor: NOTE [ Collectives on NCCL ]
        return _nccl.all_gather_into_tensor(output_tensor, input_tensor, group, async_op)
    pg = _pg(group)
    if pg is None:
        return None
    if out.size != inp.size * pg.size() or out.dtype != inp.dtype:
        raise ValueError(f"{what}: output of shape {tuple(out.shape)} ({out.dtype}) must have "
                         f"{pg.size()} x the {inp.size} elements of the input "
                         f"({inp.dtype})")
    _debug_check(pg, what, [inp])
    send, _ = _contig(inp)
    recv, back = _contig(out)
    MPI = _mpi.mpi()

    def finish():
        if back is not None:
            back[...] = recv
        output_tensor._bump()
    req = pg._comm.Iallgather([_mpi.byte_view(send), MPI.BYTE], [_mpi.byte_view(recv),
                                                                   MPI.BYTE])
    return _run(pg, [req], finish, what, async_op, [output_tensor])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Gather ``tensor`` from every rank into ``gather_list`` on rank ``dst``.

    Args:
        tensor: this rank's contribution.
        gather_list: on ``dst``, ``world_size`` tensors of ``tensor``'s shape and dtype (slot i
            receives rank i's); None on the other ranks.
        dst: the receiving rank in the default group's numbering (default 0).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.
        group_dst: the receiving rank in ``group``'s numbering (instead of ``dst``).

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> lst = [ember.zeros(2)] if dist.get_rank() == 0 else None
        >>> dist.gather(ember.ones(2), lst, dst=0)
        >>> lst
        [tensor([1., 1.])]
        >>> dist.destroy_process_group()
    """
    what = "gather"
    arr = _check_tensor(tensor, what)
    pg = _pg(group)
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, what)
    is_root = pg.rank() == root
    if is_root:
        if gather_list is None or len(gather_list) != pg.size():
            raise ValueError(f"{what}: the destination rank needs gather_list with "
                             f"{pg.size()} tensors")
        _same_layout(what, arr, [_check_tensor(t, what, "gather_list element")
                                 for t in gather_list], "gather_list")
    elif gather_list:
        raise ValueError(f"{what}: gather_list must be empty on non-destination ranks")
    _debug_check(pg, what, [arr], (root,))
    send, _ = _contig(arr)
    MPI = _mpi.mpi()
    recv = np.empty((pg.size(),) + arr.shape, arr.dtype) if is_root else None
    rspec = [_mpi.byte_view(recv), MPI.BYTE] if is_root else None

    def finish():
        if is_root:
            for i, t in enumerate(gather_list):
                t._data[...] = recv[i]
                t._bump()
    req = pg._comm.Igather([_mpi.byte_view(send), MPI.BYTE], rspec, root=root)
    return _run(pg, [req], finish, what, async_op, list(gather_list or []))


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Send ``scatter_list[i]`` from rank ``src`` into rank i's ``tensor``.

    Args:
        tensor: the buffer this rank receives into.
        scatter_list: on ``src``, ``world_size`` tensors of ``tensor``'s shape and dtype; None
            on the other ranks.
        src: the sending rank in the default group's numbering (default 0).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.
        group_src: the sending rank in ``group``'s numbering (instead of ``src``).

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = ember.zeros(2)
        >>> parts = [ember.full((2,), 7.0)] if dist.get_rank() == 0 else None
        >>> dist.scatter(out, parts, src=0)
        >>> out
        tensor([7., 7.])
        >>> dist.destroy_process_group()
    """
    what = "scatter"
    arr = _check_tensor(tensor, what)
    pg = _pg(group)
    if pg is None:
        return None
    root = _root(pg, src, group_src, what)
    is_root = pg.rank() == root
    MPI = _mpi.mpi()
    if is_root:
        if scatter_list is None or len(scatter_list) != pg.size():
            raise ValueError(f"{what}: the source rank needs scatter_list with {pg.size()} "
                             "tensors")
        parts = [_check_tensor(t, what, "scatter_list element") for t in scatter_list]
        _same_layout(what, arr, parts, "scatter_list")
        send = np.stack(parts) if parts else None
        sspec = [_mpi.byte_view(send), MPI.BYTE]
    else:
        if scatter_list:
            raise ValueError(f"{what}: scatter_list must be empty on non-source ranks")
        sspec = None
    _debug_check(pg, what, [arr], (root,))
    recv, back = _contig(arr)

    def finish():
        if back is not None:
            back[...] = recv
        tensor._bump()
    req = pg._comm.Iscatter(sspec, [_mpi.byte_view(recv), MPI.BYTE], root=root)
    return _run(pg, [req], finish, what, async_op, [tensor])


def _reduce_scatter_arrays(pg, what, out_tensor, out, send_parts, op, async_op):
    """Reduce-scatter ``send_parts`` (one array per rank, each shaped like ``out``)."""
    mtype, rdt = _mpi.reduce_type(out.dtype)
    mop = _mpi_op(op, out.dtype, what)
    send = np.empty((pg.size(),) + out.shape, rdt)
    for i, p in enumerate(send_parts):
        send[i] = p
    recv = np.empty(out.shape, rdt)
    scale = pg.size() if _red_op(op) == RedOpType.AVG else None

    def finish():
        if scale is not None:
            np.divide(recv, scale, out=recv, casting="unsafe")
        out[...] = recv
        out_tensor._bump()
    req = pg._comm.Ireduce_scatter_block([send, mtype], [recv, mtype], mop)
    return _run(pg, [req], finish, what, async_op, [out_tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[i]`` across the ranks into rank i's ``output``.

    Args:
        output: the buffer this rank receives its reduced block into.
        input_list: ``world_size`` tensors of ``output``'s shape and dtype.
        op: a ``ReduceOp`` (default ``SUM``).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = ember.zeros(2)
        >>> dist.reduce_scatter(out, [ember.ones(2) for _ in range(dist.get_world_size())])
        >>> out
        tensor([1., 1.])
        >>> dist.destroy_process_group()
    """
    what = "reduce_scatter"
    out = _check_tensor(output, what, "output")
    pg = _pg(group)
    if pg is None:
        return None
    parts = [_check_tensor(t, what, "input_list element") for t in input_list]
    if len(parts) != pg.size():
        raise ValueError(f"{what}: input_list has {len(parts)} tensors, expected the group "
                         f"size {pg.size()}")
    _same_layout(what, out, parts, "input_list")
    _debug_check(pg, what, [out], (int(_red_op(op)),))
    return _reduce_scatter_arrays(pg, what, output, out, parts, op, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` across the ranks and give rank i block i of the result in ``output``.

    Args:
        output: the buffer this rank receives its block into.
        input: ``world_size`` times ``output``'s elements, of its dtype (blocks along dim 0,
            or stacked in a leading dim).
        op: a ``ReduceOp`` (default ``SUM``).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = ember.zeros(2)
        >>> dist.reduce_scatter_tensor(out, ember.tensor([3.0, 4.0]))
        >>> out
        tensor([3., 4.])
        >>> dist.destroy_process_group()
    """
    what = "reduce_scatter_tensor"
    out = _check_tensor(output, what, "output")
    inp = _check_tensor(input, what, "input")
    if not isinstance(inp, np.ndarray):  # a CUDA tensor: NOTE [ Collectives on NCCL ]
        return _nccl.reduce_scatter_tensor(output, input, op, group, async_op)
    pg = _pg(group)
    if pg is None:
        return None
    if inp.size != out.size * pg.size() or inp.dtype != out.dtype:
        raise ValueError(f"{what}: input of shape {tuple(inp.shape)} ({inp.dtype}) must have "
                         f"{pg.size()} x the {out.size} elements of the output ({out.dtype})")
    _debug_check(pg, what, [inp], (int(_red_op(op)),))
    parts = np.ascontiguousarray(inp).reshape((pg.size(),) + out.shape)
    return _reduce_scatter_arrays(pg, what, output, out, list(parts), op, async_op)


def _alltoallv(pg, what, send, scounts, recv, rcounts, finish, async_op, result):
    MPI = _mpi.mpi()
    sd = np.concatenate(([0], np.cumsum(scounts)[:-1])).astype(np.int64).tolist()
    rd = np.concatenate(([0], np.cumsum(rcounts)[:-1])).astype(np.int64).tolist()
    req = pg._comm.Ialltoallv([_mpi.byte_view(send), (list(scounts), sd), MPI.BYTE],
                              [_mpi.byte_view(recv), (list(rcounts), rd), MPI.BYTE])
    return _run(pg, [req], finish, what, async_op, result)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Send ``input_tensor_list[i]`` to rank i; receive rank i's into ``output_tensor_list[i]``.

    Args:
        output_tensor_list: ``world_size`` receive buffers (their sizes may differ per rank).
        input_tensor_list: ``world_size`` tensors to send, one per destination rank.
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> outs = [ember.zeros(1)]
        >>> dist.all_to_all(outs, [ember.full((1,), 5.0)])
        >>> outs
        [tensor([5.])]
        >>> dist.destroy_process_group()
    """
    what = "all_to_all"
    pg = _pg(group)
    if pg is None:
        return None
    ins = [_check_tensor(t, what, "input_tensor_list element") for t in input_tensor_list]
    outs = [_check_tensor(t, what, "output_tensor_list element") for t in output_tensor_list]
    n = pg.size()
    if len(ins) != n or len(outs) != n:
        raise ValueError(f"{what}: both lists need {n} tensors (got {len(ins)} inputs, "
                         f"{len(outs)} outputs)")
    dtypes = {a.dtype for a in ins + outs}
    if len(dtypes) != 1:
        raise ValueError(f"{what}: all tensors must have one dtype, got "
                         f"{sorted(map(_ember_dtype_name, dtypes))}")
    send = np.concatenate([a.reshape(-1) for a in ins]) if ins else np.empty(0)
    recv = np.empty(sum(a.size for a in outs), outs[0].dtype)
    isz = outs[0].dtype.itemsize

    def finish():
        off = 0
        for t, a in zip(output_tensor_list, outs):
            a[...] = recv[off:off + a.size].reshape(a.shape)
            off += a.size
            t._bump()
    return _alltoallv(pg, what, send, [a.size * isz for a in ins], recv,
                      [a.size * isz for a in outs], finish, async_op, list(output_tensor_list))


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    """Split ``input`` along dim 0, send part i to rank i, concatenate what arrives in ``output``.

    Args:
        output: the receive buffer.
        input: the tensor to split and send.
        output_split_sizes: rows received from each rank (None: equal parts).
        input_split_sizes: rows sent to each rank (None: equal parts).
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = ember.empty(4)
        >>> dist.all_to_all_single(out, ember.arange(4.))
        >>> out
        tensor([0., 1., 2., 3.])
        >>> dist.destroy_process_group()
    """
    what = "all_to_all_single"
    inp = _check_tensor(input, what, "input")
    out = _check_tensor(output, what, "output")
    pg = _pg(group)
    if pg is None:
        return None
    n = pg.size()
    if inp.dtype != out.dtype:
        raise ValueError(f"{what}: input dtype {_ember_dtype_name(inp.dtype)} differs from "
                         f"output dtype {_ember_dtype_name(out.dtype)}")

    def splits(arr, sizes, name):
        rows = arr.shape[0] if arr.ndim else 1
        if sizes is None or len(sizes) == 0:
            if rows % n:
                raise ValueError(f"{what}: dim 0 of {name} ({rows}) is not divisible by the "
                                 f"group size {n}")
            sizes = [rows // n] * n
        sizes = [int(s) for s in sizes]
        if len(sizes) != n or sum(sizes) != rows:
            raise ValueError(f"{what}: {name} split sizes {sizes} must be {n} sizes summing "
                             f"to {rows}")
        row_bytes = (arr.size // rows if rows else 0) * arr.dtype.itemsize
        return [s * row_bytes for s in sizes]
    scounts = splits(inp, input_split_sizes, "input")
    rcounts = splits(out, output_split_sizes, "output")
    send, _ = _contig(inp)
    recv, back = _contig(out)

    def finish():
        if back is not None:
            back[...] = recv
        output._bump()
    return _alltoallv(pg, what, send, scounts, recv, rcounts, finish, async_op, [output])


def barrier(group=None, async_op=False, device_ids=None, timeout=None):  # noqa: ARG001 - NCCL's device choice; no GPU transport here
    """Block until every rank of the group has reached the barrier.

    Args:
        group: the process group (None: the default group).
        async_op: return a ``Work`` handle instead of waiting for the result.
        device_ids: NCCL's device choice; accepted and unused (no GPU transport).
        timeout: accepted; the group's timeout applies.

    Returns:
        A ``Work`` handle when ``async_op`` is True, else None (also None on a rank
        that is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> dist.barrier()
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    if pg is None:
        return None
    w = Work(pg, [pg._comm.Ibarrier()], None, "barrier")
    if async_op:
        return w
    w.wait(timeout)
    return None


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):  # noqa: ARG001 - every missing rank is always listed (the True behaviour)
    """A barrier that, on timeout, raises an error naming the ranks that did not arrive.

    Each rank records its arrival in the default group's store before waiting, so the
    error can name every rank that never came.

    Args:
        group: the process group (None: the default group).
        timeout: a ``datetime.timedelta`` (default: the group's timeout).
        wait_all_ranks: accepted; every missing rank is always listed (PyTorch's True
            behaviour).

    Returns:
        None; ``DistBackendError`` listing the missing ranks on timeout.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> import datetime
        >>> dist.monitored_barrier(timeout=datetime.timedelta(seconds=30))
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    if pg is None:
        return None
    pg._mb_seq += 1
    key = f"__ember/mb/{','.join(map(str, pg._ranks))}/{pg._mb_seq}/"
    store = _S.store
    store.set(key + str(pg._ranks[pg.rank()]), "1")
    t = pg._timeout if timeout is None else (
        timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else timeout)
    try:
        barrier(group, timeout=t)
    except DistBackendError as e:
        missing = [r for r in pg._ranks if not store.check([key + str(r)])]
        raise DistBackendError(f"monitored_barrier: rank(s) {missing} did not reach the "
                               f"barrier within {t:.1f}s ({e})") from None
    return None


# ------------------------------------------------------------------------ point to point
def _p2p(tensor, peer, group, tag, group_peer, what, is_send):
    arr = _check_tensor(tensor, what)
    pg = _pg(group)
    if pg is None:
        return None, None, None
    MPI = _mpi.mpi()
    if peer is None and group_peer is None and not is_send:
        p = MPI.ANY_SOURCE
    else:
        p = _root(pg, peer, group_peer, what, default_zero=False)
        if p == pg.rank():
            raise ValueError(f"{what}: invalid destination/source rank: it must not be this "
                             f"process's own rank ({pg._ranks[p]})")
    if is_send:
        buf, _ = _contig(arr)
        req = pg._comm.Isend([_mpi.byte_view(buf), MPI.BYTE], dest=p, tag=tag)
        return pg, Work(pg, [req], None, what, [tensor]), None
    buf, back = _contig(arr)
    status = [MPI.Status()]

    def finish():
        if back is not None:
            back[...] = buf
        tensor._bump()
    req = pg._comm.Irecv([_mpi.byte_view(buf), MPI.BYTE], source=p, tag=tag)
    return pg, Work(pg, [req], finish, what, [tensor], status), status


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst``, blocking until the message has been handed over.

    Sending to one's own rank raises ValueError, as in PyTorch, so point-to-point needs two
    ranks (``mpiexec -n 2``); the doctests skip the example for that reason.

    Args:
        tensor: the data to send.
        dst: the receiving rank in the default group's numbering.
        group: the process group (None: the default group).
        tag: a message tag matched by the receive.
        group_dst: the receiving rank in ``group``'s numbering (instead of ``dst``).

    Returns:
        None.

    Example:
        >>> import ember.distributed as dist
        >>> if dist.get_rank() == 0:  # doctest: +SKIP
        ...     dist.send(ember.arange(3.), dst=1)
        ... else:
        ...     buf = ember.zeros(3); dist.recv(buf, src=0)
    """
    pg, w, _ = _p2p(tensor, dst, group, tag, group_dst, "send", True)
    if w is not None:
        w.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src``, blocking until the message arrives.

    Receiving from one's own rank raises ValueError, as in PyTorch, so point-to-point needs two
    ranks (``mpiexec -n 2``); the doctests skip the example for that reason.

    Args:
        tensor: the buffer to fill (the sender's shape and dtype).
        src: the sending rank in the default group's numbering (None: any rank).
        group: the process group (None: the default group).
        tag: the message tag to match.
        group_src: the sending rank in ``group``'s numbering (instead of ``src``).

    Returns:
        The sender's rank (-1 when this process is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> buf = ember.zeros(3)
        >>> sender = dist.recv(buf)  # doctest: +SKIP
    """
    pg, w, status = _p2p(tensor, src, group, tag, group_src, "recv", False)
    if w is None:
        return -1
    w.wait()
    return pg._ranks[status[0].Get_source()]


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst`` and return at once.

    Do not modify ``tensor`` until the returned handle's ``wait()`` returns. Needs two ranks
    (sending to oneself raises ValueError), so the example is not run by the doctests.

    Args:
        tensor: the data to send.
        dst: the receiving rank in the default group's numbering.
        group: the process group (None: the default group).
        tag: a message tag matched by the receive.
        group_dst: the receiving rank in ``group``'s numbering (instead of ``dst``).

    Returns:
        A ``Work`` handle (None when this process is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> work = dist.isend(ember.ones(2), dst=1)  # doctest: +SKIP
        >>> work.wait()  # doctest: +SKIP
        True
    """
    return _p2p(tensor, dst, group, tag, group_dst, "isend", True)[1]


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` and return at once.

    Read ``tensor`` only after the returned handle's ``wait()`` returns. Needs two ranks
    (receiving from oneself raises ValueError), so the example is not run by the doctests.

    Args:
        tensor: the buffer to fill.
        src: the sending rank in the default group's numbering (None: any rank).
        group: the process group (None: the default group).
        tag: the message tag to match.
        group_src: the sending rank in ``group``'s numbering (instead of ``src``).

    Returns:
        A ``Work`` handle (None when this process is not a member of ``group``).

    Example:
        >>> import ember.distributed as dist
        >>> buf = ember.zeros(2)
        >>> dist.irecv(buf, src=0).wait()  # doctest: +SKIP
        True
    """
    return _p2p(tensor, src, group, tag, group_src, "irecv", False)[1]


class P2POp:
    """One send or receive for ``batch_isend_irecv``: the function (``isend`` or ``irecv``) and
    its arguments, not yet started.

    Args:
        op: ``dist.isend`` or ``dist.irecv`` (anything else raises ValueError).
        tensor: the tensor to send or receive into.
        peer: the other rank, in the default group's numbering.
        group: the process group (None: the default group).
        tag: the message tag.
        group_peer: the other rank in ``group``'s numbering (instead of ``peer``).

    Example:
        >>> import ember.distributed as dist
        >>> op = dist.P2POp(dist.isend, ember.ones(2), 1)
        >>> op.peer
        1
    """

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type "
                             "``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag
        self.group_peer = group_peer


def batch_isend_irecv(p2p_op_list):
    """Start every send and receive of ``p2p_op_list`` and return their handles.

    The usual ring exchange sends to the next rank and receives from the previous one; it
    needs two ranks or more, so the example is not run by the doctests.

    Args:
        p2p_op_list: a list of ``P2POp``.

    Returns:
        A list of ``Work`` handles, one per op; ``wait()`` on each before using the tensors.

    Example:
        >>> import ember.distributed as dist
        >>> rank, n = dist.get_rank(), dist.get_world_size()  # doctest: +SKIP
        >>> recv_buf = ember.zeros(2)
        >>> ops = [dist.P2POp(dist.isend, ember.ones(2), (rank + 1) % n),  # doctest: +SKIP
        ...        dist.P2POp(dist.irecv, recv_buf, (rank - 1) % n)]
        >>> for work in dist.batch_isend_irecv(ops):  # doctest: +SKIP
        ...     work.wait()
    """
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


# ------------------------------------------------------------------------ objects
def _raw_wait(pg, req, what):
    Work(pg, [req], None, what).wait()


def _allgather_obj(pg, obj, what):
    MPI = _mpi.mpi()
    data = np.frombuffer(pickle.dumps(obj), np.uint8)
    sizes = np.empty(pg.size(), np.int64)
    _raw_wait(pg, pg._comm.Iallgather([np.array([data.size], np.int64), MPI.INT64_T],
                                      [sizes, MPI.INT64_T]), what)
    recv = np.empty(int(sizes.sum()), np.uint8)
    displs = np.concatenate(([0], np.cumsum(sizes)[:-1])).tolist()
    _raw_wait(pg, pg._comm.Iallgatherv([data, MPI.BYTE],
                                       [recv, (sizes.tolist(), displs), MPI.BYTE]), what)
    return [pickle.loads(recv[d:d + s].tobytes()) for d, s in zip(displs, sizes.tolist())]


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):  # noqa: ARG001 - objects travel pickled over the CPU transport
    """Replace the items of ``object_list`` on every rank by rank ``src``'s (any picklable
    objects).

    Objects travel pickled: only pass objects from trusted ranks.

    Args:
        object_list: the objects to send on ``src``; a list of the same length elsewhere,
            filled in place.
        src: the sending rank in the default group's numbering (default 0).
        group: the process group (None: the default group).
        device: accepted; objects travel over the CPU transport.
        group_src: the sending rank in ``group``'s numbering (instead of ``src``).

    Returns:
        None.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> objs = [{"lr": 0.1}, "adam"] if dist.get_rank() == 0 else [None, None]
        >>> dist.broadcast_object_list(objs, src=0)
        >>> objs
        [{'lr': 0.1}, 'adam']
        >>> dist.destroy_process_group()
    """
    what = "broadcast_object_list"
    pg = _pg(group)
    if pg is None:
        return
    root = _root(pg, src, group_src, what)
    MPI = _mpi.mpi()
    mine = pg.rank() == root
    data = np.frombuffer(pickle.dumps(list(object_list)), np.uint8) if mine else None
    size = np.array([data.size if mine else 0], np.int64)
    _raw_wait(pg, pg._comm.Ibcast([size, MPI.INT64_T], root=root), what)
    buf = data.copy() if mine else np.empty(int(size[0]), np.uint8)
    _raw_wait(pg, pg._comm.Ibcast([buf, MPI.BYTE], root=root), what)
    if not mine:
        objs = pickle.loads(buf.tobytes())
        if len(objs) != len(object_list):
            raise ValueError(f"{what}: object_list has {len(object_list)} items here but "
                             f"{len(objs)} on the source rank")
        object_list[:] = objs


def all_gather_object(object_list, obj, group=None):
    """Gather every rank's ``obj`` into ``object_list`` on every rank (any picklable object).

    Objects travel pickled: only pass objects from trusted ranks.

    Args:
        object_list: a list of ``world_size`` slots, filled in place (slot i: rank i's).
        obj: this rank's object.
        group: the process group (None: the default group).

    Returns:
        None.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = [None] * dist.get_world_size()
        >>> dist.all_gather_object(out, {"rank": dist.get_rank()})
        >>> out
        [{'rank': 0}]
        >>> dist.destroy_process_group()
    """
    pg = _pg(group)
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} slots, "
                         f"expected the group size {pg.size()}")
    object_list[:] = _allgather_obj(pg, obj, "all_gather_object")


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Gather every rank's ``obj`` into ``object_gather_list`` on rank ``dst``.

    Objects travel pickled: only pass objects from trusted ranks.

    Args:
        obj: this rank's object.
        object_gather_list: on ``dst``, a list of ``world_size`` slots filled in place; None
            on the other ranks.
        dst: the receiving rank in the default group's numbering (default 0).
        group: the process group (None: the default group).
        group_dst: the receiving rank in ``group``'s numbering (instead of ``dst``).

    Returns:
        None.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
        >>> dist.gather_object({"loss": 1.5}, out, dst=0)
        >>> out
        [{'loss': 1.5}]
        >>> dist.destroy_process_group()
    """
    what = "gather_object"
    pg = _pg(group)
    if pg is None:
        return
    root = _root(pg, dst, group_dst, what)
    mine = pg.rank() == root
    if mine and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError(f"{what}: the destination rank needs object_gather_list with "
                         f"{pg.size()} slots")
    MPI = _mpi.mpi()
    data = np.frombuffer(pickle.dumps(obj), np.uint8)
    sizes = np.empty(pg.size(), np.int64) if mine else None
    _raw_wait(pg, pg._comm.Igather([np.array([data.size], np.int64), MPI.INT64_T],
                                   [sizes, MPI.INT64_T] if mine else None, root=root), what)
    if mine:
        recv = np.empty(int(sizes.sum()), np.uint8)
        displs = np.concatenate(([0], np.cumsum(sizes)[:-1])).tolist()
        rspec = [recv, (sizes.tolist(), displs), MPI.BYTE]
    else:
        rspec = None
    _raw_wait(pg, pg._comm.Igatherv([data, MPI.BYTE], rspec, root=root), what)
    if mine:
        object_gather_list[:] = [pickle.loads(recv[d:d + s].tobytes())
                                 for d, s in zip(displs, sizes.tolist())]


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """Send ``scatter_object_input_list[i]`` from rank ``src`` to rank i, which finds it in
    ``scatter_object_output_list[0]``.

    Objects travel pickled: only pass objects from trusted ranks.

    Args:
        scatter_object_output_list: a list of at least one slot; slot 0 is filled in place.
        scatter_object_input_list: on ``src``, ``world_size`` objects; None elsewhere.
        src: the sending rank in the default group's numbering (default 0).
        group: the process group (None: the default group).
        group_src: the sending rank in ``group``'s numbering (instead of ``src``).

    Returns:
        None.

    Example:
        >>> import ember.distributed as dist
        >>> dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        >>> out = [None]
        >>> shards = [f"shard-{r}" for r in range(dist.get_world_size())]
        >>> dist.scatter_object_list(out, shards if dist.get_rank() == 0 else None, src=0)
        >>> out
        ['shard-0']
        >>> dist.destroy_process_group()
    """
    what = "scatter_object_list"
    pg = _pg(group)
    if pg is None:
        return
    root = _root(pg, src, group_src, what)
    objs = [None]
    if pg.rank() == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != pg.size():
            raise ValueError(f"{what}: the source rank needs {pg.size()} input objects")
        objs = [list(scatter_object_input_list)]
    broadcast_object_list(objs, src=None, group=group, group_src=root)
    scatter_object_output_list[0] = objs[0][pg.rank()]


__all__ = [
    "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
    "all_to_all_single", "Backend", "barrier", "batch_isend_irecv", "broadcast",
    "broadcast_object_list", "DebugLevel", "default_pg_timeout", "destroy_process_group", "gather",
    "gather_object", "get_backend", "get_debug_level", "get_global_rank", "get_group_rank",
    "get_node_local_rank", "get_process_group_ranks", "get_rank", "get_world_size", "group",
    "GroupMember", "init_process_group", "irecv", "is_available", "is_gloo_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "is_torchelastic_launched", "isend",
    "monitored_barrier", "new_group", "P2POp", "PrefixStore", "ProcessGroup", "recv", "RedOpType",
    "reduce", "reduce_op", "reduce_scatter", "reduce_scatter_tensor", "ReduceOp", "scatter",
    "scatter_object_list", "send", "set_debug_level", "set_debug_level_from_env", "Store", "Work"
]
