"""``ember.nn.functional``: gathered from the ``ember/nn/_functional_*.py`` files, each of
which lists its public functions in ``__all__`` (so families can live in separate files)."""

import importlib as _importlib
import inspect as _inspect
import pkgutil as _pkgutil

import ember.nn as _nn
from ember._ops.args import checked as _checked

__all__ = []
for _info in sorted(_pkgutil.iter_modules(_nn.__path__)):
    if not _info.name.startswith("_functional_"):
        continue
    _mod = _importlib.import_module(f"ember.nn.{_info.name}")
    for _name in getattr(_mod, "__all__", ()):
        _f = getattr(_mod, _name)
        # NOTE [ Argument checks by parameter name ] (ember/_ops/args.py)
        globals()[_name] = _checked(_f, _name) if _inspect.isfunction(_f) else _f
        __all__.append(_name)

# Docstrings of the functions above live in a table (NOTE [ Docstring tables ], ember/_docs).
from ember import _docs as _docs_tables  # noqa: E402

_docs_tables.attach(__name__, globals())
