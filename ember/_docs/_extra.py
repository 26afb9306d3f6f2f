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
    Returns:
        A new tensor with each dimension's size multiplied.
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
}
