"""Mending pass (fifth session): special values of ``ember.special`` against PyTorch, the
signs of zero included; narrow's full-length node name; errors naming the op."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember

_INF, _NAN = math.inf, math.nan
GRID = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-30, -1e-30, 30.0, -30.0, 100.0,
        _INF, -_INF, _NAN]
UNARY = ["expit", "erf", "erfc", "erfinv", "erfcx", "gammaln", "digamma", "psi", "i0", "i0e",
         "i1", "i1e", "sinc", "entr", "ndtr", "ndtri", "log_ndtr", "expm1", "exp2", "log1p",
         "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
         "round", "logit"]
BINARY = ["xlogy", "xlog1py", "zeta", "gammainc", "gammaincc"]
POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]
DEGREES = [0.0, 1.0, 2.0, 3.0, 5.0, 10.0, -1.0, 2.5, 30.0]

# Points where ember keeps its answer (function, dtype, arguments) -> why. Exact: a fix
# removes its entry.
_DENORMAL_IGAMMA = "denormal result, which PyTorch's float32 igamma flushes to 0"
_TINY_A = ("Q(a, x) ~ a E1(x) for tiny a: ember's value is the true one, PyTorch's series "
           "loses it")
KNOWN = {
    ("ndtr", "float64", (-30.0,)): "ember keeps 4.9e-198 (erfc's true value); PyTorch gives 0",
    **{("polygamma1", dt, (v,)): "a pole: ember answers inf, PyTorch's reflection a large "
                                 "finite value from sin(pi x) ~ 1e-16"
       for dt in ("float64", "float32") for v in (-1.0, -2.0, -30.0)},
    ("zeta", "float32", (30.0, 30.0)): "denormal result, one unit in the last place",
    ("gammainc", "float32", (30.0, 0.5)): _DENORMAL_IGAMMA,
    **{("gammaincc", "float32", p): _DENORMAL_IGAMMA
       for p in [(1.0, 100.0), (0.5, 100.0), (2.0, 100.0), (1e-30, 30.0)]},
    **{("gammaincc", dt, (1e-30, x)): _TINY_A
       for dt in ("float64", "float32") for x in (1.0, 0.5, 1e-30)},
}


# KNOWN's points as the grid holds them (1e-30 in float32 is 1.0000000031710769e-30)
_KNOWN_AT = {(n, dt, tuple(float(np.asarray(v, dt)) for v in p)) for n, dt, p in KNOWN}


def _diffs(name, dtype, got, want, args, atol=0.0, hits=None):
    """The argument tuples where ``got`` and ``want`` differ (sign of zero and nan included),
    less KNOWN's entries (added to ``hits``)."""
    got, want = got.numpy(), want.numpy()
    assert got.dtype == want.dtype and got.shape == want.shape, name
    rtol = 1e-5 if dtype == "float64" else 2e-4
    bad = []
    for i in np.ndindex(got.shape):
        a, b = got[i], want[i]
        same = ((np.isnan(a) and np.isnan(b)) or
                (a == b and np.signbit(a) == np.signbit(b)) or
                (np.isfinite(a) and np.isfinite(b) and a != 0 and
                 abs(a - b) <= rtol * abs(b)) or abs(float(a) - float(b)) <= atol)
        point = tuple(float(x[i]) for x in args)
        if not same and (name, dtype, point) in _KNOWN_AT:
            hits.add((name, dtype, point))
        elif not same:
            bad.append((point, float(a), float(b)))
    return bad


