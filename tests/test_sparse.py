"""Sparse COO tensors (issue 19 item 5; NOTE [ Sparse COO tensors ] in ember/_sparse.py).

Oracle-free checks compare every sparse result with the same computation on dense tensors;
with PyTorch installed, results, gradients (and their layouts), error types and messages and
optimizer trajectories are compared with PyTorch's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F

IDX = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]
VAL = [3.0, 4.0, 5.0, 1.0, -2.0]


def _sp(lib=ember, values=VAL, size=(3, 3), **kw):
    return lib.sparse_coo_tensor(lib.tensor(IDX), lib.tensor(values), size, **kw)


def _dense_of(idx, val, size):
    d = np.zeros(size, np.float32)
    np.add.at(d, tuple(np.asarray(idx)), np.asarray(val, np.float32))
    return d


@pytest.fixture
def torch():
    t = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", message="Sparse (invariant checks|CSR tensor support)")
    return t


def _np(t):
    t = t.detach()
    return (t.to_dense() if t.is_sparse else t).numpy()


# --------------------------------------------------------------------------- oracle-free
def test_construction_and_metadata():
    s = _sp()
    assert s.is_sparse and s.layout == ember.sparse_coo and s.layout is not ember.strided
    assert s.shape == (3, 3) and s.dtype == ember.float32 and s.device.type == "cpu"
    assert s._nnz() == 5 and s.sparse_dim() == 2 and s.dense_dim() == 0
    assert not s.is_coalesced() and s.numel() == 9 and s.dim() == 2
    np.testing.assert_array_equal(s.to_dense().numpy(), _dense_of(IDX, VAL, (3, 3)))
    # size inferred from the indices; a hybrid tensor keeps dense trailing dims
    assert ember.sparse_coo_tensor(IDX, VAL).shape == (3, 3)
    h = ember.sparse_coo_tensor([[0, 2]], ember.ones(2, 4))
    assert h.shape == (3, 4) and h.sparse_dim() == 1 and h.dense_dim() == 1
    assert not ember.ones(2).is_sparse and ember.ones(2).layout == ember.strided
    assert ember.ones(2).to_dense() is not None and ember.ones(2, 3).dense_dim() == 2


def test_coalesce_sums_duplicates():
    c = _sp().coalesce()
    assert c.is_coalesced() and c._nnz() == 4
    np.testing.assert_array_equal(c.indices().numpy(), [[0, 1, 1, 2], [2, 0, 2, 1]])
    np.testing.assert_array_equal(c.values().numpy(), [4.0, 4.0, 5.0, -2.0])
    np.testing.assert_array_equal(c.to_dense().numpy(), _sp().to_dense().numpy())


def test_to_sparse_round_trip_and_hybrid():
    x = ember.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    s = x.to_sparse()
    assert s.is_coalesced() and s._nnz() == 3
    np.testing.assert_array_equal(s.to_dense().numpy(), x.numpy())
    h = x.to_sparse(1)
    assert h.sparse_dim() == 1 and h._nnz() == 2 and h.values().shape == (2, 3)
    np.testing.assert_array_equal(h.to_dense().numpy(), x.numpy())
    assert x.to_sparse_coo().is_sparse and s.to_sparse() is s


def test_elementwise_and_reductions_match_dense():
    s, d = _sp(), _sp().to_dense()
    other = ember.sparse_coo_tensor([[2, 0]], ember.tensor([[1.0, 1, 1], [0, 2, 0]]), (3, 3))
    od = other.to_dense()
    cases = [(s * 2.5, d * 2.5), (2.5 * s, d * 2.5), (s / 4, d / 4), (-s, -d),
             (s + s, d + d), (s - s * 3, d - d * 3), (ember.ones(3, 3) + s, 1 + d),
             (ember.ones(3, 3) - s, 1 - d), (s * ember.arange(9.0).reshape(3, 3),
                                              d * ember.arange(9.0).reshape(3, 3)),
             (s.t(), d.t()), (s.sum(1), d.sum(1)), (s.sum(), d.sum()),
             (ember.sparse.sum(s, 0), d.sum(0)), (ember.sparse.sum(s), d.sum()),
             (s.clone(), d), (s.double(), d.double())]
    for got, want in cases:
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-6)
    # PyTorch's merge of two sums combines equal heads: same pattern, not concatenated
    assert (s + s)._nnz() == 5 and not (s + s).is_coalesced()
    assert (s.coalesce() + s.coalesce()).is_coalesced()
    assert (s.double()).dtype == ember.float64 and (s.double()).is_sparse
    h = other.to_sparse() if False else ember.sparse_coo_tensor([[2, 0]], od[[2, 0]], (3, 3))
    np.testing.assert_allclose(_np(ember.sparse.sum(h, 1)), od.sum(1).numpy())


def test_in_place_ops_and_permutes_keep_the_tensor():
    s = _sp().coalesce()
    d = s.to_dense()
    t = s.clone()
    assert t.mul_(2) is t and t.is_sparse
    np.testing.assert_array_equal(t.to_dense().numpy(), (d * 2).numpy())
    t.add_(s).sub_(s * 0.5).div_(5).neg_()
    np.testing.assert_allclose(t.to_dense().numpy(), (-(d * 2.5) / 5).numpy(), rtol=1e-6)
    assert t.zero_() is t and t._nnz() == 0 and t.to_dense().abs().sum().item() == 0
    np.testing.assert_array_equal(s.T.to_dense().numpy(), d.T.numpy())
    np.testing.assert_array_equal(s.permute(1, 0).to_dense().numpy(), d.permute(1, 0).numpy())
    h = ember.sparse_coo_tensor([[0, 2]], ember.arange(8.0).reshape(2, 2, 2))
    np.testing.assert_array_equal(h.permute(0, 2, 1).to_dense().numpy(),
                                  h.to_dense().permute(0, 2, 1).numpy())
    with pytest.raises(NotImplementedError, match="sparse dimension"):
        h.permute(1, 0, 2)
    with pytest.raises(NotImplementedError, match="fill_"):
        s.clone().fill_(1.0)
    # zero_grad(set_to_none=False) empties a sparse gradient, as PyTorch's zero_() does
    e = ember.nn.Embedding(4, 2, sparse=True)
    opt = ember.optim.SGD(e.parameters(), lr=0.1)
    e(ember.tensor([1, 1])).sum().backward()
    g = e.weight.grad
    opt.zero_grad(set_to_none=False)
    assert e.weight.grad is g and g.is_sparse and g._nnz() == 0


def test_no_silent_densification():
    import io

    s = _sp()
    with pytest.raises(TypeError, match="Sparse layout"):
        np.asarray(s)
    with pytest.raises(NotImplementedError, match="no strided storage"):
        ember.save(s, io.BytesIO())
    for f in (lambda: s.mean(), lambda: ember.cat([s, s]), lambda: s.abs(),
              lambda: ember.relu(s), lambda: s == s, lambda: s.view(9)):
        with pytest.raises(RuntimeError):  # NotImplementedError is a RuntimeError
            f()


def test_matmul_forms_match_dense():
    s, d = _sp(), _sp().to_dense()
    b = ember.randn(3, 4)
    for got in (s @ b, ember.mm(s, b), ember.matmul(s, b), ember.sparse.mm(s, b)):
        np.testing.assert_allclose(got.numpy(), (d @ b).numpy(), rtol=1e-5, atol=1e-6)
    v = ember.randn(3)
    np.testing.assert_allclose((s @ v).numpy(), (d @ v).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ember.addmm(ember.ones(3, 4), s, b, beta=0.5, alpha=2).numpy(),
                               (0.5 + 2 * (d @ b)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ember.sparse.addmm(ember.ones(3, 4), s, b, beta=0.5,
                                                  alpha=2).numpy(),
                               (0.5 + 2 * (d @ b)).numpy(), rtol=1e-5, atol=1e-6)


def test_gradients_match_dense_equivalents():
    """sparse @ dense: the dense operand's gradient is the dense computation's; the sparse
    values' gradient is the dense gradient read at the entries."""
    b0 = np.random.RandomState(0).randn(3, 4).astype(np.float32)
    v = ember.tensor(VAL, requires_grad=True)
    b = ember.tensor(b0, requires_grad=True)
    w = ember.arange(12.0).reshape(3, 4)
    (ember.sparse.mm(ember.sparse_coo_tensor(IDX, v, (3, 3)), b) * w).sum().backward()
    dense = ember.tensor(_dense_of(IDX, VAL, (3, 3)), requires_grad=True)
    bd = ember.tensor(b0, requires_grad=True)
    ((dense @ bd) * w).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), bd.grad.numpy(), rtol=1e-5)
    gd = dense.grad.numpy()
    np.testing.assert_allclose(v.grad.numpy(), gd[tuple(np.asarray(IDX))], rtol=1e-5)
    # the leaf's own gradient: sparse (coalesced pattern) from sparse.mm, dense from mm
    s = _sp().requires_grad_()
    ember.sparse.mm(s, b.detach()).sum().backward()
    assert s.grad.is_sparse and s.grad.is_coalesced() and s.grad._nnz() == 4
    np.testing.assert_allclose(_np(s.grad), np.where(_dense_of(IDX, VAL, (3, 3)) != 0,
                                                     (ember.ones(3, 4) @ b.detach().t()
                                                      ).numpy(), 0), rtol=1e-5)
    s.grad = None
    ember.mm(s, b.detach()).sum().backward()
    assert not s.grad.is_sparse


