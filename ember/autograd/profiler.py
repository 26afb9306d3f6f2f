"""The op profiler core: ``record_function`` ranges and the collector behind ``profile``.

NOTE [ The profiler rides on the dispatch spine ]
A running profiler is a ``DispatchMode`` (``_Collector``): it sees every record that
dispatch runs, forward and backward, and times it (``time.perf_counter_ns`` before and
after ``run``), so nothing on the per-op path changes while no profiler runs (the spine
already tests its mode list on every op). Named ranges (``record_function``, the
optimizer's "Optimizer.step#SGD.step", the DataLoader's
"enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", the engine's
"autograd::engine::evaluate_function: MulBackward0") test the module-level list
``_ACTIVE`` first and do nothing when it is empty. Record names map to PyTorch's ATen
names (``aten::add``; ``_ATEN`` lists the ones spelled differently); ranges nest per thread.
``ember.profiler.profile`` (schedules, trace handlers) builds on this module, as
``torch.profiler`` builds on ``torch.autograd.profiler``.
"""

from __future__ import annotations

import contextlib
import threading
import time

from ember._ops.core import MODES, DispatchMode

__all__ = ["profile", "record_function"]

_ACTIVE: list = []  # collectors recording now; empty means every range is a no-op

# Record names whose PyTorch op is spelled differently (the rest are aten::<record name>).
_ATEN = {"to_copy": "_to_copy", "to_copy_nondiff": "_to_copy", "to_device": "_to_copy",
         "select_view": "select", "cross_entropy": "cross_entropy_loss", "max_dim": "max",
         "clamp_tensor": "clamp", "normal_tensor": "normal", "bernoulli_tensor_": "bernoulli_",
         "index_put": "index_put_", "take_axis": "index_select", "copy_slices": "copy_",
         "native_dropout": "native_dropout", "max_pool": "max_pool2d",
         "avg_pool": "avg_pool2d"}
_NAMES: dict = {}


def aten_name(op):
    """PyTorch's profiler name for record ``op`` (``aten::mm``)."""
    n = _NAMES.get(op.name)
    if n is None:
        n = _NAMES[op.name] = "aten::" + _ATEN.get(op.name, op.name)
    return n


def __getattr__(name):
    if name in ("EventList", "FunctionEvent", "FunctionEventAvg"):
        from ember.autograd import profiler_util

        return getattr(profiler_util, name)
    raise AttributeError(f"module 'ember.autograd.profiler' has no attribute '{name}'")


# --------------------------------------------------------------------------- the collector
class _Collector(DispatchMode):
    """Collects timed events while installed (NOTE [ The profiler rides on the dispatch
    spine ])."""

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False):
        from ember.autograd.profiler_util import FunctionEvent

        self._Event = FunctionEvent
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.events = []
        self._stacks = {}
        self._next_id = 0
        self.base_ns = 0
        self.wall_offset_ns = 0
        self.running = False

    def start(self):
        self.base_ns = time.perf_counter_ns()
        self.wall_offset_ns = time.time_ns() - self.base_ns
        self.running = True
        MODES.append(self)
        _ACTIVE.append(self)

    def stop(self):
        self.running = False
        for lst in (MODES, _ACTIVE):
            for i in range(len(lst) - 1, -1, -1):
                if lst[i] is self:
                    del lst[i]
                    break
        end = time.perf_counter_ns()
        for st in self._stacks.values():  # ranges still open end now
            for ev in st:
                ev.end_ns = end
            st.clear()

    # -- ranges ------------------------------------------------------------------------
    def open(self, name, cat):
        tid = threading.get_ident()
        st = self._stacks.get(tid)
        if st is None:
            st = self._stacks[tid] = []
        ev = self._Event(self._next_id, name, cat, tid, 0)
        self._next_id += 1
        ev._ts_base = self.base_ns
        if st:
            parent = st[-1]
            ev.cpu_parent = parent
            parent.cpu_children.append(ev)
        st.append(ev)
        self.events.append(ev)
        if self.with_stack:
            ev.stack = _python_stack()
        if self.with_modules:
            ev.module_hierarchy = _module_hierarchy()
        ev.start_ns = time.perf_counter_ns()
        return ev

    def close(self, ev):
        ev.end_ns = time.perf_counter_ns()
        st = self._stacks.get(ev.thread)
        if st:
            if st[-1] is ev:
                st.pop()
            elif ev in st:  # ranges closed out of order: close what was opened inside
                while st and st.pop() is not ev:
                    pass

    # -- ops ---------------------------------------------------------------------------
    def __ember_dispatch__(self, op, inputs, params, run):
        ev = self.open(aten_name(op), "cpu_op")
        if self.record_shapes:
            ev.input_shapes = [list(t.shape) if hasattr(t, "_data") else
                               [len(t)] if isinstance(t, (list, tuple)) else []
                               for t in inputs]
            ev.input_dtypes = [str(t.dtype).replace("ember.", "") if hasattr(t, "_data")
                               else "TensorList" if isinstance(t, (list, tuple))
                               else "Scalar" for t in inputs]
            ev.start_ns = time.perf_counter_ns()
        try:
            out = run(inputs, params)
        finally:
            self.close(ev)
        if self.profile_memory:
            ev.self_cpu_memory_usage = _allocated(op, inputs, out)
        if self.with_flops:
            ev.flops = flops_of(op, inputs, params, out)
        return out


