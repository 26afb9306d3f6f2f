"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember._tensor import Tensor
from ember.optim.optimizer import _check, _check_flags, _ListOptimizer, _to_scalar, _use_fused

__all__ = ["SGD"]


class SGD(_ListOptimizer):
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
        foreach: True updates all parameters with one foreach op per formula step; False
            is PyTorch's per-parameter loop, which the fused record is.
        differentiable: run the step under autograd so the update can be differentiated
            (default False).
        fused: True runs PyTorch's ``_fused_sgd_`` record (the whole update per parameter in
            one loop), as does None (the default) unless ``foreach=True`` or
            ``differentiable=True`` is given; all paths give identical results.

    Example::

        >>> model = nn.Linear(4, 2)
        >>> opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> x, y = ember.randn(8, 4), ember.randn(8, 2)
        >>> opt.zero_grad(); nn.functional.mse_loss(model(x), y).backward(); opt.step()
    """

    _has_fused = True
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
        _check_flags("SGD", foreach, fused, False, differentiable, fused_ok=True)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):
        pass  # the momentum buffer is created from the first gradient, in _update

    def _sparse_step(self, group, params, grads, states):
        """PyTorch's per-parameter SGD, its path whenever a gradient is sparse (NOTE [ Sparse
        COO tensors ] in ember/_sparse.py): a momentum buffer started from a sparse gradient
        stays sparse; weight decay meets ``add(sparse, dense)`` and is refused, as there."""
        if group["fused"]:
            raise RuntimeError("`_fused_sgd` does not support sparse gradients")
        lr = _to_scalar(group["lr"])
        momentum, dampening = group["momentum"], group["dampening"]
        wd = group["weight_decay"]
        for p, g, st in zip(params, grads, states):
            if group["maximize"]:
                g = -g
            if wd != 0:
                g = g.add(p, alpha=wd)
            if momentum != 0:
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = g.clone().detach()
                    self.state[p] = st
                else:  # buf.mul_(momentum).add_(g, alpha=1 - dampening), layout kept
                    new = buf * momentum + g * (1 - dampening)
                    buf._data = new._data
                    buf._bump()
                g = g + buf * momentum if group["nesterov"] else buf
            p.add_(g, alpha=-lr)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        momentum = group["momentum"]
        fresh = bufs = None
        if momentum != 0:
            states = lists.states
            fresh = [i for i, st in enumerate(states) if st.get("momentum_buffer") is None]
            for i in fresh:
                states[i]["momentum_buffer"] = self._zeros(lists.originals[i])
                self.state[lists.originals[i]] = states[i]
            bufs = lists.state("momentum_buffer")
        if _use_fused(group):
            kw = dict(weight_decay=group["weight_decay"], momentum=momentum, lr=lr,
                      dampening=group["dampening"], nesterov=group["nesterov"],
                      maximize=group["maximize"])
            if not fresh:
                ember._fused_sgd_(lists.params, lists.grads, bufs or [], is_first_step=False,
                                  **kw)
                return
            fs = set(fresh)
            old = [i for i in range(len(bufs)) if i not in fs]
            for idx, first in ((fresh, True), (old, False)):
                if idx:
                    ember._fused_sgd_([lists.params[i] for i in idx],
                                      [lists.grads[i] for i in idx], [bufs[i] for i in idx],
                                      is_first_step=first, **kw)
            return
        params, grads = lists.params, self._grads(group, lists)
        if momentum != 0:
            if fresh:  # first step: the buffer is a copy of the gradient (detached, as in
                # PyTorch: no gradient flows through the first buffer)
                ember._foreach_copy_([bufs[i] for i in fresh],
                                     [grads[i].detach() for i in fresh])
            fs = set(fresh)
            old = [i for i in range(len(bufs)) if i not in fs] if fresh else None
            obufs = bufs if old is None else [bufs[i] for i in old]
            if obufs:
                ograds = grads if old is None else [grads[i] for i in old]
                # buf = buf * momentum + (1 - dampening) * grad
                ember._foreach_mul_(obufs, momentum)
                ember._foreach_add_(obufs, ograds, alpha=1 - group["dampening"])
            if group["nesterov"]:
                grads = ember._foreach_add(grads, bufs, alpha=momentum)
            else:
                grads = bufs
        ember._foreach_add_(params, grads, alpha=-lr)
