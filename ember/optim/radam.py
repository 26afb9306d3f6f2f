"""``RAdam``: rectified Adam (variance rectification of the adaptive learning rate)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import _inc_step, Optimizer, _grad_array, _lerp_, _real, _to_scalar

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam.

    With ``rho_inf = 2 / (1 - beta2) - 1`` and ``rho_t = rho_inf - 2 t beta2^t / (1 -
    beta2^t)``: when ``rho_t > 5`` the step is ``lr * m_hat * r_t * sqrt(1 - beta2^t) /
    (sqrt(v) + eps)`` with the rectification ``r_t``, else the un-adapted ``lr * m_hat``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        weight_decay: weight decay (default 0).
        decoupled_weight_decay: AdamW-style decay (RAdamW) (default False).
        maximize: maximize the objective (default False).
        foreach, capturable, differentiable: accepted for compatibility.

    Example::

        >>> opt = ember.optim.RAdam(model.parameters())
    """

    _state_keys = frozenset({"step", "exp_avg", "exp_avg_sq"})

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
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
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = self._step_tensor()
                    st["exp_avg"] = Tensor._wrap(np.zeros_like(p._data))
                    st["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p._data))
                step = _inc_step(st["step"])
                x, g = _real(p._data), _real(p._grad._data)
                if wd != 0 and decoupled:
                    x *= 1 - lr * wd
                    g = _grad_array(x, g, maximize, 0)
                else:
                    g = _grad_array(x, g, maximize, wd)
                m, v = _real(st["exp_avg"]._data), _real(st["exp_avg_sq"]._data)
                tmp = np.empty_like(m)
                _lerp_(m, g, 1 - beta1, tmp)
                v *= beta2
                np.multiply(g, 1 - beta2, out=tmp)
                tmp *= g
                v += tmp
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                upd = np.divide(m, bias_correction1)
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                upd *= lr
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    # PyTorch computes `scalar / tensor` as `tensor.reciprocal() * scalar`.
                    np.sqrt(v, out=tmp)
                    tmp += eps
                    np.reciprocal(tmp, out=tmp)
                    tmp *= bias_correction2 ** 0.5
                    upd *= tmp
                    upd *= rect
                x -= upd
                p._bump()
        return loss
