"""Higher-level differentiation: vjp, jvp, jacobian, hessian, vhp, hvp.

NOTE [ strict mode ]
With ``strict=True`` PyTorch refuses to return a zero it cannot prove: an output that does
not require grad, or a derivative that autograd reports as independent of an input (an
unused input, or a path through non-differentiable ops), raises ``RuntimeError`` instead of
being filled with zeros. ember follows the same rules at the same stages ("back" for the
first backward, "back_trick" for the double-backward trick behind ``jvp``/``hvp``,
"double_back" for the second backward of ``hessian``/``vhp``). ``vectorize`` only changes
how PyTorch batches the backward passes (vmap); ember always loops, which gives the same
values, so it is honoured; like PyTorch, ``strict`` cannot be combined with it, and
``strategy="forward-mode"`` needs it.
"""

from __future__ import annotations

from ember._tensor import Tensor


def _as_tuple(x, arg_name, fn_name):
    """``(tuple_of_tensors, was_tuple)``; anything but tensors is a ``TypeError``."""
    is_tuple = True
    if not isinstance(x, tuple):
        x = (x,)
        is_tuple = False
    for i, el in enumerate(x):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or "
                                f"a tuple of Tensors but the value at index {i} has type "
                                f"{type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the given {arg_name} has type {type(el)}.")
    return x, is_tuple


def _grad_preprocess(inputs, create_graph):
    # Fresh leaves (or, with create_graph, views that keep the user's graph) so the function
    # is differentiated with respect to exactly these tensors.
    if create_graph:
        return tuple(t if t.requires_grad else t.view_as(t).requires_grad_(True)
                     for t in inputs)
    return tuple(t.detach().requires_grad_(True) for t in inputs)


def _postprocess(x, create_graph):
    if isinstance(x, tuple):
        return tuple(_postprocess(e, create_graph) for e in x)
    if x is None or create_graph:
        return x
    return x.detach()


def _check_requires_grad(outputs, what, strict):
    if not strict:
        return
    for i, o in enumerate(outputs):
        if o is None:  # only reachable for grad_inputs and jacobians
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not o.requires_grad:
            if what == "grad_inputs":
                raise RuntimeError(f"The gradient with respect to input {i} is independent of "
                                   "the inputs of the user-provided function. This is not "
                                   "allowed in strict mode.")
            if what == "hessian":
                raise RuntimeError(f"The hessian of the user-provided function with respect to "
                                   f"input {i} is independent of the input. This is not "
                                   "allowed in strict mode. You should ensure that your "
                                   "function is thrice differentiable and that the hessian "
                                   "depends on the inputs.")
            if what == "jacobian":
                raise RuntimeError(f"While computing the hessian, found that the jacobian of "
                                   f"the user-provided function with respect to input {i} is "
                                   "independent of the input. This is not allowed in strict "
                                   "mode. You should ensure that your function is twice "
                                   "differentiable and that the jacobian depends on the "
                                   "inputs (this would be violated by a linear function for "
                                   "example).")
            raise RuntimeError(f"Output {i} of the user-provided function does not require "
                               "gradients. The outputs must be computed in a differentiable "
                               "manner from the input when running in strict mode.")


