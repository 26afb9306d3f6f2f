"""Arguments ember accepts are honoured or refused, never ignored (issue 17): tril_indices
dtype, load_state_dict(assign=True), the deterministic-algorithms flag, grad's
is_grads_batched, the strict flag of autograd.functional, and gradcheck's flags."""

import itertools

import numpy as np
import pytest

import ember
import ember.autograd.functional as AF
from ember.autograd import grad, gradcheck, gradgradcheck
from ember.autograd.gradcheck import GradcheckError


# ------------------------------------------------------------------ tril/triu_indices
@pytest.mark.parametrize("fn", [ember.tril_indices, ember.triu_indices])
@pytest.mark.parametrize("dtype", [None, ember.int64, ember.int32, ember.int16, ember.uint8])
def test_tri_indices_honour_dtype(fn, dtype):
    r = fn(4, 3, -1) if dtype is None else fn(4, 3, -1, dtype=dtype)
    assert r.dtype == (dtype or ember.int64)
    rows, cols = (np.tril_indices if fn is ember.tril_indices else np.triu_indices)(4, -1, 3)
    np.testing.assert_array_equal(r.numpy(), np.stack([rows, cols]))


def test_tri_indices_refuse_float_dtypes_like_pytorch():
    for fn in (ember.tril_indices, ember.triu_indices):
        with pytest.raises(NotImplementedError, match="not implemented for"):
            fn(3, 3, dtype=ember.float32)
    torch = pytest.importorskip("torch")
    with pytest.raises(NotImplementedError):
        torch.tril_indices(3, 3, dtype=torch.float32)
    for args in ((3, 3), (4, 2, 1), (2, 5, -1), (0, 3)):
        assert ember.tril_indices(*args, dtype=ember.int32).tolist() == \
            torch.tril_indices(*args, dtype=torch.int32).tolist()
        assert ember.triu_indices(*args).tolist() == torch.triu_indices(*args).tolist()


# ------------------------------------------------------------------ load_state_dict(assign)
def test_load_state_dict_assign_takes_the_tensors():
    m = ember.nn.Linear(2, 3)
    m.weight.requires_grad_(False)
    w = ember.ones(3, 2, dtype=ember.float64)
    b = ember.nn.Parameter(ember.zeros(3), requires_grad=False)
    m.load_state_dict({"weight": w, "bias": b}, assign=True)
    assert isinstance(m.weight, ember.nn.Parameter) and m.weight.dtype == ember.float64
    assert m.weight.data_ptr() == w.data_ptr()  # the given memory, not a copy
    assert not m.weight.requires_grad  # the module's requires_grad is kept ...
    assert m.bias is b and m.bias.requires_grad  # ... also on a given Parameter
    assert dict(m.named_parameters())["weight"] is m.weight
    bn = ember.nn.BatchNorm1d(3)
    rm = ember.full((3,), 5.0)
    bn.load_state_dict({**bn.state_dict(), "running_mean": rm}, assign=True)
    assert bn.running_mean is rm


def test_load_state_dict_without_assign_copies():
    m = ember.nn.Linear(2, 3)
    w0 = m.weight
    w = ember.ones(3, 2, dtype=ember.float64)
    m.load_state_dict({"weight": w, "bias": ember.zeros(3)})
    assert m.weight is w0 and m.weight.dtype == ember.float32 and ember.equal(w0, ember.ones(3, 2))
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict({"weight": ember.ones(2, 2), "bias": ember.zeros(3)}, assign=True)


