"""``ember.backends.cudnn``: cuDNN's flags (cuDNN is not used: ``is_available()`` is False).

On ``cuda`` tensors convolutions run as im2col + cuBLAS matrix products (the cuDNN
Frontend path of issue 15 is not built); ``allow_tf32`` picks their float32 compute type
(TF32 when True, PyTorch's default), as it picks cuDNN's in PyTorch.

The flags keep PyTorch's defaults and bool type checks; ``deterministic = True`` is honoured
because ember's kernels are all deterministic (NOTE [ Backend flags and ember's kernels ] in
``ember/backends/__init__.py``).

Example::

    >>> import ember.backends.cudnn as cudnn
    >>> cudnn.benchmark = False
    >>> cudnn.deterministic = True
    >>> cudnn.is_available()
    False
"""

from __future__ import annotations

from ember.backends import _flag_module, _FlagsContext

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True
fp32_precision = "none"


def is_available() -> bool:
    """Whether cuDNN can be used: False (ember runs no cuDNN kernels).

    Returns:
        bool: False.

    Example::

        >>> ember.backends.cudnn.is_available()
        False
    """
    return False


def version():
    """The cuDNN version, or None when cuDNN is absent (here).

    Returns:
        None.

    Example::

        >>> ember.backends.cudnn.version() is None
        True
    """
    return None


def is_acceptable(tensor) -> bool:  # noqa: ARG001 - no cuDNN: False for every tensor
    """Whether cuDNN would accept ``tensor``: False (no cuDNN).

    Args:
        tensor: any tensor.

    Returns:
        bool: False.

    Example::

        >>> ember.backends.cudnn.is_acceptable(ember.zeros(1))
        False
    """
    return False


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):  # noqa: ARG001 - kept for PyTorch's signature; no cuDNN kernels to configure
    """Context manager setting cuDNN's flags for a block, restoring them after.

    Args:
        enabled, benchmark, deterministic, allow_tf32: bools, as the module attributes.
        benchmark_limit, fp32_precision, depthwise_kernel: kept for PyTorch's signature;
            ``benchmark_limit`` is stored, the others have no cuDNN to configure.

    Returns:
        A context manager; the flags it set are restored on exit.

    Example::

        >>> with ember.backends.cudnn.flags(enabled=True, deterministic=True):
        ...     ember.backends.cudnn.deterministic
        True
    """
    import sys

    return _FlagsContext(sys.modules[__name__], {
        "enabled": enabled, "benchmark": benchmark, "benchmark_limit": benchmark_limit,
        "deterministic": deterministic, "allow_tf32": allow_tf32})


_flag_module(__name__, {"enabled": "set_enabled_cudnn", "benchmark": "set_benchmark_cudnn",
                        "deterministic": "set_deterministic_cudnn",
                        "allow_tf32": "set_allow_tf32_cudnn"})
