"""Docstrings of ``ember.Tensor``'s own methods and properties, by ``Tensor.name``."""


DOCS = {
    "Tensor.shape": """\
    The size of each dimension, as an ``ember.Size`` (a tuple).

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.shape
        torch.Size([2, 3])
        >>> x.shape[1]
        3
""",
    "Tensor.dtype": """\
    The data type of the elements.

    Example:
        >>> ember.tensor([1, 2]).dtype
        torch.int64
        >>> ember.tensor([1.0]).dtype
        torch.float32
""",
    "Tensor.device": """\
    The device the tensor's memory is on.

    Example:
        >>> ember.zeros(2).device
        device(type='cpu')
""",
    "Tensor.ndim": """\
    The number of dimensions (same as ``dim()``).

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.ndim
        2
""",
    "Tensor.requires_grad": """\
    Whether autograd records operations on this tensor.

    Only leaf tensors (made by the user, not by an operation) may have the flag set; results of
    operations on tensors that require grad require grad too.

    Example:
        >>> x = ember.ones(2)
        >>> x.requires_grad
        False
        >>> x.requires_grad = True
        >>> (x * 2).requires_grad
        True
""",
    "Tensor.grad": """\
    The gradient accumulated into this leaf tensor by ``backward()`` (None until then).

    Gradients accumulate: call ``optimizer.zero_grad()`` (or set ``x.grad = None``) between
    steps. Non-leaf tensors get a ``grad`` only after ``retain_grad()``.

    Example:
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
""",
    "Tensor.grad_fn": """\
    The autograd node that produced this tensor (None for leaves).

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> x.grad_fn is None
        True
        >>> (x * 2).grad_fn.name()
        'MulBackward0'
""",
    "Tensor.is_leaf": """\
    Whether the tensor is a leaf of the autograd graph.

    Tensors that do not require grad are leaves, and so are tensors made by the user with
    ``requires_grad=True``; results of recorded operations are not. Only leaves get ``.grad``
    filled by ``backward()``.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> x.is_leaf, (x * 2).is_leaf
        (True, False)
        >>> ember.ones(2).is_leaf
        True
""",
    "Tensor.data": """\
    The tensor's data, detached from autograd (prefer ``detach()``).

    In-place changes made through ``data`` are not seen by autograd, which is why ``detach()``
    (which shares the version counter) is safer.

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> w.data.requires_grad
        False
        >>> w.data.mul_(3)
        tensor([3., 3.])
        >>> w
        tensor([3., 3.], requires_grad=True)
""",
    "Tensor.T": """\
    The tensor with its dimensions reversed (the transpose of a matrix).

    PyTorch deprecates ``T`` on tensors of other than 2 dimensions; ``mT`` transposes the last
    two.

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.T.shape
        torch.Size([3, 2])
""",
    "Tensor.mT": """\
    The transpose of the last two dimensions (a batch of matrices).

    Example:
        >>> ember.zeros(5, 2, 3).mT.shape
        torch.Size([5, 3, 2])
""",
    "Tensor.H": """\
    The conjugate transpose of a matrix.

    Example:
        >>> ember.tensor([[1 + 1j, 2 + 0j]]).H
        tensor([[1.-1.j],
                [2.-0.j]])
""",
    "Tensor.mH": """\
    The conjugate transpose of the last two dimensions.

    Example:
        >>> ember.zeros(4, 2, 3, dtype=ember.complex64).mH.shape
        torch.Size([4, 3, 2])
""",
    "Tensor.real": """\
    The real part of a tensor (a view for complex tensors).

    Args:
        input: the input tensor.

    Example:
        >>> ember.tensor([1 + 2j, 3 - 1j]).real
        tensor([1., 3.])
""",
    "Tensor.imag": """\
    The imaginary part of a complex tensor (a view).

    Args:
        input: the input tensor.

    Example:
        >>> ember.tensor([1 + 2j, 3 - 1j]).imag
        tensor([ 2., -1.])
""",
    "Tensor.layout": """\
    The memory layout: always ``ember.strided`` for dense tensors.

    Example:
        >>> ember.zeros(2).layout == ember.strided
        True
""",
    "Tensor.is_cpu": """\
    Whether the tensor is on the CPU.

    Example:
        >>> ember.zeros(2).is_cpu
        True
""",
    "Tensor.is_cuda": """\
    Whether the tensor is on a CUDA device.

    Example:
        >>> ember.zeros(2).is_cuda
        False
""",
    "Tensor.is_meta": """\
    Whether the tensor is on the ``meta`` device (shape and dtype only, no data).

    Example:
        >>> ember.zeros(2, device='meta').is_meta
        True
""",
    "Tensor.is_sparse": """\
    Whether the tensor is a sparse COO tensor.

    Example:
        >>> ember.zeros(2).is_sparse
        False
""",
    "Tensor.is_quantized": """\
    Whether the tensor is quantized (never in ember).

    Example:
        >>> ember.zeros(2).is_quantized
        False
""",
    "Tensor.itemsize": """\
    The size in bytes of one element.

    Example:
        >>> ember.zeros(2).itemsize
        4
        >>> ember.zeros(2, dtype=ember.int8).itemsize
        1
""",
    "Tensor.nbytes": """\
    The number of bytes the tensor's elements take (``numel() * itemsize``).

    Example:
        >>> ember.zeros(2, 3).nbytes
        24
""",
    "Tensor.names": """\
    The names of the dimensions; ember has no named tensors, so all are None.

    Example:
        >>> ember.zeros(2, 3).names
        (None, None)
""",
    "Tensor.retains_grad": """\
    Whether ``retain_grad()`` was called on this non-leaf tensor.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> y = x * 2
        >>> y.retain_grad()
        >>> y.retains_grad
        True
""",
    "Tensor.backward": """\
    Computes the gradient of this tensor with respect to the graph leaves.

    The graph is freed afterwards unless ``retain_graph=True``. It is
    ``ember.autograd.backward(self, ...)``.

    Args:
        gradient: the gradient of the final result with respect to this tensor; needed unless
            the tensor has one element (then 1 is used).
        retain_graph: keep the graph's saved tensors so that backward can run through it again
            (default: ``create_graph``).
        create_graph: record the backward computation too, for higher-order derivatives (default
            False).
        inputs: the tensors to accumulate gradients into (default: every leaf).

    Returns:
        None; the gradients are accumulated into the ``.grad`` of the leaves.

    Example:
        >>> x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x ** 2).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4., 6.])
""",
    "Tensor.detach": """\
    Returns a new tensor sharing this one's data, cut from the autograd graph.

    Returns:
        A tensor that does not require grad and shares memory (and the version counter) with
        ``self``.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> d = (x * 2).detach()
        >>> d.requires_grad, d.is_leaf
        (False, True)
""",
    "Tensor.detach_": """\
    Cuts this tensor from the autograd graph, in place.

    Returns:
        ``self``, modified in place.

    Example:
        >>> y = ember.ones(2, requires_grad=True) * 2
        >>> y.detach_().requires_grad
        False
""",
    "Tensor.requires_grad_": """\
    Sets ``requires_grad`` of this leaf tensor, in place.

    Args:
        requires_grad: the new value (default True).

    Returns:
        ``self``, modified in place.

    Example:
        >>> w = ember.zeros(3).requires_grad_()
        >>> w.requires_grad
        True
""",
    "Tensor.retain_grad": """\
    Makes this non-leaf tensor keep its ``.grad`` after ``backward()``.

    Returns:
        None.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> y = x * 3
        >>> y.retain_grad()
        >>> y.sum().backward()
        >>> y.grad
        tensor([1., 1.])
""",
    "Tensor.register_hook": """\
    Registers a function called with this tensor's gradient during backward.

    Args:
        hook: ``hook(grad) -> Tensor or None``; a returned tensor replaces the gradient.

    Returns:
        A handle whose ``remove()`` unregisters the hook.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * 1).sum().backward()
        >>> x.grad
        tensor([10., 10.])
        >>> h.remove()
""",
    "Tensor.register_post_accumulate_grad_hook": """\
    Registers a function called on a leaf after its ``.grad`` was accumulated.

    Used to run the optimizer step per parameter during backward.

    Args:
        hook: ``hook(tensor) -> None``, called with the leaf itself (read its ``.grad``).

    Returns:
        A handle whose ``remove()`` unregisters the hook.

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> seen = []
        >>> h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.sum().item()))
        >>> (w * 2).sum().backward()
        >>> seen
        [4.0]
""",
    "Tensor.item": """\
    The value of a one-element tensor as a Python number.

    Tensors with more than one element raise RuntimeError.

    Returns:
        A Python float, int, bool or complex.

    Example:
        >>> ember.tensor([2.5]).item()
        2.5
        >>> ember.tensor(3).item()
        3
""",
    "Tensor.tolist": """\
    The tensor's elements as (nested) Python lists.

    Returns:
        A nested list of Python numbers (a number for a 0-dim tensor).

    Example:
        >>> ember.tensor([[1, 2], [3, 4]]).tolist()
        [[1, 2], [3, 4]]
        >>> ember.tensor(1.5).tolist()
        1.5
""",
    "Tensor.numpy": """\
    The tensor's data as a NumPy array, sharing memory.

    Args:
        force: copy out a tensor that requires grad (which otherwise raises RuntimeError) or
            that lives on another device.

    Returns:
        A NumPy array that views the tensor's memory.

    Example:
        >>> t = ember.ones(2)
        >>> a = t.numpy()
        >>> a[0] = 5
        >>> t
        tensor([5., 1.])
""",
    "Tensor.to": """\
    Converts the tensor to another dtype and/or device.

    Args:
        *args: a dtype; a device (or string); a device and a dtype; or another tensor whose
            dtype and device to take.
        **kwargs: ``dtype=``, ``device=``, ``non_blocking=``, ``copy=`` (always copy),
            ``memory_format=``.

    Returns:
        ``self`` when nothing changes, else a new tensor (differentiable).

    Example:
        >>> x = ember.tensor([1.5, 2.5])
        >>> x.to(ember.float64).dtype
        torch.float64
        >>> x.to('cpu') is x
        True
        >>> x.to(ember.int64)
        tensor([1, 2])
""",
    "Tensor.size": """\
    The shape of the tensor, or the size of one dimension.

    Args:
        dim: a dimension (negative counts from the end); None for all of them.

    Returns:
        An ``ember.Size`` or, with ``dim``, an int.

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.size()
        torch.Size([2, 3])
        >>> x.size(1)
        3
        >>> x.size(-1)
        3
""",
    "Tensor.dim": """\
    The number of dimensions.

    Returns:
        An int.

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.dim()
        2
""",
    "Tensor.stride": """\
    The step in elements between neighbours along each dimension.

    Args:
        dim: one dimension, or None for all of them.

    Returns:
        A tuple of ints or, with ``dim``, an int.

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.stride()
        (3, 1)
        >>> x.t().stride()
        (1, 3)
""",
    "Tensor.storage_offset": """\
    The offset of the first element in the underlying memory, in elements.

    Returns:
        An int.

    Example:
        >>> x = ember.arange(6)
        >>> x[2:].storage_offset()
        2
""",
    "Tensor.element_size": """\
    The size in bytes of one element.

    Returns:
        An int.

    Example:
        >>> ember.zeros(1, dtype=ember.float64).element_size()
        8
""",
    "Tensor.nelement": """\
    The number of elements (same as ``numel()``).

    Returns:
        An int.

    Example:
        >>> ember.zeros(2, 3).nelement()
        6
""",
    "Tensor.data_ptr": """\
    The address of the tensor's first element.

    Returns:
        An int.

    Example:
        >>> x = ember.zeros(4)
        >>> x[1:].data_ptr() - x.data_ptr()
        4
""",
    "Tensor.get_device": """\
    The device index: -1 for CPU tensors.

    Returns:
        An int.

    Example:
        >>> ember.zeros(1).get_device()
        -1
""",
    "Tensor.is_contiguous": """\
    Whether the elements are laid out row-major without gaps.

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A bool.

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> x.is_contiguous(), x.t().is_contiguous()
        (True, False)
""",
    "Tensor.is_floating_point": """\
    Whether the dtype is a floating-point type.

    Returns:
        A bool.

    Example:
        >>> ember.ones(1).is_floating_point(), ember.ones(1, dtype=ember.int64).is_floating_point()
        (True, False)
""",
    "Tensor.is_complex": """\
    Whether the dtype is a complex type.

    Returns:
        A bool.

    Example:
        >>> ember.ones(1, dtype=ember.complex64).is_complex()
        True
""",
    "Tensor.is_signed": """\
    Whether the dtype is signed (every dtype except uint8 and bool).

    Returns:
        A bool.

    Example:
        >>> ember.ones(1, dtype=ember.uint8).is_signed()
        False
""",
    "Tensor.is_nonzero": """\
    Whether a one-element tensor is nonzero (as ``bool(self)``).

    Args:
        input: the input tensor.

    Returns:
        A bool.

    Example:
        >>> ember.tensor([0.0]).is_nonzero()
        False
""",
    "Tensor.is_inference": """\
    Whether the tensor was made in ``inference_mode``.

    Returns:
        A bool.

    Example:
        >>> ember.ones(1).is_inference()
        False
""",
    "Tensor.is_pinned": """\
    Whether the tensor is in pinned (page-locked) memory.

    Args:
        device: the device of the result (default: the current default device, see
            ``ember.set_default_device``).

    Returns:
        A bool.

    Example:
        >>> ember.ones(1).is_pinned()
        False
""",
    "Tensor.is_shared": """\
    Whether the tensor's memory is shared between processes.

    Returns:
        A bool.

    Example:
        >>> ember.ones(1).is_shared()
        False
""",
    "Tensor.type": """\
    The type name of the tensor, or a copy converted to the given type.

    Args:
        dtype: a dtype or a legacy type name such as ``'torch.LongTensor'``.
        non_blocking: accepted for compatibility; copies are synchronous on the CPU.

    Returns:
        A string when ``dtype`` is None, else a tensor.

    Example:
        >>> x = ember.ones(2)
        >>> x.type()
        'torch.FloatTensor'
        >>> x.type(ember.float64).dtype
        torch.float64
        >>> x.type('torch.LongTensor')
        tensor([1, 1])
""",
    "Tensor.type_as": """\
    Returns this tensor converted to the dtype of ``other``.

    Args:
        other: the tensor whose dtype to take.

    Returns:
        A tensor of ``other``'s dtype.

    Example:
        >>> ember.tensor([1.5]).type_as(ember.tensor([1]))
        tensor([1])
""",
    "Tensor.float": """\
    Returns a copy of the tensor converted to float32 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.float32``.

    Example:
        >>> ember.tensor([1.7, -2.2]).float()
        tensor([ 1.7000, -2.2000])
""",
    "Tensor.double": """\
    Returns a copy of the tensor converted to float64 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.float64``.

    Example:
        >>> ember.tensor([1.7, -2.2]).double()
        tensor([ 1.7000, -2.2000], dtype=torch.float64)
""",
    "Tensor.half": """\
    Returns a copy of the tensor converted to float16 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.float16``.

    Example:
        >>> ember.tensor([1.7, -2.2]).half()
        tensor([ 1.7002, -2.1992], dtype=torch.float16)
""",
    "Tensor.bfloat16": """\
    Returns a copy of the tensor converted to bfloat16 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.bfloat16``.

    Example:
        >>> ember.tensor([1.7, -2.2]).bfloat16()
        tensor([ 1.7031, -2.2031], dtype=torch.bfloat16)
""",
    "Tensor.int": """\
    Returns a copy of the tensor converted to int32 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.int32``.

    Example:
        >>> ember.tensor([1.7, -2.2]).int()
        tensor([ 1, -2], dtype=torch.int32)
""",
    "Tensor.long": """\
    Returns a copy of the tensor converted to int64 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.int64``.

    Example:
        >>> ember.tensor([1.7, -2.2]).long()
        tensor([ 1, -2])
""",
    "Tensor.short": """\
    Returns a copy of the tensor converted to int16 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.int16``.

    Example:
        >>> ember.tensor([1.7, -2.2]).short()
        tensor([ 1, -2], dtype=torch.int16)
""",
    "Tensor.char": """\
    Returns a copy of the tensor converted to int8 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.int8``.

    Example:
        >>> ember.tensor([1.7, -2.2]).char()
        tensor([ 1, -2], dtype=torch.int8)
""",
    "Tensor.byte": """\
    Returns a copy of the tensor converted to uint8 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.uint8``.

    Example:
        >>> ember.tensor([1.7, -2.2]).byte()
        tensor([  1, 254], dtype=torch.uint8)
""",
    "Tensor.bool": """\
    Returns a copy of the tensor converted to bool (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.bool``.

    Example:
        >>> ember.tensor([1.7, -2.2]).bool()
        tensor([True, True])
""",
    "Tensor.cfloat": """\
    Returns a copy of the tensor converted to complex64 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.complex64``.

    Example:
        >>> ember.tensor([1.7, -2.2]).cfloat()
        tensor([ 1.7000+0.j, -2.2000+0.j])
""",
    "Tensor.cdouble": """\
    Returns a copy of the tensor converted to complex128 (``self`` if it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor of dtype ``ember.complex128``.

    Example:
        >>> ember.tensor([1.7, -2.2]).cdouble()
        tensor([ 1.7000+0.j, -2.2000+0.j], dtype=torch.complex128)
""",
    "Tensor.cpu": """\
    Returns the tensor on the CPU (``self`` when it already is).

    Args:
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor on the CPU.

    Example:
        >>> x = ember.ones(2)
        >>> x.cpu() is x
        True
""",
    "Tensor.cuda": """\
    Returns a copy of the tensor on a CUDA device.

    Args:
        device: the CUDA device (default: the current one).
        non_blocking: accepted for compatibility; copies are synchronous on the CPU.
        memory_format: accepted for compatibility; ember tensors are always laid out row-major.

    Returns:
        A tensor on the CUDA device; RuntimeError when no CUDA backend is available.

    Example:
        >>> ember.cuda.is_available()
        False
""",
    "Tensor.pin_memory": """\
    Returns a copy of the tensor in pinned memory.

    Args:
        device: accepted for compatibility.

    Returns:
        A pinned tensor; RuntimeError on machines without an accelerator backend.

    Example:
        >>> ember.ones(1).is_pinned()
        False
""",
    "Tensor.share_memory_": """\
    Moves the tensor's data to shared memory, for use by other processes.

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.ones(2)
        >>> x.share_memory_() is x
        True
        >>> x.is_shared()
        True
""",
    "Tensor.view": """\
    Returns a view of the tensor with a new shape (no copy).

    The tensor must be laid out compatibly (e.g. contiguous); otherwise RuntimeError asks for
    ``reshape``, which copies when it must.

    Args:
        input: the input tensor.
        *shape: the new shape (ints or one tuple); one entry may be -1, inferred from the
            others. A dtype instead reinterprets the bytes.

    Returns:
        A tensor sharing ``self``'s memory.

    Example:
        >>> x = ember.arange(6)
        >>> v = x.view(2, 3)
        >>> v
        tensor([[0, 1, 2],
                [3, 4, 5]])
        >>> v[0, 0] = 100
        >>> x[0]
        tensor(100)
        >>> x.view(-1, 2).shape
        torch.Size([3, 2])
""",
    "Tensor.view_as": """\
    Returns a view of this tensor with ``other``'s shape.

    Args:
        input: the input tensor.
        other: the tensor whose shape to take.

    Returns:
        A view of ``self``.

    Example:
        >>> ember.arange(4).view_as(ember.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
""",
    "Tensor.reshape_as": """\
    Returns this tensor reshaped to ``other``'s shape.

    Args:
        input: the input tensor.
        other: the tensor whose shape to take.

    Returns:
        A view when possible, else a copy.

    Example:
        >>> ember.arange(4).reshape_as(ember.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
""",
    "Tensor.expand": """\
    Returns a view with singleton dimensions repeated to a larger size (no copy).

    Args:
        input: the input tensor.
        *sizes: the new shape; -1 keeps a dimension's size. New leading dimensions may be added.

    Returns:
        A view of ``self``; expanded dimensions have stride 0, so do not write to it.

    Example:
        >>> x = ember.tensor([[1], [2]])
        >>> x.expand(2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
        >>> x.expand(-1, 2).shape
        torch.Size([2, 2])
""",
    "Tensor.expand_as": """\
    Expands this tensor to ``other``'s shape (see ``expand``).

    Args:
        input: the input tensor.
        other: the tensor whose shape to take.

    Returns:
        A view of ``self``.

    Example:
        >>> ember.tensor([1, 2]).expand_as(ember.zeros(2, 2))
        tensor([[1, 2],
                [1, 2]])
""",
    "Tensor.contiguous": """\
    Returns a contiguous (row-major) tensor with the same data.

    Args:
        input: the input tensor.
        memory_format: accepted for compatibility.

    Returns:
        ``self`` when it is already contiguous, else a copy.

    Example:
        >>> x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> y = x.t().contiguous()
        >>> y.is_contiguous(), x.contiguous() is x
        (True, True)
""",
    "Tensor.unfold": """\
    Returns a view of all the slices of length ``size`` along ``dimension``, ``step`` apart.

    Args:
        input: the input tensor.
        dimension: the dimension to slide along.
        size: the slice length.
        step: the distance between slice starts.

    Returns:
        A view with one more dimension (of length ``size``) than ``self``.

    Example:
        >>> ember.arange(6).unfold(0, 3, 2)
        tensor([[0, 1, 2],
                [2, 3, 4]])
""",
    "Tensor.sum_to_size": """\
    Sums this tensor down to the broadcast-compatible ``size``.

    Args:
        *size: the target shape, which ``self``'s shape broadcasts from.

    Returns:
        A tensor of shape ``size``.

    Example:
        >>> ember.ones(2, 3).sum_to_size(1, 3)
        tensor([[2., 2., 2.]])
""",
    "Tensor.new_tensor": """\
    Returns a new tensor with ``data``, of this tensor's dtype and device by default.

    Args:
        data: a number, sequence or array.
        dtype: the result's dtype (default: ``self``'s).
        device: the result's device (default: ``self``'s).
        requires_grad: record operations for autograd (default False).

    Returns:
        A new leaf tensor.

    Example:
        >>> x = ember.ones(1, dtype=ember.float64)
        >>> x.new_tensor([1, 2])
        tensor([1., 2.], dtype=torch.float64)
""",
    "Tensor.new_zeros": """\
    Returns a tensor of zeros of this tensor's dtype and device.

    Args:
        *size: the shape.
        dtype: the dtype (default: ``self``'s).
        device: the device (default: ``self``'s).
        requires_grad: record operations for autograd (default False).
        **kw: ``layout=``, ``pin_memory=`` as for ``ember.zeros``.

    Returns:
        A new tensor.

    Example:
        >>> ember.ones(1, dtype=ember.int64).new_zeros(2, 2)
        tensor([[0, 0],
                [0, 0]])
""",
    "Tensor.new_ones": """\
    Returns a tensor of ones of this tensor's dtype and device.

    Args:
        *size: the shape.
        dtype: the dtype (default: ``self``'s).
        device: the device (default: ``self``'s).
        requires_grad: record operations for autograd (default False).
        **kw: ``layout=``, ``pin_memory=`` as for ``ember.ones``.

    Returns:
        A new tensor.

    Example:
        >>> ember.ones(1, dtype=ember.float64).new_ones(2)
        tensor([1., 1.], dtype=torch.float64)
""",
    "Tensor.new_empty": """\
    Returns an uninitialised tensor of this tensor's dtype and device.

    Args:
        *size: the shape.
        dtype: the dtype (default: ``self``'s).
        device: the device (default: ``self``'s).
        requires_grad: record operations for autograd (default False).
        **kw: ``layout=``, ``pin_memory=`` as for ``ember.empty``.

    Returns:
        A new tensor.

    Example:
        >>> ember.ones(1).new_empty(2, 3).shape
        torch.Size([2, 3])
""",
    "Tensor.new_full": """\
    Returns a tensor filled with ``fill_value``, of this tensor's dtype and device.

    Args:
        size: the shape.
        fill_value: the value of every element.
        dtype: the dtype (default: ``self``'s).
        device: the device (default: ``self``'s).
        requires_grad: record operations for autograd (default False).

    Returns:
        A new tensor.

    Example:
        >>> ember.ones(1).new_full((2,), 7)
        tensor([7., 7.])
""",
    "Tensor.copy_": """\
    Copies the elements of ``src`` into this tensor, in place.

    Differentiable with respect to ``src``.

    Args:
        src: the source, broadcast to ``self``'s shape and cast to its dtype.
        non_blocking: accepted for compatibility.

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.zeros(2, 2)
        >>> x.copy_(ember.tensor([1.0, 2.0]))
        tensor([[1., 2.],
                [1., 2.]])
""",
    "Tensor.fill_": """\
    Fills the tensor with ``value``, in place.

    Args:
        value: a number, or a 0-dim tensor.

    Returns:
        ``self``, modified in place.

    Example:
        >>> ember.zeros(3).fill_(2.5)
        tensor([2.5000, 2.5000, 2.5000])
""",
    "Tensor.zero_": """\
    Fills the tensor with zeros, in place.

    Returns:
        ``self``, modified in place.

    Example:
        >>> ember.ones(3).zero_()
        tensor([0., 0., 0.])
""",
    "Tensor.fill_diagonal_": """\
    Fills the main diagonal with ``fill_value``, in place.

    Args:
        fill_value: the value to write.
        wrap: for tall matrices, restart the diagonal after every N rows (default False).

    Returns:
        ``self``, modified in place.

    Example:
        >>> ember.zeros(3, 3).fill_diagonal_(1.0)
        tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]])
""",
    "Tensor.masked_fill_": """\
    Writes ``value`` where ``mask`` is True, in place.

    Args:
        *args: ``mask`` (a bool tensor broadcastable to ``self``) and ``value`` (a number or
            0-dim tensor).
        **kwargs: the same, by name.

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.zeros(3)
        >>> x.masked_fill_(ember.tensor([True, False, True]), 1.0)
        tensor([1., 0., 1.])
""",
    "Tensor.index_put_": """\
    Writes ``values`` at the positions given by a tuple of index tensors, in place.

    ``x[indices] = values`` is the same with ``accumulate=False``.

    Args:
        indices: a tuple of index tensors, one per indexed dimension.
        values: the values to write (broadcast).
        accumulate: add into the tensor (repeated indices add up) instead of writing (default
            False).

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.zeros(3)
        >>> x.index_put_((ember.tensor([0, 2]),), ember.tensor([5.0, 6.0]))
        tensor([5., 0., 6.])
        >>> x.index_put_((ember.tensor([0, 0]),), ember.tensor([1.0, 1.0]), accumulate=True)
        tensor([7., 0., 6.])
""",
    "Tensor.uniform_": """\
    Fills the tensor with samples from the uniform distribution on [a, b).

    Args:
        a: the lower bound (default 0).
        b: the upper bound (default 1).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.empty(1000).uniform_(-1, 1)
        >>> bool(x.min() >= -1), bool(x.max() < 1)
        (True, True)
""",
    "Tensor.normal_": """\
    Fills the tensor with samples from N(mean, std**2).

    Args:
        mean: the mean (default 0).
        std: the standard deviation (default 1).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.empty(2, 3).normal_(0.0, 0.02)
        >>> x.shape
        torch.Size([2, 3])
""",
    "Tensor.bernoulli_": """\
    Fills the tensor with 0/1 samples, each 1 with probability ``p``.

    Args:
        p: the probability of a 1: a number or a tensor (default 0.5).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> ember.empty(4).bernoulli_(1.0)
        tensor([1., 1., 1., 1.])
""",
    "Tensor.random_": """\
    Fills the tensor with integers drawn uniformly from [from_, to).

    Args:
        from_: the lowest value (default 0); alone it is ``to``.
        to: one above the highest value (default: the dtype's largest integer).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.empty(100).random_(0, 5)
        >>> bool(((x >= 0) & (x < 5)).all())
        True
""",
    "Tensor.exponential_": """\
    Fills the tensor with samples from the exponential distribution of rate ``lambd``.

    Args:
        lambd: the rate (default 1).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.empty(1000).exponential_(2.0)
        >>> bool(x.min() >= 0)
        True
""",
    "Tensor.geometric_": """\
    Fills the tensor with samples from the geometric distribution.

    Each sample counts the Bernoulli(p) trials up to and including the first success.

    Args:
        p: the probability of success of each trial.
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.empty(100).geometric_(0.5)
        >>> bool(x.min() >= 1)
        True
""",
    "Tensor.cauchy_": """\
    Fills the tensor with samples from the Cauchy distribution.

    Args:
        median: the location (default 0).
        sigma: the scale (default 1).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> ember.empty(3).cauchy_().shape
        torch.Size([3])
""",
    "Tensor.log_normal_": """\
    Fills the tensor with samples whose logarithm is N(mean, std**2).

    Args:
        mean: the mean of the logarithm (default 1).
        std: the standard deviation of the logarithm (default 2).
        generator: the random number generator to draw from (default: the global one).

    Returns:
        ``self``, modified in place.

    Example:
        >>> x = ember.empty(100).log_normal_()
        >>> bool(x.min() > 0)
        True
""",
    "Tensor.polygamma": """\
    The ``n``-th derivative of the digamma function of each element.

    ``x.polygamma(n)`` is ``ember.polygamma(n, x)``.

    Args:
        n: the order of the derivative (n >= 0).

    Returns:
        A floating-point tensor of ``self``'s shape.

    Example:
        >>> ember.tensor([1.0, 2.0]).polygamma(1)
        tensor([1.6449, 0.6449])
""",
    "Tensor.where": """\
    Chooses elements of this tensor where ``condition`` holds, else of ``y``.

    ``x.where(condition, y)`` is ``ember.where(condition, x, y)``.

    Args:
        condition: a bool tensor (broadcast).
        y: the values elsewhere (a tensor or number).

    Returns:
        A new tensor of the broadcast shape.

    Example:
        >>> x = ember.tensor([1.0, -2.0, 3.0])
        >>> x.where(x > 0, 0.0)
        tensor([1., 0., 3.])
""",
    "Tensor.as_subclass": """\
    Views this tensor as an instance of a Tensor subclass.

    The result shares data, autograd history and the version counter.

    Args:
        cls: a subclass of ``ember.Tensor``.

    Returns:
        An instance of ``cls``.

    Example:
        >>> t = ember.ones(2).as_subclass(ember.nn.Parameter)
        >>> type(t).__name__, t.shape
        ('Parameter', torch.Size([2]))
""",
    "Tensor.conj_physical_": """\
    Conjugates the tensor in place (a no-op for real tensors).

    Returns:
        ``self``, modified in place.

    Example:
        >>> ember.tensor([1 + 2j]).conj_physical_()
        tensor([1.-2.j])
""",
}
