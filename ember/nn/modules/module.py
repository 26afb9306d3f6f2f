"""``nn.Module``: the base class of every layer, with PyTorch's full contract.

A Module owns three ordered tables, filled by ``__setattr__``: ``_parameters`` (Parameters),
``_buffers`` (Tensors, persistent or not) and ``_modules`` (child Modules). Everything else
(``state_dict`` keys, ``named_*`` iteration order, ``repr``, ``to``/``half``) is derived from
these tables in registration order, exactly as PyTorch does, so a state_dict moves between
ember and PyTorch unchanged.

NOTE [ Module call path ]
``__call__`` is the hot path of every model: with no hooks registered it costs two dict
truth tests and a ``forward`` call. Hooks (forward pre/post, full backward) go through
``_call_with_hooks``. Errors raised inside ``forward`` are annotated on their way out with
the path of the module that raised them inside the model (``classifier.1 (Linear(...)):``),
because "mat1 and mat2 shapes cannot be multiplied" alone does not say which layer failed.
The ``try`` costs nothing until an exception is raised (Python >= 3.11).
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Iterator, Mapping
from typing import Any, Callable

from ember import _dtype as D
from ember._device import check_device
from ember._tensor import Tensor, parse_to_args
from ember.nn.parameter import Buffer, Parameter

__all__ = ["Module"]

# Global hooks (torch.nn.modules.module.register_module_forward_*_hook).
_global_forward_pre_hooks: dict = OrderedDict()
_global_forward_hooks: dict = OrderedDict()
_global_backward_pre_hooks: dict = OrderedDict()
_global_backward_hooks: dict = OrderedDict()
_global_forward_hooks_always_called: dict = {}
_global_parameter_registration_hooks: dict = OrderedDict()
_global_module_registration_hooks: dict = OrderedDict()
_global_buffer_registration_hooks: dict = OrderedDict()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the ones it ignored."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """A handle returned by ``register_*_hook``; ``remove()`` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict: dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        d = self.hooks_dict_ref()
        if d is not None and self.id in d:
            del d[self.id]
        for ref in self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    t = type(obj)
    mod = t.__module__
    return t.__qualname__ if mod in ("builtins", None) else f"{mod}.{t.__qualname__}"


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    pad = " " * n
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _register_global(hooks: dict, hook, prepend=False):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Register a forward pre-hook common to all modules (``hook(module, args)``)."""
    return _register_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable, *, always_call: bool = False) -> RemovableHandle:
    """Register a forward hook common to all modules (``hook(module, args, output)``)."""
    handle = _register_global(_global_forward_hooks, hook)
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """Register a backward pre-hook common to all modules."""
    return _register_global(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """Register a full backward hook common to all modules."""
    return _register_global(_global_backward_hooks, hook)


# --------------------------------------------------------------------------- backward hooks
class _BackwardHook:
    """Runs a module's full backward (pre-)hooks, PyTorch's ``BackwardHook``.

    The tensors that enter ``forward`` and the tensors that leave it pass through identity
    autograd Functions. In backward the output identity sees ``grad_output`` first (pre-hooks
    run there and may replace it); the input identity then sees ``grad_input`` and runs the
    full backward hooks, which may replace it. If no input requires grad the hooks run at the
    output identity with ``grad_input`` all None, as PyTorch does.
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_positions = None

    def _identity(self, tensors, bwd):
        from ember.autograd.function import Function

        class _BackwardHookFunction(Function):
            @staticmethod
            def forward(ctx, *args):
                ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
                return args

            @staticmethod
            def backward(ctx, *grads):  # noqa: ARG004 - autograd.Function's backward(ctx, *grads) protocol
                return bwd(grads)

        return _BackwardHookFunction.apply(*tensors)

    def setup_input_hook(self, args):
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(pos)
        if not any(args[i].requires_grad for i in pos) or not self.user_hooks:
            self.input_positions = None
            return args
        self.input_positions = pos
        new = self._identity([args[i] for i in pos], self._input_bwd)
        args = list(args)
        for i, t in zip(pos, new):
            args[i] = t
        return tuple(args)

    def _input_bwd(self, grads):
        grads = tuple(grads)
        for hook in self.user_hooks:
            r = hook(self.module, grads, self.grad_outputs)
            if r is None:
                continue
            if not isinstance(r, tuple):
                r = (r,)
            if len(r) != len(grads):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(r)}, but expected {len(grads)}")
            grads = r
        self.grad_outputs = None
        return grads

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        pos = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
        if not any(outs[i].requires_grad for i in pos):
            return result
        new = self._identity([outs[i] for i in pos], self._output_bwd)
        outs = list(outs)
        for i, t in zip(pos, new):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    def _output_bwd(self, grads):
        grads = tuple(grads)
        for hook in self.user_pre_hooks:
            r = hook(self.module, grads)
            if r is None:
                continue
            if not isinstance(r, tuple):
                r = (r,)
            if len(r) != len(grads):
                raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(r)}, but expected {len(grads)}")
            grads = r
        self.grad_outputs = grads
        if self.input_positions is None and self.user_hooks:
            # No input needs grad: call the hooks now with grad_input all None.
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                r = hook(self.module, grad_inputs, grads)
                if r is not None and not all(x is None for x in r):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return grads


