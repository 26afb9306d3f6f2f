"""Function transforms on the autograd graph: grad, vjp, jvp, linearize, jacrev, jacfwd, hessian.

NOTE [ Transform levels on one tape ]
PyTorch's ``torch.func`` gives each transform its own level of wrapped tensors. ember has
one autograd tape, so a transform marks its own inputs instead: an input that does not
require grad becomes a fresh leaf; one that does (an outer transform is differentiating
through this one) becomes a differentiable alias, so the inner gradient stays connected to
the outer input. Gradients are computed with ``create_graph=True`` exactly when something
outside the transform still needs the graph (an outer transform's alias or a leaf the
function closed over that requires grad, found by walking the output's graph); otherwise
the results are detached, so ``grad(f)(x)`` does not require grad, as in PyTorch.

NOTE [ Forward mode by double vjp ]
``jvp`` computes J·t as the derivative of a vjp with respect to its cotangent: with ``u``
a dummy cotangent, ``g(u) = J^T u`` is linear in ``u`` and ``d/du <g(u), t> = J t``. Every
backward formula is written in ember ops (and is differentiable in its incoming gradient),
so this is exact for every record, at about the cost of two reverse passes. Outputs that
do not depend on the inputs get zero tangents.
"""

from __future__ import annotations

import functools

import ember
from ember._tensor import Tensor
from ember.func._pytree import tree_flatten, tree_map, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd",
           "hessian"]


# ---------------------------------------------------------------------- helpers
def _wrap_argnum(argnum, n):
    if not isinstance(argnum, int) or isinstance(argnum, bool):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < n:
        return argnum
    if -n <= argnum < 0:
        return argnum + n
    raise RuntimeError(f"Got argnum={argnum}, but only {n} positional inputs")


def _check_argnums(argnums, n):
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return _wrap_argnum(argnums, n)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if len(argnums) == 0:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(_wrap_argnum(a, n) for a in argnums)


def _differentiable(x, fresh):
    """NOTE [ Transform levels on one tape ]: a leaf of this transform for ``x``."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x.requires_grad:
        return x.view_as(x)
    t = x.detach().requires_grad_()
    fresh.add(id(t))
    return t


def _needs_graph(outputs, fresh):
    """Whether the graph behind ``outputs`` reaches a leaf requiring grad outside ``fresh``."""
    seen = set()
    stack = [o._grad_fn if o._grad_fn is not None else o for o in outputs
             if isinstance(o, Tensor) and o.requires_grad]
    while stack:
        e = stack.pop()
        if e is None:
            continue
        if isinstance(e, tuple):
            e = e[0]
        k = id(e)
        if k in seen:
            continue
        seen.add(k)
        if isinstance(e, Tensor):
            if e._requires_grad and k not in fresh:
                return True
            continue
        stack.extend(e.next)
    return False


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=True):
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs or [None] * len(outputs))
             if o.requires_grad]
    if not pairs:
        return tuple(ember.zeros_like(i) for i in inputs)
    outs = [p[0] for p in pairs]
    gos = None if grad_outputs is None else [p[1] for p in pairs]
    res = ember.autograd.grad(outs, list(inputs), gos, create_graph=create_graph,
                              allow_unused=True, retain_graph=True)
    return tuple(ember.zeros_like(i) if g is None else g for i, g in zip(inputs, res))


def _detach_tree(tree, keep):
    if keep:
        return tree
    return tree_map(lambda v: v.detach() if isinstance(v, Tensor) else v, tree)


def _slice_argnums(args, argnums):
    if isinstance(argnums, int):
        return args[argnums]
    return tuple(args[i] for i in argnums)


def _replace_argnums(args, argnums, new):
    args = list(args)
    if isinstance(argnums, int):
        args[argnums] = new
    else:
        for i, v in zip(argnums, new):
            args[i] = v
    return tuple(args)


# ---------------------------------------------------------------------- grad
def grad_and_value(func, argnums=0, has_aux=False):
    """Like :func:`grad`, but the transformed function returns ``(gradient, value)``.

    Args:
        func: a function returning a scalar tensor (or ``(scalar, aux)`` with has_aux).
        argnums: which positional argument(s) to differentiate (int or tuple of ints).
        has_aux: ``func`` returns ``(output, aux)``; aux is returned untouched.

    Returns:
        A function returning ``(grads, value)`` or ``(grads, (value, aux))``.

    Example::

        >>> g, v = ember.func.grad_and_value(lambda x: (x ** 2).sum())(ember.tensor([3.0]))
        >>> g.tolist(), v.item()
        ([6.0], 9.0)
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        an = _check_argnums(argnums, len(args))
        fresh = set()
        with ember.enable_grad():
            diff = tree_map(lambda x: _differentiable(x, fresh), _slice_argnums(args, an))
            out = func(*_replace_argnums(args, an, diff), **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should "
                                       "be a tuple: (output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {out.dim()} dims. Maybe you "
                                   "wanted to use the vjp or jacrev APIs instead?")
            flat, spec = tree_flatten(diff)
            keep = _needs_graph([out], fresh)
            g = _autograd_grad([out], flat, create_graph=keep)
            g = tree_unflatten(list(g), spec)
        out = _detach_tree(out, keep)
        if has_aux:
            return g, (out, _detach_tree(aux, keep))
        return g, out

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar function with respect to argument(s) ``argnums``.

    Transforms compose: ``grad(grad(f))`` is the second derivative and ``vmap(grad(f))``
    gives per-example gradients (NOTE [ Transform levels on one tape ]).

    Args:
        func: a function returning a scalar tensor (or ``(scalar, aux)`` with has_aux).
        argnums: which positional argument(s) to differentiate (int or tuple of ints); the
            gradient has the structure of that argument (pytrees allowed).
        has_aux: ``func`` returns ``(output, aux)``; the transformed function then returns
            ``(grads, aux)``.

    Returns:
        A function with ``func``'s arguments returning the gradient(s).

    Example::

        >>> x = ember.tensor([1.0, 2.0])
        >>> ember.func.grad(lambda x: (x ** 3).sum())(x).tolist()
        [3.0, 12.0]
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, v = gv(*args, **kwargs)
        if has_aux:
            return g, v[1]
        return g

    return wrapper


