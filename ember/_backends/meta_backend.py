"""The ``meta`` backend: arrays with a shape, a dtype and strides but no data.

PyTorch's ``meta`` device, used to build large models without allocating them
(``nn.Linear(50_000, 50_000, device="meta")`` then ``module.to_empty(device="cpu")``) and to
check shapes and dtypes of a computation without running it.

NOTE [ Meta arrays ]
``MetaArray`` speaks NumPy's dispatch protocols (``__array_ufunc__``, ``__array_function__``),
so the same record forwards that run on NumPy run here unchanged: a ufunc computes its result
shape by broadcasting and its dtype by running the ufunc on 0-d stand-ins; matmul has a shape
rule of its own; every other NumPy function and array method runs on *stand-ins*, read-only
arrays of the right shape and dtype whose strides are all 0 (``np.broadcast_to`` of one zero),
so views, reshapes and transposes cost nothing and only the result's shape and dtype are kept.
A function that would allocate a large result on stand-ins is refused (``MAX_STANDIN``)
rather than quietly using the memory the meta device exists to avoid. Meta arrays refuse
conversion to NumPy (``__array__`` raises), which is also what proves that the compute path
never calls ``np.asarray`` behind the backend's back. Writes into a meta array are no-ops.
Data-dependent results (nonzero, boolean masks, unique) cannot be known and raise.
"""

from __future__ import annotations

import math

import numpy as np

name = "meta"
device_type = "meta"
MAX_STANDIN = 1 << 24  # elements a stand-in computation may allocate


class MetaArray(np.lib.mixins.NDArrayOperatorsMixin):
    """An array with shape and dtype only (see NOTE [ Meta arrays ]); Python operators go
    through ``__array_ufunc__`` (NumPy's operator mixin)."""

    __slots__ = ("shape", "dtype", "strides")
    __array_priority__ = 2000

    def __init__(self, shape, dtype, strides=None):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        if strides is None:
            st, acc = [], self.dtype.itemsize
            for n in reversed(self.shape):
                st.append(acc)
                acc *= max(n, 1)
            strides = tuple(reversed(st))
        self.strides = tuple(strides)

    # -- metadata ---------------------------------------------------------------------
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def base(self):
        return None

    @property
    def flags(self):
        return _Flags(self)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self):
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    # -- no data ----------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("meta arrays have no data: they cannot be converted to NumPy "
                           "(a computation reached for the values of a meta tensor)")

    def item(self, *args):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def tolist(self):
        raise RuntimeError("tolist() cannot be called on meta tensors: they have no data")

    def __bool__(self):
        raise RuntimeError("Boolean value of a meta tensor is unknown: it has no data")

    def __float__(self):
        raise RuntimeError("float() of a meta tensor: it has no data")

    __int__ = __index__ = __float__

    def __setitem__(self, key, value):
        if _has_bool_meta(key):
            raise NotImplementedError("indexing a meta tensor with a boolean mask: the "
                                      "selection depends on the mask's values")
        _standin(self)[_standins(key)]  # validate the index; writing to no data is a no-op

    def fill(self, value):
        pass

    # -- cheap methods ------------------------------------------------------------------
    def copy(self, order="C"):
        return MetaArray(self.shape, self.dtype)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        dtype = np.dtype(dtype)
        if not copy and dtype == self.dtype:
            return self
        return MetaArray(self.shape, dtype)

    def __getitem__(self, key):
        if _has_bool_meta(key):
            raise NotImplementedError("indexing a meta tensor with a boolean mask: the result's "
                                      "shape depends on the mask's values")
        return _to_meta(_standin(self)[_standins(key)])

    def __getattr__(self, attr):
        # Any other ndarray method or attribute runs on a stand-in; protocol attributes
        # (__array_interface__, ...) must not, or NumPy would read the stand-in's zeros.
        if attr.startswith("__"):
            raise AttributeError(attr)
        target = getattr(_standin(self), attr)
        if not callable(target):
            return _to_meta(target)

        def method(*args, **kwargs):
            return _call(target, attr, (), args, kwargs, guard=(self,))

        return method

    # -- NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method == "at":  # an unbuffered in-place update (np.add.at): no data to update
            return None
        if method == "__call__" and ufunc.signature is None:
            shape = np.broadcast_shapes(*[_shape(x) for x in inputs])
            with np.errstate(all="ignore"):
                probe = ufunc(*[_probe(x) for x in inputs], **kwargs)
            if ufunc.nout > 1:
                res = tuple(MetaArray(shape, p.dtype) for p in probe)
            else:
                res = MetaArray(shape, np.asarray(probe).dtype)
        elif ufunc is np.matmul and method == "__call__":
            res = MetaArray(_matmul_shape(*[_shape(x) for x in inputs]),
                            np.result_type(*[_probe(x) for x in inputs]))
        else:
            res = _call(getattr(ufunc, method), ufunc.__name__, inputs, (), kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return res

    def __array_function__(self, func, types, args, kwargs):
        rule = _RULES.get(func)
        if rule is not None:
            return rule(*args, **kwargs)
        return _call(func, func.__name__, (), args, kwargs)


class _Flags:
    def __init__(self, a):
        self.c_contiguous = True
        self.f_contiguous = a.ndim <= 1
        self.writeable = True
        self.owndata = True


# -------------------------------------------------------------------------- stand-ins
def _standin(a):
    return np.broadcast_to(np.zeros((), a.dtype), a.shape)


def _standins(obj):
    if isinstance(obj, MetaArray):
        return _standin(obj)
    if isinstance(obj, tuple):
        return tuple(_standins(o) for o in obj)
    if isinstance(obj, list):
        return [_standins(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _standins(v) for k, v in obj.items()}
    return obj


def _has_bool_meta(key):
    items = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, MetaArray) and k.dtype == np.bool_ for k in items)


