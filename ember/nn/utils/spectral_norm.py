"""``nn.utils.spectral_norm``: the hook-based spectral normalisation (PyTorch's older API).

``spectral_norm(module)`` moves the parameter ``weight`` to ``weight_orig``, keeps the
power-iteration vectors as buffers ``weight_u`` and ``weight_v``, and registers a forward
pre-hook that sets ``module.weight = weight_orig / sigma`` before every call (refining u and
v first in training mode). The state_dict keys and the ``spectral_norm`` version entry in
the state_dict metadata are PyTorch's, so checkpoints move both ways. The parametrization
form is :func:`ember.nn.utils.parametrizations.spectral_norm`.
"""

from __future__ import annotations

from typing import Any

import ember
from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.nn import functional as F
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig / sigma``, with
    ``sigma`` the largest singular value, estimated by power iteration (``<name>_u`` and
    ``<name>_v`` are its vectors, kept as buffers). ``spectral_norm`` installs it.

    Args:
        name: the parameter's name.
        n_power_iterations: power-iteration steps per training forward (positive).
        dim: the dim of the weight that indexes outputs.
        eps: added to norms to avoid dividing by zero.

    Example:
        >>> from ember.nn.utils import spectral_norm
        >>> m = spectral_norm(nn.Linear(4, 3))
        >>> [type(h).__name__ for h in m._forward_pre_hooks.values()]
        ['SpectralNorm']
        >>> sorted(name for name, _ in m.named_buffers())
        ['weight_u', 'weight_v']
    """

    # version 1: the state_dict holds <name>_v (version 0 held <name> instead)
    _version: int = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """``weight`` as a matrix whose rows run along ``dim``."""
        if self.dim != 0:
            weight = weight.permute(self.dim,
                                    *[d for d in range(weight.dim()) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    # in place: u and v are the module's buffers, updated for the next call
                    F.normalize(ember.mv(weight_mat.t(), u), dim=0, eps=self.eps, out=v)
                    F.normalize(ember.mv(weight_mat, v), dim=0, eps=self.eps, out=u)
                # clones so backward sees the vectors of this forward even after the next
                # call updates the buffers in place
                u = u.clone()
                v = v.clone()
        sigma = ember.dot(u, ember.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:  # noqa: ARG002 - PyTorch's hook signature
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat: Tensor, u: Tensor, target_sigma) -> Tensor:
        # v such that u = normalize(W v), scaled so that u . W v == target_sigma
        v = ember.linalg.multi_dot([weight_mat.t().mm(weight_mat).pinverse(), weight_mat.t(),
                                    u.unsqueeze(1)]).squeeze(1)
        return v.mul_(target_sigma / ember.dot(u, ember.mv(weight_mat, v)))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if not isinstance(weight, Tensor):
            raise AttributeError(f"'{type(module).__name__}' object has no parameter '{name}'")
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # a plain attribute until the first forward recomputes it
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module.register_load_state_dict_pre_hook(
            _WithoutModule(SpectralNormLoadStateDictPreHook(fn)))
        return fn


class _WithoutModule:
    """Adapts a load_state_dict pre-hook that takes no module argument (PyTorch's private
    form) while keeping it findable by type for :func:`remove_spectral_norm`."""

    def __init__(self, hook) -> None:
        self.hook = hook

    def __call__(self, module, *args) -> None:  # noqa: ARG002 - PyTorch's hook signature
        self.hook(*args)


class SpectralNormLoadStateDictPreHook:
    """Upgrades a version-0 state_dict (``<name>`` saved instead of ``<name>_v``).

    Such a checkpoint went through a training forward, so ``u = normalize(W_orig v)`` and
    ``W = W_orig / sigma``; v is recovered by solving ``W_orig x = u`` and rescaling so the
    saved ``sigma`` (the mean of ``W_orig / W``) is reproduced.
    """

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs) -> None:  # noqa: ARG002 - PyTorch's hook signature
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        weight_key = prefix + fn.name
        if version is None and weight_key not in state_dict and all(
                weight_key + s in state_dict for s in ("_orig", "_u", "_v")):
            return  # a current state_dict whose metadata was lost
        missing = False
        for suffix in ("_orig", "", "_u"):
            if weight_key + suffix not in state_dict:
                missing = True
                if strict:
                    missing_keys.append(weight_key + suffix)
        if missing:
            return
        with no_grad():
            weight_orig = _as_tensor(state_dict[weight_key + "_orig"])
            weight = _as_tensor(state_dict.pop(weight_key))
            sigma = (weight_orig / weight).mean()
            weight_mat = fn.reshape_weight_to_matrix(weight_orig)
            u = _as_tensor(state_dict[weight_key + "_u"])
            state_dict[weight_key + "_v"] = fn._solve_v_and_rescale(weight_mat, u, sigma)


def _as_tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    import numpy as np

    return Tensor._wrap(np.asarray(x))


class SpectralNormStateDictHook:
    """Records ``{"<name>.version": 1}`` under ``spectral_norm`` in the state_dict
    metadata, as PyTorch does."""

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata) -> None:  # noqa: ARG002 - PyTorch's hook signature
        meta = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in meta:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        meta[key] = self.fn._version


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm before every forward (hook-based).

    Args:
        module: the module.
        name: the parameter's name.
        n_power_iterations: power-iteration steps per training forward.
        eps: the floor of norms when normalising u and v.
        dim: the dimension that becomes the matrix's rows (default 1 for ConvTranspose, else
            0).

    Returns:
        ``module``; its state_dict has ``<name>_orig``, ``<name>_u``, ``<name>_v``.

    Example::

        >>> m = nn.utils.spectral_norm(nn.Linear(20, 40))
        >>> m.weight_u.shape
        torch.Size([40])
    """
    if dim is None:
        from ember.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``<name>`` becomes a parameter holding ``W_orig / sigma``.

    Args:
        module: the module holding the parameter.
        name: the parameter's name (default ``'weight'``).

    Returns:
        ``module``.

    Example::

        >>> m = nn.utils.remove_spectral_norm(nn.utils.spectral_norm(nn.Linear(2, 2)))
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for k, hook in module._state_dict_hooks.items():
        if isinstance(hook, SpectralNormStateDictHook) and hook.fn.name == name:
            del module._state_dict_hooks[k]
            break
    for k, hook in module._load_state_dict_pre_hooks.items():
        inner = hook.hook if isinstance(hook, _WithoutModule) else hook
        if isinstance(inner, SpectralNormLoadStateDictPreHook) and inner.fn.name == name:
            del module._load_state_dict_pre_hooks[k]
            break
    return module
