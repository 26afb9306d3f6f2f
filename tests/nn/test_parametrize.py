"""nn.utils.parametrize, nn.utils.parametrizations and the hook-based weight_norm /
spectral_norm.

Tests without the ``torch`` fixture hold hard-coded expectations or NumPy references (the
parametrized value, orthogonality, norms, key layouts); those with it build the same module
in PyTorch, copy state through ``state_dict`` both ways and compare outputs and gradients.
"""

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import parametrizations as P
from ember.nn.utils import parametrize


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Double(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, A):
        return A / 2


class Split(nn.Module):
    """A parametrization of two tensors: W = A + B, right_inverse gives (W, 0)."""

    def forward(self, A, B):
        return A + B

    def right_inverse(self, W):
        return W, ember.zeros_like(W)


# --------------------------------------------------------------------------- parametrize
def test_register_computes_value_and_moves_original():
    m = nn.Linear(3, 3)
    w0 = m.weight.detach().clone().numpy()
    orig = m.weight
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert parametrize.type_before_parametrizations(m) is nn.Linear
    # the same Parameter object now holds right_inverse(w0) = triu(w0)
    assert m.parametrizations.weight.original is orig
    np.testing.assert_allclose(orig.detach().numpy(), np.triu(w0))
    w = np.triu(w0) + np.triu(w0, 1).T
    np.testing.assert_allclose(m.weight.detach().numpy(), w)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    # only the class of this instance changed
    assert type(nn.Linear(2, 2)) is nn.Linear
    assert "ParametrizationList" in repr(m) and repr(m).startswith("ParametrizedLinear(")


def test_gradient_flows_to_original():
    m = nn.Linear(3, 2)
    parametrize.register_parametrization(m, "weight", Double())
    x = ember.randn(4, 3)
    m(x).sum().backward()
    # d/dorig sum(x @ (2 orig).T) = 2 * sum over batch of x
    expect = 2 * np.broadcast_to(x.numpy().sum(0), (2, 3))
    np.testing.assert_allclose(m.parametrizations.weight.original.grad.numpy(), expect,
                               rtol=1e-5)


def test_assignment_runs_right_inverse_and_chaining():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Double())
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert len(m.parametrizations.weight) == 2
    a = np.arange(9, dtype=np.float32).reshape(3, 3)
    sym = a + a.T
    m.weight = ember.from_numpy(sym)
    np.testing.assert_allclose(m.weight.detach().numpy(), sym, rtol=1e-6)
    # original = Double.right_inverse(Symmetric.right_inverse(sym)) = triu(sym) / 2
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(),
                               np.triu(sym) / 2)


def test_assignment_without_right_inverse_raises():
    class NoInverse(nn.Module):
        def forward(self, X):
            return X * 3

    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", NoInverse())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        m.weight = ember.zeros(2, 2)


def test_remove_parametrizations_leave_parametrized_or_not():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Double())
    w = m.weight.detach().clone().numpy()
    orig = m.parametrizations.weight.original.detach().clone().numpy()
    p = m.parametrizations.weight.original
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert m.weight is p and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), w)
    assert list(m.state_dict()) == ["bias", "weight"]

    m2 = nn.Linear(3, 3)
    parametrize.register_parametrization(m2, "weight", Double())
    orig = m2.parametrizations.weight.original.detach().clone().numpy()
    parametrize.remove_parametrizations(m2, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m2.weight.detach().numpy(), orig)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m2, "weight")


def test_sequence_originals():
    m = nn.Linear(2, 3)
    w = m.weight.detach().clone().numpy()
    parametrize.register_parametrization(m, "weight", Split())
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    np.testing.assert_allclose(m.weight.detach().numpy(), w)
    assert isinstance(m.parametrizations.weight.original1, nn.Parameter)
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(m, "weight")
    np.testing.assert_allclose(m.weight.detach().numpy(), w)


def test_buffers_can_be_parametrized():
    m = nn.BatchNorm1d(3)
    parametrize.register_parametrization(m, "running_var", Double())
    assert "parametrizations.running_var.original" in m.state_dict()
    np.testing.assert_allclose(m.running_var.numpy(), np.ones(3))


