"""ember.onnx.export round trips: the exported graph passes ONNX's full check and
onnxruntime reproduces ember's eager outputs (float32 tolerance), at several sizes where
axes are dynamic."""

import io
import math
import time

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

onnx = pytest.importorskip("onnx", reason="ember.onnx tests need the onnx extra")
ort = pytest.importorskip("onnxruntime", reason="ember.onnx tests need the onnx extra")

RTOL, ATOL = 1e-4, 1e-5


def session(proto):
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def run(proto, *arrays):
    s = session(proto)
    return s.run(None, {m.name: a for m, a in zip(s.get_inputs(), arrays)})


def eager(model, *args):
    with ember.no_grad():
        out = model(*args)
    flat = []

    def go(o):
        if isinstance(o, (tuple, list)):
            for e in o:
                go(e)
        else:
            flat.append(o.numpy())
    go(out)
    return flat


def assert_close(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


def export(model, args, **kw):
    proto = ember.onnx.export(model, args, None, **kw)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def op_types(proto):
    return [n.op_type for n in proto.graph.node]


# ---------------------------------------------------------------------------- models
def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8),
                         nn.Tanh(), nn.Linear(8, 3), nn.LogSoftmax(-1))


def cnn():
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, stride=1, groups=2),
                      nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.AvgPool2d(2),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    for bn in (m[1], m[5]):  # non-trivial running statistics and affine parameters
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
        with ember.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_()
    return m