def _grid(dtype):
    return np.array(GRID, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_special_values_match_pytorch(dtype):
    """Every ember.special function on a grid of special values: equal to PyTorch's, the sign
    of zero and nan included, except KNOWN's points."""
    torch = pytest.importorskip("torch")
    x = _grid(dtype)
    found = {}
    hits = set()

    def check(name, e_fn, t_fn, args, atol=0.0):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bad = _diffs(name, dtype, e_fn(), t_fn(), args, atol, hits)
        if bad:
            found[name] = bad[:6]

    for n in UNARY:
        check(n, lambda: getattr(ember.special, n)(ember.tensor(x)),
              lambda: getattr(torch.special, n)(torch.tensor(x)), (x,))
    for k in range(4):
        check(f"polygamma{k}", lambda: ember.special.polygamma(k, ember.tensor(x)),
              lambda: torch.special.polygamma(k, torch.tensor(x)), (x,))
    a, b = np.repeat(x, len(x)), np.tile(x, len(x))
    for n in BINARY:
        check(n, lambda: getattr(ember.special, n)(ember.tensor(a), ember.tensor(b)),
              lambda: getattr(torch.special, n)(torch.tensor(a), torch.tensor(b)), (a, b))
        if n.startswith("gammainc"):  # PyTorch has no Scalar overload (ember has one)
            continue
        for s in (0.0, 1.0, 2.0):  # the Scalar overloads, either side
            check(f"{n}({s}, x)", lambda: getattr(ember.special, n)(s, ember.tensor(x)),
                  lambda: getattr(torch.special, n)(s, torch.tensor(x)), (x,))
            check(f"{n}(x, {s})", lambda: getattr(ember.special, n)(ember.tensor(x), s),
                  lambda: getattr(torch.special, n)(torch.tensor(x), s), (x,))
    # float32 stops at degree 10: past it PyTorch's float32 recurrences overflow to
    # inf - inf = nan where ember's float64 ones give inf. nan x is left out: PyTorch gives 0 or
    # nan there depending on the degree's path.
    xs = x[~np.isnan(x)]
    degs = np.array(DEGREES if dtype == "float64" else DEGREES[:-1], dtype=dtype)
    a, b = np.repeat(xs, len(degs)), np.tile(degs, len(xs))
    for n in POLYS:
        check(n, lambda: getattr(ember.special, n)(ember.tensor(a), ember.tensor(b)),
              lambda: getattr(torch.special, n)(torch.tensor(a), torch.tensor(b)), (a, b),
              atol=1e-13 if dtype == "float64" else 2e-6)  # values that cancel to ~0
    for p in (1, 2, 3):
        y = np.array([v for v in GRID if v > (p - 1) / 2], dtype=dtype)
        check(f"multigammaln{p}", lambda: ember.special.multigammaln(ember.tensor(y), p),
              lambda: torch.special.multigammaln(torch.tensor(y), p), (y,))
    m = np.array([[0, -_INF, 1], [-_INF, -_INF, -_INF], [_INF, 0, 1], [_NAN, 0, 1]], dtype)
    check("logsumexp", lambda: ember.special.logsumexp(ember.tensor(m), 1),
          lambda: torch.special.logsumexp(torch.tensor(m), 1), (m[:, 0],))
    for n in ("softmax", "log_softmax"):
        check(n, lambda: getattr(ember.special, n)(ember.tensor(m), 1),
              lambda: getattr(torch.special, n)(torch.tensor(m), 1), (m,))
    for eps in (None, 0.0, 1e-6, 0.6):
        check(f"logit(eps={eps})", lambda: ember.special.logit(ember.tensor(x), eps),
              lambda: torch.special.logit(torch.tensor(x), eps), (x,))
    for d in (1, -1, 2):
        check(f"round({d})", lambda: ember.special.round(ember.tensor(x), decimals=d),
              lambda: torch.special.round(torch.tensor(x), decimals=d), (x,))
    assert found == {}
    assert hits == {k for k in _KNOWN_AT if k[1] == dtype}, "a KNOWN point matches now"


def _bits(t):
    return [(v, math.copysign(1.0, v)) for v in t.tolist()]


def test_special_signs_of_zero():
    """The fixed slips, without the oracle: entr(0) is +0.0, erfinv(-0.0) is -0.0."""
    assert _bits(ember.special.entr(ember.tensor([0.0, -0.0, 1.0]))) == [
        (0.0, 1.0), (0.0, 1.0), (0.0, -1.0)]
    assert _bits(ember.special.erfinv(ember.tensor([-0.0, 0.0]))) == [(0.0, -1.0), (0.0, 1.0)]
    assert _bits(ember.erfinv(ember.tensor([-0.0], dtype=ember.float32))) == [(0.0, -1.0)]
    assert _bits(ember.special.xlogy(ember.tensor([0.0]), ember.tensor([0.0]))) == [(0.0, 1.0)]
    assert _bits(ember.special.sinc(ember.tensor([0.0, -0.0]))) == [(1.0, 1.0), (1.0, 1.0)]


def test_special_edge_rules():
    """PyTorch's (Cephes') edge rules for zeta, the incomplete gammas, airy_ai, polygamma
    and logit with crossed bounds, without the oracle."""
    t = ember.tensor
    z = ember.special.zeta(t([1.0, 1.0, 1.0, _NAN, 0.5, 2.0, 2.0]),
                           t([_NAN, _INF, -_INF, -_INF, -_INF, _INF, -2.0])).tolist()
    assert z[:4] == [_INF] * 4 and all(math.isnan(v) for v in z[4:6]) and z[6] == _INF
    a = t([_NAN, _NAN, _NAN, _INF, _INF, 0.0, -1.0, 0.0])
    x = t([0.0, _INF, 1.0, _NAN, _INF, 0.0, 0.0, 2.0])
    p = ember.special.gammainc(a, x).tolist()
    q = ember.special.gammaincc(a, x).tolist()
    assert p[:2] == [0.0, 1.0] and p[3] == 0.0 and p[7] == 1.0
    assert q[:2] == [1.0, 0.0] and q[3] == 1.0 and q[7] == 0.0
    assert all(math.isnan(r[i]) for r in (p, q) for i in (2, 4, 5, 6))
    assert ember.special.airy_ai(t([1e300, 104.0, 1e38], dtype=ember.float64)).tolist() == [0.0] * 3
    assert math.isnan(ember.special.airy_ai(t([_INF])).item())
    assert math.isnan(ember.special.polygamma(2, t([_INF])).item())
    assert math.isnan(ember.special.polygamma(1, t([-_INF])).item())
    assert ember.special.polygamma(1, t([_INF])).item() == 0.0
    # eps > 0.5: below eps goes to eps (logit(0.6)), above 1 - eps to 1 - eps
    lo = ember.special.logit(t([0.0, 0.5, 0.7, 1.0]), 0.6).tolist()
    assert lo == pytest.approx([math.log(1.5)] * 2 + [math.log(0.4 / 0.6)] * 2)


def test_special_scalar_first_operand():
    """xlog1py and zeta take a number on either side, as PyTorch's Scalar overloads."""
    r = ember.special.xlog1py(2.0, ember.tensor([1.0, 0.0]))
    assert r.tolist() == pytest.approx([2 * math.log(2.0), 0.0])
    assert ember.special.zeta(2.0, ember.tensor([1.0])).item() == pytest.approx(math.pi ** 2 / 6)
    assert ember.special.zeta(ember.tensor([2.0]), 1.0).item() == pytest.approx(math.pi ** 2 / 6)
    for fn in (ember.special.zeta, ember.special.xlog1py, ember.xlogy, ember.pow):
        with pytest.raises(TypeError, match="invalid combination of arguments - got "
                                            r"\(float, float\)"):
            fn(2.0, 1.0)


@pytest.fixture
def fake(monkeypatch):
    """Fake CuPy installed and ember's CUDA backend loaded on it, for one test."""
    import fake_cupy

    fake_cupy.install(monkeypatch)
    yield
    fake_cupy.uninstall()


def _same_bits(a, b):
    a, b = a.detach().cpu().numpy(), b.detach().numpy()
    return a.dtype == b.dtype and np.array_equal(np.signbit(a), np.signbit(b)) and \
        np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)


