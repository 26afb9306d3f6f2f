"""Batched arrays: the array-level half of ``vmap``.

NOTE [ vmap as batched arrays ]
A tensor inside ``vmap`` keeps its *logical* (per-example) shape, because user code reads
shapes (``x.view(x.size(0), -1)``, ``x.shape[-1]``) between ops. Its ``_data`` is a
``BatchedArray``: a physical array with the batch dimension in front (``value``, shape
``(B, *logical)``), the vmap ``level`` it belongs to, and the logical shape/dtype as
attributes. Records' forwards are written against the array API (``xp_of(x)``, NumPy's
ufuncs and functions), so the batching rules live at that level, once per array primitive,
and every record whose forward uses them batches exactly:

- ufuncs (``__array_ufunc__``): batched operands are padded to the common logical rank
  after their batch dimension and the ufunc runs on the physical arrays (the elementwise
  family, ``where``, comparisons); ``matmul`` promotes batched vectors first; reductions
  shift their axes by one.
- methods and functions that take axes (``sum``, ``reshape``, ``transpose``, ``moveaxis``,
  ``concatenate``, ``stack``, ``expand_dims``, ``broadcast_to``, indexing with basic and
  adjacent advanced keys, ...) shift or prepend the batch dimension.
- any other NumPy function or method runs once per example and the results are stacked
  (correct for anything that treats examples independently), with a one-time warning that
  names the function and the record that called it.

Levels make nesting work: a level-2 array's ``value`` may itself be a level-1
``BatchedArray``; a primitive peels the innermost level present among its operands and
calls the same primitive on the physical values, which recurses into the outer levels.
``BatchedArray`` is registered with the NumPy backend (its device is the CPU), so records
run on it through the ordinary dispatch path; ``_vmap.py``'s dispatch mode adds what needs
the record (randomness, record-level rules, the record loop when a forward cannot run on
batched arrays, autograd across the vmap boundary). Reading values (``.item()``,
``bool()``, ``.numpy()``) raises PyTorch's vmap error: they are data-dependent.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

__all__ = ["BatchedArray", "is_batched", "level_of"]

_WARNED: set = set()
CURRENT_OP = [None]  # the record whose forward is running (for the loop warning)


def _warn_loop(what):
    op = CURRENT_OP[0]
    key = (what, op)
    if key in _WARNED:
        return
    _WARNED.add(key)
    where = f" (in record '{op}')" if op else ""
    warnings.warn(f"vmap: there is no batching rule for {what}{where}; falling back to a "
                  "loop over the batch (correct, but slower)", UserWarning, stacklevel=4)


class BatchedArray:
    """A physical array with a leading batch dimension that presents its per-example shape.

    Args:
        value: the physical array, shape ``(B, *logical)`` (a NumPy array or a
            ``BatchedArray`` of a lower level).
        level: the vmap level (1 for the outermost vmap).

    Example::

        >>> b = BatchedArray(np.zeros((4, 3)), 1)
        >>> b.shape, b.batch_size
        ((3,), 4)
    """

    __slots__ = ("value", "level")
    __array_priority__ = 1000

    def __init__(self, value, level):
        self.value = value
        self.level = level

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return tuple(self.value.shape[1:])

    @property
    def batch_size(self):
        return self.value.shape[0]

    @property
    def ndim(self):
        return self.value.ndim - 1

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def size(self):
        n = 1
        for s in self.value.shape[1:]:
            n *= s
        return n

    @property
    def itemsize(self):
        return self.value.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.itemsize

    @property
    def strides(self):
        return tuple(self.value.strides[1:])

    @property
    def flags(self):
        return self.value.flags

    @property
    def base(self):
        return None

    @property
    def T(self):
        return self.transpose()

    @property
    def real(self):
        return BatchedArray(self.value.real, self.level)

    @property
    def imag(self):
        return BatchedArray(self.value.imag, self.level)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.value.shape[1]

    def __repr__(self):
        return f"BatchedArray(lvl={self.level}, bdim=0, value={self.value!r})"

    # ------------------------------------------------------------------ data-dependent
    def _refuse(self, *a, **k):
        raise RuntimeError(
            "vmap: It looks like you're calling .item() on a Tensor (or reading its values: "
            "bool(), .tolist(), .numpy()). We don't support vmap over calling .item() on a "
            "Tensor, please try to rewrite what you're doing with other operations.")

    def _uniform(self, conv):
        """A Python value for a check inside ember's own code (``if m.max() >= c``,
        ``if bool(zero.any())`` in a backward formula): the examples' common value. Called
        from user code (directly or through Tensor methods) it keeps PyTorch's error; so do
        values that differ between examples (data-dependent control flow)."""
        import sys

        f = sys._getframe(2)
        while f is not None and f.f_globals.get("__name__") == "ember._tensor":
            f = f.f_back  # Tensor.__bool__/item: who called them decides
        caller = f.f_globals.get("__name__", "") if f is not None else ""
        if not caller.startswith("ember.") or caller.startswith("ember.func"):
            self._refuse()
        v = self.value
        first = v[0]
        for i in range(1, v.shape[0]):
            if not np.array_equal(v[i], first):
                raise RuntimeError(
                    "vmap: It looks like you're attempting to use a Tensor in some "
                    "data-dependent control flow. We don't support that yet, please shout "
                    "over at https://github.com/pytorch/functorch/issues/257 .")
        return conv(first)

    def __bool__(self):
        return self._uniform(bool)

    def __int__(self):
        return self._uniform(int)

    def __float__(self):
        return self._uniform(float)

    def __index__(self):
        return self._uniform(operator.index)

    def item(self, *a):
        return self._uniform(lambda v: v.item(*a))

    __array__ = __complex__ = tolist = tobytes = __iter__ = _refuse

    # ------------------------------------------------------------------ helpers
    def _axis(self, axis):
        """Logical axis (or tuple, or None = all) -> physical axes."""
        n = self.ndim
        if axis is None:
            return tuple(range(1, n + 1))
        if isinstance(axis, (tuple, list)):
            return tuple(_norm(a, n) + 1 for a in axis)
        return _norm(axis, n) + 1

    def _padded(self, ndim):
        """The physical value with singleton dims after the batch dim up to ``ndim``."""
        k = ndim - self.ndim
        if k <= 0:
            return self.value
        return self.value.reshape((self.value.shape[0],) + (1,) * k + self.shape)

    # ------------------------------------------------------------------ methods
    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        new = (self.batch_size,) + tuple(shape)
        if copy is None:
            return BatchedArray(self.value.reshape(new, order=order), self.level)
        return BatchedArray(np.reshape(self.value, new, order=order, copy=copy), self.level)

    def ravel(self, order="C"):
        return self.reshape(-1, order=order)

    def flatten(self, order="C"):
        return BatchedArray(self.value.reshape((self.batch_size, -1), order=order).copy(),
                            self.level)

    def astype(self, dtype, copy=True, **kw):
        return BatchedArray(self.value.astype(dtype, copy=copy, **kw), self.level)

    def copy(self, order="C"):
        return BatchedArray(self.value.copy(order=order), self.level)

    def view(self, dtype=None, *a):
        if dtype is None:
            return BatchedArray(self.value.view(), self.level)
        return BatchedArray(self.value.view(dtype), self.level)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(range(self.ndim))[::-1]
        return BatchedArray(self.value.transpose((0,) + self._axis(axes)), self.level)

    def swapaxes(self, a, b):
        return BatchedArray(self.value.swapaxes(self._axis(a), self._axis(b)), self.level)

    def squeeze(self, axis=None):
        if axis is None:
            axis = tuple(i for i, s in enumerate(self.shape) if s == 1)
        return BatchedArray(self.value.squeeze(self._axis(axis)), self.level)

    def fill(self, v):
        self.value.fill(v)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        red = _REDUCTIONS.get(name)
        if red is not None:
            def method(*a, **k):
                return red(self, *a, **k)
            return method
        # any other ndarray method: once per example
        attr0 = getattr(self.value[0], name)
        if not callable(attr0):
            _warn_loop(f"ndarray.{name}")
            return _stack([getattr(self.value[i], name) for i in range(self.batch_size)],
                          self.level)

        def looped(*a, **k):
            _warn_loop(f"ndarray.{name}()")
            return _loop(lambda x, *aa, **kk: getattr(x, name)(*aa, **kk), (self,) + a, k,
                         self.level)
        return looped

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key):
        pk = _phys_key(key, self)
        if pk is not None:
            return BatchedArray(self.value[pk], self.level)
        _warn_loop("indexing with this key")
        return _loop(lambda x, k: x[k], (self, key), {}, self.level)

    def __setitem__(self, key, val):
        pk = _phys_key(key, self)
        if pk is not None and not _has_level(key, self.level):
            target = self.value[pk]
            if isinstance(val, BatchedArray) and val.level == self.level:
                nd = target.ndim - 1
                self.value[pk] = val._padded(nd)
            else:
                self.value[pk] = val
            return
        _warn_loop("index assignment with this key")
        lvl = self.level
        for i in range(self.batch_size):
            k = _slice_at(key, lvl, i)
            v = _slice_at(val, lvl, i)
            self.value[i][k] = v

    # ------------------------------------------------------------------ NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        lvl = _max_level(inputs + tuple(kw.get("out", ()) or ()))
        if method == "__call__":
            return _ufunc_call(ufunc, inputs, kw, lvl)
        if method == "reduce" and len(inputs) == 1 and "out" not in kw:
            a = inputs[0]
            axis = kw.pop("axis", 0)
            return _wrap_out(ufunc.reduce(a.value, axis=a._axis(axis), **kw), lvl)
        if method == "at":
            _warn_loop(f"{ufunc.__name__}.at")
            for i in range(inputs[0].batch_size):
                args = [_slice_at(x, lvl, i) for x in inputs]
                ufunc.at(*args, **kw)
            return None
        _warn_loop(f"{ufunc.__name__}.{method}")
        return _loop(lambda *xs, **k: getattr(ufunc, method)(*xs, **k), inputs, kw, lvl)

    def __array_function__(self, func, types, args, kwargs):
        rule = _FUNCTIONS.get(func)
        if rule is not None:
            res = rule(*args, **kwargs)
            if res is not NotImplemented:
                return res
        lvl = _max_level(_flat(args) + _flat(tuple(kwargs.values())))
        _warn_loop(f"numpy.{func.__name__}")
        return _loop(func, args, kwargs, lvl)

    # ------------------------------------------------------------------ operators
    def __add__(self, o): return np.add(self, o)  # noqa: E704
    def __radd__(self, o): return np.add(o, self)  # noqa: E704
    def __sub__(self, o): return np.subtract(self, o)  # noqa: E704
    def __rsub__(self, o): return np.subtract(o, self)  # noqa: E704
    def __mul__(self, o): return np.multiply(self, o)  # noqa: E704
    def __rmul__(self, o): return np.multiply(o, self)  # noqa: E704
    def __truediv__(self, o): return np.true_divide(self, o)  # noqa: E704
    def __rtruediv__(self, o): return np.true_divide(o, self)  # noqa: E704
    def __floordiv__(self, o): return np.floor_divide(self, o)  # noqa: E704
    def __rfloordiv__(self, o): return np.floor_divide(o, self)  # noqa: E704
    def __mod__(self, o): return np.remainder(self, o)  # noqa: E704
    def __pow__(self, o): return np.power(self, o)  # noqa: E704
    def __rpow__(self, o): return np.power(o, self)  # noqa: E704
    def __matmul__(self, o): return np.matmul(self, o)  # noqa: E704
    def __rmatmul__(self, o): return np.matmul(o, self)  # noqa: E704
    def __neg__(self): return np.negative(self)  # noqa: E704
    def __pos__(self): return self  # noqa: E704
    def __abs__(self): return np.absolute(self)  # noqa: E704
    def __invert__(self): return np.invert(self)  # noqa: E704
    def __and__(self, o): return np.bitwise_and(self, o)  # noqa: E704
    def __rand__(self, o): return np.bitwise_and(o, self)  # noqa: E704
    def __or__(self, o): return np.bitwise_or(self, o)  # noqa: E704
    def __ror__(self, o): return np.bitwise_or(o, self)  # noqa: E704
    def __xor__(self, o): return np.bitwise_xor(self, o)  # noqa: E704
    def __lt__(self, o): return np.less(self, o)  # noqa: E704
    def __le__(self, o): return np.less_equal(self, o)  # noqa: E704
    def __gt__(self, o): return np.greater(self, o)  # noqa: E704
    def __ge__(self, o): return np.greater_equal(self, o)  # noqa: E704
    def __eq__(self, o): return np.equal(self, o)  # noqa: E704
    def __ne__(self, o): return np.not_equal(self, o)  # noqa: E704
    __hash__ = None

    def __iadd__(self, o): return np.add(self, o, out=(self,))  # noqa: E704
    def __isub__(self, o): return np.subtract(self, o, out=(self,))  # noqa: E704
    def __imul__(self, o): return np.multiply(self, o, out=(self,))  # noqa: E704
    def __itruediv__(self, o): return np.true_divide(self, o, out=(self,))  # noqa: E704


# ---------------------------------------------------------------------- helpers
def is_batched(a, level=None):
    """Whether ``a`` is a BatchedArray (of ``level``, when given)."""
    return isinstance(a, BatchedArray) and (level is None or a.level == level)


def level_of(a):
    """The vmap level of ``a`` (0 for a plain array)."""
    return a.level if isinstance(a, BatchedArray) else 0


def _norm(axis, n):
    a = int(axis)
    if a < -n or a >= max(n, 1) and not (n == 0 and a in (0, -1)):
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension {n}")
    return a + n if a < 0 else a


def _flat(xs):
    out = []
    for x in xs:
        if isinstance(x, (list, tuple)):
            out.extend(_flat(x))
        else:
            out.append(x)
    return tuple(out)


def _max_level(xs):
    lv = 0
    for x in xs:
        if isinstance(x, BatchedArray) and x.level > lv:
            lv = x.level
        elif isinstance(x, (list, tuple)):
            lv = max(lv, _max_level(x))
    return lv


def _has_level(x, lvl):
    if isinstance(x, BatchedArray):
        return x.level == lvl
    if isinstance(x, (list, tuple)):
        return any(_has_level(v, lvl) for v in x)
    return False


def _batch_size(xs, lvl):
    for x in xs:
        if isinstance(x, BatchedArray) and x.level == lvl:
            return x.batch_size
        if isinstance(x, (list, tuple)):
            b = _batch_size(x, lvl)
            if b is not None:
                return b
    return None


def _slice_at(x, lvl, i):
    """Example ``i`` of ``x`` at level ``lvl`` (containers walked, others unchanged)."""
    if isinstance(x, BatchedArray):
        return x.value[i] if x.level == lvl else x
    if isinstance(x, tuple):
        return tuple(_slice_at(v, lvl, i) for v in x)
    if isinstance(x, list):
        return [_slice_at(v, lvl, i) for v in x]
    if isinstance(x, dict):
        return {k: _slice_at(v, lvl, i) for k, v in x.items()}
    return x


def _stack(items, lvl):
    """Stack per-example results into a level-``lvl`` BatchedArray (tuples position-wise)."""
    first = items[0]
    if first is None:
        return None
    if isinstance(first, tuple):
        return tuple(_stack([it[j] for it in items], lvl) for j in range(len(first)))
    if isinstance(first, list):
        return [_stack([it[j] for it in items], lvl) for j in range(len(first))]
    if isinstance(first, (bool, int, float, complex, str, np.dtype)) and not isinstance(
            first, np.generic):
        if all(it == first for it in items):
            return first
        raise RuntimeError("vmap: a function returned a Python value that differs between "
                           "examples (data-dependent control flow is not supported)")
    return BatchedArray(_stack_arrays(items), lvl)


def _stack_arrays(items):
    """``np.stack(items)`` that also stacks BatchedArrays of one lower level."""
    first = items[0]
    if isinstance(first, BatchedArray):
        lv = first.level
        vals = [it.value if isinstance(it, BatchedArray) and it.level == lv
                else _broadcast_level(it, first) for it in items]
        inner = np.stack(vals, axis=1)
        return BatchedArray(inner, lv)
    shapes = {np.shape(it) for it in items}
    if len(shapes) > 1:
        raise RuntimeError("vmap: the function returned outputs of different shapes for "
                           f"different examples ({sorted(shapes)}); data-dependent shapes "
                           "are not supported")
    return np.stack([np.asarray(it) for it in items])


def _broadcast_level(x, like):
    """An unbatched ``x`` as ``like``'s physical shape (for stacking mixed results)."""
    return np.broadcast_to(np.asarray(x), like.value.shape)


