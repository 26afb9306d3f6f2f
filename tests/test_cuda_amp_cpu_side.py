"""``autocast("cuda")`` and ``GradScaler("cuda")`` checked on the fake CuPy (issue 15).

The expected dtypes are PyTorch's CUDA autocast lists (its "Autocast Op Reference": ops that
autocast to float16, to float32, and that promote to the widest input), applied to CUDA
tensors on ``tests/fake_cupy.py``; the real run is ``tests/gpu/test_gpu_amp.py``.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
import fake_cupy
from ember.amp import autocast_mode


@pytest.fixture
def fake(monkeypatch):
    fake_cupy.install(monkeypatch)
    yield sys.modules["cupy"]
    fake_cupy.uninstall()


def _h(*shape):
    return ember.rand(*shape, device="cuda").half() + 0.5


def _f(*shape):
    return ember.rand(*shape, device="cuda") + 0.5


F16, F32 = ember.float16, ember.float32

# (name, call, expected dtype): float32 inputs to the float16 list, float16 inputs to the
# float32 list, mixed inputs to the promote list
CASES = [
    ("matmul", lambda: ember.matmul(_f(3, 4), _f(4, 2)), F16),
    ("__matmul__", lambda: _f(3, 4) @ _f(4, 2), F16),
    ("mm", lambda: ember.mm(_f(3, 4), _f(4, 2)), F16),
    ("bmm", lambda: ember.bmm(_f(2, 3, 4), _f(2, 4, 2)), F16),
    ("addmm", lambda: ember.addmm(_f(3, 2), _f(3, 4), _f(4, 2)), F16),
    ("baddbmm", lambda: ember.baddbmm(_f(2, 3, 2), _f(2, 3, 4), _f(2, 4, 2)), F16),
    ("addbmm", lambda: ember.addbmm(_f(3, 2), _f(2, 3, 4), _f(2, 4, 2)), F16),
    ("addmv", lambda: ember.addmv(_f(3), _f(3, 4), _f(4)), F16),
    ("addr", lambda: ember.addr(_f(3, 4), _f(3), _f(4)), F16),
    ("mv", lambda: ember.mv(_f(3, 4), _f(4)), F16),
    ("chain_matmul", lambda: ember.chain_matmul(_f(2, 3), _f(3, 4), _f(4, 2)), F16),
    ("multi_dot", lambda: ember.linalg.multi_dot([_f(2, 3), _f(3, 4), _f(4, 2)]), F16),
    ("einsum", lambda: ember.einsum("ij,jk->ik", _f(2, 3), _f(3, 4)), F16),
    ("linear", lambda: F.linear(_f(2, 3), _f(4, 3), _f(4)), F16),
    ("conv1d", lambda: F.conv1d(_f(1, 2, 8), _f(3, 2, 3)), F16),
    ("conv2d", lambda: F.conv2d(_f(1, 2, 6, 6), _f(3, 2, 3, 3), _f(3)), F16),
    ("conv_transpose2d", lambda: F.conv_transpose2d(_f(1, 2, 4, 4), _f(2, 3, 3, 3)), F16),
    ("prelu", lambda: F.prelu(_f(2, 3), _f(1)), F16),
    ("sdpa", lambda: F.scaled_dot_product_attention(_f(1, 2, 4, 8), _f(1, 2, 4, 8),
                                                    _f(1, 2, 4, 8)), F16),
    ("acos", lambda: ember.acos(_h(4) - 1), F32),
    ("asin", lambda: (_h(4) - 1).asin(), F32),
    ("cosh", lambda: ember.cosh(_h(4)), F32),
    ("erfinv", lambda: ember.erfinv(_h(4) - 1), F32),
    ("exp", lambda: ember.exp(_h(4)), F32),
    ("exp method", lambda: _h(4).exp(), F32),
    ("expm1", lambda: ember.expm1(_h(4)), F32),
    ("log", lambda: ember.log(_h(4)), F32),
    ("log10", lambda: ember.log10(_h(4)), F32),
    ("log2", lambda: ember.log2(_h(4)), F32),
    ("log1p", lambda: ember.log1p(_h(4)), F32),
    ("reciprocal", lambda: ember.reciprocal(_h(4)), F32),
    ("rsqrt", lambda: ember.rsqrt(_h(4)), F32),
    ("sinh", lambda: ember.sinh(_h(4)), F32),
    ("tan", lambda: ember.tan(_h(4)), F32),
    ("pow", lambda: ember.pow(_h(4), _h(4)), F32),
    ("pow scalar", lambda: ember.pow(_h(4), 1.7), F32),
    ("__pow__", lambda: _h(4) ** 1.5, F32),
    ("__rpow__", lambda: 2.0 ** _h(4), F32),
    ("__rtruediv__", lambda: 1.0 / _h(4), F32),
    ("softmax", lambda: ember.softmax(_h(3, 4), 0), F32),
    ("F.softmax", lambda: F.softmax(_h(3, 4), dim=-1), F32),
    ("log_softmax", lambda: F.log_softmax(_h(3, 4), dim=-1), F32),
    ("softmin", lambda: F.softmin(_h(3, 4), dim=-1), F32),
    ("layer_norm", lambda: F.layer_norm(_h(2, 4), (4,)), F32),
    ("group_norm", lambda: F.group_norm(_h(2, 4, 3), 2), F32),
    ("rms_norm", lambda: F.rms_norm(_h(2, 4), (4,)), F32),
    ("normalize", lambda: F.normalize(_h(2, 4)), F32),
    ("norm", lambda: ember.norm(_h(4)), F32),
    ("norm dim", lambda: _h(3, 4).norm(dim=0), F32),
    ("cosine_similarity", lambda: F.cosine_similarity(_h(2, 4), _h(2, 4)), F32),
    ("softplus", lambda: F.softplus(_h(4)), F32),
    ("cumsum", lambda: ember.cumsum(_h(4), 0), F32),
    ("cumprod", lambda: _h(4).cumprod(0), F32),
    ("prod", lambda: ember.prod(_h(4)), F32),
    ("sum", lambda: ember.sum(_h(4)), F32),
    ("sum method dim", lambda: _h(3, 4).sum(1), F32),
    ("logsumexp", lambda: ember.logsumexp(_h(3, 4), 1), F32),
    ("dist", lambda: ember.dist(_h(4), _h(4)), F32),
    ("cdist", lambda: ember.cdist(_h(3, 4), _h(2, 4)), F32),
    ("pdist", lambda: F.pdist(_h(3, 4)), F32),
    ("renorm", lambda: ember.renorm(_h(3, 4), 2, 0, 1.0), F32),
    ("mse_loss", lambda: F.mse_loss(_h(3, 4), _h(3, 4)), F32),
    ("l1_loss", lambda: F.l1_loss(_h(3, 4), _h(3, 4)), F32),
    ("smooth_l1_loss", lambda: F.smooth_l1_loss(_h(3, 4), _h(3, 4)), F32),
    ("kl_div", lambda: F.kl_div(_h(3, 4), _h(3, 4), reduction="batchmean"), F32),
    ("cross_entropy", lambda: F.cross_entropy(_h(3, 4), ember.tensor([0, 1, 3],
                                                                       device="cuda")), F32),
    ("bce_with_logits", lambda: F.binary_cross_entropy_with_logits(_h(3), _h(3) - 0.5), F32),
    ("margin_ranking_loss", lambda: F.margin_ranking_loss(_h(3), _h(3), _h(3)), F32),
    ("triplet_margin_loss", lambda: F.triplet_margin_loss(_h(2, 4), _h(2, 4), _h(2, 4)), F32),
    ("addcmul", lambda: ember.addcmul(_f(4), _h(4), _h(4)), F32),
    ("addcdiv", lambda: ember.addcdiv(_h(4), _f(4), _h(4)), F32),
    ("atan2", lambda: ember.atan2(_f(4), _h(4)), F32),
    ("cross", lambda: ember.cross(_f(3), _h(3), dim=0), F32),
    ("dot", lambda: ember.dot(_h(3), _f(3)), F32),
    ("tensordot", lambda: ember.tensordot(_f(2, 2, 2), _h(2, 2, 2)), F32),
    ("cat", lambda: ember.cat([_h(2), _f(2)]), F32),
    ("stack", lambda: ember.stack([_h(2), _f(2)]), F32),
    ("index_put", lambda: _h(4).index_put((ember.tensor([1], device="cuda"),), _f(1)), F32),
    # outside the lists: the inputs' dtype
    ("relu", lambda: F.relu(_h(4)), F16),
    ("gelu", lambda: F.gelu(_h(4)), F16),
    ("gelu tanh", lambda: F.gelu(_h(4), approximate="tanh"), F16),
    ("silu", lambda: F.silu(_h(4)), F16),
    ("mish", lambda: F.mish(_h(4)), F16),
    ("elu", lambda: F.elu(_h(4)), F16),
    ("selu", lambda: F.selu(_h(4)), F16),
    ("logsigmoid", lambda: F.logsigmoid(_h(4)), F16),
    ("hardswish", lambda: F.hardswish(_h(4)), F16),
    ("tanh", lambda: ember.tanh(_h(4)), F16),
    ("sigmoid", lambda: ember.sigmoid(_h(4)), F16),
    ("max_pool2d", lambda: F.max_pool2d(_h(1, 2, 4, 4), 2), F16),
    ("avg_pool2d", lambda: F.avg_pool2d(_h(1, 2, 4, 4), 2), F16),
    ("adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(_h(1, 2, 4, 4), 1), F16),
    ("batch_norm", lambda: F.batch_norm(_h(2, 3), None, None, training=True), F16),
    ("mean", lambda: _h(3, 4).mean(), F16),
    ("add mixed", lambda: _h(4) + _f(4), F32),  # ordinary promotion
    ("outer", lambda: ember.outer(_h(3), _h(2)), F16),
    ("sum explicit dtype", lambda: ember.sum(_h(4), dtype=ember.float16), F16),
    ("matmul float64", lambda: _f(2, 2).double() @ _f(2, 2).double(), ember.float64),
]


@pytest.mark.parametrize("name,call,want", CASES, ids=[c[0] for c in CASES])
def test_cuda_autocast_follows_pytorchs_lists(fake, name, call, want):
    with np.errstate(all="ignore"), ember.autocast("cuda", dtype=ember.float16):
        out = call()
    assert out.is_cuda and out.dtype == want, f"{name}: {out.dtype}, PyTorch gives {want}"


@pytest.mark.parametrize("call", [
    # scatter_add's forward ran NumPy's add.at on cuda data; it goes through the backend's
    # scatter_add kernel now (cupyx.scatter_add)
    lambda: _h(2, 2).scatter_add(0, ember.tensor([[0, 1]], device="cuda"), _f(1, 2)),
], ids=["scatter_add"])
def test_cuda_autocast_ops_with_host_arrays_in_their_forward(fake, call):
    with np.errstate(all="ignore"), ember.autocast("cuda", dtype=ember.float16):
        assert call().dtype == F32


@pytest.mark.parametrize("weight", [False, True])
def test_cuda_nll_loss_keeps_its_targets_on_the_device(fake, weight):
    # nll_loss built its clamped targets and row weights with host NumPy (TypeError on cuda)
    w = ember.tensor([1.0, 2.0, 0.5, 1.0], device="cuda") if weight else None
    logits = ember.tensor([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.0, 2.0], [0.5, 0.5, 0.5, 0.5]])
    t = ember.tensor([0, 1, 3])
    ref = F.nll_loss(logits.log_softmax(1), t, weight=w.cpu() if weight else None,
                     ignore_index=1)
    with np.errstate(all="ignore"), ember.autocast("cuda", dtype=ember.float16):
        got = F.nll_loss(logits.cuda().log_softmax(1), t.cuda(), weight=w, ignore_index=1)
    assert got.dtype == F32 and got.device.type == "cuda"
    assert abs(got.item() - ref.item()) < 1e-6


def test_cuda_autocast_lists_hold_pytorchs_documented_names():
    """Every op of PyTorch's documented CUDA lists (as ember spells them) has a policy."""
    table = autocast_mode._DEVICE_LISTS["cuda"][2]
    fp16 = ("__matmul__ addbmm addmm addmv addr baddbmm bmm chain_matmul multi_dot conv1d "
            "conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d linear matmul "
            "mm mv prelu").split()
    fp32 = ("__pow__ __rdiv__ __rpow__ __rtruediv__ acos asin binary_cross_entropy_with_logits "
            "cosh cosine_embedding_loss cdist cosine_similarity cross_entropy cumprod cumsum "
            "dist erfinv exp expm1 group_norm hinge_embedding_loss kl_div l1_loss layer_norm "
            "log log_softmax log10 log1p log2 margin_ranking_loss mse_loss "
            "multilabel_margin_loss multi_margin_loss nll_loss norm normalize pdist "
            "poisson_nll_loss pow prod reciprocal rsqrt sinh smooth_l1_loss soft_margin_loss "
            "softmax softmin softplus sum renorm tan triplet_margin_loss").split()
    promote = ("addcdiv addcmul atan2 bilinear cross dot grid_sample index_put scatter_add "
               "tensordot").split()
    for names, policy in ((fp16, "lower"), (fp32, "fp32"), (promote, "promote")):
        for n in names:
            assert table.get(n) == policy, (n, table.get(n), policy)
    assert table["binary_cross_entropy"] == "banned"


