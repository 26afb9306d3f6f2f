"""nn records a compiler can replay (issue 11): the fused nn kernels (batch/layer norm,
cross-entropy, nll, CTC, the recurrent layers, dropout) run everything in their record's
``fwd(*arrays, *attrs)``, their attributes are named plain values, and their forward-time
state is an extra output that backward reads from the node (NOTE [ Forward state as
outputs ] in ``ember/nn/_functional_common.py``)."""

import contextlib

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._ops.core import OPS
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import _functional_seq as FS


def _t(*shape, seed=0, grad=True):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(a, requires_grad=grad)


def _lstm(proj):
    extra = (_t(2, 2, seed=5),) if proj else ()
    h = 2 if proj else 2
    return FS.lstm_layer(_t(3, 2, 8), _t(2, h, seed=1), _t(2, 2, seed=2), _t(8, h, seed=3),
                         *extra, batch_sizes=[2, 2, 1])


# record name -> a call that runs it forward and backward (first order)
CALLS = {
    "batch_norm": lambda: F.batch_norm(_t(4, 3, 2), None, None, _t(3, seed=1), _t(3, seed=2),
                                       training=True),
    "batch_norm_stats": lambda: F.batch_norm(_t(4, 3), ember.zeros(3, dtype=ember.float64),
                                             ember.ones(3, dtype=ember.float64), _t(3, seed=1),
                                             None, training=True, momentum=0.3),
    "layer_norm": lambda: F.layer_norm(_t(2, 3, 4), (3, 4), _t(3, 4, seed=1), None),
    "cross_entropy": lambda: F.cross_entropy(_t(3, 4, 2), ember.tensor([[0, 3], [1, -100],
                                                                         [2, 2]]),
                                             ember.tensor([1.0, 2.0, 0.5, 1.0],
                                                          dtype=ember.float64)),
    "nll_loss": lambda: F.nll_loss(_t(3, 4).log_softmax(1), ember.tensor([0, 3, 1])),
    "ctc_loss": lambda: F.ctc_loss(_t(5, 2, 4).log_softmax(2), ember.tensor([[1, 2], [3, 0]]),
                                   [5, 4], [2, 1], reduction="sum"),
    "lstm_layer": lambda: _lstm(False),
    "lstm_layer_proj": lambda: _lstm(True),
    "gru_layer": lambda: FS.gru_layer(_t(3, 2, 9), _t(2, 3, seed=1), _t(9, 3, seed=2),
                                      _t(9, seed=3), batch_sizes=[2, 1, 1]),
    "rnn_layer": lambda: FS.rnn_layer(_t(3, 2, 3), _t(2, 3, seed=1), _t(3, 3, seed=2),
                                      "relu"),
    "native_dropout": lambda: F.dropout2d(_t(2, 3, 4, 4), 0.4),
    "adaptive_max_pool": lambda: F.adaptive_max_pool2d(_t(2, 3, 7, 5), (3, 2)),
    "rrelu_with_noise": lambda: F.rrelu(_t(3, 4), 0.1, 0.3, training=True),
    "embedding": lambda: F.embedding(ember.tensor([[0, 2], [1, 2]]), _t(3, 4), padding_idx=1),
    "segment_sum": lambda: F.embedding_bag(ember.tensor([0, 2, 1, 2]), _t(3, 4),
                                           ember.tensor([0, 3]), mode="mean"),
    "segment_max": lambda: F.embedding_bag(ember.tensor([[0, 2], [1, 2]]), _t(3, 4),
                                           mode="max"),
    "hardtanh": lambda: F.hardtanh(_t(3, 4), -0.5, 0.5),
    "leaky_relu": lambda: F.leaky_relu(_t(3, 4), 0.2),
    "elu": lambda: F.celu(_t(3, 4), 0.7),
    "gelu": lambda: F.gelu(_t(3, 4), approximate="tanh"),
    "softplus": lambda: F.softplus(_t(3, 4), 2.0, 10.0),
    "shrink": lambda: F.softshrink(_t(3, 4), 0.3),
    "threshold": lambda: F.threshold(_t(3, 4), 0.1, -1.0),
    "hardsigmoid": lambda: F.hardsigmoid(_t(3, 4)),
    "hardswish": lambda: F.hardswish(_t(3, 4)),
    "log_sigmoid": lambda: F.logsigmoid(_t(3, 4)),
    "mish": lambda: F.mish(_t(3, 4)),
    "silu": lambda: F.silu(_t(3, 4)),
    "softsign": lambda: F.softsign(_t(3, 4)),
    "linear": lambda: F.linear(_t(2, 3), _t(4, 3, seed=1), _t(4, seed=2)),
    "instance_norm_update_stats": lambda: F.instance_norm(
        _t(2, 3, 5), ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64),
        momentum=0.3),
    # reflect/replicate padding (NOTE [ Reflection and replication padding by slices ])
    "pad_edges": lambda: F.pad(_t(1, 2, 4, 5), (1, 2, 2, 1), mode="reflect"),
    # grid_sample is one record with the C kernels, and its backward another; without them
    # a call without gradients is one record (the sum gives the call a backward)
    "grid_sampler_2d": lambda: F.grid_sample(
        _t(2, 3, 4, 5), _t(2, 2, 3, 2, seed=1).tanh(), align_corners=False),
    "grid_sampler_2d_nograd": lambda: F.grid_sample(
        _t(2, 3, 4, 5, grad=False), _t(2, 2, 3, 2, seed=1, grad=False).tanh(),
        align_corners=False) + _t(2, 3, 2, 3, seed=2),
    # linear interpolation, one record per axis (NOTE [ Linear interpolation along one axis ])
    "upsample_linear_axis": lambda: F.interpolate(_t(1, 2, 3, 4), size=(5, 3),
                                                  mode="bilinear"),
    # the global average pool (NOTE [ Global average pool ])
    "adaptive_avg_pool_global": lambda: F.adaptive_avg_pool2d(_t(2, 3, 4, 5), 1),
}
# not differentiable: no graph node
NO_NODE = ("instance_norm_update_stats", "grid_sampler_2d_nograd")
# records reached by each call (the backward records run in its first-order backward)
REACHES = {
    "nll_loss": ("nll_loss", "nll_loss_backward"),
    "lstm_layer": ("lstm_layer", "lstm_layer_backward"),
    "lstm_layer_proj": ("lstm_layer", "lstm_layer_backward"),
    "gru_layer": ("gru_layer", "gru_layer_backward"),
    "rnn_layer": ("rnn_layer", "rnn_layer_backward"),
    "embedding": ("embedding", "embedding_backward"),
    "pad_edges": ("pad_edges", "pad_edges_backward"),
    "grid_sampler_2d": ("grid_sampler_2d", "grid_sampler_2d_backward"),
    "grid_sampler_2d_nograd": ("grid_sampler_2d",),
    "upsample_linear_axis": ("upsample_linear_axis", "upsample_linear_axis_backward"),
    "linear": ("linear", "linear_backward"),
    "hardtanh": ("hardtanh", "hardtanh_backward"),
    "leaky_relu": ("leaky_relu", "leaky_relu_backward"),
    "elu": ("elu", "elu_backward"),
    "gelu": ("gelu", "gelu_backward"),
    "softplus": ("softplus", "softplus_backward"),
    "shrink": ("shrink", "shrink_backward"),
    "threshold": ("threshold", "threshold_backward"),
    **{k: (k, k + "_backward") for k in ("hardsigmoid", "hardswish", "log_sigmoid", "mish",
                                         "silu", "softsign")},
}
RANDOM = ("native_dropout", "rrelu_with_noise")
TOUCHED = sorted({r for k in CALLS for r in REACHES.get(k, (k,))})


