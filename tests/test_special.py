"""ember.special: values against SciPy, gradcheck/gradgradcheck in float64, dtype rules, and
PyTorch's torch.special as an oracle when installed."""

import math

import numpy as np
import pytest
from scipy import special as sp

import ember
import ember.special as es
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:
    torch = None

X = np.array([-2.5, -0.7, 0.3, 1.1, 4.0])  # generic real inputs (no 0: sign kinks)
POS = np.array([0.2, 0.9, 1.7, 3.5])
PROB = np.array([0.05, 0.3, 0.5, 0.93])

# name -> (call(mod, *tensors), input arrays, SciPy reference, differentiable, gradgrad)
CASES = {
    "expit": (lambda m, x: m.special.expit(x), [X], sp.expit, True, True),
    "logit": (lambda m, x: m.special.logit(x), [PROB], sp.logit, True, True),
    "logit_eps": (lambda m, x: m.special.logit(x, eps=0.1), [PROB],
                  lambda x: sp.logit(np.clip(x, 0.1, 0.9)), True, False),
    "erf": (lambda m, x: m.special.erf(x), [X], sp.erf, True, True),
    "erfc": (lambda m, x: m.special.erfc(x), [X], sp.erfc, True, True),
    "erfinv": (lambda m, x: m.special.erfinv(x), [PROB * 2 - 1], sp.erfinv, True, True),
    "erfcx": (lambda m, x: m.special.erfcx(x), [X], sp.erfcx, True, True),
    "gammaln": (lambda m, x: m.special.gammaln(x), [X], sp.gammaln, True, True),
    "digamma": (lambda m, x: m.special.digamma(x), [X], sp.digamma, True, True),
    "psi": (lambda m, x: m.special.psi(x), [POS], sp.psi, True, False),
    "polygamma": (lambda m, x: m.special.polygamma(2, x), [POS], lambda x: sp.polygamma(2, x),
                  True, True),
    "multigammaln": (lambda m, x: m.special.multigammaln(x, 3), [POS + 1.5],
                     lambda x: np.array([sp.multigammaln(v, 3) for v in x]), True, True),
    "xlogy": (lambda m, x, y: m.special.xlogy(x, y), [np.array([0.0, 1.5, -2.0, 0.4]), POS],
              sp.xlogy, True, True),
    "xlog1py": (lambda m, x, y: m.special.xlog1py(x, y), [np.array([0.0, 1.5, -2.0, 0.4]),
                                                          POS - 0.5], sp.xlog1py, True, True),
    "xlog1py_scalar": (lambda m, x: m.special.xlog1py(x, 2.0), [X],
                       lambda x: sp.xlog1py(x, 2.0), True, False),
    "i0": (lambda m, x: m.special.i0(x), [X], sp.i0, True, True),
    "i0e": (lambda m, x: m.special.i0e(x), [X], sp.i0e, True, True),
    "i1": (lambda m, x: m.special.i1(x), [X], sp.i1, True, True),
    "i1e": (lambda m, x: m.special.i1e(x), [X], sp.i1e, True, True),
    "i1_at_zero": (lambda m, x: m.special.i1(x), [np.array([0.0, 0.5])], sp.i1, True, True),
    "sinc": (lambda m, x: m.special.sinc(x), [X], np.sinc, True, True),
    "entr": (lambda m, x: m.special.entr(x), [POS], sp.entr, True, True),
    "entr_edges": (lambda m, x: m.special.entr(x), [np.array([0.0, -1.0, np.inf, np.nan])],
                   sp.entr, False, False),
    "ndtr": (lambda m, x: m.special.ndtr(x), [X], sp.ndtr, True, True),
    "ndtri": (lambda m, x: m.special.ndtri(x), [PROB], sp.ndtri, True, True),
    "ndtri_edges": (lambda m, x: m.special.ndtri(x), [np.array([0.0, 1.0, -0.5, 2.0])],
                    sp.ndtri, False, False),
    "log_ndtr": (lambda m, x: m.special.log_ndtr(x), [np.array([-30.0, -3.0, 0.0, 2.5])],
                 sp.log_ndtr, True, True),
    "logsumexp": (lambda m, x: m.special.logsumexp(x, 0), [X], sp.logsumexp, True, True),
    "softmax": (lambda m, x: m.special.softmax(x, 0), [X], lambda x: sp.softmax(x, 0), True,
                True),
    "log_softmax": (lambda m, x: m.special.log_softmax(x, 0), [X],
                    lambda x: sp.log_softmax(x, 0), True, True),
    "round": (lambda m, x: m.special.round(x), [X + 0.1], np.round, True, False),
    "expm1": (lambda m, x: m.special.expm1(x), [X], np.expm1, True, True),
    "exp2": (lambda m, x: m.special.exp2(x), [X], np.exp2, True, True),
    "log1p": (lambda m, x: m.special.log1p(x), [POS], np.log1p, True, True),
    "zeta": (lambda m, x, q: m.special.zeta(x, q), [POS + 1.5, POS], sp.zeta, False, False),
}


