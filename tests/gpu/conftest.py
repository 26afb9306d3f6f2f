"""GPU tests (issue 15): skipped without a CUDA device; ``EMBER_GPU_DRY_RUN=1`` runs them on
the CPU instead (``scripts/gpu_check.sh --dry-run``), which checks the tests themselves on
machines without a GPU.

The device under test is the ``dev`` fixture ("cuda", or "cpu" in a dry run); tests compare
it with the CPU, so a dry run compares the CPU with itself.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

import ember  # noqa: E402

DRY = os.environ.get("EMBER_GPU_DRY_RUN", "") not in ("", "0")


def _device():
    if DRY:
        return "cpu"
    return "cuda" if ember.cuda.is_available() else None


DEVICE = _device()


def pytest_collection_modifyitems(config, items):
    if DEVICE is not None:
        return
    from ember._backends import cupy_backend

    skip = pytest.mark.skip(reason=f"no CUDA device ({cupy_backend.unavailable_reason()}); "
                                   "EMBER_GPU_DRY_RUN=1 runs these on the CPU")
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(skip)


@pytest.fixture
def dev():
    """The device under test: "cuda" (or "cpu" in a dry run)."""
    return DEVICE
