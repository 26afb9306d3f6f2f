"""Run a benchmark's variants in separate processes, alternated over rounds: the one method
behind every ratio in benchmarks/RESULTS.md.

Each variant is a command line for a benchmark script that prints one JSON object
``{case: seconds}`` (``--json``); each round runs every variant once, in an order that
alternates between rounds (A B, B A, ...), each in a fresh process, so that load drifts hit
all variants alike and no framework shares a process (idle BLAS/OpenMP threads of one
framework slow the other). The table gives, per case and variant, the median over the rounds
and the spread (min-max), and the ratio of the first variant's median to the second's;
when the two spreads overlap the result is a tie, whatever the ratio.

Threads are set equal for every variant: ``--threads N`` exports OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS and MKL_NUM_THREADS (read by NumPy's BLAS and by PyTorch) and passes
``--threads N`` to scripts that take it.

Examples::

    python benchmarks/ab.py overhead                       # ember vs torch
    python benchmarks/ab.py overhead --variant "ember:--lib ember" \\
        --variant "ember+mode:--lib ember --mode dispatch"  # the cost of a no-op mode
    python benchmarks/ab.py nn_models --variant "spin:GOMP_SPINCOUNT=10000 --lib ember" \\
        --variant "ember:--lib ember"                     # an environment variable's effect
    python benchmarks/ab.py overhead --variant "new:--lib ember" \\
        --variant "old:--lib ember@/tmp/old"                # PYTHONPATH=/tmp/old (a worktree)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VARIANTS = ["ember:--lib ember", "torch:--lib torch"]


def parse_variant(text):
    label, _, rest = text.partition(":")
    args, _, path = rest.partition("@")
    return label, shlex.split(args), path or None


def run_once(script, args, path, threads, extra):
    env = dict(os.environ)
    while args and "=" in args[0] and not args[0].startswith("-"):  # NAME=VALUE first: env
        k, _, v = args[0].partition("=")
        env[k] = v
        args = args[1:]
    if threads:
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(threads)
    if path:
        env["PYTHONPATH"] = path + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, os.path.join(HERE, script + ".py"), *args, "--json", *extra]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def fmt(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} us"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("script", help="benchmark name in benchmarks/ (without .py)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variant", action="append", default=None,
                    help="LABEL:[NAME=VALUE ...] ARGS[@PYTHONPATH] (leading NAME=VALUE words "
                         "set the run's environment); the first two are compared")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []  # args for every variant
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if a.threads:
        extra = [*extra, "--threads", str(a.threads)] if a.script in _TAKES_THREADS else extra
    variants = [parse_variant(v) for v in (a.variant or DEFAULT_VARIANTS)]
    samples = {v[0]: {} for v in variants}
    for r in range(a.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        for label, args, path in order:
            for case, t in run_once(a.script, args, path, a.threads, extra).items():
                samples[label].setdefault(case, []).append(t)
    labels = [v[0] for v in variants]
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:  # pragma: no cover
        load = "n/a"
    print(f"# {a.script}: {a.rounds} rounds, variants alternated, one process per run, "
          f"{a.threads} thread(s); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load {load}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    head = " | ".join(f"{lb} median (min-max)" for lb in labels)
    print(f"| case | {head} | {labels[0]} / {labels[1]} | verdict |")
    print("|---|" + "---|" * len(labels) + "---|---|")
    cases = list(samples[labels[0]])
    for case in cases:
        cells, stats = [], []
        for lb in labels:
            ts = samples[lb].get(case, [])
            if not ts:
                cells.append("-")
                stats.append(None)
                continue
            med = statistics.median(ts)
            stats.append((med, min(ts), max(ts)))
            cells.append(f"{fmt(med)} ({fmt(min(ts))}-{fmt(max(ts))})")
        if stats[0] and stats[1]:
            (m0, lo0, hi0), (m1, lo1, hi1) = stats[0], stats[1]
            ratio = f"{m0 / m1:.2f}"
            if lo0 <= hi1 and lo1 <= hi0:
                verdict = "tie (spreads overlap)"
            else:
                verdict = f"{labels[0] if m0 < m1 else labels[1]} faster"
        else:
            ratio, verdict = "-", "-"
        print(f"| {case} | {' | '.join(cells)} | {ratio} | {verdict} |")


_TAKES_THREADS = {"nn_models", "optim_step", "examples_step"}

if __name__ == "__main__":
    main()
