"""ember.distributed on MPI: all_reduce bandwidth, DDP step time, communication overlap.

Run: python benchmarks/distributed.py [--quick] [--ranks 2]
Starts the ranks itself with mpiexec (one thread each) and prints, side by side:

1. all_reduce of float32, 4 KB .. 64 MB on the local ranks: ember ``dist.all_reduce`` vs raw
   mpi4py ``Allreduce`` on the same buffers (target: ember >= 0.95x), and PyTorch's gloo
   ``all_reduce`` when torch is installed. Bandwidth is algorithm bandwidth: bytes / time.
2. DDP training step (forward, backward, SGD step) for an MLP and LeNet: 2 ranks x 1 thread
   vs 1 rank x 1 thread (scaling efficiency = time(1 rank) / time(2 ranks) at a fixed
   per-rank batch), and PyTorch DDP over gloo on the same settings. Beside it, the same
   step at 2 ranks inside ``no_sync`` (no communication at all): time(1 rank) / that is the
   ceiling the machine itself allows (two ranks share memory bandwidth and caches), and the
   MLP with ``gradient_as_bucket_view=True`` and ``zero_grad(set_to_none=False)`` (no
   gradient copies at all).
3. Overlap, for an MLP of six 512x512 layers (>= 4 buckets, 6 MB of gradients), forward +
   backward: alone (``no_sync``); with DDP's bucket all-reduces started in the hooks, one in
   flight at a time and polling MPI in every hook (the default), with every ready bucket in
   flight at once (the old way), and without polling (all waited for at the end of
   backward); followed by one blocking all-reduce per gradient; followed by one blocking
   all-reduce of one flat buffer (copy in, reduce, copy out); and the default again with
   MPICH's progress thread (``MPIR_CVAR_ASYNC_PROGRESS=1``, which needs
   MPI_THREAD_MULTIPLE: mpi4py's default). Beside each wall time, its process CPU time:
   with one core per rank, communication hidden behind compute would add less wall time
   than CPU time; and how many buckets had finished when the end-of-backward wait began.
4. Counters of rank 0's DDP MLP step, beside the same step inside ``no_sync`` and raw
   mpi4py ``Allreduce`` of buffers of the buckets' sizes (alternated step by step after a
   barrier): buckets (and how many are reduced in place), bytes copied into and out of flat
   buckets, process CPU, CPU spent starting reductions, in MPI tests in hooks and in the
   end-of-backward wait (and its wall time), buckets finished before that wait.

``--only ddp,counters`` (any of allreduce, ddp, overlap, counters) runs some sections.
Every figure is the median over ``--rounds`` alternated rounds (default 5) with its spread;
each framework runs in its own processes. Don't run it while tests or other jobs use the CPU.

NOTE [ Benchmark settings ]
A scaling efficiency compares two launches, so they must differ only in the number of ranks.
Each launch reports its CPU affinity, BLAS and kernel threads and the thread, allocator and
MPI variables; the driver stops if the 1-rank and n-rank launches of a model differ. Each
model's step is timed in fresh processes, first thing after start-up, because a process's
history changes the step: glibc's malloc returns a large freed block to the kernel
(``munmap``, or trimming the heap top) and the next step faults its pages in again. LeNet's
step alone in a fresh process took 1374 minor page faults and 10.5-10.7 ms per step; the same
process after 40 MLP steps took 0 faults and 6.8-7.5 ms (1 thread, same settings; with
``MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456`` 0 faults and 7.5 ms
either way). The old benchmark timed LeNet after the MLP in one process per launch, with
two more MLP variants before it at n ranks, so the two launches ran from different heaps:
rerun in that order, the 1-rank LeNet step took 1792 minor faults per step (11.1-11.6 ms,
as the 11.7 ms reported) and the 2-rank DDP step 0.5. That, not threads or affinity
(identical in both launches, printed), made the efficiency 1.41. CPU time and page faults
per step are printed beside each step time so such a difference shows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SIZES = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]


# ---------------------------------------------------------------------------- workers
def _reps(nbytes, quick):
    base = max(3, min(2000, int(2e8 / max(nbytes, 1))))
    return max(3, base // 20) if quick else base


def _time(fn, reps, barrier):
    fn()  # warm-up
    barrier()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def worker_allreduce(quick):
    import numpy as np
    from mpi4py import MPI

    import ember
    import ember.distributed as dist

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    rows = []
    for nbytes in SIZES:
        arr = np.ones(nbytes // 4, np.float32)
        t = ember.from_numpy(arr)
        reps = _reps(nbytes, quick)
        raw = _time(lambda a=arr: comm.Allreduce(MPI.IN_PLACE, a), reps, comm.Barrier)
        ours = _time(lambda x=t: dist.all_reduce(x), reps, comm.Barrier)
        rows.append({"bytes": nbytes, "mpi4py_s": raw, "ember_s": ours})
    if comm.Get_rank() == 0:
        print("RESULT " + json.dumps(rows), flush=True)


def worker_torch_allreduce(quick):
    import torch
    import torch.distributed as tdist

    _torch_env()
    tdist.init_process_group("gloo")
    rows = []
    for nbytes in SIZES:
        t = torch.ones(nbytes // 4)
        reps = _reps(nbytes, quick)
        rows.append({"bytes": nbytes,
                     "gloo_s": _time(lambda x=t: tdist.all_reduce(x), reps, tdist.barrier)})
    if tdist.get_rank() == 0:
        print("RESULT " + json.dumps(rows), flush=True)
    tdist.destroy_process_group()


def _torch_env():
    # torch's env:// rendezvous, from hydra's rank variables.
    os.environ.setdefault("RANK", os.environ.get("PMI_RANK", "0"))
    os.environ.setdefault("WORLD_SIZE", os.environ.get("PMI_SIZE", "1"))


def _models(lib):
    nn = lib.nn
    F = nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 4 * 4, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.flatten(1))))))

    def mlp():
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    return {"mlp": (mlp, (64, 784)), "lenet": (LeNet, (64, 1, 28, 28))}


def _settings():
    """What decides a rank's speed besides the code: CPU affinity, BLAS and kernel threads,
    the thread, allocator and MPI variables. Every launch reports it and the driver refuses
    to compare 1-rank and n-rank figures whose settings differ (NOTE [ Benchmark settings ])."""
    import ember
    from ember._codegen import kernel

    try:
        from threadpoolctl import threadpool_info

        blas = sorted(f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info())
    except ImportError:
        blas = ["threadpoolctl not installed"]
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX",
            "EMBER_JIT_DISABLE")
    env = {k: v for k, v in os.environ.items()
           if k in keys or (k.startswith(("MPIR_CVAR_", "HYDRA_")) and "PROXY" not in k)}
    return {"affinity": sorted(os.sched_getaffinity(0)), "blas": blas,
            "ember_threads": ember.get_num_threads(),
            "kernel_threads": kernel.get_num_threads(), "env": env}


def _minflt():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _step_time(lib, ddp, shape, steps, sync=True, set_to_none=True):
    """Median wall time of a training step, with CPU time and minor page faults per step.

    Returns:
        ``{"s": wall median, "cpu_s": process CPU per step, "faults": minor faults per
        step}`` over ``steps`` steps after 3 warm-up steps.
    """
    x = lib.randn(*shape)
    y = lib.randint(0, 10, (shape[0],))
    opt = lib.optim.SGD(ddp.parameters(), lr=0.01)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=set_to_none)
        if sync:
            loss_fn(ddp(x), y).backward()
        else:
            with ddp.no_sync():
                loss_fn(ddp(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    times = []
    faults, cpu = _minflt(), time.process_time()
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    cpu, faults = time.process_time() - cpu, _minflt() - faults
    times.sort()
    return {"s": times[len(times) // 2], "cpu_s": cpu / steps, "faults": faults / steps}


def worker_ddp(quick, model):
    """One model's DDP step in a fresh process (NOTE [ Benchmark settings ]): the plain step
    first, then (n ranks only) inside ``no_sync`` and, for the MLP, with bucket views."""
    import ember
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    out = {"settings": _settings()}
    steps = 5 if quick else 30
    make, shape = _models(ember)[model]
    ember.manual_seed(0)
    out[model] = _step_time(ember, DDP(make()), shape, steps)
    if dist.get_world_size() > 1:
        ember.manual_seed(0)
        out[model + ":no_sync"] = _step_time(ember, DDP(make()), shape, steps, sync=False)
        if model == "mlp":
            ember.manual_seed(0)
            out[model + ":bucket_view"] = _step_time(
                ember, DDP(make(), gradient_as_bucket_view=True), shape, steps,
                set_to_none=False)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)


def worker_torch_ddp(quick, model):
    import torch
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel as DDP

    _torch_env()
    torch.set_num_threads(1)
    tdist.init_process_group("gloo")
    make, shape = _models(torch)[model]
    torch.manual_seed(0)
    out = {model: _step_time(torch, DDP(make()), shape, 5 if quick else 30)}
    if tdist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)
    tdist.destroy_process_group()


def worker_overlap(quick):
    import ember
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    nn = ember.nn
    ember.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(512, 512), nn.ReLU())],
                          nn.Linear(512, 10))
    ddp = DDP(model, bucket_cap_mb=1)
    assert len(ddp._buckets) >= 4
    params = list(model.parameters())
    flat = ember.zeros(sum(p.numel() for p in params))
    x, y = ember.randn(64, 512), ember.randint(0, 10, (64,))
    loss_fn = nn.CrossEntropyLoss()
    steps = 5 if quick else 30

    cpu = {}

    def median(fn):
        # Wall median; the process CPU per call goes to cpu[name]: with one core per rank,
        # communication hidden behind compute would cost wall time less than its CPU time.
        for _ in range(3):
            fn()
        ts = []
        c = 0.0
        for _ in range(steps):
            dist.barrier()
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            ts.append(time.perf_counter() - t0)
            c += time.process_time() - c0
        cpu[fn.__name__] = c / steps
        return sorted(ts)[len(ts) // 2]

    def backward_alone():
        with ddp.no_sync():
            loss_fn(ddp(x), y).backward()

    done = [0, 0]  # buckets already finished when the end-of-backward wait starts, calls
    finalize = ddp._finalize

    def counted_finalize():
        done[0] += sum(1 for b in ddp._buckets if b.work is not None and b.work._done)
        done[1] += 1
        return finalize()
    ddp._finalize = counted_finalize

    def backward_ddp_overlapped():
        loss_fn(ddp(x), y).backward()

    def backward_ddp_all_at_once():
        ddp._one_in_flight = False
        try:
            loss_fn(ddp(x), y).backward()
        finally:
            ddp._one_in_flight = True

    def backward_ddp_no_poll():
        ddp._poll_in_hooks = False
        try:
            loss_fn(ddp(x), y).backward()
        finally:
            ddp._poll_in_hooks = True

    def backward_then_allreduce():
        with ddp.no_sync():
            loss_fn(ddp(x), y).backward()
        for p in params:
            dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)

    def backward_then_flat_allreduce():
        with ddp.no_sync():
            loss_fn(ddp(x), y).backward()
        ember.cat([p.grad.reshape(-1) for p in params], out=flat)
        dist.all_reduce(flat, op=dist.ReduceOp.AVG)
        off = 0
        for p in params:
            n = p.numel()
            p.grad.copy_(flat[off:off + n].view_as(p.grad))
            off += n
    for p in params:
        p.grad = None
    out = {"buckets": len(ddp._buckets), "backward_alone": median(backward_alone),
           "backward_ddp_overlapped": median(backward_ddp_overlapped)}
    out["done_before_wait"] = done[0] / max(done[1], 1)
    if not os.environ.get("MPIR_CVAR_ASYNC_PROGRESS"):
        out.update(backward_ddp_all_at_once=median(backward_ddp_all_at_once),
                   backward_ddp_no_poll=median(backward_ddp_no_poll),
                   backward_then_allreduce=median(backward_then_allreduce),
                   backward_then_flat_allreduce=median(backward_then_flat_allreduce))
    out["cpu"] = cpu
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)


def worker_counters(quick):
    """Where a rank's DDP step goes (MLP, rank 0), beside the same step inside ``no_sync``
    and raw mpi4py ``Allreduce`` of buffers of the buckets' sizes, alternated step by step:
    wall and CPU time; CPU spent starting reductions, in MPI tests made in hooks and in the
    end-of-backward wait (with its wall time); buckets already finished when that wait
    starts; the bytes copied into and out of flat buckets (gradients of buckets of one are
    reduced in place)."""
    import numpy as np
    from mpi4py import MPI

    import ember
    import ember.distributed as dist
    from ember.distributed import _c10d
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    make, shape = _models(ember)["mlp"]
    ember.manual_seed(0)
    ddp = DDP(make())
    keys = ("tests", "test_cpu_s", "start_cpu_s", "wait_s", "wait_cpu_s", "done_before_wait")
    c = dict.fromkeys(keys, 0)
    test, wait, start = _c10d.Work.is_completed, _c10d.Work.wait, dist.all_reduce
    finalize = ddp._finalize

    def counted_test(self):
        c["tests"] += 1
        tc = time.thread_time()
        try:
            return test(self)
        finally:
            c["test_cpu_s"] += time.thread_time() - tc

    def timed_wait(self, timeout=None):
        t, tc = time.perf_counter(), time.thread_time()
        try:
            return wait(self, timeout)
        finally:
            c["wait_s"] += time.perf_counter() - t
            c["wait_cpu_s"] += time.thread_time() - tc

    def timed_start(*args, **kwargs):
        tc = time.thread_time()
        try:
            return start(*args, **kwargs)
        finally:
            c["start_cpu_s"] += time.thread_time() - tc

    def counted_finalize():
        c["done_before_wait"] += sum(1 for b in ddp._buckets if b.work is not None
                                     and b.work._done)
        return finalize()
    _c10d.Work.is_completed = counted_test
    _c10d.Work.wait = timed_wait
    dist.all_reduce = timed_start
    ddp._finalize = counted_finalize
    x, y = ember.randn(*shape), ember.randint(0, 10, (shape[0],))
    opt = ember.optim.SGD(ddp.parameters(), lr=0.01)
    loss_fn = ember.nn.CrossEntropyLoss()
    raw_bufs = [np.ones(b.numel, b.dtype) for b in ddp._buckets]

    def step():
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()

    def no_sync_step():
        opt.zero_grad()
        with ddp.no_sync():
            loss_fn(ddp(x), y).backward()
        opt.step()

    def raw_allreduce():
        for a in raw_bufs:
            comm.Allreduce(MPI.IN_PLACE, a)
    for _ in range(3):
        step()
        no_sync_step()
        raw_allreduce()
    steps = 10 if quick else 100
    for k in c:
        c[k] = 0
    fig = {k: ([], [0.0]) for k in ("step", "no_sync", "raw")}
    for _ in range(steps):
        for k, fn in (("step", step), ("no_sync", no_sync_step), ("raw", raw_allreduce)):
            # In step with the peer: what is left is each step's own skew.
            comm.Barrier()
            t, cpu = time.perf_counter(), time.process_time()
            fn()
            fig[k][0].append(time.perf_counter() - t)
            fig[k][1][0] += time.process_time() - cpu
    flat = sum(b.numel * b.dtype.itemsize for b in ddp._buckets if not b.solo)
    out = {"buckets": len(ddp._buckets), "solo": sum(b.solo for b in ddp._buckets),
           "in_place_bytes": sum(b.numel * b.dtype.itemsize for b in ddp._buckets if b.solo),
           "copied_bytes": 2 * flat}
    for k, (walls, cpu) in fig.items():
        out[k + "_s"] = sorted(walls)[len(walls) // 2]
        out[k + "_cpu_s"] = cpu[0] / steps
    out.update({k: v / steps for k, v in c.items()})
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)


SECTIONS = ("allreduce", "ddp", "overlap", "counters")
WORKERS = {"allreduce": worker_allreduce, "torch_allreduce": worker_torch_allreduce,
           "ddp": worker_ddp, "torch_ddp": worker_torch_ddp, "overlap": worker_overlap,
           "counters": worker_counters}


# ---------------------------------------------------------------------------- driver
def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def _launch(kind, ranks, quick):
    import socket

    extra = {}
    if kind.endswith("+async"):  # the same worker with MPICH's progress thread
        kind = kind[:-len("+async")]
        extra = {"MPIR_CVAR_ASYNC_PROGRESS": "1"}
    model = None
    if ":" in kind:  # "ddp:mlp": one model per process (NOTE [ Benchmark settings ])
        kind, model = kind.split(":")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
           **extra}
    cmd = [_mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__),
           "--worker", kind] + (["--quick"] if quick else []) + (
               ["--model", model] if model else [])
    with tempfile.TemporaryDirectory():
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{kind} on {ranks} ranks failed:\n{p.stdout}\n{p.stderr}")


def _stats(values):
    """(median, min, max) of one figure over the rounds."""
    v = sorted(values)
    return v[len(v) // 2], v[0], v[-1]


def _fmt(values, scale=1.0, width=22, digits=2):
    med, lo, hi = _stats([x * scale for x in values])
    return f"{med:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})".rjust(width)


def _check_settings(name, runs):
    """Stop unless every launch in ``runs`` (the 1-rank and n-rank results of model ``name``)
    ran with the same settings (NOTE [ Benchmark settings ])."""
    settings = sorted({json.dumps(r["settings"], sort_keys=True) for r in runs})
    if len(settings) != 1:
        raise SystemExit(f"{name}: the launches compared ran with different settings, so "
                         f"their ratio would not be a scaling efficiency: {settings}")


def _verdict(a, b):
    """Tie when the two spreads overlap (the method of benchmarks/RESULTS.md)."""
    _, alo, ahi = _stats(a)
    _, blo, bhi = _stats(b)
    if alo <= bhi and blo <= ahi:
        return "tie"
    return "ember faster" if ahi < blo else "torch faster"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternated rounds; every figure is the median over them, with the "
                         "spread (min-max)")
    ap.add_argument("--json", help="write every round's raw figures to this file")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"comma-separated sections to run (default: all of {SECTIONS})")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--model", choices=("mlp", "lenet"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        if args.model:
            WORKERS[args.worker](args.quick, args.model)
        else:
            WORKERS[args.worker](args.quick)
        return
    if _mpiexec() is None:
        raise SystemExit("needs MPI: pip install 'ember[dist]'")
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    n = args.ranks
    only = set(args.only.split(","))
    if not only <= set(SECTIONS):
        raise SystemExit(f"--only: unknown section(s) {sorted(only - set(SECTIONS))}")

    # One round runs every job once, each in its own mpiexec (one framework per process);
    # the rounds alternate the frameworks so drift on the machine hits both alike.
    # Each model's DDP step runs in a fresh process, first thing after start-up, at 1 and at
    # n ranks alike (NOTE [ Benchmark settings ]).
    jobs = [("allreduce", n), ("ddp:mlp", 1), ("ddp:mlp", n), ("ddp:lenet", 1),
            ("ddp:lenet", n), ("overlap", n), ("overlap+async", n), ("counters", n)]
    if have_torch:
        jobs[1:1] = [("torch_allreduce", n)]
        jobs += [("torch_ddp:mlp", 1), ("torch_ddp:mlp", n), ("torch_ddp:lenet", 1),
                 ("torch_ddp:lenet", n)]
    # A job's section: its kind without "torch_", the model or "+async".
    jobs = [(k, r) for k, r in jobs
            if k.removeprefix("torch_").split(":")[0].split("+")[0] in only]
    raw = {f"{k}@{r}": [] for k, r in jobs}
    for _ in range(args.rounds):
        for kind, ranks in jobs:
            raw[f"{kind}@{ranks}"].append(_launch(kind, ranks, args.quick))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)

    print(f"{args.rounds} alternated rounds; median (min-max) over the rounds; one thread "
          "per rank")
    if "allreduce" in only:
        print(f"\n== all_reduce float32, {n} ranks: algorithm bandwidth in MB/s")
        print(f"{'size':>8} {'mpi4py':>22} {'ember':>22} {'ember/mpi4py':>22} {'gloo':>22}")
        ours = raw[f"allreduce@{n}"]
        for i, row in enumerate(ours[0]):
            mb = row["bytes"] / 1e6
            mpi = [mb / rnd[i]["mpi4py_s"] for rnd in ours]
            emb = [mb / rnd[i]["ember_s"] for rnd in ours]
            ratio = [rnd[i]["mpi4py_s"] / rnd[i]["ember_s"] for rnd in ours]
            gl = (_fmt([mb / rnd[i]["gloo_s"] for rnd in raw[f"torch_allreduce@{n}"]], digits=0)
                  if have_torch else f"{'-':>22}")
            print(f"{row['bytes'] >> 10:>6}KB {_fmt(mpi, digits=0)} {_fmt(emb, digits=0)} "
                  f"{_fmt(ratio)} {gl}")

    if "ddp" in only:
        print("\n== DDP step (forward+backward+SGD), per-rank batch 64, ms; each model in fresh "
              "processes, same settings at 1 and n ranks (checked)")
        for name in ("mlp", "lenet"):
            one, many = raw[f"ddp:{name}@1"], raw[f"ddp:{name}@{n}"]
            _check_settings(name, one + many)
            if name == "mlp":
                print(f"settings of every launch: {one[0]['settings']}")
            eff = [o[name]["s"] / m[name]["s"] for o, m in zip(one, many)]
            print(f"{name}: ember 1 rank {_fmt([o[name]['s'] for o in one], 1e3)}, {n} ranks "
                  f"{_fmt([m[name]['s'] for m in many], 1e3)}, scaling efficiency {_fmt(eff)}")
            pad = " " * len(name)
            for key, label in ((name, "1 rank"), (name, f"{n} ranks")):
                src = one if label == "1 rank" else many
                print(f"{pad}  {label:>7}: CPU per step {_fmt([r[key]['cpu_s'] for r in src], 1e3)}"
                      f" ms, minor page faults per step "
                      f"{_fmt([r[key]['faults'] for r in src], digits=0)}")
            for key, label in ((f"{name}:no_sync", "no communication (no_sync)"),
                               (f"{name}:bucket_view", "gradient_as_bucket_view")):
                if key in many[0]:
                    print(f"{pad}  {n} ranks, {label}: {_fmt([m[key]['s'] for m in many], 1e3)}, "
                          f"time(1 rank) / that "
                          f"{_fmt([o[name]['s'] / m[key]['s'] for o, m in zip(one, many)])}")
            if have_torch:
                tone, tmany = raw[f"torch_ddp:{name}@1"], raw[f"torch_ddp:{name}@{n}"]
                t1 = [o[name]["s"] for o in tone]
                tn = [m[name]["s"] for m in tmany]
                mine = [m[name]["s"] for m in many]
                print(f"{pad}  torch 1 rank {_fmt(t1, 1e3)}, {n} ranks {_fmt(tn, 1e3)}, scaling "
                      f"efficiency {_fmt([a / b for a, b in zip(t1, tn)])}; ember/torch at {n} "
                      f"ranks {_fmt([a / b for a, b in zip(mine, tn)])} ({_verdict(mine, tn)})")

    if "overlap" in only:
        ov = raw[f"overlap@{n}"]
        ova = raw[f"overlap+async@{n}"]
        print(f"\n== overlap, {n} ranks, MLP 6x512 in {ov[0]['buckets']} buckets, "
              "forward+backward, ms (exposed = minus forward+backward alone)")
        rows = [(ov, "backward_alone", "alone (no_sync)"),
                (ov, "backward_ddp_overlapped", "DDP, polling in hooks (default)"),
                (ov, "backward_ddp_all_at_once", "DDP, all ready buckets in flight"),
                (ov, "backward_ddp_no_poll", "DDP, no polling, wait at the end"),
                (ov, "backward_then_allreduce", "then one all-reduce per gradient"),
                (ov, "backward_then_flat_allreduce", "then one all-reduce of a flat copy"),
                (ova, "backward_alone", "alone, MPICH progress thread"),
                (ova, "backward_ddp_overlapped", "DDP, MPICH progress thread")]
        for src, key, label in rows:
            base = [r["backward_alone"] for r in src]
            cbase = [r["cpu"]["backward_alone"] for r in src]
            print(f"{label:>36}: {_fmt([r[key] for r in src], 1e3)}   exposed "
                  f"{_fmt([r[key] - b for r, b in zip(src, base)], 1e3)}   CPU "
                  f"{_fmt([r['cpu'][key] for r in src], 1e3)}   CPU beyond alone "
                  f"{_fmt([r['cpu'][key] - b for r, b in zip(src, cbase)], 1e3)}")
        print(f"{'buckets done before the end wait':>36}: "
              f"{_fmt([r['done_before_wait'] for r in ov], digits=1)} of {ov[0]['buckets']} "
              f"(progress thread: {_fmt([r['done_before_wait'] for r in ova], digits=1)})")

    if "counters" in only:
        ct = raw[f"counters@{n}"]
        print(f"\n== where rank 0's DDP MLP step goes, {n} ranks: {ct[0]['buckets']} buckets "
              f"({ct[0]['solo']} reduced in place on the gradient, {ct[0]['in_place_bytes']} B), "
              f"{ct[0]['copied_bytes']} B copied into and out of flat buckets per step; DDP step, "
              "the same inside no_sync, and raw mpi4py Allreduce of the buckets' sizes alternated "
              "step by step after a barrier")
        for key, label in (("step_s", "DDP step, ms"), ("step_cpu_s", "its process CPU, ms"),
                           ("no_sync_s", "no_sync step, ms"),
                           ("no_sync_cpu_s", "its process CPU, ms"),
                           ("raw_s", "raw Allreduce of the buckets, ms"),
                           ("raw_cpu_s", "its process CPU, ms"),
                           ("start_cpu_s", "CPU starting reductions, ms"),
                           ("test_cpu_s", "CPU in MPI tests in hooks, ms"),
                           ("wait_cpu_s", "CPU in the end-of-backward wait, ms"),
                           ("wait_s", "wall time in that wait, ms")):
            print(f"{label:>42}: {_fmt([r[key] for r in ct], 1e3)}")
        print(f"{'MPI tests in hooks per step':>42}: {_fmt([r['tests'] for r in ct], digits=1)}")
        print(f"{'buckets done before the end wait':>42}: "
              f"{_fmt([r['done_before_wait'] for r in ct], digits=1)}")


if __name__ == "__main__":
    main()
