"""Run under ``mpiexec -n N``: every check_* function, in order, on every rank.

Each rank writes ``{check: "ok" | traceback}`` as JSON to ``$OUT/rank<r>.json``; the pytest
side turns every entry into a test. Expected values are computed locally: each rank's input
is a known function of its rank, so every rank can compute what the reduction must give.
"""

import datetime
import json
import os
import sys
import traceback

import ml_dtypes
import numpy as np

import ember
import ember.distributed as dist

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=30))
R, N = dist.get_rank(), dist.get_world_size()

DTYPES = {"float32": ember.float32, "float64": ember.float64, "int32": ember.int32,
          "int64": ember.int64, "int8": ember.int8, "uint8": ember.uint8, "bool": ember.bool,
          "float16": ember.float16, "bfloat16": ember.bfloat16, "complex64": ember.complex64}
NP = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
      "int8": np.int8, "uint8": np.uint8, "bool": np.bool_, "float16": np.float16,
      "bfloat16": ml_dtypes.bfloat16, "complex64": np.complex64}
OPS = ["SUM", "PRODUCT", "MIN", "MAX", "AVG", "BAND", "BOR", "BXOR"]


def value(rank, name, shape=(5,)):
    """Rank ``rank``'s input: small values so products stay exact in every dtype."""
    n = int(np.prod(shape))
    base = (np.arange(n) + rank * 3) % 4 + 1
    if name == "bool":
        return ((np.arange(n) + rank) % 3 == 0).reshape(shape)
    a = base.astype(np.float64)
    if name == "complex64":
        a = a + 1j * (rank - 1)
    return a.astype(NP[name]).reshape(shape)


def valid(op, name):
    if name == "bool":
        return op != "AVG"
    if op in ("BAND", "BOR", "BXOR"):
        return name in ("int32", "int64", "int8", "uint8")
    if op in ("MIN", "MAX") and name == "complex64":
        return False
    if op == "AVG" and name in ("int32", "int64", "int8", "uint8"):
        return False
    return True


def expected(op, name, inputs):
    wide = np.float32 if name in ("float16", "bfloat16") else None
    xs = [x.astype(wide) if wide else x for x in inputs]
    if name == "bool":
        f = {"SUM": np.logical_or, "MAX": np.logical_or, "BOR": np.logical_or,
             "PRODUCT": np.logical_and, "MIN": np.logical_and, "BAND": np.logical_and,
             "BXOR": np.logical_xor}[op]
    else:
        f = {"SUM": np.add, "AVG": np.add, "PRODUCT": np.multiply, "MIN": np.minimum,
             "MAX": np.maximum, "BAND": np.bitwise_and, "BOR": np.bitwise_or,
             "BXOR": np.bitwise_xor}[op]
    out = xs[0]
    for x in xs[1:]:
        out = f(out, x)
    if op == "AVG":
        out = out / len(xs)
    return out.astype(NP[name])


def t(arr):
    return ember.from_numpy(np.array(arr))


def close(a, b):
    a = a.numpy() if isinstance(a, ember.Tensor) else a
    b = np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.allclose(a.astype(np.complex128), b.astype(np.complex128), rtol=1e-6,
                       atol=1e-6), (a, b)


# ---------------------------------------------------------------------------- checks
def check_world():
    assert dist.is_initialized() and dist.get_backend() == "gloo"
    assert dist.get_world_size() == N and 0 <= R < N
    assert dist.group.WORLD is dist.GroupMember.WORLD


def check_all_reduce_ops_dtypes():
    bad = []
    for name in DTYPES:
        for op in OPS:
            x = t(value(R, name))
            if not valid(op, name):
                try:
                    dist.all_reduce(x, op=getattr(dist.ReduceOp, op))
                except RuntimeError:
                    continue
                bad.append(f"{op}/{name} accepted")
                continue
            v0 = x._version
            dist.all_reduce(x, op=getattr(dist.ReduceOp, op))
            want = expected(op, name, [value(r, name) for r in range(N)])
            if x.dtype is not DTYPES[name]:
                bad.append(f"{op}/{name}: dtype changed to {x.dtype}")
            elif not np.array_equal(x.numpy(), want):
                bad.append(f"{op}/{name}: {x.numpy()} != {want}")
            elif x._version <= v0:
                bad.append(f"{op}/{name}: version not bumped")
    assert not bad, bad


def check_half_precision_reduces_in_float32():
    # float16 has spacing 2 at 2048: adding 1s one by one in float16 would stay at 2048.
    for name, big in (("float16", 2048.0), ("bfloat16", 256.0)):
        x = ember.tensor([big if R == 0 else 1.0], dtype=DTYPES[name])
        dist.all_reduce(x)
        want = np.array([big + (N - 1)], np.float32).astype(NP[name])
        assert x.numpy()[0] == want[0], (name, x.numpy(), want)


def check_all_reduce_non_contiguous_in_place():
    base = ember.zeros(4, 6)
    base[:, ::2] = float(R + 1)
    view = base[:, ::2]
    dist.all_reduce(view)
    s = N * (N + 1) / 2
    assert np.all(base.numpy()[:, ::2] == s) and np.all(base.numpy()[:, 1::2] == 0)


