"""ember.func: grad/vjp/jvp/jacrev/jacfwd/hessian/linearize, vmap (rules, nesting, pytrees,
randomness, errors), functional_call and stack_module_state, against PyTorch's torch.func
where installed and against loops and closed forms otherwise."""

import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.func import (functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp,
                        linearize, stack_module_state, vjp, vmap)


def _t(a, dtype=np.float64):
    return ember.tensor(np.asarray(a, dtype=dtype))


def _f(x):
    return (x.sin() * x.exp()).sum() + (x ** 3).prod()


# ---------------------------------------------------------------------- grad family
def test_grad_values_and_detachment():
    x = _t([0.3, -1.2, 0.7])
    g = grad(_f)(x)
    xr = x.detach().requires_grad_()
    (ref,) = ember.autograd.grad(_f(xr), xr)
    assert ember.allclose(g, ref)
    assert not g.requires_grad  # no outer graph: detached, as torch.func
    with ember.no_grad():  # transforms enable grad inside
        assert ember.allclose(grad(_f)(x), ref)


def test_grad_argnums_has_aux_and_pytrees():
    def f(a, b):
        return (a["w"] * b).sum() + a["c"][0].sum() ** 2, {"aux": b * 2}

    a = {"w": _t([1.0, 2.0]), "c": (_t([3.0]),)}
    b = _t([5.0, 7.0])
    (ga, gb), aux = grad(f, argnums=(0, 1), has_aux=True)(a, b)
    assert ga["w"].tolist() == [5.0, 7.0] and ga["c"][0].tolist() == [6.0]
    assert gb.tolist() == [1.0, 2.0] and aux["aux"].tolist() == [10.0, 14.0]
    g, (v, aux2) = grad_and_value(lambda x: ((x ** 2).sum(), x), has_aux=True)(b)
    assert v.item() == 74.0 and g.tolist() == [10.0, 14.0] and aux2 is not None


