"""``ember.jit``: a tracing JIT (NOTE [ Tracing ] in ``_tracer.py``).

``ember.jit.trace(fn, example_inputs)`` runs ``fn`` once, records every op record it
reaches into a graph (``.graph`` prints it, ``.code`` gives Python source), and later calls
replay the graph through the dispatch spine, as PyTorch's ``torch.jit.trace`` does: Python
control flow is frozen at what the example took, and every tensor->Python conversion while
tracing warns with a ``TracerWarning`` naming the line. Unlike PyTorch, a call with new
shapes or a module switched between train and eval is traced anew (NOTE [ Signatures ]),
so values baked from sizes (``x.view(x.size(0), -1)``) never silently mismatch; a call
with a different rank or dtype than the example is an error naming the signature.

The talk's lazy form also works: ``jitfoo = ember.jit.traced(foo)`` or ``@ember.jit.trace``
traces on the first call, once per input signature.

``ember.compile`` (``_compile.py``) builds on the same tracer with guards, passes and
generated kernels.

Example::

    >>> import ember
    >>> def foo(x):
    ...     return x.sum() + x * 2
    >>> t = ember.jit.trace(foo, (ember.ones(3),))
    >>> print(t.graph)  # doctest: +NORMALIZE_WHITESPACE
    graph(%x : Float(3)):
      %1 = sum(%x, dim=[0])
      %2 = mul(%x, 2)
      %3 = add(%1, %2)
      return (%3)
    >>> t(ember.tensor([1., 2., 3.]))
    tensor([ 8., 10., 12.])
"""

from __future__ import annotations

import functools
import inspect
import warnings

from ember._tensor import Tensor
from ember.jit._ir import Graph, Guard, Node, Value
from ember.jit._pycode import python_code
from ember.jit._signature import describe, signature
from ember.jit._tracer import TracerWarning, flatten, trace_run

__all__ = ["trace", "traced", "trace_module", "TracedFunction", "TracedModule",
           "TracerWarning", "Graph", "Node", "Value", "Guard", "script", "ignore", "unused",
           "export", "is_scripting", "is_tracing", "annotate", "save", "load",
           "ScriptModule", "ScriptFunction", "Error", "freeze"]


class Error(RuntimeError):
    """PyTorch's ``torch.jit.Error``, a RuntimeError raised by TorchScript code at run time.

    ember has no TorchScript interpreter and never raises it; the class exists so that
    ``except torch.jit.Error`` clauses in ported code still name a real exception.

    Example:
        >>> issubclass(ember.jit.Error, RuntimeError)
        True
    """


_TRACING = [0]


def is_tracing():
    """True while ``ember.jit.trace`` or ``ember.compile`` is recording.

    Returns:
        A bool: whether a trace is being recorded.

    Example:
        >>> ember.jit.is_tracing()
        False
    """
    return _TRACING[0] > 0


def is_scripting():
    """Always False: ember has no TorchScript compiler (``script`` is not available).

    Returns:
        A bool (True only inside scripted code).

    Example:
        >>> ember.jit.is_scripting()
        False
    """
    return False


