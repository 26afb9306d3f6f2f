"""Matrix products: matmul, mm, bmm, mv, dot, outer, addmm, baddbmm, einsum."""

from __future__ import annotations

import math
import string

import numpy as np

from ember._backends import xp_of
from ember._ops.core import FUNCTIONS, METHODS, OpDef, apply, register, write_out
from ember._ops.shape import _TRANSPOSE
from ember._tensor import Tensor
from ember._ops.outarg import with_out

xp = np


def _check_dtypes(name, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = a if not isinstance(a, Tensor) else b
        raise TypeError(f"{name}(): argument must be Tensor, not {type(bad).__name__}")
    if a._data.dtype != b._data.dtype:
        if name in ("dot", "vdot"):  # PyTorch's text for the vector products
            raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                               f"{a.dtype._short} and {b.dtype._short}")
        raise RuntimeError(f"{name}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype._short.lower()} != {b.dtype._short.lower()}")


def _matmul_fwd(a, b):
    nd = a.ndim
    if nd == 2:  # (the common case first: each check costs the small products ~50 ns)
        if a.shape[1] == 1 and b.ndim == 2 and a.size * b.size >= _OUTER_MIN:
            r = _outer_gemm(a, b)  # NOTE [ Outer products through BLAS ] (None: doesn't apply)
            if r is not None:
                return r
        return xp_of(a).matmul(a, b)
    if nd == 1 and b.ndim == 1 and a.size >= _DOT_MIN:
        r = _threaded_dot(a, b)  # NOTE [ Threaded dot product ] (None: does not apply)
        if r is not None:
            return r
    if nd > 2 and b.ndim == 2:
        # One GEMM over all leading dims: NumPy's stacked matmul runs one small GEMM per
        # leading index (an LSTM's (64, 32, 64) @ (64, 1024) input projection: 6.1 ms
        # stacked, 4.3 ms as one GEMM, the copy of a transposed input included).
        lead = a.shape[:-1]
        y = xp_of(a).matmul(a.reshape(math.prod(lead), a.shape[-1]), b)
        return y.reshape(*lead, b.shape[1])
    if nd == 3 and b.ndim == 3:
        r = _batched(a, b)  # NOTE [ Batched products on two threads ] (None: NumPy's)
        if r is not None:
            return r
    return xp_of(a).matmul(a, b)


def _batched(a, b):
    if type(a) is not np.ndarray or a.shape[0] < 2:
        return None
    from ember._codegen.blas import batched_matmul

    return batched_matmul(a, b)


_DOT_MIN = 1 << 17  # reduce_kernels.DOT_MIN, repeated so small calls need no import
_OUTER_MIN = 1 << 16


# NOTE [ Outer products through BLAS ]
# A 2-D product with an inner dimension of 1, (M, 1) @ (1, N), is an outer product: mv's
# gradient in its matrix (outer(g, v)), and vector @ matrix's in its vector. NumPy's matmul
# runs it in its generic loop (1000 x 1000 float32: 1.09 ms) and the broadcast product
# g[:, None] * v that _vector_grads used takes 263 us; the BLAS gemm with K = 1 (the
# direct binding, NOTE [ Direct GEMM binding ]) writes it in 86 us on one thread, threaded
# beyond. Each value is one product (beta = 0), so the result is the broadcast product's
# bit for bit. mv/addmv fwd+bwd 1000 x 1000 on one thread: 334 -> ~160 us (PyTorch 260-400
# on this shared machine).
def _outer_gemm(a, b):
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype != b.dtype:
        return None
    from ember._codegen import blas as _cblas

    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    return out if _cblas.gemm(a, b, out) else None


def _threaded_dot(a, b):
    from ember._codegen.reduce_kernels import dot

    return dot(a, b)


_MATMUL = OpDef("matmul", _matmul_fwd, None, save="x", onnx="MatMul",
                node_name="MmBackward0")


def _mT(x):
    nd = x._data.ndim
    t = apply(_TRANSPOSE, (x,), (nd - 2, nd - 1, "TransposeBackward0"))
    return t.conj() if t._data.dtype.kind == "c" else t


