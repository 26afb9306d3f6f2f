"""Per-op cost of ember's debugging tools: off (must equal the plain path) and running.

Run: python benchmarks/profiler_overhead.py [--rounds 5] [--number 20000]
Each configuration runs in its own Python process, rounds alternate between them, and the
medians (and spreads) of microseconds per iteration are printed for the cases of
benchmarks/overhead.py. Configurations:
  plain           nothing installed (the figure benchmarks/overhead.py reports)
  off             the profiler, anomaly mode and the growth warning imported, used once
                  and turned off again (checks "off means zero": equal to plain)
  profiler        ember.profiler.profile() running
  profiler+shapes profile(record_shapes=True, profile_memory=True, with_flops=True)
  anomaly         ember.autograd.detect_anomaly() on
Don't run it while tests or other jobs use the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CONFIGS = ["plain", "off", "profiler", "profiler+shapes", "anomaly"]

_CHILD = r"""
import json, sys, timeit, warnings
sys.path.insert(0, {bench!r})
import ember
from overhead import cases
config, number = {config!r}, {number}
warnings.simplefilter("ignore")
ctx = None
if config == "off":
    import ember.profiler
    with ember.profiler.profile():
        ember.ones(2) + 1
    with ember.autograd.detect_anomaly():
        pass
    ember.autograd.set_graph_growth_warning(True)
    ember.autograd.set_graph_growth_warning(False)
elif config == "profiler":
    import ember.profiler
    ctx = ember.profiler.profile()
elif config == "profiler+shapes":
    import ember.profiler
    ctx = ember.profiler.profile(record_shapes=True, profile_memory=True, with_flops=True)
elif config == "anomaly":
    ctx = ember.autograd.detect_anomaly()
out = {{}}
for name, fn in cases(ember).items():
    fn()
    if ctx is not None:
        ctx.__enter__()
    try:
        t = min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6
    finally:
        if ctx is not None:
            ctx.__exit__(None, None, None)
            if config.startswith("profiler"):  # a fresh profiler per case: bounded memory
                ctx = ember.profiler.profile(record_shapes=ctx.record_shapes,
                                             profile_memory=ctx.profile_memory,
                                             with_flops=ctx.with_flops)
    out[name] = t
print(json.dumps(out))
"""


def run(config, number):
    here = os.path.dirname(os.path.abspath(__file__))
    code = _CHILD.format(bench=here, config=config, number=number)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--number", type=int, default=20000,
                   help="calls per timing (the profiler keeps one event per op: memory grows "
                        "with it)")
    args = p.parse_args()
    results = {c: [] for c in CONFIGS}
    for _ in range(args.rounds):
        for c in CONFIGS:
            results[c].append(run(c, args.number))
    names = list(results["plain"][0])
    w = max(len(n) for n in names)
    print(f"{'case':<{w}}  " + "  ".join(f"{c:>18}" for c in CONFIGS) + "   (us/iter, median "
          "+- half range)")
    for n in names:
        cells = []
        for c in CONFIGS:
            xs = [r[n] for r in results[c]]
            cells.append(f"{statistics.median(xs):9.2f} +-{(max(xs) - min(xs)) / 2:5.2f}")
        print(f"{n:<{w}}  " + "  ".join(f"{s:>18}" for s in cells))


if __name__ == "__main__":
    main()
