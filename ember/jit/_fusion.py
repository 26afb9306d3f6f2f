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

from ember._graph import GRAD
from ember._tensor import make_tensor
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
    __slots__ = ("nodes", "shape", "inputs", "outputs", "kernel", "program", "op", "tail")

    def __init__(self, shape):
        self.nodes = []
        self.shape = shape
        self.inputs = []
        self.outputs = []
        self.kernel = None
        self.program = None
        self.op = None
        self.tail = None  # a sum/mean record fused after the elementwise chain


def find_groups(nodes, live_after, ok=None):
    """Partition fusible runs of ``nodes`` into groups (lists of at least two nodes).

    ``live_after``: Values used outside the node list (graph outputs, guards)."""
    pos = {id(n): i for i, n in enumerate(nodes)}
    uses = {}
    for n in nodes:
        for x in n.inputs:
            for v in (x if isinstance(x, (list, tuple)) else [x]):
                if isinstance(v, Value):
                    uses[id(v)] = uses.get(id(v), 0) + 1
    for v in live_after:
        uses[id(v)] = uses.get(id(v), 0) + 1
    group_of = {}     # id(node) -> Group
    producer = {}     # Value -> Group (open groups only)
    groups = []
    for n in nodes:
        if not n.pure or n.mutated:
            producer.clear()  # a fusion group never spans an impure node
            continue
        vals = [x for x in n.inputs if isinstance(x, Value)]
        if not (ok or fusible)(n):
            gr = producer.get(vals[0]) if len(vals) == 1 else None
            if gr is not None and gr.tail is None and uses.get(id(vals[0])) == 1 and \
                    tail_fusible(n):
                # a reduction of a chain value nothing else reads: the chain's epilogue
                gr.nodes.append(n)
                gr.tail = n
                group_of[id(n)] = gr
                for w in [k for k, g in producer.items() if g is gr]:
                    del producer[w]
                continue
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
        for v in vals:  # open groups this node reads without joining are closed: their
            gr = producer.get(v)  # kernel must have run before this node
            if gr is not None and gr is not target:
                for w in [k for k, g2 in producer.items() if g2 is gr]:
                    del producer[w]
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


def tail_fusible(n):
    """A sum or mean over given dims, in the input's own float dtype."""
    if n.op.name not in ("sum", "mean") or not n.pure or n.mutated or len(n.outputs) != 1:
        return False
    x, y = n.inputs[0], n.outputs[0]
    at = n.attrs
    return (isinstance(x, Value) and isinstance(y, Value) and at.get("dtype") is None
            and x.dtype == y.dtype and _np_name(x.dtype) in ("float32", "float64")
            and isinstance(at.get("dim"), tuple) and len(x.shape) > 0)


# pow by these exponents computes as the eager record's fast path does (NOTE [ pow fast
# paths ] in _ops/elementwise.py), so fused and eager results agree bit for bit
_POW_FAST = {2: "a * a", 3: "a * a * a", 0.5: "sqrt(a)", -0.5: "1 / sqrt(a)", -1: "1 / a",
             -2: "1 / (a * a)"}


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
        if n is g.tail:
            names[id(y)] = f"t{k}"
            body.append((f"t{k}", f"{n.op.name}({names[id(n.inputs[0])]})"))
            continue
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
        fast = _POW_FAST.get(n.inputs[1]) if n.op.name == "pow" and len(n.inputs) == 2 \
            and type(n.inputs[1]) in (int, float) else None
        if fast is not None and (out_dt.startswith("float") or n.inputs[1] in (2, 3)):
            expr = fast.replace("a", f"({ops[0]})")  # eager's pow fast path, same rounding
        else:
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
        from ember._codegen import elementwise_kernel, staged_kernel
    except ImportError:
        return False
    inputs, body, outputs = lower(g)
    g.program = (inputs, body, outputs)
    try:
        if g.tail is not None:
            at = g.tail.attrs
            g.kernel = staged_kernel(inputs=inputs, body=body, outputs=outputs,
                                     axis=tuple(at["dim"]), keepdim=bool(at["keepdim"]))
        else:
            g.kernel = elementwise_kernel(inputs=inputs, body=body, outputs=outputs)
    except (ValueError, NotImplementedError):
        return False
    return True


