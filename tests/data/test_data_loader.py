"""DataLoader: batching, workers, ordering, seeding, failures, cleanup (ember.utils.data)."""

import gc
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import ember
import ember.multiprocessing  # noqa: F401  (Tensor.is_shared)
from ember.multiprocessing import _shm
from ember.utils.data import (DataLoader, Dataset, IterableDataset, TensorDataset,
                              get_worker_info)
from ember.utils.data import dataloader as dl_mod

FORK = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
pytestmark = pytest.mark.skipif(FORK is None, reason="needs the fork start method")


def shm_names():
    d = _shm.SHM_DIR
    return {n for n in os.listdir(d) if n.startswith("ember_")} if d else set()


@pytest.fixture(autouse=True)
def no_leftovers():
    before = shm_names()
    yield
    gc.collect()
    deadline = time.monotonic() + 5
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = multiprocessing.active_children()
    for p in left:
        p.kill()
        p.join()
    assert not left, f"worker processes left running: {left}"
    assert shm_names() <= before, "ember segments left in /dev/shm"


class Squares(Dataset):
    def __init__(self, n=20, shape=()):
        self.n, self.shape = n, shape

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return ember.full(self.shape, float(i * i)) if self.shape else i * i


class Sharded(IterableDataset):
    def __init__(self, n, shard=True, length=None):
        self.n, self.shard, self.length = n, shard, length

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        if self.length is None:
            raise TypeError("no len")
        return self.length


