"""CUDA graphs: capture a step's kernels once, replay them with one launch (``torch.cuda``'s
``CUDAGraph``, ``graph``, ``make_graphed_callables``).

NOTE [ CUDA graphs on CuPy ]
``CUDAGraph.capture_begin`` starts CuPy's stream capture (``Stream.begin_capture``) on the
current stream, which must not be the legacy default stream (the ``graph`` context manager
supplies a side stream, as PyTorch's does); ``capture_end`` ends it and keeps the
instantiated ``cupy.cuda.Graph``; ``replay`` launches it on the current stream. A capture
runs no kernel: it records each one with the device addresses of its arguments, so

- inputs must live in *static* tensors allocated before the capture; new data is copied
  into them (``static_x.copy_(x)``) before each ``replay``, and results are read from the
  tensors the captured code returned (static outputs), whose contents are undefined until
  the first replay. ember's in-place ops and optimizer steps keep a tensor's device array,
  so parameters, gradients and optimizer state captured this way are updated in place by
  every replay;
- memory allocated during the capture must not be handed to anyone else while the graph
  lives: the backend's allocator hook keeps every block allocated during a capture alive
  until ``reset`` (or the graph is freed), PyTorch's "private pool" (sharing a pool between
  graphs, the ``pool`` argument, is accepted and not used: each graph keeps its own). When
  CuPy's pool must grow during a capture it calls cudaMalloc, which a "global" or
  "thread_local" capture forbids; as PyTorch's allocator does, the hook relaxes the
  thread's capture mode around that call (the driver's
  ``cuThreadExchangeStreamCaptureMode``), so the mode asked for governs the user's code;
- nothing in the captured code may synchronise with the host (``.item()``, ``bool(t)``,
  printing, ``.cpu()``) or copy from pageable host memory: CUDA invalidates the capture,
  and ember reports the error with the ending of the capture. ember draws random numbers on
  the host (NOTE [ The CUDA backend ]), so random ops (dropout, ``randn``) cannot be
  captured; nor can a ``GradScaler`` step (it reads its inf flags on the host). Python
  values (a learning rate, Adam's step count) are baked into the kernels' arguments at
  capture: SGD replays correctly, while Adam-type optimizers, whose bias correction uses the
  host step count, belong outside the graph (PyTorch requires ``capturable=True`` for
  them, which ember's optimizers do not implement).

Warm up before capturing (run the step a few times on a side stream): the first run
compiles CuPy's kernels and allocates optimizer state, neither of which may happen during a
capture. ``make_graphed_callables`` does this for you.
"""

from __future__ import annotations

import gc

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing",
           "make_graphed_callables"]

# the graph being captured (one at a time per process, as CUDA's global capture mode)
_CAPTURING = [None]


def _cp():
    from ember import cuda

    return cuda._need("CUDAGraph").cp


def is_current_stream_capturing() -> bool:
    """Whether CUDA graph capture is under way on the current stream.

    Returns:
        bool (False without CUDA).

    Example::

        >>> ember.cuda.is_current_stream_capturing()
        False
    """
    from ember import cuda

    if not cuda.is_available():
        return False
    return bool(_cp().cuda.get_current_stream().is_capturing())


def graph_pool_handle():
    """A token naming a memory pool that graphs may share (accepted by ``pool=``; each ember
    graph keeps its own memory, NOTE [ CUDA graphs on CuPy ]).

    Returns:
        An opaque tuple.

    Example::

        >>> isinstance(ember.cuda.graph_pool_handle(), tuple)
        True
    """
    return ("ember_graph_pool", id(object()))


_MODES = {"global": "streamCaptureModeGlobal", "thread_local": "streamCaptureModeThreadLocal",
          "relaxed": "streamCaptureModeRelaxed"}