def _loop(func, args, kwargs, lvl):
    """Run ``func`` once per example of level ``lvl`` and stack the results."""
    n = _batch_size(tuple(args) + tuple(kwargs.values()), lvl)
    res = [func(*_slice_at(tuple(args), lvl, i), **_slice_at(kwargs, lvl, i))
           for i in range(n)]
    return _stack(res, lvl)


def _wrap_out(r, lvl):
    if isinstance(r, tuple):
        return tuple(_wrap_out(x, lvl) for x in r)
    return BatchedArray(r, lvl)


def _ufunc_call(ufunc, inputs, kw, lvl):
    out = kw.get("out")
    if ufunc is np.matmul:
        return _matmul(inputs, kw, lvl)
    if ufunc.signature is not None:
        _warn_loop(f"numpy.{ufunc.__name__}")
        return _loop(ufunc, inputs, kw, lvl)
    nd = 0
    for x in inputs:
        nd = max(nd, x.ndim if isinstance(x, BatchedArray) and x.level == lvl else np.ndim(x))
    phys = [x._padded(nd) if isinstance(x, BatchedArray) and x.level == lvl else x
            for x in inputs]
    if out is not None:
        outs = []
        for o in out:
            if isinstance(o, BatchedArray) and o.level == lvl:
                outs.append(o.value)
            elif o is None:
                outs.append(None)
            else:
                raise RuntimeError(
                    "vmap: inplace arithmetic(self, *extra_args) is not possible because there "
                    "exists a Tensor `other` in extra_args that has more elements than `self`. "
                    "This happened due to `other` being vmapped over but `self` not being "
                    "vmapped over in a vmap.")
        kw = dict(kw, out=tuple(outs))
        ufunc(*phys, **kw)
        return out[0] if len(out) == 1 else out
    return _wrap_out(ufunc(*phys, **kw), lvl)


