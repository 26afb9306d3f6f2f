"""``Adadelta``: an adaptive learning rate from running averages of squared updates."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember._tensor import Tensor
from ember.optim.optimizer import (_check, _check_flags, _ListOptimizer, _temp_op,
                                   _to_scalar, _use_fused)

__all__ = ["Adadelta"]


class Adadelta(_ListOptimizer):
    """Adadelta (Zeiler): ``v = rho v + (1 - rho) g^2``,
    ``d = sqrt(u + eps) / sqrt(v + eps) * g``, ``u = rho u + (1 - rho) d^2``, ``p -= lr d``.

    Args:
        params: parameters or param groups.
        lr: coefficient scaling the update (default 1.0).
        rho: running-average coefficient (default 0.9).
        eps: term added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective (default False).
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_adadelta_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        differentiable: run the step under autograd (default False).
        capturable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.Adadelta(model.parameters())
    """

    _has_fused = True  # its default path is the _fused_adadelta_ record
    _state_keys = frozenset({"step", "square_avg", "acc_delta"})

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        _check_flags("Adadelta", foreach, None, capturable, differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):  # noqa: ARG002 - the shared optimizer loop's signature
        st["step"] = self._step_tensor()
        st["square_avg"] = self._zeros(p)
        st["acc_delta"] = self._zeros(p)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        rho, eps = group["rho"], group["eps"]
        lists.steps()
        if _use_fused(group):
            ember._fused_adadelta_(lists.params, lists.grads, lists.state("square_avg"),
                                   lists.state("acc_delta"), lr=lr, rho=rho, eps=eps,
                                   weight_decay=group["weight_decay"],
                                   maximize=group["maximize"])
            return
        grads = self._grads(group, lists)
        v, u = lists.state("square_avg"), lists.state("acc_delta")
        ember._foreach_mul_(v, rho)
        ember._foreach_addcmul_(v, grads, grads, 1 - rho)
        std = _temp_op(group, "sqrt", ember._foreach_add(v, eps))
        delta = _temp_op(group, "sqrt", ember._foreach_add(u, eps))
        delta = _temp_op(group, "div", delta, std)
        delta = _temp_op(group, "mul", delta, grads)
        ember._foreach_mul_(u, rho)
        ember._foreach_addcmul_(u, delta, delta, 1 - rho)
        ember._foreach_add_(lists.params, delta, alpha=-lr)
