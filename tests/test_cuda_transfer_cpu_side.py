"""Host/device transfers and the training step's host syncs, checked on the fake CuPy
(issue 15): ``non_blocking`` copies, ``record_stream``, the DataLoader's pin thread, DDP's
device buckets over NCCL, and the host reads of device data in one training step.

The fake counts what a GPU would make the host wait for (``CALLS["host_syncs"]``: every
host read of device data and every stream synchronisation) and records each host-to-device
copy with whether its source was pinned (``CALLS["h2d"]``). The real run is
``tests/gpu/test_gpu_transfer.py``.
"""

from __future__ import annotations

import datetime
import select
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
import fake_cupy
from ember import nn
from ember.utils.data import DataLoader, Dataset, TensorDataset

C = fake_cupy.CALLS


@pytest.fixture
def fake(monkeypatch):
    fake_cupy.install(monkeypatch)
    C["host_syncs"], C["h2d"], C["d2h"], C["pin_threads"] = [], [], [], []
    yield sys.modules["cupy"]
    fake_cupy.uninstall()


def _syncs():
    out = list(C["host_syncs"])
    C["host_syncs"].clear()
    return out


# ============================================================================ transfers
def test_non_blocking_h2d_from_pinned_memory_does_not_wait(fake):
    x = ember.arange(12.0).reshape(3, 4)
    p = x.pin_memory()
    _syncs()
    y = p.to("cuda", non_blocking=True)
    assert _syncs() == [] and C["h2d"][-1]["pinned"]
    assert C["h2d"][-1]["stream"] is fake.cuda.get_current_stream()  # the current stream
    assert y.is_cuda and y.cpu().tolist() == x.tolist()
    for f in (lambda: p.cuda(non_blocking=True), lambda: p.to("cuda", None, True),
              lambda: p.to(device="cuda", dtype=ember.float32, non_blocking=True)):
        _syncs()
        z = f()
        assert _syncs() == [] and z.cpu().tolist() == x.tolist()


def test_blocking_h2d_leaves_the_source_free(fake):
    """Without non_blocking the source may be reused at once: a pinned source (copied
    straight from, asynchronously, by CuPy) is followed by a stream sync; a pageable one
    is staged by CuPy and needs none."""
    x = ember.ones(4)
    p = x.pin_memory()
    _syncs()
    p.to("cuda")
    assert _syncs() == ["Stream.synchronize"]
    x.to("cuda")
    ember.tensor([1.0, 2.0], device="cuda")
    assert _syncs() == []
    assert C["h2d"][-2]["pinned"] is False


def test_non_blocking_d2h_gives_pinned_memory(fake):
    y = ember.arange(6.0, device="cuda") * 2
    _syncs()
    h = y.to("cpu", non_blocking=True)
    assert _syncs() == [] and C["d2h"][-1]["blocking"] is False
    assert h.device.type == "cpu" and h.is_pinned()
    ember.cuda.synchronize()  # values are valid after a sync, as in PyTorch
    assert h.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    _syncs()
    b = y.cpu()
    assert _syncs() == ["asnumpy"] and not b.is_pinned()


def test_non_blocking_keeps_autograd(fake):
    x = ember.ones(3, requires_grad=True)
    z = (x.to("cuda", non_blocking=True) * 3).sum()
    z.backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


def test_record_stream(fake):
    from ember._backends import cupy_backend

    s = ember.cuda.Stream()
    x = ember.ones(4, device="cuda")
    with ember.cuda.stream(s):
        y = x * 2
    x.record_stream(s)
    assert any(a is x._data for _, a in cupy_backend._WATCH)  # held until s passes it
    y.record_stream(ember.cuda.current_stream())
    assert not any(a is x._data for _, a in cupy_backend._WATCH)  # the event had passed
    with pytest.raises(RuntimeError, match="expected a CUDA tensor"):
        ember.ones(2).record_stream(s)
    cupy_backend._WATCH.clear()


def test_device_capability_is_a_tuple_of_ints(fake):
    cap = ember.cuda.get_device_capability()
    assert type(cap) is tuple and cap == (9, 0) and all(type(v) is int for v in cap)
    assert ember.cuda.get_device_capability("cuda:0") == cap


# ============================================================================ DataLoader
class _Slow(Dataset):
    def __init__(self, n, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"bad sample {i}")
        return ember.full((3,), float(i)), i


def _collect(dl):
    out = []
    for x, y in dl:
        assert x.is_pinned() and y.is_pinned()
        out.append(y.tolist())
    return out


