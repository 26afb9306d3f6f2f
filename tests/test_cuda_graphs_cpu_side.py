"""CUDA graphs (``ember.cuda.CUDAGraph``/``graph``/``make_graphed_callables``) on the fake CuPy.

The fake's stream capture (``tests/fake_cupy.py``) keeps CUDA's semantics: a capture leaves
the memory that existed before it unchanged and the memory it allocated undefined (NaN), and
each launch re-runs the recorded calls on the current contents of the recorded arrays. The
real run is ``tests/gpu/test_gpu_graphs.py``.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import ember
import ember.nn.functional as F
import fake_cupy
from ember.cuda import graphs


@pytest.fixture
def fake(monkeypatch):
    fake_cupy.install(monkeypatch)
    monkeypatch.setattr(graphs.graph, "default_capture_stream", None)
    yield sys.modules["cupy"]
    fake_cupy.uninstall()


def test_replay_reads_static_inputs(fake):
    g = ember.cuda.CUDAGraph()
    x = ember.zeros(4, device="cuda")
    with ember.cuda.graph(g):
        assert ember.cuda.is_current_stream_capturing()
        y = (x * 2 + 1).exp().log()
    assert not ember.cuda.is_current_stream_capturing()
    assert np.isnan(y.cpu().numpy()).all()  # undefined until the first replay
    assert x.cpu().tolist() == [0.0] * 4
    for vals in ([0.0, 1.0, 2.0, 3.0], [5.0, 5.0, 5.0, 5.0]):
        x.copy_(ember.tensor(vals, device="cuda"))
        g.replay()
        np.testing.assert_allclose(y.cpu().numpy(), np.array(vals) * 2 + 1, rtol=1e-6)
    g.reset()
    with pytest.raises(RuntimeError, match="has not been captured"):
        g.replay()


def test_capture_changes_nothing_that_existed(fake):
    p = ember.ones(3, device="cuda")
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        p.add_(1)
        p.mul_(3)
    assert p.cpu().tolist() == [1.0, 1.0, 1.0]  # the capture ran nothing
    g.replay()
    assert p.cpu().tolist() == [6.0, 6.0, 6.0]
    g.replay()
    assert p.cpu().tolist() == [21.0, 21.0, 21.0]


def _make(seed=0):
    ember.manual_seed(seed)
    return ember.nn.Sequential(ember.nn.Linear(4, 16), ember.nn.Tanh(),
                               ember.nn.Linear(16, 1)).cuda()


def _batches(n):
    ember.manual_seed(42)
    xs = [ember.randn(16, 4) for _ in range(n)]
    return [(x, x.sum(1, keepdim=True).sin()) for x in xs]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_graphed_training_step_equals_eager(fake, compiled):
    data = _batches(8)

    def trainer(net):
        model = ember.compile(net) if compiled else net
        opt = ember.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        sx, sy = ember.zeros(16, 4, device="cuda"), ember.zeros(16, 1, device="cuda")

        def step():
            opt.zero_grad(set_to_none=False)
            loss = F.mse_loss(model(sx), sy)
            loss.backward()
            opt.step()
            return loss
        return step, sx, sy

    eager_net, graph_net = _make(), _make()
    start = [p.detach().cpu().numpy().copy() for p in eager_net.parameters()]
    step_e, ex, ey = trainer(eager_net)
    step_g, gx, gy = trainer(graph_net)
    eager_losses, graph_losses = [], []
    for x, y in data:
        ex.copy_(x.cuda())
        ey.copy_(y.cuda())
        eager_losses.append(float(step_e()))
    s = ember.cuda.Stream()
    with ember.cuda.stream(s):  # warm-up: momentum buffers exist before the capture
        for x, y in data[:3]:
            gx.copy_(x.cuda())
            gy.copy_(y.cuda())
            graph_losses.append(float(step_g()))
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        static_loss = step_g()
    for x, y in data[3:]:
        gx.copy_(x.cuda())
        gy.copy_(y.cuda())
        g.replay()
        graph_losses.append(float(static_loss))
    np.testing.assert_allclose(graph_losses, eager_losses, rtol=1e-5)
    for a, b in zip(eager_net.parameters(), graph_net.parameters(), strict=True):
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().cpu().numpy(),
                                   rtol=1e-5, atol=1e-7)
    assert all(not np.allclose(p.detach().cpu().numpy(), q)  # the replays trained it
               for p, q in zip(graph_net.parameters(), start, strict=True))


def test_capture_errors_leave_a_clean_state(fake):
    g = ember.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="non-default stream"):
        g.capture_begin()
    x = ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="not permitted while a stream is capturing"):
        with ember.cuda.graph(g):
            float(x.sum())  # a host synchronisation
    assert not ember.cuda.is_current_stream_capturing() and graphs._CAPTURING[0] is None
    with pytest.raises(RuntimeError, match="pageable"):
        with ember.cuda.graph(ember.cuda.CUDAGraph()):
            ember.randn(3, device="cuda")  # drawn on the host, then copied
    with ember.cuda.graph(g):
        y = x + 1
    with pytest.raises(RuntimeError, match="already owns a captured graph"):
        g.capture_begin()
    with pytest.raises(ValueError, match="capture_error_mode"):
        ember.cuda.CUDAGraph().capture_begin(capture_error_mode="loose")
    with pytest.raises(NotImplementedError, match="debug"):
        g.debug_dump("/tmp/x")
    g.replay()
    assert y.cpu().tolist() == [2.0, 2.0, 2.0]
    modes = []
    s = ember.cuda.Stream()
    with ember.cuda.stream(s):
        for mode in ("global", "thread_local", "relaxed"):
            h = ember.cuda.CUDAGraph()
            h.capture_begin(pool=g.pool(), capture_error_mode=mode)
            modes.append(s._s.capture_mode)
            h.capture_end()
    assert modes == [0, 1, 2]  # cudaStreamCaptureMode values


def test_make_graphed_callables_matches_eager(fake):
    ember.manual_seed(0)
    ref = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 3))
    mod = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 3))
    mod.load_state_dict(ref.state_dict())
    ref.cuda()
    mod.cuda()
    sample = ember.randn(5, 4, device="cuda", requires_grad=True)
    gmod = ember.cuda.make_graphed_callables(mod, (sample,))
    assert gmod is mod
    for p in mod.parameters():
        p.grad = None
    for seed in (1, 2):
        ember.manual_seed(seed)
        x = ember.randn(5, 4)
        xa, xb = x.cuda().requires_grad_(), x.cuda().requires_grad_()
        ya, yb = ref(xa), gmod(xb)
        np.testing.assert_allclose(yb.detach().cpu().numpy(), ya.detach().cpu().numpy(),
                                   rtol=1e-6)
        (ya * ya).sum().backward()
        (yb * yb).sum().backward()
        np.testing.assert_allclose(xb.grad.cpu().numpy(), xa.grad.cpu().numpy(), rtol=1e-5)
    for a, b in zip(ref.parameters(), mod.parameters(), strict=True):  # accumulated twice
        np.testing.assert_allclose(b.grad.cpu().numpy(), a.grad.cpu().numpy(), rtol=1e-5)
    with pytest.raises(RuntimeError, match="differs from the sample"):
        gmod(ember.randn(6, 4, device="cuda"))


def test_make_graphed_function(fake):
    w = ember.randn(3, 3, device="cuda", requires_grad=True)

    def f(a):
        return (a @ w).tanh(), a.sum()

    a0 = ember.randn(2, 3, device="cuda")
    gf = ember.cuda.make_graphed_callables(f, (a0,))
    a = ember.randn(2, 3, device="cuda")
    t, s = gf(a)
    et, es = f(a)
    np.testing.assert_allclose(t.detach().cpu().numpy(), et.detach().cpu().numpy(),
                               rtol=1e-6)
    assert float(s) == pytest.approx(float(es))


def test_memory_allocated_during_capture_is_kept(fake, monkeypatch):
    from ember._backends import cupy_backend

    modes = []
    thread_mode = [0]  # this thread's capture mode: global

    def exchange(ptr):  # the driver's cuThreadExchangeStreamCaptureMode, by pointer
        modes.append(ptr._obj.value)
        thread_mode[0], ptr._obj.value = ptr._obj.value, thread_mode[0]
        return 0

    monkeypatch.setitem(cupy_backend._STATE, "exchange", exchange)
    kept = []
    g = ember.cuda.CUDAGraph()
    s = ember.cuda.Stream()
    with ember.cuda.stream(s):
        g.capture_begin()
        assert cupy_backend._STATE["capture_keep"] is g._memory
        kept.append(cupy_backend._tracking_malloc(256))
        # the pool grew with the thread's mode relaxed (2), then global (0) again
        assert modes == [2, 0] and thread_mode[0] == 0
        g.capture_end()
    assert cupy_backend._STATE["capture_keep"] is None and g._memory == kept
    cupy_backend._tracking_malloc(128)
    assert g._memory == kept and modes == [2, 0]  # outside a capture: no exchange
    g.reset()
    assert g._memory == []
