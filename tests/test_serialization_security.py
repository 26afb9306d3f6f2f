"""Security of ember.load(weights_only=True): a corpus of hostile and malformed checkpoints
(each refused with a clear exception, with no side effect and bounded memory) and fuzzing
(mutated valid checkpoints raise only the documented exceptions)."""

import copyreg
import io
import os
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from ember.serialization._zip import ZipWriter

DOCUMENTED = (pickle.UnpicklingError, RuntimeError)


# ------------------------------------------------------------------ pickle assembly helpers
def g(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def s(text):
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def i(n):
    return b"J" + struct.pack("<i", n)


PROTO, STOP, MARK, TUPLE, TUPLE1, REDUCE = b"\x80\x02", b".", b"(", b"t", b"\x85", b"R"
EMPTY_DICT, EMPTY_TUPLE = b"}", b")"


def call(global_, *args):
    return g(*global_) + MARK + b"".join(args) + TUPLE + REDUCE


def archive(pkl, records=None, prefix="archive/"):
    out = io.BytesIO()
    w = ZipWriter(out)
    w.write_record(prefix + "data.pkl", pkl)
    w.write_record(prefix + "byteorder", b"little")
    for name, data in (records or {}).items():
        w.write_record(prefix + name, data)
    w.write_record(prefix + "version", b"3\n")
    w.finish()
    return out.getvalue()


def valid_checkpoint():
    buf = io.BytesIO()
    base = ember.arange(12.0).reshape(3, 4)
    ember.save({"w": base, "t": base.t(), "b": ember.ones(3, dtype=ember.int64),
                "meta": {"lr": 0.1, "names": ["a", "b"], "shape": ember.Size([3, 4])}}, buf)
    return buf.getvalue()


def records_of(blob):
    zf = zipfile.ZipFile(io.BytesIO(blob))
    return {n: zf.read(n) for n in zf.namelist()}


def rezip(records):
    out = io.BytesIO()
    w = ZipWriter(out)
    for n, d in records.items():
        w.write_record(n, d)
    w.finish()
    return out.getvalue()


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a hostile checkpoint ran code"


def touch_cmd(marker):
    return f"touch {marker}"


# ------------------------------------------------------------------ code-executing pickles
def _payloads(marker):
    cmd = touch_cmd(marker)
    py = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": PROTO + call(("os", "system"), s(cmd)) + STOP,
        "posix.system": PROTO + call(("posix", "system"), s(cmd)) + STOP,
        "builtins.eval": PROTO + call(("builtins", "eval"), s(py)) + STOP,
        "__builtin__.exec": PROTO + call(("__builtin__", "exec"), s(py)) + STOP,
        "subprocess.Popen": PROTO + g("subprocess", "Popen") + MARK + b"]" + MARK + s("touch")
        + s(str(marker)) + b"e" + TUPLE + REDUCE + STOP,
        "getattr chain": PROTO + call(("builtins", "getattr"), call(("builtins", "__import__"),
                                                                     s("os")), s("system"))
        + MARK + s(cmd) + TUPLE + REDUCE + STOP,
        "STACK_GLOBAL": b"\x80\x04" + b"\x8c\x02os" + b"\x8c\x06system" + b"\x93" + s(cmd)
        + TUPLE1 + REDUCE + STOP,
        "INST": PROTO + MARK + s(cmd) + b"ios\nsystem\n" + STOP,
        "OBJ": PROTO + MARK + g("os", "system") + s(cmd) + b"o" + STOP,
        "NEWOBJ unlisted class": PROTO + g(__name__, "Evil") + EMPTY_TUPLE + b"\x81" + STOP,
        "BUILD via setstate": PROTO + g(__name__, "Evil") + EMPTY_TUPLE + REDUCE
        + EMPTY_DICT + b"b" + STOP,
        "importlib": PROTO + call(("importlib", "import_module"), s("os")) + STOP,
        "functools.partial": PROTO + call(("functools", "partial"), g("os", "system"), s(cmd))
        + EMPTY_TUPLE + REDUCE + STOP,
        "numpy reconstruct": PROTO + call(("numpy.core.multiarray", "_reconstruct"),
                                          g("numpy", "ndarray"), b"K\x00" + TUPLE1, s("b"))
        + STOP,
        "torch.load": PROTO + call(("torch", "load"), s("/etc/passwd")) + STOP,
        "storage type is os.system": PROTO + g("torch._utils", "_rebuild_tensor_v2") + MARK
        + MARK + s("storage") + g("os", "system") + s("0") + s("cpu") + i(1) + TUPLE
        + b"Q" + i(0) + b"K\x01" + TUPLE1 + b"K\x01" + TUPLE1 + b"\x89"
        + call(("collections", "OrderedDict")) + TUPLE + REDUCE + STOP,
    }


