"""Creation ops: tensor/as_tensor/from_numpy, zeros/ones/full/empty, ranges, eye, random."""

from __future__ import annotations

import numbers
from collections import abc as _abc

import numpy as np

from ember import _dtype as D
from ember._backends import empty_on, xp_of
from ember._device import factory_device
from ember._graph import GRAD
from ember._ops.args import layout_arg
from ember._ops.core import FUNCTIONS, METHODS, OpDef, dispatch, write_out
from ember._random import _gen
from ember._tensor import Tensor
from ember._ops.outarg import with_out

xp = np


_PY_NUMBERS = frozenset((int, float, bool, complex))
_SEQ = (list, tuple)


def _infer_np_dtype(arr):
    """PyTorch's dtype for an array NumPy built from Python numbers: floats take the default
    dtype, complex the default complex type, ints int64."""
    k = arr.dtype.kind
    if k == "f":
        return D.get_default_dtype().np
    if k == "c":
        return D.default_complex().np
    if k == "i":
        return np.int64
    if k == "b":
        return np.bool_
    # NumPy only picks uint64 (or object) for ints outside int64's range.
    raise ValueError("Overflow when unpacking long long")


def _leaf_types(seq, acc):
    """Collect the types of the non-sequence leaves of nested lists/tuples into ``acc``.

    One ``set(map(type, row))`` per innermost row keeps the scan at C speed for the common
    all-numbers case; only rows that hold sequences are walked in Python.
    """
    types = set(map(type, seq))
    if list in types or tuple in types:
        types.discard(list)
        types.discard(tuple)
        for x in seq:
            if x.__class__ in _SEQ or isinstance(x, _SEQ):
                _leaf_types(x, acc)
    acc |= types


def _leaf_dtype(x):
    if x.__class__ in _PY_NUMBERS:
        return D.scalar_dtype(x)
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return D.from_np(x.dtype)
    if isinstance(x, str):
        raise TypeError("new(): invalid data type 'str'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _seq_dtype(data):
    """The promoted dtype of every leaf (PyTorch infers it element by element)."""
    out = None
    stack = [data]
    while stack:
        for x in stack.pop():
            if isinstance(x, _SEQ):
                stack.append(x)
            else:
                d = _leaf_dtype(x)
                out = d if out is None else D.promote_types(out, d)
    return out


def _detensor(data):
    """Nested sequences with Tensors/arrays inside -> nested lists NumPy can read."""
    out = []
    for x in data:
        if isinstance(x, Tensor):
            out.append(x.tolist())
        elif isinstance(x, _SEQ):
            out.append(_detensor(x))
        else:
            out.append(x)
    return out


def _ragged_error(data):
    """The error PyTorch gives for nested sequences that do not form a rectangle."""
    shape = []
    x = data
    while isinstance(x, _SEQ):
        shape.append(len(x))
        if not x:
            break
        x = x[0]

    def check(x, dim):
        if dim == len(shape):
            if isinstance(x, _SEQ):
                return TypeError(f"'{type(x).__name__}' object cannot be interpreted as a "
                                 "number")
            return None
        if not isinstance(x, _SEQ):
            return TypeError("not a sequence")
        if len(x) != shape[dim]:
            return ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                              f"(got {len(x)})")
        for y in x:
            e = check(y, dim + 1)
            if e is not None:
                return e
        return None

    return check(data, 0) or ValueError("expected a rectangular nested sequence")


def _np_array(data, npd):
    """``np.array`` with PyTorch's errors for ragged data and out-of-range integers."""
    try:
        return np.array(data, dtype=npd)
    except OverflowError:
        raise RuntimeError(f"value cannot be converted to type {D.from_np(npd).name} without "
                           "overflow") from None
    except ValueError as e:
        if isinstance(data, _SEQ) and "inhomogeneous" in str(e) or "sequence" in str(e):
            raise _ragged_error(data) from None
        raise


