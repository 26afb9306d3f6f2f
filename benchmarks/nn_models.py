"""Model-level benchmarks of issue 4: ember vs PyTorch side by side, float32.

Run: ``python benchmarks/nn_models.py`` (``--quick`` for a short check; ``--only lstm`` for
one model). Four workloads, each built identically in both frameworks with the same
weights (ember's state_dict copied into the torch model) and the same data:

- MLP 784-512-512-10, batch 128, training step (forward, cross-entropy, backward, SGD);
- LeNet-style CNN (conv 1->32 3x3, relu, maxpool 2, conv 32->64 3x3, relu, maxpool 2,
  linear 1600->128, relu, linear 128->10) on 1x28x28, batch 64, training step;
- 2-layer LSTM language model (vocab 10000, emb 200, hidden 200, seq 35, batch 20),
  training step;
- ResNet-18 (``ember.vision.models.resnet18``, and the same architecture written here in
  torch.nn since torchvision is not installed) on 3x32x32, batch 32, forward + backward.

Steps of the two frameworks are interleaved, so machine load hits both alike; the table
gives median milliseconds per step and the throughput ratio ember / torch (> 1: ember is
faster). PyTorch keeps its default thread count unless ``--threads N`` is given; ember's
BLAS threads follow OPENBLAS_NUM_THREADS / OMP_NUM_THREADS.

On a loaded machine (load average above the core count) both OpenBLAS and PyTorch's OpenMP
threads spin against other processes and steps slow down 5-30x, erratically; there compare
single-threaded (``OPENBLAS_NUM_THREADS=1 python benchmarks/nn_models.py --threads 1``) and
keep the multi-threaded figures for a quiet machine. The first line printed records the load.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections import OrderedDict

import numpy as np

import ember

# --------------------------------------------------------------------------- models


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                         nn.ReLU(), nn.Linear(512, 10))


def _lenet(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


def _lstm_lm(lib):
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10000, 200)
            self.rnn = nn.LSTM(200, 200, 2)
            self.out = nn.Linear(200, 10000)

        def forward(self, tokens):
            y, _ = self.rnn(self.emb(tokens))
            return self.out(y).reshape(-1, 10000)

    return LM()


def _torch_resnet18(num_classes=10):
    """ResNet-18 in torch.nn with torchvision's layout and state_dict keys."""
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.relu(y + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            cin = 64
            for i, planes in enumerate((64, 128, 256, 512)):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}",
                        nn.Sequential(Block(cin, planes, stride), Block(planes, planes, 1)))
                cin = planes
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def _copy_weights(src, dst, torch):
    sd = OrderedDict((k, torch.from_numpy(np.array(v.numpy()))) for k, v in
                     src.state_dict().items())
    dst.load_state_dict(sd)


# --------------------------------------------------------------------------- steps