def test_special_edge_fixes_on_the_fake_cupy(fake):
    """The edge rules above compute on the device's arrays (xp_of), with the CPU's values."""
    x = ember.tensor(GRID, dtype=ember.float64)
    xc = x.cuda()
    # not erfinv: on cuda it is cupyx's kernel (CUDA's erfinv keeps the sign of zero; the
    # fake CuPy stands in with SciPy's, which does not)
    for name in ("entr", "airy_ai"):
        f = getattr(ember.special, name)
        y = f(xc)
        assert y.is_cuda and _same_bits(y, f(x)), name
    for n in (1, 2):
        y = ember.special.polygamma(n, xc)
        assert y.is_cuda and _same_bits(y, ember.special.polygamma(n, x)), n
    y = ember.special.logit(xc, 0.6)
    assert y.is_cuda and _same_bits(y, ember.special.logit(x, 0.6))
    a, b = x.repeat_interleave(len(GRID)), x.repeat(len(GRID))
    for name in ("xlog1py", "zeta", "gammainc", "gammaincc"):
        f = getattr(ember.special, name)
        y = f(a.cuda(), b.cuda())
        assert y.is_cuda and _same_bits(y, f(a, b)), name
    assert _same_bits(ember.special.xlog1py(2.0, xc), ember.special.xlog1py(2.0, x))