def _is_array(v):
    return isinstance(v, np.ndarray) or hasattr(v, "__array__")


def _plain(v):
    """A value a compiler can keep in a graph: hashable, no arrays, tuples of plain."""
    if isinstance(v, tuple):
        return all(_plain(x) for x in v)
    if _is_array(v) or isinstance(v, ember.Tensor):
        return False
    hash(v)
    return isinstance(v, (bool, int, float, str, type(None)))


@contextlib.contextmanager
def _capture(names):
    """Record every call of the named records' forwards: (arrays, attrs, outputs)."""
    seen = {n: [] for n in names}
    saved = {}
    for n in names:
        op = OPS[n]
        saved[n] = op.fwd

        def probe(*args, _op=op, _fwd=op.fwd):
            k = len(_op.attrs)
            arrays, attrs = args[:len(args) - k], args[len(args) - k:]
            copies = [np.array(a, copy=True) for a in arrays]
            out = _fwd(*args)
            # a copy: backward may reuse state outputs' memory (cross-entropy's softmax)
            kept = tuple(np.array(o, copy=True) for o in out) if isinstance(out, tuple) \
                else np.array(out, copy=True)
            seen[_op.name].append((arrays, copies, attrs, kept))
            return out

        op.fwd = probe
    try:
        yield seen
    finally:
        for n, f in saved.items():
            OPS[n].fwd = f


