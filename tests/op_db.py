"""The op table driving tests/test_ops.py: one ``OpInfo`` per public op.

An entry says how to call the op (``op(mod, *args, **kwargs)`` with ``mod`` being ``ember``
or ``torch``, plus whether ``Tensor.<name>`` and ``Tensor.<name>_`` exist and whether it
takes ``out=``), which dtypes it supports, how to build sample inputs, a NumPy/SciPy reference,
its differentiability, its error inputs and its tolerances.

Samples hold NumPy arrays (and Python scalars, dtypes, index keys); the tests turn every array
into an ember tensor (and a torch tensor for the oracle comparison) right before the call, so
each call gets fresh memory. Shapes are tiny on purpose: the whole table must run in about a
minute on two cores.

An entry states what it does not support in ``skips`` (test name -> reason), never in a list
kept elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy import special

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
I64, I32, U8, BOOL = np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.uint8), np.dtype(bool)
FLOATS = (F32, F64)
FLOAT_INT = (F32, F64, I64, I32)
ALL = (F32, F64, I64, I32, BOOL)
INT_BOOL = (I64, I32, U8, BOOL)
INF = float("inf")


# =============================================================================== records
@dataclass
class SampleInput:
    """One call: ``op(input, *args, **kwargs)``; arrays become tensors at call time.

    ``grad=False`` excludes the sample from finite-difference checks (e.g. it sits on a
    kink or holds NaN); ``inplace=False`` excludes it from the in-place comparison.
    """

    input: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    desc: str = ""
    grad: bool = True
    inplace: bool = True

    def __repr__(self):
        def fmt(v):
            if isinstance(v, np.ndarray):
                nc = "" if v.flags.c_contiguous else ",nc"
                return f"{v.dtype}{list(v.shape)}{nc}"
            if isinstance(v, (list, tuple)):
                return type(v)(fmt(x) for x in v)
            return repr(v)

        return (f"Sample({self.desc}: {fmt(self.input)}, {fmt(self.args)}, "
                f"{ {k: fmt(v) for k, v in self.kwargs.items()} })")


@dataclass
class ErrorInput:
    """A call that must raise ``exc`` (PyTorch's exception type) matching ``match``."""

    sample: SampleInput
    exc: type
    match: str


@dataclass
class OpInfo:
    """How to call, check and differentiate one op (see the module docstring)."""

    name: str  # unique id; the public name is the part before the first '.'
    ref: Callable | None = None  # NumPy reference on arrays: ref(input, *args, **kwargs)
    sample_inputs: Callable | None = None  # (dtype, rng) -> list[SampleInput]
    op: Callable | None = None  # op(mod, input, *args, **kwargs); default mod.<fn_name>
    dtypes: tuple = FLOATS
    method: bool = True  # Tensor.<fn_name> exists
    inplace: bool = False  # Tensor.<fn_name>_ exists
    supports_out: bool = False
    differentiable: bool = True
    gradgrad: bool = False
    # Result dtype per PyTorch's rules: "same" (the input's), "promote" (of all array and
    # scalar operands), "float" (promote, then integers -> the default float), "bool",
    # "int64", "sum" (integers -> int64), "ref" (the reference's own dtype) or a callable
    # sample -> np.dtype.
    dtype_rule: Any = "same"
    error_inputs: Callable | None = None  # () -> list[ErrorInput]
    atol: dict = field(default_factory=dict)  # dtype -> atol override
    rtol: dict = field(default_factory=dict)
    skips: dict = field(default_factory=dict)  # test name -> reason (entry-local)

    @property
    def fn_name(self):
        return self.name.split(".")[0]

    def __post_init__(self):
        if self.op is None:
            n = self.fn_name
            self.op = lambda mod, *a, **k: getattr(mod, n)(*a, **k)

    def tols(self, dtype):
        dtype = np.dtype(dtype)
        atol, rtol = {F32: (1e-5, 1e-5), F64: (1e-10, 1e-7)}.get(dtype, (0, 0))
        return self.atol.get(dtype, atol), self.rtol.get(dtype, rtol)


# =============================================================================== dtype rules
def _category(dt):
    return {"b": 0, "i": 1, "u": 1, "f": 2}[np.dtype(dt).kind]


def promote_pair(a, b):
    """PyTorch's promote_types for bool/int/float: a higher category wins outright."""
    a, b = np.dtype(a), np.dtype(b)
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def torch_result_type(*operands):
    """PyTorch's result_type: dimensioned tensors, then 0-dim tensors, then Python scalars;
    a lower-priority group only matters when it brings a higher category."""
    groups = [None, None, None]
    for o in operands:
        if isinstance(o, np.ndarray):
            g, dt = (0 if o.ndim else 1), o.dtype
        elif isinstance(o, bool):
            g, dt = 2, BOOL
        elif isinstance(o, int):
            g, dt = 2, I64
        elif isinstance(o, float):
            g, dt = 2, F32  # a wrapped Python float takes the default dtype
        else:
            continue
        groups[g] = dt if groups[g] is None else promote_pair(groups[g], dt)

    def combine(hi, lo):
        if hi is None:
            return lo
        if lo is None:
            return hi
        if _category(hi) == 2:
            return hi
        if hi == BOOL or _category(lo) == 2:
            return promote_pair(hi, lo)
        return hi

    return combine(combine(groups[0], groups[1]), groups[2])


def operands(s):
    """The array/scalar operands of a sample, in order (lists of arrays flattened)."""
    out = []
    for v in (s.input, *s.args):
        out.extend(v if isinstance(v, (list, tuple)) else [v])
    return out


def expected_dtype(info, s):
    """The dtype PyTorch gives ``info``'s result on sample ``s`` (None: the reference's)."""
    rule = info.dtype_rule
    if callable(rule):
        return np.dtype(rule(s))
    x = s.input[0] if isinstance(s.input, (list, tuple)) else s.input
    if rule == "same":
        return x.dtype
    if rule == "promote":
        return torch_result_type(*operands(s))
    if rule == "float":
        dt = torch_result_type(*operands(s))
        return dt if _category(dt) == 2 else F32
    if rule == "bool":
        return BOOL
    if rule == "int64":
        return I64
    if rule == "sum":
        if "dtype" in s.kwargs:
            return np.dtype(s.kwargs["dtype"])
        return I64 if _category(x.dtype) < 2 else x.dtype
    if rule == "ref":
        return None
    raise ValueError(rule)


# =============================================================================== makers
def noncontiguous(a):
    """The same values in a strided layout: every other element of a larger buffer whose
    gaps hold garbage, so a kernel reading the wrong elements shows."""
    a = np.asarray(a)
    buf = np.empty(a.shape + (2,), a.dtype)
    buf[..., 0] = a
    buf[..., 1] = 1 if a.dtype.kind == "b" else 77
    return buf[..., 0]


def make(shape, dtype, rng, low=-3.0, high=3.0, *, nc=False, t=False, avoid_zero=False):
    """A random array; ``nc``: strided layout; ``t``: a transposed (F-ordered) layout."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    if t:
        return make(shape[::-1], dtype, rng, low, high, avoid_zero=avoid_zero).T
    if dtype.kind == "b":
        a = rng.random(shape) < 0.5
    elif dtype.kind in "iu":
        lo, hi = math.ceil(low), math.floor(high)
        if dtype.kind == "u":
            lo = max(lo, 0)
        a = rng.integers(lo, hi + 1, size=shape).astype(dtype)
        if avoid_zero:
            a[a == 0] = hi if hi != 0 else 1
    else:
        a = rng.uniform(low, high, size=shape).astype(dtype)
        if avoid_zero:
            a = np.where(np.abs(a) < 0.25, np.copysign(0.5, a), a).astype(dtype)
    a = np.asarray(a)
    return noncontiguous(a) if nc else a


def _other_dtype(dtype):
    """A second dtype to mix with ``dtype`` in promotion samples."""
    return {F32: F64, F64: F32, I64: I32, I32: I64, U8: I64, BOOL: I64}[np.dtype(dtype)]


# =============================================================================== samples
def unary_samples(low=-3.0, high=3.0, avoid_zero=False, **kw):
    """Samples for an elementwise unary op on the domain [low, high]."""

    def gen(dtype, rng):
        def m(shape, **k):
            return make(shape, dtype, rng, low, high, avoid_zero=avoid_zero, **k)

        return [SampleInput(m(()), kwargs=dict(kw), desc="0-d"),
                SampleInput(m((0,)), kwargs=dict(kw), desc="empty"),
                SampleInput(m((2, 0, 3)), kwargs=dict(kw), desc="empty-3d"),
                SampleInput(m((5,)), kwargs=dict(kw), desc="1-d"),
                SampleInput(m((2, 3)), kwargs=dict(kw), desc="2-d"),
                SampleInput(m((2, 3), t=True), kwargs=dict(kw), desc="transposed"),
                SampleInput(m((3, 2), nc=True), kwargs=dict(kw), desc="strided")]

    return gen


_BINARY_SHAPES = [((2, 3), (2, 3), "same"), ((), (), "0-d"), ((2, 3), (), "tensor-0d"),
                  ((), (2, 3), "0d-tensor"), ((2, 1), (1, 3), "broadcast-both"),
                  ((2, 3), (3,), "broadcast-rhs"), ((0, 3), (3,), "empty"),
                  ((1, 3), (2, 1), "broadcast-lhs")]


def binary_samples(low=-3.0, high=3.0, rlow=None, rhigh=None, avoid_zero_rhs=False,
                   scalars=(2.5, 2), mixed=True, int_scalars_only=False, **kw):
    """Samples for an elementwise binary op: equal shapes, 0-d, broadcasting, empty,
    non-contiguous, Python scalars and mixed dtypes (type promotion)."""
    rlow = low if rlow is None else rlow
    rhigh = high if rhigh is None else rhigh

    def gen(dtype, rng):
        def a(shape, dt=dtype, **k):
            return make(shape, dt, rng, low, high, **k)

        def b(shape, dt=dtype, **k):
            return make(shape, dt, rng, rlow, rhigh, avoid_zero=avoid_zero_rhs, **k)

        out = [SampleInput(a(sa), (b(sb),), dict(kw), desc=d) for sa, sb, d in _BINARY_SHAPES]
        out.append(SampleInput(a((2, 3), t=True), (b((2, 3), nc=True),), dict(kw),
                               desc="noncontig"))
        for sc in scalars:
            if int_scalars_only and isinstance(sc, float):
                continue
            out.append(SampleInput(a((2, 3)), (sc,), dict(kw), desc=f"scalar-{sc!r}"))
        if mixed:
            o = _other_dtype(dtype)
            out.append(SampleInput(a((2, 3)), (b((2, 3), o),), dict(kw), desc=f"mixed-{o}"))
            out.append(SampleInput(a((2, 3)), (b((), o),), dict(kw), desc=f"mixed-0d-{o}"))
        return out

    return gen


def binary_errors(name, shape_msg=True, dtype=F32):
    def gen():
        rng = np.random.default_rng(0)
        errs = []
        if shape_msg:
            errs.append(ErrorInput(SampleInput(make((2, 3), dtype, rng),
                                               (make((4,), dtype, rng),)),
                                   RuntimeError,
                                   r"size of tensor a \(3\) must match the size of tensor b "
                                   r"\(4\) at non-singleton dimension 1"))
        errs.append(ErrorInput(SampleInput("a", (make((2,), dtype, rng),)), TypeError,
                               rf"{name}\(\).*str"))
        return errs

    return gen


def unary_errors(name):
    def gen():
        return [ErrorInput(SampleInput([1.0, 2.0]), TypeError,
                           rf"{name}\(\): argument 'input' .*must be Tensor, not list")]

    return gen


def reduction_samples(dims=True, tuple_dims=True, kw_extra=(), low=-3.0, high=3.0,
                      empty=True, scalar_dim=True):
    """Samples for a reduction: full, by dim (negative, tuple), keepdim, 0-d and empty."""

    def gen(dtype, rng):
        def m(shape, **k):
            return make(shape, dtype, rng, low, high, **k)

        out = [SampleInput(m((2, 3)), desc="full"), SampleInput(m(()), desc="0-d-full")]
        if empty:
            out.append(SampleInput(m((0,)), desc="empty-full"))
        if dims:
            out += [SampleInput(m((2, 3)), (1,), desc="dim"),
                    SampleInput(m((2, 3, 2)), (-2,), {"keepdim": True}, desc="keepdim"),
                    SampleInput(m((3, 2), t=True), (0,), desc="transposed"),
                    SampleInput(m((2, 3), nc=True), (1,), desc="strided")]
            if scalar_dim:
                out.append(SampleInput(m(()), (0,), desc="0-d-dim"))
            if empty:
                out.append(SampleInput(m((0, 3)), (1,), desc="empty-dim"))
            if tuple_dims:
                out += [SampleInput(m((2, 3, 2)), ((0, 2),), desc="dims"),
                        SampleInput(m((2, 3, 2)), ((-1, 0),), {"keepdim": True},
                                    desc="dims-keepdim")]
        for k in kw_extra:
            out.append(SampleInput(m((2, 3)), (), dict(k), desc=f"kw-{k}"))
        return out

    return gen


def _dim_kwargs(kw):
    """Map a positional reduction sample to NumPy's axis/keepdims."""
    dim = kw.get("dim")
    if isinstance(dim, list):
        dim = tuple(dim)
    return dim, kw.get("keepdim", False)


def red_ref(np_fn, **extra):
    """Reference for ``op(x, dim=None, keepdim=False)`` given a NumPy reduction."""

    def ref(x, dim=None, keepdim=False, **kw):
        if dim == () or dim == []:
            dim = None
        if isinstance(dim, list):
            dim = tuple(dim)
        if x.ndim == 0 and dim is not None:
            dim = None
        kw.pop("dtype", None)
        return np.asarray(np_fn(x, axis=dim, keepdims=keepdim, **extra, **kw))

    return ref


# =============================================================================== references
def _sigmoid(x):
    return special.expit(x)


def _sign_ref(x):
    return x.copy() if x.dtype == BOOL else np.sign(x)


def _frac(x):
    return x - np.trunc(x)


def _div_trunc(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        q = np.abs(a) // np.abs(b)
        return np.where((a < 0) != (b < 0), -q, q)
    return np.trunc(np.true_divide(a, b))


def _pow_ref(a, b):
    with np.errstate(all="ignore"):
        if isinstance(a, (int, float)):
            a = np.asarray(a, dtype=np.asarray(b).dtype)
        return np.power(a, b)


def _clamp_ref(x, min=None, max=None):
    r = x
    if min is not None:
        r = np.maximum(r, min)
    if max is not None:
        r = np.minimum(r, max)
    return r


def _lerp_ref(a, b, w):
    return a + w * (b - a)


def _var_ref(x, dim=None, unbiased=None, keepdim=False, *, correction=None, std=False):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    corr = correction if correction is not None else (0 if unbiased is False else 1)
    if dim is not None and x.ndim == 0:
        dim = None
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    with np.errstate(all="ignore"):
        v = np.sum((x - x.mean(axis=axis, keepdims=True)) ** 2, axis=axis, keepdims=keepdim)
        v = v / max(n - corr, 0)
    return np.sqrt(v) if std else v


def _norm_ref(x, p="fro", dim=None, keepdim=False):
    p = 2 if p == "fro" else p
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    a = np.abs(x)
    if p == INF:
        r = np.max(a, axis=axis, keepdims=keepdim)
    elif p == 1:
        r = np.sum(a, axis=axis, keepdims=keepdim)
    else:
        r = np.sum(a ** p, axis=axis, keepdims=keepdim) ** (1 / p)
    return np.asarray(r, dtype=x.dtype)


def _softmax_ref(x, dim, dtype=None):
    if dtype is not None:
        x = x.astype(dtype)
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax_ref(x, dim, dtype=None):
    if dtype is not None:
        x = x.astype(dtype)
    if x.size == 0:
        return x.copy()
    return x - special.logsumexp(x, axis=dim if x.ndim else None, keepdims=x.ndim > 0)


def _max_dim_ref(np_arg, np_red):
    def ref(x, dim, keepdim=False):
        if x.ndim == 0:
            return x.copy(), np.zeros((), I64)
        idx = np_arg(x, axis=dim, keepdims=keepdim).astype(I64)
        return np.asarray(np_red(x, axis=dim, keepdims=keepdim)), idx

    return ref


def _arg_ref(np_arg):
    def ref(x, dim=None, keepdim=False):
        if x.ndim == 0:
            return np.zeros((), I64)
        if dim is None:
            r = np.asarray(np_arg(x.reshape(-1)), I64)
            return r.reshape((1,) * x.ndim) if keepdim else r
        return np.asarray(np_arg(x, axis=dim, keepdims=keepdim), I64)

    return ref


def _sample_dtype_kw(s, default):
    return np.dtype(s.kwargs["dtype"]) if "dtype" in s.kwargs else default(s)


def _split_ref(x, split, dim=0):
    n = x.shape[dim]
    if isinstance(split, int):
        bounds = list(range(split, n, split))
    else:
        bounds = list(np.cumsum(split)[:-1])
    return tuple(np.split(x, bounds, axis=dim))


def _chunk_ref(x, chunks, dim=0):
    n = x.shape[dim]
    size = -(-n // chunks)
    return _split_ref(x, max(size, 1), dim)


def _tensor_split_ref(x, sections, dim=0):
    return tuple(np.array_split(x, sections, axis=dim))


def _hstack_ref(ts):
    return np.hstack(ts)


def _einsum_ref(eq, *ops):
    return np.einsum(eq, *ops)


def _index_ref(x, key):
    return x[key]


def _index_put_ref(x, key, v, accumulate=False):
    y = x.copy()
    if accumulate:
        np.add.at(y, key, v)
    else:
        y[key] = v
    return y


def _setitem_op(mod, x, key, v):
    y = x.clone()
    y[key] = v
    return y


def _addmm_ref(inp, a, b, beta=1, alpha=1):
    p = alpha * (a @ b)
    return p if beta == 0 else p + beta * inp


def _addmv_ref(inp, a, v, beta=1, alpha=1):
    p = alpha * (a @ v)
    return p if beta == 0 else p + beta * inp


def _baddbmm_ref(inp, a, b, beta=1, alpha=1):
    p = alpha * np.matmul(a, b)
    return p if beta == 0 else p + beta * inp


def _unflatten_ref(x, dim, sizes):
    d = dim % x.ndim
    sizes = list(sizes)
    if -1 in sizes:
        k = int(np.prod([s for s in sizes if s != -1]))
        sizes[sizes.index(-1)] = x.shape[d] // k
    return x.reshape(x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def _squeeze_ref(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if x.ndim == 0:
        return x
    dims = tuple(d % x.ndim for d in dims if x.shape[d % x.ndim] == 1)
    return np.squeeze(x, axis=dims)


def _expand_ref(x, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], tuple):
        sizes = sizes[0]
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return np.broadcast_to(x, shape)


def _narrow_ref(x, dim, start, length):
    if start < 0:
        start += x.shape[dim]
    return np.take(x, range(start, start + length), axis=dim)


def _roll_ref(x, shifts, dims=None):
    if dims is None:
        return np.roll(x.reshape(-1), shifts).reshape(x.shape)
    return np.roll(x, shifts, dims)


def _repeat_ref(x, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], tuple):
        sizes = sizes[0]
    return np.tile(x, sizes)


def _flatten_ref(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:]) if x.size else \
        x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


def _cat_ref(ts, dim=0):
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = promote_pair(dt, t.dtype)
    ts = [t for t in ts if not (t.ndim == 1 and t.size == 0)] or ts[:1]
    return np.concatenate([t.astype(dt) for t in ts], axis=dim)


def _amax_tie_sample(dtype, rng):
    """An input with two-way ties (max and min), where the gradient is split evenly."""
    x = make((2, 3), dtype, rng, -1, 1)
    x[0, 0] = x[0, 2] = 5
    x[1, 1] = x[1, 2] = -5
    return x


# =============================================================================== the table
def _mp_ref(name, fallback):
    """An mpmath reference for a special function (evaluated at 30 digits), so the table does
    not check ember against the same SciPy call ember makes; ``fallback`` without mpmath.
    Points outside the function's domain give NaN, as the float functions do."""
    try:
        import mpmath
    except ImportError:
        return fallback
    f = getattr(mpmath, name)

    def one(v):
        if math.isnan(v):
            return math.nan
        try:
            with mpmath.workdps(30):
                r = f(mpmath.mpf(v))
        except (ValueError, ZeroDivisionError):
            return math.nan
        return math.nan if isinstance(r, mpmath.mpc) else float(r)

    def ref(x):
        x = np.asarray(x)
        out = np.array([one(float(v)) for v in x.reshape(-1)], dtype=np.float64)
        return out.reshape(x.shape)

    ref.__name__ = f"mpmath_{name}"
    return ref


def _unary(name, ref, low=-3.0, high=3.0, dtypes=FLOAT_INT, gradgrad=False, rule="float",
           inplace=True, differentiable=True, avoid_zero=False, atol=None, rtol=None,
           skips=None, **kw):
    return OpInfo(name, ref=ref, sample_inputs=unary_samples(low, high, avoid_zero),
                  dtypes=dtypes, inplace=inplace, supports_out=True, gradgrad=gradgrad,
                  differentiable=differentiable, dtype_rule=rule,
                  error_inputs=unary_errors(name.split(".")[0]), atol=atol or {},
                  rtol=rtol or {}, skips=skips or {}, **kw)


def _binary(name, ref, dtypes=FLOAT_INT, rule="promote", gradgrad=False, differentiable=True,
            errors=None, skips=None, atol=None, **samples_kw):
    return OpInfo(name, ref=ref, sample_inputs=binary_samples(**samples_kw), dtypes=dtypes,
                  inplace=True, supports_out=True, gradgrad=gradgrad,
                  differentiable=differentiable, dtype_rule=rule,
                  error_inputs=errors or binary_errors(name.split(".")[0]),
                  skips=skips or {}, atol=atol or {})


def _cmp(name, ref, scalars=(2.5, 2)):
    return _binary(name, ref, dtypes=ALL, rule="bool", differentiable=False, scalars=scalars)


def _ints_errors(name):
    def gen():
        rng = np.random.default_rng(0)
        return binary_errors(name, dtype=I64)() + [ErrorInput(
            SampleInput(make((2,), F32, rng), (make((2,), F32, rng),)), NotImplementedError,
            rf"{name}.* not implemented for 'Float'")]

    return gen


def _zero_div_errors(name):
    def gen():
        return binary_errors(name)() + [ErrorInput(
            SampleInput(np.array([1, 2]), (np.array([1, 0]),)), RuntimeError,
            "ZeroDivisionError")]

    return gen


OP_DB: list[OpInfo] = []
_reg = OP_DB.append

# ------------------------------------------------------------------ binary arithmetic
_reg(_binary("add", lambda a, b, alpha=1: np.add(a, np.multiply(b, alpha)), gradgrad=True))
_reg(OpInfo("add.alpha", ref=lambda a, b, alpha=1: a + alpha * b,
           sample_inputs=binary_samples(alpha=2, mixed=False, scalars=()), dtypes=FLOAT_INT,
           inplace=True, supports_out=True, dtype_rule="promote"))
_reg(_binary("sub", lambda a, b: np.subtract(a, b), gradgrad=True,
            errors=lambda: binary_errors("sub")() + [ErrorInput(
                SampleInput(np.array([True]), (np.array([False]),)), RuntimeError,
                r"Subtraction, the `-` operator, with two bool tensors is not supported")]))
_reg(OpInfo("sub.alpha", ref=lambda a, b, alpha=1: a - alpha * b,
           sample_inputs=binary_samples(alpha=-1.5, mixed=False, scalars=()), dtypes=FLOATS,
           inplace=True, supports_out=True, dtype_rule="promote"))
_reg(_binary("mul", np.multiply, dtypes=ALL, gradgrad=True))
_reg(_binary("div", np.true_divide, rule="float", gradgrad=True, rlow=0.5, rhigh=3,
            avoid_zero_rhs=True))
_reg(OpInfo("div.by_zero", ref=np.true_divide, dtypes=FLOATS, inplace=True, supports_out=True,
           dtype_rule="float", differentiable=False,
           sample_inputs=lambda dt, rng: [SampleInput(np.array([1.0, -1.0, 0.0], dt),
                                                      (np.zeros(3, dt),), desc="inf-nan")]))
_reg(OpInfo("div.floor", ref=lambda a, b, rounding_mode: np.floor_divide(a, b),
           sample_inputs=binary_samples(rounding_mode="floor", rlow=-3, rhigh=3,
                                        avoid_zero_rhs=True, scalars=(2,)),
           dtypes=FLOAT_INT, inplace=True, supports_out=True, dtype_rule="promote",
           differentiable=False))
_reg(OpInfo("div.trunc", ref=lambda a, b, rounding_mode: _div_trunc(a, b),
           sample_inputs=binary_samples(rounding_mode="trunc", rlow=-3, rhigh=3,
                                        avoid_zero_rhs=True, scalars=(2, -2)),
           dtypes=FLOAT_INT, inplace=True, supports_out=True, dtype_rule="promote",
           differentiable=False))
_reg(_binary("true_divide", np.true_divide, rule="float", rlow=0.5, rhigh=3,
             errors=binary_errors("(true_divide|div)")))
_reg(_binary("floor_divide", np.floor_divide, differentiable=False, rlow=-3, rhigh=3,
            avoid_zero_rhs=True, scalars=(2, -2.5), errors=_zero_div_errors("floor_divide")))
_reg(_binary("remainder", np.remainder, rlow=-3, rhigh=3, avoid_zero_rhs=True,
            scalars=(2, -1.5), errors=_zero_div_errors("remainder")))
_reg(_binary("fmod", np.fmod, rlow=-3, rhigh=3, avoid_zero_rhs=True, scalars=(2, -1.5),
            errors=_zero_div_errors("fmod")))
_reg(_binary("pow", _pow_ref, dtypes=FLOATS, low=0.5, high=2.0, rlow=-2, rhigh=2,
             scalars=(2, 0.5, -1.5), gradgrad=True,
            errors=lambda: binary_errors("pow")() + [ErrorInput(
                SampleInput(np.array([2, 3]), (-1,)), RuntimeError,
                "Integers to negative integer powers are not allowed")]))


def _pow_int_samples(dtype, rng):
    # integer powers need non-negative exponents; a base tensor with zeros checks 0**0 == 1.
    return [SampleInput(make((2, 3), dtype, rng, -3, 3), (make((2, 3), dtype, rng, 0, 3),),
                        desc="int"),
            SampleInput(np.array([0, 0, 2], dtype), (np.array([0, 2, 0], dtype),),
                        desc="zeros")]


_reg(OpInfo("pow.int", ref=np.power, sample_inputs=_pow_int_samples, dtypes=(I64, I32),
           inplace=True, supports_out=True, dtype_rule="promote", differentiable=False))


def _pow_special_samples(dtype, rng):
    x = make((2, 3), dtype, rng, 0.5, 2)
    return [SampleInput(2.0, (x,), desc="scalar-base", inplace=False),
            SampleInput(make((2, 3), dtype, rng, -2, 2), (2,), desc="neg-base-square"),
            SampleInput(make((2, 3), dtype, rng, -2, 2), (3.0,), desc="neg-base-cube"),
            SampleInput(np.array([0.0, 1.5, 0.0], dtype), (2.0,), desc="zero-base"),
            SampleInput(np.array([0.0, 1.5, 2.0], dtype), (np.array([2.0, 0.0, 1.0], dtype),),
                        desc="zero-base-tensor-exp"),
            SampleInput(make((2, 3), dtype, rng, 0.5, 2), (0,), desc="exp-zero")]


_reg(OpInfo("pow.special", ref=_pow_ref, sample_inputs=_pow_special_samples, inplace=True,
           supports_out=True, dtype_rule="promote", gradgrad=True,
           op=lambda mod, a, *args, **kw: mod.pow(a, *args, **kw)))
_reg(_binary("maximum", np.maximum, dtypes=ALL, scalars=(), gradgrad=True,
            errors=binary_errors("maximum")))
_reg(_binary("minimum", np.minimum, dtypes=ALL, scalars=()))
_reg(_binary("fmax", np.fmax, scalars=()))
_reg(_binary("fmin", np.fmin, scalars=()))


def _nan_pair_samples(dtype, rng):
    a = np.array([np.nan, 1.0, np.nan, -2.0], dtype)
    b = np.array([0.5, np.nan, np.nan, 3.0], dtype)
    return [SampleInput(a, (b,), desc="nan", grad=False)]


for _n, _r in (("maximum", np.maximum), ("minimum", np.minimum), ("fmax", np.fmax),
               ("fmin", np.fmin)):
    _reg(OpInfo(f"{_n}.nan", ref=_r, sample_inputs=_nan_pair_samples, inplace=True,
               supports_out=True, dtype_rule="promote"))


def _tie_samples(dtype, rng):
    a = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]], dtype)
    b = np.array([[1.0, 0.0, 3.0], [2.0, -1.0, 1.0]], dtype)
    return [SampleInput(a, (b,), desc="ties")]


