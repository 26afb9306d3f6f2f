"""The op sweep's slowest elementwise and shape ops (issue 18): their fast paths give the
NumPy path's / PyTorch's results (bit for bit where the op is exact), and non-contiguous,
small and other-dtype inputs keep the NumPy path."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember._codegen import special_c
from ember._codegen.build import compiler

needs_cc = pytest.mark.skipif(compiler()[0] is None or special_c._lib() is None,
                              reason="no C compiler, or kernels disabled")


def _ulps(got, ref):
    """Each float32 result's distance from the float64 ``ref`` in float32 ulps of ``ref``."""
    with np.errstate(over="ignore"):
        ref32 = ref.astype(np.float32)
    same = (got == ref32) | (np.isnan(got) & np.isnan(ref))  # the correctly rounded value
    got = got.astype(np.float64)
    sp = np.spacing(np.abs(ref32)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.abs(got - ref) / sp)


# ----------------------------------------------------------------------- erfc, erfinv (float32)
@needs_cc
def test_erfc_float32_within_an_ulp_of_libm_over_the_whole_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-12, 12, 20000), rng.standard_normal(20000) * 3,
                        np.linspace(9.5, 10.2, 5001), np.geomspace(1e-30, 10.1, 3000),
                        -np.geomspace(1e-30, 10.1, 3000),
                        [0.0, -0.0, 0.5, -0.5, 10.06, 10.07, 10.1, 30.0, -30.0]])
    x = x.astype(np.float32)
    got = special_c.run("erfc", x)
    ref = np.array([math.erfc(float(v)) for v in x])  # libm's double erfc
    # 0.51 ulp measured over 3M points; the subnormal tail (x > 9.3) to one subnormal unit
    assert _ulps(got, ref).max() <= 0.6
    assert np.isnan(special_c.run("erfc", np.full(64, np.nan, np.float32))).all()
    inf = special_c.run("erfc", np.tile(np.array([np.inf, -np.inf], np.float32), 32))
    assert (inf[0::2] == 0).all() and (inf[1::2] == 2).all()


@needs_cc
def test_erfinv_float32_within_an_ulp_incl_tails_and_special_values():
    sp = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-1, 1, 20000), rng.uniform(0.995, 1, 5000),
                        1 - 2.0 ** -np.arange(1, 25), -(1 - 2.0 ** -np.arange(1, 25)),
                        np.geomspace(1e-38, 0.5, 2000), [0.99663, 0.99662, -0.99663]])
    y = y.astype(np.float32)
    got = special_c.run("erfinv", y)
    assert _ulps(got, sp.erfinv(y.astype(np.float64))).max() <= 0.7  # 0.61 over 3M points
    s = np.tile(np.array([1, -1, 1.5, -2, np.nan, np.inf, 0.0, -0.0], np.float32), 8)
    r = special_c.run("erfinv", s)
    assert (r[0::8] == np.inf).all() and (r[1::8] == -np.inf).all()
    assert np.isnan(r[2::8]).all() and np.isnan(r[3::8]).all() and np.isnan(r[4::8]).all()
    assert np.isnan(r[5::8]).all() and (r[6::8] == 0).all() and not np.signbit(r[6::8]).any()
    assert np.signbit(r[7::8]).all()