# ----------------------------------------------------------------------------- gradients
# NOTE [ Fused gradients ]
# With gradients needed, a fusion group becomes one autograd node: its forward is the
# group's kernel, its backward a second generated kernel that recomputes the group's values
# from the saved inputs and runs reverse mode over the group's program. Each record's
# derivative below is its backward formula written in the kernel syntax (``g``: the
# incoming gradient, ``a``/``b``: the operands, ``y``: the record's output), with PyTorch's
# conventions (``maximum`` splits the gradient at ties, ``relu`` passes none at 0, ``abs``
# has 0 at 0). Records without an entry (and groups mixing dtypes, or ``pow`` with a
# tensor or zero exponent) are not fused when gradients are needed. Under
# ``create_graph=True`` the backward replays the group's records eagerly instead, so higher
# derivatives come from the records' own formulas.
DERIV = {
    "add": ("g", "g"), "sub": ("g", "-g"), "mul": ("g * b", "g * a"),
    "div": ("g / b", "-g * a / (b * b)"), "neg": ("-g",), "exp": ("g * y",),
    "expm1": ("g * (y + 1)",), "log": ("g / a",), "log1p": ("g / (1 + a)",),
    "sqrt": ("g / (2 * y)",), "rsqrt": ("-0.5 * g * y * y * y",),
    "reciprocal": ("-g * y * y",), "tanh": ("g * (1 - y * y)",),
    "sigmoid": ("g * (1 - y) * y",), "relu": ("where(y > 0, g, 0)",),
    "sin": ("g * cos(a)",), "cos": ("-g * sin(a)",), "square": ("2 * a * g",),
    "abs": ("g * sign(a)",), "erf": ("g * 1.1283791670955126 * exp(-(a * a))",),
    "maximum": ("where(a == b, g / 2, where(a < b, 0, g))",
                "where(a == b, g / 2, where(a > b, 0, g))"),
    "minimum": ("where(a == b, g / 2, where(a > b, 0, g))",
                "where(a == b, g / 2, where(a < b, 0, g))"),
    "pow": ("g * b * power(a, b - 1)",),
}


def grad_fusible(n):
    if not fusible(n) or n.op.name not in DERIV:
        return False
    y = n.outputs[0]
    dt = _np_name(y.dtype)
    if dt not in ("float32", "float64"):
        return False
    for x in n.inputs:
        if isinstance(x, Value) and _np_name(x.dtype) != dt:
            return False
    if n.op.name == "pow":
        b = n.inputs[1]
        return not isinstance(b, Value) and b != 0
    return True


def _subst(expr, env):
    class _S(ast.NodeTransformer):
        def visit_Name(self, node):  # noqa: N802 - ast's visitor naming
            src = env.get(node.id)
            return node if src is None else ast.parse(src, mode="eval").body

    return ast.unparse(_S().visit(ast.parse(expr, mode="eval")))


def lower_backward(g):
    """The backward program of group ``g``: inputs (group inputs, then one gradient per
    group output), the forward lines recomputed, then reverse mode; outputs: one gradient
    (of the group's full shape) per group input, or None where nothing flows."""
    inputs, body, outputs = g.program
    dt = outputs[0][1]
    names = {id(v): f"x{i}" for i, v in enumerate(g.inputs)}
    for k, n in enumerate(g.nodes):
        names[id(n.outputs[0])] = f"t{k}"
    grads_in = [(f"go{i}", dt) for i in range(len(g.outputs))]
    terms = {}
    for i, v in enumerate(g.outputs):
        terms.setdefault(names[id(v)], []).append(f"go{i}")
    tail = g.nodes.index(g.tail) if g.tail is not None else -1
    lines = [ln for k, ln in enumerate(body) if k != tail]  # the kernel is elementwise
    for k in range(len(g.nodes) - 1, -1, -1):
        n = g.nodes[k]
        t = terms.get(f"t{k}")
        if not t:
            continue
        adj = f"d{k}"
        lines.append((adj, " + ".join(t)))
        if k == tail:  # its gradient arrives with the reduced dims kept (size 1)
            x = n.inputs[0]
            scale = ""
            if n.op.name == "mean":
                count = 1
                for d in n.attrs["dim"]:
                    count *= x.shape[d]
                scale = f" * {1.0 / count!r}"
            terms.setdefault(names[id(x)], []).append(f"({adj}{scale})")
            continue
        srcs = []
        for x in n.inputs:
            if isinstance(x, Value):
                srcs.append(names[id(x)])
            else:
                srcs.append(repr(float(x)) if type(x) is float else repr(int(x)))
        env = {"g": adj, "a": srcs[0], "b": srcs[1] if len(srcs) > 1 else "0", "y": f"t{k}"}
        derivs = DERIV[n.op.name]
        if n.op.name == "pow":  # b * a ** (b - 1) with eager's fast paths where they apply
            e = n.inputs[1] - 1
            rest = "1" if e == 0 else "a" if e == 1 else \
                _POW_FAST[e].replace("a", "(a)") if e in _POW_FAST else f"power(a, {e!r})"
            derivs = (f"g * b * {rest}",)
        for x, d in zip(n.inputs, derivs):
            if isinstance(x, Value):
                terms.setdefault(names[id(x)], []).append(f"({_subst(d, env)})")
    outs = []
    for i in range(len(g.inputs)):
        t = terms.get(f"x{i}")
        if t:
            lines.append((f"gx{i}", f'astype({" + ".join(t)}, "{dt}")'))
            outs.append((f"gx{i}", dt))
        else:
            outs.append(None)
    return inputs + grads_in, lines, outs


