"""NOTE [ pow fast paths ]: small constant exponents computed as PyTorch computes them."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

try:
    import torch
except ImportError:
    torch = None

VALUES = [-np.inf, -3.0, -1e-40, -0.0, 0.0, 1e-30, 0.1, 2.0, 7.5, 1e30, np.inf, np.nan]
EXPONENTS = [2, 3, 4, 0.5, -0.5, -1, -2, 2.0, 3.0]


def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    nan = np.isnan(a) & np.isnan(b)  # NaN payload and sign are not specified
    return np.array_equal(nan, np.isnan(a)) and np.array_equal(
        np.where(nan, 0, a).view(np.uint8), np.where(nan, 0, b).view(np.uint8))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_close_to_the_generic_routine(dtype):
    x = np.array(VALUES, dtype)
    for e in EXPONENTS:
        got = ember.from_numpy(x).pow(e).numpy()
        with np.errstate(all="ignore"):
            ref = np.power(x, np.asarray(e, dtype))
        if e == 0.5:  # PyTorch uses sqrt: -inf ** 0.5 is NaN, -0 ** 0.5 is -0
            ref = np.sqrt(x)
        if e == -0.5:
            with np.errstate(all="ignore"):
                ref = 1 / np.sqrt(x)
        np.testing.assert_allclose(got, ref, rtol=4 * np.finfo(dtype).eps, equal_nan=True,
                                   err_msg=f"pow {e}")


@pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bitwise_equal_to_pytorch(dtype):
    x = np.array(VALUES, dtype)
    for e in EXPONENTS:
        got = ember.from_numpy(x.copy()).pow(e).numpy()
        want = torch.from_numpy(x.copy()).pow(e).numpy()
        assert _bits_equal(got, want), (e, got, want)


def test_integers_and_gradients():
    assert ember.tensor([3, -4]).pow(3).tolist() == [27, -64]
    assert ember.tensor([3, -4]).pow(2).dtype == ember.int64
    for e in (2, 3, 4, 0.5, -0.5, -1, -2):
        x = ember.tensor([0.7, 1.3, 2.1], dtype=ember.float64, requires_grad=True)
        assert gradcheck(lambda t, e=e: t ** e, (x,))
