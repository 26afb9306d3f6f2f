"""``torch.cuda.amp`` (deprecated in PyTorch for ``torch.amp``): ``GradScaler`` and
``autocast`` bound to the ``cuda`` device type. With a CUDA device they run float16 mixed
precision (NOTE [ Autocast on cuda ], NOTE [ Loss scaling on the GPU ]); without one both
disable themselves with PyTorch's warnings, so CUDA training scripts run their CPU path
unchanged.
"""

from __future__ import annotations

import warnings

from ember.amp import GradScaler as _GradScaler
from ember.amp import autocast as _autocast

__all__ = ["GradScaler", "autocast"]


class GradScaler(_GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: ``ember.amp.GradScaler("cuda", ...)`` (warns that
    the name is deprecated, as PyTorch does).

    Without a CUDA device the scaler disables itself with PyTorch's warning, and its
    ``scale``/``step``/``update`` pass through unchanged, so a CUDA training loop runs as is.

    Args:
        init_scale: the first loss scale (default ``2**16``).
        growth_factor: the scale's factor after ``growth_interval`` steps without inf/nan.
        backoff_factor: the scale's factor after a step with inf/nan gradients.
        growth_interval: steps without inf/nan between growths.
        enabled: False makes every method a pass-through.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     scaler = ember.cuda.amp.GradScaler()
        >>> scaler.is_enabled() == ember.cuda.is_available()
        True
    """

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


class autocast(_autocast):
    """``torch.cuda.amp.autocast(...)``: ``ember.amp.autocast("cuda", ...)`` (warns that the
    name is deprecated, as PyTorch does).

    It changes the dtype of ops on cuda tensors only; without a CUDA device it disables
    itself with PyTorch's warning.

    Args:
        enabled: False makes the region a no-op.
        dtype: the reduced dtype (default float16).
        cache_enabled: PyTorch's weight-cast cache flag.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     with ember.cuda.amp.autocast():
        ...         y = ember.ones(2, 3) @ ember.ones(3, 2)    # CPU tensors: unaffected
        >>> y.dtype
        torch.float32
    """

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