def annotate(the_type, the_value):  # noqa: ARG001 - PyTorch's signature; a type hint only
    """``torch.jit.annotate``: returns ``the_value`` (the type matters only to TorchScript).

    Args:
        the_type: the type (ignored in eager code).
        the_value: the value.

    Returns:
        ``the_value``.

    Example:
        >>> ember.jit.annotate(list, [])
        []
    """
    return the_value


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore``: the function runs as Python (what tracing does anyway).

    Args:
        drop: replace the function with one that raises when compiled code calls it.
        **kwargs: accepted for compatibility.

    Returns:
        The function, marked (or a decorator).

    Example:
        >>> @ember.jit.ignore
        ... def debug(x):
        ...     return x
        >>> debug(1)
        1
    """
    if callable(drop):
        return drop
    if drop or kwargs:
        raise NotImplementedError("jit.ignore(drop=True) is a TorchScript feature ember does "
                                  "not have")
    return lambda fn: fn


def unused(fn):
    """``@torch.jit.unused``: returns ``fn`` (tracing runs it as Python).

    Args:
        fn: the function.

    Returns:
        The function, marked.

    Example:
        >>> @ember.jit.unused
        ... def helper(x):
        ...     return x
        >>> helper(2)
        2
    """
    return fn


def export(fn):
    """``@torch.jit.export``: returns ``fn`` (there is no TorchScript compiler to export to).

    Args:
        fn: the function.

    Returns:
        The function, marked for compilation.

    Example:
        >>> @ember.jit.export
        ... def method(x):
        ...     return x
        >>> method(3)
        3
    """
    return fn


def script(obj, *args, **kwargs):
    """TorchScript compiles Python source; ember has no such compiler. Use ``trace`` (graph
    of one run, PyTorch's semantics) or ``ember.compile`` (guards, never wrong).

    Args:
        obj: a function or module.
        *args: ignored.
        **kwargs: ignored.

    Returns:
        A ``ScriptFunction`` or ``ScriptModule``.

    Example:
        >>> try:
        ...     ember.jit.script(nn.ReLU())
        ... except NotImplementedError:
        ...     print('use ember.jit.trace or ember.compile')
        ...
        use ember.jit.trace or ember.compile
    """
    raise NotImplementedError(
        "ember.jit.script: ember has no TorchScript compiler; use ember.jit.trace(obj, "
        "example_inputs) or ember.compile(obj)")


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """``torch.jit.freeze`` (TorchScript-only).

    Args:
        mod: a scripted or traced module in eval mode.
        preserved_attrs: attributes to keep.
        optimize_numerics: accepted for compatibility.

    Returns:
        The frozen module.

    Example:
        >>> tm = ember.jit.trace(nn.Linear(2, 2).eval(), ember.ones(1, 2))
        >>> try:
        ...     ember.jit.freeze(tm)
        ... except NotImplementedError:
        ...     print('traced modules are already inlined')
        ...
        traced modules are already inlined
    """
    raise NotImplementedError("ember.jit.freeze: TorchScript freezing is not available; "
                              "a TracedModule already inlines its submodules")


def _input_names(fn, args, kwargs):
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    names = []
    for i, a in enumerate(args):
        base = params[i] if i < len(params) else f"x{i}"
        leaves, _ = flatten(a)
        tensors = [x for x in leaves if isinstance(x, Tensor)]
        names += [base] if len(tensors) == 1 and isinstance(a, Tensor) else \
            [f"{base}_{j}" for j in range(len(tensors))]
    for k, v in kwargs.items():
        leaves, _ = flatten(v)
        n = sum(isinstance(x, Tensor) for x in leaves)
        names += [k] if n == 1 and isinstance(v, Tensor) else [f"{k}_{j}" for j in range(n)]
    return names


_CONTAINER_MSG = (
    "Encountering a {what} at the output of the tracer might cause the trace to be "
    "incorrect, this is only valid if the container structure does not change based on the "
    "module's inputs. Consider using a constant container instead (e.g. for `list`, use a "
    "`tuple` instead. for `dict`, use a `NamedTuple` instead). If you absolutely need this "
    "and know the side effects, pass strict=False to trace() to allow this behavior.")


class _Entry:
    __slots__ = ("graph", "breaks", "key", "run")

    def __init__(self, graph, breaks, key):
        self.graph, self.breaks, self.key = graph, breaks, key
        self.run = None  # NOTE [ Runners ], built on the first replay


class TracedFunction:
    """A function traced once per input signature and replayed (what ``ember.jit.trace``
    returns for a function; ``ember.jit.ScriptFunction`` is the same class).

    Calling it with inputs of a new signature (structure, shapes, dtypes, devices) traces
    again; a known signature replays the recorded graph. ``graph`` and ``code`` show the last
    trace. A trace that met something it cannot replay (a tensor turned into a Python value,
    see ``TracerWarning``) runs the Python code for that signature instead.

    Args:
        fn: the Python function to trace.
        module: the Module whose parameters and buffers the trace reads (for methods).
        strict: refuse outputs in mutable containers (lists, dicts), as PyTorch does.
        fixed_key: the signature of ``ember.jit.trace``'s example inputs; calls with another
            rank, dtype or device are then refused.

    Example:
        >>> def f(x):
        ...     return (x * 2).relu()
        >>> tf = ember.jit.trace(f, ember.ones(3))
        >>> tf(ember.tensor([-1.0, 0.5, 2.0]))
        tensor([0., 1., 4.])
        >>> print(tf.graph)
        graph(%x : Float(3)):
          %1 = mul(%x, 2)
          %2 = relu(%1)
          return (%2)
    """

    def __init__(self, fn, module=None, strict=True, fixed_key=None):
        self._fn = fn
        self._module = module
        self._modules = list(module.modules()) if module is not None else None
        self._strict = strict
        self._fixed = fixed_key
        self._entries = {}
        self._last = None
        functools.update_wrapper(self, fn, updated=())

    # ------------------------------------------------------------------ tracing
    def _trace(self, key, args, kwargs):
        names = _input_names(self._fn, args, kwargs)
        _TRACING[0] += 1
        try:
            out, tr = trace_run(self._fn, args, kwargs, self._module, "trace", names)
        finally:
            _TRACING[0] -= 1
        if self._strict:
            leaves, spec = flatten(out)
            if _has_container(spec):
                raise RuntimeError(_CONTAINER_MSG.format(what=_has_container(spec)))
        for reason in tr.breaks:
            warnings.warn(f"ember.jit.trace: this trace will not be replayed ({reason}); "
                          "calls with this signature run the Python code", TracerWarning,
                          stacklevel=3)
        e = _Entry(tr.graph, tr.breaks, key)
        self._entries[key] = e
        self._last = e
        return out, e

    def _check_rank_dtype(self, key):
        fixed = self._fixed
        ok = len(fixed) == len(key) and fixed[0] == key[0]
        if ok:
            for a, b in zip(fixed[2:], key[2:]):
                if isinstance(a, tuple) and a and a[0] == "T":
                    if not (isinstance(b, tuple) and b[0] == "T" and a[1] == b[1]
                            and len(a[2]) == len(b[2]) and a[3] == b[3]):
                        ok = False
                        break
        if not ok:
            raise RuntimeError(
                f"{self.__name__}: traced for inputs {describe(fixed)}, called with "
                f"{describe(key)}; a traced function takes inputs of the same structure, "
                "rank, dtype and device (trace it again for other inputs)")

    def __call__(self, *args, **kwargs):
        key, tensors, _ = signature(args, kwargs, self._modules)
        e = self._entries.get(key)
        if e is None:
            if self._fixed is not None:
                self._check_rank_dtype(key)
            return self._trace(key, args, kwargs)[0]
        if e.breaks:
            return self._fn(*args, **kwargs)
        return _replay(e, self._module)(*tensors)

    # ------------------------------------------------------------------ introspection
    def _require(self):
        if self._last is None:
            raise RuntimeError(f"{self.__name__}: not traced yet (call it once, or pass "
                               "example_inputs to ember.jit.trace)")
        return self._last

    @property
    def graph(self):
        """The graph of the most recent trace."""
        return self._require().graph

    @property
    def graphs(self):
        """Every trace so far, one per input signature."""
        return [e.graph for e in self._entries.values()]

    @property
    def code(self):
        """The most recent trace as Python source calling the op records."""
        return python_code(self.graph, "forward", method=self._module is not None)[0]

    def code_with_constants(self):
        return python_code(self.graph, "forward", method=self._module is not None)

    def check(self, inputs, outputs_equal=None, tolerance=1e-5):  # noqa: ARG002 - the outputs are always compared within tolerance
        """Re-trace on ``inputs`` and compare the graph and outputs with this trace's."""
        return _check_trace(self, inputs, tolerance)


def _replay(entry, module):
    """The runner that replays ``entry``'s graph (NOTE [ Runners ]), built once."""
    if entry.run is None:
        from ember.jit._runner import make_runner

        entry.run = make_runner(entry.graph, module=module, guards=False)
    return entry.run


def _has_container(spec):
    if spec[0] == "list":
        return "list"
    if spec[0] == "dict":
        return "dict"
    return None


def _close(a, b, tol):
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        x, y = a.detach()._data, b.detach()._data
        if x.dtype.kind in "fc":
            import numpy as np

            return bool(np.allclose(x, y, rtol=tol, atol=tol, equal_nan=True))
        return bool((x == y).all())
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_close(p, q, tol) for p, q in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    return a == b


def _check_trace(traced, inputs, tolerance):
    """PyTorch's check_trace: re-trace on each input set; warn where the ops or the outputs
    differ from a replay of the first trace. Skipped for graphs with side effects (in-place
    writes to inputs, random draws), where running twice would change the user's state."""
    base = traced._last
    if base is None or base.breaks or not all(n.pure for n in base.graph.nodes):
        return
    for args in inputs:
        args = args if isinstance(args, tuple) else (args,)
        key, tensors, _ = signature(args, {}, traced._modules)
        names = _input_names(traced._fn, args, {})
        _TRACING[0] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TracerWarning)
                out, tr = trace_run(traced._fn, args, {}, traced._module, "trace", names)
        finally:
            _TRACING[0] -= 1
        ops_a = [n.op.name for n in base.graph.nodes]
        ops_b = [n.op.name for n in tr.graph.nodes]
        if ops_a != ops_b:
            warnings.warn(
                "Trace had nondeterministic nodes or takes another path on the check inputs: "
                f"the ops differ ({len(ops_a)} traced, {len(ops_b)} on the check inputs); "
                "the trace might not generalize to other inputs", TracerWarning, stacklevel=4)
            continue
        if [v.shape for v in base.graph.inputs] == [v.shape for v in tr.graph.inputs]:
            replay = _replay(base, traced._module)(*tensors)
            if not _close(replay, out, tolerance):
                warnings.warn("Output nr 1. of the traced function does not match the "
                              "corresponding output of the Python function (tolerance "
                              f"{tolerance})", TracerWarning, stacklevel=4)