def test_cuda_autocast_modules_and_backward(fake):
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Conv2d(2, 4, 3), ember.nn.ReLU(), ember.nn.Flatten(),
                              ember.nn.Linear(16, 3), ember.nn.LayerNorm(3)).cuda()
    x = ember.randn(2, 2, 4, 4, device="cuda")
    target = ember.tensor([0, 2], device="cuda")
    with ember.autocast("cuda"):
        h = net[3](net[2](net[1](net[0](x))))
        assert h.dtype == F16  # conv and linear in float16
        out = net[4](h)
        assert out.dtype == F32  # layer_norm in float32
        loss = F.cross_entropy(out, target)
    assert loss.dtype == F32
    loss.backward()
    for p in net.parameters():  # float32 weights get float32 gradients through the casts
        assert p.grad is not None and p.grad.dtype == F32 and p.grad.is_cuda


def test_cuda_autocast_matches_float32_closely(fake):
    ember.manual_seed(1)
    lin = ember.nn.Linear(8, 4)
    x = ember.randn(5, 8)
    ref = lin(x)
    lin.cuda()
    with ember.autocast("cuda"):
        y = lin(x.cuda())
    assert y.dtype == F16
    np.testing.assert_allclose(y.detach().float().cpu().numpy(), ref.detach().numpy(), rtol=2e-2,
                               atol=2e-2)


