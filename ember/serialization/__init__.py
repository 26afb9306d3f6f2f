"""Checkpoints: ``ember.save`` / ``ember.load`` in PyTorch's file format, safe by default.

Files written by ``ember.save`` load in PyTorch with ``torch.load(f, weights_only=True)``,
and files written by ``torch.save`` load in ember without PyTorch installed. The layout is
described in NOTE [ Checkpoint archive layout ] (``_zip.py``), how tensors map to storages
in NOTE [ Storages on save ] (``_save.py``), and what a weights-only load may execute in
NOTE [ Weights-only unpickling ] (``_unpickler.py``): nothing but ember's own constructors
for tensors, dtypes, sizes, devices and plain containers.

Exceptions raised by :func:`load` on a bad file: :class:`pickle.UnpicklingError` when the
pickle names a global that is not allowed or is malformed, and :class:`RuntimeError`
(:class:`CheckpointError`) when the archive, a record or a tensor's metadata is invalid.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from typing import IO, Any, Callable, Iterable, Union

from ember.serialization import _load
from ember.serialization._rebuild import TypedStorage
from ember.serialization._save import save as _save
from ember.serialization._training import (ResumableSampler, get_rng_states,
                                           load_training_state, save_training_state,
                                           set_rng_states)
from ember.serialization._zip import CheckpointError

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "TypedStorage", "CheckpointError", "DEFAULT_PROTOCOL",
           "save_training_state", "load_training_state", "get_rng_states", "set_rng_states",
           "ResumableSampler"]

DEFAULT_PROTOCOL = 2
FileLike = Union[str, os.PathLike, IO[bytes]]
_USER_GLOBALS: list = []


def save(obj: Any, f: FileLike, pickle_module=pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Save an object (tensors, state_dicts, nested containers) to a checkpoint file.

    The file is PyTorch's zip checkpoint: ``torch.load(f, weights_only=True)`` reads it. Each
    storage is written once, so tensors that view one another still share memory after
    loading. Arbitrary picklable objects are accepted too, but loading them requires
    ``weights_only=False`` (or :func:`add_safe_globals`).

    Args:
        obj: the object to save.
        f: a path, ``os.PathLike`` or a binary file object (e.g. ``io.BytesIO``).
        pickle_module: must be :mod:`pickle`.
        pickle_protocol: pickle protocol of ``data.pkl`` (2, PyTorch's default, to 5).

    Returns:
        None.

    Example:
        >>> ember.save({"w": ember.ones(2, 3)}, "ckpt.pt")
        >>> ember.load("ckpt.pt")["w"].shape
        torch.Size([2, 3])
    """
    _save(obj, f, pickle_module, pickle_protocol, _use_new_zipfile_serialization,
          _disable_byteorder_record)


