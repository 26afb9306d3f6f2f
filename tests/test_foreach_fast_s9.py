"""The foreach records' small-operand paths (issue 18): 0-dim operands on Python floats or
NumPy scalars, small same-shape operands without the scratch buffer, ``_foreach_norm``'s
ord-2 dot without the abs pass, the fused optimizers' C argument arrays.

Each path must give the bits the NumPy ufunc sequence it replaces gives (NaN payloads and
signed zeros included), so the references here are those ufunc calls on the same arrays.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

FLOATS = [np.float16, np.float32, np.float64]
SPECIAL = [0.0, -0.0, 1.5, -1.5, 2.0, 1e-3, -7.0, 3e38, -3e38, 1e-40, np.inf, -np.inf, np.nan,
           -np.nan, 65504.0, 0.1]


def _bits(a):
    a = np.asarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a


def _same_bits(got, want):
    got = got.numpy() if isinstance(got, ember.Tensor) else np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype)
    np.testing.assert_array_equal(_bits(got), _bits(want))


def _zero_dims(dtype):
    with np.errstate(all="ignore"):
        return [np.array(v, dtype) for v in SPECIAL]


# ------------------------------------------------------------------------- binary, 0-dim
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("short,ufunc", [("add", np.add), ("sub", np.subtract),
                                         ("mul", np.multiply), ("div", np.divide),
                                         ("maximum", np.maximum), ("minimum", np.minimum)])
def test_zero_dim_scalar_ops_match_numpy_bits(short, ufunc, dtype):
    xs = _zero_dims(dtype)
    with np.errstate(all="ignore"):
        for s in (1.5, -0.0, 0.0, 2, -7, 0.1, 3e38, np.inf, np.nan, 1e-3):
            want = [ufunc(x, s) for x in xs]  # the ufunc on the 0-dim array: the old path
            got = getattr(ember, f"_foreach_{short}")([ember.tensor(x) for x in xs], s)
            for g, w in zip(got, want):
                _same_bits(g, np.asarray(w, dtype))
            ts = [ember.tensor(x.copy()) for x in xs]
            getattr(ember, f"_foreach_{short}_")(ts, s)
            for t, x in zip(ts, xs):
                # (in place with out=: with two NaN operands NumPy's in-place loop keeps
                # the other NaN than the allocating one)
                w = x.copy()
                ufunc(w, s, out=w)
                _same_bits(t, w)


def test_maximum_ties_and_signed_zeros():
    # equal non-zero values: either operand, the same bits; ±0 ties: NumPy's choice
    with np.errstate(all="ignore"):
        for x, s in ((1.5, 1.5), (0.0, -0.0), (-0.0, 0.0), (-0.0, -0.0), (np.nan, 1.0),
                     (1.0, np.nan)):
            for short, uf in (("maximum", np.maximum), ("minimum", np.minimum)):
                a = np.array(x, np.float32)
                ts = [ember.tensor(a.copy())]
                getattr(ember, f"_foreach_{short}_")(ts, s)
                uf(a, s, out=a)
                _same_bits(ts[0], a)


def test_scalar_lists_per_tensor():
    xs = [np.array(2.5, np.float32), np.array(-1.0, np.float64), np.ones(3, np.float32)]
    ts = [ember.tensor(x.copy()) for x in xs]
    got = ember._foreach_maximum(ts, [3.0, -2.0, 0.5])
    for g, x, s in zip(got, xs, [3.0, -2.0, 0.5]):
        _same_bits(g, np.maximum(x, s))
    assert ember._foreach_div_(ts, [2.0, 0.0, 4.0]) is ts
    with np.errstate(all="ignore"):
        for t, x, s in zip(ts, xs, [2.0, 0.0, 4.0]):
            _same_bits(t, np.divide(x, s))


# ------------------------------------------------------------------------- unary, 0-dim
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("short", ["neg", "abs", "sqrt", "reciprocal", "sign", "exp"])
def test_zero_dim_unary_ops_match_numpy_bits(short, dtype):
    xs = _zero_dims(dtype)

    def ref(x):
        with np.errstate(all="ignore"):
            if short == "sign":
                r = np.sign(x)
                return np.where(np.isnan(x), dtype(0), r)  # sign(NaN) is 0 in PyTorch
            return getattr(np, {"neg": "negative"}.get(short, short))(x)

    got = getattr(ember, f"_foreach_{short}")([ember.tensor(x) for x in xs])
    for g, x in zip(got, xs):
        _same_bits(g, np.asarray(ref(x), dtype))
    ts = [ember.tensor(x.copy()) for x in xs]
    assert getattr(ember, f"_foreach_{short}_")(ts) is ts
    for t, x in zip(ts, xs):
        _same_bits(t, np.asarray(ref(x), dtype))


# ------------------------------------------------------------------------- pointwise, lerp
def _lists(dtype, seed, shapes=((), (7,), (3, 5), ())):
    rng = np.random.default_rng(seed)
    out = [rng.uniform(-3, 3, s).astype(dtype) for s in shapes]
    with np.errstate(all="ignore"):
        out[0][()] = dtype(SPECIAL[seed % len(SPECIAL)])
    return out


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("short,uf", [("addcmul", np.multiply), ("addcdiv", np.divide)])
@pytest.mark.parametrize("value", [1, -0.25, 3])
def test_small_pointwise_match_ufunc_sequence(short, uf, value, dtype):
    for seed in range(len(SPECIAL)):
        x, a, b = _lists(dtype, seed), _lists(dtype, seed + 100), _lists(dtype, seed + 200)
        with np.errstate(all="ignore"):
            # PyTorch's order: self + (value * t1) OP t2, in self's dtype
            want = [xi + uf(ai if value == 1 else np.multiply(ai, value), bi)
                    for xi, ai, bi in zip(x, a, b)]
            got = getattr(ember, f"_foreach_{short}")(
                [ember.tensor(v) for v in x], [ember.tensor(v) for v in a],
                [ember.tensor(v) for v in b], value)
            ts = [ember.tensor(v.copy()) for v in x]
            getattr(ember, f"_foreach_{short}_")(ts, [ember.tensor(v) for v in a],
                                                 [ember.tensor(v) for v in b], value)
        for g, t, w in zip(got, ts, want):
            _same_bits(g, np.asarray(w, dtype))
            _same_bits(t, np.asarray(w, dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("w", [0.3, 0.8, 0.5, -0.2, 0, 1])
def test_small_lerp_matches_two_sided_formula(w, dtype):
    for seed in range(len(SPECIAL)):
        x, e = _lists(dtype, seed), _lists(dtype, seed + 50)
        with np.errstate(all="ignore"):
            if abs(w) < 0.5:
                want = [xi + np.multiply(np.subtract(ei, xi), w) for xi, ei in zip(x, e)]
            else:
                want = [ei - np.multiply(np.subtract(ei, xi), 1 - w) for xi, ei in zip(x, e)]
            got = ember._foreach_lerp([ember.tensor(v) for v in x],
                                      [ember.tensor(v) for v in e], w)
            ts = [ember.tensor(v.copy()) for v in x]
            assert ember._foreach_lerp_(ts, [ember.tensor(v) for v in e], w) is ts
        for g, t, wv in zip(got, ts, want):
            _same_bits(g, np.asarray(wv, dtype))
            _same_bits(t, np.asarray(wv, dtype))


def test_mixed_dtype_operands_keep_the_general_path():
    # t1 in float64 for a float32 self: the product is taken in float64, then cast
    x = [np.array(1.0, np.float32), np.ones(3, np.float32)]
    a = [np.array(1 / 3, np.float64), np.full(3, 1 / 3)]
    b = [np.array(3.0, np.float64), np.full(3, 3.0)]
    ts = [ember.tensor(v.copy()) for v in x]
    ember._foreach_addcmul_(ts, [ember.tensor(v) for v in a], [ember.tensor(v) for v in b])
    for t, xi, ai, bi in zip(ts, x, a, b):
        tmp = np.empty_like(xi)
        np.multiply(ai, bi, out=tmp, casting="same_kind")
        _same_bits(t, xi + tmp)


# ------------------------------------------------------------------------- norm, copy, zero
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_ord2_without_abs_pass_matches_old_formula(dtype):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((), (5,), (1633,), (300, 300))]
    arrays.append(np.array([1.0, -np.nan, 2.0], dtype))  # a NaN takes the abs path
    arrays.append(np.array([-3e38, 3e38], dtype))  # overflow to inf
    arrays.append(np.array([-1e-30, 1e-30], dtype))  # underflow
    got = ember._foreach_norm([ember.tensor(a) for a in arrays])
    for g, a in zip(got, arrays):
        v = np.abs(a.reshape(-1))
        with np.errstate(all="ignore"):
            _same_bits(g, np.asarray(np.sqrt(np.dot(v, v)), dtype))


def test_copy_and_zero_small_paths():
    rng = np.random.default_rng(4)
    dst = [rng.standard_normal(s).astype(np.float32) for s in ((), (9,), (4, 4))]
    src = [rng.standard_normal(s).astype(np.float32) for s in ((), (9,), (4, 4))]
    src.append(np.arange(3, dtype=np.int64))  # a cast: copyto's path
    dst.append(np.zeros(3, np.float32))
    ts = [ember.tensor(d) for d in dst]
    assert ember._foreach_copy_(ts, [ember.tensor(s) for s in src]) is ts
    for t, s in zip(ts, src):
        _same_bits(t, s.astype(np.float32))
    v0 = ts[0]._version
    assert ember._foreach_zero_(ts) is ts
    assert ts[0]._version == v0 + 1
    for t in ts:
        _same_bits(t, np.zeros(t.shape, np.float32))


# ------------------------------------------------------------------------- lists, returns
def test_in_place_ops_return_the_given_sequence():
    ts = (ember.ones(2), ember.tensor(3.0))
    assert ember._foreach_add_(ts, 1.0) is ts
    lst = list(ts)
    assert ember._foreach_neg_(lst) is lst
    assert ember._foreach_lerp_(lst, lst, 0.5) is lst


def test_parameter_lists_and_bad_elements():
    p = ember.nn.Parameter(ember.ones(2))
    with ember.no_grad():
        assert ember._foreach_mul_([p, ember.ones(1)], 2.0)[0] is p
    np.testing.assert_array_equal(p.detach().numpy(), [2.0, 2.0])
    with pytest.raises(TypeError, match="must be a list of Tensors"):
        ember._foreach_mul_([p, 1.0], 2.0)
    with pytest.raises(RuntimeError, match="same number of tensors"):
        ember._foreach_add([p], [p, p])
    with pytest.raises(RuntimeError, match="at least one tensor"):
        ember._foreach_add([], 1.0)


def test_autograd_path_still_taken():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (y,) = ember._foreach_maximum([x], 1.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


# ------------------------------------------------------------------------- fused arrays
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernels_with_non_contiguous_state_fall_back_to_same_values(dtype):
    rng = np.random.default_rng(5)

    def lists():
        return [rng.standard_normal(s).astype(dtype) for s in ((6, 4), (5,), (1,))]

    xs, gs, ms, vs = lists(), lists(), lists(), [np.abs(v) for v in lists()]
    kw = dict(lr=0.1, beta1=0.9, beta2=0.99, weight_decay=0.01, eps=1e-8, amsgrad=False,
              maximize=False)
    steps = [ember.tensor(3.0) for _ in xs]
    a = [[ember.tensor(v.copy()) for v in lst] for lst in (xs, gs, ms, vs)]
    ember._fused_adam_(*a, [], steps, **kw)  # contiguous: the one C call
    # a transposed (Fortran-ordered) moment: shapes equal, strides not: the NumPy loop
    b = [[ember.tensor(v.copy()) for v in lst] for lst in (xs, gs, ms)]
    vt = [ember.from_numpy(np.asfortranarray(v.copy())) for v in vs]
    ember._fused_adam_(*b, vt, [], steps, **kw)
    for ta, tb in zip(a[0] + a[2] + a[3], b[0] + b[2] + vt):
        _same_bits(tb, ta.numpy())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 7, 1633, 5000])
def test_sign_small_arrays_nan_check_by_dot(n, dtype):
    # the NaN select runs only where the dot of the signs says there is a NaN
    rng = np.random.default_rng(n)
    for with_nan in (False, True):
        a = rng.standard_normal(n).astype(dtype)
        a[::3] = 0.0
        if n > 1:
            a[1] = -0.0
        if with_nan:
            a[-1] = np.nan
            a[0] = -np.nan
        want = np.where(np.isnan(a), dtype(0), np.sign(a))
        _same_bits(ember._foreach_sign([ember.tensor(a)])[0], want)
        ts = [ember.tensor(a.copy())]
        ember._foreach_sign_(ts)
        _same_bits(ts[0], want)
