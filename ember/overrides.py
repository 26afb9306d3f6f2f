"""Function-level interception: ``__torch_function__`` and ``TorchFunctionMode``.

PyTorch's public extension points with PyTorch's semantics: a ``TorchFunctionMode`` (a
context manager) sees every call of a public function or Tensor method as
``mode.__torch_function__(func, types, args, kwargs)``, with itself disabled while its
handler runs; a Tensor subclass that defines ``__torch_function__`` (a classmethod) is asked
first whenever one of its instances is an argument. ``Tensor.__torch_function__``, the
default, runs the function and converts Tensor results to the subclass.

NOTE [ Installing function-level interception ]
Checking for handlers on every call would cost every op a Python frame even when nobody
intercepts (the per-op budget is about 1 µs). So the public namespaces hold the plain
functions until interception is first needed: entering a ``TorchFunctionMode`` or defining a
Tensor subclass with its own ``__torch_function__`` *installs* wrappers into ``ember``,
``ember.nn.functional``, ``ember.linalg``, ``ember.fft``, ``ember.special`` and the Tensor
class (methods and operators); leaving the last mode uninstalls them again unless such a
subclass exists. A reference taken before installation (``from ember import add``) keeps
the plain function and is not intercepted. Record-level interception (every dispatched op,
backward included) is ``ember._ops.core.DispatchMode``, which the tracer and profiler use.
"""

from __future__ import annotations

import functools
import importlib

from ember._tensor import Tensor

__all__ = ["TorchFunctionMode", "has_torch_function", "handle_torch_function",
           "is_tensor_like", "get_default_nowrap_functions"]

_MODES: list = []  # active TorchFunctionModes, innermost last
_STATE = {"installed": False, "subclasses": False, "disabled": 0}
_SAVED: list = []  # (owner, name, original) to restore on uninstall
_NAMESPACES = ("ember", "ember.nn.functional", "ember.linalg", "ember.fft", "ember.special")
_DUNDERS = ("__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__",
            "__rmul__", "__imul__", "__truediv__", "__rtruediv__", "__itruediv__",
            "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
            "__matmul__", "__rmatmul__", "__and__", "__or__", "__xor__", "__invert__",
            "__neg__", "__abs__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
            "__getitem__", "__setitem__")


class TorchFunctionMode:
    """Intercept every public function call made inside ``with mode:``.

    Override ``__torch_function__(self, func, types, args=(), kwargs=None)``; call
    ``func(*args, **kwargs)`` to run the function (this mode is disabled while its own
    handler runs, outer modes still see the call).

    Example:
        >>> class Log(TorchFunctionMode):
        ...     def __torch_function__(self, func, types, args=(), kwargs=None):
        ...         print(func.__name__)
        ...         return func(*args, **(kwargs or {}))
        >>> with Log():
        ...     _ = ember.ones(2).exp()
        ones
        exp
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        _MODES.append(self)
        _install()
        return self

    def __exit__(self, *exc):
        for i in range(len(_MODES) - 1, -1, -1):
            if _MODES[i] is self:
                del _MODES[i]
                break
        if not _MODES and not _STATE["subclasses"]:
            _uninstall()
        return False


def is_tensor_like(obj) -> bool:
    """Whether ``obj`` is a Tensor or has a ``__torch_function__``.

    Args:
        obj: any object.

    Returns:
        bool.

    Example:
        >>> from ember.overrides import is_tensor_like
        >>> is_tensor_like(ember.ones(1)), is_tensor_like(1.0)
        (True, False)
    """
    return isinstance(obj, Tensor) or hasattr(type(obj), "__torch_function__")


def _overloaded(args, kwargs):
    """Arguments whose type brings its own ``__torch_function__`` (subclasses first)."""
    found = []
    for v in _flat(args, kwargs):
        t = type(v)
        tf = getattr(t, "__torch_function__", None)
        if tf is None or t is Tensor:
            continue
        if getattr(tf, "__func__", tf) is _disabled_torch_function_impl:
            continue
        if not any(type(o) is t for o in found):
            # a subclass goes before its base, as in PyTorch
            idx = next((i for i, o in enumerate(found) if issubclass(t, type(o))),
                       len(found))
            found.insert(idx, v)
    return found


def _flat(args, kwargs):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a
    if kwargs:
        yield from kwargs.values()


def has_torch_function(args) -> bool:
    """Whether any of ``args`` would route a call through ``__torch_function__`` (an
    object or Tensor subclass defining it, or an active ``TorchFunctionMode``).

    Args:
        args: a tuple of the call's relevant arguments.

    Returns:
        bool.

    Example:
        >>> from ember.overrides import has_torch_function
        >>> has_torch_function((ember.ones(1), 2.0))
        False
    """
    return bool(_MODES) or bool(_overloaded(tuple(args), None))


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Run ``public_api`` through the active mode or the arguments' ``__torch_function__``
    (for user functions that want to be overridable, as PyTorch's helper).

    Args:
        public_api: the function being overridden (passed to ``__torch_function__``).
        relevant_args: the arguments whose types are consulted.
        *args: the call's positional arguments.
        **kwargs: the call's keyword arguments.

    Returns:
        What the chosen ``__torch_function__`` returns.

    Example:
        >>> from ember.overrides import handle_torch_function, has_torch_function
        >>> class Logged:
        ...     @classmethod
        ...     def __torch_function__(cls, func, types, args=(), kwargs=None):
        ...         return f"{func.__name__} called"
        >>> def my_op(x):
        ...     if has_torch_function((x,)):
        ...         return handle_torch_function(my_op, (x,), x)
        ...     return x * 2
        >>> my_op(ember.ones(1)), my_op(Logged())
        (tensor([2.]), 'my_op called')
    """
    return _handle(public_api, None, args, kwargs, relevant_args)


