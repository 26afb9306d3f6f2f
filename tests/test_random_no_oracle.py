"""Random factories and generators: ranges, reproducibility, generator state (issue 17: moved
out of tests/test_tensor.py, which skips whole without PyTorch, since they need no oracle)."""

import pytest

import ember


def test_random_ranges():
    ember.manual_seed(0)
    r = ember.randint(3, 7, (2000,))
    assert r.dtype is ember.int64 and r.min().item() == 3 and r.max().item() == 6
    assert sorted(ember.randperm(50).tolist()) == list(range(50))
    u = ember.rand(10000)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.02
    n = ember.randn(10000, dtype=ember.float64)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    c = ember.randn(10000, dtype=ember.complex128)
    assert abs((c.abs() ** 2).mean().item() - 1) < 0.05  # unit variance overall, as torch
    assert (ember.randint(-5, 0, (100,)) < 0).all()


def test_manual_seed_reproducibility():
    g = ember.manual_seed(123)
    assert isinstance(g, ember.Generator) and ember.initial_seed() == 123
    a = (ember.rand(3), ember.randn(2, 2), ember.randint(0, 100, (4,)), ember.randperm(6))
    ember.manual_seed(123)
    b = (ember.rand(3), ember.randn(2, 2), ember.randint(0, 100, (4,)), ember.randperm(6))
    for x, y in zip(a, b):
        assert ember.equal(x, y)
    assert not ember.equal(ember.rand(3), a[0])


def test_generator_objects():
    g = ember.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    x1 = ember.rand(5, generator=g)
    state = g.get_state()
    assert state.dtype is ember.uint8
    x2 = ember.rand(5, generator=g)
    g.set_state(state)
    assert ember.equal(ember.rand(5, generator=g), x2) and not ember.equal(x1, x2)
    assert ember.equal(ember.rand(5, generator=ember.Generator().manual_seed(42)), x1)
    # A private generator leaves the default stream alone.
    ember.manual_seed(7)
    ref = ember.rand(3)
    ember.manual_seed(7)
    ember.rand(3, generator=g)
    assert ember.equal(ember.rand(3), ref)
    state = ember.get_rng_state()
    y = ember.randn(3)
    ember.set_rng_state(state)
    assert ember.equal(ember.randn(3), y)
    with pytest.raises(TypeError):
        g.set_state(ember.zeros(3))
    with pytest.raises(RuntimeError):
        g.set_state(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="cuda"):
        ember.Generator(device="cuda")
