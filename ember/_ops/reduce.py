"""Reductions (sum, mean, prod, max/min, var/std, norm, logsumexp, all/any), scans, softmax."""

from __future__ import annotations

import builtins

import numpy as np

from ember import _dtype as D
from ember._backends import xp_of
from ember._graph import GRAD, renamed
from ember._ops.core import FUNCTIONS, METHODS, OpDef, apply, register, write_out
from ember._ops.elementwise import _threaded
from ember._ops.shape import _EXPAND, _VIEW
from ember._tensor import Tensor, _wrap_dim
from ember import return_types as _return_types
from ember._ops.outarg import finish_out, with_out
from ember.return_types import values_indices

xp = np

min_max = _return_types.aminmax


def _axes(dim, nd, name):
    """dim argument -> tuple of non-negative axes (None -> all)."""
    if dim is None:
        return tuple(range(nd))
    if nd == 0:  # a 0-dim tensor accepts dim 0 / -1 and reduces nothing
        for d in (dim if isinstance(dim, (list, tuple)) else (dim,)):
            _wrap_dim(d, 0, name)
        return ()
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(nd))
        axes = tuple(_wrap_dim(d, nd, name) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{name}(): dim {axes} appears multiple times in the list of dims")
        return axes
    return (_wrap_dim(dim, nd, name),)


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g, shape, axes, keepdim):
    """Gradient of a reduction: restore reduced dims, then broadcast to ``shape``."""
    if not keepdim and g._data.ndim:  # a 0-dim g expands directly
        g = apply(_VIEW, (g,), (_keep_shape(shape, axes), g._data.shape, "ViewBackward0"))
    return apply(_EXPAND, (g,), (shape,)) if g._data.shape != shape else g


# ------------------------------------------------------------------ sum / mean / prod
def _rk():
    from ember._codegen import reduce_kernels

    return reduce_kernels


def _sum_fwd(x, axes, keepdim, dtype, shape):  # noqa: ARG001 - a record attribute, in the record's attrs order
    if dtype is None and x.size >= 32768:  # NOTE [ Threaded sums and scans ]
        r = _rk().sum_(x, axes, keepdim)
        if r is not None:
            return r
    return xp.add.reduce(x, axis=axes, dtype=dtype, keepdims=keepdim)


_SUM = OpDef("sum", _sum_fwd, lambda ctx, g: (_expand_back(g, ctx.params[3], ctx.params[0],
                                                           ctx.params[1]),), onnx="ReduceSum")
_SUM.attrs = ('dim', 'keepdim', 'dtype', 'input_shape')


def _red_dtype(x, dtype):
    if dtype is not None:
        return D.to_dtype(dtype).np
    k = x._data.dtype.kind
    return np.int64 if k in "biu" else None


@register
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    d = input._data
    axes = _axes(dim, d.ndim, "sum")
    r = apply(_SUM, (input,), (axes, keepdim, _red_dtype(input, dtype), d.shape))
    if dim is not None:  # PyTorch's sum.dim_IntList overload (NOTE [ Node names ])
        renamed(r, _SUM, "SumBackward1")
    return write_out("sum", out, r) if out is not None else r


FUNCTIONS["sum"].__doc__ = "Sum over ``dim`` (all dims when None); integers sum to int64."


def _mean_fwd(x, axes, keepdim, dtype, shape):  # noqa: ARG001 - a record attribute, in the record's attrs order
    if x.size == 0:  # NaN like PyTorch, without NumPy's "mean of empty slice" warning
        s = xp.sum(x, axis=axes, keepdims=keepdim, dtype=dtype)
        return xp.true_divide(s, 0, out=s) if s.ndim else s / s.dtype.type(0)
    if dtype is None and x.size >= 32768:  # NOTE [ Threaded sums and scans ]
        r = _rk().sum_(x, axes, keepdim, mean=True)
        if r is not None:
            return r
    if dtype == np.float64 and x.dtype == np.int64 and x.size >= 32768:
        r = _rk().mean_int64(x, axes, keepdim)  # NOTE [ One-pass extremes, products ... ]
        if r is not None:
            return r
    return xp.mean(x, axis=axes, keepdims=keepdim, dtype=dtype)