for _n, _r in (("maximum", np.maximum), ("minimum", np.minimum)):
    # Ties split the gradient evenly; central differences see exactly that for 2-way ties.
    _reg(OpInfo(f"{_n}.ties", ref=_r, sample_inputs=_tie_samples, inplace=True,
               supports_out=True, dtype_rule="promote"))
_reg(_binary("atan2", np.arctan2, rule="float", scalars=(), avoid_zero_rhs=True))

# ------------------------------------------------------------------ comparisons, logical, bitwise
for _n, _r in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
               ("gt", np.greater), ("ge", np.greater_equal), ("logical_and", np.logical_and),
               ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)):
    # torch.logical_*() take no Python scalar operand
    _reg(_cmp(_n, _r, () if _n.startswith("logical") else (2.5, 2)))


def _logical_not_samples(dtype, rng):
    return unary_samples(-1, 1)(dtype, rng)


_reg(OpInfo("logical_not", ref=np.logical_not, sample_inputs=_logical_not_samples, dtypes=ALL,
           inplace=True, supports_out=True, differentiable=False,
           dtype_rule="bool", error_inputs=unary_errors("logical_not")))
for _n, _r in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
               ("bitwise_xor", np.bitwise_xor)):
    _reg(OpInfo(_n, ref=_r, sample_inputs=binary_samples(0, 5, scalars=(3,)), dtypes=INT_BOOL,
               inplace=True, supports_out=True, differentiable=False, dtype_rule="promote",
               error_inputs=_ints_errors(_n)))
_reg(OpInfo("bitwise_not", ref=np.invert, sample_inputs=unary_samples(-5, 5), dtypes=INT_BOOL,
           inplace=True, supports_out=True, differentiable=False,
           error_inputs=lambda: unary_errors("bitwise_not")() + [ErrorInput(
               SampleInput(np.ones(2, F32)), NotImplementedError,
               "bitwise_not.* not implemented for 'Float'")]))

