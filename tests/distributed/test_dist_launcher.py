"""python -m ember.distributed.run: torchrun's flags and environment, and Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

import pytest
from dist_helpers import WORKERS, clean_env, needs_mpi

from ember.distributed._bootstrap import torchrun_env


def _launch(*args, env=None, **kw):
    cmd = [sys.executable, "-m", "ember.distributed.run", *map(str, args)]
    return cmd, {**clean_env(), **(env or {})}


def test_torchrun_env_from_hydra_and_slurm():
    hydra = torchrun_env({"PMI_RANK": "3", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1",
                          "MPI_LOCALNRANKS": "2"})
    assert hydra == {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1",
                     "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "1", "GROUP_WORLD_SIZE": "2",
                     "ROLE_RANK": "3", "ROLE_WORLD_SIZE": "4"}
    slurm = torchrun_env({"SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1",
                          "SLURM_NTASKS_PER_NODE": "4"})
    assert (slurm["RANK"], slurm["LOCAL_RANK"], slurm["GROUP_RANK"]) == ("5", "1", "1")
    assert torchrun_env({})["WORLD_SIZE"] == "1"


def test_bad_flags_are_refused():
    from ember.distributed.run import main

    for argv in (["--nnodes", "1:4", "x.py"], ["--max_restarts", "2", "x.py"]):
        try:
            main(argv)
        except NotImplementedError:
            continue
        raise AssertionError(f"{argv} accepted")


@needs_mpi
def test_pytorch_ddp_script_runs_unchanged_with_as_torch(tmp_path):
    # `import torch` in the script: ember.as_torch maps it, and reaches the ranks mpiexec
    # starts through PYTHONPATH (NOTE [ as_torch in child processes ]).
    cmd = [sys.executable, "-m", "ember.as_torch", "-m", "ember.distributed.run",
           "--standalone", "--nproc_per_node", "2",
           os.path.join(WORKERS, "torch_ddp_script.py"), "--epochs", "1"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       env={**clean_env(), "OUT_DIR": str(tmp_path)})
    assert p.returncode == 0, p.stdout + p.stderr
    for r in range(2):
        assert f"rank {r} local_rank {r} done on ember" in p.stdout
    assert (tmp_path / "model.pt").exists()


@needs_mpi
@pytest.mark.slow
def test_examples_style_ddp_script_runs_unchanged(tmp_path):
    cmd, env = _launch("--standalone", "--nproc_per_node", 2,
                       os.path.join(WORKERS, "example_ddp.py"), "--epochs", 2,
                       env={"OUT_DIR": str(tmp_path)})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    for r in range(2):
        assert f"rank {r} local_rank {r} done" in p.stdout
    import ember

    sd = ember.load(str(tmp_path / "model.pt"))
    assert sorted(sd) == ["module.net1.bias", "module.net1.weight", "module.net2.bias",
                          "module.net2.weight"]


@needs_mpi
@pytest.mark.slow
def test_failed_rank_fails_the_launcher_with_a_rank_table(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import os, sys\nimport ember.distributed as dist\n"
                      "dist.init_process_group('gloo')\n"
                      "sys.exit(3) if dist.get_rank() == 1 else dist.barrier()\n")
    cmd, env = _launch("--standalone", "--nproc_per_node", 2, script)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode != 0
    assert "the job failed" in p.stderr and "rank 1: pid" in p.stderr, p.stderr


@needs_mpi
def test_ctrl_c_ends_every_rank(tmp_path):
    cmd, env = _launch("--standalone", "--nproc_per_node", 2,
                       os.path.join(WORKERS, "sleeper.py"), tmp_path)
    # SIGINT's default disposition for the launcher: a test run started in the background by
    # a non-interactive shell ignores SIGINT, and children inherit that (Ctrl-C never
    # reaches a terminal's job that way, so the launcher rightly keeps the setting)
    launcher = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    pids = []
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"pid{r}").exists() for r in range(2)):
            assert time.monotonic() < deadline, "ranks did not start"
            assert launcher.poll() is None, launcher.communicate()
            time.sleep(0.1)
        time.sleep(0.2)
        pids[:] = [int((tmp_path / f"pid{r}").read_text()) for r in range(2)]
        t0 = time.monotonic()
        launcher.send_signal(signal.SIGINT)
        launcher.communicate(timeout=30)
        assert time.monotonic() - t0 < 15
        assert launcher.returncode != 0
        time.sleep(0.2)
        for pid in pids:
            assert not _alive(pid), f"rank pid {pid} survived Ctrl-C"
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for pid in pids:  # ranks left behind would hold the pipes open: no hang on them
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            launcher.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie awaiting its parent counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@needs_mpi
@pytest.mark.slow
def test_hostfile_job_from_node_rank_0(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# one machine standing in for two nodes\nlocalhost:4\n")
    script = tmp_path / "env.py"
    # each rank writes its line to a file: what is checked is the ranks' environment and
    # their all_reduce, not the forwarding of their stdout through mpiexec (which dropped
    # the lines once in a CI-like run on this machine; see the session note of 2026-12-06)
    script.write_text("import os\nimport ember, ember.distributed as dist\n"
                      "dist.init_process_group('gloo')\nt = ember.ones(1)\ndist.all_reduce(t)\n"
                      f"open(os.path.join({str(tmp_path)!r}, 'R' + os.environ['RANK']), 'w')"
                      ".write(' '.join(['R', os.environ['RANK'], os.environ['WORLD_SIZE'], "
                      "os.environ['MASTER_ADDR'], str(int(t.item()))]))\n")
    from dist_helpers import free_port

    cmd, env = _launch("--nnodes", 2, "--nproc_per_node", 1, "--hostfile", hosts,
                       "--master_port", free_port(), script)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted((tmp_path / f"R{r}").read_text() for r in range(2)) == \
        ["R 0 2 localhost 2", "R 1 2 localhost 2"]
    # the torchrun habit of one launcher per node: the others do nothing
    cmd, env = _launch("--nnodes", 2, "--node_rank", 1, script)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0 and "node_rank 0" in p.stderr
