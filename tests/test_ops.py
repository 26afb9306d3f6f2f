"""Generic op tests driven by the table in tests/op_db.py.

For every entry and dtype: (a) the forward matches the NumPy reference in values, shape and
PyTorch's result dtype; (b) gradcheck in float64; (c) gradgradcheck for entries that ask for
it; (d) function, method, in-place and ``out=`` variants agree; (e) contiguous and
non-contiguous inputs agree (values and gradients); (f) error inputs raise PyTorch's exception
type with a message naming the op or shapes; (g) with PyTorch installed, outputs and gradients
match PyTorch on the same inputs (and PyTorch raises the same exception types, which keeps the
table honest).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from op_db import OP_DB, expected_dtype, noncontiguous, promote_pair

try:
    import torch
except ImportError:  # the oracle tests skip themselves
    torch = None

CASES = [pytest.param(info, np.dtype(dt), id=f"{info.name}-{np.dtype(dt).name}")
         for info in OP_DB for dt in info.dtypes]
OPS = [pytest.param(info, id=info.name) for info in OP_DB]
GRAD_OPS = [pytest.param(info, id=info.name) for info in OP_DB
            if info.differentiable and np.dtype(np.float64) in info.dtypes]
GRADGRAD_OPS = [pytest.param(info, id=info.name) for info in OP_DB if info.gradgrad]
ERROR_OPS = [pytest.param(info, id=info.name) for info in OP_DB if info.error_inputs]


# =============================================================================== helpers
def _skip(info, test):
    if test in info.skips:
        pytest.skip(info.skips[test])


def samples(info, dtype):
    return info.sample_inputs(np.dtype(dtype), np.random.default_rng(1234))


def _fresh(a):
    """A copy of ``a`` in fresh memory with the same kind of layout."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return np.array(a, order="K", copy=True)
    return noncontiguous(a)


def _map(obj, f):
    if isinstance(obj, (np.ndarray, np.dtype)):
        return f(obj)
    if isinstance(obj, list):
        return [_map(o, f) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_map(o, f) for o in obj)
    if isinstance(obj, dict):
        return {k: _map(v, f) for k, v in obj.items()}
    return obj


def _to_ember(a):
    if isinstance(a, np.dtype):
        return getattr(ember, a.name)
    return ember.from_numpy(_fresh(a))


def _to_torch(a):
    if isinstance(a, np.dtype):
        return getattr(torch, a.name)
    return torch.from_numpy(_fresh(a))  # a copy keeping the layout (view errors need it)


def call(info, mod, s, conv, leaves=None):
    """Run ``info`` on sample ``s`` in framework ``mod``; arrays for which ``leaves`` (a dict
    id(array) -> tensor) has an entry become those tensors, the others are converted."""

    def f(a):
        if leaves is not None and id(a) in leaves:
            return leaves[id(a)]
        return conv(a)

    x, args, kw = _map((s.input, s.args, s.kwargs), f)
    return info.op(mod, x, *args, **kw)


def _arrays(s, pred):
    out = []

    def f(a):
        if isinstance(a, np.ndarray) and pred(a):
            out.append(a)
        return a

    _map((s.input, s.args, s.kwargs), f)
    return out


def to_np(out):
    if isinstance(out, (tuple, list)):
        return [to_np(o) for o in out]
    if isinstance(out, ember.Tensor):
        return out.detach().numpy()
    if torch is not None and isinstance(out, torch.Tensor):
        return out.detach().numpy(force=True)  # force: PyTorch may return a ZeroTensor
    return out


def _tensors(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def assert_close(actual, expected, tols, dtype=None, msg=""):
    """Compare results: structure, shape, dtype (``dtype`` or the expected's), values.
    ``tols(result_dtype) -> (atol, rtol)``: an integer op with a float result (atan2 on
    int64) needs the float's tolerance."""
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), f"{msg}: expected a sequence, got {actual!r}"
        assert len(actual) == len(expected), f"{msg}: {len(actual)} outputs, not {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, tols, dtype, f"{msg} [output {i}]")
        return
    if isinstance(expected, (bool, np.bool_)) and not isinstance(actual, np.ndarray):
        assert actual is bool(expected), f"{msg}: {actual!r} != {expected!r}"
        return
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.shape == e.shape, f"{msg}: shape {a.shape} != {e.shape}"
    want = np.dtype(dtype) if dtype is not None else e.dtype
    assert a.dtype == want, f"{msg}: dtype {a.dtype} != {want}"
    with np.errstate(all="ignore"):
        e = e.astype(want)
    if want.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=msg)
    else:
        atol, rtol = tols(want)
        np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, equal_nan=True, err_msg=msg)


