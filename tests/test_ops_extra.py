"""Gather/scatter, sorting/selection, scans and extra shape ops: NumPy references, gradcheck,
and PyTorch as an oracle when installed."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

try:
    import torch
except ImportError:
    torch = None


def R(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


IDX = np.array([[0, 2, 1], [1, 0, 3]])  # no repeats within a row: scatter is deterministic
IDX_DUP = np.array([[0, 0, 1], [1, 1, 1]])

# name -> (callable(lib, *tensors), list of input arrays, differentiable input positions)
CASES = {
    "gather": (lambda L, x: L.gather(x, 1, L.tensor(IDX)), [R(2, 4)], [0]),
    "gather_dim0": (lambda L, x: L.gather(x, 0, L.tensor(IDX_DUP)), [R(3, 3)], [0]),
    "scatter": (lambda L, x, s: L.scatter(x, 1, L.tensor(IDX), s), [R(2, 4), R(2, 3, seed=1)],
                [0, 1]),
    "scatter_value": (lambda L, x: x.scatter(0, L.tensor(IDX_DUP[:1]), 2.5), [R(3, 3)], [0]),
    "scatter_add": (lambda L, x, s: L.scatter_add(x, 1, L.tensor(IDX_DUP), s),
                    [R(2, 4), R(2, 3, seed=1)], [0, 1]),
    "scatter_reduce_sum": (lambda L, x, s: x.scatter_reduce(1, L.tensor(IDX_DUP), s, "sum"),
                           [R(2, 4), R(2, 3, seed=1)], [0, 1]),
    "scatter_reduce_mean": (lambda L, x, s: x.scatter_reduce(1, L.tensor(IDX_DUP), s, "mean"),
                            [R(2, 4), R(2, 3, seed=1)], [0, 1]),
    "scatter_reduce_mean_noself": (
        lambda L, x, s: x.scatter_reduce(1, L.tensor(IDX_DUP), s, "mean", include_self=False),
        [R(2, 4), R(2, 3, seed=1)], [0, 1]),
    "scatter_reduce_amax": (lambda L, x, s: x.scatter_reduce(1, L.tensor(IDX_DUP), s, "amax"),
                            [R(2, 4), R(2, 3, seed=1)], [0, 1]),
    "scatter_reduce_prod": (lambda L, x, s: x.scatter_reduce(1, L.tensor(IDX_DUP), s, "prod"),
                            [R(2, 4), R(2, 3, seed=1)], [0, 1]),
    "index_select": (lambda L, x: L.index_select(x, 1, L.tensor([3, 0, 3])), [R(2, 4)], [0]),
    "index_add": (lambda L, x, s: x.index_add(0, L.tensor([2, 0, 2]), s, alpha=2.0),
                  [R(3, 2), R(3, 2, seed=1)], [0, 1]),
    "index_copy": (lambda L, x, s: x.index_copy(0, L.tensor([2, 0]), s),
                   [R(3, 2), R(2, 2, seed=1)], [0, 1]),
    "index_fill": (lambda L, x: x.index_fill(1, L.tensor([0, 2]), -1.0), [R(2, 3)], [0]),
    "take": (lambda L, x: L.take(x, L.tensor([[0, 5], [5, 3]])), [R(2, 3)], [0]),
    "take_along_dim": (lambda L, x: L.take_along_dim(x, L.tensor([[0], [2]]), 1), [R(2, 3)],
                       [0]),
    "masked_scatter": (lambda L, x, s: x.masked_scatter(
        L.tensor([[True, False, True], [False, True, False]]), s), [R(2, 3), R(4, seed=1)],
        [0, 1]),
    "sort": (lambda L, x: L.sort(x, 1).values, [R(3, 4)], [0]),
    "sort_desc": (lambda L, x: L.sort(x, 0, descending=True).values, [R(3, 4)], [0]),
    "argsort": (lambda L, x: L.argsort(x, 1), [R(3, 4)], []),
    "topk": (lambda L, x: L.topk(x, 2, 1).values, [R(3, 4)], [0]),
    "topk_smallest": (lambda L, x: L.topk(x, 3, 0, largest=False).values, [R(3, 4)], [0]),
    "kthvalue": (lambda L, x: L.kthvalue(x, 2, 1).values, [R(3, 4)], [0]),
    "median": (lambda L, x: L.median(x), [R(3, 4)], [0]),
    "median_dim": (lambda L, x: L.median(x, 1).values, [R(3, 4)], [0]),
    "quantile": (lambda L, x: L.quantile(x, 0.3, dim=1), [R(3, 5)], [0]),
    "quantile_vec": (lambda L, x: L.quantile(x, L.tensor([0.25, 0.5, 0.9], dtype=x.dtype)),
                     [R(7)], [0]),
    "nanquantile": (lambda L, x: L.nanquantile(x, 0.5, dim=1),
                    [np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 0.5]])], []),
    "cumprod": (lambda L, x: L.cumprod(x, 1), [R(2, 4)], [0]),
    "cumprod_zero": (lambda L, x: L.cumprod(x, 1), [np.array([[1.0, 0.0, 2.0, 3.0]])], [0]),
    "cummax": (lambda L, x: L.cummax(x, 1).values, [R(2, 5)], [0]),
    "cummax_idx": (lambda L, x: L.cummax(x, 1).indices,
                   [np.array([[1.0, 3.0, 3.0, 2.0, 5.0]])], []),
    "cummin": (lambda L, x: L.cummin(x, 0).values, [R(4, 2)], [0]),
    "logcumsumexp": (lambda L, x: L.logcumsumexp(x, 1), [R(2, 4)], [0]),
    "nansum": (lambda L, x: L.nansum(x), [np.array([1.0, np.nan, 2.5])], []),
    "nanmean": (lambda L, x: L.nanmean(x), [np.array([1.0, np.nan, 2.5])], []),
    "diff": (lambda L, x: L.diff(x, n=2, dim=1), [R(2, 5)], [0]),
    "tril": (lambda L, x: L.tril(x, -1), [R(3, 4)], [0]),
    "triu": (lambda L, x: L.triu(x, 1), [R(3, 4)], [0]),
    "diagonal": (lambda L, x: L.diagonal(x, 1, 0, 2), [R(3, 2, 4)], [0]),
    "diag_embed": (lambda L, x: L.diag_embed(x, -1), [R(2, 3)], [0]),
    "diag1d": (lambda L, x: L.diag(x, 1), [R(3)], [0]),
    "diag2d": (lambda L, x: L.diag(x), [R(3, 4)], [0]),
    "trace": (lambda L, x: L.trace(x), [R(3, 3)], [0]),
    "repeat_interleave": (lambda L, x: L.repeat_interleave(x, L.tensor([1, 0, 2]), dim=0),
                          [R(3, 2)], [0]),
    "kron": (lambda L, a, b: L.kron(a, b), [R(2, 3), R(2, 2, seed=1)], [0, 1]),
    "tensordot": (lambda L, a, b: L.tensordot(a, b, dims=([1, 0], [0, 2])),
                  [R(3, 2, 4), R(2, 5, 3, seed=1)], [0, 1]),
    "cdist": (lambda L, a, b: L.cdist(a, b), [R(3, 2), R(4, 2, seed=1)], [0, 1]),
    "cartesian_prod": (lambda L, a, b: L.cartesian_prod(a, b), [R(2), R(3, seed=1)], [0, 1]),
    "block_diag": (lambda L, a, b: L.block_diag(a, b), [R(2, 2), R(1, 3, seed=1)], [0, 1]),
    "rot90": (lambda L, x: L.rot90(x, 1, (0, 1)), [R(2, 3)], [0]),
    "rot90_3": (lambda L, x: L.rot90(x, 3, (0, 1)), [R(2, 3)], [0]),
    "unfold": (lambda L, x: x.unfold(1, 3, 2), [R(2, 7)], [0]),
    "as_strided": (lambda L, x: L.as_strided(x, (3, 3), (1, 1)), [R(6)], [0]),
    "meshgrid_xy": (lambda L, a, b: L.meshgrid(a, b, indexing="xy")[0] *
                    L.meshgrid(a, b, indexing="xy")[1], [R(2), R(3, seed=1)], [0, 1]),
    "column_stack": (lambda L, a, b: L.column_stack([a, b]), [R(3), R(3, 2, seed=1)], [0, 1]),
    "hypot": (lambda L, a, b: L.hypot(a, b), [R(4), R(4, seed=1)], [0, 1]),
    "logaddexp": (lambda L, a, b: L.logaddexp(a, b), [R(4), R(4, seed=1)], [0, 1]),
    "logaddexp2": (lambda L, a, b: L.logaddexp2(a, b), [R(4), R(4, seed=1)], [0, 1]),
    "xlogy": (lambda L, a, b: L.xlogy(a, b), [np.array([0.0, 1.5, -2.0, 0.3]),
                                              np.abs(R(4, seed=1)) + 0.1], [0, 1]),
    "copysign": (lambda L, a, b: L.copysign(a, b), [R(4), R(4, seed=1)], [0, 1]),
    "float_power": (lambda L, a, b: L.float_power(a, b), [np.abs(R(4)) + 0.5, R(4, seed=1)],
                    [0, 1]),
    "sinc": (lambda L, x: L.sinc(x), [np.array([0.0, 0.3, -1.7, 2.5])], [0]),
    "i0": (lambda L, x: L.i0(x), [R(4)], [0]),
    "logit": (lambda L, x: L.logit(x), [np.array([0.1, 0.5, 0.77])], [0]),
    "logit_eps": (lambda L, x: L.logit(x, eps=0.2), [np.array([0.1, 0.5, 0.77, 0.95])], [0]),
    "polygamma": (lambda L, x: L.polygamma(1, x), [np.abs(R(4)) + 0.5], [0]),
    "deg2rad": (lambda L, x: L.deg2rad(x), [R(3)], [0]),
    # float exponents: with int ones PyTorch's gradient computes 2 ** e in integers
    "ldexp": (lambda L, x: L.ldexp(x, L.tensor([1.0, -2.0, 3.0], dtype=x.dtype)), [R(3)], [0]),
    "bitwise_left_shift": (lambda L: L.tensor([1, 2, 3]) << L.tensor([2, 1, 0]), [], []),
    "gcd": (lambda L: L.gcd(L.tensor([12, 18, 7]), L.tensor([8, 27, 0])), [], []),
    "heaviside": (lambda L: L.heaviside(L.tensor([-1.5, 0.0, 2.0]), L.tensor([0.5])), [], []),
    "frexp_mantissa": (lambda L, x: L.frexp(x)[0], [R(4)], []),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, arrays, diff = CASES[name]
    if not diff:
        pytest.skip(f"{name} is not differentiable")
    ts = [ember.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    assert gradcheck(lambda *xs: fn(ember, *xs), ts)


@pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, arrays, diff = CASES[name]
    rtol = 1e-7 if name == "polygamma" else 1e-10  # SciPy's and PyTorch's series differ
    e_in = [ember.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    t_in = [torch.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    e_out, t_out = fn(ember, *e_in), fn(torch, *t_in)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=rtol,
                               atol=1e-12, equal_nan=True)
    assert str(e_out.dtype) == str(t_out.dtype)
    if diff:
        w = R(*e_out.shape, seed=7)
        (e_out * ember.tensor(w)).sum().backward()
        (t_out * torch.tensor(w)).sum().backward()
        for i in diff:
            np.testing.assert_allclose(e_in[i].grad.numpy(), t_in[i].grad.numpy(),
                                       rtol=max(rtol, 1e-9), atol=1e-12)


def test_values_without_torch():
    x = ember.tensor([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])
    assert x.sort(1).values.tolist() == [[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]]
    assert x.argsort(1, descending=True).tolist() == [[0, 2, 1], [2, 0, 1]]
    assert ember.tensor([1, 2, 2, 3]).sort(descending=True, stable=True).indices.tolist() == \
        [3, 1, 2, 0]
    assert x.topk(1, 1).indices.tolist() == [[0], [2]]
    u, inv, cnt = ember.unique(ember.tensor([3, 1, 3, 2, 1]), return_inverse=True,
                               return_counts=True)
    assert u.tolist() == [1, 2, 3] and inv.tolist() == [2, 0, 2, 1, 0]
    assert cnt.tolist() == [2, 1, 2]
    assert ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 1])).tolist() == [1, 2, 1]
    assert ember.bincount(ember.tensor([0, 2, 2, 5])).tolist() == [1, 0, 2, 0, 0, 1]
    assert ember.bucketize(ember.tensor([0.5, 2.0, 9.0]),
                           ember.tensor([1.0, 2.0, 3.0])).tolist() == [0, 1, 3]
    assert ember.searchsorted(ember.tensor([1.0, 2.0, 3.0]), ember.tensor([2.0]),
                              right=True).tolist() == [2]
    assert ember.histc(ember.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist() == \
        [0.0, 2.0, 1.0, 0.0]
    s = ember.zeros(2, 3).scatter_add(1, ember.tensor([[0, 0, 1], [2, 2, 2]]),
                                      ember.ones(2, 3))
    assert s.tolist() == [[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]]
    assert ember.mode(ember.tensor([1, 2, 2, 3, 3])).values.item() == 2


def test_bad_inputs():
    x = ember.randn(2, 3)
    with pytest.raises(RuntimeError, match="int64"):
        ember.gather(x, 1, ember.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        ember.gather(x, 1, ember.tensor([[5]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ember.gather(x, 1, ember.tensor([0]))
    with pytest.raises(IndexError, match="index out of range"):
        ember.index_select(x, 0, ember.tensor([2]))
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="reduce argument"):
        x.scatter_reduce(1, ember.tensor([[0]]), x, "median")
    with pytest.raises(RuntimeError, match=r"q values must be in the range"):
        ember.quantile(x, 1.5)
    with pytest.raises(RuntimeError, match="1-d non-negative"):
        ember.bincount(ember.tensor([-1, 2]))


def test_inplace_variants_write_through():
    x = ember.zeros(2, 3)
    v = x[0]
    x.scatter_(1, ember.tensor([[2], [0]]), 7.0)
    assert v.tolist() == [0.0, 0.0, 7.0]
    x.index_fill_(1, ember.tensor([1]), -1.0)
    assert x.tolist() == [[0.0, -1.0, 7.0], [7.0, -1.0, 0.0]]
    x.tril_()
    assert x.tolist() == [[0.0, 0.0, 0.0], [7.0, -1.0, 0.0]]
