"""Sorting, selection, order statistics and scans: sort/argsort/topk/kthvalue/median/mode/
quantile, unique, searchsorted/bucketize, bincount/histc, cumprod/cummax/cummin/
logcumsumexp, nansum/nanmean, diff.

Selections compute their indices on raw arrays and then *gather* the values, so their
gradients are gather's (scatter into zeros) — one definition, reused.
"""

from __future__ import annotations


import numpy as np

from ember import _dtype as D
from ember._backends import DEFAULT, backend_of, empty_on, xp_of
from ember._ops.core import OpDef, apply, register
from ember._ops.scatter import gather, gather_trusted
from ember._tensor import Tensor, _wrap_dim
from ember._ops.outarg import with_out
from ember.return_types import values_indices

xp = np


def _dim(input, dim, name):
    # A 0-dim tensor has one dim for indexing purposes (dim -1 or 0), as in PyTorch.
    if input._data.ndim:
        return _wrap_dim(dim, input._data.ndim, name)
    _wrap_dim(dim, 0, name)  # raises IndexError for anything but -1 and 0
    return 0


def _idx_tensor(idx):
    # ascontiguousarray promotes 0-d to 1-d: keep the index's own shape
    shape = idx.shape if hasattr(idx, "shape") else np.shape(idx)
    return Tensor._wrap(xp_of(idx).ascontiguousarray(idx, dtype=np.int64).reshape(shape))


# ------------------------------------------------------------------ sort family
def _argsort(a, axis, descending, stable=True):  # noqa: ARG001 - always stable, which stable=False permits
    if not descending:
        return _stable_argsort(a, axis)
    # Stable descending: sort the reversed array ascending, reverse back, remap indices.
    n = a.shape[axis]
    rev = np.flip(a, axis=axis)
    idx = _stable_argsort(rev, axis)
    return n - 1 - np.flip(idx, axis=axis)


def _stable_argsort(a, axis):
    """NumPy's stable argsort, on two threads for large host arrays (NOTE [ Stable argsort on
    two threads ] in ember/_codegen/sort_kernels.py)."""
    if a.size >= (1 << 16) and type(a) is np.ndarray and a.ndim:
        from ember._codegen import sort_kernels

        idx = sort_kernels.stable_argsort(a, axis % a.ndim)
        if idx is not None:
            return idx
    return np.argsort(a, axis=axis, kind="stable")


def _top_k_by_partition(a, axis, descending, k):
    """The first ``k`` indices of the stable (descending) argsort of ``a`` along ``axis``
    through a partition (O(n)) and a sort of the candidates, or None where that cannot
    decide (then the caller sorts everything).

    The candidates are every element at least as good as the k-th value ``t`` (NaN counts as
    the largest, as in the full sort): they include the first k of the full order, ties at
    ``t`` included, and a stable sort of their values taken in index order keeps the full
    sort's order among ties, so its first k are the full sort's first k."""
    b = np.moveaxis(a, axis, -1)
    n = b.shape[-1]
    kth = n - k if descending else k - 1
    t = np.partition(b, kth, axis=-1)[..., kth:kth + 1]
    # descending: not (b < t) also takes the NaNs; ascending: b <= t leaves them out
    cand = np.logical_not(b < t) if descending else b <= t
    counts = np.count_nonzero(cand, axis=-1)
    if counts.min() < k:  # the k-th value is NaN in an ascending selection
        return None
    if b.ndim == 1:
        pos = np.flatnonzero(cand)
    elif counts.max() == k:
        pos = np.nonzero(cand)[-1].reshape(b.shape[:-1] + (k,))
    else:  # rows with ties at the k-th place hold different numbers of candidates
        return None
    sv = np.take_along_axis(b, pos, -1)
    idx = np.take_along_axis(pos, _argsort(sv, -1, descending)[..., :k], -1)
    return np.moveaxis(idx, -1, axis)


def _argsort_fwd(a, axis, descending, k):
    """Indices that sort ``a`` along ``axis`` (the first ``k`` of them when k is not None)."""
    if a.ndim == 0:
        return xp_of(a).zeros((), np.int64)
    n = a.shape[axis]
    if k is not None and 0 < k and n >= 256 and k * 8 <= n:
        from ember._codegen import topk_kernels  # NOTE [ Top-k by a bounded heap ]

        idx = topk_kernels.topk_indices(a, axis, descending, k)
        if idx is not None:
            return idx
    if (k is not None and 0 < k and n >= 4096 and k * 8 <= n and type(a) is np.ndarray
            and a.dtype.kind in "biuf"):  # complex: sorted by NumPy's own lexicographic rule
        idx = _top_k_by_partition(a, axis, descending, k)
        if idx is not None:
            return idx.astype(np.int64, copy=False)
    idx = _argsort(a, axis, descending)
    if k is not None:
        xp = xp_of(idx)
        idx = xp.take(idx, xp.arange(k), axis=axis)
    return idx.astype(np.int64, copy=False)


