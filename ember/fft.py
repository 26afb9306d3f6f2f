"""``ember.fft``: discrete Fourier transforms with PyTorch's ``torch.fft`` API, on NumPy's
pocketfft.

Three ops carry every transform (PyTorch's ``_fft_c2c``/``_fft_r2c``/``_fft_c2r``), plus a
zero-pad/truncate op for the ``n``/``s`` arguments; each backward is another transform, so
gradients of any order come from the same four records.

NOTE [ FFT gradients ]
Gradients follow PyTorch's complex convention (the conjugate Wirtinger derivative). A DFT is
linear, so its gradient is the adjoint: the opposite-direction transform with the dual
normalisation (``backward`` <-> ``forward``, ``ortho`` stays). ``rfft`` keeps half of a
full DFT of a real signal: its adjoint zero-pads the gradient back to the full length,
transforms, and keeps the real part. ``irfft`` reads each non-edge coefficient twice (it
and its mirrored conjugate), so its gradient is ``rfft`` of the output gradient with those
coefficients doubled (PyTorch's "Hermitian doubling").
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ember import _dtype as D
from ember._ops.core import OpDef, apply, wrap
from ember._tensor import Tensor, _wrap_dim

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

xp = np
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# --------------------------------------------------------------------------- the four ops
def _resize_fwd(x, sizes, axes):
    """Zero-pad or truncate ``x`` to ``sizes`` along ``axes``."""
    out_shape = list(x.shape)
    for a, n in zip(axes, sizes):
        out_shape[a] = n
    out = xp.zeros(out_shape, x.dtype)
    key = tuple(slice(0, min(x.shape[i], out_shape[i])) for i in range(x.ndim))
    out[key] = x[key]
    return out


_RESIZE = OpDef("fft_resize", _resize_fwd, None, save="x", node_name="ConstantPadNdBackward0")


@_RESIZE.grad
def _(ctx, g):
    sizes, axes = ctx.params
    x, = ctx.inputs
    return (apply(_RESIZE, (g,), (tuple(x._data.shape[a] for a in axes), axes)),)


def _c2c_fwd(x, axes, norm, forward):
    if not axes:
        return x.astype(_complex_of(x.dtype))
    f = xp.fft.fftn if forward else xp.fft.ifftn
    return f(x, axes=axes, norm=norm)


_C2C = OpDef("fft_c2c", _c2c_fwd, None, save="x", node_name="FftC2CBackward0")


@_C2C.grad
def _(ctx, g):
    axes, norm, forward = ctx.params
    x, = ctx.inputs
    gx = apply(_C2C, (g,), (axes, _DUAL[norm], not forward))
    return (gx.real if x._data.dtype.kind != "c" else gx,)


def _r2c_fwd(x, axes, norm):
    return xp.fft.rfftn(x, axes=axes, norm=norm)


_R2C = OpDef("fft_r2c", _r2c_fwd, None, save="x", node_name="FftR2CBackward0")


@_R2C.grad
def _(ctx, g):
    axes, norm = ctx.params
    x, = ctx.inputs
    n = x._data.shape[axes[-1]]
    gp = apply(_RESIZE, (g,), ((n,), (axes[-1],)))  # the discarded half had zero gradient
    return (apply(_C2C, (gp,), (axes, _DUAL[norm], False)).real,)


def _c2r_fwd(x, axes, norm, n, real_in):  # noqa: ARG001 - a record attribute, in the record's attrs order
    s = [x.shape[a] for a in axes[:-1]] + [n]
    return xp.fft.irfftn(x, s=s, axes=axes, norm=norm)


_C2R = OpDef("fft_c2r", _c2r_fwd, None, node_name="FftC2RBackward0")


@_C2R.grad
def _(ctx, g):
    axes, norm, n, real_in = ctx.params
    gi = apply(_R2C, (g,), (axes, _DUAL[norm]))
    half = gi._data.shape[axes[-1]]
    w = np.ones(half, g._data.dtype)
    w[1:1 + n - half] = 2  # coefficients that irfft also reads as their mirrored conjugate
    shape = [1] * gi._data.ndim
    shape[axes[-1]] = half
    gi = gi * wrap(w.reshape(shape))
    return (gi.real if real_in else gi,)


# --------------------------------------------------------------------------- argument checks
def _complex_of(dt):
    return np.complex64 if dt in (np.float32, np.complex64, np.float16) else np.complex128


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _float_input(name, x, real_only=False):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    k = x._data.dtype.kind
    if real_only and k == "c":
        raise RuntimeError(f"{name} expects a real input tensor, but got {x.dtype._short}")
    if k in "biu":
        return x.to(D.get_default_dtype())
    if k == "f" and x._data.dtype.itemsize < 4:
        return x.to(D.float32)
    if k == "V":  # bfloat16
        return x.to(D.float32)
    return x


def _dims_and_sizes(name, x, s, dim, default_all=True):
    """Normalise (s, dim) like PyTorch: returns (axes, sizes or None per axis)."""
    nd = x._data.ndim
    if s is not None:
        s = [s] if isinstance(s, int) else list(s)
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        axes = [_wrap_dim(d, nd, name) for d in dims]
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} "
                               "dimensions.")
        axes = list(range(nd - len(s), nd))
    else:
        axes = list(range(nd)) if default_all else [nd - 1]
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    sizes = []
    for i, a in enumerate(axes):
        n = -1 if s is None else s[i]
        n = x._data.shape[a] if n == -1 else n
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
        sizes.append(int(n))
    return tuple(axes), tuple(sizes)


def _resize(x, axes, sizes):
    if all(x._data.shape[a] == n for a, n in zip(axes, sizes)):
        return x
    return apply(_RESIZE, (x,), (tuple(sizes), tuple(axes)))


# --------------------------------------------------------------------------- transforms
def _c2c(name, input, s, dim, norm, forward, default_all=True):
    x = _float_input(name, input)
    axes, sizes = _dims_and_sizes(name, x, s, dim, default_all)
    x = _resize(x, axes, sizes)
    return apply(_C2C, (x,), (axes, _norm(norm), forward))


def _r2c(name, input, s, dim, norm, default_all=True):
    x = _float_input(name, input, real_only=True)
    axes, sizes = _dims_and_sizes(name, x, s, dim, default_all)
    if not axes:
        raise RuntimeError(f"{name} must transform at least one axis")
    x = _resize(x, axes, sizes)
    return apply(_R2C, (x,), (axes, _norm(norm)))


def _c2r(name, input, s, dim, norm, default_all=True):
    x = _float_input(name, input)
    if s is not None:
        axes, sizes = _dims_and_sizes(name, x, s, dim, default_all)
    else:
        axes, sizes = _dims_and_sizes(name, x, None, dim, default_all)
        sizes = sizes[:-1] + (2 * (sizes[-1] - 1),)
        if sizes[-1] < 1:
            raise RuntimeError(f"Invalid number of data points ({sizes[-1]}) specified")
    if not axes:
        raise RuntimeError(f"{name} must transform at least one axis")
    n = sizes[-1]
    x = _resize(x, axes, sizes[:-1] + (n // 2 + 1,))
    return apply(_C2R, (x,), (axes, _norm(norm), n, x._data.dtype.kind != "c"))


def fft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
        out=None) -> Tensor:
    """One-dimensional discrete Fourier transform along ``dim``.

    Args:
        input: real or complex tensor (integers are promoted to the default float dtype).
        n: signal length: the input is zero-padded or truncated to it.
        dim: the dimension to transform.
        norm: ``'backward'`` (default, no scaling), ``'ortho'`` (1/sqrt(n)) or ``'forward'``
            (1/n).

    Returns:
        A complex tensor; ``dim`` has length ``n``.

    Example::

        >>> ember.fft.fft(ember.tensor([1., 0., 0., 0.]))
        tensor([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    return _out(_c2c("fft", input, n, dim, norm, True), out)


def ifft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
         out=None) -> Tensor:
    """Inverse of :func:`fft` (``'backward'`` norm scales by 1/n).

    Args:
        input: the input tensor.
        n: the signal length: the input is zero-padded or trimmed to it (default: its size
            along ``dim``).
        dim: the dimension to work along.
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor.

    Example::

        >>> ember.fft.ifft(ember.fft.fft(ember.tensor([1., 2.]))).real
        tensor([1., 2.])
    """
    return _out(_c2c("ifft", input, n, dim, norm, False), out)


def fft2(input: Tensor, s: Optional[Sequence[int]] = None, dim=(-2, -1),
         norm: Optional[str] = None, *, out=None) -> Tensor:
    """Two-dimensional FFT over ``dim`` (the last two by default).

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the two dimensions (default the last two).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor.

    Example::

        >>> ember.fft.fft2(ember.ones(2, 2))
        tensor([[4.+0.j, 0.+0.j],
                [0.+0.j, 0.+0.j]])
    """
    return _out(_c2c("fft2", input, s, dim, norm, True), out)


def ifft2(input: Tensor, s: Optional[Sequence[int]] = None, dim=(-2, -1),
          norm: Optional[str] = None, *, out=None) -> Tensor:
    """Inverse of :func:`fft2`.

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the two dimensions (default the last two).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor.

    Example:
        >>> ember.fft.ifft2(ember.fft.fft2(ember.eye(2))).real
        tensor([[1., 0.],
                [0., 1.]])
    """
    return _out(_c2c("ifft2", input, s, dim, norm, False), out)


def fftn(input: Tensor, s: Optional[Sequence[int]] = None, dim=None,
         norm: Optional[str] = None, *, out=None) -> Tensor:
    """N-dimensional FFT over ``dim`` (all dims, or the last ``len(s)`` when ``s`` is given).

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the dimensions (default: all, or the last ``len(s)``).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor.

    Example::

        >>> ember.fft.fftn(ember.ones(2, 2, 2)).abs().sum()
        tensor(8.)
    """
    return _out(_c2c("fftn", input, s, dim, norm, True), out)


def ifftn(input: Tensor, s: Optional[Sequence[int]] = None, dim=None,
          norm: Optional[str] = None, *, out=None) -> Tensor:
    """Inverse of :func:`fftn`.

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the dimensions (default: all, or the last ``len(s)``).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor.

    Example:
        >>> ember.fft.ifftn(ember.fft.fftn(ember.ones(2, 2))).real
        tensor([[1., 1.],
                [1., 1.]])
    """
    return _out(_c2c("ifftn", input, s, dim, norm, False), out)


def rfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
         out=None) -> Tensor:
    """FFT of a real signal, keeping the ``n // 2 + 1`` non-negative frequencies.

    Args:
        input: the input tensor.
        n: the signal length: the input is zero-padded or trimmed to it (default: its size
            along ``dim``).
        dim: the dimension to work along.
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor; ``dim`` has ``n // 2 + 1`` entries.

    Example::

        >>> ember.fft.rfft(ember.tensor([1., 1., 1., 1.]))
        tensor([4.+0.j, 0.+0.j, 0.+0.j])
    """
    return _out(_r2c("rfft", input, n, dim, norm), out)


def irfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
          out=None) -> Tensor:
    """Inverse of :func:`rfft`: a real signal of length ``n`` (default ``2 * (m - 1)``).

    Args:
        input: the input tensor.
        n: the signal length: the input is zero-padded or trimmed to it (default: its size
            along ``dim``).
        dim: the dimension to work along.
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A real tensor of length ``n`` along ``dim``.

    Example::

        >>> ember.fft.irfft(ember.fft.rfft(ember.tensor([1., 2., 3., 4.])))
        tensor([1., 2., 3., 4.])
    """
    return _out(_c2r("irfft", input, n, dim, norm), out)


def rfft2(input: Tensor, s: Optional[Sequence[int]] = None, dim=(-2, -1),
          norm: Optional[str] = None, *, out=None) -> Tensor:
    """Two-dimensional :func:`rfftn`.

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the two dimensions (default the last two).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor (the last dimension halved plus one).

    Example:
        >>> ember.fft.rfft2(ember.ones(4, 4)).shape
        torch.Size([4, 3])
    """
    return _out(_r2c("rfft2", input, s, dim, norm), out)


def irfft2(input: Tensor, s: Optional[Sequence[int]] = None, dim=(-2, -1),
           norm: Optional[str] = None, *, out=None) -> Tensor:
    """Two-dimensional :func:`irfftn`.

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the two dimensions (default the last two).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A real tensor.

    Example:
        >>> ember.fft.irfft2(ember.fft.rfft2(ember.eye(2)))
        tensor([[1., 0.],
                [0., 1.]])
    """
    return _out(_c2r("irfft2", input, s, dim, norm), out)


def rfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim=None,
          norm: Optional[str] = None, *, out=None) -> Tensor:
    """N-dimensional FFT of a real signal; the last transformed dim keeps ``n // 2 + 1``.

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the dimensions (default: all, or the last ``len(s)``).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor.

    Example::

        >>> ember.fft.rfftn(ember.ones(2, 4)).shape
        torch.Size([2, 3])
    """
    return _out(_r2c("rfftn", input, s, dim, norm), out)


def irfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim=None,
           norm: Optional[str] = None, *, out=None) -> Tensor:
    """Inverse of :func:`rfftn`.

    Args:
        input: the input tensor.
        s: the signal size in each transformed dimension (default: the input's).
        dim: the dimensions (default: all, or the last ``len(s)``).
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A real tensor.

    Example:
        >>> ember.fft.irfftn(ember.fft.rfftn(ember.ones(2, 4))).shape
        torch.Size([2, 4])
    """
    return _out(_c2r("irfftn", input, s, dim, norm), out)


def hfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
         out=None) -> Tensor:
    """FFT of a Hermitian-symmetric signal given by its first half: a real result.

    ``hfft(x, n, norm) == irfft(conj(x), n, norm=<dual of norm>)``.

    Args:
        input: the input tensor.
        n: the signal length: the input is zero-padded or trimmed to it (default: its size
            along ``dim``).
        dim: the dimension to work along.
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A real tensor of length ``n`` (default ``2 * (m - 1)``).

    Example::

        >>> ember.fft.hfft(ember.tensor([1., 0., 0.]))
        tensor([1., 1., 1., 1.])
    """
    return _out(_hermitian_c2r("hfft", input, n, dim, norm), out)


def ihfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
          out=None) -> Tensor:
    """Inverse of :func:`hfft`: ``conj(rfft(x, n, norm=<dual of norm>))`` for real ``x``.

    Args:
        input: the input tensor.
        n: the signal length: the input is zero-padded or trimmed to it (default: its size
            along ``dim``).
        dim: the dimension to work along.
        norm: ``'backward'`` (default: no scaling forward, 1/n inverse), ``'forward'`` (1/n
            forward) or ``'ortho'`` (1/sqrt(n) both ways).
        out: optional tensor to write the result into.

    Returns:
        A complex tensor of ``n // 2 + 1`` entries.

    Example::

        >>> ember.fft.ihfft(ember.tensor([1., 1., 1., 1.]))
        tensor([1.-0.j, 0.-0.j, 0.-0.j])
    """
    return _out(_hermitian_r2c("ihfft", input, n, dim, norm), out)


def hfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim=None,
          norm: Optional[str] = None, *, out=None) -> Tensor:
    """N-dimensional FFT of a Hermitian-symmetric signal given by its half along the last
    transformed dim: a real result, ``irfftn(conj(x), s, dim, norm=<dual of norm>)``.

    Args:
        input: the half signal (real or complex).
        s: the output sizes along the transformed dims (the last defaults to
            ``2 * (m - 1)``).
        dim: the dims to transform (default: all, or the last ``len(s)``).
        norm: ``'backward'`` (default: no scaling), ``'ortho'`` or ``'forward'`` (1/n).
        out: an optional output tensor.

    Returns:
        A real tensor.

    Example:
        >>> ember.fft.hfftn(ember.ones(2, 3)).shape
        torch.Size([2, 4])
    """
    return _out(_hermitian_c2r("hfftn", input, s, dim, norm), out)


def hfft2(input: Tensor, s: Optional[Sequence[int]] = None, dim=(-2, -1),
          norm: Optional[str] = None, *, out=None) -> Tensor:
    """Two-dimensional :func:`hfftn` (over the last two dims by default).

    Args:
        input: the half signal.
        s: the output sizes of the two dims.
        dim: the two dims.
        norm: ``'backward'``, ``'ortho'`` or ``'forward'``.
        out: an optional output tensor.

    Returns:
        A real tensor.

    Example:
        >>> ember.fft.hfft2(ember.ones(2, 3)).shape
        torch.Size([2, 4])
    """
    return _out(_hermitian_c2r("hfft2", input, s, dim, norm), out)


def ihfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim=None,
           norm: Optional[str] = None, *, out=None) -> Tensor:
    """Inverse of :func:`hfftn` for a real signal: ``conj(rfftn(x, s, dim, norm=<dual of
    norm>))``, keeping ``n // 2 + 1`` entries along the last transformed dim.

    Args:
        input: a real tensor.
        s: the signal sizes (zero-padded or truncated to them).
        dim: the dims to transform (default: all, or the last ``len(s)``).
        norm: ``'backward'`` (default: 1/n), ``'ortho'`` or ``'forward'``.
        out: an optional output tensor.

    Returns:
        A complex tensor.

    Example:
        >>> ember.fft.ihfftn(ember.ones(2, 4)).shape
        torch.Size([2, 3])
    """
    return _out(_hermitian_r2c("ihfftn", input, s, dim, norm), out)


