"""``ember.backends.openmp``: whether OpenMP kernels are used (not by ember's NumPy kernels).

Example::

    >>> ember.backends.openmp.is_available()
    False
"""

from __future__ import annotations


def is_available() -> bool:
    """Whether ember runs OpenMP-parallel kernels: False (NumPy's BLAS threads its own way).

    Returns:
        bool: False.

    Example::

        >>> ember.backends.openmp.is_available()
        False
    """
    return False
