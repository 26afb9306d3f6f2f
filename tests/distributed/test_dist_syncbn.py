"""SyncBatchNorm in a process group against one BatchNorm over the whole batch
(workers/syncbn.py), on 2 ranks."""

import pytest
from dist_helpers import check_names, needs_mpi, worker_results

CHECKS = check_names("syncbn.py")


@needs_mpi
@pytest.mark.parametrize("check", CHECKS)
def test_syncbn(check, tmp_path_factory):
    for r, res in enumerate(worker_results("syncbn.py", 2, tmp_path_factory)):
        assert res.get(check) == "ok", f"rank {r} of 2:\n{res.get(check)}"


def test_checks_found():
    assert len(CHECKS) >= 6
