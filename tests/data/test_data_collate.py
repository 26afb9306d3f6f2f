"""default_collate / default_convert (ember.utils.data)."""

import collections

import numpy as np
import pytest

import ember
from ember.utils.data import default_collate, default_convert
from ember.utils.data._utils import worker as worker_mod
from ember.utils.data._utils.collate import SHARED_MIN_BYTES

Point = collections.namedtuple("Point", ["x", "y"])


def test_tensors_are_stacked():
    out = default_collate([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])])
    assert out.shape == (2, 2) and out.dtype == ember.float32
    assert out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ember.zeros(2), ember.zeros(3)])


def test_stacking_keeps_autograd():
    a = ember.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_python_numbers_and_strings():
    f = default_collate([1.5, 2.0])
    assert f.dtype == ember.float64 and f.tolist() == [1.5, 2.0]
    i = default_collate([1, 2, 3])
    assert i.dtype == ember.int64
    b = default_collate([True, False])
    assert b.dtype == ember.bool and b.tolist() == [True, False]
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_numpy_arrays_and_scalars():
    out = default_collate([np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)])
    assert out.shape == (2, 2, 2) and out.dtype == ember.float32
    s = default_collate([np.float32(1), np.float32(2)])
    assert s.dtype == ember.float32 and s.tolist() == [1.0, 2.0]
    s64 = default_collate([np.int32(1), np.int32(5)])
    assert s64.dtype == ember.int32
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_containers():
    batch = [{"img": ember.zeros(2), "label": 0, "name": "a"},
             {"img": ember.ones(2), "label": 1, "name": "b"}]
    out = default_collate(batch)
    assert set(out) == {"img", "label", "name"}
    assert out["img"].shape == (2, 2) and out["label"].tolist() == [0, 1]
    assert out["name"] == ["a", "b"]
    tup = default_collate([(1, 2.0), (3, 4.0)])
    assert isinstance(tup, list) and tup[0].tolist() == [1, 3] and tup[1].dtype == ember.float64
    nt = default_collate([Point(1, 2), Point(3, 4)])
    assert isinstance(nt, Point) and nt.x.tolist() == [1, 3]
    nested = default_collate([[{"a": (1, 2)}], [{"a": (3, 4)}]])
    assert nested[0]["a"][1].tolist() == [2, 4]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    od = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert isinstance(od, collections.OrderedDict)


def test_unsupported_type():
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float64(1.0), "s")})
    assert isinstance(out["a"], ember.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and isinstance(out["b"][0], ember.Tensor)
    assert out["b"][1] == "s"
    p = default_convert(Point(np.zeros(1), 2))
    assert isinstance(p, Point) and isinstance(p.x, ember.Tensor) and p.y == 2
    strings = np.array(["x", "y"])
    assert default_convert(strings) is strings
    t = ember.zeros(2)
    assert default_convert(t) is t


def test_worker_collate_goes_to_shared_memory(monkeypatch):
    import ember.multiprocessing  # noqa: F401  (Tensor.is_shared)

    monkeypatch.setattr(worker_mod, "_worker_info", object())
    n = SHARED_MIN_BYTES // 4
    big = default_collate([ember.ones(n), ember.zeros(n)])
    small = default_collate([ember.ones(2), ember.zeros(2)])
    assert big.is_shared() and not small.is_shared()
    assert big.sum().item() == n


def test_collate_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as tcollate

    cases = [[1.5, 2.5], [1, 2], [True, False], [np.float32(1), np.float32(2)],
             [np.int16(3), np.int16(4)], [np.zeros(3, np.float64), np.ones(3, np.float64)],
             [np.uint8(1), np.uint8(2)], [np.bool_(True), np.bool_(False)]]
    for batch in cases:
        ours, theirs = default_collate(batch), tcollate(batch)
        assert str(ours.dtype) == str(theirs.dtype), batch
        assert ours.tolist() == theirs.tolist()
    s = [{"a": (1, 2.0), "b": ["x"]}, {"a": (3, 4.0), "b": ["y"]}]
    o, t = default_collate(s), tcollate(s)
    assert type(o["a"]) is type(t["a"]) and o["b"] == t["b"]
    assert [str(x.dtype) for x in o["a"]] == [str(x.dtype) for x in t["a"]]
