"""Forward-mode AD on the dispatch spine: dual tensors carried by a ``DispatchMode``.

NOTE [ Forward mode as a dispatch mode ]
``jvp`` runs the function once under ``_ForwardMode``: the mode keeps a tangent for each
tensor it has seen (the primals first), and for every dispatched record with a tangent
input it runs the record and then its tangent rule, keyed by record name (``RULES``):

- linear records (views, reshapes, ``sum``/``mean``, ``cat``, ``add``/``sub``, copies and
  casts, ``index_backward``, ...) apply the record itself to the tangents;
- bilinear ones (``mul``, ``matmul``, ``linear``) use the product rule;
- elementwise functions use their derivative (``exp``, ``tanh``, ``sigmoid``, ``sin``, ...);
- ``softmax``/``log_softmax``, ``where``, ``div``, ``pow`` have their own.

A record without a rule gets an exact tangent by the double-vjp trick on that record alone
(NOTE [ Forward mode by double vjp ] in ``_eager.py``: ``d/du <J^T u, t>``), never zero.
Rules are written in ember ops that run while this mode is popped, so an outer transform
(another ``jvp``, ``vmap``, or reverse-mode autograd around the call) sees and
differentiates them: forward mode nests and composes.

What the mode cannot see: tensors made from raw arrays outside any record. Backward
formulas of fused kernels do that, so when the autograd engine runs inside the region
(``jvp`` of a function that itself takes gradients, e.g. ``jacfwd(jacrev(f))``), the
region's tangents could miss terms; ``jvp`` then recomputes the whole result by double
vjp instead, which is exact. A record's own double-vjp fallback runs the engine too: the
mode that runs it ignores that pass, but an outer ``jvp`` (forward over forward) cannot see
inside it and falls back the same way. Other in-place records and random records that carry a
tangent raise NotImplementedError naming the record rather than guessing.
"""

from __future__ import annotations

import math

import ember
from ember._ops.core import DispatchMode
from ember._tensor import Tensor

__all__ = ["forward_jvp", "RULES"]


def _z(t, x):
    return t if t is not None else ember.zeros_like(x)


def _linear(op, inputs, params, tans, out):
    """Linear in every tensor input (``cat``): the record applied to the tangents."""
    ins = tuple(_z(t, x) if isinstance(x, Tensor) else x for x, t in zip(inputs, tans))
    return _call(op, ins, params)


def _add(op, inputs, params, tans, out, sign=1):
    ta, tb = tans
    if tb is None:
        return ta
    tb = tb if sign == 1 else -tb
    return tb if ta is None else ta + tb


def _sub(op, inputs, params, tans, out):
    return _add(op, inputs, params, tans, out, -1)


def _linear0(op, inputs, params, tans, out):
    """Linear in the first input; the others are not differentiable (indices, shapes)."""
    ins = (_z(tans[0], inputs[0]),) + tuple(inputs[1:])
    return _call(op, ins, params)


def _call(op, ins, params):
    from ember._ops.core import dispatch

    return dispatch(op, tuple(ins), params)


def _mul(op, inputs, params, tans, out):
    a, b = inputs
    ta, tb = tans
    r = None
    if ta is not None:
        r = ta * b
    if tb is not None:
        r = a * tb if r is None else r + a * tb
    return r


def _div(op, inputs, params, tans, out):
    a, b = inputs
    ta, tb = tans
    r = None
    if ta is not None:
        r = ta / b
    if tb is not None:
        s = -out * tb / b
        r = s if r is None else r + s
    return r


def _matmul(op, inputs, params, tans, out):
    a, b = inputs
    ta, tb = tans
    r = None
    if ta is not None:
        r = _call(op, (ta, b), params)
    if tb is not None:
        s = _call(op, (a, tb), params)
        r = s if r is None else r + s
    return r


def _linear_layer(op, inputs, params, tans, out):
    x, w = inputs[0], inputs[1]
    tx, tw = tans[0], tans[1]
    nob = (ember.zeros_like(inputs[2]),) if len(inputs) > 2 else ()
    r = None
    if tx is not None:
        r = _call(op, (tx, w) + nob, params)
    if tw is not None:
        s = _call(op, (x, tw) + nob, params)
        r = s if r is None else r + s
    if len(inputs) > 2 and tans[2] is not None:
        r = tans[2].expand(out.shape) if r is None else r + tans[2]
    return r


def _unary(deriv):
    def rule(op, inputs, params, tans, out):
        return tans[0] * deriv(inputs[0], out)
    return rule


def _pow(op, inputs, params, tans, out):
    """PyTorch's pow derivatives: zero where the exponent is 0 (base term) and where the
    base is 0 with a non-negative exponent (exponent term)."""
    a, b = inputs
    ta, tb = tans
    r = None
    if ta is not None:
        if isinstance(b, Tensor):
            r = ember.where(b == 0, ember.zeros_like(out), b * a ** (b - 1)) * ta
        else:
            r = ta * 0 if b == 0 else ta * (b * a ** (b - 1))
    if isinstance(b, Tensor) and tb is not None:
        if isinstance(a, Tensor):
            la = ember.where((a == 0) & (b >= 0), ember.zeros_like(out), out * ember.log(a))
        else:
            la = out * math.log(a) if a != 0 else ember.zeros_like(out)
        s = tb * la
        r = s if r is None else r + s
    return r


