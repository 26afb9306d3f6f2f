"""Shape ops. Views (view, permute, transpose, expand, squeeze, narrow, ...) share memory and
the version counter with their base; their backward formulas are shape ops again."""

from __future__ import annotations

import numbers

import numpy as np

from ember import _dtype as D
from ember._backends import xp_of
from ember._graph import GRAD, renamed
from ember._ops.args import ints_arg  # (module level: an import in the call cost ~1.5 us)
from ember._ops.core import FUNCTIONS, METHODS, OpDef, apply, register
from ember._ops.core import MODES as _MODES
from ember._ops.core import _mark_view, emit_pieces, emit_view
from ember._ops.index import _INDEX_VIEW, index_view  # (module level: see ints_arg above)
from ember._tensor import Size, Tensor, _wrap_dim

xp = np
_ALL = slice(None)
_ndarray = np.ndarray
_np_reshape = np.reshape

# NOTE [ View fast paths ]
# A view op's per-call cost is Python work around one cheap NumPy call (~0.1 us): argument
# normalisation, dispatch, the Tensor and its view bookkeeping. Each wrapper therefore starts
# with a fast path for its common spelling (ints, or one tuple of ints; in-range dims) that
# runs only when no dispatch mode is active (``_MODES`` empty: modes must see the record, so
# they take ``apply``) and the input is a NumPy array (other backends route through
# ``dispatch``). It computes the view with NumPy itself and hands it to ``emit_view``
# (core.py), which does what ``_emit`` + ``_mark_view`` do, recording the same record with
# the same attributes. Checks NumPy already makes are not repeated: a reshape NumPy refuses,
# a permutation with a repeated or out-of-range dim, ... fall through to the general path
# below, which raises PyTorch's error. What NumPy accepts and PyTorch does not (a negative
# size other than -1, a bool, a stepped or negative slice) is kept off the fast path by the
# guards. tests/test_view_fastpaths_s7.py compares both paths.


def _shape_arg(shape, name="view"):
    if len(shape) == 1 and shape[0].__class__ is not int:
        if isinstance(shape[0], (tuple, list, Size)):
            shape = tuple(shape[0])
    for s in shape:
        if s.__class__ is not int:
            return _shape_arg_slow(shape, name)
    return shape


def _int_shape(shape):
    """The fast paths' shape: ``shape`` (varargs) as a tuple when it is ints or one tuple, list
    or Size of ints, else None (the general path parses and refuses the rest)."""
    if len(shape) == 1:
        s = shape[0]
        c = s.__class__
        if c is int:
            return shape
        if c is not tuple and c is not Size and c is not list:
            return None
        shape = tuple(s)
    for s in shape:
        if s.__class__ is not int:
            return None
    return shape


def _shape_arg_slow(shape, name):
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        out.append(int(s))
    return tuple(out)


def _no_overflow(shape, name, arg):
    """PyTorch's int[] parser refuses an item beyond int64 with a TypeError naming its position
    (called on error paths only, so valid shapes pay nothing)."""
    for pos, s in enumerate(shape):
        if s.__class__ is int and not -2 ** 63 <= s < 2 ** 63:
            raise TypeError(f"{name}(): argument '{arg}' failed to unpack the object at pos "
                            f"{pos + 1} with error \"Overflow when unpacking long long\"")


def _infer(shape, numel, name):
    if shape.count(-1) > 1:
        raise RuntimeError(f"{name}(): only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            _no_overflow(shape, name, "shape" if name == "reshape" else "size")
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        _no_overflow(shape, name, "shape" if name == "reshape" else "size")
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# ------------------------------------------------------------------ view / reshape
def _reshape_bwd(ctx, g):
    return (g.reshape(ctx.params[1]),)


def _view_fwd(x, shape, _in, _node_name):
    # A C-contiguous array always reshapes to a view; otherwise ask NumPy not to copy.
    return x.reshape(shape) if x.flags.c_contiguous else xp.reshape(x, shape, copy=False)


# NOTE [ Spellings of one view record ]
# view, reshape, squeeze, unsqueeze, t (of < 2 dims) and expand (to the same shape) are all
# this one reshaping record, and transpose and t (of 2 dims) the transpose record; PyTorch
# names their nodes by the spelling (SqueezeBackward1, TBackward0, ...), which the shapes
# cannot tell apart. The spelling's node name is therefore the record's last attribute,
# picked by ``node_names`` when a node is recorded (NOTE [ Node names ]): a view replayed
# after an in-place edit of its base (NOTE [ In-place on views ]) gets its name back, as
# the attribute travels with the view. Forwards and backwards ignore it.
_VIEW = OpDef("view", _view_fwd, _reshape_bwd, view=True, onnx="Reshape",
              node_names=lambda params: params[2])
_VIEW.attrs = ('size', 'input_shape', 'node_name')
_V = "ViewBackward0"
_RESHAPE_COPY = OpDef("reshape", lambda x, shape, _in: xp.reshape(x, shape), _reshape_bwd,
                      node_name="UnsafeViewBackward0", onnx="Reshape")


def _reshape_fast(input, d, shape):
    """view/reshape of a NumPy array with no mode active (NOTE [ View fast paths ]): a
    C-contiguous array always reshapes to a view; NumPy infers -1 and refuses a bad size
    (None then: the general path raises PyTorch's error)."""
    if d.flags.c_contiguous:
        sh = shape if len(shape) == 1 and shape[0].__class__ is int else _int_shape(shape)
        if sh is not None:
            try:
                r = d.reshape(sh)
            except (ValueError, TypeError, OverflowError):
                return None
            new = r.shape
            if new == sh or min(sh) >= -1:  # NumPy takes any negative size as -1
                return emit_view(_VIEW, input, r, (new, d.shape, _V))
    return None


@register(function=False)
def view(input, *shape):
    d = input._data
    if not _MODES and d.__class__ is _ndarray:
        y = _reshape_fast(input, d, shape)
        if y is not None:
            return y
    if len(shape) == 1 and (isinstance(shape[0], D.dtype) or
                            (isinstance(shape[0], type) and shape[0] is not tuple)):
        return _view_dtype(input, D.to_dtype(shape[0]))
    shape = _infer(_shape_arg(shape), input._data.size, "view")
    try:
        return apply(_VIEW, (input,), (shape, input._data.shape, _V))
    except RuntimeError:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces): input shape "
            f"{list(input.shape)}, requested {list(shape)}. Use .reshape(...) instead.") from None