def _exact(dtype):
    return 0, 0


def _can_cast(src, dst):
    """PyTorch's rule for writing a result into an existing tensor (in-place, out=)."""
    cat = {"b": 0, "i": 1, "u": 1, "f": 2}
    return cat[np.dtype(src).kind] <= cat[np.dtype(dst).kind]


def _float64_leaves(s):
    return _arrays(s, lambda a: a.dtype == np.float64)


def _grads(info, s, mod, conv, pred, layout=None):
    """Gradients of sum(out * w) w.r.t. the sample's arrays selected by ``pred``."""
    arrays = _arrays(s, pred)
    if mod is ember:
        leaves = {id(a): ember.from_numpy(layout(a) if layout else _fresh(a))
                  .requires_grad_() for a in arrays}
    else:
        leaves = {id(a): torch.from_numpy(_fresh(a)).requires_grad_() for a in arrays}
    out = call(info, mod, s, conv, leaves)
    rng = np.random.default_rng(7)
    total = None
    for o in _tensors(out):
        if not o.is_floating_point():
            continue
        w = rng.standard_normal(tuple(o.shape)).astype(o.detach().numpy().dtype)
        term = (o * conv(w)).sum()
        total = term if total is None else total + term
    ts = [leaves[id(a)] for a in arrays]
    if total is None or not total.requires_grad:
        return [np.zeros(a.shape, a.dtype) for a in arrays]
    gs = mod.autograd.grad(total, ts, allow_unused=True)
    return [np.zeros(a.shape, a.dtype) if g is None else to_np(g) for a, g in zip(arrays, gs)]


def _checkable(s):
    """Leaves for finite differences: float64, non-empty (see test_gradcheck_empty_input)."""
    leaves = _float64_leaves(s)
    return leaves if leaves and all(a.size for a in leaves) else None


def _fn_of_leaves(info, s, leaves):
    def fn(*ts):
        return call(info, ember, s, _to_ember, {id(a): t for a, t in zip(leaves, ts)})

    return fn


# =============================================================================== (a) forward
@pytest.mark.parametrize("info,dtype", CASES)
def test_forward(info, dtype):
    """Values, shape and result dtype match the NumPy reference."""
    _skip(info, "test_forward")
    for s in samples(info, dtype):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. NumPy's "mean of empty slice"
            expected = info.ref(s.input, *s.args, **s.kwargs)
        actual = to_np(call(info, ember, s, _to_ember))
        assert_close(actual, expected, info.tols, expected_dtype(info, s), f"{info.name} {s}")


# =============================================================================== (b) gradcheck
@pytest.mark.parametrize("info", GRAD_OPS)
def test_gradcheck(info):
    """First derivatives agree with central differences (float64)."""
    _skip(info, "test_gradcheck")
    checked = 0
    ss = samples(info, np.float64)
    if not any(s.grad for s in ss):
        pytest.skip("every sample sits on a kink or holds NaN (grad=False in the entry)")
    for s in ss:
        if not s.grad:
            continue
        leaves = _checkable(s)
        if leaves is None:
            # Empty inputs: gradcheck cannot difference them; the gradient must still come back
            # with the input's shape.
            arrays = _float64_leaves(s)
            if arrays:
                gs = _grads(info, s, ember, _to_ember, lambda a: a.dtype == np.float64)
                for a, g in zip(arrays, gs):
                    assert g.shape == a.shape, f"{info.name} {s}: grad shape {g.shape}"
            continue
        ts = tuple(ember.from_numpy(_fresh(a)).requires_grad_() for a in leaves)
        assert gradcheck(_fn_of_leaves(info, s, leaves), ts), f"{info.name} {s}"
        checked += 1
    assert checked, "no sample was gradchecked"


