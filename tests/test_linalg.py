"""ember.linalg: values against NumPy, gradients by gradcheck (float64) and against PyTorch,
bad input with PyTorch's exception types and messages."""

import numpy as np
import pytest

import ember
from ember import linalg as LA
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
RNG = np.random.default_rng(0)


def arr(*shape, seed=0, dtype=np.float64):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * r.standard_normal(shape)
    return a.astype(dtype)


def spd(n, batch=(), seed=0, dtype=np.float64):
    a = arr(*batch, n, n, seed=seed, dtype=dtype)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dtype)


def distinct_sv(m, n, seed=0):
    """A matrix with well-separated singular values."""
    r = np.random.default_rng(seed)
    u, _ = np.linalg.qr(r.standard_normal((m, m)))
    v, _ = np.linalg.qr(r.standard_normal((n, n)))
    k = min(m, n)
    s = np.zeros((m, n))
    s[np.arange(k), np.arange(k)] = np.arange(k, 0, -1) + 1.0
    return u @ s @ v.T


def T(a, grad=False):
    return ember.tensor(a, requires_grad=grad)


def close(e, ref, rtol=1e-6, atol=1e-8):
    e = e.detach().numpy() if isinstance(e, ember.Tensor) else np.asarray(e)
    np.testing.assert_allclose(e, np.asarray(ref), rtol=rtol, atol=atol)


def sgn_cols(U):
    """Fix the sign of each column by its first row (makes singular/eigen vectors unique)."""
    return U * U[..., :1, :].sign()


# ------------------------------------------------------------------ forward values vs NumPy
def test_inv_det_slogdet_batched():
    a = arr(3, 4, 4)
    close(LA.inv(T(a)), np.linalg.inv(a))
    close(LA.det(T(a)), np.linalg.det(a))
    s, l = LA.slogdet(T(a))
    ns, nl = np.linalg.slogdet(a)
    close(s, ns)
    close(l, nl)
    close(ember.det(T(a)), np.linalg.det(a))
    close(T(a).inverse(), np.linalg.inv(a))
    close(ember.logdet(T(spd(3))), np.log(np.linalg.det(spd(3))))
    assert np.isnan(ember.logdet(T(np.diag([1.0, -1.0]))).item())
    assert LA.inv(T(a.astype(np.float32))).dtype is ember.float32


def test_solve_variants():
    a, b = arr(2, 3, 3), arr(2, 3, 4, seed=1)
    close(LA.solve(T(a), T(b)), np.linalg.solve(a, b))
    v = arr(3, seed=2)
    close(LA.solve(T(a[0]), T(v)), np.linalg.solve(a[0], v))
    bv = arr(2, 3, seed=3)  # B.shape == A.shape[:-1]: a batch of vectors
    close(LA.solve(T(a), T(bv)), np.linalg.solve(a, bv[..., None])[..., 0])
    # broadcasting batch dims
    close(LA.solve(T(a), T(b[0])), np.linalg.solve(a, b[0]))
    # left=False: X A = B
    bl = arr(2, 4, 3, seed=4)
    x = LA.solve(T(a), T(bl), left=False)
    close(x.numpy() @ a, bl)


