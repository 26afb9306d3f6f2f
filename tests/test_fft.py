"""ember.fft: values against NumPy, dtypes, gradients (gradcheck in float64 and against
PyTorch, including irfft's Hermitian doubling), bad input."""

import numpy as np
import pytest

import ember
from ember import fft as F
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")


def arr(*shape, seed=0, complex_=False):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape)
    return a + 1j * r.standard_normal(shape) if complex_ else a


def close(e, ref, tol=1e-10):
    np.testing.assert_allclose(e.detach().numpy(), ref, rtol=tol, atol=tol)


# (ember/torch name, numpy function, kwargs, accepts complex input)
CASES = [
    ("fft", np.fft.fft, {}, True),
    ("fft", np.fft.fft, {"n": 7, "norm": "ortho"}, True),
    ("fft", np.fft.fft, {"n": 3, "dim": 0}, True),
    ("ifft", np.fft.ifft, {"n": 3, "norm": "forward"}, True),
    ("rfft", np.fft.rfft, {}, False),
    ("rfft", np.fft.rfft, {"n": 8, "norm": "ortho"}, False),
    ("irfft", np.fft.irfft, {}, True),
    ("irfft", np.fft.irfft, {"n": 9}, True),
    ("irfft", np.fft.irfft, {"n": 3, "norm": "forward"}, True),
    ("hfft", np.fft.hfft, {}, True),
    ("hfft", np.fft.hfft, {"n": 4, "norm": "ortho"}, True),
    ("ihfft", np.fft.ihfft, {}, False),
    ("fft2", np.fft.fft2, {}, True),
    ("ifft2", np.fft.ifft2, {"s": (2, 6)}, True),
    ("rfft2", np.fft.rfft2, {"s": (4, 6)}, False),
    ("irfft2", np.fft.irfft2, {"s": (2, 7)}, True),
    ("fftn", np.fft.fftn, {"s": (2, 3)}, True),
    ("ifftn", np.fft.ifftn, {}, True),
    ("rfftn", np.fft.rfftn, {}, False),
    ("irfftn", np.fft.irfftn, {}, True),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, _, kw, _ in CASES]


def _np_kwargs(kw):
    kw = dict(kw)
    if "dim" in kw:
        kw["axis"] = kw.pop("dim")
    elif "s" in kw and len(kw["s"]) > 1:
        kw["axes"] = tuple(range(-len(kw["s"]), 0))
    return kw


@pytest.mark.parametrize("name,ref,kw,cplx", CASES, ids=IDS)
def test_values_against_numpy(name, ref, kw, cplx):
    inputs = [arr(3, 5)] + ([arr(3, 5, seed=1, complex_=True)] if cplx else [])
    for a in inputs:
        close(getattr(F, name)(ember.tensor(a), **kw), ref(a, **_np_kwargs(kw)))


@pytest.mark.parametrize("name,ref,kw,cplx", CASES, ids=IDS)
def test_gradcheck(name, ref, kw, cplx):
    fn = getattr(F, name)

    def real_out(y):
        return ember.view_as_real(y) if y.is_complex() else y

    assert gradcheck(lambda x: real_out(fn(x, **kw)), [ember.tensor(arr(3, 4), requires_grad=True)])
    if cplx:  # complex input through a real view, so both parts are perturbed
        x = ember.tensor(arr(3, 4, 2), requires_grad=True)
        assert gradcheck(lambda x: real_out(fn(ember.view_as_complex(x), **kw)), [x])


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft"])
def test_gradgradcheck(name):
    fn = getattr(F, name)

    def f(x):
        y = fn(x, norm="ortho")
        y = ember.view_as_real(y) if y.is_complex() else y
        return y * y  # non-linear, so the second derivative is not trivially zero

    assert gradgradcheck(f, [ember.tensor(arr(2, 5), requires_grad=True)])


def test_dtypes():
    assert F.fft(ember.ones(4)).dtype is ember.complex64
    assert F.fft(ember.ones(4, dtype=ember.float64)).dtype is ember.complex128
    assert F.fft(ember.ones(4, dtype=ember.int64)).dtype is ember.complex64
    assert F.rfft(ember.ones(4)).dtype is ember.complex64
    assert F.irfft(ember.ones(3, dtype=ember.complex128)).dtype is ember.float64
    assert F.irfft(ember.ones(3)).dtype is ember.float32
    assert F.hfft(ember.ones(3)).dtype is ember.float32
    assert tuple(F.rfftn(ember.ones(2, 3, 8)).shape) == (2, 3, 5)
    assert tuple(F.irfft(ember.ones(2, 5)).shape) == (2, 8)