def _softmax(op, inputs, params, tans, out):
    (dim,) = params[:1]
    t = tans[0]
    return out * (t - (out * t).sum(dim, keepdim=True))


def _log_softmax(op, inputs, params, tans, out):
    (dim,) = params[:1]
    t = tans[0]
    return t - (out.exp() * t).sum(dim, keepdim=True)


def _where(op, inputs, params, tans, out):
    c, a, b = inputs
    _, ta, tb = tans
    return ember.where(c, _z(ta, a) if isinstance(a, Tensor) else ember.zeros_like(out),
                       _z(tb, b) if isinstance(b, Tensor) else ember.zeros_like(out))


def _max_pool(op, inputs, params, tans, out):
    """The maxima's tangent: the input tangent gathered at the argmax offsets."""
    from ember._ops.core import OPS

    return (_call(OPS["max_pool_gather"], (tans[0], out[1]), params), None)


RULES = {
    "max_pool": _max_pool,
    # linear in all tensor inputs
    "add": _add, "sub": _sub, "cat": _linear, "neg": _linear0, "clone": _linear0,
    "contiguous": _linear0, "conj": _linear0,
    # linear in the first input
    "view": _linear0, "reshape": _linear0, "expand": _linear0, "permute": _linear0,
    "transpose": _linear0, "movedim": _linear0, "select_view": _linear0, "index": _linear0,
    "diagonal": _linear0, "flip": _linear0, "roll": _linear0, "repeat": _linear0,
    "sum": _linear0, "mean": _linear0, "to_copy": _linear0, "real": _linear0,
    "imag": _linear0, "tril": _linear0, "triu": _linear0, "index_backward": _linear0,
    "constant_pad_nd": _linear0, "cumsum": _linear0, "unfold": _linear0,
    "diagonal_backward": _linear0, "take_axis": _linear0,
    # products
    "mul": _mul, "div": _div, "matmul": _matmul, "linear": _linear_layer, "pow": _pow,
    # elementwise functions: derivative from the input x and the output y
    "exp": _unary(lambda x, y: y), "log": _unary(lambda x, y: 1 / x),
    "sin": _unary(lambda x, y: x.cos()), "cos": _unary(lambda x, y: -x.sin()),
    "tanh": _unary(lambda x, y: 1 - y * y), "sigmoid": _unary(lambda x, y: y * (1 - y)),
    "sqrt": _unary(lambda x, y: 0.5 / y), "rsqrt": _unary(lambda x, y: -0.5 * y / x),
    "reciprocal": _unary(lambda x, y: -y * y), "square": _unary(lambda x, y: 2 * x),
    "log1p": _unary(lambda x, y: 1 / (1 + x)), "expm1": _unary(lambda x, y: y + 1),
    "relu": _unary(lambda x, y: (x > 0).to(x.dtype)),
    "abs": _unary(lambda x, y: x.sign()), "sinh": _unary(lambda x, y: x.cosh()),
    "cosh": _unary(lambda x, y: x.sinh()),
    "softmax": _softmax, "log_softmax": _log_softmax, "where": _where,
}


class _ForwardMode(DispatchMode):
    """The dual-tensor mode of NOTE [ Forward mode as a dispatch mode ]."""

    def __init__(self):
        self.tan = {}  # id(primal) -> (primal, tangent)

    def tangent(self, t):
        e = self.tan.get(id(t))
        return e[1] if e is not None and e[0] is t else None

    def __ember_dispatch__(self, op, inputs, params, run):
        tans = [self.tangent(t) if isinstance(t, Tensor) else None for t in inputs]
        out = run(inputs, params)
        if all(t is None for t in tans):
            return out
        if op.mutates:
            return self._inplace(op, inputs, params, tans, out)
        if op.random:
            raise NotImplementedError(f"jvp: forward-mode AD through the random record "
                                      f"'{op.name}' is not supported")
        rule = RULES.get(op.name)
        outs = out if isinstance(out, tuple) else (out,)
        if rule is not None:
            t_out = rule(op, inputs, params, tans, out)
            if not isinstance(out, tuple):
                t_out = (t_out,)
        else:
            _SUPPRESS.add(id(self))
            try:
                t_out = _record_double_vjp(op, inputs, params, tans, outs)
            except Exception as e:
                raise NotImplementedError(
                    f"jvp: the record '{op.name}' has no tangent rule and its double-vjp "
                    f"fallback failed ({type(e).__name__}: {e})") from e
            finally:
                _SUPPRESS.discard(id(self))
        for o, t in zip(outs, t_out):
            if t is not None and isinstance(o, Tensor) and (o.dtype.is_floating_point
                                                            or o.dtype.is_complex):
                if t.dtype is not o.dtype:
                    t = t.to(o.dtype)
                self.tan[id(o)] = (o, t)
        return out


