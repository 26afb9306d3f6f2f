"""Input signatures: what a trace is specialised on (NOTE [ Signatures ]).

NOTE [ Signatures ]
A graph is valid for the inputs it was traced with: tensor attributes baked into its
records (``view`` sizes, ``input_shape``, the branch a Python ``if`` took) hold only for
the same shapes, dtypes and devices. A signature is the tuple of, for every leaf of
``(args, kwargs)``: a tensor's (dtype, shape, device, requires_grad), or a Python value
(by value when hashable); plus the structure of the arguments, grad mode, and the
``training`` flags of a traced Module's submodules. A new signature is traced anew.
"""

from __future__ import annotations

from ember._graph import GRAD
from ember._tensor import Tensor
from ember.jit._tracer import flatten, spec_str


def _leaf_key(x):
    if isinstance(x, Tensor):
        d = x._data
        return ("T", x.dtype, d.shape, x.device, x._requires_grad)
    try:
        hash(x)
    except TypeError:
        return ("id", type(x), id(x))
    return ("py", type(x), x)


def signature(args, kwargs, modules=None, fast=False):
    """(key, flat tensor inputs, leaves) for one call; ``fast`` allows the short key form
    for plain positional tensors (``ember.compile``'s hot path)."""
    if fast and not kwargs and modules is None:
        # the common case, without building a spec: positional plain tensors only
        key = [len(args), GRAD.enabled]
        for x in args:
            if x.__class__ is not Tensor:
                break
            d = x._data
            key.append((d.shape, d.dtype, d.__class__, x._requires_grad))
        else:
            return tuple(key), args, args
    leaves, spec = flatten((args, kwargs))
    key = [spec_str(spec), GRAD.enabled]
    tensors = []
    for x in leaves:
        key.append(_leaf_key(x))
        if isinstance(x, Tensor):
            tensors.append(x)
    if modules is not None:
        key.append(tuple(m.training for m in modules))
    return tuple(key), tensors, leaves


def describe(key):
    """A readable form of a signature, for error messages."""
    parts = []
    if isinstance(key[0], int):  # the fast form
        return "(" + ", ".join(f"Tensor(dtype={k[1]}, shape={list(k[0])})" for k in key[2:]) \
            + ")"
    for k in key[2:]:
        if isinstance(k, tuple) and k and k[0] == "T":
            _, dt, shape, dev, rg = k
            parts.append(f"Tensor(dtype={dt}, shape={list(shape)}"
                         f"{', device=' + str(dev) if str(dev) != 'cpu' else ''}"
                         f"{', requires_grad=True' if rg else ''})")
        elif isinstance(k, tuple) and k and k[0] == "py":
            parts.append(repr(k[2]))
    return "(" + ", ".join(parts) + ")"
