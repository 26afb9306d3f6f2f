"""The graph IR of traced code: SSA values, nodes naming op records, guards.

NOTE [ The trace IR ]
A ``Graph`` is a straight-line program recorded from the dispatch spine (NOTE [ The dispatch
spine ] in ``ember/_ops/core.py``). Each ``Node`` names an op record (``node.op``, an
``OpDef``) with its attributes (``node.params`` in the record's order; ``node.attrs`` by
name) and its inputs: ``Value`` objects or Python numbers (the scalar operands of binary
ops). Each ``Value`` has the dtype, shape and device seen while tracing, and a ``kind``:

    input   an argument of the traced function (``index``: its position in the flat inputs)
    param   a parameter of a traced Module (``name``: its state_dict key)
    buffer  a buffer of a traced Module
    const   a tensor the code captured (``data``: that tensor, held by reference)
    node    an output of a node (``producer``: the node, ``index``: which output)

Mutation is explicit: an in-place op (a record with ``mutates``) produces a new Value for
the tensor it wrote, and later uses refer to that Value, so the graph stays SSA while the
executor writes into the caller's tensor as eager would. ``Graph.guards`` list the
tensor->Python conversions seen while tracing (``bool(x.sum() < 5)``, ``t.item()``); an
executor checks them on every call (NOTE [ Guards ] in ``_compile.py``).

Printing follows the talk's slide: ``%1 = sum(%x)``, ``%2 = add(%x, 1)``, ``return (%2)``.
"""

from __future__ import annotations

__all__ = ["Value", "Node", "Graph", "Guard"]

# PyTorch's scalar-type names, as its graphs print them (Float(3, 4)).
_SCALAR_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half",
                "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble"}


class Value:
    """One value of a traced graph: an input, a constant or an op's output, printed ``%name``.

    Args:
        name: the printed name (an argument's name, or a number).
        kind: "input", "param", "buffer", "const" or "output" (what produced it).
        dtype: its ember dtype.
        shape: its shape when traced.
        device: its device.
        requires_grad: whether it required grad when traced.
        producer: the ``Node`` that computes it (None for inputs and constants).
        index: its position among the producer's outputs.
        data: the tensor of a constant (None otherwise).

    Example:
        >>> tf = ember.jit.trace(lambda x: x + 1, ember.ones(2, 3))
        >>> v = tf.graph.inputs[0]
        >>> v, v.shape, v.type_str()
        (%x, (2, 3), 'Float(2, 3)')
    """

    __slots__ = ("name", "kind", "dtype", "shape", "device", "requires_grad", "producer",
                 "index", "data", "uses")

    def __init__(self, name, kind, dtype, shape, device, requires_grad=False, producer=None,
                 index=0, data=None):
        self.name = name
        self.kind = kind
        self.dtype = dtype
        self.shape = tuple(shape)
        self.device = device
        self.requires_grad = requires_grad
        self.producer = producer
        self.index = index
        self.data = data
        self.uses = 0

    def type_str(self):
        name = str(self.dtype).rsplit(".", 1)[-1]
        return f"{_SCALAR_TYPE.get(name, name)}({', '.join(map(str, self.shape))})"

    def __repr__(self):
        return f"%{self.name}"


class Node:
    """One op call of a traced graph: ``outputs = op(*inputs, **attrs)``.

    Args:
        op: the op record (``ember._ops.core.OpDef``) it calls.
        inputs: ``Value``s and Python constants, in the op's argument order.
        params: the op's non-tensor parameters, in the order of its ``attrs``.
        outputs: the ``Value``s it produces.
        source: the user's ``(file, line)`` that made the call, for messages.
        multi: whether the op returns several tensors.

    Example:
        >>> tf = ember.jit.trace(lambda x: x.sum(0), ember.ones(2, 3))
        >>> node = tf.graph.nodes[0]
        >>> node.name, node.inputs, node.outputs
        ('sum', [%x], [%1])
    """

    __slots__ = ("op", "inputs", "params", "outputs", "source", "multi", "mutated")

    def __init__(self, op, inputs, params, outputs, source=None, multi=False):
        self.op = op
        self.inputs = list(inputs)
        self.params = tuple(params) if isinstance(params, tuple) else (
            () if params is None else (params,))
        self.outputs = list(outputs)
        self.source = source
        self.multi = multi
        self.mutated = []  # (input position, new Value or list of Values) per written input

    @property
    def name(self):
        return self.op.name

    @property
    def attrs(self):
        return self.op.named(self.params)

    @property
    def pure(self):
        """No mutation and no random draw: may be reordered, deduplicated or removed."""
        return not self.op.mutates and not self.op.random

    def value_inputs(self):
        return [v for v in self.inputs if isinstance(v, Value)]

    def __repr__(self):
        return _node_line(self)