def _t(a, grad=False):
    return ember.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_scipy(name):
    fn, arrays, ref, _, _ = CASES[name]
    out = fn(ember, *[_t(a) for a in arrays])
    with np.errstate(all="ignore"):
        expected = ref(*arrays)
    assert out.dtype == ember.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c[3]))
def test_gradcheck(name):
    fn, arrays, _, _, _ = CASES[name]
    assert gradcheck(lambda *xs: fn(ember, *xs), [_t(a, True) for a in arrays])


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c[4]))
def test_gradgradcheck(name):
    fn, arrays, _, _, _ = CASES[name]
    assert gradgradcheck(lambda *xs: fn(ember, *xs), [_t(a, True) for a in arrays])


def test_dtypes_and_out():
    x32 = ember.tensor([0.5, 1.0], dtype=ember.float32)
    for f in (es.i0e, es.i1, es.i1e, es.erfcx, es.ndtr, es.log_ndtr, es.entr, es.expit):
        assert f(x32).dtype == ember.float32, f.__name__
        assert f(ember.tensor([1, 2])).dtype == ember.float32, f.__name__  # ints -> float
    out = ember.empty(2)
    r = es.ndtr(x32, out=out)
    assert r is out and np.allclose(out.numpy(), sp.ndtr([0.5, 1.0]))
    assert es.xlog1py(ember.tensor([1, 2]), 1).dtype == ember.float32
    assert es.psi is es.digamma


def test_known_values():
    assert es.ndtr(ember.tensor(0.0)).item() == 0.5
    assert abs(es.zeta(ember.tensor(2.0), 1.0).item() - math.pi ** 2 / 6) < 1e-6
    assert es.entr(ember.tensor([0.0])).item() == 0.0
    assert es.entr(ember.tensor([-1.0])).item() == -math.inf
    assert es.xlog1py(ember.tensor([0.0]), ember.tensor([-1.0])).item() == 0.0
    assert es.i1(ember.tensor([0.0])).item() == 0.0


def test_errors():
    with pytest.raises(TypeError, match=r"ndtr\(\): argument 'input' must be Tensor"):
        es.ndtr([0.5])
    with pytest.raises(NotImplementedError, match="i0e"):
        es.i0e(ember.tensor([1j]))
    # outside the domain x > (p-1)/2 the lgamma sum comes back unchecked, as PyTorch 2.x
    assert es.multigammaln(ember.tensor([0.5]), 3).item() == math.inf
    # no derivative (as PyTorch): backward through zeta raises
    with pytest.raises(RuntimeError, match="does not require grad|not implemented"):
        x = ember.tensor([2.0], requires_grad=True)
        es.zeta(x, 1.0).sum().backward()


@pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, arrays, _, diff, _ = CASES[name]
    e_in = [_t(a, diff) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=diff) for a in arrays]
    e_out, t_out = fn(ember, *e_in), fn(torch, *t_in)
    rtol = 1e-7 if name == "polygamma" else 1e-10  # SciPy's and PyTorch's series differ
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=rtol,
                               atol=1e-12, equal_nan=True)
    assert str(e_out.dtype) == str(t_out.dtype)
    if diff:
        e_out.sum().backward()
        t_out.sum().backward()
        for a, b in zip(e_in, t_in):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-12)
