"""Variable-length sequences: PackedSequence, pack/pad helpers (PyTorch's nn.utils.rnn)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import ember
from ember._ops import pool as _pool
from ember._tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


class _PackedBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedBase):
    """A batch of variable-length sequences packed time-major.

    ``data`` holds, for each time step, the rows of the sequences still running at that step
    (sorted by decreasing length); ``batch_sizes[t]`` is how many. Build it with
    :func:`pack_padded_sequence` or :func:`pack_sequence`, not directly.

    Example:
        >>> packed = nn.utils.rnn.pack_sequence([ember.ones(3), ember.ones(1)])
        >>> packed.batch_sizes
        tensor([2, 1, 1])
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes,
                                                          self.sorted_indices,
                                                          self.unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of an index permutation (None stays None).

    Args:
        permutation: a 1-D int64 permutation, or None.

    Returns:
        The inverse permutation (or None).

    Example:
        >>> nn.utils.rnn.invert_permutation(ember.tensor([2, 0, 1]))
        tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = permutation._data
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return Tensor._wrap(out)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64).reshape(-1)
    return np.asarray(list(lengths), np.int64).reshape(-1)


def _packed_index(lengths_sorted, batch):
    """Rows of the padded (T*B) layout that make up the packed data, and batch_sizes."""
    t_len = int(lengths_sorted[0]) if lengths_sorted.size else 0
    steps = np.arange(t_len)
    batch_sizes = (lengths_sorted[None, :] > steps[:, None]).sum(1)
    rows = [t * batch + np.arange(bs) for t, bs in enumerate(batch_sizes)]
    idx = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return idx, batch_sizes.astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences with the given lengths.

    Args:
        input: the padded batch.
        lengths: the length of each sequence (a list or a 1-D CPU tensor).
        batch_first: sequences are ``(B, T, *)`` instead of ``(T, B, *)``.
        enforce_sorted: require lengths in decreasing order (default True); False sorts and
            records the permutation.

    Returns:
        A ``PackedSequence``.

    Example:
        >>> x = ember.randn(5, 3, 2)
        >>> p = pack_padded_sequence(x, [5, 3, 2])
        >>> p.batch_sizes.tolist()
        [3, 3, 2, 1, 1]
    """
    lens = _lengths_array(lengths)
    if batch_first:
        input = input.transpose(0, 1)
    t_len, batch = input.shape[:2]
    if lens.size != batch:
        raise RuntimeError(f"pack_padded_sequence(): expected {batch} lengths for a batch of "
                           f"{batch}, got {lens.size}")
    if lens.size and lens.min() <= 0:
        raise RuntimeError("pack_padded_sequence(): Length of all samples has to be greater "
                           "than 0, but found an element in 'lengths' that is <= 0")
    if lens.size and lens.max() > t_len:
        raise RuntimeError(f"pack_padded_sequence(): a length ({int(lens.max())}) exceeds the "
                           f"padded sequence length ({t_len})")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = Tensor._wrap(order.astype(np.int64))
        input = _pool.take_axis(input, order, 1)
        lens = lens[order]
    idx, batch_sizes = _packed_index(lens, batch)
    flat = input.reshape(t_len * batch, *input.shape[2:])
    data = _pool.take_axis(flat, idx, 0)
    return PackedSequence(data, Tensor._wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Inverse of :func:`pack_padded_sequence`: returns ``(padded, lengths)``.

    Args:
        sequence: the ``PackedSequence``.
        batch_first: sequences are ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: the value of the padding (default 0).
        total_length: pad to this length (default: the longest sequence).

    Returns:
        A tuple ``(padded, lengths)``.

    Example:
        >>> p = nn.utils.rnn.pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4])])
        >>> padded, lengths = nn.utils.rnn.pad_packed_sequence(p, batch_first=True)
        >>> padded
        tensor([[1, 2, 3],
                [4, 0, 0]])
        >>> lengths
        tensor([3, 1])
    """
    data, bsz = sequence.data, sequence.batch_sizes._data.astype(np.int64)
    batch = int(bsz[0]) if bsz.size else 0
    t_len = bsz.size
    if total_length is not None:
        if total_length < t_len:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {t_len}")
        t_len = total_length
    lens = (bsz[None, :] > np.arange(batch)[:, None]).sum(1)
    # Each padded row is a packed row, or the extra "padding" row appended at the end.
    pad_row = data.shape[0]
    src = np.full(t_len * batch, pad_row, np.int64)
    off = 0
    for t, bs in enumerate(bsz):
        src[t * batch:t * batch + bs] = np.arange(off, off + bs)
        off += bs
    fill = ember.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = _pool.take_axis(ember.cat([data, fill]), src, 0)
    padded = padded.reshape(t_len, batch, *data.shape[1:])
    lengths = lens
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices._data
        padded = _pool.take_axis(padded, order, 1)
        lengths = lens[order]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._wrap(lengths.astype(np.int64))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *)), padding.

    Args:
        sequences: a list of tensors ``(L_i, *)``.
        batch_first: sequences are ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: the value of the padding (default 0).
        padding_side: ``'right'`` (default) or ``'left'``.

    Returns:
        A tensor ``(max L, B, *)`` (``(B, max L, *)`` with ``batch_first``).

    Example:
        >>> pad_sequence([ember.ones(3), ember.ones(1)]).shape
        torch.Size([3, 2])
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("pad_sequence(): received an empty list of sequences")
    max_len = max(s.shape[0] for s in seqs)
    rows = []
    for s in seqs:
        extra = max_len - s.shape[0]
        if extra:
            fill = ember.full((extra, *s.shape[1:]), padding_value, dtype=s.dtype)
            s = ember.cat([s, fill] if padding_side == "right" else [fill, s])
        rows.append(s)
    return ember.stack(rows, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length tensors (L_i, *) into a PackedSequence.

    Args:
        sequences: a list of tensors ``(L_i, *)``.
        enforce_sorted: require lengths in decreasing order (default True); False sorts and
            records the permutation.

    Returns:
        A ``PackedSequence``.

    Example:
        >>> p = nn.utils.rnn.pack_sequence([ember.tensor([1, 2, 3]), ember.tensor([4])])
        >>> p.data, p.batch_sizes
        (tensor([1, 4, 2, 3]), tensor([2, 1, 1]))
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False):
    """Split a padded batch back into a list of tensors of the given lengths.

    Args:
        padded_sequences: the padded batch.
        lengths: the length of each sequence.
        batch_first: sequences are ``(B, T, *)`` instead of ``(T, B, *)``.

    Returns:
        A list of tensors.

    Example:
        >>> x = ember.tensor([[1, 2], [3, 0]])
        >>> nn.utils.rnn.unpad_sequence(x, ember.tensor([2, 1]), batch_first=True)
        [tensor([1, 2]), tensor([3])]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]


def unpack_sequence(packed_sequences: PackedSequence):
    """Split a PackedSequence into a list of tensors.

    Args:
        packed_sequences: the ``PackedSequence``.

    Returns:
        A list of tensors.

    Example:
        >>> p = nn.utils.rnn.pack_sequence([ember.tensor([1, 2]), ember.tensor([3])])
        >>> nn.utils.rnn.unpack_sequence(p)
        [tensor([1, 2]), tensor([3])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