class CUDAGraph:
    """A captured sequence of CUDA work, replayed with one launch (PyTorch's ``CUDAGraph``).

    Args:
        keep_graph: accepted for PyTorch's signature; the instantiated graph is always kept.

    Example::

        >>> if ember.cuda.is_available():
        ...     g = ember.cuda.CUDAGraph()
        ...     x = ember.zeros(4, device="cuda")
        ...     with ember.cuda.graph(g):
        ...         y = x * 2 + 1
        ...     x.copy_(ember.arange(4.0, device="cuda"))
        ...     g.replay()
        ...     assert y.cpu().tolist() == [1.0, 3.0, 5.0, 7.0]
    """

    def __init__(self, keep_graph: bool = False):  # noqa: ARG002 - always kept here
        self._graph = None
        self._stream = None
        self._memory = []

    def capture_begin(self, pool=None, capture_error_mode: str = "global") -> None:  # noqa: ARG002 - NOTE [ CUDA graphs on CuPy ]: pools are not shared
        """Start capturing the work queued on the current stream.

        Args:
            pool: a pool token (``graph_pool_handle()`` or another graph's ``pool()``);
                accepted, each graph keeps its own memory.
            capture_error_mode: "global" (default), "thread_local" or "relaxed" (CUDA's
                ``cudaStreamCaptureMode``).
        """
        cp = _cp()
        if capture_error_mode not in _MODES:
            raise ValueError(f"capture_begin: capture_error_mode must be one of "
                             f"{sorted(_MODES)}, got {capture_error_mode!r}")
        if self._graph is not None:
            raise RuntimeError("This CUDAGraph instance already owns a captured graph. To "
                               "capture a new graph, create a new instance or call reset().")
        if _CAPTURING[0] is not None:
            raise RuntimeError("capture_begin: another CUDA graph is being captured")
        s = cp.cuda.get_current_stream()
        if s.ptr == 0:
            raise RuntimeError("CUDA graphs must be captured on a non-default stream. (However, "
                               "after capture, it's ok to replay them on the default stream.)")
        from ember._backends import cupy_backend

        mode = getattr(cp.cuda.runtime, _MODES[capture_error_mode])
        self._stream = s
        cupy_backend._STATE["capture_keep"] = self._memory
        _CAPTURING[0] = self
        try:
            s.begin_capture(mode)
        except Exception:
            cupy_backend._STATE["capture_keep"] = None
            _CAPTURING[0] = None
            raise

    def capture_end(self) -> None:
        """End the capture begun by :meth:`capture_begin` and keep the graph."""
        from ember._backends import cupy_backend

        if _CAPTURING[0] is not self:
            raise RuntimeError("capture_end: this graph is not being captured")
        try:
            self._graph = self._stream.end_capture()
        finally:
            cupy_backend._STATE["capture_keep"] = None
            _CAPTURING[0] = None

    def replay(self) -> None:
        """Launch the captured work on the current stream."""
        if self._graph is None:
            raise RuntimeError("CUDAGraph.replay: the graph has not been captured (call "
                               "capture_begin/capture_end or use ember.cuda.graph)")
        self._graph.launch()

    def reset(self) -> None:
        """Drop the captured graph and the memory it kept."""
        self._graph = None
        self._memory = []

    def pool(self):
        """A token for this graph's memory (accepted by another capture's ``pool=``)."""
        return ("ember_graph_pool", id(self))

    def enable_debug_mode(self) -> None:
        """Not supported (CuPy does not expose graph debug dumps)."""
        raise NotImplementedError("CUDAGraph.enable_debug_mode: CuPy exposes no graph "
                                  "debug dump")

    def debug_dump(self, debug_path) -> None:
        """Not supported (CuPy does not expose graph debug dumps)."""
        raise NotImplementedError(f"CUDAGraph.debug_dump({debug_path!r}): CuPy exposes no "
                                  "graph debug dump")


