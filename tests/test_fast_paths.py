"""The speed paths of issue 18 give the results and gradients of the plain formulas: cdist's
GEMM and blocked forms, unique's counting path for integers, cumsum, grid_sample's fused
forward and convolution's GEMM layouts. NumPy references always; PyTorch as an oracle when
installed."""

import math

import numpy as np
import pytest

import ember
from ember._ops import matrices as M
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the oracle comparisons skip; the NumPy references still run
    torch = None

INF = float("inf")
MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
         "donot_use_mm_for_euclid_dist")


def _cdist_ref(a, b, p):
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(a.dtype)
    if math.isinf(p):
        return d.max(-1) if d.shape[-1] else np.zeros(d.shape[:-1], a.dtype)
    return (d ** p).sum(-1) ** (1 / p)


# ----------------------------------------------------------------------------- cdist
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, INF])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", [((5, 3), (4, 3)), ((30, 3), (4, 3)), ((2, 5, 3), (4, 3)),
                                    ((5, 0), (4, 0)), ((0, 3), (4, 3))])
def test_cdist_matches_numpy(p, mode, shapes):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    got = ember.cdist(ember.tensor(a), ember.tensor(b), p, mode).numpy()
    np.testing.assert_allclose(got, _cdist_ref(a, b, p), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("block", [1 << 18, 7, 1])  # coordinate loop, blocks, one by one
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, INF])
def test_cdist_blocks_gradcheck(monkeypatch, block, p):
    monkeypatch.setattr(M, "_CDIST_BLOCK", block)
    rng = np.random.default_rng(1)
    a = ember.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    mode = "donot_use_mm_for_euclid_dist"
    np.testing.assert_allclose(ember.cdist(a, b, p, mode).detach().numpy(),
                               _cdist_ref(a.detach().numpy(), b.detach().numpy(), p),
                               rtol=1e-10, atol=1e-12)
    if p != 0:  # p = 0 counts differences: piecewise constant
        assert gradcheck(lambda x, y: ember.cdist(x, y, p, mode), (a, b))
        assert gradgradcheck(lambda x, y: ember.cdist(x, y, p, mode), (a, b))


def test_cdist_euclid_gradcheck():
    rng = np.random.default_rng(2)
    a = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True)
    f = lambda x, y: ember.cdist(x, y, compute_mode="use_mm_for_euclid_dist")  # noqa: E731
    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))


def test_cdist_zero_distance_gradient_is_zero():
    # PyTorch's subgradient at coinciding points is 0 in every path and every p.
    a = ember.tensor([[1.0, 2.0], [0.0, 0.0]], requires_grad=True)
    b = ember.tensor([[1.0, 2.0]], requires_grad=True)
    for p in (0.5, 1.0, 2.0, 3.0):
        for mode in MODES:
            g = ember.autograd.grad(ember.cdist(a, b, p, mode)[0].sum(), [a])[0]
            assert np.array_equal(g.numpy(), np.zeros((2, 2))), (p, mode)


def test_cdist_errors():
    a = ember.ones(2, 3)
    with pytest.raises(ValueError, match="not a valid value for compute_mode"):
        ember.cdist(a, a, compute_mode="fast")
    with pytest.raises(RuntimeError, match="non-negative p"):
        ember.cdist(a, a, p=-1)
    with pytest.raises(RuntimeError, match="floating-point dtypes"):
        ember.cdist(a.long(), a.long())
    with pytest.raises(RuntimeError, match="same number of columns"):
        ember.cdist(a, ember.ones(2, 4))
    with pytest.raises(RuntimeError, match="expected scalar type"):
        ember.cdist(a, a.double())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, INF])
