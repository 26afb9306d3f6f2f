"""Sparse COO tensors: the array class, its records, and the Tensor methods over them.

NOTE [ Sparse COO tensors ]
A sparse tensor is an ordinary ``Tensor`` whose ``_data`` is a ``SparseCOOArray``: an
``indices`` array (int64, ``sparse_dim x nnz``), a ``values`` array (``nnz`` rows of the
dense trailing shape), the logical ``shape`` and a ``coalesced`` flag. There is no Tensor
subclass and no extra slot: ``layout``/``is_sparse`` look at the class of ``_data``, and
autograd, version counters, ``.grad`` and the engine treat a sparse tensor like any other.

The array class is registered with the NumPy backend (as vmap's ``BatchedArray`` is), so
the dispatch spine needs no branch for it: the dense per-op path tests
``a.__class__ is not ndarray`` already and sends anything else to ``_run_foreign``, which
runs the record's forward on the arrays it was given. The dense records a sparse tensor
meets then reach this class through NumPy's protocols:

- ufuncs (``__array_ufunc__``): ``mul``/``div`` by a number (or a 0-d tensor), ``neg``,
  ``add``/``sub`` of two sparse tensors (PyTorch's merge of the entry lists, ``_add_ss``),
  ``dense + sparse`` (dense result), ``sparse * dense`` (sparse result), ``matmul`` of a 2-d
  sparse matrix with a dense operand on either side (and sparse @ sparse through a dense
  right operand), ``sum`` (``add.reduce``); with ``out=`` a sparse tensor the in-place
  forms (``neg_``), and ``dense += sparse`` for the engine;
- methods and functions the records call: ``swapaxes``/``transpose`` (``t``, ``permute``
  within the sparse or within the dense dimensions), ``copy`` (``clone``), ``astype``
  (``to(dtype)``), ``copyto`` and ``fill``/``[...] = 0`` (``mul_``, ``add_``, ``zero_``).

Everything else raises PyTorch's ``NotImplementedError`` ("Could not run 'aten::exp' with
arguments from the 'SparseCPU' backend"); ``numpy()``/``np.asarray``, ``tolist()``, indexing,
reshapes and ``ember.save`` refuse as well: an op is supported or refused, never run on a
wrong densification. ``add(sparse, dense)`` is refused as in PyTorch; the autograd engine
adds gradients of mixed layouts dense-first (``_add_grads`` in the engine).

Records of their own (in this file, dispatched like every other record, so modes, the
profiler and autograd see them): ``sparse_coo_tensor`` (indices, values -> sparse; its
gradient is the incoming gradient gathered at the indices), ``sparse_to_dense`` (gradient:
the incoming gradient masked to the input's pattern, sparse), ``to_sparse`` (gradient:
densified), ``sparse_coalesce`` (identity gradient), ``sparse_values`` (gradient: a sparse
tensor with the input's indices), ``sparse_indices``, ``sparse_mm`` (``ember.sparse.mm``:
the sparse operand's gradient is sparse with its coalesced pattern, as PyTorch's; ``torch.mm``
with a sparse left operand runs the dense ``matmul`` record and gives a dense gradient, as
PyTorch does), ``sparse_sampled_mm``, ``sparse_sum``, ``sparse_softmax``/
``sparse_log_softmax``, ``sparse_gather``/``sparse_mask`` and the sparse embedding pair.

Gradients: a leaf's ``.grad`` accumulates as PyTorch's AccumulateGrad does: sparse + sparse
stays sparse (uncoalesced), dense += sparse in place, and sparse + dense becomes dense
(``_accumulate`` in ``ember/autograd/engine.py``). Optimizers: ``SGD`` and ``Adagrad`` take
sparse gradients with PyTorch's per-parameter formulas, ``SparseAdam`` requires them, and the
others refuse them with PyTorch's messages.
"""

from __future__ import annotations

import math

import numpy as np

from ember import _dtype as D
from ember._backends import numpy_backend, register_backend
from ember._ops import rules
from ember._ops.args import layout_arg
from ember._ops.core import OPS, OpDef, apply
from ember._tensor import SPARSE_TYPES, Tensor

_ndarray = np.ndarray

sparse_coo = D.sparse_coo  # NOTE [ Layouts ] (_dtype.py)

_UFUNC_NAMES = {"multiply": "mul", "true_divide": "div", "divide": "div", "subtract": "sub",
                "negative": "neg", "power": "pow", "absolute": "abs", "matmul": "mm",
                "greater": "gt", "less": "lt", "equal": "eq", "not_equal": "ne"}


def _unsupported(name):
    return NotImplementedError(
        f"Could not run 'aten::{name}' with arguments from the 'SparseCPU' backend. ember's "
        "sparse COO tensors support to_dense, coalesce, indices/values, transpose, mul/div by "
        "a number, add/sub of sparse tensors, dense + sparse, sparse * dense, mm/matmul, "
        "sum, and ember.sparse's functions")


