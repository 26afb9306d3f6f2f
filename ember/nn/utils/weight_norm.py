"""``nn.utils.weight_norm``: the hook-based weight normalisation (PyTorch's older API).

``weight_norm(module)`` replaces the parameter ``weight`` by two parameters, ``weight_g``
(magnitude) and ``weight_v`` (direction), and a forward pre-hook that recomputes
``module.weight = weight_g * weight_v / ||weight_v||`` before every call; the state_dict
keys are PyTorch's (``weight_g``, ``weight_v``). PyTorch deprecates it in favour of
:func:`ember.nn.utils.parametrizations.weight_norm`; it is kept so old models and
checkpoints run.
"""

from __future__ import annotations

import warnings
from typing import Any

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """2-norm of ``v`` over every dimension but ``dim``, kept as size-1 dims.

    ``dim == -1`` means "no dimension is kept": the norm of the whole tensor as a 0-dim
    tensor (PyTorch's ``norm_except_dim`` convention, also used by ``weight_norm(dim=None)``).
    """
    if dim == -1:
        return v.norm()
    dim = dim % v.dim()
    others = tuple(d for d in range(v.dim()) if d != dim)
    if not others:
        return v.abs()
    return v.norm(2, others, keepdim=True)


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """``v * g / ||v||`` with the norm taken over every dimension but ``dim``."""
    return v * (g / _norm_except_dim(v, dim))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v`` (``g * v / ||v||``, the norm taken over every dim but ``dim``).
    ``weight_norm`` installs it.

    Args:
        name: the parameter's name.
        dim: the dim kept out of the norm (None: the norm of the whole tensor).

    Example:
        >>> import warnings
        >>> from ember.nn.utils import weight_norm
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     m = weight_norm(nn.Linear(4, 3))
        >>> hook = next(iter(m._forward_pre_hooks.values()))
        >>> type(hook).__name__, hook.compute_weight(m).shape
        ('WeightNorm', torch.Size([3, 4]))
    """

    name: str
    dim: int

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                      "torch.nn.utils.parametrizations.weight_norm.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = module._parameters.get(name)
        if not isinstance(weight, Tensor):
            raise AttributeError(f"'{type(module).__name__}' object has no parameter '{name}'")
        del module._parameters[name]
        module.register_parameter(name + "_g",
                                  Parameter(_norm_except_dim(weight.detach(), fn.dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        # a plain attribute (not a parameter): recomputed before each forward
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:  # noqa: ARG002 - PyTorch's hook signature
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split ``module.<name>`` into magnitude ``<name>_g`` and direction ``<name>_v``.

    ``w = g * v / ||v||``, the norm taken over every dimension but ``dim`` (``None``: the
    whole tensor). Deprecated in PyTorch (a FutureWarning is raised, as there) in favour of
    :func:`ember.nn.utils.parametrizations.weight_norm`.

    Args:
        module: the module.
        name: the parameter's name.
        dim: the dimension kept by the norm.

    Returns:
        ``module``, with the hook registered.

    Example::

        >>> m = nn.utils.weight_norm(nn.Linear(20, 40), name="weight")
        >>> m.weight_g.shape
        torch.Size([40, 1])
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``<name>`` becomes a plain parameter holding the current
    normalised value.

    Args:
        module: the module holding the parameter.
        name: the parameter's name (default ``'weight'``).

    Returns:
        ``module``.

    Example::

        >>> m = nn.utils.remove_weight_norm(nn.utils.weight_norm(nn.Linear(2, 2)))
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
