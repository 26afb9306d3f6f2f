"""erfc and erfinv C kernels (NOTE [ erfc and erfinv kernels ]): the kernel path, above its
size threshold, against libm/SciPy, against the backend path, on special values, and with
the kernels disabled."""

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember
from ember._codegen import special_c
from ember._codegen.build import compiler

needs_cc = pytest.mark.skipif(compiler()[0] is None or special_c._lib() is None,
                              reason="no C compiler, or kernels disabled")

N = special_c.MIN_SIZE  # the kernels run from this size on
_SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.4999999,
            0.5000001, 1.5, -2.0, 5e-324, 1e-300, 10.0, 10.06, 26.0, 27.0, 30.0, -30.0]


def _tiled(vals, dtype):
    """``vals`` repeated to at least N elements (so the kernel runs), as ``dtype``."""
    a = np.array(vals, dtype=dtype)
    return np.tile(a, N // a.size + 1)


def _ulps(got, ref, dtype):
    """The largest difference in units of the last place of ``ref`` (dtype's spacing)."""
    got = got.astype(np.float64)
    ref = ref.astype(np.float64)
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    sp = np.spacing(np.abs(ref).astype(dtype)).astype(np.float64)
    d = np.where(same, 0.0, np.abs(got - ref) / sp)
    return float(d.max())


def _erfc_ref(x):
    return np.array([math.erfc(float(v)) for v in x.ravel()]).reshape(x.shape)


@needs_cc
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1.0), (np.float64, 8.0)])
def test_erfc_kernel_accuracy(dtype, tol):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(N) * 3, rng.uniform(-7, 28, N),
                        np.geomspace(1e-30, 26.5, N), -np.geomspace(1e-30, 7, N)])
    x = x.astype(dtype)
    got = special_c.run("erfc", x)
    assert got is not None and got.dtype == dtype
    ref = _erfc_ref(x).astype(dtype)  # libm's double erfc, rounded: within half an ulp
    normal = np.abs(ref) >= np.finfo(dtype).tiny
    assert _ulps(got[normal], ref[normal], dtype) <= tol


@needs_cc
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erfc_kernel_special_values(dtype):
    x = _tiled(_SPECIAL, dtype)
    got = special_c.run("erfc", x)
    ref = _erfc_ref(x).astype(dtype)
    assert np.isnan(got[0]) and got[1] == 0.0 and got[2] == 2.0
    assert (got[3:5] == 1.0).all()
    # subnormal tail (float64 x = 27): libm's value to a relative 1e-3 (few bits left there)
    np.testing.assert_allclose(got[5:], ref[5:], rtol=1e-3 if dtype == np.float64 else 2e-7,
                               atol=0)
    assert (got[x == 30.0] == 0.0).all() and (got[x == -30.0] == 2.0).all()


@needs_cc
def test_erfinv_kernel_accuracy_and_inverse():
    sp = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-1, 1, 4 * N), 1 - np.geomspace(6e-8, 0.5, N),
                        -1 + np.geomspace(6e-8, 0.5, N), np.geomspace(1e-38, 0.5, N)])
    y = y.astype(np.float32)
    y = y[np.abs(y) < 1]
    got = special_c.run("erfinv", y)
    ref = sp.erfinv(y.astype(np.float64)).astype(np.float32)
    assert _ulps(got, ref, np.float32) <= 1.0


@needs_cc
def test_erfinv_kernel_inverse_without_scipy():
    # erf(erfinv(y)) == y, through libm's erf in double, away from the flat tails
    y = np.linspace(-0.999, 0.999, 3 * N).astype(np.float32)
    x = special_c.run("erfinv", y).astype(np.float64)
    back = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(back, y.astype(np.float64), rtol=3e-7, atol=1e-7)