def test_cuda_and_cpu_regions_are_separate(fake):
    a, b = ember.ones(2, 2), ember.ones(2, 2)
    with ember.autocast("cuda"):
        assert (a @ b).dtype == F32  # CPU tensors: the cpu region (off)
        assert (a.cuda() @ b.cuda()).dtype == F16
        assert ember.amp.is_autocast_enabled("cuda")
        assert not ember.amp.is_autocast_enabled("cpu")
        with ember.autocast("cpu"):
            assert (a @ b).dtype == ember.bfloat16
            assert (a.cuda() @ b.cuda()).dtype == F16
        with ember.autocast("cuda", enabled=False):
            assert (a.cuda() @ b.cuda()).dtype == F32
    with ember.autocast("cpu"):
        assert (a.cuda() @ b.cuda()).dtype == F32  # CUDA tensors: the cuda region (none)
    assert (a.cuda() @ b.cuda()).dtype == F32
    # the wrappers are removed after the last region
    assert autocast_mode._STATE["patched"] == [] and autocast_mode._STATE["mode"] is None
    assert not hasattr(ember.exp, "_ember_autocast_plain")
    assert not hasattr(ember.Tensor.__pow__, "_ember_autocast_plain")


def test_cuda_autocast_dtypes(fake):
    assert ember.amp.is_autocast_available("cuda")
    assert ember.amp.get_autocast_dtype("cuda") == F16
    with pytest.raises(RuntimeError, match="does not support bfloat16.*switch dtype to "
                                           "float16.*CuPy"):
        ember.autocast("cuda", dtype=ember.bfloat16)
    with pytest.warns(UserWarning, match="In CUDA autocast, but the target dtype is not "
                                         "supported"):
        ctx = ember.autocast("cuda", dtype=ember.float32)
    with ctx:
        assert (_f(2, 2) @ _f(2, 2)).dtype == F32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with ember.cuda.amp.autocast():
            assert (_f(2, 2) @ _f(2, 2)).dtype == F16