def _sum_to(a, shape):
    if a.shape == tuple(shape):
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and a.shape[i + lead] != 1)
    r = a.sum(axis=axes, keepdims=True) if axes else a
    return r.reshape(shape)


def build_grad(g):
    """Make group ``g`` an autograd-aware record (``g.op``); False when it cannot be."""
    from ember._codegen import elementwise_kernel
    from ember._ops.core import OPS, OpDef

    if not all(grad_fusible(n) for n in g.nodes if n is not g.tail):
        return False
    if g.kernel is None and not build(g):
        return False
    inputs, body, outs = lower_backward(g)
    live = [o for o in outs if o is not None]
    try:
        bk = elementwise_kernel(inputs=inputs, body=body, outputs=live) if live else None
    except (ValueError, NotImplementedError):
        return False
    kernel, nouts, group = g.kernel, len(g.outputs), g
    kept_shape = None
    if g.tail is not None:
        dims = {d % len(g.shape) for d in g.tail.attrs["dim"]}
        kept_shape = tuple(1 if d in dims else s for d, s in enumerate(g.shape))

    def fwd(*arrays):
        r = kernel(list(arrays))
        return tuple(r) if nouts > 1 else r[0]

    tail_at = next((i for i, v in enumerate(g.outputs)
                    if g.tail is not None and v is g.tail.outputs[0]), None)
    slot = []  # input k -> position of its gradient among the kernel's outputs, or None
    for o in outs:
        slot.append(None if o is None else sum(s is not None for s in slot))
    wrap = make_tensor

    def bwd(ctx, grads):
        xs = ctx.inputs
        if GRAD.enabled:  # create_graph: the records' own formulas, differentiable
            return _eager_group_grads(group, xs, list(grads) if nouts > 1 else [grads],
                                      ctx.next)
        arrays = [gg._data for gg in grads] if nouts > 1 else [grads._data]
        if tail_at is not None:  # its gradient broadcasts along the reduced dims
            arrays[tail_at] = arrays[tail_at].reshape(kept_shape)
        res = bk([x._data for x in xs] + arrays) if bk is not None else ()
        nxt = ctx.next
        return tuple([None if j is None or nxt[k] is None else
                      wrap(_sum_to(res[j], xs[k]._data.shape)) for k, j in enumerate(slot)])

    op = OpDef(f"fused_kernel_{id(g):x}", fwd, bwd, save="x", multi=nouts > 1,
               node_name="CompiledFunctionBackward")
    OPS.pop(op.name, None)  # a per-graph record, not part of the op table
    g.op = op
    return True


def _eager_group_grads(g, xs, gs, nxt):
    """Gradients of group ``g`` by replaying its records on ``xs`` (differentiable)."""
    from ember._ops import core as C
    from ember.autograd import grad as _grad

    env = {id(v): t for v, t in zip(g.inputs, xs)}
    for n in g.nodes:
        ins = tuple(env[id(x)] if isinstance(x, Value) else x for x in n.inputs)
        env[id(n.outputs[0])] = C.dispatch(n.op, ins, n.params)
    outs = [env[id(v)] for v in g.outputs]
    want = [i for i, t in enumerate(xs) if nxt[i] is not None and t.requires_grad]
    got = _grad(outs, [xs[i] for i in want], gs, create_graph=True, allow_unused=True)
    res = [None] * len(xs)
    for i, r in zip(want, got):
        res[i] = r
    return tuple(res)
