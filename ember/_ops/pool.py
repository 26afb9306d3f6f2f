"""Pooling, padding and window ops: max/avg pooling, gather/scatter over flattened spatial
positions, constant and index padding, unfold/fold.

NOTE [ Pooling ops in pairs ]
Every op here is linear in its differentiable input (max pooling is, once the argmax is
fixed), so each pair of ops is mutually adjoint and each is the other's backward:

* ``spatial_gather`` / ``spatial_scatter``   (max pooling, adaptive max pooling, max unpooling,
  grid sampling): gather at precomputed flat spatial indices, and scatter-add back;
* ``avg_pool`` / ``avg_pool_backward``;
* ``constant_pad_nd`` with pads ``p`` / with pads ``-p`` (cropping is padding by a negative
  amount, and the adjoint of zero padding);
* ``take_axis`` / ``take_axis_backward`` (index-based padding modes and nearest/linear
  interpolation along one axis);
* ``im2col`` / ``col2im`` (``F.unfold`` / ``F.fold``).

Double backward therefore needs no extra code. Max pooling computes the running maximum with
one strided slice per kernel offset (a handful of array passes, never a loop over pixels) and
emits the values directly as the output of a ``spatial_gather`` node holding the indices.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ember._backends import KERNELS
from ember._ops.conv import _call_key, _col2im, _im2col, _pad_t, _remember, _to_nc
from ember._backends import xp_of
from ember._ops.core import FUNCTIONS, OpDef, apply, keep_state, state_of
from ember._tensor import Tensor

xp = np
masked_select_zero = KERNELS.masked_select_zero

# NOTE [ Per-shape plans ]
# At ~1e3 values a pooling or padding call's cost is Python: parsing and checking the
# arguments, building the window slices and the average's divisor arrays (an arange per
# dim), every call. Those depend only on the shapes and the arguments, so each is worked
# out once per distinct key and kept in a small dict (``_remember``: at most _PLANS_MAX
# entries, the oldest dropped first): the checked attributes of a call (keyed by the
# input's shape and the arguments, ``_call_key`` in conv.py: plain values only, with their
# types; anything else takes the full path every time), the window slices, the divisors
# (read-only), the padding copies' index tuples. The arrays computed are the ones the full
# path computes, by the same operations in the same order: the values are bit-identical
# (tests/test_small_nn_s9.py).
_DIVISORS: dict = {}
_WINDOWS: dict = {}
_POOL_CALLS: dict = {}


# --------------------------------------------------------------------------- gather / scatter
def _gather_fwd(x, idx, out_shape, in_shape):  # noqa: ARG001 - a record attribute, in the record's attrs order
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    return xp.take_along_axis(flat, idx, axis=2).reshape(out_shape)


def _scatter_fwd(g, idx, in_shape, src_shape):  # noqa: ARG001 - a record attribute, in the record's attrs order
    xp = xp_of(g)  # this device's array module
    n, c = in_shape[:2]
    length = math.prod(in_shape[2:])
    idx = xp.broadcast_to(idx, (n, c, idx.shape[2]))
    off = (xp.arange(n * c, dtype=xp.int64) * length).reshape(n, c, 1)
    res = xp.bincount((idx + off).reshape(-1), weights=g.reshape(-1), minlength=n * c * length)
    return res.astype(g.dtype, copy=False).reshape(in_shape)


GATHER = OpDef("spatial_gather", _gather_fwd, node_name="MaxPoolWithIndicesBackward0")
SCATTER = OpDef("spatial_scatter", _scatter_fwd, node_name="MaxUnpoolBackward0")
# params: gather (idx, out_shape, in_shape); scatter (idx, out_shape, in_shape) likewise, so
# each one's backward is the other with the two shapes swapped.
GATHER.grad(lambda ctx, g: (apply(SCATTER, (g,), (ctx.params[0], ctx.params[2],
                                                    ctx.params[1])),))
SCATTER.grad(lambda ctx, g: (apply(GATHER, (g,), (ctx.params[0], ctx.params[2],
                                                   ctx.params[1])),))


def gather_spatial(x, idx, out_shape):
    """Values of ``x`` (N, C, *S) at flat spatial indices ``idx`` (N or 1, C or 1, M)."""
    return apply(GATHER, (x,), (idx, tuple(out_shape), tuple(x.shape)))


def scatter_spatial(g, idx, in_shape):
    """Scatter-add ``g`` into zeros of ``in_shape`` at flat spatial indices ``idx``."""
    return apply(SCATTER, (g,), (idx, tuple(in_shape), tuple(g.shape)))


# --------------------------------------------------------------------------- sizes
def _tuple(v, n, name, arg):
    if v is None:
        return None
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"{name}(): {arg} must either be a single int, or a tuple of {n} "
                           f"ints, got {list(v)}")
    return v


def pool_out_size(length, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length (with its ceil_mode rule for the last window)."""
    num = length + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    o = num // s + 1
    if ceil_mode and (o - 1) * s >= length + p:
        o -= 1
    return o


