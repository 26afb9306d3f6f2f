"""grid_sample gradients in every padding mode and align_corners setting (issue 17): gradcheck
in float64 away from the kinks, and PyTorch's values on the kinks (an identity grid with
align_corners=True puts every sample exactly on a pixel and on the border)."""

import itertools

import numpy as np
import pytest

import ember
import ember.nn.functional as F

COMBOS = list(itertools.product(["zeros", "border", "reflection"], [False, True]))


def _smooth_grid(rng, shape, h, w, ac, spread):
    """Random grid points whose pixel coordinates (also after reflection) stay off integers,
    so finite differences do not straddle a kink of bilinear interpolation."""
    g = rng.uniform(-spread, spread, shape)
    for k, size in ((0, w), (1, h)):
        pix = (g[..., k] + 1) * (size - 1) / 2 if ac else ((g[..., k] + 1) * size - 1) / 2
        frac = pix - np.round(pix)
        bad = np.abs(frac) < 0.05
        pix = np.where(bad, pix + 0.25, pix)
        g[..., k] = pix * 2 / (size - 1) - 1 if ac else (2 * pix + 1) / size - 1
    return g


@pytest.mark.parametrize("padding_mode,align_corners", COMBOS)
def test_gradcheck_every_mode(padding_mode, align_corners):
    rng = np.random.default_rng(hash((padding_mode, align_corners)) % 2**32)
    x = ember.tensor(rng.standard_normal((2, 2, 4, 5)), requires_grad=True)
    g = ember.tensor(_smooth_grid(rng, (2, 3, 3, 2), 4, 5, align_corners, 1.6),
                     requires_grad=True)

    def f(inp, grid):
        return F.grid_sample(inp, grid, padding_mode=padding_mode, align_corners=align_corners)

    assert ember.autograd.gradcheck(f, (x, g), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("padding_mode,align_corners", COMBOS)
@pytest.mark.parametrize("grid_kind", ["identity", "random", "far"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_matches_pytorch_including_kinks(padding_mode, align_corners, grid_kind, mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    inp = rng.standard_normal((2, 3, 5, 6))
    if grid_kind == "identity":
        theta = torch.eye(2, 3, dtype=torch.float64)[None].repeat(2, 1, 1)
        grid = torch.nn.functional.affine_grid(theta, (2, 3, 5, 6),
                                               align_corners=align_corners).numpy()
    else:
        grid = rng.uniform(*((-1.2, 1.2) if grid_kind == "random" else (-3.5, 3.5)),
                           (2, 4, 3, 2))
    results = []
    for lib, fn in ((ember, F.grid_sample), (torch, torch.nn.functional.grid_sample)):
        x = lib.tensor(inp, requires_grad=True)
        g = lib.tensor(grid, requires_grad=True)
        y = fn(x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
        weights = lib.tensor(np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape)))
        (y * weights).sum().backward()
        results.append([y.detach().numpy(), x.grad.numpy(), g.grad.numpy()])
    for name, a, b in zip(("output", "input grad", "grid grad"), *results):
        np.testing.assert_allclose(a, b, atol=1e-10, err_msg=name)


def test_float32_identity_grid_grad_matches_pytorch():
    # The report: align_corners=True at the identity grid, float32.
    torch = pytest.importorskip("torch")
    inp = np.random.default_rng(3).standard_normal((1, 1, 4, 4)).astype(np.float32)
    for pm in ("border", "reflection"):
        grads = []
        for lib, fn in ((ember, F.affine_grid), (torch, torch.nn.functional.affine_grid)):
            theta = lib.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], requires_grad=True)
            grid = fn(theta, (1, 1, 4, 4), align_corners=True)
            F_ = F if lib is ember else torch.nn.functional
            y = F_.grid_sample(lib.tensor(inp), grid, padding_mode=pm, align_corners=True)
            (y * lib.arange(16.0).reshape(1, 1, 4, 4)).sum().backward()
            grads.append(theta.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-4)