class Evil:
    """Would leave a marker file if it were ever instantiated or given state."""

    path = None

    def __new__(cls, *args):
        if cls.path:
            open(cls.path, "w").close()
        return object.__new__(cls)

    def __setstate__(self, state):
        if Evil.path:
            open(Evil.path, "w").close()

    def __reduce__(self):
        return (os.system, (f"touch {Evil.path}",))


PAYLOAD_NAMES = list(_payloads("/x"))


@pytest.mark.parametrize("name", PAYLOAD_NAMES)
def test_code_executing_pickles_are_refused(name, marker):
    Evil.path = str(marker)
    try:
        blob = archive(_payloads(marker)[name])
        with pytest.raises(pickle.UnpicklingError) as e:
            ember.load(io.BytesIO(blob))
        msg = str(e.value)
        assert "weights-only" in msg or "refused" in msg
    finally:
        Evil.path = None


@pytest.mark.parametrize("name,glob", [("os.system", "os.system"),
                                       ("builtins.eval", "builtins.eval"),
                                       ("STACK_GLOBAL", "os.system"),
                                       ("NEWOBJ unlisted class", "Evil")])
def test_refusal_names_the_global(name, glob, marker):
    blob = archive(_payloads(marker)[name])
    with pytest.raises(pickle.UnpicklingError, match=glob.replace(".", r"\.")):
        ember.load(io.BytesIO(blob))


def test_payloads_are_live_under_full_pickle(marker):
    # Control: the same files DO run code when the user opts into full pickle, so the
    # refusals above are what protects the user (and the marker check means something).
    blob = archive(_payloads(marker)["os.system"])
    ember.load(io.BytesIO(blob), weights_only=False)
    assert marker.exists()
    marker.unlink()
    Evil.path = str(marker)
    try:
        buf = io.BytesIO()
        ember.save({"x": Evil.__new__(Evil)}, buf)
        marker.unlink()  # __new__ above touched it
        with pytest.raises(pickle.UnpicklingError, match="os.system|posix.system"):
            ember.load(io.BytesIO(buf.getvalue()))
        assert not marker.exists()
    finally:
        Evil.path = None


def test_ext_opcode_via_copyreg_registry(marker):
    copyreg.add_extension("os", "system", 0x4E4F)
    try:
        pkl = PROTO + b"\x83" + struct.pack("<H", 0x4E4F) + s(touch_cmd(marker)) + TUPLE1 \
            + REDUCE + STOP
        with pytest.raises(pickle.UnpicklingError, match="EXT2"):
            ember.load(io.BytesIO(archive(pkl)))
    finally:
        copyreg.remove_extension("os", "system", 0x4E4F)


def test_admitted_values_cannot_be_called_or_built():
    # A dtype is admitted as a value, not as a callable.
    pkl = PROTO + g("torch", "float32") + s("x") + TUPLE1 + REDUCE + STOP
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        ember.load(io.BytesIO(archive(pkl)))
    # BUILD on a tensor would set its slots (e.g. _data) to arbitrary objects.
    t = ember.ones(2)
    buf = io.BytesIO()
    ember.save(t, buf)
    recs = records_of(buf.getvalue())
    pkl = recs["archive/data.pkl"]
    assert pkl.endswith(b".")
    recs["archive/data.pkl"] = pkl[:-1] + b"N}" + s("_data") + s("evil") + b"s\x86b."
    with pytest.raises(pickle.UnpicklingError, match="BUILD"):
        ember.load(io.BytesIO(rezip(recs)))
    # _codecs.encode only encodes text: no arbitrary codecs (zlib, hex, ...).
    pkl = PROTO + call(("_codecs", "encode"), s("abc"), s("zlib_codec")) + STOP
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(archive(pkl)))
    # _rebuild_from_type_v2 accepts only tensor rebuild functions.
    pkl = PROTO + call(("torch._tensor", "_rebuild_from_type_v2"), g("_codecs", "encode"),
                       g("torch", "Tensor"), MARK + s("a") + TUPLE, EMPTY_DICT) + STOP
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(archive(pkl)))
    # APPEND onto a non-list, SETITEM onto a non-dict.
    for bad in (PROTO + g("torch", "float32") + s("x") + b"a" + STOP,
                PROTO + s("str") + s("k") + s("v") + b"s" + STOP):
        with pytest.raises(pickle.UnpicklingError):
            ember.load(io.BytesIO(archive(bad)))


