"""ember.compile against ember eager, PyTorch eager and torch.compile (issue 12's figures).

Cases: tanh-GELU (written with ``x ** 3``) on 4M float32 (forward); ``(a * b).tanh().sum()``
forward+backward on 4x4 (overhead.py's shapes); the talk's RNN cell forward+backward; an
MLP 784-512-512-10 training step at batch 128 (forward, loss, backward, SGD step).

Run each framework in its own process with benchmarks/ab.py::

    python benchmarks/ab.py jit_bench --variant "ember:--lib ember" \\
        --variant "ember.compile:--lib ember --compile" --threads 2
    python benchmarks/ab.py jit_bench --variant "torch:--lib torch" \\
        --variant "torch.compile:--lib torch --compile" --threads 2

``--json`` prints {case: seconds per iteration} (median of repeats).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def gelu(x):
    return 0.5 * x * (1 + ((2 / np.pi) ** 0.5 * (x + 0.044715 * x ** 3)).tanh())


def cases(lib, compiled):
    wrap = lib.compile if compiled else (lambda f: f)
    rng = np.random.default_rng(0)
    big = lib.tensor(rng.standard_normal(4_000_000).astype(np.float32))
    g = wrap(gelu)

    def gelu_fwd():
        with lib.no_grad():
            g(big)

    a0 = rng.standard_normal((4, 4)).astype(np.float32)
    ag = lib.tensor(a0, requires_grad=True)
    bg = lib.tensor(a0 * 0.5, requires_grad=True)
    tiny = wrap(lambda a, b: (a * b).tanh().sum())

    def tiny_fwd_bwd():
        tiny(ag, bg).backward()

    x = lib.randn(1, 10)
    prev_h = lib.randn(1, 20)
    w_h = lib.randn(20, 20, requires_grad=True)
    w_x = lib.randn(20, 10, requires_grad=True)
    ones = lib.ones(20, 1)
    cell = wrap(lambda w_x, x, w_h, h: (lib.mm(w_x, x.t()) + lib.mm(w_h, h.t())).tanh())

    def rnn_fwd_bwd():
        cell(w_x, x, w_h, prev_h).backward(ones)

    nn = lib.nn
    mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                        nn.Linear(512, 10))
    model = wrap(mlp)
    opt = lib.optim.SGD(mlp.parameters(), lr=0.01)
    xb = lib.randn(128, 784)
    yb = lib.randint(0, 10, (128,))

    def mlp_step():
        loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return {"tanh-GELU 4M float32 fwd": (gelu_fwd, 10),
            "(a * b).tanh().sum() fwd+bwd": (tiny_fwd_bwd, 2000),
            "talk's RNN cell fwd+bwd": (rnn_fwd_bwd, 2000),
            "MLP 784-512-512-10 b128 train step": (mlp_step, 20)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", choices=["ember", "torch"], default="ember")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.lib == "torch":
        import torch as lib

        if args.threads:
            lib.set_num_threads(args.threads)
    else:
        import ember as lib

        if args.threads:
            lib.set_num_threads(args.threads)
    res = {}
    for name, (fn, number) in cases(lib, args.compile).items():
        for _ in range(3):  # warm up: compile, caches
            fn()
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - t) / number)
        res[name] = statistics.median(times)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k}: {v * 1e6:.1f} us")


if __name__ == "__main__":
    main()
