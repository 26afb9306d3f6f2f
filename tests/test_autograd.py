"""Autograd engine and API: backward/grad, higher order, hooks, grad modes, Function, checks."""

import numpy as np
import pytest

import ember
from ember.autograd import Function, Variable, grad, gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")


def rand(*shape, seed=0, requires_grad=False, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(a, requires_grad=requires_grad)


# ------------------------------------------------------------------ the talk's examples
def _rnn_cell(lib, x, prev_h, w_h, w_x):
    i2h = lib.mm(w_x, x.t())
    h2h = lib.mm(w_h, prev_h.t())
    next_h = i2h + h2h
    return next_h.tanh()


@needs_torch
def test_talk_rnn_cell_as_written_matches_pytorch():
    # As printed in the talk: Variables without requires_grad and a (1, 20) gradient for a
    # (20, 1) output. PyTorch 2 refuses both; ember must refuse the same way.
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s).astype(np.float32) for s in [(1, 10), (1, 20), (20, 20),
                                                                 (20, 10)]]
    for lib, V in ((ember, ember.autograd.Variable), (torch, torch.autograd.Variable)):
        x, prev_h, w_h, w_x = (V(lib.from_numpy(a.copy())) for a in arrs)
        next_h = _rnn_cell(lib, x, prev_h, w_h, w_x)
        with pytest.raises(RuntimeError):
            next_h.backward(lib.ones(1, 20))


@needs_torch
def test_talk_rnn_cell_gradients_match_pytorch():
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal(s).astype(np.float32) for s in [(1, 10), (1, 20), (20, 20),
                                                                 (20, 10)]]
    grads = {}
    for lib in (ember, torch):
        ts = [lib.from_numpy(a.copy()).requires_grad_() for a in arrs]
        next_h = _rnn_cell(lib, *ts)
        next_h.backward(lib.ones(20, 1))
        grads[lib.__name__] = [t.grad.numpy() for t in ts]
    for e, t in zip(grads["ember"], grads["torch"]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_variable_is_tensor_alias():
    v = Variable(ember.randn(2, 3))
    assert isinstance(v, ember.Tensor)
    assert v.shape == (2, 3)


def _nth_grads(lib, x, n):
    """grad(grad(...grad(norm(x)))): each level differentiates the sum of the previous one."""
    out = []
    y = lib.norm(x)
    for _ in range(n):
        (y,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        out.append(y.detach().numpy().copy())
    return out


@needs_torch
def test_sixth_order_gradient_of_norm_matches_pytorch():
    a = np.random.default_rng(2).standard_normal(5)
    e = _nth_grads(ember, ember.tensor(a, requires_grad=True), 6)
    t = _nth_grads(torch, torch.tensor(a, requires_grad=True), 6)
    for le, lt in zip(e, t):
        np.testing.assert_allclose(le, lt, rtol=1e-8, atol=1e-10)


def test_higher_order_polynomial():
    x = ember.tensor(2.0, requires_grad=True)
    y = x ** 4
    expected = [32.0, 48.0, 48.0, 24.0, 0.0]
    for e in expected:
        (y,) = grad(y, x, create_graph=True)
        assert y.item() == pytest.approx(e)
        if not y.requires_grad:
            break


# ------------------------------------------------------------------ backward semantics
def test_accumulates_into_leaves_and_broadcast_reduction():
    a = rand(3, 1, requires_grad=True)
    b = rand(1, 4, seed=1, requires_grad=True)
    (a * b).sum().backward()
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * b.detach().numpy().sum() * np.ones((3, 1)))
    np.testing.assert_allclose(b.grad.numpy(), 2 * a.detach().numpy().sum() * np.ones((1, 4)))


def test_gradient_dtype_follows_input_after_promotion():
    a = ember.ones(3, requires_grad=True)  # float32
    b = ember.ones(3, dtype=ember.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == ember.float32
    assert b.grad.dtype == ember.float64


def test_backward_nonscalar_without_gradient_raises():
    x = rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        (x * 2).backward()


def test_backward_gradient_shape_mismatch_raises():
    x = rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ember.ones(4, dtype=ember.float64))


def test_second_backward_through_freed_graph_raises():
    x = rand(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = rand(3, requires_grad=True)
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.detach().numpy()))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


def test_modified_saved_tensor_raises():
    x = rand(3, requires_grad=True)
    y = x.sigmoid()
    z = y * 3  # saves nothing of y for x's path... but sigmoid saved its output y
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (z.sum() + y.sum()).backward()


def test_inplace_on_leaf_requiring_grad_raises_but_no_grad_allows():
    w = rand(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with ember.no_grad():
        w.add_(1)
    assert w.requires_grad and w.is_leaf


def test_inplace_rebases_history():
    x = rand(3, requires_grad=True)
    y = x * 2
    y.exp_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x.detach().numpy()))


def test_inplace_on_view_updates_base_history():
    a = rand(2, 3, requires_grad=True)
    x = a.clone()
    x[:, 0].mul_(5)
    x.sum().backward()
    expected = np.ones((2, 3))
    expected[:, 0] = 5
    np.testing.assert_allclose(a.grad.numpy(), expected)


def test_setitem_gradients():
    a = rand(4, requires_grad=True)
    v = rand(2, seed=3, requires_grad=True)
    x = a * 1
    x[ember.tensor([0, 2])] = v * 3
    (x * ember.arange(4.0, dtype=ember.float64)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0, 1, 0, 3])
    np.testing.assert_allclose(v.grad.numpy(), [0, 6])


