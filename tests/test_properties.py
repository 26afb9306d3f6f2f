"""Property-based tests: odd shapes and values give a correct result or a clear exception."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ember  # noqa: E402

shapes = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
CLEAR = (RuntimeError, IndexError, TypeError, ValueError)


def _arr(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(shapes, shapes, st.sampled_from(["add", "sub", "mul", "div", "maximum", "atan2"]),
       st.integers(0, 10))
def test_binary_broadcasting_matches_numpy_or_raises(sa, sb, name, seed):
    a, b = _arr(sa, seed), _arr(sb, seed + 1)
    ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
           "maximum": np.maximum, "atan2": np.arctan2}[name]
    try:
        expected = ref(a, b)
    except ValueError:
        with pytest.raises(RuntimeError, match="size of tensor a"):
            getattr(ember, name)(ember.from_numpy(a), ember.from_numpy(b))
        return
    with np.errstate(all="ignore"):
        got = getattr(ember, name)(ember.from_numpy(a), ember.from_numpy(b))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(shapes, st.lists(st.integers(-4, 4), min_size=0, max_size=3), st.integers(0, 5))
def test_view_and_reshape_validate_shapes(shape, new_shape, seed):
    t = ember.from_numpy(_arr(shape, seed))
    try:
        expected = np.reshape(t.numpy(), new_shape)
    except ValueError:
        with pytest.raises(CLEAR):
            t.reshape(new_shape)
        return
    if new_shape.count(-1) > 1 or any(s < -1 for s in new_shape):
        with pytest.raises(CLEAR):
            t.reshape(new_shape)
        return
    assert t.reshape(new_shape).shape == expected.shape


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(-5, 5), st.booleans(), st.integers(0, 5))
def test_reductions_over_any_dim(shape, dim, keepdim, seed):
    a = _arr(shape, seed)
    t = ember.from_numpy(a)
    nd = max(a.ndim, 1)
    if not -nd <= dim < nd:
        with pytest.raises(IndexError, match="Dimension out of range"):
            t.sum(dim)
        return
    ax = dim % nd if a.ndim else None
    np.testing.assert_allclose(t.sum(dim, keepdim=keepdim).numpy(),
                               a.sum(axis=ax, keepdims=keepdim and a.ndim > 0), rtol=1e-5,
                               atol=1e-6)


@settings(max_examples=80, deadline=None)
@given(shapes, st.lists(st.one_of(st.integers(-4, 4), st.none(), st.just(Ellipsis),
                                  st.slices(4)), max_size=3), st.integers(0, 5))
def test_getitem_matches_numpy_or_raises(shape, key, seed):
    a = _arr(shape, seed)
    t = ember.from_numpy(a)
    key = tuple(key)
    if any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in key):
        with pytest.raises(ValueError, match="step must be greater than zero"):
            t[key]
        return
    try:
        expected = a[key]
    except IndexError:
        with pytest.raises(IndexError):
            t[key]
        return
    got = t[key]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)
