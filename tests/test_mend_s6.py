"""Review leftovers of session 6: one sigmoid, scalar-only arithmetic, special functions'
number arguments, complex clamp, unique benchmark names, process-wide grad mode."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F


# ------------------------------------------------------------------ 1. one accurate sigmoid
def _old_sig(x):
    # the activation module's own sigmoid before it used the op's: the reference for
    # "results unchanged"
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1
    return np.reciprocal(e, out=e)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("n", [8, 1000, 1 << 17])
def test_activation_sigmoid_bitwise_unchanged(dt, n):
    from ember.nn._functional_activation import _sig

    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 40).astype(dt)
    x[:8] = [np.inf, -np.inf, np.nan, 1e30, -1e30, 0.0, -0.0, np.finfo(dt).max]
    got, want = _sig(x), _old_sig(x)
    assert got.dtype == want.dtype
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8))


def test_activation_sigmoid_is_the_ops():
    from ember._ops.elementwise import _sigmoid, _sigmoid_passes
    from ember.nn._functional_activation import _sig

    assert _sig is _sigmoid_passes
    x = np.linspace(-90, 40, 999)  # below the kernel's size both give the same bits
    assert np.array_equal(_sig(x), _sigmoid(x))


@pytest.mark.parametrize("name", ["silu", "mish", "softplus", "logsigmoid"])
def test_activation_gradients_of_0dim(name):
    # the old sigmoid (and silu's forward) made a NumPy scalar of 0-dim input and failed on
    # out=: TypeError "return arrays must be of ArrayType" in every 0-dim backward
    torch = pytest.importorskip("torch")
    for v in (-30.0, -1.5, 0.0, 2.0, 30.0):
        x = ember.tensor(v, dtype=ember.float64, requires_grad=True)
        getattr(F, name)(x).backward()
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        getattr(torch.nn.functional, name)(t).backward()
        assert x.grad.shape == ()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=0)


def test_activation_gradient_of_0dim_without_oracle():
    x = ember.tensor(-30.0, dtype=ember.float64, requires_grad=True)
    F.logsigmoid(x).backward()
    assert float(x.grad) == pytest.approx(1 - 1 / (1 + np.exp(30.0)), rel=1e-15)
    x = ember.tensor(0.0, requires_grad=True)
    F.silu(x).backward()
    assert float(x.grad) == 0.5


def test_silu_forward_0dim_and_unchanged():
    for v in (-np.inf, -30.0, 0.0, 1.5, 100.0):
        y = F.silu(ember.tensor(v, dtype=ember.float64))
        assert y.shape == ()
        with np.errstate(over="ignore", invalid="ignore"):
            want = np.float64(v) / (1 + np.exp(-np.float64(v)))
        np.testing.assert_equal(y.numpy(), want)
    x = np.linspace(-50, 50, 1001, dtype=np.float32)
    with np.errstate(over="ignore"):
        want = x / (np.exp(-x) + 1)
    assert np.array_equal(F.silu(ember.from_numpy(x)).numpy(), want)