def test_gradient_accumulation_layouts():
    e = ember.nn.Embedding(5, 3, sparse=True)
    e(ember.tensor([1, 2, 1])).sum().backward()
    e(ember.tensor([4])).sum().backward()
    g = e.weight.grad
    assert g.is_sparse and g._nnz() == 4 and not g.is_coalesced()  # sparse + sparse
    np.testing.assert_array_equal(_np(g).sum(1), [0, 6, 3, 0, 3])
    e.weight.grad = ember.zeros(5, 3)
    before = e.weight.grad
    e(ember.tensor([3, 3])).sum().backward()
    assert e.weight.grad is before and not before.is_sparse  # dense += sparse, in place
    np.testing.assert_array_equal(before.numpy()[3], [2, 2, 2])
    e.weight.grad = None
    e(ember.tensor([0])).sum().backward()
    (e.weight * 2).sum().backward()  # sparse .grad + dense gradient -> dense
    assert not e.weight.grad.is_sparse
    np.testing.assert_array_equal(e.weight.grad.numpy()[:, 0], [3, 2, 2, 2, 2])


def test_one_value_used_by_sparse_and_dense_gradients():
    v = ember.tensor(VAL, requires_grad=True)
    s = ember.sparse_coo_tensor(IDX, v, (3, 3))
    b = ember.ones(3, 2)
    (ember.sparse.mm(s, b).sum() + ember.mm(s, b).sum() + s.to_dense().sum()).backward()
    np.testing.assert_allclose(v.grad.numpy(), [5.0] * 5)


