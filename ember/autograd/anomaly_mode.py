"""Anomaly detection for autograd: forward tracebacks on graph nodes and NaN checks.

NOTE [ Anomaly mode rides on a dispatch mode ]
With anomaly mode on, a ``DispatchMode`` (``_AnomalyMode``) sits on the dispatch spine and,
after each record runs, looks at its outputs: when a new graph node appeared, it keeps the
Python stack of that call (``traceback.extract_stack``) in a weak table keyed by the node.
So the per-op path of ember pays nothing while anomaly mode is off (the dispatch spine
already tests its mode list on every op) and no graph node carries an extra slot. The
backward engine reads one module-level flag per backward pass; when it is set, it checks
each node's gradients for NaN (``check_nan``) and, when a backward formula fails, warns with
the forward traceback of the node ("Error detected in MulBackward0. Traceback of forward
call that caused the error: ...") and adds a note naming the forward op and its creating
line to the exception, as PyTorch does. Nodes created while a backward formula runs
(``create_graph=True``) remember the node whose backward created them, so an error in
double backward shows both tracebacks.

As in PyTorch, only NaN is an anomaly: an infinite gradient is not reported (it usually
becomes NaN one node later, where the check catches it). Custom ``Function`` nodes do not
pass through dispatch: ``Function.apply`` tests the flag and keeps their traceback itself.
The ``CopySlices`` nodes of in-place writes into views carry none; their errors are
reported without one.
"""

from __future__ import annotations

import os
import warnings
import weakref

from ember._graph import Node
from ember._ops.core import DispatchMode

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]

# [enabled, check_nan]: read by the engine once per backward pass.
STATE = [False, True]
# node -> (forward stack, node whose backward created it or None)
_TRACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The node whose backward formula is running (set by the engine while anomaly mode is on).
CURRENT: list = [None]

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Frames of the dispatch machinery, dropped from the end of a recorded stack: what is left
# ends at the line that called the op (the user's line, or a library layer such as nn).
_CORE = tuple(os.path.join(_EMBER_DIR, p) for p in (
    "_ops" + os.sep, "_tensor.py", "_graph.py", "autograd" + os.sep, "__init__.py",
    "_backends" + os.sep, "overrides.py"))


class _AnomalyMode(DispatchMode):
    """Keeps the forward stack of every node that a dispatched record creates."""

    def __ember_dispatch__(self, op, inputs, params, run):
        before = _nodes_of(inputs, None)
        out = run(inputs, params)
        for n in _nodes_of(out, before):
            if n not in _TRACES:
                _TRACES[n] = (_user_stack(stack_here(1)), CURRENT[0])
        return out


def note_trace(node):
    """Keep the current stack as ``node``'s forward traceback (for nodes made outside
    dispatch, e.g. by a custom ``Function``)."""
    if node not in _TRACES:
        _TRACES[node] = (_user_stack(stack_here(1)), CURRENT[0])


def stack_here(skip=0):
    """The caller's stack, outermost frame first (``traceback.extract_stack``'s order),
    without reading source lines now: they are read when the trace is printed."""
    import sys
    import traceback  # here, not at import: `import ember` stays lighter

    st = traceback.StackSummary.extract(traceback.walk_stack(sys._getframe(skip + 1)),
                                        lookup_lines=False)
    st.reverse()
    return st


def _nodes_of(out, exclude):
    """The graph nodes that ``out`` (a tensor, or a tuple/list of them) points at."""
    res = []
    items = out if isinstance(out, (tuple, list)) else (out,)
    for t in items:
        e = getattr(t, "_grad_fn", None)
        if e is None:
            continue
        if e.__class__ is tuple:
            e = e[0]
        if isinstance(e, Node) and (exclude is None or e not in exclude):
            res.append(e)
    return res


def _generated(filename):
    # Code ember generates at run time (argument-checking wrappers) is compiled under names
    # like "<checked zeros>"; the user's own "<stdin>"/"<string>"/IPython cells are not.
    return (filename.startswith("<") and filename not in ("<stdin>", "<string>")
            and not filename.startswith("<ipython"))


def is_internal(filename):
    """Whether a frame's ``filename`` belongs to ember (its files or generated wrappers)."""
    return filename.startswith(_EMBER_DIR + os.sep) or _generated(filename)


def _user_stack(stack):
    """``stack`` without the trailing frames of ember's dispatch machinery."""
    end = len(stack)
    while end > 1 and (stack[end - 1].filename.startswith(_CORE)
                       or _generated(stack[end - 1].filename)):
        end -= 1
    return stack[:end]


def user_line(stack):
    """The innermost frame of ``stack`` outside the ember package (the user's line)."""
    for fr in reversed(stack):
        if not is_internal(fr.filename):
            return fr
    return stack[-1] if stack else None


