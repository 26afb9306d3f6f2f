"""DistributedDataParallel against single-process training (workers/ddp.py), on 2 ranks and
(slow) 3 ranks, where join's uneven inputs are 1, 2 and 3 batches."""

import pytest
from dist_helpers import check_names, needs_mpi, worker_results

CHECKS = check_names("ddp.py")


@needs_mpi
@pytest.mark.parametrize("n", [2, pytest.param(3, marks=pytest.mark.slow)])
@pytest.mark.parametrize("check", CHECKS)
def test_ddp(check, n, tmp_path_factory):
    for r, res in enumerate(worker_results("ddp.py", n, tmp_path_factory)):
        assert res.get(check) == "ok", f"rank {r} of {n}:\n{res.get(check)}"


def test_checks_found():
    assert len(CHECKS) >= 12
