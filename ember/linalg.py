"""``ember.linalg``: PyTorch's ``torch.linalg`` on NumPy's LAPACK, batched over leading dims.

Every decomposition is one ``OpDef`` (see NOTE [ The op pattern ] in ``ember/_ops/core.py``)
whose backward formula is written in ember ops, so ``create_graph=True`` gives higher-order
derivatives wherever the formula itself is differentiable. The formulas are the ones PyTorch
documents; for ``svd``/``eigh``/``eig`` they are valid for distinct singular/eigen values.

NOTE [ Multi-output decompositions and double backward ]
A multi-output node saves only its inputs. The forward stores its raw results in a cache
cell (the last param) so a first-order backward reuses them; under ``create_graph=True``
the backward recomputes the decomposition through ``apply`` so the factors it uses are
themselves connected to the input and the gradient can be differentiated again.
"""

from __future__ import annotations

import collections
import warnings
from typing import Optional, Sequence, Union

import numpy as np

from ember._graph import GRAD
from ember._ops.core import OpDef, apply, wrap
from ember._ops.reduce import vector_norm as _vector_norm
from ember._tensor import Tensor, _wrap_dim
from ember._ops.outarg import with_out

__all__ = [
    "LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "det", "slogdet",
    "solve", "solve_ex", "cholesky", "cholesky_ex", "qr", "svd", "svdvals", "eigh", "eigvalsh",
    "eig", "eigvals", "lstsq", "matrix_power", "matrix_rank", "pinv", "cross", "multi_dot",
    "vecdot", "matmul", "diagonal", "solve_triangular", "matrix_exp", "tensorinv",
    "tensorsolve", "vander", "householder_product",
]

xp = np
_INF = float("inf")


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input: a singular matrix, a matrix that is not
    positive-definite, a factorisation that did not converge.

    Mirrors ``torch.linalg.LinAlgError`` (``torch._C._LinAlgError``), a RuntimeError
    subclass; the message names the function and the failure.

    Example:
        >>> try:
        ...     ember.linalg.inv(ember.zeros(2, 2))
        ... except ember.linalg.LinAlgError as e:
        ...     print("singular" in str(e))
        True
    """


# --------------------------------------------------------------------------- named results
def _rt(name, fields):
    t = collections.namedtuple(name, fields)
    t.__module__ = "ember.return_types"
    return t


SlogdetResult = _rt("linalg_slogdet", ["sign", "logabsdet"])
QRResult = _rt("linalg_qr", ["Q", "R"])
SVDResult = _rt("linalg_svd", ["U", "S", "Vh"])
TorchSVDResult = _rt("svd", ["U", "S", "V"])
EighResult = _rt("linalg_eigh", ["eigenvalues", "eigenvectors"])
EigResult = _rt("linalg_eig", ["eigenvalues", "eigenvectors"])
LstsqResult = _rt("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
InvExResult = _rt("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = _rt("linalg_cholesky_ex", ["L", "info"])
SolveExResult = _rt("linalg_solve_ex", ["result", "info"])


# --------------------------------------------------------------------------- checks
def _check_tensor(name, A, arg="A"):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(A).__name__}")


def _check_float(name, A):
    if A._data.dtype.kind not in "fc" or A._data.dtype.itemsize < 4:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {A.dtype._short}")


def _check_matrix(name, A, square=True, arg="A"):
    _check_tensor(name, A, arg)
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if square and A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{A._data.shape[-2]} by {A._data.shape[-1]} matrices")
    _check_float(name, A)


def _batch_prefix(shape, flat_index):
    """'(Batch element i): ' for batched inputs (PyTorch's wording), '' for one matrix."""
    if len(shape) <= 2:
        return ""
    return f"(Batch element {flat_index}): "


def _zero_pivot(a):
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK getrf)."""
    u = np.array(a, dtype=np.complex128 if a.dtype.kind == "c" else np.float64)
    n = u.shape[0]
    first = 0
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            first = first or k + 1
            continue
        u[[k, p]] = u[[p, k]]
        u[k + 1:, k:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k:])
    return first or n


def _singular_error(name, a):
    """Find the failing batch element and pivot to build PyTorch's message."""
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        try:
            xp.linalg.inv(m)
        except np.linalg.LinAlgError:
            return LinAlgError(f"{name}: {_batch_prefix(a.shape, i)}The diagonal element "
                               f"{_zero_pivot(m)} is zero, the inversion could not be "
                               "completed because the input matrix is singular.")
    return LinAlgError(f"{name}: the input matrix is singular.")


def _not_pd_error(name, a):
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat):
        for k in range(1, m.shape[0] + 1):
            try:
                xp.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(f"{name}: {_batch_prefix(a.shape, i)}The factorization could "
                                   "not be completed because the input is not positive-definite "
                                   f"(the leading minor of order {k} is not positive-definite).")
    return LinAlgError(f"{name}: The factorization could not be completed because the input is "
                       "not positive-definite.")


# --------------------------------------------------------------------------- small helpers
def _mT(x):
    return x.transpose(-2, -1)


def _mH(x):
    t = x.transpose(-2, -1)
    return t.conj() if t._data.dtype.kind == "c" else t


def _is_zero(g):
    return g is None or not g._data.any()


def _cached(ctx, op):
    """Outputs of a multi-output node: connected (recomputed) under create_graph, else cached.

    See NOTE [ Multi-output decompositions and double backward ].
    """
    if GRAD.enabled:
        return apply(op, ctx.inputs, ctx.params[:-1] + ([],))
    return tuple(wrap(r) for r in ctx.params[-1][0])


def _real_if(g, like):
    """A complex gradient flowing to a real input keeps its real part."""
    if g._data.dtype.kind == "c" and like._data.dtype.kind != "c":
        return g.real
    return g


# diagonal / diag_embed / tril / triu as private ops (their backward is each other), so the
# formulas below do not depend on the shape-op family.
def _diagonal_fwd(x, offset, d1, d2):
    return xp.diagonal(x, offset, d1, d2).copy()


def _diag_embed_fwd(v, offset, d1, d2, shape):
    out = xp.zeros(shape, v.dtype)
    o = xp.moveaxis(out, (d1, d2), (-2, -1))
    n = v.shape[-1]
    idx = xp.arange(n)
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    o[..., idx + r0, idx + c0] = v
    return out


_DIAGONAL = OpDef("linalg_diagonal", _diagonal_fwd, None, save="x",
                  node_name="DiagonalBackward0")
_DIAG_EMBED = OpDef("linalg_diag_embed", _diag_embed_fwd, None,
                    node_name="DiagEmbedBackward0")


@_DIAGONAL.grad
def _(ctx, g):
    offset, d1, d2 = ctx.params
    shape = ctx.inputs[0]._data.shape  # saved for its shape: the gradient is embedded back
    return (apply(_DIAG_EMBED, (g,), (offset, d1, d2, shape)),)


@_DIAG_EMBED.grad
def _(ctx, g):
    offset, d1, d2, _ = ctx.params
    return (apply(_DIAGONAL, (g,), (offset, d1, d2)),)


def _diag(x):
    """The main diagonal of the last two dims: (..., n, n) -> (..., n)."""
    nd = x._data.ndim
    return apply(_DIAGONAL, (x,), (0, nd - 2, nd - 1))


def _diag_embed(v):
    """(..., n) -> (..., n, n) with ``v`` on the diagonal."""
    n = v._data.shape[-1]
    nd = v._data.ndim + 1
    return apply(_DIAG_EMBED, (v,), (0, nd - 2, nd - 1, v._data.shape[:-1] + (n, n)))


_TRIL = OpDef("linalg_tril", lambda x, k: xp.tril(x, k), None, node_name="TrilBackward0")
_TRIU = OpDef("linalg_triu", lambda x, k: xp.triu(x, k), None, node_name="TriuBackward0")
_TRIL.grad(lambda ctx, g: (apply(_TRIL, (g,), ctx.params),))
_TRIU.grad(lambda ctx, g: (apply(_TRIU, (g,), ctx.params),))


def _tril(x, k=0):
    return apply(_TRIL, (x,), (k,))


def _triu(x, k=0):
    return apply(_TRIU, (x,), (k,))


def _eye_like(n, like):
    return wrap(xp.eye(n, dtype=like._data.dtype))


def _promote_pair(name, A, B):
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of "
                           f"type {A.dtype._short} and B of type {B.dtype._short} instead")


# --------------------------------------------------------------------------- inv
def _inv_fwd(a, name):
    try:
        return xp.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _singular_error(name, a) from None


_INV = OpDef("linalg_inv", _inv_fwd, None, save="y", node_name="LinalgInvExBackward0")


@_INV.grad
def _(ctx, g):
    # d(A^-1) = -A^-1 dA A^-1  =>  gA = -A^-H g A^-H
    Yh = _mH(ctx.output)
    return (-(Yh @ g @ Yh),)


