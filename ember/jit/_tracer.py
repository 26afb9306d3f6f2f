"""Recording a Graph from one real run of the user's code (NOTE [ Tracing ]).

NOTE [ Tracing ]
A trace is an ordinary eager run with a ``DispatchMode`` installed: every op record the
code reaches is executed as usual and appended to the graph, its tensor inputs looked up
in a table from tensors to Values. The run's own results are returned to the caller, so
tracing never runs the user's code twice and never half-runs it: whatever goes wrong
while tracing (a graph break) only marks the graph as unusable, with the reason.

Tensors the table does not know are either aliases of known ones that were made without a
record (``x.detach()``, ``x.data`` share the array object, so a second table keyed by
the array finds them) or tensors the code captured from outside: constants, held by
reference as PyTorch's tracer holds them.

Conversions to Python (``bool``, ``item``, ``tolist``, ``numpy``) reach the tracer
through ``ember._tensor.CONVERSION_HOOKS``: ``jit.trace`` warns (TracerWarning naming the
user's line), ``ember.compile`` turns each into a guard.

Graph breaks (the trace is complete but must not be replayed): ``backward()``/
``autograd.grad`` inside the traced code (their effects on ``.grad`` are not op records),
a record that computed outside its forward (cannot be re-run), a module attribute or a
parameter's ``.grad`` changed by plain Python while tracing.
"""

from __future__ import annotations

import os
import sys
import warnings

from ember import _tensor as _T
from ember._ops import core as C
from ember._tensor import Tensor
from ember.jit._ir import Graph, Guard, Node, Value

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TracerWarning(Warning):
    """A trace may not generalise: a tensor was turned into a Python value (``bool(t)``,
    ``t.item()``, ``int(t)``) while tracing, so the value seen is baked into the trace.

    ember records the value as a ``Guard`` and checks it on each replay; the warning says
    where it happened. Silence it with ``warnings.simplefilter("ignore",
    ember.jit.TracerWarning)``.

    Example:
        >>> import warnings
        >>> def f(x):
        ...     return x * 2 if x.sum() > 0 else x
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     tf = ember.jit.trace(f, ember.ones(2))
        >>> caught[0].category is ember.jit.TracerWarning
        True
    """


