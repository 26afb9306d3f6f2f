"""The kernel generator (ember/_codegen): programs compiled to C against NumPy evaluation of
the same expression strings; reductions and staged kernels; cache, fallbacks, threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ember._backends import numpy_backend
from ember._codegen import (KernelError, build, elementwise_kernel, reduction_kernel,
                            set_disabled, staged_kernel)
from ember._ops.elementwise import EXPRS

HAVE_CC = build.compiler()[0] is not None
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="no C compiler on this machine")

VOCAB = {n: getattr(np, n) for n in (
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "abs", "floor", "ceil", "trunc", "sign", "isnan", "isinf", "isfinite", "where",
    "power", "maximum", "minimum", "fmax", "fmin", "arctan2", "fmod", "remainder",
    "logical_and", "logical_or", "logical_xor", "logical_not", "square")}
VOCAB.update(erf=numpy_backend.erf, erfc=numpy_backend.erfc, inf=np.inf, nan=np.nan,
             astype=lambda a, dt: np.asarray(a).astype(dt))


def reference(inputs, body, outputs, arrays):
    """Evaluate the program's strings with NumPy (the meaning the IR promises)."""
    env = {n: a for (n, _), a in zip(inputs, arrays)}
    with np.errstate(all="ignore"):
        for name, src in body:
            env[name] = eval(src, {"__builtins__": {}}, {**VOCAB, **env})
    return [np.asarray(env[n]) for n, _ in outputs]


SPECIAL = np.array([-2.5, -1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 3.0, 7.5, np.inf,
                    -np.inf, np.nan])


@needs_cc
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(EXPRS))
def test_every_expr_matches_numpy(name, dtype):
    expr = EXPRS[name]
    a, b = np.meshgrid(SPECIAL, SPECIAL[::-1])
    a, b = a.ravel().astype(dtype), b.ravel().astype(dtype)
    binary = "b" in expr.replace("abs", "").replace("arctan2", "").replace("sub", "")
    inputs = [("a", dtype), ("b", dtype)] if binary else [("a", dtype)]
    arrays = [a, b] if binary else [a]
    want = reference(inputs, [("y", expr)], [("y", None)], arrays)[0]
    k = elementwise_kernel(inputs, [("y", expr)], [("y", want.dtype)])
    assert k.backend == "c", k.fallback_reason
    got = k(arrays)[0]
    assert got.dtype == want.dtype
    tol = {"float32": 2e-6, "float64": 1e-14}[dtype] if want.dtype.kind == "f" else 0
    if name in ("erf", "erfc"):
        tol = max(tol, 1e-6)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=expr)


@needs_cc
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_and_bool_semantics(dtype):
    info = np.iinfo(dtype) if dtype != "bool" else None
    vals = np.array([0, 1, 1, 0], dtype) if dtype == "bool" else \
        np.array([0, 1, -1, 2, -7, 7, info.min, info.max, 3, -3], dtype)
    a, b = (x.ravel() for x in np.meshgrid(vals, vals[::-1]))
    exprs = ["a + b", "a * b", "maximum(a, b)", "minimum(a, b)", "a == b", "a < b",
             "logical_xor(a, b)", "where(a > b, a, b)", "astype(a, 'float32') / 3",
             "abs(a)", "a / b"]
    if dtype != "bool":
        exprs += ["a - b", "-a", "remainder(a, b)", "fmod(a, b)", "sign(a)", "a * 2 + 1",
                  "floor(a)", "astype(a, 'int32')", "astype(a, 'int64') * 3", "square(a)"]
    for expr in exprs:
        want = reference([("a", dtype), ("b", dtype)], [("y", expr)], [("y", None)], [a, b])[0]
        k = elementwise_kernel([("a", dtype), ("b", dtype)], [("y", expr)],
                               [("y", want.dtype)])
        assert k.backend == "c", (expr, k.fallback_reason)
        got = k([a, b])[0]
        assert got.dtype == want.dtype, expr
        np.testing.assert_array_equal(got, want, err_msg=expr)


