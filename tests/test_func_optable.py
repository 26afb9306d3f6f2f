"""ember.func over the op table: for every differentiable op and float64 sample,
``ember.func.jvp`` (tangent rules on the records, NOTE [ Forward mode as a dispatch mode ])
agrees with central finite differences and with reverse mode (<J t, u> == <t, J^T u>),
``vmap`` over all its float inputs equals a loop over the examples, and so do per-example
gradients (``vmap(grad(f))``, which batches every backward formula)."""

import warnings

import numpy as np
import pytest

import ember
from ember.func import grad, jvp, vjp, vmap
from test_ops import GRAD_OPS, _checkable, _fn_of_leaves, _skip, samples


def _float_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, ember.Tensor) and o.dtype.is_floating_point]


@pytest.mark.parametrize("info", GRAD_OPS)
def test_jvp_matches_finite_differences_and_reverse_mode(info):
    _skip(info, "test_gradcheck")
    rng = np.random.default_rng(7)
    checked = 0
    for s in samples(info, np.float64):
        if not s.grad:
            continue
        leaves = _checkable(s)
        if leaves is None:
            continue
        fn = _fn_of_leaves(info, s, leaves)

        def f(*ts):
            return tuple(_float_outputs(fn(*ts)))

        xs = tuple(ember.from_numpy(np.array(a, copy=True)) for a in leaves)
        ts = tuple(ember.from_numpy(np.asarray(rng.standard_normal(a.shape))) for a in leaves)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, tan = jvp(f, xs, ts)
        if not out:
            continue
        eps = 1e-6
        plus = f(*(ember.from_numpy(np.asarray(a + eps * t.numpy())) for a, t in zip(leaves, ts)))
        minus = f(*(ember.from_numpy(np.asarray(a - eps * t.numpy())) for a, t in zip(leaves, ts)))
        for o, t, p, m in zip(out, tan, plus, minus):
            fd = (p.numpy() - m.numpy()) / (2 * eps)
            assert t.shape == o.shape, f"{info.name} {s}"
            ok = np.isfinite(fd)  # differences across a domain edge (0 ** x) are NaN
            np.testing.assert_allclose(t.numpy()[ok], fd[ok], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{info.name} {s}")
        us = tuple(ember.from_numpy(np.asarray(rng.standard_normal(tuple(o.shape)))) for o in out)
        _, fn_vjp = vjp(f, *xs)
        gs = fn_vjp(us)
        lhs = sum(float((t * u).sum()) for t, u in zip(tan, us))
        rhs = sum(float((g * t).sum()) for g, t in zip(gs, ts))
        assert abs(lhs - rhs) <= 1e-6 * (1 + abs(lhs)), f"{info.name} {s}: {lhs} vs {rhs}"
        checked += 1
    if not checked:
        pytest.skip("no float64 sample with a finite-difference check")


@pytest.mark.parametrize("info", GRAD_OPS)
def test_vmap_matches_a_loop_over_the_batch(info):
    """vmap over every float input of every sample equals running the op per example."""
    rng = np.random.default_rng(0)
    checked = 0
    for s in samples(info, np.float64):
        leaves = _checkable(s)
        if leaves is None:
            continue
        fn = _fn_of_leaves(info, s, leaves)

        def f(*ts):
            out = fn(*ts)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            return tuple(o for o in outs if isinstance(o, ember.Tensor))

        # per-example inputs differ (except on kinks, where the sample must stay put)
        stacks = [np.stack([a + (0.01 * k * rng.standard_normal(a.shape) if s.grad else 0)
                            for k in range(3)]) for a in leaves]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = vmap(f)(*[ember.from_numpy(x) for x in stacks])
            want = [f(*[ember.from_numpy(np.array(x[i])) for x in stacks]) for i in range(3)]
        for j, g in enumerate(got):
            w = np.stack([ww[j].numpy() for ww in want])
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-6, atol=1e-8, equal_nan=True,
                                       err_msg=f"{info.name} {s}")
        checked += 1
    if not checked:
        pytest.skip("no float64 sample with array inputs")


# ops whose backward formula branches on values: vmap raises PyTorch's data-dependent
# control-flow error when the branch differs between examples
DATA_DEPENDENT_BACKWARD = {"prod": "prod's backward tests `bool(zero.any())`"}


@pytest.mark.parametrize("info", GRAD_OPS)
def test_per_example_gradients_match_a_loop(info):
    """vmap(grad(f)) through every differentiable op's backward equals grad per example."""
    rng = np.random.default_rng(0)
    checked = 0
    for s in samples(info, np.float64):
        leaves = _checkable(s)
        if leaves is None or not s.grad:
            continue
        fn = _fn_of_leaves(info, s, leaves)

        def f(*ts):
            out = fn(*ts)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            return sum(((o * o).sum() for o in outs if isinstance(o, ember.Tensor)
                        and o.dtype.is_floating_point), ember.tensor(0.0, dtype=ember.float64))

        an = tuple(range(len(leaves)))
        stacks = [np.stack([a + 0.01 * k * rng.standard_normal(a.shape) for k in range(3)])
                  for a in leaves]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                got = vmap(grad(f, argnums=an))(*[ember.from_numpy(x) for x in stacks])
            except RuntimeError as e:
                if "data-dependent control flow" in str(e) and \
                        info.fn_name in DATA_DEPENDENT_BACKWARD:
                    continue
                raise
            want = [grad(f, argnums=an)(*[ember.from_numpy(np.array(x[i])) for x in stacks])
                    for i in range(3)]
        for j, g in enumerate(got):
            w = np.stack([ww[j].numpy() for ww in want])
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-6, atol=1e-8, equal_nan=True,
                                       err_msg=f"{info.name} {s}")
        checked += 1
    if not checked and info.fn_name not in DATA_DEPENDENT_BACKWARD:
        pytest.skip("no float64 sample off kinks with array inputs")