def test_cholesky_qr_svd_eigh_eig_values():
    A = spd(4, (2,))
    L = LA.cholesky(T(A))
    close(L, np.linalg.cholesky(A))
    U = LA.cholesky(T(A), upper=True)
    close(np.swapaxes(U.numpy(), -1, -2) @ U.numpy(), A)
    m = arr(5, 3)
    for mode, qs, rs in (("reduced", (5, 3), (3, 3)), ("complete", (5, 5), (5, 3))):
        Q, R = LA.qr(T(m), mode=mode)
        assert tuple(Q.shape) == qs and tuple(R.shape) == rs
        close(Q.numpy() @ R.numpy(), m)
    Q, R = LA.qr(T(m), mode="r")
    assert Q.numel() == 0 and tuple(R.shape) == (3, 3)
    U, S, Vh = LA.svd(T(m))
    assert tuple(U.shape) == (5, 5) and tuple(Vh.shape) == (3, 3)
    close(S, np.linalg.svd(m, compute_uv=False))
    U, S, Vh = LA.svd(T(m), full_matrices=False)
    close(U.numpy() * S.numpy() @ Vh.numpy(), m)
    close(LA.svdvals(T(m)), np.linalg.svd(m, compute_uv=False))
    w, v = LA.eigh(T(A))
    close(w, np.linalg.eigvalsh(A))
    close(LA.eigvalsh(T(A), UPLO="U"), np.linalg.eigvalsh(A, UPLO="U"))
    g = arr(3, 3)
    w, v = LA.eig(T(g))
    assert w.dtype is ember.complex128 and v.dtype is ember.complex128
    close(g @ v.numpy(), v.numpy() * w.numpy())
    close(np.sort_complex(LA.eigvals(T(g)).numpy()), np.sort_complex(np.linalg.eigvals(g)))
    assert LA.eig(T(np.diag([1.0, 2.0]).astype(np.float32)))[0].dtype is ember.complex64


def test_torch_svd_semantics():
    m = arr(4, 3)
    U, S, V = ember.svd(T(m))
    assert tuple(U.shape) == (4, 3) and tuple(V.shape) == (3, 3)
    close(U.numpy() * S.numpy() @ V.numpy().T, m)
    U, S, V = ember.svd(T(m), some=False)
    assert tuple(U.shape) == (4, 4)
    U, S, V = ember.svd(T(m), compute_uv=False)
    assert not U.numpy().any() and tuple(V.shape) == (3, 3)
    close(S, np.linalg.svd(m, compute_uv=False))


def test_lstsq_pinv_rank_power():
    A, B = arr(6, 3), arr(6, 2, seed=1)
    res = LA.lstsq(T(A), T(B))
    assert type(res).__name__ == "linalg_lstsq"
    close(res.solution, np.linalg.lstsq(A, B, rcond=None)[0])
    assert res.residuals.numel() == 0 and res.rank.item() == 3
    assert res.singular_values.numel() == 0
    r2 = LA.lstsq(T(A), T(B), driver="gelsd")
    close(r2.residuals, np.linalg.lstsq(A, B, rcond=None)[1])
    close(r2.singular_values, np.linalg.svd(A, compute_uv=False))
    close(LA.lstsq(T(A), T(B[:, 0])).solution, np.linalg.lstsq(A, B[:, 0], rcond=None)[0])
    close(LA.pinv(T(A)), np.linalg.pinv(A))
    close(LA.pinv(T(spd(3)), hermitian=True), np.linalg.pinv(spd(3)))
    close(ember.pinverse(T(A)), np.linalg.pinv(A))
    low = np.outer(arr(4), arr(3, seed=1))
    assert LA.matrix_rank(T(low)).item() == 1
    assert LA.matrix_rank(T(spd(3)), hermitian=True).item() == 3
    assert LA.matrix_rank(T(A)).dtype is ember.int64
    sq = arr(3, 3)
    for n in (0, 1, 2, 5, -1, -3):
        close(LA.matrix_power(T(sq), n), np.linalg.matrix_power(sq, n))
    close(T(sq).matrix_power(3), np.linalg.matrix_power(sq, 3))


def test_norms():
    A = arr(2, 3, 4)
    for o in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        ref = np.linalg.norm(A, ord=o, axis=(-2, -1))
        close(LA.matrix_norm(T(A), ord=o), ref)
        close(LA.matrix_norm(T(A), ord=o, dim=(0, 2)),
              np.linalg.norm(A, ord=o, axis=(0, 2)))
    close(LA.matrix_norm(T(A), keepdim=True), np.linalg.norm(A, axis=(-2, -1), keepdims=True))
    close(LA.matrix_norm(T(A), ord=2, keepdim=True),
          np.linalg.norm(A, ord=2, axis=(-2, -1), keepdims=True))
    v = arr(5)
    for o in (1, 2, 3, 0, np.inf, -np.inf):
        close(LA.vector_norm(T(v), ord=o), np.linalg.norm(v, ord=o))
        close(LA.norm(T(v), ord=o), np.linalg.norm(v, ord=o))
    close(LA.norm(T(A)), np.linalg.norm(A.ravel()))
    close(LA.norm(T(A), dim=1), np.linalg.norm(A, axis=1))
    close(LA.norm(T(A[0]), ord="nuc"), np.linalg.norm(A[0], ord="nuc"))