def _from_ndarray(arr, dtype):
    if dtype is not None:
        return arr.astype(dtype.np)
    d = D.from_np(arr.dtype)  # raises TypeError for unsupported dtypes (strings, objects)
    # astype also converts dtypes ember lacks (uint16/32/64) to their widened type.
    return arr.astype(d.np, copy=True)


def _to_array(data, dtype):
    """Convert Python data / arrays / tensors to a fresh NumPy array of the right dtype."""
    if isinstance(data, Tensor):
        arr = data._data
        return arr.astype(dtype.np) if dtype is not None else arr.copy()
    if isinstance(data, (np.ndarray, np.generic)):
        # NumPy scalars keep their dtype like 0-d arrays (torch.tensor(np.float64(1)) is
        # float64), unlike Python floats.
        return _from_ndarray(np.asarray(data), dtype)
    if isinstance(data, _SEQ):
        leaves = set()
        _leaf_types(data, leaves)
        if not leaves <= _PY_NUMBERS:
            # Tensors, NumPy scalars/arrays or invalid leaves: PyTorch promotes the dtypes of
            # all leaves (a float64 0-dim tensor in a list gives a float64 result).
            inferred = _seq_dtype(data)
            dtype = dtype or inferred or D.get_default_dtype()
            return _np_array(_detensor(data), dtype.np)
    elif data.__class__ not in _PY_NUMBERS and not isinstance(data, (int, float, complex)):
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if isinstance(data, _abc.Sequence):
            data = list(data)  # range and other sequence types
        else:
            raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    if dtype is not None:
        return _np_array(data, dtype.np)
    arr = _np_array(data, None)
    if arr.dtype.kind == "O":  # ints beyond uint64, or other oddities
        raise ValueError("Overflow when unpacking long long")
    return arr.astype(_infer_np_dtype(arr), copy=False)


def _finish(arr, requires_grad):
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


# NOTE [ Factory records ]
# Functions that make a tensor from nothing (zeros, arange, eye, rand, ...) are records of
# kind "factory" with no tensor inputs: their attributes are the forward's arguments plus the
# device, last, which picks the backend (NOTE [ The dispatch spine ]). ``shape_rule`` gives
# (shape, dtype) from the attributes, so devices without data (meta) need no forward. Random
# factories are marked ``random=True``; their generator is an attribute (None: the default
# one), so replaying the record draws fresh values, as eager does.
def _factory_op(name, fwd, shape_rule, attrs, random=False):
    return OpDef(name, fwd, None, differentiable=False, kind="factory", random=random,
                 attrs=attrs + ("device",), shape_rule=shape_rule)


def _create(op, params, device, requires_grad):
    t = dispatch(op, (), params + (factory_device(device),))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape_dt(shape, dt, *rest):
    return shape, dt


_FILLED_FWD = {"zeros": np.zeros, "ones": np.ones, "empty": np.zeros}
_ZEROS, _ONES, _EMPTY = (
    _factory_op(n, _FILLED_FWD[n], _shape_dt, ("size", "dtype")) for n in ("zeros", "ones",
                                                                            "empty"))
_FULL = _factory_op("full", lambda shape, dt, v: np.full(shape, v, dtype=dt), _shape_dt,
                    ("size", "dtype", "fill_value"))


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Copy ``data`` (list, number, ndarray, Tensor) into a new leaf tensor."""
    dev = factory_device(device)
    dt = D.to_dtype(dtype) if dtype is not None else None
    t = _finish(_on_device(_to_array(data, dt), dev), requires_grad)
    return _pin(t, True) if pin_memory else t


def _pin(t, pin_memory):
    """``pin_memory=True``: move a new CPU tensor's data into page-locked host memory (CUDA's
    pinned allocator; PyTorch's RuntimeError without one)."""
    if not pin_memory:
        return t
    if t._data.__class__ is not np.ndarray:
        raise RuntimeError("Only dense CPU tensors can be pinned")
    from ember._device import pin_host

    t._data = pin_host(t._data, "factory")
    return t