def _view_dtype(input, dt):
    from ember._ops.core import _mark_view, wrap

    try:
        y = wrap(input._data.view(dt.np))
    except ValueError as e:
        raise RuntimeError(f"view(dtype): {e}") from None
    _mark_view(y, input, _VIEW, None)
    return y


@register
def reshape(input, *shape):
    d = input._data
    if not _MODES and d.__class__ is _ndarray:
        y = _reshape_fast(input, d, shape)
        if y is not None:
            return y
    shape = _infer(_shape_arg(shape, "reshape"), input._data.size, "reshape")
    d = input._data
    if d.shape == shape:
        return apply(_VIEW, (input,), (shape, d.shape, _V))
    viewable = True
    if not d.flags.c_contiguous:
        try:
            xp.reshape(d, shape, copy=False)
        except ValueError:
            viewable = False
    if viewable:
        return apply(_VIEW, (input,), (shape, d.shape, _V))
    return apply(_RESHAPE_COPY, (input,), (shape, d.shape))


@register(function=False)
def view_as(input, other):
    d = input._data
    shp = other._data.shape
    if not _MODES and d.__class__ is _ndarray and d.flags.c_contiguous and \
            d.size == other._data.size:  # NOTE [ View fast paths ]: a valid shape already
        return emit_view(_VIEW, input, d.reshape(shp), (shp, d.shape, _V))
    return view(input, shp)


@register(function=False)
def reshape_as(input, other):
    d = input._data
    shp = other._data.shape
    if not _MODES and d.__class__ is _ndarray and d.flags.c_contiguous and \
            d.size == other._data.size:  # NOTE [ View fast paths ]: as view_as
        return emit_view(_VIEW, input, d.reshape(shp), (shp, d.shape, _V))
    return reshape(input, shp)


@register
def flatten(input, start_dim=0, end_dim=-1):
    d = input._data
    nd = d.ndim
    if not _MODES and d.__class__ is _ndarray and -nd <= start_dim < nd and \
            -nd <= end_dim < nd and d.flags.c_contiguous:  # NOTE [ View fast paths ]
        s = start_dim % nd
        e = end_dim % nd
        if s <= e:
            shp = d.shape
            if s == 0 and e == nd - 1:
                new = (d.size,)
            else:
                n = 1
                for k in shp[s:e + 1]:
                    n *= k
                new = shp[:s] + (n,) + shp[e + 1:]
            return emit_view(_VIEW, input, d.reshape(new), (new, shp, _V))
    if nd == 0:
        _wrap_dim(start_dim, 0, "flatten")  # dims -1 and 0 only, as PyTorch
        _wrap_dim(end_dim, 0, "flatten")
        return reshape(input, 1)
    s = _wrap_dim(start_dim, nd, "flatten")
    e = _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    n = 1
    for k in shp[s:e + 1]:
        n *= k
    new = shp[:s] + (n,) + shp[e + 1:]
    if input._data.flags.c_contiguous:  # always a view; reshape's checks add nothing
        return apply(_VIEW, (input,), (new, shp, _V))
    return reshape(input, new)


