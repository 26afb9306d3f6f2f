"""Gather/scatter family: gather, scatter(_add/_reduce), index_select/add/copy/fill, take,
take_along_dim, masked_scatter, argwhere.

Most of these are one NumPy fancy-index *key* away from advanced indexing: they build the
key and reuse the indexing ops (``_INDEX`` reads, ``_INDEX_PUT`` writes or accumulates), so
their gradients — including double backward and correct accumulation for repeated indices —
come from those two definitions instead of being written again here.
"""

from __future__ import annotations

import numpy as np

from ember._backends import xp_of
from ember._ops.core import OpDef, apply, register, save_extra
from ember._ops.index import _INDEX, _INDEX_PUT, DimKey, check_bounds
from ember._tensor import Tensor, _wrap_dim
from ember._ops.outarg import with_out

xp = np


def _check_index(name, index, allow_int32=False):
    """The index's array, int64 or refused with PyTorch's error. ``allow_int32``: True takes
    any integer dtype as it is (the index_* family), "cast" takes int32 as int64 (gather and
    the scatters, as PyTorch)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    dt = index._data.dtype
    if dt != np.int64:
        if allow_int32 is True and dt.kind in "iu":
            return index._data
        if allow_int32 == "cast" and dt == np.int32:
            return index._data.astype(np.int64)
        want = "int32 or int64" if allow_int32 is True else \
            "int32/int64" if allow_int32 else "int64"
        raise RuntimeError(f"{name}(): Expected dtype {want} for index (got {index.dtype})")
    return index._data


def _dim_key(idx, dim):
    """A key selecting ``x[..., idx[i, j, ...], ...]`` along ``dim`` (gather's semantics)."""
    key = []
    for d, n in enumerate(idx.shape):
        if d == dim:
            key.append(idx)
        else:
            shape = [1] * idx.ndim
            shape[d] = n
            key.append(np.arange(n).reshape(shape))
    return DimKey(key, dim, idx, False)


def _check_gather_shapes(name, x, idx, dim, src=None, bounds=True):
    if idx.ndim != x._data.ndim and not (idx.ndim <= 1 and x._data.ndim <= 1):
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as "
                           f"input tensor (index {list(idx.shape)}, input {list(x.shape)})")
    for d, (a, b) in enumerate(zip(idx.shape, x._data.shape)):
        if d != dim and a > b:
            raise RuntimeError(f"{name}(): Size does not match at dimension {d} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(x.shape)} apart "
                               f"from dimension {dim}")
    if bounds:
        check_bounds(name, idx, x._data.shape[dim] if x._data.ndim else 1, dim)
    if src is not None:
        for d, (a, b) in enumerate(zip(idx.shape, src._data.shape)):
            if a > b:
                raise RuntimeError(f"{name}(): Expected index {list(idx.shape)} to be smaller "
                                   f"than src {list(src.shape)} at dimension {d}")


def _empty_index(input, index):
    return isinstance(index, Tensor) and index._data.size == 0 and isinstance(input, Tensor) \
        and index._data.dtype.kind in "iu"


def _prep(name, input, dim, index, src=None, bounds=True):
    idx = _check_index(name, index, allow_int32="cast")
    x = input
    nd = x._data.ndim
    d = _wrap_dim(dim, nd, name)
    if nd == 0:
        x = x.reshape(1)
        idx = idx.reshape(1) if idx.ndim == 0 else idx
    _check_gather_shapes(name, x, idx, d, src, bounds)
    return x, idx, d


@with_out("gather")
def gather(input, dim, index, *, sparse_grad=False, out=None):  # noqa: ARG001 - out= is written by @with_out
    if _empty_index(input, index):  # PyTorch checks no shapes for an empty index
        _wrap_dim(dim, input._data.ndim, "gather")
        return input.new_empty(index.shape)
    # the indices' bounds are checked by the forward (NOTE [ Bounds checked by the gather
    # kernel ] in index.py)
    x, idx, d = _prep("gather", input, dim, index, bounds=False)
    key = _dim_key(idx, d)
    key.bounds = "gather"
    r = save_extra(apply(_INDEX, (x,), (key, x._data.shape)), (index,))
    return r.reshape(()) if input._data.ndim == 0 else r


def gather_trusted(input, dim, index):
    """``gather(input, dim, index)`` for an int64 ``index`` that ember computed itself (sort
    and topk indices: in range, of a fitting shape), without the public call's checks (a
    bounds pass over the indices and the shape comparisons). ``input`` has at least one dim
    and ``dim`` is wrapped."""
    idx = index._data
    return save_extra(apply(_INDEX, (input,), (_dim_key(idx, dim), input._data.shape)),
                      (index,))


def _src_tensor(src, like, idx_shape):
    if isinstance(src, Tensor):
        s = src if src.dtype is like.dtype else src.to(like.dtype)
        if s._data.shape != idx_shape:  # only the index-shaped corner of src is used
            s = s[tuple(slice(0, n) for n in idx_shape)] if s._data.ndim else s
        return s
    return Tensor._wrap(np.full(idx_shape, src, dtype=like._data.dtype))


