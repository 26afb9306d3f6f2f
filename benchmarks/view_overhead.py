"""Per-call time of view ops (issue 18): ember vs PyTorch (when installed), side by side.

Run: python benchmarks/view_overhead.py [--grad] [--number N] [FILTER ...]
Prints microseconds per call (min of 5 repeats of N calls) on a 1000x1000 float32 tensor and
the ember/torch ratio; FILTER words keep the cases whose name contains one of them. With
--grad the inputs require grad (a node is recorded per view). Don't run it while tests or
other jobs use the CPU: compare ratios from one run only.
"""

from __future__ import annotations

import argparse
import timeit

CASES = [
    ("reshape(1000000)", "x.reshape(1000000)"),
    ("reshape((1000, 1000))", "m.reshape(x, (1000, 1000))"),
    ("view(-1)", "x.view(-1)"),
    ("view(1000, 1000)", "x.view(1000, 1000)"),
    ("view_as", "x.view_as(z)"),
    ("flatten()", "x.flatten()"),
    ("unflatten(1, (10, 100))", "x.unflatten(1, (10, 100))"),
    ("permute(1, 0)", "x.permute(1, 0)"),
    ("transpose(0, 1)", "x.transpose(0, 1)"),
    ("t()", "x.t()"),
    ("movedim(0, 1)", "x.movedim(0, 1)"),
    ("squeeze()", "x.squeeze()"),
    ("squeeze(0)", "y.squeeze(0)"),
    ("unsqueeze(0)", "x.unsqueeze(0)"),
    ("unsqueeze(-1)", "x.unsqueeze(-1)"),
    ("unsqueeze(0).expand(2, 1000, 1000)", "x.unsqueeze(0).expand(2, 1000, 1000)"),
    ("expand(1000, -1)", "y.expand(1000, -1)"),
    ("expand_as", "y.expand_as(z)"),
    ("broadcast_to(x, (2, 1000, 1000))", "m.broadcast_to(x, (2, 1000, 1000))"),
    ("narrow(0, 1, 5)", "x.narrow(0, 1, 5)"),
    ("select(0, 3)", "x.select(0, 3)"),
    ("x[3]", "x[3]"),
    ("x[1:5]", "x[1:5]"),
    ("x[:, 1:5]", "x[:, 1:5]"),
    ("chunk(4)", "x.chunk(4)"),
    ("split(250)", "x.split(250)"),
    ("tensor_split(4)", "x.tensor_split(4)"),
    ("unbind() of 8 rows", "s.unbind(0)"),
    ("contiguous() (already)", "x.contiguous()"),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("filters", nargs="*")
    p.add_argument("--grad", action="store_true")
    p.add_argument("--number", type=int, default=20000)
    args = p.parse_args()
    import ember

    libs = [("ember", ember)]
    try:
        import torch

        libs.append(("torch", torch))
    except ImportError:
        pass
    res = {}
    for lib, m in libs:
        x = m.randn(1000, 1000)
        y = m.randn(1, 1000)
        z = m.randn(1000, 1000)
        s = m.randn(8, 10)
        if args.grad:
            for t in (x, y, s):
                t.requires_grad_()
        for name, stmt in CASES:
            if args.filters and not any(f in name for f in args.filters):
                continue
            g = {"x": x, "y": y, "z": z, "s": s, "m": m}
            best = min(timeit.repeat(stmt, globals=g, number=args.number, repeat=5))
            res.setdefault(name, {})[lib] = best / args.number * 1e6
    print(f"| view op ({'grad' if args.grad else 'no grad'}) | ember (us) | torch (us) | ratio |")
    print("|---|---|---|---|")
    for name, d in res.items():
        e, t = d["ember"], d.get("torch")
        print(f"| {name} | {e:.2f} | " + (f"{t:.2f} | {e / t:.2f} |" if t else "- | - |"))


if __name__ == "__main__":
    main()