def test_cross_multidot_vecdot_diagonal_triangular():
    a, b = arr(4, 3), arr(4, 3, seed=1)
    close(LA.cross(T(a), T(b)), np.cross(a, b))
    close(LA.cross(T(a.T), T(b.T), dim=0), np.cross(a, b).T)
    with pytest.warns(UserWarning):
        close(ember.cross(T(a), T(b)), np.cross(a, b))
    ms = [arr(2, 5), arr(5, 3, seed=1), arr(3, 4, seed=2), arr(4, seed=3)]
    close(LA.multi_dot([T(m) for m in ms]), np.linalg.multi_dot(ms))
    close(LA.vecdot(T(a), T(b)), (a * b).sum(-1))
    c = arr(3, 2, dtype=np.complex128)
    close(LA.vecdot(T(c), T(c)), (np.conj(c) * c).sum(-1))
    close(LA.diagonal(T(A := arr(2, 3, 4)), offset=1), np.diagonal(A, 1, -2, -1))
    L = np.tril(arr(3, 3)) + 3 * np.eye(3)
    B = arr(3, 2, seed=5)
    close(LA.solve_triangular(T(L), T(B), upper=False), np.linalg.solve(L, B))
    close(LA.solve_triangular(T(L.T), T(B), upper=True), np.linalg.solve(L.T, B))
    Lu = np.tril(L, -1) + np.eye(3)
    close(LA.solve_triangular(T(L), T(B), upper=False, unitriangular=True), np.linalg.solve(Lu, B))
    close(LA.solve_triangular(T(L), T(B.T), upper=False, left=False), B.T @ np.linalg.inv(L))
    close(LA.matmul(T(a), T(b.T)), a @ b.T)


def test_matrix_exp_and_ex_variants():
    a = arr(3, 3) * 0.7
    w, v = np.linalg.eig(a)
    close(LA.matrix_exp(T(a)), (v * np.exp(w) @ np.linalg.inv(v)).real, rtol=1e-9)
    inv, info = LA.inv_ex(T(np.stack([np.eye(2), np.zeros((2, 2))])))
    assert info.tolist() == [0, 1] and info.dtype is ember.int32
    L, info = LA.cholesky_ex(T(np.stack([np.eye(2), -np.eye(2)])))
    assert info.tolist() == [0, 1]
    close(L[0], np.eye(2))


# ------------------------------------------------------------------ gradients (gradcheck)
def _gc(fn, *arrays, gg=False):
    ts = [T(a, True) for a in arrays]
    assert gradcheck(fn, ts, eps=1e-6, atol=1e-5, rtol=1e-4)
    if gg:
        assert gradgradcheck(fn, ts, eps=1e-6, atol=1e-4, rtol=1e-3)


def test_gradcheck_inv_det_slogdet_solve():
    a = arr(2, 3, 3) + 3 * np.eye(3)
    _gc(LA.inv, a, gg=True)
    _gc(LA.det, a, gg=True)
    _gc(lambda x: LA.slogdet(x).logabsdet, a, gg=True)
    b = arr(2, 3, 2, seed=1)
    _gc(LA.solve, a, b, gg=True)
    _gc(lambda x, y: LA.solve(x, y, left=False), a, arr(2, 2, 3, seed=2))
    _gc(LA.solve, a[0], arr(3, seed=3))


