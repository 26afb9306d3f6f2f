"""``init_process_group("nccl")``: collectives on CUDA tensors through CuPy's NCCL bindings,
checked on the fake CuPy (``tests/fake_cupy.py``'s fake NCCL works on host memory through
the arrays' data pointers, as NCCL works on device pointers). A world of one runs through the
public API; a world of two runs the NCCL path from two threads. The real check at world
size 1 is ``tests/gpu/test_gpu_nccl.py``.
"""

from __future__ import annotations

import datetime
import sys
import threading

import numpy as np
import pytest

import ember
import fake_cupy

pytest.importorskip("mpi4py")
import ember.distributed as dist  # noqa: E402
from ember.distributed import _c10d, _nccl  # noqa: E402


@pytest.fixture
def fake(monkeypatch):
    fake_cupy.install(monkeypatch)
    yield sys.modules["cupy"]
    if dist.is_initialized():
        dist.destroy_process_group()
    fake_cupy.uninstall()


@pytest.fixture
def nccl_world(fake):
    dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1)
    yield fake
    dist.destroy_process_group()


def _calls(name):
    return [c for c in fake_cupy.CALLS["nccl"] if c[0] == name]


def test_nccl_availability(fake):
    assert dist.is_nccl_available()
    assert dist.Backend("nccl") == dist.Backend.NCCL


def test_nccl_refused_without_cuda(monkeypatch):
    import ember._backends.cupy_backend as cb

    cb._reset_for_tests()
    _nccl._reset_for_tests()
    monkeypatch.setitem(sys.modules, "cupy", None)
    try:
        assert dist.is_nccl_available() is False
        with pytest.raises(RuntimeError, match="doesn't have NCCL built in.*no CUDA device"):
            dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1)
        assert not dist.is_initialized()
    finally:
        cb._reset_for_tests()
        _nccl._reset_for_tests()


def test_nccl_world_of_one_collectives(nccl_world):
    assert dist.get_backend() == "nccl"
    t = ember.arange(6.0, device="cuda").reshape(2, 3)
    dist.all_reduce(t)
    assert t.is_cuda and t.cpu().tolist() == [[0, 1, 2], [3, 4, 5]]
    (init,) = _calls("init")
    assert init[1:] == (1, 0)  # NcclCommunicator(1, uid, 0), made once, on first use
    (ar,) = _calls("allReduce")
    assert ar[1] == "float32" and ar[2] == ember.cuda.current_stream().cuda_stream
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    assert t.cpu().tolist() == [[0, 1, 2], [3, 4, 5]]
    dist.broadcast(t, src=0)
    dist.reduce(t, dst=0, op=dist.ReduceOp.MAX)
    out = [ember.zeros(2, 3, device="cuda")]
    dist.all_gather(out, t)
    assert out[0].cpu().tolist() == t.cpu().tolist()
    big = ember.zeros(6, device="cuda")
    dist.all_gather_into_tensor(big, t.reshape(-1))
    assert big.cpu().tolist() == list(range(6))
    small = ember.zeros(6, device="cuda")
    dist.reduce_scatter_tensor(small, big)
    assert small.cpu().tolist() == list(range(6))
    assert len(_calls("init")) == 1
    assert {c[0] for c in fake_cupy.CALLS["nccl"]} == {
        "init", "allReduce", "broadcast", "reduce", "allGather", "reduceScatter"}


def test_nccl_dtypes_layouts_and_async(nccl_world):
    for dt, want in ((ember.float16, "float16"), (ember.float64, "float64"),
                     (ember.int64, "int64"), (ember.int32, "int32"), (ember.uint8, "uint8"),
                     (ember.bool, "uint8"), (ember.complex64, "float32")):
        t = ember.ones(4, dtype=dt, device="cuda")
        dist.all_reduce(t)
        assert t.dtype == dt and t.cpu().tolist() == ember.ones(4, dtype=dt).tolist()
        assert _calls("allReduce")[-1][1] == want
    # a non-contiguous tensor is reduced through a contiguous copy and written back
    base = ember.arange(12.0, device="cuda").reshape(3, 4)
    view = base.t()
    v0 = view._version
    dist.all_reduce(view)
    assert view._version > v0 and base.cpu().tolist() == ember.arange(12.0).reshape(3,
                                                                                   4).tolist()
    w = dist.all_reduce(ember.ones(3, device="cuda"), async_op=True)
    assert w.wait() is True and w.is_completed() and w.is_success()
    assert w.result()[0].cpu().tolist() == [1.0, 1.0, 1.0]
    assert w.get_future().wait()[0].is_cuda
    w.synchronize()