class SparseCOOArray:
    """The raw array of a sparse COO tensor: ``indices`` (int64, ``sparse_dim x nnz``),
    ``values`` (``nnz x dense shape``), ``shape`` and whether it is ``coalesced``.

    Args:
        indices: int64 array of shape ``(sparse_dim, nnz)``.
        values: array of shape ``(nnz, *shape[sparse_dim:])``.
        shape: the logical (dense) shape.
        coalesced: True when indices are sorted and unique.

    Example::

        >>> a = SparseCOOArray(np.array([[0, 1]]), np.array([1.0, 2.0]), (3,), True)
        >>> a.to_dense()
        array([1., 2., 0.])
    """

    __slots__ = ("indices", "values", "shape", "coalesced")
    layout = sparse_coo
    base = None  # the engine's aliasing test: a sparse array is never a NumPy view
    __array_priority__ = 1000

    def __init__(self, indices, values, shape, coalesced=False):
        self.indices = indices
        self.values = values
        self.shape = tuple(int(n) for n in shape)
        self.coalesced = bool(coalesced)

    # ---------------------------------------------------------------- metadata
    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):  # numel of the dense tensor, as PyTorch's numel() of a sparse tensor
        return math.prod(self.shape)

    @property
    def itemsize(self):
        return self.values.itemsize

    @property
    def nbytes(self):
        return self.values.nbytes + self.indices.nbytes

    @property
    def sparse_dim(self):
        return self.indices.shape[0]

    @property
    def dense_dim(self):
        return self.values.ndim - 1

    @property
    def nnz(self):
        return self.indices.shape[1]

    @property
    def strides(self):  # PyTorch's stride() of a sparse tensor: all zeros
        return (0,) * len(self.shape)

    class _Flags:  # a sparse array is never a contiguous strided block
        c_contiguous = f_contiguous = writeable = owndata = False

    flags = _Flags()

    @property
    def __array_interface__(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def tolist(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def __array__(self, dtype=None, copy=None):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def __getitem__(self, key):
        raise _unsupported("index")

    def __setitem__(self, key, value):
        if key is Ellipsis and _is_number(value) and value == 0:
            return self.fill(0)  # zero_() / fill_(0)
        raise _unsupported("index_put_" if key is not Ellipsis else "fill_")

    def reshape(self, *shape):
        raise _unsupported("reshape")

    def __repr__(self):
        return (f"SparseCOOArray(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype}, "
                f"coalesced={self.coalesced})")

    # ---------------------------------------------------------------- conversions
    def copy(self, order=None):
        if order is not None:  # a caller after a strided block (ember.save, shared memory)
            raise NotImplementedError("sparse COO tensors have no strided storage to save or "
                                      "share: convert with to_dense(), or keep indices() and "
                                      "values()")
        return SparseCOOArray(self.indices.copy(), self.values.copy(), self.shape,
                              self.coalesced)

    def _assign(self, other):
        """Become ``other`` in place (the in-place ops: ``mul_``, ``add_``, ``zero_``)."""
        if other.__class__ is not SparseCOOArray or other.shape != self.shape:
            raise _unsupported("copy_")
        self.indices, self.values, self.coalesced = (other.indices, other.values.astype(
            self.values.dtype, copy=False), other.coalesced)
        return self

    def fill(self, value):
        """``zero_()``: no entries left (any other fill would make every entry nonzero)."""
        if value != 0:
            raise _unsupported("fill_")
        self.indices = np.zeros((self.sparse_dim, 0), np.int64)
        self.values = np.zeros((0,) + self.values.shape[1:], self.values.dtype)
        self.coalesced = True

    def astype(self, dtype, copy=True):
        if not copy and np.dtype(dtype) == self.values.dtype:
            return self
        return SparseCOOArray(self.indices, self.values.astype(dtype), self.shape,
                              self.coalesced)

    def to_dense(self):
        out = np.zeros(self.shape, self.values.dtype)
        if self.sparse_dim == 0:
            out += self.values.sum(0, dtype=self.values.dtype)
        elif self.coalesced:
            out[tuple(self.indices)] = self.values
        else:
            np.add.at(out, tuple(self.indices), self.values)
        return out

    def _linear(self):
        """Row-major linear position of each entry over the sparse dimensions."""
        if self.sparse_dim == 0:
            return np.zeros(self.nnz, np.int64)
        return np.ravel_multi_index(tuple(self.indices), self.shape[:self.sparse_dim])

    def coalesce(self):
        """Sorted, unique indices with duplicate entries summed (a new array unless already
        coalesced)."""
        if self.coalesced:
            return self
        lin = self._linear()
        uniq, inv = np.unique(lin, return_inverse=True)
        vals = np.zeros((uniq.size,) + self.values.shape[1:], self.values.dtype)
        np.add.at(vals, inv.reshape(-1), self.values)
        if self.sparse_dim == 0:
            idx = np.zeros((0, uniq.size), np.int64)
        else:
            idx = np.stack(np.unravel_index(uniq, self.shape[:self.sparse_dim])).astype(
                np.int64).reshape(self.sparse_dim, uniq.size)
        return SparseCOOArray(idx, vals, self.shape, True)

    def gather(self, dense_or_sparse):
        """The values of ``dense_or_sparse`` (same shape) at this array's entries."""
        g = dense_or_sparse
        if g.__class__ is not SparseCOOArray:
            return np.ascontiguousarray(g[tuple(self.indices)])
        gc = g.coalesce()
        out = np.zeros((self.nnz,) + gc.values.shape[1:], gc.values.dtype)
        if gc.nnz == 0 or self.nnz == 0:
            return out
        glin = gc._linear()
        lin = self._linear()
        pos = np.minimum(np.searchsorted(glin, lin), glin.size - 1)
        hit = glin[pos] == lin
        out[hit] = gc.values[pos[hit]]
        return out

    def transpose(self, axes=None):
        """Permute dimensions: the sparse ones among themselves (index rows), the dense ones
        among themselves (the values' trailing axes)."""
        nd, sd = self.ndim, self.sparse_dim
        axes = tuple(range(nd - 1, -1, -1)) if axes is None else tuple(a % nd for a in axes)
        if sorted(axes[:sd]) != list(range(sd)):
            raise NotImplementedError("permute(): ember's sparse COO tensors cannot move a "
                                      "sparse dimension into a dense position")
        shape = tuple(self.shape[a] for a in axes)
        same = axes[:sd] == tuple(range(sd))
        vals = self.values.transpose((0,) + tuple(1 + a - sd for a in axes[sd:]))
        return SparseCOOArray(self.indices if same else self.indices[list(axes[:sd])], vals,
                              shape, self.coalesced and same)

    def swapaxes(self, a, b):
        nd = self.ndim
        a, b = a % nd if nd else 0, b % nd if nd else 0
        if a == b:
            return self
        sd = self.sparse_dim
        shape = list(self.shape)
        shape[a], shape[b] = shape[b], shape[a]
        if a < sd and b < sd:
            idx = self.indices.copy()
            idx[[a, b]] = idx[[b, a]]
            return SparseCOOArray(idx, self.values, shape, False)
        if a >= sd and b >= sd:
            return SparseCOOArray(self.indices, self.values.swapaxes(a - sd + 1, b - sd + 1),
                                  shape, self.coalesced)
        raise NotImplementedError("transpose(): ember's sparse COO tensors cannot swap a "
                                  "sparse dimension with a dense one")

    # ---------------------------------------------------------------- NumPy protocols
    def __array_function__(self, func, types, args, kwargs):
        if func is np.swapaxes:
            return args[0].swapaxes(*args[1:], **kwargs)
        if func is np.transpose:
            return args[0].transpose(*args[1:], **kwargs)
        if func is np.copyto and args[0].__class__ is SparseCOOArray:
            return args[0]._assign(args[1])  # in-place ops write their sparse result back
        raise _unsupported(func.__name__)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        out = kwargs.pop("out", None)
        if method == "reduce" and ufunc is np.add and out is None:
            return _sum(inputs[0], **kwargs)
        if method != "__call__" or kwargs.get("where", True) is not True:
            raise _unsupported(_UFUNC_NAMES.get(name, name))
        fn = _UFUNCS.get(name)
        if out is not None:
            (o,) = out
            if ufunc is np.add and len(inputs) == 2 and inputs[0] is o and \
                    o.__class__ is _ndarray and inputs[1].__class__ is SparseCOOArray:
                _scatter_add(o, inputs[1])  # dense += sparse (AccumulateGrad's in-place add)
                return o
            if fn is None or o.__class__ is not SparseCOOArray:
                raise _unsupported(_UFUNC_NAMES.get(name, name) + "_")
            return o._assign(fn(*inputs))  # an in-place op on a sparse tensor (neg_)
        if fn is None:
            raise _unsupported(_UFUNC_NAMES.get(name, name))
        return fn(*inputs)

    def __iadd__(self, other):
        """``sparse += sparse`` for the engine's gradient accumulation, in place, with the
        entries PyTorch's ``add_`` gives (``_add_ss``)."""
        if other.__class__ is not SparseCOOArray:
            return NotImplemented
        return self._assign(_add_ss(self, other))


register_backend(numpy_backend, (SparseCOOArray,))
SPARSE_TYPES[SparseCOOArray] = sparse_coo


def _is_number(x):
    return isinstance(x, (int, float, complex, np.generic)) or (
        x.__class__ is _ndarray and x.ndim == 0)


def _scatter_add(out, s):
    if s.sparse_dim == 0:
        out += s.values.sum(0)
    else:
        np.add.at(out, tuple(s.indices), s.values.astype(out.dtype, copy=False))


def _check_same_shape(name, a, b):
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"{name}: expected sizes of the sparse operands to match, but got "
                           f"{list(a.shape)} and {list(b.shape)}")


def _add_ss(a, b, sign=1):
    """PyTorch's sum of two sparse tensors: a two-pointer merge of the entries in stored
    order that emits the smaller index first and combines equal heads, so the result is
    coalesced when both inputs are (a sorted union) and otherwise keeps PyTorch's exact
    entry order and count; when either values array is not contiguous, PyTorch (and so
    ember) concatenates the entries instead."""
    _check_same_shape("add", a, b)
    if a.sparse_dim != b.sparse_dim:
        raise RuntimeError(f"add: expected the same number of sparse dimensions, got "
                           f"{a.sparse_dim} and {b.sparse_dim}")
    dt = np.result_type(a.values, b.values)
    va = a.values.astype(dt, copy=False)
    vb = b.values.astype(dt, copy=False)
    if sign != 1:
        vb = -vb
    if b.nnz == 0 or a.nnz == 0:
        src, v = (a, va) if b.nnz == 0 else (b, vb)
        return SparseCOOArray(src.indices.copy(), v.copy(), a.shape, src.coalesced)
    if not (va.flags.c_contiguous and vb.flags.c_contiguous):
        # PyTorch's path for non-contiguous values (a gradient expanded from a sum, say):
        # the entries are concatenated
        return SparseCOOArray(np.concatenate([a.indices, b.indices], 1),
                              np.concatenate([va, vb]), a.shape, False)
    ka, kb = a._linear(), b._linear()
    if a.coalesced and b.coalesced:
        keys = np.union1d(ka, kb)
        ra, rb = np.searchsorted(keys, ka), np.searchsorted(keys, kb)
    else:
        ra, rb, keys = _merge_slots(ka.tolist(), kb.tolist())
    out = np.zeros((len(keys),) + va.shape[1:], dt)
    out[ra] = va
    np.add.at(out, rb, vb)
    sd = a.sparse_dim
    idx = (np.stack(np.unravel_index(np.asarray(keys, np.int64), a.shape[:sd]))
           .astype(np.int64).reshape(sd, len(keys)) if sd else np.zeros((0, len(keys)),
                                                                       np.int64))
    return SparseCOOArray(idx, out, a.shape, a.coalesced and b.coalesced)


def _merge_slots(ka, kb):
    """Output slot of each entry of ``ka``/``kb`` (linear keys, stored order) under the
    merge above, and the key of each slot. A Python loop: uncoalesced sums are rare (a
    gradient accumulated over several backward calls) and their order is sequential."""
    na, nb = len(ka), len(kb)
    ra, rb, keys = [0] * na, [0] * nb, []
    i = j = 0
    while i < na or j < nb:
        if i >= na:
            c = -1
        elif j >= nb:
            c = 1
        else:
            x, y = ka[i], kb[j]
            c = 1 if x < y else (-1 if x > y else 0)
        r = len(keys)
        if c >= 0:
            ra[i] = r
            key = ka[i]
            i += 1
        if c <= 0:
            rb[j] = r
            key = kb[j]
            j += 1
        keys.append(key)
    return ra, rb, keys


def _add(a, b, sign=1):
    sa, sb = a.__class__ is SparseCOOArray, b.__class__ is SparseCOOArray
    op = "add" if sign == 1 else "sub"
    if sa and sb:
        return _add_ss(a, b, sign)
    if sb and not _is_number(a):
        _check_same_shape(op, a, b)
        out = np.array(a, dtype=np.result_type(a, b.values), copy=True)
        _scatter_add(out, b if sign == 1 else _neg(b))
        return out
    if sa and not _is_number(b):
        raise RuntimeError(f"{op}(sparse, dense) is not supported. Use {op}(dense, sparse) "
                           "instead.")
    raise _unsupported(op)  # sparse + number would make every entry nonzero


def _mul(a, b):
    sa, sb = a.__class__ is SparseCOOArray, b.__class__ is SparseCOOArray
    if sa and sb:
        raise _unsupported("mul")  # sparse * sparse (an intersection) is not built
    s, o = (a, b) if sa else (b, a)
    if _is_number(o):
        return SparseCOOArray(s.indices, s.values * o, s.shape, s.coalesced)
    o = np.asarray(o)
    if tuple(o.shape) != s.shape:
        raise RuntimeError(f"mul: a sparse tensor multiplies a dense one of its own shape "
                           f"only, got {list(s.shape)} and {list(o.shape)}")
    return SparseCOOArray(s.indices, s.values * o[tuple(s.indices)], s.shape, s.coalesced)


def _div(a, b):
    if a.__class__ is SparseCOOArray and _is_number(b):
        return SparseCOOArray(a.indices, np.true_divide(a.values, b), a.shape, a.coalesced)
    raise _unsupported("div")


def _neg(a):
    return SparseCOOArray(a.indices, -a.values, a.shape, a.coalesced)


def _matmul(a, b):
    if a.__class__ is SparseCOOArray and b.__class__ is SparseCOOArray:
        # sparse @ sparse is sparse in PyTorch; here through the dense right operand
        r = _matmul(a, b.to_dense())
        return _to_sparse_fwd(r, None)
    if b.__class__ is SparseCOOArray:  # dense @ sparse = (sparse^T @ dense^T)^T
        if a.ndim not in (1, 2):
            raise _unsupported("mm")
        r = _matmul(b.swapaxes(0, 1), a.T)
        return r.T
    if a.ndim != 2 or a.sparse_dim == 0:
        raise NotImplementedError(f"mm: ember multiplies 2-d sparse matrices (one or two "
                                  f"sparse dimensions), got shape {list(a.shape)} with "
                                  f"{a.sparse_dim} sparse dimensions")
    vec = b.ndim == 1
    bm = b[:, None] if vec else b
    if b.ndim not in (1, 2) or bm.shape[0] != a.shape[1]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {a.shape[1]}, "
                           f"got {b.shape[0] if b.ndim else 0}")
    out = _spmm(a, bm)
    return out[:, 0] if vec else out