# ---------------------------------------------------------------------- vjp
def vjp(func, *primals, has_aux=False):
    """Run ``func(*primals)`` and return its output and a function computing vjps.

    Args:
        func: a function of tensors returning a tensor or a pytree of tensors.
        *primals: the inputs (tensors or pytrees of tensors).
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``; ``vjp_fn(cotangents)`` takes
        cotangents shaped like the output and returns a tuple with one gradient per primal.

    Example::

        >>> out, fn = ember.func.vjp(ember.sin, ember.zeros(2))
        >>> fn(ember.ones(2))[0].tolist()
        [1.0, 1.0]
    """
    fresh = set()
    with ember.enable_grad():
        diff = tree_map(lambda x: _differentiable(x, fresh), primals)
        out = func(*diff)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise RuntimeError("vjp(f, *primals): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            out, aux = out
    flat_out, out_spec = tree_flatten(out)
    for o in flat_out:
        if not isinstance(o, Tensor):
            raise RuntimeError("vjp(f, *primals): Expected output of f to be a Tensor or "
                               f"Tensors, got {type(o)} as an output")
        if not o.dtype.is_floating_point and not o.dtype.is_complex:
            raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or "
                               f"complex Tensors, got Tensor with dtype {o.dtype}")
    flat_in, in_spec = tree_flatten(diff)
    outer = _needs_graph(flat_out, fresh)

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):  # noqa: ARG001 - the graph is kept either way (freeing it would only save memory)
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            from ember.func._pytree import spec_str

            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function. cotangents: "
                               f"{spec_str(ct_spec)}, primal output: {spec_str(out_spec)}")
        for c, o in zip(flat_ct, flat_out):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{tuple(c.shape)} and output[0] has a shape of "
                                   f"{tuple(o.shape)}.")
        keep = outer or any(isinstance(c, Tensor) and c.requires_grad for c in flat_ct) \
            or bool(create_graph)
        with ember.enable_grad():
            g = _autograd_grad(flat_out, flat_in, list(flat_ct), create_graph=True)
        g = g if keep else tuple(v.detach() for v in g)
        return tree_unflatten(list(g), in_spec)

    out_r = _detach_tree(out, outer)
    if has_aux:
        return out_r, vjp_fn, _detach_tree(aux, outer)
    return out_r, vjp_fn


