"""OpenBLAS's idle-thread spin, shortened so ember's own threaded kernels get the cores.

NOTE [ OpenBLAS thread timeout ]
After every threaded product OpenBLAS's worker threads keep polling for the next one for
``2**OPENBLAS_THREAD_TIMEOUT`` CPU cycles (default 28: about 0.1 s at 3 GHz) before they
sleep. In a training step a product is followed within microseconds by ember's OpenMP
kernels (convolution packing and pieces, elementwise kernels, pooling), whose second thread
then shares a core with a polling OpenBLAS worker and runs in the scheduler's time slices:
LeNet's second convolution's three passes took 1.9/1.9/2.5 ms alone and 4.6/3.5/3.3 ms
right after a threaded product. So ``import ember`` sets ``OPENBLAS_THREAD_TIMEOUT=16``
(2**16 cycles, ~20 us: back-to-back products still find the workers awake) unless the
variable is already set, and makes the OpenBLAS that NumPy loaded read it again
(``openblas_read_env``) and restart its thread pool (``blas_thread_shutdown_``; the next
threaded product starts it with the new timeout and the same thread count). Measured on the
quiet 2-core machine, 2 threads, 2026-12-07 (5 or 4 alternated rounds, one process each):
LeNet b64 train step 20.2 -> 13.8-14.2 ms (PyTorch 15.5), LSTM LM 98 -> 83 ms, ResNet-18
fwd+bwd 94 -> 79 ms.

Process-wide, said so in README.md ("What ember changes in your process"); child processes
inherit the variable. ``OPENBLAS_THREAD_TIMEOUT=28`` in the environment keeps OpenBLAS's
own default. Only NumPy's bundled OpenBLAS (``numpy.libs``, the ``scipy_openblas`` wheels)
is touched, and only where it exports both functions; other BLAS libraries (MKL,
Accelerate, a system OpenBLAS) are left alone.
"""

from __future__ import annotations

import ctypes
import glob
import os

__all__: list[str] = []

DEFAULT_TIMEOUT = "16"
_STATE = {"applied": False}


def _numpy_openblas():
    """ctypes handles of the OpenBLAS libraries bundled with NumPy (already loaded by its
    import, so opening them again only returns the loaded library)."""
    import numpy as np

    base = os.path.dirname(os.path.dirname(np.__file__))
    libs = []
    for path in sorted(glob.glob(os.path.join(base, "numpy.libs", "*openblas*"))):
        try:
            libs.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libs


def _apply_default():
    """``import ember``'s call (NOTE [ OpenBLAS thread timeout ]). Never raises."""
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = DEFAULT_TIMEOUT
    try:
        for lib in _numpy_openblas():
            read_env = getattr(lib, "openblas_read_env", None)
            shutdown = getattr(lib, "blas_thread_shutdown_", None)
            if read_env is None or shutdown is None:
                continue
            read_env.restype = None
            shutdown.restype = ctypes.c_int
            read_env()
            shutdown()
            _STATE["applied"] = True
    except (OSError, AttributeError, ValueError):
        return
