"""DataLoader throughput: ember.utils.data vs torch.utils.data, one framework per process.

Three workloads, each with ``num_workers`` 0 and 2, batch 64:

* ``cheap``: 3x64x64 float32 images from memory with a cheap per-item transform (random
  horizontal flip + normalisation);
* ``1ms``: the same images plus ~1 ms of NumPy work per sample (the case where workers
  should pay off: ideally ~2x on 2 cores);
* ``transfer``: a ready 3x224x224 image per item, so each 64-image batch (38.5 MB) is
  almost pure collate + transfer cost.

Run: ``python benchmarks/ab.py dataloader`` (each framework in its own process, rounds
alternated: the method of benchmarks/RESULTS.md); each case's figure is seconds per batch of
64 images. ``python benchmarks/dataloader.py --lib ember [--quick]`` prints one framework's
images/s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/benchmarks/", 1)[0])

import json  # noqa: E402


def _busy(x: np.ndarray, ms: float) -> None:
    """About ``ms`` milliseconds of Python/NumPy work."""
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        np.tanh(x[0, :8, :8]).sum()


def make_dataset(lib, base, n: int, size: int, work_ms: float, transform: bool):
    Base = base.Dataset

    class Images(Base):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.data = lib.from_numpy(rng.standard_normal((n, 3, size, size),
                                                           dtype=np.float32))
            self.labels = lib.from_numpy(rng.integers(0, 10, n))

        def __len__(self):
            return n

        def __getitem__(self, i):
            x = self.data[i]
            if work_ms:
                _busy(self.data.numpy()[i], work_ms)
            if transform:
                if random.random() < 0.5:
                    x = x.flip(-1)
                x = (x - 0.5) / 0.25
            return x, self.labels[i]

    return Images()


def measure(lib, base, ds, workers: int, epochs: int) -> float:
    """Steady-state images per second: one warm-up epoch (which starts the persistent
    workers) is not timed, then ``epochs`` epochs are."""
    kw = dict(batch_size=64, shuffle=True, num_workers=workers)
    if workers:
        kw["persistent_workers"] = True
    loader = base.DataLoader(ds, **kw)
    lib.manual_seed(0)
    for _x, _y in loader:
        pass
    count = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x, _y in loader:
            count += x.shape[0]
    dt = time.perf_counter() - t0
    del loader
    return count / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller datasets (smoke run)")
    ap.add_argument("--cases", default="cheap,1ms,transfer")
    ap.add_argument("--lib", choices=["ember", "torch"], default="ember")
    ap.add_argument("--json", action="store_true",
                    help="print {case: seconds per batch of 64} as JSON (for ab.py)")
    args = ap.parse_args()
    q = args.quick
    cases = [("cheap", 64, 0.0, True, 2048 if not q else 512, 3),
             ("1ms", 64, 1.0, True, 512 if not q else 128, 1),
             ("transfer", 224, 0.0, False, 512 if not q else 128, 2)]
    if args.lib == "torch":
        import torch as lib
        import torch.utils.data as base

        lib.set_num_threads(1)
    else:
        import ember as lib
        import ember.utils.data as base
    out = {}
    for name, size, work, transform, n, epochs in cases:
        if name not in args.cases.split(","):
            continue
        for workers in (0, 2):
            ds = make_dataset(lib, base, n, size, work, transform)
            rate = measure(lib, base, ds, workers, epochs)
            out[f"{name}, {workers} workers (s per batch of 64)"] = 64 / rate
            if not args.json:
                print(f"{name:10s} workers={workers}: {rate:10.0f} img/s", flush=True)
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