@register
def unflatten(input, dim, sizes):
    d = input._data
    shp = d.shape
    nd = len(shp)
    if not _MODES and d.__class__ is _ndarray and -nd <= dim < nd and \
            (sizes.__class__ is tuple or sizes.__class__ is list) and d.flags.c_contiguous:
        k = dim % nd  # NOTE [ View fast paths ]: sizes of ints >= 0 that multiply up
        n = 1
        for s in sizes:
            if s.__class__ is not int or s < 0:
                break
            n *= s
        else:
            if n == shp[k]:
                new = shp[:k] + tuple(sizes) + shp[k + 1:]
                return emit_view(_VIEW, input, d.reshape(new), (new, shp, _V))
    d = _wrap_dim(dim, len(shp), "unflatten")
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"unflatten(): argument 'sizes' (position 3) must be tuple of ints, not "
                        f"{type(sizes).__name__}")
    sizes = tuple(ints_arg("unflatten", "sizes", list(sizes)))
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    if (-1 not in sizes and known != shp[d]) or (-1 in sizes and (known == 0 or shp[d] % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor")
    sizes = _infer(sizes, shp[d], "unflatten")
    new = shp[:d] + sizes + shp[d + 1:]
    if input._data.flags.c_contiguous:  # the sizes were checked: view's checks add nothing
        return apply(_VIEW, (input,), (new, shp, _V))
    return reshape(input, new)


@register
def ravel(input):
    return reshape(input, -1)


# ------------------------------------------------------------------ permutations
_PERMUTE = OpDef("permute", lambda x, dims: xp.transpose(x, dims), None, view=True,
                 onnx="Transpose")
_PERMUTE.attrs = ('dims',)


@_PERMUTE.grad
def _(ctx, g):
    dims = ctx.params[0]
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    return (g.permute(*inv),)


def _permute_fast(input, d, dims):
    """permute of a NumPy array with no mode active (NOTE [ View fast paths ]): NumPy refuses
    repeated and out-of-range dims (None then, for the general path's error)."""
    dd = _int_shape(dims)
    if dd is not None and len(dd) == d.ndim:
        try:
            r = d.transpose(dd)
        except (ValueError, IndexError, TypeError):
            return None
        if dd and min(dd) < 0:
            dd = tuple([k % len(dd) for k in dd])
        return emit_view(_PERMUTE, input, r, (dd,))
    return None


@register
def permute(input, *dims):
    d = input._data
    if not _MODES and d.__class__ is _ndarray:
        y = _permute_fast(input, d, dims)
        if y is not None:
            return y
    dims = _shape_arg(dims, "permute")
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(_PERMUTE, (input,), (dims,))


_TRANSPOSE = OpDef("transpose", lambda x, a, b, _node_name: x.swapaxes(a, b),
                   lambda ctx, g: (g.transpose(ctx.params[0], ctx.params[1]),), view=True,
                   onnx="Transpose", node_names=lambda params: params[2])
_TRANSPOSE.attrs = ('dim0', 'dim1', 'node_name')  # NOTE [ Spellings of one view record ]


@register
def transpose(input, dim0, dim1):
    d = input._data
    nd = d.ndim
    if not _MODES and d.__class__ is _ndarray and -nd <= dim0 < nd and -nd <= dim1 < nd:
        a = dim0 % nd  # NOTE [ View fast paths ] (a 0-dim input never gets here)
        b = dim1 % nd
        return emit_view(_TRANSPOSE, input, d.swapaxes(a, b), (a, b, "TransposeBackward0"))
    a = _wrap_dim(dim0, nd, "transpose")
    b = _wrap_dim(dim1, nd, "transpose")
    if nd == 0:
        return apply(_VIEW, (input,), ((), (), "TransposeBackward0"))
    return apply(_TRANSPOSE, (input,), (a, b, "TransposeBackward0"))


FUNCTIONS["swapdims"] = METHODS["swapdims"] = transpose


@register
def swapaxes(input, axis0, axis1):  # transpose under NumPy's name, with its keywords
    return transpose(input, axis0, axis1)


@register
def t(input):
    d = input._data
    if d.ndim == 2 and not _MODES and d.__class__ is _ndarray:  # NOTE [ View fast paths ]
        return emit_view(_TRANSPOSE, input, d.T, (0, 1, "TBackward0"))
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    if input._data.ndim == 2:
        return apply(_TRANSPOSE, (input,), (0, 1, "TBackward0"))
    return apply(_VIEW, (input,), (input._data.shape, input._data.shape, "TBackward0"))


@register
def adjoint(input):
    return transpose(input, -2, -1).conj() if input.is_complex() else transpose(input, -2, -1)


def _movedim_fwd(x, s, d):
    # the permutation np.moveaxis builds, without its argument normalisation (the wrapper
    # has wrapped and checked the dims): a view costs about a microsecond less
    order = [i for i in range(x.ndim) if i not in s]
    for dst, src in sorted(zip(d, s)):
        order.insert(dst, src)
    return x.transpose(order)


_MOVEDIM = OpDef("movedim", _movedim_fwd,
                 lambda ctx, g: (g.movedim(ctx.params[1], ctx.params[0]),), view=True,
                 node_name="PermuteBackward0")  # PyTorch's movedim is a permute
_MOVEDIM.attrs = ('source', 'destination')


@register
def movedim(input, source, destination):
    d = input._data
    nd = d.ndim
    if source.__class__ is int and destination.__class__ is int and \
            -nd <= source < nd and -nd <= destination < nd:  # the common call, checked here
        src = source % nd
        dst = destination % nd
        params = ((src,), (dst,))
        if not _MODES and d.__class__ is _ndarray:  # NOTE [ View fast paths ]
            order = list(range(nd))  # _movedim_fwd's permutation for one dim
            del order[src]
            order.insert(dst, src)
            return emit_view(_MOVEDIM, input, d.transpose(order), params)
        return apply(_MOVEDIM, (input,), params)
    s = (source,) if isinstance(source, int) else tuple(source)
    d = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(s) != len(d):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(s)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(d)} dims)")
    s = tuple(_wrap_dim(x, nd, "movedim") for x in s)
    d = tuple(_wrap_dim(x, nd, "movedim") for x in d)
    for name, dims in (("source", s), ("destination", d)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    return apply(_MOVEDIM, (input,), (s, d))


FUNCTIONS["moveaxis"] = METHODS["moveaxis"] = movedim


# ------------------------------------------------------------------ squeeze / unsqueeze / expand
@register
def squeeze(input, dim=None):
    d = input._data
    shp = d.shape
    if not _MODES and d.__class__ is _ndarray:  # NOTE [ View fast paths ]
        nd = len(shp)
        new = None
        if dim is None:
            new = tuple([s for s in shp if s != 1]) if 1 in shp else shp
            name = "SqueezeBackward0"
        elif dim.__class__ is int and -nd <= dim < nd:
            k = dim % nd
            new = shp[:k] + shp[k + 1:] if shp[k] == 1 else shp
            name = "SqueezeBackward1"
        if new is not None:
            r = d.reshape(new) if d.flags.c_contiguous else _np_reshape(d, new, copy=False)
            return emit_view(_VIEW, input, r, (new, shp, name))
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        wrapped = [_wrap_dim(d, len(shp), "squeeze") for d in dims]  # 0-dim: -1 and 0 only
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"squeeze(): dim {max(wrapped, key=wrapped.count)} appears "
                               "multiple times in the list of dims")
        dims = set(wrapped) if shp else set()
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    # squeeze(), squeeze(int), squeeze(dims): PyTorch's three overloads (NOTE [ Node names ])
    return apply(_VIEW, (input,), (new, shp, "SqueezeBackward0" if dim is None else
                                   "SqueezeBackward1" if isinstance(dim, int) else
                                   "SqueezeBackward2"))


