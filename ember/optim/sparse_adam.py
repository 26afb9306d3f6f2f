"""``SparseAdam``: Adam's update applied only at the rows a sparse gradient names."""

from __future__ import annotations

import math
from collections.abc import Iterable

import ember
from ember._backends import xp_of
from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer, _to_scalar

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam for sparse gradients (``nn.Embedding(sparse=True)``), PyTorch's algorithm step
    for step: only the moments and parameter entries present in the (coalesced) gradient
    change; every other entry keeps its moments and value.

    For the gradient's entries ``g`` with old moments ``m``, ``v``:
    ``dm = (1 - beta1) * (g - m)``, ``dv = (1 - beta2) * (g * g - v)``, ``m += dm``,
    ``v += dv`` and ``p -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * (dm + m_old) /
    (sqrt(dv + v_old) + eps)``. Dense gradients are refused, as in PyTorch.

    Args:
        params: parameters (dense tensors) or param groups.
        lr: learning rate (default 1e-3).
        betas: coefficients of the moment averages (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        maximize: maximize the objective (default False).

    Example::

        >>> emb = ember.nn.Embedding(10, 3, sparse=True)
        >>> opt = ember.optim.SparseAdam(emb.parameters(), lr=0.1)
        >>> emb(ember.tensor([1, 2])).sum().backward(); opt.step()
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas=(0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params, complex_params = [], []
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse_params.append([gi, pi])
                if p.is_complex():
                    complex_params.append([gi, pi])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires "
                             "dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    def step(self, closure=None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.

        Example::

            >>> opt.step()
        """
        loss = self._eval_closure(closure)
        with ember.no_grad():
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                lr, eps = _to_scalar(group["lr"]), group["eps"]
                for p in group["params"]:
                    g = p._grad
                    if g is None:
                        continue
                    if not g.is_sparse:
                        raise RuntimeError("SparseAdam does not support dense gradients, "
                                           "please consider Adam instead")
                    st = self.state[p]
                    if len(st) == 0:
                        st["step"] = 0
                        st["exp_avg"] = ember.zeros_like(p, memory_format=ember.preserve_format)
                        st["exp_avg_sq"] = ember.zeros_like(p,
                                                            memory_format=ember.preserve_format)
                    st["step"] += 1
                    self._update(p, g, st, beta1, beta2, lr, eps, group["maximize"])
        return loss

    @staticmethod
    def _update(p, g, st, beta1, beta2, lr, eps, maximize):
        # the arithmetic of PyTorch's sparse_adam, on the gradient's coalesced entries
        gc = g._data.coalesce()
        vals = -gc.values if maximize else gc.values
        if vals.size == 0:
            return
        key = tuple(gc.indices)
        m, v, w = st["exp_avg"]._data, st["exp_avg_sq"]._data, p._data
        old_m = m[key]
        dm = (vals - old_m) * (1 - beta1)
        m[key] += dm
        old_v = v[key]
        dv = (vals ** 2 - old_v) * (1 - beta2)
        v[key] += dv
        numer = dm + old_m
        denom = xp_of(w).sqrt(dv + old_v) + eps
        t = st["step"]
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        w[key] += -step_size * (numer / denom)
        for x in (st["exp_avg"], st["exp_avg_sq"], p):
            x._bump()
