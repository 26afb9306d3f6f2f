"""Stochastic Weight Averaging and EMA utilities (PyTorch's ``torch.optim.swa_utils``).

``AveragedModel`` keeps a running average (SWA by default, or EMA through
``get_ema_multi_avg_fn``) of a model's parameters; ``SWALR`` anneals the lr to a constant
SWA lr; ``update_bn`` recomputes BatchNorm statistics for the averaged weights.

Example::

    >>> swa_model = AveragedModel(model)
    >>> swa_sched = SWALR(opt, swa_lr=0.05)
    >>> for epoch in range(100):
    ...     train_one_epoch(model, opt)
    ...     if epoch >= 75:
    ...         swa_model.update_parameters(model); swa_sched.step()
    >>> update_bn(loader, swa_model)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import ember
from ember._tensor import Tensor
from ember.nn import Module
from ember.optim.lr_scheduler import LRScheduler, _format_param
from ember.optim.optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _lerp_list_(averaged: list[Tensor], current: list[Tensor], weight: float) -> None:
    """``averaged[i].lerp_(current[i], weight)`` for every pair, as one foreach op (PyTorch's
    ``_foreach_lerp_``: exact at both ends)."""
    with ember.no_grad():
        ember._foreach_lerp_(averaged, current, weight)


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An exponential-moving-average ``multi_avg_fn``: ``ema = decay * ema + (1 - decay) * p``.

    Args:
        decay: EMA decay in [0, 1].

    Returns:
        A function ``fn(averaged_params, current_params, num_averaged)`` that updates the
        averages in place.

    Example::

        >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
        >>> ema.update_parameters(model)
    """
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    def ema_update(ema_param_list, current_param_list, _num_averaged) -> None:
        if ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex():
            _lerp_list_(ema_param_list, current_param_list, 1 - decay)
        else:
            with ember.no_grad():
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An equal-weight running-average ``multi_avg_fn`` (SWA).

    Returns:
        A function ``fn(averaged_params, current_params, num_averaged)`` that updates the
        averages in place.

    Example::

        >>> swa = AveragedModel(model, multi_avg_fn=get_swa_multi_avg_fn())
        >>> swa.update_parameters(model)
    """

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        n = float(num_averaged)
        if averaged_param_list[0].is_floating_point() or averaged_param_list[0].is_complex():
            _lerp_list_(averaged_param_list, current_param_list, 1 / (n + 1))
        else:
            with ember.no_grad():
                for a, c in zip(averaged_param_list, current_param_list):
                    a.copy_(a + (c - a) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """A per-tensor EMA ``avg_fn``: returns ``decay * ema + (1 - decay) * current``.

    Args:
        decay: EMA decay in [0, 1].

    Returns:
        A function ``fn(averaged, current, num_averaged)`` returning the new average.

    Example::

        >>> get_ema_avg_fn(0.5)(ember.tensor([0.0]), ember.tensor([2.0]), 1)
        tensor([1.])
        >>> ema = AveragedModel(model, avg_fn=get_ema_avg_fn(0.99))
    """
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    def ema_update(ema_param, current_param, num_averaged):  # noqa: ARG001 - avg_fn protocol; an EMA needs no count
        with ember.no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """A per-tensor SWA ``avg_fn``: returns ``avg + (current - avg) / (n + 1)``.

    Returns:
        A function ``fn(averaged, current, num_averaged)`` returning the new average.

    Example::

        >>> get_swa_avg_fn()(ember.tensor([1.0]), ember.tensor([3.0]), ember.tensor(1))
        tensor([2.])
        >>> swa = AveragedModel(model, avg_fn=get_swa_avg_fn())
    """

    def swa_update(averaged_param, current_param, num_averaged):
        with ember.no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters hold a running average of ``model``'s.

    Args:
        model: the model to average (deep-copied).
        device: accepted for compatibility (ember runs on the CPU).
        avg_fn: ``avg_fn(averaged, current, n_averaged) -> Tensor`` per parameter.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, n_averaged)`` updating in
            place (e.g. ``get_ema_multi_avg_fn``). Default (neither): equal-weight SWA.
        use_buffers: average buffers too (otherwise they are copied from ``model``).

    Example::

        >>> swa_model = AveragedModel(model)
        >>> swa_model.update_parameters(model)
        >>> out = swa_model(ember.randn(3, 4))      # the averaged weights' forward
        >>> out.shape
        torch.Size([3, 2])
    """

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ember.tensor(0, dtype=ember.int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers with ``use_buffers``) into the
        average; the first call copies them.

        Args:
            model: the model being trained (same architecture).
        """
        if self.use_buffers:
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            mine, theirs = list(self.parameters()), list(model.parameters())
        mine = [p.detach() for p in mine]
        theirs = [p.detach() for p in theirs]
        n = int(self.n_averaged)
        with ember.no_grad():
            if n == 0:
                for a, c in zip(mine, theirs):
                    a.copy_(c)
            else:
                if self.avg_fn is not None and self.multi_avg_fn is None:
                    for a, c in zip(mine, theirs):
                        a.copy_(self.avg_fn(a, c, self.n_averaged))
                else:
                    # One call per dtype, like PyTorch's per-(device, dtype) groups.
                    groups: dict = {}
                    for a, c in zip(mine, theirs):
                        pair = groups.setdefault(a.dtype, ([], []))
                        pair[0].append(a)
                        pair[1].append(c)
                    for a_list, c_list in groups.values():
                        if self.multi_avg_fn is not None:
                            self.multi_avg_fn(a_list, c_list, self.n_averaged)
                        else:
                            # PyTorch's CPU path: avg + (cur - avg) / (n + 1), per tensor.
                            fn = get_swa_avg_fn()
                            for a, c in zip(a_list, c_list):
                                a.copy_(fn(a, c, self.n_averaged))
            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach())
            self.n_averaged.add_(1)


def update_bn(loader: Iterable, model: Module, device: Any = None) -> None:
    """Recompute BatchNorm running statistics with one pass over ``loader``.

    Each BatchNorm's statistics are reset and re-estimated as a cumulative average
    (``momentum=None``) in train mode; momenta and the train/eval mode are restored.

    Args:
        loader: an iterable of inputs (or of tuples/lists whose first item is the input).
        model: the model (e.g. an ``AveragedModel``).
        device: accepted for compatibility (``input.to(device)`` when given).

    Returns:
        None.

    Example::

        >>> net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        >>> swa_model = AveragedModel(net)
        >>> loader = [ember.randn(8, 3) for _ in range(2)]
        >>> update_bn(loader, swa_model)
        >>> swa_model.module[1].num_batches_tracked
        tensor(2)
    """
    from ember.nn.modules.batchnorm import _BatchNorm

    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with ember.no_grad():
        for inp in loader:
            if isinstance(inp, (list, tuple)):
                inp = inp[0]
            if device is not None:
                inp = inp.to(device)
            model(inp)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs, then hold it.

    Args:
        optimizer: the wrapped optimizer.
        swa_lr: the SWA learning rate(s).
        anneal_epochs: epochs of the annealing (default 10).
        anneal_strategy: ``"cos"`` or ``"linear"`` (default "cos").
        last_epoch: index of the last epoch (default -1).

    Example::

        >>> swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=5)
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        for lr, group in zip(_format_param("swa_lr", optimizer, swa_lr),
                             optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, strategy: str) -> None:
        self._anneal_strategy = strategy
        self.anneal_func = self._cosine_anneal if strategy == "cos" else self._linear_anneal

    def get_lr(self) -> list:
        self._warn_get_lr()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # Recover the lr before annealing started from the current one, then re-anneal.
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                    for g in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer and the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a dict from ``state_dict()``.

        Args:
            state_dict: the scheduler state.
        """
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
