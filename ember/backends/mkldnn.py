"""``ember.backends.mkldnn``: oneDNN's flags (ember runs no oneDNN kernels).

``is_available()`` answers for ember, which uses NumPy's kernels, hence False, so programs
that would convert tensors with ``to_mkldnn()`` keep their plain path. The flags round-trip
with PyTorch's defaults and bool checks.

Example::

    >>> ember.backends.mkldnn.is_available()
    False
"""

from __future__ import annotations

from ember.backends import _flag_module, _FlagsContext

enabled = True
deterministic = False
allow_tf32 = False
fp32_precision = "none"
VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2


def is_available() -> bool:
    """Whether oneDNN kernels are used: False.

    Returns:
        bool: False.

    Example::

        >>> ember.backends.mkldnn.is_available()
        False
    """
    return False


def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):  # noqa: ARG001 - kept for PyTorch's signature; no oneDNN kernels to configure
    """Context manager setting oneDNN's flags for a block, restoring them after.

    Args:
        enabled, deterministic, allow_tf32: bools, as the module attributes.
        fp32_precision: kept for PyTorch's signature (nothing to configure).

    Returns:
        A context manager; the flags it set are restored on exit.

    Example::

        >>> with ember.backends.mkldnn.flags(enabled=False):
        ...     ember.backends.mkldnn.enabled
        False
    """
    import sys

    return _FlagsContext(sys.modules[__name__], {
        "enabled": enabled, "deterministic": deterministic, "allow_tf32": allow_tf32})


_flag_module(__name__, {"enabled": "set_enabled_mkldnn",
                        "deterministic": "set_deterministic_mkldnn",
                        "allow_tf32": "_set_onednn_allow_tf32"})
