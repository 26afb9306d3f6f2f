"""nn layers on the device under test against the CPU, and short training runs that must
converge (an MLP and a LeNet on synthetic data, SGD and Adam)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from test_backend_seam import LAYERS, _run_layer


def _host(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_cpu(dev, name):
    build, shape, loss = LAYERS[name]
    ref, ref_grads = _run_layer(build, shape, loss, "cpu")
    out, grads = _run_layer(build, shape, loss, dev)
    assert out.device.type == dev
    np.testing.assert_allclose(_host(out), _host(ref), rtol=2e-4, atol=1e-5)
    for (n, g), (_, gr) in zip(grads, ref_grads, strict=True):
        assert g.device.type == dev, n
        np.testing.assert_allclose(_host(g), _host(gr), rtol=2e-3, atol=1e-4, err_msg=n)


def _blobs(n, dev, seed=0):
    g = np.random.default_rng(seed)
    y = g.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    x = centers[y] + g.standard_normal((n, 2)) * 0.5
    return ember.tensor(x, dtype=ember.float32).to(dev), ember.tensor(y).to(dev)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_mlp_training_converges(dev, opt):
    ember.manual_seed(0)
    x, y = _blobs(512, dev)
    net = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.GELU(),
                        nn.Linear(64, 3)).to(dev)
    o = ember.optim.SGD(net.parameters(), lr=0.1, momentum=0.9) if opt == "sgd" else \
        ember.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        o.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        o.step()
        first = loss.item() if first is None else first
    acc = (net(x).argmax(1) == y).float().mean().item()
    assert loss.item() < 0.3 * first and acc > 0.95, (first, loss.item(), acc)
    assert all(p.device.type == dev for p in net.parameters())


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), \
            nn.Linear(84, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


def _quadrants(n, dev, seed=0):
    """28x28 noise images whose class is the bright quadrant."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 4, n)
    x = g.standard_normal((n, 1, 28, 28)).astype(np.float32) * 0.5
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        x[i, 0, r * 14:(r + 1) * 14, q * 14:(q + 1) * 14] += 1.5
    return ember.tensor(x).to(dev), ember.tensor(y).to(dev)


def test_lenet_training_converges(dev):
    ember.manual_seed(0)
    x, y = _quadrants(256, dev)
    net = LeNet().to(dev)
    o = ember.optim.Adam(net.parameters(), lr=2e-3)
    losses = []
    for step in range(60):
        i = (step * 64) % 256
        o.zero_grad()
        loss = F.cross_entropy(net(x[i:i + 64]), y[i:i + 64])
        loss.backward()
        o.step()
        losses.append(loss.item())
    net.eval()
    with ember.no_grad():
        acc = (net(x).argmax(1) == y).float().mean().item()
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]) and acc > 0.9, (losses[::10], acc)


def test_training_step_matches_cpu(dev):
    """One Adam step of a small conv net: the same parameters on both devices after it."""
    def run(d):
        ember.manual_seed(1)
        net = LeNet().to(d)
        o = ember.optim.Adam(net.parameters(), lr=1e-3)
        x, y = _quadrants(16, d, seed=3)
        for _ in range(3):
            o.zero_grad()
            F.cross_entropy(net(x), y).backward()
            o.step()
        return [p.detach().cpu().numpy() for p in net.parameters()]

    for a, b in zip(run("cpu"), run(dev), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
