"""ember.profiler / ember.autograd.profiler: op events, tables, Chrome traces, schedules,
named ranges; cProfile on a training step."""

import cProfile
import gzip
import json
import os
import pstats
import re
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember._ops import core
from ember.autograd import profiler as aprof
from ember.profiler import (ProfilerAction, ProfilerActivity, profile, record_function,
                            schedule, tensorboard_trace_handler)


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 1))


def _names(events):
    return [e.name for e in events]


# --------------------------------------------------------------------------- off is zero
def test_nothing_installed_without_a_profiler():
    modes = list(core.MODES)
    assert not aprof._ACTIVE
    with record_function("idle"):  # no profiler: a no-op
        ember.ones(2) + 1
    with profile() as prof:
        ember.ones(2) + 1
    assert core.MODES == modes and not aprof._ACTIVE
    assert "idle" not in _names(prof.events())


# --------------------------------------------------------------------------- op counts
def test_op_counts_of_a_known_model():
    model = _mlp()
    x, y = ember.randn(8, 5), ember.randn(8, 1)
    iters = 3
    with profile() as prof:
        for _ in range(iters):
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
    counts = {a.key: a.count for a in prof.key_averages()}
    assert counts["aten::linear"] == 2 * iters
    assert counts["aten::relu"] == iters
    assert counts["aten::relu_backward"] == iters
    assert counts["aten::mean"] == iters
    assert counts["AddmmBackward0"] == 2 * iters
    assert counts["autograd::engine::evaluate_function: AddmmBackward0"] == 2 * iters
    # the engine's range holds the node's range, which holds the backward ops
    ev = next(e for e in prof.events() if e.name == "ReluBackward0")
    assert ev.cpu_parent.name == "autograd::engine::evaluate_function: ReluBackward0"
    assert "aten::relu_backward" in _names(ev.cpu_children)


def test_top_level_op_counts_match_torch():
    torch = pytest.importorskip("torch")

    def prog(lib):
        a, b, c = lib.ones(4, 3), lib.ones(4, 3), lib.ones(3, 2)
        y = (a * b + a).relu()
        z = y @ c
        return z.sum()

    def top(prof, lib):
        names = [e.name for e in prof.events() if e.cpu_parent is None]
        return sorted(n for n in names if n in ("aten::mul", "aten::add", "aten::relu",
                                                "aten::matmul", "aten::sum"))

    a, b, c = ember.ones(4, 3), ember.ones(4, 3), ember.ones(3, 2)
    with profile() as ep:
        y = (a * b + a).relu()
        (y @ c).sum()
    ta, tb, tc = torch.ones(4, 3), torch.ones(4, 3), torch.ones(3, 2)
    with torch.profiler.profile() as tp:
        y = (ta * tb + ta).relu()
        (y @ tc).sum()
    assert top(ep, ember) == top(tp, torch)


# --------------------------------------------------------------------------- tables
def _header_cells(table):
    lines = table.splitlines()
    return re.split(r"\s{2,}", lines[1].strip())


def test_table_columns_match_torch():
    torch = pytest.importorskip("torch")
    opts = dict(record_shapes=True, profile_memory=True, with_flops=True)
    x, w = ember.randn(4, 5, requires_grad=True), ember.randn(5, 3, requires_grad=True)
    with profile(**opts) as ep:
        with record_function("model_inference"):
            (x @ w).relu().sum().backward()
    tx, tw = torch.randn(4, 5, requires_grad=True), torch.randn(5, 3, requires_grad=True)
    with torch.profiler.profile(**opts) as tp:
        with torch.profiler.record_function("model_inference"):
            (tx @ tw).relu().sum().backward()
    for kw in ({}, {"group_by_input_shape": True}):
        et = ep.key_averages(**kw).table(sort_by="cpu_time_total", row_limit=5)
        tt = tp.key_averages(**kw).table(sort_by="cpu_time_total", row_limit=5)
        assert _header_cells(et) == _header_cells(tt)
        el, tl = et.splitlines(), tt.splitlines()
        # separators, header, 5 rows, separator, total line
        assert len(el) == len(tl) == 10
        assert el[-1].startswith("Self CPU time total: ")
        assert re.fullmatch(r"(-+  )+", el[0]) and el[0] == el[2] == el[-2]
        # same layout widths for the fixed columns (name column: longest name, capped)
        assert [len(s) for s in el[0].split("  ")][1:7] == [12] * 6
    plain_e = ep.key_averages().table(row_limit=3)
    plain_t = tp.key_averages().table(row_limit=3)
    assert _header_cells(plain_e)[:6] == _header_cells(plain_t)[:6]


