"""Profiler results: events, averages, PyTorch's table layout and the Chrome trace format.

NOTE [ Profiler events and times ]
A ``FunctionEvent`` is one timed range: an op record (``cat`` "cpu_op", named as PyTorch's
ATen op, ``aten::mm``), a ``record_function`` range ("user_annotation") or a range the
autograd engine opens per node ("autograd::engine::evaluate_function: MulBackward0" around
"MulBackward0"). Times are integers in nanoseconds from ``time.perf_counter_ns`` and shown
in microseconds as PyTorch does. Ranges nest per thread by time: an event's parent is the
range that was open when it started, its *self* time is its duration minus its children's.
Memory (``profile_memory=True``) is the bytes of the outputs an op allocated (views and
in-place writes allocate nothing); unlike PyTorch's allocator hooks it counts no frees, so
``Self CPU Mem`` is never negative and temporaries inside a forward are not seen.
"""

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict

__all__ = ["FunctionEvent", "FunctionEventAvg", "EventList", "Interval"]


class Interval:
    """A time range in microseconds (``start``, ``end``): an event's ``time_range``.

    Args:
        start: the start, in microseconds.
        end: the end, in microseconds.

    Example:
        >>> from ember.autograd.profiler_util import Interval
        >>> Interval(2.0, 5.5).elapsed_us()
        3.5
    """

    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        """Length of the range in microseconds."""
        return self.end - self.start

    def __repr__(self):
        return f"Interval(start={self.start}, end={self.end})"


