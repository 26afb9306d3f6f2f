"""``Optimizer``: the base class of every ember optimizer (PyTorch's ``torch.optim.Optimizer``).

An optimizer holds ``param_groups`` (a list of dicts: ``"params"`` plus that group's
hyperparameters, filled from ``defaults``) and ``state`` (a dict keyed by parameter holding
that parameter's buffers). ``state_dict()`` packs both in PyTorch's layout, with parameters
replaced by integer indices in group order, so a dict saved by PyTorch loads here and the
reverse (convert tensors through NumPy).

NOTE [ The optimizer hot path ]
Built-in optimizers derive from ``_ListOptimizer``: its ``step`` gathers, per param group, the
parameters that have a gradient, their gradients and their state into lists (``_Lists``,
the one per-parameter loop), then the optimizer's ``_update`` runs its algorithm on whole
lists with the ``ember._foreach_*`` records (``ember/_ops/foreach.py``): one dispatch per
formula step for all parameters, each record taking its array module from the arrays, so a
step runs on any backend. The arithmetic follows PyTorch's single-tensor implementations
operation by operation (same formulas, same order, scalars computed in Python floats, 0-dim
``step`` tensors in float32), so trajectories agree to float rounding. Per-parameter scalars
that depend on the step count (bias corrections) are one number when every parameter has
taken the same number of steps and a list of numbers otherwise.

By default (``foreach`` unset or False, not ``differentiable``) every built-in optimizer but
LBFGS hands the whole update to its fused record instead (``_fused_adam_``, ``_fused_sgd_``,
``_fused_rmsprop_``, ... in ``ember/_ops/foreach.py``; ``_has_fused`` and ``_use_fused``):
one dispatch per param group whose loop runs every formula step on one parameter before the
next. It is the same sequence of operations as the foreach path, so results are bit for bit
the same, and on host arrays it is faster (one pass per formula step over hundreds of small
tensors pays a loop iteration and a version bump per tensor). ``foreach=True`` keeps the
foreach records.

The lists hide three special cases from the algorithms: complex tensors are viewed as real
pairs (PyTorch's ``view_as_real``), float16/bfloat16 tensors are worked on as float32 copies
written back after the update (PyTorch's fused kernels' "opmath"), and ``foreach=False``
runs the same records on one-tensor lists, parameter by parameter. ``differentiable=True``
runs the step with grad mode on: the foreach records then take their per-tensor composites of
ordinary ember ops, so the update is recorded by autograd.

Writing a new optimizer takes one short subclass. ``step`` may use ember tensor ops under
``no_grad`` (simple) or the ``ember._foreach_*`` ops on lists (fast)::

    import ember
    from ember.optim import Optimizer

    class SignSGD(Optimizer):
        '''SGD on the sign of the gradient, with optional momentum.'''

        def __init__(self, params, lr=1e-2, momentum=0.0):
            if lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @ember.no_grad()
        def step(self, closure=None):
            loss = self._eval_closure(closure)   # runs closure() with grad enabled
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d = p.grad.sign()
                    if group["momentum"]:
                        buf = self.state[p].setdefault("buf", ember.zeros_like(p))
                        buf.mul_(group["momentum"]).add_(d)
                        d = buf
                    p.sub_(group["lr"] * d)
            return loss

Step hooks, per-group options, ``add_param_group``, ``zero_grad`` and ``state_dict`` /
``load_state_dict`` (including the ``"buf"`` state above) come from the base class.
"""

from __future__ import annotations

