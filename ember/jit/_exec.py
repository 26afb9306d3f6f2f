"""Running a Graph: the interpreter that replays records through the dispatch spine.

Replaying goes through ``dispatch`` node by node, so a replay is an eager run of the same
records: autograd records its nodes as eager would (gradients, higher orders and all),
random records draw from their generators, in-place records write into the caller's
tensors, and modes (a profiler, another tracer) see the calls. The compiled executor in
``_compile.py`` runs fused kernels instead where no gradient is needed.
"""

from __future__ import annotations

from ember._ops import core as C
from ember.jit._ir import Value
from ember.jit._tracer import unflatten


class GuardFailure(Exception):
    """A value converted to Python while tracing differs on this call."""

    def __init__(self, guard, got):
        self.guard, self.got = guard, got
        super().__init__(f"{guard!r} failed (got {got!r})")


def _same(kind, expected, got):
    if kind == "numpy":
        return (got.shape == expected.shape and got.dtype == expected.dtype
                and (got == expected).all() if got.dtype.kind not in "fc" else
                got.shape == expected.shape and got.dtype == expected.dtype
                and ((got == expected) | ((got != got) & (expected != expected))).all())
    if isinstance(expected, float) and expected != expected:
        return isinstance(got, float) and got != got
    return type(got) is type(expected) and got == expected


def check_guard(g, t):
    """Evaluate guard ``g`` on tensor ``t`` without going through the conversion hooks."""
    d = t._data
    if g.kind == "bool":
        got = bool(d.reshape(())[()])
    elif g.kind == "item":
        got = d.reshape(()).item()
        if d.dtype.kind == "V":
            got = float(d.astype("float32").reshape(()))
    elif g.kind == "tolist":
        got = d.tolist()
    else:
        got = d
    if not _same(g.kind, g.expected, got):
        raise GuardFailure(g, got)


def bind_inputs(graph, flat_inputs, module=None, state=None):
    """The environment for one call: Values of inputs, parameters, buffers, constants."""
    env = {}
    k = 0
    for v in graph.inputs:
        if v.kind == "input":
            env[v] = flat_inputs[v.index]
            k += 1
        else:
            env[v] = state[v.data] if state is not None else module.get_parameter(v.data) \
                if v.kind == "param" else module.get_buffer(v.data)
    for c in graph.consts:
        env[c] = c.data
    return env


def _resolve(env, x):
    if isinstance(x, Value):
        return env[x]
    if isinstance(x, (list, tuple)) and x and any(isinstance(e, Value) for e in x):
        return type(x)(_resolve(env, e) for e in x)
    return x


def run_node(env, n):
    ins = tuple(_resolve(env, x) for x in n.inputs)
    out = C.dispatch(n.op, ins, n.params)
    outs = out if n.multi else (out,)
    for k, v in enumerate(n.outputs):
        if v is None:
            continue
        if isinstance(v, list):
            for e, t in zip(v, outs[k]):
                env[e] = t
        else:
            env[v] = outs[k]
    for i, v in n.mutated:
        if isinstance(v, list):
            for e, t in zip(v, ins[i]):
                env[e] = t
        else:
            env[v] = ins[i]
    return out


def interpret(graph, env, guards=True):
    """Replay every node in order; check guards at their positions; return the output."""
    gs = graph.guards if guards else ()
    gi = 0
    nodes = graph.nodes
    for i, n in enumerate(nodes):
        while gi < len(gs) and gs[gi].pos <= i:
            check_guard(gs[gi], env[gs[gi].value])
            gi += 1
        run_node(env, n)
    while gi < len(gs):
        check_guard(gs[gi], env[gs[gi].value])
        gi += 1
    return output(graph, env)


def output(graph, env):
    leaves = [env[v] if isinstance(v, Value) else v for v in graph.outputs]
    return unflatten(graph.out_spec, leaves)
