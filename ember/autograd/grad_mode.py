"""Grad-mode context managers, usable as decorators too (PyTorch semantics)."""

from __future__ import annotations

import functools
import inspect

from ember._graph import GRAD


class _Mode:
    """Base: a context manager that sets grad mode and restores it; also a decorator."""

    def __call__(self, fn):
        if inspect.isclass(fn):
            raise TypeError("grad-mode decorators apply to functions, not classes")
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with self.__class__(*self._args()):
                    resp = gen.send(None)
                while True:
                    try:
                        with self.__class__(*self._args()):
                            sent = yield resp
                        with self.__class__(*self._args()):
                            resp = gen.send(sent)
                    except StopIteration as e:
                        return e.value

            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_Mode):
    """Disable graph recording inside the block."""

    def __init__(self, orig_func=None):
        self.prev = True
        if orig_func is not None:  # used as @no_grad without parentheses
            self._wrapped = self(orig_func)

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            self.__init__()
            return self(orig_func)
        return self

    def __enter__(self):
        self.prev = GRAD.enabled
        GRAD.enabled = False

    def __exit__(self, *exc):
        GRAD.enabled = self.prev


class enable_grad(_Mode):
    """Enable graph recording inside the block (e.g. within a ``no_grad`` region)."""

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func):
            return self(orig_func)
        return self

    def __init__(self, orig_func=None):  # noqa: ARG002 - the decorator form is handled by __new__
        self.prev = True

    def __enter__(self):
        self.prev = GRAD.enabled
        GRAD.enabled = True

    def __exit__(self, *exc):
        GRAD.enabled = self.prev


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``; takes effect immediately (like PyTorch) and as a context."""

    def __init__(self, mode):
        self.prev = GRAD.enabled
        self.mode = bool(mode)
        GRAD.enabled = self.mode

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        GRAD.enabled = self.prev

    def __call__(self, fn):
        GRAD.enabled = self.prev
        return super().__call__(fn)


class inference_mode(_Mode):
    """Like ``no_grad`` (ember has no separate inference tensors; the speed is the same)."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__()
            return self(mode)
        return self

    def __init__(self, mode=True):
        self.mode = bool(mode) if not callable(mode) else True
        self.prev = (True, False)

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        self.prev = (GRAD.enabled, GRAD.inference)
        if self.mode:
            GRAD.enabled = False
            GRAD.inference = True

    def __exit__(self, *exc):
        GRAD.enabled, GRAD.inference = self.prev


def is_grad_enabled():
    return GRAD.enabled


def is_inference_mode_enabled():
    return GRAD.inference