def _pool_args(name, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D input tensor, but got "
                           f"{x.ndim}D input of size {list(x.shape)}")
    ks = _tuple(kernel_size, nd, name, "kernel_size")
    s = _tuple(stride, nd, name, "stride") if stride not in (None, ()) and \
        not (isinstance(stride, (list, tuple)) and len(stride) == 0) else ks
    p = _tuple(padding, nd, name, "padding")
    d = _tuple(dilation, nd, name, "dilation")
    if any(v <= 0 for v in ks) or any(v <= 0 for v in s) or any(v <= 0 for v in d):
        raise RuntimeError(f"{name}(): kernel_size, stride and dilation must be greater than "
                           f"zero, but got kernel_size={list(ks)}, stride={list(s)}, "
                           f"dilation={list(d)}")
    for pi, k, di in zip(p, ks, d):
        if pi < 0 or pi > (di * (k - 1) + 1) // 2:
            raise RuntimeError(f"{name}(): pad should be at most half of effective kernel size,"
                               f" but got pad={pi}, kernel_size={k} and dilation={di}")
    spatial = tuple(x.shape[-nd:])
    out = tuple(pool_out_size(L, k, si, pi, di, ceil_mode)
                for L, k, si, pi, di in zip(spatial, ks, s, p, d))
    if any(o <= 0 for o in out):
        c = x.shape[-nd - 1]
        raise RuntimeError(f"{name}(): Given input size: ({c}x{'x'.join(map(str, spatial))}). "
                           f"Calculated output size: ({c}x{'x'.join(map(str, out))}). Output "
                           "size is too small")
    return ks, s, p, d, out


def _batch(x, nd):
    return (x.unsqueeze(0), True) if x.ndim == nd + 1 else (x, False)


# --------------------------------------------------------------------------- max pooling
def _padded(x, lo, hi, fill):
    """(N, C, *S) -> (N, C, *S') padded with ``fill`` (hi may be larger than needed)."""
    xp = xp_of(x)  # this device's array module
    if not any(lo) and not any(hi):
        return x
    shape = x.shape[:2] + tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi))
    buf = xp.full(shape, fill, x.dtype)
    buf[(slice(None), slice(None)) + tuple(slice(a, a + s) for a, s in
                                           zip(lo, x.shape[2:]))] = x
    return buf


def _windows_hi(spatial, ks, s, p, d, out):
    return tuple(max((o - 1) * si + di * (k - 1) + 1 - L - pi, 0)
                 for L, k, si, pi, di, o in zip(spatial, ks, s, p, d, out))


def _slices(ks, s, d, out):
    for kidx in itertools.product(*[range(k) for k in ks]):
        yield (slice(None), slice(None)) + tuple(
            slice(ki * di, ki * di + si * (oi - 1) + 1, si)
            for ki, di, si, oi in zip(kidx, d, s, out))




