"""The op sweep's worst ops, sixth session (issue 18): each fast path against its NumPy path
(``set_disabled(True)``: what ``EMBER_JIT_DISABLE=1`` runs) and, where installed, PyTorch.

Fast paths covered: SGD's whole update as threaded kernels (NOTE [ SGD as threaded
kernels ], ``_ops/foreach.py``); float32 erfinv as one fitted polynomial (NOTE [ erfc and
erfinv kernels ], ``_codegen/special_c.py``); Adagrad's whole update as one kernel;
``div(rounding_mode="trunc")`` on floats as one kernel; float32 sums along a run (32 partial
sums); the global adaptive average pool with a graph (a mean); the step functions' zero
gradients as a fill; lerp as one node; sign as selects only; zero_ by memset; setitem with a
graph written in place; per-call costs of movedim, unflatten, chunk/split, narrow, select.
"""

import itertools

import numpy as np
import pytest

import ember
from ember._codegen import build
from ember._codegen import kernel as K

N = 1 << 17  # above the kernels' minimum sizes
HAVE_CC = build.compiler()[0] is not None and not K.disabled()


@pytest.fixture(autouse=True)
def _two_threads():
    """Two kernel threads whatever the machine's CPU count (blocks split as in use)."""
    old = K.get_num_threads()
    K.set_num_threads(2)
    yield
    K.set_num_threads(old)


def _special(dt, n=N, seed=0):
    """Random values over many magnitudes with signed zeros, infinities and NaN up front."""
    rng = np.random.default_rng(seed)
    v = (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)).astype(dt)
    sp = np.array([0.0, -0.0, 1, -1, 0.5, -0.5, 2.5, -2.5, np.inf, -np.inf, np.nan, 1e-40,
                   -1e-40, 1e30, -1e30, 0.1], dt)
    v[:sp.size * sp.size] = np.tile(sp, sp.size)
    return v


def _same(got, want):
    """Bitwise equality of float arrays (any NaN equals any NaN)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    bits = got.view(f"u{got.itemsize}") == want.view(f"u{want.itemsize}")
    bad = np.flatnonzero(~(bits | (np.isnan(got) & np.isnan(want))))
    assert bad.size == 0, f"{bad.size} differ, first at {bad[0]}: {got.flat[bad[0]]!r} vs " \
                          f"{want.flat[bad[0]]!r}"


def _both(f):
    """``f()``'s arrays with the kernels and on the NumPy paths."""
    with np.errstate(all="ignore"):
        got = f()
        old = K.set_disabled(True)
        try:
            want = f()
        finally:
            K.set_disabled(old)
    return got, want


# ----------------------------------------------------------------------------- _fused_sgd_
_SGD_CASES = [c for c in itertools.product((0.0, 0.05), (0.0, 0.9), (0.0, 0.3), (False, True),
                                           (False, True), (False, True))
              if not (c[3] and (c[1] == 0 or c[2]))]  # nesterov: momentum, no dampening


def _sgd(dt, wd, mom, damp, nest, maxi, first, seed=0):
    x, g, b = (_special(dt, seed=seed + i) for i in range(3))

    def run():
        xs, gs, bs = ([ember.from_numpy(a.copy())] for a in (x, g, b))
        ember._fused_sgd_(xs, gs, bs if mom else [], weight_decay=wd, momentum=mom, lr=0.1,
                          dampening=damp, nesterov=nest, maximize=maxi, is_first_step=first)
        return [xs[0].numpy(), bs[0].numpy()]
    return run


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", _SGD_CASES)
def test_fused_sgd_kernels_equal_numpy(dt, case):
    got, want = _both(_sgd(dt, *case))
    for a, b in zip(got, want):
        _same(a, b)
    if HAVE_CC:
        assert not np.array_equal(got[0], _special(dt), equal_nan=True)  # it did update


@pytest.mark.parametrize("case", _SGD_CASES[::3])
def test_fused_sgd_matches_torch(case):
    torch = pytest.importorskip("torch")
    wd, mom, damp, nest, maxi, first = case
    rng = np.random.default_rng(1)
    x, g, b = (rng.standard_normal(N).astype(np.float32) for _ in range(3))
    ex, eg, eb = ([ember.from_numpy(a.copy())] for a in (x, g, b))
    tx, tg, tb = ([torch.from_numpy(a.copy())] for a in (x, g, b))
    kw = dict(weight_decay=wd, momentum=mom, lr=0.1, dampening=damp, nesterov=nest,
              maximize=maxi, is_first_step=first)
    ember._fused_sgd_(ex, eg, eb if mom else [], **kw)
    torch._fused_sgd_(tx, tg, tb if mom else [], **kw)
    np.testing.assert_allclose(ex[0].numpy(), tx[0].numpy(), rtol=1e-6, atol=1e-6)
    if mom:
        np.testing.assert_allclose(eb[0].numpy(), tb[0].numpy(), rtol=1e-6, atol=1e-6)


