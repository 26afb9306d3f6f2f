"""ember.save / ember.load: round trips, the file layout, PyTorch fixtures loaded without
PyTorch, cross-framework checks (when torch is installed), map_location, mmap, and
bitwise-resumable training checkpoints."""

import collections
import io
import itertools
import mmap
import pathlib
import pickle
import random
import tracemalloc
import zipfile

import numpy as np
import pytest

import ember
from ember.serialization import _zip
from ember.serialization._zip import ZipWriter

DATA = pathlib.Path(__file__).resolve().parent / "data_files"
ALL_DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
              ember.float16, ember.bfloat16, ember.float32, ember.float64, ember.complex64,
              ember.complex128]


def roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kw)


def raw(t):
    """A tensor's values as a NumPy array (bfloat16 as float32) for comparisons."""
    a = t.detach()._data
    return a.astype(np.float32) if t.dtype is ember.bfloat16 else a


def sample(dtype, shape=(3, 4)):
    n = int(np.prod(shape))
    a = (np.arange(n) % 7 - (0 if dtype is ember.uint8 else 2)).reshape(shape)
    if dtype is ember.bool:
        a = a > 0
    elif dtype.is_complex:
        a = a + 1j * a[::-1] if a.ndim else a + 1j
    return ember.tensor(a.tolist(), dtype=dtype)


def base_array(t):
    b = t._data
    while isinstance(b, np.ndarray):
        b = b.base
    return b


def rewrite(blob, change):
    """Rebuild a checkpoint with ``change(records) -> records`` applied (name -> bytes)."""
    zf = zipfile.ZipFile(io.BytesIO(blob))
    records = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    records = change(records)
    out = io.BytesIO()
    w = ZipWriter(out)
    for name, data in records.items():
        w.write_record(name, data)
    w.finish()
    return out.getvalue()


# ------------------------------------------------------------------ round trips in ember
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(3, 4), (), (0,), (2, 0, 3)], ids=str)
def test_roundtrip_dtypes_and_shapes(dtype, shape):
    t = sample(dtype, shape)
    out = roundtrip({"t": t})["t"]
    assert out.dtype is dtype and out.shape == t.shape
    np.testing.assert_array_equal(raw(out), raw(t))


def test_roundtrip_nested_containers_and_scalars():
    obj = {"list": [1, 2.5, "s", None, True, [ember.ones(2)]], "tuple": (ember.zeros(1), (1, 2)),
           "odict": collections.OrderedDict(b=ember.tensor([1, 2]), a=3), "set": {1, 2},
           "frozenset": frozenset({"x"}), "bytes": b"\x00\xff", "bytearray": bytearray(b"q"),
           "complex": 1 - 2j, "big": 2**80, "size": ember.Size([2, 3]), "dtype": ember.float16,
           "device": ember.device("cpu"), "slice": slice(1, None, 2), 7: "int key",
           "unicode": "héllo ✓", "float": float("inf")}
    out = roundtrip(obj)
    assert out.keys() == obj.keys()
    for k in ("list", "tuple", "odict"):
        assert type(out[k]) is type(obj[k])
    assert out["list"][:5] == [1, 2.5, "s", None, True]
    assert out["tuple"][1] == (1, 2) and list(out["odict"]) == ["b", "a"]
    for k in ("set", "frozenset", "bytes", "bytearray", "complex", "big", "slice", 7, "unicode",
              "float"):
        assert out[k] == obj[k] and type(out[k]) is type(obj[k])
    assert out["size"] == (2, 3) and type(out["size"]) is ember.Size
    assert out["dtype"] is ember.float16 and out["device"] == ember.device("cpu")
    np.testing.assert_array_equal(out["odict"]["b"]._data, [1, 2])


def test_shared_views_stay_shared():
    base = ember.arange(24.0)
    mat = base.reshape(4, 6)
    obj = {"base": base, "mat": mat, "row": mat[1], "col": mat[:, 2], "t": mat.t(),
           "step": base[1::3], "expanded": base[:1].expand(3, 2), "again": base}
    out = roundtrip(obj)
    assert out["again"] is out["base"]  # the same object stays one object
    for k in ("mat", "row", "col", "t", "step", "expanded"):
        np.testing.assert_array_equal(out[k]._data, obj[k]._data)
        assert np.shares_memory(out[k]._data, out["base"]._data), k
    assert out["t"].stride() == (1, 6) and out["col"].stride() == (6,)
    assert out["expanded"].stride() == (0, 0)
    out["base"][8] = -1.0  # mat[1, 2]: seen through every view of that element
    assert out["row"][2].item() == -1.0 and out["col"][1].item() == -1.0
    assert out["t"][2, 1].item() == -1.0
    # One storage, one version counter (in-place changes are seen by all views).
    assert out["row"]._version == out["base"]._version >= 1


