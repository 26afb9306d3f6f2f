"""ember.multiprocessing: shared tensors across processes, reductions, spawn, cleanup."""

import gc
import multiprocessing
import os
import pickle
import signal
import sys
import time
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
from ember import nn
from ember.multiprocessing import _shm

FORK = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
needs_fork = pytest.mark.skipif(FORK is None, reason="needs the fork start method")
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(ember.__file__)), "examples")


def shm_names():
    d = _shm.SHM_DIR
    return {n for n in os.listdir(d) if n.startswith("ember_")} if d else set()


@pytest.fixture(autouse=True)
def no_leftovers():
    before = shm_names()
    yield
    left = multiprocessing.active_children()
    for p in left:
        p.kill()
        p.join()
    assert not left, f"child processes left running: {left}"
    assert shm_names() <= before, "ember segments left in /dev/shm"


def run_child(target, *args, method=FORK, timeout=30):
    p = mp.get_context(method).Process(target=target, args=args)
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        p.join()
        raise AssertionError("child did not finish")
    return p.exitcode


# module-level targets (picklable for spawn)
def _add_one(t):
    t.add_(1)


def _double_from_queue(q, done):
    x = q.get()
    x.mul_(2)
    done.put(x.is_shared())


def _send_new(q, done, n):
    t = ember.arange(float(n))
    q.put(t)
    q.put(t[2:4])  # a view of the same memory
    done.get()  # the sender must live until the receiver has taken the descriptors


def _fail(i, msg):
    if i == 1:
        raise ValueError(msg)


def _exit3(i):
    if i == 0:
        os._exit(3)


def _write_rank(i, t):
    t[i] = i + 1


def _alloc_and_die(q, nbytes):
    t = ember.zeros(nbytes // 4).share_memory_()
    t.fill_(1)
    q.put("ready")
    os.kill(os.getpid(), signal.SIGKILL)


def free_shm():
    return _shm.free_bytes()


# ---------------------------------------------------------------- share_memory_ / is_shared
def test_share_memory_in_place():
    t = ember.arange(6.0).reshape(2, 3)
    assert not t.is_shared()
    ptr = t.data_ptr()
    assert t.share_memory_() is t and t.is_shared()
    assert t.data_ptr() != ptr and t.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert t.share_memory_().data_ptr() == t.data_ptr()  # idempotent
    assert t[1].is_shared()  # views of shared memory are shared
    f = ember.zeros(3, 4).t()
    f.share_memory_()
    assert f.is_shared() and f.stride() == (1, 4)  # layout kept


def test_share_memory_of_view_keeps_aliasing():
    base = ember.arange(10.0)
    v = base[2:5]
    v.share_memory_()
    assert v.is_shared() and base.is_shared()
    v[0] = 100.0
    assert base[2].item() == 100.0 and v.storage_offset() == 2


def test_share_memory_keeps_autograd_state():
    p = ember.ones(3, requires_grad=True)
    p.share_memory_()
    (p * 2).sum().backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0] and p.requires_grad


# ---------------------------------------------------------------- pickling reductions
def test_reduction_same_memory_in_process():
    a = ember.arange(8.0)
    b, v = pickle.loads(ForkingPickler.dumps([a, a[3:6]]))
    assert a.is_shared()  # sending moved it to shared memory, like PyTorch
    b[0] = -1.0
    v[0] = 42.0
    assert a[0].item() == -1.0 and a[3].item() == 42.0
    assert _shm.segment_of(b._data) is _shm.segment_of(v._data)


def test_reduction_errors_and_types():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf tensor that requires grad"):
        ForkingPickler.dumps(x * 2)
    p = nn.Parameter(ember.ones(3))
    q = pickle.loads(ForkingPickler.dumps(p))
    assert type(q) is nn.Parameter and q.requires_grad and q.is_shared()
    leaf = pickle.loads(ForkingPickler.dumps(ember.zeros(2, requires_grad=True)))
    assert leaf.requires_grad and leaf.is_leaf
    empty = pickle.loads(ForkingPickler.dumps(ember.zeros(0, 3)))
    assert empty.shape == (0, 3)
    i = pickle.loads(ForkingPickler.dumps(ember.arange(5)))
    assert i.dtype == ember.int64 and i.tolist() == [0, 1, 2, 3, 4]


def test_plain_pickle_still_copies():
    a = ember.arange(3.0).share_memory_()
    b = pickle.loads(pickle.dumps(a))
    b[0] = 9.0
    assert a[0].item() == 0.0 and not b.is_shared()


# ---------------------------------------------------------------- across processes
@needs_fork
def test_child_modifies_shared_tensor_in_place():
    t = ember.zeros(4).share_memory_()
    assert run_child(_add_one, t) == 0
    assert t.tolist() == [1.0, 1.0, 1.0, 1.0]