@register
def unsqueeze(input, dim):
    d = input._data
    shp = d.shape
    n = len(shp) + 1
    if not _MODES and d.__class__ is _ndarray and -n <= dim < n:  # NOTE [ View fast paths ]
        k = dim + n if dim < 0 else dim
        new = shp[:k] + (1,) + shp[k:]
        r = d.reshape(new) if d.flags.c_contiguous else _np_reshape(d, new, copy=False)
        return emit_view(_VIEW, input, r, (new, shp, "UnsqueezeBackward0"))
    d = _wrap_dim(dim, len(shp) + 1, "unsqueeze")
    return apply(_VIEW, (input,), (shp[:d] + (1,) + shp[d:], shp, "UnsqueezeBackward0"))


def _expand_fwd(x, shape):
    if x.__class__ is not xp.ndarray or not x.flags.c_contiguous:
        return xp_of(x).broadcast_to(x, shape)
    # Same result as np.broadcast_to, built directly (broadcast_to costs ~2us per call).
    lead = len(shape) - x.ndim
    strides = [0] * lead
    for n, st, t in zip(x.shape, x.strides, shape[lead:]):
        strides.append(0 if n == 1 and t != 1 else st)
    r = xp.ndarray(shape, x.dtype, x, 0, tuple(strides))
    r.setflags(write=False)  # several elements share memory: in-place writes are refused
    return r  # (setflags: half the cost of assigning flags.writeable)


_EXPANDS: dict = {}  # (sizes, shape, strides) -> the expansion's (shape, strides); shapes repeat


def _expansion(sz, shp, st):
    """The shape and strides of a C-contiguous array of ``shp``/``st`` expanded to sizes
    ``sz`` (ints), or None when PyTorch refuses them (then the general path raises)."""
    lead = len(sz) - len(shp)
    if lead < 0 or (lead and min(sz[:lead]) < 0):
        return None
    strides = [0] * lead
    new = list(sz)
    for i, n in enumerate(shp):
        s = sz[lead + i]
        if s == n or s == -1:
            strides.append(st[i])
            new[lead + i] = n
        elif n == 1 and s >= 0:
            strides.append(0)
        else:
            return None
    if len(_EXPANDS) > 512:
        _EXPANDS.clear()
    r = _EXPANDS[sz, shp, st] = (tuple(new), tuple(strides))
    return r


# The engine sums a gradient back to its input's shape, so expand's formula is the identity.
_EXPAND = OpDef("expand", _expand_fwd, lambda ctx, g: (g,), view=True, onnx="Expand")
_EXPAND.attrs = ('size',)


def _expand_fast(input, d, sizes):
    """expand of a NumPy array with no mode active (NOTE [ View fast paths ]): _expand_fwd's
    array, built here from the cached expansion; None for the general path (a C-order copy
    is not ours to stride, an alias, or PyTorch's error)."""
    sz = _int_shape(sizes)
    shp = d.shape
    if sz == shp:  # the general path's record: a view of the same shape (any strides)
        return emit_view(_VIEW, input, d.view(), (shp, shp, "ExpandBackward0"))
    if d.flags.c_contiguous and sz is not None:
        st = d.strides
        ex = _EXPANDS.get((sz, shp, st)) or _expansion(sz, shp, st)
        if ex is not None:
            r = _ndarray(ex[0], d.dtype, d, 0, ex[1])
            r.setflags(write=False)  # as _expand_fwd
            return emit_view(_EXPAND, input, r, (ex[0],))
    return None


@register(function=False)
def expand(input, *sizes):
    d = input._data
    if not _MODES and d.__class__ is _ndarray:
        y = _expand_fast(input, d, sizes)
        if y is not None:
            return y
    sizes = _shape_arg(sizes, "expand")
    shp = input._data.shape
    if len(sizes) < len(shp):
        _no_overflow(sizes, "expand", "size")
        raise RuntimeError(f"expand({input.type()}{{{list(shp)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    new = []
    for i, s in enumerate(sizes):
        if s == -1:
            if i < lead:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing "
                                   "dimension")
            s = shp[i - lead]
        elif i >= lead and shp[i - lead] != 1 and shp[i - lead] != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({shp[i - lead]}) at non-singleton dimension {i}.  Target "
                               f"sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
        new.append(s)
    new = tuple(new)
    if new == shp:
        return apply(_VIEW, (input,), (shp, shp, "ExpandBackward0"))
    return apply(_EXPAND, (input,), (new,))


@register(function=False)
def expand_as(input, other):
    d = input._data
    sz = other._data.shape
    if not _MODES and d.__class__ is _ndarray and d.flags.c_contiguous:
        shp = d.shape  # NOTE [ View fast paths ]: expand's, for a shape of ints
        st = d.strides
        ex = _EXPANDS.get((sz, shp, st)) or sz != shp and _expansion(sz, shp, st)
        if ex:
            r = _ndarray(ex[0], d.dtype, d, 0, ex[1])
            r.setflags(write=False)
            return emit_view(_EXPAND, input, r, (ex[0],))
    return expand(input, sz)