@needs_cc
def test_erfinv_kernel_special_values_and_float64_left_to_backend():
    y = _tiled([math.nan, 1.0, -1.0, 0.0, -0.0, 1.5, -2.0, math.inf, 1e-40, -1e-30], np.float32)
    got = special_c.run("erfinv", y)
    assert np.isnan(got[0]) and got[1] == math.inf and got[2] == -math.inf
    assert got[3] == 0.0 and not np.signbit(got[3]) and got[4] == 0.0 and np.signbit(got[4])
    assert np.isnan(got[5:8]).all()
    np.testing.assert_allclose(got[8:10], np.array([1e-40, -1e-30], np.float32)
                               * math.sqrt(math.pi) / 2, rtol=1e-6)
    assert special_c.run("erfinv", y.astype(np.float64)) is None  # SciPy's is faster


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_ops_large_match_backend(dtype):
    # ember.erfc/erfinv above the threshold (kernel where it runs) against the backend path
    from ember._backends import KERNELS as B

    g = ember.Generator().manual_seed(3)
    x = ember.randn(2 * N, generator=g, dtype=dtype) * 3
    u = ember.rand(2 * N, generator=g, dtype=dtype) * 2 - 1
    # an ulp or two for float32 (both round a double result); a few for float64 (SciPy's
    # Cephes routine and this kernel are both a few ulps from the true value)
    rt = 3e-7 if dtype == ember.float32 else 3e-14
    np.testing.assert_allclose(ember.erfc(x).numpy(), B.erfc(x.numpy()), rtol=rt, atol=0)
    np.testing.assert_allclose(ember.erfinv(u).numpy(), B.erfinv(u.numpy()), rtol=rt,
                               atol=1e-30)
    # the gradients still follow the records' formulas
    x.requires_grad_(True)
    ember.erfc(x).sum().backward()
    xd = x.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(x.grad.numpy(), -2 / math.sqrt(math.pi) * np.exp(-xd * xd),
                               rtol=1e-5 if dtype == ember.float32 else 1e-12, atol=1e-30)


def test_ops_with_kernels_disabled():
    # EMBER_JIT_DISABLE=1: the backend path runs and gives the same values
    code = (
        "import ember, numpy as np, math\n"
        "from ember._codegen import special_c\n"
        "x = np.linspace(-5, 5, 9000).astype(np.float32)\n"
        "assert special_c.run('erfc', x) is None\n"
        "y = ember.erfc(ember.tensor(x)).numpy()\n"
        "ref = np.array([math.erfc(float(v)) for v in x], dtype=np.float32)\n"
        "np.testing.assert_allclose(y, ref, rtol=2e-6, atol=0)\n"
        "u = np.linspace(-0.99, 0.99, 9000).astype(np.float32)\n"
        "z = ember.erfinv(ember.tensor(u)).numpy().astype(np.float64)\n"
        "back = np.array([math.erf(v) for v in z])\n"
        "np.testing.assert_allclose(back, u, rtol=2e-6, atol=1e-7)\n"
        "print('ok')\n")
    env = dict(os.environ, EMBER_JIT_DISABLE="1")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(3 * N) * 3).astype(np.float32)
    u = rng.uniform(-1, 1, 3 * N).astype(np.float32)
    np.testing.assert_allclose(ember.erfc(ember.tensor(x)).numpy(),
                               torch.erfc(torch.tensor(x)).numpy(), rtol=3e-6, atol=1e-38)
    np.testing.assert_allclose(ember.erfinv(ember.tensor(u)).numpy(),
                               torch.erfinv(torch.tensor(u)).numpy(), rtol=3e-6, atol=1e-38)


# ------------------------------------------------------------------ in-place binary ops
# NOTE [ In-place binary ops write directly ]
_VALS = [0.0, -0.0, 1.0, -1.5, math.inf, -math.inf, math.nan, 3e38, 1e-45, 2.5]


