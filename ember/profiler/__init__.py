"""ember.profiler: PyTorch's ``torch.profiler`` API on ember's op collector.

``profile`` times every op record (forward and backward), ``record_function`` ranges,
optimizer steps ("Optimizer.step#SGD.step"), DataLoader waits
("enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__") and the autograd engine's
per-node ranges; results come out as PyTorch's tables (``key_averages().table(...)``) and
Chrome trace-event JSON (``export_chrome_trace``, loads in Perfetto). ``schedule`` and
``on_trace_ready`` (e.g. ``tensorboard_trace_handler``) drive long runs step by step. The
collector lives in ``ember.autograd.profiler`` (NOTE [ The profiler rides on the dispatch
spine ]): with no profiler running, ember's per-op path is unchanged.

NOTE [ Profiler steps and actions ]
``prof.step()`` moves the step counter and asks ``schedule(step)`` for a ``ProfilerAction``:
NONE (not profiling), WARMUP (ember's collector needs no warm-up, so nothing is recorded),
RECORD, RECORD_AND_SAVE (the last step of a cycle: at the next step the trace stops and
``on_trace_ready(prof)`` runs). Transitions follow PyTorch's table, including the warnings
for a schedule that goes from WARMUP or RECORD straight to NONE. With a schedule, each step
is also a range "ProfilerStep#N". Without one every step records and the trace is handed to
``on_trace_ready`` when the profiler stops.
"""

from __future__ import annotations

import enum
import os
import socket
import time
import warnings
from functools import partial

from ember.autograd.profiler import _Collector, _event_list, record_function

__all__ = ["profile", "record_function", "schedule", "ProfilerAction", "ProfilerActivity",
           "tensorboard_trace_handler", "supported_activities", "_KinetoProfile"]


class ProfilerActivity(enum.Enum):
    """The activity groups a profiler can record: ``CPU``, ``CUDA``, ``XPU``, ``HPU``, ``MTIA``,
    ``PrivateUse1``.

    ember records ``CPU`` only (every op record, forward and backward, and
    ``record_function`` ranges); asking for another warns and disables it, as PyTorch does for
    an absent device.

    Args:
        value: the member's integer value.

    Example:
        >>> from ember.profiler import ProfilerActivity, supported_activities
        >>> supported_activities() == {ProfilerActivity.CPU}
        True
    """

    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5

    def __repr__(self):
        return f"<ProfilerActivity.{self.name}: {self.value}>"


