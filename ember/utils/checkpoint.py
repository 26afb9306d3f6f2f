"""``ember.utils.checkpoint``: trade compute for memory by re-running forwards in backward.

``checkpoint(fn, *args)`` returns ``fn(*args)`` without keeping ``fn``'s intermediate
activations; backward runs ``fn`` again to rebuild them. Both of PyTorch's variants exist.

NOTE [ Two checkpoint variants ]
``use_reentrant=True`` (PyTorch's original): the forward runs under ``no_grad``; the
backward re-runs it with grad enabled and calls ``ember.autograd.backward`` on the rebuilt
graph, which accumulates parameter gradients straight into ``.grad`` (a backward inside a
backward, hence the name). Like PyTorch it takes no keyword arguments for ``fn``, and it is
meant for ``.backward()``: under ``autograd.grad`` the parameters inside ``fn`` get ``.grad``
accumulated instead of returned (PyTorch raises there; ember cannot tell the two apart).

``use_reentrant=False`` (recommended): the forward runs once with grad enabled on detached
inputs to find the leaf tensors ``fn`` reads (parameters, captured tensors); that graph is
dropped as soon as the outputs exist, so only one segment's activations are ever alive. The
checkpoint node's inputs are then the tensor arguments *and* those leaves; its backward
re-runs ``fn`` and returns gradients for all of them with ``ember.autograd.grad``. So it
works under ``autograd.grad``, with ``backward(inputs=...)``, with keyword arguments, when
no argument requires grad, and with ``create_graph=True`` (double backward). A non-leaf
tensor captured by ``fn`` from outside receives its gradient through to its leaves, but its
own hooks do not see it.

Both restore the RNG state for the re-run (``preserve_rng_state=True``), so dropout masks
match, and check that the re-run produces outputs of the same shapes and dtypes
(``determinism_check="default"``; ``CheckpointError`` otherwise).

Example::

    >>> import ember
    >>> from ember.utils.checkpoint import checkpoint
    >>> lin = ember.nn.Linear(3, 3)
    >>> x = ember.randn(2, 3, requires_grad=True)
    >>> checkpoint(lin, x, use_reentrant=False).sum().backward()
    >>> tuple(lin.weight.grad.shape)
    (3, 3)
"""

from __future__ import annotations

import contextlib
import warnings

import ember
from ember.autograd import Function

__all__ = ["CheckpointError", "checkpoint", "checkpoint_sequential", "detach_variable",
           "noop_context_fn", "set_checkpoint_early_stop"]


class CheckpointError(RuntimeError):
    """The recomputation of a checkpointed function gave outputs of other shapes or dtypes than
    the first run (the function is not deterministic in its metadata); raised during backward.

    Example:
        >>> from ember.utils.checkpoint import checkpoint
        >>> calls = []
        >>> def grows(x):
        ...     calls.append(1)
        ...     return x[:len(calls)] * 2     # a longer result each time it runs
        >>> y = checkpoint(grows, ember.ones(3, requires_grad=True), use_reentrant=False)
        >>> try:
        ...     y.sum().backward()
        ... except CheckpointError:
        ...     print("recomputation differed")
        recomputation differed
    """


def noop_context_fn():
    """The default ``context_fn``: two do-nothing context managers.

    Returns:
        tuple: (forward context, recomputation context).

    Example::

        >>> a, b = noop_context_fn()
        >>> with a, b:
        ...     pass
    """
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):  # noqa: ARG001 - early stopping only saves time; results are the same (see the docstring)
    """Whether a re-run may stop once it rebuilt what backward needs (PyTorch's option).

    ember re-runs the whole function either way: stopping early only saves time and never
    changes results, so both settings are honoured.

    Args:
        enable: bool.

    Returns:
        A context manager.

    Example::

        >>> with set_checkpoint_early_stop(False):
        ...     pass
    """
    yield


def detach_variable(inputs):
    """Detach each tensor of a tuple, keeping its ``requires_grad`` flag.

    Args:
        inputs: a tuple of tensors and other values.

    Returns:
        tuple: detached tensors (non-tensors unchanged).

    Example::

        >>> (d,) = detach_variable((ember.ones(1, requires_grad=True),))
        >>> d.requires_grad, d.grad_fn is None
        (True, True)
    """
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    return tuple(_detach(a) for a in inputs)


def _detach(a):
    if not isinstance(a, ember.Tensor):
        return a
    d = a.detach()
    d.requires_grad_(a.requires_grad)
    return d