def inv(A: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Inverse of a square matrix (batched over leading dims).

    Args:
        A: tensor of shape ``(*, n, n)``, float or complex.

    Raises ``LinAlgError`` (a RuntimeError) when a matrix is singular.

    Returns:
        The inverse, of ``A``'s shape; RuntimeError for a singular matrix.

    Example::

        >>> ember.linalg.inv(ember.tensor([[2., 0.], [0., 4.]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    _check_matrix("linalg.inv", A)
    return _out(apply(_INV, (A,), ("linalg.inv",)), out)


@with_out("linalg.inv_ex")
def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):  # noqa: ARG001 - out= is written by @with_out
    """``inv`` returning ``(inverse, info)``; info > 0 marks singular matrices (no raise).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        check_errors: raise on a failure instead of reporting it in ``info`` (default
            False).
        out: optional tensor to write the result into.

    Returns:
        A namedtuple ``(inverse, info)``; ``info`` > 0 marks a singular matrix.

    Example:
        >>> inv, info = ember.linalg.inv_ex(ember.zeros(2, 2))
        >>> info > 0
        tensor(True)
    """
    _check_matrix("linalg.inv_ex", A)
    a = A._data
    flat = a.reshape((-1,) + a.shape[-2:])
    info = np.zeros(flat.shape[0], np.int32)
    try:
        res = apply(_INV, (A,), ("linalg.inv_ex",))
    except LinAlgError:
        if check_errors:
            raise
        invs = np.empty_like(flat)
        for i, m in enumerate(flat):
            try:
                invs[i] = xp.linalg.inv(m)
            except np.linalg.LinAlgError:
                info[i] = _zero_pivot(m)
                with np.errstate(all="ignore"):
                    invs[i] = xp.linalg.pinv(m) * np.inf  # torch returns garbage here, too
        res = wrap(invs.reshape(a.shape))
    return InvExResult(res, wrap(info.reshape(a.shape[:-2])))


def _out(res, out):
    if out is None:
        return res
    from ember._ops.core import write_out

    return write_out("linalg", out, res)


# --------------------------------------------------------------------------- det / slogdet
_DET = OpDef("linalg_det", lambda a: xp.asarray(xp.linalg.det(a)), None, save="xy",
             node_name="LinalgDetBackward0")


@_DET.grad
def _(ctx, g):
    A, = ctx.inputs
    d = ctx.output
    a = A._data
    if a.shape[-1] == 0:
        return (None,)
    dd = d._data
    if np.all(dd != 0) and np.all(np.isfinite(dd)):
        # d det = det * tr(A^-1 dA)  =>  gA = conj(g det)... g * conj(det) * A^-H
        gd = g * (d.conj() if d._data.dtype.kind == "c" else d)
        return (gd.unsqueeze(-1).unsqueeze(-1) * _mH(inv(A)),)
    # Singular somewhere in the batch: the cofactor matrix through the SVD (first order).
    u, s, vh = xp.linalg.svd(a)
    n = s.shape[-1]
    prod_others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
    phase = xp.linalg.det(u) * xp.linalg.det(vh)
    # cofactor^T = adj(A) = phase * V diag(prod_others) U^H; gA = g * conj(cofactor)
    adj_h = np.conj(phase)[..., None, None] * (u * prod_others[..., None, :]) @ vh
    return (g.unsqueeze(-1).unsqueeze(-1) * wrap(adj_h.astype(a.dtype)),)


def det(A: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Determinant of square matrices (batched).

    Args:
        A: tensor of shape ``(*, n, n)``.

    The gradient uses ``det * A^-H``; for singular matrices it switches to the SVD cofactor
    formula (first order only there).

    Returns:
        A tensor of determinants, shape ``A.shape[:-2]``.

    Example::

        >>> ember.linalg.det(ember.tensor([[1., 2.], [3., 4.]]))
        tensor(-2.)
    """
    _check_matrix("linalg.det", A)
    return _out(apply(_DET, (A,)), out)


def _slogdet_fwd(a, cache):
    s, l = xp.linalg.slogdet(a)
    r = (xp.asarray(s, dtype=a.dtype), xp.asarray(l, dtype=a.real.dtype))
    cache.append(r)
    return r


_SLOGDET = OpDef("linalg_slogdet", _slogdet_fwd, None, multi=True, save="x",
                 node_name="LinalgSlogdetBackward0")


@_SLOGDET.grad
def _(ctx, grads):
    A, = ctx.inputs
    g_sign, g_log = grads
    if A._data.dtype.kind == "c" and not _is_zero(g_sign):
        raise RuntimeError("linalg.slogdet: the derivative of the complex sign is not "
                           "implemented in ember")
    # d log|det A| = Re tr(A^-1 dA)  =>  gA = g * A^-H
    return (g_log.unsqueeze(-1).unsqueeze(-1) * _mH(inv(A)),)


@with_out("linalg.slogdet")
def slogdet(A: Tensor, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """Sign (or phase) and log of the absolute value of the determinant.

    Args:
        A: tensor of shape ``(*, n, n)``.

    Returns:
        ``(sign, logabsdet)``; ``logabsdet`` is ``-inf`` for singular matrices.

    Example::

        >>> ember.linalg.slogdet(ember.tensor([[2., 0.], [0., -3.]])).logabsdet
        tensor(1.7918)
    """
    _check_matrix("linalg.slogdet", A)
    return SlogdetResult(*apply(_SLOGDET, (A,), ([],)))


def logdet(input: Tensor) -> Tensor:
    """``log(det(A))``: nan for a negative determinant, -inf for a singular matrix."""
    _check_matrix("logdet", input)
    sign, la = slogdet(input)
    if input._data.dtype.kind == "c":
        return sign.log() + la
    return la + wrap(np.where(sign._data < 0, np.nan, 0).astype(la._data.dtype))


# --------------------------------------------------------------------------- solve
def _solve_fwd(a, b, vec):
    try:
        if vec:
            return xp.linalg.solve(a, b[..., None])[..., 0]
        return xp.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is "
                          "singular.") from None


_SOLVE = OpDef("linalg_solve", _solve_fwd, None, save="xy", node_name="LinalgSolveExBackward0")


@_SOLVE.grad
def _(ctx, g):
    A, B = ctx.inputs
    X = ctx.output
    vec = ctx.params[0]
    # AX = B: gB = A^-H g ; gA = -gB X^H
    gB = apply(_SOLVE, (_mH(A), g), (vec,))
    gA = None
    if ctx.next[0] is not None:
        gA = -(gB.unsqueeze(-1) @ _mH(X.unsqueeze(-1))) if vec else -(gB @ _mH(X))
    return gA, (gB if ctx.next[1] is not None else None)


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Optional[Tensor] = None) -> Tensor:
    """Solve ``A X = B`` (or ``X A = B`` with ``left=False``), batched and broadcast.

    Args:
        A: ``(*, n, n)`` invertible matrices.
        B: ``(*, n, k)`` right-hand sides, or ``(*, n)`` vectors (PyTorch's rule: B is a batch
            of vectors when ``B.ndim == 1`` or ``B.shape == A.shape[:-1]``).
        left: solve ``A X = B`` when True, ``X A = B`` when False.

    Returns:
        The solution X, of ``B``'s shape (broadcast).

    Example::

        >>> ember.linalg.solve(ember.tensor([[2., 0.], [0., 4.]]), ember.tensor([2., 4.]))
        tensor([1., 1.])
    """
    _check_matrix("linalg.solve", A)
    _check_tensor("linalg.solve", B, "B")
    _promote_pair("linalg.solve", A, B)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        if B._data.ndim == 1:
            return _out(solve(_mT(A), B), out)
        return _out(_mT(solve(_mT(A), _mT(B))), out)
    a, b = A._data, B._data
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    n = a.shape[-1]
    rows = b.shape[-1] if vec else (b.shape[-2] if b.ndim >= 2 else -1)
    if rows != n:
        k = "" if vec else f"x{b.shape[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({a.shape[-2]}x{a.shape[-1]} and {rows}{k})")
    if vec and b.ndim > 1:  # broadcast batch dims explicitly (numpy's solve is strict)
        bs = np.broadcast_shapes(a.shape[:-2], b.shape[:-1])
        A = A.expand(*bs, n, n) if a.shape[:-2] != bs else A
        B = B.expand(*bs, n) if b.shape[:-1] != bs else B
    elif not vec:
        try:
            bs = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise RuntimeError(f"linalg.solve: batch dimensions of A {list(a.shape)} and B "
                               f"{list(b.shape)} are not broadcastable") from None
        A = A.expand(*bs, n, n) if a.shape[:-2] != bs else A
        B = B.expand(*bs, *b.shape[-2:]) if b.shape[:-2] != bs else B
    elif vec and b.ndim == 1 and a.ndim > 2:
        B = B.expand(*a.shape[:-1])
    return _out(apply(_SOLVE, (A, B), (vec,)), out)


@with_out("linalg.solve_ex")
def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None):  # noqa: ARG001 - out= is written by @with_out
    """``solve`` returning ``(result, info)``.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        B: the right-hand side ``(*, m, k)`` (or ``(*, m)``).
        left: solve ``A X = B`` (default) or ``X A = B``.
        check_errors: raise on a failure instead of reporting it in ``info`` (default
            False).
        out: optional tensor to write the result into.

    Returns:
        A namedtuple ``(result, info)``.

    Example:
        >>> A = ember.tensor([[4.0, 1.0], [1.0, 3.0]])
        >>> ember.linalg.solve_ex(A, ember.tensor([5.0, 4.0])).info
        tensor(0, dtype=torch.int32)
    """
    try:
        r = solve(A, B, left=left)
        info = np.zeros(A._data.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        r = wrap(np.full(B._data.shape, np.nan, A._data.dtype))
        info = np.ones(A._data.shape[:-2], np.int32)
    return SolveExResult(r, wrap(info))


# --------------------------------------------------------------------------- triangular solve
def _tri_solve_fwd(a, b, upper, unitri):
    a = xp.triu(a) if upper else xp.tril(a)
    if unitri:
        a = a.copy()
        idx = np.arange(a.shape[-1])
        a[..., idx, idx] = 1
    bs = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, bs + a.shape[-2:])
    b = np.broadcast_to(b, bs + b.shape[-2:])
    with np.errstate(all="ignore"):
        try:
            return xp.linalg.solve(a, b)
        except np.linalg.LinAlgError:  # a zero on the diagonal: substitute (gives inf/nan)
            n = a.shape[-1]
            x = np.zeros(np.broadcast_shapes(a.shape[:-1], b.shape[:-2] + (n,)) + b.shape[-1:],
                         np.result_type(a, b))
            rng = range(n - 1, -1, -1) if upper else range(n)
            for i in rng:
                s = b[..., i, :] - np.einsum("...j,...jk->...k", a[..., i, :], x)
                x[..., i, :] = s / a[..., i, i, None]
            return x


_TRI_SOLVE = OpDef("linalg_solve_triangular", _tri_solve_fwd, None, save="xy",
                   node_name="LinalgSolveTriangularBackward0")


@_TRI_SOLVE.grad
def _(ctx, g):
    A, B = ctx.inputs
    X = ctx.output
    upper, unitri = ctx.params
    gB = apply(_TRI_SOLVE, (_mH(A), g), (not upper, unitri))
    gA = None
    if ctx.next[0] is not None:
        gA = -(gB @ _mH(X))
        gA = _triu(gA, 1 if unitri else 0) if upper else _tril(gA, -1 if unitri else 0)
    return gA, (gB if ctx.next[1] is not None else None)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, out: Optional[Tensor] = None) -> Tensor:
    """Solve a triangular system ``A X = B`` (``X A = B`` with ``left=False``).

    Args:
        A: ``(*, n, n)``; only its upper (``upper=True``) or lower triangle is read.
        B: ``(*, n, k)`` (``(*, k, n)`` when ``left=False``).
        unitriangular: assume ones on the diagonal of ``A``.

    Returns:
        The solution X.

    Example::

        >>> A = ember.tensor([[2., 0.], [1., 1.]])
        >>> ember.linalg.solve_triangular(A, ember.tensor([[2.], [2.]]), upper=False)
        tensor([[1.],
                [1.]])
    """
    _check_matrix("linalg.solve_triangular", A)
    _check_tensor("linalg.solve_triangular", B, "B")
    if B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    _promote_pair("linalg.solve_triangular", A, B)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return _out(_mT(solve_triangular(_mT(A), _mT(B), upper=not upper,
                                         unitriangular=unitriangular)), out)
    if A._data.shape[-1] != B._data.shape[-2]:
        n = A._data.shape[-1]
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation AX = B ({n}x{n} and {B._data.shape[-2]}x"
                           f"{B._data.shape[-1]})")
    return _out(apply(_TRI_SOLVE, (A, B), (bool(upper), bool(unitriangular))), out)


# --------------------------------------------------------------------------- cholesky
def _cholesky_fwd(a, name):
    try:
        return xp.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise _not_pd_error(name, a) from None


_CHOLESKY = OpDef("linalg_cholesky", _cholesky_fwd, None, save="y",
                  node_name="LinalgCholeskyExBackward0")


@_CHOLESKY.grad
def _(ctx, g):
    L = ctx.output
    # A = L L^H (Murray 2016): gA = L^-H S L^-1 with S = (tril(M) + tril(M, -1)^H) / 2,
    # M = L^H gL; S is Hermitian up to its diagonal (PyTorch's form, also for complex).
    Lh = _mH(L)
    M = _tril(Lh @ g)
    S = (M + _mH(_tril(M, -1))) * 0.5
    t = apply(_TRI_SOLVE, (Lh, S), (True, False))  # L^-H S
    gA = _mH(apply(_TRI_SOLVE, (Lh, _mH(t)), (True, False)))  # (L^-H (L^-H S)^H)^H
    return (gA,)


def cholesky(A: Tensor, *, upper: bool = False, out: Optional[Tensor] = None) -> Tensor:
    """Cholesky factor of Hermitian positive-definite matrices.

    Args:
        A: ``(*, n, n)``; only the lower triangle is read.
        upper: return ``U`` with ``A = U^H U`` instead of ``L`` with ``A = L L^H``.

    Returns:
        The lower-triangular factor L with ``A = L L^H``.

    Example::

        >>> ember.linalg.cholesky(ember.tensor([[4., 2.], [2., 2.]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    _check_matrix("linalg.cholesky", A)
    L = apply(_CHOLESKY, (A,), ("linalg.cholesky",))
    return _out(_mH(L) if upper else L, out)


@with_out("linalg.cholesky_ex")
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):  # noqa: ARG001 - out= is written by @with_out
    """``cholesky`` returning ``(L, info)``; info = order of the failing minor, no raise.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        upper: return the upper factor.
        check_errors: raise on a failure instead of reporting it in ``info`` (default
            False).
        out: optional tensor to write the result into.

    Returns:
        A namedtuple ``(L, info)``; ``info`` is 0, or the order of the leading minor that is
        not positive-definite.

    Example:
        >>> L, info = ember.linalg.cholesky_ex(-ember.eye(2))
        >>> info
        tensor(1, dtype=torch.int32)
    """
    _check_matrix("linalg.cholesky_ex", A)
    try:
        L = cholesky(A, upper=upper)
        info = np.zeros(A._data.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        a = A._data
        flat = a.reshape((-1,) + a.shape[-2:])
        Ls, info = np.zeros_like(flat), np.zeros(flat.shape[0], np.int32)
        for i, m in enumerate(flat):
            try:
                Ls[i] = xp.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                for k in range(1, m.shape[0] + 1):
                    try:
                        xp.linalg.cholesky(m[:k, :k])
                    except np.linalg.LinAlgError:
                        info[i] = k
                        break
        Ls = Ls.reshape(a.shape)
        L = wrap(np.conj(np.swapaxes(Ls, -1, -2)) if upper else Ls)
        info = info.reshape(a.shape[:-2])
    return CholeskyExResult(L, wrap(info))


# --------------------------------------------------------------------------- qr
def _qr_fwd(a, mode, cache):
    if mode == "r":
        r = (np.zeros((0,), a.dtype), xp.linalg.qr(a, mode="r"))
    else:
        r = tuple(xp.linalg.qr(a, mode=mode))
    cache.append(r)
    return r


_QR = OpDef("linalg_qr", _qr_fwd, None, multi=True, save="x", node_name="LinalgQrBackward0")


def _qr_bwd_square(Q, R, gQ, gR):
    """gA for A = QR with m >= n (reduced): [gQ + Q N] R^-H, N from W = gR R^H - Q^H gQ."""
    W = None
    if gR is not None:
        W = gR @ _mH(R)
    if gQ is not None:
        W = -(_mH(Q) @ gQ) if W is None else W - _mH(Q) @ gQ
    up = _triu(W, 1)
    dW = _diag(W)
    N = up + _mH(up) + _diag_embed(dW.real if W.is_complex() else dW)
    M = Q @ N
    if gQ is not None:
        M = M + gQ
    # X R^H = M  =>  X = solve_triangular(R^H, M, left=False) with R^H lower
    return solve_triangular(_mH(R), M, upper=False, left=False)


@_QR.grad
def _(ctx, grads):
    A, = ctx.inputs
    mode = ctx.params[0]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                           "going to differentiate through linalg.qr.")
    m, n = A._data.shape[-2:]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    Q, R = _cached(ctx, _QR)
    gQ, gR = grads
    gQ = None if _is_zero(gQ) else gQ
    gR = None if _is_zero(gR) else gR
    if gQ is None and gR is None:
        return (None,)
    if m >= n:
        return (_real_if(_qr_bwd_square(Q, R, gQ, gR), A),)
    # m < n: A = [X | Y] with X = Q R1 square, Y = Q R2.
    R1 = R[..., :, :m]
    Y = A[..., :, m:]
    gR1 = gR[..., :, :m] if gR is not None else None
    gR2 = gR[..., :, m:] if gR is not None else None
    gQx = gQ
    if gR2 is not None:
        gQx = Y @ _mH(gR2) if gQx is None else gQx + Y @ _mH(gR2)
    gX = _qr_bwd_square(Q, R1, gQx, gR1)
    gY = Q @ gR2 if gR2 is not None else gX[..., :, :0].new_zeros(Y.shape)
    from ember._ops.shape import cat

    return (_real_if(cat([gX, gY], -1), A),)


@with_out("linalg.qr")
def qr(A: Tensor, mode: str = "reduced", *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """QR decomposition ``A = Q R`` (batched).

    Args:
        A: ``(*, m, n)``.
        mode: ``'reduced'`` (Q is m x k, R is k x n with k = min(m, n)), ``'complete'``
            (Q is m x m) or ``'r'`` (only R; Q is an empty tensor).

    Returns:
        A namedtuple ``(Q, R)``.

    Example::

        >>> Q, R = ember.linalg.qr(ember.randn(4, 3))
        >>> Q.shape, R.shape
        (torch.Size([4, 3]), torch.Size([3, 3]))
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _check_matrix("linalg.qr", A, square=False)
    return QRResult(*apply(_QR, (A,), (mode, [])))


# --------------------------------------------------------------------------- svd
def _svd_fwd(a, full, cache):
    u, s, vh = xp.linalg.svd(a, full_matrices=full)
    r = (u, s.astype(a.real.dtype, copy=False), vh)
    cache.append(r)
    return r


_SVD = OpDef("linalg_svd", _svd_fwd, None, multi=True, save="x",
             node_name="LinalgSvdBackward0")


def _svd_backward(A, U, S, Vh, gU, gS, gVh):
    """gA for A = U diag(S) Vh (reduced factors; distinct non-zero S where gU/gVh matter).

    gA = U [skew(U^H gU)/E S + S skew(V^H gV)/E + diag(gS)] Vh
         + (I - U U^H) gU S^-1 Vh + U S^-1 gVh (I - V Vh),   E_jk = S_k^2 - S_j^2.
    """
    m, n = A._data.shape[-2:]
    k = S._data.shape[-1]
    cplx = A._data.dtype.kind == "c"
    if gU is None and gVh is None:
        if gS is None:
            return None
        return U @ (gS.unsqueeze(-1).to(U.dtype) * Vh) if cplx else U @ (gS.unsqueeze(-1) * Vh)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = E + _eye_like(k, E)  # skew parts have zero diagonal; avoid 0/0 there
    inner = None
    UhgU = VhgV = None
    if gU is not None:
        UhgU = _mH(U) @ gU
        inner = (UhgU - _mH(UhgU)) / E * S.unsqueeze(-2)
    if gVh is not None:
        VhgV = Vh @ _mH(gVh)
        t = S.unsqueeze(-1) * ((VhgV - _mH(VhgV)) / E)
        inner = t if inner is None else inner + t
    if gS is not None:
        inner = inner + _diag_embed(gS)
    if cplx and gU is not None:
        # the phase freedom of each singular pair: an imaginary diagonal term
        inner = inner + _diag_embed((_diag(UhgU).imag / (2 * S)) * 1j)
    gA = U @ inner @ Vh
    if m > k and gU is not None:
        gA = gA + ((gU - U @ UhgU) / S.unsqueeze(-2)) @ Vh
    if n > k and gVh is not None:
        gA = gA + U @ ((gVh - _mH(VhgV) @ Vh) / S.unsqueeze(-1))
    return gA


@_SVD.grad
def _(ctx, grads):
    A, = ctx.inputs
    full = ctx.params[0]
    U, S, Vh = _cached(ctx, _SVD)
    gU, gS, gVh = (None if _is_zero(g) else g for g in grads)
    k = S._data.shape[-1]
    if full:  # the extra columns/rows are an arbitrary basis: their gradients are ignored
        U, Vh = U[..., :, :k], Vh[..., :k, :]
        gU = gU[..., :, :k] if gU is not None else None
        gVh = gVh[..., :k, :] if gVh is not None else None
    gA = _svd_backward(A, U, S, Vh, gU, gS, gVh)
    return (None if gA is None else _real_if(gA, A),)


def _check_driver(name, A, driver):
    """``driver=`` picks a cuSOLVER method: PyTorch refuses it for CPU inputs."""
    if driver is None:
        return
    if A.device.type == "cpu":
        raise RuntimeError(f"{name}: keyword argument `driver=` is only supported on CUDA inputs "
                           "with cuSOLVER backend.")
    raise NotImplementedError(f"{name}(): driver={driver!r} is not supported (ember picks the "
                              "solver itself)")


@with_out("linalg.svd")
def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):  # noqa: ARG001 - out= is written by @with_out
    """Singular value decomposition ``A = U diag(S) Vh`` (batched).

    Args:
        A: ``(*, m, n)``.
        full_matrices: U is m x m and Vh n x n when True; m x k and k x n (k = min(m, n))
            when False.

    Gradients through U/Vh need distinct singular values (PyTorch's caveat).

    Returns:
        A namedtuple ``(U, S, Vh)``.

    Example::

        >>> ember.linalg.svd(ember.tensor([[3., 0.], [0., 4.]])).S
        tensor([4., 3.])
    """
    _check_matrix("linalg.svd", A, square=False)
    _check_driver("linalg.svd", A, driver)
    return SVDResult(*apply(_SVD, (A,), (bool(full_matrices), [])))


@with_out("linalg.svdvals")
def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:  # noqa: ARG001 - out= is written by @with_out
    """Singular values in descending order; differentiable even for repeated values.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        driver: the LAPACK driver name; accepted for compatibility (NumPy picks its own).
        out: optional tensor to write the result into.

    Returns:
        A real tensor ``(*, min(m, n))``.

    Example::

        >>> ember.linalg.svdvals(ember.tensor([[3., 0.], [0., 4.]]))
        tensor([4., 3.])
    """
    _check_matrix("linalg.svdvals", A, square=False)
    _check_driver("linalg.svdvals", A, driver)
    if not (GRAD.enabled and A.requires_grad):
        return wrap(xp.linalg.svd(A._data, compute_uv=False).astype(A._data.real.dtype))
    return apply(_SVD, (A,), (False, []))[1]


# --------------------------------------------------------------------------- eigh / eig
def _eigh_fwd(a, uplo, cache):
    w, v = xp.linalg.eigh(a, UPLO=uplo)
    r = (w.astype(a.real.dtype, copy=False), v)
    cache.append(r)
    return r


_EIGH = OpDef("linalg_eigh", _eigh_fwd, None, multi=True, save="x",
              node_name="LinalgEighBackward0")


@_EIGH.grad
def _(ctx, grads):
    A, = ctx.inputs
    L, V = _cached(ctx, _EIGH)
    gL, gV = (None if _is_zero(g) else g for g in grads)
    if gL is None and gV is None:
        return (None,)
    # gA = V (diag(gL) + (V^H gV) / E) V^H,  E_ij = L_j - L_i (diagonal excluded),
    # Hermitian part.
    inner = None
    if gV is not None:
        n = L._data.shape[-1]
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        E = E + _eye_like(n, E)
        VhgV = _mH(V) @ gV
        inner = (VhgV - _diag_embed(_diag(VhgV))) / E
    if gL is not None:
        d = _diag_embed(gL.to(V.dtype) if V.is_complex() else gL)
        inner = d if inner is None else inner + d
    gA = V @ inner @ _mH(V)
    # A is taken as Hermitian: keep the Hermitian part (as PyTorch does)
    return (_real_if((gA + _mH(gA)) * 0.5, A),)


@with_out("linalg.eigh")
def eigh(A: Tensor, UPLO: str = "L", *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """Eigenvalues (ascending) and eigenvectors of Hermitian matrices.

    Args:
        A: ``(*, n, n)``; only the triangle named by ``UPLO`` is read.
        UPLO: ``'L'`` or ``'U'``.

    Returns:
        A namedtuple ``(eigenvalues, eigenvectors)``: real eigenvalues in ascending order
        and orthonormal eigenvectors as columns.

    Example::

        >>> ember.linalg.eigh(ember.tensor([[2., 1.], [1., 2.]])).eigenvalues
        tensor([1., 3.])
    """
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_matrix("linalg.eigh", A)
    return EighResult(*apply(_EIGH, (A,), (UPLO.upper(), [])))


@with_out("linalg.eigvalsh")
def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:  # noqa: ARG001 - out= is written by @with_out
    """Eigenvalues of Hermitian matrices, ascending.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        UPLO: use the lower (``'L'``, default) or upper (``'U'``) triangle of ``A``.
        out: optional tensor to write the result into.

    Returns:
        A real tensor of eigenvalues in ascending order.

    Example::

        >>> ember.linalg.eigvalsh(ember.tensor([[2., 1.], [1., 2.]]))
        tensor([1., 3.])
    """
    if not (GRAD.enabled and isinstance(A, Tensor) and A.requires_grad):
        _check_matrix("linalg.eigvalsh", A)
        w = xp.linalg.eigvalsh(A._data, UPLO=UPLO.upper())
        return wrap(w.astype(A._data.real.dtype, copy=False))
    return eigh(A, UPLO)[0]


def _complex_of(dt):
    return np.complex64 if dt in (np.float32, np.complex64) else np.complex128


def _eig_fwd(a, cache):
    w, v = xp.linalg.eig(a)
    c = _complex_of(a.dtype)
    r = (w.astype(c, copy=False), v.astype(c, copy=False))
    cache.append(r)
    return r


_EIG = OpDef("linalg_eig", _eig_fwd, None, multi=True, save="x",
             node_name="LinalgEigBackward0")


@_EIG.grad
def _(ctx, grads):
    A, = ctx.inputs
    L, V = _cached(ctx, _EIG)
    gL, gV = (None if _is_zero(g) else g for g in grads)
    if gL is None and gV is None:
        return (None,)
    n = L._data.shape[-1]
    Vh = _mH(V)
    if gV is not None:
        # gA = V^-H (diag(gL) + (V^H gV - V^H V diag(Re(V^H gV)_ii)) / conj(E)) V^H
        VhgV = Vh @ gV
        re_d = _diag(VhgV).real
        inner = VhgV - (Vh @ V) * re_d.unsqueeze(-2).to(V.dtype)
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        E = E + _eye_like(n, E)
        inner = inner / E.conj()
        inner = inner - _diag_embed(_diag(inner))
        if gL is not None:
            inner = inner + _diag_embed(gL)
    else:
        inner = _diag_embed(gL)
    gA = solve(Vh, inner @ Vh)
    return (_real_if(gA, A),)


@with_out("linalg.eig")
def eig(A: Tensor, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """Eigenvalues and eigenvectors of general square matrices (always complex).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        out: optional tensor to write the result into.

    Returns:
        A namedtuple ``(eigenvalues, eigenvectors)`` of complex tensors.

    Example::

        >>> ember.linalg.eig(ember.tensor([[2., 0.], [0., 3.]])).eigenvalues
        tensor([2.+0.j, 3.+0.j])
    """
    _check_matrix("linalg.eig", A)
    return EigResult(*apply(_EIG, (A,), ([],)))


@with_out("linalg.eigvals")
def eigvals(A: Tensor, *, out=None) -> Tensor:  # noqa: ARG001 - out= is written by @with_out
    """Eigenvalues of general square matrices (complex).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        out: optional tensor to write the result into.

    Returns:
        A complex tensor of eigenvalues ``(*, n)``.

    Example::

        >>> ember.linalg.eigvals(ember.tensor([[0., -1.], [1., 0.]]))
        tensor([0.+1.j, 0.-1.j])
    """
    _check_matrix("linalg.eigvals", A)
    if not (GRAD.enabled and A.requires_grad):
        return wrap(xp.linalg.eigvals(A._data).astype(_complex_of(A._data.dtype)))
    return eig(A)[0]


# --------------------------------------------------------------------------- pinv / lstsq
def _pinv_fwd(a, atol, rtol, hermitian):
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)
    if hermitian:
        w, v = xp.linalg.eigh(a)
        s = np.abs(w)
        smax = s.max(-1, keepdims=True)
        tol = np.maximum(atol, rtol * smax)
        with np.errstate(divide="ignore"):
            winv = np.where(s > tol, 1 / np.where(w == 0, 1, w), 0)
        return ((v * winv[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))).astype(a.dtype)
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    smax = s[..., :1] if s.shape[-1] else s
    tol = np.maximum(atol, rtol * smax)
    with np.errstate(divide="ignore"):
        sinv = np.where(s > tol, 1 / np.where(s == 0, 1, s), 0)
    return (np.conj(np.swapaxes(vh, -1, -2)) * sinv[..., None, :]) @ np.conj(
        np.swapaxes(u, -1, -2))


_PINV = OpDef("linalg_pinv", _pinv_fwd, None, save="xy", node_name="PinvBackward0")


@_PINV.grad
def _(ctx, g):
    # Golub-Pereyra (constant rank): gA = -P^H g P^H + (I - A P) g^H P P^H
    #                                     + P^H P g^H (I - P A)
    A, = ctx.inputs
    P = ctx.output
    Ph, gh = _mH(P), _mH(g)
    m, n = A._data.shape[-2:]
    t1 = -(Ph @ g @ Ph)
    t2 = (gh @ P) @ Ph
    t2 = t2 - A @ (P @ t2)
    t3 = Ph @ (P @ gh)
    t3 = t3 - (t3 @ P) @ A
    return (t1 + t2 + t3,)


def _tols(A, atol, rtol, rcond):
    if rcond is not None:
        rtol = rcond
    if isinstance(atol, Tensor):
        atol = atol._data[..., None]
    if isinstance(rtol, Tensor):
        rtol = rtol._data[..., None]
    if rtol is None:
        eps = np.finfo(A._data.real.dtype).eps
        rtol = 0.0 if (atol is not None and np.any(np.asarray(atol) > 0)) else \
            eps * max(A._data.shape[-2:])
    return (0.0 if atol is None else atol), rtol


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, rcond=None,
         out=None) -> Tensor:
    """Moore-Penrose pseudo-inverse through the SVD (or eigh when ``hermitian``).

    Args:
        A: ``(*, m, n)``.
        atol, rtol: singular values below ``max(atol, rtol * s_max)`` count as zero; the
            default ``rtol`` is ``eps * max(m, n)`` when ``atol`` is not positive.
        hermitian: assume A is Hermitian and use eigh.

    Returns:
        The pseudo-inverse ``(*, n, m)``.

    Example::

        >>> ember.linalg.pinv(ember.tensor([[2., 0.], [0., 0.]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.0000]])
    """
    _check_matrix("linalg.pinv", A, square=hermitian)
    atol, rtol = _tols(A, atol, rtol, rcond)
    return _out(apply(_PINV, (A,), (atol, rtol, hermitian)), out)


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver: Optional[str] = None):
    """Least-squares solution of ``A X = B`` (batched), PyTorch's named tuple.

    Args:
        A: ``(*, m, n)``.
        B: ``(*, m, k)`` or ``(*, m)``.
        rcond: singular values below ``rcond * s_max`` count as zero (default eps*max(m, n)).
        driver: ``'gelsy'`` (default), ``'gels'``, ``'gelsd'`` or ``'gelss'``: decides which
            optional outputs are filled, as in PyTorch (``residuals`` when m > n and full rank
            for drivers other than gelsy; ``singular_values`` for gelsd/gelss; ``rank``
            except for gels).

    The solution is differentiable (through ``pinv(A) @ B``).

    Returns:
        A namedtuple ``(solution, residuals, rank, singular_values)``.

    Example::

        >>> A = ember.tensor([[1., 0.], [0., 1.], [0., 0.]])
        >>> ember.linalg.lstsq(A, ember.tensor([[1.], [2.], [3.]])).solution
        tensor([[1.],
                [2.]])
    """
    _check_matrix("linalg.lstsq", A, square=False)
    _check_tensor("linalg.lstsq", B, "B")
    _promote_pair("linalg.lstsq", A, B)
    driver = driver or "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                           f"(gels, gelsy, gelsd, gelss), but got {driver}")
    a, b = A._data, B._data
    if not (a.ndim >= b.ndim and a.ndim - b.ndim <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    vec = a.ndim - b.ndim == 1
    if (b.shape[-1] if vec else b.shape[-2]) != a.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2) "
                           f"(shapes {list(a.shape)} and {list(b.shape)})")
    m, n = a.shape[-2:]
    Bm = B.unsqueeze(-1) if vec else B
    bs = np.broadcast_shapes(a.shape[:-2], Bm._data.shape[:-2])
    rc = np.finfo(a.real.dtype).eps * max(m, n) if rcond is None or rcond < 0 else rcond
    af = np.broadcast_to(a, bs + (m, n)).reshape((-1, m, n))
    bf = np.broadcast_to(Bm._data, bs + Bm._data.shape[-2:]).reshape((-1, m, Bm._data.shape[-1]))
    sols, ress, ranks, svs = [], [], [], []
    for ai, bi in zip(af, bf):
        x, res, rk, sv = xp.linalg.lstsq(ai, bi, rcond=rc)
        sols.append(x)
        ress.append(res)
        ranks.append(rk)
        svs.append(sv)
    k = Bm._data.shape[-1]
    sol = np.stack(sols).reshape(bs + (n, k)) if sols else np.zeros(bs + (n, k), a.dtype)
    full_rank = all(r == min(m, n) for r in ranks)
    if GRAD.enabled and (A.requires_grad or B.requires_grad):
        X = pinv(A, rtol=rc) @ Bm
    else:
        X = wrap(sol.astype(a.dtype, copy=False))
    if vec:
        X = X.squeeze(-1)
    rdt = a.real.dtype
    if driver != "gelsy" and m > n and full_rank and ress and len(ress[0]):
        residuals = wrap(np.stack(ress).reshape(bs + (k,)).astype(rdt))
        if vec:
            residuals = residuals.squeeze(-1)
    else:
        residuals = wrap(np.zeros((0,), rdt))
    rank = wrap(np.asarray(ranks, np.int64).reshape(bs)) if driver != "gels" else \
        wrap(np.zeros((0,), np.int64))
    sv = wrap(np.stack(svs).reshape(bs + (min(m, n),)).astype(rdt)) \
        if driver in ("gelsd", "gelss") else wrap(np.zeros((0,), rdt))
    return LstsqResult(X, residuals, rank, sv)


# --------------------------------------------------------------------------- powers, rank
def matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """``A`` to the integer power ``n`` (negative: powers of the inverse) by squaring.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        n: the power (negative: powers of the inverse).
        out: optional tensor to write the result into.

    Returns:
        A tensor of ``A``'s shape.

    Example::

        >>> ember.linalg.matrix_power(ember.tensor([[1., 1.], [0., 1.]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    _check_tensor("linalg.matrix_power", A)
    if A._data.ndim < 2 or A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {A._data.shape[-2] if A._data.ndim >= 2 else 1} by "
                           f"{A._data.shape[-1] if A._data.ndim else 1} matrices")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power(): argument 'n' must be int, not "
                        f"{type(n).__name__}")
    if n == 0:
        k = A._data.shape[-1]
        return _out(wrap(np.broadcast_to(np.eye(k, dtype=A._data.dtype), A._data.shape).copy()),
                    out)
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _out(result if result is not A else A.clone(), out)


@with_out("linalg.matrix_rank")
def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, tol=None,
                out=None) -> Tensor:  # noqa: ARG001 - out= is written by @with_out
    """Number of singular values above ``max(atol, rtol * s_max)`` (int64).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        atol: the absolute tolerance on singular values.
        rtol: the relative tolerance (default: eps times the size when ``atol`` is not
            given).
        hermitian: ``A`` is Hermitian (symmetric when real), which allows a faster
            algorithm.
        tol: deprecated alias of ``atol``.
        out: optional tensor to write the result into.

    Returns:
        An int64 tensor of ranks.

    Example::

        >>> ember.linalg.matrix_rank(ember.tensor([[1., 2.], [2., 4.]]))
        tensor(1)
    """
    _check_matrix("linalg.matrix_rank", A, square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _tols(A, atol, rtol, None)
    a = A._data
    if hermitian:
        s = np.abs(xp.linalg.eigvalsh(a))
        s = np.sort(s, -1)[..., ::-1]
    else:
        s = xp.linalg.svd(a, compute_uv=False) if a.size else np.zeros(a.shape[:-2] + (0,))
    smax = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    tol_v = np.maximum(atol, rtol * smax)
    return wrap(np.sum(s > tol_v, axis=-1).astype(np.int64))


# --------------------------------------------------------------------------- norms
def vector_norm(x: Tensor, ord: Union[int, float] = 2, dim=None, keepdim: bool = False, *,
                dtype=None, out=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements when None); ord may be inf, -inf, 0.

    Args:
        x: the input.
        ord: the order: a number, ``inf`` or ``-inf`` (default 2; 0 counts nonzeros).
        dim: the dimension(s); None flattens.
        keepdim: keep each reduced dimension as size 1 (default False).
        dtype: compute in this dtype.
        out: optional tensor to write the result into.

    Returns:
        A tensor of norms.

    Example::

        >>> ember.linalg.vector_norm(ember.tensor([3., 4.]))
        tensor(5.)
    """
    _check_tensor("linalg.vector_norm", x, "x")
    return _out(_vector_norm(x, ord, dim, keepdim, dtype=dtype), out)


def _two_dims(name, A, dim):
    if len(dim) != 2:
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {tuple(dim)}")
    nd = A._data.ndim
    if nd < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (_wrap_dim(d, nd, name) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A: Tensor, ord: Union[str, float] = "fro", dim=(-2, -1), keepdim: bool = False,
                *, dtype=None, out=None) -> Tensor:
    """Matrix norm over the two dims ``dim``.

    Args:
        A: tensor with at least 2 dims.
        ord: ``'fro'``, ``'nuc'``, ``inf``, ``-inf``, ``1``, ``-1``, ``2``, ``-2``.

    Returns:
        A tensor of norms.

    Example::

        >>> ember.linalg.matrix_norm(ember.tensor([[1., -2.], [3., 4.]]), ord=1)
        tensor(6.)
    """
    name = "linalg.matrix_norm"
    _check_tensor(name, A)
    if dtype is not None:
        A = A.to(dtype)
    _check_float(name, A)
    d0, d1 = _two_dims(name, A, tuple(dim))
    if ord == "fro":
        return _out(_vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord not in ("nuc", 1, -1, 2, -2, _INF, -_INF):
        raise RuntimeError(f"{name}: Order {ord} not supported.")
    if ord in ("nuc", 2, -2):
        Am = A.movedim((d0, d1), (-2, -1))
        s = svdvals(Am)
        r = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            lo, hi = sorted((d0, d1))
            r = r.unsqueeze(lo).unsqueeze(hi)
        return _out(r, out)
    # 1/-1: max/min over columns of the absolute column sums; inf: the same over rows.
    sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
    s = A.abs().sum(sum_dim, keepdim=True)
    r = s.amax(red_dim, keepdim=True) if ord in (1, _INF) else s.amin(red_dim, keepdim=True)
    if not keepdim:
        r = r.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    return _out(r, out)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None,
         out=None) -> Tensor:
    """Vector or matrix norm, dispatched on ``dim``/``ord`` as in ``torch.linalg.norm``.

    Args:
        A: input tensor.
        ord: None (2-norm of the flattened input, or Frobenius), a number, ``'fro'``,
            ``'nuc'``.
        dim: an int (vector norm) or a 2-tuple (matrix norm); None with ``ord`` given needs
            a 1-D or 2-D input.

    Returns:
        A tensor of norms.

    Example::

        >>> ember.linalg.norm(ember.tensor([[3., 0.], [0., 4.]]))
        tensor(5.)
    """
    _check_tensor("linalg.norm", A)
    if dtype is not None:
        A = A.to(dtype)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"linalg.norm: If dim is a 1-tuple, ord must be a number. "
                                   f"Got {ord}")
            return _out(vector_norm(A, 2 if ord is None else ord, dim, keepdim), out)
        return _out(matrix_norm(A, "fro" if ord is None else ord, dim, keepdim), out)
    if ord is None:
        return _out(vector_norm(A, 2, None, keepdim), out)
    nd = A._data.ndim
    if nd == 1:
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord}")
        return _out(vector_norm(A, ord, None, keepdim), out)
    if nd == 2:
        return _out(matrix_norm(A, ord, (-2, -1), keepdim), out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {nd}D.")


# --------------------------------------------------------------------------- products
def cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (inputs broadcast).

    Args:
        input: the first vectors (size 3 along ``dim``).
        other: the second vectors (broadcast).
        dim: the dimension of the vectors (default -1).
        out: optional tensor to write the result into.

    Returns:
        A tensor of the broadcast shape.

    Example::

        >>> ember.linalg.cross(ember.tensor([1., 0., 0.]), ember.tensor([0., 1., 0.]))
        tensor([0., 0., 1.])
    """
    _check_tensor("linalg.cross", input, "input")
    _check_tensor("linalg.cross", other, "other")
    if input.dtype is not other.dtype:  # PyTorch promotes nothing here
        raise RuntimeError(f"linalg.cross: expected scalar type {input.dtype._short} but found "
                           f"{other.dtype._short}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("linalg.cross: \"cross\" not implemented for 'Bool'")
    if input._data.ndim != other._data.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions. "
                           f"Got {input._data.ndim} and {other._data.ndim}")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "linalg.cross")
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input._data.shape[d]} and {other._data.shape[d]}")
    from ember._ops.shape import stack

    a0, a1, a2 = (input.select(d, i) for i in range(3))
    b0, b1, b2 = (other.select(d, i) for i in range(3))
    r = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)
    return _out(r, out)


def _cross_top(input: Tensor, other: Tensor, dim: Optional[int] = None, *, out=None) -> Tensor:
    """``torch.cross``: ``dim=None`` picks the first dimension of size 3 (with a warning)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (shapes {list(input.shape)} "
                               f"and {list(other.shape)})")
    return cross(input, other, dim=dim, out=out)


def multi_dot(tensors: Sequence[Tensor], *, out=None) -> Tensor:
    """Product of a chain of matrices, multiplied in the cheapest order.

    The first/last argument may be 1-D (treated as a row/column vector and squeezed).

    Args:
        tensors: two or more matrices (the first and last may be 1-D).
        out: optional tensor to write the result into.

    Returns:
        The product.

    Example::

        >>> ember.linalg.multi_dot([ember.ones(2, 3), ember.ones(3, 4), ember.ones(4)])
        tensor([12., 12.])
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_vec, last_vec = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t._data.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got "
                               f"{t._data.ndim}D")
        if i and ts[i - 1]._data.shape[1] != t._data.shape[0]:
            a, b = ts[i - 1]._data.shape, t._data.shape
            raise RuntimeError(f"multi_dot(): tensors {i - 1} and {i} with shapes "
                               f"{a[0]}x{a[1]} and {b[0]}x{b[1]} cannot be multiplied")
    dims = [ts[0]._data.shape[0]] + [t._data.shape[1] for t in ts]
    r = _chain(ts, _chain_order(dims), 0, len(ts) - 1)
    if first_vec:
        r = r.squeeze(0)
    if last_vec:
        r = r.squeeze(-1)
    return _out(r, out)


def _chain_order(p):
    """Matrix-chain dynamic programme: split[i][j] = best split of the product i..j."""
    n = len(p) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(ts, split, i, j):
    if i == j:
        return ts[i]
    k = split[i][j]
    return _chain(ts, split, i, k) @ _chain(ts, split, k + 1, j)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Dot product ``sum(conj(x) * y)`` along ``dim`` (broadcast).

    Args:
        x: the first vectors.
        y: the second (broadcast).
        dim: the dimension of the vectors (default -1).
        out: optional tensor to write the result into.

    Returns:
        A tensor with ``dim`` removed.

    Example::

        >>> ember.linalg.vecdot(ember.tensor([1., 2.]), ember.tensor([3., 4.]))
        tensor(11.)
    """
    return _out(((x.conj() if x.is_complex() else x) * y).sum(dim), out)


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Alias for :func:`ember.matmul`."""
    from ember._ops.blas import matmul as _mm

    return _mm(input, other, out=out)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Diagonals of the matrices in ``A`` (a copy, moved to the last dim).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        offset: which diagonal (default 0).
        dim1: the first matrix dimension (default -2).
        dim2: the second (default -1).

    Returns:
        A tensor with the diagonals along the last dimension.

    Example::

        >>> ember.linalg.diagonal(ember.tensor([[1., 2.], [3., 4.]]))
        tensor([1., 4.])
    """
    _check_tensor("linalg.diagonal", A)
    nd = A._data.ndim
    if nd < 2:
        raise RuntimeError("linalg.diagonal: The input tensor A must have at least 2 "
                           "dimensions.")
    d1, d2 = _wrap_dim(dim1, nd, "linalg.diagonal"), _wrap_dim(dim2, nd, "linalg.diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(_DIAGONAL, (A,), (offset, d1, d2))


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential by scaling and squaring of a Taylor series (differentiable).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.

    Returns:
        The exponential of each matrix.

    Example::

        >>> ember.linalg.matrix_exp(ember.zeros(2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    _check_matrix("linalg.matrix_exp", A)
    a = A._data
    nrm = float(np.max(np.abs(a).sum(-2))) if a.size else 0.0
    s = max(0, int(np.ceil(np.log2(nrm))) + 1) if nrm > 0.5 else 0
    X = A / (2 ** s) if s else A
    n = a.shape[-1]
    term = wrap(np.broadcast_to(np.eye(n, dtype=a.dtype), a.shape).copy())
    result = term
    for k in range(1, 19):
        term = (term @ X) / k
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


@with_out("linalg.tensorinv")
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:  # noqa: ARG001 - out= is written by @with_out
    """Inverse of a tensor viewed as a matrix: the first ``ind`` dims are the rows.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        ind: how many leading dimensions form the rows (default 2).
        out: optional tensor to write the result into.

    Returns:
        A tensor of shape ``A.shape[ind:] + A.shape[:ind]``.

    Example:
        >>> ember.linalg.tensorinv(ember.eye(4).reshape(4, 2, 2), ind=1).shape
        torch.Size([2, 2, 4])
    """
    shape = A.shape
    rows = int(np.prod(shape[:ind]))
    return inv(A.reshape(rows, -1)).reshape(*shape[ind:], *shape[:ind])


@with_out("linalg.tensorsolve")
def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:  # noqa: ARG001 - out= is written by @with_out
    """Solve ``tensordot(A, X, X.ndim) = B`` for X.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        B: the right-hand side ``(*, m, k)`` (or ``(*, m)``).
        dims: dimensions of ``A`` moved to the end first.
        out: optional tensor to write the result into.

    Returns:
        X of shape ``A.shape[B.ndim:]``.

    Example:
        >>> ember.linalg.tensorsolve(ember.eye(4).reshape(2, 2, 4), ember.ones(2, 2))
        tensor([1., 1., 1., 1.])
    """
    if dims is not None:
        nd = A.ndim
        A = A.movedim(tuple(dims), tuple(range(nd - len(dims), nd)))
    xs = A.shape[B.ndim:]
    return solve(A.reshape(B.numel(), -1), B.reshape(-1)).reshape(*xs)


def vander(x: Tensor, *, N: Optional[int] = None) -> Tensor:
    """Vandermonde matrix with increasing powers ``x**0, x**1, ..., x**(N-1)``.

    Args:
        x: a tensor ``(*, n)``.
        N: the number of columns (default n).

    Returns:
        A tensor ``(*, n, N)``.

    Example:
        >>> ember.linalg.vander(ember.tensor([1, 2, 3]))
        tensor([[1, 1, 1],
                [1, 2, 4],
                [1, 3, 9]])
    """
    from ember._ops.shape import stack

    n = x.shape[-1] if N is None else N
    cols = [x.new_ones(x.shape)]
    for _ in range(1, n):
        cols.append(cols[-1] * x)
    return stack(cols[:n], -1)


@with_out("linalg.householder_product")
def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:  # noqa: ARG001 - out= is written by @with_out
    """Product of Householder reflectors ``H_1 ... H_k`` (first n columns), differentiable.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        tau: the reflectors' scales ``(*, k)``.
        out: optional tensor to write the result into.

    Returns:
        The matrix ``(*, m, n)`` of the first n columns of the product.

    Example:
        >>> A = ember.tensor([[1.0, 0.0], [0.5, 1.0], [0.25, 0.5]])
        >>> Q = ember.linalg.householder_product(A, ember.tensor([1.2, 1.5]))
        >>> ember.allclose(Q.T @ Q, ember.eye(2), atol=1e-5)
        False
    """
    m, n = A.shape[-2:]
    Q = wrap(np.broadcast_to(np.eye(m, n, dtype=A._data.dtype), A._data.shape).copy())
    eye = wrap(np.eye(m, dtype=A._data.dtype))
    mask = np.tril(np.ones((m, n), bool), -1)
    V = A * wrap(mask) + wrap(np.eye(m, n, dtype=A._data.dtype))
    for i in range(tau.shape[-1] - 1, -1, -1):
        v = V[..., :, i].unsqueeze(-1)
        H = eye - tau[..., i].unsqueeze(-1).unsqueeze(-1) * (v @ _mH(v))
        Q = H @ Q
    return Q


# =========================================================================== LU, LDL, cond
# Added for issue 19: LU and LDL^T factorisations (NumPy has no LAPACK getrf/sytrf, so both
# run as short column loops vectorised over the batch), lu_solve/lu_unpack, cholesky_solve,
# cholesky_inverse and cond.
# (cholesky_solve, cholesky_inverse and lu_unpack are top-level only in PyTorch: they are
# private here and published as ember.* by _ops/linalg_factor.py)
__all__ += ["cond", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "ldl_factor",
            "ldl_factor_ex", "ldl_solve"]

LUFactorResult = _rt("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = _rt("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = _rt("linalg_lu", ["P", "L", "U"])
LUUnpackResult = _rt("lu_unpack", ["P", "L", "U"])
LDLFactorResult = _rt("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorExResult = _rt("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


def _out_tuple(res, out):
    """Write a tuple of results into the tensors of ``out`` (PyTorch's ``out=`` for
    multi-output functions) and return ``out``'s tuple type."""
    if out is None:
        return res
    if not isinstance(out, (tuple, list)) or len(out) != len(res):
        raise TypeError(f"out must be a tuple of {len(res)} tensors")
    from ember._ops.core import write_out

    written = [write_out("linalg", o, r) for o, r in zip(out, res)]
    return type(res)(*written) if hasattr(res, "_fields") else tuple(written)


def _lu_np(a, pivot):
    """Partial-pivoting LU of (..., m, n): packed LU, 1-based int32 pivots, info (the first
    zero pivot, 1-based; 0 if none), as LAPACK's getrf."""
    shape = a.shape
    m, n = shape[-2:]
    k = min(m, n)
    nb = int(np.prod(shape[:-2], dtype=np.int64))
    lu = np.array(a.reshape((nb, m, n)), copy=True)
    piv = np.tile(np.arange(1, k + 1, dtype=np.int32), (nb, 1))
    info = np.zeros(nb, np.int32)
    rows = np.arange(nb)
    for j in range(k):
        if pivot:
            p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
            piv[:, j] = p + 1
            swap = p != j
            if swap.any():
                r, pr = rows[swap], p[swap]
                tmp = lu[r, j, :].copy()
                lu[r, j, :] = lu[r, pr, :]
                lu[r, pr, :] = tmp
        d = lu[:, j, j]
        zero = d == 0
        info[(info == 0) & zero] = j + 1
        scale = np.where(zero, 1, d)
        lu[:, j + 1:, j] /= scale[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return (lu.reshape(shape), piv.reshape(shape[:-2] + (k,)),
            info.reshape(shape[:-2]))


def _perm_matrix(piv, m, dtype):
    """P with A = P L U, from 1-based LAPACK pivots (row i was swapped with piv[i] - 1)."""
    flat = piv.reshape((int(np.prod(piv.shape[:-1], dtype=np.int64)), piv.shape[-1]))
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for i in range(flat.shape[-1]):
        p = flat[:, i].astype(np.int64) - 1
        tmp = perm[rows, i].copy()
        perm[rows, i] = perm[rows, p]
        perm[rows, p] = tmp
    # P^T A = A[perm]: P[perm[i], i] = 1
    P = np.zeros((flat.shape[0], m, m), dtype)
    P[rows[:, None], perm, np.arange(m)[None, :]] = 1
    return P.reshape(piv.shape[:-1] + (m, m))


def _lu_fwd(a, pivot, cache):
    lu_, piv, info = _lu_np(a, pivot)
    cache.append((piv, info))
    return lu_


_LU = OpDef("linalg_lu_factor", _lu_fwd, None, save="xy", attrs=("pivot", "cache"),
            node_name="LinalgLuFactorExBackward0")


@_LU.grad
def _(ctx, g):
    # A = P L U (square): gA = P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H, where the packed
    # gradient splits into gL (strictly lower) and gU (upper), as PyTorch's lu_factor_ex.
    A, = ctx.inputs
    m, n = A._data.shape[-2:]
    if m != n:
        raise NotImplementedError("linalg.lu_factor: the derivative is implemented for "
                                  "square matrices only in ember")
    piv = ctx.params[-1][0][0]
    LU = apply(_LU, ctx.inputs, ctx.params[:-1] + ([],)) if GRAD.enabled else ctx.output
    eye = _eye_like(n, LU)
    L = _tril(LU, -1) + eye
    U = _triu(LU)
    phi = _tril(_mH(L) @ _tril(g, -1), -1) + _triu(_triu(g) @ _mH(U))
    X = solve_triangular(_mH(L), phi, upper=True, unitriangular=True)
    X = solve_triangular(_mH(U), X, upper=False, left=False)
    return (wrap(_perm_matrix(piv, m, A._data.dtype)) @ X,)


def _check_lu_input(name, A):
    _check_matrix(name, A, square=False)
    _check_float(name, A)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None):
    """LU factorisation with partial pivoting, without raising on singular matrices.

    Returns ``(LU, pivots, info)``: L (unit diagonal, strictly lower part) and U packed in one
    matrix, LAPACK's 1-based int32 row interchanges, and ``info`` > 0 where ``U[info-1,
    info-1]`` is zero.

    Args:
        A: ``(*, m, n)`` floating tensor.
        pivot: partial pivoting (False: no row interchanges).
        check_errors: raise on a zero pivot.

    Returns:
        A namedtuple ``(LU, pivots, info)``.

    Example::

        >>> ember.linalg.lu_factor_ex(ember.tensor([[1., 2.], [3., 4.]])).pivots
        tensor([2, 2], dtype=torch.int32)
    """
    _check_lu_input("linalg.lu_factor_ex", A)
    cache = []
    LU = apply(_LU, (A,), (bool(pivot), cache))
    piv, info = cache[0]
    if check_errors and (info != 0).any():
        raise LinAlgError(f"torch.linalg.lu_factor_ex: U[{int(info.max())},"
                          f"{int(info.max())}] is zero and using it on lu_solve would "
                          "result in a division by zero.")
    return _out_tuple(LUFactorExResult(LU, wrap(piv), wrap(info)), out)


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):
    """LU factorisation with partial pivoting: ``(LU, pivots)`` (see :func:`lu_factor_ex`);
    raises for a matrix whose U has a zero on the diagonal. Differentiable for square A.

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        pivot: use partial pivoting (default True; False is not supported on the CPU, as in
            PyTorch).
        out: optional tensor to write the result into.

    Returns:
        A namedtuple ``(LU, pivots)`` (pivots are 1-based, as LAPACK's).

    Example::

        >>> LU, piv = ember.linalg.lu_factor(ember.tensor([[1., 2.], [3., 4.]]))
        >>> LU
        tensor([[3.0000, 4.0000],
                [0.3333, 0.6667]])
    """
    _check_lu_input("linalg.lu_factor", A)
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    bad = info._data
    if (bad != 0).any():
        i = int(bad[bad != 0].flat[0])
        batch = "" if bad.ndim == 0 else \
            f"(Batch element {int(np.flatnonzero(bad.reshape(-1))[0])}): "
        raise LinAlgError(f"torch.linalg.lu_factor: {batch}U[{i},{i}] is zero and using it on "
                          "lu_solve would result in a division by zero. If you still want to "
                          "perform the factorization, consider calling linalg.lu(A, pivot) or "
                          "linalg.lu_factor_ex(A, pivot)")
    return _out_tuple(LUFactorResult(LU, piv), out)


def _lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True, *, out=None):
    """Unpack ``lu_factor``'s output into ``(P, L, U)`` with ``A = P @ L @ U``.

    Args:
        LU_data: packed factors ``(*, m, n)``.
        LU_pivots: 1-based pivots ``(*, min(m, n))``.
        unpack_data / unpack_pivots: skip L, U (or P), returning empty tensors in their
            place as PyTorch does.

    Example::

        >>> P, L, U = ember.lu_unpack(*ember.linalg.lu_factor(ember.eye(2)))
        >>> U
        tensor([[1., 0.],
                [0., 1.]])
    """
    _check_tensor("lu_unpack", LU_data, "LU_data")
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    if LU_pivots.shape[-1] != k or LU_pivots._data.dtype.kind not in "iu":
        raise RuntimeError(f"lu_unpack: LU_pivots must be an integer tensor of shape "
                           f"{list(LU_data.shape[:-2]) + [k]}, got {list(LU_pivots.shape)} "
                           f"{LU_pivots.dtype}")
    empty = wrap(np.zeros(0, LU_data._data.dtype))
    if unpack_data:
        L = _tril(LU_data[..., :, :k], -1) + wrap(np.eye(m, k, dtype=LU_data._data.dtype))
        U = _triu(LU_data[..., :k, :])
    else:
        L = U = empty
    P = wrap(_perm_matrix(LU_pivots._data, m, LU_data._data.dtype)) if unpack_pivots else empty
    return _out_tuple(LUUnpackResult(P, L, U), out)


def lu(A: Tensor, *, pivot: bool = True, out=None):
    """LU decomposition ``A = P L U`` with partial pivoting (differentiable for square A).

    Returns ``(P, L, U)``: a permutation matrix, unit lower-trapezoidal L (m x k) and upper
    trapezoidal U (k x n), k = min(m, n).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        pivot: use partial pivoting (default True; False is not supported on the CPU, as in
            PyTorch).
        out: optional tensor to write the result into.

    Returns:
        A namedtuple ``(P, L, U)`` with ``A = P @ L @ U``.

    Example::

        >>> P, L, U = ember.linalg.lu(ember.tensor([[1., 2.], [3., 4.]]))
        >>> bool(ember.allclose(P @ L @ U, ember.tensor([[1., 2.], [3., 4.]])))
        True
    """
    _check_lu_input("linalg.lu", A)
    LU, piv, _ = lu_factor_ex(A, pivot=pivot)
    P, L, U = _lu_unpack(LU, piv)
    return _out_tuple(LUResult(P, L, U), out)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False, out=None) -> Tensor:
    """Solve ``A X = B`` from ``A``'s LU factorisation (``X A = B`` with ``left=False``;
    ``A^H`` in place of ``A`` with ``adjoint=True``). Differentiable in LU and B.

    Args:
        LU: the factorisation from ``lu_factor``.
        pivots: the pivots from ``lu_factor``.
        B: the right-hand side ``(*, m, k)`` (or ``(*, m)``).
        left: solve ``A X = B`` (default) or ``X A = B``.
        adjoint: solve with the conjugate transpose of A (default False).
        out: optional tensor to write the result into.

    Returns:
        The solution X.

    Example::

        >>> A = ember.tensor([[1., 2.], [3., 4.]])
        >>> LU, piv = ember.linalg.lu_factor(A)
        >>> ember.linalg.lu_solve(LU, piv, ember.tensor([[5.], [11.]]))
        tensor([[1.],
                [2.]])
    """
    _check_matrix("linalg.lu_solve", LU)
    _check_tensor("linalg.lu_solve", B, "B")
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 "
                           "dimensions.")
    _promote_pair("linalg.lu_solve", LU, B)
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if not left:  # X A = B  <=>  A^H X^H = B^H
        return _out(_mH(lu_solve(LU, pivots, _mH(B), adjoint=not adjoint)), out)
    P = wrap(_perm_matrix(pivots._data, n, LU._data.dtype))
    if not adjoint:  # X = U^-1 L^-1 P^T B
        Y = solve_triangular(LU, _mT(P) @ B, upper=False, unitriangular=True)
        X = solve_triangular(LU, Y, upper=True)
    else:  # A^H = U^H L^H P^T: X = P L^-H U^-H B
        Y = solve_triangular(_mH(LU), B, upper=False)
        X = P @ solve_triangular(_mH(LU), Y, upper=True, unitriangular=True)
    return _out(X, out)