def test_narrow_names_its_node_on_the_record():
    """narrow is SliceBackward0 at full length too (x[:, 0:n] is an alias), by the record's
    attribute, so the name survives a replay after an in-place edit of the base."""
    a = ember.ones(2, 3, requires_grad=True)
    x = a.clone()
    for args in ((1, 0, 3), (0, 0, 2), (1, 1, 2), (-1, 0, 3)):
        v = x.narrow(*args)
        assert type(v.grad_fn).__name__ == "SliceBackward0", args
        assert v.grad_fn.op.named(v.grad_fn.params)["node_name"] == "SliceBackward0"
    v = x.narrow(1, 0, 3)
    x.mul_(2)
    assert type(v.grad_fn).__name__ == "SliceBackward0"
    assert type(a.clone()[:, 0:3].grad_fn).__name__ == "AliasBackward0"
    v.sum().backward()
    assert a.grad.tolist() == [[2.0] * 3] * 2


def test_narrow_names_match_pytorch():
    torch = pytest.importorskip("torch")
    for lib, names in ((torch, []), (ember, [])):
        x = lib.ones(2, 3, requires_grad=True).clone()
        for args in ((1, 0, 3), (0, 0, 2), (1, 1, 2), (-1, 0, 3), (0, 1, 1)):
            names.append(type(x.narrow(*args).grad_fn).__name__)
        if lib is torch:
            want = names
    assert names == want


def _cases():
    """Calls that built host arrays for device data (NumPy by name); each runs on both."""
    F = ember.nn.functional
    i2 = ember.tensor([0, 2])
    return {
        "topk": lambda x: x.topk(2, 1),
        "median": lambda x: x.median(),
        "median_dim": lambda x: x.median(1),
        "median_nan": lambda x: x.masked_fill(x > 1, math.nan).median(1),
        "nanmedian": lambda x: x.masked_fill(x > 1, math.nan).nanmedian(1),
        "kthvalue": lambda x: x.kthvalue(2, 1),
        "cummax": lambda x: x.cummax(1),
        "cummin": lambda x: x.cummin(0),
        "mode": lambda x: x.round().mode(1),
        "unique_consecutive": lambda x: ember.unique_consecutive(
            (x > 0).long().flatten(), return_inverse=True, return_counts=True),
        "unique_consecutive_dim": lambda x: ember.unique_consecutive(
            (x > 0).long(), return_counts=True, dim=1),
        "searchsorted": lambda x: ember.searchsorted(x.flatten().sort().values, x),
        "bucketize": lambda x: ember.bucketize(x, x[0].sort().values),
        "diag_embed": lambda x: ember.diag_embed(x),
        "diag": lambda x: ember.diag(x[0]),
        "diagflat": lambda x: ember.diagflat(x[:2, :2], 1),
        "block_diag": lambda x: ember.block_diag(x[:2, :2], x[0]),
        "repeat_interleave": lambda x: x.repeat_interleave(2, 0),
        "repeat_interleave_tensor": lambda x: x.repeat_interleave(
            ember.tensor([1, 0, 2, 1]).to(x.device), 0),
        "repeat_interleave_indices": lambda x: ember.repeat_interleave(
            ember.tensor([1, 2, 0]).to(x.device)),
        "unravel_index": lambda x: ember.unravel_index(
            ember.tensor([0, 7, 19]).to(x.device), (4, 5)),
        "take_along_dim": lambda x: ember.take_along_dim(x, x.argsort(1), 1),
        "one_hot": lambda x: F.one_hot(i2.to(x.device), 4),
        "heaviside": lambda x: ember.heaviside(x.masked_fill(x > 1, math.nan), x[0]),
        "float_power": lambda x: ember.float_power(x, 2),
        "float_power_scalar_base": lambda x: ember.float_power(2, x),
        "unfold_backward": lambda x: ember.autograd.grad(
            x.unfold(1, 2, 1).square().sum(), x)[0],
        "diag_embed_backward": lambda x: ember.autograd.grad(
            ember.diag_embed(x).square().sum(), x)[0],
        "normal_log_prob": lambda x: ember.distributions.Normal(x, x.abs() + 1).log_prob(x),
        "categorical_entropy": lambda x: ember.distributions.Categorical(logits=x).entropy(),
        "simplex_check": lambda x: ember.distributions.constraints.simplex.check(
            x.softmax(1)),
        "positive_definite_check": lambda x: ember.distributions.constraints.positive_definite
        .check(x[:, :4] @ x[:, :4].mT + ember.eye(4, device=x.device)),
        "lower_cholesky_check": lambda x: ember.distributions.constraints.lower_cholesky
        .check(x[:, :4].tril()),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_device_data_without_numpy_by_name(fake, name):
    """Each call gives the CPU's values with every result on the device (fake CuPy)."""
    ember.manual_seed(0)
    x = ember.randn(4, 5)
    f = _cases()[name]
    want = f(x.clone().requires_grad_())
    got = f(x.cuda().requires_grad_())
    want = list(want) if isinstance(want, tuple) else [want]
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.device.type == "cuda", name
        assert g.dtype == w.dtype and g.shape == w.shape
        assert np.allclose(g.detach().cpu().numpy(), w.detach().numpy(), equal_nan=True)


def test_random_fills_land_on_the_device(fake):
    """nn.init draws on the host generator and moves the values over once; a distribution's
    rsample lands on its parameters' device, with the CPU's stream."""
    init = ember.nn.init
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_,
               init.kaiming_normal_, init.orthogonal_, init.eye_, init.dirac_,
               lambda t: init.sparse_(t, 0.5), lambda t: init.constant_(t, 0.3)):
        ember.manual_seed(1)
        w = init.dirac_(ember.empty(2, 2, 3)) if fn is init.dirac_ else fn(ember.empty(4, 3))
        ember.manual_seed(1)
        t = ember.empty(2, 2, 3).cuda() if fn is init.dirac_ else ember.empty(4, 3).cuda()
        r = fn(t)
        assert r is t and t.device.type == "cuda"
        assert np.allclose(t.cpu().numpy(), w.numpy())
    for make in (lambda d: ember.distributions.Normal(ember.zeros(3, device=d), 1.0),
                 lambda d: ember.distributions.Cauchy(ember.zeros(3, device=d), 1.0)):
        ember.manual_seed(2)
        want = make("cpu").rsample()
        ember.manual_seed(2)
        got = make("cuda").rsample()
        assert got.device.type == "cuda" and np.allclose(got.cpu().numpy(), want.numpy())