def test_fused_sgd_noncontiguous_falls_back():
    """A strided gradient takes the NumPy path with the same result."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(N).astype(np.float32)
    g = rng.standard_normal(2 * N).astype(np.float32)[::2]
    b = rng.standard_normal(N).astype(np.float32)
    want_x = x + (g + x * np.float32(0.05)) * np.float32(-0.1)  # first step: buf = g'
    xs, bs = [ember.from_numpy(x.copy())], [ember.from_numpy(b.copy())]
    ember._fused_sgd_(xs, [ember.from_numpy(g)], bs, weight_decay=0.05, momentum=0.9, lr=0.1,
                      dampening=0.0, nesterov=False, maximize=False, is_first_step=True)
    _same(xs[0].numpy(), want_x)


# ----------------------------------------------------------------------------- erfinv
def _ulps32(a, b):
    ia, ib = (np.asarray(v, np.float32).view(np.int32).astype(np.int64) for v in (a, b))
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)  # ordered integers across zero
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return np.abs(ia - ib)


def _erfinv_inputs():
    rng = np.random.default_rng(3)
    top = np.float32(1) - np.float32(2.0 ** -24)  # the largest float32 below 1
    below = top.view(np.int32) - np.arange(2000, dtype=np.int32)  # the last 2000 below 1
    y = np.concatenate([
        rng.uniform(-1, 1, N), 1 - np.geomspace(6e-8, 0.5, N), np.geomspace(1e-38, 0.5, N),
        np.linspace(0.99, 0.999, N),  # across the polynomials' seam (w = 5, |y| ~ 0.9966)
        np.array([top, -top, 0.5, -0.5, 1e-30, -1e-45], np.float64),
        below.view(np.float32)]).astype(np.float32)
    return np.concatenate([y, -y[:N]])


def test_erfinv_kernel_within_an_ulp_of_the_backend():
    # the reference: the backend's float64 erfinv (no kernel for float64) rounded once; the
    # backend's own float32 loop (SciPy's, where installed) is up to 3 ulps off
    y = _erfinv_inputs()
    got, want32 = _both(lambda: ember.erfinv(ember.from_numpy(y)).numpy())
    want = ember.erfinv(ember.from_numpy(y.astype(np.float64))).numpy().astype(np.float32)
    assert got.dtype == np.float32
    assert _ulps32(got, want).max() <= (1 if HAVE_CC else 4)  # kernel: within an ulp
    assert _ulps32(want32, want).max() <= 4
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_erfinv_kernel_special_values():
    sp = np.array([np.nan, 1.0, -1.0, 0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, 1e-40], np.float32)
    y = np.resize(sp, N)
    got = ember.erfinv(ember.from_numpy(y)).numpy()[:sp.size]
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -np.inf
    assert got[3] == 0 and not np.signbit(got[3]) and got[4] == 0 and np.signbit(got[4])
    assert np.isnan(got[5:9]).all()
    assert got[9] == np.float32(1e-40 * np.sqrt(np.pi) / 2)  # subnormal, rounded once


def test_erfinv_matches_torch_forward_and_gradient():
    torch = pytest.importorskip("torch")
    y = _erfinv_inputs()
    y = y[np.abs(y) < 0.9999]  # gradients grow without bound towards +-1
    x = ember.from_numpy(y.copy()).requires_grad_()
    t = torch.from_numpy(y.copy()).requires_grad_()
    ex, tx = ember.erfinv(x), torch.erfinv(t)
    assert _ulps32(ex.detach().numpy(), tx.detach().numpy()).max() <= (2 if HAVE_CC else 5)
    (gx,) = ember.autograd.grad(ex.sum(), x)
    (gt,) = torch.autograd.grad(tx.sum(), t)
    np.testing.assert_allclose(gx.numpy(), gt.numpy(), rtol=2e-6 if HAVE_CC else 3e-5)


# ----------------------------------------------------------------------------- _fused_adagrad_
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("wd, maxi, lr_decay, step", [
    (0.0, False, 0.0, 1.0), (0.05, False, 0.1, 3.0), (0.0, True, 0.0, 2.0), (0.05, True, 0.0, 1.0)])
def test_fused_adagrad_kernel_equals_numpy(dt, wd, maxi, lr_decay, step):
    x, g = _special(dt, seed=4), _special(dt, seed=5)
    s = np.abs(_special(dt, seed=6))

    def run():
        xs, gs, ss = ([ember.from_numpy(a.copy())] for a in (x, g, s))
        ember._fused_adagrad_(xs, gs, ss, [ember.tensor(step)], lr=0.1, lr_decay=lr_decay,
                              weight_decay=wd, eps=1e-10, maximize=maxi)
        return [xs[0].numpy(), ss[0].numpy()]
    got, want = _both(run)
    for a, b in zip(got, want):
        _same(a, b)


def test_fused_adagrad_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, g = (rng.standard_normal(N).astype(np.float32) for _ in range(2))
    s = np.abs(rng.standard_normal(N)).astype(np.float32)
    kw = dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, eps=1e-10, maximize=True)
    ex, es = [ember.from_numpy(x.copy())], [ember.from_numpy(s.copy())]
    tx, ts = [torch.from_numpy(x.copy())], [torch.from_numpy(s.copy())]
    ember._fused_adagrad_(ex, [ember.from_numpy(g)], es, [ember.tensor(2.0)], **kw)
    torch._fused_adagrad_(tx, [torch.from_numpy(g)], ts, [torch.tensor(2.0)], **kw)
    np.testing.assert_allclose(es[0].numpy(), ts[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(ex[0].numpy(), tx[0].numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- div.trunc
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_div_trunc_kernel_equals_numpy(dt):
    a, b = _special(dt, seed=8), _special(dt, seed=9)
    b[:16 * 16] = np.repeat(a[:16], 16)  # every special value against every other
    for other in (b, 2.5, -0.0):
        def run(other=other):
            o = ember.from_numpy(other) if isinstance(other, np.ndarray) else other
            return ember.div(ember.from_numpy(a), o, rounding_mode="trunc").numpy()
        _same(*_both(run))


def test_div_trunc_matches_torch_and_gradient_is_zero():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    a = (rng.standard_normal(N) * 100).astype(np.float32)
    b = rng.standard_normal(N).astype(np.float32)
    got = ember.div(ember.from_numpy(a), ember.from_numpy(b), rounding_mode="trunc").numpy()
    want = torch.div(torch.from_numpy(a), torch.from_numpy(b), rounding_mode="trunc").numpy()
    _same(got, want)
    x = ember.from_numpy(a).requires_grad_()  # with a graph: the composite, zero gradient
    (g,) = ember.autograd.grad(ember.div(x, 3.0, rounding_mode="trunc").sum(), x)
    assert not g.numpy().any()


# ----------------------------------------------------------------------------- sums
@pytest.mark.parametrize("shape, dim", [((1_000_003,), None), ((64, 4099), -1), ((3, 70001), 1)])
def test_float32_sum_along_a_run_is_the_double_sum_rounded(shape, dim):
    """32 partial double sums (NOTE [ Threaded sums and scans ]): the float64 sum rounded
    once, within an ulp, whatever the run's length modulo 32."""
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    for f in ("sum", "mean"):
        got = getattr(ember.from_numpy(x), f)(dim).numpy()
        want = getattr(x.astype(np.float64), f)(dim).astype(np.float32)
        if HAVE_CC:
            assert _ulps32(got, want).max() <= 1
        else:  # NumPy's float32 pairwise sum
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