@needs_fork
def test_queue_parent_to_child_same_memory():
    ctx = mp.get_context(FORK)
    q, done = ctx.Queue(), ctx.SimpleQueue()
    x = ember.ones(5)  # not shared yet: putting it on the queue shares it
    q.put(x)
    assert run_child(_double_from_queue, q, done) == 0
    assert done.get() is True and x.tolist() == [2.0] * 5


@needs_fork
def test_queue_child_to_parent_and_views():
    ctx = mp.get_context(FORK)
    q, done = ctx.Queue(), ctx.SimpleQueue()
    p = ctx.Process(target=_send_new, args=(q, done, 6))
    p.start()
    try:
        t = q.get(timeout=10)
        v = q.get(timeout=10)
        done.put("got them")
    finally:
        p.join(10)
    assert t.tolist() == [0, 1, 2, 3, 4, 5] and t.is_shared()
    v[0] = 50.0  # the view arrived as a view of the same segment
    assert t[2].item() == 50.0


@needs_fork
def test_pipe_sends_shared_tensor():
    a, b = mp.get_context(FORK).Pipe()
    t = ember.zeros(3)
    a.send(t)
    u = b.recv()
    u += 5
    assert t.tolist() == [5.0, 5.0, 5.0]


def test_spawned_child_modifies_shared_tensor():
    t = ember.zeros(3).share_memory_()
    assert run_child(_add_one, t, method="spawn") == 0
    assert t.tolist() == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------- memory release
@pytest.mark.skipif(_shm.SHM_DIR is None, reason="needs /dev/shm")
def test_memory_released_when_last_user_drops_it():
    nbytes = 64 << 20
    free0 = free_shm()
    t = ember.zeros(nbytes // 4).share_memory_()
    assert free0 - free_shm() >= nbytes * 0.9
    copy = pickle.loads(ForkingPickler.dumps(t))  # a second mapping of the same memory
    del t
    gc.collect()
    assert free0 - free_shm() >= nbytes * 0.9  # still used by `copy`
    del copy
    gc.collect()
    assert free0 - free_shm() < nbytes * 0.5


@needs_fork
@pytest.mark.skipif(_shm.SHM_DIR is None, reason="needs /dev/shm")
def test_memory_released_when_owner_is_killed():
    nbytes = 64 << 20
    free0 = free_shm()
    q = mp.get_context(FORK).SimpleQueue()
    p = mp.get_context(FORK).Process(target=_alloc_and_die, args=(q, nbytes))
    p.start()
    assert q.get() == "ready"
    p.join(10)
    assert p.exitcode == -signal.SIGKILL
    assert free0 - free_shm() < nbytes * 0.5


# ---------------------------------------------------------------- spawn
@needs_fork
def test_spawn_runs_all_and_shares():
    t = ember.zeros(3).share_memory_()
    assert mp.spawn(_write_rank, args=(t,), nprocs=3, start_method=FORK) is None
    assert t.tolist() == [1.0, 2.0, 3.0]
    ctx = mp.spawn(_write_rank, args=(t,), nprocs=1, join=False, start_method=FORK)
    assert len(ctx.pids()) == 1
    while not ctx.join():
        pass


@needs_fork
def test_spawn_raises_child_exception():
    with pytest.raises(mp.ProcessRaisedException, match="Process 1 terminated") as ei:
        mp.spawn(_fail, args=("boom in child",), nprocs=2, start_method=FORK)
    assert "ValueError: boom in child" in str(ei.value) and ei.value.error_index == 1
    with pytest.raises(mp.ProcessExitedException, match="exit code 3") as ei:
        mp.spawn(_exit3, nprocs=2, start_method=FORK)
    assert ei.value.exit_code == 3


def test_spawn_with_spawn_start_method():
    t = ember.zeros(2).share_memory_()
    mp.spawn(_write_rank, args=(t,), nprocs=2)  # default start_method="spawn"
    assert t.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------- module surface
def test_drop_in_for_multiprocessing():
    for name in ("Process", "Queue", "Pool", "Pipe", "get_context", "set_start_method",
                 "cpu_count", "SimpleQueue", "Lock"):
        assert getattr(mp, name) is getattr(multiprocessing, name)
    assert mp.get_sharing_strategy() == "file_descriptor"
    assert mp.get_all_sharing_strategies() == {"file_descriptor"}
    mp.set_sharing_strategy("file_descriptor")
    with pytest.raises(ValueError):
        mp.set_sharing_strategy("file_system")


@needs_fork
def test_pool_map_with_tensors():
    with mp.get_context(FORK).Pool(2) as pool:
        out = pool.map(np.sum, [np.ones(3), np.ones(4)])
    assert out == [3.0, 4.0]


@needs_fork
def test_hogwild_example_loss_falls():
    sys.path.insert(0, EXAMPLES)
    try:
        import hogwild
    finally:
        sys.path.remove(EXAMPLES)
    t0 = time.monotonic()
    before, after = hogwild.main(procs=2, steps=100, start_method=FORK)
    assert after < 0.5 * before
    assert time.monotonic() - t0 < 30
