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


# ----------------------------------------------------------------------------- softmax
from ember._codegen import softmax_kernels  # noqa: E402

_HAVE_SM = softmax_kernels._lib() is not None
needs_sm = pytest.mark.skipif(not _HAVE_SM, reason="no C compiler: the kernels do not run")


def _softmax_ref(x, dim, log):
    # float64 (longdouble-free) reference from the definition
    a = x.astype(np.float64)
    m = a.max(axis=dim, keepdims=True)
    s = np.log(np.exp(a - m).sum(axis=dim, keepdims=True))
    return (a - m - s) if log else np.exp(a - m - s)


@needs_sm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape,dim", [((96, 130), 1), ((96, 130), -1), ((96, 130), 0),
                                       ((6, 70, 40), 1), ((6, 70, 40), -3), ((3, 5000), 1),
                                       ((9000,), 0)])
def test_softmax_kernel_values_and_gradients(dtype, log, shape, dim):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 6).astype(dtype)
    go = rng.standard_normal(shape).astype(dtype)
    f = ember.log_softmax if log else ember.softmax
    tx = ember.tensor(x, requires_grad=True)
    y = f(tx, dim)
    y.backward(ember.tensor(go))
    want = _softmax_ref(x, dim, log)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=tol, atol=tol)
    gw = (go - np.exp(want) * go.sum(dim, keepdims=True)) if log else \
        want * (go - (go * want).sum(dim, keepdims=True))
    np.testing.assert_allclose(tx.grad.numpy(), gw, rtol=10 * tol, atol=10 * tol)
    # the kernels take the call (not the generated kernel or NumPy)
    assert softmax_kernels.softmax(x, dim, log) is not None
    np.testing.assert_array_equal(softmax_kernels.softmax(x, dim, log), y.detach().numpy())
    if torch is not None:
        tt = torch.tensor(x, requires_grad=True)
        ty = (torch.log_softmax if log else torch.softmax)(tt, dim)
        ty.backward(torch.tensor(go))
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=tol,
                                   atol=tol)
        np.testing.assert_allclose(tx.grad.numpy(), tt.grad.numpy(), rtol=10 * tol,
                                   atol=10 * tol)


@needs_sm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [1, 0])
def test_softmax_kernel_special_values_and_layouts(dtype, log, dim):
    base = np.arange(10, dtype=dtype)
    rows = [np.tile(base, 500) for _ in range(6)]
    rows[1][3] = np.nan  # a NaN row is all NaN
    rows[2][7] = np.inf  # an infinity: inf - inf is NaN, the row with it
    rows[3][:] = -np.inf  # all -inf: NaN (max is -inf)
    rows[4][::5] = -np.inf  # some -inf: exactly 0 (log: -inf) there
    rows[5][0], rows[5][1] = -1e30, 1e30
    x = np.stack(rows) if dim == 1 else np.stack(rows).T.copy()
    y = softmax_kernels.softmax(x, dim, log)
    with np.errstate(invalid="ignore", over="ignore"):
        want = _softmax_ref(x, dim, log)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(y[ok], want[ok], rtol=2e-6, atol=0)
    sel = (4, slice(None, None, 5)) if dim == 1 else (slice(None, None, 5), 4)
    assert np.all(y[sel] == (-np.inf if log else 0))
    # non-contiguous input: the same values as its contiguous copy
    xt = np.asfortranarray(np.stack(rows).astype(dtype))
    a = ember.softmax(ember.tensor(xt), 1) if not log else ember.log_softmax(ember.tensor(xt), 1)
    b = softmax_kernels.softmax(np.ascontiguousarray(xt), 1, log)
    np.testing.assert_array_equal(a.numpy(), b)


@needs_sm
def test_softmax_kernel_dtype_kwarg_and_empty():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    y = ember.softmax(ember.tensor(x), 1, dtype=ember.float64)
    assert y.dtype == ember.float64
    np.testing.assert_allclose(y.numpy(), _softmax_ref(x, 1, False), rtol=1e-13, atol=1e-15)
    e = ember.softmax(ember.zeros(0, 5000), 1)
    assert tuple(e.shape) == (0, 5000)
    assert softmax_kernels.softmax(np.zeros((0, 5000), np.float32), 1) is None