def _spmm(a, b):
    """Sparse (m x k) @ dense (k x n): each row of the result sums value * row of b over the
    row's entries, a sort and one ``add.reduceat`` (no m x k densification). A hybrid matrix
    (sparse rows, dense columns: an embedding gradient) contributes ``row values @ b``."""
    dt = np.result_type(a.values, b)
    out = np.zeros((a.shape[0], b.shape[1]), dt)
    if a.nnz == 0:
        return out
    rows = a.indices[0]
    if a.sparse_dim == 2:
        contrib = a.values.astype(dt, copy=False)[:, None] * b[a.indices[1]]
    else:
        contrib = a.values.astype(dt, copy=False) @ b.astype(dt, copy=False)
    if not a.coalesced:
        order = np.argsort(rows, kind="stable")
        rows, contrib = rows[order], contrib[order]
    first = np.concatenate([[True], rows[1:] != rows[:-1]])
    starts = np.flatnonzero(first)
    out[rows[starts]] = np.add.reduceat(contrib, starts, axis=0)
    return out


def _sum(a, axis=None, dtype=None, keepdims=False):
    if keepdims:
        raise NotImplementedError("sum(): keepdim=True is not supported on ember's sparse COO "
                                  "tensors")
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else tuple(
        ax % nd for ax in ((axis,) if isinstance(axis, int) else axis))
    return _sum_dims(a, axes, dtype)