def max_pool_arg(x, ks, s, p, d, out):
    """Array-level max pooling: (values, kernel offset of each maximum as a small int).

    Measured fastest here: a running ``np.maximum`` over the strided kernel-offset slices,
    then one equality pass per offset (in reverse down to offset 0, so the first maximum wins
    as in PyTorch; of several NaNs the last, as there), merged arithmetically
    (``arg += (k - arg) * eq``: masked copies branch per element and were 9x slower on
    random data).
    """
    if type(x) is np.ndarray and x.dtype.kind == "f":
        from ember._codegen import cnn  # NOTE [ Hand-written CNN kernels ]

        res = cnn.max_pool_forward(x, ks, s, p, d, out)
        if res is not None:
            return res
    xp = xp_of(x)  # this device's array module
    spatial = x.shape[2:]
    fill = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
    xpad = _padded(x, p, _windows_hi(spatial, ks, s, p, d, out), fill)
    sl = [xpad[k] for k in _slices(ks, s, d, out)]
    best = sl[0].copy()
    for v in sl[1:]:
        xp.maximum(best, v, out=best)
    kdt = xp.int8 if len(sl) < 128 else xp.int32
    arg = xp.zeros(best.shape, kdt)
    eq = xp.empty(best.shape, bool)
    tmp = xp.empty(best.shape, kdt)
    for kf in range(len(sl) - 1, -1, -1):  # down to 0: a tie with offset 0 must win too
        xp.equal(sl[kf], best, out=eq)
        xp.subtract(kdt(kf), arg, out=tmp)
        xp.multiply(tmp, eq.view(xp.int8), out=tmp, casting="unsafe")
        arg += tmp
    if x.dtype.kind == "f":
        nan = xp.isnan(best)
        # NaN propagates: the last NaN in the window is the "maximum", as PyTorch's kernels
        # (val > max || isnan(val)) take. On a device, asking nan.any() would make the host
        # wait for the GPU (and cannot be captured in a CUDA graph): there the masked
        # copies run unconditionally.
        if best.__class__ is not np.ndarray or nan.any():
            for kf in range(len(sl)):
                xp.copyto(arg, kf, where=nan & xp.isnan(sl[kf]))
    return best, arg


def flat_indices(arg, ks, s, p, d, out, spatial):
    """Kernel offsets -> flat indices into the (unpadded) input's spatial positions."""
    xp = xp_of(arg)  # this device's array module
    kpos = xp.unravel_index(arg.astype(xp.int64), ks) if len(ks) > 1 else \
        (arg.astype(xp.int64),)
    flat = 0
    stride = 1
    nd = len(ks)
    for i in range(nd - 1, -1, -1):
        o = xp.arange(out[i], dtype=xp.int64).reshape((out[i],) + (1,) * (nd - 1 - i))
        flat = flat + (o * s[i] - p[i] + kpos[i] * d[i]) * stride
        stride *= spatial[i]
    return flat


def max_pool_indices(x, ks, s, p, d, out):
    """(values, flat spatial indices) of max pooling."""
    best, arg = max_pool_arg(x, ks, s, p, d, out)
    return best, flat_indices(arg, ks, s, p, d, out, x.shape[2:])


def _select_fwd(x, arg, ks, s, p, d, out):
    """Values of x at the recorded window maxima (the max pooling of x with fixed argmax)."""
    xp = xp_of(x)  # this device's array module
    xpad = _padded(x, p, _windows_hi(x.shape[2:], ks, s, p, d, out), 0)
    res = xp.zeros(arg.shape, x.dtype)
    for kf, sl in enumerate(_slices(ks, s, d, out)):
        res += masked_select_zero(xpad[sl], arg == kf)
    return res


