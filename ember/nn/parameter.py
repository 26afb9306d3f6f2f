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
