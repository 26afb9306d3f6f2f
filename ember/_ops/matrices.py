"""More shape ops: tril/triu, diag family, trace, repeat_interleave, meshgrid, atleast_nd,
column_stack, tensordot, kron, cdist, cartesian_prod, block_diag, as_strided, unfold,
fliplr/flipud/rot90, tril_indices/triu_indices. Most are compositions of existing ops
(so their gradients need no new formula); the rest are OpDefs with their own backward."""

from __future__ import annotations

import math

import numpy as np

from ember._backends import DEFAULT, backend_of, xp_of
from ember._ops.args import layout_arg
from ember._ops.core import METHODS, OpDef, apply, register
from ember._ops.index import _INDEX
from ember._ops.shape import cat, stack
from ember._tensor import Tensor, _wrap_dim
from ember._ops.outarg import with_out

xp = np


def _zeros_on(ref, shape, dtype):
    """A zero tensor on the device of the array ``ref``."""
    return Tensor._wrap(xp_of(ref).zeros(shape, dtype))


def _host(a):
    """``a`` as a host array (one transfer from a device; data-dependent sizes need it)."""
    b = backend_of(a)
    return a if b is DEFAULT else b.to_host(a)


def _to_like(ref, host):
    """The host array ``host`` (an index built here) moved to the device of ``ref``."""
    b = backend_of(ref)
    return host if b is DEFAULT else b.from_host(host)


# ------------------------------------------------------------------ triangles
_TRIL = OpDef("tril", lambda x, k: xp.tril(x, k), lambda ctx, g: (g.tril(ctx.params[0]),))
_TRIU = OpDef("triu", lambda x, k: xp.triu(x, k), lambda ctx, g: (g.triu(ctx.params[0]),))


def _check_2d(name, input):
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions (got shape "
                           f"{list(input.shape)})")


@with_out("tril")
def tril(input, diagonal=0):
    _check_2d("tril", input)
    return apply(_TRIL, (input,), (diagonal,))


@with_out("triu")
def triu(input, diagonal=0):
    _check_2d("triu", input)
    return apply(_TRIU, (input,), (diagonal,))


def _tri_indices(name, row, col, offset, dtype, device, layout):
    from ember import _dtype as D

    dt = D.int64 if dtype is None else D.to_dtype(dtype)
    if dt.category != D.INT:  # PyTorch: only integer index dtypes
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{dt._short if hasattr(dt, '_short') else dt}'")
    layout_arg(name, "layout", layout)
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}(): row and col must be non-negative, got row={row}, "
                           f"col={col}")
    from ember._ops.creation import _create

    return _create(_TRI_INDICES[name], (int(row), int(col), int(offset), dt.np), device, False)


def _tri_fwd(fn):
    def fwd(row, col, offset, dt):
        r, c = fn(row, offset, col)
        return np.stack([r, c]).astype(dt).reshape(2, -1)

    return fwd


def _tri_count(lower):
    def rule(row, col, offset, dt):
        k = offset if lower else offset - 1  # upper = all minus the strict lower part
        n = sum(max(0, min(col, i + k + 1)) for i in range(row))
        return ((2, n if lower else row * col - n), dt)

    return rule


_TRI_INDICES = {
    name: OpDef(name, _tri_fwd(fn), None, differentiable=False, kind="factory",
                attrs=("row", "col", "offset", "dtype", "device"), shape_rule=_tri_count(low))
    for name, fn, low in (("tril_indices", np.tril_indices, True),
                          ("triu_indices", np.triu_indices, False))}


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices (2, N) of the lower triangle of a ``row`` x ``col`` matrix.

    Args:
        row, col: the matrix's shape.
        offset: which diagonal bounds the triangle (0 the main one).
        dtype: an integer dtype (default int64); others raise ``NotImplementedError``.
        device: where the result goes.
        layout: only ``ember.strided``.

    Example:
        >>> ember.tril_indices(2, 2, dtype=ember.int32)
        tensor([[0, 1, 1],
                [0, 0, 1]], dtype=torch.int32)
    """
    return _tri_indices("tril_indices", row, col, offset, dtype, device, layout)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices (2, N) of the upper triangle of a ``row`` x ``col`` matrix.

    Args:
        row, col: the matrix's shape.
        offset: which diagonal bounds the triangle (0 the main one).
        dtype: an integer dtype (default int64); others raise ``NotImplementedError``.
        device: where the result goes.
        layout: only ``ember.strided``.

    Example:
        >>> ember.triu_indices(2, 2)
        tensor([[0, 0, 1],
                [0, 1, 1]])
    """
    return _tri_indices("triu_indices", row, col, offset, dtype, device, layout)