# ---------------------------------------------------------------------- jvp
def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """The output of ``func(*primals)`` and its directional derivative along ``tangents``.

    Forward-mode AD: tangents travel with the primals through a dispatch mode, one rule per
    record (NOTE [ Forward mode as a dispatch mode ] in ``_forward.py``).

    Args:
        func: a function of tensors returning a tensor or a pytree of tensors.
        primals: a tuple of the inputs.
        tangents: a tuple with the same structure and shapes as ``primals``.
        strict: must be False (PyTorch does not support it either).
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, jvp_out)`` or ``(output, jvp_out, aux)``.

    Example::

        >>> out, t = ember.func.jvp(ember.exp, (ember.zeros(2),), (ember.ones(2),))
        >>> t.tolist()
        [1.0, 1.0]
    """
    api = "jvp(f, primals, tangents)"
    if strict:
        raise RuntimeError("jvp(f, primals, tangents, strict=True): strict is not supported "
                           "yet")
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid "
                           "to call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents if isinstance(tangents, tuple) else (tangents,))
    if p_spec != t_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, "
                           "tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    if not flat_p:
        raise RuntimeError(f"{api}: Expected primals to be a non-empty tuple of Tensors.")
    for p, t in zip(flat_p, flat_t):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            bad = p if not isinstance(p, Tensor) else t
            raise RuntimeError(f"{api}: Expected primals to be a tuple of Tensors, got a tuple "
                               f"with an element of type {type(bad)}")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"{api}: Expected primals and tangents to have the same shape, "
                               f"got {tuple(p.shape)} and {tuple(t.shape)}")
    from ember.func._forward import forward_jvp

    # aliases through the view record: distinct objects even for a repeated primal, and an
    # outer jvp's mode maps its tangent onto them (forward over forward)
    prims = [p.view_as(p) for p in flat_p]
    out, tangent_of = forward_jvp(lambda *ps: func(*tree_unflatten(list(ps), p_spec)),
                                  prims, flat_t)
    if tangent_of is None:
        # the engine ran inside: NOTE [ Forward mode as a dispatch mode ]
        return _jvp_by_double_vjp(func, api, flat_p, p_spec, flat_t, has_aux)
    out, aux, flat_o, o_spec = _split_jvp_output(out, api, has_aux)
    tans = []
    for o in flat_o:
        t = tangent_of(o)
        tans.append(ember.zeros_like(o) if t is None else t)
    t_r = tree_unflatten(tans, o_spec)
    if has_aux:
        return out, t_r, aux
    return out, t_r


def _split_jvp_output(out, api, has_aux):
    """``(out, aux, flat outputs, spec)`` of a jvp'd function's result, checked as PyTorch
    checks it: ``(output, aux)`` with ``has_aux``, and tensors only."""
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise RuntimeError(f"{api}: output of function f should be a tuple: (output, "
                               "aux) if has_aux is True")
        out, aux = out
    flat_o, o_spec = tree_flatten(out)
    for o in flat_o:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*args) to return only tensors, got "
                               f"unsupported type {type(o)}")
    return out, aux, flat_o, o_spec


def _jvp_by_double_vjp(func, api, flat_p, p_spec, flat_t, has_aux):
    """``jvp`` by NOTE [ Forward mode by double vjp ] (the whole function at once)."""
    fresh = set()
    with ember.enable_grad():
        diff = [_differentiable(x, fresh) for x in flat_p]
        out = func(*tree_unflatten(diff, p_spec))
        out, aux, flat_o, o_spec = _split_jvp_output(out, api, has_aux)
        keep = _needs_graph(flat_o, fresh) or any(t.requires_grad for t in flat_t)
        tangents_out = _jvp_double_vjp(flat_o, diff, flat_t, keep)
    out_r = _detach_tree(out, keep)
    t_r = tree_unflatten(list(tangents_out), o_spec)
    if has_aux:
        return out_r, t_r, _detach_tree(aux, keep)
    return out_r, t_r


def _jvp_double_vjp(outs, ins, tangents, keep):
    diff_o = [i for i, o in enumerate(outs) if o.requires_grad
              and (o.dtype.is_floating_point or o.dtype.is_complex)]
    res = [ember.zeros_like(o) for o in outs]
    if not diff_o:
        return [r if keep else r.detach() for r in res]
    us = [ember.zeros_like(outs[i]).detach().requires_grad_() for i in diff_o]
    gs = ember.autograd.grad([outs[i] for i in diff_o], ins, us, create_graph=True,
                             allow_unused=True, retain_graph=True)
    pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
    if not pairs:
        return res
    jv = ember.autograd.grad([p[0] for p in pairs], us, [p[1] for p in pairs],
                             create_graph=keep, allow_unused=True, retain_graph=True)
    for i, v in zip(diff_o, jv):
        if v is not None:
            res[i] = v if keep else v.detach()
    return res