def _on_device(arr, dev):
    """Host data placed on ``dev`` (the host array itself for the CPU)."""
    if dev.type == "cpu":
        return arr
    from ember._backends import for_device

    return for_device(dev.type).from_host(arr)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a Tensor or ndarray when no conversion is needed."""
    dt = D.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dt) if device is not None else \
            data if dt is None or dt is data.dtype else data.to(dt)
    dev = factory_device(device)
    if dev.type != "cpu":
        return Tensor._wrap(_on_device(_to_array(data, dt), dev))
    if isinstance(data, np.ndarray) and data.dtype in D.FROM_NP and (
            dt is None or dt.np == data.dtype):
        return Tensor._wrap(data)
    return Tensor._wrap(_to_array(data, dt))


asarray = as_tensor


def from_numpy(ndarray):
    """Zero-copy: the tensor and the array share memory in both directions."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte "
                         "order. Conversion between byte orders is currently not supported.")
    if ndarray.dtype not in D.FROM_NP:
        # Sharing memory needs the exact element type; ember has no uint16/32/64.
        raise TypeError(f"can't convert np.ndarray of type {ndarray.dtype}. The only supported "
                        "types are: float64, float32, float16, complex64, complex128, int64, "
                        "int32, int16, int8, uint8, and bool.")
    return Tensor._wrap(ndarray)


