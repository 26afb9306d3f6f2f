"""ember.autograd: backward, grad, grad modes, custom Functions, gradcheck.

The recording side (nodes, saved tensors, grad mode flag) lives in ``ember/_graph.py`` because
every op touches it; this package is the user-facing API and the engine.
"""

from __future__ import annotations

from numpy import ndarray as _ndarray
from numpy import ones as _np_ones


from ember._tensor import Tensor
from ember.autograd import functional, graph  # noqa: F401
from ember.autograd.engine import _calibrate, execution_engine, run_backward
from ember.autograd.function import Function, FunctionCtx, once_differentiable  # noqa: F401
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa
                                      is_inference_mode_enabled, no_grad, set_grad_enabled)
from ember.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: F401
from ember.autograd import profiler  # noqa: F401  (light: ranges and the collector)
from ember.autograd.anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled,  # noqa
                                         is_anomaly_enabled, set_detect_anomaly)
from ember.autograd.graph import set_graph_growth_warning  # noqa: F401

_calibrate()


class _VariableMeta(type):
    # Every tensor is a Variable (PyTorch: isinstance(torch.ones(1), Variable) is True).
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)

    def __subclasscheck__(cls, other):
        return isinstance(other, type) and issubclass(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's pre-0.4 wrapper, kept for old code: ``Variable(t)`` returns a tensor.

    As in PyTorch, the result is a new leaf that shares ``data``'s memory (and version
    counter) with no history, and ``requires_grad`` is honoured. ``volatile`` has no effect
    (it warns, as PyTorch does); use ``ember.no_grad()`` instead.

    Args:
        data: a tensor (anything else is a ``TypeError``); omitted gives an empty tensor.
        requires_grad: whether the returned leaf records operations for autograd.
        volatile: removed; accepted with a ``UserWarning``.

    Example:
        >>> x = Variable(ember.randn(1, 10), requires_grad=True)
        >>> x.requires_grad, x.is_leaf
        (True, True)
    """

    # PyTorch code reaches the engine as Variable._execution_engine (queue_callback).
    _execution_engine = execution_engine

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        import warnings

        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "ember.no_grad():` instead.", UserWarning, stacklevel=2)
        if data is None:
            from ember._ops.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out



def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs, grad_outputs, create_graph):
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs "
                                   f"(got output of shape {list(out.shape)})")
            if out._data.dtype.kind not in "fcV":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs"
                                   f" but got {out.dtype}")
            g = _ones_like(out)
        else:
            if not isinstance(g, Tensor):  # PyTorch converts nothing here
                raise TypeError(f"gradients can be either Tensors or None, but got "
                                f"{type(g).__name__}")
            if g.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {out.shape}.")
            if (g._data.dtype.kind == "c") != (out._data.dtype.kind == "c"):
                raise RuntimeError(f"For complex Tensors, both grad_output and output are "
                                   f"required to have the same dtype. Mismatch in dtype: "
                                   f"grad_output[{i}] has a dtype of {g.dtype._short} and "
                                   f"output[{i}] has a dtype of {out.dtype._short}.")
            if not create_graph:
                g = Tensor._wrap(g._data)  # detached alias; the engine never writes into it
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of graph leaves.

    Args:
        tensors: the tensors to differentiate (scalars, or given ``grad_tensors``).
        grad_tensors: the gradients with respect to ``tensors`` (None for scalars).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: make the result differentiable (default False).
        grad_variables: deprecated alias of ``grad_tensors``.
        inputs: accumulate only into these leaves (default: all).

    Returns:
        None; gradients accumulate into ``.grad``.

    Example:
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> ember.autograd.backward([(x * x).sum()])
        >>> x.grad
        tensor([2., 4.])
    """
    if tensors.__class__ is Tensor and inputs is None and not create_graph:
        # fast path for the common `loss.backward()` / `y.backward(g)`; checks in PyTorch's
        # order (the gradient's shape first, then whether there is a graph)
        g = grad_tensors if grad_tensors is not None else grad_variables
        if g is not None and g.__class__ is not Tensor:
            g = _as_tuple(g)[0] if isinstance(g, (list, tuple)) else g
        grads = _make_grads((tensors,), None if g is None else (g,), False)
        if not tensors._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        run_backward((tensors,), grads, bool(retain_graph), False)
        return
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grad_tensors is not None and len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} tensors and {len(tensors)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = _make_grads(tensors, grad_tensors, create_graph)
    for t in tensors:
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (no ``.grad`` change).

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) to differentiate with respect to.
        grad_outputs: the vector(s) of the vector-Jacobian product (ones for scalars).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass, for higher-order derivatives.
        only_inputs: deprecated and ignored (a warning when False), as in PyTorch.
        allow_unused: return None for inputs the outputs do not depend on, rather than
            raising.
        is_grads_batched: the first dim of every ``grad_outputs`` entry is a batch: one
            vector-Jacobian product per batch entry, stacked along a new first dim (ember
            runs them one after the other; PyTorch uses vmap).
        materialize_grads: zeros instead of None for unused inputs (implies allow_unused).

    Returns:
        A tuple of gradients, one per input.

    Example:
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> ember.autograd.grad((x ** 2).sum(), x)
        (tensor([2., 4.]),)
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if not only_inputs:
        import warnings

        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if retain_graph is None:
        retain_graph = create_graph
    for t in outputs:
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    grads = _make_grads(outputs, grad_outputs, create_graph)
    return _grad_once(outputs, inputs, grads, retain_graph, create_graph, allow_unused,
                      materialize_grads)


