"""Every optimizer's step through the backend seam: on the strict test backend
(tests/strict_backend.py, registered as the ``cuda`` device, whose arrays refuse any silent
conversion to host NumPy) each optimizer, on each of its paths, must give the NumPy
backend's trajectory with its parameters and state on the device.
"""

from __future__ import annotations

import copy
import pathlib
import sys

import numpy as np
import pytest

import ember

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # tests/
from ember import optim  # noqa: E402
from strict_backend import strict  # noqa: E402, F401  (the fixture)
from ember.nn import Parameter  # noqa: E402

SHAPES = [(3, 4), (5,), ()]
CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, maximize=True)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, decoupled_weight_decay=True, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9))),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3)),
    ("Adadelta", dict(weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Rprop", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, t0=2)),
]
PATHS = [dict(), dict(foreach=True), dict(foreach=False)]


def _run(name, kwargs, device, steps=6):
    rng = np.random.default_rng(0)
    params = [Parameter(ember.tensor(rng.standard_normal(s).astype(np.float32)).to(device))
              for s in SHAPES]
    opt = getattr(optim, name)(params, **copy.deepcopy(kwargs))
    for step in range(steps):
        for i, p in enumerate(params):
            g = rng.standard_normal(SHAPES[i]).astype(np.float32)
            if step == 2:
                g.flat[0] = 0.0
            p.grad = ember.tensor(g).to(device)
        opt.step()
    return params, opt


def _host(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("flags", PATHS, ids=["default", "foreach", "per-param"])
@pytest.mark.parametrize("case", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_step_runs_on_the_strict_backend(strict, case, flags):
    name, kwargs = case
    kwargs = {**kwargs, **flags}
    ref, ref_opt = _run(name, kwargs, "cpu")
    dev, dev_opt = _run(name, kwargs, "cuda")
    for r, d in zip(ref, dev):
        assert d.device.type == "cuda"
        np.testing.assert_allclose(_host(d), _host(r), rtol=1e-6, atol=1e-7)
        for k, v in ref_opt.state[r].items():
            dv = dev_opt.state[d][k]
            if v.dim():  # 0-dim step counters may stay on the host, as PyTorch's do
                assert dv.device.type == "cuda", k
            np.testing.assert_allclose(_host(dv), _host(v), rtol=1e-6, atol=1e-7)


def test_lbfgs_and_foreach_ops_on_the_strict_backend(strict):
    xs = [ember.tensor([1.0, -2.0, 3.0]).to("cuda"), ember.tensor(0.5).to("cuda")]
    ys = ember._foreach_addcdiv(xs, xs, ember._foreach_abs(xs), 0.5)
    assert [y.device.type for y in ys] == ["cuda", "cuda"]
    assert _host(ys[0]).tolist() == [1.5, -2.5, 3.5]
    assert float(_host(ember._foreach_norm(xs)[0])) == pytest.approx(14 ** 0.5)

    def fit(device):
        w = Parameter(ember.tensor([1.5, -0.5]).to(device))
        opt = optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=30)

        def closure():
            opt.zero_grad()
            loss = ((w - ember.tensor([0.25, 2.0]).to(device)) ** 2).sum() + (w ** 4).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return w

    np.testing.assert_allclose(_host(fit("cuda")), _host(fit("cpu")), rtol=1e-6)
