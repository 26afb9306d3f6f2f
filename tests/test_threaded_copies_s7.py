"""Threaded copies, extremes, products and index checks of the seventh session (issue 18).

NOTE [ Threaded concatenation and copies ] (``_codegen/copy_kernels.py``) and NOTE [ One-pass
extremes, products and integer means ] (``_codegen/reduce_kernels.py``): every rewritten
forward is compared with its NumPy path (``set_disabled(True)``: what ``EMBER_JIT_DISABLE=1``
runs) bit for bit where the op is exact, on sizes above the kernels' minimum, with
non-contiguous, small, empty and special-value operands; PyTorch, where installed, checks
the NaN and tie rules of max/min along a dim and their gradients.
"""

import numpy as np
import pytest

import ember
from ember._codegen import copy_kernels, reduce_kernels
from ember._codegen import kernel as K


def _same(got, want):
    """Bitwise equality (any NaN equals any NaN), dtype and shape included."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype.kind == "f":
        bits = got.view(f"u{got.itemsize}") == want.view(f"u{want.itemsize}")
        bad = ~(bits | (np.isnan(got) & np.isnan(want)))
    else:
        bad = got != want
    assert not bad.any(), f"{int(bad.sum())} elements differ"


def _both(f):
    """``f()`` (arrays) with the kernels and on the NumPy paths."""
    got = f()
    old = K.set_disabled(True)
    try:
        want = f()
    finally:
        K.set_disabled(old)
    return got, want


def _np(t):
    return t.detach().numpy() if isinstance(t, ember.Tensor) else t


def _special(shape, dt, seed=0):
    """Random values with repeated ones (ties), NaN, infinities and signed zeros."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(dt)
    if np.dtype(dt).kind == "f":
        flat = a.reshape(-1)
        k = flat.size
        flat[rng.integers(0, k, 50)] = np.nan
        flat[rng.integers(0, k, 50)] = np.inf
        flat[rng.integers(0, k, 50)] = -np.inf
        flat[rng.integers(0, k, 50)] = -0.0
        flat[rng.integers(0, k, 200)] = 1.0  # ties
    return a


# ------------------------------------------------------------------ cat and its spellings
_CATS = [
    ("cat0", lambda ts: ember.cat(ts, 0), [(300, 250), (1, 250)]),
    ("cat1", lambda ts: ember.cat(ts, 1), [(300, 250), (300, 3), (300, 0)]),
    ("cat_last3d", lambda ts: ember.cat(ts, -1), [(40, 30, 50), (40, 30, 7)]),
    ("stack0", lambda ts: ember.stack(ts, 0), [(300, 250), (300, 250)]),
    ("stack1", lambda ts: ember.stack(ts, 1), [(300, 250), (300, 250)]),
    ("stack2", lambda ts: ember.stack(ts, 2), [(300, 250), (300, 250)]),
    ("hstack", lambda ts: ember.hstack(ts), [(300, 250), (300, 1)]),
    ("vstack", lambda ts: ember.vstack(ts), [(300, 250), (1, 250)]),
    ("many", lambda ts: ember.cat(ts, 0), [(7, 3000)] * 9),
    # above the threads' minimum: rows split, and one long row per operand split in shares
    ("big_rows", lambda ts: ember.cat(ts, 1), [(1000, 600), (1000, 5)]),
    ("big_flat", lambda ts: ember.cat(ts, 0), [(1000, 600), (3, 600)]),
]


@pytest.mark.parametrize("name,fn,shapes", _CATS, ids=[c[0] for c in _CATS])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.int8, np.bool_])
def test_cat_family_equals_numpy(name, fn, shapes, dt):
    rng = np.random.default_rng(1)
    arrs = [(rng.standard_normal(s) * 100).astype(dt) for s in shapes]
    got, want = _both(lambda: _np(fn([ember.from_numpy(a) for a in arrs])))
    _same(got, want)
    assert got.flags.c_contiguous


