"""Conv and LSTM layer benchmarks: ember vs PyTorch (forward + backward), float32.

Run: ``python benchmarks/nn_conv.py``. Both frameworks run in the same process on the same
inputs; PyTorch keeps its default thread count unless ``--threads N`` is given (then both
``torch.set_num_threads(N)`` and, for ember's BLAS, nothing: set OPENBLAS_NUM_THREADS).
Prints the median time per step and the ember/PyTorch throughput ratio (>1: ember faster).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import ember


def _median_times(fns, reps, warmup=2):
    """Median seconds per call of each function, interleaved so load hits all alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    ts = [[] for _ in fns]
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            ts[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in ts]


def _conv_step(lib, batch, params):
    nn = lib.nn
    conv = nn.Conv2d(3, 16, 3)
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))
    with lib.no_grad():
        conv.weight.copy_(lib.from_numpy(params[0]))
        conv.bias.copy_(lib.from_numpy(params[1]))
    x = lib.from_numpy(batch)

    def step():
        for p in model.parameters():
            p.grad = None
        model(x).sum().backward()

    return step, model


def _lstm_step(lib, batch, seed):
    lib.manual_seed(seed)
    lstm = lib.nn.LSTM(32, 64)
    x = lib.from_numpy(batch)

    def step():
        for p in lstm.parameters():
            p.grad = None
        out, (h, c) = lstm(x)
        (out.sum() + h.sum() + c.sum()).backward()

    return step, lstm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:  # pragma: no cover - benchmark peer missing
        torch = None
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    img = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
    w = (rng.standard_normal((16, 3, 3, 3)) * 0.2).astype(np.float32)
    b = np.zeros(16, np.float32)
    seq = rng.standard_normal((20, 16, 32)).astype(np.float32)
    rows = []
    for name, make in (("conv2d(3->16,3x3)+relu+maxpool, 32x3x32x32, fwd+bwd",
                        lambda lib: _conv_step(lib, img, (w, b))[0]),
                       ("LSTM(32->64), seq 20, batch 16, fwd+bwd",
                        lambda lib: _lstm_step(lib, seq, 0)[0])):
        if torch is None:
            te, tt = _median_times([make(ember)], args.reps)[0], float("nan")
        else:
            te, tt = _median_times([make(ember), make(torch)], args.reps)
        rows.append((name, te, tt))
    threads = torch.get_num_threads() if torch is not None else "-"
    print(f"torch threads: {threads}")
    print(f"{'benchmark':58s} {'ember ms':>9s} {'torch ms':>9s} {'ratio':>6s}")
    for name, te, tt in rows:
        print(f"{name:58s} {te * 1e3:9.2f} {tt * 1e3:9.2f} {tt / te:6.2f}")


if __name__ == "__main__":
    main()