# ------------------------------------------------------------------ diagonals
def _diag_key(shape, offset, d1, d2):
    """Fancy-index key selecting the ``offset`` diagonal of dims d1, d2 (moved last)."""
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        m = max(min(n1, n2 - offset), 0)
        i, j = np.arange(m), np.arange(m) + offset
    else:
        m = max(min(n1 + offset, n2), 0)
        i, j = np.arange(m) - offset, np.arange(m)
    key = [slice(None)] * len(shape)
    key[d1], key[d2] = i, j
    return tuple(key)


def _diagonal_fwd(x, offset, d1, d2, _in_shape=None):
    from ember._backends import xp_of

    r = xp_of(x).diagonal(x, offset, d1, d2)
    # NumPy hands out the diagonal as a read-only view (a deprecation-era guard); it is a
    # plain strided view, writable whenever its base is, as PyTorch's is.
    if x.flags.writeable and not r.flags.writeable:
        r.flags.writeable = True
    return r


def _diagonal_backward_fwd(g, shape, offset, d1, d2):
    z = xp_of(g).zeros(shape, g.dtype)
    _diagonal_fwd(z, offset, d1, d2)[...] = g
    return z


_DIAGONAL_BWD = OpDef("diagonal_backward", _diagonal_backward_fwd,
                      lambda ctx, gg: (apply(_DIAGONAL, (gg,), ctx.params[1:] + ctx.params[:1]),),
                      attrs=("input_sizes", "offset", "dim1", "dim2"))
_DIAGONAL = OpDef("diagonal", _diagonal_fwd, None, view=True,
                  attrs=("offset", "dim1", "dim2", "input_sizes"))


