"""RNN/LSTM/GRU and cells: PyTorch oracle via state_dict (float64), packed sequences,
gradcheck of the fused layer ops, errors."""

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import _functional_seq as FS
from ember.nn.utils import rnn as rnn_utils

rng = np.random.default_rng(2)


def _copy(e, t):
    sd = {k: ember.tensor(v.detach().numpy().astype(np.float64)) for k, v in
          t.state_dict().items()}
    assert list(sd) == list(e.state_dict())
    e.load_state_dict(sd)


def _flat(o):
    out = []
    for a in (o if isinstance(o, tuple) else (o,)):
        out += list(a) if isinstance(a, tuple) else [a]
    return out


CASES = [
    ("LSTM", (4, 5), dict(num_layers=2, bidirectional=True), (6, 3, 4), [(4, 3, 5), (4, 3, 5)]),
    ("LSTM", (4, 5), dict(proj_size=3, batch_first=True), (3, 6, 4), [(1, 3, 3), (1, 3, 5)]),
    ("GRU", (4, 5), dict(num_layers=2, bidirectional=True), (6, 3, 4), [(4, 3, 5)]),
    ("GRU", (4, 5), dict(bias=False), (6, 4), [(1, 5)]),
    ("RNN", (4, 5), dict(nonlinearity="relu", num_layers=2), (6, 3, 4), None),
    ("RNN", (4, 5), dict(bidirectional=True, batch_first=True), (3, 6, 4), None),
    ("LSTMCell", (4, 5), {}, (3, 4), [(3, 5), (3, 5)]),
    ("GRUCell", (4, 5), {}, (3, 4), [(3, 5)]),
    ("RNNCell", (4, 5), dict(nonlinearity="relu"), (3, 4), [(3, 5)]),
    ("GRUCell", (4, 5), dict(bias=False), (4,), [(5,)]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}")
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, args, kw, shape, hx = case
    t = getattr(torch.nn, name)(*args, **kw).double()
    e = getattr(nn, name)(*args, **kw).double()
    _copy(e, t)
    assert repr(e) == repr(t)
    x = rng.standard_normal(shape)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    th = eh = None
    if hx is not None:
        hs = [rng.standard_normal(s) for s in hx]
        th = [torch.tensor(h, requires_grad=True) for h in hs]
        eh = [ember.tensor(h, requires_grad=True) for h in hs]
    to = t(tx, None if th is None else (tuple(th) if len(th) == 2 else th[0]))
    eo = e(ex, None if eh is None else (tuple(eh) if len(eh) == 2 else eh[0]))
    lt = le = 0
    for a, b in zip(_flat(to), _flat(eo)):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=1e-10)
        g = rng.standard_normal(tuple(a.shape))
        lt = lt + (a * torch.tensor(g)).sum()
        le = le + (b * ember.tensor(g)).sum()
    lt.backward()
    le.backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    for (n, p), (_, q) in zip(t.named_parameters(), e.named_parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), atol=1e-10, err_msg=n)
    for a, b in zip(th or [], eh or []):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_packed_sequences_match_torch(mode):
    torch = pytest.importorskip("torch")
    tu = torch.nn.utils.rnn
    t = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=True).double()
    e = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True).double()
    _copy(e, t)
    x = rng.standard_normal((5, 4, 3))
    lens = [3, 5, 2, 4]
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tp = tu.pack_padded_sequence(tx, lens, enforce_sorted=False)
    ep = rnn_utils.pack_padded_sequence(ex, lens, enforce_sorted=False)
    np.testing.assert_allclose(ep.data.detach().numpy(), tp.data.detach().numpy())
    assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist()
    to, th = t(tp)
    eo, eh = e(ep)
    tpad, tl = tu.pad_packed_sequence(to, batch_first=True)
    epad, el = rnn_utils.pad_packed_sequence(eo, batch_first=True)
    np.testing.assert_allclose(epad.detach().numpy(), tpad.detach().numpy(), atol=1e-10)
    assert el.tolist() == tl.tolist()
    if mode == "LSTM":
        th, eh = th[0] + 2 * th[1], eh[0] + 2 * eh[1]
    np.testing.assert_allclose(eh.detach().numpy(), th.detach().numpy(), atol=1e-10)
    g, g2 = rng.standard_normal(tuple(tpad.shape)), rng.standard_normal(tuple(th.shape))
    ((tpad * torch.tensor(g)).sum() + (th * torch.tensor(g2)).sum()).backward()
    ((epad * ember.tensor(g)).sum() + (eh * ember.tensor(g2)).sum()).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    for (n, p), (_, q) in zip(t.named_parameters(), e.named_parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), atol=1e-10, err_msg=n)


