"""The zip container of PyTorch's checkpoint format: an aligned writer and a checked reader.

NOTE [ Checkpoint archive layout ]
A checkpoint is an uncompressed ("stored") zip archive whose records all sit under one
top-level folder (ember writes ``archive/``):

    archive/data.pkl               the pickled object; tensors refer to storages by key
    archive/.format_version        b"1"
    archive/.storage_alignment     b"64"
    archive/byteorder              b"little" (or b"big")
    archive/data/<key>             the raw bytes of one storage, one record per storage
    archive/version                b"3\\n"
    archive/.data/serialization_id a 40-digit id of this file

Each record's payload starts at a multiple of 64 bytes from the start of the file: the local
header's extra field carries a padding block (id ``b"FB"``) sized to get there. Aligned,
uncompressed payloads are what let a loader map storages straight from the file (``mmap``).
Archives larger than 4 GiB use the zip64 extensions.

The writer is written here (rather than through :mod:`zipfile`) to control alignment and to
stream each storage from its array's memory without a copy. The reader uses :mod:`zipfile`
only to parse the central directory; payload offsets come from the local headers, and every
size and offset is checked against the file's real length before any memory is allocated.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

ALIGNMENT = 64
_ZIP64_LIMIT = 0xFFFFFFFF  # a module constant so tests can exercise the zip64 path cheaply
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_EOCD64_LOC = struct.Struct("<IIQI")


class ZipWriter:
    """Write stored records with 64-byte aligned payloads to a binary file object.

    Offsets are relative to the file position when the writer was created, so a checkpoint
    can be appended to an open stream.
    """

    def __init__(self, fileobj):
        self._f = fileobj
        self._pos = 0
        self._entries = []  # (name bytes, crc, size, header offset)

    def write_record(self, name: str, data, crc: int | None = None) -> None:
        """Write one record; ``data`` is bytes or any C-contiguous buffer (not copied).

        ``crc`` may be given when the caller computed it already (``zlib.crc32(data)``).
        """
        view = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        size = len(view)
        if crc is None:
            crc = zlib.crc32(view)
        bname = name.encode("utf-8")
        offset = self._pos
        zip64 = size >= _ZIP64_LIMIT or offset >= _ZIP64_LIMIT
        extra = b""
        if zip64:
            extra = struct.pack("<HHQQ", 1, 16, size, size)
        # Padding block: id "FB", a 2-byte length, then filler, so the payload is aligned.
        start = offset + _LOCAL.size + len(bname) + len(extra) + 4
        pad = (-start) % ALIGNMENT
        extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        fsize = 0xFFFFFFFF if zip64 else size
        header = _LOCAL.pack(0x04034B50, 45 if zip64 else 20, 0, 0, 0, 0, crc, fsize, fsize,
                             len(bname), len(extra))
        self._write(header + bname + extra)
        if size:
            self._write(view)
        self._entries.append((bname, crc, size, offset))

    def _write(self, b) -> None:
        self._f.write(b)
        self._pos += len(b)

    def finish(self) -> None:
        """Write the central directory and the end records (zip64 ones where needed)."""
        cd_start = self._pos
        parts = []
        for bname, crc, size, offset in self._entries:
            extra = b""
            fields = []
            if size >= _ZIP64_LIMIT:
                fields += [size, size]
            if offset >= _ZIP64_LIMIT:
                fields.append(offset)
            if fields:
                extra = struct.pack("<HH", 1, 8 * len(fields)) + struct.pack(
                    f"<{len(fields)}Q", *fields)
            fsize = 0xFFFFFFFF if size >= _ZIP64_LIMIT else size
            foff = 0xFFFFFFFF if offset >= _ZIP64_LIMIT else offset
            version = 45 if extra else 20
            parts.append(_CENTRAL.pack(0x02014B50, version, version, 0, 0, 0, 0, crc, fsize,
                                       fsize, len(bname), len(extra), 0, 0, 0, 0, foff)
                         + bname + extra)
        cd = b"".join(parts)
        self._write(cd)
        n = len(self._entries)
        cd_size = len(cd)
        if n >= 0xFFFF or cd_start >= _ZIP64_LIMIT or cd_size >= _ZIP64_LIMIT:
            eocd64_at = self._pos
            self._write(_EOCD64.pack(0x06064B50, _EOCD64.size - 12, 45, 45, 0, 0, n, n,
                                     cd_size, cd_start))
            self._write(_EOCD64_LOC.pack(0x07064B50, 0, eocd64_at, 1))
            self._write(_EOCD.pack(0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
        else:
            self._write(_EOCD.pack(0x06054B50, 0, 0, n, n, cd_size, cd_start, 0))


class CheckpointError(RuntimeError):
    """A malformed checkpoint: archive, record or tensor metadata (a ``RuntimeError``).

    PyTorch raises ``RuntimeError`` for the same problems; catching ``RuntimeError`` works.

    Example:
        >>> issubclass(ember.serialization.CheckpointError, RuntimeError)
        True
    """


ArchiveError = CheckpointError


def _check_name(name: str) -> None:
    """Refuse record names that could address anything outside the archive's folder.

    PyTorch refuses archives whose records are not all in one top-level folder; names with
    ``..``, ``.`` or empty components, absolute paths, drive letters, backslashes or NUL
    bytes are refused here as well, so nothing that later extracts or maps records by name
    can be steered outside that folder.
    """
    bad = None
    if not name:
        bad = "an empty name"
    elif "\x00" in name:
        bad = "a NUL byte"
    elif "\\" in name:
        bad = "a backslash"
    elif name.startswith("/"):
        bad = "an absolute path"
    elif len(name) > 1 and name[1] == ":":
        bad = "a drive letter"
    else:
        parts = name.split("/")
        if any(p in ("..", ".") for p in parts):
            bad = "a '..' or '.' path component"
        elif any(p == "" for p in parts[:-1]) or parts[-1] == "":
            bad = "an empty path component"
    if bad is not None:
        raise ArchiveError(f"ember.load: record name {name[:200]!r} holds {bad}; refusing the "
                           "archive")


class ZipReader:
    """Locate and read the stored records of a checkpoint archive.

    ``fileobj`` must be seekable. ``records`` maps each record name to ``(offset, size)`` of
    its payload in the file; nothing is read until :meth:`read` / :meth:`readinto`.
    """

    def __init__(self, fileobj):
        self._f = fileobj
        try:
            fileobj.seek(0, 2)
            self.file_size = fileobj.tell()
            fileobj.seek(0)
            zf = zipfile.ZipFile(fileobj)
            infos = zf.infolist()
        except ArchiveError:
            raise
        except Exception as e:  # zipfile raises many types on hostile input
            raise ArchiveError(f"ember.load: not a valid checkpoint archive ({e})") from None
        self.records = {}
        for info in infos:
            _check_name(info.orig_filename)  # zipfile cuts .filename at a NUL byte
            if info.filename in self.records:
                raise ArchiveError(f"ember.load: the archive holds record "
                                   f"{info.filename!r} twice")
            self.records[info.filename] = self._locate(info)
        if not self.records:
            raise ArchiveError("ember.load: the archive is empty (is it a checkpoint written "
                               "by torch.save / ember.save?)")
        # As in PyTorch, every record sits in the first record's top-level folder.
        first = next(iter(self.records))
        if "/" not in first:
            raise ArchiveError(f"ember.load: record {first!r} is not in a folder (checkpoint "
                               "records sit under one top-level folder such as 'archive/')")
        self.prefix = first[:first.index("/") + 1]
        for n in self.records:
            if not n.startswith(self.prefix):
                raise ArchiveError(f"ember.load: record {n!r} is not in the archive's folder "
                                   f"{self.prefix!r}")
        if self.prefix + "data.pkl" not in self.records:
            raise ArchiveError("ember.load: the archive has no data.pkl record (is it a "
                               "checkpoint written by torch.save / ember.save?)")
        if not (self.has("version") or self.has(".data/version")):
            raise ArchiveError("ember.load: the archive has no version record (PyTorch "
                               "refuses such archives too)")

    def _locate(self, info):
        if info.compress_type != zipfile.ZIP_STORED:
            raise ArchiveError(f"ember.load: record {info.filename!r} is compressed; checkpoint "
                               "records must be stored uncompressed")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"ember.load: record {info.filename!r} is encrypted")
        size = info.file_size
        if info.compress_size != size:
            raise ArchiveError(f"ember.load: record {info.filename!r} declares inconsistent "
                               f"sizes ({info.compress_size} stored, {size} uncompressed)")
        ho = info.header_offset
        if ho < 0 or ho + _LOCAL.size > self.file_size:
            raise ArchiveError(f"ember.load: record {info.filename!r} has a local header "
                               "outside the file")
        self._f.seek(ho)
        head = self._f.read(_LOCAL.size)
        if len(head) != _LOCAL.size or head[:4] != b"PK\x03\x04":
            raise ArchiveError(f"ember.load: bad local header for record {info.filename!r}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        # The local header must name the same record as the central directory: readers that
        # trust one or the other would otherwise see different archives.
        local_name = self._f.read(name_len)
        if local_name != info.orig_filename.encode("utf-8") and \
                local_name != info.orig_filename.encode("cp437", "replace"):
            raise ArchiveError(f"ember.load: record {info.filename!r} has a different name "
                               f"({local_name[:100]!r}) in its local header")
        start = ho + _LOCAL.size + name_len + extra_len
        if start + size > self.file_size:
            raise ArchiveError(
                f"ember.load: record {info.filename!r} claims {size} bytes at offset {start}, "
                f"past the end of the {self.file_size}-byte file (truncated or corrupt archive)")
        return start, size

    def has(self, name: str) -> bool:
        return self.prefix + name in self.records

    def locate(self, name: str):
        """``(offset, size)`` of a record's payload; ``ArchiveError`` if it is missing."""
        try:
            return self.records[self.prefix + name]
        except KeyError:
            raise ArchiveError(f"ember.load: the archive has no record {name!r}") from None

    def read(self, name: str) -> bytes:
        off, size = self.locate(name)
        self._f.seek(off)
        b = self._f.read(size)
        if len(b) != size:
            raise ArchiveError(f"ember.load: record {name!r} is truncated")
        return b

    def readinto(self, name: str, buf) -> None:
        """Fill ``buf`` (a writable buffer of exactly the record's size) from the file."""
        off, size = self.locate(name)
        mv = memoryview(buf).cast("B")
        if len(mv) != size:
            raise ArchiveError(f"ember.load: record {name!r} has {size} bytes, expected "
                               f"{len(mv)}")
        self._f.seek(off)
        got = 0
        readinto = getattr(self._f, "readinto", None)
        while got < size:
            if readinto is not None:
                n = readinto(mv[got:])
            else:
                chunk = self._f.read(size - got)
                n = len(chunk)
                mv[got:got + n] = chunk
            if not n:
                raise ArchiveError(f"ember.load: record {name!r} is truncated")
            got += n
