"""``vmap``: the dispatch-mode half (levels, randomness, record rules, the record loop).

NOTE [ vmap on the dispatch spine ]
``vmap(f)(x)`` wraps each mapped input in a tensor whose ``_data`` is a ``BatchedArray``
(NOTE [ vmap as batched arrays ] in ``_batched.py``), runs ``f`` once, and unwraps the
outputs. One ``_VmapMode`` (a ``DispatchMode``) is installed by the outermost vmap; nested
vmaps push a level. For every record with a batched input the mode:

1. random records: ``randomness="error"`` refuses them (PyTorch's message); ``"same"`` runs
   the forward once (its draws have the per-example shape, so every example sees the same
   values); ``"different"`` runs the record once per example (factories included).
2. autograd across the boundary: an input that requires grad but is not batched at the
   current level passes through ``_Enter``, an identity whose backward sums a batched
   gradient over the batch *if the level has ended* (``vmap(model)(x).sum().backward()``
   gives the parameters the summed gradient) and passes it through while the level is
   live (``vmap(grad(f))``: per-example gradients of unbatched parameters).
3. record rules (``RECORD_RULES``): convolution and pooling records fold the batch into
   their own batch dimension (one call instead of one per example).
4. otherwise the record's own forward runs on the batched arrays; if it cannot (it reads
   values, or calls something without an array-level rule that cannot loop), the record
   runs once per example and the results are stacked, with a one-time warning naming it.

Autograd nodes are recorded on the logical tensors, so backward formulas (ember ops) batch
the same way, inside or after the vmap.
"""

from __future__ import annotations

import functools
import itertools
import warnings

import numpy as np

from ember._backends import numpy_backend, register_backend
from ember._graph import GRAD
from ember._ops.core import MODES, DispatchMode, emit, emit_multi
from ember._tensor import Tensor, make_tensor
from ember.autograd.function import Function
from ember.func import _batched
from ember.func._batched import BatchedArray, is_batched
from ember.func._pytree import broadcast_prefix, spec_str, tree_flatten, tree_unflatten

__all__ = ["vmap"]

register_backend(numpy_backend, [BatchedArray])

_COUNTER = itertools.count(1)
LEVELS: list = []  # active levels, innermost last: [level, batch_size, randomness]
_WARNED: set = set()


def _active(level):
    return any(lv[0] == level for lv in LEVELS)


def _warn_record(op):
    if op.name in _WARNED:
        return
    _WARNED.add(op.name)
    warnings.warn(f"vmap: the record '{op.name}' has no batching rule and its forward cannot "
                  "run on batched arrays; falling back to a loop over the batch (correct, "
                  "but slower)", UserWarning, stacklevel=5)


class _Enter(Function):
    """Identity into a vmap level; backward sums batched gradients once the level ended."""

    @staticmethod
    def forward(ctx, x, level):
        ctx.level = level
        return make_tensor(x._data)

    @staticmethod
    def backward(ctx, g):
        if is_batched(g._data, ctx.level) and not _active(ctx.level):
            # through _Unwrap, so the sum stays differentiable (create_graph=True)
            return _Unwrap.apply(g, 0, ctx.level).sum(0), None
        return g, None


class _Wrap(Function):
    """A physical tensor -> its logical (batched) view at ``level`` (batch dim ``dim``)."""

    @staticmethod
    def forward(ctx, x, dim, level):
        ctx.dim, ctx.level, ctx.shape = dim, level, x._data.shape
        return make_tensor(BatchedArray(np.moveaxis(x._data, dim, 0), level))

    @staticmethod
    def backward(ctx, g):
        if is_batched(g._data, ctx.level):
            return _Unwrap.apply(g, ctx.dim, ctx.level), None, None
        # the gradient is the same for every example: broadcast it along the batch
        return g.unsqueeze(ctx.dim).expand(*ctx.shape), None, None


class _Unwrap(Function):
    """A logical tensor batched at ``level`` -> the physical tensor (batch at ``dim``)."""

    @staticmethod
    def forward(ctx, x, dim, level):
        ctx.dim, ctx.level = dim, level
        return make_tensor(np.moveaxis(x._data.value, 0, dim))

    @staticmethod
    def backward(ctx, g):
        return _Wrap.apply(g, ctx.dim, ctx.level), None, None