def test_grad_errors_as_pytorch():
    x = _t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="Got argnum=2, but only 1 positional inputs"):
        grad(_f, argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        grad(_f, argnums=())(x)
    with pytest.raises(RuntimeError, match="output of function f should be a tuple"):
        grad(_f, has_aux=True)(x)
    with pytest.raises(ValueError, match="must be Tensor"):
        grad(lambda x: x, argnums=0)(3.0)


def test_nested_grad_and_closures():
    x = _t([0.5, 1.5])
    # second derivative of sum(x^4): 12 x^2, by grad of grad
    g2 = grad(lambda x: grad(lambda y: (y ** 4).sum())(x).sum())(x)
    assert np.allclose(g2.numpy(), 12 * x.numpy() ** 2)
    # a closure over a tensor that requires grad keeps the outer graph (composes with autograd)
    w = _t([2.0, 3.0]).requires_grad_()
    g = grad(lambda x: (w * x ** 2).sum())(x)
    assert g.requires_grad
    (gw,) = ember.autograd.grad(g.sum(), w)
    assert np.allclose(gw.numpy(), 2 * x.numpy())


def test_vjp_and_linearize():
    x = _t([0.1, 0.2, 0.3])
    out, fn = vjp(lambda x: (x.sin(), x * 2), x)
    (g,) = fn((ember.ones(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)))
    assert np.allclose(g.numpy(), np.cos(x.numpy()) + 2)
    with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
        fn(ember.ones(3, dtype=ember.float64))
    out, jfn = linearize(lambda x: x.exp(), x)
    t = _t([1.0, 0.0, 2.0])
    assert np.allclose(jfn(t).numpy(), np.exp(x.numpy()) * t.numpy())
    assert np.allclose(jfn(t).numpy(), jvp(lambda x: x.exp(), (x,), (t,))[1].numpy())


def test_jvp_errors():
    x = _t([1.0])
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(ember.sin, x, (x,))
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp(ember.sin, (x,), (x, x))
    with pytest.raises(RuntimeError, match="strict is not supported"):
        jvp(ember.sin, (x,), (x,), strict=True)
    out, t = jvp(lambda x: ember.ones(2, dtype=ember.float64), (x,), (x,))
    assert t.tolist() == [0.0, 0.0]  # output independent of the input: zero tangent


def test_jacobians_and_hessian_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal(4)
    w = rng.standard_normal((3, 4))

    def f(m, x, W):
        return m.tanh(W @ x) * x[:3] + (x ** 2).sum()

    xe, we = _t(a), _t(w)
    xt, wt = torch.tensor(a), torch.tensor(w)
    for ours, theirs in ((jacrev, torch.func.jacrev), (jacfwd, torch.func.jacfwd)):
        je = ours(lambda x, W: f(ember, x, W), argnums=(0, 1))(xe, we)
        jt = theirs(lambda x, W: f(torch, x, W), argnums=(0, 1))(xt, wt)
        for e, t in zip(je, jt):
            assert e.shape == tuple(t.shape)
            assert np.allclose(e.numpy(), t.numpy(), atol=1e-10)
    he = hessian(lambda x: f(ember, x, we).sum())(xe)
    ht = torch.func.hessian(lambda x: f(torch, x, wt).sum())(xt)
    assert np.allclose(he.numpy(), ht.numpy(), atol=1e-10)
    jj = jacrev(jacrev(lambda x: f(ember, x, we).sum()))(xe)
    assert np.allclose(jj.numpy(), ht.numpy(), atol=1e-10)
    jc = jacrev(lambda x: f(ember, x, we), chunk_size=1)(xe)
    assert np.allclose(jc.numpy(), torch.func.jacrev(lambda x: f(torch, x, wt))(xt).numpy())
    with pytest.raises(ValueError, match="chunk_size"):
        jacrev(ember.sin, chunk_size=0)


# ---------------------------------------------------------------------- vmap
def test_vmap_rules_match_loops():
    rng = np.random.default_rng(1)
    x = _t(rng.standard_normal((5, 3, 4)))
    y = _t(rng.standard_normal((4, 2)))
    fns = [
        lambda a: (a.exp() * 2 - a).sum(1),
        lambda a: a @ y,
        lambda a: a.t().reshape(-1)[:5],
        lambda a: ember.cat([a, a * 2], 0).softmax(-1),
        lambda a: a.max(0).values + a.mean(),
        lambda a: ember.stack([a[0], a[1]]).permute(1, 0).flatten(),
        lambda a: ember.where(a > 0, a, -a).cumsum(1),
        lambda a: F.linear(a, y.t(), y[0]),
        lambda a: a[:, 1:3].unsqueeze(0).expand(2, 3, 2).sum(),
    ]
    for f in fns:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = vmap(f)(x)
        want = ember.stack([f(x[i]) for i in range(5)])
        assert got.shape == want.shape and ember.allclose(got, want), f


def test_vmap_in_dims_out_dims_pytrees():
    x = _t(np.arange(12.0).reshape(3, 4))
    d = {"a": x, "b": (x.t(),)}
    out = vmap(lambda d, s: ({"s": d["a"] + d["b"][0] * s}, d["a"].sum()),
               in_dims=({"a": 0, "b": (1,)}, None), out_dims=({"s": 1}, 0))(d, 2.0)
    assert out[0]["s"].shape == (4, 3)
    assert ember.allclose(out[0]["s"], (x * 3).t()) and out[1].tolist() == [6.0, 22.0, 38.0]
    with pytest.raises(ValueError, match="`out_dims` must be an int, None or a python"):
        vmap(lambda a: a, out_dims=[0])(x)
    # unbatched outputs are expanded along out_dims; in_dims=1 and negative dims
    o = vmap(lambda a: (a.sum(), ember.ones(2)), in_dims=-1, out_dims=(0, 1))(x)
    assert o[0].tolist() == [12.0, 15.0, 18.0, 21.0] and o[1].shape == (2, 4)
    assert vmap(lambda a: (a * 2, 7), out_dims=(0, None))(x)[1] == 7


def test_vmap_nested_and_chunks():
    x = _t(np.arange(24.0).reshape(2, 3, 4))
    got = vmap(vmap(lambda a: (a ** 2).sum()))(x)
    assert got.tolist() == (x ** 2).sum(-1).tolist()
    outer = vmap(lambda a, b: vmap(lambda c: c * b.sum(), in_dims=1)(a), in_dims=(0, 0))
    b = _t(np.ones((2, 5)))
    r = outer(x, b)
    assert r.shape == (2, 4, 3) and ember.allclose(r, x.transpose(1, 2) * 5)
    assert ember.allclose(vmap(ember.exp, chunk_size=2)(x), x.exp())


def test_vmap_errors_as_pytorch():
    x = ember.ones(3, 2)
    with pytest.raises(ValueError, match="in_dim must be either an integer dimension or None"):
        vmap(ember.sin, in_dims=(1.5,))(x)
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a"):
        vmap(ember.sin, in_dims=[0])(x)
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        vmap(ember.add, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(lambda a: a, in_dims=0)(3.0)
    with pytest.raises(ValueError, match="expected in_dim to satisfy -2 <= in_dim < 2"):
        vmap(ember.sin, in_dims=2)(x)
    with pytest.raises(ValueError, match="same size in the mapped dimension, got sizes"):
        vmap(ember.add)(x, ember.ones(4, 2))
    with pytest.raises(ValueError, match="at least one Tensor to vmap over"):
        vmap(ember.sin, in_dims=None)(x)
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda a: 3)(x)
    with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim is None"):
        vmap(lambda a: a, out_dims=None)(x)
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(ember.sin, randomness="maybe")
    with pytest.raises(RuntimeError, match=r"\.item\(\)"):
        vmap(lambda a: a.sum().item())(x)


def test_vmap_randomness():
    x = ember.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda a: a + ember.rand(3))(x)
    same = vmap(lambda a: a + ember.rand(3), randomness="same")(x)
    assert all(ember.equal(same[0], same[i]) for i in range(4))
    diff = vmap(lambda a: a + ember.rand(3), randomness="different")(x)
    assert not ember.equal(diff[0], diff[1])
    d2 = vmap(lambda a: F.dropout(a + 1, 0.5), randomness="different")(ember.zeros(8, 50))
    assert not ember.equal(d2[0], d2[1])