@_DIAGONAL.grad
def _(ctx, g):
    offset, d1, d2, shape = ctx.params
    return (apply(_DIAGONAL_BWD, (g,), (shape, offset, d1, d2)),)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset`` diagonal of dims ``dim1``/``dim2``, as a view appended as the last dim.

    Writes through the result reach ``input`` and writes to ``input`` show in it (a view
    sharing memory and the version counter, as in PyTorch).

    Args:
        input: a tensor with at least 2 dims.
        offset: 0 the main diagonal, > 0 above it, < 0 below it.
        dim1, dim2: the two dims the diagonal runs along.

    Example:
        >>> x = ember.zeros(3, 3)
        >>> x.diagonal().fill_(1)
        >>> ember.equal(x, ember.eye(3))
        True
    """
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal(): expected a tensor with at least 2 dimensions, but got "
                           f"{nd}")
    d1, d2 = _wrap_dim(dim1, nd, "diagonal"), _wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(_DIAGONAL, (input,), (int(offset), d1, d2, input._data.shape))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input._data.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd, "diag_embed"), _wrap_dim(dim2, nd, "diag_embed")
    n = input._data.shape[-1] + abs(offset)
    base = [s for s in input._data.shape[:-1]]
    out_shape = []
    it = iter(base)
    for k in range(nd):
        out_shape.append(n if k in (d1, d2) else next(it))
    # build the output as zeros with the diagonal filled: a differentiable index_put
    from ember._ops.index import _INDEX_PUT

    z = _zeros_on(input._data, out_shape, input._data.dtype)
    key = _diag_key(tuple(out_shape), offset, d1, d2)
    sel_shape = np.zeros(out_shape, bool)[key].shape  # (shape arithmetic on the host)
    # the selected block has the diagonal dim first (non-adjacent) or at min(d1, d2)
    adjacent = abs(d1 - d2) == 1
    src = input.movedim(-1, min(d1, d2) if adjacent else 0)
    return apply(_INDEX_PUT, (z, src.reshape(sel_shape)), (key, False))


@with_out("diag")
def diag(input, diagonal=0):
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal, 0, 1)
    if nd == 2:  # a copy, unlike Tensor.diagonal (PyTorch's diag does not return a view)
        return globals()["diagonal"](input, diagonal).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def diagflat(input, offset=0):
    return diag(input.reshape(-1), offset)


def trace(input):
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{input._data.ndim}")
    return diagonal(input).sum()


# ------------------------------------------------------------------ repetition & grids
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # repeat_interleave(repeats_tensor): indices repeated
        r = _host(input._data)  # the output's size is the values' sum: known on the host
        if output_size is not None and output_size != int(r.sum()):
            raise RuntimeError("allocated size does not match required size")
        return Tensor._wrap(_to_like(input._data, np.repeat(np.arange(r.size), r)
                                     .astype(np.int64)))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _wrap_dim(dim, x._data.ndim, "repeat_interleave")
    n = x._data.shape[d] if x._data.ndim else 1
    reps = _host(repeats._data) if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.ndim and reps.size not in (1, n):
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along "
                           f"dim, but got repeats.size(0) = {reps.size} and input.size({d}) = {n}")
    if (reps < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = np.repeat(np.arange(n), np.broadcast_to(reps, (n,)))
    if output_size is not None and output_size != idx.size:  # PyTorch checks the hint
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {idx.size} but "
                           f"got {output_size}")
    key = (slice(None),) * d + (_to_like(x._data, idx),)
    if x._data.ndim == 0:
        x = x.reshape(1)
    return apply(_INDEX, (x,), (key, x._data.shape))


def meshgrid(*tensors, indexing="ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing}")
    ts = [t.reshape(-1) for t in tensors]
    shape = [t.shape[0] for t in ts]
    outs = []
    for i, t in enumerate(ts):
        v = [1] * len(ts)
        v[i] = shape[i]
        outs.append(t.reshape(v).expand(shape))
    if indexing == "xy" and len(ts) >= 2:  # Cartesian indexing: swap the first two axes
        outs = [o.transpose(0, 1) for o in outs]
    return tuple(outs)


def atleast_1d(*tensors):
    res = [t.reshape(1) if t.ndim == 0 else t for t in _seq(tensors)]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*tensors):
    res = [t.reshape(1, 1) if t.ndim == 0 else t.unsqueeze(0) if t.ndim == 1 else t
           for t in _seq(tensors)]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*tensors):
    def up(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, -1, 1)
        if t.ndim == 2:
            return t.unsqueeze(-1)
        return t

    res = [up(t) for t in _seq(tensors)]
    return res[0] if len(res) == 1 else tuple(res)


def _seq(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


@with_out("column_stack")
def column_stack(tensors):
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


@with_out("tensordot")
def tensordot(a, b, dims=2, out=None):  # noqa: ARG001 - out= is written by @with_out
    if isinstance(dims, Tensor) and dims._data.ndim == 0:  # PyTorch reads a 0-dim tensor
        dims = int(dims._data)
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    elif not isinstance(dims, (list, tuple)):
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da = [_wrap_dim(d, a.ndim, "tensordot") for d in da]
    db = [_wrap_dim(d, b.ndim, "tensordot") for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has "
                               f"size {a.shape[x]} in dim {x} and second has size {b.shape[y]} "
                               f"in dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = int(np.prod([a.shape[d] for d in da])) if da else 1
    am = a.permute(*fa, *da).reshape(-1, k)
    bm = b.permute(*db, *fb).reshape(k, -1)
    return (am @ bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])


@with_out("kron")
def kron(input, other):
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    sa, sb = a.shape, b.shape
    ai = a.reshape([s for d in sa for s in (d, 1)])
    bi = b.reshape([s for d in sb for s in (1, d)])
    return (ai * bi).reshape([x * y for x, y in zip(sa, sb)])


# NOTE [ cdist without an N x M x D intermediate ]
# Two records, as PyTorch's two paths. ``_euclidean_dist`` (p = 2 where compute_mode asks for
# it: always with "use_mm_for_euclid_dist", for more than 25 rows on either side by default)
# is ||a||^2 + ||b||^2 - 2 a.b: one GEMM, clamped at 0 before the square root, with
# PyTorch's backward (x1 * rowsum(r) - r @ x2, r = g / d and 0 where d == 0). It trades
# accuracy for near points (cancellation) for speed, exactly as PyTorch does.
# ``_cdist_forward`` (every other p, and p = 2 otherwise) walks the D coordinates in blocks
# whose N x M x block differences hold about _CDIST_BLOCK elements (one coordinate at a time
# once N x M alone is that large), accumulating into the N x M result; its first-order
# backward (``_cdist_backward``) walks the same blocks with PyTorch's per-p formulas. A
# backward that must itself be differentiable (grad mode on while it runs) is written in
# ember ops over the full differences instead, so double backward keeps working.
_CDIST_BLOCK = 1 << 18
_CDIST_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                "donot_use_mm_for_euclid_dist": 2}


def _cdist_blocks(xp, x1, x2):
    """Yield (k0, k1, diff) over the coordinate blocks; diff is (..., N, M) for a single
    coordinate and (..., N, M, k1 - k0) otherwise. One buffer serves every block (a fresh
    multi-megabyte array per block would be page-faulted in each time), so a block's diff
    is valid until the next one is drawn."""
    d = x1.shape[-1]
    nm = max(1, x1.shape[-2] * x2.shape[-2])
    kb = max(1, _CDIST_BLOCK // nm)
    batch = xp.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    if kb == 1:  # coordinates first, so each coordinate's column is contiguous
        c1 = xp.ascontiguousarray(xp.moveaxis(x1, -1, 0))[..., :, None]
        c2 = xp.ascontiguousarray(xp.moveaxis(x2, -1, 0))[..., None, :]
        buf = xp.empty(batch + (x1.shape[-2], x2.shape[-2]), x1.dtype)
        for k in range(d):
            yield k, k + 1, xp.subtract(c1[k], c2[k], out=buf)
        return
    buf = xp.empty(batch + (x1.shape[-2], x2.shape[-2], min(kb, d)), x1.dtype)
    for k0 in range(0, d, kb):
        k1 = min(d, k0 + kb)
        out = buf if k1 - k0 == buf.shape[-1] else buf[..., :k1 - k0]
        yield k0, k1, xp.subtract(x1[..., :, None, k0:k1], x2[..., None, :, k0:k1], out=out)


def _cdist_fwd(x1, x2, p):
    from ember._backends import xp_of
    from ember._codegen import cdist_kernels

    r = cdist_kernels.cdist_forward(x1, x2, p)  # NOTE [ cdist forward kernel ]
    if r is not None:
        return r
    xp = xp_of(x1)
    shape = xp.broadcast_shapes(x1.shape[:-2], x2.shape[:-2]) + (x1.shape[-2], x2.shape[-2])
    acc = xp.zeros(shape, x1.dtype)
    for _, _, t in _cdist_blocks(xp, x1, x2):
        if p == 0:
            t = xp.not_equal(t, 0).astype(acc.dtype)
        elif p == 2:
            xp.multiply(t, t, out=t)
        else:
            xp.abs(t, out=t)
            if p != 1 and not math.isinf(p):
                xp.power(t, p, out=t)
        if t.ndim > acc.ndim:
            t = t.max(-1) if math.isinf(p) else t.sum(-1)
        if math.isinf(p):
            xp.maximum(acc, t, out=acc)
        else:
            acc += t
    if p == 2:
        xp.sqrt(acc, out=acc)
    elif p not in (0, 1) and not math.isinf(p):
        xp.power(acc, 1.0 / p, out=acc)
    return acc


def _cdist_term(xp, t, dist, g, p):
    """PyTorch's per-element gradient factor for differences ``t`` (N, M[, k]) given the
    distances ``dist`` and output gradients ``g`` (both broadcast against ``t``)."""
    if p == 1:
        return xp.sign(t) * g
    if math.isinf(p):
        return xp.sign(t) * (xp.abs(t) == dist) * g
    zero = dist == 0
    safe = xp.where(zero, 1, dist)
    if p == 2:
        r = t * (g / safe)
    else:
        a = xp.abs(t)
        if p < 1:
            zero = zero | (t == 0)
            a = xp.where(t == 0, 1, a)
        r = xp.sign(t) * a ** (p - 1) * (g / safe ** (p - 1))
    r[xp.broadcast_to(zero, r.shape)] = 0
    return r


def _cdist_bwd_fwd(g, x1, x2, res, p):
    from ember._backends import xp_of
    from ember._codegen import cdist_kernels

    r = cdist_kernels.cdist_backward(g, x1, x2, res, p)  # NOTE [ cdist backward kernel ]
    if r is not None:
        return r
    xp = xp_of(x1)
    batch = g.shape[:-2]
    g1 = xp.zeros(batch + x1.shape[-2:], g.dtype)
    g2 = xp.zeros(batch + x2.shape[-2:], g.dtype)
    if p == 0:
        return g1, g2
    for k0, k1, t in _cdist_blocks(xp, x1, x2):
        if t.ndim == g.ndim:
            r = _cdist_term(xp, t, res, g, p)
            g1[..., k0] = r.sum(-1)
            g2[..., k0] = -r.sum(-2)
        else:
            r = _cdist_term(xp, t, res[..., None], g[..., None], p)
            g1[..., k0:k1] = r.sum(-2)
            g2[..., k0:k1] = -r.sum(-3)
    return g1, g2


def _cdist_grad_composite(g, x1, x2, res, p):
    """The backward in ember ops (differentiable), over the full N x M x D differences."""
    from ember._ops.elementwise import where

    t = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    dist, gg = res.unsqueeze(-1), g.unsqueeze(-1)
    if p == 0:
        r = t * 0
    elif p == 1:
        r = t.sign() * gg
    elif math.isinf(p):
        r = t.sign() * (t.abs() == dist) * gg
    else:
        zero = dist == 0
        if p < 1:
            zero = zero | (t == 0)
        safe = where(dist == 0, 1, dist)
        a = where(t == 0, 1, t.abs()) if p < 1 else t.abs()
        r = t * gg / safe if p == 2 else t.sign() * a ** (p - 1) * gg / safe ** (p - 1)
        r = where(zero, 0, r)
    return r.sum(-2), -r.sum(-3)


def _cdist_grad(ctx, g):
    from ember._graph import GRAD

    x1, x2 = ctx.inputs
    res, p = ctx.output, ctx.params[0]
    if GRAD.enabled:  # create_graph: differentiable formula
        return _cdist_grad_composite(g, x1, x2, res, p)
    return apply(_CDIST_BWD, (g, x1, x2, res), (p,))


_CDIST_BWD = OpDef("_cdist_backward", _cdist_bwd_fwd, None, differentiable=False, multi=True,
                   attrs=("p",))
_CDIST = OpDef("_cdist_forward", _cdist_fwd, _cdist_grad, save="xy", attrs=("p",))


def _euclid_fwd(x1, x2):
    from ember._backends import xp_of

    xp = xp_of(x1)
    # As PyTorch: [-2 a, |a|^2, 1] . [b, 1, |b|^2] in one GEMM, so the N x M result is
    # written once and then only clamped and rooted in place.
    n1 = (x1 * x1).sum(-1, keepdims=True)
    n2 = (x2 * x2).sum(-1, keepdims=True)
    a = xp.concatenate([x1 * x1.dtype.type(-2), n1, xp.ones_like(n1)], -1)
    b = xp.concatenate([x2, xp.ones_like(n2), n2], -1)
    r = xp.matmul(a, xp.swapaxes(b, -1, -2))
    if r.__class__ is np.ndarray and r.size >= 1 << 14 and r.flags.c_contiguous:
        from ember._ops.elementwise import _threaded

        # the clamp and the root in one threaded pass over r (NumPy's two run on one core)
        if _threaded("sqrt(maximum(a, b))", "f", (r, 0.0), r) is not None:
            return r
    xp.maximum(r, 0, out=r)
    return xp.sqrt(r, out=r)


def _euclid_grad(ctx, g):
    x1, x2 = ctx.inputs
    res = ctx.output
    zero = res == 0
    ratio = g / (res + zero) * (~zero)  # 0 where the distance is 0: PyTorch's subgradient
    return (x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2),
            x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(x1))


_EUCLID = OpDef("_euclidean_dist", _euclid_fwd, _euclid_grad, save="xy")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of ``x1`` (..., N, D) and ``x2`` (..., M, D).

    Args:
        x1: (..., N, D) floating tensor.
        x2: (..., M, D) tensor of the same dtype; batch dimensions broadcast.
        p: the norm's order, >= 0 (``float('inf')`` for the largest coordinate).
        compute_mode: for p = 2, whether to use the GEMM form ||a||^2 + ||b||^2 - 2 a.b:
            ``"use_mm_for_euclid_dist_if_necessary"`` (when N or M exceeds 25),
            ``"use_mm_for_euclid_dist"`` (always) or ``"donot_use_mm_for_euclid_dist"``.

    Example:
        >>> ember.cdist(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0], [1.0, 0.0]]))
        tensor([[5., 1.]])
    """
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, "
                           f"X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if not t.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{t.dtype}")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: expected scalar type {x1.dtype} but found {x2.dtype} "
                           f"(X1 and X2 must have the same dtype)")
    p = float(p)
    if p < 0 or math.isnan(p):
        raise RuntimeError("cdist only supports non-negative p values")
    mode = _CDIST_MODES[compute_mode]
    r1, r2 = x1.shape[-2], x2.shape[-2]
    if (p == 2 and x1.numel() and x2.numel()
            and (mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25)))):
        return apply(_EUCLID, (x1, x2), ())
    return apply(_CDIST, (x1, x2), (p,))


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def block_diag(*tensors):
    mats = [t.reshape(1, -1) if t.ndim == 1 else t.reshape(1, 1) if t.ndim == 0 else t
            for t in tensors]
    from ember import _dtype as D

    dt = mats[0].dtype
    for m in mats[1:]:
        dt = D.promote_types(dt, m.dtype)
    cols = sum(m.shape[1] for m in mats)
    rows, c0 = [], 0
    for m in mats:
        m = m.to(dt)
        left = _zeros_on(m._data, (m.shape[0], c0), dt.np)
        right = _zeros_on(m._data, (m.shape[0], cols - c0 - m.shape[1]), dt.np)
        rows.append(cat([left, m, right], 1))
        c0 += m.shape[1]
    return cat(rows, 0) if rows else Tensor._wrap(np.zeros((0, 0), np.float32))


