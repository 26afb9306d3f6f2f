"""``nn.utils.parametrize``: express a parameter or buffer as a function of other tensors.

NOTE [ Parametrized modules ]
``register_parametrization(module, "weight", P)`` moves the tensor ``module.weight`` into
``module.parametrizations.weight.original`` (a :class:`ParametrizationList`, itself a
``ModuleList`` holding ``P`` and any later parametrizations) and makes ``module.weight`` a
computed value, ``P(original)``, evaluated on every access. As in PyTorch, the module's class
is swapped for a one-off subclass (``ParametrizedLinear`` for a ``Linear``) that carries a
``property`` per parametrized name: a class property is found before ``Module.__getattr__``
is consulted, so ``Module`` itself needs no change and an unparametrized module pays nothing.
Assigning ``module.weight = X`` goes through the property setter, which runs the
parametrizations' ``right_inverse`` and stores the result in ``original``.

``state_dict`` keys are therefore PyTorch's: ``parametrizations.weight.original`` (or
``original0``, ``original1``, ... when ``right_inverse`` returns several tensors) and the
parametrization modules' own buffers under ``parametrizations.weight.0.<buffer>``.
"""

from __future__ import annotations

import copy
import copyreg
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Iterator

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn.modules.container import ModuleDict, ModuleList
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "ParametrizationList", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]

# Depth of nested ``cached()`` blocks and the values computed inside them, keyed by
# (id(module), tensor name). Cleared when the outermost block exits.
_cache_enabled = 0
_cache: dict = {}


@contextmanager
def cached() -> Iterator[None]:
    """Compute each parametrized tensor at most once inside the ``with`` block.

    Useful when a parametrized weight is read several times per step (e.g. an RNN cell
    applied at every time step): the first access computes it, later ones reuse it.

    Returns:
        A context manager.

    Example::

        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).mT
        >>> layer = nn.Linear(3, 3)
        >>> _ = register_parametrization(layer, "weight", Symmetric())
        >>> with cached():
        ...     same = layer.weight is layer.weight   # computed once in the block
        >>> same
        True
    """
    global _cache_enabled, _cache
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module: Module, name: str, x: Tensor) -> None:
    if isinstance(x, Parameter):
        module.register_parameter(name, x)
    else:
        module.register_buffer(name, x)


def _set_data(dest: Tensor, src: Tensor) -> None:
    """Make ``dest`` hold ``src``'s values (PyTorch's ``dest.set_(src)``: shares ``src``'s
    memory; shape and dtype may change). ``dest`` stays the same object, so an optimizer that
    holds it keeps working."""
    if dest is not src:
        dest.data = src