def _select_bwd_fwd(g, arg, ks, s, p, d, out, spatial):
    if type(g) is np.ndarray and g.dtype.kind == "f":
        from ember._codegen import cnn  # NOTE [ Hand-written CNN kernels ]

        res = cnn.max_pool_backward(g, arg, ks, s, p, d, spatial)
        if res is not None:
            return res
    xp = xp_of(g)  # this device's array module
    hi = _windows_hi(spatial, ks, s, p, d, out)
    full = tuple(L + a + b for L, a, b in zip(spatial, p, hi))
    # Windows that do not overlap (stride >= dilated kernel) write each input position at
    # most once: assign instead of accumulating.
    disjoint = all(si >= di * (k - 1) + 1 for si, di, k in zip(s, d, ks))
    buf = xp.zeros(g.shape[:2] + full, g.dtype)
    for kf, sl in enumerate(_slices(ks, s, d, out)):
        if disjoint:
            buf[sl] = masked_select_zero(g, arg == kf)
        else:
            buf[sl] += masked_select_zero(g, arg == kf)
    if not any(p) and full == tuple(spatial):
        return buf
    return xp.ascontiguousarray(buf[(slice(None), slice(None)) + tuple(
        slice(a, a + L) for a, L in zip(p, spatial))])


# NOTE [ Max pooling records ]
# ``max_pool`` computes the maxima and, as forward-time state (NOTE [ Forward state as
# outputs ]), the kernel offset of each (an int8 array); its backward scatters the gradient
# there (``max_pool_backward``, inputs g and the offsets), whose own derivative gathers
# at the same offsets (``max_pool_gather``). The offsets are tensor inputs, never arrays in
# the attributes, so every record replays from ``fwd(*arrays, *attrs)``.
_POOL_ATTRS = ("kernel_size", "stride", "padding", "dilation", "output_size", "input_size")
MAX_POOL = OpDef("max_pool", lambda x, ks, s, p, d, out, spatial: max_pool_arg(x, ks, s, p, d,
                                                                              out),
                 onnx="MaxPool", node_name="MaxPool2DWithIndicesBackward0", multi=True,
                 attrs=_POOL_ATTRS)
MAX_POOL_SELECT = OpDef("max_pool_gather", lambda x, arg, ks, s, p, d, out, spatial:
                        _select_fwd(x, arg, ks, s, p, d, out), attrs=_POOL_ATTRS, save="x",
                        node_name="MaxPool2DWithIndicesBackward0")
MAX_POOL_BWD = OpDef("max_pool_backward", _select_bwd_fwd, attrs=_POOL_ATTRS, save="x",
                     node_name="MaxPool2DWithIndicesBackwardBackward0")


@MAX_POOL.grad
def _(ctx, g):
    (arg,) = state_of(ctx)
    return (apply(MAX_POOL_BWD, (g[0], Tensor._wrap(arg)), ctx.params),)


@MAX_POOL_SELECT.grad
def _(ctx, g):
    return (apply(MAX_POOL_BWD, (g, ctx.inputs[1]), ctx.params), None)


@MAX_POOL_BWD.grad
def _(ctx, gg):
    return (apply(MAX_POOL_SELECT, (gg, ctx.inputs[1]), ctx.params), None)


_FLAT_INDICES = OpDef("max_pool_indices", flat_indices, None, differentiable=False,
                      attrs=_POOL_ATTRS)