def _bad_calls(lib):
    """30 common ops on mismatched shapes/dtypes: name -> (call, words ember's message must
    hold: the op and the shapes or dtypes involved)."""
    F = lib.nn.functional
    a23, a24, a32 = lib.ones(2, 3), lib.ones(2, 4), lib.ones(3, 2)
    d23 = lib.ones(2, 3, dtype=lib.float64)
    b23 = lib.ones(2, 3, dtype=lib.bool)
    i23 = lib.zeros(2, 3, dtype=lib.int64)
    return {
        "add": (lambda: lib.add(a23, a24), ["add", "[2, 3]", "[2, 4]"]),
        "mul": (lambda: a23 * a24, ["mul", "[2, 3]", "[2, 4]"]),
        "add_": (lambda: a23.clone().add_(lib.ones(3, 3)), ["add", "[2, 3]", "[3, 3]"]),
        "div_int": (lambda: i23.clone().div_(a23), ["div_", "Float", "Long"]),
        "matmul": (lambda: lib.matmul(a23, a24), ["matmul", "2x3", "2x4"]),
        "mm_dtype": (lambda: lib.mm(a23, d23.t()), ["mm", "float", "double"]),
        "bmm": (lambda: lib.bmm(lib.ones(2, 2, 3), lib.ones(2, 4, 3)), ["bmm", "[2, 3]", "[2, 4]"]),
        "baddbmm": (lambda: lib.baddbmm(lib.ones(2, 2, 2), lib.ones(2, 2, 3), lib.ones(2, 4, 2)),
                    ["baddbmm", "[2, 3]", "[2, 4]"]),
        "mv": (lambda: lib.mv(a23, lib.ones(2)), ["mv", "2x3", "(2)"]),
        "dot": (lambda: lib.dot(lib.ones(3), lib.ones(4)), ["dot", "[3]", "[4]"]),
        "dot_dtype": (lambda: lib.dot(lib.ones(3), lib.ones(3, dtype=lib.float64)),
                      ["dot", "Float", "Double"]),
        "einsum": (lambda: lib.einsum("ij,jk->ik", a23, a24), ["einsum", "size 2", "size 3"]),
        "cat_dim": (lambda: lib.cat([a23, a23], 2), ["cat", "[-2, 1]", "2"]),
        "stack": (lambda: lib.stack([a23, a32]), ["stack", "[2, 3]", "[3, 2]"]),
        "expand": (lambda: a23.expand(3, 3), ["expanded", "[3, 3]", "[2, 3]"]),
        "linear": (lambda: F.linear(a23, lib.ones(4, 4)), ["linear", "[2, 3]", "[4, 4]"]),
        "conv2d": (lambda: F.conv2d(lib.ones(1, 3, 5, 5), lib.ones(2, 4, 3, 3)),
                   ["conv2d", "[2, 4, 3, 3]", "[1, 3, 5, 5]"]),
        "nll_loss": (lambda: F.nll_loss(a23, lib.ones(2)), ["nll_loss", "Float", "[2, 3]"]),
        "mse_loss": (lambda: F.mse_loss(a23, a24), ["mse_loss", "[2, 3]", "[2, 4]"]),
        "where": (lambda: lib.where(b23, a23, a24), ["where", "[2, 3]", "[2, 4]"]),
        "masked_fill": (lambda: a23.masked_fill(lib.ones(2, 4, dtype=lib.bool), 0),
                        ["masked_fill", "[2, 4]", "[2, 3]"]),
        "gather_dtype": (lambda: lib.gather(a23, 1, a23), ["gather", "int32/int64",
                                                          "float32"]),
        "gather_shape": (lambda: lib.gather(a23, 1, lib.zeros(3, 3, dtype=lib.int64)),
                         ["gather", "[3, 3]", "[2, 3]"]),
        "index_select": (lambda: lib.index_select(a23, 0, a23), ["index_select", "vector",
                                                                "[2, 3]"]),
        "index_select_dtype": (lambda: lib.index_select(a23, 0, lib.ones(2)),
                               ["index_select", "int32 or int64", "float32"]),
        "scatter_dtype": (lambda: lib.zeros(2, 3).scatter_(1, i23, d23),
                          ["scatter", "self.dtype", "src.dtype"]),
        "layer_norm": (lambda: F.layer_norm(a23, (4,)), ["normalized_shape=[4]", "[2, 3]"]),
        "batch_norm": (lambda: F.batch_norm(lib.ones(2, 3, 4), lib.ones(4), lib.ones(4)),
                       ["running_mean", "3", "4"]),
        "lerp": (lambda: lib.lerp(a23, d23, 0.5), ["lerp", "loat", "ouble"]),
        "max_pool2d": (lambda: F.max_pool2d(lib.ones(1, 1, 2, 2), 3),
                       ["max_pool2d", "1x2x2", "1x0x0"]),
    }


