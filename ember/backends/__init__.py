"""``ember.backends``: PyTorch's backend flag modules, answering for ember's CPU kernels.

Programs set these flags in their first lines (``torch.backends.cudnn.deterministic = True``
in the usual ``seed_everything``, ``torch.backends.cuda.matmul.allow_tf32 = True``). Each
submodule keeps its flags with PyTorch's names, defaults and type checks, and
``is_available()`` answers for ember itself: no cuDNN, MPS, oneDNN or OpenMP kernels run
here, so those report False.

NOTE [ Backend flags and ember's kernels ]
The flags are permissions or kernel choices for libraries ember does not run, and ember
honours every setting trivially: ``deterministic = True`` asks for deterministic kernels and
all of ember's CPU kernels are deterministic (the same inputs give bitwise the same outputs,
``benchmark`` or not); ``allow_tf32``/``set_float32_matmul_precision("high")`` *permit*
reduced internal precision and ember always multiplies float32 at full float32 precision,
which every precision setting allows. The flags still round-trip (reading back what was
set), and ``cuda.matmul.allow_tf32`` and the float32 matmul precision stay tied as in PyTorch.

Example::

    >>> import ember
    >>> ember.backends.cudnn.deterministic = True
    >>> ember.backends.cudnn.deterministic, ember.backends.cudnn.is_available()
    (True, False)
"""

from __future__ import annotations

import importlib
import types

__all__ = ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]

# float32 matmul precision, shared by ember.set_float32_matmul_precision and
# ember.backends.cuda.matmul.allow_tf32 (PyTorch ties the two together).
_MATMUL_PRECISIONS = ("highest", "high", "medium")
_fp32_matmul_precision = ["highest"]


def _check_bool(setter: str, value) -> bool:
    if not isinstance(value, bool):
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
    return value


def _flag_module(name: str, setters: dict) -> None:
    """Give module ``name`` type-checked flag attributes (PyTorch's ``PropModule``).

    ``setters`` maps a flag to the name PyTorch's error message uses; assigning anything but
    a bool raises RuntimeError, other attributes assign freely as on any module.
    """
    import sys

    class FlagModule(types.ModuleType):
        def __setattr__(self, attr, value):
            if attr in setters:
                _check_bool(setters[attr], value)
            super().__setattr__(attr, value)

    FlagModule.__name__ = FlagModule.__qualname__ = name.rsplit(".", 1)[-1] + "_module"
    sys.modules[name].__class__ = FlagModule


class _FlagsContext:
    """``with backends.X.flags(...)``: set the given flags, restore the previous ones."""

    def __init__(self, module, values: dict):
        self.module, self.values, self.prev = module, values, None

    def __enter__(self):
        self.prev = {k: getattr(self.module, k) for k in self.values}
        for k, v in self.values.items():
            setattr(self.module, k, v)
        return self

    def __exit__(self, *exc):
        for k, v in self.prev.items():
            setattr(self.module, k, v)
        return False


def __getattr__(name):
    if name in __all__:
        return importlib.import_module("ember.backends." + name)
    raise AttributeError(f"module 'ember.backends' has no attribute '{name}'")