def _backward(out):
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum((o * (i + 1.5)).sum() for i, o in enumerate(outs) if o.requires_grad)
    loss.backward()


@pytest.mark.parametrize("key", sorted(CALLS))
def test_record_forward_takes_arrays_then_named_plain_attrs(key):
    names = REACHES.get(key, (key,))
    with _capture(names) as seen:
        _backward(CALLS[key]())
    for n in names:
        op = OPS[n]
        assert seen[n], f"{key} never ran record {n}"
        assert op.fwd is not None
        for arrays, _, attrs, _ in seen[n]:
            # an unnamed attribute would sit among the arrays
            assert all(_is_array(a) for a in arrays), f"{n}: a non-array before the attrs"
            assert all(_plain(v) for v in attrs), f"{n}: attrs {attrs!r} are not plain values"
            assert set(op.named(attrs)) == set(op.attrs)


@pytest.mark.parametrize("key", sorted(k for k in CALLS if k not in NO_NODE))
def test_node_params_are_the_named_attrs(key):
    name = REACHES.get(key, (key,))[0]
    out = CALLS[key]()
    node = (out[0] if isinstance(out, tuple) else out).grad_fn
    while node.op.name != name:  # reductions after the record (losses)
        node = next(f for f, _ in node.next_functions if f is not None and hasattr(f, "op"))
    params = node.params
    assert isinstance(params, tuple) and len(params) == len(node.op.attrs)
    assert all(_plain(v) for v in params), params
    hash(params)


@pytest.mark.parametrize("key", sorted(k for k in CALLS if k not in RANDOM))
def test_replaying_the_record_reproduces_its_outputs(key):
    """``fwd(*arrays, *attrs)`` alone recomputes every output (state included) from copies
    of the inputs taken before the call, so a compiler can replay the record."""
    names = REACHES.get(key, (key,))
    with _capture(names) as seen:
        _backward(CALLS[key]())
    for n in names:
        op = OPS[n]
        for arrays, copies, attrs, out in seen[n]:
            again = op.fwd(*copies, *attrs)
            outs = out if isinstance(out, tuple) else (out,)
            agains = again if isinstance(again, tuple) else (again,)
            assert len(outs) == len(agains)
            for a, b in zip(outs, agains):
                np.testing.assert_array_equal(a, b)
            for i in op.mutates:  # the declared mutation happened to the copies too
                np.testing.assert_array_equal(copies[i], arrays[i])


def test_every_nn_record_is_checked_here():
    """Iterate over the op table: every record defined in ember.nn is exercised above."""
    nn_records = {n for n, op in OPS.items()
                  if (getattr(op.fwd or op.bwd, "__module__", "") or "").startswith("ember.nn")}
    assert nn_records, "no nn records found"
    assert nn_records <= set(TOUCHED), sorted(nn_records - set(TOUCHED))


def test_every_touched_record_declares_its_metadata():
    for n in TOUCHED:
        op = OPS[n]
        assert op.fwd is not None, n
    assert OPS["batch_norm_stats"].mutates == (1, 2)
    assert OPS["instance_norm_update_stats"].mutates == (1, 2)
    assert OPS["native_dropout"].random
    assert all(OPS[n].multi for n in ("batch_norm", "batch_norm_stats", "layer_norm",
                                      "cross_entropy", "ctc_loss", "lstm_layer", "gru_layer",
                                      "rnn_layer", "native_dropout"))


