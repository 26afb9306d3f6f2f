"""ember.vision: models, transforms and datasets laid out like torchvision.

Subpackages load on first use, so ``import ember.vision`` stays cheap::

    >>> from ember.vision import transforms
    >>> transforms.Normalize((0.5,), (0.5,))
    Normalize(mean=(0.5,), std=(0.5,))
"""

from __future__ import annotations

import importlib

__all__ = ["datasets", "models", "transforms", "utils"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module("ember.vision." + name)
    raise AttributeError(f"module 'ember.vision' has no attribute '{name}'")