class graph:  # noqa: N801 - PyTorch's name
    """Capture the block's CUDA work into ``cuda_graph`` on a side stream.

    Synchronises the device and collects garbage first (as PyTorch), captures on ``stream``
    (default: one side stream shared by all ``graph`` blocks), and ends the capture on exit,
    also when the block raised (the half-captured graph is discarded).

    Args:
        cuda_graph: the :class:`CUDAGraph` to fill.
        pool: a pool token (accepted, not shared: NOTE [ CUDA graphs on CuPy ]).
        stream: the ``ember.cuda.Stream`` to capture on.
        capture_error_mode: "global" (default), "thread_local" or "relaxed".

    Example::

        >>> if ember.cuda.is_available():
        ...     g = ember.cuda.CUDAGraph()
        ...     x = ember.ones(3, device="cuda")
        ...     with ember.cuda.graph(g):
        ...         y = x.exp()
        ...     g.replay()
    """

    default_capture_stream = None

    def __init__(self, cuda_graph, pool=None, stream=None,
                 capture_error_mode: str = "global"):
        from ember import cuda

        if stream is None:
            if graph.default_capture_stream is None:
                graph.default_capture_stream = cuda.Stream()
            stream = graph.default_capture_stream
        self.cuda_graph = cuda_graph
        self.pool = pool
        self.capture_stream = stream
        self.capture_error_mode = capture_error_mode
        self._ctx = cuda.stream(stream)

    def __enter__(self):
        from ember import cuda

        cuda.synchronize()
        gc.collect()
        self._ctx.__enter__()
        try:
            self.cuda_graph.capture_begin(self.pool, self.capture_error_mode)
        except BaseException:
            self._ctx.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.cuda_graph.capture_end()
        except Exception:
            if exc_type is None:
                raise
        finally:
            self._ctx.__exit__(exc_type, exc, tb)
        if exc_type is not None:
            self.cuda_graph.reset()  # half a capture: discarded, the block's error reported
        return False


def _flat_tensors(obj):
    from ember._tensor import Tensor

    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _flat_tensors(o)]
    raise TypeError(f"make_graphed_callables: outputs must be tensors or (nested) tuples "
                    f"of tensors, got {type(obj).__name__}")


def _rebuild(obj, it):
    from ember._tensor import Tensor

    if isinstance(obj, Tensor):
        return next(it)
    return type(obj)(_rebuild(o, it) for o in obj)


