"""``backend="nccl"`` at world size 1 on the GPU (CuPy's NCCL bindings, a real communicator).

In a dry run (``dev`` is "cpu") the same calls run on a "gloo" group with CPU tensors.
"""

from __future__ import annotations

import pytest

import ember

pytest.importorskip("mpi4py")
import ember.distributed as dist  # noqa: E402


@pytest.fixture
def world(dev):
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