import copy
import functools
import numbers
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import ember
from ember import _dtype as D
from ember._graph import GRAD
from ember._tensor import Tensor
from ember.autograd.profiler import _ACTIVE as _PROFILING
from ember.autograd.profiler import record_function as _record_function

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Singleton marking a hyperparameter that every param group must give."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class RemovableHandle:
    """Handle returned by the ``register_*_hook`` methods; ``remove()`` unregisters."""

    _next_id = 0

    def __init__(self, hooks_dict: dict) -> None:
        import weakref

        self._ref = weakref.ref(hooks_dict) if hasattr(hooks_dict, "__weakref__") else None
        self._dict = hooks_dict if self._ref is None else None
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        d = self._ref() if self._ref is not None else self._dict
        if d is not None and self.id in d:
            del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_GLOBAL_STEP_PRE_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_STEP_POST_HOOKS: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Register a pre-hook run before every optimizer's ``step``: ``hook(opt, args, kwargs)``.

    It may return ``None`` or a tuple ``(new_args, new_kwargs)``.

    Args:
        hook: the function, called for every optimizer of the process.

    Returns:
        A handle whose ``remove()`` unregisters the hook.

    Example:
        >>> from ember.optim.optimizer import register_optimizer_step_pre_hook
        >>> seen = []
        >>> handle = register_optimizer_step_pre_hook(lambda o, a, k: seen.append(type(o).__name__))
        >>> opt.step()
        >>> handle.remove()
        >>> seen
        ['SGD']
    """
    handle = RemovableHandle(_GLOBAL_STEP_PRE_HOOKS)
    _GLOBAL_STEP_PRE_HOOKS[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Register a post-hook run after every optimizer's ``step``: ``hook(opt, args, kwargs)``.

    Args:
        hook: the function, called for every optimizer of the process.

    Returns:
        A handle whose ``remove()`` unregisters the hook.

    Example:
        >>> from ember.optim.optimizer import register_optimizer_step_post_hook
        >>> steps = []
        >>> handle = register_optimizer_step_post_hook(lambda o, a, k: steps.append(1))
        >>> opt.step(); opt.step()
        >>> handle.remove()
        >>> len(steps)
        2"""
    handle = RemovableHandle(_GLOBAL_STEP_POST_HOOKS)
    _GLOBAL_STEP_POST_HOOKS[handle.id] = hook
    return handle


