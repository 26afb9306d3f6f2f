"""What holds memory: live tensors, the lines that created them, graphs kept alive.

NOTE [ Live-tensor report ]
Three sources, from cheapest to richest:
  * the live ``Tensor`` objects, found by the garbage collector (``gc.get_objects``) when a
    report is asked for: shapes, dtypes, bytes (a storage shared by views counted once) and
    the autograd graph each one keeps alive (nodes, and the bytes of the values those nodes
    saved for backward: where the ``total_loss += loss`` leak shows up);
  * while tracking is on (``start_tracking``/``tracking``), a dispatch mode notes, for every
    tensor a record returns, the op and the user's line that created it (a weak reference:
    tracking keeps nothing alive), so the largest tensors come with their creating line;
  * ``tracemalloc``, started by tracking, attributes every live NumPy buffer (NumPy reports
    its data allocations in tracemalloc's domain ``np.lib.tracemalloc_domain``) to the
    innermost frame outside ember and NumPy: bytes by creating line, including arrays that
    no Tensor wraps any more (values saved in graph nodes).
Nothing here costs anything until tracking starts or a report is asked for.
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
import weakref

import numpy as np

from ember._graph import FREED, Node
from ember._ops.core import MODES, DispatchMode
from ember._tensor import Tensor
from ember.autograd.anomaly_mode import is_internal

__all__ = ["start_tracking", "stop_tracking", "tracking", "is_tracking", "live_tensors",
           "memory_report", "TensorInfo"]

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_SKIP = (_EMBER_DIR, os.path.dirname(np.__file__) + os.sep, tracemalloc.__file__)

# id(tensor) -> (weak reference, "file:line", source line, op name)
_CREATED: dict = {}
_STATE = {"mode": None, "started_tracemalloc": False}


def _skip(filename):
    return filename.startswith(_SKIP) or is_internal(filename)


def _user_frame():
    f = sys._getframe(2)
    while f is not None and _skip(f.f_code.co_filename):
        f = f.f_back
    return f


class _TrackMode(DispatchMode):
    def __ember_dispatch__(self, op, inputs, params, run):
        out = run(inputs, params)
        items = out if isinstance(out, (tuple, list)) else (out,)
        f = None
        for t in items:
            if isinstance(t, Tensor) and id(t) not in _CREATED:
                if f is None:
                    f = _user_frame()
                where = f"{f.f_code.co_filename}:{f.f_lineno}" if f is not None else "?"
                k = id(t)
                _CREATED[k] = (weakref.ref(t, lambda _r, k=k: _CREATED.pop(k, None)), where,
                               op.name)
        return out


def start_tracking(nframes=32):
    """Start noting where tensors are created (dispatch mode + ``tracemalloc``).

    Args:
        nframes: frames tracemalloc keeps per allocation (deep enough to reach the user's
            line through nn layers; more costs more).

    Returns:
        None.

    Example:
        >>> import ember.utils.memory
        >>> ember.utils.memory.start_tracking()
        >>> activations = [ember.randn(256, 256) for _ in range(3)]
        >>> info = ember.utils.memory.live_tensors()[0]
        >>> info.nbytes, info.created_at is not None
        (262144, True)
        >>> ember.utils.memory.stop_tracking()
    """
    if _STATE["mode"] is not None:
        return
    if not tracemalloc.is_tracing():
        tracemalloc.start(nframes)
        _STATE["started_tracemalloc"] = True
    mode = _TrackMode()
    MODES.insert(0, mode)
    _STATE["mode"] = mode


def stop_tracking():
    """Stop tracking (and stop ``tracemalloc`` if ``start_tracking`` started it).

    Returns:
        None.

    Example:
        >>> ember.utils.memory.stop_tracking()
    """
    mode = _STATE["mode"]
    if mode is None:
        return
    if mode in MODES:
        MODES.remove(mode)
    _STATE["mode"] = None
    if _STATE["started_tracemalloc"]:
        tracemalloc.stop()
        _STATE["started_tracemalloc"] = False
    _CREATED.clear()


def is_tracking():
    """Whether ``start_tracking`` is in effect.

    Returns:
        bool.

    Example:
        >>> ember.utils.memory.is_tracking()
        False
    """
    return _STATE["mode"] is not None


class tracking:
    """Context manager form of ``start_tracking``/``stop_tracking``.

    Args:
        nframes: frames tracemalloc keeps per allocation.

    Example:
        >>> import ember.utils.memory
        >>> with ember.utils.memory.tracking():
        ...     x = ember.randn(64, 64)
        ...     inside = ember.utils.memory.is_tracking()
        >>> inside, ember.utils.memory.is_tracking()
        (True, False)
    """

    def __init__(self, nframes=32):
        self.nframes = nframes
        self._was = False

    def __enter__(self):
        self._was = is_tracking()
        start_tracking(self.nframes)
        return self

    def __exit__(self, *exc):
        if not self._was:
            stop_tracking()
        return False


class TensorInfo:
    """One live tensor in a report (``live_tensors`` returns these).

    Attributes:
        shape, dtype: the tensor's.
        nbytes: bytes of its elements; ``storage_bytes``: of the memory it views.
        is_view, requires_grad, grad_fn: as on the tensor (``grad_fn`` a node name or None).
        created_at: ``"file:line"`` of the user's line that created it (tracking only).
        op: the record that created it (tracking only).
        graph_nodes, graph_bytes: the autograd graph it keeps alive: nodes and the bytes of
            values they saved for backward (0 for tensors without history).
        tensor: a weak reference to the tensor.

    Example:
        >>> import ember.utils.memory
        >>> big = ember.zeros(1000, 1000)
        >>> info = max(ember.utils.memory.live_tensors(), key=lambda i: i.nbytes)
        >>> info.shape, info.nbytes, info.tensor() is big
        ((1000, 1000), 4000000, True)
    """

    __slots__ = ("shape", "dtype", "nbytes", "storage_bytes", "is_view", "requires_grad",
                 "grad_fn", "created_at", "op", "graph_nodes", "graph_bytes", "tensor")

    def __repr__(self):
        where = f" at {self.created_at}" if self.created_at else ""
        return (f"TensorInfo({list(self.shape)} {self.dtype}, {self.nbytes} B{where}, "
                f"graph {self.graph_nodes} nodes / {self.graph_bytes} B)")


def _root(a):
    while isinstance(getattr(a, "base", None), np.ndarray):
        a = a.base
    return a


def _graph_size(edge, seen_arrays):
    """Nodes reachable from ``edge`` and the bytes of the arrays they hold for backward."""
    first = edge[0] if edge.__class__ is tuple else edge
    seen = {first}
    stack = [first]
    total = 0
    while stack:
        n = stack.pop()
        held = []
        if n.saved is not None and n.saved is not FREED:
            held += [getattr(t, "_data", None) for t in n.saved]
        out = n.out
        if out is not None and out is not FREED:
            if isinstance(out, tuple) and len(out) == 3 and isinstance(out[1], list):
                held.append(out[0])  # a saved output: (array, version counter, version)
            elif isinstance(out, tuple):  # forward-time state arrays (keep_state)
                held += [a for a in out if isinstance(a, np.ndarray)]
        for a in held:
            if isinstance(a, np.ndarray):
                r = _root(a)
                if id(r) not in seen_arrays:
                    seen_arrays.add(id(r))
                    total += r.nbytes
        for e in n.next:
            if e.__class__ is tuple:
                e = e[0]
            elif e.__class__.__base__ is not Node:
                continue
            if e not in seen:
                seen.add(e)
                stack.append(e)
    return len(seen), total


def live_tensors():
    """Every live ``Tensor``, largest first, as ``TensorInfo`` records.

    Returns:
        A list of ``TensorInfo`` sorted by ``nbytes`` (then graph bytes), descending.

    Example:
        >>> import ember.utils.memory
        >>> big = ember.zeros(500, 500)
        >>> infos = ember.utils.memory.live_tensors()
        >>> [(i.shape, i.nbytes) for i in infos if i.tensor() is big]
        [((500, 500), 1000000)]
    """
    out = []
    for obj in gc.get_objects():
        # type(), not isinstance: isinstance reads __class__, which some objects of other
        # libraries turn into a deprecation warning
        if not issubclass(type(obj), Tensor):
            continue
        try:
            d = obj._data
        except AttributeError:  # a Tensor still being constructed
            continue
        info = TensorInfo()
        info.shape = tuple(d.shape)
        info.dtype = str(obj.dtype).split(".")[-1]
        info.nbytes = int(getattr(d, "nbytes", 0))
        root = _root(d) if isinstance(d, np.ndarray) else d
        info.storage_bytes = int(getattr(root, "nbytes", info.nbytes))
        info.is_view = obj._base is not None
        info.requires_grad = bool(obj._requires_grad)
        g = obj._grad_fn
        node = (g[0] if g.__class__ is tuple else g) if g is not None else None
        info.grad_fn = type(node).__name__ if node is not None else None
        rec = _CREATED.get(id(obj))
        if rec is not None and rec[0]() is obj:
            info.created_at, info.op = rec[1], rec[2]
        else:
            info.created_at = info.op = None
        info.graph_nodes, info.graph_bytes = (_graph_size(g, set()) if g is not None
                                              else (0, 0))
        info.tensor = weakref.ref(obj)
        out.append(info)
    out.sort(key=lambda i: (i.nbytes, i.graph_bytes), reverse=True)
    return out


def _bytes_by_line():
    """Live NumPy buffers grouped by the user's creating line (tracemalloc)."""
    if not tracemalloc.is_tracing():
        return None
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)])
    groups = {}
    for tr in snap.traces:
        where = "?"
        for fr in reversed(tr.traceback):  # tracemalloc lists the oldest frame first
            if not _skip(fr.filename):
                where = f"{fr.filename}:{fr.lineno}"
                break
        n, b = groups.get(where, (0, 0))
        groups[where] = (n + 1, b + tr.size)
    return sorted(groups.items(), key=lambda kv: kv[1][1], reverse=True)