@pytest.mark.parametrize("mode", MODES)
def test_cdist_matches_torch(dtype, p, mode):
    if torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 31, 5)).astype(dtype)  # > 25 rows: the default takes the GEMM
    b = rng.standard_normal((3, 1, 7, 5)).astype(dtype)
    a[0, 0] = b[0, 0, 0]  # a coinciding pair (not for the GEMM form: cancellation noise)
    mm = p == 2 and mode != MODES[2]
    if mm:
        a[0, 0] += 0.5
    w = rng.standard_normal((3, 2, 31, 7)).astype(dtype)
    res = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = lib.cdist(x, y, p, mode)
        res.append([out.detach().numpy(), *(g.numpy() for g in lib.autograd.grad(
            (out * lib.tensor(w)).sum(), [x, y]))])
    tol = (2e-4 if dtype == "float32" else 1e-9) * (10 if mm else 1)
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- unique
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("case", ["small", "negative", "wide", "single", "matrix"])
def test_unique_counting_matches_sorting(dtype, case):
    rng = np.random.default_rng(4)
    a = {"small": rng.integers(0, 100, 1000), "negative": rng.integers(-120, 120, 3000),
         "wide": rng.integers(-2 ** 40, 2 ** 40, 50),  # too wide for a table: np.unique
         "single": np.array([3]), "matrix": rng.integers(-3, 4, (7, 5))}[case].astype(dtype)
    vals, inv, counts = ember.unique(ember.tensor(a), return_inverse=True, return_counts=True)
    rv, ri, rc = np.unique(a, return_inverse=True, return_counts=True)
    assert vals.dtype == ember.tensor(a).dtype and inv.dtype == counts.dtype == ember.int64
    np.testing.assert_array_equal(vals.numpy(), rv)
    np.testing.assert_array_equal(inv.numpy(), ri.reshape(a.shape))
    np.testing.assert_array_equal(counts.numpy(), rc)
    np.testing.assert_array_equal(ember.unique(ember.tensor(a)).numpy(), rv)


def test_unique_empty_integer():
    vals, inv, counts = ember.unique(ember.zeros(0, dtype=ember.int64), return_inverse=True,
                                     return_counts=True)
    assert vals.shape == inv.shape == counts.shape == (0,)


# ----------------------------------------------------------------------------- cumsum
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool", "uint8"])
@pytest.mark.parametrize("shape,dim", [((600, 300), 0), ((5, 700, 60), 1), ((300, 3, 100), 0),
                                       ((40, 40, 40), 2), ((2, 5000, 1), 1), ((3000,), 0)])
def test_cumsum_slice_loop_is_bit_identical(dtype, shape, dim):
    a = (np.random.default_rng(5).standard_normal(shape) * 5).astype(dtype)
    for out_dtype in (None, ember.float64, ember.int64):
        got = ember.cumsum(ember.tensor(a), dim, dtype=out_dtype).numpy()
        want = np.cumsum(a.astype(np.int64) if a.dtype.kind in "bu" and out_dtype is None
                         else a, axis=dim, dtype=None if out_dtype is None else
                         np.dtype(str(out_dtype).split(".")[-1]))
        if a.dtype == np.float32 and out_dtype is None:  # accumulated in double, as PyTorch
            want = np.cumsum(a, axis=dim, dtype=np.float64).astype(np.float32)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_cumsum_slice_loop_gradient():
    rng = np.random.default_rng(6)
    x = ember.tensor(rng.standard_normal((20, 300)), requires_grad=True)  # slices of 300
    w = rng.standard_normal((20, 300))
    (g,) = ember.autograd.grad((ember.cumsum(x, 0) * ember.tensor(w)).sum(), [x])
    np.testing.assert_allclose(g.numpy(), np.cumsum(w[::-1], 0)[::-1], rtol=1e-12)
    small = ember.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    assert gradcheck(lambda t: ember.cumsum(t, 1), (small,))


# ----------------------------------------------------------------------------- convolution
from ember._ops import conv as C  # noqa: E402

