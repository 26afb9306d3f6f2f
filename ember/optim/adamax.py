"""``Adamax``: Adam with the infinity norm."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import (_check_flags, _ListOptimizer, _per_step, _temp_op,
                                   _to_scalar, _use_fused)

__all__ = ["Adamax"]


class Adamax(_ListOptimizer):
    """Adamax: ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 * u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running averages (default (0.9, 0.999)).
        eps: term added inside the max (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective (default False).
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_adamax_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        differentiable: run the step under autograd (default False).
        capturable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.Adamax(model.parameters())
    """

    _has_fused = True  # its default path is the _fused_adamax_ record
    _state_keys = frozenset({"step", "exp_avg", "exp_inf"})

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        _check_flags("Adamax", foreach, None, capturable, differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):  # noqa: ARG002 - the shared optimizer loop's signature
        st["step"] = self._step_tensor()
        st["exp_avg"] = self._zeros(p)
        st["exp_inf"] = self._zeros(p)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        beta1, beta2 = group["betas"]
        steps = lists.steps()
        if _use_fused(group):
            ember._fused_adamax_(lists.params, lists.grads, lists.state("exp_avg"),
                                 lists.state("exp_inf"), [st["step"] for st in lists.states],
                                 lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                                 weight_decay=group["weight_decay"],
                                 maximize=group["maximize"])
            return
        grads = self._grads(group, lists)
        m, u = lists.state("exp_avg"), lists.state("exp_inf")
        ember._foreach_lerp_(m, grads, 1 - beta1)
        # u = max(beta2 * u, |g| + eps)
        ember._foreach_mul_(u, beta2)
        tmp = _temp_op(group, "add", ember._foreach_abs(grads), group["eps"])
        ember._foreach_maximum_(u, tmp)
        ember._foreach_addcdiv_(lists.params, m, u,
                                _per_step(steps, lambda s: -(lr / (1 - beta1 ** s))))