def _mean_bwd(ctx, g):
    axes, keepdim, _, shape = ctx.params
    n = 1
    for a in axes:
        n *= shape[a]
    # divided before the expansion (the same quotient per element): the gradient stays a
    # broadcast view, as sum's, instead of a full-size division of a zero-stride array
    return (_expand_back(g / builtins.max(n, 1), shape, axes, keepdim),)


_MEAN = OpDef("mean", _mean_fwd, _mean_bwd, onnx="ReduceMean")
_MEAN.attrs = ('dim', 'keepdim', 'dtype', 'input_shape')


@register
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    d = input._data
    if dtype is None and d.dtype.kind not in "fcV":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype._short}")
    axes = _axes(dim, d.ndim, "mean")
    npd = D.to_dtype(dtype).np if dtype is not None else None
    with np.errstate(invalid="ignore", divide="ignore"):
        r = apply(_MEAN, (input,), (axes, keepdim, npd, d.shape))
    if dim is not None:  # mean.dim
        renamed(r, _MEAN, "MeanBackward1")
    return write_out("mean", out, r) if out is not None else r


def _prod_fwd(x, axes, keepdim, dtype, shape):  # noqa: ARG001 - a record attribute, in the record's attrs order
    if len(axes) == 1 and (dtype is None or dtype == x.dtype) and x.size >= 32768:
        r = _rk().prod_dim(x, axes[0], keepdim)  # NOTE [ One-pass extremes, products ... ]
        if r is not None:
            return r
    return xp.prod(x, axis=axes, keepdims=keepdim, dtype=dtype)


_PROD = OpDef("prod", _prod_fwd, None, save="xy", onnx="ReduceProd")
_PROD.attrs = ('dim', 'keepdim', 'dtype', 'input_shape')


@_PROD.grad
def _(ctx, g):
    x, = ctx.inputs
    y = ctx.output
    axes, keepdim, _, shape = ctx.params
    g = _expand_back(g, shape, axes, keepdim)
    y = _expand_back(y, shape, axes, keepdim)
    zero = x == 0
    if not bool(zero.any()):
        return (g * y / x,)
    # With zeros: the product of the others is prod(x with this zero replaced by 1) when it is
    # the only zero in its slice, else 0.
    x1 = x.masked_fill(zero, 1)
    p_nz = x1
    for a in axes:  # prod() takes one dim at a time; a full reduction has several
        p_nz = p_nz.prod(a, keepdim=True)
    p_nz = _expand_back(p_nz, shape, axes, True)
    cnt = _expand_back(zero.sum(axes, keepdim=True), shape, axes, True)
    others = (p_nz * (cnt == 1)).where(zero, y / x.masked_fill(zero, 1))
    return (g * others,)


@register
@with_out("prod")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    if isinstance(dim, (list, tuple)):
        raise TypeError("prod(): argument 'dim' must be int, not tuple")
    axes = _axes(dim, d.ndim, "prod")
    r = apply(_PROD, (input,), (axes, keepdim, _red_dtype(input, dtype), d.shape))
    return renamed(r, _PROD, "ProdBackward1") if dim is not None else r  # prod.dim_int


# ------------------------------------------------------------------ max / min family
def _evenly(g, x, y, axes, keepdim, shape):
    """Gradient of amax/amin/max(): split evenly among the tied extreme elements."""
    yb = _expand_back(y, shape, axes, keepdim)
    mask = (x == yb)
    cnt = _expand_back(mask.sum(axes, keepdim=True), shape, axes, True)
    return _expand_back(g, shape, axes, keepdim) * mask / cnt


def _amax_fwd(x, axes, keepdim, shape, is_max):
    if x.size == 0 and builtins.any(shape[a] == 0 for a in axes):
        raise RuntimeError(f"{'amax' if is_max else 'amin'}(): Expected reduction dim to be "
                           "specified for input.numel() == 0. Specify the reduction dim with "
                           "the 'dim' argument.")
    if len(axes) == x.ndim and x.size >= 32768:  # NOTE [ One-pass extremes, products ... ]
        r = _rk().minmax(x)
        if r is not None:
            y = xp.array(r[1] if is_max else r[0])
            return y.reshape((1,) * x.ndim) if keepdim else y
    if x.__class__ is np.ndarray:  # the ufunc's reduce itself: np.max's wrapper costs ~1 us
        if x.size >= 32768 and len(axes) < x.ndim:  # NOTE [ Column extremes ]
            r = _rk().column_extreme(x, axes, keepdim, is_max)
            if r is not None:
                return r
        return (np.maximum if is_max else np.minimum).reduce(x, axis=axes, keepdims=keepdim)
    return (xp.max if is_max else xp.min)(x, axis=axes, keepdims=keepdim)