# ------------------------------------------------------------------ unary math
_reg(_unary("exp", np.exp, gradgrad=True))
_reg(_unary("exp2", np.exp2))
_reg(_unary("expm1", np.expm1))
_reg(_unary("log", np.log, 0.1, 3, gradgrad=True))
_reg(_unary("log2", np.log2, 0.1, 3))
_reg(_unary("log10", np.log10, 0.1, 3))
_reg(_unary("log1p", np.log1p, -0.9, 3))
_reg(_unary("sqrt", np.sqrt, 0.1, 3, gradgrad=True))
_reg(_unary("rsqrt", lambda x: 1 / np.sqrt(x), 0.2, 3))
_reg(_unary("sin", np.sin))
_reg(_unary("cos", np.cos))
_reg(_unary("tan", np.tan, -1.2, 1.2))
_reg(_unary("asin", np.arcsin, -0.9, 0.9))
_reg(_unary("acos", np.arccos, -0.9, 0.9))
_reg(_unary("atan", np.arctan))
_reg(_unary("sinh", np.sinh))
_reg(_unary("cosh", np.cosh))
_reg(_unary("tanh", np.tanh, gradgrad=True))
_reg(_unary("asinh", np.arcsinh))
_reg(_unary("acosh", np.arccosh, 1.1, 3))
_reg(_unary("atanh", np.arctanh, -0.9, 0.9))
_reg(_unary("sigmoid", _sigmoid, gradgrad=True))
_reg(_unary("relu", lambda x: np.maximum(x, 0).astype(x.dtype), rule="same"))
# references independent of the SciPy kernels ember itself calls (mpmath, arbitrary precision)
_reg(_unary("erf", _mp_ref("erf", special.erf)))
_reg(_unary("erfc", _mp_ref("erfc", special.erfc)))
_reg(_unary("erfinv", _mp_ref("erfinv", special.erfinv), -0.9, 0.9, atol={F32: 1e-5},
            rtol={F32: 1e-4}))
_reg(_unary("reciprocal", np.reciprocal, 0.3, 3, avoid_zero=True,
           dtypes=FLOATS))
_reg(OpInfo("reciprocal.int", ref=lambda x: 1.0 / x, dtype_rule="float",
           sample_inputs=unary_samples(-3, 3, avoid_zero=True), dtypes=(I64,), inplace=True,
           supports_out=True, differentiable=False))
_reg(_unary("neg", np.negative, rule="same", gradgrad=True))
_reg(_unary("abs", np.abs, rule="same", gradgrad=True))
_reg(_unary("sign", _sign_ref, rule="same", dtypes=ALL))
_reg(_unary("sgn", _sign_ref, rule="same", dtypes=ALL))
_reg(_unary("floor", np.floor, rule="same"))
_reg(_unary("ceil", np.ceil, rule="same"))
_reg(_unary("trunc", np.trunc, rule="same"))
_reg(_unary("frac", _frac, rule="same", dtypes=FLOATS))
_reg(_unary("square", np.square, rule="same", gradgrad=True))
_reg(_unary("round", np.round, -4, 4, rule="same"))
_reg(OpInfo("round.decimals", ref=lambda x, decimals: np.round(x, decimals),
           sample_inputs=lambda dt, rng: [
               SampleInput(make((2, 3), dt, rng, -40, 40), kwargs={"decimals": d},
                           desc=f"decimals={d}") for d in (1, 2, -1)],
           inplace=True, supports_out=True))

# relu/neg/abs/frac/round on unsupported dtypes
_extra_unary_errors = {
    "neg": [ErrorInput(SampleInput(np.array([True])), RuntimeError,
                       r"Negation, the `-` operator, on a bool tensor is not supported")],
    "relu": [ErrorInput(SampleInput(np.array([True])), RuntimeError,
                        "Boolean inputs not supported for relu")],
    "abs": [ErrorInput(SampleInput(np.array([True])), NotImplementedError,
                       "abs.* not implemented for 'Bool'")],
    "frac": [ErrorInput(SampleInput(np.array([1, 2])), NotImplementedError,
                        "frac.* not implemented for 'Long'")],
    "round.decimals": [ErrorInput(SampleInput(np.array([1, 2]), kwargs={"decimals": 1}),
                                  NotImplementedError, "round.* not implemented for 'Long'")],
}
for _e in OP_DB:
    if _e.name in _extra_unary_errors:
        _prev, _more = _e.error_inputs, _extra_unary_errors[_e.name]
        _e.error_inputs = (lambda p, m: lambda: (p() if p else []) + m)(_prev, _more)


# ------------------------------------------------------------------ clamp and friends
def _clamp_samples(dtype, rng):
    def m(shape, **k):
        return make(shape, dtype, rng, -3, 3, **k)

    lo, hi = (-1, 1) if dtype.kind in "iu" else (-1.25, 1.5)
    return [SampleInput(m((2, 3)), (lo, hi), desc="both"),
            SampleInput(m((2, 3)), (), {"min": lo}, desc="min"),
            SampleInput(m((2, 3)), (), {"max": hi}, desc="max"),
            SampleInput(m(()), (lo, hi), desc="0-d"),
            SampleInput(m((0, 2)), (lo, hi), desc="empty"),
            SampleInput(m((2, 3), t=True), (lo, hi), desc="transposed"),
            SampleInput(m((3,)), (hi, lo), desc="min>max"),
            SampleInput(m((2, 3)), (-0.5, 0.5), desc="float-bounds")]


def _clamp_tensor_samples(dtype, rng):
    def m(shape, low, high, **k):
        return make(shape, dtype, rng, low, high, **k)

    return [SampleInput(m((2, 3), -3, 3), (m((2, 3), -2, -0.5), m((3,), 0.5, 2)), desc="both"),
            SampleInput(m((2, 3), -3, 3), (), {"min": m((2, 1), -1, 1)}, desc="min"),
            SampleInput(m((2, 3), -3, 3), (), {"max": m((), -1, 1)}, desc="max-0d"),
            SampleInput(m((2, 3), -3, 3, nc=True), (m((2, 3), -2, -0.5, t=True),
                                                    m((2, 3), 0.5, 2, nc=True)),
                        desc="noncontig"),
            SampleInput(m((0, 3), -3, 3), (m((3,), -1, 0), None), desc="empty")]


def _clamp_ties(dtype, rng):
    # x equal to a bound: PyTorch passes the whole gradient to x (lo <= x <= hi), none to
    # the bound; ember must not split it like maximum() does.
    x = np.array([-1.0, 0.0, 1.0, 2.0], dtype)
    return [SampleInput(x, (np.array([-1.0, -1.0, 0.0, 0.0], dtype),
                            np.array([1.0, 0.0, 1.0, 3.0], dtype)), desc="ties", grad=False)]


def _clamp_errors():
    return [ErrorInput(SampleInput(np.ones(2, F32)), RuntimeError,
                       "clamp: At least one of 'min' or 'max' must not be None")]


def _clamp_rule(s):
    bounds = [v for v in (*s.args, *s.kwargs.values()) if v is not None]
    return torch_result_type(s.input, *bounds)


for _n in ("clamp", "clip"):
    _reg(OpInfo(_n, ref=_clamp_ref, sample_inputs=_clamp_samples, dtypes=FLOAT_INT,
               inplace=True, supports_out=True, gradgrad=_n == "clamp", dtype_rule=_clamp_rule,
               error_inputs=_clamp_errors))
    _reg(OpInfo(f"{_n}.tensor", ref=_clamp_ref, sample_inputs=_clamp_tensor_samples,
               dtypes=FLOAT_INT, inplace=True, supports_out=True, dtype_rule=_clamp_rule))
_reg(OpInfo("clamp.ties", ref=_clamp_ref, sample_inputs=_clamp_ties, inplace=True,
           supports_out=True, dtype_rule=_clamp_rule))
_reg(OpInfo("clamp_min", ref=lambda x, m: np.maximum(x, m),
           sample_inputs=lambda dt, rng: [
               SampleInput(make((2, 3), dt, rng), (0.5 if dt.kind == "f" else 1,)),
               SampleInput(make((2, 3), dt, rng), (make((3,), dt, rng),), desc="tensor"),
               SampleInput(make((), dt, rng), (-1,), desc="0-d")],
           dtypes=FLOAT_INT, inplace=True, dtype_rule=_clamp_rule))
_reg(OpInfo("clamp_max", ref=lambda x, m: np.minimum(x, m),
           sample_inputs=lambda dt, rng: [
               SampleInput(make((2, 3), dt, rng), (0.5 if dt.kind == "f" else 1,)),
               SampleInput(make((2, 3), dt, rng), (make((3,), dt, rng),), desc="tensor"),
               SampleInput(make((0,), dt, rng), (-1,), desc="empty")],
           dtypes=FLOAT_INT, inplace=True, dtype_rule=_clamp_rule))


def _where_samples(dtype, rng):
    def m(shape, **k):
        return make(shape, dtype, rng, **k)

    def c(shape, **k):
        return make(shape, BOOL, rng, **k)

    o = _other_dtype(dtype)
    return [SampleInput(c((2, 3)), (m((2, 3)), m((2, 3))), desc="same"),
            SampleInput(c((2, 1)), (m((1, 3)), m((2, 3))), desc="broadcast"),
            SampleInput(c(()), (m(()), m(())), desc="0-d"),
            SampleInput(c((0, 3)), (m((3,)), m((0, 3))), desc="empty"),
            SampleInput(c((2, 3), nc=True), (m((2, 3), t=True), m((2, 3), nc=True)),
                        desc="noncontig"),
            SampleInput(c((2, 3)), (m((2, 3)), 0.0 if dtype.kind == "f" else 0),
                        desc="scalar-other"),
            SampleInput(c((2, 3)), (m((2, 3)), make((2, 3), o, rng)), desc=f"mixed-{o}")]


_reg(OpInfo("where", ref=np.where, sample_inputs=_where_samples, dtypes=ALL, supports_out=True,
           gradgrad=True, dtype_rule=lambda s: torch_result_type(*s.args),
           op=lambda mod, c, a, b, **kw: mod.where(c, a, b, **kw),
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2,), F32), (np.ones(2, F32), np.ones(2, F32))),
               RuntimeError, "where expected condition to be a boolean tensor")],
           skips={"test_variants": "the method is x.where(cond, y): entry where.method"}))
_reg(OpInfo("where.method", ref=lambda x, c, y: np.where(c, x, y),
            sample_inputs=lambda dt, rng: [
                SampleInput(s.args[0], (s.input, s.args[1]), desc=s.desc)
                for s in _where_samples(dt, rng)],
            dtypes=ALL, method=False, dtype_rule=lambda s: torch_result_type(s.input, s.args[1]),
            op=lambda mod, x, c, y: x.where(c, y)))


def _masked_fill_samples(dtype, rng):
    def m(shape, **k):
        return make(shape, dtype, rng, **k)

    v = 1.5 if dtype.kind == "f" else 2
    return [SampleInput(m((2, 3)), (make((2, 3), BOOL, rng), v), desc="same"),
            SampleInput(m((2, 3)), (make((3,), BOOL, rng), v), desc="broadcast-mask"),
            SampleInput(m(()), (np.array(True), v), desc="0-d"),
            SampleInput(m((0, 3)), (make((0, 3), BOOL, rng), v), desc="empty"),
            SampleInput(m((2, 3), t=True), (make((2, 3), BOOL, rng, nc=True), v),
                        desc="noncontig"),
            SampleInput(m((2, 3)), (make((2, 3), BOOL, rng), np.array(v, dtype)),
                        desc="0-d-value")]


_reg(OpInfo("masked_fill", ref=lambda x, mask, v: np.where(mask, v, x).astype(x.dtype),
           sample_inputs=_masked_fill_samples, dtypes=ALL[:-1], inplace=True,
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones(2, F32), (np.ones(2, F32), 1.0)), RuntimeError,
               "masked_fill_ only supports boolean masks")]))


def _lerp_samples(dtype, rng):
    def m(shape, **k):
        return make(shape, dtype, rng, **k)

    return [SampleInput(m((2, 3)), (m((2, 3)), 0.3), desc="scalar-w"),
            SampleInput(m((2, 3)), (m((2, 3)), 0.8), desc="scalar-w-large"),
            SampleInput(m((2, 3)), (m((3,)), m((2, 1), low=0, high=1)), desc="tensor-w"),
            SampleInput(m(()), (m(()), m(())), desc="0-d"),
            SampleInput(m((0, 3)), (m((0, 3)), 0.5), desc="empty"),
            SampleInput(m((2, 3), t=True), (m((2, 3), nc=True), m((2, 3), nc=True)),
                        desc="noncontig")]


_reg(OpInfo("lerp", ref=_lerp_ref, sample_inputs=_lerp_samples, inplace=True, supports_out=True,
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 3), F32), (np.ones((2, 3), F32), np.ones(4, F32))),
               RuntimeError, r"size of tensor a \(3\) must match the size of tensor b \(4\)")]))


def _addc_samples(div):
    def gen(dtype, rng):
        def m(shape, **k):
            return make(shape, dtype, rng, **k)

        def d(shape, **k):
            return make(shape, dtype, rng, avoid_zero=div, **k)

        return [SampleInput(m((2, 3)), (m((2, 3)), d((2, 3))), desc="same"),
                SampleInput(m((2, 3)), (m((3,)), d((2, 1))), {"value": 0.5}, desc="broadcast"),
                SampleInput(m(()), (m(()), d(())), {"value": -2}, desc="0-d"),
                SampleInput(m((0, 3)), (m((0, 3)), d((3,))), desc="empty"),
                SampleInput(m((2, 3), nc=True), (m((2, 3), t=True), d((2, 3), nc=True)),
                            desc="noncontig")]

    return gen


_reg(OpInfo("addcmul", ref=lambda x, a, b, value=1: x + value * a * b,
           sample_inputs=_addc_samples(False), inplace=True, supports_out=True,
           dtype_rule="promote"))
_reg(OpInfo("addcdiv", ref=lambda x, a, b, value=1: x + value * a / b,
           sample_inputs=_addc_samples(True), inplace=True, supports_out=True,
           dtype_rule="promote",
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones(2, I64), (np.ones(2, I64), np.ones(2, I64))), RuntimeError,
               "Integer division with addcdiv is no longer supported")]))


def _nan_to_num_samples(dtype, rng):
    x = np.array([np.nan, INF, -INF, 1.5, -2.0, 0.0], dtype)
    return [SampleInput(x, desc="default", grad=False),
            SampleInput(x, (1.0, 2.0, -2.0), desc="values", grad=False),
            SampleInput(x.reshape(2, 3).T, (), {"nan": -1.0}, desc="transposed", grad=False),
            SampleInput(make((2, 3), dtype, rng), desc="finite"),
            SampleInput(np.array(np.nan, dtype), desc="0-d", grad=False),
            SampleInput(make((0,), dtype, rng), desc="empty")]


_reg(OpInfo("nan_to_num", ref=lambda x, nan=0.0, posinf=None, neginf=None: np.nan_to_num(
    x, nan=nan, posinf=posinf, neginf=neginf), sample_inputs=_nan_to_num_samples,
    inplace=True, supports_out=True))


def _isclose_samples(dtype, rng):
    a = make((2, 3), dtype, rng)
    b = a + (1e-6 if dtype.kind == "f" else 0)
    b[0, 0] = a[0, 0] + 1
    fa = np.array([np.nan, 1.0, INF], dtype) if dtype.kind == "f" else np.array([1, 2, 3], dtype)
    return [SampleInput(a, (b,), desc="near"),
            SampleInput(a, (b,), {"rtol": 0, "atol": 0.5}, desc="atol"),
            SampleInput(fa, (fa.copy(),), desc="specials"),
            SampleInput(fa, (fa.copy(),), {"equal_nan": True}, desc="equal_nan"),
            SampleInput(a[:, :0], (b[:, :0],), desc="empty"),
            SampleInput(a.T, (b[:1].T,), desc="broadcast")]


def _isclose_ref(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


_reg(OpInfo("isclose", ref=_isclose_ref, sample_inputs=_isclose_samples, dtypes=FLOAT_INT,
           differentiable=False, dtype_rule="bool",
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones(2, F32), (np.ones(2, F64),)), RuntimeError,
               "Float did not match Double")]))