def check_broadcast():
    for src in range(N):
        x = ember.arange(6.).reshape(2, 3) * (R + 1)
        dist.broadcast(x, src=src)
        close(x, np.arange(6.).reshape(2, 3) * (src + 1))
    x = ember.tensor([R], dtype=ember.int64)
    dist.broadcast(x, group_src=N - 1)
    assert x.item() == N - 1
    try:
        dist.broadcast(x)
    except ValueError:
        pass
    else:
        raise AssertionError("broadcast without src accepted")


def check_reduce():
    for dst in range(N):
        for op in ("SUM", "MAX", "AVG"):
            x = t(value(R, "float32"))
            dist.reduce(x, dst=dst, op=getattr(dist.ReduceOp, op))
            if R == dst:
                close(x, expected(op, "float32", [value(r, "float32") for r in range(N)]))
            else:
                close(x, value(R, "float32"))  # non-destination input untouched


def check_all_gather():
    out = [ember.zeros(2, 3) for _ in range(N)]
    dist.all_gather(out, ember.full((2, 3), float(R)))
    for r in range(N):
        close(out[r], np.full((2, 3), float(r)))
    cat = ember.zeros(2 * N, 3)
    dist.all_gather_into_tensor(cat, ember.full((2, 3), float(R)))
    close(cat, np.concatenate([np.full((2, 3), float(r)) for r in range(N)]))
    stacked = ember.zeros(N, 2, 3, dtype=ember.bfloat16)
    dist.all_gather_into_tensor(stacked, ember.full((2, 3), float(R), dtype=ember.bfloat16))
    close(stacked.float(), np.stack([np.full((2, 3), float(r)) for r in range(N)]))
    try:
        dist.all_gather([ember.zeros(2)], ember.zeros(2))
    except ValueError:
        pass
    else:
        raise AssertionError("short tensor_list accepted")


def check_gather_scatter():
    for root in range(N):
        lst = [ember.zeros(3, dtype=ember.int64) for _ in range(N)] if R == root else None
        dist.gather(ember.full((3,), R, dtype=ember.int64), lst, dst=root)
        if R == root:
            for r in range(N):
                close(lst[r], np.full(3, r))
        out = ember.zeros(2, 2)
        parts = [ember.full((2, 2), 10.0 * r) for r in range(N)] if R == root else None
        dist.scatter(out, parts, src=root)
        close(out, np.full((2, 2), 10.0 * R))


def check_reduce_scatter():
    out = ember.zeros(3)
    dist.reduce_scatter(out, [ember.full((3,), float(R + i)) for i in range(N)])
    close(out, np.full(3, float(sum(r + R for r in range(N)))))
    out = ember.zeros(2, dtype=ember.float16)
    inp = ember.arange(2 * N, dtype=ember.float32).to(ember.float16) * (R + 1)
    dist.reduce_scatter_tensor(out, inp, op=dist.ReduceOp.AVG)
    full = sum(np.arange(2 * N, dtype=np.float32) * (r + 1) for r in range(N)) / N
    close(out.float(), full[2 * R:2 * R + 2].astype(np.float16).astype(np.float32))


def check_all_to_all():
    # Uneven sizes: rank r sends r + d + 1 elements to rank d.
    ins = [ember.full((R + d + 1,), float(10 * R + d)) for d in range(N)]
    outs = [ember.zeros(s + R + 1) for s in range(N)]
    dist.all_to_all(outs, ins)
    for s in range(N):
        close(outs[s], np.full(s + R + 1, float(10 * s + R)))
    # Equal splits of dim 0, then explicit splits.
    inp = ember.arange(float(2 * N)) + 100 * R
    out = ember.zeros(2 * N)
    dist.all_to_all_single(out, inp)
    close(out, np.concatenate([np.arange(2 * R, 2 * R + 2) + 100.0 * s for s in range(N)]))
    in_splits = [d + 1 for d in range(N)]              # rank R sends d+1 rows to d
    out_splits = [R + 1] * N                           # so it gets R+1 rows from each
    inp = ember.full((sum(in_splits), 2), float(R))
    out = ember.zeros(sum(out_splits), 2)
    dist.all_to_all_single(out, inp, out_splits, in_splits)
    close(out, np.repeat(np.arange(N, dtype=np.float64), R + 1)[:, None].repeat(2, 1))


def check_async():
    xs = [ember.ones(1000) * (R + i) for i in range(4)]
    works = [dist.all_reduce(x, async_op=True) for x in xs]
    assert all(isinstance(w, dist.Work) for w in works)
    for w in reversed(works):
        assert w.wait() is True and w.is_completed() and w.is_success()
    for i, x in enumerate(xs):
        close(x, np.full(1000, float(sum(r + i for r in range(N)))))
    w = dist.broadcast(ember.zeros(3), src=0, async_op=True)
    w.get_future().wait()
    assert w.is_completed()
    dist.barrier(async_op=True).wait()


