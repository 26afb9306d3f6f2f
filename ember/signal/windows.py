"""``ember.signal.windows``: SciPy-style window functions with PyTorch's signatures
(``M`` points, ``sym=True`` for a symmetric window; ``sym=False`` gives the periodic window
used for spectral analysis: the symmetric window of ``M + 1`` points without its last).

The values are computed in float64 on NumPy and cast once to ``dtype``.
"""

from __future__ import annotations

import math

import numpy as np

from ember import _dtype as D
from ember._device import check_device
from ember._ops.args import layout_arg
from ember._ops.core import wrap
from ember._ops.signal import bartlett_values, cosine_sum, kaiser_values
from ember._tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _make(name, M, sym, dtype, layout, device, requires_grad, fn) -> Tensor:
    """The checks every window makes, then ``fn`` (NOTE [ Window formulas ] in
    _ops/signal.py) evaluated in float64 and cast once."""
    check_device(device)
    layout_arg(name, "layout", layout)  # strided only; others are refused
    if not isinstance(M, (int, np.integer)) or isinstance(M, bool):
        raise TypeError(f"{name}(): argument 'M' must be int, not {type(M).__name__}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    if dt.category != D.FLOAT:
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dt}")
    if M == 0:
        arr = np.zeros(0)
    elif M == 1:
        arr = np.ones(1)
    else:
        N = M if sym else M + 1
        arr = fn(np.arange(N, dtype=np.float64), N)[:M]
    t = wrap(np.ascontiguousarray(arr.astype(dt.np)))
    if requires_grad:
        t.requires_grad_()
    return t


def general_cosine(M: int, *, a, sym: bool = True, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """Sum of cosines ``sum_k (-1)^k a_k cos(2 pi k n / (M - 1))``.

    Args:
        M: number of points.
        a: the coefficients.
        sym: symmetric (True) or periodic (False) window.

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.general_cosine(3, a=[0.5, 0.5])
        tensor([0., 1., 0.])
    """
    try:
        coeffs = [float(c) for c in a]
    except TypeError:
        raise TypeError("general_cosine(): coefficients 'a' must be an iterable of "
                        "floats") from None
    return _make("general_cosine", M, sym, dtype, layout, device, requires_grad, cosine_sum(coeffs))


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype=None,
                    layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """``alpha - (1 - alpha) cos(2 pi n / (M - 1))``.

    Args:
        M: the window length.
        alpha: the window's constant term.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.general_hamming(3, alpha=0.5)
        tensor([0., 1., 0.])
    """
    return _make("general_hamming", M, sym, dtype, layout, device, requires_grad,
                 cosine_sum((alpha, 1.0 - alpha)))


def hann(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """The Hann window (general Hamming with alpha 0.5).

    Args:
        M: the window length.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.hann(3)
        tensor([0., 1., 0.])
    """
    return _make("hann", M, sym, dtype, layout, device, requires_grad, cosine_sum((0.5, 0.5)))


def hamming(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The Hamming window (general Hamming with alpha 0.54).

    Args:
        M: the window length.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.hamming(3)
        tensor([0.0800, 1.0000, 0.0800])
    """
    return _make("hamming", M, sym, dtype, layout, device, requires_grad, cosine_sum((0.54, 0.46)))


def blackman(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The Blackman window (cosine sum 0.42, 0.5, 0.08).

    Args:
        M: the window length.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.blackman(5)[1:4]
        tensor([0.3400, 1.0000, 0.3400])
    """
    return _make("blackman", M, sym, dtype, layout, device, requires_grad,
                 cosine_sum((0.42, 0.5, 0.08)))


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The minimum 4-term Blackman-Harris window of Nuttall.

    Args:
        M: the window length.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.nuttall(3)[1]
        tensor(1.)
    """
    return _make("nuttall", M, sym, dtype, layout, device, requires_grad,
                 cosine_sum((0.3635819, 0.4891775, 0.1365995, 0.0106411)))


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The triangular window ``1 - |2n / (M - 1) - 1|``.

    Args:
        M: the window length.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.bartlett(5)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _make("bartlett", M, sym, dtype, layout, device, requires_grad, bartlett_values)


def cosine(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """The cosine (sine) window ``sin(pi (n + 0.5) / M)``.

    Args:
        M: the window length.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.cosine(2)
        tensor([0.7071, 0.7071])
    """
    return _make("cosine", M, sym, dtype, layout, device, requires_grad,
                 lambda n, N: np.sin(math.pi * (n + 0.5) / N))


def exponential(M: int, *, center=None, tau: float = 1.0, sym: bool = True, dtype=None,
                layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The exponential (Poisson) window ``exp(-|n - center| / tau)``.

    Args:
        M: number of points.
        center: the peak's position (default: the middle; only for ``sym=False``).
        tau: decay (> 0).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.exponential(3, tau=1.0)
        tensor([0.3679, 1.0000, 0.3679])
    """
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")

    def fn(n, N):
        c = (N - 1) / 2 if center is None else float(center)
        return np.exp(-np.abs(n - c) / tau)

    return _make("exponential", M, sym, dtype, layout, device, requires_grad, fn)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=None,
             device=None, requires_grad: bool = False) -> Tensor:
    """The Gaussian window ``exp(-(n - (M - 1) / 2)^2 / (2 std^2))``.

    Args:
        M: the window length.
        std: the standard deviation, in samples.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.gaussian(3, std=1.0)
        tensor([0.6065, 1.0000, 0.6065])
    """
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _make("gaussian", M, sym, dtype, layout, device, requires_grad,
                 lambda n, N: np.exp(-((n - (N - 1) / 2) ** 2) / (2 * std * std)))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window ``I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)``.

    Args:
        M: the window length.
        beta: the shape parameter.
        sym: a symmetric window (default True) for filter design; False gives the periodic
            one for spectral analysis.
        dtype: the result's dtype (default: the default float dtype).
        layout: only ``ember.strided``.
        device: the result's device.
        requires_grad: record operations for autograd (default False).

    Returns:
        A 1-D tensor of M values.

    Example::

        >>> ember.signal.windows.kaiser(3, beta=0.0)
        tensor([1., 1., 1.])
    """
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _make("kaiser", M, sym, dtype, layout, device, requires_grad, kaiser_values(beta))