def test_registration_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(m, "nope", Double())

    class Shrink(nn.Module):
        def forward(self, X):
            return X[0]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    # unsafe skips the check
    m = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink(), unsafe=True)
    assert m.weight.shape == (2,)

    class ToDouble(nn.Module):
        def forward(self, X):
            return X.double()

    with pytest.raises(ValueError, match="may not change the dtype"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", ToDouble())
    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Double())
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(m, "weight", Shrink())
    with pytest.raises(KeyError, match="already exists"):
        m.weight = nn.Parameter(ember.zeros(2, 2))


def test_cached_computes_once():
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X + 1

    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Counting())
    calls.clear()
    with parametrize.cached():
        a = m.weight
        with parametrize.cached():
            b = m.weight
        c = m.weight
    assert len(calls) == 1 and a is b is c
    d = m.weight
    assert len(calls) == 2 and d is not a


def test_deepcopy_and_pickle():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    m2 = copy.deepcopy(m)
    assert type(m2).__name__ == "ParametrizedLinear"
    assert m2.parametrizations.weight.original is not m.parametrizations.weight.original
    np.testing.assert_allclose(m2.weight.detach().numpy(), m.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


def test_module_to_double_and_train_mode_propagate():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    m.double()
    assert m.weight.dtype == ember.float64
    m.eval()
    assert not m.parametrizations.weight[0].training


def test_transfer_parametrizations_and_params():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    other = nn.Linear(3, 3)
    parametrize.transfer_parametrizations_and_params(m, other)
    np.testing.assert_allclose(other.weight.detach().numpy(), m.weight.detach().numpy())


# --------------------------------------------------------------------------- parametrizations
def test_weight_norm_parametrization_values():
    m = P.weight_norm(nn.Linear(4, 3))
    g = m.parametrizations.weight.original0.detach().numpy()
    v = m.parametrizations.weight.original1.detach().numpy()
    assert g.shape == (3, 1) and v.shape == (3, 4)
    np.testing.assert_allclose(g[:, 0], np.linalg.norm(v, axis=1), rtol=1e-6)
    with ember.no_grad():
        m.parametrizations.weight.original0.fill_(2.0)
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), [2.0] * 3, rtol=1e-6)
    m2 = P.weight_norm(nn.Conv2d(2, 3, 3), dim=None)
    assert m2.parametrizations.weight.original0.shape == ()


def test_weight_norm_gradcheck():
    def fn(g, v):
        from ember.nn.utils.weight_norm import _weight_norm
        return _weight_norm(v, g, 1)

    g = ember.rand(1, 3, dtype=ember.float64, requires_grad=True)
    v = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(fn, (g, v))


def test_weight_norm_loads_old_keys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        src = nn.utils.weight_norm(nn.Linear(4, 3))
    sd = src.state_dict()
    assert list(sd) == ["bias", "weight_g", "weight_v"]
    dst = P.weight_norm(nn.Linear(4, 3))
    dst.load_state_dict(sd)
    x = ember.randn(2, 4)
    np.testing.assert_allclose(dst(x).detach().numpy(), src(x).detach().numpy(), rtol=1e-6)


def test_spectral_norm_parametrization_values():
    ember.manual_seed(0)
    m = P.spectral_norm(nn.Linear(6, 5), n_power_iterations=3)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original",
                                    "parametrizations.weight.0._u",
                                    "parametrizations.weight.0._v"]
    for _ in range(10):
        w = m.weight  # training mode: each access refines u, v
    sv = np.linalg.svd(w.detach().numpy(), compute_uv=False)
    np.testing.assert_allclose(sv[0], 1.0, rtol=1e-4)
    u = m.parametrizations.weight[0]._u.clone()
    m.eval()
    _ = m.weight
    np.testing.assert_array_equal(m.parametrizations.weight[0]._u.numpy(), u.numpy())
    with pytest.raises(ValueError, match="n_power_iterations"):
        P.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        P.spectral_norm(nn.Linear(2, 2), dim=3)
    ct = P.spectral_norm(nn.ConvTranspose2d(2, 3, 3))
    # ConvTranspose weight is (in, out, k, k): the default dim is 1, so u has `out` entries
    assert ct.parametrizations.weight[0]._u.shape == (3,)


@pytest.mark.parametrize("shape,mp", [((4, 4), None), ((5, 3), "cayley"), ((3, 5), None),
                                      ((5, 3), "matrix_exp"), ((2, 4, 3), "householder")])
