"""``Adagrad``: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import _inc_step, Optimizer, _check, _grad_array, _real, _to_scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: ``s += g * g``, ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: initial value of the sum ``s`` (default 0).
        eps: denominator term (default 1e-10).
        maximize: maximize the objective (default False).
        foreach, differentiable, fused: accepted for compatibility.

    Example::

        >>> opt = ember.optim.Adagrad(model.parameters(), lr=0.1)
    """

    _state_keys = frozenset({"step", "sum"})

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= lr_decay, f"Invalid lr_decay value: {lr_decay}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check(0.0 <= initial_accumulator_value,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # Like PyTorch, state exists from construction (so state_dict() before any step has it).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        st = self.state[p]
        st["step"] = self._step_tensor()
        v = self.defaults["initial_accumulator_value"]
        if p._data.dtype.kind == "c":
            v = complex(v, v)
        st["sum"] = Tensor._wrap(np.full_like(p._data, v))
        return st

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lr_decay, eps = group["lr_decay"], group["eps"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p] or self._init_state(p)
                step = _inc_step(st["step"])
                clr = lr / (1 + (step - 1) * lr_decay)
                x = _real(p._data)
                g = _grad_array(x, _real(p._grad._data), maximize, wd)
                s = _real(st["sum"]._data)
                tmp = np.multiply(g, g)
                s += tmp
                std = np.sqrt(s)
                std += eps
                np.multiply(g, -clr, out=tmp)
                tmp /= std
                x += tmp
                p._bump()
        return loss
