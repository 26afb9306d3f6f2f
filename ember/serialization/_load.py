"""``ember.load``: read a PyTorch checkpoint (zip or legacy format) without PyTorch."""

from __future__ import annotations

import importlib
import io
import mmap as _mmap
import os
import pickle
import sys
import warnings

import numpy as np

from ember._device import device as _device
from ember.serialization import _rebuild as R
from ember.serialization._unpickler import SafeUnpickler
from ember.serialization._zip import CheckpointError, ZipReader

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MAX_FORMAT_VERSION = 10

# User-admitted globals for weights_only loads: "module.name" -> object (see add_safe_globals).
SAFE_GLOBALS: dict = {}


def _name_of(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


# ------------------------------------------------------------------ globals policy
def find_safe_global(module, name):
    full = f"{module}.{name}"
    v = R.ALLOWED.get(full)
    if v is not None:
        return v
    v = SAFE_GLOBALS.get(full)
    if v is not None:
        return v
    raise pickle.UnpicklingError(
        f"weights-only load refused global '{full}': it is not in the allowlist, so the file "
        "may run code on load. If you trust the file, admit it with "
        f"ember.serialization.add_safe_globals([{name}]) or load with weights_only=False.")


def _is_safe_callable(v):
    return id(v) in R.ALLOWED_CALLABLES or any(v is u for u in SAFE_GLOBALS.values())


def _can_build(inst):
    classes = tuple(u for u in SAFE_GLOBALS.values() if isinstance(u, type))
    return bool(classes) and isinstance(inst, classes)


class _FullUnpickler(pickle.Unpickler):
    """``weights_only=False``: the standard unpickler; PyTorch names map to ember's."""

    def __init__(self, file, ctx, **kwargs):
        super().__init__(file, **kwargs)
        self._ctx = ctx

    def persistent_load(self, pid):
        return self._ctx.persistent_load(pid)

    def find_class(self, module, name):
        full = f"{module}.{name}"
        v = R.ALLOWED.get(full)
        if v is not None:
            return v
        if full in SAFE_GLOBALS:
            return SAFE_GLOBALS[full]
        if module == "torch" or module.startswith("torch."):
            target = "ember" + module[len("torch"):]
            try:
                mod = importlib.import_module(target)
                obj = mod
                for part in name.split("."):
                    obj = getattr(obj, part)
                return obj
            except (ImportError, AttributeError):
                raise pickle.UnpicklingError(f"ember.load: the file needs '{full}', which has "
                                             f"no ember equivalent ('{target}.{name}')") from None
        return super().find_class(module, name)


# ------------------------------------------------------------------ map_location
def _restore_location(storage, location, map_location):
    """Apply ``map_location`` to one storage; ember keeps every storage on the CPU."""
    if callable(map_location):
        result = map_location(storage, location)
        if result is not None:
            if not isinstance(result, R.TypedStorage):
                raise TypeError("ember.load: map_location callable must return a storage (or "
                                f"None), got {type(result).__name__}")
            return result
    elif isinstance(map_location, dict):
        location = map_location.get(location, location)
    elif map_location is not None:
        location = map_location
    if isinstance(location, _device):
        dev = location
    else:
        try:
            dev = _device(str(location))
        except (RuntimeError, TypeError) as e:
            raise CheckpointError(f"ember.load: unknown storage location {location!r} ({e})"
                                  ) from None
    if dev.type != "cpu":
        raise CheckpointError(
            f"ember.load: the checkpoint puts a storage on '{dev}', but ember runs on the CPU "
            "only. Pass map_location='cpu' (or a callable) to load it onto the CPU.")
    return storage


class _Context:
    """State of one load: where storages come from and which ones are already built."""

    def __init__(self, map_location, swap_bytes):
        self.map_location = map_location
        self.swap = swap_bytes
        self.storages = {}  # key -> TypedStorage (typed per first use; views for others)
        self.get_bytes = None  # key, nbytes -> uint8 array

    def persistent_load(self, pid):
        if type(pid) is not tuple or len(pid) not in (5, 6) or pid[0] != "storage":
            raise CheckpointError(f"ember.load: unsupported persistent id {pid!r:.200}")
        st_type, key, location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(st_type, R.StorageType):
            raise CheckpointError(f"ember.load: persistent id names {st_type!r:.100}, not a "
                                  "storage type")
        if type(key) is not str or type(location) is not str or type(numel) is not int \
                or numel < 0:
            raise CheckpointError(f"ember.load: malformed storage id {pid!r:.200}")
        dtype = st_type.dtype
        storage = self.storages.get(key)
        if storage is None:
            raw = self.get_bytes(key, numel * dtype.itemsize)
            if raw.size % dtype.itemsize:
                raise CheckpointError(f"ember.load: storage {key!r} has {raw.size} bytes, not "
                                      f"a multiple of {dtype}'s size")
            arr = raw.view(dtype.np)
            if self.swap and dtype.itemsize > 1:
                arr = arr.byteswap()
            storage = R.TypedStorage(arr, dtype)
            storage = _restore_location(storage, location, self.map_location)
            self.storages[key] = storage
        elif storage.dtype is not dtype:
            storage = storage._as(dtype)
        if view is not None:  # legacy format: a storage viewing part of a root storage
            if type(view) is not tuple or len(view) != 3 or not all(
                    type(v) is int for v in view[1:]) or view[1] < 0 or view[2] < 0:
                raise CheckpointError(f"ember.load: malformed storage view {view!r:.200}")
            _, off, size = view
            if off + size > storage.size():
                raise CheckpointError("ember.load: storage view outside its storage")
            sub = R.TypedStorage(storage._array[off:off + size], storage.dtype)
            sub._versions = storage._version_counter()
            return sub
        return storage


# ------------------------------------------------------------------ entry points
def _open(f):
    if isinstance(f, (str, os.PathLike)):
        return open(f, "rb"), True
    if hasattr(f, "read") and hasattr(f, "seek"):
        return f, False
    if hasattr(f, "read"):  # not seekable: buffer it
        return io.BytesIO(f.read()), False
    raise TypeError(f"ember.load: f must be a path or a binary file object, got "
                    f"{type(f).__name__}")


_TRUE_ENV = ("1", "y", "yes", "true")


def _resolve_weights_only(weights_only, pickle_module):
    """The effective ``weights_only`` flag: safe unless the caller passed ``False`` itself.

    NOTE [ weights_only defaults ]
    PyTorch >= 2.6 reads ``weights_only=None`` (and a missing argument) as True, so any code
    that forwards the argument must stay safe when it forwards ``None``. Only the literal
    ``False`` runs the full unpickler; other values are refused rather than tested for
    truth (``0`` or ``""`` must not open the door). PyTorch's two environment overrides are
    honoured: ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` wins over everything, and
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` only changes an unspecified flag, with the same
    ``UserWarning`` PyTorch prints. Where PyTorch would fall back to full pickle because a
    ``pickle_module`` was given, ember stays safe (see ``load``).
    """
    if weights_only is not None and weights_only is not True and weights_only is not False:
        raise TypeError(f"ember.load: weights_only must be True, False or None, got "
                        f"{weights_only!r} ({type(weights_only).__name__})")
    force_safe = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_ENV
    force_unsafe = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_ENV
    if force_safe and force_unsafe:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were "
                           "set.")
    if force_safe:
        return True
    if weights_only is None:
        if force_unsafe:
            warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, "
                          "since the `weights_only` argument was not explicitly passed to "
                          "`ember.load`, forcing weights_only=False.", UserWarning,
                          stacklevel=3)
            return False
        if pickle_module is not None and pickle_module is not pickle:
            raise RuntimeError(
                f"ember.load: pickle_module={getattr(pickle_module, '__name__', pickle_module)}"
                " needs an explicit weights_only=False (PyTorch silently switches to full "
                "pickle here; ember does not, because full pickle can run code from the file)")
        return True
    return weights_only


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    unspecified = weights_only is None
    weights_only = _resolve_weights_only(weights_only, pickle_module)
    if weights_only and unspecified and pickle_module is pickle:
        pickle_module = None  # the safe loader reads what the standard module writes
    if pickle_module is not None and weights_only:
        raise RuntimeError("ember.load: pickle_module cannot be given with weights_only=True "
                           "(the safe loader is ember's own)")
    if mmap is not None and mmap is not True and mmap is not False:
        raise TypeError(f"ember.load: mmap must be a bool, got {type(mmap).__name__}")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args and weights_only:
        raise TypeError(f"ember.load: unexpected arguments {sorted(pickle_load_args)}")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    fobj, owned = _open(f)
    try:
        start = fobj.tell()
        head = fobj.read(4)
        fobj.seek(start)
        if head == b"PK\x03\x04":
            return _load_zip(fobj, f if mmap else None, map_location, weights_only, encoding,
                             pickle_module, pickle_load_args)
        if mmap:
            raise RuntimeError("ember.load: mmap=True needs a zip checkpoint (the legacy "
                               "format stores tensors inside the pickle stream)")
        return _load_legacy(fobj, map_location, weights_only, encoding, pickle_module,
                            pickle_load_args)
    finally:
        if owned:
            fobj.close()