def test_softmax_matches_dense_over_entries():
    c = _sp().coalesce()
    d = np.full((3, 3), -np.inf, np.float32)
    d[tuple(c.indices().numpy())] = c.values().numpy()
    for dim in (0, 1):
        want = np.exp(d - d.max(dim, keepdims=True))
        want = want / want.sum(dim, keepdims=True)
        np.testing.assert_allclose(_np(ember.sparse.softmax(c, dim)), want, rtol=1e-5)
        ls = ember.sparse.log_softmax(c, dim)
        at = want[tuple(c.indices().numpy())]
        np.testing.assert_allclose(ls.values().numpy(), np.log(at), rtol=1e-5)


def test_errors():
    s = _sp()
    with pytest.raises(RuntimeError, match="add\\(sparse, dense\\) is not supported"):
        s + ember.ones(3, 3)
    with pytest.raises(NotImplementedError, match="Could not run 'aten::exp'"):
        s.exp()
    with pytest.raises(NotImplementedError, match="'SparseCPU' backend"):
        s[0]
    with pytest.raises(NotImplementedError, match="'SparseCPU' backend"):
        s.reshape(9)
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        s.numpy()
    assert s.stride() == (0, 0) and not s.is_contiguous()  # PyTorch's answers
    with pytest.raises(RuntimeError, match="uncoalesced"):
        s.values()
    with pytest.raises(RuntimeError, match="expected sparse coordinate tensor layout"):
        ember.ones(2).is_coalesced()
    with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
        ember.sparse_coo_tensor(IDX, VAL, (2, 3))
    with pytest.raises(RuntimeError, match="same nnz"):
        ember.sparse_coo_tensor(IDX, VAL[:3])
    with pytest.raises(NotImplementedError):
        s.exp_()
    with pytest.raises(NotImplementedError):
        s.cumsum(0)
    with pytest.raises(NotImplementedError, match="device"):
        ember.sparse_coo_tensor(IDX, VAL, device="meta")
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        F.embedding_bag(ember.tensor([0, 1]), ember.ones(3, 2), ember.tensor([0]), mode="max",
                        sparse=True)


