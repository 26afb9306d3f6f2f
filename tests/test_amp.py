"""ember.amp: autocast on the CPU (PyTorch's op lists, checked against PyTorch's output
dtypes), nesting, the decorator, the cast cache, custom_fwd/custom_bwd, GradScaler's
scaling logic, and bfloat16 training that converges like float32."""

import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

BF = ember.bfloat16

# op name -> f(module, functional, a) with a a (2, 3, 3) float32 tensor
CASES = {
    "mm": lambda m, F, a: m.mm(a[0], a[0]),
    "bmm": lambda m, F, a: m.bmm(a, a),
    "matmul": lambda m, F, a: a @ a,
    "addmm": lambda m, F, a: m.addmm(a[0], a[0], a[0]),
    "baddbmm": lambda m, F, a: m.baddbmm(a, a, a),
    "addbmm": lambda m, F, a: m.addbmm(a[0], a, a),
    "linear": lambda m, F, a: F.linear(a, a[0], a[0, 0]),
    "linalg_vecdot": lambda m, F, a: m.linalg.vecdot(a, a),
    "prelu": lambda m, F, a: F.prelu(a, a[0, 0, :1]),
    "conv1d": lambda m, F, a: F.conv1d(a, a),
    "conv2d": lambda m, F, a: F.conv2d(a[None], a[None, :, :2, :2]),
    "conv_transpose1d": lambda m, F, a: F.conv_transpose1d(a, a.permute(1, 0, 2)),
    "scaled_dot_product_attention": lambda m, F, a: F.scaled_dot_product_attention(a, a, a),
    "einsum": lambda m, F, a: m.einsum("bij,bjk->bik", a, a),
    "tensordot": lambda m, F, a: m.tensordot(a, a[0], 1),
    "mv": lambda m, F, a: m.mv(a[0], a[0, 0]),
    "dot": lambda m, F, a: m.dot(a[0, 0], a[0, 0]),
    "outer": lambda m, F, a: m.outer(a[0, 0], a[0, 0]),
    "mse_loss": lambda m, F, a: F.mse_loss(a.bfloat16(), a.bfloat16()),
    "l1_loss": lambda m, F, a: F.l1_loss(a.bfloat16(), a.bfloat16()),
    "cross_entropy": lambda m, F, a: F.cross_entropy(a[0].bfloat16(), m.tensor([0, 1, 2])),
    "nll_loss": lambda m, F, a: F.nll_loss(a[0].bfloat16(), m.tensor([0, 1, 2])),
    "prod": lambda m, F, a: a.bfloat16().prod(),
    "cdist": lambda m, F, a: m.cdist(a.bfloat16(), a.bfloat16()),
    "inverse": lambda m, F, a: m.inverse(a.bfloat16()),
    "kl_div": lambda m, F, a: F.kl_div(a.bfloat16(), a.bfloat16(), reduction="sum"),
    "bce_with_logits": lambda m, F, a: F.binary_cross_entropy_with_logits(
        a.bfloat16(), a.sigmoid().bfloat16()),
    "smooth_l1_loss": lambda m, F, a: F.smooth_l1_loss(a.bfloat16(), a.bfloat16()),
    "huber_loss": lambda m, F, a: F.huber_loss(a.bfloat16(), a.bfloat16()),
    "cat": lambda m, F, a: m.cat([a, a.bfloat16()]),
    "stack": lambda m, F, a: m.stack([a, a.bfloat16()]),
    "index_copy": lambda m, F, a: a[0].index_copy(0, m.tensor([0]), a[0, :1].bfloat16()),
    "exp": lambda m, F, a: a.bfloat16().exp(),
    "sum": lambda m, F, a: a.bfloat16().sum(),
    "softmax": lambda m, F, a: F.softmax(a.bfloat16(), -1),
    "relu": lambda m, F, a: F.relu(a.bfloat16()),
    "fft": lambda m, F, a: m.fft.fft(a.bfloat16()),
    "add_fp32": lambda m, F, a: a + a,
    "float64_matmul": lambda m, F, a: a.double() @ a.double(),
    "lstm": lambda m, F, a: (m.manual_seed(0), m.nn.LSTM(3, 3)(a))[1][0],
    "gru": lambda m, F, a: (m.manual_seed(0), m.nn.GRU(3, 3)(a))[1][0],
    "multihead_attention": lambda m, F, a: (m.manual_seed(0),
                                            m.nn.MultiheadAttention(3, 1)(a, a, a))[1][0],
    "max_pool2d": lambda m, F, a: F.max_pool2d(a[None].bfloat16(), 2),
    "conv2d_module": lambda m, F, a: (m.manual_seed(0), m.nn.Conv2d(2, 2, 2)(a[None]))[1],
    "linear_module": lambda m, F, a: (m.manual_seed(0), m.nn.Linear(3, 2)(a))[1],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_dtype_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    f = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autocast("cpu", dtype=BF):
            got = f(ember, F, ember.tensor(x))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            want = f(torch, torch.nn.functional, torch.tensor(x))
    assert str(got.dtype) == str(want.dtype), name


def test_lower_precision_values_are_rounded_products():
    a = ember.randn(8, 8)
    with ember.autocast("cpu"):
        y = a @ a
    ref = (a.bfloat16().float() @ a.bfloat16().float()).bfloat16()
    assert y.dtype == BF
    assert ember.equal(y.float(), ref.float())


def test_outside_and_disabled_regions_leave_dtypes_alone():
    a = ember.randn(3, 3)
    assert (a @ a).dtype == ember.float32
    with ember.autocast("cpu", enabled=False):
        assert (a @ a).dtype == ember.float32
    with ember.autocast("cpu"):
        with ember.autocast("cpu", enabled=False):
            assert (a @ a).dtype == ember.float32
            assert not ember.amp.is_autocast_enabled("cpu")
        assert (a @ a).dtype == BF
        assert ember.is_autocast_enabled("cpu")
    assert (a @ a).dtype == ember.float32
    assert ember.addmm is ember.addmm and not hasattr(ember.addmm, "_ember_autocast_plain")


def test_spellings_decorator_and_float16():
    a = ember.randn(2, 2)

    @ember.amp.autocast(device_type="cpu")
    def f(x):
        return x @ x

    assert f(a).dtype == BF
    with pytest.warns(FutureWarning, match="torch.amp.autocast"):
        ctx = ember.cpu.amp.autocast()
    with ctx:
        assert (a @ a).dtype == BF
    with ember.autocast("cpu", dtype=ember.float16):
        assert (a @ a).dtype == ember.float16
        assert ember.get_autocast_dtype("cpu") == ember.float16
    assert ember.amp.is_autocast_available("cpu")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        ctx = ember.autocast("cpu", dtype=ember.float64)
    with ctx:
        assert (a @ a).dtype == ember.float32
    with pytest.raises(ValueError, match="device_type"):
        ember.autocast(0)


def test_gradients_reach_float32_weights_in_float32():
    lin = nn.Linear(4, 3)
    x = ember.randn(5, 4)
    with ember.autocast("cpu"):
        y = lin(x)
        loss = F.cross_entropy(y, ember.tensor([0, 1, 2, 0, 1]))
    assert y.dtype == BF and loss.dtype == ember.float32
    loss.backward()
    assert lin.weight.grad.dtype == ember.float32
    assert lin.weight.grad.abs().sum().item() > 0


def test_cache_enabled_casts_each_weight_once():
    from ember.amp import autocast_mode as A

    w = ember.randn(3, 3, requires_grad=True)
    x = ember.randn(3, 3)
    with ember.autocast("cpu"):
        y1 = x @ w
        y2 = x @ w
        assert len(A._TLS.cache) == 1
        assert ember.equal(y1, y2)
    assert A._TLS.cache == {}
    with ember.autocast("cpu", cache_enabled=False):
        x @ w
        assert A._TLS.cache == {}


def test_autocast_state_is_per_thread():
    import threading

    a = ember.randn(3, 3)
    seen = {}
    with ember.autocast("cpu"):
        t = threading.Thread(target=lambda: seen.update(d=(a @ a).dtype))
        t.start()
        t.join()
        assert (a @ a).dtype == BF
    assert seen["d"] == ember.float32


def test_custom_fwd_casts_and_custom_bwd_restores_state():
    seen = {}

    class Mul(ember.autograd.Function):
        @staticmethod
        @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
        def forward(ctx, x):
            seen["fwd"] = (x.dtype, ember.amp.is_autocast_enabled("cpu"))
            return x * 2

        @staticmethod
        @ember.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd"] = ember.amp.is_autocast_enabled("cpu")
            return g * 2

    x = ember.ones(2, dtype=BF, requires_grad=True)
    with ember.autocast("cpu"):
        y = Mul.apply(x)
    assert y.dtype == ember.float32 and seen["fwd"] == (ember.float32, False)
    y.sum().backward()
    assert seen["bwd"] is False  # forward ran with autocast off (cast_inputs given)

    class Keep(ember.autograd.Function):
        @staticmethod
        @ember.amp.custom_fwd(device_type="cpu")
        def forward(ctx, x):
            return x * 1

        @staticmethod
        @ember.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd2"] = ember.amp.is_autocast_enabled("cpu")
            return g

    with ember.autocast("cpu"):
        z = Keep.apply(ember.ones(2, requires_grad=True))
    z.sum().backward()
    assert seen["bwd2"] is True  # backward runs with the forward's autocast state


# ---------------------------------------------------------------------- GradScaler
def test_grad_scaler_skips_inf_steps_backs_off_and_grows():
    p = nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    s = ember.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    s.scale((p * 3).sum()).backward()
    assert p.grad.tolist() == [24.0, 24.0]  # scaled gradients
    s.step(opt)  # unscales to 3.0 and steps
    assert np.allclose(p.detach().numpy(), 1 - 0.1 * 3.0)
    s.update()
    assert s.get_scale() == 8.0 and s._get_growth_tracker() == 1
    opt.zero_grad()
    s.scale((p * float("inf")).sum()).backward()
    before = p.detach().clone()
    assert s.step(opt) is None
    assert ember.equal(p.detach(), before)  # skipped
    s.update()
    assert s.get_scale() == 4.0 and s._get_growth_tracker() == 0  # backed off
    for _ in range(2):
        opt.zero_grad()
        s.scale(p.sum()).backward()
        s.step(opt)
        s.update()
    assert s.get_scale() == 8.0  # grew after growth_interval clean steps
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        opt.zero_grad()
        s.scale(p.sum()).backward()
        s.unscale_(opt)
        s.unscale_(opt)


def test_grad_scaler_matches_pytorch_trajectory():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(3).astype(np.float32)
    scales = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.tensor(w0.copy()))
        opt = lib.optim.SGD([p], lr=0.05)
        s = lib.amp.GradScaler("cpu", init_scale=4.0, growth_interval=3, backoff_factor=0.25)
        trace = []
        for i in range(8):
            opt.zero_grad()
            mult = float("inf") if i in (2, 5) else 1.0
            s.scale((p * p).sum() * mult).backward()
            s.step(opt)
            s.update()
            trace.append((s.get_scale(), p.detach().numpy().copy()))
        scales.append(trace)
    for (se, pe), (st, pt) in zip(*scales):
        assert se == st
        np.testing.assert_allclose(pe, pt, rtol=1e-6)