def test_orthogonal_is_orthogonal_and_assignable(shape, mp):
    m = nn.Module()
    m.weight = nn.Parameter(ember.randn(*shape))
    P.orthogonal(m, orthogonal_map=mp)
    w = m.weight.detach().numpy()
    n, k = shape[-2:]
    gram = w @ np.swapaxes(w, -1, -2) if n < k else np.swapaxes(w, -1, -2) @ w
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(min(n, k)), gram.shape), atol=1e-5)
    # assigning an orthogonal matrix makes the parametrized value equal to it
    q = np.linalg.qr(np.random.default_rng(0).standard_normal(shape if n >= k else
                                                              shape[:-2] + (k, n)))[0]
    q = (q if n >= k else np.swapaxes(q, -1, -2)).astype(np.float32)
    m.weight = ember.from_numpy(q)
    np.testing.assert_allclose(m.weight.detach().numpy(), q, atol=1e-5)
    # gradients reach the original
    (m.weight * ember.from_numpy(q)).sum().backward()
    assert m.parametrizations.weight.original.grad is not None


def test_orthogonal_errors_and_no_trivialization():
    with pytest.raises(ValueError, match="matrix or batch of matrices"):
        P.orthogonal(nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        P.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    m = P.orthogonal(nn.Linear(3, 3), use_trivialization=False)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m.weight = ember.eye(3)
    m = P.orthogonal(nn.Linear(3, 5), orthogonal_map="householder", use_trivialization=False)
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-5)


# --------------------------------------------------------------------------- hook-based
def test_old_weight_norm_keys_and_remove():
    with pytest.warns(FutureWarning):
        m = nn.utils.weight_norm(nn.Linear(4, 3))
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert m.weight_g.shape == (3, 1)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(m)
    x = ember.randn(2, 4)
    with ember.no_grad():
        m.weight_g.mul_(3.0)
    y = m(x).detach().numpy()
    nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m(x).detach().numpy(), y, rtol=1e-5)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)


def test_old_spectral_norm_keys_metadata_and_remove():
    m = nn.utils.spectral_norm(nn.Linear(4, 3))
    sd = m.state_dict()
    assert list(sd) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert sd._metadata[""]["spectral_norm"] == {"weight.version": 1}
    for _ in range(20):
        m(ember.randn(1, 4))
    np.testing.assert_allclose(np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)[0],
                               1.0, rtol=1e-4)
    nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert not m._state_dict_hooks and not m._load_state_dict_pre_hooks
    assert not m._forward_pre_hooks


