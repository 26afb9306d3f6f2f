"""Generator of systematically wrong calls for the bad-argument sweep (tests/test_bad_args.py).

Each ``Spec`` is one valid call of a public function: its arguments are plain values, tensor
placeholders (``T``: shape, dtype, value range) and annotated arguments (``A(kind, value)``).
``calls()`` derives wrong calls from it, one argument at a time, from a vocabulary per kind:

* tensors: another dtype (int64, float64, bool, complex64), another type (str, list, a Python
  number, None, a NumPy array), another shape (last dim + 1, 0-dim, empty, one more dim), NaN
  values;
* ``dim``/``int``: str, float, bool, complex, an int beyond int64, out of range, a list;
* ``scalar``: str, list, complex, None, a huge int;
* ``bool``/``str``/``dtype``/``ints`` (sizes, strides), tensor lists and equations: the same
  idea for each;

plus an unknown keyword and one positional argument too many. Nothing here says whether a call
must fail: the test runs every call in ember and in PyTorch and compares the outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class T:
    """A tensor placeholder, made into an ember or a torch tensor at call time."""

    shape: tuple
    dtype: str = "float32"
    low: float = 0.1
    high: float = 0.9
    nan: bool = False
    req: bool = False  # requires_grad

    def array(self, rng):
        if self.dtype == "bool":
            return rng.random(self.shape) > 0.5
        if self.dtype in ("int64", "int32", "uint8"):
            return rng.integers(int(self.low), int(self.high) + 1, self.shape).astype(self.dtype)
        a = rng.uniform(self.low, self.high, self.shape)
        if self.dtype.startswith("complex"):
            a = a + 1j * rng.uniform(self.low, self.high, self.shape)
        a = a.astype(self.dtype)
        if self.nan and a.size:
            a.reshape(-1)[0] = np.nan
        return a


@dataclass(frozen=True)
class DT:
    """A dtype placeholder (``DT("float64")`` -> ``mod.float64``)."""

    name: str


@dataclass(frozen=True)
class A:
    """An argument of a given kind (the mutation vocabulary to use)."""

    kind: str
    value: Any
    ndim: int = 0  # for ``dim``: the rank of the tensor it indexes


@dataclass
class Spec:
    """One valid call: ``fn(mod)(*args, **kwargs)``; ``fn`` defaults to ``mod.<name>``."""

    name: str
    args: list
    kwargs: dict = field(default_factory=dict)
    fn: Callable | None = None
    extra: bool = True  # add the unknown-keyword and too-many-positional calls

    def target(self, mod):
        if self.fn is not None:
            return self.fn(mod)
        obj = mod
        for part in self.name.split("#")[0].split("."):
            obj = getattr(obj, part)
        return obj


def materialize(v, mod, rng):
    """Turn placeholders into ``mod``'s objects (the rng makes both modules' values equal)."""
    if isinstance(v, A):
        return materialize(v.value, mod, rng)
    if isinstance(v, T):
        t = mod.tensor(v.array(rng))
        if v.req:
            t.requires_grad_(True)
        return t
    if isinstance(v, DT):
        return getattr(mod, v.name)
    if isinstance(v, list):
        return [materialize(x, mod, rng) for x in v]
    if isinstance(v, tuple):
        return tuple(materialize(x, mod, rng) for x in v)
    if isinstance(v, dict):
        return {k: materialize(x, mod, rng) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------- vocabulary
BIG = 2 ** 63  # one past int64


def _tensor_mutations(t: T):
    out = []
    for dt in ("int64", "float64", "bool", "complex64"):
        if dt != t.dtype:
            out.append((f"dtype={dt}", T(t.shape, dt, t.low, t.high, req=t.req and dt[0] in "fc")))
    out += [("str", "x"), ("list", [0.5, 0.25]), ("number", 0.5), ("None", None),
            ("ndarray", np.full(t.shape, 0.5, np.float32))]
    if t.shape:
        out.append(("last_dim+1", T(t.shape[:-1] + (t.shape[-1] + 1,), t.dtype, t.low, t.high)))
        out.append(("0-dim", T((), t.dtype, t.low, t.high)))
        out.append(("empty", T((0,), t.dtype, t.low, t.high)))
    out.append(("rank+1", T((2,) + t.shape, t.dtype, t.low, t.high)))
    if t.dtype.startswith(("float", "complex")):
        out.append(("nan", T(t.shape, t.dtype, t.low, t.high, nan=True)))
    return out


def _mutations(a: A):
    k, v = a.kind, a.value
    if k == "dim":
        return [("str", "1"), ("float", 1.0), ("bool", True), ("complex", 1j), ("overflow", BIG),
                ("beyond", a.ndim + 3), ("below", -a.ndim - 3), ("list", [0, 0]),
                ("tuple-float", (0, 1.0)), ("int32-max", 2 ** 31)]
    if k == "dims":  # a list of dims (permute, flip)
        return [("str", "01"), ("int-for-list", 0), ("float-item", [0.0] + list(v[1:])),
                ("repeated", [0] * len(v)), ("too-few", list(v[:-1])),
                ("out-of-range", list(v[:-1]) + [a.ndim + 3]), ("overflow-item", [BIG])]
    if k == "int":
        return [("str", "2"), ("float", 2.0), ("bool", True), ("complex", 2j), ("overflow", BIG),
                ("negative", -1), ("None", None), ("list", [v, v]), ("tensor", T((), "int64", 1, 1))]
    if k == "scalar":
        return [("str", "1"), ("list", [1, 2]), ("complex", 1j), ("None", None),
                ("huge-int", 2 ** 70), ("tuple", (1.0,))]
    if k == "bool":
        return [("str", "yes"), ("int", 2), ("float", 1.0), ("None", None), ("list", [True])]
    if k == "str":
        return [("bogus", "bogus"), ("int", 1), ("None", None), ("upper", str(v).upper())]
    if k == "dtype":
        return [("str", "float32"), ("int", 5), ("python-type", float),
                ("numpy-type", np.float32)]
    if k == "ints":  # sizes, strides, paddings: int or tuple of ints
        n = len(v) if isinstance(v, (list, tuple)) else 2
        return [("str", "2"), ("str-item", (2, "2")[:n] if n > 1 else ("2",)),
                ("float", 2.0), ("float-item", (2.0,) * n), ("negative", -1),
                ("overflow", BIG), ("too-long", (1,) * (n + 2)), ("bool", True),
                ("complex", 1j)]
    if k == "shape":  # a full shape (reshape/view/zeros)
        return [("str", "6"), ("float-item", tuple(float(s) for s in v)),
                ("negative", tuple(-2 if i == 0 else s for i, s in enumerate(v))),
                ("two-minus-one", (-1, -1) + tuple(v[2:])), ("overflow", (BIG,)),
                ("wrong-numel", (7,)), ("bool-item", (True,) + tuple(v[1:]))]
    if k == "tensors":  # a list of tensors
        t0 = v[0]
        return [("empty", []), ("str-item", [v[0], "x"]), ("tensor-not-list", t0),
                ("shape-mismatch", [t0, T(t0.shape[:-1] + (t0.shape[-1] + 1,))]),
                ("rank-mismatch", [t0, T((2,) + t0.shape)]), ("None-item", [t0, None]),
                ("number-item", [t0, 1.0])]
    if k == "equation":
        return [("int", 1), ("bad-subscripts", "ij,jk"), ("too-many-operands", "i->i"),
                ("bad-char", "i#,i->"), ("mismatch", "ij,ij->i")]
    if k == "tensor":
        return _tensor_mutations(v)
    raise ValueError(f"unknown kind {k}")


def _places(spec):
    """(where, annotation) for every mutable argument: positional index or keyword name."""
    for i, v in enumerate(spec.args):
        if isinstance(v, (A, T)):
            yield i, v
    for k, v in spec.kwargs.items():
        if isinstance(v, (A, T)):
            yield k, v


def calls(specs):
    """Every wrong call: (id, spec, args, kwargs)."""
    for spec in specs:
        for where, ann in _places(spec):
            muts = _tensor_mutations(ann) if isinstance(ann, T) else _mutations(ann)
            for label, new in muts:
                args, kwargs = list(spec.args), dict(spec.kwargs)
                if isinstance(where, int):
                    args[where] = new
                else:
                    kwargs[where] = new
                yield f"{spec.name}:{where}:{label}", spec, args, kwargs
        if spec.extra:
            yield f"{spec.name}:bogus_kw", spec, list(spec.args), {**spec.kwargs, "bogus": 1}
            if not spec.kwargs:
                yield f"{spec.name}:extra_positional", spec, list(spec.args) + [{"x": 1}], {}


# --------------------------------------------------------------------------- the specs
def t(*shape, dtype="float32", low=0.1, high=0.9, req=False):
    return T(tuple(shape), dtype, low, high, req=req)


def idx(*shape, high=1):
    return T(tuple(shape), "int64", 0, high)


def dim(v, ndim=2):
    return A("dim", v, ndim)


def i(v):
    return A("int", v)


def sc(v):
    return A("scalar", v)


def b(v):
    return A("bool", v)


def s(v):
    return A("str", v)


_UNARY = ("abs acos asin atan ceil cos cosh erf erfc erfinv exp exp2 expm1 floor frac log "
          "log10 log1p log2 neg reciprocal rsqrt sigmoid sign sgn sin sinh sqrt square tan "
          "tanh trunc relu logical_not isfinite isinf isnan clone").split()
_BINARY = ("mul true_divide floor_divide remainder fmod pow atan2 maximum minimum fmax fmin "
           "eq ne lt le gt ge logical_and logical_or logical_xor").split()
_REDUCE = "sum mean amax amin logsumexp nansum".split()
_DIM_REDUCE = "argmax argmin all any prod cumsum cumprod softmax log_softmax".split()
F = "nn.functional."


def _backward(mod):
    def call(gradient):
        x = mod.ones(2, requires_grad=True)
        (x * 2).backward(gradient=gradient)
        return x.grad
    return call


def _inplace(name):  # a method call (in-place or not): x.<name>(*args, **kwargs)
    return lambda mod: lambda x, *a, **k: getattr(x, name)(*a, **k)


SPECS: list[Spec] = []
SPECS += [Spec(n, [t(2, 3)]) for n in _UNARY]
SPECS += [Spec("round", [t(2, 3)], {"decimals": i(1)}),
          Spec("nan_to_num", [t(2, 3)], {"nan": sc(0.0), "posinf": sc(1.0)}),
          Spec("bitwise_not", [idx(2, 3, high=5)])]
SPECS += [Spec(n, [t(2, 3), t(2, 3)]) for n in _BINARY]
SPECS += [Spec(n, [idx(2, 3, high=5), idx(2, 3, high=5)])
          for n in ("bitwise_and", "bitwise_or", "bitwise_xor")]
SPECS += [
    Spec("add", [t(2, 3), t(2, 3)], {"alpha": sc(2)}),
    Spec("sub", [t(2, 3), t(2, 3)], {"alpha": sc(2)}),
    Spec("div", [t(2, 3), t(2, 3)], {"rounding_mode": s("floor")}),
    Spec("lerp", [t(2, 3), t(2, 3), sc(0.3)]),
    Spec("clamp", [t(4)], {"min": sc(0.2), "max": sc(0.8)}),
    Spec("clamp#tensor", [t(4)], {"min": t(4)}),
    Spec("clamp_min", [t(4), sc(0.5)]),
    Spec("clamp_max", [t(4), sc(0.5)]),
    Spec("where", [t(2, 3, dtype="bool"), t(2, 3), t(2, 3)]),
    Spec("masked_fill", [t(2, 3), t(2, 3, dtype="bool"), sc(1.0)]),
    Spec("isclose", [t(3), t(3)], {"rtol": sc(1e-5), "atol": sc(1e-8), "equal_nan": b(False)}),
    Spec("allclose", [t(3), t(3)], {"rtol": sc(1e-5)}),
    Spec("equal", [t(3), t(3)]),
    Spec("addcmul", [t(3), t(3), t(3)], {"value": sc(0.5)}),
    Spec("addcdiv", [t(3), t(3), t(3)], {"value": sc(0.5)}),
    Spec("add_#inplace", [t(2, 3), t(2, 3)], {"alpha": sc(2)}, fn=_inplace("add_")),
    Spec("mul_#inplace", [t(2, 3), t(2, 3)], fn=_inplace("mul_")),
    Spec("clamp_#inplace", [t(4)], {"min": sc(0.2)}, fn=_inplace("clamp_")),
]
SPECS += [Spec(n, [t(2, 3)], {"dim": dim(1), "keepdim": b(False)}) for n in _REDUCE]
SPECS += [Spec("sum#dtype", [t(2, 3)], {"dim": dim(0), "dtype": A("dtype", DT("float64"))}),
          Spec("cumsum#dtype", [t(2, 3), dim(1)], {"dtype": A("dtype", DT("float64"))})]
SPECS += [Spec(n, [t(2, 3), dim(1)]) for n in _DIM_REDUCE]
SPECS += [
    Spec("max", [t(2, 3), dim(1)], {"keepdim": b(True)}),
    Spec("min", [t(2, 3), dim(1)]),
    Spec("aminmax", [t(2, 3)], {"dim": dim(1)}),
    Spec("std", [t(2, 3)], {"dim": dim(1), "correction": i(1)}),
    Spec("var", [t(2, 3)], {"dim": dim(1), "correction": i(0)}),
    Spec("std_mean", [t(2, 3)], {"dim": dim(0)}),
    Spec("var_mean", [t(2, 3)], {"dim": dim(0)}),
    Spec("norm", [t(2, 3)], {"p": sc(2), "dim": dim(1)}),
    Spec("count_nonzero", [t(2, 3)], {"dim": dim(0)}),
    Spec("topk", [t(5), i(2)], {"dim": dim(0, 1), "largest": b(True), "sorted": b(True)}),
    Spec("sort", [t(2, 3)], {"dim": dim(1), "descending": b(False)}),
    Spec("argsort", [t(2, 3)], {"dim": dim(1)}),
    Spec("kthvalue", [t(2, 3), i(1), dim(1)]),
    Spec("median", [t(2, 3), dim(1)]),
    Spec("mode", [t(2, 3), dim(1)]),
    Spec("cummax", [t(2, 3), dim(1)]),
    Spec("diff", [t(2, 3)], {"n": i(1), "dim": dim(1)}),
    Spec("quantile", [t(2, 3), sc(0.5)], {"dim": dim(1)}),
    Spec("mm", [t(2, 3), t(3, 4)]),
    Spec("bmm", [t(2, 2, 3), t(2, 3, 4)]),
    Spec("matmul", [t(2, 3), t(3, 4)]),
    Spec("mv", [t(2, 3), t(3)]),
    Spec("dot", [t(3), t(3)]),
    Spec("outer", [t(3), t(2)]),
    Spec("addmm", [t(2, 4), t(2, 3), t(3, 4)], {"beta": sc(1), "alpha": sc(1)}),
    Spec("addmv", [t(2), t(2, 3), t(3)], {"alpha": sc(2)}),
    Spec("baddbmm", [t(2, 2, 4), t(2, 2, 3), t(2, 3, 4)], {"alpha": sc(2)}),
    Spec("einsum", [A("equation", "ij,jk->ik"), t(2, 3), t(3, 4)]),
    Spec("tensordot", [t(2, 3), t(3, 4)], {"dims": i(1)}),
    Spec("reshape", [t(2, 3), A("shape", (3, 2))]),
    Spec("flatten", [t(2, 3, 2)], {"start_dim": dim(1, 3), "end_dim": dim(-1, 3)}),
    Spec("unflatten", [t(2, 6), dim(1), A("shape", (2, 3))]),
    Spec("squeeze", [t(2, 1, 3), dim(1, 3)]),
    Spec("unsqueeze", [t(2, 3), dim(1)]),
    Spec("transpose", [t(2, 3), dim(0), dim(1)]),
    Spec("permute", [t(2, 3, 4), A("dims", [2, 0, 1], 3)]),
    Spec("movedim", [t(2, 3, 4), dim(0, 3), dim(2, 3)]),
    Spec("t", [t(2, 3)]),
    Spec("narrow", [t(4, 3), dim(0), i(1), i(2)]),
    Spec("select", [t(4, 3), dim(0), i(1)]),
    Spec("split", [t(4, 3), i(2)], {"dim": dim(0)}),
    Spec("chunk", [t(4, 3), i(2)], {"dim": dim(0)}),
    Spec("tensor_split", [t(4, 3), i(2)], {"dim": dim(0)}),
    Spec("unbind", [t(4, 3), dim(1)]),
    Spec("cat", [A("tensors", [t(2, 3), t(2, 3)])], {"dim": dim(0)}),
    Spec("stack", [A("tensors", [t(2, 3), t(2, 3)])], {"dim": dim(0)}),
    Spec("hstack", [A("tensors", [t(2, 3), t(2, 3)])]),
    Spec("vstack", [A("tensors", [t(2, 3), t(2, 3)])]),
    Spec("flip", [t(2, 3), A("dims", [0, 1], 2)]),
    Spec("roll", [t(2, 3)], {"shifts": i(1), "dims": dim(1)}),
    Spec("tril", [t(3, 3)], {"diagonal": i(0)}),
    Spec("triu", [t(3, 3)], {"diagonal": i(0)}),
    Spec("diagonal", [t(3, 3)], {"offset": i(0), "dim1": dim(0), "dim2": dim(1)}),
    Spec("gather", [t(2, 3), dim(1), idx(2, 2, high=2)]),
    Spec("index_select", [t(2, 3), dim(1), idx(2, high=2)]),
    Spec("scatter_add", [t(2, 3), dim(1), idx(2, 2, high=2), t(2, 2)]),
    Spec("scatter", [t(2, 3), dim(1), idx(2, 2, high=2), t(2, 2)]),
    Spec("index_add", [t(2, 3), dim(1), idx(2, high=2), t(2, 2)], {"alpha": sc(2)}),
    Spec("masked_select", [t(2, 3), t(2, 3, dtype="bool")]),
    Spec("take", [t(2, 3), idx(2, high=5)]),
    Spec("searchsorted", [t(5, low=0, high=0), t(3)], {"right": b(False)}),
    Spec("bucketize", [t(3), t(5, low=0, high=0)]),
    Spec("bincount", [idx(5, high=3)], {"minlength": i(4)}),
    Spec("histc", [t(5)], {"bins": i(4), "min": sc(0), "max": sc(1)}),
    Spec("repeat_interleave", [t(3), i(2)], {"dim": dim(0, 1)}),
    Spec("cross", [t(2, 3), t(2, 3)], {"dim": dim(1)}),
    Spec("dist", [t(3), t(3)], {"p": sc(2)}),
    Spec("cdist", [t(2, 3), t(4, 3)], {"p": sc(2.0)}),
    Spec("trace", [t(3, 3)]),
    Spec("zeros", [A("shape", (2, 3))], {"dtype": A("dtype", DT("float64"))}),
    Spec("ones", [A("shape", (2, 3))], {"dtype": A("dtype", DT("float32"))}),
    Spec("full", [A("shape", (2, 3)), sc(1.5)]),
    Spec("empty", [A("shape", (2, 3))]),
    Spec("arange", [sc(0), sc(5), sc(1)]),
    Spec("linspace", [sc(0), sc(1), i(5)]),
    Spec("logspace", [sc(0), sc(1), i(5)]),
    Spec("eye", [i(3), i(2)]),
    Spec("zeros_like", [t(2, 3)], {"dtype": A("dtype", DT("float64"))}),
    Spec("full_like", [t(2, 3), sc(2.0)]),
    Spec("tril_indices", [i(3), i(3)], {"offset": i(0)}),
    Spec("randn", [A("shape", (2, 3))]),
    Spec("randint", [i(0), i(5), A("shape", (2, 3))]),
    Spec("multinomial", [t(4), i(2)], {"replacement": b(False)}),
    Spec("Tensor.backward", [A("tensor", t(2))], fn=_backward, extra=False),
]
for _n in ("expand", "view", "repeat", "tile", "broadcast_to"):
    _shape = (2, 3) if _n in ("repeat", "tile") else (2, 2, 3) if _n != "view" else (3, 2)
    # expand, view and repeat are methods only
    SPECS.append(Spec(_n, [t(2, 3) if _n == "view" else t(1, 3), A("shape", _shape)],
                      fn=_inplace(_n) if _n in ("expand", "view", "repeat") else None))
SPECS += [
    Spec(F + "relu", [t(2, 3)], {"inplace": b(False)}),
    Spec(F + "gelu", [t(2, 3)], {"approximate": s("none")}),
    Spec(F + "leaky_relu", [t(2, 3), sc(0.1)]),
    Spec(F + "elu", [t(2, 3)], {"alpha": sc(1.0)}),
    Spec(F + "hardtanh", [t(2, 3)], {"min_val": sc(-1.0), "max_val": sc(1.0)}),
    Spec(F + "softplus", [t(2, 3)], {"beta": sc(1.0), "threshold": sc(20.0)}),
    Spec(F + "softmax", [t(2, 3)], {"dim": dim(1)}),
    Spec(F + "log_softmax", [t(2, 3)], {"dim": dim(1)}),
    Spec(F + "linear", [t(2, 3), t(4, 3), t(4)]),
    Spec(F + "bilinear", [t(2, 3), t(2, 4), t(5, 3, 4)]),
    Spec(F + "conv1d", [t(1, 2, 6), t(3, 2, 3)], {"stride": A("ints", 1), "padding": A("ints", 0)}),
    Spec(F + "conv2d", [t(1, 2, 5, 5), t(3, 2, 3, 3), t(3)],
         {"stride": A("ints", (1, 1)), "padding": A("ints", (1, 1)),
          "dilation": A("ints", (1, 1)), "groups": i(1)}),
    Spec(F + "conv_transpose2d", [t(1, 2, 4, 4), t(2, 3, 3, 3)], {"stride": A("ints", 2)}),
    Spec(F + "max_pool2d", [t(1, 2, 4, 4), A("ints", 2)], {"stride": A("ints", 2)}),
    Spec(F + "avg_pool2d", [t(1, 2, 4, 4), A("ints", 2)], {"ceil_mode": b(False)}),
    Spec(F + "adaptive_avg_pool2d", [t(1, 2, 4, 4), A("ints", (2, 2))]),
    Spec(F + "layer_norm", [t(2, 3), A("ints", (3,))], {"eps": sc(1e-5)}),
    Spec(F + "group_norm", [t(2, 4, 3), i(2)], {"eps": sc(1e-5)}),
    Spec(F + "batch_norm", [t(4, 3), t(3), t(3)], {"training": b(True), "momentum": sc(0.1)}),
    Spec(F + "normalize", [t(2, 3)], {"p": sc(2.0), "dim": dim(1)}),
    Spec(F + "dropout", [t(2, 3)], {"p": sc(0.5), "training": b(True)}),
    Spec(F + "embedding", [idx(2, 3, high=4), t(5, 3)], {"padding_idx": i(0)}),
    Spec(F + "one_hot", [idx(4, high=3)], {"num_classes": i(4)}),
    Spec(F + "pad", [t(2, 3), A("ints", (1, 1))], {"mode": s("constant"), "value": sc(0.0)}),
    Spec(F + "interpolate", [t(1, 2, 4, 4)], {"scale_factor": sc(2.0), "mode": s("nearest")}),
    Spec(F + "cross_entropy", [t(4, 3), idx(4, high=2)],
         {"reduction": s("mean"), "ignore_index": i(-100), "label_smoothing": sc(0.0)}),
    Spec(F + "nll_loss", [t(4, 3), idx(4, high=2)], {"reduction": s("sum")}),
    Spec(F + "mse_loss", [t(4, 3), t(4, 3)], {"reduction": s("mean")}),
    Spec(F + "l1_loss", [t(4, 3), t(4, 3)], {"reduction": s("sum")}),
    Spec(F + "smooth_l1_loss", [t(4, 3), t(4, 3)], {"beta": sc(1.0)}),
    Spec(F + "binary_cross_entropy", [t(4), t(4)], {"reduction": s("mean")}),
    Spec(F + "binary_cross_entropy_with_logits", [t(4), t(4)], {"pos_weight": t(4)}),
    Spec(F + "kl_div", [t(4), t(4)], {"reduction": s("batchmean"), "log_target": b(False)}),
    Spec(F + "cosine_similarity", [t(2, 3), t(2, 3)], {"dim": dim(1), "eps": sc(1e-8)}),
    Spec(F + "pairwise_distance", [t(2, 3), t(2, 3)], {"p": sc(2.0)}),
    Spec(F + "grid_sample", [t(1, 1, 3, 3), t(1, 2, 2, 2)],
         {"mode": s("bilinear"), "padding_mode": s("zeros"), "align_corners": b(False)}),
]