_REDUCE_UFUNC = {"sum": np.add, "add": np.add, "prod": np.multiply, "multiply": np.multiply,
                 "amax": np.maximum, "amin": np.minimum}


@with_out("scatter")
def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):  # noqa: ARG001 - out= is written by @with_out
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if _empty_index(input, index):
        _wrap_dim(dim, input._data.ndim, "scatter")
        return input.clone()
    x, idx, d = _prep("scatter", input, dim, index, src if isinstance(src, Tensor) else None)
    s = _src_tensor(src, x, idx.shape)
    key = _dim_key(idx, d)
    if reduce is None:
        r = save_extra(apply(_INDEX_PUT, (x, s), (key, False)), (index,))
    elif reduce in ("add", "multiply"):
        r = _scatter_reduce_raw(x, s, key, "sum" if reduce == "add" else "prod", True, index)
    else:
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got "
                           f"{reduce!r}")
    return r.reshape(()) if input._data.ndim == 0 else r


def scatter_add(input, dim, index, src):
    if _empty_index(input, index):
        _wrap_dim(dim, input._data.ndim, "scatter_add")
        return input.clone()
    x, idx, d = _prep("scatter_add", input, dim, index, src)
    s = _src_tensor(src, x, idx.shape)
    r = save_extra(apply(_INDEX_PUT, (x, s), (_dim_key(idx, d), True)), (index,))
    return r.reshape(()) if input._data.ndim == 0 else r


def _scatter_reduce_fwd(x, v, key, reduce, include_self):
    ufunc = _REDUCE_UFUNC.get(reduce)
    y = x.copy()
    if reduce == "mean":
        cnt = np.zeros(x.shape, np.int64)
        np.add.at(cnt, key, 1)
        if not include_self:
            y[key] = 0
        np.add.at(y, key, v)
        total = np.maximum(cnt + (1 if include_self else 0), 1)
        res = np.floor_divide(y, total) if x.dtype.kind in "iu" else y / total
        return np.where(cnt > 0, res, x).astype(x.dtype)
    if not include_self:
        ident = {"sum": 0, "prod": 1, "amax": _lowest(x.dtype), "amin": _highest(x.dtype)}
        y[key] = ident[reduce]
    ufunc.at(y, key, v)
    return y


def _lowest(dt):
    return -np.inf if dt.kind == "f" else np.iinfo(dt).min


def _highest(dt):
    return np.inf if dt.kind == "f" else np.iinfo(dt).max


_SCATTER_REDUCE = OpDef("scatter_reduce", _scatter_reduce_fwd, None, save="xy",
                        node_name="ScatterReduceBackward0")


@_SCATTER_REDUCE.grad
def _(ctx, g):
    x, v = ctx.inputs[:2]  # then the index (NOTE [ Index tensors in attributes ])
    y = ctx.output
    key, reduce, include_self = ctx.params
    need_x, need_v = (e is not None for e in ctx.next)
    gx = gv = None
    if reduce == "sum":
        if need_x:
            gx = g if include_self else _zero_at(g, key)
        if need_v:
            gv = apply(_INDEX, (g,), (key, g._data.shape))
    elif reduce == "mean":
        cnt = np.zeros(x._data.shape, np.int64)
        np.add.at(cnt, key, 1)
        total = np.maximum(cnt + (1 if include_self else 0), 1)
        gs = g / Tensor._wrap(total.astype(g._data.dtype))
        if need_x:
            gx = gs if include_self else g * Tensor._wrap(cnt == 0)
        if need_v:
            gv = apply(_INDEX, (gs,), (key, g._data.shape))
    elif reduce in ("amax", "amin"):
        # Gradient flows to every element equal to the result, split evenly among ties.
        yv = apply(_INDEX, (y,), (key, y._data.shape))
        eq_v = (v == yv)
        eq_x = (x == y) if include_self else Tensor._wrap(~_touched(x, key))
        cnt = eq_x.to(g.dtype)
        cnt = apply(_INDEX_PUT, (cnt, eq_v.to(g.dtype)), (key, True))
        gs = g / cnt.clamp(min=1)
        if need_x:
            gx = gs * eq_x
        if need_v:
            gv = apply(_INDEX, (gs,), (key, g._data.shape)) * eq_v
    else:  # prod
        if need_x:
            gx = g * y / x.masked_fill(x == 0, 1) if include_self else _zero_at(g, key)
        if need_v:
            gv = apply(_INDEX, (g * y,), (key, g._data.shape)) / v.masked_fill(v == 0, 1)
    return gx, gv


def _touched(x, key):
    t = np.zeros(x._data.shape, bool)
    t[key] = True
    return t


def _zero_at(g, key):
    z = Tensor._wrap(np.zeros((), g._data.dtype))
    return apply(_INDEX_PUT, (g, z.expand(apply(_INDEX, (g,), (key, g._data.shape)).shape)),
                 (key, False))


