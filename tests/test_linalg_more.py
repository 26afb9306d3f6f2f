"""LU, LDL^T, cholesky_solve/inverse and cond (issue 19): PyTorch as the oracle where
installed, reconstruction identities where not, gradchecks."""

import math

import numpy as np
import pytest

import ember
import ember.linalg as LA
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
RNG = np.random.default_rng(0)


def t(x, grad=False):
    return ember.tensor(np.asarray(x), requires_grad=grad)


def close(a, b, rtol=1e-7, atol=1e-10):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


SHAPES = [(4, 4), (2, 3, 3), (3, 5), (5, 3), (2, 4, 2), (0, 0), (2, 0, 3)]


# ----------------------------------------------------------------------------- LU
@needs_torch
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_lu_family_matches_torch(shape):
    A = RNG.standard_normal(shape)
    e, r = LA.lu_factor_ex(t(A)), torch.linalg.lu_factor_ex(torch.tensor(A))
    for x, y in zip(e, r):
        close(x, y.numpy())
        assert str(x.dtype) == str(y.dtype)
    for x, y in zip(LA.lu(t(A)), torch.linalg.lu(torch.tensor(A))):
        close(x, y.numpy())
    for x, y in zip(ember.lu_unpack(*e[:2]), torch.lu_unpack(*r[:2])):
        close(x, y.numpy())
    if shape[-1] == shape[-2]:
        for x, y in zip(LA.lu_factor(t(A)), torch.linalg.lu_factor(torch.tensor(A))):
            close(x, y.numpy())


@needs_torch
def test_lu_singular_and_pivot_false():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    for x, y in zip(LA.lu_factor_ex(t(A)), torch.linalg.lu_factor_ex(torch.tensor(A))):
        close(x, y.numpy())
    with pytest.raises(RuntimeError, match="U\\[2,2\\] is zero"):
        LA.lu_factor(t(A))
    with pytest.raises(LA.LinAlgError):
        LA.lu_factor_ex(t(A), check_errors=True)
    # no pivoting (PyTorch has it on CUDA only): still A = L U
    B = RNG.standard_normal((3, 3)) + 4 * np.eye(3)
    P, L, U = LA.lu(t(B), pivot=False)
    close(P, np.eye(3))
    close(L @ U, B)


@needs_torch
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_matches_torch(left, adjoint):
    A = RNG.standard_normal((2, 4, 4))
    B = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))
    LU, piv = LA.lu_factor(t(A))
    LUt, pivt = torch.linalg.lu_factor(torch.tensor(A))
    close(LA.lu_solve(LU, piv, t(B), left=left, adjoint=adjoint),
          torch.linalg.lu_solve(LUt, pivt, torch.tensor(B), left=left, adjoint=adjoint).numpy())
    # torch.lu / torch.lu_solve spellings and the methods
    close(ember.lu(t(A))[0], LU)
    close(t(A).lu()[1], piv)
    b = t(B[..., :1]) if left else t(B[:, :1].mT)
    close(ember.lu_solve(b, LU, piv), torch.lu_solve(torch.tensor(b.numpy()), LUt, pivt).numpy())
    close(b.lu_solve(LU, piv), LA.lu_solve(LU, piv, b))


def test_lu_identities_without_torch():
    A = RNG.standard_normal((3, 5, 5))
    P, L, U = LA.lu(t(A))
    close(P @ L @ U, A)
    assert np.allclose(np.triu(L.numpy(), 1), 0) and np.allclose(np.tril(U.numpy(), -1), 0)
    # partial pivoting: |L| <= 1
    assert np.abs(L.numpy()).max() <= 1 + 1e-12
    B = RNG.standard_normal((3, 5, 2))
    close(LA.lu_solve(*LA.lu_factor(t(A)), t(B)), np.linalg.solve(A, B))
    LU, piv, info = ember.lu(t(A), get_infos=True)
    assert info.numpy().tolist() == [0, 0, 0]
    Wide = RNG.standard_normal((3, 6))
    P, L, U = LA.lu(t(Wide))
    assert tuple(L.shape) == (3, 3) and tuple(U.shape) == (3, 6)
    close(P @ L @ U, Wide)


def test_lu_gradients():
    A = t(RNG.standard_normal((2, 3, 3)), True)
    B = t(RNG.standard_normal((2, 3, 2)), True)
    assert gradcheck(lambda a: LA.lu_factor(a)[0], (A,))
    assert gradgradcheck(lambda a: LA.lu_factor(a)[0], (A,))
    assert gradcheck(lambda a: LA.lu(a)[1:], (A,))
    assert gradcheck(lambda a, b: LA.lu_solve(*LA.lu_factor(a), b), (A, B))
    assert gradcheck(lambda a, b: LA.lu_solve(*LA.lu_factor(a), b.mT, left=False,
                                              adjoint=True), (A, B))
    wide = t(RNG.standard_normal((3, 4)), True)
    with pytest.raises(NotImplementedError, match="square"):
        LA.lu_factor_ex(wide)[0].sum().backward()


@needs_torch
def test_lu_gradient_matches_torch():
    A = RNG.standard_normal((2, 4, 4))
    g = RNG.standard_normal((2, 4, 4))
    Ae, At = t(A, True), torch.tensor(A, requires_grad=True)
    (ge,) = ember.autograd.grad((LA.lu_factor(Ae)[0] * t(g)).sum(), Ae)
    (gt,) = torch.autograd.grad((torch.linalg.lu_factor(At)[0] * torch.tensor(g)).sum(), At)
    close(ge, gt.numpy(), atol=1e-9)