CONV_CASES = [  # (nd, input shape, weight shape, kwargs)
    (1, (3, 4, 11), (5, 4, 3), dict(padding=1)),
    (1, (3, 4, 11), (5, 4, 1), dict(stride=2)),
    (2, (3, 3, 9, 8), (4, 3, 3, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2))),
    (2, (3, 3, 9, 8), (4, 3, 1, 1), {}),
    (2, (3, 3, 9, 8), (4, 3, 1, 1), dict(stride=2)),
    (2, (3, 3, 9, 8), (4, 3, 1, 1), dict(padding=1)),
    (2, (3, 2, 7, 7), (3, 2, 2, 4), dict(padding="same")),
    (3, (2, 2, 5, 4, 6), (3, 2, 2, 3, 2), dict(padding=(1, 0, 1), stride=(1, 2, 1))),
    (2, (3, 8, 5, 4), (6, 8, 3, 3), dict(padding=1)),  # channels-last (C >= output width)
    (2, (3, 9, 6, 5), (4, 9, 2, 3), dict(stride=2, padding=(0, 1), dilation=(2, 1))),
]
CONV_T_CASES = [
    (1, (3, 4, 7), (4, 5, 3), dict(stride=2, padding=1, output_padding=1)),
    (2, (3, 3, 5, 6), (3, 4, 1, 1), {}),
    (2, (3, 3, 5, 6), (3, 4, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    (2, (3, 3, 5, 6), (3, 4, 1, 1), dict(stride=2, output_padding=1)),
    (2, (3, 4, 3, 3), (4, 8, 3, 3), dict(stride=2, padding=1)),  # channels-last
]


def _conv_run(fn, xs, ws, kw, dtype=np.float64):
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.standard_normal(xs).astype(dtype), requires_grad=True)
    w = ember.tensor(rng.standard_normal(ws).astype(dtype), requires_grad=True)
    b = ember.tensor(rng.standard_normal(ws[1] * kw.get("groups", 1) if "transpose" in
                                         fn.__name__ else ws[0])
                     .astype(dtype), requires_grad=True)
    y = fn(x, w, b, **kw)
    gy = ember.tensor(rng.standard_normal(tuple(y.shape)).astype(dtype))
    return [y.detach().numpy(), *(g.numpy() for g in ember.autograd.grad(y, [x, w, b], gy))]


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("block", ["default", 1, 200])  # whole batch, per sample, partial
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_blocked_equals_whole_batch(monkeypatch, transposed, block, dtype):
    import ember.nn.functional as F

    cases = CONV_T_CASES if transposed else CONV_CASES
    for nd, xs, ws, kw in cases:
        fn = getattr(F, f"conv_transpose{nd}d" if transposed else f"conv{nd}d")
        if block != "default":
            monkeypatch.setattr(C, "_CONV_BLOCK", block)
        got = _conv_run(fn, xs, ws, kw, dtype)
        with monkeypatch.context() as m:
            m.setattr(C, "_blocked", lambda x, g: False)
            want = _conv_run(fn, xs, ws, kw, dtype)
        tol = 1e-12 if dtype == np.float64 else 2e-5
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol, err_msg=f"{nd} {xs} {kw}")


@pytest.mark.parametrize("block", ["default", 1])
def test_conv_blocked_gradcheck(monkeypatch, block):
    import ember.nn.functional as F

    if block != "default":
        monkeypatch.setattr(C, "_CONV_BLOCK", block)
    rng = np.random.default_rng(8)
    x = ember.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    for ws, kw in (((3, 2, 3, 2), dict(padding=(1, 0), stride=(2, 1))), ((3, 2, 1, 1), {})):
        w = ember.tensor(rng.standard_normal(ws), requires_grad=True)
        assert gradcheck(lambda a, b: F.conv2d(a, b, **kw), (x, w))
        assert gradgradcheck(lambda a, b: F.conv2d(a, b, **kw), (x, w))
        wt = ember.tensor(rng.standard_normal((2,) + ws[:1] + ws[2:]), requires_grad=True)
        assert gradcheck(lambda a, b: F.conv_transpose2d(a, b, **kw), (x, wt))