def _size(size, name):
    if not size:  # zeros(): PyTorch requires a size (zeros(()) is the 0-dim tensor)
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for pos, s in enumerate(size):
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        if not -2 ** 63 <= s < 2 ** 63:  # PyTorch's int[] parser: a TypeError naming the item
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos "
                            f"{pos + 1} with error \"Overflow when unpacking long long\"")
        if s < 0:
            raise RuntimeError(f"{name}(): Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _dt(dtype, default=None):
    if dtype is None:
        return (default or D.get_default_dtype()).np
    return D.to_dtype(dtype).np


def _sparse_zeros(name, size, dtype, device, requires_grad, out, pin_memory):
    """``zeros``/``empty`` with ``layout=sparse_coo``: a sparse tensor with no entries."""
    from ember._sparse import sparse_coo_tensor

    if out is not None:
        raise NotImplementedError(f"{name}(): out= with layout=torch.sparse_coo")
    shape = _size(size, name)
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    return sparse_coo_tensor(_zeros_index(len(shape)), zeros(0, dtype=dt), shape, device=device,
                             pin_memory=pin_memory, requires_grad=requires_grad)


def _zeros_index(ndim):
    return zeros(ndim, 0, dtype=D.int64)


def _filled(name, op):
    def f(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):  # noqa: ARG001 - memory_format: a layout hint, results are the same in any format
        # layout: checked here too, for callers past the front (Tensor.new_zeros)
        if layout is not None and layout_arg(name, "layout", layout, (
                (D.strided, D.sparse_coo) if name in ("zeros", "empty") else (D.strided,))
        ) is D.sparse_coo:
            return _sparse_zeros(name, size, dtype, device, requires_grad, out, pin_memory)
        shape = _size(size, name)
        params = (shape, _dt(dtype, out.dtype if out is not None else None))
        if out is not None:
            return write_out(name, out, _create(op, params, device, False))
        t = _create(op, params, device, requires_grad)
        return _pin(t, True) if pin_memory else t

    f.__name__ = name
    return f


zeros = _filled("zeros", _ZEROS)
ones = _filled("ones", _ONES)
empty = _filled("empty", _EMPTY)  # zero-filled: no uninitialised memory leaks out


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if layout is not None:  # the front checks it too; Tensor.new_full calls this directly
        layout_arg("full", "layout", layout)
    shape = _size((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = D.scalar_dtype(fill_value)
    params = (shape, _dt(dtype), fill_value)
    if out is not None:
        return write_out("full", out, _create(_FULL, params, device, False))
    t = _create(_FULL, params, device, requires_grad)
    return _pin(t, True) if pin_memory else t


def _like(name, op):
    def f(input, *, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: ARG001 - checked by the front (args.py: strided only)
          memory_format=None, pin_memory=False):  # noqa: ARG001 - a memory-format hint: results are the same in any format
        params = (input._data.shape, _dt(dtype, input.dtype))
        return _pin(_create(op, params, input.device if device is None else device,
                            requires_grad), pin_memory)

    f.__name__ = name
    return f


zeros_like = _like("zeros_like", _ZEROS)
ones_like = _like("ones_like", _ONES)
empty_like = _like("empty_like", _EMPTY)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: ARG001 - checked by the front (args.py: strided only)
              memory_format=None, pin_memory=False):  # noqa: ARG001 - a memory-format hint: results are the same in any format
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    params = (input._data.shape, _dt(dtype, input.dtype), fill_value)
    return _pin(_create(_FULL, params, input.device if device is None else device,
                        requires_grad), pin_memory)


def _arange_fwd(start, step, n, dt):
    return (start + np.arange(n, dtype=np.float64 if dt.kind in "fcV" else np.int64)
            * step).astype(dt)


_ARANGE = _factory_op("arange", _arange_fwd, lambda start, step, n, dt: ((n,), dt),
                      ("start", "step", "length", "dtype"))


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: ARG001 - checked by the front (args.py: strided only)
           requires_grad=False, pin_memory=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for v in vals:
        if not isinstance(v, numbers.Real):
            raise TypeError(f"arange(): argument 'end' must be Number, not {type(v).__name__}")
    if dtype is None:
        is_float = any(isinstance(v, (float, np.floating)) for v in vals)
        dtype = D.get_default_dtype() if is_float else D.int64
    dt = D.to_dtype(dtype)
    if dt.category <= D.INT:
        # An integer arange converts its bounds and step to integers first.
        vals = [int(v) for v in vals]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(f"arange(): upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    # PyTorch computes the length in double precision, then value i as start + i * step;
    # integer ranges are computed exactly (doubles lose precision beyond 2**53).
    if all(isinstance(v, numbers.Integral) for v in vals):
        n = -((start - end) // step)
    else:
        n = int(np.ceil((end - start) / step))
    params = (start, step, max(int(n), 0), dt.np)
    if out is not None:
        return write_out("arange", out, _create(_ARANGE, params, device, False))
    return _pin(_create(_ARANGE, params, device, requires_grad), pin_memory)


def range_(start=0, end=None, step=1, *, dtype=None, layout=None, device=None,  # noqa: ARG001 - layout: checked by the front (args.py: strided only)
           requires_grad=False, pin_memory=False):
    """Deprecated ``torch.range``: inclusive of ``end``."""
    if end is None:
        start, end = 0, start
    n = int(np.floor((end - start) / step)) + 1
    return _pin(_create(_RANGE, (start, step, max(n, 0), _dt(dtype)), device, requires_grad),
                pin_memory)


_RANGE = _factory_op("range", lambda start, step, n, dt: (start + np.arange(n) * step)
                     .astype(dt), lambda start, step, n, dt: ((n,), dt),
                     ("start", "step", "length", "dtype"))


_LINSPACE = _factory_op(
    "linspace", lambda a, b, n, dt: np.linspace(a, b, n, dtype=np.float64).astype(dt),
    lambda a, b, n, dt: ((n,), dt), ("start", "end", "steps", "dtype"))
_LOGSPACE = _factory_op(
    "logspace", lambda a, b, n, base, dt: np.logspace(a, b, n, base=base).astype(dt),
    lambda a, b, n, base, dt: ((n,), dt), ("start", "end", "steps", "base", "dtype"))
_EYE = _factory_op("eye", lambda n, m, dt: np.eye(n, m, dtype=dt),
                   lambda n, m, dt: ((n, m), dt), ("n", "m", "dtype"))


@with_out("linspace", dtype_from_out=True)
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,  # noqa: ARG001 - out= is written by @with_out
             requires_grad=False, pin_memory=False):
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    _real_ends("linspace", start, end)
    params = (float(start), float(end), int(steps), _dt(dtype))
    return _pin(_create(_LINSPACE, params, device, requires_grad), pin_memory)


def _real_ends(name, start, end):
    for arg, v in (("start", start), ("end", end)):
        if isinstance(v, complex) or getattr(getattr(v, "_data", None), "dtype", None) is not \
                None and v._data.dtype.kind == "c":
            raise NotImplementedError(f"{name}(): a complex '{arg}' is not supported by ember "
                                      "(complex ranges are not implemented)")


def logspace(start, end, steps, base=10.0, *, dtype=None, layout=None, device=None,  # noqa: ARG001 - layout: checked by the front (args.py: strided only)
             requires_grad=False, pin_memory=False):
    _real_ends("logspace", start, end)
    if steps < 0:
        raise RuntimeError("logspace(): number of steps must be non-negative")
    params = (float(start), float(end), int(steps), float(base), _dt(dtype))
    return _pin(_create(_LOGSPACE, params, device, requires_grad), pin_memory)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: ARG001 - checked by the front (args.py: strided only)
        pin_memory=False):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    params = (int(n), int(m if m is not None else n), _dt(dtype))
    if out is not None:
        return write_out("eye", out, _create(_EYE, params, device, False))
    return _pin(_create(_EYE, params, device, requires_grad), pin_memory)


# ----------------------------------------------------------------------------- random
def _random_floats(op, kernel, size, dtype, generator):
    """The attributes of a random float factory; see ``_draw_floats``."""
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if dt.category < D.FLOAT:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dt._short}\'')
    return (_size(size, op), dt.np, generator)


