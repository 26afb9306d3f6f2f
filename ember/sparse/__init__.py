"""``ember.sparse`` (``torch.sparse``): products, sums and softmax over sparse COO tensors.

The tensors themselves and their records live in ``ember/_sparse.py`` (NOTE [ Sparse COO
tensors ]); this module is the public namespace over them. Only the COO layout exists:
CSR/BSR, semi-structured sparsity and ``spsolve`` are not built.
"""

from __future__ import annotations

from ember._ops.core import apply
from ember._sparse import (_LOG_SOFTMAX, _SOFTMAX, _SPARSE_MM, _SPARSE_SUM, _is_sparse,
                           sparse_coo_tensor)
from ember._tensor import Tensor, _wrap_dim

__all__ = ["addmm", "check_sparse_tensor_invariants", "log_softmax", "mm", "softmax", "sum",
           "sparse_coo_tensor"]


def _need_sparse(name, t, arg="input"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(t).__name__}")
    if not _is_sparse(t):
        raise RuntimeError(f"{name}(): expected a sparse COO tensor for '{arg}', got a strided "
                           "one")


def mm(mat1, mat2, reduce="sum"):
    """Sparse x dense matrix product whose gradient for the sparse operand is sparse.

    ``mat1`` is a 2-d sparse COO matrix with two sparse dimensions, ``mat2`` a dense matrix
    (or vector). The gradient reaching ``mat1`` has ``mat1``'s coalesced pattern (PyTorch's
    semantics; ``ember.mm`` with a sparse operand gives it a dense gradient instead).

    Args:
        mat1: sparse ``(n, m)`` matrix.
        mat2: dense ``(m, p)`` matrix.
        reduce: only ``"sum"``.

    Returns:
        The dense ``(n, p)`` product.

    Example::

        >>> a = ember.eye(2).to_sparse().requires_grad_()
        >>> ember.sparse.mm(a, ember.ones(2, 3)).sum().backward()
        >>> a.grad.is_sparse
        True
    """
    if reduce != "sum":
        raise NotImplementedError(f"sparse.mm(): reduce={reduce!r} (only 'sum')")
    _need_sparse("sparse.mm", mat1, "mat1")
    if not isinstance(mat2, Tensor) or _is_sparse(mat2):
        raise NotImplementedError("sparse.mm(): mat2 must be a dense tensor in ember")
    if mat1._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"sparse.mm: expected mat1 and mat2 to have the same dtype, but got "
                           f"{mat1.dtype} and {mat2.dtype}")
    return apply(_SPARSE_MM, (mat1, mat2))


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` with sparse ``mat1`` (gradient sparse, as in
    ``mm``).

    Args:
        mat: dense matrix added (broadcast to the product's shape).
        mat1: sparse ``(n, m)`` matrix.
        mat2: dense ``(m, p)`` matrix.
        beta: factor of ``mat``.
        alpha: factor of the product.

    Returns:
        The dense ``(n, p)`` result.

    Example::

        >>> s = ember.eye(2).to_sparse()
        >>> ember.sparse.addmm(ember.ones(2, 2), s, ember.ones(2, 2), beta=0.5)
        tensor([[1.5000, 1.5000],
                [1.5000, 1.5000]])
    """
    p = mm(mat1, mat2)
    if alpha != 1:
        p = p * alpha
    if beta == 0:
        return p
    return p + (mat if beta == 1 else mat * beta)


def sum(input, dim=None, dtype=None):  # noqa: A001 - torch.sparse.sum
    """Sum a sparse tensor over ``dim`` (all dimensions by default).

    Summing every sparse dimension gives a dense tensor; otherwise the result is sparse over
    the kept sparse dimensions. The gradient is sparse with the input's coalesced pattern.

    Args:
        input: a sparse COO tensor.
        dim: a dimension or a list of them (None: all).
        dtype: accumulate and return in this dtype.

    Returns:
        A dense or sparse tensor.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        >>> ember.sparse.sum(s)
        tensor(12.)
        >>> ember.sparse.sum(s, 1).to_dense()
        tensor([3., 9.])
    """
    from ember import _dtype as D

    _need_sparse("sparse.sum", input)
    nd = input._data.ndim
    if dim is None:
        dims = tuple(range(nd))
    else:
        dims = tuple(sorted({_wrap_dim(d, nd, "sparse.sum")
                             for d in ((dim,) if isinstance(dim, int) else dim)}))
    npdt = None if dtype is None else D.to_dtype(dtype).np
    if npdt is None and input._data.dtype.kind in "biu":
        npdt = D.int64.np  # integers accumulate in int64, as torch.sum
    return apply(_SPARSE_SUM, (input,), (dims, npdt))


def _softmax(name, op, input, dim, dtype):
    from ember import _dtype as D

    _need_sparse(name, input)
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    if not input.is_floating_point():
        raise RuntimeError(f"{name}: expected a floating point tensor, got {input.dtype}")
    return apply(op, (input,), (_wrap_dim(dim, input._data.ndim, name),))


def softmax(input, dim, *, dtype=None):
    """Softmax along ``dim`` over the specified entries only (unspecified entries count as
    ``-inf``, so they stay unspecified).

    Args:
        input: a sparse COO tensor.
        dim: the dimension to normalise over.
        dtype: convert the input to this dtype first.

    Returns:
        A coalesced sparse tensor with the input's pattern.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 0], [0, 2]], [1.0, 1.0], (1, 3))
        >>> ember.sparse.softmax(s, 1).to_dense()
        tensor([[0.5000, 0.0000, 0.5000]])
    """
    return _softmax("sparse.softmax", _SOFTMAX, input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax along ``dim`` over the specified entries only (see ``softmax``).

    Args:
        input: a sparse COO tensor.
        dim: the dimension to normalise over.
        dtype: convert the input to this dtype first.

    Returns:
        A coalesced sparse tensor with the input's pattern.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 0], [0, 2]], [1.0, 1.0], (1, 3))
        >>> ember.sparse.log_softmax(s, 1).values()
        tensor([-0.6931, -0.6931])
    """
    return _softmax("sparse.log_softmax", _LOG_SOFTMAX, input, dim, dtype)


class check_sparse_tensor_invariants:  # noqa: N801 - PyTorch's name
    """PyTorch's switch for index checks on sparse construction. ember always checks that
    indices are non-negative and within ``size`` (cheap on NumPy), so the switch only keeps
    PyTorch's API: ``enable``/``disable``/``is_enabled`` and the context manager.

    Args:
        enable: the state inside the ``with`` block (default True).

    Example::

        >>> with ember.sparse.check_sparse_tensor_invariants():
        ...     s = ember.sparse_coo_tensor([[0]], [1.0], (2,))
    """

    _enabled = False

    def __init__(self, enable=True):
        self.state = enable
        self.saved = None

    @staticmethod
    def is_enabled():
        """Whether checks were requested (ember checks regardless)."""
        return check_sparse_tensor_invariants._enabled

    @staticmethod
    def enable():
        """Request checks (ember checks regardless)."""
        check_sparse_tensor_invariants._enabled = True

    @staticmethod
    def disable():
        """Withdraw the request (ember still checks indices against the size)."""
        check_sparse_tensor_invariants._enabled = False

    def __enter__(self):
        self.saved = check_sparse_tensor_invariants._enabled
        check_sparse_tensor_invariants._enabled = self.state
        return self

    def __exit__(self, *exc):
        check_sparse_tensor_invariants._enabled = self.saved
        return False
