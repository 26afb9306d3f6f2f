"""Windows, stft/istft, pdist, ember.signal.windows and F.gumbel_softmax: PyTorch as the
oracle where installed, NumPy references and round trips where not, gradchecks."""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
    import torch.signal.windows as TW
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
RNG = np.random.default_rng(0)
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


def t(x, grad=False):
    return ember.tensor(np.asarray(x), requires_grad=grad)


def close(a, b, rtol=1e-7, atol=1e-10):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- windows
@needs_torch
@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 2, 7, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, length, periodic):
    e = getattr(ember, name)(length, periodic, dtype=ember.float64)
    r = getattr(torch, name)(length, periodic, dtype=torch.float64)
    close(e, r.numpy(), atol=1e-12)
    assert getattr(ember, name)(length).dtype == ember.float32
    assert str(getattr(ember, name)(length).dtype) == str(getattr(torch, name)(length).dtype)


def test_windows_against_numpy():
    # NumPy's windows are the symmetric ones; periodic drops the last of length + 1
    for name, ref in (("hann_window", np.hanning), ("hamming_window", np.hamming),
                      ("blackman_window", np.blackman), ("bartlett_window", np.bartlett)):
        fn = getattr(ember, name)
        close(fn(9, False, dtype=ember.float64), ref(9), atol=1e-12)
        close(fn(8, dtype=ember.float64), ref(9)[:8], atol=1e-12)
    close(ember.kaiser_window(9, False, 6.0, dtype=ember.float64), np.kaiser(9, 6.0))
    close(ember.hamming_window(5, False, alpha=0.5, beta=0.5, dtype=ember.float64),
          np.hanning(5), atol=1e-12)
    w = ember.hann_window(4, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_window_errors():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.hann_window(4, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.hamming_window(-1)
    with pytest.raises(TypeError):
        ember.blackman_window(2.5)


@needs_torch
@pytest.mark.parametrize("name", ["bartlett", "blackman", "cosine", "exponential", "gaussian",
                                  "general_cosine", "general_hamming", "hamming", "hann",
                                  "kaiser", "nuttall"])
def test_signal_windows_match_torch(name):
    kw = {"general_cosine": {"a": [0.4, 0.5, 0.1]}, "gaussian": {"std": 2.5},
          "kaiser": {"beta": 4.0}, "general_hamming": {"alpha": 0.6},
          "exponential": {"tau": 3.0}}.get(name, {})
    for M in (0, 1, 2, 6, 9):
        for sym in (True, False):
            e = getattr(ember.signal.windows, name)(M, sym=sym, dtype=ember.float64, **kw)
            r = getattr(TW, name)(M, sym=sym, dtype=torch.float64, **kw)
            close(e, r.numpy(), atol=1e-12)
    e = ember.signal.windows.exponential(6, center=1.0, sym=False)
    close(e, TW.exponential(6, center=1.0, sym=False).numpy(), rtol=1e-6)


def test_signal_windows_errors_and_values():
    W = ember.signal.windows
    with pytest.raises(ValueError, match="symmetric"):
        W.exponential(5, center=1.0)
    with pytest.raises(ValueError):
        W.gaussian(5, std=0.0)
    with pytest.raises(ValueError):
        W.hann(-1)
    close(W.hann(5, dtype=ember.float64), np.hanning(5), atol=1e-12)
    close(W.gaussian(5, std=1.0, dtype=ember.float64), np.exp(-np.arange(-2, 3) ** 2 / 2))


# ----------------------------------------------------------------------------- stft / istft
STFT_ARGS = [
    dict(n_fft=16),
    dict(n_fft=16, hop_length=5, win_length=10),
    dict(n_fft=15, center=False, hop_length=4),
    dict(n_fft=16, pad_mode="constant", normalized=True),
    dict(n_fft=16, onesided=False),
    dict(n_fft=12, pad_mode="replicate", hop_length=3),
    dict(n_fft=16, pad_mode="circular"),
]


def _window(lib, kw):
    n = kw.get("win_length", kw["n_fft"])
    return lib.hann_window(n, dtype=lib.float64) if kw.get("center", True) else \
        lib.hamming_window(n, dtype=lib.float64)  # nonzero ends: NOLA holds without center


@needs_torch
@pytest.mark.parametrize("kw", STFT_ARGS, ids=str)
@pytest.mark.parametrize("batched", [False, True])
def test_stft_istft_match_torch(kw, batched):
    x = RNG.standard_normal((2, 50) if batched else (50,))
    e = ember.stft(t(x), window=_window(ember, kw), return_complex=True, **kw)
    r = torch.stft(torch.tensor(x), window=_window(torch, kw), return_complex=True, **kw)
    assert tuple(e.shape) == tuple(r.shape) and str(e.dtype) == str(r.dtype)
    close(e, r.numpy(), atol=1e-10)
    ikw = {k: v for k, v in kw.items() if k != "pad_mode"}
    for length in (None, 41, 53):
        ie = ember.istft(e, window=_window(ember, kw), length=length, **ikw)
        ir = torch.istft(r, window=_window(torch, kw), length=length, **ikw)
        assert tuple(ie.shape) == tuple(ir.shape)
        close(ie, ir.numpy(), atol=1e-10)


@needs_torch
def test_stft_complex_input_and_defaults_match_torch():
    x = RNG.standard_normal(40) + 1j * RNG.standard_normal(40)
    e = ember.stft(t(x), 8)
    r = torch.stft(torch.tensor(x), 8, return_complex=True)
    close(e, r.numpy())
    close(ember.istft(e, 8, return_complex=True), torch.istft(r, 8, return_complex=True).numpy())
    close(ember.istft(e, 8, onesided=False), torch.istft(r, 8, onesided=False).numpy())
    xr = RNG.standard_normal(30).astype(np.float32)
    e = ember.stft(t(xr), 8, return_complex=True)  # default window: ones, float32 -> complex64
    r = torch.stft(torch.tensor(xr), 8, return_complex=True)
    assert str(e.dtype) == str(r.dtype)
    close(e, r.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.warns(UserWarning):
        er = ember.stft(t(xr), 8, return_complex=False)
    close(er, torch.view_as_real(r).numpy(), rtol=1e-5, atol=1e-5)


def test_stft_round_trip_and_values_without_torch():
    x = RNG.standard_normal(64)
    w = ember.hann_window(16, dtype=ember.float64)
    spec = ember.stft(t(x), 16, hop_length=4, window=w, return_complex=True)
    assert tuple(spec.shape) == (9, 17)
    # frame 3 is centred at sample 12: the windowed slice x[4:20], transformed
    close(spec[:, 3], np.fft.rfft(x[4:20] * np.hanning(17)[:16]), atol=1e-10)
    close(ember.istft(spec, 16, hop_length=4, window=w), x, atol=1e-10)
    # past the last frame the output is zero-padded (samples 64..71 are the reflected pad)
    long = ember.istft(spec, 16, hop_length=4, window=w, length=80)
    close(long[:64], x, atol=1e-10)
    close(long[72:], np.zeros(8))
    # methods
    close(t(x).stft(16, window=w, return_complex=True),
          ember.stft(t(x), 16, window=w, return_complex=True))
    close(spec.istft(16, hop_length=4, window=w), x, atol=1e-10)


def test_stft_istft_gradcheck():
    x = t(RNG.standard_normal(24), True)
    w = t(RNG.random(8) + 0.5, True)
    assert gradcheck(lambda a, b: ember.view_as_real(
        ember.stft(a, 8, hop_length=3, window=b, return_complex=True)), (x, w))
    assert gradgradcheck(lambda a: ember.view_as_real(
        ember.stft(a, 8, hop_length=3, normalized=True, return_complex=True)), (x,))
    s = t(RNG.standard_normal((5, 9, 2)), True)
    hw = ember.hann_window(8, dtype=ember.float64)
    assert gradcheck(lambda z: ember.istft(ember.view_as_complex(z), 8, hop_length=2,
                                           window=hw, onesided=True), (s,))
    s2 = t(RNG.standard_normal((8, 7, 2)), True)
    assert gradcheck(lambda z: ember.view_as_real(ember.istft(
        ember.view_as_complex(z), 8, hop_length=2, window=hw, return_complex=True)), (s2,))


def test_stft_istft_errors():
    x = t(RNG.standard_normal(20))
    with pytest.raises(RuntimeError, match="return_complex"):
        ember.stft(x, 8)
    with pytest.raises(RuntimeError, match="n_fft"):
        ember.stft(x, 0, return_complex=True)
    with pytest.raises(RuntimeError, match="n_fft"):
        ember.stft(x, 40, center=False, return_complex=True)
    with pytest.raises(RuntimeError, match="hop_length"):
        ember.stft(x, 8, hop_length=0, return_complex=True)
    with pytest.raises(RuntimeError, match="win_length"):
        ember.stft(x, 8, win_length=9, return_complex=True)
    with pytest.raises(RuntimeError, match="window"):
        ember.stft(x, 8, window=ember.ones(5), return_complex=True)
    with pytest.raises(RuntimeError, match="1D or 2D"):
        ember.stft(x.reshape(1, 1, 20), 8, return_complex=True)
    with pytest.raises(RuntimeError, match="pad_mode"):
        ember.stft(x, 8, pad_mode="wrap", return_complex=True)
    with pytest.raises(NotImplementedError, match="align_to_window"):
        ember.stft(x, 8, return_complex=True, align_to_window=True)
    spec = ember.stft(x, 8, return_complex=True)
    with pytest.raises(RuntimeError, match="complex"):
        ember.istft(spec.real, 8)
    with pytest.raises(RuntimeError, match="n_fft / 2 \\+ 1"):
        ember.istft(spec, 10, onesided=True)
    with pytest.raises(RuntimeError, match="overlap add"):
        ember.istft(spec, 8, window=ember.hann_window(8), center=False)


# ----------------------------------------------------------------------------- pdist
@needs_torch
@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_pdist_matches_torch(p):
    x = RNG.standard_normal((6, 4))
    xe, xt = t(x, True), torch.tensor(x, requires_grad=True)
    e, r = ember.pdist(xe, p), torch.pdist(xt, p)
    close(e, r.detach().numpy())
    if p > 0:  # p = 0 counts nonzeros: no gradient
        g = RNG.standard_normal(tuple(e.shape))
        (ge,) = ember.autograd.grad((e * t(g)).sum(), xe)
        (gr,) = torch.autograd.grad((r * torch.tensor(g)).sum(), xt)
        close(ge, gr.numpy(), atol=1e-9)


def test_pdist_values_gradcheck_errors():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    close(ember.pdist(t(x)), [5.0, 1.0, math.sqrt(18)])
    close(ember.pdist(t(x), 1), [7.0, 1.0, 6.0])
    assert tuple(ember.pdist(t(np.zeros((1, 3)))).shape) == (0,)
    assert gradcheck(lambda a: ember.pdist(a, 2.5), (t(RNG.standard_normal((4, 3)), True),))
    assert gradgradcheck(lambda a: ember.pdist(a), (t(RNG.standard_normal((4, 3)), True),))
    with pytest.raises(RuntimeError, match="2D"):
        ember.pdist(t(np.zeros(3)))
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.pdist(t(x), -1.0)


# ----------------------------------------------------------------------------- gumbel_softmax
def test_gumbel_softmax_distribution_and_straight_through():
    logits = t(np.log([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]), True)
    ember.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5)
    close(soft.sum(-1), [1.0, 1.0])
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(hard.detach().numpy())) <= {0.0, 1.0}
    close(hard.sum(-1), [1.0, 1.0])
    # argmax frequencies follow softmax(logits) (the Gumbel-max trick)
    draws = np.stack([F.gumbel_softmax(logits.detach(), hard=True).numpy()
                      for _ in range(3000)])
    np.testing.assert_allclose(draws.mean(0), [[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]], atol=0.04)
    # straight-through: the hard sample's gradient is the soft sample's
    w = t(RNG.standard_normal((2, 3)))
    ember.manual_seed(5)
    (gh,) = ember.autograd.grad((F.gumbel_softmax(logits, hard=True) * w).sum(), logits)
    ember.manual_seed(5)
    (gs,) = ember.autograd.grad((F.gumbel_softmax(logits) * w).sum(), logits)
    close(gh, gs)
    # dim
    ember.manual_seed(1)
    close(F.gumbel_softmax(logits.detach().T, hard=True, dim=0).sum(0), [1.0, 1.0])


def test_gumbel_softmax_gradcheck_and_errors():
    def f(x):
        ember.manual_seed(3)
        return F.gumbel_softmax(x, tau=0.7)

    assert gradcheck(f, (t(RNG.standard_normal((2, 4)), True),))
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(ember.zeros(3), eps=1e-5)
    with pytest.raises(RuntimeError, match="floating"):
        F.gumbel_softmax(ember.zeros(3, dtype=ember.int64))