# Index-producing records: the values then come from gather (differentiable).
_ARGSORT = OpDef("argsort", _argsort_fwd, None, differentiable=False,
                 attrs=("dim", "descending", "k"))


@with_out("sort")
def sort(input, dim=-1, descending=False, *, stable=False, out=None):  # noqa: ARG001 - always stable, which stable=False permits; out= is written by @with_out
    d = _dim(input, dim, "sort")
    idx = apply(_ARGSORT, (input,), (d, bool(descending), None))
    if input._data.ndim == 0:
        return values_indices(input.clone(), idx, "sort")
    return values_indices(gather_trusted(input, d, idx), idx, "sort")


def argsort(input, dim=-1, descending=False, *, stable=False):  # noqa: ARG001 - always stable, which stable=False permits
    d = _dim(input, dim, "argsort")
    return apply(_ARGSORT, (input,), (d, bool(descending), None))


@with_out("msort")
def msort(input):
    return sort(input, 0).values


@with_out("topk")
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):  # noqa: ARG001 - always sorted, which sorted=False permits (order unspecified); out= is written by @with_out
    d = _dim(input, dim, "topk")
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k ({k}) out of range for dimension {d} of "
                           f"size {n}")
    idx = apply(_ARGSORT, (input,), (d, bool(largest), int(k)))
    if input._data.ndim == 0:
        return values_indices(input.clone(), idx, "topk")
    return values_indices(gather_trusted(input, d, idx), idx, "topk")


@with_out("kthvalue")
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    d = _dim(input, dim, "kthvalue")
    n = input._data.shape[d] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k ({k}) out of range for dimension "
                           f"{d} of size {n}")
    return _select_rank(input, d, k - 1, keepdim, name="kthvalue")


def _select_rank(input, d, rank, keepdim, data=None, name="median"):
    a = input._data if data is None else data
    if a.ndim == 0:
        return values_indices(input.clone(), _idx_tensor(np.zeros((), np.int64)), name)
    xp = xp_of(a)
    idx = xp.take(xp.argsort(a, axis=d, kind="stable"), xp.asarray([rank]), axis=d)
    v = gather(input, d, _idx_tensor(idx))
    i = _idx_tensor(idx)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return values_indices(v, i, name)