@needs_cc
def test_casts_match_numpy():
    f = np.array([0.0, -0.0, 1.5, -1.5, 2.0 ** 31, -2.0 ** 31 - 1, 3e9, -3e9, 1e20, np.inf,
                  -np.inf, np.nan, 1e-45, 7.0])
    for src in ("float32", "float64", "int32", "int64", "bool"):
        with np.errstate(all="ignore"):
            x = f.astype(src)
        for dst in ("bool", "int32", "int64", "float32", "float64"):
            k = elementwise_kernel([("x", src)], [("y", f"astype(x, '{dst}')")], [("y", dst)])
            assert k.backend == "c"
            with np.errstate(all="ignore"):
                want = x.astype(dst)
            np.testing.assert_array_equal(k([x])[0], want, err_msg=f"{src}->{dst}")


# ------------------------------------------------------------------ random programs
DTYPES = ["float32", "float64", "int32", "int64", "bool"]
# operations C computes exactly as NumPy does (IEEE basic ops, selects, integer wrapping)
EXACT_UNARY = ["-{}", "abs({})", "floor({})", "ceil({})", "trunc({})", "sqrt({})",
               "isnan({})", "logical_not({})", "sign({})", "astype({}, 'float32')",
               "astype({}, 'int64')", "({} * 0.5)", "({} + 1)", "square({})"]
EXACT_BINARY = ["({} + {})", "({} - {})", "({} * {})", "({} / {})", "maximum({}, {})",
                "minimum({}, {})", "fmax({}, {})", "fmin({}, {})", "({} < {})",
                "({} >= {})", "({} == {})", "remainder({}, {})", "fmod({}, {})",
                "logical_or({}, {})", "where({} > 0, {}, -2)"]


@st.composite
def programs(draw):
    nin = draw(st.integers(1, 3))
    dts = [draw(st.sampled_from(DTYPES)) for _ in range(nin)]
    inputs = [(f"x{i}", dt) for i, dt in enumerate(dts)]
    names = [n for n, _ in inputs]
    body = []
    for j in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            e = draw(st.sampled_from(EXACT_UNARY)).format(draw(st.sampled_from(names)))
        else:
            e = draw(st.sampled_from(EXACT_BINARY)).format(draw(st.sampled_from(names)),
                                                          draw(st.sampled_from(names)))
        body.append((f"t{j}", e))
        names.append(f"t{j}")
    outs = sorted(set([body[-1][0]] + draw(st.lists(st.sampled_from(names), max_size=2))))
    # shapes that broadcast: each input drops or keeps dims of a common shape
    full = draw(st.lists(st.integers(1, 5), min_size=0, max_size=3))
    shapes = []
    for _ in range(nin):
        s = [d if draw(st.booleans()) else 1 for d in full]
        shapes.append(tuple(s[draw(st.integers(0, len(s))):]))
    seed = draw(st.integers(0, 2 ** 16))
    layout = draw(st.sampled_from(["c", "transposed", "strided"]))
    return inputs, body, outs, shapes, seed, layout


def _make(shape, dt, rng, layout):
    vals = np.concatenate([SPECIAL, rng.standard_normal(16) * 4])
    with np.errstate(all="ignore"):
        x = rng.choice(vals, size=shape).astype(dt) if dt != "bool" else \
            rng.random(shape) < 0.5
        if dt.startswith("int"):
            x = (rng.integers(-9, 9, size=shape)).astype(dt)
    x = np.asarray(x, dt)
    if layout == "transposed" and x.ndim >= 2:
        return np.ascontiguousarray(x.T).T
    if layout == "strided" and x.ndim >= 1:
        big = np.repeat(x, 2, axis=-1)
        return big[..., ::2]
    return x


def _run_program(prog):
    inputs, body, outs, shapes, seed, layout = prog
    rng = np.random.default_rng(seed)
    arrays = [_make(s, dt, rng, layout) for s, (_, dt) in zip(shapes, inputs)]
    try:
        want = reference(inputs, body, [(o, None) for o in outs], arrays)
    except (TypeError, ValueError, OverflowError):
        want = None
    try:
        k = elementwise_kernel(inputs, body, [(o, w.dtype) for o, w in zip(outs, want)]
                               if want is not None else [(o, "float64") for o in outs])
    except KernelError:
        assert want is None or True  # NumPy accepted it but the IR refused: allowed
        return None
    assert want is not None, "the IR accepted a program NumPy refuses"
    return k, arrays, want


