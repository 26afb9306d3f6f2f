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
    """``torch.compiler.compile``: the same function as ``ember.compile``.

    Args:
        *args: ``ember.compile``'s positional arguments (the function or Module first).
        **kwargs: ``ember.compile``'s keyword arguments.

    Returns:
        What ``ember.compile`` returns: a compiled function, or an ``OptimizedModule`` for a
        Module.

    Example:
        >>> f = ember.compiler.compile(lambda x: (x * 2).sum())
        >>> f(ember.ones(3))
        tensor(6.)
    """
    import ember

    return ember.compile(*args, **kwargs)


def is_compiling():
    """Whether ``ember.compile`` is tracing now (the traced code runs once, eagerly, under the
    tracer); also published as ``is_dynamo_compiling``.

    Returns:
        bool.

    Example:
        >>> seen = []
        >>> def f(x):
        ...     seen.append(ember.compiler.is_compiling())
        ...     return x + 1
        >>> _ = ember.compile(f)(ember.ones(2))
        >>> seen[0], ember.compiler.is_compiling()
        (True, False)
    """
    from ember.jit import _TRACING

    return _TRACING[0] > 0


is_dynamo_compiling = is_compiling


def disable(fn=None, recursive=True):
    """``torch.compiler.disable``: run ``fn`` as eager code inside compiled code.

    ember's compiled functions replay the op records ``fn`` reaches, which computes exactly
    what eager ``fn`` computes, so ``fn`` is returned as it is.

    Args:
        fn: the function; None returns a decorator.
        recursive: False is not supported (NotImplementedError).

    Returns:
        ``fn`` itself (or a decorator that returns its argument).

    Example:
        >>> @ember.compiler.disable
        ... def helper(x):
        ...     return x.relu()
        >>> helper(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    if not recursive:
        raise NotImplementedError("ember.compiler.disable(recursive=False) is not supported")
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn):
    """``torch.compiler.allow_in_graph``: mark ``fn`` as traceable as a whole; every op record
    is in ember's graphs already, so nothing changes.

    Args:
        fn: the function.

    Returns:
        ``fn`` itself.

    Example:
        >>> g = ember.compiler.allow_in_graph(ember.sin)
        >>> g is ember.sin
        True
    """
    return fn


def assume_constant_result(fn):
    """``torch.compiler.assume_constant_result``: not supported, since ember cannot take a
    function's result as a constant without a guard.

    Args:
        fn: the function.

    Returns:
        Never returns: NotImplementedError.

    Example:
        >>> try:
        ...     ember.compiler.assume_constant_result(len)
        ... except NotImplementedError as e:
        ...     print(e)
        ember.compiler.assume_constant_result is not supported
    """
    raise NotImplementedError("ember.compiler.assume_constant_result is not supported")


def reset():
    """Clear the traces of every compiled function: their next calls trace again.

    Returns:
        None.

    Example:
        >>> f = ember.compile(lambda x: x * 3)
        >>> f(ember.ones(2))
        tensor([3., 3.])
        >>> ember.compiler.reset()
        >>> f(ember.ones(2))
        tensor([3., 3.])
    """
    for cf in list(_COMPILED):
        cf._cache.clear()
        cf._eager.clear()