def _draw_floats(sample, shape, npdt, generator):
    """Draw ``sample(gen, shape, np_float_dtype)`` for a floating or complex dtype; complex
    tensors get independent real and imaginary parts, each of half the variance (PyTorch)."""
    dt = D.FROM_NP[np.dtype(npdt)]
    g = _gen(generator)
    real = dt.to_real()
    npf = np.float64 if real is D.float64 else np.float32
    arr = sample(g, shape, npf)
    if dt.category == D.COMPLEX:
        arr = arr + 1j * sample(g, shape, npf)
        if sample is _normal:  # unit variance overall, as for real normals
            arr *= np.sqrt(0.5)
    return arr.astype(dt.np, copy=False)


def _uniform(g, shape, npf):
    return g.random(shape, dtype=npf)


def _normal(g, shape, npf):
    return g.standard_normal(shape, dtype=npf)


_RAND = _factory_op("rand", lambda shape, dt, g: _draw_floats(_uniform, shape, dt, g),
                     _shape_dt, ("size", "dtype", "generator"), random=True)
_RANDN = _factory_op("randn", lambda shape, dt, g: _draw_floats(_normal, shape, dt, g),
                     _shape_dt, ("size", "dtype", "generator"), random=True)
_RANDINT = _factory_op(
    "randint", lambda shape, dt, g, lo, hi: _gen(g).integers(lo, hi, shape, dtype=np.int64)
    .astype(dt), _shape_dt, ("size", "dtype", "generator", "low", "high"), random=True)
_RANDPERM = _factory_op("randperm", lambda n, dt, g: _gen(g).permutation(n).astype(dt),
                        lambda n, dt, g: ((n,), dt), ("n", "dtype", "generator"), random=True)


@with_out("rand", dtype_from_out=True)
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,  # noqa: ARG001 - out= is written by @with_out
         requires_grad=False, pin_memory=False):
    params = _random_floats("rand", "check_uniform_bounds", size, dtype, generator)
    t = _create(_RAND, params, device, requires_grad)
    return _pin(t, True) if pin_memory else t