def test_separate_tensors_stay_separate_and_storage_written_once():
    a, b = ember.ones(1000), ember.ones(1000)
    blob = io.BytesIO()
    ember.save({"a": a, "b": b, "a2": a[10:20]}, blob)
    names = zipfile.ZipFile(blob).namelist()
    assert sorted(n for n in names if "/data/" in n) == ["archive/data/0", "archive/data/1"]
    blob.seek(0)
    out = ember.load(blob)
    assert not np.shares_memory(out["a"]._data, out["b"]._data)


def test_parameters_and_requires_grad():
    p = ember.nn.Parameter(ember.arange(3.0))
    q = ember.nn.Parameter(ember.ones(2), requires_grad=False)
    g = ember.ones(2).requires_grad_()
    out = roundtrip({"p": p, "q": q, "g": g, "y": g * 2})
    assert isinstance(out["p"], ember.nn.Parameter) and out["p"].requires_grad
    assert isinstance(out["q"], ember.nn.Parameter) and not out["q"].requires_grad
    assert type(out["g"]) is ember.Tensor and out["g"].requires_grad and out["g"].is_leaf
    assert out["y"].requires_grad and out["y"].is_leaf  # non-leaf tensors load as leaves


def test_file_arguments(tmp_path):
    t = ember.arange(5)
    ember.save(t, str(tmp_path / "a.pt"))
    ember.save(t, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as fh:
        ember.save(t, fh)
    for name in ("a.pt", "b.pt", "c.pt"):
        assert ember.load(tmp_path / name).tolist() == [0, 1, 2, 3, 4]
        assert ember.load(str(tmp_path / name)).tolist() == [0, 1, 2, 3, 4]
    with open(tmp_path / "c.pt", "rb") as fh:
        assert ember.load(fh).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(AttributeError):
        ember.save(t, 123)
    with pytest.raises(TypeError):
        ember.load(123)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_protocols(protocol):
    buf = io.BytesIO()
    ember.save({"x": ember.arange(4.0), "s": "text", "b": b"by"}, buf, pickle_protocol=protocol)
    buf.seek(0)
    out = ember.load(buf)
    assert out["x"].tolist() == [0.0, 1.0, 2.0, 3.0] and out["b"] == b"by"


def test_save_argument_errors():
    with pytest.raises(ValueError):
        ember.save(1, io.BytesIO(), pickle_protocol=1)
    with pytest.raises(NotImplementedError):
        ember.save(1, io.BytesIO(), _use_new_zipfile_serialization=False)


def test_mixed_dtype_views_of_one_storage_are_refused():
    c = ember.tensor([1 + 2j, 3 - 1j])
    with pytest.raises(RuntimeError, match="different types"):
        ember.save([c, c.real], io.BytesIO())


def test_weights_only_false_loads_arbitrary_objects():
    obj = {"point": _Point(1, 2), "t": ember.ones(2)}
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="_Point"):
        ember.load(buf)
    buf.seek(0)
    out = ember.load(buf, weights_only=False)
    assert out["point"] == _Point(1, 2) and out["t"].tolist() == [1.0, 1.0]


class _Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)


def test_safe_globals_admit_user_classes():
    buf = io.BytesIO()
    ember.save({"p": _Point(3, 4)}, buf)
    blob = buf.getvalue()
    assert ember.serialization.get_safe_globals() == []
    with ember.serialization.safe_globals([_Point]):
        assert ember.serialization.get_safe_globals() == [_Point]
        assert ember.load(io.BytesIO(blob))["p"] == _Point(3, 4)
    assert ember.serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(blob))
    ember.serialization.add_safe_globals([(_Point, f"{__name__}._Point")])
    try:
        assert ember.load(io.BytesIO(blob))["p"] == _Point(3, 4)
    finally:
        ember.serialization.clear_safe_globals()
    assert ember.serialization.get_safe_globals() == []