# ---------------------------------------------------------------------- training
def _train(model, xs, ys, amp, steps=60, lr=0.1):
    opt = ember.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        with ember.autocast("cpu", dtype=BF, enabled=amp):
            loss = F.cross_entropy(model(xs), ys)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _blobs(n, d, k, seed):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((k, d)) * 3
    y = rng.integers(0, k, n)
    x = centers[y] + rng.standard_normal((n, d))
    return ember.tensor(x.astype(np.float32)), ember.tensor(y)


@pytest.mark.parametrize("kind", ["mlp", "lenet"])
def test_bfloat16_training_converges_like_float32(kind):
    results = {}
    for amp in (False, True):
        ember.manual_seed(0)
        if kind == "mlp":
            xs, ys = _blobs(128, 10, 4, 0)
            model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4))
        else:
            x, ys = _blobs(64, 1, 3, 1)
            rng = np.random.default_rng(2)
            patt = rng.standard_normal((3, 1, 12, 12)).astype(np.float32)
            xs = ember.tensor(patt)[ys] + 0.3 * ember.randn(64, 1, 12, 12)
            model = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(6, 8, 3), nn.ReLU(), nn.Flatten(),
                                  nn.Linear(8 * 3 * 3, 3))
        results[amp] = _train(model, xs, ys, amp, steps=40 if kind == "lenet" else 60,
                              lr=0.05 if kind == "lenet" else 0.1)
    f32, bf = results[False], results[True]
    assert bf[-1] < 0.25 * bf[0] and bf[-1] < 0.3, bf[::10]
    assert abs(bf[-1] - f32[-1]) < 0.1 + 0.5 * f32[-1], (f32[-1], bf[-1])
