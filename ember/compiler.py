"""``ember.compiler``: PyTorch's ``torch.compiler`` helpers, for ``ember.compile``.

Example::

    >>> import ember
    >>> ember.compiler.is_compiling()
    False
"""

from __future__ import annotations

import weakref

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "reset",
           "allow_in_graph", "assume_constant_result"]

_COMPILED = weakref.WeakSet()  # every CompiledFunction, so reset() can clear their caches


def compile(*args, **kwargs):
    """``torch.compiler.compile``: the same as ``ember.compile``."""
    import ember

    return ember.compile(*args, **kwargs)


def is_compiling():
    """True while ``ember.compile`` traces (the code runs once, eagerly, under the tracer)."""
    from ember.jit import _TRACING

    return _TRACING[0] > 0


is_dynamo_compiling = is_compiling


def disable(fn=None, recursive=True):
    """``torch.compiler.disable``: ``fn`` runs as eager code. ember's compiled functions
    replay the op records ``fn`` reaches, which computes exactly what eager ``fn`` computes,
    so ``fn`` is returned as it is; ``recursive=False`` is not supported."""
    if not recursive:
        raise NotImplementedError("ember.compiler.disable(recursive=False) is not supported")
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn):
    """``torch.compiler.allow_in_graph``: every op record is in ember's graphs already."""
    return fn


def assume_constant_result(fn):
    """Not supported: ember cannot take a function's result as a constant without a guard."""
    raise NotImplementedError("ember.compiler.assume_constant_result is not supported")


def reset():
    """Clear the traces of every compiled function (the next calls trace again)."""
    for cf in list(_COMPILED):
        cf._cache.clear()
        cf._eager.clear()
