"""NOTE [ Results written where they belong ]: out= and in-place variants whose kernel writes
straight into the destination give the out-of-place op's values bit for bit, bump the
destination's version once, and leave every case the kernels do not cover to the general
path (dtype casts, broadcasting, overlap, non-contiguous destinations, autograd, errors)."""

import numpy as np
import pytest

import ember
from ember._codegen import build
from ember._codegen.kernel import disabled

SHAPE = (513, 512)  # 262,656 elements: above the threaded kernels' largest minimum (2^18)


def _rand(seed, dtype=ember.float32, shape=SHAPE, lo=-3.0, hi=3.0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(lo, hi, size=shape)
    if dtype.is_floating_point:  # the special values go through every path too
        a.reshape(-1)[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return ember.tensor(a).to(dtype)


def _same(a, b):
    a, b = a.numpy(), b.numpy()
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), \
        f"differ at {np.argwhere(a != b)[:5]}"


OUT_CASES = {
    "neg": lambda x, y, **o: ember.neg(x, **o),
    "abs": lambda x, y, **o: ember.abs(x, **o),
    "floor": lambda x, y, **o: ember.floor(x, **o),
    "sqrt": lambda x, y, **o: ember.sqrt(x, **o),
    "exp": lambda x, y, **o: ember.exp(x, **o),  # a NumPy ufunc writing into out
    "sin": lambda x, y, **o: ember.sin(x, **o),
    "add": lambda x, y, **o: ember.add(x, y, **o),
    "add.scalar": lambda x, y, **o: ember.add(x, 1.5, **o),
    "add.alpha": lambda x, y, **o: ember.add(x, y, alpha=0.3, **o),
    "sub": lambda x, y, **o: ember.sub(x, y, **o),
    "sub.alpha": lambda x, y, **o: ember.sub(x, y, alpha=-2.5, **o),
    "mul": lambda x, y, **o: ember.mul(x, y, **o),
    "div": lambda x, y, **o: ember.div(x, y, **o),
    "div.trunc": lambda x, y, **o: ember.div(x, y, rounding_mode="trunc", **o),
    "div.floor": lambda x, y, **o: ember.div(x, y, rounding_mode="floor", **o),
    "maximum": lambda x, y, **o: ember.maximum(x, y, **o),
    "fmin": lambda x, y, **o: ember.fmin(x, y, **o),
    "remainder": lambda x, y, **o: ember.remainder(x, y, **o),
    "clamp": lambda x, y, **o: ember.clamp(x, -1.0, 0.5, **o),
    "clamp.min": lambda x, y, **o: ember.clamp(x, min=-0.5, **o),
    "clamp.max": lambda x, y, **o: ember.clamp(x, max=0.25, **o),
    "lerp": lambda x, y, **o: ember.lerp(x, y, 0.3, **o),
    "lerp.tensor": lambda x, y, **o: ember.lerp(x, y, y.abs().clamp(0, 1), **o),
    "addcmul": lambda x, y, **o: ember.addcmul(x, y, x, value=0.5, **o),
    "addcdiv": lambda x, y, **o: ember.addcdiv(x, y, x, value=-2.0, **o),
    "round": lambda x, y, **o: ember.round(x, **o),
    "where": lambda x, y, **o: ember.where(x > y, x, y, **o),
    "where.scalar": lambda x, y, **o: ember.where(x > 0, x, 0.5, **o),
    "outer": lambda x, y, **o: ember.outer(x, y, **o),
    "round.decimals": lambda x, y, **o: ember.round(x, decimals=2, **o),
    "round.negdecimals": lambda x, y, **o: ember.round(x * 100, decimals=-1, **o),
    "sgn": lambda x, y, **o: ember.sgn(x, **o),
    "nan_to_num": lambda x, y, **o: ember.nan_to_num(x, posinf=7.0, **o),
    "clamp.tensors": lambda x, y, **o: ember.clamp(x, y, y.abs(), **o),
}


def _kernels():
    return build.compiler()[0] is not None and not disabled()


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
@pytest.mark.parametrize("case", sorted(OUT_CASES))
def test_out_equals_out_of_place(case, dtype, monkeypatch):
    f = OUT_CASES[case]
    x, y = _rand(0, dtype), _rand(1, dtype)
    if case == "outer":
        x, y = x[0], y[1]
    ref = f(x, y)
    out = ember.empty(ref.shape, dtype=dtype)
    v0 = out._version
    if _kernels():  # the direct write, not a result copied in afterwards
        from ember._ops import blas, core, elementwise

        def no_copy(*a, **k):
            raise AssertionError("the result was copied into out")

        monkeypatch.setattr(elementwise, "write_out", no_copy)
        monkeypatch.setattr(core, "write_out", no_copy)
        monkeypatch.setattr(blas, "write_out", no_copy)
    r = f(x, y, out=out)
    assert r is out
    _same(out, ref)
    assert out._version == v0 + 1


INPLACE_CASES = {
    "neg_": (lambda x, y: x.neg_(), lambda x, y: x.neg()),
    "add_": (lambda x, y: x.add_(y), lambda x, y: x + y),
    "add_.alpha": (lambda x, y: x.add_(y, alpha=-0.1), lambda x, y: ember.add(x, y, alpha=-0.1)),
    "sub_.alpha": (lambda x, y: x.sub_(y, alpha=3), lambda x, y: ember.sub(x, y, alpha=3)),
    "mul_": (lambda x, y: x.mul_(y), lambda x, y: x * y),
    "div_.trunc": (lambda x, y: x.div_(y, rounding_mode="trunc"),
                   lambda x, y: ember.div(x, y, rounding_mode="trunc")),
    "maximum_": (lambda x, y: x.maximum_(y) if hasattr(x, "maximum_") else None,
                 lambda x, y: ember.maximum(x, y)),
    "fmod_": (lambda x, y: x.fmod_(y), lambda x, y: ember.fmod(x, y)),
    "clamp_min_": (lambda x, y: x.clamp_min_(0.5), lambda x, y: x.clamp_min(0.5)),
    "clamp_max_": (lambda x, y: x.clamp_max_(-0.5), lambda x, y: x.clamp_max(-0.5)),
    "clamp_min_.tensor": (lambda x, y: x.clamp_min_(y), lambda x, y: x.clamp_min(y)),
    "lerp_": (lambda x, y: x.lerp_(y, 0.7), lambda x, y: ember.lerp(x, y, 0.7)),
    "addcmul_": (lambda x, y: x.addcmul_(y, y, value=0.1),
                 lambda x, y: ember.addcmul(x, y, y, value=0.1)),
    "addcdiv_": (lambda x, y: x.addcdiv_(y, x), lambda x, y: ember.addcdiv(x, y, x)),
    "copy_": (lambda x, y: x.copy_(y), lambda x, y: y.clone()),
    "masked_fill_": (lambda x, y: x.masked_fill_(y > 0, -7.5),
                     lambda x, y: x.masked_fill(y > 0, -7.5)),
    "masked_fill_.tensor": (lambda x, y: x.masked_fill_(y > 0, y[1, 2]),
                            lambda x, y: x.masked_fill(y > 0, y[1, 2])),
    "masked_fill_.row": (lambda x, y: x.masked_fill_(y[0] > 0, 2.0),
                         lambda x, y: x.masked_fill(y[0] > 0, 2.0)),
    "round_": (lambda x, y: x.round_(), lambda x, y: x.round()),
    "nan_to_num_": (lambda x, y: x.nan_to_num_(posinf=3.0), lambda x, y: x.nan_to_num(posinf=3.0)),
    "round_.decimals": (lambda x, y: x.round_(decimals=1), lambda x, y: x.round(decimals=1)),
    "sgn_": (lambda x, y: x.sgn_(), lambda x, y: x.sgn()),
    "lt_": (lambda x, y: x.lt_(y), lambda x, y: (x < y).to(x.dtype)),
    "eq_.scalar": (lambda x, y: x.eq_(0.0), lambda x, y: (x == 0.0).to(x.dtype)),
    "clamp_.tensors": (lambda x, y: x.clamp_(y, y.abs()), lambda x, y: x.clamp(y, y.abs())),
    "clamp_.tensor_min": (lambda x, y: x.clamp_(min=y), lambda x, y: x.clamp(min=y)),
    "fill_": (lambda x, y: x.fill_(-1.25), lambda x, y: ember.full_like(x, -1.25)),
}


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
@pytest.mark.parametrize("case", sorted(INPLACE_CASES))
def test_inplace_equals_out_of_place(case, dtype):
    f_, f = INPLACE_CASES[case]
    x, y = _rand(2, dtype), _rand(3, dtype)
    ref = f(x, y)
    v0 = x._version
    if f_(x, y) is None:
        pytest.skip("no such method")
    _same(x, ref)
    assert x._version == v0 + 1


@pytest.mark.parametrize("dtype", [ember.int32, ember.int64])
def test_integer_inplace_and_out(dtype):
    x = _rand(4, dtype, lo=-1000, hi=1000)
    y = _rand(5, dtype, lo=-1000, hi=1000)
    ref = x + y * 3
    x.add_(y, alpha=3)
    _same(x, ref)
    ref = x.clamp_min(-7)
    x.clamp_min_(-7)
    _same(x, ref)
    out = ember.empty(SHAPE, dtype=dtype)
    ember.maximum(x, y, out=out)
    _same(out, ember.maximum(x, y))
    ref = (x >= y).to(dtype)
    x.ge_(y)
    _same(x, ref)
    ref = x.masked_fill(y > 0, 2.9)  # a float value into an integer tensor: truncated
    x.masked_fill_(y > 0, 2.9)
    _same(x, ref)
    x.fill_(-3)
    assert bool((x == -3).all())


@pytest.mark.parametrize("case", ["cat0", "cat1", "stack", "hstack", "vstack"])
def test_concatenations_into_out(case, monkeypatch):
    x, y = _rand(20), _rand(21)
    f = {"cat0": lambda **o: ember.cat([x, y], 0, **o),
         "cat1": lambda **o: ember.cat([x, y[:, :100].contiguous()], 1, **o),
         "stack": lambda **o: ember.stack([x, y], 1, **o),
         "hstack": lambda **o: ember.hstack([x, y], **o),
         "vstack": lambda **o: ember.vstack([y, x], **o)}[case]
    ref = f()
    out = ember.empty(ref.shape)
    v0 = out._version
    if _kernels():
        from ember._ops import core

        def no_copy(*a, **k):
            raise AssertionError("the result was copied into out")

        monkeypatch.setattr(core, "write_out", no_copy)
    assert f(out=out) is out
    _same(out, ref)
    assert out._version == v0 + 1
    monkeypatch.undo()
    # an out that overlaps an operand, or of another dtype: the general path
    big = ember.zeros(2 * SHAPE[0], SHAPE[1])
    ember.cat([big[:SHAPE[0]] + 1, x], 0, out=big)
    _same(big, ember.cat([ember.ones(SHAPE), x], 0))
    o64 = ember.empty(ref.shape, dtype=ember.float64)
    f(out=o64)
    _same(o64, ref.double())


def test_comparison_into_bool_out_and_refused_into_float_self():
    x, y = _rand(6), _rand(7)
    out = ember.empty(SHAPE, dtype=ember.bool)
    ember.lt(x, y, out=out)
    _same(out, x < y)
    z = x.clone()
    z.lt_(y)  # a bool result cast back into float32 (the general path)
    _same(z, (x < y).float())


def test_general_path_cases_keep_their_semantics():
    x32, x64 = _rand(8), _rand(9, ember.float64)
    # a result cast into an out of another dtype
    out = ember.empty(SHAPE, dtype=ember.float64)
    ember.add(x32, x32, out=out)
    _same(out, (x32 + x32).double())
    # mixed operand dtypes in place: promoted, then cast back into self
    z = x32.clone()
    z.add_(x64)
    _same(z, (x32.double() + x64).float())
    # a 0-dim tensor of another dtype does not promote (PyTorch's rule, not NumPy's)
    z = x32.clone()
    z.mul_(ember.tensor(1.1, dtype=ember.float64))
    _same(z, x32 * ember.tensor(1.1, dtype=ember.float64))
    # broadcasting a smaller operand
    row = _rand(10, shape=(512,))
    z = x32.clone()
    z.clamp_min_(row)
    _same(z, x32.clamp_min(row))
    # a non-contiguous destination
    t = _rand(11, shape=(512, 513)).t()
    ref = t.clone().clamp_max(0.0)
    t.clamp_max_(0.0)
    _same(t.contiguous(), ref)
    outT = ember.empty((512, 513)).t()
    ember.sub(x32, 2.0, out=outT)
    _same(outT.contiguous(), x32 - 2.0)


def test_overlapping_destination_is_not_written_early():
    base = _rand(12, shape=(600_000,))
    ref = base[:-1] + base[1:]
    z = base.clone()
    z[:-1].add_(z[1:])
    _same(z[:-1], ref)
    z = base.clone()
    ember.maximum(z[1:], z[:-1], out=z[:-1])
    _same(z[:-1], ember.maximum(base[1:], base[:-1]))


def test_errors_are_the_general_paths():
    x = _rand(13).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.clamp_min_(0.0)
    with pytest.raises(RuntimeError, match="out="):
        ember.add(x, 1.0, out=ember.empty(SHAPE))
    with pytest.raises(RuntimeError, match="out="):
        ember.add(_rand(14), 1.0, out=ember.empty(SHAPE, requires_grad=True))
    e = _rand(15, shape=(1, 600_000)).expand(2, 600_000)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.add_(1.0)
    z = ember.zeros(1, 300_000)
    with pytest.raises(RuntimeError):
        z.masked_fill_(ember.ones(2, 300_000, dtype=ember.bool), 1.0)
    xi = _rand(16, ember.int32, lo=-5, hi=5)
    with pytest.raises(RuntimeError):
        xi.addcdiv_(xi, xi)


def test_inplace_on_a_graph_records_the_gradient():
    x = _rand(17).requires_grad_()
    y = x * 1.0
    y.clamp_min_(0.0)
    y.lerp_(ember.zeros(SHAPE), 0.25)
    y.sum().backward()
    xd = x.detach()
    expect = (xd >= 0).float() * 0.75
    _same(x.grad, expect)


def test_under_a_dispatch_mode_the_general_path_runs():
    from ember._ops.core import DispatchMode

    seen = []

    class Log(DispatchMode):
        def __ember_dispatch__(self, op, inputs, params, run):
            seen.append(op.name)
            return run(inputs, params)

    x = _rand(18)
    with Log():
        x.clamp_min_(0.0)
        ember.add(x, x, out=ember.empty(SHAPE))
    assert "copy_" in seen and "add" in seen, seen  # the op and its write, both seen


def _ulps32(got, ref):
    """Each float32 result's distance from the float64 ``ref`` in float32 ulps of ``ref``."""
    with np.errstate(over="ignore"):
        ref32 = ref.astype(np.float32)
    same = (got == ref32) | (np.isnan(got) & np.isnan(ref))
    sp = np.spacing(np.abs(ref32)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.abs(got.astype(np.float64) - ref) / sp)


def test_exp_float32_threaded_within_an_ulp_and_special_values():
    # ember_expf (the threaded exp of float32, also sigmoid's and silu's): within 1.01 ulp
    # of the true value with FMA, 0.98 without
    rng = np.random.default_rng(30)
    x = np.concatenate([rng.uniform(-104, 89, 400_000), rng.uniform(-3, 3, 200_000),
                        [np.nan, np.inf, -np.inf, 0.0, -0.0, 88.72, 88.73, -87.3, -103.9,
                         -104.5, 1e-30]]).astype(np.float32)
    got = ember.exp(ember.tensor(x)).numpy()
    ref = np.exp(x.astype(np.float64))
    normal = (ref > 1.2e-38) & (ref < 3.4e38)
    assert _ulps32(got[normal], ref[normal]).max() <= 1.02
    tail = got[-11:]
    assert np.isnan(tail[0]) and tail[1] == np.inf and tail[2] == 0
    assert tail[3] == tail[4] == 1 and tail[6] == np.inf and tail[10] == 1
    assert 0 < tail[8] < 1.2e-38  # subnormal results, not flushed
    # float64 and small float32 tensors keep NumPy's exp exactly
    x64 = x.astype(np.float64)[:1000]
    np.testing.assert_array_equal(ember.exp(ember.tensor(x64)).numpy(), np.exp(x64))
    np.testing.assert_array_equal(ember.exp(ember.tensor(x[:1000])).numpy(), np.exp(x[:1000]))


@pytest.mark.parametrize("src_dt,dst_dt", [("float64", "float32"), ("float32", "float64"),
                                           ("float32", "int32"), ("float64", "int64"),
                                           ("int64", "float32"), ("bool", "float32"),
                                           ("float32", "bool"), ("int32", "int64")])
def test_copy_with_a_cast_or_a_broadcast_equals_numpys(src_dt, dst_dt):
    rng = np.random.default_rng(31)
    a = rng.standard_normal(600_000) * 3e9
    a[:5] = [np.nan, np.inf, -np.inf, 2.5, -2.5]
    with np.errstate(invalid="ignore", over="ignore"):
        src = (a > 0) if src_dt == "bool" else a.astype(src_dt)
        want = src.astype(dst_dt)
    dst = ember.empty(600_000, dtype=getattr(ember, dst_dt))
    v0 = dst._version
    with np.errstate(invalid="ignore", over="ignore"):
        dst.copy_(ember.from_numpy(src))
    assert np.array_equal(dst.numpy().view(np.uint8), want.view(np.uint8))
    assert dst._version == v0 + 1
    row = ember.from_numpy(src[:1000])
    grid = ember.empty(600, 1000, dtype=getattr(ember, dst_dt))
    with np.errstate(invalid="ignore", over="ignore"):
        grid.copy_(row)
        want = np.broadcast_to(src[:1000], (600, 1000)).astype(dst_dt, order="C")
    assert np.array_equal(grid.numpy().view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("shape,dim", [((87, 131, 87), -2), ((87, 131, 87), 0),
                                       ((87, 131, 87), (0, 1)), ((600, 700), 0),
                                       ((3, 40000, 2), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_extremes_equal_numpys_reduce(shape, dim, dtype):
    # NOTE [ Column extremes ]: amax/amin over dims before the last, threaded
    x = np.random.default_rng(32).standard_normal(shape).astype(dtype)
    x.reshape(-1)[::997] = np.nan
    x.reshape(-1)[5::1009] = np.inf
    axes = dim if isinstance(dim, tuple) else (dim,)
    t = ember.from_numpy(x)
    for keep in (False, True):
        np.testing.assert_array_equal(t.amax(dim, keepdim=keep).numpy(),
                                      np.maximum.reduce(x, axis=axes, keepdims=keep))
        np.testing.assert_array_equal(t.amin(dim, keepdim=keep).numpy(),
                                      np.minimum.reduce(x, axis=axes, keepdims=keep))
    g = ember.from_numpy(np.where(np.isnan(x), 0, x)).requires_grad_()
    g.amax(dim).sum().backward()  # the gradient still splits among the tied maxima
    assert float(g.grad.sum()) == pytest.approx(np.prod([shape[a] for a in range(len(shape))
                                                         if a not in [d % len(shape)
                                                                      for d in axes]]))
