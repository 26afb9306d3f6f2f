"""``nn.functional``: embedding, embedding_bag, one_hot."""

from __future__ import annotations

import numpy as np

from ember._backends import xp_of
from ember._ops.core import OpDef, apply
from ember._tensor import Tensor
from ember.nn._functional_common import _t

__all__ = ["embedding", "embedding_bag", "one_hot"]


# --------------------------------------------------------------------------- embedding
def _check_indices(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'indices' must be Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.type()} instead "
                           f"(while checking arguments for {name})")


def _embedding_fwd(w, idx, num_weights, padding_idx, scale_grad):  # noqa: ARG001 - record attributes, in the record's attrs order
    if idx.ndim and w.ndim == 2 and w.__class__ is np.ndarray and \
            idx.size * w.shape[1] < _TAKE_BELOW:
        # Small lookups: NumPy's take copies the same rows (the same values) in ~1-3 us
        # where the kernel's call costs ~5 us (a 15x64 lookup: 4.9 -> 1.2 us; 256x64: 6.7
        # -> 2.6 us). The callers checked the indices' range.
        return np.take(w, idx.reshape(-1), axis=0).reshape(idx.shape + w.shape[1:])
    if idx.ndim and w.ndim == 2:
        # whole rows copied by the threaded index kernel (NOTE [ Gather and scatter-add
        # kernels ]); the callers checked the indices' range. None: NumPy's take below.
        from ember._codegen import index_kernels

        out = index_kernels.gather(w, idx.reshape(-1), 0, True)
        if out is not None:
            return out.reshape(idx.shape + w.shape[1:])
    return w[idx]


_TAKE_BELOW = 1 << 15  # looked-up values below which NumPy's take beats the kernel's call


def _embedding_bwd_fwd(g, idx, num_weights, padding_idx, scale_grad):
    xp = xp_of(g)  # the gradient's device (NOTE [ The dispatch spine ])
    d = g.shape[-1]
    flat_idx = idx.reshape(-1)
    g2 = g.reshape(-1, d)
    if scale_grad:
        counts = xp.bincount(flat_idx, minlength=num_weights)
        g2 = g2 / counts[flat_idx][:, None].astype(g.dtype)
    gw = xp.zeros((num_weights, d), g.dtype)
    from ember._codegen import index_kernels

    if index_kernels.scatter_add(gw, flat_idx, g2, 0, True):
        # one pass adding rows in lookup order (NOTE [ Gather and scatter-add kernels ])
        pass
    elif flat_idx.size > 4 * num_weights:
        # many lookups per row: the unbuffered scatter-add beats sorting
        xp.add.at(gw, flat_idx, g2)
    else:
        order = xp.argsort(flat_idx, kind="stable")
        sidx = flat_idx[order]
        if sidx.size:
            first = xp.concatenate([xp.ones(1, bool), sidx[1:] != sidx[:-1]])
            starts = xp.flatnonzero(first)
            gw[sidx[starts]] = xp.add.reduceat(g2[order], starts, axis=0)
    if padding_idx is not None:
        gw[padding_idx] = 0
    return gw


_ATTRS = ("num_weights", "padding_idx", "scale_grad_by_freq")
_EMBEDDING_BWD = OpDef("embedding_backward", _embedding_bwd_fwd, None, save="x", attrs=_ATTRS,
                       node_name="EmbeddingBackwardBackward0")
# the node saves only the indices (as PyTorch's does), so updating the weight in place
# before backward is allowed
_EMBEDDING = OpDef("embedding", _embedding_fwd, None, attrs=_ATTRS, save=(1,),
                   node_name="EmbeddingBackward0", onnx="Gather")


def _lookup(weight, idx, attrs):
    """Run the ``embedding`` record ``(weight, indices)``."""
    return apply(_EMBEDDING, (weight, idx), attrs)


@_EMBEDDING.grad
def _(ctx, g):
    idx, = ctx.inputs
    return (apply(_EMBEDDING_BWD, (g, idx), ctx.params), None)


@_EMBEDDING_BWD.grad
def _(ctx, gg):
    num, padding_idx, scale_grad = ctx.params
    if scale_grad:
        raise RuntimeError("double backward of embedding with scale_grad_by_freq is not "
                           "implemented")
    if padding_idx is not None:
        gg = gg.clone()
        gg._data[padding_idx] = 0
    return (_lookup(gg, ctx.inputs[1], (num, None, False)), None)


