"""``ember.random``: the default generator's seed/state functions and ``fork_rng``."""

from __future__ import annotations

import contextlib

from ember._random import (default_generator, get_rng_state, initial_seed, manual_seed, seed,
                           set_rng_state)

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",  # noqa: ARG001 - only the CPU generator has state to fork in ember
             device_type="cuda"):  # noqa: ARG001 - only the CPU generator has state to fork in ember
    """Run the block with a copy of the RNG state; restore the state afterwards.

    Args:
        devices: accelerator devices whose state to fork too (none on the CPU).
        enabled: False makes it a no-op.
        device_type: the accelerator type (default ``'cuda'``).

    Returns:
        A context manager restoring the random state on exit.

    Example:
        >>> a = ember.rand(1)
        >>> with ember.random.fork_rng():
        ...     _ = ember.rand(5)
        ...
        >>> _ = ember.manual_seed(0)
        >>> x = ember.rand(1)
        >>> _ = ember.manual_seed(0)
        >>> with ember.random.fork_rng():
        ...     _ = ember.rand(5)
        ...
        >>> bool(ember.rand(1) == x)
        True
    """
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)
