"""Docstrings of the ``ember`` namespace's functions (creation, reductions, shapes, ...)."""


DOCS = {
    "tensor": """\
    Creates a new leaf tensor by copying ``data``.

    The dtype is inferred from the data as PyTorch does: Python floats give the default dtype
    (float32), ints give int64, bools give bool, complex numbers give complex64. NumPy arrays
    keep their dtype. ``data`` is always copied; ``ember.as_tensor`` and ``ember.from_numpy``
    can share memory instead.

    Args:
        data: a number, a (nested) list or tuple, a NumPy array or a tensor.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).

    Returns:
        A new tensor that does not share memory with ``data``.

    Example:
        >>> ember.tensor([[1, 2], [3, 4]])
        tensor([[1, 2],
                [3, 4]])
        >>> ember.tensor(2.5)
        tensor(2.5000)
        >>> ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
        tensor([1., 2.], dtype=torch.float64, requires_grad=True)
""",
    "as_tensor": """\
    Converts ``data`` to a tensor, sharing memory with it when possible.

    A tensor of the requested dtype and device is returned as is; a NumPy array of a matching
    dtype is wrapped without a copy; anything else is copied as by ``ember.tensor``.

    Args:
        data: a number, sequence, NumPy array or tensor.
        dtype: the result's dtype (default: inferred from ``data``).
        device: the result's device (default: ``data``'s, or the default device).

    Returns:
        A tensor holding ``data``.

    Example:
        >>> import numpy as np
        >>> a = np.array([1.0, 2.0])
        >>> t = ember.as_tensor(a)
        >>> a[0] = 5.0
        >>> t
        tensor([5., 2.], dtype=torch.float64)
""",
    "from_numpy": """\
    Wraps a NumPy array as a tensor that shares its memory.

    Args:
        ndarray: the NumPy array (its dtype must be one ember supports).

    Returns:
        A tensor viewing the array's memory; writes to either show in both.

    Example:
        >>> import numpy as np
        >>> a = np.arange(3)
        >>> t = ember.from_numpy(a)
        >>> t[0] = 7
        >>> a
        array([7, 1, 2])
""",
    "zeros": """\
    Returns a tensor filled with zeros.

    Args:
        *size: the shape: integers, or one list, tuple or ``ember.Size``.
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor of the given shape.

    Example:
        >>> ember.zeros(2, 3)
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
        >>> ember.zeros((2,), dtype=ember.int64)
        tensor([0, 0])
""",
    "ones": """\
    Returns a tensor filled with ones.

    Args:
        *size: the shape: integers, or one list, tuple or ``ember.Size``.
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor of the given shape.

    Example:
        >>> ember.ones(2, 2)
        tensor([[1., 1.],
                [1., 1.]])
        >>> ember.ones([3], dtype=ember.bool)
        tensor([True, True, True])
""",
    "empty": """\
    Returns a tensor of the given shape with unspecified contents.

    ember fills it with zeros (so no stale memory leaks out), but code should not rely on that:
    write every element before reading it.

    Args:
        *size: the shape: integers, or one list, tuple or ``ember.Size``.
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor of the given shape.

    Example:
        >>> ember.empty(2, 3).shape
        torch.Size([2, 3])
""",
    "full": """\
    Returns a tensor filled with ``fill_value``.

    Without ``dtype``, the dtype comes from ``fill_value``: a Python float gives the default
    dtype, an int int64, a bool bool.

    Args:
        size: the shape: integers, or one list, tuple or ``ember.Size``.
        fill_value: the value of every element.
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).

    Returns:
        A new tensor of the given shape.

    Example:
        >>> ember.full((2, 2), 7.0)
        tensor([[7., 7.],
                [7., 7.]])
        >>> ember.full((3,), 1)
        tensor([1, 1, 1])
""",
    "zeros_like": """\
    Returns a tensor of zeros with the shape of ``input``.

    Args:
        input: the tensor whose shape (and, unless given, dtype and device) the result takes.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.zeros_like(ember.tensor([[1, 2], [3, 4]]))
        tensor([[0, 0],
                [0, 0]])
""",
    "ones_like": """\
    Returns a tensor of ones with the shape of ``input``.

    Args:
        input: the tensor whose shape (and, unless given, dtype and device) the result takes.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.ones_like(ember.tensor([1.5, 2.5]))
        tensor([1., 1.])
""",
    "empty_like": """\
    Returns an uninitialised tensor with the shape of ``input``.

    Args:
        input: the tensor whose shape (and, unless given, dtype and device) the result takes.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor of ``input``'s shape (zero-filled in ember; do not rely on it).

    Example:
        >>> ember.empty_like(ember.ones(2, 3)).shape
        torch.Size([2, 3])
""",
    "full_like": """\
    Returns a tensor filled with ``fill_value`` with the shape of ``input``.

    Args:
        input: the tensor whose shape (and, unless given, dtype and device) the result takes.
        fill_value: the value of every element.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        memory_format: accepted for compatibility; results are always contiguous.

    Returns:
        A new tensor of ``input``'s shape and (unless ``dtype`` is given) dtype.

    Example:
        >>> ember.full_like(ember.zeros(2, 2), 3.5)
        tensor([[3.5000, 3.5000],
                [3.5000, 3.5000]])
""",
    "arange": """\
    Returns the values ``start, start + step, ...`` up to (excluding) ``end``.

    Integer arguments give int64; any float argument gives the default dtype.

    Args:
        start: the first value, or ``end`` when it is the only argument (then the range starts
            at 0).
        end: the bound, not included.
        step: the difference between neighbours (default 1; may be negative).
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor of ``ceil((end - start) / step)`` elements.

    Example:
        >>> ember.arange(5)
        tensor([0, 1, 2, 3, 4])
        >>> ember.arange(1, 2.5, 0.5)
        tensor([1.0000, 1.5000, 2.0000])
""",
    "range": """\
    Like ``arange`` but includes ``end`` (deprecated in PyTorch; prefer ``arange``).

    Args:
        start: the first value.
        end: the last value, included.
        step: the difference between neighbours (default 1).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor in the default float dtype.

    Example:
        >>> ember.range(1, 4)
        tensor([1., 2., 3., 4.])
""",
    "linspace": """\
    Returns ``steps`` evenly spaced values from ``start`` to ``end`` (both included).

    Args:
        start: the first value.
        end: the last value.
        steps: how many values.
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor of ``steps`` elements (default float dtype).

    Example:
        >>> ember.linspace(0, 1, steps=5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
""",
    "logspace": """\
    Returns ``steps`` values from ``base ** start`` to ``base ** end``, spaced evenly in log.

    Args:
        start: the exponent of the first value.
        end: the exponent of the last value.
        steps: how many values.
        base: the base of the logarithm (default 10).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor of ``steps`` elements.

    Example:
        >>> ember.logspace(0, 3, steps=4)
        tensor([   1.,   10.,  100., 1000.])
""",
    "eye": """\
    Returns a 2-D tensor with ones on the diagonal and zeros elsewhere.

    Args:
        n: the number of rows.
        m: the number of columns (default ``n``).
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A tensor of shape ``(n, m)``.

    Example:
        >>> ember.eye(3)
        tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]])
        >>> ember.eye(2, 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
""",
    "scalar_tensor": """\
    Returns a 0-dim tensor holding the number ``s``.

    Args:
        s: the value (a Python number).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 0-dim tensor in the default float dtype unless ``dtype`` is given.

    Example:
        >>> ember.scalar_tensor(3)
        tensor(3.)
""",
    "rand": """\
    Returns samples from the uniform distribution on [0, 1).

    Args:
        *size: the shape: integers, or one list, tuple or ``ember.Size``.
        generator: the random number generator to draw from (default: the global one).
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).

    Returns:
        A new tensor of the given shape (default float dtype).

    Example:
        >>> _ = ember.manual_seed(0)
        >>> ember.rand(2, 3).shape
        torch.Size([2, 3])
""",
    "randn": """\
    Returns samples from the standard normal distribution N(0, 1).

    Args:
        *size: the shape: integers, or one list, tuple or ``ember.Size``.
        generator: the random number generator to draw from (default: the global one).
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).

    Returns:
        A new tensor of the given shape (default float dtype).

    Example:
        >>> _ = ember.manual_seed(0)
        >>> x = ember.randn(1000)
        >>> bool(abs(x.mean()) < 0.1)
        True
""",
    "randint": """\
    Returns random integers drawn uniformly from [low, high).

    Args:
        low: the lowest value (default 0); when only one bound is given it is ``high``.
        high: one above the highest value.
        size: the shape of the result (a tuple).
        generator: the random number generator to draw from (default: the global one).
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A new int64 tensor (unless ``dtype`` is given).

    Example:
        >>> _ = ember.manual_seed(0)
        >>> x = ember.randint(0, 10, (5,))
        >>> x.dtype, bool(((x >= 0) & (x < 10)).all())
        (torch.int64, True)
        >>> ember.randint(3, (2,)).shape
        torch.Size([2])
""",
    "randperm": """\
    Returns a random permutation of the integers ``0 .. n - 1``.

    Args:
        n: the number of integers.
        generator: the random number generator to draw from (default: the global one).
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).
        pin_memory: place the result in pinned memory; refused with RuntimeError on machines
            without an accelerator (default False).

    Returns:
        A 1-D int64 tensor of ``n`` elements.

    Example:
        >>> _ = ember.manual_seed(0)
        >>> ember.randperm(5).sort().values
        tensor([0, 1, 2, 3, 4])
""",
    "rand_like": """\
    Returns uniform samples on [0, 1) with the shape of ``input``.

    Args:
        input: the tensor whose shape (and, unless given, dtype and device) the result takes.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        generator: the random number generator to draw from (default: the global one).
        **kw: ``layout``, ``device``, ``requires_grad``, ``memory_format``, as for
            ``zeros_like``.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.rand_like(ember.zeros(2, 2)).shape
        torch.Size([2, 2])
""",
    "randn_like": """\
    Returns standard normal samples with the shape of ``input``.

    Args:
        input: the tensor whose shape (and, unless given, dtype and device) the result takes.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        generator: the random number generator to draw from (default: the global one).
        **kw: ``layout``, ``device``, ``requires_grad``, ``memory_format``, as for
            ``zeros_like``.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.randn_like(ember.zeros(2, 2)).shape
        torch.Size([2, 2])
""",
    "randint_like": """\
    Returns random integers from [low, high) with the shape of ``input``.

    Args:
        input: the tensor whose shape (and, unless given, dtype and device) the result takes.
        low: the lowest value (default 0); when only one bound is given it is ``high``.
        high: one above the highest value.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        generator: the random number generator to draw from (default: the global one).
        **kw: ``layout``, ``device``, ``requires_grad``, ``memory_format``.

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.randint_like(ember.zeros(3), 5).dtype
        torch.float32
""",
    "normal": """\
    Draws samples from normal distributions with the given means and standard deviations.

    ``mean`` and ``std`` may be tensors (broadcast together; one sample per element) or numbers
    (then ``size`` gives the shape).

    Args:
        mean: the mean(s) (default 0).
        std: the standard deviation(s), >= 0 (default 1).
        size: the shape when both are numbers.
        generator: the random number generator to draw from (default: the global one).
        out: optional tensor to write the result into (resized to the result's shape).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A tensor of samples.

    Example:
        >>> _ = ember.manual_seed(0)
        >>> ember.normal(2.0, 3.0, size=(4,)).shape
        torch.Size([4])
        >>> ember.normal(ember.zeros(3), ember.ones(3)).shape
        torch.Size([3])
""",
    "bernoulli": """\
    Draws 0/1 samples, each 1 with the probability given by ``input``.

    Args:
        input: probabilities in [0, 1].
        p: one probability for every element instead of ``input``'s values.
        generator: the random number generator to draw from (default: the global one).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of ``input``'s shape and dtype holding 0s and 1s.

    Example:
        >>> _ = ember.manual_seed(0)
        >>> ember.bernoulli(ember.tensor([0.0, 1.0, 1.0]))
        tensor([0., 1., 1.])
""",
    "multinomial": """\
    Draws category indices from the distributions given by the rows of ``input``.

    Args:
        input: non-negative weights, 1-D (one distribution) or 2-D (one per row); they need not
            sum to 1.
        num_samples: how many indices to draw per row.
        replacement: draw with replacement (default False: each index at most once).
        generator: the random number generator to draw from (default: the global one).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        An int64 tensor of shape ``(num_samples,)`` or ``(rows, num_samples)``.

    Example:
        >>> _ = ember.manual_seed(0)
        >>> ember.multinomial(ember.tensor([0.0, 0.0, 1.0]), 2, replacement=True)
        tensor([2, 2])
""",
    "poisson": """\
    Draws samples from Poisson distributions with the rates in ``input``.

    Args:
        input: the rates (non-negative).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        A tensor of ``input``'s shape and dtype.

    Example:
        >>> _ = ember.manual_seed(0)
        >>> ember.poisson(ember.zeros(3))
        tensor([0., 0., 0.])
""",
    "manual_seed": """\
    Seeds the default random number generator.

    Every random function (``rand``, ``randn``, dropout, parameter initialisation, data
    shuffling) then draws a reproducible stream. ember's streams differ from PyTorch's for the
    same seed.

    Args:
        seed: an integer.

    Returns:
        The default ``ember.Generator``.

    Example:
        >>> _ = ember.manual_seed(42)
        >>> a = ember.rand(2)
        >>> _ = ember.manual_seed(42)
        >>> bool((ember.rand(2) == a).all())
        True
""",
    "seed": """\
    Seeds the default generator from a non-deterministic source.

    Returns:
        The seed used, an int.

    Example:
        >>> s = ember.seed()
        >>> ember.initial_seed() == s
        True
""",
    "initial_seed": """\
    The seed the default generator was last seeded with.

    Returns:
        An int.

    Example:
        >>> _ = ember.manual_seed(7)
        >>> ember.initial_seed()
        7
""",
    "get_rng_state": """\
    A snapshot of the default generator's state.

    Returns:
        A uint8 tensor; pass it to ``ember.set_rng_state`` to replay the stream.

    Example:
        >>> state = ember.get_rng_state()
        >>> a = ember.rand(3)
        >>> ember.set_rng_state(state)
        >>> bool((ember.rand(3) == a).all())
        True
""",
    "set_rng_state": """\
    Restores the default generator's state from ``get_rng_state``.

    Args:
        new_state: a state tensor returned by ``get_rng_state``.

    Returns:
        None.

    Example:
        >>> state = ember.get_rng_state()
        >>> a = ember.randn(2)
        >>> ember.set_rng_state(state)
        >>> bool((ember.randn(2) == a).all())
        True
""",
    "no_grad": """\
    Context manager (and decorator) that turns gradient recording off.

    Inside it, results of operations have ``requires_grad=False`` even when their inputs require
    grad: use it for evaluation and for updating parameters by hand.

    Args:
        orig_func: when used as a bare decorator, the decorated function.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> with ember.no_grad():
        ...     y = x * 2
        ...
        >>> y.requires_grad
        False
""",
    "enable_grad": """\
    Context manager (and decorator) that turns gradient recording on inside a ``no_grad`` block.

    Args:
        orig_func: when used as a bare decorator, the decorated function.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> with ember.no_grad():
        ...     with ember.enable_grad():
        ...         y = x * 2
        ...
        >>> y.requires_grad
        True
""",
    "set_grad_enabled": """\
    Context manager (or plain call) that sets gradient recording on or off.

    Args:
        mode: True to record operations for autograd, False not to.

    Example:
        >>> x = ember.ones(1, requires_grad=True)
        >>> with ember.set_grad_enabled(False):
        ...     y = x * 2
        ...
        >>> y.requires_grad
        False
        >>> ember.is_grad_enabled()
        True
""",
    "is_grad_enabled": """\
    Whether gradient recording is currently on.

    Returns:
        A bool (True by default).

    Example:
        >>> ember.is_grad_enabled()
        True
        >>> with ember.no_grad():
        ...     print(ember.is_grad_enabled())
        ...
        False
""",
    "inference_mode": """\
    Context manager (and decorator) for inference: gradient recording off.

    Like ``no_grad``; PyTorch also marks the tensors made inside as inference tensors, which
    cannot later join autograd.

    Args:
        mode: True (default) to enable inference mode, False to leave it as it is.

    Example:
        >>> with ember.inference_mode():
        ...     y = ember.ones(2) * 2
        ...
        >>> y.requires_grad
        False
""",
    "get_default_dtype": """\
    The floating-point dtype that new float tensors get.

    Returns:
        An ``ember.dtype``, ``ember.float32`` unless changed.

    Example:
        >>> ember.get_default_dtype()
        torch.float32
""",
    "set_default_dtype": """\
    Sets the floating-point dtype that new float tensors get.

    It applies to ``ember.tensor`` of Python floats, factories such as ``zeros`` and ``randn``
    without ``dtype``, and the float results of integer inputs.

    Args:
        d: ``ember.float32`` or ``ember.float64`` (also ``float16``/``bfloat16``).

    Returns:
        None.

    Example:
        >>> ember.set_default_dtype(ember.float64)
        >>> ember.tensor([1.5]).dtype
        torch.float64
        >>> ember.set_default_dtype(ember.float32)
""",
    "is_tensor": """\
    Whether ``obj`` is an ember tensor (``Parameter`` included).

    Args:
        obj: any object.

    Returns:
        A bool.

    Example:
        >>> ember.is_tensor(ember.ones(1)), ember.is_tensor([1.0])
        (True, False)
""",
    "is_floating_point": """\
    Whether ``input``'s dtype is a floating-point type.

    Args:
        input: the input tensor.

    Returns:
        A bool.

    Example:
        >>> ember.is_floating_point(ember.ones(1))
        True
        >>> ember.is_floating_point(ember.arange(3))
        False
""",
    "is_complex": """\
    Whether ``input``'s dtype is a complex type.

    Args:
        input: the input tensor.

    Returns:
        A bool.

    Example:
        >>> ember.is_complex(ember.tensor([1 + 2j]))
        True
""",
    "is_nonzero": """\
    Whether a one-element tensor is nonzero (as ``bool(input)``).

    Tensors with more or fewer than one element raise RuntimeError.

    Args:
        input: the input tensor.

    Returns:
        A bool.

    Example:
        >>> ember.is_nonzero(ember.tensor([0.5]))
        True
""",
    "numel": """\
    The number of elements of ``input``.

    Args:
        input: the input tensor.

    Returns:
        An int.

    Example:
        >>> ember.numel(ember.zeros(2, 3))
        6
""",
    "add": """\
    Adds ``other`` (times ``alpha``) to ``input``, elementwise.

    The ``+`` operator on tensors. Shapes broadcast and dtypes promote as in PyTorch.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        alpha: the multiplier of ``other`` (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape, in the promoted dtype.

    Example:
        >>> ember.add(ember.tensor([1.0, 2.0]), 10)
        tensor([11., 12.])
        >>> ember.add(ember.tensor([1, 2]), ember.tensor([3, 4]), alpha=2)
        tensor([ 7, 10])
""",
    "sub": """\
    Subtracts ``other`` (times ``alpha``) from ``input``, elementwise.

    The ``-`` operator on tensors; ``ember.subtract`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        alpha: the multiplier of ``other`` (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape, in the promoted dtype.

    Example:
        >>> ember.sub(ember.tensor([5.0, 7.0]), ember.tensor([1.0, 2.0]), alpha=2)
        tensor([3., 3.])
""",
    "div": """\
    Divides ``input`` by ``other``, elementwise.

    The ``/`` operator on tensors: true division, so integer inputs give a float result unless
    ``rounding_mode`` is given. ``ember.divide`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        rounding_mode: None (true division), ``'trunc'`` (round toward zero, as C) or
            ``'floor'`` (round down, as Python's ``//``).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape.

    Example:
        >>> ember.div(ember.tensor([7, -7]), 2)
        tensor([ 3.5000, -3.5000])
        >>> ember.div(ember.tensor([7, -7]), 2, rounding_mode='trunc')
        tensor([ 3, -3])
        >>> ember.div(ember.tensor([7, -7]), 2, rounding_mode='floor')
        tensor([ 3, -4])
""",
    "true_divide": """\
    True division ``input / other`` (same as ``div`` without rounding).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new floating-point tensor of the broadcast shape.

    Example:
        >>> ember.true_divide(ember.tensor([1, 2]), 4)
        tensor([0.2500, 0.5000])
""",
    "rsub": """\
    Computes ``other - alpha * input`` (subtraction with the operands swapped).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        alpha: the multiplier of ``other`` (default 1).

    Returns:
        A new tensor of the broadcast shape.

    Example:
        >>> ember.rsub(ember.tensor([1.0, 2.0]), 10)
        tensor([9., 8.])
""",
    "addcmul": """\
    Computes ``input + value * tensor1 * tensor2``, elementwise.

    Args:
        input: the input tensor.
        tensor1: the first factor.
        tensor2: the second factor.
        value: the multiplier of the product (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape.

    Example:
        >>> a, b = ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])
        >>> ember.addcmul(ember.ones(2), a, b, value=0.5)
        tensor([2.5000, 5.0000])
""",
    "addcdiv": """\
    Computes ``input + value * tensor1 / tensor2``, elementwise.

    Args:
        input: the input tensor.
        tensor1: the numerator.
        tensor2: the denominator.
        value: the multiplier of the quotient (default 1).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape.

    Example:
        >>> ember.addcdiv(ember.zeros(2), ember.tensor([1.0, 3.0]), ember.tensor([2.0, 4.0]))
        tensor([0.5000, 0.7500])
""",
    "clamp": """\
    Limits each element to the range [min, max].

    Either bound may be None (no limit on that side) or a tensor (broadcast). ``ember.clip`` is
    the same function. The gradient is zero where an element was clamped.

    Args:
        input: the input tensor.
        min: the lower bound (a number or tensor), or None.
        max: the upper bound (a number or tensor), or None.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.clamp(ember.tensor([-2.0, 0.5, 3.0]), min=-1.0, max=1.0)
        tensor([-1.0000,  0.5000,  1.0000])
        >>> ember.clamp(ember.tensor([-2, 5]), min=0)
        tensor([0, 5])
""",
    "clamp_min": """\
    Limits each element from below: ``max(input, min)``.

    Args:
        input: the input tensor.
        min: the lower bound.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.clamp_min(ember.tensor([-2.0, 0.5]), 0.0)
        tensor([0.0000, 0.5000])
""",
    "clamp_max": """\
    Limits each element from above: ``min(input, max)``.

    Args:
        input: the input tensor.
        max: the upper bound.

    Returns:
        A new tensor of ``input``'s shape.

    Example:
        >>> ember.clamp_max(ember.tensor([-2.0, 0.5]), 0.0)
        tensor([-2.,  0.])
""",
    "lerp": """\
    Linear interpolation ``input + weight * (end - input)``, elementwise.

    Args:
        input: the input tensor.
        end: the tensor to interpolate toward.
        weight: the interpolation weight, a number or a tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape.

    Example:
        >>> ember.lerp(ember.tensor([0.0, 10.0]), ember.tensor([10.0, 20.0]), 0.25)
        tensor([ 2.5000, 12.5000])
""",
    "where": """\
    Chooses elements from ``input`` where ``condition`` is True, else from ``other``.

    With only ``condition``, it is ``ember.nonzero(condition, as_tuple=True)``.

    Args:
        condition: a bool tensor (broadcast with the others).
        input: values where the condition holds (a tensor or a number).
        other: values elsewhere (a tensor or a number).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape, in the promoted dtype of ``input`` and ``other``.

    Example:
        >>> x = ember.tensor([-1.0, 2.0, -3.0])
        >>> ember.where(x > 0, x, 0.0)
        tensor([0., 2., 0.])
        >>> ember.where(x > 0)
        (tensor([1]),)
""",
    "round": """\
    Rounds each element to the nearest integer (or to ``decimals`` places).

    Halfway values round to the nearest even number, as in PyTorch and NumPy.

    Args:
        input: the input tensor.
        decimals: the number of decimal places (default 0; negative rounds to tens, hundreds,
            ...).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.round(ember.tensor([0.5, 1.5, 2.7]))
        tensor([0., 2., 3.])
        >>> ember.round(ember.tensor([1.2345]), decimals=2)
        tensor([1.2300])
""",
    "nan_to_num": """\
    Replaces nan, +inf and -inf with finite numbers.

    Args:
        input: the input tensor.
        nan: the value for nan (default 0).
        posinf: the value for +inf (default: the dtype's largest finite value).
        neginf: the value for -inf (default: the dtype's lowest finite value).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.nan_to_num(ember.tensor([float('nan'), float('inf'), -1.0]), posinf=9.0)
        tensor([ 0.,  9., -1.])
""",
    "logit": """\
    The log-odds ``log(p / (1 - p))`` of each element.

    Args:
        input: the input tensor.
        eps: when given, ``input`` is first clamped to [eps, 1 - eps].
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new floating-point tensor of ``input``'s shape.

    Example:
        >>> ember.logit(ember.tensor([0.25, 0.5, 0.75]))
        tensor([-1.0986,  0.0000,  1.0986])
""",
    "sgn": """\
    The sign of each element; for complex numbers ``z / |z|`` (0 at 0).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.sgn(ember.tensor([3 + 4j, 0j]))
        tensor([0.6000+0.8000j, 0.0000+0.0000j])
""",
    "isclose": """\
    Tests elementwise whether ``|input - other| <= atol + rtol * |other|``.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        rtol: the relative tolerance (default 1e-5).
        atol: the absolute tolerance (default 1e-8).
        equal_nan: count two nans as close (default False).

    Returns:
        A bool tensor of the broadcast shape.

    Example:
        >>> ember.isclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0 + 1e-7, 2.1]))
        tensor([ True, False])
""",
    "allclose": """\
    Whether every element of ``input`` is close to ``other`` (see ``isclose``).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        rtol: the relative tolerance (default 1e-5).
        atol: the absolute tolerance (default 1e-8).
        equal_nan: count two nans as close (default False).

    Returns:
        A Python bool.

    Example:
        >>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-6]))
        True
""",
    "equal": """\
    Whether two tensors have the same shape and the same elements.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.

    Returns:
        A Python bool.

    Example:
        >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1, 2]))
        True
        >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1, 2, 3]))
        False
""",
    "sum": """\
    Sums the elements of ``input``, over all dimensions or over ``dim``.

    Integer and bool inputs sum to int64, as in PyTorch.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.sum(x)
        tensor(10.)
        >>> ember.sum(x, dim=0)
        tensor([4., 6.])
        >>> ember.sum(x, 1, keepdim=True)
        tensor([[3.],
                [7.]])
        >>> ember.sum(ember.tensor([True, True]))
        tensor(2)
""",
    "nansum": """\
    Sums the elements of ``input``, treating nan as zero.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> ember.nansum(ember.tensor([1.0, float('nan'), 2.0]))
        tensor(3.)
""",
    "mean": """\
    The arithmetic mean of the elements, over all dimensions or over ``dim``.

    The input must be floating point or complex (or pass ``dtype``); integer inputs raise
    RuntimeError, as in PyTorch.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> ember.mean(x)
        tensor(2.5000)
        >>> ember.mean(x, dim=1)
        tensor([1.5000, 3.5000])
""",
    "nanmean": """\
    The mean of the elements that are not nan.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> ember.nanmean(ember.tensor([1.0, float('nan'), 3.0]))
        tensor(2.)
""",
    "prod": """\
    The product of the elements, over all dimensions or over ``dim``.

    Integer and bool inputs multiply in int64.

    Args:
        input: the input tensor.
        dim: the dimension to reduce (one int), or None for all elements.
        keepdim: keep each reduced dimension as size 1 (default False).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> ember.prod(ember.tensor([[1, 2], [3, 4]]))
        tensor(24)
        >>> ember.prod(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), 0)
        tensor([3., 8.])
""",
    "std": """\
    The standard deviation of the elements, over all dimensions or over ``dim``.

    By default the unbiased (``correction=1``) estimate: the sum of squared deviations is
    divided by N - 1.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        unbiased: the older spelling of ``correction``: True is 1, False is 0.
        keepdim: keep each reduced dimension as size 1 (default False).
        correction: the difference between the sample count and the divisor: 1 (default) gives
            the unbiased estimate, 0 the population one.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0])
        >>> ember.std(x)
        tensor(1.2910)
        >>> ember.std(x, correction=0)
        tensor(1.1180)
""",
    "var": """\
    The variance of the elements, over all dimensions or over ``dim``.

    By default the unbiased (``correction=1``) estimate: the sum of squared deviations is
    divided by N - 1.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        unbiased: the older spelling of ``correction``: True is 1, False is 0.
        keepdim: keep each reduced dimension as size 1 (default False).
        correction: the difference between the sample count and the divisor: 1 (default) gives
            the unbiased estimate, 0 the population one.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> x = ember.tensor([1.0, 2.0, 3.0, 4.0])
        >>> ember.var(x)
        tensor(1.6667)
        >>> ember.var(x, correction=0)
        tensor(1.2500)
""",
    "std_mean": """\
    The standard deviation and the mean, in one call.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        unbiased: the older spelling of ``correction``: True is 1, False is 0.
        keepdim: keep each reduced dimension as size 1 (default False).
        correction: the difference between the sample count and the divisor: 1 (default) gives
            the unbiased estimate, 0 the population one.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tuple ``(std, mean)`` of tensors shaped as for ``ember.std``.

    Example:
        >>> ember.std_mean(ember.tensor([1.0, 2.0, 3.0, 4.0]))
        (tensor(1.2910), tensor(2.5000))
""",
    "var_mean": """\
    The variance and the mean, in one call.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        unbiased: the older spelling of ``correction``: True is 1, False is 0.
        keepdim: keep each reduced dimension as size 1 (default False).
        correction: the difference between the sample count and the divisor: 1 (default) gives
            the unbiased estimate, 0 the population one.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tuple ``(var, mean)`` of tensors shaped as for ``ember.var``.

    Example:
        >>> ember.var_mean(ember.tensor([1.0, 2.0, 3.0, 4.0]))
        (tensor(1.6667), tensor(2.5000))
""",
    "max": """\
    The largest element; or the largest along ``dim`` with their indices.

    ``max(input)`` returns a 0-dim tensor; ``max(input, dim)`` returns the namedtuple ``(values,
    indices)``; ``max(input, other)`` (a tensor as second argument) is ``ember.maximum``.

    Args:
        input: the input tensor.
        dim: the dimension to reduce, or a tensor (then this is ``maximum``).
        keepdim: keep each reduced dimension as size 1 (default False).
        other: a tensor to compare with elementwise.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 0-dim tensor, a ``(values, indices)`` namedtuple, or the elementwise maximum.

    Example:
        >>> x = ember.tensor([[1.0, 5.0], [4.0, 2.0]])
        >>> ember.max(x)
        tensor(5.)
        >>> values, indices = ember.max(x, dim=1)
        >>> values
        tensor([5., 4.])
        >>> indices
        tensor([1, 0])
        >>> ember.max(x, ember.tensor([3.0, 3.0]))
        tensor([[3., 5.],
                [4., 3.]])
""",
    "min": """\
    The smallest element; or the smallest along ``dim`` with their indices.

    ``min(input)`` returns a 0-dim tensor; ``min(input, dim)`` returns the namedtuple ``(values,
    indices)``; ``min(input, other)`` is ``ember.minimum``.

    Args:
        input: the input tensor.
        dim: the dimension to reduce, or a tensor (then this is ``minimum``).
        keepdim: keep each reduced dimension as size 1 (default False).
        other: a tensor to compare with elementwise.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 0-dim tensor, a ``(values, indices)`` namedtuple, or the elementwise minimum.

    Example:
        >>> x = ember.tensor([[1.0, 5.0], [4.0, 2.0]])
        >>> ember.min(x)
        tensor(1.)
        >>> ember.min(x, dim=0).values
        tensor([1., 2.])
""",
    "amax": """\
    The largest elements over one or more dimensions (values only).

    Unlike ``max`` it accepts several dimensions and spreads the gradient evenly among equal
    maxima.

    Args:
        input: the input tensor.
        dim: the dimension(s) to reduce; ``()`` (default) reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> ember.amax(ember.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=0)
        tensor([4., 5.])
""",
    "amin": """\
    The smallest elements over one or more dimensions (values only).

    Args:
        input: the input tensor.
        dim: the dimension(s) to reduce; ``()`` (default) reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> ember.amin(ember.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=1)
        tensor([1., 2.])
""",
    "aminmax": """\
    The smallest and the largest elements, in one call.

    Args:
        input: the input tensor.
        dim: the dimension to reduce, or None for all elements.
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(min, max)`` of tensors.

    Example:
        >>> lo, hi = ember.aminmax(ember.tensor([3, 1, 4, 1, 5]))
        >>> lo, hi
        (tensor(1), tensor(5))
""",
    "argmax": """\
    The index of the largest element (of the flattened tensor, or along ``dim``).

    With ties, the first index is returned.

    Args:
        input: the input tensor.
        dim: the dimension to reduce; None returns the index into the flattened tensor.
        keepdim: keep each reduced dimension as size 1 (default False).

    Returns:
        An int64 tensor.

    Example:
        >>> x = ember.tensor([[1.0, 5.0], [4.0, 2.0]])
        >>> ember.argmax(x)
        tensor(1)
        >>> ember.argmax(x, dim=1)
        tensor([1, 0])
""",
    "argmin": """\
    The index of the smallest element (of the flattened tensor, or along ``dim``).

    Args:
        input: the input tensor.
        dim: the dimension to reduce; None returns the index into the flattened tensor.
        keepdim: keep each reduced dimension as size 1 (default False).

    Returns:
        An int64 tensor.

    Example:
        >>> ember.argmin(ember.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=0)
        tensor([0, 1])
""",
    "all": """\
    Tests whether all elements (over all dimensions or ``dim``) are nonzero.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor, reduced as for ``sum``.

    Example:
        >>> ember.all(ember.tensor([True, False]))
        tensor(False)
        >>> ember.all(ember.tensor([[1, 1], [0, 1]]), dim=1)
        tensor([ True, False])
""",
    "any": """\
    Tests whether any element (over all dimensions or ``dim``) is nonzero.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor, reduced as for ``sum``.

    Example:
        >>> ember.any(ember.tensor([0.0, 0.5]))
        tensor(True)
        >>> ember.any(ember.tensor([[0, 0], [0, 1]]), dim=1)
        tensor([False,  True])
""",
    "count_nonzero": """\
    Counts the nonzero elements, over all dimensions or ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension(s) to count along, or None for all.

    Returns:
        An int64 tensor.

    Example:
        >>> ember.count_nonzero(ember.tensor([[0, 1], [2, 0]]), dim=0)
        tensor([1, 1])
""",
    "logsumexp": """\
    ``log(sum(exp(input)))`` over ``dim``, computed without overflow.

    Args:
        input: the input tensor.
        dim: the dimension (or tuple of dimensions) to reduce; None reduces all of them.
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> ember.logsumexp(ember.tensor([[0.0, 0.0], [1000.0, 1000.0]]), dim=1)
        tensor([6.9315e-01, 1.0007e+03])
""",
    "median": """\
    The median of the elements (the lower of the two middle values for an even count).

    Without ``dim`` it returns a 0-dim tensor; with ``dim`` the namedtuple ``(values,
    indices)``.

    Args:
        input: the input tensor.
        dim: the dimension to reduce, or None for all elements.
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A 0-dim tensor, or a ``(values, indices)`` namedtuple.

    Example:
        >>> ember.median(ember.tensor([1.0, 4.0, 2.0, 3.0]))
        tensor(2.)
        >>> ember.median(ember.tensor([[1.0, 4.0, 2.0]]), dim=1).values
        tensor([2.])
""",
    "nanmedian": """\
    The median of the elements that are not nan.

    Args:
        input: the input tensor.
        dim: the dimension to reduce, or None for all elements.
        keepdim: keep each reduced dimension as size 1 (default False).

    Returns:
        A 0-dim tensor, or a ``(values, indices)`` namedtuple with ``dim``.

    Example:
        >>> ember.nanmedian(ember.tensor([1.0, float('nan'), 3.0, 2.0]))
        tensor(2.)
""",
    "mode": """\
    The most frequent value along ``dim`` and an index where it occurs.

    Args:
        input: the input tensor.
        dim: the dimension to reduce (default -1).
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(values, indices)`` of tensors with ``dim`` removed (kept as size 1 with
        ``keepdim``).

    Example:
        >>> ember.mode(ember.tensor([[1, 2, 2], [3, 3, 1]])).values
        tensor([2, 3])
""",
    "kthvalue": """\
    The ``k``-th smallest element along ``dim`` and its index.

    Args:
        input: the input tensor.
        k: which order statistic, from 1.
        dim: the dimension (default -1).
        keepdim: keep each reduced dimension as size 1 (default False).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(values, indices)`` of tensors with ``dim`` removed (kept as size 1 with
        ``keepdim``).

    Example:
        >>> v, i = ember.kthvalue(ember.tensor([3.0, 1.0, 2.0]), 2)
        >>> v, i
        (tensor(2.), tensor(2))
""",
    "quantile": """\
    The ``q``-th quantiles of ``input``, over all elements or along ``dim``.

    Args:
        input: the input tensor.
        q: a probability in [0, 1], or a 1-D tensor of them.
        dim: the dimension to reduce, or None for all elements.
        keepdim: keep each reduced dimension as size 1 (default False).
        interpolation: how to pick between two data points: ``'linear'`` (default), ``'lower'``,
            ``'higher'``, ``'midpoint'`` or ``'nearest'``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor; a tensor ``q`` adds a leading dimension of its length.

    Example:
        >>> x = ember.tensor([0.0, 1.0, 2.0, 3.0])
        >>> ember.quantile(x, 0.5)
        tensor(1.5000)
        >>> ember.quantile(x, ember.tensor([0.25, 0.75]))
        tensor([0.7500, 2.2500])
""",
    "nanquantile": """\
    Like ``quantile`` but ignores nan.

    Args:
        input: the input tensor.
        q: a probability in [0, 1], or a 1-D tensor of them.
        dim: the dimension to reduce, or None for all elements.
        keepdim: keep each reduced dimension as size 1 (default False).
        interpolation: ``'linear'`` (default), ``'lower'``, ``'higher'``, ``'midpoint'`` or
            ``'nearest'``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of quantiles.

    Example:
        >>> ember.nanquantile(ember.tensor([0.0, float('nan'), 2.0]), 0.5)
        tensor(1.)
""",
    "norm": """\
    A vector or matrix norm of ``input`` (prefer ``ember.linalg.norm``).

    Args:
        input: the input tensor.
        p: the order: ``'fro'`` (default; the 2-norm of all elements), ``'nuc'``, a number
            (vector p-norm), ``inf`` or ``-inf``.
        dim: the dimension(s) to take the norm over (default: all elements).
        keepdim: keep each reduced dimension as size 1 (default False).
        out: a tensor to write the result into (returned; the 5th positional parameter, as
            in ``torch.norm``).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``); a 0-dim
        tensor when all dimensions are reduced.

    Example:
        >>> ember.norm(ember.tensor([3.0, 4.0]))
        tensor(5.)
        >>> ember.norm(ember.tensor([[1.0, -2.0], [3.0, 0.0]]), p=1, dim=1)
        tensor([3., 3.])
""",
    "Tensor.norm": """\
    A vector or matrix norm of ``self`` (``ember.norm`` without ``out``; ``dtype`` is the
    4th positional parameter, as in ``torch.Tensor.norm``).

    Args:
        p: the order: ``'fro'`` (default; the 2-norm of all elements), ``'nuc'``, a number
            (vector p-norm), ``inf`` or ``-inf``.
        dim: the dimension(s) to take the norm over (default: all elements).
        keepdim: keep each reduced dimension as size 1 (default False).
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).

    Returns:
        A tensor with the reduced dimensions removed (kept as size 1 with ``keepdim``).

    Example:
        >>> ember.tensor([3.0, 4.0]).norm()
        tensor(5.)
""",
    "cumsum": """\
    The cumulative sum of the elements along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension to accumulate along.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of ``input``'s shape (integers accumulate in int64).

    Example:
        >>> ember.cumsum(ember.tensor([1, 2, 3, 4]), dim=0)
        tensor([ 1,  3,  6, 10])
""",
    "cumprod": """\
    The cumulative product of the elements along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension to accumulate along.
        dtype: the dtype of the result; the input is cast to it before the operation (default:
            the input's dtype).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.cumprod(ember.tensor([1.0, 2.0, 3.0, 4.0]), dim=0)
        tensor([ 1.,  2.,  6., 24.])
""",
    "cummax": """\
    The running maximum along ``dim`` and the index where each was reached.

    Args:
        input: the input tensor.
        dim: the dimension to accumulate along.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(values, indices)`` of ``input``'s shape.

    Example:
        >>> r = ember.cummax(ember.tensor([1.0, 3.0, 2.0, 5.0]), dim=0)
        >>> r.values
        tensor([1., 3., 3., 5.])
        >>> r.indices
        tensor([0, 1, 1, 3])
""",
    "cummin": """\
    The running minimum along ``dim`` and the index where each was reached.

    Args:
        input: the input tensor.
        dim: the dimension to accumulate along.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A namedtuple ``(values, indices)`` of ``input``'s shape.

    Example:
        >>> ember.cummin(ember.tensor([3.0, 1.0, 2.0, 0.0]), dim=0).indices
        tensor([0, 1, 1, 3])
""",
    "logcumsumexp": """\
    ``log(cumsum(exp(input)))`` along ``dim``, without overflow.

    Args:
        input: the input tensor.
        dim: the dimension to accumulate along.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.logcumsumexp(ember.tensor([0.0, 0.0, 0.0]), dim=0)
        tensor([0.0000, 0.6931, 1.0986])
""",
    "softmax": """\
    Softmax along ``dim``: ``exp(x) / exp(x).sum(dim)``, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension whose entries sum to 1.
        dtype: cast the input to this dtype first (default: keep it).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.softmax(ember.tensor([[1.0, 2.0, 3.0]]), dim=1)
        tensor([[0.0900, 0.2447, 0.6652]])
""",
    "log_softmax": """\
    The logarithm of the softmax along ``dim``, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension to normalise over.
        dtype: cast the input to this dtype first (default: keep it).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.log_softmax(ember.tensor([[1.0, 2.0, 3.0]]), dim=1)
        tensor([[-2.4076, -1.4076, -0.4076]])
""",
    "logdet": """\
    The log of the determinant of a square matrix, or of each matrix in a batch.

    Computed from ``slogdet``, so it stays finite where ``det`` itself under- or overflows.
    A negative determinant gives ``nan`` and a singular matrix ``-inf`` (PyTorch's
    answers); for complex input the result is the complex log of the determinant.

    Args:
        input: a tensor of shape ``(*, n, n)``.

    Returns:
        A tensor of shape ``(*)``.

    Example:
        >>> ember.logdet(ember.tensor([[2.0, 0.0], [0.0, 3.0]]))   # log(6)
        tensor(1.7918)
        >>> ember.logdet(ember.tensor([[-1.0, 0.0], [0.0, 1.0]]))
        tensor(nan)
""",
}
