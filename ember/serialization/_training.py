"""Bitwise-resumable training checkpoints: model, optimizer, scheduler, RNGs, sampler position.

NOTE [ Resumable checkpoints ]
Resuming a run so that it is bit-identical to one that never stopped needs every input of
the remaining computation: parameters and buffers, optimizer state (moments, step counts),
scheduler state, the epoch and step, every random stream (ember's default generator,
NumPy's global generator, Python's ``random``), and which samples of the current epoch were
already seen. :func:`save_training_state` writes all of it into one checkpoint that loads
with ``weights_only=True`` (random states are stored as tensors and plain containers), and
:func:`load_training_state` puts it back. The data order is handled by
:class:`ResumableSampler`, which remembers the random state its epoch started from and how
many indices it has handed out; after a restore its next epoch regenerates the same order
and skips what was already consumed.

This module uses ember.nn/optim objects only through their ``state_dict`` /
``load_state_dict`` methods, so it works with any object that has them.
"""

from __future__ import annotations

import random
from typing import Any, Iterator, Optional

import numpy as np

from ember._tensor import Tensor

FORMAT = "ember.training_state/1"


# ------------------------------------------------------------------ RNG states
def _to_tensor(a: np.ndarray) -> Tensor:
    a = np.asarray(a)
    if a.dtype.kind == "u" and a.dtype.itemsize >= 4:
        a = a.astype(np.int64)  # uint32 state words; int64 holds them exactly
    return Tensor._wrap(np.array(a))


def get_rng_states() -> dict:
    """Snapshot ember's default generator, NumPy's global RNG and Python's ``random``.

    The result holds only tensors, ints, floats, strings and None, so it can be saved in a
    weights-only checkpoint.

    Returns:
        A dict of the three states.

    Example:
        >>> s = get_rng_states(); a = ember.rand(2)
        >>> set_rng_states(s); bool((ember.rand(2) == a).all())
        True
    """
    import ember

    npst = np.random.get_state(legacy=False)
    np_state = {"bit_generator": npst["bit_generator"]}
    if npst["bit_generator"] == "MT19937":
        np_state.update(key=_to_tensor(npst["state"]["key"]), pos=int(npst["state"]["pos"]),
                        has_gauss=int(npst["has_gauss"]), gauss=float(npst["gauss"]))
    else:  # other bit generators' states are nested dicts of Python ints
        np_state["state"] = {k: v for k, v in npst.items() if k != "bit_generator"}
    version, words, gauss_next = random.getstate()
    return {
        "ember": ember.get_rng_state(),
        "numpy": np_state,
        "python": {"version": version, "state": _to_tensor(np.array(words, np.uint64)),
                   "gauss_next": gauss_next},
    }


def set_rng_states(states: dict) -> None:
    """Restore the generators captured by :func:`get_rng_states`.

    Args:
        states: the dict :func:`get_rng_states` returned (possibly after a save/load).

    Returns:
        None.

    Example:
        >>> set_rng_states(get_rng_states())
    """
    import ember

    ember.set_rng_state(states["ember"])
    nps = states["numpy"]
    if nps["bit_generator"] == "MT19937":
        key = np.asarray(nps["key"].numpy(), dtype=np.uint32)
        np.random.set_state(("MT19937", key, nps["pos"], nps["has_gauss"], nps["gauss"]))
    else:
        np.random.set_state({"bit_generator": nps["bit_generator"], **nps["state"]})
    py = states["python"]
    words = tuple(int(w) for w in py["state"].numpy().tolist())
    random.setstate((py["version"], words, py["gauss_next"]))