_reg(OpInfo("allclose", ref=lambda *a, **k: bool(_isclose_ref(*a, **k).all()),
           sample_inputs=_isclose_samples, dtypes=FLOAT_INT, differentiable=False,
           dtype_rule="ref"))


def _equal_samples(dtype, rng):
    a = make((2, 3), dtype, rng)
    b = a.copy()
    b[1, 2] = b[1, 2] + 1
    return [SampleInput(a, (a.copy(),), desc="equal"), SampleInput(a, (b,), desc="differ"),
            SampleInput(a, (a[:1],), desc="shape-differs"),
            SampleInput(a.T, (np.ascontiguousarray(a.T),), desc="layout")]


_reg(OpInfo("equal", ref=lambda a, b: a.shape == b.shape and bool((a == b).all()),
           sample_inputs=_equal_samples, dtypes=ALL, differentiable=False, dtype_rule="ref"))


def _special_values(dtype, rng):
    if dtype.kind == "f":
        x = np.array([np.nan, INF, -INF, 0.0, -1.5, 2.0], dtype)
    else:
        x = make((6,), dtype, rng)
    return [SampleInput(x), SampleInput(x.reshape(3, 2).T, desc="transposed"),
            SampleInput(x[:0], desc="empty"), SampleInput(np.array(x[0]), desc="0-d")]


for _n, _r in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)):
    _reg(OpInfo(_n, ref=_r, sample_inputs=_special_values, dtypes=ALL, supports_out=False,
               differentiable=False, dtype_rule="bool", error_inputs=unary_errors(_n)))


# ------------------------------------------------------------------ reductions
def _red_errors(name, dim_arg=True):
    def gen():
        errs = [ErrorInput(SampleInput(np.ones((2, 3), F32), (2,)), IndexError,
                           r"Dimension out of range \(expected to be in range of \[-2, 1\], "
                           r"but got 2\)")] if dim_arg else []
        return errs

    return gen


def _sum_kw_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng), (1,), {"dtype": F64}, desc="dtype-f64")]


_reg(OpInfo("sum", ref=red_ref(np.sum), dtypes=ALL, supports_out=True, gradgrad=True,
           dtype_rule="sum",
           sample_inputs=lambda dt, rng: reduction_samples()(dt, rng) + _sum_kw_samples(dt, rng),
           error_inputs=_red_errors("sum")))
_reg(OpInfo("mean", ref=red_ref(np.mean), supports_out=True, gradgrad=True,
           sample_inputs=reduction_samples(),
           error_inputs=lambda: _red_errors("mean")() + [ErrorInput(
               SampleInput(np.ones(2, I64)), RuntimeError,
               r"mean\(\): could not infer output dtype")]))
_reg(OpInfo("mean.int_dtype", ref=lambda x, dim, dtype: np.mean(x, axis=dim).astype(dtype),
           sample_inputs=lambda dt, rng: [SampleInput(make((2, 3), dt, rng), (1,),
                                                      {"dtype": F64})],
           dtypes=(I64,), supports_out=True, dtype_rule=lambda s: F64))


def _prod_samples(dtype, rng):
    out = reduction_samples(tuple_dims=False)(dtype, rng)
    x = make((3, 4), dtype, rng, 0.5, 2)
    x[0, 1] = 0
    x[1, 1] = x[1, 3] = 0
    out += [SampleInput(x, desc="zeros-full"), SampleInput(x, (1,), desc="zeros-dim"),
            SampleInput(x, (0,), {"keepdim": True}, desc="zeros-dim0")]
    return out


_reg(OpInfo("prod", ref=red_ref(np.prod), sample_inputs=_prod_samples, dtypes=ALL, gradgrad=True,
           dtype_rule="sum", error_inputs=_red_errors("prod")))


def _minmax_full_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng)), SampleInput(make((), dtype, rng), desc="0-d"),
            SampleInput(make((3, 2), dtype, rng, t=True), desc="transposed"),
            SampleInput(_amax_tie_sample(dtype, rng), desc="ties")]


def _empty_full_error(name):
    def gen():
        return [ErrorInput(SampleInput(np.ones(0, F32)), RuntimeError,
                           rf"{name}\(\): Expected reduction dim to be specified for "
                           r"input.numel\(\) == 0")]

    return gen


def _max_dim_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng), (1,)),
            SampleInput(make((2, 3, 2), dtype, rng), (-2,), {"keepdim": True}, desc="keepdim"),
            SampleInput(make((), dtype, rng), (0,), desc="0-d"),
            SampleInput(make((3, 2), dtype, rng, t=True), (0,), desc="transposed"),
            SampleInput(make((2, 3), dtype, rng, nc=True), (1,), desc="strided"),
            SampleInput(make((0, 3), dtype, rng), (1,), desc="empty-other-dim")]


def _max_dim_errors(name):
    def gen():
        return [ErrorInput(SampleInput(np.ones((0, 3), F32), (0,)), IndexError,
                           rf"{name}\(\): Expected reduction dim 0 to have non-zero size"),
                ErrorInput(SampleInput(np.ones((2, 3), F32), (2,)), IndexError,
                           "Dimension out of range")]

    return gen


for _n, _red, _arg in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
    _reg(OpInfo(_n, ref=lambda x, _r=_red: np.asarray(_r(x)), sample_inputs=_minmax_full_samples,
               dtypes=FLOAT_INT, error_inputs=_empty_full_error(_n)))
    _reg(OpInfo(f"{_n}.dim", ref=_max_dim_ref(_arg, _red), sample_inputs=_max_dim_samples,
               dtypes=FLOAT_INT, dtype_rule="ref", error_inputs=_max_dim_errors(_n)))
    _reg(OpInfo(f"{_n}.other", ref=np.maximum if _n == "max" else np.minimum,
               sample_inputs=binary_samples(scalars=(), mixed=False), dtypes=FLOAT_INT,
               dtype_rule="promote"))


def _amax_samples(dtype, rng):
    out = reduction_samples(empty=False)(dtype, rng)
    out += [SampleInput(_amax_tie_sample(dtype, rng), desc="ties"),
            SampleInput(_amax_tie_sample(dtype, rng), (1,), desc="ties-dim"),
            SampleInput(make((0, 3), dtype, rng), (1,), desc="empty-other-dim")]
    return out


for _n, _r in (("amax", np.max), ("amin", np.min)):
    _reg(OpInfo(_n, ref=red_ref(_r), sample_inputs=_amax_samples, dtypes=FLOAT_INT,
               error_inputs=lambda _n=_n: _empty_full_error(_n)() + _red_errors(_n)()))


def _arg_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng)),
            SampleInput(make((2, 3), dtype, rng), (1,), desc="dim"),
            SampleInput(make((2, 3), dtype, rng), (0,), {"keepdim": True}, desc="keepdim"),
            SampleInput(make((2, 3), dtype, rng), (), {"keepdim": True}, desc="full-keepdim"),
            SampleInput(make((), dtype, rng), desc="0-d"),
            SampleInput(make((3, 2), dtype, rng, t=True), (-1,), desc="transposed"),
            SampleInput(_amax_tie_sample(dtype, rng), (1,), desc="ties")]


for _n, _r in (("argmax", np.argmax), ("argmin", np.argmin)):
    _reg(OpInfo(_n, ref=_arg_ref(_r), sample_inputs=_arg_samples, dtypes=FLOAT_INT,
               differentiable=False, dtype_rule="int64",
               error_inputs=lambda _n=_n: [ErrorInput(
                   SampleInput(np.ones(0, F32)), IndexError,
                   rf"{_n}\(\): Expected reduction dim to be specified for input.numel\(\) == 0")]
               ))


def _var_samples(dtype, rng):
    def m(shape, **k):
        return make(shape, dtype, rng, **k)

    return [SampleInput(m((2, 3)), desc="full"),
            SampleInput(m((2, 3)), (1,), desc="dim"),
            SampleInput(m((2, 3)), (1, False), desc="unbiased=False"),
            SampleInput(m((2, 3)), (False,), desc="legacy-unbiased"),
            SampleInput(m((2, 3, 2)), ((0, 2),), {"keepdim": True}, desc="dims-keepdim"),
            SampleInput(m((2, 3)), (), {"dim": 0, "correction": 0}, desc="correction=0"),
            SampleInput(m((3, 4)), (), {"dim": 1, "correction": 2}, desc="correction=2"),
            SampleInput(m((3, 2), t=True), (0,), desc="transposed"),
            SampleInput(m((2, 3), nc=True), (-1,), desc="strided"),
            SampleInput(m((1,)), desc="single-nan", grad=False)]


def _var_errors(name):
    def gen():
        return [ErrorInput(SampleInput(np.ones(3, I64)), RuntimeError,
                           "std and var only support floating point and complex dtypes")]

    return gen


_reg(OpInfo("var", ref=_var_ref, sample_inputs=_var_samples, error_inputs=_var_errors("var")))
_reg(OpInfo("std", ref=lambda *a, **k: _var_ref(*a, std=True, **k), sample_inputs=_var_samples,
           error_inputs=_var_errors("std")))
_reg(OpInfo("var_mean", ref=lambda *a, **k: (_var_ref(*a, **k), _mean_for_var(*a, **k)),
           sample_inputs=_var_samples, method=False, dtype_rule="same"))
_reg(OpInfo("std_mean",
           ref=lambda *a, **k: (_var_ref(*a, std=True, **k), _mean_for_var(*a, **k)),
           sample_inputs=_var_samples, method=False, dtype_rule="same",
           error_inputs=lambda: [ErrorInput(SampleInput(np.ones((2, 3), F32), (2,)),
                                            IndexError, "Dimension out of range")]))


def _mean_for_var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim = None
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    return np.mean(x, axis=axis, keepdims=keepdim)


def _norm_samples(dtype, rng):
    def m(shape, **k):
        return make(shape, dtype, rng, avoid_zero=True, **k)

    out = [SampleInput(m((2, 3)), desc="default"), SampleInput(m((2, 3)), ("fro",), desc="fro"),
           SampleInput(m(()), (2,), desc="0-d")]
    for p in (1, 2, INF, 3):
        out.append(SampleInput(m((2, 3)), (p,), desc=f"p={p}"))
        out.append(SampleInput(m((2, 3, 2)), (p, 1), desc=f"p={p}-dim"))
    out += [SampleInput(m((2, 3)), (2, (0, 1), True), desc="dims-keepdim"),
            SampleInput(m((3, 2), t=True), (1, 0), desc="transposed"),
            SampleInput(m((2, 3), nc=True), (3, -1), desc="strided"),
            SampleInput(np.zeros((2, 3), dtype), (2, 1), desc="zeros-2"),
            SampleInput(np.zeros((2, 3), dtype), (1, 1), desc="zeros-1", grad=False),
            SampleInput(m((0, 3)), (2, 0), desc="empty")]
    return out


_reg(OpInfo("norm", ref=_norm_ref, sample_inputs=_norm_samples, gradgrad=True,
           error_inputs=lambda: [ErrorInput(SampleInput(np.ones(3, I64)), RuntimeError,
                                            "Expected a floating point or complex tensor")]))


def _lse_samples(dtype, rng):
    out = [SampleInput(make((2, 3), dtype, rng), (1,)),
           SampleInput(make((2, 3, 2), dtype, rng), ((0, 2),), desc="dims"),
           SampleInput(make((2, 3), dtype, rng), (0, True), desc="keepdim"),
           SampleInput(make((), dtype, rng), (0,), desc="0-d"),
           SampleInput(make((0, 3), dtype, rng), (1,), desc="empty-other-dim"),
           SampleInput(make((3, 2), dtype, rng, t=True), (-1,), desc="transposed")]
    if dtype.kind == "f":
        out += [SampleInput(np.array([[-INF, -INF], [1.0, -INF]], dtype), (1,),
                            desc="all-neg-inf", grad=False),
                SampleInput(np.array([[1000.0, 1000.0], [-1000.0, 0.0]], dtype), (1,),
                            desc="large")]
    return out


_reg(OpInfo("logsumexp", ref=lambda x, dim, keepdim=False: np.asarray(
    special.logsumexp(x, axis=dim if x.ndim else None, keepdims=keepdim)),
    sample_inputs=_lse_samples, dtypes=FLOAT_INT, dtype_rule="float", gradgrad=True,
    error_inputs=_red_errors("logsumexp")))


def _bool_red_samples(dtype, rng):
    out = reduction_samples(low=0, high=1)(dtype, rng)
    return out + [SampleInput(np.zeros((2, 3), dtype), (1,), desc="zeros"),
                  SampleInput(np.ones((2, 3), dtype), desc="ones")]


for _n, _r in (("all", np.all), ("any", np.any)):
    _reg(OpInfo(_n, ref=red_ref(_r), sample_inputs=_bool_red_samples, dtypes=ALL + (U8,),
               supports_out=True, differentiable=False,
               dtype_rule=lambda s: U8 if s.input.dtype == U8 else BOOL,
               error_inputs=_red_errors(_n)))
_reg(OpInfo("count_nonzero", ref=lambda x, dim=None: np.asarray(
    np.count_nonzero(x, axis=dim if x.ndim else None), I64),
    sample_inputs=lambda dt, rng: [
        SampleInput(make((2, 3), dt, rng, -1, 1)), SampleInput(make((2, 3), dt, rng, -1, 1), (1,)),
        SampleInput(make((2, 3, 2), dt, rng, -1, 1), ((0, 2),), desc="dims"),
        SampleInput(make((0, 3), dt, rng), (0,), desc="empty"),
        SampleInput(make((2, 3), dt, rng, -1, 1, t=True), (0,), desc="transposed")],
    dtypes=ALL, differentiable=False, dtype_rule="int64",
    error_inputs=_red_errors("count_nonzero")))


def _aminmax_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng)), SampleInput(make((), dtype, rng), desc="0-d"),
            SampleInput(make((2, 3), dtype, rng), (), {"dim": 1}, desc="dim"),
            SampleInput(make((2, 3), dtype, rng), (), {"dim": 0, "keepdim": True},
                        desc="keepdim"),
            SampleInput(make((3, 2), dtype, rng, t=True), (), {"dim": -1}, desc="transposed")]


_reg(OpInfo("aminmax", ref=lambda x, dim=None, keepdim=False: (
    np.min(x, axis=dim, keepdims=keepdim), np.max(x, axis=dim, keepdims=keepdim)),
    sample_inputs=_aminmax_samples, dtypes=FLOAT_INT,
    error_inputs=lambda: [ErrorInput(SampleInput(np.ones(0, F32)), RuntimeError,
                                     r"aminmax\(\): cannot compute aminmax over an empty "
                                     "dimension")]))


def _softmax_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng), (1,)),
            SampleInput(make((2, 3), dtype, rng), (0,), desc="dim0"),
            SampleInput(make((2, 3, 2), dtype, rng), (-2,), desc="3d"),
            SampleInput(make((), dtype, rng), (0,), desc="0-d"),
            SampleInput(make((0, 3), dtype, rng), (1,), desc="empty"),
            SampleInput(make((3, 2), dtype, rng, t=True), (1,), desc="transposed"),
            SampleInput(make((2, 3), dtype, rng, nc=True), (1,), desc="strided"),
            SampleInput(np.array([[1000.0, 0.0], [-INF, 1.0]], dtype), (1,), desc="extreme",
                        grad=False)]


def _softmax_int_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng), (1,), {"dtype": F64}, desc="dtype-kw")]


def _softmax_errors(name):
    def gen():
        return [ErrorInput(SampleInput(np.ones(3, I64), (0,)), NotImplementedError,
                           f"{name}.* not implemented for 'Long'"),
                ErrorInput(SampleInput(np.ones((2, 3), F32), (2,)), IndexError,
                           "Dimension out of range")]

    return gen


_reg(OpInfo("softmax", ref=_softmax_ref, sample_inputs=_softmax_samples, gradgrad=True,
           error_inputs=_softmax_errors("softmax")))