@needs_sm
@pytest.mark.parametrize("log", [False, True])
def test_softmax_kernel_gradcheck(log, monkeypatch):
    # the kernels on a gradcheck-sized input (their size floor lowered), double backward too
    monkeypatch.setattr(softmax_kernels, "_MIN_ELEMS", 1)
    rng = np.random.default_rng(2)
    f = ember.log_softmax if log else ember.softmax
    for shape, dim in (((3, 5), 1), ((3, 4, 2), 1), ((4, 3), 0)):
        t = ember.tensor(rng.standard_normal(shape), requires_grad=True)
        assert ember.autograd.gradcheck(lambda a: f(a, dim), (t,))
        assert ember.autograd.gradgradcheck(lambda a: f(a, dim), (t,))


@needs_sm
def test_softmax_kernel_threaded_equals_serial(monkeypatch):
    rng = np.random.default_rng(3)
    for shape, dim in (((400, 700), 1), ((40, 700, 10), 1)):
        x = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        threaded = softmax_kernels.softmax(x, dim), softmax_kernels.softmax_backward(g, x, dim)
        monkeypatch.setattr(softmax_kernels, "_SERIAL_BELOW", 1 << 62)
        serial = softmax_kernels.softmax(x, dim), softmax_kernels.softmax_backward(g, x, dim)
        monkeypatch.undo()
        for a, b in zip(threaded, serial):
            np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- interpolate
_INTERP = [("linear", (2, 3, 9)), ("bilinear", (2, 3, 5, 7)), ("trilinear", (1, 2, 3, 4, 5))]


def _interp_sizes(shape):
    sp = shape[2:]
    return [dict(scale_factor=2), dict(size=tuple(s + 3 for s in sp)),
            dict(size=tuple(max(1, s - 2) for s in sp)), dict(size=tuple(1 for _ in sp))]


@needs_c
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode,shape", _INTERP)
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_linear_axis_kernel_matches_ember_ops(dtype, mode, shape, align_corners):
    rng = np.random.default_rng(6)
    for kw in _interp_sizes(shape):
        x = rng.standard_normal(shape).astype(dtype)
        res = []
        for avail in (sample_kernels.linear_available, lambda a: False):
            orig = sample_kernels.linear_available
            sample_kernels.linear_available = avail
            try:
                tx = ember.tensor(x, requires_grad=True)
                y = F.interpolate(tx, mode=mode, align_corners=align_corners, **kw)
                go = np.random.default_rng(7).standard_normal(tuple(y.shape)).astype(dtype)
                y.backward(ember.tensor(go))
                res.append((y.detach().numpy(), tx.grad.numpy(), type(y.grad_fn).__name__))
            finally:
                sample_kernels.linear_available = orig
        (y1, g1, n1), (y0, g0, n0) = res
        assert n1 == "UpsampleLinearAxisBackward0" and n0 != n1
        np.testing.assert_array_equal(y1, y0)  # same operations in the same order
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(g1, g0, rtol=tol, atol=tol)  # scatter order differs
        if torch is not None:
            tt = torch.tensor(x, requires_grad=True)
            ty = torch.nn.functional.interpolate(tt, mode=mode, align_corners=align_corners,
                                                 **kw)
            ty.backward(torch.tensor(go))
            np.testing.assert_allclose(y1, ty.detach().numpy(), rtol=tol, atol=tol)
            np.testing.assert_allclose(g1, tt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("mode,shape", _INTERP)
def test_interpolate_linear_gradcheck(mode, shape):
    x = ember.tensor(np.random.default_rng(8).standard_normal(shape), requires_grad=True)
    for kw in _interp_sizes(shape)[:2]:
        def f(a, kw=kw):
            return F.interpolate(a, mode=mode, align_corners=False, **kw)

        assert ember.autograd.gradcheck(f, (x,))
        assert ember.autograd.gradgradcheck(f, (x,))


@needs_c
def test_interpolate_linear_axis_non_contiguous_empty_and_threads(monkeypatch):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 6, 40, 50)).astype(np.float32)
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # strided
    a = F.interpolate(ember.tensor(xt), scale_factor=2, mode="bilinear").numpy()
    b = F.interpolate(ember.tensor(x), scale_factor=2, mode="bilinear").numpy()
    np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(sample_kernels, "_SERIAL_BELOW", 1 << 62)
    c = F.interpolate(ember.tensor(x), scale_factor=2, mode="bilinear").numpy()
    tx = ember.tensor(x, requires_grad=True)
    F.interpolate(tx, scale_factor=2, mode="bilinear").sum().backward()
    monkeypatch.undo()
    np.testing.assert_array_equal(b, c)
    tx2 = ember.tensor(x, requires_grad=True)
    F.interpolate(tx2, scale_factor=2, mode="bilinear").sum().backward()
    np.testing.assert_array_equal(tx.grad.numpy(), tx2.grad.numpy())
    e = F.interpolate(ember.zeros(0, 3, 4, 4), scale_factor=2, mode="bilinear")
    assert tuple(e.shape) == (0, 3, 8, 8)


