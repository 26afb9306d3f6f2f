"""``Rprop``: resilient backpropagation (sign-based steps with adaptive sizes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import _inc_step, Optimizer, _check, _real, _to_scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: each coordinate's step size grows by ``etas[1]`` while the gradient keeps its
    sign and shrinks by ``etas[0]`` when it flips (then that coordinate skips one update),
    clamped to ``step_sizes``; ``p -= sign(g) * step_size``.

    Args:
        params: parameters or param groups.
        lr: initial step size (default 1e-2).
        etas: (decrease, increase) factors, ``0 < etaminus < 1 < etaplus`` (default (0.5, 1.2)).
        step_sizes: (minimal, maximal) step size (default (1e-6, 50)).
        maximize: maximize the objective (default False).
        capturable, foreach, differentiable: accepted for compatibility.

    Example::

        >>> opt = ember.optim.Rprop(model.parameters())
    """

    _state_keys = frozenset({"step", "prev", "step_size"})

    def __init__(self, params: Iterable, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                st = self.state[p]
                if not st:
                    lr = _to_scalar(group["lr"])
                    st["step"] = self._step_tensor()
                    st["prev"] = Tensor._wrap(np.zeros_like(p._data))
                    st["step_size"] = Tensor._wrap(np.full_like(
                        p._data, complex(lr, lr) if p._data.dtype.kind == "c" else lr))
                _inc_step(st["step"])
                x, g = _real(p._data), _real(p._grad._data)
                g = np.negative(g) if maximize else np.array(g, copy=True)
                prev, ss = _real(st["prev"]._data), _real(st["step_size"]._data)
                sign = np.multiply(g, prev)
                np.sign(sign, out=sign)
                sign[sign > 0] = etaplus
                sign[sign < 0] = etaminus
                sign[sign == 0] = 1
                ss *= sign
                np.clip(ss, step_size_min, step_size_max, out=ss)
                g[sign == etaminus] = 0
                np.sign(g, out=sign)
                sign *= ss
                x -= sign
                prev[...] = g
                p._bump()
        return loss
