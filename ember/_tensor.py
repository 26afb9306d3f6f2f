"""The Tensor: a NumPy array (owned or viewed) plus dtype, version counter and grad fields.

Ops are not written here: they are defined once in ``ember/_ops`` and attached to Tensor as
methods by the op registry (see ARCHITECTURE.md). This file holds what is intrinsic to a
tensor object: metadata accessors, conversion, the NumPy bridge and autograd fields.
"""

from __future__ import annotations

import numpy as np

from ember import _dtype as D
from ember._device import CPU, check_device
from ember._graph import GRAD

_ndarray = np.ndarray

# Observers of tensor->Python conversions (item, bool, tolist, numpy): the tracer turns them
# into guards or TracerWarnings (NOTE [ Guards ] in ember/jit/_compile.py). Empty, they
# cost one truthiness test per conversion.
CONVERSION_HOOKS = []


class Tensor:
    """A multi-dimensional array with autograd support.

    Slots (NOTE [ Tensor slots ]): ``_data`` is the backend array; ``_vc`` (the version
    counter) is a one-item list shared with every view of the same memory (created lazily:
    None means version 0; ``_version`` reads it as an int);
    ``_grad_fn`` is the edge to the node that produced this tensor (NOTE [ Edges ]);
    ``_base`` is the tensor whose memory a view shares; ``_meta`` is a dict for rarely used
    state (hooks, retain_grad, view replay information, names).
    """

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_grad", "_vc", "_base", "_meta",
                 "__weakref__")

    __array_priority__ = 1000  # make ndarray.__add__(tensor) defer to Tensor.__radd__

    def __init__(self, *args, **kwargs):
        # Legacy constructor: Tensor(2, 3) -> uninitialised float tensor; Tensor([1, 2]).
        from ember._ops.creation import _legacy_new

        t = _legacy_new(args, kwargs)
        self._data = t._data
        self._requires_grad = False
        self._grad_fn = None
        self._grad = None
        self._vc = None
        self._base = None
        self._meta = None

    # ``Tensor._wrap(array)`` wraps a raw backend array without copying (no grad): it is
    # ``make_tensor``, attached below the class.

    # -- function-level interception (NOTE [ Installing function-level interception ]) --
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        from ember.overrides import _default_torch_function

        return _default_torch_function(cls, func, types, args, kwargs)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        from ember.overrides import _subclass_defined

        _subclass_defined(cls)

    def as_subclass(self, cls):
        """This tensor's data, autograd history and version counter, as an instance of
        ``cls`` (a Tensor subclass), without copying."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f"as_subclass(): cls must be a Tensor subclass, got {cls!r}")
        t = _new(cls)
        for s in Tensor.__slots__[:-1]:
            object.__setattr__(t, s, getattr(self, s))
        t._grad = None
        t._meta = None
        return t

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return D.FROM_NP[self._data.dtype]

    @property
    def device(self):
        d = self._data
        if d.__class__ is _ndarray:
            return CPU
        return device_of_array(d)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def is_sparse(self):
        # NOTE [ Sparse COO tensors ] (_sparse.py): the layout is the class of the raw array
        return self._data.__class__ in SPARSE_TYPES

    @property
    def is_quantized(self):
        return False

    @property
    def is_meta(self):
        return self.device.type == "meta"

    @property
    def layout(self):
        d = self._data
        return SPARSE_TYPES[d.__class__] if d.__class__ in SPARSE_TYPES else D.strided

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        d = self._data
        if d.size == 0:
            # NumPy reports arbitrary (often zero) strides for empty arrays; PyTorch gives the
            # contiguous strides, computed with every size clamped to at least 1.
            st, acc = [], 1
            for n in reversed(d.shape):
                st.append(acc)
                acc *= max(n, 1)
            st = tuple(reversed(st))
        else:
            isz = d.itemsize
            st = tuple(s // isz for s in d.strides)
        if dim is None:
            return st
        return st[_wrap_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self):
        """Offset (in elements) of the first element from the start of the memory block."""
        d = self._data
        ptr = d.__array_interface__["data"][0]
        starts = []
        root = d
        while isinstance(root.base, np.ndarray):  # the array that owns the memory
            root = root.base
        starts.append(root.__array_interface__["data"][0])
        if self._base is not None:  # e.g. memory re-mapped into shared memory as one block
            starts.append(self._base._data.__array_interface__["data"][0])
        return max(0, (ptr - min(starts)) // d.itemsize)

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def is_contiguous(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        d = self._data
        if d.flags.c_contiguous:
            return True
        # PyTorch ignores strides of size-1 dims; NumPy usually does too, but not always.
        expected = 1
        for n, s in zip(reversed(d.shape), reversed(d.strides)):
            if n != 1 and s != expected * d.itemsize:
                return False
            expected *= n
        return True

    def is_floating_point(self):
        return self._data.dtype.kind == "f" or self.dtype is D.bfloat16

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def is_signed(self):
        return self.dtype.is_signed

    def type(self, dtype=None, non_blocking=False):  # noqa: ARG002 - a host-transfer hint: no effect on results
        if dtype is None:
            return "torch." + self.dtype._short + "Tensor"
        if isinstance(dtype, str):
            dtype = _dtype_from_type_string(dtype)
        elif isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), D.dtype):
            dtype = dtype.dtype  # a legacy type: t.type(ember.FloatTensor)
        return self.to(D.to_dtype(dtype))

    def get_device(self):
        return -1

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------ autograd fields
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(bool(value))

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return self
        if requires_grad and self._data.dtype.kind not in "fc" and self.dtype is not D.bfloat16:
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients "
                f"(got {self.dtype})")
        self._requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        g = self._grad_fn
        return g[0] if g.__class__ is tuple else g

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad(self):
        if self._grad_fn is not None and not self._meta_get("retains_grad") and GRAD.enabled:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: expected "
                                   f"{list(self.shape)}, got {list(value.shape)}")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: expected "
                                   f"{self.dtype}, got {value.dtype}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return bool(self._meta_get("retains_grad"))

    def _meta_get(self, key):
        m = self._meta
        return None if m is None else m.get(key)

    def _meta_set(self, key, value):
        if self._meta is None:
            self._meta = {}
        self._meta[key] = value

    @property
    def _version(self):
        """How many times this memory was modified in place (PyTorch's ``t._version``)."""
        c = self._vc
        return c[0] if c else 0

    def _bump(self):
        """Record an in-place modification (shared by all views of this memory)."""
        c = self._vc
        if c is None:
            self._vc = [1]
        else:
            c[0] += 1

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError("data must be a Tensor")
        self._data = value._data
        self._vc = None

    @property
    def _base_tensor(self):
        return self._base

    def detach(self):
        # Shares memory and the version counter (in-place changes through it are still seen
        # by saved-tensor checks) but is not an autograd view: in-place ops on it are allowed.
        t = Tensor._wrap(self._data)
        t._vc = self._share_version()
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad and self._grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def _share_version(self):
        c = self._vc
        if c is None:
            c = self._vc = [0]
        return c

    def retain_grad(self):
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._meta_get("retains_grad"):
            return
        self._meta_set("retains_grad", True)
        import weakref

        ref = weakref.ref(self)

        def _retain(grad):
            t = ref()
            if t is not None:
                g = grad.detach()
                if t._grad is None:
                    t._grad = Tensor._wrap(g._data.copy())
                else:
                    t._grad = Tensor._wrap(t._grad._data + g._data)
            return None

        self._hook_list().append(_retain)

    def _hook_list(self):
        g = self._grad_fn
        if g is None:
            hooks = self._meta_get("hooks")
            if hooks is None:
                hooks = []
                self._meta_set("hooks", hooks)
            return hooks
        node, nr = (g if g.__class__ is tuple else (g, 0))
        if node.pre_hooks is None:
            node.pre_hooks = {}
        return node.pre_hooks.setdefault(nr, [])

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor or None`` to run when this tensor's grad is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from ember._graph import _RemovableHandle

        lst = self._hook_list()
        # retain_grad's hook always runs last (PyTorch semantics), so insert before it.
        if lst and self._meta_get("retains_grad") and self._grad_fn is not None:
            lst.insert(len(lst) - 1, hook)
        else:
            lst.append(hook)
        return _RemovableHandle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)`` to run after a gradient was accumulated into ``.grad``.

        Only leaves that require grad have one (the engine calls these after accumulating).

        Example:
            >>> w = ember.ones(2, requires_grad=True)
            >>> h = w.register_post_accumulate_grad_hook(lambda p: print(p.grad))
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        from ember._graph import _RemovableHandle

        hooks = self._meta_get("post_accumulate_hooks")
        if hooks is None:
            hooks = []
            self._meta_set("post_accumulate_hooks", hooks)
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor w.r.t. graph leaves into their ``.grad``."""
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        d = self._data
        if d.__class__ is not _ndarray:
            if d.__class__ in SPARSE_TYPES:
                raise TypeError("can't convert Sparse layout tensor to numpy. Use "
                                "Tensor.to_dense() first.")
            dev = self.device
            if dev.type != "cpu":
                raise TypeError(f"can't convert {dev.type} device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
        if CONVERSION_HOOKS:
            CONVERSION_HOOKS[-1](self, "numpy", d)
        return d

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            # np.asarray(t) must not silently drop the graph (PyTorch refuses the same way).
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        a = self._data
        if a.__class__ in SPARSE_TYPES:
            raise TypeError("can't convert Sparse layout tensor to numpy. Use "
                            "Tensor.to_dense() first.")
        if CONVERSION_HOOKS:
            CONVERSION_HOOKS[-1](self, "numpy", a)
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        if copy:
            return a.copy()
        return a

    def item(self):
        if self._data.__class__ is not _ndarray and self.device.type == "meta":
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        v = self._data.reshape(()).item() if self._data.ndim else self._data.item()
        if self._data.dtype.kind == "V" or self.dtype is D.bfloat16:
            v = float(self._data.astype(np.float32).reshape(()))
        if CONVERSION_HOOKS:
            CONVERSION_HOOKS[-1](self, "item", v)
        return v

    def tolist(self):
        d = self._data
        if self.dtype is D.bfloat16:
            d = d.astype(np.float32)
        v = d.tolist()
        if CONVERSION_HOOKS:
            CONVERSION_HOOKS[-1](self, "tolist", v)
        return v

    def _scalar_value(self):
        # float()/int()/complex() raise ValueError for non-scalars in PyTorch (item(): Runtime).
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self):
        return float(self._scalar_value())

    def __int__(self):
        return int(self._scalar_value())

    def __complex__(self):
        return complex(self._scalar_value())

    def __bool__(self):
        n = self._data.size
        if n != 1:
            what = "no values" if n == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        v = bool(self._data.reshape(())[()])
        if CONVERSION_HOOKS:
            CONVERSION_HOOKS[-1](self, "bool", v)
        return v

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self):
        from ember._tensor_str import tensor_repr

        suffixes = []
        d = self.dtype
        data = self._data
        if data.__class__ is not _ndarray:
            if data.__class__ in SPARSE_TYPES:
                from ember._sparse import _repr

                return _repr(self)
            dev = self.device
            if dev.type != "meta":  # a device's values print from a host copy (PyTorch's)
                from ember._backends import backend_of

                data = backend_of(data).to_host(data)
                suffixes = [f"device='{dev}'"]
        if data.__class__ is not _ndarray:
            suffixes = [f"device='{dev}'", f"size={tuple(data.shape)}"]
            if d is not D.get_default_dtype():
                suffixes.append(f"dtype={d!r}")
            if self._grad_fn is not None:
                suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
            elif self._requires_grad:
                suffixes.append("requires_grad=True")
            if dev.type == "meta":
                return "tensor(..., " + ", ".join(suffixes) + ")"
        if data.size == 0 and data.shape != (0,):
            suffixes.append(f"size={tuple(data.shape)}")
        default = D.get_default_dtype()
        # Values print unambiguously for int64/bool/default complex, so PyTorch omits their
        # dtype; an empty tensor has no values, so only the default float dtype is implied.
        if data.size == 0:
            implied = d is default
        else:
            implied = d is default or d is D.int64 or d is D.bool_ or d is (
                D.complex128 if default is D.float64 else D.complex64)
        if not implied:
            suffixes.append(f"dtype={d!r}")
        if self._grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        if d is D.bfloat16:
            data = data.astype(np.float32)
        return tensor_repr(data, suffixes)

    __str__ = __repr__

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self):
        return iter(self.flip(0).unbind(0)) if self._data.ndim else iter([self])

    def __contains__(self, element):
        return bool((self == element).any())

    def __reduce_ex__(self, proto):
        from ember._ops.creation import _rebuild_tensor

        return (_rebuild_tensor, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        new = _new(type(self))
        for s in Tensor.__slots__[:-1]:
            object.__setattr__(new, s, None)
        new._data = self._data.copy()
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        if hasattr(self, "__dict__"):
            import copy

            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def __copy__(self):
        return self.__deepcopy__({})

    # dtype conversion shortcuts: PyTorch methods of the same names.
    def float(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.float32)

    def double(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.float64)

    def half(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.float16)

    def bfloat16(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.bfloat16)

    def long(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.int64)

    def int(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.int32)

    def short(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.int16)

    def char(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.int8)

    def byte(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.uint8)

    def bool(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.bool_)

    def cfloat(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.complex64)

    def cdouble(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to(D.complex128)

    def cpu(self, memory_format=None):  # noqa: ARG002 - a memory-format hint: results are the same in any format
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=None):  # noqa: ARG002 - memory_format: a layout hint
        """A copy of this tensor on a CUDA device (``self`` when it is already there).

        Args:
            device: an index, "cuda:N" or ``ember.device`` (None: the current device).
            non_blocking: allow an asynchronous copy (the copy may complete before return).
            memory_format: a layout hint; results are the same in any format.

        Example::

            >>> if ember.cuda.is_available():
            ...     assert ember.ones(2).cuda().is_cuda
        """
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        dev = check_device(device, routed=True)
        if dev.type != "cuda":
            raise RuntimeError(f"Invalid device, must be cuda device, got {dev}")
        return self.to(dev, non_blocking=non_blocking)

    def record_stream(self, stream):
        """Mark this CUDA tensor as used by ``stream``: its memory is not reused before the
        work queued on ``stream`` so far is done (for tensors made on one stream and used
        on another; NOTE [ Non-blocking copies ] in the CUDA backend).

        Args:
            stream: an ``ember.cuda.Stream``.

        Returns:
            None.

        Example::

            >>> if ember.cuda.is_available():
            ...     s = ember.cuda.Stream()
            ...     x = ember.ones(4, device="cuda")
            ...     with ember.cuda.stream(s):
            ...         y = x * 2
            ...     x.record_stream(s)
        """
        if self.device.type != "cuda":
            raise RuntimeError(f"record_stream: expected a CUDA tensor, got a tensor on "
                               f"{self.device}")
        from ember._backends import cupy_backend

        cupy_backend.record_stream(self._data, getattr(stream, "_s", stream))

    def pin_memory(self, device=None):  # noqa: ARG002 - device: deprecated in PyTorch, pinned memory serves every device
        """A copy of this CPU tensor in page-locked host memory (needs CUDA).

        Example::

            >>> if ember.cuda.is_available():
            ...     assert ember.ones(2).pin_memory().is_pinned()
        """
        from ember._device import pin_host

        if self._data.__class__ is not _ndarray:
            raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be "
                               "pinned")
        if self.is_pinned():
            return self
        return make_tensor(pin_host(self._data, "pin_memory"))

    def is_pinned(self, device=None):  # noqa: ARG002 - device: deprecated in PyTorch
        """Whether this tensor's memory is page-locked host memory.

        Example::

            >>> ember.ones(2).is_pinned()
            False
        """
        d = self._data
        if d.__class__ is not _ndarray:
            return False
        from ember._device import is_pinned_host

        return is_pinned_host(d)

    def share_memory_(self):
        """Move this tensor's memory into shared memory (in place); see ember.multiprocessing.

        The shared-memory storage lives with the process-sharing machinery; it is loaded on
        first use so that `import ember` stays light.
        """
        from ember.multiprocessing.reductions import share_memory_

        return share_memory_(self)

    def is_shared(self):
        """Whether this tensor's memory is shared between processes."""
        from ember.multiprocessing.reductions import is_shared

        return is_shared(self)

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``."""
        if not kwargs and len(args) == 1 and args[0] is self.dtype:
            return self  # the dtype it has: no argument parsing (~3 us of a small op's front)
        non_blocking = kwargs.get("non_blocking", False)
        if args and not non_blocking:  # to(device, dtype, non_blocking, copy): the first bool
            non_blocking = next((a for a in args if a.__class__ is bool), False)
        dtype, copy, dev = parse_to_args(args, kwargs, with_device=True)
        t = self
        if dev is not None and dev != self.device:
            from ember._ops.elementwise import to_device

            if non_blocking:  # only the host's wait changes (NOTE [ Non-blocking copies ])
                from ember._backends.cupy_backend import non_blocking as _nb

                with _nb():
                    t = to_device(self, dev)
            else:
                t = to_device(self, dev)
            copy = False
        if dtype is None or D.to_dtype(dtype) is t.dtype:
            if copy:
                return t.clone()
            return t
        from ember._ops.elementwise import _to_dtype

        return _to_dtype(t, D.to_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ember._ops.creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=self.device if device is None
                      else device, requires_grad=requires_grad)

    def _new_factory(name):
        def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
            from ember._ops import creation

            return getattr(creation, name)(*size, dtype=dtype or self.dtype,
                                           device=self.device if device is None else device,
                                           requires_grad=requires_grad, **kw)

        method.__name__ = "new_" + name
        return method

    new_zeros = _new_factory("zeros")
    new_ones = _new_factory("ones")
    new_empty = _new_factory("empty")

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False,
                 layout=None, pin_memory=False):
        from ember._ops.creation import full

        return full(size, fill_value, dtype=dtype or self.dtype,
                    device=self.device if device is None else device, requires_grad=requires_grad,
                    layout=layout, pin_memory=pin_memory)

    del _new_factory

    @property
    def T(self):
        n = self._data.ndim
        return self.permute(*range(n - 1, -1, -1)) if n > 1 else self

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T.conj() if self.is_complex() else self.T

    @property
    def mH(self):
        return self.mT.conj() if self.is_complex() else self.mT

    @property
    def names(self):
        return (None,) * self._data.ndim

    # ------------------------------------------------------------------ legacy and modes
    def new(self, *args, device=None, **kwargs):
        """Legacy constructor with this tensor's dtype: ``t.new(2, 3)``, ``t.new([1, 2])``.

        Args:
            *args: nothing (empty tensor), sizes (ints or one ``Size``; uninitialised), one
                sequence of data, or one tensor of the same dtype (returned as is).
            device: None or the CPU.

        Returns:
            Tensor: of ``self.dtype``.

        Example::

            >>> ember.ones(1, dtype=ember.int64).new([1.5, 2]).tolist()
            [1, 2]
        """
        from ember._legacy_types import construct

        return construct("new", self.dtype, args, device, kwargs)

    def is_inference(self):
        """Whether this is an inference tensor: always False in ember.

        PyTorch marks tensors created under ``inference_mode`` and forbids them in autograd
        later; ember's ``inference_mode`` is ``no_grad`` and its tensors carry no such
        restriction, so none is an inference tensor (code that clones when this is True
        simply does not need to). Marking them was decided against on cost: either every op
        inside ``inference_mode`` goes through a dispatch mode (a no-op mode takes ``a + b``
        from 0.75 to 1.45 us, benchmarks/RESULTS.md), making inference mode slower than
        ``no_grad``, or every op's output and every saved tensor pays a flag test outside it.

        Example::

            >>> with ember.inference_mode():
            ...     t = ember.ones(1)
            >>> t.is_inference()
            False
        """
        return False


_new = object.__new__

# raw-array classes of sparse layouts -> layout name (filled by ember/_sparse.py)
SPARSE_TYPES: dict = {}


def make_tensor(data):
    """The one place a Tensor object is built: wrap a raw backend array (no copy, no grad).

    Every op output, view, creation result and ``Tensor._wrap`` goes through here, so a new
    slot or a new backend touches one function (NOTE [ The dispatch spine ] in _ops/core.py).

    NOTE [ Hot path ]: the three per-op paths (``core._emit`` and the unary/binary family
    fast paths in ``_ops/elementwise.py``) repeat these seven slot stores inline; a call costs
    ~7% of ``a + b`` (measured with benchmarks/ab.py). tests/test_dispatch.py checks that
    their tensors carry exactly the slots this function sets.
    """
    t = _new(Tensor)
    t._data = data
    t._requires_grad = False
    t._grad_fn = None
    t._grad = None
    t._vc = None
    t._base = None
    t._meta = None
    return t


Tensor._wrap = staticmethod(make_tensor)

_DEVICES = {}


def device_of_array(array):
    """The ``ember.device`` of a raw array, from the backend that owns it."""
    from ember._backends import backend_of

    b = backend_of(array)
    dev = _DEVICES.get(b)
    if dev is None:
        of = getattr(b, "device_of", None)
        if of is not None:  # backends with several devices (CUDA) ask the array
            return of(array)
        from ember._device import device

        dev = _DEVICES[b] = CPU if b.device_type == "cpu" else \
            device(b.device_type, getattr(b, "device_index", None))
    return dev


def parse_to_args(args, kwargs, allow_copy=True, with_device=False):
    """The arguments of ``to(...)`` (Tensor.to and Module.to): returns (dtype, copy).

    Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` and the
    keywords; a device other than the CPU raises, as ember has no other yet.
    """
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False) if allow_copy else False
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: unexpected "
                        f"keyword(s) {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
            dev = a.device
        elif isinstance(a, D.dtype):
            dtype = a
        elif a is None or isinstance(a, bool):
            continue
        else:
            dev = a
    if dev is not None:
        dev = check_device(dev, routed=with_device)
    if with_device:
        return dtype, copy, dev
    return dtype, copy


def _autograd_backward(*args, **kwargs):
    # Bound on first use: ember.autograd sits above this module (layering).
    global _autograd_backward
    from ember.autograd import backward

    _autograd_backward = backward
    return backward(*args, **kwargs)


class Size(tuple):
    """``torch.Size``: a tuple of ints with a PyTorch-style repr."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):  # (1,) + Size: Python asks the subclass first
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


def _dtype_from_type_string(name):
    """``t.type("torch.LongTensor")`` and friends; CUDA type names need a GPU."""
    if name.startswith("torch.cuda."):
        from ember._device import check_device

        check_device("cuda")
    short = name.rsplit(".", 1)[-1]
    if short.endswith("Tensor"):
        short = short[: -len("Tensor")]
        for d in D.ALL:
            if d._short == short:
                return d
    raise ValueError(f"invalid type: '{name}'")


def _wrap_dim(dim, ndim, op="op"):
    """Normalise a possibly negative dim, raising IndexError like PyTorch."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        if dim.__class__ is not int or not -2 ** 63 <= dim < 2 ** 63:
            from ember._ops.args import int_arg  # PyTorch's TypeError/ValueError

            int_arg(op, "dim", dim)
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