def _as_tuple(example_inputs):
    if example_inputs is None:
        return None
    return example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)


def trace(func=None, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, example_kwarg_inputs=None):
    """Trace ``func`` (a function or Module) on ``example_inputs``: PyTorch's
    ``torch.jit.trace``. Without example inputs (or used as ``@ember.jit.trace``), the
    first call traces (the talk's form).

    Args:
        func: a function of tensors, or an ``nn.Module`` (its ``forward`` is traced; its
            parameters and buffers become graph inputs, shared with the module).
        example_inputs: a tensor or a tuple of arguments.
        optimize: deprecated in PyTorch; must be None.
        check_trace: re-trace on the example (or on ``check_inputs``) and warn with a
            TracerWarning where the ops or outputs differ (skipped for graphs with side
            effects, which must not run twice).
        check_inputs: a list of argument tuples to check the trace on.
        check_tolerance: tolerance of the output comparison.
        strict: refuse list and dict outputs (their structure may depend on the inputs).
        example_kwarg_inputs: keyword arguments to trace with (instead of example_inputs).

    Returns:
        a ``TracedModule`` for a Module, else a ``TracedFunction``.

    Example::

        >>> import ember
        >>> lin = ember.nn.Linear(3, 2)
        >>> tm = ember.jit.trace(lin, ember.ones(4, 3))
        >>> tm(ember.ones(4, 3)).shape
        torch.Size([4, 2])
    """
    if optimize is not None:
        raise NotImplementedError("ember.jit.trace: optimize= is deprecated in PyTorch and "
                                  "not supported")
    if func is None:
        return lambda f: trace(f, example_inputs, optimize, check_trace, check_inputs,
                               check_tolerance, strict, example_kwarg_inputs)
    from ember.nn import Module

    if isinstance(func, Module):
        t = TracedModule(func, strict=strict)
        target = t._traced
    else:
        t = target = TracedFunction(func, strict=strict)
    args = _as_tuple(example_inputs)
    kwargs = dict(example_kwarg_inputs or {})
    if args is None and not kwargs:
        return t  # lazy: traced on the first call, once per signature
    args = args or ()
    key, _, _ = signature(args, kwargs, target._modules)
    target._fixed = key
    target._trace(key, args, kwargs)
    if check_trace:
        target.check(list(check_inputs) if check_inputs is not None else [args],
                     tolerance=check_tolerance)
    return t


