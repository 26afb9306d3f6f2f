"""Eager special functions on compiled C kernels where they apply (NOTE [ Special-function
kernels in C ] in ``ember/_codegen/special_c.py``), the backend kernel otherwise.

The kernel generator is imported on the first large call only, so ``import ember`` does not
load it; small arrays, other dtypes and other backends' arrays go straight to ``fallback``.
"""

from __future__ import annotations

import numpy as np

_MIN_SIZE = 64  # special_c.MIN_SIZE, repeated so small calls need no import
_ndarray = np.ndarray
_RUN = []


def accelerated(name, fallback):
    """A forward for ``name`` ("digamma", "lgamma", "erf", "erfc", "erfinv") that runs the C
    kernel on large float32/float64 host arrays and ``fallback`` (a backend kernel) on
    everything else.

    Args:
        name: the kernel's name in ``ember._codegen.special_c.NAMES``.
        fallback: the array function to run where the C kernel does not apply.

    Returns:
        The array function.

    Example:
        >>> import numpy as np
        >>> from ember._backends import KERNELS
        >>> f = accelerated("digamma", KERNELS.digamma)
        >>> float(f(np.array([1.0]))[0])  # -Euler's constant
        -0.5772156649015329
    """
    def kernel(x):
        if x.__class__ is _ndarray and x.size >= _MIN_SIZE and x.dtype.kind == "f":
            if not _RUN:
                from ember._codegen.special_c import run

                _RUN.append(run)
            r = _RUN[0](name, x)
            if r is not None:
                return r
        return fallback(x)

    kernel.__name__ = name
    return kernel