_AMAX = OpDef("amax", _amax_fwd, None, save="xy", onnx="ReduceMax",
              node_names=lambda p: "AmaxBackward0" if p[3] else "AminBackward0")
_AMAX.attrs = ('dim', 'keepdim', 'input_shape', 'is_max')


@_AMAX.grad
def _(ctx, g):
    x, = ctx.inputs
    axes, keepdim, shape, _ = ctx.params
    gd, xd = g._data, x._data
    if not GRAD.enabled and gd.__class__ is np.ndarray and xd.__class__ is np.ndarray and \
            gd.dtype == xd.dtype and xd.dtype.kind == "f" and xd.size:
        return (Tensor._wrap(_evenly_np(gd, xd, ctx.output._data, axes, keepdim)),)
    return (_evenly(g, x, ctx.output, axes, keepdim, shape),)


def _evenly_np(g, x, y, axes, keepdim):
    """``_evenly`` on host arrays without a graph to record: the tie mask in one threaded
    compare, the ties counted in ``x``'s dtype (exact: far fewer than 2^24 per slice), and
    ``mask * (g / count)``, the same values as ``g * mask / count`` (a product with 1 or 0 and
    a quotient commute here: x * 1 / c = x / c * 1, and a zero keeps its sign either way).
    Three passes over ``x`` and no int64 count buffer the size of ``x``."""
    if not keepdim:
        y = np.expand_dims(y, axes)
        g = np.expand_dims(g, axes)
    mask = _threaded("a == b", "f", (x, y)) if x.size >= 1 << 16 else None
    if mask is None:
        mask = x == y
    cnt = np.add.reduce(mask, axis=axes, keepdims=True, dtype=x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):  # a NaN slice: no ties, NaN as 0 / 0
        return np.multiply(mask, g / cnt)


@register
@with_out("amax")
def amax(input, dim=(), keepdim=False):
    d = input._data
    return apply(_AMAX, (input,), (_axes(dim, d.ndim, "amax"), keepdim, d.shape, True))


@register
@with_out("amin")
def amin(input, dim=(), keepdim=False):
    d = input._data
    return apply(_AMAX, (input,), (_axes(dim, d.ndim, "amin"), keepdim, d.shape, False))


def _arg_fwd(x, axis, keepdim, is_max):
    if x.ndim == 0:
        return xp_of(x).zeros((), np.int64)
    if x.size == 0:
        name = "argmax" if is_max else "argmin"
        if axis is None:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        if x.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
        # reducing a non-empty dim of an empty tensor: an empty result (PyTorch's too)
        shape = tuple(1 if k == axis else n for k, n in enumerate(x.shape)) if keepdim else \
            x.shape[:axis] + x.shape[axis + 1:]
        return xp_of(x).zeros(shape, np.int64)
    if axis is None:
        r = (xp.argmax if is_max else xp.argmin)(x.reshape(-1)).astype(np.int64)
        return r.reshape((1,) * x.ndim) if keepdim else r
    return (xp.argmax if is_max else xp.argmin)(x, axis=axis, keepdims=keepdim).astype(np.int64)


_ARGMAX = OpDef("argmax", _arg_fwd, None, differentiable=False, onnx="ArgMax",
                attrs=("dim", "keepdim", "is_max"), kind="reduction")


@register
@with_out("argmax")
def argmax(input, dim=None, keepdim=False):
    d = input._data
    ax = None if dim is None else _wrap_dim(dim, d.ndim, "argmax")
    return apply(_ARGMAX, (input,), (ax, keepdim, True))