# =============================================================================== (c) gradgradcheck
@pytest.mark.parametrize("info", GRADGRAD_OPS)
def test_gradgradcheck(info):
    """Second derivatives (backward of backward) agree with finite differences."""
    _skip(info, "test_gradgradcheck")
    checked = 0
    for s in samples(info, np.float64):
        leaves = _checkable(s) if s.grad else None
        if leaves is None or sum(a.size for a in leaves) > 24:
            continue
        ts = tuple(ember.from_numpy(_fresh(a)).requires_grad_() for a in leaves)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert gradgradcheck(_fn_of_leaves(info, s, leaves), ts), f"{info.name} {s}"
        checked += 1
        if checked == 3:
            break
    assert checked, "no sample was gradgradchecked"


# =============================================================================== (d) variants
@pytest.mark.parametrize("info,dtype", CASES)
def test_variants(info, dtype):
    """Function, method, in-place (on a fresh copy) and out= give the same result."""
    _skip(info, "test_variants")
    name = info.fn_name
    for s in samples(info, dtype):
        if not isinstance(s.input, np.ndarray):
            continue  # a scalar or list first argument has no method form
        msg = f"{info.name} {s}"
        expected = call(info, ember, s, _to_ember)
        exp_np = to_np(expected)
        args, kw = _map((s.args, s.kwargs), _to_ember)
        if info.method:
            got = getattr(_to_ember(s.input), name)(*args, **kw)
            assert_close(to_np(got), exp_np, _exact, None, msg + " [method]")
        single = isinstance(expected, ember.Tensor)
        if info.inplace and s.inplace and single:
            x = _to_ember(s.input)
            fits = tuple(expected.shape) == x.shape and _can_cast(exp_np.dtype, x.dtype.__repr__()
                                                                  .split(".")[-1])
            if fits:
                r = getattr(x, name + "_")(*args, **kw)
                assert r is x, msg + " [in-place returns self]"
                assert_close(x.numpy(), exp_np, _exact, s.input.dtype, msg + " [in-place]")
            else:
                with pytest.raises(RuntimeError):
                    getattr(x, name + "_")(*args, **kw)
        if (info.inplace and s.inplace and single and info.differentiable
                and s.input.dtype == np.float64 and tuple(expected.shape) == s.input.shape):
            _check_inplace_grad(info, s, msg)
        if info.supports_out and single:
            out = ember.empty(tuple(expected.shape), dtype=expected.dtype)
            x = _to_ember(s.input)
            r = info.op(ember, x, *args, out=out, **kw)
            assert r is out, msg + " [out= returns out]"
            assert_close(out.numpy(), exp_np, _exact, None, msg + " [out=]")


def _check_inplace_grad(info, s, msg):
    """Gradients through ``y = x.clone(); y.op_(...)`` equal those of ``op(x, ...)``."""
    pred = lambda a: a.dtype == np.float64  # noqa: E731
    expected = _grads(info, s, ember, _to_ember, pred)

    class _InplaceOp:
        def op(self, mod, x, *args, **kw):
            y = x.clone()
            getattr(y, info.fn_name + "_")(*args, **kw)
            return y

    got = _grads(_InplaceOp(), s, ember, _to_ember, pred)
    assert_close(got, expected, info.tols, None, msg + " [in-place grad]")


# =============================================================================== (e) layouts
@pytest.mark.parametrize("info,dtype", CASES)
def test_noncontiguous(info, dtype):
    """Strided copies of every input give the same values (and float64 gradients)."""
    _skip(info, "test_noncontiguous")
    for s in samples(info, dtype):
        msg = f"{info.name} {s}"
        contig = to_np(call(info, ember, s, _to_ember))
        strided = to_np(call(info, ember, s, lambda a: _to_ember(noncontiguous(a))
                             if isinstance(a, np.ndarray) else _to_ember(a)))
        # BLAS may sum in another order for strided operands: the op's tolerances
        assert_close(strided, contig, info.tols, None, msg)
        if info.differentiable and dtype == np.float64 and _float64_leaves(s):
            ga = _grads(info, s, ember, _to_ember, lambda a: a.dtype == np.float64)
            gb = _grads(info, s, ember, _to_ember, lambda a: a.dtype == np.float64,
                        layout=noncontiguous)
            assert_close(gb, ga, info.tols, None, msg + " [grad]")


