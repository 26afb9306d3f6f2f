"""Converters from op records to ONNX nodes, one per record name (opsets 13 to 20).

A converter ``fn(ctx, node) -> [onnx name per node output]`` reads the record's operands
through ``ctx.inp(k, dtype)`` (Values or numbers, cast as ONNX's same-type rule needs) and its
attributes from ``node.params``/``node.attrs``, and emits nodes with ``ctx.op``. Records with
a forward-time state output (``public=k``: batch-norm statistics, dropout masks, pooling
indices) get None for the outputs ONNX does not compute; a later use of one of those is an
error naming it.

NOTE [ Recurrent layers in ONNX ]
ember's LSTM/GRU/RNN layers trace to the input projection for all steps (``matmul`` with
``W_ih^T``, plus the biases) followed by one ``lstm_layer``/``gru_layer``/``rnn_layer``
record per layer and direction, whose input is that projection. ONNX's LSTM takes the raw
input and the weights, so the converter looks through the projection: when it is
``matmul(x, transpose(W_ih)) [+ bias]`` it exports ``LSTM(x, W_ih, W_hh, [b_ih, b_hh])``
with the gate blocks reordered from PyTorch's order (LSTM i,f,g,o -> ONNX i,o,f,c; GRU
r,z,n -> z,r,h) and the biases split between the input (W) and recurrent (R) halves
(``b_ih + b_hh`` traced as one add is split back into its two parameters). When the
projection has any other shape it is passed as the input with a gate-permutation matrix as
W, which is exact but costs one extra matmul. GRU uses ``linear_before_reset=1``, which
is PyTorch's formulation (the reset gate multiplies ``W_hn h + b_hn``).
"""

from __future__ import annotations

import math

import numpy as np

from ember.onnx._export import (INT64_MAX, INT64_MIN, OnnxExporterError, SymbolicValueError,
                                UnsupportedOperatorError, dtype_name, np_dtype, onnx_type)

CONVERTERS = {}
# Per record: the attributes its converter computes in the graph when they follow dynamic
# axes (DYN_OK), and those it does not read at all, or only as a hint (INFO). Any other
# attribute that changes with the dynamic sizes is refused (NOTE [ Dynamic axes from
# several traces ]).
DYN_OK = {}
INFO = {}


def register(*names, dyn=(), info=(), min_opset=13):
    """Register a converter for the records ``names``.

    Args:
        names: record names (``node.op.name``).
        dyn: attributes the converter computes from the dynamic sizes (``ctx.dyn_param``).
        info: attributes the converter ignores (ONNX recomputes them: input shapes, output
            sizes of pooling), which may change with the dynamic sizes in any way.
        min_opset: the first opset the converter's ONNX ops exist in.

    Example::

        >>> @register("relu")
        ... def _relu(ctx, node):
        ...     return ctx.op("Relu", [ctx.inp(0)])
    """
    def deco(fn):
        for n in names:
            CONVERTERS[n] = (fn, min_opset)
            DYN_OK[n] = set(dyn)
            INFO[n] = set(info)
        return fn
    return deco


def convert(ctx, node):
    name = node.op.name
    hit = CONVERTERS.get(name)
    if hit is None:
        raise UnsupportedOperatorError(name, ctx.opset, _why(name))
    fn, min_opset = hit
    if ctx.opset < min_opset:
        raise UnsupportedOperatorError(name, ctx.opset, f"it needs opset {min_opset} or newer")
    from ember.onnx._export import first_out

    where = f"ONNX export: {name} (%{first_out(node)})"
    for path, why in ctx.dyn.bad.get(node, {}).items():
        if not _attr_names(node, path) & INFO[name]:
            raise SymbolicValueError(f"{where}: {why}; the exported graph would only be right "
                                     "at the traced sizes")
    for path, e in ctx.dyn.params.get(node, {}).items():
        key = _attr_name(node, path)
        if not _attr_names(node, path) & (DYN_OK[name] | INFO[name]):
            raise SymbolicValueError(
                f"{where}: attribute {key} follows the dynamic axes ({e!r}) but the ONNX "
                "converter bakes it; the exported graph would only be right at the traced "
                "sizes")
    outs = fn(ctx, node)
    if not isinstance(outs, list):
        outs = [outs]
    if len(outs) < len(node.outputs):
        outs = outs + [None] * (len(node.outputs) - len(outs))
    return outs


def _attr_name(node, path):
    if path[0] == "in":
        return f"operand{path[1]}"
    names = list(node.op.named(node.params))
    return names[path[1]] if path[1] < len(names) else f"arg{path[1]}"


def _attr_names(node, path):
    """The names a rule may use for the attribute at ``path``: "size", or "arg0[4]" for
    one entry of a tuple attribute."""
    key = _attr_name(node, path)
    names = {key}
    if path[0] == "p" and len(path) > 2 and isinstance(path[2], int):
        names.add(f"{key}[{path[2]}]")
    return names


def _why(name):
    if name.endswith("backward"):
        return "backward records are not exported (export a model in eval mode, under no_grad)"
    if name.startswith("_fused") or name.startswith("_foreach"):
        return "optimizer steps are not part of an inference graph"
    return "no converter is registered for this record"


def _norm_axis(a, rank):
    return a + rank if a < 0 else a


def _axes_input(ctx, name, axes, op_type, keepdims, **extra):
    """Reduce* with ``axes``: an input from opset 18 (13 for ReduceSum), else an attribute."""
    if op_type == "ReduceSum" or ctx.opset >= 18:
        return ctx.op(op_type, [name, ctx.ints(axes) if axes is not None else None],
                      keepdims=int(keepdims), **extra)
    return ctx.op(op_type, [name], axes=list(axes) if axes is not None else None,
                  keepdims=int(keepdims), **extra)


def unsqueeze(ctx, name, axes):
    return ctx.op("Unsqueeze", [name, ctx.ints(axes)])


def squeeze(ctx, name, axes):
    return ctx.op("Squeeze", [name, ctx.ints(axes)])


def transposed(ctx, k, perm):
    """Operand ``k`` transposed by ``perm`` (at export time when it is a constant)."""
    data = ctx.constant(k)
    if data is not None:
        return ctx.const(np.transpose(data, perm).copy(),
                         f"{ctx.lazy.get(ctx.value(k), 'w')}.T")
    return ctx.op("Transpose", [ctx.inp(k)], perm=list(perm))


# ---------------------------------------------------------------------------- elementwise
_UNARY = {"abs": "Abs", "neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
          "sin": "Sin", "cos": "Cos", "tan": "Tan", "tanh": "Tanh", "sigmoid": "Sigmoid",
          "relu": "Relu", "ceil": "Ceil", "floor": "Floor", "sign": "Sign", "erf": "Erf",
          "reciprocal": "Reciprocal", "acos": "Acos", "asin": "Asin", "atan": "Atan",
          "cosh": "Cosh", "sinh": "Sinh", "asinh": "Asinh", "acosh": "Acosh",
          "atanh": "Atanh", "softsign": "Softsign", "logical_not": "Not", "isnan": "IsNaN",
          "clone": "Identity", "contiguous": "Identity"}


def _unary(op_type):
    def fn(ctx, node):
        out = ctx.out_dtype()
        src = node.inputs[0].dtype
        # float ops on integer inputs compute in the output dtype, as the record does
        x = ctx.inp(0, out if out is not None and dtype_name(out) != "bool" else None)
        if op_type == "Not":
            x = ctx.cast(ctx.inp(0), src, "bool")
        return ctx.op(op_type, [x])
    return fn