def _matmul(inputs, kw, lvl):
    a, b = inputs[:2]
    ab, bb = is_batched(a, lvl), is_batched(b, lvl)
    if "out" in kw:
        _warn_loop("numpy.matmul(out=)")
        return _loop(np.matmul, inputs, kw, lvl)
    av = a.value if ab else a
    bv = b.value if bb else b
    an = a.ndim if ab else np.ndim(a)
    bn = b.ndim if bb else np.ndim(b)
    sq = []
    if ab and an == 1:
        av = av[:, None, :]
        an = 2
        sq.append(-2)
    if bb and bn == 1:
        bv = bv[..., None]
        bn = 2
        sq.append(-1)
    if ab and bb:
        nd = max(an, bn)
        av = _pad_phys(av, an, nd)
        bv = _pad_phys(bv, bn, nd)
    elif ab and bn > an:
        av = _pad_phys(av, an, bn)
    elif bb and an > bn:
        bv = _pad_phys(bv, bn, an)
    elif bb and an == 1:
        # an unbatched vector times a batched matrix: NumPy would treat the batch as a
        # stack, which is exactly right once the vector is a (1, k) row
        av = av[None, :]
        sq.append(-2)
    r = np.matmul(av, bv)
    for ax in sorted(sq):
        r = r.squeeze(ax) if not isinstance(r, BatchedArray) else r.squeeze(ax)
    return BatchedArray(r, lvl)


