"""Helpers shared by the ``nn/_functional_*.py`` files.

NOTE [ Fused nn kernels ]
Layers that run on every training step (linear, the activations, batch/layer norm,
embedding) are OpDefs: one node per call, a forward on raw arrays and a first-order backward
on raw arrays. A backward that must itself be differentiable (``create_graph=True``, i.e.
grad mode is on while the formula runs) takes a second path: it rebuilds the op from
differentiable ember ops (``_composite_grad``) and differentiates that, so double backward
is exact without a hand-written second-order formula for every kernel.

NOTE [ Forward state as outputs ]
A fused kernel whose backward needs values computed in its forward (batch-norm mean and
inverse std, the log-softmax of cross-entropy, CTC's alpha-beta gradient, LSTM gate
activations, a dropout mask) is a multi-output record: its forward returns the public
outputs followed by that state, so a compiler replaying the record gets everything from
``fwd(*arrays, *attrs)`` and its attributes stay plain values (no arrays in ``params``).
The public function hands back only what PyTorch returns: ``_keep_state`` drops the state
outputs, keeps their arrays on the node (``node.out``, freed with the node's other saved
values after backward) and shrinks the node's output list to the public outputs, so the
engine neither expects nor zero-fills gradients for the state. Backward formulas read it
with ``_state(ctx)``. Nothing can modify the state in place (no tensor of it escapes), so
it needs no version check.
"""

from __future__ import annotations

from ember._ops.core import inplace_apply
from ember._ops.core import keep_state as _keep_state  # noqa: F401  (used by nn's records)
from ember._ops.core import state_of as _state  # noqa: F401
from ember._tensor import Tensor

__all__: list = []


# --------------------------------------------------------------------------- helpers
def _t(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def _composite_grad(ctx, g, composite):
    """Differentiable backward: re-run ``composite`` (the op in ember ops) on the saved
    inputs and differentiate it with ``create_graph=True`` (NOTE [ Fused nn kernels ])."""
    from ember.autograd import grad as _grad

    inputs = ctx.inputs
    idx = [i for i, e in enumerate(ctx.next) if e is not None]
    y = composite(*inputs, *ctx.params)
    gs = _grad(y, [inputs[i] for i in idx], g, create_graph=True, allow_unused=True)
    out = [None] * len(inputs)
    for i, gi in zip(idx, gs):
        out[i] = gi
    return tuple(out)


def _maybe_inplace(fn, name, x, args, inplace):
    if inplace:
        return inplace_apply(fn, name, x, args, {})
    return fn(x, *args)


def _float(x):
    return x._data.dtype.type


def _float_input(x, name):
    _t(x, name)
    if x._data.dtype.kind in "biu":
        raise NotImplementedError(f"\"{name}\" not implemented for '{x.dtype._short}'")
    return x
