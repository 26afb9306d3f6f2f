"""The recurrent layers' C step kernels (NOTE [ Recurrent step kernels ]): the same outputs
and gradients as the layers' NumPy code, float32 gates within a few ulp of the exact
functions (special values as libm), and float32 layers against PyTorch."""

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember._codegen import rnn_kernels
from ember.nn.utils import rnn as rnn_utils

needs_kernels = pytest.mark.skipif(rnn_kernels._lib() is None,
                                   reason="no C compiler (or EMBER_JIT_DISABLE): the layers "
                                          "run their NumPy code")

CASES = [
    ("LSTM", dict(num_layers=2, bidirectional=True), False),
    ("LSTM", dict(proj_size=3, batch_first=True), False),
    ("LSTM", {}, True),
    ("LSTM", dict(proj_size=2), True),
    ("GRU", dict(num_layers=2, bidirectional=True), False),
    ("GRU", dict(bias=False, batch_first=True), False),
    ("GRU", {}, True),
]


def _run(name, kw, packed, dtype, seed=0):
    """Output, final states and every gradient of one layer on fixed random data."""
    ember.manual_seed(seed)
    m = getattr(nn, name)(4, 6, **kw).to(ember.float32 if dtype == np.float32 else
                                          ember.float64)
    rng = np.random.default_rng(seed)
    bf = kw.get("batch_first", False)
    shape = (3, 7, 4) if bf else (7, 3, 4)
    x = ember.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    if packed:
        inp = rnn_utils.pack_padded_sequence(x, [7, 4, 2], enforce_sorted=False)
    else:
        inp = x
    out, state = m(inp)
    if packed:
        out = rnn_utils.pad_packed_sequence(out)[0]
    outs = [out] + (list(state) if isinstance(state, tuple) else [state])
    loss = sum((o * ember.tensor(rng.standard_normal(tuple(o.shape)).astype(dtype))).sum()
               for o in outs)
    loss.backward()
    res = [o.detach().numpy().copy() for o in outs] + [x.grad.numpy().copy()]
    res += [p.grad.numpy().copy() for p in m.parameters()]
    return res


def _without_kernels(monkeypatch):
    for f in ("lstm_forward", "lstm_backward", "gru_forward", "gru_backward",
              "lstm_seq_forward", "lstm_seq_backward"):
        monkeypatch.setattr(rnn_kernels, f, lambda *a, **k: None)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-packed{c[2]}")
def test_kernels_match_the_numpy_code(case, dtype, monkeypatch):
    name, kw, packed = case
    calls = []

    def counted(f, real):
        def prepare(*a, **k):
            step = real(*a, **k)
            if step is not None:
                calls.append(f)
            return step
        return prepare

    for f in ("lstm_forward", "lstm_backward", "gru_forward", "gru_backward"):
        monkeypatch.setattr(rnn_kernels, f, counted(f, getattr(rnn_kernels, f)))
    fast = _run(name, kw, packed, dtype)
    want = {"lstm_forward", "lstm_backward"} if name == "LSTM" else \
        {"gru_forward", "gru_backward"}
    assert set(calls) == want  # the kernels ran, in both passes
    monkeypatch.undo()
    _without_kernels(monkeypatch)
    from ember._codegen.kernel import set_disabled
    old = set_disabled(True)  # and the generated gate kernels off: the plain NumPy code
    try:
        ref = _run(name, kw, packed, dtype)
    finally:
        set_disabled(old)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    assert len(fast) == len(ref)
    for a, b in zip(fast, ref):
        np.testing.assert_allclose(a, b, **tol)


def _gates(values, dtype):
    """i (sigmoid) and g (tanh) of the kernel for pre-activations ``values``."""
    n = values.size
    xg = np.zeros((1, 1, 4 * n), dtype)
    xg[0, 0, :n] = values
    xg[0, 0, 2 * n:3 * n] = values
    hg = np.full((1, 4 * n), -0.0, dtype)  # x + (-0) is x, -0 included
    cs = np.zeros((2, 1, n), dtype)
    acts = np.zeros((1, 1, 4 * n), dtype)
    tcs = np.zeros((1, 1, n), dtype)
    hn = np.zeros((1, 1, n), dtype)
    step = rnn_kernels.lstm_forward(xg, hg, False, cs, acts, tcs, hn, None)
    assert step is not None
    step(0, 1)
    return acts[0, 0, :n], acts[0, 0, 2 * n:3 * n]


