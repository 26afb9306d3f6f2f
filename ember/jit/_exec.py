"""Guards of a replay (NOTE [ Guards ] in ``_compile.py``) and operand resolution.

Replays themselves run as generated Python (NOTE [ Runners ], ``_runner.py``): each record
goes through ``dispatch``, so a replay is an eager run of the same records — autograd,
random draws, in-place writes into the caller's tensors and modes behave as in eager.
"""

from __future__ import annotations

from ember.jit._ir import Value


class GuardFailure(Exception):
    """A value converted to Python while tracing differs on this call."""

    def __init__(self, guard, got):
        self.guard, self.got = guard, got
        super().__init__(f"{guard!r} failed (got {got!r})")


def _same(kind, expected, got):
    if kind == "numpy":
        return (got.shape == expected.shape and got.dtype == expected.dtype
                and (got == expected).all() if got.dtype.kind not in "fc" else
                got.shape == expected.shape and got.dtype == expected.dtype
                and ((got == expected) | ((got != got) & (expected != expected))).all())
    if isinstance(expected, float) and expected != expected:
        return isinstance(got, float) and got != got
    return type(got) is type(expected) and got == expected


def check_guard(g, t):
    """Evaluate guard ``g`` on tensor ``t`` without going through the conversion hooks."""
    d = t._data
    if g.kind == "bool":
        got = bool(d.reshape(())[()])
    elif g.kind == "item":
        got = d.reshape(()).item()
        if d.dtype.kind == "V":
            got = float(d.astype("float32").reshape(()))
    elif g.kind == "tolist":
        got = d.tolist()
    else:
        got = d
    if not _same(g.kind, g.expected, got):
        raise GuardFailure(g, got)


def _resolve(env, x):
    if isinstance(x, Value):
        return env[x]
    if isinstance(x, (list, tuple)) and x and any(isinstance(e, Value) for e in x):
        return type(x)(_resolve(env, e) for e in x)
    return x
