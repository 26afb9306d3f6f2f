"""Time of ``optimizer.step()`` over 200 parameter tensors of mixed sizes: ember vs PyTorch.

Run: python benchmarks/optim_step.py [--repeat N] [--steps K] [--scale S] [--threads T]

The model: 100 weight matrices (sides drawn from 16..256) and 100 bias vectors (16..512),
float32, gradients set once. Each figure is the best over ``--repeat`` runs of ``--steps``
steps, in milliseconds per step. PyTorch is timed in both of its CPU modes: the per-tensor
loop (``foreach=False``, PyTorch's default on CPU) and the multi-tensor ``foreach=True``
kernels (PyTorch's default on GPUs); ratios are ember / PyTorch (< 1: ember is faster).
``--scale`` multiplies every side, to see where memory bandwidth takes over from per-tensor
overhead. Don't run it while tests or other jobs use the CPU.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import ember

try:
    import torch
except ImportError:
    torch = None


# (label, kwargs): the optimizer is the label's first word
CONFIGS = [("Adam", dict(lr=1e-3)), ("SGD momentum", dict(lr=1e-2, momentum=0.9)),
           ("AdamW amsgrad", dict(lr=1e-3, amsgrad=True)),
           ("RMSprop", dict(lr=1e-2)), ("Adagrad", dict(lr=1e-2)), ("Adadelta", dict()),
           ("Adamax", dict(lr=2e-3)), ("NAdam", dict(lr=2e-3)), ("RAdam", dict(lr=1e-3)),
           ("Rprop", dict(lr=1e-2)), ("ASGD", dict(lr=1e-2))]


def shapes(scale: float = 1.0) -> list[tuple[int, ...]]:
    rng = np.random.default_rng(0)
    sides = [16, 32, 64, 128, 256]
    out = []
    for _ in range(100):
        a, b = rng.choice(sides, 2)
        out.append((max(1, int(a * scale)), max(1, int(b * scale))))
        out.append((max(1, int(rng.choice(sides + [512]) * scale)),))
    return out


def make(lib, shp):
    rng = np.random.default_rng(1)
    params = []
    for s in shp:
        w = rng.standard_normal(s).astype(np.float32)
        g = rng.standard_normal(s).astype(np.float32)
        if lib == "ember":
            p = ember.nn.Parameter(ember.from_numpy(w))
            p.grad = ember.from_numpy(g)
        else:
            p = torch.nn.Parameter(torch.from_numpy(w))
            p.grad = torch.from_numpy(g)
        params.append(p)
    return params


def bench(opts: list, steps: int, repeat: int) -> list[float]:
    """Best ms/step of each optimizer; repeats are interleaved so that load from other
    processes hits all of them alike."""
    for opt in opts:
        opt.step()  # creates the state
    best = [float("inf")] * len(opts)
    for _ in range(repeat):
        for i, opt in enumerate(opts):
            t0 = time.perf_counter()
            for _ in range(steps):
                opt.step()
            best[i] = min(best[i], (time.perf_counter() - t0) / steps)
    return [b * 1e3 for b in best]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=0,
                    help="torch.set_num_threads (0: PyTorch's default); NumPy's ufuncs use one")
    ap.add_argument("--lib", choices=["ember", "torch", "torch-foreach"], default=None,
                    help="time one framework alone (benchmarks/ab.py's method)")
    ap.add_argument("--json", action="store_true", help="print {optimizer: seconds} as JSON")
    args = ap.parse_args()
    if args.lib:
        return _one_lib(args)
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    shp = shapes(args.scale)
    n = sum(int(np.prod(s)) for s in shp)
    print(f"# {len(shp)} tensors, {n:,} float32 elements ({n * 4 / 2**20:.1f} MiB); "
          f"numpy {np.__version__}" + (f", torch {torch.__version__} "
                                       f"({torch.get_num_threads()} threads)" if torch else "")
          + f"; {platform.processor() or platform.machine()}")
    configs = CONFIGS
    header = f"{'optimizer':<16}{'ember ms':>10}"
    if torch is not None:
        header += f"{'torch loop':>12}{'ratio':>8}{'torch foreach':>15}{'ratio':>8}"
    print(header)
    for label, kw in configs:
        name = label.split()[0]
        opts = [getattr(ember.optim, name)(make("ember", shp), **kw)]
        if torch is not None:
            opts += [getattr(torch.optim, name)(make("torch", shp), foreach=fe, **kw)
                     for fe in (False, True)]
        times = bench(opts, args.steps, args.repeat)
        e = times[0]
        line = f"{label:<16}{e:>10.3f}"
        if torch is not None:
            tl, tf = times[1:]
            line += f"{tl:>12.3f}{e / tl:>8.2f}{tf:>15.3f}{e / tf:>8.2f}"
        print(line)


def _one_lib(args) -> None:
    import json

    if args.lib != "ember" and args.threads:
        torch.set_num_threads(args.threads)
    shp = shapes(args.scale)
    out = {}
    for label, kw in CONFIGS:
        name = label.split()[0]
        if args.lib == "ember":
            opt = getattr(ember.optim, name)(make("ember", shp), **kw)
        else:
            opt = getattr(torch.optim, name)(make("torch", shp),
                                             foreach=args.lib == "torch-foreach", **kw)
        out[label] = bench([opt], args.steps, args.repeat)[0] * 1e-3
    print(json.dumps(out) if args.json else out)


if __name__ == "__main__":
    main()
