"""The autograd pieces DDP builds on: post-accumulate-grad hooks and end-of-backward
callbacks (``queue_callback``)."""

import numpy as np
import pytest

import ember
from ember.autograd.engine import execution_engine, queue_callback


def test_post_accumulate_hook_sees_accumulated_grad():
    w = ember.ones(3, requires_grad=True)
    seen = []
    h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert [s.tolist() for s in seen] == [[2.0] * 3, [5.0] * 3]
    h.remove()
    (w * 1).sum().backward()
    assert len(seen) == 2


def test_post_accumulate_hook_against_pytorch():
    torch = pytest.importorskip("torch")
    out = {}
    for lib in (ember, torch):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        got = []
        w.register_post_accumulate_grad_hook(lambda p, got=got: got.append(p.grad.tolist()))
        (w * w).sum().backward()
        out[lib.__name__] = got
    assert out["ember"] == out["torch"]


def test_post_accumulate_hook_errors():
    with pytest.raises(RuntimeError, match="doesn't require"):
        ember.ones(2).register_post_accumulate_grad_hook(print)
    w = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)


def test_queue_callback_runs_after_all_accumulation():
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, requires_grad=True)
    log = []

    def hook(p):
        log.append("acc")
        if len(log) == 1:
            execution_engine.queue_callback(
                lambda: log.append(("end", a.grad.tolist(), b.grad.tolist())))
    a.register_post_accumulate_grad_hook(hook)
    b.register_post_accumulate_grad_hook(hook)
    (a * 2 + b * 3).sum().backward()
    assert log == ["acc", "acc", ("end", [2.0, 2.0], [3.0, 3.0])]


def test_queue_callback_may_queue_more_and_only_in_backward():
    w = ember.ones(1, requires_grad=True)
    log = []
    w.register_post_accumulate_grad_hook(
        lambda p: queue_callback(lambda: (log.append(1), queue_callback(lambda: log.append(2)))))
    w.sum().backward()
    assert log == [1, 2]
    with pytest.raises(RuntimeError, match="during backward"):
        queue_callback(lambda: None)
    assert np.array_equal(w.grad.numpy(), [1.0])