@needs_kernels
def test_float32_gates_within_a_few_ulp():
    x = np.concatenate([np.linspace(-100, 100, 20001), np.linspace(-3, 3, 20001),
                        np.geomspace(1e-30, 1, 200), -np.geomspace(1e-30, 1, 200),
                        [0.625, -0.625, 0.62499, 44.0, -44.0, 88.0, -88.0, -87.5]])
    x = x.astype(np.float32)
    sig, th = _gates(x, np.float32)
    x64 = x.astype(np.float64)
    for got, want in ((sig, 1 / (1 + np.exp(-x64))), (th, np.tanh(x64))):
        want32 = want.astype(np.float32)
        ulp = np.spacing(np.abs(want32)).astype(np.float64)
        big = np.abs(want) > 1e-37  # below that both are (within) a denormal of zero
        err = np.abs(got.astype(np.float64) - want)[big] / ulp[big]
        assert err.max() <= 4, (x[big][err.argmax()], err.max())


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gates_special_values(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e4, -1e4], dtype)
    sig, th = _gates(x, dtype)
    assert np.isnan(sig[0]) and np.isnan(th[0])
    np.testing.assert_array_equal(sig[1:], [1, 0, 0.5, 0.5, 1, 0])
    np.testing.assert_array_equal(th[1:], [1, -1, 0, 0, 1, -1])
    assert not np.signbit(th[3]) and np.signbit(th[4])  # tanh(-0) is -0


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_float32_layers_match_torch(name):
    torch = pytest.importorskip("torch")
    t = getattr(torch.nn, name)(16, 32, num_layers=2, batch_first=True)
    e = getattr(nn, name)(16, 32, num_layers=2, batch_first=True)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 20, 16)).astype(np.float32)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    to, eo = t(tx)[0], e(ex)[0]
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = np.random.default_rng(2).standard_normal(tuple(to.shape)).astype(np.float32)
    (to * torch.tensor(g)).sum().backward()
    (eo * ember.tensor(g)).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (n, p), (_, q) in zip(t.named_parameters(), e.named_parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=n)



def test_pool_hands_out_only_blocks_nothing_sees():
    dt = np.dtype(np.float32)
    rnn_kernels.release_buffers()
    a = rnn_kernels.empty((64, 1024), dt)
    addr = a.__array_interface__["data"][0]
    view = a[3:5]
    del a
    b = rnn_kernels.empty((64, 1024), dt)  # the first block is still seen through `view`
    assert not np.shares_memory(b, view)
    del view
    c = rnn_kernels.empty((64, 1024), dt)  # now it is idle and comes back
    assert c.__array_interface__["data"][0] == addr
    assert type(c) is np.ndarray and c.flags.writeable and c.flags.c_contiguous
    z = rnn_kernels.zeros((64, 1024), dt)
    assert not z.any()
    del b, c, z
    assert rnn_kernels.release_buffers() > 0
    assert rnn_kernels.release_buffers() == 0


def test_retained_graph_survives_other_steps():
    # a graph kept for a second backward holds its buffers: layer calls in between get
    # other blocks, so the second backward gives the same gradients as the first
    ember.manual_seed(0)
    m = nn.LSTM(8, 64)
    x = ember.randn(64, 8, 8)  # activations of 512 KiB: pooled buffers
    loss = m(x)[0].square().sum()
    loss.backward(retain_graph=True)
    first = [p.grad.numpy().copy() for p in m.parameters()]
    m.zero_grad()
    rnn_kernels.release_buffers()
    for _ in range(3):
        m(ember.randn(64, 8, 8))[0].sum().backward()
    assert rnn_kernels._IDLE[0] > 0  # the steps in between did use the pool
    m.zero_grad()
    loss.backward()
    for a, b in zip(first, [p.grad.numpy() for p in m.parameters()]):
        np.testing.assert_array_equal(a, b)


@needs_kernels
def test_column_blocked_recurrent_product(monkeypatch):
    # hidden 256, batch 32: the recurrent GEMMs run in column blocks narrower than a gate
    # (_lstm_fwd, _lstm_bwd_blocked); results as with the plain NumPy code
    from ember._codegen.kernel import set_disabled
    from ember.nn import _functional_seq as FS

    assert FS._col_block(32, 256, 256) < 256

    def run():
        ember.manual_seed(0)
        m = nn.LSTM(256, 256)
        x = ember.tensor(np.random.default_rng(3).standard_normal((5, 32, 256))
                         .astype(np.float32), requires_grad=True)
        h0, c0 = [ember.tensor(np.random.default_rng(k).standard_normal((1, 32, 256))
                               .astype(np.float32), requires_grad=True) for k in (4, 5)]
        out, (h, c) = m(x, (h0, c0))
        (out.square().sum() + h.sum() + c.sum()).backward()
        return [out.detach().numpy(), x.grad.numpy(), h0.grad.numpy(), c0.grad.numpy()] + \
            [p.grad.numpy() for p in m.parameters()]

    # the blocks' condition is one BLAS thread, read through threadpoolctl (which reads
    # nothing once a second BLAS is loaded, as PyTorch's); the numbers do not depend on it
    monkeypatch.setattr(FS, "_blas_threads", lambda: 1)
    # (the per-step loops: without the whole-sequence kernels of full batches)
    monkeypatch.setattr(rnn_kernels, "seq_block", lambda *a: None)
    seen, seen_b = [], []
    real, real_b = rnn_kernels.lstm_forward, rnn_kernels.lstm_backward
    monkeypatch.setattr(rnn_kernels, "lstm_forward", lambda xproj, hgb, gm, *a: (
        seen.append(hgb.shape), real(xproj, hgb, gm, *a))[1])
    monkeypatch.setattr(rnn_kernels, "lstm_backward", lambda dh, *a: (
        seen_b.append(dh.shape), real_b(dh, *a))[1])
    fast = run()
    assert seen and seen[0][2] < 256, seen  # forward: (4H / cb, B, cb) products
    assert seen_b and len(seen_b[0]) == 3 and seen_b[0][2] < 256, seen_b  # backward: dh
    monkeypatch.undo()
    _without_kernels(monkeypatch)
    old = set_disabled(True)
    try:
        ref = run()
    finally:
        set_disabled(old)
    for a, b in zip(fast, ref):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


