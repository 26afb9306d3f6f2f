"""Per-op overhead on tiny tensors: ember vs PyTorch (when installed), side by side.

Run: python benchmarks/overhead.py [--repeat N]
Prints microseconds per iteration (best of several repeats) and the ember/torch ratio.
Don't run it while tests or other jobs use the CPU: compare ratios from one run only.
"""

from __future__ import annotations

import argparse
import platform
import timeit

import numpy as np


def cases(lib):
    a0 = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    b0 = np.random.default_rng(1).standard_normal((4, 4)).astype(np.float32)
    a = lib.tensor(a0)
    b = lib.tensor(b0)
    ag = lib.tensor(a0, requires_grad=True)
    bg = lib.tensor(b0, requires_grad=True)

    def add_nograd():
        return a + b

    def add_grad():
        return ag + bg

    def mul_tanh_sum_fwd_bwd():
        (ag * bg).tanh().sum().backward()

    x = lib.randn(1, 10)
    prev_h = lib.randn(1, 20)
    w_h = lib.randn(20, 20, requires_grad=True)
    w_x = lib.randn(20, 10, requires_grad=True)
    ones = lib.ones(20, 1)

    def rnn_cell_fwd_bwd():
        i2h = lib.mm(w_x, x.t())
        h2h = lib.mm(w_h, prev_h.t())
        next_h = (i2h + h2h).tanh()
        next_h.backward(ones)

    return {
        "a + b (no grad)": add_nograd,
        "a + b (grad recording)": add_grad,
        "(a * b).tanh().sum() fwd+bwd": mul_tanh_sum_fwd_bwd,
        "talk's RNN cell fwd+bwd": rnn_cell_fwd_bwd,
    }


def measure(fn, number, repeat):
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--lib", choices=["ember", "torch", "both"], default="both",
                   help="time one framework (benchmarks/ab.py runs each in its own process)")
    p.add_argument("--mode", choices=["none", "dispatch", "function"], default="none",
                   help="ember with a no-op DispatchMode or TorchFunctionMode installed")
    p.add_argument("--json", action="store_true", help="print {case: seconds} as JSON")
    args = p.parse_args()
    libs = {}
    if args.lib in ("ember", "both"):
        import ember

        libs["ember"] = ember
        if args.mode == "dispatch":
            from ember._ops.core import DispatchMode

            DispatchMode().__enter__()
        elif args.mode == "function":
            from ember.overrides import TorchFunctionMode

            class _NoOp(TorchFunctionMode):
                def __torch_function__(self, func, types, args=(), kwargs=None):
                    return func(*args, **(kwargs or {}))

            _NoOp().__enter__()
    torch = None
    if args.lib in ("torch", "both"):
        try:
            import torch

            torch.set_num_threads(1)
            libs["torch"] = torch
        except ImportError:
            torch = None
    results = {}
    for name, lib in libs.items():
        for case, fn in cases(lib).items():
            number = 20000 if "bwd" not in case else 3000
            results[(name, case)] = measure(fn, number, args.repeat)
    if args.json:
        import json

        (name,) = libs if len(libs) == 1 else ("both",)
        print(json.dumps({case: t * 1e-6 for (_, case), t in results.items()}))
        return
    import ember

    print(f"machine: {platform.machine()} {platform.processor() or ''}; python "
          f"{platform.python_version()}; numpy {np.__version__}; ember {ember.__version__}"
          + (f"; torch {torch.__version__}" if torch else ""))
    print("| case | ember (us) | torch (us) | ratio |")
    print("|---|---|---|---|")
    for case in cases(ember):
        e = results.get(("ember", case), float("nan"))
        t = results.get(("torch", case))
        ratio = f"{e / t:.2f}" if t else "-"
        tt = f"{t:.2f}" if t else "-"
        print(f"| {case} | {e:.2f} | {tt} | {ratio} |")


if __name__ == "__main__":
    main()