def _hooked_step(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so step pre/post hooks run around it (once per call)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if _PROFILING and not self._in_step:  # a profiler runs: PyTorch's named range
            with _record_function(f"Optimizer.step#{type(self).__name__}.step"):
                return hooked(self, *args, **kwargs)
        return hooked(self, *args, **kwargs)

    def hooked(self, *args, **kwargs):
        self._opt_called = True  # read by lr_scheduler's "step order" warning
        if self._in_step:  # a subclass's step calling super().step(): hooks already ran
            return step(self, *args, **kwargs)
        pre = self._optimizer_step_pre_hooks
        post = self._optimizer_step_post_hooks
        if not (pre or post or _GLOBAL_STEP_PRE_HOOKS or _GLOBAL_STEP_POST_HOOKS):
            self._in_step = True
            try:
                return step(self, *args, **kwargs)
            finally:
                self._in_step = False
        for hook in chain(_GLOBAL_STEP_PRE_HOOKS.values(), pre.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step.__qualname__} must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in chain(post.values(), _GLOBAL_STEP_POST_HOOKS.values()):
            hook(self, args, kwargs)
        return out

    wrapper._ember_hooked = True
    return wrapper


def _scalar_dtype():
    """dtype of 0-dim state scalars (``step``): float64 under a float64 default, else float32."""
    return D.float64 if D.get_default_dtype() is D.float64 else D.float32


def _as_tensor(v) -> Tensor | None:
    """``v`` as an ember Tensor when it is tensor-like (an ember Tensor, a host array, or a
    foreign tensor such as one from a PyTorch state_dict), else None."""
    if isinstance(v, Tensor):
        return v.detach()
    if isinstance(v, numbers.Number) or not hasattr(v, "shape"):
        return None
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a foreign (e.g. PyTorch) tensor
        return ember.tensor(v.detach().cpu().numpy())
    if hasattr(v, "__array__") or hasattr(v, "__array_interface__"):
        return ember.tensor(v)
    return None


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    return type(obj).__module__ + "." + type(obj).__name__ if type(obj).__module__ not in (
        "builtins",) else type(obj).__name__


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param
            groups: ``{"params": [...], "lr": ...}``) giving per-group options.
        defaults: hyperparameter defaults, used by groups that don't set them.

    Example::

        >>> w = ember.nn.Parameter(ember.ones(3))
        >>> opt = ember.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step(); opt.zero_grad()
        >>> w
        Parameter containing:
        tensor([0.8000, 0.8000, 0.8000], requires_grad=True)
    """

    # Subclasses may list state keys their step creates; load_state_dict then rejects state
    # with other keys (a state_dict from a different optimizer). None: accept anything.
    _state_keys: frozenset | None = None
    # Group keys a saved group may lack (filled from defaults, like PyTorch's __setstate__):
    # flags added in later PyTorch versions. Every other key of defaults must be present.
    _optional_group_keys = frozenset({"foreach", "maximize", "capturable", "differentiable",
                                      "fused", "decoupled_weight_decay", "amsgrad", "nesterov",
                                      "centered"})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_ember_hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._in_step = False
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + params.type())
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ pickling, repr
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.__dict__.setdefault("_in_step", False)
        for group in self.param_groups:
            for k, v in self.defaults.items():
                if k in self._optional_group_keys:
                    group.setdefault(k, v)

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group (a dict with ``"params"`` and optional per-group options).

        Args:
            param_group: ``{"params": tensors, **options}``; missing options take the
                optimizer's defaults.

        Returns:
            None.

        Example::

            >>> extra_weight = nn.Parameter(ember.zeros(3))
            >>> opt.add_param_group({"params": [extra_weight], "lr": 1e-4})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.0001]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        group = dict(param_group)
        group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (
                    p._grad_fn is None or p._meta_get("retains_grad")):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            # PyTorch warns ("in future, this will cause an error"); ember errors now, since a
            # parameter updated twice per step is always a bug.
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = set()
        for g in self.param_groups:
            seen.update(id(p) for p in g["params"])
            if ("param_names" in group) != ("param_names" in g):
                txt = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        # PyTorch stores the caller's dict itself; keep that (schedulers and users mutate it).
        param_group.clear()
        param_group.update(group)
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ step / grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters.

        Args:
            set_to_none: set ``.grad`` to None (default) instead of filling it with zeros.

        Returns:
            None.

        Example:
            >>> model(ember.ones(1, 4)).sum().backward()
            >>> opt.zero_grad()
            >>> model.weight.grad is None
            True
        """
        if _PROFILING:  # a profiler runs: PyTorch's named range
            with _record_function(f"Optimizer.zero_grad#{type(self).__name__}.zero_grad"):
                return self._zero_grad(set_to_none)
        return self._zero_grad(set_to_none)

    def _zero_grad(self, set_to_none):
        zero = []
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g._grad_fn is not None:
                        g.detach_()
                    else:
                        g._requires_grad = False
                    zero.append(g)
        if zero:  # one foreach op for all of them, as PyTorch's zero_grad
            ember._foreach_zero_(zero)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step (subclasses implement it).

        Args:
            closure: re-evaluates the model and returns the loss (needed by LBFGS).

        Returns:
            The closure's loss, or None without a closure.

        Example:
            >>> model(ember.ones(1, 4)).sum().backward()
            >>> opt.step()
        """
        raise NotImplementedError

    @staticmethod
    def _eval_closure(closure):
        """Run ``closure()`` with grad enabled (steps may be called under no_grad)."""
        if closure is None:
            return None
        from ember.autograd import enable_grad

        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ hooks
    def _register(self, table: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(table)
        table[handle.id] = hook
        if prepend:
            table.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` run before ``step``.

        It may return ``(new_args, new_kwargs)`` to replace step's arguments.

        Args:
            hook: the hook function.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> calls = []
            >>> h = opt.register_step_pre_hook(lambda o, a, k: calls.append('pre'))
            >>> opt.step()
            >>> calls
            ['pre']
            >>> h.remove()
        """
        return self._register(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` run after ``step``.

        Args:
            hook: the hook function.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> calls = []
            >>> h = opt.register_step_post_hook(lambda o, a, k: calls.append('post'))
            >>> opt.step()
            >>> calls
            ['post']
        """
        return self._register(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer)`` run before ``state_dict`` builds the dict.

        Args:
            hook: the hook function.
            prepend: run this hook before the ones already registered (default False).

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> h = opt.register_state_dict_pre_hook(lambda o: None)
            >>> h.remove()
        """
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer, state_dict)`` run after; it may return a new dict.

        Args:
            hook: the hook function.
            prepend: run this hook before the ones already registered (default False).

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> h = opt.register_state_dict_post_hook(lambda o, sd: None)
            >>> h.remove()
        """
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer, state_dict)`` run before loading; may return a new dict.

        Args:
            hook: the hook function.
            prepend: run this hook before the ones already registered (default False).

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> h = opt.register_load_state_dict_pre_hook(lambda o, sd: None)
            >>> h.remove()
        """
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer)`` run after ``load_state_dict``.

        Args:
            hook: the hook function.
            prepend: run this hook before the ones already registered (default False).

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> h = opt.register_load_state_dict_post_hook(lambda o: None)
            >>> h.remove()
        """
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """Return the state as ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are replaced by their index in group order (PyTorch's layout); the state
        tensors are the live buffers (not copies), as in PyTorch: deep-copy or save the dict
        to keep a snapshot.

        Returns:
            A dict ``{'state': ..., 'param_groups': ...}``.

        Example::

            >>> sd = opt.state_dict(); sd["param_groups"][0]["params"]
            [0, 1]
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for i, p in enumerate(g["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in g["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, sd)
            if result is not None:
                sd = result
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict produced by ``state_dict()`` (ember's or PyTorch's).

        Tensors are copied (cast to the parameter's dtype, except ``step``), so the loaded
        optimizer never shares buffers with the dict. Everything is checked before anything
        changes: a mismatch raises ValueError and leaves the optimizer untouched.

        Args:
            state_dict: the dict to load.

        Returns:
            None.

        Example:
            >>> opt2 = ember.optim.SGD(model.parameters(), lr=0.5)
            >>> opt2.load_state_dict(opt.state_dict())
            >>> opt2.param_groups[0]['lr']
            0.1
        """
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("loaded state dict must have keys 'state' and 'param_groups', got "
                             f"{sorted(state_dict)}")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        name = type(self).__name__
        for s in saved_groups:
            missing = [k for k in self.defaults
                       if k not in s and k not in self._optional_group_keys]
            if missing:
                raise ValueError(f"loaded state dict is not a {name} state dict: its parameter "
                                 f"groups lack {name}'s options {missing}")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        new_state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                if self._state_keys is not None and isinstance(v, dict):
                    unknown = sorted(set(v) - self._state_keys, key=str)
                    if unknown:
                        raise ValueError(f"loaded state dict is not a {name} state dict: "
                                         f"parameter {k} has state {unknown}, which {name} "
                                         "does not use")
                new_state[id_map[k]] = self._cast_state(id_map[k], v)
            else:
                new_state[k] = copy.deepcopy(v)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.__setstate__({"state": new_state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    @staticmethod
    def _cast_state(param: Tensor, value, key=None):
        """Copy a state value for ``param``: tensors become ember Tensors in param's dtype
        (``step`` keeps its own dtype), containers are copied element by element."""
        t = _as_tensor(value)
        if t is not None:
            pd, td = param.dtype, t.dtype
            if (key != "step" and td is not pd and pd.category in (D.FLOAT, D.COMPLEX)
                    and td.category in (D.FLOAT, D.COMPLEX)):
                return t.to(pd)  # a new tensor
            return t.clone()
        if isinstance(value, dict):
            return {k: Optimizer._cast_state(param, v, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(Optimizer._cast_state(param, v) for v in value)
        return copy.deepcopy(value)

    # ------------------------------------------------------------------ helpers for steps
    def _step_tensor(self, value: float = 0.0) -> Tensor:
        """A 0-dim state scalar (``step``) as PyTorch 2 stores it."""
        return ember.tensor(value, dtype=_scalar_dtype())




# ---------------------------------------------------------------------- the shared step loop
# Shared by the built-in optimizers (NOTE [ The optimizer hot path ]).

def _to_scalar(x):
    """A hyperparameter that may be a 1-element Tensor, as a Python number."""
    return float(x) if isinstance(x, Tensor) else x


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


def _check_flags(name: str, foreach=None, fused=None, capturable=False, differentiable=False,
                 differentiable_ok=True, fused_ok=False) -> None:
    """Refuse the implementation flags ember cannot honour, naming them (PyTorch's
    ``foreach``/``fused``/``capturable``/``differentiable`` constructor arguments)."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and not fused_ok:
        raise NotImplementedError(f"{name}(fused=True): ember has no fused kernel for {name}; "
                                  "leave fused unset (the foreach ops are the fast path)")
    if capturable:
        raise NotImplementedError(f"{name}(capturable=True): ember has no graph capture, so "
                                  "there is nothing to make capturable; leave it False")
    if differentiable and not differentiable_ok:
        raise NotImplementedError(f"{name}(differentiable=True) is not implemented in ember")


def _check_differentiable_hyperparameters(group: dict) -> None:
    """Steps use hyperparameters as Python numbers, so a gradient with respect to a Tensor
    hyperparameter (PyTorch allows one for ``lr`` and the betas under ``differentiable``)
    would be silently zero: refuse it."""
    for k, v in group.items():
        vs = v if isinstance(v, tuple) else (v,)
        if k != "params" and any(isinstance(x, Tensor) and x.requires_grad for x in vs):
            raise NotImplementedError(f"differentiable=True with a hyperparameter that "
                                      f"requires grad ({k!r}) is not implemented in ember")


def _use_fused(group: dict) -> bool:
    """Whether a step of an optimizer that has a fused record runs it (NOTE [ Fused
    optimizer records ] in ``ember/_ops/foreach.py``): when asked for, and by default unless
    ``foreach=True`` was chosen or the step must be differentiable. ``foreach=False`` (PyTorch's
    per-parameter for-loop) also runs it: the record is that loop, every formula step done
    on one parameter before the next."""
    fused = group.get("fused")
    if fused:
        return True
    return fused is None and group.get("foreach") is not True and not group["differentiable"]


def _per_step(steps: list, fn):
    """``fn(step)`` per parameter: one number when every parameter is at the same step (the
    usual case, one scalar for the whole foreach call), else a tuple with one per parameter."""
    s0 = steps[0]
    if steps.count(s0) == len(steps):
        return fn(s0)
    return tuple(fn(s) for s in steps)


_HALF = (D.float16.np, D.bfloat16.np)
_SPECIAL = frozenset((D.float16.np, D.bfloat16.np, D.complex64.np, D.complex128.np))


class _Lists:
    """One param group's tensors for one step, as lists (the shared per-parameter loop).

    ``params``/``grads`` hold the parameters that have a gradient and those gradients;
    ``states`` their state dicts (filled by ``init`` the first time), ``originals`` the
    parameters themselves. Complex tensors appear as real views and float16/bfloat16 ones as
    float32 working copies (``finish`` writes them back), so algorithms never see either.
    """

    __slots__ = ("originals", "params", "grads", "states", "special", "_back")

    def __init__(self, originals, grads, states, special):
        self.originals = originals
        self.states = states
        self.special = special
        self._back = []  # (originals, working copies) to write back in finish()
        if special:
            self.params = self._work(originals)
            self.grads = self._work(grads, write_back=False)
        else:
            self.params = originals
            self.grads = grads

    def _work(self, ts, write_back=True):
        out, src, dst = [], [], []
        for t in ts:
            d = t._data.dtype
            if d.kind == "c":
                t = ember.view_as_real(t if t.dim() else t.reshape(1))
            elif d in _HALF:
                w = t.float()
                if write_back:
                    src.append(w)
                    dst.append(t)
                t = w
            out.append(t)
        if dst:
            self._back.append((dst, src))
        return out

    def state(self, key: str) -> list:
        """The state tensors ``key`` of every parameter (working views, see the class)."""
        ts = [st[key] for st in self.states]
        return self._work(ts) if self.special else ts

    def steps(self) -> list[float]:
        """Add one to every parameter's ``step`` and return the new counts as floats."""
        steps = [st["step"] for st in self.states]
        ember._foreach_add_(steps, 1.0)
        return [float(t._data) for t in steps]

    def split(self):
        """One-parameter lists, for ``foreach=False``."""
        for i, p in enumerate(self.originals):
            yield _Lists([p], [self.grads[i] if not self.special else p._grad],
                         [self.states[i]], self.special)

    def finish(self) -> None:
        for dst, src in self._back:
            ember._foreach_copy_(dst, src)
        self._back = []


class _ListOptimizer(Optimizer):
    """Base of the built-in optimizers: ``step`` runs ``_update(group, lists)`` on every
    param group (NOTE [ The optimizer hot path ]). Subclasses define ``_init_state(p, st, group)``
    (fill a parameter's empty state dict) and ``_update``.
    """

    _has_fused = False  # the optimizer's _update can run a fused record (_use_fused)

    def _init_state(self, p: Tensor, st: dict, group: dict) -> None:
        raise NotImplementedError

    def _update(self, group: dict, lists: _Lists) -> None:
        raise NotImplementedError

    def _gather(self, group: dict) -> _Lists | None:
        """The parameters of ``group`` that have a gradient, with gradients and state.

        A group with a sparse gradient (NOTE [ Sparse COO tensors ] in ember/_sparse.py) is
        handed to ``_sparse_step`` here, which steps it (or refuses, as PyTorch does), and
        gives None."""
        params, grads, states = [], [], []
        special = sparse = False
        state = self.state
        init = self._init_state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state.get(p)
            if not st:
                # an optimizer without per-parameter state (plain SGD) keeps none, as PyTorch
                st = {}
                init(p, st, group)
                if st:
                    state[p] = st
            params.append(p)
            grads.append(g)
            states.append(st)
            if p._data.dtype in _SPECIAL:
                special = True
            if g._data.__class__ is not p._data.__class__ and g.is_sparse:
                sparse = True
        if not params:
            return None
        if sparse:
            self._sparse_step(group, params, grads, states)
            return None
        return _Lists(params, grads, states, special)

    def _sparse_step(self, group: dict, params: list, grads: list,  # noqa: ARG002 - refuses
                     states: list) -> None:  # noqa: ARG002 - them all
        """Step a group some of whose gradients are sparse; optimizers that take them
        (``SGD``, ``Adagrad``) override this, the others refuse with PyTorch's message."""
        raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        prev = GRAD.enabled
        try:
            for group in self.param_groups:
                # PyTorch runs steps with grad mode set to `differentiable`
                GRAD.enabled = diff = bool(group.get("differentiable", False))
                if diff:
                    _check_differentiable_hyperparameters(group)
                lists = self._gather(group)
                if lists is None:
                    continue
                if group.get("foreach") is False and not (self._has_fused
                                                          and _use_fused(group)):
                    for one in lists.split():
                        self._update(group, one)
                        one.finish()
                else:
                    self._update(group, lists)
                    lists.finish()
        finally:
            GRAD.enabled = prev
        return loss

    def _zeros(self, p: Tensor) -> Tensor:
        """A zero state buffer shaped and typed like ``p`` (PyTorch's zeros_like)."""
        return ember.zeros_like(p, memory_format=ember.preserve_format)

    @staticmethod
    def _grads(group: dict, lists: _Lists, weight_decay=None) -> list:
        """The gradients after ``maximize`` (negated) and coupled weight decay
        (``g + wd * p``); new tensors when changed, ``p.grad`` itself is never written."""
        grads = lists.grads
        if group["maximize"]:
            grads = ember._foreach_neg(grads)
        wd = group["weight_decay"] if weight_decay is None else weight_decay
        if wd != 0:
            grads = ember._foreach_add(grads, lists.params, alpha=wd)
        return grads


def _temp_op(group: dict, name: str, xs: list, *args, **kwargs) -> list:
    """``ember._foreach_<name>_`` on a step's temporaries ``xs``, returning them; out of place
    when the step is differentiable, where overwriting a value autograd saved (a ``sqrt``
    output, say) would break backward."""
    if group["differentiable"]:
        return getattr(ember, "_foreach_" + name)(xs, *args, **kwargs)
    getattr(ember, "_foreach_" + name + "_")(xs, *args, **kwargs)
    return xs