def ihfft2(input: Tensor, s: Optional[Sequence[int]] = None, dim=(-2, -1),
           norm: Optional[str] = None, *, out=None) -> Tensor:
    """Two-dimensional :func:`ihfftn` (over the last two dims by default).

    Args:
        input: a real tensor.
        s: the signal sizes of the two dims.
        dim: the two dims.
        norm: ``'backward'``, ``'ortho'`` or ``'forward'``.
        out: an optional output tensor.

    Returns:
        A complex tensor.

    Example:
        >>> ember.fft.ihfft2(ember.ones(2, 4)).shape
        torch.Size([2, 3])
    """
    return _out(_hermitian_r2c("ihfft2", input, s, dim, norm), out)


# --------------------------------------------------------------------------- helpers
def _hermitian_c2r(name, input, s, dim, norm):
    """hfft/hfft2/hfftn: the real transform of a Hermitian signal given by its half, which is
    the inverse real FFT of its conjugate under the dual norm."""
    x = _float_input(name, input)
    if x.is_complex():
        x = x.conj()
    return _c2r(name, x, s, dim, _DUAL[_norm(norm)])


def _hermitian_r2c(name, input, s, dim, norm):
    """ihfft/ihfft2/ihfftn: the half spectrum of a real signal with hfft's conventions, which
    is the conjugate of its real FFT under the dual norm."""
    return _r2c(name, input, s, dim, _DUAL[_norm(norm)]).conj()


def _out(res, out):
    if out is None:
        return res
    from ember._ops.core import write_out

    return write_out("fft", out, res)


def _placed(t, name, layout, device):
    """``t`` on ``device`` (strided layouts only, others refused)."""
    from ember._ops.args import layout_arg

    layout_arg(name, "layout", layout)
    return t if device is None else t.to(device)


def _freq_dtype(dtype):
    return D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()


def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Sample frequencies of :func:`fft` for a signal of length ``n`` and spacing ``d``.

    Args:
        n: the signal length.
        d: the sample spacing (default 1).
        out: optional tensor to write the result into.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided`` is supported.
        device: the device of the parameters and buffers (default: the default device).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor of n frequencies.

    Example::

        >>> ember.fft.fftfreq(4)
        tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    t = _placed(wrap(np.fft.fftfreq(int(n), d).astype(_freq_dtype(dtype).np)), "fftfreq",
                layout, device)
    return _out(t.requires_grad_(requires_grad) if requires_grad else t, out)


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """Sample frequencies of :func:`rfft` (the ``n // 2 + 1`` non-negative ones).

    Args:
        n: the signal length.
        d: the sample spacing (default 1).
        out: optional tensor to write the result into.
        dtype: the result's dtype.
        layout: only ``ember.strided`` is supported.
        device: the device of the parameters and buffers (default: the default device).
        requires_grad: record operations on the result for autograd (default False).

    Returns:
        A 1-D tensor of ``n // 2 + 1`` frequencies.

    Example::

        >>> ember.fft.rfftfreq(5, 0.5)
        tensor([0.0000, 0.4000, 0.8000])
    """
    t = _placed(wrap(np.fft.rfftfreq(int(n), d).astype(_freq_dtype(dtype).np)), "rfftfreq",
                layout, device)
    return _out(t.requires_grad_(requires_grad) if requires_grad else t, out)


def _shift(input, dim, sign):
    nd = input._data.ndim
    if dim is None:
        dims = list(range(nd))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [_wrap_dim(d, nd, "fftshift") for d in dims]
    if not dims:
        return input
    from ember._ops.shape import roll

    shifts = [sign * (input._data.shape[d] // 2) for d in dims]
    return roll(input, shifts, dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Move the zero frequency to the centre (roll each ``dim`` by ``n // 2``).

    Args:
        input: the input tensor.
        dim: the dimension(s) to shift (default: all).

    Returns:
        A tensor of ``input``'s shape.

    Example::

        >>> ember.fft.fftshift(ember.fft.fftfreq(4))
        tensor([-0.5000, -0.2500,  0.0000,  0.2500])
    """
    return _shift(input, dim, 1)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """Inverse of :func:`fftshift`.

    Args:
        input: the input tensor.
        dim: the dimension(s) to shift (default: all).

    Returns:
        A tensor of ``input``'s shape.

    Example::

        >>> ember.fft.ifftshift(ember.fft.fftshift(ember.arange(5)))
        tensor([0, 1, 2, 3, 4])
    """
    return _shift(input, dim, -1)
