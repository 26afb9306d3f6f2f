"""Breadth of ``nn``/``nn.functional`` (issue 19 item 5): 3-d and fractional pools, channel
shuffle, Lazy modules and uninitialized parameters, AdaptiveLogSoftmaxWithLoss,
CrossMapLRN2d, SyncBatchNorm, Container and linear_cross_entropy, against PyTorch."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(19)


def _pair(a):
    """The same float array as a leaf needing grad in both frameworks."""
    t = torch.tensor(a, requires_grad=True)
    e = ember.tensor(a, requires_grad=True)
    return t, e


def _close(t, e, atol=1e-5, rtol=1e-5):
    tv = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    ev = e.detach().numpy() if hasattr(e, "detach") else np.asarray(e)
    assert tv.shape == ev.shape, (tv.shape, ev.shape)
    np.testing.assert_allclose(ev, tv, atol=atol, rtol=rtol)


def _check_grad(ty, ey, tx, ex, atol=1e-5):
    g = RNG.standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    _close(tx.grad, ex.grad, atol=atol)


# --------------------------------------------------------------------------- pools
@pytest.mark.parametrize("shape,out", [((2, 3, 5, 6, 7), (2, 3, 4)), ((3, 4, 4, 4), 2),
                                       ((1, 2, 6, 5, 4), (None, 2, 3))])
def test_adaptive_pool3d(shape, out):
    x = RNG.standard_normal(shape).astype(np.float32)
    tx, ex = _pair(x)
    ty, ey = TF.adaptive_avg_pool3d(tx, out), F.adaptive_avg_pool3d(ex, out)
    _close(ty, ey)
    _check_grad(ty, ey, tx, ex)
    tx, ex = _pair(x)
    (ty, ti), (ey, ei) = TF.adaptive_max_pool3d(tx, out, True), F.adaptive_max_pool3d(ex, out,
                                                                                      True)
    _close(ty, ey)
    assert np.array_equal(ti.numpy(), ei.numpy()) and ei.dtype == ember.int64
    _check_grad(ty, ey, tx, ex)
    m, tm = nn.AdaptiveMaxPool3d(out, return_indices=True), torch.nn.AdaptiveMaxPool3d(out, True)
    assert np.array_equal(m(ex)[1].numpy(), tm(tx)[1].numpy())
    _close(torch.nn.AdaptiveAvgPool3d(out)(tx), nn.AdaptiveAvgPool3d(out)(ex))
    assert repr(nn.AdaptiveAvgPool3d(out)) == repr(torch.nn.AdaptiveAvgPool3d(out))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_with_indices_spellings(nd):
    x = RNG.standard_normal((2, 3) + (6,) * nd).astype(np.float32)
    name = f"adaptive_max_pool{nd}d_with_indices"
    tv, ti = getattr(TF, name)(torch.tensor(x), 4)
    ev, ei = getattr(F, name)(ember.tensor(x), 4)
    _close(tv, ev)
    assert np.array_equal(ti.numpy(), ei.numpy())
    # distinct values: max_pool3d breaks ties unlike PyTorch (a known gap of the kernel)
    x3 = RNG.standard_normal((2, 3) + (4,) * nd + (2,) * (3 - nd)).astype(np.float32)
    tv, ti = TF.max_pool3d_with_indices(torch.tensor(x3), 2)
    ev, ei = F.max_pool3d_with_indices(ember.tensor(x3), 2)
    _close(tv, ev)
    assert np.array_equal(ti.numpy(), ei.numpy())


def test_max_unpool3d_and_lp_pool3d():
    x = RNG.standard_normal((2, 2, 4, 6, 6)).astype(np.float32)
    tx, ex = _pair(x)
    ty, ti = TF.max_pool3d(tx, 2, return_indices=True)
    ey, ei = F.max_pool3d(ex, 2, return_indices=True)
    tu, eu = TF.max_unpool3d(ty, ti, 2), F.max_unpool3d(ey, ei, 2)
    _close(tu, eu)
    _check_grad(tu, eu, tx, ex)
    tu = torch.nn.MaxUnpool3d(2)(ty, ti, output_size=(5, 7, 7))
    eu = nn.MaxUnpool3d(2)(ey, ei, output_size=(5, 7, 7))
    _close(tu, eu)
    assert repr(nn.MaxUnpool3d(2)) == repr(torch.nn.MaxUnpool3d(2))
    with pytest.raises(ValueError):
        F.max_unpool3d(ey, ei, 2, output_size=(9, 9, 9))
    for p, k, s in [(2, 2, None), (3, (2, 3, 2), 1), (1.5, 3, 2)]:
        xa = np.abs(x) + 0.1
        tx, ex = _pair(xa)
        ty, ey = TF.lp_pool3d(tx, p, k, s), F.lp_pool3d(ex, p, k, s)
        _close(ty, ey, atol=1e-4)
        _check_grad(ty, ey, tx, ex, atol=1e-4)
        _close(torch.nn.LPPool3d(p, k, s)(tx), nn.LPPool3d(p, k, s)(ex), atol=1e-4)


@pytest.mark.parametrize("nd,shape,ks,out,ratio", [
    (2, (2, 3, 9, 11), (2, 3), (4, 5), None),
    (2, (3, 10, 10), 3, None, (0.5, 0.5)),
    (2, (1, 2, 7, 7), 2, 1, None),
    (3, (2, 2, 7, 6, 8), (2, 2, 3), (3, 4, 2), None),
    (3, (2, 6, 6, 6), 2, None, (0.5, 0.6, 0.7)),
])
def test_fractional_max_pool_matches_torch(nd, shape, ks, out, ratio):
    x = RNG.standard_normal(shape).astype(np.float32)
    n = shape[0] if len(shape) == nd + 2 else 1
    s = RNG.random((n, shape[-nd - 1], nd)).astype(np.float32)
    tx, ex = _pair(x)
    tf, ef = getattr(TF, f"fractional_max_pool{nd}d"), getattr(F, f"fractional_max_pool{nd}d")
    ty, ti = tf(tx, ks, output_size=out, output_ratio=ratio, return_indices=True,
                _random_samples=torch.tensor(s))
    ey, ei = ef(ex, ks, output_size=out, output_ratio=ratio, return_indices=True,
                _random_samples=ember.tensor(s))
    assert np.array_equal(ti.numpy(), ei.numpy())
    _close(ty, ey)
    _check_grad(ty, ey, tx, ex)
    wi = getattr(F, f"fractional_max_pool{nd}d_with_indices")(
        ember.tensor(x), ks, out, ratio, _random_samples=ember.tensor(s))
    assert np.array_equal(wi[1].numpy(), ti.numpy())
    cls, tcls = getattr(nn, f"FractionalMaxPool{nd}d"), getattr(torch.nn,
                                                                 f"FractionalMaxPool{nd}d")
    m = cls(ks, output_size=out, output_ratio=ratio, _random_samples=ember.tensor(s))
    tm = tcls(ks, output_size=out, output_ratio=ratio, _random_samples=torch.tensor(s))
    _close(tm(tx), m(ex))
    assert m.kernel_size == tm.kernel_size and m.output_size == tm.output_size
    assert m.output_ratio == tm.output_ratio
    assert list(m.state_dict()) == list(tm.state_dict())


def test_fractional_max_pool_random_and_errors():
    x = ember.randn(2, 3, 10, 10)
    y, i = F.fractional_max_pool2d(x, 2, output_size=5, return_indices=True)
    flat = x.reshape(2, 3, -1)
    assert np.array_equal(np.take_along_axis(flat.numpy(), i.reshape(2, 3, -1).numpy(), 2),
                          y.reshape(2, 3, -1).numpy())
    with pytest.raises(ValueError):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(RuntimeError):
        F.fractional_max_pool2d(x, 4, output_size=8)
    with pytest.raises(ValueError):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError):
        nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5)
    with pytest.raises(ValueError):
        torch.nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5)


def test_channel_shuffle():
    x = RNG.standard_normal((2, 6, 3, 2)).astype(np.float32)
    tx, ex = _pair(x)
    ty, ey = TF.channel_shuffle(tx, 3), F.channel_shuffle(ex, 3)
    _close(ty, ey)
    _check_grad(ty, ey, tx, ex)
    _close(torch.nn.ChannelShuffle(2)(tx), nn.ChannelShuffle(2)(ex))
    assert repr(nn.ChannelShuffle(2)) == repr(torch.nn.ChannelShuffle(2))
    with pytest.raises(RuntimeError):
        torch.nn.ChannelShuffle(4)(tx)
    with pytest.raises(RuntimeError):
        nn.ChannelShuffle(4)(ex)


def test_assert_int_or_pair():
    F.assert_int_or_pair(3, "k", "{} bad")
    F.assert_int_or_pair((1, 2), "k", "{} bad")
    with pytest.raises(AssertionError, match="k bad"):
        F.assert_int_or_pair((1, 2, 3), "k", "{} bad")
