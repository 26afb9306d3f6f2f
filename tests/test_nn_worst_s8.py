"""The eighth session's kernels for the op sweep's slowest nn cases (issue 18).

Fused strided convolution kernels (NOTE [ Fused strided convolution kernels ] in
``_ops/conv.py``): forward, transposed convolution and weight gradient against the other
convolution paths (the fused kernels switched off) over stride, padding, dilation, bias,
odd sizes (the 8x8/4x4 register transposes' edges), several bands per sample and one
thread, float32 and float64; with no compiler the other paths run; and, where PyTorch is
installed, forward and both gradients against it."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._codegen import blas, conv_kernels
from ember._codegen.kernel import get_num_threads, set_disabled, set_num_threads
from ember._ops import conv as C

needs_fused = pytest.mark.skipif(
    not (conv_kernels.available() and blas.address(np.float32)),
    reason="no C compiler or no CBLAS gemm: the fused path is not taken")

# (input shape, weight shape, stride, padding (lo, hi), dilation) of a convolution; its
# transposed convolution maps the output's shape back to the input's
CASES = [
    ((2, 3, 40, 36), (12, 3, 4, 4), (2, 2), ((1, 1), (1, 1)), (1, 1)),
    ((2, 8, 33, 34), (16, 8, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),
    ((2, 16, 64, 40), (8, 16, 4, 4), (2, 2), ((1, 1), (1, 1)), (1, 1)),
    ((3, 9, 37, 50), (7, 9, 3, 2), (2, 3), ((1, 0), (1, 2)), (1, 2)),
    ((1, 12, 40, 36), (9, 12, 3, 3), (3, 2), ((2, 2), (0, 1)), (2, 1)),
    ((2, 3, 20, 70), (6, 3, 5, 5), (1, 2), ((2, 2), (2, 2)), (1, 1)),
    ((1, 9, 21, 35), (17, 9, 1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),
]


def _arrays(case, dtype, seed=0):
    xs, ws, s, (lo, hi), d = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    bt = rng.standard_normal(ws[1]).astype(dtype)
    out = tuple(C._out_size(L + a + c, k, si, di)
                for L, a, c, k, si, di in zip(xs[2:], lo, hi, ws[2:], s, d))
    gy = rng.standard_normal((xs[0], ws[0], *out)).astype(dtype)
    return x, w, b, bt, gy


def _passes(case, x, w, b, bt, gy):
    """(forward with bias, transposed convolution with bias, weight gradient)."""
    xs, ws, s, (lo, hi), d = case
    return (C._conv_fwd(x, w, b, (s, lo, hi, d, 1)),
            C._conv_t_fwd(gy, w, bt, (s, lo, d, 1, xs[2:])),
            C._conv_w_fwd(x, gy, (s, lo, hi, d, 1, ws[2:])))


def _taken(case, x, w, gy):
    """Whether the fused kernels take the forward/weight gradient and the transposed
    convolution (which needs 8 output channels or more)."""
    xs, ws, s, _, _ = case
    return (C._fz_ok(x, ws[2:], s, 1, xs[1], ws[0], gy.shape[-1]),
            xs[1] >= 8 and C._fz_ok(gy, ws[2:], s, 1, xs[1], ws[0], gy.shape[-1]))


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


@needs_fused
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_matches_other_paths(case, dtype, monkeypatch):
    x, w, b, bt, gy = _arrays(case, dtype)
    assert _taken(case, x, w, gy) == (gy.shape[-1] >= 16, gy.shape[-1] >= 16 and x.shape[1] >= 8)
    got = _passes(case, x, w, b, bt, gy)
    with monkeypatch.context() as m:
        m.setattr(C, "_fz_ok", lambda *a: False)
        ref = _passes(case, x, w, b, bt, gy)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype
        np.testing.assert_allclose(g, r, **_tol(dtype))


@needs_fused
@pytest.mark.parametrize("case", CASES[:3])
def test_fused_bands_and_threads(case):
    """One sample (several bands per sample, halo rows of the transposed convolution
    recomputed per band) and one thread give the same results."""
    x, w, b, bt, gy = _arrays(case, np.float64, seed=1)
    ref = _passes(case, x, w, b, bt, gy)
    one = _passes(case, x[:1], w, b, bt, gy[:1])
    for g, r in zip(one[:2], ref[:2]):
        np.testing.assert_allclose(g, r[:1], rtol=1e-12, atol=1e-12)
    old = get_num_threads()
    set_num_threads(1)
    try:
        single = _passes(case, x, w, b, bt, gy)
    finally:
        set_num_threads(old)
    for g, r in zip(single, ref):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


@needs_fused
def test_fused_non_contiguous_input():
    case = CASES[0]
    x, w, b, bt, gy = _arrays(case, np.float32)
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    assert not xt.flags.c_contiguous
    got = _passes(case, xt, w, b, bt, gy)
    ref = _passes(case, x, w, b, bt, gy)
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)


def test_without_compiler_other_paths_run():
    case = CASES[1]
    x, w, b, bt, gy = _arrays(case, np.float64)
    ref = _passes(case, x, w, b, bt, gy)
    old = set_disabled(True)
    try:
        assert not any(_taken(case, x, w, gy))
        got = _passes(case, x, w, b, bt, gy)
    finally:
        set_disabled(old)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-10)


TORCH_CASES = [
    # (input, weight, stride, padding, dilation, transposed)
    ((8, 32, 32, 32), (32, 16, 4, 4), 2, 1, 1, True),   # the sweep's conv_transpose2d
    ((4, 32, 64, 64), (32, 32, 3, 3), 2, 1, 1, False),  # the sweep's conv2d.3x3s2
    ((2, 6, 40, 34), (6, 4, 3, 5), (2, 3), (1, 2), (2, 1), True),
    ((2, 5, 45, 47), (7, 5, 3, 3), (3, 2), (0, 2), (1, 2), False),
]


@pytest.mark.parametrize("case", TORCH_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_against_torch(case, dtype):
    torch = pytest.importorskip("torch")
    xs, ws, s, p, d, tr = case
    rng = np.random.default_rng(3)
    xn = rng.standard_normal(xs).astype(dtype)
    wn = rng.standard_normal(ws).astype(dtype)
    bn = rng.standard_normal(ws[1] if tr else ws[0]).astype(dtype)
    outs = []
    for mod, f in ((ember, F), (torch, torch.nn.functional)):
        x, w, b = (mod.tensor(a, requires_grad=True) for a in (xn, wn, bn))
        if tr:
            y = f.conv_transpose2d(x, w, b, stride=s, padding=p, dilation=d)
        else:
            y = f.conv2d(x, w, b, stride=s, padding=p, dilation=d)
        gy = mod.tensor(np.cos(np.arange(y.numel()).reshape(tuple(y.shape))).astype(dtype))
        y.backward(gy)
        outs.append([t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)])
    tol = dict(rtol=2e-4, atol=2e-3) if dtype == "float32" else dict(rtol=1e-9, atol=1e-9)
    for e, t in zip(*outs):
        np.testing.assert_allclose(e, t, **tol)


# ---------------------------------------------------------------------------- cdist forward
CDIST_SHAPES = [((500, 64), (400, 64)), ((3, 7, 5), (1, 9, 5)), ((2, 3), (6, 3)),
                ((2, 1, 6, 4), (3, 5, 4)), ((4, 0), (3, 0)), ((0, 3), (2, 3))]


@pytest.mark.parametrize("shapes", CDIST_SHAPES)
@pytest.mark.parametrize("p", [1.0, 2.0, float("inf")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cdist_forward_kernel_matches_numpy_form(shapes, p, dtype):
    from ember._ops import matrices

    rng = np.random.default_rng(4)
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1]).astype(dtype)
    got = matrices._cdist_fwd(a, b, p)
    old = set_disabled(True)
    try:
        ref = matrices._cdist_fwd(a, b, p)
    finally:
        set_disabled(old)
    direct = np.linalg.norm(a[..., :, None, :] - b[..., None, :, :], ord=p, axis=-1) \
        if a.shape[-1] else np.zeros(ref.shape, dtype)
    assert got.shape == ref.shape == direct.shape and got.dtype == ref.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, ref, **tol)
    np.testing.assert_allclose(got, direct, **tol)


def test_cdist_forward_kernel_non_finite():
    from ember._ops import matrices

    a = np.array([[0.0, np.nan], [1.0, 2.0], [np.inf, 0.0]], np.float32)
    b = np.array([[1.0, 1.0], [0.0, -np.inf]], np.float32)
    for p in (1.0, 2.0, float("inf")):
        got = matrices._cdist_fwd(a, b, p)
        old = set_disabled(True)
        try:
            ref = matrices._cdist_fwd(a, b, p)
        finally:
            set_disabled(old)
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("p", [1.0, 2.0, float("inf")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cdist_against_torch(p, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    an = rng.standard_normal((2, 37, 9)).astype(dtype)
    bn = rng.standard_normal((2, 29, 9)).astype(dtype)
    gn = rng.standard_normal((2, 37, 29)).astype(dtype)
    outs = []
    for mod in (ember, torch):
        a, b = mod.tensor(an, requires_grad=True), mod.tensor(bn, requires_grad=True)
        y = mod.cdist(a, b, p=p, compute_mode="donot_use_mm_for_euclid_dist")
        y.backward(mod.tensor(gn))
        outs.append([t.detach().numpy() for t in (y, a.grad, b.grad)])
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    for e, t in zip(*outs):
        np.testing.assert_allclose(e, t, **tol)


# ------------------------------------------------------------------------- interpolation
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_linear_axis_kernel_last_axis_equals_numpy_form(dtype, axis):
    """The per-slice loops of the last axis give the NumPy form's values, both ways."""
    from ember.nn import _functional_spatial as S

    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5, 7)).astype(dtype)
    size, out = x.shape[axis], 2 * x.shape[axis] + 1
    got = S._linear_axis_fwd(x, axis, size, out, False, size / out)
    g = rng.standard_normal(got.shape).astype(dtype)
    gg = S._linear_axis_bwd_fwd(g, axis, size, out, False, size / out)
    old = set_disabled(True)
    try:
        ref = S._linear_axis_fwd(x, axis, size, out, False, size / out)
        rg = S._linear_axis_bwd_fwd(g, axis, size, out, False, size / out)
    finally:
        set_disabled(old)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_allclose(gg, rg, rtol=1e-6 if dtype == np.float32 else 1e-14,
                               atol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("mode,shape", [("linear", (2, 3, 11)), ("bilinear", (2, 3, 9, 13)),
                                        ("trilinear", (1, 2, 5, 6, 7))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_against_torch(mode, shape, align_corners):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    xn = rng.standard_normal(shape).astype(np.float32)
    outs = []
    for mod, f in ((ember, F), (torch, torch.nn.functional)):
        x = mod.tensor(xn, requires_grad=True)
        y = f.interpolate(x, scale_factor=2.5, mode=mode, align_corners=align_corners)
        gy = mod.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape)).astype(np.float32))
        y.backward(gy)
        outs.append([y.detach().numpy(), x.grad.numpy()])
    for e, t in zip(*outs):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------- softmax