def linearize(func, *primals):
    """``func(*primals)`` and a function computing jvps at ``primals`` without re-running func.

    Args:
        func: a function of tensors returning a tensor or pytree of tensors.
        *primals: the point to linearize at.

    Returns:
        ``(output, jvp_fn)``; ``jvp_fn(*tangents)`` returns the tangent of the output.

    Example::

        >>> out, fn = ember.func.linearize(ember.sin, ember.zeros(2))
        >>> fn(ember.ones(2)).tolist()
        [1.0, 1.0]
    """
    flat_p, p_spec = tree_flatten(primals)
    fresh = set()
    with ember.enable_grad():
        diff = [_differentiable(x, fresh) for x in flat_p]
        out = func(*tree_unflatten(diff, p_spec))
        flat_o, o_spec = tree_flatten(out)
        keep = _needs_graph(flat_o, fresh)
        diff_o = [i for i, o in enumerate(flat_o) if o.requires_grad]
        us = [ember.zeros_like(flat_o[i]).detach().requires_grad_() for i in diff_o]
        gs = ember.autograd.grad([flat_o[i] for i in diff_o], diff, us, create_graph=True,
                                 allow_unused=True, retain_graph=True) if diff_o else []

    def jvp_fn(*tangents):
        flat_t, t_spec = tree_flatten(tangents)
        if t_spec != p_spec:
            raise RuntimeError("linearize: Expected tangents to have the same structure as "
                               "primals")
        for p, t in zip(flat_p, flat_t):
            if tuple(p.shape) != tuple(t.shape):
                raise RuntimeError("linearize: Expected tangents to have the same shape as "
                                   f"primals, got {tuple(t.shape)} and {tuple(p.shape)}")
        res = [ember.zeros_like(o).detach() for o in flat_o]
        pairs = [(g, t) for g, t in zip(gs, flat_t) if g is not None and g.requires_grad]
        if pairs:
            with ember.enable_grad():
                jv = ember.autograd.grad([p[0] for p in pairs], us, [p[1] for p in pairs],
                                         create_graph=keep, allow_unused=True,
                                         retain_graph=True)
            for i, v in zip(diff_o, jv):
                if v is not None:
                    res[i] = v if keep else v.detach()
        return tree_unflatten(res, o_spec)

    return _detach_tree(out, keep), jvp_fn