def test_public_functions_return_only_pytorchs_outputs():
    assert isinstance(CALLS["batch_norm"](), ember.Tensor)
    assert isinstance(CALLS["layer_norm"](), ember.Tensor)
    assert isinstance(CALLS["cross_entropy"](), ember.Tensor)
    assert len(CALLS["lstm_layer"]()) == 3
    assert len(CALLS["gru_layer"]()) == 2
    y = CALLS["batch_norm"]()
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    # the node lists only the public outputs: the engine expects no gradient for the state
    assert len(y.grad_fn.shape) == 1


def test_batch_norm_running_stats_are_a_declared_mutation():
    x = _t(5, 3, 2)
    w, b = _t(3, seed=1), _t(3, seed=2)
    rm = ember.zeros(3, dtype=ember.float64)
    rv = ember.ones(3, dtype=ember.float64)
    v0 = rm._version
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.25)
    assert rm._version > v0 and rv._version > 0
    xd = x.detach().numpy()
    mean = xd.mean(axis=(0, 2))
    var = xd.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(rm.numpy(), 0.25 * mean)
    np.testing.assert_allclose(rv.numpy(), 0.75 + 0.25 * var)
    ref = F.batch_norm(x, None, None, w, b, training=True)
    np.testing.assert_allclose(y.detach().numpy(), ref.detach().numpy())
    y.sum().backward()  # the saved inputs' versions are consistent after the update
    # gradients with running statistics equal those without
    assert gradcheck(lambda a, c, d: F.batch_norm(a, ember.zeros(3, dtype=ember.float64),
                                                  ember.ones(3, dtype=ember.float64), c, d,
                                                  training=True), (x, w, b))
    assert gradgradcheck(lambda a, c: F.batch_norm(a, ember.zeros(3, dtype=ember.float64),
                                                   ember.ones(3, dtype=ember.float64), c,
                                                   None, training=True), (x, w))
    # only one running statistic: the other is a scratch buffer
    rm2 = ember.zeros(3, dtype=ember.float64)
    F.batch_norm(x, rm2, None, training=True, momentum=0.25)
    np.testing.assert_allclose(rm2.numpy(), 0.25 * mean)


def test_batch_norm_running_stats_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((6, 4, 3)).astype(np.float32)
    rm, rv = ember.zeros(4), ember.ones(4)
    trm, trv = torch.zeros(4), torch.ones(4)
    x = ember.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    for _ in range(2):
        y = F.batch_norm(x, rm, rv, training=True, momentum=0.2)
        ty = torch.nn.functional.batch_norm(tx, trm, trv, training=True, momentum=0.2)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_forward_state_is_freed_with_the_graph():
    x = _t(4, 3)
    y = F.layer_norm(x, (3,))
    node = y.grad_fn
    y.sum().backward(retain_graph=True)
    g1 = x.grad.clone()
    y.sum().backward()  # retained: the state is still there
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    assert node.out is not None


def test_dropout_is_one_random_record():
    x = _t(3, 4, 5)
    with _capture(["native_dropout"]) as seen:
        ember.manual_seed(7)
        y1 = F.dropout(x, 0.3)
        ember.manual_seed(7)
        y2 = F.dropout(x, 0.3)
        y3 = F.dropout(x, 0.3)
    assert len(seen["native_dropout"]) == 3
    np.testing.assert_array_equal(y1.detach().numpy(), y2.detach().numpy())
    assert not np.array_equal(y2.detach().numpy(), y3.detach().numpy())
    mask, = [out[1] for _, _, _, out in seen["native_dropout"][:1]]
    y1.backward(ember.ones_like(y1))
    np.testing.assert_array_equal(x.grad.numpy(), mask)
    assert set(np.unique(mask)) <= {0.0, 1 / 0.7}
    # feature and alpha variants, and in place, through the same record
    assert gradcheck(lambda a: (ember.manual_seed(1), F.dropout2d(a, 0.5))[1], (_t(2, 3, 2, 2),))
    assert gradcheck(lambda a: (ember.manual_seed(1), F.alpha_dropout(a, 0.3, True))[1],
                     (_t(4, 5),))
    z = _t(4, 5, grad=False)
    ember.manual_seed(2)
    ref = F.dropout(z, 0.5)
    ember.manual_seed(2)
    assert F.dropout(z, 0.5, inplace=True) is z
    np.testing.assert_array_equal(z.numpy(), ref.numpy())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_record_gradients(reduction):
    t = ember.tensor([[0, 3], [1, -100], [2, 2]])
    w = ember.tensor([1.0, 2.0, 0.5, 1.0], dtype=ember.float64)
    assert gradcheck(lambda a: F.cross_entropy(a, t, w, reduction=reduction), (_t(3, 4, 2),))
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, reduction=reduction), (_t(3, 4, 2),))