@register
@with_out("argmin")
def argmin(input, dim=None, keepdim=False):
    d = input._data
    ax = None if dim is None else _wrap_dim(dim, d.ndim, "argmin")
    return apply(_ARGMAX, (input,), (ax, keepdim, False))


def _max_dim_fwd(x, axis, keepdim, is_max, shape=None):  # noqa: ARG001 - a record attribute, in the record's attrs order
    if x.shape and x.shape[axis] == 0 if x.ndim else False:
        raise IndexError(f"{'max' if is_max else 'min'}(): Expected reduction dim {axis} to have "
                         "non-zero size.")
    if x.size >= 32768:  # NOTE [ One-pass extremes, products and integer means ]
        r = _rk().max_dim(x, axis, keepdim, is_max)
        if r is not None:
            return r
    idx = (xp.argmax if is_max else xp.argmin)(x, axis=axis, keepdims=True) if x.ndim else \
        xp_of(x).zeros((), np.int64)
    vals = xp.take_along_axis(x, idx, axis=axis) if x.ndim else x.copy()
    if not keepdim and x.ndim:
        idx = idx.squeeze(axis)
        vals = vals.squeeze(axis)
    return vals, idx.astype(np.int64)


# the node keeps the indices output and the input's shape, as PyTorch's MaxBackward0 does: the
# input may then be edited in place before backward, the indices may not
_MAX_DIM = OpDef("max_dim", _max_dim_fwd, None, multi=True, save="", save_out=1,
                 node_name="MaxBackward0",
                 node_names=lambda p: "MaxBackward0" if p[2] else "MinBackward0")
_MAX_DIM.attrs = ('dim', 'keepdim', 'is_max', 'input_shape')


@_MAX_DIM.grad
def _(ctx, grads):
    g = grads[0]
    axis, keepdim, _, shape = ctx.params
    idx = ctx.output._data
    if not shape:
        return (g,)
    from ember._ops.index import _scatter_into_zeros
    from ember._ops.scatter import _dim_key

    if not keepdim:
        g = g.unsqueeze(axis)
        idx = xp_of(idx).expand_dims(idx, axis)
    # g stored into zeros at idx along axis: a DimKey sends it to the one-pass scatter kernel
    # (NOTE [ Gather and scatter-add kernels ]) where NumPy would walk a fancy key
    key = _dim_key(idx, axis) if idx.__class__ is np.ndarray else _take_key(idx, axis)
    return (_scatter_into_zeros(g, shape, key),)


def _take_key(idx, axis):
    """A NumPy fancy-index tuple selecting idx along ``axis`` (idx has keepdim shape)."""
    key = list(np.ix_(*[np.arange(s) for s in idx.shape]))
    key[axis] = idx
    return tuple(key)


def _minmax(input, dim, keepdim, other, is_max, name):
    if isinstance(dim, Tensor):
        other = dim
        dim = None
    if other is not None:
        from ember._ops.elementwise import maximum, minimum

        return (maximum if is_max else minimum)(input, other)
    d = input._data
    if dim is None:
        if d.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        # PyTorch's max()/min() overloads: their own nodes, not amax's
        return renamed(apply(_AMAX, (input,), (tuple(range(d.ndim)), False, d.shape, is_max)),
                       _AMAX, "MaxBackward1" if is_max else "MinBackward1")
    ax = _wrap_dim(dim, d.ndim, name)
    v, i = apply(_MAX_DIM, (input,), (ax, keepdim, is_max, d.shape))
    return values_indices(v, i, name)


@register
def max(input, dim=None, keepdim=False, *, other=None, out=None):
    return _minmax_out(input, dim, keepdim, other, out, True, "max")


@register
def min(input, dim=None, keepdim=False, *, other=None, out=None):
    return _minmax_out(input, dim, keepdim, other, out, False, "min")


def _minmax_out(input, dim, keepdim, other, out, is_max, name):
    """max/min with ``out=``: the elementwise overload (a tensor ``other``) writes through
    maximum/minimum's own ``out=`` (NOTE [ Results written where they belong ]), the
    reductions through ``finish_out``."""
    if out is not None and (other is not None or isinstance(dim, Tensor)):
        from ember._ops.elementwise import maximum, minimum

        return (maximum if is_max else minimum)(input, dim if other is None else other,
                                                 out=out)
    return finish_out(name, _minmax(input, dim, keepdim, other, is_max, name), out)


