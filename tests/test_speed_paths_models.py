"""The model-level speed paths of issue 18 (third session) give the plain formulas' results
and gradients: linear on batched inputs as one 2-D GEMM, the channels-last convolution
packing, the compiled pooling and col2im kernels and the buffer pool. NumPy references
always; PyTorch as an oracle when installed."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck


# ----------------------------------------------------------------------------- linear
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xshape", [(3, 4, 5), (2, 3, 4, 5), (0, 4, 5), (4, 5), (5,)])
def test_linear_batched_matches_numpy(dtype, xshape):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal(xshape).astype(dtype)
    wa = rng.standard_normal((6, 5)).astype(dtype)
    ba = rng.standard_normal(6).astype(dtype)
    ga = rng.standard_normal(xshape[:-1] + (6,)).astype(dtype)
    x = ember.tensor(xa, requires_grad=True)
    w = ember.tensor(wa, requires_grad=True)
    b = ember.tensor(ba, requires_grad=True)
    y = F.linear(x, w, b)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), xa @ wa.T + ba, rtol=tol, atol=tol)
    y.backward(ember.tensor(ga))
    np.testing.assert_allclose(x.grad.numpy(), ga @ wa, rtol=tol, atol=tol)
    g2, x2 = ga.reshape(-1, 6), xa.reshape(-1, 5)
    np.testing.assert_allclose(w.grad.numpy(), g2.T @ x2, rtol=tol, atol=tol)
    np.testing.assert_allclose(b.grad.numpy(), g2.sum(0), rtol=tol, atol=tol)


def test_linear_batched_noncontiguous_and_empty_features():
    x = ember.randn(2, 4, 5, dtype=ember.float64).transpose(0, 1).requires_grad_()
    w = ember.randn(3, 5, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradgradcheck(F.linear, (x, w, b))
    for xs, ws in [((2, 4, 5), (0, 5)), ((2, 4, 0), (3, 0))]:
        x = ember.randn(*xs, requires_grad=True)
        w = ember.randn(*ws, requires_grad=True)
        y = F.linear(x, w)
        y.sum().backward()
        assert tuple(y.shape) == xs[:-1] + (ws[0],)
        assert tuple(x.grad.shape) == xs and tuple(w.grad.shape) == ws