def test_old_spectral_norm_upgrades_version0_checkpoint():
    src = nn.utils.spectral_norm(nn.Linear(4, 3))
    src(ember.randn(1, 4))  # a training forward: u = normalize(W_orig v)
    sd = src.state_dict()
    want = src.weight.detach().numpy()
    # a version-0 checkpoint saved `weight` and not `weight_v`
    old = OrderedDict((k, v) for k, v in sd.items() if k != "weight_v")
    old["weight"] = src.weight.detach()
    old._metadata = OrderedDict({"": {"version": 1}})
    dst = nn.utils.spectral_norm(nn.Linear(4, 3))
    dst.load_state_dict(old)
    dst.eval()
    dst(ember.randn(1, 4))
    np.testing.assert_allclose(dst.weight.detach().numpy(), want, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- against PyTorch
def _to_torch(sd, torch):
    out = OrderedDict((k, torch.from_numpy(np.array(v.numpy()))) for k, v in sd.items())
    if hasattr(sd, "_metadata"):
        out._metadata = copy.deepcopy(sd._metadata)
    return out


def _to_ember(sd):
    out = OrderedDict((k, ember.from_numpy(v.detach().numpy().copy())) for k, v in sd.items())
    if hasattr(sd, "_metadata"):
        out._metadata = copy.deepcopy(sd._metadata)
    return out


def _grads(m):
    return {k: p.grad.numpy() for k, p in m.named_parameters() if p.grad is not None}


CASES = {
    "wn_linear": (lambda L: L.nn.Linear(5, 4), lambda m, u: u.parametrizations.weight_norm(m)),
    "wn_conv_dimNone": (lambda L: L.nn.Conv2d(2, 3, 3),
                        lambda m, u: u.parametrizations.weight_norm(m, dim=None)),
    "wn_conv_dim1": (lambda L: L.nn.Conv2d(2, 3, 3),
                     lambda m, u: u.parametrizations.weight_norm(m, dim=1)),
    "sn_linear": (lambda L: L.nn.Linear(5, 4),
                  lambda m, u: u.parametrizations.spectral_norm(m, n_power_iterations=2)),
    "sn_convT": (lambda L: L.nn.ConvTranspose2d(2, 3, 3),
                 lambda m, u: u.parametrizations.spectral_norm(m)),
    "orth_exp": (lambda L: L.nn.Linear(4, 4), lambda m, u: u.parametrizations.orthogonal(m)),
    "orth_cayley": (lambda L: L.nn.Linear(5, 3),
                    lambda m, u: u.parametrizations.orthogonal(m, orthogonal_map="cayley")),
    "orth_householder": (lambda L: L.nn.Linear(3, 5),
                         lambda m, u: u.parametrizations.orthogonal(m)),
    "orth_householder_notriv": (
        lambda L: L.nn.Linear(3, 5),
        lambda m, u: u.parametrizations.orthogonal(m, use_trivialization=False)),
    "old_wn": (lambda L: L.nn.Linear(5, 4), lambda m, u: u.weight_norm(m)),
    "old_wn_conv_dimNone": (lambda L: L.nn.Conv2d(2, 3, 3),
                            lambda m, u: u.weight_norm(m, dim=None)),
    "old_sn": (lambda L: L.nn.Linear(5, 4), lambda m, u: u.spectral_norm(m)),
    "old_sn_convT": (lambda L: L.nn.ConvTranspose2d(2, 3, 3), lambda m, u: u.spectral_norm(m)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_against_torch(case, torch):
    make, wrap = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        em, tm = wrap(make(ember), nn.utils), wrap(make(torch), torch.nn.utils)
        tm2 = wrap(make(torch), torch.nn.utils)
    assert type(em).__name__ == type(tm).__name__
    tsd = tm.state_dict()
    assert list(em.state_dict()) == list(tsd)
    em.load_state_dict(_to_ember(tsd))
    # eval: frozen power-iteration vectors, so both runs use the loaded ones
    em.eval()
    tm.eval()
    tm2.eval()
    rng = np.random.default_rng(1)
    shape = (2, tm.in_features) if isinstance(tm, torch.nn.Linear) else (2, 2, 6, 6)
    x = rng.standard_normal(shape).astype(np.float32)
    ye, yt = em(ember.from_numpy(x)), tm(torch.from_numpy(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    ye.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    ge, gt = _grads(em), _grads(tm)
    assert sorted(ge) == sorted(gt)
    for k in gt:
        scale = np.abs(gt[k]).max() + 1e-6
        np.testing.assert_allclose(ge[k] / scale, gt[k] / scale, atol=1e-4, err_msg=k)
    # ember -> torch
    tm2.load_state_dict(_to_torch(em.state_dict(), torch))
    np.testing.assert_allclose(tm2(torch.from_numpy(x)).detach().numpy(),
                               yt.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_training_mode_power_iteration_matches_torch(torch):
    em = P.spectral_norm(nn.Linear(5, 4), n_power_iterations=3)
    tm = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(5, 4),
                                                       n_power_iterations=3)
    em.load_state_dict(_to_ember(tm.state_dict()))
    for _ in range(3):
        we, wt = em.weight, tm.weight
        np.testing.assert_allclose(we.detach().numpy(), wt.detach().numpy(), rtol=1e-4)
    np.testing.assert_allclose(em.parametrizations.weight[0]._u.numpy(),
                               tm.parametrizations.weight[0]._u.numpy(), rtol=1e-4, atol=1e-6)


def test_old_weight_norm_checkpoint_from_torch_into_parametrization(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        tm = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3))
    em = P.weight_norm(nn.Linear(4, 3))
    em.load_state_dict(_to_ember(tm.state_dict()))
    x = np.ones((1, 4), np.float32)
    np.testing.assert_allclose(em(ember.from_numpy(x)).detach().numpy(),
                               tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5)


def test_torch_right_inverse_assignment_matches(torch):
    rng = np.random.default_rng(2)
    q = np.linalg.qr(rng.standard_normal((4, 4)))[0].astype(np.float32)
    em = P.orthogonal(nn.Linear(4, 4), orthogonal_map="cayley")
    tm = torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(4, 4),
                                                    orthogonal_map="cayley")
    em.weight = ember.from_numpy(q)
    with torch.no_grad():
        tm.weight = torch.from_numpy(q)
    np.testing.assert_allclose(em.parametrizations.weight.original.detach().numpy(),
                               tm.parametrizations.weight.original.detach().numpy())
    np.testing.assert_allclose(em.weight.detach().numpy(), tm.weight.detach().numpy(),
                               atol=1e-5)