# ------------------------------------------------------------------ strided views
def _strided_index(shape, stride, offset):
    """Flat element indices a strided view reads: offset + sum_k i_k * stride_k."""
    idx = np.full(tuple(shape), offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(shape, stride)):
        v = [1] * len(shape)
        v[k] = n
        idx = idx + np.arange(n).reshape(v) * s
    return idx


def as_strided(input, size, stride, storage_offset=None):
    """A view with explicit sizes and strides (in elements) over ``input``'s memory block.

    As in PyTorch, strides and ``storage_offset`` address the memory block ``input`` lives
    in (the base it is a view of), and ``storage_offset`` defaults to ``input``'s own offset
    in it, so ``x[1:].as_strided(s, st)`` starts at ``x[1]`` and ``x[1:].as_strided(s, st,
    0)`` at ``x[0]``. The gradient scatters back through the same element map (overlaps
    accumulate).

    Args:
        input: the tensor whose memory is viewed.
        size: the view's shape.
        stride: the view's strides, in elements.
        storage_offset: the first element's position in the memory block.

    Example:
        >>> ember.arange(6.0).as_strided((2, 2), (1, 2))
        tensor([[0., 2.],
                [1., 3.]])
    """
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(size)} vs "
                           f"{len(stride)})")
    if any(n < 0 for n in size) or any(st < 0 for st in stride):
        raise RuntimeError(f"as_strided: negative sizes or strides are not supported, got "
                           f"sizes {list(size)} and strides {list(stride)}")
    block = input._base if input._base is not None else input
    bd = block._data
    if not bd.flags.c_contiguous:
        if input._base is None and storage_offset is None and bd.size <= 1:
            block, bd = input, input._data
        else:
            raise NotImplementedError(
                f"as_strided: the memory block of this tensor (shape {list(bd.shape)}, strides "
                f"{list(block.stride())}) is not one contiguous block, so storage strides "
                "cannot address it; call .contiguous() first")
    start = (input.data_ptr() - block.data_ptr()) // max(bd.itemsize, 1) if bd.size else 0
    off = start if storage_offset is None else int(storage_offset)
    flat_idx = _strided_index(size, stride, off)
    n = bd.size
    if off < 0 or (flat_idx.size and (flat_idx.min() < 0 or flat_idx.max() >= n)):
        raise RuntimeError(f"as_strided: setStorage: sizes {list(size)}, strides {list(stride)},"
                           f" storage offset {off} require more elements than the storage's "
                           f"{n}")
    return apply(_AS_STRIDED, (block,), (size, stride, off, bd.shape))


