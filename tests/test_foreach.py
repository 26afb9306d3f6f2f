"""ember._foreach_* and the fused optimizer records: values against plain ember ops (no
oracle needed) and against torch._foreach_* where PyTorch is installed; versions, return
values, errors, autograd through the per-tensor composites.

The op table (tests/op_db.py) also runs every record against NumPy and PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

SHAPES = [(2, 3), (4,), ()]


def _arrays(dtype=np.float32, seed=0, low=-3.0, high=3.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, s).astype(dtype) for s in SHAPES]


def _ts(arrays):
    return [ember.tensor(a) for a in arrays]


def _np(ts):
    return [t.numpy() for t in ts]


def _same(got, want, exact=True):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g.numpy() if isinstance(g, ember.Tensor) else g), np.asarray(
            w.numpy() if isinstance(w, ember.Tensor) else w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        if exact:
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- vs plain ops
BINARY = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "maximum": "maximum",
          "minimum": "minimum"}


def _plain_binary(short, x, o, alpha=1):
    if short in ("maximum", "minimum") and not isinstance(o, ember.Tensor):
        return x.clamp_min(o) if short == "maximum" else x.clamp_max(o)
    if alpha != 1:
        return getattr(ember, short)(x, o, alpha=alpha)
    return getattr(ember, short)(x, o)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("short", sorted(BINARY))
def test_binary_overloads_match_plain_ops(short, dtype):
    xs = _arrays(dtype)
    ys = _arrays(dtype, seed=1, low=0.5)
    overloads = [("scalar", 1.5, {}), ("scalar list", [0.5, 2.0, 3.0], {}),
                 ("tensor list", _ts(ys), {})]
    if short in ("add", "sub"):
        overloads.append(("alpha", _ts(ys), {"alpha": 0.7}))
    if short in ("add", "sub", "mul", "div"):
        overloads.append(("0-dim tensor", ember.tensor(1.25, dtype=ember.float64), {}))
    for desc, other, kw in overloads:
        per = (other if isinstance(other, list) else [other] * len(xs))
        want = [_plain_binary(short, ember.tensor(x), o, kw.get("alpha", 1))
                for x, o in zip(xs, per)]
        got = getattr(ember, f"_foreach_{short}")(_ts(xs), other, **kw)
        _same(got, want)
        ts = _ts(xs)
        r = getattr(ember, f"_foreach_{short}_")(ts, other, **kw)
        assert r is ts, desc
        _same(ts, [w.to(t.dtype) for w, t in zip(want, ts)])


@pytest.mark.parametrize("short", ["sqrt", "neg", "sign", "abs", "reciprocal", "exp"])
def test_unary_matches_plain_ops(short):
    xs = _arrays(np.float64, low=0.5 if short in ("sqrt", "reciprocal") else -3.0)
    want = [getattr(ember, short)(ember.tensor(x)) for x in xs]
    _same(getattr(ember, f"_foreach_{short}")(_ts(xs)), want)
    ts = _ts(xs)
    getattr(ember, f"_foreach_{short}_")(ts)
    _same(ts, want)


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_pointwise_matches_plain_ops(name):
    xs, a, b = _arrays(), _arrays(seed=1), _arrays(seed=2, low=0.5)
    for value in (1, -0.25, [0.5, -1.5, 2.0], ember.tensor([0.5, -1.5, 2.0])):
        vs = value.tolist() if isinstance(value, ember.Tensor) else value
        vs = vs if isinstance(vs, list) else [vs] * 3
        want = [getattr(ember, name)(ember.tensor(x), ember.tensor(p), ember.tensor(q), value=v)
                for x, p, q, v in zip(xs, a, b, vs)]
        _same(getattr(ember, f"_foreach_{name}")(_ts(xs), _ts(a), _ts(b), value), want)
        ts = _ts(xs)
        getattr(ember, f"_foreach_{name}_")(ts, _ts(a), _ts(b), value)
        _same(ts, want)


def test_lerp_matches_plain_lerp_for_every_weight_form():
    xs, ends = _arrays(np.float64), _arrays(np.float64, seed=1)
    ws = _arrays(np.float64, seed=2, low=0.0, high=1.0)
    for weight in (0.3, 0.8, [0.1, 0.6, 0.9], _ts(ws)):
        per = weight if isinstance(weight, list) else [weight] * 3
        want = [ember.lerp(ember.tensor(x), ember.tensor(e), w) for x, e, w in zip(xs, ends, per)]
        # (ember.lerp and PyTorch's kernels round differently: fused multiply-adds)
        _same(ember._foreach_lerp(_ts(xs), _ts(ends), weight), want, exact=False)
        ts = _ts(xs)
        ember._foreach_lerp_(ts, _ts(ends), weight)
        _same(ts, want, exact=False)


def test_zero_copy_norm():
    ts = _ts(_arrays())
    assert ember._foreach_zero_(ts) is ts
    assert all(not t.numpy().any() for t in ts)
    src = _ts(_arrays(np.float64, seed=3))
    ember._foreach_copy_(ts, src)
    _same(ts, [s.float() for s in src])
    for ord in (2, 1, float("inf"), 3):
        want = [ember.linalg.vector_norm(t, ord) for t in src]
        _same(ember._foreach_norm(src, ord), want, exact=False)
    assert ember._foreach_norm([ember.tensor([3.0, 4.0])])[0].item() == 5.0
    assert ember._foreach_norm(src, dtype=ember.float32)[0].dtype == ember.float32


def test_promotion_of_out_of_place_results():
    ints = [ember.tensor([1, 2]), ember.tensor([[3]])]
    assert [t.dtype for t in ember._foreach_add(ints, 0.5)] == [ember.float32] * 2
    assert [t.dtype for t in ember._foreach_div(ints, 2)] == [ember.float32] * 2
    assert [t.dtype for t in ember._foreach_sqrt(ints)] == [ember.float32] * 2
    assert [t.dtype for t in ember._foreach_mul(ints, 2)] == [ember.int64] * 2
    mixed = ember._foreach_add([ember.ones(2)], [ember.ones(2, dtype=ember.float64)])
    assert mixed[0].dtype == ember.float64


# ----------------------------------------------------------------------------- semantics
def test_inplace_ops_bump_every_mutated_version_and_return_their_list():
    ts = _ts(_arrays())
    before = [t._version for t in ts]
    assert ember._foreach_mul_(ts, 2.0) is ts
    assert [t._version for t in ts] == [v + 1 for v in before]
    # a view shares its base's counter
    base = ember.zeros(4)
    ember._foreach_add_([base[1:3]], 1.0)
    assert base._version == 1 and base.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_fused_records_bump_all_mutated_lists():
    p, g, m, v = ember.ones(3), ember.ones(3), ember.zeros(3), ember.zeros(3)
    assert ember._fused_adam_([p], [g], [m], [v], [], [ember.tensor(1.0)], lr=0.1, beta1=0.9,
                              beta2=0.99, weight_decay=0.0, eps=1e-8, amsgrad=False,
                              maximize=False) is None
    assert (p._version, m._version, v._version, g._version) == (1, 1, 1, 0)


def test_errors():
    a = [ember.ones(2), ember.ones(3)]
    with pytest.raises(RuntimeError, match="at least one tensor"):
        ember._foreach_add([], 1.0)
    with pytest.raises(RuntimeError, match="same number of tensors, got 2 and 1"):
        ember._foreach_add(a, [ember.ones(2)])
    with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
        ember._foreach_mul(a, [1.0])
    with pytest.raises(RuntimeError, match="0 dim"):
        ember._foreach_add(a, ember.ones(2))
    with pytest.raises(TypeError, match="alpha"):
        ember._foreach_add(a, 1.0, alpha=2)
    with pytest.raises(TypeError, match="alpha"):
        ember._foreach_mul(a, a, alpha=2)
    with pytest.raises(TypeError, match="list of Tensors"):
        ember._foreach_add(a[0], 1.0)
    with pytest.raises(TypeError, match="list of Tensors"):
        ember._foreach_add([a[0], 1.0], 1.0)
    with pytest.raises(RuntimeError, match="_foreach_add_"):
        ember._foreach_add_([ember.tensor([1, 2])], 0.5)  # float can't be cast to int64
    with pytest.raises(RuntimeError, match="_foreach_add_"):
        ember._foreach_add_([ember.ones(2)], [ember.ones(3)])  # doesn't fit
    with pytest.raises(RuntimeError, match="floating point or complex"):
        ember._foreach_norm([ember.tensor([1, 2])])
    with pytest.raises(RuntimeError, match="bool"):
        ember._foreach_neg([ember.tensor([True])])
    with pytest.raises(NotImplementedError, match="grad_scale"):
        ember._fused_sgd_(a, a, [], weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0,
                          nesterov=False, maximize=False, is_first_step=False,
                          grad_scale=ember.tensor(1.0))


def test_autograd_through_the_composites():
    x = ember.tensor([1.0, -2.0], requires_grad=True)
    y = ember.tensor([0.5, 3.0], requires_grad=True)
    out = ember._foreach_add([x, y], [y, x], alpha=2.0)
    assert all(o.requires_grad for o in out)
    (out[0].sum() + (out[1] * out[1]).sum()).backward()
    xe = x.detach().requires_grad_()
    ye = y.detach().requires_grad_()
    ((xe + 2 * ye).sum() + ((ye + 2 * xe) ** 2).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ye.grad.numpy())
    # in place: a leaf that requires grad is refused, a non-leaf records the op
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ember._foreach_mul_([x], 2.0)
    z = x * 1.0
    ember._foreach_addcmul_([z], [y], [y], 0.5)
    z.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), ye.grad.numpy() + y.detach().numpy())
    # under no_grad nothing is recorded and leaves may be updated
    with ember.no_grad():
        ember._foreach_mul_([x], 2.0)
    assert x.grad_fn is None
    with pytest.raises(RuntimeError, match="autograd"):
        ember._fused_sgd_([x * 1.0], [y], [], weight_decay=0.0, momentum=0.0, lr=0.1,
                          dampening=0.0, nesterov=False, maximize=False, is_first_step=False)


def test_records_declare_mutation_and_attributes():
    from ember._ops.core import OPS

    assert OPS["_foreach_add_"].mutates == (0,)
    assert OPS["_foreach_add"].mutates == ()
    assert OPS["_foreach_add"].attrs == ("scalar", "alpha")
    assert OPS["_fused_adam_"].mutates == (0, 2, 3, 4)
    assert OPS["_fused_sgd_"].mutates == (0, 2)
    for name, mutates in (("_fused_rmsprop_", (0, 2, 3, 4)), ("_fused_adagrad_", (0, 2)),
                          ("_fused_adadelta_", (0, 2, 3)), ("_fused_adamax_", (0, 2, 3)),
                          ("_fused_nadam_", (0, 2, 3, 4)), ("_fused_radam_", (0, 2, 3)),
                          ("_fused_rprop_", (0, 2, 3)), ("_fused_asgd_", (0, 2, 3, 4))):
        assert OPS[name].mutates == mutates, name
    assert OPS["_fused_adagrad_"].attrs == ("lr", "lr_decay", "weight_decay", "eps", "maximize")


def test_other_fused_records_bump_mutated_lists_and_check_arguments():
    p, g, s = ember.ones(3), ember.ones(3), ember.zeros(3)
    kw = dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)
    assert ember._fused_adagrad_([p], [g], [s], [ember.tensor(1.0)], **kw) is None
    assert (p._version, s._version, g._version) == (1, 1, 0)
    np.testing.assert_allclose(p.numpy(), 1 - 0.1 * 1 / (1 + 1e-10))
    # RMSprop's optional lists may be empty; the others must match self
    v = ember.zeros(3)
    ember._fused_rmsprop_([p], [g], [v], [], [], lr=0.1, alpha=0.9, eps=1e-8,
                          weight_decay=0.0, momentum=0.0, centered=False, maximize=False)
    assert (p._version, v._version) == (2, 1)
    with pytest.raises(RuntimeError, match="same number of tensors, got 1 and 2"):
        ember._fused_adagrad_([p], [g, g], [s], [ember.tensor(1.0)], **kw)
    with pytest.raises(TypeError, match="missing required keyword-only argument 'eps'"):
        ember._fused_adagrad_([p], [g], [s], [ember.tensor(1.0)],
                              **{k: v for k, v in kw.items() if k != "eps"})
    with pytest.raises(TypeError, match="unexpected keyword argument 'betas'"):
        ember._fused_adagrad_([p], [g], [s], [ember.tensor(1.0)], betas=(0.9, 0.9), **kw)
    with pytest.raises(TypeError, match="takes 4 tensor lists"):
        ember._fused_adagrad_([p], [g], [s], **kw)
    with pytest.raises(NotImplementedError, match="grad_scale"):
        ember._fused_adagrad_([p], [g], [s], [ember.tensor(1.0)], grad_scale=ember.tensor(1.0),
                              **kw)
    with pytest.raises(RuntimeError, match="autograd"):
        ember._fused_adadelta_([ember.ones(2, requires_grad=True) * 1.0], [ember.ones(2)],
                               [ember.zeros(2)], [ember.zeros(2)], lr=1.0, rho=0.9, eps=1e-6,
                               weight_decay=0.0, maximize=False)


# ----------------------------------------------------------------------------- vs PyTorch
def test_against_torch_foreach():
    torch = pytest.importorskip("torch")
    xs, ys = _arrays(np.float64), _arrays(np.float64, seed=1, low=0.5)

    def both(fn):
        e = fn(ember, [ember.tensor(x) for x in xs], [ember.tensor(y) for y in ys])
        t = fn(torch, [torch.tensor(x) for x in xs], [torch.tensor(y) for y in ys])
        for a, b in zip(e, t):
            assert str(a.dtype) == str(b.dtype)
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)

    both(lambda L, x, y: L._foreach_add(x, y, alpha=-0.3))
    both(lambda L, x, y: L._foreach_div(x, [2.0, 3.0, 4.0]))
    both(lambda L, x, y: L._foreach_mul(x, L.tensor(0.5)))
    both(lambda L, x, y: L._foreach_maximum(x, 0.1))
    both(lambda L, x, y: L._foreach_addcdiv(x, y, y, [0.1, 0.2, 0.3]))
    both(lambda L, x, y: L._foreach_lerp_(x, y, 0.9))
    both(lambda L, x, y: L._foreach_sqrt_(L._foreach_abs(x)))
    both(lambda L, x, y: L._foreach_norm(x, 3))
    both(lambda L, x, y: L._foreach_add([L.tensor([1, 2])], 0.5))
    both(lambda L, x, y: L._foreach_div([L.tensor([1, 2])], 2))