# ---------------------------------------------------------------------- Jacobians
def _basis(n, like):
    return ember.eye(n, dtype=like.dtype)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` with respect to argument(s) ``argnums``, by reverse mode.

    Rows are vjps with the standard basis, computed together by ``vmap`` over the vjp.

    Args:
        func: a function of tensors returning a tensor or pytree of tensors.
        argnums: which positional argument(s) to differentiate (int or tuple of ints).
        has_aux: ``func`` returns ``(output, aux)``.
        chunk_size: how many rows to compute at once (None: all; 1: a plain loop).

    Returns:
        A function returning the Jacobian: for each output, a tensor of shape
        ``output.shape + input.shape`` (nested in tuples when argnums is a tuple).

    Example::

        >>> ember.func.jacrev(ember.sin)(ember.zeros(2)).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    if _preallocate_and_copy:
        raise NotImplementedError("jacrev: _preallocate_and_copy=True is not supported")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        an = _check_argnums(argnums, len(args))
        prim = _slice_argnums(args, an)
        prim_t = prim if isinstance(an, tuple) else (prim,)

        def f(*p):
            new = _replace_argnums(args, an, p if isinstance(an, tuple) else p[0])
            return func(*new, **kwargs)

        res = vjp(f, *prim_t, has_aux=has_aux)
        out, fn = res[0], res[1]
        flat_o, o_spec = tree_flatten(out)
        flat_in, in_spec = tree_flatten(prim_t)
        sizes = [o.numel() for o in flat_o]
        total = sum(sizes)
        dtype = flat_o[0].dtype if flat_o else ember.get_default_dtype()
        eye = ember.eye(total, dtype=dtype)
        # row r of the basis, split into one cotangent per output
        cts = []
        start = 0
        for o, n in zip(flat_o, sizes):
            cts.append(eye[:, start:start + n].reshape((total,) + tuple(o.shape)))
            start += n

        def row(*c):
            return tree_flatten(fn(tree_unflatten(list(c), o_spec)))[0]

        if chunk_size == 1 or total == 0:
            rows = [row(*[c[i] for c in cts]) for i in range(total)]
            per_in = [ember.stack([r[j] for r in rows]) if rows else
                      ember.zeros((0,) + tuple(flat_in[j].shape), dtype=dtype)
                      for j in range(len(flat_in))]
        else:
            from ember.func._vmap import vmap

            per_in = vmap(row, chunk_size=chunk_size)(*cts)
        # per_in[j]: (total, *in_j.shape) -> per output i: (*out_i.shape, *in_j.shape)
        jac_per_out = []
        start = 0
        for o, n in zip(flat_o, sizes):
            blocks = [pj[start:start + n].reshape(tuple(o.shape) + tuple(inp.shape))
                      for pj, inp in zip(per_in, flat_in)]
            start += n
            blocks_t = tree_unflatten(blocks, in_spec)
            jac_per_out.append(blocks_t if isinstance(an, tuple) else blocks_t[0])
        jac = tree_unflatten(jac_per_out, o_spec)
        if has_aux:
            return jac, res[2]
        return jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` with respect to argument(s) ``argnums``, by forward mode.

    Columns are jvps with the standard basis, computed together by ``vmap`` over the jvp.

    Args:
        func: a function of tensors returning a tensor or pytree of tensors.
        argnums: which positional argument(s) to differentiate (int or tuple of ints).
        has_aux: ``func`` returns ``(output, aux)``.
        randomness: passed to the ``vmap`` over the tangents ("error", "same", "different").

    Returns:
        A function returning the Jacobian, shaped like :func:`jacrev`'s.

    Example::

        >>> ember.func.jacfwd(lambda x: x * 2)(ember.zeros(2)).tolist()
        [[2.0, 0.0], [0.0, 2.0]]
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        an = _check_argnums(argnums, len(args))
        prim = _slice_argnums(args, an)
        prim_t = prim if isinstance(an, tuple) else (prim,)
        flat_in, in_spec = tree_flatten(prim_t)
        sizes = [p.numel() for p in flat_in]
        total = sum(sizes)
        dtype = flat_in[0].dtype
        eye = ember.eye(total, dtype=dtype)
        tans = []
        start = 0
        for p, n in zip(flat_in, sizes):
            tans.append(eye[:, start:start + n].reshape((total,) + tuple(p.shape)))
            start += n

        def f(*p):
            new = _replace_argnums(args, an, p if isinstance(an, tuple) else p[0])
            return func(*new, **kwargs)

        def col(*t):
            r = jvp(f, tree_unflatten(list(flat_in), in_spec),
                    tree_unflatten(list(t), in_spec), has_aux=has_aux)
            if has_aux:
                return r[1], r[0], r[2]
            return r[1], r[0]

        from ember.func._vmap import vmap

        res = vmap(col, out_dims=(-1, None) if not has_aux else (-1, None, None),
                   randomness=randomness)(*tans)
        tang = res[0]
        flat_t, o_spec = tree_flatten(tang)
        jac_per_out = []
        for o in flat_t:
            # o: (*out.shape, total) -> split per input along the last dim
            blocks = []
            start = 0
            for p, n in zip(flat_in, sizes):
                blk = o.narrow(-1, start, n)
                blocks.append(blk.reshape(tuple(o.shape[:-1]) + tuple(p.shape)))
                start += n
            bt = tree_unflatten(blocks, in_spec)
            jac_per_out.append(bt if isinstance(an, tuple) else bt[0])
        jac = tree_unflatten(jac_per_out, o_spec)
        if has_aux:
            return jac, res[2]
        return jac

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: ``jacfwd(jacrev(func))`` (PyTorch's composition).

    Args:
        func: a function returning a scalar tensor.
        argnums: which positional argument(s) to differentiate.

    Returns:
        A function returning the Hessian, shape ``input.shape + input.shape``.

    Example::

        >>> ember.func.hessian(lambda x: (x ** 3).sum())(ember.tensor([1.0, 2.0])).tolist()
        [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacfwd(jacrev(func, argnums), argnums)