def _pad_phys(v, nd, target):
    k = target - nd
    if k <= 0:
        return v
    return v.reshape((v.shape[0],) + (1,) * k + tuple(v.shape[1:]))


def _is_adv(k):
    return not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer)))


def _phys_key(key, arr):
    """The physical index for logical ``key`` when a prepended ``:`` keeps its meaning."""
    if not isinstance(key, tuple):
        key = (key,)
    if _has_level(key, arr.level):
        return None
    if any(isinstance(k, BatchedArray) for k in key):
        pass  # outer-level index arrays recurse through NumPy's protocol below
    adv = [i for i, k in enumerate(key) if _is_adv(k)]
    if adv and adv != list(range(adv[0], adv[-1] + 1)):
        return None  # separated advanced indices move to the front: not a prefix rule
    if adv and any(k is Ellipsis for k in key[:adv[0]]):
        pass
    return (slice(None),) + key


def _reduce_method(np_name):
    def red(self, axis=None, *a, **k):
        if "out" in k and k["out"] is not None:
            _warn_loop(f"ndarray.{np_name}(out=)")
            return _loop(lambda x, *aa, **kk: getattr(x, np_name)(*aa, **kk),
                         (self, axis) + a, k, self.level)
        r = getattr(self.value, np_name)(self._axis(axis), *a, **k)
        return BatchedArray(r, self.level)
    return red


