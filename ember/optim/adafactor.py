"""``Adafactor``: Adam-like steps with a factored second moment (Shazeer & Stern, 2018)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import ember
from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, _to_scalar

__all__ = ["Adafactor"]


# NOTE [ Adafactor's update ]
# PyTorch's variant (its documentation states the rule): at step t, with tau = beta2_decay,
# 1 - beta2_t = t ** tau, rho = min(lr, 1 / sqrt(t)) and alpha = max(eps2, RMS(param)) * rho
# (RMS of the parameter before this step's weight decay); decoupled weight decay
# p *= 1 - lr * weight_decay; for a matrix (or a batch of them: the last two dims) the row
# and column means of g**2 are tracked as running averages R (..., m, 1) and C (..., 1, n)
# and the variance estimate is R @ C / max(mean(R), eps1); a vector or scalar keeps a plain
# running average V of g**2. The update U = g / max(sqrt(V), eps1) is clipped to RMS d
# (U / max(1, RMS(U) / d)) and p -= alpha * U. eps1 = None means the dtype's machine
# epsilon. Means rather than sums keep large matrices' statistics in range.
class Adafactor(Optimizer):
    """Adafactor: sublinear-memory adaptive steps with a factored second moment.

    Args:
        params: parameters (or named parameters) or param groups.
        lr: the maximum relative step size and the weight-decay coefficient (default 1e-2).
        beta2_decay: ``tau`` in ``1 - beta2_t = t ** tau`` (default -0.8, must be <= 0).
        eps: ``(eps1, eps2)``: eps1 stabilises the denominators (None: the dtype's
            machine epsilon), eps2 floors the parameter scale (default ``(None, 1e-3)``).
        d: the update clipping threshold (default 1.0, must be >= 1).
        weight_decay: decoupled weight decay coefficient (default 0).
        foreach: accepted for PyTorch's signature; True, False and None all run the same
            per-parameter update (identical results).
        maximize: maximize the objective (default False).

    Example:
        >>> w = ember.nn.Parameter(ember.ones(3, 4))
        >>> opt = ember.optim.Adafactor([w], lr=0.01)
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['col_var', 'row_var', 'step']
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _to_scalar(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, st):
        st["step"] = self._step_tensor()
        if p.dim() > 1:
            # running means of g**2 over the last dim (rows) and the second-last (columns)
            st["row_var"] = ember.zeros(*p.shape[:-1], 1, dtype=p.dtype, device=p.device)
            st["col_var"] = ember.zeros(*p.shape[:-2], 1, p.shape[-1], dtype=p.dtype,
                                        device=p.device)
        else:
            st["variance"] = ember.zeros_like(p)

    @ember.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (NOTE [ Adafactor's update ]).

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.

        Example:
            >>> w = ember.nn.Parameter(ember.ones(2))
            >>> opt = ember.optim.Adafactor([w]); w.sum().backward(); opt.step()
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            eps1, eps2 = group["eps"]
            tau, d, wd = group["beta2_decay"], group["d"], group["weight_decay"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                if getattr(g, "is_sparse", False):
                    raise RuntimeError("Adafactor does not support sparse gradients")
                if group["maximize"]:
                    g = -g
                st = self.state[p]
                if not st:
                    self._init_state(p, st)
                e1 = eps1 if eps1 is not None else ember.finfo(p.dtype).eps
                st["step"].add_(1)
                t = float(st["step"])
                one_minus_beta2 = t ** tau
                rho = min(lr, 1 / math.sqrt(t))
                alpha = max(eps2, float(p.norm()) / math.sqrt(p.numel())) * rho
                if wd != 0:
                    p.mul_(1 - lr * wd)
                g2 = g * g
                if g.dim() > 1:
                    row, col = st["row_var"], st["col_var"]
                    row.lerp_(g2.mean(-1, keepdim=True), one_minus_beta2)
                    col.lerp_(g2.mean(-2, keepdim=True), one_minus_beta2)
                    var = (row @ col).div_(row.mean(-2, keepdim=True).clamp_(min=e1))
                else:
                    st["variance"].lerp_(g2, one_minus_beta2)
                    var = st["variance"].clone()
                update = var.clamp_(min=e1 * e1).rsqrt_().mul_(g)
                denom = max(1.0, float(update.norm()) / (math.sqrt(update.numel()) * d))
                p.add_(update, alpha=-alpha / denom)
        return loss