# ----------------------------------------------------------------------------- adaptive_avg_pool2d
def test_global_adaptive_avg_pool_graph_and_no_graph_paths():
    F = ember.nn.functional
    x = np.random.default_rng(12).standard_normal((4, 8, 33, 31)).astype(np.float32)
    want = x.astype(np.float64).mean((2, 3), keepdims=True)
    xe = ember.from_numpy(x).requires_grad_()
    y = F.adaptive_avg_pool2d(xe, 1)  # graph: the mean
    with ember.no_grad():
        y0 = F.adaptive_avg_pool2d(xe, 1)  # no graph: the matrix-vector product
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(y0.numpy(), want, rtol=1e-5, atol=1e-7)
    g = np.random.default_rng(13).standard_normal((4, 8, 1, 1)).astype(np.float32)
    (gx,) = ember.autograd.grad(y, xe, ember.from_numpy(g))
    np.testing.assert_allclose(gx.numpy(), np.broadcast_to(g / (33 * 31), x.shape), rtol=1e-6)
    torch = pytest.importorskip("torch")
    xt = torch.from_numpy(x).requires_grad_()
    (gt,) = torch.autograd.grad(torch.nn.functional.adaptive_avg_pool2d(xt, 1), xt,
                                torch.from_numpy(g))
    np.testing.assert_allclose(gx.numpy(), gt.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- step functions
@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "sign", "sgn", "round"])
def test_step_function_gradients_are_zeros_like_pytorch(name):
    """zeros_like(grad), as PyTorch's formulas: 0 even for a NaN or infinite gradient."""
    x = ember.tensor([1.5, -2.0, 0.0, 3.7], requires_grad=True)
    g = ember.tensor([float("nan"), -3.0, float("inf"), 2.0])
    (gx,) = ember.autograd.grad(getattr(ember, name)(x), x, g)
    assert gx.dtype == x.dtype and np.array_equal(gx.numpy(), np.zeros(4, np.float32))
    assert not np.signbit(gx.numpy()).any()
    torch = pytest.importorskip("torch")
    xt = torch.tensor([1.5, -2.0, 0.0, 3.7], requires_grad=True)
    (gt,) = torch.autograd.grad(getattr(torch, name)(xt), xt, torch.from_numpy(g.numpy()))
    assert np.array_equal(gx.numpy(), gt.numpy(force=True))  # (sgn's is a ZeroTensor)