class FunctionEvent:
    """One profiled range: an op, a ``record_function`` block or an autograd node.

    Attributes read as in PyTorch: ``name``/``key``, ``id``, ``thread``, ``time_range``
    (µs), ``cpu_time_total``/``self_cpu_time_total``/``cpu_time`` (µs), ``count`` (1),
    ``input_shapes``, ``stack``, ``cpu_parent``, ``cpu_children``, ``flops``,
    ``cpu_memory_usage``/``self_cpu_memory_usage`` (bytes).

    Events are made by the profiler, not by users.

    Args:
        id: the event's number in its trace.
        name: the op or range name (``"aten::mul"``).
        cat: the category ("cpu_op", "user_annotation", ...).
        thread: the id of the thread it ran on.
        start_ns: its start time in nanoseconds.

    Example::

        >>> with ember.profiler.profile() as prof:
        ...     y = ember.ones(2) * 3
        >>> ev = prof.events()[-1]
        >>> ev.name, ev.count, ev.cpu_time_total >= 0
        ('aten::mul', 1, True)
    """

    __slots__ = ("id", "name", "cat", "thread", "start_ns", "end_ns", "input_shapes",
                 "input_dtypes", "stack", "cpu_parent", "cpu_children", "flops",
                 "self_cpu_memory_usage", "module_hierarchy", "sequence_nr", "_ts_base",
                 "args")

    def __init__(self, id, name, cat, thread, start_ns):
        self.id = id
        self.name = name
        self.cat = cat
        self.thread = thread
        self.start_ns = start_ns
        self.end_ns = start_ns
        self.input_shapes = []
        self.input_dtypes = []
        self.stack = []
        self.cpu_parent = None
        self.cpu_children = []
        self.flops = 0
        self.self_cpu_memory_usage = 0
        self.module_hierarchy = ""
        self.sequence_nr = -1
        self._ts_base = 0
        self.args = None

    # -- times (µs) --------------------------------------------------------------------
    @property
    def key(self):
        return self.name

    @property
    def count(self):
        return 1

    @property
    def time_range(self):
        return Interval((self.start_ns - self._ts_base) / 1000.0,
                        (self.end_ns - self._ts_base) / 1000.0)

    @property
    def cpu_time_total(self):
        return (self.end_ns - self.start_ns) / 1000.0

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self):
        return self.cpu_time_total

    @property
    def cpu_memory_usage(self):
        """Bytes allocated by this range and everything inside it."""
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    # ember has no device-side timing: device columns read zero, as PyTorch's on a CPU run.
    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0.0
    device_memory_usage = self_device_memory_usage = 0
    device_type = "CPU"
    is_async = False
    is_remote = False
    is_legacy = False
    node_id = -1

    @property
    def is_user_annotation(self):
        return self.cat == "user_annotation"

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
                f"cpu_time_total={_format_time(self.cpu_time_total)} "
                f"self_cpu_time_total={_format_time(self.self_cpu_time_total)} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg:
    """Events of one key summed (``key_averages``): totals, call count and the average.

    Args:
        key: the name the events share.

    Example::

        >>> with ember.profiler.profile() as prof:
        ...     for _ in range(3):
        ...         y = ember.ones(2) * 3
        >>> avg = [a for a in prof.key_averages() if a.key == "aten::mul"][0]
        >>> avg.count, avg.cpu_time >= 0
        (3, True)
    """

    def __init__(self, key):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.flops = 0
        self.input_shapes = None
        self.stack = None
        self.cpu_parent = None
        self.is_user_annotation = False

    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0.0
    device_memory_usage = self_device_memory_usage = 0
    device_type = "CPU"
    is_async = False
    is_remote = False
    is_legacy = False
    node_id = -1

    def add(self, ev):
        """Fold ``ev`` (an event or another average) into this one."""
        if self.count == 0:
            self.input_shapes = ev.input_shapes
            self.stack = ev.stack
            self.cpu_parent = ev.cpu_parent
            self.is_user_annotation = ev.is_user_annotation
        self.count += ev.count
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.cpu_memory_usage += ev.cpu_memory_usage
        self.self_cpu_memory_usage += ev.self_cpu_memory_usage
        self.flops += ev.flops
        return self

    __iadd__ = add

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def name(self):
        return self.key

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} "
                f"self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time)} count={self.count} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of events with PyTorch's reporting methods (``table``, ``key_averages``,
    ``export_chrome_trace``, ``total_average``, ``self_cpu_time_total``).

    Args:
        *args: the events (as for ``list``).
        base_ns: the trace's start time in nanoseconds (times are reported from it).
        wall_offset_ns: wall-clock minus monotonic time, for exported traces.

    Example::

        >>> with ember.profiler.profile() as prof:
        ...     y = ember.ones(2) * 3
        >>> events = prof.events()
        >>> type(events).__name__, [e.name for e in events]
        ('EventList', ['aten::ones', 'aten::mul'])
        >>> print(events.table(sort_by="self_cpu_time_total", row_limit=1))
        -----...
        Self CPU time total: ...
    """

    def __init__(self, *args, base_ns=0, wall_offset_ns=0, **kwargs):
        super().__init__(*args, **kwargs)
        self._base_ns = base_ns
        self._wall_offset_ns = wall_offset_ns

    @property
    def self_cpu_time_total(self):
        """Sum of the self times of all events, in µs (the tables' 100%)."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):  # noqa: ARG002 - records have one name each: no overloads to tell apart
        """Average the events by name (and input shapes, and the top stack frames).

        Args:
            group_by_input_shape: bool, separate rows per input shapes (needs
                ``record_shapes=True``).
            group_by_stack_n: int, separate rows per the innermost ``n`` stack frames (needs
                ``with_stack=True``).
            group_by_overload_name: accepted for PyTorch compatibility; ember ops have no
                overloads, so it changes nothing.

        Returns:
            An ``EventList`` of ``FunctionEventAvg``.

        Example::

            >>> prof.key_averages(group_by_input_shape=True).table(row_limit=5)
        """
        groups = OrderedDict()
        for ev in self:
            k = (ev.key,)
            if group_by_input_shape:
                k += (str(ev.input_shapes),)
            if group_by_stack_n > 0:
                k += (tuple(ev.stack[:group_by_stack_n]),)
            avg = groups.get(k)
            if avg is None:
                avg = groups[k] = FunctionEventAvg(ev.key)
            avg.add(ev)
            if group_by_stack_n > 0:
                avg.stack = list(ev.stack[:group_by_stack_n])
        if not group_by_input_shape:  # as PyTorch: shapes only label rows grouped by them
            for avg in groups.values():
                avg.input_shapes = []
        out = EventList(groups.values(), base_ns=self._base_ns,
                        wall_offset_ns=self._wall_offset_ns)
        out._stack_n = group_by_stack_n
        return out

    def total_average(self):
        """All events folded into one ``FunctionEventAvg`` named "Total"."""
        total = FunctionEventAvg("Total")
        for ev in self:
            total.add(ev)
        total.key = "Total"
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events as a text table laid out like PyTorch's.

        Args:
            sort_by: attribute to sort by, descending (``"self_cpu_time_total"``,
                ``"cpu_time_total"``, ``"cpu_memory_usage"``, ``"count"``, ``"flops"``...);
                None keeps the recorded order.
            row_limit: at most this many rows (<= 0: all).
            max_src_column_width, max_name_column_width, max_shapes_column_width: caps on
                the Source Location, Name and Input Shapes column widths.
            header: a line printed above the table.
            top_level_events_only: only rows whose event has no parent range.
            time_unit: "s", "ms" or "us" for every time cell (default: per cell).

        Returns:
            The table as a string.

        Example::

            >>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
        """
        return _build_table(self, sort_by, row_limit, max_src_column_width,
                            max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only, time_unit,
                            getattr(self, "_stack_n", 0))

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path, extra=None):
        """Write the events as Chrome trace-event JSON (loads in Perfetto and
        chrome://tracing): one complete event (``"ph": "X"``) per range with ``ts``/``dur``
        in microseconds, ``pid``/``tid``, ``cat`` and ``args`` (input shapes, stack).

        Args:
            path: file to write (``.gz`` writes it gzip-compressed).
            extra: optional top-level keys to add (metadata, ``trace_id``).

        Example::

            >>> prof.export_chrome_trace("trace.json")
        """
        trace = chrome_trace(self, self._wall_offset_ns, os.fspath(path))
        if extra:
            trace.update(extra)
        data = json.dumps(trace).encode()
        if str(path).endswith(".gz"):
            import gzip

            with gzip.open(path, "wb") as f:
                f.write(data)
        else:
            with open(path, "wb") as f:
                f.write(data)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write ``frame;frame;...;op value`` lines (flame-graph input) for events with a
        recorded stack (``with_stack=True``); ``value`` is ``metric`` in µs, as an integer.

        Example::

            >>> prof.export_stacks("stacks.txt")
        """
        with open(path, "w") as f:
            for ev in self:
                if ev.stack:
                    frames = ";".join(reversed(ev.stack))
                    f.write(f"{frames};{ev.name} {int(getattr(ev, metric))}\n")


# --------------------------------------------------------------------------- formatting
def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_time_unit(us, unit):
    if unit == "s":
        return f"{us / 1e6:.3f}s"
    if unit == "ms":
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes):
    kb, mb, gb = 1024, 1024 * 1024, 1024 * 1024 * 1024
    if abs(nbytes) >= gb:
        return f"{nbytes / gb:.2f} Gb"
    if abs(nbytes) >= mb:
        return f"{nbytes / mb:.2f} Mb"
    if abs(nbytes) >= kb:
        return f"{nbytes / kb:.2f} Kb"
    return f"{nbytes} B"


_FLOP_UNITS = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]