def test_pad_and_pack_sequence_helpers():
    a, b = ember.ones(3, 2), ember.full((1, 2), 2.0)
    p = rnn_utils.pad_sequence([a, b], batch_first=True, padding_value=-1.0)
    assert p.shape == (2, 3, 2) and p[1, 1:].tolist() == [[-1.0, -1.0], [-1.0, -1.0]]
    packed = rnn_utils.pack_sequence([b, a], enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [2, 1, 1]
    assert packed.sorted_indices.tolist() == [1, 0]
    padded, lens = rnn_utils.pad_packed_sequence(packed, total_length=4)
    assert padded.shape == (4, 2, 2) and lens.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn_utils.pack_sequence([b, a])


def test_state_dict_keys():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    keys = list(lstm.state_dict())
    assert keys[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                        "weight_hr_l0"]
    assert "weight_hh_l1_reverse" in keys and len(keys) == 20
    assert lstm.weight_ih_l1.shape == (16, 4) and lstm.weight_hh_l0.shape == (16, 2)
    bound = 1 / 2  # U(-1/sqrt(hidden), 1/sqrt(hidden))
    assert all(float(p.abs().max()) <= bound for p in lstm.parameters())


def test_fused_layers_gradcheck_and_double_backward():
    d = ember.float64

    def r(*s):
        return ember.randn(*s, dtype=d, requires_grad=True)

    xp, h0, c0, whh, whr = r(3, 2, 8), r(2, 2), r(2, 2), r(8, 2), None
    assert gradcheck(lambda a, b, c, w: FS.lstm_layer(a, b, c, w)[0], (xp, h0, c0, whh))
    assert gradgradcheck(lambda a, b, c, w: FS.lstm_layer(a, b, c, w)[2], (xp, h0, c0, whh))
    whr, c1 = r(2, 3), r(2, 3)
    xp2, whh2 = r(3, 2, 12), r(12, 2)
    assert gradcheck(lambda a, b, c, w, p: FS.lstm_layer(a, b, c, w, p, [2, 1, 1])[1],
                     (xp2, h0, c1, whh2, whr))
    gx, gh, gw, gb = r(3, 2, 9), r(2, 3), r(9, 3), r(9)
    assert gradcheck(lambda a, b, w, bb: FS.gru_layer(a, b, w, bb)[0], (gx, gh, gw, gb))
    assert gradgradcheck(lambda a, b, w, bb: FS.gru_layer(a, b, w, bb)[1], (gx, gh, gw, gb))
    rx, rh, rw = r(3, 2, 3), r(2, 3), r(3, 3)
    assert gradcheck(lambda a, b, w: FS.rnn_layer(a, b, w, "tanh", [2, 2, 1])[0], (rx, rh, rw))
    assert gradgradcheck(lambda a, b, w: FS.rnn_layer(a, b, w)[1], (rx, rh, rw))


def test_fused_matches_composite_float32():
    xp = ember.randn(4, 3, 8)
    h, c, w = ember.randn(3, 2), ember.randn(3, 2), ember.randn(8, 2)
    a = FS.lstm_layer(xp, h, c, w)
    b = FS._lstm_layer_composite(xp, h, c, w, None, None)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-5, atol=1e-6)


def test_errors():
    lstm = nn.LSTM(10, 20, 2)
    with pytest.raises(RuntimeError, match="Expected 10, got 5"):
        lstm(ember.randn(4, 3, 5))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(ember.randn(4, 3, 5, 1))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 3, 20\), got \[1, 3, 20\]"):
        lstm(ember.randn(4, 3, 10), (ember.zeros(1, 3, 20), ember.zeros(2, 3, 20)))
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.GRUCell(3, 4)(ember.randn(2, 5))


def test_shapes_unbatched_and_dropout():
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    out, h = gru(ember.randn(5, 3))
    assert out.shape == (5, 4) and h.shape == (2, 4)
    gru.eval()
    x = ember.randn(5, 2, 3)
    np.testing.assert_allclose(gru(x)[0].detach().numpy(), gru(x)[0].detach().numpy())
