"""Per-call cost of nn ops on small tensors (issue 18): the per-shape plans, the checked-call
caches, the one-thread rule for small C kernels and the cross-entropy shortcut must give
the values of the paths they replace, bit for bit, and keep every check.

NOTE [ Per-shape plans ] (ember/_ops/pool.py), NOTE [ Checked convolution calls ]
(ember/_ops/conv.py), NOTE [ Small kernels on one thread ] (ember/_codegen/conv_kernels.py),
NOTE [ Cross-entropy rows all counted ] (ember/nn/_functional_loss.py).
"""

import itertools
import types

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._codegen import kernel
from ember._ops import conv as C
from ember._ops import pool as P
from ember.nn import _functional_loss as L
from ember.nn import _functional_spatial as S

rng = np.random.default_rng(18)


def _r(*shape, dt=np.float32):
    return rng.standard_normal(shape).astype(dt)


def _same(a, b):
    a = a.detach().numpy() if isinstance(a, ember.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, ember.Tensor) else np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def _clear_plans():
    for d in (P._DIVISORS, P._WINDOWS, P._POOL_CALLS, P._AVG_BWD, C._CALLS, C._SPANS,
              S._PAD_PLANS, S._PAD_ROUTES, S._FOLD_PLANS, S._GS_CALLS, L._CE_CALLS):
        d.clear()


def _fwd_bwd(fn, arrays, g_seed=0):
    """(outputs, input gradients) of ``fn`` on fresh leaves of ``arrays``."""
    ts = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    y = fn(*ts)
    ys = y if isinstance(y, tuple) else (y,)
    g = np.random.default_rng(g_seed)
    loss = None
    for yy in ys:
        if yy.requires_grad:
            term = (yy * ember.tensor(g.standard_normal(yy.shape).astype(
                yy.detach().numpy().dtype))).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    return [yy.detach().numpy().copy() for yy in ys], [
        None if t.grad is None else t.grad.numpy().copy() for t in ts]


CASES = [
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [(1, 4, 16, 16)]),
    ("avg_pool2d.pad", lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), [(2, 3, 7, 9)]),
    ("avg_pool2d.ceil", lambda x: F.avg_pool2d(x, 3, 3, 0, True), [(1, 2, 8, 8)]),
    ("avg_pool2d.override", lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3),
     [(1, 2, 6, 6)]),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1), [(2, 3, 11)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2, return_indices=True), [(1, 4, 16, 16)]),
    ("max_pool2d.3x3", lambda x: F.max_pool2d(x, 3, 2, 1), [(2, 3, 9, 9)]),
    ("max_pool2d.unbatched", lambda x: F.max_pool2d(x, 2), [(4, 16, 16)]),
    ("pad.reflect", lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect"), [(1, 4, 16, 16)]),
    ("pad.replicate", lambda x: F.pad(x, (2, 0, 1, 3), mode="replicate"), [(2, 3, 5, 4)]),
    ("pad.constant", lambda x: F.pad(x, (1, 2), value=0.5), [(2, 3, 5)]),
    ("conv2d.1x1", lambda x, w: F.conv2d(x, w), [(1, 16, 8, 8), (16, 16, 1, 1)]),
    ("conv2d.3x3", lambda x, w: F.conv2d(x, w, padding=1), [(1, 4, 16, 16), (4, 4, 3, 3)]),
    ("conv2d.3x3s2", lambda x, w: F.conv2d(x, w, stride=2, padding=1),
     [(1, 4, 16, 16), (4, 4, 3, 3)]),
    ("conv2d.bias", lambda x, w, b: F.conv2d(x, w, b, padding="same"),
     [(2, 8, 12, 12), (16, 8, 4, 4), (16,)]),
    ("conv2d.unbatched", lambda x, w: F.conv2d(x, w, padding=1), [(4, 16, 16), (4, 4, 3, 3)]),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding=1), [(1, 8, 128), (8, 8, 3)]),
    ("conv2d.depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=8),
     [(2, 8, 10, 10), (8, 1, 3, 3)]),
    ("grid_sample", lambda x, g: F.grid_sample(x, g, align_corners=False),
     [(1, 4, 16, 16), "grid"]),
    ("embedding", lambda i, w: F.embedding(i, w), ["idx", (1000, 64)]),
    ("embedding.2d", lambda i, w: F.embedding(i, w, padding_idx=3), ["idx2", (50, 8)]),
    ("cross_entropy", lambda x, t: F.cross_entropy(x, t), [(31, 32), "target"]),
]


