"""Joining independently started processes into one MPI communicator.

NOTE [ The spawn path ]
Processes started by ``mp.spawn``/``multiprocessing`` or by hand each initialize MPI on
their own, as one-process worlds. To give them one communicator, rank 0 opens an MPI port
(``MPI_Open_port``) and publishes its name in the rendezvous store; the others read it and
``MPI_Comm_connect``; after each connection the intercommunicator is merged
(``MPI_Intercomm_merge``) and the growing group accepts the next process, until all
``world_size`` are in; a final split orders ranks as asked. Only the port name goes through
the store: the data path is MPI's.

What works here (measured with the mpich 5.0.2 wheel): processes each started with
``mpiexec -n 1`` join this way. Bare singletons (no launcher at all, which is what
``mp.spawn`` makes) cannot: MPICH 5.0 gives every singleton the same process identity and
refuses the connection ("MPIDI_check_disjoint_lpids ... both contain process 0",
pmodels/mpich#7805); Open MPI and older MPICH accept it. That failure is reported at once
(both sides fail, nothing hangs) with what to do instead.
"""

from __future__ import annotations

import time

from ember.distributed import _mpi
from ember.distributed._store import DistBackendError

_PORT_KEY = "__ember/spawn/port"
_ARRIVED = "__ember/spawn/arrived/"


def join_singletons(store, rank, world_size, timeout):
    """Return an intracommunicator of ``world_size`` processes ordered by ``rank``."""
    MPI = _mpi.mpi()
    # MPI_Comm_accept has no timeout: publish the port only once every rank has arrived, so
    # a rank that never starts fails the rendezvous (naming it) instead of hanging the rest.
    store.set(f"{_ARRIVED}{rank}", "1")
    if rank == 0:
        t = timeout.total_seconds()
        deadline = time.monotonic() + t
        while True:
            missing = [r for r in range(world_size) if not store.check([f"{_ARRIVED}{r}"])]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise DistBackendError(f"init_process_group: rank(s) {missing} did not join "
                                       f"the rendezvous within {t:.0f}s")
            time.sleep(0.01)
    try:
        if rank == 0:
            port = MPI.Open_port()
            store.set(_PORT_KEY, port)
            comm = MPI.COMM_SELF
            try:
                while comm.Get_size() < world_size:
                    comm = _grow(comm.Accept(port, root=0), False, comm)
            finally:
                MPI.Close_port(port)
        else:
            port = store.get(_PORT_KEY).decode()
            comm = _grow(MPI.COMM_SELF.Connect(port, root=0), True, None)
            while comm.Get_size() < world_size:
                comm = _grow(comm.Accept(port, root=0), False, comm)
    except MPI.Exception as e:
        _mpi.FAILED[0] = True
        raise DistBackendError(
            "init_process_group: could not join the independently started processes into "
            f"one MPI communicator ({str(e).splitlines()[0]} ...). With MPICH 5.0, "
            "processes started without a launcher (mp.spawn, multiprocessing) cannot connect "
            "(pmodels/mpich#7805). Start the ranks with `python -m ember.distributed.run`, "
            "`mpiexec -n N`, or each one under `mpiexec -n 1`.") from None
    return comm.Split(0, rank)


def _grow(inter, high, old):
    merged = inter.Merge(high=high)
    inter.Free()
    if old is not None and old != _mpi.mpi().COMM_SELF:
        old.Free()
    return merged