def _sum_dims(a, axes, dtype=None):
    """Sum over ``axes``: a dense array when every sparse dimension is summed (PyTorch's
    rule), else a sparse one over the kept sparse dimensions."""
    vals = a.values if dtype is None else a.values.astype(dtype)
    sd = a.sparse_dim
    dense_axes = tuple(1 + ax - sd for ax in axes if ax >= sd)
    if dense_axes:
        vals = vals.sum(axis=dense_axes, dtype=dtype)
    keep = [d for d in range(sd) if d not in axes]
    shape = [n for i, n in enumerate(a.shape) if i not in axes]
    if not keep:
        return np.asarray(vals.sum(0, dtype=dtype) if vals.shape[0] else
                          np.zeros(vals.shape[1:], vals.dtype))
    s = SparseCOOArray(a.indices[keep], vals, shape, False)
    return s.coalesce()


_UFUNCS = {"multiply": _mul, "true_divide": _div, "divide": _div, "negative": _neg,
           "add": _add, "subtract": lambda a, b: _add(a, b, -1), "matmul": _matmul,
           "positive": lambda a: a}


# --------------------------------------------------------------------------- records
def _fwd_coo(indices, values, shape, coalesced):
    return SparseCOOArray(indices, values, shape, coalesced)


_COO = OpDef("sparse_coo_tensor", _fwd_coo, None, save=(0,), attrs=("size", "is_coalesced"),
             node_name="SparseCooTensorWithDimsAndTensorsBackward0")


def _gather_fwd(g, idx, shape):
    """The values of ``g`` (dense or sparse, shape ``shape``) at the entries ``idx``."""
    at = SparseCOOArray(idx, np.zeros((idx.shape[1],) + tuple(shape[idx.shape[0]:]), g.dtype),
                        shape)
    return at.gather(g)


_GATHER = OpDef("sparse_gather", _gather_fwd, None, save=(1,), attrs=("size",))


@_COO.grad
def _(ctx, g):
    (idx,) = ctx.inputs
    return None, apply(_GATHER, (g, idx), (ctx.params[0],))


@_GATHER.grad
def _(ctx, gg):  # reading entries is adjoint to placing values at them
    (idx,) = ctx.inputs
    return apply(_COO, (idx, gg), (ctx.params[0], False)), None


_TO_DENSE = OpDef("sparse_to_dense", lambda s: s.to_dense(), None, save="x",
                  node_name="ToDenseBackward0")
_MASK = OpDef("sparse_mask", lambda g, s: _mask(g, s), None, save=(1,))


def _mask(g, s):
    sc = s.coalesce()
    return SparseCOOArray(sc.indices, sc.gather(g), sc.shape, True)


@_TO_DENSE.grad
def _(ctx, g):
    (s,) = ctx.inputs
    return (apply(_MASK, (g, s)),)


def _masked(gg, s):
    """``gg`` on ``s``'s pattern, as a sparse tensor (``gg`` already is one when it comes
    from a sparse output)."""
    return gg if gg.is_sparse else apply(_MASK, (gg, s))


@_MASK.grad
def _(ctx, gg):  # the masked entries of the input receive the gradient, densified
    (s,) = ctx.inputs
    return apply(_TO_DENSE, (apply(_MASK, (gg, s)),)), None


