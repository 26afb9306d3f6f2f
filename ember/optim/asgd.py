"""``ASGD``: averaged stochastic gradient descent (Polyak & Juditsky)."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember import _dtype as D
from ember._tensor import Tensor
from ember.optim.optimizer import (_check, _check_flags, _ListOptimizer, _temp_op,
                                   _to_scalar, _use_fused)

__all__ = ["ASGD"]


class ASGD(_ListOptimizer):
    """ASGD: ``p = p (1 - lambd eta) - eta g``; the average ``ax`` tracks ``p`` once
    ``t > t0``; ``eta = lr / (1 + lambd lr t)^alpha``, ``mu = 1 / max(1, t - t0)``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power for the eta update (default 0.75).
        t0: point at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective (default False).
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_asgd_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        differentiable: run the step under autograd (default False).
        capturable: not implemented (True raises NotImplementedError).

    Example::

        >>> opt = ember.optim.ASGD(model.parameters(), lr=0.05, t0=100)
    """

    _has_fused = True  # its default path is the _fused_asgd_ record
    _state_keys = frozenset({"step", "eta", "mu", "ax"})

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        _check_flags("ASGD", foreach, None, capturable, differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, st, group):
        st["step"] = self._step_tensor()
        st["eta"] = self._step_tensor(_to_scalar(group["lr"]))
        st["mu"] = self._step_tensor(1.0)
        st["ax"] = self._zeros(p)

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
        params, ax = lists.params, lists.state("ax")
        steps = lists.steps()
        eta_t = [st["eta"] for st in lists.states]
        mu_t = [st["mu"] for st in lists.states]
        # new eta and mu: PyTorch makes each a tensor of the default dtype (as_tensor of a
        # Python float), then copies it into the state, whatever that state's dtype
        new_etas = [lr / ((1 + lambd * lr * s) ** alpha) for s in steps]
        new_mus = [1 / max(1, s - t0) for s in steps]
        if _use_fused(group):
            rnd = D.get_default_dtype().np.type  # the rounding through the default dtype
            ember._fused_asgd_(params, lists.grads, ax, eta_t, mu_t, lambd=lambd,
                               weight_decay=group["weight_decay"], maximize=group["maximize"],
                               new_etas=[float(rnd(v)) for v in new_etas],
                               new_mus=[float(rnd(v)) for v in new_mus])
            return
        self._foreach_update(group, lists, ax, eta_t, mu_t)
        ember._foreach_copy_(eta_t, list(ember.tensor(new_etas)))
        ember._foreach_copy_(mu_t, list(ember.tensor(new_mus)))

    def _foreach_update(self, group, lists, ax, eta_t, mu_t):
        """The parameter and average update on the foreach records (``foreach=True``,
        ``differentiable=True``); the default path runs ``_fused_asgd_``."""
        lambd = group["lambd"]
        params, grads = lists.params, self._grads(group, lists)
        etas = [float(t._data) for t in eta_t]
        mus = [float(t._data) for t in mu_t]
        # p = p * (1 - lambd * eta) - eta * g
        ember._foreach_mul_(params, tuple(1 - lambd * e for e in etas))
        ember._foreach_add_(params, ember._foreach_mul(grads, tuple(-e for e in etas)))
        # ax += (p - ax) * mu, or ax = p while mu == 1
        avg = [i for i, mu in enumerate(mus) if mu != 1]
        same = [i for i, mu in enumerate(mus) if mu == 1]
        if avg:
            a = [ax[i] for i in avg]
            d = ember._foreach_sub([params[i] for i in avg], a)
            d = _temp_op(group, "mul", d, tuple(mus[i] for i in avg))
            ember._foreach_add_(a, d)
        if same:
            ember._foreach_copy_([ax[i] for i in same], [params[i] for i in same])
