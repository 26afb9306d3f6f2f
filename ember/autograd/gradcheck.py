"""Finite-difference gradient checks (float64), first and second order."""

from __future__ import annotations

import numpy as np

from ember._tensor import Tensor


class GradcheckError(RuntimeError):
    """``gradcheck``/``gradgradcheck`` found an analytical gradient that differs from the
    numerical one (raised when ``raise_exception=True``, the default).

    Example:
        >>> class Wrong(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         return g * 3                      # should be g * 2
        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> try:
        ...     ember.autograd.gradcheck(Wrong.apply, (x,))
        ... except GradcheckError:
        ...     print("mismatch found")
        mismatch found
    """


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


_UNSUPPORTED_TRUE = ("check_forward_ad", "check_batched_forward_grad", "check_sparse_nnz",
                     "check_fwd_over_rev")


def _refuse_unsupported(name, flags):
    for k, v in flags.items():
        if k in _UNSUPPORTED_TRUE:
            if v:
                raise NotImplementedError(f"{name}: {k}=True needs forward-mode AD or sparse "
                                          "tensors, which ember does not have")
        elif k != "check_rev_over_rev":
            raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_backward_ad=True, fast_mode=False,  # noqa: ARG001 - ember always runs the full (slow-mode) check, which fast mode approximates
              masked=None, **kwargs):
    """Compare analytical gradients of ``func`` with central finite differences.

    Args:
        func: a function of ``inputs`` returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple; those with ``requires_grad`` are checked (use float64).
        eps, atol, rtol: finite-difference step and tolerances.
        raise_exception: raise ``GradcheckError`` on failure (else return False).
        nondet_tol: how much two backward passes may differ (reentrancy check).
        check_undefined_grad: backward with all-zero output gradients (what PyTorch's
            undefined gradients mean) must give zero input gradients.
        check_grad_dtypes: each gradient must have its input's dtype.
        check_batched_grad: ``autograd.grad(..., is_grads_batched=True)`` must agree with one
            backward per vector.
        check_backward_ad: must be True (ember has no forward AD to check instead).
        fast_mode: accepted; ember always compares the full Jacobians (PyTorch's slow mode,
            which is the stricter check).
        masked: only None/False (ember has no sparse tensors).
        kwargs: PyTorch's forward-AD and sparse flags (``check_forward_ad``,
            ``check_batched_forward_grad``, ``check_sparse_nnz``): False is accepted, True
            raises ``NotImplementedError``.

    Returns:
        True when the gradients agree (otherwise raises GradcheckError, or returns False
        with ``raise_exception=False``).

    Example:
        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    _refuse_unsupported("gradcheck", kwargs)
    if masked:
        raise NotImplementedError("gradcheck: masked=True needs sparse tensors, which ember "
                                  "does not have")
    if not check_backward_ad:
        if kwargs.get("check_forward_ad"):
            raise NotImplementedError("gradcheck: check_forward_ad=True needs forward-mode "
                                      "AD, which ember does not have")
        raise ValueError("Expected at least one of check_forward_ad or check_backward_ad to be "
                         "True")
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
    # Reentrancy: a second backward pass must reproduce the first within nondet_tol.
    again = _analytical_jacobian(func, inputs, diff_idx)
    for j, i in enumerate(diff_idx):
        if analytical[j].shape != again[j].shape or (
                analytical[j].size and np.abs(analytical[j] - again[j]).max() > nondet_tol):
            return _fail(f"Backward is not reentrant, i.e., running backward with same input "
                         f"and grad_output multiple times gives different values, although "
                         f"analytical gradient matches numerical gradient. The tolerance for "
                         f"nondeterminism was {nondet_tol}. (input {i})", raise_exception)
    # Numerical Jacobians run with grad mode on: func may itself differentiate (gradgradcheck).
    for j, i in enumerate(diff_idx):
        numerical = _numerical_jacobian(func, inputs, i, eps).real
        a = analytical[j]
        if numerical.shape != a.shape or not np.allclose(a, numerical, rtol=rtol, atol=atol):
            return _fail(f"Jacobian mismatch for output 0 with respect to input {i},\n"
                         f"numerical:{numerical}\nanalytical:{a}\n", raise_exception)
    if check_grad_dtypes or check_undefined_grad or check_batched_grad:
        msg = _extra_checks(func, inputs, diff_idx, check_grad_dtypes, check_undefined_grad,
                            check_batched_grad, atol, rtol)
        if msg:
            return _fail(msg, raise_exception)
    return True


def _extra_checks(func, inputs, diff_idx, dtypes, undefined, batched, atol, rtol):
    """PyTorch's optional gradcheck passes; returns an error message or None."""
    from ember.autograd import grad

    outs = [o for o in _tuple(func(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if not outs:
        return None
    xs = [inputs[i] for i in diff_idx]
    rng = np.random.default_rng(0)

    def rand_like(o, lead=()):
        a = rng.standard_normal(lead + o._data.shape)
        if o._data.dtype.kind == "c":
            a = a + 1j * rng.standard_normal(lead + o._data.shape)
        return Tensor._wrap(a.astype(o._data.dtype))

    if dtypes or undefined:
        zs = [Tensor._wrap(np.zeros(o._data.shape, o._data.dtype)) for o in outs]
        gs = grad(outs, xs, [rand_like(o) for o in outs] if dtypes else zs,
                  retain_graph=True, allow_unused=True)
        for k, (x, g) in enumerate(zip(xs, gs)):
            if dtypes and g is not None and g.dtype != x.dtype:
                return f"Gradient has dtype mismatch: grad {k} is {g.dtype}, input {x.dtype}"
        if undefined:
            gs = grad(outs, xs, zs, retain_graph=True, allow_unused=True)
            for k, g in enumerate(gs):
                if g is not None and bool((g._data != 0).any()):
                    return (f"Expected backward function to handle undefined output grads "
                            f"(all-zero output gradients gave a non-zero gradient for input "
                            f"{diff_idx[k]})")
    if batched:
        vs = [rand_like(o, (2,)) for o in outs]
        bgs = grad(outs, xs, vs, retain_graph=True, allow_unused=True, is_grads_batched=True)
        for b in range(2):
            gs = grad(outs, xs, [v[b] for v in vs], retain_graph=True, allow_unused=True)
            for k, (bg, g) in enumerate(zip(bgs, gs)):
                if (bg is None) != (g is None) or (g is not None and not np.allclose(
                        bg._data[b], g._data, rtol=rtol, atol=atol)):
                    return (f"For input {diff_idx[k]}, batched grad (is_grads_batched=True) "
                            f"differs from the looped gradient at batch entry {b}")
    return None


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  fast_mode=False, masked=False, **kwargs):
    """Check second derivatives: gradcheck of the function inputs -> vjp(func)(inputs, v).

    Args:
        func, inputs, eps, atol, rtol, raise_exception: as for :func:`gradcheck`.
        grad_outputs: the vectors of the inner vector-Jacobian product (random if None).
        gen_non_contig_grad_outputs: make the random ``grad_outputs`` non-contiguous.
        nondet_tol, check_undefined_grad, check_grad_dtypes, check_batched_grad, fast_mode,
        masked: passed to :func:`gradcheck` for the double-backward function.
        kwargs: ``check_rev_over_rev`` (accepted), ``check_fwd_over_rev`` (True raises
            ``NotImplementedError``: no forward AD).

    Returns:
        True when the second derivatives agree.

    Example:
        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> gradgradcheck(lambda t: (t ** 3).sum(), (x,))
        True
    """
    from ember.autograd import grad

    _refuse_unsupported("gradgradcheck", kwargs)
    if not kwargs.get("check_rev_over_rev", True):
        raise ValueError("gradgradcheck: check_rev_over_rev=False leaves nothing to check "
                         "(ember has no forward-over-reverse AD)")

    inputs = _tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = [o for o in _tuple(func(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        def make(o):
            shape = o._data.shape
            if gen_non_contig_grad_outputs and o._data.size > 1:
                # every other element of a buffer twice as long: non-contiguous memory
                a = rng.standard_normal(shape + (2,)).astype(o._data.dtype)[..., 0]
            else:
                a = rng.standard_normal(shape).astype(o._data.dtype)
            return Tensor._wrap(a).requires_grad_(True)

        grad_outputs = tuple(make(o) for o in outs)
    grad_outputs = _tuple(grad_outputs)
    n_in = len(inputs)

    def vjp_fn(*args):
        ins, gos = args[:n_in], args[n_in:]
        os = [o for o in _tuple(func(*ins)) if isinstance(o, Tensor) and o.requires_grad]
        gs = grad(os, [ins[i] for i in diff_idx], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp_fn, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     fast_mode=fast_mode, masked=masked)
