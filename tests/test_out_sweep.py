"""Every public callable with an ``out`` parameter honours it (issue 17).

The sweep inspects ember, ember.linalg, ember.fft and ember.special for callables whose
signature has ``out``, calls each with arguments it accepts, and checks that with ``out=``
the result lands in ``out`` (resized from an empty tensor, and written in place when the
shape already fits), and that the returned object is ``out`` (for ops returning several
tensors: a tuple of ``out``'s tensors). No oracle is needed."""

import inspect
import warnings

import numpy as np
import pytest

import ember
import ember.fft
import ember.linalg
import ember.special

MODULES = (("", ember), ("linalg.", ember.linalg), ("fft.", ember.fft),
           ("special.", ember.special))


def public_out_callables():
    found = {}
    for prefix, mod in MODULES:
        for n in sorted(dir(mod)):
            if n.startswith("_"):
                continue
            f = getattr(mod, n, None)
            if not callable(f) or inspect.isclass(f):
                continue
            try:
                sig = inspect.signature(f)
            except (TypeError, ValueError):
                continue
            if "out" in sig.parameters:
                found[prefix + n] = f
    return found


def T(*shape, lo=0.2, hi=0.9, seed=0):
    return ember.tensor(np.random.default_rng(seed).uniform(lo, hi, shape))


def SPD(n=3, seed=1):
    a = np.random.default_rng(seed).standard_normal((n, n))
    return ember.tensor(a @ a.T + n * np.eye(n))


def I(*shape, hi=5, seed=0):  # noqa: E743 - integer tensor maker
    return ember.tensor(np.random.default_rng(seed).integers(1, hi, shape))