def traced(fn):
    """The talk's ``jitfoo = torch.jit.traced(foo)``: trace on the first call, then replay
    (one trace per input signature).

    Args:
        fn: the function to trace on each new input signature.

    Returns:
        The wrapped function.

    Example:
        >>> f = ember.jit.traced(lambda x: x.sin())
        >>> f(ember.zeros(2))
        tensor([0., 0.])
    """
    return trace(fn)


def trace_module(mod, inputs, check_trace=True, check_inputs=None, check_tolerance=1e-05,
                 strict=True):
    """``torch.jit.trace_module`` with ``inputs={"forward": example}`` (forward only).

    Args:
        mod: the module.
        inputs: a dict from method names to example inputs.
        check_trace: re-run and compare (default True).
        check_inputs: other inputs to check with.
        check_tolerance: the comparison's tolerance.
        strict: refuse outputs that are mutable containers (default True).

    Returns:
        A traced ``ScriptModule``.

    Example:
        >>> m = nn.Linear(3, 2)
        >>> tm = ember.jit.trace_module(m, {'forward': ember.ones(1, 3)})
        >>> tm(ember.ones(4, 3)).shape
        torch.Size([4, 2])
    """
    extra = set(inputs) - {"forward"}
    if extra:
        raise NotImplementedError(f"jit.trace_module: only 'forward' can be traced, not "
                                  f"{sorted(extra)}")
    return trace(mod, inputs["forward"], check_trace=check_trace, check_inputs=check_inputs,
                 check_tolerance=check_tolerance, strict=strict)


