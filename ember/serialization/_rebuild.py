"""Loading side: storages, tensor rebuilds and the allowlist of globals a checkpoint may name.

A PyTorch checkpoint's pickle names a handful of PyTorch globals: ``torch._utils.
_rebuild_tensor_v2`` (called with a storage, an offset, sizes, strides, ...), storage classes
(``torch.FloatStorage``) inside persistent ids, dtypes (``torch.float32``), ``torch.Size``,
``collections.OrderedDict`` and a few builtins. ``ALLOWED`` maps exactly those names to
ember's own implementations, which check every argument before building anything.
"""

from __future__ import annotations

import collections
import pickle
import warnings

import numpy as np

from ember import _dtype as D
from ember._device import device as _device
from ember._tensor import Size, Tensor
from ember.serialization._zip import CheckpointError


class TypedStorage:
    """A loaded storage: a 1-D array of one dtype on the CPU.

    This is what a ``map_location`` callable receives as its first argument (PyTorch passes
    its own storage type). ``storage.cpu()``, ``storage.to("cpu")`` and returning the
    storage unchanged keep it; moving it to another device raises, as ember runs on the CPU.

    Args:
        array: the storage's 1-D array.
        dtype: its ember dtype.

    Example:
        >>> ember.save(ember.ones(2), "t.pt")
        >>> ember.load("t.pt", map_location=lambda storage, loc: storage.cpu())
        tensor([1., 1.])
    """

    __slots__ = ("_array", "dtype", "_versions", "_fixups")

    def __init__(self, array: np.ndarray, dtype: D.dtype):
        self._array = array
        self.dtype = dtype
        self._versions = None
        self._fixups = None  # legacy format: conj/neg applied once the data is read

    @property
    def device(self):
        return _device("cpu")

    @property
    def is_cuda(self):
        return False

    def size(self) -> int:
        return self._array.size

    __len__ = size

    def nbytes(self) -> int:
        return self._array.nbytes

    def element_size(self) -> int:
        return self._array.itemsize

    def data_ptr(self) -> int:
        return self._array.__array_interface__["data"][0]

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):  # noqa: ARG002 - a host-transfer hint: no effect on results
        from ember._device import check_device

        check_device("cuda" if device is None else device)

    def to(self, device=None, non_blocking=False):  # noqa: ARG002 - a host-transfer hint: no effect on results
        from ember._device import check_device

        check_device(device)
        return self

    def tolist(self):
        a = self._array.astype(np.float32) if self.dtype is D.bfloat16 else self._array
        return a.tolist()

    def __repr__(self):
        return f"TypedStorage(dtype={self.dtype!r}, size={self.size()})"

    def _version_counter(self):
        # Tensors rebuilt on one storage share a version counter, like views of one base.
        if self._versions is None:
            self._versions = [0]
        return self._versions

    def _as(self, dtype):
        """The same bytes seen as another dtype (``_rebuild_tensor_v3`` on untyped storage)."""
        if dtype is self.dtype:
            return self
        raw = self._array.view(np.uint8)
        if raw.size % dtype.itemsize:
            raise CheckpointError(f"ember.load: a storage of {raw.size} bytes cannot hold "
                                  f"{dtype} elements")
        return TypedStorage(raw.view(dtype.np), dtype)


# ------------------------------------------------------------------ markers
class StorageType:
    """Stands for a PyTorch storage class (``torch.FloatStorage``) in a pickle."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return f"StorageType({self.name})"


class _TypeMarker:
    """Stands for ``torch.Tensor`` / ``torch.nn.Parameter`` as an argument of a rebuild."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


TENSOR_TYPE = _TypeMarker("torch.Tensor")
PARAMETER_TYPE = _TypeMarker("torch.nn.Parameter")

STORAGE_NAMES = {
    "Float": D.float32, "Double": D.float64, "Half": D.float16, "BFloat16": D.bfloat16,
    "Long": D.int64, "Int": D.int32, "Short": D.int16, "Char": D.int8, "Byte": D.uint8,
    "Bool": D.bool_, "ComplexFloat": D.complex64, "ComplexDouble": D.complex128,
}
STORAGE_OF = {dt: n + "Storage" for n, dt in STORAGE_NAMES.items()}
UNTYPED = StorageType("UntypedStorage", D.uint8)


def _bad(msg):
    return pickle.UnpicklingError("weights-only load: " + msg)


def _is_int(x):
    return type(x) is int or type(x) is bool


def _int_tuple(x, what, fn):
    if type(x) not in (tuple, list, Size) or not all(type(v) is int for v in x):
        raise CheckpointError(f"ember.load: {fn}: {what} must be a tuple of ints, got {x!r}")
    return tuple(x)


