"""Loading MPI (mpi4py) once, finalizing it safely, and mapping dtypes to MPI types.

NOTE [ Finalize ]
mpi4py finalizes MPI at interpreter exit by default. MPI_Finalize waits for peers (MPICH
synchronizes through its process manager), so a process whose peer died would hang at exit
after having correctly raised the peer-lost error. We turn mpi4py's automatic finalize off
and finalize from our own ``atexit`` handler, skipped once a failure was seen.
"""

from __future__ import annotations

import atexit
import importlib.util
import os

import numpy as np

_MPI = None
FAILED = [False]  # set when a peer was lost or this rank dies with an exception
AT_EXIT = []  # callables run at interpreter exit before MPI_Finalize (the watchdog's mark)

# Environment variables that MPI launchers set in the processes they start.
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "PMI_FD", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE",
                  "MV2_COMM_WORLD_SIZE", "HYDRA_CONTROL_FD")


def available():
    """Whether mpi4py can be imported (without initializing MPI)."""
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):  # a broken or blocked (sys.modules entry None) mpi4py
        return False


def launched_by_mpi():
    """Whether this process was started by an MPI launcher (mpiexec, srun --mpi)."""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def mpi():
    """The ``mpi4py.MPI`` module, initializing MPI on first use."""
    global _MPI
    if _MPI is None:
        if not available():
            raise RuntimeError("ember.distributed needs MPI: pip install 'ember[dist]' "
                               "(installs mpi4py and the mpich wheel)")
        import mpi4py

        mpi4py.rc.finalize = False  # NOTE [ Finalize ]
        from mpi4py import MPI

        _MPI = MPI
        atexit.register(_finalize)
    return _MPI


def _finalize():
    for fn in AT_EXIT:
        try:
            fn()
        except Exception:  # noqa: BLE001 - best effort while exiting
            pass
    MPI = _MPI
    if FAILED[0] or MPI is None:
        return
    if MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.Finalize()


def byte_view(arr):
    """A flat uint8 view of a C-contiguous array (any dtype travels as bytes)."""
    return arr.reshape(-1).view(np.uint8)


def reduce_type(dtype):
    """(MPI datatype, numpy dtype to reduce in) for a numpy dtype."""
    MPI = mpi()
    table = _REDUCE_TYPES.get(None)
    if table is None:
        table = {
            np.dtype(np.float32): MPI.FLOAT, np.dtype(np.float64): MPI.DOUBLE,
            np.dtype(np.int8): MPI.INT8_T, np.dtype(np.int16): MPI.INT16_T,
            np.dtype(np.int32): MPI.INT32_T, np.dtype(np.int64): MPI.INT64_T,
            np.dtype(np.uint8): MPI.UINT8_T, np.dtype(np.bool_): MPI.C_BOOL,
            np.dtype(np.complex64): MPI.C_FLOAT_COMPLEX,
            np.dtype(np.complex128): MPI.C_DOUBLE_COMPLEX,
        }
        _REDUCE_TYPES[None] = table
    t = table.get(dtype)
    if t is not None:
        return t, dtype
    if dtype.itemsize == 2 and dtype.kind in "fV":
        # float16 and bfloat16 (ml_dtypes): MPI has no such types; reduce in float32.
        return MPI.FLOAT, np.dtype(np.float32)
    raise TypeError(f"ember.distributed: no MPI reduction for dtype {dtype}")


_REDUCE_TYPES = {}
