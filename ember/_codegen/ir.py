"""The kernel IR: SSA programs parsed into typed op trees (dialect-neutral).

NOTE [ Kernel IR ]
A kernel program is a list of SSA assignments ``(name, expr)`` whose right-hand sides use
the vocabulary of ``EXPRS`` in ``ember/_ops/elementwise.py``: NumPy-style operators and
functions (``a + b``, ``tanh(a)``, ``where(c, a, b)``, ``maximum(a, b)``, ``a < b``,
``astype(a, "float32")``, numeric literals, ``inf``/``nan``), each meaning NumPy's function
of the same name. Staged kernels add the reductions ``sum``, ``mean``, ``max``, ``min``,
``prod`` of one value over the kernel's reduced axes, and the builtin ``rindex`` (the flat
position inside the reduced region, int64).

Parsing gives a graph of ``Node`` objects, one per operation, typed exactly as NumPy 2 would
type the same expression evaluated on arrays of the declared input dtypes: numeric literals
are "weak" Python scalars (NEP 50), so ``x * 0.5`` stays float32 and ``i + 1`` stays int32;
every ufunc's loop dtypes come from ``ufunc.resolve_dtypes``, so the emitters know in which
dtype each operation computes (``int32 / int32`` runs in float64, ``int64 < float32`` compares
in float64). Nothing here knows about C: an emitter (``c_emit.py``; a CUDA one later) maps
each ``Node.op`` (NumPy's names) to its dialect, or refuses it (``Unsupported``), in which
case the NumPy executor (``numpy_exec.py``) runs the same graph.
"""

from __future__ import annotations

import ast
import math

import numpy as np

__all__ = ["KernelError", "Unsupported", "Node", "Program", "parse_program"]


class KernelError(ValueError):
    """A program that is malformed or outside the vocabulary (the caller must not fuse it)."""


class Unsupported(NotImplementedError):
    """A well-formed program an emitter cannot match exactly (the NumPy executor runs it)."""


# ufuncs of the vocabulary: name in the expression -> NumPy ufunc name
UFUNCS = {
    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log", "log2": "log2",
    "log10": "log10", "log1p": "log1p", "sqrt": "sqrt", "sin": "sin", "cos": "cos",
    "tan": "tan", "arcsin": "arcsin", "arccos": "arccos", "arctan": "arctan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "arcsinh": "arcsinh", "arccosh": "arccosh",
    "arctanh": "arctanh", "abs": "absolute", "absolute": "absolute", "floor": "floor",
    "ceil": "ceil", "trunc": "trunc", "sign": "sign", "isnan": "isnan", "isinf": "isinf",
    "isfinite": "isfinite", "logical_not": "logical_not", "negative": "negative",
    "square": "square", "reciprocal": "reciprocal", "rint": "rint",
    "power": "power", "maximum": "maximum", "minimum": "minimum", "fmax": "fmax",
    "fmin": "fmin", "arctan2": "arctan2", "fmod": "fmod", "remainder": "remainder",
    "logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor",
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "true_divide",
    "true_divide": "true_divide", "floor_divide": "floor_divide", "bitwise_and": "bitwise_and",
    "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor", "invert": "invert",
}
# erf/erfc are not NumPy ufuncs: they type like a float ufunc (ints compute in float64)
SPECIAL = {"erf", "erfc"}
REDUCTIONS = {"sum", "mean", "max", "min", "prod"}
_BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "true_divide",
           ast.Pow: "power"}
_CMPOPS = {ast.Eq: "equal", ast.NotEq: "not_equal", ast.Lt: "less", ast.LtE: "less_equal",
           ast.Gt: "greater", ast.GtE: "greater_equal"}
CAST_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32",
               "float64")


class Node:
    """One operation of a program.

    ``op``: ``"input"``, ``"const"``, ``"rindex"``, a NumPy ufunc name, ``"erf"``/``"erfc"``,
    ``"where"``, ``"cast"`` or a reduction (``"sum"``, ...). ``dtype``: the result dtype
    (``None`` for a weak literal, whose ``value`` is a Python number). ``loop``: the dtypes
    the operation's inputs are converted to before computing (NumPy's loop), ``level``: how
    many reductions lie below it (0 for elementwise values), ``full``: whether the value
    varies over the reduced axes.
    """

    __slots__ = ("op", "args", "dtype", "loop", "value", "name", "level", "full", "id")

    def __init__(self, op, args=(), dtype=None, loop=None, value=None, name=None):
        self.op, self.args, self.dtype, self.loop = op, tuple(args), dtype, loop
        self.value, self.name = value, name
        self.level = max((a.level for a in self.args), default=0)
        self.full = any(a.full for a in self.args)
        self.id = -1

    @property
    def weak(self):
        return self.op == "const" and self.dtype is None

    def __repr__(self):
        if self.op == "const":
            return repr(self.value)
        if self.op == "input":
            return self.name
        return f"{self.op}({', '.join(map(repr, self.args))})"


def _sample(node):
    """What NumPy's type resolution sees for ``node``: its dtype, or the Python type of a
    weak literal."""
    return type(node.value) if node.weak else node.dtype