def test_table_sort_and_limits():
    with profile() as prof:
        for _ in range(3):
            ember.ones(10, 10) @ ember.ones(10, 10)
        ember.ones(2) + 1
    ka = prof.key_averages()
    t = ka.table(sort_by="count", row_limit=1)
    rows = t.splitlines()[3:-2]
    assert len(rows) == 1
    top = max(ka, key=lambda a: a.count)
    assert rows[0].split()[0] == top.key and rows[0].split()[-1] == str(top.count)
    # percentages: self columns add up to 100
    full = ka.table(row_limit=0)
    pct = [float(r.split()[1].rstrip("%")) for r in full.splitlines()[3:-2]]
    assert abs(sum(pct) - 100) < 0.1
    assert ka.table(time_unit="ms").count("ms") > 3
    long_name = "enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__"
    with profile() as prof2:
        with record_function(long_name):
            ember.ones(2)
    row = prof2.key_averages().table().splitlines()[3]
    assert row.startswith(long_name[:52] + "...")  # PyTorch's cut at 55 columns
    with pytest.raises(AttributeError):
        ka.table(sort_by="no_such_column")


def test_times_nest():
    with profile() as prof:
        with record_function("outer"):
            with record_function("inner"):
                ember.ones(50, 50) @ ember.ones(50, 50)
            ember.ones(3) * 2
    outer = next(e for e in prof.events() if e.name == "outer")
    kids = outer.cpu_children
    assert [k.name for k in kids][0] == "inner"
    assert outer.cpu_time_total >= sum(k.cpu_time_total for k in kids)
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - sum(k.cpu_time_total for k in kids))
    assert all(k.cpu_parent is outer for k in kids)
    tr = outer.time_range
    assert tr.elapsed_us() == pytest.approx(outer.cpu_time_total)


# --------------------------------------------------------------------------- options
def test_shapes_memory_flops_match_torch():
    torch = pytest.importorskip("torch")
    opts = dict(record_shapes=True, profile_memory=True, with_flops=True)
    with profile(**opts) as ep:
        ember.ones(4, 5) @ ember.ones(5, 3)
    with torch.profiler.profile(**opts) as tp:
        torch.ones(4, 5) @ torch.ones(5, 3)
    e = next(x for x in ep.events() if x.name == "aten::matmul")
    t = next(x for x in tp.events() if x.name == "aten::mm")
    assert e.input_shapes == t.input_shapes == [[4, 5], [5, 3]]
    assert e.flops == t.flops == 120
    assert e.self_cpu_memory_usage == t.self_cpu_memory_usage == 48


def test_flops_of_linear_conv_mul_match_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    import ember.nn.functional as F

    xs, ws = np.ones((2, 3, 8, 8), np.float32), np.ones((4, 3, 3, 3), np.float32)
    li, lw, lb = np.ones((4, 5), np.float32), np.ones((3, 5), np.float32), np.ones(3, np.float32)

    def total(prof):
        return sum(e.flops for e in prof.events())

    with profile(with_flops=True) as ep:
        F.conv2d(ember.tensor(xs), ember.tensor(ws), padding=1)
        F.linear(ember.tensor(li), ember.tensor(lw), ember.tensor(lb))
        ember.ones(3, 4) * ember.ones(3, 4)
    with torch.profiler.profile(with_flops=True) as tp:
        TF.conv2d(torch.tensor(xs), torch.tensor(ws), padding=1)
        TF.linear(torch.tensor(li), torch.tensor(lw), torch.tensor(lb))
        torch.ones(3, 4) * torch.ones(3, 4)
    assert total(ep) == total(tp) == 27648 + 120 + 12
    t = ep.key_averages().table()
    assert "Total KFLOPs" in _header_cells(t)


def test_with_stack_and_modules():
    model = _mlp()
    with profile(with_stack=True, with_modules=True) as prof:
        model(ember.randn(2, 5))  # STACK-LINE
    ev = next(e for e in prof.events() if e.name == "aten::linear")
    assert ev.stack and "linear.py" in ev.stack[0]
    assert any(s.startswith(f"{__file__}(") and "test_with_stack_and_modules" in s
               for s in ev.stack)
    assert ev.module_hierarchy == "Sequential.Linear"
    t = prof.key_averages(group_by_stack_n=2).table(row_limit=3)
    assert "Source Location" in _header_cells(t)


def test_export_stacks(tmp_path):
    with profile(with_stack=True) as prof:
        ember.ones(3) * 2
    p = tmp_path / "stacks.txt"
    prof.export_stacks(str(p))
    lines = p.read_text().splitlines()
    assert lines and all(re.fullmatch(r".+;aten::\w+ \d+", ln) for ln in lines)