def _as_strided_fwd(x, size, stride, off, in_shape):  # noqa: ARG001 - a record attribute, in the record's attrs order
    isz = x.itemsize
    base = x.reshape(-1)
    return np.lib.stride_tricks.as_strided(base[off:] if off else base, size,
                                           tuple(s * isz for s in stride), writeable=True)


_AS_STRIDED = OpDef("as_strided", _as_strided_fwd, None, view=True)


@_AS_STRIDED.grad
def _(ctx, g):
    from ember._ops.index import _INDEX_PUT

    size, stride, off, in_shape = ctx.params
    flat_idx = _strided_index(size, stride, off)
    z = _zeros_on(g._data, int(np.prod(in_shape)), g._data.dtype)
    flat_idx = _to_like(g._data, flat_idx)
    return (apply(_INDEX_PUT, (z, g), ((flat_idx,), True)).reshape(in_shape),)


def unfold(input, dimension, size, step):
    """``Tensor.unfold``: all windows of ``size`` elements with stride ``step`` along a dim,
    as a new last dim (a view)."""
    nd = input._data.ndim
    d = _wrap_dim(dimension, nd, "unfold") if nd else 0
    n = input._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return apply(_UNFOLD, (input,), (d, size, step, input._data.shape))


def _unfold_fwd(x, d, size, step, in_shape):  # noqa: ARG001 - a record attribute, in the record's attrs order
    if x.ndim == 0:
        return x.reshape(1)
    # Windows that do not overlap (step >= size) are writable, as PyTorch's are; overlapping
    # ones stay read-only so in-place writes are refused instead of racing.
    w = np.lib.stride_tricks.sliding_window_view(
        x, size, axis=d, writeable=bool(step >= size and x.flags.writeable))
    sl = [slice(None)] * w.ndim
    sl[d] = slice(None, None, step)
    return w[tuple(sl)]