_reg(OpInfo("log_softmax", ref=_log_softmax_ref, sample_inputs=_softmax_samples, gradgrad=True,
           error_inputs=_softmax_errors("log_softmax")))
_reg(OpInfo("softmax.dtype", ref=_softmax_ref, sample_inputs=_softmax_int_samples,
           dtypes=(I64, F32), dtype_rule=lambda s: s.kwargs["dtype"]))


def _cumsum_samples(dtype, rng):
    return [SampleInput(make((2, 3), dtype, rng), (1,)),
            SampleInput(make((2, 3), dtype, rng), (-2,), desc="dim0"),
            SampleInput(make((), dtype, rng), (0,), desc="0-d"),
            SampleInput(make((0, 3), dtype, rng), (1,), desc="empty"),
            SampleInput(make((3, 2), dtype, rng, t=True), (1,), desc="transposed"),
            SampleInput(make((2, 3), dtype, rng), (1,), {"dtype": F64}, desc="dtype-kw",
                        inplace=False)]


_reg(OpInfo("cumsum", ref=lambda x, dim, dtype=None: np.cumsum(x, axis=dim if x.ndim else None,
                                                               dtype=dtype).reshape(x.shape),
           sample_inputs=_cumsum_samples, dtypes=ALL, inplace=True, dtype_rule="sum",
           error_inputs=_red_errors("cumsum")))


# ------------------------------------------------------------------ matrix products
def _matmul_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    return [SampleInput(m(3), (m(3),), desc="1d-1d"),
            SampleInput(m(2, 3), (m(3),), desc="2d-1d"),
            SampleInput(m(3), (m(3, 2),), desc="1d-2d"),
            SampleInput(m(2, 3), (m(3, 4),), desc="2d-2d"),
            SampleInput(m(2, 2, 3), (m(2, 3, 2),), desc="batched"),
            SampleInput(m(2, 1, 2, 3), (m(3, 3, 2),), desc="broadcast"),
            SampleInput(m(2, 2, 3), (m(3),), desc="3d-1d"),
            SampleInput(m(3), (m(2, 3, 2),), desc="1d-3d"),
            SampleInput(m(2, 3, t=True), (m(3, 2, nc=True),), desc="noncontig"),
            SampleInput(m(2, 0), (m(0, 3),), desc="empty-k"),
            SampleInput(m(0, 3), (m(3, 2),), desc="empty-m")]


def _matmul_errors(name):
    def gen():
        rng = np.random.default_rng(0)
        return [ErrorInput(SampleInput(make((2, 3), F32, rng), (make((2, 3), F32, rng),)),
                           RuntimeError, r"mat1 and mat2 shapes cannot be multiplied "
                                         r"\(2x3 and 2x3\)"),
                ErrorInput(SampleInput(make((2, 3), F32, rng), (make((3, 2), F64, rng),)),
                           RuntimeError, "expected m1 and m2 to have the same dtype"),
                ErrorInput(SampleInput(np.array(1.0, F32), (make((2, 3), F32, rng),)),
                           RuntimeError, "both arguments to matmul need to be at least 1D")]

    return gen


_reg(OpInfo("matmul", ref=np.matmul, sample_inputs=_matmul_samples, dtypes=FLOAT_INT,
           supports_out=True, gradgrad=True, error_inputs=_matmul_errors("matmul")))


def _fixed_samples(shapes):
    def gen(dtype, rng):
        out = []
        for i, (sa, sb, *kw) in enumerate(shapes):
            t = i == 1
            out.append(SampleInput(make(sa, dtype, rng, t=t and len(sa) == 2),
                                   tuple(make(s, dtype, rng, nc=t) for s in sb),
                                   kw[0] if kw else {}, desc=f"case{i}"))
        return out

    return gen


_reg(OpInfo("mm", ref=np.matmul, dtypes=FLOAT_INT, supports_out=True,
           sample_inputs=_fixed_samples([((2, 3), [(3, 4)]), ((3, 2), [(2, 2)]),
                                         ((2, 0), [(0, 3)]), ((0, 2), [(2, 3)])]),
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 3), F32), (np.ones((2, 3), F32),)), RuntimeError,
               r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)")]))
_reg(OpInfo("bmm", ref=np.matmul, dtypes=FLOAT_INT, supports_out=True,
           sample_inputs=_fixed_samples([((2, 2, 3), [(2, 3, 2)]), ((2, 3, 2), [(2, 2, 2)]),
                                         ((0, 2, 3), [(0, 3, 2)]), ((2, 1, 0), [(2, 0, 2)])]),
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 2, 3), F32), (np.ones((3, 3, 2), F32),)), RuntimeError,
               "Expected size for first two dimensions of batch2 tensor")]))
_reg(OpInfo("mv", ref=np.matmul, dtypes=FLOAT_INT, supports_out=True,
           sample_inputs=_fixed_samples([((2, 3), [(3,)]), ((3, 2), [(2,)]),
                                         ((0, 2), [(2,)]), ((2, 0), [(0,)])]),
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 3), F32), (np.ones(2, F32),)), RuntimeError,
               r"size mismatch, got input \(2\), mat \(2x3\), vec \(2\)")]))
_reg(OpInfo("dot", ref=lambda a, b: np.asarray(np.dot(a, b)), dtypes=FLOAT_INT, supports_out=True,
           sample_inputs=_fixed_samples([((3,), [(3,)]), ((4,), [(4,)]), ((0,), [(0,)])]),
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones(2, F32), (np.ones(3, F32),)), RuntimeError,
               "inconsistent tensor size, expected tensor \\[2\\] and src \\[3\\]")]))
_reg(OpInfo("outer", ref=np.outer, dtypes=FLOAT_INT, supports_out=True,
           sample_inputs=_fixed_samples([((3,), [(2,)]), ((4,), [(1,)]), ((0,), [(2,)])]),
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 3), F32), (np.ones(3, F32),)), RuntimeError,
               "outer: Expected 1-D argument self, but got 2-D")]))


def _addmm_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    nan = np.full((2, 4), np.nan if dtype.kind == "f" else 7, dtype)
    return [SampleInput(m(2, 4), (m(2, 3), m(3, 4)), desc="plain"),
            SampleInput(m(4), (m(2, 3), m(3, 4)), {"beta": 2, "alpha": 0.5}, desc="broadcast"),
            SampleInput(m(2, 4), (m(2, 3, t=True), m(3, 4, nc=True)), {"alpha": 2},
                        desc="noncontig"),
            SampleInput(nan, (m(2, 3), m(3, 4)), {"beta": 0}, desc="beta0-ignores-nan",
                        grad=False),
            SampleInput(m(2, 3), (m(2, 0), m(0, 3)), desc="empty-k")]


def _int_kw(samples_fn):
    """Integer dtypes only take integer alpha/beta."""

    def gen(dtype, rng):
        out = samples_fn(dtype, rng)
        if dtype.kind in "iu":
            for s in out:
                s.kwargs = {k: int(v) if v >= 1 else 1 for k, v in s.kwargs.items()
                            if k != "beta" or v != 0}
        return out

    return gen


_reg(OpInfo("addmm", ref=_addmm_ref, sample_inputs=_int_kw(_addmm_samples), dtypes=FLOAT_INT,
           inplace=True, supports_out=True,
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 2), F32), (np.ones((2, 3), F32), np.ones((2, 3), F32))),
               RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)")]))


def _addmv_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    nan = np.full((2,), np.nan if dtype.kind == "f" else 7, dtype)
    return [SampleInput(m(2), (m(2, 3), m(3)), desc="plain"),
            SampleInput(m(1), (m(2, 3), m(3)), {"beta": 2, "alpha": 0.5}, desc="broadcast"),
            SampleInput(m(2), (m(2, 3, t=True), m(3, nc=True)), desc="noncontig"),
            SampleInput(nan, (m(2, 3), m(3)), {"beta": 0}, desc="beta0-ignores-nan", grad=False)]


_reg(OpInfo("addmv", ref=_addmv_ref, sample_inputs=_int_kw(_addmv_samples), dtypes=FLOAT_INT,
           inplace=True, supports_out=True,
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones(2, F32), (np.ones((2, 3), F32), np.ones(2, F32))),
               RuntimeError, r"size mismatch, got input \(2\), mat \(2x3\), vec \(2\)")]))


def _baddbmm_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    nan = np.full((2, 2, 2), np.nan if dtype.kind == "f" else 7, dtype)
    return [SampleInput(m(2, 2, 2), (m(2, 2, 3), m(2, 3, 2)), desc="plain"),
            SampleInput(m(2), (m(2, 2, 3), m(2, 3, 2)), {"beta": 2, "alpha": 0.5},
                        desc="broadcast"),
            SampleInput(nan, (m(2, 2, 3), m(2, 3, 2)), {"beta": 0}, desc="beta0-ignores-nan",
                        grad=False)]


_reg(OpInfo("baddbmm", ref=_baddbmm_ref, sample_inputs=_int_kw(_baddbmm_samples),
           dtypes=FLOAT_INT, inplace=True, supports_out=True,
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 2, 2), F32), (np.ones((2, 2, 3), F32),
                                                     np.ones((2, 2, 2), F32))),
               RuntimeError, "Expected size for first two dimensions of batch2 tensor")]))


def _einsum_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    return [SampleInput("ij,jk->ik", (m(2, 3), m(3, 2)), desc="mm"),
            SampleInput("ij,jk", (m(2, 3), m(3, 2)), desc="implicit"),
            SampleInput("ij->ji", (m(2, 3),), desc="transpose"),
            SampleInput("ij->", (m(2, 3),), desc="sum"),
            SampleInput("i,i->", (m(3), m(3)), desc="dot"),
            SampleInput("i,j->ij", (m(3), m(2)), desc="outer"),
            SampleInput("bij,bjk->bik", (m(2, 2, 3), m(2, 3, 2)), desc="bmm"),
            SampleInput("...ij,...jk->...ik", (m(2, 2, 3), m(3, 2)), desc="ellipsis-bcast"),
            SampleInput("...ij,jk", (m(2, 2, 3, t=False), m(3, 2)), desc="ellipsis-implicit"),
            SampleInput("ba,cb", (m(2, 3), m(2, 2, nc=True)), desc="implicit-order"),
            SampleInput("ij,jk,kl->il", (m(2, 3), m(3, 2), m(2, 2)), desc="three"),
            SampleInput("ii->i", (m(3, 3),), desc="diagonal"),
            SampleInput("ii", (m(3, 3),), desc="trace"),
            SampleInput("ij,ij->ij", (m(2, 0), m(2, 0)), desc="empty")]


_reg(OpInfo("einsum", ref=_einsum_ref, sample_inputs=_einsum_samples, method=False,
           gradgrad=False, dtype_rule=lambda s: s.args[0].dtype,
           op=lambda mod, eq, *ops: mod.einsum(eq, *ops),
           error_inputs=lambda: [ErrorInput(
               SampleInput("ij,jk", (np.ones((2, 3), F32), np.ones((2, 3), F32))),
               RuntimeError, r"einsum\(\): .*")]))


# ------------------------------------------------------------------ shape ops
def _shape_samples(cases):
    """cases: (shape, args, kwargs, desc[, layout]) with layout None, 't' or 'nc'."""

    def gen(dtype, rng):
        out = []
        for c in cases:
            shape, args, kw, desc = c[:4]
            lay = c[4] if len(c) > 4 else None
            out.append(SampleInput(make(shape, dtype, rng, t=lay == "t", nc=lay == "nc"), args,
                                   dict(kw), desc=desc))
        return out

    return gen


def _method_op(name):
    return lambda mod, x, *a, **k: getattr(x, name)(*a, **k)


def _shape(name, ref, cases, errors=(), method_only=False, dtypes=ALL, gradgrad=False, **kw):
    def err():
        return [ErrorInput(SampleInput(*e[:3]), e[3], e[4]) for e in errors]

    return OpInfo(name, ref=ref, sample_inputs=_shape_samples(cases), dtypes=dtypes,
                  op=_method_op(name.split(".")[0]) if method_only else None,
                  error_inputs=err, gradgrad=gradgrad, **kw)


_X23 = np.ones((2, 3), F32)
_reg(_shape("view", lambda x, *s: x.reshape(*s), [
    ((2, 3), (3, 2), {}, "2d"), ((2, 3), (-1,), {}, "infer"), ((), (1,), {}, "0-d"),
    ((2, 3), ((1, 6),), {}, "tuple"), ((0, 3), (3, -1), {}, "empty"),
    ((4,), (2, 2), {}, "strided-1d-split", "nc")],
    errors=[(_X23, (4,), {}, RuntimeError, r"shape '\[4\]' is invalid for input of size 6"),
            (_X23.T, (6,), {}, RuntimeError, "view size is not compatible with input tensor's "
                                             "size and stride")],
    method_only=True, skips={"test_noncontiguous": "view requires viewable strides"}))
_reg(_shape("reshape", lambda x, s: x.reshape(s), [
    ((2, 3), ((3, 2),), {}, "2d"), ((2, 3), ((-1,),), {}, "infer"), ((), ((1, 1),), {}, "0-d"),
    ((3, 2), ((6,),), {}, "transposed-copy", "t"), ((0, 3), ((3, 0),), {}, "empty"),
    ((2, 3, 2), ((2, -1),), {}, "3d")],
    errors=[(_X23, ((4,),), {}, RuntimeError, r"shape '\[4\]' is invalid for input of size 6"),
            (_X23, ((-1, -1),), {}, RuntimeError, "only one dimension can be inferred")],
    gradgrad=True))
_reg(_shape("reshape.varargs", lambda x, *s: x.reshape(*s), [
    ((2, 3), (3, 2), {}, "2d"), ((2, 3), (-1,), {}, "infer"), ((), (1,), {}, "0-d"),
    ((3, 2), (6,), {}, "transposed-copy", "t")], method_only=True))
_reg(_shape("permute", lambda x, d: np.transpose(x, d), [
    ((2, 3, 2), ((2, 0, 1),), {}, "3d"), ((2, 3), ((-1, 0),), {}, "neg"), ((), ((),), {}, "0-d"),
    ((2, 3), ((1, 0),), {}, "transposed", "t"), ((0, 2), ((1, 0),), {}, "empty")],
    errors=[(_X23, ((0,),), {}, RuntimeError, "number of dimensions in the tensor input does "
                                              "not match the length of the desired ordering")]))
_reg(_shape("permute.varargs", lambda x, *d: np.transpose(x, d), [
    ((2, 3, 2), (2, 0, 1), {}, "3d"), ((2, 3), (-1, 0), {}, "neg", "t")], method_only=True))
_reg(_shape("transpose", lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x, [
    ((2, 3), (0, 1), {}, "2d"), ((2, 3, 2), (-1, 0), {}, "3d"), ((), (0, -1), {}, "0-d"),
    ((2, 3), (1, 0), {}, "strided", "nc"), ((0, 2), (0, 1), {}, "empty")],
    errors=[(_X23, (0, 2), {}, IndexError, "Dimension out of range")]))
