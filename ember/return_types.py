"""Named-tuple result types of the ops that return two tensors, as ``torch.return_types``.

``ember.max(x, 1)`` returns ``ember.return_types.max(values=..., indices=...)``: a named tuple
whose type is named after the op (``type(r).__name__ == "max"``), printed as PyTorch prints
it (``torch.return_types.max(`` then one field per line, as ``ember.Size`` prints
``torch.Size``), so logging and doctest output read the same under either framework.

Example:
    >>> r = ember.tensor([[1.0, 3.0], [4.0, 2.0]]).max(1)
    >>> r
    torch.return_types.max(
    values=tensor([3., 4.]),
    indices=tensor([1, 0]))
    >>> type(r).__name__, r.values.tolist(), r.indices.tolist()
    ('max', [3.0, 4.0], [1, 0])
"""

from __future__ import annotations

import collections

__all__ = ["max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode",
           "cummax", "cummin", "aminmax"]

_TYPES: dict = {}


def _repr(self):
    fields = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
    return f"torch.return_types.{type(self).__name__}(\n{fields})"


def _make(name, fields):
    t = collections.namedtuple(name, fields)
    t.__module__ = __name__
    t.__qualname__ = name
    t.__repr__ = _repr
    args = "".join(f"\n    {f}: the ``{f}`` tensor." for f in fields)
    a, b = fields
    t.__doc__ = f"""The result of ``{name}``: a named tuple ({', '.join(fields)}).

Its type is named after the op and it prints as PyTorch's ``torch.return_types.{name}``;
it unpacks and indexes like a tuple.

Args:{args}

Example:
    >>> r = ember.return_types.{name}(ember.tensor([3.0]), ember.tensor([1]))
    >>> r.{a}, r[1]
    (tensor([3.]), tensor([1]))
"""
    _TYPES[name] = t
    return t


def values_indices(values, indices, name):
    """``name``'s (values, indices) result, in its own named type."""
    return _TYPES[name](values, indices)


max = _make("max", ["values", "indices"])
min = _make("min", ["values", "indices"])
sort = _make("sort", ["values", "indices"])
topk = _make("topk", ["values", "indices"])
kthvalue = _make("kthvalue", ["values", "indices"])
median = _make("median", ["values", "indices"])
nanmedian = _make("nanmedian", ["values", "indices"])
mode = _make("mode", ["values", "indices"])
cummax = _make("cummax", ["values", "indices"])
cummin = _make("cummin", ["values", "indices"])
aminmax = _make("aminmax", ["min", "max"])
