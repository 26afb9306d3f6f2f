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


# --------------------------------------------------------------------------- lazy modules
def _sd_to_ember(sd):
    return {k: ember.tensor(v.detach().numpy()) for k, v in sd.items()}


_LAZY = [
    ("LazyLinear", (4,), {}, (3, 5)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
    ("LazyConv2d", (4, 3), {"stride": 2}, (2, 3, 7, 6)),
    ("LazyConv2d", (4, 3), {"groups": 2, "bias": False}, (3, 4, 5, 5)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2}, (1, 6, 5, 5)),
    ("LazyConvTranspose3d", (2, 2), {"stride": 2}, (1, 3, 2, 3, 2)),
    ("LazyBatchNorm1d", (), {}, (4, 6)),
    ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), {"bias": False, "momentum": None}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), {"track_running_stats": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,kw,shape", _LAZY)
def test_lazy_module_matches_torch(name, args, kw, shape):
    tm, em = getattr(torch.nn, name)(*args, **kw), getattr(nn, name)(*args, **kw)
    assert repr(em) == repr(tm)
    assert em.has_uninitialized_params() == tm.has_uninitialized_params()
    tsd, esd = tm.state_dict(), em.state_dict()
    assert list(esd) == list(tsd)
    assert [type(v).__name__ for v in esd.values()] == [type(v).__name__ for v in tsd.values()]
    x = RNG.standard_normal(shape).astype(np.float32)
    ty = tm(torch.tensor(x))
    ey_first = em(ember.tensor(x))
    assert type(em).__name__ == type(tm).__name__ and type(em).__name__ == name[4:]
    assert repr(em) == repr(tm)
    assert not em.has_uninitialized_params() if hasattr(em, "has_uninitialized_params") \
        else True
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert [p.requires_grad for p in em.parameters()] == [p.requires_grad
                                                         for p in tm.parameters()]
    assert not em._forward_pre_hooks
    # same values once the weights agree: load torch's state into the initialized layer
    r = em.load_state_dict(_sd_to_ember(tm.state_dict()))
    assert not r.missing_keys and not r.unexpected_keys
    _close(tm(torch.tensor(x)), em(ember.tensor(x)), atol=1e-4)
    # a fresh Lazy layer takes the state too (materialized, still Lazy until called)
    em2 = getattr(nn, name)(*args, **kw)
    r = em2.load_state_dict(_sd_to_ember(tm.state_dict()))
    assert not r.missing_keys and not r.unexpected_keys
    assert type(em2).__name__ == name and not em2.has_uninitialized_params()
    assert ey_first.shape == tuple(ty.shape)


def test_uninitialized_parameter_and_buffer():
    p, tp = nn.UninitializedParameter(), torch.nn.UninitializedParameter()
    assert repr(p) == repr(tp) == "<UninitializedParameter>"
    assert isinstance(p, nn.Parameter) and p.requires_grad == tp.requires_grad
    with pytest.raises(ValueError, match="uninitialized parameter"):
        p + 1
    with pytest.raises(ValueError):
        tp + 1
    with pytest.raises(RuntimeError, match="Can't access the shape"):
        p.shape
    with pytest.raises(RuntimeError):
        tp.shape
    p.materialize((2, 3))
    tp.materialize((2, 3))
    assert type(p) is nn.Parameter and type(tp) is torch.nn.Parameter
    assert tuple(p.shape) == (2, 3) and p.requires_grad
    assert (p * 0 + 1).sum().item() == 6
    b, tb = nn.UninitializedBuffer(dtype=ember.float64), torch.nn.UninitializedBuffer(
        dtype=torch.float64)
    assert b.dtype == ember.float64 and b.requires_grad is tb.requires_grad is False
    b.materialize(4)
    assert type(b) is ember.Tensor and b.dtype == ember.float64 and tuple(b.shape) == (4,)
    q = nn.UninitializedParameter(requires_grad=False)
    q.materialize((1,), dtype=ember.float64)
    assert not q.requires_grad and q.dtype == ember.float64


def test_lazy_state_dict_round_trips():
    import copy
    import pickle

    # placeholder -> placeholder: nothing to copy, still lazy
    m = nn.LazyLinear(3)
    r = m.load_state_dict(nn.LazyLinear(3).state_dict())
    assert not r.missing_keys and type(m.weight) is nn.UninitializedParameter
    # real -> placeholder: materialized with the checkpoint's shape, Lazy until called
    src = nn.Linear(5, 3)
    m = nn.LazyLinear(3)
    m.load_state_dict(src.state_dict())
    assert type(m) is nn.LazyLinear and tuple(m.weight.shape) == (3, 5)
    assert np.array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    m(ember.randn(2, 5))
    assert type(m) is nn.Linear and m.in_features == 5
    tm = torch.nn.LazyLinear(3)
    tm.load_state_dict(torch.nn.Linear(5, 3).state_dict())
    tm(torch.randn(2, 5))
    assert tm.in_features == m.in_features
    # placeholder -> real: PyTorch's RuntimeError
    with pytest.raises(RuntimeError):
        nn.Linear(5, 3).load_state_dict(nn.LazyLinear(3).state_dict())
    with pytest.raises(RuntimeError):
        torch.nn.Linear(5, 3).load_state_dict(torch.nn.LazyLinear(3).state_dict())
    # a norm layer's placeholder buffers load too
    bn = nn.LazyBatchNorm1d()
    bn.load_state_dict(nn.BatchNorm1d(4).state_dict())
    assert tuple(bn.running_mean.shape) == (4,)
    # copies, pickles and dtype moves of an unused Lazy model
    net = nn.Sequential(nn.LazyConv2d(4, 3), nn.Flatten(), nn.LazyLinear(2)).double()
    twin = copy.deepcopy(net)
    back = pickle.loads(pickle.dumps(net))
    for mod in (net, twin, back):
        y = mod(ember.randn(1, 3, 5, 5, dtype=ember.float64))
        assert y.dtype == ember.float64 and tuple(y.shape) == (1, 2)
    with pytest.raises(RuntimeError, match="not been fully initialized"):
        class Bad(nn.modules.lazy.LazyModuleMixin, nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.UninitializedParameter()

            def initialize_parameters(self, x):
                pass

            def forward(self, x):
                return x

        Bad()(ember.ones(1))


def test_lazy_conv_errors_match_torch():
    with pytest.raises(RuntimeError, match="Expected 3D"):
        nn.LazyConv2d(4, 3)(ember.randn(2, 2, 2, 5, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(ember.randn(1, 3, 5, 5))
    with pytest.raises(ValueError):
        torch.nn.LazyConv2d(4, 3, groups=2)(torch.randn(1, 3, 5, 5))


# --------------------------------------------------------------------------- adaptive softmax
def _asm_pair(**kw):
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], **kw)
    em = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], **kw)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [tuple(v.shape) for v in em.state_dict().values()] == \
        [tuple(v.shape) for v in tm.state_dict().values()]
    assert repr(em) == repr(tm)
    em.load_state_dict(_sd_to_ember(tm.state_dict()))
    return tm, em


