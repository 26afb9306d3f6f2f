"""``NAdam``: Adam with Nesterov momentum (Dozat), with momentum decay."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import (_check, _check_flags, _ListOptimizer, _per_step, _temp_op,
                                   _to_scalar, _use_fused)

__all__ = ["NAdam"]


class NAdam(_ListOptimizer):
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
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_nadam_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        differentiable: run the step under autograd (default False).
        capturable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.NAdam(model.parameters(), lr=2e-3)
    """

    _has_fused = True  # its default path is the _fused_nadam_ record
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
        _check_flags("NAdam", foreach, None, capturable, differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):  # noqa: ARG002 - the shared optimizer loop's signature
        st["step"] = self._step_tensor()
        st["mu_product"] = self._step_tensor(1.0)
        st["exp_avg"] = self._zeros(p)
        st["exp_avg_sq"] = self._zeros(p)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        beta1, beta2 = group["betas"]
        wd, psi = group["weight_decay"], group["momentum_decay"]
        params = lists.params
        steps = lists.steps()
        if _use_fused(group):
            states = lists.states
            ember._fused_nadam_(params, lists.grads, lists.state("exp_avg"),
                                lists.state("exp_avg_sq"), [st["mu_product"] for st in states],
                                [st["step"] for st in states], lr=lr, beta1=beta1,
                                beta2=beta2, eps=group["eps"], weight_decay=wd,
                                momentum_decay=psi,
                                decoupled_weight_decay=group["decoupled_weight_decay"],
                                maximize=group["maximize"])
            return
        if wd != 0 and group["decoupled_weight_decay"]:
            ember._foreach_mul_(params, 1 - lr * wd)
            grads = self._grads(group, lists, 0)
        else:
            grads = self._grads(group, lists)
        mus = [beta1 * (1.0 - 0.5 * (0.96 ** (s * psi))) for s in steps]
        mus_next = [beta1 * (1.0 - 0.5 * (0.96 ** ((s + 1) * psi))) for s in steps]
        # mu_product is a 0-dim state tensor: rounded to its dtype, as in PyTorch
        mu_products = [st["mu_product"] for st in lists.states]
        ember._foreach_mul_(mu_products, tuple(mus))
        prods = [float(t._data) for t in mu_products]
        m, v = lists.state("exp_avg"), lists.state("exp_avg_sq")
        ember._foreach_lerp_(m, grads, 1 - beta1)
        ember._foreach_mul_(v, beta2)
        ember._foreach_addcmul_(v, grads, grads, 1 - beta2)
        denom = ember._foreach_div(v, _per_step(steps, lambda s: 1 - beta2 ** s))
        denom = _temp_op(group, "sqrt", denom)
        denom = _temp_op(group, "add", denom, group["eps"])
        ember._foreach_addcdiv_(params, grads, denom, tuple(
            -lr * (1.0 - mu) / (1.0 - prod) for mu, prod in zip(mus, prods)))
        ember._foreach_addcdiv_(params, m, denom, tuple(
            (-lr * mu_next) / (1.0 - prod * mu_next) for mu_next, prod in zip(mus_next, prods)))
