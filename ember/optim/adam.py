"""``Adam`` and ``AdamW`` (Adam with decoupled weight decay)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, _check, _grad_array, _inc_step, _real, _to_scalar

__all__ = ["Adam", "AdamW"]


def _check_adam_args(lr, betas, eps, weight_decay):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check(0.0 <= lr, f"Invalid learning rate: {lr}")
    _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
    _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """Adam (Kingma & Ba), with AMSGrad, L2 or decoupled weight decay, and ``maximize``.

    Per step: ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g * g``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`` (``v`` replaced by
    its running maximum under AMSGrad). ``weight_decay`` adds ``wd * p`` to the gradient, or
    with ``decoupled_weight_decay=True`` (AdamW) multiplies ``p`` by ``1 - lr * wd`` first.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square.
        eps: term added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        amsgrad: use the AMSGrad variant (default False).
        maximize: maximize the objective (default False).
        decoupled_weight_decay: AdamW-style weight decay (default False).
        foreach, capturable, differentiable, fused: accepted for compatibility.

    Example::

        >>> opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    """

    _state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
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
            beta1, beta2 = (_to_scalar(b) for b in group["betas"])
            eps = group["eps"]
            wd = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            key = None  # (step, dtype) the cached scalars below were computed for
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                st = state[p]
                if not st:
                    st["step"] = self._step_tensor()
                    st["exp_avg"] = Tensor._wrap(np.zeros_like(p._data))
                    st["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p._data))
                    if amsgrad:
                        st["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p._data))
                step = _inc_step(st["step"])
                x, g = p._data, grad._data
                m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
                if x.ndim == 0 or x.dtype.kind == "c":
                    x, g, m, v = _real(x), _real(g), _real(m), _real(v)
                if key != (step, x.dtype):
                    # Scalars in the array's dtype: what NumPy would convert a Python float
                    # to anyway (NEP 50), without paying that conversion in every ufunc.
                    key = (step, x.dtype)
                    f = x.dtype.type
                    w = f(1 - beta1)
                    small = abs(w) < 0.5
                    w_ = w if small else f(1) - w
                    b2, one_m_b2, eps_ = f(beta2), f(1 - beta2), f(eps)
                    bc2_sqrt = f((1 - beta2 ** step) ** 0.5)
                    neg_step_size = f(-(lr / (1 - beta1 ** step)))
                    decay = f(1 - lr * wd)
                if wd != 0 and decoupled:
                    x *= decay
                    g = _grad_array(x, g, maximize, 0)
                else:
                    g = _grad_array(x, g, maximize, wd)
                tmp = np.empty_like(m)
                # m.lerp_(g, 1 - beta1), PyTorch's two-sided formula
                np.subtract(g, m, tmp)
                np.multiply(tmp, w_, tmp)
                if small:
                    m += tmp
                else:
                    np.subtract(g, tmp, m)
                # v = v * beta2 + ((1 - beta2) * g) * g
                v *= b2
                np.multiply(g, one_m_b2, tmp)
                tmp *= g
                v += tmp
                if amsgrad:
                    vmax = _real(st["max_exp_avg_sq"]._data)
                    np.maximum(vmax, v, vmax)
                    v = vmax
                # p += (-step_size * m) / (sqrt(v) / sqrt(bias_correction2) + eps)
                np.sqrt(v, tmp)
                tmp /= bc2_sqrt
                tmp += eps_
                upd = np.multiply(m, neg_step_size)
                upd /= tmp
                x += upd
                p._bump()
        return loss


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` each step).

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        weight_decay: decoupled weight decay (default 1e-2).
        amsgrad: use the AMSGrad variant (default False).
        maximize: maximize the objective (default False).
        foreach, capturable, differentiable, fused: accepted for compatibility.

    Example::

        >>> opt = ember.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
