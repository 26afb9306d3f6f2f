"""The deterministic-algorithms flag and the check a nondeterministic kernel calls.

NOTE [ Nondeterministic ops in ember ]
``ember.use_deterministic_algorithms(True)`` asks every op for a deterministic algorithm and
makes ops that have none raise PyTorch's RuntimeError (or warn, with ``warn_only=True``).
On ember's CPU path there are none today: NumPy's kernels, ``np.add.at`` (scatter-add,
index_add, index_put with accumulate, embedding backward), BLAS products at a fixed thread
count and the generated C kernels (fixed-chunk reductions, ``ember/_codegen``) give the same
bits on every run. A kernel that is not deterministic (e.g. a future device backend's
atomic scatter-add) calls ``alert_not_deterministic("<kernel name>")`` before running; that
one call is what honours the flag. Keep this list of such kernels here, in this note, and in
the docstring of ``ember.use_deterministic_algorithms``: (none).
"""

from __future__ import annotations

import warnings

# [mode, warn_only] as last set by ember.use_deterministic_algorithms.
STATE = [False, False]


def alert_not_deterministic(caller):
    """Refuse (or warn about) a nondeterministic kernel while determinism is requested.

    Args:
        caller: the kernel's name, shown first in the message (PyTorch's wording).

    Raises:
        RuntimeError: when ``use_deterministic_algorithms(True)`` is in effect without
            ``warn_only``.

    Example:
        >>> from ember._deterministic import alert_not_deterministic
        >>> alert_not_deterministic("scatter_add_cuda_kernel")  # no-op unless enabled
    """
    if not STATE[0]:
        return
    if STATE[1]:
        warnings.warn(f"{caller} does not have a deterministic implementation, but you set "
                      "'torch.use_deterministic_algorithms(True, warn_only=True)'. You can "
                      "file an issue at https://github.com/pytorch/pytorch/issues to help us "
                      "prioritize adding deterministic support for this operation.",
                      UserWarning, stacklevel=3)
        return
    raise RuntimeError(f"{caller} does not have a deterministic implementation, but you set "
                       "'torch.use_deterministic_algorithms(True)'. You can turn off "
                       "determinism just for this operation, or you can use the "
                       "'warn_only=True' option, if that's acceptable for your application. "
                       "You can also file an issue at https://github.com/pytorch/pytorch/issues "
                       "to help us prioritize adding deterministic support for this operation.")
