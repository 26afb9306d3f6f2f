"""``Adam`` and ``AdamW`` (Adam with decoupled weight decay)."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember._tensor import Tensor
from ember.optim.optimizer import (_check, _check_flags, _ListOptimizer, _per_step, _temp_op,
                                   _to_scalar, _use_fused)

__all__ = ["Adam", "AdamW"]


def _check_adam_args(lr, betas, eps, weight_decay):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check(0.0 <= lr, f"Invalid learning rate: {lr}")
    _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
    _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")


class Adam(_ListOptimizer):
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
        foreach: True updates all parameters with one foreach op per formula step; False
            is PyTorch's per-parameter loop, which the fused record is.
        differentiable: run the step under autograd (default False).
        fused: True runs PyTorch's ``_fused_adam_`` record: the whole update per parameter
            in one loop. It is also what None (the default) runs unless ``foreach=True`` or
            ``differentiable=True`` is given; all paths give identical results.
        capturable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    """

    _has_fused = True
    _state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    def _sparse_step(self, group, params, grads, states):  # noqa: ARG002 - refuses them all
        raise RuntimeError("Adam does not support sparse gradients, please consider SparseAdam "
                           "instead")

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
        _check_flags(type(self).__name__, foreach, fused, capturable, differentiable,
                     fused_ok=True)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):
        st["step"] = self._step_tensor()
        st["exp_avg"] = self._zeros(p)
        st["exp_avg_sq"] = self._zeros(p)
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = self._zeros(p)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        beta1, beta2 = (_to_scalar(b) for b in group["betas"])
        wd = group["weight_decay"]
        params = lists.params
        steps = lists.steps()
        if group["amsgrad"] and "max_exp_avg_sq" not in lists.states[0]:
            for p, st in zip(lists.originals, lists.states):  # amsgrad switched on later
                st.setdefault("max_exp_avg_sq", self._zeros(p))
        if _use_fused(group):
            fused = ember._fused_adamw_ if group["decoupled_weight_decay"] else \
                ember._fused_adam_
            fused(params, lists.grads, lists.state("exp_avg"), lists.state("exp_avg_sq"),
                  lists.state("max_exp_avg_sq") if group["amsgrad"] else [],
                  [st["step"] for st in lists.states], lr=lr, beta1=beta1, beta2=beta2,
                  weight_decay=wd, eps=group["eps"], amsgrad=group["amsgrad"],
                  maximize=group["maximize"])
            return
        if wd != 0 and group["decoupled_weight_decay"]:
            ember._foreach_mul_(params, 1 - lr * wd)
            grads = self._grads(group, lists, 0)
        else:
            grads = self._grads(group, lists)
        m, v = lists.state("exp_avg"), lists.state("exp_avg_sq")
        ember._foreach_lerp_(m, grads, 1 - beta1)
        # v = v * beta2 + (1 - beta2) * g * g
        ember._foreach_mul_(v, beta2)
        ember._foreach_addcmul_(v, grads, grads, 1 - beta2)
        if group["amsgrad"]:
            vmax = lists.state("max_exp_avg_sq")
            ember._foreach_maximum_(vmax, v)
            v = vmax
        # p += (-step_size * m) / (sqrt(v) / sqrt(bias_correction2) + eps)
        denom = ember._foreach_sqrt(v)
        denom = _temp_op(group, "div", denom, _per_step(steps, lambda s: (1 - beta2 ** s) ** 0.5))
        denom = _temp_op(group, "add", denom, group["eps"])
        ember._foreach_addcdiv_(params, m, denom,
                                _per_step(steps, lambda s: -(lr / (1 - beta1 ** s))))


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
        foreach, differentiable, fused: as for ``Adam``.
        capturable: not implemented (True raises NotImplementedError).

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
