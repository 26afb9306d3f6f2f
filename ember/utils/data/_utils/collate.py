"""``default_collate`` / ``default_convert``: turn lists of samples into batched tensors.

Rules (PyTorch's): tensors are stacked; NumPy arrays and NumPy scalars become tensors and
are stacked; Python floats become a float64 tensor, ints an int64 tensor, bools a bool
tensor; strings and bytes stay a list; mappings, namedtuples and sequences are collated
field by field (tuples come back as lists). In a DataLoader worker, large stacked tensors
are written straight into shared memory, so sending them to the main process copies
nothing.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any, Callable

import numpy as np

from ember._tensor import Tensor
from ember.utils.data._utils import worker as _worker

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map",
           "collate_tensor_fn"]

_STRING_DTYPE = re.compile(r"[SaUO]")
_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")

# Tensors at least this big are stacked into shared memory in workers; smaller ones travel
# inline (an fd plus a mapping costs more than copying a few KiB).
SHARED_MIN_BYTES = 16 * 1024


def _ember():
    import ember

    return ember


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays/scalars in ``data`` (recursively) to tensors, without batching.

    Args:
        data: a sample: tensors pass through, containers are walked, tuples become lists.

    Returns:
        ``data`` with arrays turned into tensors.

    Example::

        >>> default_convert({"x": np.zeros(2)})["x"]
        tensor([0., 0.], dtype=torch.float64)
    """
    t = type(data)
    if isinstance(data, Tensor):
        return data
    if t.__module__ == "numpy" and t.__name__ not in ("str_", "string_", "bytes_"):
        if t.__name__ == "ndarray" and _STRING_DTYPE.search(data.dtype.str) is not None:
            return data
        return _ember().as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return t({k: default_convert(data[k]) for k in data})
        except TypeError:
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return t([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate_tensor_fn(batch, *, collate_fn_map=None):  # noqa: ARG001 - collate_fn_map protocol (PyTorch's signature)
    """Stack tensors along a new first dimension (into shared memory inside a worker)."""
    if any(t._requires_grad for t in batch):
        return _ember().stack(batch, 0)  # keeps the autograd graph
    arrays = [t._data for t in batch]
    a0 = arrays[0]
    if not all(a.dtype == a0.dtype for a in arrays):
        return _ember().stack(batch, 0)  # PyTorch's type promotion
    for i, a in enumerate(arrays):
        if a.shape != a0.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(a0.shape)} at entry 0 and {list(a.shape)} at entry {i}")
    shape = (len(arrays),) + a0.shape
    if _worker._worker_info is not None and a0.nbytes * len(arrays) >= SHARED_MIN_BYTES:
        from ember.multiprocessing import _shm

        out = _shm.empty(shape, a0.dtype)
    else:
        out = np.empty(shape, a0.dtype)
    # Straight NumPy: no autograd to record, and no per-tensor unsqueeze as stack would do.
    np.stack(arrays, out=out)
    return Tensor._wrap(out)


def _collate_numpy_array(batch, *, collate_fn_map=None):
    elem = batch[0]
    if _STRING_DTYPE.search(elem.dtype.str) is not None:
        raise TypeError(_ERR.format(elem.dtype))
    as_tensor = _ember().as_tensor
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalar(batch, *, collate_fn_map=None):  # noqa: ARG001 - collate_fn_map protocol (PyTorch's signature)
    return _ember().as_tensor(np.array(batch))


def _collate_float(batch, *, collate_fn_map=None):  # noqa: ARG001 - collate_fn_map protocol (PyTorch's signature)
    e = _ember()
    return e.tensor(batch, dtype=e.float64)


def _collate_int(batch, *, collate_fn_map=None):  # noqa: ARG001 - collate_fn_map protocol (PyTorch's signature)
    return _ember().tensor(batch)


def _collate_str(batch, *, collate_fn_map=None):  # noqa: ARG001 - collate_fn_map protocol (PyTorch's signature)
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: _collate_numpy_array,
    (np.bool_, np.number, np.object_): _collate_numpy_scalar,
    float: _collate_float,
    int: _collate_int,
    str: _collate_str,
    bytes: _collate_str,
}


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` with per-type functions from ``collate_fn_map``, recursing into
    mappings, namedtuples and sequences.

    Args:
        batch: a list of samples.
        collate_fn_map: ``{type or tuple of types: fn(batch, *, collate_fn_map)}``, looked
            up by exact type first, then by ``isinstance`` in insertion order.

    Example::

        >>> my_map = {**default_collate_fn_map, MyType: collate_mytype}
        >>> collate(samples, collate_fn_map=my_map)
    """
    elem = batch[0]
    t = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(t)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for key, fn in collate_fn_map.items():
            if isinstance(elem, key):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                              for k in elem})
                return clone
            return t({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                      for k in elem})
        except TypeError:
            return {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                    for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return t(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        size = len(next(it))
        if not all(len(e) == size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(c, collate_fn_map=collate_fn_map) for c in columns]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, c in enumerate(columns):
                    clone[i] = collate(c, collate_fn_map=collate_fn_map)
                return clone
            return t([collate(c, collate_fn_map=collate_fn_map) for c in columns])
        except TypeError:
            return [collate(c, collate_fn_map=collate_fn_map) for c in columns]
    raise TypeError(_ERR.format(t))


def default_collate(batch: list) -> Any:
    """Collate a list of samples into a batch (PyTorch's rules, see the module docstring).

    Args:
        batch: a non-empty list of samples of the same structure.

    Returns:
        The batch: stacked tensors, or containers of them.

    Example::

        >>> default_collate([(ember.zeros(2), 1), (ember.ones(2), 0)])
        [tensor([[0., 0.],
                [1., 1.]]), tensor([1, 0])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