def _fmt(n):
    for unit, k in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(n) >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} B"


def _source(where):
    import linecache

    if ":" not in where:
        return ""
    f, _, ln = where.rpartition(":")
    try:
        return linecache.getline(f, int(ln)).strip()
    except ValueError:
        return ""


def memory_report(top=10):
    """A text report of what holds memory: bytes by creating line (while tracking), the
    largest live tensors, and the largest autograd graphs kept alive by live tensors.

    Args:
        top: rows per section.

    Returns:
        The report as a string.

    Example:
        >>> import ember.utils.memory
        >>> model = nn.Linear(4, 2)
        >>> with ember.utils.memory.tracking():
        ...     total_loss = 0
        ...     for _ in range(3):
        ...         total_loss += model(ember.randn(8, 4)).sum()   # keeps every graph alive
        ...     report = ember.utils.memory.memory_report(top=3)
        >>> print(report)
        ember memory report: ... live tensors, ...
        ...Autograd graphs kept alive by live tensors (top 3):
        ...grad_fn=AddBackward0...
    """
    infos = live_tensors()
    storages = {}
    for i in infos:
        t = i.tensor()
        if t is not None and isinstance(t._data, np.ndarray):
            storages[id(_root(t._data))] = i.storage_bytes
    lines = [f"ember memory report: {len(infos)} live tensors, "
             f"{_fmt(sum(storages.values()))} of tensor storage"]
    by_line = _bytes_by_line()
    if by_line is not None:
        lines.append("")
        lines.append(f"Live NumPy memory by creating line (top {top}):")
        for where, (n, b) in by_line[:top]:
            lines.append(f"  {_fmt(b):>10}  {n:6d} arrays  {where}  {_source(where)}")
    else:
        lines.append("(start ember.utils.memory.start_tracking() to see bytes by creating "
                     "line)")
    lines.append("")
    lines.append(f"Largest tensors (top {top}):")
    for i in infos[:top]:
        extra = " requires_grad" if i.requires_grad else ""
        extra += f" grad_fn={i.grad_fn}" if i.grad_fn else ""
        extra += " view" if i.is_view else ""
        where = f"  created at {i.created_at} ({i.op})" if i.created_at else ""
        lines.append(f"  {_fmt(i.nbytes):>10}  {list(i.shape)} {i.dtype}{extra}{where}")
    graphs = sorted((i for i in infos if i.graph_nodes), key=lambda i: (i.graph_nodes,
                                                                         i.graph_bytes),
                    reverse=True)
    lines.append("")
    lines.append(f"Autograd graphs kept alive by live tensors (top {top}):")
    if not graphs:
        lines.append("  (none)")
    for i in graphs[:top]:
        where = f", created at {i.created_at}" if i.created_at else ""
        lines.append(f"  {i.graph_nodes:6d} nodes  {_fmt(i.graph_bytes):>10} saved  "
                     f"{list(i.shape)} {i.dtype} grad_fn={i.grad_fn}{where}")
    return "\n".join(lines) + "\n"