_INPLACE_LINEAR = frozenset({"copy_", "index_put", "copy_slices"})


def _inplace_rule(self, op, inputs, params, tans, out):
    """An in-place record linear in its tensor inputs writes the tangents the same way
    into the written tensor's tangent (made, as a view of its base's, if it had none)."""
    if op.name not in _INPLACE_LINEAR:
        raise NotImplementedError(f"jvp: forward-mode AD through the in-place record "
                                  f"'{op.name}' is not supported; use its out-of-place form "
                                  "inside the function")
    (i,) = op.mutates
    dst = inputs[i]
    # the record already wrote the primal; write the tangents (through the record itself)
    td = self.ensure(dst)
    ins = list(_z(t, x) if isinstance(x, Tensor) else x for x, t in zip(inputs, tans))
    ins[i] = td
    _call(op, ins, params)
    if isinstance(out, Tensor) and out is not dst:
        self.tan[id(out)] = (out, td)
    return out


def _ensure(self, t):
    """``t``'s tangent, creating zeros (a view of the base's tangent for views)."""
    e = self.tangent(t)
    if e is not None:
        return e
    meta = t._meta.get("view") if t._base is not None and t._meta else None
    if meta is None:
        z = ember.zeros_like(t)
    else:
        src, vop, vparams = meta
        z = _call(vop, (self.ensure(src),), vparams)
    self.tan[id(t)] = (t, z)
    return z


_ForwardMode._inplace = _inplace_rule
_ForwardMode.ensure = _ensure


def _record_double_vjp(op, inputs, params, tans, outs):
    """Exact tangents of one record by differentiating its vjp (no rule needed)."""
    from ember._ops.core import dispatch

    # an outer reverse-mode pass (jacrev of jvp) needs the tangent's graph
    outer = ember.is_grad_enabled() and any(
        isinstance(x, Tensor) and x.requires_grad for x in list(inputs) + list(tans))
    with ember.enable_grad():
        xs = []
        leaves, lt = [], []
        for x, t in zip(inputs, tans):
            if isinstance(x, Tensor) and t is not None:
                # an alias keeps an outer graph through x; a fresh leaf otherwise
                # (an alias through the view record, so an outer jvp keeps x's tangent)
                x2 = x.view_as(x) if x.requires_grad else x.view_as(x).requires_grad_()
                leaves.append(x2)
                lt.append(t)
                xs.append(x2)
            else:
                xs.append(x)
        r = dispatch(op, tuple(xs), params)
        rs = r if isinstance(r, tuple) else (r,)
        diff = [i for i, o in enumerate(rs) if isinstance(o, Tensor) and o.requires_grad]
        res = [None] * len(rs)
        if not diff:
            return res
        us = [ember.zeros_like(rs[i]).requires_grad_() for i in diff]
        gs = ember.autograd.grad([rs[i] for i in diff], leaves, us, create_graph=True,
                                 allow_unused=True)
        pairs = [(g, t) for g, t in zip(gs, lt) if g is not None and g.requires_grad]
        if not pairs:
            return res
        jv = ember.autograd.grad([p[0] for p in pairs], us, [p[1] for p in pairs],
                                 allow_unused=True, create_graph=outer)
    for i, v in zip(diff, jv):
        res[i] = v
    return res


# modes whose per-record double-vjp fallback is running: their own engine watch ignores
# those passes (an outer jvp's watch does not: it cannot see inside them)
_SUPPRESS: set = set()


class _EngineWatch:
    """Notes whether the autograd engine ran (NOTE [ Forward mode as a dispatch mode ])."""

    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        import ember.autograd as ag

        self.ag = ag
        self.orig = ag.run_backward
        self.ran = False

        def watched(*a, **k):
            if id(self.mode) not in _SUPPRESS:
                self.ran = True
            return self.orig(*a, **k)

        ag.run_backward = watched
        return self

    def __exit__(self, *exc):
        self.ag.run_backward = self.orig
        return False


def forward_jvp(func, primals, tangents):
    """Run ``func(*primals)`` under forward mode.

    Args:
        func: called with ``primals`` (flattened tensors rebuilt by the caller).
        primals: a list of tensors to carry tangents.
        tangents: one tangent per primal.

    Returns:
        ``(output, tangent_of)`` where ``tangent_of(t)`` gives a tensor's tangent (or
        None), or None when the engine ran inside the region (use double vjp instead).

    Example::

        >>> out, tan = forward_jvp(lambda x: x.exp(), [ember.zeros(1)], [ember.ones(1)])
        >>> tan(out).tolist()
        [1.0]
    """
    mode = _ForwardMode()
    for p, t in zip(primals, tangents):
        mode.tan[id(p)] = (p, t)
    with _EngineWatch(mode) as w:
        with mode:
            out = func(*primals)
    if w.ran:
        return out, None
    return out, mode.tangent