def _pairs(dtype):
    v = np.array(_VALS, dtype=dtype)
    a = np.repeat(v, len(v))
    b = np.tile(v, len(v))
    return a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_inplace_direct_matches_out_of_place(name, dtype):
    a, b = _pairs(dtype)
    with np.errstate(all="ignore"):
        for other in (ember.tensor(b), ember.tensor(b[7]), 2.5, -3, 0.0):
            x = ember.tensor(a)
            ptr = x.data_ptr()
            v0 = x._version
            ref = getattr(ember, name)(ember.tensor(a), other)
            r = getattr(x, name + "_")(other)
            assert r is x and x.data_ptr() == ptr and x._version == v0 + 1
            assert x.dtype == ref.dtype
            got, want = x.numpy(), ref.numpy()
            assert np.array_equal(got, want, equal_nan=True)
            assert np.array_equal(np.signbit(got), np.signbit(want))


def test_inplace_direct_views_overlap_and_fallbacks():
    base = ember.zeros(4, 3)
    base[1].add_(ember.ones(3))  # a view: written through to the base
    assert base.sum().item() == 3.0
    x = ember.tensor([1.0, 2.0, 3.0, 4.0])
    x[1:].add_(x[:-1])  # overlapping operands: NumPy buffers, as the copying path did
    assert x.tolist() == [1.0, 3.0, 5.0, 7.0]
    y = ember.ones(3, 4)
    y.add_(ember.arange(4.0))  # broadcast other: the general path
    assert y[2].tolist() == [1.0, 2.0, 3.0, 4.0]
    z = ember.ones(3, dtype=ember.float32)
    z.mul_(ember.tensor(2.0, dtype=ember.float64))  # other dtype: the general path
    assert z.dtype == ember.float32 and z.tolist() == [2.0, 2.0, 2.0]
    i = ember.tensor([1, 2, 3])
    i.add_(2)  # integers: the general path
    assert i.tolist() == [3, 4, 5] and i.dtype == ember.int64
    e = ember.ones(1).expand(3)
    with pytest.raises(RuntimeError, match="add_"):
        e.add_(1.0)
    big = ember.ones(2, dtype=ember.float32)
    big.add_(1 << 40)  # an int outside the direct path's range: the general path's rounding
    assert big.tolist() == [float(np.float32(1 << 40) + np.float32(1))] * 2


def test_inplace_direct_with_grad_still_records():
    w = ember.ones(3, requires_grad=True)
    x = w * 2
    x.mul_(ember.tensor([1.0, 2.0, 3.0]))
    x.sum().backward()
    assert w.grad.tolist() == [2.0, 4.0, 6.0]
    p = ember.ones(3, requires_grad=True)
    with ember.no_grad():
        p.sub_(0.5)  # the optimizer's case: no graph, direct write
    assert p.tolist() == [0.5, 0.5, 0.5] and p.requires_grad


def test_inplace_direct_against_torch():
    torch = pytest.importorskip("torch")
    a, b = _pairs(np.float32)
    with np.errstate(all="ignore"):
        for name in ("add", "sub", "mul", "div"):
            x, tx = ember.tensor(a), torch.tensor(a)
            getattr(x, name + "_")(ember.tensor(b))
            getattr(tx, name + "_")(torch.tensor(b))
            assert np.array_equal(x.numpy(), tx.numpy(), equal_nan=True), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [40, 3 * N])  # the NumPy path and the kernel path
@pytest.mark.parametrize("bounds", [(-1.0, 2.0), (None, 0.0), (-0.0, None), (0.0, -0.0),
                                    (math.nan, 1.0), (3.0, -3.0), (-1, 1)])
