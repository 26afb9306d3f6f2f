"""The row-shift convolution kernels (NOTE [ Row-shift convolution ] in ``_ops/conv.py``) and
the direct BLAS binding (NOTE [ Direct GEMM binding ]): forward, input gradient and weight
gradient against the other convolution paths (row-shift switched off), with and without the
direct ``gemm``, in one and several sample blocks, and, where PyTorch is installed, against
its results."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._codegen import blas, conv_kernels
from ember._codegen.kernel import get_num_threads, set_disabled, set_num_threads
from ember._ops import conv as C

needs_kernels = pytest.mark.skipif(not conv_kernels.available(),
                                   reason="no C compiler: the row-shift path is not taken")

# (input shape, weight shape, stride, padding (lo, hi), dilation): 2-d with stride 1 along H
# (any along W), 'valid', 'same' with an even kernel (hi > lo), padding past the kernel's
# reach, dilation, a 1xK kernel; 1-d with any stride
CASES = [
    ((3, 32, 13, 13), (16, 32, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((2, 16, 9, 11), (12, 16, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((2, 8, 10, 12), (8, 8, 3, 5), (1, 2), ((1, 2), (1, 2)), (2, 1)),
    ((2, 12, 7, 9), (9, 12, 2, 4), (1, 1), ((0, 1), (1, 2)), (1, 1)),
    ((2, 24, 7, 9), (9, 24, 2, 3), (1, 3), ((0, 1), (0, 1)), (1, 2)),
    ((3, 12, 6, 6), (10, 12, 3, 2), (1, 1), ((3, 3), (3, 3)), (1, 1)),
    ((2, 16, 8, 8), (8, 16, 1, 3), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((2, 16, 5, 40), (8, 16, 3, 3), (1, 1), ((2, 0), (2, 0)), (2, 3)),
    ((3, 16, 30), (12, 16, 5), (2,), ((2,), (2,)), (1,)),
    ((2, 8, 25), (16, 8, 4), (3,), ((1,), (1,)), (2,)),
]


def _arrays(case, dtype, seed=0):
    xs, ws, s, (lo, hi), d = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    out = tuple(C._out_size(L + a + c, k, si, di)
                for L, a, c, k, si, di in zip(xs[2:], lo, hi, ws[2:], s, d))
    gy = rng.standard_normal((xs[0], ws[0], *out)).astype(dtype)
    return x, w, b, gy


def _passes(case, x, w, b, gy):
    """(forward with bias, input gradient, weight gradient) through the op forwards."""
    xs, ws, s, (lo, hi), d = case
    return (C._conv_fwd(x, w, b, (s, lo, hi, d, 1)),
            C._conv_t_fwd(gy, w, (s, lo, d, 1, xs[2:])),
            C._conv_w_fwd(x, gy, (s, lo, hi, d, 1, ws[2:])))


def _without_rowshift(monkeypatch, fn):
    with monkeypatch.context() as m:
        m.setattr(C, "_rs_ok", lambda *a: False)
        return fn()


def _close(a, b, dtype):
    tol = 2e-4 if dtype == np.float32 else 1e-11
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_matches_other_paths(case, dtype, monkeypatch):
    x, w, b, gy = _arrays(case, dtype)
    xs, ws, s = case[0], case[1], case[2]
    assert C._rs_ok(x, ws[2:], s, 1, xs[1], ws[0])  # the case does take the new path
    got = _passes(case, x, w, b, gy)
    ref = _without_rowshift(monkeypatch, lambda: _passes(case, x, w, b, gy))
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype
        _close(g, r, dtype)


@needs_kernels
@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[8]])
def test_numpy_matmul_fallback(case, monkeypatch):
    """Without the direct gemm (no symbol found) the same products run through np.matmul;
    with the direct gemm but no threaded pieces the results are bit-for-bit those of the
    np.matmul products (the same BLAS, the same operands)."""
    x, w, b, gy = _arrays(case, np.float32)
    full = _passes(case, x, w, b, gy)
    with monkeypatch.context() as m:
        m.setattr(blas, "address", lambda dtype=None: None)  # whole-GEMM loops, direct gemm
        direct = _passes(case, x, w, b, gy)
        m.setattr(blas, "gemm", lambda *a, **k: False)  # np.matmul
        plain = _passes(case, x, w, b, gy)
    for f, dg, p in zip(full, direct, plain):
        np.testing.assert_array_equal(dg, p)
        _close(f, p, np.float32)


@needs_kernels
@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[8]])
def test_several_sample_blocks(case, monkeypatch):
    case = ((9,) + case[0][1:],) + case[1:]  # 9 samples: three blocks of the minimum 4 -> 3
    x, w, b, gy = _arrays(case, np.float64)
    one = _passes(case, x, w, b, gy)
    with monkeypatch.context() as m:
        m.setattr(C, "_RS_BLOCK", 1)  # the fewest samples per block
        many = _passes(case, x, w, b, gy)
    for a, c in zip(one, many):
        _close(a, c, np.float64)


@needs_kernels
def test_thread_counts_agree():
    case = CASES[1]
    x, w, b, gy = _arrays(case, np.float64)
    old = get_num_threads()
    try:
        set_num_threads(1)
        one = _passes(case, x, w, b, gy)
        set_num_threads(3)
        three = _passes(case, x, w, b, gy)
    finally:
        set_num_threads(old)
    for a, c in zip(one, three):
        _close(a, c, np.float64)


@needs_kernels
@pytest.mark.parametrize("where", ["x", "w"])
def test_non_finite_values(where, monkeypatch):
    """inf/nan: zero padding times inf is nan on every path (as before); the threaded
    products multiply only rows of valid output positions, so the one difference from the
    other paths is the input gradient of an inf weight tap that meets only padding for some
    input row: finite there, as PyTorch gives it, where the other paths give nan."""
    case = CASES[1]
    x, w, b, gy = _arrays(case, np.float32)
    if where == "x":
        x[0, 3, 0, 2] = np.inf
        x[1, 5, 8, 0] = np.nan
    else:
        w[2, 1, 2, 0] = -np.inf
    with np.errstate(all="ignore"):
        got = _passes(case, x, w, b, gy)
        ref = _without_rowshift(monkeypatch, lambda: _passes(case, x, w, b, gy))
    for i, (g, r) in enumerate(zip(got, ref)):
        if where == "w" and i == 1:
            assert not (np.isnan(g) & ~np.isnan(r)).any()
            assert np.isnan(r).any()  # the other paths: nan where padding meets the inf
            np.testing.assert_array_equal(np.isinf(g), np.isinf(r))
            fin = np.isfinite(g) & np.isfinite(r)
        else:
            np.testing.assert_array_equal(np.isnan(g), np.isnan(r))
            np.testing.assert_array_equal(np.isinf(g), np.isinf(r))
            fin = np.isfinite(r)
        _close(g[fin], r[fin], np.float32)


@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[8]])
def test_kernels_disabled_same_results(case):
    """With compilation off (EMBER_JIT_DISABLE) the NumPy paths give the same values."""
    x, w, b, gy = _arrays(case, np.float64)
    on = _passes(case, x, w, b, gy)
    old = set_disabled(True)
    try:
        assert not conv_kernels.available()
        off = _passes(case, x, w, b, gy)
    finally:
        set_disabled(old)
    for a, c in zip(on, off):
        _close(a, c, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[4], CASES[9]])
def test_against_torch(case, dtype):
    torch = pytest.importorskip("torch")
    xs, ws, s, (lo, hi), d = case
    if lo != hi:
        pytest.skip("PyTorch's numeric padding is symmetric")
    x, w, b, gy = _arrays(case, dtype, seed=3)
    conv_e = F.conv1d if len(xs) == 3 else F.conv2d
    conv_t = torch.nn.functional.conv1d if len(xs) == 3 else torch.nn.functional.conv2d
    ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ye = conv_e(ex, ew, eb, stride=s, padding=lo, dilation=d)
    yt = conv_t(tx, tw, tb, stride=s, padding=lo, dilation=d)
    ye.backward(ember.tensor(gy))
    yt.backward(torch.tensor(gy))
    for e, t in ((ye, yt), (ex.grad, tx.grad), (ew.grad, tw.grad), (eb.grad, tb.grad)):
        _close(e.detach().numpy(), t.detach().numpy(), dtype)


def test_gemm_binding_strided_views():
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        big = rng.standard_normal((40, 30)).astype(dt)
        b = rng.standard_normal((12, 7)).astype(dt)
        a = big[5:25, 3:15]  # a row window of a wider buffer
        out = np.ones((20, 7), dt)
        if not blas.gemm(a, b, out, 1.0):
            assert not blas.available(dt)
            continue
        np.testing.assert_allclose(out, a @ b + 1, rtol=1e-5)
        out2 = np.empty((12, 12), dt)
        assert blas.gemm(a.T[:, :12], a[:12], out2)  # a transposed operand
        np.testing.assert_allclose(out2, a.T[:, :12] @ a[:12], rtol=1e-5)
        assert not blas.gemm(a, b, np.empty((7, 20), dt).T)  # a column-major result
        assert not blas.gemm(a, b.astype(np.float16), out)  # mixed dtypes
        with pytest.raises(ValueError, match="gemm"):
            blas.gemm(a, b[:5], out)
        z = np.full((20, 7), 5.0, dt)
        assert blas.gemm(a[:, :0], b[:0], z)  # an empty contraction: beta * out
        assert (z == 0).all()


@pytest.mark.parametrize("c", [32, 4, 1])
@pytest.mark.parametrize("pad", [0, 1])
@pytest.mark.parametrize("stride", [1, 2])
def test_empty_batch(c, pad, stride):
    """A batch of no samples: empty output and input gradient, a zero weight gradient (the
    sample-block loops run no block; before, a ZeroDivisionError, a failed reshape or
    uninitialised memory), for convolution and transposed convolution."""
    x = ember.zeros(0, c, 13, 13, requires_grad=True)
    w = ember.randn(64, c, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, stride=stride, padding=pad)
    y.sum().backward()
    hw = (13 + 2 * pad - 3) // stride + 1
    assert tuple(y.shape) == (0, 64, hw, hw) and tuple(x.grad.shape) == (0, c, 13, 13)
    assert float(w.grad.abs().sum()) == 0.0
    xt = ember.zeros(0, c, 8, 8, requires_grad=True)
    yt = F.conv_transpose2d(xt, w.detach().permute(1, 0, 2, 3).requires_grad_(),
                            stride=stride, padding=pad)
    yt.sum().backward()
    assert tuple(yt.shape) == (0, 64, (8 - 1) * stride - 2 * pad + 3, (8 - 1) * stride
                               - 2 * pad + 3)
    assert tuple(xt.grad.shape) == (0, c, 8, 8)


def test_one_thread_restores_the_blas_thread_count():
    if not blas.available() or not blas._THREADS or blas._THREADS[0] is None:
        with blas.one_thread():  # a no-op without a BLAS to control
            pass
        return
    get, set_ = blas._THREADS[0]
    before = get()
    set_(2)
    try:
        with blas.one_thread():
            assert get() == 1
        assert get() == 2
        with pytest.raises(KeyError):
            with blas.one_thread():
                raise KeyError("inside")
        assert get() == 2
    finally:
        set_(before)


_WIDE = r"""
import json, sys
import numpy as np
import ember
import ember.nn.functional as F
from ember._ops import conv
rng = np.random.default_rng(5)
x = ember.tensor(rng.standard_normal((4, 128, 6, 6)).astype(np.float32), requires_grad=True)
w = ember.tensor(rng.standard_normal((96, 128, 3, 3)).astype(np.float32) * 0.05,
                 requires_grad=True)
