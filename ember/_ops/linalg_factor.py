"""Top-level names for ``ember.linalg``'s LU and Cholesky-solve functions (``ember.lu``,
``ember.lu_solve``, ``ember.lu_unpack``, ``ember.cholesky_solve``, ``ember.cholesky_inverse``
and their Tensor methods), as ``_ops/linalg_ops.py`` does for the older ones."""

from __future__ import annotations

from ember import linalg as _la
from ember._ops.core import register


def lu(A, pivot: bool = True, get_infos: bool = False, out=None):
    """``torch.lu`` (deprecated in PyTorch for ``linalg.lu_factor``): ``(LU, pivots)``, plus
    ``infos`` with ``get_infos=True`` (then singular matrices do not raise).

    Example::

        >>> LU, piv = ember.lu(ember.tensor([[1., 2.], [3., 4.]]))
        >>> piv
        tensor([2, 2], dtype=torch.int32)
    """
    if get_infos:
        return _la._out_tuple(tuple(_la.lu_factor_ex(A, pivot=pivot)), out)
    return _la._out_tuple(tuple(_la.lu_factor_ex(A, pivot=pivot)[:2]), out)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """``torch.lu_solve(b, LU_data, LU_pivots)``: ``linalg.lu_solve`` with the right-hand
    side first (deprecated in PyTorch).

    Example::

        >>> LU, piv = ember.linalg.lu_factor(ember.tensor([[2., 0.], [0., 4.]]))
        >>> ember.lu_solve(ember.tensor([[2.], [4.]]), LU, piv)
        tensor([[1.],
                [1.]])
    """
    return _la.lu_solve(LU_data, LU_pivots, b, out=out)


register(lu)
register(lu_solve)
for _f, _name in ((_la._lu_unpack, "lu_unpack"), (_la._cholesky_solve, "cholesky_solve"),
                  (_la._cholesky_inverse, "cholesky_inverse")):
    _f.__name__ = _f.__qualname__ = _name  # top-level in PyTorch: named as published
    register(_f, name=_name, method=_name != "lu_unpack")