for _n, _t in _UNARY.items():
    register(_n)(_unary(_t))


@register("isinf")
def _isinf(ctx, node):
    return ctx.op("IsInf", [ctx.inp(0)])


@register("rsqrt")
def _rsqrt(ctx, node):
    return ctx.op("Reciprocal", [ctx.op("Sqrt", [ctx.inp(0, ctx.out_dtype())])])


@register("square")
def _square(ctx, node):
    x = ctx.inp(0, ctx.out_dtype())
    return ctx.op("Mul", [x, x])


@register("log1p", "expm1", "log2", "log10", "exp2")
def _log_family(ctx, node):
    dt = ctx.out_dtype()
    x = ctx.inp(0, dt)
    name = node.op.name
    if name == "log1p":
        return ctx.op("Log", [ctx.op("Add", [x, ctx.scalar(1, dt)])])
    if name == "expm1":
        return ctx.op("Sub", [ctx.op("Exp", [x]), ctx.scalar(1, dt)])
    if name == "exp2":
        return ctx.op("Pow", [ctx.scalar(2.0, dt), x])
    base = 2.0 if name == "log2" else 10.0
    return ctx.op("Div", [ctx.op("Log", [x]), ctx.scalar(math.log(base), dt)])


@register("silu")
def _silu(ctx, node):
    x = ctx.inp(0)
    return ctx.op("Mul", [x, ctx.op("Sigmoid", [x])])


@register("mish")
def _mish(ctx, node):
    x = ctx.inp(0)
    return ctx.op("Mul", [x, ctx.op("Tanh", [ctx.op("Softplus", [x])])])


@register("hardswish", min_opset=14)
def _hardswish(ctx, node):
    return ctx.op("HardSwish", [ctx.inp(0)])


@register("hardsigmoid")
def _hardsigmoid(ctx, node):
    return ctx.op("HardSigmoid", [ctx.inp(0)], alpha=1.0 / 6, beta=0.5)


@register("log_sigmoid")
def _log_sigmoid(ctx, node):
    return ctx.op("Neg", [ctx.op("Softplus", [ctx.op("Neg", [ctx.inp(0)])])])


@register("leaky_relu")
def _leaky(ctx, node):
    return ctx.op("LeakyRelu", [ctx.inp(0)], alpha=float(node.params[0]))


@register("elu")
def _elu(ctx, node):
    alpha, scale, input_scale = (float(p) for p in node.params)
    x = ctx.inp(0)
    if input_scale == 1.0:
        # SELU's formula covers ELU (gamma = 1) and SELU alike
        if scale == 1.0:
            return ctx.op("Elu", [x], alpha=alpha)
        return ctx.op("Selu", [x], alpha=alpha, gamma=scale)
    dt = ctx.out_dtype()
    neg = ctx.op("Mul", [ctx.op("Sub", [ctx.op("Exp", [ctx.op("Mul", [
        x, ctx.scalar(input_scale, dt)])]), ctx.scalar(1.0, dt)]), ctx.scalar(alpha * scale, dt)])
    pos = ctx.op("Mul", [x, ctx.scalar(scale, dt)])
    return ctx.op("Where", [ctx.op("Greater", [x, ctx.scalar(0.0, dt)]), pos, neg])


@register("hardtanh")
def _hardtanh(ctx, node):
    dt = ctx.out_dtype()
    lo, hi = node.params
    return ctx.op("Clip", [ctx.inp(0), ctx.scalar(lo, dt), ctx.scalar(hi, dt)])


@register("clamp")
def _clamp(ctx, node):
    dt = ctx.out_dtype()
    lo, hi = node.params
    return ctx.op("Clip", [ctx.inp(0, dt), None if lo is None else ctx.scalar(lo, dt),
                           None if hi is None else ctx.scalar(hi, dt)])


@register("clamp_tensor")
def _clamp_tensor(ctx, node):
    dt = ctx.out_dtype()
    which = node.params[0]
    x = ctx.inp(0, dt)
    if which == "min":
        return ctx.op("Max", [x, ctx.inp(1, dt)])
    if which == "max":
        return ctx.op("Min", [x, ctx.inp(1, dt)])
    return ctx.op("Min", [ctx.op("Max", [x, ctx.inp(1, dt)]), ctx.inp(2, dt)])


@register("lerp", "lerp_tensor")
def _lerp(ctx, node):
    # input + (end - input) * weight, the records' operation order (NOTE [ lerp as one node ])
    dt = ctx.out_dtype()
    a, b = ctx.inp(0, dt), ctx.inp(1, dt)
    w = ctx.scalar(node.params[0], dt) if node.op.name == "lerp" else ctx.inp(2, dt)
    return ctx.op("Add", [a, ctx.op("Mul", [ctx.op("Sub", [b, a]), w])])


@register("threshold")
def _threshold(ctx, node):
    dt = ctx.out_dtype()
    th, value = node.params
    x = ctx.inp(0)
    return ctx.op("Where", [ctx.op("Greater", [x, ctx.scalar(th, dt)]), x,
                            ctx.scalar(value, dt)])


@register("softplus")
def _softplus(ctx, node):
    dt = ctx.out_dtype()
    beta, threshold = (float(p) for p in node.params)
    x = ctx.inp(0)
    z = x if beta == 1.0 else ctx.op("Mul", [x, ctx.scalar(beta, dt)])
    sp = ctx.op("Softplus", [z])
    if beta != 1.0:
        sp = ctx.op("Div", [sp, ctx.scalar(beta, dt)])
    return ctx.op("Where", [ctx.op("Greater", [z, ctx.scalar(threshold, dt)]), x, sp])


@register("shrink")
def _shrink(ctx, node):
    lambd, soft = node.params
    return ctx.op("Shrink", [ctx.inp(0)], lambd=float(lambd),
                  bias=float(lambd) if soft else 0.0)


@register("gelu")
def _gelu(ctx, node):
    approx = node.params[0]
    x = ctx.inp(0)
    if ctx.opset >= 20:
        return ctx.op("Gelu", [x], approximate=approx)
    dt = ctx.out_dtype()
    if approx == "tanh":
        cube = ctx.op("Mul", [ctx.op("Mul", [x, x]), x])
        inner = ctx.op("Mul", [ctx.op("Add", [x, ctx.op("Mul", [cube, ctx.scalar(0.044715, dt)])]),
                               ctx.scalar(math.sqrt(2 / math.pi), dt)])
        t = ctx.op("Tanh", [inner])
    else:
        t = ctx.op("Erf", [ctx.op("Div", [x, ctx.scalar(math.sqrt(2.0), dt)])])
    half = ctx.op("Mul", [x, ctx.scalar(0.5, dt)])
    return ctx.op("Mul", [half, ctx.op("Add", [t, ctx.scalar(1.0, dt)])])


@register("round")
def _round(ctx, node):
    if node.params[0]:
        dt = ctx.out_dtype()
        s = ctx.scalar(10.0 ** node.params[0], dt)
        return ctx.op("Div", [ctx.op("Round", [ctx.op("Mul", [ctx.inp(0), s])]), s])
    return ctx.op("Round", [ctx.inp(0)])


@register("to_copy", "to_copy_nondiff")
def _to_copy(ctx, node):
    return ctx.op("Cast", [ctx.inp(0)], to=onnx_type(node.params[1]))


# ---------------------------------------------------------------------------- binary
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
           "maximum": "Max", "minimum": "Min"}