def _cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """Solve ``A X = B`` given the Cholesky factor of ``A`` (``A = L L^H``, or ``U^H U`` with
    ``upper=True``); batch dims broadcast. Differentiable in B and L.

    Args:
        B: right-hand sides ``(*, n, k)``.
        L: the factor ``(*, n, n)``; only its lower (upper) triangle is read.

    Example::

        >>> L = ember.tensor([[2., 0.], [1., 1.]])
        >>> ember.cholesky_solve(ember.tensor([[4.], [2.]]), L)
        tensor([[1.],
                [0.]])
    """
    _check_matrix("cholesky_solve", L, arg="input2")
    _check_tensor("cholesky_solve", B, "input")
    if B.ndim < 2:
        raise RuntimeError(f"cholesky_solve: b should have at least 2 dimensions, but has "
                           f"{B.ndim} dimensions instead")
    _promote_pair("cholesky_solve", L, B)
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"cholesky_solve: Incompatible matrix sizes for cholesky_solve: "
                           f"each A matrix is {L.shape[-1]} by {L.shape[-1]} but each b matrix "
                           f"is {B.shape[-2]} by {B.shape[-1]}")
    if upper:  # U^H U X = B
        X = solve_triangular(L, solve_triangular(_mH(L), B, upper=False), upper=True)
    else:  # L L^H X = B
        X = solve_triangular(_mH(L), solve_triangular(L, B, upper=False), upper=True)
    return _out(X, out)