def _handle(func, impl, args, kwargs, relevant=None):
    if _MODES:
        mode = _MODES.pop()
        try:
            types = tuple(type(a) for a in _overloaded(tuple(relevant or args), kwargs))
            return mode.__torch_function__(func, types, args, kwargs or {})
        finally:
            _MODES.append(mode)
    over = _overloaded(tuple(relevant or args), kwargs) if not _STATE["disabled"] else []
    if not over:
        return (impl or func)(*args, **kwargs)
    types = tuple(type(a) for a in over)
    for a in over:
        r = type(a).__torch_function__(func, types, args, kwargs or {})
        if r is not NotImplemented:
            return r
    raise TypeError(f"no implementation found for '{getattr(func, '__name__', func)}' on types "
                    f"that implement __torch_function__: {[t.__name__ for t in types]}")


# Operators reach handlers as the method they stand for, as in PyTorch (``x * 2`` -> ``mul``).
_AS_METHOD = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__mul__": "mul",
              "__rmul__": "mul", "__truediv__": "div", "__matmul__": "matmul", "__neg__": "neg",
              "__abs__": "abs", "__pow__": "pow", "__mod__": "remainder", "__iadd__": "add_",
              "__isub__": "sub_", "__imul__": "mul_", "__itruediv__": "div_", "__lt__": "lt",
              "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__ne__": "ne",
              "__rtruediv__": "__rdiv__"}


def _wrap(impl, name, public=None):
    def wrapper(*args, **kwargs):
        if not _MODES and (not _STATE["subclasses"] or _STATE["disabled"]):
            return impl(*args, **kwargs)
        return _handle(public or wrapper, impl, args, kwargs)

    functools.update_wrapper(wrapper, impl)

    wrapper._ember_plain = impl
    wrapper.__name__ = name  # Tensor.__add__ is the family's ``core``: name it as called
    return wrapper


def _install():
    if _STATE["installed"]:
        return
    _STATE["installed"] = True
    for modname in _NAMESPACES:
        mod = importlib.import_module(modname)  # lazily loaded libraries too
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for name in names:
            f = getattr(mod, name, None)
            if callable(f) and not isinstance(f, type) and _is_op_function(f):
                _SAVED.append((mod, name, f))
                setattr(mod, name, _wrap(f, name))
    methods = [(n, f) for n, f in vars(Tensor).items()
               if (not n.startswith("_") or n in _DUNDERS) and callable(f)
               and not isinstance(f, (type, staticmethod, classmethod, property))]
    for name, f in methods:  # methods first: operators hand them to handlers
        if name not in _AS_METHOD:
            _SAVED.append((Tensor, name, f))
            setattr(Tensor, name, _wrap(f, name))
    for name, f in methods:
        if name in _AS_METHOD:
            target = _AS_METHOD[name]
            public = vars(Tensor).get(target)
            if public is None:  # no method of that name: a named stand-in for the handler
                public = _wrap(f, target)
            _SAVED.append((Tensor, name, f))
            setattr(Tensor, name, _wrap(f, name, public))


def _is_op_function(f):
    mod = getattr(f, "__module__", "") or ""
    return mod.startswith("ember.") and not mod.startswith("ember.overrides")


def _uninstall():
    if not _STATE["installed"]:
        return
    for owner, name, f in reversed(_SAVED):
        setattr(owner, name, f)
    _SAVED.clear()
    _STATE["installed"] = False


def _convert(ret, cls):
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor) and not isinstance(ret, cls):
        return ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)):
        return type(ret)(_convert(r, cls) for r in ret)
    return ret


def _default_torch_function(cls, func, types, args=(), kwargs=None):
    """``Tensor.__torch_function__``: run ``func`` without subclass dispatch, then make
    Tensor results instances of ``cls`` (PyTorch's default)."""
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    _STATE["disabled"] += 1
    try:
        ret = func(*args, **(kwargs or {}))
    finally:
        _STATE["disabled"] -= 1
    return _convert(ret, cls)


def _disabled_torch_function_impl(cls, func, types, args=(), kwargs=None):  # noqa: ARG001 - __torch_function__ protocol
    """For subclasses that opt out (``nn.Parameter``): results stay plain Tensors."""
    _STATE["disabled"] += 1
    try:
        return func(*args, **(kwargs or {}))
    finally:
        _STATE["disabled"] -= 1




def _subclass_defined(cls):
    """Called by ``Tensor.__init_subclass__``: a subclass that takes part in
    ``__torch_function__`` (its own handler, or the default one that converts results to the
    subclass) needs the wrappers installed for as long as the process lives."""
    tf = cls.__torch_function__
    if getattr(tf, "__func__", tf) is not _disabled_torch_function_impl:
        _STATE["subclasses"] = True
        _install()


def get_default_nowrap_functions():
    """Functions the default ``__torch_function__`` does not wrap (PyTorch lists a few
    internal ones; ember has none).

    Returns:
        An empty set.

    Example:
        >>> from ember.overrides import get_default_nowrap_functions
        >>> get_default_nowrap_functions()
        set()
    """
    return set()