@_MATMUL.grad
def _(ctx, g):
    a, b = ctx.inputs
    a1, b1 = a._data.ndim == 1, b._data.ndim == 1
    if (a1 or b1) and a._data.ndim <= 2 and b._data.ndim <= 2:
        return _vector_grads(ctx, g, a, b, a1, b1)
    if a1 or b1:  # treat vectors as matrices, then drop the added dims
        a = a.unsqueeze(0) if a1 else a
        b = b.unsqueeze(-1) if b1 else b
        g = g.reshape(1, 1) if a1 and b1 else g.unsqueeze(-2) if a1 else g
        g = g.unsqueeze(-1) if b1 and not a1 else g
    ga = gb = None
    if ctx.next[0] is not None:
        ga = apply(_MATMUL, (g, _mT(b)))
        if a1:
            ga = ga.squeeze(-2)
    if ctx.next[1] is not None:
        if a._data.ndim > 2 and b._data.ndim == 2:
            # a matrix applied to a batch: one GEMM over the flattened batch, not a stack of
            # products summed afterwards (the engine's broadcast reduction)
            rows = math.prod(a._data.shape[:-1])
            gb = apply(_MATMUL, (_mT(a.reshape(rows, a._data.shape[-1])),
                                 g.reshape(rows, g._data.shape[-1])))
        else:
            gb = apply(_MATMUL, (_mT(a), g))
        if b1:
            gb = gb.squeeze(-1)
    return ga, gb


def _vector_grads(ctx, g, a, b, a1, b1):
    """matmul's gradients when an operand is a vector and neither has batch dims.

    The general formula turns vectors into 1-row matrices; a product with an inner
    dimension of 1 (dot's g (1,1) @ b (1,n), mv's g (n,1) @ v (1,k)) falls outside NumPy's
    BLAS path into its generic loop (dot's backward on 1e6 elements: 6.5 ms against
    PyTorch's 0.2 ms). The same values as broadcast products and a matrix-vector product:
    dot: g*b, g*a; mv: outer(g, v), M^T g; vector @ matrix: M g, outer(a, g).
    """
    def c(t):  # conj for complex (a product's gradient takes the other factor's conjugate)
        return t.conj() if t._data.dtype.kind == "c" else t

    ga = gb = None
    na, nb = ctx.next[0] is not None, ctx.next[1] is not None
    if a1 and b1:  # (the vector first: the binary fronts size their path by it)
        ga = c(b) * g if na else None
        gb = c(a) * g if nb else None
    elif b1:  # (n, k) @ (k,)
        ga = _outer(g, c(b)) if na else None
        gb = apply(_MATMUL, (_mT(a), g)) if nb else None
    else:  # (k,) @ (k, m)
        ga = apply(_MATMUL, (c(b), g)) if na else None
        gb = _outer(c(a), g) if nb else None
    return ga, gb


def _outer(u, v):
    """outer(u, v) of two vectors: a (M, 1) @ (1, N) matmul where BLAS writes it (NOTE
    [ Outer products through BLAS ]), else the broadcast product."""
    if u._data.dtype == v._data.dtype and u._data.dtype in _GEMM_DT \
            and u._data.size * v._data.size >= _OUTER_MIN:
        return apply(_MATMUL, (u.unsqueeze(-1), v.unsqueeze(0)))
    return u.unsqueeze(-1) * v


_GEMM_DT = (np.dtype(np.float32), np.dtype(np.float64))


def _matmul_shape_error(name, a, b):
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 2 and len(sb) == 2:
        return RuntimeError(f"{name}: mat1 and mat2 shapes cannot be multiplied "
                            f"({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})")
    return RuntimeError(f"{name}: shapes {list(sa)} and {list(sb)} cannot be multiplied")


@register
def matmul(input, other, *, out=None):
    _check_dtypes("matmul", input, other)
    if input._data.ndim == 0 or other._data.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{input._data.ndim}D and {other._data.ndim}D")
    try:
        r = apply(_MATMUL, (input, other))
    except RuntimeError:
        if _matmul_shapes_agree(input._data.shape, other._data.shape):
            raise  # not a shape error (operands on two devices, ...)
        raise _matmul_shape_error("matmul", input, other) from None
    return write_out("matmul", out, r) if out is not None else r


def _matmul_shapes_agree(sa, sb):
    """Whether matmul's shape rules accept ``sa @ sb`` (both at least 1-D)."""
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != k_b:
        return False
    try:
        np.broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2]))
    except ValueError:
        return False
    return True