def test_cuda_autocast_bans_binary_cross_entropy(fake):
    p, t = _f(3).sigmoid(), _f(3).sigmoid()
    with ember.autocast("cuda"):
        with pytest.raises(RuntimeError, match="binary_cross_entropy.*unsafe to autocast.*"
                                               "binary_cross_entropy_with_logits"):
            F.binary_cross_entropy(p, t)
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            ember.nn.BCELoss()(p, t)
        with ember.autocast("cpu"):  # CPU tensors are not banned
            assert F.binary_cross_entropy(p.cpu(), t.cpu()).dtype == F32


def test_cuda_autocast_weight_cache(fake):
    lin = ember.nn.Linear(3, 3).cuda()
    with ember.autocast("cuda"):
        lin(_f(2, 3))
        n = len(autocast_mode._TLS.cache)
        lin(_f(2, 3))
        assert n >= 1 and len(autocast_mode._TLS.cache) == n  # one cast per weight
    assert autocast_mode._TLS.cache == {}


# ============================================================================ GradScaler
def _train(device, steps, inject_inf_at=(), init_scale=2.0 ** 4, growth_interval=2):
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 1))
    net.to(device)
    opt = ember.optim.SGD(net.parameters(), lr=0.05)
    scaler = ember.amp.GradScaler(device, init_scale=init_scale,
                                  growth_interval=growth_interval)
    x = ember.linspace(-1, 1, 32).reshape(8, 4).to(device)
    y = x.sum(1, keepdim=True).sin()
    scales, losses = [], []
    for i in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        if i in inject_inf_at:
            loss = loss * float("inf")
        with np.errstate(all="ignore"):
            scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        losses.append(float(loss))
    return net, scaler, scales, losses


