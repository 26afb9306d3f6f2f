"""Hogwild training: several processes update one model in shared memory, without locks.

Each process trains the same 2-layer MLP on its own shard of a synthetic regression task
with plain SGD; the parameters live in shared memory (``Tensor.share_memory_``), so every
process's in-place updates land in the one model the main process evaluates. Gradients
stay private to each process.

Run: ``python examples/hogwild.py [--procs 2] [--steps 300] [--start-method spawn]``.
"""

from __future__ import annotations

import argparse
import math
import sys

sys.path.insert(0, __file__.rsplit("/examples/", 1)[0])

import ember  # noqa: E402
import ember.multiprocessing as mp  # noqa: E402
from ember import nn  # noqa: E402


class Net(nn.Module):
    """A 2-layer tanh MLP built from nn.Parameter."""

    def __init__(self, d_in: int = 8, d_hidden: int = 32) -> None:
        super().__init__()
        self.w1 = nn.Parameter(ember.randn(d_in, d_hidden) * (1.0 / math.sqrt(d_in)))
        self.b1 = nn.Parameter(ember.zeros(d_hidden))
        self.w2 = nn.Parameter(ember.randn(d_hidden, 1) * (1.0 / math.sqrt(d_hidden)))
        self.b2 = nn.Parameter(ember.zeros(1))

    def forward(self, x):
        return (x @ self.w1 + self.b1).tanh() @ self.w2 + self.b2


def make_data(n: int, seed: int, d_in: int = 8):
    """Inputs and targets of the task y = sin(x . a) (``a`` fixed, ``x`` from ``seed``)."""
    g = ember.Generator().manual_seed(seed)
    a = ember.linspace(-1.0, 1.0, d_in)
    x = ember.randn(n, d_in, generator=g)
    return x, (x @ a).sin().unsqueeze(1)


def evaluate(model: Net) -> float:
    x, y = make_data(512, seed=10_000)
    with ember.no_grad():
        return float(((model(x) - y) ** 2).mean())


def train(rank: int, model: Net, steps: int, lr: float, batch: int) -> None:
    """One Hogwild process: SGD on its own data shard, updating the shared parameters."""
    x, y = make_data(steps * batch, seed=rank + 1)
    params = list(model.parameters())
    for step in range(steps):
        xb, yb = x[step * batch:(step + 1) * batch], y[step * batch:(step + 1) * batch]
        loss = ((model(xb) - yb) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ember.no_grad():
            for p in params:
                p.sub_(lr * p.grad)  # in place: writes into the shared memory


def main(procs: int = 2, steps: int = 300, lr: float = 0.05, batch: int = 32,
         start_method: str = "spawn", seed: int = 0) -> tuple[float, float]:
    """Train with ``procs`` Hogwild processes; return (loss before, loss after)."""
    ember.manual_seed(seed)
    model = Net()
    model.share_memory()
    for p in model.parameters():  # until nn.Module.share_memory moves them itself
        p.share_memory_()
    assert all(p.is_shared() for p in model.parameters())
    before = evaluate(model)
    mp.spawn(train, args=(model, steps, lr, batch), nprocs=procs, start_method=start_method)
    return before, evaluate(model)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--start-method", default="spawn")
    args = ap.parse_args()
    before, after = main(args.procs, args.steps, args.lr, start_method=args.start_method)
    print(f"test loss before {before:.4f}, after {after:.4f} "
          f"({args.procs} processes x {args.steps} steps)")