def _grad_once(outputs, inputs, grads, retain_graph, create_graph, allow_unused,
               materialize_grads):
    res = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                       allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        from ember._ops.creation import zeros_like

        res = [zeros_like(t) if r is None else r for t, r in zip(inputs, res)]
    if not create_graph:
        res = [r.detach() if r is not None else None for r in res]
    return tuple(res)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``is_grads_batched=True``: one backward per batch entry of ``grad_outputs``."""
    from ember._ops.shape import stack

    if grad_outputs is None or len(grad_outputs) != len(outputs) or any(
            g is None for g in grad_outputs):
        raise RuntimeError("grad(): is_grads_batched=True needs a batched grad_outputs entry "
                           "for every output")
    batch = None
    for i, (g, out) in enumerate(zip(grad_outputs, outputs)):
        if not isinstance(g, Tensor) or g.dim() != out.dim() + 1 or \
                tuple(g.shape[1:]) != tuple(out.shape):
            raise RuntimeError(f"If `is_grads_batched=True`, we interpret the first dimension "
                               f"of each grad_output as the batch dimension. The sizes of the "
                               f"remaining dimensions are expected to match the shape of "
                               f"corresponding output, but a mismatch was detected: "
                               f"grad_output[{i}] has a shape of "
                               f"{list(getattr(g, 'shape', ()))} and output[{i}] has a shape "
                               f"of {list(out.shape)}.")
        if batch is None:
            batch = g.shape[0]
        elif g.shape[0] != batch:
            raise RuntimeError(f"grad(): the batch sizes of grad_outputs differ ({batch} and "
                               f"{g.shape[0]})")
    per_input = [[] for _ in inputs]
    for b in range(batch):
        grads = _make_grads(outputs, tuple(g[b] for g in grad_outputs), create_graph)
        keep = retain_graph or b < batch - 1
        res = _grad_once(outputs, inputs, grads, keep, create_graph, allow_unused, False)
        for k, r in enumerate(res):
            per_input[k].append(r)
    if batch == 0:
        from ember._ops.creation import zeros

        return tuple(zeros((0,) + tuple(t.shape), dtype=t.dtype) for t in inputs)
    res = [None if any(r is None for r in rs) else stack(rs) for rs in per_input]
    if materialize_grads:
        # PyTorch materializes an unused input's gradient as zeros_like(input), without the
        # batch dim.
        from ember._ops.creation import zeros_like

        res = [zeros_like(t) if r is None else r for t, r in zip(inputs, res)]
    return tuple(res)


__all__ = ["Function", "Variable", "backward", "grad", "gradcheck", "gradgradcheck", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "functional", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_graph_growth_warning"]


def _ones_like(t):
    """The implicit gradient of a scalar output: ones on its device (host arrays directly,
    the per-backward hot path; other devices through the factory record)."""
    d = t._data
    if d.__class__ is _ndarray:
        return Tensor._wrap(_np_ones(d.shape, d.dtype))
    from ember._ops.creation import ones_like

    return ones_like(t.detach())