def _flops_scale(events):
    top = max((e.flops for e in events), default=0)
    if top <= 0:
        return 1.0, _FLOP_UNITS[0]
    k = min(len(_FLOP_UNITS) - 1, max(0, int(math.floor(math.log10(top) / 3))))
    return 10.0 ** (-3 * k), _FLOP_UNITS[k]


def _build_table(events, sort_by, row_limit, max_src_w, max_name_w, max_shapes_w, header,
                 top_level_only, time_unit, stack_n):
    if len(events) == 0:
        return ""
    total_self = sum(e.self_cpu_time_total for e in events) or 1e-12
    rows = list(events)
    if sort_by is not None:
        rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
    if top_level_only:
        rows = [e for e in rows if e.cpu_parent is None]
    if row_limit is not None and row_limit > 0:
        rows = rows[:row_limit]

    has_shapes = any(e.input_shapes for e in events)
    has_mem = any(e.cpu_memory_usage or e.self_cpu_memory_usage for e in events)
    has_flops = any(e.flops for e in events)
    has_stack = stack_n > 0 and any(e.stack for e in events)
    name_w = min(max(len(e.key) for e in events) + 4, max_name_column_width_floor(max_name_w))
    shapes_w = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes_w)
    src_w = min(max((len(s) for e in events for s in (e.stack or ())), default=0) + 4,
                max_src_w)
    fmt_t = _format_time if time_unit is None else (lambda t: _format_time_unit(t, time_unit))
    scale, unit = _flops_scale(events)

    cols = [("Name", name_w), ("Self CPU %", 12), ("Self CPU", 12), ("CPU total %", 12),
            ("CPU total", 12), ("CPU time avg", 12)]
    if has_mem:
        cols += [("CPU Mem", 12), ("Self CPU Mem", 12)]
    cols.append(("# of Calls", 12))
    if has_shapes:
        cols.append(("Input Shapes", shapes_w))
    if has_stack:
        cols.append(("Source Location", src_w))
    if has_flops:
        cols.append((f"Total {unit}", 12))

    def line(cells):
        return "".join(c.rjust(w) + "  " for c, (_, w) in zip(cells, cols))

    sep = "".join("-" * w + "  " for _, w in cols)
    out = []
    if header is not None:
        out += ["=" * len(sep), header]
    out += [sep, line([c for c, _ in cols]), sep]
    for e in rows:
        name = _clip(e.key, name_w)
        cells = [name, f"{e.self_cpu_time_total / total_self * 100:.2f}%",
                 fmt_t(e.self_cpu_time_total),
                 f"{e.cpu_time_total / total_self * 100:.2f}%", fmt_t(e.cpu_time_total),
                 fmt_t(e.cpu_time)]
        if has_mem:
            cells += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        cells.append(str(e.count))
        if has_shapes:
            cells.append(_clip(str(e.input_shapes), shapes_w))
        stack = list(e.stack or ()) if has_stack else []
        if has_stack:
            cells.append(_clip(stack[0], src_w) if stack else "")
        if has_flops:
            cells.append(f"{e.flops * scale:8.3f}" if e.flops > 0 else "--")
        out.append(line(cells))
        for fr in stack[1:]:
            empty = [""] * len(cols)
            empty[[c for c, _ in cols].index("Source Location")] = _clip(fr, src_w)
            out.append(line(empty))
    out.append(sep)
    out.append(f"Self CPU time total: {fmt_t(sum(e.self_cpu_time_total for e in events))}")
    return "\n".join(out) + "\n"


