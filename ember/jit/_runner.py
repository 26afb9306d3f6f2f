"""Straight-line Python for a step list (NOTE [ Runners ]).

NOTE [ Runners ]
Interpreting a graph node by node would cost a dictionary lookup per
operand and a generic loop per node. A compiled signature instead gets one generated
Python function: each record call is a line ``v3 = dispatch(op3, (v1, v2), p3)`` on local
variables (through ``dispatch``, so modes such as the profiler still see every record),
each fused kernel a call on the operands' arrays, each guard a ``check`` at its traced
position. The function is built once per trace and mode (with or without gradients).
"""

from __future__ import annotations

from ember._ops import core as C
from ember.jit._exec import check_guard
from ember.jit._ir import Value
from ember.jit._tracer import unflatten


def make_runner(g, steps=None, module=None, guards=True):
    """A function ``run(*tensors)`` for graph ``g`` (``tensors``: the call's flat tensor
    leaves; parameters and buffers are read from ``module`` on each call)."""
    if steps is None:  # the graph's own nodes, in order
        steps = [("node", n, i + 1) for i, n in enumerate(g.nodes)]
    ns = {"dispatch": C.dispatch, "wrap": C.wrap, "check": check_guard, "guards": g.guards,
          "unflatten": unflatten, "spec": g.out_spec}
    names = {}
    args, pre = [], []
    for k, v in enumerate(g.inputs):
        names[id(v)] = f"i{k}"
        if v.kind == "input":
            args.append(f"    i{k} = ts[{v.index}]")
        else:
            ns[f"key{k}"] = v.data
            get = "get_parameter" if v.kind == "param" else "get_buffer"
            pre.append(f"    i{k} = module.{get}(key{k})")
    ns["module"] = module
    for k, c in enumerate(g.consts):
        names[id(c)] = f"c{k}"
        ns[f"c{k}"] = c.data
    counter = [0]

    def const(x):
        counter[0] += 1
        key = f"L{counter[0]}"
        ns[key] = x
        return key

    def operand(x):
        if isinstance(x, Value):
            return names[id(x)]
        if isinstance(x, (list, tuple)) and any(isinstance(e, Value) for e in x):
            inner = ", ".join(operand(e) for e in x)
            return f"[{inner}]" if isinstance(x, list) else f"({inner},)"
        if type(x) in (int, float, bool) and repr(x) not in ("inf", "-inf", "nan"):
            return repr(x)
        return const(x)

    def local(v):
        name = f"v{len(names)}"
        names[id(v)] = name
        return name

    body = []
    gi, guards = 0, (g.guards if guards else [])

    def emit_guards(here):
        nonlocal gi
        while gi < len(guards) and guards[gi].pos <= here and id(guards[gi].value) in names:
            body.append(f"    check(guards[{gi}], {names[id(guards[gi].value)]})")
            gi += 1

    emit_guards(0)
    for j, (kind, s, here) in enumerate(steps):
        if kind == "node":
            n = s
            ns[f"op{j}"], ns[f"p{j}"] = n.op, n.params
            ins = ", ".join(operand(x) for x in n.inputs)
            body.append(f"    r = dispatch(op{j}, ({ins}{',' if n.inputs else ''}), p{j})")
            for k, o in enumerate(n.outputs):
                src = f"r[{k}]" if n.multi else "r"
                if isinstance(o, list):
                    for e_i, e in enumerate(o):
                        body.append(f"    {local(e)} = {src}[{e_i}]")
                elif o is not None:
                    body.append(f"    {local(o)} = {src}")
            for i, v in n.mutated:
                src = operand(n.inputs[i])
                if isinstance(v, list):
                    for e_i, e in enumerate(v):
                        body.append(f"    {local(e)} = {src}[{e_i}]")
                else:
                    body.append(f"    {local(v)} = {src}")
        else:
            ins = [operand(v) for v in s.inputs]
            if s.op is not None:
                ns[f"op{j}"] = s.op
                body.append(f"    r = dispatch(op{j}, ({', '.join(ins)},), ())")
                for k, o in enumerate(s.outputs):
                    body.append(f"    {local(o)} = {'r[%d]' % k if s.op.multi else 'r'}")
            else:
                ns[f"k{j}"] = s.kernel
                arrays = ", ".join(f"{a}._data" for a in ins)
                body.append(f"    r = k{j}([{arrays}])")
                for k, o in enumerate(s.outputs):
                    body.append(f"    {local(o)} = wrap(r[{k}])")
        emit_guards(here)
    emit_guards(1 << 60)
    outs = [operand(v) for v in g.outputs]
    if g.out_spec == ("leaf", 0):
        body.append(f"    return {outs[0]}")
    else:
        body.append(f"    return unflatten(spec, [{', '.join(outs)}])")
    src = "\n".join(["def run(*ts):"] + args + pre + body) + "\n"
    exec(compile(src, "<ember.compile runner>", "exec"), ns)
    run = ns["run"]
    run.source = src
    return run
