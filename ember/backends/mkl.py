"""``ember.backends.mkl``: whether ember calls Intel MKL itself (it does not).

Example::

    >>> ember.backends.mkl.is_available()
    False
"""

from __future__ import annotations


def is_available() -> bool:
    """Whether ember uses MKL kernels directly: False (NumPy's BLAS may, on its own).

    Returns:
        bool: False.

    Example::

        >>> ember.backends.mkl.is_available()
        False
    """
    return False
