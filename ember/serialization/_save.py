"""``ember.save``: write PyTorch's zip checkpoint format.

NOTE [ Storages on save ]
PyTorch saves each tensor as (storage, offset, sizes, strides) and writes each storage once,
so views keep sharing memory after a round trip. ember tensors are NumPy arrays, and NumPy
records sharing through ``ndarray.base``: following ``.base`` up to the last ndarray gives
the array that owns (or first wrapped) the memory — the *root*. One root is one storage: a
tensor's offset and strides are its distance from the root's first byte and its NumPy
strides, both divided by the item size. A tensor that cannot be described that way
(negative strides, offsets or strides that are not whole elements, a root that is not
contiguous) is saved as its own contiguous copy; like PyTorch, two tensors viewing one
storage as different dtypes are refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from collections import OrderedDict

import numpy as np

from ember import _dtype as D
from ember._device import device as _device
from ember._tensor import Size, Tensor
from ember.serialization._rebuild import STORAGE_OF
from ember.serialization._zip import ZipWriter


class _Global:
    """A PyTorch global to be written as ``GLOBAL module name`` (torch need not exist)."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module = module
        self.name = name

    def __call__(self, *args):  # pickle requires reduce callables to be callable
        raise TypeError(f"{self.module}.{self.name} is a placeholder for pickling")

    def __repr__(self):
        return f"{self.module}.{self.name}"


_REBUILD_V2 = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAM = _Global("torch._utils", "_rebuild_parameter")
_REBUILD_FROM_TYPE = _Global("torch._tensor", "_rebuild_from_type_v2")
_SIZE = _Global("torch", "Size")
_DEVICE = _Global("torch", "device")
_STORAGE_GLOBAL = {dt: _Global("torch", name) for dt, name in STORAGE_OF.items()}
_DTYPE_GLOBAL = {dt: _Global("torch", dt.name) for dt in D.ALL}


class _StorageRef:
    """One storage to write: its key, dtype and root array (NOTE [ Storages on save ])."""

    __slots__ = ("key", "dtype", "root", "pid")

    def __init__(self, key, dtype, root):
        self.key = key
        self.dtype = dtype
        self.root = root
        numel = root.nbytes // dtype.itemsize
        self.pid = ("storage", _STORAGE_GLOBAL[dtype], key, "cpu", numel)


def _root_of(a):
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root


def _address(a):
    return a.__array_interface__["data"][0]