def _python_stack():
    """The Python stack of the current op, innermost first, without ember's dispatch
    frames, as PyTorch's ``with_stack`` entries (``file.py(12): fn``)."""
    from ember.autograd.anomaly_mode import _user_stack, stack_here

    frames = _user_stack(stack_here(3))
    return [f"{fr.filename}({fr.lineno}): {fr.name}" for fr in reversed(frames)]


def _module_hierarchy():
    """Dotted class names of the nn.Modules whose ``forward`` is on the stack (outermost
    first), e.g. ``Net.Sequential.Linear``."""
    import sys

    names = []
    f = sys._getframe(2)
    while f is not None:
        if f.f_code.co_name == "forward":
            obj = f.f_locals.get("self")
            if obj is not None and any(c.__name__ == "Module" and
                                       c.__module__.startswith("ember.nn")
                                       for c in type(obj).__mro__):
                names.append(type(obj).__name__)
        f = f.f_back
    return ".".join(reversed(names))


def _allocated(op, inputs, out):
    """Bytes of the outputs that ``op`` allocated (views and in-place writes: none)."""
    if op.view or op.mutates:
        return 0
    items = out if isinstance(out, (tuple, list)) else (out,)
    ins = {id(getattr(t, "_data", None)) for t in inputs}
    n = 0
    for t in items:
        d = getattr(t, "_data", None)
        if d is not None and id(d) not in ins:
            n += int(d.nbytes)
    return n


