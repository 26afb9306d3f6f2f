"""ember.utils.safetensors: round trips through the safetensors package's NumPy API, error
cases, and interoperability with safetensors.torch (when torch is installed)."""


import numpy as np
import pytest

import ember

pytest.importorskip("safetensors")
from ember.utils import safetensors as est  # noqa: E402

DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
          ember.float16, ember.bfloat16, ember.float32, ember.float64, ember.complex64]


def sample(dtype, shape=(2, 3)):
    a = (np.arange(int(np.prod(shape))) % 5).reshape(shape)
    if dtype is ember.bool:
        a = a > 2
    return ember.tensor(a.tolist(), dtype=dtype)


def values(t):
    a = t._data
    return a.astype(np.float32) if t.dtype is ember.bfloat16 else a


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_roundtrip_file_and_bytes(dtype, tmp_path):
    tensors = {"a": sample(dtype), "scalar": sample(dtype, ()), "empty": sample(dtype, (0, 4))}
    est.save_file(tensors, tmp_path / "x.safetensors")
    for out in (est.load_file(tmp_path / "x.safetensors"), est.load(est.save(tensors))):
        assert out.keys() == tensors.keys()
        for k, t in tensors.items():
            assert out[k].dtype is dtype and out[k].shape == t.shape, k
            np.testing.assert_array_equal(values(out[k]), values(t))


def test_layout_and_metadata(tmp_path):
    x = ember.arange(12.0).reshape(3, 4)
    y = x.clone()
    blob = est.save({"t": x.t(), "step": y[:, ::2]}, metadata={"epoch": "3"})
    # The format: an 8-byte little-endian header length, then a JSON header.
    n = int.from_bytes(blob[:8], "little")
    import json

    header = json.loads(blob[8:8 + n])
    assert header["__metadata__"] == {"epoch": "3"}
    assert header["t"]["dtype"] == "F32" and header["t"]["shape"] == [4, 3]
    out = est.load(blob)
    np.testing.assert_array_equal(out["t"]._data, x.t()._data)
    np.testing.assert_array_equal(out["step"]._data, y._data[:, ::2])
    path = tmp_path / "m.safetensors"
    est.save_file({"t": x}, path, metadata={"k": "v"})
    from safetensors import safe_open

    with safe_open(path, framework="np") as f:
        assert f.metadata() == {"k": "v"}


def test_errors():
    x = ember.arange(6.0)
    with pytest.raises(RuntimeError, match="share memory"):
        est.save({"a": x, "b": x[2:]})
    with pytest.raises(TypeError, match="complex128"):
        est.save({"z": ember.tensor([1j], dtype=ember.complex128)})
    with pytest.raises(TypeError):
        est.save({"a": np.zeros(2)})
    with pytest.raises(TypeError):
        est.save({1: x})
    with pytest.raises(TypeError):
        est.save({"a": x}, metadata={"k": 1})
    with pytest.raises(Exception):  # the package's SafetensorError on a corrupt header
        est.load(b"\xff" * 16)


def test_loaded_tensors_are_independent_of_the_bytes():
    blob = bytearray(est.save({"a": ember.ones(3)}))
    out = est.load(bytes(blob))
    blob[-4:] = b"\x00" * 4
    assert out["a"].tolist() == [1.0, 1.0, 1.0]


def test_interop_with_safetensors_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    tensors = {d.name: sample(d) for d in DTYPES}
    est.save_file(tensors, tmp_path / "e.safetensors")
    tt = load_file(tmp_path / "e.safetensors")
    for k, t in tensors.items():
        assert str(tt[k].dtype) == f"torch.{k}"
        np.testing.assert_array_equal(tt[k].float().numpy() if k == "bfloat16" else
                                      tt[k].numpy(), values(t))
    save_file({"w": torch.arange(6, dtype=torch.bfloat16).reshape(2, 3),
               "b": torch.tensor([True, False])}, tmp_path / "t.safetensors")
    out = est.load_file(tmp_path / "t.safetensors")
    assert out["w"].dtype is ember.bfloat16 and out["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert out["b"].tolist() == [True, False]


def test_state_dict_roundtrip_into_module(tmp_path):
    nn = ember.nn
    ember.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    est.save_file(dict(net.state_dict()), tmp_path / "net.safetensors")
    ember.manual_seed(1)
    net2 = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    net2.load_state_dict(est.load_file(tmp_path / "net.safetensors"))
    x = ember.ones(2, 3)
    np.testing.assert_array_equal(net(x).detach()._data, net2(x).detach()._data)