_MODE = _AnomalyMode()


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off (PyTorch's ``torch.set_anomaly_enabled``).

    Args:
        enabled: bool, whether graph nodes keep their forward traceback and backward errors
            report it.
        check_nan: bool, whether backward checks every node's gradients for NaN.

    Example:
        >>> ember.autograd.anomaly_mode.set_anomaly_enabled(True)
        >>> ember.autograd.is_anomaly_enabled()
        True
    """
    for name, v in (("enabled", enabled), ("check_nan", check_nan)):
        if not isinstance(v, bool):
            pos = 1 if name == "enabled" else 2
            raise TypeError(f"set_anomaly_enabled(): argument '{name}' (position {pos}) must be "
                            f"bool, not {type(v).__name__}")
    from ember._ops import core

    on = _MODE in core.MODES
    if enabled and not on:
        core.MODES.insert(0, _MODE)  # outermost: other modes' own records are traced too
    elif not enabled and on:
        core.MODES.remove(_MODE)
    STATE[0] = enabled
    STATE[1] = check_nan


def is_anomaly_enabled():
    """Whether anomaly detection is on.

    Example:
        >>> ember.autograd.is_anomaly_enabled()
        False
    """
    return STATE[0]


def is_anomaly_check_nan_enabled():
    """Whether anomaly detection checks backward gradients for NaN (default True).

    Example:
        >>> ember.autograd.is_anomaly_check_nan_enabled()
        True
    """
    return STATE[1]


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on inside its block.

    While it is on, every graph node remembers the Python stack that created it; a backward
    formula that returns NaN raises ``RuntimeError: Function 'MulBackward0' returned nan
    values in its 0th output.`` and a warning shows the forward traceback of that node (the
    user's line). It slows every op down: use it for debugging only (it warns so, as
    PyTorch does).

    Args:
        check_nan: bool, whether to check backward gradients for NaN (default True).

    Example:
        >>> x = ember.zeros(1, requires_grad=True)
        >>> try:
        ...     with ember.autograd.detect_anomaly():
        ...         y = x.sqrt() * 0                  # the user's line, shown on error
        ...         y.sum().backward()
        ... except RuntimeError as e:
        ...     print(e)
        Function 'SqrtBackward0' returned nan values in its 0th output.
    """

    def __init__(self, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev, prev_nan = is_anomaly_enabled(), is_anomaly_check_nan_enabled()
            set_anomaly_enabled(True, self.check_nan)
            try:
                return fn(*args, **kwargs)
            finally:
                set_anomaly_enabled(prev, prev_nan)

        return wrapper


class set_detect_anomaly:
    """Set anomaly detection on or off; usable as a function call or a context manager.

    Called as a function it sets the mode until changed again; as a context manager it
    restores the previous setting at exit.

    Args:
        mode: bool, turn anomaly detection on (True) or off (False).
        check_nan: bool, whether to check backward gradients for NaN (default True).

    Example:
        >>> _ = ember.autograd.set_detect_anomaly(True)
        >>> ember.is_anomaly_enabled()
        True
        >>> _ = ember.autograd.set_detect_anomaly(False)
        >>> with ember.autograd.set_detect_anomaly(True, check_nan=False):
        ...     pass
    """

    def __init__(self, mode, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False

    def __call__(self, fn):
        import functools

        mode, check_nan = STATE[0], STATE[1]
        set_anomaly_enabled(self.prev, self.prev_check_nan)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_detect_anomaly(mode, check_nan):
                return fn(*args, **kwargs)

        return wrapper


# --------------------------------------------------------------------------- engine side
def _format(stack):
    import traceback

    return "".join(traceback.format_list(stack)).rstrip("\n")


def forward_trace(node):
    """The text PyTorch prints for a failing node: its forward traceback (and, for nodes
    made by a backward formula, the traceback of the node whose backward made them)."""
    entry = _TRACES.get(node)
    name = type(node).__name__
    if entry is None:
        return (f"Error detected in {name}. No forward pass information available. Enable "
                "detect anomaly during forward pass for more information.")
    stack, parent = entry
    text = f"Error detected in {name}. Traceback of forward call that caused the error:\n"
    text += _format(stack)
    seen = {id(node)}
    while parent is not None and id(parent) not in seen:
        seen.add(id(parent))
        pe = _TRACES.get(parent)
        text += (f"\n\nPrevious calculation was induced by {type(parent).__name__}. Traceback "
                 "of forward call that induced the previous calculation:\n")
        if pe is None:
            text += "  (no forward pass information)"
            break
        text += _format(pe[0])
        parent = pe[1]
    return text


def annotate(node, exc):
    """Warn with ``node``'s forward traceback and add a note naming the forward op and the
    user's line to ``exc`` (called by the engine when a backward formula fails)."""
    warnings.warn(forward_trace(node), UserWarning, stacklevel=_outside_ember())
    entry = _TRACES.get(node)
    note = f"(anomaly mode) the failing node {type(node).__name__} was created by the " \
           f"forward op '{node.op.name}'"
    if entry is not None:
        fr = user_line(entry[0])
        if fr is not None:
            note += f" at {fr.filename}:{fr.lineno} ({fr.line})"
    if hasattr(exc, "add_note"):
        exc.add_note(note)


def _outside_ember():
    """The ``stacklevel`` that points a warning at the first caller outside ember."""
    import sys

    level, f = 1, sys._getframe(1)
    while f is not None and is_internal(f.f_code.co_filename):
        level += 1
        f = f.f_back
    return level


def check_nan(node, grads):
    """Raise PyTorch's error when a gradient ``node``'s backward returned holds NaN."""
    from ember._backends import xp_of

    for i, g in enumerate(grads):
        if g is None:
            continue
        d = getattr(g, "_data", None)
        if d is None or d.dtype.kind not in "fc":
            continue
        xp = xp_of(d)
        if bool(xp.isnan(d).any()):
            raise RuntimeError(f"Function '{type(node).__name__}' returned nan values in its "
                               f"{i}th output.")