def max_pool(name, input, nd, kernel_size, stride=None, padding=0, dilation=1,
             ceil_mode=False, return_indices=False):
    """Shared implementation of max_pool1d/2d/3d (values, and indices when asked)."""
    key = plan = None
    if isinstance(input, Tensor):  # NOTE [ Per-shape plans ]
        key = _call_key(name, input._data.shape, kernel_size, stride, padding, dilation,
                        ceil_mode)
        plan = _POOL_CALLS.get(key) if key is not None else None
    if plan is not None:
        unb, attrs = plan
        x = input.unsqueeze(0) if unb else input
    else:
        ks, s, p, d, out = _pool_args(name, input, nd, kernel_size, stride, padding, dilation,
                                      ceil_mode)
        x, unb = _batch(input, nd)
        attrs = (ks, s, p, d, out, tuple(x.shape[2:]))
        if key is not None:
            _remember(_POOL_CALLS, key, (unb, attrs))
    y, arg = apply(MAX_POOL, (x,), attrs)
    keep_state((y, arg), 1)
    if unb:
        y = y.squeeze(0)
    if return_indices:
        idx = apply(_FLAT_INDICES, (arg,), attrs)
        return y, idx.squeeze(0) if unb else idx
    return y


# --------------------------------------------------------------------------- avg pooling
def _divisor(xp, spatial, ks, s, p, out, count_include_pad, divisor_override):
    """The window sizes (int64, (out[0], 1, ...) x ... broadcast over the output), or None
    with a divisor override; one read-only array per geometry (NOTE [ Per-shape plans ])."""
    if divisor_override:
        return None
    key = (xp, spatial, ks, s, p, out, count_include_pad)
    div = _DIVISORS.get(key)
    if div is None:
        div = _divisor_new(xp, spatial, ks, s, p, out, count_include_pad)
        if type(div) is np.ndarray:
            div.flags.writeable = False
        _remember(_DIVISORS, key, div)
    return div


def _divisor_new(xp, spatial, ks, s, p, out, count_include_pad):
    div = 1
    nd = len(ks)
    for i, (L, k, si, pi, o) in enumerate(zip(spatial, ks, s, p, out)):
        start = xp.arange(o) * si - pi
        end = xp.minimum(start + k, L + pi)
        size = end - start
        if not count_include_pad:
            size = xp.minimum(end, L) - xp.maximum(start, 0)
        div = div * size.reshape((o,) + (1,) * (nd - 1 - i))
    return div


def _avg_windows(spatial, ks, s, p, out):
    """(padding behind, or None where none is needed; the strided window slices of every
    kernel offset, in kernel order), kept per geometry (NOTE [ Per-shape plans ])."""
    key = (spatial, ks, s, p, out)
    plan = _WINDOWS.get(key)
    if plan is None:
        hi = _windows_hi(spatial, ks, s, p, (1,) * len(ks), out)
        plan = _remember(_WINDOWS, key, (hi if any(p) or any(hi) else None, tuple(
            (slice(None), slice(None)) + tuple(slice(ki, ki + si * (oi - 1) + 1, si)
                                               for ki, si, oi in zip(kidx, s, out))
            for kidx in itertools.product(*[range(k) for k in ks]))))
    return plan


def _avg_fwd(x, ks, s, p, out, count_include_pad, override, in_spatial):
    xp = xp_of(x)
    div = _divisor(xp, in_spatial, ks, s, p, out, count_include_pad, override)
    if x.__class__ is np.ndarray and x.dtype.kind == "f":
        from ember._codegen import cnn  # NOTE [ Average pooling kernel ]

        y = cnn.avg_pool_forward(x, ks, s, p, out, count_include_pad, div, override)
        if y is not None:
            return y
    hi, windows = _avg_windows(x.shape[2:], ks, s, p, out)
    xpad = x if hi is None else _padded(x, p, hi, 0)
    acc = None
    for sl in windows:
        v = xpad[sl]
        if acc is None:
            acc = v.copy() if v.dtype.kind == "f" else v.astype(xp.float64)
        else:
            acc += v
    if override:
        acc /= override
    else:
        acc /= div
    return acc.astype(x.dtype, copy=False)


