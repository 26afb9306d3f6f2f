"""A rank that raises or dies ends the others within the group's timeout (4 s in the workers),
with an error naming the lost rank, never a hang: NOTE [ Lost ranks ] in _c10d.py."""

import json
import subprocess
import sys
import time

import pytest
from dist_helpers import clean_env, mpiexec_path, needs_mpi, run_independent, run_mpi

TIMEOUT = 4.0


@needs_mpi
def test_rank_raising_is_named_by_the_others(tmp_path):
    # hydra would kill the survivor at once; -disable-auto-cleanup lets it see the failure.
    t0 = time.monotonic()
    p = run_mpi(2, "failure.py", tmp_path, "raise", mpi_args=["-disable-auto-cleanup"],
                timeout=60)
    wall = time.monotonic() - t0
    res = json.loads((tmp_path / "survivor.json").read_text())
    assert res["error"] == "DistBackendError", res
    assert "rank 1 failed with ValueError: boom on purpose" in res["message"]
    assert res["elapsed"] < TIMEOUT  # the failure mark is seen before the timeout
    assert p.returncode != 0 and wall < 45


@needs_mpi
def test_killed_rank_ends_an_mpiexec_job(tmp_path):
    # A rank killed by a signal: mpiexec (hydra) ends the rest of the job itself.
    t0 = time.monotonic()
    p = run_mpi(2, "failure.py", tmp_path, "kill", timeout=60)
    assert p.returncode != 0 and time.monotonic() - t0 < 45
    assert "BAD TERMINATION" in p.stdout + p.stderr


@needs_mpi
@pytest.mark.parametrize("mode,lost", [("kill", 1),
                                       pytest.param("kill0", 0, marks=pytest.mark.slow)])
def test_killed_rank_is_named_by_independent_ranks(tmp_path, mode, lost):
    # Ranks in separate mpiexec jobs (the spawn path): only the watchdog can tell.
    res, codes = run_independent(2, mode, tmp_path, under_mpiexec=True)
    survivor = res[1 - lost]
    assert survivor["sum"] == 3.0, res
    assert survivor["after"].startswith("DistBackendError"), res
    assert f"rank {lost}" in survivor["after"] or f"rank(s) [{lost}]" in survivor["after"]
    assert survivor["elapsed"] < TIMEOUT + 1.5
    assert codes[lost] != 0


@needs_mpi
def test_exit_without_destroy_does_not_hang(tmp_path):
    # Rank 0 (the store's host) reaches MPI_Finalize first; rank 1's exit mark must not wait
    # for rank 0's store server, or both would wait for each other.
    script = tmp_path / "exit.py"
    script.write_text("import time\nimport ember, ember.distributed as dist\n"
                      "dist.init_process_group('mpi')\ndist.all_reduce(ember.ones(1))\n"
                      "time.sleep(0.5 * dist.get_rank())\n")
    t0 = time.monotonic()
    p = subprocess.run([mpiexec_path(), "-n", "2", sys.executable, str(script)],
                       capture_output=True, text=True, timeout=60, env=clean_env())
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t0 < 30


@needs_mpi
def test_monitored_barrier_names_the_missing_rank(tmp_path):
    script = tmp_path / "mb.py"
    script.write_text(
        "import datetime, json, sys, time\nimport ember.distributed as dist\n"
        "dist.init_process_group('mpi')\n"
        "if dist.get_rank() == 1:\n    time.sleep(4)\nelse:\n"
        "    try:\n        dist.monitored_barrier(timeout=datetime.timedelta(seconds=1.5))\n"
        "        msg = 'no error'\n    except dist.DistBackendError as e:\n        msg = str(e)\n"
        f"    open({str(tmp_path / 'out.txt')!r}, 'w').write(msg)\n")
    subprocess.run([mpiexec_path(), "-n", "2", sys.executable, str(script)],
                   capture_output=True, text=True, timeout=60, env=clean_env())
    msg = (tmp_path / "out.txt").read_text()
    assert "monitored_barrier: rank(s) [1] did not reach the barrier" in msg, msg
