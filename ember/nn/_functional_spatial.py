"""``nn.functional``: convolution, pooling, padding, resampling and sampling-grid functions.

The heavy kernels are ops in ``ember/_ops/conv.py`` and ``ember/_ops/pool.py``; this file
normalises arguments like PyTorch does and composes the rest (adaptive pooling, LP pooling,
interpolation, grid sampling, pixel shuffle) from differentiable ops.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import ember
from ember._ops import conv as _conv
from ember._ops import pool as _pool
from ember._backends import xp_of
from ember._codegen import sample_kernels as _sample_kernels
from ember._graph import GRAD
from ember._ops.core import OpDef, apply, state_of as _state
from ember._tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_unpool1d", "max_unpool2d", "avg_pool1d", "avg_pool2d",
    "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d", "pad", "interpolate", "upsample",
    "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle", "unfold",
    "fold", "grid_sample", "affine_grid",
]

conv1d = _conv.conv1d
conv2d = _conv.conv2d
conv3d = _conv.conv3d
conv_transpose1d = _conv.conv_transpose1d
conv_transpose2d = _conv.conv_transpose2d
conv_transpose3d = _conv.conv_transpose3d
max_pool1d = _pool.max_pool1d
max_pool2d = _pool.max_pool2d
max_pool3d = _pool.max_pool3d
avg_pool1d = _pool.avg_pool1d
avg_pool2d = _pool.avg_pool2d
avg_pool3d = _pool.avg_pool3d
unfold = _pool.unfold
fold = _pool.fold


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):  # noqa: ARG001 - PyTorch's *_with_indices return indices whatever it says
    """:func:`max_pool1d` returning ``(values, indices)``.

    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit padding on both sides (default 0).
        dilation: the spacing of window elements (default 1).
        ceil_mode: round the output size up (default False).
        return_indices: ignored: the indices are always returned.

    Returns:
        A tuple ``(values, indices)``.

    Example:
        >>> v, i = F.max_pool1d_with_indices(ember.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        >>> i
        tensor([[[1, 2]]])
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):  # noqa: ARG001 - PyTorch's *_with_indices return indices whatever it says
    """:func:`max_pool2d` returning ``(values, indices)``.

    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit padding on both sides (default 0).
        dilation: the spacing of window elements (default 1).
        ceil_mode: round the output size up (default False).
        return_indices: ignored: the indices are always returned.

    Returns:
        A tuple ``(values, indices)``.

    Example:
        >>> v, i = F.max_pool2d_with_indices(ember.arange(4.0).reshape(1, 1, 2, 2), 2)
        >>> i
        tensor([[[[3]]]])
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# --------------------------------------------------------------------------- unpooling
def _max_unpool(name, nd, input, indices, kernel_size, stride, padding, output_size):
    ks = _pool._tuple(kernel_size, nd, name, "kernel_size")
    s = _pool._tuple(stride, nd, name, "stride") if stride is not None else ks
    p = _pool._tuple(padding, nd, name, "padding")
    unb = input.ndim == nd + 1
    x = input.unsqueeze(0) if unb else input
    idx = indices.unsqueeze(0) if unb else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"{name}(): Expected shape of indices to be same as that of the input "
                           f"tensor ({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    default = tuple((i - 1) * si - 2 * pi + k for i, si, pi, k in
                    zip(x.shape[2:], s, p, ks))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)[-nd:]
        for o, dflt, si in zip(out, default, s):
            if not dflt - si < o < dflt + si:
                raise ValueError(f"{name}(): invalid output_size {list(out)} (dim should be "
                                 f"between {[v - a for v, a in zip(default, s)]} and "
                                 f"{[v + a for v, a in zip(default, s)]})")
    n, c = x.shape[:2]
    ia = idx._data.reshape(n, c, -1).astype(np.int64)
    total = math.prod(out)
    if ia.size and (ia.min() < 0 or ia.max() >= total):
        raise RuntimeError(f"{name}(): Found an invalid max index: {int(ia.max())} (output "
                           f"volumes are of size {'x'.join(map(str, out))})")
    y = _pool.scatter_spatial(x, ia, (n, c, *out))
    return y.squeeze(0) if unb else y


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of :func:`max_pool1d`: puts values back at ``indices``, zeros elsewhere.
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of :func:`max_pool2d`.

    Example:
        >>> y, i = F.max_pool2d(x, 2, return_indices=True); F.max_unpool2d(y, i, 2)
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


# --------------------------------------------------------------------------- adaptive pooling
def _adaptive_sizes(name, input, nd, output_size):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{input.ndim}D input of size {list(input.shape)}")
    if isinstance(output_size, numbers.Integral):
        output_size = (output_size,) * nd
    out = tuple(input.shape[-nd + i] if v is None else int(v)
                for i, v in enumerate(tuple(output_size)))
    if len(out) != nd:
        raise ValueError(f"{name}(): output_size must be {nd} integers, got {list(out)}")
    if any(o <= 0 for o in out) or any(s == 0 for s in input.shape[-nd:]):
        raise RuntimeError(f"{name}(): elements of output_size must be greater than or equal "
                           f"to 0, and the input's spatial sizes non-zero; got output_size="
                           f"{list(out)} for input of size {list(input.shape)}")
    return out


def _bins(length, out):
    """PyTorch's adaptive bins: [floor(i*L/out), ceil((i+1)*L/out))."""
    i = np.arange(out)
    return (i * length) // out, -((-(i + 1) * length) // out)


def _avg_matrix(length, out, dtype):
    start, end = _bins(length, out)
    m = np.zeros((out, length), dtype)
    for i, (a, b) in enumerate(zip(start, end)):
        m[i, a:b] = 1.0 / (b - a)
    return Tensor._wrap(m)


