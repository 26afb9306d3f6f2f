"""From a trace to an ONNX model: tracing, dynamic axes, constant folding, graph building.

NOTE [ ONNX export from the trace ]
``export`` runs the model once under the tracer (``ember.jit._tracer.trace_run``, with grad
recording off) and turns the recorded ``Graph`` (NOTE [ The trace IR ]) into an ONNX graph,
one converter per op record (``_symbolic.py``, keyed by ``node.op.name``). Before
converting, a backward sweep from the outputs keeps only the nodes whose values are used
(a trace holds dead views, e.g. the unused q/k/v slices of attention). With
``do_constant_folding`` a node whose tensor inputs are all known (parameters and buffers
exported as initializers, captured constants, folded results) is run eagerly through its
own record and its result becomes an initializer -- the batch-norm scale/shift algebra on
running statistics, weight transposes, factory tensors -- unless the result is much larger
than its inputs (``expand`` of a bias to a feature map is better computed at run time).
Initializers are emitted lazily, on first use, so parameters that were folded into something
else do not appear twice.

NOTE [ Dynamic axes from several traces ]
A trace bakes sizes: ``x.view(x.size(0), -1)`` records ``view(size=[2, 12])`` and nothing
says that 2 is the batch. To honour ``dynamic_axes`` the exporter traces the model again
with each dynamic dimension changed on its own (size - 1, or + 1 below 4), then once
with all of them changed (size -/+ 2). The traces must record the same records in the same
order (otherwise the model takes another path for other sizes: an error naming the axis).
Every integer attribute (and Python-number operand) that differs between the traces is a
function of the dynamic sizes; it is fitted as ``a * d + b`` when it depends on one
dimension, or as ``c * d1 * d2 ...`` when it depends on several, and the fit is checked
against the last trace. The converters that take sizes (Reshape targets, Expand shapes,
Slice bounds, factory shapes) then compute such an entry in the graph from ``Shape`` of the
input that carries the dimension (``Gather``/``Mul``/``Add``; a Reshape with a single dynamic entry
uses ``-1``). A converter that bakes a size which turns out to be dynamic raises
``SymbolicValueError`` naming the record and the attribute, instead of exporting a graph
that is only right at the traced size. The same traces tell which dimensions of each value
vary, which names the dynamic dimensions of the outputs.
"""

from __future__ import annotations

import io
import math
import os
import warnings

import numpy as np

from ember.onnx.errors import OnnxExporterError, SymbolicValueError, UnsupportedOperatorError

INT64_MAX = 2 ** 63 - 1
INT64_MIN = -2 ** 63

_IN_EXPORT = [0]


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("ember.onnx.export needs the 'onnx' package: pip install ember[onnx] "
                          "(or pip install onnx onnxruntime)") from None
    return onnx


def _contig(a):
    """A C-contiguous array that keeps 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")


# ---------------------------------------------------------------------------- dtypes
_ONNX_TYPE_NAMES = {"float32": "FLOAT", "float64": "DOUBLE", "float16": "FLOAT16",
                    "bfloat16": "BFLOAT16", "int64": "INT64", "int32": "INT32",
                    "int16": "INT16", "int8": "INT8", "uint8": "UINT8", "bool": "BOOL",
                    "complex64": "COMPLEX64", "complex128": "COMPLEX128"}


def dtype_name(d):
    """The dtype's short name ("float32") for an ember dtype, a NumPy dtype or a type."""
    if hasattr(d, "is_floating_point") and hasattr(d, "name"):
        return d.name
    return np.dtype(d).name


def onnx_type(d):
    """The ONNX TensorProto data type of an ember or NumPy dtype."""
    onnx = _onnx()
    name = dtype_name(d)
    if name not in _ONNX_TYPE_NAMES:
        raise OnnxExporterError(f"ONNX export: dtype {name} has no ONNX tensor type")
    return getattr(onnx.TensorProto, _ONNX_TYPE_NAMES[name])