# =============================================================================== (f) errors
@pytest.mark.parametrize("info", ERROR_OPS)
def test_errors(info):
    """Error inputs raise PyTorch's exception type with a message naming the op/shapes."""
    for e in info.error_inputs():
        with pytest.raises(e.exc, match=e.match):
            call(info, ember, e.sample, _to_ember)


@pytest.mark.parametrize("info", ERROR_OPS)
def test_errors_match_torch(info):
    """PyTorch raises the same exception type on the table's error inputs."""
    pytest.importorskip("torch")
    for e in info.error_inputs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(e.exc):
                call(info, torch, e.sample, _to_torch)


# =============================================================================== (g) oracle
@pytest.mark.parametrize("info,dtype", CASES)
def test_torch(info, dtype):
    """Outputs (values, shapes, dtypes) and gradients match PyTorch on the same inputs."""
    pytest.importorskip("torch")
    _skip(info, "test_torch")
    for s in samples(info, dtype):
        msg = f"{info.name} {s}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = to_np(call(info, torch, s, _to_torch))
        actual = to_np(call(info, ember, s, _to_ember))
        assert_close(actual, expected, info.tols, None, msg)
        if not info.differentiable or dtype.kind != "f":
            continue

        def pred(a):
            return a.dtype.kind == "f"

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gt = _grads(info, s, torch, _to_torch, pred)
        ge = _grads(info, s, ember, _to_ember, pred)
        assert_close(ge, gt, lambda dt: tuple(10 * v for v in info.tols(dt)), None,
                     msg + " [grad]")


# =============================================================================== extra checks
def test_table_covers_requested_ops():
    """Every op the suite promises to cover has at least one entry."""
    names = {info.fn_name for info in OP_DB}
    wanted = """add sub mul div true_divide floor_divide remainder fmod pow maximum minimum fmax
    fmin atan2 eq ne lt le gt ge logical_and logical_or logical_xor logical_not bitwise_and
    bitwise_or bitwise_xor bitwise_not exp exp2 expm1 log log2 log10 log1p sqrt rsqrt sin cos
    tan asin acos atan sinh cosh tanh asinh acosh atanh sigmoid relu erf erfc erfinv reciprocal
    neg abs sign sgn floor ceil round trunc frac square clamp clip clamp_min clamp_max where
    masked_fill lerp addcmul addcdiv nan_to_num isclose allclose equal isnan isinf isfinite sum
    mean prod max min amax amin argmax argmin var std var_mean std_mean norm logsumexp all any
    count_nonzero aminmax softmax log_softmax cumsum matmul mm bmm mv dot outer addmm addmv
    baddbmm einsum view reshape permute transpose t squeeze unsqueeze expand flatten unflatten
    narrow select unbind split chunk tensor_split cat stack hstack vstack flip roll repeat tile
    movedim broadcast_to __getitem__ index_put __setitem__ clone contiguous""".split()
    assert not set(wanted) - names


def test_gradcheck_empty_input():
    x = ember.zeros(0, dtype=ember.float64).requires_grad_()
    assert gradcheck(lambda t: t.sum(), (x,))


def test_promotion_rule_sanity():
    """The table's own promotion helper agrees with a few known PyTorch results."""
    from op_db import torch_result_type

    f32, f64, i32, i64 = (np.dtype(t) for t in ("float32", "float64", "int32", "int64"))
    assert torch_result_type(np.ones(2, i32), 2.5) == f32
    assert torch_result_type(np.ones(2, f32), np.array(1.0)) == f32
    assert torch_result_type(np.ones(2, i32), np.array(5)) == i32
    assert torch_result_type(np.ones(2, bool), 3) == i64
    assert promote_pair(i64, f32) == f32