assert conv._rs_ok(x._data, (3, 3), (1, 1), 1, 128, 96) == (sys.argv[1] == "all")
y = F.conv2d(x, w, padding=1)
y.backward(ember.ones_like(y))
print(json.dumps([y.detach().numpy().tolist(), x.grad.numpy().tolist(),
                  w.grad.numpy().tolist()]))
"""


@pytest.mark.parametrize("mode", ["all", "0"])
def test_wide_layers_row_shift_opt_in_matches_default(mode):
    # EMBER_CONV_ROWSHIFT=all sends wide layers (C*KW*O above the piece limit) through the
    # whole-block row-shift products, which the "narrow" default leaves to the channels-last
    # path; "0" turns the kernels off: both must give the default's results
    import json
    import os
    import subprocess
    import sys

    runs = {}
    for m in (mode, "narrow"):
        r = subprocess.run([sys.executable, "-c", _WIDE, m], capture_output=True, text=True,
                           timeout=300, env=dict(os.environ, EMBER_CONV_ROWSHIFT=m))
        assert r.returncode == 0, r.stderr[-2000:]
        runs[m] = [np.array(a, np.float32) for a in json.loads(r.stdout.strip().splitlines()[-1])]
    for a, b in zip(runs[mode], runs["narrow"]):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-4)
