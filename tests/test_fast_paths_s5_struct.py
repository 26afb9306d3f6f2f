"""Issue 18, fifth session (ops-B): the C grid-sample kernels, against the NumPy/composite
form they replace and against PyTorch where it is installed."""

import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._codegen import kernel as _kernel
from ember._codegen import sample_kernels

try:
    import torch
except ImportError:  # the oracle is optional: the comparisons with the NumPy form still run
    torch = None

_HAVE_C = sample_kernels._lib() is not None
needs_c = pytest.mark.skipif(not _HAVE_C, reason="no C compiler: the kernels do not run")


def _composite(x, g, need_grad, **kw):
    """grid_sample's value and gradients through the ember-op composite (kernels off)."""
    old = _kernel.set_disabled(True)
    try:
        return _run(x, g, need_grad, **kw)
    finally:
        _kernel.set_disabled(old)


def _run(x, g, need_grad, go=None, **kw):
    tx = ember.tensor(x, requires_grad=need_grad)
    tg = ember.tensor(g, requires_grad=need_grad)
    y = F.grid_sample(tx, tg, **kw)
    if not need_grad:
        return y.numpy(), None, None
    y.backward(ember.tensor(go))
    return y.detach().numpy(), tx.grad.numpy(), tg.grad.numpy()


def _inputs(dtype, n=2, c=3, h=5, w=7, ho=4, wo=6, seed=10):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    g = rng.uniform(-1.6, 1.6, (n, ho, wo, 2)).astype(dtype)
    g[0, 0, 0] = (-1, 1)  # corners and pixel centres: the kinks
    g[0, 0, 1] = (0, 0)
    g[0, 0, 2] = (1, -1)
    go = rng.standard_normal((n, c, ho, wo)).astype(dtype)
    return x, g, go


_CASES = list(itertools.product([np.float32, np.float64], ["bilinear", "nearest"],
                                ["zeros", "border", "reflection"], [False, True]))


@needs_c
@pytest.mark.parametrize("dtype,mode,padding_mode,align_corners", _CASES)
def test_grid_sample_kernel_matches_composite(dtype, mode, padding_mode, align_corners):
    x, g, go = _inputs(dtype)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    fast = _run(x, g, True, go, **kw)
    slow = _composite(x, g, True, go=go, **kw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    # the no-grad call is the same record and gives the same values
    np.testing.assert_array_equal(_run(x, g, False, **kw)[0], fast[0])
    if torch is not None:
        tx = torch.tensor(x, requires_grad=True)
        tg = torch.tensor(g, requires_grad=True)
        ty = torch.nn.functional.grid_sample(tx, tg, **kw)
        ty.backward(torch.tensor(go))
        for a, b in zip(fast, (ty.detach().numpy(), tx.grad.numpy(), tg.grad.numpy())):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@needs_c
def test_grid_sample_kernel_is_one_record_each_way():
    x, g, go = _inputs(np.float32)
    tx = ember.tensor(x, requires_grad=True)
    tg = ember.tensor(g, requires_grad=True)
    y = F.grid_sample(tx, tg, align_corners=False)
    assert type(y.grad_fn).__name__ == "GridSampler2DBackward0"
    gx, gg = ember.autograd.grad(y, [tx, tg], ember.tensor(go))
    assert gx.shape == tx.shape and gg.shape == tg.shape
    # only the grid asks for a gradient: the input's is not formed
    y = F.grid_sample(ember.tensor(x), tg, align_corners=True)
    gg2, = ember.autograd.grad(y, [tg], ember.tensor(go))
    want = _composite(x, g, True, go=go, align_corners=True)[2]
    np.testing.assert_allclose(gg2.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck_and_double_backward(mode, padding_mode):
    # with or without the kernels; create_graph differentiates the composite
    rng = np.random.default_rng(3)  # no point on a kink (pixel centres, the edges)
    tx = ember.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    tg = ember.tensor(rng.uniform(-1.4, 1.4, (1, 2, 3, 2)), requires_grad=True)

    def f(a, b):
        return F.grid_sample(a, b, mode=mode, padding_mode=padding_mode, align_corners=False)

    assert ember.autograd.gradcheck(f, (tx, tg))
    if mode == "bilinear":
        assert ember.autograd.gradgradcheck(f, (tx, tg))


@needs_c
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grid_sample_kernel_special_values_and_layouts(dtype):
    x, g, go = _inputs(dtype, n=2, c=4, h=6, w=5, ho=3, wo=8)
    g[1, 0, 0] = (np.inf, 0)
    g[1, 0, 1] = (-np.inf, 0.5)
    g[1, 0, 2] = (1e30, -1e30)
    g[1, 1, 0] = (np.nan, 0.0)
    x[0, 1, 2, 3] = np.inf
    for mode, pad in itertools.product(["bilinear", "nearest"], ["zeros", "border"]):
        y = F.grid_sample(ember.tensor(x), ember.tensor(g), mode=mode, padding_mode=pad,
                          align_corners=False).numpy()
        assert y.shape == (2, 4, 3, 8)
        if pad == "zeros":  # far outside the image: all four corners read as 0
            assert np.all(y[1, :, 0, 2] == 0)
        if torch is not None:
            want = torch.nn.functional.grid_sample(
                torch.tensor(x), torch.tensor(g), mode=mode, padding_mode=pad,
                align_corners=False).numpy()
            finite = np.isfinite(g).all(-1)[:, None].repeat(4, 1)  # NaN grids: PyTorch's UB
            np.testing.assert_allclose(y[finite], want[finite], rtol=1e-5, atol=1e-5)
    # non-contiguous input and grid give the contiguous ones' result
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    gt = np.ascontiguousarray(g[:, ::-1])[:, ::-1]
    g2 = _inputs(dtype, n=2, c=4, h=6, w=5, ho=3, wo=8)[1]
    gt = np.ascontiguousarray(g2.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    a = F.grid_sample(ember.tensor(xt), ember.tensor(gt), align_corners=True).numpy()
    b = F.grid_sample(ember.tensor(np.ascontiguousarray(xt)), ember.tensor(g2),
                      align_corners=True).numpy()
    np.testing.assert_array_equal(a, b)


def test_grid_sample_empty_and_bad_input():
    y = F.grid_sample(ember.zeros(2, 3, 4, 4), ember.zeros(2, 0, 5, 2), align_corners=False)
    assert tuple(y.shape) == (2, 3, 0, 5)
    y = F.grid_sample(ember.zeros(2, 0, 4, 4), ember.zeros(2, 3, 5, 2), align_corners=False)
    assert tuple(y.shape) == (2, 0, 3, 5)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(ember.zeros(1, 1, 2, 2), ember.zeros(1, 1, 1, 2, dtype=ember.float64))


@needs_c
def test_grid_sample_large_threaded_equals_serial():
    # above the serial threshold the kernel splits planes and points over threads; the
    # result must not depend on the split
    x, g, go = _inputs(np.float32, n=2, c=8, h=64, w=64, ho=48, wo=48, seed=5)
    old = sample_kernels._SERIAL_BELOW
    try:
        sample_kernels._SERIAL_BELOW = 1 << 62
        serial = _run(x, g, True, go, align_corners=False)
    finally:
        sample_kernels._SERIAL_BELOW = old
    threaded = _run(x, g, True, go, align_corners=False)
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)
