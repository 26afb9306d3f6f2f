"""Independently started ranks (the mp.spawn / env:// path): NOTE [ The spawn path ]."""

import pytest
from dist_helpers import mpi_library, needs_mpi, run_independent


@needs_mpi
@pytest.mark.parametrize("how", ["env", pytest.param("tcp", marks=pytest.mark.slow),
                                 pytest.param("file", marks=pytest.mark.slow)])
def test_ranks_each_under_mpiexec_join(tmp_path, how):
    res, codes = run_independent(2, "sum", tmp_path, under_mpiexec=True, how=how)
    assert codes == [0, 0], res
    for r in range(2):
        assert res[r] == {"rank": r, "size": 2, "sum": 3.0}, res


@needs_mpi
def test_single_bare_process_world_of_one(tmp_path):
    res, codes = run_independent(1, "sum", tmp_path, under_mpiexec=False)
    assert codes == [0] and res[0] == {"rank": 0, "size": 1, "sum": 1.0}, res


@needs_mpi
def test_bare_singletons_join_or_fail_fast_with_the_reason(tmp_path):
    # What mp.spawn makes. Open MPI and older MPICH join them; MPICH 5.0 cannot
    # (pmodels/mpich#7805), and then both ranks must fail at once with the documented advice.
    res, codes = run_independent(2, "sum", tmp_path, under_mpiexec=False, timeout=60)
    if mpi_library().startswith("MPICH 5.0"):
        for r in range(2):
            assert "pmodels/mpich#7805" in res[r]["error"], res
            assert "ember.distributed.run" in res[r]["error"]
    else:
        assert res == {r: {"rank": r, "size": 2, "sum": 3.0} for r in range(2)}, res


@needs_mpi
def test_missing_rank_fails_the_rendezvous_by_name(tmp_path):
    res, codes = run_independent(2, "sum", tmp_path, under_mpiexec=True, ranks=[0])
    assert "rank(s) [1] did not join the rendezvous" in res[0]["error"], res
