"""``ember.autograd.Variable``: PyTorch's compatibility wrapper honours ``requires_grad``
(issue 17), and the talk's RNN cell written with it runs backward."""

import pytest

import ember
from ember.autograd import Variable


def test_requires_grad_is_honoured():
    t = ember.randn(1, 10)
    x = Variable(t, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    assert not t.requires_grad  # the argument is not modified ...
    assert x is not t and x.data_ptr() == t.data_ptr()  # ... but its memory is shared
    t.add_(1)
    assert ember.equal(x.detach(), t)
    assert not Variable(t).requires_grad
    assert Variable(t, True).requires_grad  # positional, as in PyTorch


def test_variable_of_a_non_leaf_is_a_detached_leaf():
    y = ember.randn(3, requires_grad=True)
    z = y * 2
    v = Variable(z)
    assert v.grad_fn is None and not v.requires_grad
    w = Variable(z, requires_grad=True)
    (w * 3).sum().backward()
    assert ember.equal(w.grad, ember.full((3,), 3.0)) and y.grad is None


def test_isinstance_and_bad_input():
    assert isinstance(ember.ones(1), Variable) and issubclass(ember.nn.Parameter, Variable)
    assert not isinstance([1.0], Variable)
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        Variable([1.0, 2.0])
    with pytest.raises(RuntimeError, match="floating point"):
        Variable(ember.arange(3), requires_grad=True)
    with pytest.warns(UserWarning, match="volatile"):
        assert not Variable(ember.ones(2), volatile=True).requires_grad
    e = Variable()
    assert e.shape == (0,) and e.dtype == ember.get_default_dtype()


def test_the_talks_rnn_cell_runs_backward():
    x = Variable(ember.randn(1, 10), requires_grad=True)
    prev_h = Variable(ember.randn(1, 20), requires_grad=True)
    W_h = Variable(ember.randn(20, 20), requires_grad=True)
    W_x = Variable(ember.randn(20, 10), requires_grad=True)
    i2h = ember.mm(W_x, x.t())
    h2h = ember.mm(W_h, prev_h.t())
    next_h = i2h + h2h
    next_h = next_h.tanh()
    next_h.backward(ember.ones_like(next_h))
    # d sum(tanh(a)) / dx = (W_x^T (1 - tanh(a)^2))^T, and likewise for prev_h.
    d = 1 - next_h.detach() ** 2
    assert ember.allclose(x.grad, (W_x.detach().t() @ d).t(), atol=1e-5)
    assert ember.allclose(prev_h.grad, (W_h.detach().t() @ d).t(), atol=1e-5)
    assert ember.allclose(W_x.grad, d @ x.detach(), atol=1e-5)


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.autograd import Variable as TV

    for kwargs in ({}, {"requires_grad": True}, {"requires_grad": False}):
        e, t = Variable(ember.ones(2), **kwargs), TV(torch.ones(2), **kwargs)
        assert (e.requires_grad, e.is_leaf, type(e).__name__) == (
            t.requires_grad, t.is_leaf, type(t).__name__)


def test_execution_engine_queue_callback():
    ran = []
    x = ember.ones(2, requires_grad=True)
    y = (x * 2).sum()
    y.register_hook(lambda g: Variable._execution_engine.queue_callback(lambda: ran.append(1)))
    y.backward()
    assert ran == [1] and ember.equal(x.grad, ember.full((2,), 2.0))