def test_nccl_errors(nccl_world):
    t = ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="all_reduce: Cannot use ReduceOp.BAND with NCCL"):
        dist.all_reduce(ember.ones(3, dtype=ember.int32, device="cuda"), op=dist.ReduceOp.BAND)
    with pytest.raises(RuntimeError, match="ReduceOp.AVG is not supported for dtype "
                                           "torch.int64"):
        dist.all_reduce(ember.ones(3, dtype=ember.int64, device="cuda"), op=dist.ReduceOp.AVG)
    with pytest.raises(RuntimeError, match="dtype torch.int16 is not supported by NCCL"):
        dist.all_reduce(ember.ones(3, dtype=ember.int16, device="cuda"))
    with pytest.raises(NotImplementedError, match="gather: CUDA tensors are not supported"):
        dist.gather(t, [ember.ones(3, device="cuda")], dst=0)
    with pytest.raises(NotImplementedError, match="send: CUDA tensors"):
        dist.send(t, dst=0)
    with pytest.raises(ValueError, match="all_gather: tensor_list has 2 tensors"):
        dist.all_gather([t, t], t)
    with pytest.raises(ValueError, match="all_gather_into_tensor: output of shape"):
        dist.all_gather_into_tensor(ember.ones(4, device="cuda"), t)
    # CPU tensors on an NCCL group still run (on MPI)
    c = ember.ones(2)
    dist.all_reduce(c)
    assert c.tolist() == [1.0, 1.0]


def test_nccl_new_group_and_device_id(fake):
    dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1,
                            device_id=ember.device("cuda:0"))
    g = dist.new_group([0])
    t = ember.full((2,), 3.0, device="cuda")
    dist.all_reduce(t, group=g)
    dist.all_reduce(t)
    assert t.cpu().tolist() == [3.0, 3.0]
    assert len(_calls("init")) == 2  # one communicator per group
    dist.destroy_process_group()
    with pytest.raises(NotImplementedError, match="device_id=.*backend='nccl'"):
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1,
                                device_id=ember.device("cuda:0"))


def test_cuda_tensors_on_a_gloo_group_are_staged(fake):
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    t = ember.arange(4.0, device="cuda")
    dist.all_reduce(t)
    dist.broadcast(t, src=0)
    out = [ember.zeros(4, device="cuda")]
    dist.all_gather(out, t)
    assert t.is_cuda and out[0].cpu().tolist() == [0.0, 1.0, 2.0, 3.0]
    assert fake_cupy.CALLS["nccl"] == []  # through host copies and MPI, not NCCL


def test_nccl_unique_id_as_tuple(fake):
    fake_cupy.UID_AS_TUPLE[0] = True  # CuPy before 14
    dist.init_process_group("nccl", store=dist.HashStore(), rank=0, world_size=1)
    t = ember.ones(2, device="cuda")
    dist.all_reduce(t)
    assert t.cpu().tolist() == [1.0, 1.0]


class _Comm:  # the MPI communicator's one method the NCCL path asks for
    def __init__(self, r):
        self.r = r

    def Get_rank(self):  # noqa: N802 - mpi4py's name
        return self.r


def test_nccl_world_of_two_threads(fake, monkeypatch):
    """Two ranks (threads) through the NCCL path: the unique id travels through the store,
    results agree with the reductions computed here."""
    store = dist.HashStore()
    monkeypatch.setattr(_c10d._S, "store", store)
    monkeypatch.setattr(_nccl, "_group", lambda g: g)
    timeout = datetime.timedelta(seconds=30)
    pgs = [_c10d.ProcessGroup(_Comm(r), [0, 1], "nccl", timeout, None) for r in (0, 1)]
    results, errors = {}, []

    def rank(r):
        try:
            pg = pgs[r]
            a = ember.tensor([1.0 + r, 10.0 * (r + 1)], device="cuda")
            _nccl.all_reduce(a, dist.ReduceOp.SUM, pg, False)
            m = ember.tensor([float(r), 5.0 - r], device="cuda")
            _nccl.all_reduce(m, dist.ReduceOp.MAX, pg, False)
            avg = ember.tensor([2.0 * r], device="cuda")
            _nccl.all_reduce(avg, dist.ReduceOp.AVG, pg, False)
            b = ember.full((2,), float(r + 7), device="cuda")
            _nccl.broadcast(b, None, pg, False, 1)
            red = ember.full((2,), float(r + 1), device="cuda")
            _nccl.reduce(red, None, dist.ReduceOp.PRODUCT, pg, False, 0)
            outs = [ember.zeros(2, device="cuda") for _ in range(2)]
            _nccl.all_gather(outs, ember.full((2,), float(r), device="cuda"), pg, False)
            rs = ember.zeros(2, device="cuda")
            _nccl.reduce_scatter_tensor(rs, ember.arange(4.0, device="cuda") * (r + 1),
                                        dist.ReduceOp.SUM, pg, False)
            flag = ember.tensor([r == 1, False], device="cuda")
            _nccl.all_reduce(flag, dist.ReduceOp.SUM, pg, False)
            results[r] = [x.cpu().tolist() for x in (a, m, avg, b, red, *outs, rs, flag)]
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=rank, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for r in (0, 1):
        a, m, avg, b, red, g0, g1, rs, flag = results[r]
        assert a == [3.0, 30.0] and m == [1.0, 5.0] and avg == [1.0] and b == [8.0, 8.0]
        assert red == ([2.0, 2.0] if r == 0 else [2.0, 2.0])  # rank 1 keeps its own
        assert g0 == [0.0, 0.0] and g1 == [1.0, 1.0]
        total = np.arange(4.0) * 3
        assert rs == total[2 * r:2 * r + 2].tolist()
        assert flag == [True, False]
    assert len(_calls("init")) == 2
