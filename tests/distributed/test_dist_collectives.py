"""Every collective, ReduceOp and dtype against locally computed values, under mpiexec.

One MPI job per world size runs all checks (tests/distributed/workers/collectives.py); each
check becomes a test here.
"""

import ast
import json
import os

import pytest

from dist_helpers import WORKERS, needs_mpi, run_mpi

with open(os.path.join(WORKERS, "collectives.py")) as f:
    CHECKS = [n.name for n in ast.parse(f.read()).body
              if isinstance(n, ast.FunctionDef) and n.name.startswith("check_")]

_RESULTS = {}


def _results(n, tmp_path_factory):
    if n not in _RESULTS:
        out = tmp_path_factory.mktemp(f"coll{n}")
        p = run_mpi(n, "collectives.py", out)
        ranks = []
        for r in range(n):
            path = out / f"rank{r}.json"
            assert path.exists(), f"rank {r} wrote no results:\n{p.stdout}\n{p.stderr}"
            ranks.append(json.loads(path.read_text()))
        assert p.returncode == 0, p.stderr
        _RESULTS[n] = ranks
    return _RESULTS[n]


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("check", CHECKS)
def test_collective(check, n, tmp_path_factory):
    for r, res in enumerate(_results(n, tmp_path_factory)):
        assert res.get(check) == "ok", f"rank {r} of {n}:\n{res.get(check)}"


def test_checks_found():
    assert len(CHECKS) >= 15
