"""Docstrings of ``ember``'s shape, indexing and matrix functions, by name."""


DOCS = {
    "reshape": """\
    Returns a tensor with the same elements in a new shape.

    A view when the layout allows it, otherwise a copy; one entry of the shape may be -1,
    inferred from the number of elements.

    Args:
        input: the input tensor.
        *shape: the new shape, as integers or one tuple.

    Returns:
        A tensor of the new shape (a view or a copy).

    Example:
        >>> ember.reshape(ember.arange(6), (2, 3))
        tensor([[0, 1, 2],
                [3, 4, 5]])
        >>> ember.arange(6).reshape(-1, 2).shape
        torch.Size([3, 2])
""",
    "flatten": """\
    Flattens the dimensions from ``start_dim`` to ``end_dim`` into one.

    Args:
        input: the input tensor.
        start_dim: the first dimension to flatten (default 0).
        end_dim: the last dimension to flatten (default -1).

    Returns:
        A view when possible, else a copy.

    Example:
        >>> x = ember.zeros(2, 3, 4)
        >>> ember.flatten(x).shape
        torch.Size([24])
        >>> ember.flatten(x, start_dim=1).shape
        torch.Size([2, 12])
""",
    "unflatten": """\
    Splits dimension ``dim`` into several with the given sizes.

    Args:
        input: the input tensor.
        dim: the dimension to split.
        sizes: the new sizes; their product must equal the size of ``dim`` (one may be -1).

    Returns:
        A view of ``input``.

    Example:
        >>> ember.unflatten(ember.zeros(2, 12), 1, (3, 4)).shape
        torch.Size([2, 3, 4])
""",
    "ravel": """\
    Returns the elements as a 1-D tensor.

    Args:
        input: the input tensor.

    Returns:
        A view when ``input`` is contiguous, else a copy.

    Example:
        >>> ember.ravel(ember.tensor([[1, 2], [3, 4]]))
        tensor([1, 2, 3, 4])
""",
    "squeeze": """\
    Removes dimensions of size 1.

    Args:
        input: the input tensor.
        dim: a dimension or tuple of dimensions to remove if they have size 1; None removes
            every size-1 dimension.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> x = ember.zeros(2, 1, 3, 1)
        >>> ember.squeeze(x).shape
        torch.Size([2, 3])
        >>> ember.squeeze(x, 1).shape
        torch.Size([2, 3, 1])
""",
    "unsqueeze": """\
    Inserts a dimension of size 1 at position ``dim``.

    Args:
        input: the input tensor.
        dim: where the new dimension goes (negative counts from the end, ``-1`` appends).

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> x = ember.tensor([1, 2, 3])
        >>> ember.unsqueeze(x, 0)
        tensor([[1, 2, 3]])
        >>> ember.unsqueeze(x, 1)
        tensor([[1],
                [2],
                [3]])
""",
    "transpose": """\
    Swaps dimensions ``dim0`` and ``dim1``.

    ``ember.swapaxes`` and ``ember.swapdims`` are the same function.

    Args:
        input: the input tensor.
        dim0: the first dimension.
        dim1: the second dimension.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.transpose(x, 0, 1)
        tensor([[0, 3],
                [1, 4],
                [2, 5]])
""",
    "swapaxes": """\
    Swaps two dimensions (the same as ``ember.transpose``).

    Args:
        input: the input tensor.
        dim0: the first dimension.
        dim1: the second dimension.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> ember.swapaxes(ember.zeros(2, 3, 4), 0, 2).shape
        torch.Size([4, 3, 2])
""",
    "t": """\
    Transposes a 2-D tensor (0-D and 1-D tensors are returned as they are).

    Args:
        input: the input tensor.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.t(x)
        tensor([[0, 3],
                [1, 4],
                [2, 5]])
""",
    "adjoint": """\
    The conjugate transpose of the last two dimensions.

    Args:
        input: the input tensor.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> ember.adjoint(ember.tensor([[1 + 1j, 2 + 0j]]))
        tensor([[1.-1.j],
                [2.-0.j]])
""",
    "permute": """\
    Reorders the dimensions.

    Args:
        input: the input tensor.
        *dims: the new order, a permutation of ``range(input.dim())``.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> ember.permute(ember.zeros(2, 3, 4), (2, 0, 1)).shape
        torch.Size([4, 2, 3])
""",
    "moveaxis": """\
    Moves dimensions to new positions, keeping the others in order.

    ``ember.movedim`` is the same function.

    Args:
        input: the input tensor.
        source: the dimension(s) to move.
        destination: where they go.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> ember.moveaxis(ember.zeros(2, 3, 4), 0, -1).shape
        torch.Size([3, 4, 2])
""",
    "narrow": """\
    Returns the slice ``start:start + length`` of dimension ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension to slice.
        start: the first index (an int or a 0-dim tensor).
        length: the number of elements to keep.

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other).

    Example:
        >>> ember.narrow(ember.arange(10), 0, 2, 3)
        tensor([2, 3, 4])
""",
    "select": """\
    Returns the slice at ``index`` of dimension ``dim``, removing that dimension.

    Args:
        input: the input tensor.
        dim: the dimension to index.
        index: the position (an int).

    Returns:
        A view of ``input`` (it shares memory: writes through one show in the other). It is
        ``input[..., index, ...]``.

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.select(x, 1, 0)
        tensor([0, 3])
""",
    "broadcast_to": """\
    Broadcasts ``input`` to ``size`` (same as ``input.expand(size)``).

    Args:
        input: the input tensor.
        size: the target shape; -1 keeps a dimension.

    Returns:
        A view of ``input``; do not write to it.

    Example:
        >>> ember.broadcast_to(ember.tensor([1, 2]), (2, 2))
        tensor([[1, 2],
                [1, 2]])
""",
    "broadcast_tensors": """\
    Broadcasts several tensors against each other.

    Args:
        *tensors: the tensors.

    Returns:
        A tuple of views, all of the broadcast shape.

    Example:
        >>> a, b = ember.broadcast_tensors(ember.zeros(3, 1), ember.zeros(4))
        >>> a.shape, b.shape
        (torch.Size([3, 4]), torch.Size([3, 4]))
""",
    "broadcast_shapes": """\
    The shape that tensors of the given shapes broadcast to.

    Args:
        *shapes: shapes (tuples or ints).

    Returns:
        An ``ember.Size``; RuntimeError when they do not broadcast.

    Example:
        >>> ember.broadcast_shapes((3, 1), (1, 4), (4,))
        torch.Size([3, 4])
""",
    "atleast_1d": """\
    Returns tensors with at least one dimension (0-D becomes shape (1,)).

    Args:
        *tensors: one tensor, or several (as arguments or one sequence).

    Returns:
        A tensor, or a tuple of them.

    Example:
        >>> ember.atleast_1d(ember.tensor(1.5))
        tensor([1.5000])
""",
    "atleast_2d": """\
    Returns tensors with at least two dimensions (added in front).

    Args:
        *tensors: one tensor, or several (as arguments or one sequence).

    Returns:
        A tensor, or a tuple of them.

    Example:
        >>> ember.atleast_2d(ember.tensor([1, 2])).shape
        torch.Size([1, 2])
""",
    "atleast_3d": """\
    Returns tensors with at least three dimensions.

    Args:
        *tensors: one tensor, or several (as arguments or one sequence).

    Returns:
        A tensor, or a tuple of them.

    Example:
        >>> ember.atleast_3d(ember.tensor([1, 2])).shape
        torch.Size([1, 2, 1])
""",
    "cat": """\
    Concatenates tensors along an existing dimension.

    All tensors must have the same shape except in ``dim``; dtypes promote. ``ember.concat`` and
    ``ember.concatenate`` are the same function.

    Args:
        tensors: a sequence of tensors.
        dim: the dimension to join along (default 0).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor.

    Example:
        >>> a, b = ember.ones(2, 2), ember.zeros(1, 2)
        >>> ember.cat([a, b])
        tensor([[1., 1.],
                [1., 1.],
                [0., 0.]])
        >>> ember.cat([a, a], dim=1).shape
        torch.Size([2, 4])
""",
    "stack": """\
    Joins tensors of the same shape along a new dimension.

    Args:
        tensors: a sequence of tensors.
        dim: the index of the new dimension (default 0).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor with one more dimension.

    Example:
        >>> ember.stack([ember.tensor([1, 2]), ember.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
        >>> ember.stack([ember.zeros(2), ember.zeros(2)], dim=1).shape
        torch.Size([2, 2])
""",
    "hstack": """\
    Concatenates tensors column-wise (along dim 1; dim 0 for 1-D tensors).

    Args:
        tensors: a sequence of tensors.

    Returns:
        A new tensor.

    Example:
        >>> ember.hstack([ember.tensor([1, 2]), ember.tensor([3])])
        tensor([1, 2, 3])
""",
    "row_stack": """\
    Stacks tensors row-wise (1-D tensors become rows); also ``ember.vstack``.

    Args:
        tensors: a sequence of tensors.

    Returns:
        A new tensor.

    Example:
        >>> ember.vstack([ember.tensor([1, 2]), ember.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
""",
    "dstack": """\
    Stacks tensors along the third dimension (depth).

    Args:
        tensors: a sequence of tensors.

    Returns:
        A new tensor.

    Example:
        >>> ember.dstack([ember.tensor([1, 2]), ember.tensor([3, 4])]).shape
        torch.Size([1, 2, 2])
""",
    "column_stack": """\
    Stacks 1-D tensors as columns (2-D tensors are concatenated as they are).

    Args:
        tensors: a sequence of tensors.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new 2-D tensor.

    Example:
        >>> ember.column_stack([ember.tensor([1, 2]), ember.tensor([3, 4])])
        tensor([[1, 3],
                [2, 4]])
""",
    "split": """\
    Splits a tensor into chunks of a given size, or of the given sizes.

    Args:
        tensor: the tensor to split.
        split_size_or_sections: an int (every chunk has that size; the last may be smaller) or a
            list of sizes that sum to the size of ``dim``.
        dim: the dimension to split (default 0).

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> x = ember.arange(5)
        >>> ember.split(x, 2)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
        >>> ember.split(x, [1, 4])
        (tensor([0]), tensor([1, 2, 3, 4]))
""",
    "split_with_sizes": """\
    Splits a tensor into chunks of the given sizes.

    Args:
        input: the input tensor.
        split_sizes: the chunk sizes; they must sum to the size of ``dim``.
        dim: the dimension to split (default 0).

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> ember.split_with_sizes(ember.arange(5), [2, 3])
        (tensor([0, 1]), tensor([2, 3, 4]))
""",
    "chunk": """\
    Splits a tensor into ``chunks`` pieces of (nearly) equal size.

    Each piece has ``ceil(size / chunks)`` elements along ``dim`` except the last, so fewer than
    ``chunks`` pieces may come back.

    Args:
        input: the input tensor.
        chunks: the number of pieces.
        dim: the dimension to split (default 0).

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> ember.chunk(ember.arange(5), 3)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
""",
    "tensor_split": """\
    Splits a tensor into pieces by count or at given indices.

    Args:
        input: the input tensor.
        indices_or_sections: an int n (n pieces, sizes differing by at most one) or a list of
            indices to split before.
        dim: the dimension to split (default 0).

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> ember.tensor_split(ember.arange(5), 3)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
        >>> ember.tensor_split(ember.arange(5), [1, 3])
        (tensor([0]), tensor([1, 2]), tensor([3, 4]))
""",
    "hsplit": """\
    Splits a tensor horizontally (along dim 1, or 0 for 1-D tensors).

    Args:
        input: the input tensor.
        sections: an int (equal pieces) or a list of indices.

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> [t.shape for t in ember.hsplit(ember.zeros(2, 4), 2)]
        [torch.Size([2, 2]), torch.Size([2, 2])]
""",
    "vsplit": """\
    Splits a tensor vertically (along dim 0).

    Args:
        input: the input tensor.
        sections: an int (equal pieces) or a list of indices.

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> [t.shape for t in ember.vsplit(ember.zeros(4, 2), [1])]
        [torch.Size([1, 2]), torch.Size([3, 2])]
""",
    "dsplit": """\
    Splits a tensor along its third dimension.

    Args:
        input: the input tensor.
        sections: an int (equal pieces) or a list of indices.

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> [t.shape for t in ember.dsplit(ember.zeros(1, 1, 4), 2)]
        [torch.Size([1, 1, 2]), torch.Size([1, 1, 2])]
""",
    "unbind": """\
    Removes a dimension, returning the slices along it.

    Args:
        input: the input tensor.
        dim: the dimension to remove (default 0).

    Returns:
        A tuple of views of ``input``.

    Example:
        >>> ember.unbind(ember.tensor([[1, 2], [3, 4]]))
        (tensor([1, 2]), tensor([3, 4]))
""",
    "flip": """\
    Reverses the order of elements along the given dimensions.

    Args:
        input: the input tensor.
        *dims: the dimensions to reverse (ints or one tuple).

    Returns:
        A new tensor (a copy, as in PyTorch).

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.flip(x, (1,))
        tensor([[2, 1, 0],
                [5, 4, 3]])
        >>> ember.flip(x, (0, 1))
        tensor([[5, 4, 3],
                [2, 1, 0]])
""",
    "fliplr": """\
    Reverses the order of columns (dim 1).

    Args:
        input: the input tensor.

    Returns:
        A new tensor.

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.fliplr(x)
        tensor([[2, 1, 0],
                [5, 4, 3]])
""",
    "flipud": """\
    Reverses the order of rows (dim 0).

    Args:
        input: the input tensor.

    Returns:
        A new tensor.

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.flipud(x)
        tensor([[3, 4, 5],
                [0, 1, 2]])
""",
    "roll": """\
    Rolls elements along dimensions: those shifted past the end come back at the start.

    Args:
        input: the input tensor.
        shifts: the number of places (an int or a tuple, one per dim).
        dims: the dimension(s); None rolls the flattened tensor and restores the shape.

    Returns:
        A new tensor.

    Example:
        >>> ember.roll(ember.arange(5), 2)
        tensor([3, 4, 0, 1, 2])
        >>> ember.roll(ember.arange(6).reshape(2, 3), 1, dims=1)
        tensor([[2, 0, 1],
                [5, 3, 4]])
""",
    "rot90": """\
    Rotates a tensor by 90 degrees ``k`` times in the plane of ``dims``.

    Args:
        input: the input tensor.
        k: the number of rotations (default 1; negative rotates the other way).
        dims: the two dimensions of the plane (default (0, 1)).

    Returns:
        A new tensor.

    Example:
        >>> ember.rot90(ember.tensor([[1, 2], [3, 4]]))
        tensor([[2, 4],
                [1, 3]])
""",
    "tile": """\
    Repeats the whole tensor along each dimension.

    Args:
        input: the input tensor.
        *dims: the number of repetitions per dimension (missing leading ones count as 1).

    Returns:
        A new tensor.

    Example:
        >>> ember.tile(ember.tensor([1, 2]), (2, 2))
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
""",
    "repeat_interleave": """\
    Repeats each element (or each slice along ``dim``).

    Args:
        input: the input tensor.
        repeats: an int, or a tensor giving the count for each element.
        dim: the dimension to repeat along; None flattens first.
        output_size: the total length along ``dim``, if known (saves a sync on accelerators).

    Returns:
        A new tensor.

    Example:
        >>> ember.repeat_interleave(ember.tensor([1, 2]), 2)
        tensor([1, 1, 2, 2])
        >>> ember.repeat_interleave(ember.tensor([1, 2]), ember.tensor([1, 3]))
        tensor([1, 2, 2, 2])
""",
    "as_strided": """\
    Returns a view of the underlying memory with the given sizes and strides.

    Advanced: overlapping views must not be written to.

    Args:
        input: the input tensor.
        size: the shape of the view.
        stride: the step in elements per dimension.
        storage_offset: the first element's offset (default: ``input``'s).

    Returns:
        A view of ``input``'s memory.

    Example:
        >>> ember.as_strided(ember.arange(6), (2, 2), (1, 2))
        tensor([[0, 2],
                [1, 3]])
""",
    "diagonal": """\
    Returns a diagonal of ``input`` as a view.

    Args:
        input: the input tensor.
        offset: which diagonal: 0 the main one, >0 above, <0 below.
        dim1: the first dimension of the matrices (default 0).
        dim2: the second dimension (default 1).

    Returns:
        A view with the two dimensions removed and the diagonal appended last.

    Example:
        >>> x = ember.arange(9).reshape(3, 3)
        >>> ember.diagonal(x)
        tensor([0, 4, 8])
        >>> ember.diagonal(x, offset=1)
        tensor([1, 5])
""",
    "diag": """\
    Builds a diagonal matrix from a vector, or takes a matrix's diagonal.

    Args:
        input: a 1-D tensor (to build a matrix) or a 2-D tensor (to read one).
        diagonal: which diagonal (0 the main one).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor (2-D from 1-D, 1-D from 2-D).

    Example:
        >>> ember.diag(ember.tensor([1, 2]))
        tensor([[1, 0],
                [0, 2]])
        >>> ember.diag(ember.tensor([[1, 2], [3, 4]]))
        tensor([1, 4])
""",
    "diag_embed": """\
    Builds matrices whose diagonals are the last dimension of ``input``.

    Args:
        input: the input tensor.
        offset: which diagonal (default 0).
        dim1: the first dimension of the new matrices (default -2).
        dim2: the second dimension of the new matrices (default -1).

    Returns:
        A new tensor with one more dimension.

    Example:
        >>> ember.diag_embed(ember.tensor([[1, 2], [3, 4]])).shape
        torch.Size([2, 2, 2])
""",
    "diagflat": """\
    Builds a 2-D matrix with the flattened ``input`` on a diagonal.

    Args:
        input: the input tensor.
        offset: which diagonal (default 0).

    Returns:
        A new 2-D tensor.

    Example:
        >>> ember.diagflat(ember.tensor([[1, 2]]))
        tensor([[1, 0],
                [0, 2]])
""",
    "tril": """\
    Keeps the lower triangle of each matrix, zeroing the rest.

    Args:
        input: the input tensor.
        diagonal: which diagonal bounds the triangle (0 the main one; >0 keeps more).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.tril(ember.ones(3, 3))
        tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]])
""",
    "triu": """\
    Keeps the upper triangle of each matrix, zeroing the rest.

    Args:
        input: the input tensor.
        diagonal: which diagonal bounds the triangle (0 the main one; >0 keeps less).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.triu(ember.ones(3, 3), diagonal=1)
        tensor([[0., 1., 1.],
                [0., 0., 1.],
                [0., 0., 0.]])
""",
    "tril_indices": """\
    The row and column indices of the lower triangle of a matrix.

    Args:
        row: the number of rows.
        col: the number of columns.
        offset: which diagonal bounds the triangle (default 0).
        dtype: the index dtype (default int64).
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        layout: only ``ember.strided`` is supported.

    Returns:
        A 2-row tensor: row indices, then column indices.

    Example:
        >>> ember.tril_indices(3, 3)
        tensor([[0, 1, 1, 2, 2, 2],
                [0, 0, 1, 0, 1, 2]])
""",
    "triu_indices": """\
    The row and column indices of the upper triangle of a matrix.

    Args:
        row: the number of rows.
        col: the number of columns.
        offset: which diagonal bounds the triangle (default 0).
        dtype: the index dtype (default int64).
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        layout: only ``ember.strided`` is supported.

    Returns:
        A 2-row tensor: row indices, then column indices.

    Example:
        >>> ember.triu_indices(3, 3, offset=1)
        tensor([[0, 0, 1],
                [1, 2, 2]])
""",
    "meshgrid": """\
    Builds coordinate grids from 1-D tensors.

    Args:
        *tensors: 1-D tensors, one per grid dimension.
        indexing: ``'ij'`` (default here; matrix indexing) or ``'xy'`` (Cartesian: the first two
            outputs are transposed). PyTorch warns when it is not given.

    Returns:
        A tuple of tensors, each of shape ``(len(t0), len(t1), ...)``.

    Example:
        >>> gx, gy = ember.meshgrid(ember.tensor([1, 2]), ember.tensor([3, 4, 5]), indexing='ij')
        >>> gx
        tensor([[1, 1, 1],
                [2, 2, 2]])
        >>> gy
        tensor([[3, 4, 5],
                [3, 4, 5]])
""",
    "clone": """\
    Returns a copy of ``input`` (differentiable: gradients flow back to it).

    Args:
        input: the input tensor.
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor with its own memory.

    Example:
        >>> x = ember.tensor([1.0, 2.0])
        >>> y = ember.clone(x)
        >>> y[0] = 5.0
        >>> x
        tensor([1., 2.])
""",
    "index_select": """\
    Selects the entries of ``input`` at ``index`` along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension to index.
        index: a 1-D int64 tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor whose ``dim`` has ``len(index)`` entries.

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.index_select(x, 1, ember.tensor([2, 0]))
        tensor([[2, 0],
                [5, 3]])
""",
    "gather": """\
    Gathers values along ``dim`` at the positions given by ``index``.

    For 2-D tensors and ``dim=1``: ``out[i][j] = input[i][index[i][j]]``.

    Args:
        input: the input tensor.
        dim: the dimension to gather along.
        index: an int64 tensor with as many dimensions as ``input``; the result has its shape.
        sparse_grad: must be False (sparse gradients are not supported).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``index``'s shape.

    Example:
        >>> x = ember.tensor([[1, 2], [3, 4]])
        >>> ember.gather(x, 1, ember.tensor([[1], [0]]))
        tensor([[2],
                [3]])
""",
    "take": """\
    Takes elements of the flattened ``input`` at ``index``.

    Args:
        input: the input tensor.
        index: an int64 tensor of indices.

    Returns:
        A new tensor of ``index``'s shape.

    Example:
        >>> x = ember.arange(6).reshape(2, 3)
        >>> ember.take(x, ember.tensor([0, 5]))
        tensor([0, 5])
""",
    "take_along_dim": """\
    Takes values along ``dim`` at ``indices`` (broadcasting them), as ``gather``.

    Args:
        input: the input tensor.
        indices: an int64 tensor, broadcastable to ``input`` except along ``dim``.
        dim: the dimension; None takes from the flattened tensor.

    Returns:
        A new tensor.

    Example:
        >>> x = ember.tensor([[10, 30, 20]])
        >>> ember.take_along_dim(x, ember.argsort(x, dim=1), dim=1)
        tensor([[10, 20, 30]])
""",
    "masked_select": """\
    Selects the elements of ``input`` where ``mask`` is True.

    Args:
        input: the input tensor.
        mask: a bool tensor broadcastable to ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new 1-D tensor.

    Example:
        >>> x = ember.tensor([1.0, -2.0, 3.0])
        >>> ember.masked_select(x, x > 0)
        tensor([1., 3.])
""",
    "masked_fill": """\
    Replaces the elements where ``mask`` is True with ``value``.

    Args:
        input: the input tensor.
        mask: a bool tensor broadcastable to ``input``.
        value: a number or a 0-dim tensor.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> x = ember.tensor([1.0, -2.0, 3.0])
        >>> ember.masked_fill(x, x < 0, 0.0)
        tensor([1., 0., 3.])
""",
    "masked_scatter": """\
    Copies elements of ``source``, in order, to where ``mask`` is True.

    Args:
        input: the input tensor.
        mask: a bool tensor broadcastable to ``input``.
        source: the values; at least as many as True entries in ``mask``.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> mask = ember.tensor([True, False, True, False])
        >>> ember.masked_scatter(ember.zeros(4), mask, ember.tensor([1.0, 2.0]))
        tensor([1., 0., 2., 0.])
""",
    "nonzero": """\
    The indices of the nonzero elements of ``input``.

    Args:
        input: the input tensor.
        as_tuple: return one 1-D index tensor per dimension (usable as ``x[idx]``) instead of
            one 2-D tensor.

    Returns:
        An int64 tensor of shape ``(count, input.dim())``, or a tuple of 1-D tensors.

    Example:
        >>> x = ember.tensor([[0, 1], [2, 0]])
        >>> ember.nonzero(x)
        tensor([[0, 1],
                [1, 0]])
        >>> ember.nonzero(x, as_tuple=True)
        (tensor([0, 1]), tensor([1, 0]))
""",
    "argwhere": """\
    The indices of the nonzero elements, one row per element.

    Args:
        input: the input tensor.

    Returns:
        An int64 tensor of shape ``(count, input.dim())``.

    Example:
        >>> ember.argwhere(ember.tensor([0, 3, 0, 4]))
        tensor([[1],
                [3]])
""",
    "scatter": """\
    Writes ``src`` (or ``value``) into a copy of ``input`` at ``index`` along ``dim``.

    For 2-D tensors and ``dim=1``: ``out[i][index[i][j]] = src[i][j]``. The reverse of
    ``gather``.

    Args:
        input: the input tensor.
        dim: the dimension to scatter along.
        index: an int64 tensor of the positions.
        src: the values to write (a tensor of at least ``index``'s shape).
        value: one number to write instead of ``src``.
        reduce: ``'add'`` or ``'multiply'`` to combine with the existing values instead of
            replacing them.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> index, src = ember.tensor([[2], [0]]), ember.tensor([[5.0], [6.0]])
        >>> ember.scatter(ember.zeros(2, 3), 1, index, src)
        tensor([[0., 0., 5.],
                [6., 0., 0.]])
""",
    "scatter_add": """\
    Adds ``src`` into a copy of ``input`` at ``index`` along ``dim`` (repeated indices add up).

    Args:
        input: the input tensor.
        dim: the dimension.
        index: an int64 tensor of positions.
        src: the values to add.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> index, src = ember.tensor([0, 0, 2]), ember.tensor([1.0, 2.0, 3.0])
        >>> ember.scatter_add(ember.zeros(3), 0, index, src)
        tensor([3., 0., 3.])
""",
    "scatter_reduce": """\
    Reduces ``src`` into a copy of ``input`` at ``index`` along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension.
        index: an int64 tensor of positions.
        src: the values.
        reduce: ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``.
        include_self: count ``input``'s own values in the reduction (default True).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> index, src = ember.tensor([0, 0, 1]), ember.tensor([1.0, 5.0, 2.0])
        >>> ember.scatter_reduce(ember.zeros(2), 0, index, src, 'amax')
        tensor([5., 2.])
""",
    "index_add": """\
    Adds ``alpha * source`` into a copy of ``input`` at ``index`` along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension.
        index: a 1-D int64 tensor.
        source: the values; its ``dim`` has ``len(index)`` entries.
        alpha: the multiplier of ``source`` (default 1).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> index, src = ember.tensor([0, 2, 0]), ember.tensor([1.0, 2.0, 3.0])
        >>> ember.index_add(ember.zeros(3), 0, index, src)
        tensor([4., 0., 2.])
""",
    "index_copy": """\
    Copies ``source`` into a copy of ``input`` at ``index`` along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension.
        index: a 1-D int64 tensor.
        source: the values; its ``dim`` has ``len(index)`` entries.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.index_copy(ember.zeros(3), 0, ember.tensor([2]), ember.tensor([9.0]))
        tensor([0., 0., 9.])
""",
    "index_fill": """\
    Fills the entries of a copy of ``input`` at ``index`` along ``dim`` with ``value``.

    Args:
        input: the input tensor.
        dim: the dimension.
        index: a 1-D int64 tensor.
        value: a number or a 0-dim tensor.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.index_fill(ember.zeros(2, 3), 1, ember.tensor([0, 2]), 1.0)
        tensor([[1., 0., 1.],
                [1., 0., 1.]])
""",
    "index_put": """\
    Writes ``values`` into a copy of ``input`` at a tuple of index tensors.

    Args:
        input: the input tensor.
        indices: a tuple of index tensors, one per indexed dimension.
        values: the values (broadcast).
        accumulate: add instead of writing; repeated indices add up (default False).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> idx = (ember.tensor([0, 0]),)
        >>> ember.index_put(ember.zeros(3), idx, ember.tensor(1.0), accumulate=True)
        tensor([2., 0., 0.])
""",
    "select_scatter": """\
    Embeds ``src`` into a copy of ``input`` at ``index`` of ``dim``.

    Args:
        input: the input tensor.
        src: the values; ``input``'s shape without ``dim``.
        dim: the dimension.
        index: the position.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.select_scatter(ember.zeros(2, 2), ember.ones(2), 0, 0)
        tensor([[1., 1.],
                [0., 0.]])
""",
    "slice_scatter": """\
    Embeds ``src`` into a copy of ``input`` at a slice of ``dim``.

    Args:
        input: the input tensor.
        src: the values, of the slice's shape.
        dim: the dimension (default 0).
        start: the slice's start (default 0).
        end: its end (default: the size).
        step: its step (default 1).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.slice_scatter(ember.zeros(4), ember.ones(2), start=2)
        tensor([0., 0., 1., 1.])
""",
    "diagonal_scatter": """\
    Embeds ``src`` into a copy of ``input`` along a diagonal.

    Args:
        input: the input tensor.
        src: the diagonal's values.
        offset: which diagonal (default 0).
        dim1: the first matrix dimension (default 0).
        dim2: the second matrix dimension (default 1).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.diagonal_scatter(ember.zeros(2, 2), ember.ones(2))
        tensor([[1., 0.],
                [0., 1.]])
""",
    "sort": """\
    Sorts the elements along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension to sort (default -1).
        descending: sort largest first (default False).
        stable: keep the order of equal elements (default False; ember's sort is always stable).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(values, indices)``; ``indices`` are the original positions.

    Example:
        >>> values, indices = ember.sort(ember.tensor([3.0, 1.0, 2.0]))
        >>> values
        tensor([1., 2., 3.])
        >>> indices
        tensor([1, 2, 0])
""",
    "argsort": """\
    The indices that sort ``input`` along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension to sort (default -1).
        descending: sort largest first (default False).
        stable: keep the order of equal elements (default False).

    Returns:
        An int64 tensor of ``input``'s shape.

    Example:
        >>> ember.argsort(ember.tensor([3.0, 1.0, 2.0]), descending=True)
        tensor([0, 2, 1])
""",
    "msort": """\
    Sorts along the first dimension (``sort(input, dim=0).values``).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.msort(ember.tensor([[3, 1], [2, 4]]))
        tensor([[2, 1],
                [3, 4]])
""",
    "topk": """\
    The ``k`` largest (or smallest) elements along ``dim``.

    Args:
        input: the input tensor.
        k: how many.
        dim: the dimension (default -1).
        largest: take the largest (default) or the smallest.
        sorted: return them in sorted order (default True).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(values, indices)``.

    Example:
        >>> values, indices = ember.topk(ember.tensor([1.0, 5.0, 3.0, 4.0]), 2)
        >>> values
        tensor([5., 4.])
        >>> indices
        tensor([1, 3])
""",
    "searchsorted": """\
    Finds where elements would be inserted into a sorted sequence to keep it sorted.

    Args:
        sorted_sequence: a tensor sorted along its last dimension.
        input: the values to look up (a tensor or a number).
        out_int32: return int32 instead of int64 (default False).
        right: for equal values, return the position after them (default: before).
        side: ``'left'`` or ``'right'``, the same as ``right``.
        sorter: indices that sort ``sorted_sequence`` if it is not sorted itself.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        An index tensor of ``input``'s shape.

    Example:
        >>> ember.searchsorted(ember.tensor([1, 3, 5, 7]), ember.tensor([3, 6]))
        tensor([1, 3])
        >>> ember.searchsorted(ember.tensor([1, 3, 5, 7]), ember.tensor([3, 6]), right=True)
        tensor([2, 3])
""",
    "bucketize": """\
    The index of the bucket each element falls in, given the bucket boundaries.

    Args:
        input: the input tensor.
        boundaries: a sorted 1-D tensor.
        out_int32: return int32 instead of int64 (default False).
        right: put values equal to a boundary in the bucket to its left (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        An index tensor of ``input``'s shape.

    Example:
        >>> ember.bucketize(ember.tensor([0.5, 2.0, 9.0]), ember.tensor([1.0, 2.0, 5.0]))
        tensor([0, 1, 3])
""",
    "unique": """\
    The distinct elements of ``input``, optionally with inverse indices and counts.

    Args:
        input: the input tensor.
        sorted: return them in ascending order (default True; ember always sorts).
        return_inverse: also return, for each element, the index of its value in the result.
        return_counts: also return how often each value occurs.
        dim: find unique slices along this dimension instead of elements.

    Returns:
        A tensor, or a tuple ``(values, inverse, counts)`` with the parts asked for.

    Example:
        >>> ember.unique(ember.tensor([3, 1, 3, 2]))
        tensor([1, 2, 3])
        >>> ember.unique(ember.tensor([3, 1, 3, 2]), return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
""",
    "unique_consecutive": """\
    Removes consecutive duplicates, optionally with inverse indices and counts.

    Args:
        input: the input tensor.
        return_inverse: also return the index in the result of each element.
        return_counts: also return the length of each run.
        dim: work on slices along this dimension instead of elements.

    Returns:
        A tensor, or a tuple with the parts asked for.

    Example:
        >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 1]))
        tensor([1, 2, 1])
""",
    "isin": """\
    Tests each element of ``elements`` for membership in ``test_elements``.

    Args:
        elements: the tensor (or number) to test.
        test_elements: the values to look for (a tensor or number).
        assume_unique: promise both inputs hold no duplicates (faster).
        invert: test for absence instead (default False).

    Returns:
        A bool tensor of ``elements``'s shape.

    Example:
        >>> ember.isin(ember.tensor([1, 2, 3, 4]), ember.tensor([2, 4]))
        tensor([False,  True, False,  True])
""",
    "bincount": """\
    Counts the occurrences of each value in a 1-D tensor of non-negative integers.

    Args:
        input: the input tensor.
        weights: optional weights: each occurrence adds its weight instead of 1.
        minlength: the minimum length of the result (default 0).

    Returns:
        A 1-D tensor of length ``max(input) + 1`` (at least ``minlength``).

    Example:
        >>> ember.bincount(ember.tensor([0, 1, 1, 3]))
        tensor([1, 2, 0, 1])
""",
    "histc": """\
    A histogram of ``input`` with equal-width bins.

    Args:
        input: the input tensor.
        bins: the number of bins (default 100).
        min: the lower edge (with ``max``, 0 and 0 mean the data's range).
        max: the upper edge.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 1-D tensor of counts, in ``input``'s dtype.

    Example:
        >>> ember.histc(ember.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
""",
    "matmul": """\
    The matrix product of two tensors, with broadcasting over batch dimensions.

    1-D by 1-D is a dot product; 2-D by 2-D a matrix product; a 1-D operand is treated as a row
    (first) or column (second) vector and that dimension removed; with more dimensions the
    leading ones are batch dimensions and broadcast. The ``@`` operator on tensors.

    Args:
        input: the input tensor.
        other: the second operand.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor.

    Example:
        >>> a, b = ember.ones(2, 3), ember.ones(3, 4)
        >>> ember.matmul(a, b).shape
        torch.Size([2, 4])
        >>> ember.matmul(ember.ones(5, 2, 3), b).shape
        torch.Size([5, 2, 4])
        >>> ember.tensor([1.0, 2.0]) @ ember.tensor([3.0, 4.0])
        tensor(11.)
""",
    "mm": """\
    The matrix product of two 2-D tensors (no broadcasting).

    Args:
        input: the input tensor.
        mat2: the second matrix, of shape ``(m, p)``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of shape ``(n, p)`` for inputs ``(n, m)`` and ``(m, p)``.

    Example:
        >>> ember.mm(ember.tensor([[1, 2], [3, 4]]), ember.eye(2, dtype=ember.int64))
        tensor([[1, 2],
                [3, 4]])
""",
    "bmm": """\
    Batched matrix product of two 3-D tensors (no broadcasting).

    Args:
        input: the input tensor.
        mat2: a tensor of shape ``(b, m, p)``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of shape ``(b, n, p)`` for ``input`` of shape ``(b, n, m)``.

    Example:
        >>> ember.bmm(ember.ones(4, 2, 3), ember.ones(4, 3, 5)).shape
        torch.Size([4, 2, 5])
""",
    "mv": """\
    The product of a matrix and a vector.

    Args:
        input: the input tensor.
        vec: a 1-D tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 1-D tensor.

    Example:
        >>> ember.mv(ember.tensor([[1, 2], [3, 4]]), ember.tensor([1, 1]))
        tensor([3, 7])
""",
    "dot": """\
    The dot product of two 1-D tensors.

    Args:
        input: the input tensor.
        other: a 1-D tensor of the same length.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 0-dim tensor.

    Example:
        >>> ember.dot(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
        tensor(11.)
""",
    "vdot": """\
    The dot product of two 1-D tensors, conjugating the first.

    Args:
        input: the input tensor.
        other: a 1-D tensor of the same length.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 0-dim tensor.

    Example:
        >>> ember.vdot(ember.tensor([1j, 2 + 0j]), ember.tensor([1j, 1 + 0j]))
        tensor(3.+0.j)
""",
    "inner": """\
    The inner product over the last dimension of two tensors.

    Args:
        input: the input tensor.
        other: a tensor whose last dimension matches ``input``'s.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of shape ``input.shape[:-1] + other.shape[:-1]``.

    Example:
        >>> ember.inner(ember.tensor([1.0, 2.0]), ember.tensor([[1.0, 0.0], [0.0, 1.0]]))
        tensor([1., 2.])
""",
    "ger": """\
    The outer product of two vectors (also ``ember.outer``).

    Args:
        input: the input tensor.
        vec2: the second 1-D tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 2-D tensor.

    Example:
        >>> ember.outer(ember.tensor([1, 2]), ember.tensor([1, 10, 100]))
        tensor([[  1,  10, 100],
                [  2,  20, 200]])
""",
    "addmm": """\
    Computes ``beta * input + alpha * (mat1 @ mat2)``.

    Args:
        input: the matrix to add (broadcast to the product's shape).
        mat1: the first matrix, ``(n, m)``.
        mat2: the second matrix, ``(m, p)``.
        beta: the multiplier of ``input`` (default 1; with 0, nan in ``input`` is ignored).
        alpha: the multiplier of the product (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of shape ``(n, p)``.

    Example:
        >>> ember.addmm(ember.ones(2, 2), ember.eye(2), ember.eye(2), beta=0.5)
        tensor([[1.5000, 0.5000],
                [0.5000, 1.5000]])
""",
    "addmv": """\
    Computes ``beta * input + alpha * (mat @ vec)``.

    Args:
        input: the vector to add.
        mat: a matrix ``(n, m)``.
        vec: a vector of length m.
        beta: the multiplier of ``input`` (default 1; with 0, nan in ``input`` is ignored).
        alpha: the multiplier of the product (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 1-D tensor of length n.

    Example:
        >>> ember.addmv(ember.ones(2), ember.eye(2), ember.tensor([2.0, 3.0]))
        tensor([3., 4.])
""",
    "addr": """\
    Computes ``beta * input + alpha * outer(vec1, vec2)``.

    Args:
        input: the matrix to add.
        vec1: the first vector.
        vec2: the second vector.
        beta: the multiplier of ``input`` (default 1; with 0, nan in ``input`` is ignored).
        alpha: the multiplier of the product (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 2-D tensor.

    Example:
        >>> ember.addr(ember.zeros(2, 2), ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))
        tensor([[1., 1.],
                [2., 2.]])
""",
    "baddbmm": """\
    Computes ``beta * input + alpha * bmm(batch1, batch2)``.

    Args:
        input: the tensor to add (broadcast).
        batch1: ``(b, n, m)`` matrices.
        batch2: ``(b, m, p)`` matrices.
        beta: the multiplier of ``input`` (default 1; with 0, nan in ``input`` is ignored).
        alpha: the multiplier of the product (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of shape ``(b, n, p)``.

    Example:
        >>> ember.baddbmm(ember.zeros(3, 2, 2), ember.ones(3, 2, 4), ember.ones(3, 4, 2)).shape
        torch.Size([3, 2, 2])
""",
    "addbmm": """\
    Computes ``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``.

    Args:
        input: the matrix to add.
        batch1: ``(b, n, m)`` matrices.
        batch2: ``(b, m, p)`` matrices.
        beta: the multiplier of ``input`` (default 1; with 0, nan in ``input`` is ignored).
        alpha: the multiplier of the product (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of shape ``(n, p)``.

    Example:
        >>> ember.addbmm(ember.zeros(2, 2), ember.ones(3, 2, 4), ember.ones(3, 4, 2))
        tensor([[12., 12.],
                [12., 12.]])
""",
    "chain_matmul": """\
    The product of a chain of 2-D matrices (prefer ``ember.linalg.multi_dot``).

    Args:
        *matrices: two or more 2-D tensors with matching inner sizes.

    Returns:
        A 2-D tensor.

    Example:
        >>> ember.chain_matmul(ember.ones(2, 3), ember.ones(3, 4), ember.ones(4, 1))
        tensor([[12.],
                [12.]])
""",
    "einsum": """\
    Sums products of operands as described by an Einstein summation string.

    Each operand gets a letter per dimension; letters shared between operands are multiplied
    along, letters missing from the output (after ``->``) are summed over. ``...`` stands for
    broadcast dimensions.

    Args:
        equation: the subscripts, such as ``'ij,jk->ik'``.
        *operands: the tensors (as arguments or one list).

    Returns:
        A new tensor.

    Example:
        >>> a, b = ember.ones(2, 3), ember.ones(3, 4)
        >>> ember.einsum('ij,jk->ik', a, b).shape
        torch.Size([2, 4])
        >>> ember.einsum('ii', ember.eye(3))
        tensor(3.)
        >>> ember.einsum('bi,bi->b', a, a)
        tensor([3., 3.])
""",
    "tensordot": """\
    Contracts ``a`` and ``b`` over the given dimensions.

    Args:
        a: the first tensor.
        b: the second tensor.
        dims: an int n (the last n of ``a`` with the first n of ``b``) or two lists of
            dimensions.
        out: optional tensor to write the result into.

    Returns:
        A new tensor.

    Example:
        >>> ember.tensordot(ember.ones(2, 3, 4), ember.ones(3, 4, 5), dims=2).shape
        torch.Size([2, 5])
        >>> ember.tensordot(ember.ones(2, 3), ember.ones(3, 2), dims=([1], [0])).shape
        torch.Size([2, 2])
""",
    "kron": """\
    The Kronecker product of two tensors.

    Args:
        input: the input tensor.
        other: the second tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor whose sizes are the products of the inputs' sizes.

    Example:
        >>> ember.kron(ember.eye(2, dtype=ember.int64), ember.tensor([[1, 2], [3, 4]]))
        tensor([[1, 2, 0, 0],
                [3, 4, 0, 0],
                [0, 0, 1, 2],
                [0, 0, 3, 4]])
""",
    "cross": """\
    The cross product of 3-element vectors along a dimension.

    Args:
        *args: ``input`` and ``other`` (broadcast), and optionally ``dim``.
        **kwargs: ``dim=`` (default: the first dimension of size 3, with a deprecation warning
            in PyTorch; pass it), ``out=``.

    Returns:
        A tensor of the broadcast shape.

    Example:
        >>> ember.cross(ember.tensor([1.0, 0.0, 0.0]), ember.tensor([0.0, 1.0, 0.0]), dim=0)
        tensor([0., 0., 1.])
""",
    "trace": """\
    The sum of the main diagonal of a 2-D tensor.

    Args:
        input: the input tensor.

    Returns:
        A 0-dim tensor.

    Example:
        >>> ember.trace(ember.tensor([[1, 2], [3, 4]]))
        tensor(5)
""",
    "cdist": """\
    The pairwise p-norm distances between two sets of row vectors.

    Args:
        x1: a tensor ``(*, P, M)``.
        x2: a tensor ``(*, R, M)``.
        p: the norm order (default 2).
        compute_mode: how to compute Euclidean distances; accepted for compatibility, ember
            always computes them directly.

    Returns:
        A tensor ``(*, P, R)``.

    Example:
        >>> ember.cdist(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0], [1.0, 0.0]]))
        tensor([[5., 1.]])
""",
    "dist": """\
    The p-norm of ``input - other``.

    Args:
        input: the input tensor.
        other: the second tensor (broadcast).
        p: the norm order (default 2).

    Returns:
        A 0-dim tensor.

    Example:
        >>> ember.dist(ember.tensor([0.0, 0.0]), ember.tensor([3.0, 4.0]))
        tensor(5.)
""",
    "diff": """\
    The n-th forward difference along ``dim``.

    Args:
        input: the input tensor.
        n: how many times to difference (default 1).
        dim: the dimension (default -1).
        prepend: values to put before ``input`` along ``dim`` first.
        append: values to put after it.

    Returns:
        A tensor n elements shorter along ``dim`` (plus any prepended/appended).

    Example:
        >>> ember.diff(ember.tensor([1, 4, 9, 16]))
        tensor([3, 5, 7])
""",
    "complex": """\
    Builds a complex tensor from real and imaginary parts.

    Args:
        real: the real parts (float32 or float64).
        imag: the imaginary parts, of the same dtype.

    Returns:
        A complex64 or complex128 tensor.

    Example:
        >>> ember.complex(ember.tensor([1.0]), ember.tensor([2.0]))
        tensor([1.+2.j])
""",
    "polar": """\
    Builds a complex tensor from absolute values and angles.

    Args:
        abs: the absolute values.
        angle: the angles in radians.

    Returns:
        A complex tensor ``abs * (cos(angle) + 1j * sin(angle))``.

    Example:
        >>> ember.polar(ember.tensor([2.0]), ember.tensor([0.0]))
        tensor([2.+0.j])
""",
    "real": """\
    The real part of ``input`` (a view for complex tensors).

    Args:
        input: the input tensor.

    Returns:
        A tensor.

    Example:
        >>> ember.real(ember.tensor([1 + 2j]))
        tensor([1.])
""",
    "imag": """\
    The imaginary part of a complex ``input`` (a view).

    Args:
        input: the input tensor.

    Returns:
        A tensor.

    Example:
        >>> ember.imag(ember.tensor([1 + 2j]))
        tensor([2.])
""",
    "angle": """\
    The angle (argument) of each element, in radians.

    Args:
        input: the input tensor.

    Returns:
        A float tensor; for real inputs 0 or pi.

    Example:
        >>> ember.angle(ember.tensor([1j, -1 + 0j]))
        tensor([1.5708, 3.1416])
""",
    "conj": """\
    The complex conjugate of ``input``.

    Args:
        input: the input tensor.

    Returns:
        A tensor (``input`` itself for real tensors).

    Example:
        >>> ember.conj(ember.tensor([1 + 2j]))
        tensor([1.-2.j])
""",
    "view_as_real": """\
    Views a complex tensor as a real one with a last dimension of 2 (real, imaginary).

    Args:
        input: the input tensor.

    Returns:
        A view of ``input``.

    Example:
        >>> ember.view_as_real(ember.tensor([1 + 2j, 3 - 1j]))
        tensor([[ 1.,  2.],
                [ 3., -1.]])
""",
    "view_as_complex": """\
    Views a real tensor whose last dimension is 2 as a complex tensor.

    Args:
        input: the input tensor.

    Returns:
        A view of ``input``.

    Example:
        >>> ember.view_as_complex(ember.tensor([[1.0, 2.0]]))
        tensor([1.+2.j])
""",
    "frexp": """\
    Splits each element into a mantissa in [0.5, 1) and an integer exponent.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(mantissa, exponent)`` with ``input == mantissa * 2 ** exponent``.

    Example:
        >>> m, e = ember.frexp(ember.tensor([8.0, 0.75]))
        >>> m, e
        (tensor([0.5000, 0.7500]), tensor([4, 0], dtype=torch.int32))
""",
    "ldexp": """\
    Computes ``input * 2 ** other``, elementwise.

    Args:
        input: the input tensor.
        other: the exponents (a tensor).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A floating-point tensor of the broadcast shape.

    Example:
        >>> ember.ldexp(ember.tensor([1.0, 3.0]), ember.tensor([3, 1]))
        tensor([8., 6.])
""",
    "polygamma": """\
    The ``n``-th derivative of the digamma function, elementwise.

    Args:
        n: the order of the derivative (n >= 0).
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A floating-point tensor of ``input``'s shape.

    Example:
        >>> ember.polygamma(1, ember.tensor([1.0, 2.0]))
        tensor([1.6449, 0.6449])
""",
    "mvlgamma": """\
    The multivariate log-gamma function of dimension ``p``, elementwise.

    Args:
        input: the input tensor.
        p: the dimension (p >= 1); every element must exceed (p - 1) / 2.

    Returns:
        A floating-point tensor of ``input``'s shape.

    Example:
        >>> ember.mvlgamma(ember.tensor([2.5]), 2)
        tensor([0.8570])
""",
    "renorm": """\
    Rescales each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm``.

    Args:
        input: the input tensor.
        p: the norm order.
        dim: the dimension whose slices are kept apart (each ``input.select(dim, i)`` is one
            slice).
        maxnorm: the largest norm allowed.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.renorm(ember.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
        tensor([[0.6000, 0.8000],
                [0.3000, 0.4000]])
""",
    "cumulative_trapezoid": """\
    The cumulative trapezoid-rule integral of ``y`` along ``dim``.

    Args:
        y: the values.
        x: the sample points (default: spaced ``dx`` apart).
        dx: the spacing when ``x`` is not given (default 1).
        dim: the dimension (default -1).

    Returns:
        A tensor one shorter along ``dim``.

    Example:
        >>> ember.cumulative_trapezoid(ember.tensor([1.0, 2.0, 3.0]))
        tensor([1.5000, 4.0000])
""",
    "trapezoid": """\
    The trapezoid-rule integral of ``y`` along ``dim``.

    ``ember.trapz`` is the same function.

    Args:
        y: the values.
        x: the sample points (default: spaced ``dx`` apart).
        dx: the spacing when ``x`` is not given (default 1).
        dim: the dimension (default -1).

    Returns:
        A tensor with ``dim`` removed.

    Example:
        >>> ember.trapezoid(ember.tensor([1.0, 2.0, 3.0]))
        tensor(4.)
""",
    "cov": """\
    The covariance matrix of the variables in the rows of ``input``.

    Args:
        input: a 2-D tensor, one variable per row and one observation per column (or a 1-D
            tensor: one variable).
        correction: subtracted from the number of observations in the divisor (default 1).
        fweights: integer frequency weights per observation.
        aweights: observation weights.

    Returns:
        A ``(variables, variables)`` tensor (0-dim for one variable).

    Example:
        >>> ember.cov(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
""",
    "corrcoef": """\
    The Pearson correlation coefficients of the variables in the rows of ``input``.

    Args:
        input: a 2-D tensor, one variable per row.

    Returns:
        A ``(variables, variables)`` tensor.

    Example:
        >>> ember.corrcoef(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
""",
    "block_diag": """\
    Builds a block-diagonal matrix from the given tensors.

    Args:
        *tensors: 0-D, 1-D or 2-D tensors, placed along the diagonal.

    Returns:
        A 2-D tensor.

    Example:
        >>> ember.block_diag(ember.tensor([[1, 2]]), ember.tensor([[3], [4]]))
        tensor([[1, 2, 0],
                [0, 0, 3],
                [0, 0, 4]])
""",
    "cartesian_prod": """\
    The Cartesian product of 1-D tensors.

    Args:
        *tensors: 1-D tensors.

    Returns:
        A tensor with one row per combination.

    Example:
        >>> ember.cartesian_prod(ember.tensor([1, 2]), ember.tensor([3, 4]))
        tensor([[1, 3],
                [1, 4],
                [2, 3],
                [2, 4]])
""",
    "combinations": """\
    The length-``r`` combinations of the elements of a 1-D tensor.

    Args:
        input: the input tensor.
        r: the combination length (default 2).
        with_replacement: allow repeated elements (default False).

    Returns:
        A tensor with one row per combination.

    Example:
        >>> ember.combinations(ember.tensor([1, 2, 3]))
        tensor([[1, 2],
                [1, 3],
                [2, 3]])
""",
    "vander": """\
    The Vandermonde matrix of a 1-D tensor.

    Args:
        x: the 1-D input.
        N: the number of columns (default ``len(x)``).
        increasing: powers increase from left to right (default False: decrease).

    Returns:
        A 2-D tensor.

    Example:
        >>> ember.vander(ember.tensor([1, 2, 3]))
        tensor([[1, 1, 1],
                [4, 2, 1],
                [9, 3, 1]])
""",
    "unravel_index": """\
    Converts flat indices into coordinates for a shape.

    Args:
        indices: an integer tensor of flat indices.
        shape: the shape.

    Returns:
        A tuple of tensors, one per dimension.

    Example:
        >>> ember.unravel_index(ember.tensor([5, 7]), (2, 4))
        (tensor([1, 1]), tensor([1, 3]))
""",
    "is_same_size": """\
    Whether two tensors have the same shape.

    Args:
        input: the input tensor.
        other: the second tensor.

    Returns:
        A bool.

    Example:
        >>> ember.is_same_size(ember.zeros(2, 3), ember.ones(2, 3))
        True
""",
    "typename": """\
    The type name of a tensor (``'torch.FloatTensor'``, ...) or of any object.

    Args:
        obj: a tensor or any object.

    Returns:
        A string.

    Example:
        >>> ember.typename(ember.zeros(1))
        'torch.FloatTensor'
        >>> ember.typename(3)
        'int'
""",
    "result_type": """\
    The dtype that an operation on two operands would give.

    Args:
        a: a tensor or a number.
        b: a tensor or a number.

    Returns:
        An ``ember.dtype``.

    Example:
        >>> ember.result_type(ember.tensor([1, 2]), 1.5)
        torch.float32
        >>> ember.result_type(ember.tensor([1], dtype=ember.int8), ember.tensor(1000))
        torch.int8
""",
    "promote_types": """\
    The smallest dtype to which both dtypes can be converted safely.

    Args:
        a: a dtype.
        b: a dtype.

    Returns:
        An ``ember.dtype``.

    Example:
        >>> ember.promote_types(ember.int32, ember.float32)
        torch.float32
        >>> ember.promote_types(ember.uint8, ember.int8)
        torch.int16
""",
    "can_cast": """\
    Whether PyTorch's casting rules allow converting one dtype to another.

    Casting to a lower category (float to int, complex to float, anything but bool to bool) is
    not allowed.

    Args:
        from_: the source dtype.
        to: the target dtype.

    Returns:
        A bool.

    Example:
        >>> ember.can_cast(ember.float64, ember.int32)
        False
        >>> ember.can_cast(ember.int32, ember.float16)
        True
""",
}