def user_frame():
    """The innermost frame outside ember's own package (the user's line), or None."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(_EMBER_DIR + os.sep):
            return f
        f = f.f_back
    return None


def _where():
    f = user_frame()
    return None if f is None else (f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


class Tracer(C.DispatchMode):
    """Records dispatched records into ``self.graph``; ``mode`` is "trace" or "compile"."""

    def __init__(self, mode="trace"):
        self.mode = mode
        self.graph = Graph()
        self.by_tensor = {}   # id(tensor) -> (tensor, Value): tensors kept alive, ids stable
        self.by_array = {}    # id(array) -> (array, Value): aliases made without a record
        self.breaks = []      # reasons the graph must not be replayed
        self.break_kinds = {}  # kind ("backward", "precomputed", "module_state") -> reason
        self._n = 0
        self._engine_calls = None

    # ------------------------------------------------------------------ values
    def fresh_name(self):
        self._n += 1
        return str(self._n)

    def bind(self, t, v):
        self.by_tensor[id(t)] = (t, v)
        self.by_array[id(t._data)] = (t._data, v)

    def new_value(self, t, kind, name=None, **kw):
        v = Value(name or self.fresh_name(), kind, t.dtype, t._data.shape, t.device,
                  t._requires_grad, **kw)
        self.bind(t, v)
        return v

    def add_input(self, t, name, kind="input", index=0):
        v = self.new_value(t, kind, name=name, index=index)
        self.graph.inputs.append(v)
        return v

    def value_of(self, t):
        hit = self.by_tensor.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        hit = self.by_array.get(id(t._data))
        if hit is not None and hit[0] is t._data:
            self.by_tensor[id(t)] = (t, hit[1])
            return hit[1]
        v = self.new_value(t, "const", name=f"c{len(self.graph.consts)}", data=t)
        self.graph.consts.append(v)
        return v

    def operand(self, x):
        if isinstance(x, Tensor):
            return self.value_of(x)
        if isinstance(x, (list, tuple)) and any(isinstance(e, Tensor) for e in x):
            return type(x)(self.operand(e) for e in x)
        return x

    # ------------------------------------------------------------------ recording
    def __ember_dispatch__(self, op, inputs, params, run):
        from ember.autograd import engine

        out = run(inputs, params)
        if run.precomputed:
            self.note_break(f"{op.name} computes outside its op record and cannot be replayed",
                            "precomputed")
        if engine._CALLBACKS:
            # An op run by a backward pass inside the traced code: the gradients it writes
            # into .grad are not records, so this trace cannot be replayed.
            self.note_break("backward()/autograd.grad() called inside the traced code",
                            "backward")
            return out
        ins = [self.operand(x) for x in inputs]
        outs = out if isinstance(out, (tuple, list)) else (out,)
        mutated = {i: inputs[i] for i in op.mutates}
        values = []
        for k, o in enumerate(outs):
            if isinstance(o, Tensor):
                values.append(self.new_value(o, "node", index=k))
            elif isinstance(o, (list, tuple)) and o and isinstance(o[0], Tensor):
                values.append([self.new_value(e, "node", index=k) for e in o])
            else:
                values.append(None)
        node = Node(op, ins, params, values, source=_where(),
                    multi=isinstance(out, (tuple, list)))
        for v in values:
            for e in (v if isinstance(v, list) else [v]):
                if e is not None:
                    e.producer = node
        for i, t in mutated.items():
            # The written tensor's new version is a new Value (NOTE [ The trace IR ]).
            if isinstance(t, Tensor):
                nv = self._version(t, node)
            elif isinstance(t, (list, tuple)):
                nv = [self._version(e, node) for e in t]
            else:
                continue
            node.mutated.append((i, nv))
        self.graph.nodes.append(node)
        return out

    def _version(self, t, node):
        nv = Value(self.fresh_name(), "node", t.dtype, t._data.shape, t.device,
                   t._requires_grad, producer=node, index=-1)
        self.bind(t, nv)
        return nv

    def on_convert(self, t, kind, result):
        from ember.autograd import engine

        if engine._CALLBACKS:
            return
        hit = self.by_tensor.get(id(t))
        if hit is None or hit[0] is not t:
            hit = self.by_array.get(id(t._data))
            if hit is None or hit[0] is not t._data:
                return  # a constant or a tensor the traced code never computed on
        v = hit[1]
        if v.kind == "const":
            return
        where = _where()
        if self.mode == "trace":
            what = {"item": "Converting a tensor to a Python number",
                    "bool": "Converting a tensor to a Python boolean",
                    "tolist": "Converting a tensor to a Python list",
                    "numpy": "Converting a tensor to a NumPy array"}[kind]
            msg = (f"{what} might cause the trace to be incorrect. We can't record the data "
                   "flow of Python values, so this value will be treated as a constant in "
                   "the future. This means that the trace might not generalize to other "
                   "inputs!")
            if where is not None:
                warnings.warn_explicit(msg, TracerWarning, where[0], where[1])
            else:
                warnings.warn(msg, TracerWarning, stacklevel=3)
        if kind == "numpy":
            result = result.copy()
        self.graph.guards.append(Guard(v, kind, result, len(self.graph.nodes), where))

    def note_break(self, reason, kind):
        self.break_kinds.setdefault(kind, reason)
        if reason not in self.breaks:
            self.breaks.append(reason)

    # ------------------------------------------------------------------ install
    def __enter__(self):
        _T.CONVERSION_HOOKS.append(self.on_convert)
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            for i in range(len(_T.CONVERSION_HOOKS) - 1, -1, -1):
                if _T.CONVERSION_HOOKS[i] == self.on_convert:
                    del _T.CONVERSION_HOOKS[i]
                    break


# ---------------------------------------------------------------------------- pytrees
def flatten(obj):
    """Leaves of nested tuples/lists/dicts, and a spec to rebuild the structure."""
    leaves = []

    def go(o):
        if isinstance(o, tuple) and not hasattr(o, "_fields"):
            return ("tuple", [go(e) for e in o])
        if isinstance(o, list):
            return ("list", [go(e) for e in o])
        if isinstance(o, dict):
            return ("dict", [(k, go(v)) for k, v in o.items()])
        if isinstance(o, tuple):  # namedtuple
            return ("namedtuple", type(o), [go(e) for e in o])
        leaves.append(o)
        return ("leaf", len(leaves) - 1)

    return leaves, go(obj)


def unflatten(spec, leaves):
    kind = spec[0]
    if kind == "leaf":
        return leaves[spec[1]]
    if kind == "tuple":
        return tuple(unflatten(s, leaves) for s in spec[1])
    if kind == "list":
        return [unflatten(s, leaves) for s in spec[1]]
    if kind == "dict":
        return {k: unflatten(s, leaves) for k, s in spec[1]}
    return spec[1](*(unflatten(s, leaves) for s in spec[2]))


def spec_str(spec):
    """A hashable, printable form of a spec (for signatures)."""
    kind = spec[0]
    if kind == "leaf":
        return "*"
    if kind == "dict":
        return "{" + ",".join(f"{k!r}:{spec_str(s)}" for k, s in spec[1]) + "}"
    inner = spec[2] if kind == "namedtuple" else spec[1]
    return kind[0] + "(" + ",".join(spec_str(s) for s in inner) + ")"


# ---------------------------------------------------------------------------- state checks
def module_snapshot(module):
    """Plain-Python state of a module tree that a replay would not reproduce: non-tensor
    attributes of every submodule and the identity of every parameter's ``.grad``."""
    if module is None:
        return None
    snap = []
    for name, m in module.named_modules():
        for k, v in m.__dict__.items():
            if k.startswith("_") or isinstance(v, Tensor):
                continue
            if isinstance(v, (int, float, bool, str, type(None))):
                snap.append((name, k, v))
            else:
                snap.append((name, k, id(v)))
        for k, p in m._parameters.items():
            snap.append((name, k, "grad", None if p is None else id(p.grad)))
    return snap


