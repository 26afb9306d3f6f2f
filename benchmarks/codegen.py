"""Kernel generator costs: first compile of each eager kernel, and the first call of the
same kernels in a second process with a warm disk cache (no compiler run).

Run: ``python benchmarks/codegen.py`` (uses a fresh temporary cache directory).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, time
import numpy as np
t0 = time.perf_counter()
from ember._codegen import eager, build
t_import = time.perf_counter() - t0
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 128, 256)).astype(np.float32)
w = np.ones(256, np.float32)
c = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
lg = rng.standard_normal((256, 1000)).astype(np.float32)
t = rng.integers(0, 1000, 256)
calls = {
    "gelu": lambda: eager.gelu(x, "none"),
    "gelu_backward": lambda: eager.gelu_backward(x, x, "none"),
    "layer_norm": lambda: eager.layer_norm(x, w, w, 1, 1e-5),
    "softmax": lambda: eager.softmax(x, 2),
    "cross_entropy": lambda: eager.cross_entropy(lg, t),
    "batch_norm": lambda: eager.batch_norm(c, None, None, 1e-5),
}
res = {"import_s": t_import}
for name, fn in calls.items():
    s = time.perf_counter()
    assert fn() is not None
    res[name + "_first_call_s"] = time.perf_counter() - s
res["stats"] = build.STATS
print(json.dumps(res))
"""


def run(cache):
    env = dict(os.environ, EMBER_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    with tempfile.TemporaryDirectory() as cache:
        cold, warm = run(cache), run(cache)
    print(f"{'kernel':24s} {'cold (compile) s':>18s} {'warm cache s':>14s}")
    for k in cold:
        if k.endswith("_first_call_s"):
            print(f"{k[:-13]:24s} {cold[k]:18.3f} {warm[k]:14.4f}")
    print(f"compiled: cold {cold['stats']['compiled']} in {cold['stats']['compile_seconds']:.2f} s"
          f", warm {warm['stats']['compiled']} (loaded from disk: "
          f"{warm['stats']['loaded_from_disk']} in {warm['stats']['load_seconds'] * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