def test_clamp_inplace_direct(dtype, size, bounds):
    vals = np.array(_VALS + [-2.0, 0.5], dtype=dtype)
    a = np.resize(vals, size)
    lo, hi = bounds
    ref = ember.clamp(ember.tensor(a), lo, hi).numpy()
    for method in ("clamp_", "clip_"):
        x = ember.tensor(a)
        ptr, v0 = x.data_ptr(), x._version
        assert getattr(x, method)(lo, hi) is x
        assert x.data_ptr() == ptr and x._version == v0 + 1
        assert np.array_equal(x.numpy(), ref, equal_nan=True)
        assert np.array_equal(np.signbit(x.numpy()), np.signbit(ref))
    # a non-contiguous view, written through
    base = ember.tensor(np.stack([a, a]).T.copy()).t()
    base[0].clamp_(lo, hi)
    assert np.array_equal(base[0].numpy(), ref, equal_nan=True)
    assert np.array_equal(base[1].numpy(), a, equal_nan=True)


def test_clamp_inplace_fallbacks():
    w = ember.ones(3, requires_grad=True)
    x = w * 3
    x.clamp_(max=2.0)  # recorded: the general path
    x.sum().backward()
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    i = ember.tensor([-3, 0, 5])
    i.clamp_(-1, 1)
    assert i.tolist() == [-1, 0, 1] and i.dtype == ember.int64
    t = ember.tensor([0.5, 3.0])
    t.clamp_(max=ember.tensor(1.0))  # tensor bound
    assert t.tolist() == [0.5, 1.0]
    with pytest.raises(RuntimeError):
        ember.ones(3).clamp_()
    with pytest.raises(RuntimeError, match="clamp_"):
        ember.ones(1).expand(3).clamp_(0.0, 0.5)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_erfc_erfinv_one_pass_gradients(dtype):
    # the C gradient (no graph over the backward) against the records' formulas (forced by
    # create_graph=True, which builds a graph and so takes the formula path)
    g = ember.Generator().manual_seed(7)
    rt = 2e-6 if dtype == ember.float32 else 1e-13
    for name, make in (("erfc", lambda: ember.randn(3 * N, generator=g, dtype=dtype) * 2),
                       ("erfinv", lambda: ember.rand(3 * N, generator=g, dtype=dtype) * 1.98
                        - 0.99)):
        x = make().requires_grad_(True)
        w = ember.rand(3 * N, generator=g, dtype=dtype)
        fast, = ember.autograd.grad((getattr(ember, name)(x) * w).sum(), x)
        slow, = ember.autograd.grad((getattr(ember, name)(x) * w).sum(), x, create_graph=True)
        np.testing.assert_allclose(fast.numpy(), slow.detach().numpy(), rtol=rt, atol=1e-30)
        # double backward still works (formula path)
        gg, = ember.autograd.grad(slow.sum(), x)
        assert np.isfinite(gg.numpy()).all()


@needs_cc
def test_one_pass_gradient_special_values():
    x = _tiled([math.nan, math.inf, -math.inf, 0.0, 40.0, -40.0], np.float32)
    r = special_c.run_grad("erfc", np.ones_like(x), x)
    assert np.isnan(r[0]) and r[1] == 0.0 and r[2] == 0.0 and r[4] == 0.0 and r[5] == 0.0
    assert r[3] == np.float32(-2 / math.sqrt(math.pi))
    u = _tiled([math.nan, 1.0, -1.0, 0.0, 2.0], np.float32)
    r = special_c.run_grad("erfinv", np.ones_like(u), u)
    assert np.isnan(r[0]) and r[1] == math.inf and r[2] == math.inf and np.isnan(r[4])
    assert r[3] == np.float32(math.sqrt(math.pi) / 2)
    assert special_c.run_grad("erfinv", np.ones(N), np.zeros(N)) is None  # float64: formula


