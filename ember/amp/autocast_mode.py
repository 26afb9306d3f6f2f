"""``autocast`` placeholder: only ``enabled=False`` works until mixed precision lands.

Automatic mixed precision (running chosen ops in bfloat16/float16) belongs on ember's
dispatch path and is not written yet. Scripts that build ``autocast(..., enabled=False)``
(the usual "AMP off" switch) run unchanged; ``enabled=True`` raises NotImplementedError
rather than silently computing in float32.

Example::

    >>> import ember
    >>> with ember.amp.autocast("cpu", enabled=False):
    ...     y = ember.ones(2) * 2
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast works for ``device_type``: False everywhere until it is written.

    Args:
        device_type: "cpu", "cuda", ...

    Example::

        >>> ember.amp.is_autocast_available("cpu")
        False
    """
    return False


class autocast:
    """Mixed-precision context manager/decorator; only ``enabled=False`` is supported.

    Args:
        device_type: "cpu" or "cuda" (as PyTorch).
        dtype: the reduced dtype (recorded; unused while disabled).
        enabled: must be False (True raises NotImplementedError: not implemented yet).
        cache_enabled: PyTorch's weight-cast cache flag (no effect while disabled).

    Example::

        >>> @ember.amp.autocast("cpu", enabled=False)
        ... def f(x):
        ...     return x + 1
        >>> f(ember.zeros(1)).tolist()
        [1.0]
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError("Expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        if enabled and device_type == "cuda":
            from ember import cuda

            if not cuda.is_available():  # PyTorch disables itself the same way
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", UserWarning, stacklevel=2)
                enabled = False
        if enabled:
            raise NotImplementedError(
                f"autocast(device_type={device_type!r}, enabled=True): automatic mixed "
                "precision is not implemented in ember yet; pass enabled=False (the model "
                "then runs in its own dtype) or cast the model with .to(ember.bfloat16)")
        self.device, self.fast_dtype, self._enabled = device_type, dtype, False
        self._cache_enabled = cache_enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return wrapper


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a custom Function's ``forward`` for use under autocast (PyTorch's API).

    Under an enabled autocast PyTorch would cast floating inputs to ``cast_inputs`` and run
    ``forward`` with autocast off; autocast cannot be enabled in ember yet, so ``forward``
    runs unchanged, which is exactly PyTorch's behaviour outside autocast.

    Args:
        fwd: the forward to wrap (omit to use as ``@custom_fwd(device_type=...)``).
        device_type: "cpu" or "cuda" (required, as PyTorch).
        cast_inputs: dtype for floating inputs inside an enabled autocast region.

    Example::

        >>> class Double(ember.autograd.Function):
        ...     @staticmethod
        ...     @ember.amp.custom_fwd(device_type="cpu")
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     @ember.amp.custom_bwd(device_type="cpu")
        ...     def backward(ctx, g):
        ...         return g * 2
        >>> Double.apply(ember.ones(1)).tolist()
        [2.0]
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom Function's ``backward`` to run with the forward's autocast state.

    Args:
        bwd: the backward to wrap (omit to use as ``@custom_bwd(device_type=...)``).
        device_type: "cpu" or "cuda" (required, as PyTorch).

    Example::

        >>> f = ember.amp.custom_bwd(lambda ctx, g: g, device_type="cpu")
        >>> f(None, 3)
        3
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        return bwd(*args, **kwargs)

    return decorate_bwd
