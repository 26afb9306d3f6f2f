"""The C depthwise convolution kernels (NOTE [ Depthwise convolution kernels ]) against the
NumPy path they replace (kernels disabled) and, where PyTorch is installed, its results."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._codegen import conv_kernels
from ember._codegen.kernel import set_disabled

# (input shape, kernel, stride, padding, dilation): 1-d and 2-d, padding over and under
# the kernel's reach, strides that skip input columns, a one-column image
CASES = [
    ((2, 3, 7, 9), 3, 1, 1, 1), ((2, 3, 7, 9), 3, 2, 1, 1), ((2, 3, 7, 9), 2, 1, 0, 2),
    ((2, 3, 7, 9), 5, 3, 2, 1), ((2, 3, 7, 9), 1, 2, 1, 1), ((2, 3, 7, 9), 3, 1, 2, 2),
    ((1, 5, 4, 4), 5, 1, 2, 1), ((2, 2, 9, 1), 3, 1, 1, 1), ((2, 4, 11), 3, 1, 1, 1),
    ((2, 4, 11), 5, 2, 2, 2), ((2, 4, 11), 7, 1, 3, 1), ((3, 8, 16, 16), 3, 1, 1, 1),
    ((1, 2, 6, 6), 4, 1, 0, 1), ((2, 3, 10, 12), 3, (2, 1), (1, 0), (1, 2)),
]


def _run(shape, k, s, p, d, dtype, bias, seed=0):
    rng = np.random.default_rng(seed)
    nd = len(shape) - 2
    c = shape[1]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((c, 1) + (k,) * nd).astype(dtype)
    b = rng.standard_normal(c).astype(dtype) if bias else None
    ex = ember.tensor(x, requires_grad=True)
    ew = ember.tensor(w, requires_grad=True)
    eb = ember.tensor(b, requires_grad=True) if bias else None
    conv = F.conv1d if nd == 1 else F.conv2d
    y = conv(ex, ew, eb, stride=s, padding=p, dilation=d, groups=c)
    g = rng.standard_normal(tuple(y.shape)).astype(dtype)
    y.backward(ember.tensor(g))
    out = [y.detach().numpy(), ex.grad.numpy(), ew.grad.numpy()]
    return (x, w, b, g), out + ([eb.grad.numpy()] if bias else [])


def _off(fn):
    old = set_disabled(True)  # what EMBER_JIT_DISABLE=1 sets at import
    try:
        return fn()
    finally:
        set_disabled(old)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_kernel_matches_numpy_path(case, dtype):
    shape, k, s, p, d = case
    bias = k % 2 == 1
    _, fast = _run(shape, k, s, p, d, dtype, bias)
    _, slow = _off(lambda: _run(shape, k, s, p, d, dtype, bias))
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast, slow):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_kernels_are_taken():
    x = np.ones((1, 2, 5, 5), np.float32)
    w = np.ones((2, 1, 3, 3), np.float32)
    if conv_kernels._lib() is None:
        pytest.skip("no C compiler: the NumPy path runs")
    y = conv_kernels.dw_forward(x, w, None, (1, 1), (1, 1), (1, 1), (5, 5))
    # a 3x3 box sum of ones: 9 inside, 6 on the edges, 4 in the corners
    assert y[0, 0, 2, 2] == 9 and y[0, 1, 0, 2] == 6 and y[0, 0, 0, 0] == 4
    assert conv_kernels.dw_forward(x.astype(np.float16), w.astype(np.float16), None, (1, 1),
                                   (1, 1), (1, 1), (5, 5)) is None
    gw = conv_kernels.dw_weight_grad(x, np.ones_like(y), (1, 1), (1, 1), (1, 1), (3, 3))
    assert gw[0, 0, 1, 1] == 25 and gw[1, 0, 0, 0] == 16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_values_follow_numpy_path(dtype):
    # a plane holding inf/nan takes the checked per-row sums in the weight gradient (its
    # zero-widened dot products would add 0 * inf); an inf weight the checked forward
    shape = (2, 3, 8, 8)
    for where in ("x", "w"):
        def run():
            rng = np.random.default_rng(1)
            x = rng.standard_normal(shape).astype(dtype)
            w = rng.standard_normal((3, 1, 3, 3)).astype(dtype)
            if where == "x":
                x[0, 1, 0, 0], x[1, 2, 7, 3] = np.inf, np.nan
            else:
                w[1, 0, 0, 0] = np.inf
            ex = ember.tensor(x, requires_grad=True)
            ew = ember.tensor(w, requires_grad=True)
            y = F.conv2d(ex, ew, padding=1, groups=3)
            y.sum().backward()
            return [y.detach().numpy(), ex.grad.numpy(), ew.grad.numpy()]
        fast, slow = run(), _off(run)
        if where == "w" and conv_kernels._lib() is not None:
            # the kernel skips padded taps (as PyTorch's float32 path does: its float64 path
            # and ember's NumPy path give 0 * inf = nan there), so no nan at all
            assert not any(np.isnan(a).any() for a in fast)
            fast, slow = [a[np.isfinite(b)] for a, b in zip(fast, slow)], \
                [b[np.isfinite(b)] for b in slow]
        for a, b in zip(fast, slow):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
            m = np.isfinite(a)
            np.testing.assert_allclose(a[m], b[m], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("s,p,op", [(1, 1, 0), (2, 1, 1), (2, 0, 0), (3, 2, 2)])
def test_transposed_depthwise_and_double_backward(s, p, op):
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((2, 4, 5, 6)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 1, 3, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(4), requires_grad=True)

    def f(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op, groups=4)

    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(
        lambda x, w: F.conv2d(x, w, stride=s, padding=p, groups=4), (x, w))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_against_torch(dtype):
    torch = pytest.importorskip("torch")
    for (shape, k, s, p, d), bias in itertools.product(CASES, (False, True)):
        (x, w, b, g), got = _run(shape, k, s, p, d, getattr(np, dtype), bias)
        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(w, requires_grad=True)
        tb = torch.tensor(b, requires_grad=True) if bias else None
        conv = torch.nn.functional.conv1d if x.ndim == 3 else torch.nn.functional.conv2d
        ty = conv(tx, tw, tb, stride=s, padding=p, dilation=d, groups=x.shape[1])
        ty.backward(torch.tensor(g))
        want = [ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()]
        want += [tb.grad.numpy()] if bias else []
        tol = 1e-4 if dtype == "float32" else 1e-10
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


# ------------------------------------------------------------- channels-last packing kernel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cl_pack_matches_numpy(dtype):
    from ember._ops import conv as cv

    if conv_kernels._lib() is None:
        pytest.skip("no C compiler: the NumPy path runs")
    rng = np.random.default_rng(3)
    n = 0
    for shape in ((3, 5, 7, 9), (2, 8, 11), (4, 16, 6, 6)):
        nd = len(shape) - 2
        for k, s, d, (lo, hi) in itertools.product(
                (1, 2, 3), (1, 2), (1, 2), ((0, 0), (1, 1), (2, 0), (1, -1), (-1, -1))):
            lo_, hi_ = (lo,) * nd, (hi,) * nd
            full = [L + lo + hi for L in shape[2:]]
            if any(f < d * (k - 1) + 1 for f in full):
                continue
            out = tuple(cv._out_size(f, k, s, d) for f in full)
            x = rng.standard_normal(shape).astype(dtype)
            got = conv_kernels.cl_pack(x, lo_, (k,) * nd, (s,) * nd, (d,) * nd, out)
            want = _off(lambda: cv._cl_pack(x, lo_, hi_, (k,) * nd, (s,) * nd, (d,) * nd,
                                            out, None))
            np.testing.assert_array_equal(got, want)
            n += 1
    assert n > 100


# ------------------------------------------------------------------ max pooling forward
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 3, 9, 11), (1, 64, 6, 6), (2, 2, 2, 3)])
@pytest.mark.parametrize("special", [False, True])
def test_max_pool_2x2_kernel_matches_numpy(shape, dtype, special):
    from ember._codegen import cnn
    from ember._ops import pool

    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(dtype)
    x[:, :1] = np.round(x[:, :1])  # ties: the first maximum's offset wins
    if special:
        x[0, 0, 0, :2] = np.nan  # several NaNs in a window: the last one's offset
        x[-1, -1, 1, 1] = np.nan
        x[0, -1] = -np.inf
        x[-1, 0, :2, :2] = -0.0
    out = tuple(v // 2 for v in shape[2:])
    args = ((2, 2), (2, 2), (0, 0), (1, 1), out)
    got = cnn.max_pool_forward(x, *args)
    if cnn._lib() is None:
        assert got is None
        return
    want = _off(lambda: pool.max_pool_arg(x, *args))
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[1].dtype == want[1].dtype == np.int8
    assert cnn.max_pool_forward(x, (3, 3), (2, 2), (1, 1), (1, 1), out) is None


# ------------------------------------------------------------------------ dead kernel taps
DEAD = [  # (input shape, out channels, kernel, stride, padding, dilation, groups)
    ((4, 8, 1, 1), 6, 3, 1, 1, 1, 1), ((4, 8, 2, 2), 6, 3, 2, 1, 1, 1),
    ((2, 4, 1, 1), 4, 5, 1, 2, 1, 1), ((2, 4, 3, 3), 4, 3, 1, 2, 1, 2),
    ((2, 4, 1, 3), 4, 3, 1, 1, 1, 2), ((2, 4, 1, 1), 4, 3, 1, 1, 1, 4),
    ((2, 6, 2, 2), 6, 3, 1, 2, 2, 3), ((2, 4, 1, 5), 4, 3, 2, 1, 1, 1),
    ((2, 4, 7), 4, 5, 1, 4, 1, 1),
]


def test_live_taps():
    from ember._ops.conv import _live_taps

    one = (1, 1)
    assert _live_taps(one, (3, 3), one, one, one, one) == [(1, 2), (1, 2)]
    assert _live_taps((2, 2), (3, 3), (2, 2), one, one, one) == [(1, 3), (1, 3)]
    assert _live_taps((4, 4), (3, 3), one, one, one, (4, 4)) is None
    # stride 3 from padding 2: tap 0 reads -2, 1, ... (live); tap 1 reads -1 and 2
    assert _live_taps((3,), (3,), (3,), (2,), (1,), (2,)) is None


@pytest.mark.parametrize("case", DEAD)
def test_dead_taps_gradcheck(case):
    shape, o, k, s, p, d, g = case
    nd = len(shape) - 2
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    w = ember.tensor(rng.standard_normal((o, shape[1] // g) + (k,) * nd), requires_grad=True)
    conv = F.conv1d if nd == 1 else F.conv2d
    assert ember.autograd.gradcheck(
        lambda x, w: conv(x, w, stride=s, padding=p, dilation=d, groups=g), (x, w))
    wt = ember.tensor(rng.standard_normal((shape[1], o // g) + (k,) * nd), requires_grad=True)
    convt = F.conv_transpose1d if nd == 1 else F.conv_transpose2d
    try:
        ember.autograd.gradcheck(
            lambda x, w: convt(x, w, stride=s, padding=p, dilation=d, groups=g), (x, wt))
    except RuntimeError as e:  # an output size below 1: refused, as PyTorch does
        assert "too small" in str(e)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dead_taps_against_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for shape, o, k, s, p, d, g in DEAD:
        nd = len(shape) - 2
        x = rng.standard_normal(shape).astype(dtype)
        w = rng.standard_normal((o, shape[1] // g) + (k,) * nd).astype(dtype)
        ex, ew = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        y = (F.conv1d if nd == 1 else F.conv2d)(ex, ew, stride=s, padding=p, dilation=d,
                                                groups=g)
        ty = (torch.nn.functional.conv1d if nd == 1 else torch.nn.functional.conv2d)(
            tx, tw, stride=s, padding=p, dilation=d, groups=g)
        gy = rng.standard_normal(tuple(ty.shape)).astype(dtype)
        y.backward(ember.tensor(gy))
        ty.backward(torch.tensor(gy))
        tol = 1e-4 if dtype == "float32" else 1e-10
        for a, e in ((y.detach(), ty.detach()), (ex.grad, tx.grad), (ew.grad, tw.grad)):
            np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=tol, atol=tol)
        assert not ew.grad.numpy()[..., 0].any() or shape[-1] > 1 or p == 0


# ------------------------------------------------------------ NCHW im2col and pointwise
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_kernel_matches_numpy_packer(dtype):
    from ember._ops import conv as cv

    if conv_kernels._lib() is None:
        pytest.skip("no C compiler: the NumPy path runs")
    rng = np.random.default_rng(7)
    n = 0
    for shape in ((3, 5, 7, 9), (2, 4, 11)):
        nd = len(shape) - 2
        for k, s, d, (lo, hi) in itertools.product(
                (2, 3), (1, 2), (1, 2), ((0, 0), (1, 1), (2, 0), (1, -1), (-1, -1))):
            if any(L + lo + hi < d * (k - 1) + 1 for L in shape[2:]):
                continue
            x = rng.standard_normal(shape).astype(dtype)
            for nb in (1, 2):
                pk = cv._Packer(x, (k,) * nd, (s,) * nd, (lo,) * nd, (hi,) * nd, (d,) * nd,
                                nb)
                for n0 in range(0, shape[0], nb):
                    n1 = min(shape[0], n0 + nb)
                    got = pk.block(n0, n1).copy()
                    want = _off(lambda: pk.block(n0, n1).copy())
                    np.testing.assert_array_equal(got, want)
                    n += 1
    assert n > 100


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 16, 16), (2, 4, 300), (1, 3, 20, 20)])
def test_pointwise_conv_matches_general_path(shape, dtype):
    from ember._ops import conv as cv

    rng = np.random.default_rng(8)
    nd = len(shape) - 2
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((7, shape[1]) + (1,) * nd).astype(dtype)
    b = rng.standard_normal(7).astype(dtype)
    gy = rng.standard_normal((shape[0], 7) + shape[2:]).astype(dtype)
    z = (0,) * nd
    one = (1,) * nd
    assert cv._pointwise(x, w.shape[2:], one, z, z, 1)
    got = (cv._pw_fwd(x, w, b), cv._pw_w(x, gy),
           cv._conv_t_fwd(gy, w, None, (one, z, one, 1, shape[2:])))
    # the general (im2col) paths: a dilation the pointwise test does not look at
    want = (cv._conv_fwd_blocked(x, w, b, one, z, z, one),
            cv._conv_w_fwd_blocked(x, gy, one, z, z, one, w.shape[2:]),
            cv._conv_t_fwd_blocked(gy, w, None, one, z, one, shape[2:]))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, e in zip(got, want):
        assert a.shape == e.shape and a.dtype == e.dtype
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)
    assert got[1].flags.owndata or got[1].base.flags.owndata


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im_kernel_matches_numpy_path(dtype):
    from ember._ops import conv as cv

    rng = np.random.default_rng(9)
    n = 0
    for shape, (k, s, p, op, d) in itertools.product(
            ((2, 3, 5, 6), (3, 3, 7)),
            ((4, 2, 1, 0, 1), (3, 2, 1, 1, 1), (3, 1, 0, 0, 1), (3, 3, 2, 1, 2), (2, 2, 0, 0, 1),
             (5, 2, 3, 1, 1))):
        nd = len(shape) - 2
        if op >= s and op >= d:
            continue
        x = rng.standard_normal(shape).astype(dtype)
        w = rng.standard_normal((3, 4) + (k,) * nd).astype(dtype)
        out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i in shape[2:])
        if min(out) <= 0:
            continue
        args = ((s,) * nd, (p,) * nd, (d,) * nd, out)
        got = cv._conv_t_fwd_blocked(x, w, None, *args)
        want = _off(lambda: cv._conv_t_fwd_blocked(x, w, None, *args))
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        n += 1
    assert n > 10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_nchw_kernel(dtype):
    rng = np.random.default_rng(10)
    for m, p, o in ((3, 17, 5), (4, 121, 64), (2, 1, 33), (1, 40, 1)):
        r = rng.standard_normal((m, p, o)).astype(dtype)
        b = rng.standard_normal(o).astype(dtype)
        y = np.empty((m, o, p), dtype)
        if not conv_kernels.to_nchw(r, b, y):
            assert conv_kernels._lib() is None
            return
        np.testing.assert_array_equal(y, (r + b).swapaxes(1, 2))
        assert conv_kernels.to_nchw(r, None, y)
        np.testing.assert_array_equal(y, r.swapaxes(1, 2))
    assert not conv_kernels.to_nchw(r.astype(np.float16), None, y.astype(np.float16))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im_l_kernel_matches_numpy_path(dtype):
    from ember._ops import conv as cv

    rng = np.random.default_rng(11)
    n = 0
    for shape, (k, s, p, op, d), bias in itertools.product(
            ((4, 16, 3, 4), (3, 12, 5)),
            ((3, 2, 1, 1, 1), (4, 2, 1, 0, 1), (3, 3, 2, 1, 2), (2, 2, 0, 0, 1), (5, 2, 3, 1, 1)),
            (False, True)):
        nd = len(shape) - 2
        if op >= s and op >= d:
            continue
        x = rng.standard_normal(shape).astype(dtype)
        w = rng.standard_normal((shape[1], 8) + (k,) * nd).astype(dtype)
        b = rng.standard_normal(8).astype(dtype) if bias else None
        out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i in shape[2:])
        if min(out) <= 0:
            continue
        args = ((s,) * nd, (p,) * nd, (d,) * nd, out)
        got = cv._conv_t_fwd_l_blocked(x, w, b, *args)
        want = _off(lambda: cv._conv_t_fwd_l_blocked(x, w, b, *args))
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        n += 1
    assert n > 10