@register
@with_out("aminmax")
def aminmax(input, *, dim=None, keepdim=False):
    if dim is None and input._data.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    return min_max(amin(input, () if dim is None else dim, keepdim),
                   amax(input, () if dim is None else dim, keepdim))


# ------------------------------------------------------------------ statistics
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_args(dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # legacy var(input, unbiased)
        unbiased, dim = dim, None
    return dim, _correction(unbiased, correction), keepdim


@register
@with_out("var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, corr, keepdim = _var_args(dim, unbiased, keepdim, correction)
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got "
                           f"{input.dtype}")
    axes = _axes(dim, input._data.ndim, "var")
    return apply(_VAR, (input,), (axes, corr, keepdim))


def _var_fwd(x, axes, correction, keepdim):
    n = 1
    for a in axes:
        n *= x.shape[a]
    dev = x - _mean_fwd(x, axes, True, None, None)
    sq = xp.real(dev * xp.conj(dev)) if dev.dtype.kind == "c" else dev * dev
    s = xp.sum(sq, axis=axes, keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.true_divide(s, s.dtype.type(builtins.max(n - correction, 0)))


# one record, not x - mean, squared, summed: its node keeps the input, as PyTorch's
# VarBackward0 does, so editing the input in place before backward raises there and here
_VAR = OpDef("var", _var_fwd, None, save="x", attrs=("dim", "correction", "keepdim"),
             kind="reduction", node_name="VarBackward0")


def _var_grad(x, g, axes, correction, keepdim):
    shape = x._data.shape
    n = 1
    for a in axes:
        n *= shape[a]
    denom = n - correction
    dev = x - apply(_MEAN, (x,), (axes, True, None, shape))
    return _expand_back(g, shape, axes, keepdim) * dev * (2.0 / denom if denom else np.inf)


@_VAR.grad
def _(ctx, g):
    return (_var_grad(ctx.inputs[0], g, *ctx.params),)


def _std_fwd(x, axes, correction, keepdim):
    return xp_of(x).sqrt(_var_fwd(x, axes, correction, keepdim))


# its own record (not var().sqrt()): one StdBackward0 node keeping the input and the result,
# as PyTorch's does
_STD = OpDef("std", _std_fwd, None, save="xy", attrs=("dim", "correction", "keepdim"),
             kind="reduction", node_name="StdBackward0")


@_STD.grad
def _(ctx, g):
    # d std = d var / (2 std); zero where the std is zero, as PyTorch's std_backward
    y = ctx.output
    return (_var_grad(ctx.inputs[0], (g / (2 * y)).masked_fill(y == 0, 0), *ctx.params),)


@register
@with_out("std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, corr, keepdim = _var_args(dim, unbiased, keepdim, correction)
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got "
                           f"{input.dtype}")
    return apply(_STD, (input,), (_axes(dim, input._data.ndim, "std"), corr, keepdim))


@register
@with_out("var_mean")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    d, corr, keepdim = _var_args(dim, unbiased, keepdim, correction)
    return var(input, d, keepdim=keepdim, correction=corr), mean(input, d, keepdim)


@register
@with_out("std_mean")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    d, corr, keepdim = _var_args(dim, unbiased, keepdim, correction)
    return std(input, d, keepdim=keepdim, correction=corr), mean(input, d, keepdim)


# ------------------------------------------------------------------ norms
def _norm_fwd(x, p, axes, keepdim):
    a = xp.abs(x)
    if p == 2:
        r = xp.sqrt(xp.sum((a * a), axis=axes, keepdims=keepdim))
    elif p == float("inf"):
        r = xp.max(a, axis=axes, keepdims=keepdim) if a.size else xp.zeros(())
    elif p == float("-inf"):
        r = xp.min(a, axis=axes, keepdims=keepdim)
    elif p == 0:
        r = xp.sum(a != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
    elif p == 1:
        r = xp.sum(a, axis=axes, keepdims=keepdim)
    else:
        r = xp.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
    return r.astype(a.dtype, copy=False)


_NORM = OpDef("norm", _norm_fwd, None, save="xy", node_name="LinalgVectorNormBackward0")
_NORM.attrs = ('ord', 'dim', 'keepdim')


@_NORM.grad
def _(ctx, g):
    x, = ctx.inputs
    y = ctx.output
    p, axes, keepdim = ctx.params
    shape = x._data.shape
    g = _expand_back(g, shape, axes, keepdim)
    y = _expand_back(y, shape, axes, keepdim)
    if p == 0:
        return (g * 0,)
    if p == 1:
        return (g * x.sgn(),)
    if p in (float("inf"), float("-inf")):
        ax = x.abs()
        mask = ax == y
        cnt = _expand_back(mask.sum(axes, keepdim=True), shape, axes, True)
        return (g * x.sgn() * mask / cnt,)
    if p == 2:
        # d||x|| = x / ||x||, defined as 0 at the origin (PyTorch's convention).
        return (g * x / y.masked_fill(y == 0, float("inf")),)
    return (g * x * x.abs().pow(p - 2) / y.pow(p - 1).masked_fill(y == 0, float("inf")),)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if x._data.dtype.kind not in "fcV":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype._short}")
    if dtype is not None:
        x = x.to(dtype)
    axes = _axes(dim, x._data.ndim, "vector_norm")
    return apply(_NORM, (x,), (float(ord), axes, keepdim))


@register(function=False)
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        from ember import linalg

        return linalg.matrix_norm(input, "nuc", dim or (-2, -1), keepdim)
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def _norm_function(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    # torch.norm's signature: ``out`` before ``dtype`` (Tensor.norm has no ``out``)
    return finish_out("norm", norm(input, p, dim, keepdim, dtype), out)


_norm_function.__name__ = _norm_function.__qualname__ = "norm"
register(_norm_function, name="norm", method=False)


def _lse_fwd(x, axes, keepdim):
    if x.size == 0:
        return xp.log(xp.sum(xp.exp(x), axis=axes, keepdims=keepdim))
    if x.size >= 32768:  # NOTE [ logsumexp in two sweeps ]
        r = _rk().logsumexp(x, axes, keepdim)
        if r is not None:
            return r
    m = xp.max(x, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):  # an all -inf slice gives -inf, quietly
        r = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
    return r if keepdim else xp.squeeze(r, axis=axes)


_LSE = OpDef("logsumexp", _lse_fwd, None, save="xy", onnx="ReduceLogSumExp")
_LSE.attrs = ('dim', 'keepdim')


@_LSE.grad
def _(ctx, g):
    x, = ctx.inputs
    axes, keepdim = ctx.params
    shape = x._data.shape
    return (_expand_back(g, shape, axes, keepdim) *
            (x - _expand_back(ctx.output, shape, axes, keepdim)).exp(),)


@register
@with_out("logsumexp")
def logsumexp(input, dim, keepdim=False):
    if input._data.dtype.kind in "biu":
        input = input.to(D.get_default_dtype())
    return apply(_LSE, (input,), (_axes(dim, input._data.ndim, "logsumexp"), keepdim))


def _bool_red(np_fn, name):
    op = OpDef(name, lambda x, axes, keepdim: np_fn(x, axis=axes, keepdims=keepdim),
               None, differentiable=False, attrs=("dim", "keepdim"), kind="reduction")

    def f(input, dim=None, keepdim=False, *, out=None):
        d = input._data
        r = apply(op, (input,), (_axes(dim, d.ndim, name), keepdim))
        if d.dtype == np.uint8:
            r = r.to(D.uint8)
        return write_out(name, out, r) if out is not None else r

    f.__name__ = name
    f.op = op
    FUNCTIONS[name] = METHODS[name] = f
    return f


all = _bool_red(np.all, "all")
any = _bool_red(np.any, "any")


_COUNT_NONZERO = OpDef("count_nonzero",
                       lambda x, axes: (x != 0).sum(axis=axes, dtype=np.int64),
                       differentiable=False, attrs=("dim",), kind="reduction")


@register
def count_nonzero(input, dim=None):
    d = input._data
    return apply(_COUNT_NONZERO, (input,), (_axes(dim, d.ndim, "count_nonzero"),))


# ------------------------------------------------------------------ softmax family, scans
def _softmax_fwd(x, dim):
    from ember._codegen import eager, softmax_kernels

    y = softmax_kernels.softmax(x, dim)  # NOTE [ Softmax kernels ] (None: does not apply)
    if y is not None:
        return y
    y = eager.softmax(x, dim)  # one generated kernel (None: not a host float array)
    if y is not None:
        return y
    m = xp.max(x, axis=dim, keepdims=True) if x.size else 0
    e = xp.exp(x - m)
    e /= xp.sum(e, axis=dim, keepdims=True)
    return e


_SOFTMAX = OpDef("softmax", _softmax_fwd, None, save="y", onnx="Softmax",
                 node_name="SoftmaxBackward0")
_SOFTMAX.attrs = ('dim',)


# NOTE [ Softmax backward as one record ]
# The softmax and log_softmax gradients were four ember ops each (g * y, a sum, a product, a
# difference): four dispatches and four full-size temporaries. As PyTorch's
# _softmax_backward_data/_log_softmax_backward_data, each is one record computing in place
# on one fresh array; its own backward (for create_graph) is written in ember ops.
def _softmax_bwd_fwd(g, y, dim):
    from ember._codegen import softmax_kernels

    out = softmax_kernels.softmax_backward(g, y, dim)
    if out is not None:
        return out
    out = g * y
    s = out.sum(axis=dim, keepdims=True)
    t = y * s
    out -= t
    return out


def _log_softmax_bwd_fwd(g, y, dim):
    from ember._codegen import softmax_kernels

    out = softmax_kernels.softmax_backward(g, y, dim, log=True)
    if out is not None:
        return out
    xp_ = xp_of(y)
    out = xp_.exp(y, out=xp_.empty_like(y))  # (an array for 0-d y too)
    out *= g.sum(axis=dim, keepdims=True)
    xp_.subtract(g, out, out=out)
    return out


_SOFTMAX_BWD = OpDef("softmax_backward_data", _softmax_bwd_fwd, None, save="x", attrs=("dim",),
                     node_name="SoftmaxBackwardDataBackward0")
_LOG_SOFTMAX_BWD = OpDef("log_softmax_backward_data", _log_softmax_bwd_fwd, None, save="x",
                         attrs=("dim",), node_name="LogSoftmaxBackwardDataBackward0")


@_SOFTMAX_BWD.grad
def _(ctx, gg):
    g, y = ctx.inputs
    dim, = ctx.params
    ggy = (gg * y).sum(dim, keepdim=True)
    gs = (g * y).sum(dim, keepdim=True)
    return (gg * y - y * ggy, gg * g - gg * gs - g * ggy)


@_LOG_SOFTMAX_BWD.grad
def _(ctx, gg):
    g, y = ctx.inputs
    dim, = ctx.params
    e = y.exp()
    return (gg - (gg * e).sum(dim, keepdim=True), -gg * e * g.sum(dim, keepdim=True))


@_SOFTMAX.grad
def _(ctx, g):
    return (apply(_SOFTMAX_BWD, (g, ctx.output), ctx.params),)


def _log_softmax_fwd(x, dim):
    if x.size == 0:
        return x.copy()
    from ember._codegen import eager, softmax_kernels

    y = softmax_kernels.softmax(x, dim, log=True)
    if y is not None:
        return y
    y = eager.softmax(x, dim, log=True)
    if y is not None:
        return y
    m = xp.max(x, axis=dim, keepdims=True)
    s = x - m
    s -= xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True))
    return s


_LOG_SOFTMAX = OpDef("log_softmax", _log_softmax_fwd, None, save="y", onnx="LogSoftmax",
                     node_name="LogSoftmaxBackward0")
_LOG_SOFTMAX.attrs = ('dim',)


@_LOG_SOFTMAX.grad
def _(ctx, g):
    return (apply(_LOG_SOFTMAX_BWD, (g, ctx.output), ctx.params),)


def _softmax_input(input, dim, dtype, name):
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim'")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu" and input._data.size:
        # (PyTorch skips its kernel, and this dtype check, for empty input: see below)
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for "
                                  f"'{input.dtype._short}'")
    return input, _wrap_dim(dim, input._data.ndim, name)


