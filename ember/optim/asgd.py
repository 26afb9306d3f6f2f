"""``ASGD``: averaged stochastic gradient descent (Polyak & Juditsky)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import (Optimizer, _check, _grad_array, _inc_step,
                                   _real, _scalar_np_dtype, _to_scalar)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD: ``p = p (1 - lambd eta) - eta g``; the average ``ax`` tracks ``p`` once
    ``t > t0``; ``eta = lr / (1 + lambd lr t)^alpha``, ``mu = 1 / max(1, t - t0)``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power for the eta update (default 0.75).
        t0: point at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective (default False).
        foreach, differentiable, capturable: accepted for compatibility.

    Example::

        >>> opt = ember.optim.ASGD(model.parameters(), lr=0.05, t0=100)
    """

    _state_keys = frozenset({"step", "eta", "mu", "ax"})

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        sdt = _scalar_np_dtype()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = self._step_tensor()
                    st["eta"] = self._step_tensor(lr)
                    st["mu"] = self._step_tensor(1.0)
                    st["ax"] = Tensor._wrap(np.zeros_like(p._data))
                x = _real(p._data)
                g = _grad_array(x, _real(p._grad._data), maximize, wd)
                ax = _real(st["ax"]._data)
                step = _inc_step(st["step"])
                eta = float(st["eta"]._data)
                x *= 1 - lambd * eta
                x += np.multiply(g, -eta)
                mu = st["mu"]._data
                if mu != 1:
                    tmp = np.subtract(x, ax)
                    tmp *= mu
                    ax += tmp
                else:
                    ax[...] = x
                # PyTorch builds the new values with as_tensor (default dtype), then copies:
                # round through that dtype too, in case eta/mu were loaded as float64.
                st["eta"]._data[...] = sdt(lr / ((1 + lambd * lr * step) ** alpha))
                st["mu"]._data[...] = sdt(1 / max(1, step - t0))
                p._bump()
        return loss