@needs_cc
@pytest.mark.parametrize("n", [64, 511, 512, 513, 3000])
def test_erfinv_tail_inputs_anywhere_in_a_block(n):
    # the blocked loop recomputes a block's tail inputs (|y| >= 0.99663) in a second pass:
    # each position of first, middle and last blocks gives the one-at-a-time value
    rng = np.random.default_rng(n)
    y = rng.uniform(-0.9, 0.9, n).astype(np.float32)
    pos = np.unique(np.r_[0, n - 1, n // 2, rng.integers(0, n, 5), min(511, n - 1)])
    y[pos] = rng.choice(np.array([0.9999, -0.99999, 0.9967, 1.0, -1.0], np.float32), pos.size)
    got = special_c.run("erfinv", y)
    one = np.array([special_c.run("erfinv", np.full(64, v, np.float32))[0] for v in y])
    np.testing.assert_array_equal(got, one)
    g = rng.standard_normal(n).astype(np.float32)
    gg = special_c.run_grad("erfinv", g, y)
    onegrad = np.array([special_c.run_grad("erfinv", np.full(64, a, np.float32),
                                           np.full(64, v, np.float32))[0]
                        for a, v in zip(g, y)])
    np.testing.assert_array_equal(gg, onegrad)


@needs_cc
@pytest.mark.parametrize("name,lo,hi", [("erfc", -4.0, 4.0), ("erfinv", -0.999, 0.999)])
def test_erfc_erfinv_forward_and_gradient_match_pytorch(name, lo, hi):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.uniform(lo, hi, 100_000).astype(np.float32)
    g = rng.standard_normal(x.size).astype(np.float32)
    xe = ember.tensor(x, requires_grad=True)
    ye = getattr(ember, name)(xe)
    (ge,) = ember.autograd.grad(ye, xe, ember.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(torch, name)(xt)
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(g))
    # each within ~0.6 ulp of the true value: at most ~1 ulp apart
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1.3e-7, atol=1e-38)
    np.testing.assert_allclose(ge.numpy(), gt.numpy(), rtol=2e-6, atol=1e-30)


# ------------------------------------------------------------------------------- tile, repeat
@pytest.mark.parametrize("shape,reps", [((500, 70), (2, 1)), ((500, 70), (1, 3)),
                                        ((100, 3, 40), (2, 1, 2)), ((200, 50), (3, 2, 1)),
                                        ((300, 40), (1, 1)), ((20000,), (2,)),
                                        ((8, 4), (2, 1)), ((0, 4000), (2, 3))])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_tile_and_repeat_equal_numpy_and_never_alias(shape, reps, dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 100).astype(dtype)
    t = ember.tensor(x)
    for r in (t.tile(reps), t.repeat(*reps), t.repeat(reps)):
        np.testing.assert_array_equal(r.numpy(), np.tile(x, reps))
        assert r.dtype == t.dtype and not np.shares_memory(r._data, t._data)
    assert t.tile(reps[-1:]).shape == np.tile(x, reps[-1:]).shape


def test_repeat_non_contiguous_and_gradient():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 200)).astype(np.float32)
    tt = ember.tensor(x).t()  # non-contiguous: NumPy's tile
    np.testing.assert_array_equal(tt.repeat(2, 1).numpy(), np.tile(x.T, (2, 1)))
    leaf = ember.tensor(x, requires_grad=True)
    y = leaf.repeat(2, 3)
    g = rng.standard_normal(y.shape).astype(np.float32)
    (gx,) = ember.autograd.grad(y, leaf, ember.tensor(g))
    ref = g.reshape(2, 300, 3, 200).sum((0, 2))
    np.testing.assert_allclose(gx.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_repeat_threaded_pass_without_compiler(monkeypatch):
    # concat declines (no compiler, EMBER_JIT_DISABLE): NumPy's tile gives the result
    from ember._codegen import copy_kernels

    monkeypatch.setattr(copy_kernels, "concat", lambda arrays, dim: None)
    x = np.arange(40000, dtype=np.float32).reshape(200, 200)
    np.testing.assert_array_equal(ember.tensor(x).repeat(2, 2).numpy(), np.tile(x, (2, 2)))


# ----------------------------------------------------------------------- expand, equal fronts
@pytest.mark.parametrize("transposed", [False, True])
def test_expand_to_the_same_shape_is_a_view_with_pytorchs_node(transposed):
    x = ember.randn(4, 3)
    if transposed:
        x = x.t()
    y = x.expand(*x.shape)
    assert y.shape == x.shape and y._base is (x if x._base is None else x._base)
    assert np.shares_memory(y._data, x._data) and y._data.strides == x._data.strides
    y.add_(1)  # in place through the view: the base sees it and its version moves
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    leaf = ember.randn(2, 3, requires_grad=True)
    z = leaf.expand(2, 3)
    assert type(z.grad_fn).__name__ == "ExpandBackward0"
    (g,) = ember.autograd.grad(z.sum(), leaf)
    np.testing.assert_array_equal(g.numpy(), np.ones((2, 3), np.float32))


def test_equal_front():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((300, 400)).astype(np.float32)
    b = a.copy()
    assert ember.equal(ember.tensor(a), ember.tensor(b))
    b[-1, -1] += 1  # a late difference: the chunked scan
    assert not ember.equal(ember.tensor(a), ember.tensor(b))
    b = a.copy()
    b[0, 0] = -b[0, 0]  # the first element differs
    assert not ember.tensor(a).equal(ember.tensor(b))
    n = a.copy()
    n[0, 0] = np.nan  # NaN is unequal to itself, as PyTorch's equal
    assert not ember.equal(ember.tensor(n), ember.tensor(n.copy()))
    assert not ember.equal(ember.tensor(a), ember.tensor(a.reshape(400, 300)))
    assert ember.equal(ember.tensor(a).t(), ember.tensor(a.T.copy()))
    ints = np.arange(10000).reshape(100, 100)
    assert ember.equal(ember.tensor(ints), ember.tensor(ints.copy()))


# ------------------------------------------------------------ threaded elementwise additions
def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("name,ref", [
    ("reciprocal", lambda v: np.reciprocal(v)), ("rsqrt", lambda v: 1 / np.sqrt(v)),
    ("sqrt", np.sqrt)])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_to_float_ops_of_ints_convert_and_compute_in_one_pass(name, ref, dtype):
    rng = np.random.default_rng(6)
    x = rng.integers(-1000, 1000, 1 << 17).astype(dtype)
    x[:3] = [0, 1, -1]
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float32))  # NumPy's two passes: conversion, then the op
        got = getattr(ember, name)(ember.tensor(x))
    assert got.dtype == ember.float32
    np.testing.assert_array_equal(_bits(got.numpy()), _bits(want))
    with np.errstate(all="ignore"):
        small = getattr(ember, name)(ember.tensor(x[:100]))  # NumPy's path below the minimum
        np.testing.assert_array_equal(_bits(small.numpy()), _bits(ref(x[:100].astype(np.float32))))
    ember.set_default_dtype(ember.float64)
    try:
        with np.errstate(all="ignore"):
            got64 = getattr(ember, name)(ember.tensor(x)).numpy()
            np.testing.assert_array_equal(_bits(got64), _bits(ref(x.astype(np.float64))))
    finally:
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("decimals", [0, 1, 3, -1, -2, 12, -40])
def test_round_equals_numpy_bit_for_bit(dtype, decimals):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(1 << 18) * 300).astype(dtype)
    x[:14] = [0.5, 1.5, 2.5, -0.5, -1.5, -0.0, 0.0, np.nan, np.inf, -np.inf, -0.4, 0.4,
              0.05, -0.25]
    x[14:40] = rng.integers(-50, 50, 26) + 0.5
    t = ember.tensor(x)
    with np.errstate(all="ignore"):
        want = np.round(x, decimals)
        got = ember.round(t, decimals=decimals).numpy()
        np.testing.assert_array_equal(_bits(got), _bits(want))
        ncon = ember.round(t[::2], decimals=decimals).numpy()  # strided: NumPy's round
        np.testing.assert_array_equal(_bits(ncon), _bits(np.round(x[::2], decimals)))
    y = t.clone()
    y.round_(decimals=decimals)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_bits(y.numpy()), _bits(want))


