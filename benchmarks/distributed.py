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
   backward: alone (``no_sync``); with DDP's overlapped bucket all-reduces, polling MPI in
   every hook (the default) and without polling (reductions started in the hooks, all
   waited for at the end of backward); followed by one blocking all-reduce per gradient;
   followed by one blocking all-reduce of one flat buffer (copy in, reduce, copy out); and
   the default again with MPICH's progress thread (``MPIR_CVAR_ASYNC_PROGRESS=1``, which
   needs MPI_THREAD_MULTIPLE: mpi4py's default).
4. Counters of rank 0's DDP MLP step: buckets (and how many are reduced in place), bytes
   copied into and out of flat buckets, process CPU, main-thread CPU outside MPI waits, wall
   time in the end-of-backward wait, MPI tests made in hooks.

Every figure is the median over ``--rounds`` alternated rounds (default 5) with its spread;
each framework runs in its own processes. Don't run it while tests or other jobs use the CPU.
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


def _step_time(lib, ddp, shape, steps, sync=True, set_to_none=True):
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
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def worker_ddp(quick):
    import ember
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    out = {}
    steps = 5 if quick else 30
    for name, (make, shape) in _models(ember).items():
        ember.manual_seed(0)
        out[name] = _step_time(ember, DDP(make()), shape, steps)
        if dist.get_world_size() > 1:
            ember.manual_seed(0)
            out[name + ":no_sync"] = _step_time(ember, DDP(make()), shape, steps, sync=False)
            if name == "mlp":
                ember.manual_seed(0)
                out[name + ":bucket_view"] = _step_time(
                    ember, DDP(make(), gradient_as_bucket_view=True), shape, steps,
                    set_to_none=False)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)


def worker_torch_ddp(quick):
    import torch
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel as DDP

    _torch_env()
    torch.set_num_threads(1)
    tdist.init_process_group("gloo")
    out = {}
    for name, (make, shape) in _models(torch).items():
        torch.manual_seed(0)
        out[name] = _step_time(torch, DDP(make()), shape, 5 if quick else 30)
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

    def median(fn):
        for _ in range(3):
            fn()
        ts = []
        for _ in range(steps):
            dist.barrier()
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return sorted(ts)[len(ts) // 2]

    def backward_alone():
        with ddp.no_sync():
            loss_fn(ddp(x), y).backward()

    def backward_overlapped():
        loss_fn(ddp(x), y).backward()

    def backward_no_poll():
        ddp._poll_in_hooks = False
        try:
            loss_fn(ddp(x), y).backward()
        finally:
            ddp._poll_in_hooks = True

    def backward_then_reduce():
        with ddp.no_sync():
            loss_fn(ddp(x), y).backward()
        for p in params:
            dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)

    def backward_then_flat():
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
           "backward_ddp_overlapped": median(backward_overlapped)}
    if not os.environ.get("MPIR_CVAR_ASYNC_PROGRESS"):
        out.update(backward_ddp_no_poll=median(backward_no_poll),
                   backward_then_allreduce=median(backward_then_reduce),
                   backward_then_flat_allreduce=median(backward_then_flat))
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)