def test_gradcheck_det_singular():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])  # rank 2
    x = T(a, True)
    LA.det(x).backward()
    # d det / dA = cofactor matrix
    cof = np.array([[np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j)
                     for j in range(3)] for i in range(3)])
    close(x.grad, cof, atol=1e-10)


def test_gradcheck_cholesky_triangular():
    A = spd(3, (2,))
    sym = lambda x: LA.cholesky((x + x.mT) / 2)  # noqa: E731
    _gc(sym, A, gg=True)
    _gc(lambda x: LA.cholesky((x + x.mT) / 2, upper=True), A)
    L = np.tril(arr(3, 3)) + 3 * np.eye(3)
    _gc(lambda l, b: LA.solve_triangular(l, b, upper=False), L, arr(3, 2, seed=1), gg=True)
    _gc(lambda l, b: LA.solve_triangular(l, b, upper=True, unitriangular=True), L.T,
        arr(3, 2, seed=1))


def test_gradcheck_qr():
    for shape in ((4, 3), (3, 3), (3, 5)):
        m = arr(*shape)
        _gc(lambda x: LA.qr(x)[0], m)
        _gc(lambda x: LA.qr(x)[1], m)
    _gc(lambda x: sum(t.sum() for t in LA.qr(x)), arr(2, 4, 2), gg=True)


def test_gradcheck_svd_eigh_eig():
    for shape in ((4, 3), (3, 3), (2, 4)):
        m = distinct_sv(*shape)
        _gc(LA.svdvals, m)

        def f(x):
            U, S, Vh = LA.svd(x, full_matrices=False)
            s = U[..., :1, :].sign()
            return U * s, S, Vh * s.mT

        _gc(f, m)
    _gc(lambda x: sgn_cols(LA.svd(x, full_matrices=True)[0][..., :, :2]), distinct_sv(3, 2))
    c = ember.tensor([1.0, 2.0, 5.0])

    def svd_inv(x):  # sign-invariant: second order is well defined
        U, S, Vh = LA.svd(x, full_matrices=False)
        return S, (U * c[:2]) @ Vh

    _gc(svd_inv, distinct_sv(3, 2), gg=True)
    _gc(svd_inv, distinct_sv(2, 3), gg=True)
    A = spd(3, seed=2)

    def eig_sym(x):
        w, v = LA.eigh((x + x.mT) / 2)
        return w, sgn_cols(v)

    _gc(eig_sym, A)
    _gc(lambda x: (LA.eigh((x + x.mT) / 2)[1] * c) @ LA.eigh((x + x.mT) / 2)[1].mT, A, gg=True)
    _gc(lambda x: LA.eigvalsh((x + x.mT) / 2), A)
    g = arr(3, 3, seed=4)

    def eig_inv(x):  # phase-invariant functions of the complex outputs
        w, v = LA.eig(x)
        vr = ember.view_as_real(v)
        return ember.view_as_real(w), (vr * vr).sum(-1)

    _gc(eig_inv, g)


def test_gradcheck_pinv_lstsq_norms_power():
    _gc(LA.pinv, arr(4, 3), gg=True)
    _gc(LA.pinv, arr(2, 4, seed=1))
    _gc(lambda a, b: LA.lstsq(a, b).solution, arr(5, 3), arr(5, 2, seed=1))
    m = distinct_sv(3, 4)
    for o in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        _gc(lambda x, o=o: LA.matrix_norm(x, ord=o), m)
    _gc(lambda x: LA.matrix_power(x, 3), arr(3, 3), gg=True)
    _gc(lambda x: LA.matrix_power(x, -2), arr(3, 3) + 3 * np.eye(3))
    _gc(lambda a, b: LA.cross(a, b), arr(2, 3), arr(2, 3, seed=1), gg=True)
    _gc(lambda a, b, c: LA.multi_dot([a, b, c]), arr(2, 3), arr(3, 4, seed=1), arr(4, seed=2))
    _gc(LA.matrix_exp, arr(3, 3) * 0.5)
    _gc(lambda x: LA.diagonal(x, offset=-1), arr(2, 3, 3))