def test_repeated_index_gradient_accumulates():
    a = rand(3, requires_grad=True)
    a[ember.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3, 0, 1])


# ------------------------------------------------------------------ graph introspection
def test_grad_fn_and_next_functions():
    a = rand(2, requires_grad=True)
    b = rand(2, seed=1)
    c = a * b
    assert c.grad_fn.name() == "MulBackward0"
    assert not c.is_leaf and a.is_leaf and b.is_leaf
    (fn0, _), (fn1, _) = c.grad_fn.next_functions
    assert fn0.variable is a and fn1 is None
    d = c.tanh()
    assert d.grad_fn.next_functions[0][0] is c.grad_fn


def test_requires_grad_propagation_and_detach():
    a = rand(2, requires_grad=True)
    assert (a + 1).requires_grad
    assert not (a.detach() + 1).requires_grad
    d = a.detach()
    d[0] = 100.0  # shares memory
    assert a[0].item() == 100.0
    b = a * 2
    b.detach_()
    assert b.is_leaf and not b.requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ember.ones(2, dtype=ember.int64).requires_grad_()


# ------------------------------------------------------------------ hooks
def test_tensor_hooks_and_retain_grad():
    x = rand(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    h = y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 20 * np.ones(3))
    np.testing.assert_allclose(y.grad.numpy(), 10 * np.ones(3))  # retain_grad sees hooked grad
    h.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones(3))


def test_leaf_hook_runs_before_accumulation():
    x = rand(3, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 0 + 7)
    x.sum().backward()
    np.testing.assert_allclose(seen[0], np.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), 7 * np.ones(3))


# ------------------------------------------------------------------ grad()
def test_grad_allow_unused_and_nonleaf_inputs():
    x = rand(3, requires_grad=True)
    z = rand(3, seed=4, requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gh, gz = grad(y, [h, z], allow_unused=True, retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    assert gz is None
    with pytest.raises(RuntimeError, match="not have been used"):
        grad(y, [z])
    assert x.grad is None  # grad() never touches .grad


def test_backward_inputs_restricts_accumulation():
    a = rand(2, requires_grad=True)
    b = rand(2, seed=1, requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad is not None and b.grad is None


def test_hessian_vector_product_via_create_graph():
    x = rand(4, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = grad(y, x, create_graph=True)
    v = rand(4, seed=9)
    (hv,) = grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.numpy(), 6 * x.detach().numpy() * v.numpy())


# ------------------------------------------------------------------ grad modes
def test_grad_modes_as_context_and_decorator():
    x = rand(2, requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    with ember.inference_mode():
        assert not (x * 2).requires_grad

    @ember.no_grad()
    def f(t):
        return t * 2

    @ember.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert ember.is_grad_enabled()


# ------------------------------------------------------------------ custom Function
class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class MulConst(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k, x + 1

    @staticmethod
    def backward(ctx, g1, g2):
        assert ctx.needs_input_grad == (True, False)
        return g1 * ctx.k + g2, None


def test_custom_function_single_and_multi_output():
    x = rand(3, requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()))
    x.grad = None
    a, b = MulConst.apply(x, 3.0)
    (a.sum() + b.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.ones(3))
    assert gradcheck(Exp.apply, (rand(3, requires_grad=True),))
    assert gradgradcheck(Exp.apply, (rand(3, requires_grad=True),))


def test_custom_function_mark_dirty_and_saved_version_check():
    class AddOneInplace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = rand(3, requires_grad=True)
    b = a * 1
    c = AddOneInplace.apply(b)
    assert c is b
    c.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones(3))


def test_gradcheck_catches_a_wrong_gradient():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # wrong: should be 2 x g

    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(Bad.apply, (rand(3, requires_grad=True),))
    assert not gradcheck(Bad.apply, (rand(3, requires_grad=True),), raise_exception=False)


# ------------------------------------------------------------------ functional
@needs_torch
def test_functional_jacobian_and_hessian_match_pytorch():
    a = np.random.default_rng(5).standard_normal(3)

    def f(lib):
        return lambda x: (x.sin() * x.sum()).exp()

    def h(lib):
        return lambda x: (x ** 3).sum() * x.prod()

    je = ember.autograd.functional.jacobian(f(ember), ember.tensor(a))
    jt = torch.autograd.functional.jacobian(f(torch), torch.tensor(a))
    np.testing.assert_allclose(je.numpy(), jt.numpy(), rtol=1e-10)
    he = ember.autograd.functional.hessian(h(ember), ember.tensor(a))
    ht = torch.autograd.functional.hessian(h(torch), torch.tensor(a))
    np.testing.assert_allclose(he.numpy(), ht.numpy(), rtol=1e-10)


def test_other_views_see_history_rewritten_through_a_sibling_view():
    # x[:2] was taken before x[0] was changed in place: its gradient must flow through the
    # new history of x (PyTorch regenerates such views lazily; so does ember).
    a = rand(3, requires_grad=True)
    x = a.clone()
    v1, v2 = x[0], x[:2]
    v1.mul_(2)
    (v2 * 1).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 1.0, 0.0])
    b = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = b.clone()
    tail = y[1:]
    y[:2].mul_(3)
    (tail * tail).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 36.0, 6.0])


def test_none_gradient_for_an_input_with_a_node_keeps_other_paths():
    """A formula returning None for an input that has a node (a Function's "no gradient")
    still counts that edge, so the node's other consumers deliver their gradients."""
    class Half(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (Half.apply(x, y) + y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])
    x.grad = None
    Half.apply(x, (x * 3) * 1).sum().backward()  # a chain that receives no gradient at all
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