def test_cat_kernel_applies_and_refuses():
    a = np.arange(300 * 250, dtype=np.float32).reshape(300, 250)
    r = copy_kernels.concat([a, a], 1)
    if K.disabled() or r is None:  # no compiler here: the NumPy path is the one under test
        pytest.skip("no C compiler for the copy kernels")
    _same(r, np.concatenate([a, a], 1))
    assert copy_kernels.concat([a, a.T.copy().T], 0) is None  # not C-contiguous
    assert copy_kernels.concat([a, a.astype(np.float64)], 0) is None  # two dtypes
    assert copy_kernels.concat([a[:2], a[:2]], 0) is None  # small: NumPy's copy
    c = copy_kernels.copy(a)
    _same(c, a)
    assert c is not a and not np.shares_memory(c, a)


@pytest.mark.parametrize("dt", [np.float32, np.int16, np.float64])
def test_copy_into(dt):
    rng = np.random.default_rng(19)
    src = (rng.standard_normal((700, 600)) * 50).astype(dt)
    dst = np.zeros_like(src)
    done = copy_kernels.copy_into(dst, src)
    if not done:
        pytest.skip("no C compiler for the copy kernels")
    _same(dst, src)
    assert not copy_kernels.copy_into(src, src)  # overlapping
    assert not copy_kernels.copy_into(dst[:, ::2], src[:, ::2])  # strided
    assert not copy_kernels.copy_into(dst.astype(np.float32) if dt != np.float32 else
                                      dst.astype(np.float64), src)  # two dtypes
    small = np.zeros(10, dt)
    assert not copy_kernels.copy_into(small, src.reshape(-1)[:10])


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.bool_])
def test_threaded_zeros(dt):
    z = copy_kernels.zeros((1000, 700), dt)
    if z is None:
        pytest.skip("no C compiler for the copy kernels")
    _same(z, np.zeros((1000, 700), dt))
    assert copy_kernels.zeros((10, 7), dt) is None  # small: np.zeros


def test_setitem_with_graph_copies_then_writes():
    rng = np.random.default_rng(20)
    a = rng.standard_normal((1155, 866)).astype(np.float32)
    v = rng.standard_normal(866).astype(np.float32)
    x = ember.from_numpy(a).requires_grad_()
    y = x * 1.0
    y[1] = ember.from_numpy(v)
    want = a.copy()
    want[1] = v
    _same(y.detach().numpy(), want)
    y.sum().backward()
    gw = np.ones_like(a)
    gw[1] = 0
    _same(x.grad.numpy(), gw)


def test_cat_non_contiguous_and_small_fall_back():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((400, 300)).astype(np.float32)
    ts = [ember.from_numpy(a).t(), ember.from_numpy(a[:300, :400].copy())]
    got, want = _both(lambda: _np(ember.cat(ts, 1)))
    _same(got, want)
    _same(got, np.concatenate([a.T, a[:300, :400]], 1))
    small = [ember.from_numpy(a[:2, :3].copy())] * 3
    _same(_np(ember.cat(small, 0)), np.concatenate([a[:2, :3]] * 3, 0))


def test_cat_gradient_splits():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((300, 250)).astype(np.float32)
    b = rng.standard_normal((300, 7)).astype(np.float32)
    x, y = ember.from_numpy(a).requires_grad_(), ember.from_numpy(b).requires_grad_()
    g = rng.standard_normal((300, 257)).astype(np.float32)
    ember.cat([x, y], 1).backward(ember.from_numpy(g))
    _same(x.grad.numpy(), g[:, :250])
    _same(y.grad.numpy(), g[:, 250:])


# ------------------------------------------------------------------ max / min along a dim
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("fn", ["max", "min"])
def test_max_dim_equals_numpy(dt, dim, keepdim, fn):
    a = _special((40, 37, 29), dt)
    x = ember.from_numpy(a)
    (gv, gi), (wv, wi) = _both(lambda: tuple(_np(t) for t in getattr(ember, fn)(x, dim, keepdim)))
    _same(gv, wv)
    _same(gi, wi)
    # NumPy's own rule: the first extreme, the first NaN
    want = (np.argmax if fn == "max" else np.argmin)(a, axis=dim, keepdims=keepdim)
    _same(gi, want.astype(np.int64))