def check_groups():
    ranks = [0, N - 1]
    g = dist.new_group(ranks)
    if R in ranks:
        assert dist.get_world_size(g) == 2 and dist.get_rank(g) == ranks.index(R)
        assert dist.get_process_group_ranks(g) == ranks
        x = ember.tensor([float(R)])
        dist.all_reduce(x, group=g)
        assert x.item() == float(sum(ranks))
        y = ember.tensor([float(R)])
        dist.broadcast(y, src=N - 1, group=g)  # src is a global rank
        assert y.item() == float(N - 1)
        assert dist.get_global_rank(g, 1) == N - 1 and dist.get_group_rank(g, N - 1) == 1
    else:
        assert g is dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(g) == -1
        assert dist.all_reduce(ember.ones(1), group=g) is None
    dist.destroy_process_group(g) if g is not dist.GroupMember.NON_GROUP_MEMBER else None
    dist.barrier()


def check_send_recv_ordering():
    if R == 0:
        for i in range(3):
            dist.send(ember.full((4,), float(i)), dst=1)
        dist.send(ember.full((2,), 7.0), dst=1, tag=5)
        got = ember.zeros(2)
        src = dist.recv(got, tag=9)     # any source (tag 9: the ring below uses tag 0)
        assert src == 1 and got.tolist() == [1.0, 1.0]
    elif R == 1:
        tagged = ember.zeros(2)
        w = dist.irecv(tagged, src=0, tag=5)
        for i in range(3):
            b = ember.zeros(4)
            assert dist.recv(b, src=0) == 0
            assert b.tolist() == [float(i)] * 4, (i, b.tolist())
        w.wait()
        assert tagged.tolist() == [7.0, 7.0]
        dist.isend(ember.ones(2), dst=0, tag=9).wait()
    # a ring with batch_isend_irecv
    right, left = (R + 1) % N, (R - 1) % N
    got = ember.zeros(1)
    ops = [dist.P2POp(dist.isend, ember.tensor([float(R)]), right),
           dist.P2POp(dist.irecv, got, left)]
    for w in dist.batch_isend_irecv(ops):
        w.wait()
    assert got.item() == float(left)


def check_objects():
    objs = [{"a": R}, "x", None] if R == 0 else [None, None, None]
    dist.broadcast_object_list(objs, src=0)
    assert objs == [{"a": 0}, "x", None]
    everyone = [None] * N
    dist.all_gather_object(everyone, ("rank", R, list(range(R))))
    assert everyone == [("rank", r, list(range(r))) for r in range(N)]
    gathered = [None] * N if R == N - 1 else None
    dist.gather_object({"r": R}, gathered, dst=N - 1)
    if R == N - 1:
        assert gathered == [{"r": r} for r in range(N)]
    out = [None]
    dist.scatter_object_list(out, [f"to{r}" for r in range(N)] if R == 0 else None, src=0)
    assert out == [f"to{R}"]


def check_tcp_store_shared():
    port = [None]
    if R == 0:
        master = dist.TCPStore("127.0.0.1", 0, N, True, wait_for_workers=False)
        port = [master.port]
    dist.broadcast_object_list(port, src=0)
    s = master if R == 0 else dist.TCPStore("127.0.0.1", port[0], N, False)
    assert s.add("count", 1) >= 1
    s.set(f"key{R}", f"value{R}")
    s.wait([f"key{r}" for r in range(N)])
    assert [s.get(f"key{r}") for r in range(N)] == [f"value{r}".encode() for r in range(N)]
    dist.barrier()
    assert s.get("count") == str(N).encode()
    won = s.compare_set("leader", "", f"r{R}")
    assert won == s.get("leader")
    dist.barrier()
    if R == 0:
        master.close()


def check_errors():
    try:
        dist.all_reduce(np.ones(3))
    except TypeError as e:
        assert "all_reduce" in str(e)
    else:
        raise AssertionError("numpy array accepted")
    try:
        dist.all_reduce(ember.ones(2), op=dist.ReduceOp.PREMUL_SUM)
    except NotImplementedError:
        pass
    else:
        raise AssertionError("PREMUL_SUM accepted")
    try:
        dist.send(ember.ones(1), dst=R)
    except ValueError:
        pass
    else:
        raise AssertionError("send to self accepted")


def check_detail_mode_reports_mismatch():
    dist.set_debug_level(dist.DebugLevel.DETAIL)
    try:
        dist.all_reduce(ember.ones(2 + R))
    except RuntimeError as e:
        assert "mismatched" in str(e) and "rank 1" in str(e), str(e)
    else:
        raise AssertionError("shape mismatch not reported")
    finally:
        dist.set_debug_level(dist.DebugLevel.OFF)


def main():
    out_dir = sys.argv[1]
    results = {}
    for name, fn in list(globals().items()):
        if name.startswith("check_"):
            try:
                fn()
                results[name] = "ok"
            except Exception:  # noqa: BLE001 - reported per check
                results[name] = traceback.format_exc()
    with open(os.path.join(out_dir, f"rank{R}.json"), "w") as f:
        json.dump(results, f)
    dist.destroy_process_group()


main()
