"""Saving Lazy modules before their first call (NOTE [ Uninitialized parameters on save ]).

PyTorch pickles an UninitializedParameter/UninitializedBuffer by class with no storage; a
weights_only load refuses the class, a full load returns a placeholder again. ember writes
the same record; the oracle tests read ember's files with PyTorch and PyTorch's with ember.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import zipfile

import pytest

import ember
from ember import nn
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter


def _lazy():
    return nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d())


def _save(obj):
    b = io.BytesIO()
    ember.save(obj, b)
    b.seek(0)
    return b


def _pickle_of(b):
    z = zipfile.ZipFile(io.BytesIO(b.getvalue()))
    return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


def test_state_dict_with_uninitialized_entries_round_trips():
    sd = ember.load(_save(_lazy().state_dict()), weights_only=False)
    kinds = {k: type(v) for k, v in sd.items()}
    assert kinds["0.weight"] is UninitializedParameter
    assert kinds["1.running_mean"] is UninitializedBuffer
    assert kinds["1.num_batches_tracked"] is ember.Tensor
    assert sd["0.weight"].requires_grad and not sd["1.running_var"].requires_grad
    # a fresh Lazy model accepts it, and materializes on its first call
    m = _lazy()
    res = m.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys
    assert m(ember.ones(2, 4)).shape == (2, 3)


def test_file_holds_pytorch_record_and_no_storage():
    data = _pickle_of(_save(nn.LazyLinear(3).state_dict()))
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(data)]
    assert ("GLOBAL", "torch.nn.parameter UninitializedParameter") in ops
    assert not any(name == "BINPERSID" for name, _ in ops)  # no data written


def test_weights_only_load_refuses_the_placeholder_class():
    b = _save(nn.LazyLinear(3).state_dict())
    with pytest.raises(pickle.UnpicklingError, match="UninitializedParameter"):
        ember.load(b)


def test_dtype_other_than_default_is_kept():
    sd = ember.load(_save(nn.LazyLinear(3, dtype=ember.float64).state_dict()),
                    weights_only=False)
    assert sd["weight"].dtype == ember.float64


def test_whole_lazy_model_saves_and_materializes_after_load():
    m = ember.load(_save(_lazy()), weights_only=False)
    assert isinstance(m[0].weight, UninitializedParameter)
    y = m(ember.ones(2, 5))
    assert y.shape == (2, 3) and m[0].weight.shape == (3, 5)


def test_initialized_model_still_saves_its_data():
    m = nn.LazyLinear(2)
    m(ember.ones(1, 3))
    sd = ember.load(_save(m.state_dict()))
    assert ember.equal(sd["weight"], m.weight.detach())


def test_files_read_by_pytorch_and_back():
    torch = pytest.importorskip("torch")
    sd = torch.load(_save(nn.LazyLinear(3, dtype=ember.float64).state_dict()),
                    weights_only=False)
    assert type(sd["weight"]) is torch.nn.parameter.UninitializedParameter
    assert sd["weight"].dtype == torch.float64 and sd["weight"].requires_grad
    with pytest.raises(pickle.UnpicklingError):
        torch.load(_save(nn.LazyLinear(3).state_dict()))
    b = io.BytesIO()
    torch.save(torch.nn.LazyBatchNorm1d().state_dict(), b)
    b.seek(0)
    got = ember.load(b, weights_only=False)
    assert type(got["weight"]) is UninitializedParameter
    assert type(got["running_mean"]) is UninitializedBuffer
    assert int(got["num_batches_tracked"]) == 0
