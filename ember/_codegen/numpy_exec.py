"""The NumPy executor: runs a kernel program with NumPy (the fallback and the reference).

Each node is evaluated with the NumPy function of its name on whole arrays, weak literals
as Python scalars, so dtypes follow NumPy exactly as the parser predicted; reductions use
``keepdims`` over the staged kernel's axes. It serves programs the C emitter refuses,
dtypes without C kernels (float16, bfloat16, complex), machines without a compiler and
``EMBER_JIT_DISABLE=1``.
"""

from __future__ import annotations

import numpy as np

from ember._codegen.ir import REDUCTIONS


def _erf(x, name):
    from ember._backends import numpy_backend

    return getattr(numpy_backend, name)(x)


def evaluate(program, arrays, axes=None, shape=None):
    """Values of ``program``'s outputs (not yet cast) for input ``arrays``.

    ``axes``/``shape``: for staged programs, the reduced axes and the full (broadcast)
    shape; full values broadcast against reduced ones (kept with size-1 axes).
    """
    env = {}
    for n, a in zip(program.inputs, arrays):
        env[n.id] = a
    with np.errstate(all="ignore"):
        for n in program.nodes:
            if n.id in env:
                continue
            op = n.op
            if op == "const":
                env[n.id] = n.value if n.dtype is None else np.asarray(n.value, n.dtype)
                continue
            if op == "rindex":
                sizes = [shape[d] if d in axes else 1 for d in range(len(shape))]
                env[n.id] = np.arange(int(np.prod(sizes)), dtype=np.int64).reshape(sizes)
                continue
            args = [env[a.id] for a in n.args]
            if op == "where":
                v = np.where(args[0], args[1], args[2])
            elif op == "cast":
                v = np.asarray(args[0]).astype(n.dtype)
            elif op in ("erf", "erfc"):
                v = _erf(np.asarray(args[0]).astype(n.loop[0], copy=False), op)
            elif op in REDUCTIONS:
                a = np.broadcast_to(args[0], shape)
                fn = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
                      "prod": np.prod}[op]
                v = fn(a, axis=axes, keepdims=True)
            else:
                v = getattr(np, op)(*args)
            env[n.id] = v
    return [env[o.id] for o, _ in program.outputs]