def _arg_method(np_name):
    def red(self, axis=None, *a, **k):
        if axis is None:
            r = getattr(self.value.reshape(self.batch_size, -1), np_name)(1, *a, **k)
        else:
            r = getattr(self.value, np_name)(self._axis(axis), *a, **k)
        return BatchedArray(r, self.level)
    return red


_REDUCTIONS = {n: _reduce_method(n) for n in
               ("sum", "mean", "prod", "max", "min", "any", "all", "std", "var")}
_REDUCTIONS.update({n: _arg_method(n) for n in ("argmax", "argmin")})
_REDUCTIONS["cumsum"] = lambda self, axis=None, **k: BatchedArray(
    self.value.cumsum(self._axis(axis) if axis is not None else None, **k), self.level) \
    if axis is not None else _loop(lambda x: x.cumsum(**k), (self,), {}, self.level)
_REDUCTIONS["cumprod"] = lambda self, axis=None, **k: BatchedArray(
    self.value.cumprod(self._axis(axis), **k), self.level) \
    if axis is not None else _loop(lambda x: x.cumprod(**k), (self,), {}, self.level)


# ---------------------------------------------------------------------- NumPy function rules
def _one(name):
    """Rule for ``np.<name>(a, axis=..., ...)`` where only ``a`` may be batched."""
    def rule(a, *args, **kw):
        if not isinstance(a, BatchedArray) or _max_level(args + tuple(kw.values())) > 0:
            return NotImplemented
        return getattr(a, name)(*args, **kw)
    return rule


