"""``Muon``: momentum orthogonalized by Newton-Schulz iterations, for 2-D weights."""

from __future__ import annotations

import math
from collections.abc import Iterable

import ember
from ember import _dtype as D
from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, _to_scalar

__all__ = ["Muon"]

_ADJUST = (None, "original", "match_rms_adamw")


def _bf16(t: Tensor) -> Tensor:
    """Round float32 values to bfloat16 and back (one rounding, to nearest even)."""
    return t.to(D.bfloat16).to(D.float32)


# NOTE [ Muon's Newton-Schulz iteration ]
# The momentum update M (m x n) is orthogonalized by k quintic Newton-Schulz steps with
# coefficients (a, b, c): X = M / max(||M||_F, eps) (transposed first when m > n, so the
# Gram matrices are the small side), then k times: A = X X^T, B = b A + c A A,
# X = a X + B X. PyTorch runs the iteration in bfloat16 (each matrix product accumulates in
# float32 and rounds its result once), so its update carries bfloat16 rounding; ember computes
# in float32 and rounds to bfloat16 at the same points, which reproduces PyTorch's values (and
# returns them as bfloat16-valued float32, added to the parameter in its own dtype).
def _newton_schulz(m: Tensor, coefficients, steps: int, eps: float) -> Tensor:
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if m.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    x = _bf16(m.float())
    tall = m.shape[0] > m.shape[1]
    if tall:
        x = x.t()
    norm = _bf16(x.norm().reshape(1)).clamp(min=float(_bf16(ember.tensor([eps]))))
    x = _bf16(x / norm)
    for _ in range(steps):
        gram = _bf16(x @ x.t())
        upd = _bf16(gram * b + (gram @ gram) * c)
        x = _bf16(x * a + upd @ x)
    return x.t() if tall else x


def _adjust_lr(lr: float, fn, shape) -> float:
    rows, cols = shape[:2]
    if fn is None or fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """Muon: SGD with Nesterov momentum whose update is orthogonalized (for 2-D weights).

    Each step: ``B = lerp(B, g, 1 - momentum)``; the update ``lerp(g, B, momentum)``
    (Nesterov) or ``B`` is orthogonalized by ``ns_steps`` Newton-Schulz iterations
    (NOTE [ Muon's Newton-Schulz iteration ]); decoupled weight decay
    ``p *= 1 - lr * weight_decay``; then ``p -= adjusted_lr * O``, with ``adjusted_lr``
    ``lr * sqrt(max(1, rows / cols))`` ("original", the default) or
    ``0.2 * lr * sqrt(max(rows, cols))`` ("match_rms_adamw").

    Args:
        params: 2-D parameters (or named parameters) or param groups; optimize biases and
            embeddings with another optimizer such as AdamW.
        lr: learning rate (default 1e-3).
        weight_decay: decoupled weight decay (default 0.1).
        momentum: momentum factor (default 0.95).
        nesterov: use Nesterov momentum (default True).
        ns_coefficients: the quintic's coefficients ``(a, b, c)``
            (default (3.4445, -4.775, 2.0315)).
        eps: floor of the Frobenius norm the update is divided by (default 1e-7).
        ns_steps: Newton-Schulz iterations (default 5, fewer than 100).
        adjust_lr_fn: ``None``/``"original"`` or ``"match_rms_adamw"``.

    Example:
        >>> w = ember.nn.Parameter(ember.randn(4, 3))
        >>> opt = ember.optim.Muon([w], lr=0.02)
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['momentum_buffer']
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= _to_scalar(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn not in _ADJUST:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.shape}")

    @ember.no_grad()
    def step(self, closure=None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.

        Example:
            >>> w = ember.nn.Parameter(ember.ones(2, 2))
            >>> opt = ember.optim.Muon([w]); w.sum().backward(); opt.step()
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            mu = group["momentum"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if p.is_complex():
                    raise ValueError("Complex parameters are not supported")
                if getattr(g, "is_sparse", False):
                    raise RuntimeError("Muon does not support sparse gradients")
                if g.dim() != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                st = self.state[p]
                if not st:
                    st["momentum_buffer"] = ember.zeros_like(g)
                buf = st["momentum_buffer"]
                buf.lerp_(g, 1 - mu)
                update = g.lerp(buf, mu) if group["nesterov"] else buf
                o = _newton_schulz(update, group["ns_coefficients"], group["ns_steps"],
                                   group["eps"])
                adjusted = _adjust_lr(lr, group["adjust_lr_fn"], p.shape)
                p.mul_(1 - lr * group["weight_decay"])
                p.add_(o.to(p.dtype), alpha=-adjusted)
        return loss