def test_optimizers_refuse_or_take_sparse_gradients():
    def emb_grad():
        e = ember.nn.Embedding(4, 2, sparse=True)
        e(ember.tensor([1, 1])).sum().backward()
        return e
    for cls, msg in ((ember.optim.Adam, "Adam does not support sparse gradients, please "
                                        "consider SparseAdam instead"),
                     (ember.optim.AdamW, "Adam does not support sparse gradients"),
                     (ember.optim.RMSprop, "RMSprop does not support sparse gradients"),
                     (ember.optim.Adadelta, "Adadelta does not support sparse gradients")):
        e = emb_grad()
        with pytest.raises(RuntimeError, match=msg):
            cls(e.parameters(), lr=0.1).step()
    lin = ember.nn.Linear(2, 2)
    lin(ember.ones(1, 2)).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        ember.optim.SparseAdam(lin.parameters()).step()
    with pytest.raises(ValueError, match="Invalid learning rate"):
        ember.optim.SparseAdam(lin.parameters(), lr=0.0)
    with pytest.raises(ValueError, match="SparseAdam requires dense parameter tensors"):
        ember.optim.SparseAdam([ember.eye(2).to_sparse()])
    e = emb_grad()
    with pytest.raises(RuntimeError, match="add\\(sparse, dense\\) is not supported"):
        ember.optim.SGD(e.parameters(), lr=0.1, weight_decay=0.1).step()
    e = emb_grad()
    with pytest.raises(RuntimeError, match="weight_decay option is not compatible"):
        ember.optim.Adagrad(e.parameters(), lr=0.1, weight_decay=0.1).step()
    e = emb_grad()
    with pytest.raises(RuntimeError, match="does not support sparse"):
        ember.optim.SGD(e.parameters(), lr=0.1, fused=True).step()


def test_sparse_adam_touches_only_named_rows():
    e = ember.nn.Embedding(5, 3, sparse=True)
    w0 = e.weight.detach().clone().numpy()
    opt = ember.optim.SparseAdam(e.parameters(), lr=0.1)
    e(ember.tensor([1, 3, 1])).sum().backward()
    opt.step()
    w1 = e.weight.detach().numpy()
    np.testing.assert_array_equal(w1[[0, 2, 4]], w0[[0, 2, 4]])
    # first Adam step: every touched entry moves by lr (g / sqrt(g^2) with bias correction)
    np.testing.assert_allclose(w0[[1, 3]] - w1[[1, 3]], 0.1, rtol=1e-4)
    st = opt.state[e.weight]
    assert st["step"] == 1 and not st["exp_avg"].is_sparse