# --------------------------------------------------------------------------- error paths
_ANNOTATED = (RuntimeError, ValueError, TypeError, IndexError)


def _short_repr(module) -> str:
    extra = module.extra_repr()
    if "\n" in extra:
        extra = extra.split("\n", 1)[0] + ", ..."
    return f"{module._get_name()}({extra})"


def _annotate(e: BaseException, module) -> None:
    """Prefix an error leaving ``module.forward`` with the module's path in the model.

    The innermost module records itself; each enclosing module that owns the previous one
    as a child prepends that child's name, so the top-level call leaves
    ``"classifier.1 (Linear(in_features=256, ...)): <original message>"``.
    """
    if type(e) not in _ANNOTATED or len(e.args) != 1 or not isinstance(e.args[0], str):
        return
    info = e.__dict__.get("_ember_module")
    if info is None:
        e._ember_module = {"leaf": module, "last": module, "path": "", "msg": e.args[0],
                           "done": False}
        e.args = (f"{_short_repr(module)}: {e.args[0]}",)
        return
    if info["done"]:
        return
    for name, child in module._modules.items():
        if child is info["last"]:
            info["path"] = name + ("." + info["path"] if info["path"] else "")
            info["last"] = module
            e.args = (f"{info['path']} ({_short_repr(info['leaf'])}): {info['msg']}",)
            return
    info["done"] = True  # called through something that is not a child: stop here


# --------------------------------------------------------------------------- Module
def _with_device(init):
    """Wrap a Module subclass's ``__init__`` that takes ``device=``: its factory calls run
    with that device as the default (NOTE [ Layer devices ])."""
    import functools
    import inspect

    try:
        params = list(inspect.signature(init).parameters)
    except (TypeError, ValueError):
        return init
    if "device" not in params:
        return init
    pos = params.index("device")  # counting self

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        dev = kwargs.get("device") if "device" in kwargs else \
            args[pos - 1] if len(args) >= pos else None
        if dev is None:
            return init(self, *args, **kwargs)
        from ember._device import device, factory_device

        with device(factory_device(dev)):
            return init(self, *args, **kwargs)

    __init__._ember_device_wrapped = True
    return __init__