_reg(_shape("t", lambda x: x.T, [
    ((2, 3), (), {}, "2d"), ((3,), (), {}, "1d"), ((), (), {}, "0-d"),
    ((2, 3), (), {}, "transposed", "t")],
    errors=[(np.ones((2, 2, 2), F32), (), {}, RuntimeError,
             r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D")]))
_reg(_shape("squeeze", _squeeze_ref, [
    ((1, 3, 1), (), {}, "all"), ((1, 3, 1), (0,), {}, "dim"), ((1, 3, 1), (1,), {}, "noop"),
    ((1, 3, 1), ((0, -1),), {}, "tuple"), ((), (), {}, "0-d"), ((), (0,), {}, "0-d-dim"),
    ((1, 0, 1), (), {}, "empty"), ((3, 1), (-1,), {}, "strided", "nc")],
    errors=[(_X23, (3,), {}, IndexError, "Dimension out of range")]))
_reg(_shape("unsqueeze", lambda x, d: np.expand_dims(x, d), [
    ((2, 3), (0,), {}, "front"), ((2, 3), (-1,), {}, "back"), ((2, 3), (1,), {}, "mid", "t"),
    ((), (0,), {}, "0-d"), ((0,), (1,), {}, "empty")],
    errors=[(_X23, (3,), {}, IndexError, "Dimension out of range")]))
_reg(_shape("expand", _expand_ref, [
    ((2, 1), (2, 3), {}, "basic"), ((3,), (2, 3), {}, "new-dim"), ((1, 3), (-1, 3), {}, "minus1"),
    ((), (2, 2), {}, "0-d"), ((1, 3), ((4, 3),), {}, "tuple", "nc"), ((1, 0), (2, 0), {}, "empty"),
    ((2, 3), (2, 3), {}, "same")],
    errors=[(_X23, (3, 3), {}, RuntimeError, r"The expanded size of the tensor \(3\) must match "
                                             r"the existing size \(2\)"),
            (_X23, (3,), {}, RuntimeError, "the number of sizes provided")],
    method_only=True))
_reg(_shape("broadcast_to", lambda x, s: np.broadcast_to(x, s), [
    ((2, 1), ((2, 3),), {}, "basic"), ((3,), ((2, 3),), {}, "new-dim"), ((), ((2,),), {}, "0-d"),
    ((1, 3), ((2, 3),), {}, "strided", "nc")],
    errors=[(_X23, ((3,),), {}, RuntimeError, "the number of sizes provided")]))
_reg(_shape("flatten", _flatten_ref, [
    ((2, 3, 2), (), {}, "all"), ((2, 3, 2), (1,), {}, "start"), ((2, 3, 2), (0, 1), {}, "range"),
    ((), (), {}, "0-d"), ((2, 0, 2), (), {}, "empty"), ((3, 2), (), {}, "transposed", "t")],
    errors=[(_X23, (1, 0), {}, RuntimeError, "start_dim cannot come after end_dim")]))
_reg(_shape("unflatten", _unflatten_ref, [
    ((2, 6), (1, (2, 3)), {}, "basic"), ((6,), (0, (-1, 2)), {}, "infer"),
    ((2, 6), (-1, (3, 2)), {}, "neg-dim", "t"), ((0, 4), (1, (2, 2)), {}, "empty")],
    errors=[(_X23, (1, (2, 2)), {}, RuntimeError, r"unflatten: Provided sizes \[2, 2\] don't "
                                                  r"multiply up to the size of dim 1 \(3\)")]))
_reg(_shape("narrow", _narrow_ref, [
    ((4, 3), (0, 1, 2), {}, "basic"), ((4, 3), (-1, 0, 3), {}, "neg-dim"),
    ((4, 3), (0, -2, 2), {}, "neg-start"), ((4, 3), (1, 1, 0), {}, "empty", "t")],
    errors=[(_X23, (1, 2, 3), {}, RuntimeError,
             r"start \(2\) \+ length \(3\) exceeds dimension size \(3\)"),
            (np.array(1.0, F32), (0, 0, 1), {}, RuntimeError,
             r"narrow\(\) cannot be applied to a 0-dim tensor")]))
_reg(_shape("select", lambda x, d, i: np.take(x, i, axis=d), [
    ((4, 3), (0, 1), {}, "basic"), ((4, 3), (1, -1), {}, "neg-index"),
    ((4, 3), (-1, 0), {}, "transposed", "t"), ((2, 0), (0, 1), {}, "empty")],
    errors=[(_X23, (0, 5), {}, IndexError,
             r"select\(\): index 5 out of range for tensor of size \[2, 3\] at dimension 0")]))
_reg(_shape("unbind", lambda x, d=0: tuple(np.moveaxis(x, d, 0)), [
    ((3, 2), (), {}, "basic"), ((2, 3), (1,), {}, "dim1"), ((2, 3), (-1,), {}, "transposed", "t"),
    ((0, 3), (), {}, "empty"), ((2, 0), (0,), {}, "empty-inner")],
    errors=[(_X23, (2,), {}, IndexError, "Dimension out of range")]))
_reg(_shape("split", _split_ref, [
    ((5, 2), (2,), {}, "int"), ((5, 2), ([1, 4],), {}, "sizes"), ((2, 5), (2, 1), {}, "dim1"),
    ((2, 5), ([0, 5], -1), {}, "zero-size", "t"), ((0, 2), (1,), {}, "empty")],
    errors=[(_X23, ([1, 1], 1), {}, RuntimeError, "split_with_sizes expects split_sizes to sum "
                                                  r"exactly to 3")]))
_reg(_shape("chunk", _chunk_ref, [
    ((5, 2), (2,), {}, "uneven"), ((6, 2), (3,), {}, "even"), ((2, 5), (3, 1), {}, "dim1"),
    ((2, 3), (5, -1), {}, "more-chunks", "t")],
    errors=[(_X23, (0,), {}, RuntimeError, "chunk expects `chunks` to be greater than 0")]))
_reg(_shape("tensor_split", _tensor_split_ref, [
    ((5, 2), (2,), {}, "sections"), ((5, 2), ([1, 3],), {}, "indices"),
    ((2, 5), (3, 1), {}, "dim1"), ((2, 5), ([1, 7], -1), {}, "oob-index", "t"),
    ((2, 2), (3,), {}, "more-sections")],
    errors=[(_X23, (0,), {}, RuntimeError, "number of sections must be larger than 0, got 0")]))
_reg(_shape("flip", lambda x, d: np.flip(x, d), [
    ((2, 3), ((0,),), {}, "dim0"), ((2, 3), ((0, 1),), {}, "both"),
    ((2, 3), ((-1,),), {}, "neg", "t"), ((), ((),), {}, "0-d"), ((0, 3), ((1,),), {}, "empty")],
    errors=[(_X23, ((2,),), {}, IndexError, "Dimension out of range")]))
_reg(_shape("roll", _roll_ref, [
    ((2, 3), (1, 1), {}, "dim"), ((2, 3), ((1, -1), (0, 1)), {}, "multi"),
    ((2, 3), (2,), {}, "flat"), ((2, 3), (-4, 1), {}, "neg-shift", "t"), ((0, 3), (1, 1), {},
                                                                          "empty")],
    errors=[(_X23, ((1, 2), (0,)), {}, RuntimeError, "shifts and dimensions must align")]))
_reg(_shape("repeat", _repeat_ref, [
    ((2, 3), (2, 1), {}, "basic"), ((3,), (2, 2), {}, "new-dims"), ((), (3,), {}, "0-d"),
    ((2, 3), ((1, 2),), {}, "tuple", "t"), ((0, 2), (2, 2), {}, "empty")],
    errors=[(_X23, (2,), {}, RuntimeError, "Number of dimensions of repeat dims can not be "
                                           "smaller than number of dimensions of tensor")],
    method_only=True))
_reg(_shape("tile", lambda x, d: np.tile(x, d), [
    ((2, 3), ((2, 1),), {}, "basic"), ((2, 3), ((2,),), {}, "short"), ((3,), ((2, 2),), {},
                                                                      "new-dims"),
    ((), ((3,),), {}, "0-d"), ((2, 3), ((1, 2),), {}, "transposed", "t")]))
_reg(_shape("movedim", lambda x, s, d: np.moveaxis(x, s, d), [
    ((2, 3, 2), (0, -1), {}, "basic"), ((2, 3, 2), ((0, 1), (2, 0)), {}, "tuple"),
    ((2, 3), (1, 0), {}, "transposed", "t"), ((0, 2), (0, 1), {}, "empty")],
    errors=[(_X23, ((0, 1), (0,)), {}, RuntimeError, "movedim: Invalid source or destination "
                                                     "dims")]))
_reg(_shape("clone", lambda x: x.copy(), [
    ((2, 3), (), {}, "basic"), ((), (), {}, "0-d"), ((0, 2), (), {}, "empty"),
    ((2, 3), (), {}, "transposed", "t"), ((2, 3), (), {}, "strided", "nc")]))
_reg(_shape("contiguous", lambda x: np.array(x, order="C"), [
    ((2, 3), (), {}, "basic"), ((), (), {}, "0-d"), ((0, 2), (), {}, "empty"),
    ((2, 3), (), {}, "transposed", "t"), ((2, 3), (), {}, "strided", "nc")], method_only=True))


def _join_samples(kind):
    def gen(dtype, rng):
        def m(*shape, **k):
            return make(shape, dtype, rng, **k)

        o = _other_dtype(dtype)
        if kind == "cat":
            return [SampleInput([m(2, 3), m(1, 3)], desc="dim0"),
                    SampleInput([m(2, 3), m(2, 1), m(2, 2, t=True)], (1,), desc="dim1"),
                    SampleInput([m(2, 3), m(2, 2, nc=True)], (-1,), desc="neg-dim"),
                    SampleInput([m(2, 3)], desc="single"),
                    SampleInput([m(0, 3), m(2, 3)], desc="empty-part"),
                    SampleInput([m(2, 3), m(0)], desc="legacy-empty-1d"),
                    SampleInput([m(2, 3), make((1, 3), o, rng)], desc=f"mixed-{o}")]
        if kind == "stack":
            return [SampleInput([m(2, 3), m(2, 3)], desc="dim0"),
                    SampleInput([m(2, 3), m(2, 3, t=True)], (2,), desc="last"),
                    SampleInput([m(2, 3), m(2, 3, nc=True)], (-2,), desc="neg"),
                    SampleInput([m(), m()], desc="0-d"),
                    SampleInput([m(0, 3), m(0, 3)], (1,), desc="empty"),
                    SampleInput([m(2), make((2,), o, rng)], desc=f"mixed-{o}")]
        if kind == "hstack":
            return [SampleInput([m(2, 3), m(2, 1)], desc="2d"), SampleInput([m(2), m(3)],
                                                                            desc="1d"),
                    SampleInput([m(), m(2)], desc="0-d"),
                    SampleInput([m(2, 2, t=True), m(2, 1, nc=True)], desc="noncontig")]
        return [SampleInput([m(2, 3), m(1, 3)], desc="2d"), SampleInput([m(3), m(3)], desc="1d"),
                SampleInput([m(3), m(2, 3, t=True)], desc="mixed-rank")]

    return gen


def _stack_ref(ts, dim=0):
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = promote_pair(dt, t.dtype)
    return np.stack([t.astype(dt) for t in ts], axis=dim)


_reg(OpInfo("cat", ref=_cat_ref, sample_inputs=_join_samples("cat"), dtypes=ALL, method=False,
           supports_out=True, gradgrad=True, dtype_rule=lambda s: _stack_ref_dtype(s),
           error_inputs=lambda: [ErrorInput(
               SampleInput([np.ones((2, 3), F32), np.ones((3, 3), F32)], (1,)), RuntimeError,
               "Sizes of tensors must match except in dimension 1"),
               ErrorInput(SampleInput([np.array(1.0, F32)]), RuntimeError,
                          "zero-dimensional tensor .* cannot be concatenated")]))
_reg(OpInfo("stack", ref=_stack_ref, sample_inputs=_join_samples("stack"), dtypes=ALL,
           method=False, supports_out=True, gradgrad=True,
           dtype_rule=lambda s: _stack_ref_dtype(s),
           error_inputs=lambda: [ErrorInput(
               SampleInput([np.ones((2, 3), F32), np.ones((3, 3), F32)]), RuntimeError,
               r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and "
               r"\[3, 3\] at entry 1")]))
_reg(OpInfo("hstack", ref=np.hstack, sample_inputs=_join_samples("hstack"), dtypes=ALL,
           method=False, dtype_rule=lambda s: _stack_ref_dtype(s)))
_reg(OpInfo("vstack", ref=np.vstack, sample_inputs=_join_samples("vstack"), dtypes=ALL,
           method=False, dtype_rule=lambda s: _stack_ref_dtype(s),
           error_inputs=lambda: [ErrorInput(
               SampleInput([np.ones((2, 3), F32), np.ones((3, 4), F32)]), RuntimeError,
               "Sizes of tensors must match except in dimension 0")]))


def _stack_ref_dtype(s):
    dt = s.input[0].dtype
    for t in s.input[1:]:
        dt = promote_pair(dt, t.dtype)
    return dt


# ------------------------------------------------------------------ indexing
def _getitem_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    idx = np.array([2, 0, -1])
    rep = np.array([1, 1, 0, 1])
    mask = np.array([True, False, True, False])
    return [SampleInput(m(4, 3), (1,), desc="int"),
            SampleInput(m(4, 3), (-1,), desc="neg-int"),
            SampleInput(m(4, 3), ((slice(1, None, 2), slice(None, -1)),), desc="slices"),
            SampleInput(m(4, 3), ((None, Ellipsis, 1),), desc="none-ellipsis"),
            SampleInput(m(4, 3), (idx,), desc="int-tensor"),
            SampleInput(m(4, 3), (rep,), desc="repeated"),
            SampleInput(m(4, 3), (mask,), desc="bool-mask"),
            SampleInput(m(4, 3), (m(4, 3, low=-1, high=1) > 0,), desc="full-mask"),
            SampleInput(m(4, 3), ((slice(None), np.array([0, 2, 2])),), desc="mixed"),
            SampleInput(m(2, 3, 4), ((np.array([0, 1]), slice(None), np.array([3, 0])),),
                        desc="separated-adv"),
            SampleInput(m(2, 3, 4), ((1, np.array([[0, 2], [1, 1]])),), desc="int-and-adv"),
            SampleInput(m(2, 3, 4), ((Ellipsis, np.array([1, 0])),), desc="ellipsis-adv"),
            SampleInput(m(2, 3, 4), ((None, np.array([1, 0]), None),), desc="none-adv"),
            SampleInput(m(3, 4, t=True), ((np.array([0, 2]), slice(1, 3)),), desc="transposed"),
            SampleInput(m(4, 3, nc=True), ((slice(None, None, 2), 2),), desc="strided"),
            SampleInput(m(), ((None,),), desc="0-d-none"),
            SampleInput(m(), ((Ellipsis,),), desc="0-d-ellipsis"),
            SampleInput(m(0, 3), ((slice(None), 1),), desc="empty"),
            SampleInput(m(4, 3), (np.array([], np.int64),), desc="empty-index")]


_reg(OpInfo("__getitem__", ref=_index_ref, sample_inputs=_getitem_samples, dtypes=ALL,
           op=lambda mod, x, key: x[key], gradgrad=True,
           skips={"test_variants": "operator form only"},
           error_inputs=lambda: [
               ErrorInput(SampleInput(np.ones((2, 3), F32), (5,)), IndexError,
                          "index 5 is out of bounds for dimension 0 with size 2"),
               ErrorInput(SampleInput(np.ones((2, 3), F32), ((0, 0, 0),)), IndexError,
                          "too many indices for tensor of dimension 2"),
               ErrorInput(SampleInput(np.ones((2, 3), F32), (np.array([0, 3]),)), IndexError,
                          "index 3 is out of bounds for dimension 0 with size 2"),
               ErrorInput(SampleInput(np.ones((2, 3), F32), (np.array([0.5]),)), IndexError,
                          "tensors used as indices must be long, int, byte or bool tensors")]))


def _index_put_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    return [SampleInput(m(4, 3), ((np.array([0, 2]),), m(2, 3)), desc="rows"),
            SampleInput(m(4, 3), ((np.array([0, 2]), np.array([1, 1])), m(2)), desc="points"),
            SampleInput(m(4, 3), ((np.array([True, False, True, False]),), m(3)),
                        desc="mask-bcast"),
            SampleInput(m(4, 3), ((np.array([1, 1, 3]),), m(3, 3), True), desc="accumulate"),
            SampleInput(m(4, 3, t=True), ((np.array([3]),), m(1, 3)), desc="transposed"),
            SampleInput(m(4, 3), ((np.array([], np.int64),), m(0, 3)), desc="empty")]


_reg(OpInfo("index_put", ref=lambda x, key, v, acc=False: _index_put_ref(x, key, v, acc),
           sample_inputs=_index_put_samples, dtypes=ALL, inplace=True, gradgrad=True,
           error_inputs=lambda: [ErrorInput(
               SampleInput(np.ones((2, 3), F32), ((np.array([0]),), np.ones(4, F32))),
               RuntimeError, r"shape mismatch: value tensor of shape \[4\] cannot be broadcast "
                             r"to indexing result of shape \[1, 3\]")]))


def _setitem_samples(dtype, rng):
    def m(*shape, **k):
        return make(shape, dtype, rng, **k)

    return [SampleInput(m(4, 3), (1, m(3)), desc="int"),
            SampleInput(m(4, 3), ((slice(1, 3), slice(None)), m(2, 1)), desc="slice-bcast"),
            SampleInput(m(4, 3), (np.array([0, 2]), m(2, 3)), desc="int-tensor"),
            SampleInput(m(4, 3), (np.array([True, False, False, True]), m(3)), desc="mask"),
            SampleInput(m(4, 3), ((Ellipsis, np.array([0, 2])), m(4, 2)), desc="ellipsis-adv"),
            SampleInput(m(4, 3), ((None, 0), m(3)), desc="none"),
            SampleInput(m(4, 3), (np.array([-1]), m(1, 3)), desc="neg"),
            SampleInput(m(4, 3, t=True), ((slice(None), 0), m(4)), desc="transposed"),
            SampleInput(m(4, 3), (0, 1.0 if dtype.kind == "f" else 1), desc="scalar-value")]


_reg(OpInfo("__setitem__", ref=lambda x, key, v: _index_put_ref(x, key, v),
           sample_inputs=_setitem_samples, dtypes=ALL, op=_setitem_op, gradgrad=False,
           skips={"test_variants": "operator form only"},
           error_inputs=lambda: [
               ErrorInput(SampleInput(np.ones((2, 3), F32), (5, 1.0)), IndexError,
                          "index 5 is out of bounds for dimension 0 with size 2"),
               ErrorInput(SampleInput(np.ones((2, 3), F32), (0, np.ones(4, F32))), RuntimeError,
                          r"shape mismatch|\[4\]")]))

# ------------------------------------------------------------------ Python operators
# Operators go straight to each op's core (ember/_ops/__init__.py), past the functions above.
def _operator(name, fn, ref, rule="promote", dtypes=FLOAT_INT, reverse=False,
              differentiable=True, **samples_kw):
    """``fn(x, other)``; ``reverse``: ``other`` is a Python scalar on the left."""
    if reverse:
        def gen(dtype, rng):
            x = make((2, 3), dtype, rng, 0.5, 2)
            return [SampleInput(x, (2,), desc="int-scalar"),
                    SampleInput(x, (1.5,), desc="float-scalar"),
                    SampleInput(make((), dtype, rng, 0.5, 2), (3,), desc="0-d")]
    else:
        gen = binary_samples(**samples_kw)
    return OpInfo(name, ref=ref, op=lambda mod, x, o: fn(x, o), sample_inputs=gen,
                  dtypes=dtypes, method=False, dtype_rule=rule, differentiable=differentiable)


_reg(_operator("__add__", lambda a, b: a + b, np.add, dtypes=ALL[:-1]))
_reg(_operator("__radd__", lambda a, b: b + a, lambda a, b: b + a, reverse=True))
_reg(_operator("__sub__", lambda a, b: a - b, np.subtract))
_reg(_operator("__rsub__", lambda a, b: b - a, lambda a, b: b - a, reverse=True))
_reg(_operator("__mul__", lambda a, b: a * b, np.multiply, dtypes=ALL))
_reg(_operator("__rmul__", lambda a, b: b * a, lambda a, b: b * a, reverse=True))
_reg(_operator("__truediv__", lambda a, b: a / b, np.true_divide, rule="float", rlow=0.5,
               avoid_zero_rhs=True))
_reg(_operator("__rtruediv__", lambda a, b: b / a, lambda a, b: b / a, rule="float",
               reverse=True))
_reg(_operator("__floordiv__", lambda a, b: a // b, np.floor_divide, avoid_zero_rhs=True,
               rlow=-3, scalars=(2,), differentiable=False))
_reg(_operator("__mod__", lambda a, b: a % b, np.remainder, avoid_zero_rhs=True, rlow=-3,
               scalars=(2,)))
_reg(_operator("__pow__", lambda a, b: a ** b, _pow_ref, dtypes=FLOATS, low=0.5, high=2,
               scalars=(2, 0.5)))
_reg(_operator("__rpow__", lambda a, b: b ** a, lambda a, b: _pow_ref(b, a), reverse=True,
               dtypes=FLOATS))
_reg(_operator("__and__", lambda a, b: a & b, np.bitwise_and, dtypes=INT_BOOL, low=0, high=5,
               scalars=(3,)))
_reg(_operator("__or__", lambda a, b: a | b, np.bitwise_or, dtypes=INT_BOOL, low=0, high=5,
               scalars=(3,)))
_reg(_operator("__xor__", lambda a, b: a ^ b, np.bitwise_xor, dtypes=INT_BOOL, low=0, high=5,
               scalars=(3,)))
_reg(_operator("__lt__", lambda a, b: a < b, np.less, rule="bool", dtypes=ALL))
_reg(OpInfo("__matmul__", ref=np.matmul, op=lambda mod, a, b: a @ b, method=False,
            sample_inputs=_matmul_samples, dtypes=FLOAT_INT))
_reg(OpInfo("__neg__", ref=np.negative, op=lambda mod, x: -x, method=False,
            sample_inputs=unary_samples(), dtypes=FLOAT_INT))
_reg(OpInfo("__invert__", ref=np.invert, op=lambda mod, x: ~x, method=False,
            sample_inputs=unary_samples(-5, 5), dtypes=INT_BOOL, differentiable=False))
_reg(OpInfo("__abs__", ref=np.abs, op=lambda mod, x: abs(x), method=False,
            sample_inputs=unary_samples(), dtypes=FLOAT_INT))


# ------------------------------------------------------------------ foreach and fused records
# torch._foreach_* take lists of tensors; samples hold lists of arrays of mixed shapes (0-dim
# included). In-place entries return the updated list so values can be compared.
_FE_SHAPES = ((2, 3), (4,), ())


def _fe_list(dtype, rng, low=-3.0, high=3.0, avoid_zero=False):
    return [make(s, dtype, rng, low, high, avoid_zero=avoid_zero) for s in _FE_SHAPES]


def _fe_call(name, inplace):
    def op(mod, xs, *args, **kw):
        r = getattr(mod, name)(xs, *args, **kw)
        if inplace:
            assert r is xs, f"{name} returns the list it was given"
            return xs
        return r
    return op


def _fe_binary_samples(short):
    def gen(dtype, rng):
        div = short == "div"
        xs = lambda: _fe_list(dtype, rng)  # noqa: E731
        ys = lambda: _fe_list(dtype, rng, 0.5 if div else -3.0, 3.0)  # noqa: E731
        out = [SampleInput(xs(), (1.5,), desc="scalar"),
               SampleInput(xs(), ([0.5, -2.0, 3.0] if not div else [0.5, 2.0, 3.0],),
                           desc="scalar list"),
               SampleInput(xs(), (ys(),), desc="tensor list")]
        if short in ("add", "sub"):
            out.append(SampleInput(xs(), (ys(),), {"alpha": 0.7}, desc="alpha"))
        if short in ("add", "sub", "mul", "div"):
            out.append(SampleInput(xs(), (np.array(1.25, dtype),), desc="0-dim tensor"))
        return out
    return gen


def _fe_binary_ref(np_fn):
    def ref(xs, other, alpha=1):
        if isinstance(other, list):
            if isinstance(other[0], np.ndarray):
                return [np_fn(x, np.multiply(y, alpha)).astype(x.dtype) for x, y in zip(xs, other)]
            return [np_fn(x, s).astype(x.dtype) for x, s in zip(xs, other)]
        return [np_fn(x, other).astype(x.dtype) for x in xs]
    return ref


for _s, _fn in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                ("div", np.true_divide), ("maximum", np.maximum), ("minimum", np.minimum)):
    for _ip in (False, True):
        _n = f"_foreach_{_s}" + ("_" if _ip else "")
        _reg(OpInfo(_n, ref=_fe_binary_ref(_fn), sample_inputs=_fe_binary_samples(_s),
                    op=_fe_call(_n, _ip), method=False, differentiable=False))

_FE_UNARY = {"sqrt": (np.sqrt, 0.1, 3.0), "neg": (np.negative, -3.0, 3.0),
             "sign": (np.sign, -3.0, 3.0), "abs": (np.abs, -3.0, 3.0),
             "reciprocal": (np.reciprocal, 0.5, 3.0), "exp": (np.exp, -3.0, 3.0)}
for _s, (_fn, _lo, _hi) in _FE_UNARY.items():
    for _ip in (False, True):
        _n = f"_foreach_{_s}" + ("_" if _ip else "")
        _reg(OpInfo(_n, ref=lambda xs, _f=_fn: [_f(x).astype(x.dtype) for x in xs],
                    sample_inputs=lambda dt, rng, _l=_lo, _h=_hi: [
                        SampleInput(_fe_list(dt, rng, _l, _h))],
                    op=_fe_call(_n, _ip), method=False, differentiable=False))


def _fe_pointwise_samples(div):
    def gen(dtype, rng):
        def t2():
            return _fe_list(dtype, rng, 0.5, 3.0) if div else _fe_list(dtype, rng)
        return [SampleInput(_fe_list(dtype, rng), (_fe_list(dtype, rng), t2()), desc="value 1"),
                SampleInput(_fe_list(dtype, rng), (_fe_list(dtype, rng), t2(), -0.25),
                            desc="value"),
                SampleInput(_fe_list(dtype, rng), (_fe_list(dtype, rng), t2(), [0.5, -1.5, 2.0]),
                            desc="scalar list")]
    return gen


def _fe_pointwise_ref(np_fn):
    def ref(xs, t1, t2, value=1):
        vs = value if isinstance(value, list) else [value] * len(xs)
        return [(x + np_fn(np.multiply(a, v), b)).astype(x.dtype)
                for x, a, b, v in zip(xs, t1, t2, vs)]
    return ref


for _s, _fn in (("addcmul", np.multiply), ("addcdiv", np.true_divide)):
    for _ip in (False, True):
        _n = f"_foreach_{_s}" + ("_" if _ip else "")
        _reg(OpInfo(_n, ref=_fe_pointwise_ref(_fn), sample_inputs=_fe_pointwise_samples(
            _s == "addcdiv"), op=_fe_call(_n, _ip), method=False, differentiable=False))


def _fe_lerp_samples(dtype, rng):
    return [SampleInput(_fe_list(dtype, rng), (_fe_list(dtype, rng), w), desc=d)
            for w, d in ((0.3, "small weight"), (0.8, "large weight"),
                         ([0.1, 0.6, 0.9], "scalar list"),
                         (_fe_list(dtype, rng, 0.0, 1.0), "tensor weights"))]


def _fe_lerp_ref(xs, ends, weight):
    ws = weight if isinstance(weight, list) else [weight] * len(xs)
    return [_lerp_ref(x, e, np.asarray(w, x.dtype)).astype(x.dtype)
            for x, e, w in zip(xs, ends, ws)]


for _ip in (False, True):
    _n = "_foreach_lerp" + ("_" if _ip else "")
    _reg(OpInfo(_n, ref=_fe_lerp_ref, sample_inputs=_fe_lerp_samples, op=_fe_call(_n, _ip),
                method=False, differentiable=False))

_reg(OpInfo("_foreach_zero_", ref=lambda xs: [np.zeros_like(x) for x in xs],
            sample_inputs=lambda dt, rng: [SampleInput(_fe_list(dt, rng))],
            op=_fe_call("_foreach_zero_", True), method=False, differentiable=False))
_reg(OpInfo("_foreach_copy_", ref=lambda xs, src: [s.astype(x.dtype) for x, s in zip(xs, src)],
            sample_inputs=lambda dt, rng: [
                SampleInput(_fe_list(dt, rng), (_fe_list(dt, rng),)),
                SampleInput(_fe_list(dt, rng), (_fe_list(_other_dtype(dt), rng),),
                            desc="cast")],
            op=_fe_call("_foreach_copy_", True), method=False, differentiable=False))


def _fe_norm_ref(xs, ord=2):
    out = []
    for x in xs:
        a = np.abs(x.astype(np.float64).ravel())
        v = a.max(initial=0.0) if ord == INF else (a ** ord).sum() ** (1.0 / ord)
        out.append(np.asarray(v, x.dtype))
    return out


_reg(OpInfo("_foreach_norm", ref=_fe_norm_ref,
            sample_inputs=lambda dt, rng: [SampleInput(_fe_list(dt, rng), kwargs={"ord": o},
                                                       desc=f"ord {o}")
                                           for o in (2, 1, INF, 3)],
            op=_fe_call("_foreach_norm", False), method=False, differentiable=False))


def _fe_adam_ref(decoupled):
    def ref(xs, gs, ms, vs, vmaxs, steps, *, lr, beta1, beta2, weight_decay, eps, amsgrad,
            maximize):
        out_x, out_m, out_v = [], [], []
        for i, (x, g, m, v) in enumerate(zip(xs, gs, ms, vs)):
            t = float(steps[i])
            x, g = x.astype(np.float64), g.astype(np.float64) * (-1 if maximize else 1)
            if decoupled:
                x = x * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * x
            m = m + (1 - beta1) * (g - m)
            v = beta2 * v + (1 - beta2) * g * g
            vv = np.maximum(vmaxs[i], v) if amsgrad else v
            x = x - lr / (1 - beta1 ** t) * m / (np.sqrt(vv) / np.sqrt(1 - beta2 ** t) + eps)
            dt = xs[i].dtype
            out_x.append(x.astype(dt))
            out_m.append(m.astype(dt))
            out_v.append(v.astype(dt))
        return out_x + out_m + out_v
    return ref


def _fe_adam_samples(dtype, rng):
    out = []
    for amsgrad, maximize, wd in ((False, False, 0.0), (True, True, 0.1)):
        vs = _fe_list(dtype, rng, 0.1, 1.0)
        out.append(SampleInput(
            _fe_list(dtype, rng),
            (_fe_list(dtype, rng), _fe_list(dtype, rng), vs,
             [np.asarray(v + 0.05, dtype) for v in vs] if amsgrad else [],
             [np.array(t, np.float32) for t in (1.0, 3.0, 3.0)]),
            dict(lr=0.1, beta1=0.9, beta2=0.99, weight_decay=wd, eps=1e-8, amsgrad=amsgrad,
                 maximize=maximize), desc=f"amsgrad={amsgrad} maximize={maximize} wd={wd}"))
    return out


def _fe_fused_adam_op(name):
    def op(mod, xs, gs, ms, vs, vmaxs, steps, **kw):
        assert getattr(mod, name)(xs, gs, ms, vs, vmaxs, steps, **kw) is None
        return xs + ms + vs
    return op


for _n, _dec in (("_fused_adam_", False), ("_fused_adamw_", True)):
    _reg(OpInfo(_n, ref=_fe_adam_ref(_dec), sample_inputs=_fe_adam_samples,
                op=_fe_fused_adam_op(_n), method=False, differentiable=False,
                atol={F32: 1e-5, F64: 1e-12}, rtol={F32: 1e-4, F64: 1e-10}))


def _fe_sgd_ref(xs, gs, bufs, *, weight_decay, momentum, lr, dampening, nesterov, maximize,
                is_first_step):
    out_x, out_b = [], []
    for i, (x, g) in enumerate(zip(xs, gs)):
        g = (-g if maximize else g) + weight_decay * x
        if momentum:
            b = g.copy() if is_first_step else momentum * bufs[i] + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
            out_b.append(b.astype(x.dtype))
        out_x.append((x - lr * g).astype(x.dtype))
    return out_x + out_b


def _fe_sgd_samples(dtype, rng):
    out = []
    for mom, nest, first, damp in ((0.0, False, False, 0.0), (0.9, True, True, 0.0),
                                   (0.9, False, False, 0.3)):
        out.append(SampleInput(
            _fe_list(dtype, rng), (_fe_list(dtype, rng), _fe_list(dtype, rng) if mom else []),
            dict(weight_decay=0.05, momentum=mom, lr=0.1, dampening=damp, nesterov=nest,
                 maximize=damp > 0, is_first_step=first),
            desc=f"momentum={mom} nesterov={nest} first={first} dampening={damp}"))
    return out


def _fe_fused_sgd_op(mod, xs, gs, bufs, **kw):
    assert mod._fused_sgd_(xs, gs, bufs, **kw) is None
    return xs + bufs


_reg(OpInfo("_fused_sgd_", ref=_fe_sgd_ref, sample_inputs=_fe_sgd_samples, op=_fe_fused_sgd_op,
            method=False, differentiable=False, atol={F32: 1e-5, F64: 1e-12},
            rtol={F32: 1e-5, F64: 1e-10}))



# The other optimizers' fused records (NOTE [ Fused records of the other optimizers ]):
# float64 references written from the algorithms' formulas; only _fused_adagrad_ exists in
# PyTorch, so the others have no oracle.
_FE_OPT_TOL = dict(atol={F32: 1e-5, F64: 1e-12}, rtol={F32: 1e-4, F64: 1e-10})
_NO_TORCH_KERNEL = {"test_torch": "PyTorch has no such kernel (an ember record)"}


def _fe_g(x, g, maximize, weight_decay):
    x64 = x.astype(np.float64)
    return x64, (-1 if maximize else 1) * g.astype(np.float64) + weight_decay * x64


def _fe_rmsprop_ref(xs, gs, vs, gas, bufs, *, lr, alpha, eps, weight_decay, momentum,
                    centered, maximize):
    ox, ov, oa, ob = [], [], [], []
    for i, (x, g, v) in enumerate(zip(xs, gs, vs)):
        dt = x.dtype
        x, g = _fe_g(x, g, maximize, weight_decay)
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            ga = gas[i] + (1 - alpha) * (g - gas[i])
            avg = np.sqrt(v - ga * ga) + eps
            oa.append(ga.astype(dt))
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * bufs[i] + g / avg
            x = x - lr * b
            ob.append(b.astype(dt))
        else:
            x = x - lr * g / avg
        ox.append(x.astype(dt))
        ov.append(v.astype(dt))
    return ox + ov + oa + ob


def _fe_rmsprop_samples(dtype, rng):
    out = []
    for centered, momentum, maximize, wd in ((False, 0.0, False, 0.0), (True, 0.9, True, 0.1)):
        out.append(SampleInput(
            _fe_list(dtype, rng),
            (_fe_list(dtype, rng), _fe_list(dtype, rng, 0.1, 1.0),
             _fe_list(dtype, rng, -0.1, 0.1) if centered else [],
             _fe_list(dtype, rng) if momentum else []),
            dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=wd, momentum=momentum,
                 centered=centered, maximize=maximize),
            desc=f"centered={centered} momentum={momentum} maximize={maximize} wd={wd}"))
    return out


def _fe_rmsprop_op(mod, xs, gs, vs, gas, bufs, **kw):
    assert mod._fused_rmsprop_(xs, gs, vs, gas, bufs, **kw) is None
    return xs + vs + gas + bufs


def _fe_steps(*ts):
    return [np.array(t, np.float32) for t in ts]


def _fe_adagrad_ref(xs, gs, sums, steps, *, lr, lr_decay, weight_decay, eps, maximize):
    ox, os_ = [], []
    for x, g, s, t in zip(xs, gs, sums, steps):
        dt = x.dtype
        x, g = _fe_g(x, g, maximize, weight_decay)
        s = s + g * g
        x = x - lr / (1 + (float(t) - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        ox.append(x.astype(dt))
        os_.append(s.astype(dt))
    return ox + os_


def _fe_adagrad_samples(dtype, rng):
    return [SampleInput(_fe_list(dtype, rng),
                        (_fe_list(dtype, rng), _fe_list(dtype, rng, 0.0, 1.0),
                         _fe_steps(1.0, 3.0, 3.0)),
                        dict(lr=0.1, lr_decay=lr_decay, weight_decay=wd, eps=1e-10,
                             maximize=maximize),
                        desc=f"lr_decay={lr_decay} wd={wd} maximize={maximize}")
            for lr_decay, wd, maximize in ((0.0, 0.0, False), (0.1, 0.1, True))]


def _fe_adagrad_op(mod, xs, gs, sums, steps, **kw):
    assert mod._fused_adagrad_(xs, gs, sums, steps, **kw) is None
    return xs + sums


def _fe_adadelta_ref(xs, gs, vs, us, *, lr, rho, eps, weight_decay, maximize):
    ox, ov, ou = [], [], []
    for x, g, v, u in zip(xs, gs, vs, us):
        dt = x.dtype
        x, g = _fe_g(x, g, maximize, weight_decay)
        v = rho * v + (1 - rho) * g * g
        d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        ox.append((x - lr * d).astype(dt))
        ov.append(v.astype(dt))
        ou.append(u.astype(dt))
    return ox + ov + ou


def _fe_adadelta_samples(dtype, rng):
    return [SampleInput(_fe_list(dtype, rng),
                        (_fe_list(dtype, rng), _fe_list(dtype, rng, 0.0, 1.0),
                         _fe_list(dtype, rng, 0.0, 1.0)),
                        dict(lr=0.5, rho=0.9, eps=1e-6, weight_decay=wd, maximize=maximize),
                        desc=f"wd={wd} maximize={maximize}")
            for wd, maximize in ((0.0, False), (0.1, True))]


def _fe_adadelta_op(mod, xs, gs, vs, us, **kw):
    assert mod._fused_adadelta_(xs, gs, vs, us, **kw) is None
    return xs + vs + us


def _fe_adamax_ref(xs, gs, ms, us, steps, *, lr, beta1, beta2, eps, weight_decay, maximize):
    ox, om, ou = [], [], []
    for x, g, m, u, t in zip(xs, gs, ms, us, steps):
        dt = x.dtype
        x, g = _fe_g(x, g, maximize, weight_decay)
        m = m + (1 - beta1) * (g - m)
        u = np.maximum(beta2 * u, np.abs(g) + eps)
        ox.append((x - lr / (1 - beta1 ** float(t)) * m / u).astype(dt))
        om.append(m.astype(dt))
        ou.append(u.astype(dt))
    return ox + om + ou


def _fe_adamax_samples(dtype, rng):
    return [SampleInput(_fe_list(dtype, rng),
                        (_fe_list(dtype, rng), _fe_list(dtype, rng),
                         _fe_list(dtype, rng, 0.0, 1.0), _fe_steps(1.0, 3.0, 3.0)),
                        dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=wd,
                             maximize=maximize), desc=f"wd={wd} maximize={maximize}")
            for wd, maximize in ((0.0, False), (0.1, True))]


def _fe_adamax_op(mod, xs, gs, ms, us, steps, **kw):
    assert mod._fused_adamax_(xs, gs, ms, us, steps, **kw) is None
    return xs + ms + us


def _fe_nadam_ref(xs, gs, ms, vs, mps, steps, *, lr, beta1, beta2, eps, weight_decay,
                  momentum_decay, decoupled_weight_decay, maximize):
    ox, om, ov, op = [], [], [], []
    for x, g, m, v, mp, t in zip(xs, gs, ms, vs, mps, steps):
        dt, t = x.dtype, float(t)
        x, g = _fe_g(x, g, maximize, 0.0 if decoupled_weight_decay else weight_decay)
        if decoupled_weight_decay:
            x = x * (1 - lr * weight_decay)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu1 = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mp = float(mp) * mu
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        d = np.sqrt(v / (1 - beta2 ** t)) + eps
        x = x - lr * (1 - mu) / (1 - mp) * g / d - lr * mu1 / (1 - mp * mu1) * m / d
        ox.append(x.astype(dt))
        om.append(m.astype(dt))
        ov.append(v.astype(dt))
        op.append(np.asarray(mp, dt))
    return ox + om + ov + op


def _fe_nadam_samples(dtype, rng):
    out = []
    for decoupled, maximize, wd in ((False, False, 0.0), (False, True, 0.1), (True, False, 0.1)):
        out.append(SampleInput(
            _fe_list(dtype, rng),
            (_fe_list(dtype, rng), _fe_list(dtype, rng), _fe_list(dtype, rng, 0.1, 1.0),
             [np.array(p, dtype) for p in (1.0, 0.5, 0.5)], _fe_steps(1.0, 3.0, 3.0)),
            dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=wd,
                 momentum_decay=4e-3, decoupled_weight_decay=decoupled, maximize=maximize),
            desc=f"decoupled={decoupled} maximize={maximize} wd={wd}"))
    return out


def _fe_nadam_op(mod, xs, gs, ms, vs, mps, steps, **kw):
    assert mod._fused_nadam_(xs, gs, ms, vs, mps, steps, **kw) is None
    return xs + ms + vs + mps


def _fe_radam_ref(xs, gs, ms, vs, steps, *, lr, beta1, beta2, eps, weight_decay,
                  decoupled_weight_decay, maximize):
    ox, om, ov = [], [], []
    rho_inf = 2 / (1 - beta2) - 1
    for x, g, m, v, t in zip(xs, gs, ms, vs, steps):
        dt, t = x.dtype, float(t)
        x, g = _fe_g(x, g, maximize, 0.0 if decoupled_weight_decay else weight_decay)
        if decoupled_weight_decay:
            x = x * (1 - lr * weight_decay)
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        upd = lr * m / (1 - beta1 ** t)
        if rho > 5:
            r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            upd = upd * r * np.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)
        ox.append((x - upd).astype(dt))
        om.append(m.astype(dt))
        ov.append(v.astype(dt))
    return ox + om + ov


def _fe_radam_samples(dtype, rng):
    out = []
    for decoupled, maximize, wd in ((False, False, 0.0), (False, True, 0.1), (True, False, 0.1)):
        out.append(SampleInput(
            _fe_list(dtype, rng),
            (_fe_list(dtype, rng), _fe_list(dtype, rng), _fe_list(dtype, rng, 0.1, 1.0),
             _fe_steps(1.0, 6.0, 20.0)),  # rho_t <= 5 at step 1, > 5 at steps 6 and 20
            dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=wd,
                 decoupled_weight_decay=decoupled, maximize=maximize),
            desc=f"decoupled={decoupled} maximize={maximize} wd={wd}"))
    return out