def _to_sparse_fwd(x, sparse_dim):
    sd = x.ndim if sparse_dim is None else sparse_dim
    if sd == x.ndim:
        nz = np.nonzero(x)
        idx = np.stack(nz).astype(np.int64).reshape(x.ndim, -1)
        return SparseCOOArray(idx, x[nz], x.shape, True)
    lead = x.reshape(x.shape[:sd] + (-1,))
    keep = np.any(lead != 0, axis=-1)
    nz = np.nonzero(keep)
    idx = np.stack(nz).astype(np.int64).reshape(sd, -1) if sd else np.zeros((0, 1), np.int64)
    vals = x[nz] if sd else x[None]
    return SparseCOOArray(idx, vals, x.shape, True)


_TO_SPARSE = OpDef("to_sparse", _to_sparse_fwd, None, attrs=("sparse_dim",),
                   node_name="ToSparseBackward1")


@_TO_SPARSE.grad
def _(ctx, g):  # noqa: ARG001 - the backward formula's fixed signature
    return (g.to_dense() if g.is_sparse else g,)


_COALESCE = OpDef("sparse_coalesce", lambda s: s.coalesce(), lambda ctx, g: (g,),
                  node_name="CoalesceBackward0")
_VALUES = OpDef("sparse_values", lambda s: s.values, None, save="x",
                node_name="ValuesBackward0")
_INDICES = OpDef("sparse_indices", lambda s: s.indices, None, differentiable=False)


@_VALUES.grad
def _(ctx, g):
    (s,) = ctx.inputs
    d = s._data
    return (apply(_COO, (Tensor._wrap(d.indices), g), (d.shape, d.coalesced)),)


def _sparse_mm_fwd(a, b):
    if a.__class__ is not SparseCOOArray:
        raise RuntimeError("sparse.mm(): the first operand must be a sparse COO tensor")
    return _matmul(a, b)


_SPARSE_MM = OpDef("sparse_mm", _sparse_mm_fwd, None, save="x",
                   node_name="SparseAddmmBackward0")


def _sampled_mm_fwd(g, b, s):
    """``(g @ b.T)`` at the entries of ``s``'s coalesced pattern, without forming g @ b.T."""
    sc = s.coalesce()
    rows, cols = sc.indices
    vals = np.einsum("ij,ij->i", g[rows], b[cols]).astype(g.dtype, copy=False)
    return SparseCOOArray(sc.indices, vals, sc.shape, True)


_SAMPLED_MM = OpDef("sparse_sampled_mm", _sampled_mm_fwd, None, save="x")


@_SAMPLED_MM.grad
def _(ctx, gg):  # out_k = g[r_k] . b[c_k]: d/dg = M @ b, d/db = M^T @ g, M = gg on the pattern
    g, b, s = ctx.inputs
    m = _masked(gg, s)
    ga = apply(OPS["matmul"], (m, b)) if ctx.next[0] is not None else None
    gb = apply(OPS["matmul"], (m.t(), g)) if ctx.next[1] is not None else None
    return ga, gb, None


@_SPARSE_MM.grad
def _(ctx, g):
    a, b = ctx.inputs
    vec = b._data.ndim == 1
    g2 = g.unsqueeze(-1) if vec else g
    b2 = b.unsqueeze(-1) if vec else b
    ga = gb = None
    if ctx.next[0] is not None:
        ga = apply(_SAMPLED_MM, (g2, b2, a))
    if ctx.next[1] is not None:
        gb = apply(OPS["matmul"], (a.t(), g))
    return ga, gb


def _sparse_sum_fwd(s, dims, dtype):
    return _sum_dims(s, dims, dtype)


_SPARSE_SUM = OpDef("sparse_sum", _sparse_sum_fwd, None, save="x", attrs=("dim", "dtype"),
                    node_name="SparseSumBackward0")
_SUM_BWD = OpDef("sparse_sum_backward", lambda g, s, dims: _sum_bwd(g, s, dims), None,
                 save=(1,), attrs=("dim",))


def _sum_bwd(g, s, dims):
    """The incoming gradient spread back over the input's coalesced pattern."""
    sc = s.coalesce()
    keep = [d for d in range(sc.sparse_dim) if d not in dims]
    dense_axes = [1 + d - sc.sparse_dim for d in sorted(dims) if d >= sc.sparse_dim]
    if g.__class__ is SparseCOOArray:
        sub = SparseCOOArray(sc.indices[keep], np.zeros((sc.nnz,) + g.values.shape[1:],
                                                        g.dtype), g.shape)
        vals = sub.gather(g)
    elif keep:
        vals = g[tuple(sc.indices[keep])]
    else:
        vals = np.broadcast_to(g, (sc.nnz,) + g.shape)
    for ax in dense_axes:
        vals = np.expand_dims(vals, ax)
    vals = np.ascontiguousarray(np.broadcast_to(vals, sc.values.shape)).astype(g.dtype)
    return SparseCOOArray(sc.indices, vals, sc.shape, True)


@_SPARSE_SUM.grad
def _(ctx, g):
    (s,) = ctx.inputs
    return (apply(_SUM_BWD, (g, s), (ctx.params[0],)),)


@_SUM_BWD.grad
def _(ctx, gg):  # spreading g over the pattern is adjoint to summing the pattern's entries
    (s,) = ctx.inputs
    dims = ctx.params[0]
    r = apply(_SPARSE_SUM, (_masked(gg, s),), (dims, None))
    return r, None


def _softmax_fwd(s, dim, log):
    """Softmax over the specified entries along ``dim`` (unspecified entries count as -inf,
    PyTorch's sparse softmax), one group per position of the other sparse dimensions."""
    sc = s.coalesce()
    if dim >= sc.sparse_dim:
        v = sc.values
        ax = dim - sc.sparse_dim + 1
        m = v.max(axis=ax, keepdims=True) if v.size else v
        e = np.exp(v - m)
        z = e.sum(axis=ax, keepdims=True)
        out = (v - m) - np.log(z) if log else e / z
        return SparseCOOArray(sc.indices, out.astype(v.dtype), sc.shape, True)
    others = [d for d in range(sc.sparse_dim) if d != dim]
    if others:
        key = np.ravel_multi_index(tuple(sc.indices[others]),
                                   tuple(sc.shape[d] for d in others))
    else:
        key = np.zeros(sc.nnz, np.int64)
    uniq, grp = np.unique(key, return_inverse=True)
    grp = grp.reshape(-1)
    v = sc.values
    mx = np.full((uniq.size,) + v.shape[1:], -np.inf, v.dtype)
    np.maximum.at(mx, grp, v)
    e = np.exp(v - mx[grp])
    z = np.zeros_like(mx)
    np.add.at(z, grp, e)
    out = (v - mx[grp]) - np.log(z[grp]) if log else e / z[grp]
    return SparseCOOArray(sc.indices, out.astype(v.dtype), sc.shape, True)