def test_round_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(8).standard_normal(1 << 18) * 80).astype(np.float32)
    for d in (0, 1, 2, -1):
        np.testing.assert_array_equal(ember.round(ember.tensor(x), decimals=d).numpy(),
                                      torch.round(torch.tensor(x), decimals=d).numpy())


def test_exp2_float32_within_an_ulp_exact_at_integers_and_special_values():
    rng = np.random.default_rng(9)
    ints = np.arange(-152, 130)
    x = np.concatenate([rng.uniform(-160, 130, 200000), rng.uniform(-2, 2, 100000), ints,
                        ints + 0.5, [np.nan, np.inf, -np.inf, 0.0, -0.0, 127.99999, 128.0,
                                     -149.0, -149.5, -150.0, -126.5]]).astype(np.float32)
    got = ember.exp2(ember.tensor(x)).numpy()
    ref = np.exp2(x.astype(np.float64))
    assert _ulps(got, ref).max() <= 1.25  # 0.95 with FMA, 1.2 without
    k = 300000
    with np.errstate(over="ignore"):
        exact = (2.0 ** ints.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(got[k:k + ints.size], exact)
    tail = got[-11:]
    assert np.isnan(tail[0]) and tail[1] == np.inf and tail[2] == 0 and tail[3] == tail[4] == 1
    assert tail[6] == np.inf and tail[7] == 2.0 ** -149 and tail[9] == 0


def test_exp2_float64_and_gradient_unchanged():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(10).uniform(-5, 5, 1 << 17)
    np.testing.assert_array_equal(ember.exp2(ember.tensor(x)).numpy(), np.exp2(x))
    xe = ember.tensor(x.astype(np.float32), requires_grad=True)
    (g,) = ember.autograd.grad(ember.exp2(xe).sum(), xe)
    xt = torch.tensor(x.astype(np.float32), requires_grad=True)
    (gt,) = torch.autograd.grad(torch.exp2(xt).sum(), xt)
    np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=3e-7)