def _unpickle(data, ctx, weights_only, encoding, pickle_module, pickle_load_args, pos=0):
    """Run one pickle from ``data[pos:]``; returns (object, end position)."""
    if weights_only:
        u = SafeUnpickler(data, find_global=find_safe_global, is_callable=_is_safe_callable,
                          can_build=_can_build, persistent_load=ctx.persistent_load, pos=pos,
                          encoding=encoding)
        return u.load(), u.pos
    buf = io.BytesIO(data)
    buf.seek(pos)
    if pickle_module is not None and pickle_module is not pickle:
        up = pickle_module.Unpickler(buf, encoding=encoding, **pickle_load_args)
        up.persistent_load = ctx.persistent_load
    else:
        up = _FullUnpickler(buf, ctx, encoding=encoding, **pickle_load_args)
    return up.load(), buf.tell()


def _load_zip(fobj, mmap_path, map_location, weights_only, encoding, pickle_module,
              pickle_load_args):
    reader = ZipReader(fobj)
    if reader.has("version"):
        try:
            version = int(reader.read("version").decode("ascii").strip())
        except (ValueError, UnicodeDecodeError):
            raise CheckpointError("ember.load: unreadable format version record") from None
        if not 1 <= version <= _MAX_FORMAT_VERSION:
            raise CheckpointError(f"ember.load: unsupported checkpoint format version "
                                  f"{version}")
    order = reader.read("byteorder").decode("ascii", "replace") if reader.has(
        "byteorder") else "little"
    if order not in ("little", "big"):
        raise CheckpointError(f"ember.load: unknown byte order {order!r}")
    ctx = _Context(map_location, order != sys.byteorder)
    mapped = None
    if mmap_path is not None:
        # One copy-on-write mapping of the file; each storage is a window onto it, so tensors
        # can be modified in place without touching the file (PyTorch's MAP_PRIVATE).
        with open(mmap_path, "rb") as mf:
            size = os.fstat(mf.fileno()).st_size
            mapped = _mmap.mmap(mf.fileno(), 0, access=_mmap.ACCESS_COPY) if size else None

    def get_bytes(key, nbytes):
        name = "data/" + key
        off, size = reader.locate(name)
        if size != nbytes:
            raise CheckpointError(f"ember.load: record {name!r} holds {size} bytes but its "
                                  f"storage needs {nbytes}")
        if mapped is not None:
            return np.frombuffer(mapped, np.uint8, count=size, offset=off) if size else \
                np.empty(0, np.uint8)
        buf = np.empty(size, np.uint8)
        if size:
            reader.readinto(name, buf)
        return buf

    ctx.get_bytes = get_bytes
    data = reader.read("data.pkl")
    obj, _ = _unpickle(data, ctx, weights_only, encoding, pickle_module, pickle_load_args)
    return obj


