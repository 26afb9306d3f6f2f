"""DataPipes: composable iterable-style and map-style datasets (PyTorch's
``torch.utils.data`` DataPipe framework).

NOTE [ DataPipes in ember ]
PyTorch keeps the DataPipe framework in ``torch.utils.data`` while its torchdata team
stopped developing DataPipes (pytorch/data#1196, torchdata 0.10 removed its own copies), so
ember provides the framework as PyTorch 2.x has it and the functional forms PyTorch
registers on the classes themselves, not torchdata's catalogue:

- ``IterDataPipe`` (an ``IterableDataset``) and ``MapDataPipe`` (a ``Dataset``), whose
  functional forms (``dp.map(fn)``, ``dp.batch(4)``, ...) are looked up in a registry
  filled by ``@functional_datapipe(name)``;
- the single-iterator rule: creating a new iterator of an ``IterDataPipe`` invalidates the
  previous one (RuntimeError on its next ``next``), and starting an iteration calls
  ``reset()``;
- ``DataChunk`` (the list type ``batch`` yields), ``DFIterDataPipe``;
- ``non_deterministic`` / ``guaranteed_datapipes_determinism``: refuse to build a DataPipe
  marked non-deterministic while determinism is guaranteed;
- ``runtime_validation`` / ``runtime_validation_disabled`` / ``argument_validation``: type
  checks against the DataPipe's element type, the parameter of ``IterDataPipe[T]`` (``Any``
  when not given). PyTorch 2.x no longer attaches that type (its ``.type`` attribute is
  gone, so its validators raise AttributeError when they run); ember keeps the documented
  behaviour: ``dp.type`` holds the element type and the validators check it.

Functional forms registered here: ``IterDataPipe``: ``map``, ``filter``, ``batch``,
``unbatch``, ``collate``, ``concat``, ``zip``; ``MapDataPipe``: ``map``, ``batch``,
``concat``, ``zip`` (``datapipes.iter`` and ``datapipes.map`` hold the classes, with the
sources ``IterableWrapper`` and ``SequenceWrapper``).
"""

from __future__ import annotations

import builtins
import functools
import inspect
import typing
from typing import Any, get_type_hints

from ember.utils.data.dataset import Dataset, IterableDataset

__all__ = ["DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe", "argument_validation",
           "functional_datapipe", "guaranteed_datapipes_determinism", "non_deterministic",
           "runtime_validation", "runtime_validation_disabled"]

T_co = typing.TypeVar("T_co", covariant=True)


# --------------------------------------------------------------------------- element types
def _issubtype(left, right):
    """Whether type ``left`` is a subtype of type hint ``right`` (Any, unions, generics)."""
    if right is Any or left == right:
        return True
    if left is Any:
        return False
    r_origin, l_origin = typing.get_origin(right), typing.get_origin(left)
    if r_origin is typing.Union:
        return any(_issubtype(left, r) for r in typing.get_args(right))
    if l_origin is typing.Union:
        return all(_issubtype(lt, right) for lt in typing.get_args(left))
    r_cls = r_origin or right
    l_cls = l_origin or left
    if not (isinstance(l_cls, type) and isinstance(r_cls, type) and issubclass(l_cls, r_cls)):
        return False
    r_args, l_args = typing.get_args(right), typing.get_args(left)
    if not r_args:
        return True
    if not l_args or len(l_args) != len(r_args):
        return False
    return all(_issubtype(a, b) for a, b in zip(l_args, r_args))