@register
@with_out("softmax")
def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    input, d = _softmax_input(input, dim, dtype, "softmax")
    if input._data.dtype.kind in "biu":  # empty: PyTorch returns it in its own dtype
        return input.clone()
    return apply(_SOFTMAX, (input,), (d,))


@register
@with_out("log_softmax")
def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    input, d = _softmax_input(input, dim, dtype, "log_softmax")
    if input._data.dtype.kind in "biu":  # empty: PyTorch returns it in its own dtype
        return input.clone()
    return apply(_LOG_SOFTMAX, (input,), (d,))


def _cumsum_fwd(x, dim, dtype):
    # NumPy's accumulate walks one element at a time along the axis (about 3-10 ns per
    # element, a serial chain). Along any axis but the last, the slices across it are
    # independent: adding whole slices in a loop vectorises, and sums in the same order
    # (out[i] = out[i - 1] + x[i]), so the result is bit-identical.
    if (dtype is None or dtype == x.dtype) and x.size >= 32768:
        r = _rk().scan(x, dim)  # threaded, double accumulation (NOTE [ Threaded sums and scans ])
        if r is not None:
            return r
    if x.dtype == np.float32 and (dtype is None or dtype == x.dtype) and type(x) is np.ndarray:
        # float32 scans accumulate in double at every size, as PyTorch's and the kernel's do;
        # the kernel on one thread from 64 elements (NumPy's cumsum plus the cast ~5.5 us
        # for 1000 floats), with the same results
        r = _rk().scan(x, dim, min_elems=64) if x.size >= 64 else None
        if r is not None:
            return r
        return np.cumsum(x, axis=dim, dtype=np.float64).astype(np.float32)
    n = x.shape[dim] if x.ndim else 1
    if (x.ndim >= 2 and dim != x.ndim - 1 and 2 <= n <= 4096 and x.size >= 256 * n
            and type(x) is np.ndarray
            and np.can_cast(x.dtype, x.dtype if dtype is None else dtype, "safe")):
        res_dt = np.add.accumulate(x[:0]).dtype if dtype is None else np.dtype(dtype)
        out = np.empty(x.shape, res_dt)
        xv, ov = np.moveaxis(x, dim, 0), np.moveaxis(out, dim, 0)
        ov[0] = xv[0]
        for i in range(1, n):
            np.add(ov[i - 1], xv[i], out=ov[i])
        return out
    return xp.cumsum(x, axis=dim, dtype=dtype)