_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
            "ge": "GreaterOrEqual", "ne": "Equal"}
_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}


def _compute_dtype(node):
    """The dtype the operands of a comparison are promoted to (PyTorch's categories)."""
    from ember import _dtype as D
    from ember.jit._ir import Value

    vals = [x for x in node.inputs if isinstance(x, Value)]
    nums = [x for x in node.inputs if not isinstance(x, Value)]
    dt = vals[0].dtype
    for v in vals[1:]:
        dt = D.result_type_tt(dt, len(vals[0].shape) == 0, v.dtype, len(v.shape) == 0)
    for x in nums:
        dt = D.result_type_ts(dt, x)
    return dt


def _binary(op_type):
    def fn(ctx, node):
        if node.params:
            raise UnsupportedOperatorError(node.op.name, ctx.opset,
                                           f"attributes {node.params!r} are not exported")
        dt = ctx.out_dtype()
        return ctx.op(op_type, [ctx.inp(0, dt), ctx.inp(1, dt)])
    return fn


for _n, _t in _BINARY.items():
    register(_n, dyn=("operand0", "operand1"))(_binary(_t))


def _compare(op_type, negate):
    def fn(ctx, node):
        dt = _compute_dtype(node)
        r = ctx.op(op_type, [ctx.inp(0, dt), ctx.inp(1, dt)])
        return ctx.op("Not", [r]) if negate else r
    return fn


for _n, _t in _COMPARE.items():
    register(_n, dyn=("operand0", "operand1"))(_compare(_t, _n == "ne"))


def _logical(op_type):
    def fn(ctx, node):
        return ctx.op(op_type, [ctx.inp(0, "bool"), ctx.inp(1, "bool")])
    return fn


for _n, _t in _LOGICAL.items():
    register(_n)(_logical(_t))


@register("bitwise_and", "bitwise_or", "bitwise_xor")
def _bitwise(ctx, node):
    dt = ctx.out_dtype()
    kind = node.op.name.split("_")[1]
    if dtype_name(dt) == "bool":
        return ctx.op(kind.capitalize(), [ctx.inp(0, dt), ctx.inp(1, dt)])
    if ctx.opset < 18:
        raise UnsupportedOperatorError(node.op.name, ctx.opset, "integer bitwise ops need "
                                       "opset 18 or newer")
    return ctx.op("Bitwise" + kind.capitalize(), [ctx.inp(0, dt), ctx.inp(1, dt)])


@register("bitwise_not")
def _bitwise_not(ctx, node):
    dt = ctx.out_dtype()
    if dtype_name(dt) == "bool":
        return ctx.op("Not", [ctx.inp(0)])
    if ctx.opset < 18:
        raise UnsupportedOperatorError(node.op.name, ctx.opset, "integer bitwise ops need "
                                       "opset 18 or newer")
    return ctx.op("BitwiseNot", [ctx.inp(0)])


@register("remainder", "fmod")
def _remainder(ctx, node):
    dt = ctx.out_dtype()
    a, b = ctx.inp(0, dt), ctx.inp(1, dt)
    if node.op.name == "fmod":
        return ctx.op("Mod", [a, b], fmod=1)
    if dtype_name(dt).startswith(("int", "uint")):
        return ctx.op("Mod", [a, b], fmod=0)
    # Python's sign rule: a - floor(a / b) * b
    return ctx.op("Sub", [a, ctx.op("Mul", [ctx.op("Floor", [ctx.op("Div", [a, b])]), b])])


@register("floor_divide")
def _floor_divide(ctx, node):
    dt = ctx.out_dtype()
    if dtype_name(dt).startswith(("int", "uint")):
        # ONNX's integer Div truncates; floor in float64 (exact below 2**53)
        a, b = ctx.inp(0, "float64"), ctx.inp(1, "float64")
        return ctx.cast(ctx.op("Floor", [ctx.op("Div", [a, b])]), "float64", dt)
    return ctx.op("Floor", [ctx.op("Div", [ctx.inp(0, dt), ctx.inp(1, dt)])])


@register("where")
def _where(ctx, node):
    dt = ctx.out_dtype()
    return ctx.op("Where", [ctx.inp(0, "bool"), ctx.inp(1, dt), ctx.inp(2, dt)])


@register("matmul")
def _matmul(ctx, node):
    dt = ctx.out_dtype()
    return ctx.op("MatMul", [ctx.inp(0, dt), ctx.inp(1, dt)])


@register("einsum")
def _einsum(ctx, node):
    dt = ctx.out_dtype()
    ins = [ctx.inp(k, dt) for k in range(len(node.inputs))]
    return ctx.op("Einsum", ins, equation=node.params[0].replace(" ", ""))


@register("linear")
def _linear(ctx, node):
    x = node.inputs[0]
    has_b = len(node.inputs) == 3
    if len(x.shape) == 2:
        return ctx.op("Gemm", [ctx.inp(0), ctx.inp(1), ctx.inp(2) if has_b else None],
                      transB=1)
    y = ctx.op("MatMul", [ctx.inp(0), transposed(ctx, 1, (1, 0))])
    return ctx.op("Add", [y, ctx.inp(2)]) if has_b else y


# ---------------------------------------------------------------------------- shapes
@register("view", "reshape", dyn=("size", "arg0"), info=("input_shape", "arg1"))
def _reshape(ctx, node):
    size = node.params[0]
    shape = ctx.size_list(list(size), (0,), reshape=True)
    return ctx.op("Reshape", [ctx.inp(0), shape])


@register("expand", dyn=("size",))
def _expand(ctx, node):
    size = list(node.params[0])
    x = node.inputs[0]
    # Expand broadcasts: a kept dimension may be passed as 1, which is what -1 meant
    lead = len(size) - len(x.shape)
    size = [1 if i >= lead and n == x.shape[i - lead] and ctx.dyn_param((0, i)) is None
            and x.shape[i - lead] != 1 else n for i, n in enumerate(size)]
    return ctx.op("Expand", [ctx.inp(0), ctx.size_list(size, (0,))])


@register("transpose")
def _transpose(ctx, node):
    rank = len(node.inputs[0].shape)
    a, b = (_norm_axis(d, rank) for d in node.params[:2])  # the third names the node
    perm = list(range(rank))
    perm[a], perm[b] = perm[b], perm[a]
    return ctx.op("Transpose", [ctx.inp(0)], perm=perm)


@register("permute")
def _permute(ctx, node):
    rank = len(node.inputs[0].shape)
    return ctx.op("Transpose", [ctx.inp(0)], perm=[_norm_axis(d, rank) for d in node.params[0]])


@register("movedim")
def _movedim(ctx, node):
    rank = len(node.inputs[0].shape)
    src, dst = node.params
    src = [_norm_axis(a, rank) for a in (src if isinstance(src, (tuple, list)) else (src,))]
    dst = [_norm_axis(a, rank) for a in (dst if isinstance(dst, (tuple, list)) else (dst,))]
    perm = [n for n in range(rank) if n not in src]  # NumPy's moveaxis order
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    if perm == list(range(rank)):
        return ctx.op("Identity", [ctx.inp(0)])
    return ctx.op("Transpose", [ctx.inp(0)], perm=[int(p) for p in perm])


@register("cat", info=("sizes",))
def _cat(ctx, node):
    dt = ctx.out_dtype()
    rank = len(ctx.value(0).shape)
    ins = [ctx.inp(k, dt) for k in range(len(node.inputs))]
    return ctx.op("Concat", ins, axis=_norm_axis(node.params[0], rank))