class RandomAug(Dataset):
    """Samples carry the worker id and draws from each RNG a worker seeds."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return (i, -1 if info is None else info.id, random.random(), float(np.random.rand()),
                float(ember.rand(()).item()), os.getpid())


def loader(ds, **kw):
    if kw.get("num_workers", 0) > 0:
        kw.setdefault("multiprocessing_context", FORK)
    return DataLoader(ds, **kw)


def flat(batches):
    return [v for b in batches for v in b.tolist()]


# ---------------------------------------------------------------- single process semantics
def test_basic_batches_and_len():
    out = list(DataLoader(Squares(10), batch_size=4))
    assert [b.tolist() for b in out] == [[0, 1, 4, 9], [16, 25, 36, 49], [64, 81]]
    assert len(DataLoader(Squares(10), batch_size=4)) == 3
    assert len(DataLoader(Squares(10), batch_size=4, drop_last=True)) == 2
    unbatched = list(DataLoader(Squares(3), batch_size=None))
    assert unbatched == [0, 1, 4]  # default_convert leaves Python ints alone
    assert len(DataLoader(Sharded(10, length=10), batch_size=3)) == 4
    assert len(DataLoader(Sharded(10, length=10), batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(Sharded(10, length=10), batch_size=None)) == 10


def test_tensor_dataset_shuffle_reproducible():
    ds = TensorDataset(ember.arange(50), ember.arange(50) * 2)
    a = [x.tolist() for x, _ in DataLoader(ds, batch_size=8, shuffle=True,
                                           generator=ember.Generator().manual_seed(1))]
    b = [x.tolist() for x, _ in DataLoader(ds, batch_size=8, shuffle=True,
                                           generator=ember.Generator().manual_seed(1))]
    assert a == b and sorted(sum(a, [])) == list(range(50)) and sum(a, []) != list(range(50))


def test_argument_validation():
    ds = Squares(4)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(ds, timeout=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Sharded(3), shuffle=True)
    with pytest.raises(ValueError, match="sampler"):
        DataLoader(Sharded(3), sampler=[0])
    with pytest.raises(ValueError, match="multiprocessing_context"):
        DataLoader(ds, multiprocessing_context="fork")
    with pytest.raises(ValueError, match="start method"):
        DataLoader(ds, num_workers=1, multiprocessing_context="nope")
    with pytest.raises(TypeError):
        DataLoader(ds, num_workers=1, multiprocessing_context=3)
    d = DataLoader(ds)
    with pytest.raises(ValueError, match="should not be set after"):
        d.batch_size = 3
    d.num_workers = 0  # other attributes may change


def test_batch_sampler_and_sampler_arguments():
    out = list(DataLoader(Squares(6), batch_sampler=[[5, 0], [1]]))
    assert [b.tolist() for b in out] == [[25, 0], [1]]
    out = list(DataLoader(Squares(6), sampler=[3, 2], batch_size=5))
    assert [b.tolist() for b in out] == [[9, 4]]


def test_matches_torch_len_and_batches():
    torch = pytest.importorskip("torch")
    tdata = torch.utils.data
    for kw in [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
               dict(batch_size=7)]:
        ours = DataLoader(Squares(10), **kw)
        theirs = tdata.DataLoader([i * i for i in range(10)], **kw)
        assert len(ours) == len(theirs)
        assert [b.tolist() if hasattr(b, "tolist") else b for b in ours] == \
            [b.tolist() if hasattr(b, "tolist") else b for b in theirs]


def test_iterable_len_warning():
    d = DataLoader(Sharded(5, length=3), batch_size=None)
    assert len(d) == 3
    with pytest.warns(UserWarning, match="Length of IterableDataset"):
        assert list(d) == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------- workers
def test_workers_same_batches_as_main_process():
    ds = Squares(37, shape=(3, 8))
    kw = dict(batch_size=5, shuffle=True)
    a = [b.clone() for b in DataLoader(ds, generator=ember.Generator().manual_seed(7), **kw)]
    b = list(loader(ds, num_workers=2, generator=ember.Generator().manual_seed(7), **kw))
    assert len(a) == len(b) == 8
    for x, y in zip(a, b):
        assert ember.equal(x, y)


def test_in_order_false_yields_every_batch():
    out = list(loader(Squares(30), batch_size=4, num_workers=2, in_order=False))
    assert sorted(flat(out)) == [i * i for i in range(30)]


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_iterable_sharding_each_element_once():
    out = list(loader(Sharded(23), batch_size=4, num_workers=3))
    assert sorted(flat(out)) == list(range(23))
    out = list(loader(Sharded(5), batch_size=None, num_workers=2))
    assert sorted(int(x) for x in out) == list(range(5))
    dup = list(loader(Sharded(4, shard=False), batch_size=2, num_workers=2))
    assert sorted(flat(dup)) == [0, 0, 1, 1, 2, 2, 3, 3]  # unsharded: each worker has all


def test_iterable_drop_last_per_worker():
    out = list(loader(Sharded(9), batch_size=2, num_workers=2, drop_last=True))
    assert all(len(b) == 2 for b in out) and len(out) == 4


def test_worker_info_and_seeding():
    assert get_worker_info() is None

    def run(seed):
        g = ember.Generator().manual_seed(seed)
        rows = []
        for b in loader(RandomAug(), batch_size=2, num_workers=2, generator=g):
            idx, wid, r1, r2, r3, _ = b
            rows += list(zip(idx.tolist(), wid.tolist(), r1.tolist(), r2.tolist(),
                             r3.tolist()))
        return rows

    a, b, c = run(1), run(1), run(2)
    assert a == b  # augmentations repeat across runs with the same seed
    assert a != c
    by_worker = {}
    for _, wid, r1, r2, r3 in a:
        by_worker.setdefault(wid, []).append((r1, r2, r3))
    assert set(by_worker) == {0, 1}
    first0, first1 = by_worker[0][0], by_worker[1][0]
    assert all(x != y for x, y in zip(first0, first1))  # each RNG differs per worker


def test_worker_init_fn_and_seed_values():
    seen = multiprocessing.get_context(FORK).SimpleQueue()

    def init(worker_id):
        info = get_worker_info()
        seen.put((worker_id, info.id, info.num_workers, info.seed))

    d = loader(Squares(4), batch_size=1, num_workers=2, worker_init_fn=init,
               generator=ember.Generator().manual_seed(0))
    list(d)
    got = sorted([seen.get(), seen.get()])
    assert [g[:3] for g in got] == [(0, 0, 2), (1, 1, 2)]
    assert got[1][3] == got[0][3] + 1  # seed = base_seed + worker_id


def test_persistent_workers_reuse_processes():
    d = loader(RandomAug(), batch_size=4, num_workers=2, persistent_workers=True)
    pids1 = {p for b in d for p in b[5].tolist()}
    pids2 = {p for b in d for p in b[5].tolist()}
    assert pids1 == pids2 and len(pids1) == 2
    it = iter(d)
    next(it)  # leave an epoch half-way; the next epoch must still be complete
    assert sorted(flat(b[0] for b in d)) == list(range(8))
    d._iterator._shutdown_workers()


def test_persistent_iterable_restarts_each_epoch():
    d = loader(Sharded(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(flat(d)) == list(range(7))
    d._iterator._shutdown_workers()


def test_batches_arrive_in_shared_memory_and_segments_recycle():
    ds = Squares(64, shape=(64, 64))  # 16 KiB samples: batches go through shared memory
    d = loader(ds, batch_size=4, num_workers=2)
    kept, names = [], set()
    for k, b in enumerate(d):
        assert b.is_shared()
        names.add(_shm.segment_of(b._data).name)
        expected = [float(i * i) for i in range(4 * k, 4 * k + 4)]
        assert b[:, 0, 0].tolist() == expected
        if k % 5 == 0:
            kept.append((k, b))  # held batches must never be overwritten by recycling
    assert len(names) < 16  # segments were reused
    for k, b in kept:
        assert b[:, 0, 0].tolist() == [float(i * i) for i in range(4 * k, 4 * k + 4)]
        assert bool((b == b[:, :1, :1]).all())


def test_spawn_context_and_generic_objects():
    ds = TensorDataset(ember.arange(12.0).reshape(6, 2), ember.arange(6))
    out = list(DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn"))
    assert [y.tolist() for _, y in out] == [[0, 1, 2, 3], [4, 5]]
    assert out[0][0].tolist()[3] == [6.0, 7.0]


# ---------------------------------------------------------------- failures
class Failing(Dataset):
    def __init__(self, bad, exc=ValueError):
        self.bad, self.exc = bad, exc

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"bad sample {i}")
        return i


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class RaisesOdd(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise NeedsTwoArgs(1, 2)


class Killer(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == 9:
            os.kill(os.getpid(), signal.SIGKILL)
        return ember.zeros(64, 64)


class Sleeper(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 3:
            time.sleep(60)
        return i


def test_worker_exception_reraised_with_traceback():
    t0 = time.monotonic()
    with pytest.raises(ValueError) as ei:
        list(loader(Failing(7), batch_size=2, num_workers=2))
    msg = str(ei.value)
    assert "DataLoader worker process 1" in msg and "sample index 7" in msg
    assert "Original Traceback" in msg and "bad sample 7" in msg and "__getitem__" in msg
    with pytest.raises(KeyError, match="bad sample 2"):
        list(loader(Failing(2, KeyError), batch_size=2, num_workers=1))
    with pytest.raises(RuntimeError, match="NeedsTwoArgs"):
        list(loader(RaisesOdd(), batch_size=2, num_workers=1))
    assert time.monotonic() - t0 < 10


def test_worker_exception_iterator_continues():
    it = iter(loader(Failing(3), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    with pytest.raises(ValueError):
        next(it)
    assert next(it).tolist() == [4, 5]  # like PyTorch, later batches still come
    del it


def test_worker_init_fn_exception():
    def init(worker_id):
        raise OSError("cannot open the data")

    with pytest.raises(OSError, match="cannot open the data"):
        list(loader(Squares(4), num_workers=1, worker_init_fn=init))


def test_killed_worker_detected_quickly():
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"worker \d \(pid \d+\) exited unexpectedly "
                                           r"\(killed by signal SIGKILL"):
        list(loader(Killer(), batch_size=2, num_workers=2))
    assert time.monotonic() - t0 < 5


def test_timeout_raises_with_stack_dump():
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds") as ei:
        list(loader(Sleeper(), batch_size=2, num_workers=2, timeout=0.5))
    assert time.monotonic() - t0 < 6
    msg = str(ei.value)
    assert "Stack of worker 1" in msg and "in __getitem__" in msg and "test_data_loader" in msg


def test_keyboard_interrupt_shuts_workers_down():
    d = loader(Squares(100, shape=(8,)), batch_size=2, num_workers=2)
    with pytest.raises(KeyboardInterrupt):
        for k, _ in enumerate(d):
            if k == 3:
                raise KeyboardInterrupt
    # the fixture checks that no worker and no segment is left


def test_sigint_in_subprocess_exits_cleanly(tmp_path):
    script = tmp_path / "ctrlc.py"
    script.write_text(
        "import signal, sys, time, ember\n"
        # a parent that ignores SIGINT (a job started with & by a non-interactive shell)
        # passes that on: Ctrl-C's handler is put back, as an interactive session has it
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from ember.utils.data import DataLoader, Dataset\n"
        "class Slow(Dataset):\n"
        "    def __len__(self): return 10**6\n"
        "    def __getitem__(self, i):\n"
        "        time.sleep(0.01); return i\n"
        "d = DataLoader(Slow(), batch_size=4, num_workers=2, multiprocessing_context='fork')\n"
        "try:\n"
        "    for k, b in enumerate(d):\n"
        "        if k == 2: print('ready', flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(ember.__file__)))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env,
                         text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "interrupted" in out and p.returncode == 0
    time.sleep(0.2)
    ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(p.pid)], capture_output=True,
                        text=True)
    assert ps.stdout.strip() == ""  # no orphaned workers


def test_not_enough_shared_memory(monkeypatch):
    monkeypatch.setattr(_shm, "free_bytes", lambda: 1000)
    with pytest.raises(RuntimeError, match="not enough shared memory") as ei:
        list(loader(Squares(16, shape=(64, 64)), batch_size=4, num_workers=1))
    assert "1000 bytes free" in str(ei.value) and "--shm-size" in str(ei.value)


def test_fallocate_failure_is_a_clear_error(monkeypatch):
    if not (_shm.SHM_DIR and hasattr(os, "posix_fallocate")):
        pytest.skip("no /dev/shm")

    def full(fd, off, n):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(RuntimeError, match="unable to allocate 4096 bytes of shared memory"):
        _shm.create_segment(4096)


def test_poll_interval_is_bounded():
    # NOTE [ DataLoader liveness ]: every wait is a bounded poll.
    assert 0 < dl_mod._POLL <= 1 and dl_mod._JOIN_TIMEOUT <= 5


def test_pin_memory_without_an_accelerator_warns_as_pytorch_and_yields_batches():
    import warnings

    data = [ember.tensor(float(i)) for i in range(4)]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        batches = list(ember.utils.data.DataLoader(data, batch_size=2, pin_memory=True))
    assert [b.tolist() for b in batches] == [[0.0, 1.0], [2.0, 3.0]]
    assert not batches[0].is_pinned()
    msgs = [str(w.message) for w in rec]
    assert msgs == ["'pin_memory' argument is set as true but no accelerator is found, then "
                    "device pinned memory won't be used."]
    with pytest.raises(NotImplementedError, match="pin_memory_device='xpu'"):
        ember.utils.data.DataLoader(data, pin_memory=True, pin_memory_device="xpu")
