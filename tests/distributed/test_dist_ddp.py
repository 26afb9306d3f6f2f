"""DistributedDataParallel on 2 ranks against single-process training (workers/ddp.py)."""

import pytest
from dist_helpers import check_names, needs_mpi, worker_results

CHECKS = check_names("ddp.py")


@needs_mpi
@pytest.mark.parametrize("check", CHECKS)
def test_ddp(check, tmp_path_factory):
    for r, res in enumerate(worker_results("ddp.py", 2, tmp_path_factory)):
        assert res.get(check) == "ok", f"rank {r}:\n{res.get(check)}"


def test_checks_found():
    assert len(CHECKS) >= 10