_SOFTMAX = OpDef("sparse_softmax", lambda s, dim: _softmax_fwd(s, dim, False), None,
                 save="y", attrs=("dim",), node_name="SparseSoftmaxBackward0")
_LOG_SOFTMAX = OpDef("sparse_log_softmax", lambda s, dim: _softmax_fwd(s, dim, True), None,
                     save="y", attrs=("dim",), node_name="SparseLogSoftmaxBackward0")
# not differentiable: double backward through a sparse softmax is not built (its gradient
# carries no graph, so differentiating it raises PyTorch's "does not require grad")
_SOFTMAX_BWD = OpDef("sparse_softmax_backward",
                     lambda g, y, dim, log: _softmax_bwd(g, y, dim, log), None,
                     differentiable=False, attrs=("dim", "log"))


def _softmax_bwd(g, y, dim, log):
    """softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g), the sums taken over
    the same groups as the forward (g read at y's entries)."""
    gv = y.gather(g)
    yv = y.values
    if dim >= y.sparse_dim:
        ax = dim - y.sparse_dim + 1
        if log:
            out = gv - np.exp(yv) * gv.sum(axis=ax, keepdims=True)
        else:
            out = yv * (gv - (gv * yv).sum(axis=ax, keepdims=True))
        return SparseCOOArray(y.indices, out, y.shape, True)
    others = [d for d in range(y.sparse_dim) if d != dim]
    key = (np.ravel_multi_index(tuple(y.indices[others]), tuple(y.shape[d] for d in others))
           if others else np.zeros(y.nnz, np.int64))
    uniq, grp = np.unique(key, return_inverse=True)
    grp = grp.reshape(-1)
    acc = np.zeros((uniq.size,) + yv.shape[1:], yv.dtype)
    if log:
        np.add.at(acc, grp, gv)
        out = gv - np.exp(yv) * acc[grp]
    else:
        np.add.at(acc, grp, gv * yv)
        out = yv * (gv - acc[grp])
    return SparseCOOArray(y.indices, out.astype(yv.dtype), y.shape, True)


def _softmax_grad(log):
    def grad(ctx, g):
        return (apply(_SOFTMAX_BWD, (g, ctx.output), (ctx.params[0], log)),)
    return grad


_SOFTMAX.grad(_softmax_grad(False))
_LOG_SOFTMAX.grad(_softmax_grad(True))


# Embedding with sparse=True: the same lookup, a sparse weight gradient (one entry per
# looked-up index, in lookup order, padding_idx dropped, uncoalesced: PyTorch's layout).
_EMB_ATTRS = ("num_weights", "padding_idx", "scale_grad_by_freq")
_EMBEDDING_SPARSE = OpDef("embedding_sparse", lambda w, idx, n, pad, scale: w[idx], None,
                          save=(1,), attrs=_EMB_ATTRS, node_name="EmbeddingBackward0")


def _embedding_sparse_bwd_fwd(g, idx, num_weights, padding_idx, scale_grad):
    if scale_grad:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse "
                           "gradients")
    d = g.shape[-1]
    flat = idx.reshape(-1).astype(np.int64)
    g2 = g.reshape(-1, d)
    if padding_idx is not None:
        keep = flat != padding_idx
        flat, g2 = flat[keep], g2[keep]
    # the values stay a view of the incoming gradient, as PyTorch's do (an expanded gradient
    # keeps its zero strides, which decides how later sparse sums order their entries)
    return SparseCOOArray(flat[None, :].copy(), g2, (num_weights, d), False)


_EMBEDDING_SPARSE_BWD = OpDef("embedding_sparse_backward", _embedding_sparse_bwd_fwd, None,
                              save=(1,), attrs=_EMB_ATTRS)


@_EMBEDDING_SPARSE.grad
def _(ctx, g):
    (idx,) = ctx.inputs
    return apply(_EMBEDDING_SPARSE_BWD, (g, idx), ctx.params), None


@_EMBEDDING_SPARSE_BWD.grad
def _(ctx, gg):  # scattering rows is adjoint to looking them up (padding rows got nothing)
    (idx,) = ctx.inputs
    pad = ctx.params[1]
    d = gg.to_dense()
    if pad is not None:
        keep = np.ones((d._data.shape[0], 1), d._data.dtype)
        keep[pad] = 0
        d = d * Tensor._wrap(keep)
    return d[idx], None


def embedding_sparse(weight, idx, attrs):
    """``F.embedding(..., sparse=True)``'s lookup: ``weight[idx]`` whose weight gradient is a
    sparse COO tensor (``attrs``: num_weights, padding_idx, scale_grad_by_freq).

    Args:
        weight: the ``(num_embeddings, dim)`` table.
        idx: integer index tensor.
        attrs: ``(num_weights, padding_idx, scale_grad_by_freq)``.

    Returns:
        The looked-up rows, shape ``idx.shape + (dim,)``.

    Example::

        >>> w = ember.ones(4, 2, requires_grad=True)
        >>> embedding_sparse(w, ember.tensor([1, 1]), (4, None, False)).sum().backward()
        >>> w.grad.is_sparse
        True
    """
    return apply(_EMBEDDING_SPARSE, (weight, idx), attrs)


# Dtype rules beside the records (NOTE [ Dtype rules ], ember/_ops/rules.py): one table,
# these rows added to it here so the records and their rules live together.
rules.RULES.update({
    "sparse_coo_tensor": lambda ins, params: [rules._dtype_of(ins[1])],
    "sparse_gather": rules.same, "sparse_to_dense": rules.same, "sparse_mask": rules.same,
    "to_sparse": rules.same, "sparse_coalesce": rules.same, "sparse_values": rules.same,
    "sparse_indices": rules.int64, "sparse_mm": rules.promote,
    "sparse_sampled_mm": rules.same, "sparse_sum": rules.from_attr(1, rules.same),
    "sparse_sum_backward": rules.same, "sparse_softmax": rules.same,
    "sparse_log_softmax": rules.same, "sparse_softmax_backward": rules.same,
    "embedding_sparse": rules.same, "embedding_sparse_backward": rules.same,
})
rules.KINDS.update({"sparse_sum": "reduction"})
rules.apply_rules({k: OPS[k] for k in ("sparse_coo_tensor", "sparse_gather", "sparse_to_dense",
                                       "sparse_mask", "to_sparse", "sparse_coalesce",
                                       "sparse_values", "sparse_indices", "sparse_mm",
                                       "sparse_sampled_mm", "sparse_sum", "sparse_sum_backward",
                                       "sparse_softmax", "sparse_log_softmax",
                                       "sparse_softmax_backward", "embedding_sparse",
                                       "embedding_sparse_backward")})