# ------------------------------------------------------------------ the file layout
def test_archive_layout_and_alignment():
    buf = io.BytesIO()
    ember.save({"a": ember.arange(3.0), "b": ember.ones(5, dtype=ember.int16)}, buf)
    blob = buf.getvalue()
    zf = zipfile.ZipFile(io.BytesIO(blob))
    names = zf.namelist()
    assert names[0] == "archive/data.pkl"
    for n in ("archive/version", "archive/byteorder", "archive/data/0", "archive/data/1",
              "archive/.format_version", "archive/.storage_alignment",
              "archive/.data/serialization_id"):
        assert n in names
    assert zf.read("archive/version") == b"3\n"
    assert zf.read("archive/byteorder") == b"little"
    assert zf.testzip() is None  # every CRC is right
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        name_len, extra_len = np.frombuffer(blob, "<u2", 2, info.header_offset + 26)
        start = info.header_offset + 30 + int(name_len) + int(extra_len)
        assert start % 64 == 0, info.filename
    assert np.frombuffer(zf.read("archive/data/1"), np.int16).tolist() == [1] * 5


def test_saves_are_deterministic():
    obj = {"w": ember.arange(10.0).reshape(2, 5), "k": [1, 2]}
    a, b = io.BytesIO(), io.BytesIO()
    ember.save(obj, a)
    ember.save(obj, b)
    assert a.getvalue() == b.getvalue()


def test_zip64_records(monkeypatch):
    # Exercise the >4 GiB layout cheaply by lowering the threshold: Python's zipfile (and
    # PyTorch, below) must read the zip64 fields.
    monkeypatch.setattr(_zip, "_ZIP64_LIMIT", 100)
    t = ember.arange(64.0)
    buf = io.BytesIO()
    ember.save({"t": t, "s": t[3:9]}, buf)
    assert zipfile.ZipFile(io.BytesIO(buf.getvalue())).testzip() is None
    buf.seek(0)
    out = ember.load(buf)
    assert out["s"].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]


def test_big_endian_file():
    t = ember.tensor([1.5, -2.0, 3.25], dtype=ember.float64)
    buf = io.BytesIO()
    ember.save({"t": t, "i": ember.tensor([1, 256], dtype=ember.int32)}, buf)

    def to_big(records):
        records["archive/byteorder"] = b"big"
        records["archive/data/0"] = np.frombuffer(records["archive/data/0"], "<f8").astype(
            ">f8").tobytes()
        records["archive/data/1"] = np.frombuffer(records["archive/data/1"], "<i4").astype(
            ">i4").tobytes()
        return records

    out = ember.load(io.BytesIO(rewrite(buf.getvalue(), to_big)))
    assert out["t"].tolist() == [1.5, -2.0, 3.25] and out["i"].tolist() == [1, 256]


# ------------------------------------------------------------------ PyTorch fixtures, no torch
@pytest.fixture(scope="module")
def expected():
    with np.load(DATA / "expected.npz") as z:
        return {k: z[k] for k in z.files}


