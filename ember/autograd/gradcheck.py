"""Finite-difference gradient checks (float64), first and second order."""

from __future__ import annotations

import numpy as np

from ember._tensor import Tensor


class GradcheckError(RuntimeError):
    pass


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _numerical_jacobian(fn, inputs, idx, eps):
    """d(flattened outputs)/d(inputs[idx]) by central differences."""
    x = inputs[idx]
    data = x._data
    flat = data.reshape(-1)  # a view when contiguous; fall back to writing through data
    cols = []
    for k in range(data.size):
        pos = np.unravel_index(k, data.shape) if data.ndim else ()
        orig = data[pos].copy()
        data[pos] = orig + eps
        plus = [o._data.astype(np.complex128 if o._data.dtype.kind == "c" else np.float64)
                .reshape(-1).copy() for o in _tuple(fn(*inputs)) if isinstance(o, Tensor)]
        data[pos] = orig - eps
        minus = [o._data.astype(plus[i].dtype).reshape(-1).copy()
                 for i, o in enumerate(o for o in _tuple(fn(*inputs)) if isinstance(o, Tensor))]
        data[pos] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                    if plus else np.zeros(0))
    del flat
    if not cols:  # an empty input: the Jacobian has one row per output element, no columns
        n_out = sum(o._data.size for o in _tuple(fn(*inputs)) if isinstance(o, Tensor))
        return np.zeros((n_out, 0))
    return np.stack(cols, axis=1)


def _analytical_jacobian(fn, inputs, diff_idx):
    from ember.autograd import grad

    outs = [o for o in _tuple(fn(*inputs)) if isinstance(o, Tensor)]
    n_out = sum(o.numel() for o in outs)
    jac = [np.zeros((n_out, inputs[i].numel())) for i in diff_idx]
    row = 0
    for o in outs:
        for k in range(o.numel()):
            if not o.requires_grad:
                row += 1
                continue
            go = np.zeros(o._data.size, o._data.dtype)
            go[k] = 1
            gs = grad([o], [inputs[i] for i in diff_idx],
                      [Tensor._wrap(go.reshape(o._data.shape))], retain_graph=True,
                      allow_unused=True)
            for j, g in enumerate(gs):
                if g is not None:
                    jac[j][row] = g._data.reshape(-1).real
            row += 1
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_backward_ad=True, fast_mode=False,
              masked=None, **kwargs):
    """Compare analytical gradients of ``func`` with central finite differences."""
    inputs = _tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff_idx:
        if inputs[i].dtype.itemsize < 8 and not inputs[i].is_complex():
            import warnings

            warnings.warn("Input #%d requires gradient and is not a double precision floating "
                          "point. gradcheck is designed for float64 inputs." % i, stacklevel=2)
    analytical = _analytical_jacobian(func, inputs, diff_idx)
    # Numerical Jacobians run with grad mode on: func may itself differentiate (gradgradcheck).
    for j, i in enumerate(diff_idx):
        numerical = _numerical_jacobian(func, inputs, i, eps).real
        a = analytical[j]
        if numerical.shape != a.shape or not np.allclose(a, numerical, rtol=rtol, atol=atol):
            msg = (f"Jacobian mismatch for output 0 with respect to input {i},\n"
                   f"numerical:{numerical}\nanalytical:{a}\n")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **kwargs):
    """Check second derivatives: gradcheck of the function inputs -> vjp(func)(inputs, v)."""
    from ember.autograd import grad

    inputs = _tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = [o for o in _tuple(func(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._wrap(rng.standard_normal(o._data.shape).astype(
            o._data.dtype)).requires_grad_(True) for o in outs)
    grad_outputs = _tuple(grad_outputs)
    n_in = len(inputs)

    def vjp_fn(*args):
        ins, gos = args[:n_in], args[n_in:]
        os = [o for o in _tuple(func(*ins)) if isinstance(o, Tensor) and o.requires_grad]
        gs = grad(os, [ins[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp_fn, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