# Arguments for ops the generic candidates below cannot call.
SPECIFIC = {
    "addbmm": lambda: (T(3, 5), T(2, 3, 4), T(2, 4, 5)),
    "baddbmm": lambda: (T(2, 3, 5), T(2, 3, 4), T(2, 4, 5)),
    "addmm": lambda: (T(3, 5), T(3, 4), T(4, 5)),
    "addmv": lambda: (T(3), T(3, 4), T(4)),
    "addr": lambda: (T(3, 4), T(3), T(4)),
    "bmm": lambda: (T(2, 3, 4), T(2, 4, 5)),
    "mm": lambda: (T(3, 4), T(4, 5)),
    "matmul": lambda: (T(3, 4), T(4, 5)),
    "mv": lambda: (T(3, 4), T(4)),
    "dot": lambda: (T(4), T(4, seed=1)),
    "outer": lambda: (T(3), T(4)),
    "ger": lambda: (T(3), T(4)),
    "cat": lambda: ([T(2, 3), T(1, 3)],),
    "concat": lambda: ([T(2, 3), T(1, 3)],),
    "concatenate": lambda: ([T(2, 3), T(1, 3)],),
    "stack": lambda: ([T(2, 3), T(2, 3, seed=1)],),
    "full": lambda: ((2, 3), 1.5),
    "gather": lambda: (T(3, 4), 1, ember.tensor([[0, 1], [2, 3], [1, 1]])),
    "index_select": lambda: (T(3, 4), 1, ember.tensor([3, 0])),
    "scatter": lambda: (T(3, 4), 1, ember.tensor([[0], [2], [1]]), T(3, 1)),
    "kthvalue": lambda: (T(3, 4), 2, 1),
    "median": lambda: (T(3, 4), 1),
    "histc": lambda: (T(20), 4),
    "topk": lambda: (T(3, 4), 2),
    "sort": lambda: (T(3, 4), 1),
    "cumprod": lambda: (T(3, 4), 1),
    "quantile": lambda: (T(3, 4), ember.tensor([0.25, 0.5]), 1),
    "nanquantile": lambda: (T(3, 4), ember.tensor([0.25, 0.5]), 1),
    "tensordot": lambda: (T(3, 4), T(4, 5), 1),
    "where": lambda: (T(3, 4) > 0.5, T(3, 4), T(3, 4, seed=1)),
    "polygamma": lambda: (1, T(3, 4)),
    "special.polygamma": lambda: (1, T(3, 4)),
    "randint": lambda: (0, 10, (3, 4)),
    "randperm": lambda: (7,),
    "rand": lambda: (3, 4),
    "randn": lambda: (3, 4),
    "linspace": lambda: (0.0, 1.0, 5),
    "arange": lambda: (0, 6, 2),
    "eye": lambda: (3, 4),
    "normal": lambda: (T(3, 4), T(3, 4, seed=1)),
    "multinomial": lambda: (T(2, 4), 3),
    "bernoulli": lambda: (T(3, 4),),
    "gcd": lambda: (I(3, 4), I(3, 4, seed=1)),
    "lcm": lambda: (I(3, 4), I(3, 4, seed=1)),
    **{f"bitwise_{k}": (lambda: (I(3, 4), I(3, 4, seed=1)))
       for k in ("and", "or", "xor", "left_shift", "right_shift")},
    "bitwise_not": lambda: (I(3, 4),),
    "frexp": lambda: (T(3, 4),),
    "linalg.matrix_power": lambda: (SPD(), 3),
    "linalg.multi_dot": lambda: ([T(2, 3), T(3, 4), T(4, 2)],),
    "linalg.solve_triangular": lambda: (SPD().triu(), T(3, 2)),
    "linalg.tensorinv": lambda: (SPD(4).reshape(4, 2, 2), 1),
    "linalg.tensorsolve": lambda: (SPD(6).reshape(2, 3, 6), T(2, 3)),
    "linalg.householder_product": lambda: (T(4, 3), T(3)),
    "linalg.cross": lambda: (T(2, 3), T(2, 3, seed=1)),
    "cross": lambda: (T(2, 3), T(2, 3, seed=1), 1),
    "linalg.vecdot": lambda: (T(2, 3), T(2, 3, seed=1)),
    "fft.fftfreq": lambda: (8,),
    "fft.rfftfreq": lambda: (8,),
    "special.multigammaln": lambda: (T(3, 4, lo=2, hi=3), 2),
    "special.zeta": lambda: (T(3, 4, lo=2, hi=3), T(3, 4)),
    "special.logsumexp": lambda: (T(3, 4), 1),
    "bucketize": lambda: (T(5), ember.tensor([0.3, 0.6])),
    "searchsorted": lambda: (ember.tensor([0.3, 0.6]), T(5)),
    "index_copy": lambda: (T(3, 4), 1, ember.tensor([0, 2]), T(3, 2, seed=1)),
    "masked_select": lambda: (T(3, 4), T(3, 4, seed=1) > 0.5),
    "vdot": lambda: (T(4), T(4, seed=1)),
    "inner": lambda: (T(2, 4), T(3, 4)),
    "kron": lambda: (T(2, 3), T(2, 2)),
    "diag": lambda: (T(3, 4), 1),
    "column_stack": lambda: ([T(3), T(3, 2)],),
    "hstack": lambda: ([T(3, 1), T(3, 2)],),
    "vstack": lambda: ([T(1, 3), T(2, 3)],),
    "row_stack": lambda: ([T(1, 3), T(2, 3)],),
    "dstack": lambda: ([T(2, 3), T(2, 3, seed=1)],),
    "logspace": lambda: (0.0, 2.0, 5),
    "mode": lambda: (I(3, 4, hi=3), 1),
    "aminmax": lambda: (T(3, 4),),
    # LU / LDL^T solves take the factorisation first
    "lu_solve": lambda: (T(3, 2), *ember.linalg.lu_factor(SPD())),
    "lu_unpack": lambda: tuple(ember.linalg.lu_factor(SPD())),
    "linalg.lu_solve": lambda: (*ember.linalg.lu_factor(SPD()), T(3, 2)),
    "linalg.ldl_solve": lambda: (*ember.linalg.ldl_factor(SPD()), T(3, 2)),
}
SPECIFIC_KW = {
    "linalg.solve_triangular": {"upper": True},
}
GENERIC = [lambda: (T(3, 4),), lambda: (T(3, 4), T(3, 4, seed=1)), lambda: (T(3, 4), 1),
           lambda: (SPD(),), lambda: (SPD(), SPD(seed=2)),
           lambda: (T(3, 4), T(3, 4, seed=1), T(3, 4, seed=2)), lambda: ((3, 4),)]