def _fold(op, inputs, params, lvl, foldable):
    """Record rule: fold the batch into the record's own leading (batch) dimension."""
    b = None
    arrays = []
    for i, t in enumerate(inputs):
        d = t._data
        if is_batched(d, lvl):
            if i not in foldable or d.ndim == 0:
                return None
            b = d.batch_size
            v = d.value
            arrays.append(v.reshape((v.shape[0] * v.shape[1],) + tuple(v.shape[2:])))
        else:
            if i in foldable and any(is_batched(u._data, lvl) for u in inputs):
                return None  # an unbatched per-example operand would need broadcasting
            arrays.append(d)
    if b is None:
        return None
    r = op.fwd(*arrays, *params)

    def unfold(a):
        if a is None:
            return None
        return BatchedArray(a.reshape((b, a.shape[0] // b) + tuple(a.shape[1:])), lvl)

    return tuple(unfold(a) for a in r) if op.multi else unfold(r)


def _elementwise_rule(op, inputs, params, lvl):
    """Elementwise records: batched operands padded to the common rank after the batch
    dimension, the forward run once on the physical arrays."""
    arrays = [t._data if isinstance(t, Tensor) else t for t in inputs]
    nd = max((a.ndim for a in arrays if hasattr(a, "ndim")), default=0)
    phys = [a._padded(nd) if is_batched(a, lvl) else a for a in arrays]
    r = op.fwd(*phys, *params)
    if op.multi:
        return tuple(BatchedArray(x, lvl) for x in r)
    return BatchedArray(r, lvl)


def _zeros_nested(v, shape, dtype):
    """Zeros of physical ``shape`` with the outer batch levels that ``v`` carries."""
    if isinstance(v, BatchedArray):
        return BatchedArray(_zeros_nested(v.value, (v.value.shape[0],) + tuple(shape), dtype),
                            v.level)
    return np.zeros(shape, dtype)


def _scatter_rule(op, inputs, params, lvl):  # noqa: ARG001 - batching rule signature (op, inputs, params, lvl)
    """index_backward: scatter a batched gradient into batched zeros (prefixed key)."""
    (g,) = inputs
    shape, key, accumulate = params
    d = g._data
    if not is_batched(d, lvl):
        return None
    z = _zeros_nested(d.value, (d.batch_size,) + tuple(shape), d.dtype)
    pk = _batched._phys_key(key, BatchedArray(z, lvl))
    if pk is None:
        return None
    if accumulate:
        np.add.at(z, pk, d.value)
    else:
        z[pk] = d.value
    return BatchedArray(z, lvl)


# record name -> indices of the inputs whose leading dimension is the record's batch, or a
# rule function(op, inputs, params, level) -> batched result or None (no rule applies)
RECORD_RULES = {
    "index_backward": _scatter_rule,
    "convolution": (0,), "convolution_transpose": (0,),
    "max_pool": (0,), "max_pool_backward": (0, 1), "max_pool_gather": (0, 1),
    "max_pool_indices": (0,), "avg_pool": (0,), "avg_pool_backward": (0,),
}


def _tensors(inputs):
    return [t for t in inputs if isinstance(t, Tensor)]


def _fwd(op, arrays, params):
    """The record's forward on (possibly batched) arrays; where it cannot run on batched
    arrays, once per example of the innermost level present, recursively."""
    if op.kind == "factory" and not arrays:
        return op.fwd(*params[:-1])
    try:
        return op.fwd(*arrays, *params)
    except Exception:
        lvl = max(_batched._max_level(arrays), _batched._max_level(tuple(params)))
        if lvl == 0:
            raise
    n = _batched._batch_size(list(arrays) + list(params), lvl)
    return _batched._stack([_fwd(op, _batched._slice_at(list(arrays), lvl, i),
                                 _batched._slice_at(tuple(params), lvl, i))
                            for i in range(n)], lvl)


def _record_loop(op, inputs, params, lvl, size):
    """Run the record's forward once per example of level ``lvl`` and stack the results."""
    arrays = [t._data if isinstance(t, Tensor) else t for t in inputs]
    # index keys may hold batched arrays too (per-example argmax indices)
    outs = [_fwd(op, _batched._slice_at(arrays, lvl, i),
                 _batched._slice_at(tuple(params), lvl, i)) for i in range(size)]
    return _batched._stack(outs, lvl)


class _VmapMode(DispatchMode):
    """The dispatch mode behind ``vmap`` (NOTE [ vmap on the dispatch spine ])."""

    def __ember_dispatch__(self, op, inputs, params, run):
        ts = _tensors(inputs)
        # the innermost level among the inputs (a level that has ended can still reach
        # here: backward of a graph recorded inside it, or a level-crossing transform)
        lvl = max(_batched._max_level([t._data for t in ts]),
                  _batched._max_level(tuple(params) if isinstance(params, tuple) else ()))
        batched = lvl > 0
        randomness = LEVELS[-1][2] if LEVELS else "error"
        size = _batched._batch_size([t._data for t in ts] + (
            list(params) if isinstance(params, tuple) else []), lvl) if lvl else None
        if size is None and LEVELS:
            lvl, size = LEVELS[-1][0], LEVELS[-1][1]
        if op.random:
            if randomness == "error":
                raise RuntimeError(
                    "vmap: called random operation while in randomness error mode. Please "
                    "either use the 'same' or 'different' randomness flags on vmap or "
                    "perform the randomness operation out of vmap")
            if randomness == "different":
                if op.mutates and not any(is_batched(inputs[i]._data, lvl)
                                          for i in op.mutates):
                    raise RuntimeError(
                        f"vmap: Cannot ask for different inplace randomness on an unbatched "
                        f"tensor ({op.name}). This will appear like same randomness. If this "
                        "is necessary for your usage, please file an issue with functorch.")
                data = _record_loop(op, inputs, params, lvl, size)
                return self._emit(op, data, inputs, params)
        if not batched:
            return run(inputs, params)
        here = lvl > 0 and size is not None
        if here and GRAD.enabled and op.differentiable:
            new = []
            changed = False
            for t in inputs:
                if isinstance(t, Tensor) and t._requires_grad and not is_batched(t._data, lvl):
                    t = _Enter.apply(t, lvl)
                    changed = True
                new.append(t)
            if changed:
                inputs = tuple(new)
        rule = RECORD_RULES.get(op.name) if here else None
        if rule is None and here and op.kind == "elementwise" and not op.mutates \
                and not op.name.startswith("_foreach") and len(ts) == len(inputs):
            rule = _elementwise_rule
        if rule is not None:
            try:
                data = rule(op, inputs, params, lvl) if callable(rule) else \
                    _fold(op, inputs, params, lvl, rule)
            except Exception:
                data = None  # the generic paths below decide (and report) instead
            if data is not None:
                return self._emit(op, data, inputs, params)
        prev = _batched.CURRENT_OP[0]
        _batched.CURRENT_OP[0] = op.name
        try:
            return run(inputs, params)
        except Exception:
            if not here:
                raise
        finally:
            _batched.CURRENT_OP[0] = prev
        _warn_record(op)
        data = _record_loop(op, inputs, params, lvl, size)
        return self._emit(op, data, inputs, params)

    @staticmethod
    def _emit(op, data, inputs, params):
        for i in op.mutates:
            inputs[i]._bump()
        if op.multi:
            return emit_multi(op, data, inputs, params)
        return emit(op, data, inputs, params)


def _name(func):
    return getattr(func, "__name__", repr(func))


def _check_in_dims(func, in_dims, args):
    name = _name(func)
    if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` "
                         "to be int or a (potentially nested) tuple matching the structure of "
                         f"inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                         "inputs, or you are trying to vmap over a function with no inputs. "
                         "The latter is unsupported.")
    prefix = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    dims = broadcast_prefix(prefix, tuple(args),
                            is_leaf_value=lambda v: not isinstance(v, (tuple, list, dict)))
    if dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         "compatible with the structure of `inputs`. in_dims has structure "
                         f"{spec_str(tree_flatten(in_dims)[1])} but inputs has structure "
                         f"{spec_str(tree_flatten(tuple(args))[1])}.")
    leaves, spec = tree_flatten(tuple(args))
    sizes = []
    for d, a in zip(dims, leaves):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             "for an input but in_dim must be either an integer dimension or "
                             "None.")
        if not isinstance(a, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for an input but the input is of type {type(a)}. We cannot vmap "
                             "over non-Tensor arguments, please use None as the respective "
                             "in_dim")
        n = a.dim()
        if not -n <= d < n:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for some input, but that input is a Tensor of dimensionality "
                             f"{n} so expected in_dim to satisfy {-n} <= in_dim < {n}.")
        sizes.append(a.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return leaves, spec, [None if d is None else d % leaves[i].dim()
                          for i, d in enumerate(dims)], sizes[0]


def _unwrap_outputs(func, out, out_dims, lvl, size):
    name = _name(func)
    leaves, spec = tree_flatten(out)
    if isinstance(out_dims, (int, type(None))):
        dims = [out_dims] * len(leaves)
    elif isinstance(out_dims, tuple):
        prefix = out_dims
        target = out if isinstance(out, tuple) else (out,)
        if not isinstance(out, tuple) and len(out_dims) == 1:
            prefix = out_dims[0]
            target = out
        dims = broadcast_prefix(prefix, target,
                                is_leaf_value=lambda v: not isinstance(v, (tuple, list, dict)))
        if dims is None:
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is "
                             "not compatible with the structure of `outputs`. out_dims has "
                             f"structure {spec_str(tree_flatten(out_dims)[1])} but outputs has "
                             f"structure {spec_str(spec)}.")
    else:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, "
                         "None or a python collection of ints representing where in the "
                         "outputs the vmapped dimension should appear.")
    res = []
    for o, d in zip(leaves, dims):
        if d is None:
            if isinstance(o, Tensor) and is_batched(o._data, lvl):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                                 "when out_dim is None")
            res.append(o)
            continue
        if not isinstance(o, Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(o)}. Did you mean to set out_dims= to None for output?")
        if not isinstance(d, int):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an "
                             "int, None or a python collection of ints representing where in "
                             "the outputs the vmapped dimension should appear.")
        n = o.dim() + 1
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {d})")
        d = d % n
        if is_batched(o._data, lvl):
            res.append(_Unwrap.apply(o, d, lvl))
        else:
            res.append(o.unsqueeze(d).expand(*(o.shape[:d] + (size,) + o.shape[d:])))
    return tree_unflatten(res, spec)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorize ``func`` over a dimension of its inputs (PyTorch's ``torch.func.vmap``).

    ``func`` sees one example at a time (tensors with the mapped dimension removed); ops run
    once on the whole batch through batching rules (NOTE [ vmap on the dispatch spine ]).

    Args:
        func: a function of tensors (pytrees of tuples/lists/dicts allowed) returning
            tensors (or pytrees of them).
        in_dims: per input, the dimension to map over (int) or None (not mapped); an int or
            None applies to all inputs, a tuple follows the inputs' structure.
        out_dims: where the mapped dimension goes in each output (int, None, or a pytree).
        randomness: "error" (random ops raise), "same" (one draw shared by the batch) or
            "different" (independent draws per example).
        chunk_size: map at most this many examples at a time (None: all at once).

    Returns:
        The vectorized function.

    Example::

        >>> import ember
        >>> from ember.func import vmap
        >>> vmap(ember.dot)(ember.ones(3, 2), ember.ones(3, 2)).tolist()
        [2.0, 2.0, 2.0]
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        leaves, spec, dims, size = _check_in_dims(func, in_dims, args)
        if chunk_size is None or chunk_size >= size:
            return _vmap_once(func, leaves, spec, dims, size, kwargs)
        outs = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = [a.narrow(d, start, n) if d is not None else a
                    for a, d in zip(leaves, dims)]
            outs.append(_vmap_once(func, part, spec, dims, n, kwargs))
        flat = [tree_flatten(o)[0] for o in outs]
        ospec = tree_flatten(outs[0])[1]
        odims = _flat_out_dims(outs[0])
        import ember

        joined = [ember.cat([f[i] for f in flat], dim=odims[i]) if odims[i] is not None
                  else flat[0][i] for i in range(len(flat[0]))]
        return tree_unflatten(joined, ospec)

    def _flat_out_dims(out):
        leaves, _ = tree_flatten(out)
        if isinstance(out_dims, (int, type(None))):
            return [out_dims] * len(leaves)
        target = out if isinstance(out, tuple) else (out,)
        return broadcast_prefix(out_dims, target,
                                is_leaf_value=lambda v: not isinstance(v, (tuple, list, dict)))

    def _vmap_once(func, leaves, spec, dims, size, kwargs):
        lvl = next(_COUNTER)
        mode = None
        if not any(isinstance(m, _VmapMode) for m in MODES):
            mode = _VmapMode()
        LEVELS.append([lvl, size, randomness])
        try:
            if mode is not None:
                mode.__enter__()
            try:
                wrapped_in = [_Wrap.apply(a, d, lvl) if d is not None else a
                              for a, d in zip(leaves, dims)]
                out = func(*tree_unflatten(wrapped_in, spec), **kwargs)
            finally:
                if mode is not None:
                    mode.__exit__(None, None, None)
            return _unwrap_outputs(func, out, out_dims, lvl, size)
        finally:
            LEVELS.pop()

    return wrapped