def test_load_state_dict_assign_matches_pytorch():
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (ember, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        sd = {k: v.double() if v.is_floating_point() else v for k, v in m.state_dict().items()}
        m.load_state_dict(sd, assign=True)
        seen.append([(k, str(v.dtype).split(".")[-1], type(v).__name__, v.requires_grad)
                     for k, v in itertools.chain(m.named_parameters(), m.named_buffers())])
    assert seen[0] == seen[1]


# ------------------------------------------------------------------ deterministic algorithms
def test_deterministic_flag_is_recorded():
    try:
        assert not ember.are_deterministic_algorithms_enabled()
        ember.use_deterministic_algorithms(True)
        assert ember.are_deterministic_algorithms_enabled()
        assert not ember.is_deterministic_algorithms_warn_only_enabled()
        ember.use_deterministic_algorithms(True, warn_only=True)
        assert ember.is_deterministic_algorithms_warn_only_enabled()
        ember.use_deterministic_algorithms(False)
        assert not ember.are_deterministic_algorithms_enabled()
        with pytest.raises(TypeError):
            ember.use_deterministic_algorithms("yes")
    finally:
        ember.use_deterministic_algorithms(False)


# ------------------------------------------------------------------ is_grads_batched
def test_is_grads_batched_matches_a_loop_and_pytorch():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x ** 2
    (jac,) = grad(y, x, ember.eye(3), is_grads_batched=True, retain_graph=True)
    assert ember.equal(jac, ember.diag(2 * x.detach()))
    z = ember.ones(2, requires_grad=True)
    g = grad((y.sum(),), (x, z), (ember.tensor([1.0, 2.0]),), is_grads_batched=True,
             allow_unused=True, retain_graph=True)
    assert ember.equal(g[0], ember.stack([2 * x.detach(), 4 * x.detach()])) and g[1] is None
    with pytest.raises(RuntimeError, match="batch dimension"):
        grad(y, x, ember.ones(3), is_grads_batched=True, retain_graph=True)
    with pytest.raises(RuntimeError, match="is_grads_batched"):
        grad(y.sum(), x, is_grads_batched=True)
    torch = pytest.importorskip("torch")
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ty = tx ** 2
    (tjac,) = torch.autograd.grad(ty, tx, torch.eye(3), is_grads_batched=True)
    np.testing.assert_array_equal(jac.numpy(), tjac.numpy())


def test_is_grads_batched_with_create_graph_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (h,) = grad((x ** 3).sum(), x, create_graph=True)
    (hess,) = grad(h, x, ember.eye(2), is_grads_batched=True, create_graph=True)
    assert ember.equal(hess, ember.diag(6 * x.detach())) and hess.requires_grad


# ------------------------------------------------------------------ strict
FUNCS = {
    "cube": (lambda L, a: (a ** 3).sum(), 1),
    "elementwise": (lambda L, a: a ** 2, 1),
    "unused_input": (lambda L, a, b: (a ** 2).sum(), 2),
    "constant": (lambda L, a: L.ones(()) * 2 + a.detach().sum(), 1),
    "linear": (lambda L, a: (a * 3).sum(), 1),
    "two_outputs": (lambda L, a, b: ((a * b).sum(), (a ** 2).sum()), 2),
    "product": (lambda L, a, b: (a * b * a).sum(), 2),
}


def _run(lib, fname, f, n_in, strict, create_graph):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(3) for _ in range(n_in)]
    ins = tuple(lib.tensor(a) for a in arrs) if n_in > 1 else lib.tensor(arrs[0])
    kw = {"strict": strict, "create_graph": create_graph}
    if fname == "vjp":
        probe = f(lib, *(ins if n_in > 1 else (ins,)))
        kw["v"] = tuple(lib.ones_like(p) for p in probe) if isinstance(probe, tuple) else \
            lib.ones_like(probe)
    elif fname in ("jvp", "vhp", "hvp"):
        kw["v"] = tuple(lib.ones_like(t) for t in ins) if n_in > 1 else lib.ones_like(ins)
    try:
        r = getattr(lib.autograd.functional, fname)(lambda *x: f(lib, *x), ins, **kw)
    except RuntimeError as e:
        return ("RuntimeError", str(e).split(".")[0])

    def arrays(r):
        if isinstance(r, tuple):
            return tuple(arrays(e) for e in r)
        return np.asarray(r.detach().numpy())
    return arrays(r)


def _same(a, b):
    if isinstance(a, tuple) and a and isinstance(a[0], str):
        return a == b
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    return isinstance(b, np.ndarray) and a.shape == b.shape and np.allclose(a, b)


