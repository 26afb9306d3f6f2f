"""The dispatch spine: every op through one door, interception modes, devices and ``meta``.

NOTE [ The dispatch spine ] in ember/_ops/core.py describes the path these tests pin down.
The known gaps are listed here, each with its reason, and the tests check the lists stay
exact: an op that joins the spine (or starts working on meta) must leave its list.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember._ops.core import OPS, DispatchMode
from op_db import OP_DB
from test_ops import _to_ember, call, samples

try:
    import torch
except ImportError:
    torch = None


class Provenance(DispatchMode):
    """Counts dispatches and remembers every tensor a record produced."""

    def __init__(self):
        self.n = 0
        self.names = []
        self.made = {}

    def __ember_dispatch__(self, op, inputs, params, run):
        self.n += 1
        self.names.append(op.name)
        out = run(inputs, params)
        for o in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(o, ember.Tensor):
                self.made[id(o)] = o
        return out


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def _off_spine(grad):
    """Op-table entries whose outputs were not produced by any record."""
    off = set()
    for info in OP_DB:
        if grad and not info.differentiable:
            continue
        for s in samples(info, info.dtypes[0])[:2]:
            ins = []

            def conv(a):
                t = _to_ember(a)
                if grad and t.is_floating_point():
                    t.requires_grad_(True)
                ins.append(t)
                return t

            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    with Provenance() as p:
                        out = call(info, ember, s, conv)
                except Exception:
                    continue  # samples that raise are the error tests' business
            outs = [o for o in (out if isinstance(out, (tuple, list)) else [out])
                    if isinstance(o, ember.Tensor)]
            if p.n == 0 or any(id(o) not in p.made and not any(o is i for i in ins)
                               for o in outs):
                off.add(info.name)
                break
    return off


# Entries that answer with a Python bool or a tensor built outside any record. Each is a
# query rather than a computation (PyTorch's versions of the first two are composite too).
OFF_SPINE = {
    "allclose": "returns a Python bool (composite of isclose + all)",
    "equal": "returns a Python bool",
    "contiguous": "returns self or a clone; the clone's record is checked by clone",
    "isclose": "composite computed on host arrays",
}


def test_every_table_op_reaches_a_record():
    assert _off_spine(grad=False) == set(OFF_SPINE)


def test_every_table_op_reaches_a_record_with_grad():
    assert _off_spine(grad=True) <= set(OFF_SPINE)


def test_elementwise_families_dispatch_exactly_once():
    a = ember.tensor([0.5, 1.5, 2.0])
    ag = ember.tensor([0.5, 1.5, 2.0], requires_grad=True)
    for name in ("exp", "tanh", "sigmoid", "neg", "abs", "sqrt", "sin", "relu"):
        for x in (a, ag):
            with Provenance() as p:
                getattr(ember, name)(x)
            assert p.names == [name], (name, p.names)
    for name in ("add", "sub", "mul", "div", "maximum", "pow", "atan2"):
        for x in (a, ag):
            with Provenance() as p:
                getattr(ember, name)(x, ag)
            assert p.names == [name], (name, p.names)
    with Provenance() as p:
        a + 1
        2 * ag
    assert p.names == ["add", "mul"]


def test_mode_sees_backward_and_nests():
    x = ember.tensor([0.5, 1.5], requires_grad=True)
    outer, inner = Provenance(), Provenance()
    with outer, inner:
        (x * 2).tanh().sum().backward()
    assert inner.names[:3] == ["mul", "tanh", "sum"]
    assert "tanh_backward" in inner.names  # backward formulas are dispatched ops too
    assert outer.names == inner.names  # the inner mode's run() reached the outer mode
    assert not ember._ops.core.MODES  # both removed on exit


def test_mode_can_replace_a_result_and_is_disabled_inside_itself():
    class Double(DispatchMode):
        def __ember_dispatch__(self, op, inputs, params, run):
            out = run(inputs, params)
            if op.name == "exp":
                return out * 2  # this mul runs with the mode disabled: no recursion
            return out

    with Double():
        y = ember.exp(ember.zeros(2))
    assert y.tolist() == [2.0, 2.0]


def test_records_carry_replayable_metadata():
    for name in ("cat", "to_copy", "zeros", "randn", "arange"):
        op = OPS[name]
        assert op.attrs, name
    assert OPS["randn"].random and OPS["randn"].kind == "factory"
    assert OPS["tanh"].kind == "elementwise"
    a, b = ember.ones(2), ember.zeros(3)
    with Provenance() as p:
        ember.cat([a, b], 0)
    assert p.names == ["cat"]
    assert OPS["cat"].named((0, (2, 3))) == {"dim": 0, "sizes": (2, 3)}
    assert OPS["cat"](ember.ones(2), ember.zeros(3), dim=0, sizes=(2, 3)).tolist() == \
        [1, 1, 0, 0, 0]


def test_factories_and_random_ops_are_records():
    with Provenance() as p:
        ember.zeros(2, 3)
        ember.ones(2)
        ember.full((2,), 3.0)
        ember.arange(4)
        ember.linspace(0, 1, 5)
        ember.eye(3)
        ember.rand(2)
        ember.randn(2)
        ember.randint(0, 4, (3,))
        ember.randperm(5)
    assert p.names == ["zeros", "ones", "full", "arange", "linspace", "eye", "rand", "randn",
                       "randint", "randperm"]


# =============================================================================== devices
def test_tensor_device_is_real():
    t = ember.zeros(2, 3, device="meta")
    assert t.device == ember.device("meta") and t.is_meta and not t.is_cpu
    assert ember.zeros(2).device == ember.device("cpu")
    assert repr(t) == "tensor(..., device='meta', size=(2, 3))"
    assert repr(ember.zeros(2, dtype=ember.int64, device="meta")) == \
        "tensor(..., device='meta', size=(2,), dtype=torch.int64)"


def test_device_errors_are_pytorchs():
    m = ember.zeros(3, device="meta")
    with pytest.raises(RuntimeError, match="same device"):
        m + ember.zeros(3)
    with pytest.raises(RuntimeError, match="same device"):
        ember.cat([ember.zeros(3), m])
    with pytest.raises(TypeError, match="meta device type tensor to numpy"):
        m.numpy()
    with pytest.raises(RuntimeError, match="meta tensors"):
        m.item()
    with pytest.raises(NotImplementedError, match="no data"):
        m.cpu()
    with pytest.raises(RuntimeError, match="Expected one of cpu"):
        ember.zeros(2, device="bogus")
    with pytest.raises(RuntimeError, match="not available"):
        ember.zeros(2, device="cuda")
    # a CPU 0-d tensor may join another device's op, as in PyTorch
    assert (m + ember.tensor(2.0)).is_meta


def test_default_device_context_and_setter():
    with ember.device("meta"):
        assert ember.ones(2).is_meta
        assert ember.randn(2, 2).is_meta
    assert ember.ones(2).is_cpu
    ember.set_default_device("meta")
    try:
        assert ember.get_default_device() == ember.device("meta")
        assert ember.arange(3).is_meta
    finally:
        ember.set_default_device(None)
    assert ember.get_default_device() == ember.device("cpu")


def test_to_meta_and_back_keeps_autograd():
    x = ember.ones(3, requires_grad=True)
    m = x.to("meta")
    assert m.is_meta and m.requires_grad and m.grad_fn.name() == "ToCopyBackward0"
    y = (m * 2).sum()
    assert y.is_meta and y.shape == ()


def test_meta_model_without_allocating_then_to_empty():
    import tracemalloc

    tracemalloc.start()
    big = nn.Linear(50_000, 50_000, device="meta")  # 10 GB of float32 if it were real
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 2**20, peak
    assert big.weight.is_meta and big.weight.shape == (50_000, 50_000)
    assert isinstance(big.weight, nn.Parameter)

    net = nn.Sequential(nn.Linear(4, 8, device="meta"), nn.ReLU(), nn.Linear(8, 2))
    assert net[0].weight.is_meta and net[2].weight.is_cpu
    net[2].to("meta")
    out = net(ember.randn(5, 4, device="meta"))
    assert out.is_meta and out.shape == (5, 2)
    net.to_empty(device="cpu")
    assert all(p.is_cpu for p in net.parameters())
    for m in (net[0], net[2]):
        m.reset_parameters()
    y = net(ember.randn(5, 4))
    assert y.shape == (5, 2) and bool(ember.isfinite(y).all())
    y.sum().backward()
    assert net[0].weight.grad.shape == (8, 4)


# Op-table entries whose forward does not run on meta arrays yet. Each reached for values or
# used a host NumPy call behind the backend's back, which is what the meta device finds.
META_GAPS = {
    "allclose": "returns a Python bool, which needs values (PyTorch's meta refuses too)",
    "equal": "returns a Python bool, which needs values (PyTorch's meta refuses too)",
}


def _to_meta(a):
    if isinstance(a, np.dtype):
        return getattr(ember, a.name)
    return ember.from_numpy(np.array(a)).to("meta")


def _meta_results():
    """name -> (real outputs, meta outputs or the exception) for each entry's first sample."""
    res = {}
    for info in OP_DB:
        s = samples(info, info.dtypes[0])[0]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                real = call(info, ember, s, _to_ember)
            except Exception:
                continue
            try:
                meta = call(info, ember, s, _to_meta)
            except Exception as e:
                meta = e
        res[info.name] = (s, real, meta)
    return res