# the last fast broadcast_to: (size object, input shape, input strides, expansion). A call
# with the very same size tuple (a constant in a loop) and an input of that layout skips the
# size's element checks and the cache key (~0.3 of ~1.4 us): the tuple, held here, cannot
# have changed. Rebound whole, so a reader sees one consistent entry.
_LAST_BROADCAST = (None, None, None, None)


@register
def broadcast_to(input, size):
    global _LAST_BROADCAST
    d = input._data
    if not _MODES and d.__class__ is _ndarray and d.flags.c_contiguous and \
            size.__class__ is tuple:  # NOTE [ View fast paths ]: expand's, for ints
        last = _LAST_BROADCAST
        if last[0] is size and last[1] == d.shape and last[2] == d.strides:
            ex = last[3]
            r = _ndarray(ex[0], d.dtype, d, 0, ex[1])
            r.setflags(write=False)
            return emit_view(_EXPAND, input, r, (ex[0],))
        for s in size:
            if s.__class__ is not int:
                break
        else:
            shp = d.shape
            st = d.strides
            ex = _EXPANDS.get((size, shp, st)) or size != shp and _expansion(size, shp, st)
            if ex:
                _LAST_BROADCAST = (size, shp, st, ex)
                r = _ndarray(ex[0], d.dtype, d, 0, ex[1])
                r.setflags(write=False)
                return emit_view(_EXPAND, input, r, (ex[0],))
    return expand(input, tuple(size))


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        raise RuntimeError("broadcast_tensors: shapes " + ", ".join(
            str(list(t.shape)) for t in tensors) + " are not broadcastable") from None
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s)
                                          for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{shapes}") from None


FUNCTIONS["broadcast_tensors"] = broadcast_tensors
FUNCTIONS["broadcast_shapes"] = broadcast_shapes


@register(function=False)
def contiguous(input, memory_format=None):  # noqa: ARG001 - a memory-format hint: results are the same in any format
    if input._data.flags.c_contiguous:
        return input
    return apply(_CONTIG, (input,))


_CONTIG = OpDef("contiguous", lambda x: xp_of(x).ascontiguousarray(x), lambda ctx, g: (g,),
                node_name="CloneBackward0")


# ------------------------------------------------------------------ slicing views
@register
def narrow(input, dim, start, length):
    d = input._data
    nd = d.ndim
    if not _MODES and d.__class__ is _ndarray and -nd <= dim < nd and start.__class__ is int:
        k = dim % nd  # NOTE [ View fast paths ]
        size = d.shape[k]
        if start < 0:
            start += size
        if 0 <= start and 0 <= length and start + length <= size:
            idx = [_ALL] * nd
            idx[k] = slice(start, start + length)
            key = tuple(idx)
            return emit_view(_INDEX_VIEW, input, d[key], (key, d.shape, "SliceBackward0"))
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, nd, "narrow")
    size = input._data.shape[d]
    if isinstance(start, Tensor):
        start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    idx = [slice(None)] * nd
    idx[d] = slice(start, start + length)
    # the node's name rides on the record (a full-length key alone would read as an alias)
    return apply(_INDEX_VIEW, (input,), (tuple(idx), input._data.shape, "SliceBackward0"))


@register
def select(input, dim, index):
    d = input._data
    nd = d.ndim
    if not _MODES and d.__class__ is _ndarray and -nd <= dim < nd:
        k = dim % nd  # NOTE [ View fast paths ]
        size = d.shape[k]
        if -size <= index < size:
            idx = [_ALL] * nd
            idx[k] = index + size if index < 0 else index
            key = tuple(idx)
            r = d[key]
            if r.__class__ is not _ndarray:  # one int on a 1-dim array: NumPy gives a scalar
                r = d[key + (Ellipsis,)]
            return emit_view(_INDEX_VIEW, input, r, (key, d.shape))
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, nd, "select")
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    idx = [slice(None)] * nd
    idx[d] = index + size if index < 0 else index
    return index_view(input, tuple(idx))


# NOTE [ Split as one node ]
# unbind/split/chunk return k views of their input. Built as k slice views, each piece's
# backward scattered its gradient into a zero tensor of the input's full shape and the engine
# summed the k full-size tensors: O(k * numel) (unbind of 1225 rows took 0.4 s where PyTorch
# takes 14 ms). One multi-output record instead, as PyTorch's SplitBackward0/UnbindBackward0:
# the engine hands its backward all k gradients (zeros for unused pieces, each the size of
# its piece) and one cat/stack rebuilds the input's gradient. Each output is still a view
# (memory and version counter shared) and remembers itself as a slice of the input for view
# replay (NOTE [ In-place on views ] in core.py), so in-place ops on a piece behave as before.
# Under a dispatch mode (tracers, ONNX export) the pieces stay separate slice records, which
# those consumers know.
_KEYS: dict = {}  # (nd, dim, sizes, stack) -> the pieces' index keys; splits repeat shapes


def _split_keys(nd, d, sizes, stack):
    sig = (nd, d, sizes, stack)
    keys = _KEYS.get(sig)
    if keys is None:
        keys, start = [], 0
        for s in sizes:
            k = [slice(None)] * nd
            k[d] = start if stack else slice(start, start + s)
            keys.append(tuple(k))
            start += s
        if len(_KEYS) > 512:
            _KEYS.clear()
        _KEYS[sig] = keys
    return keys


