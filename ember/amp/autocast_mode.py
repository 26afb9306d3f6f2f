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

__all__ = ["autocast", "is_autocast_available"]


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
