"""Pooling, padding, resampling, fold/unfold, grid_sample: PyTorch oracle, gradcheck, errors."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(1)


def _cmp(name, args, kwargs, shapes, tol=1e-10, transform=None):
    """Compare F.<name> with torch's on random float64 inputs: outputs and input grads."""
    torch = pytest.importorskip("torch")
    arrays = [rng.standard_normal(s) for s in shapes]
    if transform is not None:
        arrays = [transform(a) for a in arrays]
    te = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    ye = getattr(F, name)(*te, *args, **kwargs)
    yt = getattr(torch.nn.functional, name)(*tt, *args, **kwargs)
    if isinstance(yt, tuple):
        for a, b in zip(ye, yt):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=tol)
        ye, yt = ye[0], yt[0]
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=tol)
    g = rng.standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(te, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=tol)


@pytest.mark.parametrize("args", [(3, 2, 1, 1, False), (3, 2, 1, 2, True), (2, None, 0, 1, False),
                                  ((3, 2), (2, 1), (1, 0), (1, 2), True)])
def test_max_pool2d(args):
    _cmp("max_pool2d", args[:4], dict(ceil_mode=args[4], return_indices=True), [(2, 3, 9, 8)])


def test_max_pool1d_and_3d():
    _cmp("max_pool1d", (3, 2, 1), dict(ceil_mode=True, return_indices=True), [(2, 3, 10)])
    _cmp("max_pool3d", (2, 1, 1), {}, [(1, 2, 4, 3, 5)])


@pytest.mark.parametrize("args", [(3, 2, 1, False, True, None), (3, 2, 1, True, False, None),
                                  (3, 2, 1, True, True, None), ((3, 2), (2, 3), 1, True, False, 5)])
def test_avg_pool2d(args):
    _cmp("avg_pool2d", args, {}, [(2, 3, 9, 8)])


def test_avg_pool1d():
    _cmp("avg_pool1d", (3, 2, 1, True, False), {}, [(2, 3, 10)])


@pytest.mark.parametrize("out", [(3, 4), 1, (5, None), (4, 7)])
def test_adaptive_pools(out):
    _cmp("adaptive_avg_pool2d", (out,), {}, [(2, 3, 9, 8)])
    _cmp("adaptive_max_pool2d", (out, True), {}, [(2, 3, 9, 8)])


def test_adaptive_1d_and_lp_pool():
    _cmp("adaptive_avg_pool1d", (4,), {}, [(2, 3, 9)])
    _cmp("adaptive_max_pool1d", (4,), {}, [(2, 3, 9)])
    _cmp("lp_pool2d", (2, 3, 2), {}, [(2, 3, 9, 8)], transform=lambda a: np.abs(a) + 0.1)
    _cmp("lp_pool1d", (3, 3), {}, [(2, 3, 9)], transform=lambda a: np.abs(a) + 0.1)