def test_max_dim_kernel_applies():
    a = _special((40, 37, 29), np.float32)
    if reduce_kernels.max_dim(a, 1, False, True) is None:
        pytest.skip("no C compiler for the reduction kernels")
    assert reduce_kernels.max_dim(a, 2, False, True) is None  # last dim: NumPy's argmax
    assert reduce_kernels.max_dim(a[:, :, ::2], 1, False, True) is None  # strided
    assert reduce_kernels.max_dim(a[:2, :3], 1, False, True) is None  # small


def test_max_dim_non_contiguous_falls_back():
    a = _special((29, 37, 40), np.float32)
    x = ember.from_numpy(a).permute(2, 1, 0)
    v, i = ember.max(x, 1)
    t = a.transpose(2, 1, 0)
    _same(i.numpy(), np.argmax(t, axis=1).astype(np.int64))
    _same(v.numpy(), np.take_along_axis(t, np.argmax(t, axis=1)[:, None], 1)[:, 0])


@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_dim_matches_torch_with_nan_and_ties(fn, keepdim):
    torch = pytest.importorskip("torch")
    a = _special((40, 37, 29), np.float32)
    e = getattr(ember, fn)(ember.from_numpy(a), 1, keepdim)
    t = getattr(torch, fn)(torch.from_numpy(a), 1, keepdim)
    _same(e.values.numpy(), t.values.numpy())
    _same(e.indices.numpy(), t.indices.numpy())


@pytest.mark.parametrize("keepdim", [False, True])
def test_max_dim_backward_is_a_scatter_into_zeros(keepdim):
    a = _special((40, 37, 29), np.float32)
    a[np.isnan(a)] = 0.5
    rng = np.random.default_rng(4)
    gshape = (40, 1, 29) if keepdim else (40, 29)
    g = rng.standard_normal(gshape).astype(np.float32)
    g.reshape(-1)[:5] = -0.0

    def run():
        x = ember.from_numpy(a.copy()).requires_grad_()
        v, i = ember.max(x, 1, keepdim)
        v.backward(ember.from_numpy(g))
        return x.grad.numpy(), i.numpy()

    (gx, idx), (wx, _) = _both(run)
    _same(gx, wx)
    want = np.zeros_like(a)
    ii = idx if keepdim else idx[:, None]
    np.put_along_axis(want, ii, g if keepdim else g[:, None], 1)
    _same(gx, want)


def test_max_dim_double_backward():
    a = _special((40, 37, 29), np.float64)
    a[~np.isfinite(a)] = 0.25
    rng = np.random.default_rng(5)
    x = ember.from_numpy(a).requires_grad_()
    gv = ember.from_numpy(rng.standard_normal((40, 29))).requires_grad_()
    v, i = ember.max(x, 1)
    gx, = ember.autograd.grad(v, x, gv, create_graph=True)
    w = rng.standard_normal(a.shape)
    ggv, = ember.autograd.grad((gx * ember.from_numpy(w)).sum(), gv)
    _same(ggv.numpy(), np.take_along_axis(w, i.numpy()[:, None], 1)[:, 0])


def test_max_dim_matches_torch_gradient():
    torch = pytest.importorskip("torch")
    a = _special((40, 37, 29), np.float32)
    a[np.isnan(a)] = 2.0
    g = np.random.default_rng(6).standard_normal((40, 29)).astype(np.float32)
    x = ember.from_numpy(a.copy()).requires_grad_()
    ember.min(x, 1).values.backward(ember.from_numpy(g))
    xt = torch.from_numpy(a.copy()).requires_grad_()
    torch.min(xt, 1).values.backward(torch.from_numpy(g))
    _same(x.grad.numpy(), xt.grad.numpy())