@pytest.mark.parametrize("in_order,persistent", [(True, False), (False, False),
                                                 (True, True)])
def test_dataloader_pins_in_a_thread(fake, in_order, persistent):
    dl = DataLoader(_Slow(22), batch_size=4, num_workers=2, pin_memory=True,
                    in_order=in_order, persistent_workers=persistent)
    for _ in range(2):  # two epochs: the thread is made per iterator
        C["pin_threads"].clear()
        got = _collect(dl)
        assert sorted(sum(got, [])) == list(range(22))
        if in_order:
            assert sum(got, []) == list(range(22))
        assert C["pin_threads"] and set(C["pin_threads"]) == {"ember_pin_memory_0"}


def test_dataloader_pins_ahead(fake):
    """After a batch is handed out, batches that already arrived are being pinned while the
    caller computes (PyTorch's pin-memory thread)."""
    dl = DataLoader(TensorDataset(ember.arange(64.0).reshape(16, 4)), batch_size=2,
                    num_workers=2, pin_memory=True, prefetch_factor=2)
    it = iter(dl)
    first = next(it)
    assert first[0].is_pinned()
    time.sleep(1.0)  # the workers answer the prefetched tasks (tiny batches)
    select.select(it._channels, [], [], 2.0)  # an answer is waiting (or all were taken in)
    second = next(it)
    # the batches after it are already with the pin thread, before they are asked for
    pending = [info[1] for info in it._task_info.values() if len(info) == 2]
    assert pending, "no batch was taken in ahead"
    for f in pending:
        assert f.result(timeout=20)[0].is_pinned()
    assert set(C["pin_threads"]) == {"ember_pin_memory_0"}
    rest = [b[0] for b in it]
    assert [b.tolist() for b in [first[0], second[0]] + rest] == \
        ember.arange(64.0).reshape(8, 2, 4).tolist()


def test_dataloader_pin_thread_errors_and_shutdown(fake):
    dl = DataLoader(_Slow(12, fail_at=5), batch_size=2, num_workers=2, pin_memory=True)
    it = iter(dl)
    assert next(it)[1].tolist() == [0, 1]
    assert next(it)[1].tolist() == [2, 3]
    with pytest.raises(ValueError, match="bad sample 5"):
        next(it)
    pinner = it._pinner
    it._shutdown_workers()
    assert pinner._shutdown


def test_dataloader_single_process_pins_in_the_caller(fake):
    dl = DataLoader(_Slow(6), batch_size=3, pin_memory=True)
    assert _collect(dl) == [[0, 1, 2], [3, 4, 5]]
    assert set(C["pin_threads"]) == {threading.current_thread().name}


@pytest.mark.parametrize("workers", [0, 1])
def test_dataloader_pin_memory_without_cuda(workers, monkeypatch):
    from ember._backends import cupy_backend

    cupy_backend._reset_for_tests()
    monkeypatch.setitem(sys.modules, "cupy", None)
    try:
        msg = ("'pin_memory' argument is set as true but no accelerator is found, then "
               "device pinned memory won't be used.")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            b = next(iter(DataLoader(TensorDataset(ember.arange(8.0)), batch_size=4,
                                     pin_memory=True, num_workers=workers)))
        assert [str(x.message) for x in w if "pin_memory" in str(x.message)] == [msg]
        assert b[0].tolist() == [0.0, 1.0, 2.0, 3.0] and not b[0].is_pinned()
        torch = sys.modules.get("torch")
        if torch is not None and not torch.cuda.is_available():  # PyTorch says the same
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                next(iter(torch.utils.data.DataLoader(torch.arange(8.0), batch_size=4,
                                                      pin_memory=True)))
            assert msg in [str(x.message) for x in w]
    finally:
        cupy_backend._reset_for_tests()


# ============================================================================ host syncs
def _mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


def _lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