def _gcn_data(seed=0):
    rs = np.random.RandomState(seed)
    n, f, h, c = 12, 6, 8, 3
    edges = rs.randint(0, n, size=(2, 30))
    edges = np.concatenate([edges, np.stack([np.arange(n)] * 2)], 1)  # self loops
    deg = np.bincount(edges[0], minlength=n).astype(np.float32)
    vals = (1.0 / np.sqrt(deg[edges[0]] * deg[edges[1]])).astype(np.float32)
    return dict(edges=edges, vals=vals, n=n, f=f, h=h, c=c, ids=rs.randint(0, 20, n),
                w1=rs.randn(f, h).astype(np.float32) * 0.3,
                w2=rs.randn(h, c).astype(np.float32) * 0.3,
                emb=rs.randn(20, f).astype(np.float32), y=rs.randint(0, c, n))


def _gcn_train(lib, steps=5, seed=0):
    """Embedding(sparse=True) node features, two GCN layers with a sparse normalised
    adjacency, SparseAdam for the embedding and Adam for the dense weights."""
    d = _gcn_data(seed)
    adj = lib.sparse_coo_tensor(lib.tensor(d["edges"]), lib.tensor(d["vals"]), (d["n"], d["n"]))
    emb = lib.nn.Embedding(20, d["f"], sparse=True)
    w1 = lib.nn.Parameter(lib.tensor(d["w1"]))
    w2 = lib.nn.Parameter(lib.tensor(d["w2"]))
    with lib.no_grad():
        emb.weight.copy_(lib.tensor(d["emb"]))
    opt_s = lib.optim.SparseAdam(emb.parameters(), lr=0.05)
    opt_d = lib.optim.Adam([w1, w2], lr=0.05)
    ids, y = lib.tensor(d["ids"]), lib.tensor(d["y"])
    losses = []
    for _ in range(steps):
        opt_s.zero_grad()
        opt_d.zero_grad()
        x = emb(ids)
        h = lib.relu(lib.sparse.mm(adj, x @ w1))
        out = adj @ (h @ w2)
        loss = lib.nn.functional.cross_entropy(out, y)
        loss.backward()
        opt_s.step()
        opt_d.step()
        losses.append(loss.item())
    return losses, emb.weight.detach().numpy().copy(), w1.detach().numpy().copy()


def test_gcn_training_loop_learns():
    losses, _, _ = _gcn_train(ember, steps=30)
    assert losses[-1] < 0.7 * losses[0]


# --------------------------------------------------------------------------- oracle
def test_gcn_training_matches_pytorch(torch):
    le, ee, we = _gcn_train(ember)
    lt, et, wt = _gcn_train(torch)
    np.testing.assert_allclose(le, lt, rtol=1e-5)
    np.testing.assert_allclose(ee, et, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(we, wt, rtol=1e-5, atol=1e-6)


def test_construction_and_coalesce_match_pytorch(torch):
    for lib_kw in ({}, {"size": (3, 4)}):
        a = ember.sparse_coo_tensor(IDX, VAL, **lib_kw)
        b = torch.sparse_coo_tensor(IDX, VAL, **lib_kw)
        assert tuple(a.shape) == tuple(b.shape) and a.is_coalesced() == b.is_coalesced()
        ac, bc = a.coalesce(), b.coalesce()
        np.testing.assert_array_equal(ac.indices().numpy(), bc.indices().numpy())
        np.testing.assert_array_equal(ac.values().numpy(), bc.values().numpy())
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], np.float32)
    for sd in (None, 1):
        a = ember.tensor(x).to_sparse(*(() if sd is None else (sd,)))
        b = torch.tensor(x).to_sparse(*(() if sd is None else (sd,)))
        np.testing.assert_array_equal(a.indices().numpy(), b.indices().numpy())
        np.testing.assert_array_equal(a.values().numpy(), b.values().numpy())
    r = repr(_sp())
    assert r == repr(_sp(torch)), r
    assert repr(ember.sparse_coo_tensor([[0]], ember.tensor([1.0], dtype=ember.float64), (2,))) \
        == repr(torch.sparse_coo_tensor([[0]], torch.tensor([1.0], dtype=torch.float64), (2,)))