# ------------------------------------------------------------------ prod, int means, extremes
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_prod_dim_equals_numpy(dt, dim):
    rng = np.random.default_rng(7)
    a = rng.uniform(0.9, 1.1, (40, 37, 29)).astype(dt)
    a[3, 4, 5], a[7, 8, 9], a[1, 1, 1] = np.nan, 0.0, np.inf
    got, want = _both(lambda: ember.prod(ember.from_numpy(a), dim, keepdim=True).numpy())
    _same(got, want)
    _same(got, np.prod(a, axis=dim, keepdims=True))


def test_prod_gradient_unchanged():
    rng = np.random.default_rng(8)
    a = rng.uniform(0.9, 1.1, (40, 37, 29))
    a[2, 3, 4] = 0.0
    x = ember.from_numpy(a).requires_grad_()
    ember.prod(x, 1).sum().backward()
    p = np.prod(np.where(a == 0, 1.0, a), axis=1, keepdims=True)
    want = np.where(a == 0, p, np.prod(a, axis=1, keepdims=True) / np.where(a == 0, 1, a))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_of_int64_as_float64(dim, keepdim):
    rng = np.random.default_rng(9)
    a = rng.integers(-10**12, 10**12, (300, 250))
    got, want = _both(lambda: ember.mean(ember.from_numpy(a), dim, keepdim,
                                         dtype=ember.float64).numpy())
    assert got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(got, np.mean(a, axis=dim, keepdims=keepdim, dtype=np.float64),
                               rtol=1e-13)


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("special", [None, "nan", "inf"])
def test_full_extremes(dt, special):
    if special and np.dtype(dt).kind != "f":
        pytest.skip("integers have no NaN or inf")
    rng = np.random.default_rng(10)
    a = (rng.standard_normal((300, 251)) * 1000).astype(dt)
    if special == "nan":
        a[123, 45] = np.nan
    elif special == "inf":
        a[3, 4], a[5, 6] = np.inf, -np.inf
    x = ember.from_numpy(a)
    for f, ref in ((ember.amax, np.max), (ember.amin, np.min),
                   (lambda t: ember.max(t), np.max), (lambda t: ember.min(t), np.min)):
        got, want = _both(lambda: f(x).numpy())
        _same(got, want)
        _same(got, np.asarray(ref(a)))
    lo, hi = ember.aminmax(x)
    _same(lo.numpy(), np.asarray(a.min()))
    _same(hi.numpy(), np.asarray(a.max()))
    _same(ember.amax(x, (0, 1), keepdim=True).numpy(), a.max(keepdims=True))


def test_minmax_helper_odd_lengths():
    rng = np.random.default_rng(11)
    for n in (32768, 32769, 40001, 100003):
        a = rng.integers(-5, 5, n)
        a[n - 1] = 99
        r = reduce_kernels.minmax(a)
        if r is None:
            pytest.skip("no C compiler for the reduction kernels")
        assert r == (a.min(), 99)
    assert reduce_kernels.minmax(a[::2]) is None  # strided: NumPy


# ------------------------------------------------------------------ index ops
def test_gather_bounds_still_checked():
    rng = np.random.default_rng(12)
    x = ember.from_numpy(rng.standard_normal((300, 250)).astype(np.float32))
    idx = rng.integers(0, 250, (300, 250))
    idx[100, 100] = 250
    with pytest.raises(RuntimeError, match="index 250 is out of bounds for dimension 1"):
        ember.gather(x, 1, ember.from_numpy(idx))
    idx[100, 100] = -251
    with pytest.raises(RuntimeError, match="index -251 is out of bounds"):
        ember.gather(x, 1, ember.from_numpy(idx))
    idx[100, 100] = -250  # negative in range wraps, as NumPy
    got, want = _both(lambda: ember.gather(x, 1, ember.from_numpy(idx)).numpy())
    _same(got, want)


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_put_equals_numpy(dim):
    rng = np.random.default_rng(13)
    a = rng.standard_normal((300, 250)).astype(np.float32)
    src = rng.standard_normal((300, 250)).astype(np.float32)
    idx = np.argsort(rng.random((300, 250)), axis=dim)  # a permutation: no duplicates
    got, want = _both(lambda: ember.from_numpy(a).scatter(
        dim, ember.from_numpy(idx), ember.from_numpy(src)).numpy())
    _same(got, want)
    ref = a.copy()
    np.put_along_axis(ref, idx, src, dim)
    _same(got, ref)