def _builtin(exc_type):
    return next(c for c in exc_type.__mro__ if c.__module__ == "builtins")


@pytest.mark.parametrize("name", list(_bad_calls(ember)))
def test_errors_name_the_op_and_operands(name):
    """The error names the op and the shapes/dtypes involved (and, with the oracle, is
    PyTorch's exception type)."""
    call, words = _bad_calls(ember)[name]
    with pytest.raises(Exception) as info:
        call()
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)
    try:
        import torch
    except ImportError:
        return
    with pytest.raises(Exception) as want:
        _bad_calls(torch)[name][0]()
    assert _builtin(info.type) is _builtin(want.type), (msg, str(want.value))


def test_gather_and_scatter_take_int32_indices():
    """PyTorch takes int32 indices in gather and the scatters (take and take_along_dim
    refuse them there too)."""
    x = ember.arange(6.0).reshape(2, 3)
    i32 = ember.tensor([[2, 0, 1], [1, 1, 0]], dtype=ember.int32)
    i64 = i32.long()
    assert ember.equal(ember.gather(x, 1, i32), ember.gather(x, 1, i64))
    assert ember.equal(x.scatter(1, i32, -x), x.scatter(1, i64, -x))
    assert ember.equal(x.scatter_add(1, i32, x), x.scatter_add(1, i64, x))
    assert ember.equal(x.scatter_reduce(1, i32, x, "amax"), x.scatter_reduce(1, i64, x, "amax"))
    g = x.clone().requires_grad_()
    ember.gather(g, 1, i32).sum().backward()
    assert g.grad.tolist() == [[1.0, 1.0, 1.0], [1.0, 2.0, 0.0]]
    with pytest.raises(RuntimeError, match="int32/int64"):
        ember.gather(x, 1, i32.to(ember.uint8))
    with pytest.raises(RuntimeError, match="take"):
        ember.take(x, ember.tensor([0], dtype=ember.int32))


def test_where_names_the_device_mismatch_not_shapes(fake):
    x = ember.ones(2, 3)
    with pytest.raises(RuntimeError, match="same device"):
        ember.where(x.cuda() > 0, x, x.cuda())