def test_results_and_layouts_match_pytorch(torch):
    b = np.random.RandomState(1).randn(3, 4).astype(np.float32)
    ops = [lambda L, s: s * 2.5, lambda L, s: s / 4, lambda L, s: -s, lambda L, s: s + s,
           lambda L, s: L.ones(3, 3) + s, lambda L, s: s.t(), lambda L, s: s.sum(),
           lambda L, s: s.sum(1), lambda L, s: L.sparse.sum(s, 0), lambda L, s: s @ L.tensor(b),
           lambda L, s: L.sparse.mm(s, L.tensor(b)), lambda L, s: s.coalesce() * 2,
           lambda L, s: L.sparse.softmax(s, 1), lambda L, s: L.sparse.log_softmax(s, 0),
           lambda L, s: L.addmm(L.ones(3, 4), s, L.tensor(b), beta=0.5),
           lambda L, s: L.sparse.addmm(L.ones(3, 4), s, L.tensor(b), alpha=2),
           lambda L, s: L.tensor(b).t() @ s, lambda L, s: s @ s]
    for i, op in enumerate(ops):
        got, want = op(ember, _sp()), op(torch, _sp(torch))
        assert got.is_sparse == want.is_sparse, i
        if want.is_sparse:
            assert got.is_coalesced() == want.is_coalesced(), i
            assert got._nnz() == want._nnz(), i
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-5, atol=1e-6, err_msg=str(i))


