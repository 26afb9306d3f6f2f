"""``RMSprop``: divide the gradient by a running root mean square (Hinton)."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember._tensor import Tensor
from ember.optim.optimizer import (_check, _check_flags, _ListOptimizer, _temp_op,
                                   _to_scalar, _use_fused)

__all__ = ["RMSprop"]


class RMSprop(_ListOptimizer):
    """RMSprop: ``v = alpha v + (1 - alpha) g^2``; ``d = sqrt(v) + eps`` (``centered``:
    ``sqrt(v - mean_g^2) + eps``); ``p -= lr g / d``, or with momentum ``b = momentum b +
    g / d; p -= lr b``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: denominator term (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by the estimated variance of the gradient (default False).
        maximize: maximize the objective (default False).
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_rmsprop_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        differentiable: run the step under autograd (default False).
        capturable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    _has_fused = True  # its default path is the _fused_rmsprop_ record
    _state_keys = frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"})

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= momentum, f"Invalid momentum value: {momentum}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check(0.0 <= alpha, f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        _check_flags("RMSprop", foreach, None, capturable, differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):
        st["step"] = self._step_tensor()
        st["square_avg"] = self._zeros(p)
        if group["momentum"] > 0:
            st["momentum_buffer"] = self._zeros(p)
        if group["centered"]:
            st["grad_avg"] = self._zeros(p)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        alpha, momentum = group["alpha"], group["momentum"]
        lists.steps()
        if _use_fused(group):
            ember._fused_rmsprop_(
                lists.params, lists.grads, lists.state("square_avg"),
                lists.state("grad_avg") if group["centered"] else [],
                lists.state("momentum_buffer") if momentum > 0 else [], lr=lr, alpha=alpha,
                eps=group["eps"], weight_decay=group["weight_decay"], momentum=momentum,
                centered=group["centered"], maximize=group["maximize"])
            return
        params, grads = lists.params, self._grads(group, lists)
        v = lists.state("square_avg")
        ember._foreach_mul_(v, alpha)
        ember._foreach_addcmul_(v, grads, grads, 1 - alpha)
        if group["centered"]:
            ga = lists.state("grad_avg")
            ember._foreach_lerp_(ga, grads, 1 - alpha)
            avg = _temp_op(group, "sqrt", ember._foreach_addcmul(v, ga, ga, -1))
        else:
            avg = ember._foreach_sqrt(v)
        avg = _temp_op(group, "add", avg, group["eps"])
        if momentum > 0:
            buf = lists.state("momentum_buffer")
            ember._foreach_mul_(buf, momentum)
            ember._foreach_addcdiv_(buf, grads, avg)
            ember._foreach_add_(params, buf, alpha=-lr)
        else:
            ember._foreach_addcdiv_(params, grads, avg, -lr)