@pytest.mark.parametrize("shape", [(5, 131, 87), (3, 40, 17), (2, 9, 5), (2, 7, 600)])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_column_kernels_any_width(shape, log, dtype):
    """Column sweeps whose block width is no multiple of the vector length (the scratch
    row's zero tail) give NumPy's values, forward and backward."""
    from ember._codegen import softmax_kernels as S

    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = S.softmax(x, 1, log=log)
    if y is None:
        pytest.skip("no compiler: the softmax kernels do not run")
    x64 = x.astype(np.float64)
    z = x64 - x64.max(1, keepdims=True)
    lse = np.log(np.exp(z).sum(1, keepdims=True))
    ref = z - lse if log else np.exp(z - lse)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y, ref, **tol)
    gx = S.softmax_backward(g, y, 1, log=log)
    y64, g64 = y.astype(np.float64), g.astype(np.float64)
    rg = g64 - np.exp(y64) * g64.sum(1, keepdims=True) if log else \
        y64 * (g64 - (g64 * y64).sum(1, keepdims=True))
    np.testing.assert_allclose(gx, rg, **tol)


# ------------------------------------------------------------------- global average pool
def test_global_avg_pool_gradcheck():
    """adaptive_avg_pool(x, 1) is one record (NOTE [ Global average pool ]): gradcheck and
    gradgradcheck in float64, PyTorch's node name."""
    x = ember.tensor(np.random.default_rng(9).standard_normal((2, 3, 4, 5)),
                     requires_grad=True)
    assert F.adaptive_avg_pool2d(x, 1).grad_fn.name() == "MeanBackward1"
    assert ember.autograd.gradcheck(lambda t: F.adaptive_avg_pool2d(t, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, (1, 1)), (x,))
    y = ember.tensor(np.random.default_rng(9).standard_normal((2, 3, 7)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: F.adaptive_avg_pool1d(t, 1), (y,))


@pytest.mark.parametrize("shape", [(8, 32, 64, 64), (2, 3, 5, 7), (1, 1, 1, 1), (0, 3, 4, 4),
                                   (3, 2, 8, 9)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_global_avg_pool_values(shape, dtype):
    x = np.random.default_rng(10).standard_normal(shape).astype(dtype)
    with ember.no_grad():
        got = F.adaptive_avg_pool2d(ember.tensor(x), 1).numpy()
    xt = ember.tensor(x[..., ::2, :] if shape[2] > 1 else x)  # a strided view too
    with ember.no_grad():
        got2 = F.adaptive_avg_pool2d(xt, 1).numpy()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    ref = x.astype(np.float64).mean((2, 3), keepdims=True)
    assert got.shape == ref.shape and got.dtype == dtype
    np.testing.assert_allclose(got, ref, **tol)
    np.testing.assert_allclose(got2, xt.numpy().astype(np.float64).mean((2, 3), keepdims=True),
                               **tol)
    old = set_disabled(True)  # no compiler: the matrix-vector product
    try:
        with ember.no_grad():
            np.testing.assert_allclose(F.adaptive_avg_pool2d(ember.tensor(x), 1).numpy(), ref,
                                       **tol)
    finally:
        set_disabled(old)


def test_global_avg_pool_against_torch():
    torch = pytest.importorskip("torch")
    xn = np.random.default_rng(11).standard_normal((4, 6, 9, 10)).astype(np.float32)
    gn = np.random.default_rng(12).standard_normal((4, 6, 1, 1)).astype(np.float32)
    outs = []
    for mod, f in ((ember, F), (torch, torch.nn.functional)):
        x = mod.tensor(xn, requires_grad=True)
        y = f.adaptive_avg_pool2d(x, 1)
        y.backward(mod.tensor(gn))
        outs.append([y.detach().numpy(), x.grad.numpy()])
    for e, t in zip(*outs):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------ mv's gradients
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_product_gradients_are_outer_products(dtype):
    """mv's matrix gradient and vector @ matrix's matrix gradient are outer
    products through BLAS (NOTE [ Outer products through BLAS ]): each value one product,
    equal to NumPy's outer product bit for bit; second order through the matmul record."""
    rng = np.random.default_rng(13)
    an = rng.standard_normal((300, 250)).astype(dtype)
    vn = rng.standard_normal(250).astype(dtype)
    gn = rng.standard_normal(300).astype(dtype)
    a = ember.tensor(an, requires_grad=True)
    v = ember.tensor(vn, requires_grad=True)
    ember.mv(a, v).backward(ember.tensor(gn))
    np.testing.assert_array_equal(a.grad.numpy(), np.outer(gn, vn))
    np.testing.assert_allclose(v.grad.numpy(), an.T @ gn, rtol=1e-5 if dtype == np.float32
                               else 1e-12)
    u = ember.tensor(gn, requires_grad=True)
    m = ember.tensor(an, requires_grad=True)
    (u @ m).backward(ember.tensor(vn))
    np.testing.assert_array_equal(m.grad.numpy(), np.outer(gn, vn))
    # create_graph: d/dv sum(dA * W) = W^T g
    a.grad = v.grad = None
    (ga,) = ember.autograd.grad(ember.mv(a, v), (a,), ember.tensor(gn), create_graph=True)
    wn = rng.standard_normal(an.shape).astype(dtype)
    (ga * ember.tensor(wn)).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), wn.T @ gn, rtol=1e-4 if dtype == np.float32
                               else 1e-12)


def test_mv_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    an = rng.standard_normal((400, 300)).astype(np.float32)
    vn = rng.standard_normal(300).astype(np.float32)
    bn = rng.standard_normal(400).astype(np.float32)
    gn = rng.standard_normal(400).astype(np.float32)
    outs = []
    for mod in (ember, torch):
        a, v, b = (mod.tensor(t, requires_grad=True) for t in (an, vn, bn))
        y = mod.addmv(b, a, v, beta=0.5, alpha=2.0)
        y.backward(mod.tensor(gn))
        outs.append([t.detach().numpy() for t in (y, a.grad, v.grad, b.grad)])
    for e, t in zip(*outs):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-4)


