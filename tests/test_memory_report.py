"""ember.utils.memory (live tensors, bytes by line), the graph-growth warning, and
activation checkpointing's memory saving (measured with tracemalloc)."""

import importlib.util
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember._ops import core
from ember.utils import memory

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _line_of(marker):
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return i
    raise AssertionError(marker)


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(32, 128), nn.Tanh(), nn.Linear(128, 1))


def _eval_loop(model, x, n, leak):
    total = 0.0
    for _ in range(n):
        out = model(x)  # MEM-FORWARD-LINE
        loss = out.mean()
        total = total + loss if leak else total + loss.item()
    return total


# --------------------------------------------------------------------------- live tensors
def test_report_finds_the_leaking_line():
    model, x = _model(), ember.randn(64, 32)
    line = f"{__file__}:{_line_of('MEM-FORWARD-LINE')}"
    with memory.tracking():
        total = _eval_loop(model, x, 12, leak=True)
        report = memory.memory_report(top=5)
        infos = memory.live_tensors()
    # the line that keeps growing holds >= one activation (64 x 128 float32) per iteration
    row = next(r for r in report.splitlines() if line in r)
    kb = float(row.split()[0]) * (1024 if row.split()[1] == "MB" else 1)
    assert kb >= 12 * 64 * 128 * 4 / 1024
    # the accumulated loss keeps every iteration's graph alive
    holder = next(i for i in infos if i.tensor() is total)
    assert holder.graph_nodes >= 12 * 3 and holder.graph_bytes >= 12 * 64 * 128 * 4
    assert "Autograd graphs kept alive" in report and "AddBackward0" in report
    assert not memory.is_tracking() and not tracemalloc.is_tracing()
    assert all(not isinstance(m, memory._TrackMode) for m in core.MODES)


def test_report_without_leak_stays_small():
    model, x = _model(), ember.randn(64, 32)
    line = f"{__file__}:{_line_of('MEM-FORWARD-LINE')}"
    with memory.tracking():
        total = _eval_loop(model, x, 12, leak=False)
        report = memory.memory_report(top=10)
    assert isinstance(total, float)
    rows = [r for r in report.splitlines() if line in r]
    # at most the last iteration's activations are alive
    for r in rows:
        n, unit = float(r.split()[0]), r.split()[1]
        assert unit in ("B", "KB") and (unit == "B" or n <= 2 * 64 * 128 * 4 / 1024 + 8)


def test_live_tensors_records_shape_line_and_op():
    with memory.tracking():
        big = ember.zeros(300, 400)  # MEM-BIG-LINE
        infos = memory.live_tensors()
    me = next(i for i in infos if i.tensor() is big)
    assert me.shape == (300, 400) and me.dtype == "float32" and me.nbytes == 480000
    assert me.created_at == f"{__file__}:{_line_of('MEM-BIG-LINE')}" and me.op == "zeros"
    assert infos.index(me) < 5  # among the largest
    v = big[0]
    assert next(i for i in memory.live_tensors() if i.tensor() is v).is_view
    # not tracking: still listed, without a line
    plain = ember.ones(7)
    info = next(i for i in memory.live_tensors() if i.tensor() is plain)
    assert info.created_at is None and info.nbytes == 28
    assert "start_tracking" in memory.memory_report()


# --------------------------------------------------------------------------- growth warning
def _train(n, leak, patience=5):
    model, x, y = _model(), ember.randn(16, 32), ember.randn(16, 1)
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    ember.autograd.set_graph_growth_warning(True, patience=patience)
    try:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            total_loss = 0
            for _ in range(n):
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                opt.step()
                total_loss += loss if leak else loss.item()
    finally:
        ember.autograd.set_graph_growth_warning(False)
    return [str(w.message) for w in rec if "grew at each" in str(w.message)]


def test_growth_warning_on_a_leaking_loop():
    msgs = _train(10, leak=True)
    assert len(msgs) == 1  # once
    assert "total_loss += loss" in msgs[0] and "AddBackward0" in msgs[0]


def test_no_growth_warning_on_a_clean_loop():
    assert _train(12, leak=False) == []
    assert not ember.autograd.graph.is_graph_growth_warning_enabled()


def test_growth_warning_arguments():
    with pytest.raises(TypeError):
        ember.autograd.set_graph_growth_warning(1)
    with pytest.raises(ValueError):
        ember.autograd.set_graph_growth_warning(True, patience=1)


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_mem_example_{name}",
                                                  EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name,argv", [
    ("digits_cnn", ["--epochs", "1", "--max-steps", "8", "--no-progress"]),
    ("vae_digits", ["--epochs", "1", "--max-steps", "8"]),
    ("char_lstm", ["--steps", "8", "--eval-every", "4", "--hidden", "32", "--sample-len", "10"]),
])
def test_no_growth_warning_in_examples(name, argv, tmp_path):
    for dep in ("sklearn", "tqdm", "matplotlib"):
        pytest.importorskip(dep)
    mod = _load(name)
    ember.autograd.set_graph_growth_warning(True)
    try:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            mod.main(argv + ["--out", str(tmp_path)])
    finally:
        ember.autograd.set_graph_growth_warning(False)
    assert [str(w.message) for w in rec if "grew at each" in str(w.message)] == []


# --------------------------------------------------------------------------- checkpointing
def _deep(n=16, width=64):
    ember.manual_seed(0)
    layers = []
    for _ in range(n):
        layers += [nn.Linear(width, width), nn.Tanh()]
    return nn.Sequential(*layers)


def _peak(fn):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("variant", ["checkpoint", "checkpoint_sequential", "reentrant"])
def test_checkpoint_equal_gradients_lower_peak(variant):
    # Activations dominate (4096 x 64 per layer, small weights): where checkpointing pays.
    from ember.utils.checkpoint import checkpoint, checkpoint_sequential

    net = _deep()
    x = ember.randn(4096, 64, requires_grad=True)

    def plain():
        net(x).sum().backward()

    def ckpt():
        if variant == "checkpoint":
            h = x
            for i in range(0, len(net), 8):
                h = checkpoint(net[i:i + 8], h, use_reentrant=False)
            out = h
        else:
            out = checkpoint_sequential(net, 4, x, use_reentrant=variant == "reentrant")
        out.sum().backward()

    def grads():
        return [p.grad.numpy().copy() for p in net.parameters()] + [x.grad.numpy().copy()]

    p_plain = _peak(plain)
    g_plain = grads()
    net.zero_grad()
    x.grad = None
    p_ckpt = _peak(ckpt)
    g_ckpt = grads()
    for a, b in zip(g_plain, g_ckpt):
        np.testing.assert_array_equal(a, b)
    act = 4096 * 64 * 4  # one activation
    assert p_plain >= 16 * act  # plain keeps all 16 tanh outputs
    assert p_ckpt < 0.75 * p_plain, (p_ckpt / act, p_plain / act)


def test_custom_function_saved_tensors_freed_after_backward():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ember.randn(5, requires_grad=True)
    y = Square.apply(x * 1)
    node = y.grad_fn
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        node.params.saved_tensors
    y2 = Square.apply(x * 1)
    y2.sum().backward(retain_graph=True)
    y2.sum().backward()  # retained: a second backward works