@pytest.mark.parametrize("kw", [{}, {"div_value": 2.0, "head_bias": True}])
def test_adaptive_log_softmax_matches_torch(kw):
    tm, em = _asm_pair(**kw)
    for attr in ("shortlist_size", "n_clusters", "head_size", "cutoffs", "div_value"):
        assert getattr(em, attr) == getattr(tm, attr)
    x = RNG.standard_normal((9, 8)).astype(np.float32)
    t = np.array([0, 5, 12, 19, 3, 16, 10, 4, 14])
    tx, ex = _pair(x)
    to, eo = tm(tx, torch.tensor(t)), em(ex, ember.tensor(t))
    assert type(eo).__name__ == "_ASMoutput" and eo._fields == ("output", "loss")
    _close(to.output, eo.output)
    _close(to.loss, eo.loss)
    to.loss.backward()
    eo.loss.backward()
    _close(tx.grad, ex.grad)
    for (n, tp), ep in zip(tm.named_parameters(), em.parameters()):
        _close(tp.grad, ep.grad)
    _close(tm.log_prob(tx), em.log_prob(ex))
    # unbatched input with a 0-d target
    to, eo = tm(tx[2], torch.tensor(t[2])), em(ex[2], ember.tensor(t[2]))
    _close(to.output, eo.output)
    _close(tm.log_prob(tx[:1])[0], em.log_prob(ex[0]))  # PyTorch's needs a batch
    # predictions inside and outside the shortlist: push some rows to clusters
    with torch.no_grad():
        tm.head.weight[4:].mul_(6.0)
    em.load_state_dict(_sd_to_ember(tm.state_dict()))
    xs = RNG.standard_normal((12, 8)).astype(np.float32)
    tp_ = tm.predict(torch.tensor(xs))
    assert (tp_ >= 4).any() and (tp_ < 4).any()
    assert em.predict(ember.tensor(xs)).tolist() == tp_.tolist()
    assert em.predict(ember.tensor(xs[0])).item() == tp_[0].item()  # PyTorch's needs a batch


