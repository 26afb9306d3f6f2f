"""Fast paths of structural, indexing, reduction and small-linalg ops (issue 18).

Each test checks a rewritten forward/backward against PyTorch (when installed) or against a
direct NumPy formulation, on the cases the rewrite could get wrong: empty tensors, negative
dims, non-contiguous inputs, integer dtypes, special values.
"""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


def _t(a, grad=False):
    return ember.tensor(np.asarray(a), requires_grad=grad)


# ------------------------------------------------------------------ split / unbind / chunk
@pytest.mark.parametrize("how", ["unbind", "split", "split_sizes", "chunk"])
@pytest.mark.parametrize("dim", [0, -1, 1])
def test_split_pieces_gradient_is_one_join(how, dim):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7, 3))
    x = _t(a, True)
    pieces = {"unbind": lambda t: t.unbind(dim), "split": lambda t: t.split(2, dim),
              "split_sizes": lambda t: t.split([1, t.shape[dim] - 1], dim),
              "chunk": lambda t: t.chunk(3, dim)}[how](x)
    # use only some pieces: the unused ones must contribute zeros
    w = [float(i + 1) for i in range(len(pieces))]
    loss = sum((p * w[i]).sum() for i, p in enumerate(pieces) if i % 2 == 0)
    loss.backward()
    ref = np.zeros_like(a)
    idx = np.arange(a.shape[dim])
    groups = {"unbind": [[i] for i in idx], "split": np.array_split(idx, range(2, len(idx), 2)),
              "split_sizes": [idx[:1], idx[1:]],
              "chunk": np.array_split(idx, range(-(-len(idx) // 3), len(idx),
                                                 -(-len(idx) // 3)))}[how]
    for i, g in enumerate(groups):
        if i % 2 == 0:
            sl = [slice(None)] * 3
            sl[dim] = np.asarray(g)
            ref[tuple(sl)] = w[i]
    np.testing.assert_allclose(x.grad.numpy(), ref)
    assert all(p._base is x for p in pieces)


def test_split_pieces_are_views_and_check_gradients():
    x = ember.randn(4, 6, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: t.unbind(1)[1:3], (x,))
    assert gradgradcheck(lambda t: [p * p for p in t.chunk(3)], (x,))
    assert gradcheck(lambda t: t.split([1, 3, 2], -1), (x,))
    y = ember.zeros(4, 6)
    y.chunk(2)[1].add_(1)  # an in-place write through a piece reaches the base
    assert y.sum().item() == 12
    assert y._version == 1


def test_split_pieces_in_place_under_autograd():
    x = ember.randn(4, 3, requires_grad=True)
    y = x * 1
    a, b = y.split(2)
    b.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.array([[1] * 3] * 2 + [[3] * 3] * 2))


def test_split_empty_and_noncontiguous_and_int():
    assert ember.zeros(0, 3).unbind(0) == ()
    assert [p.shape for p in ember.zeros(0, 3).split(2)] == [(0, 3)]
    x = ember.arange(12).reshape(3, 4).t()  # non-contiguous, integer
    ps = x.unbind(1)
    assert [p.tolist() for p in ps] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert not ps[0].requires_grad
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.zeros(4).split([5, -1])


def test_split_names_match_pytorch():
    torch = pytest.importorskip("torch")
    for f in (lambda m, t: m.unbind(t, 1), lambda m, t: m.split(t, 2),
              lambda m, t: m.split(t, [1, 3]), lambda m, t: m.chunk(t, 2)):
        a = np.ones((4, 3))
        e = f(ember, ember.tensor(a, requires_grad=True))
        r = f(torch, torch.tensor(a, requires_grad=True))
        assert type(e[0].grad_fn).__name__ == type(r[0].grad_fn).__name__


# ------------------------------------------------------------------ equal
def test_equal_chunked_early_exit_agrees():
    a = ember.randn(300, 200)
    assert ember.equal(a, a.clone())
    for pos in (0, 255, 256, 5000, 59999):
        b = a.clone()
        b.view(-1)[pos] = 7.5
        assert not ember.equal(a, b)
    nan = ember.full((10000,), float("nan"))
    assert not ember.equal(nan, nan.clone())
    assert ember.equal(ember.arange(10000), ember.arange(10000).double())
    assert ember.equal(a.t(), a.clone().t())  # non-contiguous: the one-pass comparison
    assert not ember.equal(a, a[:, :100])
    assert ember.equal(ember.zeros(0, 3), ember.zeros(0, 3))


# ------------------------------------------------------------------ gather / scatter kernels
def _np_dim_key(idx, dim):
    key = [np.arange(n).reshape([-1 if k == d else 1 for k in range(idx.ndim)])
           for d, n in enumerate(idx.shape)]
    key[dim] = idx
    return tuple(key)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_and_scatter_add_match_numpy(dtype, dim):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((40, 30, 20)) * 10).astype(dtype)
    d = dim % 3
    shp = list(a.shape)
    shp[d] = 25
    idx = rng.integers(-a.shape[d], a.shape[d], shp)  # repeats and negative indices
    x = ember.from_numpy(a)
    np.testing.assert_array_equal(ember.gather(x, dim, ember.from_numpy(idx)).numpy(),
                                  a[_np_dim_key(idx, d)])
    v = (rng.standard_normal(shp) * 10).astype(dtype)
    ref = a.copy()
    np.add.at(ref, _np_dim_key(idx, d), v)
    got = x.scatter_add(dim, ember.from_numpy(idx), ember.from_numpy(v)).numpy()
    np.testing.assert_array_equal(got, ref)  # same additions in the same order


def test_gather_scatter_noncontiguous_and_smaller_index():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((60, 80))
    x = ember.from_numpy(a).t()  # (80, 60), non-contiguous
    idx = rng.integers(0, 60, (80, 70))
    np.testing.assert_array_equal(x.gather(1, ember.from_numpy(idx)).numpy(),
                                  a.T[_np_dim_key(idx, 1)])
    small = rng.integers(0, 60, (10, 5))  # index smaller than the input: the NumPy path
    np.testing.assert_array_equal(x.gather(1, ember.from_numpy(small)).numpy(),
                                  a.T[_np_dim_key(small, 1)])
    e = ember.gather(ember.zeros(4, 3), 1, ember.zeros(4, 0, dtype=ember.int64))
    assert e.shape == (4, 0)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select_and_index_add_rows(dim):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((70, 90, 3)).astype(np.float32)
    d = dim % 3
    idx = rng.integers(-a.shape[d], a.shape[d], 200)
    x = ember.tensor(a, requires_grad=True)
    y = x.index_select(dim, ember.from_numpy(idx))
    key = (slice(None),) * d + (idx,)
    np.testing.assert_array_equal(y.detach().numpy(), a[key])
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(ember.from_numpy(g))
    ref = np.zeros_like(a)
    np.add.at(ref, key, g)
    np.testing.assert_array_equal(x.grad.numpy(), ref)
    i32 = ember.from_numpy(idx.astype(np.int32))  # int32 index: the NumPy path
    np.testing.assert_array_equal(ember.index_select(x.detach(), dim, i32).numpy(), a[key])
    src = rng.standard_normal(a[key].shape).astype(np.float32)
    ref = a.copy()
    np.add.at(ref, key, src)
    np.testing.assert_array_equal(
        x.detach().index_add(dim, ember.from_numpy(idx), ember.from_numpy(src)).numpy(), ref)


def test_gather_scatter_gradients_check():
    x = ember.randn(50, 40, dtype=ember.float64, requires_grad=True)
    i = ember.randint(0, 40, (50, 30))
    v = ember.randn(50, 30, dtype=ember.float64, requires_grad=True)
    j = ember.randint(0, 50, (200,))
    assert gradcheck(lambda t: t.gather(1, i), (x,))
    assert gradgradcheck(lambda t: t.gather(1, i), (x,))
    assert gradcheck(lambda t, s: t.scatter_add(1, i, s), (x, v))
    assert gradgradcheck(lambda t: t.index_select(0, j), (x,))


def test_embedding_backward_rows_kernel():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 100, (64, 50))
    w = rng.standard_normal((100, 32)).astype(np.float32)
    g = rng.standard_normal((64, 50, 32)).astype(np.float32)
    for kw in ({}, {"padding_idx": 3}, {"scale_grad_by_freq": True}):
        we = ember.tensor(w, requires_grad=True)
        ember.nn.functional.embedding(ember.from_numpy(idx), we, **kw).backward(
            ember.from_numpy(g))
        wt = torch.tensor(w, requires_grad=True)
        torch.nn.functional.embedding(torch.from_numpy(idx), wt, **kw).backward(
            torch.from_numpy(g))
        np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ threaded sums and scans
_SHAPES_AXES = [((40, 33, 41), (1,)), ((40, 33, 41), (0,)), ((40, 33, 41), (2,)),
                ((40, 33, 41), (0, 1)), ((40, 33, 41), (1, 2)), ((40, 33, 41), (0, 1, 2)),
                ((200_000,), (0,)), ((3, 70_000), (1,))]


def _adversarial(shape, kind, rng):
    n = int(np.prod(shape))
    if kind == "normal":
        a = rng.standard_normal(n)
    elif kind == "cancel":  # huge terms that cancel, small ones that survive
        a = rng.standard_normal(n) * 1e-3
        a[::2] += 1e6
        a[1::2] -= 1e6
    elif kind == "spread":  # magnitudes over 30 decades
        a = rng.standard_normal(n) * 10.0 ** rng.uniform(-15, 15, n)
    else:  # "offset": a large common offset, where float32 running sums lose digits
        a = 1000.0 + rng.standard_normal(n)
    return a.astype(np.float32).reshape(shape)


@pytest.mark.parametrize("kind", ["normal", "cancel", "spread", "offset"])
@pytest.mark.parametrize("shape,axes", _SHAPES_AXES)
def test_sum_mean_at_least_as_accurate_as_numpy(shape, axes, kind):
    a = _adversarial(shape, kind, np.random.default_rng(5))
    exact = a.astype(np.float64).sum(axis=axes)
    x = ember.from_numpy(a)
    got = ember.sum(x, dim=axes).numpy()
    assert got.dtype == np.float32 and got.shape == exact.shape
    err, np_err = np.abs(got - exact), np.abs(a.sum(axis=axes) - exact)
    # float32 rounding of the exact sum is the best possible; NumPy's pairwise sum the bar
    assert np.all(err <= np.maximum(np_err, np.abs(exact) * 2.0 ** -23) + 1e-30)
    n = int(np.prod([shape[d] for d in axes]))
    m = ember.mean(x, dim=axes, keepdim=True).numpy().reshape(exact.shape)
    # the same bar for the mean (two roundings: the sum's and the division's); NumPy's own
    # float32 mean is the bar where the kernels are off (EMBER_JIT_DISABLE=1)
    m_err, np_m_err = np.abs(m - exact / n), np.abs(a.mean(axis=axes) - exact / n)
    assert np.all(m_err <= np.maximum(np_m_err, np.abs(exact / n) * 2.0 ** -22) + 1e-30)


def test_sum_special_values_and_fallbacks():
    a = np.random.default_rng(6).standard_normal((300, 200)).astype(np.float32)
    b = a.copy()
    b[5, 7] = np.inf
    b[9, 3] = np.nan
    b[11, 4], b[11, 5] = np.inf, -np.inf
    s = ember.from_numpy(b).sum(1).numpy()
    assert s[5] == np.inf and np.isnan(s[9]) and np.isnan(s[11])
    big = np.full(100_000, 3e38, np.float32)  # overflows float32 as PyTorch's does
    assert ember.from_numpy(big).sum().item() == float("inf")
    x = ember.from_numpy(a)
    # non-contiguous input, split axes, float64, integers, negative dims: other paths
    np.testing.assert_allclose(x.t().sum(-1).numpy(), a.sum(0), rtol=1e-5, atol=1e-4)
    y = ember.from_numpy(a.reshape(30, 10, 200))
    np.testing.assert_allclose(y.sum((0, 2)).numpy(), a.reshape(30, 10, 200).sum((0, 2)),
                               rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(ember.from_numpy(a.astype(np.float64)).sum(-2).numpy(),
                                  a.astype(np.float64).sum(0))
    assert ember.arange(100_000).sum().item() == 100_000 * 99_999 // 2
    assert ember.zeros(0, 40_000).sum(0).shape == (40_000,)
    assert x.sum(-2, keepdim=True).shape == (1, 200)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,dim", [((816, 1225), 1), ((816, 1225), 0), ((50, 40, 30), 1),
                                       ((200_000,), 0), ((2, 50_000), -1)])
def test_cumsum_cumprod_double_accumulation(dtype, shape, dim):
    rng = np.random.default_rng(7)
    a = rng.standard_normal(shape).astype(dtype)
    x = ember.from_numpy(a)
    ref = np.cumsum(a.astype(np.float64), axis=dim).astype(dtype)
    np.testing.assert_array_equal(ember.cumsum(x, dim).numpy(), ref)
    p = (1 + a * 1e-3).astype(dtype)
    refp = np.cumprod(p.astype(np.float64), axis=dim).astype(dtype)
    np.testing.assert_array_equal(ember.cumprod(ember.from_numpy(p), dim).numpy(), refp)
    # non-contiguous input and a gradient through both
    t = ember.tensor(a, requires_grad=True)
    ember.cumsum(t.transpose(0, -1), 0).sum().backward()
    # d/dx_k of sum_j cumsum_j = the number of prefixes holding k, along t's last dim
    gref = np.flip(np.cumsum(np.flip(np.ones_like(a), -1), -1), -1)
    np.testing.assert_array_equal(t.grad.numpy(), gref)


def test_cumsum_special_values_and_torch():
    a = np.random.default_rng(8).standard_normal(100_000).astype(np.float32)
    a[10] = np.inf
    a[20] = np.nan
    c = ember.cumsum(ember.from_numpy(a), 0).numpy()
    assert np.all(c[10:20] == np.inf) and np.all(np.isnan(c[20:]))
    torch = pytest.importorskip("torch")
    b = np.random.default_rng(9).standard_normal((500, 300)).astype(np.float32) + 100
    np.testing.assert_array_equal(ember.cumsum(ember.from_numpy(b), 1).numpy(),
                                  torch.cumsum(torch.from_numpy(b), 1).numpy())


# ------------------------------------------------------------------ einsum as matmul
@pytest.mark.parametrize("eq,sa,sb", [
    ("bij,bjk->bik", (4, 3, 5), (4, 5, 6)), ("ij,kj->ik", (3, 4), (5, 4)),
    ("i,i->", (7,), (7,)), ("i,j->ij", (3,), (4,)), ("bhqd,bhkd->bhqk", (2, 3, 4, 5), (2, 3, 6, 5)),
    ("ijk,k->ij", (2, 3, 4), (4,)), ("ij,ij->i", (3, 4), (3, 4)),
    ("ijk,jl->lik", (2, 3, 4), (3, 5)),
    ("ab,cd->", (2, 3), (4, 5)), ("abc,bd->d", (2, 3, 4), (3, 5)), ("ii,ij->j", (3, 3), (3, 2)),
    ("ij,jk->ik", (3, 1), (4, 5)), ("...ij,...jk->...ik", (2, 3, 4), (1, 4, 2))])
def test_einsum_matmul_path(eq, sa, sb):
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    if eq == "ij,jk->ik":  # sizes that disagree (a size-1 letter) stay on np.einsum
        np.testing.assert_allclose(ember.einsum(eq, ember.from_numpy(a), ember.from_numpy(
            b)).numpy(), np.einsum(eq, a, b))
        return
    x, y = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    np.testing.assert_allclose(ember.einsum(eq, x, y).detach().numpy(), np.einsum(eq, a, b),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda p, q: ember.einsum(eq, p, q), (x, y))
    c = (a + 1j * rng.standard_normal(sa)).astype(np.complex128)
    np.testing.assert_allclose(ember.einsum(eq, ember.from_numpy(c), ember.from_numpy(
        b.astype(np.complex128))).numpy(), np.einsum(eq, c, b), rtol=1e-12, atol=1e-12)
    ai = ember.from_numpy((a * 10).astype(np.int64))
    bi = ember.from_numpy((b * 10).astype(np.int64))
    np.testing.assert_array_equal(ember.einsum(eq, ai, bi).numpy(),
                                  np.einsum(eq, (a * 10).astype(np.int64),
                                            (b * 10).astype(np.int64)))


# ------------------------------------------------------------------ reflect / replicate pad
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape,pad", [((2, 3, 7), (2, 3)), ((2, 3, 6, 5), (1, 2, 3, 0)),
                                       ((1, 2, 4, 5, 6), (1, 1, 2, 0, 3, 2)), ((3, 7), (3, 1)),
                                       ((2, 3, 6, 5), (0, 0, 1, 1))])