def max_name_column_width_floor(w):
    # A name column narrower than its header would break the layout.
    return max(w, len("Name") + 4)


def _clip(s, w):
    return s if len(s) <= w else s[:w - 3] + "..."


# --------------------------------------------------------------------------- chrome trace
def chrome_trace(events, wall_offset_ns, trace_name=""):
    """The trace-event JSON object for ``events`` (NOTE [ Profiler events and times ]):
    ``ts`` and ``dur`` in µs on the monotonic clock, ``baseTimeNanoseconds`` its offset to
    the Unix epoch, as PyTorch's traces have."""
    pid = os.getpid()
    threads = sorted({e.thread for e in events})
    out = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "ts": 0,
            "args": {"name": "python"}},
           {"ph": "M", "name": "process_labels", "pid": pid, "tid": 0, "ts": 0,
            "args": {"labels": "CPU"}}]
    for i, t in enumerate(threads):
        out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": t, "ts": 0,
                    "args": {"name": f"thread {t} (python)"}})
        out.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": t, "ts": 0,
                    "args": {"sort_index": i}})
    for e in events:
        args = {"External id": e.id}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
            args["Input type"] = e.input_dtypes
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        if e.module_hierarchy:
            args["Module Hierarchy"] = e.module_hierarchy
        if e.args is not None:
            args["Record function args"] = e.args
        if e.sequence_nr >= 0:
            args["Sequence number"] = e.sequence_nr
        if e.flops:
            args["flops"] = e.flops
        if e.self_cpu_memory_usage:
            args["Bytes allocated"] = e.self_cpu_memory_usage
        out.append({"ph": "X", "cat": e.cat, "name": e.name, "pid": pid, "tid": e.thread,
                    "ts": round(e.start_ns / 1000.0, 3),
                    "dur": round((e.end_ns - e.start_ns) / 1000.0, 3), "args": args})
    return {"schemaVersion": 1, "deviceProperties": [], "displayTimeUnit": "ms",
            "baseTimeNanoseconds": wall_offset_ns, "traceEvents": out,
            "traceName": trace_name}
