"""``nn.Parameter``: a leaf Tensor that modules register as a parameter."""

from __future__ import annotations

from ember._tensor import Tensor
from ember.overrides import _disabled_torch_function_impl


class Parameter(Tensor):
    """A Tensor that is a module parameter: ``requires_grad=True`` by default.

    It shares memory with the tensor it is built from (like PyTorch's, which aliases data).
    """

    # Results of ops on parameters are plain tensors (PyTorch's Parameter opts out too).
    __torch_function__ = classmethod(_disabled_torch_function_impl)

    def __new__(cls, data=None, requires_grad=True):
        import numpy as np

        if data is None:
            data = Tensor._wrap(np.zeros(0, np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        self = object.__new__(cls)
        self._data = data._data
        self._requires_grad = False
        self._grad_fn = None
        self._grad = None
        self._vc = data._share_version()
        self._base = None
        self._meta = None
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __init__(self, data=None, requires_grad=True):
        pass  # all work is done in __new__ (Tensor.__init__ must not run)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._wrap(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            result._grad = Tensor._wrap(self._grad._data.copy())
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    import numpy as np

    return Parameter(Tensor._wrap(np.array(data)), requires_grad)


class Buffer(Tensor):
    """``nn.Buffer``: marks a tensor to be registered as a module buffer."""

    __torch_function__ = classmethod(_disabled_torch_function_impl)

    def __new__(cls, data=None, *, persistent=True):
        import numpy as np

        if data is None:
            data = Tensor._wrap(np.zeros(0, np.float32))
        self = object.__new__(cls)
        self._data = data._data
        self._requires_grad = data._requires_grad
        self._grad_fn = None
        self._grad = None
        self._vc = data._share_version()
        self._base = None
        self._meta = None
        self.persistent = persistent
        return self

    def __init__(self, data=None, *, persistent=True):
        pass


# NOTE [ Uninitialized parameters ]
# A Lazy module's parameters are placeholders until its first call shows the input's size.
# They keep what the real tensor will need (dtype, device, requires_grad) and refuse to be
# used as data: ops reach a tensor's values through the ``_data`` slot, which these classes
# shadow with a property that raises PyTorch's ValueError, so no op (and no per-op check)
# sees a placeholder. ``materialize`` stores a real array in the slot and turns the object,
# in place, into a Parameter (or a plain Tensor for a buffer), so modules and optimizers
# holding it keep working. Their ``__torch_function__`` stays disabled like Parameter's, so
# defining them installs no interception wrappers (NOTE [ Installing function-level
# interception ]).
_SLOT_DATA = Tensor.__dict__["_data"]


def _uninit_error(what):
    return ValueError(
        f"Attempted to use an uninitialized parameter in {what}. This error happens when "
        "you are using a `LazyModule` or explicitly manipulating "
        "`torch.nn.parameter.UninitializedParameter` objects. When using LazyModules Call "
        "`forward` with a dummy batch to initialize the parameters before calling torch "
        "functions")


_SHAPE_ERROR = ("Can't access the shape of an uninitialized parameter or buffer. This error "
                "usually happens in `load_state_dict` when trying to load an uninitialized "
                "parameter into an initialized one. Call `forward` to initialize the "
                "parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """What uninitialized parameters and buffers share: no data, a dtype and a device to
    create it with, and :meth:`materialize`.

    Example:
        >>> p = nn.UninitializedParameter()
        >>> isinstance(p, ember.nn.parameter.UninitializedTensorMixin)
        True
        >>> p.materialize((2, 3))
        >>> type(p).__name__, p.shape
        ('Parameter', torch.Size([2, 3]))"""

    __slots__ = ()
    cls_to_become = None

    @property
    def _data(self):
        raise _uninit_error(f"an op on {type(self).__name__}")

    def _uninit_setup(self, requires_grad, device, dtype):
        import numpy as np

        from ember import _dtype as D
        from ember._device import check_device

        _SLOT_DATA.__set__(self, np.zeros(0, np.float32))
        self._requires_grad = bool(requires_grad)
        self._grad_fn = None
        self._grad = None
        self._vc = None
        self._base = None
        # kept in the ``_meta`` slot so a buffer has Tensor's layout (materialize changes
        # its class to Tensor in place)
        self._meta = {"uninit_dtype": D.to_dtype(dtype) if dtype is not None else
                      D.get_default_dtype(),
                      "uninit_device": check_device(device) if device is not None else None}

    @property
    def _uninit_dtype(self):
        return self._meta["uninit_dtype"]

    @property
    def _uninit_device(self):
        return self._meta["uninit_device"]

    def materialize(self, shape, device=None, dtype=None):
        """Create this tensor's (uninitialised) data of ``shape`` and turn it into a
        ``cls_to_become`` (a Parameter or a Tensor) in place.

        Args:
            shape: the shape of the data.
            device: where to create it (defaults to the device given at construction).
            dtype: its dtype (defaults to the dtype given at construction).

        Example:
            >>> p = nn.UninitializedParameter(); p.materialize((2, 3)); p.shape
            torch.Size([2, 3])
        """
        from ember._ops.creation import empty

        if isinstance(shape, int):
            shape = (shape,)
        dev = device if device is not None else self._uninit_device
        dt = dtype if dtype is not None else self._uninit_dtype
        arr = empty(tuple(shape), dtype=dt, device=dev)._data
        _SLOT_DATA.__set__(self, arr)
        self._vc = None
        self._meta = None
        self.__class__ = self.cls_to_become

    # metadata that exists without data
    @property
    def shape(self):
        raise RuntimeError(_SHAPE_ERROR)

    def size(self, dim=None):  # noqa: ARG002 - Tensor.size's signature
        raise RuntimeError(_SHAPE_ERROR)

    def dim(self):
        raise RuntimeError(_SHAPE_ERROR)

    ndim = property(dim)

    def numel(self):
        raise RuntimeError(_SHAPE_ERROR)

    @property
    def dtype(self):
        return self._uninit_dtype

    @property
    def device(self):
        from ember._device import CPU

        return self._uninit_device if self._uninit_device is not None else CPU

    def is_floating_point(self):
        return self._uninit_dtype.is_floating_point

    def is_complex(self):
        return self._uninit_dtype.is_complex

    def requires_grad_(self, requires_grad=True):
        self._requires_grad = bool(requires_grad)
        return self

    def detach(self):
        return self

    def to(self, *args, **kwargs):
        """Record a new dtype/device for the data to come (no copy: there is no data)."""
        from ember._tensor import parse_to_args

        dtype, _, dev = parse_to_args(args, kwargs, allow_copy=True, with_device=True)
        if dtype is not None:
            self._meta["uninit_dtype"] = dtype
        if dev is not None:
            from ember._device import check_device

            self._meta["uninit_device"] = check_device(dev)
        return self

    def cpu(self):
        return self.to("cpu")

    def float(self):
        from ember import _dtype as D

        return self.to(D.float32)

    def double(self):
        from ember import _dtype as D

        return self.to(D.float64)

    def half(self):
        from ember import _dtype as D

        return self.to(D.float16)

    def bfloat16(self):
        from ember import _dtype as D

        return self.to(D.bfloat16)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __bool__(self):
        raise _uninit_error("bool()")

    def __len__(self):
        raise RuntimeError(_SHAPE_ERROR)

    def __reduce_ex__(self, proto):
        # dtype and device travel too (PyTorch's keep only requires_grad)
        dev = self._uninit_device
        return (_rebuild_uninitialized, (type(self), self._requires_grad, str(self._uninit_dtype),
                                         None if dev is None else str(dev)))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)(self._requires_grad, self._uninit_device, self._uninit_dtype)
        memo[id(self)] = out
        return out


def _rebuild_uninitialized(cls, requires_grad, dtype="torch.float32", device=None):
    from ember import _dtype as D

    return cls(requires_grad, device, getattr(D, dtype.rsplit(".", 1)[-1]))


def is_lazy(t) -> bool:
    """Whether ``t`` is an uninitialized parameter or buffer.

    Args:
        t: any object.

    Returns:
        True for :class:`UninitializedParameter` and :class:`UninitializedBuffer`.

    Example:
        >>> from ember.nn.parameter import is_lazy
        >>> is_lazy(nn.UninitializedParameter()), is_lazy(ember.ones(1))
        (True, False)
    """
    return isinstance(t, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter with no data yet (a Lazy module's weight before its first call).

    Using it in an op raises ``ValueError``; reading its shape raises ``RuntimeError``;
    :meth:`materialize` gives it data and makes it a :class:`Parameter`.

    Args:
        requires_grad: whether the parameter, once materialized, requires grad.
        device: the device to materialize on.
        dtype: the dtype to materialize with (the default dtype when None).

    Example:
        >>> p = nn.UninitializedParameter()
        >>> p.materialize((3,)); type(p).__name__, p.requires_grad
        ('Parameter', True)
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        self = object.__new__(cls)
        self._uninit_setup(requires_grad, device, dtype)
        return self

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass  # all work is done in __new__


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer with no data yet (a Lazy norm layer's running statistics).

    Args:
        requires_grad: whether the buffer, once materialized, requires grad.
        device: the device to materialize on.
        dtype: the dtype to materialize with (the default dtype when None).
        persistent: whether the buffer goes into ``state_dict``.

    Example:
        >>> b = nn.UninitializedBuffer()
        >>> b.materialize((2,)); type(b).__name__
        'Tensor'
    """

    __slots__ = ()  # Tensor's layout, so materialize can make it a Tensor in place
    __torch_function__ = classmethod(_disabled_torch_function_impl)
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        self = object.__new__(cls)
        self._uninit_setup(requires_grad, device, dtype)
        self._meta["persistent"] = persistent
        return self

    @property
    def persistent(self):
        return self._meta["persistent"]

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass  # all work is done in __new__