def test_gradcheck_complex_via_real_views():
    # complex inputs built from real ones so the check covers both real and imaginary parts
    def c(x):
        return ember.view_as_complex(x)

    a = arr(3, 3, 2) + 2 * np.stack([np.eye(3), np.zeros((3, 3))], -1)
    _gc(lambda x: ember.view_as_real(LA.inv(c(x))), a)
    _gc(lambda x, y: ember.view_as_real(LA.solve(c(x), c(y))), a, arr(3, 2, 2, seed=1))
    _gc(lambda x: LA.slogdet(c(x)).logabsdet, a)
    _gc(lambda x: LA.svdvals(c(x)), arr(3, 2, 2, seed=2))


# ------------------------------------------------------------------ against PyTorch
def _both(fn_e, fn_t, arrays, outs_real=True, rtol=1e-7, atol=1e-9):
    """Values and gradients of sum(w_i * out_i) in ember and torch."""
    te = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    oe, ot = fn_e(*te), fn_t(*tt)
    oe = oe if isinstance(oe, tuple) else (oe,)
    ot = ot if isinstance(ot, tuple) else (ot,)
    le, lt = 0, 0
    for i, (x, y) in enumerate(zip(oe, ot)):
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=rtol,
                                   atol=atol)
        if y.is_complex():  # (reshape: ember's view_as_real rejects 0-dim input)
            x, y = ember.view_as_real(x.reshape(-1)), torch.view_as_real(y.reshape(-1))
        w = np.random.default_rng(i).standard_normal(tuple(y.shape))
        le = le + (x * ember.tensor(w)).sum()
        lt = lt + (y * torch.tensor(w)).sum()
    le.backward()
    lt.backward()
    for a, b in zip(te, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-8)


@needs_torch
def test_against_torch_real():
    a = arr(2, 3, 3) + 2 * np.eye(3)
    _both(LA.inv, torch.linalg.inv, [a])
    _both(LA.det, torch.linalg.det, [a])
    _both(lambda x: tuple(LA.slogdet(x)), lambda x: tuple(torch.linalg.slogdet(x)), [a])
    _both(LA.solve, torch.linalg.solve, [a, arr(2, 3, 4, seed=1)])
    _both(lambda x, y: LA.solve(x, y, left=False),
          lambda x, y: torch.linalg.solve(x, y, left=False), [a, arr(2, 4, 3, seed=1)])
    # cholesky: torch's gradient for a non-symmetric upstream gradient
    A = spd(3, (2,))
    _both(LA.cholesky, torch.linalg.cholesky, [A])
    _both(lambda x: LA.cholesky(x, upper=True),
          lambda x: torch.linalg.cholesky(x, upper=True), [A])
    L = np.tril(arr(3, 3)) + 3 * np.eye(3)
    _both(lambda x, y: LA.solve_triangular(x, y, upper=False),
          lambda x, y: torch.linalg.solve_triangular(x, y, upper=False), [L, arr(3, 2)])
    for shape in ((4, 3), (3, 5)):
        _both(lambda x: tuple(LA.qr(x)), lambda x: tuple(torch.linalg.qr(x)), [arr(*shape)])

    def svd_e(x):
        U, S, Vh = LA.svd(x, full_matrices=False)
        s = U[..., :1, :].sign()
        return U * s, S, Vh * s.mT

    def svd_t(x):
        U, S, Vh = torch.linalg.svd(x, full_matrices=False)
        s = U[..., :1, :].sign()
        return U * s, S, Vh * s.mT

    for shape in ((4, 3), (3, 3), (2, 4)):
        _both(svd_e, svd_t, [distinct_sv(*shape)])
    _both(lambda x: (LA.eigh(x)[0], sgn_cols(LA.eigh(x)[1])),
          lambda x: (torch.linalg.eigh(x)[0], sgn_cols(torch.linalg.eigh(x)[1])), [spd(3)])

    def eig_e(x):
        w, v = LA.eig(x)
        vr = ember.view_as_real(v)
        return w, (vr * vr).sum(-1)

    def eig_t(x):
        w, v = torch.linalg.eig(x)
        return w, v.abs() ** 2

    _both(eig_e, eig_t, [arr(3, 3, seed=4)])
    _both(LA.pinv, torch.linalg.pinv, [arr(4, 3)])
    _both(lambda x, y: LA.lstsq(x, y).solution, lambda x, y: torch.linalg.lstsq(x, y).solution,
          [arr(5, 3), arr(5, 2, seed=1)])
    for o in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        _both(lambda x, o=o: LA.matrix_norm(x, ord=o),
              lambda x, o=o: torch.linalg.matrix_norm(x, ord=o), [distinct_sv(3, 4)])
    _both(lambda x: LA.matrix_power(x, -2), lambda x: torch.linalg.matrix_power(x, -2), [a])
    _both(LA.cross, torch.linalg.cross, [arr(2, 3), arr(2, 3, seed=1)])
    _both(LA.matrix_exp, torch.linalg.matrix_exp, [arr(3, 3)], rtol=1e-9)


