"""SummaryWriter: event-file framing and CRCs checked by hand, and the files read back by
TensorBoard's own EventAccumulator when the tensorboard package is installed."""

import glob
import os
import struct
import zlib

import numpy as np
import pytest

import ember
from ember.utils.tensorboard import SummaryWriter
from ember.utils.tensorboard import _proto as pb


def _records(log_dir):
    files = sorted(glob.glob(os.path.join(log_dir, "events.out.tfevents.*")))
    assert len(files) == 1
    with open(files[0], "rb") as f:
        return pb.read_tfrecords(f.read())


def test_crc32c_known_values():
    assert pb.crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    assert pb.crc32c(b"") == 0
    assert pb.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720's 32 zero bytes


def test_framing_and_header(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("loss", 0.5, 3)
    recs = _records(str(tmp_path))
    assert len(recs) == 2
    assert b"brain.Event:2" in recs[0]
    # Event{wall_time=1: double, step=2: varint 3, summary=5: {value=1: {tag=1, simple_value=2}}}
    assert recs[1][0] == 0x09 and recs[1][9:11] == b"\x10\x03"
    value = pb.f_bytes(1, "loss") + pb.f_float(2, 0.5)
    assert recs[1].endswith(pb.f_bytes(5, pb.f_bytes(1, value)))
    # a flipped byte breaks the data CRC
    path = glob.glob(str(tmp_path / "events.*"))[0]
    blob = bytearray(open(path, "rb").read())
    blob[-6] ^= 0xFF
    with pytest.raises(ValueError, match="CRC"):
        pb.read_tfrecords(bytes(blob))


def test_framing_layout_by_hand():
    rec = pb.tfrecord(b"abc")
    assert struct.unpack("<Q", rec[:8])[0] == 3
    assert struct.unpack("<I", rec[8:12])[0] == pb.masked_crc32c(rec[:8])
    assert rec[12:15] == b"abc"
    crc = pb.crc32c(b"abc")
    assert struct.unpack("<I", rec[15:])[0] == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) \
        & 0xFFFFFFFF


def test_png_encoder_roundtrip():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    png = pb.encode_png(img)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # IHDR: width 3, height 2, depth 8, colour type 2 (RGB); IDAT: filter byte + row bytes
    assert struct.unpack(">II", png[16:24]) == (3, 2) and png[24:26] == b"\x08\x02"
    idat_len = struct.unpack(">I", png[33:37])[0]
    rows = zlib.decompress(png[41:41 + idat_len])
    assert rows == b"\x00" + img[0].tobytes() + b"\x00" + img[1].tobytes()


def test_flush_queue_and_close(tmp_path):
    w = SummaryWriter(str(tmp_path), max_queue=100, flush_secs=10_000)
    w.add_scalar("a", 1.0, 0)
    assert len(_records(str(tmp_path))) == 1  # still queued
    w.flush()
    assert len(_records(str(tmp_path))) == 2
    w.close()
    w.close()  # idempotent


def test_default_log_dir_and_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_x")
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_x")
    with pytest.raises(ValueError, match="dataformats"):
        w.add_image("bad", np.zeros((4, 4)), 0, dataformats="CHW")
    with pytest.raises(ValueError, match="channels"):
        w.add_image("bad", np.zeros((2, 4, 4)), 0)
    with pytest.raises(NotImplementedError):
        w.add_graph(None)
    w.close()


