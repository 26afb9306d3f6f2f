"""The implementation flags of the built-in optimizers: every path (fused records, foreach
records, per parameter) gives PyTorch's trajectory; flags ember cannot honour are refused;
``differentiable=True`` differentiates through the step; half-precision parameters are
updated in float32; no NumPy warning leaks.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter

from test_optimizers import CASES, _case_id, _init_arrays, _run_ember, _run_torch

# optimizers that accept fused=True (PyTorch's fused kernels)
FUSED = ("Adam", "AdamW", "SGD", "Adagrad")
# optimizers whose default path is a fused record (NOTE [ Fused optimizer records ])
FUSED_RECORDS = FUSED + ("RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD")
PATHS = [pytest.param(dict(foreach=True), id="foreach"),
         pytest.param(dict(foreach=False), id="per-param"),
         pytest.param(dict(fused=True), id="fused")]


def _params(name, kwargs, arrays, **flags):
    return _run_ember(name, {**copy.deepcopy(kwargs), **flags}, arrays)


@pytest.mark.parametrize("flags", PATHS)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_every_path_matches_torch(case, flags):
    torch = pytest.importorskip("torch")
    del torch
    name, kwargs = case
    if "fused" in flags and name not in FUSED:
        pytest.skip(f"{name} has no fused kernel")
    arrays = _init_arrays(np.float64)
    e_params, e_opt = _params(name, kwargs, arrays, **flags)
    t_params, t_opt = _run_torch(name, copy.deepcopy(kwargs), arrays)
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12,
                                   atol=1e-13)
        es, ts = e_opt.state[e], t_opt.state[t]
        assert set(es) == set(ts)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in FUSED_RECORDS],
                         ids=[_case_id(c) for c in CASES if c[0] in FUSED_RECORDS])
def test_fused_and_foreach_paths_agree_exactly(case):
    """No oracle needed: the fused records and the foreach records run the same sequence of
    float32 operations, so their trajectories are bit for bit equal."""
    name, kwargs = case
    arrays = _init_arrays(np.float32)
    runs = [_params(name, kwargs, arrays, **f)[0]
            for f in (dict(), dict(foreach=True), dict(foreach=False))]
    for ps in runs[1:]:
        for a, b in zip(runs[0], ps):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_flags_refused_or_honoured():
    p = [Parameter(ember.ones(2))]
    for name in ("RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"):
        cls = getattr(optim, name)
        if "fused" in cls.__init__.__code__.co_varnames:
            with pytest.raises(NotImplementedError, match="fused"):
                cls(p, fused=True)
        if "capturable" in cls.__init__.__code__.co_varnames:
            with pytest.raises(NotImplementedError, match="capturable"):
                cls(p, capturable=True)
    for name in ("Adam", "AdamW"):
        with pytest.raises(NotImplementedError, match="capturable"):
            getattr(optim, name)(p, capturable=True)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Rprop(p, differentiable=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.Adam(p, fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        optim.SGD(p, lr=0.1, fused=True, differentiable=True)
    # honoured: each is a real path (see the trajectory tests above)
    for name in FUSED:
        getattr(optim, name)(p, lr=0.1, fused=True)
    optim.Adagrad(p, foreach=False)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.Adagrad(p, fused=True, foreach=True)


def _meta_step(lib, steps=1, **kw):
    """p = w0 * 1 with gradient G (both leaves that require grad) -> ``steps``
    differentiable steps -> loss = sum(p^3); returns d loss / d w0 and d loss / d G."""
    w0 = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
    G = lib.tensor([0.3, -0.7, 1.1], dtype=lib.float64, requires_grad=True)
    p = w0 * 1.0
    p.grad = G * 1.0
    opt = getattr(lib.optim, kw.pop("name"))([p], differentiable=True, **kw)
    for _ in range(steps):
        opt.step()
    (p ** 3).sum().backward()
    return w0.grad.detach().numpy(), G.grad.detach().numpy()


def test_differentiable_refuses_hyperparameters_that_require_grad():
    p = ember.ones(2, requires_grad=True) * 1.0
    p.grad = ember.ones(2)
    lr = ember.tensor(0.1, requires_grad=True)
    opt = optim.SGD([p], lr=lr, differentiable=True)
    with pytest.raises(NotImplementedError, match="'lr'"):
        opt.step()


def test_differentiable_sgd_matches_the_analytic_gradient():
    # two plain SGD steps with a fixed gradient G: p = w0 - 2 lr G
    lr = 0.1
    gw, gg = _meta_step(ember, 2, name="SGD", lr=lr)
    w0 = np.array([0.5, -1.5, 2.0])
    G = np.array([0.3, -0.7, 1.1])
    p = w0 - 2 * lr * G
    np.testing.assert_allclose(gw, 3 * p ** 2, rtol=1e-12)
    np.testing.assert_allclose(gg, -2 * lr * 3 * p ** 2, rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(name="SGD", lr=0.1, momentum=0.9, nesterov=True),
                                dict(name="Adam", lr=0.1, amsgrad=True),
                                dict(name="Adam", lr=0.1, weight_decay=0.1),
                                dict(name="AdamW", lr=0.1, weight_decay=0.1),
                                dict(name="RMSprop", lr=0.01, momentum=0.5, centered=True),
                                dict(name="NAdam", lr=0.1), dict(name="Adagrad", lr=0.1),
                                dict(name="Adadelta"), dict(name="Adamax"),
                                dict(name="RAdam", lr=0.1), dict(name="ASGD", t0=0)],
                         ids=lambda kw: kw["name"])
def test_differentiable_matches_torch(kw):
    torch = pytest.importorskip("torch")
    got = _meta_step(ember, **dict(kw))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # .grad of a non-leaf
        want = _meta_step(torch, **dict(kw))
    # (PyTorch's differentiable steps compute bias corrections from the float32 step
    # tensor, e.g. 1 - 0.999 ** 1 to ~3e-5 relative; ember from Python floats)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("flags", [dict(), dict(foreach=True)], ids=["fused", "foreach"])
def test_half_precision_math_runs_in_float32(dtype, flags):
    """One Adam step from zero state on a half parameter equals the float32 step rounded
    once: the update is computed in float32, not in a chain of half roundings."""
    dt = getattr(ember, dtype)
    x = np.array([0.3, -1.7, 2.5, 1e-3], np.float32)
    g = np.array([0.1, -2.0, 0.7, 3e-4], np.float32)
    ph = Parameter(ember.tensor(x).to(dt))
    ph.grad = ember.tensor(g).to(dt)
    p32 = Parameter(ph.detach().float())
    p32.grad = ph.grad.float()
    for p in (ph, p32):
        optim.Adam([p], lr=0.1, **flags).step()
    assert ph.dtype == dt
    np.testing.assert_array_equal(ph.detach().float().numpy(),
                                  p32.detach().to(dt).float().numpy())
    st = optim.Adam([ph], lr=0.1, **flags)
    st.step()
    assert st.state[ph]["exp_avg"].dtype == dt


def test_amsgrad_and_every_optimizer_are_quiet():
    ps = [Parameter(ember.randn(3, 2)), Parameter(ember.randn(()))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, kw in [("Adam", dict(amsgrad=True)), ("AdamW", dict(amsgrad=True)),
                         ("Adam", dict(amsgrad=True, foreach=True)), ("SGD", dict(lr=0.1)),
                         ("RAdam", {}), ("NAdam", {}), ("Adamax", {}), ("ASGD", {}),
                         ("Rprop", {}), ("Adadelta", {}), ("Adagrad", {}), ("RMSprop", {})]:
            opt = getattr(optim, name)(ps, **kw)
            for _ in range(3):
                for p in ps:
                    p.grad = ember.randn(p.shape)
                opt.step()


def test_complex_parameters_on_every_path():
    rng = np.random.default_rng(0)
    z = (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64)
    gz = (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64)
    results = []
    for flags in (dict(), dict(foreach=True), dict(foreach=False)):
        p = Parameter(ember.tensor(z))
        opt = optim.Adam([p], lr=0.1, **flags)
        for _ in range(3):
            p.grad = ember.tensor(gz)
            opt.step()
        assert p.dtype == ember.complex64 and p._version == 3
        results.append(p.detach().numpy())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_step_works_on_any_backend_array_module():
    """The steps reach the arrays only through the foreach records, which take their array
    module from the arrays: an optimizer module holds no NumPy reference."""
    import ember.optim as O

    for mod in (O.optimizer, O.sgd, O.adam, O.adagrad, O.rmsprop, O.rprop, O.adadelta,
                O.adamax, O.nadam, O.radam, O.asgd):
        assert "np" not in vars(mod) and "numpy" not in vars(mod), mod.__name__


@pytest.mark.parametrize("name,kw", [
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.0)),  # 1 - alpha == 1: the multiply is skipped
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(lr=0.5, rho=0.0, weight_decay=0.1)),
    ("Adamax", dict(lr=0.05, betas=(0.2, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.8), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.05, t0=2, lambd=1e-2, weight_decay=0.1, maximize=True)),
], ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()))
def test_fused_records_agree_bitwise_on_mixed_tensors(name, kw):
    """Default (fused record), foreach and per-parameter paths on float32, float64, float16,
    complex64 and 0-dim parameters, with one parameter that skips steps (so the per-step
    scalars differ between parameters): bit for bit equal parameters and state."""
    rng = np.random.default_rng(3)
    inits = [rng.standard_normal((4, 3)).astype(np.float32),
             rng.standard_normal(5).astype(np.float64),
             np.asarray(rng.standard_normal(()), np.float32),
             rng.standard_normal(6).astype(np.float16),
             (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64)]

    def run(flags):
        ps = [Parameter(ember.tensor(a.copy())) for a in inits]
        opt = getattr(optim, name)(ps, **kw, **flags)
        g_rng = np.random.default_rng(4)
        for step in range(5):
            for i, (p, a) in enumerate(zip(ps, inits)):
                g = g_rng.standard_normal(a.shape)
                if a.dtype.kind == "c":
                    g = g + 1j * g_rng.standard_normal(a.shape)
                p.grad = None if (step == 1 and i == 0) else ember.tensor(
                    np.asarray(g, a.dtype))
            opt.step()
        return ps, opt

    ref_ps, ref_opt = run(dict())
    for flags in (dict(foreach=True), dict(foreach=False)):
        ps, opt = run(flags)
        for r, p in zip(ref_ps, ps):
            assert p.dtype == r.dtype
            np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy())
            rs, st = ref_opt.state[r], opt.state[p]
            assert set(rs) == set(st)
            for k in rs:
                np.testing.assert_array_equal(st[k].numpy(), rs[k].numpy(), err_msg=k)


def test_fused_records_run_by_default_and_not_with_foreach():
    """The default step of each optimizer with a fused record dispatches that record once
    per param group (foreach=False too: the record is the per-parameter loop); foreach=True
    dispatches none."""
    from ember._ops import core

    for name, record in (("RMSprop", "_fused_rmsprop_"), ("Adagrad", "_fused_adagrad_"),
                         ("Adadelta", "_fused_adadelta_"), ("Adamax", "_fused_adamax_"),
                         ("NAdam", "_fused_nadam_"), ("RAdam", "_fused_radam_"),
                         ("Rprop", "_fused_rprop_"), ("ASGD", "_fused_asgd_")):
        op = core.OPS[record]
        for flags, want in ((dict(), 1), (dict(foreach=False), 1), (dict(foreach=True), 0)):
            ps = [Parameter(ember.ones(3)), Parameter(ember.ones(2))]
            for p in ps:
                p.grad = ember.ones(p.shape)
            opt = getattr(optim, name)(ps, **flags)
            calls = []
            fwd = op.fwd
            op.fwd = lambda *a, _f=fwd: calls.append(1) or _f(*a)
            try:
                opt.step()
            finally:
                op.fwd = fwd
            assert len(calls) == want, (name, flags)
