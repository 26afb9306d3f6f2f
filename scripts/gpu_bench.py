"""GPU benchmarks for issue 15: ember on CUDA beside PyTorch on the same card, one table.

Run by ``scripts/gpu_check.sh`` (or ``python scripts/gpu_bench.py [--dry-run]``). Each row
is timed after warm-up with a device synchronisation around it and capped in time, so the
whole script stays within a couple of minutes; a row that fails prints its error and the
rest go on. ``--dry-run`` runs every row on the CPU at toy sizes (checks the script itself
on machines without a GPU; its numbers mean nothing).

Rows: device copy bandwidth (the floor for memory-bound kernels); matmul 8192^3 in float32
(TF32 allowed), float16 and bfloat16 (TFLOP/s); a ResNet-style 3x3 convolution forward and
backward; GELU over 64M floats, ember's generated kernel vs its unfused CuPy path vs
PyTorch, against the bandwidth floor; MLP, LeNet and ResNet-18 training steps per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import ember  # noqa: E402

ROWS = []


def row(name, ember_v, torch_v, unit, note=""):
    ratio = ""
    if isinstance(ember_v, float) and isinstance(torch_v, float) and torch_v > 0:
        higher_better = unit in ("TFLOP/s", "GB/s", "steps/s")
        r = ember_v / torch_v if higher_better else torch_v / ember_v
        ratio = f"{r:.2f}x"

    def fmt(v):
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    ROWS.append((name, fmt(ember_v), fmt(torch_v), unit, ratio, note))
    print(f"  {name}: ember {fmt(ember_v)} / torch {fmt(torch_v)} {unit} {ratio} {note}",
          flush=True)


class Timer:
    """Median seconds per call of ``fn`` with device synchronisation (at most ``budget``
    seconds of timed calls after ``warmup`` calls)."""

    def __init__(self, sync):
        self.sync = sync

    def __call__(self, fn, warmup=3, reps=20, budget=10.0):
        for _ in range(warmup):
            fn()
        self.sync()
        times, t_end = [], time.perf_counter() + budget
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            self.sync()
            times.append(time.perf_counter() - t0)
            if time.perf_counter() > t_end:
                break
        return float(np.median(times))


def _torch(dry):
    try:
        import torch
    except ImportError:
        return None
    if dry:
        return torch
    return torch if torch.cuda.is_available() else None


def bench(dry):
    dev = "cpu" if dry else "cuda"
    scale = 16 if dry else 1
    esync = (lambda: None) if dry else ember.cuda.synchronize
    torch = _torch(dry)
    tsync = (lambda: None) if (dry or torch is None) else torch.cuda.synchronize
    et, tt = Timer(esync), Timer(tsync)
    if not dry:
        print(f"device: {ember.cuda.get_device_name()}", flush=True)
        if torch is not None:
            print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}", flush=True)

    def guarded(name, f):
        t0 = time.perf_counter()
        try:
            f()
        except Exception as e:  # one failing row must not hide the others
            row(name, "FAILED", "", "", f"{type(e).__name__}: {str(e)[:80]}")
            traceback.print_exc(limit=3)
        print(f"    ({time.perf_counter() - t0:.1f} s)", flush=True)

    bw = {}

    def copy_bw():
        n = (1 << 28) // scale // scale  # 1 GiB of float32 on the GPU
        x = ember.empty(n, device=dev)
        y = ember.empty(n, device=dev)
        s = et(lambda: y.copy_(x))
        bw["ember"] = 2 * 4 * n / s / 1e9
        tv = ""
        if torch is not None:
            a = torch.empty(n, device=dev)
            b = torch.empty(n, device=dev)
            tv = 2 * 4 * n / tt(lambda: b.copy_(a)) / 1e9
        row("device copy (read+write)", bw["ember"], tv, "GB/s")

    def matmul(dtype_name):
        n = 8192 // scale
        edt = getattr(ember, dtype_name)
        if dtype_name == "bfloat16" and dev == "cuda":
            tv = ""
            if torch is not None:
                a = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
                tv = 2 * n ** 3 / tt(lambda: a @ a, reps=10) / 1e12
            row(f"matmul {n}^3 bfloat16", "n/a", tv, "TFLOP/s",
                "CuPy 14 has no bfloat16: ember refuses it on cuda")
            return
        old = ember.get_float32_matmul_precision()
        ember.set_float32_matmul_precision("high")
        try:
            a = ember.randn(n, n, device=dev).to(edt)
            b = ember.randn(n, n, device=dev).to(edt)
            ev = 2 * n ** 3 / et(lambda: a @ b, reps=10) / 1e12
        finally:
            ember.set_float32_matmul_precision(old)
        tv = ""
        if torch is not None:
            torch.backends.cuda.matmul.allow_tf32 = True
            tdt = getattr(torch, dtype_name)
            a = torch.randn(n, n, device=dev).to(tdt)
            b = torch.randn(n, n, device=dev).to(tdt)
            tv = 2 * n ** 3 / tt(lambda: a @ b, reps=10) / 1e12
        row(f"matmul {n}^3 {dtype_name}", ev, tv, "TFLOP/s",
            "TF32 allowed" if dtype_name == "float32" else "")

    def conv():
        nb = 128 // scale
        import ember.nn.functional as F

        x = ember.randn(nb, 64, 32, 32, device=dev, requires_grad=True)
        w = ember.randn(64, 64, 3, 3, device=dev, requires_grad=True)

        def step():
            F.conv2d(x, w, padding=1).sum().backward()

        ev = et(step, reps=10) * 1e3
        tv = ""
        if torch is not None:
            xt = torch.randn(nb, 64, 32, 32, device=dev, requires_grad=True)
            wt = torch.randn(64, 64, 3, 3, device=dev, requires_grad=True)
            tv = tt(lambda: torch.nn.functional.conv2d(xt, wt, padding=1).sum().backward(),
                    reps=10) * 1e3
        row(f"conv2d 3x3 64->64 on {nb}x32x32 fwd+bwd", ev, tv, "ms")

    def gelu():
        import ember.nn.functional as F
        from ember._codegen import kernel

        n = (1 << 26) // scale // scale
        x = ember.randn(n, device=dev)
        fused = et(lambda: F.gelu(x))
        old = kernel.set_disabled(True)
        try:
            unfused = et(lambda: F.gelu(x), reps=10)
        finally:
            kernel.set_disabled(old)
        tv = ""
        if torch is not None:
            xt = torch.randn(n, device=dev)
            tv = tt(lambda: torch.nn.functional.gelu(xt)) * 1e3
        floor = 2 * 4 * n / (bw["ember"] * 1e9) if bw.get("ember") else float("nan")
        row(f"GELU fused, {n:.2e} float32", fused * 1e3, tv, "ms",
            f"{fused / floor:.2f}x the copy floor ({floor * 1e3:.3g} ms)")
        row(f"GELU unfused (array-module ops), {n:.2e}", unfused * 1e3, tv, "ms",
            f"fused is {unfused / fused:.1f}x faster")

    def training(name, make_ember, make_torch, shape, classes, steps=20):
        nb = 128 // (scale // 4 or 1)

        def run(lib, make, timer, d):
            lib.manual_seed(0)
            net = make().to(d)
            opt = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
            x = lib.randn(nb, *shape, device=d)
            y = lib.randint(0, classes, (nb,), device=d)

            def step():
                opt.zero_grad()
                lib.nn.functional.cross_entropy(net(x), y).backward()
                opt.step()

            return 1.0 / timer(step, reps=steps, budget=15.0)

        ev = run(ember, make_ember, et, dev)
        tv = run(torch, make_torch, tt, dev) if torch is not None and make_torch else ""
        row(f"{name} training, batch {nb}", ev, tv, "steps/s")

    def graphed(name, make_ember, make_torch, shape, classes, steps=20):
        """The same training step captured in a CUDA graph and replayed (launch overhead
        gone); GPU only."""
        if dry:
            row(f"{name} training, CUDA graph", "-", "-", "steps/s", "GPU only")
            return
        nb = 128

        def run(lib, make, timer, d):
            lib.manual_seed(0)
            net = make().to(d)
            opt = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
            x = lib.randn(nb, *shape, device=d)
            y = lib.randint(0, classes, (nb,), device=d)

            def step():
                opt.zero_grad(set_to_none=False)
                lib.nn.functional.cross_entropy(net(x), y).backward()
                opt.step()

            side = lib.cuda.Stream()
            side.wait_stream(lib.cuda.current_stream())
            with lib.cuda.stream(side):  # warm-up: kernels built, optimizer state made
                for _ in range(3):
                    step()
            lib.cuda.current_stream().wait_stream(side)
            g = lib.cuda.CUDAGraph()
            with lib.cuda.graph(g):
                step()
            return 1.0 / timer(g.replay, reps=steps, budget=8.0)

        ev = run(ember, make_ember, et, dev)
        tv = run(torch, make_torch, tt, dev) if torch is not None and make_torch else ""
        row(f"{name} training, CUDA graph, batch {nb}", ev, tv, "steps/s")

    def mlp(lib):
        nn = lib.nn
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                             nn.ReLU(), nn.Linear(512, 10))

    def lenet(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                             nn.Linear(84, 10))

    def resnet_e():
        from ember.vision.models import resnet18

        return resnet18(num_classes=10)

    def resnet_t():
        import torchvision

        return torchvision.models.resnet18(num_classes=10)

    try:
        import torchvision  # noqa: F401
        has_tv = torch is not None
    except ImportError:
        has_tv = False

    guarded("copy", copy_bw)
    for dt in ("float32", "float16", "bfloat16"):
        guarded(f"matmul {dt}", lambda dt=dt: matmul(dt))
    guarded("conv", conv)
    guarded("gelu", gelu)
    guarded("mlp", lambda: training("MLP 784-512-512-10", lambda: mlp(ember),
                                    (lambda: mlp(torch)) if torch else None, (1, 28, 28), 10))
    guarded("mlp graphed", lambda: graphed("MLP 784-512-512-10", lambda: mlp(ember),
                                           (lambda: mlp(torch)) if torch else None,
                                           (1, 28, 28), 10))
    guarded("lenet", lambda: training("LeNet", lambda: lenet(ember),
                                      (lambda: lenet(torch)) if torch else None,
                                      (1, 28, 28), 10))
    guarded("resnet18", lambda: training("ResNet-18 3x32x32", resnet_e,
                                         resnet_t if has_tv else None, (3, 32, 32), 10,
                                         steps=10))
    guarded("resnet18 graphed", lambda: graphed("ResNet-18 3x32x32", resnet_e,
                                                resnet_t if has_tv else None, (3, 32, 32),
                                                10, steps=10))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="run on the CPU at toy sizes")
    args = ap.parse_args()
    if not args.dry_run and not ember.cuda.is_available():
        from ember._backends import cupy_backend

        sys.exit(f"no CUDA device: {cupy_backend.unavailable_reason()}")
    t0 = time.perf_counter()
    bench(args.dry_run)
    print("\n| benchmark | ember | torch | unit | ember vs torch | notes |")
    print("|---|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")
    dry = ", DRY RUN on the CPU: the numbers mean nothing" if args.dry_run else ""
    print(f"\n(total {time.perf_counter() - t0:.0f} s{dry})")


if __name__ == "__main__":
    main()
