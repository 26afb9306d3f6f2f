"""Top-level names for ``ember.linalg``'s LU and Cholesky-solve functions (``ember.lu``,
``ember.lu_solve``, ``ember.lu_unpack``, ``ember.cholesky_solve``, ``ember.cholesky_inverse``
and their Tensor methods), as ``_ops/linalg_ops.py`` does for the older ones."""

from __future__ import annotations

from ember._ops.core import LazyModule, forward_to, register

_la = LazyModule("ember.linalg")  # a library module (layer 3): loaded on first use


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


def lu_solve(input, LU_data, LU_pivots, *, out=None):
    """``torch.lu_solve(b, LU_data, LU_pivots)``: ``linalg.lu_solve`` with the right-hand
    side first (deprecated in PyTorch).

    Example::

        >>> LU, piv = ember.linalg.lu_factor(ember.tensor([[2., 0.], [0., 4.]]))
        >>> ember.lu_solve(ember.tensor([[2.], [4.]]), LU, piv)
        tensor([[1.],
                [1.]])
    """
    return _la.lu_solve(LU_data, LU_pivots, input, out=out)


register(lu)
register(lu_solve)
for _attr, _name in (("_lu_unpack", "lu_unpack"), ("_cholesky_solve", "cholesky_solve"),
                     ("_cholesky_inverse", "cholesky_inverse")):
    register(forward_to(_la, _attr, _name), name=_name, method=_name != "lu_unpack")
