"""``.code``: a Graph as Python source that calls the op records (and runs)."""

from __future__ import annotations

import types

from ember._ops.core import OPS
from ember.jit._ir import Value


def _is_literal(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return not (isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))))
    if isinstance(v, (tuple, list)):
        return all(_is_literal(e) for e in v)
    if isinstance(v, slice):
        return all(_is_literal(e) for e in (v.start, v.stop, v.step))
    return False


def _ident(v):
    return "_" + v.name if v.kind == "node" else v.name.replace(".", "_")


def python_code(graph, name="forward", method=True):
    """Return (source, constants): ``constants`` is the object the source calls CONSTANTS."""
    consts = {}

    def const(x):
        key = f"k{len(consts)}"
        consts[key] = x
        return f"CONSTANTS.{key}"

    def operand(x):
        if isinstance(x, Value):
            if x.kind == "const":
                return const(x.data)
            if x.kind in ("param", "buffer"):
                if all(p.isidentifier() for p in x.data.split(".")):
                    return "self." + x.data
                get = "get_parameter" if x.kind == "param" else "get_buffer"
                return f"self.{get}({x.data!r})"
            return _ident(x)
        if isinstance(x, (list, tuple)) and any(isinstance(e, Value) for e in x):
            inner = ", ".join(operand(e) for e in x)
            return f"[{inner}]" if isinstance(x, list) else f"({inner},)"
        return repr(x) if _is_literal(x) else const(x)

    args = [_ident(v) for v in graph.inputs if v.kind == "input"]
    lines = [f"def {name}({', '.join((['self'] if method else []) + args)}):"]
    for n in graph.nodes:
        outs = []
        for o in n.outputs:
            if isinstance(o, list):
                outs.append("[" + ", ".join(_ident(e) for e in o) + "]")
            else:
                outs.append("_" if o is None else _ident(o))
        call_args = [operand(x) for x in n.inputs]
        call_args += [f"{k}={repr(v) if _is_literal(v) else const(v)}"
                      for k, v in n.attrs.items()]
        call = f"ops.{n.op.name}({', '.join(call_args)})"
        target = (", ".join(outs) + ("," if len(outs) == 1 else "")) if n.multi else outs[0]
        lines.append(f"    {target} = {call}")
        for i, v in n.mutated:  # the written input is the same tensor under its new name
            src = operand(n.inputs[i])
            if isinstance(v, list):
                lines.append(f"    {', '.join(_ident(e) for e in v)}, = {src}")
            else:
                lines.append(f"    {_ident(v)} = {src}")
    outs = [operand(v) for v in graph.outputs]
    if graph.out_spec == ("leaf", 0):
        lines.append(f"    return {outs[0]}")
    else:  # the flat outputs; the caller rebuilds the structure from graph.out_spec
        lines.append(f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    return "\n".join(lines) + "\n", types.SimpleNamespace(**consts)


class _Ops:
    """``ops.<record>``: the op records by name, for generated code."""

    def __getattr__(self, name):
        try:
            return OPS[name]
        except KeyError:
            raise AttributeError(name) from None


ops = _Ops()


def compile_code(source, constants, name="forward"):
    ns = {"ops": ops, "CONSTANTS": constants}
    exec(compile(source, f"<ember.jit {name}>", "exec"), ns)
    return ns[name]