class RNNModel(nn.Module):
    """The architecture of pytorch/examples' word language model (recurrent variant):
    token embedding, dropout, a stacked LSTM/GRU/RNN, dropout, a linear decoder over the
    vocabulary flattened to (seq * batch, vocab), log-softmax; the state goes in and out."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken, self.rnn_type, self.nhid, self.nlayers = ntoken, rnn_type, nhid, nlayers
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type.startswith("RNN_"):
            self.rnn = nn.RNN(ninp, nhid, nlayers, dropout=dropout,
                              nonlinearity=rnn_type[4:].lower())
        else:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:  # one matrix for the embedding and the decoder
            self.decoder.weight = self.encoder.weight
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, input, hidden):
        out, hidden = self.rnn(self.drop(self.encoder(input)), hidden)
        logits = self.decoder(self.drop(out)).view(-1, self.ntoken)
        return F.log_softmax(logits, dim=1), hidden

    def init_hidden(self, bsz):
        w = next(self.parameters())
        h = w.new_zeros(self.nlayers, bsz, self.nhid)
        return (h, w.new_zeros(self.nlayers, bsz, self.nhid)) if self.rnn_type == "LSTM" else h


class TransformerLM(nn.Transformer):
    """The transformer variant of the same example: sinusoidal positions in a buffer sliced
    to the sequence length, a causal mask built from the length and cached on the module,
    the encoder half of nn.Transformer, a decoder to the vocabulary, log-softmax."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.2, max_len=64):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                         num_encoder_layers=nlayers)
        pos = ember.arange(max_len, dtype=ember.float32)[:, None]
        freq = ember.exp(ember.arange(0, ninp, 2).float() * (-math.log(10000.0) / ninp))
        pe = ember.zeros(max_len, 1, ninp)
        pe[:, 0, 0::2] = ember.sin(pos * freq)
        pe[:, 0, 1::2] = ember.cos(pos * freq)
        self.register_buffer("pe", pe)
        self.drop = nn.Dropout(dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.out = nn.Linear(ninp, ntoken)
        self.ninp = ninp
        self.src_mask = None

    def forward(self, src):
        n = len(src)
        if self.src_mask is None or self.src_mask.size(0) != n:
            self.src_mask = ember.log(ember.tril(ember.ones(n, n)))  # 0 on/below, -inf above
        h = self.input_emb(src) * math.sqrt(self.ninp)
        h = self.drop(h + self.pe[:n])
        return F.log_softmax(self.out(self.encoder(h, mask=self.src_mask)), dim=-1)


# ---------------------------------------------------------------------------- round trips
def test_mlp_round_trip_and_verify_report():
    m = mlp()
    x = ember.randn(4, 3, 4)
    proto = export(m, (x,), input_names=["x"], output_names=["logp"])
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["logp"]
    assert "Gemm" in op_types(proto)
    assert_close(run(proto, x.numpy()), eager(m, x))
    r = ember.onnx.verify(m, (x,), output_names=["logp"])
    assert r.ok and set(r.max_abs_diff) == {"logp"}
    assert 0 <= r.max_abs_diff["logp"] < 1e-5
    assert "logp" in repr(r)


def test_cnn_batchnorm_pooling_eval_mode_dynamic_batch():
    m = cnn()
    m.train()  # export switches to eval (TrainingMode.EVAL) and restores the mode
    x = ember.randn(2, 3, 16, 16)
    proto = export(m, (x,), input_names=["input"], dynamic_axes={"input": {0: "batch"}})
    assert m.training and m[1].training
    m.eval()
    types = op_types(proto)
    assert {"Conv", "MaxPool", "AveragePool"} <= set(types)
    # running statistics are folded into a per-channel scale and shift
    assert "Sqrt" not in types and "Reciprocal" not in types
    dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"
    for b in (2, 5, 1):
        xb = ember.randn(b, 3, 16, 16)
        assert_close(run(proto, xb.numpy()), eager(m, xb))


def test_resnet18_round_trip_two_batch_sizes():
    from ember.vision.models import resnet18

    m = resnet18(num_classes=10).eval()
    x = ember.randn(1, 3, 32, 32)
    proto = export(m, (x,), input_names=["input"], output_names=["logits"],
                   dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for b in (1, 3):
        xb = ember.randn(b, 3, 32, 32)
        got = run(proto, xb.numpy())
        want = eager(m, xb)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_resnet18_export_time():
    from ember.vision.models import resnet18

    m = resnet18().eval()
    x = ember.randn(1, 3, 224, 224)
    ember.onnx.export(m, (x,), io.BytesIO())  # warm caches (kernels, imports)
    t = time.perf_counter()
    ember.onnx.export(m, (x,), io.BytesIO())
    assert time.perf_counter() - t < 5.0


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_word_language_model(rnn_type, tmp_path):
    ntoken = 40
    m = RNNModel(rnn_type, ntoken, 16, 24, 2, dropout=0.2)
    x = ember.randint(0, ntoken, (7, 3))
    hidden = m.init_hidden(3)
    if rnn_type == "LSTM":
        hidden = (ember.randn(2, 3, 24), ember.randn(2, 3, 24))
        names, outs = ["input", "h0", "c0"], ["logp", "hn", "cn"]
    else:
        hidden = ember.randn(2, 3, 24)
        names, outs = ["input", "h0"], ["logp", "hn"]
    axes = {"input": {0: "seq", 1: "batch"}, **{n: {1: "batch"} for n in names[1:]}}
    path = tmp_path / "lm.onnx"
    ember.onnx.export(m, (x, hidden), str(path), input_names=names, output_names=outs,
                      dynamic_axes=axes)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    rec = {"LSTM": "LSTM", "GRU": "GRU"}.get(rnn_type, "RNN")
    assert op_types(proto).count(rec) == 2
    # the input projection is inside the recurrent op: no MatMul is left but the decoder's
    assert op_types(proto).count("MatMul") <= 1
    m.eval()
    for t_len, b in ((7, 3), (4, 5)):
        xb = ember.randint(0, ntoken, (t_len, b))
        hb = (ember.randn(2, b, 24), ember.randn(2, b, 24)) if rnn_type == "LSTM" else \
            ember.randn(2, b, 24)
        arrays = [xb.numpy()] + ([h.numpy() for h in hb] if rnn_type == "LSTM" else
                                 [hb.numpy()])
        assert_close(run(proto, *arrays), eager(m, xb, hb))


def test_word_language_model_transformer():
    m = TransformerLM(50, 16, 2, 32, 2)
    x = ember.randint(0, 50, (7, 3))
    proto = export(m, (x,), input_names=["src"], output_names=["logp"],
                   dynamic_axes={"src": {0: "seq", 1: "batch"}})
    assert "Trilu" in op_types(proto)  # the mask follows the sequence length
    m.eval()
    for t_len, b in ((7, 3), (12, 2), (3, 5)):
        xb = ember.randint(0, 50, (t_len, b))
        assert_close(run(proto, xb.numpy()), eager(m, xb))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_variants(kind, bidirectional):
    m = getattr(nn, kind)(6, 5, num_layers=2, batch_first=True, bidirectional=bidirectional,
                          bias=not bidirectional)
    x = ember.randn(3, 4, 6)
    proto = export(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "batch", 1: "seq"}})
    for b, t_len in ((3, 4), (2, 6)):
        xb = ember.randn(b, t_len, 6)
        assert_close(run(proto, xb.numpy()), eager(m, xb))


