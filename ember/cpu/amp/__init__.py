"""``ember.cpu.amp``: PyTorch's deprecated ``torch.cpu.amp`` spellings.

``GradScaler(...)`` is ``ember.amp.GradScaler("cpu", ...)`` and ``autocast(...)`` is
``ember.amp.autocast("cpu", ...)`` (bfloat16 by default), each with PyTorch's FutureWarning.

Example::

    >>> import warnings, ember
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     s = ember.cpu.amp.GradScaler(enabled=False)
    >>> s.is_enabled()
    False
"""

from __future__ import annotations

import warnings

import ember
from ember.amp import autocast as _autocast
from ember.amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["GradScaler", "autocast"]


class GradScaler(_GradScaler):
    """``ember.amp.GradScaler("cpu", ...)`` under its deprecated name (warns).

    Args:
        init_scale, growth_factor, backoff_factor, growth_interval, enabled: as
            :class:`ember.amp.GradScaler`.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     scaler = ember.cpu.amp.GradScaler()
        >>> isinstance(scaler, ember.amp.GradScaler), scaler.get_scale()
        (True, 65536.0)
    """

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


class autocast(_autocast):
    """``ember.amp.autocast("cpu", ...)`` under PyTorch's deprecated name.

    Args:
        enabled: False makes the region a no-op.
        dtype: the reduced dtype (default bfloat16, PyTorch's CPU default).
        cache_enabled: PyTorch's weight-cast cache flag.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     with ember.cpu.amp.autocast():
        ...         y = ember.mm(ember.ones(2, 3), ember.ones(3, 2))
        >>> y.dtype
        torch.bfloat16
    """

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", dtype=ember.bfloat16 if dtype is None else dtype,
                         enabled=enabled, cache_enabled=cache_enabled)
