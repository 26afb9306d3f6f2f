"""nn.Module contract: registration, iteration, state_dict, conversion, hooks, repr, containers.

Most tests hold hard-coded expectations; those marked with the ``torch`` fixture also check
the same program against PyTorch (skipped when it is not installed).
"""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def Net(lib_nn=nn):
    """The same model definition built on ember.nn or torch.nn."""

    class Net(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib_nn.Sequential(lib_nn.Linear(4, 8), lib_nn.ReLU(),
                                              lib_nn.BatchNorm1d(8))
            self.classifier = lib_nn.Sequential(lib_nn.Dropout(0.1), lib_nn.Linear(8, 3))

        def forward(self, x):
            return self.classifier(self.features(x))

    return Net()


NET_REPR = """Net(
  (features): Sequential(
    (0): Linear(in_features=4, out_features=8, bias=True)
    (1): ReLU()
    (2): BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, \
track_running_stats=True)
  )
  (classifier): Sequential(
    (0): Dropout(p=0.1, inplace=False)
    (1): Linear(in_features=8, out_features=3, bias=True)
  )
)"""

NET_KEYS = ["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
            "features.2.running_mean", "features.2.running_var",
            "features.2.num_batches_tracked", "classifier.1.weight", "classifier.1.bias"]


# --------------------------------------------------------------------------- registration
def test_setattr_registers_parameters_buffers_modules():
    m = nn.Module()
    m.w = nn.Parameter(ember.ones(2))
    m.register_buffer("b", ember.zeros(3))
    m.register_buffer("tmp", ember.zeros(1), persistent=False)
    m.child = nn.Linear(2, 2)
    m.plain = 5
    assert list(m._parameters) == ["w"] and list(m._buffers) == ["b", "tmp"]
    assert list(m._modules) == ["child"] and m.plain == 5
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["w"]
    assert [n for n, _ in m.named_buffers()] == ["b", "tmp"]
    assert list(m.state_dict()) == ["w", "b", "child.weight", "child.bias"]  # tmp not saved
    # reassigning a Module/Parameter name with the wrong type is a TypeError
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'w'"):
        m.w = ember.ones(2)
    with pytest.raises(TypeError, match="child module 'child'"):
        m.child = 3
    m.w = None
    assert m.w is None and "w" not in m.state_dict()
    del m.child
    assert not hasattr(m, "child")
    # a buffer can be replaced by any tensor
    m.b = ember.ones(3)
    assert m.state_dict()["b"].tolist() == [1.0, 1.0, 1.0]


def test_registration_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", ember.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", ember.zeros(1))
    with pytest.raises(KeyError, match="empty string"):
        m.register_parameter("", None)
    with pytest.raises(TypeError, match="torch.nn.Parameter or None required"):
        m.register_parameter("p", ember.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(TypeError, match="torch Tensor or None required"):
        m.register_buffer("x", [1, 2])
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("q", _nonleaf_parameter())
    with pytest.raises(AttributeError, match="cannot assign parameters before Module"):
        class Bad(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(ember.ones(1))
        Bad()
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        m.nope


def _nonleaf_parameter():
    p = nn.Parameter(ember.ones(1))
    x = ember.ones(1, requires_grad=True) * 2
    p._grad_fn = x._grad_fn
    return p


def test_buffer_marker_and_get_submodule_parameter():
    m = nn.Module()
    m.sub = nn.Sequential(nn.Linear(2, 3))
    m.stats = nn.Buffer(ember.zeros(2), persistent=False)
    assert "stats" in m._buffers and "stats" not in m.state_dict()
    assert m.get_submodule("sub.0") is m.sub[0]
    assert m.get_parameter("sub.0.bias") is m.sub[0].bias
    assert m.get_buffer("stats") is m.stats
    with pytest.raises(AttributeError, match="Sequential has no attribute `5`"):
        m.get_submodule("sub.5")
    with pytest.raises(AttributeError, match="`in_features` is not an nn.Parameter"):
        m.get_parameter("sub.0.in_features")
    m.set_submodule("sub.0", nn.Identity())
    assert isinstance(m.sub[0], nn.Identity)


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(m.parameters())) == 2
    assert len(list(m.modules())) == 3
    assert [n for n, _ in m.named_modules()] == ["", "0", "1"]
    assert len(list(m.named_modules(remove_duplicate=False))) == 4
    assert [n for n, _ in m.named_children()] == ["0", "1"]
    # the state_dict still holds both names, as in PyTorch
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


# --------------------------------------------------------------------------- state_dict
def test_state_dict_layout():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict) and list(sd) == NET_KEYS
    assert sd._metadata[""] == {"version": 1} and sd._metadata["features.2"]["version"] == 2
    assert not sd["features.0.weight"].requires_grad
    assert np.shares_memory(sd["features.0.weight"]._data, net.features[0].weight._data)
    kv = net.state_dict(keep_vars=True)
    assert kv["features.0.weight"] is net.features[0].weight
    assert list(net.features.state_dict(prefix="f."))[0] == "f.0.weight"
    assert sd["features.2.num_batches_tracked"].dtype == ember.int64


