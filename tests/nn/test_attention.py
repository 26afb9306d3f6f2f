"""scaled_dot_product_attention, MultiheadAttention and Transformer against PyTorch."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck

rng = np.random.default_rng(3)


def _copy(e, t):
    sd = {k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()}
    assert list(sd) == list(e.state_dict())
    e.load_state_dict(sd)


def _run(fe, ft, arrays, kw_e=None, kw_t=None, modules=None, tol=1e-9):
    torch = pytest.importorskip("torch")
    te = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    ye, yt = fe(*te, **(kw_e or {})), ft(*tt, **(kw_t or {}))
    ye = [y for y in (ye if isinstance(ye, tuple) else (ye,)) if y is not None]
    yt = [y for y in (yt if isinstance(yt, tuple) else (yt,)) if y is not None]
    assert len(ye) == len(yt)
    le = lt = 0
    for a, b in zip(ye, yt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=tol)
        g = rng.standard_normal(tuple(b.shape))
        le = le + (a * ember.tensor(g)).sum()
        lt = lt + (b * torch.tensor(g)).sum()
    le.backward()
    lt.backward()
    for a, b in zip(te, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=tol)
    if modules:
        for (n, p), (_, q) in zip(modules[1].named_parameters(), modules[0].named_parameters()):
            if p.grad is not None:
                np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), atol=tol, err_msg=n)


@pytest.fixture
def f64():
    torch = pytest.importorskip("torch")
    old_e, old_t = ember.get_default_dtype(), torch.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    yield torch
    ember.set_default_dtype(old_e)
    torch.set_default_dtype(old_t)


def test_sdpa_matches_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    q, k, v = (rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)),
               rng.standard_normal((2, 3, 6, 7)))
    _run(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, [q, k, v])
    _run(lambda *a: F.scaled_dot_product_attention(*a, is_causal=True, scale=0.3),
         lambda *a: TF.scaled_dot_product_attention(*a, is_causal=True, scale=0.3),
         [q, k[:, :, :4], v[:, :, :4]])
    bm = rng.random((4, 6)) > 0.3
    bm[:, 0] = True
    fm = rng.standard_normal((4, 6))
    for m in (bm, fm):
        _run(lambda *a: F.scaled_dot_product_attention(*a, attn_mask=ember.tensor(m)),
             lambda *a: TF.scaled_dot_product_attention(*a, attn_mask=torch.tensor(m)),
             [q, k, v])


def test_sdpa_known_values_and_gradcheck():
    # uniform scores: the output is the mean of the values
    q = ember.zeros(1, 2, 3, dtype=ember.float64)
    k = ember.zeros(1, 4, 3, dtype=ember.float64)
    v = ember.arange(8, dtype=ember.float64).reshape(1, 4, 2)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.tolist() == [[[3.0, 4.0], [3.0, 4.0]]]
    causal = F.scaled_dot_product_attention(ember.zeros(1, 4, 3, dtype=ember.float64), k, v,
                                            is_causal=True)
    assert causal[0, 0].tolist() == [0.0, 1.0]  # first query sees only the first key
    qs = [ember.randn(1, 3, 2, dtype=ember.float64, requires_grad=True) for _ in range(3)]
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                     qs)


@pytest.mark.parametrize("kw", [{}, dict(batch_first=True), dict(kdim=3, vdim=5),
                                dict(add_bias_kv=True, add_zero_attn=True), dict(bias=False)],
                         ids=str)
def test_mha_matches_torch(kw, f64):
    torch = f64
    t = torch.nn.MultiheadAttention(8, 2, **kw)
    e = nn.MultiheadAttention(8, 2, **kw)
    _copy(e, t)
    assert repr(e) == repr(t)
    L, S, N = 4, 6, 3
    bf = kw.get("batch_first", False)
    qs = (N, L, 8) if bf else (L, N, 8)
    ks = (N, S, kw.get("kdim", 8)) if bf else (S, N, kw.get("kdim", 8))
    vs = ks[:2] + (kw.get("vdim", 8),)
    kpm = rng.random((N, S)) > 0.7
    kpm[:, 0] = False
    am = rng.standard_normal((L, S))
    arrays = [rng.standard_normal(s) for s in (qs, ks, vs)]
    _run(e, t, arrays, dict(key_padding_mask=ember.tensor(kpm), attn_mask=ember.tensor(am)),
         dict(key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(am)), (e, t))
    _run(e, t, arrays, dict(average_attn_weights=False), dict(average_attn_weights=False))


def test_mha_self_attention_bool_mask(f64):
    torch = f64
    t, e = torch.nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)
    _copy(e, t)
    m = np.triu(np.ones((4, 4), bool), 1)
    _run(lambda x: e(x, x, x, attn_mask=ember.tensor(m))[0],
         lambda x: t(x, x, x, attn_mask=torch.tensor(m))[0], [rng.standard_normal((4, 3, 8))])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(norm_first, batch_first, f64):
    torch = f64
    kw = dict(dropout=0.0, norm_first=norm_first, batch_first=batch_first)
    t = torch.nn.Transformer(8, 2, 2, 2, 16, **kw)
    e = nn.Transformer(8, 2, 2, 2, 16, **kw)
    _copy(e, t)
    src, tgt = rng.standard_normal((3, 7, 8)), rng.standard_normal((3, 5, 8))
    if not batch_first:
        src, tgt = src.transpose(1, 0, 2).copy(), tgt.transpose(1, 0, 2).copy()
    mt = torch.nn.Transformer.generate_square_subsequent_mask(5)
    me = nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(me.numpy(), mt.numpy())
    _run(e, t, [src, tgt], dict(tgt_mask=me), dict(tgt_mask=mt), (e, t))


def test_encoder_gelu_padding_mask(f64):
    torch = f64
    t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
        8, 2, 16, 0.0, activation="gelu", batch_first=True), 2, enable_nested_tensor=False)
    e = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation="gelu",
                                                         batch_first=True), 2)
    _copy(e, t)
    assert repr(e) == repr(t)
    kpm = np.zeros((3, 7), bool)
    kpm[0, 5:] = True
    _run(e, t, [rng.standard_normal((3, 7, 8))], dict(src_key_padding_mask=ember.tensor(kpm)),
         dict(src_key_padding_mask=torch.tensor(kpm)), (e, t))


def test_keys_and_errors_without_torch():
    layer = nn.TransformerDecoderLayer(8, 2, 16)
    keys = list(layer.state_dict())
    assert keys[:4] == ["self_attn.in_proj_weight", "self_attn.in_proj_bias",
                        "self_attn.out_proj.weight", "self_attn.out_proj.bias"]
    assert "multihead_attn.in_proj_weight" in keys and "norm3.bias" in keys
    mha = nn.MultiheadAttention(8, 2, kdim=4)
    assert mha.in_proj_weight is None and mha.k_proj_weight.shape == (8, 4)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m = nn.MultiheadAttention(8, 2)
        x = ember.randn(4, 2, 8)
        m(x, x, x, attn_mask=ember.zeros(3, 3))
    out, w = nn.MultiheadAttention(8, 2)(ember.randn(4, 8), ember.randn(6, 8),
                                         ember.randn(6, 8))
    assert out.shape == (4, 8) and w.shape == (4, 6)  # unbatched
    np.testing.assert_allclose(w.sum(-1).detach().numpy(), np.ones(4), rtol=1e-6)