def _avg_bwd_fwd(g, ks, s, p, out, count_include_pad, override, in_spatial):
    xp = xp_of(g)  # this device's array module
    if override:
        g = g / override
    else:  # the divisors in g's dtype (keeps g's dtype), kept per geometry
        key = (xp, in_spatial, ks, s, p, out, count_include_pad, g.dtype)
        div = _DIVISORS.get(key)
        if div is None:
            div = _divisor(xp, in_spatial, ks, s, p, out, count_include_pad, None).astype(
                g.dtype)
            if type(div) is np.ndarray:
                div.flags.writeable = False
            _remember(_DIVISORS, key, div)
        g = g / div
    # NOTE [ Per-shape plans ]: the window slices are the forward's (same formula)
    geo = _AVG_BWD.get((in_spatial, ks, s, p, out))
    if geo is None:
        full = tuple(max(L + 2 * pi, (o - 1) * si + k)
                     for L, pi, o, si, k in zip(in_spatial, p, out, s, ks))
        crop = (slice(None), slice(None)) + tuple(slice(pi, pi + L) for pi, L in
                                                  zip(p, in_spatial))
        geo = _remember(_AVG_BWD, (in_spatial, ks, s, p, out), (full, crop))
    full, crop = geo
    n, c = g.shape[:2]
    buf = xp.zeros((n, c, *full), g.dtype)
    for sl in _avg_windows(in_spatial, ks, s, p, out)[1]:
        buf[sl] += g
    return xp.ascontiguousarray(buf[crop])


_AVG_BWD: dict = {}


_AVG_ATTRS = ("kernel_size", "stride", "padding", "output_size", "count_include_pad",
              "divisor_override", "input_size")
AVG_POOL = OpDef("avg_pool", _avg_fwd, onnx="AveragePool", node_name="AvgPool2DBackward0",
                 attrs=_AVG_ATTRS)
AVG_POOL_BWD = OpDef("avg_pool_backward", _avg_bwd_fwd,
                     node_name="AvgPool2DBackwardBackward0", attrs=_AVG_ATTRS)
AVG_POOL.grad(lambda ctx, g: (apply(AVG_POOL_BWD, (g,), ctx.params),))
AVG_POOL_BWD.grad(lambda ctx, g: (apply(AVG_POOL, (g,), ctx.params),))