@with_out("randn", dtype_from_out=True)
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,  # noqa: ARG001 - out= is written by @with_out
          requires_grad=False, pin_memory=False):
    params = _random_floats("randn", "normal_kernel_cpu", size, dtype, generator)
    t = _create(_RANDN, params, device, requires_grad)
    return _pin(t, True) if pin_memory else t


@with_out("randint", dtype_from_out=True)
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,  # noqa: ARG001 - out= is written by @with_out
            device=None, requires_grad=False, pin_memory=False):
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, Tensor):
            v = v.item()
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"randint(): argument '{name}' must be int, not {type(v).__name__}")
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    params = (_size((tuple(size),), "randint"), _dt(dtype, D.int64), generator, low, high)
    return _pin(_create(_RANDINT, params, device, requires_grad), pin_memory)


@with_out("randperm", dtype_from_out=True)
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,  # noqa: ARG001 - out= is written by @with_out
             requires_grad=False, pin_memory=False):
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    return _pin(_create(_RANDPERM, (int(n), _dt(dtype, D.int64), generator), device,
                        requires_grad), pin_memory)


# The random *_like factories: the input's shape, dtype and device unless given (layout:
# strided only; memory_format: a hint, results are the same in any format).
def _like_kw(name, input, dtype, layout, device, requires_grad, pin_memory):
    layout_arg(name, "layout", layout)
    return dict(dtype=dtype or input.dtype, device=input.device if device is None else device,
                requires_grad=requires_grad, pin_memory=pin_memory)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None, pin_memory=False):  # noqa: ARG001 - memory_format: a hint
    return rand(*input.shape, generator=generator, **_like_kw(
        "rand_like", input, dtype, layout, device, requires_grad, pin_memory))


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None, pin_memory=False):  # noqa: ARG001 - memory_format: a hint
    return randn(*input.shape, generator=generator, **_like_kw(
        "randn_like", input, dtype, layout, device, requires_grad, pin_memory))


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None,  # noqa: ARG001 - memory_format: a hint
                 pin_memory=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator, **_like_kw(
        "randint_like", input, dtype, layout, device, requires_grad, pin_memory))


# In-place samplers are records that mutate their input (NOTE [ Factory records ]): the
# values are drawn on the host from the generator attribute and written into the tensor's
# memory on its own device; on ``meta`` there is nothing to write (the shape rule).
def _fill_fwd(draw):
    def fwd(x, *attrs):
        g, args = attrs[-1], attrs[:-1]
        x[...] = xp_of(x).asarray(draw(_gen(g), x.shape, *args))
        return x

    return fwd


def _fill_op(name, draw, attrs):
    return OpDef(name, _fill_fwd(draw), None, differentiable=False, mutates=(0,), random=True,
                 attrs=attrs + ("generator",), shape_rule=lambda x, *a: x)


_FILLS = {
    "uniform_": _fill_op("uniform_", lambda g, shape, a, b: g.uniform(a, b, shape),
                         ("from", "to")),
    "normal_": _fill_op("normal_", lambda g, shape, m, s: g.normal(m, s, shape),
                        ("mean", "std")),
    "bernoulli_": _fill_op("bernoulli_", lambda g, shape, p: g.random(shape) < p, ("p",)),
    "exponential_": _fill_op("exponential_",
                             lambda g, shape, lambd: g.exponential(1.0 / lambd, shape),
                             ("lambd",)),
    "random_": _fill_op("random_", lambda g, shape, lo, hi: g.integers(lo, hi, shape),
                        ("from", "to")),
    "geometric_": _fill_op("geometric_", lambda g, shape, p: g.geometric(p, shape), ("p",)),
    "log_normal_": _fill_op("log_normal_", lambda g, shape, m, s: g.lognormal(m, s, shape),
                            ("mean", "std")),
    "cauchy_": _fill_op("cauchy_",
                        lambda g, shape, m, s: m + s * g.standard_cauchy(shape),
                        ("median", "sigma")),
}


def _bernoulli_tensor_fwd(x, p, g):
    x[...] = _gen(g).random(x.shape) < xp_of(p).asarray(p)
    return x