def _same(a, b) -> str:
    return f"{a}" if a == b else f"{a} vs {b}"


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the tensor(s) they act on.

    The unparametrized value lives in ``original`` (or ``original0``, ``original1``, ... when
    the first parametrization's ``right_inverse`` returns a sequence). Calling the list
    evaluates the parametrized tensor. Built by :func:`register_parametrization`; not meant
    to be constructed directly.

    Args:
        modules: the parametrizations (at least one).
        original: the tensor being parametrized.
        unsafe: skip the checks that the parametrized tensor keeps its shape and dtype.

    Example:
        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).mT
        >>> layer = nn.Linear(3, 3)
        >>> _ = register_parametrization(layer, "weight", Symmetric())
        >>> plist = layer.parametrizations.weight
        >>> type(plist).__name__, plist.original.shape
        ('ParametrizationList', torch.Size([3, 3]))
    """

    original: Tensor
    unsafe: bool

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass  # treated as the identity
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the "
                                 f"dtype.\noriginal.dtype: {dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            # Keep the same tensor object so optimizers that already hold it still train it.
            with no_grad():
                _set_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(t).__name__}.")
                if isinstance(original, Parameter):
                    t = Parameter(t.detach(), original.requires_grad)
                else:
                    t = t.detach().requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", t)
        if not self.unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(z).__name__}.")
            if z.dtype != dtype:
                raise ValueError("Registering a parametrization may not change the dtype of "
                                 "the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized dtype: {dtype}\n"
                                 f"parametrized dtype: {z.dtype}")
            if z.shape != shape:
                raise ValueError("Registering a parametrization may not change the shape of "
                                 "the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized shape: {shape}\n"
                                 f"parametrized shape: {z.shape}")

    def right_inverse(self, value: Tensor) -> None:
        """Store in ``original`` the tensor(s) whose parametrized value is ``value``.

        Runs each parametrization's ``right_inverse`` from last to first; a parametrization
        without one makes the tensor read-only (RuntimeError).

        Example::

            >>> m.parametrizations.weight.right_inverse(ember.eye(3))
        """
        with no_grad():
            for module in reversed(self):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _set_data(self.original, value)
            else:
                if not isinstance(value, Sequence):
                    raise ValueError("'right_inverse' must return a sequence of tensors. "
                                     f"Got {type(value).__name__}.")
                if len(value) != self.ntensors:
                    raise ValueError("'right_inverse' must return a sequence of tensors of "
                                     f"length {self.ntensors}. Got a sequence of length "
                                     f"{len(value)}.")
                for i, t in enumerate(value):
                    orig = getattr(self, f"original{i}")
                    if not isinstance(t, Tensor):
                        raise ValueError(f"`right_inverse` must return a sequence of tensors. "
                                         f"Got element {i} of type {type(t).__name__}")
                    if orig.dtype != t.dtype:
                        raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                         f"{t.dtype} while `original{i}` has dtype "
                                         f"{orig.dtype}")
                    _set_data(orig, t)

    def forward(self) -> Tensor:
        """The parametrized tensor: the parametrizations applied in order to the originals."""
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        mods = self._modules
        i = 1
        while str(i) in mods:
            x = mods[str(i)](x)
            i += 1
        return x


def _default_deepcopy(self, memo):
    obj = memo.get(id(self))
    if obj is not None:
        return obj
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            setattr(replica, slot, copy.deepcopy(getattr(self, slot), memo))
    return replica


def _getstate(self):  # noqa: ARG001 - __getstate__ protocol; it refuses
    raise RuntimeError("Serialization of parametrized modules is only supported through "
                       "state_dict(). See the PyTorch tutorial on saving and loading models: "
                       "save `model.state_dict()` and load it into a freshly parametrized "
                       "module.")


def _inject_new_class(module: Module) -> None:
    """Give ``module`` its own subclass, so properties can be added to it alone."""
    cls = module.__class__
    attrs = {"__getstate__": _getstate}
    if not hasattr(cls, "__deepcopy__"):
        attrs["__deepcopy__"] = _default_deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), attrs)


def _inject_property(module: Module, tensor_name: str) -> None:
    """Add to ``module``'s own class a property computing the parametrized ``tensor_name``."""
    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if _cache_enabled:
            key = (id(self), tensor_name)
            t = _cache.get(key)
            if t is None:
                t = parametrization()
                _cache[key] = t
            return t
        return parametrization()

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to a stored
    original tensor.

    The original moves to ``module.parametrizations[tensor_name].original`` (the state_dict
    key is ``parametrizations.<tensor_name>.original``). If ``parametrization`` defines
    ``right_inverse(X)``, it is used to initialise the original (so that the parametrized
    value starts equal to the current tensor) and to assign ``module.<tensor_name> = X``;
    it may return a sequence of tensors, stored as ``original0``, ``original1``, ...
    Registering again on the same name chains parametrizations.

    Args:
        module: the module holding the parameter or buffer.
        tensor_name: its name.
        parametrization: a Module whose ``forward`` maps the original(s) to the tensor.
        unsafe: allow the parametrization to change the tensor's shape or dtype (skips the
            consistency checks).

    Returns:
        ``module``.

    Example::

        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).mT
        >>> m = nn.Linear(3, 3)
        >>> _ = register_parametrization(m, "weight", Symmetric())
        >>> bool((m.weight == m.weight.T).all())
        True
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            if not isinstance(x, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(x).__name__}.")
            if x.dtype != y.dtype:
                raise ValueError("Registering a parametrization may not change the dtype of "
                                 "the tensor, unless the `unsafe` flag is enabled.\n"
                                 f"module.{tensor_name}.dtype: {y.dtype}\n"
                                 f"parametrization(module.{tensor_name}).dtype: {x.dtype}")
            if x.shape != y.shape:
                raise ValueError("Registering a parametrization may not change the shape of "
                                 "the tensor, unless the `unsafe` flag is enabled.\n"
                                 f"module.{tensor_name}.shape: {y.shape}\n"
                                 f"parametrization(module.{tensor_name}).shape: {x.shape}")
            if hasattr(parametrization, "right_inverse"):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    pass
                else:
                    if not isinstance(z, Tensor):
                        raise ValueError("parametrization.right_inverse must return a tensor. "
                                         f"Got: {type(z).__name__}")
                    if z.dtype != y.dtype or z.shape != y.shape:
                        raise ValueError("The tensor returned by parametrization.right_inverse "
                                         "must have the same dtype and shape as "
                                         f"module.{tensor_name}: dtype "
                                         f"{_same(y.dtype, z.dtype)}, shape "
                                         f"{_same(y.shape, z.shape)}")
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe  # once unsafe, the chain stays unchecked
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (or one on ``tensor_name``).

    Args:
        module: the module.
        tensor_name: a parameter or buffer name; None asks about any.

    Returns:
        bool.

    Example::

        >>> is_parametrized(nn.Linear(2, 2))
        False
    """
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    if tensor_name is None:
        return len(plists) > 0
    return tensor_name in plists


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Remove the parametrizations on ``module.<tensor_name>``, making it a plain tensor again.

    Args:
        module: the parametrized module.
        tensor_name: the parametrized tensor.
        leave_parametrized: keep the current parametrized value (True) or restore the
            original (False; impossible when the original is a sequence of tensors).

    Returns:
        ``module``; its class is restored when no parametrization is left.

    Example::

        >>> m = nn.Linear(3, 3)
        >>> _ = register_parametrization(m, "weight", nn.Identity())
        >>> _ = remove_parametrizations(m, "weight")
        >>> is_parametrized(m), type(m) is nn.Linear
        (False, True)
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
                _set_data(original, t)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        t = getattr(module, tensor_name)
        original = Parameter(t.detach(), t.requires_grad) if t.requires_grad else t.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before parametrizations were registered (registering
    one swaps in a ``Parametrized<Class>`` subclass).

    Args:
        module: the module.

    Returns:
        The original class (``type(module)`` when it has no parametrization).

    Example::

        >>> m = nn.Linear(3, 3)
        >>> _ = register_parametrization(m, "weight", nn.Identity())
        >>> type(m).__name__, type_before_parametrizations(m) is nn.Linear
        ('ParametrizedLinear', True)
    """
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Copy the parametrizations (and their originals) of ``from_module`` onto ``to_module``.

    Args:
        from_module: the parametrized source.
        to_module: the destination; a missing parameter is created from the source's
            parametrized value.
        tensor_name: only this tensor (default: every parametrized tensor).

    Returns:
        ``to_module``, parametrized as ``from_module`` is.

    Example::

        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).mT
        >>> m = nn.Linear(3, 3)
        >>> _ = register_parametrization(m, "weight", Symmetric())
        >>> m2 = transfer_parametrizations_and_params(m, nn.Linear(3, 3))
        >>> is_parametrized(m2, "weight"), ember.equal(m2.weight, m.weight)
        (True, True)
    """
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            setattr(to_module, name,
                    Parameter(getattr(from_module, name).detach().clone()))
        if not is_parametrized(to_module, name):
            for p in from_module.parametrizations[name]:
                register_parametrization(to_module, name, p)
        src, dst = from_module.parametrizations[name], to_module.parametrizations[name]
        with no_grad():
            if src.is_tensor:
                _set_data(dst.original, src.original.detach().clone())
            else:
                for i in range(src.ntensors):
                    _set_data(getattr(dst, f"original{i}"),
                              getattr(src, f"original{i}").detach().clone())
    return to_module
