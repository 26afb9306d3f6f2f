"""``functional_call`` and ``stack_module_state``: modules as functions of their state.

NOTE [ Swapping module state ]
``functional_call`` puts the given tensors into the modules' ``_parameters``/``_buffers``
tables (or as plain attributes for names the module does not own) for the duration of the
call and restores the originals afterwards, even if the call raises. Tied names (one tensor
reachable under several names, such as shared embeddings) all take the value given for any
of them when ``tie_weights=True``, as in PyTorch.
"""

from __future__ import annotations

import contextlib

import ember
from ember._tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING = object()


def _resolve(module, name):
    *path, leaf = name.split(".")
    mod = module
    for p in path:
        mod = getattr(mod, p)
    return mod, leaf


@contextlib.contextmanager
def _swapped(module, values):
    saved = []
    try:
        for name, v in values.items():
            mod, leaf = _resolve(module, name)
            d = mod.__dict__
            if leaf in d.get("_parameters", {}):
                table = d["_parameters"]
            elif leaf in d.get("_buffers", {}):
                table = d["_buffers"]
            else:
                table = None
            if table is not None:
                saved.append((table, leaf, table[leaf]))
                table[leaf] = v
            else:
                saved.append((d, leaf, d.get(leaf, _MISSING)))
                d[leaf] = v
        yield
    finally:
        for table, leaf, old in reversed(saved):
            if old is _MISSING:
                del table[leaf]
            else:
                table[leaf] = old


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with its parameters and buffers replaced by the given tensors.

    Args:
        module: the ``nn.Module`` to call.
        parameter_and_buffer_dicts: a dict ``{name: tensor}`` (names as ``named_parameters``
            gives them), or a tuple/list of such dicts with disjoint keys.
        args: positional arguments (a single non-tuple value is one argument).
        kwargs: keyword arguments for the call.
        tie_weights: tied parameters/buffers take the value given under any of their names.
        strict: every parameter and buffer must be given, and no other name.

    Returns:
        What ``module(*args, **kwargs)`` returns.

    Example::

        >>> lin = ember.nn.Linear(2, 1)
        >>> p = {"weight": ember.ones(1, 2), "bias": ember.zeros(1)}
        >>> ember.func.functional_call(lin, p, (ember.ones(1, 2),)).tolist()
        [[2.0]]
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        values = {}
        seen = {}
        for d in parameter_and_buffer_dicts:
            if not isinstance(d, dict):
                raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                                 f"dictionaries, got {type(d)}")
            for k in d:
                seen.setdefault(k, 0)
                seen[k] += 1
            values.update(d)
        repeated = [k for k, n in seen.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple "
                         f"of dicts, but got {type(parameter_and_buffer_dicts)}")
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    names = {}
    for n, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        names.setdefault(id(t), []).append(n)
    if tie_weights:
        for group in names.values():
            given = [n for n in group if n in values]
            if not given:
                continue
            v = values[given[0]]
            for n in given[1:]:
                if values[n] is not v:
                    raise ValueError(f"functional_call got multiple values for keys {given}, "
                                     "which are tied. Consider using tie_weights=False")
            for n in group:
                values.setdefault(n, v)
    if strict:
        known = {n for g in names.values() for n in g}
        missing = sorted(known - set(values))
        unexpected = sorted(set(values) - known)
        if missing or unexpected:
            msg = []
            if unexpected:
                msg.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected)
                           + ".")
            if missing:
                msg.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(msg))
    with _swapped(module, values):
        return module(*args, **kwargs)


def stack_module_state(models):
    """Stack the parameters and buffers of same-shaped models along a new leading dimension.

    The stacked parameters are new leaves that require grad (if the originals do); use
    them with ``vmap`` and :func:`functional_call` to run an ensemble at once.

    Args:
        models: a non-empty list of modules of the same structure.

    Returns:
        ``(params, buffers)``: dicts from name to stacked tensor.

    Example::

        >>> ms = [ember.nn.Linear(2, 3) for _ in range(4)]
        >>> params, buffers = ember.func.stack_module_state(ms)
        >>> params["weight"].shape
        torch.Size([4, 3, 2])
    """
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/"
                           "eval mode.")
    t0 = type(models[0])
    if not all(type(m) is t0 for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stack(items, grad):
        with ember.no_grad():
            s = ember.stack([t.detach() for t in items])
        return s.requires_grad_() if grad else s

    params = {}
    for name, p in models[0].named_parameters():
        items = [dict(m.named_parameters())[name] for m in models]
        params[name] = stack(items, p.requires_grad)
    buffers = {}
    for name, b in models[0].named_buffers():
        items = [dict(m.named_buffers())[name] for m in models]
        buffers[name] = stack(items, False) if isinstance(b, Tensor) else b
    return params, buffers