def _numel(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def flops_of(op, inputs, params, out):  # noqa: ARG001 - the collector's (op, inputs, params, out) call; counts come from shapes
    """Floating-point operations of one record, as PyTorch's profiler counts them (2 per
    multiply-add for matmul, linear and convolutions; one per element for mul and add);
    0 for records it does not count."""
    name = op.name
    try:
        if name in ("matmul", "linear", "convolution", "convolution_transpose"):
            a, w = inputs[0], inputs[1]
            o = out[0] if isinstance(out, tuple) else out
            if name == "matmul":
                return 2 * _numel(o.shape) * (a.shape[-1] if a.dim() else 1)
            if name == "linear":
                return 2 * _numel(o.shape) * w.shape[-1]
            if name == "convolution":
                return 2 * _numel(o.shape) * _numel(w.shape[1:])
            return 2 * _numel(a.shape) * _numel(w.shape[1:])
        if name in ("mul", "add"):
            o = out[0] if isinstance(out, tuple) else out
            return _numel(o.shape)
    except (AttributeError, IndexError, TypeError):
        return 0
    return 0


# --------------------------------------------------------------------------- ranges
class record_function(contextlib.ContextDecorator):
    """Label a block of code (or a function, as a decorator) as a named range in the
    profiler's results; does nothing while no profiler runs.

    Args:
        name: the range's name (shown in tables and traces).
        args: optional string, exported with the range (the trace's "Record function
            args").

    Example:
        >>> with ember.profiler.profile() as prof:
        ...     with ember.profiler.record_function("model_inference"):
        ...         out = model(ember.randn(3, 4))
        >>> [e.key for e in prof.key_averages()][0]
        'model_inference'
    """

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._open = None

    def _recreate_cm(self):
        # As a decorator, each call (recursive ones too) gets its own range.
        return type(self)(self.name, self.args)

    def __enter__(self):
        if _ACTIVE:
            self._open = [(c, c.open(self.name, "user_annotation")) for c in _ACTIVE]
            if self.args is not None:
                for _, ev in self._open:
                    ev.args = self.args
        return self

    def __exit__(self, *exc):
        opened = self._open
        if opened:
            self._open = None
            for c, ev in opened:
                c.close(ev)
        return False


class _OpRange(record_function):
    """A range shown as an op (``cat`` "cpu_op"), as PyTorch shows the engine's ranges."""

    def __enter__(self):
        if _ACTIVE:
            self._open = [(c, c.open(self.name, "cpu_op")) for c in _ACTIVE]
        return self


# --------------------------------------------------------------------------- legacy API
class profile:
    """The autograd profiler (PyTorch's ``torch.autograd.profiler.profile``): times every
    op inside the block; results through ``key_averages()``, ``table()``,
    ``function_events`` and ``export_chrome_trace``.

    Args:
        enabled: bool, False makes the block a no-op.
        use_cuda, use_device: device timing is not available in ember; True (or a device
            other than "cpu") raises NotImplementedError.
        record_shapes: bool, keep each op's input shapes.
        with_flops: bool, estimate FLOPs of matmul, linear, convolutions, mul and add.
        profile_memory: bool, bytes allocated per op.
        with_stack: bool, keep the Python stack of each op.
        with_modules: bool, keep the nn.Module hierarchy of each op.
        use_kineto: bool; ember has one collector, which both settings use.
        use_cpu: must stay True (there is nothing else to profile: NotImplementedError).
        post_processing_timeout_s: accepted; ember's post-processing is one sort, well
            within any limit.
        experimental_config, custom_trace_id_callback, activity_filters, acc_events=True:
            not implemented (NotImplementedError).

    Example:
        >>> with ember.autograd.profiler.profile(record_shapes=True) as prof:
        ...     y = x @ w
        >>> print(prof.key_averages().table(sort_by="self_cpu_time_total"))
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,  # noqa: ARG002 - Kineto is PyTorch's tracer; ember has one collector either way
                 custom_trace_id_callback=None, post_processing_timeout_s=None,  # noqa: ARG002 - no post-processing step to time out
                 activity_filters=None):
        if use_cuda or (use_device not in (None, "cpu")):
            raise NotImplementedError("profile(): device timing (use_cuda/use_device) is not "
                                      "implemented in ember; its profiler times CPU ops only")
        if not use_cpu:
            raise NotImplementedError("profile(): use_cpu=False leaves nothing to profile in "
                                      "ember (it has no device activity)")
        for name, v in (("activity_filters", activity_filters),
                        ("experimental_config", experimental_config),
                        ("custom_trace_id_callback", custom_trace_id_callback),
                        ("acc_events", acc_events or None)):
            if v is not None and v != {}:
                raise NotImplementedError(f"profile(): {name} is not implemented in ember's "
                                          "autograd profiler")
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self._collector = None
        self._events = None
        self.entered = False

    def _new_collector(self):
        return _Collector(self.record_shapes, self.profile_memory, self.with_stack,
                          self.with_flops, self.with_modules)

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._collector = self._new_collector()
        self._collector.start()
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return False
        self._collector.stop()
        self._events = _event_list(self._collector)
        return False

    def _check_finished(self):
        if self._events is None:
            raise RuntimeError("Profiler didn't finish running")

    @property
    def function_events(self):
        """All recorded events (an ``EventList``)."""
        self._check_finished()
        return self._events

    def events(self):
        return self.function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """Events averaged by name (see ``EventList.key_averages``)."""
        self._check_finished()
        return self._events.key_averages(group_by_input_shape, group_by_stack_n,
                                         group_by_overload_name)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events' table (see ``EventList.table``)."""
        self._check_finished()
        return self._events.table(sort_by, row_limit, max_src_column_width,
                                  max_name_column_width, max_shapes_column_width, header,
                                  top_level_events_only, time_unit)

    def export_chrome_trace(self, path):
        """Write the Chrome trace-event JSON (see ``EventList.export_chrome_trace``)."""
        self._check_finished()
        self._events.export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        self._check_finished()
        self._events.export_stacks(path, metric)

    def total_average(self):
        self._check_finished()
        return self._events.total_average()

    @property
    def self_cpu_time_total(self):
        self._check_finished()
        return self._events.self_cpu_time_total

    def __str__(self):
        return self.table() if self._events is not None else "<unfinished profile>"


def _event_list(collector):
    from ember.autograd.profiler_util import EventList

    evs = sorted(collector.events, key=lambda e: (e.start_ns, e.id))
    return EventList(evs, base_ns=collector.base_ns, wall_offset_ns=collector.wall_offset_ns)


def _engine_node(node, g):
    """Run one node's backward inside PyTorch's two engine ranges (profiler running)."""
    name = type(node).__name__
    with _OpRange("autograd::engine::evaluate_function: " + name):
        with _OpRange(name):
            return node.op.bwd(node, g)