def test_conv_matches_torch_large_batch():
    if torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")
    import ember.nn.functional as F

    rng = np.random.default_rng(9)
    for xs, ws, kw in (((5, 8, 40, 40), (6, 8, 3, 3), dict(padding=1)),
                       ((5, 8, 40, 40), (6, 8, 1, 1), dict(stride=2))):
        a, wa = rng.standard_normal(xs), rng.standard_normal(ws)
        res = []
        for lib, f in ((ember, F.conv2d), (torch, torch.nn.functional.conv2d)):
            x, w = lib.tensor(a, requires_grad=True), lib.tensor(wa, requires_grad=True)
            y = f(x, w, **kw)
            res.append([y.detach().numpy(), *(g.numpy() for g in lib.autograd.grad(
                y.sum(), [x, w]))])
        for e, t in zip(*res):
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- grid_sample
@pytest.mark.parametrize("channels", [3, 9])  # per-sample takes, channels-last rows
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_record_is_bit_identical_to_composite(channels, dtype, mode, padding_mode,
                                                          align_corners):
    import ember.nn.functional as F

    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, channels, 5, 7)).astype(dtype)
    g = rng.uniform(-1.6, 1.6, (2, 4, 6, 2)).astype(dtype)
    g[0, 0, 0] = (-1, 1)  # corners and pixel centres: the kinks
    g[0, 0, 1] = (0, 0)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    fast = F.grid_sample(ember.tensor(x), ember.tensor(g), **kw)
    slow = F.grid_sample(ember.tensor(x, requires_grad=True), ember.tensor(g), **kw)
    assert fast.grad_fn is None and slow.grad_fn is not None
    assert fast.dtype == slow.dtype
    np.testing.assert_array_equal(fast.numpy(), slow.detach().numpy())
    with ember.no_grad():
        again = F.grid_sample(ember.tensor(x, requires_grad=True), ember.tensor(g), **kw)
    np.testing.assert_array_equal(again.numpy(), fast.numpy())
    if torch is not None:
        want = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(g), **kw)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(fast.numpy(), want.numpy(), rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- topk
def _topk_ref(a, k, dim, largest):
    # the stable full sort's first k (ties by index, NaN the largest), as before the fast path
    b = np.moveaxis(a, dim, -1)
    if largest:
        idx = b.shape[-1] - 1 - np.flip(np.argsort(np.flip(b, -1), -1, kind="stable"), -1)
    else:
        idx = np.argsort(b, -1, kind="stable")
    return np.moveaxis(idx[..., :k], -1, dim)


@pytest.mark.parametrize("kind", ["normal", "ties", "ints", "nans", "mostly_nan", "binary"])
@pytest.mark.parametrize("shape,dim", [((5000,), 0), ((3, 4100), 1), ((4200, 3), 0),
                                       ((2, 4100, 2), 1)])  # n >= 4096: the partition path
@pytest.mark.parametrize("largest", [True, False])
def test_topk_partition_matches_full_sort(kind, shape, dim, largest):
    rng = np.random.default_rng(11)
    a = {"normal": lambda: rng.standard_normal(shape),
         "ties": lambda: rng.integers(0, 5, shape).astype(np.float32),
         "ints": lambda: rng.integers(-3, 3, shape),
         "nans": lambda: np.where(rng.random(shape) < 0.3, np.nan, rng.standard_normal(shape)),
         "mostly_nan": lambda: np.where(rng.random(shape) < 0.995, np.nan, 1.0),
         "binary": lambda: (rng.random(shape) < 0.5).astype(np.uint8)}[kind]()
    for k in (1, 7, shape[dim] // 8):
        v, i = ember.topk(ember.tensor(a), k, dim, largest)
        want = _topk_ref(a, k, dim, largest)
        np.testing.assert_array_equal(i.numpy(), want)
        np.testing.assert_array_equal(v.numpy(), np.take_along_axis(a, want, dim))


def test_topk_matches_torch_and_gradient():
    rng = np.random.default_rng(12)
    a = rng.standard_normal((4, 5000))
    x = ember.tensor(a, requires_grad=True)
    v, i = ember.topk(x, 20, 1)
    (g,) = ember.autograd.grad(v.sum(), [x])
    want = np.zeros_like(a)
    np.put_along_axis(want, i.numpy(), 1.0, 1)
    np.testing.assert_array_equal(g.numpy(), want)
    if torch is not None:
        tv, ti = torch.topk(torch.tensor(a), 20, 1)
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        np.testing.assert_array_equal(v.detach().numpy(), tv.numpy())


DW_CASES = [  # (nd, input shape, weight shape, kwargs): depthwise, one filter per channel
    (2, (2, 4, 9, 8), (4, 1, 3, 3), dict(padding=1, groups=4)),
    (2, (2, 4, 9, 8), (4, 1, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                         groups=4)),
    (1, (3, 5, 12), (5, 1, 4), dict(padding="same", groups=5)),
    (3, (1, 3, 5, 4, 6), (3, 1, 2, 3, 2), dict(padding=(1, 0, 1), stride=2, groups=3)),
]
DW_T_CASES = [
    (2, (2, 4, 5, 6), (4, 1, 3, 3), dict(stride=2, padding=1, output_padding=1, groups=4)),
    (1, (2, 3, 7), (3, 1, 2), dict(dilation=2, groups=3)),
]


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_depthwise_equals_grouped_gemm(monkeypatch, transposed, dtype):
    import ember.nn.functional as F

    for nd, xs, ws, kw in (DW_T_CASES if transposed else DW_CASES):
        fn = getattr(F, f"conv_transpose{nd}d" if transposed else f"conv{nd}d")
        got = _conv_run(fn, xs, ws, kw, dtype)
        with monkeypatch.context() as m:
            m.setattr(C, "_depthwise", lambda x, w, g: False)
            m.setattr(C, "_depthwise_w", lambda x, gy, g: False)
            want = _conv_run(fn, xs, ws, kw, dtype)
        tol = 1e-12 if dtype == np.float64 else 2e-5
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol, err_msg=f"{nd} {xs} {kw}")


def test_depthwise_gradcheck_and_torch():
    import ember.nn.functional as F

    rng = np.random.default_rng(13)
    x = ember.tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((3, 1, 3, 2)), requires_grad=True)
    f = lambda a, b: F.conv2d(a, b, stride=(2, 1), padding=1, groups=3)  # noqa: E731
    assert gradcheck(f, (x, w))
    assert gradgradcheck(f, (x, w))
    if torch is not None:
        tx = torch.tensor(x.detach().numpy(), requires_grad=True)
        tw = torch.tensor(w.detach().numpy(), requires_grad=True)
        ty = torch.nn.functional.conv2d(tx, tw, stride=(2, 1), padding=1, groups=3)
        ey = f(x, w)
        np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
        for e, t in zip(ember.autograd.grad(ey.sum(), [x, w]),
                        torch.autograd.grad(ty.sum(), [tx, tw])):
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- adaptive avg
@pytest.mark.parametrize("shape,out", [((2, 3, 8, 6), 1), ((2, 3, 8, 6), (4, 3)),
                                       ((3, 8, 6), (2, None)), ((2, 3, 8, 6), (3, 4))])