# --------------------------------------------------------------------------- chrome trace
def test_chrome_trace_format_holds_every_op(tmp_path):
    model = _mlp()
    with profile(record_shapes=True) as prof:
        with record_function("step", "batch=3"):
            model(ember.randn(3, 5)).sum().backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    assert data["schemaVersion"] == 1 and isinstance(data["traceEvents"], list)
    xs = [e for e in data["traceEvents"] if e["ph"] == "X"]
    for e in data["traceEvents"]:
        assert e["ph"] in ("X", "M")
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        assert isinstance(e["name"], str)
    for e in xs:
        assert isinstance(e["ts"], (int, float)) and isinstance(e["dur"], (int, float))
        assert e["dur"] >= 0 and e["cat"] in ("cpu_op", "user_annotation")
    # every recorded event is in the trace, once
    assert sorted(e["name"] for e in xs) == sorted(_names(prof.events()))
    assert sum(1 for e in xs if e["name"] == "aten::linear") == 2
    # nesting: every op of the block lies inside the "step" range (µs, rounding slack)
    step = next(e for e in xs if e["name"] == "step")
    assert step["args"]["Record function args"] == "batch=3"
    fwd = [e for e in xs if e["name"] in ("aten::linear", "aten::relu")]
    for e in fwd:
        assert step["ts"] - 0.002 <= e["ts"] and e["ts"] + e["dur"] <= step["ts"] + \
            step["dur"] + 0.002
        assert e["args"]["Input Dims"]
    # ts in µs: baseTimeNanoseconds + ts * 1000 is close to the wall clock
    import time

    assert abs(data["baseTimeNanoseconds"] + step["ts"] * 1000 - time.time_ns()) < 60e9


def test_chrome_trace_gzip(tmp_path):
    with profile() as prof:
        ember.ones(2) + 1
    p = tmp_path / "t.json.gz"
    prof.export_chrome_trace(str(p))
    with gzip.open(p) as f:
        assert json.load(f)["traceEvents"]


# --------------------------------------------------------------------------- schedules
def test_schedule_matches_torch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args in [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=1,
                                                            repeat=2),
                     dict(wait=2, warmup=0, active=3, repeat=1, skip_first=3),
                     dict(wait=3, warmup=1, active=1, skip_first_wait=1)]:
            es, ts = schedule(**args), torch.profiler.schedule(**args)
            assert [es(i).name for i in range(20)] == [ts(i).name for i in range(20)]
    assert [a.value for a in ProfilerAction] == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        schedule(wait=1, warmup=1, active=0)
    with pytest.warns(UserWarning, match="warmup"):
        schedule(wait=1, warmup=0, active=1)


def test_schedule_drives_recording_and_trace_ready(tmp_path):
    seen = []

    def ready(p):
        seen.append(sorted({e.name for e in p.events() if e.name.startswith("ProfilerStep")}))
        assert sum(1 for e in p.events() if e.name == "aten::mul") == 2  # 2 active steps

    s = schedule(wait=1, warmup=1, active=2, repeat=2)
    with profile(schedule=s, on_trace_ready=ready) as prof:
        for _ in range(10):
            ember.ones(3) * 2
            prof.step()
    assert seen == [["ProfilerStep#2", "ProfilerStep#3"], ["ProfilerStep#6", "ProfilerStep#7"]]
    assert prof.step_num == 10


def test_trace_at_exit_without_schedule_and_handler(tmp_path):
    with profile(on_trace_ready=tensorboard_trace_handler(str(tmp_path), worker_name="w0")):
        ember.ones(3) * 2
    files = os.listdir(tmp_path)
    assert len(files) == 1 and re.fullmatch(r"w0\.\d+\.pt\.trace\.json", files[0])
    data = json.loads((tmp_path / files[0]).read_text())
    assert "aten::mul" in [e["name"] for e in data["traceEvents"]]
    h = tensorboard_trace_handler(str(tmp_path / "gz"), use_gzip=True)
    with profile(on_trace_ready=h):
        ember.ones(1) + 1
    (f,) = os.listdir(tmp_path / "gz")
    assert f.endswith(".pt.trace.json.gz")


def test_activities():
    with pytest.warns(UserWarning, match="disabling CUDA profiling"):
        p = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    with p:
        ember.ones(2) * 2
    assert "aten::mul" in _names(p.events())
    with pytest.raises(TypeError):
        profile(activities=["cpu"])
    assert ember.profiler.supported_activities() == {ProfilerActivity.CPU}


# --------------------------------------------------------------------------- named ranges
def test_named_ranges_of_optimizer_dataloader_backward():
    model = _mlp()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    ds = ember.utils.data.TensorDataset(ember.randn(8, 5), ember.randn(8, 1))
    dl = ember.utils.data.DataLoader(ds, batch_size=4)
    with profile() as prof:
        for xb, yb in dl:
            opt.zero_grad()
            ((model(xb) - yb) ** 2).mean().backward()
            opt.step()
    counts = {a.key: a.count for a in prof.key_averages()}
    assert counts["Optimizer.step#SGD.step"] == 2
    assert counts["Optimizer.zero_grad#SGD.zero_grad"] == 2
    assert counts["enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__"] == 3
    step = next(e for e in prof.events() if e.name == "Optimizer.step#SGD.step")
    assert any(c.name.startswith("aten::_fused_sgd_") for c in step.cpu_children)
    assert any(n.startswith("autograd::engine::evaluate_function: ") for n in counts)