def np_dtype(d):
    name = dtype_name(d)
    if name == "bfloat16":
        raise OnnxExporterError("ONNX export: bfloat16 constants are not supported")
    return np.dtype(name)


# ---------------------------------------------------------------------------- expressions
class Expr:
    """An integer computed from dynamic sizes: ``coef * prod(sizes of syms) + off``."""

    __slots__ = ("coef", "syms", "off")

    def __init__(self, coef, syms, off=0):
        self.coef, self.syms, self.off = int(coef), tuple(syms), int(off)

    def eval(self, sizes):
        return self.coef * math.prod(sizes[s] for s in self.syms) + self.off

    def is_symbol(self):
        return self.coef == 1 and self.off == 0 and len(self.syms) == 1

    def __repr__(self):
        core = "*".join([str(self.coef)] * (self.coef != 1) + list(self.syms))
        return core + (f"{self.off:+d}" if self.off else "")


def _fit(v0, per, joint, base, var, both):
    """Fit one integer attribute from its values in the traces (NOTE [ Dynamic axes from
    several traces ]); None when it does not depend on the dynamic sizes."""
    dep = [s for s in per if per[s] != v0]
    if not dep:
        return None if joint == v0 else False
    if len(dep) == 1:
        s = dep[0]
        dv, dd = per[s] - v0, var[s] - base[s]
        if dv % dd:
            return False
        e = Expr(dv // dd, (s,), v0 - (dv // dd) * base[s])
    else:
        p = math.prod(base[s] for s in dep)
        if v0 % p:
            return False
        e = Expr(v0 // p, dep)
        for s in dep:
            if e.eval({**base, s: var[s]}) != per[s]:
                return False
    return e if e.eval(both) == joint else False


def _int_leaves(p, path=()):
    """(path, value) for every leaf of a params structure; slices give start/stop/step."""
    if isinstance(p, (tuple, list)):
        for i, e in enumerate(p):
            yield from _int_leaves(e, path + (i,))
    elif isinstance(p, slice):
        for k in ("start", "stop", "step"):
            yield path + (k,), getattr(p, k)
    else:
        yield path, p


def get_path(p, path):
    for k in path:
        p = getattr(p, k) if isinstance(k, str) else p[k]
    return p


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _same_leaf(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and bool((a == b).all()))
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - uncomparable leaves count as different
        return False


# ---------------------------------------------------------------------------- tracing
def _trace(model, args, kwargs, names):
    import ember
    from ember import jit
    from ember.jit._tracer import TracerWarning, trace_run
    from ember.nn import Module

    module = model if isinstance(model, Module) else None
    jit._TRACING[0] += 1
    _IN_EXPORT[0] += 1
    try:
        with ember.no_grad(), warnings.catch_warnings():
            if names is None:  # an extra trace for dynamic axes: warned once already
                warnings.simplefilter("ignore", TracerWarning)
            out, tr = trace_run(model, args, kwargs, module, "trace", names)
    finally:
        jit._TRACING[0] -= 1
        _IN_EXPORT[0] -= 1
    # A forward that caches something on the module (pytorch/examples' transformer keeps
    # its mask in self.src_mask) cannot be replayed by ember.jit, but the trace itself is
    # a complete record of this call: export it, as PyTorch's exporter does.
    breaks = [r for k, r in tr.break_kinds.items() if k != "module_state"]
    if breaks:
        raise OnnxExporterError("ONNX export: the traced model cannot be exported: "
                                + "; ".join(breaks))
    return out, tr.graph


def module_state(model):
    from ember.nn import Module

    if not isinstance(model, Module):
        return []
    return [(m, dict(m.__dict__)) for m in model.modules()]


def restore(state):
    for m, d in state:
        m.__dict__.clear()
        m.__dict__.update(d)


def _resized(t, axis, size):
    """``t`` with dimension ``axis`` resized to ``size`` by repeating its rows (so integer
    inputs keep valid values, e.g. token ids)."""
    from ember._tensor import Tensor

    a = t.detach()._data
    idx = np.arange(size) % max(a.shape[axis], 1)
    return Tensor._wrap(_contig(np.take(a, idx, axis=axis)))


def _with_sizes(args, kwargs, axes_of, sizes):
    from ember._tensor import Tensor
    from ember.jit._tracer import flatten, unflatten

    leaves, spec = flatten((args, kwargs))
    k = 0
    out = []
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            for axis, sym in axes_of.get(k, {}).items():
                leaf = _resized(leaf, axis, sizes[sym])
            k += 1
        out.append(leaf)
    a, kw = unflatten(spec, out)
    return a, kw


class Dynamic:
    """What the extra traces tell about the base trace (NOTE [ Dynamic axes from several
    traces ])."""

    def __init__(self):
        self.syms = {}        # symbol -> (input position, axis) of its first occurrence
        self.base = {}        # symbol -> traced size
        self.params = {}      # node -> {path: Expr}; path ('in', k) for number operands
        self.bad = {}         # node -> {path: why a differing attribute cannot be fitted}
        self.vdims = {}       # Value -> {axis: Expr or None}: dims that vary
        self.varying = set()  # captured constants whose shape or values change
        self.active = False


def analyse_dynamic(model, args, kwargs, graph, axes_of, names, before=None):
    """Trace again with changed sizes and fit the attributes that follow them; ``before``
    (``module_state``) is the model as the base trace found it."""
    dyn = Dynamic()
    if not axes_of:
        return dyn
    from ember._tensor import Tensor
    from ember.jit._tracer import flatten

    leaves, _ = flatten((args, kwargs))
    tensors = [x for x in leaves if isinstance(x, Tensor)]
    for k, axes in sorted(axes_of.items()):
        for axis, sym in axes.items():
            if axis >= tensors[k].ndim or axis < 0:
                raise ValueError(f"dynamic_axes: input {names[k]!r} has {tensors[k].ndim} "
                                 f"dimensions, axis {axis} does not exist")
            n = tensors[k].shape[axis]
            if sym in dyn.base and dyn.base[sym] != n:
                raise ValueError(f"dynamic_axes: the axis named {sym!r} has size "
                                 f"{dyn.base[sym]} and {n} in the example inputs")
            dyn.base.setdefault(sym, n)
            dyn.syms.setdefault(sym, (k, axis))
    dyn.active = True
    base = dyn.base
    runs = {}
    # other sizes: smaller ones when the traced size leaves room (cheaper traces), never 1
    # (a size-1 dimension broadcasts and may take other paths)
    step = {s: -1 if n >= 4 else 1 for s, n in base.items()}
    for sym in base:
        sizes = {**base, sym: base[sym] + step[sym]}
        runs[sym] = (sizes, _variant_graph(model, args, kwargs, axes_of, sizes, graph, sym,
                                           before))
    both = {s: n + 2 * step[s] for s, n in base.items()}
    g_both = _variant_graph(model, args, kwargs, axes_of, both, graph, None, before)
    var = {s: runs[s][0][s] for s in base}
    # attributes and number operands
    for i, node in enumerate(graph.nodes):
        others = {s: runs[s][1].nodes[i] for s in base}
        nb = g_both.nodes[i]
        fitted = {}
        items = [(("p",) + p, v) for p, v in _int_leaves(node.params)]
        items += [(("in", k), x) for k, x in enumerate(node.inputs)
                  if isinstance(x, (int, float)) and not isinstance(x, bool)]
        for path, v0 in items:
            getter = (lambda n, p=path: get_path(n.params, p[1:])) if path[0] == "p" else \
                (lambda n, p=path: n.inputs[p[1]])
            vals = {s: getter(others[s]) for s in base}
            vj = getter(nb)
            if all(_same_leaf(v0, v) for v in vals.values()) and _same_leaf(v0, vj):
                continue
            if not (_is_int(v0) and all(_is_int(v) for v in vals.values()) and _is_int(vj)):
                dyn.bad.setdefault(node, {})[path] = (
                    f"attribute {_path_str(node, path)} changes with the dynamic axes "
                    f"({v0!r} at the traced sizes)")
                continue
            e = _fit(int(v0), {s: int(v) for s, v in vals.items()}, int(vj), base, var, both)
            if e is False or e is None:
                dyn.bad.setdefault(node, {})[path] = (
                    f"attribute {_path_str(node, path)} = {v0} is not a product or an affine "
                    "function of the dynamic sizes")
                continue
            fitted[path] = e
        if fitted:
            dyn.params[node] = fitted
    # constants the Python code made from sizes (e.g. resampling matrices)
    for i, c in enumerate(graph.consts):
        others = [runs[s][1].consts[i] for s in base] + [g_both.consts[i]]
        a = c.data.detach()._data
        if any(o.data.detach()._data.shape != a.shape or
               not np.array_equal(o.data.detach()._data, a, equal_nan=a.dtype.kind in "fc")
               for o in others):
            dyn.varying.add(c)
    # which dims of which values vary
    vals = {s: _values(runs[s][1]) for s in base}
    vals_both = _values(g_both)
    for i, v in enumerate(_values(graph)):
        shapes = {s: vals[s][i].shape for s in base}
        sj = vals_both[i].shape
        dims = {}
        for ax, n0 in enumerate(v.shape):
            per = {s: shapes[s][ax] for s in base}
            if all(n == n0 for n in per.values()) and sj[ax] == n0:
                continue
            e = _fit(n0, per, sj[ax], base, var, both)
            dims[ax] = e or None
        if dims:
            dyn.vdims[v] = dims
    return dyn


def _path_str(node, path):
    if path[0] == "in":
        return f"operand {path[1]}"
    names = node.op.named(node.params)
    key = list(names)[path[1]] if path[1] < len(names) else f"arg{path[1]}"
    return key + "".join(f"[{p!r}]" if not isinstance(p, str) else f".{p}" for p in path[2:])


def _values(graph):
    out = list(graph.inputs) + list(graph.consts)
    for n in graph.nodes:
        for o in n.outputs:
            if isinstance(o, list):
                out.extend(o)
            elif o is not None:
                out.append(o)
        for _, m in n.mutated:
            out.extend(m if isinstance(m, list) else [m])
    return out


def _variant_graph(model, args, kwargs, axes_of, sizes, graph, sym, before=None):
    a, kw = _with_sizes(args, kwargs, axes_of, sizes)
    what = f"dimension {sym!r} = {sizes[sym]}" if sym else \
        "all dynamic dimensions changed together"
    state = module_state(model)
    if before is not None:  # each extra trace starts from the model as the base trace did
        restore(before)
    try:
        _, g = _trace(model, a, kw, None)
    except Exception as e:  # noqa: BLE001 - reported with the context
        raise OnnxExporterError(f"dynamic_axes: the model fails at other sizes ({what}): "
                                f"{type(e).__name__}: {e}") from e
    finally:
        restore(state)
    ops_a = [n.op.name for n in graph.nodes]
    ops_b = [n.op.name for n in g.nodes]
    if ops_a != ops_b or len(_values(graph)) != len(_values(g)) or \
            len(graph.consts) != len(g.consts):
        k = next((i for i, (x, y) in enumerate(zip(ops_a, ops_b)) if x != y),
                 min(len(ops_a), len(ops_b)))
        raise OnnxExporterError(
            f"dynamic_axes: the model records other ops when the sizes change ({what}): "
            f"op {k} is {ops_a[k] if k < len(ops_a) else 'nothing'} at the traced sizes and "
            f"{ops_b[k] if k < len(ops_b) else 'nothing'} then; a graph exported from the "
            "trace would not be right at other sizes")
    return g


# ---------------------------------------------------------------------------- building
class Ctx:
    """What converters use to emit ONNX nodes (``_symbolic.py``)."""

    def __init__(self, opset, graph, dyn, fold, keep_dead=False):
        self.opset = opset
        self.graph = graph
        self.dyn = dyn
        self.fold = fold
        self.nodes = []
        self.inits = {}           # name -> TensorProto
        self.names = {}           # Value -> ONNX name
        self.known = {}           # Value -> ndarray (constant data)
        self.lazy = {}            # Value -> preferred initializer name (made on first use)
        self._used_names = set()
        self._scalars = {}
        self._dims = {}
        self.node = None          # the trace node being converted
        self.keep_dead = keep_dead

    # ------------------------------------------------------------------ names
    def fresh(self, hint="t"):
        hint = "".join(c if c.isalnum() or c in "._/-" else "_" for c in str(hint)) or "t"
        name, k = hint, 0
        while name in self._used_names:
            k += 1
            name = f"{hint}_{k}"
        self._used_names.add(name)
        return name

    def reserve(self, name):
        if name in self._used_names:
            raise ValueError(f"ONNX export: the name {name!r} is used twice")
        self._used_names.add(name)
        return name

    # ------------------------------------------------------------------ emitting
    def op(self, op_type, inputs, n_out=1, name_hint=None, **attrs):
        """Emit one ONNX node; returns its output name (or a list when ``n_out > 1``)."""
        onnx = _onnx()
        hint = name_hint or (self.node.op.name if self.node is not None else op_type)
        outs = [self.fresh(f"/{hint}/{op_type}_out{'' if n_out == 1 else k}")
                for k in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        inputs = [x or "" for x in inputs]
        while inputs and not inputs[-1]:  # trailing optional inputs are left out
            inputs.pop()
        self.nodes.append(onnx.helper.make_node(op_type, inputs, outs,
                                                name=self.fresh(f"/{hint}/{op_type}"),
                                                **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, array, hint="const"):
        """An initializer holding ``array``; returns its name."""
        onnx = _onnx()
        arr = np.asarray(array)
        name = self.fresh(hint)
        self.inits[name] = onnx.numpy_helper.from_array(_contig(arr), name)
        return name

    def ints(self, values, hint="ints"):
        """A 1-D int64 constant (axes, shapes, pads) -- shared between uses."""
        key = ("i64",) + tuple(int(v) for v in values)
        if key not in self._scalars:
            self._scalars[key] = self.const(np.array(values, np.int64), hint)
        return self._scalars[key]

    def scalar(self, value, dtype, shape=()):
        """A constant of ``dtype`` holding ``value`` (shared between uses)."""
        nd = np_dtype(dtype)
        key = (nd.name, repr(value), shape)
        if key not in self._scalars:
            self._scalars[key] = self.const(np.full(shape, value, nd), f"scalar_{nd.name}")
        return self._scalars[key]

    def cast(self, name, src, dst):
        if dtype_name(src) == dtype_name(dst):
            return name
        return self.op("Cast", [name], to=onnx_type(dst))

    # ------------------------------------------------------------------ values
    def name_of(self, v):
        """The ONNX name of a trace Value (an initializer is made on first use)."""
        n = self.names.get(v)
        if n is not None:
            return n
        if v in self.dyn.varying:
            raise SymbolicValueError(
                f"ONNX export: {self.node.op.name if self.node else 'output'} reads %{v.name}, "
                "a tensor the model's Python code built from sizes that follow the dynamic "
                "axes (its shape or values change with them); the exported graph would only be "
                "right at the traced sizes")
        if v in self.known:
            hint = self.lazy.get(v, f"onnx::{v.name}")
            n = self.names[v] = self.const(self.known[v], hint)
            return n
        raise OnnxExporterError(f"ONNX export: value %{v.name} is used before it is computed")

    def inp(self, k, dtype=None, node=None):
        """Operand ``k`` of the node being converted as an ONNX name, cast to ``dtype``
        (a number operand becomes a constant of ``dtype``, or of the node's output dtype)."""
        from ember.jit._ir import Value

        node = node or self.node
        x = node.inputs[k]
        if isinstance(x, Value):
            n = self.name_of(x)
            return self.cast(n, x.dtype, dtype) if dtype is not None else n
        e = self.dyn.params.get(node, {}).get(("in", k))
        dt = dtype if dtype is not None else self.out_dtype(0, node)
        if e is not None:
            return self.cast(self.op("Reshape", [self.expr(e), self.ints([])]), "int64", dt)
        if isinstance(x, (bool, int, float)):
            return self.scalar(x, dt)
        raise OnnxExporterError(f"ONNX export: operand {k} of {node.op.name} is "
                                f"{type(x).__name__}, not a tensor or a number")

    def out_dtype(self, k=0, node=None):
        node = node or self.node
        o = node.outputs[k]
        return o.dtype if o is not None and not isinstance(o, list) else None

    def value(self, k, node=None):
        from ember.jit._ir import Value

        x = (node or self.node).inputs[k]
        return x if isinstance(x, Value) else None

    def constant(self, k, node=None):
        """Operand ``k``'s data when it is known at export time (else None)."""
        v = self.value(k, node)
        return self.known.get(v) if v is not None else None

    def shape(self, v):
        return v.shape

    def static_shape(self, v, what, axes=None):
        """``v``'s shape, refusing when a dynamic axis changes it (or changes one of
        ``axes``, when given); ``what`` names the use."""
        dims = self.dyn.vdims.get(v)
        if dims and axes is not None:
            rank = len(v.shape)
            dims = [a for a in dims if a in {x % rank for x in axes}] if rank else []
        if dims:
            raise SymbolicValueError(
                f"ONNX export: {self.node.op.name} needs the static shape of %{v.name} "
                f"({what}), but its dimensions {sorted(dims)} follow the dynamic axes")
        return v.shape

    # ------------------------------------------------------------------ dynamic sizes
    def dyn_param(self, path):
        """The Expr of attribute ``path`` (a tuple of indices into node.params), or None."""
        return self.dyn.params.get(self.node, {}).get(("p",) + tuple(path))

    def expr(self, e):
        """A 1-element int64 tensor computing Expr ``e`` at run time."""
        key = (e.coef, e.syms, e.off)
        if key in self._dims:
            return self._dims[key]
        acc = None
        for s in e.syms:
            d = self.dim(s)
            acc = d if acc is None else self.op("Mul", [acc, d], name_hint="dim")
        if e.coef != 1:
            acc = self.op("Mul", [acc, self.ints([e.coef])], name_hint="dim")
        if e.off:
            acc = self.op("Add", [acc, self.ints([e.off])], name_hint="dim")
        self._dims[key] = acc
        return acc

    def dim(self, sym):
        key = ("sym", sym)
        if key not in self._dims:
            k, axis = self.dyn.syms[sym]
            v = next(x for x in self.graph.inputs if x.kind == "input" and x.index == k)
            shp = self.op("Shape", [self.name_of(v)], name_hint=f"dim_{sym}")
            self._dims[key] = self.op("Gather", [shp, self.ints([axis])], axis=0,
                                      name_hint=f"dim_{sym}")
        return self._dims[key]

    def size_list(self, values, path, reshape=False):
        """A 1-D int64 tensor of sizes ``values`` (attribute at ``path``) with the entries
        that follow dynamic axes computed in the graph. For a Reshape target a single
        dynamic entry becomes -1."""
        exprs = [self.dyn_param(tuple(path) + (i,)) for i in range(len(values))]
        dyn = [i for i, e in enumerate(exprs) if e is not None]
        if not dyn:
            return self.ints(values)
        if reshape and len(dyn) == 1 and -1 not in values:
            return self.ints([-1 if i == dyn[0] else v for i, v in enumerate(values)])
        parts, run = [], []
        for v, e in zip(values, exprs):
            if e is None:
                run.append(v)
                continue
            if run:
                parts.append(self.ints(run))
                run = []
            parts.append(self.expr(e))
        if run:
            parts.append(self.ints(run))
        return parts[0] if len(parts) == 1 else self.op("Concat", parts, axis=0)


def live_nodes(graph, keep_dead=False):
    """Nodes whose results reach the outputs (NOTE [ ONNX export from the trace ])."""
    from ember.jit._ir import Value
    from ember.onnx._symbolic import reads

    if keep_dead:
        return set(graph.nodes)
    need = {v for v in graph.outputs if isinstance(v, Value)}
    live = set()
    for n in reversed(graph.nodes):
        outs = [o for o in n.outputs if o is not None]
        outs = [e for o in outs for e in (o if isinstance(o, list) else [o])]
        outs += [e for _, m in n.mutated for e in (m if isinstance(m, list) else [m])]
        hit = any(o in need for o in outs)
        if not hit and n.op.name == "copy_" and isinstance(n.inputs[0], Value):
            # a write into a view is live when its base is read later (NOTE in _copy)
            from ember.onnx._symbolic import view_chain

            base, chain = view_chain(n.inputs[0])
            hit = bool(chain) and base in need
        if hit:
            live.add(n)
            for x in reads(n):
                for e in (x if isinstance(x, (list, tuple)) else [x]):
                    if isinstance(e, Value):
                        need.add(e)
    return live


def _fold(ctx, node):
    """Run ``node`` eagerly on its known inputs; store the results as known constants.
    Returns False when the node should be computed in the graph instead."""
    import ember
    from ember._ops import core as C
    from ember._tensor import Tensor
    from ember.jit._ir import Value

    if node.op.random or node.op.mutates or node in ctx.dyn.params or node in ctx.dyn.bad:
        return False
    vals = [x for x in node.inputs if isinstance(x, Value)]
    if any(isinstance(x, (list, tuple)) and any(isinstance(e, Value) for e in x)
           for x in node.inputs):
        return False
    if not all(v in ctx.known and v not in ctx.dyn.varying for v in vals):
        return False
    outs = [o for o in node.outputs if o is not None and not isinstance(o, list)]
    if len(outs) != len(node.outputs):
        return False
    if any(o in ctx.dyn.vdims for o in outs):
        return False
    in_bytes = sum(ctx.known[v].nbytes for v in vals)
    out_bytes = sum(math.prod(o.shape) * max(o.dtype.itemsize, 1) for o in outs)
    if out_bytes > max(2 * in_bytes, 4096):
        return False
    ins = tuple(Tensor._wrap(ctx.known[x]) if isinstance(x, Value) else x
                for x in node.inputs)
    with ember.no_grad():
        res = C.dispatch(node.op, ins, node.params)
    res = res if node.multi else (res,)
    for o, r in zip(node.outputs, res):
        if o is not None:
            ctx.known[o] = _contig(r.detach()._data)
            ctx.lazy[o] = f"onnx::{node.op.name}_{o.name}"
    return True


def build_model(graph, dyn, state, *, opset, input_names, output_names, export_params,
                keep_initializers_as_inputs, do_constant_folding, out_axes, in_axes,
                keep_dead=False, producer="ember"):
    """The ONNX ModelProto of a traced graph."""
    onnx = _onnx()
    from ember.jit._ir import Value
    from ember.onnx import _symbolic

    h = onnx.helper
    ctx = Ctx(opset, graph, dyn, do_constant_folding, keep_dead)
    inputs_pb, inits_as_inputs = [], []
    for v in graph.inputs:
        if v.kind == "input":
            name = ctx.reserve(input_names[v.index] if v.index < len(input_names)
                               else v.name)
            ctx.names[v] = name
            dims = [in_axes.get(v.index, {}).get(a, n) for a, n in enumerate(v.shape)]
            inputs_pb.append(h.make_tensor_value_info(name, onnx_type(v.dtype), dims))
    for v in graph.inputs:
        if v.kind in ("param", "buffer"):
            key = v.data
            data = _contig(state[key].detach()._data)
            if export_params and not keep_initializers_as_inputs:
                ctx.known[v] = data
                ctx.lazy[v] = ctx.reserve(key)
                ctx._used_names.discard(key)  # the lazy const() takes the name itself
            else:
                name = ctx.names[v] = ctx.reserve(key)
                inits_as_inputs.append(h.make_tensor_value_info(name, onnx_type(v.dtype),
                                                                list(v.shape)))
                if export_params:
                    ctx.inits[name] = onnx.numpy_helper.from_array(data, name)
    for c in graph.consts:
        ctx.known[c] = _contig(c.data.detach()._data)
        ctx.lazy[c] = f"onnx::const_{c.name}"
    live = live_nodes(graph, keep_dead)
    for node in graph.nodes:
        if node not in live:
            continue
        ctx.node = node
        if do_constant_folding and _fold(ctx, node):
            continue
        outs = _symbolic.convert(ctx, node)
        for o, n in zip(node.outputs, outs):
            if o is None:
                continue
            if isinstance(o, list):
                for e, m in zip(o, n):
                    ctx.names[e] = m
            elif n is not None:
                ctx.names[o] = n
        for _, m in node.mutated:
            if node.op.name == "copy_":
                ctx.names[m] = outs[0]
    ctx.node = None
    outputs_pb = []
    for i, v in enumerate(graph.outputs):
        if not isinstance(v, Value):
            raise OnnxExporterError(f"ONNX export: output {i} is a Python {type(v).__name__}"
                                    ", not a tensor; ONNX graphs return tensors only")
        src = ctx.name_of(v)
        name = ctx.reserve(output_names[i] if i < len(output_names) else f"output_{i}")
        ctx.nodes.append(h.make_node("Identity", [src], [name], name=ctx.fresh("/output")))
        dims = []
        for a, n in enumerate(v.shape):
            if a in out_axes.get(i, {}):
                dims.append(out_axes[i][a])
            elif a in dyn.vdims.get(v, {}):
                e = dyn.vdims[v][a]
                dims.append(e.syms[0] if e is not None and e.is_symbol() else f"{name}_dim_{a}")
            else:
                dims.append(n)
        outputs_pb.append(h.make_tensor_value_info(name, onnx_type(v.dtype), dims))
    if keep_initializers_as_inputs:  # every initializer, as PyTorch lists them
        listed = {i.name for i in inits_as_inputs}
        inits_as_inputs += [h.make_tensor_value_info(n, t.data_type, list(t.dims))
                            for n, t in ctx.inits.items() if n not in listed]
    g = h.make_graph(ctx.nodes, "main_graph", inputs_pb + inits_as_inputs, outputs_pb,
                     initializer=list(ctx.inits.values()))
    model = h.make_model(g, opset_imports=[h.make_opsetid("", opset)],
                         producer_name=producer, producer_version=_version())
    model.ir_version = min(model.ir_version, _IR_FOR_OPSET.get(opset, 10))
    return model


# The IR version onnxruntime accepts with each opset (newer IR versions may be refused by
# older runtimes); ONNX's own table maps opset 17 -> IR 8, 19/20 -> IR 9.
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9}


def first_out(node):
    o = next((o for o in node.outputs if o is not None), None)
    return o[0].name if isinstance(o, list) else getattr(o, "name", "?")


def _version():
    try:
        from importlib.metadata import version

        return version("ember")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "0"


def save_model(model, f, external_data):
    onnx = _onnx()
    size = model.ByteSize()
    if isinstance(f, (str, os.PathLike)):
        if size > 2 ** 31 - 1:
            if not external_data:
                raise OnnxExporterError("ONNX export: the model is over 2 GB; pass "
                                        "external_data=True to save the weights beside it")
            onnx.save_model(model, os.fspath(f), save_as_external_data=True)
        else:
            onnx.save_model(model, os.fspath(f))
        return
    if size > 2 ** 31 - 1:
        raise OnnxExporterError("ONNX export: a model over 2 GB needs a file path (its "
                                "weights go to external data files)")
    if not hasattr(f, "write"):
        raise TypeError(f"ONNX export: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    data = model.SerializeToString()
    if isinstance(f, io.TextIOBase):
        raise TypeError("ONNX export: f is a text file; open it in binary mode ('wb')")
    f.write(data)


__all__ = ["Ctx", "Expr", "Dynamic", "analyse_dynamic", "build_model", "save_model",
           "live_nodes", "INT64_MAX", "INT64_MIN", "UnsupportedOperatorError"]