def _flatten(prefix, obj, out):
    if isinstance(obj, ember.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{prefix}/{k}", v, out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _flatten(f"{prefix}/{i}", v, out)


def _as_expected(t):
    a = t.detach()._data
    if t.dtype is ember.bfloat16:
        return a.view(np.uint16)
    return a


@pytest.mark.parametrize("name", ["state_dict", "optimizer", "dtypes", "views", "nested",
                                  "parameters"])
def test_torch_fixture_loads_without_torch(name, expected):
    obj = ember.load(DATA / f"{name}.pt")
    got = {}
    _flatten(name, obj, got)
    want = {k: v for k, v in expected.items() if k.split("/")[0] == name}
    assert got.keys() == want.keys()
    for k, v in want.items():
        a = _as_expected(got[k])
        assert a.dtype == v.dtype and a.shape == v.shape, k
        np.testing.assert_array_equal(a, v, err_msg=k)


@pytest.mark.parametrize("name,source", [("legacy_views", "views"),
                                         ("legacy_dtypes", "dtypes"),
                                         ("protocol4", "nested")])
def test_torch_fixture_other_formats(name, source, expected):
    obj = ember.load(DATA / f"{name}.pt")
    got = {}
    _flatten(source, obj, got)
    want = {k: v for k, v in expected.items() if k.split("/")[0] == source}
    assert got.keys() == want.keys()
    for k, v in want.items():
        np.testing.assert_array_equal(_as_expected(got[k]), v, err_msg=k)


def test_torch_fixture_details():
    sd = ember.load(DATA / "state_dict.pt")
    assert type(sd) is collections.OrderedDict
    assert sd._metadata["1"] == {"version": 2}  # module versions survive
    assert sd["1.num_batches_tracked"].dtype is ember.int64
    opt = ember.load(DATA / "optimizer.pt")
    group = opt["param_groups"][0]
    assert group["betas"] == (0.8, 0.9) and group["lr"] == 0.01 and group["params"] == [0, 1,
                                                                                         2, 3, 4,
                                                                                         5]
    assert opt["state"][0]["step"].shape == () and opt["state"][0]["step"].item() == 2.0
    views = ember.load(DATA / "views.pt")
    assert views["same"][0] is views["same"][1] is views["mat"]
    for k in ("mat", "row", "col", "t", "step", "sub", "expanded"):
        assert np.shares_memory(views[k]._data, views["base"]._data), k
    assert views["t"].stride() == (1, 6) and views["expanded"].stride() == (0, 0)
    nested = ember.load(DATA / "nested.pt")
    assert nested["set"] == {1, 2, 3} and nested["bytes"] == b"\x00\xffab"
    assert nested["big_int"] == 2**70 and nested["complex"] == 1 - 2j
    assert nested["size"] == ember.Size([2, 3]) and nested["dtype"] is ember.float16
    assert nested["unicode"] == "héllo ✓" and nested["bytearray"] == bytearray(b"xy")
    params = ember.load(DATA / "parameters.pt")
    assert isinstance(params["p"], ember.nn.Parameter) and params["p"].requires_grad
    assert not params["q"].requires_grad and params["grad"].requires_grad
    legacy = ember.load(DATA / "legacy_views.pt")
    assert np.shares_memory(legacy["row"]._data, legacy["base"]._data)


def test_fixture_roundtrip_through_ember_keeps_sharing():
    views = ember.load(DATA / "views.pt")
    out = roundtrip(views)
    for k in ("mat", "row", "col", "t", "step", "sub", "expanded"):
        assert np.shares_memory(out[k]._data, out["base"]._data), k
        np.testing.assert_array_equal(out[k]._data, views[k]._data)


def test_fixtures_are_small():
    total = sum(p.stat().st_size for p in DATA.iterdir() if p.suffix in (".pt", ".npz"))
    assert total < 200_000


# ------------------------------------------------------------------ map_location
def _on_cuda_blob():
    buf = io.BytesIO()
    ember.save({"w": ember.arange(4.0)}, buf)

    def to_cuda(records):
        pkl = records["archive/data.pkl"]
        records["archive/data.pkl"] = pkl.replace(b"X\x03\x00\x00\x00cpu",
                                                  b"X\x06\x00\x00\x00cuda:0")
        return records

    return rewrite(buf.getvalue(), to_cuda)


def test_map_location_variants():
    blob = _on_cuda_blob()
    with pytest.raises(RuntimeError, match="map_location"):
        ember.load(io.BytesIO(blob))
    for ml in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}):
        assert ember.load(io.BytesIO(blob), map_location=ml)["w"].tolist() == [0, 1, 2, 3]
    seen = []

    def keep(storage, location):
        seen.append((location, storage.dtype, storage.size(), storage.device.type))
        return storage.cpu()

    assert ember.load(io.BytesIO(blob), map_location=keep)["w"].tolist() == [0, 1, 2, 3]
    assert seen == [("cuda:0", ember.float32, 4, "cpu")]
    if ember.cuda.is_available():
        return  # the rest checks the errors of a machine without a GPU
    with pytest.raises(RuntimeError):  # None: fall back to the saved location (a GPU)
        ember.load(io.BytesIO(blob), map_location=lambda s, loc: None)
    with pytest.raises(RuntimeError):
        ember.load(io.BytesIO(blob), map_location=lambda s, loc: s.cuda())
    with pytest.raises(RuntimeError):
        ember.load(io.BytesIO(blob), map_location="cuda")


