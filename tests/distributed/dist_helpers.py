"""Helpers for tests that start MPI jobs: they skip, with the reason, without the dist extra."""

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

WORKERS = os.path.join(os.path.dirname(__file__), "workers")
try:
    HAVE_MPI = importlib.util.find_spec("mpi4py") is not None
except (ImportError, ValueError):
    HAVE_MPI = False


def mpiexec_path():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


needs_mpi = pytest.mark.skipif(
    not HAVE_MPI or mpiexec_path() is None,
    reason="needs MPI: pip install 'ember[dist]' (mpi4py and the mpich wheel with mpiexec)")


def clean_env():
    """This environment without MPI launcher variables (pytest itself may run under one)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "MPI_LOCAL", "HYDRA_"))}
    for k in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(k, None)
    env["OMP_NUM_THREADS"] = "1"
    return env


def run_mpi(n, script, *args, timeout=120, mpi_args=(), env=None):
    """Run ``workers/<script>`` under ``mpiexec -n n``; returns the CompletedProcess."""
    cmd = [mpiexec_path(), *mpi_args, "-n", str(n), sys.executable,
           os.path.join(WORKERS, script), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=env or clean_env())


def check_names(script):
    """The check_* functions a worker script defines, in order."""
    import ast

    with open(os.path.join(WORKERS, script)) as f:
        return [n.name for n in ast.parse(f.read()).body
                if isinstance(n, ast.FunctionDef) and n.name.startswith("check_")]


_RESULTS = {}


def worker_results(script, n, tmp_path_factory):
    """Run a check-worker once per (script, n) and return each rank's {check: result}."""
    import json

    key = (script, n)
    if key not in _RESULTS:
        out = tmp_path_factory.mktemp(script.replace(".py", "") + str(n))
        p = run_mpi(n, script, out)
        ranks = []
        for r in range(n):
            path = out / f"rank{r}.json"
            assert path.exists(), f"rank {r} wrote no results:\n{p.stdout}\n{p.stderr}"
            ranks.append(json.loads(path.read_text()))
        assert p.returncode == 0, p.stderr
        _RESULTS[key] = ranks
    return _RESULTS[key]


def free_port():
    """A free port below Linux's ephemeral range (32768-60999), so that no socket of the
    ranks themselves (a client's outgoing port, MPI's own listeners) can take it between
    this call and the master's bind."""
    import random
    import socket

    for _ in range(100):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32000")


def run_independent(n, mode, out_dir, under_mpiexec, how="env", timeout=60, ranks=None):
    """Start ``n`` independent ranks of workers/spawned.py (bare, as mp.spawn would, or each
    under its own ``mpiexec -n 1``), or only ``ranks`` of them; returns ({rank: result dict},
    [return codes])."""
    import json

    env = clean_env()
    env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()), WORLD_SIZE=str(n))
    procs = []
    for r in range(n) if ranks is None else ranks:
        cmd = [sys.executable, os.path.join(WORKERS, "spawned.py"), str(out_dir), mode, how]
        if under_mpiexec:
            cmd = [mpiexec_path(), "-n", "1", *cmd]
        procs.append(subprocess.Popen(cmd, env={**env, "RANK": str(r)},
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    codes = []
    for p in procs:
        try:
            p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        codes.append(p.returncode)
    results = {}
    for r in range(n):
        path = os.path.join(str(out_dir), f"rank{r}.json")
        if os.path.exists(path):
            with open(path) as f:
                results[r] = json.load(f)
    return results, codes


def mpi_library():
    """"MPICH 5.0.2", "Open MPI v5.0.3", ... (asked in a subprocess: MPI stays out of pytest)."""
    code = ("from mpi4py import MPI; v = MPI.Get_library_version(); "
            "print('MPICH ' + v.split('MPICH Version:')[1].split()[0] if 'MPICH Version:' in v "
            "else v.splitlines()[0])")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=clean_env()).stdout.strip()
