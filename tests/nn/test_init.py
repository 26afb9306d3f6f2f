"""nn.init (gains, fans, distributions) and nn.utils (clipping, vector conversion)."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import init


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(ember.empty(3, 5)) == (5, 3)
    assert init._calculate_fan_in_and_fan_out(ember.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


def _stats(t):
    d = t.detach().numpy()
    return d.mean(), d.std(), np.abs(d).max()


def test_distributions():
    ember.manual_seed(0)
    t = ember.empty(200, 300)
    _, std, mx = _stats(init.xavier_uniform_(t))
    a = math.sqrt(6 / 500)
    assert mx <= a and abs(std - a / math.sqrt(3)) < 0.02 * a
    _, std, _ = _stats(init.xavier_normal_(t, gain=2.0))
    assert abs(std - 2 * math.sqrt(2 / 500)) < 0.02 * std
    _, std, mx = _stats(init.kaiming_uniform_(t, nonlinearity="relu"))
    bound = math.sqrt(2) * math.sqrt(3 / 300)
    assert mx <= bound and abs(std - bound / math.sqrt(3)) < 0.02 * bound
    _, std, _ = _stats(init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"))
    assert abs(std - math.sqrt(2 / 200)) < 0.02 * std
    m, std, _ = _stats(init.normal_(t, 1.0, 0.5))
    assert abs(m - 1) < 0.01 and abs(std - 0.5) < 0.01
    m, _, mx = _stats(init.uniform_(t, -0.1, 0.1))
    assert mx <= 0.1 and abs(m) < 0.01
    d = init.trunc_normal_(t, std=1.0, a=-0.5, b=1.5).numpy()
    assert d.min() >= -0.5 and d.max() <= 1.5 and d.min() < -0.49 and d.max() > 1.49
    assert init.constant_(t, 0.3).numpy().max() == np.float32(0.3)
    assert init.zeros_(t).numpy().max() == 0 and init.ones_(t).numpy().min() == 1
    p = nn.Parameter(ember.empty(3, 3))
    init.uniform_(p)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_seeded_init_is_reproducible():
    ember.manual_seed(3)
    a = nn.Linear(4, 4).weight.detach().numpy().copy()
    ember.manual_seed(3)
    b = nn.Linear(4, 4).weight.detach().numpy()
    assert np.array_equal(a, b)
    g = ember.Generator().manual_seed(1)
    x = init.normal_(ember.empty(5), generator=g).numpy().copy()
    g.manual_seed(1)
    assert np.array_equal(init.normal_(ember.empty(5), generator=g).numpy(), x)


def test_structured_inits():
    assert init.eye_(ember.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    w = init.dirac_(ember.empty(4, 2, 3))
    assert w[0, 0, 1].item() == 1 and w[1, 1, 1].item() == 1 and w.sum().item() == 2
    w = init.dirac_(ember.empty(4, 2, 3, 3), groups=2)
    assert w.sum().item() == 4 and w[2, 0, 1, 1].item() == 1
    for shape in ((6, 4), (4, 6), (3, 2, 2)):
        q = init.orthogonal_(ember.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        small = q @ q.T if shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-5)
    s = init.sparse_(ember.empty(10, 5), sparsity=0.3).numpy()
    assert all((s[:, c] == 0).sum() >= 3 for c in range(5))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(ember.empty(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(ember.empty(2, 2))


def test_layer_init_matches_torch_distribution():
    torch = pytest.importorskip("torch")
    # the same documented distributions: compare empirical bounds and spread
    for make in (lambda nn_: nn_.Linear(64, 32), lambda nn_: nn_.Bilinear(16, 8, 4),
                 lambda nn_: nn_.Embedding(50, 8)):
        for name, pt in make(torch.nn).named_parameters():
            pe = dict(make(nn).named_parameters())[name]
            a, b = pt.detach().numpy(), pe.detach().numpy()
            assert a.shape == b.shape
            if a.size < 100:
                continue  # too few values for the spread to say anything
            assert abs(a.std() - b.std()) < 0.25 * a.std(), name
            assert abs(np.abs(a).max() - np.abs(b).max()) < 0.5 * np.abs(a).max(), name


# --------------------------------------------------------------------------- nn.utils
def _model_with_grads():
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    for i, p in enumerate(m.parameters()):
        p.grad = ember.full(p.shape, float(i + 1))
    return m


def test_clip_grad_norm():
    m = _model_with_grads()
    grads = [p.grad.numpy().copy() for p in m.parameters()]
    total = math.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))
    out = nn.utils.clip_grad_norm_(m.parameters(), max_norm=1.0)
    assert math.isclose(out.item(), total, rel_tol=1e-6)
    new = math.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum()
                        for p in m.parameters()))
    assert math.isclose(new, 1.0, rel_tol=1e-5)
    m = _model_with_grads()
    inf = nn.utils.clip_grad_norm_(m.parameters(), 100.0, norm_type="inf", foreach=True)
    assert inf.item() == 4.0 and m[1].bias.grad.tolist() == [4.0, 4.0]  # not clipped
    m[0].weight.grad.fill_(float("nan"))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(m.parameters(), 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0


def test_clip_grad_value_and_vectors():
    m = _model_with_grads()
    nn.utils.clip_grad_value_(m.parameters(), 2.5)
    assert max(float(p.grad.max()) for p in m.parameters()) == 2.5
    v = nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (12 + 4 + 8 + 2,)
    nn.utils.vector_to_parameters(ember.arange(26.0), m.parameters())
    assert m[0].bias.tolist() == [12.0, 13.0, 14.0, 15.0]
    assert isinstance(m[0].bias, nn.Parameter)
    with pytest.raises(RuntimeError, match="does not match"):
        nn.utils.vector_to_parameters(ember.zeros(3), m.parameters())


def test_clip_grad_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal(s) for s in ((3, 4), (4,), (2, 4))]
    for norm_type in (2.0, 1.0, 3.0, math.inf):
        tp = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in gs]
        ep = [nn.Parameter(ember.zeros(*g.shape, dtype=ember.float64)) for g in gs]
        for t, e, g in zip(tp, ep, gs):
            t.grad = torch.from_numpy(g.copy())
            e.grad = ember.tensor(g.copy())
        a = torch.nn.utils.clip_grad_norm_(tp, 0.7, norm_type)
        b = nn.utils.clip_grad_norm_(ep, 0.7, norm_type)
        assert math.isclose(a.item(), b.item(), rel_tol=1e-10)
        for t, e in zip(tp, ep):
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10)
