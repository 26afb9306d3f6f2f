"""nn basics side by side with PyTorch: Module call overhead, MLP training step, fused losses
and norms. Run: ``python benchmarks/nn_basic.py`` (PyTorch optional; threads set to 2)."""

from __future__ import annotations

import time

import numpy as np

import ember
import ember.nn as enn
import ember.nn.functional as EF

try:
    import torch
    torch.set_num_threads(2)
except ImportError:  # the peer is optional
    torch = None


def bench(fn, min_time=0.5, warmup=3):
    for _ in range(warmup):
        fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt > min_time:
            return dt / n


def mlp(lib_nn):
    return lib_nn.Sequential(lib_nn.Linear(784, 512), lib_nn.ReLU(), lib_nn.Linear(512, 512),
                             lib_nn.ReLU(), lib_nn.Linear(512, 10))


def train_step(lib, model, x, y, f):
    def step():
        for p in model.parameters():
            p.grad = None
        loss = f.cross_entropy(model(x), y)
        loss.backward()
        with lib.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.01)
    return step


def cases(lib):
    """{case: function} for one framework (``ember`` or ``torch``)."""
    rng = np.random.default_rng(0)
    nn, F = lib.nn, lib.nn.functional
    out = {}
    x1 = lib.randn(1, 4)
    ident, lin = nn.Identity(), nn.Linear(4, 4)
    out["Identity() call"] = lambda: ident(x1)
    out["Linear(4,4) call, 1x4"] = lambda: lin(x1)
    x = lib.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, 128))
    out["MLP 784-512-512-10 step b128"] = train_step(lib, mlp(nn), x, y, F)
    logits = lib.tensor(rng.standard_normal((256, 1000)).astype(np.float32),
                        requires_grad=True)
    tgt = lib.tensor(rng.integers(0, 1000, 256))
    out["cross_entropy 256x1000 fwd+bwd"] = lambda: F.cross_entropy(logits, tgt).backward()
    h = lib.tensor(rng.standard_normal((64, 128, 256)).astype(np.float32), requires_grad=True)
    ln = nn.LayerNorm(256)
    out["LayerNorm(256) 64x128x256 fwd+bwd"] = lambda: ln(h).sum().backward()
    c = lib.tensor(rng.standard_normal((32, 64, 16, 16)).astype(np.float32),
                   requires_grad=True)
    bn = nn.BatchNorm2d(64)
    out["BatchNorm2d(64) 32x64x16x16 fwd+bwd"] = lambda: bn(c).sum().backward()
    ge = nn.GELU()
    out["GELU 64x128x256 fwd+bwd"] = lambda: ge(h).sum().backward()
    return out


def main():
    import argparse
    import json

    p = argparse.ArgumentParser()
    p.add_argument("--lib", choices=["ember", "torch", "both"], default="both",
                   help="one framework per process (benchmarks/ab.py) or both side by side")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true", help="print {case: seconds} as JSON")
    args = p.parse_args()
    if args.lib != "both":
        if args.lib == "torch":
            import torch as lib
        else:
            lib = ember
        lib.set_num_threads(args.threads)
        res = {name: bench(fn, 2.0 if "MLP" in name else 0.5)
               for name, fn in cases(lib).items()}
        print(json.dumps(res) if args.json else
              "\n".join(f"{k}: {v * 1e6:.1f} us" for k, v in res.items()))
        return
    legacy_main()


def legacy_main():
    rng = np.random.default_rng(0)
    rows = []

    def row(name, e_fn, t_fn, unit="us", scale=1e6):
        te = bench(e_fn)
        tt = bench(t_fn) if torch is not None else float("nan")
        rows.append((name, te * scale, tt * scale, tt / te, unit))

    # Module __call__ overhead on a tiny input
    xe, xt = ember.randn(1, 4), (torch.randn(1, 4) if torch else None)
    ide, idt = enn.Identity(), (torch.nn.Identity() if torch else None)
    row("Identity() call", lambda: ide(xe), lambda: idt(xt))
    le, lt = enn.Linear(4, 4), (torch.nn.Linear(4, 4) if torch else None)
    row("Linear(4,4) call, 1x4", lambda: le(xe), lambda: lt(xt))

    # MLP training step, batch 128
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    me = mlp(enn)
    se = train_step(ember, me, ember.tensor(x), ember.tensor(y), EF)
    st = None
    if torch:
        mt = mlp(torch.nn)
        st = train_step(torch, mt, torch.from_numpy(x), torch.from_numpy(y), torch.nn.functional)
    te, tt = bench(se, 2.0), (bench(st, 2.0) if st else float("nan"))
    rows.append(("MLP 784-512-512-10 step b128 (samples/s)", 128 / te, 128 / tt, tt / te, "/s"))

    # fused kernels: forward + backward
    logits = rng.standard_normal((256, 1000)).astype(np.float32)
    tgt = rng.integers(0, 1000, 256)
    le_ = ember.tensor(logits, requires_grad=True)
    lt_ = torch.tensor(logits, requires_grad=True) if torch else None
    row("cross_entropy 256x1000 fwd+bwd",
        lambda: EF.cross_entropy(le_, ember.tensor(tgt)).backward(),
        lambda: torch.nn.functional.cross_entropy(lt_, torch.from_numpy(tgt)).backward())
    h = rng.standard_normal((64, 128, 256)).astype(np.float32)
    he = ember.tensor(h, requires_grad=True)
    ht = torch.tensor(h, requires_grad=True) if torch else None
    lne = enn.LayerNorm(256)
    lnt = torch.nn.LayerNorm(256) if torch else None
    row("LayerNorm(256) 64x128x256 fwd+bwd", lambda: lne(he).sum().backward(),
        lambda: lnt(ht).sum().backward())
    c = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
    ce = ember.tensor(c, requires_grad=True)
    ct = torch.tensor(c, requires_grad=True) if torch else None
    bne = enn.BatchNorm2d(64)
    bnt = torch.nn.BatchNorm2d(64) if torch else None
    row("BatchNorm2d(64) 32x64x16x16 fwd+bwd", lambda: bne(ce).sum().backward(),
        lambda: bnt(ct).sum().backward())
    ge = enn.GELU()
    gt = torch.nn.GELU() if torch else None
    row("GELU 64x128x256 fwd+bwd", lambda: ge(he).sum().backward(),
        lambda: gt(ht).sum().backward())

    print(f"{'benchmark':44s} {'ember':>12s} {'torch':>12s} {'ratio':>7s}")
    for name, e, t, ratio, unit in rows:
        if unit == "/s":
            ratio = e / t
        print(f"{name:44s} {e:10.1f}{unit:>2s} {t:10.1f}{unit:>2s} {ratio:7.2f}")
    print("ratio = torch time / ember time (>1: ember faster); for samples/s, ember / torch")


if __name__ == "__main__":
    main()