_STAGE_MSG = {
    "back": "The output of the user-provided function is independent of input {}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The gradient with respect to the input is independent of entry {} "
                         "in the grad_outputs when using the double backward trick to compute "
                         "forward mode gradients. This is not allowed in strict mode.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    from ember._ops.creation import zeros_like

    res = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_STAGE_MSG[stage].format(i))
            g = zeros_like(r)
        elif strict and create_graph and not g.requires_grad:
            # A constant derivative cannot be differentiated further: with create_graph
            # the caller asked for exactly that.
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad; None for unused inputs."""
    from ember.autograd import grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], inputs, [g for _, g in pairs], create_graph=create_graph,
                retain_graph=retain_graph, allow_unused=True)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prepend = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.shape} but "
                               f"got {el_v.shape}.")


def _tuple_postprocess(res, to_unpack):
    # to_unpack: is_tuple flag(s) of what res is indexed by (outputs, inputs)
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``.

    Args:
        func: a function of the tensors in ``inputs`` returning a tensor or tuple of tensors.
        inputs: a tensor or tuple of tensors.
        v: the vector(s), shaped like the outputs; may be None for a one-element output.
        create_graph: make the result differentiable.
        strict: raise instead of returning zeros for outputs or inputs autograd finds
            independent (see NOTE [ strict mode ]).

    Returns:
        A tuple ``(func(inputs), vjp)``.

    Example:
        >>> vjp(lambda x: x ** 2, ember.tensor([1.0, 2.0]), ember.ones(2))[1]
        tensor([2., 4.])
    """
    from ember.autograd.grad_mode import enable_grad

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")[::-1]
        inputs = _grad_preprocess(inputs, create_graph)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vjp")[::-1]
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            v, _ = _as_tuple(v, "v", "vjp")
            v = tuple(e.detach() for e in v)
            _validate_v(v, outputs, is_outputs_tuple)
        else:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        vjp_res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _postprocess(outputs, create_graph)
    vjp_res = _postprocess(vjp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(vjp_res, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-backward trick.

    Args:
        func: a function of the tensors in ``inputs``.
        inputs: a tensor or tuple of tensors.
        v: the vector(s), shaped like the inputs; may be None for a one-element input.
        create_graph: make the result differentiable.
        strict: raise instead of returning zeros where autograd finds no dependence.

    Returns:
        A tuple ``(func(inputs), jvp)``.

    Example:
        >>> jvp(lambda x: x ** 2, ember.tensor([1.0, 2.0]), ember.ones(2))[1]
        tensor([2., 4.])
    """
    from ember._ops.creation import zeros_like
    from ember.autograd.grad_mode import enable_grad

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")[::-1]
        inputs = _grad_preprocess(inputs, create_graph)
        if v is not None:
            v, _ = _as_tuple(v, "v", "jvp")
            v = tuple(e.detach() for e in v)
            _validate_v(v, inputs, is_inputs_tuple)
        else:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element.")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jvp")[::-1]
        _check_requires_grad(outputs, "outputs", strict)
        # The backward is linear in grad_outputs: differentiate it with respect to them.
        grad_outputs = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        jvp_res = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _postprocess(outputs, create_graph)
    jvp_res = _postprocess(jvp_res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(jvp_res, is_outputs_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The full Jacobian of ``func`` at ``inputs``, one vector-Jacobian product per output
    element.

    Args:
        func: a function of the tensors in ``inputs``.
        inputs: a tensor or tuple of tensors.
        create_graph: make the result differentiable.
        strict: raise instead of returning zeros where autograd finds no dependence.
        vectorize: accepted (PyTorch batches with vmap; the values are the same).
        strategy: ``"reverse-mode"``, or ``"forward-mode"`` with ``vectorize=True`` (computed
            in reverse mode here: the same values).

    Returns:
        The Jacobian: a tensor (or nested tuples for several inputs and outputs) of shape
        ``output.shape + input.shape``.

    Example:
        >>> jacobian(lambda x: x ** 2, ember.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    from ember._ops.shape import stack
    from ember.autograd.grad_mode import enable_grad

    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         'Hint: If your function has more outputs than inputs, "forward-mode" '
                         'tends to be more performant. Otherwise, prefer to use '
                         '"reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` "
                                      'and `strategy="forward-mode"` are not supported together '
                                      "(yet). Please either set `create_graph=False` or "
                                      '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("torch.autograd.functional.jacobian: "
                                      '`strategy="forward-mode"` is only implemented together '
                                      "with `vectorize=True`.")
    if vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorize=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")[::-1]
        inputs = _grad_preprocess(inputs, create_graph)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")[::-1]
        _check_requires_grad(outputs, "outputs", strict)
        jacobian_rows = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                vj = _autograd_grad((flat[j],), inputs, retain_graph=True,
                                    create_graph=create_graph)
                for el_idx, (g, inp) in enumerate(zip(vj, inputs)):
                    if g is not None and strict and create_graph and not g.requires_grad:
                        raise RuntimeError("The jacobian of the user-provided function is "
                                           f"independent of input {i}. This is not allowed in "
                                           "strict mode when create_graph=True.")
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {el_idx}. This is not "
                                               "allowed in strict mode.")
                        from ember._ops.creation import zeros_like

                        g = zeros_like(inp)
                    rows[el_idx].append(g)
            per_input = []
            for el_idx, inp in enumerate(inputs):
                shape = tuple(out.shape) + tuple(inp.shape)
                if rows[el_idx]:
                    per_input.append(stack(rows[el_idx]).reshape(shape))
                else:  # an empty output: an empty Jacobian
                    from ember._ops.creation import zeros

                    per_input.append(zeros(shape, dtype=inp.dtype))
            jacobian_rows.append(tuple(per_input))
    jacobian_rows = _postprocess(tuple(jacobian_rows), create_graph)
    return _tuple_postprocess(jacobian_rows, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function at ``inputs``: the Jacobian of its gradient.

    Args:
        func: a function returning a tensor with a single element.
        inputs: a tensor or tuple of tensors.
        create_graph: make the result differentiable.
        strict: raise instead of returning zeros where autograd finds no dependence.
        vectorize: accepted (same values as without it).
        outer_jacobian_strategy: ``"reverse-mode"`` or ``"forward-mode"`` (which needs
            ``vectorize=True``), as for :func:`jacobian`.

    Returns:
        The Hessian: a tensor ``input.shape + input.shape`` (nested tuples for several
        inputs).

    Example:
        >>> hessian(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")[::-1]
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function",
                                        "hessian")[::-1]
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _vhp_or_hvp(name, func, inputs, v, create_graph, strict):
    from ember._ops.creation import zeros_like
    from ember.autograd.grad_mode import enable_grad

    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)[::-1]
        inputs = _grad_preprocess(inputs, create_graph)
        if v is not None:
            v, _ = _as_tuple(v, "v", name)
            v = tuple(e.detach() for e in v)
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              name)[::-1]
        _check_requires_grad(outputs, "outputs", strict)
        if is_outputs_tuple or not isinstance(outputs[0], Tensor):
            raise RuntimeError(f"The function given to {name} should return a single Tensor")
        if outputs[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {name} should "
                               "contain a single element")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        if name == "vhp":
            grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
            res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
        else:
            # H v by the double-backward trick: differentiate (u^T H) with respect to u.
            grad_jac = tuple(zeros_like(x).requires_grad_(True) for x in inputs)
            double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
            _check_requires_grad(jac, "hessian", strict)
            grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
            res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _postprocess(outputs, create_graph)
    res = _postprocess(res, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(res, is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar function: the vector-Hessian product.

    Args:
        func: a function returning a tensor with a single element.
        inputs: a tensor or tuple of tensors.
        v: the vector(s), shaped like the inputs.
        create_graph: make the result differentiable.
        strict: raise instead of returning zeros where autograd finds no dependence.

    Returns:
        A tuple ``(func(inputs), vhp)``.

    Example:
        >>> vhp(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]), ember.ones(2))[1]
        tensor([ 6., 12.])
    """
    return _vhp_or_hvp("vhp", func, inputs, v, create_graph, strict)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar function: the Hessian-vector product.

    Args:
        func: a function returning a tensor with a single element.
        inputs: a tensor or tuple of tensors.
        v: the vector(s), shaped like the inputs.
        create_graph: make the result differentiable.
        strict: raise instead of returning zeros where autograd finds no dependence.

    Returns:
        A tuple ``(func(inputs), hvp)``.

    Example:
        >>> hvp(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]), ember.ones(2))[1]
        tensor([ 6., 12.])
    """
    return _vhp_or_hvp("hvp", func, inputs, v, create_graph, strict)