METHODS["__matmul__"] = matmul
METHODS["__rmatmul__"] = lambda self, other: matmul(other, self)


def _fixed_rank(name, a, b, ra, rb):
    _check_dtypes(name, a, b)
    if a._data.ndim != ra:
        raise RuntimeError(f"{name}: Expected {ra}-D tensor for argument #1 'self', but got "
                           f"{a._data.ndim}-D tensor of shape {list(a.shape)}")
    if b._data.ndim != rb:
        raise RuntimeError(f"{name}: Expected {rb}-D tensor for argument #2, but got "
                           f"{b._data.ndim}-D tensor of shape {list(b.shape)}")


@register
def mm(input, mat2, *, out=None):
    try:
        a, b = input._data, mat2._data
        ok = a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0]
    except AttributeError:
        ok = False
    if not ok:  # find and report what is wrong
        _fixed_rank("mm", input, mat2, 2, 2)
        raise _matmul_shape_error("mm", input, mat2)
    r = apply(_MATMUL, (input, mat2))
    return write_out("mm", out, r) if out is not None else r


@register
def bmm(input, mat2, *, out=None):
    _fixed_rank("bmm", input, mat2, 3, 3)
    sa, sb = input._data.shape, mat2._data.shape
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    r = apply(_MATMUL, (input, mat2))
    return write_out("bmm", out, r) if out is not None else r


@register
def mv(input, vec, *, out=None):
    _fixed_rank("mv", input, vec, 2, 1)
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({input._data.shape[0]}), mat "
                           f"({input._data.shape[0]}x{input._data.shape[1]}), vec "
                           f"({vec._data.shape[0]})")
    r = apply(_MATMUL, (input, vec))
    return write_out("mv", out, r) if out is not None else r


@register
def dot(input, tensor, *, out=None):  # PyTorch's name for the second vector: `tensor`
    _fixed_rank("dot", input, tensor, 1, 1)
    if input._data.shape != tensor._data.shape:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensor "
                           f"[{input._data.shape[0]}] "
                           f"and src [{tensor._data.shape[0]}] to have the same number of "
                           "elements, but got {} and {} elements respectively".format(
                               input._data.shape[0], tensor._data.shape[0]))
    r = apply(_MATMUL, (input, tensor))
    return write_out("dot", out, r) if out is not None else r


@register
@with_out("inner")
def inner(input, other):
    """Inner product over the last dim: shape ``input.shape[:-1] + other.shape[:-1]``.

    Example:
        >>> ember.inner(ember.ones(2, 3), ember.ones(4, 3)).shape
        ember.Size([2, 4])
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    if input.ndim <= 1 and other.ndim <= 1:
        return (input * other).sum(-1)
    from ember._ops.matrices import tensordot

    return tensordot(input, other, ([-1], [-1]))


@register
@with_out("vdot")
def vdot(input, other):
    return dot(input.conj() if input.is_complex() else input, other)


@register
def outer(input, vec2, *, out=None):
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        bad, which = (input, "self") if input._data.ndim != 1 else (vec2, "vec2")
        raise RuntimeError(f"outer: Expected 1-D argument {which}, but got "
                           f"{bad._data.ndim}-D")
    col = input.unsqueeze(1)
    if out is not None:
        from ember._ops.elementwise import _into

        if _into(out, "mul", (col, vec2)):
            return out  # NOTE [ Results written where they belong ]
        return write_out("outer", out, col * vec2)
    return col * vec2  # PyTorch's composite: its node keeps input's view and vec2


FUNCTIONS["ger"] = METHODS["ger"] = outer


def _add_scaled(name, input, p, beta, alpha, out):
    """``beta * input + alpha * p`` for the add* family. With beta == 0 the input is ignored
    (NaN and inf in it do not propagate, as documented for PyTorch), but it must still
    broadcast to the product's shape."""
    if alpha != 1:
        p = p * alpha
    if input._data.shape != p._data.shape:
        try:
            shape = np.broadcast_shapes(input._data.shape, p._data.shape)
        except ValueError:
            shape = None
        if shape != p._data.shape:
            raise RuntimeError(f"{name}: input of shape {list(input.shape)} is not broadcastable "
                               f"to {list(p.shape)}")
    if beta == 0:
        r = p
    else:
        r = p + (input if beta == 1 else input * beta)
    return write_out(name, out, r) if out is not None else r


