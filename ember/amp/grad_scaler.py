"""``GradScaler``: dynamic loss scaling for reduced-precision training (PyTorch's logic).

NOTE [ Loss scaling ]
Gradients of float16 losses underflow; multiplying the loss by a large factor ``S`` keeps
them representable, and dividing the gradients by ``S`` before the optimizer step undoes
it. ``S`` adapts: a step whose gradients hold inf/NaN is skipped and ``S`` is multiplied by
``backoff_factor``; after ``growth_interval`` consecutive clean steps ``S`` is multiplied by
``growth_factor``. Per optimizer, the stages READY -> UNSCALED -> STEPPED are tracked so
that ``unscale_`` (e.g. before gradient clipping) and ``step`` each run once per
``update``. The scale and the growth tracker live in 0-dim tensors (float32 and int32) as in
PyTorch, so ``state_dict`` round-trips with it. On the CPU the usual loop runs in float32
(or under ``autocast("cpu")``) where the scaling is exact (a power-of-two factor) and
harmless; the logic is the same for any dtype.

NOTE [ Loss scaling on the GPU ]
``GradScaler("cuda")`` keeps the scale, the growth tracker and the per-device inf flags in
0-d tensors on the device of the scaled outputs, and does the bookkeeping with tensor ops
there: ``unscale_`` multiplies each gradient by the reciprocal scale (a device tensor) and
ORs ``~isfinite(g).any()`` into its device's flag, ``update`` computes the new scale and
tracker with ``where`` (PyTorch's ``_amp_update_scale_``). So the only host synchronisation
per iteration is the one PyTorch also makes: ``step`` reads the flags to decide whether to
call ``optimizer.step()``. The CPU path runs the same code on host tensors.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from enum import Enum

import ember

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    """Where an optimizer is in the ``GradScaler`` step cycle: ``READY`` (nothing done this
    iteration), ``UNSCALED`` (``unscale_`` ran) or ``STEPPED`` (``step`` ran); ``update``
    sets it back to ``READY``. PyTorch's ``torch.amp.grad_scaler.OptState``.

    Example:
        >>> from ember.amp.grad_scaler import OptState
        >>> [s.name for s in OptState]
        ['READY', 'UNSCALED', 'STEPPED']
    """

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """Scale the loss, unscale the gradients, skip steps with inf/NaN gradients.

    Args:
        device: "cpu" or "cuda" (PyTorch's default); without a usable GPU "cuda" warns
            and disables the scaler, as PyTorch does on a machine without CUDA.
        init_scale: the initial scale factor.
        growth_factor: multiplies the scale after ``growth_interval`` clean steps (> 1).
        backoff_factor: multiplies the scale after a step with inf/NaN gradients (< 1).
        growth_interval: clean steps between growths.
        enabled: False makes every method a passthrough (``scale`` returns its input,
            ``step`` calls ``optimizer.step()``).

    Example::

        >>> import ember
        >>> model = ember.nn.Linear(2, 1)
        >>> opt = ember.optim.SGD(model.parameters(), lr=0.1)
        >>> scaler = GradScaler("cpu")
        >>> loss = model(ember.ones(4, 2)).pow(2).mean()
        >>> scaler.scale(loss).backward()
        >>> scaler.step(opt)
        >>> scaler.update()
        >>> scaler.get_scale()
        65536.0
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = str(device)
        self._enabled = enabled
        dev_type = ember.device(self._device).type
        if enabled and dev_type not in ("cpu", "cuda"):
            raise NotImplementedError(f"GradScaler: device {self._device!r} is not supported "
                                      "by ember (cpu and cuda are)")
        if enabled and dev_type == "cuda" and not ember.cuda.is_available():
            warnings.warn(f"torch.{self._device}.amp.GradScaler is enabled, but "
                          f"{self._device.upper()} is not available.  Disabling.", UserWarning,
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_fresh_state)

    # ---------------------------------------------------------------- internals
    def _check_scale_growth_tracker(self, funcname: str):
        fix = ("This may indicate your script did not use scaler.scale(loss or outputs) "
               "earlier in the iteration.")
        assert self._scale is not None, f"Attempted {funcname} but _scale is None.  " + fix
        assert self._growth_tracker is not None, (
            f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev=None):
        dev = self._device if dev is None else dev
        self._scale = ember.full((), self._init_scale, dtype=ember.float32, device=dev)
        self._growth_tracker = ember.full((), self._init_growth_tracker, dtype=ember.int32,
                                          device=dev)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16: bool) -> dict:
        """Multiply every gradient by ``inv_scale`` (a 0-d float32 tensor) and note, per
        device, whether any held inf/NaN: NOTE [ Loss scaling on the GPU ]."""
        per_device = {}
        with ember.no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if not allow_fp16 and p.grad.dtype == ember.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    g = p.grad
                    key = g.device
                    if key not in per_device:
                        per_device[key] = (found_inf.to(key), inv_scale.to(key))
                    found, inv = per_device[key]
                    # PyTorch's _amp_foreach_non_finite_check_and_unscale_: test, then scale;
                    # the flag stays on the device (no synchronisation per gradient)
                    found.logical_or_(ember.isfinite(g).logical_not().any())
                    g.mul_(inv)
        return {d: f for d, (f, _) in per_device.items()}

    # ---------------------------------------------------------------- public API
    def scale(self, outputs):
        """Multiply a tensor (or nested lists/tuples of tensors) by the scale factor.

        Args:
            outputs: a tensor, or an iterable of them (nesting allowed).

        Returns:
            The scaled outputs, in the same structure (unchanged when disabled).

        Example::

            >>> GradScaler("cpu", init_scale=4.0).scale(ember.tensor(2.0)).item()
            8.0
        """
        if not self._enabled:
            return outputs
        if self._scale is None:
            first = outputs if isinstance(outputs, ember.Tensor) else None
            self._lazy_init_scale_growth_tracker(None if first is None else first.device)
        if isinstance(outputs, ember.Tensor):
            return outputs * self._scale.to(outputs.device)

        def apply(val):
            if isinstance(val, ember.Tensor):
                return val * self._scale.to(val.device)
            if isinstance(val, (list, tuple)):
                return type(val)(apply(v) for v in val)
            if hasattr(val, "__iter__"):
                return map(apply, val)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (e.g. before clipping).

        Args:
            optimizer: the optimizer whose parameters' gradients to unscale.

        Example::

            >>> p = ember.nn.Parameter(ember.ones(1))
            >>> opt = ember.optim.SGD([p], lr=1.0)
            >>> s = GradScaler("cpu", init_scale=8.0)
            >>> s.scale(p.sum()).backward()
            >>> s.unscale_(opt)
            >>> p.grad.tolist()
            [1.0]
        """
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # float64 reciprocal then float32, as PyTorch computes inv_scale (on the device)
        inv_scale = self._scale.double().reciprocal().float()
        found_inf = ember.zeros((), dtype=ember.bool, device=self._scale.device)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf,
                                                             allow_fp16=False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and step ``optimizer`` unless gradients hold inf/NaN.

        Args:
            optimizer: the optimizer to step.
            *args, **kwargs: passed to ``optimizer.step`` (no ``closure`` when enabled).

        Returns:
            What ``optimizer.step`` returned, or None when the step was skipped.

        Example::

            >>> p = ember.nn.Parameter(ember.ones(1))
            >>> s = GradScaler("cpu")
            >>> s.scale(p * float("inf")).sum().backward()
            >>> s.step(ember.optim.SGD([p], lr=1.0))  # skipped: p unchanged
            >>> p.tolist()
            [1.0]
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        assert len(state["found_inf_per_device"]) > 0, (
            "No inf checks were recorded for this optimizer.")
        retval = None
        # one synchronisation per step, as PyTorch's (``.item()`` of the flags)
        if not sum(bool(v) for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """Adapt the scale after the iteration's steps (or set it to ``new_scale``).

        Args:
            new_scale: a float or a one-element tensor to use as the scale; None applies the
                growth/backoff rule of NOTE [ Loss scaling ].

        Example::

            >>> s = GradScaler("cpu")
            >>> _ = s.scale(ember.ones(1))
            >>> s.update(new_scale=1024.0)
            >>> s.get_scale()
            1024.0
        """
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.FloatTensor "
                          "with requires_grad=False.")
                assert isinstance(new_scale, ember.Tensor), reason
                assert new_scale.numel() == 1, reason
                assert new_scale.requires_grad is False, reason
                scale.copy_(new_scale.reshape(()))
        else:
            found_infs = [v.to(scale.device) for st in self._per_optimizer_states.values()
                          for v in st["found_inf_per_device"].values()]
            assert len(found_infs) > 0, "No inf checks were recorded prior to update."
            self._update_scale_(scale, tracker, found_infs)
        self._per_optimizer_states = defaultdict(_fresh_state)

    def _update_scale_(self, scale, tracker, found_infs) -> None:
        """PyTorch's ``_amp_update_scale_`` with tensor ops on the scale's device (no
        synchronisation): back off after an inf/NaN, grow after ``growth_interval`` clean
        steps when the grown scale is finite (computed in float32, the scale's dtype)."""
        with ember.no_grad():
            bad = found_infs[0]
            for f in found_infs[1:]:
                bad = bad.logical_or(f)
            successful = tracker + 1
            grow = bad.logical_not().logical_and(successful == self._growth_interval)
            grown = scale * self._growth_factor
            new_scale = ember.where(bad, scale * self._backoff_factor,
                                    ember.where(grow.logical_and(ember.isfinite(grown)),
                                                grown, scale))
            new_tracker = ember.where(bad.logical_or(grow), ember.zeros_like(successful),
                                      successful)
            scale.copy_(new_scale)
            tracker.copy_(new_tracker)

    def get_scale(self) -> float:
        """The current scale factor (1.0 when disabled).

        Example::

            >>> GradScaler("cpu", init_scale=32.0).get_scale()
            32.0
        """
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

    def get_growth_factor(self) -> float:
        """The factor applied after ``growth_interval`` clean steps."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the growth factor.

        Args:
            new_factor: the new factor (> 1).
        """
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The factor applied after a step with inf/NaN gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the backoff factor.

        Args:
            new_factor: the new factor (< 1).
        """
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """Clean steps between growths."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the growth interval.

        Args:
            new_interval: the number of clean steps.
        """
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return int(self._growth_tracker)

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False after ``enabled=False`` or disabling).

        Example::

            >>> GradScaler("cpu", enabled=False).is_enabled()
            False
        """
        return self._enabled

    def state_dict(self) -> dict:
        """The scale, factors, interval and growth tracker (empty when disabled).

        Example::

            >>> sorted(GradScaler("cpu").state_dict())
            ['_growth_tracker', 'backoff_factor', 'growth_factor', 'growth_interval', 'scale']
        """
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned.

        Args:
            state_dict: a dict from :meth:`state_dict` (PyTorch's GradScaler's works too).

        Example::

            >>> s = GradScaler("cpu")
            >>> s.load_state_dict({"scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5,
            ...                    "growth_interval": 10, "_growth_tracker": 3})
            >>> s.get_scale(), s._get_growth_tracker()
            (8.0, 3)
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was "
                               "saved from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            assert len(self._per_optimizer_states) == 0, (
                "A GradScaler instance may only be pickled at the beginning of an iteration, "
                "or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
            state["_per_optimizer_states"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self._enabled:
            self._per_optimizer_states = defaultdict(_fresh_state)