def test_record_function_decorator_and_legacy_alias():
    @record_function("my_fn")
    def f(x):
        return x * 2

    @record_function("rec")
    def rec(n):
        return ember.ones(1) if n == 0 else rec(n - 1) + 1

    with ember.autograd.profiler.profile(record_shapes=True) as prof:
        f(ember.ones(2))
        rec(2)
    ev = next(e for e in prof.function_events if e.name == "my_fn")
    assert [c.name for c in ev.cpu_children] == ["aten::mul"]
    recs = [e for e in prof.function_events if e.name == "rec"]
    assert len(recs) == 3 and recs[1].cpu_parent is recs[0] and recs[2].cpu_parent is recs[1]
    assert "my_fn" in prof.key_averages().table()
    assert prof.self_cpu_time_total > 0
    assert ember.autograd.profiler.record_function is record_function
    with pytest.raises(NotImplementedError, match="use_cuda"):
        ember.autograd.profiler.profile(use_cuda=True)
    with ember.autograd.profiler.profile(enabled=False) as off:
        ember.ones(1) + 1
    with pytest.raises(RuntimeError, match="didn't finish"):
        off.key_averages()


def test_ranges_from_threads_nest_per_thread():
    import threading

    def work():
        with record_function("worker"):
            ember.ones(3) + 1

    with profile() as prof:
        with record_function("main"):
            t = threading.Thread(target=work)
            t.start()
            t.join()
    w = next(e for e in prof.events() if e.name == "worker")
    m = next(e for e in prof.events() if e.name == "main")
    assert w.thread != m.thread and w.cpu_parent is None


# --------------------------------------------------------------------------- cProfile
def train_step_for_cprofile(model, opt, x, y):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    return loss


def test_cprofile_sees_user_and_layer_functions():
    model = _mlp()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    x, y = ember.randn(16, 5), ember.randn(16, 1)
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(3):
        train_step_for_cprofile(model, opt, x, y)
    pr.disable()
    stats = pstats.Stats(pr).stats
    by = {(os.path.basename(f), fn): v for (f, _, fn), v in stats.items()}
    user = by[("test_profiler.py", "train_step_for_cprofile")]
    assert user[0] == 3 and user[3] > 0  # 3 calls, cumulative time attributed
    assert by[("linear.py", "forward")][0] == 6  # nn.Linear.forward, 2 layers x 3 steps
    assert by[("activation.py", "forward")][0] == 3  # nn.ReLU.forward
    # the time inside the step is attributed to it (cumulative >= the layers' forwards)
    assert user[3] >= by[("linear.py", "forward")][3]


def test_dataloader_range_with_workers():
    ds = ember.utils.data.TensorDataset(ember.arange(8.0))
    dl = ember.utils.data.DataLoader(ds, batch_size=4, num_workers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # worker-count advice on small machines
        with profile() as prof:
            batches = [b for (b,) in dl]
    assert len(batches) == 2
    counts = {a.key: a.count for a in prof.key_averages()}
    assert counts["enumerate(DataLoader)#_MultiProcessingDataLoaderIter.__next__"] == 3


def test_trace_id_metadata_and_refused_options(tmp_path):
    with profile(custom_trace_id_callback=lambda: "run-42") as prof:
        ember.ones(2) + 1
    prof.add_metadata("job", "unit-test")
    path = tmp_path / "t.json"
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    assert data["trace_id"] == "run-42" and data["job"] == "unit-test"
    assert prof.get_trace_id() == "run-42"
    with pytest.raises(NotImplementedError, match="experimental_config"):
        profile(experimental_config=object())
    with pytest.raises(NotImplementedError, match="execution_trace_observer"):
        profile(execution_trace_observer=object())
    with pytest.raises(NotImplementedError, match="acc_events"):
        ember.autograd.profiler.profile(acc_events=True)


def test_acc_events_keeps_every_cycle():
    s = schedule(wait=0, warmup=1, active=1, repeat=2)
    for acc, expected in ((False, 1), (True, 2)):
        with profile(schedule=s, acc_events=acc) as prof:
            for _ in range(5):
                ember.ones(3) * 2
                prof.step()
        assert sum(1 for e in prof.events() if e.name == "aten::mul") == expected


def test_tools_load_lazily():
    import subprocess
    import sys

    code = ("import sys, ember; mods = ['ember.profiler', 'ember.utils.memory', "
            "'ember.autograd.profiler_util', 'traceback']; "
            "print([m for m in mods if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
