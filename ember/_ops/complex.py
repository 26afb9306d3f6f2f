"""Complex-number ops: conj, real, imag, angle, view_as_real/complex, polar, complex.

Gradients follow PyTorch's convention for complex autograd (the gradient is the conjugate
Wirtinger derivative, so a real-valued loss's gradient w.r.t. z is dL/d(conj z) * 2 in
PyTorch's docs' normalisation); for these linear ops that means conj/real/imag map the
incoming gradient by the adjoint map.
"""

from __future__ import annotations

import numpy as np

from ember import _dtype as D
from ember._ops.core import OpDef, apply, register
from ember._tensor import Tensor

xp = np


def _conj_fwd(x):
    return xp.conj(x) if x.dtype.kind == "c" else x.copy()


_CONJ = OpDef("conj", _conj_fwd, lambda ctx, g: (g.conj(),), node_name="ConjBackward0")


@register
def conj(input):
    """Complex conjugate (a copy; ember has no lazy conjugate bit). Real tensors pass through."""
    if input._data.dtype.kind != "c":
        return input
    return apply(_CONJ, (input,))


@register
def conj_physical(input):
    return apply(_CONJ, (input,)) if input._data.dtype.kind == "c" else input.clone()


@register
def resolve_conj(input):
    return input


@register
def resolve_neg(input):
    return input


@register
def is_conj(input):  # noqa: ARG001 - ember has no lazy conjugate bit, so no tensor is a conjugate view
    return False


def _real_bwd(ctx, g):
    return (g.to(D.FROM_NP[ctx.params[0]]),)


def _imag_bwd(ctx, g):
    z = g.to(D.FROM_NP[ctx.params[0]])
    return (z * 1j,)


_REAL = OpDef("real", lambda x, dt: x.real, _real_bwd, view=True, node_name="RealBackward0")
_IMAG = OpDef("imag", lambda x, dt: x.imag, _imag_bwd, view=True, node_name="ImagBackward0")


def _real(input):
    if input._data.dtype.kind != "c":
        return input
    return apply(_REAL, (input,), (input._data.dtype,))


def _imag(input):
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return apply(_IMAG, (input,), (input._data.dtype,))


Tensor.real = property(_real)
Tensor.imag = property(_imag)
register(_real, name="real", method=False)
register(_imag, name="imag", method=False)


def _angle_fwd(x):
    if x.dtype.kind == "c":
        return xp.angle(x)
    # real inputs: pi where x < 0, else 0 (so -0.0 -> 0, as PyTorch), NaN stays NaN
    r = xp.where(x < 0, x.dtype.type(xp.pi), x.dtype.type(0))
    return xp.where(xp.isnan(x), x, r).astype(x.dtype, copy=False)


_ANGLE = OpDef("angle", _angle_fwd, None, save="x")


@_ANGLE.grad
def _(ctx, g):
    (x,) = ctx.inputs
    if x._data.dtype.kind != "c":
        return (g * 0,)
    # d angle(z): gradient g * i z / |z|^2 in PyTorch's convention (0 at the origin).
    denom = (x * x.conj()).real
    return ((g * x * 1j) / denom.masked_fill(denom == 0, float("inf")),)


@register
def angle(input):
    if input._data.dtype.kind in "biu":
        input = input.to(D.get_default_dtype())
    return apply(_ANGLE, (input,))


def _vr_fwd(x):
    # NumPy can't change the dtype of a 0-d array in a view: go through a 1-element view
    return x.reshape(x.shape or (1,)).view(x.real.dtype).reshape(x.shape + (2,))


_VIEW_AS_REAL = OpDef("view_as_real", _vr_fwd, lambda ctx, g: (view_as_complex(g),),
                      view=True)


def _vc_fwd(x):
    return x.view(np.complex128 if x.dtype == np.float64 else np.complex64).reshape(x.shape[:-1])


_VIEW_AS_COMPLEX = OpDef("view_as_complex", _vc_fwd, lambda ctx, g: (view_as_real(g),),
                         view=True)


def view_as_real(input):
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(_VIEW_AS_REAL, (input.contiguous(),))


def view_as_complex(input):
    d = input._data
    if d.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {input.dtype._short}")
    if d.ndim == 0 or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return apply(_VIEW_AS_COMPLEX, (input.contiguous(),))


register(view_as_real, method=False)
register(view_as_complex, method=False)


@register(method=False)
def complex(real, imag):
    if real.dtype is not imag.dtype or real._data.dtype.kind != "f":
        raise RuntimeError(f"complex(): expected both inputs to be Half, Float or Double "
                           f"tensors of the same dtype but got {real.dtype} and {imag.dtype}")
    return real + imag * 1j


@register(method=False)
def polar(abs, angle):
    return complex(abs * angle.cos(), abs * angle.sin())

