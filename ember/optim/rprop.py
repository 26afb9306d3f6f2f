"""``Rprop``: resilient backpropagation (sign-based steps with adaptive sizes)."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember._tensor import Tensor
from ember.optim.optimizer import _check, _check_flags, _ListOptimizer, _to_scalar, _use_fused

__all__ = ["Rprop"]


class Rprop(_ListOptimizer):
    """Rprop: each coordinate's step size grows by ``etas[1]`` while the gradient keeps its
    sign and shrinks by ``etas[0]`` when it flips (then that coordinate skips one update),
    clamped to ``step_sizes``; ``p -= sign(g) * step_size``.

    Args:
        params: parameters or param groups.
        lr: initial step size (default 1e-2).
        etas: (decrease, increase) factors, ``0 < etaminus < 1 < etaplus`` (default (0.5, 1.2)).
        step_sizes: (minimal, maximal) step size (default (1e-6, 50)).
        maximize: maximize the objective (default False).
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_rprop_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        capturable, differentiable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.Rprop(model.parameters())
    """

    _has_fused = True  # its default path is the _fused_rprop_ record
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
        # differentiable: the sign masks below are written in place per element
        _check_flags("Rprop", foreach, None, capturable, differentiable, differentiable_ok=False)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):
        lr = _to_scalar(group["lr"])
        st["step"] = self._step_tensor()
        st["prev"] = self._zeros(p)
        st["step_size"] = ember.full_like(p, complex(lr, lr) if p.dtype.is_complex else lr,
                                          memory_format=ember.preserve_format)

    def _update(self, group, lists):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        lists.steps()
        if _use_fused(group):
            ember._fused_rprop_(lists.params, lists.grads, lists.state("prev"),
                                lists.state("step_size"), etaminus=etaminus, etaplus=etaplus,
                                step_size_min=step_size_min, step_size_max=step_size_max,
                                maximize=group["maximize"])
            return
        grads = lists.grads
        # a copy: coordinates whose gradient changed sign are zeroed below
        grads = ember._foreach_neg(grads) if group["maximize"] else ember._foreach_mul(grads, 1)
        prev, ss = lists.state("prev"), lists.state("step_size")
        signs = ember._foreach_mul(grads, prev)
        ember._foreach_sign_(signs)
        for s, g in zip(signs, grads):
            pos, neg, zero = s > 0, s < 0, s == 0
            s.masked_fill_(pos, etaplus).masked_fill_(neg, etaminus).masked_fill_(zero, 1)
            g.masked_fill_(s == etaminus, 0)
        ember._foreach_mul_(ss, signs)
        ember._foreach_maximum_(ss, step_size_min)  # clamp(min, max)
        ember._foreach_minimum_(ss, step_size_max)
        upd = ember._foreach_sign(grads)
        ember._foreach_mul_(upd, ss)
        ember._foreach_sub_(lists.params, upd)
        ember._foreach_copy_(prev, grads)