# ------------------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_row_kernel(dtype):
    """The row kernel's (nll, softmax) equal the NumPy formula; inf/nan rows as NumPy."""
    from ember._codegen import softmax_kernels as S

    rng = np.random.default_rng(15)
    x = (rng.standard_normal((300, 257)) * 5).astype(dtype)
    x[3, 7] = np.inf
    x[5, 0] = np.nan
    x[9] = -np.inf
    t = rng.integers(0, 257, 300)
    r = S.cross_entropy(x, t)
    if r is None:
        pytest.skip("no compiler: the softmax kernels do not run")
    nll, prob = r
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        m = x64.max(1, keepdims=True)
        e = np.exp(x64 - m)
        s = e.sum(1, keepdims=True)
        ref_nll = np.log(s[:, 0]) - (x64[np.arange(300), t] - m[:, 0])
        ref_prob = e / s
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(nll, ref_nll, **tol)
    np.testing.assert_allclose(prob, ref_prob, **tol)


def test_cross_entropy_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(16)
    xn = rng.standard_normal((64, 1000)).astype(np.float32)
    tn = rng.integers(0, 1000, 64)
    wn = rng.uniform(0.5, 1.5, 1000).astype(np.float32)
    outs = []
    for mod, f in ((ember, F), (torch, torch.nn.functional)):
        for kw in ({}, {"weight": mod.tensor(wn), "ignore_index": int(tn[0])},
                   {"reduction": "none", "label_smoothing": 0.1}):
            x = mod.tensor(xn, requires_grad=True)
            y = f.cross_entropy(x, mod.tensor(tn), **kw)
            y.sum().backward()
            outs.append((y.detach().numpy(), x.grad.numpy()))
    half = len(outs) // 2
    for (ye, ge), (yt, gt) in zip(outs[:half], outs[half:]):
        np.testing.assert_allclose(ye, yt, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ge, gt, rtol=1e-5, atol=1e-6)