def _cholesky_inverse(L: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """Inverse of ``A = L L^H`` (``U^H U`` with ``upper=True``) from its Cholesky factor.

    Example::

        >>> ember.cholesky_inverse(ember.tensor([[2., 0.], [0., 1.]]))
        tensor([[0.2500, 0.0000],
                [0.0000, 1.0000]])
    """
    _check_matrix("cholesky_inverse", L, arg="input")
    n = L.shape[-1]
    eye = wrap(np.broadcast_to(np.eye(n, dtype=L._data.dtype), L._data.shape).copy())
    return _out(_cholesky_solve(eye, L, upper), out)


def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """Condition number of ``A`` in the norm ``p`` (differentiable).

    ``p`` None/2/-2 use the singular values (any shape); 'fro', 'nuc', inf, -inf, 1, -1 use
    ``matrix_norm(A, p) * matrix_norm(A^-1, p)`` (square A; inf where A is singular).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        p: the norm: None (2-norm via singular values), ``'fro'``, ``'nuc'``, ``inf``,
            ``-inf``, 1, -1, 2, -2.
        out: optional tensor to write the result into.

    Returns:
        A tensor of condition numbers (one per matrix).

    Example::

        >>> ember.linalg.cond(ember.tensor([[1., 0.], [0., 4.]]))
        tensor(4.)
    """
    _check_matrix("linalg.cond", A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return _out(r, out)
    if p not in ("fro", "nuc", 1, -1, _INF, -_INF):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.shape[-1] == 0:
        return _out(wrap(np.zeros(A.shape[:-2], A._data.dtype)), out)
    inv_a, info = inv_ex(A)
    singular = info._data != 0
    if singular.any():
        safe = wrap(np.where(singular[..., None, None], np.eye(A.shape[-1], dtype=A._data.dtype),
                             0))
        inv_a = inv(A * wrap(~singular[..., None, None]).to(A.dtype) + safe)
    r = matrix_norm(A, p) * matrix_norm(inv_a, p)
    if singular.any():
        r = r.masked_fill(wrap(singular), _INF)
    return _out(r, out)


# ---- LDL^T (Bunch-Kaufman)
_BK_ALPHA = (1.0 + 17.0 ** 0.5) / 8.0


def _ldl_one(a):
    """LAPACK sytf2 (lower) on one real symmetric matrix: LD packed, 1-based pivots (negative
    pairs mark 2x2 blocks), info."""
    a = np.tril(a).astype(a.dtype, copy=True)
    a = a + np.tril(a, -1).T  # work on the full symmetric matrix; the lower part is kept
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = abs(a[k, k])
        if k < n - 1:
            imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k])))
            colmax = abs(a[imax, k])
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0:
            if info == 0:
                info = k + 1
            kp = k
        else:
            if absakk >= _BK_ALPHA * colmax:
                kp = k
            else:
                rowmax = np.max(np.abs(a[imax, k:imax])) if imax > k else 0.0
                if imax < n - 1:
                    rowmax = max(rowmax, np.max(np.abs(a[imax + 1:, imax])))
                if absakk >= _BK_ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif abs(a[imax, imax]) >= _BK_ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:  # interchange rows/columns kk and kp of the trailing block only:
                # earlier columns of L stay as they are (LAPACK's P(k) L(k) product form)
                sub = a[k:, k:]
                i, j = kk - k, kp - k
                sub[[i, j], :] = sub[[j, i], :]
                sub[:, [i, j]] = sub[:, [j, i]]
            if kstep == 1:
                if k < n - 1:
                    d11 = 1.0 / a[k, k]
                    x = a[k + 1:, k].copy()
                    a[k + 1:, k + 1:] -= d11 * np.outer(x, x)
                    a[k + 1:, k] = x * d11
                    a[k, k + 1:] = a[k + 1:, k]
            elif k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1.0 / (d11 * d22 - 1.0)
                d21 = t / d21
                ck, ck1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                wk = d21 * (d11 * ck - ck1)
                wkp1 = d21 * (d22 * ck1 - ck)
                a[k + 2:, k + 2:] -= np.outer(ck, wk) + np.outer(ck1, wkp1)
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
                a[k, k + 2:], a[k + 1, k + 2:] = wk, wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return np.tril(a), ipiv, info


