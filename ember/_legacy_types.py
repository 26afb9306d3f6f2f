"""PyTorch's legacy typed constructors: ``ember.FloatTensor(2, 3)``, ``LongTensor([1, 2])``.

NOTE [ Legacy tensor types ]
In PyTorch ``torch.FloatTensor`` is not a subclass of ``Tensor`` but an instance of a
metaclass: calling it builds an ordinary ``Tensor`` of its dtype, and ``isinstance(t,
torch.FloatTensor)`` asks whether ``t`` is a CPU float32 tensor. The same here:
``_TensorType.__call__`` builds the tensor and ``__instancecheck__`` compares dtypes.

Example::

    >>> import ember
    >>> ember.LongTensor([1.7, 2]).tolist(), tuple(ember.FloatTensor(2, 3).shape)
    ([1, 2], (2, 3))
    >>> isinstance(ember.zeros(2), ember.FloatTensor)
    True
"""

from __future__ import annotations

import numbers

from ember import _dtype as D
from ember._tensor import Size, Tensor

__all__ = ["BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor",
           "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor"]


class _TensorType(type):
    """Metaclass of the legacy typed constructors (NOTE [ Legacy tensor types ])."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None, **kwargs):
        return construct(cls.__name__, cls.dtype, args, device, kwargs)

    def __repr__(cls):
        return f"<class 'ember.{cls.__name__}'>"


def construct(name, dtype, args, device=None, kwargs=None):
    """PyTorch's legacy ``new(...)`` rules, for typed constructors and ``Tensor.new``.

    Args:
        name: the caller's name, for messages.
        dtype: the result dtype.
        args: ``()`` (empty), sizes (ints or one ``Size``), one sequence of data, or one
            tensor of ``dtype`` (returned as is).
        device: None or a CPU device.
        kwargs: any other keyword arguments (refused with TypeError, as PyTorch).

    Returns:
        Tensor.

    Example::

        >>> construct("new", ember.float64, (2,)).dtype
        torch.float64
    """
    from ember._device import check_device
    from ember._ops import creation

    if kwargs:
        raise TypeError(f"{name}(): unexpected keyword argument(s) "
                        f"{', '.join(sorted(kwargs))}; only device= is accepted")
    check_device(device)
    if not args:
        return creation.empty(0, dtype=dtype)
    if len(args) == 1 and isinstance(args[0], Size):
        return creation.empty(*args[0], dtype=dtype)
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return creation.empty(*args, dtype=dtype)  # sizes
    if len(args) > 1:
        raise TypeError(f"{name}(): expected sizes (ints), a torch.Size or one sequence "
                        f"of data, got {tuple(type(a).__name__ for a in args)}")
    data = args[0]
    if isinstance(data, Tensor):
        if data.dtype is not dtype:
            raise TypeError(f"{name}(): expected a tensor of dtype {dtype}, got one of "
                            f"dtype {data.dtype}")
        return data  # PyTorch returns the same tensor (an alias)
    if isinstance(data, (str, bytes)) or not hasattr(data, "__len__") and not hasattr(
            data, "__array__"):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return creation.tensor(data, dtype=dtype)


def _make(name, dtype):
    doc = (f"Legacy constructor of {dtype} tensors: ``{name}(*sizes)`` (uninitialised), "
           f"``{name}(data)``, ``{name}()``; ``isinstance(t, {name})`` tests the dtype.")
    return _TensorType(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False,
                                  "__doc__": doc, "__module__": "ember"})


FloatTensor = _make("FloatTensor", D.float32)
DoubleTensor = _make("DoubleTensor", D.float64)
HalfTensor = _make("HalfTensor", D.float16)
BFloat16Tensor = _make("BFloat16Tensor", D.bfloat16)
LongTensor = _make("LongTensor", D.int64)
IntTensor = _make("IntTensor", D.int32)
ShortTensor = _make("ShortTensor", D.int16)
CharTensor = _make("CharTensor", D.int8)
ByteTensor = _make("ByteTensor", D.uint8)
BoolTensor = _make("BoolTensor", D.bool_)
del _make