def _fe_radam_op(mod, xs, gs, ms, vs, steps, **kw):
    assert mod._fused_radam_(xs, gs, ms, vs, steps, **kw) is None
    return xs + ms + vs


def _fe_rprop_ref(xs, gs, prevs, sizes, *, etaminus, etaplus, step_size_min, step_size_max,
                  maximize):
    ox, op, os_ = [], [], []
    for x, g, prev, ss in zip(xs, gs, prevs, sizes):
        dt = x.dtype
        g = (-1 if maximize else 1) * g.astype(np.float64)
        sg = np.sign(g * prev)
        factor = np.where(sg > 0, etaplus, np.where(sg < 0, etaminus, 1.0))
        g = np.where(sg < 0, 0.0, g)
        ss = np.clip(ss * factor, step_size_min, step_size_max)
        ox.append((x - np.sign(g) * ss).astype(dt))
        op.append(g.astype(dt))
        os_.append(ss.astype(dt))
    return ox + op + os_


def _fe_rprop_samples(dtype, rng):
    out = []
    for maximize in (False, True):
        gs = _fe_list(dtype, rng)
        prevs = _fe_list(dtype, rng)
        prevs[0].flat[0] = 0.0  # a zero product keeps the step size
        out.append(SampleInput(
            _fe_list(dtype, rng), (gs, prevs, _fe_list(dtype, rng, 0.01, 0.1)),
            dict(etaminus=0.5, etaplus=1.2, step_size_min=0.02, step_size_max=0.09,
                 maximize=maximize), desc=f"maximize={maximize}"))
    return out


