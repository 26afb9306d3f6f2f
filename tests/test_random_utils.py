"""Random samplers (statistics), generators, fork_rng, finfo/iinfo and testing.assert_close."""

import math

import numpy as np
import pytest

import ember
from ember.testing import assert_close

try:
    import torch
except ImportError:
    torch = None

N = 20000


def _mean_close(x, mean, var):
    """The sample mean lies within 5 standard errors of the true mean."""
    m = float(x.double().mean())
    assert abs(m - mean) < 5 * math.sqrt(var / x.numel()), (m, mean)


@pytest.mark.parametrize("name,args,mean,var", [
    ("uniform_", (2.0, 5.0), 3.5, 9 / 12),
    ("normal_", (1.0, 2.0), 1.0, 4.0),
    ("exponential_", (2.0,), 0.5, 0.25),
    ("geometric_", (0.25,), 4.0, 0.75 / 0.0625),
    ("log_normal_", (0.0, 0.5), math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)),
    ("bernoulli_", (0.3,), 0.3, 0.21),
])
def test_inplace_samplers_statistics(name, args, mean, var):
    ember.manual_seed(1)
    x = getattr(ember.empty(N, dtype=ember.float64), name)(*args)
    _mean_close(x, mean, var)


def test_cauchy_median_and_poisson_and_multinomial():
    ember.manual_seed(2)
    c = ember.empty(N).cauchy_(3.0, 0.5)
    assert abs(float(c.median()) - 3.0) < 0.05
    p = ember.poisson(ember.full((N,), 4.0))
    _mean_close(p, 4.0, 4.0)
    probs = ember.tensor([0.1, 0.6, 0.3])
    s = ember.multinomial(probs, N, replacement=True)
    freq = ember.bincount(s, minlength=3).double() / N
    np.testing.assert_allclose(freq.numpy(), [0.1, 0.6, 0.3], atol=0.02)
    w = ember.multinomial(probs, 3)
    assert sorted(w.tolist()) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        ember.multinomial(probs, 4)


def test_seeding_generators_and_fork_rng():
    ember.manual_seed(7)
    a = ember.randn(5)
    ember.manual_seed(7)
    assert ember.randn(5).tolist() == a.tolist()
    g = ember.Generator().manual_seed(3)
    state = g.get_state()
    x = ember.rand(4, generator=g)
    g.set_state(state)
    assert ember.rand(4, generator=g).tolist() == x.tolist()
    with ember.random.fork_rng():
        inside = ember.rand(3)
    assert ember.rand(3).tolist() == inside.tolist()
    s = ember.get_rng_state()
    y = ember.rand(2)
    ember.set_rng_state(s)
    assert ember.rand(2).tolist() == y.tolist()


@pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo_matches_torch(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ("eps", "max", "min", "tiny", "resolution", "bits"):
        assert getattr(e, attr) == getattr(t, attr), attr


@pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")
@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (e.min, e.max, e.bits) == (t.min, t.max, t.bits)


def test_finfo_values_without_torch():
    assert ember.finfo(ember.float32).eps == 2.0 ** -23
    assert ember.iinfo(ember.int8).min == -128
    with pytest.raises(TypeError):
        ember.finfo(ember.int32)


def test_assert_close():
    assert_close(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-6]))
    assert_close({"a": [ember.ones(2)]}, {"a": [ember.ones(2)]})
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):
        assert_close(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.5]))
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(ember.ones(2), ember.ones(2, dtype=ember.float64))
    with pytest.raises(AssertionError, match="shape"):
        assert_close(ember.ones(2), ember.ones(3))
    assert_close(ember.tensor([float("nan")]), ember.tensor([float("nan")]), equal_nan=True)


def test_set_num_threads_limits_blas():
    pytest.importorskip("threadpoolctl")
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
    finally:
        ember.set_num_threads(before)
    with pytest.raises(RuntimeError, match="positive integer"):
        ember.set_num_threads(0)