def test_gradients_match_pytorch(torch):
    b0 = np.random.RandomState(2).randn(3, 4).astype(np.float32)
    w = np.random.RandomState(3).randn(3, 4).astype(np.float32)

    def run(L, f, leaf_sparse):
        b = L.tensor(b0, requires_grad=True)
        if leaf_sparse:
            s = _sp(L).coalesce().detach().requires_grad_()
            leaf = s
        else:
            leaf = L.tensor(VAL, requires_grad=True)
            s = L.sparse_coo_tensor(L.tensor(IDX), leaf, (3, 3))
        (f(L, s, b) * L.tensor(w)).sum().backward()
        return leaf.grad, b.grad

    fns = [lambda L, s, b: L.sparse.mm(s, b), lambda L, s, b: L.mm(s, b),
           lambda L, s, b: s @ b, lambda L, s, b: L.sparse.addmm(b, s, b, beta=0.5),
           lambda L, s, b: (s.to_dense() * 3) @ b,
           lambda L, s, b: L.sparse.mm(s.coalesce() * 2, b),
           lambda L, s, b: L.sparse.mm(L.sparse.softmax(s, 1), b),
           lambda L, s, b: L.sparse.sum(s, 1).to_dense()[:, None] * b,
           lambda L, s, b: L.sparse.sum(s) * b]
    for i, f in enumerate(fns):
        for leaf_sparse in (False, True):
            ge, gbe = run(ember, f, leaf_sparse)
            gt, gbt = run(torch, f, leaf_sparse)
            assert ge.is_sparse == gt.is_sparse, (i, leaf_sparse)
            np.testing.assert_allclose(_np(ge), _np(gt), rtol=1e-5, atol=1e-5,
                                       err_msg=f"{i} {leaf_sparse}")
            np.testing.assert_allclose(_np(gbe), _np(gbt), rtol=1e-5, atol=1e-5,
                                       err_msg=f"{i} {leaf_sparse}")
    # values() of a coalesced tensor and to_sparse of a dense one
    for L in (ember, torch):
        x = L.tensor([[0.0, 1.0], [2.0, 0.0]], requires_grad=True)
        (x.to_sparse().to_dense() * 3).sum().backward()
        np.testing.assert_array_equal(_np(x.grad), [[0, 3], [3, 0]])
        v = L.tensor(VAL, requires_grad=True)
        L.sparse_coo_tensor(L.tensor(IDX), v, (3, 3)).coalesce().values().pow(2).sum() \
            .backward()
        np.testing.assert_allclose(_np(v.grad), [8, 8, 10, 8, -4])


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}])
def test_embedding_sparse_gradients_match_pytorch(torch, kw):
    w0 = np.random.RandomState(0).randn(6, 3).astype(np.float32)
    grads = []
    for L in (ember, torch):
        e = L.nn.Embedding(6, 3, sparse=True, **kw)
        with L.no_grad():
            e.weight.copy_(L.tensor(w0))
        (e(L.tensor([[1, 2, 1], [4, 1, 0]])) ** 2).sum().backward()
        g1 = e.weight.grad
        first = (g1._indices().numpy().copy(), g1._values().detach().numpy().copy(),
                 g1.is_coalesced())
        e(L.tensor([3, 1])).sum().backward()
        g2 = e.weight.grad
        grads.append((first, g2._indices().numpy(), _np(g2), g2.is_coalesced()))
    (fe, ie, de, ce), (ft, it, dt, ct) = grads
    np.testing.assert_array_equal(fe[0], ft[0])
    np.testing.assert_allclose(fe[1], ft[1], rtol=1e-6)
    assert fe[2] == ft[2] and ce == ct
    np.testing.assert_array_equal(ie, it)
    np.testing.assert_allclose(de, dt, rtol=1e-6)


def test_embedding_bag_sparse_matches_pytorch(torch):
    w0 = np.random.RandomState(0).randn(6, 3).astype(np.float32)
    out = []
    for L in (ember, torch):
        w = L.tensor(w0, requires_grad=True)
        for mode in ("sum", "mean"):
            L.nn.functional.embedding_bag(L.tensor([1, 2, 4, 5, 4, 3, 2]), w,
                                          L.tensor([0, 2, 4]), mode=mode, sparse=True,
                                          padding_idx=2).pow(2).sum().backward()
        out.append((w.grad.is_sparse, w.grad._indices().numpy(), _np(w.grad)))
    assert out[0][0] and out[1][0]
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-6)


def _emb_trajectory(L, opt_name, kw, steps=4):
    w0 = np.random.RandomState(0).randn(6, 3).astype(np.float32)
    e = L.nn.Embedding(6, 3, sparse=True)
    with L.no_grad():
        e.weight.copy_(L.tensor(w0))
    opt = getattr(L.optim, opt_name)(e.parameters(), **kw)
    batches = [[1, 2, 1, 5], [0, 1, 1], [3, 5, 5, 5]]
    for i in range(steps):
        opt.zero_grad()
        (e(L.tensor(batches[i % 3])) ** 2).sum().backward()
        opt.step()
    return e.weight.detach().numpy().copy()


@pytest.mark.parametrize("name,kw", [
    ("SparseAdam", {"lr": 0.1}),
    ("SparseAdam", {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "foreach": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.3,
                 "maximize": True}),
])
def test_sparse_optimizer_trajectories_match_pytorch(torch, name, kw):
    np.testing.assert_allclose(_emb_trajectory(ember, name, kw),
                               _emb_trajectory(torch, name, kw), rtol=1e-6, atol=1e-6)