def _arrays(shapes, dt=np.float32):
    out = []
    for s in shapes:
        if s == "grid":
            out.append(rng.uniform(-1.1, 1.1, (1, 16, 16, 2)).astype(dt))
        elif s == "idx":
            out.append(rng.integers(0, 1000, 15))
        elif s == "idx2":
            out.append(rng.integers(0, 50, (3, 5)))
        elif s == "target":
            out.append(rng.integers(0, 32, 31))
        else:
            out.append(_r(*s, dt=dt))
    return out


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,shapes", CASES, ids=[c[0] for c in CASES])
def test_planned_calls_repeat_the_first_call_bitwise(name, fn, shapes, dt):
    # the first call after clearing builds the plans; the later ones use them
    arrays = _arrays(shapes, dt)
    _clear_plans()
    ref = _fwd_bwd(fn, arrays)
    for _ in range(2):
        got = _fwd_bwd(fn, arrays)
        for a, b in zip(ref[0] + ref[1], got[0] + got[1]):
            if a is None:
                assert b is None
            else:
                _same(a, b)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name,fn,shapes", CASES, ids=[c[0] for c in CASES])
def test_small_ops_match_pytorch(name, fn, shapes):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    arrays = _arrays(shapes, np.float64)
    got = _fwd_bwd(fn, arrays)
    tts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    # the same lambda over torch's functional (F is a global of the lambda)
    tlam = types.FunctionType(fn.__code__, {"F": TF}, closure=fn.__closure__)
    y = tlam(*tts)
    ys = y if isinstance(y, tuple) else (y,)
    g = np.random.default_rng(0)
    loss = sum((yy * torch.tensor(g.standard_normal(tuple(yy.shape)))).sum()
               for yy in ys if yy.requires_grad)
    loss.backward()
    for a, yy in zip(got[0], ys):
        np.testing.assert_allclose(a, yy.detach().numpy(), rtol=1e-10, atol=1e-10)
    for a, t in zip(got[1], tts):
        if a is not None:
            np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-10, atol=1e-10)
        else:
            assert t.grad is None


def test_small_kernels_same_values_on_any_thread_count():
    # one thread below the size threshold, the set count above it: the values are the same
    old = kernel.get_num_threads()
    try:
        res = []
        for nt in (1, 2, 3):
            ember.set_num_threads(nt)
            outs = []
            for shapes, fn in [
                    ([(1, 16, 8, 8), (16, 16, 1, 1)], lambda x, w: F.conv2d(x, w)),
                    ([(1, 8, 128), (8, 8, 3)], lambda x, w: F.conv1d(x, w, padding=1)),
                    ([(2, 8, 10, 10), (8, 1, 3, 3)],
                     lambda x, w: F.conv2d(x, w, padding=1, groups=8)),
                    ([(4, 32, 64, 64)], lambda x: F.max_pool2d(x, 2)),
                    ([(1, 4, 16, 16)], lambda x: F.max_pool2d(x, 2))]:
                arrays = [np.random.default_rng(1).standard_normal(s).astype(np.float32)
                          for s in shapes]
                outs.append(_fwd_bwd(fn, arrays))
            res.append(outs)
        for outs in res[1:]:
            for (y0, g0), (y1, g1) in zip(res[0], outs):
                for a, b in zip(y0 + g0, y1 + g1):
                    _same(a, b)
    finally:
        ember.set_num_threads(old)


def _avg_reference(x, ks, s, p, out, cip, override, spatial):
    """avg pooling's forward as it was before the plans (the divisor built per call)."""
    div = 1
    nd = len(ks)
    for i, (L_, k, si, pi, o) in enumerate(zip(spatial, ks, s, p, out)):
        start = np.arange(o) * si - pi
        end = np.minimum(start + k, L_ + pi)
        size = end - start
        if not cip:
            size = np.minimum(end, L_) - np.maximum(start, 0)
        div = div * size.reshape((o,) + (1,) * (nd - 1 - i))
    hi = tuple(max((o - 1) * si + k - L_ - pi, 0)
               for L_, k, si, pi, o in zip(x.shape[2:], ks, s, p, out))
    xpad = x
    if any(p) or any(hi):
        xpad = np.zeros(x.shape[:2] + tuple(L_ + a + b for L_, a, b in
                                            zip(x.shape[2:], p, hi)), x.dtype)
        xpad[(slice(None), slice(None)) + tuple(slice(a, a + L_) for a, L_ in
                                                zip(p, x.shape[2:]))] = x
    acc = None
    for kidx in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(ki, ki + si * (oi - 1) + 1, si) for ki, si, oi in zip(kidx, s, out))
        v = xpad[(slice(None), slice(None)) + sl]
        if acc is None:
            acc = v.copy()
        else:
            acc += v
    if override:
        acc /= override
    else:
        acc /= div
    return acc.astype(x.dtype, copy=False)