_FILL_BERNOULLI_T = OpDef("bernoulli_tensor_", _bernoulli_tensor_fwd, None,
                          differentiable=False, mutates=(0,), random=True,
                          attrs=("generator",), shape_rule=lambda x, p, g: x)


def _fill_random(self, op, params, inputs=None):
    if GRAD.enabled and self._requires_grad and self._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    dispatch(op, inputs or (self,), params)  # bumps self's version (op.mutates)
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _fill_random(self, _FILLS["uniform_"], (a, b, generator))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_random(self, _FILLS["normal_"], (mean, std, generator))


def bernoulli_(self, p=0.5, *, generator=None):
    if isinstance(p, Tensor):
        return _fill_random(self, _FILL_BERNOULLI_T, (generator,), (self, p))
    return _fill_random(self, _FILLS["bernoulli_"], (p, generator))


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill_random(self, _FILLS["exponential_"], (lambd, generator))


def random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        if self._data.dtype.kind in "iu":
            to = int(np.iinfo(self._data.dtype).max) + 1
        else:
            to = 2 ** (np.finfo(self._data.dtype).nmant + 1)
        if from_ != 0:
            from_, to = 0, from_
    return _fill_random(self, _FILLS["random_"], (from_, to, generator))


def geometric_(self, p, *, generator=None):
    """Number of Bernoulli(p) trials up to and including the first success (support 1, 2...)."""
    if not 0 < p <= 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1], but got p={p}")
    return _fill_random(self, _FILLS["geometric_"], (p, generator))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill_random(self, _FILLS["log_normal_"], (mean, std, generator))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _fill_random(self, _FILLS["cauchy_"], (median, sigma, generator))


def _poisson_fwd(rates, g):
    if rates.__class__ is np.ndarray and (rates < 0).any():
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    return xp_of(rates).asarray(_gen(g).poisson(rates).astype(rates.dtype))


_POISSON = OpDef("poisson", _poisson_fwd, None, differentiable=False, random=True,
                 attrs=("generator",), shape_rule=lambda r, g: r.copy())


def poisson(input, generator=None):
    """Sample Poisson(rate) elementwise, with ``input`` holding the rates."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"poisson: expected a floating-point rate tensor, got {input.dtype}")
    return dispatch(_POISSON, (input,), (generator,))


def _bernoulli_fwd(probs, p, g):
    src = probs if p is None else p
    draws = _gen(g).random(probs.shape) < (src if p is not None else xp_of(probs).asarray(src))
    return xp_of(probs).asarray(draws.astype(probs.dtype))


_BERNOULLI = OpDef("bernoulli", _bernoulli_fwd, None, differentiable=False, random=True,
                   attrs=("p", "generator"), shape_rule=lambda x, p, g: x.copy())


@with_out("bernoulli")
def bernoulli(input, p=None, *, generator=None, out=None):  # noqa: ARG001 - out= is written by @with_out
    return dispatch(_BERNOULLI, (input,), (p, generator))


def _normal_tt_fwd(m, s, g):
    shape = np.broadcast_shapes(m.shape, s.shape)
    r = m + s * xp_of(m).asarray(_gen(g).standard_normal(shape))
    return r.astype(m.dtype)


_NORMAL_T = OpDef("normal_tensor", _normal_tt_fwd, None, differentiable=False, random=True,
                  attrs=("generator",))
_NORMAL = _factory_op("normal", lambda shape, dt, m, s, g: _gen(g).normal(m, s, shape)
                      .astype(dt), _shape_dt, ("size", "dtype", "mean", "std", "generator"),
                      random=True)


@with_out("normal", dtype_from_out=True)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,  # noqa: ARG001 - out= is written by @with_out; layout: checked by the front
           device=None, requires_grad=False):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean if isinstance(mean, Tensor) else ember_full_like(ref, mean)
        s_ = std if isinstance(std, Tensor) else ember_full_like(ref, std)
        return dispatch(_NORMAL_T, (m.detach(), s_.detach()), (generator,))
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    params = (_size((tuple(size),), "normal"), _dt(dtype), mean, std, generator)
    return _create(_NORMAL, params, device, requires_grad)


def ember_full_like(ref, value):
    """A 0-d tensor holding ``value`` in ``ref``'s dtype and device (broadcasts in ops)."""
    return Tensor._wrap(xp_of(ref._data).asarray(np.asarray(value, ref._data.dtype)))