def _r_moveaxis(a, source, destination):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    s = a._axis(source)
    d = a._axis(destination)
    return BatchedArray(np.moveaxis(a.value, s, d), a.level)


def _r_expand_dims(a, axis):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    n = a.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    if isinstance(axis, (tuple, list)):
        ax = tuple(_norm(x, n) + 1 for x in axis)
    else:
        ax = _norm(axis, n) + 1
    return BatchedArray(np.expand_dims(a.value, ax), a.level)


def _r_broadcast_to(a, shape, subok=False):
    if not isinstance(a, BatchedArray) or _max_level(tuple(shape)) > 0:
        return NotImplemented
    shape = tuple(shape)
    return BatchedArray(np.broadcast_to(a._padded(len(shape)), (a.batch_size,) + shape),
                        a.level)


def _as_level(x, lvl, nd, b):
    """``x`` as a physical level-``lvl`` operand of logical rank ``nd`` (broadcast if plain)."""
    if isinstance(x, BatchedArray) and x.level == lvl:
        return x._padded(nd)
    x = np.asarray(x) if not isinstance(x, BatchedArray) else x
    return np.broadcast_to(x, (b,) + tuple(x.shape)) if not isinstance(x, BatchedArray) \
        else _broadcast_outer(x, b)


def _broadcast_outer(x, b):
    # an outer-level array gains this level's batch dim through its own protocol
    return np.broadcast_to(x, (b,) + x.shape)