def test_vmap_fallback_warns_once_and_is_correct():
    from ember.func import _vmap as V

    V._WARNED.discard("cross_entropy")
    x = ember.randn(4, 5)
    y = ember.tensor([0, 1, 2, 3])
    with pytest.warns(UserWarning, match="cross_entropy"):
        got = vmap(lambda a, t: F.cross_entropy(a[None], t[None]))(x, y)
    want = F.cross_entropy(x, y, reduction="none")
    assert ember.allclose(got, want, atol=1e-6)


class _CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 6, 3)
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        return self.fc(F.relu(self.c2(x)).flatten(1))


def test_per_sample_gradients_of_a_cnn_equal_the_loop():
    ember.manual_seed(0)
    model = _CNN()
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, x, y):
        return F.cross_entropy(functional_call(model, p, (x.unsqueeze(0),)), y.unsqueeze(0))

    x = ember.randn(6, 1, 10, 10)
    y = ember.randint(0, 5, (6,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(6):
        gi = grad(loss)(params, x[i], y[i])
        for k in params:
            assert per[k].shape == (6,) + tuple(params[k].shape)
            assert ember.allclose(per[k][i], gi[k], atol=1e-5), k


def test_per_sample_gradients_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    xs = rng.standard_normal((5, 4)).astype(np.float32)

    def loss(m, w, x):
        return (m.tanh(w @ x) ** 2).sum()

    got = vmap(grad(lambda w, x: loss(ember, w, x)), in_dims=(None, 0))(ember.tensor(w),
                                                                        ember.tensor(xs))
    want = torch.func.vmap(torch.func.grad(lambda w, x: loss(torch, w, x)),
                           in_dims=(None, 0))(torch.tensor(w), torch.tensor(xs))
    assert np.allclose(got.numpy(), want.numpy(), atol=1e-5)


def test_vmap_model_backward_sums_over_the_batch():
    ember.manual_seed(0)
    lin = nn.Linear(3, 2)
    x = ember.randn(4, 3)
    vmap(lin)(x).sum().backward()
    g_v = lin.weight.grad.clone()
    lin.weight.grad = None
    lin(x).sum().backward()
    assert ember.allclose(g_v, lin.weight.grad)
    xr = ember.randn(4, 3, requires_grad=True)
    vmap(lambda a: (a ** 2).sum())(xr).sum().backward()
    assert ember.allclose(xr.grad, 2 * xr.detach())


# ---------------------------------------------------------------------- functional_call
def test_functional_call_and_ensembles():
    lin = nn.Linear(2, 1)
    p = {"weight": ember.ones(1, 2), "bias": ember.zeros(1)}
    assert functional_call(lin, p, (ember.ones(3, 2),)).tolist() == [[2.0]] * 3
    assert functional_call(lin, p, ember.ones(1, 2)).tolist() == [[2.0]]
    assert lin.weight.shape == (1, 2) and not ember.equal(lin.weight, ember.ones(1, 2))
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(lin, {"weight": ember.ones(1, 2)}, (ember.ones(1, 2),), strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(lin, ({"bias": ember.zeros(1)}, {"bias": ember.zeros(1)}),
                        (ember.ones(1, 2),))
    # tied weights follow the one given
    seq = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False))
    seq[1].weight = seq[0].weight
    out = functional_call(seq, {"0.weight": ember.eye(2) * 2}, (ember.ones(1, 2),))
    assert out.tolist() == [[4.0, 4.0]]
    out = functional_call(seq, {"0.weight": ember.eye(2) * 2}, (ember.ones(1, 2),),
                          tie_weights=False)
    assert not ember.equal(out, ember.tensor([[4.0, 4.0]]))
    models = [nn.Linear(3, 2) for _ in range(4)]
    params, buffers = stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad
    x = ember.randn(5, 3)
    base = models[0]
    out = vmap(lambda p, b: functional_call(base, (p, b), (x,)))(params, buffers)
    want = ember.stack([m(x) for m in models])
    assert ember.allclose(out, want, atol=1e-6)


def test_forward_mode_through_a_cnn_equals_reverse_mode():
    ember.manual_seed(1)
    model = _CNN().double()
    x = ember.randn(1, 1, 10, 10, dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jf = jacfwd(lambda x: model(x))(x)
        jr = jacrev(lambda x: model(x))(x)
    assert jf.shape == (1, 5, 1, 1, 10, 10)
    assert ember.allclose(jf, jr, atol=1e-10)
    t = ember.randn(1, 1, 10, 10, dtype=ember.float64)
    _, tan = jvp(model, (x,), (t,))
    assert ember.allclose(tan, (jr.reshape(5, 100) @ t.reshape(100)).reshape(1, 5),
                          atol=1e-10)


def test_forward_mode_rules_inplace_and_aux():
    from ember.func import _forward

    x = _t([0.5, -0.25, 2.0])
    t = _t([1.0, 2.0, 3.0])

    def f(x):
        out = ember.zeros(3, dtype=ember.float64)
        out[1:] = x[:2].tanh() * x[2]  # in-place write of a tangent-carrying value
        return out.softmax(0), x.sum()

    (y, s), (ty, ts) = jvp(f, (x,), (t,))
    (_, _), (ty2, ts2) = _forward_free_jvp(f, x, t)
    assert ember.allclose(ty, ty2) and ts.item() == 6.0
    j, aux = jacrev(lambda x: (x.exp(), x * 2), has_aux=True)(x)
    assert ember.allclose(j, ember.diag(x.exp())) and ember.allclose(aux, x * 2)
    j, aux = jacfwd(lambda x: (x.exp(), x * 2), has_aux=True)(x)
    assert ember.allclose(j, ember.diag(x.exp())) and ember.allclose(aux, x * 2)
    assert "softmax" in _forward.RULES and "matmul" in _forward.RULES
    with pytest.raises(NotImplementedError, match="random record"):
        jvp(lambda x: F.dropout(x, 0.5), (x,), (t,))


def _forward_free_jvp(f, x, t):
    """The same jvp by finite differences of f (the reference for the rule test)."""
    eps = 1e-6
    y = f(x)
    yp, ym = f(x + eps * t), f(x - eps * t)
    return y, tuple((a - b) / (2 * eps) for a, b in zip(yp, ym))


def test_all_second_order_compositions_agree():
    def f(x):
        return (x.sin() * x.exp()).sum() + (x ** 3).prod() + x.softmax(0)[0]

    x = _t([0.3, -1.2, 0.7])
    h = hessian(f)(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for comp in (jacrev(jacrev(f)), jacrev(jacfwd(f)), jacfwd(jacfwd(f))):
            assert ember.allclose(comp(x), h, atol=1e-10)
    one = ember.ones(3, dtype=ember.float64)
    second = jvp(lambda x: jvp(f, (x,), (one,))[1], (x,), (one,))[1]  # forward over forward
    assert abs(second.item() - h.sum().item()) < 1e-10
