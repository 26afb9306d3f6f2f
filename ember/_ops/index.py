"""Indexing: ``__getitem__`` (views for basic keys, gathers for advanced ones) and
``__setitem__``, with gradients; repeated indices accumulate in backward."""

from __future__ import annotations

import numpy as np

from ember._graph import GRAD
from ember._backends import KERNELS, xp_of
from ember._ops.core import MODES
from ember._ops.core import METHODS, OpDef, apply, inplace_apply, record, register
from ember._ops.core import _check_inplace_autograd
from ember._ops.core import check_extra, emit_view, save_extra
from ember._ops.outarg import with_out
from ember._tensor import Tensor

_BASIC = (int, slice, type(None), type(Ellipsis))


def _norm_key(key, x):
    """Turn a PyTorch index into a NumPy one; report whether it is basic (a view)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, bool):
            # Python bools index like a 0-dim bool mask (adds a dim of size 1 or 0).
            out.append(np.asarray(k))
            basic = False
        elif isinstance(k, _BASIC):
            if isinstance(k, slice):
                if k.step is not None and _idx(k.step) <= 0:
                    raise ValueError("step must be greater than zero")
                k = slice(_idx(k.start), _idx(k.stop), _idx(k.step))
            out.append(k)
        elif isinstance(k, Tensor):
            a = k._data
            if a.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 f"tensors (got {k.dtype})")
            out.append(a)
            basic = False
        elif isinstance(k, np.integer):
            out.append(int(k))
        elif isinstance(k, (list, tuple, np.ndarray)):
            a = np.asarray([v.item() if isinstance(v, Tensor) else v for v in k]
                           if isinstance(k, (list, tuple)) else k)
            if a.dtype.kind not in "biu":
                if a.size == 0:
                    a = a.astype(np.int64)
                else:
                    raise IndexError("tensors used as indices must be long, int, byte or bool "
                                     f"tensors (got {a.dtype})")
            out.append(a)
            basic = False
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(k).__name__})")
    n_ell = sum(1 for k in out if k is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 if not isinstance(k, np.ndarray) or k.dtype.kind != "b" else k.ndim
               for k in out if k is not None and k is not Ellipsis)
    if used > x._data.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x._data.ndim}")
    if not basic:
        _check_masks(out, x._data.shape)
    return tuple(out), basic


def _check_masks(key, shape):
    """Raise PyTorch's IndexError for a bool mask whose shape does not match the dims it
    covers (NumPy's own message talks about 'boolean index' and 'axis')."""
    dim = 0
    for k in key:
        if k is Ellipsis:
            return  # dims after an ellipsis are counted from the end; NumPy reports those
        if k is None:
            continue
        if isinstance(k, np.ndarray) and k.dtype.kind == "b" and k.ndim:
            covered = shape[dim:dim + k.ndim]
            for i, (m, n) in enumerate(zip(k.shape, covered)):
                if m != n:
                    raise IndexError(f"The shape of the mask {list(k.shape)} at index {i} does "
                                     f"not match the shape of the indexed tensor "
                                     f"{list(covered)} at index {i}")
            dim += k.ndim
        else:
            dim += 1


def _idx(v):
    if v is None or isinstance(v, int):
        return v
    if not hasattr(v, "__index__"):  # PyTorch's (and Python's) TypeError
        raise TypeError("slice indices must be integers or None or have an __index__ method")
    return v.__index__()


_ALL = slice(None)


class DimKey(tuple):
    """A fancy-index key that gathers along one dimension, built by gather/scatter/index_*.

    As a tuple it is an ordinary NumPy key (``_dim_key``'s broadcast aranges and the index,
    or ``(slice(None),) * dim + (idx,)`` with ``rows``); ``dim``, ``idx`` and ``rows`` let the
    forwards below hand it to the C kernels of NOTE [ Gather and scatter-add kernels ]
    (ember/_codegen/index_kernels.py) instead of NumPy's element-by-element fancy indexing.

    Example::

        >>> k = DimKey((slice(None), np.array([1, 0])), dim=1, idx=np.array([1, 0]), rows=True)
        >>> np.arange(6).reshape(2, 3)[k].tolist()
        [[1, 0], [4, 3]]
    """

    # ``bounds``: None when the caller checked the index against the dim's size; else the
    # op's name, and the forward checks (the gather kernel as it reads each index, NOTE
    # [ Bounds checked by the gather kernel ]), raising that op's error
    bounds = None

    def __new__(cls, key, dim, idx, rows):
        self = super().__new__(cls, key)
        self.dim, self.idx, self.rows = dim, idx, rows
        return self


def check_bounds(name, idx, n, dim):
    """PyTorch's error for an index outside ``[-n, n)`` along ``dim`` (one pass for both
    bounds on large indices, NOTE [ One-pass extremes, products and integer means ])."""
    if not idx.size:
        return
    from ember._codegen import reduce_kernels

    r = reduce_kernels.minmax(idx)
    lo, hi = r if r is not None else (idx.min(), idx.max())
    if lo < -n or hi >= n:
        raise RuntimeError(f"{name}(): index {hi if hi >= n else lo} is out of bounds for "
                           f"dimension {dim} with size {n}")


def _ik():
    from ember._codegen import index_kernels

    return index_kernels


def _getitem_fwd(x, key, shape=None, node_name=None):  # noqa: ARG001 - attrs, in order
    if key.__class__ is DimKey:
        # NOTE [ Bounds checked by the gather kernel ]: gather's indices are checked here,
        # by the kernel as it reads them (a separate min/max pass over a 1e6-element int64
        # index cost ~70 us of a ~390 us gather), or before NumPy's indexing
        ik = _ik()
        try:
            r = ik.gather(x, key.idx, key.dim, key.rows)
        except ik.OutOfBounds:
            r = None
        if r is not None:
            return r
        if key.bounds is not None:
            check_bounds(key.bounds, key.idx, x.shape[key.dim] if x.ndim else 1, key.dim)
    elif key.__class__ is tuple and len(key) == 1 and _full_mask(key[0], x):
        r = _ik().mask_select(x, key[0])  # NOTE [ Mask selection kernels ]
        if r is not None:
            return r
    try:
        r = x[key]
    except IndexError as e:
        raise IndexError(_torch_index_msg(str(e))) from None
    if r.__class__ is not np.ndarray and r.__class__ is not x.__class__:
        # All dims indexed by ints: NumPy returns a scalar copy; a trailing Ellipsis gives the
        # 0-dim view PyTorch returns.
        r = x[(key if key.__class__ is tuple else (key,)) + (Ellipsis,)]
    return r


def _full_mask(k, x):
    """Whether ``k`` is a NumPy bool mask of ``x``'s whole shape (``x[k]``: masked_select)."""
    return k.__class__ is np.ndarray and k.dtype == np.bool_ and k.shape == x.shape \
        and x.size >= 32768


def _torch_index_msg(msg):
    return msg.replace("axis", "dimension")


def _index_view_node(params):
    """PyTorch's node for a basic index: its last step that changes the view (NOTE [ Node
    names ]): ``x[0]`` SelectBackward0, ``x[1:]`` SliceBackward0, ``x[None]``
    UnsqueezeBackward0, ``x[...]``/``x[:, :]`` AliasBackward0 (in a tuple, PyTorch skips
    full slices; a lone slice is always sliced)."""
    key, shape = params
    if key.__class__ is not tuple:
        return "SelectBackward0" if isinstance(key, int) else "SliceBackward0" if \
            key.__class__ is slice else "UnsqueezeBackward0" if key is None else "AliasBackward0"
    name, dim = "AliasBackward0", 0
    spread = len(shape) - sum(1 for k in key if k is not None and k is not Ellipsis)
    for k in key:
        if k is None:
            name = "UnsqueezeBackward0"
        elif k is Ellipsis:
            dim += spread
        elif k.__class__ is slice:
            n = shape[dim] if dim < len(shape) else 0
            if k.indices(n) != (0, n, 1):
                name = "SliceBackward0"
            dim += 1
        else:
            name = "SelectBackward0"
            dim += 1
    return name


# A spelling that names its node whatever the key (narrow: always SliceBackward0, even at
# full length, where x[:, 0:n] is an alias) passes the name as a third attribute, as the
# reshaping spellings do (NOTE [ Spellings of one view record ] in shape.py).
_INDEX_VIEW = OpDef("select_view", _getitem_fwd, None, view=True,
                    node_name="SliceBackward0", onnx="Slice",
                    node_names=lambda p: p[2] if len(p) > 2 else _index_view_node(p))
_INDEX_VIEW.attrs = ('indices', 'input_shape', 'node_name')
_INDEX = OpDef("index", _getitem_fwd, None, node_name="IndexBackward0", onnx="Gather")


def _index_bwd(ctx, g):
    key, shape = ctx.params[0], ctx.params[1]
    check_extra(ctx)  # NOTE [ Index tensors in attributes ]
    return (_scatter_into_zeros(g, shape, key, accumulate=ctx.op is _INDEX),)


_INDEX_VIEW.bwd = _index_bwd
_INDEX.bwd = _index_bwd


def _scatter_fwd(g, shape, key, accumulate):
    if key.__class__ is tuple and len(key) == 1 and key[0].__class__ is np.ndarray \
            and key[0].dtype == np.bool_ and key[0].shape == tuple(shape) and g.ndim == 1 \
            and g.__class__ is np.ndarray:
        # a mask selects each element once: the gradient is g put into zeros in mask order,
        # a -0.0 kept as PyTorch's masked_scatter keeps it (NOTE [ Mask selection kernels ])
        z = _ik().mask_expand(g, key[0])
        if z is None:  # NumPy's put, the same result (no kernel, a small or strided g)
            z = np.zeros(shape, g.dtype)
            z[key] = g
        return z
    z = None
    if g.__class__ is np.ndarray:  # large: zero-filled by threads
        from ember._codegen import copy_kernels

        z = copy_kernels.zeros(shape, g.dtype)
    if z is None:
        z = xp_of(g).zeros(shape, g.dtype)
    if accumulate:
        if key.__class__ is DimKey and _ik().scatter_add(z, key.idx, g, key.dim, key.rows):
            return z
        if z.__class__ is np.ndarray and _flat_scatter_add(z, key, g):
            return z
        KERNELS.scatter_add(z, key, g)  # the backend's (cupyx.scatter_add on cuda)
    elif not (key.__class__ is DimKey and g.dtype == z.dtype
              and _ik().scatter_add(z, key.idx, g, key.dim, key.rows, put=True)):
        z[key] = g
    return z


def _flat_linear_index(shape, key):
    """The flat (C-order) positions in an array of ``shape`` of the elements ``x[key]``
    selects, in the result's order, for a key of equal-length 1-d int64 arrays and full
    slices (NumPy's rule for where the indexed dims go: at the first array's place when the
    arrays are adjacent, in front otherwise), or None for any other key."""
    if key.__class__ is not tuple or len(key) > len(shape):
        return None
    arrays, length = [], None
    for d, k in enumerate(key):
        if k.__class__ is np.ndarray:
            if k.ndim != 1 or k.dtype != np.int64 or (length is not None and k.size != length):
                return None
            length = k.size
            arrays.append(d)
        elif k.__class__ is not slice or k != _ALL:
            return None
    if not arrays:
        return None
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    adv = np.zeros(length, np.int64)
    for d in arrays:
        k = key[d]
        adv += np.where(k < 0, k + shape[d], k) * strides[d]
    rest = [d for d in range(len(shape)) if d not in arrays]
    together = arrays == list(range(arrays[0], arrays[-1] + 1))
    at = arrays[0] if together else 0  # where the indexed dim goes among the result's dims
    dims = rest[:at] + [None] + rest[at:] if together else [None] + rest
    lin = adv.reshape([length if d is None else 1 for d in dims])
    for pos, d in enumerate(dims):  # each kept dim's offsets broadcast in: the full shape
        if d is not None:
            ar = np.arange(shape[d], dtype=np.int64) * strides[d]
            lin = lin + ar.reshape([shape[d] if q == pos else 1 for q in range(len(dims))])
    return lin


def _flat_scatter_add(z, key, g):
    """``np.add.at(z, key, g)`` through the scatter-add kernel on ``z``'s flat view for keys
    of 1-d index arrays and full slices: each target receives its values in the same order
    (the kernel adds in C order on one thread, as NumPy's loop), ~13 ns per element less
    (an advanced-index backward of 7k elements: ~66 -> ~10 us). False where it does not
    apply (other keys, dtypes or layouts, no compiler)."""
    if not z.flags.c_contiguous or g.dtype != z.dtype or g.__class__ is not np.ndarray:
        return False
    lin = _flat_linear_index(z.shape, key)
    if lin is None or lin.shape != g.shape:
        return False
    return _ik().scatter_add(z.reshape(-1), lin.reshape(-1), np.ascontiguousarray(g).reshape(-1), 0,
                             False, serial=True)


_SCATTER_ZEROS = OpDef("index_backward", _scatter_fwd, None, node_name="IndexPutBackward0")


@_SCATTER_ZEROS.grad
def _(ctx, gg):
    shape, key, accumulate = ctx.params
    if accumulate or key.__class__ is DimKey:  # a gather: not a view of gg
        return (apply(_INDEX, (gg,), (key, shape)),)
    return (index_view(gg, key),)


def _scatter_into_zeros(g, shape, key, accumulate=False):
    return apply(_SCATTER_ZEROS, (g,), (tuple(shape), key, accumulate))


def index_view(x, key):
    """A basic-indexing view (ints, slices, None, Ellipsis)."""
    return apply(_INDEX_VIEW, (x,), (key, x._data.shape))


def getitem(self, key):
    d = self._data
    # Fast path: a plain int or slice on a tensor.
    if key.__class__ is int or key.__class__ is slice and key.step is None:
        if d.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        if not MODES and d.__class__ is np.ndarray:  # NOTE [ View fast paths ] in shape.py
            try:
                r = d[key]
            except IndexError:  # (the general path words PyTorch's message)
                r = None
            if r.__class__ is np.ndarray:
                return emit_view(_INDEX_VIEW, self, r, (key, d.shape))
        return apply(_INDEX_VIEW, (self,), (key, d.shape))
    if key.__class__ is tuple and not MODES and d.__class__ is np.ndarray:
        # a tuple of ints, None, Ellipsis and slices of ints with steps > 0 is the key
        # _norm_key would build; NumPy refuses too many indices or ellipses
        for k in key:
            c = k.__class__
            if c is slice:
                if not ((k.start is None or k.start.__class__ is int) and
                        (k.stop is None or k.stop.__class__ is int) and
                        (k.step is None or k.step.__class__ is int and k.step > 0)):
                    break
            elif c is not int and k is not None and k is not Ellipsis:
                break
        else:
            try:
                r = d[key]
            except IndexError:
                r = None
            if r.__class__ is np.ndarray:  # (all dims indexed by ints: the general path)
                return emit_view(_INDEX_VIEW, self, r, (key, d.shape))
    k, basic = _norm_key(key, self)
    if basic:
        return apply(_INDEX_VIEW, (self,), (k, self._data.shape))
    y = apply(_INDEX, (self,), (k, self._data.shape))
    if y._grad_fn is not None:
        save_extra(y, _index_tensors(key))
    return y


def _index_tensors(key):
    """The Tensors of an index (NOTE [ Index tensors in attributes ] in core.py)."""
    if key.__class__ is not tuple:
        return [key] if isinstance(key, Tensor) else []
    return [k for k in key if isinstance(k, Tensor)]


# ------------------------------------------------------------------ setitem / index_put
def _index_put_fwd(x, v, key, accumulate):
    y = None
    if x.__class__ is np.ndarray:  # NOTE [ Threaded concatenation and copies ]
        from ember._codegen import copy_kernels

        y = copy_kernels.copy(x) if x.flags.c_contiguous else None
    if y is None:
        y = x.copy()
    if accumulate:
        v = v.astype(x.dtype, copy=False)
        if key.__class__ is DimKey and _ik().scatter_add(y, key.idx, v, key.dim, key.rows):
            return y
        KERNELS.scatter_add(y, key, v)
    elif not (key.__class__ is DimKey and v.__class__ is np.ndarray and v.dtype == y.dtype
              and _ik().scatter_add(y, key.idx, v, key.dim, key.rows, put=True)):
        y[key] = v
    return y


_INDEX_PUT = OpDef("index_put", _index_put_fwd, None, onnx="ScatterND")
_INDEX_PUT.attrs = ('indices', 'accumulate')


@_INDEX_PUT.grad
def _(ctx, g):
    key, accumulate = ctx.params
    check_extra(ctx)  # NOTE [ Index tensors in attributes ]
    gx = g
    if not accumulate and ctx.next[0] is not None:
        gx = _INDEX_PUT_ZERO(g, key)
    gv = None
    if ctx.next[1] is not None:
        gv = apply(_INDEX, (g,), (key, g._data.shape))
    return gx, gv


def _zero_at(x, key):
    y = x.copy()
    y[key] = 0
    return y


_ZERO_AT = OpDef("index_fill_zero", _zero_at, lambda ctx, g: (_INDEX_PUT_ZERO(g, ctx.params[0]),),
                 node_name="IndexPutBackward0")


def _INDEX_PUT_ZERO(g, key):
    return apply(_ZERO_AT, (g,), (key,))


def _value_tensor(value, x):
    if isinstance(value, Tensor):
        return value if value.dtype is x.dtype else value.to(x.dtype)
    try:
        return Tensor._wrap(np.asarray(value, dtype=x._data.dtype))
    except (TypeError, ValueError) as e:
        raise TypeError(f"can't assign a {type(value).__name__} to a {x.type()}: {e}") from None


def index_put(input, indices, values, accumulate=False):
    k, _ = _norm_key(tuple(indices), input)
    return _index_put(input, k, _value_tensor(values, input), accumulate, _index_tensors(indices))


def _index_put(x, key, v, accumulate, tensors=()):
    try:
        return save_extra(apply(_INDEX_PUT, (x, v), (key, accumulate)), tensors)
    except IndexError as e:
        raise IndexError(_torch_index_msg(str(e))) from None
    except RuntimeError as e:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be "
                           f"broadcast to indexing result of shape "
                           f"{list(x._data[key].shape)} ({e})") from None


