"""Layers: outputs and gradients against PyTorch (weights copied through state_dict), gradcheck
of the functional forms in float64, and torch-free checks (running statistics, dropout
statistics and seeding, init bounds, errors)."""

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

# (class name, ctor args, ctor kwargs, input shape, integer input?, train mode)
LAYERS = [
    ("Linear", (4, 3), {}, (2, 5, 4), False, True),
    ("Linear", (4, 3), {"bias": False}, (5, 4), False, True),
    ("BatchNorm1d", (4,), {}, (6, 4), False, True),
    ("BatchNorm1d", (4,), {"affine": False}, (6, 4, 3), False, True),
    ("BatchNorm2d", (3,), {"momentum": None}, (4, 3, 2, 2), False, True),
    ("BatchNorm2d", (3,), {}, (4, 3, 2, 2), False, False),
    ("BatchNorm3d", (2,), {"track_running_stats": False}, (2, 2, 2, 2, 2), False, True),
    ("LayerNorm", ((3, 4),), {}, (2, 3, 4), False, True),
    ("LayerNorm", (4,), {"bias": False}, (2, 4), False, True),
    ("GroupNorm", (2, 4), {}, (2, 4, 3), False, True),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 5), False,
     True),
    ("InstanceNorm2d", (3,), {}, (2, 3, 5, 4), False, True),
    ("InstanceNorm2d", (3,), {"affine": True}, (3, 5, 4), False, True),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4), False, True),
    ("Embedding", (10, 3), {"padding_idx": 1}, (4, 5), True, True),
    ("Embedding", (10, 3), {"scale_grad_by_freq": True}, (4, 5), True, True),
    ("EmbeddingBag", (10, 3), {"mode": "max"}, (4, 5), True, True),
    ("EmbeddingBag", (10, 3), {"mode": "sum"}, (4, 5), True, True),
    ("EmbeddingBag", (10, 3), {"padding_idx": 2}, (4, 5), True, True),
    ("Dropout", (0.3,), {}, (3, 4), False, False),
    ("Flatten", (), {}, (2, 3, 4), False, True),
] + [(n, (), {}, (3, 4), False, True) for n in [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Softplus", "Softsign", "Hardtanh", "Hardswish", "Hardsigmoid", "Tanhshrink", "Softshrink",
    "Hardshrink", "Sigmoid", "Tanh", "LogSigmoid", "GLU"]] + [
    ("Softmax", (), {"dim": 1}, (3, 4), False, True),
    ("LogSoftmax", (), {"dim": 0}, (3, 4), False, True),
    ("Softmin", (), {"dim": -1}, (3, 4), False, True),
    ("GELU", (), {"approximate": "tanh"}, (3, 4), False, True),
    ("Softplus", (), {"beta": 2, "threshold": 1}, (3, 4), False, True),
    ("CELU", (), {"alpha": 0.5}, (3, 4), False, True),
    ("ELU", (), {"alpha": 0.3}, (3, 4), False, True),
    ("LeakyReLU", (), {"negative_slope": 0.2}, (3, 4), False, True),
    ("Threshold", (0.1, 2.0), {}, (3, 4), False, True),
    ("PReLU", (3,), {}, (2, 3, 4), False, True),
]


@pytest.mark.parametrize("name,args,kw,shape,integer,train", LAYERS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYERS)])
def test_layer_matches_torch(name, args, kw, shape, integer, train):
    torch = pytest.importorskip("torch")
    t = getattr(torch.nn, name)(*args, **kw).double()
    e = getattr(nn, name)(*args, **kw).double()
    assert list(t.state_dict()) == list(e.state_dict())
    assert repr(t) == repr(e)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    t.train(train)
    e.train(train)
    rng = np.random.default_rng(0)
    if integer:
        x = rng.integers(0, 10, shape)
        xt, xe = torch.from_numpy(x), ember.tensor(x)
    else:
        x = rng.standard_normal(shape)
        xt = torch.from_numpy(x).requires_grad_()
        xe = ember.tensor(x, requires_grad=True)
    yt, ye = t(xt), e(xe)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.from_numpy(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-12, rtol=1e-7)
    if not integer:
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=1e-12, rtol=1e-7)
    for (n1, p1), (n2, p2) in zip(t.named_parameters(), e.named_parameters()):
        assert n1 == n2
        np.testing.assert_allclose(p2.grad.numpy(), p1.grad.numpy(), atol=1e-12, rtol=1e-7)
    for (n1, b1), (_, b2) in zip(t.named_buffers(), e.named_buffers()):
        np.testing.assert_allclose(b2.numpy(), b1.numpy(), atol=1e-12, err_msg=n1)
    # and back: ember's state_dict loads into torch
    t.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in e.state_dict().items()})