def _as_outputs(out):
    """(tuple of outputs, how to rebuild the caller's structure)."""
    if isinstance(out, ember.Tensor):
        return (out,), lambda t: t[0]
    if isinstance(out, tuple) and not hasattr(out, "_fields"):
        return out, lambda t: tuple(t)
    if isinstance(out, list):
        return tuple(out), list
    if out is None or isinstance(out, (int, float, bool, str)):
        return (out,), lambda t: t[0]
    raise NotImplementedError(f"checkpoint: the function returned a {type(out).__name__}; "
                              "ember's checkpoint supports a tensor or a tuple/list of "
                              "tensors and plain values")


def _meta(outs):
    return [(tuple(o.shape), o.dtype) if isinstance(o, ember.Tensor) else None for o in outs]


def _check_same(before, after, determinism_check):
    if determinism_check == "default" and before != after:
        raise CheckpointError(
            "torch.utils.checkpoint: Recomputed values for the following tensors have "
            f"different metadata than during the forward pass: forward gave {before}, the "
            f"recomputation gave {after}")


class _State:
    """What a checkpoint node needs to re-run its function."""

    __slots__ = ("fn", "args", "kwargs", "rng", "recompute_ctx", "meta", "check", "n_inputs",
                 "leaves")


_TENSOR = object()  # marks where a tensor argument goes back in a re-run's argument list


def _rerun(st, detached_args):
    rng = ember.random.fork_rng(enabled=st.rng is not None)
    with rng, st.recompute_ctx, ember.enable_grad():
        if st.rng is not None:
            ember.set_rng_state(st.rng)
        outs, _ = _as_outputs(st.fn(*detached_args, **st.kwargs))
    _check_same(st.meta, _meta(outs), st.check)
    return outs


def _select(outs, grads):
    pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, ember.Tensor)
             and o.requires_grad and g is not None]
    if not pairs:
        raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                           "necessary")
    return [p[0] for p in pairs], [p[1] for p in pairs]


class _ReentrantCheckpoint(Function):
    @staticmethod
    def forward(ctx, st, *args):
        ctx.st = st
        tensors = [a for a in args if isinstance(a, ember.Tensor)]
        ctx.save_for_backward(*tensors)
        ctx.other = [_TENSOR if isinstance(a, ember.Tensor) else a for a in args]
        outs, rebuild = _as_outputs(st.fn(*args))  # grad mode is off inside Function.forward
        st.meta = _meta(outs)
        return tuple(outs) if len(outs) != 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        st = ctx.st
        it = iter(ctx.saved_tensors)
        args = [_detach(next(it)) if a is _TENSOR else a for a in ctx.other]
        outs = _rerun(st, args)
        outs, grads = _select(outs, grads)
        ember.autograd.backward(outs, grads)
        return (None,) + tuple(a.grad if isinstance(a, ember.Tensor) else None for a in args)


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, st, outs, *tensors):
        # `outs` were computed by checkpoint() with grad enabled; their graph is dropped here
        # (Function.apply returns detached outputs wired to this node).
        ctx.st = st
        ctx.save_for_backward(*tensors[:st.n_inputs])
        return tuple(outs) if len(outs) != 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        st = ctx.st
        it = iter(ctx.saved_tensors)
        args = [_detach(next(it)) if a is _TENSOR else a for a in st.args]
        outs = _rerun(st, args)
        outs, grads = _select(outs, grads)
        targets = [a for a in args if isinstance(a, ember.Tensor)] + list(st.leaves)
        wanted = [i for i, t in enumerate(targets) if t.requires_grad]
        res = ember.autograd.grad(outs, [targets[i] for i in wanted], grads,
                                  allow_unused=True, create_graph=ember.is_grad_enabled())
        full = [None] * len(targets)
        for i, r in zip(wanted, res):
            full[i] = r
        return (None, None) + tuple(full)