def _isinstance(value, hint):
    """Whether ``value`` is an instance of type hint ``hint`` (elements of containers too)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        return any(_isinstance(value, h) for h in typing.get_args(hint))
    cls = origin or hint
    if not isinstance(cls, type):
        return True  # a TypeVar or another hint without an instance check
    if not isinstance(value, cls):
        return False
    args = typing.get_args(hint)
    if not args:
        return True
    if isinstance(value, dict):
        return all(_isinstance(k, args[0]) and _isinstance(v, args[-1])
                   for k, v in value.items())
    if isinstance(value, tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_isinstance(v, args[0]) for v in value)
        return len(args) == len(value) and all(_isinstance(v, a) for v, a in zip(value, args))
    if isinstance(value, (list, set, frozenset)):
        return all(_isinstance(v, args[0]) for v in value)
    return True


class _DataPipeType:
    """The element type of a DataPipe (the ``T`` of ``IterDataPipe[T]``)."""

    def __init__(self, param):
        self.param = param

    def __repr__(self):
        return getattr(self.param, "__name__", None) or repr(self.param)

    def __eq__(self, other):
        return isinstance(other, _DataPipeType) and self.param == other.param

    def __hash__(self):
        return hash(self.param)

    def issubtype(self, other):
        """Whether this element type is a subtype of ``other`` (a ``_DataPipeType`` or a
        hint)."""
        return _issubtype(self.param, other.param if isinstance(other, _DataPipeType)
                          else other)

    def issubtype_of_instance(self, other):
        """Whether the value ``other`` is an instance of this element type."""
        return _isinstance(other, self.param)


def _element_type(cls):
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if isinstance(origin, type) and issubclass(origin, Dataset):
            args = typing.get_args(base)
            if args and not isinstance(args[0], typing.TypeVar):
                return _DataPipeType(args[0])
    return None


# --------------------------------------------------------------------------- the classes
class DataChunk(list):
    """A list of samples, the batch type ``batch`` produces.

    Args:
        items: the samples.

    Example:
        >>> from ember.utils.data import DataChunk
        >>> DataChunk([1, 2]).as_str("  ")
        '  [1, 2]'
    """

    def __init__(self, items):
        items = list(items)
        super().__init__(items)
        self.items = items

    def as_str(self, indent=""):
        """The samples as a string, after ``indent``.

        Args:
            indent: the prefix.

        Returns:
            str.

        Example:
            >>> from ember.utils.data import DataChunk
            >>> DataChunk(["a"]).as_str()
            '[a]'
        """
        return indent + "[" + ", ".join(str(i) for i in builtins.iter(self)) + "]"

    def __iter__(self):
        yield from super().__iter__()

    def raw_iterator(self):
        """Iterate over the samples as the chunk was built (not through ``__iter__``).

        Returns:
            An iterator.

        Example:
            >>> from ember.utils.data import DataChunk
            >>> list(DataChunk([1, 2]).raw_iterator())
            [1, 2]
        """
        yield from self.items


def _invalid_msg(dp):
    return ("This iterator has been invalidated because another iterator has been created "
            f"from the same IterDataPipe: {dp!r}\nThis may be caused by multiple references "
            "to the same IterDataPipe. We recommend using `.fork()` if that is necessary.")


def _hook_iter(fn):
    # NOTE: the id is claimed when iteration starts (the first ``next``), as PyTorch's
    # generator wrapper does, and ``reset()`` runs then too.
    @functools.wraps(fn)
    def __iter__(self):
        def gen():
            vid = self.__dict__.get("_valid_iterator_id")
            my_id = 0 if vid is None else vid + 1
            self._valid_iterator_id = my_id
            self.reset()
            it = builtins.iter(fn(self))
            while True:
                try:
                    item = next(it)
                except StopIteration:
                    return
                if self._valid_iterator_id != my_id:
                    raise RuntimeError(_invalid_msg(self))
                yield item
                if self._valid_iterator_id != my_id:
                    raise RuntimeError(_invalid_msg(self))

        return gen()

    __iter__._ember_hooked = True
    return __iter__


class _FunctionalDataPipe:
    """What iterable- and map-style DataPipes share: methods registered by name in the
    family's ``functions`` (``dp.map(fn)``) and the repr/str hooks. Each family (Iter, Map)
    defines its own ``functions``, ``repr_hook`` and ``str_hook``."""

    def __getattr__(self, attribute_name):
        functions = self.functions
        if attribute_name in functions:
            f = functions[attribute_name]
            function = functools.partial(f, self)
            functools.update_wrapper(wrapper=function, wrapped=f, assigned=("__doc__",))
            return function
        raise AttributeError(f"'{self.__class__.__name__}' object has no attribute "
                             f"'{attribute_name}'")

    @classmethod
    def register_function(cls, function_name, function):
        """Make ``function(dp, ...)`` reachable as ``dp.<function_name>(...)``.

        Args:
            function_name: the method name.
            function: takes the DataPipe first.

        Returns:
            None.

        Example:
            >>> from ember.utils.data import IterDataPipe, MapDataPipe
            >>> IterDataPipe.register_function("first_", lambda dp: next(iter(dp)))
            >>> MapDataPipe.register_function("size_", len)
            >>> from ember.utils.data.datapipes.iter import IterableWrapper
            >>> from ember.utils.data.datapipes.map import SequenceWrapper
            >>> IterableWrapper([7, 8]).first_(), SequenceWrapper([1, 2]).size_()
            (7, 2)
        """
        cls.functions[function_name] = function

    @classmethod
    def _register_class(cls, function_name, cls_to_register):
        if function_name in cls.functions:
            raise Exception(f"Unable to add DataPipe function name {function_name} as it is "
                            "already taken")

        def class_function(source_dp, *args, **kwargs):
            return cls_to_register(source_dp, *args, **kwargs)

        class_function.__doc__ = cls_to_register.__doc__
        cls.functions[function_name] = class_function

    def __repr__(self):
        if self.repr_hook is not None:
            return self.repr_hook(self)
        return str(self.__class__.__qualname__)

    def __str__(self):
        if self.str_hook is not None:
            return self.str_hook(self)
        return str(self.__class__.__qualname__)

    def __dir__(self):
        return list(super().__dir__()) + list(self.functions)


class IterDataPipe(_FunctionalDataPipe, IterableDataset[T_co]):
    """An iterable-style DataPipe: subclasses define ``__iter__``; functional forms
    registered with ``@functional_datapipe`` are reachable as methods (``dp.map(fn)``).

    Only one iterator of a DataPipe is valid at a time: creating a second invalidates the
    first (RuntimeError on its next ``next``); starting an iteration calls ``reset()``.

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper(range(6)).map(lambda x: x * 10).filter(lambda x: x > 20))
        [30, 40, 50]
    """

    functions: dict = {}
    type = _DataPipeType(Any)
    repr_hook = None
    str_hook = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        t = _element_type(cls)
        if t is not None:
            cls.type = t
        it = cls.__dict__.get("__iter__")
        if it is not None and not getattr(it, "_ember_hooked", False):
            cls.__iter__ = _hook_iter(it)

    @classmethod
    def register_datapipe_as_function(cls, function_name, cls_to_register,
                                      enable_df_api_tracing=False):
        """Make ``cls_to_register(dp, ...)`` reachable as ``dp.<function_name>(...)``.

        Args:
            function_name: the method name (must be free).
            cls_to_register: a DataPipe class taking the source DataPipe first.
            enable_df_api_tracing: DataFrame tracing (not supported: must be False).

        Returns:
            None.

        Example:
            >>> from ember.utils.data import IterDataPipe
            >>> "map" in IterDataPipe.functions
            True
        """
        if enable_df_api_tracing:
            raise NotImplementedError("register_datapipe_as_function(): "
                                      "enable_df_api_tracing=True (ember has no DataFrame "
                                      "tracing)")
        cls._register_class(function_name, cls_to_register)

    def reset(self):
        """Called when an iteration starts; override to reset buffers and counters.

        Returns:
            None.

        Example:
            >>> from ember.utils.data.datapipes.iter import IterableWrapper
            >>> IterableWrapper([1]).reset()
        """

    def _is_dfpipe(self):
        return False



class DFIterDataPipe(IterDataPipe):
    """An ``IterDataPipe`` of DataFrames (PyTorch's marker class; ember has no DataFrame
    tracing, so it only answers ``_is_dfpipe()`` with True).

    Example:
        >>> from ember.utils.data import DFIterDataPipe
        >>> issubclass(DFIterDataPipe, ember.utils.data.IterDataPipe)
        True
    """

    def _is_dfpipe(self):
        return True


class MapDataPipe(_FunctionalDataPipe, Dataset[T_co]):
    """A map-style DataPipe: subclasses define ``__getitem__`` and ``__len__``; functional
    forms registered with ``@functional_datapipe`` are reachable as methods.

    Example:
        >>> from ember.utils.data.datapipes.map import SequenceWrapper
        >>> dp = SequenceWrapper([1, 2, 3]).map(lambda x: x + 1)
        >>> dp[0], len(dp)
        (2, 3)
    """

    functions: dict = {}
    type = _DataPipeType(Any)
    repr_hook = None
    str_hook = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        t = _element_type(cls)
        if t is not None:
            cls.type = t

    @classmethod
    def register_datapipe_as_function(cls, function_name, cls_to_register):
        """Make ``cls_to_register(dp, ...)`` reachable as ``dp.<function_name>(...)``.

        Args:
            function_name: the method name (must be free).
            cls_to_register: a DataPipe class taking the source DataPipe first.

        Returns:
            None.

        Example:
            >>> from ember.utils.data import MapDataPipe
            >>> "batch" in MapDataPipe.functions
            True
        """
        cls._register_class(function_name, cls_to_register)



# --------------------------------------------------------------------------- decorators
class functional_datapipe:  # noqa: N801 - PyTorch's name
    """Class decorator: register a DataPipe class as the functional form ``name``.

    Args:
        name: the method name (``dp.<name>(...)`` builds ``cls(dp, ...)``).
        enable_df_api_tracing: DataFrame tracing (not supported: must be False).

    Example:
        >>> from ember.utils.data import IterDataPipe, functional_datapipe
        >>> @functional_datapipe("twice_")
        ... class Twice(IterDataPipe):
        ...     def __init__(self, dp):
        ...         self.dp = dp
        ...     def __iter__(self):
        ...         for x in self.dp:
        ...             yield from (x, x)
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper([1, 2]).twice_())
        [1, 1, 2, 2]
    """

    def __init__(self, name, enable_df_api_tracing=False):
        self.name = name
        self.enable_df_api_tracing = enable_df_api_tracing

    def __call__(self, cls):
        if isinstance(cls, non_deterministic):
            IterDataPipe.register_datapipe_as_function(self.name, cls,
                                                       self.enable_df_api_tracing)
        elif isinstance(cls, type) and issubclass(cls, IterDataPipe):
            IterDataPipe.register_datapipe_as_function(self.name, cls,
                                                       self.enable_df_api_tracing)
        elif isinstance(cls, type) and issubclass(cls, MapDataPipe):
            MapDataPipe.register_datapipe_as_function(self.name, cls)
        return cls


_determinism = [False]


class guaranteed_datapipes_determinism:  # noqa: N801 - PyTorch's name
    """Context manager: building a DataPipe marked ``non_deterministic`` inside it raises
    TypeError. (As in PyTorch, the guarantee starts when the object is created.)

    Example:
        >>> from ember.utils.data import guaranteed_datapipes_determinism
        >>> with guaranteed_datapipes_determinism():
        ...     pass
    """

    def __init__(self):
        self.prev = _determinism[0]
        _determinism[0] = True

    def __enter__(self):
        pass

    def __exit__(self, exc_type, exc_value, traceback):
        _determinism[0] = self.prev


class non_deterministic:  # noqa: N801 - PyTorch's name
    """Mark an ``IterDataPipe`` class as non-deterministic, always (``@non_deterministic``)
    or when a function of the constructor's arguments says so
    (``@non_deterministic(fn)``); building it under ``guaranteed_datapipes_determinism``
    then raises TypeError.

    Args:
        arg: the class, or a function returning a bool.

    Example:
        >>> from ember.utils.data import IterDataPipe, non_deterministic
        >>> @non_deterministic
        ... class Noisy(IterDataPipe):
        ...     def __iter__(self):
        ...         yield 1
        >>> list(Noisy())
        [1]
    """

    cls = None

    def __init__(self, arg):
        if isinstance(arg, type):
            if not issubclass(arg, IterDataPipe):
                raise TypeError("Only `IterDataPipe` can be decorated with `non_deterministic`"
                                f", but {arg.__name__} is found")
            self.cls = arg
        elif callable(arg):
            self.deterministic_fn = arg
        else:
            raise TypeError(f"{arg} can not be decorated by non_deterministic")

    def __call__(self, *args, **kwargs):
        if self.cls is not None:
            if _determinism[0]:
                raise TypeError(f"{self.cls.__name__} is non-deterministic, but you set "
                                "'guaranteed_datapipes_determinism'. You can turn off "
                                "determinism for this DataPipe if that is acceptable for your "
                                "application")
            return self.cls(*args, **kwargs)
        if not (isinstance(args[0], type) and issubclass(args[0], IterDataPipe)):
            raise TypeError(f"Only `IterDataPipe` can be decorated, but {args[0].__name__} is "
                            "found")
        self.cls = args[0]
        return self.deterministic_wrapper_fn

    def deterministic_wrapper_fn(self, *args, **kwargs):
        """Build the class, refusing when ``deterministic_fn(*args, **kwargs)`` is True
        under ``guaranteed_datapipes_determinism``.

        Args:
            *args, **kwargs: the constructor's arguments.

        Returns:
            The DataPipe.

        Example:
            >>> from ember.utils.data import IterDataPipe, non_deterministic
            >>> class P(IterDataPipe):
            ...     def __init__(self, noisy):
            ...         self.noisy = noisy
            >>> make = non_deterministic(lambda noisy: noisy)(P)
            >>> make(False).noisy
            False
        """
        res = self.deterministic_fn(*args, **kwargs)
        if not isinstance(res, bool):
            raise TypeError("deterministic_fn of `non_deterministic` decorator is required to "
                            f"return a boolean value, but {type(res)} is found")
        if _determinism[0] and res:
            raise TypeError(f"{self.cls.__name__} is non-deterministic with the inputs, but "
                            "you set 'guaranteed_datapipes_determinism'. You can turn off "
                            "determinism for this DataPipe if that is acceptable for your "
                            "application")
        return self.cls(*args, **kwargs)


def _datapipe_hint(hint):
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, IterDataPipe):
        args = typing.get_args(hint)
        return _DataPipeType(args[0] if args else origin.type.param)
    return None


def argument_validation(f):
    """Decorator: check the arguments annotated ``IterDataPipe[T]`` are IterDataPipes whose
    element type is a subtype of ``T`` (TypeError otherwise).

    Args:
        f: the function (often a DataPipe's ``__init__``).

    Returns:
        The checking wrapper.

    Example:
        >>> from ember.utils.data import IterDataPipe, argument_validation
        >>> @argument_validation
        ... def first(dp: IterDataPipe[int]):
        ...     return next(iter(dp))
        >>> first([1])
        Traceback (most recent call last):
        ...
        TypeError: Expected argument 'dp' as a IterDataPipe, but found <class 'list'>
    """
    signature = inspect.signature(f)
    hints = get_type_hints(f)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        for name, value in bound.arguments.items():
            hint = _datapipe_hint(hints.get(name))
            if hint is None:
                continue
            if not isinstance(value, IterDataPipe):
                raise TypeError(f"Expected argument '{name}' as a IterDataPipe, but found "
                                f"{type(value)}")
            if not value.type.issubtype(hint):
                raise TypeError(f"Expected type of argument '{name}' as a subtype of hint "
                                f"{hint}, but found {value.type}")
        return f(*args, **kwargs)

    return wrapper


_runtime_validation = [True]


class runtime_validation_disabled:  # noqa: N801 - PyTorch's name
    """Context manager: ``runtime_validation`` checks nothing inside it (starting when the
    object is created, as PyTorch's).

    Example:
        >>> from ember.utils.data import runtime_validation_disabled
        >>> with runtime_validation_disabled():
        ...     pass
    """

    def __init__(self):
        self.prev = _runtime_validation[0]
        _runtime_validation[0] = False

    def __enter__(self):
        pass

    def __exit__(self, exc_type, exc_value, traceback):
        _runtime_validation[0] = self.prev


def runtime_validation(f):
    """Decorator for an ``IterDataPipe``'s ``__iter__``: each yielded sample must be an
    instance of the DataPipe's element type (``T`` of ``IterDataPipe[T]``), else
    RuntimeError.

    Args:
        f: the ``__iter__`` function.

    Returns:
        The checking generator function.

    Example:
        >>> from ember.utils.data import IterDataPipe, runtime_validation
        >>> class Ints(IterDataPipe[int]):
        ...     @runtime_validation
        ...     def __iter__(self):
        ...         yield from (1, "two")
        >>> list(Ints())
        Traceback (most recent call last):
        ...
        RuntimeError: Expected an instance as subtype of int, but found two(<class 'str'>)
    """
    if f.__name__ != "__iter__":
        raise TypeError(f"Can not decorate function {f.__name__} with 'runtime_validation'")

    @functools.wraps(f)
    def wrapper(self):
        if not _runtime_validation[0]:
            yield from f(self)
            return
        for d in f(self):
            if not self.type.issubtype_of_instance(d):
                raise RuntimeError(f"Expected an instance as subtype of {self.type}, but found "
                                   f"{d}({type(d)})")
            yield d

    return wrapper


# Registers the functional forms. NOTE: the submodules become this package's globals
# ``iter`` and ``map``, so the code above calls ``builtins.iter``.
from ember.utils.data.datapipes import iter, map  # noqa: E402,F401,A004
