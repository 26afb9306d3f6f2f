"""A test backend whose arrays refuse every silent conversion to a host NumPy array.

It stands in for a GPU backend on machines without one (CuPy's arrays behave the same way:
NumPy functions reach them through ``__array_ufunc__``/``__array_function__``, and
``np.asarray(gpu_array)`` raises). Registered as the ``cuda`` device for the duration of a
test, it proves the backend seam: a forward that calls ``np.asarray`` or builds a host array
with a module-level NumPy function and mixes it with device data fails loudly here.
"""

from __future__ import annotations

import sys

import numpy as np

name = "strict"
device_type = "cuda"
device_index = 0


class StrictArray(np.lib.mixins.NDArrayOperatorsMixin):
    """A device array: data reachable only through NumPy's dispatch protocols."""

    __slots__ = ("a",)
    __array_priority__ = 2000

    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (strict test "
                        "backend): a computation moved device data to the host silently")

    def __repr__(self):
        return f"StrictArray({self.a!r})"

    # metadata
    shape = property(lambda self: self.a.shape)
    dtype = property(lambda self: self.a.dtype)
    ndim = property(lambda self: self.a.ndim)
    size = property(lambda self: self.a.size)
    strides = property(lambda self: self.a.strides)
    itemsize = property(lambda self: self.a.itemsize)
    nbytes = property(lambda self: self.a.nbytes)
    flags = property(lambda self: self.a.flags)
    base = property(lambda self: None if self.a.base is None else _wrap(self.a.base))
    T = property(lambda self: _wrap(self.a.T))
    real = property(lambda self: _wrap(self.a.real))
    imag = property(lambda self: _wrap(self.a.imag))

    def __len__(self):
        return len(self.a)

    def item(self, *args):  # an explicit transfer of one value, allowed (CuPy allows it)
        return self.a.item(*args)

    def tolist(self):
        return self.a.tolist()

    def __bool__(self):
        return bool(self.a)

    def __float__(self):
        return float(self.a)

    def __int__(self):
        return int(self.a)

    def __index__(self):
        return self.a.__index__()

    def __getitem__(self, key):
        return _wrap(self.a[_unwrap(key)])

    def __setitem__(self, key, value):
        self.a[_unwrap(key)] = _unwrap(value)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        target = getattr(self.a, attr)
        if not callable(target):
            return _wrap(target)

        def method(*args, **kwargs):
            return _wrap(target(*_unwrap(args), **_unwrap(kwargs)))

        return method

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _check_no_host_arrays(ufunc.__name__, inputs)
        out = kwargs.get("out")
        r = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(r)

    def __array_function__(self, func, types, args, kwargs):
        _check_no_host_arrays(func.__name__, args)
        r = func(*_unwrap(args), **_unwrap(kwargs))
        if func is np.copyto:
            return None
        return _wrap(r)


def _check_no_host_arrays(fname, args):
    """Host arrays with more than one element mixed into device computations are the silent
    transfers this backend exists to find (0-d values are scalars, as CuPy allows)."""
    for a in _flat(args):
        if isinstance(a, np.ndarray) and a.ndim > 0:
            raise TypeError(f"strict backend: {fname}() mixes a host NumPy array "
                            f"{a.dtype}{list(a.shape)} with device arrays")


def _flat(obj):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _flat(o)
    else:
        yield obj


def _unwrap(obj):
    if isinstance(obj, StrictArray):
        return obj.a
    if isinstance(obj, tuple):
        return tuple(_unwrap(o) for o in obj)
    if isinstance(obj, list):
        return [_unwrap(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, np.ndarray):
        return StrictArray(obj)
    if isinstance(obj, np.generic):  # device reductions give 0-d device arrays (as CuPy)
        return StrictArray(np.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class _Namespace:
    """The backend's ``xp``: NumPy's functions, with creation returning device arrays."""

    ndarray = StrictArray

    def __getattr__(self, attr):
        f = getattr(np, attr)
        if not callable(f) or isinstance(f, (type, np.ufunc)):
            return f  # dtypes, constants; ufuncs reach StrictArray through the protocol
        return lambda *a, **k: _wrap(f(*_unwrap(a), **_unwrap(k)))


xp = _Namespace()


def from_host(array):
    return StrictArray(np.array(array))


def to_host(array):
    return array.a.copy()


def factory(op, params, shape_dtype):
    """Creation records: run the record's NumPy forward, then move the result here."""
    return StrictArray(op.fwd(*params))


def __getattr__(kernel):
    """Kernels NumPy lacks (erf, masked_select_zero, scatter_add, ...): the NumPy backend's,
    on the host copies, results moved back (a real GPU backend brings its own)."""
    from ember._backends import numpy_backend

    f = getattr(numpy_backend, kernel)

    def call(*args, **kwargs):
        return _wrap(f(*_unwrap(args), **_unwrap(kwargs)))

    return call


def _fixture():
    import pytest

    from ember import _tensor
    from ember._backends import register_backend, unregister_backend

    @pytest.fixture
    def strict():
        """This backend registered as the ``cuda`` device for one test."""
        register_backend(sys.modules[__name__], [StrictArray])
        _tensor._DEVICES.clear()
        try:
            yield
        finally:
            unregister_backend(sys.modules[__name__])
            _tensor._DEVICES.clear()

    return strict


strict = _fixture()