# ----------------------------------------------------------------------------- Cholesky
def _spd(*batch, n=4):
    M = RNG.standard_normal(batch + (n, n))
    return M @ np.swapaxes(M, -1, -2) + n * np.eye(n)


@needs_torch
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_inverse_match_torch(upper):
    A = _spd(3)
    L = np.linalg.cholesky(A)
    F = np.swapaxes(L, -1, -2) if upper else L
    B = RNG.standard_normal((1, 4, 2))  # broadcasts against the batch of 3
    close(ember.cholesky_solve(t(B), t(F), upper),
          torch.cholesky_solve(torch.tensor(B), torch.tensor(F), upper).numpy())
    close(ember.cholesky_inverse(t(F[0]), upper),
          torch.cholesky_inverse(torch.tensor(F[0]), upper).numpy())
    close(t(B).cholesky_solve(t(F), upper), np.linalg.solve(A, B))
    close(t(F[0]).cholesky_inverse(upper), np.linalg.inv(A[0]))


def test_cholesky_solve_gradcheck_and_errors():
    L = t(np.linalg.cholesky(_spd(n=3)), True)
    B = t(RNG.standard_normal((3, 2)), True)
    assert gradcheck(lambda l, b: ember.cholesky_solve(b, l), (L, B))
    assert gradcheck(lambda l, b: ember.cholesky_solve(b, l.mT, upper=True), (L, B))
    assert gradcheck(lambda l: ember.cholesky_inverse(l), (L,))
    with pytest.raises(RuntimeError, match="Incompatible"):
        ember.cholesky_solve(t(np.zeros((2, 1))), t(np.eye(3)))
    with pytest.raises(RuntimeError, match="dtype"):
        ember.cholesky_solve(t(np.zeros((3, 1), np.float32)), t(np.eye(3)))


# ----------------------------------------------------------------------------- cond
P_VALUES = [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf]


@needs_torch
@pytest.mark.parametrize("p", P_VALUES, ids=str)
def test_cond_matches_torch(p):
    A = RNG.standard_normal((2, 4, 4))
    close(LA.cond(t(A), p), torch.linalg.cond(torch.tensor(A), p).numpy(), rtol=1e-9)
    if p in (None, 2, -2):
        W = RNG.standard_normal((3, 5))
        close(LA.cond(t(W), p), torch.linalg.cond(torch.tensor(W), p).numpy(), rtol=1e-9)


def test_cond_values_gradcheck_errors():
    close(LA.cond(t(np.diag([1.0, 4.0]))), 4.0)
    close(LA.cond(t(np.diag([1.0, 4.0])), 1), 4.0)
    sing = t(np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 1.0]]]))
    r = LA.cond(sing, "fro").numpy()
    assert np.isinf(r[0]) and np.isclose(r[1], 2.5)
    A = t(RNG.standard_normal((3, 3)), True)
    for p in P_VALUES[:6]:
        assert gradcheck(lambda a: LA.cond(a, p), (A,))
    with pytest.raises(RuntimeError, match="invalid norm"):
        LA.cond(t(np.eye(2)), 3)
    with pytest.raises(RuntimeError):
        LA.cond(t(np.ones((2, 3))), "fro")


# ----------------------------------------------------------------------------- LDL^T
def _sym(n, zero_diag=False):
    M = RNG.standard_normal((n, n))
    S = M + M.T
    if zero_diag:  # forces 2x2 pivots
        np.fill_diagonal(S, 0.0)
    return S


@needs_torch
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("zero_diag", [False, True])
def test_ldl_matches_torch(n, zero_diag):
    for _ in range(5):
        S = _sym(n, zero_diag)
        e = LA.ldl_factor_ex(t(S))
        r = torch.linalg.ldl_factor_ex(torch.tensor(S))
        close(e.LD, r.LD.numpy(), atol=1e-8)
        close(e.pivots, r.pivots.numpy())
        close(e.info, r.info.numpy())
        assert str(e.pivots.dtype) == str(r.pivots.dtype)
        if int(r.info) == 0:
            B = RNG.standard_normal((n, 2))
            close(LA.ldl_solve(e.LD, e.pivots, t(B)),
                  torch.linalg.ldl_solve(r.LD, r.pivots, torch.tensor(B)).numpy(), atol=1e-8)


def test_ldl_solves_without_torch():
    S = np.stack([_sym(6, True), _sym(6)])
    LD, piv = LA.ldl_factor(t(S))
    assert (piv.numpy() < 0).any()  # the zero diagonal forced a 2x2 block
    B = RNG.standard_normal((2, 6, 3))
    close(LA.ldl_solve(LD, piv, t(B)), np.linalg.solve(S, B), atol=1e-8)
    close(LA.ldl_factor(t(S[0]), hermitian=True).LD, LD[0])
    with pytest.raises(LA.LinAlgError):
        LA.ldl_factor(t(np.zeros((3, 3))))
    assert int(LA.ldl_factor_ex(t(np.zeros((3, 3)))).info) == 1
    with pytest.raises(NotImplementedError, match="complex"):
        LA.ldl_factor(t(np.eye(2) + 0j))
    with pytest.raises(RuntimeError, match="derivative"):
        LA.ldl_factor(t(S[0], True))
    with pytest.raises(RuntimeError, match="Incompatible"):
        LA.ldl_solve(LD, piv, t(np.zeros((2, 5, 1))))