# ----------------------------------------------------------------------------- topk
from ember._codegen import topk_kernels  # noqa: E402

needs_tk = pytest.mark.skipif(topk_kernels._lib() is None,
                              reason="no C compiler: the kernels do not run")


def _stable_topk(a, k, dim, largest):
    # the stable full sort's first k (ties by index, NaN the largest)
    b = np.moveaxis(a, dim, -1)
    if largest:
        idx = b.shape[-1] - 1 - np.flip(np.argsort(np.flip(b, -1), -1, kind="stable"), -1)
    else:
        idx = np.argsort(b, -1, kind="stable")
    return np.moveaxis(idx[..., :k], -1, dim)


@needs_tk
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape,dim", [((200000,), 0), ((30, 500), 1), ((500, 30), -2),
                                       ((3, 400, 7), 1), ((2, 70000), -1)])
def test_topk_heap_kernel_is_the_stable_sorts_first_k(dtype, largest, shape, dim):
    rng = np.random.default_rng(11)
    for k in (1, 7, 25):
        if np.dtype(dtype).kind == "i":
            a = rng.integers(-40, 40, shape).astype(dtype)  # many ties
        else:
            a = rng.standard_normal(shape).astype(dtype)
            a.flat[::97] = np.nan
            a.flat[5::13] = 0.0
            a.flat[6::13] = -0.0
            a.flat[7::101] = np.inf
            a.flat[8::103] = -np.inf
        want = _stable_topk(a, k, dim, largest)
        np.testing.assert_array_equal(topk_kernels.topk_indices(a, dim % a.ndim, largest, k),
                                      want)
        v, i = ember.topk(ember.tensor(a), k, dim, largest)
        np.testing.assert_array_equal(i.numpy(), want)
        np.testing.assert_array_equal(v.numpy(), np.take_along_axis(a, want, dim))


@needs_tk
def test_topk_heap_kernel_threads_noncontiguous_and_grad(monkeypatch):
    rng = np.random.default_rng(12)
    a = rng.standard_normal((4, 3000)).astype(np.float32)
    at = np.asfortranarray(a)  # strided rows
    i1 = topk_kernels.topk_indices(at, 1, True, 9)
    monkeypatch.setattr(topk_kernels, "_SERIAL_BELOW", 1 << 62)
    i2 = topk_kernels.topk_indices(a, 1, True, 9)
    monkeypatch.undo()
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(i1, _stable_topk(a, 9, 1, True))
    x = ember.tensor(a.astype(np.float64), requires_grad=True)
    v, i = ember.topk(x, 5, 1)
    v.sum().backward()
    want = np.zeros_like(a, dtype=np.float64)
    np.put_along_axis(want, i.numpy(), 1.0, 1)
    np.testing.assert_array_equal(x.grad.numpy(), want)
    if torch is not None:
        tv, _ = torch.topk(torch.tensor(a), 9, 1)
        np.testing.assert_array_equal(ember.topk(ember.tensor(a), 9, 1)[0].numpy(), tv.numpy())


# ----------------------------------------------------------------------------- embedding
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ishape", [(9000,), (90, 100), (3, 0), (4, 50, 30)])
def test_embedding_forward_by_the_row_kernel(dtype, ishape):
    rng = np.random.default_rng(13)
    w = rng.standard_normal((700, 24)).astype(dtype)
    idx = rng.integers(0, 700, ishape)
    tw = ember.tensor(w, requires_grad=True)
    y = F.embedding(ember.tensor(idx), tw, padding_idx=3)
    np.testing.assert_array_equal(y.detach().numpy(), w[idx])
    go = rng.standard_normal(w[idx].shape).astype(dtype)
    y.backward(ember.tensor(go))
    want = np.zeros_like(w)
    np.add.at(want, idx.reshape(-1), go.reshape(-1, 24))
    want[3] = 0
    np.testing.assert_allclose(tw.grad.numpy(), want, rtol=1e-6, atol=1e-6)
    # int32 indices, a non-contiguous weight
    wt = np.asfortranarray(w)
    y2 = F.embedding(ember.tensor(idx.astype(np.int32)), ember.tensor(wt))
    np.testing.assert_array_equal(y2.numpy(), w[idx])
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(ember.tensor(np.full(ishape[:1] + (1,), 700)), tw)


