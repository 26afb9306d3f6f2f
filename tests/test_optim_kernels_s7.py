"""NOTE [ Multi-tensor optimizer kernels ]: one C call per fused Adam/AdamW step gives the
same bits as the per-parameter generated kernels and as the NumPy formulas."""

import numpy as np
import pytest

import ember
from ember._codegen import build, optim_kernels
from ember._codegen import kernel as K

HAVE_CC = build.compiler()[0] is not None and not K.disabled()


def _params(dt, seed):
    rng = np.random.default_rng(seed)
    shapes = [(3, 5), (1,), (70000,), (17, 9)]  # one above the threaded size
    ps = [ember.from_numpy(rng.standard_normal(s).astype(dt)).requires_grad_()
          for s in shapes]
    return ps, rng


def _run(dt, opt_cls, kw, path, steps=4):
    ps, rng = _params(dt, 0)
    opt = opt_cls(ps, **kw)
    for _ in range(steps):
        for p in ps:
            p.grad = ember.from_numpy(rng.standard_normal(p.shape).astype(dt))
        opt.step()
    out = [p.detach().numpy().copy() for p in ps]
    for st in opt.state.values():
        out += [v.numpy().copy() for v in st.values() if isinstance(v, ember.Tensor) and v.ndim]
    return out


_CASES = [
    (ember.optim.Adam, {"lr": 1e-2}),
    (ember.optim.Adam, {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    (ember.optim.Adam, {"lr": 1e-2, "betas": (0.3, 0.9), "maximize": True}),
    (ember.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.05}),
    (ember.optim.AdamW, {"lr": 1e-3, "amsgrad": True, "maximize": True}),
]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(_CASES)))
def test_one_call_equals_the_per_parameter_paths(dt, case, monkeypatch):
    opt_cls, kw = _CASES[case]
    _three_paths_agree(dt, opt_cls, kw, "adam", monkeypatch)


def _three_paths_agree(dt, opt_cls, kw, kernel, monkeypatch):
    """The one-call kernel ran and its trajectory equals the per-parameter kernels' and the
    NumPy formulas' bit for bit."""
    calls = []
    real = getattr(optim_kernels, kernel)

    def counted(*a):
        r = real(*a)
        calls.append(r)
        return r

    monkeypatch.setattr(optim_kernels, kernel, counted)
    got = _run(dt, opt_cls, kw, "multi")
    if HAVE_CC:
        assert calls and all(calls)  # the one-call path ran
    monkeypatch.setattr(optim_kernels, kernel, lambda *a: False)
    per_param = _run(dt, opt_cls, kw, "per-parameter")  # generated kernel per parameter
    old = K.set_disabled(True)
    try:
        numpy_path = _run(dt, opt_cls, kw, "numpy")
    finally:
        K.set_disabled(old)
    assert len(got) == len(per_param) == len(numpy_path)
    for a, b, c in zip(got, per_param, numpy_path):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_declines_what_it_does_not_cover():
    x = np.ones(4, np.float32)
    c = [tuple(np.float32(v) for v in (0.1, 0.999, 0.001, 1e-8, 0.03, -0.01, 1, 0))]
    args = (c, True, False, False, None)
    assert optim_kernels.adam([x.astype(np.float16)], [x], [x], [x], None, *args) is False
    assert optim_kernels.adam([x], [x[::-1]], [x], [x], None, *args) is False or \
        x[::-1].flags.c_contiguous
    strided = np.ones(8, np.float32)[::2]
    assert optim_kernels.adam([x], [x], [strided], [x], None, *args) is False
    ro = np.ones(4, np.float32)
    ro.flags.writeable = False
    assert optim_kernels.adam([ro], [x], [x.copy()], [x.copy()], None, *args) is False
    assert optim_kernels.adam([x], [np.ones(5, np.float32)], [x], [x], None, *args) is False


def test_zero_dim_state_as_called_directly():
    # torch._fused_adam_ called on 0-dim tensors (the optimizers pass 1-dim views)
    def run(enabled):
        xs = [ember.tensor(1.5), ember.ones(3)]
        gs = [ember.tensor(0.25), ember.full((3,), -0.5)]
        ms, vs, vm = ([ember.zeros_like(x) for x in xs] for _ in range(3))
        st = [ember.tensor(1.0), ember.tensor(1.0)]
        old = K.set_disabled(not enabled)
        try:
            ember._fused_adam_(xs, gs, ms, vs, vm, st, lr=0.1, beta1=0.9, beta2=0.999,
                               weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
        finally:
            K.set_disabled(old)
        return [t.numpy() for t in xs + ms + vs]

    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)


_SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True},
    {"lr": 0.05, "weight_decay": 0.1, "maximize": True},
]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(_SGD_CASES)))
def test_sgd_one_call_equals_the_per_parameter_paths(dt, case, monkeypatch):
    _three_paths_agree(dt, ember.optim.SGD, _SGD_CASES[case], "sgd", monkeypatch)


_ADAGRAD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.05, "maximize": True, "weight_decay": 0.1, "eps": 1e-6},
]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(_ADAGRAD_CASES)))
def test_adagrad_one_call_equals_the_per_parameter_paths(dt, case, monkeypatch):
    _three_paths_agree(dt, ember.optim.Adagrad, _ADAGRAD_CASES[case], "adagrad", monkeypatch)
