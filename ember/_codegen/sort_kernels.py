"""The stable argsort of large host arrays on two threads.

NOTE [ Stable argsort on two threads ]
``sort``/``argsort`` are stable in ember (PyTorch's CPU sort keeps the order of equal
elements, and ``stable=True`` asks for it), and NumPy's stable argsort (timsort/radix sort)
runs on one core: 1e6 float32 took 118 ms against PyTorch's 92 ms on two threads. NumPy
releases the GIL while it sorts, so two Python threads sort at once:

- many rows: each thread argsorts half of the rows; nothing to combine;
- one long row: each thread argsorts half of the row; the two sorted halves are then merged
  by one C pass that takes the left half's element unless the right one is strictly smaller
  (NaN counted larger than every number, as NumPy's sort orders it). A stable sort's result
  is unique, so the indices equal NumPy's stable argsort of the whole row exactly.

Each call starts its one helper thread (~0.1 ms against sorts of >= 2^16 elements, several
ms): a pool kept across calls would be inherited, dead, by a forked process (DataLoader
workers) and hang it. Returns None where this does not apply (device arrays, one thread,
small arrays, dtypes other than bool/int/uint/float; for the one-row merge also a missing
compiler); the caller then calls NumPy.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from ember._codegen.kernel import c_library, data_ptr, get_num_threads

MIN_SIZE = 1 << 16

_TYPES = {np.dtype(n): n for n in ("float32", "float64", "int32", "int64")}
_C_TYPES = {"float32": "float", "float64": "double", "int32": "int32_t", "int64": "int64_t"}

_TEMPLATE = r"""
/* the two sorted halves (values va/vb in order, their indices ia/ib) into one index list:
   the left element unless the right one is strictly smaller (stable) */
void ember_merge_$S(const $T* va, const int64_t* ia, int64_t na,
                    const $T* vb, const int64_t* ib, int64_t nb, int64_t* out)
{
    int64_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        $T x = vb[j], y = va[i];
        if ($LT) out[k++] = ib[j++];
        else out[k++] = ia[i++];
    }
    while (i < na) out[k++] = ia[i++];
    while (j < nb) out[k++] = ib[j++];
}
"""
# x < y, NaN larger than every number (NumPy's sort order); integers compare plainly
_FLOAT_LT = "x < y || (y != y && x == x)"


def _source():
    parts = ["#include <stdint.h>"]
    for name, ct in _C_TYPES.items():
        lt = _FLOAT_LT if name.startswith("float") else "x < y"
        parts.append(_TEMPLATE.replace("$S", name).replace("$T", ct).replace("$LT", lt))
    return "\n".join(parts)


_lib = c_library(_source(), ["ember_merge_" + n for n in _C_TYPES])
_L = ctypes.c_int64


def _both(left, right):
    """``left()`` on a helper thread and ``right()`` here (NumPy's sorts release the GIL);
    returns their results."""
    box = []

    def run():
        try:
            box.append((True, left()))
        except BaseException as e:  # re-raised on the caller's thread
            box.append((False, e))

    t = threading.Thread(target=run, name="ember-argsort", daemon=True)
    t.start()
    r = right()
    t.join()
    ok, l_res = box[0]
    if not ok:
        raise l_res
    return l_res, r


def stable_argsort(a, axis):
    """int64 indices of NumPy's stable ascending argsort of ``a`` along ``axis``, computed
    on two threads (NOTE [ Stable argsort on two threads ]), or None where that does not
    apply.

    Args:
        a: a host array (at least 1-d).
        axis: the axis to sort along (non-negative).

    Returns:
        An int64 array of ``a``'s shape, or None.

    Example:
        >>> x = np.random.default_rng(0).standard_normal(1 << 17).astype(np.float32)
        >>> r = stable_argsort(x, 0)
        >>> r is None or bool((r == np.argsort(x, kind="stable")).all())
        True
    """
    if type(a) is not np.ndarray or a.size < MIN_SIZE or a.dtype.kind not in "biuf" or \
            get_num_threads() < 2:
        return None
    b = np.moveaxis(a, axis, -1)
    n = b.shape[-1]
    rows = b.reshape(-1, n)  # (a copy only when the moved axis is not mergeable)
    if rows.shape[0] >= 2:
        h = rows.shape[0] // 2
        lo, hi = _both(lambda: np.argsort(rows[:h], axis=-1, kind="stable"),
                       lambda: np.argsort(rows[h:], axis=-1, kind="stable"))
        idx = np.concatenate((lo, hi))
    else:
        idx = _merged(rows[0])
        if idx is None:
            return None
    idx = idx.reshape(b.shape)
    if axis != a.ndim - 1:
        idx = np.ascontiguousarray(np.moveaxis(idx, -1, axis))
    return idx.astype(np.int64, copy=False)


def _merged(row):
    """The stable argsort of one long row: its halves sorted on two threads, then merged."""
    name = _TYPES.get(row.dtype)
    lib = _lib() if name is not None else None
    if lib is None:
        return None
    n = row.shape[0]
    h = n // 2
    left, right = row[:h], row[h:]

    def half(part, offset):
        i = np.argsort(part, kind="stable")
        v = np.ascontiguousarray(part[i])  # (a gather of this half, in its thread)
        if offset:
            i += offset
        return v, i.astype(np.int64, copy=False)

    (va, ia), (vb, ib) = _both(lambda: half(left, 0), lambda: half(right, h))
    out = np.empty(n, np.int64)
    getattr(lib, "ember_merge_" + name)(data_ptr(va), data_ptr(ia), _L(h), data_ptr(vb),
                                        data_ptr(ib), _L(n - h), data_ptr(out))
    return out
