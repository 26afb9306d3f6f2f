"""Function-level interception: TorchFunctionMode and ``__torch_function__`` (PyTorch's
semantics; NOTE [ Installing function-level interception ] in ember/overrides.py)."""

from __future__ import annotations

import pytest

import ember
from ember import overrides
from ember.overrides import TorchFunctionMode

try:
    import torch
except ImportError:
    torch = None


@pytest.fixture(autouse=True)
def _restore_plain_functions():
    """Subclasses defined here would keep the wrappers installed for the whole test process
    (as they do in a user's); put the plain functions back afterwards."""
    yield
    overrides._STATE["subclasses"] = False
    overrides._uninstall()


class Log(TorchFunctionMode):
    def __init__(self):
        self.names = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(func.__name__)
        return func(*args, **(kwargs or {}))


def test_mode_sees_functions_methods_operators_and_functional():
    x = ember.ones(2)
    with Log() as log:
        y = ember.exp(x) + 1
        y.sum()
        ember.nn.functional.relu(x)
        x[0]
    assert log.names == ["exp", "add", "sum", "relu", "__getitem__"]


def test_mode_is_disabled_inside_its_handler_and_nests():
    outer, inner = Log(), Log()
    with outer, inner:
        ember.ones(2).neg()
    assert inner.names == ["ones", "neg"]
    assert outer.names == ["ones", "neg"]  # reached through the inner handler's func() call


def test_mode_can_change_the_result():
    class Doubler(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            return out * 2 if func.__name__ == "exp" else out

    with Doubler():
        assert ember.exp(ember.zeros(2)).tolist() == [2.0, 2.0]
    assert ember.exp(ember.zeros(2)).tolist() == [1.0, 1.0]


def test_no_cost_when_no_mode_is_installed():
    exp, method, add = ember.exp, ember.Tensor.exp, ember.Tensor.__add__
    with Log():
        assert ember.exp is not exp  # wrappers installed while a mode is active
        assert ember.Tensor.__add__ is not add
    assert (ember.exp, ember.Tensor.exp, ember.Tensor.__add__) == (exp, method, add)


def test_subclass_results_keep_the_subclass():
    class MyTensor(ember.Tensor):
        pass

    m = ember.ones(2).as_subclass(MyTensor)
    assert type(m + 1) is MyTensor
    assert type(m.exp()) is MyTensor
    assert type(ember.exp(m)) is MyTensor
    assert type(ember.nn.Parameter(ember.ones(2)) * 2) is ember.Tensor  # opts out


def test_custom_torch_function_is_called_with_func_and_types():
    seen = []

    class Traced(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append((func.__name__, types))
            return super().__torch_function__(func, types, args, kwargs)

    t = ember.ones(3).as_subclass(Traced)
    r = (t * 2).sum()
    assert type(r) is Traced
    assert [n for n, _ in seen] == ["mul", "sum"]
    assert all(ty == (Traced,) for _, ty in seen)


def test_not_implemented_everywhere_is_a_type_error():
    class Refuses(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    t = ember.ones(2).as_subclass(Refuses)
    with pytest.raises(TypeError, match="no implementation found for 'exp'"):
        ember.exp(t)


def test_handle_torch_function_for_user_functions():
    def my_op(x):
        if overrides.has_torch_function((x,)):
            return overrides.handle_torch_function(my_op, (x,), x)
        return x + 1

    x = ember.ones(1)
    with Log() as log:
        my_op(x)
    assert log.names == ["my_op"]  # the mode is off while its handler runs my_op


@pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")
def test_same_call_sequence_as_pytorch():
    def program(lib):
        x = lib.ones(2, 3)
        y = (x * 2).sum(1)
        return lib.exp(y).mean()

    class TLog(torch.overrides.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    x = torch.ones(2, 3)
    b = torch.ones(2, 3, dtype=torch.bool)
    with TLog() as tl:
        program(torch)
        x ** 2, abs(x), x % 2, b & b, ~b, 1 + x, 2 * x, x - 1, x < 1, x != 1, x == 1, -x
        x.__iadd__(1), x.__imul__(1), x @ x.t(), x[0]
    x = ember.ones(2, 3)
    b = ember.ones(2, 3, dtype=ember.bool)
    with Log() as el:
        program(ember)
        x ** 2, abs(x), x % 2, b & b, ~b, 1 + x, 2 * x, x - 1, x < 1, x != 1, x == 1, -x
        x.__iadd__(1), x.__imul__(1), x @ x.t(), x[0]
    assert el.names == tl.names