def _cumsum_bwd(ctx, g):
    dim = ctx.params[0]
    if g._data.__class__ is np.ndarray and g._data.ndim and g._data.size >= 32768:
        # one reversed scan instead of flip, cumsum, flip (two full copies)
        return (apply(_REV_CUMSUM, (g,), (dim,)),)
    return (g.flip(dim).cumsum(dim).flip(dim),)


def _rev_cumsum_fwd(g, dim):
    r = _rk().scan(g, dim, reverse=True)
    if r is None:
        acc = np.float64 if g.dtype == np.float32 else None  # as _cumsum_fwd
        r = np.flip(np.cumsum(np.flip(g, dim), axis=dim, dtype=acc), dim).astype(g.dtype)
    return r


_CUMSUM = OpDef("cumsum", _cumsum_fwd, _cumsum_bwd, onnx="CumSum")
# cumsum's backward (a sum over suffixes); its own backward is the forward scan again
_REV_CUMSUM = OpDef("cumsum_backward", _rev_cumsum_fwd,
                    lambda ctx, gg: (gg.cumsum(ctx.params[0]),), attrs=("dim",),
                    node_name="FlipBackward0")
_CUMSUM.attrs = ('dim', 'dtype')


@register(inplace=True)
@with_out("cumsum")
def cumsum(input, dim, *, dtype=None):
    d = input._data
    if d.ndim == 0:  # a 0-d scan is the identity, but still promotes integers to int64
        _wrap_dim(dim, 0, "cumsum")
        return apply(_CUMSUM, (input.reshape(1),), (0, _red_dtype(input, dtype))).reshape(())
    return apply(_CUMSUM, (input,), (_wrap_dim(dim, d.ndim, "cumsum"),
                                     _red_dtype(input, dtype)))