def load(f: FileLike, map_location=None, pickle_module=None, *,
         weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args) -> Any:
    """Load an object saved by :func:`save` or ``torch.save`` (zip or legacy format).

    With ``weights_only=True`` -- the default, also when ``weights_only=None`` or the argument
    is left out, as in PyTorch >= 2.6 -- the pickle is run by ember's restricted
    interpreter: it builds tensors, parameters, dtypes, ``Size``, devices, ``OrderedDict``
    and plain Python containers and scalars, and refuses anything else with
    ``pickle.UnpicklingError`` naming the refused global; nothing in the file can run
    code. Only an explicit ``weights_only=False`` opts into full pickle (which can execute
    arbitrary code from the file: use it only for files you trust); PyTorch class names
    then map to ember's (``torch.nn.modules.linear.Linear`` -> ``ember.nn...Linear``).
    Any other value of ``weights_only`` raises ``TypeError``. As in PyTorch, the environment
    variable ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` forces safe loads even when ``False`` is
    passed, and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns an *unspecified*
    ``weights_only`` into ``False`` with a ``UserWarning``.

    Args:
        f: a path, ``os.PathLike`` or a binary file object.
        map_location: where storages go. ``None`` keeps the saved location; a string or
            ``ember.device`` names one location for all; a dict maps saved locations to new
            ones; a callable ``(storage, location) -> storage or None`` decides per storage.
            ember runs on the CPU, so storages saved on a GPU need ``map_location="cpu"``.
        pickle_module: only with ``weights_only=False``: an alternative pickle module. (PyTorch
            turns an unspecified ``weights_only`` into ``False`` when ``pickle_module`` is
            given; ember stays safe: the standard :mod:`pickle` is accepted and ignored by
            the safe loader, any other module needs an explicit ``weights_only=False``.)
        weights_only: restrict loading to tensors and plain data (``None``, the default,
            means True).
        mmap: map the storages from the file (copy-on-write) instead of reading them, so a
            large checkpoint loads without a second copy in memory; ``f`` must be a path.
            ``None`` (the default) means False.
        pickle_load_args: ``encoding`` for Python 2 strings (default ``"utf-8"``); other
            keyword arguments of :class:`pickle.Unpickler` with ``weights_only=False``.

    Returns:
        The object saved.

    Example:
        >>> ember.save({"w": ember.ones(2)}, "ckpt.pt")
        >>> sd = ember.load("ckpt.pt", map_location="cpu")
        >>> big = ember.load("ckpt.pt", mmap=True)   # tensors view the file's pages
        >>> sd["w"], big["w"]
        (tensor([1., 1.]), tensor([1., 1.]))
    """
    return _load.load(f, map_location, pickle_module, weights_only=weights_only, mmap=mmap,
                      **pickle_load_args)


# ------------------------------------------------------------------ the user allowlist
def _rebuild_user_globals():
    _load.SAFE_GLOBALS.clear()
    for entry in _USER_GLOBALS:
        if isinstance(entry, tuple):
            obj, name = entry
        else:
            obj, name = entry, _load._name_of(entry)
        _load.SAFE_GLOBALS[name] = obj


def add_safe_globals(safe_globals: Iterable[Union[Callable, tuple]]) -> None:
    """Admit classes or functions in ``weights_only=True`` loads.

    An admitted class may be called (``REDUCE``), instantiated with ``__new__`` (``NEWOBJ``)
    and have its state set (``BUILD``: ``__setstate__`` or its ``__dict__``); an admitted
    function may be called. Admit only code that is safe to run with arguments taken from
    an untrusted file.

    Args:
        safe_globals: objects, or ``(object, "module.name")`` pairs to admit the object
            under the name the file uses.

    Returns:
        None.

    Example:
        >>> import datetime
        >>> ember.save({"config": datetime.date(2024, 1, 2)}, "run.pt")
        >>> ember.serialization.add_safe_globals([datetime.date])
        >>> ember.load("run.pt")["config"]
        datetime.date(2024, 1, 2)
        >>> ember.serialization.clear_safe_globals()
    """
    for entry in safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise TypeError("add_safe_globals: a tuple entry must be (object, 'module.name')")
        _USER_GLOBALS.append(entry)
    _rebuild_user_globals()


def get_safe_globals() -> list:
    """The globals admitted with :func:`add_safe_globals` (a copy of the list).

    Returns:
        A list.

    Example:
        >>> ember.serialization.get_safe_globals()
        []
    """
    return list(_USER_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every global admitted with :func:`add_safe_globals`.

    Returns:
        None.

    Example:
        >>> ember.serialization.clear_safe_globals()
    """
    _USER_GLOBALS.clear()
    _rebuild_user_globals()


@contextlib.contextmanager
def safe_globals(safe_globals: Iterable[Union[Callable, tuple]]):
    """Admit globals only inside a ``with`` block (see :func:`add_safe_globals`).

    Args:
        safe_globals: objects or ``(object, "module.name")`` pairs.

    Returns:
        A context manager.

    Example:
        >>> import datetime
        >>> ember.save({"config": datetime.date(2024, 1, 2)}, "run.pt")
        >>> with ember.serialization.safe_globals([datetime.date]):
        ...     ckpt = ember.load("run.pt")
        >>> ckpt["config"].year
        2024
    """
    saved = list(_USER_GLOBALS)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _USER_GLOBALS[:] = saved
        _rebuild_user_globals()