def test_load_state_dict_reports_and_errors():
    net, other = Net(), Net()
    r = net.load_state_dict(other.state_dict())
    assert repr(r) == "<All keys matched successfully>"
    assert np.array_equal(net.classifier[1].weight.detach().numpy(),
                          other.classifier[1].weight.detach().numpy())
    sd = other.state_dict()
    del sd["classifier.1.bias"]
    sd["extra.weight"] = ember.zeros(1)
    sd["features.9"] = ember.zeros(1)
    with pytest.raises(RuntimeError) as ei:
        net.load_state_dict(sd)
    msg = str(ei.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    assert 'Missing key(s) in state_dict: "classifier.1.bias". ' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight", "features.9". ' in msg
    assert msg.index("Missing") < msg.index("Unexpected")
    r = net.load_state_dict(sd, strict=False)
    assert r.missing_keys == ["classifier.1.bias"]
    assert r.unexpected_keys == ["extra.weight", "features.9"]
    bad = other.state_dict()
    bad["classifier.1.weight"] = ember.zeros(2, 8)
    with pytest.raises(RuntimeError, match=r"size mismatch for classifier.1.weight: copying a "
                       r"param with shape torch.Size\(\[2, 8\]\) from checkpoint, the shape "
                       r"in current model is torch.Size\(\[3, 8\]\)."):
        net.load_state_dict(bad)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net.load_state_dict([1, 2])


def test_load_state_dict_keeps_parameter_objects_and_casts():
    m = nn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": ember.ones(2, 2, dtype=ember.float64), "bias": ember.zeros(2)})
    assert m.weight is w and m.weight.dtype == ember.float32
    assert m.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_batchnorm_loads_old_checkpoint_without_counter():
    bn = nn.BatchNorm1d(3)
    sd = bn.state_dict()
    del sd["num_batches_tracked"]
    sd._metadata[""] = {"version": 1}
    assert repr(bn.load_state_dict(sd)) == "<All keys matched successfully>"


def test_state_dict_round_trip_with_torch(torch):
    tnet = Net(torch.nn)
    enet = Net()
    assert list(tnet.state_dict()) == list(enet.state_dict())
    enet.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tnet.state_dict().items()})
    tnet2 = Net(torch.nn)
    tnet2.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                           for k, v in enet.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    tnet.eval()
    enet.eval()
    tnet2.eval()
    ye = enet(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ye, tnet(torch.from_numpy(x)).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(ye, tnet2(torch.from_numpy(x)).detach().numpy(), atol=1e-5)


# --------------------------------------------------------------------------- modes, grads
def test_train_eval_requires_grad_zero_grad_apply():
    net = Net()
    assert net.training and net.features[2].training
    net.eval()
    assert not net.training and not net.classifier[0].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train(1)
    net.train()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    net(ember.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "BatchNorm1d", "Sequential", "Dropout", "Linear",
                    "Sequential", "Net"]


def test_to_half_float_double_and_devices():
    net = Net()
    w = net.features[0].weight
    assert net.double() is net
    assert w.dtype == ember.float64 and net.features[0].weight is w
    assert net.features[2].running_mean.dtype == ember.float64
    assert net.features[2].num_batches_tracked.dtype == ember.int64  # ints untouched
    net.half()
    assert w.dtype == ember.float16
    net.to(ember.float32)
    assert w.dtype == ember.float32
    net.to("cpu")
    net.to(device="cpu", dtype=ember.float64)
    assert w.dtype == ember.float64
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            net.to("cuda")
        with pytest.raises(RuntimeError, match="cuda"):
            net.cuda()
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
        net.to(ember.int64)


def test_pickle_and_deepcopy():
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)).eval()
    x = ember.randn(2, 4)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert list(clone.state_dict()) == list(net.state_dict())
        assert np.allclose(clone(x).detach().numpy(), net(x).detach().numpy())
        assert clone[0].weight is not net[0].weight
        assert isinstance(clone[0].weight, nn.Parameter)