def _r_concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    lvl = _max_level(arrays)
    if out is not None or axis is None or lvl == 0:
        return NotImplemented
    b = _batch_size(arrays, lvl)
    nd = max(np.ndim(x) if not isinstance(x, BatchedArray) else x.ndim for x in arrays)
    phys = [_as_level(x, lvl, nd, b) for x in arrays]
    kw = {} if dtype is None else {"dtype": dtype}
    return BatchedArray(np.concatenate(phys, axis=_norm(axis, nd) + 1, casting=casting, **kw),
                        lvl)


def _r_stack(arrays, axis=0, out=None, **kw):
    lvl = _max_level(arrays)
    if out is not None or lvl == 0:
        return NotImplemented
    b = _batch_size(arrays, lvl)
    nd = max(np.ndim(x) if not isinstance(x, BatchedArray) else x.ndim for x in arrays)
    phys = [_as_level(x, lvl, nd, b) for x in arrays]
    return BatchedArray(np.stack(phys, axis=_norm(axis, nd + 1) + 1, **kw), lvl)


def _r_where(cond, x=None, y=None):
    if x is None:
        return NotImplemented
    return _ufunc_call(_WHERE, (cond, x, y), {}, _max_level((cond, x, y)))


class _Where:
    """``np.where(c, x, y)`` as a ternary elementwise primitive for ``_ufunc_call``."""
    signature = None
    __name__ = "where"

    def __call__(self, c, x, y, **kw):
        return np.where(c, x, y)


_WHERE = _Where()


def _r_transpose(a, axes=None):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    return a.transpose() if axes is None else a.transpose(axes)


def _r_take_along_axis(arr, indices, axis):
    lvl = _max_level((arr, indices))
    if axis is None:
        return NotImplemented
    nd = arr.ndim if isinstance(arr, BatchedArray) else np.ndim(arr)
    b = _batch_size((arr, indices), lvl)
    a = _as_level(arr, lvl, nd, b)
    i = _as_level(indices, lvl, nd, b)
    return BatchedArray(np.take_along_axis(a, i, axis=_norm(axis, nd) + 1), lvl)


def _r_zeros_like(a, dtype=None, *args, **kw):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    return np.zeros(a.shape, dtype=a.dtype if dtype is None else dtype)


def _r_ones_like(a, dtype=None, *args, **kw):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    return np.ones(a.shape, dtype=a.dtype if dtype is None else dtype)


def _r_empty_like(a, dtype=None, *args, **kw):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    # empty_like's result is written by the caller: give it the batch dimension
    return BatchedArray(np.empty_like(a.value, dtype=dtype), a.level)


def _r_full_like(a, fill_value, dtype=None, *args, **kw):
    if not isinstance(a, BatchedArray) or isinstance(fill_value, BatchedArray):
        return NotImplemented
    return np.full(a.shape, fill_value, dtype=a.dtype if dtype is None else dtype)


def _r_shape(a):
    return a.shape if isinstance(a, BatchedArray) else NotImplemented


def _r_ndim(a):
    return a.ndim if isinstance(a, BatchedArray) else NotImplemented


def _r_result_type(*xs):
    return np.result_type(*[x.value.dtype if isinstance(x, BatchedArray) else x for x in xs])


