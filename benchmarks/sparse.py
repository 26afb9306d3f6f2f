"""Sparse COO workloads: ember vs PyTorch, one framework per process.

Run: python benchmarks/sparse.py --lib ember   (then --lib torch; or --lib both)
     python benchmarks/sparse.py --quick       (tiny sizes: checks that every case runs)
Prints milliseconds per iteration (best of several repeats). Cases: a GCN layer
(sparse adjacency @ dense features, forward and backward), ``torch.sparse.mm`` with a
gradient for the sparse values, a sparse embedding lookup + backward + ``SparseAdam``
step, and coalescing an uncoalesced tensor. Don't run it while tests or other jobs use the
CPU; compare ember and torch from runs on the same quiet machine.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import timeit

import numpy as np


def cases(lib, quick):
    rs = np.random.RandomState(0)
    n, nnz, f, h = (200, 2000, 16, 8) if quick else (20000, 200000, 64, 64)
    vocab, dim, batch = (1000, 16, 256) if quick else (100000, 64, 8192)
    idx = rs.randint(0, n, size=(2, nnz))
    vals = rs.rand(nnz).astype(np.float32)
    adj = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(vals), (n, n)).coalesce()
    x = lib.tensor(rs.randn(n, f).astype(np.float32))
    w = lib.tensor(rs.randn(f, h).astype(np.float32) * 0.1, requires_grad=True)
    vg = lib.tensor(vals, requires_grad=True)
    emb = lib.nn.Embedding(vocab, dim, sparse=True)
    opt = lib.optim.SparseAdam(emb.parameters(), lr=0.01)
    ids = lib.tensor(rs.randint(0, vocab, size=batch))
    raw = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(vals), (n, n))

    def gcn_layer():
        lib.relu(adj @ (x @ w)).sum().backward()

    def sparse_mm_values_grad():
        a = lib.sparse_coo_tensor(lib.tensor(idx), vg, (n, n))
        lib.sparse.mm(a, x).sum().backward()

    def embedding_sparse_adam():
        opt.zero_grad()
        emb(ids).pow(2).sum().backward()
        opt.step()

    def coalesce():
        raw.coalesce()

    return {"GCN layer adj @ (x @ w) fwd+bwd": gcn_layer,
            "sparse.mm with values grad fwd+bwd": sparse_mm_values_grad,
            "Embedding(sparse) + SparseAdam step": embedding_sparse_adam,
            "coalesce (uncoalesced, with duplicates)": coalesce}


def run(name, quick, repeat):
    lib = importlib.import_module(name)
    out = {}
    for case, fn in cases(lib, quick).items():
        fn()
        out[case] = min(timeit.repeat(fn, number=1, repeat=repeat)) * 1e3
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", choices=("ember", "torch", "both"), default="ember")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    libs = ("ember", "torch") if a.lib == "both" else (a.lib,)
    res = {lib: run(lib, a.quick, 1 if a.quick else a.repeat) for lib in libs}
    print(f"machine: {platform.machine()} ; python {platform.python_version()}")
    print("| case | " + " | ".join(f"{lib} (ms)" for lib in libs) + " |")
    print("|---|" + "---|" * len(libs))
    for case in res[libs[0]]:
        print(f"| {case} | " + " | ".join(f"{res[lib][case]:.2f}" for lib in libs) + " |")


if __name__ == "__main__":
    main()
