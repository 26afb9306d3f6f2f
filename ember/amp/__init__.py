"""``ember.amp``: loss scaling (:class:`GradScaler`) and the ``autocast`` switch.

``GradScaler`` has PyTorch's full logic (NOTE [ Loss scaling ] in ``grad_scaler.py``).
``autocast("cpu", dtype=ember.bfloat16)`` runs PyTorch's CPU op lists in mixed precision
(NOTE [ Autocast on records and wrappers ] in ``autocast_mode.py``).

Example::

    >>> import ember
    >>> scaler = ember.amp.GradScaler("cpu", enabled=False)
    >>> scaler.scale(ember.tensor(3.0)).item()
    3.0
"""

from ember.amp.autocast_mode import (autocast, custom_bwd, custom_fwd, get_autocast_dtype,
                                     is_autocast_available, is_autocast_enabled)
from ember.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "get_autocast_dtype",
           "is_autocast_available", "is_autocast_enabled"]