class ProfilerAction(enum.Enum):
    """What the profiler does at a step, as a ``schedule`` returns it: ``NONE`` (not recording),
    ``WARMUP`` (tracing, results dropped), ``RECORD``, ``RECORD_AND_SAVE`` (the last recorded
    step: the trace is handed to ``on_trace_ready``). NOTE [ Profiler steps and actions ].

    Args:
        value: the member's integer value.

    Example:
        >>> from ember.profiler import schedule
        >>> s = schedule(wait=1, warmup=1, active=2)
        >>> [s(step).name for step in range(4)]
        ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE']
    """

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    """The activities ember's profiler records: ``{ProfilerActivity.CPU}``.

    Returns:
        A set of ``ProfilerActivity``.

    Example:
        >>> ember.profiler.supported_activities()
        {<ProfilerActivity.CPU: 0>}
    """
    return {ProfilerActivity.CPU}


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A step -> ``ProfilerAction`` function: skip ``skip_first`` steps, then cycles of
    ``wait`` idle steps, ``warmup`` steps and ``active`` recorded steps (the last one
    RECORD_AND_SAVE), ``repeat`` times (0: until the profiler stops).

    Args:
        wait, warmup, active: steps per phase of a cycle (``active`` >= 1).
        repeat: number of cycles (0: unlimited).
        skip_first: steps to ignore before the first cycle.
        skip_first_wait: 1 drops the ``wait`` phase of the first cycle.

    Returns:
        The schedule function.

    Example:
        >>> s = ember.profiler.schedule(wait=1, warmup=1, active=2, repeat=1)
        >>> [s(i).name for i in range(5)]
        ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    for name, v in (("wait", wait), ("warmup", warmup), ("active", active),
                    ("repeat", repeat), ("skip_first", skip_first),
                    ("skip_first_wait", skip_first_wait)):
        if not isinstance(v, int) or v < 0:
            raise ValueError(f"schedule(): {name} must be a non-negative int, got {v!r}")
    if active <= 0:
        raise ValueError("Invalid profiler schedule arguments: active must be at least 1")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)

    def schedule_fn(step):
        if step < 0:
            raise ValueError(f"schedule: step must be >= 0, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _default_schedule_fn(_step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False,
                              use_python_export=False):  # noqa: ARG001 - PyTorch's choice of JSON writer; the file is the same
    """An ``on_trace_ready`` handler writing each trace to ``dir_name`` as
    ``<worker_name>.<ms>.pt.trace.json`` (``.gz`` with ``use_gzip``), the file layout the
    TensorBoard profiler plugin reads.

    Args:
        dir_name: folder for the traces (created if missing).
        worker_name: file prefix (default ``<hostname>_<pid>``).
        use_gzip: bool, compress the files.
        use_python_export: accepted for compatibility (ember's export is Python anyway).

    Returns:
        A callable for ``on_trace_ready``.

    Example:
        >>> import os
        >>> from ember.profiler import profile, schedule
        >>> with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=1),
        ...              on_trace_ready=tensorboard_trace_handler("./log", "worker0")) as prof:
        ...     for step in range(2):
        ...         loss = model(ember.randn(3, 4)).sum()
        ...         prof.step()
        >>> [name.startswith("worker0.") for name in os.listdir("./log")]
        [True]
    """

    def handler_fn(prof):
        nonlocal worker_name
        os.makedirs(dir_name, exist_ok=True)
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker_name}.{time.time_ns() // 1_000_000}.pt.trace.json"
        if use_gzip:
            name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler_fn


class _KinetoProfile:
    """The trace half of ``profile``: start and stop a collector, then read or export its events
    (PyTorch's ``torch.profiler._KinetoProfile``, which some libraries subclass).

    ``prepare_trace``/``start_trace``/``stop_trace`` drive it; ``events``, ``key_averages``,
    ``export_chrome_trace`` and ``export_stacks`` read the last trace. ``profile`` adds the
    context manager, the schedule and ``step``.

    Args:
        activities: iterable of ``ProfilerActivity`` (only CPU is recorded; default CPU).
        record_shapes: record each op's input shapes.
        profile_memory: record the bytes each op allocates.
        with_stack: record the Python stack of each op.
        with_flops: estimate FLOPs of matmul, linear, convolutions, mul and add.
        with_modules: record the nn.Module hierarchy of each op.
        experimental_config: not implemented (NotImplementedError).
        execution_trace_observer: not implemented (NotImplementedError).
        acc_events: keep the events of every trace cycle, not only the last.
        custom_trace_id_callback: called at each trace start; its result is the trace id.

    Example:
        >>> from ember.profiler import _KinetoProfile
        >>> p = _KinetoProfile()
        >>> p.prepare_trace(); p.start_trace()
        >>> y = ember.ones(2) + 1
        >>> p.stop_trace()
        >>> [e.name for e in p.events()]
        ['aten::ones', 'aten::add']
    """

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False,
                 with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 custom_trace_id_callback=None):
        acts = set(activities) if activities is not None else supported_activities()
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile(): activities must be ProfilerActivity values, got "
                                f"{a!r}")
        for a in sorted(acts - {ProfilerActivity.CPU}, key=lambda a: a.value):
            warnings.warn(f"ember's profiler records no {a.name} device activity, disabling "
                          f"{a.name} profiling (CPU ops, including those that launch device "
                          "work, are timed)", stacklevel=3)
        for name, v in (("execution_trace_observer", execution_trace_observer),
                        ("experimental_config", experimental_config)):
            if v is not None:
                raise NotImplementedError(f"profile(): {name} is not implemented in ember")
        self.activities = acts
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.experimental_config = experimental_config
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self._collector = None
        self._events = None
        self._metadata = {}
        self._trace_id = None

    def prepare_trace(self):
        pass  # NOTE [ Profiler steps and actions ]: nothing to warm up

    def start_trace(self):
        if ProfilerActivity.CPU not in self.activities:
            return
        self._collector = _Collector(self.record_shapes, self.profile_memory,
                                     self.with_stack, self.with_flops, self.with_modules)
        if self.custom_trace_id_callback is not None:
            self._trace_id = str(self.custom_trace_id_callback())
        self._collector.start()

    def stop_trace(self):
        c = self._collector
        if c is not None and c.running:
            c.stop()
            new = _event_list(c)
            if self.acc_events and self._events is not None:
                from ember.autograd.profiler_util import EventList

                new = EventList(list(self._events) + list(new), base_ns=self._events._base_ns,
                                wall_offset_ns=self._events._wall_offset_ns)
            self._events = new

    def _require_events(self):
        if self._events is None:
            from ember.autograd.profiler_util import EventList

            return EventList()
        return self._events

    def events(self):
        """The events of the last finished trace (an ``EventList``)."""
        return self._require_events()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """Events averaged by name (and input shapes, and top stack frames): an
        ``EventList`` of ``FunctionEventAvg`` with ``.table(sort_by=..., row_limit=...)``.

        Example:
            >>> print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
        """
        return self._require_events().key_averages(group_by_input_shape, group_by_stack_n,
                                                   group_by_overload_name)

    def export_chrome_trace(self, path):
        """Write the last trace as Chrome trace-event JSON (Perfetto, chrome://tracing)."""
        ev = self._require_events()
        extra = dict(self._metadata)
        if self._trace_id is not None:
            extra["trace_id"] = self._trace_id
        ev.export_chrome_trace(path, extra)

    def get_trace_id(self):
        """The id ``custom_trace_id_callback`` gave the last trace (None without one)."""
        return self._trace_id

    def set_custom_trace_id_callback(self, callback):
        """Set the callback that names each new trace (its result is the ``trace_id``)."""
        self.custom_trace_id_callback = callback

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write flame-graph stacks (needs ``with_stack=True``)."""
        self._require_events().export_stacks(path, metric)

    def add_metadata(self, key, value):
        """Add a top-level ``key: value`` (string) to exported traces."""
        self._metadata[key] = value

    def add_metadata_json(self, key, value):
        """Add a top-level ``key`` whose value is JSON text to exported traces."""
        import json

        self._metadata[key] = json.loads(value)


class profile(_KinetoProfile):
    """Profile the ops run inside the block (PyTorch's ``torch.profiler.profile``).

    Every op record (forward and backward) is timed, with its input shapes
    (``record_shapes``), output bytes (``profile_memory``), Python stack (``with_stack``),
    FLOPs for matmul/linear/convolutions/mul/add (``with_flops``) and nn.Module hierarchy
    (``with_modules``). ``schedule`` and ``on_trace_ready`` drive a training loop that calls
    ``prof.step()`` once per iteration (NOTE [ Profiler steps and actions ]).

    Args:
        activities: iterable of ``ProfilerActivity``; only CPU is recorded (others warn and
            are disabled, as PyTorch does for an absent device). Default: CPU.
        schedule: step -> ``ProfilerAction`` (see ``schedule``); default: record always.
        on_trace_ready: called with the profiler when a trace is complete.
        record_shapes, profile_memory, with_stack, with_flops, with_modules: bool options.
        use_cuda: True adds the CUDA activity (warns and is disabled, as above).
        custom_trace_id_callback: called at each trace start; its result is the trace's
            ``trace_id`` (``get_trace_id()``, and in exported traces).
        post_processing_timeout_s: accepted; ember's post-processing is one sort.
        acc_events: bool, keep the events of every trace cycle, not only the last.
        experimental_config, execution_trace_observer: not implemented
            (NotImplementedError).

    Example:
        >>> from ember.profiler import profile, ProfilerActivity, record_function
        >>> inputs = ember.randn(3, 4)
        >>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        ...     with record_function("model_inference"):
        ...         out = model(inputs)
        >>> [e.key for e in prof.key_averages()]
        ['model_inference', 'aten::linear']
        >>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=2))
        -----...
        Self CPU time total: ...
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None,
                 execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):  # noqa: ARG002 - no post-processing step to time out
        if use_cuda:
            activities = set(activities or supported_activities()) | {ProfilerActivity.CUDA}
        super().__init__(activities=activities, record_shapes=record_shapes,
                         profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, with_modules=with_modules,
                         experimental_config=experimental_config,
                         execution_trace_observer=execution_trace_observer,
                         acc_events=acc_events,
                         custom_trace_id_callback=custom_trace_id_callback)
        if schedule is not None:
            self.schedule = schedule
            self.record_steps = True
        else:
            self.schedule = _default_schedule_fn
            self.record_steps = False
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.step_rec_fn = None
        A = ProfilerAction
        warn = warnings.warn
        self.action_map = {
            (A.NONE, A.NONE): [],
            (A.NONE, A.WARMUP): [self.prepare_trace],
            (A.NONE, A.RECORD): [self.prepare_trace, self.start_trace],
            (A.NONE, A.RECORD_AND_SAVE): [self.prepare_trace, self.start_trace],
            (A.WARMUP, A.NONE): [partial(warn, "Incorrect schedule: WARMUP followed by NONE"),
                                 self.start_trace, self.stop_trace],
            (A.WARMUP, A.WARMUP): [],
            (A.WARMUP, A.RECORD): [self.start_trace],
            (A.WARMUP, A.RECORD_AND_SAVE): [self.start_trace],
            (A.RECORD, A.NONE): [partial(warn, "Incorrect schedule: RECORD followed by NONE"),
                                 self.stop_trace],
            (A.RECORD, A.WARMUP): [partial(warn, "Incorrect schedule: RECORD followed by "
                                           "WARMUP"), self.stop_trace],
            (A.RECORD, A.RECORD): [],
            (A.RECORD, A.RECORD_AND_SAVE): [],
            (A.RECORD_AND_SAVE, A.NONE): [self.stop_trace, self._trace_ready],
            (A.RECORD_AND_SAVE, A.WARMUP): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace],
            (A.RECORD_AND_SAVE, A.RECORD): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace, self.start_trace],
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): [self.stop_trace, self._trace_ready,
                                                     self.prepare_trace, self.start_trace],
            (A.WARMUP, None): [self.start_trace, self.stop_trace],
            (A.RECORD, None): [self.stop_trace, self._trace_ready],
            (A.RECORD_AND_SAVE, None): [self.stop_trace, self._trace_ready],
            (A.NONE, None): [],
        }

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        """Begin profiling (what entering the ``with`` block does)."""
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self):
        """End profiling; a trace in progress is finished and handed to ``on_trace_ready``."""
        if self.record_steps and self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self):
        """Signal the end of one training step to the schedule."""
        if self.record_steps and self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(prev, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _trace_ready(self):
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _transit_action(self, prev, cur):
        for fn in self.action_map.get((prev, cur), []):
            fn()