# ------------------------------------------------------------------ sampler position
class ResumableSampler:
    """Wrap a sampler so a checkpoint can record, and a resume replay, its position.

    At the start of each epoch it snapshots the random state the epoch's order will be drawn
    from (the wrapped sampler's ``generator`` if it has one, and ember's global generator)
    and counts the indices it hands out; :meth:`state_dict` also records the global state at
    checkpoint time. After :meth:`load_state_dict`, the next epoch rebuilds the same order
    from the snapshot, skips the indices already consumed, and then sets the global
    generator to its checkpoint-time state, which also undoes random numbers drawn when the
    DataLoader starts the resumed epoch (its worker base seed).

    The count is exact when batches are fetched in the training process (``num_workers=0``);
    with prefetching workers, pass the number of consumed indices to :meth:`state_dict`.

    Args:
        sampler: any sampler (e.g. ``RandomSampler(ds, generator=g)``) whose randomness is
            drawn from its ``generator`` or, at the start of an epoch, the global generator.

    Example:
        >>> from ember.utils.data import DataLoader, RandomSampler
        >>> ds = list(range(20))
        >>> sampler = ResumableSampler(RandomSampler(ds, generator=ember.Generator()))
        >>> loader = DataLoader(ds, batch_size=8, sampler=sampler)
        >>> len(list(loader))
        3
    """

    def __init__(self, sampler):
        self.sampler = sampler
        self._epoch_states = None
        self._position = 0
        self._resume = None

    def __len__(self):
        return len(self.sampler)

    def _gen(self):
        return getattr(self.sampler, "generator", None)

    def __iter__(self) -> Iterator:
        import ember

        resume, self._resume = self._resume, None
        if resume is not None:
            start_states, skip, after_restore = resume
            if after_restore is None:
                after_restore = ember.get_rng_state()
            ember.set_rng_state(start_states["global"])
            if start_states.get("generator") is not None:
                self._gen().set_state(start_states["generator"])
        else:
            g = self._gen()
            start_states = {"global": ember.get_rng_state(),
                            "generator": g.get_state() if g is not None else None}
            skip = 0
        self._epoch_states = start_states
        self._position = 0
        it = iter(self.sampler)
        try:
            for _ in range(skip):
                next(it)
                self._position += 1
            if resume is not None:
                # Draw the first index (which draws the epoch's order) before handing the
                # global generator back to the state the checkpoint restored.
                first = next(it, _END)
                ember.set_rng_state(after_restore)
                resume = None
                if first is _END:
                    return
                self._position += 1
                yield first
            for idx in it:
                self._position += 1
                yield idx
        finally:
            if resume is not None:
                ember.set_rng_state(after_restore)

    def state_dict(self, consumed: Optional[int] = None) -> dict:
        """The epoch's starting random state and how many indices were consumed.

        Args:
            consumed: override the count of indices handed out (for prefetching loaders).
        """
        import ember

        if self._epoch_states is None:
            return {"position": 0, "epoch_states": None}
        pos = self._position if consumed is None else int(consumed)
        return {"position": pos, "epoch_states": dict(self._epoch_states),
                "global_now": ember.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        """Make the next epoch replay the saved one from its saved position.

        Args:
            state: a dict from :meth:`state_dict`.
        """
        if state.get("epoch_states") is None:
            self._resume = None
            return
        self._resume = (state["epoch_states"], int(state["position"]),
                        state.get("global_now"))


_END = object()


# ------------------------------------------------------------------ save / load
def save_training_state(f, *, model=None, optimizer=None, scheduler=None, sampler=None,
                        epoch: int = 0, step: int = 0, extra: Any = None) -> None:
    """Write everything needed to resume training bit-identically into one safe checkpoint.

    The file is an ordinary ember/PyTorch checkpoint holding a dict (keys ``"model"``,
    ``"optimizer"``, ``"scheduler"``, ``"sampler"``, ``"epoch"``, ``"step"``, ``"rng"``,
    ``"extra"``); it loads with ``weights_only=True``.

    Args:
        f: a path or binary file object.
        model, optimizer, scheduler, sampler: objects with ``state_dict()`` (any may be None;
            a list or tuple of optimizers/schedulers is accepted).
        epoch, step: where training is (e.g. the epoch and the number of batches done in it).
        extra: more plain data to keep (tensors, numbers, strings, containers).

    Returns:
        None.

    Example:
        >>> net = nn.Linear(2, 1)
        >>> opt = ember.optim.SGD(net.parameters(), lr=0.1)
        >>> save_training_state("ckpt.pt", model=net, optimizer=opt, epoch=3, step=10)
        >>> load_training_state("ckpt.pt", model=net, optimizer=opt)["step"]
        10
    """
    from ember.serialization import save

    def sd(obj):
        if obj is None:
            return None
        if isinstance(obj, (list, tuple)):
            return [o.state_dict() for o in obj]
        return obj.state_dict()

    save({"format": FORMAT, "model": sd(model), "optimizer": sd(optimizer),
          "scheduler": sd(scheduler), "sampler": sd(sampler), "epoch": int(epoch),
          "step": int(step), "rng": get_rng_states(), "extra": extra}, f)


def load_training_state(f, *, model=None, optimizer=None, scheduler=None, sampler=None,
                        restore_rng: bool = True, map_location=None) -> dict:
    """Restore what :func:`save_training_state` wrote; returns the whole checkpoint dict.

    Each given object gets ``load_state_dict`` with its part; the random generators are
    restored last, so nothing in between consumes random numbers.

    Args:
        f: a path or binary file object.
        model, optimizer, scheduler, sampler: objects to restore (None to skip).
        restore_rng: also restore ember's, NumPy's and Python's random states.
        map_location: as in :func:`ember.load`.

    Returns:
        The dict saved, with its ``epoch``, ``step`` and extra entries.

    Example:
        >>> net = nn.Linear(2, 1)
        >>> opt = ember.optim.SGD(net.parameters(), lr=0.1)
        >>> save_training_state("ckpt.pt", model=net, optimizer=opt, epoch=2, step=5)
        >>> ck = load_training_state("ckpt.pt", model=net, optimizer=opt)
        >>> start_epoch, start_step = ck["epoch"], ck["step"]
        >>> start_epoch, start_step
        (2, 5)
    """
    from ember.serialization import load

    ck = load(f, map_location=map_location, weights_only=True)
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise RuntimeError("load_training_state: the file was not written by "
                           "save_training_state")

    def restore(obj, state, what):
        if obj is None:
            return
        if state is None:
            raise RuntimeError(f"load_training_state: the checkpoint has no {what} state")
        if isinstance(obj, (list, tuple)):
            for o, s in zip(obj, state, strict=True):
                o.load_state_dict(s)
        else:
            obj.load_state_dict(state)

    restore(model, ck["model"], "model")
    restore(optimizer, ck["optimizer"], "optimizer")
    restore(scheduler, ck["scheduler"], "scheduler")
    restore(sampler, ck["sampler"], "sampler")
    if restore_rng:
        set_rng_states(ck["rng"])
    return ck