def _multinomial_fwd(probs, num_samples, replacement, g):
    p = probs.astype(np.float64)
    if p.__class__ is not np.ndarray:
        raise NotImplementedError("multinomial: sampling runs on host arrays only")
    if (p < 0).any() or not np.isfinite(p).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    single = p.ndim == 1
    p2 = p.reshape(-1, p.shape[-1])
    if not replacement and num_samples > p2.shape[-1]:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           "without replacement")
    gen = _gen(g)
    rows = []
    for row in p2:
        tot = row.sum()
        if tot <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                               "probabilities <= 0)")
        if not replacement and np.count_nonzero(row) < num_samples:
            raise RuntimeError("multinomial: invalid multinomial distribution (with "
                               "replacement=False, not enough non-negative category to sample)")
        rows.append(gen.choice(row.size, size=num_samples, replace=replacement, p=row / tot))
    arr = np.stack(rows).astype(np.int64)
    return arr[0] if single else arr.reshape(p.shape[:-1] + (num_samples,))


_MULTINOMIAL = OpDef(
    "multinomial", _multinomial_fwd, None, differentiable=False, random=True,
    attrs=("num_samples", "replacement", "generator"),
    shape_rule=lambda p, n, r, g: empty_on(p, p.shape[:-1] + (n,), np.int64))


@with_out("multinomial")
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):  # noqa: ARG001 - out= is written by @with_out
    if isinstance(input, Tensor) and input._data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    return dispatch(_MULTINOMIAL, (input,), (int(num_samples), bool(replacement), generator))


for _n in ("uniform_", "normal_", "bernoulli_", "exponential_", "random_", "geometric_",
           "log_normal_", "cauchy_"):
    METHODS[_n] = globals()[_n]
FUNCTIONS["poisson"] = poisson
METHODS["bernoulli"] = bernoulli
METHODS["multinomial"] = multinomial

for _f in (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, zeros_like,
           ones_like, empty_like, full_like, arange, linspace, logspace, eye, rand, randn,
           randint, randperm, rand_like, randn_like, randint_like, bernoulli, normal,
           multinomial):
    FUNCTIONS[_f.__name__] = _f
FUNCTIONS["range"] = range_
FUNCTIONS["asarray"] = asarray  # an alias: its __name__ is as_tensor


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False):  # noqa: ARG001 - layout: checked by the front (args.py: strided only)
    return full((), s, dtype=dtype or D.get_default_dtype(), device=device,
                requires_grad=requires_grad)


FUNCTIONS["scalar_tensor"] = scalar_tensor


def _legacy_new(args, kwargs):
    """``Tensor(2, 3)`` (uninitialised float tensor) or ``Tensor([1., 2.])`` (float copy);
    ``device=`` is the one keyword PyTorch's legacy constructor takes."""
    device = kwargs.get("device")
    extra = sorted(k for k in kwargs if k != "device")
    if extra:
        raise TypeError(f"new() received an invalid combination of arguments - got unexpected "
                        f"keyword argument(s) {extra}")
    if not args:
        return zeros(0, device=device)
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        a = args[0]
        if isinstance(a, Tensor):
            return a if device is None else a.to(device)
        t = Tensor._wrap(_to_array(a, D.get_default_dtype()))
        return t if device is None else t.to(device)
    return zeros(*args, device=device)


def _rebuild_tensor(data, requires_grad):
    t = Tensor._wrap(np.array(data))
    t._requires_grad = requires_grad
    return t
