"""The op table. Importing this package defines every op and attaches the generated methods
and operators to Tensor (see NOTE [ The op pattern ] in core.py)."""

from ember._ops import blas, creation, elementwise, index, reduce, shape  # noqa: F401
from ember._ops import conv  # noqa: F401
from ember._ops import pool  # noqa: F401
from ember._ops import complex, elementwise_math, matrices, scatter, sort  # noqa: F401
from ember._ops import linalg_ops  # noqa: F401
from ember._ops import composite, special_kernels  # noqa: F401
from ember._ops import signal  # noqa: F401
from ember._ops import linalg_factor  # noqa: F401
from ember._ops import foreach  # noqa: F401
from ember._ops.core import FUNCTIONS, METHODS, OPS  # noqa: F401
from ember._ops.args import REFUSE, checked
from ember._tensor import Tensor

E = elementwise._binary_defs


def _check_wrappers():
    # NOTE [ Argument checks by parameter name ] (args.py): wrappers published without
    # @register get their fronts here; the unary/binary families parse their own operands.
    fronts = {id(f.__wrapped__): f for t in (FUNCTIONS, METHODS) for f in t.values()
              if getattr(f, "__ember_checked__", False)}  # aliases of registered wrappers
    for table in (FUNCTIONS, METHODS, FUNCTIONS, METHODS):  # twice: aliases of fronts
        for name, fn in list(table.items()):
            if id(fn) in fronts:
                table[name] = fronts[id(fn)]
                continue
            code = getattr(fn, "__code__", None)
            family = hasattr(fn, "core") or (code is not None and code.co_name == "fn"
                                             and hasattr(fn, "op"))
            if name.startswith("_") or name.endswith("_") or (
                    family and name not in REFUSE):  # family ops check their own operands
                continue
            if id(fn) not in fronts:
                fronts[id(fn)] = checked(fn, name)
            table[name] = fronts[id(fn)]


def _attach():
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    # Python operators go straight to each op's core, skipping the keyword-argument layer.
    for dunder, op in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"),
                       ("floordiv", "floor_divide"), ("mod", "remainder"), ("pow", "pow"),
                       ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor")):
        d = E[op]
        setattr(Tensor, f"__{dunder}__", d.core)
        setattr(Tensor, f"__r{dunder}__", d.rcore)
        setattr(Tensor, f"__i{dunder}__", d.inplace)
    for dunder in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(Tensor, f"__{dunder}__", E[dunder].core)
    Tensor.__div__ = Tensor.__truediv__
    Tensor.__neg__ = elementwise.neg
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = elementwise.abs
    Tensor.__invert__ = _invert


def _invert(self):
    if self._data.dtype.kind == "b":
        return elementwise.logical_not(self)
    return elementwise.bitwise_not(self)


_check_wrappers()
_attach()

from ember._ops import rules  # noqa: E402,F401  (last: it annotates every record above)
