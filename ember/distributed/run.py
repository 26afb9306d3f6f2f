"""``python -m ember.distributed.run``: torchrun's command line, ranks started by mpiexec.

Usage (one machine)::

    python -m ember.distributed.run --standalone --nproc_per_node 4 train.py --epochs 3

Each rank sees torchrun's environment: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
GROUP_RANK, MASTER_ADDR, MASTER_PORT (and ROLE_*, TORCHELASTIC_RUN_ID), so a script written
for torchrun runs unchanged; ``init_process_group`` takes its ranks from MPI.

NOTE [ Launching on MPI ]
torchrun runs one agent per node that rendezvous with each other. MPI instead starts every
rank of a job from one place, which is what clusters already do well, so:

- One machine: the launcher runs ``mpiexec -n <nproc_per_node>`` with a small bootstrap
  (``_bootstrap.py``) in front of the script that turns the MPI launcher's variables into
  torchrun's, then runs the script as ``__main__``.
- Several machines, hostfile: run the launcher once, on the first node, with ``--nnodes N
  --hostfile hosts`` (one host per line, MPICH's ``host:slots`` or Open MPI's ``slots=``
  syntax accepted by the respective mpiexec); it starts ``nproc_per_node`` ranks per host.
  Launchers started on the other nodes (``--node_rank`` > 0, the torchrun habit) exit with a
  message saying so rather than starting a second, separate job.
- Several machines, Slurm or an existing mpiexec: ``srun --mpi=pmi2 python -m
  ember.distributed.run train.py`` (the MPI library must be able to use Slurm's PMI; not
  tested here, where there is no Slurm: on clusters prefer the site's MPI and mpi4py), or
  ``mpiexec -f hosts -n 8 python -m ember.distributed.run train.py``: the launcher notices
  it is already one rank of an MPI job and only sets the environment.

Ctrl-C (SIGINT) or SIGTERM on the launcher is forwarded to the whole job: SIGINT first, then
SIGTERM and SIGKILL to the job's process group if ranks linger, so nothing is left running.
When one rank exits with an error, mpiexec ends the others (hydra's default) and the
launcher exits with that rank's status.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

__all__ = ["main", "get_args_parser"]


def get_args_parser():
    """The launcher's argument parser: torchrun's flags, plus ``--hostfile`` and
    ``--mpiexec``.

    Returns:
        An ``argparse.ArgumentParser``.

    Example:
        >>> from ember.distributed.run import get_args_parser
        >>> argv = ["--nproc_per_node", "2", "train.py", "--lr", "0.1"]
        >>> args = get_args_parser().parse_args(argv)
        >>> args.nproc_per_node, args.training_script, args.training_script_args
        ('2', 'train.py', ['--lr', '0.1'])
    """
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                description="Start a distributed ember program on MPI, with "
                                            "torchrun's flags and environment.")
    p.add_argument("--nnodes", type=str, default="1",
                   help="number of nodes (N, or MIN:MAX with MIN == MAX)")
    p.add_argument("--nproc_per_node", "--nproc-per-node", type=str, default="1",
                   help="ranks per node: a number, or 'auto'/'cpu' for the CPU count")
    p.add_argument("--node_rank", "--node-rank", type=int, default=0)
    p.add_argument("--master_addr", "--master-addr", type=str, default="127.0.0.1")
    p.add_argument("--master_port", "--master-port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true",
                   help="single node; pick a free local port for the rendezvous")
    p.add_argument("--rdzv_backend", "--rdzv-backend", type=str, default="static",
                   help="accepted: static, c10d (the rendezvous is MPI's either way)")
    p.add_argument("--rdzv_endpoint", "--rdzv-endpoint", type=str, default="",
                   help="host[:port] of the store; overrides --master_addr/--master_port")
    p.add_argument("--rdzv_id", "--rdzv-id", type=str, default="none",
                   help="job id, exported as TORCHELASTIC_RUN_ID")
    p.add_argument("--rdzv_conf", "--rdzv-conf", type=str, default="")
    p.add_argument("--max_restarts", "--max-restarts", type=int, default=0)
    p.add_argument("--monitor_interval", "--monitor-interval", type=float, default=0.1)
    p.add_argument("--role", type=str, default="default")
    p.add_argument("-m", "--module", action="store_true",
                   help="run the target as a module (python -m)")
    p.add_argument("--no_python", "--no-python", action="store_true",
                   help="run the target as an executable, not a Python script")
    p.add_argument("--hostfile", type=str, default=None,
                   help="hosts for a multi-node job (passed to mpiexec)")
    p.add_argument("--mpiexec", type=str, default=None,
                   help="the mpiexec to use (default: the one beside this Python, then PATH)")
    p.add_argument("training_script", type=str)
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def _nproc(spec):
    if spec in ("auto", "cpu"):
        return os.cpu_count() or 1
    if spec == "gpu":
        raise NotImplementedError("--nproc_per_node gpu: ember runs on the CPU")
    n = int(spec)
    if n < 1:
        raise ValueError(f"--nproc_per_node must be positive, got {n}")
    return n


def _nnodes(spec):
    lo, _, hi = spec.partition(":")
    if hi and int(hi) != int(lo):
        raise NotImplementedError(f"--nnodes {spec}: elastic node ranges are not supported "
                                  "(MPI jobs have a fixed size); pass one number")
    return int(lo)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_host(hostfile):
    """The first host of an MPICH (``host:slots``) or Open MPI (``host slots=n``) hostfile."""
    with open(hostfile) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                return line.split()[0].split(":")[0]
    raise SystemExit(f"ember.distributed.run: hostfile {hostfile} lists no host")


def _find_mpiexec(explicit):
    if explicit:
        return explicit
    env = os.environ.get("EMBER_MPIEXEC")
    if env:
        return env
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(beside):
        return beside
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise SystemExit("ember.distributed.run: mpiexec not found; pip install 'ember[dist]' "
                         "(the mpich wheel provides it) or pass --mpiexec")
    return found


def _is_open_mpi(mpiexec):
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in out or "OpenRTE" in out


def _worker_env(args, nproc, nnodes, addr, port):
    env = dict(os.environ)
    env.update({
        "MASTER_ADDR": addr, "MASTER_PORT": str(port),
        "EMBER_NPROC_PER_NODE": str(nproc), "EMBER_NNODES": str(nnodes),
        "TORCHELASTIC_RUN_ID": args.rdzv_id, "ROLE_NAME": args.role,
        "TORCHELASTIC_RESTART_COUNT": "0", "TORCHELASTIC_MAX_RESTARTS": "0",
    })
    if nproc > 1 and "OMP_NUM_THREADS" not in os.environ:
        # torchrun's default: one thread per rank when several share a machine.
        env["OMP_NUM_THREADS"] = "1"
    return env


def _target(args):
    t = []
    if args.module:
        t.append("-m")
    if args.no_python:
        t.append("--no-python")
    return t + [args.training_script] + list(args.training_script_args)


def main(argv=None):
    """Entry point of ``python -m ember.distributed.run``: parse torchrun's flags, start the
    job through ``mpiexec`` and wait for it (NOTE [ Launching on MPI ]).

    Args:
        argv: the command line without the program name (None: ``sys.argv[1:]``).

    Returns:
        The job's exit status (0, or the first failed rank's).

    Example:
        >>> import io, contextlib
        >>> from ember.distributed.run import main
        >>> with contextlib.redirect_stderr(io.StringIO()):
        ...     try:
        ...         main(["--max_restarts", "1", "train.py"])
        ...     except NotImplementedError as e:
        ...         print(str(e).split(":")[0])
        --max_restarts
    """
    args = get_args_parser().parse_args(argv)
    if args.module and args.no_python:
        raise ValueError("--module and --no_python are mutually exclusive")
    if args.max_restarts:
        raise NotImplementedError("--max_restarts: restarting failed ranks is not supported "
                                  "(an MPI job ends when a rank fails)")
    if args.rdzv_backend not in ("static", "c10d"):
        raise NotImplementedError(f"--rdzv_backend {args.rdzv_backend}: only static and c10d")
    from ember.distributed import _bootstrap
    from ember.distributed._mpi import launched_by_mpi

    if launched_by_mpi() or ("SLURM_STEP_ID" in os.environ and "SLURM_PROCID" in os.environ):
        # Already one rank of an MPI job (srun, or mpiexec around the launcher).
        os.environ.setdefault("MASTER_ADDR", args.master_addr)
        os.environ.setdefault("MASTER_PORT", str(args.master_port))
        os.environ.setdefault("TORCHELASTIC_RUN_ID", args.rdzv_id)
        return _bootstrap.run(_target(args))

    nproc = _nproc(args.nproc_per_node)
    nnodes = _nnodes(args.nnodes)
    if nnodes > 1 and args.node_rank != 0:
        print(f"ember.distributed.run: node_rank {args.node_rank}: with MPI the whole job is "
              "started from node_rank 0 (--hostfile); nothing to do here.", file=sys.stderr)
        return 0
    if nnodes > 1 and args.hostfile is None:
        raise SystemExit("ember.distributed.run: --nnodes > 1 needs --hostfile (or run the "
                         "launcher under srun / mpiexec); see NOTE [ Launching on MPI ]")
    addr, port = args.master_addr, args.master_port
    if args.rdzv_endpoint:
        host, _, p = args.rdzv_endpoint.partition(":")
        addr, port = host, int(p) if p else port
    if args.standalone:
        addr, port = "127.0.0.1", _free_port()
    elif args.hostfile and addr == "127.0.0.1":
        # Rank 0 (which serves the store) runs on the hostfile's first host.
        addr = _first_host(args.hostfile)
    env = _worker_env(args, nproc, nnodes, addr, port)
    mpiexec = _find_mpiexec(args.mpiexec)
    cmd = [mpiexec, "-n", str(nproc * nnodes)]
    if args.hostfile:
        if _is_open_mpi(mpiexec):
            cmd += ["--hostfile", args.hostfile, "--map-by", f"ppr:{nproc}:node"]
        else:
            cmd += ["-f", args.hostfile, "-ppn", str(nproc)]
    if _is_open_mpi(mpiexec):
        for k in ("MASTER_ADDR", "MASTER_PORT", "EMBER_NPROC_PER_NODE", "EMBER_NNODES",
                  "TORCHELASTIC_RUN_ID", "OMP_NUM_THREADS"):
            if k in env:
                cmd += ["-x", k]
    cmd += [sys.executable, "-u", "-m", "ember.distributed._bootstrap"] + _target(args)
    return _supervise(cmd, env)


def _supervise(cmd, env):
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ember-run-") as run_dir:
        env = {**env, "EMBER_RUN_DIR": run_dir}
        # Own session: signals we forward reach mpiexec and every rank, and nothing
        # survives us.
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)

        def on_term(signum, frame):  # noqa: ARG001 - signal handler protocol
            raise KeyboardInterrupt

        old = signal.signal(signal.SIGTERM, on_term)
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            _stop(proc)
            code = 128 + signal.SIGINT
        finally:
            signal.signal(signal.SIGTERM, old)
        if code != 0:
            _report(run_dir, code)
        return code


def _report(run_dir, code):
    """Print which process was which rank (mpiexec's own failure message names PIDs)."""
    rows = []
    for name in sorted(os.listdir(run_dir), key=lambda n: int(n[4:]) if n[4:].isdigit() else 0):
        with open(os.path.join(run_dir, name)) as f:
            pid, _, host = f.read().partition(" ")
        rows.append(f"{name[:4]} {name[4:]}: pid {pid} on {host}")
    print(f"ember.distributed.run: the job failed (exit status {code}); "
          + ("; ".join(rows) if rows else "no rank started"), file=sys.stderr)


def _stop(proc):
    for sig, grace in ((signal.SIGINT, 3.0), (signal.SIGTERM, 2.0), (signal.SIGKILL, 0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        else:
            continue
        # mpiexec is gone; take down any rank it left behind in the group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return
    proc.wait()


if __name__ == "__main__":
    sys.exit(main())
