"""ember.load is safe by default: every value of ``weights_only`` against hostile files, and
archives whose record names could escape their folder (issue 17)."""

import io
import pickle
import warnings
import zipfile

import pytest

import ember
from ember.serialization._zip import ZipWriter
from test_serialization_security import PAYLOAD_NAMES, Evil, _payloads, archive


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    Evil.path = str(path)
    yield path
    Evil.path = None


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch):
    monkeypatch.delenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", raising=False)
    monkeypatch.delenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", raising=False)


SAFE_CALLS = {
    "unspecified": {},
    "None": {"weights_only": None},
    "True": {"weights_only": True},
    "None + pickle_module=pickle": {"weights_only": None, "pickle_module": pickle},
    "unspecified + pickle_module=pickle": {"pickle_module": pickle},
}


@pytest.mark.parametrize("how", list(SAFE_CALLS))
@pytest.mark.parametrize("name", PAYLOAD_NAMES)
def test_safe_values_refuse_every_payload(how, name, marker):
    blob = archive(_payloads(marker)[name])
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(blob), **SAFE_CALLS[how])
    assert not marker.exists(), f"weights_only {how}: the payload {name} ran"


@pytest.mark.parametrize("how", list(SAFE_CALLS))
def test_safe_values_refuse_a_pickled_object_by_path(how, marker, tmp_path):
    # The same object written with ember.save, read back from a path: still refused.
    path = tmp_path / "evil.pt"
    ember.save({"x": Evil.__new__(Evil)}, path)
    marker.unlink()  # __new__ above left the marker
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path, **SAFE_CALLS[how])
    assert not marker.exists()


def test_explicit_false_runs_full_pickle(marker):
    # The opt-in works (so the refusals above are what protects the user) ...
    blob = archive(_payloads(marker)["os.system"])
    ember.load(io.BytesIO(blob), weights_only=False)
    assert marker.exists()
    marker.unlink()
    # ... and with an alternative pickle module too.
    ember.load(io.BytesIO(blob), weights_only=False, pickle_module=pickle)
    assert marker.exists()


def test_explicit_false_warns_exactly_as_pytorch():
    # PyTorch 2.6+ prints nothing for an explicit weights_only=False (the danger is in its
    # documentation); ember matches it so programs are not noisier under ember.
    buf = io.BytesIO()
    ember.save({"a": ember.ones(2)}, buf)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        ember.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert [str(w.message) for w in got] == []
    torch = pytest.importorskip("torch")
    tbuf = io.BytesIO()
    torch.save({"a": torch.ones(2)}, tbuf)
    with warnings.catch_warnings(record=True) as tgot:
        warnings.simplefilter("always")
        torch.load(io.BytesIO(tbuf.getvalue()), weights_only=False)
    assert len(tgot) == len(got)


@pytest.mark.parametrize("value", [0, 1, "", "False", "no", [], 0.0, object()])
def test_other_values_are_refused(value, marker):
    blob = archive(_payloads(marker)["os.system"])
    with pytest.raises(TypeError, match="weights_only"):
        ember.load(io.BytesIO(blob), weights_only=value)
    assert not marker.exists()


def test_other_pickle_module_needs_explicit_false(marker):
    class Module:  # a stand-in for dill & co.
        Unpickler = pickle.Unpickler
        __name__ = "dill"

    blob = archive(_payloads(marker)["os.system"])
    with pytest.raises(RuntimeError, match="weights_only=False"):
        ember.load(io.BytesIO(blob), pickle_module=Module)
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(io.BytesIO(blob), pickle_module=pickle, weights_only=True)
    assert not marker.exists()


def test_environment_overrides(monkeypatch, marker):
    blob = archive(_payloads(marker)["os.system"])
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(pickle.UnpicklingError):  # forced safe even against an explicit False
        ember.load(io.BytesIO(blob), weights_only=False)
    assert not marker.exists()
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(RuntimeError, match="Only one"):
        ember.load(io.BytesIO(blob))
    monkeypatch.delenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD")
    with pytest.raises(pickle.UnpicklingError):  # an explicit True wins over NO_...
        ember.load(io.BytesIO(blob), weights_only=True)
    assert not marker.exists()
    with pytest.warns(UserWarning, match="TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):
        ember.load(io.BytesIO(blob))
    assert marker.exists()


def test_safe_default_still_loads_tensors():
    buf = io.BytesIO()
    sd = {"w": ember.arange(6.0).reshape(2, 3), "n": 3}
    ember.save(sd, buf)
    for how in SAFE_CALLS.values():
        out = ember.load(io.BytesIO(buf.getvalue()), **how)
        assert ember.equal(out["w"], sd["w"]) and out["n"] == 3


# ------------------------------------------------------------------ record names
def _records(blob):
    zf = zipfile.ZipFile(io.BytesIO(blob))
    return [(n, zf.read(n)) for n in zf.namelist()]


def _valid():
    buf = io.BytesIO()
    ember.save({"w": ember.ones(3)}, buf)
    return buf.getvalue()


def _rezip(records):
    out = io.BytesIO()
    w = ZipWriter(out)
    for n, d in records:
        w.write_record(n, d)
    w.finish()
    return out.getvalue()


def _renamed(fn):
    return _rezip([(fn(n), d) for n, d in _records(_valid())])


BAD_PREFIXES = ["../archive/", "/archive/", "archive/../archive/", "a/../", "/abs/",
                "archive\\..\\", "C:/archive/", "./archive/", "archive//", "archive/./"]


@pytest.mark.parametrize("prefix", BAD_PREFIXES)
def test_escaping_record_names_are_refused(prefix):
    blob = _renamed(lambda n: prefix + n[len("archive/"):])
    with pytest.raises(RuntimeError):
        ember.load(io.BytesIO(blob))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):  # PyTorch refuses each of these archives too
        torch.load(io.BytesIO(blob))


@pytest.mark.parametrize("extra", ["archive/../evil", "archive/data/../../x", "/etc/passwd",
                                   "other/x", "archive/a\x00b", "archive\\x", "top"])
def test_one_bad_record_refuses_the_archive(extra):
    recs = _records(_valid())
    blob = _rezip(recs + [(extra, b"x")])
    with pytest.raises(RuntimeError, match="record"):
        ember.load(io.BytesIO(blob))


def test_duplicate_and_mismatched_names_are_refused():
    recs = _records(_valid())
    with pytest.raises(RuntimeError, match="twice"):
        ember.load(io.BytesIO(_rezip(recs + [("archive/data/0", b"\0" * 12)])))
    # Local header and central directory disagree about a record's name.
    blob = bytearray(_valid())
    info = zipfile.ZipFile(io.BytesIO(bytes(blob))).getinfo("archive/data/0")
    at = info.header_offset + 30
    assert blob[at:at + 14] == b"archive/data/0"
    blob[at:at + 14] = b"archive/data/9"
    with pytest.raises(RuntimeError, match="local header"):
        ember.load(io.BytesIO(bytes(blob)))


def test_missing_version_record_is_refused():
    recs = [(n, d) for n, d in _records(_valid()) if not n.endswith("/version")]
    with pytest.raises(RuntimeError, match="version"):
        ember.load(io.BytesIO(_rezip(recs)))
    with pytest.raises(RuntimeError):  # an empty zip is not a checkpoint
        ember.load(io.BytesIO(_rezip([])))
