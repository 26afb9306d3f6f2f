"""``ember.nn.functional``: gathered from the ``ember/nn/_functional_*.py`` files, each of
which lists its public functions in ``__all__`` (so families can live in separate files)."""

import importlib as _importlib
import pkgutil as _pkgutil

import ember.nn as _nn

__all__ = []
for _info in sorted(_pkgutil.iter_modules(_nn.__path__)):
    if not _info.name.startswith("_functional_"):
        continue
    _mod = _importlib.import_module(f"ember.nn.{_info.name}")
    for _name in getattr(_mod, "__all__", ()):
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