# ------------------------------------------------------------------ logsumexp
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("axes", [(0, 2), (1,), (2,), (0,), (0, 1), (1, 2), (0, 1, 2), (-1, 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp_equals_numpy_path(dt, axes, keepdim):
    rng = np.random.default_rng(14)
    a = (rng.standard_normal((40, 37, 29)) * 10).astype(dt)
    a[3, 4, :] = np.nan  # a NaN slice
    a[5, 6, 7] = np.inf  # a +inf slice
    a[:, 9, :] = -np.inf  # an all -inf slice (for dims (0, 2))
    got, want = _both(lambda: ember.logsumexp(ember.from_numpy(a), axes, keepdim).numpy())
    assert got.dtype == want.dtype and got.shape == want.shape
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    np.testing.assert_allclose(got[~same], want[~same], rtol=2e-6 if dt == np.float32 else 1e-13)


def test_logsumexp_matches_torch_and_gradient():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(15).standard_normal((40, 37, 29)).astype(np.float32) * 5
    x = ember.from_numpy(a).requires_grad_()
    xt = torch.from_numpy(a).requires_grad_()
    y, yt = ember.logsumexp(x, (0, 2)), torch.logsumexp(xt, (0, 2))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=2e-6)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-9)


# ------------------------------------------------------------------ boolean masks
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int8, np.int16, np.bool_, np.int64])
@pytest.mark.parametrize("p", [0.0, 0.01, 0.5, 1.0])
def test_masked_select_equals_numpy(dt, p):
    rng = np.random.default_rng(16)
    a = (rng.standard_normal((300, 251)) * 10).astype(dt)
    m = rng.random((300, 251)) < p
    got, want = _both(lambda: ember.masked_select(ember.from_numpy(a), ember.from_numpy(m))
                      .numpy())
    _same(got, want)
    _same(got, a[m])
    _same(ember.from_numpy(a)[ember.from_numpy(m)].numpy(), a[m])


def test_mask_kernels_refuse():
    a = np.zeros((300, 251), np.float32)
    m = np.ones((300, 251), bool)
    from ember._codegen import index_kernels

    if index_kernels.mask_select(a, m) is None:
        pytest.skip("no C compiler for the index kernels")
    assert index_kernels.mask_select(a[:, ::2], m[:, ::2]) is None  # strided
    assert index_kernels.mask_select(a[:10], m[:10]) is None  # small
    assert index_kernels.mask_select(a.astype(np.complex128), m) is None  # 16-byte items
    assert index_kernels.mask_expand(a[m][:-1], m) is None  # counts disagree


def test_masked_select_broadcast_and_gradient():
    rng = np.random.default_rng(17)
    a = rng.standard_normal((300, 251)).astype(np.float32)
    m = rng.random((300, 251)) < 0.4
    x = ember.from_numpy(a).requires_grad_()
    y = ember.masked_select(x, ember.from_numpy(m))
    g = rng.standard_normal(y.shape[0]).astype(np.float32)
    g[:4] = -0.0
    y.backward(ember.from_numpy(g))
    want = np.zeros_like(a)
    want[m] = g  # a put: -0.0 stays -0.0, as PyTorch's masked_scatter
    _same(x.grad.numpy(), want)
    # a broadcast input is not contiguous: the NumPy path, same values
    row = ember.from_numpy(a[:1].copy())
    _same(ember.masked_select(row, ember.from_numpy(m)).numpy(),
          np.broadcast_to(a[:1], m.shape)[m])