@register("flip")
def _flip(ctx, node):
    rank = len(node.inputs[0].shape)
    dims = [_norm_axis(d, rank) for d in node.params[0]]
    if not dims:
        return ctx.op("Identity", [ctx.inp(0)])
    n = len(dims)
    return ctx.op("Slice", [ctx.inp(0), ctx.ints([-1] * n), ctx.ints([INT64_MIN] * n),
                            ctx.ints(dims), ctx.ints([-1] * n)])


@register("repeat", info=("self_sizes",))
def _repeat(ctx, node):
    reps = list(node.params[0])
    x = ctx.inp(0)
    rank = len(node.inputs[0].shape)
    if len(reps) > rank:
        x = unsqueeze(ctx, x, list(range(len(reps) - rank)))
    return ctx.op("Tile", [x, ctx.ints(reps)])


@register("tril", "triu", min_opset=14)
def _trilu(ctx, node):
    return ctx.op("Trilu", [ctx.inp(0), ctx.ints([node.params[0]])],
                  upper=int(node.op.name == "triu"))


@register("constant_pad_nd")
def _pad(ctx, node):
    pads, value = node.params
    rank = len(node.inputs[0].shape)
    lead = rank - len(pads)
    begins = [0] * lead + [int(a) for a, _ in pads]
    ends = [0] * lead + [int(b) for _, b in pads]
    dt = ctx.out_dtype()
    return ctx.op("Pad", [ctx.inp(0), ctx.ints(begins + ends), ctx.scalar(value, dt)],
                  mode="constant")


def _expand_key(key, rank):
    key = key if isinstance(key, tuple) else (key,)
    used = sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1
               for k in key if k is not None and k is not Ellipsis)
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (rank - used))
        else:
            out.append(k)
    if not any(k is Ellipsis for k in key):
        out.extend([slice(None)] * (rank - used))
    return out