def test_recurrent_cells_and_unusual_projection():
    for cell in (nn.LSTMCell(4, 6), nn.GRUCell(4, 6), nn.RNNCell(4, 6)):
        x = ember.randn(3, 4)
        assert_close(run(export(cell, (x,)), x.numpy()), eager(cell, x))


@pytest.mark.parametrize("opset", [14, 17, 20])
def test_transformer_encoder(opset):
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True,
                                       activation="gelu")
    m = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x = ember.randn(2, 5, 16)
    proto = export(m, (x,), opset_version=opset, input_names=["src"],
                   dynamic_axes={"src": {0: "batch", 1: "seq"}})
    types = op_types(proto)
    if opset >= 17:
        assert types.count("LayerNormalization") == 4
    if opset >= 20:
        assert "Gelu" in types
    for b, t_len in ((2, 5), (3, 9)):
        xb = ember.randn(b, t_len, 16)
        assert_close(run(proto, xb.numpy()), eager(m, xb))


def test_transformer_with_causal_mask_and_positions():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(30, 16)
            self.pos = nn.Parameter(ember.randn(1, 20, 16) * 0.1)
            layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True,
                                               norm_first=True)
            self.enc = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
            self.out = nn.Linear(16, 30)

        def forward(self, tokens):
            t_len = tokens.shape[1]
            h = self.emb(tokens) + self.pos[:, :t_len]
            mask = nn.Transformer.generate_square_subsequent_mask(t_len)
            return self.out(self.enc(h, mask=mask, is_causal=True))

    m = Model().eval()
    x = ember.randint(0, 30, (2, 6))
    proto = export(m, (x,), input_names=["tokens"], dynamic_axes={"tokens": {0: "b"}})
    for b in (2, 4):
        xb = ember.randint(0, 30, (b, 6))
        assert_close(run(proto, xb.numpy()), eager(m, xb))