# --------------------------------------------------------------------------- public API
def _is_sparse(t):
    return t._data.__class__ is SparseCOOArray


def _require_sparse(t, name):
    if not _is_sparse(t):
        raise RuntimeError(f"{name} expected sparse coordinate tensor layout but got Strided")
    return t._data


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, layout=None, device=None,
                      pin_memory=False, requires_grad=False,
                      check_invariants=None,  # noqa: ARG001 - always checked
                      is_coalesced=None):
    """Build a sparse COO tensor from ``indices`` and ``values``.

    Args:
        indices: integer array-like of shape ``(sparse_dim, nnz)``.
        values: array-like of shape ``(nnz, *dense_shape)``.
        size: the tensor's shape; inferred from the largest index per sparse dimension and
            the values' trailing shape when None.
        dtype: the values' dtype (default: inferred from ``values``).
        layout: only ``ember.sparse_coo`` (or None).
        device: only the CPU.
        pin_memory: only False.
        requires_grad: make the result a leaf that requires grad.
        check_invariants: check that indices are in range for ``size`` (done whenever a size
            is given; ember's checks are cheap).
        is_coalesced: declare the indices sorted and unique (checked when True).

    Returns:
        A sparse COO tensor (``layout == ember.sparse_coo``), uncoalesced unless declared.

    Example::

        >>> s = ember.sparse_coo_tensor([[0, 1], [2, 0]], [3.0, 4.0], (2, 3))
        >>> s.to_dense()
        tensor([[0., 0., 3.],
                [4., 0., 0.]])
    """
    from ember._ops.creation import tensor as _tensor

    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise NotImplementedError(f"sparse_coo_tensor(): device={device!r} (ember's sparse "
                                  "tensors live on the CPU)")
    if pin_memory:
        raise NotImplementedError("sparse_coo_tensor(): pin_memory=True")
    layout_arg("sparse_coo_tensor", "layout", layout, (sparse_coo,))
    idx = indices if isinstance(indices, Tensor) else _tensor(indices)
    if idx._data.dtype.kind not in "iu":
        raise RuntimeError(f"indices must be an int64 tensor, got {idx.dtype}")
    if idx._data.dtype != np.int64:
        idx = idx.long()
    if isinstance(values, Tensor):
        vals = values if dtype is None else values.to(dtype)
    else:
        vals = _tensor(values, dtype=dtype)
    if idx._data.ndim == 1 and idx._data.shape[0] == 0:
        idx = idx.reshape(1, 0)
    if idx._data.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    sd, nnz = idx._data.shape
    if vals._data.ndim == 0 or vals._data.shape[0] != nnz:
        got = vals._data.shape[0] if vals._data.ndim else 0
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {got}")
    dense_shape = tuple(vals._data.shape[1:])
    ind = idx._data
    if ind.size and ind.min() < 0:
        raise RuntimeError(f"found negative index {int(ind.min())} for dim "
                           f"{int(np.nonzero((ind < 0).any(1))[0][0])}")
    if size is None:
        shape = tuple(int(ind[d].max()) + 1 if nnz else 0 for d in range(sd)) + dense_shape
    else:
        shape = tuple(int(n) for n in (size if not isinstance(size, int) else (size,)))
        if len(shape) != sd + len(dense_shape):
            raise RuntimeError(f"number of dimensions must be sparse_dim ({sd}) + dense_dim "
                               f"({len(dense_shape)}), but got {len(shape)}")
        if shape[sd:] != dense_shape:
            raise RuntimeError(f"values has incorrect size, expected {list((nnz,) + shape[sd:])}"
                               f", got {list(vals._data.shape)}")
        if nnz:
            mx = ind.max(axis=1)
            for d in range(sd):
                if mx[d] >= shape[d]:
                    raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size "
                                       f"is {shape[d]} but found index {int(mx[d])}")
    coalesced = bool(is_coalesced)
    if coalesced and nnz > 1 and sd:
        lin = np.ravel_multi_index(tuple(ind), shape[:sd])
        if not (np.diff(lin) > 0).all():
            raise RuntimeError("sparse_coo_tensor(): is_coalesced=True but the indices are not "
                               "sorted and unique")
    elif coalesced is False and nnz <= 1:
        coalesced = True  # PyTorch: zero or one entry is coalesced by construction
    from ember.autograd import no_grad

    if requires_grad:
        with no_grad():
            out = apply(_COO, (idx, vals), (shape, coalesced))
        return out.requires_grad_()
    return apply(_COO, (idx, vals), (shape, coalesced))


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """A sparse COO copy of this tensor (its nonzero entries); a sparse tensor is returned
    as is.

    Args:
        sparse_dim: how many leading dimensions are sparse (default: all).
        layout: only ``ember.sparse_coo`` (or None).
        blocksize: only None (blocked layouts are not built).
        dense_dim: only None.

    Returns:
        A coalesced sparse COO tensor.

    Example::

        >>> ember.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse()._nnz()
        2
    """
    if layout not in (None, sparse_coo) or blocksize is not None or dense_dim is not None:
        raise NotImplementedError(f"to_sparse(): layout={layout!r}, blocksize={blocksize!r}, "
                                  f"dense_dim={dense_dim!r} (ember builds COO only)")
    if _is_sparse(self):
        if sparse_dim is not None and sparse_dim != self._data.sparse_dim:
            raise RuntimeError("to_sparse(): converting a sparse tensor to another sparse_dim "
                               "is not supported")
        return self
    nd = self._data.ndim
    if sparse_dim is not None and not 0 <= sparse_dim <= nd:
        raise RuntimeError(f"sparse_dim argument must be in [0, {nd}] range, but {sparse_dim} "
                           "is given")
    return apply(_TO_SPARSE, (self,), (sparse_dim,))


def to_sparse_coo(self):
    """``to_sparse()`` with every dimension sparse (PyTorch's explicit COO spelling).

    Returns:
        A coalesced sparse COO tensor.

    Example::

        >>> ember.eye(2).to_sparse_coo().is_sparse
        True
    """
    return to_sparse(self)