def _piece(x, k):
    r = x[k]
    if r.__class__ is not x.__class__:  # unbind of a 1-dim array: the 0-dim view, not a scalar
        r = x[k + (Ellipsis,)]
    return r


def _pieces(a, d, keys, stack):
    """The arrays of the pieces of ``a`` along ``d`` (``keys`` from ``_split_keys``)."""
    if not stack:
        return [a[k] for k in keys]
    if a.ndim == 1:
        return [_piece(a, k) for k in keys]
    if a.__class__ is _ndarray:  # rows of the array (or of its dim moved first): NumPy's loop
        return list(a) if d == 0 else list(a.swapaxes(0, 1) if d == 1 else
                                            _movedim_fwd(a, (d,), (0,)))
    return [a[k] for k in keys]


def _split_fwd(x, dim, sizes, stack, name):  # noqa: ARG001 - name picks the node's name
    return tuple(_pieces(x, dim, _split_keys(x.ndim, dim, sizes, stack), stack))


_SPLIT = OpDef("split_views", _split_fwd, None, multi=True, kind="view",
               attrs=("dim", "split_sizes", "stack", "node_name"),
               node_names=lambda params: params[3])


def _unsplit_fwd(*arrays_dim_sizes_stack):
    *arrays, dim, _sizes, stacked = arrays_dim_sizes_stack
    xp_ = xp_of(arrays[0])
    return xp_.stack(arrays, axis=dim) if stacked else xp_.concatenate(arrays, axis=dim)


# the pieces' gradients joined in one pass (stack would unsqueeze each piece first)
_UNSPLIT = OpDef("split_backward", _unsplit_fwd, None, attrs=("dim", "split_sizes", "stack"),
                 node_name="CatBackward0")


@_UNSPLIT.grad
def _(ctx, gg):
    dim, sizes, stacked = ctx.params
    return _split_views(gg, dim, sizes, stacked, "SplitBackward0")


@_SPLIT.grad
def _(ctx, g):
    dim, sizes, stacked, _name = ctx.params
    return (apply(_UNSPLIT, tuple(g), (dim, sizes, stacked)),)


def _split_views(x, d, sizes, stack_, name):
    """The pieces of ``x`` along ``d`` as views (NOTE [ Split as one node ])."""
    if _MODES or not sizes:  # (nothing to record for zero pieces)
        out, start = [], 0
        for s in sizes:
            y = select(x, d, start) if stack_ else narrow(x, d, start, s)
            out.append(y if y._grad_fn is None else renamed(y, _INDEX_VIEW, name))
            start += s
        return tuple(out)
    sizes = tuple(sizes)
    a = x._data
    if a.__class__ is _ndarray and not (x._requires_grad and GRAD.enabled):
        # NOTE [ View fast paths ]: no node to record, so each piece is its slice view,
        # as the general path below marks it
        keys = _split_keys(a.ndim, d, sizes, stack_)
        return emit_pieces(_INDEX_VIEW, x, _pieces(a, d, keys, stack_), keys)
    outs = apply(_SPLIT, (x,), (d, sizes, stack_, name))
    shape = x._data.shape
    for y, k in zip(outs, _split_keys(len(shape), d, sizes, stack_)):
        _mark_view(y, x, _INDEX_VIEW, (k, shape))
    return outs


@register
def unbind(input, dim=0):
    d = _wrap_dim(dim, input._data.ndim, "unbind")
    return _split_views(input, d, [1] * input._data.shape[d], True, "UnbindBackward0")