@register(inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    return _add_scaled("addmm", input, _as_op("addmm", "mm", mm, mat1, mat2), beta, alpha, out)


def _as_op(name, inner, fn, *args):
    """``fn(*args)`` with its errors in ``name``'s words (addmm's come from mm)."""
    try:
        return fn(*args)
    except RuntimeError as e:
        msg = str(e)
        raise RuntimeError(f"{name}: " + (msg[len(inner) + 2:] if msg.startswith(inner + ": ")
                                          else msg)) from None


@register(inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    return _add_scaled("addmv", input, _as_op("addmv", "mv", mv, mat, vec), beta, alpha, out)


@register(inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _add_scaled("baddbmm", input, _as_op("baddbmm", "bmm", bmm, batch1, batch2), beta,
                       alpha, out)


@register(inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _add_scaled("addbmm", input, _as_op("addbmm", "bmm", bmm, batch1, batch2).sum(0),
                       beta, alpha, out)


@register(inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    return _add_scaled("addr", input, outer(vec1, vec2), beta, alpha, out)


# ------------------------------------------------------------------ einsum
def _parse_einsum(eq, shapes):
    """Normalise an equation: expand '...', make the output explicit."""
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the "
                           f"equation ({len(shapes)} operands, {len(terms)} subscripts)")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            ell_n = max(ell_n, len(s) - (len(t) - 3))
    ell = "".join(free[:ell_n])
    new_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_n - k:] if k else "")
        if len(t) != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({len(s)}) for operand")
        new_terms.append(t)
    if rhs is None:
        counts = {}
        for t in new_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return new_terms, rhs


def _einsum_fwd(*arrays_and_eq):
    *arrays, eq = arrays_and_eq
    if len(arrays) == 2:
        r = _einsum_as_matmul(eq, *arrays)
        if r is not None:
            return r
    return xp.einsum(eq, *arrays, optimize=len(arrays) > 2)


def _einsum_as_matmul(eq, a, b):
    """A two-operand einsum as one (batched) matmul, or None when it is not one.

    NumPy's einsum contracts two operands in its own loop, not the BLAS ('bij,bjk->bik'
    on 1e6 elements: 20 ms against PyTorch's 1.7 ms), and ``optimize=True`` only reaches
    the BLAS for contractions without batch letters. Each letter is a batch letter (both
    operands and the output), contracted (both operands only), or kept from one operand;
    letters in one operand only and not in the output are summed first. Operands are
    permuted to (batch, kept, contracted) and (batch, contracted, kept), multiplied, and
    the product permuted to the output's order. Repeated letters in a term (diagonals),
    sizes that differ (broadcast 1s) and non-float dtypes stay on np.einsum.
    """
    if a.dtype != b.dtype or a.dtype.kind not in "fc" or type(a) is not np.ndarray \
            or type(b) is not np.ndarray:
        return None
    lhs, out = eq.split("->")
    ta, tb = lhs.split(",")
    if len(set(ta)) != len(ta) or len(set(tb)) != len(tb) or len(set(out)) != len(out):
        return None
    size = {}
    for t, arr in ((ta, a), (tb, b)):
        for c, n in zip(t, arr.shape):
            if size.setdefault(c, n) != n:
                return None
    # letters only one operand has and the output lacks: summed away first
    sa = tuple(i for i, c in enumerate(ta) if c not in tb and c not in out)
    sb = tuple(i for i, c in enumerate(tb) if c not in ta and c not in out)
    if sa:
        a = a.sum(axis=sa)
        ta = "".join(c for i, c in enumerate(ta) if i not in sa)
    if sb:
        b = b.sum(axis=sb)
        tb = "".join(c for i, c in enumerate(tb) if i not in sb)
    batch = [c for c in out if c in ta and c in tb]
    con = [c for c in ta if c in tb and c not in out]
    ka = [c for c in out if c in ta and c not in tb]
    kb = [c for c in out if c in tb and c not in ta]
    if len(batch) + len(ka) + len(kb) != len(out):
        return None

    def prod(cs):
        n = 1
        for c in cs:
            n *= size[c]
        return n

    nb, nk, nm, nn = prod(batch), prod(con), prod(ka), prod(kb)
    am = a.transpose([ta.index(c) for c in batch + ka + con]).reshape(nb, nm, nk)
    bm = b.transpose([tb.index(c) for c in batch + con + kb]).reshape(nb, nk, nn)
    r = _batched(am, bm) if am.ndim == 3 and bm.ndim == 3 else None
    r = (np.matmul(am, bm) if r is None else r).reshape([size[c] for c in batch + ka + kb])
    order = batch + ka + kb
    return r.transpose([order.index(c) for c in out])


_EINSUM = OpDef("einsum", _einsum_fwd, None, save="x", onnx="Einsum")
_EINSUM.attrs = ('equation',)


@_EINSUM.grad
def _(ctx, g):
    ops = ctx.inputs
    eq = ctx.params[0]
    lhs, rhs = eq.split("->")
    terms = lhs.split(",")
    grads = []
    for i, (t, e) in enumerate(zip(terms, ctx.next)):
        if e is None:
            grads.append(None)
            continue
        others = [(terms[j], ops[j]) for j in range(len(ops)) if j != i]
        avail = set(rhs) | set("".join(s for s, _ in others))
        shape = ops[i]._data.shape
        size = dict(zip(t, shape))
        u = "".join(dict.fromkeys(t))  # t's letters, each once ('ii' -> 'i')
        target = "".join(c for c in u if c in avail)
        sub = ",".join([rhs] + [s for s, _ in others]) + "->" + target
        gi = einsum(sub, g, *[o for _, o in others])
        if target != u:  # letters summed away in the forward: broadcast back
            gi = gi.reshape(tuple(size[c] if c in avail else 1 for c in u))
            gi = gi.expand(tuple(size[c] for c in u))
        if u != t:  # repeated letters read a diagonal: write the gradient back onto it
            gi = _embed_diagonal(gi, u, t, shape)
        grads.append(gi)
    return tuple(grads)


def _embed_diagonal(gu, u, t, shape):
    """``gu`` indexed by the distinct letters ``u`` of ``t`` -> a tensor indexed by ``t``
    that is zero off the diagonals: each repeat of a letter gets a fresh letter tied to the
    first occurrence by an identity matrix, so the result stays differentiable."""
    from ember._ops.creation import eye

    free = iter(c for c in string.ascii_letters if c not in t)
    seen, new_t, eyes = set(), [], []
    for c, n in zip(t, shape):
        if c in seen:
            f = next(free)
            new_t.append(f)
            eyes.append((c + f, n))
        else:
            seen.add(c)
            new_t.append(c)
    eq = ",".join([u] + [s for s, _ in eyes]) + "->" + "".join(new_t)
    return einsum(eq, gu, *[eye(n, dtype=gu.dtype) for _, n in eyes])


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not "
                        f"{type(equation).__name__}")
    for i, o in enumerate(operands):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): expected Tensor as element {i} in argument 'tensors', "
                            f"but got {type(o).__name__}")
        if o.dtype is not operands[0].dtype:  # PyTorch promotes nothing here
            raise RuntimeError(f"einsum(): expected scalar type {operands[0].dtype._short} but "
                               f"found {o.dtype._short}")
    if len(operands) > 1 and operands[0]._data.dtype.kind == "b":
        raise NotImplementedError("einsum(): \"bmm\" not implemented for 'Bool'")
    terms, rhs = _parse_einsum(equation, [o._data.shape for o in operands])
    eq = ",".join(terms) + "->" + rhs
    try:
        return apply(_EINSUM, tuple(operands), (eq,))
    except RuntimeError as e:
        seen = {}  # PyTorch's report: the first subscript whose sizes do not broadcast
        for k, (t, o) in enumerate(zip(terms, operands)):
            if len(t) != o.ndim:
                continue
            for ch, n in zip(t, o.shape):
                m = seen.get(ch, 1)
                if n != m and 1 not in (n, m):
                    raise RuntimeError(f"einsum(): subscript {ch} has size {n} for operand {k} "
                                       f"which does not broadcast with previously seen size "
                                       f"{m}") from None
                seen[ch] = n if m == 1 else m
        msg = str(e)
        raise RuntimeError(msg if msg.startswith("einsum(): ") else f"einsum(): {msg}") \
            from None


FUNCTIONS["einsum"] = einsum