RANDOM = {"rand", "randn", "randint", "randperm", "normal", "multinomial", "bernoulli"}
ALL = public_out_callables()


def _call(f, args, kwargs, name):
    if name in RANDOM:
        ember.manual_seed(1234)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


def _reference(name, f):
    if name in SPECIFIC:
        args = SPECIFIC[name]()
        kw = SPECIFIC_KW.get(name, {})
        return args, kw, _call(f, args, kw, name)
    errors = []
    for make in GENERIC:
        args = make()
        try:
            return args, {}, _call(f, args, {}, name)
        except Exception as e:  # the next candidate may fit
            errors.append(f"{type(e).__name__}: {e}")
    pytest.fail(f"{name}: no argument set works; add it to SPECIFIC ({errors[-1]})")


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    if a.dtype.is_floating_point or a.dtype.is_complex:
        assert ember.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)
    else:
        assert ember.equal(a, b)


def test_the_sweep_finds_the_ops_of_the_issue():
    for n in ("cumprod", "sort", "gather", "index_select", "linspace", "randn", "topk", "median",
              "quantile", "scatter", "tensordot", "linalg.inv", "linalg.svd", "linalg.qr",
              "linalg.eigh", "linalg.slogdet", "fft.fft", "special.erf"):
        assert n in ALL, n
    assert len(ALL) > 200


@pytest.mark.parametrize("name", sorted(ALL))
def test_out_is_honoured(name):
    f = ALL[name]
    args, kw, ref = _reference(name, f)
    multi = isinstance(ref, tuple)
    refs = tuple(ref) if multi else (ref,)
    # 1. an empty out of the right dtype is resized and filled
    outs = tuple(ember.empty(0, dtype=r.dtype) for r in refs)
    res = _call(f, args, {**kw, "out": outs if multi else outs[0]}, name)
    if multi:
        assert type(res) is type(ref) and len(res) == len(outs)
        assert all(a is b for a, b in zip(res, outs)), f"{name} did not return out's tensors"
    else:
        assert res is outs[0], f"{name} did not return out"
    for o, r in zip(outs, refs):
        _same(o, r)
    # 2. an out of the right shape is written in place (same memory, version bumped)
    outs2 = tuple(ember.full(r.shape, 7, dtype=r.dtype) if r.numel() else
                  ember.empty(r.shape, dtype=r.dtype) for r in refs)
    ptrs = [o.data_ptr() for o in outs2]
    versions = [o._version for o in outs2]
    _call(f, args, {**kw, "out": outs2 if multi else outs2[0]}, name)
    for o, r, p, v in zip(outs2, refs, ptrs, versions):
        _same(o, r)
        assert o.numel() == 0 or o.data_ptr() == p, f"{name}: out's memory was replaced"
        assert o._version > v, f"{name}: out's version counter was not bumped"


def test_out_refuses_autograd_and_bad_out():
    x = ember.rand(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="out="):
        ember.cumprod(x, 1, out=ember.empty(0))
    with pytest.raises(TypeError, match="out"):
        ember.sort(ember.rand(3), out=ember.empty(0))  # two outputs need a tuple
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.quantile(ember.rand(4), 0.5, out=ember.empty(0, dtype=ember.int64))
    o = ember.empty(2, dtype=ember.float64)
    assert ember.linspace(0, 1, 5, out=o) is o and o.dtype == ember.float64 and o.shape == (5,)
    r = ember.randint(0, 3, (4,), out=ember.empty(0, dtype=ember.int32))
    assert r.dtype == ember.int32
