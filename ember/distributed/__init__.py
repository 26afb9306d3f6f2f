"""ember.distributed: PyTorch's ``torch.distributed`` API on MPI (mpi4py).

``backend="mpi"`` is the native name and ``"gloo"`` is accepted and served by MPI, so
PyTorch programs run unchanged. Start ranks with ``mpiexec -n N python train.py``, with
``python -m ember.distributed.run --nproc_per_node N train.py`` (torchrun's flags), or as
independent processes rendezvousing through ``init_method``/``store`` (see NOTE [ The spawn
path ] in ``_spawn.py`` for what MPICH allows there). Needs the ``dist`` extra:
``pip install 'ember[dist]'`` (mpi4py and the mpich wheel, which provides ``mpiexec``).

Example:
    >>> import ember
    >>> import ember.distributed as dist
    >>> dist.init_process_group("gloo")
    >>> t = ember.ones(4) * (dist.get_rank() + 1)
    >>> dist.all_reduce(t)
"""

from ember.distributed._c10d import (  # noqa: F401
    Backend, DebugLevel, GroupMember, P2POp, ProcessGroup, RedOpType, ReduceOp, Work, all_gather,
    all_gather_into_tensor, all_gather_object, all_reduce, all_to_all, all_to_all_single,
    barrier, batch_isend_irecv, broadcast, broadcast_object_list, default_pg_timeout,
    destroy_process_group, gather, gather_object, get_backend, get_global_rank,
    get_group_rank, get_node_local_rank, get_process_group_ranks, get_rank, get_world_size, group,
    init_process_group, irecv, is_available, is_gloo_available, is_initialized,
    is_mpi_available, is_nccl_available, is_torchelastic_launched, isend, monitored_barrier,
    new_group, recv, reduce, reduce_op, reduce_scatter, reduce_scatter_tensor, scatter,
    scatter_object_list, send, set_debug_level, set_debug_level_from_env, get_debug_level)
from ember.distributed._store import (  # noqa: F401
    DistBackendError, DistError, DistNetworkError, DistStoreError, FileStore, HashStore,
    PrefixStore, Store, TCPStore)

from ember.distributed import _c10d as distributed_c10d  # noqa: F401  (PyTorch's name)


__all__ = [
    "Backend", "DebugLevel", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError",
    "FileStore", "GroupMember", "HashStore", "P2POp", "PrefixStore", "ProcessGroup",
    "RedOpType", "ReduceOp", "Store", "TCPStore", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
    "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast", "broadcast_object_list",
    "default_pg_timeout", "destroy_process_group", "gather", "gather_object", "get_backend",
    "get_global_rank", "get_group_rank", "get_node_local_rank", "get_process_group_ranks",
    "get_rank", "get_world_size", "group", "init_process_group", "irecv", "is_available",
    "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
    "is_torchelastic_launched", "isend", "monitored_barrier", "new_group", "recv", "reduce",
    "reduce_op", "reduce_scatter", "reduce_scatter_tensor", "scatter", "scatter_object_list",
    "send", "set_debug_level", "set_debug_level_from_env", "get_debug_level",
]