# --------------------------------------------------------------------------- hooks
def _hook_program(lib):
    log = []
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    for i, sub in enumerate(m):
        sub.register_forward_pre_hook(lambda mod, a, i=i: log.append(("pre", i)))
        sub.register_forward_hook(lambda mod, a, o, i=i: log.append(("fwd", i)))
        sub.register_full_backward_pre_hook(
            lambda mod, go, i=i: log.append(("bpre", i, tuple(tuple(g.shape) for g in go))))
        sub.register_full_backward_hook(
            lambda mod, gi, go, i=i: log.append(
                ("bwd", i, tuple(None if g is None else tuple(g.shape) for g in gi))))
    m.register_forward_hook(lambda mod, a, kw, o: log.append(("top", sorted(kw))),
                            with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, a: log.append(("toppre",)), prepend=True)
    x = lib.ones(2, 3, requires_grad=True)
    m(x).sum().backward()
    return log


HOOK_LOG = [("toppre",), ("pre", 0), ("fwd", 0), ("pre", 1), ("fwd", 1), ("pre", 2),
            ("fwd", 2), ("top", []), ("bpre", 2, ((2, 2),)), ("bwd", 2, ((2, 4),)),
            ("bpre", 1, ((2, 4),)), ("bwd", 1, ((2, 4),)), ("bpre", 0, ((2, 4),)),
            ("bwd", 0, ((2, 3),))]


def test_hook_order():
    assert _hook_program(ember) == HOOK_LOG


def test_hook_order_matches_torch(torch):
    assert _hook_program(torch) == HOOK_LOG


def test_hooks_modify_and_remove():
    lin = nn.Linear(2, 2)
    x = ember.ones(1, 2)
    base = lin(x).detach().numpy()
    h1 = lin.register_forward_pre_hook(lambda m, a: (a[0] * 0,))
    assert np.allclose(lin(x).detach().numpy(), lin.bias.detach().numpy())
    h1.remove()
    with lin.register_forward_hook(lambda m, a, o: o + 1):
        assert np.allclose(lin(x).detach().numpy(), base + 1)
    assert np.allclose(lin(x).detach().numpy(), base)
    doubled = lin(x * 2).detach().numpy()
    h = lin.register_forward_pre_hook(lambda m, a, kw: ((a[0] * 2,), kw), with_kwargs=True)
    assert np.allclose(lin(x).detach().numpy(), doubled)
    h.remove()
    # backward hook replacing grad_input; pre hook replacing grad_output
    xi = ember.ones(1, 2, requires_grad=True)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    lin(xi).sum().backward()
    assert xi.grad.tolist() == [[0.0, 0.0]]
    lin2 = nn.Linear(2, 2)
    lin2.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
    lin2(ember.ones(1, 2)).sum().backward()
    assert np.allclose(lin2.bias.grad.numpy(), [3.0, 3.0])


def test_always_call_hook_runs_on_error():
    called = []

    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    b = Boom()
    b.register_forward_hook(lambda m, a, o: called.append(o), always_call=True)
    with pytest.raises(RuntimeError, match="boom"):
        b(1)
    assert called == [None]


# --------------------------------------------------------------------------- errors
def test_error_names_layer_path_and_shapes():
    net = nn.Sequential(OrderedDict(features=nn.Linear(4, 8),
                                    classifier=nn.Sequential(nn.ReLU(), nn.Linear(16, 3))))
    with pytest.raises(RuntimeError) as ei:
        net(ember.randn(2, 4))
    msg = str(ei.value)
    assert msg.startswith("classifier.1 (Linear(in_features=16, out_features=3, bias=True)): ")
    assert "[2, 8]" in msg and "[3, 16]" in msg
    with pytest.raises(RuntimeError, match=r"^Linear\(in_features=2"):
        nn.Linear(2, 2)(ember.randn(3))
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


