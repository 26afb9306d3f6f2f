"""Higher-level differentiation: vjp, jvp, jacobian, hessian, vhp, hvp."""

from __future__ import annotations

from ember._tensor import Tensor


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prep(inputs, create_graph):
    return tuple(t.detach().requires_grad_(True) if not create_graph else
                 (t if t.requires_grad else t.detach().requires_grad_(True))
                 for t in _tuple(inputs))


def _grads(outs, inputs, v, create_graph):
    from ember.autograd import grad
    from ember._ops.creation import zeros_like

    outs_rg = [(o, g) for o, g in zip(outs, v) if o.requires_grad]
    if not outs_rg:
        return tuple(zeros_like(i) for i in inputs)
    gs = grad([o for o, _ in outs_rg], inputs, [g for _, g in outs_rg],
              create_graph=create_graph, retain_graph=True, allow_unused=True)
    return tuple(zeros_like(i) if g is None else g for i, g in zip(inputs, gs))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Return ``(func(inputs), v^T J)``."""
    single_in = isinstance(inputs, Tensor)
    xs = _prep(inputs, create_graph)
    out = func(*xs)
    single_out = isinstance(out, Tensor)
    outs = _tuple(out)
    if v is None:
        from ember._ops.creation import ones_like

        if any(o.numel() != 1 for o in outs):
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        v = tuple(ones_like(o) for o in outs)
    g = _grads(outs, xs, _tuple(v), create_graph)
    res_out = out if create_graph else (outs[0].detach() if single_out else
                                        tuple(o.detach() for o in outs))
    return res_out, (g[0] if single_in else g)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Return ``(func(inputs), J v)`` via the double-vjp trick."""
    from ember._ops.creation import ones_like, zeros_like

    xs = _prep(inputs, True)
    out = func(*xs)
    single_out = isinstance(out, Tensor)
    outs = _tuple(out)
    if v is None:
        v = tuple(ones_like(x) for x in xs)
    u = tuple(zeros_like(o).requires_grad_(True) for o in outs)
    g = _grads(outs, xs, u, True)
    jv = _grads(g, u, _tuple(v), create_graph)
    if not create_graph:
        jv = tuple(j.detach() for j in jv)
        outs = tuple(o.detach() for o in outs)
    return (outs[0] if single_out else outs), (jv[0] if single_out else jv)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """Full Jacobian by one vjp per output element."""
    from ember._ops.creation import zeros_like
    from ember._ops.shape import stack

    single_in = isinstance(inputs, Tensor)
    xs = _prep(inputs, True)
    out = func(*xs)
    single_out = isinstance(out, Tensor)
    outs = _tuple(out)
    result = []
    for o in outs:
        rows = [[] for _ in xs]
        flat = o.reshape(-1)
        for k in range(flat.numel()):
            gs = _grads((flat[k],), xs, (flat[k].new_ones(()),), create_graph)
            for j, g in enumerate(gs):
                rows[j].append(g if create_graph else g.detach())
        per_in = []
        for j, x in enumerate(xs):
            if rows[j]:
                jac = stack(rows[j]).reshape(tuple(o.shape) + tuple(x.shape))
            else:
                jac = zeros_like(x).reshape(tuple(o.shape) + tuple(x.shape))
            per_in.append(jac)
        result.append(per_in[0] if single_in else tuple(per_in))
    return result[0] if single_out else tuple(result)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    single_in = isinstance(inputs, Tensor)

    def grad_fn(*xs):
        from ember.autograd import grad

        out = func(*xs)
        g = grad(out, xs, create_graph=True)
        return g[0] if single_in else g

    return jacobian(grad_fn, inputs, create_graph=create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    single_in = isinstance(inputs, Tensor)
    xs = _prep(inputs, True)
    out = func(*xs)
    from ember.autograd import grad

    g = grad(out, xs, create_graph=True)
    r = _grads(g, xs, _tuple(v), create_graph)
    o = out if create_graph else out.detach()
    return o, (r[0] if single_in else r)


hvp = vhp  # the Hessian is symmetric for twice-differentiable functions