def test_adaptive_log_softmax_errors():
    for cutoffs in ([], [4, 4], [0, 5], [5, 3], [4, 20]):
        with pytest.raises(ValueError):
            nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)
        with pytest.raises(ValueError):
            torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)
    em = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4])
    with pytest.raises(RuntimeError, match="Target values should be in"):
        em(ember.randn(2, 8), ember.tensor([0, 20]))
    with pytest.raises(RuntimeError, match="same size in the batch"):
        em(ember.randn(3, 8), ember.tensor([0, 2]))
    with pytest.raises(RuntimeError, match="multi-target"):
        em(ember.randn(3, 8), ember.zeros(3, 2, dtype=ember.int64))


# --------------------------------------------------------------------------- legacy layers
@pytest.mark.parametrize("size,c", [(1, 4), (2, 3), (3, 6), (4, 9), (5, 7)])
def test_cross_map_lrn2d(size, c):
    x = RNG.standard_normal((2, c, 3, 4))
    tx, ex = _pair(x)
    tm, em = torch.nn.CrossMapLRN2d(size, 0.5, 0.75, 1.5), nn.CrossMapLRN2d(size, 0.5, 0.75, 1.5)
    assert repr(em) == repr(tm)
    ty, ey = tm(tx), em(ex)
    _close(ty, ey, atol=1e-12)
    if size > 1:  # PyTorch's legacy backward fails for size 1
        g = RNG.standard_normal(x.shape)
        ty.backward(torch.tensor(g))
        ey.backward(ember.tensor(g))
        _close(tx.grad, ex.grad, atol=1e-12)
    with pytest.raises(ValueError, match="Expected input to be 4D"):
        em(ember.randn(2, 3, 4))


def test_container_is_deprecated():
    with pytest.warns(FutureWarning, match="deprecated"):
        c = nn.Container(a=nn.Linear(2, 3), b=nn.ReLU())
    with pytest.warns(FutureWarning):
        tc = torch.nn.Container(a=torch.nn.Linear(2, 3), b=torch.nn.ReLU())
    assert repr(c) == repr(tc) and list(c.state_dict()) == list(tc.state_dict())


# --------------------------------------------------------------------------- SyncBatchNorm
def test_sync_batchnorm_single_process_is_batchnorm():
    tm, em = torch.nn.SyncBatchNorm(3, momentum=0.2), nn.SyncBatchNorm(3, momentum=0.2)
    assert repr(em) == repr(tm) and list(em.state_dict()) == list(tm.state_dict())
    for shape in ((4, 3), (4, 3, 5), (2, 3, 4, 4)):
        x = RNG.standard_normal(shape).astype(np.float32)
        tx, ex = _pair(x)
        ty, ey = tm(tx), em(ex)
        _close(ty, ey)
        _check_grad(ty, ey, tx, ex)
    for k, v in tm.state_dict().items():
        _close(v, em.state_dict()[k])
    em.eval()
    tm.eval()
    _close(tm(torch.tensor(x)), em(ember.tensor(x)))
    with pytest.raises(ValueError, match="at least 2D"):
        em(ember.randn(4))
    with pytest.raises(ValueError, match="non-zero"):
        em(ember.randn(4, 0))


def test_convert_sync_batchnorm():
    def build(mod):
        net = mod.Sequential(mod.Conv2d(3, 4, 3), mod.BatchNorm2d(4),
                             mod.Sequential(mod.BatchNorm1d(2, affine=False)))
        net[1].running_mean.fill_(0.5)
        net.eval()
        return net

    tnet, enet = build(torch.nn), build(nn)
    w = enet[1].weight
    tc = torch.nn.SyncBatchNorm.convert_sync_batchnorm(tnet)
    ec = nn.SyncBatchNorm.convert_sync_batchnorm(enet)
    assert repr(ec) == repr(tc)
    assert type(ec[1]) is nn.SyncBatchNorm and type(ec[2][0]) is nn.SyncBatchNorm
    assert ec[1].weight is w and not ec[1].training
    assert ec[1].running_mean.tolist() == [0.5] * 4
    assert list(ec.state_dict()) == list(tc.state_dict())
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(3))
    assert type(single) is nn.SyncBatchNorm


# --------------------------------------------------------------------------- linear_cross_entropy
def _lce_args(kw, fw):
    out = dict(kw)
    if "weight" in out:
        out["weight"] = fw.tensor(out["weight"])
    return out


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                {"weight": np.linspace(0.2, 2.0, 10).astype(np.float32)},
                                {"ignore_index": 4}, {"label_smoothing": 0.2}])