def test_sgd_momentum_buffer_layout_matches_pytorch(torch):
    layouts = []
    for L in (ember, torch):
        e = L.nn.Embedding(4, 2, sparse=True)
        opt = L.optim.SGD(e.parameters(), lr=0.1, momentum=0.9)
        e(L.tensor([1, 1])).sum().backward()
        opt.step()
        layouts.append(opt.state[e.weight]["momentum_buffer"].is_sparse)
    assert layouts[0] == layouts[1]


def test_error_messages_match_pytorch(torch):
    cases = [lambda L: _sp(L) + L.ones(3, 3), lambda L: _sp(L).values(),
             lambda L: L.ones(2).is_coalesced(), lambda L: _sp(L).numpy(),
             lambda L: L.sparse_coo_tensor(IDX, VAL[:3]), lambda L: _sp(L).exp(),
             lambda L: L.sparse_coo_tensor(L.tensor([[-1, 0]]), L.tensor([1.0, 2.0]))]
    for i, f in enumerate(cases):
        errs = []
        for L in (ember, torch):
            with pytest.raises(Exception) as ei:
                f(L)
            errs.append(ei.value)
        assert type(errs[0]) is type(errs[1]), (i, errs)
        assert str(errs[0])[:40] == str(errs[1])[:40], (i, errs)


def exercise_records():
    """Run every sparse record forward and backward (tests/test_op_coverage.py's pointer)."""
    test_gradcheck_through_sparse_records()
    _sp().coalesce().indices()


def test_gradcheck_through_sparse_records():
    gradcheck = ember.autograd.gradcheck
    f64 = ember.float64
    idx = ember.tensor(IDX)
    v = ember.tensor(VAL, dtype=f64, requires_grad=True)

    def mk(v):
        return ember.sparse_coo_tensor(idx, v, (3, 3))

    assert gradcheck(lambda v: ember.sparse.sum(mk(v), 1).to_dense(), (v,))
    assert gradcheck(lambda v: ember.sparse.sum(mk(v)), (v,))
    assert gradcheck(lambda v: ember.sparse.softmax(mk(v), 1).to_dense(), (v,))
    assert gradcheck(lambda v: ember.sparse.log_softmax(mk(v), 0).to_dense(), (v,))
    assert gradcheck(lambda v: mk(v).coalesce().values() * 2, (v,))
    b = ember.randn(3, 2, dtype=f64, requires_grad=True)
    assert gradcheck(lambda v, b: ember.sparse.mm(mk(v), b), (v, b))
    assert gradcheck(lambda v, b: ember.mm(mk(v), b), (v, b))
    x = ember.randn(3, 3, dtype=f64, requires_grad=True)  # no zeros: every entry specified
    assert gradcheck(lambda x: (x.to_sparse() * 2).to_dense(), (x,))
    u = ember.randn(5, 3, dtype=f64, requires_grad=True)
    eye = ember.eye(3, dtype=f64)  # u @ eye turns the sparse weight gradient dense for u
    assert gradcheck(lambda u: F.embedding(ember.tensor([[1, 2, 1]]), u @ eye, sparse=True,
                                           padding_idx=0), (u,))
    # second order: the backward records are differentiable (sparse softmax's excepted)
    gradgradcheck = ember.autograd.gradgradcheck
    assert gradgradcheck(lambda v, b: ember.sparse.mm(mk(v), b) ** 2, (v, b))
    assert gradgradcheck(lambda v: ember.sparse.sum(mk(v), 1).to_dense() ** 2, (v,))
    assert gradgradcheck(lambda v: ember.sparse.sum(mk(v)) ** 2, (v,))
    assert gradgradcheck(lambda x: (x.to_sparse() * 2).to_dense() ** 2, (x,))
    assert gradgradcheck(lambda u: F.embedding(ember.tensor([[1, 2, 1]]), u @ eye, sparse=True,
                                               padding_idx=1) ** 2, (u,))