# -------------------------------------------------------------------------------------- pow
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integer_pow_equals_numpy_including_wraparound(dtype):
    rng = np.random.default_rng(11)
    n = 1 << 17
    a = rng.integers(-3, 4, n).astype(dtype)
    b = rng.integers(0, 4, n).astype(dtype)
    a[:4], b[:4] = [0, 0, 5, -7], [0, 3, 0, 1]  # 0 ** 0 == 1
    ta, tb = ember.tensor(a), ember.tensor(b)
    np.testing.assert_array_equal(ember.pow(ta, tb).numpy(), np.power(a, b))
    big = rng.integers(-10 ** 6, 10 ** 6, n).astype(dtype)  # products wrap modulo 2^bits
    e = rng.integers(0, 64, n).astype(dtype)
    np.testing.assert_array_equal((ember.tensor(big) ** ember.tensor(e)).numpy(),
                                  np.power(big, e))
    row = rng.integers(0, 9, 512).astype(dtype)  # a broadcast exponent
    np.testing.assert_array_equal(ember.pow(ember.tensor(big.reshape(-1, 512)),
                                            ember.tensor(row)).numpy(),
                                  np.power(big.reshape(-1, 512), row))
    for k in (0, 1, 4, 5, 13, 63, 64, 100):  # scalar exponents (64 on: NumPy's power)
        np.testing.assert_array_equal((ember.tensor(big) ** k).numpy(), np.power(big, k))
    out = ta.clone()
    out.pow_(tb)
    np.testing.assert_array_equal(out.numpy(), np.power(a, b))
    e[5] = 64  # an exponent from 64 on: NumPy's power for the whole call
    np.testing.assert_array_equal(ember.pow(ember.tensor(big), ember.tensor(e)).numpy(),
                                  np.power(big, e))


def test_integer_pow_negative_exponents_still_raise():
    a = ember.tensor(np.arange(1 << 17) % 5)
    b = ember.tensor(np.full(1 << 17, 2))
    b[7] = -1
    with pytest.raises(RuntimeError, match="negative integer powers"):
        ember.pow(a, b)
    with pytest.raises(RuntimeError, match="negative integer powers"):
        a ** -1


def test_two_to_the_float32_tensor_within_an_ulp_of_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.uniform(0.5, 2, 1 << 17), rng.uniform(-150, 130, 1 << 16),
                        [np.nan, np.inf, -np.inf, -0.0, 0.0]]).astype(np.float32)
    te, tt = ember.tensor(x), torch.tensor(x)
    want = (2.0 ** tt).numpy()
    for got in (2.0 ** te, 2 ** te, ember.pow(2.0, te), te.__rpow__(2)):
        got = got.numpy()
        assert got.dtype == np.float32
        fin = np.isfinite(want) & (want != 0)
        np.testing.assert_array_equal(got[~fin], want[~fin])
        assert (np.abs(got[fin] - want[fin]) <= np.spacing(np.abs(want[fin]))).all()
    x64 = x.astype(np.float64)  # float64: NumPy's power
    np.testing.assert_array_equal((2.0 ** ember.tensor(x64)).numpy(), np.power(2.0, x64))
    xe = ember.tensor(x[:1 << 17], requires_grad=True)
    xt = torch.tensor(x[:1 << 17], requires_grad=True)
    (ge,) = ember.autograd.grad((2 ** xe).sum(), xe)
    (gt,) = torch.autograd.grad((2 ** xt).sum(), xt)
    np.testing.assert_allclose(ge.numpy(), gt.numpy(), rtol=3e-7)