def _renorm_rows(weight, idx, max_norm, norm_type):
    """``max_norm``: rescale (in place, untracked) the referenced rows whose norm exceeds it."""
    w = weight._data
    rows = np.unique(idx)
    sub = w[rows]
    if norm_type == float("inf"):
        norms = np.abs(sub).max(axis=1)
    else:
        norms = (np.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (sub * scale[:, None]).astype(w.dtype)
    weight._bump()


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` by the integer indices in ``input``.

    Args:
        input: integer tensor of any shape.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: the row that receives no gradient.
        max_norm: rescale looked-up rows whose ``norm_type``-norm exceeds it (in place).
        scale_grad_by_freq: divide gradients by the index frequency in the batch.
        sparse: give ``weight`` a sparse COO gradient (one entry per looked-up index,
            uncoalesced, padding rows left out), as PyTorch does.

    Example::

        >>> F.embedding(ember.tensor([[0, 2]]), ember.randn(3, 4)).shape
        torch.Size([1, 2, 4])
    """
    _check_indices(input, "embedding")
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a {weight.dim()}-D tensor")
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= n:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    idx = input._data.astype(np.int64, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"index out of range in self (embedding: index {bad} with "
                         f"num_embeddings={n})")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    # the node saves the caller's own index tensor (a converted copy shares its version), so
    # editing the indices in place before backward raises, as in PyTorch
    ix = input if idx is input._data else Tensor._wrap(idx)
    if ix is not input:
        ix._vc = input._share_version()
    attrs = (n, padding_idx, bool(scale_grad_by_freq))
    if sparse:
        # NOTE [ Sparse COO tensors ] (ember/_sparse.py): the same lookup, a sparse gradient
        from ember._sparse import embedding_sparse

        return embedding_sparse(weight, ix, attrs)
    return _lookup(weight, ix, attrs)


def _segment_sum_fwd(x, seg, nseg):
    out = np.zeros((nseg,) + x.shape[1:], x.dtype)
    np.add.at(out, seg, x)
    return out


_SEGMENT_SUM = OpDef("segment_sum", _segment_sum_fwd, None, save="x",
                     attrs=("num_segments",), node_name="EmbeddingBagBackward0")


@_SEGMENT_SUM.grad
def _(ctx, g):
    seg = ctx.inputs[1]
    return (g[seg], None)


def _segment_max_fwd(x, seg, nseg):
    out = np.full((nseg,) + x.shape[1:], -np.inf, x.dtype)
    np.maximum.at(out, seg, x)
    out[np.isneginf(out)] = 0  # empty bags give zeros, as PyTorch
    return out


_SEGMENT_MAX = OpDef("segment_max", _segment_max_fwd, None, save="xy",
                     attrs=("num_segments",), node_name="EmbeddingBagBackward0")


@_SEGMENT_MAX.grad
def _(ctx, g):
    nseg, = ctx.params
    x, st = ctx.inputs
    seg = st._data
    y = ctx.output
    hit = (x == y[st]).to(g.dtype)
    # one winner per bag and column: the first position that attains the max
    hd = hit._data
    first = np.zeros_like(hd)
    seen = np.zeros((nseg,) + hd.shape[1:], bool)
    for i in range(hd.shape[0]):
        s = seg[i]
        take = (hd[i] > 0) & ~seen[s]
        first[i] = take
        seen[s] |= take
    return (g[st] * Tensor._wrap(first), None)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of embedding bags without materialising per-bag lists.

    ``input`` is either 2-D ``(B, N)`` (fixed-size bags) or 1-D with ``offsets`` marking
    where each bag starts.

    Args:
        input: indices: ``(B, N)`` bags, or 1-D with ``offsets``.
        weight: the embedding matrix.
        offsets: the start of each bag in a 1-D ``input``.
        max_norm: renormalise looked-up rows to at most this norm.
        norm_type: the p of that norm (default 2).
        scale_grad_by_freq: scale gradients by inverse index frequency.
        mode: ``'mean'`` (default), ``'sum'`` or ``'max'``.
        sparse: produce a sparse gradient for ``weight``.
        per_sample_weights: weights of each index (``'sum'`` mode).
        include_last_offset: ``offsets`` ends with the end of the last bag.
        padding_idx: an index that contributes nothing.

    Returns:
        A tensor ``(B, embedding_dim)``.

    Example::

        >>> F.embedding_bag(ember.tensor([1, 2, 4, 5]), ember.randn(10, 3),
        ...                 ember.tensor([0, 2])).shape
        torch.Size([2, 3])
    """
    _check_indices(input, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode}")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        b, n = input.shape
        idx = input._data.reshape(-1)
        seg = np.repeat(np.arange(b), n)
        nseg = b
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = offsets._data.astype(np.int64)
        idx = input._data
        if include_last_offset:
            # The last offset ends the last bag: indices past it belong to no bag.
            nseg = len(off) - 1
            if len(off) and off[-1] < len(idx):
                idx = idx[:max(int(off[-1]), 0)]
                if per_sample_weights is not None:
                    per_sample_weights = per_sample_weights[:len(idx)]
            off = off[:-1]
        else:
            nseg = len(off)
        if len(off) and off[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                               f"mini-batch has to start from position 0. However, got {off[0]}")
        seg = np.zeros(len(idx), np.int64)
        if len(off) > 1:
            starts = off[1:][off[1:] < len(idx)]
            np.add.at(seg, starts, 1)
            seg = np.cumsum(seg)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    n_emb = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n_emb
    keep = np.ones(len(idx), bool) if padding_idx is None else idx != padding_idx
    idx_k, seg_k = idx[keep], seg[keep]
    emb = embedding(Tensor._wrap(idx_k), weight, None, max_norm, norm_type,
                    scale_grad_by_freq, sparse)
    if per_sample_weights is not None:
        psw = per_sample_weights[Tensor._wrap(np.nonzero(keep)[0])] if not keep.all() \
            else per_sample_weights
        emb = emb * psw.unsqueeze(-1)
    seg_t = Tensor._wrap(seg_k)
    if mode == "max":
        return apply(_SEGMENT_MAX, (emb, seg_t), (nseg,))
    out = apply(_SEGMENT_SUM, (emb, seg_t), (nseg,))
    if mode == "mean":
        counts = np.bincount(seg_k, minlength=nseg).astype(out._data.dtype)
        out = out / Tensor._wrap(np.maximum(counts, 1)[:, None])
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing class dimension.

    Example::

        >>> F.one_hot(ember.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    _t(tensor, "one_hot", "self")
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    if d.size:
        if d.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if d.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    xp = xp_of(d)
    out = (d[..., None] == xp.arange(num_classes)).astype(np.int64)  # a put would need a host
    return Tensor._wrap(out)