@pytest.mark.parametrize("opts", [None, {"batch_chunk_size": 3, "chunking_method": None}, {},
                                  {"chunking_method": "aspect_ratio:2"}])
def test_linear_cross_entropy_matches_torch(kw, opts):
    import warnings

    x = RNG.standard_normal((16, 4)).astype(np.float32)
    w = RNG.standard_normal((10, 4)).astype(np.float32)
    b = RNG.standard_normal(10).astype(np.float32)
    t = RNG.integers(0, 10, 16)
    t[2] = 4
    (tx, ex), (tw, ew), (tb, eb) = _pair(x), _pair(w), _pair(b)
    with warnings.catch_warnings(record=True) as tw_:
        warnings.simplefilter("always")
        tl = TF.linear_cross_entropy(
            tx, tw, torch.tensor(t), linear_bias=tb,
            options=None if opts is None else torch.nn.LinearCrossEntropyOptions(**opts),
            **_lce_args(kw, torch))
    with warnings.catch_warnings(record=True) as ew_:
        warnings.simplefilter("always")
        el = F.linear_cross_entropy(
            ex, ew, ember.tensor(t), linear_bias=eb,
            options=None if opts is None else nn.LinearCrossEntropyOptions(**opts),
            **_lce_args(kw, ember))
    assert len(ew_) == len([w_ for w_ in tw_ if "options" in str(w_.message)])
    _close(tl, el, atol=2e-5)
    tl.sum().backward()
    el.sum().backward()
    for a, e in ((tx, ex), (tw, ew), (tb, eb)):
        _close(a.grad, e.grad, atol=2e-5)


def test_linear_cross_entropy_k_dim_probabilities_and_module():
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    w = RNG.standard_normal((5, 2, 4)).astype(np.float32)
    t = RNG.integers(0, 5, (6, 2))
    (tx, ex), (tw, ew) = _pair(x), _pair(w)
    tl = TF.linear_cross_entropy(tx, tw, torch.tensor(t), reduction="none")
    el = F.linear_cross_entropy(ex, ew, ember.tensor(t), reduction="none")
    _close(tl, el)
    tl.sum().backward()
    el.sum().backward()
    _close(tw.grad, ew.grad)
    p = RNG.random((6, 5)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    w2 = w[:, 0]
    _close(TF.linear_cross_entropy(torch.tensor(x), torch.tensor(w2), torch.tensor(p)),
           F.linear_cross_entropy(ember.tensor(x), ember.tensor(w2), ember.tensor(p)))
    with pytest.raises(RuntimeError, match="requires batched input"):
        F.linear_cross_entropy(ember.tensor(x[0]), ember.tensor(w), ember.tensor(t[0]))
    tm = torch.nn.LinearCrossEntropyLoss(4, 5, out_features=(2,), bias=True,
                                         label_smoothing=0.1)
    em = nn.LinearCrossEntropyLoss(4, 5, out_features=(2,), bias=True, label_smoothing=0.1)
    assert repr(em) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    em.load_state_dict(_sd_to_ember(tm.state_dict()))
    _close(tm(torch.tensor(x), torch.tensor(t)), em(ember.tensor(x), ember.tensor(t)))


def test_linear_cross_entropy_options():
    o, to = nn.LinearCrossEntropyOptions(), torch.nn.LinearCrossEntropyOptions()
    assert repr(o) == repr(to)
    for kw in ({"batch_chunk_size": 0}, {"chunking_method": "foo"}, {"acc_policy": "x"},
               {"chunking_method": "aspect_ratio:0"}, {"acc_dtype": ember.int64}):
        with pytest.raises(ValueError):
            nn.LinearCrossEntropyOptions(**kw)
    bad = nn.LinearCrossEntropyOptions(batch_chunk_size=4, chunking_method="aspect_ratio")
    with pytest.raises(ValueError, match="different chunk sizes"):
        F.linear_cross_entropy(ember.randn(16, 4), ember.randn(10, 4),
                               ember.randint(0, 10, (16,)), options=bad)
    # a second backward works through the recomputed chunks
    x = ember.randn(8, 4, requires_grad=True)
    loss = F.linear_cross_entropy(x, ember.randn(6, 4), ember.randint(0, 6, (8,)),
                                  options=nn.LinearCrossEntropyOptions(batch_chunk_size=3,
                                                                       chunking_method=None))
    loss.backward(retain_graph=True)
    g1 = x.grad.clone()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-6)