def worker_counters(quick):
    """Where a rank's DDP step goes (MLP, rank 0): CPU time, the part of it outside MPI
    waits, wall time in the end-of-backward wait, MPI tests made in hooks, and the bytes
    copied into and out of flat buckets (gradients of buckets of one are reduced in place)."""
    import ember
    import ember.distributed as dist
    from ember.distributed import _c10d
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    make, shape = _models(ember)["mlp"]
    ember.manual_seed(0)
    ddp = DDP(make())
    c = {"tests": 0, "wait_s": 0.0, "wait_cpu_s": 0.0}
    test, wait = _c10d.Work.is_completed, _c10d.Work.wait

    def counted_test(self):
        c["tests"] += 1
        return test(self)

    def timed_wait(self, timeout=None):
        t, tc = time.perf_counter(), time.thread_time()
        try:
            return wait(self, timeout)
        finally:
            c["wait_s"] += time.perf_counter() - t
            c["wait_cpu_s"] += time.thread_time() - tc
    _c10d.Work.is_completed = counted_test
    _c10d.Work.wait = timed_wait
    x, y = ember.randn(*shape), ember.randint(0, 10, (shape[0],))
    opt = ember.optim.SGD(ddp.parameters(), lr=0.01)
    loss_fn = ember.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    steps = 10 if quick else 100
    for k in c:
        c[k] = 0
    dist.barrier()
    t, cpu, tc = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(steps):
        step()
    t, cpu, tc = time.perf_counter() - t, time.process_time() - cpu, time.thread_time() - tc
    flat = sum(b.numel * b.dtype.itemsize for b in ddp._buckets if not b.solo)
    out = {"buckets": len(ddp._buckets), "solo": sum(b.solo for b in ddp._buckets),
           "step_s": t / steps, "cpu_s": cpu / steps,
           "work_cpu_s": (tc - c["wait_cpu_s"]) / steps, "end_wait_s": c["wait_s"] / steps,
           "tests": c["tests"] / steps, "copied_bytes": 2 * flat,
           "in_place_bytes": sum(b.numel * b.dtype.itemsize for b in ddp._buckets if b.solo)}
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)


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

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
           **extra}
    cmd = [_mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__),
           "--worker", kind] + (["--quick"] if quick else [])
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
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
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

    # One round runs every job once, each in its own mpiexec (one framework per process);
    # the rounds alternate the frameworks so drift on the machine hits both alike.
    jobs = [("allreduce", n), ("ddp", 1), ("ddp", n), ("overlap", n), ("overlap+async", n),
            ("counters", n)]
    if have_torch:
        jobs[1:1] = [("torch_allreduce", n)]
        jobs += [("torch_ddp", 1), ("torch_ddp", n)]
    raw = {f"{k}@{r}": [] for k, r in jobs}
    for _ in range(args.rounds):
        for kind, ranks in jobs:
            raw[f"{kind}@{ranks}"].append(_launch(kind, ranks, args.quick))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)

    print(f"{args.rounds} alternated rounds; median (min-max) over the rounds; one thread "
          "per rank")
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

    print("\n== DDP step (forward+backward+SGD), per-rank batch 64, ms")
    one, many = raw["ddp@1"], raw[f"ddp@{n}"]
    for name in one[0]:
        eff = [o[name] / m[name] for o, m in zip(one, many)]
        print(f"{name}: ember 1 rank {_fmt([o[name] for o in one], 1e3)}, {n} ranks "
              f"{_fmt([m[name] for m in many], 1e3)}, scaling efficiency {_fmt(eff)}")
        pad = " " * len(name)
        for key, label in ((f"{name}:no_sync", "no communication (no_sync)"),
                           (f"{name}:bucket_view", "gradient_as_bucket_view")):
            if key in many[0]:
                print(f"{pad}  {n} ranks, {label}: {_fmt([m[key] for m in many], 1e3)}, "
                      f"time(1 rank) / that {_fmt([o[name] / m[key] for o, m in zip(one, many)])}")
        if have_torch:
            tone, tmany = raw["torch_ddp@1"], raw[f"torch_ddp@{n}"]
            teff = [o[name] / m[name] for o, m in zip(tone, tmany)]
            print(f"{pad}  torch 1 rank {_fmt([o[name] for o in tone], 1e3)}, "
                  f"{n} ranks {_fmt([m[name] for m in tmany], 1e3)}, scaling efficiency "
                  f"{_fmt(teff)}; ember/torch at {n} ranks "
                  f"{_fmt([m[name] / t[name] for m, t in zip(many, tmany)])} "
                  f"({_verdict([m[name] for m in many], [t[name] for t in tmany])})")

    ov = raw[f"overlap@{n}"]
    ova = raw[f"overlap+async@{n}"]
    print(f"\n== overlap, {n} ranks, MLP 6x512 in {ov[0]['buckets']} buckets, forward+backward, "
          "ms (exposed = minus forward+backward alone)")
    rows = [(ov, "backward_alone", "alone (no_sync)"),
            (ov, "backward_ddp_overlapped", "DDP, polling in hooks (default)"),
            (ov, "backward_ddp_no_poll", "DDP, no polling, wait at the end"),
            (ov, "backward_then_allreduce", "then one all-reduce per gradient"),
            (ov, "backward_then_flat_allreduce", "then one all-reduce of a flat copy"),
            (ova, "backward_alone", "alone, MPICH progress thread"),
            (ova, "backward_ddp_overlapped", "DDP, MPICH progress thread")]
    for src, key, label in rows:
        base = [r["backward_alone"] for r in src]
        print(f"{label:>36}: {_fmt([r[key] for r in src], 1e3)}   exposed "
              f"{_fmt([r[key] - b for r, b in zip(src, base)], 1e3)}")

    ct = raw[f"counters@{n}"]
    print(f"\n== where rank 0's DDP MLP step goes, {n} ranks: {ct[0]['buckets']} buckets "
          f"({ct[0]['solo']} reduced in place on the gradient, {ct[0]['in_place_bytes']} B), "
          f"{ct[0]['copied_bytes']} B copied into and out of flat buckets per step")
    for key, label in (("step_s", "step, ms"), ("cpu_s", "process CPU, ms"),
                       ("work_cpu_s", "main-thread CPU outside MPI waits, ms"),
                       ("end_wait_s", "wall time in the end-of-backward wait, ms")):
        print(f"{label:>42}: {_fmt([r[key] for r in ct], 1e3)}")
    print(f"{'MPI tests in hooks per step':>42}: {_fmt([r['tests'] for r in ct], digits=1)}")


if __name__ == "__main__":
    main()
