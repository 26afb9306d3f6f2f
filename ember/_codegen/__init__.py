"""ember's kernel generator: elementwise and reduction programs compiled to C with OpenMP.

Layer 1 (imports NumPy, ``ember._dtype`` and the NumPy backend's kernels, nothing above);
imported lazily by the ops that use it, so ``import ember`` does not pay for it. See
NOTE [ Kernel IR ] (``ir.py``), NOTE [ C kernels ] (``c_emit.py``) and NOTE [ Kernel
cache ] (``build.py``).

API::

    k = elementwise_kernel(inputs=[("x0", "float32"), ("x1", "float32")],
                           body=[("t0", "x0 * x1"), ("t1", "tanh(t0)")],
                           outputs=[("t1", "float32")])
    outs = k(arrays)          # new C-contiguous arrays of the broadcast shape
    k(arrays, out=[o])        # or written into given arrays (any strides; C-contiguous
                              # for staged kernels); an out may be an input (in place)

    r = reduction_kernel(inputs=..., body=..., reduce=("sum", "t1"), axis=None,
                         keepdim=False, epilogue=[("y", "r * 0.5")],
                         outputs=[("y", "float32")])

    s = staged_kernel(inputs=[("x", "float32")],
                      body=[("m", "max(x)"), ("e", "exp(x - m)"), ("s", "sum(e)"),
                            ("y", "e / s")],
                      outputs=[("y", "float32"), ("m", "float32")], axis=-1)

NOTE [ Staged kernels ]
Row-wise softmax, log-softmax, layer norm and cross-entropy reduce along an axis and then
run an elementwise pass that uses the row result. A staged kernel's body may call the
reductions ``sum``/``mean``/``max``/``min``/``prod`` (over the kernel's ``axis``, one tuple for
all of them) on values that vary over those axes, and use their results like any value; the
builtin ``rindex`` is the flat position inside the reduced region (the column for a
last-axis kernel), so ``where(rindex == t, x, 0)`` picks a target column. Values split into
*full* ones (they vary over the reduced axes; shape = the inputs' broadcast shape) and *row*
ones (computed from reductions and literals; shape = the kept shape, size-1 axes with
``keepdim``). Each output takes the shape of its class. Execution: per kept index, pass
``p`` walks the row once and computes every reduction whose argument needs ``p - 1``
reductions (e.g. layer norm: pass 1 ``mean(x)``, pass 2 ``mean((x - mu) ** 2)``), recomputing
the elementwise values it needs from the inputs (cheaper than storing them: the row stays
in cache); a final pass writes the full outputs. ``reduction_kernel`` is the one-stage case.
"""

from __future__ import annotations

from ember._codegen.ir import KernelError, Unsupported
from ember._codegen.kernel import (ElementwiseKernel, StagedKernel, disabled, get_num_threads,
                                   set_disabled, set_num_threads)

__all__ = ["elementwise_kernel", "reduction_kernel", "staged_kernel", "KernelError",
           "Unsupported", "ElementwiseKernel", "StagedKernel", "get_num_threads",
           "set_num_threads", "disabled", "set_disabled", "cached"]

_CACHE = {}


def _freeze(x):
    if isinstance(x, (list, tuple)):
        return tuple(_freeze(i) for i in x)
    return str(x) if not isinstance(x, (int, bool, type(None))) else x


def elementwise_kernel(inputs, body, outputs):
    """Compile an elementwise SSA program (NOTE [ Kernel IR ]).

    Args:
        inputs: ``[(name, dtype), ...]``; call-time arrays must have these dtypes and
            broadcast together (any strides, 0-strides and 0-d included).
        body: ``[(name, expr), ...]`` in the EXPRS vocabulary.
        outputs: ``[(name, dtype), ...]``; a value of another dtype is cast (``astype``).

    Returns:
        An :class:`ElementwiseKernel`: ``k(arrays, out=None) -> [arrays]``. Programs the C
        emitter cannot match exactly (and machines without a compiler, and
        ``EMBER_JIT_DISABLE=1``) run on the NumPy executor with the same results;
        ``k.backend`` says which.

    Example::

        >>> k = elementwise_kernel([("x", "float32")], [("y", "x * 2")], [("y", "float32")])
        >>> k([np.ones(3, np.float32)])[0]
        array([2., 2., 2.], dtype=float32)
    """
    return ElementwiseKernel(inputs, body, outputs)


def staged_kernel(inputs, body, outputs, axis=-1, keepdim=False):
    """Compile a staged reduction program (NOTE [ Staged kernels ]).

    Args:
        inputs, body, outputs: as :func:`elementwise_kernel`; ``body`` may use ``sum``,
            ``mean``, ``max``, ``min``, ``prod`` (over ``axis``) and ``rindex``.
        axis: reduced axes of the inputs' broadcast shape (None: all).
        keepdim: row outputs keep the reduced axes with size 1.

    Example::

        >>> k = staged_kernel([("x", "float32")], [("m", "max(x)"), ("y", "exp(x - m)")],
        ...                   [("y", "float32")])
        >>> k([np.zeros((2, 3), np.float32)])[0].shape
        (2, 3)
    """
    return StagedKernel(inputs, body, outputs, axis=axis, keepdim=keepdim)


def reduction_kernel(inputs, body, reduce, outputs, axis=None, keepdim=False, epilogue=()):
    """Compile ``reduce = (op, value)`` of an elementwise prologue ``body``, followed by an
    elementwise ``epilogue`` on the result ``r`` (reserved name).

    Args:
        inputs, body: the prologue, as :func:`elementwise_kernel`.
        reduce: ``("sum" | "mean" | "max" | "min" | "prod", name of a body value or input)``.
        outputs: ``[(name, dtype), ...]`` naming ``r`` or epilogue values.
        axis, keepdim: as NumPy's (None: all axes).
        epilogue: ``[(name, expr), ...]`` over ``r`` and literals.

    Example::

        >>> r = reduction_kernel([("x", "float32")], [("t", "x * x")], ("sum", "t"),
        ...                      [("y", "float32")], epilogue=[("y", "sqrt(r)")])
        >>> float(r([np.full(4, 2.0, np.float32)])[0])
        4.0
    """
    op, value = reduce
    if op not in ("sum", "mean", "max", "min", "prod"):
        raise KernelError(f"reduction_kernel: unknown reduction {op!r}")
    names = {n for n, _ in inputs} | {n for n, _ in body}
    if "r" in names:
        raise KernelError("reduction_kernel: 'r' names the reduction's result; rename the "
                          "input or body value")
    k = StagedKernel(inputs, list(body) + [("r", f"{op}({value})")] + list(epilogue),
                     outputs, axis=axis, keepdim=keepdim)
    if any(o.full for o, _ in k.program.outputs):
        raise KernelError("reduction_kernel: outputs must be the reduction or epilogue "
                          "values (use staged_kernel for full-size outputs)")
    if any(n.level > 1 for n in k.program.nodes):
        raise KernelError("reduction_kernel: the prologue must not reduce")
    return k


def cached(maker, *args, **kwargs):
    """``maker(*args, **kwargs)`` built once per process for the same arguments (how eager
    ops keep their kernels)."""
    key = (maker.__name__, _freeze(args), _freeze(sorted(kwargs.items())))
    k = _CACHE.get(key)
    if k is None:
        k = _CACHE[key] = maker(*args, **kwargs)
    return k