# ------------------------------------------------------------------ mmap
def test_mmap_maps_storages_from_the_file(tmp_path):
    path = tmp_path / "big.pt"
    w = ember.arange(2_000_000, dtype=ember.float32)
    ember.save({"w": w, "v": w[10:20]}, path)
    tracemalloc.start()
    try:
        out = ember.load(path, mmap=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # the 8 MB of data were mapped, not read
    b = base_array(out["w"])
    assert isinstance(b, memoryview) and isinstance(b.obj, mmap.mmap)
    assert np.shares_memory(out["v"]._data, out["w"]._data)
    assert out["v"].tolist() == list(range(10, 20))
    out["w"][0] = 42.0  # copy-on-write: the file is unchanged
    assert ember.load(path)["w"][0].item() == 0.0
    with pytest.raises(ValueError, match="file path"):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)


def test_non_mmap_load_copies(tmp_path):
    path = tmp_path / "x.pt"
    ember.save(ember.arange(10), path)
    t = ember.load(path)
    assert isinstance(base_array(t), type(None)) or not isinstance(base_array(t), memoryview)


# ------------------------------------------------------------------ cross-framework (oracle)
def _torch():
    return pytest.importorskip("torch")


def _torch_dtype(torch, dt):
    return getattr(torch, dt.name)


def _torch_values(t):
    t = t.detach().resolve_conj().resolve_neg()
    return t.float().numpy() if t.dtype.__str__() == "torch.bfloat16" else t.numpy()


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_ember_save_torch_load(dtype):
    torch = _torch()
    base = sample(dtype, (4, 6))
    obj = {"base": base, "t": base.t(), "row": base[1], "col": base[:, 2], "scalar": base[1, 1],
           "empty": base[:0], "zero_d": sample(dtype, ()), "nested": [(base[2:], {"k": base})]}
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    out = torch.load(buf, weights_only=True)
    assert out["base"].dtype == _torch_dtype(torch, dtype)
    for k in ("base", "t", "row", "col", "scalar", "empty", "zero_d"):
        assert tuple(out[k].shape) == tuple(obj[k].shape), k
        assert out[k].stride() == obj[k].stride() or obj[k].numel() == 0, k
        np.testing.assert_array_equal(_torch_values(out[k]), raw(obj[k]), err_msg=k)
    ptr = out["base"].untyped_storage().data_ptr()
    for k in ("t", "row", "col"):
        assert out[k].untyped_storage().data_ptr() == ptr, k
    assert out["col"].storage_offset() == 2 and out["nested"][0][1]["k"] is out["base"]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_torch_save_ember_load(dtype):
    torch = _torch()
    td = _torch_dtype(torch, dtype)
    base = (torch.arange(24) % 5).to(td).reshape(4, 6)
    obj = {"base": base, "t": base.t(), "col": base[:, 2], "step": base.view(-1)[1::5],
           "empty": torch.empty(0, 2, dtype=td), "zero_d": base[1, 1].clone()}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    out = ember.load(buf)
    for k, v in obj.items():
        assert out[k].dtype is dtype and tuple(out[k].shape) == tuple(v.shape), k
        np.testing.assert_array_equal(raw(out[k]), _torch_values(v), err_msg=k)
        if v.numel():
            assert out[k].stride() == v.stride(), k
    for k in ("t", "col", "step"):
        assert np.shares_memory(out[k]._data, out["base"]._data)


def test_torch_state_dict_and_optimizer_roundtrip():
    torch = _torch()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    opt = torch.optim.AdamW(net.parameters(), lr=0.1)
    net(torch.randn(2, 3)).sum().backward()
    opt.step()
    buf = io.BytesIO()
    torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "p": net[0].weight}, buf)
    buf.seek(0)
    ck = ember.load(buf)
    again = io.BytesIO()
    ember.save(ck, again)  # ember -> torch: the same structure comes back
    again.seek(0)
    back = torch.load(again, weights_only=True)
    for k, v in net.state_dict().items():
        assert torch.equal(back["model"][k], v)
    assert back["model"]._metadata == net.state_dict()._metadata
    assert back["opt"]["param_groups"] == opt.state_dict()["param_groups"]
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            assert torch.equal(back["opt"]["state"][i][k], v)
    assert isinstance(back["p"], torch.nn.Parameter) and torch.equal(back["p"], net[0].weight)


def test_torch_mmap_loads_ember_file(tmp_path):
    torch = _torch()
    path = tmp_path / "e.pt"
    ember.save({"w": ember.arange(100.0).reshape(10, 10), "b": ember.ones(3, dtype=ember.int8)},
               path)
    out = torch.load(path, mmap=True, weights_only=True)
    assert torch.equal(out["w"], torch.arange(100.0).reshape(10, 10))