def _ldl_fwd(a):
    flat = a.reshape((-1,) + a.shape[-2:])
    res = [_ldl_one(m) for m in flat]
    ld = np.stack([r[0] for r in res]).reshape(a.shape) if res else a.copy()
    piv = np.stack([r[1] for r in res]).reshape(a.shape[:-1]) if res else \
        np.zeros(a.shape[:-1], np.int32)
    info = np.array([r[2] for r in res], np.int32).reshape(a.shape[:-2])
    return ld, piv, info


def _ldl_factor_ex(name, A, hermitian):  # noqa: ARG001 - real matrices only (complex is refused): hermitian and symmetric coincide
    _check_matrix(name, A)
    _check_float(name, A)
    if A.is_complex():
        raise NotImplementedError(f"{name}: complex matrices are not supported in ember")
    if A.requires_grad and GRAD.enabled:
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")
    ld, piv, info = _ldl_fwd(A._data)
    return wrap(ld), wrap(piv), wrap(info)


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out=None):
    """LDL^T factorisation of a symmetric matrix with Bunch-Kaufman pivoting (LAPACK's
    ``sytrf`` layout, lower triangle): ``(LD, pivots, info)``. Not differentiable.

    Args:
        A: ``(*, n, n)`` real symmetric (only the lower triangle is read).
        hermitian: the same for real matrices (complex ones are not supported).
        check_errors: raise when D is singular (``info > 0``).

    Returns:
        A namedtuple ``(LD, pivots, info)``.

    Example::

        >>> LD, piv, info = ember.linalg.ldl_factor_ex(ember.tensor([[4., 2.], [2., 3.]]))
        >>> LD
        tensor([[4.0000, 0.0000],
                [0.5000, 2.0000]])
    """
    LD, piv, info = _ldl_factor_ex("linalg.ldl_factor_ex", A, hermitian)
    if check_errors and (info._data != 0).any():
        raise LinAlgError(f"torch.linalg.ldl_factor_ex: The factorization could not be "
                          f"completed because the input is not invertible (info = "
                          f"{int(info._data.max())}).")
    return _out_tuple(LDLFactorExResult(LD, piv, info), out)


