"""Save and load flat dicts of tensors in the safetensors format.

safetensors files hold only tensors (and a string-to-string metadata dict): an 8-byte header
length, a JSON header of names, dtypes, shapes and byte ranges, then the raw data. Loading
one cannot run code. This module is a thin layer over the ``safetensors`` package's NumPy
API (an optional dependency: ``pip install safetensors``); bfloat16 goes through ml_dtypes.

The format has no notion of shared memory, so, like ``safetensors.torch.save_file``, saving
two tensors that share memory is refused (save a state_dict of clones instead).

Example:
    >>> from ember.utils.safetensors import save_file, load_file
    >>> save_file({"w": ember.ones(2, 3)}, "model.safetensors", metadata={"step": "10"})
    >>> load_file("model.safetensors")["w"].shape
    torch.Size([2, 3])
"""

from __future__ import annotations

import os
from typing import Dict, Optional, Union

import numpy as np

from ember import _dtype as D
from ember._tensor import Tensor

__all__ = ["save_file", "load_file", "save", "load"]

# safetensors dtype codes -> ember dtypes (the ones both sides have).
_FROM_CODE = {"F64": D.float64, "F32": D.float32, "F16": D.float16, "BF16": D.bfloat16,
              "I64": D.int64, "I32": D.int32, "I16": D.int16, "I8": D.int8, "U8": D.uint8,
              "BOOL": D.bool_, "C64": D.complex64}
_SUPPORTED = set(_FROM_CODE.values())


def _package():
    try:
        import safetensors.numpy as stnp
    except ImportError:
        raise ImportError("ember.utils.safetensors needs the 'safetensors' package: "
                          "pip install safetensors") from None
    return stnp


def _to_arrays(tensors: Dict[str, Tensor]) -> Dict[str, np.ndarray]:
    if not isinstance(tensors, dict):
        raise TypeError(f"safetensors: expected a dict of tensors, got {type(tensors).__name__}")
    arrays = {}
    spans = []
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors: tensor names must be str, got {name!r}")
        if not isinstance(t, Tensor):
            raise TypeError(f"safetensors: {name!r} is a {type(t).__name__}, not a Tensor")
        if t.dtype not in _SUPPORTED:
            raise TypeError(f"safetensors: {name!r} has dtype {t.dtype}, which the "
                            "safetensors format cannot hold")
        a = t._data
        if a.size:
            lo, hi = _byte_bounds(a)
            spans.append((lo, hi, name))
        arrays[name] = a if a.flags.c_contiguous else a.copy(order="C")
    spans.sort()
    for (_, hi, first), (lo, _, second) in zip(spans, spans[1:]):
        if lo < hi:
            raise RuntimeError(
                f"safetensors: tensors {first!r} and {second!r} share memory; the format "
                "cannot represent shared tensors. Save clones instead.")
    return arrays


def _byte_bounds(a):
    lo = hi = a.__array_interface__["data"][0]
    for n, s in zip(a.shape, a.strides):
        if s >= 0:
            hi += (n - 1) * s
        else:
            lo += (n - 1) * s
    return lo, hi + a.itemsize


def _check_metadata(metadata):
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("safetensors: metadata must be a dict of str to str")


def save(tensors: Dict[str, Tensor], metadata: Optional[Dict[str, str]] = None) -> bytes:
    """Serialize a dict of tensors to safetensors bytes.

    Args:
        tensors: name -> tensor (any layout; written contiguous).
        metadata: optional text-only header metadata.

    Returns:
        The file's content (bytes).

    Example:
        >>> blob = save({"x": ember.arange(3)})
    """
    _check_metadata(metadata)
    return _package().save(_to_arrays(tensors), metadata=metadata)


def save_file(tensors: Dict[str, Tensor], filename: Union[str, os.PathLike],
              metadata: Optional[Dict[str, str]] = None) -> None:
    """Write a dict of tensors to a safetensors file.

    Args:
        tensors: name -> tensor.
        filename: the path to write.
        metadata: optional text-only header metadata.

    Returns:
        None.

    Example:
        >>> save_file({"x": ember.arange(3)}, "x.safetensors")
    """
    _check_metadata(metadata)
    _package().save_file(_to_arrays(tensors), filename, metadata=metadata)


def load(data: bytes) -> Dict[str, Tensor]:
    """Load a dict of tensors from safetensors bytes.

    Args:
        data: the content of a safetensors file.

    Returns:
        A dict name -> tensor (each a fresh copy).

    Example:
        >>> load(save({"x": ember.arange(3)}))["x"]
        tensor([0, 1, 2])
    """
    _package()
    from safetensors import deserialize

    out = {}
    for name, info in deserialize(bytes(data)):
        dt = _FROM_CODE.get(info["dtype"])
        if dt is None:
            raise TypeError(f"safetensors: {name!r} has dtype {info['dtype']}, which ember "
                            "does not support")
        arr = np.frombuffer(info["data"], dtype=dt.np).reshape(info["shape"])
        out[name] = Tensor._wrap(arr)
    return out


def load_file(filename: Union[str, os.PathLike]) -> Dict[str, Tensor]:
    """Load a dict of tensors from a safetensors file.

    Args:
        filename: the path to read.

    Returns:
        A dict name -> tensor.

    Example:
        >>> save_file({"x": ember.arange(3)}, "x.safetensors")
        >>> load_file("x.safetensors")["x"]
        tensor([0, 1, 2])
    """
    _package()
    from safetensors import safe_open

    out = {}
    with safe_open(filename, framework="np") as f:
        for name in f.keys():
            code = f.get_slice(name).get_dtype()
            if code not in _FROM_CODE:
                raise TypeError(f"safetensors: {name!r} has dtype {code}, which ember does "
                                "not support")
            arr = f.get_tensor(name)
            if arr.dtype != _FROM_CODE[code].np:
                arr = arr.view(_FROM_CODE[code].np)
            out[name] = Tensor._wrap(arr)
    return out