def test_torch_loads_ember_zip64(monkeypatch):
    torch = _torch()
    monkeypatch.setattr(_zip, "_ZIP64_LIMIT", 100)
    buf = io.BytesIO()
    ember.save({"t": ember.arange(64.0)}, buf)
    buf.seek(0)
    assert torch.equal(torch.load(buf, weights_only=True)["t"], torch.arange(64.0))


def test_torch_conj_and_neg_bits():
    torch = _torch()
    z = torch.tensor([1 + 2j, -3j])
    out = {}
    for k, v in (("conj", z.conj()), ("neg", z.conj().imag)):  # one storage, two dtypes:
        buf = io.BytesIO()  # PyTorch refuses them in one file
        torch.save(v, buf)
        buf.seek(0)
        out[k] = ember.load(buf)
    assert out["conj"].tolist() == [1 - 2j, 3j] and out["neg"].tolist() == [-2.0, 3.0]


# ------------------------------------------------------------------ nn / optim integration
def test_module_and_optimizer_state_dict_roundtrip():
    nn, optim = ember.nn, pytest.importorskip("ember.optim")
    ember.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = optim.Adam(net.parameters(), lr=0.01)
    net(ember.randn(5, 3)).sum().backward()
    opt.step()
    buf = io.BytesIO()
    ember.save({"model": net.state_dict(), "opt": opt.state_dict()}, buf)
    buf.seek(0)
    ck = ember.load(buf)
    ember.manual_seed(1)
    net2 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt2 = optim.Adam(net2.parameters(), lr=0.5)
    net2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["opt"])
    for (k, a), b in zip(net.state_dict().items(), net2.state_dict().values()):
        np.testing.assert_array_equal(a._data, b._data, err_msg=k)
    assert opt2.param_groups[0]["lr"] == 0.01


# ------------------------------------------------------------------ resumable training
class _ToySampler:
    """A shuffling sampler with its own generator (the shape of RandomSampler)."""

    def __init__(self, n, generator):
        self.n = n
        self.generator = generator

    def __iter__(self):
        return iter(ember.randperm(self.n, generator=self.generator).tolist())

    def __len__(self):
        return self.n


def _toy_setup(seed):
    """A tiny model/optimizer/scheduler from ember.nn/optim when present, else plain tensors."""
    ember.manual_seed(seed)
    try:
        from ember.optim import SGD
        from ember.optim.lr_scheduler import StepLR

        model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Dropout(0.3),
                                    ember.nn.Linear(8, 1))
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
        sched = StepLR(opt, step_size=3, gamma=0.5)
        return model, opt, sched
    except (ImportError, AttributeError):  # pragma: no cover - before nn/optim existed
        return _PlainModel(), None, None


class _PlainModel:
    """Fallback: a linear model with hand-written SGD, as objects with state_dict()."""

    def __init__(self):
        self.w = ember.randn(4, 1)

    def __call__(self, x):
        return x @ self.w

    def state_dict(self):
        return {"w": self.w}

    def load_state_dict(self, sd):
        self.w = sd["w"].clone()


def _batches(sampler, data):
    """Batches of 4 drawn lazily from the sampler: ember's DataLoader when it exists."""
    try:
        from ember.utils.data import DataLoader, TensorDataset
    except ImportError:  # pragma: no cover - before ember.utils.data existed
        it = iter(sampler)
        while True:
            idx = list(itertools.islice(it, 4))
            if not idx:
                return
            yield data[ember.tensor(idx)], ember.tensor(idx)
        return
    ds = TensorDataset(data, ember.arange(len(data)))
    yield from DataLoader(ds, batch_size=4, sampler=sampler, num_workers=0)


def _train(model, opt, sched, sampler, data, target, epochs, start=(0, 0), stop=None):
    """Run epochs from ``start=(epoch, batch)``; stop after ``stop=(epoch, batch)`` if given
    and return the position to resume from."""
    for epoch in range(start[0], epochs):
        b = start[1] if epoch == start[0] else 0
        for x, idx in _batches(sampler, data):
            # Every random stream feeds the computation: NumPy and Python noise here, ember's
            # generator in Dropout (or the plain model's init) and in the sampler.
            x = x + 0.01 * ember.tensor(np.random.standard_normal(tuple(x.shape)),
                                        dtype=ember.float32)
            x = x * (1.0 + 0.001 * random.random())
            if opt is None:
                w = model.w.detach().requires_grad_()
                loss = ((x @ w - target[idx]) ** 2).mean()
                loss.backward()
                model.w = (w - 0.05 * w.grad).detach()
            else:
                opt.zero_grad()
                loss = ((model(x) - target[idx]) ** 2).mean()
                loss.backward()
                opt.step()
            if stop == (epoch, b):
                return epoch, b + 1
            b += 1
        if sched is not None:
            sched.step()
    return None


