"""Op-level speed sweep: every op of the test op table against PyTorch, at two sizes.

What it times: each entry of ``tests/op_db.py`` (the op table behind tests/test_ops.py) plus
the nn/indexing ops users call most (``EXTRAS`` below: convolutions, pooling, cdist,
grid_sample, unique, sort, ...), with its inputs scaled to about 1e3 and 1e6 elements
(the largest input), forward alone and forward + backward (``autograd.grad`` of the
floating outputs with fixed output gradients, so nothing accumulates in ``.grad``).

How: the method of benchmarks/ab.py. Each framework runs in its own fresh process
(``--lib ember`` / ``--lib torch``), rounds alternate the order (ember torch, torch ember,
...), threads are set equal (``--threads N``: the BLAS/OpenMP variables and
``set_num_threads``), and the table gives per case the median over the rounds, the spread
(min-max) and the ratio ember / PyTorch, called a tie when the spreads overlap. Inside a
process a case is timed in batches of calls lasting at least ``--batch-ms`` each (after one
warm-up call), and the process reports the median over ``--repeat`` batches.

Scaling a table entry: the sweep takes the entry's float32 samples (float64 or its first
dtype when float32 is not supported), keeps the one with the largest dimensioned input,
multiplies every dimension larger than 1 of every array by one factor (so sizes that were
equal stay equal and broadcasting still holds) and draws fresh values in each array's own
range (so domains such as log's positive inputs hold). Integer arguments are kept as they
are, so entries whose arguments are sizes or positions (view, narrow, split, ...) may fail at
scale; such a case is reported as skipped with the error, never dropped silently.

Usage::

    python benchmarks/op_sweep.py                          # 3 rounds, 1 thread, both sizes
    python benchmarks/op_sweep.py --rounds 5 --threads 2 --out-json /tmp/sweep.json \\
        --out-md /tmp/sweep.md
    python benchmarks/op_sweep.py --only 'cdist|conv' --rounds 3   # a subset (regex)
    python benchmarks/op_sweep.py --lib ember --json --only add    # one worker process
    python benchmarks/op_sweep.py --quick                  # a check that every case runs
    python benchmarks/op_sweep.py --sizes 1e6 --only ':(inplace|out=)$'  # the variants only
    python benchmarks/op_sweep.py --no-variants            # forward / backward cases only

In-place and ``out=`` variants (``--variants``, the default; ``--no-variants`` leaves them
out): see NOTE [ In-place and out= variants ] below. They are their own cases
(``NAME_@SIZE:inplace``, ``NAME@SIZE:out=``), summarised and tabled apart from the forward and
forward + backward figures, which stay computed as before.

A full run (3 rounds, both sizes) takes about 6-9 minutes on two cores without the variants;
they add about 5 s per worker process and size (~225 cases at 1e6); ``--quick`` (one round,
one short batch per case) about 1-2 minutes.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZES = {"1e3": 1_000, "1e6": 1_000_000}


# ============================================================================ inputs
def _arrays_of(obj, out):
    """Collect the NumPy arrays in a sample's nested arguments, in a fixed order."""
    import numpy as np

    if isinstance(obj, np.ndarray):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _arrays_of(o, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            _arrays_of(v, out)
    return out


def _map(obj, f):
    import numpy as np

    if isinstance(obj, (np.ndarray, np.dtype)):
        return f(obj)
    if isinstance(obj, list):
        return [_map(o, f) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_map(o, f) for o in obj)
    if isinstance(obj, dict):
        return {k: _map(v, f) for k, v in obj.items()}
    return obj


# Entries whose broadcast batch samples would multiply the work far past the target size
# (matmul's (N,1,M,K) @ (B,K,M) gives a (N,B,M,M) result): take their samples of at most
# this many dimensions.
MAX_NDIM = {"matmul": 3, "__matmul__": 3}


def _pick_sample(info):
    """The entry's sample with the largest dimensioned input, in float32 where supported."""
    import numpy as np

    dts = [np.dtype(d) for d in info.dtypes]
    dtype = next((d for d in (np.dtype("float32"), np.dtype("float64")) if d in dts), dts[0])
    best, best_key = None, None
    for s in info.sample_inputs(dtype, np.random.default_rng(1234)):
        arrs = _arrays_of((s.input, s.args, s.kwargs), [])
        if not arrs or any(a.size == 0 for a in arrs) or max(a.ndim for a in arrs) == 0:
            continue
        if max(a.ndim for a in arrs) > MAX_NDIM.get(info.name, 99):
            continue
        # Preferred: finite values (NaN/inf samples time special-value paths, not the op;
        # taken only where an entry has nothing else, as isnan's), then no 0-d operand,
        # then the largest input.
        finite = all(np.isfinite(a).all() for a in arrs if a.dtype.kind in "fc")
        key = (finite, all(a.ndim for a in arrs), max(a.size for a in arrs))
        if best_key is None or key > best_key:
            best, best_key = s, key
    return best


def _scaled(a, k, rng):
    """``a`` with every dimension > 1 multiplied by ``k``, fresh values in ``a``'s range."""
    import numpy as np

    shape = tuple(max(2, round(n * k)) if n > 1 else n for n in a.shape)
    if a.dtype.kind == "b":
        return rng.random(shape) < max(a.mean(), 0.05)
    lo, hi = a.min(), a.max()
    if a.dtype.kind in "iu":
        return rng.integers(int(lo), int(hi) + 1, size=shape).astype(a.dtype)
    if a.dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(a.dtype)
    if not (np.isfinite(lo) and np.isfinite(hi)):  # keep the sample's special values
        return np.resize(a, shape)
    return rng.uniform(float(lo), float(hi), size=shape).astype(a.dtype)


# Entries whose integer arguments are sizes: those scale with the arrays (by a whole factor,
# so products of sizes still match).
SHAPE_ARGS = {"view", "reshape", "reshape.varargs", "expand", "broadcast_to", "unflatten"}


def _ints_of(obj):
    if isinstance(obj, int) and not isinstance(obj, bool):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [i for o in obj for i in _ints_of(o)]
    return []


def _scale_ints(obj, k):
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return obj * k if obj > 1 else obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(_scale_ints(o, k) for o in obj)
    return obj


def table_cases(target):
    """(name, sample, info) for every op-table entry, its sample scaled to ``target``."""
    import numpy as np

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from op_db import OP_DB

    out = []
    for info in OP_DB:
        s = _pick_sample(info)
        if s is None:
            out.append((info.name, None, info, "no sample with dimensioned, finite inputs"))
            continue
        arrs = _arrays_of((s.input, s.args, s.kwargs), [])
        base = max(arrs, key=lambda a: a.size)
        size, nd = base.size, sum(n > 1 for n in base.shape) or 1
        if info.name in SHAPE_ARGS:  # the requested shape may be larger than the input
            ints = [i for i in _ints_of(s.args) if i > 1]
            if math.prod(ints) > size:
                size, nd = math.prod(ints), len(ints)
        k = (target / size) ** (1.0 / nd)
        if info.name in SHAPE_ARGS:
            k = max(1, round(k))
        rng = np.random.default_rng(0)
        memo = {}

        def f(a, k=k, rng=rng, memo=memo):
            if isinstance(a, np.dtype):
                return a
            if id(a) not in memo:  # an array used twice stays one array
                memo[id(a)] = _scaled(a, k, rng)
            return memo[id(a)]

        x, args, kw = _map((s.input, s.args, s.kwargs), f)
        if info.name == "unflatten":  # (dim, sizes): one of the sizes takes the factor
            args = (args[0], (_scale_ints(args[1][0], k), *args[1][1:]), *args[2:])
        elif info.name in SHAPE_ARGS:
            args = _scale_ints(args, k)
        out.append((info.name, (x, args, kw), info, None))
    return out


# ============================================================================ extras
def _extras(target):
    """Hand-written cases for ops outside the table: name -> (fn(mod, F, *ts), arrays).

    ``F`` is the framework's ``nn.functional``; ``arrays`` are NumPy inputs (floating ones
    become gradient leaves in the backward cases)."""
    import numpy as np

    rng = np.random.default_rng(0)
    big = target >= 100_000

    def r(*shape, dtype=np.float32):
        return rng.standard_normal(shape).astype(dtype)

    def ints(n, hi):
        return rng.integers(0, hi, size=n).astype(np.int64)

    n1 = target
    c = {}
    # cdist: the 500x400x64 at the large size
    a1, a2 = ((r(500, 64), r(400, 64)) if big else (r(16, 64), r(12, 64)))
    c["cdist.p2"] = (lambda m, F, x, y: m.cdist(x, y), [a1, a2])
    c["cdist.p2_nomm"] = (lambda m, F, x, y: m.cdist(
        x, y, compute_mode="donot_use_mm_for_euclid_dist"), [a1, a2])
    c["cdist.p1"] = (lambda m, F, x, y: m.cdist(x, y, p=1.0), [a1, a2])
    c["cdist.pinf"] = (lambda m, F, x, y: m.cdist(x, y, p=float("inf")), [a1, a2])
    # grid_sample: N,C,H,W input and an N,H,W,2 grid
    hw = 128 if big else 16
    nb, ch = (4, 16) if big else (1, 4)
    g = rng.uniform(-1.1, 1.1, size=(nb, hw, hw, 2)).astype(np.float32)
    c["grid_sample.bilinear"] = (lambda m, F, x, gr: F.grid_sample(
        x, gr, align_corners=False), [r(nb, ch, hw, hw), g])
    c["grid_sample.nearest"] = (lambda m, F, x, gr: F.grid_sample(
        x, gr, mode="nearest", align_corners=False), [r(nb, ch, hw, hw), g])
    # unique / sort family on integers and floats
    c["unique.counts"] = (lambda m, F, x: m.unique(x, return_counts=True),
                          [ints(n1, 1000)])
    c["unique.inverse"] = (lambda m, F, x: m.unique(x, return_inverse=True),
                           [ints(n1, 1000)])
    c["unique.float"] = (lambda m, F, x: m.unique(x), [r(n1)])
    c["sort"] = (lambda m, F, x: m.sort(x)[0], [r(n1)])
    c["argsort"] = (lambda m, F, x: m.argsort(x), [r(n1)])
    c["topk"] = (lambda m, F, x: m.topk(x, 10)[0], [r(n1)])
    c["cumprod"] = (lambda m, F, x: m.cumprod(x, 0), [rng.uniform(0.999, 1.001, n1)
                                                       .astype(np.float32)])
    # indexing
    rows = int(math.sqrt(n1))
    c["index_select"] = (lambda m, F, x, i: m.index_select(x, 0, i),
                         [r(rows, rows), ints(rows, rows)])
    c["gather"] = (lambda m, F, x, i: m.gather(x, 1, i), [r(rows, rows),
                                                          ints(rows * rows, rows)
                                                          .reshape(rows, rows)])
    c["scatter_add"] = (lambda m, F, x, i, v: x.scatter_add(1, i, v),
                        [r(rows, rows), ints(rows * rows, rows).reshape(rows, rows),
                         r(rows, rows)])
    c["nonzero"] = (lambda m, F, x: m.nonzero(x), [r(n1) > 0])
    c["masked_select"] = (lambda m, F, x, k: m.masked_select(x, k), [r(n1), r(n1) > 0])
    # convolutions: (input, weight) sized so the input holds about `target` elements
    if big:
        c1, l1, k1 = (16, 64, 1000), (64, 64, 5), {}
        i2, w2 = (8, 32, 64, 64), (32, 32, 3, 3)
        i11, w11 = (8, 64, 44, 44), (64, 64, 1, 1)
        idw, wdw = (8, 64, 44, 44), (64, 1, 3, 3)
        it, wt = (8, 32, 32, 32), (32, 16, 4, 4)
        ip = (8, 32, 64, 64)
    else:
        c1, l1, k1 = (1, 8, 128), (8, 8, 3), {}
        i2, w2 = (1, 4, 16, 16), (4, 4, 3, 3)
        i11, w11 = (1, 16, 8, 8), (16, 16, 1, 1)
        idw, wdw = (1, 16, 8, 8), (16, 1, 3, 3)
        it, wt = (1, 4, 16, 16), (4, 4, 4, 4)
        ip = (1, 4, 16, 16)
    c["conv1d"] = (lambda m, F, x, w: F.conv1d(x, w, padding=2 if big else 1, **k1),
                   [r(*c1), r(*l1)])
    c["conv2d.3x3"] = (lambda m, F, x, w: F.conv2d(x, w, padding=1), [r(*i2), r(*w2)])
    c["conv2d.3x3s2"] = (lambda m, F, x, w: F.conv2d(x, w, stride=2, padding=1),
                         [r(*i2), r(*w2)])
    c["conv2d.1x1"] = (lambda m, F, x, w: F.conv2d(x, w), [r(*i11), r(*w11)])
    c["conv2d.depthwise"] = (lambda m, F, x, w: F.conv2d(x, w, padding=1, groups=w.shape[0]),
                             [r(*idw), r(*wdw)])
    c["conv_transpose2d"] = (lambda m, F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
                             [r(*it), r(*wt)])
    c["max_pool2d"] = (lambda m, F, x: F.max_pool2d(x, 2), [r(*ip)])
    c["avg_pool2d"] = (lambda m, F, x: F.avg_pool2d(x, 2), [r(*ip)])
    c["adaptive_avg_pool2d"] = (lambda m, F, x: F.adaptive_avg_pool2d(x, 1), [r(*ip)])
    c["interpolate.bilinear"] = (lambda m, F, x: F.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=False), [r(*ip)])
    c["pad.reflect"] = (lambda m, F, x: F.pad(x, (1, 1, 1, 1), mode="reflect"), [r(*ip)])
    # nn ops on a (rows, cols) batch; the fused kernels of another issue land here too
    cols = 1000 if big else 32
    rws = max(1, target // cols)
    c["linear"] = (lambda m, F, x, w, b: F.linear(x, w, b),
                   [r(rws, cols), r(cols // 2, cols), r(cols // 2)])
    c["gelu"] = (lambda m, F, x: F.gelu(x), [r(rws, cols)])
    c["gelu.tanh"] = (lambda m, F, x: F.gelu(x, approximate="tanh"), [r(rws, cols)])
    c["silu"] = (lambda m, F, x: F.silu(x), [r(rws, cols)])
    c["layer_norm"] = (lambda m, F, x, w, b: F.layer_norm(x, (cols,), w, b),
                       [r(rws, cols), r(cols), r(cols)])
    c["batch_norm.train"] = (lambda m, F, x, w, b: F.batch_norm(
        x, None, None, w, b, training=True), [r(*ip), r(ip[1]), r(ip[1])])
    c["cross_entropy"] = (lambda m, F, x, t: F.cross_entropy(x, t),
                          [r(rws, cols), ints(rws, cols)])
    c["embedding"] = (lambda m, F, i, w: F.embedding(i, w),
                      [ints(max(1, target // 64), 1000), r(1000, 64)])
    return c


NO_GRAD = {"unique.float", "argsort"}  # float inputs, no differentiable output


# ============================================================================ worker
def _timeit(fn, batch_s, repeat):
    """Median seconds per call over ``repeat`` batches each lasting >= ``batch_s``."""
    fn()  # warm-up; also the validity check
    n, clock = 1, time.perf_counter
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        dt = clock() - t0
        if dt >= batch_s or n >= 1 << 16:
            break
        n = min(1 << 16, max(n * 2, int(n * batch_s / max(dt, 1e-9) * 1.1)))
    times = [dt / n]
    for _ in range(repeat - 1):
        t0 = clock()
        for _ in range(n):
            fn()
        times.append((clock() - t0) / n)
    return statistics.median(times)


def _outputs(out, mod):
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, mod.Tensor) and o.is_floating_point()
            and o.requires_grad]


def _make_runner(mod, fn, raw, mode):
    """A zero-argument callable running ``fn`` on ``raw`` inputs (fwd or fwd+bwd)."""
    import numpy as np

    def conv(a):  # a fresh copy per framework process, dtypes by name
        return getattr(mod, a.name) if isinstance(a, np.dtype) else mod.from_numpy(a.copy())

    inputs = _map(raw, conv)
    if mode == "fwd":
        return lambda: fn(inputs)
    leaves = [t for t in _arrays_of_tensors(inputs, mod, []) if t.is_floating_point()]
    if not leaves:
        raise _Skip("no floating input to differentiate")
    for t in leaves:
        t.requires_grad_(True)
    outs = _outputs(fn(inputs), mod)
    if not outs:
        raise _Skip("no differentiable output")
    rng = np.random.default_rng(7)
    grads = [mod.from_numpy(rng.standard_normal(tuple(o.shape))
                            .astype(str(o.dtype).split(".")[-1])) for o in outs]

    def run():
        o = _outputs(fn(inputs), mod)
        return mod.autograd.grad(o, leaves, grads, allow_unused=True)

    return run


def _arrays_of_tensors(obj, mod, out):
    if isinstance(obj, mod.Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _arrays_of_tensors(o, mod, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            _arrays_of_tensors(v, mod, out)
    return out


class _Skip(Exception):
    pass


def refuse_duplicate_names(names):
    """Raise ValueError naming every case name given more than once.

    Timings and skips are keyed by ``name@size:mode``, so a second case under a taken name
    (an op-table entry and an extra of the same name, or a table entry listed twice) would
    silently replace the first one's figures.

    Args:
        names: the case names of one size, table entries and extras together.

    Example:
        >>> refuse_duplicate_names(["add", "conv2d.1x1"])
        >>> refuse_duplicate_names(["add", "max_pool2d", "max_pool2d"])
        Traceback (most recent call last):
        ...
        ValueError: op sweep: case names given more than once: max_pool2d
    """
    seen, dup = set(), []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    if dup:
        raise ValueError(f"op sweep: case names given more than once: {', '.join(dup)}")


def worker(a):
    """Time every case in this process; print {case: seconds} (skips on stderr)."""
    import warnings

    if a.lib == "torch":
        import torch as mod
        import torch.nn.functional as F

        if a.threads:
            mod.set_num_threads(a.threads)
    else:
        sys.path.insert(0, ROOT)
        import ember as mod
        import ember.nn.functional as F

        if a.threads:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mod.set_num_threads(a.threads)
    warnings.simplefilter("ignore")
    only = re.compile(a.only) if a.only else None
    times, skips, hows = {}, {}, {}
    for size in a.sizes.split(","):
        target = SIZES[size]
        cases = []
        for name, sample, info, why in table_cases(target):
            floats = sample is not None and any(
                x.dtype.kind == "f" for x in _arrays_of(sample, []))
            modes = ("fwd", "fwd+bwd") if info.differentiable and floats else ("fwd",)
            if why:
                for m in modes:
                    skips[f"{name}@{size}:{m}"] = why
                continue

            def fn(ins, info=info):
                x, args, kw = ins
                return info.op(mod, x, *args, **kw)

            cases.append((name, fn, sample, modes, info))
        for name, (f, arrs) in _extras(target).items():
            def fn(ins, f=f):
                return f(mod, F, *ins)

            grad = name not in NO_GRAD and any(x.dtype.kind == "f" for x in arrs)
            cases.append((name, fn, list(arrs), ("fwd", "fwd+bwd") if grad else ("fwd",),
                          None))
        refuse_duplicate_names([name for name, *_ in cases])
        gc.collect()  # once per size: a full collection costs ~0.1 s with torch loaded
        for name, fn, raw, modes, _info in cases:
            for m in modes:
                case = f"{name}@{size}:{m}"
                if only and not only.search(case):
                    continue
                try:
                    run = _make_runner(mod, fn, raw, m)
                    times[case] = _timeit(run, a.batch_ms / 1e3, a.repeat)
                except _Skip as e:
                    skips[case] = str(e)
                except Exception as e:  # noqa: BLE001 - reported per case, never hidden
                    skips[case] = f"{a.lib}: {type(e).__name__}: {str(e)[:160]}"
        if a.variants:  # after the size's forward cases, on the same scaled samples
            _time_variants(mod, a, size, target, cases, only, times, skips, hows)
    print("SKIPS " + json.dumps(skips), file=sys.stderr)
    print("HOWS " + json.dumps(hows), file=sys.stderr)
    if a.json:
        print(json.dumps(times))
    else:
        for k, v in times.items():
            print(f"{k:50s} {v * 1e6:12.2f} us")


# ============================================================================ variants
# NOTE [ In-place and out= variants ]
# Users call the in-place methods (x.add_(y), x.clamp_min_(0.5)) and out= (add(a, b, out=o))
# as much as the functions, and they take other code paths, so the sweep times them too,
# generated from the table so that coverage follows it:
#
# * ``NAME_@SIZE:inplace``: every entry (on its scaled sample) whose input is a tensor and
#   whose Tensor has the method ``<fn>_``, called as ``x.<fn>_(*args, **kwargs)``.
#   PyTorch decides what exists: a method PyTorch lacks is no case at all (the torch
#   worker generates nothing, the driver drops the ember worker's "no method" note), one
#   ember lacks is a case skipped with "ember: no Tensor.<fn>_". Calls PyTorch refuses are
#   skipped with the reason before timing: a result bigger than the input (broadcasting)
#   or of a higher dtype category (a float result into an integer tensor); a call that
#   changes the input's shape (transpose_, unsqueeze_: view ops) is skipped too, since
#   repeated calls compound. Any other error is the case's skip reason, as elsewhere.
# * ``NAME@SIZE:out=``: every entry whose function takes ``out=``: called once without it
#   to learn the result's shapes and dtypes, then timed with a preallocated ``out`` (a
#   tuple for several results). Which functions take it is found by calling: a TypeError
#   from the call with out= (the one without worked) means "does not take it" (no case for
#   PyTorch, a skip for ember); a call that fails even without out= is no case either (its
#   forward case reports the error). The table's ``supports_out`` flag is not consulted,
#   so a gap in it leaves no gap here.
# * hand-written in-place extras for methods outside the table (``variant_extras``):
#   copy_ (same dtype, and from float64), fill_, zero_, and masked_fill_ if the table
#   lacks it.
#
# Repeated in-place calls drift (x.mul_(y) overflows, x.exp_() reaches inf, x.sqrt_()
# converges to 1), and special values take other (often faster) paths; a fresh copy per
# call inside the timing would dominate it. What is done: the tensor is reset from a saved
# copy before every batch, outside the timed region, and the calls of one batch run on the
# same tensor, in place. After each batch the tensor is
# checked: if it holds more special values (zeros, infinities, NaN, subnormals) than after
# a single call (0.1% slack), the values drifted to where the op's speed may differ, and
# the case is timed again with a reset before every call, each call timed alone (timer
# overhead ~0.1 us per call, the same for both frameworks). The method used is reported per
# case ("batch" or "each"). Integer and bool tensors are not checked (drift there only
# wraps or saturates values, which does not change the work). Limits: the check sees the
# batch's end state only (values that pass through subnormals and come back are missed),
# and growth within the normal range (add_ adds y n times) is accepted as harmless.
#
# Both variants time the forward call only; the forward / forward + backward summary lines
# and tables do not include them.
VARIANT_MODES = ("inplace", "out=")


def variant_extras(target):
    """Hand-written in-place cases: name -> (call(x, *others), [arrays]); x is arrays[0]."""
    import numpy as np

    rng = np.random.default_rng(5)
    cols = 1000 if target >= 100_000 else 32
    shape = (max(1, target // cols), cols)

    def r(dtype=np.float32):
        return rng.standard_normal(shape).astype(dtype)

    return {
        "copy_": (lambda x, y: x.copy_(y), [r(), r()]),
        "copy_.from_float64": (lambda x, y: x.copy_(y), [r(), r(np.float64)]),
        "fill_": (lambda x: x.fill_(1.5), [r()]),
        "zero_": (lambda x: x.zero_(), [r()]),
        "masked_fill_": (lambda x, m: x.masked_fill_(m, 0.5), [r(), r() > 0]),
    }


class _Absent(_Skip):
    """This framework has no such variant (no method, no out=)."""


def _kind(t, mod):
    """0 bool, 1 integer, 2 floating, 3 complex: PyTorch's in-place cast order."""
    if t.dtype == mod.bool:
        return 0
    if t.is_complex():
        return 3
    return 2 if t.is_floating_point() else 1


def _special_count(t):
    """Elements whose values take other paths (zeros, subnormals, infinities, NaN); None
    for integer and bool tensors."""
    import numpy as np

    a = t.numpy()
    if a.dtype.kind not in "fc":
        return None
    mag = np.abs(a)
    # NaN, zeros and subnormals fail the comparison; infinities pass it and are added
    return int(np.count_nonzero(~(mag >= np.finfo(a.dtype).tiny))
               + np.count_nonzero(np.isinf(mag)))


def _conv(mod):
    import numpy as np

    def conv(a):
        return getattr(mod, a.name) if isinstance(a, np.dtype) else mod.from_numpy(a.copy())
    return conv


def _inplace_case(mod, method, call, x, result):
    """(call, reset, healthy) for timing ``call`` in place on ``x``; _Skip if invalid."""
    if not isinstance(result, mod.Tensor):
        raise _Skip("the op returns several results: no in-place form")
    if tuple(result.shape) != tuple(x.shape):
        if result.numel() > x.numel():
            raise _Skip(f"in-place invalid: the result {tuple(result.shape)} is bigger than "
                        f"the input {tuple(x.shape)} (broadcasting)")
        raise _Skip(f"{method} changes the input's shape {tuple(x.shape)} -> "
                    f"{tuple(result.shape)} in place (a view op): repeated calls compound")
    if _kind(result, mod) > _kind(x, mod):
        raise _Skip(f"in-place invalid: a {result.dtype} result cannot be written into a "
                    f"{x.dtype} input")
    saved = x.clone()
    base = None

    def reset():
        x.copy_(saved)

    def healthy():
        n = _special_count(x)
        return n is None or n <= base + max(1, x.numel() // 1000)

    reset()
    call()  # one call: the state the check compares against; also the validity check
    base = _special_count(x)
    return call, reset, healthy


def _timeit_inplace(call, reset, healthy, batch_s, repeat):
    """(median seconds per call, "batch" or "each"): NOTE [ In-place and out= variants ]."""
    clock = time.perf_counter

    def batch(n):
        reset()
        t0 = clock()
        for _ in range(n):
            call()
        dt = clock() - t0
        return dt if healthy() else None

    def each(n):
        dt = 0.0
        for _ in range(n):
            reset()
            t0 = clock()
            call()
            dt += clock() - t0
        return dt

    for how, run in (("batch", batch), ("each", each)):
        n = 1
        while True:
            dt = run(n)
            if dt is None or dt >= batch_s or n >= 1 << 16:
                break
            n = min(1 << 16, max(n * 2, int(n * batch_s / max(dt, 1e-9) * 1.1)))
        times = [] if dt is None else [dt / n]
        while dt is not None and len(times) < repeat:
            dt = run(n)
            if dt is not None:
                times.append(dt / n)
        if dt is not None:
            return statistics.median(times), how
    raise AssertionError("unreachable: 'each' never drifts")


def _variant_cases(mod, lib, size, target, cases):
    """(key, setup) for every variant case of one size; setup() -> a timing closure."""
    import numpy as np

    out = []
    taken = set()
    for name, _fn, raw, _modes, info in cases:
        if info is None:  # the nn extras: no variants
            continue
        fn = info.fn_name
        rest = name[len(fn):]
        method = fn + "_"
        if isinstance(raw[0], np.ndarray):
            key = f"{method}{rest}@{size}:inplace"
            taken.add(method + rest)
            out.append((key, lambda info=info, raw=raw, method=method:
                        _table_inplace(mod, lib, info, raw, method)))
        out.append((f"{name}@{size}:out=", lambda info=info, raw=raw:
                    _table_out(mod, lib, info, raw)))
    for name, (call, arrs) in variant_extras(target).items():
        if name not in taken:  # "if absent": the table's own case wins
            out.append((f"{name}@{size}:inplace", lambda call=call, arrs=arrs, name=name:
                        _extra_inplace(mod, lib, call, arrs, name)))
    refuse_duplicate_names([k for k, _ in out])
    return out


def _table_inplace(mod, lib, info, raw, method):
    if not hasattr(mod.Tensor, method):
        raise _Absent(f"{lib}: no Tensor.{method}")
    if not info.method:
        raise _Skip("the table's call is not the method form: its arguments need not map "
                    f"onto Tensor.{method}")
    if "test_variants" in info.skips:
        raise _Skip(info.skips["test_variants"])
    x, args, kw = _map(raw, _conv(mod))
    result = info.op(mod, x, *args, **kw)
    return _inplace_case(mod, method, lambda: getattr(x, method)(*args, **kw), x, result)


def _extra_inplace(mod, lib, call, arrs, name):
    method = name.split(".")[0]
    if not hasattr(mod.Tensor, method):
        raise _Absent(f"{lib}: no Tensor.{method}")
    x, *others = _map(list(arrs), _conv(mod))
    saved = x.clone()  # the functional result: one call on a copy
    result = call(saved, *others)
    return _inplace_case(mod, method, lambda: call(x, *others), x, result)


def _table_out(mod, lib, info, raw):
    x, args, kw = _map(raw, _conv(mod))
    if "out" in kw:
        raise _Skip("the sample passes out= itself")
    try:
        result = info.op(mod, x, *args, **kw)
    except Exception as e:  # noqa: BLE001 - the forward case reports it; here it only
        # means whether out= exists is unknown: PyTorch's worker makes no case of it
        raise _Absent(f"{lib}: the call fails without out= ({type(e).__name__}: "
                      f"{str(e)[:100]})") from None
    if isinstance(result, mod.Tensor):
        o = mod.empty(tuple(result.shape), dtype=result.dtype)
    elif isinstance(result, (tuple, list)) and result and all(
            isinstance(r, mod.Tensor) for r in result):
        o = tuple(mod.empty(tuple(r.shape), dtype=r.dtype) for r in result)
    else:  # a Python value (equal, is_nonzero): nowhere to write it
        raise _Absent(f"{lib}: returns {type(result).__name__}, not tensors: no out= form")
    try:
        info.op(mod, x, *args, out=o, **kw)
    except TypeError as e:  # the same call without out= worked: out= is what is refused
        # (PyTorch's message may name another argument: _foreach_sub's overloads)
        raise _Absent(f"{lib}: no out= ({str(e)[:120]})") from None
    return lambda: info.op(mod, x, *args, out=o, **kw)


def _time_variants(mod, a, size, target, cases, only, times, skips, hows):
    """Time the variant cases of one size into ``times``/``skips``/``hows`` (the worker's)."""
    for key, setup in _variant_cases(mod, a.lib, size, target, cases):
        if only and not only.search(key):
            continue
        try:
            made = setup()
            if isinstance(made, tuple):  # in place: (call, reset, healthy)
                times[key], hows[key] = _timeit_inplace(*made, a.batch_ms / 1e3, a.repeat)
            else:
                times[key] = _timeit(made, a.batch_ms / 1e3, a.repeat)
        except _Absent as e:
            if a.lib != "torch":  # PyTorch decides what exists; the driver drops the rest
                skips[key] = str(e)
        except _Skip as e:
            skips[key] = str(e)
        except Exception as e:  # noqa: BLE001 - reported per case, never hidden
            skips[key] = f"{a.lib}: {type(e).__name__}: {str(e)[:160]}"


# ============================================================================ driver
def _run_process(lib, a):
    env = dict(os.environ)
    if a.threads:
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(a.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--lib", lib, "--json",
           "--sizes", a.sizes, "--batch-ms", str(a.batch_ms), "--repeat", str(a.repeat),
           "--threads", str(a.threads)]
    if a.only:
        cmd += ["--only", a.only]
    if not a.variants:
        cmd += ["--no-variants"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{lib} worker failed:\n{p.stderr[-3000:]}")
    skips, hows = {}, {}
    for line in p.stderr.splitlines():
        if line.startswith("SKIPS "):
            skips = json.loads(line[6:])
        elif line.startswith("HOWS "):
            hows = json.loads(line[5:])
    return json.loads(p.stdout.strip().splitlines()[-1]), skips, hows


def _fmt(s):
    return f"{s * 1e3:.2f} ms" if s >= 1e-3 else f"{s * 1e6:.1f} us"


def summarise(samples, skips, labels=("ember", "torch")):
    """Per case: medians, spreads, ratio and verdict; plus skip reasons by case."""
    rows = {}
    cases = sorted(set(samples[labels[0]]) | set(samples[labels[1]])
                   | set(skips[labels[0]]) | set(skips[labels[1]]))
    for case in cases:
        row = {}
        for lb in labels:
            ts = samples[lb].get(case)
            if ts:
                row[lb] = {"median": statistics.median(ts), "min": min(ts), "max": max(ts),
                           "samples": ts}
            else:
                row[lb] = {"skipped": skips[lb].get(case, "not run")}
        e, t = row[labels[0]], row[labels[1]]
        if "median" in e and "median" in t:
            row["ratio"] = e["median"] / t["median"]
            overlap = e["min"] <= t["max"] and t["min"] <= e["max"]
            row["verdict"] = ("tie (spreads overlap)" if overlap else
                              f"{labels[0] if e['median'] < t['median'] else labels[1]} faster")
        rows[case] = row
    return rows


def _summary_and_table(rows, meta, modes, worst_title, timing=False):
    """Summary lines per size and mode, the worst 25 and the full table of ``rows``."""
    lines = []
    for size in meta["sizes"]:
        for mode in modes:
            rs = [r["ratio"] for c, r in rows.items() if "ratio" in r
                  and c.endswith(f"@{size}:{mode}")]
            if rs:
                over = sum(x > 2 for x in rs)
                lines.append(f"- {size} {mode}: {len(rs)} cases, median ember/PyTorch "
                             f"{statistics.median(rs):.2f}, {over} over 2x, worst "
                             f"{max(rs):.2f}")
    worst = sorted(((r["ratio"], c) for c, r in rows.items() if "ratio" in r), reverse=True)
    lines += ["", worst_title, "", "| case | ratio |", "|---|---|"]
    lines += [f"| {c} | {x:.2f} |" for x, c in worst[:25]]
    head = ("| case | ember median (min-max) | PyTorch median (min-max) | ember / PyTorch "
            "| verdict |")
    lines += ["", head + (" timing (ember, PyTorch) |" if timing else ""),
              "|---|---|---|---|---|" + ("---|" if timing else "")]
    for case, r in rows.items():
        cells = []
        for lb in ("ember", "torch"):
            v = r[lb]
            cells.append(f"{_fmt(v['median'])} ({_fmt(v['min'])}-{_fmt(v['max'])})"
                         if "median" in v else f"skipped: {v['skipped']}".replace("|", "/"))
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else "-"
        line = f"| {case} | {cells[0]} | {cells[1]} | {ratio} | {r.get('verdict', '-')} |"
        if timing:
            how = r.get("timing", {})
            line += f" {how.get('ember', '-')}, {how.get('torch', '-')} |"
        lines.append(line)
    return lines


def markdown(rows, meta):
    lines = [f"# Op sweep: {meta['header']}", ""]
    lines += _summary_and_table(rows, meta, ("fwd", "fwd+bwd"),
                                "Worst 25 by ratio (each also in the full table below):")
    return "\n".join(lines) + "\n"


def is_variant(case):
    """Whether ``case`` (NAME@SIZE:MODE) is an in-place or out= variant."""
    return case.rsplit(":", 1)[-1] in VARIANT_MODES


def pytorch_has(samples, skips, labels=("ember", "torch")):
    """Drop, in place, the variant cases PyTorch's worker did not generate.

    PyTorch decides which variants exist (NOTE [ In-place and out= variants ]): its worker
    generates no case for a method or ``out=`` it lacks, while ember's records its own
    lacks as skips, so a variant case with neither a time nor a skip from PyTorch is one
    PyTorch does not have. Cases that are not variants are kept whatever happened.

    Args:
        samples: per label, case -> list of seconds (one per round).
        skips: per label, case -> reason.
        labels: (ember's label, PyTorch's label).

    Example:
        >>> s = {"ember": {"t_@1e3:inplace": [1.0]}, "torch": {}}
        >>> k = {"ember": {}, "torch": {}}
        >>> pytorch_has(s, k)
        >>> s
        {'ember': {}, 'torch': {}}
    """
    peer = labels[1]
    for lb in labels:
        for d in (samples[lb], skips[lb]):
            for case in [c for c in d if is_variant(c)]:
                if case not in samples[peer] and case not in skips[peer]:
                    del d[case]


def variant_markdown(rows, meta):
    """The variants' summary lines, worst list and table ("" when there are none)."""
    if not rows:
        return ""
    lines = ["## In-place and out= variants", "",
             "Forward calls only; NOTE [ In-place and out= variants ] in op_sweep.py. "
             "Timing: batch = repeated in place, reset before each batch; each = reset "
             "before every call, each call timed alone (the values drifted when repeated).",
             ""]
    lines += _summary_and_table(rows, meta, VARIANT_MODES, "Worst 25 variants by ratio:",
                                timing=True)
    return "\n".join(lines) + "\n"


def driver(a):
    labels = ("ember", "torch")
    samples = {lb: {} for lb in labels}
    skips = {lb: {} for lb in labels}
    hows = {lb: {} for lb in labels}
    t0 = time.time()
    for rnd in range(a.rounds):
        for lb in (labels if rnd % 2 == 0 else labels[::-1]):
            ts, sk, hw = _run_process(lb, a)
            for case, t in ts.items():
                samples[lb].setdefault(case, []).append(t)
            skips[lb].update(sk)
            for case, h in hw.items():
                hows[lb].setdefault(case, set()).add(h)
        print(f"round {rnd + 1}/{a.rounds} done after {time.time() - t0:.0f} s",
              file=sys.stderr)
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:  # pragma: no cover
        load = "n/a"
    header = (f"{a.rounds} rounds, frameworks alternated, one process per run, {a.threads} "
              f"thread(s), batches >= {a.batch_ms} ms, median of {a.repeat} batches per run; "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load "
              f"{load}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}, "
              f"{time.time() - t0:.0f} s")
    pytorch_has(samples, skips, labels)
    rows = summarise(samples, skips, labels)
    for case, r in rows.items():
        if is_variant(case):
            r["timing"] = {lb: "/".join(sorted(hows[lb].get(case, ()))) or "-"
                           for lb in labels}
    meta = {"header": header, "sizes": a.sizes.split(","), "rounds": a.rounds,
            "threads": a.threads, "variants": a.variants}
    main_rows = {c: r for c, r in rows.items() if not is_variant(c)}
    md = markdown(main_rows, meta)
    vmd = variant_markdown({c: r for c, r in rows.items() if is_variant(c)}, meta)
    if a.out_json:
        with open(a.out_json, "w") as f:
            json.dump({"meta": meta, "cases": rows}, f, indent=1)
    if a.out_md:
        with open(a.out_md, "w") as f:
            f.write(md + ("\n" + vmd if vmd else ""))
    if a.out_md:
        print(md.split("\n| case | ember")[0])
        if vmd:
            print(vmd.split("\n| case | ember")[0])
    else:
        print(md + ("\n" + vmd if vmd else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", choices=["ember", "torch"], default=None,
                    help="run one worker process (prints timings) instead of the driver")
    ap.add_argument("--json", action="store_true", help="worker: one JSON line {case: s}")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sizes", default="1e3,1e6", help="comma-separated, of " + ",".join(SIZES))
    ap.add_argument("--only", default=None, help="regex on case names (NAME@SIZE:MODE)")
    ap.add_argument("--batch-ms", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="one round, one 0.2 ms batch per case: checks that cases run")
    ap.add_argument("--variants", action=argparse.BooleanOptionalAction, default=True,
                    help="also time the in-place (x.add_(y)) and out= (add(a, b, out=o)) "
                         "variants of the table's ops (default: on)")
    ap.add_argument("--out-json", default=None)
    ap.add_argument("--out-md", default=None)
    a = ap.parse_args(argv)
    if a.quick:
        a.rounds, a.batch_ms, a.repeat = 1, 0.2, 1
    if a.lib:
        worker(a)
    else:
        driver(a)


if __name__ == "__main__":
    main()
