"""File helpers for the datasets: IDX parsing and the offline download error."""

from __future__ import annotations

import gzip
import os

import numpy as np

__all__ = ["read_idx", "download_unavailable"]

# IDX type codes (the third byte of the magic number) -> big-endian NumPy dtypes.
_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), plain or gzip-compressed, into a NumPy array.

    The header is two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension; the data follow in C order.

    Args:
        path: the file (``.gz`` files are decompressed).

    Returns:
        A NumPy array of the file's shape and dtype.

    Example:
        >>> import struct
        >>> header = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 3)   # uint8, 1 dim of 3
        >>> with open("labels-idx1-ubyte", "wb") as f:
        ...     _ = f.write(header + bytes([7, 2, 1]))
        >>> read_idx("labels-idx1-ubyte")
        array([7, 2, 1], dtype=uint8)
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        blob = f.read()
    if len(blob) < 4 or blob[0] != 0 or blob[1] != 0:
        raise RuntimeError(f"read_idx(): {path} is not an IDX file (bad magic number)")
    code, ndim = blob[2], blob[3]
    if code not in _IDX_TYPES:
        raise RuntimeError(f"read_idx(): {path} has unknown IDX type code 0x{code:02x}")
    head = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(blob, dtype=">u4", count=ndim, offset=4))
    dt = _IDX_TYPES[code]
    count = int(np.prod(shape, dtype=np.int64))
    if len(blob) - head != count * dt.itemsize:
        raise RuntimeError(f"read_idx(): {path} should hold {count} values of shape {shape} "
                           f"but has {len(blob) - head} data bytes")
    return np.frombuffer(blob, dtype=dt, offset=head).astype(dt.newbyteorder("="))\
        .reshape(shape)


def download_unavailable(name: str, where: str) -> RuntimeError:
    """The error raised for ``download=True`` when the files are not already present.

    Args:
        name: the dataset's name.
        where: the folder the files belong in.

    Returns:
        A RuntimeError (to raise) whose message says where to put the files.

    Example:
        >>> err = download_unavailable("MNIST", "data/MNIST/raw")
        >>> isinstance(err, RuntimeError), "data/MNIST/raw" in str(err)
        (True, True)
    """
    return RuntimeError(
        f"{name}: download=True cannot fetch the data: ember does not download datasets "
        f"(there may be no network). Place the original files in {where} and construct the "
        f"dataset again (download=True is accepted when the files are already there).")
