"""Checkpoint save/load throughput: ember vs PyTorch on a ~500 MB state_dict.

Run: ``python benchmarks/ab.py serialization`` (each framework in its own process, rounds
alternated: the method of benchmarks/RESULTS.md), or ``python benchmarks/serialization.py
--lib ember [--mb 500] [--dir /tmp]`` for one framework. Within a process each figure is the
best of ``--repeat`` runs; files are in the page cache (the numbers measure the libraries, not
the disk). Both frameworks save the same values (50 float32 tensors plus small ones). The
ember process also loads a checkpoint written by PyTorch when PyTorch is installed (written
by a child process, so PyTorch never shares ember's process).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return min(times)


def _arrays(mb):
    n_big = 50
    per = mb * 2**20 // n_big // 4
    rng = np.random.default_rng(0)
    arrays = {f"layer{i}.weight": rng.standard_normal(per, dtype=np.float32)
              for i in range(n_big)}
    arrays.update({f"layer{i}.bias": rng.standard_normal(256, dtype=np.float32)
                   for i in range(n_big)})
    return arrays


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--lib", choices=["ember", "torch"], default="ember")
    ap.add_argument("--json", action="store_true", help="print {case: seconds} (for ab.py)")
    ap.add_argument("--write-torch", help=argparse.SUPPRESS)  # child: save torch's file here
    args = ap.parse_args()
    arrays = _arrays(args.mb)
    if args.write_torch:
        import torch

        torch.save({k: torch.from_numpy(a) for k, a in arrays.items()}, args.write_torch)
        return
    mb = sum(a.nbytes for a in arrays.values()) / 2**20
    path = os.path.join(args.dir, f"bench_{args.lib}_{os.getpid()}.pt")
    foreign = os.path.join(args.dir, f"bench_foreign_{os.getpid()}.pt")
    out = {}
    try:
        if args.lib == "torch":
            import torch

            sd = {k: torch.from_numpy(a) for k, a in arrays.items()}
            out["save"] = best(lambda: torch.save(sd, path), args.repeat)
            out["load"] = best(lambda: torch.load(path, weights_only=True), args.repeat)
            out["load mmap=True"] = best(
                lambda: torch.load(path, weights_only=True, mmap=True), args.repeat)
        else:
            import ember

            sd = {k: ember.from_numpy(a) for k, a in arrays.items()}
            out["save"] = best(lambda: ember.save(sd, path), args.repeat)
            out["load"] = best(lambda: ember.load(path), args.repeat)
            out["load mmap=True"] = best(lambda: ember.load(path, mmap=True), args.repeat)
            made = subprocess.run([sys.executable, __file__, "--mb", str(args.mb),
                                   "--write-torch", foreign], capture_output=True)
            if made.returncode == 0:  # PyTorch installed: load its file with ember
                out["ember.load of torch's file"] = best(lambda: ember.load(foreign),
                                                         args.repeat)
    finally:
        for p in (path, foreign):
            if os.path.exists(p):
                os.remove(p)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{args.lib}, state_dict of {len(arrays)} tensors, {mb:.0f} MiB")
    for name, t in out.items():
        print(f"{name:28s} {t:9.3f} s {mb / t:8.0f} MiB/s")


if __name__ == "__main__":
    main()
