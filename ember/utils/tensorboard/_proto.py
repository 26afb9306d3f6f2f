"""The few TensorBoard records ember writes: a minimal protobuf encoder, TFRecord framing
with masked CRC-32C, and a PNG encoder. No TensorFlow, TensorBoard or protobuf package.

NOTE [ Event files ]
An event file is a sequence of TFRecords: ``uint64 length`` (little endian),
``uint32 masked_crc32c(length bytes)``, ``data``, ``uint32 masked_crc32c(data)``. Each data
block is a serialized ``tensorboard.Event`` protobuf; the first one carries
``file_version = "brain.Event:2"``. Field numbers below are those of TensorBoard's
``event.proto``, ``summary.proto``, ``tensor.proto`` and ``plugins/hparams/*.proto``.
"""

from __future__ import annotations

import struct
import zlib

# ---------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), table driven, and TFRecord's masking.


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (``crc32c(b"123456789") == 0xE3069283``)."""
    crc, table = 0xFFFFFFFF, _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data: bytes) -> bytes:
    """Frame one record: length, CRC of the length, data, CRC of the data."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


def read_tfrecords(blob: bytes) -> list[bytes]:
    """Split an event file into its records, checking both CRCs of each."""
    out, pos = [], 0
    while pos < len(blob):
        header = blob[pos:pos + 8]
        if len(header) < 8:
            raise ValueError(f"truncated record header at byte {pos}")
        (n,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
        if hcrc != masked_crc32c(header):
            raise ValueError(f"bad length CRC at byte {pos}")
        data = blob[pos + 12:pos + 12 + n]
        (dcrc,) = struct.unpack("<I", blob[pos + 12 + n:pos + 16 + n])
        if len(data) != n or dcrc != masked_crc32c(data):
            raise ValueError(f"bad data CRC at byte {pos}")
        out.append(data)
        pos += 16 + n
    return out


# ---------------------------------------------------------------------------------------------
# Protobuf wire format: just what the messages below need.


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int32/int64 are sent as 10-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def f_varint(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(int(value))


def f_double(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value))


def f_float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(value))


def f_bytes(field: int, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _key(field, 2) + _varint(len(value)) + value


def f_packed_doubles(field: int, values) -> bytes:
    values = [float(v) for v in values]
    return f_bytes(field, struct.pack(f"<{len(values)}d", *values))


# ---------------------------------------------------------------------------------------------
# Messages

DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


def event(wall_time: float, step: int = 0, *, file_version: str | None = None,
          summary: bytes | None = None, session_log: bytes | None = None) -> bytes:
    out = f_double(1, wall_time) + (f_varint(2, step) if step else b"")
    if file_version is not None:
        out += f_bytes(3, file_version)
    if summary is not None:
        out += f_bytes(5, summary)
    if session_log is not None:
        out += f_bytes(7, session_log)
    return out


def session_log_start() -> bytes:
    return f_varint(1, 1)  # SessionLog.status = START


def summary(*values: bytes) -> bytes:
    return b"".join(f_bytes(1, v) for v in values)


def metadata(plugin_name: str, content: bytes = b"") -> bytes:
    plugin = f_bytes(1, plugin_name) + (f_bytes(2, content) if content else b"")
    return f_bytes(1, plugin)


def tensor(dtype: int, shape: tuple[int, ...], *, float_val=None, double_val=None,
           string_val=None) -> bytes:
    dims = b"".join(f_bytes(2, f_varint(1, d)) for d in shape)
    out = f_varint(1, dtype) + f_bytes(2, dims)
    if float_val is not None:
        out += f_bytes(5, struct.pack(f"<{len(float_val)}f", *map(float, float_val)))
    if double_val is not None:
        out += f_packed_doubles(6, double_val)
    for s in string_val or ():
        out += f_bytes(8, s)
    return out


def value(tag: str, *, simple_value: float | None = None, image: bytes | None = None,
          histo: bytes | None = None, tensor_: bytes | None = None,
          metadata_: bytes | None = None) -> bytes:
    out = f_bytes(1, tag)
    if simple_value is not None:
        out += f_float(2, simple_value)
    if image is not None:
        out += f_bytes(4, image)
    if histo is not None:
        out += f_bytes(5, histo)
    if tensor_ is not None:
        out += f_bytes(8, tensor_)
    if metadata_ is not None:
        out += f_bytes(9, metadata_)
    return out


def image(height: int, width: int, colorspace: int, png: bytes) -> bytes:
    return f_varint(1, height) + f_varint(2, width) + f_varint(3, colorspace) + f_bytes(4, png)


def histogram(vmin: float, vmax: float, num: float, total: float, sum_squares: float,
              bucket_limit, bucket) -> bytes:
    return (f_double(1, vmin) + f_double(2, vmax) + f_double(3, num) + f_double(4, total)
            + f_double(5, sum_squares) + f_packed_doubles(6, bucket_limit)
            + f_packed_doubles(7, bucket))


def pb_value(v) -> bytes:
    """A ``google.protobuf.Value`` holding a number, string or bool."""
    if isinstance(v, bool):
        return f_varint(4, int(v))
    if isinstance(v, str):
        return f_bytes(3, v)
    return f_double(2, float(v))


# ---------------------------------------------------------------------------------------------
# PNG


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(hwc) -> bytes:
    """Encode a uint8 (H, W, C) array, C in 1/3/4 (gray, RGB, RGBA), as PNG."""
    h, w, c = hwc.shape
    color_type = {1: 0, 3: 2, 4: 6}[c]
    rows = b"".join(b"\x00" + hwc[i].tobytes() for i in range(h))  # filter type 0 per row
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(rows, 6)) + _png_chunk(b"IEND", b""))
