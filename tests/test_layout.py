"""Layouts as PyTorch has them (NOTE [ Layouts ] in ember/_dtype.py): ``torch.layout`` objects
printed as ``torch.strided``, compared by identity, accepted by creation ops where PyTorch
takes ``layout=`` (strided honoured, sparse COO where ember makes sparse tensors, every other
layout refused with NotImplementedError naming it)."""

import copy
import inspect
import pickle

import pytest

import ember

NAMES = ("strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc",
         "_mkldnn", "jagged")


@pytest.mark.parametrize("name", NAMES)
def test_layout_objects(name):
    lay = getattr(ember, name)
    assert type(lay) is ember.layout
    assert repr(lay) == str(lay) == "torch." + name
    assert pickle.loads(pickle.dumps(lay)) is lay
    assert copy.deepcopy(lay) is lay
    assert lay == lay and all(lay != getattr(ember, n) for n in NAMES if n != name)
    assert hash(lay) == hash(getattr(ember, name))


def test_layouts_cannot_be_made():
    with pytest.raises(TypeError, match="cannot create 'torch.layout' instances"):
        ember.layout()


def test_tensor_layout():
    x = ember.ones(2, 3)
    assert x.layout is ember.strided and x.layout == ember.strided
    assert x.t().layout is ember.strided
    s = x.to_sparse()
    assert s.layout is ember.sparse_coo and s.layout != ember.strided
    assert s.to_dense().layout is ember.strided
    assert f"{x.layout}" == "torch.strided"


def _creation_calls():
    x = ember.ones(2, 2)
    return {
        "zeros": lambda lay: ember.zeros(2, 3, layout=lay),
        "ones": lambda lay: ember.ones(2, layout=lay),
        "empty": lambda lay: ember.empty(2, layout=lay),
        "full": lambda lay: ember.full((2,), 1.0, layout=lay),
        "arange": lambda lay: ember.arange(3, layout=lay),
        "range": lambda lay: ember.range(0, 2, layout=lay),
        "linspace": lambda lay: ember.linspace(0, 1, 3, layout=lay),
        "logspace": lambda lay: ember.logspace(0, 1, 3, layout=lay),
        "eye": lambda lay: ember.eye(2, layout=lay),
        "rand": lambda lay: ember.rand(2, layout=lay),
        "randn": lambda lay: ember.randn(2, layout=lay),
        "randint": lambda lay: ember.randint(0, 3, (2,), layout=lay),
        "randperm": lambda lay: ember.randperm(3, layout=lay),
        "normal": lambda lay: ember.normal(0.0, 1.0, (2,), layout=lay),
        "scalar_tensor": lambda lay: ember.scalar_tensor(1.0, layout=lay),
        "zeros_like": lambda lay: ember.zeros_like(x, layout=lay),
        "ones_like": lambda lay: ember.ones_like(x, layout=lay),
        "full_like": lambda lay: ember.full_like(x, 2.0, layout=lay),
        "tril_indices": lambda lay: ember.tril_indices(3, 3, layout=lay),
        "hann_window": lambda lay: ember.hann_window(4, layout=lay),
        "new_full": lambda lay: x.new_full((2,), 1.0, layout=lay),
        "new_zeros": lambda lay: x.new_zeros(2, layout=lay),
        "new_ones": lambda lay: x.new_ones(2, layout=lay),
    }


CALLS = _creation_calls()
SPARSE_OK = {"zeros", "empty", "new_zeros"}  # PyTorch makes empty sparse tensors with these


@pytest.mark.parametrize("name", sorted(CALLS))
def test_creation_honours_strided(name):
    assert CALLS[name](ember.strided).layout is ember.strided
    assert CALLS[name](None).layout is ember.strided


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("lay", ["sparse_csr", "jagged", "sparse_coo"])
def test_creation_refuses_other_layouts(name, lay):
    if lay == "sparse_coo" and name in SPARSE_OK:
        pytest.skip("made as a sparse tensor: test_sparse_zeros")
    with pytest.raises(NotImplementedError, match=f"layout=torch.{lay}"):
        CALLS[name](getattr(ember, lay))


def test_a_string_is_not_a_layout():
    with pytest.raises(TypeError, match="must be torch.layout, not str"):
        ember.zeros(2, layout="torch.strided")


def test_every_factory_with_layout_is_covered():
    # a creation function that takes layout= and is missing from CALLS escapes the sweep
    have = {n for n in dir(ember) if callable(getattr(ember, n, None))
            and not isinstance(getattr(ember, n), type)
            and "layout" in _params(getattr(ember, n))}
    untested = have - set(CALLS) - {
        "sparse_coo_tensor",  # test_sparse_coo_tensor_layout
        "empty_like", "rand_like", "randn_like", "empty_strided", "empty_permuted", "tensor",
        "bartlett_window", "blackman_window", "hamming_window", "kaiser_window",
        "triu_indices", "as_tensor", "asarray", "from_file", "randint_like"}
    assert not untested, untested


def _params(f):
    try:
        return inspect.signature(f).parameters
    except (TypeError, ValueError):
        return {}


def test_sparse_coo_tensor_layout():
    s = ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,), layout=ember.sparse_coo)
    assert s.layout is ember.sparse_coo
    with pytest.raises(NotImplementedError, match="layout=torch.strided"):
        ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,), layout=ember.strided)


def test_sparse_zeros_against_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (ember, torch):
        assert repr(lib.zeros(2, 3, layout=lib.sparse_coo)) == repr(
            torch.zeros(2, 3, layout=torch.sparse_coo))
        assert repr(lib.empty(2, dtype=lib.float64, layout=lib.sparse_coo)) == repr(
            torch.empty(2, dtype=torch.float64, layout=torch.sparse_coo))
    s = ember.zeros(2, 3, layout=ember.sparse_coo)
    assert s.layout is ember.sparse_coo and s._nnz() == 0
    assert s.to_dense().tolist() == [[0.0] * 3] * 2


def test_layouts_match_pytorch():
    torch = pytest.importorskip("torch")
    for n in NAMES:
        assert repr(getattr(ember, n)) == repr(getattr(torch, n))
    assert repr(ember.ones(2).layout) == repr(torch.ones(2).layout)
    assert ember.layout.__name__ == torch.layout.__name__


@pytest.mark.parametrize("name", ["rand_like", "randn_like", "randint_like"])
def test_random_like_factories_honour_their_arguments(name):
    # they took **kw and dropped device/layout/requires_grad before
    f = getattr(ember, name)
    extra = (5,) if name == "randint_like" else ()
    x = ember.ones(2, 3, device="meta")
    assert f(x, *extra).device.type == "meta"
    assert f(ember.ones(2), *extra, device="meta").device.type == "meta"
    y = f(ember.ones(2, dtype=ember.float64), *extra, requires_grad=True)
    assert y.requires_grad and y.is_leaf and y.dtype is ember.float64
    with pytest.raises(NotImplementedError, match="layout=torch.sparse_csr"):
        f(ember.ones(2), *extra, layout=ember.sparse_csr)