def _train_step(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _fwd_bwd(lib, model, x, y):
    def step():
        for p in model.parameters():
            p.grad = None
        model(x).sum().backward()

    return step


def _workloads(rng):
    """name, builder(lib) -> model, input array, target array, step kind, samples per step."""
    return [
        ("mlp", "MLP 784-512-512-10, batch 128, train step", _mlp,
         rng.standard_normal((128, 1, 28, 28)).astype(np.float32),
         rng.integers(0, 10, 128), _train_step, 128),
        ("lenet", "LeNet CNN 1x28x28, batch 64, train step", _lenet,
         rng.standard_normal((64, 1, 28, 28)).astype(np.float32),
         rng.integers(0, 10, 64), _train_step, 64),
        ("lstm", "2-layer LSTM LM (10k vocab, 200, seq 35, batch 20), train step", _lstm_lm,
         rng.integers(0, 10000, (35, 20)), rng.integers(0, 10000, 35 * 20), _train_step,
         35 * 20),
        ("resnet18", "ResNet-18 3x32x32, batch 32, fwd+bwd", None,
         rng.standard_normal((32, 3, 32, 32)).astype(np.float32), None, _fwd_bwd, 32),
    ]


def _build(lib, builder, torch=None, ember_model=None):
    if builder is None:  # ResNet-18
        if lib is ember:
            import ember.vision.models as models

            return models.resnet18(num_classes=10)
        return _torch_resnet18(10)
    model = builder(lib)
    if ember_model is not None:
        _copy_weights(ember_model, model, torch)
    return model


def _median_times(fns, reps, warmup):
    """Median seconds per call of each function, interleaved so load hits all alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    ts = [[] for _ in fns]
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            ts[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in ts]


def _machine_line(torch) -> str:
    try:
        load = "load avg %.2f %.2f %.2f" % os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        load = "load avg n/a"
    tv = torch.__version__ if torch is not None else "not installed"
    threads = torch.get_num_threads() if torch is not None else "-"
    blas = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or \
        "default"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {load}; "
            f"Python {platform.python_version()}, NumPy {np.__version__}, "
            f"ember {getattr(ember, '__version__', '?')}, torch {tv} ({threads} threads), "
            f"ember BLAS threads: {blas}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    ap.add_argument("--reps", type=int, default=None, help="timed steps per framework")
    ap.add_argument("--only", default=None, help="comma-separated: mlp,lenet,lstm,resnet18")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads(N)")
    ap.add_argument("--no-torch", action="store_true", help="time ember alone")
    ap.add_argument("--lib", choices=["ember", "torch"], default=None,
                    help="time one framework alone (benchmarks/ab.py's method)")
    ap.add_argument("--json", action="store_true", help="print {benchmark: seconds} as JSON")
    ap.add_argument("--heap-reuse", action="store_true",
                    help="ember.cpu.allocator.enable_heap_reuse() first (the default since the "
                         "sixth session; EMBER_HEAP_REUSE=0 in the environment turns it off)")
    args = ap.parse_args(argv)
    if args.heap_reuse:
        import ember.cpu.allocator

        ember.cpu.allocator.enable_heap_reuse()
    if args.lib:
        return _one_lib(args)
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:  # pragma: no cover - benchmark peer missing
            torch = None
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    reps = args.reps or (3 if args.quick else 20)
    warmup = 1 if args.quick else 3
    only = set(args.only.split(",")) if args.only else None
    rng = np.random.default_rng(0)
    rows = []
    for key, name, builder, x, y, make_step, n in _workloads(rng):
        if only and key not in only:
            continue
        ember.manual_seed(0)
        em = _build(ember, builder)
        fns = [make_step(ember, em, ember.from_numpy(x),
                         None if y is None else ember.from_numpy(y))]
        if torch is not None:
            tm = _build(torch, builder, torch, em)
            if builder is None:
                _copy_weights(em, tm, torch)
            fns.append(make_step(torch, tm, torch.from_numpy(x),
                                 None if y is None else torch.from_numpy(y)))
        times = _median_times(fns, reps, warmup)
        te = times[0]
        tt = times[1] if torch is not None else float("nan")
        rows.append((name, te, tt, n))
    print(_machine_line(torch))
    print(f"reps per framework: {reps}{' (--quick)' if args.quick else ''}")
    print()
    print("| benchmark | ember ms | torch ms | ember samples/s | torch samples/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, te, tt, n in rows:
        print(f"| {name} | {te * 1e3:.1f} | {tt * 1e3:.1f} | {n / te:.0f} | {n / tt:.0f} | "
              f"{tt / te:.2f} |")


def _one_lib(args) -> None:
    """Median seconds per step of one framework's models (its own initial weights)."""
    import json

    if args.lib == "torch":
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        lib = torch
    else:
        torch, lib = None, ember
    reps = args.reps or (3 if args.quick else 20)
    warmup = 1 if args.quick else 3
    only = set(args.only.split(",")) if args.only else None
    out = {}
    for key, name, builder, x, y, make_step, _n in _workloads(np.random.default_rng(0)):
        if only and key not in only:
            continue
        lib.manual_seed(0)
        model = _build(lib, builder, torch)
        step = make_step(lib, model, lib.from_numpy(x), None if y is None else lib.from_numpy(y))
        out[name] = _median_times([step], reps, warmup)[0]
    print(json.dumps(out) if args.json else out)


if __name__ == "__main__":
    main()