def _fe_rprop_op(mod, xs, gs, prevs, sizes, **kw):
    assert mod._fused_rprop_(xs, gs, prevs, sizes, **kw) is None
    return xs + prevs + sizes


def _fe_asgd_ref(xs, gs, axs, etas, mus, *, lambd, weight_decay, maximize, new_etas,
                 new_mus):
    ox, oa = [], []
    for x, g, ax, eta, mu in zip(xs, gs, axs, etas, mus):
        dt, eta, mu = x.dtype, float(eta), float(mu)
        x, g = _fe_g(x, g, maximize, weight_decay)
        x = x * (1 - lambd * eta) - eta * g
        ax = ax + (x - ax) * mu if mu != 1 else x
        ox.append(x.astype(dt))
        oa.append(np.asarray(ax, dt))
    return (ox + oa + [np.asarray(v, e.dtype) for v, e in zip(new_etas, etas)]
            + [np.asarray(v, m.dtype) for v, m in zip(new_mus, mus)])


def _fe_asgd_samples(dtype, rng):
    return [SampleInput(_fe_list(dtype, rng),
                        (_fe_list(dtype, rng), _fe_list(dtype, rng),
                         [np.array(t, dtype) for t in (0.05, 0.05, 0.02)],
                         [np.array(t, dtype) for t in (1.0, 0.5, 0.25)]),
                        dict(lambd=1e-2, weight_decay=wd, maximize=maximize,
                             new_etas=(0.04, 0.04, 0.01), new_mus=(0.5, 0.25, 0.125)),
                        desc=f"wd={wd} maximize={maximize}")
            for wd, maximize in ((0.0, False), (0.1, True))]


def _fe_asgd_op(mod, xs, gs, axs, etas, mus, **kw):
    assert mod._fused_asgd_(xs, gs, axs, etas, mus, **kw) is None
    return xs + axs + etas + mus


for _n, _ref, _smp, _op, _skips in (
        ("_fused_rmsprop_", _fe_rmsprop_ref, _fe_rmsprop_samples, _fe_rmsprop_op,
         _NO_TORCH_KERNEL),
        ("_fused_adagrad_", _fe_adagrad_ref, _fe_adagrad_samples, _fe_adagrad_op, {}),
        ("_fused_adadelta_", _fe_adadelta_ref, _fe_adadelta_samples, _fe_adadelta_op,
         _NO_TORCH_KERNEL),
        ("_fused_adamax_", _fe_adamax_ref, _fe_adamax_samples, _fe_adamax_op,
         _NO_TORCH_KERNEL),
        ("_fused_nadam_", _fe_nadam_ref, _fe_nadam_samples, _fe_nadam_op, _NO_TORCH_KERNEL),
        ("_fused_radam_", _fe_radam_ref, _fe_radam_samples, _fe_radam_op, _NO_TORCH_KERNEL),
        ("_fused_rprop_", _fe_rprop_ref, _fe_rprop_samples, _fe_rprop_op, _NO_TORCH_KERNEL),
        ("_fused_asgd_", _fe_asgd_ref, _fe_asgd_samples, _fe_asgd_op, _NO_TORCH_KERNEL)):
    _reg(OpInfo(_n, ref=_ref, sample_inputs=_smp, op=_op, method=False, differentiable=False,
                skips=dict(_skips), **_FE_OPT_TOL))


OPS_BY_NAME = {o.name: o for o in OP_DB}
assert len(OPS_BY_NAME) == len(OP_DB), "duplicate OpInfo names"