@needs_cc
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_equal_numpy_bitwise(prog):
    res = _run_program(prog)
    assume(res is not None)
    k, arrays, want = res
    got = k(arrays)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == shape and g.flags.c_contiguous
        np.testing.assert_array_equal(g, np.broadcast_to(w, shape))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_numpy_executor(prog):
    old = set_disabled(True)  # what EMBER_JIT_DISABLE=1 sets at import
    try:
        res = _run_program(prog)
        assume(res is not None)
        k, arrays, want = res
        assert k.backend == "numpy"
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        for g, w in zip(k(arrays), want):
            np.testing.assert_array_equal(g, np.broadcast_to(w, shape))
    finally:
        set_disabled(old)


# ------------------------------------------------------------------ reductions, staged
@needs_cc
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("axis", [None, -1, 0, (0, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_reductions_match_numpy(op, axis, dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 5, 7)) * (0.3 if op == "prod" else 3)).astype(dtype)
    if dtype == "int32":
        x = rng.integers(-3, 4, (6, 5, 7)).astype(dtype)
    for keepdim in (False, True):
        r = reduction_kernel([("x", dtype)], [("t", "x * 2")], (op, "t"),
                             [("y", "float64")], axis=axis,
                             keepdim=keepdim, epilogue=[("y", "astype(r, 'float64') + 1")])
        fn = getattr(np, op)
        with np.errstate(all="ignore"):
            want = fn(x * 2, axis=axis, keepdims=keepdim).astype(np.float64) + 1
        got = r([x])[0]
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-5)
        # the result dtype is NumPy's (sum of int32 is int64, mean of ints float64)
        r2 = reduction_kernel([("x", dtype)], [], (op, "x"), [("r", fn(x).dtype)], axis=axis)
        assert r2([x])[0].dtype == fn(x).dtype


@needs_cc
def test_max_min_propagate_nan_and_big_sums():
    x = np.arange(300_000, dtype=np.float32)
    x[123_456] = np.nan
    for op in ("max", "min"):
        r = reduction_kernel([("x", "float32")], [], (op, "x"), [("r", "float32")])
        assert np.isnan(r([x])[0])
        r = reduction_kernel([("x", "float32")], [], (op, "x"), [("r", "float32")], axis=-1)
        assert np.isnan(r([x.reshape(3, -1)])[0][1])
    y = np.random.default_rng(0).standard_normal(1_000_003).astype(np.float32)
    r = reduction_kernel([("x", "float32")], [], ("sum", "x"), [("r", "float32")])
    assert abs(float(r([y])[0]) - y.astype(np.float64).sum()) < 1e-3
    r = reduction_kernel([("x", "float32")], [], ("max", "x"), [("r", "float32")])
    assert r([y])[0] == y.max()
    with pytest.raises(ValueError, match="zero-size"):
        r([np.zeros(0, np.float32)])
    s = reduction_kernel([("x", "float32")], [], ("sum", "x"), [("r", "float32")])
    assert s([np.zeros((0,), np.float32)])[0] == 0


def _softmax_body():
    return [("m", "max(x)"), ("e", "exp(x - m)"), ("s", "sum(e)"), ("y", "e / s"),
            ("ly", "x - m - log(s)")]


@needs_cc
@pytest.mark.parametrize("shape", [(4, 7), (3, 2, 1000), (1, 70_000), (5,)])
def test_staged_softmax_log_softmax(shape):
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32) * 5
    x.flat[0] = -np.inf
    k = staged_kernel([("x", "float32")], _softmax_body(),
                      [("y", "float32"), ("ly", "float32"), ("m", "float32")], axis=-1)
    y, ly, m = k([x])
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(-1, keepdims=True), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(ly, np.log(e / e.sum(-1, keepdims=True)), rtol=2e-5,
                               atol=2e-5)
    np.testing.assert_array_equal(m, x.max(-1))
    k2 = staged_kernel([("x", "float32")], _softmax_body(), [("m", "float32")], axis=-1,
                       keepdim=True)
    assert k2([x])[0].shape == shape[:-1] + (1,)