# ----------------------------------------------------------------------------- lerp
@pytest.mark.parametrize("weight", ["number", "tensor", "0-d"])
@pytest.mark.parametrize("n", [7, N])  # NumPy forward and threaded kernel
def test_lerp_one_node_forward_and_gradients(weight, n):
    rng = np.random.default_rng(14)
    a, b = ((_special(np.float32, n, seed=s) if n >= 256 else
             rng.standard_normal(n).astype(np.float32)) for s in (15, 16))
    w = {"number": 0.3, "tensor": rng.uniform(0, 1, n).astype(np.float32),
         "0-d": np.array(0.7, np.float32)}[weight]
    ea, eb = ember.from_numpy(a).requires_grad_(), ember.from_numpy(b).requires_grad_()
    ew = w if weight == "number" else ember.from_numpy(w).requires_grad_()
    y = ember.lerp(ea, eb, ew)
    assert type(y.grad_fn).__name__ == ("LerpBackward0" if weight == "number" else
                                        "LerpBackward1")
    with np.errstate(all="ignore"):
        _same(y.detach().numpy(), a + (b - a) * (np.float32(w) if weight == "number" else w))
    torch = pytest.importorskip("torch")
    ta, tb = torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_()
    tw = w if weight == "number" else torch.from_numpy(w).requires_grad_()
    g = rng.standard_normal(n).astype(np.float32)
    ins_e = (ea, eb) if weight == "number" else (ea, eb, ew)
    ins_t = (ta, tb) if weight == "number" else (ta, tb, tw)
    ge = ember.autograd.grad(y, ins_e, ember.from_numpy(g))
    gt = torch.autograd.grad(torch.lerp(ta, tb, tw), ins_t, torch.from_numpy(g))
    for x, z in zip(ge[:2], gt[:2]):  # grad * (1 - w), grad * w: the same operations
        _same(x.numpy(), z.numpy())
    if weight != "number":  # grad * (end - input), reduced to the weight's shape
        np.testing.assert_allclose(ge[2].numpy(), gt[2].numpy(), rtol=1e-5, equal_nan=True)


def test_lerp_broadcast_and_mixed_dtypes_keep_the_composite():
    a, b = ember.randn(2, 3, requires_grad=True), ember.randn(3, requires_grad=True)
    y = ember.lerp(a, b, 0.5)
    np.testing.assert_allclose(y.detach().numpy(),
                               a.detach().numpy() + (b.detach().numpy() - a.detach().numpy())
                               * np.float32(0.5))
    y.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 1.0, np.float32))
    with pytest.raises(RuntimeError, match="size of tensor a"):
        ember.lerp(ember.randn(2, 3), ember.randn(4), 0.5)


# ----------------------------------------------------------------------------- sign
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.int64])
def test_sign_kernel_equals_numpy_and_foreach(dt):
    if np.dtype(dt).kind == "f":
        x = _special(dt, seed=17)
    else:
        info = np.iinfo(dt)
        x = np.random.default_rng(17).integers(-5, 6, N).astype(dt)
        x[:4] = [0, info.min, info.max, -1]

    def run():
        out = [ember.sign(ember.from_numpy(x)).numpy(), ember.sgn(ember.from_numpy(x)).numpy()]
        ys = [ember.from_numpy(x.copy())]
        ember._foreach_sign_(ys)
        return out + [ys[0].numpy(), ember._foreach_sign([ember.from_numpy(x)])[0].numpy()]
    got, want = _both(run)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))
    if np.dtype(dt).kind == "f":  # NaN gives 0 and -0 gives +0, as PyTorch
        assert not np.signbit(got[0][np.isnan(x) | (x == 0)]).any()
        assert (got[0][np.isnan(x)] == 0).all()