def _metas(obj, acc):
    if isinstance(obj, MetaArray):
        acc.append(obj)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _metas(o, acc)
    elif isinstance(obj, dict):
        for o in obj.values():
            _metas(o, acc)
    return acc


def _to_meta(obj):
    if isinstance(obj, np.ndarray):
        return MetaArray(obj.shape, obj.dtype)
    if isinstance(obj, tuple):
        return tuple(_to_meta(o) for o in obj)
    if isinstance(obj, list):
        return [_to_meta(o) for o in obj]
    if isinstance(obj, np.generic):
        return MetaArray((), obj.dtype)
    return obj


def _call(fn, fname, pre, args, kwargs, guard=()):
    """Run ``fn`` on stand-ins of every meta array among its arguments."""
    for m in _metas((pre, args, kwargs, guard), []):
        if m.size > MAX_STANDIN:
            raise NotImplementedError(
                f"meta device: '{fname}' has no shape rule for arrays this large "
                f"({list(m.shape)}); it would have to allocate its result")
    if "out" in kwargs and kwargs["out"] is not None:
        out = kwargs["out"]
        return out
    with np.errstate(all="ignore"):
        return _to_meta(fn(*_standins(pre), *_standins(args), **_standins(kwargs)))


def _shape(x):
    return x.shape if isinstance(x, (MetaArray, np.ndarray)) else np.shape(x)


def _probe(x):
    """A 0-d stand-in with ``x``'s dtype; Python scalars stay weak, as NumPy treats them."""
    if isinstance(x, (MetaArray, np.ndarray)):
        return np.zeros((), x.dtype)
    return x


def _matmul_shape(a, b):
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a1, b1 = len(a) == 1, len(b) == 1
    a = (1,) + a if a1 else a
    b = b + (1,) if b1 else b
    if a[-1] != b[-2]:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0 "
                         f"(size {b[-2]} is different from {a[-1]})")
    batch = np.broadcast_shapes(a[:-2], b[:-2])
    return batch + ((() if a1 else (a[-2],)) + (() if b1 else (b[-1],)))


# -------------------------------------------------------------------------- shape rules
def _copyto(dst, src, casting="same_kind", where=True):
    np.broadcast_shapes(_shape(src), dst.shape)


def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    shapes = [_shape(a) for a in arrays]
    if axis is None:
        return MetaArray((sum(math.prod(s) for s in shapes),),
                         dtype or np.result_type(*[_probe(a) for a in arrays]))
    ax = axis % len(shapes[0])
    shape = list(shapes[0])
    shape[ax] = sum(s[ax] for s in shapes)
    return MetaArray(shape, dtype or np.result_type(*[_probe(a) for a in arrays]))