def _r_copyto(dst, src, casting="same_kind", where=True):
    lvl = _max_level((dst, src, where))
    if not is_batched(dst, lvl) or _has_level(where, lvl) and where is not True:
        return NotImplemented
    s = src._padded(dst.ndim) if is_batched(src, lvl) else src
    np.copyto(dst.value, s, casting=casting, where=where)
    return None


def _r_clip(a, a_min=None, a_max=None, **kw):
    return _ufunc_call(_Clip(), (a, a_min, a_max), {}, _max_level((a, a_min, a_max)))


class _Clip:
    signature = None
    __name__ = "clip"

    def __call__(self, a, lo, hi, **kw):
        return np.clip(a, lo, hi)


def _r_sum_like(name):
    def rule(a, axis=None, *args, **kw):
        if not isinstance(a, BatchedArray) or "out" in kw and kw["out"] is not None:
            return NotImplemented
        return getattr(a, name)(axis, *args, **kw)
    return rule


def _r_squeeze(a, axis=None):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    return a.squeeze(axis)


def _r_swapaxes(a, x, y):
    if not isinstance(a, BatchedArray):
        return NotImplemented
    return a.swapaxes(x, y)


def _r_flip(m, axis=None):
    if not isinstance(m, BatchedArray):
        return NotImplemented
    return BatchedArray(np.flip(m.value, m._axis(axis)), m.level)


def _r_pad(array, pad_width, mode="constant", **kw):
    if not isinstance(array, BatchedArray) or _max_level(tuple(kw.values())) > 0:
        return NotImplemented
    pw = np.broadcast_to(np.asarray(pad_width), (array.ndim, 2)).tolist()
    return BatchedArray(np.pad(array.value, [[0, 0]] + pw, mode=mode, **kw), array.level)


def _r_einsum(*operands, **kw):
    if not isinstance(operands[0], str):
        return NotImplemented
    spec, ops = operands[0], operands[1:]
    lvl = _max_level(ops)
    if "..." in spec or "->" not in spec or kw.get("out") is not None:
        return NotImplemented
    lhs, rhs = spec.replace(" ", "").split("->")
    letters = set(spec) - set(",->.")
    free = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                if c not in letters)
    terms = lhs.split(",")
    phys = []
    for t, x in zip(terms, ops):
        if is_batched(x, lvl):
            phys.append((free + t, x.value))
        else:
            phys.append((t, x))
    new = ",".join(p[0] for p in phys) + "->" + free + rhs
    return BatchedArray(np.einsum(new, *[p[1] for p in phys], **kw), lvl)


_FUNCTIONS = {
    np.moveaxis: _r_moveaxis, np.expand_dims: _r_expand_dims,
    np.broadcast_to: _r_broadcast_to, np.concatenate: _r_concatenate, np.stack: _r_stack,
    np.where: _r_where, np.transpose: _r_transpose, np.take_along_axis: _r_take_along_axis,
    np.zeros_like: _r_zeros_like, np.ones_like: _r_ones_like, np.empty_like: _r_empty_like,
    np.full_like: _r_full_like, np.shape: _r_shape, np.ndim: _r_ndim,
    np.result_type: _r_result_type, np.copyto: _r_copyto, np.clip: _r_clip,
    np.squeeze: _r_squeeze, np.swapaxes: _r_swapaxes, np.flip: _r_flip, np.pad: _r_pad,
    np.einsum: _r_einsum, np.reshape: lambda a, *s, **k: a.reshape(*s, **k)
    if isinstance(a, BatchedArray) else NotImplemented,
    np.ascontiguousarray: lambda a, dtype=None: (
        BatchedArray(np.ascontiguousarray(a.value, dtype=dtype), a.level)
        if isinstance(a, BatchedArray) else NotImplemented),
    np.copy: lambda a, *x, **k: a.copy() if isinstance(a, BatchedArray) else NotImplemented,
}
for _n in ("sum", "mean", "prod", "max", "min", "any", "all", "std", "var", "argmax",
           "argmin", "amax", "amin"):
    _FUNCTIONS[getattr(np, _n)] = _r_sum_like({"amax": "max", "amin": "min"}.get(_n, _n))