# ----------------------------------------------------------------------------- zero_
@pytest.mark.parametrize("dt", [ember.float32, ember.float64, ember.int32, ember.bool,
                                ember.complex64])
def test_zero_by_memset(dt):
    x = (ember.randn(N) * 100).to(dt)
    xs = [x.clone(), x.clone()[::2], ember.ones(3).to(dt)]  # large, strided, small
    v = [t._version for t in xs]
    assert ember._foreach_zero_(xs) is xs
    for t, v0 in zip(xs, v):
        assert not t.numpy().any() and t._version == v0 + 1
        if dt.is_floating_point:
            assert not np.signbit(t.numpy()).any()
    assert not x.clone().zero_().numpy().any()
    assert not x.clone().fill_(0).numpy().any()
    if dt.is_floating_point:  # -0.0 is not all zero bits: NumPy's fill keeps its sign
        assert np.signbit(x.clone().fill_(-0.0).numpy()).all()
    base = ember.ones(2, N)
    base[0].zero_()  # a contiguous row of a larger tensor: only that row
    assert not base[0].numpy().any() and (base[1].numpy() == 1).all()


# ----------------------------------------------------------------------------- __setitem__
@pytest.mark.parametrize("key", [1, (slice(None), 2), "tensor"])
@pytest.mark.parametrize("x_grad", [True, False])
def test_setitem_written_in_place_with_an_index_put_node(key, x_grad):
    rng = np.random.default_rng(18)
    x = rng.standard_normal((50, 40)).astype(np.float32)
    idx = np.array([3, 0, 7])
    k = ember.from_numpy(idx) if key == "tensor" else key
    vshape = np.zeros((50, 40))[idx if key == "tensor" else key].shape
    v = rng.standard_normal(vshape).astype(np.float32)
    g = rng.standard_normal((50, 40)).astype(np.float32)
    ex = ember.from_numpy(x).requires_grad_(x_grad)
    ev = ember.from_numpy(v).requires_grad_()
    y = ex.clone()
    y[k] = ev
    assert type(y.grad_fn).__name__ == "IndexPutBackward0"
    ins = (ex, ev) if x_grad else (ev,)
    ge = ember.autograd.grad(y, ins, ember.from_numpy(g))
    torch = pytest.importorskip("torch")
    tx = torch.from_numpy(x).requires_grad_(x_grad)
    tv = torch.from_numpy(v).requires_grad_()
    ty = tx.clone()
    ty[torch.from_numpy(idx) if key == "tensor" else key] = tv
    gt = torch.autograd.grad(ty, (tx, tv) if x_grad else (tv,), torch.from_numpy(g))
    _same(y.detach().numpy(), ty.detach().numpy())
    for a, b in zip(ge, gt):
        _same(a.numpy(), b.numpy())


def test_setitem_in_place_keeps_version_checks_and_errors():
    x = ember.randn(10, 4, requires_grad=True)
    y = x.clone()
    z = y * y  # saves y
    y[0] = ember.ones(4)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    y = x.clone()
    with pytest.raises(IndexError, match="out of bounds"):
        y[20] = ember.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        y[0] = ember.ones(5, requires_grad=True)
    assert (y.detach().numpy() == x.detach().numpy()).all()  # nothing written
    i = ember.tensor([1, 2])
    y[i] = ember.ones(2, 4, requires_grad=True)
    i.add_(1)  # the node keeps the index tensor, version-checked
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ----------------------------------------------------------------------------- view fronts
def test_movedim_int_fast_path_matches_the_general_path_and_pytorch():
    torch = pytest.importorskip("torch")
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for s, d in [(0, 2), (-1, 0), (1, 1), (2, -3), ((0, 1), (2, 0)), ([2], [0])]:
        e = ember.from_numpy(x).requires_grad_()
        y = ember.movedim(e, s, d)
        t = torch.movedim(torch.from_numpy(x), s, d)
        assert y.shape == tuple(t.shape) and y.stride() == t.stride()
        _same(y.detach().numpy(), t.numpy())
        assert type(y.grad_fn).__name__ == "PermuteBackward0" and y._base is e
        y.backward(ember.ones(y.shape))
        assert (e.grad.numpy() == 1).all()
    for s, d, err in [(3, 0, IndexError), (0, -4, IndexError), ((0, 0), (1, 2), RuntimeError)]:
        with pytest.raises(err):
            ember.movedim(ember.from_numpy(x), s, d)
        with pytest.raises(err):
            torch.movedim(torch.from_numpy(x), s, d)
