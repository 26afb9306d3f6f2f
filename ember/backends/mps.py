"""``ember.backends.mps``: Apple's Metal backend, absent here.

Example::

    >>> ember.backends.mps.is_available(), ember.backends.mps.is_built()
    (False, False)
"""

from __future__ import annotations


def is_available() -> bool:
    """Whether an MPS device can be used: False (ember has no Metal backend).

    Returns:
        bool: False.

    Example::

        >>> ember.backends.mps.is_available()
        False
    """
    return False


def is_built() -> bool:
    """Whether ember was built with MPS support: False.

    Returns:
        bool: False.

    Example::

        >>> ember.backends.mps.is_built()
        False
    """
    return False


def is_macos_or_newer(major: int, minor: int) -> bool:  # noqa: ARG001 - no MPS: False for every version
    """Whether MPS runs on macOS ``major.minor`` or newer: False without MPS.

    Args:
        major, minor: the macOS version asked about.

    Returns:
        bool: False.

    Example::

        >>> ember.backends.mps.is_macos_or_newer(14, 0)
        False
    """
    return False
