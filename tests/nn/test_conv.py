"""Convolution ops and layers: PyTorch oracle (float64), gradcheck, double backward, errors."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(0)

# (nd, N, C, O, spatial, kernel, stride, padding, dilation, groups)
CONV_CASES = [
    (1, 2, 3, 4, (9,), (3,), (1,), "same", (2,), 1),
    (1, 2, 4, 6, (11,), (2,), (3,), (1,), (1,), 2),
    (2, 2, 4, 6, (7, 8), (3, 2), (2, 1), (1, 0), (1, 2), 2),
    (2, 1, 3, 4, (9, 8), (4, 3), (1, 1), "same", (1, 1), 1),
    (2, 2, 3, 5, (6, 6), (3, 3), (1, 1), "valid", (1, 1), 1),
    (2, 1, 4, 4, (5, 7), (3, 3), (2, 2), (1, 1), (1, 1), 4),  # depthwise
    (3, 1, 2, 2, (5, 4, 6), (2, 2, 3), (1, 2, 1), (1, 0, 1), (1, 1, 2), 2),
]
# (nd, N, Cin, Cout, spatial, kernel, stride, padding, output_padding, dilation, groups)
CONVT_CASES = [
    (1, 2, 4, 6, (5,), (3,), (3,), (2,), (2,), (1,), 1),
    (2, 2, 4, 6, (5, 4), (3, 2), (2, 1), (1, 0), (1, 0), (1, 2), 2),
    (2, 1, 3, 2, (4, 4), (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 1),
    (3, 1, 2, 4, (3, 2, 3), (2, 2, 2), (2, 1, 1), (0, 1, 0), (1, 0, 0), (1, 1, 1), 2),
]


def _run(fn_e, fn_t, arrays):
    torch = pytest.importorskip("torch")
    te = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    ye, yt = fn_e(*te), fn_t(*tt)
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(te, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_torch(case):
    TF = pytest.importorskip("torch").nn.functional
    nd, n, c, o, sp, k, s, p, d, g = case
    arrays = [rng.standard_normal((n, c, *sp)), rng.standard_normal((o, c // g, *k)),
              rng.standard_normal(o)]
    name = f"conv{nd}d"
    _run(lambda x, w, b: getattr(F, name)(x, w, b, s, p, d, g),
         lambda x, w, b: getattr(TF, name)(x, w, b, s, p, d, g), arrays)


@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose_matches_torch(case):
    torch = pytest.importorskip("torch")
    nd, n, ci, co, sp, k, s, p, op, d, g = case
    arrays = [rng.standard_normal((n, ci, *sp)), rng.standard_normal((ci, co // g, *k)),
              rng.standard_normal(co)]
    name = f"conv_transpose{nd}d"
    _run(lambda x, w, b: getattr(F, name)(x, w, b, s, p, op, g, d),
         lambda x, w, b: getattr(torch.nn.functional, name)(x, w, b, s, p, op, g, d), arrays)


def test_conv_known_values():
    # a 1-D box filter: each output is the sum of three neighbours (no torch needed)
    x = ember.arange(6, dtype=ember.float64).reshape(1, 1, 6)
    w = ember.ones(1, 1, 3, dtype=ember.float64)
    assert F.conv1d(x, w).tolist() == [[[3.0, 6.0, 9.0, 12.0]]]
    assert F.conv1d(x, w, padding=1, stride=2).tolist() == [[[1.0, 6.0, 12.0]]]
    # transposed conv of a one-hot input places the kernel
    e = ember.zeros(1, 1, 3, 3, dtype=ember.float64)
    e[0, 0, 1, 1] = 1
    k = ember.arange(4, dtype=ember.float64).reshape(1, 1, 2, 2)
    y = F.conv_transpose2d(e, k, stride=2)
    assert y.shape == (1, 1, 6, 6)
    assert y[0, 0, 2:4, 2:4].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert float(y.sum()) == 6.0


def test_conv_transpose_is_adjoint_of_conv():
    x = ember.randn(2, 3, 7, 6, dtype=ember.float64)
    w = ember.randn(4, 3, 3, 2, dtype=ember.float64)
    y = ember.randn(2, 4, 4, 4, dtype=ember.float64)
    lhs = (F.conv2d(x, w, stride=2, padding=1) * y).sum()
    rhs = (x * F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=0)).sum()
    assert abs(float(lhs) - float(rhs)) < 1e-9


def test_conv_gradcheck_and_gradgradcheck():
    x = ember.randn(1, 2, 5, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, 1, 3, 2, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, 2, 1, 1, 2), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, 1, "same", 1, 2), (x, w, b))
    wt = ember.randn(2, 3, 2, 2, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, None, 2, 1, 1, 1), (x, wt))
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, None, 2, 0, 0, 1, 2), (x, wt))
    x1 = ember.randn(1, 2, 6, dtype=ember.float64, requires_grad=True)
    w1 = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda x, w: F.conv1d(x, w, dilation=2), (x1, w1))
    x3 = ember.randn(1, 1, 3, 3, 3, dtype=ember.float64, requires_grad=True)
    w3 = ember.randn(2, 1, 2, 2, 2, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda x, w: F.conv3d(x, w, padding=1, stride=2), (x3, w3))


def test_conv_errors():
    conv = nn.Conv2d(3, 16, 3)
    with pytest.raises(RuntimeError, match=r"weight of size \[16, 3, 3, 3\].*"
                       r"input\[2, 4, 8, 8\] to have 3 channels, but got 4"):
        conv(ember.randn(2, 4, 8, 8))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input"):
        conv(ember.randn(1, 3, 2, 2))
    with pytest.raises(RuntimeError, match="Expected 3D .* or 4D"):
        conv(ember.randn(3, 8))
    assert conv(ember.randn(3, 8, 8)).shape == (16, 6, 6)  # unbatched input
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match="same"):
        F.conv2d(ember.randn(1, 3, 5, 5, dtype=ember.float64), ember.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_module_matches_torch(mode):
    torch = pytest.importorskip("torch")
    kw = dict(stride=1, padding="same", dilation=2, groups=2, padding_mode=mode)
    t = torch.nn.Conv2d(4, 6, (3, 2), **kw).double()
    e = nn.Conv2d(4, 6, (3, 2), **kw).double()
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    assert repr(e) == repr(t)
    x = rng.standard_normal((2, 4, 7, 6))
    ye, yt = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-10)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(e.weight.grad.numpy(), t.weight.grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(e.bias.grad.numpy(), t.bias.grad.numpy(), atol=1e-9)


def test_conv_transpose_module_output_size_and_init():
    torch = pytest.importorskip("torch")
    t = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, bias=False).double()
    e = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, bias=False).double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = rng.standard_normal((1, 4, 5, 5))
    ye = e(ember.tensor(x), output_size=(10, 10))
    yt = t(torch.tensor(x), output_size=(10, 10))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-10)
    assert repr(e) == repr(t)


def test_conv_default_init_bounds():
    conv = nn.Conv2d(8, 4, 3)
    fan_in = 8 * 9
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives this bound as well
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= bound + 1e-7 and w.std() > bound / 3
    assert np.abs(conv.bias.detach().numpy()).max() <= bound + 1e-7
    assert conv.weight.dtype == ember.float32
    assert list(conv.state_dict()) == ["weight", "bias"]


def test_conv_float32_path():
    x = ember.randn(2, 3, 8, 8)
    conv = nn.Conv2d(3, 5, 3, padding=1)
    y = conv(x)
    assert y.dtype == ember.float32 and y.shape == (2, 5, 8, 8)
    y.sum().backward()
    assert conv.weight.grad.dtype == ember.float32
