"""CUDA graphs on the GPU: replay semantics, a captured training step (eager and compiled)
equal to eager training, ``make_graphed_callables``.

A dry run has no GPU: these tests then run on the fake CuPy (``tests/fake_cupy.py``), which
checks the tests themselves.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F


@pytest.fixture
def gdev(dev, monkeypatch):
    if dev == "cuda":
        yield "cuda"
        return
    import fake_cupy
    from ember.cuda import graphs

    fake_cupy.install(monkeypatch)
    monkeypatch.setattr(graphs.graph, "default_capture_stream", None)
    yield "cuda"
    fake_cupy.uninstall()


def test_graph_replay(gdev):
    x = ember.zeros(1 << 16, device=gdev)
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        y = (x * 2 + 1).relu().sum()
    for v in (1.0, 3.0):
        x.fill_(v)
        g.replay()
        assert float(y) == pytest.approx((2 * v + 1) * (1 << 16), rel=1e-5)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_graphed_training_step_equals_eager(gdev, compiled):
    ember.manual_seed(0)
    xs = [ember.randn(64, 32) for _ in range(10)]
    data = [(x, x[:, :4].sum(1, keepdim=True).sin()) for x in xs]
    nets = []
    for _ in range(2):
        ember.manual_seed(1)
        nets.append(ember.nn.Sequential(ember.nn.Linear(32, 64), ember.nn.ReLU(),
                                        ember.nn.Linear(64, 1)).to(gdev))
    losses = []
    for k, net in enumerate(nets):
        model = ember.compile(net) if compiled else net
        opt = ember.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        sx, sy = ember.zeros(64, 32, device=gdev), ember.zeros(64, 1, device=gdev)

        def step(model=model, opt=opt, sx=sx, sy=sy):
            opt.zero_grad(set_to_none=False)
            loss = F.mse_loss(model(sx), sy)
            loss.backward()
            opt.step()
            return loss
        out = []
        s = ember.cuda.Stream()
        with ember.cuda.stream(s):
            for x, y in data[:3]:
                sx.copy_(x.to(gdev))
                sy.copy_(y.to(gdev))
                out.append(float(step()))
        ember.cuda.current_stream().wait_stream(s)
        if k == 0:  # eager
            for x, y in data[3:]:
                sx.copy_(x.to(gdev))
                sy.copy_(y.to(gdev))
                out.append(float(step()))
        else:
            g = ember.cuda.CUDAGraph()
            with ember.cuda.graph(g):
                static_loss = step()
            for x, y in data[3:]:
                sx.copy_(x.to(gdev))
                sy.copy_(y.to(gdev))
                g.replay()
                out.append(float(static_loss))
        losses.append(out)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().cpu().numpy(),
                                   rtol=1e-4, atol=1e-6)
    start = nets[0][0].weight.detach().cpu().numpy()
    ember.manual_seed(1)
    assert not np.allclose(start, ember.nn.Linear(32, 64).weight.detach().numpy())  # trained


def test_make_graphed_callables(gdev):
    ember.manual_seed(0)
    ref = ember.nn.Sequential(ember.nn.Linear(16, 32), ember.nn.GELU(), ember.nn.Linear(32, 4))
    mod = ember.nn.Sequential(ember.nn.Linear(16, 32), ember.nn.GELU(), ember.nn.Linear(32, 4))
    mod.load_state_dict(ref.state_dict())
    ref.to(gdev)
    mod.to(gdev)
    gmod = ember.cuda.make_graphed_callables(mod, (ember.randn(8, 16, device=gdev,
                                                               requires_grad=True),))
    for p in mod.parameters():
        p.grad = None
    x = ember.randn(8, 16)
    xa, xb = x.to(gdev).requires_grad_(), x.to(gdev).requires_grad_()
    ya, yb = ref(xa), gmod(xb)
    ya.pow(2).sum().backward()
    yb.pow(2).sum().backward()
    np.testing.assert_allclose(yb.detach().cpu().numpy(), ya.detach().cpu().numpy(),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(xb.grad.cpu().numpy(), xa.grad.cpu().numpy(), rtol=1e-4,
                               atol=1e-6)
    for a, b in zip(ref.parameters(), mod.parameters(), strict=True):
        np.testing.assert_allclose(b.grad.cpu().numpy(), a.grad.cpu().numpy(), rtol=1e-4,
                                   atol=1e-6)