def test_resume_mid_epoch_is_bit_identical(tmp_path):
    ser = ember.serialization
    data = ember.tensor(np.linspace(-1, 1, 80).reshape(20, 4), dtype=ember.float32)
    target = data.sum(1, keepdim=True) * 0.5

    def fresh(seed):
        model, opt, sched = _toy_setup(seed)
        gen = ember.Generator().manual_seed(seed + 100)
        try:
            from ember.utils.data import RandomSampler

            inner = RandomSampler(range(20), generator=gen)
        except ImportError:  # pragma: no cover
            inner = _ToySampler(20, gen)
        return model, opt, sched, ser.ResumableSampler(inner)

    np.random.seed(5)
    random.seed(5)
    model, opt, sched, sampler = fresh(0)
    _train(model, opt, sched, sampler, data, target, epochs=3)
    straight = {k: v._data.copy() for k, v in model.state_dict().items()}

    np.random.seed(5)
    random.seed(5)
    model, opt, sched, sampler = fresh(0)
    pos = _train(model, opt, sched, sampler, data, target, epochs=3, stop=(1, 2))
    assert pos == (1, 3) and sampler.state_dict()["position"] == 12
    path = tmp_path / "ckpt.pt"
    ser.save_training_state(path, model=model, optimizer=opt, scheduler=sched, sampler=sampler,
                            epoch=pos[0], step=pos[1])
    # A "new process": different seeds everywhere, fresh objects, then restore.
    np.random.seed(123)
    random.seed(123)
    model, opt, sched, sampler = fresh(7)
    ember.rand(10)
    ck = ser.load_training_state(path, model=model, optimizer=opt, scheduler=sched,
                                 sampler=sampler)
    _train(model, opt, sched, sampler, data, target, epochs=3, start=(ck["epoch"], ck["step"]))
    resumed = {k: v._data for k, v in model.state_dict().items()}
    assert straight.keys() == resumed.keys()
    for k in straight:
        assert straight[k].tobytes() == resumed[k].tobytes(), k
    # Control: the same resume without restoring the random streams diverges.
    model, opt, sched, sampler = fresh(7)
    ck = ser.load_training_state(path, model=model, optimizer=opt, scheduler=sched,
                                 sampler=sampler, restore_rng=False)
    _train(model, opt, sched, sampler, data, target, epochs=3, start=(ck["epoch"], ck["step"]))
    assert any(straight[k].tobytes() != v._data.tobytes()
               for k, v in model.state_dict().items())
    # The checkpoint is a plain weights-only file.
    assert set(ember.load(path)) >= {"model", "optimizer", "rng", "sampler", "epoch", "step"}


def test_rng_states_roundtrip_through_a_file():
    ser = ember.serialization
    states = roundtrip(ser.get_rng_states())
    a = (ember.rand(3).tolist(), np.random.rand(), random.random())
    ser.set_rng_states(states)
    b = (ember.rand(3).tolist(), np.random.rand(), random.random())
    assert a == b


def test_load_training_state_rejects_other_files(tmp_path):
    ember.save({"w": ember.ones(1)}, tmp_path / "x.pt")
    with pytest.raises(RuntimeError, match="save_training_state"):
        ember.serialization.load_training_state(tmp_path / "x.pt")


def test_loading_never_imports_torch():
    # A fresh interpreter where importing torch fails: every fixture still loads, and
    # ember.save works; "torch" never appears in sys.modules.
    import subprocess
    import sys

    code = (
        "import sys, io, pathlib\n"
        "sys.modules['torch'] = None\n"
        "import ember\n"
        f"data = pathlib.Path({str(DATA)!r})\n"
        "for p in sorted(data.glob('*.pt')):\n"
        "    ember.load(p)\n"
        "ember.save({'x': ember.ones(2)}, io.BytesIO())\n"
        "assert sys.modules['torch'] is None\n"
        "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