def test_max_unpool_matches_torch():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9, 8))
    ye, ie = F.max_pool2d(ember.tensor(x), 2, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    ue = nn.MaxUnpool2d(2)(ye, ie, output_size=(9, 8))
    ut = torch.nn.MaxUnpool2d(2)(yt, it, output_size=(9, 8))
    np.testing.assert_array_equal(ue.numpy(), ut.numpy())


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(mode):
    _cmp("pad", ((1, 2, 2, 1), mode), {}, [(2, 3, 5, 4)])
    _cmp("pad", ((2, 1), mode), {}, [(2, 3, 5)])


def test_pad_negative_and_value():
    _cmp("pad", ((-1, 2, 0, 1),), dict(value=3.0), [(2, 3, 5, 4)])


INTERP = [dict(scale_factor=2, mode="nearest"), dict(size=(7, 5), mode="nearest"),
          dict(size=(7, 5), mode="nearest-exact"), dict(scale_factor=1.7, mode="nearest"),
          dict(size=(7, 11), mode="bilinear", align_corners=False),
          dict(size=(7, 11), mode="bilinear", align_corners=True),
          dict(scale_factor=(0.6, 1.5), mode="bilinear"),
          dict(size=(7, 11), mode="bicubic", align_corners=False),
          dict(size=(3, 2), mode="area")]


@pytest.mark.parametrize("kw", INTERP)
def test_interpolate(kw):
    _cmp("interpolate", (), kw, [(2, 3, 5, 4)])


def test_interpolate_1d_3d():
    _cmp("interpolate", (), dict(scale_factor=2.5, mode="linear"), [(2, 3, 5)])
    _cmp("interpolate", (), dict(size=(3, 4, 5), mode="trilinear"), [(1, 2, 2, 3, 4)])


def test_pixel_shuffle_fold_unfold():
    _cmp("pixel_shuffle", (2,), {}, [(2, 8, 3, 4)])
    _cmp("pixel_unshuffle", (2,), {}, [(2, 2, 4, 6)])
    _cmp("unfold", ((2, 3), 2, 1, (1, 2)), {}, [(2, 3, 7, 8)])
    _cmp("fold", ((7, 8), (2, 3), 2, 1, (1, 2)), {}, [(2, 18, 21)])


@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("pm", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample(ac, pm, mode):
    _cmp("grid_sample", (), dict(mode=mode, padding_mode=pm, align_corners=ac),
         [(2, 3, 5, 4), (2, 6, 7, 2)], tol=1e-9, transform=lambda a: a * 1.3)


@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid(ac):
    _cmp("affine_grid", ((2, 3, 5, 4), ac), {}, [(2, 2, 3)])


# ------------------------------------------------------------------ without torch
def test_known_values():
    x = ember.arange(16, dtype=ember.float64).reshape(1, 1, 4, 4)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    assert y.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert i.tolist() == [[[[5, 7], [13, 15]]]]
    assert F.avg_pool2d(x, 2).tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]
    assert F.adaptive_avg_pool2d(x, 1).item() == 7.5
    assert F.pad(ember.ones(1, 2), (1, 2), value=0.0).tolist() == [[0.0, 1.0, 1.0, 0.0, 0.0]]
    r = F.pad(ember.arange(3, dtype=ember.float64).reshape(1, 1, 3), (2, 2), mode="reflect")
    assert r.tolist() == [[[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]]
    u = F.interpolate(ember.tensor([[[1.0, 2.0]]]), scale_factor=2, mode="nearest")
    assert u.tolist() == [[[1.0, 1.0, 2.0, 2.0]]]
    ps = F.pixel_shuffle(ember.arange(4.0).reshape(1, 4, 1, 1), 2)
    assert ps.tolist() == [[[[0.0, 1.0], [2.0, 3.0]]]]
    # max pooling propagates NaN like PyTorch
    n = ember.tensor([[[1.0, float("nan"), 3.0, 0.0]]])
    assert np.isnan(F.max_pool1d(n, 2)[0, 0, 0].item())


def test_fold_unfold_adjoint_and_roundtrip():
    x = ember.randn(2, 3, 6, 5, dtype=ember.float64)
    cols = F.unfold(x, 2, stride=2, padding=(0, 1))
    back = F.fold(cols, (6, 5), 2, stride=2, padding=(0, 1))
    np.testing.assert_allclose(back.numpy(), x.numpy())  # non-overlapping blocks: exact


def test_gradchecks():
    x = ember.randn(1, 2, 5, 6, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True), (x,))
    assert gradgradcheck(lambda t: F.max_pool2d(t, 2, 1, dilation=2), (x,))
    assert gradgradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, True, False), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 4)), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (x,))
    assert gradgradcheck(lambda t: F.pad(t, (1, 2, 2, 1), mode="reflect"), (x,))
    assert gradgradcheck(lambda t: F.pad(t, (-1, 2, 0, 1), value=2.0), (x,))
    assert gradcheck(lambda t: F.interpolate(t, size=(4, 9), mode="bilinear"), (x,))
    assert gradgradcheck(lambda t: F.unfold(t, 2, padding=1), (x,))
    g = ember.tensor(rng.uniform(-1.1, 1.1, (1, 3, 2, 2)), requires_grad=True)
    assert gradcheck(lambda t, gr: F.grid_sample(t, gr, align_corners=False), (x, g))


def test_errors():
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(ember.randn(1, 3, 2, 2), 3)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(ember.randn(1, 3, 8, 8), 2, padding=2)
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(ember.randn(1, 1, 3), (3, 3), mode="reflect")
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(ember.randn(1, 1, 3))
    with pytest.raises(RuntimeError, match="divisible by the square"):
        F.pixel_shuffle(ember.randn(1, 3, 2, 2), 2)


def test_module_reprs_match_torch():
    torch = pytest.importorskip("torch")
    pairs = [("MaxPool2d", (2,)), ("AvgPool1d", (3,)), ("AvgPool2d", (3, 2, 1)),
             ("ReflectionPad2d", (1,)), ("ZeroPad2d", (1,)), ("ConstantPad1d", (2, 1.0)),
             ("ReplicationPad1d", ((1, 2),)), ("Upsample", ()), ("AdaptiveAvgPool2d", (1,)),
             ("AdaptiveMaxPool2d", ((2, 3),)), ("Fold", (3, 2)), ("Unfold", (2,)),
             ("LPPool2d", (2, 3)), ("MaxUnpool2d", (2,)), ("PixelShuffle", (2,)),
             ("PixelUnshuffle", (2,))]
    for name, args in pairs:
        kw = dict(scale_factor=2) if name == "Upsample" else {}
        assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_modules_forward():
    x = ember.randn(2, 4, 8, 8)
    assert nn.MaxPool2d(2)(x).shape == (2, 4, 4, 4)
    assert nn.AvgPool2d(2, ceil_mode=True)(ember.randn(1, 1, 5, 5)).shape == (1, 1, 3, 3)
    assert nn.AdaptiveAvgPool2d((1, 1))(x).shape == (2, 4, 1, 1)
    assert nn.ReflectionPad2d((1, 0, 2, 0))(x).shape == (2, 4, 10, 9)
    assert nn.Upsample(scale_factor=2, mode="bilinear")(x).shape == (2, 4, 16, 16)
    assert nn.PixelShuffle(2)(x).shape == (2, 1, 16, 16)
    assert nn.Unfold(3, padding=1)(x).shape == (2, 36, 64)


def test_avg_pool1d_module_runs_as_the_function():
    # AvgPool1d has no divisor_override (as PyTorch's); its forward must not read one
    x = ember.randn(1, 3, 9)
    for kw in (dict(kernel_size=2),
               dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)):
        m = nn.AvgPool1d(**kw)
        assert not hasattr(m, "divisor_override")
        want = F.avg_pool1d(x, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0),
                            kw.get("ceil_mode", False), kw.get("count_include_pad", True))
        assert ember.equal(m(x), want)