@pytest.mark.parametrize("n", [9, 1 << 17])  # the NumPy form and the threaded kernel
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_sigmoid_keeps_relative_accuracy_for_small_results(dt, n):
    # the tanh form rounded sigmoid(x) below ~6e-8 (float32) to 0, so log(sigmoid(-30))
    # was -inf; 1 / (1 + exp(-x)) keeps a few ulps all the way down, as PyTorch's
    x = np.linspace(-80.0 if dt == "float32" else -700.0, 40.0, n).astype(dt)
    got = ember.from_numpy(x).sigmoid().numpy().astype(np.float64)
    ref = np.array([1.0 / (1.0 + math.exp(-float(v))) for v in x])
    tol = 8 * np.finfo(dt).eps
    assert np.all(np.abs(got - ref) <= tol * ref + np.finfo(dt).tiny), dt
    assert float(ember.tensor(-30.0).sigmoid().log()) == pytest.approx(-30.0, rel=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exp(-x) overflowing to inf is the limit, no warning
        special = ember.tensor([-1e4, 0.0, 1e4, math.inf, -math.inf, math.nan],
                               dtype=getattr(ember, dt))
        out = special.sigmoid().tolist()
    assert out[:5] == [0.0, 0.5, 1.0, 1.0, 0.0] and math.isnan(out[5])


@pytest.mark.parametrize("name", ["_foreach_maximum", "_foreach_minimum",
                                  "_foreach_maximum_", "_foreach_minimum_"])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64])
def test_foreach_max_min_with_a_number_as_numpy(name, dt):
    # with a number these run clamp's threaded kernels (NumPy's broadcast-scalar loop is
    # ~3x slower than its two-array loop); the result must be NumPy's, bit for bit, NaN,
    # signed zeros and infinities included, below and above the kernel's size threshold
    ref_fn = np.maximum if "maximum" in name else np.minimum
    for n in (100, 1 << 15):
        rng = np.random.default_rng(n)
        if dt is np.int64:
            a = rng.integers(-10, 10, n).astype(dt)
            numbers = (3, -2)
        else:
            a = rng.standard_normal(n).astype(dt)
            a[::7] = np.nan
            a[1::11] = -0.0
            a[2::13] = np.inf
            a[3::17] = -np.inf
            numbers = (0.0, -0.0, 0.5, -2.0, math.inf)
        for s in numbers:
            t = ember.tensor(a.copy())
            out = getattr(ember, name)([t], s)
            got = (t if name.endswith("_") else out[0]).numpy()
            want = ref_fn(a, s).astype(got.dtype)
            assert got.dtype == want.dtype
            assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (name, dt, n, s)


@pytest.mark.parametrize("n", [9, 1 << 17])  # NumPy forms and the threaded kernels
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_silu_and_log_sigmoid_grad_keep_small_values(dt, n):
    # silu(x) = x / (1 + exp(-x)) and log_sigmoid's gradient sigmoid(-x) keep relative
    # accuracy where the tanh form of sigmoid rounded them to 0 (silu(-30) was 0)
    x = np.linspace(-80.0, 40.0, n).astype(dt)
    xt = ember.from_numpy(x.copy()).requires_grad_()
    y = ember.nn.functional.silu(xt)
    ref = np.array([float(v) / (1.0 + math.exp(-float(v))) for v in x])
    tol = 8 * np.finfo(dt).eps
    got = y.detach().numpy().astype(np.float64)
    assert np.all(np.abs(got - ref) <= tol * np.abs(ref) + np.finfo(dt).tiny)
    xl = ember.from_numpy(-x.copy()).requires_grad_()
    ember.nn.functional.logsigmoid(xl).sum().backward()
    ref_g = np.array([1.0 / (1.0 + math.exp(-float(v))) for v in x])  # sigmoid(-(-x))
    got_g = xl.grad.numpy().astype(np.float64)
    assert np.all(np.abs(got_g - ref_g) <= tol * ref_g + np.finfo(dt).tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ember.nn.functional.silu(
            ember.tensor([-1e4, -math.inf, math.inf, 0.0], dtype=getattr(ember, dt))).tolist()
    assert out[0] == 0.0 and math.isnan(out[1]) and out[2] == math.inf and out[3] == 0.0
