"""``ember.compile``: trace lazily, guard, optimise, generate kernels; never answer wrong.

NOTE [ Guards ]
``ember.compile`` keeps, per input signature (NOTE [ Signatures ]), a list of traces. The
first call with a signature is an ordinary eager run under the tracer, so its answer is
eager's by construction. Every tensor->Python conversion during that run (``bool(x.sum()
< 5)``, ``t.item()``, ``tolist``, ``numpy``; the library's own conversions go through the
same Tensor methods) is a guard: the value it produced is part of the trace's contract. A
later call replays a trace only while all its guards hold, checking each as soon as its
value is computed; a failing guard moves on to the next trace of the signature or traces
anew (again an eager run), and after ``recompile_limit`` traces of one signature the
signature runs eagerly for good.

A guard is only checked before any in-place write or random draw has happened in that
call: when a guarded value is computed after one, that trace is not replayed (the
signature runs eagerly, said by ``explain``), since abandoning a half-run call would repeat
its side effects.

Graph breaks (NOTE [ Tracing ]) make the signature run eagerly, or raise with
``fullgraph=True``. ``ember.compile(...).explain()`` lists every signature with its
traces, guards, breaks, passes and kernels.

Execution: with gradients needed (grad mode on and an input or parameter requiring grad)
the trace is replayed through the dispatch spine, so autograd records eager's nodes and
backward (and double backward) are eager's formulas. Without, the optimised graph runs:
dead code removed, subexpressions shared, constants folded, elementwise chains fused into
generated kernels (``_fusion.py``).
"""

from __future__ import annotations

import functools
import os
import warnings

from ember._graph import GRAD
from ember.jit import _passes
from ember.jit._exec import GuardFailure
from ember.jit._signature import describe, signature
from ember.jit._tracer import TracerWarning, trace_run

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_BACKENDS = ("inductor", "eager", "aot_eager")


class GraphBreakError(RuntimeError):
    """``fullgraph=True`` and the code could not be captured as one graph."""


class _Plan:
    """One trace of one signature, with what is needed to replay it."""

    __slots__ = ("graph", "opt", "steps", "gsteps", "breaks", "guard_safe", "stats",
                 "needs_grad", "run", "grun")

    def __init__(self, graph, breaks):
        self.graph = graph
        self.breaks = list(breaks)
        self.opt = None
        self.steps = None
        self.gsteps = None
        self.run = None   # NOTE [ Runners ]
        self.grun = None
        self.stats = {}
        self.needs_grad = False
        # guards are safe when no impure node precedes the last of them
        last = max((g.pos for g in graph.guards), default=0)
        self.guard_safe = all(n.pure for n in graph.nodes[:last])
        if not self.guard_safe:
            self.breaks.append("a guarded value is computed after an in-place write or a "
                               "random draw")


def _optimise(plan, fuse):
    """Run the passes once per trace (plan.opt); the fused step lists come per mode."""
    g = _passes.copy_graph(plan.graph)
    st = plan.stats
    st["nodes_traced"] = len(g.nodes)
    st["dce"] = _passes.dce(g)
    st["folded"] = _passes.fold_constants(g)
    st["cse"] = _passes.cse(g)
    st["simplified"] = _passes.simplify(g)
    st["dce"] += _passes.dce(g)
    plan.opt = g
    plan.steps = _steps(plan, fuse, grad=False)


def _steps(plan, fuse, grad):
    """The step list: ("node", node) or ("kernel", group); with ``grad``, groups are
    autograd-aware records (NOTE [ Fused gradients ])."""
    from ember.jit import _fusion

    g = plan.opt
    steps = [("node", n) for n in g.nodes]
    kernels = []
    if fuse and os.environ.get("EMBER_JIT_DISABLE") != "1":
        live = {v for v in g.outputs if hasattr(v, "kind")} | {gd.value for gd in g.guards}
        if grad:
            groups = [gr for gr in _fusion.find_groups(g.nodes, live, _fusion.grad_fusible)
                      if _fusion.build_grad(gr)]
        else:
            groups = [gr for gr in _fusion.find_groups(g.nodes, live) if _fusion.build(gr)]
        last = {id(gr.nodes[-1]): gr for gr in groups}
        member = {id(n) for gr in groups for n in gr.nodes}
        steps = []
        for n in g.nodes:
            if id(n) in last:
                steps.append(("kernel", last[id(n)]))
            elif id(n) not in member:
                steps.append(("node", n))
        kernels = groups
    # each step carries the count of traced nodes done after it (where guards are checked)
    steps = [(k, s, g.pos[id(s if k == "node" else s.nodes[-1])] + 1) for k, s in steps]
    tag = "grad_" if grad else ""
    plan.stats[tag + "kernels"] = len(kernels)
    plan.stats[tag + "fused_nodes"] = sum(len(gr.nodes) for gr in kernels)
    plan.stats[tag + "nodes_run"] = sum(1 for s in steps if s[0] == "node")
    return steps