def _graphed(fn, sample_args, num_warmup_iters, allow_unused_input, pool):
    import ember
    from ember import cuda
    from ember.nn import Module

    params = tuple(p for p in fn.parameters() if p.requires_grad) if isinstance(fn, Module) \
        else ()
    if isinstance(fn, Module) and (getattr(fn, "_forward_hooks", None) or
                                   getattr(fn, "_forward_pre_hooks", None)):
        raise RuntimeError("Modules must not have hooks registered at the time they are "
                           "passed. However, registering hooks on modules after passing them "
                           "through make_graphed_callables is allowed.")
    for a in sample_args:
        if not isinstance(a, ember.Tensor):
            raise TypeError("make_graphed_callables: sample_args must be tensors")
        if a.requires_grad and a.grad_fn is not None:
            raise RuntimeError("In CUDA graph capture, sample_args must be leaves (detached)")
    static_in = tuple(sample_args)
    diff_in = tuple(a for a in static_in if a.requires_grad) + params

    def grads(outs, gouts):
        pairs = [(o, g) for o, g in zip(outs, gouts, strict=True) if o.requires_grad]
        if not pairs or not diff_in:
            return tuple(None for _ in diff_in)
        return ember.autograd.grad([o for o, _ in pairs], diff_in,
                                   grad_outputs=[g for _, g in pairs],
                                   allow_unused=allow_unused_input)

    side = cuda.Stream()
    side.wait_stream(cuda.current_stream())
    with cuda.stream(side):  # warm up: kernels compiled, memory pools primed
        for _ in range(num_warmup_iters):
            outs = _flat_tensors(fn(*static_in))
            grads(outs, [ember.ones_like(o) for o in outs])
        del outs
    cuda.current_stream().wait_stream(side)

    fwd, bwd = CUDAGraph(), CUDAGraph()
    with graph(fwd, pool=pool):
        out_struct = fn(*static_in)
    static_out = _flat_tensors(out_struct)
    static_gout = [ember.empty_like(o) if o.requires_grad else None for o in static_out]
    with graph(bwd, pool=fwd.pool()):
        static_gin = grads(static_out, static_gout)
    n_user = sum(1 for a in static_in if a.requires_grad)

    class Graphed(ember.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):  # noqa: ARG004 - autograd.Function protocol
            for s, x in zip(static_in, inputs[:len(static_in)], strict=True):
                if s is not x:
                    s.copy_(x)
            fwd.replay()
            return tuple(o.detach() for o in static_out)

        @staticmethod
        def backward(ctx, *gouts):  # noqa: ARG004 - autograd.Function protocol
            for s, g in zip(static_gout, gouts, strict=True):
                if s is not None:
                    if g is None:
                        s.zero_()
                    else:
                        s.copy_(g)
            bwd.replay()
            gin = [None if g is None else g.detach() for g in static_gin]
            it = iter(gin[:n_user])
            res = [next(it) if a.requires_grad else None for a in static_in]
            return tuple(res + gin[n_user:])

    def run(*args):
        if len(args) != len(static_in):
            raise TypeError(f"graphed callable: expected {len(static_in)} arguments (the "
                            f"sample_args), got {len(args)}")
        for s, a in zip(static_in, args, strict=True):
            if a.shape != s.shape or a.dtype != s.dtype or a.device != s.device:
                raise RuntimeError(f"graphed callable: argument of shape {tuple(a.shape)}, "
                                   f"{a.dtype}, {a.device} differs from the sample's "
                                   f"{tuple(s.shape)}, {s.dtype}, {s.device}")
        outs = Graphed.apply(*args, *params)
        return _rebuild(out_struct, iter(outs))

    return run


def make_graphed_callables(callables, sample_args, num_warmup_iters: int = 3,
                           allow_unused_input: bool = False, pool=None):
    """Graphed versions of callables: forward and backward each replay one CUDA graph.

    Each callable (a function or an ``nn.Module``) is warmed up, then its forward and its
    backward (gradients of its outputs with respect to the sample arguments that require
    grad and the module's parameters) are captured. The returned callable copies its
    arguments into the static inputs, replays the forward graph and returns the static
    outputs through an autograd function whose backward replays the backward graph. A
    module's ``forward`` is replaced (PyTorch's behaviour); arguments must match the samples'
    shapes, dtypes and devices.

    Args:
        callables: a callable or a tuple of them.
        sample_args: a tuple of tensors (or a tuple of such tuples, one per callable).
        num_warmup_iters: eager iterations before capture (default 3).
        allow_unused_input: allow inputs that do not reach the outputs (their gradient is
            None).
        pool: a pool token (accepted, not shared: NOTE [ CUDA graphs on CuPy ]).

    Returns:
        The graphed callable, or a tuple of them.

    Example::

        >>> if ember.cuda.is_available():
        ...     lin = ember.nn.Linear(4, 2).cuda()
        ...     x = ember.randn(8, 4, device="cuda", requires_grad=True)
        ...     glin = ember.cuda.make_graphed_callables(lin, (x,))
        ...     glin(ember.randn(8, 4, device="cuda")).sum().backward()
    """
    from ember.nn import Module

    single = not isinstance(callables, tuple)
    fns = (callables,) if single else callables
    samples = (sample_args,) if single else sample_args
    if len(fns) != len(samples):
        raise ValueError("make_graphed_callables: one tuple of sample_args per callable")
    out = []
    for fn, args in zip(fns, samples, strict=True):
        g = _graphed(fn, tuple(args), num_warmup_iters, allow_unused_input, pool)
        if isinstance(fn, Module):
            fn.forward = g
            g = fn
        out.append(g)
    return out[0] if single else tuple(out)