def _write_recorded(self, k, v, ts):
    """``self[k] = v`` written in place with an ``index_put`` node on ``self`` (PyTorch's
    history rewrite), for a host tensor that is not a view: the general in-place path copies
    self's old values for the record, computes the result out of place and copies it back
    (three passes over self; 1M float32 clone-setitem-backward 730 us against PyTorch's
    214). index_put's backward reads no old values, so nothing needs keeping. False (nothing
    written) where it does not apply or the write fails (the general path then raises
    PyTorch's error)."""
    d = self._data
    if self._base is not None or d.__class__ is not np.ndarray or \
            v._data.__class__ is not np.ndarray or not d.flags.writeable:
        return False
    _check_inplace_autograd("setitem", self)
    try:
        d[k] = v._data
    except (IndexError, ValueError):
        return False
    self._bump()
    record(_INDEX_PUT, self, (self, v), (k, False))
    save_extra(self, ts)
    return True


def setitem(self, key, value):
    k, _ = _norm_key(key, self)
    if MODES or GRAD.enabled and (self._requires_grad or getattr(value, "_requires_grad", False)
                                  or (self._base is not None and self._base._requires_grad)):
        # (with modes installed, the write is seen as index_put + copy_ records)
        v = _value_tensor(value, self)
        ts = _index_tensors(key)
        if not MODES and _write_recorded(self, k, v, ts):
            return
        inplace_apply(lambda s, vv: _index_put(s, k, vv, False, ts), "setitem", self, (v,), {})
        return
    d = self._data
    try:
        if isinstance(value, Tensor):
            d[k] = value._data
        else:
            d[k] = value
    except IndexError as e:
        raise IndexError(_torch_index_msg(str(e))) from None
    except ValueError as e:
        if not d.flags.writeable:  # an expand()ed view: NumPy marks broadcasts read-only
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.") from None
        raise RuntimeError(f"setitem: shape mismatch assigning to index of tensor with shape "
                           f"{list(self.shape)}: {e}") from None
    except TypeError:
        raise TypeError(f"can't assign a {type(value).__name__} to a {self.type()}") from None
    self._bump()


