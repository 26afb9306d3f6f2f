"""The view ops' fast paths (NOTE [ View fast paths ] in ember/_ops/shape.py) against their
general paths: same values, shapes, strides, recorded view and attributes, shared memory and
version counter, same errors; modes still see every call; autograd through them works.

The general path is forced with a pass-through DispatchMode (a mode must see every record,
so the fast paths step aside while one is installed).
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember._ops.core import DispatchMode


class Names(DispatchMode):
    """Passes every record through and remembers its name."""

    def __init__(self):
        self.names = []

    def __ember_dispatch__(self, op, inputs, params, run):
        self.names.append(op.name)
        return run(inputs, params)


def _x(*shape):
    return ember.arange(float(np.prod(shape))).reshape(shape)


CASES = [
    ("reshape(-1)", lambda x: x.reshape(-1), (3, 4)),
    ("reshape tuple", lambda x: x.reshape((4, 3)), (3, 4)),
    ("reshape list", lambda x: x.reshape([2, -1]), (3, 4)),
    ("reshape Size", lambda x: x.reshape(x.new_zeros(12).shape), (3, 4)),
    ("reshape 0-dim", lambda x: x.reshape(()), (1,)),
    ("reshape empty", lambda x: x.reshape(3, -1), (0, 3)),
    ("view", lambda x: x.view(2, 6), (3, 4)),
    ("view(-1)", lambda x: x.view(-1), (3, 4)),
    ("view_as", lambda x: x.view_as(x.new_zeros(4, 3)), (3, 4)),
    ("reshape_as", lambda x: x.reshape_as(x.new_zeros(12)), (3, 4)),
    ("flatten", lambda x: x.flatten(), (2, 3, 4)),
    ("flatten(1)", lambda x: x.flatten(1), (2, 3, 4)),
    ("flatten(-2,-1)", lambda x: x.flatten(-2, -1), (2, 3, 4)),
    ("flatten(0,1)", lambda x: x.flatten(0, 1), (2, 3, 4)),
    ("unflatten", lambda x: x.unflatten(1, (2, 2)), (3, 4)),
    ("unflatten list", lambda x: x.unflatten(-1, [4, 1]), (3, 4)),
    ("permute", lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    ("permute negative", lambda x: x.permute((-1, 0, -2)), (2, 3, 4)),
    ("permute 1-dim", lambda x: x.permute(0), (5,)),
    ("transpose", lambda x: x.transpose(0, -1), (2, 3, 4)),
    ("swapdims", lambda x: x.swapdims(1, 2), (2, 3, 4)),
    ("t", lambda x: x.t(), (3, 4)),
    ("movedim", lambda x: x.movedim(0, -1), (2, 3, 4)),
    ("movedim back", lambda x: x.movedim(2, 0), (2, 3, 4)),
    ("squeeze()", lambda x: x.squeeze(), (1, 3, 1, 4)),
    ("squeeze() none", lambda x: x.squeeze(), (3, 4)),
    ("squeeze(dim)", lambda x: x.squeeze(-2), (1, 3, 1, 4)),
    ("squeeze(dim) kept", lambda x: x.squeeze(1), (1, 3, 1, 4)),
    ("squeeze 0-dim", lambda x: x.squeeze(), ()),
    ("unsqueeze", lambda x: x.unsqueeze(0), (3, 4)),
    ("unsqueeze -1", lambda x: x.unsqueeze(-1), (3, 4)),
    ("unsqueeze 0-dim", lambda x: x.unsqueeze(0), ()),
    ("unsqueeze middle", lambda x: x.unsqueeze(1), (3, 4)),
    ("expand", lambda x: x.expand(2, 3, 4), (1, 4)),
    ("expand -1", lambda x: x.expand(3, -1), (1, 4)),
    ("expand same", lambda x: x.expand(3, 4), (3, 4)),
    ("expand_as", lambda x: x.expand_as(x.new_zeros(2, 3, 4)), (3, 1)),
    ("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), (4,)),
    ("broadcast_to -1", lambda x: x.broadcast_to((3, -1)), (1, 4)),
    ("broadcast_to list", lambda x: x.broadcast_to([2, 1, 4]), (1, 4)),
    ("narrow", lambda x: x.narrow(1, 1, 2), (3, 4)),
    ("narrow negative", lambda x: x.narrow(-1, -3, 3), (3, 4)),
    ("narrow empty", lambda x: x.narrow(0, 3, 0), (3, 4)),
    ("select", lambda x: x.select(1, -1), (3, 4)),
    ("select 1-dim", lambda x: x.select(0, 2), (5,)),
    ("split", lambda x: x.split(2), (5, 3)),
    ("split sizes", lambda x: x.split([1, 4], 0), (5, 3)),
    ("chunk", lambda x: x.chunk(3, 1), (2, 7)),
    ("tensor_split", lambda x: x.tensor_split(3), (7, 2)),
    ("unbind", lambda x: x.unbind(1), (2, 3)),
    ("unbind 1-dim", lambda x: x.unbind(), (3,)),
    ("unbind 3-dim", lambda x: x.unbind(0), (2, 3, 4)),
    ("unbind dim 1", lambda x: x.unbind(1), (2, 3, 4)),
    ("unbind dim -1", lambda x: x.unbind(-1), (2, 3, 4)),
    ("chunk 3-dim", lambda x: x.chunk(2, 2), (2, 3, 4)),
    ("x[int]", lambda x: x[1], (3, 4)),
    ("x[-int]", lambda x: x[-1], (3, 4)),
    ("x[slice]", lambda x: x[1:3], (3, 4)),
    ("x[:, slice]", lambda x: x[:, 1:3], (3, 4)),
    ("x[int, slice]", lambda x: x[2, -3:], (3, 4)),
    ("x[::2]", lambda x: x[::2, 1::2], (3, 4)),
    ("x[..., int]", lambda x: x[..., 0], (2, 3, 4)),
    ("x[None, :, int]", lambda x: x[None, :, 2], (3, 4)),
    ("x[()]", lambda x: x[()], (3, 4)),
    ("x[int] 1-dim", lambda x: x[1, ...], (3,)),
]


def _as_tuple(y):
    return y if isinstance(y, tuple) else (y,)


@pytest.mark.parametrize("name,f,shape", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("contiguous", [True, False], ids=["contig", "strided"])
def test_fast_path_matches_general_path(name, f, shape, contiguous):
    def make():
        x = _x(*shape)
        if not contiguous and len(shape) >= 2:  # same shape, other strides
            x = x.transpose(0, 1).contiguous().transpose(0, 1)
        return x

    x = make()
    xg = make()
    with Names() as m:
        err = _err(f, xg)
    assert m.names, name  # the mode saw the call
    if err is not None:  # (a view of strides that cannot take it)
        assert _err(f, x) == err
        return
    fast = _as_tuple(f(x))
    with Names():
        general = _as_tuple(f(xg))
    assert len(fast) == len(general)
    for a, b in zip(fast, general):
        assert a.shape == b.shape
        assert a.stride() == b.stride()
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert (a._base is None) == (b._base is None)
        if a._base is not None:
            assert a._base is (x._base if x._base is not None else x)
            assert np.shares_memory(a._data, x._data) or not a.numel()
            assert a._vc is x._vc
    for a in fast:  # the view remembers how to replay itself on its parent
        if a._meta and "view" in a._meta:
            parent, op, params = a._meta["view"]
            assert parent is x
            np.testing.assert_array_equal(ember._ops.core.replay_view(a, a._base).numpy(),
                                          a.numpy())


@pytest.mark.parametrize("name,f,shape", CASES, ids=[c[0] for c in CASES])
def test_fast_path_records_like_general_path(name, f, shape):
    """Same record, same attributes, same node, same gradient, with grad on."""
    x = _x(*shape).requires_grad_()
    fast = _as_tuple(f(x))
    xg = _x(*shape).requires_grad_()
    with Names():
        general = _as_tuple(f(xg))
    for a, b in zip(fast, general):
        if len(fast) == 1:  # (split pieces under a mode are separate slice records)
            assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
            assert a._meta["view"][1] is b._meta["view"][1]
            assert a._meta["view"][2] == b._meta["view"][2]
    w = [ember.arange(float(a.numel())).reshape(a.shape) + 1 for a in fast]
    sum((a * wi).sum() for a, wi in zip(fast, w)).backward()
    sum((b * wi).sum() for b, wi in zip(general, w)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), xg.grad.numpy())


@pytest.mark.parametrize("name,f,shape", CASES, ids=[c[0] for c in CASES])
def test_modes_see_each_view(name, f, shape):
    x = _x(*shape)
    with Names() as m:
        f(x)
    assert m.names


def test_inplace_on_fast_view_bumps_base_version_and_replays():
    x = _x(3, 4)
    for f in (lambda t: t.view(-1), lambda t: t.permute(1, 0), lambda t: t.unsqueeze(0),
              lambda t: t.narrow(0, 1, 1), lambda t: t.select(0, 1), lambda t: t.t(),
              lambda t: t.chunk(2)[1], lambda t: t.unbind()[2]):
        v = f(x)
        before = x._version
        v.add_(1)
        assert x._version == before + 1 and v._version == x._version
    # autograd through an in-place edit of a fast view (the base's history is rewritten)
    a = ember.ones(2, 3, requires_grad=True)
    b = a * 1
    v = b.view(-1)
    v.mul_(2)
    u = b.unsqueeze(0)  # taken after the edit: sees the new history
    (u.sum() + b.t().sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 4.0))


def test_expanded_views_refuse_writes():
    y = _x(1, 4).expand(3, 4)
    assert y.stride() == (0, 1)
    with pytest.raises((RuntimeError, ValueError)):
        y.add_(1)


def _err(f, x):
    try:
        f(x)
    except Exception as e:  # noqa: BLE001 - the type and message are compared
        return type(e), str(e)
    return None


BAD = [
    ("view -2", lambda x: x.view(-2, 6)),
    ("view two -1", lambda x: x.view(-1, -1)),
    ("view numel", lambda x: x.view(5)),
    ("view bool", lambda x: x.view(True, 12)),
    ("view float", lambda x: x.view(2.0, 6)),
    ("view huge", lambda x: x.view(2 ** 70)),
    ("view strided", lambda x: x.t().view(12)),
    ("reshape -2", lambda x: x.reshape(-2, 4)),
    ("reshape numel", lambda x: x.reshape(7)),
    ("reshape empty -1", lambda x: x[:0].reshape(0, -1)),
    ("flatten dims", lambda x: x.flatten(1, 0)),
    ("flatten range", lambda x: x.flatten(0, 5)),
    ("unflatten sizes", lambda x: x.unflatten(1, (3, 2))),
    ("unflatten bool", lambda x: x.unflatten(1, (True, 4))),
    ("permute repeat", lambda x: x.permute(0, 0)),
    ("permute range", lambda x: x.permute(0, 2)),
    ("permute length", lambda x: x.permute(0)),
    ("permute float", lambda x: x.permute(0.0, 1)),
    ("transpose range", lambda x: x.transpose(0, 2)),
    ("movedim range", lambda x: x.movedim(0, 3)),
    ("squeeze range", lambda x: x.squeeze(3)),
    ("unsqueeze range", lambda x: x.unsqueeze(4)),
    ("expand size", lambda x: x.expand(3, 5)),
    ("expand fewer", lambda x: x.expand(4)),
    ("expand lead -1", lambda x: x.expand(-1, 3, 4)),
    ("expand negative", lambda x: x.unsqueeze(0).expand(-2, 3, 4)),
    ("expand float", lambda x: x.expand(3.0, 4)),
    ("expand bool", lambda x: x[:1].expand(True, 4)),
    ("broadcast_to size", lambda x: x.broadcast_to((2, 5))),
    ("broadcast_to float", lambda x: x.broadcast_to((3.0, 4))),
    ("narrow range", lambda x: x.narrow(0, 2, 2)),
    ("narrow negative length", lambda x: x.narrow(0, 0, -1)),
    ("narrow dim", lambda x: x.narrow(2, 0, 1)),
    ("select range", lambda x: x.select(0, 3)),
    ("select dim", lambda x: x.select(-3, 0)),
    ("view_as size", lambda x: x.view_as(x.new_zeros(5))),
    ("reshape_as size", lambda x: x.reshape_as(x.new_zeros(2, 5))),
    ("expand_as size", lambda x: x.expand_as(x.new_zeros(2, 5))),
    ("expand_as fewer", lambda x: x.expand_as(x.new_zeros(4))),
    ("x[int] range", lambda x: x[3]),
    ("x[:, int] range", lambda x: x[:, -5]),
    ("x[] too many", lambda x: x[0, :, 1]),
    ("x[] float slice", lambda x: x[:, 1.0:]),
    ("x[] negative step", lambda x: x[::-1]),
]


@pytest.mark.parametrize("name,f", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_the_general_paths_error(name, f):
    fast = _err(f, _x(3, 4))
    with Names():
        general = _err(f, _x(3, 4))
    assert fast is not None, name
    assert fast == general


def test_pytorch_error_types():
    torch = pytest.importorskip("torch")
    for name, f in BAD:
        mine = _err(f, _x(3, 4))
        theirs = _err(f, torch.arange(12.0).reshape(3, 4))
        assert theirs is not None and mine[0] is theirs[0], (name, mine, theirs)


def test_same_results_as_pytorch():
    torch = pytest.importorskip("torch")
    for name, f, shape in CASES:
        n = int(np.prod(shape))
        mine = _as_tuple(f(ember.arange(float(n)).reshape(shape)))
        theirs = _as_tuple(f(torch.arange(float(n)).reshape(shape)))
        assert len(mine) == len(theirs), name
        for a, b in zip(mine, theirs):
            assert tuple(a.shape) == tuple(b.shape), name
            if b.numel():
                assert a.stride() == b.stride() or 1 in b.shape, (name, a.stride(), b.stride())
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_meta_device_takes_the_general_path():
    x = ember.empty(2, 3, 4, device="meta")
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.reshape(6, 4).device.type == "meta"
    assert x.unsqueeze(0).expand(5, 2, 3, 4).shape == (5, 2, 3, 4)
    assert [p.shape for p in x.chunk(2, 2)] == [(2, 3, 2), (2, 3, 2)]


# the cases whose call takes the general path on a C-contiguous input (expand to the same
# shape has its own fast path since issue 18's sweep: tests/test_elem_worst_s8.py)
_GENERAL = set()


@pytest.mark.parametrize("name,f,shape", CASES, ids=[c[0] for c in CASES])
def test_fast_paths_skip_dispatch(name, f, shape, monkeypatch):
    """The branch under test is taken: no record goes through ``apply``."""
    from ember._ops import core, shape as shape_mod

    calls = []

    def counting(op, inputs, params=()):
        calls.append(op.name)
        return core.dispatch(op, inputs, params)

    from ember._ops import index as index_mod

    x = _x(*shape)
    monkeypatch.setattr(shape_mod, "apply", counting)
    monkeypatch.setattr(index_mod, "apply", counting)
    f(x)
    if name in _GENERAL:
        assert calls
    else:
        assert not calls, calls


@pytest.mark.parametrize("name,kw,value", [("reshape", "shape", (4, 3)), ("view", "size", (12,)),
                                           ("permute", "dims", (1, 0)),
                                           ("expand", "size", (2, 3, 4))])
def test_fast_fronts_keep_the_generated_fronts_behaviour(name, kw, value):
    """NOTE [ View fast paths ] (fronts): keywords, errors, signature and pickling as the
    generated front's."""
    import inspect
    import pickle

    from ember._ops import shape as shape_mod

    gen = shape_mod._NATIVE_FRONTS[name]
    front = getattr(ember.Tensor, name)
    assert front is not gen and front.__wrapped__ is gen.__wrapped__
    assert inspect.signature(front) == inspect.signature(gen)
    assert pickle.loads(pickle.dumps(front)) is front
    x = _x(3, 4)
    a = front(x, **{kw: value})
    b = front(x, *value)
    assert a.shape == b.shape and a._base is b._base
    with pytest.raises(TypeError, match="multiple values"):
        front(x, *value, **{kw: value})
    for bad in (None, np.ones((3, 4))):
        with pytest.raises(TypeError) as mine:
            front(bad, *value)
        with pytest.raises(TypeError) as theirs:
            gen(bad, *value)
        assert str(mine.value) == str(theirs.value)
    with Names() as m:  # a mode sees the call through the front
        front(x, *value)
    assert m.names