def to_dense(self, dtype=None, *, masked_grad=None):
    """The dense (strided) tensor equal to this one; a dense tensor is returned as is.

    Args:
        dtype: convert to this dtype as well.
        masked_grad: only None/True (the gradient is masked to the sparse pattern).

    Returns:
        A strided tensor.

    Example::

        >>> ember.sparse_coo_tensor([[0, 0]], [1.0, 2.0], (2,)).to_dense()
        tensor([3., 0.])
    """
    if masked_grad is False:
        raise NotImplementedError("to_dense(): masked_grad=False")
    r = apply(_TO_DENSE, (self,)) if _is_sparse(self) else self
    return r if dtype is None else r.to(dtype)


def coalesce(self):
    """This sparse tensor with sorted, unique indices and duplicates summed.

    Returns:
        A coalesced sparse tensor (``self`` when already coalesced).

    Example::

        >>> ember.sparse_coo_tensor([[1, 1]], [1.0, 2.0], (2,)).coalesce().values()
        tensor([3.])
    """
    d = _require_sparse(self, "coalesce")
    return self if d.coalesced else apply(_COALESCE, (self,))


def is_coalesced(self):
    """Whether this sparse tensor's indices are known sorted and unique.

    Returns:
        bool.

    Example::

        >>> ember.sparse_coo_tensor([[1, 0]], [1.0, 2.0], (2,)).is_coalesced()
        False
    """
    return _require_sparse(self, "is_coalesced").coalesced


def values(self):
    """The values of a coalesced sparse tensor (differentiable; shares memory).

    Returns:
        A tensor of shape ``(nnz, *dense_shape)``.

    Example::

        >>> ember.eye(2).to_sparse().values()
        tensor([1., 1.])
    """
    d = _require_sparse(self, "values")
    if not d.coalesced:
        raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                           ".coalesce() first")
    return apply(_VALUES, (self,))


def indices(self):
    """The indices of a coalesced sparse tensor.

    Returns:
        An int64 tensor of shape ``(sparse_dim, nnz)``.

    Example::

        >>> ember.eye(2).to_sparse().indices()
        tensor([[0, 1],
                [0, 1]])
    """
    d = _require_sparse(self, "indices")
    if not d.coalesced:
        raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                           ".coalesce() first")
    return apply(_INDICES, (self,))


def _values(self):
    """The values of a sparse tensor as stored, coalesced or not (differentiable).

    Returns:
        A tensor of shape ``(nnz, *dense_shape)``.

    Example::

        >>> ember.sparse_coo_tensor([[1, 1]], [1.0, 2.0], (2,))._values()
        tensor([1., 2.])
    """
    _require_sparse(self, "_values")
    return apply(_VALUES, (self,))


def _indices(self):
    """The indices of a sparse tensor as stored, coalesced or not.

    Returns:
        An int64 tensor of shape ``(sparse_dim, nnz)``.

    Example::

        >>> ember.sparse_coo_tensor([[1, 1]], [1.0, 2.0], (2,))._indices()
        tensor([[1, 1]])
    """
    _require_sparse(self, "_indices")
    return apply(_INDICES, (self,))


def _nnz(self):
    """The number of stored entries (duplicates counted) of a sparse tensor.

    Returns:
        int.

    Example::

        >>> ember.sparse_coo_tensor([[1, 1]], [1.0, 2.0], (2,))._nnz()
        2
    """
    return _require_sparse(self, "_nnz").nnz


def sparse_dim(self):
    """The number of sparse dimensions (0 for a dense tensor).

    Returns:
        int.

    Example::

        >>> ember.ones(2, 3).to_sparse(1).sparse_dim()
        1
    """
    return self._data.sparse_dim if _is_sparse(self) else 0


def dense_dim(self):
    """The number of dense dimensions (all of them for a dense tensor).

    Returns:
        int.

    Example::

        >>> ember.ones(2, 3).to_sparse(1).dense_dim()
        1
    """
    return self._data.dense_dim if _is_sparse(self) else self._data.ndim


def sparse_mask(self, mask):
    """This dense tensor's values at the entries of the sparse tensor ``mask``.

    Args:
        mask: a sparse COO tensor of the same shape.

    Returns:
        A coalesced sparse tensor with ``mask``'s pattern.

    Example::

        >>> m = ember.sparse_coo_tensor([[1]], [9.0], (3,))
        >>> ember.tensor([1.0, 2.0, 3.0]).sparse_mask(m).to_dense()
        tensor([0., 2., 0.])
    """
    _require_sparse(mask, "sparse_mask")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): expected self and mask to have the same shape, got "
                           f"{list(self.shape)} and {list(mask.shape)}")
    return apply(_MASK, (self, mask))


def _repr(t):
    """PyTorch's repr of a sparse COO tensor: indices, values, size, nnz, layout."""
    from ember._tensor_str import tensor_repr

    d = t._data
    def size(a):  # PyTorch names the shape of empty indices/values (nnz=0)
        return [f"size={tuple(a.shape)}"] if a.size == 0 else []

    pre = "tensor(indices="
    ind = tensor_repr(d.indices, size(d.indices)).replace("\n", "\n" + " " * len(pre))
    vpre = "       values="
    v = d.values if t.dtype is not D.bfloat16 else d.values.astype(np.float32)
    val = tensor_repr(v, size(v)).replace("\n", "\n" + " " * len(vpre))
    tail = f"size={d.shape}, nnz={d.nnz}"
    dt = t.dtype
    if dt is not D.get_default_dtype() and dt is not D.int64 and dt is not D.bool_:
        tail += f", dtype={dt!r}"
    tail += ", layout=torch.sparse_coo"
    if t._grad_fn is not None:
        tail += f", grad_fn=<{t.grad_fn.name()}>"
    elif t._requires_grad:
        tail += ", requires_grad=True"
    return f"{pre}{ind},\n{vpre}{val},\n       {tail})"


METHODS = {"to_sparse": to_sparse, "to_sparse_coo": to_sparse_coo, "to_dense": to_dense,
           "coalesce": coalesce, "is_coalesced": is_coalesced, "values": values,
           "indices": indices, "_values": _values, "_indices": _indices, "_nnz": _nnz,
           "sparse_dim": sparse_dim, "dense_dim": dense_dim, "sparse_mask": sparse_mask}
for _name, _fn in METHODS.items():
    setattr(Tensor, _name, _fn)
del _name, _fn