def _module_base():
    from ember.nn import Module

    return Module


class TracedModule(_module_base()):
    """A Module whose ``forward`` replays traces of the original's (what ``ember.jit.trace``
    returns for a Module; ``ember.jit.ScriptModule`` is the same class).

    It shares the original's parameters, buffers and submodules, so ``state_dict`` keys and
    training updates are the same; ``graph``, ``code`` and ``save`` work as on PyTorch's
    traced modules.

    Args:
        module: the Module to wrap.
        strict: refuse outputs in mutable containers (lists, dicts), as PyTorch does.

    Example:
        >>> lin = nn.Linear(3, 2)
        >>> traced = ember.jit.trace(lin, ember.ones(1, 3))
        >>> ember.equal(traced(ember.ones(4, 3)), lin(ember.ones(4, 3)))
        True
        >>> list(traced.state_dict()) == list(lin.state_dict())
        True
    """

    def __init__(self, module, strict=True):
        super().__init__()
        self.__dict__["_parameters"] = module._parameters
        self.__dict__["_buffers"] = module._buffers
        self.__dict__["_modules"] = module._modules
        self.__dict__["_original_name"] = type(module).__name__
        self.__dict__["_traced"] = TracedFunction(module.forward, module=self, strict=strict)
        self.__dict__["_orig_module"] = module
        self._traced._modules = list(module.modules())
        self.training = module.training

    def forward(self, *args, **kwargs):
        return self._traced(*args, **kwargs)

    def train(self, mode=True):
        self._orig_module.train(mode)
        self.training = mode
        return self

    @property
    def graph(self):
        return self._traced.graph

    @property
    def code(self):
        return self._traced.code

    @property
    def original_name(self):
        return self._original_name

    def save(self, f, **kwargs):
        """Write the graph and the parameters (``ember.jit.load`` reads it back)."""
        from ember.jit._serialize import save as _save

        _save(self, f, **kwargs)

    def __repr__(self):
        return f"TracedModule[{self._original_name}]"


ScriptModule = TracedModule
ScriptFunction = TracedFunction


def save(m, f, _extra_files=None):
    """``torch.jit.save``: write a traced module (graph and parameters, no pickled code).

    Args:
        m: a traced or scripted module or function.
        f: a path or file object.

    Returns:
        None.

    Example:
        >>> tm = ember.jit.trace(nn.Linear(3, 2), ember.ones(1, 3))
        >>> ember.jit.save(tm, 'model.pt')
        >>> ember.jit.load('model.pt')(ember.ones(1, 3)).shape
        torch.Size([1, 2])
    """
    from ember.jit._serialize import save as _save

    _save(m, f, _extra_files=_extra_files)


def load(f, map_location=None, _extra_files=None):
    """``torch.jit.load``: read what ``save`` wrote.

    Args:
        f: a path or file object.
        map_location: where to put the tensors (as ``ember.load``).

    Returns:
        The loaded ``ScriptModule``.

    Example:
        >>> ember.jit.save(ember.jit.trace(nn.ReLU(), ember.ones(2)), 'relu.pt')
        >>> ember.jit.load('relu.pt')(ember.tensor([-1.0, 1.0]))
        tensor([0., 1.])
    """
    from ember.jit._serialize import load as _load

    return _load(f, map_location=map_location, _extra_files=_extra_files)
