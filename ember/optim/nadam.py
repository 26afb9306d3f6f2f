"""``NAdam``: Adam with Nesterov momentum (Dozat), with momentum decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import (Optimizer, _check, _grad_array, _inc_step,
                                   _lerp_, _real, _to_scalar)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam.

    With ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))`` and ``mu_product`` their
    running product: ``p -= lr * (1 - mu_t) / (1 - prod_t) * g / d
    + lr * mu_{t+1} / (1 - prod_{t+1}) * m / d`` where ``d = sqrt(v / (1 - beta2^t)) + eps``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 2e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        weight_decay: weight decay (default 0).
        momentum_decay: momentum decay psi (default 4e-3).
        decoupled_weight_decay: AdamW-style decay (NAdamW) (default False).
        maximize: maximize the objective (default False).
        foreach, capturable, differentiable: accepted for compatibility.

    Example::

        >>> opt = ember.optim.NAdam(model.parameters(), lr=2e-3)
    """

    _state_keys = frozenset({"step", "mu_product", "exp_avg", "exp_avg_sq"})

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        _check(0.0 <= momentum_decay, f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
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
            psi = group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = self._step_tensor()
                    st["mu_product"] = self._step_tensor(1.0)
                    st["exp_avg"] = Tensor._wrap(np.zeros_like(p._data))
                    st["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p._data))
                step = _inc_step(st["step"])
                bias_correction2 = 1 - beta2 ** step
                x, g = _real(p._data), _real(p._grad._data)
                if wd != 0 and decoupled:
                    x *= 1 - lr * wd
                    g = _grad_array(x, g, maximize, 0)
                else:
                    g = _grad_array(x, g, maximize, wd)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
                mu_product = st["mu_product"]._data
                mu_product *= mu  # a 0-dim state tensor: rounded to its dtype, as in PyTorch
                m, v = _real(st["exp_avg"]._data), _real(st["exp_avg_sq"]._data)
                tmp = np.empty_like(m)
                _lerp_(m, g, 1 - beta1, tmp)
                v *= beta2
                np.multiply(g, 1 - beta2, out=tmp)
                tmp *= g
                v += tmp
                np.divide(v, bias_correction2, out=tmp)
                np.sqrt(tmp, out=tmp)
                prod = float(mu_product)
                prod_next = prod * mu_next
                tmp += eps
                upd = np.multiply(g, -lr * (1.0 - mu) / (1.0 - prod))
                upd /= tmp
                x += upd
                np.multiply(m, (-lr * mu_next) / (1.0 - prod_next), out=upd)
                upd /= tmp
                x += upd
                p._bump()
        return loss
