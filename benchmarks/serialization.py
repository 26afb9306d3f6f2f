"""Checkpoint save/load throughput: ember vs PyTorch on a ~500 MB state_dict.

Run: ``python benchmarks/serialization.py [--mb 500] [--dir /tmp]``. Each figure is the best
of ``--repeat`` runs; files are in the page cache (the numbers measure the libraries, not the
disk). Both frameworks save the same values (50 float32 tensors plus small ones).
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time

import numpy as np

import ember


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    args = ap.parse_args()
    n_big = 50
    per = args.mb * 2**20 // n_big // 4
    rng = np.random.default_rng(0)
    arrays = {f"layer{i}.weight": rng.standard_normal(per, dtype=np.float32)
              for i in range(n_big)}
    arrays.update({f"layer{i}.bias": rng.standard_normal(256, dtype=np.float32)
                   for i in range(n_big)})
    nbytes = sum(a.nbytes for a in arrays.values())
    mb = nbytes / 2**20
    sd = {k: ember.from_numpy(a) for k, a in arrays.items()}
    e_path = os.path.join(args.dir, "bench_ember.pt")
    t_path = os.path.join(args.dir, "bench_torch.pt")
    rows = []
    try:
        try:
            import torch
        except ImportError:
            torch = None
        nan = float("nan")
        t_save = t_load = t_mmap = x_load = nan
        tsd = {k: torch.from_numpy(a) for k, a in arrays.items()} if torch else None
        # Interleave the two libraries so both see the same machine load.
        e_save = best(lambda: ember.save(sd, e_path), args.repeat)
        if torch:
            t_save = best(lambda: torch.save(tsd, t_path), args.repeat)
        e_load = best(lambda: ember.load(e_path), args.repeat)
        if torch:
            t_load = best(lambda: torch.load(t_path, weights_only=True), args.repeat)
            x_load = best(lambda: ember.load(t_path), args.repeat)
        e_mmap = best(lambda: ember.load(e_path, mmap=True), args.repeat)
        if torch:
            t_mmap = best(lambda: torch.load(t_path, weights_only=True, mmap=True), args.repeat)
        rows = [("save", e_save, t_save), ("load", e_load, t_load),
                ("load mmap=True", e_mmap, t_mmap), ("ember.load of torch's file", x_load, t_load)]
    finally:
        for p in (e_path, t_path):
            if os.path.exists(p):
                os.remove(p)
    print(f"state_dict: {len(sd)} tensors, {mb:.0f} MiB")
    print(f"{'':28s} {'ember s':>9s} {'MiB/s':>8s} {'torch s':>9s} {'MiB/s':>8s} "
          f"{'ember/torch speed':>18s}")
    for name, e, t in rows:
        print(f"{name:28s} {e:9.3f} {mb / e:8.0f} {t:9.3f} {mb / t:8.0f} {t / e:18.2f}")


if __name__ == "__main__":
    main()