@register
def split(tensor, split_size_or_sections, dim=0):
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, tensor._data.ndim, "split")
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        # an empty dim still splits into one (empty) piece
        sizes = ([s] * (n // s) + ([n % s] if n % s else [])) or [0] if s > 0 else [0]
    else:
        sizes = list(split_size_or_sections)
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    name = "SplitBackward0" if isinstance(split_size_or_sections, int) else \
        "SplitWithSizesBackward0"
    return _split_views(tensor, d, sizes, False, name)


@register
def chunk(input, chunks, dim=0):
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = dim + nd if -nd <= dim < 0 else dim if 0 <= dim < nd else _wrap_dim(dim, nd, "chunk")
    n = input._data.shape[d]
    if not n:
        return tuple(narrow(input, d, 0, 0) for _ in range(chunks))
    s = -(-n // chunks)  # split(input, s, d)'s pieces, without its checks
    return _split_views(input, d, [s] * (n // s) + ([n % s] if n % s else []), False,
                        "SplitBackward0")


@register
def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    nd = input._data.ndim
    if indices_or_sections.__class__ is int and indices_or_sections > 0 and -nd <= dim < nd \
            and sections is None and indices is None and tensor_indices_or_sections is None:
        d = dim % nd  # the common call: k sections (NOTE [ View fast paths ])
        q, r = divmod(input._data.shape[d], indices_or_sections)
        return _split_views(input, d, [q + 1] * r + [q] * (indices_or_sections - r), False,
                            "SliceBackward0")
    # PyTorch's three overloads name the second argument sections / indices /
    # tensor_indices_or_sections; its documentation (and ember's positional name) says
    # indices_or_sections: exactly one of the four
    given = [v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections)
             if v is not None]
    if len(given) != 1:
        raise TypeError("tensor_split() takes exactly one of indices_or_sections, sections, "
                        f"indices or tensor_indices_or_sections ({len(given)} given)")
    indices_or_sections = given[0]
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = _wrap_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor):  # a 0-dim count or a 1-dim list of indices
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
    else:
        idx = [0] + [min(max(i, 0), n) for i in indices_or_sections] + [n]
        sizes = [max(b - a, 0) for a, b in zip(idx[:-1], idx[1:])]
    if sum(sizes) == n:  # the pieces tile the dim: one record (NOTE [ Split as one node ])
        return _split_views(input, d, sizes, False, "SliceBackward0")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(input, d, start, s))
        start += s
    return tuple(out)


# ------------------------------------------------------------------ joining
def _cat_fwd(*arrays_dim_sizes):
    *arrays, dim, sizes = arrays_dim_sizes
    a0 = arrays[0]  # NOTE [ Threaded concatenation and copies ]; small cats stay on NumPy
    if a0.__class__ is np.ndarray and a0.nbytes + arrays[-1].nbytes >= 32768:
        from ember._codegen import copy_kernels

        r = copy_kernels.concat(arrays, dim)
        if r is not None:
            return r
    return xp_of(arrays[0]).concatenate(arrays, axis=dim)


_CAT = OpDef("cat", _cat_fwd, None, onnx="Concat", attrs=("dim", "sizes"))


@_CAT.grad
def _(ctx, g):
    dim, sizes = ctx.params
    return tuple(split(g, sizes, dim))


def _check_seq(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        if name in ("cat", "concat", "concatenate"):  # PyTorch's Python-level check
            raise ValueError(f"torch.{name}(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")


def _promote_all(tensors):
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = D.promote_types(dt, t.dtype)
    return [t if t.dtype is dt else t.to(dt) for t in tensors]


def cat(tensors, dim=0, *, out=None):
    _check_seq(tensors, "cat")
    # PyTorch skips 1-D empty tensors (legacy behaviour) when concatenating.
    ts = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)] or [tensors[0]]
    ts = _promote_all(ts)
    nd = ts[0]._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, nd, "cat")
    ref = ts[0]._data.shape
    for i, t in enumerate(ts):
        s = t._data.shape
        if len(s) != nd or any(a != b for j, (a, b) in enumerate(zip(s, ref)) if j != d):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                               f"size {ref} but got size {s} for tensor number {i} in the list.")
    sizes = tuple(t._data.shape[d] for t in ts)
    if out is not None and out.__class__ is Tensor and _cat_into(out, ts, d):
        return out  # NOTE [ Results written where they belong ] (elementwise.py)
    r = apply(_CAT, tuple(ts), (d, sizes))
    if out is not None:
        from ember._ops.core import write_out

        return write_out("cat", out, r)
    return r


def _cat_into(out, ts, d):
    """The threaded concatenation written straight into ``out`` (host arrays of one dtype,
    no mode, no gradient, a large C-contiguous ``out`` of the result's shape that shares no
    memory with an operand): True when done."""
    o = out._data
    if _MODES or o.__class__ is not _ndarray or o.nbytes < (1 << 16) or GRAD.enabled and (
            out._requires_grad or out._base is not None and out._base._requires_grad or
            any(t._requires_grad for t in ts)):
        return False
    from ember._codegen import copy_kernels

    if copy_kernels.concat([t._data for t in ts], d, out=o) is None:
        return False
    out._bump()
    return True