def _fold(op, args):
    """Fold an operation on weak literals as Python would (the reference evaluates the
    string with Python, so ``1 / 3`` stays a weak float)."""
    vals = [a.value for a in args]
    try:
        if op == "add":
            v = vals[0] + vals[1]
        elif op == "subtract":
            v = vals[0] - vals[1]
        elif op == "multiply":
            v = vals[0] * vals[1]
        elif op == "true_divide":
            v = vals[0] / vals[1]
        elif op == "negative":
            v = -vals[0]
        else:
            return None
    except (ZeroDivisionError, OverflowError):
        return None
    return Node("const", value=v)


class _Builder:
    def __init__(self, inputs, staged):
        self.env = {}
        self.staged = staged
        self.nodes = []  # every node, in creation order (a topological order)
        self.cse = {}
        for item in inputs:
            name, dt, *kind = item
            if not isinstance(name, str) or not name.isidentifier():
                raise KernelError(f"kernel input name {name!r} is not an identifier")
            if name in self.env:
                raise KernelError(f"kernel input {name!r} declared twice")
            if kind not in ([], ["row"]) or (kind and not staged):
                raise KernelError(f"kernel input {item!r}: the third field may only be "
                                  "'row', in staged kernels")
            n = self._add(Node("input", dtype=np.dtype(dt), name=name))
            n.full = not kind  # a 'row' input is constant over the reduced axes
            self.env[name] = n

    def _add(self, node):
        key = (node.op, tuple(id(a) for a in node.args), None if node.dtype is None
               else node.dtype.str, repr(node.value) if node.op == "const" else node.name)
        if node.op not in ("input",) and key in self.cse:
            return self.cse[key]
        self.cse[key] = node
        node.id = len(self.nodes)
        self.nodes.append(node)
        return node

    # ---------------------------------------------------------------- typed constructors
    def const(self, v):
        if isinstance(v, bool) or isinstance(v, (int, float)):
            return self._add(Node("const", value=v))
        raise KernelError(f"unsupported literal {v!r}")

    def ufunc(self, name, args):
        if all(a.weak for a in args):
            folded = _fold(name, args)
            if folded is not None:
                return self._add(folded)
        uf = getattr(np, name)
        if uf.nin != len(args):
            raise KernelError(f"{name} takes {uf.nin} argument(s), got {len(args)}")
        try:
            dts = uf.resolve_dtypes(tuple(_sample(a) for a in args) + (None,) * uf.nout)
        except (TypeError, ValueError) as e:  # NumPy itself refuses these operands
            raise KernelError(f"{name} on {[str(_sample(a)) for a in args]}: {e}") from None
        return self._add(Node(name, args, dtype=dts[-1], loop=dts[:uf.nin]))

    def special(self, name, args):
        if len(args) != 1:
            raise KernelError(f"{name} takes 1 argument, got {len(args)}")
        (a,) = args
        if a.weak:
            a = self._strong(a)
        dt = a.dtype if a.dtype.kind == "f" else np.dtype("float64")
        if a.dtype.kind not in "fiub":
            raise KernelError(f"{name} is not defined for {a.dtype}")
        return self._add(Node(name, (a,), dtype=dt, loop=(dt,)))

    def _strong(self, a):
        return self._add(Node("const", dtype=np.asarray(a.value).dtype, value=a.value))

    def where(self, args):
        if len(args) != 3:
            raise KernelError(f"where takes 3 arguments, got {len(args)}")
        c, a, b = args
        if c.weak:
            c = self._strong(c)
        if a.weak and b.weak:
            dt = np.result_type(a.value, b.value)  # NumPy makes two literals strong
            a, b = (self._add(Node("const", dtype=dt, value=x.value)) for x in (a, b))
        sample_a = a.value if a.weak else np.ones(1, a.dtype)
        sample_b = b.value if b.weak else np.ones(1, b.dtype)
        dt = np.where(np.ones(1, bool), sample_a, sample_b).dtype
        return self._add(Node("where", (c, a, b), dtype=dt,
                              loop=(np.dtype(bool), dt, dt)))

    def cast(self, a, dt):
        if a.weak:
            a = self._strong(a)
        return self._add(Node("cast", (a,), dtype=dt, loop=(a.dtype,)))

    def reduce(self, name, args):
        if not self.staged:
            raise KernelError(f"reduction {name}() is only allowed in staged kernels")
        if len(args) != 1:
            raise KernelError(f"{name}() takes 1 argument, got {len(args)}")
        (a,) = args
        if not a.full:
            raise KernelError(f"{name}() of a value that does not vary over the reduced axes")
        fn = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
              "prod": np.prod}[name]
        try:
            dt = np.asarray(fn(np.ones(1, a.dtype))).dtype
        except TypeError as e:
            raise KernelError(f"{name} on {a.dtype}: {e}") from None
        n = Node(name, (a,), dtype=dt, loop=(a.dtype,))
        n.level = a.level + 1
        n.full = False
        return self._add(n)

    # ---------------------------------------------------------------- parsing
    def expr(self, src):
        try:
            tree = ast.parse(src, mode="eval").body
        except SyntaxError as e:
            raise KernelError(f"cannot parse kernel expression {src!r}: {e.msg}") from None
        return self.visit(tree, src)

    def visit(self, t, src):
        if isinstance(t, ast.Constant):
            if isinstance(t.value, (bool, int, float)):
                return self.const(t.value)
            raise KernelError(f"unsupported literal {t.value!r} in {src!r}")
        if isinstance(t, ast.Name):
            if t.id in self.env:
                return self.env[t.id]
            if t.id in ("inf", "nan"):
                return self.const(math.inf if t.id == "inf" else math.nan)
            if t.id == "rindex" and self.staged:
                n = self._add(Node("rindex", dtype=np.dtype("int64")))
                n.full = True
                return n
            raise KernelError(f"unknown name {t.id!r} in {src!r}")
        if isinstance(t, ast.UnaryOp):
            a = self.visit(t.operand, src)
            if isinstance(t.op, ast.USub):
                if a.weak:
                    return self.const(-a.value)
                return self.ufunc("negative", [a])
            if isinstance(t.op, ast.UAdd):
                return a
            if isinstance(t.op, ast.Not):
                return self.ufunc("logical_not", [a])
            raise KernelError(f"unsupported unary operator in {src!r}")
        if isinstance(t, ast.BinOp):
            op = _BINOPS.get(type(t.op))
            if op is None:
                raise KernelError(f"unsupported operator {type(t.op).__name__} in {src!r}")
            return self.ufunc(op, [self.visit(t.left, src), self.visit(t.right, src)])
        if isinstance(t, ast.Compare):
            if len(t.ops) != 1:
                raise KernelError(f"chained comparison in {src!r}")
            op = _CMPOPS.get(type(t.ops[0]))
            if op is None:
                raise KernelError(f"unsupported comparison in {src!r}")
            return self.ufunc(op, [self.visit(t.left, src), self.visit(t.comparators[0], src)])
        if isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and not t.keywords:
            fn = t.func.id
            if fn == "astype":
                if len(t.args) != 2 or not isinstance(t.args[1], ast.Constant) or \
                        t.args[1].value not in CAST_DTYPES:
                    raise KernelError(f"astype(value, dtype) needs one of {CAST_DTYPES}: "
                                      f"{src!r}")
                return self.cast(self.visit(t.args[0], src), np.dtype(t.args[1].value))
            args = [self.visit(a, src) for a in t.args]
            if fn in UFUNCS:
                return self.ufunc(UFUNCS[fn], args)
            if fn in SPECIAL:
                return self.special(fn, args)
            if fn == "where":
                return self.where(args)
            if fn in REDUCTIONS:
                return self.reduce(fn, args)
            raise KernelError(f"unknown function {fn!r} in {src!r}")
        raise KernelError(f"unsupported syntax {type(t).__name__} in {src!r}")