# --------------------------------------------------------------------------- repr
def test_repr_layout():
    assert repr(Net()) == NET_REPR
    assert repr(nn.Module()) == "Module()"
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"

    class Multi(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Multi()) == "Multi(\n  a=1\n  b=2\n)"
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(ml) == ("ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, "
                        "bias=True)\n  (3): ReLU()\n)")


def test_repr_matches_torch(torch):
    assert repr(Net(torch.nn)) == repr(Net())
    pl = [torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)),
                                  torch.nn.Parameter(torch.ones(2, 3, dtype=torch.float64))]),
          nn.ParameterList([nn.Parameter(ember.ones(2)),
                            nn.Parameter(ember.ones(2, 3, dtype=ember.float64))])]
    assert repr(pl[0]) == repr(pl[1])
    pd = [torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.ones(2)),
                                  "a": torch.nn.Parameter(torch.ones(1))}),
          nn.ParameterDict({"b": nn.Parameter(ember.ones(2)), "a": nn.Parameter(ember.ones(1))})]
    assert repr(pd[0]) == repr(pd[1])
    assert list(pd[0].state_dict()) == list(pd[1].state_dict())
    tm = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])
    em = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(tm) == repr(em)
    assert repr(torch.nn.ModuleDict({"a": torch.nn.ReLU()})) == \
        repr(nn.ModuleDict({"a": nn.ReLU()}))


# --------------------------------------------------------------------------- containers
def test_sequential_api():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b, c)
    assert s[0] is a and s[-1] is c and len(s) == 3
    sl = s[1:]
    assert isinstance(sl, nn.Sequential) and list(sl._modules) == ["1", "2"]
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert named.fc is a and list(named.state_dict()) == ["fc.weight", "fc.bias"]
    s.append(nn.Sigmoid())
    assert len(s) == 4 and isinstance(s[3], nn.Sigmoid)
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is c
    s.insert(1, nn.Tanh())
    assert isinstance(s[1], nn.Tanh) and len(s) == 4
    s[0] = nn.Identity()
    assert isinstance(s[0], nn.Identity)
    assert isinstance(s.pop(0), nn.Identity) and len(s) == 3
    with pytest.raises(IndexError, match="index 9 is out of range"):
        s[9]
    y = nn.Sequential(nn.Linear(2, 3), nn.ReLU())(ember.ones(4, 2))
    assert y.shape == (4, 3) and float(y.min()) >= 0
    assert len(nn.Sequential(nn.ReLU()) + nn.Sequential(nn.Tanh())) == 2
    s.extend([nn.ReLU(), nn.ReLU()])
    assert len(s) == 5


def test_modulelist_moduledict_parameterlist_dict():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid()])
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "ReLU", "Tanh", "Sigmoid"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"]
    assert list(ml.state_dict()) == ["0.weight", "0.bias"]
    with pytest.raises(NotImplementedError):
        ml(ember.ones(1))
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2
    md["c"] = nn.Tanh()
    assert isinstance(md.pop("c"), nn.Tanh)
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    pl = nn.ParameterList([ember.ones(2), nn.Parameter(ember.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(ember.ones(1))
    assert list(pl.state_dict()) == ["0", "1", "2"] and len(list(pl.parameters())) == 3
    pd = nn.ParameterDict({"w": ember.ones(2)})
    pd["v"] = nn.Parameter(ember.zeros(1))
    assert list(pd.keys()) == ["w", "v"] and isinstance(pd["w"], nn.Parameter)
    assert list(pd.state_dict()) == ["w", "v"]
    del pd["w"]
    assert list(pd) == ["v"]


def test_flatten_unflatten_identity():
    x = ember.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Identity(3, foo=1)(x) is x
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5))"


def test_call_fast_path_has_no_hook_machinery(monkeypatch):
    lin = nn.Linear(2, 2)
    called = []
    monkeypatch.setattr(nn.Module, "_call_with_hooks",
                        lambda self, a, k: called.append(1))
    lin(ember.ones(1, 2))
    assert called == []


def test_public_state_dict_post_hook_must_return_none():
    m = nn.Linear(2, 2)
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: {"x": 1})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()
    m = nn.Linear(2, 2)  # the private spelling may replace the dict, as in PyTorch
    m._register_state_dict_hook(lambda mod, sd, prefix, meta: {"x": 1})
    assert list(m.state_dict()) == ["x"]