def _leaves_of(outs, exclude):
    """Leaf tensors requiring grad that the graph behind ``outs`` reaches (not ``exclude``)."""
    seen, leaves, found = set(), [], set()
    stack = []
    for o in outs:
        if isinstance(o, ember.Tensor) and o.requires_grad:
            stack.append(o._grad_fn if o._grad_fn is not None else o)
    while stack:
        e = stack.pop()
        if e is None:
            continue
        if e.__class__ is tuple:
            e = e[0]
        if isinstance(e, ember.Tensor):
            if id(e) not in exclude and id(e) not in found and e.requires_grad:
                found.add(id(e))
                leaves.append(e)
            continue
        if id(e) in seen:
            continue
        seen.add(id(e))
        stack.extend(getattr(e, "next", ()) or ())
    return leaves


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):  # noqa: ARG001 - early stopping only saves time; results are the same
    """Run ``function(*args, **kwargs)`` keeping no activations; re-run it in backward.

    Args:
        function: the computation to checkpoint (a module or any callable).
        *args: its arguments; tensors among them get gradients.
        use_reentrant: True or False (NOTE [ Two checkpoint variants ]); None warns, as
            PyTorch does, and means True.
        context_fn: returns two context managers, entered around the forward and around the
            recomputation (``use_reentrant=False`` only).
        determinism_check: "default" (check the re-run's output shapes and dtypes) or
            "none".
        debug: PyTorch's operator trace on mismatch; not implemented (NotImplementedError
            for True).
        early_stop: accepted; ember always re-runs the whole function (same results).
        preserve_rng_state: keyword, default True: replay the RNG state in the re-run.
        **kwargs: keyword arguments for ``function`` (``use_reentrant=False`` only).

    Returns:
        What ``function`` returns (a tensor, or a tuple/list of tensors and values).

    Example::

        >>> lin = ember.nn.Linear(2, 2)
        >>> x = ember.ones(1, 2, requires_grad=True)
        >>> y = checkpoint(lin, x, use_reentrant=True)
        >>> y.sum().backward()
        >>> x.grad.shape == x.shape
        True
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant is None:
        warnings.warn("ember.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly (PyTorch warns the same); use_reentrant=False is "
                      "recommended. Defaulting to True, PyTorch's current default.",
                      UserWarning, stacklevel=2)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if debug:
        raise NotImplementedError("checkpoint(debug=True): ember has no operator trace for "
                                  "checkpoint mismatches; pass debug=False")
    st = _State()
    st.fn, st.check = function, determinism_check
    st.rng = ember.get_rng_state() if preserve else None
    if use_reentrant:
        if context_fn is not noop_context_fn:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        st.kwargs, st.recompute_ctx = {}, contextlib.nullcontext()
        if ember.is_grad_enabled() and not any(
                isinstance(a, ember.Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          UserWarning, stacklevel=2)
        return _ReentrantCheckpoint.apply(st, *args)

    if not ember.is_grad_enabled():
        return function(*args, **kwargs)  # nothing will be differentiated: nothing to save
    forward_ctx, st.recompute_ctx = context_fn()
    st.kwargs = kwargs
    st.args = [_TENSOR if isinstance(a, ember.Tensor) else a for a in args]
    detached = [_detach(a) for a in args]
    with forward_ctx:
        out = function(*detached, **kwargs)
    outs, rebuild = _as_outputs(out)
    st.meta = _meta(outs)
    st.leaves = _leaves_of(outs, {id(d) for d in detached if isinstance(d, ember.Tensor)})
    tensors = [a for a in args if isinstance(a, ember.Tensor)]
    st.n_inputs = len(tensors)
    if not any(isinstance(o, ember.Tensor) and o.requires_grad for o in outs):
        return out
    res = _Checkpoint.apply(st, outs, *tensors, *st.leaves)
    return rebuild(res if isinstance(res, tuple) else (res,))


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Checkpoint a sequence of functions in ``segments`` chunks (the last one runs plainly).

    Args:
        functions: an ``nn.Sequential`` or a list of modules/functions applied in order.
        segments: how many chunks to split them into.
        input: the tensor fed to the first function.
        use_reentrant: as :func:`checkpoint` (None warns and means True).
        preserve_rng_state: keyword, default True.

    Returns:
        Tensor: the output of the last function.

    Example::

        >>> seq = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.ReLU(),
        ...                           ember.nn.Linear(2, 1))
        >>> x = ember.ones(3, 2, requires_grad=True)
        >>> checkpoint_sequential(seq, 2, x, use_reentrant=False).shape
        torch.Size([3, 1])
    """
    if use_reentrant is None:
        warnings.warn("ember.utils.checkpoint.checkpoint_sequential: the use_reentrant "
                      "parameter should be passed explicitly (PyTorch warns the same); "
                      "use_reentrant=False is recommended. Defaulting to True.",
                      UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    if isinstance(functions, ember.nn.Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
