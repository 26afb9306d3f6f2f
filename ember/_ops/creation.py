"""Creation ops: tensor/as_tensor/from_numpy, zeros/ones/full/empty, ranges, eye, random."""

from __future__ import annotations

import numbers

import numpy as np

from ember import _dtype as D
from ember._device import check_device
from ember._graph import GRAD
from ember._ops.core import FUNCTIONS, METHODS, write_out
from ember._random import _gen
from ember._tensor import Tensor

xp = np


def _infer_np_dtype(data):
    """PyTorch's dtype inference for Python data: floats take the default dtype."""
    arr = np.asarray(data)
    k = arr.dtype.kind
    if k == "f":
        return arr, D.get_default_dtype().np
    if k == "c":
        return arr, D.default_complex().np
    if k in "iu":
        return arr, np.int64 if k == "i" or arr.dtype.itemsize >= 8 else arr.dtype
    if k == "b":
        return arr, np.bool_
    if k == "O":
        raise TypeError(f"Could not infer dtype of {type(_first(data)).__name__}")
    raise TypeError(f"can't convert data of type {arr.dtype} to a tensor")


def _first(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _to_array(data, dtype):
    """Convert Python data / arrays / tensors to a fresh NumPy array of the right dtype."""
    if isinstance(data, Tensor):
        arr = data._data
        return arr.astype(dtype.np) if dtype is not None else arr.copy()
    if isinstance(data, np.ndarray):
        if dtype is None:
            D.from_np(data.dtype)  # raises TypeError for unsupported dtypes
            return data.copy()
        return data.astype(dtype.np)
    if isinstance(data, (list, tuple)) and _has_tensor(data):
        data = _detensor(data)
    if isinstance(data, str) or (isinstance(data, (list, tuple)) and _has_str(data)):
        raise TypeError(f"new(): invalid data type '{type(_first(data)).__name__}'")
    try:
        if dtype is not None:
            return np.array(data, dtype=dtype.np)
        arr, npd = _infer_np_dtype(data)
    except ValueError as e:
        raise ValueError(f"expected sequence of equal-length lists ({e})") from None
    return arr.astype(npd, copy=True)


def _has_tensor(data):
    return any(isinstance(x, Tensor) or (isinstance(x, (list, tuple)) and _has_tensor(x))
               for x in data)


def _has_str(data):
    return any(isinstance(x, str) or (isinstance(x, (list, tuple)) and _has_str(x))
               for x in data)


def _detensor(data):
    out = []
    for x in data:
        if isinstance(x, Tensor):
            out.append(x.tolist())
        elif isinstance(x, (list, tuple)):
            out.append(_detensor(x))
        else:
            out.append(x)
    return out


def _finish(arr, requires_grad):
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Copy ``data`` (list, number, ndarray, Tensor) into a new leaf tensor."""
    check_device(device)
    dt = D.to_dtype(dtype) if dtype is not None else None
    return _finish(_to_array(data, dt), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a Tensor or ndarray when no conversion is needed."""
    check_device(device)
    dt = D.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        return data if dt is None or dt is data.dtype else data.to(dt)
    if isinstance(data, np.ndarray) and (dt is None or dt.np == data.dtype):
        D.from_np(data.dtype)
        return Tensor._wrap(data)
    return Tensor._wrap(_to_array(data, dt))


asarray = as_tensor


def from_numpy(ndarray):
    """Zero-copy: the tensor and the array share memory in both directions."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_np(ndarray.dtype)
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte "
                         "order. Conversion between byte orders is currently not supported.")
    return Tensor._wrap(ndarray)


def _size(size, name):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{name}(): Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _dt(dtype, default=None):
    if dtype is None:
        return (default or D.get_default_dtype()).np
    return D.to_dtype(dtype).np


def _filled(name, fill):
    def f(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
        check_device(device)
        shape = _size(size, name)
        arr = fill(shape, _dt(dtype, out.dtype if out is not None else None))
        if out is not None:
            return write_out(name, out, Tensor._wrap(arr))
        return _finish(arr, requires_grad)

    f.__name__ = name
    return f


zeros = _filled("zeros", np.zeros)
ones = _filled("ones", np.ones)
empty = _filled("empty", np.zeros)  # zero-filled: no uninitialised memory leaks out


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    check_device(device)
    shape = _size((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    if dtype is None:
        if isinstance(fill_value, Tensor):
            fill_value = fill_value.item()
        dtype = D.scalar_dtype(fill_value)
    arr = np.full(shape, fill_value, dtype=_dt(dtype))
    if out is not None:
        return write_out("full", out, Tensor._wrap(arr))
    return _finish(arr, requires_grad)


def _like(name, fill):
    def f(input, *, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None):
        check_device(device)
        arr = fill(input._data.shape, _dt(dtype, input.dtype))
        return _finish(arr, requires_grad)

    f.__name__ = name
    return f


zeros_like = _like("zeros_like", np.zeros)
ones_like = _like("ones_like", np.ones)
empty_like = _like("empty_like", np.zeros)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    check_device(device)
    return _finish(np.full(input._data.shape, fill_value, _dt(dtype, input.dtype)),
                   requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(f"arange(): upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in vals) else D.int64
    dt = D.to_dtype(dtype)
    # PyTorch computes the length in double precision, then value i as start + i * step.
    n = int(np.ceil((end - start) / step))
    arr = (start + np.arange(n, dtype=np.float64 if dt.category >= D.FLOAT else np.int64)
           * step).astype(dt.np)
    if out is not None:
        return write_out("arange", out, Tensor._wrap(arr))
    return _finish(arr, requires_grad)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated ``torch.range``: inclusive of ``end``."""
    if end is None:
        start, end = 0, start
    n = int(np.floor((end - start) / step)) + 1
    arr = (start + np.arange(n) * step).astype(_dt(dtype))
    return _finish(arr, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    check_device(device)
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    arr = np.linspace(float(start), float(end), int(steps), dtype=np.float64).astype(_dt(dtype))
    return _finish(arr, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    check_device(device)
    arr = np.logspace(float(start), float(end), int(steps), base=base).astype(_dt(dtype))
    return _finish(arr, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    check_device(device)
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    arr = np.eye(n, m if m is not None else n, dtype=_dt(dtype))
    if out is not None:
        return write_out("eye", out, Tensor._wrap(arr))
    return _finish(arr, requires_grad)


# ----------------------------------------------------------------------------- random
def _float_np(dtype):
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if dt.category != D.FLOAT:
        raise RuntimeError(f"random floats are not implemented for dtype {dt}")
    return dt.np


def _sample(arr_f32_or_64, npd):
    return arr_f32_or_64 if arr_f32_or_64.dtype == npd else arr_f32_or_64.astype(npd)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    check_device(device)
    npd = _float_np(dtype)
    g = _gen(generator)
    arr = g.random(_size(size, "rand"), dtype=np.float64 if npd == np.float64 else np.float32)
    return _finish(_sample(arr, npd), requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    check_device(device)
    npd = _float_np(dtype)
    g = _gen(generator)
    arr = g.standard_normal(_size(size, "randn"),
                            dtype=np.float64 if npd == np.float64 else np.float32)
    return _finish(_sample(arr, npd), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    check_device(device)
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    arr = _gen(generator).integers(low, high, _size((tuple(size),), "randint"), dtype=np.int64)
    return _finish(arr.astype(_dt(dtype, D.int64)), requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    check_device(device)
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    return _finish(_gen(generator).permutation(n).astype(_dt(dtype, D.int64)), requires_grad)


def rand_like(input, *, dtype=None, generator=None, **kw):
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator,
                requires_grad=kw.get("requires_grad", False))


def randn_like(input, *, dtype=None, generator=None, **kw):
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator,
                 requires_grad=kw.get("requires_grad", False))


def randint_like(input, low=0, high=None, *, dtype=None, generator=None, **kw):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   generator=generator)


def _fill_random(self, arr):
    if GRAD.enabled and self._requires_grad and self._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    self._data[...] = arr
    self._bump()
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _fill_random(self, _gen(generator).uniform(a, b, self._data.shape))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_random(self, _gen(generator).normal(mean, std, self._data.shape))


def bernoulli_(self, p=0.5, *, generator=None):
    p = p._data if isinstance(p, Tensor) else p
    return _fill_random(self, _gen(generator).random(self._data.shape) < p)


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill_random(self, _gen(generator).exponential(1.0 / lambd, self._data.shape))


def random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        if self._data.dtype.kind in "iu":
            to = int(np.iinfo(self._data.dtype).max) + 1
        else:
            to = 2 ** (np.finfo(self._data.dtype).nmant + 1)
        if from_ != 0:
            from_, to = 0, from_
    return _fill_random(self, _gen(generator).integers(from_, to, self._data.shape))


def bernoulli(input, p=None, *, generator=None, out=None):
    probs = input._data if p is None else np.full(input._data.shape, p)
    arr = (_gen(generator).random(input._data.shape) < probs).astype(input._data.dtype)
    return Tensor._wrap(arr)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False):
    g = _gen(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        ref = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        return Tensor._wrap((m + s * g.standard_normal(shape)).astype(ref._data.dtype))
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    arr = g.normal(mean, std, _size((tuple(size),), "normal")).astype(_dt(dtype))
    return _finish(arr, requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    p = input._data.astype(np.float64)
    if (p < 0).any() or not np.isfinite(p).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    single = p.ndim == 1
    p2 = p.reshape(-1, p.shape[-1])
    if not replacement and num_samples > p2.shape[-1]:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           "without replacement")
    g = _gen(generator)
    rows = []
    for row in p2:
        tot = row.sum()
        if tot <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                               "probabilities <= 0)")
        rows.append(g.choice(row.size, size=num_samples, replace=replacement, p=row / tot))
    arr = np.stack(rows).astype(np.int64)
    return Tensor._wrap(arr[0] if single else arr.reshape(p.shape[:-1] + (num_samples,)))


for _n in ("uniform_", "normal_", "bernoulli_", "exponential_", "random_"):
    METHODS[_n] = globals()[_n]
METHODS["bernoulli"] = bernoulli
METHODS["multinomial"] = multinomial

for _f in (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, zeros_like,
           ones_like, empty_like, full_like, arange, linspace, logspace, eye, rand, randn,
           randint, randperm, rand_like, randn_like, randint_like, bernoulli, normal,
           multinomial):
    FUNCTIONS[_f.__name__] = _f
FUNCTIONS["range"] = range_


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or D.get_default_dtype(), requires_grad=requires_grad)


FUNCTIONS["scalar_tensor"] = scalar_tensor


def _legacy_new(args, kwargs):
    """``Tensor(2, 3)`` (uninitialised float tensor) or ``Tensor([1., 2.])`` (float copy)."""
    if not args:
        return zeros(0)
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        a = args[0]
        if isinstance(a, Tensor):
            return a
        return Tensor._wrap(_to_array(a, D.get_default_dtype()))
    return zeros(*args)


def _rebuild_tensor(data, requires_grad):
    t = Tensor._wrap(np.array(data))
    t._requires_grad = requires_grad
    return t