@pytest.mark.parametrize("fname", ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"])
@pytest.mark.parametrize("name", list(FUNCS))
def test_functional_strict_and_create_graph_match_pytorch(fname, name):
    torch = pytest.importorskip("torch")
    f, n_in = FUNCS[name]
    for strict, cg in itertools.product([False, True], [False, True]):
        a = _run(ember, fname, f, n_in, strict, cg)
        b = _run(torch, fname, f, n_in, strict, cg)
        assert _same(a, b), (fname, name, strict, cg, a, b)


def test_strict_refuses_independent_outputs_without_oracle():
    x, y = ember.randn(3), ember.randn(3)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.vjp(lambda a: a.detach() * 2, x, ember.ones(3), strict=True)
    with pytest.raises(RuntimeError, match="independent"):
        AF.hessian(lambda a: (a * 3).sum(), x, strict=True)
    j = AF.jacobian(lambda a, b: a * 2, (x, y))  # non-strict: zeros
    assert ember.equal(j[1], ember.zeros(3, 3))
    with pytest.raises(RuntimeError, match="vectorize"):
        AF.jacobian(lambda a: a, x, strict=True, vectorize=True)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        AF.jacobian(lambda a: a, x, strategy="forward-mode")
    with pytest.raises(ValueError, match="strategy"):
        AF.jacobian(lambda a: a, x, strategy="sideways")
    assert ember.equal(AF.jacobian(lambda a: a * 2, x, vectorize=True), 2 * ember.eye(3))


# ------------------------------------------------------------------ gradcheck flags
def _x():
    return ember.randn(3, dtype=ember.float64, requires_grad=True)


class _Nondet(ember.autograd.Function):
    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        _Nondet.calls += 1
        return g * 2 + (1e-7 if _Nondet.calls % 2 else 0.0)


class _ZeroGradBreaks(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2 + (g == 0).to(g.dtype) * (g.sum() == 0).to(g.dtype)


class _WrongDtype(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return (g * 2).float()


def test_gradcheck_nondet_tol():
    with pytest.raises(GradcheckError, match="reentrant"):
        gradcheck(_Nondet.apply, (_x(),))
    assert gradcheck(_Nondet.apply, (_x(),), nondet_tol=1e-6, atol=1e-5)
    assert gradcheck(_Nondet.apply, (_x(),), raise_exception=False) is False


def test_gradcheck_undefined_grad_and_dtypes():
    with pytest.raises(GradcheckError, match="undefined"):
        gradcheck(_ZeroGradBreaks.apply, (_x(),))
    assert gradcheck(_ZeroGradBreaks.apply, (_x(),), check_undefined_grad=False)
    # The engine casts a Function's float32 gradient back to the float64 input's dtype (as
    # PyTorch's does), so the dtype check passes; the float32 rounding shows in the values.
    assert gradcheck(_WrongDtype.apply, (_x(),), atol=1e-4, rtol=1e-4, check_grad_dtypes=True)
    x = _x()
    assert grad(_WrongDtype.apply(x).sum(), x)[0].dtype == ember.float64


def test_gradcheck_batched_grad_and_refused_flags():
    assert gradcheck(lambda t: t.sin() * t, (_x(),), check_batched_grad=True)
    assert gradgradcheck(lambda t: t.sin() * t, (_x(),), check_batched_grad=True,
                         gen_non_contig_grad_outputs=True)
    assert gradcheck(lambda t: t.exp(), (_x(),), fast_mode=True, check_forward_ad=False)
    for flag in ("check_forward_ad", "check_batched_forward_grad", "check_sparse_nnz"):
        with pytest.raises(NotImplementedError, match=flag):
            gradcheck(lambda t: t.exp(), (_x(),), **{flag: True})
    with pytest.raises(NotImplementedError, match="masked"):
        gradcheck(lambda t: t.exp(), (_x(),), masked=True)
    with pytest.raises(ValueError, match="check_backward_ad"):
        gradcheck(lambda t: t.exp(), (_x(),), check_backward_ad=False)
    with pytest.raises(TypeError, match="no_such_flag"):
        gradcheck(lambda t: t.exp(), (_x(),), no_such_flag=True)
    with pytest.raises(NotImplementedError, match="check_fwd_over_rev"):
        gradgradcheck(lambda t: t.exp(), (_x(),), check_fwd_over_rev=True)
