"""``RAdam``: rectified Adam (variance rectification of the adaptive learning rate)."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import (_check_flags, _ListOptimizer, _temp_op, _to_scalar,
                                   _use_fused)

__all__ = ["RAdam"]


class RAdam(_ListOptimizer):
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
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_radam_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        differentiable: run the step under autograd (default False).
        capturable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.RAdam(model.parameters())
    """

    _has_fused = True  # its default path is the _fused_radam_ record
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
        _check_flags("RAdam", foreach, None, capturable, differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):  # noqa: ARG002 - the shared optimizer loop's signature
        st["step"] = self._step_tensor()
        st["exp_avg"] = self._zeros(p)
        st["exp_avg_sq"] = self._zeros(p)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        beta1, beta2 = group["betas"]
        wd = group["weight_decay"]
        params = lists.params
        steps = lists.steps()
        if _use_fused(group):
            ember._fused_radam_(params, lists.grads, lists.state("exp_avg"),
                                lists.state("exp_avg_sq"), [st["step"] for st in lists.states],
                                lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                                weight_decay=wd,
                                decoupled_weight_decay=group["decoupled_weight_decay"],
                                maximize=group["maximize"])
            return
        if wd != 0 and group["decoupled_weight_decay"]:
            ember._foreach_mul_(params, 1 - lr * wd)
            grads = self._grads(group, lists, 0)
        else:
            grads = self._grads(group, lists)
        m, v = lists.state("exp_avg"), lists.state("exp_avg_sq")
        ember._foreach_lerp_(m, grads, 1 - beta1)
        ember._foreach_mul_(v, beta2)
        ember._foreach_addcmul_(v, grads, grads, 1 - beta2)
        rho_inf = 2 / (1 - beta2) - 1
        bc2 = [1 - beta2 ** s for s in steps]
        rho = [rho_inf - 2 * s * (beta2 ** s) / b for s, b in zip(steps, bc2)]
        # update = lr * m / bias_correction1, times the rectified adaptive lr where rho_t > 5
        upd = ember._foreach_div(m, tuple(1 - beta1 ** s for s in steps))
        upd = _temp_op(group, "mul", upd, lr)
        idx = [i for i, r in enumerate(rho) if r > 5.0]
        if idx:
            sub = [v[i] for i in idx]
            tmp = _temp_op(group, "add", ember._foreach_sqrt(sub), group["eps"])
            tmp = _temp_op(group, "reciprocal", tmp)
            tmp = _temp_op(group, "mul", tmp, tuple(bc2[i] ** 0.5 for i in idx))
            u = _temp_op(group, "mul", [upd[i] for i in idx], tmp)
            u = _temp_op(group, "mul", u, tuple(
                ((rho[i] - 4) * (rho[i] - 2) * rho_inf
                 / ((rho_inf - 4) * (rho_inf - 2) * rho[i])) ** 0.5 for i in idx))
            for i, t in zip(idx, u):
                upd[i] = t
        ember._foreach_sub_(params, upd)
