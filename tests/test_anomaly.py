"""Anomaly mode (ember.autograd.detect_anomaly) and the graph helpers (print_graph, to_dot)."""

import re
import warnings

import numpy as np
import pytest

import ember
from ember._ops import core
from ember.autograd import anomaly_mode


@pytest.fixture(autouse=True)
def _anomaly_off():
    yield
    ember.autograd.anomaly_mode.set_anomaly_enabled(False, True)


def _line_of(marker):
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return i
    raise AssertionError(marker)


def test_flags_round_trip_and_types():
    assert not ember.autograd.is_anomaly_enabled()
    assert ember.autograd.is_anomaly_check_nan_enabled()
    ember.autograd.set_detect_anomaly(True, check_nan=False)
    assert ember.autograd.is_anomaly_enabled() and ember.is_anomaly_enabled()
    assert not ember.autograd.is_anomaly_check_nan_enabled()
    ember.autograd.set_detect_anomaly(False)
    assert not ember.autograd.is_anomaly_enabled()
    assert ember.autograd.is_anomaly_check_nan_enabled()
    with pytest.raises(TypeError, match="must be bool, not str"):
        ember.autograd.set_detect_anomaly("yes")
    with ember.autograd.set_detect_anomaly(True):
        assert ember.autograd.is_anomaly_enabled()
    assert not ember.autograd.is_anomaly_enabled()


def test_detect_anomaly_warns_and_restores():
    before = list(core.MODES)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        cm = ember.autograd.detect_anomaly(check_nan=False)
    with cm:
        assert ember.autograd.is_anomaly_enabled()
        assert not ember.autograd.is_anomaly_check_nan_enabled()
    assert not ember.autograd.is_anomaly_enabled()
    assert ember.autograd.is_anomaly_check_nan_enabled()
    assert core.MODES == before  # off: nothing left on the dispatch spine


def test_detect_anomaly_as_decorator():
    with pytest.warns(UserWarning):
        deco = ember.autograd.detect_anomaly()

    @deco
    def f():
        return ember.autograd.is_anomaly_enabled()

    assert f() is True
    assert not ember.autograd.is_anomaly_enabled()