def test_roundtrips_and_parseval():
    a = arr(4, 6)
    x = ember.tensor(a)
    close(F.ifft(F.fft(x)).real, a)
    close(F.irfft(F.rfft(x)), a)
    close(F.irfftn(F.rfftn(x), s=x.shape), a)
    y = F.fft(x, norm="ortho")
    close((y.abs() ** 2).sum(), (a ** 2).sum())


def test_rfft_gradient_is_hermitian_doubled():
    # sum(irfft(X)) = x[0] summed over the signal = X[0] (for 'backward' norm): dL/dX = [1, 0..]
    X = ember.tensor(arr(5, complex_=True), requires_grad=True)
    F.irfft(X, n=8).sum().backward()
    close(X.grad, np.array([1, 0, 0, 0, 0]))
    # L = irfft(X)[0] = (1/n) sum over all n coefficients: interior ones count twice
    X.grad = None
    F.irfft(X, n=8)[0].backward()
    close(X.grad, np.array([1, 2, 2, 2, 1]) / 8)
    X.grad = None
    F.irfft(X, n=9)[0].backward()
    close(X.grad, np.array([1, 2, 2, 2, 2]) / 9)


def test_freqs_and_shifts():
    close(F.fftfreq(5, 0.1), np.fft.fftfreq(5, 0.1), 1e-6)
    close(F.rfftfreq(6), np.fft.rfftfreq(6), 1e-6)
    assert F.fftfreq(4).dtype is ember.float32
    assert F.fftfreq(4, dtype=ember.float64).dtype is ember.float64
    a = arr(4, 5)
    close(F.fftshift(ember.tensor(a)), np.fft.fftshift(a))
    close(F.ifftshift(ember.tensor(a)), np.fft.ifftshift(a))
    close(F.fftshift(ember.tensor(a), dim=1), np.fft.fftshift(a, axes=1))
    close(F.ifftshift(F.fftshift(ember.tensor(a), dim=(0,)), dim=(0,)), a)


def test_errors():
    with pytest.raises(RuntimeError, match='Invalid normalization mode: "bad"'):
        F.fft(ember.ones(4), norm="bad")
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        F.fft(ember.ones(4), n=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.fft(ember.ones(4), dim=2)
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor, but got "
                       "ComplexFloat"):
        F.rfft(ember.ones(4, dtype=ember.complex64))
    with pytest.raises(RuntimeError, match="Got shape with 3 values but input tensor only has 2"):
        F.fftn(ember.ones(4, 4), s=(2, 2, 2))
    with pytest.raises(RuntimeError, match="same length"):
        F.fftn(ember.ones(4, 4), s=(2, 2), dim=(0,))
    with pytest.raises(RuntimeError, match="unique"):
        F.fft2(ember.ones(4, 4), dim=(0, 0))
    with pytest.raises(TypeError):
        F.fft([1.0, 2.0])


@needs_torch
@pytest.mark.parametrize("name,ref,kw,cplx", CASES, ids=IDS)
def test_against_torch(name, ref, kw, cplx):
    for a in [arr(3, 5)] + ([arr(3, 5, seed=1, complex_=True)] if cplx else []):
        xe = ember.tensor(a, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        ye = getattr(F, name)(xe, **kw)
        yt = getattr(torch.fft, name)(xt, **kw).resolve_conj()
        assert repr(ye.dtype) == repr(yt.dtype)
        close(ye, yt.detach().numpy())
        if yt.is_complex():
            ye, yt = ember.view_as_real(ye), torch.view_as_real(yt)
        w = np.random.default_rng(2).standard_normal(tuple(yt.shape))
        (ye * ember.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        close(xe.grad, xt.grad.resolve_conj().numpy())


@needs_torch
def test_float32_against_torch():
    a = arr(2, 8).astype(np.float32)
    for name in ("fft", "rfft", "ihfft"):
        e = getattr(F, name)(ember.tensor(a))
        t = getattr(torch.fft, name)(torch.tensor(a)).resolve_conj()
        assert e.dtype is ember.complex64
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)