METHODS["__getitem__"] = getitem
METHODS["__setitem__"] = setitem
METHODS["index_put"] = index_put


@register(function=False)
def index_put_(self, indices, values, accumulate=False):
    k, _ = _norm_key(tuple(indices), self)
    v = _value_tensor(values, self)
    ts = _index_tensors(tuple(indices))
    return inplace_apply(lambda s, vv: _index_put(s, k, vv, accumulate, ts), "index_put_",
                         self, (v,), {})


@with_out("nonzero")
def _nonzero_fwd(x):
    xp = xp_of(x)
    if not x.ndim:  # a 0-dim tensor: one row of no coordinates if it is nonzero (PyTorch)
        return xp.zeros((int(bool(x)), 0), np.int64)
    return xp.stack(xp.nonzero(x), axis=1).astype(np.int64)


_NONZERO = OpDef("nonzero", _nonzero_fwd, None, differentiable=False, data_dependent=True)


def nonzero(input, *, as_tuple=False):
    if as_tuple:
        x = input if input._data.ndim else input.reshape(1)
        return tuple(apply(_NONZERO, (x,)).unbind(1))
    return apply(_NONZERO, (input,))


@with_out("masked_select")
def masked_select(input, mask):
    try:
        a, m = np.broadcast_arrays(input._data, mask._data)
    except ValueError:  # PyTorch's RuntimeError naming the sizes (mask first, as there)
        from ember._ops.core import shape_error

        raise shape_error("masked_select", mask._data, input._data) from None
    if a.shape != input._data.shape:
        input = input.expand(a.shape)
    return getitem(input, Tensor._wrap(np.ascontiguousarray(m)))


METHODS["nonzero"] = nonzero
METHODS["masked_select"] = masked_select
from ember._ops.core import FUNCTIONS  # noqa: E402

FUNCTIONS["nonzero"] = nonzero
FUNCTIONS["masked_select"] = masked_select
FUNCTIONS["index_put"] = index_put