@needs_torch
def test_against_torch_complex():
    a = arr(3, 3, dtype=np.complex128) + 2 * np.eye(3)
    _both(LA.inv, torch.linalg.inv, [a])
    _both(LA.det, torch.linalg.det, [a])
    _both(lambda x: LA.slogdet(x)[1], lambda x: torch.linalg.slogdet(x)[1], [a])
    _both(LA.solve, torch.linalg.solve, [a, arr(3, 2, seed=1, dtype=np.complex128)])
    _both(LA.cholesky, torch.linalg.cholesky, [spd(3, dtype=np.complex128)])
    _both(lambda x: tuple(LA.qr(x)), lambda x: tuple(torch.linalg.qr(x)),
          [arr(4, 3, dtype=np.complex128)])
    _both(LA.svdvals, torch.linalg.svdvals, [arr(4, 3, dtype=np.complex128)])
    _both(LA.pinv, torch.linalg.pinv, [arr(3, 2, dtype=np.complex128)])


@needs_torch
def test_lstsq_matches_torch_tuple():
    A, B = arr(5, 3), arr(5, 2, seed=1)
    for drv in ("gelsy", "gelsd", "gelss", "gels"):
        e = LA.lstsq(T(A), T(B), driver=drv)
        t = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=drv)
        for x, y in zip(e, t):
            assert tuple(x.shape) == tuple(y.shape), drv
            close(x, y.numpy())