def test_bilinear_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.nn.Bilinear(3, 4, 2).double()
    e = nn.Bilinear(3, 4, 2).double()
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    a, b = np.random.default_rng(1).standard_normal((2, 5, 3)), np.ones((2, 5, 4))
    np.testing.assert_allclose(e(ember.tensor(a), ember.tensor(b)).detach().numpy(),
                               t(torch.from_numpy(a), torch.from_numpy(b)).detach().numpy(),
                               atol=1e-12)


def test_embedding_max_norm_and_from_pretrained_match_torch():
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(2).standard_normal((6, 3)) * 3
    t = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), max_norm=1.0)
    e = nn.Embedding.from_pretrained(ember.tensor(w.copy()), max_norm=1.0)
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    np.testing.assert_allclose(e(ember.tensor(idx)).numpy(),
                               t(torch.from_numpy(idx)).numpy(), atol=1e-12)
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-12)
    assert not e.weight.requires_grad


def test_embedding_bag_offsets_matches_torch():
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(3).standard_normal((10, 3))
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    for mode in ("sum", "mean", "max"):
        for offs, last in (([0, 3, 3, 6], False), ([0, 4, 8], True)):
            psw = np.linspace(0.5, 2, 8) if mode == "sum" else None
            wt = torch.from_numpy(w.copy()).requires_grad_()
            we = ember.tensor(w.copy(), requires_grad=True)
            yt = torch.nn.functional.embedding_bag(
                torch.from_numpy(idx), wt, torch.tensor(offs), mode=mode,
                include_last_offset=last,
                per_sample_weights=None if psw is None else torch.from_numpy(psw))
            ye = F.embedding_bag(ember.tensor(idx), we, ember.tensor(offs), mode=mode,
                                 include_last_offset=last,
                                 per_sample_weights=None if psw is None else ember.tensor(psw))
            np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-12)
            yt.sum().backward()
            ye.sum().backward()
            np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), atol=1e-12)


# --------------------------------------------------------------------------- gradcheck
def _x(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape) * 1.5,
                        dtype=ember.float64, requires_grad=True)


ACTIVATIONS = [
    lambda x: F.relu6(x * 4), lambda x: F.leaky_relu(x, 0.2), F.elu, F.selu,
    lambda x: F.celu(x, 0.7), F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.silu, F.mish,
    lambda x: F.softplus(x, 2.0, 1.0), F.softsign, lambda x: F.hardtanh(x, -0.5, 0.5),
    F.hardswish, F.hardsigmoid, F.tanhshrink, F.softshrink, F.hardshrink, F.logsigmoid,
    lambda x: F.softmax(x, 1), lambda x: F.log_softmax(x, 0), lambda x: F.softmin(x, 1),
    F.glu, lambda x: F.threshold(x, 0.1, -1.0),
]


@pytest.mark.parametrize("fn", ACTIVATIONS, ids=range(len(ACTIVATIONS)))
def test_activation_gradcheck(fn):
    x = _x(3, 4)
    # keep away from the kinks, where finite differences are meaningless
    x.data.copy_(x.data + 0.05 * (x.data.abs() < 0.06).to(x.dtype))
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [F.gelu, F.silu, F.mish, F.elu, F.softplus, F.logsigmoid,
                                lambda x: F.leaky_relu(x, 0.1), F.hardswish])
def test_activation_double_backward(fn):
    assert gradgradcheck(fn, (_x(2, 3),))