def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None):
    """LDL^T factorisation with Bunch-Kaufman pivoting: ``(LD, pivots)``; raises when D is
    singular (see :func:`ldl_factor_ex`).

    Args:
        A: the input matrix, or a batch of them ``(*, m, n)``.
        hermitian: ``A`` is Hermitian (symmetric when real), which allows a faster
            algorithm.
        out: optional tensor to write the result into.

    Returns:
        A namedtuple ``(LD, pivots)`` for ``ldl_solve``.

    Example::

        >>> ember.linalg.ldl_factor(ember.tensor([[4., 2.], [2., 3.]])).pivots
        tensor([1, 2], dtype=torch.int32)
    """
    LD, piv, info = _ldl_factor_ex("linalg.ldl_factor", A, hermitian)
    if (info._data != 0).any():
        raise LinAlgError(f"torch.linalg.ldl_factor: The factorization could not be completed "
                          f"because the input is not invertible (info = "
                          f"{int(info._data.max())}).")
    return _out_tuple(LDLFactorResult(LD, piv), out)


def _ldl_solve_one(ld, ipiv, b):
    n = ld.shape[0]
    b = b.copy()
    k = 0
    while k < n:  # L D Y = P^T B
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            b[k + 1:] -= np.outer(ld[k + 1:, k], b[k])
            b[k] /= ld[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                b[[k + 1, kp]] = b[[kp, k + 1]]
            b[k + 2:] -= np.outer(ld[k + 2:, k], b[k]) + np.outer(ld[k + 2:, k + 1], b[k + 1])
            akm1k = ld[k + 1, k]
            akm1 = ld[k, k] / akm1k
            ak = ld[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1, bk = b[k] / akm1k, b[k + 1] / akm1k
            b[k], b[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:  # L^T X = Y, then undo the interchanges
        if ipiv[k] > 0:
            b[k] -= ld[k + 1:, k] @ b[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            b[k] -= ld[k + 1:, k] @ b[k + 1:]
            b[k - 1] -= ld[k + 1:, k - 1] @ b[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False,  # noqa: ARG001 - real matrices only (complex is refused): hermitian and symmetric coincide
              out=None) -> Tensor:
    """Solve ``A X = B`` from ``ldl_factor``'s output (batch dims broadcast). Not
    differentiable.

    Args:
        LD: the compact factorisation from ``ldl_factor``.
        pivots: the pivots from ``ldl_factor``.
        B: the right-hand side ``(*, m, k)`` (or ``(*, m)``).
        hermitian: ``A`` is Hermitian (symmetric when real), which allows a faster
            algorithm.
        out: optional tensor to write the result into.

    Returns:
        The solution X ``(*, n, k)``.

    Example::

        >>> LD, piv = ember.linalg.ldl_factor(ember.tensor([[4., 2.], [2., 3.]]))
        >>> ember.linalg.ldl_solve(LD, piv, ember.tensor([[6.], [5.]]))
        tensor([[1.],
                [1.]])
    """
    _check_matrix("linalg.ldl_solve", LD, arg="LD")
    _check_tensor("linalg.ldl_solve", B, "B")
    if B.ndim < 2:
        raise RuntimeError("linalg.ldl_solve: The input tensor B must have at least 2 "
                           "dimensions.")
    _promote_pair("linalg.ldl_solve", LD, B)
    if LD.is_complex():
        raise NotImplementedError("linalg.ldl_solve: complex matrices are not supported in "
                                  "ember")
    if pivots._data.dtype != np.int32:
        raise RuntimeError(f"linalg.ldl_solve: Expected LD and pivots to have int32 pivots, "
                           f"got {pivots.dtype}")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"linalg.ldl_solve: Incompatible shapes of A and B for the "
                           f"equation AX = B ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if (LD.requires_grad or B.requires_grad) and GRAD.enabled:
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")
    bs = np.broadcast_shapes(LD.shape[:-2], B.shape[:-2])
    ld = np.broadcast_to(LD._data, bs + (n, n)).reshape((-1, n, n))
    pv = np.broadcast_to(pivots._data, bs + (n,)).reshape((-1, n))
    b = np.broadcast_to(B._data, bs + tuple(B.shape[-2:])).reshape((-1,) + tuple(B.shape[-2:]))
    x = np.stack([_ldl_solve_one(ld[i], pv[i], b[i]) for i in range(ld.shape[0])]) \
        if ld.shape[0] else b.copy()
    return _out(wrap(x.reshape(bs + tuple(B.shape[-2:]))), out)
