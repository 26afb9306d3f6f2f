"""Random number generation: ``Generator`` objects over NumPy's PCG64 bit generator.

ember's streams differ from PyTorch's (Mersenne Twister/Philox): seeds make runs
reproducible within ember, not bit-identical to PyTorch.
"""

from __future__ import annotations

import json

import numpy as np

from ember._device import check_device


class Generator:
    """``ember.Generator(device='cpu')`` with ``manual_seed``, ``seed``, state get/set."""

    def __init__(self, device="cpu"):
        check_device(device)
        self._seed = 67280421310721  # PyTorch's default initial seed
        self._np = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def device(self):
        return check_device("cpu")

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed &= (1 << 64) - 1  # PyTorch accepts negative seeds by wrapping
        self._seed = seed
        self._np = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ember._tensor import Tensor

        blob = json.dumps({"seed": self._seed, "state": self._np.bit_generator.state})
        return Tensor._wrap(np.frombuffer(blob.encode(), dtype=np.uint8).copy())

    def set_state(self, new_state):
        if getattr(new_state, "dtype", None) is not _uint8():
            raise TypeError("RNG state must be a torch.ByteTensor")
        try:
            d = json.loads(bytes(np.asarray(new_state._data, dtype=np.uint8)).decode())
            bg = np.random.PCG64()
            bg.state = d["state"]
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise RuntimeError(f"Generator.set_state: invalid RNG state ({e})") from None
        self._seed = d["seed"]
        self._np = np.random.Generator(bg)
        return self

    def __getstate__(self):
        return {"seed": self._seed, "state": self._np.bit_generator.state}

    def __setstate__(self, d):
        self._seed = d["seed"]
        bg = np.random.PCG64()
        bg.state = d["state"]
        self._np = np.random.Generator(bg)


def _uint8():
    from ember._dtype import uint8

    return uint8


default_generator = Generator()


def _gen(generator):
    return (generator if generator is not None else default_generator)._np


def manual_seed(seed):
    """Seed the default generator (and return it), like ``torch.manual_seed``."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)