def test_hash_flooding_and_deep_keys_are_refused():
    big = PROTO + EMPTY_DICT + MARK + b"".join(
        b"\x8a\x09" + ((1 << 64) + k).to_bytes(9, "little", signed=True) + b"N"
        for k in range(4)) + b"u" + STOP
    with pytest.raises(pickle.UnpicklingError, match="integer"):
        ember.load(io.BytesIO(archive(big)))
    deep = PROTO + EMPTY_DICT + EMPTY_TUPLE + TUPLE1 * 200 + b"N" + b"s" + STOP
    with pytest.raises(pickle.UnpicklingError, match="nested"):
        ember.load(io.BytesIO(archive(deep)))


def test_huge_lengths_do_not_allocate():
    cases = [PROTO + b"\x8b" + struct.pack("<i", 2**31 - 1) + b"\x00" * 8 + STOP,  # LONG4
             PROTO + b"X" + struct.pack("<I", 2**32 - 1) + b"abc" + STOP,  # BINUNICODE
             b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"x" + STOP]  # BINBYTES8
    for pkl in cases:
        tracemalloc.start()
        try:
            with pytest.raises(pickle.UnpicklingError, match="truncated"):
                ember.load(io.BytesIO(archive(pkl)))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 2_000_000


# ------------------------------------------------------------------ malformed archives
def test_truncated_zip():
    blob = valid_checkpoint()
    for cut in (len(blob) // 2, len(blob) - 10, 30, 4):
        with pytest.raises(RuntimeError):
            ember.load(io.BytesIO(blob[:cut]))


def test_not_a_checkpoint():
    for junk in (b"", b"garbage", b"PK\x03\x04garbage", b"\x80\x02K\x01.", os.urandom(300)):
        with pytest.raises(DOCUMENTED):
            ember.load(io.BytesIO(junk))


def test_missing_records():
    recs = records_of(valid_checkpoint())
    no_pkl = {k: v for k, v in recs.items() if not k.endswith("data.pkl")}
    with pytest.raises(RuntimeError, match="data.pkl"):
        ember.load(io.BytesIO(rezip(no_pkl)))
    no_data = {k: v for k, v in recs.items() if not k.endswith("data/0")}
    with pytest.raises(RuntimeError, match="data/0"):
        ember.load(io.BytesIO(rezip(no_data)))


def test_wrong_record_size():
    recs = records_of(valid_checkpoint())
    recs["archive/data/0"] = recs["archive/data/0"][:-8]
    with pytest.raises(RuntimeError, match="bytes"):
        ember.load(io.BytesIO(rezip(recs)))


def test_storage_shorter_than_tensor_needs():
    # A tensor of 10 x 10 floats over a storage of 4 floats (record size consistent).
    pkl = (PROTO + g("torch._utils", "_rebuild_tensor_v2") + MARK + MARK + s("storage")
           + g("torch", "FloatStorage") + s("0") + s("cpu") + i(4) + TUPLE + b"Q" + i(0)
           + i(10) + i(10) + b"\x86" + i(10) + i(1) + b"\x86" + b"\x89"
           + call(("collections", "OrderedDict")) + TUPLE + REDUCE + STOP)
    blob = archive(pkl, {"data/0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(RuntimeError, match="require a storage of 100 elements"):
        ember.load(io.BytesIO(blob))
    for size, stride, off in (((2,), (-1,), 0), ((2,), (1,), -1), ((1,) * 70, (1,) * 70, 0),
                              ((2, 2), (1,), 0)):
        def tup(xs):
            return MARK + b"".join(i(x) for x in xs) + TUPLE
        pkl = (PROTO + g("torch._utils", "_rebuild_tensor_v2") + MARK + MARK + s("storage")
               + g("torch", "FloatStorage") + s("0") + s("cpu") + i(4) + TUPLE + b"Q"
               + i(off) + tup(size) + tup(stride) + b"\x89"
               + call(("collections", "OrderedDict")) + TUPLE + REDUCE + STOP)
        with pytest.raises(RuntimeError):
            ember.load(io.BytesIO(archive(pkl, {"data/0": bytes(16)})))


def _bomb(size):
    """A stored record whose headers claim ``size`` bytes that the file does not have."""
    blob = bytearray(archive(PROTO + b"N" + STOP, {"data/0": b"x" * 16}))
    info = zipfile.ZipFile(io.BytesIO(bytes(blob))).getinfo("archive/data/0")
    struct.pack_into("<II", blob, info.header_offset + 18, size, size)  # local header
    pos = 0
    while True:  # its central directory entry: sizes at +20 and +24
        pos = blob.index(b"PK\x01\x02", pos)
        name_len = struct.unpack_from("<H", blob, pos + 28)[0]
        if blob[pos + 46:pos + 46 + name_len] == b"archive/data/0":
            break
        pos += 4
    struct.pack_into("<II", blob, pos + 20, size, size)
    return bytes(blob)


def test_zip_bomb_header_is_refused_without_allocating():
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match="past the end"):
            ember.load(io.BytesIO(_bomb(0xFFFFFFF0 - 1)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_compressed_record_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", PROTO + b"N" + STOP)
        zf.writestr("archive/data/0", b"\x00" * 10_000_000)  # 10 MB of zeros: ~10 KB stored
    with pytest.raises(RuntimeError, match="compressed"):
        ember.load(io.BytesIO(out.getvalue()))


def test_legacy_format_hostile_sizes():
    magic = PROTO + b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + STOP
    proto = PROTO + b"M\xe9\x03" + STOP
    info = PROTO + EMPTY_DICT + STOP
    obj = (PROTO + g("torch._utils", "_rebuild_tensor_v2") + MARK + MARK + s("storage")
           + g("torch", "FloatStorage") + s("k") + s("cpu")
           + b"\x8a\x06" + (2**40).to_bytes(6, "little")
           + b"N" + TUPLE + b"Q" + i(0) + i(1) + TUPLE1 + i(1) + TUPLE1 + b"\x89"
           + call(("collections", "OrderedDict")) + TUPLE + REDUCE + STOP)
    blob = magic + proto + info + obj + PROTO + b"]" + s("k") + b"a" + STOP
    with pytest.raises(RuntimeError, match="more than the file holds"):
        ember.load(io.BytesIO(blob))
    with pytest.raises(RuntimeError, match="magic"):
        ember.load(io.BytesIO(PROTO + b"K\x05" + STOP + proto))
    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        ember.load(io.BytesIO(magic + proto + info + PROTO + call(("os", "system"), s("x"))
                              + STOP))


# ------------------------------------------------------------------ fuzzing
VALID = valid_checkpoint()
VALID_PKL = records_of(VALID)["archive/data.pkl"]
FUZZ = settings(max_examples=150, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def _load_quietly(blob):
    try:
        ember.load(io.BytesIO(blob))
    except DOCUMENTED:
        pass


mutation = st.lists(st.tuples(st.sampled_from(["flip", "set", "insert", "delete"]),
                              st.integers(0, 10**6), st.integers(0, 255)),
                    min_size=1, max_size=6)


def _mutate(data, ops):
    b = bytearray(data)
    for kind, pos, val in ops:
        if not b:
            break
        p = pos % len(b)
        if kind == "flip":
            b[p] ^= 1 << (val % 8)
        elif kind == "set":
            b[p] = val
        elif kind == "insert":
            b.insert(p, val)
        else:
            del b[p]
    return bytes(b)


@FUZZ
@given(ops=mutation)
def test_fuzz_mutated_pickle(ops):
    recs = records_of(VALID)
    recs["archive/data.pkl"] = _mutate(VALID_PKL, ops)
    _load_quietly(rezip(recs))


@FUZZ
@given(ops=mutation, cut=st.one_of(st.none(), st.integers(0, len(VALID))))
def test_fuzz_mutated_file(ops, cut):
    blob = _mutate(VALID, ops)
    _load_quietly(blob if cut is None else blob[:cut])


@FUZZ
@given(body=st.binary(max_size=200))
def test_fuzz_random_opcodes(body):
    _load_quietly(archive(PROTO + body + STOP))


# A dictionary of opcodes + arguments makes random streams far more likely to be
# well-formed enough to reach the interesting paths (calls, memo, marks, persistent ids).
_PIECES = [MARK, TUPLE, TUPLE1, b"\x86", b"\x87", REDUCE, b"b", b"Q", b"a", b"e", b"s",
           b"u", b"]", b"}", b")", b"N", b"\x88", b"0", b"1", b"2", b"q\x00", b"h\x00",
           b"q\x01", b"h\x01", b"\x94", i(3), i(-1), s("storage"), s("0"), s("cpu"),
           g("torch._utils", "_rebuild_tensor_v2"), g("torch", "FloatStorage"),
           g("collections", "OrderedDict"), g("torch", "Size"), g("builtins", "set"),
           g("torch._utils", "_rebuild_parameter"), g("_codecs", "encode"),
           g("builtins", "complex"), g("torch", "device"), b"\x8f", b"\x90", b"\x91"]


@FUZZ
@given(parts=st.lists(st.sampled_from(_PIECES), max_size=40))
def test_fuzz_opcode_soup(parts):
    _load_quietly(archive(PROTO + b"".join(parts) + STOP, {"data/0": bytes(64)}))


def test_fuzz_does_not_leak_side_effects():
    # The fuzzers above run in this process; ember must still work normally afterwards.
    out = ember.load(io.BytesIO(VALID))
    assert out["w"].shape == (3, 4) and np.shares_memory(out["t"]._data, out["w"]._data)
