"""``ember.cuda``: reports that no CUDA device is available (the CuPy backend isn't written).

Scripts that check ``torch.cuda.is_available()`` run unchanged and take their CPU path;
anything that would need a GPU raises a clear RuntimeError.
"""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Seeding CUDA generators is a no-op when there are no CUDA devices (as in PyTorch)."""


manual_seed_all = manual_seed


def synchronize(device=None) -> None:
    _no_cuda("synchronize")


def current_device() -> int:
    _no_cuda("current_device")


def set_device(device) -> None:
    _no_cuda("set_device")


def get_device_name(device=None) -> str:
    _no_cuda("get_device_name")


def empty_cache() -> None:
    """Nothing to release without CUDA."""


def _no_cuda(what):
    raise RuntimeError(f"ember.cuda.{what}(): no CUDA device is available: this build runs on "
                       "the CPU only (the CUDA backend is not implemented yet).")


def __getattr__(name):
    if name == "amp":  # torch.cuda.amp, loaded on first use
        import importlib

        return importlib.import_module("ember.cuda.amp")
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")