class Guard:
    """A tensor turned into a Python value while tracing, with the value seen:
    ``kind(value) == expected``.

    Replays check the guards; a replay whose guard fails runs the Python code instead of the
    recorded graph (the branch taken may differ). Tracing warns with ``TracerWarning`` when it
    records one.

    Args:
        value: the ``Value`` that was converted.
        kind: the conversion ("bool", "int", "float", ...).
        expected: the Python value it gave when traced.
        pos: how many nodes had been recorded before the conversion.
        source: the user's ``(file, line)`` of the conversion.

    Example:
        >>> import warnings
        >>> def f(x):
        ...     return x * 2 if x.sum() > 0 else x
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     tf = ember.jit.trace(f, ember.ones(2))
        >>> tf.graph.guards
        [guard bool(%2) == True]
    """

    __slots__ = ("value", "kind", "expected", "pos", "source")

    def __init__(self, value, kind, expected, pos, source=None):
        self.value = value
        self.kind = kind
        self.expected = expected
        self.pos = pos
        self.source = source

    def __repr__(self):
        return f"guard {self.kind}(%{self.value.name}) == {self.expected!r}"


class Graph:
    """A traced program: its ``inputs`` (the function's arguments, then parameters and
    buffers), ``nodes`` in execution order, ``outputs`` (``Value``s or Python constants, in
    the flattened output), ``out_spec`` (how to rebuild the returned structure) and
    ``guards``.

    Printing it gives PyTorch's graph notation. Graphs are made by tracing, not by hand.

    Example:
        >>> tf = ember.jit.trace(lambda x: x.exp().sum(), ember.ones(2))
        >>> g = tf.graph
        >>> [n.name for n in g.nodes], g.outputs
        (['exp', 'sum'], [%2])
    """

    def __init__(self):
        self.inputs = []
        self.nodes = []
        self.outputs = []
        self.out_spec = None
        self.guards = []
        self.consts = []

    def values(self):
        seen = list(self.inputs) + list(self.consts)
        for n in self.nodes:
            for o in list(n.outputs) + [m for _, m in n.mutated]:
                seen.extend(o if isinstance(o, list) else [] if o is None else [o])
        return seen

    def count_uses(self):
        for v in self.values():
            v.uses = 0
        for n in self.nodes:
            for v in n.value_inputs():
                v.uses += 1
            for x in n.inputs:
                if isinstance(x, (list, tuple)):
                    for e in x:
                        if isinstance(e, Value):
                            e.uses += 1
        for v in self.outputs:
            if isinstance(v, Value):
                v.uses += 1
        for g in self.guards:
            g.value.uses += 1

    def __str__(self):
        args = ", ".join(f"%{v.name} : {v.type_str()}" for v in self.inputs)
        lines = [f"graph({args}):"]
        lines += ["  " + _node_line(n) for n in self.nodes]
        lines += [f"  {g!r}" for g in self.guards]
        outs = ", ".join(_operand(v) for v in self.outputs)
        lines.append(f"  return ({outs})")
        return "\n".join(lines)

    __repr__ = __str__


def _operand(v):
    if isinstance(v, Value):
        return f"%{v.name}"
    if isinstance(v, (list, tuple)) and any(isinstance(e, Value) for e in v):
        return "[" + ", ".join(_operand(e) for e in v) + "]"
    return repr(v)


def _attr_str(v):
    if isinstance(v, tuple):
        return "[" + ", ".join(_attr_str(x) for x in v) + "]"
    if isinstance(v, (bool, int, float, str)) or v is None:
        return repr(v)
    if isinstance(v, type):  # a NumPy scalar type: its dtype name
        return getattr(v, "__name__", str(v))
    return str(v).rsplit(".", 1)[-1] if "dtype" in type(v).__name__.lower() else str(v)


def _names(vs):
    out = []
    for o in vs:
        if isinstance(o, list):
            out.append("[" + ", ".join(f"%{e.name}" for e in o) + "]")
        elif o is not None:
            out.append(f"%{o.name}")
    return out


def _node_line(n):
    outs = ", ".join(_names(n.outputs) + _names(v for _, v in n.mutated)) or "_"
    args = [_operand(v) for v in n.inputs]
    # Attributes at their default-looking values (None/False) are left out of the listing.
    args += [f"{k}={_attr_str(v)}" for k, v in n.attrs.items()
             if v is not None and v is not False and k != "input_shape"]
    return f"{outs} = {n.op.name}({', '.join(args)})"
