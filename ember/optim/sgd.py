"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, _check, _grad_array, _real, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's algorithm box, step for step).

    ``g = grad (+ weight_decay * p)``; with momentum ``b = momentum * b + (1 - dampening) * g``
    (``b = g`` on the first step) and ``g = g + momentum * b`` (Nesterov) or ``g = b``;
    then ``p -= lr * g``. ``maximize`` negates the gradient.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: use Nesterov momentum (default False).
        maximize: maximize the objective instead of minimizing (default False).
        foreach, differentiable, fused: accepted for compatibility (ember has one path).

    Example::

        >>> opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    _state_keys = frozenset({"momentum_buffer"})

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure: Callable | None = None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        loss = self._eval_closure(closure)
        state = self.state
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            wd = group["weight_decay"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            key = None  # dtype the cached scalars below were converted to
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                x, g = p._data, grad._data
                if x.ndim == 0 or x.dtype.kind == "c":
                    x, g = _real(x), _real(g)
                if key is not x.dtype:
                    # Scalars in the array's dtype (what NumPy converts Python floats to).
                    key = x.dtype
                    f = key.type
                    neg_lr, mom, one_m_damp = f(-lr), f(momentum), f(1 - dampening)
                g = _grad_array(x, g, maximize, wd)
                if momentum != 0:
                    st = state[p]
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        buf = st["momentum_buffer"] = Tensor._wrap(
                            np.array(g, copy=True).reshape(p._data.shape))
                        b = _real(buf._data)
                    else:
                        # buf = buf * momentum + (1 - dampening) * g
                        b = _real(buf._data)
                        b *= mom
                        if dampening != 0:
                            b += np.multiply(g, one_m_damp)
                        else:
                            b += g
                        buf._bump()
                    g = g + np.multiply(b, mom) if nesterov else b
                x += np.multiply(g, neg_lr)
                p._bump()
        return loss