def _outs(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def test_meta_shapes_and_dtypes_equal_real_outputs():
    failing = set()
    for name, (_, real, meta) in _meta_results().items():
        if isinstance(meta, Exception):
            failing.add(name)
            continue
        for r, m in zip(_outs(real), _outs(meta), strict=True):
            if isinstance(r, ember.Tensor):
                assert isinstance(m, ember.Tensor) and m.is_meta, name
                assert (tuple(m.shape), m.dtype) == (tuple(r.shape), r.dtype), name
    assert failing == set(META_GAPS)


@pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")
def test_meta_shapes_and_dtypes_equal_pytorchs_meta():
    from test_ops import _map

    def to_torch_meta(a):
        if isinstance(a, np.dtype):
            return getattr(torch, a.name)
        return torch.from_numpy(np.array(a)).to("meta")

    by_name = {info.name: info for info in OP_DB}
    compared = 0
    for name, (s, _, meta) in _meta_results().items():
        if isinstance(meta, Exception):
            continue
        info = by_name[name]
        x, args, kw = _map((s.input, s.args, s.kwargs), to_torch_meta)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tm = info.op(torch, x, *args, **kw)
        except Exception:
            continue  # PyTorch has no meta kernel for it
        for m, t in zip(_outs(meta), _outs(tm)):
            if isinstance(m, ember.Tensor) and isinstance(t, torch.Tensor):
                assert tuple(m.shape) == tuple(t.shape), name
                assert str(m.dtype) == str(t.dtype), name
                compared += 1
    assert compared > 150


def test_data_dependent_ops_refuse_meta():
    m = ember.zeros(4, device="meta")
    with pytest.raises(NotImplementedError, match="values"):
        ember.nonzero(m)
    with pytest.raises(NotImplementedError, match="values"):
        m[m > 0]


# tests/test_ops_extra.py's cases whose results are built outside any record. The first group
# answers with Python values or returns its input; the second wraps host data the user gave;
# the rest still compute on host arrays and wrap the result: the work left for the spine.
OFF_SPINE_EXTRA = {
    **dict.fromkeys(["broadcast_shapes", "is_nonzero", "is_same_size", "is_conj", "positive",
                     "resolve_neg"], "a query or the input itself"),
    **dict.fromkeys(["tensor", "as_tensor", "asarray", "from_numpy"], "leaf from host data"),
}


def test_extra_ops_reach_a_record():
    from test_ops_extra import CASES

    off = set()
    for name, (fn, arrays, _) in CASES.items():
        ins = [ember.tensor(a) for a in arrays]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Provenance() as p:
                out = fn(ember, *ins)
        outs = [o for o in (out if isinstance(out, (tuple, list)) else [out])
                if isinstance(o, ember.Tensor)]
        if p.n == 0 or any(id(o) not in p.made and not any(o is i for i in ins)
                           for o in outs):
            off.add(name)
    assert off == set(OFF_SPINE_EXTRA)


def test_random_ops_are_records_that_mutate_or_draw():
    x = ember.empty(4)
    p = ember.full((4,), 0.5)
    calls = [
        ("uniform_", lambda: x.uniform_(0, 1)), ("normal_", lambda: x.normal_()),
        ("bernoulli_", lambda: x.bernoulli_(0.5)),
        ("bernoulli_tensor_", lambda: x.bernoulli_(p)),
        ("exponential_", lambda: x.exponential_()), ("random_", lambda: x.random_(0, 5)),
        ("geometric_", lambda: x.geometric_(0.5)), ("log_normal_", lambda: x.log_normal_()),
        ("cauchy_", lambda: x.cauchy_()), ("bernoulli", lambda: ember.bernoulli(p)),
        ("poisson", lambda: ember.poisson(p)),
        ("normal_tensor", lambda: ember.normal(p, 1.0)),
        ("normal", lambda: ember.normal(0.0, 1.0, (3,))),
        ("multinomial", lambda: ember.multinomial(p, 2)),
    ]
    for name, call in calls:
        v = x._version
        with Provenance() as prov:
            call()
        assert prov.names == [name], (name, prov.names)
        assert OPS[name].random
        if name.endswith("_"):
            assert OPS[name].mutates == (0,) and x._version == v + 1, name
    ember.manual_seed(3)
    a = ember.empty(5).normal_()
    ember.manual_seed(3)
    assert ember.equal(ember.empty(5).normal_(), a)  # the default generator's stream
    # no data to fill on meta: a 10 GB tensor is "initialised" without allocating
    big = ember.empty(50_000, 50_000, device="meta")
    assert big.uniform_(-1, 1) is big and big.normal_() is big
    assert ember.bernoulli(ember.ones(3, device="meta")).is_meta


def test_elementwise_scalar_expressions_match_their_records():
    """NOTE [ Scalar expressions ]: each op.expr, evaluated with NumPy, equals the record."""
    from ember._backends import numpy_backend
    from ember._ops.elementwise import EXPRS

    vocab = {n: getattr(np, n) for n in (
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan",
        "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
        "abs", "floor", "ceil", "trunc", "sign", "isnan", "isinf", "isfinite", "where",
        "power", "maximum", "minimum", "fmax", "fmin", "arctan2", "fmod", "remainder",
        "logical_and", "logical_or", "logical_xor", "logical_not")}
    vocab.update(erf=numpy_backend.erf, erfc=numpy_backend.erfc)
    vals = np.array([-2.5, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 3.0, np.inf, -np.inf, np.nan])
    a, b = np.meshgrid(vals, vals[::-1] + 0.0)
    a, b = a.ravel(), b.ravel()
    assert len(EXPRS) >= 60
    for name, expr in EXPRS.items():
        op = OPS[name]
        assert op.expr == expr and op.kind == "elementwise", name
        binary = "b" in expr.replace("abs", "").replace("arctan2", "").replace("sub", "")
        with np.errstate(all="ignore"):
            want = eval(expr, {"__builtins__": {}}, {**vocab, "a": a, "b": b})
            got = op(ember.from_numpy(a), ember.from_numpy(b)) if binary else \
                op(ember.from_numpy(a))
        np.testing.assert_allclose(np.asarray(want, dtype=np.float64),
                                   got.numpy().astype(np.float64), rtol=1e-12, atol=0,
                                   equal_nan=True, err_msg=f"{name}: {expr}")


def test_in_place_writes_are_visible_as_copy_records():
    x, y = ember.ones(3), ember.ones(3)
    with Provenance() as p:
        x.add_(y)
        x.exp_()
        x.copy_(y)
        x.fill_(2)
        x[0] = 5
    assert p.names == ["add", "copy_", "exp", "copy_", "copy_", "fill_", "index_put", "copy_"]
    assert OPS["copy_"].mutates == (0,) and OPS["fill_"].mutates == (0,)
    assert x.tolist() == [5.0, 2.0, 2.0] and x._version == 5
    m = ember.zeros(3, device="meta")
    assert m.copy_(ember.ones(3)) is m  # copy_ crosses devices, as in PyTorch


def test_every_dispatched_record_names_its_attributes():
    """Records a compiler replays carry named attributes, not positional params."""
    unnamed = {}

    class Check(DispatchMode):
        def __ember_dispatch__(self, op, inputs, params, run):
            p = params if isinstance(params, tuple) else () if params is None else (params,)
            if len(p) > len(op.attrs):
                unnamed[op.name] = len(p) - len(op.attrs)
            return run(inputs, params)

    with Check():
        for info in OP_DB:
            for s in samples(info, info.dtypes[0])[:2]:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        out = call(info, ember, s, _to_ember)
                    except Exception:
                        continue
                for o in _outs(out):
                    if isinstance(o, ember.Tensor) and o.requires_grad:
                        o.sum().backward()
    assert unnamed == {}


# Entries whose primitive is a record of another name (the call is still exactly one record).
RECORD_OF = {"div": "floor_divide", "clamp": "clamp_tensor", "reshape": "view"}


def test_each_primitive_dispatches_its_record_exactly_once():
    """For every op-table entry named after a record, with and without gradients: exactly one
    dispatch of that record per call (no double dispatch, no bypass)."""
    bad = {}
    for info in OP_DB:
        name = info.name.split(".")[0]
        if name not in OPS or name == "contiguous":  # contiguous returns a contiguous input
            continue
        for grad in (False, True):
            for s in samples(info, info.dtypes[0])[:2]:
                def conv(a, grad=grad):
                    t = _to_ember(a)
                    return t.requires_grad_(True) if grad and t.is_floating_point() else t

                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        with Provenance() as p:
                            call(info, ember, s, conv)
                    except Exception:
                        continue
                if p.names.count(name) != 1 and p.names != [RECORD_OF.get(name)]:
                    bad[(info.name, grad)] = p.names
    assert bad == {}


def test_out_resize_warns_like_pytorch_and_the_write_is_a_record():
    out = ember.zeros(2)
    with pytest.warns(UserWarning, match="was resized since it had shape \\[2\\]"):
        ember.add(ember.ones(3), 1, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0]
    empty = ember.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # resizing an empty out is silent, as in PyTorch
        ember.add(ember.ones(2), 1, out=empty)
    one = ember.ones(2)
    with Provenance() as p:
        ember.add(one, 1, out=empty)
    assert p.names == ["add", "copy_"]
    with pytest.raises(RuntimeError, match="same device"):
        ember.add(ember.ones(2), 1, out=ember.empty(2, device="meta"))
    with pytest.raises(RuntimeError, match="meta and cpu!"):  # not a shape error
        ember.matmul(ember.zeros(2, 2, device="meta"), ember.ones(2, 2))


def test_inlined_tensor_construction_matches_make_tensor():
    """NOTE [ Hot path ]: the per-op paths build tensors exactly as make_tensor does."""
    from ember._tensor import make_tensor

    ref = make_tensor(np.ones(2))
    slots = [s for s in ember.Tensor.__slots__ if s != "__weakref__"]
    a = ember.ones(2)
    for t in (a + a, a.exp(), a.sum(), ember.cat([a, a])):
        assert [getattr(t, s) is None for s in slots[2:]] == \
            [getattr(ref, s) is None for s in slots[2:]]
        assert t._requires_grad is False and t._data.__class__ is np.ndarray
