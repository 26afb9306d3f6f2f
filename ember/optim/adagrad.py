"""``Adagrad``: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import ember
from ember._backends import xp_of
from ember._tensor import Tensor
from ember.optim.optimizer import (_SPECIAL, _check, _check_flags, _Lists, _ListOptimizer,
                                   _per_step, _temp_op, _to_scalar, _use_fused)

__all__ = ["Adagrad"]


class Adagrad(_ListOptimizer):
    """Adagrad: ``s += g * g``, ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: initial value of the sum ``s`` (default 0).
        eps: denominator term (default 1e-10).
        maximize: maximize the objective (default False).
        foreach: True: one foreach op per formula step for all parameters; None (default)
            and False run the ``_fused_adagrad_`` record, the whole update parameter by parameter
            (PyTorch's per-parameter loop; faster on the host). All give identical results.
        differentiable: run the step under autograd (default False).
        fused: True runs PyTorch's ``_fused_adagrad_`` record (also the default path).

    Example::

        >>> opt = ember.optim.Adagrad(model.parameters(), lr=0.1)
    """

    _has_fused = True  # its default path is the _fused_adagrad_ record
    _state_keys = frozenset({"step", "sum"})

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= lr_decay, f"Invalid lr_decay value: {lr_decay}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check(0.0 <= initial_accumulator_value,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        _check_flags("Adagrad", foreach, fused, False, differentiable, fused_ok=True)
        super().__init__(params, defaults)
        # Like PyTorch, state exists from construction (so state_dict() before any step has it).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    def _init_state(self, p, st, group):
        st["step"] = self._step_tensor()
        v = group["initial_accumulator_value"]
        if p.dtype.is_complex:
            v = complex(v, v)
        st["sum"] = ember.full_like(p, v, memory_format=ember.preserve_format)

    def _sparse_step(self, group, params, grads, states):
        """PyTorch's per-parameter Adagrad, its path whenever a gradient is sparse (NOTE
        [ Sparse COO tensors ] in ember/_sparse.py): only the entries a sparse gradient names
        change, in ``sum`` and in the parameter; weight decay is refused with sparse
        gradients, as in PyTorch. Dense gradients in the same group take the usual update."""
        if group["fused"]:
            raise RuntimeError("`fused` does not support sparse grad or complex param")
        lr = _to_scalar(group["lr"])
        for p, g, st in zip(params, grads, states):
            if not g.is_sparse:
                self._update(group, _Lists([p], [g], [st], p._data.dtype in _SPECIAL))
                continue
            ember._foreach_add_([st["step"]], 1.0)
            step = float(st["step"])
            if group["weight_decay"] != 0:
                raise RuntimeError("weight_decay option is not compatible with sparse "
                                   "gradients")
            gc = g._data.coalesce()
            vals = -gc.values if group["maximize"] else gc.values
            key = tuple(gc.indices)
            clr = lr / (1 + (step - 1) * group["lr_decay"])
            acc, w = st["sum"]._data, p._data
            acc[key] += vals * vals
            std = xp_of(acc).sqrt(acc[key]) + group["eps"]
            w[key] += (vals / std) * -clr
            st["sum"]._bump()
            p._bump()

    def _update(self, group, lists):
        lr = _to_scalar(group["lr"])
        lr_decay = group["lr_decay"]
        steps = lists.steps()
        if _use_fused(group):
            ember._fused_adagrad_(lists.params, lists.grads, lists.state("sum"),
                                  [st["step"] for st in lists.states], lr=lr,
                                  lr_decay=lr_decay, weight_decay=group["weight_decay"],
                                  eps=group["eps"], maximize=group["maximize"])
            return
        grads = self._grads(group, lists)
        sums = lists.state("sum")
        ember._foreach_addcmul_(sums, grads, grads, 1)
        std = _temp_op(group, "add", ember._foreach_sqrt(sums), group["eps"])
        ember._foreach_addcdiv_(lists.params, grads, std,
                                _per_step(steps, lambda s: -(lr / (1 + (s - 1) * lr_decay))))