_UNFOLD = OpDef("unfold", _unfold_fwd, None, view=True, node_name="UnfoldBackward0")


@_UNFOLD.grad
def _(ctx, g):
    d, size, step, in_shape = ctx.params
    if not in_shape:  # 0-dim input: one window holding the element
        return (g.reshape(()),)
    nd = g._data.ndim - 1
    n_win = g._data.shape[d]
    # element (.., w, .., k) came from position w * step + k along d
    pos = (np.arange(n_win)[:, None] * step + np.arange(size)[None, :])
    shape = [1] * (nd + 1)
    shape[d], shape[-1] = n_win, size
    pos = pos.reshape(shape)
    full = list(g._data.shape)
    key = []
    for k in range(nd):
        if k == d:
            key.append(np.broadcast_to(pos, full))
        else:
            v = [1] * (nd + 1)
            v[k] = full[k]
            key.append(np.broadcast_to(np.arange(full[k]).reshape(v), full))
    from ember._ops.index import _INDEX_PUT

    z = _zeros_on(g._data, in_shape, g._data.dtype)
    key = tuple(_to_like(g._data, np.ascontiguousarray(k)) for k in key)
    return (apply(_INDEX_PUT, (z, g), (key, True)),)


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return input.flip(1)


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return input.flip(0)


def rot90(input, k=1, dims=(0, 1)):
    d0, d1 = (_wrap_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


for _f in (tril, triu, diagonal, diag_embed, diag, diagflat, trace, repeat_interleave, kron,
           fliplr, flipud, rot90, tensordot):
    register(_f, inplace=_f in (tril, triu))
for _f in (meshgrid, atleast_1d, atleast_2d, atleast_3d, column_stack, cdist, cartesian_prod,
           block_diag, tril_indices, triu_indices):
    register(_f, method=False)
register(as_strided)
METHODS["unfold"] = unfold