@pytest.mark.parametrize("ks,s,p,ceil,cip,override", [
    (2, 2, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, False, False, None),
    (3, 2, 1, True, False, None), (3, 2, 1, True, True, None),
    (3, 3, 0, True, True, None), ((3, 2), (2, 1), (1, 0), True, True, None),
    (2, 1, 0, False, True, 3)])
def test_avg_pool_plan_matches_the_per_call_divisor(ks, s, p, ceil, cip, override):
    # (the kept plans of the cases before, same shapes with other arguments, must not leak)
    for shape in [(2, 3, 9, 10), (2, 3, 7, 9), (1, 1, 5, 1)]:
        x = _r(*shape)
        try:
            k2, s2, p2, _, out = P._pool_args("avg_pool2d", ember.tensor(x), 2, ks, s, p, 1,
                                              ceil)
        except RuntimeError:
            continue
        for _ in range(2):
            y = F.avg_pool2d(ember.tensor(x), ks, s, p, ceil, cip, override)
            _same(y, _avg_reference(x, k2, s2, p2, out, cip, override, x.shape[2:]))
    div = P._divisor(np, x.shape[2:], k2, s2, p2, out, cip, override)
    if div is not None:
        assert not div.flags.writeable  # shared between calls: never written


@pytest.mark.parametrize("shape,nd", [((5,), 1), ((3, 5), 2), ((2, 3, 4, 5), 2),
                                      ((1, 2, 3, 4, 5), 3), ((4, 1, 3), 1)])
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_pad_edge_plans_match_numpy_pad(shape, nd, mode):
    x = _r(*shape)
    dims = shape[len(shape) - nd:]
    r = np.random.default_rng(3)
    for _ in range(40):
        hi = [L_ if mode == "reflect" else L_ + 3 for L_ in dims]
        pairs = tuple((int(r.integers(0, h)), int(r.integers(0, h))) for h in hi)
        ref = np.pad(x, [(0, 0)] * (len(shape) - nd) + list(pairs),
                     mode="reflect" if mode == "reflect" else "edge")
        _same(S._pad_edges_fwd(x, pairs, mode), ref)


def _fold_reference(g, pairs, mode):
    """The pad backward as it was before the plans (index tuples built per call)."""
    nd = len(pairs)
    lead = g.ndim - nd
    t = g
    for i in range(nd - 1, -1, -1):
        a, b = pairs[i]
        ax = lead + i
        n = t.shape[ax] - a - b

        def at(s, ax=ax):
            return (slice(None),) * ax + (s,)

        c = t[at(slice(a, a + n))].copy()
        if mode == "reflect":
            if a:
                c[at(slice(1, a + 1))] += t[at(slice(a - 1, None, -1))]
            if b:
                c[at(slice(n - 1 - b, n - 1))] += t[at(slice(a + n + b - 1, a + n - 1, -1))]
        else:
            if a:
                c[at(slice(0, 1))] += t[at(slice(0, a))].sum(axis=ax, keepdims=True)
            if b:
                c[at(slice(n - 1, n))] += t[at(slice(a + n, a + n + b))].sum(axis=ax,
                                                                             keepdims=True)
        t = c
    return t


@pytest.mark.parametrize("shape,nd", [((6,), 1), ((3, 5), 2), ((2, 3, 4, 5), 2),
                                      ((1, 2, 3, 4, 5), 3)])
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_pad_fold_plans_match_the_per_call_fold(shape, nd, mode):
    dims = shape[len(shape) - nd:]
    r = np.random.default_rng(4)
    for _ in range(30):
        hi = [L_ if mode == "reflect" else L_ + 3 for L_ in dims]
        pairs = tuple((int(r.integers(0, h)), int(r.integers(0, h))) for h in hi)
        gshape = shape[:len(shape) - nd] + tuple(L_ + a + b for L_, (a, b) in
                                                 zip(dims, pairs))
        g = r.standard_normal(gshape).astype(np.float32)
        for _ in range(2):
            _same(S._pad_edges_fold(g, pairs, mode), _fold_reference(g, pairs, mode))