@pytest.mark.parametrize("make", [_mlp, _lenet], ids=["mlp", "lenet"])
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("amp", [False, True], ids=["fp32", "amp"])
def test_training_step_host_syncs(fake, make, opt_name, amp):
    """One step reads the device on the host once: cross_entropy's target bounds check
    (PyTorch asserts on the device instead); GradScaler.step adds its one read of the inf
    flags, as PyTorch's does. Max pooling's NaN test and the backward's second bounds check
    no longer wait for the GPU."""
    ember.manual_seed(0)
    model = make().cuda()
    kw = {"momentum": 0.9} if opt_name == "SGD" else {}
    opt = getattr(ember.optim, opt_name)(model.parameters(), lr=0.01, **kw)
    scaler = ember.amp.GradScaler("cuda", enabled=amp)
    x, y = ember.randn(8, 1, 28, 28).cuda(), ember.randint(0, 10, (8,)).cuda()
    for _ in range(2):  # the second step: optimizer state exists
        _syncs()
        with ember.autocast("cuda", dtype=ember.float16, enabled=amp):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
    assert _syncs() == ["__bool__"] * (2 if amp else 1)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), float("-inf"), 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clipping, and not
def test_clip_grad_norm_stays_on_device(fake, norm_type, max_norm):
    """PyTorch's clip_grad_norm_ reads nothing on the host; ember's host path reads each
    partial norm, its device path none (one for error_if_nonfinite, as PyTorch)."""
    ember.manual_seed(0)
    grads = [ember.randn(5, 3), ember.randn(7), ember.randn(2, 2, 2)]
    cpu = [ember.zeros(g.shape, requires_grad=True) for g in grads]
    dev = [ember.zeros(g.shape, device="cuda", requires_grad=True) for g in grads]
    for a, b, g in zip(cpu, dev, grads):
        a.grad, b.grad = g.clone(), g.cuda()
    want = nn.utils.clip_grad_norm_(cpu, max_norm, norm_type)
    _syncs()
    got = nn.utils.clip_grad_norm_(dev, max_norm, norm_type)
    assert _syncs() == [] and got.is_cuda
    np.testing.assert_allclose(got.cpu().item(), want.item(), rtol=1e-5)
    for a, b in zip(cpu, dev):
        np.testing.assert_allclose(b.grad.cpu().numpy(), a.grad.numpy(), rtol=1e-5,
                                   atol=1e-7)
    dev[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(dev, 1.0, 2.0, error_if_nonfinite=True)


def test_cross_entropy_bounds_on_device(fake):
    x = ember.randn(4, 3, device="cuda")
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, ember.tensor([0, 1, 3, 2], device="cuda"))
    with pytest.raises(IndexError, match="Target -2 is out of bounds"):
        F.cross_entropy(x, ember.tensor([0, -2, 1, 2], device="cuda"))
    ok = F.cross_entropy(x, ember.tensor([0, -100, 1, 2], device="cuda"))  # ignore_index
    ref = F.cross_entropy(x.cpu(), ember.tensor([0, -100, 1, 2]))
    np.testing.assert_allclose(ok.cpu().item(), ref.item(), rtol=1e-6)


def test_max_pool_nan_on_device(fake):
    x = ember.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]])
    got = F.max_pool2d(x.cuda(), 2, return_indices=True)
    want = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(got[0].cpu().item()) and got[1].cpu().tolist() == want[1].tolist()


def test_cross_entropy_lenet_step_captured(fake, monkeypatch):
    """A LeNet SGD step with cross_entropy and max pooling replays from a CUDA graph and
    trains as eager steps do (before, the bounds check and the pool's NaN test read the
    device on the host, which a capture refuses)."""
    from ember.cuda import graphs

    monkeypatch.setattr(graphs.graph, "default_capture_stream", None)
    ember.manual_seed(1)
    nets = [_lenet().cuda(), _lenet().cuda()]
    nets[1].load_state_dict(nets[0].state_dict())
    data = [(ember.randn(8, 1, 28, 28), ember.randint(0, 10, (8,))) for _ in range(6)]

    def trainer(net):
        opt = ember.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        sx = ember.zeros(8, 1, 28, 28, device="cuda")
        sy = ember.zeros(8, dtype=ember.int64, device="cuda")

        def step():
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(net(sx), sy)
            loss.backward()
            opt.step()
            return loss
        return step, sx, sy

    step_e, ex, ey = trainer(nets[0])
    step_g, gx, gy = trainer(nets[1])
    eager = []
    for x, y in data:
        ex.copy_(x.cuda())
        ey.copy_(y.cuda())
        eager.append(float(step_e()))
    graphed = []
    s = ember.cuda.Stream()
    with ember.cuda.stream(s):
        for x, y in data[:2]:
            gx.copy_(x.cuda())
            gy.copy_(y.cuda())
            graphed.append(float(step_g()))
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        static_loss = step_g()
    for x, y in data[2:]:
        gx.copy_(x.cuda())
        gy.copy_(y.cuda())
        g.replay()
        graphed.append(float(static_loss))
    np.testing.assert_allclose(graphed, eager, rtol=1e-5)