def _write_everything(log_dir):
    ember.manual_seed(0)
    with SummaryWriter(log_dir, purge_step=0) as w:
        for step in range(4):
            w.add_scalar("loss/train", 1.0 / (step + 1), step)
        w.add_scalar("exact", ember.tensor(0.25, dtype=ember.float64), 7, new_style=True,
                     double_precision=True)
        w.add_scalars("curves", {"train": 0.5, "val": 0.75}, 2)
        w.add_histogram("weights", ember.randn(1000), 1)
        w.add_histogram("ints", np.arange(10), 1, bins=5)
        w.add_image("chw", ember.ones(3, 4, 5) * 0.5, 1)
        w.add_image("hwc", np.full((4, 5, 1), 200, np.uint8), 1, dataformats="HWC")
        w.add_images("batch", np.zeros((10, 3, 2, 2), np.float32), 1)
        w.add_text("notes", "hello *tensorboard*", 2)
        w.add_hparams({"lr": 0.1, "opt": "sgd", "nesterov": True}, {"hparam/acc": 0.9},
                      run_name="trial")


def test_all_records_are_valid_frames(tmp_path):
    _write_everything(str(tmp_path))
    recs = _records(str(tmp_path))
    assert len(recs) == 1 + 1 + 4 + 1 + 2 + 2 + 1 + 1  # header, purge, scalars, ...
    assert any(b"text_summary" in r for r in recs)
    runs = sorted(os.listdir(tmp_path))
    assert {"curves_train", "curves_val", "trial"} <= set(runs)


def test_event_accumulator_reads_everything(tmp_path):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    _write_everything(str(tmp_path))
    ea = ea_mod.EventAccumulator(str(tmp_path), size_guidance={"images": 0, "histograms": 0,
                                                               "tensors": 0, "scalars": 0})
    ea.Reload()
    tags = ea.Tags()
    assert [(e.step, round(e.value, 6)) for e in ea.Scalars("loss/train")] == [
        (0, 1.0), (1, 0.5), (2, 0.333333), (3, 0.25)]
    h = ea.Histograms("weights")[0].histogram_value
    assert h.num == 1000 and sum(h.bucket) == 1000 and len(h.bucket) == len(h.bucket_limit)
    assert h.min <= min(h.bucket_limit[1:]) and h.bucket_limit[-1] >= h.max
    h2 = ea.Histograms("ints")[0].histogram_value
    assert list(h2.bucket) == [0, 2, 2, 2, 2, 2] and h2.sum == 45 and h2.sum_squares == 285
    img = ea.Images("chw")[0]
    assert (img.width, img.height) == (5, 4)
    assert ea.Images("batch")[0].width == 16  # 8 per row
    assert set(tags["images"]) == {"chw", "hwc", "batch"}
    text = ea.Tensors("notes/text_summary")[0].tensor_proto
    assert text.string_val == [b"hello *tensorboard*"]
    assert ea.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"
    exact = ea.Tensors("exact")[0]
    assert exact.step == 7 and list(exact.tensor_proto.double_val) == [0.25]
    sub = ea_mod.EventAccumulator(str(tmp_path / "curves_val"))
    sub.Reload()
    assert sub.Scalars("curves")[0].value == 0.75
    hp = ea_mod.EventAccumulator(str(tmp_path / "trial"))
    hp.Reload()
    assert hp.Scalars("hparam/acc")[0].value == pytest.approx(0.9)
    content = hp.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info",
                            "_hparams_/session_end_info"}
    plugin_data = pytest.importorskip("tensorboard.plugins.hparams.plugin_data_pb2")
    start = plugin_data.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["opt"].string_value == "sgd"
    assert start.hparams["nesterov"].bool_value is True
    exp = plugin_data.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert [i.name for i in exp.hparam_infos] == ["lr", "opt", "nesterov"]
    assert exp.metric_infos[0].name.tag == "hparam/acc"


def test_images_decode_with_pillow(tmp_path):
    pytest.importorskip("tensorboard")
    Image = pytest.importorskip("PIL.Image")
    import io

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    img = np.random.default_rng(0).random((3, 6, 7)).astype(np.float32)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_image("x", img, 0)
    ea = EventAccumulator(str(tmp_path), size_guidance={"images": 0})
    ea.Reload()
    decoded = np.asarray(Image.open(io.BytesIO(ea.Images("x")[0].encoded_image_string)))
    expected = np.clip(np.round(img.transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(decoded, expected)