def avg_pool(name, input, nd, kernel_size, stride=None, padding=0, ceil_mode=False,
             count_include_pad=True, divisor_override=None):
    """Shared implementation of avg_pool1d/2d/3d."""
    key = None
    if isinstance(input, Tensor):  # NOTE [ Per-shape plans ]
        key = _call_key(name, input._data.shape, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)
        plan = _POOL_CALLS.get(key) if key is not None else None
        if plan is not None:
            unb, attrs = plan
            y = apply(AVG_POOL, (input.unsqueeze(0) if unb else input,), attrs)
            return y.squeeze(0) if unb else y
    ks, s, p, _, out = _pool_args(name, input, nd, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{name}(): divisor must be not zero")
    x, unb = _batch(input, nd)
    spatial = tuple(x.shape[2:])
    attrs = (ks, s, p, out, bool(count_include_pad), divisor_override, spatial)
    if key is not None:
        _remember(_POOL_CALLS, key, (unb, attrs))
    y = apply(AVG_POOL, (x,), attrs)
    return y.squeeze(0) if unb else y


# --------------------------------------------------------------------------- padding
def _pad_const_fwd(x, pads, value):
    """``pads``: ((lo, hi), ...) for the trailing dims; negative entries crop."""
    xp = xp_of(x)  # this device's array module
    nd = len(pads)
    lead = x.ndim - nd
    shape = x.shape[:lead] + tuple(L + a + b for L, (a, b) in zip(x.shape[lead:], pads))
    if any(v < 0 for v in shape):
        raise RuntimeError(f"constant_pad_nd(): The input size {list(x.shape)}, plus negative "
                           f"padding {list(pads)} resulted in a negative output size")
    y = xp.full(shape, value, x.dtype)
    src = tuple(slice(max(-a, 0), L - max(-b, 0)) for L, (a, b) in zip(x.shape[lead:], pads))
    dst = tuple(slice(max(a, 0), max(a, 0) + (s.stop - s.start)) for s, (a, _) in
                zip(src, pads))
    lead_sl = (slice(None),) * lead
    y[lead_sl + dst] = x[lead_sl + src]
    return y


PAD_CONST = OpDef("constant_pad_nd", _pad_const_fwd, onnx="Pad",
                  node_name="ConstantPadNdBackward0")
PAD_CONST.grad(lambda ctx, g: (apply(PAD_CONST, (g,), (tuple((-a, -b) for a, b in
                                                            ctx.params[0]), 0)),))


def _take_fwd(x, idx, axis, length):  # noqa: ARG001 - a record attribute, in the record's attrs order
    return xp.take(x, idx, axis=axis)


def _take_bwd_fwd(g, idx, axis, length):
    xp = xp_of(g)  # this device's array module
    shape = list(g.shape)
    shape[axis] = length
    out = xp.zeros(shape, g.dtype)
    lead = (slice(None),) * (axis % g.ndim)
    if type(g) is np.ndarray and len(idx) <= 2048 and g.size >= 32 * len(idx):
        # A few hundred slice additions (padding, interpolation: short index vectors over
        # large slices) instead of add.at's element-by-element walk; the same additions in
        # the same order, so bit-identical.
        for k, i in enumerate(idx.tolist()):
            out[lead + (i,)] += g[lead + (k,)]
        return out
    KERNELS.scatter_add(out, lead + (idx,), g)
    return out


TAKE = OpDef("take_axis", _take_fwd, onnx="Gather", node_name="IndexSelectBackward0")
TAKE_BWD = OpDef("take_axis_backward", _take_bwd_fwd, node_name="IndexAddBackward0")
TAKE.grad(lambda ctx, g: (apply(TAKE_BWD, (g,), ctx.params),))
TAKE_BWD.grad(lambda ctx, g: (apply(TAKE, (g,), ctx.params),))


def take_axis(x, idx, axis):
    """``x`` indexed by the integer array ``idx`` along ``axis`` (differentiable in x)."""
    xp = xp_of(x)  # this device's array module
    axis = axis % x.ndim
    return apply(TAKE, (x,), (xp.asarray(idx, xp.int64), axis, x.shape[axis]))


# --------------------------------------------------------------------------- unfold / fold
def _unfold_fwd(x, ks, s, p, d, out, size):  # noqa: ARG001 - a record attribute, in the record's attrs order
    xp = xp_of(x)  # this device's array module
    xt = _pad_t(x, p, p)
    cols = _im2col(xt, ks, s, d, out)  # (C, *ks, N, *out)
    c, n = x.shape[1], x.shape[0]
    cols = cols.reshape(c * math.prod(ks), n, -1)
    return xp.ascontiguousarray(cols.swapaxes(0, 1))


def _fold_fwd(cols, ks, s, p, d, out, size):
    n, ck, _ = cols.shape
    c = ck // math.prod(ks)
    arr = cols.swapaxes(0, 1).reshape(c, *ks, n, *out)
    full = tuple(L + 2 * pi for L, pi in zip(size, p))
    buf = _col2im(arr, ks, s, d, out, full)
    crop = buf[(slice(None), slice(None)) + tuple(slice(pi, pi + L) for pi, L in zip(p, size))]
    return _to_nc(crop)


UNFOLD = OpDef("im2col", _unfold_fwd, node_name="Im2ColBackward0")
FOLD = OpDef("col2im", _fold_fwd, node_name="Col2ImBackward0")
UNFOLD.grad(lambda ctx, g: (apply(FOLD, (g,), ctx.params),))
FOLD.grad(lambda ctx, g: (apply(UNFOLD, (g,), ctx.params),))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: (N, C, *S) -> (N, C * prod(kernel_size), L)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"unfold(): argument 'input' must be Tensor, not {type(input).__name__}")
    nd = input.ndim - 2
    if nd < 1:
        raise RuntimeError(f"unfold(): Expected 3D or 4D (batch mode) tensor, got "
                           f"{input.ndim}D input of size {list(input.shape)}")
    if input.ndim == 3:  # PyTorch: 3-D input is unbatched (C, H, W)
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    ks = _tuple(kernel_size, nd, "unfold", "kernel_size")
    d = _tuple(dilation, nd, "unfold", "dilation")
    p = _tuple(padding, nd, "unfold", "padding")
    s = _tuple(stride, nd, "unfold", "stride")
    size = tuple(input.shape[2:])
    out = tuple((L + 2 * pi - di * (k - 1) - 1) // si + 1
                for L, pi, di, k, si in zip(size, p, d, ks, s))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"unfold(): Given input with spatial size {list(size)}, "
                           f"kernel_size={list(ks)}, dilation={list(d)}, padding={list(p)}, "
                           f"calculated shape of the array of sliding blocks as {list(out)}, "
                           "but its components must be at least one.")
    return apply(UNFOLD, (input,), (ks, s, p, d, out, size))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into a tensor: the adjoint of :func:`unfold`."""
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding,
                    stride).squeeze(0)
    if input.ndim != 3:
        raise RuntimeError(f"fold(): Expected 2D or 3D (batch mode) input tensor, got "
                           f"{input.ndim}D input of size {list(input.shape)}")
    size = _tuple(output_size, 2, "fold", "output_size")
    nd = len(size)
    ks = _tuple(kernel_size, nd, "fold", "kernel_size")
    d = _tuple(dilation, nd, "fold", "dilation")
    p = _tuple(padding, nd, "fold", "padding")
    s = _tuple(stride, nd, "fold", "stride")
    k = math.prod(ks)
    if input.shape[1] % k:
        raise RuntimeError(f"fold(): Expected size of input's dimension 1 to be divisible by the"
                           f" product of kernel_size, but got input.size(1)={input.shape[1]} "
                           f"and kernel_size={list(ks)}")
    out = tuple((L + 2 * pi - di * (kk - 1) - 1) // si + 1
                for L, pi, di, kk, si in zip(size, p, d, ks, s))
    if math.prod(out) != input.shape[2]:
        raise RuntimeError(f"fold(): Given output_size={list(size)}, kernel_size={list(ks)}, "
                           f"dilation={list(d)}, padding={list(p)}, stride={list(s)}, expected "
                           f"size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {' * '.join(map(str, out))} = {math.prod(out)}, but "
                           f"got input.size(2)={input.shape[2]}.")
    return apply(FOLD, (input,), (ks, s, p, d, out, size))


# --------------------------------------------------------------------------- public (torch.*)
def _publish(name, f):
    f.__name__ = f.__qualname__ = name
    FUNCTIONS[name] = f
    return f


def _mp(nd):
    def f(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
          return_indices=False):
        return max_pool(f"max_pool{nd}d", input, nd, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)

    f.__doc__ = f"{nd}-D max pooling over (N, C, *spatial); see ``nn.MaxPool{nd}d``."
    return _publish(f"max_pool{nd}d", f)


def _ap(nd):
    def f(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
          divisor_override=None):
        return avg_pool(f"avg_pool{nd}d", input, nd, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)

    f.__doc__ = f"{nd}-D average pooling over (N, C, *spatial); see ``nn.AvgPool{nd}d``."
    return f


max_pool1d = _mp(1)
max_pool2d = _mp(2)
max_pool3d = _mp(3)
avg_pool1d = _publish("avg_pool1d", _ap(1))
avg_pool2d = _ap(2)
avg_pool3d = _ap(3)
avg_pool2d.__name__, avg_pool3d.__name__ = "avg_pool2d", "avg_pool3d"