@register("select_view", dyn=("indices",), info=("input_shape",))
def _select(ctx, node):
    """Basic indexing (ints, slices, None, ...) as Slice, Squeeze and Unsqueeze."""
    key = node.params[0]  # then input_shape and, from narrow, the node's name
    rank = len(node.inputs[0].shape)
    raw = key if isinstance(key, tuple) else (key,)
    items = _expand_key(key, rank)
    # positions of the key entries in the raw tuple (for dynamic attribute paths)
    raw_pos = []
    ell = None
    for i, k in enumerate(raw):
        if k is Ellipsis:
            ell = i
            used = sum(1 for e in raw if e is not None and e is not Ellipsis)
            raw_pos.extend([None] * (rank - used))
        else:
            raw_pos.append(i)
    if ell is None:
        raw_pos.extend([None] * (len(items) - len(raw_pos)))
    starts, ends, axes, steps, squeeze_axes, unsq = [], [], [], [], [], []
    dyn_parts = []
    axis = 0
    out_axis = 0
    for k, pos in zip(items, raw_pos):
        if k is None:
            unsq.append(out_axis)
            out_axis += 1
            continue
        path = (0,) + ((pos,) if isinstance(raw, tuple) and isinstance(key, tuple) else ())
        if isinstance(k, slice):
            if k == slice(None):
                axis += 1
                out_axis += 1
                continue
            step = 1 if k.step is None else int(k.step)
            if step > 0:
                s = 0 if k.start is None else int(k.start)
                e = INT64_MAX if k.stop is None else int(k.stop)
            else:
                s = -1 if k.start is None else int(k.start)
                e = INT64_MIN if k.stop is None else int(k.stop)
            ds = ctx.dyn_param(path + ("start",)) if pos is not None else None
            de = ctx.dyn_param(path + ("stop",)) if pos is not None else None
            dyn_parts.append((len(starts), ds, de))
            starts.append(s)
            ends.append(e)
            axes.append(axis)
            steps.append(step)
            axis += 1
            out_axis += 1
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            i = int(k)
            d = ctx.dyn_param(path) if pos is not None else None
            dyn_parts.append((len(starts), d, _expr_plus(d, 1) if d is not None else None))
            starts.append(i)
            ends.append(INT64_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze_axes.append(axis)
            axis += 1
        else:
            raise UnsupportedOperatorError("select_view", ctx.opset,
                                           f"index entry {k!r} is not basic indexing")
    y = ctx.inp(0)
    if starts:
        st = _with_dyn(ctx, starts, [(i, ds) for i, ds, _ in dyn_parts])
        en = _with_dyn(ctx, ends, [(i, de) for i, _, de in dyn_parts])
        y = ctx.op("Slice", [y, st, en, ctx.ints(axes), ctx.ints(steps)])
    if squeeze_axes:
        y = squeeze(ctx, y, squeeze_axes)
    if unsq:
        y = unsqueeze(ctx, y, unsq)
    if y == ctx.inp(0):
        y = ctx.op("Identity", [y])
    return y


def _expr_plus(e, k):
    from ember.onnx._export import Expr

    return Expr(e.coef, e.syms, e.off + k)


def _with_dyn(ctx, values, dyns):
    dyns = {i: e for i, e in dyns if e is not None}
    if not dyns:
        return ctx.ints(values)
    parts = [ctx.expr(dyns[i]) if i in dyns else ctx.ints([v]) for i, v in enumerate(values)]
    return parts[0] if len(parts) == 1 else ctx.op("Concat", parts, axis=0)


def _static_index(ctx, key, shape):
    """Flat element positions selected by ``key`` (any NumPy key) in a tensor of ``shape``."""
    pos = np.arange(math.prod(shape), dtype=np.int64).reshape(shape)
    return pos[key]


@register("index")
def _index(ctx, node):
    """Advanced indexing with a baked key: one integer/bool array among full slices is a
    Gather; anything else gathers the selected elements by their flat positions."""
    key, shape = node.params
    items = _expand_key(key, len(shape))
    arrays = [i for i, k in enumerate(items) if isinstance(k, np.ndarray)]
    x = node.inputs[0]
    if (len(arrays) == 1 and all(isinstance(k, slice) and k == slice(None)
                                 for i, k in enumerate(items) if i != arrays[0])
            and not any(k is None for k in items)):
        a = items[arrays[0]]
        if a.dtype == np.bool_:
            if a.ndim != 1:
                a = None
            else:
                a = np.nonzero(a)[0]
        if a is not None:
            return ctx.op("Gather", [ctx.inp(0), ctx.const(a.astype(np.int64), "index")],
                          axis=arrays[0])
    shp = ctx.static_shape(x, "advanced indexing")
    pos = _static_index(ctx, key, shp)
    flat = ctx.op("Reshape", [ctx.inp(0), ctx.ints([-1])])
    return ctx.op("Gather", [flat, ctx.const(pos, "index")], axis=0)


@register("take_axis")
def _take_axis(ctx, node):
    from ember.jit._ir import Value

    idx, axis = node.params[0], node.params[1]
    if isinstance(node.inputs[1] if len(node.inputs) > 1 else None, Value):
        ind = ctx.inp(1, "int64")
    else:
        ind = ctx.const(np.asarray(idx, np.int64), "index")
    return ctx.op("Gather", [ctx.inp(0), ind], axis=int(axis))


@register("index_put")
def _index_put(ctx, node):
    key, accumulate = node.params
    x = node.inputs[0]
    shp = ctx.static_shape(x, "indexed assignment")
    pos = _static_index(ctx, key, shp)
    coords = np.stack(np.unravel_index(pos, shp), -1).astype(np.int64) if shp else \
        np.zeros(pos.shape + (0,), np.int64)
    dt = ctx.out_dtype()
    upd = ctx.op("Expand", [ctx.inp(1, dt), ctx.ints(list(pos.shape))])
    return ctx.op("ScatterND", [ctx.inp(0), ctx.const(coords, "index"), upd],
                  reduction="add" if accumulate else None)


def view_chain(v):
    """(base, [view nodes from the base to ``v``]) for a Value made by view records."""
    chain = []
    while v.producer is not None and v.producer.op.view and v.producer.op.name != "expand":
        chain.append(v.producer)
        v = v.producer.inputs[0]
    return v, chain[::-1]


@register("copy_")
def _copy(ctx, node):
    """``dst.copy_(src)`` (the write of every in-place op). Into a view, the base is
    rewritten too (ScatterND at the view's element positions, found by running the view
    records on an array of positions), and later reads of the base see the new value, as
    they see the shared memory in eager."""
    dst, src = node.inputs
    y = ctx.inp(1, dst.dtype) if hasattr(src, "dtype") else ctx.scalar(src, dst.dtype)
    if getattr(src, "shape", ()) != dst.shape:
        y = ctx.op("Expand", [y, ctx.ints(list(ctx.static_shape(dst, "copy_ broadcast")))])
    base, chain = view_chain(dst)
    if chain:
        shp = ctx.static_shape(base, "an in-place write into a view")
        pos = np.arange(math.prod(shp), dtype=np.int64).reshape(shp)
        for n in chain:
            pos = np.asarray(n.op.fwd(pos, *n.params))
        coords = np.stack(np.unravel_index(pos, shp), -1).astype(np.int64) if shp else \
            np.zeros(pos.shape + (0,), np.int64)
        ctx.names[base] = ctx.op("ScatterND", [ctx.name_of(base), ctx.const(coords, "index"),
                                               y])
    return [y]


# ---------------------------------------------------------------------------- reductions
def _reduce_axes(node, dim=None, given=False):
    """The normalised reduction axes of ``node`` (its first attribute unless ``given``)."""
    rank = len(node.inputs[0].shape)
    dim = dim if given else node.params[0]
    if dim is None:
        return list(range(rank))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return [_norm_axis(d, rank) for d in dims]


@register("sum", "mean", "prod", info=("input_shape",))
def _sum(ctx, node):
    dim, keepdim, dtype, _ = node.params
    dt = ctx.out_dtype()
    x = ctx.inp(0, dt)
    op_type = {"sum": "ReduceSum", "mean": "ReduceMean", "prod": "ReduceProd"}[node.op.name]
    axes = _reduce_axes(node)
    if not axes and len(node.inputs[0].shape) == 0:
        return ctx.op("Identity", [x])
    return _axes_input(ctx, x, axes, op_type, keepdim)


@register("adaptive_avg_pool_global", info=("sizes",))
def _global_avg(ctx, node):
    # adaptive_avg_pool(x, 1): a mean over the pooled dims (NOTE [ Global average pool ])
    return _axes_input(ctx, ctx.inp(0), list(node.params[0]), "ReduceMean", True)


@register("amax", info=("input_shape",))
def _amax(ctx, node):
    _, keepdim, _, is_max = node.params
    return _axes_input(ctx, ctx.inp(0), _reduce_axes(node),
                       "ReduceMax" if is_max else "ReduceMin", keepdim)


@register("logsumexp")
def _lse(ctx, node):
    return _axes_input(ctx, ctx.inp(0), _reduce_axes(node), "ReduceLogSumExp", node.params[1])


@register("norm")
def _norm(ctx, node):
    p, dim, keepdim = node.params
    axes = _reduce_axes(node, dim, given=True)
    x = ctx.inp(0)
    if p == 2:
        return _axes_input(ctx, x, axes, "ReduceL2", keepdim)
    if p == 1:
        return _axes_input(ctx, x, axes, "ReduceL1", keepdim)
    if p == float("inf"):
        return _axes_input(ctx, ctx.op("Abs", [x]), axes, "ReduceMax", keepdim)
    raise UnsupportedOperatorError("norm", ctx.opset, f"ord={p} has no ONNX reduction")


@register("all", "any")
def _all_any(ctx, node):
    dim, keepdim = node.params
    x = ctx.cast(ctx.inp(0, "bool"), "bool", "int32")
    op_type = "ReduceMin" if node.op.name == "all" else "ReduceMax"
    axes = _reduce_axes(node, dim, given=True)
    return ctx.cast(_axes_input(ctx, x, axes, op_type, keepdim), "int32", "bool")


@register("argmax")
def _argmax(ctx, node):
    dim, keepdim, is_max = node.params
    x = ctx.inp(0)
    if dim is None:
        x = ctx.op("Reshape", [x, ctx.ints([-1])])
        dim, keepdim = 0, False
    return ctx.op("ArgMax" if is_max else "ArgMin", [x], axis=int(dim), keepdims=int(keepdim))


@register("max_dim")
def _max_dim(ctx, node):
    dim, keepdim, is_max = node.params[:3]
    rank = len(node.inputs[0].shape)
    x = ctx.inp(0)
    vals = _axes_input(ctx, x, [_norm_axis(dim, rank)], "ReduceMax" if is_max else "ReduceMin",
                       keepdim)
    idx = ctx.op("ArgMax" if is_max else "ArgMin", [x], axis=_norm_axis(dim, rank),
                 keepdims=int(keepdim))
    return [vals, idx]


@register("softmax", "log_softmax")
def _softmax(ctx, node):
    rank = len(node.inputs[0].shape)
    dt = ctx.out_dtype()
    return ctx.op("Softmax" if node.op.name == "softmax" else "LogSoftmax", [ctx.inp(0, dt)],
                  axis=_norm_axis(node.params[0], max(rank, 1)))


@register("cumsum")
def _cumsum(ctx, node):
    dim, _ = node.params
    dt = ctx.out_dtype()
    return ctx.op("CumSum", [ctx.inp(0, dt), ctx.scalar(int(dim), "int64")])


# ---------------------------------------------------------------------------- factories
def _factory(ctx, node, value):
    attrs = node.attrs
    dt = attrs["dtype"]
    size = list(attrs["size"])
    shape = ctx.size_list(size, (0,))
    return ctx.op("ConstantOfShape", [shape],
                  value=_onnx_tensor(np.array([value], np_dtype(dt))))


def _onnx_tensor(arr):
    from ember.onnx._export import _onnx

    return _onnx().numpy_helper.from_array(arr)


@register("zeros", "empty", dyn=("size",))
def _zeros(ctx, node):
    return _factory(ctx, node, 0)


@register("ones", dyn=("size",))
def _ones(ctx, node):
    return _factory(ctx, node, 1)


@register("full", dyn=("size",))
def _full(ctx, node):
    return _factory(ctx, node, node.attrs["fill_value"])


@register("arange", dyn=("length",))
def _arange(ctx, node):
    a = node.attrs
    dt = a["dtype"]
    e = ctx.dyn_param((2,))
    if e is None:
        data = (a["start"] + np.arange(a["length"], dtype=np.float64) * a["step"]).astype(
            np_dtype(dt))
        return ctx.const(data, "arange")
    n = ctx.cast(squeeze(ctx, ctx.expr(e), [0]), "int64", "float64")
    start = ctx.scalar(float(a["start"]), "float64")
    step = ctx.scalar(float(a["step"]), "float64")
    limit = ctx.op("Add", [start, ctx.op("Mul", [n, step])])
    return ctx.cast(ctx.op("Range", [start, limit, step]), "float64", dt)


# ---------------------------------------------------------------------------- nn
@register("convolution")
def _conv(ctx, node):
    s, lo, hi, d, g = node.params[0]
    w = node.inputs[1]
    ks = list(w.shape[2:])
    ins = [ctx.inp(0), ctx.inp(1)] + ([ctx.inp(2)] if len(node.inputs) == 3 else [])
    return ctx.op("Conv", ins, kernel_shape=ks, strides=list(s), pads=list(lo) + list(hi),
                  dilations=list(d), group=int(g))


@register("convolution_transpose", info=("arg0[4]",))
def _conv_t(ctx, node):
    s, lo, d, g, out = node.params[0]
    x, w = node.inputs[0], node.inputs[1]
    ks = list(w.shape[2:])
    # The output size is the natural one (from the input size) plus the layer's own
    # output_padding, so the pads and output_padding found at the traced size hold at
    # every size: ``out`` (which follows a dynamic size) is only read here.
    inp = x.shape[2:]
    hi, opad = [], []
    for i, si, di, k, a, o in zip(inp, s, d, ks, lo, out):
        natural = (i - 1) * si + di * (k - 1) + 1
        h = natural - a - o
        hi.append(max(h, 0))
        opad.append(max(-h, 0))
    ins = [ctx.inp(0), ctx.inp(1)] + ([ctx.inp(2)] if len(node.inputs) == 3 else [])
    return ctx.op("ConvTranspose", ins, kernel_shape=ks, strides=list(s),
                  pads=list(lo) + hi, dilations=list(d), group=int(g),
                  output_padding=opad if any(opad) else None)


def _ceil_mode(in_size, ks, s, p, d, out):
    floor_out = [(i + 2 * pi - di * (k - 1) - 1) // si + 1
                 for i, k, si, pi, di in zip(in_size, ks, s, p, d)]
    return int(list(out) != floor_out)


@register("max_pool", info=("output_size", "input_size"))
def _max_pool(ctx, node):
    ks, s, p, d, out, in_size = node.params
    nd = len(ks)
    if any(k in ctx.dyn.vdims.get(node.inputs[0], {}) for k in range(2, 2 + nd)):
        ceil = 0  # a dynamic spatial size: only floor mode can be checked
        if list(out) != [(i + 2 * pi - di * (k - 1) - 1) // si + 1
                         for i, k, si, pi, di in zip(in_size, ks, s, p, d)]:
            raise SymbolicValueError("ONNX export: max_pool with ceil_mode over a dynamic "
                                     "spatial size is not exported")
    else:
        ceil = _ceil_mode(in_size, ks, s, p, d, out)
    y = ctx.op("MaxPool", [ctx.inp(0)], kernel_shape=list(ks), strides=list(s),
               pads=list(p) * 2, dilations=list(d), ceil_mode=ceil)
    return [y, None]


@register("avg_pool", info=("output_size", "input_size"))
def _avg_pool(ctx, node):
    ks, s, p, out, count_include_pad, override, in_size = node.params
    if override is not None:
        raise UnsupportedOperatorError("avg_pool", ctx.opset,
                                       "divisor_override has no ONNX counterpart")
    ceil = _ceil_mode(in_size, ks, s, p, (1,) * len(ks), out)
    return ctx.op("AveragePool", [ctx.inp(0)], kernel_shape=list(ks), strides=list(s),
                  pads=list(p) * 2, ceil_mode=ceil, count_include_pad=int(count_include_pad))


@register("embedding")
def _embedding(ctx, node):
    return ctx.op("Gather", [ctx.inp(0), ctx.inp(1)], axis=0)


@register("layer_norm")
def _layer_norm(ctx, node):
    k, eps, has_w, has_b = node.params
    x = node.inputs[0]
    rank = len(x.shape)
    dt = ctx.out_dtype()
    w = ctx.inp(1) if has_w else None
    b = ctx.inp(1 + has_w) if has_b else None
    if ctx.opset >= 17:
        if w is None:
            shp = ctx.static_shape(x, "layer norm without weight", range(rank - k, rank))
            w = ctx.const(np.ones(shp[rank - k:], np_dtype(dt)), "ln_ones")
        return [ctx.op("LayerNormalization", [ctx.inp(0), w, b], axis=-k, epsilon=float(eps))]
    axes = list(range(rank - k, rank))
    xi = ctx.inp(0)
    mean = _axes_input(ctx, xi, axes, "ReduceMean", True)
    xc = ctx.op("Sub", [xi, mean])
    var = _axes_input(ctx, ctx.op("Mul", [xc, xc]), axes, "ReduceMean", True)
    y = ctx.op("Div", [xc, ctx.op("Sqrt", [ctx.op("Add", [var, ctx.scalar(float(eps), dt)])])])
    if w is not None:
        y = ctx.op("Mul", [y, w])
    if b is not None:
        y = ctx.op("Add", [y, b])
    return [y]


def _batch_stats_norm(ctx, node, eps, has_w, has_b, first_affine):
    x = node.inputs[0]
    rank = len(x.shape)
    dt = ctx.out_dtype()
    axes = [0] + list(range(2, rank))
    xi = ctx.inp(0)
    mean = _axes_input(ctx, xi, axes, "ReduceMean", True)
    xc = ctx.op("Sub", [xi, mean])
    var = _axes_input(ctx, ctx.op("Mul", [xc, xc]), axes, "ReduceMean", True)
    y = ctx.op("Div", [xc, ctx.op("Sqrt", [ctx.op("Add", [var, ctx.scalar(float(eps), dt)])])])
    shape = ctx.ints([1, -1] + [1] * (rank - 2))
    if has_w:
        y = ctx.op("Mul", [y, ctx.op("Reshape", [ctx.inp(first_affine), shape])])
    if has_b:
        y = ctx.op("Add", [y, ctx.op("Reshape", [ctx.inp(first_affine + has_w), shape])])
    return y


@register("batch_norm")
def _batch_norm(ctx, node):
    """Batch statistics (training mode, or no running statistics): the normalisation from
    ReduceMean, in the graph."""
    eps, has_w, has_b = node.params
    return [_batch_stats_norm(ctx, node, eps, has_w, has_b, 1)]


@register("batch_norm_stats")
def _batch_norm_stats(ctx, node):
    eps, _, has_w, has_b = node.params
    return [_batch_stats_norm(ctx, node, eps, has_w, has_b, 3)]


@register("native_dropout")
def _dropout(ctx, node):
    p, mask_dims, alpha = node.params
    if alpha or mask_dims is not None:
        raise UnsupportedOperatorError("native_dropout", ctx.opset,
                                       "feature and alpha dropout have no ONNX counterpart")
    y = ctx.op("Dropout", [ctx.inp(0), ctx.scalar(float(p), ctx.out_dtype()),
                           ctx.scalar(True, "bool")])
    return [y]


# ---------------------------------------------------------------------------- recurrent
_GATES = {"lstm_layer": (4, [0, 3, 1, 2]), "gru_layer": (3, [1, 0, 2]),
          "rnn_layer": (1, [0])}


def _reorder(arr, n, order):
    blocks = np.split(arr, n, axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _reorder_graph(ctx, name, hidden, n, order):
    if n == 1:
        return name
    parts = [ctx.op("Slice", [name, ctx.ints([i * hidden]), ctx.ints([(i + 1) * hidden]),
                              ctx.ints([0])]) for i in range(n)]
    return ctx.op("Concat", [parts[i] for i in order], axis=0)


def _weight(ctx, value, hidden, n, order, hint):
    """Weight/bias Value reordered into ONNX's gate order, with a leading direction axis."""
    data = ctx.known.get(value)
    if data is not None:
        return ctx.const(_reorder(data, n, order)[None], hint)
    return unsqueeze(ctx, _reorder_graph(ctx, ctx.name_of(value), hidden, n, order), [0])


def _producer(v, name):
    from ember.jit._ir import Value

    return v.producer if isinstance(v, Value) and v.producer is not None and \
        v.producer.op.name == name else None


def _split_projection(xproj):
    """Look through ``matmul(x, transpose(W)) [+ bias]`` (NOTE [ Recurrent layers in ONNX ]):
    returns (x, W, [bias Values]) or None."""
    from ember.jit._ir import Value

    biases = []
    v = xproj
    add = _producer(v, "add")
    if add is not None and all(isinstance(e, Value) for e in add.inputs):
        a, b = add.inputs
        if _producer(a, "matmul") is not None:
            v, bias = a, b
        elif _producer(b, "matmul") is not None:
            v, bias = b, a
        else:
            return None
        inner = _producer(bias, "add")
        if inner is not None and all(isinstance(e, Value) and len(e.shape) == 1
                                     for e in inner.inputs):
            biases = list(inner.inputs)
        elif len(bias.shape) == 1:
            biases = [bias]
        else:
            return None
    mm = _producer(v, "matmul")
    if mm is None or not all(isinstance(e, Value) for e in mm.inputs):
        return None
    x, wt = mm.inputs
    tr = _producer(wt, "transpose")
    if tr is None or len(wt.shape) != 2 or len(x.shape) != 3:
        return None
    return x, tr.inputs[0], biases


@register("lstm_layer", "gru_layer", "rnn_layer")
def _recurrent(ctx, node):
    name = node.op.name
    if node.params[-1] is not None:
        raise UnsupportedOperatorError(name, ctx.opset, "packed sequences (batch_sizes) are "
                                       "not exported; pad the batch instead")
    n, order = _GATES[name]
    xproj = node.inputs[0]
    hidden = xproj.shape[2] // n
    dt = ctx.out_dtype()
    if name == "lstm_layer":
        if len(node.inputs) == 5:
            raise UnsupportedOperatorError(name, ctx.opset, "LSTM with proj_size has no ONNX "
                                           "counterpart")
        h0, c0, whh = node.inputs[1], node.inputs[2], node.inputs[3]
        rbias = None
    else:
        h0, whh = node.inputs[1], node.inputs[2]
        c0 = None
        rbias = node.inputs[3] if name == "gru_layer" and len(node.inputs) == 4 else None
    split = _split_projection(xproj)
    if split is not None and name == "gru_layer" and len(split[2]) > 1:
        split = None  # a GRU's recurrent bias stays inside the recurrence
    if split is not None:
        x, wih, biases = split
        x_in = ctx.name_of(x)
        w = _weight(ctx, wih, hidden, n, order, f"{ctx.lazy.get(wih, 'W')}.onnx")
    else:
        x_in = ctx.name_of(xproj)
        perm = np.eye(n * hidden, dtype=np_dtype(dt))
        w = ctx.const(_reorder(perm, n, order)[None], f"{name}_gate_permutation")
        biases = []
    r = _weight(ctx, whh, hidden, n, order, f"{ctx.lazy.get(whh, 'R')}.onnx")
    # B = [Wb, Rb]: the input projection's bias and the recurrent one (zero where absent)
    wb = biases[0] if biases else None
    rb = biases[1] if len(biases) > 1 else rbias
    zeros = np.zeros(n * hidden, np_dtype(dt))
    parts = []
    for b in (wb, rb):
        if b is None:
            parts.append(ctx.const(zeros[None], f"{name}_zero_bias"))
        else:
            parts.append(_weight(ctx, b, hidden, n, order, f"{ctx.lazy.get(b, 'B')}.onnx"))
    if all(p in ctx.inits for p in parts):
        from ember.onnx._export import _onnx

        nh = _onnx().numpy_helper
        arrs = [nh.to_array(ctx.inits.pop(p)) for p in parts]
        bias = ctx.const(np.concatenate(arrs, axis=1), f"{name}_B")
    else:
        bias = ctx.op("Concat", parts, axis=1)
    ins = [x_in, w, r, bias, "", unsqueeze(ctx, ctx.name_of(h0), [0])]
    kw = {"hidden_size": hidden}
    if name == "lstm_layer":
        ins.append(unsqueeze(ctx, ctx.name_of(c0), [0]))
        y, yh, yc = ctx.op("LSTM", ins, n_out=3, **kw)
        return [squeeze(ctx, y, [1]), squeeze(ctx, yh, [0]), squeeze(ctx, yc, [0])]
    if name == "gru_layer":
        y, yh = ctx.op("GRU", ins, n_out=2, linear_before_reset=1, **kw)
    else:
        act = "Relu" if node.params[0] else "Tanh"
        y, yh = ctx.op("RNN", ins, n_out=2, activations=[act], **kw)
    return [squeeze(ctx, y, [1]), squeeze(ctx, yh, [0])]


def reads(node):
    """The Values a converter reads for ``node`` (what keeps their producers alive)."""
    if node.op.name in _GATES and node.params[-1] is None:
        split = _split_projection(node.inputs[0])
        if split is not None and not (node.op.name == "gru_layer" and len(split[2]) > 1):
            x, w, biases = split
            return [x, w, *biases, *node.inputs[1:]]
    return node.inputs


__all__ = ["CONVERTERS", "convert", "register", "reads", "OnnxExporterError"]


# ---------------------------------------------------------------------------- more records
@register("to_device")
def _to_device(ctx, node):
    return ctx.op("Identity", [ctx.inp(0)])  # an ONNX graph has no devices


@register("sgn")
def _sgn(ctx, node):
    return ctx.op("Sign", [ctx.inp(0)])


@register("isfinite", "isposinf", "isneginf")
def _isfinite(ctx, node):
    x = ctx.inp(0)
    if dtype_name(node.inputs[0].dtype).startswith(("int", "uint", "bool")):
        value = node.op.name == "isfinite"
        return ctx.op("Expand", [ctx.scalar(value, "bool"), ctx.op("Shape", [x])])
    if node.op.name == "isposinf":
        return ctx.op("IsInf", [x], detect_negative=0)
    if node.op.name == "isneginf":
        return ctx.op("IsInf", [x], detect_positive=0)
    return ctx.op("Not", [ctx.op("Or", [ctx.op("IsNaN", [x]), ctx.op("IsInf", [x])])])


@register("deg2rad", "rad2deg")
def _deg2rad(ctx, node):
    dt = ctx.out_dtype()
    k = math.pi / 180 if node.op.name == "deg2rad" else 180 / math.pi
    return ctx.op("Mul", [ctx.inp(0, dt), ctx.scalar(k, dt)])


@register("erfc")
def _erfc(ctx, node):
    dt = ctx.out_dtype()
    return ctx.op("Sub", [ctx.scalar(1.0, dt), ctx.op("Erf", [ctx.inp(0, dt)])])


def _trunc_of(ctx, x, dt):
    neg = ctx.op("Less", [x, ctx.scalar(0, dt)])
    return ctx.op("Where", [neg, ctx.op("Ceil", [x]), ctx.op("Floor", [x])])


@register("trunc", "frac")
def _trunc(ctx, node):
    dt = ctx.out_dtype()
    x = ctx.inp(0, dt)
    if dtype_name(dt).startswith(("int", "uint")):
        return ctx.op("Identity", [x]) if node.op.name == "trunc" else \
            ctx.op("Sub", [x, x])
    t = _trunc_of(ctx, x, dt)
    return t if node.op.name == "trunc" else ctx.op("Sub", [x, t])


@register("logit")
def _logit(ctx, node):
    dt = ctx.out_dtype()
    x = ctx.inp(0, dt)
    eps = node.inputs[1] if len(node.inputs) > 1 else (node.params[0] if node.params else None)
    if eps is not None:
        x = ctx.op("Clip", [x, ctx.scalar(float(eps), dt), ctx.scalar(1 - float(eps), dt)])
    return ctx.op("Log", [ctx.op("Div", [x, ctx.op("Sub", [ctx.scalar(1.0, dt), x])])])


@register("hypot")
def _hypot(ctx, node):
    dt = ctx.out_dtype()
    a, b = ctx.inp(0, dt), ctx.inp(1, dt)
    return ctx.op("Sqrt", [ctx.op("Add", [ctx.op("Mul", [a, a]), ctx.op("Mul", [b, b])])])


@register("atan2")
def _atan2(ctx, node):
    dt = ctx.out_dtype()
    y, x = ctx.inp(0, dt), ctx.inp(1, dt)
    zero = ctx.scalar(0.0, dt)
    r = ctx.op("Atan", [ctx.op("Div", [y, x])])
    pi = ctx.scalar(math.pi, dt)
    up = ctx.op("Add", [r, pi])
    down = ctx.op("Sub", [r, pi])
    fixed = ctx.op("Where", [ctx.op("GreaterOrEqual", [y, zero]), up, down])
    r = ctx.op("Where", [ctx.op("Less", [x, zero]), fixed, r])
    both0 = ctx.op("And", [ctx.op("Equal", [x, zero]), ctx.op("Equal", [y, zero])])
    return ctx.op("Where", [both0, zero, r])  # atan2(0, 0) = 0 (NaN from 0/0 otherwise)


@register("xlogy")
def _xlogy(ctx, node):
    dt = ctx.out_dtype()
    x, y = ctx.inp(0, dt), ctx.inp(1, dt)
    zero = ctx.scalar(0.0, dt)
    r = ctx.op("Where", [ctx.op("Equal", [x, zero]), zero,
                         ctx.op("Mul", [x, ctx.op("Log", [y])])])
    return ctx.op("Where", [ctx.op("IsNaN", [y]), y, r])


@register("heaviside")
def _heaviside(ctx, node):
    dt = ctx.out_dtype()
    a, b = ctx.inp(0, dt), ctx.inp(1, dt)
    zero = ctx.scalar(0, dt)
    step = ctx.op("Where", [ctx.op("Greater", [a, zero]), ctx.scalar(1, dt), zero])
    return ctx.op("Where", [ctx.op("Equal", [a, zero]), b, step])


@register("fmax", "fmin")
def _fmax(ctx, node):
    dt = ctx.out_dtype()
    a, b = ctx.inp(0, dt), ctx.inp(1, dt)
    m = ctx.op("Max" if node.op.name == "fmax" else "Min", [a, b])
    if not dtype_name(dt).startswith(("float", "bfloat")):
        return m
    # the NaN-ignoring forms: a NaN operand gives the other one
    return ctx.op("Where", [ctx.op("IsNaN", [a]), b,
                            ctx.op("Where", [ctx.op("IsNaN", [b]), a, m])])


@register("logaddexp")
def _logaddexp(ctx, node):
    dt = ctx.out_dtype()
    a, b = ctx.inp(0, dt), ctx.inp(1, dt)
    m = ctx.op("Max", [a, b])
    s = ctx.op("Add", [ctx.op("Exp", [ctx.op("Sub", [a, m])]),
                       ctx.op("Exp", [ctx.op("Sub", [b, m])])])
    return ctx.op("Add", [m, ctx.op("Log", [s])])


@register("sinc")
def _sinc(ctx, node):
    dt = ctx.out_dtype()
    x = ctx.inp(0, dt)
    px = ctx.op("Mul", [x, ctx.scalar(math.pi, dt)])
    r = ctx.op("Div", [ctx.op("Sin", [px]), px])
    return ctx.op("Where", [ctx.op("Equal", [x, ctx.scalar(0.0, dt)]), ctx.scalar(1.0, dt), r])


@register("roll")
def _roll(ctx, node):
    shifts, dims = node.params
    x = node.inputs[0]
    y = ctx.inp(0)
    if not dims:  # roll of the flattened tensor
        shp = ctx.static_shape(x, "roll without dims")
        flat = ctx.op("Reshape", [y, ctx.ints([-1])])
        rolled = _roll_axis(ctx, flat, math.prod(shp), shifts[0], 0)
        return ctx.op("Reshape", [rolled, ctx.ints(list(shp))])
    rank = len(x.shape)
    for s, d in zip(shifts, dims):
        d = _norm_axis(d, rank)
        n = ctx.static_shape(x, "the rolled dimension", [d])[d]
        y = _roll_axis(ctx, y, n, s, d)
    return y


def _roll_axis(ctx, y, n, s, axis):
    s = s % n if n else 0
    if not s:
        return y
    tail = ctx.op("Slice", [y, ctx.ints([n - s]), ctx.ints([n]), ctx.ints([axis])])
    head = ctx.op("Slice", [y, ctx.ints([0]), ctx.ints([n - s]), ctx.ints([axis])])
    return ctx.op("Concat", [tail, head], axis=axis)


@register("nonzero")
def _nonzero(ctx, node):
    return ctx.op("Transpose", [ctx.op("NonZero", [ctx.inp(0)])], perm=[1, 0])


@register("cross_entropy")
def _cross_entropy(ctx, node):
    ignore_index, reduction, has_w = node.params
    x, t = node.inputs[0], node.inputs[1]
    if len(t.shape) != len(x.shape) - 1:
        raise UnsupportedOperatorError("cross_entropy", ctx.opset, "class-probability "
                                       "targets are not exported (class indices only)")
    ins = [ctx.inp(0), ctx.inp(1, "int64")] + ([ctx.inp(2)] if has_w else [])
    return [ctx.op("SoftmaxCrossEntropyLoss", ins, reduction=reduction,
                   ignore_index=int(ignore_index))]


@register("nll_loss")
def _nll_loss(ctx, node):
    dt = ctx.out_dtype()
    picked = ctx.op("GatherElements", [ctx.inp(0), unsqueeze(ctx, ctx.inp(1, "int64"), [1])],
                    axis=1)
    return ctx.op("Neg", [ctx.op("Mul", [squeeze(ctx, picked, [1]), ctx.inp(2, dt)])])


@register("linspace", "logspace", "eye", "range", "tril_indices", "triu_indices",
          "bartlett_window", "blackman_window", "hamming_window", "hann_window",
          "kaiser_window")
def _constant_factory(ctx, node):
    """Factories of fixed values: computed by the record at export time."""
    import ember
    from ember._ops import core as C

    with ember.no_grad():
        t = C.dispatch(node.op, (), node.params)
    return ctx.const(np.asarray(t.detach()._data), node.op.name)