def _nan_program(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    w = lib.log(x)  # ANOMALY-LOG-LINE
    return (w * 0).sum()


def test_nan_in_backward_raises_and_names_the_user_line():
    line = _line_of("ANOMALY-LOG-LINE")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            loss = _nan_program(ember)
            with pytest.raises(RuntimeError) as ei:
                loss.backward()
    assert str(ei.value) == "Function 'LogBackward0' returned nan values in its 0th output."
    msgs = [str(w.message) for w in rec if "Error detected" in str(w.message)]
    assert len(msgs) == 1
    assert msgs[0].startswith("Error detected in LogBackward0. Traceback of forward call that "
                              "caused the error:")
    assert f'File "{__file__}", line {line}, in _nan_program' in msgs[0]
    assert "w = lib.log(x)" in msgs[0]
    # the warning points at the user's backward call, not at ember's engine
    assert [w.filename for w in rec if "Error detected" in str(w.message)] == [__file__]
    notes = "".join(getattr(ei.value, "__notes__", []))
    assert "LogBackward0" in notes and f"{__file__}:{line}" in notes


def test_nan_message_matches_torch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            loss = _nan_program(torch)
            with pytest.raises(RuntimeError) as tei:
                loss.backward()
        with ember.autograd.detect_anomaly():
            loss = _nan_program(ember)
            with pytest.raises(RuntimeError) as eei:
                loss.backward()
    assert str(eei.value) == str(tei.value)


def test_check_nan_false_and_off_do_not_raise():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly(check_nan=False):
            x = ember.tensor([0.0, 1.0], requires_grad=True)
            (ember.log(x) * 0).sum().backward()
        assert np.isnan(x.grad.numpy()[0])
        x = ember.tensor([0.0, 1.0], requires_grad=True)
        (ember.log(x) * 0).sum().backward()  # anomaly mode off: no check
    assert np.isnan(x.grad.numpy()[0])


def test_inf_gradient_is_not_an_anomaly_as_in_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        lib.log(x).sum().backward()  # gradient 1/x: inf, not NaN
        return x.grad

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            tg = run(torch)
        with ember.autograd.detect_anomaly():
            eg = run(ember)
    np.testing.assert_array_equal(eg.numpy(), tg.numpy())


def test_error_inside_backward_names_forward_op_and_line():
    line = _line_of("ANOMALY-INPLACE-LINE")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            a = ember.randn(3, requires_grad=True)
            b = a.exp()  # ANOMALY-INPLACE-LINE
            c = b.sum()
            b.add_(1)  # invalidates what ExpBackward0 saved
            with pytest.raises(RuntimeError, match="modified by an inplace operation") as ei:
                c.backward()
    msgs = [str(w.message) for w in rec if "Error detected in ExpBackward0" in str(w.message)]
    assert msgs and f"line {line}" in msgs[0]
    notes = "".join(ei.value.__notes__)
    assert "forward op 'exp'" in notes and f":{line}" in notes


def test_errors_without_anomaly_have_no_note():
    a = ember.randn(3, requires_grad=True)
    b = a.exp()
    c = b.sum()
    b.add_(1)
    with pytest.raises(RuntimeError) as ei:
        c.backward()
    assert not getattr(ei.value, "__notes__", None)


def test_double_backward_shows_the_inducing_node():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            x = ember.tensor([0.0, 2.0], requires_grad=True)
            y = x.sqrt().sum()
            (g,) = ember.autograd.grad(y, x, create_graph=True)  # inf at 0, no NaN yet
            with pytest.raises(RuntimeError, match="returned nan values"):
                (g * 0).sum().backward()
    msgs = [str(w.message) for w in rec if "Error detected" in str(w.message)]
    assert msgs and "Previous calculation was induced by SqrtBackward0" in msgs[0]


def test_no_traces_kept_when_off():
    n = len(anomaly_mode._TRACES)
    x = ember.randn(4, requires_grad=True)
    (x * 2).sum()
    assert len(anomaly_mode._TRACES) == n


def test_model_anomaly_points_into_the_user_forward():
    line = _line_of("ANOMALY-MODEL-LINE")

    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = ember.nn.Linear(3, 2)

        def forward(self, x):
            return self.lin(x).sqrt()  # ANOMALY-MODEL-LINE

    net = Net()
    with ember.no_grad():
        net.lin.bias.fill_(-100.0)  # sqrt of negatives: NaN forward and backward
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            out = net(ember.ones(4, 3))
            with pytest.raises(RuntimeError, match="'SqrtBackward0' returned nan"):
                out.sum().backward()
    msg = next(str(w.message) for w in rec if "Error detected" in str(w.message))
    assert f"line {line}, in forward" in msg


# --------------------------------------------------------------------------- graph helpers
def _small_graph():
    ember.manual_seed(0)
    lin = ember.nn.Linear(3, 2)
    x = ember.randn(4, 3)
    loss = (lin(x) - 1).pow(2).mean()
    return lin, loss


def test_format_graph_lists_ops_shapes_and_leaves():
    lin, loss = _small_graph()
    text = ember.autograd.graph.format_graph(loss, dict(lin.named_parameters()))
    lines = text.splitlines()
    assert lines[0].startswith("MeanBackward0 #0 -> [] float32")
    assert any("PowBackward0" in ln and "[4, 2] float32" in ln for ln in lines)
    assert any("weight [2, 3] float32  (leaf, gets .grad)" in ln for ln in lines)
    assert any("bias [2] float32  (leaf, gets .grad)" in ln for ln in lines)
    assert lines[-1] == "4 node(s); 2 leaf tensor(s) get gradients"
    # every node of the graph appears once with its name, each under its consumer
    names = re.findall(r"(\w+Backward\d) #\d+ ->", text)
    assert names == ["MeanBackward0", "PowBackward0", "SubBackward0", "AddmmBackward0"]
    assert lines[1].startswith("└─ PowBackward0") and lines[2].startswith("   └─ SubBackward0")


def test_print_graph_shared_nodes_and_leaf(capsys):
    x = ember.randn(3, requires_grad=True)
    y = x * 2
    z = (y + y).sum()
    ember.autograd.graph.print_graph(z)
    out = capsys.readouterr().out
    assert "(shown above)" in out  # y's node is reached twice, printed once
    assert "leaf [3] float32  (leaf, gets .grad)" in out
    ember.autograd.graph.print_graph(x)
    assert "gets .grad: a leaf, no graph" in capsys.readouterr().out


def test_to_dot_is_valid_graphviz_text():
    lin, loss = _small_graph()
    dot = ember.autograd.graph.to_dot(loss, dict(lin.named_parameters()))
    assert dot.startswith('digraph "ember_graph" {') and dot.rstrip().endswith("}")
    nodes = re.findall(r"^  (n\d+) \[label=", dot, re.M)
    assert len(nodes) == 4
    edges = re.findall(r"^  (\w+) -> (\w+)", dot, re.M)
    declared = set(nodes) | set(re.findall(r"^  (leaf\d+) \[", dot, re.M)) | {"out"}
    assert edges and all(a in declared and b in declared for a, b in edges)
    assert 'label="weight [2, 3] float32"' in dot
    assert dot.count("{") == dot.count("}")
    # leaves only: still a graph
    w = ember.randn(2, requires_grad=True)
    assert "leaf0 -> out" in ember.autograd.graph.to_dot(w)


def test_custom_function_error_names_its_forward_line():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    line = _line_of("ANOMALY-FUNCTION-LINE")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ember.autograd.detect_anomaly():
            x = ember.randn(3, requires_grad=True)
            y = Bad.apply(x)  # ANOMALY-FUNCTION-LINE
            with pytest.raises(ValueError, match="broken backward") as ei:
                y.sum().backward()
    msg = next(str(w.message) for w in rec if "Error detected in BadBackward" in str(w.message))
    assert f"line {line}" in msg
    assert f":{line}" in "".join(ei.value.__notes__)