def test_pad_edges_match_pytorch(shape, pad, mode):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(11).standard_normal(shape)
    x, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = ember.nn.functional.pad(x, pad, mode=mode)
    yt = torch.nn.functional.pad(xt, pad, mode=mode)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    assert type(y.grad_fn).__name__ == type(yt.grad_fn).__name__
    g = np.random.default_rng(12).standard_normal(tuple(yt.shape))
    y.backward(ember.from_numpy(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_pad_edges_gradients_and_fallbacks():
    x = ember.randn(2, 3, 5, 4, dtype=ember.float64, requires_grad=True)
    for mode in ("reflect", "replicate", "circular"):  # circular: the take_axis records
        assert gradgradcheck(lambda t: ember.nn.functional.pad(t, (1, 2, 2, 1), mode=mode), (x,))
    # negative pads (crops), circular and non-contiguous inputs keep working
    a = np.arange(2 * 3 * 5 * 4.0).reshape(2, 3, 5, 4)
    y = ember.nn.functional.pad(ember.from_numpy(a), (-1, 1, 0, 0), mode="replicate")
    np.testing.assert_array_equal(y.numpy(), np.pad(a, [(0, 0)] * 3 + [(0, 1)],
                                                    mode="edge")[..., 1:])
    xt = ember.from_numpy(a).transpose(2, 3)
    np.testing.assert_array_equal(
        ember.nn.functional.pad(xt, (1, 1, 2, 2), mode="reflect").numpy(),
        np.pad(a.transpose(0, 1, 3, 2), [(0, 0), (0, 0), (2, 2), (1, 1)], mode="reflect"))
    i = ember.arange(12).reshape(1, 3, 4)
    np.testing.assert_array_equal(ember.nn.functional.pad(i, (1, 1), mode="replicate").numpy(),
                                  np.pad(np.arange(12).reshape(1, 3, 4), [(0, 0), (0, 0),
                                                                          (1, 1)], mode="edge"))


# ------------------------------------------------------------------ view wrappers
@pytest.mark.parametrize("arg", [3, 4, [1, 2], [0, 5], [2, 2, 3]])
def test_tensor_split_pieces_and_gradient(arg):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(13).standard_normal((2, 3, 5))
    x, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    pe, pt = ember.tensor_split(x, arg, 2), torch.tensor_split(xt, arg, 2)
    assert len(pe) == len(pt)
    for e, t in zip(pe, pt):
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
        assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__
    sum((p * (i + 1)).sum() for i, p in enumerate(pe)).backward()
    sum((p * (i + 1)).sum() for i, p in enumerate(pt)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_movedim_flatten_unflatten_views():
    a = np.random.default_rng(14).standard_normal((2, 3, 4, 5))
    x = ember.from_numpy(a)
    for s, d in [(0, 3), ((0, 1), (3, 2)), ((1,), (-1,)), ((0, 2), (1, 0))]:
        y = ember.movedim(x, s, d)
        np.testing.assert_array_equal(y.numpy(), np.moveaxis(a, s, d))
        assert y._base is x
    with pytest.raises(RuntimeError, match="repeated dim"):
        ember.movedim(x, (0, 0), (1, 2))
    f = x.flatten(1, 2)
    assert f.shape == (2, 12, 5) and f._base is x
    np.testing.assert_array_equal(x.transpose(0, 3).flatten().numpy(),  # a copy
                                  a.transpose(3, 1, 2, 0).reshape(-1))
    u = f.unflatten(1, (4, -1))
    assert u.shape == (2, 4, 3, 5) and u._base is x
    np.testing.assert_array_equal(x.transpose(1, 2).unflatten(1, (2, 2)).numpy(),
                                  a.transpose(0, 2, 1, 3).reshape(2, 2, 2, 3, 5))


# ------------------------------------------------------------------ softmax backward records
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_backward_record_matches_pytorch(log, dim):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(15)
    a = rng.standard_normal((6, 7, 8))
    g = rng.standard_normal((6, 7, 8))
    fe = ember.log_softmax if log else ember.softmax
    ft = torch.log_softmax if log else torch.softmax
    x, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (ge,) = ember.autograd.grad(fe(x, dim), [x], [ember.from_numpy(g)], create_graph=True)
    (gt,) = torch.autograd.grad(ft(xt, dim), [xt], [torch.from_numpy(g)], create_graph=True)
    np.testing.assert_allclose(ge.detach().numpy(), gt.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    assert type(ge.grad_fn).__name__ == type(gt.grad_fn).__name__
    (ge * ge).sum().backward()
    (gt * gt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert gradgradcheck(lambda t: fe(t, dim), (ember.tensor(a[:3, :4, :5],
                                                             requires_grad=True),))
    s = ember.tensor(np.float64(0.3), requires_grad=True)  # 0-d
    fe(s, 0).backward()
    assert s.grad.item() == 0.0


def test_cumsum_backward_reverse_scan():
    rng = np.random.default_rng(16)
    for shape, dim in [((300, 200), 0), ((300, 200), 1), ((100_000,), 0), ((20, 30, 70), 1)]:
        a = rng.standard_normal(shape)
        g = rng.standard_normal(shape)
        x = ember.tensor(a, requires_grad=True)
        x.cumsum(dim).backward(ember.from_numpy(g))
        ref = np.flip(np.cumsum(np.flip(g, dim), axis=dim), dim)
        np.testing.assert_array_equal(x.grad.numpy(), ref)  # float64: the same sums
    # double backward through the reversed scan: d/dg <cumsum_bwd(g), v> = cumsum(v)
    x = ember.randn(300, 200, dtype=ember.float64, requires_grad=True)
    g = ember.randn(300, 200, dtype=ember.float64, requires_grad=True)
    (gx,) = ember.autograd.grad(x.cumsum(1), [x], [g], create_graph=True)
    v = rng.standard_normal((300, 200))
    (gg,) = ember.autograd.grad(gx, [g], [ember.from_numpy(v)])
    np.testing.assert_allclose(gg.numpy(), np.cumsum(v, axis=1), rtol=1e-12, atol=1e-12)
    small = ember.randn(4, 5, dtype=ember.float64, requires_grad=True)  # the flip path
    assert gradgradcheck(lambda t: t.cumsum(-1), (small,))


@pytest.mark.parametrize("shape,dim", [((7, 11), 1), ((1000,), 0), ((40, 30), 0)])
def test_small_float32_scans_match_pytorch(shape, dim):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(17).standard_normal(shape).astype(np.float32) + 50
    np.testing.assert_array_equal(ember.cumsum(ember.from_numpy(a), dim).numpy(),
                                  torch.cumsum(torch.from_numpy(a), dim).numpy())
    p = (1 + a * 1e-4).astype(np.float32)
    np.testing.assert_allclose(ember.cumprod(ember.from_numpy(p), dim).numpy(),
                               torch.cumprod(torch.from_numpy(p), dim).numpy(), rtol=1e-6)
