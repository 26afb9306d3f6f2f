"""Fusion: chains of elementwise records become one generated kernel (NOTE [ Fusion ]).

NOTE [ Fusion ]
A group is a set of pure elementwise records (``op.expr`` set, one output) whose outputs
all have the same shape; its inputs broadcast to that shape. Groups grow in program order
and never span an impure node (NOTE [ Passes ]); a non-fusible node that reads a value of
an open group closes it, so the group's kernel, placed at the position of its last
member, has run before that reader. Each member's ``expr`` (NumPy syntax over ``a``/``b``)
becomes one SSA line of a kernel program for ``ember._codegen``; operands are cast to the
dtype the record computes in (PyTorch's promotion, which NumPy's alone would not give:
``int / int`` is float32 in PyTorch) and results to the record's output dtype, so the
kernel returns exactly the dtypes eager does. The generated C (or the NumPy executor where
no compiler is available) runs on the arrays of the group's inputs.
"""

from __future__ import annotations

import ast

from ember.jit._ir import Value

_KERNEL_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64"}


def _np_name(dtype):
    return str(dtype).rsplit(".", 1)[-1]


def fusible(n):
    op = n.op
    if op.expr is None or not n.pure or n.mutated or n.multi or len(n.outputs) != 1:
        return False
    y = n.outputs[0]
    if not isinstance(y, Value) or _np_name(y.dtype) not in _KERNEL_DTYPES:
        return False
    for x in n.inputs:
        if isinstance(x, Value):
            if _np_name(x.dtype) not in _KERNEL_DTYPES:
                return False
        elif type(x) not in (int, float, bool):
            return False
    return len(n.inputs) == (2 if "b" in _names(op.expr) else 1)


def _names(expr):
    return {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}


class Group:
    __slots__ = ("nodes", "shape", "inputs", "outputs", "kernel", "program")

    def __init__(self, shape):
        self.nodes = []
        self.shape = shape
        self.inputs = []
        self.outputs = []
        self.kernel = None
        self.program = None


def find_groups(nodes, live_after):
    """Partition fusible runs of ``nodes`` into groups (lists of at least two nodes).

    ``live_after``: Values used outside the node list (graph outputs, guards)."""
    pos = {id(n): i for i, n in enumerate(nodes)}
    group_of = {}     # id(node) -> Group
    producer = {}     # Value -> Group (open groups only)
    groups = []
    for n in nodes:
        if not n.pure or n.mutated:
            producer.clear()  # a fusion group never spans an impure node
            continue
        vals = [x for x in n.inputs if isinstance(x, Value)]
        if not fusible(n):
            for v in vals:  # a reader outside the group closes the group that makes v
                gr = producer.get(v)
                if gr is not None:
                    for w in [k for k, g in producer.items() if g is gr]:
                        del producer[w]
            continue
        y = n.outputs[0]
        target = None
        for v in vals:
            gr = producer.get(v)
            if gr is None or gr.shape != y.shape or gr is target:
                continue
            if target is None:
                target = gr
            else:  # this node joins two open groups: merge them (program order kept)
                target.nodes = sorted(target.nodes + gr.nodes, key=lambda m: pos[id(m)])
                for m in gr.nodes:
                    group_of[id(m)] = target
                for w, g2 in list(producer.items()):
                    if g2 is gr:
                        producer[w] = target
                gr.nodes = []
        if target is None:
            target = Group(y.shape)
            groups.append(target)
        target.nodes.append(n)
        group_of[id(n)] = target
        producer[y] = target
    groups = [g for g in groups if len(g.nodes) >= 2]
    # inputs and outputs of each group
    inside = {id(g): {id(n.outputs[0]) for n in g.nodes} for g in groups}
    used_outside = {}
    for n in nodes:
        gid = id(group_of[id(n)]) if id(n) in group_of else None
        for x in n.inputs:
            for v in (x if isinstance(x, (list, tuple)) else [x]):
                if isinstance(v, Value):
                    for g in groups:
                        if id(v) in inside[id(g)] and gid != id(g):
                            used_outside.setdefault(id(g), set()).add(id(v))
    for g in groups:
        made = inside[id(g)]
        seen = set()
        for n in g.nodes:
            for x in n.inputs:
                if isinstance(x, Value) and id(x) not in made and id(x) not in seen:
                    seen.add(id(x))
                    g.inputs.append(x)
        outs = used_outside.get(id(g), set())
        g.outputs = [n.outputs[0] for n in g.nodes
                     if id(n.outputs[0]) in outs or n.outputs[0] in live_after]
    return [g for g in groups if g.outputs]


def _promote_name(a, b):
    import numpy as np

    return np.result_type(np.dtype(a), np.dtype(b)).name


class _Sub(ast.NodeTransformer):
    """Replace the operands ``a``/``b`` of an ``expr`` by the given source strings."""

    def __init__(self, ops):
        self.ops = {"a": ops[0], "b": ops[1] if len(ops) > 1 else None}

    def visit_Name(self, node):  # noqa: N802 - ast's visitor naming
        src = self.ops.get(node.id)
        return node if src is None else ast.parse(src, mode="eval").body


def lower(g):
    """The kernel program of group ``g``: (inputs, body, outputs) for ember._codegen."""
    names = {}
    inputs = []
    for i, v in enumerate(g.inputs):
        names[id(v)] = f"x{i}"
        inputs.append((f"x{i}", _np_name(v.dtype)))
    body = []
    for k, n in enumerate(g.nodes):
        y = n.outputs[0]
        out_dt = _np_name(y.dtype)
        vdts = [_np_name(x.dtype) for x in n.inputs if isinstance(x, Value)]
        compute = out_dt
        if out_dt == "bool" and vdts:
            compute = vdts[0] if len(vdts) == 1 else _promote_name(*vdts)
            if len(vdts) == 1 and any(type(x) is float for x in n.inputs) and \
                    compute not in ("float32", "float64"):
                compute = None  # int tensor vs Python float: NumPy's own comparison
        ops = []
        for x in n.inputs:
            if isinstance(x, Value):
                s = names[id(x)]
                if compute is not None and _np_name(x.dtype) != compute:
                    s = f'astype({s}, "{compute}")'
            else:
                s = repr(float(x)) if type(x) is float else repr(int(x))
                if type(x) is bool:
                    s = "True" if x else "False"
            ops.append(s)
        expr = ast.unparse(_Sub(ops).visit(ast.parse(n.op.expr, mode="eval")))
        expr = f'astype({expr}, "{out_dt}")'
        name = f"t{k}"
        names[id(y)] = name
        body.append((name, expr))
    outputs = [(names[id(v)], _np_name(v.dtype)) for v in g.outputs]
    return inputs, body, outputs


def build(g):
    """Compile group ``g``'s kernel; returns False when the generator refuses it."""
    try:
        from ember._codegen import elementwise_kernel
    except ImportError:
        return False
    inputs, body, outputs = lower(g)
    g.program = (inputs, body, outputs)
    try:
        g.kernel = elementwise_kernel(inputs=inputs, body=body, outputs=outputs)
    except (ValueError, NotImplementedError):
        return False
    return True
