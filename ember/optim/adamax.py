"""``Adamax``: Adam with the infinity norm."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import _inc_step, Optimizer, _grad_array, _lerp_, _real, _to_scalar

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax: ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 * u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: term added inside the max (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective (default False).
        foreach, differentiable, capturable: accepted for compatibility.

    Example::

        >>> opt = ember.optim.Adamax(model.parameters())
    """

    _state_keys = frozenset({"step", "exp_avg", "exp_inf"})

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = self._step_tensor()
                    st["exp_avg"] = Tensor._wrap(np.zeros_like(p._data))
                    st["exp_inf"] = Tensor._wrap(np.zeros_like(p._data))
                step = _inc_step(st["step"])
                x = _real(p._data)
                g = _grad_array(x, _real(p._grad._data), maximize, wd)
                m, u = _real(st["exp_avg"]._data), _real(st["exp_inf"]._data)
                tmp = np.empty_like(m)
                _lerp_(m, g, 1 - beta1, tmp)
                u *= beta2
                np.abs(g, out=tmp)
                tmp += eps
                np.maximum(u, tmp, out=u)
                clr = lr / (1 - beta1 ** step)
                np.multiply(m, -clr, out=tmp)
                tmp /= u
                x += tmp
                p._bump()
        return loss