def test_grad_scaler_cuda_matches_cpu(fake):
    net_c, sc_c, scales_c, losses_c = _train("cpu", 8, inject_inf_at=(3,))
    net_g, sc_g, scales_g, losses_g = _train("cuda", 8, inject_inf_at=(3,))
    assert sc_g.is_enabled() and sc_g._scale.is_cuda and sc_g._growth_tracker.is_cuda
    assert scales_g == scales_c  # growth every 2 clean steps, backoff at the inf step
    assert scales_g[:5] == [16.0, 32.0, 32.0, 16.0, 16.0]
    np.testing.assert_allclose(losses_g, losses_c, rtol=1e-6)
    for a, b in zip(net_c.parameters(), net_g.parameters(), strict=True):
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), rtol=1e-6)
    assert sc_g.state_dict() == sc_c.state_dict()


def test_grad_scaler_cuda_unscale_and_skip(fake):
    p = ember.nn.Parameter(ember.ones(3, device="cuda"))
    opt = ember.optim.SGD([p], lr=1.0)
    s = ember.amp.GradScaler("cuda", init_scale=8.0)
    s.scale((p * 2).sum()).backward()
    assert p.grad.cpu().tolist() == [16.0] * 3
    s.unscale_(opt)
    assert p.grad.cpu().tolist() == [2.0] * 3
    (flag,) = s._per_optimizer_states[id(opt)]["found_inf_per_device"].values()
    assert flag.is_cuda and not bool(flag)  # the flag stays on the device
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    s.update()
    assert p.detach().cpu().tolist() == [-1.0] * 3
    opt.zero_grad()
    s.scale(p.sum() * float("nan")).backward()
    s.step(opt)  # skipped
    s.update()
    assert p.detach().cpu().tolist() == [-1.0] * 3 and s.get_scale() == 4.0
    h = ember.amp.GradScaler("cuda", init_scale=2.0)
    assert h.scale(ember.ones(2)).tolist() == [2.0, 2.0]  # CPU outputs: the scale follows
    with pytest.raises(ValueError, match="FP16"):
        q = ember.nn.Parameter(ember.ones(2, device="cuda").half())
        o = ember.optim.SGD([q], lr=1.0)
        h2 = ember.amp.GradScaler("cuda")
        h2.scale(q.float().sum()).backward()
        h2.unscale_(o)