def _adaptive_avg(name, input, nd, output_size):
    out = _adaptive_sizes(name, input, nd, output_size)
    dt = input._data.dtype
    lead = tuple(input.shape[:input.ndim - nd])
    sizes = tuple(input.shape[input.ndim - nd:])
    if sizes != out and all(o == 1 for o in out):
        # The global pool of every classifier head: one record (NOTE [ Global average
        # pool ]), whose gradient is one broadcast pass.
        return apply(_GLOBAL_AVG, (input,), (tuple(range(len(lead), input.ndim)), sizes))
    if sizes != out and all(L % o == 0 for L, o in zip(sizes, out)):
        # Equal bins: one mean over the bins' axes of a reshaped view, no matrix products
        # and no moved copies.
        split = tuple(v for L, o in zip(sizes, out) for v in (o, L // o))
        axes = tuple(len(lead) + 2 * i + 1 for i in range(nd))
        return input.reshape(lead + split).mean(axes)
    y = input
    # Averaging over bins is linear and separable: one small matrix product per spatial dim.
    for i, o in enumerate(out):
        ax = input.ndim - nd + i
        L = input.shape[ax]
        if L == o:
            continue
        m = _avg_matrix(L, o, dt).to(input.device)  # a host constant, moved to the data
        y = ember.matmul(y.movedim(ax, -1), m.t()).movedim(-1, ax)
    return y if y is not input else input.clone()


# NOTE [ Global average pool ]
# adaptive_avg_pool(x, 1) over the last nd dims is a mean, PyTorch's own form (its node is
# MeanBackward1). Without a graph it had been one BLAS matrix-vector product with a column
# of 1/L (63 us for 1M float32 against NumPy's sum's 140, but one thread in effect, slower
# on two), with a graph ember's mean (double accumulation, ~100 us). The record runs the
# row-mean kernel of NOTE [ Global average pool kernel ] (_codegen/cnn.py: rows split over
# the threads, 64 float lanes each) on host float32/float64 data, else the product; its
# gradient is g broadcast over the pooled dims times 1/L, in ember ops (double backward).
def _global_avg_fwd(x, dims, sizes):
    lead = x.shape[:dims[0]]
    L = math.prod(sizes)
    if type(x) is np.ndarray and _cnn() is not None:
        r = _cnn().row_mean(np.ascontiguousarray(x), math.prod(lead), L)
        if r is not None:
            return r.reshape(lead + (1,) * len(dims))
    xp = xp_of(x)
    v = xp.full((L, 1), 1 / L, x.dtype)
    return xp.matmul(x.reshape(lead + (L,)), v).reshape(lead + (1,) * len(dims))


def _global_avg_grad(ctx, g):
    dims, sizes = ctx.params
    shape = tuple(g.shape[:dims[0]]) + tuple(sizes)
    return (g.expand(shape) * (1.0 / math.prod(sizes)),)


def _cnn():
    """The hand-written CNN kernels (imported on first use: ``import ember`` does not load
    the kernel generator), or None where they cannot load."""
    if not _CNN:
        try:
            from ember._codegen import cnn
        except ImportError:  # pragma: no cover - the generator ships with ember
            cnn = None
        _CNN.append(cnn)
    return _CNN[0]


_CNN = []
_GLOBAL_AVG = OpDef("adaptive_avg_pool_global", _global_avg_fwd, _global_avg_grad,
                    attrs=("dim", "sizes"), node_name="MeanBackward1")


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling over (N, C, L) into ``output_size`` bins."""
    return _adaptive_avg("adaptive_avg_pool1d", input, 1, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling over (N, C, H, W) into ``output_size`` bins (``None`` keeps a size).

    Example:
        >>> F.adaptive_avg_pool2d(ember.randn(2, 3, 7, 7), 1).shape
        torch.Size([2, 3, 1, 1])
    """
    return _adaptive_avg("adaptive_avg_pool2d", input, 2, output_size)


def _adaptive_max_fwd(a, out):
    """``adaptive_max_pool`` record: ``(x, output_size)`` -> ``(values, indices, indices
    copy)``; indices are flat positions in each channel's spatial block (PyTorch's), the
    copy is the forward state of the backward (NOTE [ Forward state as outputs ])."""
    xp = xp_of(a)
    nd = len(out)
    spatial = a.shape[2:]
    if all(L % o == 0 for L, o in zip(spatial, out)):
        ks = tuple(L // o for L, o in zip(spatial, out))
        vals, idx = _pool.max_pool_indices(a, ks, ks, (0,) * nd, (1,) * nd, out)
    else:
        bins = [_bins(L, o) for L, o in zip(spatial, out)]
        n, c = a.shape[:2]
        vals = xp.empty((n, c, *out), a.dtype)
        idx = xp.empty((n, c, *out), xp.int64)
        strides = [math.prod(spatial[i + 1:]) for i in range(nd)]
        for cell in np.ndindex(*out):
            sl = tuple(slice(b[0][j], b[1][j]) for b, j in zip(bins, cell))
            win = a[(slice(None), slice(None)) + sl].reshape(n, c, -1)
            k = xp.argmax(win, axis=2)
            nan = xp.isnan(win).any(axis=2) if a.dtype.kind == "f" else None
            if nan is not None and nan.any():
                k = xp.where(nan, xp.argmax(xp.isnan(win), axis=2), k)
            wshape = tuple(s.stop - s.start for s in sl)
            kpos = xp.unravel_index(k, wshape)
            flat = sum((s.start + kp) * st for s, kp, st in zip(sl, kpos, strides))
            idx[(slice(None), slice(None)) + cell] = flat
            vals[(slice(None), slice(None)) + cell] = xp.take_along_axis(win, k[..., None],
                                                                         2)[..., 0]
    idx = xp.asarray(idx, dtype=xp.int64)
    return vals, idx, idx.copy()


def _adaptive_max_bwd(ctx, grads):
    idx, = _state(ctx)
    g = grads[0]
    n, c = g.shape[:2]
    return (apply(_pool.SCATTER, (g,), (idx.reshape(n, c, -1), ctx.params[1],
                                        tuple(g.shape))),)


# params: (output_size, input_shape); outputs: values and int64 indices (the state copy of
# the indices stays on the node)
_ADAPTIVE_MAX = OpDef("adaptive_max_pool", lambda a, out, in_shape: _adaptive_max_fwd(a, out),
                      _adaptive_max_bwd, multi=True, public=2,
                      attrs=("output_size", "input_shape"),
                      node_name="AdaptiveMaxPool2DBackward0")


def _adaptive_max(name, input, nd, output_size, return_indices):
    out = _adaptive_sizes(name, input, nd, output_size)
    unb = input.ndim == nd + 1
    x = input.unsqueeze(0) if unb else input
    y, idx = apply(_ADAPTIVE_MAX, (x,), (tuple(out), tuple(x.shape)))
    if unb:
        y, idx = y.squeeze(0), idx.squeeze(0)
    if return_indices:
        return y, idx
    return y


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling over (N, C, L) into ``output_size`` bins."""
    return _adaptive_max("adaptive_max_pool1d", input, 1, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling over (N, C, H, W) into ``output_size`` bins (PyTorch's bin edges)."""
    return _adaptive_max("adaptive_max_pool2d", input, 2, output_size, return_indices)


# --------------------------------------------------------------------------- LP pooling
def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd):
    ks = _pool._tuple(kernel_size, nd, f"lp_pool{nd}d", "kernel_size")
    pool = avg_pool1d if nd == 1 else avg_pool2d
    if stride is not None:
        out = pool(input.pow(norm_type), ks, stride, 0, ceil_mode)
    else:
        out = pool(input.pow(norm_type), ks, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(ks)).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """2-D power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


# --------------------------------------------------------------------------- padding
def _pad_index(mode, length, lo, hi):
    i = np.arange(-lo, length + hi)
    if mode == "reflect":
        period = 2 * (length - 1)
        if period == 0:
            return np.zeros_like(i)
        i = np.abs(i) % period
        return np.where(i >= length, period - i, i)
    if mode == "replicate":
        return np.clip(i, 0, length - 1)
    return i % length  # circular


# NOTE [ Reflection and replication padding by slices ]
# Reflect/replicate padding as a gather along each padded axis (take_axis with an index
# array) copied the whole tensor once per axis through NumPy's fancy indexing, and its
# backward scatter-added it back (pad.reflect of (8, 32, 64, 64): 7x PyTorch's time). As
# PyTorch's ReflectionPad/ReplicationPad records instead: the forward writes the input into
# the middle of the output once and fills each padded edge by a slice copy from the output
# itself (axis by axis, so corners come from already-filled edges, as np.pad does); the
# backward folds each axis's edges back onto the middle with slice additions, last axis
# first. Both are linear, so each one's backward is the other.
def _pad_edges_fwd(x, pairs, mode):
    if x.__class__ is np.ndarray and x.size >= 1 << 16:
        from ember._codegen import copy_kernels  # NOTE [ Edge padding kernel ]

        y = copy_kernels.pad_edges(x, pairs, mode == "reflect")
        if y is not None:
            return y
    if x.__class__ is np.ndarray:
        # the same copies, their index tuples kept per shape (NOTE [ Per-shape plans ] in
        # _ops/pool.py): at ~1e3 values, building them was most of the call
        key = (x.shape, pairs, mode)
        plan = _PAD_PLANS.get(key)
        if plan is None:
            plan = _pool._remember(_PAD_PLANS, key, _pad_edges_plan(x.shape, pairs, mode))
        shape, mid, copies = plan
        y = np.empty(shape, x.dtype)
        y[mid] = x
        for dst, src in copies:
            y[dst] = y[src]
        return y
    nd = len(pairs)
    lead = x.ndim - nd
    shape = x.shape[:lead] + tuple(n + a + b for n, (a, b) in zip(x.shape[lead:], pairs))
    y = xp_of(x).empty(shape, x.dtype)
    y[(Ellipsis,) + tuple(slice(a, a + n) for n, (a, b) in zip(x.shape[lead:], pairs))] = x
    for i, (a, b) in enumerate(pairs):
        ax = lead + i
        n = x.shape[ax]
        v = np.moveaxis(y, ax, 0)
        # the axes after this one are filled only in their middle so far
        rest = tuple(slice(pa, pa + x.shape[lead + j]) if j > i else slice(None)
                     for j, (pa, _) in enumerate(pairs) if j != i)
        v = v[(slice(None),) + (slice(None),) * (lead) + rest] if rest else v
        if mode == "reflect":
            if a:
                v[0:a] = v[a + 1:2 * a + 1][::-1]
            if b:
                v[a + n:a + n + b] = v[a + n - 1 - b:a + n - 1][::-1]
        else:
            if a:
                v[0:a] = v[a:a + 1]
            if b:
                v[a + n:a + n + b] = v[a + n - 1:a + n]
    return y


_PAD_PLANS: dict = {}
_PAD_ROUTES: dict = {}


def _pad_edges_plan(xshape, pairs, mode):
    """(output shape, the middle's index, [(destination, source) index pairs]) of the slice
    copies _pad_edges_fwd makes, as indices of the output itself (no moveaxis views): axis
    by axis, each edge from the already-written part of the output, in the same order."""
    nd = len(pairs)
    lead = len(xshape) - nd
    shape = xshape[:lead] + tuple(n + a + b for n, (a, b) in zip(xshape[lead:], pairs))
    mid = (Ellipsis,) + tuple(slice(a, a + n) for n, (a, b) in zip(xshape[lead:], pairs))
    copies = []
    for i, (a, b) in enumerate(pairs):
        n = xshape[lead + i]
        # the axes after this one are filled only in their middle so far
        rest = [slice(pa, pa + xshape[lead + j]) if j > i else slice(None)
                for j, (pa, _) in enumerate(pairs)]

        def at(sl, rest=rest, i=i):
            idx = (slice(None),) * lead + tuple(rest)
            return idx[:lead + i] + (sl,) + idx[lead + i + 1:]

        def rev(start, stop):  # the slice [start:stop][::-1]
            return slice(stop - 1, start - 1 if start > 0 else None, -1)

        if mode == "reflect":
            if a:
                copies.append((at(slice(0, a)), at(rev(a + 1, 2 * a + 1))))
            if b:
                copies.append((at(slice(a + n, a + n + b)), at(rev(a + n - 1 - b, a + n - 1))))
        else:
            if a:
                copies.append((at(slice(0, a)), at(slice(a, a + 1))))
            if b:
                copies.append((at(slice(a + n, a + n + b)), at(slice(a + n - 1, a + n))))
    return shape, mid, copies


def _pad_edges_fold(g, pairs, mode):
    if g.__class__ is np.ndarray:
        # the same slice additions, their index tuples kept per shape (NOTE [ Per-shape
        # plans ] in _ops/pool.py)
        key = (g.shape, pairs, mode)
        plan = _FOLD_PLANS.get(key)
        if plan is None:
            plan = _pool._remember(_FOLD_PLANS, key, _pad_fold_plan(g.shape, pairs, mode))
        t = g
        for mid, adds in plan:
            c = t[mid].copy()  # a C-ordered copy of the middle
            for dst, src, ax in adds:
                if ax is None:
                    c[dst] += t[src]
                else:
                    c[dst] += t[src].sum(axis=ax, keepdims=True)
            t = c
        return t
    nd = len(pairs)
    lead = g.ndim - nd
    t = g
    for i in range(nd - 1, -1, -1):
        a, b = pairs[i]
        ax = lead + i
        n = t.shape[ax] - a - b

        def at(s, ax=ax):
            return (slice(None),) * ax + (s,)

        c = t[at(slice(a, a + n))].copy()  # a C-ordered copy of the middle
        if mode == "reflect":
            if a:
                c[at(slice(1, a + 1))] += t[at(slice(a - 1, None, -1))]
            if b:
                c[at(slice(n - 1 - b, n - 1))] += t[at(slice(a + n + b - 1, a + n - 1, -1))]
        else:
            if a:
                c[at(slice(0, 1))] += t[at(slice(0, a))].sum(axis=ax, keepdims=True)
            if b:
                c[at(slice(n - 1, n))] += t[at(slice(a + n, a + n + b))].sum(axis=ax,
                                                                             keepdims=True)
        t = c
    return t


_FOLD_PLANS: dict = {}


def _pad_fold_plan(gshape, pairs, mode):
    """The steps of _pad_edges_fold for a gradient of ``gshape``: per padded axis, last
    first, (the middle's index, [(destination, source, summed axis or None)])."""
    nd = len(pairs)
    lead = len(gshape) - nd
    shape = list(gshape)
    steps = []
    for i in range(nd - 1, -1, -1):
        a, b = pairs[i]
        ax = lead + i
        n = shape[ax] - a - b

        def at(s, ax=ax):
            return (slice(None),) * ax + (s,)

        adds = []
        if mode == "reflect":
            if a:
                adds.append((at(slice(1, a + 1)), at(slice(a - 1, None, -1)), None))
            if b:
                adds.append((at(slice(n - 1 - b, n - 1)),
                             at(slice(a + n + b - 1, a + n - 1, -1)), None))
        else:
            if a:
                adds.append((at(slice(0, 1)), at(slice(0, a)), ax))
            if b:
                adds.append((at(slice(n - 1, n)), at(slice(a + n, a + n + b)), ax))
        steps.append((at(slice(a, a + n)), adds))
        shape[ax] = n
    return steps


def _pad_name(params, suffix=""):
    pairs, mode = params
    kind = "Reflection" if mode == "reflect" else "Replication"
    return f"{kind}Pad{len(pairs)}DBackward{suffix}0"


_PAD_EDGES = OpDef("pad_edges", _pad_edges_fwd, None, attrs=("padding", "mode"),
                   node_names=_pad_name)
_PAD_EDGES_BWD = OpDef("pad_edges_backward", _pad_edges_fold, None, attrs=("padding", "mode"),
                       node_names=lambda params: _pad_name(params, "Backward"))
_PAD_EDGES.bwd = lambda ctx, g: (apply(_PAD_EDGES_BWD, (g,), ctx.params),)
_PAD_EDGES_BWD.bwd = lambda ctx, g: (apply(_PAD_EDGES, (g,), ctx.params),)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the trailing dimensions: ``pad = (left, right, top, bottom, ...)`` from the last dim.

    Args:
        input: tensor to pad.
        pad: an even-length sequence of pads, last dimension first; negative pads crop.
        mode: ``'constant'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        value: fill value for ``'constant'`` (default 0).

    Example:
        >>> F.pad(ember.ones(1, 2, 2), (1, 1), value=0.).shape
        torch.Size([1, 2, 4])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be Tensor, not {type(input).__name__}")
    # NOTE [ Per-shape plans ] (_ops/pool.py): the checked route of a (shape, pad, mode,
    # value) seen before
    key = _pool._call_key(input._data.shape, pad, mode, value)
    route = _PAD_ROUTES.get(key) if key is not None else None
    if route is not None:
        return apply(route[0], (input,), route[1])
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' (position 3) must be str, not "
                        f"{type(mode).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad(): Padding length must be divisible by 2, got {len(pad)}")
    nd = len(pad) // 2
    if nd > input.ndim:
        raise RuntimeError(f"pad(): Padding length should be less than or equal to two times "
                           f"the input dimension but got padding length {len(pad)} and input "
                           f"of dimension {input.ndim}")
    pairs = tuple((pad[2 * (nd - 1 - i)], pad[2 * (nd - 1 - i) + 1]) for i in range(nd))
    if mode == "constant":
        params = (pairs, 0 if value is None else value)
        if key is not None:
            _pool._remember(_PAD_ROUTES, key, (_pool.PAD_CONST, params))
        return ember._ops.core.apply(_pool.PAD_CONST, (input,), params)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad(): Unrecognised padding mode {mode}")
    if value not in (None, 0):
        raise ValueError(f"pad(): Padding mode \"{mode}\" doesn't take in value argument")
    if not 1 <= nd <= 3 or input.ndim not in (nd + 1, nd + 2):
        raise NotImplementedError(f"pad(): Only 2D, 3D, 4D, 5D padding with non-constant "
                                  f"padding are supported for now (got a {input.ndim}-D input "
                                  f"and {len(pad)} pads in mode '{mode}')")
    if mode != "circular" and all(a >= 0 and b >= 0 for a, b in pairs) and all(
            max(a, b) < input.shape[input.ndim - nd + i] or mode != "reflect"
            for i, (a, b) in enumerate(pairs)) and input.numel() and any(
            a or b for a, b in pairs):
        if key is not None:
            _pool._remember(_PAD_ROUTES, key, (_PAD_EDGES, (pairs, mode)))
        return apply(_PAD_EDGES, (input,), (pairs, mode))
    y = input
    for i, (a, b) in enumerate(pairs):
        ax = input.ndim - nd + i
        L = input.shape[ax]
        if mode == "reflect" and (a >= L or b >= L):
            raise RuntimeError(f"pad(): Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({a}, {b}) at "
                               f"dimension {ax} of input {list(input.shape)}")
        if mode == "circular" and (a > L or b > L):
            raise RuntimeError(f"pad(): Padding value causes wrapping around more than once "
                               f"(padding ({a}, {b}) at dimension {ax} of input "
                               f"{list(input.shape)})")
        if a == 0 and b == 0:
            continue
        y = _pool.take_axis(y, _pad_index(mode, L, a, b), ax)
    return y if y is not input else input.clone()


# --------------------------------------------------------------------------- interpolation
def _interp_sizes(input, nd, size, scale_factor, recompute_scale_factor):
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate(): either size or scale_factor should be defined "
                         "(and not both)")
    spatial = input.shape[2:]
    if size is not None:
        out = (int(size),) * nd if isinstance(size, numbers.Integral) else \
            tuple(int(v) for v in size)
        if len(out) != nd:
            raise ValueError(f"interpolate(): Input and output must have the same number of "
                             f"spatial dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and output size of {list(out)}. Please provide "
                             "input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             "(o1, o2, ...,oK) format.")
        return out, (None,) * nd
    sf = (float(scale_factor),) * nd if isinstance(scale_factor, numbers.Real) else \
        tuple(float(v) for v in scale_factor)
    if len(sf) != nd:
        raise ValueError(f"interpolate(): scale_factor must have {nd} entries, got {list(sf)}")
    out = tuple(int(math.floor(L * f)) for L, f in zip(spatial, sf))
    return out, ((None,) * nd if recompute_scale_factor else sf)


def _src_scale(L, o, align_corners, sf):
    if align_corners:
        return (L - 1) / (o - 1) if o > 1 else 0.0
    return 1.0 / sf if sf is not None else L / o


def _linear_axis(y, ax, L, o, align_corners, sf, dtype, cubic=False):
    scale = _src_scale(L, o, align_corners, sf)
    dst = np.arange(o, dtype=np.float64)
    src = dst * scale if align_corners else (dst + 0.5) * scale - 0.5
    shape = [1] * y.ndim
    shape[ax] = o
    if cubic:
        i0 = np.floor(src).astype(np.int64)
        t = src - i0
        a = -0.75
        ws = [((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
              ((a + 2) * t - (a + 3)) * t * t + 1,
              ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1]
        ws.append(1 - ws[0] - ws[1] - ws[2])
        acc = None
        for j, w in enumerate(ws):
            idx = np.clip(i0 - 1 + j, 0, L - 1)
            term = _pool.take_axis(y, idx, ax) * Tensor._wrap(w.astype(dtype).reshape(shape))
            acc = term if acc is None else acc + term
        return acc
    if _sample_kernels.linear_available(y._data):  # one record, one pass each way
        return apply(_LINEAR_AXIS, (y,), (ax, L, o, bool(align_corners), float(scale)))
    i0, i1, l0, l1 = _linear_taps(L, o, align_corners, scale, dtype)
    return (_pool.take_axis(y, i0, ax) * Tensor._wrap(l0.reshape(shape))
            + _pool.take_axis(y, i1, ax) * Tensor._wrap(l1.reshape(shape)))


# NOTE [ Linear interpolation along one axis ]
# linear/bilinear/trilinear interpolate resample one axis at a time. Each axis was two
# gathers, two products and a sum (five full-size passes and four temporaries, and as many
# records); ``upsample_linear_axis`` does ``w0[j] * x[i0[j]] + w1[j] * x[i1[j]]`` in one
# threaded C pass (_codegen/sample_kernels.py), with the same operations in the same order
# (so the values are those of the ember-op form), and its backward is the transposed
# scatter, ``upsample_linear_axis_backward``, whose own backward is the forward again.
def _linear_taps(L, o, align_corners, scale, dtype):
    # source indices and weights of the o outputs along an axis of length L
    dst = np.arange(o, dtype=np.float64)
    src = dst * scale if align_corners else (dst + 0.5) * scale - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), L - 1)
    i1 = np.minimum(i0 + 1, L - 1)
    l1 = (src - i0).astype(dtype)
    l0 = (1 - l1).astype(dtype)
    return i0, i1, l0, l1


def _linear_axis_fwd(x, axis, size, out_size, align_corners, scale):
    i0, i1, w0, w1 = _linear_taps(size, out_size, align_corners, scale, x.dtype)
    y = _sample_kernels.linear_axis(x, axis, i0, i1, w0, w1)
    if y is None:  # data the kernel does not take (recorded where it does: a safety net)
        shape = [1] * x.ndim
        shape[axis] = len(i0)
        y = np.take(x, i0, axis) * w0.reshape(shape) + np.take(x, i1, axis) * w1.reshape(shape)
    return y


def _linear_axis_bwd_fwd(g, axis, size, out_size, align_corners, scale):
    i0, i1, w0, w1 = _linear_taps(size, out_size, align_corners, scale, g.dtype)
    gx = _sample_kernels.linear_axis_backward(g, axis, size, i0, i1, w0, w1)
    if gx is None:
        shape = [1] * g.ndim
        shape[axis] = len(i0)
        gx = np.zeros(g.shape[:axis] + (size,) + g.shape[axis + 1:], g.dtype)
        gm = np.moveaxis(gx, axis, 0)
        np.add.at(gm, i0, np.moveaxis(g * w0.reshape(shape), axis, 0))
        np.add.at(gm, i1, np.moveaxis(g * w1.reshape(shape), axis, 0))
    return gx


# (both take the input's and the output's lengths along the axis, so each one's backward is
# the other with the same parameters; the taps are recomputed from these plain values)
_LINEAR_AXIS = OpDef("upsample_linear_axis", _linear_axis_fwd,
                     lambda ctx, g: (apply(_LINEAR_AXIS_BWD, (g,), ctx.params),),
                     attrs=("dim", "size", "out_size", "align_corners", "scale"),
                     node_name="UpsampleLinearAxisBackward0")
_LINEAR_AXIS_BWD = OpDef("upsample_linear_axis_backward", _linear_axis_bwd_fwd,
                         lambda ctx, gg: (apply(_LINEAR_AXIS, (gg,), ctx.params),),
                         attrs=("dim", "size", "out_size", "align_corners", "scale"),
                         node_name="UpsampleLinearAxisBackwardBackward0")


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample (N, C, *spatial) to ``size`` or by ``scale_factor``.

    Args:
        input: 3-D, 4-D or 5-D tensor.
        size: output spatial size; or ``scale_factor``: multiplier(s) for it.
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'``, ``'bicubic'``,
            ``'trilinear'`` or ``'area'``.
        align_corners: for the linear modes, map corner pixels' centres onto each other.

    Example:
        >>> F.interpolate(ember.ones(1, 1, 2, 2), scale_factor=2, mode="bilinear").shape
        torch.Size([1, 1, 4, 4])
    """
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not implemented in ember")
    nd = input.ndim - 2
    if nd < 1 or nd > 3:
        raise NotImplementedError(f"interpolate(): Input Error: Only 3D, 4D and 5D input Tensors "
                                  f"supported (got {input.ndim}D) for the modes: nearest | "
                                  "linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("interpolate(): align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        raise NotImplementedError(f"interpolate(): Got {input.ndim}D input, but {mode} mode "
                                  f"needs {_MODE_DIMS[mode] + 2}D input")
    out, sfs = _interp_sizes(input, nd, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return [adaptive_avg_pool1d, adaptive_avg_pool2d, None][nd - 1](input, out) if nd < 3 \
            else _adaptive_avg("adaptive_avg_pool3d", input, 3, out)
    dtype = input._data.dtype
    y = input
    for i, (o, sf) in enumerate(zip(out, sfs)):
        ax = 2 + i
        L = input.shape[ax]
        if mode in ("nearest", "nearest-exact"):
            scale = _src_scale(L, o, False, sf)
            dst = np.arange(o, dtype=np.float64)
            # PyTorch computes nearest source indices in float32 whatever the dtype.
            sc = np.float32(scale)
            d32 = dst.astype(np.float32)
            src = np.floor((d32 + np.float32(0.5)) * sc) if mode == "nearest-exact" else \
                np.floor(d32 * sc)
            y = _pool.take_axis(y, np.minimum(src.astype(np.int64), L - 1), ax)
        elif mode in _MODE_DIMS:
            y = _linear_axis(y, ax, L, o, bool(align_corners), sf, dtype,
                             cubic=mode == "bicubic")
        else:
            raise NotImplementedError(f"interpolate(): unsupported mode '{mode}'")
    return y if y is not input else input.clone()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated alias of ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated alias of ``interpolate(..., mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --------------------------------------------------------------------------- pixel shuffle
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r).

    Example:
        >>> F.pixel_shuffle(ember.randn(1, 8, 3, 3), 2).shape
        torch.Size([1, 2, 6, 6])
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    nl = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of :func:`pixel_shuffle`."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but got input of size {list(input.shape)} and "
                           f"downscale_factor={r}")
    nl = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


# --------------------------------------------------------------------------- grid sampling
def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, lo, hi):
    # Reflect into [lo, hi] (PyTorch's reflect_coordinates), on a detached copy of the
    # coordinates' integer part so the gradient sign flips where the reflection does. The
    # sign of ``coord - lo`` is taken as +1 at 0 (PyTorch's convention), not abs()'s 0.
    span = hi - lo
    if span <= 0:
        return coord * 0
    d = coord - lo
    sign = Tensor._wrap(np.where(d._data < 0, -1, 1).astype(d._data.dtype))
    c = d * sign
    flips = np.floor(c._data / span)
    extra = c - Tensor._wrap(flips * span)
    even = Tensor._wrap((flips % 2 == 0).astype(c._data.dtype))
    return even * (extra + lo) + (1 - even) * (span - extra + lo)


def _clip(coord, hi):
    # Clamp into [0, hi] with PyTorch's clip_coordinates gradient: 1 strictly inside, 0 on
    # and beyond the bounds (clamp's own backward passes the gradient at the bounds, which
    # differs exactly on the grid points an identity grid with align_corners=True hits).
    a = coord._data
    inside = (a > 0) & (a < hi)
    m = Tensor._wrap(inside.astype(a.dtype))
    return coord * m + Tensor._wrap(np.where(inside, 0, np.clip(a, 0, hi)).astype(a.dtype))


# NOTE [ grid_sample without gradients ]
# On host data grid_sample is one record, ``grid_sampler_2d``, with or without gradients: its
# forward is the threaded C kernel where it applies (float32/float64 and a compiler: NOTE
# [ Grid-sample kernels ] in _codegen/sample_kernels.py), else a NumPy form that repeats the
# composite's arithmetic on raw arrays in the same order (bit-identical values: one gather
# per corner, the corner weights formed on (N, 1, Ho, Wo) and folded with the validity mask,
# no per-op dispatch). Its backward is one ``grid_sampler_2d_backward`` record (the C kernel,
# or the composite's gradients on raw arrays without it); under create_graph it
# differentiates the composite below, whose gradients are themselves differentiable.
def _gs_coord(g, size, ac, padding_mode):
    c = (g + 1) * ((size - 1) / 2) if ac else ((g + 1) * size - 1) / 2
    if padding_mode == "reflection":
        lo, hi = (0, size - 1) if ac else (-0.5, size - 0.5)
        span = hi - lo
        if span <= 0:
            c = c * 0
        else:
            d = c - lo
            a = d * np.where(d < 0, -1, 1).astype(d.dtype)
            flips = np.floor(a / span)
            extra = a - flips * span
            even = (flips % 2 == 0).astype(a.dtype)
            c = even * (extra + lo) + (1 - even) * (span - extra + lo)
    if padding_mode != "zeros":
        inside = (c > 0) & (c < size - 1)
        c = c * inside.astype(c.dtype) + np.where(inside, 0, np.clip(c, 0, size - 1)).astype(
            c.dtype)
    return c


def _grid_sample_fwd(x, grid, mode, padding_mode, ac):
    y = _sample_kernels.grid_sample_2d(x, grid, mode, padding_mode, ac)
    if y is not None:  # the threaded C kernel (NOTE [ Grid-sample kernels ])
        return y
    n, c, h, w = x.shape
    ho, wo = grid.shape[1:3]
    dt = x.dtype
    ix = _gs_coord(grid[..., 0], w, ac, padding_mode).reshape(n, -1)
    iy = _gs_coord(grid[..., 1], h, ac, padding_mode).reshape(n, -1)
    # Gathers move whole channel vectors from a channels-last copy (one np.take of rows per
    # sample: ~20x faster than take_along_axis on NCHW); with few channels, per-sample takes
    # along the flat spatial axis. Weights are (N, P) and broadcast over channels.
    last = c >= 8 and mode == "bilinear"  # nearest gathers once: the copies would dominate
    if last:
        src = np.ascontiguousarray(x.reshape(n, c, h * w).transpose(0, 2, 1))
        v = np.empty((n, ix.shape[1], c), dt)
    else:
        src = x.reshape(n, c, h * w)
        v = np.empty((n, c, ix.shape[1]), dt)

    def sample(xi, yi):
        valid = ((xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)).astype(dt)
        idx = np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)
        for b in range(n):
            np.take(src[b], idx[b], axis=0 if last else 1, out=v[b], mode="clip")
        return v, valid

    def wide(a):  # (N, P) weights against the values' layout
        return a[:, :, None] if last else a[:, None, :]

    with np.errstate(invalid="ignore"):
        if mode == "nearest":
            vals, m = sample(np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64))
            out = vals * wide(m) + wide(ix * 0)
        else:
            x0 = np.floor(ix).astype(np.int64)
            y0 = np.floor(iy).astype(np.int64)
            fx = ix - x0.astype(dt)
            fy = iy - y0.astype(dt)
            out = None
            for dy, wy in ((0, 1 - fy), (1, fy)):
                for dx, wx in ((0, 1 - fx), (1, fx)):
                    vals, m = sample(x0 + dx, y0 + dy)
                    if out is None:
                        out = vals * wide(wx * wy * m)
                    else:  # in place: no fresh multi-megabyte temporaries per corner
                        out += np.multiply(vals, wide(wx * wy * m), out=vals)
    if last:
        return np.ascontiguousarray(out.transpose(0, 2, 1)).reshape(n, c, ho, wo)
    return out.reshape(n, c, ho, wo)


def _grid_sample_bwd_fwd(g, x, grid, mode, padding_mode, ac, need_x, need_grid):
    r = _sample_kernels.grid_sample_2d_backward(g, x, grid, mode, padding_mode, ac, need_x,
                                                need_grid)
    if r is None:  # no kernel (no compiler, a 16-bit dtype): the composite's gradients
        with ember.enable_grad():
            ts = (Tensor._wrap(x).requires_grad_(need_x),
                  Tensor._wrap(grid).requires_grad_(need_grid))
            y = _grid_sample_composite(*ts, mode, padding_mode, ac)
            want = [t for t in ts if t.requires_grad]
            got = iter(ember.autograd.grad(y, want, Tensor._wrap(g), allow_unused=True))
        r = tuple((lambda v: None if v is None else v._data)(next(got)) if t.requires_grad
                  else None for t in ts)
    return r


def _grid_sample_grad(ctx, g):
    x, grid = ctx.inputs
    mode, padding_mode, ac = ctx.params
    if GRAD.enabled:  # create_graph: the composite's gradients are themselves differentiable
        with ember.enable_grad():
            y = _grid_sample_composite(x, grid, mode, padding_mode, ac)
        want = [t for t in (x, grid) if t.requires_grad]
        got = iter(ember.autograd.grad(y, want, g, create_graph=True, allow_unused=True))
        return tuple(next(got) if t.requires_grad else None for t in (x, grid))
    need_x, need_grid = ctx.needs_input_grad
    return apply(_GRID_SAMPLER_BWD, (g, x, grid),
                 (mode, padding_mode, ac, bool(need_x), bool(need_grid)))


# The C kernel's backward, one record for both gradients (as PyTorch's
# grid_sampler_2d_backward; not itself differentiable: create_graph takes the composite).
_GRID_SAMPLER_BWD = OpDef("grid_sampler_2d_backward", _grid_sample_bwd_fwd, None,
                          differentiable=False, multi=True,
                          attrs=("mode", "padding_mode", "align_corners", "need_input",
                                 "need_grid"))
# Differentiable where the C kernel runs (its backward is the record above); without a
# compiler only the no-grad calls use it (the NumPy forward) and the composite does the rest.
_GRID_SAMPLER = OpDef("grid_sampler_2d", _grid_sample_fwd, _grid_sample_grad, save="x",
                      attrs=("mode", "padding_mode", "align_corners"),
                      node_name="GridSampler2DBackward0")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) at ``grid`` (N, Ho, Wo, 2) locations in [-1, 1].

    Differentiable in both the input and the grid (bilinear mode).

    Args:
        mode: ``'bilinear'`` or ``'nearest'``.
        padding_mode: ``'zeros'``, ``'border'`` or ``'reflection'``.
        align_corners: whether -1 and 1 are the centres (True) or the edges of corner pixels.
    """
    # NOTE [ Per-shape plans ] (_ops/pool.py): host arrays of a (shapes, dtypes, arguments)
    # seen before go straight to the record
    key = None
    if isinstance(input, Tensor) and isinstance(grid, Tensor) and \
            input._data.__class__ is np.ndarray and grid._data.__class__ is np.ndarray:
        key = _pool._call_key(input._data.shape, grid._data.shape, mode, padding_mode,
                              align_corners)
        if key is not None:
            key += (input._data.dtype, grid._data.dtype)
            params = _GS_CALLS.get(key)
            if params is not None:
                return apply(_GRID_SAMPLER, (input, grid), params)
    if mode == "bicubic":  # a mode PyTorch has and ember does not
        raise NotImplementedError("grid_sample(): mode 'bicubic' is not implemented in ember "
                                  "(bilinear and nearest are)")
    if mode not in ("bilinear", "nearest"):  # not a mode at all: PyTorch's ValueError
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sample(): expected 4D input and grid with last dim 2 (only "
                           f"2-D sampling is implemented), got input {list(input.shape)} and "
                           f"grid {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, "
                           f"but input has {input.dtype} and grid has {grid.dtype}")
    ac = bool(align_corners)
    if type(input._data) is np.ndarray and type(grid._data) is np.ndarray:
        if key is not None:
            _pool._remember(_GS_CALLS, key, (mode, padding_mode, ac))
        return apply(_GRID_SAMPLER, (input, grid), (mode, padding_mode, ac))
    return _grid_sample_composite(input, grid, mode, padding_mode, ac)


_GS_CALLS: dict = {}


def _grid_sample_composite(input, grid, mode, padding_mode, ac):
    # grid_sample from ember ops: gradients in the input and the grid at any order
    n, c, h, w = input.shape
    ho, wo = grid.shape[1:3]
    ix = _unnormalize(grid[..., 0], w, ac)
    iy = _unnormalize(grid[..., 1], h, ac)
    if padding_mode == "border":
        ix, iy = _clip(ix, w - 1), _clip(iy, h - 1)
    elif padding_mode == "reflection":
        if ac:
            ix, iy = _reflect(ix, 0, w - 1), _reflect(iy, 0, h - 1)
        else:
            ix, iy = _reflect(ix, -0.5, w - 0.5), _reflect(iy, -0.5, h - 0.5)
        ix, iy = _clip(ix, w - 1), _clip(iy, h - 1)
    dt = input._data.dtype

    def sample(xi, yi):
        valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        flat = (np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)).reshape(n, 1, -1)
        v = _pool.gather_spatial(input, flat.astype(np.int64), (n, c, ho, wo))
        return v, Tensor._wrap(valid.astype(dt).reshape(n, 1, ho, wo))

    if mode == "nearest":
        xi = np.rint(ix._data).astype(np.int64)
        yi = np.rint(iy._data).astype(np.int64)
        v, m = sample(xi, yi)
        # The grid's gradient is zero here, as in PyTorch (defined, not None).
        return v * m + ix.unsqueeze(1) * 0
    x0 = np.floor(ix._data).astype(np.int64)
    y0 = np.floor(iy._data).astype(np.int64)
    fx = (ix - Tensor._wrap(x0.astype(dt))).unsqueeze(1)
    fy = (iy - Tensor._wrap(y0.astype(dt))).unsqueeze(1)
    out = None
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            v, m = sample(x0 + dx, y0 + dy)
            term = v * (wx * wy * m)
            out = term if out is None else out + term
    return out


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """Sampling grid (N, H, W, 2) for the affine maps ``theta`` (N, 2, 3), for grid_sample."""
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid(): only 2-D affine grids (size of length 4) are"
                                  f" implemented in ember, got size={list(size)}")
    n, _, h, w = size
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3) or theta.shape[0] != n:
        raise ValueError(f"affine_grid(): Expected a batch of 2D affine matrices of shape Nx2x3 "
                         f"for size {list(size)}. Got {list(theta.shape)}.")
    if min(h, w) <= 0:
        raise ValueError(f"affine_grid(): Expected non-zero, positive output size. Got "
                         f"{list(size)}")
    ac = bool(align_corners)

    dt = theta._data.dtype

    def lin(k):
        # PyTorch's linspace in the grid's dtype: start + i * step for the first half, end -
        # (k - 1 - i) * step for the rest, so the points land on the same floats (in float32
        # an identity grid must hit pixel centres exactly, where the gradient has kinks).
        if k <= 1:
            return np.zeros(k, dt)
        one = dt.type(1)
        step = (one + one) / dt.type(k - 1)
        i = np.arange(k)
        half = k // 2
        v = np.where(i < half, -one + step * i.astype(dt),
                     one - step * (k - 1 - i).astype(dt)).astype(dt)
        return v if ac else (v * dt.type(k - 1) / dt.type(k)).astype(dt)

    base = np.empty((h, w, 3), dt)
    base[..., 0] = lin(w)[None, :]
    base[..., 1] = lin(h)[:, None]
    base[..., 2] = 1
    grid = ember.matmul(Tensor._wrap(base.reshape(1, h * w, 3)), theta.transpose(1, 2))
    return grid.reshape(n, h, w, 2)