class _Pickler(pickle._Pickler):
    """The pure-Python pickler with PyTorch spellings for tensors, dtypes, Size and device.

    The C pickler cannot write a ``GLOBAL torch ...`` without importing torch; the Python
    one lets :meth:`save_global` write it directly. Only the (small) object graph goes
    through it: tensor data is written as separate records.
    """

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = []  # in order of first use: keys "0", "1", ...
        self._by_root = {}  # id(root) -> _StorageRef

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            return obj.pid
        return None

    def reducer_override(self, obj):
        t = type(obj)
        if t is _Global:
            return obj.name  # a string: pickle calls save_global(obj, name)
        if t is D.dtype:
            return obj.name
        if isinstance(obj, Tensor):
            if getattr(t, "cls_to_become", None) is not None:  # a Lazy module's placeholder
                return _reduce_uninitialized(obj)
            return self._reduce_tensor(obj)
        if t is Size:
            return (_SIZE, (tuple(obj),))
        if t is _device:
            return (_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def save_global(self, obj, name=None):
        t = type(obj)
        if t is _Global:
            module, name = obj.module, obj.name
        elif t is D.dtype:
            module, name = "torch", obj.name
        else:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"))
        self.memoize(obj)

    def _reduce_tensor(self, t):
        param_cls, buffer_cls = _nn_classes()
        if isinstance(t, param_cls):
            plain = Tensor._wrap(t._data)
            return (_REBUILD_PARAM, (plain, t._requires_grad, OrderedDict()))
        args = self._tensor_args(t)
        if type(t) is not Tensor and type(t) is not buffer_cls:
            # Other subclasses keep their ember class (loadable by ember, not by PyTorch).
            state = getattr(t, "__dict__", None) or {}
            return (_REBUILD_FROM_TYPE, (_REBUILD_V2, type(t), args, state))
        return (_REBUILD_V2, args)

    def _tensor_args(self, t):
        a = t._data
        dt = D.FROM_NP.get(a.dtype)
        if dt is None:
            raise TypeError(f"ember.save: cannot save a tensor of NumPy dtype {a.dtype}")
        ref, offset, stride = self._storage_of(a, dt)
        return (ref, offset, tuple(a.shape), stride, bool(t._requires_grad), OrderedDict())

    def _storage_of(self, a, dt):
        isz = dt.itemsize
        if a.size:
            root = _root_of(a)
            if root.flags.c_contiguous or root.flags.f_contiguous:
                off = _address(a) - _address(root)
                extent = sum((n - 1) * s for n, s in zip(a.shape, a.strides))
                if (off >= 0 and off % isz == 0 and root.nbytes % isz == 0
                        and all(s >= 0 and s % isz == 0 for s in a.strides)
                        and off + extent + isz <= root.nbytes):
                    ref = self._by_root.get(id(root))
                    if ref is None:
                        ref = self._new_storage(root, dt)
                    elif ref.dtype is not dt:
                        raise RuntimeError("Cannot save multiple tensors or storages that view "
                                           "the same data as different types")
                    return ref, off // isz, tuple(s // isz for s in a.strides)
            a = a.copy(order="C")
            ref = self._new_storage(a, dt)
            return ref, 0, tuple(s // isz for s in a.strides)
        # Empty tensors: a storage of their own, PyTorch's contiguous strides.
        ref = self._new_storage(np.empty(0, a.dtype), dt)
        stride, acc = [], 1
        for n in reversed(a.shape):
            stride.append(acc)
            acc *= max(n, 1)
        return ref, 0, tuple(reversed(stride))

    def _new_storage(self, root, dt):
        ref = _StorageRef(str(len(self.storages)), dt, root)
        self.storages.append(ref)
        self._by_root[id(root)] = ref
        return ref


# NOTE [ Uninitialized parameters on save ]
# A Lazy module's UninitializedParameter/UninitializedBuffer has no data. PyTorch pickles it
# by class, ``torch.nn.parameter.UninitializedParameter(requires_grad)``, without storage; a
# weights_only load refuses that global and a full load gives a placeholder again (which
# ``load_state_dict`` into a Lazy module accepts). ember writes the same record, so either
# framework reads the other's file; a dtype or device other than the defaults is appended
# as the constructor's ``device, dtype`` arguments (PyTorch's constructor takes them too)
# rather than dropped.
def _reduce_uninitialized(t):
    cls = _Global("torch.nn.parameter", type(t).__name__)
    if type(t).__name__ not in ("UninitializedParameter", "UninitializedBuffer"):
        raise TypeError(f"ember.save: cannot save an uninitialized tensor of class "
                        f"{type(t).__name__}")
    dev, dt = t._uninit_device, t._uninit_dtype
    if dev is None and dt is D.get_default_dtype():
        return (cls, (bool(t._requires_grad),))
    return (cls, (bool(t._requires_grad), dev, dt))


def _nn_classes():
    # nn sits in the same layer as serialization; import on first use.
    from ember.nn.parameter import Buffer, Parameter

    return Parameter, Buffer


def _raw_bytes(root):
    """The root's memory as a flat uint8 array (no copy)."""
    flat = root.ravel(order="K")
    return flat.view(np.uint8)


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip format (PyTorch's default "
                                  "since 1.6); ember.load still reads the legacy format")
    if pickle_module is not pickle:
        raise NotImplementedError("ember.save: a custom pickle_module is not supported")
    if not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"ember.save: pickle_protocol must be in [2, "
                         f"{pickle.HIGHEST_PROTOCOL}], got {pickle_protocol}")
    buf = io.BytesIO()
    pickler = _Pickler(buf, pickle_protocol)
    pickler.dump(obj)
    data = buf.getvalue()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            _write_archive(fh, data, pickler.storages, _disable_byteorder_record)
    elif hasattr(f, "write"):
        _write_archive(f, data, pickler.storages, _disable_byteorder_record)
        if hasattr(f, "flush"):
            f.flush()
    else:
        raise AttributeError(f"ember.save: f must be a path or a binary file object, got "
                             f"{type(f).__name__}")


def _write_archive(fh, data, storages, no_byteorder):
    w = ZipWriter(fh)
    p = "archive/"
    w.write_record(p + "data.pkl", data)
    w.write_record(p + ".format_version", b"1")
    w.write_record(p + ".storage_alignment", b"64")
    if not no_byteorder:
        w.write_record(p + "byteorder", sys.byteorder.encode("ascii"))
    h = hashlib.sha1(data)
    for ref in storages:
        raw = _raw_bytes(ref.root)
        h.update(raw.size.to_bytes(8, "little"))
        w.write_record(p + "data/" + ref.key, raw)
    w.write_record(p + "version", b"3\n")
    # An id for this file, derived from its contents so equal saves give equal bytes.
    w.write_record(p + ".data/serialization_id", str(int(h.hexdigest(), 16))[:40].encode())
    w.finish()