# ------------------------------------------------------------------ bad input
def test_errors():
    with pytest.raises(RuntimeError, match=r"linalg.inv: A must be batches of square matrices, "
                       r"but they are 2 by 3 matrices"):
        LA.inv(ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        LA.det(ember.zeros(3))
    with pytest.raises(LA.LinAlgError, match="The diagonal element 1 is zero"):
        LA.inv(ember.zeros(3, 3))
    assert issubclass(LA.LinAlgError, RuntimeError)
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 1\): The diagonal element 2"):
        LA.inv(T(np.stack([np.eye(2), [[1.0, 1.0], [1.0, 1.0]]])))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as "
                       "input. Got Long"):
        LA.inv(ember.ones(2, 2, dtype=ember.int64))
    with pytest.raises(LA.LinAlgError, match="leading minor of order 2 is not positive"):
        LA.cholesky(T(np.diag([1.0, -1.0])))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation "
                       r"AX = B \(3x3 and 4x2\)"):
        LA.solve(ember.eye(3), ember.ones(4, 2))
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.solve(ember.zeros(3, 3), ember.ones(3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.solve(ember.eye(3), ember.ones(3, 2, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="unrecognized mode 'bad'"):
        LA.qr(ember.eye(3), mode="bad")
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        LA.matrix_norm(ember.eye(3), ord=3)
    with pytest.raises(RuntimeError, match="must be 1D or 2D. Got 3D"):
        LA.norm(ember.ones(2, 2, 2), ord=2)
    with pytest.raises(RuntimeError, match="dimension -1 must have length 3. Got 2 and 2"):
        LA.cross(ember.ones(2, 2), ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="expected at least 2 tensors but got 1"):
        LA.multi_dot([ember.ones(2, 2)])
    with pytest.raises(RuntimeError, match=r"tensors 0 and 1 with shapes 2x3 and 2x2"):
        LA.multi_dot([ember.ones(2, 3), ember.ones(2, 2)])
    with pytest.raises(RuntimeError, match="depends on Q"):
        x = ember.randn(3, 3, requires_grad=True)
        LA.qr(x, mode="r")[1].sum().backward()
    with pytest.raises(TypeError):
        LA.inv([[1.0]])


@needs_torch
def test_error_types_match_torch():
    cases = [
        (lambda L: L.linalg.inv(L.zeros(2, 3))),
        (lambda L: L.linalg.inv(L.zeros(3, 3))),
        (lambda L: L.linalg.cholesky(-L.eye(3))),
        (lambda L: L.linalg.solve(L.eye(3), L.ones(4, 2))),
        (lambda L: L.linalg.eigh(L.ones(2, 3))),
        (lambda L: L.linalg.svd(L.ones(3))),
    ]
    for case in cases:
        with pytest.raises(RuntimeError) as te:
            case(torch)
        with pytest.raises(RuntimeError) as ee:
            case(ember)
        # torch's LinAlgError <-> ember's LinAlgError
        assert (type(te.value).__name__ == "_LinAlgError") == isinstance(ee.value,
                                                                          LA.LinAlgError)
        assert str(ee.value).split(":")[0] in str(te.value)


def test_top_level_aliases_and_methods():
    a = spd(3)
    x = T(a)
    for name in ("det", "inverse", "logdet", "slogdet", "cholesky", "qr", "svd", "pinverse",
                 "matrix_power", "cross", "matrix_exp"):
        assert callable(getattr(ember, name)) and callable(getattr(ember.Tensor, name)), name
    close(x.det(), np.linalg.det(a))
    close(ember.slogdet(x).logabsdet, np.linalg.slogdet(a)[1])
    close(ember.cholesky(x), np.linalg.cholesky(a))
    close(ember.cholesky(x, upper=True), np.linalg.cholesky(a).T)
    Q, R = ember.qr(T(arr(4, 3)), some=False)
    assert tuple(Q.shape) == (4, 4)
    close(ember.chain_matmul(x, x, x), a @ a @ a)
    close(T(arr(2, 3)).cross(T(arr(2, 3, seed=1)), dim=1), np.cross(arr(2, 3), arr(2, 3, seed=1)))


def test_edge_shapes():
    assert tuple(LA.inv(ember.zeros(0, 3, 3)).shape) == (0, 3, 3)
    close(LA.det(ember.zeros(2, 0, 0, dtype=ember.float64)), [1.0, 1.0])
    a = arr(3, 3)
    close(LA.inv(T(a).mT), np.linalg.inv(a.T))  # non-contiguous input
    assert tuple(LA.svd(ember.zeros(0, 3, 2))[1].shape) == (0, 2)


def test_vander_tensorinv_tensorsolve():
    v = arr(4)
    close(LA.vander(T(v)), np.vander(v, increasing=True))
    close(LA.vander(T(v), N=2), np.vander(v, 2, increasing=True))
    b = arr(6, 2, 3)
    close(LA.tensorinv(T(b), ind=1), np.linalg.tensorinv(b, ind=1))
    a = arr(6, 2, 3)
    rhs = arr(6, seed=1)
    close(LA.tensorsolve(T(a), T(rhs)), np.linalg.tensorsolve(a, rhs))


@needs_torch
def test_householder_product_matches_torch():
    A, tau = arr(4, 3), arr(2, seed=1)
    close(LA.householder_product(T(A), T(tau)),
          torch.linalg.householder_product(torch.tensor(A), torch.tensor(tau)).numpy())
