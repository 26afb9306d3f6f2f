"""Eager composite ops on generated kernels (NOTE [ Eager ops on generated kernels ]):
results and gradients equal the NumPy path's, gradcheck passes, PyTorch agrees."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember._codegen import build, eager, set_disabled
from ember.autograd import gradcheck

needs_cc = pytest.mark.skipif(build.compiler()[0] is None, reason="no C compiler")


def _both(fn, *arrays):
    """``fn`` on fresh leaf tensors with kernels on and off: (outputs, grads) twice."""
    res = []
    for off in (False, True):
        old = set_disabled(off)
        try:
            ts = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
            out = fn(*ts)
            outs = out if isinstance(out, tuple) else (out,)
            g = np.random.default_rng(5).standard_normal(outs[0].shape).astype(
                outs[0].detach().numpy().dtype)
            outs[0].backward(ember.tensor(g))
            res.append(([o.detach().numpy() for o in outs],
                        [t.grad.numpy() if t.grad is not None else None for t in ts]))
        finally:
            set_disabled(old)
    return res


def _close(a, b, rtol=2e-5, atol=2e-6):
    for x, y in zip(a, b):
        if x is None or y is None:
            assert x is None and y is None
        else:
            assert x.shape == y.shape and x.dtype == y.dtype
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


CASES = {
    "gelu": (lambda x: F.gelu(x), [(6, 33)]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), [(4, 5, 7)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (16,), w, b), [(3, 5, 16), (16,), (16,)]),
    "layer_norm_2d": (lambda x: F.layer_norm(x, (4, 6)), [(7, 4, 6)]),
    "layer_norm_w": (lambda x, w: F.layer_norm(x, (9,), w), [(5, 9), (9,)]),
    "softmax": (lambda x: F.softmax(x, dim=1), [(4, 9, 3)]),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), [(5, 11)]),
    "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                   [(6, 4, 3, 5), (4,), (4,)]),
    "batch_norm_1d": (lambda x: F.batch_norm(x, None, None, training=True), [(8, 3)]),
}


@needs_cc
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_kernels_match_numpy_path(name, dtype):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) * 2 for s in shapes]
    (o1, g1), (o2, g2) = _both(fn, *arrays)
    _close(o1, o2)
    _close(g1, g2)


@needs_cc
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_through_kernels(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(1)
    ts = [ember.tensor(rng.standard_normal(s), dtype=ember.float64, requires_grad=True)
          for s in shapes]
    assert gradcheck(fn, ts)


@needs_cc
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_kernels(reduction):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((12, 7)).astype(np.float32) * 3
    t = rng.integers(0, 7, 12)
    t[3] = -100
    w = rng.random(7).astype(np.float32) + 0.5
    for kw in ({}, {"weight": ember.tensor(w)}):
        def fn(a, kw=kw):
            return F.cross_entropy(a, ember.tensor(t), reduction=reduction, **kw)
        (o1, g1), (o2, g2) = _both(fn, x)
        _close(o1, o2)
        _close(g1, g2)
    x4 = rng.standard_normal((3, 5, 4, 2)).astype(np.float32)
    t4 = rng.integers(0, 5, (3, 4, 2))
    (o1, g1), (o2, g2) = _both(lambda a: F.cross_entropy(a, ember.tensor(t4)), x4)
    _close(o1, o2)
    _close(g1, g2)
    xd = ember.tensor(rng.standard_normal((4, 6)), requires_grad=True)
    assert gradcheck(lambda a: F.cross_entropy(a, ember.tensor([0, 5, 2, 2])), [xd])


@needs_cc
def test_kernels_are_used_on_host_float_arrays_only():
    x = np.random.default_rng(3).standard_normal((4, 8)).astype(np.float32)
    assert eager.gelu(x, "none") is not None
    assert eager.softmax(x, 1) is not None
    assert eager.gelu(x.astype(np.float16), "none") is None      # NumPy path keeps these
    assert eager.softmax(x.astype(np.int32), 1) is None
    old = set_disabled(True)
    try:
        assert eager.gelu(x, "none") is None
    finally:
        set_disabled(old)
    # non-contiguous views go through the kernels with the same answers
    xt = np.ascontiguousarray(x.T).T
    np.testing.assert_array_equal(eager.softmax(xt, 1), eager.softmax(x, 1))


@needs_cc
def test_batch_norm_running_stats_and_modules():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3, 4, 4)).astype(np.float32)
    res = []
    for off in (False, True):
        old = set_disabled(off)
        try:
            bn = nn.BatchNorm2d(3)
            xe = ember.tensor(x, requires_grad=True)
            bn(xe).pow(2).sum().backward()
            res.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(),
                        xe.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()))
        finally:
            set_disabled(old)
    _close(res[0], res[1], rtol=1e-4, atol=1e-5)


@needs_cc
def test_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    h = rng.standard_normal((4, 6, 32)).astype(np.float32)
    for ef, tf in ((lambda t: F.gelu(t), lambda t: torch.nn.functional.gelu(t)),
                   (lambda t: F.layer_norm(t, (32,)),
                    lambda t: torch.nn.functional.layer_norm(t, (32,))),
                   (lambda t: F.log_softmax(t, -1), lambda t: torch.log_softmax(t, -1))):
        xe, xt = ember.tensor(h, requires_grad=True), torch.tensor(h, requires_grad=True)
        ye, yt = ef(xe), tf(xt)
        (ye * ye).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    c = rng.standard_normal((8, 3, 5, 5)).astype(np.float32)
    be, bt = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    xe, xt = ember.tensor(c, requires_grad=True), torch.tensor(c, requires_grad=True)
    be(xe).pow(2).sum().backward()
    bt(xt).pow(2).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(be.running_var.numpy(), bt.running_var.numpy(), rtol=1e-5)
    lg = rng.standard_normal((16, 10)).astype(np.float32)
    t = rng.integers(0, 10, 16)
    xe, xt = ember.tensor(lg, requires_grad=True), torch.tensor(lg, requires_grad=True)
    le = F.cross_entropy(xe, ember.tensor(t))
    lt = torch.nn.functional.cross_entropy(xt, torch.from_numpy(t))
    le.backward()
    lt.backward()
    np.testing.assert_allclose(le.item(), lt.item(), rtol=1e-6)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7)


@needs_cc
@pytest.mark.parametrize("kind", ["lstm", "lstm_proj", "gru"])
def test_recurrent_gate_kernels_match_numpy_path(kind):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    res = []
    for off in (False, True):
        old = set_disabled(off)
        try:
            ember.manual_seed(0)
            m = nn.GRU(4, 6) if kind == "gru" else \
                nn.LSTM(4, 6, proj_size=3 if kind == "lstm_proj" else 0)
            xe = ember.tensor(x, requires_grad=True)
            out = m(xe)[0]
            packed = nn.utils.rnn.pack_padded_sequence(xe, [5, 4, 2])
            out2 = nn.utils.rnn.pad_packed_sequence(m(packed)[0])[0]
            (out.pow(2).sum() + out2.sum()).backward()
            res.append([out.detach().numpy(), out2.detach().numpy(), xe.grad.numpy()] +
                       [p.grad.numpy() for p in m.parameters()])
        finally:
            set_disabled(old)
    _close(res[0], res[1], rtol=1e-5, atol=1e-6)


@needs_cc
@pytest.mark.parametrize("opt", ["Adam", "AdamW", "Adam_amsgrad_max"])
def test_adam_kernel_trajectories_bit_identical(opt):
    rng = np.random.default_rng(8)
    w0 = rng.standard_normal((7, 5)).astype(np.float32)
    grads = [rng.standard_normal((7, 5)).astype(np.float32) for _ in range(4)]
    res = []
    for off in (False, True):
        old = set_disabled(off)
        try:
            p = nn.Parameter(ember.tensor(w0))
            kw = {"amsgrad": True, "maximize": True, "weight_decay": 0.1} \
                if opt == "Adam_amsgrad_max" else {"weight_decay": 0.05}
            o = getattr(ember.optim, opt.split("_")[0])([p], lr=0.01, **kw)
            for g in grads:
                p.grad = ember.tensor(g)
                o.step()
            res.append(p.detach().numpy().copy())
        finally:
            set_disabled(old)
    np.testing.assert_array_equal(res[0], res[1])
