"""Transfers on the GPU (issue 15): ``non_blocking`` copies from pinned memory, the
DataLoader's pin thread feeding a training loop, ``record_stream``, DDP's device buckets, and
a LeNet step with cross_entropy and max pooling captured in a CUDA graph (a capture refuses
any host synchronisation, so it proves the step has none).

In a dry run (``dev`` is "cpu") the tests run on the fake CuPy where they can (the timing
check needs a real GPU and skips); ``tests/test_cuda_transfer_cpu_side.py`` is the CPU side.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.utils.data import DataLoader, TensorDataset


@pytest.fixture
def gdev(dev, monkeypatch):
    """"cuda"; in a dry run the fake CuPy stands in (it checks the tests' logic)."""
    if dev == "cuda":
        yield "cuda"
        return
    import fake_cupy
    from ember.cuda import graphs

    fake_cupy.install(monkeypatch)
    monkeypatch.setattr(graphs.graph, "default_capture_stream", None)
    try:
        yield "cuda"
    finally:
        fake_cupy.uninstall()


def test_non_blocking_copy_returns_before_the_copy_ends(dev):
    if dev != "cuda":
        pytest.skip("timing needs a real GPU")
    h = ember.arange(1 << 26, dtype=ember.float32).pin_memory()  # 256 MiB
    ember.cuda.synchronize()
    t0 = time.perf_counter()
    d = h.to("cuda", non_blocking=True)
    queued = time.perf_counter() - t0
    s = d.sum()  # ordered after the copy on the same stream
    ember.cuda.synchronize()
    total = time.perf_counter() - t0
    print(f"non_blocking H2D of 256 MiB: call {queued * 1e3:.3f} ms, copy+sum "
          f"{total * 1e3:.3f} ms")
    assert queued < 0.5 * total
    assert s.item() == pytest.approx(float(np.arange(1 << 26, dtype=np.float64).sum()),
                                     rel=1e-6)


def test_blocking_copy_from_pinned_leaves_the_source_free(gdev):
    h = ember.ones(1 << 20).pin_memory()
    d = h.to("cuda")
    h.fill_(5.0)  # the copy is complete: the device keeps the old values
    assert d.sum().item() == float(1 << 20)
    back = d.to("cpu", non_blocking=True)
    assert back.is_pinned()
    ember.cuda.synchronize()
    assert back.sum().item() == float(1 << 20)


def test_side_stream_copy_with_record_stream(gdev):
    h = ember.arange(4096.0).pin_memory()
    side = ember.cuda.Stream()
    with ember.cuda.stream(side):
        d = h.to("cuda", non_blocking=True)
    main = ember.cuda.current_stream()
    main.wait_stream(side)
    d.record_stream(main)
    assert (d * 2).sum().item() == float(np.arange(4096.0).sum() * 2)


def test_pinned_loader_trains_like_the_plain_one(gdev):
    ember.manual_seed(0)
    ds = TensorDataset(ember.randn(256, 20), ember.randint(0, 4, (256,)))

    def run(pin, workers):
        ember.manual_seed(1)
        net = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 4)).cuda()
        opt = ember.optim.SGD(net.parameters(), lr=0.1)
        losses = []
        for x, y in DataLoader(ds, batch_size=32, num_workers=workers, pin_memory=pin):
            assert x.is_pinned() == pin
            x, y = x.to("cuda", non_blocking=True), y.to("cuda", non_blocking=True)
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        return [v.item() for v in losses]

    plain = run(False, 0)
    np.testing.assert_allclose(run(True, 2), plain, rtol=1e-5)
    np.testing.assert_allclose(run(True, 0), plain, rtol=1e-5)


def test_ddp_buckets_live_on_the_device(gdev, monkeypatch):
    pytest.importorskip("mpi4py")
    import ember.distributed as dist
    from ember.nn.parallel import DistributedDataParallel as DDP

    cp = ember._backends.for_device("cuda").xp
    backend = "nccl" if dist.is_nccl_available() else "gloo"
    dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    try:
        net = nn.Sequential(nn.Linear(8, 300), nn.ReLU(), nn.Linear(300, 4)).cuda()
        ddp = DDP(net, device_ids=[ember.cuda.current_device()])
        assert all(b.buf is None or isinstance(b.buf, cp.ndarray) for b in ddp._buckets)
        ddp(ember.randn(4, 8, device="cuda")).sum().backward()
        assert all(p.grad.is_cuda for p in net.parameters())
    finally:
        dist.destroy_process_group()


def test_lenet_cross_entropy_step_captured(gdev):
    """cross_entropy (target bounds checked on the host only outside a capture, not again
    in backward) and max pooling (no NaN test on the host) capture; the pool grows during
    the capture in CUDA's default "global" mode (the allocator relaxes its thread's mode)."""
    def lenet():
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 10))

    ember.manual_seed(3)
    nets = [lenet().cuda(), lenet().cuda()]
    nets[1].load_state_dict(nets[0].state_dict())
    data = [(ember.randn(16, 1, 28, 28), ember.randint(0, 10, (16,))) for _ in range(6)]
    steps = []
    for net in nets:
        opt = ember.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        sx = ember.zeros(16, 1, 28, 28, device="cuda")
        sy = ember.zeros(16, dtype=ember.int64, device="cuda")

        def step(net=net, opt=opt, sx=sx, sy=sy):
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(net(sx), sy)
            loss.backward()
            opt.step()
            return loss
        steps.append((step, sx, sy))
    (step_e, ex, ey), (step_g, gx, gy) = steps
    eager = []
    for x, y in data:
        ex.copy_(x.cuda())
        ey.copy_(y.cuda())
        eager.append(step_e().item())
    graphed = []
    s = ember.cuda.Stream()
    with ember.cuda.stream(s):
        for x, y in data[:2]:
            gx.copy_(x.cuda())
            gy.copy_(y.cuda())
            graphed.append(step_g().item())
    s.synchronize()
    ember.cuda.empty_cache()  # the capture must grow the pool
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        static_loss = step_g()
    for x, y in data[2:]:
        gx.copy_(x.cuda())
        gy.copy_(y.cuda())
        g.replay()
        graphed.append(static_loss.item())
    np.testing.assert_allclose(graphed, eager, rtol=1e-4)