# NOTE [ Layer devices ]
# PyTorch layers take ``device=`` and create their parameters there. Rather than thread the
# argument through every ``empty``/``zeros`` call of every layer, a subclass whose
# ``__init__`` takes ``device`` has it wrapped (``__init_subclass__``): when a device is
# given, the constructor runs inside ``with ember.device(dev)``, the default device of
# factory functions, so every tensor it creates lands there (``device="meta"`` included).
class Module:
    """Base class for all neural network modules; subclass it and define ``forward``.

    Assigning a :class:`Parameter`, a Module or (through ``register_buffer``) a Tensor to an
    attribute registers it, so it appears in ``parameters()``, ``state_dict()`` and ``repr``.

    Example::

        >>> import ember.nn as nn
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> list(Net().state_dict())
        ['fc.weight', 'fc.bias']
    """

    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False
    _compiled_call_impl = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_ember_device_wrapped", False):
            cls.__init__ = _with_device(init)

    def __init__(self, *args, **kwargs) -> None:
        if self.call_super_init is False and bool(kwargs):
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if self.call_super_init is False and bool(args):
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_is_full_backward_hook"] = None
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = OrderedDict()
        d["_forward_hooks_always_called"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = OrderedDict()
        d["_state_dict_hooks"] = OrderedDict()
        d["_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_post_hooks"] = OrderedDict()
        d["_modules"] = {}
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    def forward(self, *input: Any) -> Any:
        """Define the computation performed at every call. Subclasses must override it.

        Args:
            *input: whatever the subclass takes.

        Returns:
            Whatever the subclass computes.

        Example:
            >>> class Double(nn.Module):
            ...     def forward(self, x):
            ...         return 2 * x
            ...
            >>> Double()(ember.tensor([1.0, 2.0]))
            tensor([2., 4.])
        """
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks
                or self._backward_pre_hooks or _global_forward_hooks
                or _global_forward_pre_hooks or _global_backward_hooks
                or _global_backward_pre_hooks):
            return self._call_with_hooks(args, kwargs)
        try:
            return self.forward(*args, **kwargs)
        except _ANNOTATED as e:
            _annotate(e, self)
            raise

    _call_impl = __call__
    _wrapped_call_impl = __call__

    def _call_with_hooks(self, args, kwargs):
        full_backward_hooks, backward_pre_hooks = [], []
        if self._backward_pre_hooks or _global_backward_pre_hooks:
            backward_pre_hooks = [*_global_backward_pre_hooks.values(),
                                  *self._backward_pre_hooks.values()]
        if self._backward_hooks or _global_backward_hooks:
            full_backward_hooks = [*_global_backward_hooks.values(),
                                   *self._backward_hooks.values()]
        called_always = set()
        result = None
        try:
            for hook_id, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                                 self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    r = hook(self, args, kwargs)
                    if r is not None:
                        if isinstance(r, tuple) and len(r) == 2:
                            args, kwargs = r
                        else:
                            raise RuntimeError("forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {r}.")
                else:
                    r = hook(self, args)
                    if r is not None:
                        args = r if isinstance(r, tuple) else (r,)
            bw_hook = None
            if full_backward_hooks or backward_pre_hooks:
                bw_hook = _BackwardHook(self, full_backward_hooks, backward_pre_hooks)
                args = bw_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in itertools.chain(_global_forward_hooks.items(),
                                                 self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called or \
                        hook_id in _global_forward_hooks_always_called:
                    called_always.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs:
                    r = hook(self, args, kwargs, result)
                else:
                    r = hook(self, args, result)
                if r is not None:
                    result = r
            if bw_hook is not None:
                result = bw_hook.setup_output_hook(result)
            return result
        except Exception as e:
            # always_call hooks run even when forward (or another hook) raised.
            for hook_id, hook in itertools.chain(_global_forward_hooks.items(),
                                                 self._forward_hooks.items()):
                if hook_id in called_always:
                    continue
                if hook_id in self._forward_hooks_always_called or \
                        hook_id in _global_forward_hooks_always_called:
                    try:
                        if hook_id in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, result)
                        else:
                            hook(self, args, result)
                    except Exception:
                        pass
            if isinstance(e, _ANNOTATED):
                _annotate(e, self)
            raise

    # ------------------------------------------------------------------ attributes
    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        if "_parameters" in d:
            p = d["_parameters"]
            if name in p:
                return p[name]
        if "_buffers" in d:
            b = d["_buffers"]
            if name in b:
                return b[name]
        if "_modules" in d:
            m = d["_modules"]
            if name in m:
                return m[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, d, d["_buffers"], d["_modules"],
                              d["_non_persistent_buffers_set"])
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, d, d["_parameters"], d["_buffers"],
                              d["_non_persistent_buffers_set"])
            for hook in _global_module_registration_hooks.values():
                out = hook(self, name, value)
                if out is not None:
                    value = out
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in d["_non_persistent_buffers_set"]
            # a plain register_buffer would raise "attribute already exists" for buffers
            self._remove_from(name, d, d["_parameters"], d["_modules"])
            buffers.pop(name, None)
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name, *dicts_or_sets):
        for ds in dicts_or_sets:
            if name in ds:
                if isinstance(ds, set):
                    ds.discard(name)
                else:
                    del ds[name]

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if name in d["_parameters"]:
            del d["_parameters"][name]
        elif name in d["_buffers"]:
            del d["_buffers"][name]
            d["_non_persistent_buffers_set"].discard(name)
        elif name in d["_modules"]:
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        attrs = list(object.__dir__(self))
        keys = attrs + list(self._parameters) + list(self._modules) + list(self._buffers)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def __setstate__(self, state):
        self.__dict__.update(state)
        for k, default in (("_forward_pre_hooks", OrderedDict), ("_forward_hooks", OrderedDict),
                           ("_forward_hooks_with_kwargs", OrderedDict),
                           ("_forward_hooks_always_called", OrderedDict),
                           ("_forward_pre_hooks_with_kwargs", OrderedDict),
                           ("_backward_pre_hooks", OrderedDict), ("_backward_hooks", OrderedDict),
                           ("_state_dict_hooks", OrderedDict),
                           ("_state_dict_pre_hooks", OrderedDict),
                           ("_load_state_dict_pre_hooks", OrderedDict),
                           ("_load_state_dict_post_hooks", OrderedDict),
                           ("_non_persistent_buffers_set", set)):
            if k not in self.__dict__:
                self.__dict__[k] = default()
        if "_is_full_backward_hook" not in self.__dict__:
            self.__dict__["_is_full_backward_hook"] = None

    # ------------------------------------------------------------------ registration
    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer (state that is not a parameter, e.g. BatchNorm's running_mean).

        Args:
            name: attribute name.
            tensor: the buffer, or None (skipped by ``state_dict`` and ``to``).
            persistent: whether it is part of ``state_dict``.

        Returns:
            None.

        Example::

            >>> m = nn.Module()
            >>> m.register_buffer("running_mean", ember.zeros(4))
            >>> list(m.state_dict())
            ['running_mean']
        """
        d = self.__dict__
        if "_buffers" not in d:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in d["_buffers"]:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        if isinstance(tensor, Buffer):
            t = Tensor._wrap(tensor._data)
            t._vc = tensor._share_version()
            t._requires_grad = tensor._requires_grad
            tensor = t
        for hook in _global_buffer_registration_hooks.values():
            out = hook(self, name, tensor)
            if out is not None:
                tensor = out
        d["_buffers"][name] = tensor
        if persistent:
            d["_non_persistent_buffers_set"].discard(name)
        else:
            d["_non_persistent_buffers_set"].add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter; ``param`` must be a :class:`Parameter` or None.

        Args:
            name: the attribute name.
            param: the ``Parameter``, or None.

        Returns:
            None.

        Example::

            >>> m = nn.Module()
            >>> m.register_parameter("scale", nn.Parameter(ember.ones(1)))
            >>> [name for name, _ in m.named_parameters()]
            ['scale']
        """
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        if hasattr(self, name) and name not in d["_parameters"]:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            d["_parameters"][name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             "function of another Tensor, compute the value in the forward() "
                             "method.")
        for hook in _global_parameter_registration_hooks.values():
            out = hook(self, name, param)
            if out is not None:
                param = out
        d["_parameters"][name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module, reachable as the attribute ``name``.

        Args:
            name: the attribute name (no dots).
            module: the child module, or None.

        Returns:
            None.

        Example::

            >>> seq = nn.Sequential(nn.Linear(2, 2))
            >>> seq.add_module("act", nn.ReLU())
            >>> seq
            Sequential(
              (0): Linear(in_features=2, out_features=2, bias=True)
              (act): ReLU()
            )
        """
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        for hook in _global_module_registration_hooks.values():
            out = hook(self, name, module)
            if out is not None:
                module = out
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias for :meth:`add_module`."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> Module:
        """Return the submodule at dotted path ``target`` (``""`` is ``self``).

        Args:
            target: the dotted path; ``''`` is the module itself.

        Returns:
            The submodule; AttributeError when there is none.

        Example::

            >>> net = nn.Module()
            >>> net.classifier = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
            >>> net.get_submodule("classifier.1")
            ReLU()
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Replace (or, unless ``strict``, add) the submodule at dotted path ``target``.

        Args:
            target: the dotted path.
            module: the new module.
            strict: require the path to exist already (default False).

        Returns:
            None.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> net.set_submodule('1', nn.Tanh())
            >>> net[1]
            Tanh()
        """
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self.get_submodule(".".join(atoms[:-1]))
        if strict and not hasattr(parent, atoms[-1]):
            raise AttributeError(parent._get_name() + " has no attribute `" + atoms[-1] + "`")
        if hasattr(parent, atoms[-1]) and not isinstance(getattr(parent, atoms[-1]), Module):
            raise AttributeError("`" + atoms[-1] + "` is not an nn.Module")
        setattr(parent, atoms[-1], module)

    def get_parameter(self, target: str) -> Parameter:
        """Return the parameter at dotted path ``target`` (e.g. ``"fc.weight"``).

        Args:
            target: the dotted path, such as ``'0.bias'``.

        Returns:
            The parameter; AttributeError when there is none.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> net.get_parameter('2.bias').shape
            torch.Size([1])
        """
        module_path, _, param_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, param_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(mod, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """Return the buffer at dotted path ``target``.

        Args:
            target: the dotted path, such as ``'0.running_mean'``.

        Returns:
            The buffer; AttributeError when there is none.

        Example:
            >>> nn.Sequential(nn.BatchNorm1d(2)).get_buffer('0.running_var')
            tensor([1., 1.])
        """
        module_path, _, buffer_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, buffer_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + buffer_name + "`")
        if buffer_name not in mod._buffers:
            raise AttributeError("`" + buffer_name + "` is not a buffer")
        return getattr(mod, buffer_name)

    def get_extra_state(self) -> Any:
        """Extra state saved under ``_extra_state`` when a subclass overrides this.

        Returns:
            Any picklable object (the default raises RuntimeError: override it together with
            ``set_extra_state``).

        Example:
            >>> class Counter(nn.Module):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.n = 0
            ...     def get_extra_state(self):
            ...         return {'n': self.n}
            ...     def set_extra_state(self, state):
            ...         self.n = state['n']
            ...
            >>> c = Counter()
            >>> c.n = 5
            >>> d = Counter()
            >>> _ = d.load_state_dict(c.state_dict())
            >>> d.n
            5
        """
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state: Any) -> None:  # noqa: ARG002 - raises, as PyTorch's base implementation does
        """Restore the state returned by :meth:`get_extra_state`.

        Args:
            state: what ``get_extra_state`` returned.

        Returns:
            None.

        Example:
            >>> class Counter(nn.Module):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.n = 0
            ...     def get_extra_state(self):
            ...         return self.n
            ...     def set_extra_state(self, state):
            ...         self.n = state
            ...
            >>> c = Counter()
            >>> c.set_extra_state(3)
            >>> c.state_dict()
            OrderedDict([('_extra_state', 3)])
        """
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    # ------------------------------------------------------------------ iteration
    def _named_members(self, get_members_fn, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None:
                    continue
                if remove_duplicate:
                    if id(v) in memo:
                        continue
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Iterate over the parameters (of submodules too, unless ``recurse=False``).

        Args:
            recurse: include the submodules' members too (default True).

        Returns:
            An iterator over the parameters.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> sum(p.numel() for p in net.parameters())
            13
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Iterate over ``(dotted name, parameter)`` pairs, shared parameters once.

        Args:
            prefix: a string put before every name.
            recurse: include the submodules' members too (default True).
            remove_duplicate: yield a shared parameter once (default True).

        Returns:
            An iterator over ``(dotted name, parameter)`` pairs.

        Example::

            >>> [n for n, _ in nn.Linear(2, 3).named_parameters()]
            ['weight', 'bias']
        """
        yield from self._named_members(lambda m: m._parameters.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Iterate over the buffers.

        Args:
            recurse: include the submodules' members too (default True).

        Returns:
            An iterator over buffer tensors.

        Example:
            >>> bn = nn.BatchNorm1d(2)
            >>> [b.shape for b in bn.buffers()]
            [torch.Size([2]), torch.Size([2]), torch.Size([])]
        """
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Iterate over ``(dotted name, buffer)`` pairs.

        Args:
            prefix: a string put before every name.
            recurse: include the submodules' members too (default True).
            remove_duplicate: yield a buffer shared by several modules once (default True).

        Returns:
            An iterator over ``(name, buffer)`` pairs.

        Example:
            >>> [name for name, _ in nn.BatchNorm1d(2).named_buffers()]
            ['running_mean', 'running_var', 'num_batches_tracked']
        """
        yield from self._named_members(lambda m: m._buffers.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def children(self) -> Iterator[Module]:
        """Iterate over the immediate child modules.

        Returns:
            An iterator over the direct submodules.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> [type(c).__name__ for c in net.children()]
            ['Linear', 'ReLU', 'Linear']
        """
        for _, m in self.named_children():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Iterate over ``(name, child)`` pairs, each child once.

        Returns:
            An iterator over ``(name, module)`` pairs.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> [name for name, _ in net.named_children()]
            ['0', '1', '2']
        """
        memo = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def modules(self) -> Iterator[Module]:
        """Iterate over all modules in the tree, ``self`` first.

        Returns:
            An iterator over every module of the tree.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> len(list(net.modules()))
            4
        """
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Iterate over ``(dotted path, module)`` for the whole tree, depth first, pre-order.

        Args:
            memo: modules to skip (used by the recursion).
            prefix: a string put before every name.
            remove_duplicate: yield a module reachable by several paths once (default True).

        Returns:
            An iterator over ``(dotted path, module)`` pairs.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> [name for name, _ in net.named_modules()]
            ['', '0', '1', '2']
        """
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=False`` is eval mode) on this module and its children.

        Args:
            mode: True for training mode, False for evaluation mode.

        Returns:
            ``self``.

        Example:
            >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
            >>> net.train(False).training, net[0].training
            (False, False)
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``.

        Returns:
            ``self``.

        Example:
            >>> nn.Dropout().eval().training
            False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter.

        Args:
            requires_grad: the new value (default True).

        Returns:
            ``self``.

        Example:
            >>> m = nn.Linear(2, 2).requires_grad_(False)
            >>> m.weight.requires_grad
            False
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (to None by default, else to zero).

        Args:
            set_to_none: set the gradients to None (default) instead of zero tensors.

        Returns:
            None.

        Example:
            >>> m = nn.Linear(2, 1)
            >>> m(ember.ones(1, 2)).sum().backward()
            >>> m.zero_grad()
            >>> m.weight.grad is None
            True
        """
        for p in self.parameters():
            g = p.grad
            if g is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g.zero_()

    def share_memory(self) -> Module:
        """Move every parameter and buffer into shared memory (for Hogwild training).

        Returns:
            ``self``.

        Example:
            >>> m = nn.Linear(2, 1).share_memory()
            >>> m.weight.is_shared()
            True
        """
        return self._apply(lambda t: t.share_memory_())

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and then on ``self``.

        Args:
            fn: a function called with each module.

        Returns:
            ``self``.

        Example::

            >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
            >>> def zero_bias(m):
            ...     if isinstance(m, nn.Linear):
            ...         nn.init.zeros_(m.bias)
            >>> _ = net.apply(zero_bias)
            >>> net[0].bias.detach()
            tensor([0., 0.])
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ conversion
    def _apply(self, fn, recurse=True):
        from ember.autograd.grad_mode import no_grad

        if recurse:
            for m in self.children():
                m._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with no_grad():
                new = fn(param)
            if new is not param:
                # keep the Parameter object (optimizers hold it): swap its data, as PyTorch
                param.data = new
            if param.grad is not None:
                with no_grad():
                    g = fn(param.grad)
                if g is not param.grad:
                    param.grad = g
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Convert floating-point parameters and buffers to ``dtype``; ``device`` must be cpu.

        Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` and the
        keywords ``device``, ``dtype``, ``non_blocking``, ``memory_format``.

        Args:
            *args: a device, a dtype, both, or a tensor whose device and dtype to take.
            **kwargs: ``device=``, ``dtype=``, ``non_blocking=``, ``memory_format=``.

        Returns:
            ``self``, converted in place.

        Example::

            >>> net = nn.Linear(2, 2)
            >>> net.to(ember.float64)
            Linear(in_features=2, out_features=2, bias=True)
            >>> net.weight.dtype
            torch.float64
        """
        dtype, _, dev = parse_to_args(args, kwargs, allow_copy=False, with_device=True)
        if dtype is None and dev is None:
            return self
        if dtype is not None:
            dtype = D.to_dtype(dtype)
            if not (dtype.is_floating_point or dtype.is_complex):
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype={dtype}")

        def convert(t):
            if dtype is not None and (t.is_floating_point() or t.is_complex()):
                return t.to(device=dev, dtype=dtype)
            return t.to(device=dev) if dev is not None else t

        return self._apply(convert)

    def cpu(self) -> Module:
        """Moves all parameters and buffers to the CPU.

        Returns:
            ``self``.

        Example:
            >>> nn.Linear(2, 2).cpu().weight.device
            device(type='cpu')
        """
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        """Move parameters and buffers to a CUDA device (an index, "cuda:N" or device).

        Args:
            device: the CUDA device (default: the current one).

        Returns:
            ``self``; RuntimeError when no CUDA backend is available.

        Example:
            >>> ember.cuda.is_available()
            False
        """
        if isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(check_device("cuda" if device is None else device, routed=True))

    def to_empty(self, *, device=None, recurse: bool = True) -> Module:
        """Move parameters and buffers to ``device`` with fresh, uninitialised storage (ember
        zero-fills it): how a model built on the ``meta`` device gets real memory. Call
        ``reset_parameters()`` (or load a state dict) afterwards to give it values.

        Args:
            device: the target device.
            recurse: convert the submodules too (default True).

        Returns:
            ``self``.

        Example:
            >>> m = nn.Linear(1000, 1000, device='meta')
            >>> m.to_empty(device='cpu').weight.device
            device(type='cpu')
        """
        from ember._ops.creation import empty_like

        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def type(self, dst_type) -> Module:
        """Casts all parameters and buffers to ``dst_type``.

        Args:
            dst_type: a dtype.

        Returns:
            ``self``.

        Example:
            >>> nn.Linear(2, 2).type(ember.float64).weight.dtype
            torch.float64
        """
        dst_type = D.to_dtype(dst_type) if not isinstance(dst_type, str) else dst_type
        return self._apply(lambda t: t.type(dst_type))

    def _cast_float(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32.

        Returns:
            ``self``.

        Example:
            >>> nn.Linear(2, 2).double().float().weight.dtype
            torch.float32
        """
        return self._cast_float(D.float32)

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64.

        Returns:
            ``self``.

        Example:
            >>> nn.Linear(2, 2).double().bias.dtype
            torch.float64
        """
        return self._cast_float(D.float64)

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16.

        Returns:
            ``self``.

        Example:
            >>> nn.Linear(2, 2).half().weight.dtype
            torch.float16
        """
        return self._cast_float(D.float16)

    def bfloat16(self) -> Module:
        """Cast floating-point parameters and buffers to bfloat16.

        Returns:
            ``self``.

        Example:
            >>> nn.Linear(2, 2).bfloat16().weight.dtype
            torch.bfloat16
        """
        return self._cast_float(D.bfloat16)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Run ``hook(module, args)`` (or ``hook(module, args, kwargs)``) before forward.

        The hook may return replacement args (or ``(args, kwargs)`` with ``with_kwargs``).

        Args:
            hook: ``hook(module, args)`` (with ``with_kwargs``: ``hook(module, args, kwargs)``);
                a non-None return replaces the arguments.
            prepend: run this hook before the ones already registered (default False).
            with_kwargs: pass the keyword arguments too.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example::

            >>> m = nn.Linear(2, 1)
            >>> h = m.register_forward_pre_hook(lambda mod, args: print(args[0].shape))
            >>> _ = m(ember.ones(3, 2))
            torch.Size([3, 2])
            >>> h.remove()
        """
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Run ``hook(module, args, output)`` after forward; a non-None return replaces output.

        Args:
            hook: ``hook(module, args, output)`` (with ``with_kwargs``: ``hook(module, args,
                kwargs, output)``); a non-None return replaces the output.
            prepend: run this hook before the ones already registered (default False).
            with_kwargs: pass the keyword arguments too.
            always_call: run the hook even when forward raises.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example::

            >>> m = nn.Identity()
            >>> h = m.register_forward_hook(lambda mod, args, out: out * 2)
            >>> m(ember.tensor([1.0, 2.0]))
            tensor([2., 4.])
        """
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs,
                                             self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable,
                                        prepend: bool = False) -> RemovableHandle:
        """Run ``hook(module, grad_output)`` when the gradient w.r.t. the output is known.

        A non-None return replaces ``grad_output``.

        Args:
            hook: ``hook(module, grad_output)``; it may return a new ``grad_output``.
            prepend: run this hook before the ones already registered (default False).

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> m = nn.Linear(2, 1)
            >>> seen = []
            >>> h = m.register_full_backward_pre_hook(lambda mod, go: seen.append(len(go)))
            >>> m(ember.ones(3, 2)).sum().backward()
            >>> seen
            [1]
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook: Callable,
                                    prepend: bool = False) -> RemovableHandle:
        """Run ``hook(module, grad_input, grad_output)`` when input gradients are computed.

        A non-None return replaces ``grad_input``.

        Args:
            hook: ``hook(module, grad_input, grad_output)``; it may return new ``grad_input``.
            prepend: run this hook before the ones already registered (default False).

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example::

            >>> m = nn.Linear(2, 1)
            >>> h = m.register_full_backward_hook(lambda mod, gi, go: print(go[0].shape))
            >>> m(ember.ones(3, 2)).sum().backward()
            torch.Size([3, 1])
        """
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated in PyTorch; ember runs it as a full backward hook.

        Args:
            hook: ``hook(module, grad_input, grad_output)``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> m = nn.Linear(2, 1)
            >>> h = m.register_backward_hook(lambda *a: None)
            >>> h.remove()
        """
        return self.register_full_backward_hook(hook)

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` before this module's ``state_dict`` entries.

        Args:
            hook: the function.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> m = nn.Linear(2, 1)
            >>> calls = []
            >>> h = m.register_state_dict_pre_hook(lambda mod, prefix, keep: calls.append(prefix))
            >>> _ = m.state_dict()
            >>> calls
            ['']
        """
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` after ``state_dict``.

        Args:
            hook: the function.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> m = nn.Linear(2, 1)
            >>> def drop_bias(mod, sd, prefix, meta):
            ...     del sd[prefix + 'bias']
            ...
            >>> h = m.register_state_dict_post_hook(drop_bias)
            >>> list(m.state_dict())
            ['weight']
        """
        handle = self._register_state_dict_hook(hook)
        hook = self._state_dict_hooks[handle.id]
        try:  # as PyTorch marks it: a public post-hook may not replace the state_dict
            hook._from_public_api = True
        except AttributeError:  # a bound method: mark a wrapper instead
            def marked(*args, _hook=hook):
                return _hook(*args)
            marked._from_public_api = True
            self._state_dict_hooks[handle.id] = marked
        return handle

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        # The private spelling: a hook that returns a dict replaces the state_dict.
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing, unexpected,
        error_msgs)`` before this module loads its entries.

        Args:
            hook: the function.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> m = nn.Linear(2, 1)
            >>> def rename(mod, sd, prefix, *rest):
            ...     if 'w' in sd:
            ...         sd['weight'] = sd.pop('w')
            ...
            >>> h = m.register_load_state_dict_pre_hook(rename)
            >>> m.load_state_dict({'w': ember.zeros(1, 2), 'bias': ember.zeros(1)})
            <All keys matched successfully>
        """
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = hook
        return handle

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        if with_module:
            return self.register_load_state_dict_pre_hook(hook)
        return self.register_load_state_dict_pre_hook(
            lambda module, *args: hook(*args))

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` after ``load_state_dict``; it may edit the
        key lists in place.

        Args:
            hook: the function.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> m = nn.Linear(2, 1)
            >>> forgive = lambda mod, keys: keys.missing_keys.clear()
            >>> h = m.register_load_state_dict_post_hook(forgive)
            >>> m.load_state_dict({'weight': ember.zeros(1, 2)})
            <All keys matched successfully>
        """
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ state_dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """Return an ``OrderedDict`` of parameters and persistent buffers by dotted name.

        Keys follow PyTorch's layout (``features.0.weight``, ``bn.running_mean``,
        ``bn.num_batches_tracked``), so a state_dict loads into the same PyTorch model.
        Tensors are detached unless ``keep_vars``; they share memory with the module.

        Args:
            *args: the deprecated positional form of ``destination``, ``prefix``, ``keep_vars``.
            destination: a dict to fill (default: a new OrderedDict).
            prefix: a string put before every name.
            keep_vars: keep the tensors attached to autograd (default False: detached).

        Returns:
            An ``OrderedDict`` from dotted names to tensors (and extra state).

        Example::

            >>> list(nn.BatchNorm1d(3).state_dict())
            ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
        """
        if args:  # the deprecated positional form state_dict(destination, prefix, keep_vars)
            if destination is None and len(args) > 0:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            r = hook(self, destination, prefix, local_metadata)
            if r is not None:
                if getattr(hook, "_from_public_api", False):
                    raise RuntimeError("state_dict post-hook must return None")
                destination = r
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Copy this module's own entries from ``state_dict`` (children are handled by the
        caller); subclasses override it to migrate old checkpoints."""
        from ember.autograd.grad_mode import no_grad

        for hook in self._load_state_dict_pre_hooks.values():
            hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs)
        persistent_buffers = {k: v for k, v in self._buffers.items()
                              if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(),
                                                         persistent_buffers.items())
                       if v is not None}
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            input_param = state_dict[key]
            if not isinstance(input_param, Tensor):
                if hasattr(input_param, "__array__"):
                    import numpy as np

                    input_param = Tensor._wrap(np.asarray(input_param))
                else:
                    error_msgs.append(f'While copying the parameter named "{key}", expected '
                                      "torch.Tensor or Tensor-like object from checkpoint but "
                                      f"received {type(input_param)}")
                    continue
            if input_param.shape != param.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{input_param.shape} from checkpoint, the shape in current "
                                  f"model is {param.shape}.")
                continue
            try:
                if local_metadata.get("assign_to_params_buffers", False):
                    # PyTorch's assign=True: the module takes the given tensor itself (its
                    # dtype and memory); a parameter stays a Parameter with its
                    # requires_grad, a buffer becomes the given tensor.
                    from ember.nn.parameter import Parameter

                    if isinstance(param, Parameter):
                        if not isinstance(input_param, Parameter):
                            input_param = Parameter(input_param,
                                                    requires_grad=param.requires_grad)
                        else:
                            input_param.requires_grad_(param.requires_grad)
                    setattr(self, name, input_param)
                else:
                    with no_grad():
                        param.copy_(input_param)
            except Exception as ex:
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions '
                                  f"in the model are {param.shape} and whose dimensions in the "
                                  f"checkpoint are {input_param.shape}, an exception occurred : "
                                  f"{ex.args}.")
        extra_key = prefix + "_extra_state"
        has_extra = type(self).set_extra_state is not Module.set_extra_state
        if has_extra:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        if strict:
            for key in state_dict.keys():
                if key.startswith(prefix) and not (has_extra and key == extra_key):
                    input_name = key[len(prefix):].split(".", 1)
                    if len(input_name) > 1:
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this module and its children.

        Args:
            state_dict: a mapping from dotted names to tensors (ember's or NumPy arrays).
            strict: raise if keys are missing or unexpected (the report is returned either
                way as ``_IncompatibleKeys(missing_keys, unexpected_keys)``).
            assign: False copies values into the existing tensors (keeping their dtype and
                memory); True makes the module hold the given tensors themselves, as
                PyTorch does: parameters are wrapped as ``Parameter`` (keeping the module's
                ``requires_grad``), buffers are replaced.

        Returns:
            A namedtuple ``(missing_keys, unexpected_keys)`` of lists (both empty after a strict
            load).

        Example::

            >>> net, other = nn.Linear(2, 2), nn.Linear(2, 2)
            >>> net.load_state_dict(other.state_dict())
            <All keys matched successfully>
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, local_state_dict, prefix=""):
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            if assign:  # passed through the metadata, as PyTorch does, so overrides of
                # _load_from_state_dict keep their signature
                local_metadata = {**local_metadata, "assign_to_params_buffers": True}
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state_dict.items()
                                   if k.startswith(child_prefix)}
                    load(child, child_state, child_prefix)
            incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                out = hook(module, incompatible)
                if out is not None:
                    raise RuntimeError("Hooks registered with "
                                       "``register_load_state_dict_post_hook`` are not expected "
                                       "to return new values, if incompatible_keys need to be "
                                       "modified, it should be done inplace.")

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The layer-specific part of ``repr`` (e.g. ``in_features=4, out_features=2``).

        Returns:
            A string (empty by default).

        Example:
            >>> nn.Linear(2, 3).extra_repr()
            'in_features=2, out_features=3, bias=True'
        """
        return ""

    def _get_name(self) -> str:
        return self.__class__.__name__

    def __repr__(self) -> str:
        extra_lines = []
        extra = self.extra_repr()
        if extra:
            extra_lines = extra.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            child_lines.append("(" + key + "): " + _addindent(repr(module), 2))
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"

    def compile(self, *args, **kwargs) -> None:
        """Eager ember has no compile step; accepted for compatibility.

        Args:
            *args: ignored.
            **kwargs: ignored.

        Returns:
            None.

        Example:
            >>> m = nn.Linear(2, 2)
            >>> m.compile()
            >>> m(ember.ones(1, 2)).shape
            torch.Size([1, 2])
        """

    def _replicate_for_data_parallel(self):
        replica = self.__new__(type(self))
        replica.__dict__ = self.__dict__.copy()
        replica._parameters = dict()
        replica._buffers = replica._buffers.copy()
        replica._modules = replica._modules.copy()
        return replica