def test_adaptive_avg_pool_equal_bins(shape, out):
    import ember.nn.functional as F

    rng = np.random.default_rng(14)
    a = rng.standard_normal(shape)
    x = ember.tensor(a, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, out)
    oh, ow = (out, out) if isinstance(out, int) else (out[0], out[1] or shape[-1])
    h, w = shape[-2:]
    # bins [floor(i*L/o), ceil((i+1)*L/o)) averaged, as PyTorch
    ref = np.stack([np.stack([a[..., (i * h) // oh:-((-(i + 1) * h) // oh),
                                (j * w) // ow:-((-(j + 1) * w) // ow)].mean((-2, -1))
                              for j in range(ow)], -1) for i in range(oh)], -2)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, out), (x,))


# ----------------------------------------------------------------------------- take_axis
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis,length", [((4, 6, 66), 2, 64), ((4, 66, 5), 1, 64),
                                               ((70, 3), 0, 64), ((2, 3, 200), -1, 50),
                                               ((3, 5000), 1, 9)])  # the last: add.at
def test_take_axis_backward_slice_loop_is_bit_identical(dtype, shape, axis, length):
    from ember._ops import pool as P

    rng = np.random.default_rng(15)
    idx = rng.integers(0, length, shape[axis]).astype(np.int64)
    g = rng.standard_normal(shape).astype(dtype)
    want = np.zeros(shape[:axis % len(shape)] + (length,) + shape[axis % len(shape) + 1:],
                    dtype)
    np.add.at(want, (slice(None),) * (axis % len(shape)) + (idx,), g)
    np.testing.assert_array_equal(P._take_bwd_fwd(g, idx, axis, length), want)


def test_reflect_pad_gradient_matches_torch():
    if torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")
    import ember.nn.functional as F

    a = np.random.default_rng(16).standard_normal((2, 3, 40, 33))
    for mode in ("reflect", "replicate", "circular"):
        x, tx = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y = F.pad(x, (2, 3, 1, 2), mode=mode)
        ty = torch.nn.functional.pad(tx, (2, 3, 1, 2), mode=mode)
        w = np.random.default_rng(17).standard_normal(tuple(ty.shape))
        (g,) = ember.autograd.grad((y * ember.tensor(w)).sum(), [x])
        (tg,) = torch.autograd.grad((ty * torch.tensor(w)).sum(), [tx])
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12, atol=1e-12)
