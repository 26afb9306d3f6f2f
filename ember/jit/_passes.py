"""Graph passes: dead code, common subexpressions, constant folding, simplification, and
the grouping of elementwise chains for fusion (NOTE [ Passes ]).

NOTE [ Passes ]
Passes work on a copy of a traced Graph and only on *pure* nodes (no ``mutates``, not
``random``). In-place records and aliasing (a view and its base name the same memory
under different Values) make reordering unsafe, so:

- dead-code elimination removes pure nodes whose outputs nothing uses (guards count as
  uses);
- common-subexpression elimination and simplification run only on graphs without any
  mutating node;
- constant folding evaluates pure, non-random nodes whose inputs are all literals or
  folded values (``arange``, ``zeros`` made inside the function). Tensors captured from
  outside are never folded: the user may change them between calls;
- a fusion group never spans an impure node, so the memory it reads is the same whether
  its nodes run one by one or as one kernel at the position of its last node.
"""

from __future__ import annotations

from ember._tensor import Tensor
from ember.jit._ir import Graph, Node, Value


def copy_graph(g):
    """A shallow structural copy: new Node objects (same Values), new lists."""
    h = Graph()
    h.inputs = list(g.inputs)
    h.consts = list(g.consts)
    h.nodes = []
    h.pos = {}  # id(copied node) -> its index in g (guards are placed by those indices)
    for i, n in enumerate(g.nodes):
        m = Node(n.op, n.inputs, n.params, n.outputs, n.source, n.multi)
        m.mutated = list(n.mutated)
        h.nodes.append(m)
        h.pos[id(m)] = i
    h.outputs = list(g.outputs)
    h.out_spec = g.out_spec
    h.guards = list(g.guards)
    return h


def _all_values(n):
    out = []
    for o in n.outputs:
        out.extend(o if isinstance(o, list) else [] if o is None else [o])
    for _, m in n.mutated:
        out.extend(m if isinstance(m, list) else [m])
    return out


def dce(g):
    """Remove pure nodes whose outputs are unused; returns how many were removed."""
    removed = 0
    while True:
        g.count_uses()
        keep = []
        for n in g.nodes:
            if n.pure and not n.mutated and all(v.uses == 0 for v in _all_values(n)):
                removed += 1
                continue
            keep.append(n)
        if len(keep) == len(g.nodes):
            return removed
        g.nodes = keep


def _substitute(g, mapping):
    def sub(x):
        if isinstance(x, Value):
            return mapping.get(x, x)
        if isinstance(x, (list, tuple)) and any(isinstance(e, Value) for e in x):
            return type(x)(sub(e) for e in x)
        return x

    for n in g.nodes:
        n.inputs = [sub(x) for x in n.inputs]
    g.outputs = [sub(x) for x in g.outputs]
    for gd in g.guards:
        gd.value = mapping.get(gd.value, gd.value)


def _key_part(x):
    if isinstance(x, Value):
        return ("V", id(x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__,) + tuple(_key_part(e) for e in x)
    try:
        hash(x)
    except TypeError:
        return ("id", id(x))
    return (type(x).__name__, x)


def cse(g):
    """Merge pure nodes with the same op, inputs and attributes (graphs without mutation)."""
    if any(not n.pure or n.mutated for n in g.nodes):
        return 0
    seen, mapping, keep = {}, {}, []
    for n in g.nodes:
        n.inputs = [mapping.get(x, x) if isinstance(x, Value) else x for x in n.inputs]
        key = (n.op.name, tuple(_key_part(x) for x in n.inputs),
               tuple(_key_part(p) for p in n.params))
        prev = seen.get(key)
        if prev is not None and not n.op.view and len(prev.outputs) == len(n.outputs):
            for a, b in zip(n.outputs, prev.outputs):
                if isinstance(a, Value) and isinstance(b, Value):
                    mapping[a] = b
            continue
        seen[key] = n
        keep.append(n)
    g.nodes = keep
    _substitute(g, mapping)
    return len(mapping)


_IDENTITY = {"mul": 1, "div": 1, "sub": 0, "pow": 1}


def simplify(g):
    """x*1, x/1, x-0, x**1 -> x and neg(neg(x)) -> x, where the result has x's dtype and
    shape, is not a graph output (it would alias an input) and needs no gradient."""
    if any(not n.pure or n.mutated for n in g.nodes):
        return 0
    outs = {id(v) for v in g.outputs if isinstance(v, Value)}
    mapping, keep = {}, []
    for n in g.nodes:
        n.inputs = [mapping.get(x, x) if isinstance(x, Value) else x for x in n.inputs]
        y = n.outputs[0] if len(n.outputs) == 1 else None
        x = n.inputs[0] if n.inputs else None
        src = None
        if (isinstance(y, Value) and isinstance(x, Value) and id(y) not in outs
                and not y.requires_grad and x.dtype == y.dtype and x.shape == y.shape):
            ident = _IDENTITY.get(n.op.name)
            if (ident is not None and len(n.inputs) == 2 and type(n.inputs[1]) in (int, float)
                    and n.inputs[1] == ident):
                src = x
            elif (n.op.name == "neg" and x.producer is not None and x.producer.op.name == "neg"
                  and isinstance(x.producer.inputs[0], Value)):
                src = x.producer.inputs[0]
        if src is not None:
            mapping[y] = src
            continue
        keep.append(n)
    g.nodes = keep
    _substitute(g, mapping)
    return len(mapping)


def fold_constants(g):
    """Evaluate pure, non-random nodes whose inputs are literals or folded values."""
    from ember.autograd import no_grad
    from ember.jit._exec import _resolve

    env, folded, keep = {}, 0, []
    for n in g.nodes:
        vals = [x for x in n.inputs if isinstance(x, Value)]
        foldable = (n.pure and not n.mutated and not n.op.data_dependent
                    and all(v in env for v in vals)
                    and not any(isinstance(x, (list, tuple)) and any(
                        isinstance(e, Value) and e not in env for e in x) for x in n.inputs))
        if not foldable or n.op.kind == "view":
            keep.append(n)
            continue
        from ember._ops import core as C

        with no_grad():
            out = C.dispatch(n.op, tuple(_resolve(env, x) for x in n.inputs), n.params)
        outs = out if n.multi else (out,)
        for v, t in zip(n.outputs, outs):
            if isinstance(v, Value) and isinstance(t, Tensor):
                env[v] = t
                v.kind, v.data, v.producer = "const", t, None
                g.consts.append(v)
        folded += 1
    g.nodes = keep
    return folded
