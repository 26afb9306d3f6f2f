"""Convolution shapes large enough for the row-split GEMMs of the channels-last kernels
(NOTE [ Row-split GEMMs ] in ember/_ops/conv.py): forward, input and weight gradients
against PyTorch over strides, paddings and dilations, float32 and float64, with whole and
partial row blocks; and the split product itself against one GEMM without the oracle."""

import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._ops import conv as C

# (N, C, O, size, kernel): rows = N x output positions exceed the block, and are not all a
# multiple of it (the remainder path)
SHAPES = [(8, 16, 24, 10, 3), (5, 32, 32, 8, 3), (4, 12, 40, 9, 2)]
GEOMETRY = list(itertools.product((1, 2), (0, 1), (1, 2)))  # stride, padding, dilation


@pytest.fixture(autouse=True)
def one_blas_thread(monkeypatch):
    """The split is taken only while the BLAS runs on one thread: force that reading."""
    monkeypatch.setattr(C, "_blas_threads", lambda: 1)


def _torch_pair(dtype):
    torch = pytest.importorskip("torch")
    return torch, {np.float32: (torch.float32, 2e-4), np.float64: (torch.float64, 1e-10)}[dtype]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_conv2d_row_split_matches_torch(shape, dtype):
    n, c, o, size, k = shape
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, size, size)).astype(dtype)
    w = (rng.standard_normal((o, c, k, k)) / np.sqrt(c * k * k)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    torch, (tdt, tol) = _torch_pair(dtype)
    for s, p, d in GEOMETRY:
        xe, we, be = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        ye = F.conv2d(xe, we, be, s, p, d)
        yt = torch.nn.functional.conv2d(xt, wt, bt, s, p, d)
        assert ye.dtype == ember.float32 if dtype == np.float32 else ember.float64
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=tol,
                                   atol=tol, err_msg=f"forward s={s} p={p} d={d}")
        g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
        ye.backward(ember.tensor(g))
        yt.backward(torch.tensor(g, dtype=tdt))
        for name, a, t in (("input", xe, xt), ("weight", we, wt), ("bias", be, bt)):
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=tol,
                                       atol=tol * 10, err_msg=f"{name} s={s} p={p} d={d}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose2d_row_split_matches_torch(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 24, 5, 5)).astype(dtype)
    w = (rng.standard_normal((24, 16, 4, 4)) / 20).astype(dtype)
    torch, (tdt, tol) = _torch_pair(dtype)
    for s, p in ((2, 1), (1, 0), (3, 2)):
        xe, we = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        ye = F.conv_transpose2d(xe, we, None, s, p)
        yt = torch.nn.functional.conv_transpose2d(xt, wt, None, s, p)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=tol,
                                   atol=tol)
        g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
        ye.backward(ember.tensor(g))
        yt.backward(torch.tensor(g, dtype=tdt))
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("rows", [16, 300, 1024, 1031])
def test_gemm_rows_equals_one_product(rows):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((rows, 144))
    bt = rng.standard_normal((24, 144)).T  # a transposed view, as the kernels pass it
    np.testing.assert_allclose(C._gemm_rows(a, bt), a @ bt, rtol=1e-12, atol=1e-12)


def test_gemm_rows_one_call_with_more_blas_threads(monkeypatch):
    calls = []
    real = np.matmul

    def spy(*args, **kwargs):
        calls.append(args[0].ndim)
        return real(*args, **kwargs)

    a = np.ones((1024, 144))
    bt = np.ones((144, 24))
    monkeypatch.setattr(C, "_blas_threads", lambda: 2)
    monkeypatch.setattr(C.np, "matmul", spy)
    C._gemm_rows(a, bt)  # the @ operator: not a stacked np.matmul call
    monkeypatch.setattr(C, "_blas_threads", lambda: 1)
    C._gemm_rows(a, bt)
    assert calls == [3]  # one stacked product of row blocks, only on one thread