def _load_legacy(fobj, map_location, weights_only, encoding, pickle_module, pickle_load_args):
    """PyTorch's pre-1.6 format: header pickles, the object pickle, then raw storages."""
    data = fobj.read()
    if data[:1] != b"\x80":
        if data[:6] == b"\x1f\x8b\x08\x00\x00\x00" or data[257:262] == b"ustar":
            raise CheckpointError("ember.load: PyTorch's old tar checkpoint format (before 0.4) "
                                  "is not supported")
        raise CheckpointError("ember.load: not a checkpoint (neither a zip archive nor a "
                              "legacy PyTorch pickle stream)")
    empty = _Context(None, False)

    def no_storage(key, nbytes):  # noqa: ARG001 - the get_bytes(key, nbytes) protocol; it refuses
        raise CheckpointError("ember.load: storage reference in a legacy header")

    empty.get_bytes = no_storage
    magic, pos = _unpickle(data, empty, True, encoding, None, {})
    if magic != _LEGACY_MAGIC:
        raise CheckpointError("ember.load: invalid magic number; corrupt file?")
    proto, pos = _unpickle(data, empty, True, encoding, None, {}, pos)
    if proto != _LEGACY_PROTOCOL:
        raise CheckpointError(f"ember.load: invalid legacy protocol version {proto!r}")
    sys_info, pos = _unpickle(data, empty, True, encoding, None, {}, pos)
    if type(sys_info) is not dict:
        raise CheckpointError("ember.load: malformed legacy header")
    little = sys_info.get("little_endian", True)
    swap = bool(little) != (sys.byteorder == "little")
    ctx = _Context(map_location, False)
    # Storages follow the object pickle; as in PyTorch, each is allocated when the pickle
    # first names it and filled afterwards. Their total size cannot exceed what is left of
    # the file, so a hostile element count cannot make us allocate more than the file holds.
    pending = {}
    budget = [len(data) - pos]

    def allocate(key, nbytes):
        if nbytes > budget[0]:
            raise CheckpointError(f"ember.load: legacy storage {key!r} claims {nbytes} bytes, "
                                  "more than the file holds")
        budget[0] -= nbytes
        buf = np.empty(nbytes, np.uint8)
        pending[key] = buf
        return buf

    def persistent_load(pid):
        st = _Context.persistent_load(ctx, pid)
        if st._fixups is None:
            st._fixups = []
        return st

    ctx.persistent_load = persistent_load

    ctx.get_bytes = allocate
    obj, p = _unpickle(data, ctx, weights_only, encoding, pickle_module, pickle_load_args, pos)
    keys, p = _unpickle(data, empty, True, encoding, None, {}, p)
    if type(keys) is not list or not all(type(k) is str for k in keys):
        raise CheckpointError("ember.load: malformed legacy storage key list")
    for k in keys:
        buf = pending.pop(k, None)
        if buf is None:
            raise CheckpointError(f"ember.load: legacy storage {k!r} is not used by the object "
                                  "(or listed twice)")
        if p + 8 > len(data):
            raise CheckpointError(f"ember.load: legacy checkpoint truncated at storage {k!r}")
        n = int.from_bytes(data[p:p + 8], _byte_order(little))
        p += 8
        itemsize = ctx.storages[k].element_size()
        if n * itemsize != buf.size or p + buf.size > len(data):
            raise CheckpointError(f"ember.load: legacy storage {k!r} has the wrong size or is "
                                  "truncated")
        buf[:] = np.frombuffer(data, np.uint8, count=buf.size, offset=p)
        p += buf.size
        storage = ctx.storages[k]
        if swap and itemsize > 1:
            storage._array.byteswap(inplace=True)
        for t, bits in storage._fixups or ():
            R.apply_bits(t, bits)
        storage._fixups = None
    if pending:
        raise CheckpointError(f"ember.load: legacy storages {sorted(pending)} have no data")
    return obj


def _byte_order(little):
    return "little" if little else "big"
