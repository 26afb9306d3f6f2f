"""ember.optim optimizers: trajectories against PyTorch, hand-computed steps, state dicts,
hooks and errors.

The PyTorch oracle tests feed both frameworks the same deterministic gradient, a NumPy
function of the current parameters (so any drift would feed back), for 25 steps, over two
param groups with different options, and compare parameters and state buffers.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")

SHAPES = [(3, 4), (5,), ()]
STEPS = 25


def _init_arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _grad(x: np.ndarray, i: int, step: int) -> np.ndarray:
    """A deterministic, non-convex gradient of the current value (float64 math, cast back)."""
    x64 = x.astype(np.float64)
    g = np.array((0.7 + 0.3 * i) * (x64 - 0.5) + 0.5 * np.cos(3.0 * x64 + step))
    if step == 3 and i == 0:
        g.flat[0] = 0.0  # exact zero gradients hit Rprop's and Adagrad's edge cases
    return np.asarray(g, dtype=x.dtype)


def _ember_params(arrays):
    return [Parameter(ember.from_numpy(a.copy())) for a in arrays]


def _run_ember(name, kwargs, arrays, steps=STEPS, groups=True):
    params = _ember_params(arrays)
    spec = ([{"params": params[:1], **kwargs.pop("group0", {})}, {"params": params[1:]}]
            if groups else params)
    opt = getattr(optim, name)(spec, **kwargs)
    for step in range(steps):
        for i, p in enumerate(params):
            if step == 5 and i == 2:
                p.grad = None  # a parameter without gradient is skipped
                continue
            p.grad = ember.from_numpy(_grad(p.detach().numpy(), i, step))
        opt.step()
    return params, opt


def _run_torch(name, kwargs, arrays, steps=STEPS, groups=True):
    params = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
    spec = ([{"params": params[:1], **kwargs.pop("group0", {})}, {"params": params[1:]}]
            if groups else params)
    extra = {} if name == "LBFGS" else {"foreach": False}
    opt = getattr(torch.optim, name)(spec, **kwargs, **extra)
    for step in range(steps):
        for i, p in enumerate(params):
            if step == 5 and i == 2:
                p.grad = None
                continue
            p.grad = torch.from_numpy(_grad(p.detach().numpy(), i, step))
        opt.step()
    return params, opt


CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True,
                 group0=dict(lr=0.01, momentum=0.5))),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, maximize=True, amsgrad=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.8), eps=1e-3, group0=dict(betas=(0.5, 0.99)))),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True, betas=(0.5, 0.9))),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, betas=(0.9, 0.9))),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-3)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, t0=5, lambd=1e-2, alpha=0.5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=0, maximize=True)),
]


def _case_id(case):
    name, kw = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items()) if kw else name


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_trajectory_matches_torch(case, dtype):
    name, kwargs = case
    arrays = _init_arrays(dtype)
    e_params, e_opt = _run_ember(name, copy.deepcopy(kwargs), arrays)
    t_params, t_opt = _run_torch(name, copy.deepcopy(kwargs), arrays)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for e, t in zip(e_params, t_params):
        assert e.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **tol)
        # Same state keys and values.
        es, ts = e_opt.state[e], t_opt.state[t]
        assert set(es) == set(ts)
        for k in ts:
            tv = ts[k]
            ev = es[k]
            if isinstance(tv, torch.Tensor):
                assert ev.shape == tuple(tv.shape), k
                np.testing.assert_allclose(ev.numpy(), tv.numpy(), **tol)


@needs_torch
def test_group_options_and_state_dict_layout_match_torch():
    for name, kwargs in [("Adam", dict(lr=0.05, amsgrad=True)), ("SGD", dict(lr=0.1))]:
        arrays = _init_arrays(np.float32)
        _, e_opt = _run_ember(name, copy.deepcopy(kwargs), arrays, steps=2)
        _, t_opt = _run_torch(name, copy.deepcopy(kwargs), arrays, steps=2)
        es, ts = e_opt.state_dict(), t_opt.state_dict()
        assert [sorted(g) for g in es["param_groups"]] == [sorted(g) for g in ts["param_groups"]]
        for eg, tg in zip(es["param_groups"], ts["param_groups"]):
            assert eg["params"] == tg["params"]
            assert {k: v for k, v in eg.items() if k != "foreach"} == {
                k: v for k, v in tg.items() if k != "foreach"}
        assert sorted(es["state"]) == sorted(ts["state"])
        for k in ts["state"]:
            assert sorted(es["state"][k]) == sorted(ts["state"][k])
            if "step" in ts["state"][k]:
                assert es["state"][k]["step"].dtype == ember.float32
                assert es["state"][k]["step"].shape == ()
    # Optimizer defaults (hyperparameters and flags) match PyTorch's exactly.
    p = [Parameter(ember.zeros(2))]
    tp = [torch.nn.Parameter(torch.zeros(2))]
    for name in ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta",
                 "RMSprop", "Rprop", "ASGD", "LBFGS"]:
        assert getattr(optim, name)(p).defaults == getattr(torch.optim, name)(tp).defaults, name


def _to_torch_sd(sd):
    def conv(v):
        if isinstance(v, ember.Tensor):
            return torch.from_numpy(v.numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return conv(sd)


def _to_ember_sd(sd):
    def conv(v):
        if isinstance(v, torch.Tensor):
            return ember.from_numpy(v.detach().numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return conv(sd)


def _continue(params, opt, steps, start, lib):
    for step in range(start, start + steps):
        for i, p in enumerate(params):
            g = _grad(p.detach().numpy(), i, step)
            p.grad = ember.from_numpy(g) if lib == "ember" else torch.from_numpy(g)
        opt.step()


@needs_torch
@pytest.mark.parametrize("name,kwargs", [
    ("Adam", dict(lr=0.05, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
    ("NAdam", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Rprop", dict(lr=0.01)), ("ASGD", dict(lr=0.05, t0=3)), ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict()), ("Adamax", dict()), ("RAdam", dict())])
def test_state_dict_round_trips_with_torch(name, kwargs):
    arrays = _init_arrays(np.float64)
    e_params, e_opt = _run_ember(name, copy.deepcopy(kwargs), arrays, steps=10)
    t_params, t_opt = _run_torch(name, copy.deepcopy(kwargs), arrays, steps=10)
    # ember's state into a fresh torch optimizer (and torch's into a fresh ember one), then
    # both continue: all four trajectories agree.
    t2_params = [torch.nn.Parameter(torch.from_numpy(p.detach().numpy().copy()))
                 for p in e_params]
    t2_opt = getattr(torch.optim, name)([{"params": t2_params[:1]}, {"params": t2_params[1:]}],
                                        **kwargs)
    t2_opt.load_state_dict(_to_torch_sd(e_opt.state_dict()))
    e2_params = _ember_params([p.detach().numpy() for p in t_params])
    e2_opt = getattr(optim, name)([{"params": e2_params[:1]}, {"params": e2_params[1:]}],
                                  **kwargs)
    e2_opt.load_state_dict(_to_ember_sd(t_opt.state_dict()))
    for params, opt, lib in [(e_params, e_opt, "ember"), (t_params, t_opt, "torch"),
                             (t2_params, t2_opt, "torch"), (e2_params, e2_opt, "ember")]:
        _continue(params, opt, 10, 10, lib)
    # Loading casts non-step state tensors to the parameters' dtype (PyTorch's policy), so
    # ASGD's float32 eta/mu become float64 here: compare originals and reloaded ones apart.
    for x, y in [(e_params, t_params), (e2_params, t2_params)]:
        for a, b in zip(x, y):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-11,
                                       atol=1e-12)
    if name != "ASGD":
        for a, b in zip(e_params, t2_params):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-11,
                                       atol=1e-12)


# ---------------------------------------------------------------------- no oracle needed

def test_sgd_momentum_hand_computed():
    w = Parameter(ember.tensor([1.0, -2.0]))
    opt = optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)
    w.grad = ember.tensor([1.0, 1.0])
    opt.step()  # g = [1.1, 0.8]; buf = g; w -= 0.1 * g
    np.testing.assert_allclose(w.detach().numpy(), [0.89, -2.08], rtol=1e-6)
    opt.step()  # g = 1 + 0.1 w = [1.089, 0.792]; buf = 0.9 buf + 0.5 g
    buf = 0.9 * np.array([1.1, 0.8]) + 0.5 * np.array([1.089, 0.792])
    np.testing.assert_allclose(w.detach().numpy(), np.array([0.89, -2.08]) - 0.1 * buf,
                               rtol=1e-6)


def test_adam_first_step_is_lr_times_sign():
    w = Parameter(ember.tensor([1.0, -2.0, 3.0]))
    opt = optim.Adam([w], lr=0.01)
    w.grad = ember.tensor([0.5, -3.0, 1e-3])
    opt.step()
    # After one step the bias-corrected ratio m / sqrt(v) is sign(g) (up to eps).
    np.testing.assert_allclose(w.detach().numpy(), [0.99, -1.99, 2.99], rtol=1e-5)
    assert float(opt.state[w]["step"]) == 1.0
    np.testing.assert_allclose(opt.state[w]["exp_avg"].numpy(), [0.05, -0.3, 1e-4], rtol=1e-6)


def test_real_autograd_training_reduces_loss():
    rng = np.random.default_rng(0)
    x = ember.from_numpy(rng.standard_normal((32, 3)).astype(np.float32))
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]])
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
                     ("RMSprop", dict(lr=0.03)), ("Adagrad", dict(lr=0.5)),
                     ("NAdam", dict(lr=0.1)), ("RAdam", dict(lr=0.1))]:
        w = Parameter(ember.zeros(3, 1))
        opt = getattr(optim, name)([w], **kw)
        losses = []
        for _ in range(60):
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(float(loss))
        assert losses[-1] < 0.05 * losses[0], (name, losses[0], losses[-1])


def _rosenbrock(xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_lbfgs_strong_wolfe_minimises_rosenbrock(dtype):
    xy = Parameter(ember.tensor([-1.5, 2.0], dtype=dtype))
    opt = optim.LBFGS([xy], lr=1, max_iter=200, history_size=10,
                      line_search_fn="strong_wolfe", tolerance_grad=1e-12,
                      tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(xy)
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-4)
    assert opt.state[xy]["func_evals"] > 10


def test_lbfgs_without_line_search_converges_on_quadratic():
    a = np.array([[3.0, 0.5], [0.5, 1.0]])
    w = Parameter(ember.tensor([4.0, -3.0], dtype=ember.float64))
    A = ember.from_numpy(a)
    opt = optim.LBFGS([w], lr=0.5, max_iter=100, tolerance_grad=1e-10,
                      tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (w @ (A @ w)) - w.sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), np.linalg.solve(a, [1.0, 1.0]), atol=1e-6)


@needs_torch
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_trajectory_matches_torch_float64(line_search):
    start = [-1.5, 2.0]
    e = Parameter(ember.tensor(start, dtype=ember.float64))
    t = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    kw = dict(lr=0.5 if line_search is None else 1, max_iter=7, history_size=4,
              line_search_fn=line_search)
    eo, to = optim.LBFGS([e], **kw), torch.optim.LBFGS([t], **kw)

    def closure(p, o):
        def f():
            o.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss
        return f

    for _ in range(4):
        el = eo.step(closure(e, eo))
        tl = to.step(closure(t, to))
        np.testing.assert_allclose(float(el), float(tl.detach()), rtol=1e-9)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-9,
                                   atol=1e-12)
    assert eo.state[e]["func_evals"] == to.state[t]["func_evals"]
    assert eo.state[e]["n_iter"] == to.state[t]["n_iter"]


ALL = [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)),
       ("AdamW", dict()), ("Adamax", dict()), ("NAdam", dict()), ("RAdam", dict()),
       ("Adagrad", dict(lr_decay=0.1)), ("Adadelta", dict()),
       ("RMSprop", dict(centered=True, momentum=0.9)), ("Rprop", dict()),
       ("ASGD", dict(t0=5))]


@pytest.mark.parametrize("name,kwargs", ALL, ids=[n for n, _ in ALL])
def test_save_load_continue_is_bit_identical(name, kwargs):
    arrays = _init_arrays(np.float32)
    ref_params, ref_opt = _run_ember(name, dict(kwargs), arrays, steps=12, groups=False)
    _continue(ref_params, ref_opt, 12, 12, "ember")

    params, opt = _run_ember(name, dict(kwargs), arrays, steps=12, groups=False)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))  # what a checkpoint file holds
    snapshot = [p.detach().numpy().copy() for p in params]
    del opt
    fresh = _ember_params(snapshot)
    opt2 = getattr(optim, name)(fresh, **kwargs)
    opt2.load_state_dict(saved)
    _continue(fresh, opt2, 12, 12, "ember")
    for a, b in zip(fresh, ref_params):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_copies_and_casts():
    w = Parameter(ember.zeros(3, dtype=ember.float64))
    opt = optim.Adam([w])
    sd = {"state": {0: {"step": ember.tensor(4.0), "exp_avg": ember.ones(3),
                        "exp_avg_sq": np.full(3, 2.0, np.float32)}},
          "param_groups": [dict(opt.state_dict()["param_groups"][0], lr=0.5)]}
    opt.load_state_dict(sd)
    st = opt.state[w]
    assert st["exp_avg"].dtype == ember.float64 and st["exp_avg_sq"].dtype == ember.float64
    assert st["step"].dtype == ember.float32  # step keeps its dtype, like PyTorch
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is w
    st["exp_avg"]._data[0] = 7
    assert float(sd["state"][0]["exp_avg"][0]) == 1.0  # no aliasing with the loaded dict


def test_load_state_dict_errors_leave_optimizer_untouched():
    a, b = Parameter(ember.ones(2)), Parameter(ember.ones(3))
    adam = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = ember.ones(2), ember.ones(3)
    adam.step()
    before = copy.deepcopy(adam.state_dict())

    sgd = optim.SGD([Parameter(ember.ones(2)), Parameter(ember.ones(3))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="not a Adam state dict"):
        adam.load_state_dict(sgd.state_dict())
    adamax = optim.Adamax([Parameter(ember.ones(2)), Parameter(ember.ones(3))])
    for p in adamax.param_groups[0]["params"]:
        p.grad = ember.ones(p.shape)
    adamax.step()
    with pytest.raises(ValueError, match="exp_inf"):
        adam.load_state_dict(adamax.state_dict())
    two_groups = optim.Adam([{"params": [Parameter(ember.ones(2))]},
                             {"params": [Parameter(ember.ones(3))]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        adam.load_state_dict(two_groups.state_dict())
    one_param = optim.Adam([Parameter(ember.ones(2))])
    with pytest.raises(ValueError, match="doesn't match the size"):
        adam.load_state_dict(one_param.state_dict())
    after = adam.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for k in before["state"]:
        for key, v in before["state"][k].items():
            assert np.array_equal(after["state"][k][key].numpy(), v.numpy())


@pytest.mark.parametrize("make,msg", [
    (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: optim.SGD(p, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.AdamW(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.Adam(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "Invalid momentum_decay value"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
    (lambda p: optim.RMSprop(p, alpha=-1), "Invalid alpha value: -1"),
    (lambda p: optim.Rprop(p, etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    (lambda p: optim.ASGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.LBFGS(p, line_search_fn="armijo"), "only 'strong_wolfe'"),
    (lambda p: optim.LBFGS([{"params": p[:1]}, {"params": [Parameter(ember.ones(1))]}]),
     "doesn't support per-parameter options"),
])
def test_invalid_hyperparameters(make, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(".", r"\.")):
        make([Parameter(ember.ones(2))])


def test_bad_params_errors():
    w = Parameter(ember.ones(2))
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([w, 3.0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": w})
    assert len(opt.param_groups) == 1  # nothing half-added


def test_param_groups_defaults_and_add_param_group():
    a, b, c = (Parameter(ember.ones(2)) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": c, "momentum": 0.0})
    assert opt.param_groups[2]["params"] == [c] and opt.param_groups[2]["lr"] == 0.1
    for p in (a, b, c):
        p.grad = ember.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.5, 0.5])
    assert "momentum_buffer" not in opt.state.get(c, {})
    assert opt.state_dict()["param_groups"][2]["params"] == [2]


def test_named_parameters_are_recorded():
    a, b = Parameter(ember.ones(2)), Parameter(ember.ones(2))
    opt = optim.Adam([("w", a), ("b", b)])
    assert opt.param_groups[0]["params"] == [a, b]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_zero_grad_and_step_bumps_version():
    w = Parameter(ember.ones(3))
    opt = optim.SGD([w], lr=0.1)
    w.grad = ember.ones(3)
    v0 = w._version
    opt.step()
    assert w._version == v0 + 1
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(w.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    assert w.grad is None
    # A step after the parameter was saved for backward: autograd sees the change.
    w2 = Parameter(ember.ones(2))
    y = (w2 * w2).sum()
    opt2 = optim.SGD([w2], lr=0.1)
    w2.grad = ember.ones(2)
    opt2.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_step_hooks_and_closure():
    w = Parameter(ember.ones(2))
    opt = optim.SGD([w], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", a, k)))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", a, k)))

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ember.no_grad():  # the closure still records (steps enable grad for it)
        loss = opt.step(closure)
    assert float(loss) == 2.0
    assert [c[0] for c in calls] == ["pre", "post"]
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 0.8])
    h1.remove()
    h2.remove()
    opt.step(closure)
    assert len(calls) == 2
    # A pre-hook may replace step's arguments; a bad return value is an error.
    opt.register_step_pre_hook(lambda o, a, k: ((), {"closure": closure}))
    assert float(opt.step()) == pytest.approx(2 * 0.64 ** 2 / 1.0, rel=1e-5)
    bad = optim.SGD([Parameter(ember.ones(1))], lr=0.1)
    bad.register_step_pre_hook(lambda o, a, k: 42)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        bad.step()


def test_state_dict_hooks():
    w = Parameter(ember.ones(2))
    opt = optim.SGD([w], lr=0.1)
    seen = []
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items()
                                                         if k != "extra"})
    opt.register_load_state_dict_post_hook(lambda o: seen.append("loaded"))
    sd = opt.state_dict()
    assert sd["extra"] == 1 and seen == ["pre"]
    opt.load_state_dict(sd)
    assert seen == ["pre", "loaded"]


class _SignSGD(optim.Optimizer):
    """The docs' example: a new optimizer is one short subclass."""

    def __init__(self, params, lr=1e-2, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @ember.no_grad()
    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.sign()
                if group["momentum"]:
                    buf = self.state[p].setdefault("buf", ember.zeros_like(p))
                    buf.mul_(group["momentum"]).add_(d)
                    d = buf
                p.sub_(group["lr"] * d)
        return loss


def test_custom_optimizer_subclass():
    w = Parameter(ember.tensor([1.0, -1.0]))
    opt = _SignSGD([w], lr=0.1, momentum=0.5)
    seen = []
    opt.register_step_post_hook(lambda o, a, k: seen.append(1))
    for _ in range(2):
        w.grad = ember.tensor([3.0, -0.5])
        opt.step()
    # d1 = [1, -1]; d2 = 0.5 * d1 + [1, -1] = [1.5, -1.5]
    np.testing.assert_allclose(w.detach().numpy(), [1 - 0.1 - 0.15, -1 + 0.1 + 0.15],
                               rtol=1e-6)
    assert seen == [1, 1]
    sd = pickle.loads(pickle.dumps(opt.state_dict()))
    opt2 = _SignSGD([Parameter(ember.zeros(2))], lr=0.1, momentum=0.5)
    opt2.load_state_dict(sd)
    assert np.allclose(list(opt2.state.values())[0]["buf"].numpy(), [1.5, -1.5])


def test_complex_params_follow_view_as_real():
    z = Parameter(ember.from_numpy(np.array([1 + 2j, -0.5 + 0.1j], np.complex128)))
    x = Parameter(ember.from_numpy(np.array([[1.0, 2.0], [-0.5, 0.1]])))
    oz, ox = optim.Adam([z], lr=0.1), optim.Adam([x], lr=0.1)
    for _ in range(5):
        z.grad = ember.from_numpy(np.array([0.3 - 1j, 2 + 0.5j]))
        x.grad = ember.from_numpy(np.array([[0.3, -1.0], [2.0, 0.5]]))
        oz.step()
        ox.step()
    got = z.detach().numpy()
    np.testing.assert_allclose(np.stack([got.real, got.imag], -1), x.detach().numpy())


def test_float64_default_dtype_step():
    old = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        w = Parameter(ember.ones(2))
        opt = optim.Adam([w])
        w.grad = ember.ones(2)
        opt.step()
        assert opt.state[w]["step"].dtype == ember.float64
    finally:
        ember.set_default_dtype(old)
