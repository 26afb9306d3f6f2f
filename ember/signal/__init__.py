"""``ember.signal``: signal-processing helpers (``ember.signal.windows``), as
``torch.signal``."""

from ember.signal import windows  # noqa: F401

__all__ = ["windows"]
