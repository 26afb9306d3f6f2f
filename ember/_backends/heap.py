"""Reuse of freed heap memory for large host arrays (on by default); public as
``ember.cpu.allocator``. In the backend layer so that ``import ember`` can apply the
default without loading ``ember.cpu``.

NOTE [ Heap reuse for host arrays ]
Every training step allocates the same multi-megabyte arrays again (activations, im2col
buffers, gradients). glibc serves blocks above its mmap threshold (128 KiB at start, raised
dynamically up to 32 MiB after the first such block is freed) with a fresh ``mmap`` and
returns heap above its trim threshold to the kernel on ``free``, so each step page-faults
its large arrays in again: the kernel zeroes every page on first touch, and that time is
spent on the single Python thread while the BLAS's second thread waits. Raising both
thresholds keeps freed blocks in the heap, where the next step's arrays of the same sizes
find them already mapped. Measured on the quiet 2-core machine, 2 threads, 2026-12-07
(one process each, medians of 7 x 20 steps): LeNet train step 31-40 -> 21-22 ms (3,147
page faults per step -> 0; PyTorch 18-20 ms), ResNet-18 fwd+bwd 113-143 -> 84-88 ms
(~12,000 faults -> 15), peak resident memory unchanged (167 MB).

**Process-wide, on by default, and said so.** ``import ember`` calls
:func:`enable_heap_reuse` once (glibc's ``mallopt``: every ``malloc`` of the process,
NumPy's and any other library's, then keeps blocks under 32 MiB in the heap and returns
heap memory to the system only beyond 256 MiB free at its top). It does not when
``EMBER_HEAP_REUSE=0`` is in the environment, when the user already tuned glibc's malloc
(any of ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``,
``MALLOC_MMAP_MAX_``, or ``glibc.malloc`` in ``GLIBC_TUNABLES``), or off glibc (musl,
macOS, Windows: nothing happens). The price is resident memory: the heap keeps the peak of
a step instead of shrinking between steps (it does not grow step after step: the blocks are
reused). :func:`disable_heap_reuse` gives the kept memory back (``malloc_trim``) and sets
glibc's documented static defaults; glibc has no call that restores its dynamic threshold,
so a process that needs exactly the start-up behaviour sets ``EMBER_HEAP_REUSE=0``.

Alternatives considered (ARCHITECTURE.md, NOTE [ A caching allocator for the CPU backend ]):
NumPy's allocation-handler hook (NEP 49) can be scoped to ember's calls but needs a
compiled extension and its own release policy; a pool of ember's own freed arrays needs
ember to see frees (a finalizer per array, too slow on the hot path). Inside ember's
kernels the loops reuse one buffer per call already.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["enable_heap_reuse", "disable_heap_reuse", "heap_reuse_enabled"]

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_DEFAULT = 128 * 1024  # glibc's documented static default for both thresholds
_STATE = {"enabled": False, "by_default": False}
# the user's own malloc tuning, which ember's default leaves alone
_USER_MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                     "MALLOC_MMAP_MAX_")
_LIBC = []


def _libc():
    if not _LIBC:
        lib = None
        if platform.system() == "Linux" and _glibc():
            try:
                lib = ctypes.CDLL(None)
                lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                lib.mallopt.restype = ctypes.c_int
                lib.malloc_trim.argtypes = [ctypes.c_size_t]
                lib.malloc_trim.restype = ctypes.c_int
            except (OSError, AttributeError):
                lib = None
        _LIBC.append(lib)
    return _LIBC[0]


def _glibc():
    try:  # a constant lookup (platform.libc_ver() reads the interpreter's binary)
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def _enable_by_default():
    """``import ember``'s call (NOTE [ Heap reuse for host arrays ]): heap reuse unless
    ``EMBER_HEAP_REUSE=0``, the user's own malloc tuning, or no glibc. Never raises."""
    env = os.environ
    if env.get("EMBER_HEAP_REUSE", "1").strip().lower() in ("0", "false", "off", "no"):
        return
    if any(v in env for v in _USER_MALLOC_VARS) or "glibc.malloc" in env.get(
            "GLIBC_TUNABLES", ""):
        return
    if platform.system() != "Linux" or not _glibc():
        return
    try:
        enable_heap_reuse()
    except (NotImplementedError, RuntimeError, OSError):
        return
    _STATE["by_default"] = True


def enable_heap_reuse(mmap_threshold: int = 32 << 20,
                      trim_threshold: int = 256 << 20) -> None:
    """Keep freed large blocks in the C heap so the next step's arrays reuse them.

    Process-wide (NOTE [ Heap reuse for host arrays ]): every library in the process
    allocates through the same ``malloc``. ``import ember`` calls it with the defaults
    (unless ``EMBER_HEAP_REUSE=0``); call it again to change the thresholds;
    :func:`disable_heap_reuse` undoes it.

    Args:
        mmap_threshold: blocks at least this large (bytes) still get their own ``mmap``
            (default 32 MiB, glibc's largest on 64-bit systems; larger values are capped).
        trim_threshold: free memory at the top of the heap beyond this (bytes) is returned
            to the system (default 256 MiB).

    Raises:
        NotImplementedError: not on Linux with glibc (the thresholds are glibc's).
        ValueError: a threshold is not a positive int below 2**31.

    Returns:
        None.

    Example::

        >>> import ember.cpu.allocator as allocator
        >>> allocator.enable_heap_reuse()          # doctest: +SKIP
        >>> allocator.heap_reuse_enabled()         # doctest: +SKIP
        True
        >>> allocator.disable_heap_reuse()         # doctest: +SKIP
    """
    for name, v in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2 ** 31:
            raise ValueError(f"enable_heap_reuse(): {name} must be a positive int below 2**31,"
                             f" got {v!r}")
    lib = _libc()
    if lib is None:
        raise NotImplementedError("enable_heap_reuse(): needs Linux with glibc (mallopt); "
                                  f"this is {platform.system()} with "
                                  f"{platform.libc_ver()[0] or 'an unknown C library'}")
    ok = lib.mallopt(_M_MMAP_THRESHOLD, min(mmap_threshold, 32 << 20))
    ok &= lib.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    if not ok:
        raise RuntimeError("enable_heap_reuse(): glibc refused the thresholds (mallopt)")
    _STATE["enabled"] = True


def disable_heap_reuse() -> None:
    """Return kept heap memory to the system and set glibc's static default thresholds.

    Returns:
        None.

    Example::

        >>> import ember.cpu.allocator as allocator
        >>> allocator.disable_heap_reuse()         # doctest: +SKIP
        >>> allocator.heap_reuse_enabled()         # doctest: +SKIP
        False
    """
    lib = _libc()
    if lib is None or not _STATE["enabled"]:
        _STATE["enabled"] = False
        return
    lib.mallopt(_M_MMAP_THRESHOLD, _DEFAULT)
    lib.mallopt(_M_TRIM_THRESHOLD, _DEFAULT)
    lib.malloc_trim(0)
    _STATE["enabled"] = _STATE["by_default"] = False


def heap_reuse_enabled() -> bool:
    """Whether :func:`enable_heap_reuse` is in effect in this process (``import ember``
    turns it on by default on glibc: NOTE [ Heap reuse for host arrays ]).

    Returns:
        bool.

    Example::

        >>> import ember.cpu.allocator as allocator
        >>> allocator.heap_reuse_enabled()         # doctest: +SKIP
        True
    """
    return _STATE["enabled"]
