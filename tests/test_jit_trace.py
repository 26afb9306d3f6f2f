"""ember.jit.trace: the graph IR, PyTorch's replay semantics, TracedModule, .code."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.jit import TracerWarning


def foo(x):  # the talk's example (x.sum() is 0-d today, so no .data[0])
    s = x.sum()
    if s < 5:
        return x + 1
    else:
        return x + 2


X = [-1, 0, 1, 2]
X2 = [1, 2, 3, 4]


def test_talks_foo_eager():
    assert foo(ember.tensor(X)).tolist() == [0, 1, 2, 3]
    assert foo(ember.tensor(X2)).tolist() == [3, 4, 5, 6]


def test_talks_foo_traced_replays_the_path_taken_and_warns_at_the_users_line():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        jitfoo = ember.jit.trace(foo, (ember.tensor(X),))
    tw = [m for m in w if issubclass(m.category, TracerWarning)]
    assert len(tw) == 1 and "Python boolean" in str(tw[0].message)
    assert tw[0].filename == __file__
    assert tw[0].lineno == foo.__code__.co_firstlineno + 2  # the `if s < 5:` line
    assert jitfoo(ember.tensor(X)).tolist() == [0, 1, 2, 3]
    assert jitfoo(ember.tensor(X2)).tolist() == [2, 3, 4, 5]  # the talk's trap, as PyTorch


def test_talks_lazy_form_and_decorator():
    jitfoo = ember.jit.traced(foo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerWarning)
        assert jitfoo(ember.tensor(X)).tolist() == [0, 1, 2, 3]
    assert jitfoo(ember.tensor(X2)).tolist() == [2, 3, 4, 5]

    @ember.jit.trace
    def bar(x):
        return x * 2

    assert bar(ember.ones(2)).tolist() == [2.0, 2.0]
    assert "mul(%x, 2)" in str(bar.graph)


def test_graph_prints_like_the_talks_slide():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerWarning)
        t = ember.jit.trace(foo, (ember.tensor(X),))
    text = str(t.graph)
    assert text.splitlines()[0] == "graph(%x : Long(4)):"
    assert "  %1 = sum(%x, dim=[0], dtype=int64)" in text
    assert "  %3 = add(%x, 1)" in text
    assert "guard bool(%2) == True" in text
    assert text.splitlines()[-1] == "  return (%3)"


def test_code_is_python_that_runs():
    def f(x, y):
        z = (x * y).tanh()
        return z.sum(0) + y.mean()

    x, y = ember.randn(3, 4), ember.randn(3, 4)
    t = ember.jit.trace(f, (x, y))
    src, consts = t.code_with_constants()
    assert src.startswith("def forward(x, y):")
    from ember.jit._pycode import compile_code

    fn = compile_code(src, consts)
    a, b = ember.randn(3, 4), ember.randn(3, 4)
    np.testing.assert_allclose(fn(a, b).numpy(), f(a, b).numpy(), rtol=1e-6)


def test_module_trace_shares_parameters_and_state_dict_keys():
    torch_like = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tm = ember.jit.trace(torch_like, ember.randn(5, 3))
    assert list(tm.state_dict()) == list(torch_like.state_dict())
    assert tm.get_submodule("0").weight is torch_like[0].weight
    kinds = [v.kind for v in tm.graph.inputs]
    assert kinds == ["input"] + ["param"] * 4
    x = ember.randn(5, 3)
    y = tm(x)
    np.testing.assert_allclose(y.detach().numpy(), torch_like(x).detach().numpy(), rtol=1e-6)
    y.sum().backward()
    assert torch_like[0].weight.grad is not None
    # a parameter update after tracing is seen by the replay (parameters are inputs)
    with ember.no_grad():
        torch_like[2].bias.add_(1.0)
    np.testing.assert_allclose(tm(x).detach().numpy(), torch_like(x).detach().numpy(),
                               rtol=1e-6)
    assert "ops.linear(input, self.get_parameter('0.weight')" in tm.code


def test_module_trace_batchnorm_statistics_and_dropout_like_eager():
    def make():
        ember.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Dropout(0.5))

    eager, m = make(), make()
    ember.manual_seed(1)
    eager(ember.randn(8, 4))
    ember.manual_seed(1)  # tracing is one eager forward: the same input and dropout mask
    tm = ember.jit.trace(m, ember.randn(8, 4), check_trace=False)
    x = ember.randn(8, 4)
    ember.manual_seed(5)
    ye = eager(x)
    ember.manual_seed(5)
    yt = tm(x)
    np.testing.assert_allclose(yt.detach().numpy(), ye.detach().numpy(), rtol=1e-6)
    for a, b in zip(eager.state_dict().values(), m.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert int(m[1].num_batches_tracked) == 2
    # dropout draws anew on every call
    assert not np.array_equal(tm(x).detach().numpy(), tm(x).detach().numpy())


def test_train_eval_switch_and_new_shapes_retrace():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    tm = ember.jit.trace(m, ember.randn(2, 4), check_trace=False)
    tm.eval()
    x = ember.randn(2, 4)
    np.testing.assert_allclose(tm(x).detach().numpy(), m[0](x).detach().numpy(), rtol=1e-6)

    def flat(x):
        return x.view(x.size(0), -1) * 2

    t = ember.jit.trace(flat, (ember.ones(2, 3, 4),))
    out = t(ember.ones(5, 3, 4))
    assert out.shape == (5, 12)  # not the (2, 30) a frozen view size would give
    assert len(t.graphs) == 2


def test_rank_or_dtype_mismatch_names_the_signature():
    t = ember.jit.trace(lambda x: x * 2, (ember.ones(2, 3),))
    with pytest.raises(RuntimeError, match=r"traced for inputs \(Tensor\(dtype=torch.float32, "
                                           r"shape=\[2, 3\]\)\)"):
        t(ember.ones(2, 3, 1))
    with pytest.raises(RuntimeError, match="dtype=torch.int64"):
        t(ember.ones(2, 3, dtype=ember.int64))


def test_strict_refuses_list_outputs():
    with pytest.raises(RuntimeError, match="Encountering a list at the output"):
        ember.jit.trace(lambda x: [x * 2], (ember.ones(2),))
    t = ember.jit.trace(lambda x: [x * 2], (ember.ones(2),), strict=False)
    assert t(ember.ones(2))[0].tolist() == [2.0, 2.0]


def test_check_trace_warns_on_data_dependent_paths():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ember.jit.trace(foo, (ember.tensor(X),), check_inputs=[(ember.tensor(X2),)])
    msgs = [str(m.message) for m in w if issubclass(m.category, TracerWarning)]
    assert any("does not match" in m or "differ" in m for m in msgs), msgs


def test_in_place_ops_and_mutated_inputs_replay():
    def f(x, buf):
        buf.add_(x)
        y = x.clone()
        y[0] = 7.0
        return y * buf

    x, buf = ember.ones(3), ember.zeros(3)
    t = ember.jit.trace(f, (x, buf), check_trace=False)
    assert buf.tolist() == [1.0, 1.0, 1.0]
    b2 = ember.zeros(3)
    out = t(ember.full((3,), 2.0), b2)
    assert b2.tolist() == [2.0, 2.0, 2.0]
    assert out.tolist() == [14.0, 4.0, 4.0]
    assert "copy_" in str(t.graph)


def test_backward_inside_the_traced_code_is_not_replayed():
    w = ember.ones(3, requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        return loss

    with pytest.warns(TracerWarning, match="backward"):
        t = ember.jit.trace(step, (ember.ones(3),), check_trace=False)
    w.grad = None
    t(ember.full((3,), 2.0))
    assert w.grad.tolist() == [2.0, 2.0, 2.0]  # ran as Python, so .grad is right


def test_script_is_refused_with_the_alternatives():
    with pytest.raises(NotImplementedError, match="ember.jit.trace"):
        ember.jit.script(nn.Linear(2, 2))
    assert not ember.jit.is_scripting()
    seen = []

    def f(x):
        seen.append(ember.jit.is_tracing())
        return x

    ember.jit.trace(f, (ember.ones(1),), check_trace=False)
    assert seen == [True] and not ember.jit.is_tracing()