def test_masked_select_matches_torch_gradient():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(18)
    a = rng.standard_normal((300, 251)).astype(np.float32)
    m = rng.random((300, 251)) < 0.5
    x, xt = ember.from_numpy(a).requires_grad_(), torch.from_numpy(a).requires_grad_()
    y, yt = ember.masked_select(x, ember.from_numpy(m)), torch.masked_select(xt,
                                                                             torch.from_numpy(m))
    _same(y.detach().numpy(), yt.detach().numpy())
    g = rng.standard_normal(y.shape[0]).astype(np.float32)
    g[::7] = -0.0
    y.backward(ember.from_numpy(g))
    yt.backward(torch.from_numpy(g))
    _same(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("shape,dim", [((87, 131, 87), 1), ((9, 130, 33), 1), ((2, 7, 5000), 1),
                                       ((129, 517), 0), ((6, 4, 9, 300), 2)])
def test_column_sums_add_each_column_in_row_order(shape, dim):
    """sum_f32 over a dim that is not the last adds four rows per pass over its float64
    accumulators, each column still in row order: the float64 running sum rounded once,
    exactly NumPy's float64 reduction (row by row there too) rounded to float32."""
    a = np.random.default_rng(9).standard_normal(shape).astype(np.float32)
    a.flat[::11] *= 1e4
    got = ember.sum(ember.from_numpy(a), dim).numpy()
    want = np.add.reduce(a.astype(np.float64), axis=dim).astype(np.float32)
    if K.disabled():  # NumPy's float32 reduction: its own rounding
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-2)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape,dim", [((31, 31), 1), ((4, 4), 0), ((5, 3, 7), 1), ((2, 9), 1)])
def test_small_scatter_add_equals_add_at(shape, dim):
    """Small scatter-adds take the kernel too (np.add.at costs ~13 ns per element); each
    target still receives its contributions in index order, as np.add.at adds them."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    idx = rng.integers(0, shape[dim], shape)  # many duplicates
    v = (rng.standard_normal(shape) * 10.0 ** rng.integers(-4, 5, shape)).astype(np.float32)
    want = x.copy()
    grids = list(np.indices(shape))
    grids[dim] = idx
    np.add.at(want, tuple(grids), v)
    got = ember.from_numpy(x.copy()).scatter_add(dim, ember.from_numpy(idx),
                                                   ember.from_numpy(v)).numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape,dim", [((1000,), 0), ((31, 33), 0), ((31, 33), 1), ((4, 5, 17), 1),
                                       ((70,), 0), ((3, 30), 1)])
def test_small_float32_cumsum_is_the_float64_scan_rounded(shape, dim):
    """Small float32 cumsums run the scan kernel on one thread: NumPy's float64 cumsum
    rounded to float32, bit for bit, as on the NumPy path and the threaded one."""
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-5, 5, shape)).astype(np.float32)
    got = ember.cumsum(ember.from_numpy(x), dim).numpy()
    np.testing.assert_array_equal(got, np.cumsum(x, axis=dim, dtype=np.float64)
                                  .astype(np.float32))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axes,keepdim", [((87, 131, 87), (1,), True),
                                                ((87, 131, 87), (1,), False),
                                                ((300, 200), (0, 1), False), ((50, 40), (1,), True)])
def test_amax_gradient_on_arrays_equals_the_formula(dt, shape, axes, keepdim):
    """amax's gradient without a graph to record runs on the arrays (mask * (g / count),
    the ties counted in the input's dtype): the composite's g * mask / count bit for bit,
    ties, signed zeros and NaN slices included; with create_graph the composite runs."""
    rng = np.random.default_rng(13)
    x = rng.integers(-3, 3, shape).astype(dt)
    x.flat[::37] = np.nan
    x.flat[::41] = -0.0
    t = ember.tensor(x, requires_grad=True)
    y = ember.amax(t, dim=axes, keepdim=keepdim)
    g = rng.standard_normal(tuple(y.shape)).astype(dt)
    y.backward(ember.tensor(g))
    yb = y.detach().numpy() if keepdim else np.expand_dims(y.detach().numpy(), axes)
    gb = g if keepdim else np.expand_dims(g, axes)
    mask = x == yb
    with np.errstate(all="ignore"):
        want = (gb * mask / mask.sum(axis=axes, keepdims=True)).astype(dt)
    got = t.grad.numpy()
    assert got.dtype == want.dtype
    bits = (got.view(np.uint8) == want.view(np.uint8)).reshape(got.shape + (-1,)).all(-1)
    assert (bits | (np.isnan(got) & np.isnan(want))).all()
    t2 = ember.tensor(x, requires_grad=True)  # the composite, under create_graph
    (gr,) = ember.autograd.grad(ember.amax(t2, dim=axes, keepdim=keepdim), t2,
                                ember.tensor(g), create_graph=True)
    np.testing.assert_array_equal(gr.detach().numpy(), got)


@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("dt", [np.float32, np.int16])
@pytest.mark.parametrize("shape,dim", [((300, 400), 1), ((300, 400), 0), ((7, 5, 9), 1)])
def test_gather_bounds_checked_in_the_forward(kernels, dt, shape, dim):
    """NOTE [ Bounds checked by the gather kernel ]: gather's indices are checked by the
    kernel as it reads them (or before NumPy's indexing where it does not apply): the same
    results for negative indices, and PyTorch's error naming the bad index."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal(shape).astype(dt)
    n = shape[dim]
    idx = rng.integers(-n, n, shape)
    old = K.set_disabled(not kernels)
    try:
        got = ember.gather(ember.from_numpy(x), dim, ember.from_numpy(idx)).numpy()
        np.testing.assert_array_equal(got, np.take_along_axis(x, idx % n, dim))
        for bad in (n, -n - 1):
            b = idx.copy()
            b.flat[b.size // 2] = bad
            with pytest.raises(RuntimeError, match=rf"gather\(\): index {bad} is out of "
                                                   rf"bounds for dimension {dim} with size {n}"):
                ember.gather(ember.from_numpy(x), dim, ember.from_numpy(b))
    finally:
        K.set_disabled(old)


def test_advanced_index_backward_through_the_flat_scatter_add():
    """x[i, :, j] and other keys of 1-d index arrays and full slices: the backward's
    np.add.at runs as the scatter-add kernel on the flat gradient (the positions from
    index.py's _flat_linear_index, checked against NumPy's own indexing), the same sums in
    the same order (bitwise, many duplicates)."""
    from ember._ops.index import _flat_linear_index

    rng = np.random.default_rng(15)
    shape = (6, 7, 8, 9)
    ar = np.arange(np.prod(shape)).reshape(shape)
    s = slice(None)

    def a(n, size=40):
        return rng.integers(-n, n, size)

    for key in [(a(6), s, a(8)), (a(6),), (s, a(7)), (s, a(7), a(8)), (a(6), a(7), s, a(9)),
                (s, s, s, a(9)), (a(6), s, s, a(9)), (a(6), a(7), a(8), a(9))]:
        np.testing.assert_array_equal(_flat_linear_index(shape, key), ar[key])
        x = rng.standard_normal(shape).astype(np.float32)
        t = ember.tensor(x, requires_grad=True)
        y = t[tuple(ember.from_numpy(k) if isinstance(k, np.ndarray) else k for k in key)]
        g = (rng.standard_normal(tuple(y.shape)) * 10.0 ** rng.integers(-3, 4, tuple(y.shape))
             ).astype(np.float32)
        y.backward(ember.from_numpy(g))
        want = np.zeros(shape, np.float32)
        np.add.at(want, key, g)
        np.testing.assert_array_equal(t.grad.numpy(), want)
