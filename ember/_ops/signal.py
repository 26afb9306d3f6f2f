"""Signal ops: the window functions (``hann_window`` ...), ``stft``/``istft`` and ``pdist``.

These are composites of existing ops (indexing, products, ``ember.fft``'s transform records,
accumulating ``index_put``), so their gradients of every order come from those records'
formulas. Like ``_ops/linalg_ops.py`` for ``ember.linalg``, this file publishes PyTorch's
top-level names for library kernels (``ember.fft``), so ``_ops/__init__`` needs one line.

NOTE [ STFT as frames, window, DFT ]
``stft`` pads the signal (``center``), takes ``n_frames = 1 + (len - n_fft) // hop`` frames
of ``n_fft`` samples with ``Tensor.unfold`` (a view whose backward scatters the gradient
back, overlapping frames adding up), multiplies by the window zero-padded to ``n_fft`` in
the middle, and transforms each frame (``rfft`` for the one-sided spectrum of a real
signal). ``istft`` inverts each frame, multiplies by the window again and overlap-adds the
frames with an accumulating ``index_put``, then divides by the overlap-added squared window
(the least-squares inverse of Griffin and Lim), which must stay above 1e-11 where the output
is kept (PyTorch's NOLA check).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember import _dtype as D
from ember._ops.args import layout_arg
from ember._ops.core import register, wrap
from ember._ops.creation import _create, _factory_op
from ember._tensor import Tensor

_WINDOW_NAMES = ("hann_window", "hamming_window", "blackman_window", "bartlett_window",
                 "kaiser_window")


# =============================================================================== windows
def _window(name, window_length, periodic, dtype, device, requires_grad, args, layout=None):
    """Shared argument handling, then the window's factory record (NOTE [ Factory records ]):
    attributes ``(window_length, periodic, args, dtype, device)``, where ``args`` holds the
    window's own parameters (cosine coefficients, Kaiser's beta)."""
    layout_arg(name, "layout", layout)
    if not isinstance(window_length, (int, np.integer)) or isinstance(window_length, bool):
        raise TypeError(f"{name}(): argument 'window_length' must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    if dt.category != D.FLOAT:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    params = (int(window_length), bool(periodic), tuple(float(a) for a in args), dt.np)
    return _create(_WINDOW_OPS[name], params, device, requires_grad)


# NOTE [ Window formulas ]
# Each window is a formula f(n, N): the symmetric window of N points at positions n, in
# float64. torch.*_window (the records below) and ember.signal.windows both evaluate these;
# a periodic window of length L is the symmetric one of L + 1 points without its last.
def cosine_sum(coeffs):
    """``sum_k (-1)^k a_k cos(2 pi k n / (N - 1))``: Hann, Hamming, Blackman, Nuttall."""
    def f(n, N):
        x = 2 * math.pi * n / (N - 1)
        return sum(((-1) ** k) * a * np.cos(k * x) for k, a in enumerate(coeffs))

    return f


def bartlett_values(n, N):
    """The triangle ``1 - |2n / (N - 1) - 1|``."""
    return 1 - np.abs(2 * n / (N - 1) - 1)


def kaiser_values(beta):
    """Kaiser's ``I0(beta sqrt(1 - r^2)) / I0(beta)`` with ``r = 2n / (N - 1) - 1``."""
    def f(n, N):
        r = 2 * n / (N - 1) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - r * r, 0, None))) / np.i0(beta)

    return f


def _window_values(kind, L, periodic, args, npdt):
    """The window's values (NOTE [ Window formulas ])."""
    if L <= 1:
        return np.ones(L, npdt)
    N = L + 1 if periodic else L
    formula = (bartlett_values if kind == "bartlett" else kaiser_values(*args)
               if kind == "kaiser" else cosine_sum(args))  # cosines with coefficients args
    arr = formula(np.arange(L, dtype=np.float64), N)
    return np.ascontiguousarray(arr.astype(npdt))