def test_functional_layers_gradcheck():
    w, b = _x(3, 4, seed=1), _x(3, seed=2)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (_x(2, 4), w, b))
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b), (_x(2, 4), w, b))
    assert gradcheck(lambda a, c, w: F.bilinear(a, c, w), (_x(2, 3), _x(2, 2), _x(2, 3, 2)))
    g, bb = _x(3, seed=3), _x(3, seed=4)
    assert gradcheck(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
                     (_x(4, 3, 2), g, bb))
    assert gradgradcheck(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
                         (_x(4, 3), g, bb))
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64) * 2
    assert gradcheck(lambda x, g, b: F.batch_norm(x, rm, rv, g, b), (_x(4, 3), g, bb))
    lw, lb = _x(2, 3, seed=5), _x(2, 3, seed=6)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (_x(2, 2, 3), lw, lb))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (_x(2, 2, 3), lw, lb))
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (_x(2, 4, 3), _x(4), _x(4)))
    assert gradcheck(lambda x: F.instance_norm(x), (_x(2, 3, 4),))
    assert gradcheck(lambda x: F.local_response_norm(x, 3), (_x(2, 4, 3),))
    assert gradcheck(lambda x, w: F.prelu(x, w), (_x(2, 3, 2), _x(3)))
    assert gradcheck(lambda x: F.normalize(x, dim=1), (_x(3, 4),))
    assert gradcheck(lambda a, c: F.cosine_similarity(a, c), (_x(3, 4), _x(3, 4, seed=7)))
    assert gradcheck(lambda a, c: F.pairwise_distance(a, c), (_x(3, 4), _x(3, 4, seed=8)))
    idx = ember.tensor([[0, 2, 2], [4, 1, 0]])
    assert gradcheck(lambda w: F.embedding(idx, w), (_x(5, 3),))
    w = _x(5, 3)
    F.embedding(idx, w, padding_idx=0).sum().backward()  # the padding row gets no gradient
    assert w.grad[0].abs().sum().item() == 0 and w.grad[2].tolist() == [2.0, 2.0, 2.0]
    assert gradgradcheck(lambda w: F.embedding(idx, w) ** 2, (_x(5, 3),))
    assert gradcheck(lambda w: F.embedding_bag(idx, w, mode="mean"), (_x(5, 3),))


# --------------------------------------------------------------------------- no torch needed
def test_linear_init_distribution_and_shapes():
    ember.manual_seed(0)
    m = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    assert m.weight.shape == (50, 100) and m.bias.shape == (50,)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    # U(-b, b) has std b / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    assert m.weight.dtype == ember.float32
    assert nn.Linear(2, 3, dtype=ember.float64).weight.dtype == ember.float64
    e = nn.Embedding(1000, 20, padding_idx=3)
    assert abs(e.weight.detach().numpy().std() - 1) < 0.05
    assert e.weight[3].abs().sum().item() == 0


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"input shape \[2, 5\].*weight shape \[3, 4\]"):
        nn.Linear(4, 3)(ember.randn(2, 5))
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.Linear(4, 3)(ember.randn(2, 4, dtype=ember.float64))


def test_batchnorm_running_stats_hand_computed():
    bn = nn.BatchNorm1d(2, momentum=0.5)
    x = ember.tensor([[1.0, 2.0], [3.0, 6.0]])
    y = bn(x)
    # batch mean [2, 4], biased var [1, 4], unbiased var [2, 8]
    np.testing.assert_allclose(bn.running_mean.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(bn.running_var.numpy(), [0.5 + 1.0, 0.5 + 4.0])
    np.testing.assert_allclose(y.detach().numpy(), [[-1, -1], [1, 1]], atol=1e-4)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y = bn(x)
    np.testing.assert_allclose(y.detach().numpy()[:, 0], (np.array([1, 3]) - 1) /
                               np.sqrt(1.5 + 1e-5), rtol=1e-6)
    cum = nn.BatchNorm1d(1, momentum=None)
    for v in ([[0.0], [2.0]], [[4.0], [6.0]], [[8.0], [10.0]]):
        cum(ember.tensor(v))
    np.testing.assert_allclose(cum.running_mean.numpy(), [5.0])  # mean of 1, 5, 9
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(2)(ember.ones(1, 2))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(2)(ember.ones(3, 2))


def test_layer_group_norm_normalise():
    x = ember.randn(4, 6, 5) * 3 + 2
    y = nn.LayerNorm(5)(x).detach().numpy()
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-3)
    y = nn.GroupNorm(3, 6)(x).detach().numpy().reshape(4, 3, -1)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-5)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[\*, 4\]"):
        F.layer_norm(x, (4,))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)


def test_dropout_train_eval_and_seed():
    x = ember.ones(1000, 100)
    d = nn.Dropout(0.25)
    ember.manual_seed(7)
    a = d(x).numpy()
    ember.manual_seed(7)
    b = d(x).numpy()
    assert np.array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((a == 0).mean() - 0.25) < 0.01
    assert d.eval()(x) is x
    y = nn.Dropout2d(0.5)(ember.ones(8, 16, 3, 3)).numpy()
    assert np.all((y == y[:, :, :1, :1]))  # whole channels
    z = nn.AlphaDropout(0.2).train()(ember.randn(20000))
    assert abs(float(z.mean())) < 0.05 and abs(float(z.std()) - 1) < 0.05
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    assert F.dropout(x, 1.0).sum().item() == 0