def test_cross_entropy_backward_twice_with_retain_graph():
    """The first backward writes the gradient over the saved softmax; a second one
    (retain_graph=True) recomputes it from the saved logits."""
    x = _t(5, 4, 3)
    t = ember.tensor([[0, 1, 2], [3, 3, -100], [1, 0, 0], [2, 2, 2], [0, 3, 1]])
    y = F.cross_entropy(x, t)
    y.backward(retain_graph=True)
    g1 = x.grad.clone()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-12)
    ref = _t(5, 4, 3)
    F.nll_loss(ref.log_softmax(1), t).backward()
    np.testing.assert_allclose(g1.numpy(), ref.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_rrelu_is_a_random_record():
    x = _t(4, 5)
    ember.manual_seed(3)
    y1 = F.rrelu(x, 0.1, 0.3, training=True)
    ember.manual_seed(3)
    y2 = F.rrelu(x, 0.1, 0.3, training=True)
    np.testing.assert_array_equal(y1.detach().numpy(), y2.detach().numpy())
    xd, yd = x.detach().numpy(), y1.detach().numpy()
    np.testing.assert_array_equal(yd[xd >= 0], xd[xd >= 0])
    slope = yd[xd < 0] / xd[xd < 0]
    assert ((slope >= 0.1) & (slope <= 0.3)).all()
    assert OPS["rrelu_with_noise"].random
    assert gradcheck(lambda a: (ember.manual_seed(1), F.rrelu(a, 0.1, 0.3, True))[1], (x,))
    z = _t(4, 5, grad=False)
    ember.manual_seed(2)
    ref = F.rrelu(z, training=True)
    ember.manual_seed(2)
    assert F.rrelu_(z, training=True) is z
    np.testing.assert_array_equal(z.numpy(), ref.numpy())


def test_instance_norm_running_stats_are_a_declared_mutation():
    x = _t(4, 3, 6)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    F.instance_norm(x, rm, rv, momentum=0.25)
    xd = x.detach().numpy()
    np.testing.assert_allclose(rm.numpy(), 0.25 * xd.mean(axis=(0, 2)))
    np.testing.assert_allclose(rv.numpy(), 0.75 + 0.25 * xd.var(axis=2, ddof=1).mean(0))
    assert rm._version > 0 and rv._version > 0
    assert gradcheck(lambda a: F.instance_norm(a, ember.zeros(3, dtype=ember.float64),
                                               None, momentum=0.25), (x,))


def test_batch_norm_twice_before_backward():
    """Two training forwards of one layer (a GAN discriminator on real and fake batches)
    update the running statistics twice before backward: they are not saved for it."""
    bn = ember.nn.BatchNorm1d(3).double()
    a, b = _t(4, 3), _t(5, 3, seed=1)
    (bn(a).pow(2).sum() + bn(b).pow(2).sum()).backward()
    ref_a, ref_b = _t(4, 3), _t(5, 3, seed=1)
    (F.batch_norm(ref_a, None, None, bn.weight, bn.bias, training=True).pow(2).sum()
     + F.batch_norm(ref_b, None, None, bn.weight, bn.bias, training=True).pow(2).sum()
     ).backward()
    np.testing.assert_allclose(a.grad.numpy(), ref_a.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), ref_b.grad.numpy(), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 2