# ----------------------------------------------------------------------------- flip / roll
from ember._codegen import copy_kernels  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int16, np.complex128,
                                   np.bool_])
@pytest.mark.parametrize("shape", [(70000,), (300, 250), (2, 40000), (40, 30, 70)])
def test_flip_and_roll_kernels_equal_numpy(dtype, shape, monkeypatch):
    rng = np.random.default_rng(14)
    a = (rng.standard_normal(shape) * 10).astype(dtype)
    for serial in (False, True):
        if serial:
            monkeypatch.setattr(copy_kernels, "_SERIAL_BELOW", 1 << 62)
        for dim in range(-len(shape), len(shape)):
            np.testing.assert_array_equal(ember.tensor(a).flip(dim).numpy(), np.flip(a, dim))
            for s in (0, 1, -3, 7, shape[dim] + 2):
                np.testing.assert_array_equal(ember.tensor(a).roll(s, dim).numpy(),
                                              np.roll(a, s, dim))
    # several dims, no dims, strided input: NumPy's results too
    np.testing.assert_array_equal(ember.tensor(a).flip(*range(a.ndim)).numpy(), np.flip(a))
    np.testing.assert_array_equal(ember.tensor(a).roll(5).numpy(), np.roll(a, 5))
    at = a.T
    np.testing.assert_array_equal(ember.tensor(at).flip(0).numpy(), np.flip(at, 0))
    np.testing.assert_array_equal(ember.tensor(at).roll(2, 0).numpy(), np.roll(at, 2, 0))


def test_flip_roll_gradients_and_empty():
    x = ember.tensor(np.random.default_rng(15).standard_normal((300, 80)), requires_grad=True)
    go = np.random.default_rng(16).standard_normal((300, 80))
    (x.flip(1) * ember.tensor(go)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.flip(go, 1))
    x.grad = None
    (x.roll(-7, 0) * ember.tensor(go)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.roll(go, 7, 0))
    e = ember.zeros(0, 5)
    assert tuple(e.flip(0).shape) == (0, 5) and tuple(e.roll(2, 0).shape) == (0, 5)


# ----------------------------------------------------------------------------- cdist
from ember._codegen import cdist_kernels  # noqa: E402


@pytest.mark.skipif(cdist_kernels._lib() is None, reason="no C compiler")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [1.0, 2.0, float("inf")])
@pytest.mark.parametrize("s1,s2", [((50, 16), (40, 16)), ((3, 20, 5), (3, 30, 5)),
                                   ((20, 1), (7, 1)), ((0, 4), (5, 4))])
def test_cdist_backward_kernel_matches_numpy_form(dtype, p, s1, s2, monkeypatch):
    from ember._ops import matrices

    rng = np.random.default_rng(17)
    x1 = rng.standard_normal(s1).astype(dtype)
    x2 = rng.standard_normal(s2).astype(dtype)
    if s1[-2]:
        x2[..., 0, :] = x1[..., 0, :]  # a zero distance (p = 2: a zero gradient there)
        x2[..., 1, 0] = np.nan if p != 2.0 else x2[..., 1, 0]
    res = matrices._cdist_fwd(x1, x2, p)
    g = rng.standard_normal(res.shape).astype(dtype)
    fast = cdist_kernels.cdist_backward(g, x1, x2, res, p)
    monkeypatch.setattr(cdist_kernels, "cdist_backward", lambda *a: None)
    slow = matrices._cdist_bwd_fwd(g, x1, x2, res, p)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    monkeypatch.undo()
    if torch is not None and not np.isnan(x2).any():
        t1 = torch.tensor(x1, requires_grad=True)
        t2 = torch.tensor(x2, requires_grad=True)
        torch.cdist(t1, t2, p, compute_mode="donot_use_mm_for_euclid_dist").backward(
            torch.tensor(g))
        e1 = ember.tensor(x1, requires_grad=True)
        e2 = ember.tensor(x2, requires_grad=True)
        ember.cdist(e1, e2, p, compute_mode="donot_use_mm_for_euclid_dist").backward(
            ember.tensor(g))
        np.testing.assert_allclose(e1.grad.numpy(), t1.grad.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(e2.grad.numpy(), t2.grad.numpy(), rtol=tol, atol=tol)