@with_out("median")
def median(input, dim=None, keepdim=False, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    """Lower median (PyTorch's convention); with ``dim`` also its index."""
    a = input._data
    if dim is None:
        flat = input.reshape(-1)
        n = flat._data.size
        if n == 0:
            return Tensor._wrap(_empty_median(a.dtype))
        if a.dtype.kind == "f" and np.isnan(a).any():  # NaN propagates, as PyTorch
            return _select_rank(flat, 0, n - 1, False).values  # NaNs sort last
        return _select_rank(flat, 0, (n - 1) // 2, False).values
    d = _dim(input, dim, "median")
    n = input._data.shape[d] if input._data.ndim else 1
    if a.dtype.kind == "f" and a.ndim and np.isnan(a).any():
        # slices holding NaN report their first NaN (value and index), as PyTorch
        xp = xp_of(a)
        srt = xp.sort(a, axis=d, kind="stable")
        nan_rows = xp.isnan(xp.take(srt, xp.asarray([n - 1]), axis=d))
        med = xp.take(xp.argsort(a, axis=d, kind="stable"), xp.asarray([(n - 1) // 2]), axis=d)
        first_nan = xp.argmax(xp.isnan(a), axis=d)[(slice(None),) * d + (None,)]
        idx = xp.where(nan_rows, first_nan, med)
        v = gather(input, d, _idx_tensor(idx))
        i = _idx_tensor(idx)
        if not keepdim:
            v, i = v.squeeze(d), i.squeeze(d)
        return values_indices(v, i, "median")
    return _select_rank(input, d, (n - 1) // 2, keepdim)


def _empty_median(dt):
    # PyTorch's median of an empty tensor is NaN converted to the dtype as the CPU does:
    # True for bool, the lowest value of signed integers, 0 for uint8.
    if dt.kind in "fc":
        return np.asarray(np.nan, dt)
    if dt.kind == "b":
        return np.asarray(True)
    return np.asarray(np.iinfo(dt).min if dt.kind == "i" else 0, dt)


def nanmedian(input, dim=None, keepdim=False):
    a = input._data
    if dim is None:
        flat = input.reshape(-1)
        valid = int((~np.isnan(flat._data)).sum()) if a.dtype.kind == "f" else a.size
        if valid == 0:
            return Tensor._wrap(_empty_median(a.dtype))
        return _select_rank(flat, 0, (valid - 1) // 2, False).values
    d = _dim(input, dim, "nanmedian")
    if a.ndim == 0:
        return values_indices(input.clone(), _idx_tensor(np.zeros((), np.int64)), "nanmedian")
    # NaNs sort last; each slice's median rank depends on its own count of non-NaNs.
    xp = xp_of(a)
    order = xp.argsort(a, axis=d, kind="stable")
    valid = (~xp.isnan(a)).sum(axis=d, keepdims=True) if a.dtype.kind == "f" else \
        xp.full([1 if i == d else s for i, s in enumerate(a.shape)], a.shape[d])
    rank = xp.maximum((valid - 1) // 2, 0)
    idx = xp.take_along_axis(order, rank, axis=d)
    v = gather(input, d, _idx_tensor(idx))
    i = _idx_tensor(idx)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return values_indices(v, i, "nanmedian")


@with_out("mode")
def mode(input, dim=-1, keepdim=False):
    """Most frequent value along ``dim`` (the smallest among ties) and an index of it."""
    d = _dim(input, dim, "mode")
    a = input._data
    if a.ndim == 0:
        return values_indices(input.clone(), _idx_tensor(np.zeros((), np.int64)), "mode")
    dev = backend_of(a)
    if dev is not DEFAULT:  # a row-by-row host algorithm: the values go over once, and back
        a = dev.to_host(a)
    moved = np.moveaxis(a, d, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    best_idx = np.empty(flat.shape[0], np.int64)
    for r, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        v = vals[np.argmax(counts)]  # np.unique sorts, so argmax picks the smallest tie
        hit = np.isnan(row) if v != v else row == v  # NaN never equals itself
        best_idx[r] = np.nonzero(hit)[0][-1]
    idx = np.moveaxis(best_idx.reshape(moved.shape[:-1] + (1,)), -1, d)
    if dev is not DEFAULT:
        idx = dev.from_host(np.ascontiguousarray(idx))
    v = gather(input, d, _idx_tensor(idx))
    i = _idx_tensor(idx)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return values_indices(v, i, "mode")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    if input._data.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    qt = q if isinstance(q, Tensor) else Tensor._wrap(np.asarray(q, input._data.dtype))
    qa = qt._data
    if qa.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if qa.size and (qa.min() < 0 or qa.max() > 1):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, "
                         f"midpoint or nearest. Got {interpolation}")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(input, dim, name)
    if x._data.ndim == 0:
        x = x.reshape(1)
    s = sort(x, d).values  # NaNs sort last
    n = s._data.shape[d]
    if ignore_nan:
        cnt = (~np.isnan(s._data)).sum(axis=d, keepdims=True)
    else:
        cnt = np.full([1 if i == d else k for i, k in enumerate(s._data.shape)], n)
    outs = []
    for qv in np.atleast_1d(qa):
        pos = qv * (cnt - 1)
        lo = np.floor(pos).astype(np.int64).clip(0, max(n - 1, 0))
        hi = np.ceil(pos).astype(np.int64).clip(0, max(n - 1, 0))
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = np.round(pos).astype(np.int64).clip(0, max(n - 1, 0))
        vlo = gather(s, d, _idx_tensor(lo))
        vhi = gather(s, d, _idx_tensor(hi))
        if interpolation == "midpoint":
            w = Tensor._wrap(np.where(hi > lo, 0.5, 0.0).astype(s._data.dtype))
        elif interpolation == "linear":
            w = Tensor._wrap((pos - lo).astype(s._data.dtype))
        else:
            w = Tensor._wrap(np.zeros(lo.shape, s._data.dtype))
        r = vlo + (vhi - vlo) * w
        if not ignore_nan:
            has_nan = np.isnan(s._data).any(axis=d, keepdims=True)
            if has_nan.any():
                r = r.masked_fill(Tensor._wrap(has_nan), float("nan"))
        elif (cnt == 0).any():
            r = r.masked_fill(Tensor._wrap(cnt == 0), float("nan"))
        if not keepdim or input._data.ndim == 0:  # a 0-dim input keeps no dims
            r = r.squeeze(d)
        elif dim is None:
            r = r.reshape((1,) * input._data.ndim)
        outs.append(r)
    if qa.ndim == 0:
        return outs[0]
    from ember._ops.shape import stack

    return stack(outs, 0)


@with_out("quantile")
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):  # noqa: ARG001 - out= is written by @with_out
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@with_out("nanquantile")
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):  # noqa: ARG001 - out= is written by @with_out
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ------------------------------------------------------------------ unique / search / counts
def _unique_by_counting(a):
    """(values, inverse, counts) of integer ``a`` by counting, or None where its value range
    is too wide for a table. O(n + range) instead of the O(n log n) argsort np.unique needs
    for the inverse."""
    flat = a.reshape(-1)
    if flat.dtype == np.bool_:
        flat = flat.view(np.uint8)
    lo, hi = int(flat.min()), int(flat.max())
    if hi - lo > max(2 * flat.size, 1 << 16):
        return None
    # In intp before the shift: narrow types would wrap (int8 -128 - -128 is fine, 127 - -128
    # is not); the range check above keeps every shifted value small.
    shifted = flat if flat.dtype == np.intp else flat.astype(np.intp)
    if lo:
        shifted = shifted - lo
    table = np.bincount(shifted, minlength=hi - lo + 1)
    present = np.flatnonzero(table)
    vals = (present + lo).astype(a.dtype)
    rank = np.cumsum(table > 0) - 1
    return vals, rank[shifted].reshape(a.shape), table[present]


def _unique_fwd(a, dim):
    """(values, inverse, counts) of ``a`` (flattened when dim is None)."""
    if dim is None and a.size and a.dtype.kind in "biu" and type(a) is np.ndarray:
        res = _unique_by_counting(a)
        if res is not None:
            vals, inv, counts = res
            return vals, inv.astype(np.int64), counts.astype(np.int64)
    if dim is None:
        vals, inv, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        vals, inv, counts = np.unique(a, axis=dim, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
    return vals, inv.astype(np.int64), counts.astype(np.int64)


def _unique_consecutive_fwd(a, dim):
    xp = xp_of(a)
    if dim is not None:
        m = xp.moveaxis(a, dim, 0)
        keep = xp.ones(m.shape[0], bool)
        if m.shape[0] > 1:
            keep[1:] = (m[1:] != m[:-1]).reshape(m.shape[0] - 1, -1).any(axis=1)
        vals = xp.moveaxis(m[keep], 0, dim)
    else:
        flat = a.reshape(-1)
        keep = xp.ones(flat.size, bool)
        if flat.size > 1:
            keep[1:] = flat[1:] != flat[:-1]
        vals = flat[keep]
    starts = xp.nonzero(keep)[0]
    inv = xp.cumsum(keep) - 1
    inv = inv.reshape(a.shape) if dim is None else inv
    counts = xp.diff(xp.concatenate([starts, xp.asarray([keep.size], starts.dtype)]))
    return xp.ascontiguousarray(vals), inv.astype(np.int64), counts.astype(np.int64)


# Data-dependent records: their output shapes depend on the input's values.
_UNIQUE = OpDef("unique", _unique_fwd, None, differentiable=False, multi=True,
                data_dependent=True, attrs=("dim",))
_UNIQUE_CONSECUTIVE = OpDef("unique_consecutive", _unique_consecutive_fwd, None,
                            differentiable=False, multi=True, data_dependent=True,
                            attrs=("dim",))


def _pick(res, return_inverse, return_counts):
    vals, inv, counts = res
    out = [vals]
    if return_inverse:
        out.append(inv)
    if return_counts:
        out.append(counts)
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: ARG001 - always sorted, as PyTorch's CPU unique is
    d = None if dim is None else _dim(input, dim, "unique")
    return _pick(apply(_UNIQUE, (input,), (d,)), return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    d = None if dim is None else _dim(input, dim, "unique_consecutive")
    return _pick(apply(_UNIQUE_CONSECUTIVE, (input,), (d,)), return_inverse, return_counts)


@with_out("searchsorted")
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    side = side or ("right" if right else "left")
    if not isinstance(input, Tensor):
        input = Tensor._wrap(np.asarray(input))
    ins = (sorted_sequence, input) if sorter is None else (sorted_sequence, input, sorter)
    return apply(_SEARCHSORTED, ins, (side, bool(out_int32)))


def _searchsorted_fwd(seq, vals, *rest):
    *srt, side, out_int32 = rest
    srt = srt[0] if srt else None
    if seq.ndim <= 1:
        r = np.searchsorted(seq, vals, side=side, sorter=srt)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the "
                               f"first N-1 dimensions of boundaries tensor and input value "
                               f"tensor must match, but we got boundaries tensor "
                               f"{list(seq.shape)} and input value tensor {list(vals.shape)}")
        s2 = seq.reshape(-1, seq.shape[-1])
        v2 = vals.reshape(-1, vals.shape[-1])
        o2 = None if srt is None else srt.reshape(-1, srt.shape[-1])
        r = np.stack([np.searchsorted(s2[i], v2[i], side=side,
                                      sorter=None if o2 is None else o2[i])
                      for i in range(s2.shape[0])]).reshape(vals.shape)
    return xp_of(r).asarray(r, dtype=np.int32 if out_int32 else np.int64)


_SEARCHSORTED = OpDef("searchsorted", _searchsorted_fwd, None, differentiable=False,
                      attrs=("side", "out_int32"))


@with_out("bucketize")
def bucketize(input, boundaries, *, out_int32=False, right=False):
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got "
                           f"{list(input.shape)} {input.dtype})")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    ins = (input,) if weights is None else (input, weights)
    return apply(_BINCOUNT, ins, (int(minlength),))


def _bincount_fwd(a, *rest):
    *w, minlength = rest
    w = w[0] if w else None
    r = np.bincount(a, weights=w, minlength=minlength)
    if w is None:
        return r.astype(np.int64)
    dt = w.dtype
    return r.astype(dt if dt.kind == "f" and dt.itemsize >= 4 else np.float64)


_BINCOUNT = OpDef("bincount", _bincount_fwd, None, differentiable=False, data_dependent=True,
                  attrs=("minlength",))


@with_out("histc")
def histc(input, bins=100, min=0, max=0, *, out=None):  # noqa: ARG001 - out= is written by @with_out
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f"histc: not implemented for '{input.dtype._short}'")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max must be larger than min (got min={min}, max={max})")
    return apply(_HISTC, (input,), (int(bins), lo, hi))


def _histc_fwd(a, bins, lo, hi):
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=bins, range=(lo, hi))
    return counts.astype(a.dtype)


_HISTC = OpDef("histc", _histc_fwd, None, differentiable=False, attrs=("bins", "min", "max"),
               shape_rule=lambda a, bins, lo, hi: empty_on(a, (bins,), a.dtype))


# ------------------------------------------------------------------ scans
def _cumprod_fwd(x, dim):
    if x.size >= 32768:
        from ember._codegen import reduce_kernels

        r = reduce_kernels.scan(x, dim, prod=True)  # NOTE [ Threaded sums and scans ]
        if r is not None:
            return r
    if x.dtype == np.float32 and type(x) is np.ndarray:  # double products at every size
        return np.cumprod(x, axis=dim, dtype=np.float64).astype(np.float32)
    return np.cumprod(x, axis=dim)


_CUMPROD = OpDef("cumprod", _cumprod_fwd, None, save="xy")


@_CUMPROD.grad
def _(ctx, g):
    (x,) = ctx.inputs
    y = ctx.output
    (dim,) = ctx.params
    if not bool((x == 0).any()):
        # d y_j / d x_i = y_j / x_i for j >= i: a reversed cumulative sum of g * y.
        return ((g * y).flip(dim).cumsum(dim).flip(dim) / x,)
    # With zeros: O(n^2) but exact — for each i, the running products with x_i set to 1.
    from ember._ops.elementwise import where
    from ember._ops.shape import cat

    n = x._data.shape[dim]
    shape = [1] * x._data.ndim
    shape[dim] = n
    pos = Tensor._wrap(np.arange(n).reshape(shape))
    parts = []
    for i in range(n):
        yr = where(pos == i, 1.0, x).cumprod(dim)
        parts.append((g * yr).masked_fill(pos < i, 0).sum(dim, keepdim=True))
    return (cat(parts, dim),)


@with_out("cumprod")
def cumprod(input, dim, *, dtype=None, out=None):  # noqa: ARG001 - out= is written by @with_out
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(D.int64)
    d = _dim(input, dim, "cumprod")  # a 0-dim input takes dims -1 and 0 only
    if input._data.ndim == 0:
        return input.clone()
    return apply(_CUMPROD, (input,), (d,))


def _cum_ext(input, dim, is_max, name):
    if input._data.size == 0:  # PyTorch returns empty results without checking dim
        return values_indices(input.clone(), Tensor._wrap(np.zeros(input._data.shape,
                                                                   np.int64)), name)
    d = _dim(input, dim, name)
    if input._data.ndim == 0:
        return values_indices(input.clone(), apply(_ARGSORT, (input,), (0, False, None)), name)
    idx = apply(_CUM_EXT_IDX, (input,), (d, bool(is_max)))
    return values_indices(gather_trusted(input, d, idx), idx, name)


def _cum_ext_idx_fwd(a, d, is_max):
    """Where the running max (min) along ``d`` was last attained."""
    xp = xp_of(a)
    m = xp.moveaxis(a, d, -1)
    acc = (xp.maximum if is_max else xp.minimum).accumulate(m, axis=-1)
    n = m.shape[-1]
    pos = xp.broadcast_to(xp.arange(n), m.shape)
    # the latest element equal to the running extreme (PyTorch reports the last tie)
    idx = xp.maximum.accumulate(xp.where(m == acc, pos, -1), axis=-1)
    if m.dtype.kind == "f":  # NaN propagates: from the first NaN on, point at it
        first_nan = xp.minimum.accumulate(xp.where(xp.isnan(m), pos, n), axis=-1)
        idx = xp.where(first_nan < n, first_nan, idx)
    return xp.ascontiguousarray(xp.moveaxis(idx, -1, d)).astype(np.int64, copy=False)


_CUM_EXT_IDX = OpDef("cummax_indices", _cum_ext_idx_fwd, None, differentiable=False,
                     attrs=("dim", "is_max"))


@with_out("cummax")
def cummax(input, dim):
    return _cum_ext(input, dim, True, "cummax")


@with_out("cummin")
def cummin(input, dim):
    return _cum_ext(input, dim, False, "cummin")


def _lcse_fwd(x, dim):
    if x.dtype.kind == "c":
        # log(cumsum(exp(x))) shifted by each slice's largest real part; NumPy's logaddexp
        # has no complex loop.
        if x.shape[dim] == 0:
            return x.copy()
        re = x.real
        m = np.max(np.where(np.isfinite(re), re, -np.inf), axis=dim, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(all="ignore"):
            return (np.log(np.cumsum(np.exp(x - m), axis=dim)) + m).astype(x.dtype)
    return np.logaddexp.accumulate(x, axis=dim)


_LOGCUMSUMEXP = OpDef("logcumsumexp", _lcse_fwd, None, save="xy")


@_LOGCUMSUMEXP.grad
def _(ctx, g):
    (x,) = ctx.inputs
    y = ctx.output
    (dim,) = ctx.params
    # grad_i = sum_{j >= i} g_j exp(x_i - y_j) (conjugated for complex input: PyTorch's
    # convention for holomorphic functions)
    ey, ex = (-y).exp(), x.exp()
    if x.is_complex():
        ey, ex = ey.conj(), ex.conj()
    w = (g * ey).flip(dim).cumsum(dim).flip(dim)
    return (w * ex,)


@with_out("logcumsumexp")
def logcumsumexp(input, dim):
    if input._data.dtype.kind in "biu":  # PyTorch has no integer kernel either
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                  f"'{input.dtype._short}'")
    if input._data.ndim == 0:
        return input.clone()
    return apply(_LOGCUMSUMEXP, (input,), (_dim(input, dim, "logcumsumexp"),))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    if input._data.dtype.kind == "f":
        input = input.masked_fill(input.isnan(), 0)
    return input.sum(dim, keepdim=keepdim, dtype=dtype)


@with_out("nanmean")
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype._short}")
    valid = ~input.isnan()
    return nansum(input, dim, keepdim, dtype=dtype) / valid.sum(dim, keepdim=keepdim)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    from ember._ops.shape import cat

    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff(): order must be non-negative but got {n}")
    d = _dim(input, dim, "diff")
    x = input
    if prepend is not None or append is not None:
        parts = [t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t, x._data.dtype))
                 for t in (prepend, x, append) if t is not None]
        x = cat(parts, d)
    for _ in range(n):
        m = x._data.shape[d]
        if m == 0:
            break
        a, b = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
        x = (a != b) if x._data.dtype == np.bool_ else a - b
    return x


for _f in (sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile, nanquantile,
           unique, unique_consecutive, bincount, histc, cumprod, cummax, cummin, logcumsumexp,
           nansum, nanmean, diff):
    register(_f)
register(searchsorted, method=False)
register(bucketize)