# ------------------------------------------------------------------ rebuild functions
def _rebuild_tensor(storage, storage_offset, size, stride):
    """``torch._utils._rebuild_tensor``: a tensor viewing ``storage``."""
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, False,
                              collections.OrderedDict())


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    """``torch._utils._rebuild_tensor_v2``: check the view against the storage, then build it."""
    fn = "_rebuild_tensor_v2"
    if not isinstance(storage, TypedStorage):
        raise CheckpointError(f"ember.load: {fn}: expected a storage, got "
                              f"{type(storage).__name__}")
    if type(storage_offset) is not int or storage_offset < 0:
        raise CheckpointError(f"ember.load: {fn}: bad storage offset {storage_offset!r}")
    size = _int_tuple(size, "size", fn)
    stride = _int_tuple(stride, "stride", fn)
    if len(size) != len(stride):
        raise CheckpointError(f"ember.load: {fn}: size {list(size)} and stride {list(stride)} "
                              "have different lengths")
    if len(size) > 64:
        raise CheckpointError(f"ember.load: {fn}: {len(size)} dimensions (at most 64)")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise CheckpointError(f"ember.load: {fn}: negative size or stride ({list(size)}, "
                              f"{list(stride)})")
    arr = storage._array
    numel = arr.size
    empty = any(s == 0 for s in size)
    needed = storage_offset if empty else storage_offset + 1 + sum(
        (n - 1) * s for n, s in zip(size, stride))
    if needed > numel:
        raise CheckpointError(
            f"ember.load: {fn}: sizes {list(size)}, strides {list(stride)}, storage offset "
            f"{storage_offset} and itemsize {arr.itemsize} require a storage of {needed} "
            f"elements, but the storage has {numel}")
    isz = arr.itemsize
    try:
        if empty:
            data = np.ndarray(size, arr.dtype, buffer=arr, offset=0,
                              strides=tuple(0 for _ in size))
        else:
            data = np.ndarray(size, arr.dtype, buffer=arr, offset=storage_offset * isz,
                              strides=tuple(s * isz for s in stride))
    except (ValueError, TypeError, OverflowError) as e:
        raise CheckpointError(f"ember.load: {fn}: cannot build a tensor of size {list(size)}: "
                              f"{e}") from None
    bits = None
    if metadata:
        if type(metadata) is not dict:
            raise CheckpointError(f"ember.load: {fn}: metadata must be a dict")
        # PyTorch's lazy conjugate/negative bits: the storage holds the plain values.
        bits = (bool(metadata.get("conj")), bool(metadata.get("neg")))
        if not any(bits):
            bits = None
    t = Tensor._wrap(data)
    if bits is None:
        t._vc = storage._version_counter()
    elif storage._fixups is not None:
        storage._fixups.append((t, bits))
    else:
        apply_bits(t, bits)
    if requires_grad:
        if not _is_int(requires_grad):
            raise CheckpointError(f"ember.load: {fn}: requires_grad must be a bool")
        t.requires_grad_(True)
    if type(backward_hooks) not in (dict, collections.OrderedDict):
        raise CheckpointError(f"ember.load: {fn}: backward_hooks must be a dict")
    if backward_hooks:
        warnings.warn("ember.load: ignoring the backward hooks stored with a tensor",
                      stacklevel=2)
    return t


def apply_bits(t, bits):
    """Materialise PyTorch's conjugate/negative bits (ember has no lazy ones): a copy."""
    conj, neg = bits
    data = t._data
    if conj:
        data = np.conj(data)
    if neg:
        data = np.negative(data)
    t._data = data


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    """``torch._utils._rebuild_tensor_v3``: like v2, with the dtype given separately."""
    if not isinstance(storage, TypedStorage) or not isinstance(dtype, D.dtype):
        raise CheckpointError("ember.load: _rebuild_tensor_v3: expected a storage and a dtype")
    return _rebuild_tensor_v2(storage._as(dtype), storage_offset, size, stride, requires_grad,
                              backward_hooks, metadata)


def _parameter(data, requires_grad):
    from ember.nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise CheckpointError("ember.load: a Parameter must be rebuilt from a tensor, got "
                              f"{type(data).__name__}")
    p = Parameter(data, bool(requires_grad))
    return p


def _rebuild_parameter(data, requires_grad, backward_hooks):  # noqa: ARG001 - PyTorch pickles an empty dict here and ignores it too
    """``torch._utils._rebuild_parameter``."""
    return _parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):  # noqa: ARG001 - PyTorch pickles an empty dict here and ignores it too
    """``torch._utils._rebuild_parameter_with_state``: a Parameter with Python attributes."""
    return _set_state(_parameter(data, requires_grad), state)