def _lstm_all(kw, dtype, hidden, batch, seed=0, steps=9):
    """Output, final states and every gradient of an LSTM with ``hidden`` units."""
    ember.manual_seed(seed)
    m = nn.LSTM(5, hidden, **kw).to(ember.float32 if dtype == np.float32 else ember.float64)
    rng = np.random.default_rng(seed)
    bf = kw.get("batch_first", False)
    x = ember.tensor(rng.standard_normal((batch, steps, 5) if bf else (steps, batch, 5))
                     .astype(dtype), requires_grad=True)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h0, c0 = [ember.tensor(rng.standard_normal((layers, batch, hidden)).astype(dtype),
                           requires_grad=True) for _ in range(2)]
    out, (h, c) = m(x, (h0, c0))
    (out.square().sum() + (h * 0.5).sum() + c.square().sum()).backward()
    return [out.detach().numpy(), h.detach().numpy(), c.detach().numpy(), x.grad.numpy(),
            h0.grad.numpy(), c0.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]


@needs_kernels
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw,hidden,batch", [
    ({}, 32, 4), (dict(num_layers=2, bidirectional=True), 24, 3),
    (dict(batch_first=True), 64, 20), ({}, 40, 1)])
def test_whole_sequence_kernels_match_the_numpy_code(kw, hidden, batch, dtype, threads,
                                                     monkeypatch):
    """NOTE [ Whole-sequence LSTM kernels ]: full batches without projection run their time
    loops as one call each way, hidden units split among the threads; outputs and every
    gradient as the layers' NumPy code."""
    from ember._codegen import kernel as K

    calls = []
    real_f, real_b = rnn_kernels.lstm_seq_forward, rnn_kernels.lstm_seq_backward
    monkeypatch.setattr(rnn_kernels, "lstm_seq_forward",
                        lambda *a: calls.append("f") or real_f(*a))
    monkeypatch.setattr(rnn_kernels, "lstm_seq_backward",
                        lambda *a: calls.append("b") or real_b(*a))
    old = K.get_num_threads()
    K.set_num_threads(threads)
    try:
        fast = _lstm_all(kw, dtype, hidden, batch)
    finally:
        K.set_num_threads(old)
    assert "f" in calls and "b" in calls
    monkeypatch.undo()
    _without_kernels(monkeypatch)
    ref = _lstm_all(kw, dtype, hidden, batch)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast, ref):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@needs_kernels
def test_whole_sequence_lstm_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    m = nn.LSTM(16, 48, num_layers=2)
    tm = torch.nn.LSTM(16, 48, num_layers=2)
    with torch.no_grad():
        for (name, p), tp in zip(m.named_parameters(), tm.parameters()):
            tp.copy_(torch.from_numpy(p.detach().numpy()))
    x = rng.standard_normal((12, 8, 16)).astype(np.float32)
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    eo, _ = m(ex)
    to, _ = tm(tx)
    eo.square().sum().backward()
    to.square().sum().backward()
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    for p, tp in zip(m.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_seq_block_widths():
    assert rnn_kernels.seq_block(20, 200, 2) == 200  # ten rows per thread
    assert rnn_kernels.seq_block(20, 200, 1) == 100  # (200 columns: over 600k)
    assert rnn_kernels.seq_block(4, 32, 1) == 32
    assert rnn_kernels.seq_block(4, 32, 2) == 32  # (two rows per thread)
    assert rnn_kernels.seq_block(4, 6, 1) is None  # narrower than 8 columns
    assert rnn_kernels.seq_block(4, 13, 2) == 13
    assert rnn_kernels.seq_block(64, 1024, 2) == 16  # 32 rows: 32 * 1024 * 16 <= 600k