class CompiledFunction:
    """What ``ember.compile(fn)`` returns for a function (and uses inside a Module)."""

    def __init__(self, fn, module=None, fullgraph=False, backend="inductor",
                 recompile_limit=8):
        self._fn = fn
        self._module = module
        self._modules = list(module.modules()) if module is not None else None
        self._fullgraph = fullgraph
        self._fuse = backend == "inductor"
        self._limit = recompile_limit
        self._cache = {}     # signature -> list of _Plan, or "eager" (reason in _eager)
        self._eager = {}
        functools.update_wrapper(self, fn, updated=())
        from ember.compiler import _COMPILED

        _COMPILED.add(self)

    def _needs_grad(self, tensors):
        if not GRAD.enabled:
            return False
        if any(t._requires_grad for t in tensors):
            return True
        return self._module is not None and any(
            p.requires_grad for p in self._module.parameters())

    def _trace(self, key, args, kwargs):
        from ember.jit import _TRACING

        _TRACING[0] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TracerWarning)
                out, tr = trace_run(self._fn, args, kwargs, self._module, "compile")
        finally:
            _TRACING[0] -= 1
        plan = _Plan(tr.graph, tr.breaks)
        if plan.breaks:
            if self._fullgraph:
                raise GraphBreakError(
                    f"ember.compile(fullgraph=True): {getattr(self._fn, '__name__', 'fn')} "
                    f"cannot be captured as one graph: {'; '.join(plan.breaks)}")
            self._cache[key] = "eager"
            self._eager[key] = plan.breaks
            return out
        plans = self._cache.setdefault(key, [])
        plans.append(plan)
        if len(plans) > self._limit:
            self._cache[key] = "eager"
            self._eager[key] = [f"recompile limit ({self._limit}) reached: the guards fail "
                                "on most calls (a value converted to Python changes)"]
        return out

    def __call__(self, *args, **kwargs):
        key, tensors, _ = signature(args, kwargs, self._modules, fast=True)
        plans = self._cache.get(key)
        if plans is None:
            return self._trace(key, args, kwargs)
        if plans == "eager":
            return self._fn(*args, **kwargs)
        grad = self._needs_grad(tensors)
        for plan in plans:
            try:
                run = plan.grun if grad else plan.run
                if run is None:
                    run = self._prepare(plan, grad)
                return run(*tensors)
            except GuardFailure:
                continue
        return self._trace(key, args, kwargs)

    def _prepare(self, plan, grad):
        from ember.jit._runner import make_runner

        if plan.opt is None:
            _optimise(plan, self._fuse)
        if grad:
            plan.gsteps = _steps(plan, self._fuse, grad=True)
            plan.grun = make_runner(plan.opt, plan.gsteps, self._module)
            return plan.grun
        plan.run = make_runner(plan.opt, plan.steps, self._module)
        return plan.run

    # ------------------------------------------------------------------ reports
    def explain(self):
        """A report: every signature seen, its traces, guards, breaks, passes, kernels."""
        lines = [f"ember.compile({getattr(self._fn, '__qualname__', self._fn)!s}): "
                 f"{len(self._cache)} signature(s)"]
        for key, plans in self._cache.items():
            lines.append(f"- signature {describe(key)}")
            if plans == "eager":
                for r in self._eager.get(key, []):
                    lines.append(f"    runs eagerly: {r}")
                continue
            for i, p in enumerate(plans):
                lines.append(f"    trace {i}: {len(p.graph.nodes)} ops, "
                             f"{len(p.graph.guards)} guard(s)")
                for gd in p.graph.guards:
                    where = f" ({gd.source[0]}:{gd.source[1]})" if gd.source else ""
                    lines.append(f"      {gd!r}{where}")
                if p.stats:
                    lines.append("      passes: " + ", ".join(f"{k}={v}"
                                                          for k, v in p.stats.items()))
        return "\n".join(lines)

    @property
    def graphs(self):
        return [p.graph for ps in self._cache.values() if ps != "eager" for p in ps]


def _module_base():
    from ember.nn import Module

    return Module


class OptimizedModule(_module_base()):
    """``ember.compile(module)``: PyTorch's wrapper (its state_dict keys start with
    ``_orig_mod.``); ``forward`` runs the compiled ``_orig_mod.forward``."""

    def __init__(self, mod, compiled):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled"] = compiled

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def explain(self):
        return self._compiled.explain()

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """Compile ``model`` (a function or Module): PyTorch's ``torch.compile``, on ember's
    tracer (NOTE [ Guards ]).

    Args:
        model: the function or ``nn.Module``; omitted, returns a decorator.
        fullgraph: raise ``GraphBreakError`` instead of running eagerly where the code
            cannot be captured as one graph.
        dynamic: None or False (ember specialises on shapes and re-traces on new ones);
            True (symbolic shapes) is not supported.
        backend: "inductor" (passes and generated kernels), "eager" or "aot_eager"
            (cached traces replayed through the op records, no generated code).
        mode: PyTorch's mode names are accepted; on the CPU they all give the same code.
        options: must be empty (no inductor options exist here).
        disable: return ``model`` unchanged.

    Example::

        >>> import ember
        >>> f = ember.compile(lambda x: (x * 2).tanh() + 1)
        >>> f(ember.zeros(3))
        tensor([1., 1., 1.])
    """
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if dynamic:
        raise NotImplementedError("ember.compile(dynamic=True): symbolic shapes are not "
                                  "supported; ember specialises on shapes and re-traces")
    if callable(backend) or backend not in _BACKENDS:
        raise NotImplementedError(f"ember.compile: backend {backend!r} is not available "
                                  f"(choose one of {list(_BACKENDS)})")
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(m for m in _MODES if m)}")
    if options:
        raise NotImplementedError(f"ember.compile: options {sorted(options)} are not "
                                  "supported")
    if disable:
        return model
    from ember.nn import Module

    if isinstance(model, Module):
        return OptimizedModule(model, CompiledFunction(model.forward, model, fullgraph,
                                                       backend))
    return CompiledFunction(model, None, fullgraph, backend)