def test_autocast_and_grad_scaler_train_on_cuda(fake):
    """The usual AMP loop (autocast forward, scaled backward) trains a model on cuda."""
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Linear(4, 16), ember.nn.ReLU(),
                              ember.nn.Linear(16, 1)).cuda()
    opt = ember.optim.Adam(net.parameters(), lr=1e-2)
    scaler = ember.amp.GradScaler("cuda")
    x = ember.randn(64, 4, device="cuda")
    y = (x[:, :1] * 2 - x[:, 1:2]).detach()
    first = None
    for _ in range(60):
        opt.zero_grad()
        with np.errstate(all="ignore"), ember.autocast("cuda"):
            loss = F.mse_loss(net(x), y)
        assert loss.dtype == F32
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        first = float(loss) if first is None else first
    assert float(loss) < 0.1 * first
    assert all(p.dtype == F32 for p in net.parameters())


def test_cpu_regions_wrap_only_the_cpu_names():
    """A CPU-only region leaves the CUDA list's extra names (exp, sum, pow, ...) unwrapped:
    no cost on those ops for CPU autocast."""
    with ember.autocast("cpu"):
        assert not hasattr(ember.exp, "_ember_autocast_plain")
        assert not hasattr(ember.Tensor.sum, "_ember_autocast_plain")
        assert hasattr(ember.cat, "_ember_autocast_plain")
        assert autocast_mode._STATE["devices"] == {"cpu"}
    assert autocast_mode._STATE["devices"] == set() and autocast_mode._STATE["patched"] == []


def test_cuda_region_with_a_cpu_scalar_tensor(fake):
    with ember.autocast("cuda"):
        # a CPU 0-d tensor beside a CUDA one: the op is a CUDA op (float32 list)
        assert ember.pow(ember.tensor(2.0), _h(3)).dtype == F32
        assert ember.addcmul(ember.tensor(1.0), _h(3), _f(3)).dtype == F32
        assert autocast_mode._STATE["devices"] == {"cuda"}


@pytest.mark.parametrize("fn", [F.dropout, F.alpha_dropout, F.dropout2d])
def test_cuda_dropout_moves_its_host_drawn_mask_to_the_device(fake, fn):
    # the mask is drawn by ember's host generator; it was multiplied into cuda data as is
    ember.manual_seed(0)
    ref = fn(ember.ones(4, 3, 5, 5), 0.4, training=True)
    ember.manual_seed(0)
    x = ember.ones(4, 3, 5, 5, device="cuda", requires_grad=True)
    y = fn(x, 0.4, training=True)
    assert y.device.type == "cuda"
    assert np.array_equal(y.cpu().detach().numpy(), ref.numpy())
    y.sum().backward()
    assert x.grad.device.type == "cuda"


def test_cuda_index_put_accumulate_runs_on_the_device(fake):
    # index_put_(accumulate=True) ran NumPy's add.at on cuda data (the backend's kernel now)
    base = ember.arange(6.0).reshape(3, 2)
    idx, v = ember.tensor([0, 0, 2]), ember.ones(3, 2)
    ref = base.clone().index_put_((idx,), v, accumulate=True)
    got = base.cuda().index_put_((idx.cuda(),), v.cuda(), accumulate=True)
    assert got.device.type == "cuda"
    assert np.array_equal(got.cpu().numpy(), ref.numpy())