_REBUILDS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
             _rebuild_parameter_with_state)


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor subclass (Parameter) with state."""
    if not any(func is f for f in _REBUILDS) or type(args) is not tuple:
        raise _bad("_rebuild_from_type_v2 accepts only tensor rebuild functions")
    t = func(*args)
    if new_type is PARAMETER_TYPE:
        if not isinstance(t, _param_class()):
            t = _parameter(t, t.requires_grad)
    elif new_type is not TENSOR_TYPE:
        raise _bad("_rebuild_from_type_v2 accepts only torch.Tensor and torch.nn.Parameter")
    return _set_state(t, state)


def _param_class():
    from ember.nn.parameter import Parameter

    return Parameter


def _set_state(obj, state):
    """Python attributes saved with a tensor subclass: plain values into its ``__dict__``."""
    if not state:
        return obj
    slots = None
    if type(state) is tuple and len(state) == 2:
        state, slots = state
    merged = {}
    for part in (state, slots):
        if not part:
            continue
        if type(part) is not dict or not all(type(k) is str for k in part):
            raise _bad("tensor state must be a dict with str keys")
        merged.update(part)
    d = getattr(obj, "__dict__", None)
    if d is None:
        if merged:
            warnings.warn(f"ember.load: ignoring attributes {sorted(merged)} saved on a "
                          "tensor (ember tensors cannot hold Python attributes)", stacklevel=2)
        return obj
    for k, v in merged.items():
        if k.startswith("__") or hasattr(type(obj), k):
            raise _bad(f"refused to set attribute {k!r} on a loaded tensor")
        d[k] = v
    return obj


# ------------------------------------------------------------------ other admitted callables
def _size(*args):
    if len(args) != 1:
        raise _bad("torch.Size takes one argument")
    return Size(_int_tuple(args[0], "Size", "torch.Size"))


def _make_device(*args):
    if not 1 <= len(args) <= 2 or type(args[0]) not in (str, int) or (
            len(args) == 2 and args[1] is not None and type(args[1]) is not int):
        raise _bad(f"bad torch.device arguments {args!r}")
    return _device(*args)


def _ordered_dict(*args):
    if len(args) > 1:
        raise _bad("OrderedDict takes at most one argument")
    from ember.serialization._unpickler import _check_key

    d = collections.OrderedDict()
    if args:
        items = args[0]
        if type(items) in (dict, collections.OrderedDict):
            items = list(items.items())
        if type(items) not in (list, tuple):
            raise _bad("OrderedDict argument must be a list of pairs")
        for pair in items:
            if type(pair) not in (list, tuple) or len(pair) != 2:
                raise _bad("OrderedDict argument must be a list of pairs")
            _check_key(pair[0])
            d[pair[0]] = pair[1]
    return d


def _counter(*args):
    if len(args) > 1 or (args and type(args[0]) is not dict):
        raise _bad("Counter takes one dict")
    from ember.serialization._unpickler import _check_key

    for k in args[0] if args else ():
        _check_key(k)
    return collections.Counter(*args)


def _make_set(kind):
    def make(*args):
        from ember.serialization._unpickler import _check_key

        if len(args) > 1 or (args and type(args[0]) not in (list, tuple, set, frozenset)):
            raise _bad(f"{kind.__name__}() takes one list")
        for x in args[0] if args else ():
            _check_key(x, "set member")
        return kind(*args)

    make.__name__ = kind.__name__
    return make


def _complex(*args):
    if not 1 <= len(args) <= 2 or not all(type(a) in (int, float, bool) for a in args):
        raise _bad(f"bad complex() arguments {args!r}")
    return complex(*args)


_TEXT_ENCODINGS = ("latin1", "latin-1", "utf-8", "utf8", "ascii")


def _bytearray(*args):
    if not args:
        return bytearray()
    if len(args) == 1 and type(args[0]) in (bytes, bytearray):
        return bytearray(args[0])
    if len(args) == 2 and type(args[0]) is str and args[1] in _TEXT_ENCODINGS:
        return bytearray(args[0], args[1])
    raise _bad("bad bytearray() arguments")


def _encode(*args):
    """``_codecs.encode(str, 'latin1')``: how protocol-2 pickles spell ``bytes``."""
    if 1 <= len(args) <= 2 and type(args[0]) is str and (
            len(args) == 1 or args[1] in _TEXT_ENCODINGS):
        return args[0].encode(*args[1:])
    raise _bad("_codecs.encode is admitted only for text encodings of a str")


def _slice(*args):
    if not 1 <= len(args) <= 3 or not all(a is None or type(a) is int for a in args):
        raise _bad("bad slice() arguments")
    return slice(*args)


# ------------------------------------------------------------------ the allowlist
def _build_allowed():
    allowed = {
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.Tensor": TENSOR_TYPE,
        "torch._tensor.Tensor": TENSOR_TYPE,
        "torch.nn.parameter.Parameter": PARAMETER_TYPE,
        "torch.Size": _size,
        "torch.device": _make_device,
        "collections.OrderedDict": _ordered_dict,
        "collections.Counter": _counter,
        "builtins.set": _make_set(set),
        "builtins.frozenset": _make_set(frozenset),
        "builtins.complex": _complex,
        "builtins.bytearray": _bytearray,
        "builtins.slice": _slice,
        "_codecs.encode": _encode,
        "torch.UntypedStorage": UNTYPED,
        "torch.storage.UntypedStorage": UNTYPED,
    }
    for short, dt in STORAGE_NAMES.items():
        st = StorageType(short + "Storage", dt)
        allowed["torch." + st.name] = st
        allowed["torch.cuda." + st.name] = st
    for dt in D.ALL:
        allowed["torch." + dt.name] = dt
    callables = {id(v): v for v in allowed.values() if callable(v)}
    return allowed, callables


ALLOWED, ALLOWED_CALLABLES = _build_allowed()