def test_call_keys_take_only_plain_values():
    k = C._call_key
    assert k((2, 2), 1, "x", None) is not None
    assert k([2, 2]) is None  # a list
    assert k(ember.tensor([2, 2])) is None
    assert k(np.int64(2)) is None
    assert k((2, 2.0)) is None  # a tuple of other than ints
    assert k(2) != k(2.0) and k(1) != k(True)
    assert k(0.0) != k(-0.0)


def test_pad_value_sign_of_zero_kept():
    # 0.0 and -0.0 compare equal: the cached route must not hand one the other's value
    x = ember.tensor(_r(2, 3))
    _clear_plans()
    for v in (0.0, -0.0, 0.0, -0.0):
        y = F.pad(x, (1, 1), value=v).numpy()
        assert np.signbit(y[:, 0]).all() == np.signbit(v)


def test_checks_still_run_after_a_cached_call():
    x = ember.tensor(_r(1, 4, 8, 8))
    w = ember.tensor(_r(4, 4, 3, 3))
    F.conv2d(x, w, padding=1)
    F.conv2d(x, w, padding=1)
    with pytest.raises(RuntimeError, match="channels"):
        F.conv2d(ember.tensor(_r(1, 3, 8, 8)), w, padding=1)
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv2d(ember.tensor(_r(1, 4, 8, 8, dt=np.float64)), w, padding=1)
    with pytest.raises(RuntimeError, match="negative padding"):
        F.conv2d(x, w, padding=-1)
    F.avg_pool2d(x, 2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    F.max_pool2d(x, 2)
    with pytest.raises(RuntimeError):
        F.max_pool2d(ember.tensor(_r(8)), 2)
    F.pad(x, (1, 1, 1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="Padding size should be less"):
        F.pad(ember.tensor(_r(1, 4, 1, 1)), (1, 1, 1, 1), mode="reflect")
    t = ember.tensor(np.array([0, 3]))
    F.cross_entropy(ember.tensor(_r(2, 4)), t)
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(ember.tensor(_r(2, 4)), ember.tensor(np.array([0, 4])))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(ember.tensor(_r(3, 4)), t)
    g = ember.tensor(_r(1, 4, 4, 2))
    F.grid_sample(x, g, align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, ember.tensor(_r(1, 4, 4, 2, dt=np.float64)), align_corners=False)


def test_plan_caches_stay_bounded():
    _clear_plans()
    x = ember.tensor(_r(1, 1, 40, 40))
    for i in range(1, C._PLANS_MAX + 40):
        F.pad(x, (i % 7, i // 7, 1, 0), mode="replicate")
    assert len(S._PAD_ROUTES) <= C._PLANS_MAX and len(S._PAD_PLANS) <= C._PLANS_MAX


@pytest.mark.parametrize("rows", [31, 3000])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64])
def test_cross_entropy_all_counted_equals_general_path(reduction, dt, rows):
    # ignore_index inside the classes (but met by no target) takes the general path
    x = _r(rows, 32, dt=dt)
    t = rng.integers(1, 32, rows)
    fast = L._ce_fwd(x, t, -100, reduction, False)
    slow = L._ce_fwd(x, t, 0, reduction, False)
    for a, b in zip(fast, slow):
        _same(a, b)
    w = np.abs(_r(32, dt=dt))
    for a, b in zip(L._ce_fwd(x, t, w, -100, reduction, True),
                    L._ce_fwd(x, t, w, 0, reduction, True)):
        _same(a, b)


def test_cross_entropy_all_ignored_mean_is_nan():
    y = F.cross_entropy(ember.tensor(_r(3, 4)), ember.tensor(np.array([-100] * 3)))
    assert np.isnan(y.item())


def test_max_pool_plan_falls_back_when_kernels_are_disabled():
    x = _r(1, 4, 16, 16)
    a = F.max_pool2d(ember.tensor(x), 2)
    old = kernel.set_disabled(True)
    try:
        b = F.max_pool2d(ember.tensor(x), 2)
    finally:
        kernel.set_disabled(old)
    _same(a, b)
