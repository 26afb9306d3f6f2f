"""Top-level aliases of ``ember.linalg`` functions (``ember.det``, ``Tensor.inverse``, ...).

``ember.linalg`` is a library module (layer 3); this file only publishes PyTorch's
top-level names and Tensor methods for it, so ``_ops/__init__`` needs one import line.
"""

from __future__ import annotations

from ember._ops.core import LazyModule, forward_to, register
from ember._ops.outarg import with_out

_la = LazyModule("ember.linalg")  # a library module (layer 3): loaded on first use


@with_out("svd")
def svd(input, some: bool = True, compute_uv: bool = True, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """``torch.svd``: returns ``(U, S, V)`` (V, not Vh); ``some=True`` gives reduced factors.

    With ``compute_uv=False`` U and V are zero-filled (PyTorch's behaviour).

    Example::

        >>> U, S, V = ember.svd(ember.eye(2))
    """
    if not compute_uv:
        import numpy as np

        from ember._ops.core import wrap

        S = _la.svdvals(input)
        m, n = input.shape[-2:]
        k = min(m, n)
        bs = tuple(input.shape[:-2])
        dt = input._data.dtype
        U = wrap(np.zeros(bs + ((m, k) if some else (m, m)), dt))
        V = wrap(np.zeros(bs + ((n, k) if some else (n, n)), dt))
        return _la.TorchSVDResult(U, S, V)
    U, S, Vh = _la.svd(input, full_matrices=not some)
    return _la.TorchSVDResult(U, S, _la._mH(Vh))


@with_out("qr")
def qr(input, some: bool = True, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """``torch.qr``: ``some=True`` is mode 'reduced', False is 'complete'."""
    return _la.qr(input, "reduced" if some else "complete")


@with_out("cholesky")
def cholesky(input, upper: bool = False, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """``torch.cholesky`` (deprecated in PyTorch in favour of ``linalg.cholesky``)."""
    return _la.cholesky(input, upper=upper)


def matrix_power(input, n: int):
    """``torch.matrix_power``: alias of ``linalg.matrix_power``."""
    return _la.matrix_power(input, n)


def pinverse(input, rcond: float = 1e-15):
    """``torch.pinverse``: ``linalg.pinv`` with a relative cutoff ``rcond``."""
    return _la.pinv(input, rtol=rcond)


def slogdet(input):
    """``torch.slogdet``: alias of ``linalg.slogdet``."""
    return _la.slogdet(input)


for _fn, _name in ((forward_to(_la, "det", "det"), "det"),
                   (forward_to(_la, "inv", "inverse"), "inverse"),
                   (forward_to(_la, "logdet", "logdet"), "logdet"),
                   (slogdet, "slogdet"), (cholesky, "cholesky"), (qr, "qr"), (svd, "svd"),
                   (pinverse, "pinverse"), (matrix_power, "matrix_power"),
                   (forward_to(_la, "_cross_top", "cross"), "cross"),
                   (forward_to(_la, "matrix_exp", "matrix_exp"), "matrix_exp")):
    register(_fn, name=_name)


def chain_matmul(*matrices):
    """``torch.chain_matmul``: the product of the matrices (cheapest order)."""
    return _la.multi_dot(matrices)


register(chain_matmul, method=False)