# ============================================================================ DDP on NCCL
@pytest.fixture
def dist_mod():
    pytest.importorskip("mpi4py")
    import ember.distributed as dist

    yield dist
    if dist.is_initialized():
        dist.destroy_process_group()


def _net():
    return nn.Sequential(nn.Linear(8, 300), nn.ReLU(), nn.Linear(300, 4))


def test_ddp_cuda_buckets_world_of_one(fake, dist_mod):
    dist = dist_mod
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1)
    ember.manual_seed(0)
    ref = _net()
    m = _net()
    m.load_state_dict(ref.state_dict())
    ddp = DDP(m.cuda(), device_ids=[0])
    assert ddp.device_ids == [0] and ddp.output_device == 0
    assert all(b.buf is None or b.buf.__class__ is fake.ndarray for b in ddp._buckets)
    x = ember.randn(16, 8)
    ddp(x.cuda()).pow(2).sum().backward()
    ref(x).pow(2).sum().backward()
    for p, q in zip(ref.parameters(), m.parameters()):
        np.testing.assert_allclose(q.grad.cpu().numpy(), p.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert DDP(_net().cuda()).device_ids is None  # as PyTorch, when not given
    with pytest.raises(ValueError, match="can only be None or contain a single element"):
        DDP(_net().cuda(), device_ids=[0, 1])
    with pytest.raises(NotImplementedError, match="find_unused_parameters"):
        DDP(_net().cuda(), find_unused_parameters=True)
    with pytest.raises(ValueError, match="device_ids"):
        DDP(_net(), device_ids=[0])  # a CPU module: PyTorch's error, as before


class _Comm:  # the one method of an MPI communicator the NCCL path asks for
    def __init__(self, r):
        self.r = r

    def Get_rank(self):  # noqa: N802 - mpi4py's name
        return self.r


def test_ddp_over_nccl_world_of_two(fake, dist_mod, monkeypatch):
    """Two ranks of DDP on CUDA parameters, one after the other in this thread: the fake
    NCCL in its deferred mode completes each allReduce when the second rank joins, as NCCL
    completes on the devices (ember's autograd engine keeps its state per process, so two
    ranks cannot run backward in two threads of one process). Every bucket goes through one
    NCCL allReduce of a device buffer, backward reads nothing on the host, and both ranks
    end with the average of their gradients (``gradient_as_bucket_view``: the gradients are
    the buffers the reductions write)."""
    dist = dist_mod
    from ember.distributed import _c10d, _nccl
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    monkeypatch.setattr(_c10d._S, "store", dist.HashStore())
    monkeypatch.setattr(_nccl, "_group", lambda g: g)
    monkeypatch.setattr(DDP, "_verify_shapes", lambda self, d: None)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 2)
    monkeypatch.setattr(fake_cupy, "DEFERRED", [True])
    timeout = datetime.timedelta(seconds=30)
    pgs = [_c10d.ProcessGroup(_Comm(r), [0, 1], "nccl", timeout, None) for r in (0, 1)]
    # each rank's communicator is made on its first collective: rank 0 first, whose unique
    # id rank 1 then reads from the store
    ember.manual_seed(0)
    ref = _net()
    xs = [ember.randn(16, 8) for _ in range(2)]
    models, ddps = [], []
    C["nccl"] = []
    _syncs()
    for r in (0, 1):
        m = _net()
        m.load_state_dict(ref.state_dict())
        ddp = DDP(m.cuda(), process_group=pgs[r], init_sync=False, bucket_cap_mb=0.001,
                  gradient_as_bucket_view=True)
        models.append(m)
        ddps.append(ddp)
        x = xs[r].cuda()
        _syncs()
        ddp(x).pow(2).sum().backward()
        assert _syncs() == []
    calls = [c for c in C["nccl"] if c[0] == "allReduce"]
    assert len(calls) == 2 * len(ddps[0]._buckets) and len(ddps[0]._buckets) > 1
    for x in xs:
        ref(x).pow(2).sum().backward()
    for i, p in enumerate(ref.parameters()):
        for r in (0, 1):
            g = list(models[r].parameters())[i].grad
            assert g.is_cuda
            np.testing.assert_allclose(g.cpu().numpy(), p.grad.numpy() / 2, rtol=1e-4,
                                       atol=1e-5)