def test_inplace_activations_modify_input():
    x = ember.tensor([-1.0, 0.5, 2.0])
    y = nn.ReLU(inplace=True)(x)
    assert y is x and x.tolist() == [0.0, 0.5, 2.0]
    x = ember.tensor([-1.0, 2.0])
    nn.LeakyReLU(0.5, inplace=True)(x)
    assert x.tolist() == [-0.5, 2.0]
    x = ember.tensor([-8.0, 8.0])
    nn.ReLU6(inplace=True)(x)
    assert x.tolist() == [0.0, 6.0]
    # in place on a non-leaf still back-propagates
    a = ember.tensor([-1.0, 2.0], requires_grad=True)
    F.elu(a * 1, inplace=True).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [math.exp(-1), 1.0], rtol=1e-6)


def test_activation_values_hand_computed():
    x = ember.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(F.hardswish(x).numpy(), [-2 / 6, 0, 3], rtol=1e-6)
    np.testing.assert_allclose(F.softshrink(x, 1).numpy(), [-1, 0, 2])
    np.testing.assert_allclose(F.softplus(ember.tensor([100.0])).numpy(), [100.0])
    np.testing.assert_allclose(F.logsigmoid(ember.tensor([-200.0])).numpy(), [-200.0])
    np.testing.assert_allclose(F.gelu(ember.tensor([1.0])).numpy(), [0.8413447], rtol=1e-6)
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(ember.ones(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        F.softmax(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(x, approximate="fast")


def test_one_hot_normalize_distances():
    assert F.one_hot(ember.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ember.tensor([0.0]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ember.tensor([3]), 2)
    np.testing.assert_allclose(F.normalize(ember.tensor([[3.0, 4.0]])).numpy(), [[0.6, 0.8]])
    np.testing.assert_allclose(
        nn.PairwiseDistance(eps=0)(ember.zeros(1, 2), ember.tensor([[3.0, 4.0]])).numpy(), [5])
    np.testing.assert_allclose(
        nn.CosineSimilarity()(ember.tensor([[1.0, 0.0]]), ember.tensor([[1.0, 1.0]])).numpy(),
        [1 / math.sqrt(2)], rtol=1e-6)


def test_embedding_errors():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index out of range"):
        emb(ember.tensor([5]))
    with pytest.raises(RuntimeError, match="Long, Int"):
        emb(ember.tensor([1.0]))
    bag = nn.EmbeddingBag(5, 2, mode="sum")
    out = bag(ember.tensor([1, 2, 3]), ember.tensor([0, 1, 1]))
    assert out.shape == (3, 2) and out[1].abs().sum().item() == 0  # empty bag


def test_lazy_linear_and_prelu():
    m = nn.LazyLinear(3)
    y = m(ember.randn(2, 7))
    assert y.shape == (2, 3) and type(m) is nn.Linear and m.weight.shape == (3, 7)
    p = nn.PReLU()
    assert p.weight.tolist() == [0.25]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert p(ember.tensor([-4.0])).tolist() == [-1.0]


def test_embedding_bag_last_offset_ends_the_last_bag():
    # offsets[-1] < len(input) with include_last_offset (outside PyTorch's CSR contract):
    # the indices past it belong to no bag, in every mode. PyTorch's CPU kernel drops them
    # from sums but counts them in means and maxes, so only "sum" is compared with it.
    w = ember.randn(10, 3)
    inp, off = ember.tensor([1, 2, 3, 4, 5, 6]), ember.tensor([0, 2, 4])
    for mode in ("sum", "mean", "max"):
        got = F.embedding_bag(inp, w, off, mode=mode, include_last_offset=True)
        want = F.embedding_bag(inp[:4], w, off[:2], mode=mode)
        assert ember.equal(got, want), mode
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.embedding_bag(torch.tensor(inp.numpy()), torch.tensor(w.numpy()),
                                            torch.tensor(off.numpy()), mode="sum",
                                            include_last_offset=True)
    assert np.allclose(ref.numpy(), F.embedding_bag(inp, w, off, mode="sum",
                                                    include_last_offset=True).numpy())
