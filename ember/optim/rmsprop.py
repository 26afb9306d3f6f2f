"""``RMSprop``: divide the gradient by a running root mean square (Hinton)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import (Optimizer, _check, _grad_array, _inc_step,
                                   _lerp_, _real, _to_scalar)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: ``v = alpha v + (1 - alpha) g^2``; ``d = sqrt(v) + eps`` (``centered``:
    ``sqrt(v - mean_g^2) + eps``); ``p -= lr g / d``, or with momentum ``b = momentum b +
    g / d; p -= lr b``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: denominator term (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by the estimated variance of the gradient (default False).
        maximize: maximize the objective (default False).
        capturable, foreach, differentiable: accepted for compatibility.

    Example::

        >>> opt = ember.optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    _state_keys = frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"})

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= momentum, f"Invalid momentum value: {momentum}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check(0.0 <= alpha, f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
            wd, maximize, centered = group["weight_decay"], group["maximize"], group["centered"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = self._step_tensor()
                    st["square_avg"] = Tensor._wrap(np.zeros_like(p._data))
                    if momentum > 0:
                        st["momentum_buffer"] = Tensor._wrap(np.zeros_like(p._data))
                    if centered:
                        st["grad_avg"] = Tensor._wrap(np.zeros_like(p._data))
                _inc_step(st["step"])
                x = _real(p._data)
                g = _grad_array(x, _real(p._grad._data), maximize, wd)
                v = _real(st["square_avg"]._data)
                tmp = np.multiply(g, 1 - alpha)
                tmp *= g
                v *= alpha
                v += tmp
                if centered:
                    ga = _real(st["grad_avg"]._data)
                    _lerp_(ga, g, 1 - alpha, tmp)
                    avg = np.negative(ga)
                    avg *= ga
                    avg += v
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = _real(st["momentum_buffer"]._data)
                    buf *= momentum
                    np.divide(g, avg, out=tmp)
                    buf += tmp
                    np.multiply(buf, -lr, out=tmp)
                    x += tmp
                else:
                    np.multiply(g, -lr, out=tmp)
                    tmp /= avg
                    x += tmp
                p._bump()
        return loss