def stack(tensors, dim=0, *, out=None):
    _check_seq(tensors, "stack")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} "
                               f"at entry 0 and {list(t.shape)} at entry {i}")
    d = _wrap_dim(dim, len(ref) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


for _f in (cat, stack):
    FUNCTIONS[_f.__name__] = _f
FUNCTIONS["concat"] = FUNCTIONS["concatenate"] = cat


def hstack(tensors, *, out=None):
    if not tensors:
        raise RuntimeError("hstack expects a non-empty TensorList")
    tensors = [t if t.ndim else t.reshape(1) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0, out=out)


def dstack(tensors, *, out=None):
    ts = []
    for t in tensors:
        if t.ndim == 0:
            t = t.reshape(1, 1, 1)
        elif t.ndim == 1:
            t = t.reshape(1, -1, 1)
        elif t.ndim == 2:
            t = t.unsqueeze(-1)
        ts.append(t)
    return cat(ts, 2, out=out)


for _f in (hstack, vstack, dstack):
    FUNCTIONS[_f.__name__] = _f
FUNCTIONS["row_stack"] = vstack


# ------------------------------------------------------------------ copies: flip, roll, repeat
def _flip_fwd(x, dims):
    if len(dims) == 1:  # one dim: the threaded row copy (NOTE [ Flip and roll kernels ])
        from ember._codegen import copy_kernels

        y = copy_kernels.flip(x, dims[0])
        if y is not None:
            return y
    return xp_of(x).flip(x, dims).copy()


def _roll_fwd(x, shifts, dims):
    if len(dims) == 1:
        from ember._codegen import copy_kernels

        y = copy_kernels.roll(x, shifts[0], dims[0])
        if y is not None:
            return y
    return xp_of(x).roll(x, shifts, dims)


_FLIP = OpDef("flip", _flip_fwd, lambda ctx, g: (g.flip(ctx.params[0]),))
_FLIP.attrs = ('dims',)


@register
def flip(input, *dims):
    dims = _shape_arg(dims, "flip")
    nd = input._data.ndim
    return apply(_FLIP, (input,), (tuple(_wrap_dim(d, nd, "flip") for d in dims),))


_ROLL = OpDef("roll", _roll_fwd,
              lambda ctx, g: (g.roll(tuple(-s for s in ctx.params[0]), ctx.params[1]),))
_ROLL.attrs = ('shifts', 'dims')


@register
def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        return roll(input.flatten(), shifts, 0).view(input.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    nd = input._data.ndim
    dims = tuple(_wrap_dim(d, nd, "roll") for d in dims)
    return apply(_ROLL, (input,), (shifts, dims))


def _repeat_fwd(x, sizes):
    # np.tile always allocates: PyTorch's repeat never shares memory with its input.
    if x.__class__ is np.ndarray and x.nbytes >= 32768 and x.flags.c_contiguous:
        r = _repeat_threaded(x, sizes)
        if r is not None:
            return r
    return xp.tile(x, sizes) if x.ndim or sizes else x.copy()


def _repeat_threaded(x, sizes):
    # NOTE [ repeat as threaded concatenations ]: np.tile is a broadcast copy through a
    # strided (r0, s0, r1, s1, ...) view, one core (tile (2, 1) of 1e6 float32: ~200 us,
    # PyTorch ~100 at two threads). Repeating a C-contiguous array along one dim is the
    # concatenation of r copies of it along that dim, which copy_kernels.concat does as
    # threaded row memcpys: each repeated dim is one such pass, innermost first (so the
    # earlier passes write the smaller arrays). The bytes are copied, never converted:
    # np.tile's result bit for bit. None (NumPy's tile) without a compiler.
    from ember._codegen import copy_kernels

    y = x.reshape((1,) * (len(sizes) - x.ndim) + x.shape)
    fresh = False
    for d in range(len(sizes) - 1, -1, -1):
        r = sizes[d]
        if r == 1:
            continue
        if r == 0 or y.size == 0:
            return None  # an empty result: NumPy's tile allocates it as quickly
        y = copy_kernels.concat((y,) * r, d)
        if y is None:
            return None
        fresh = True
    return y if fresh else None  # all ones: NumPy's copy


def _repeat_bwd(ctx, g):
    # Each output element is one input element: view the gradient as (r0, s0, r1, s1, ...)
    # and sum over the repeat axes.
    sizes, shape = ctx.params[0], ctx.params[1]
    lead = (1,) * (len(sizes) - len(shape)) + tuple(shape)
    inter = []
    for r, n in zip(sizes, lead):
        inter += [r, n]
    gs = g.reshape(inter).sum(tuple(range(0, 2 * len(sizes), 2))) if sizes else g
    return (gs.reshape(shape),)


_REPEAT = OpDef("repeat", lambda x, sizes, _shape: _repeat_fwd(x, sizes), _repeat_bwd,
                attrs=("repeats", "self_sizes"), onnx="Tile")


@register
def repeat(input, *sizes):
    """Repeat ``input`` along each dim; the result is always fresh memory (never a view).

    Args:
        input: the tensor to repeat.
        sizes: repeats per dim (ints or one sequence), at least ``input.dim()`` of them.

    Example:
        >>> ember.zeros(1, 2).repeat(2, 1).add_(1).shape
        ember.Size([2, 2])
    """
    sizes = _shape_arg(sizes, "repeat")
    nd = input._data.ndim
    if len(sizes) < nd:
        _no_overflow(sizes, "repeat", "repeats")
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    for r in sizes:
        if r < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {r}: "
                               f"{list(sizes)}")
    return apply(_REPEAT, (input,), (tuple(sizes), input._data.shape))


@register
def tile(input, *dims):
    """Repeat ``input`` like ``repeat``, padding ``dims`` with leading ones; always a copy.

    Args:
        input: the tensor to tile.
        dims: repeats per dim: ints or one sequence; fewer than ``input.dim()`` are padded
            with ones on the left.

    Example:
        >>> ember.arange(3).tile(2)
        tensor([0, 1, 2, 0, 1, 2])
    """
    dims = _shape_arg(dims, "tile")
    _no_overflow(dims, "tile", "dims")
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


# NOTE [ View fast paths ] (fronts): the generated argument-checking front of a *varargs op
# (NOTE [ Argument checks by parameter name ] in args.py) forwards with ``_fn(input, *_va)``,
# ~0.2 us of a ~1 us view. The published reshape/view/permute/expand are therefore these
# fronts: a call with no keywords on a NumPy tensor with no mode active runs the fast path
# directly; anything else (the varargs keyword, a non-Tensor input, the general path) goes
# to the generated front, so arguments, keywords and errors stay as they were.
_NATIVE_FRONTS = {}


def _fast_front(name, fast):
    gen = METHODS[name]  # the generated front (view/expand are methods only)

    def front(input, *_va, **kw):
        if not kw and not _MODES:
            try:
                d = input._data
            except AttributeError:  # not a Tensor: the generated front's TypeError
                d = None
            if d.__class__ is _ndarray:
                y = fast(input, d, _va)
                if y is not None:
                    return y
        return gen(input, *_va, **kw)

    for a in ("__name__", "__doc__", "__wrapped__", "__signature__", "__ember_checked__",
              "__ember_varargs_kw__"):
        if hasattr(gen, a):
            setattr(front, a, getattr(gen, a))
    front.__module__ = __name__  # pickled by reference to this module's name for it
    front.__qualname__ = f"_fast_front_{name}"
    globals()[front.__qualname__] = front
    _NATIVE_FRONTS[name] = gen
    METHODS[name] = front
    if FUNCTIONS.get(name) is gen:
        FUNCTIONS[name] = front
    return front


for _name, _fast in (("reshape", _reshape_fast), ("view", _reshape_fast),
                     ("permute", _permute_fast), ("expand", _expand_fast)):
    _fast_front(_name, _fast)
