"""Run in every rank before the user's script: MPI launcher variables -> torchrun's.

``python -m ember.distributed._bootstrap [-m | --no-python] target args...``. It reads the
rank from the MPI launcher (hydra: PMI_RANK/PMI_SIZE/MPI_LOCALRANKID/MPI_LOCALNRANKS; Open
MPI: OMPI_COMM_WORLD_*; Slurm: SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID) without
initializing MPI, exports RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
ROLE_RANK, ROLE_WORLD_SIZE, GROUP_WORLD_SIZE, and runs the target as ``__main__``.
"""

from __future__ import annotations

import os
import runpy
import sys

_SOURCES = (  # (rank, size, local rank, local size)
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"),
)


def torchrun_env(environ=None):
    """The torchrun variables for this rank, from the MPI launcher's (a dict)."""
    e = os.environ if environ is None else environ
    for rk, sz, lrk, lsz in _SOURCES:
        if rk in e and sz in e:
            rank, size = int(e[rk]), int(e[sz])
            per_node = int(e.get("EMBER_NPROC_PER_NODE", 0)) or None
            local = int(e[lrk]) if lrk in e else rank % (per_node or size)
            local_size = int(e[lsz].split("(")[0]) if lsz in e else (per_node or size)
            break
    else:
        rank, size, local, local_size = 0, 1, 0, 1
    node = rank // local_size if local_size else 0
    nnodes = max(1, -(-size // local_size)) if local_size else 1
    return {"RANK": str(rank), "WORLD_SIZE": str(size), "LOCAL_RANK": str(local),
            "LOCAL_WORLD_SIZE": str(local_size), "GROUP_RANK": str(node),
            "GROUP_WORLD_SIZE": str(nnodes), "ROLE_RANK": str(rank),
            "ROLE_WORLD_SIZE": str(size)}


def run(target):
    """Export the torchrun variables and run ``target`` (``[-m|--no-python] name args...``)."""
    env = torchrun_env()
    os.environ.update(env)
    run_dir = os.environ.get("EMBER_RUN_DIR")
    if run_dir:
        # Tell the launcher which process is which rank, for its failure report.
        with open(os.path.join(run_dir, f"rank{env['RANK']}"), "w") as f:
            f.write(f"{os.getpid()} {os.uname().nodename}")
    if not target:
        raise SystemExit("ember.distributed._bootstrap: nothing to run")
    if target[0] == "--no-python":
        os.execvp(target[1], target[1:])
    if target[0] == "-m":
        sys.argv = [target[1]] + target[2:]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
        return 0
    script = target[0]
    sys.argv = list(target)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
