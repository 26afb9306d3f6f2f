"""Every op-table entry on the device under test against the CPU: values, then gradients.

Failures are collected over the whole table and reported together (a GPU session is short:
one run should list everything that is wrong), and printed as they happen (run with ``-s``,
as ``scripts/gpu_check.sh`` does, so a run cut short by its time limit still shows them).
"""

from __future__ import annotations

import warnings

import numpy as np

import ember
from op_db import OP_DB
from test_ops import _map, _to_ember, samples


def _outs(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def _host(t):
    return t.detach().cpu().numpy()


def _close(a, b, dtype_kind):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "V":  # bfloat16 (the CPU keeps it; cuda refuses it)
        a, b = a.astype(np.float32), b.astype(np.float32)
    if a.dtype.kind in "fc":
        # GPU math libraries round transcendental functions differently (a few ulp) and sum
        # in another order: float32 tolerances, float64 near-exact
        tight = a.dtype in (np.float64, np.complex128)
        return np.allclose(a.astype(np.complex128), b.astype(np.complex128),
                           rtol=1e-7 if tight else 2e-4, atol=1e-9 if tight else 1e-5,
                           equal_nan=True)
    return np.array_equal(a, b)


def _to(dev):
    def conv(a):
        if isinstance(a, np.dtype):
            return getattr(ember, a.name)
        return _to_ember(a).to(dev)
    return conv


def _keep(a):
    return getattr(ember, a.name) if isinstance(a, np.dtype) else _to_ember(a)


def _run_table(dev, grads):
    failing, ran = {}, 0
    for info in OP_DB:
        dtypes = [d for d in info.dtypes if np.dtype(d).name != "bfloat16"] or info.dtypes
        dt = dtypes[0]
        for s in samples(info, dt):
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    x, args, kw = _map((s.input, s.args, s.kwargs), _keep)
                    if grads:
                        if not (isinstance(x, ember.Tensor) and x.is_floating_point()):
                            continue
                        x.requires_grad_(True)
                    real = info.op(ember, x, *args, **kw)
                    if grads:
                        loss = _loss(real)
                        if loss is None:
                            continue
                        loss.backward()
                        real = [x.grad] if x.grad is not None else []
                except Exception:
                    continue  # error samples are the error tests' business
                try:
                    xd, args, kw = _map((s.input, s.args, s.kwargs), _to(dev))
                    if grads:
                        xd = xd.detach().requires_grad_(True)
                    got = info.op(ember, xd, *args, **kw)
                    if grads:
                        _loss(got).backward()
                        got = [xd.grad] if real else []
                except Exception as e:
                    failing[info.name] = f"{type(e).__name__}: {str(e)[:200]}"
                    print(f"FAIL {info.name}: {failing[info.name]}", flush=True)
                    break
            ran += 1
            for r, d in zip(_outs(real), _outs(got), strict=True):
                if isinstance(r, ember.Tensor):
                    if not isinstance(d, ember.Tensor) or d.device.type != dev:
                        failing[info.name] = f"result not on {dev}: {type(d).__name__}"
                    elif not _close(_host(r), _host(d), r.dtype):
                        failing[info.name] = f"values differ for {s}"[:300]
                elif r != d and not (isinstance(r, float) and np.isnan(r) and np.isnan(d)):
                    failing[info.name] = f"{r!r} != {d!r}"
            if info.name in failing:
                print(f"FAIL {info.name}: {failing[info.name]}", flush=True)
                break
    return failing, ran


def _loss(out):
    """A scalar of the floating outputs (None when nothing is differentiable)."""
    total = None
    for o in _outs(out):
        if isinstance(o, ember.Tensor) and o.requires_grad and o.is_floating_point():
            v = (o * o).sum() if not o.is_complex() else o.abs().sum()
            total = v if total is None else total + v
    return total


def test_op_table_values(dev):
    failing, ran = _run_table(dev, grads=False)
    assert ran > 500
    assert failing == {}, "\n".join(f"{k}: {v}" for k, v in sorted(failing.items()))


def test_op_table_gradients(dev):
    failing, ran = _run_table(dev, grads=True)
    assert ran > 200
    assert failing == {}, "\n".join(f"{k}: {v}" for k, v in sorted(failing.items()))