@needs_cc
def test_staged_layer_norm_batch_norm_and_rindex():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 16, 32)).astype(np.float32)
    w, b = rng.standard_normal(32).astype(np.float32), rng.standard_normal(32).astype(
        np.float32)
    ln = staged_kernel([("x", "float32"), ("w", "float32"), ("b", "float32")],
                       [("mu", "mean(x)"), ("d", "x - mu"), ("v", "mean(d * d)"),
                        ("rs", "1 / sqrt(v + 1e-5)"), ("y", "d * rs * w + b")],
                       [("y", "float32"), ("mu", "float32"), ("rs", "float32")], axis=-1,
                       keepdim=True)
    y, mu, rs = ln([x, w, b])
    mref = x.mean(-1, keepdims=True)
    rref = 1 / np.sqrt(((x - mref) ** 2).mean(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, (x - mref) * rref * w + b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rs, rref, rtol=1e-5)
    c = rng.standard_normal((4, 6, 5, 5)).astype(np.float32)[:, :, ::1, :]
    bn = staged_kernel([("x", "float32")], [("mu", "mean(x)"), ("d", "x - mu"),
                                            ("v", "mean(d * d)"), ("y", "d / sqrt(v + 1e-5)")],
                       [("y", "float32"), ("v", "float32")], axis=(0, 2, 3))
    y, v = bn([c.transpose(0, 1, 3, 2)])
    ct = c.transpose(0, 1, 3, 2)
    np.testing.assert_allclose(v, ct.var((0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(y, (ct - ct.mean((0, 2, 3), keepdims=True)) /
                               np.sqrt(ct.var((0, 2, 3), keepdims=True) + 1e-5), rtol=1e-4,
                               atol=1e-5)
    # cross-entropy: the target column picked by rindex
    logits = rng.standard_normal((6, 10)).astype(np.float32)
    t = rng.integers(0, 10, (6, 1))
    ce = staged_kernel([("x", "float32"), ("t", "int64")],
                       [("m", "max(x)"), ("s", "sum(exp(x - m))"),
                        ("xt", "sum(where(rindex == t, x, 0))"), ("nll", "m + log(s) - xt")],
                       [("nll", "float32")], axis=-1)
    want = -np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True))[np.arange(6), t[:, 0]]
    np.testing.assert_allclose(ce([logits, t])[0], want, rtol=1e-5)


# ------------------------------------------------------------------ API, errors, out=
def test_bad_programs_and_arguments():
    with pytest.raises(KernelError, match="unknown function"):
        elementwise_kernel([("x", "float32")], [("y", "frobnicate(x)")], [("y", "float32")])
    with pytest.raises(KernelError, match="not defined"):
        elementwise_kernel([("x", "float32")], [("y", "x + 1")], [("z", "float32")])
    with pytest.raises(KernelError, match="subtract"):
        elementwise_kernel([("x", "bool")], [("y", "x - x")], [("y", "bool")])
    with pytest.raises(KernelError, match="only allowed in staged"):
        elementwise_kernel([("x", "float32")], [("y", "sum(x)")], [("y", "float32")])
    k = elementwise_kernel([("x", "float32"), ("z", "float32")], [("y", "x + z")],
                           [("y", "float32")])
    with pytest.raises(TypeError, match="must be float32"):
        k([np.ones(2), np.ones(2, np.float32)])
    with pytest.raises(ValueError, match="do not broadcast"):
        k([np.ones(2, np.float32), np.ones(3, np.float32)])
    with pytest.raises(ValueError, match="out arrays must be"):
        k([np.ones(2, np.float32)] * 2, out=[np.ones(3, np.float32)])
    strided = np.zeros((2, 6), np.float32)
    k([np.ones((2, 1), np.float32), np.arange(3, dtype=np.float32)], out=[strided[:, ::2]])
    assert strided.tolist() == [[1, 0, 2, 0, 3, 0]] * 2
    o = np.empty((2, 3), np.float32)
    r = k([np.ones((2, 1), np.float32), np.arange(3, dtype=np.float32)], out=[o])
    assert r[0] is o and o.tolist() == [[1, 2, 3]] * 2
    assert k([np.ones((0, 3), np.float32), np.ones(3, np.float32)])[0].shape == (0, 3)
    x0 = np.array(2.0, np.float32)
    assert k([x0, x0])[0].shape == () and k([x0, x0])[0] == 4


def test_float16_and_unsupported_run_on_numpy():
    k = elementwise_kernel([("x", "float16")], [("y", "tanh(x) * 2")], [("y", "float16")])
    assert k.backend == "numpy" and "float16" in k.fallback_reason
    x = np.linspace(-2, 2, 9).astype(np.float16)
    np.testing.assert_array_equal(k([x])[0], np.tanh(x) * 2)
    k = elementwise_kernel([("x", "int32")], [("y", "power(x, 2)")], [("y", "int32")])
    assert k.backend == "numpy"
    np.testing.assert_array_equal(k([np.arange(4, dtype=np.int32)])[0], [0, 1, 4, 9])


# ------------------------------------------------------------------ processes
SCRIPT = textwrap.dedent("""
    import hashlib, json, sys, time, warnings
    import numpy as np
    warnings.simplefilter("always")
    t0 = time.perf_counter()
    from ember._codegen import staged_kernel, reduction_kernel, build
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        x = np.random.default_rng(0).standard_normal((3, 400_000)).astype(np.float32)
        s = reduction_kernel([("x", "float32")], [("t", "x * 1.5")], ("sum", "t"),
                             [("r", "float32")])
        k = staged_kernel([("x", "float32")], [("m", "max(x)"), ("s", "sum(exp(x - m))"),
                                               ("y", "exp(x - m) / s")], [("y", "float32")])
        t1 = time.perf_counter()
        a = s([x])[0]
        b = k([x.reshape(-1, 1000)])[0]
        t2 = time.perf_counter()
    h = hashlib.sha256(a.tobytes() + b.tobytes()).hexdigest()
    print(json.dumps({"hash": h, "backend": s.backend, "stats": build.STATS,
                      "call_s": t2 - t1, "warnings": [str(w.message) for w in ws],
                      "sum": float(a), "ok": bool(abs(float(b.sum()) - 1200) < 1e-2)}))
""")


def _run(env_extra, tmp_path):
    env = dict(os.environ, EMBER_CACHE_DIR=str(tmp_path / "cache"), **env_extra)
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@needs_cc
def test_reductions_bitwise_identical_across_thread_counts_and_warm_cache(tmp_path):
    one = _run({"OMP_NUM_THREADS": "1"}, tmp_path)
    two = _run({"OMP_NUM_THREADS": "2"}, tmp_path)
    assert one["backend"] == "c" and one["ok"]
    assert one["hash"] == two["hash"]
    assert one["stats"]["compiled"] >= 2            # the first process compiles
    assert two["stats"]["compiled"] == 0            # the second loads from disk
    assert two["stats"]["loaded_from_disk"] >= 2
    assert two["call_s"] < 0.5, two                  # dlopen, no compiler run


def test_no_compiler_and_disabled_fall_back(tmp_path):
    bare = str(tmp_path / "bin")
    os.makedirs(bare)
    env = {"PATH": bare, "CC": ""}
    nocc = _run(env, tmp_path)
    assert nocc["backend"] == "numpy" and nocc["ok"]
    assert len([w for w in nocc["warnings"] if "NumPy executor" in w]) == 1
    off = _run({"EMBER_JIT_DISABLE": "1"}, tmp_path)
    assert off["backend"] == "numpy" and off["ok"] and off["warnings"] == []
    assert abs(off["sum"] - nocc["sum"]) == 0
    if HAVE_CC:
        c = _run({}, tmp_path)
        assert abs(c["sum"] - off["sum"]) <= 1e-4 * abs(off["sum"]) + 1e-2


@needs_cc
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.sampled_from(["sum", "mean", "max", "min"]),
       st.sampled_from([None, -1, 0, (0, -1)]), st.booleans())
def test_random_reductions_against_numpy(prog, op, axis, keepdim):
    inputs, body, outs, shapes, seed, layout = prog
    rng = np.random.default_rng(seed)
    arrays = [_make(s, dt, rng, layout) for s, (_, dt) in zip(shapes, inputs)]
    try:
        val = reference(inputs, body, [(body[-1][0], None)], arrays)[0]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        val = np.broadcast_to(val, shape)
        assume(val.ndim >= (2 if axis == (0, -1) else 1 if axis is not None else 0))
        assume(val.dtype.kind in "fi" and val.size > 0)
        with np.errstate(all="ignore"):
            want = getattr(np, op)(val, axis=axis, keepdims=keepdim)
        r = reduction_kernel(inputs, body, (op, body[-1][0]), [("r", want.dtype)],
                             axis=axis, keepdim=keepdim)
    except (KernelError, TypeError, ValueError, OverflowError):
        assume(False)
    got = r(arrays)[0]
    assert got.dtype == want.dtype and got.shape == want.shape
    if op in ("max", "min") or want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
    else:
        with np.errstate(all="ignore"):
            scale = np.abs(val.astype(np.float64)).sum(axis=axis, keepdims=keepdim)
        ok = np.isclose(got, want, rtol=1e-5, atol=0, equal_nan=True) | \
            (np.abs(got.astype(np.float64) - want) <= 1e-6 * scale + 1e-30) | \
            (~np.isfinite(scale))
        assert ok.all(), (got, want)


@needs_cc
def test_ember_set_num_threads_reaches_kernels():
    import ember
    from ember._codegen import get_num_threads

    old = get_num_threads()
    try:
        ember.set_num_threads(1)
        assert get_num_threads() == 1
    finally:
        ember.set_num_threads(old)


@needs_cc
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_runs_kernels(tmp_path):
    """A child forked after the parent used OpenMP threads runs kernels on one thread
    (GNU OpenMP's pool does not survive fork) and does not hang."""
    script = textwrap.dedent("""
        import os, numpy as np
        from ember._codegen import eager, set_num_threads, get_num_threads
        set_num_threads(2)
        x = np.random.default_rng(0).standard_normal((512, 1024)).astype(np.float32)
        want = eager.softmax(x, 1)
        pid = os.fork()
        if pid == 0:
            ok = get_num_threads() == 1 and np.array_equal(eager.softmax(x, 1), want)
            os._exit(0 if ok else 3)
        _, st = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(st))
    """)
    env = dict(os.environ, EMBER_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "0", r.stderr


def test_openmp_wait_policy_is_a_short_spin_unless_the_user_chose_one():
    # NOTE [ OpenMP wait policy ] in ember/_codegen/build.py
    import os
    import subprocess
    import sys

    from ember._codegen import build

    prog = ("import os, ember\n"
            "from ember._codegen import build\n"
            "if build.compiler()[0] is None:\n"
            "    print('no-compiler')\n"
            "else:\n"
            "    ember.nn.functional.gelu(ember.randn(1000))\n"
            "    print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY",
                                                            "GOMP_SPINCOUNT",
                                                            "EMBER_JIT_DISABLE")}

    def policy(**extra):
        return subprocess.run([sys.executable, "-c", prog], env={**env, **extra},
                              capture_output=True, text=True, check=True).stdout.split()

    out = policy()
    if out == ["no-compiler"]:
        pytest.skip("no C compiler")
    assert out == ["PASSIVE", build.SPINCOUNT]
    # either variable set by the user: theirs stands and no spin count is added
    assert policy(OMP_WAIT_POLICY="ACTIVE") == ["ACTIVE", "None"]
    assert policy(OMP_WAIT_POLICY="PASSIVE") == ["PASSIVE", "None"]
    assert policy(GOMP_SPINCOUNT="0") == ["PASSIVE", "0"]
