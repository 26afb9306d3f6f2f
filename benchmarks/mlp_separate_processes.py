"""MLP 784-512-512-10 training step (cross-entropy, SGD with momentum), one framework per process.

Run: ``python benchmarks/mlp_separate_processes.py`` (runs ember and, when installed, PyTorch,
each in its own subprocess, twice, alternating). In one process each framework's idle BLAS /
OpenMP threads keep spinning and slow the other on 2 cores; separate processes measure each
alone.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np


def measure(libname: str) -> float:
    lib = __import__(libname)
    if libname == "torch":
        lib.set_num_threads(2)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, 128))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(10):
        step()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(50):
            step()
        best = min(best, (time.perf_counter() - t0) / 50)
    return best


def main():
    if len(sys.argv) > 1:
        print(measure(sys.argv[1]))
        return
    libs = ["ember"]
    try:
        import torch  # noqa: F401

        libs.append("torch")
    except ImportError:
        pass
    best = {}
    for _ in range(2):
        for lib in libs:
            out = subprocess.run([sys.executable, __file__, lib], capture_output=True, text=True,
                                 check=True)
            best[lib] = min(best.get(lib, float("inf")), float(out.stdout.strip()))
    for lib, t in best.items():
        print(f"{lib:6s} {t * 1e3:6.2f} ms/step  {128 / t:8.0f} samples/s")
    if "torch" in best:
        print(f"ratio (ember samples/s / torch samples/s): {best['torch'] / best['ember']:.2f}")


if __name__ == "__main__":
    main()