class Reshaper(nn.Module):
    """Sizes baked by the trace: view with the batch, zeros of the batch, a slice."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 6)

    def forward(self, x):
        b = x.shape[0]
        h = self.fc(x.view(b, -1))             # view(size=[b, 12])
        z = ember.zeros(b, 6)                  # factory sized by the batch
        h = h + z + h[: b - 1].sum()           # a slice bound that follows the batch
        return h.reshape(b, 2, 3).permute(0, 2, 1).flatten(1)


def test_dynamic_batch_two_sizes():
    m = Reshaper()
    x = ember.randn(4, 3, 4)
    proto = export(m, (x,), input_names=["x"], output_names=["y"],
                   dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    for b in (4, 7, 2):
        xb = ember.randn(b, 3, 4)
        assert_close(run(proto, xb.numpy()), eager(m, xb))
    # without dynamic axes the sizes stay baked, and other batch sizes are refused
    static = export(m, (x,), input_names=["x"])
    assert static.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
    with pytest.raises(Exception):
        run(static, ember.randn(5, 3, 4).numpy())


def test_dynamic_number_operands():
    class M(nn.Module):
        def forward(self, x):  # sizes used as numbers in arithmetic follow the axes too
            return x.sum(1) / x.shape[1] + x.shape[0] * 2

    proto = export(M(), (ember.randn(3, 5),), input_names=["x"],
                   dynamic_axes={"x": {0: "b", 1: "n"}})
    for shape in ((3, 5), (4, 9), (1, 2)):
        xb = ember.randn(*shape)
        assert_close(run(proto, xb.numpy()), eager(M(), xb))


def test_dynamic_spatial_size():
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.ConvTranspose2d(4, 2, 2, stride=2), nn.BatchNorm2d(2)).eval()
    x = ember.randn(2, 3, 8, 8)
    axes = {"x": {0: "batch", 2: "h", 3: "w"}}
    proto = export(m, (x,), input_names=["x"], dynamic_axes=axes)
    for shape in ((2, 3, 8, 8), (1, 3, 12, 6)):
        xb = ember.randn(*shape)
        assert_close(run(proto, xb.numpy()), eager(m, xb))
    # adaptive pooling bakes sizes (resampling matrices or a reshape to h * w): either it is
    # refused at a dynamic spatial size, or what is exported is right at other sizes too
    pooled = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1)).eval()
    try:
        proto = export(pooled, (x,), input_names=["x"], dynamic_axes=axes)
    except ember.onnx.SymbolicValueError as e:
        assert "dynamic" in str(e)
    else:
        xb = ember.randn(3, 3, 10, 7)
        assert_close(run(proto, xb.numpy()), eager(pooled, xb))

    # a captured tensor built from a dynamic size is refused when read
    class Positions(nn.Module):
        def forward(self, x):
            return x + ember.tensor(np.arange(x.shape[1], dtype=np.float32))

    with pytest.raises(ember.onnx.SymbolicValueError, match="built from sizes"):
        ember.onnx.export(Positions(), (ember.randn(2, 5),), None, input_names=["x"],
                          dynamic_axes={"x": {1: "n"}})


def test_verify_reports_a_wrong_converter(monkeypatch):
    from ember.onnx import _symbolic

    def wrong_relu(ctx, node):  # Abs instead of Relu: negative inputs come out wrong
        return ctx.op("Abs", [ctx.inp(0)])

    monkeypatch.setitem(_symbolic.CONVERTERS, "relu", (wrong_relu, 13))
    m = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    r = ember.onnx.verify(m, (ember.randn(16, 4),), output_names=["y"])
    assert not r.ok and r.max_abs_diff["y"] > 1e-3
    with pytest.raises(AssertionError, match="MISMATCH"):
        r.check()
    with pytest.raises(AssertionError, match="differ from eager"):
        ember.onnx.export(m, (ember.randn(16, 4),), io.BytesIO(), verify=True)


def test_dynamic_axes_list_form_and_unfittable_size():
    m = Reshaper()
    proto = export(m, (ember.randn(4, 3, 4),), input_names=["x"], dynamic_axes={"x": [0]})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "x_dynamic_axes_1"

    class Square(nn.Module):
        def forward(self, x):
            return x.sum() * ember.ones(x.shape[0] * x.shape[0])

    with pytest.raises(ember.onnx.OnnxExporterError, match="dynamic"):
        ember.onnx.export(Square(), (ember.randn(3, 2),), None, input_names=["x"],
                          dynamic_axes={"x": {0: "n"}})

    class Half(nn.Module):
        def forward(self, x):
            return x[: x.shape[0] // 2 + 1] * 2  # floor division: not affine in the batch

    with pytest.raises(ember.onnx.SymbolicValueError, match=r"select_view.*indices"):
        ember.onnx.export(Half(), (ember.randn(4, 2),), None, input_names=["x"],
                          dynamic_axes={"x": {0: "n"}})

    class Branchy(nn.Module):
        def forward(self, x):
            return x * 2 if x.shape[0] < 4 else x.relu()

    with pytest.raises(ember.onnx.OnnxExporterError, match="other ops"):
        ember.onnx.export(Branchy(), (ember.randn(3, 2),), None, input_names=["x"],
                          dynamic_axes={"x": {0: "n"}})


def test_unsupported_op_names_record_and_opset():
    class M(nn.Module):
        def forward(self, x):
            return ember.digamma(x)

    with pytest.raises(ember.onnx.UnsupportedOperatorError,
                       match="'digamma' to ONNX opset version 17"):
        ember.onnx.export(M(), (ember.rand(3) + 1,), None)

    class H(nn.Module):
        def forward(self, x):
            return F.hardswish(x)

    with pytest.raises(ember.onnx.UnsupportedOperatorError,
                       match=r"'hardswish' to ONNX opset version 13.*opset 14"):
        ember.onnx.export(H(), (ember.randn(3),), None, opset_version=13)
    assert_close(run(export(H(), (ember.randn(3),), opset_version=14),
                     np.linspace(-4, 4, 3, dtype=np.float32)),
                 eager(H(), ember.tensor(np.linspace(-4, 4, 3, dtype=np.float32))))
    with pytest.raises(ValueError, match="opset_version 9"):
        ember.onnx.export(H(), (ember.randn(3),), None, opset_version=9)


def test_file_object_export_params_and_initializers_as_inputs():
    m = mlp().eval()
    x = ember.randn(2, 3, 4)
    buf = io.BytesIO()
    assert ember.onnx.export(m, (x,), buf) is None
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    assert_close(run(proto, x.numpy()), eager(m, x))
    # export_params=False: parameters are graph inputs named by their state_dict keys
    p2 = export(m, (x,), export_params=False, input_names=["x"])
    names = [i.name for i in p2.graph.input]
    assert names[0] == "x" and "1.weight" in names
    assert not {t.name for t in p2.graph.initializer} & set(names)
    state = m.state_dict()
    feeds = [x.numpy()] + [state[n].numpy() for n in names[1:]]
    assert_close(run(p2, *feeds), eager(m, x))
    # keep_initializers_as_inputs: initializers that the caller may override
    p3 = export(m, (x,), keep_initializers_as_inputs=True)
    init = {t.name for t in p3.graph.initializer}
    assert init and init <= {i.name for i in p3.graph.input}
    r = ember.onnx.verify(m, (x,), export_params=False)
    assert r.ok


def test_no_constant_folding_keeps_the_batchnorm_algebra():
    m = cnn().eval()
    x = ember.randn(2, 3, 16, 16)
    proto = export(m, (x,), do_constant_folding=False)
    assert "Sqrt" in op_types(proto) or "Reciprocal" in op_types(proto)
    assert_close(run(proto, x.numpy()), eager(m, x))


def test_keyword_arguments_and_trailing_dict():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x, scale=None):
            return self.fc(x) * scale

    m = M()
    x, s = ember.randn(2, 3), ember.rand(2, 3)
    proto = export(m, (x, {"scale": s}))
    assert_close(run(proto, x.numpy(), s.numpy()), eager(m, x, s))
    proto = export(m, (x,), kwargs={"scale": s})
    assert_close(run(proto, x.numpy(), s.numpy()), eager(m, x, s))


def test_training_mode_export_keeps_dropout_and_batch_statistics():
    import copy

    m = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    ref = copy.deepcopy(m).train()
    x = ember.randn(8, 4)
    proto = export(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "n"}},
                   training=ember.onnx.TrainingMode.TRAINING)
    assert "Dropout" in op_types(proto)
    # the running statistics moved once, as one eager step moves them (the extra traces
    # for dynamic axes leave them alone)
    with ember.no_grad():
        ref(x)
    assert ember.allclose(m[1].running_mean, ref[1].running_mean)
    assert ember.allclose(m[1].running_var, ref[1].running_var)
    m2 = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, track_running_stats=False))
    x = ember.randn(8, 4)
    proto = export(m2, (x,), training=ember.onnx.TrainingMode.TRAINING)
    m2.train()
    assert_close(run(proto, x.numpy()), eager(m2, x))


def test_verify_flag_and_mismatch_report():
    m = mlp()
    ember.onnx.export(m, (ember.randn(2, 3, 4),), io.BytesIO(), verify=True)
    r = ember.onnx.verify(m, (ember.randn(2, 3, 4),), rtol=0.0, atol=0.0)
    # zero tolerance: any rounding difference is reported as a mismatch, with the numbers
    assert r.ok == all(d == 0 for d in r.diffs)
    if not r.ok:
        with pytest.raises(AssertionError, match="largest absolute difference"):
            r.check()


def test_is_in_onnx_export_inside_forward():
    seen = []

    class M(nn.Module):
        def forward(self, x):
            seen.append(ember.onnx.is_in_onnx_export())
            return x + 1

    export(M(), (ember.ones(2),))
    assert seen and all(seen)
    assert not ember.onnx.is_in_onnx_export()


# ---------------------------------------------------------------------------- op sweep
def _x():
    return ember.tensor(np.linspace(-2.5, 2.5, 24, dtype=np.float32).reshape(2, 3, 4))


SWEEP = {
    "unary": lambda x: [x.abs(), -x, x.exp(), (x.abs() + 1).log(), (x.abs() + 0.5).sqrt(),
                        x.sin(), x.cos(), x.tanh(), x.sigmoid(), x.relu(), x.ceil(),
                        x.floor(), x.sign(), ember.erf(x), (x.abs() + 1).rsqrt(),
                        x.square(), (x.abs()).log1p(), x.expm1(), (x.abs() + 1).log2(),
                        x.reciprocal(), x.round(), ember.atan(x)],
    "activations": lambda x: [F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x),
                              F.mish(x), F.hardsigmoid(x), F.hardswish(x), F.leaky_relu(x, 0.2),
                              F.elu(x), F.selu(x), F.celu(x, 0.7), F.hardtanh(x), F.relu6(x),
                              F.softplus(x), F.softplus(x, beta=2, threshold=3),
                              F.logsigmoid(x), F.softsign(x), F.threshold(x, 0.5, -1.0),
                              F.hardshrink(x), F.softshrink(x), x.clamp(-1, 1),
                              x.clamp(min=0.1)],
    "binary": lambda x: [x + 1, 1 - x, x * x, x / 3, 2 / (x.abs() + 1), x ** 2,
                         ember.maximum(x, x * 0.5), ember.minimum(x, -x), x % 0.7,
                         ember.fmod(x, 0.7), x // 0.6, ember.where(x > 0, x, x * 0.1),
                         (x > 0).float(), (x == x).long(), (x != 0.5).int(),
                         ((x > 0) & (x < 1)).float(), ((x > 1) | (x < -1)).float(),
                         (x.long() + 1) * 2, x.long() // 2, x.long() % 3],
    "reductions": lambda x: [x.sum(), x.sum(1), x.mean((0, 2), keepdim=True), x.amax(2),
                             x.amin(-1), x.max(1)[0], x.max(1)[1], x.argmax(), x.argmin(1),
                             x.prod(2), ember.logsumexp(x, 1), x.norm(dim=2),
                             x.softmax(1), x.log_softmax(0), x.cumsum(2),
                             (x > 0).all(1).float(), (x > 2).any().float()],
    "shapes": lambda x: [x.transpose(0, 2), x.permute(2, 0, 1), x.movedim(0, -1),
                         x.reshape(6, 4), x.view(-1), x.unsqueeze(1), x[:, None, 1:],
                         x[..., ::2], x[1], x[:, -1], x[:, 1:-1, 1::2], x.flip(1),
                         ember.cat([x, x * 2], 1), ember.stack([x, x], 0), x.repeat(1, 2, 1),
                         x.expand(2, 2, 3, 4), x[:, [0, 2]], x[x[:, 0, 0] >= 0],
                         F.pad(x, (1, 2)), x.tril(), x.triu(1), x.chunk(2, 2)[1],
                         ember.einsum("abc,abd->acd", x, x), x @ x.transpose(1, 2),
                         x.split([1, 2], 1)[1], x.narrow(2, 1, 2), x.t() if x.ndim == 2
                         else x.mT],
    "more": lambda x: [ember.deg2rad(x), ember.rad2deg(x), ember.erfc(x), x.trunc(),
                       x.frac(), ember.logit(x.sigmoid()), ember.logit(x.sigmoid(), eps=0.2),
                       ember.hypot(x, x * 0.5), ember.atan2(x, x.flip(2)),
                       ember.xlogy(x, x.abs() + 1), ember.heaviside(x.round(), x),
                       ember.fmax(x, x * -1), ember.fmin(x, x * 0.3),
                       ember.logaddexp(x, x * 2), ember.sinc(x), x.roll(1, 2),
                       x.roll((1, -1), (0, 2)), x.roll(5), ember.isfinite(x / x.round()),
                       ember.isposinf(1 / x.round()), ember.isneginf(1 / x.round()), x.sgn(),
                       (x > 0).nonzero(), ember.linspace(0, 1, 5) + x.sum(),
                       ember.eye(3) * x.mean(), ember.hann_window(4) * x.amax()],
}


@pytest.mark.parametrize("opset", [14, 17, 18])
@pytest.mark.parametrize("group", sorted(SWEEP))
def test_op_sweep(group, opset):
    class M(nn.Module):
        def forward(self, x):
            return tuple(SWEEP[group](x))

    x = _x()
    proto = export(M(), (x,), opset_version=opset)
    assert_close(run(proto, x.numpy()), eager(M(), x))
    # without folding every record goes through its converter
    proto = export(M(), (x,), do_constant_folding=False, opset_version=opset)
    assert_close(run(proto, x.numpy()), eager(M(), x))


def test_losses():
    class M(nn.Module):
        def forward(self, x, t, w):
            return (F.cross_entropy(x, t), F.cross_entropy(x, t, reduction="none"),
                    F.cross_entropy(x, t, weight=w, ignore_index=2, reduction="sum"),
                    F.nll_loss(x.log_softmax(1), t))

    x, t, w = ember.randn(6, 4), ember.tensor([0, 1, 2, 3, 2, 1]), ember.rand(4) + 0.5
    proto = export(M(), (x, t, w))
    assert_close(run(proto, x.numpy(), t.numpy(), w.numpy()), eager(M(), x, t, w))


def test_indexed_assignment_and_inplace():
    class M(nn.Module):
        def forward(self, x):
            y = x.clone()
            y[:, 0] = 5.0
            y.relu_()
            y[1, 1:3] += 1.0
            return y

    x = _x()
    assert_close(run(export(M(), (x,)), x.numpy()), eager(M(), x))


def test_conv_transpose_and_upsampling():
    m = nn.Sequential(nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
                      nn.ReLU(), nn.Conv2d(4, 2, 1)).eval()
    x = ember.randn(2, 3, 5, 5)
    assert_close(run(export(m, (x,)), x.numpy()), eager(m, x))
    pool = nn.Sequential(nn.MaxPool2d(3, 2, ceil_mode=True), nn.AvgPool2d(2, 1, padding=1,
                                                                          count_include_pad=False))
    x = ember.randn(1, 2, 8, 8)
    assert_close(run(export(pool, (x,)), x.numpy()), eager(pool, x))


def test_layer_norm_without_affine_and_old_opset():
    m = nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6, elementwise_affine=False))
    x = ember.randn(3, 6)
    for opset in (13, 17):
        assert_close(run(export(m, (x,), opset_version=opset), x.numpy()), eager(m, x))


def test_scaled_dot_product_attention():
    class M(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    q, k, v = (ember.randn(2, 2, 5, 4) for _ in range(3))
    proto = export(M(), (q, k, v))
    assert_close(run(proto, q.numpy(), k.numpy(), v.numpy()), eager(M(), q, k, v))
    assert math.isfinite(float(np.abs(run(proto, q.numpy(), k.numpy(), v.numpy())[0]).max()))


def test_verbose_prints_the_graph_and_preserve_mode(capsys):
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    m.eval()
    proto = export(m, (ember.randn(2, 3),), verbose=True,
                   training=ember.onnx.TrainingMode.PRESERVE)
    out = capsys.readouterr().out
    assert "Gemm" in out and "main_graph" in out
    assert "Dropout" not in op_types(proto)  # PRESERVE kept eval mode: no dropout
    m.train()
    proto = export(m, (ember.randn(2, 3),), training=ember.onnx.TrainingMode.PRESERVE)
    assert "Dropout" in op_types(proto) and m.training
