"""Sections appended to incomplete in-place docstrings of ``ember`` functions (an entry
with a summary documents a function that has none)."""


DOCS = {
    "are_deterministic_algorithms_enabled": """\
    Returns:
        A bool.
""",
    "is_deterministic_algorithms_warn_only_enabled": """\
    Returns:
        A bool.
""",
    "use_deterministic_algorithms": """\
    Returns:
        None.
""",
    "get_float32_matmul_precision": """\
    Returns:
        A string.
""",
    "set_float32_matmul_precision": """\
    Returns:
        None.
""",
    "is_anomaly_enabled": """\
    Returns:
        A bool.
""",
    "is_anomaly_check_nan_enabled": """\
    Returns:
        A bool.
""",
    "set_anomaly_enabled": """\
    Returns:
        None.
""",
    "is_inference_mode_enabled": """\
    Whether ``inference_mode`` is active.

    Returns:
        A bool.

    Example:
        >>> with ember.inference_mode():
        ...     print(ember.is_inference_mode_enabled())
        ...
        True
        >>> ember.is_inference_mode_enabled()
        False
""",
    "is_storage": """\
    Whether ``obj`` is a storage object (never, in ember).

    Args:
        obj: any object.

    Returns:
        A bool.

    Example:
        >>> ember.is_storage(ember.ones(1))
        False
""",
    "is_conj": """\
    Whether ``input`` is a lazily conjugated view (never in ember: ``conj`` computes eagerly).

    Args:
        input: the input tensor.

    Returns:
        A bool.

    Example:
        >>> ember.is_conj(ember.tensor([1j]).conj())
        False
""",
    "resolve_conj": """\
    Materialises a lazy conjugation; ember has none, so it returns ``input``.

    Args:
        input: the input tensor.

    Returns:
        ``input``.

    Example:
        >>> ember.resolve_conj(ember.tensor([1j]))
        tensor([0.+1.j])
""",
    "resolve_neg": """\
    Materialises a lazy negation; ember has none, so it returns ``input``.

    Args:
        input: the input tensor.

    Returns:
        ``input``.

    Example:
        >>> ember.resolve_neg(ember.tensor([1.0]))
        tensor([1.])
""",
    "positive": """\
    Returns ``input`` itself (unary plus); bool tensors raise.

    Args:
        input: the input tensor.

    Returns:
        ``input``.

    Example:
        >>> ember.positive(ember.tensor([-1.0, 2.0]))
        tensor([-1.,  2.])
""",
    "conj_physical": """\
    The complex conjugate, computed into a new tensor.

    Args:
        input: the input tensor.

    Returns:
        A new tensor (a copy for real inputs).

    Example:
        >>> ember.conj_physical(ember.tensor([1 + 2j]))
        tensor([1.-2.j])
""",
    "index_reduce": """\
    Reduces ``source`` into a copy of ``input`` at ``index`` along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension.
        index: a 1-D int64 tensor.
        source: the values; its ``dim`` has ``len(index)`` entries.
        reduce: ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``.
        include_self: count ``input``'s values in the reduction (default True).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> index, src = ember.tensor([0, 0]), ember.tensor([2.0, 3.0])
        >>> ember.index_reduce(ember.ones(3), 0, index, src, 'prod')
        tensor([6., 1., 1.])
""",
    "get_default_device": """\
    Returns:
        An ``ember.device``.

    Example:
        >>> ember.get_default_device()
        device(type='cpu')
""",
    "set_default_device": """\
    Args:
        d: a device or string (``'cpu'``, ``'meta'``, ``'cuda'``), or None for the CPU.

    Returns:
        None.

    Example:
        >>> ember.set_default_device('meta')
        >>> ember.zeros(2).device
        device(type='meta')
        >>> ember.set_default_device('cpu')
""",
    "get_num_threads": """\
    Returns:
        An int.

    Example:
        >>> ember.get_num_threads() >= 1
        True
""",
    "set_num_threads": """\
    Args:
        n: a positive int.

    Returns:
        None.

    Example:
        >>> n = ember.get_num_threads()
        >>> ember.set_num_threads(n)
""",
    "get_printoptions": """\
    Returns:
        A dict with keys ``precision``, ``threshold``, ``edgeitems``, ``linewidth`` and
        ``sci_mode``.

    Example:
        >>> ember.get_printoptions()['precision']
        4
""",
    "set_printoptions": """\
    Args:
        precision: digits after the decimal point (default 4).
        threshold: summarise tensors with more elements (default 1000).
        edgeitems: items shown at each end when summarising (default 3).
        linewidth: characters per line (default 80).
        profile: ``'default'``, ``'short'`` or ``'full'``.
        sci_mode: force scientific notation on (True) or off (False); None decides per tensor.

    Returns:
        None.

    Example:
        >>> ember.set_printoptions(precision=2)
        >>> ember.tensor([1.23456])
        tensor([1.23])
        >>> ember.set_printoptions(profile='default')
""",
    "hann_window": """\
    Returns:
        A 1-D tensor of ``window_length`` values.
""",
    "hamming_window": """\
    Returns:
        A 1-D tensor of ``window_length`` values.
""",
    "bartlett_window": """\
    Args:
        window_length: the length of the window.
        periodic: return a window for spectral analysis, one sample longer before the last is
            dropped (default True); False gives the symmetric window.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor of ``window_length`` values.
""",
    "blackman_window": """\
    Args:
        window_length: the length of the window.
        periodic: return a window for spectral analysis, one sample longer before the last is
            dropped (default True); False gives the symmetric window.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor of ``window_length`` values.
""",
    "kaiser_window": """\
    Returns:
        A 1-D tensor of ``window_length`` values.
""",
    "pdist": """\
    Returns:
        A 1-D tensor of the ``N * (N - 1) / 2`` distances.
""",
    "histogram": """\
    Returns:
        A namedtuple ``(hist, bin_edges)``.
""",
    "repeat": """\
    Repeats the whole of ``input`` along each dimension (always a copy).

    Args:
        input: the input tensor.
        *sizes: the number of repetitions per dimension (ints or one sequence), at least
            ``input.dim()`` of them; extra ones add leading dimensions.

    Returns:
        A new tensor with each dimension's size multiplied.

    Example:
        >>> ember.repeat(ember.tensor([1, 2]), 2, 2)
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
        >>> ember.zeros(1, 2).repeat(2, 1).shape
        torch.Size([2, 2])
""",
    "istft": """\
    Returns:
        A real tensor of the reconstructed signal(s).
""",
    "conv1d": """\
    Returns:
        A tensor ``(N, C_out, *out_spatial)``.

    Example:
        >>> ember.conv1d(ember.ones(1, 2, 5), ember.ones(4, 2, 3)).shape
        torch.Size([1, 4, 3])
""",
    "conv_transpose1d": """\
    Returns:
        A tensor ``(N, C_out, *out_spatial)``.

    Example:
        >>> w = ember.ones(2, 4, 2)
        >>> ember.conv_transpose1d(ember.ones(1, 2, 3), w, stride=2).shape
        torch.Size([1, 4, 6])
""",
    "max_pool1d": """\
    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step of the kernel (default 1).
        padding: implicit zero padding on both sides, or ``'valid'``/``'same'``.
        dilation: the spacing between kernel elements (default 1).
        ceil_mode: round the output size up (default False).
        return_indices: also return the positions of the maxima.

    Returns:
        The pooled tensor (and the indices with ``return_indices``).

    Example:
        >>> ember.max_pool1d(ember.ones(1, 1, 4), 2).shape
        torch.Size([1, 1, 2])
""",
    "conv2d": """\
    Returns:
        A tensor ``(N, C_out, *out_spatial)``.

    Example:
        >>> ember.conv2d(ember.ones(1, 2, 5, 5), ember.ones(4, 2, 3, 3)).shape
        torch.Size([1, 4, 3, 3])
""",
    "conv_transpose2d": """\
    Returns:
        A tensor ``(N, C_out, *out_spatial)``.

    Example:
        >>> w = ember.ones(2, 4, 2, 2)
        >>> ember.conv_transpose2d(ember.ones(1, 2, 3, 3), w, stride=2).shape
        torch.Size([1, 4, 6, 6])
""",
    "max_pool2d": """\
    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step of the kernel (default 1).
        padding: implicit zero padding on both sides, or ``'valid'``/``'same'``.
        dilation: the spacing between kernel elements (default 1).
        ceil_mode: round the output size up (default False).
        return_indices: also return the positions of the maxima.

    Returns:
        The pooled tensor (and the indices with ``return_indices``).

    Example:
        >>> ember.max_pool2d(ember.ones(1, 1, 4, 4), 2).shape
        torch.Size([1, 1, 2, 2])
""",
    "conv3d": """\
    Returns:
        A tensor ``(N, C_out, *out_spatial)``.

    Example:
        >>> ember.conv3d(ember.ones(1, 2, 5, 5, 5), ember.ones(4, 2, 3, 3, 3)).shape
        torch.Size([1, 4, 3, 3, 3])
""",
    "conv_transpose3d": """\
    Returns:
        A tensor ``(N, C_out, *out_spatial)``.

    Example:
        >>> w = ember.ones(2, 4, 2, 2, 2)
        >>> ember.conv_transpose3d(ember.ones(1, 2, 3, 3, 3), w, stride=2).shape
        torch.Size([1, 4, 6, 6, 6])
""",
    "max_pool3d": """\
    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step of the kernel (default 1).
        padding: implicit zero padding on both sides, or ``'valid'``/``'same'``.
        dilation: the spacing between kernel elements (default 1).
        ceil_mode: round the output size up (default False).
        return_indices: also return the positions of the maxima.

    Returns:
        The pooled tensor (and the indices with ``return_indices``).

    Example:
        >>> ember.max_pool3d(ember.ones(1, 1, 4, 4, 4), 2).shape
        torch.Size([1, 1, 2, 2, 2])
""",
    "avg_pool1d": """\
    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step of the kernel (default 1).
        padding: implicit zero padding on both sides, or ``'valid'``/``'same'``.
        ceil_mode: round the output size up (default False).
        count_include_pad: count padding in the average's divisor (default True).
        divisor_override: divide by this instead of the window size.

    Returns:
        The pooled tensor.

    Example:
        >>> ember.avg_pool1d(ember.tensor([[[1.0, 3.0, 5.0, 7.0]]]), 2)
        tensor([[[2., 6.]]])
""",
    "cholesky_inverse": """\
    The inverse of a positive-definite matrix from its Cholesky factor.

    Args:
        *args: ``input`` (the factor L, or U with ``upper=True``) and optionally ``upper``.
        **kwargs: ``upper=`` (default False), ``out=``.

    Returns:
        The inverse of ``L @ L.T`` (or ``U.T @ U``).

    Example:
        >>> A = ember.tensor([[4.0, 1.0], [1.0, 3.0]])
        >>> L = ember.linalg.cholesky(A)
        >>> ember.allclose(ember.cholesky_inverse(L) @ A, ember.eye(2), atol=1e-5)
        True
""",
    "cholesky_solve": """\
    Solves ``A X = B`` given the Cholesky factor of ``A``.

    Args:
        *args: ``B``, the factor of ``A``, and optionally ``upper``.
        **kwargs: ``upper=`` (default False: the factor is lower), ``out=``.

    Returns:
        The solution X.

    Example:
        >>> A = ember.tensor([[4.0, 1.0], [1.0, 3.0]])
        >>> L = ember.linalg.cholesky(A)
        >>> ember.cholesky_solve(ember.tensor([[5.0], [4.0]]), L)
        tensor([[1.0000],
                [1.0000]])
""",
    "lu_unpack": """\
    Unpacks ``lu_factor``'s compact result into the matrices P, L and U.

    Args:
        *args: ``LU_data`` and ``LU_pivots`` from ``ember.linalg.lu_factor``.
        **kwargs: ``unpack_data=`` and ``unpack_pivots=`` (default True), ``out=``.

    Returns:
        A namedtuple ``(P, L, U)``.

    Example:
        >>> A = ember.tensor([[4.0, 1.0], [1.0, 3.0]])
        >>> P, L, U = ember.lu_unpack(*ember.linalg.lu_factor(A))
        >>> ember.allclose(P @ L @ U, A)
        True
""",
    "compile": """\
    Compiles a function or module with ember's tracing JIT (``torch.compile``'s signature).

    See docs/jit.md: the first call traces, later calls with matching guards replay the
    optimised graph, and unsupported code falls back to eager.

    Args:
        model: the function or module (omitted: returns a decorator).
        fullgraph: raise instead of breaking the graph (default False).
        dynamic: accepted for compatibility.
        backend: ``'inductor'`` (default) or ``'eager'``.
        mode: accepted for compatibility.
        options: backend options.
        disable: return ``model`` unchanged (default False).

    Returns:
        The compiled callable.

    Example:
        >>> f = ember.compile(lambda x: (x * 2).sum())
        >>> f(ember.ones(3))
        tensor(6.)
""",
    "put": """\
    Args:
        input: the input tensor.
        index: int64 indices into the flattened ``input``.
        source: the values, one per index.
        accumulate: add instead of writing (default False).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.put(ember.zeros(2, 2), ember.tensor([0, 3]), ember.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
""",
    "qr": """\
    Args:
        input: the input tensor.
        some: reduced factors (default True) or complete ones.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(Q, R)``.

    Example:
        >>> A = ember.tensor([[4.0, 1.0], [1.0, 3.0]])
        >>> Q, R = ember.qr(A)
        >>> ember.allclose(Q @ R, A)
        True
""",
    "svd": """\
    Args:
        input: the input tensor.
        some: reduced factors (default True).
        compute_uv: compute U and V (default True).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(U, S, V)``.
""",
    "lu": """\
    Args:
        A: the matrices.
        pivot: use partial pivoting (default True).
        get_infos: also return per-matrix error codes.
        out: optional output tuple.

    Returns:
        ``(LU, pivots)`` or ``(LU, pivots, infos)``.
""",
    "lu_solve": """\
    Args:
        b: the right-hand side.
        LU_data: the LU factor.
        LU_pivots: the pivots.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        The solution X.
""",
    "pinverse": """\
    Args:
        input: the input tensor.
        rcond: singular values below ``rcond`` times the largest count as zero (default 1e-15).

    Returns:
        The pseudo-inverse.

    Example:
        >>> ember.pinverse(ember.tensor([[2.0, 0.0], [0.0, 0.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.0000]])
""",
    "cholesky": """\
    Args:
        input: the input tensor.
        upper: return the upper factor (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        The Cholesky factor.

    Example:
        >>> A = ember.tensor([[4.0, 1.0], [1.0, 3.0]])
        >>> ember.cholesky(A)
        tensor([[2.0000, 0.0000],
                [0.5000, 1.6583]])
""",
    "Generator": """\
    Args:
        device: the device whose streams it produces (``'cpu'``).

    Example:
        >>> g = ember.Generator().manual_seed(0)
        >>> a = ember.rand(2, generator=g)
        >>> _ = g.manual_seed(0)
        >>> bool((ember.rand(2, generator=g) == a).all())
        True
""",
    "Generator.manual_seed": """\
    Seeds the generator.

    Args:
        seed: an int.

    Returns:
        The generator itself.

    Example:
        >>> ember.Generator().manual_seed(3).initial_seed()
        3
""",
    "Generator.seed": """\
    Seeds the generator from a non-deterministic source.

    Returns:
        The seed, an int.

    Example:
        >>> g = ember.Generator()
        >>> g.seed() == g.initial_seed()
        True
""",
    "Generator.initial_seed": """\
    The seed the generator was last seeded with.

    Returns:
        An int.

    Example:
        >>> ember.Generator().manual_seed(5).initial_seed()
        5
""",
    "Generator.get_state": """\
    A snapshot of the generator's state.

    Returns:
        A uint8 tensor for ``set_state``.

    Example:
        >>> g = ember.Generator()
        >>> s = g.get_state()
        >>> a = ember.rand(2, generator=g)
        >>> _ = g.set_state(s)
        >>> bool((ember.rand(2, generator=g) == a).all())
        True
""",
    "Generator.set_state": """\
    Restores a state from ``get_state``.

    Args:
        new_state: the state tensor.

    Returns:
        The generator itself.

    Example:
        >>> g = ember.Generator()
        >>> g.set_state(g.get_state()) is g
        True
""",
    "Generator.device": """\
    The device of the generator.

    Example:
        >>> ember.Generator().device
        device(type='cpu')
""",
    "dtype": """\
    Args:
        name: the dtype's name (``'float32'``).
        np_dtype: the NumPy dtype that stores it.
        category: bool, integer, floating or complex (for promotion).
        short: the legacy type name's stem (``'Float'``).

    Example:
        >>> ember.float32.is_floating_point, ember.int64.itemsize
        (True, 8)
        >>> ember.tensor([1.5]).dtype == ember.float32
        True
""",
    "finfo": """\
    Args:
        type: a floating-point dtype (default: the default dtype).

    Example:
        >>> ember.finfo(ember.float32).eps
        1.1920928955078125e-07
        >>> ember.finfo(ember.float16).max
        65504.0
""",
    "iinfo": """\
    Args:
        type: an integer dtype.

    Example:
        >>> ember.iinfo(ember.int8).min, ember.iinfo(ember.int8).max
        (-128, 127)
""",
    "Size": """\
    Example:
        >>> s = ember.zeros(2, 3).shape
        >>> s, s[0], s.numel(), tuple(s)
        (torch.Size([2, 3]), 2, 6, (2, 3))
""",
    "Tensor": """\
    Example:
        >>> t = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> (t * t).sum().backward()
        >>> t.grad
        tensor([[2., 4.],
                [6., 8.]])
""",
    "FloatTensor": """\
    Example:
        >>> ember.FloatTensor([1, 0]).dtype
        torch.float32
        >>> isinstance(ember.zeros(1, dtype=ember.float32), ember.FloatTensor)
        True
""",
    "DoubleTensor": """\
    Example:
        >>> ember.DoubleTensor([1, 0]).dtype
        torch.float64
        >>> isinstance(ember.zeros(1, dtype=ember.float64), ember.DoubleTensor)
        True
""",
    "HalfTensor": """\
    Example:
        >>> ember.HalfTensor([1, 0]).dtype
        torch.float16
        >>> isinstance(ember.zeros(1, dtype=ember.float16), ember.HalfTensor)
        True
""",
    "BFloat16Tensor": """\
    Example:
        >>> ember.BFloat16Tensor([1, 0]).dtype
        torch.bfloat16
        >>> isinstance(ember.zeros(1, dtype=ember.bfloat16), ember.BFloat16Tensor)
        True
""",
    "LongTensor": """\
    Example:
        >>> ember.LongTensor([1, 0]).dtype
        torch.int64
        >>> isinstance(ember.zeros(1, dtype=ember.int64), ember.LongTensor)
        True
""",
    "IntTensor": """\
    Example:
        >>> ember.IntTensor([1, 0]).dtype
        torch.int32
        >>> isinstance(ember.zeros(1, dtype=ember.int32), ember.IntTensor)
        True
""",
    "ShortTensor": """\
    Example:
        >>> ember.ShortTensor([1, 0]).dtype
        torch.int16
        >>> isinstance(ember.zeros(1, dtype=ember.int16), ember.ShortTensor)
        True
""",
    "CharTensor": """\
    Example:
        >>> ember.CharTensor([1, 0]).dtype
        torch.int8
        >>> isinstance(ember.zeros(1, dtype=ember.int8), ember.CharTensor)
        True
""",
    "ByteTensor": """\
    Example:
        >>> ember.ByteTensor([1, 0]).dtype
        torch.uint8
        >>> isinstance(ember.zeros(1, dtype=ember.uint8), ember.ByteTensor)
        True
""",
    "BoolTensor": """\
    Example:
        >>> ember.BoolTensor([1, 0]).dtype
        torch.bool
        >>> isinstance(ember.zeros(1, dtype=ember.bool), ember.BoolTensor)
        True
""",
}
