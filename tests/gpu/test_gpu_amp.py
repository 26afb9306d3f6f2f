"""Mixed precision on the GPU: ``autocast("cuda", dtype=float16)`` and ``GradScaler("cuda")``.

In a dry run (``dev`` is "cpu") the same code runs under ``autocast("cpu", float16)``, whose
lists differ; the assertions that depend on the list say which device they expect.
"""

from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F


def test_autocast_dtypes_on_device(dev):
    a = ember.randn(8, 16, device=dev)
    b = ember.randn(16, 4, device=dev)
    with ember.autocast(dev, dtype=ember.float16):
        y = a @ b
        assert y.dtype == ember.float16 and y.device.type == dev
        conv = F.conv2d(ember.randn(2, 3, 8, 8, device=dev), ember.randn(4, 3, 3, 3,
                                                                            device=dev))
        assert conv.dtype == ember.float16
        s = F.softmax(y, dim=-1)
        ln = F.layer_norm(y, (4,))
        e = y.exp()
        if dev == "cuda":  # PyTorch's CUDA float32 list
            assert s.dtype == ln.dtype == e.dtype == ember.float32
    ref = (a @ b).cpu().numpy()
    np.testing.assert_allclose(y.float().cpu().numpy(), ref, rtol=2e-2, atol=2e-2)


def test_amp_training_converges(dev):
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Linear(16, 64), ember.nn.ReLU(),
                              ember.nn.Linear(64, 1)).to(dev)
    opt = ember.optim.Adam(net.parameters(), lr=3e-3)
    scaler = ember.amp.GradScaler(dev)
    x = ember.randn(256, 16, device=dev)
    y = (x[:, :1] * 2 - x[:, 1:2]).detach()
    losses = []
    for _ in range(150):
        opt.zero_grad()
        with ember.autocast(dev, dtype=ember.float16):
            loss = F.mse_loss(net(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(float(loss))
    assert losses[-1] < 0.05 * losses[0], losses[::30]
    assert all(p.dtype == ember.float32 and p.device.type == dev for p in net.parameters())


def test_grad_scaler_skips_inf_steps(dev):
    p = ember.nn.Parameter(ember.ones(4, device=dev))
    opt = ember.optim.SGD([p], lr=1.0)
    s = ember.amp.GradScaler(dev, init_scale=1024.0)
    s.scale((p * p).sum() * float("inf")).backward()
    s.step(opt)
    s.update()
    assert p.detach().cpu().tolist() == [1.0] * 4 and s.get_scale() == 512.0
    opt.zero_grad()
    s.scale((p * 3).sum()).backward()
    s.unscale_(opt)
    assert p.grad.cpu().tolist() == [3.0] * 4
    s.step(opt)
    s.update()
    assert p.detach().cpu().tolist() == [-2.0] * 4