def _scatter_reduce_raw(x, s, key, reduce, include_self, index):
    return save_extra(apply(_SCATTER_REDUCE, (x, s), (key, reduce, include_self)), (index,))


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"scatter_reduce(): reduce argument must be one of sum, prod, mean, "
                           f"amax, amin, got {reduce!r}")
    x, idx, d = _prep("scatter_reduce", input, dim, index, src)
    s = _src_tensor(src, x, idx.shape)
    r = _scatter_reduce_raw(x, s, _dim_key(idx, d), reduce, include_self, index)
    return r.reshape(()) if input._data.ndim == 0 else r


# ------------------------------------------------------------------ index_* along one dim
def _index_key(name, input, dim, index):
    # PyTorch checks the index's rank before its dtype (index_fill the other way round)
    rank_first = name != "index_fill" and isinstance(index, Tensor)
    idx = index._data if rank_first else _check_index(name, index, allow_int32=True)
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, got shape "
                         f"{list(idx.shape)}")
    if rank_first:
        idx = _check_index(name, index, allow_int32=True)
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, name)
    n = input._data.shape[d] if nd else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{name}(): index out of range in self (index values "
                         f"[{idx.min()}, {idx.max()}], size {n} at dimension {d})")
    flat = idx.reshape(-1)
    return DimKey((slice(None),) * d + (flat,), d, flat, True), d


@with_out("index_select")
def index_select(input, dim, index, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    key, _ = _index_key("index_select", input, dim, index)
    if input._data.ndim == 0:
        return input.reshape(1)[index.reshape(-1)].reshape(index.shape)
    return save_extra(apply(_INDEX, (input,), (key, input._data.shape)), (index,))


def _source_for(name, input, key, source):
    expected = input._data[key].shape
    src = source if source.dtype is input.dtype else source.to(input.dtype)
    if src._data.shape != expected:
        raise RuntimeError(f"{name}(): source of shape {list(source.shape)} does not match the "
                           f"expected shape {list(expected)}")
    return src


def index_add(input, dim, index, source, *, alpha=1):
    key, _ = _index_key("index_add", input, dim, index)
    src = _source_for("index_add", input, key, source)
    if alpha != 1:
        src = src * alpha
    return save_extra(apply(_INDEX_PUT, (input, src), (key, True)), (index,))


@with_out("index_copy")
def index_copy(input, dim, index, source):
    key, _ = _index_key("index_copy", input, dim, index)
    return save_extra(apply(_INDEX_PUT, (input, _source_for("index_copy", input, key, source)),
                            (key, False)), (index,))


def index_fill(input, dim, index, value):
    key, _ = _index_key("index_fill", input, dim, index)
    v = value.to(input.dtype) if isinstance(value, Tensor) else Tensor._wrap(
        np.asarray(value, dtype=input._data.dtype))
    if v._data.ndim:
        raise RuntimeError("index_fill(): only supports a 0-dimensional value tensor")
    shape = input._data[key].shape
    return save_extra(apply(_INDEX_PUT, (input, v.expand(shape)), (key, False)), (index,))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    key, _ = _index_key("index_reduce", input, dim, index)
    src = _source_for("index_reduce", input, key, source)
    return _scatter_reduce_raw(input, src, key, reduce, include_self, index)


# ------------------------------------------------------------------ flat and masked forms
def take(input, index):
    idx = _check_index("take", index)
    n = input._data.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take(): index out of range in self (numel {n})")
    flat = input.reshape(-1)
    return save_extra(apply(_INDEX, (flat,), ((idx,), flat._data.shape)), (index,))


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices.reshape(-1)) if indices.ndim <= 1 else \
            take(input, indices)
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "take_along_dim")
    idx = _check_index("take_along_dim", indices)
    # broadcast all dims but `dim`
    shp_x = list(input._data.shape)
    shp_i = list(idx.shape)
    shp_x[d] = shp_i[d] = 1
    b = np.broadcast_shapes(tuple(shp_x), tuple(shp_i))
    xs = list(b)
    xs[d] = input._data.shape[d]
    ishape = list(b)
    ishape[d] = idx.shape[d]
    x = input.expand(xs) if tuple(xs) != input._data.shape else input
    xp = xp_of(idx)
    idx = xp.broadcast_to(idx, ishape)
    return gather(x, d, Tensor._wrap(xp.ascontiguousarray(idx)))


def masked_scatter(input, mask, source):
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got {mask.dtype}")
    m = np.broadcast_to(mask._data, input._data.shape)
    n = int(m.sum())
    if source.numel() < n:
        raise RuntimeError(f"masked_scatter: Number of elements of source < number of ones in "
                           f"mask ({source.numel()} < {n})")
    src = source.reshape(-1)[:n]
    src = src if src.dtype is input.dtype else src.to(input.dtype)
    return apply(_INDEX_PUT, (input, src), ((np.ascontiguousarray(m),), False))


def argwhere(input):
    return input.nonzero()


# ------------------------------------------------------------------ publish
for _f in (gather, scatter, scatter_add, scatter_reduce, index_select, index_add, index_copy,
           index_fill, index_reduce, masked_scatter):
    register(_f, inplace=_f not in (gather, index_select))
for _f in (take, take_along_dim, argwhere):
    register(_f)