def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    shape = list(np.broadcast_shapes(*[_shape(a) for a in arrays]))
    ax = axis % (len(shape) + 1)
    shape.insert(ax, len(arrays))
    return MetaArray(shape, dtype or np.result_type(*[_probe(a) for a in arrays]))


def _like(fill):
    def rule(a, *args, dtype=None, shape=None, **kwargs):
        return MetaArray(a.shape if shape is None else shape, dtype or a.dtype)

    return rule


def _where(cond, *xy):
    if not xy:
        raise NotImplementedError("where(condition) on a meta tensor: the result's shape "
                                  "depends on the values")
    shape = np.broadcast_shapes(*[_shape(v) for v in (cond, *xy)])
    return MetaArray(shape, np.result_type(*[_probe(v) for v in xy]))


def _data_dependent(name):
    def rule(*args, **kwargs):
        raise NotImplementedError(f"{name} on a meta tensor: the result's shape depends on the "
                                  "input's values, which a meta tensor does not have")

    return rule


_RULES = {
    np.copyto: _copyto,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.empty_like: _like(None),
    np.zeros_like: _like(None),
    np.ones_like: _like(None),
    np.full_like: lambda a, fill_value, dtype=None, **kw: MetaArray(a.shape, dtype or a.dtype),
    np.where: _where,
    np.nonzero: _data_dependent("nonzero"),
    np.argwhere: _data_dependent("argwhere"),
    np.flatnonzero: _data_dependent("nonzero"),
    np.unique: _data_dependent("unique"),
    np.count_nonzero: lambda a, axis=None, keepdims=False: _call(
        np.count_nonzero, "count_nonzero", (), (a,), dict(axis=axis, keepdims=keepdims)),
}


# -------------------------------------------------------------------------- the backend
class _Namespace:
    """``xp`` for the meta backend: creation functions return meta arrays; everything else
    is NumPy's, which dispatches to ``MetaArray`` through the protocols above."""

    def __getattr__(self, attr):
        return getattr(np, attr)

    @staticmethod
    def empty(shape, dtype=float, order="C"):
        return MetaArray(_as_shape(shape), dtype)

    zeros = ones = empty

    @staticmethod
    def full(shape, fill_value, dtype=None, order="C"):
        return MetaArray(_as_shape(shape), dtype if dtype is not None else
                         np.asarray(fill_value).dtype)

    @staticmethod
    def asarray(a, dtype=None, **kwargs):
        if isinstance(a, MetaArray):
            return a if dtype is None else a.astype(dtype, copy=False)
        raise RuntimeError("meta device: cannot turn host data into a meta array implicitly; "
                           "create meta tensors with device='meta' or .to('meta')")

    ndarray = MetaArray


def _as_shape(shape):
    return (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)


xp = _Namespace()


def from_host(array):
    """``tensor.to("meta")``: keep the shape and dtype, drop the data."""
    return MetaArray(array.shape, array.dtype)


def to_host(array):
    raise NotImplementedError("Cannot copy out of meta tensor; no data! Use "
                              "module.to_empty(device=...) or tensor.new_empty(...) to allocate.")


def factory(op, params, shape_dtype):
    """Creation records on the meta device: their shape and dtype, no data."""
    shape, dtype = shape_dtype
    return MetaArray(shape, dtype)


def run(op, arrays, params):
    """Run a record on meta arrays: its declared shape rule, else its own forward (which
    reaches ``MetaArray``'s protocols for every array operation)."""
    if op.data_dependent:
        raise NotImplementedError(f"{op.name} on a meta tensor: the result's shape depends on "
                                  "the input's values, which a meta tensor does not have")
    if op.shape_rule is not None:
        return op.shape_rule(*arrays, *params)
    return op.fwd(*arrays, *params)


def __getattr__(kernel):
    """Backend kernels (erf, lgamma, masked_select_zero, scatter_add, ...) on meta arrays:
    every one of them is shaped like its first array argument, so that is the result."""
    from ember._backends import numpy_backend

    if kernel.startswith("_") or not callable(getattr(numpy_backend, kernel, None)):
        raise AttributeError(f"module 'meta_backend' has no attribute '{kernel}'")

    def shaped_like_first(*args, **kwargs):
        for a in args:
            if isinstance(a, MetaArray):
                return MetaArray(a.shape, a.dtype)
        raise TypeError(f"meta kernel {kernel}: no meta array among its arguments")

    return shaped_like_first
