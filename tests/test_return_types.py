"""Named results of two-tensor ops: their own types, printed as PyTorch prints them."""

import pytest

import ember

CASES = [("max", (1,)), ("min", (1,)), ("sort", (1,)), ("topk", (2,)), ("kthvalue", (2,)),
         ("median", (1,)), ("nanmedian", (1,)), ("mode", (1,)), ("cummax", (1,)),
         ("cummin", (1,)), ("aminmax", ())]
X = [[1.0, 3.0, 2.0], [4.0, 2.0, 0.5]]


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_named_result_types(name, args):
    r = getattr(ember, name)(ember.tensor(X), *args)
    assert type(r) is getattr(ember.return_types, name)
    assert type(r).__name__ == name and type(r).__module__ == "ember.return_types"
    assert repr(r).startswith(f"torch.return_types.{name}(\n")
    a, b = r  # still a tuple
    assert (a, b) == tuple(r)


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_named_results_print_as_pytorch(name, args):
    torch = pytest.importorskip("torch")
    ours = getattr(ember, name)(ember.tensor(X), *args)
    theirs = getattr(torch, name)(torch.tensor(X), *args)
    assert type(ours).__name__ == type(theirs).__name__
    for field in ours._fields:  # the same field names, reachable by attribute
        assert getattr(ours, field).tolist() == getattr(theirs, field).tolist()
    assert repr(ours) == repr(theirs)