_WINDOW_OPS = {
    name: _factory_op(name, (lambda L, periodic, args, dt, _k=kind:
                             _window_values(_k, L, periodic, args, dt)),
                      lambda L, periodic, args, dt: ((L,), dt),
                      ("window_length", "periodic", "args", "dtype"))
    for name, kind in (("hann_window", "cosine"), ("hamming_window", "cosine"),
                       ("blackman_window", "cosine"), ("bartlett_window", "bartlett"),
                       ("kaiser_window", "kaiser"))}


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad: bool = False) -> Tensor:
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))``.

    Args:
        window_length: number of points.
        periodic: True (default) for a window meant for spectral analysis (the symmetric
            window of length ``window_length + 1`` without its last point).
        dtype: a floating dtype (default: the default dtype).
        requires_grad: make the result a leaf that requires grad.

    Example::

        >>> ember.hann_window(4)
        tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   (0.5, 0.5), layout)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False) -> Tensor:
    """The (generalised) Hamming window ``alpha - beta cos(2 pi n / (N - 1))``.

    Args:
        window_length: number of points.
        periodic: see :func:`hann_window`.
        alpha, beta: the coefficients (0.54, 0.46 by default).

    Example::

        >>> ember.hamming_window(3, periodic=False)
        tensor([0.0800, 1.0000, 0.0800])
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   (alpha, beta), layout)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """The Blackman window ``0.42 - 0.5 cos(2 pi n/(N-1)) + 0.08 cos(4 pi n/(N-1))``.

    Example::

        >>> ember.blackman_window(3, periodic=False)[1]
        tensor(1.)
    """
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   (0.42, 0.5, 0.08), layout)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad: bool = False) -> Tensor:
    """The triangular Bartlett window ``1 - |2n / (N - 1) - 1|``.

    Example::

        >>> ember.bartlett_window(5, periodic=False)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   (), layout)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, layout=None, device=None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window ``I0(beta sqrt(1 - (2n/(N-1) - 1)^2)) / I0(beta)``.

    Args:
        window_length: number of points.
        periodic: see :func:`hann_window`.
        beta: shape parameter (12.0 by default).

    Example::

        >>> ember.kaiser_window(3, periodic=False, beta=0.0)
        tensor([1., 1., 1.])
    """
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   (beta,), layout)


for _f in (hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window):
    register(_f, method=False)


# =============================================================================== STFT
def _pad_signal(x, pad, mode):
    """Pad the last dim by ``pad`` on both sides (reflect/replicate/circular/constant)."""
    if pad == 0:
        return x
    n = x.shape[-1]
    if mode == "constant":
        from ember._ops.shape import cat

        z = x.new_zeros(tuple(x.shape[:-1]) + (pad,))
        return cat([z, x, z], -1)
    idx = np.arange(-pad, n + pad)
    if mode == "reflect":
        if pad >= n:
            raise RuntimeError(f"stft: padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({pad}, {pad}) at dimension "
                               f"-1 of input {list(x.shape)}")
        idx = np.abs(idx)
        idx = np.where(idx >= n, 2 * (n - 1) - idx, idx)
    elif mode == "replicate":
        idx = np.clip(idx, 0, n - 1)
    elif mode == "circular":
        idx = idx % n
    else:
        raise RuntimeError(f"stft: unsupported pad_mode '{mode}' (expected 'constant', "
                           "'reflect', 'replicate' or 'circular')")
    return x.index_select(-1, wrap(idx.astype(np.int64)))


def _full_window(name, window, win_length, n_fft, like):
    """The window zero-padded in the middle of ``n_fft`` points (ones when None)."""
    if window is None:
        w = (like.real if like.is_complex() else like).new_ones(win_length)
    else:
        if not isinstance(window, Tensor) or window.ndim != 1 or window.shape[0] != win_length:
            shape = list(window.shape) if isinstance(window, Tensor) else type(window).__name__
            raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to "
                               f"win_length={win_length}, but got window with size {shape}")
        w = window
    left = (n_fft - win_length) // 2
    if left or n_fft - win_length - left:
        from ember._ops.shape import cat

        w = cat([w.new_zeros(left), w, w.new_zeros(n_fft - win_length - left)])
    return w


def _check_lengths(name, n_fft, hop_length, win_length):
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if n_fft <= 0:
        raise RuntimeError(f"{name}: expected 0 < n_fft, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    return hop, win


def stft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
         center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided=None, return_complex=None, align_to_window=None) -> Tensor:
    """Short-time Fourier transform (see NOTE [ STFT as frames, window, DFT ]).

    Args:
        input: a 1-D signal ``(L,)`` or a batch ``(B, L)``, real or complex.
        n_fft: frame size (points of each DFT).
        hop_length: distance between frame starts (default ``n_fft // 4``).
        win_length: window size (default ``n_fft``); the window is centred in the frame.
        window: a 1-D tensor of ``win_length`` points (default: all ones).
        center: pad the signal by ``n_fft // 2`` on both sides so frame t is centred at
            ``t * hop_length``.
        pad_mode: 'reflect' (default), 'constant', 'replicate' or 'circular'.
        normalized: multiply by ``n_fft ** -0.5``.
        onesided: keep only the ``n_fft // 2 + 1`` non-negative frequencies (default True
            for a real signal and window).
        return_complex: must be given for real input; True returns a complex tensor, False
            its ``view_as_real`` (deprecated in PyTorch too).

    Returns:
        ``(B?, n_freq, n_frames)`` complex tensor.

    Example::

        >>> x = ember.ones(8)
        >>> tuple(ember.stft(x, 4, return_complex=True).shape)
        (3, 9)
    """
    from ember import fft as _fft
    from ember._ops.complex import view_as_real

    if not isinstance(input, Tensor):
        raise TypeError(f"stft(): argument 'input' must be Tensor, not {type(input).__name__}")
    if align_to_window is not None:
        raise NotImplementedError("stft: align_to_window is not supported in ember")
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_input:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D tensor "
                           f"of shape {list(input.shape)}")
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"stft: expected a tensor of floating point or complex values, "
                           f"got {input.dtype}")
    hop, win = _check_lengths("stft", n_fft, hop_length, win_length)
    x = input
    if center:
        x = _pad_signal(x, n_fft // 2, pad_mode)
    length = x.shape[-1]
    if n_fft > length:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    if onesided is None:
        onesided = not complex_input
    elif onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    w = _full_window("stft", window, win, n_fft, x)
    frames = x.unfold(-1, n_fft, hop) * w  # (B?, n_frames, n_fft)
    spec = _fft.rfft(frames, dim=-1) if onesided else _fft.fft(frames, dim=-1)
    if normalized:
        spec = spec * (1.0 / math.sqrt(n_fft))
    spec = spec.transpose(-1, -2)
    if return_complex:
        return spec
    warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, "
                  "stft will return complex tensors for all inputs, and return_complex=False "
                  "will raise an error.", UserWarning, stacklevel=2)
    return view_as_real(spec)


def _overlap_add(frames, hop, total):
    """Sum frames ``(..., n_frames, n_fft)`` into a signal of ``total`` samples, frame t
    starting at ``t * hop`` (an accumulating index_put, so it is differentiable)."""
    n_frames, n_fft = frames.shape[-2], frames.shape[-1]
    idx = (np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None, :]).reshape(-1)
    lead = tuple(frames.shape[:-2])
    flat = frames.reshape(lead + (n_frames * n_fft,))
    out = flat.new_zeros(lead + (total,))
    return out.index_put((Ellipsis, wrap(idx.astype(np.int64))), flat, accumulate=True) \
        if lead else out.index_put((wrap(idx.astype(np.int64)),), flat, accumulate=True)


def istft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
          center: bool = True, normalized: bool = False, onesided=None, length=None,
          return_complex: bool = False) -> Tensor:
    """Inverse short-time Fourier transform: the least-squares signal whose ``stft`` is
    ``input`` (see NOTE [ STFT as frames, window, DFT ]).

    Args:
        input: complex ``(B?, n_freq, n_frames)``, as returned by :func:`stft`.
        n_fft, hop_length, win_length, window, center, normalized: as given to ``stft``.
        onesided: whether ``input`` holds the one-sided spectrum (default: ``n_freq !=
            n_fft``).
        length: trim or zero-pad the output to this many samples.
        return_complex: return a complex signal (needs ``onesided=False``).

    Example::

        >>> x = ember.randn(64, dtype=ember.float64)
        >>> w = ember.hann_window(16, dtype=ember.float64)
        >>> y = ember.istft(ember.stft(x, 16, window=w, return_complex=True), 16, window=w)
        >>> bool(ember.allclose(x, y))
        True
    """
    from ember import fft as _fft

    if not isinstance(input, Tensor):
        raise TypeError(f"istft(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex "
                           f"dtype, but got {input.ndim}D of shape {list(input.shape)}")
    hop, win = _check_lengths("istft", n_fft, hop_length, win_length)
    n_freq, n_frames = input.shape[-2], input.shape[-1]
    if onesided is None:
        onesided = n_freq != n_fft
    if onesided:
        if n_fft // 2 + 1 != n_freq:
            raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of "
                               f"the input tensor to match n_fft / 2 + 1 when onesided=True, "
                               f"but got {n_freq}")
        if return_complex:
            raise RuntimeError("cannot have onesided output if window or input is complex")
    elif n_freq != n_fft:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got {n_freq}")
    spec = input.transpose(-1, -2)  # (B?, n_frames, n_freq)
    if normalized:
        spec = spec * math.sqrt(n_fft)
    if return_complex:
        frames = _fft.ifft(spec, n=n_fft, dim=-1)
    else:
        # a real output reads the spectrum as Hermitian: only its non-negative half counts
        if not onesided:
            spec = spec[..., :n_fft // 2 + 1]
        frames = _fft.irfft(spec, n=n_fft, dim=-1)
    real_dtype = frames.real.dtype if frames.is_complex() else frames.dtype
    w = _full_window("istft", window, win, n_fft, frames)
    if w.dtype != real_dtype and not w.is_complex():
        w = w.to(real_dtype)
    total = n_fft + hop * (n_frames - 1)
    y = _overlap_add(frames * w, hop, total)
    env = _overlap_add((w * w).expand((n_frames, n_fft)), hop, total)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = total - n_fft // 2 if center else total
    end_kept = min(end, total)
    y = y[..., start:end_kept]
    env = env[start:end_kept]
    if env.numel() and float(env.abs().min()) < 1e-11:
        raise RuntimeError("istft: window overlap add min: "
                           f"{float(env.abs().min()):.4g} (the window's squares must overlap "
                           "to a nonzero sum everywhere: NOLA)")
    y = y / env
    if end > total:
        from ember._ops.shape import cat

        y = cat([y, y.new_zeros(tuple(y.shape[:-1]) + (end - total,))], -1)
    return y


register(stft)
register(istft)


# =============================================================================== pdist
def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """p-norm distances between all pairs of rows of ``input`` (N, M): the upper triangle of
    ``cdist(input, input)`` in row-major order, ``N * (N - 1) / 2`` values.

    Args:
        input: an (N, M) tensor.
        p: the norm's order (>= 0).

    Example::

        >>> ember.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.0000, 1.0000, 4.2426])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pdist(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {input.dtype}")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    diff = input.index_select(0, wrap(i.astype(np.int64))) - \
        input.index_select(0, wrap(j.astype(np.int64)))
    return diff.norm(p, dim=-1)


register(pdist, method=False)
