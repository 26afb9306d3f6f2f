"""``Adadelta``: an adaptive learning rate from running averages of squared updates."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import _inc_step, Optimizer, _check, _grad_array, _real, _to_scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler): ``v = rho v + (1 - rho) g^2``,
    ``d = sqrt(u + eps) / sqrt(v + eps) * g``, ``u = rho u + (1 - rho) d^2``, ``p -= lr d``.

    Args:
        params: parameters or param groups.
        lr: coefficient scaling the update (default 1.0).
        rho: running-average coefficient (default 0.9).
        eps: term added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective (default False).
        foreach, capturable, differentiable: accepted for compatibility.

    Example::

        >>> opt = ember.optim.Adadelta(model.parameters())
    """

    _state_keys = frozenset({"step", "square_avg", "acc_delta"})

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            rho, eps = group["rho"], group["eps"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = self._step_tensor()
                    st["square_avg"] = Tensor._wrap(np.zeros_like(p._data))
                    st["acc_delta"] = Tensor._wrap(np.zeros_like(p._data))
                _inc_step(st["step"])
                x = _real(p._data)
                g = _grad_array(x, _real(p._grad._data), maximize, wd)
                v, u = _real(st["square_avg"]._data), _real(st["acc_delta"]._data)
                tmp = np.multiply(g, 1 - rho)
                tmp *= g
                v *= rho
                v += tmp
                std = np.add(v, eps)
                np.sqrt(std, out=std)
                delta = np.add(u, eps)
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                np.multiply(delta, 1 - rho, out=tmp)
                tmp *= delta
                u *= rho
                u += tmp
                delta *= -lr
                x += delta
                p._bump()
        return loss