def test_log1p_float32_within_about_an_ulp_and_special_values():
    rng = np.random.default_rng(13)
    x = np.concatenate([rng.uniform(-1, 1, 200000), rng.uniform(0, 100, 50000),
                        np.geomspace(1e-30, 3e38, 20000), -np.geomspace(1e-45, 0.999999, 20000),
                        [-0.29289321, -0.29289323, 0.41421354, 0.41421357]]).astype(np.float32)
    got = ember.log1p(ember.tensor(x)).numpy()
    assert _ulps(got, np.log1p(x.astype(np.float64))).max() <= 1.1  # NumPy's own: 1.89
    s = np.tile(np.array([-1, -2, np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45], np.float32),
                1 << 14)
    with np.errstate(all="ignore"):
        r = ember.log1p(ember.tensor(s)).numpy()
    assert (r[0::8] == -np.inf).all() and np.isnan(r[1::8]).all() and (r[2::8] == np.inf).all()
    assert np.isnan(r[3::8]).all() and np.isnan(r[4::8]).all()
    assert (r[5::8] == 0).all() and not np.signbit(r[5::8]).any() and np.signbit(r[6::8]).all()
    assert (r[7::8] == np.float32(1e-45)).all()
    x64 = x.astype(np.float64)  # float64: NumPy's log1p
    np.testing.assert_array_equal(ember.log1p(ember.tensor(x64)).numpy(), np.log1p(x64))


def test_step_function_gradients_are_zeros():
    x = ember.randn(600, 500, requires_grad=True)
    g = ember.randn(600, 500)
    g[0, 0] = float("nan")  # zeros even where the incoming gradient is NaN, as PyTorch
    for f in (ember.sgn, ember.sign, ember.floor, ember.round, ember.trunc):
        (gx,) = ember.autograd.grad(f(x), x, g)
        assert gx.dtype == x.dtype and gx.shape == x.shape and not gx.numpy().any()


def test_new_paths_with_kernels_disabled():
    # EMBER_JIT_DISABLE=1: every path above falls back to NumPy with NumPy's results
    code = (
        "import ember, numpy as np\n"
        "from ember._codegen import copy_kernels\n"
        "rng = np.random.default_rng(0)\n"
        "x = (rng.standard_normal((400, 700)) * 50).astype(np.float32)\n"
        "t = ember.tensor(x)\n"
        "assert copy_kernels.concat((x, x), 0) is None\n"
        "assert np.array_equal(t.repeat(2, 1).numpy(), np.tile(x, (2, 1)))\n"
        "assert np.array_equal(ember.round(t).numpy(), np.round(x))\n"
        "assert np.array_equal(ember.round(t, decimals=2).numpy(), np.round(x, 2))\n"
        "assert np.array_equal(ember.exp2(t / 10).numpy(), np.exp2(x / np.float32(10)))\n"
        "assert np.array_equal(ember.log1p(t.abs()).numpy(), np.log1p(np.abs(x)))\n"
        "a = rng.integers(-3, 4, 300000); b = rng.integers(0, 4, 300000)\n"
        "assert np.array_equal(ember.pow(ember.tensor(a), ember.tensor(b)).numpy(),"
        " np.power(a, b))\n"
        "assert np.array_equal(ember.reciprocal(ember.tensor(b + 1)).numpy(),"
        " np.reciprocal((b + 1).astype(np.float32)))\n"
        "print('ok')\n")
    env = dict(os.environ, EMBER_JIT_DISABLE="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_broadcast_to_repeated_size_tuple_reuses_its_checks_only_when_valid():
    size = (300, 4)
    for dt in (np.float32, np.float64, np.int32):
        r = ember.tensor(np.arange(4).astype(dt))
        for _ in range(2):  # the second call takes the remembered expansion
            y = ember.broadcast_to(r, size)
            assert y.shape == size and y._data.strides == (0, r._data.itemsize)
            assert not y._data.flags.writeable and y._base is r
            np.testing.assert_array_equal(y.numpy(), np.broadcast_to(r.numpy(), size))
    with pytest.raises(RuntimeError, match="must match the existing size"):
        ember.broadcast_to(ember.zeros(3), size)  # same size object, another input shape
    with pytest.raises(TypeError, match="bool"):
        ember.broadcast_to(ember.zeros(4), (True, 4))
    leaf = ember.zeros(4, requires_grad=True)
    (g,) = ember.autograd.grad(ember.broadcast_to(leaf, size).sum(), leaf)
    np.testing.assert_array_equal(g.numpy(), np.full(4, 300, np.float32))