def trace_run(fn, args, kwargs, module=None, mode="trace", input_names=None):
    """Run ``fn(*args, **kwargs)`` under a Tracer; returns (result, tracer).

    Tensor leaves of ``args``/``kwargs`` become the graph's inputs (named from
    ``input_names`` where given); a Module's parameters and buffers follow them."""
    tr = Tracer(mode)
    leaves, _ = flatten((args, kwargs))
    k = 0
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            name = input_names[k] if input_names and k < len(input_names) else f"x{k}"
            if tr.by_tensor.get(id(leaf)) is None:
                tr.add_input(leaf, name, "input", index=k)
            k += 1
    if module is not None:
        for name, p in module.named_parameters(remove_duplicate=False):
            if tr.by_tensor.get(id(p)) is None:
                tr.add_input(p, name.replace(".", "_"), "param").data = name
        for name, b in module.named_buffers(remove_duplicate=False):
            if b is not None and tr.by_tensor.get(id(b)) is None:
                tr.add_input(b, name.replace(".", "_"), "buffer").data = name
    before = module_snapshot(module)
    with tr:
        out = fn(*args, **kwargs)
    if module is not None and module_snapshot(module) != before:
        tr.note_break("the code changed module attributes or .grad with plain Python "
                      "(a replay would not repeat that)", "module_state")
    outs, spec = flatten(out)
    tr.graph.out_spec = spec
    tr.graph.outputs = [tr.value_of(o) if isinstance(o, Tensor) else o for o in outs]
    return out, tr
