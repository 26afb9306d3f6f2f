"""Every collective, ReduceOp and dtype against locally computed values, under mpiexec.

One MPI job per world size runs all checks (workers/collectives.py); each check becomes a
test here. Three ranks cover the uneven cases (all_to_all sizes, groups that leave a rank out).
"""

import pytest
from dist_helpers import check_names, needs_mpi, worker_results

CHECKS = check_names("collectives.py")


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("check", CHECKS)
def test_collective(check, n, tmp_path_factory):
    for r, res in enumerate(worker_results("collectives.py", n, tmp_path_factory)):
        assert res.get(check) == "ok", f"rank {r} of {n}:\n{res.get(check)}"


def test_checks_found():
    assert len(CHECKS) >= 15
