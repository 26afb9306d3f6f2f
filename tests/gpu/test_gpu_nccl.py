"""``backend="nccl"`` at world size 1 on the GPU (CuPy's NCCL bindings, a real communicator).

In a dry run (``dev`` is "cpu") the same calls run on a "gloo" group with CPU tensors.
"""

from __future__ import annotations

import datetime

import pytest

import ember
import ember.distributed as dist
from ember.distributed import _c10d, _nccl


class _Comm:  # the one MPI-communicator method the NCCL path asks for
    def Get_rank(self):  # noqa: N802 - mpi4py's name
        return 0


@pytest.fixture
def ndev(dev, monkeypatch):
    """"cuda"; in a dry run, on the fake CuPy and its fake NCCL (which check the test)."""
    if dev == "cuda":
        yield "cuda"
        return
    import fake_cupy

    fake_cupy.install(monkeypatch)
    try:
        yield "cuda"
    finally:
        fake_cupy.uninstall()


def test_nccl_communicator_without_mpi(ndev, monkeypatch):
    """The NCCL path on its own (no mpi4py needed): a real communicator of one rank, unique
    id through a store, every collective of the NCCL path, float16 included."""
    monkeypatch.setattr(_c10d._S, "store", dist.HashStore())
    monkeypatch.setattr(_nccl, "_group", lambda g: g)
    pg = _c10d.ProcessGroup(_Comm(), [0], "nccl", datetime.timedelta(seconds=60), None)
    for dt in (ember.float32, ember.float16, ember.int64, ember.bool):
        t = ember.ones(257, dtype=dt, device="cuda")
        _nccl.all_reduce(t, dist.ReduceOp.SUM, pg, False)
        assert bool((t.cpu() == ember.ones(257, dtype=dt)).all())
    t = ember.arange(6.0, device="cuda")
    _nccl.broadcast(t, None, pg, False, 0)
    _nccl.reduce(t, None, dist.ReduceOp.MAX, pg, False, 0)
    out = [ember.zeros(6, device="cuda")]
    _nccl.all_gather(out, t, pg, False)
    small = ember.zeros(6, device="cuda")
    _nccl.reduce_scatter_tensor(small, out[0], dist.ReduceOp.SUM, pg, False)
    w = _nccl.all_reduce(small, dist.ReduceOp.AVG, pg, True)
    w.synchronize()
    assert w.is_completed() and small.cpu().tolist() == list(range(6))


@pytest.fixture
def world(dev):
    pytest.importorskip("mpi4py")
    backend = "nccl" if dev == "cuda" else "gloo"
    dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    yield backend
    dist.destroy_process_group()


def test_nccl_collectives_world_of_one(dev, world):
    assert dist.get_backend() == world
    if dev == "cuda":
        assert dist.is_nccl_available()
    for dt in (ember.float32, ember.float16, ember.float64, ember.int64, ember.bool):
        t = ember.ones(1000, dtype=dt, device=dev)
        dist.all_reduce(t)
        assert t.device.type == dev and bool((t.cpu() == ember.ones(1000, dtype=dt)).all())
    t = ember.arange(12.0, device=dev).reshape(3, 4).t()  # non-contiguous
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    assert t.cpu().tolist() == ember.arange(12.0).reshape(3, 4).t().tolist()
    dist.broadcast(t, src=0)
    dist.reduce(t, dst=0, op=dist.ReduceOp.MAX)
    out = [ember.zeros(4, 3, device=dev)]
    dist.all_gather(out, t)
    assert out[0].cpu().tolist() == t.cpu().tolist()
    big = ember.zeros(8, device=dev)
    dist.all_gather_into_tensor(big, ember.arange(8.0, device=dev))
    small = ember.zeros(8, device=dev)
    dist.reduce_scatter_tensor(small, big)
    assert small.cpu().tolist() == list(range(8))
    w = dist.all_reduce(small, async_op=True)
    w.wait()
    if dev == "cuda":
        ember.cuda.synchronize()
    assert w.is_completed() and small.cpu().tolist() == list(range(8))


def test_ddp_step_on_device(dev, world):
    """One DDP training step on the device (gradients all-reduced by the group)."""
    ember.manual_seed(0)
    net = ember.nn.Linear(8, 2).to(dev)
    ddp = ember.nn.parallel.DistributedDataParallel(net)
    loss = ddp(ember.randn(4, 8, device=dev)).pow(2).sum()
    loss.backward()
    assert all(p.grad is not None and p.grad.device.type == dev for p in net.parameters())
