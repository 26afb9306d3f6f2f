"""ember.nn: modules, functional, init, parameters (PyTorch's torch.nn)."""

from ember.nn import functional, init  # noqa: F401
from ember.nn.modules import *  # noqa: F401,F403
from ember.nn.modules import __all__ as _modules_all
from ember.nn.parameter import (Buffer, Parameter, UninitializedBuffer,  # noqa: F401
                                 UninitializedParameter)
from ember.nn import parallel  # noqa: F401,E402  (after modules: parallel builds on Module)
from ember.nn.parallel import DataParallel  # noqa: F401

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "functional",
           "init", "parallel", "DataParallel",
           *_modules_all]

# Docstring sections kept in a table (NOTE [ Docstring tables ], ember/_docs).
from ember import _docs as _docs_tables  # noqa: E402

_docs_tables.attach(__name__, globals())