class Program:
    """A parsed program: ``inputs`` (input nodes in order), ``outputs`` (``(node, dtype)``
    pairs, the node cast to the declared dtype by the executor), ``nodes`` (all nodes in a
    topological order)."""

    def __init__(self, inputs, outputs, nodes, staged):
        self.inputs, self.outputs, self.nodes, self.staged = inputs, outputs, nodes, staged
        self.nodes_by_id = {n.id: n for n in nodes}

    @property
    def levels(self):
        """Number of reduction stages (0 for an elementwise program)."""
        return max((n.level for n in self.nodes if n.op in REDUCTIONS), default=0)


def parse_program(inputs, body, outputs, staged=False):
    """Parse ``body`` (``[(name, expr), ...]``) over ``inputs`` (``[(name, dtype), ...]``)
    into a typed :class:`Program` whose ``outputs`` are ``[(name, dtype), ...]``.

    Example::

        >>> p = parse_program([("x", "float32")], [("y", "tanh(x * 0.5)")], [("y", "float32")])
        >>> p.outputs[0][0].dtype
        dtype('float32')
    """
    b = _Builder(inputs, staged)
    for item in body:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], str)):
            raise KernelError(f"body entries must be (name, expression) pairs, got {item!r}")
        name, src = item
        if not name.isidentifier():
            raise KernelError(f"SSA name {name!r} is not an identifier")
        if name in b.env:
            raise KernelError(f"SSA name {name!r} assigned twice")
        node = b.expr(src)
        if node.weak:
            node = b._strong(node)
        b.env[name] = node
    outs = []
    for item in outputs:
        name, dt = item
        if name not in b.env:
            raise KernelError(f"output {name!r} is not defined by the program")
        outs.append((b.env[name], np.dtype(dt)))
    if not outs:
        raise KernelError("a kernel needs at least one output")
    ins = [b.env[item[0]] for item in inputs]
    # keep only nodes the outputs need (dead code is dropped before emitting)
    live, stack = set(), [n for n, _ in outs]
    while stack:
        n = stack.pop()
        if id(n) in live:
            continue
        live.add(id(n))
        stack.extend(n.args)
    nodes = [n for n in b.nodes if id(n) in live or n.op == "input"]
    return Program(ins, outs, nodes, staged)
