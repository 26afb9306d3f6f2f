"""The backward engine: dependency counting over the recorded graph, no recursion.

Gradients flowing into a node are checked against the node's output metadata (shape and
dtype, recorded at forward time): a broadcast input's gradient is summed back to its shape
and a promoted one cast back to its dtype here, once, so backward formulas never deal with
broadcasting (NOTE [ Edges ] in ember/_graph.py).
"""

from __future__ import annotations

import sys

from numpy import ndarray as _ndarray

from ember._graph import FREED, GRAD, Node
from ember._tensor import Tensor
from ember.autograd import anomaly_mode as _anomaly
from ember.autograd.graph import _WATCH
from ember.autograd.profiler import _ACTIVE as _PROFILING
from ember.autograd.profiler import _engine_node



def _sum_to(g, shape):
    """Reduce ``g`` to ``shape`` by summing broadcast dimensions."""
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    if lead < 0:
        return g.reshape(shape)
    dims = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and gs[lead + i] != 1:
            dims.append(lead + i)
    if dims:
        g = g.sum(dims, keepdim=True)
    if lead:
        g = g.reshape(shape)
    elif g._data.shape != shape:
        g = g.reshape(shape)
    return g


def _fit(g, shape, dtype):
    if g._data.shape != shape:
        try:
            g = _sum_to(g, shape)
        except Exception:
            raise RuntimeError(f"Function backward returned an invalid gradient: got shape "
                               f"{list(g.shape)}, expected {list(shape)}") from None
    if g._data.dtype is not dtype:
        if dtype.kind not in "fcV":
            return None
        if g._data.dtype.kind == "c" and dtype.kind != "c":
            g = g.real  # a real input's gradient is the real part (PyTorch's convention)
        g = g.to(_np_to_dtype(dtype)) if GRAD.enabled else Tensor._wrap(g._data.astype(dtype))
    return g


def _np_to_dtype(d):
    from ember._dtype import FROM_NP

    return FROM_NP[d]


# NOTE [ End-of-backward callbacks ]
# ``queue_callback(fn)`` (PyTorch: ``Variable._execution_engine.queue_callback``) runs ``fn``
# once the backward pass that is running finishes, after every gradient was accumulated:
# DistributedDataParallel waits for its gradient all-reduces there. One list per
# run_backward call (a stack, for backward passes started inside hooks); callbacks may queue
# more callbacks. They are dropped, not run, when the backward pass raises.
_CALLBACKS = []


def queue_callback(fn):
    """Run ``fn()`` when the current backward pass finishes (PyTorch's
    ``Variable._execution_engine.queue_callback``; DDP waits for its all-reduces this way).

    Args:
        fn: a function of no arguments.

    Returns:
        None; RuntimeError when no backward pass is running.

    Example:
        >>> from ember.autograd.engine import queue_callback
        >>> done = []
        >>> w = ember.ones(2, requires_grad=True)
        >>> h = w.register_hook(lambda g: queue_callback(lambda: done.append("end")))
        >>> (w * 2).sum().backward()
        >>> done
        ['end']
    """
    if not _CALLBACKS:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _CALLBACKS[-1].append(fn)


class _ExecutionEngine:
    """The object PyTorch exposes as ``Variable._execution_engine``."""

    queue_callback = staticmethod(queue_callback)


execution_engine = _ExecutionEngine()


def run_backward(roots, grads, retain_graph, create_graph, inputs=None, allow_unused=False,
                 accumulate=True):
    """Backpropagate ``grads`` from ``roots``, then run queued end-of-backward callbacks:
    the engine entry under ``Tensor.backward``, ``autograd.backward`` and ``autograd.grad``.

    Args:
        roots: the output tensors to start from.
        grads: their incoming gradients (one per root).
        retain_graph: keep the saved tensors for another backward pass.
        create_graph: record the backward computation, for higher-order gradients.
        inputs: the tensors to compute gradients for (None: every leaf).
        allow_unused: return None for ``inputs`` the roots do not depend on (error
            otherwise).
        accumulate: add into ``.grad`` (``backward``); False returns the gradients of
            ``inputs`` instead (``autograd.grad``).

    Returns:
        A list of the gradients of ``inputs`` when not ``accumulate``, else None.

    Example:
        >>> from ember.autograd.engine import run_backward
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> run_backward([y], [ember.tensor(1.0)], False, False, inputs=[x], accumulate=False)
        [tensor([2., 4.])]
    """
    if _WATCH:  # set_graph_growth_warning(True): one list test per backward when off
        _WATCH[0](roots)
    mine = []
    _CALLBACKS.append(mine)
    try:
        out = _run_backward(roots, grads, retain_graph, create_graph, inputs, allow_unused,
                            accumulate)
        while mine:
            mine.pop(0)()
    finally:
        _CALLBACKS.pop()
    return out


def _run_backward(roots, grads, retain_graph, create_graph, inputs=None, allow_unused=False,
                  accumulate=True):
    """Backpropagate ``grads`` from ``roots``.

    With ``accumulate``, gradients of leaves (or of ``inputs`` when given) are accumulated
    into ``.grad``; otherwise the gradients w.r.t. ``inputs`` are returned (autograd.grad).
    """
    # --- targets for grad()/backward(inputs=...): leaves by identity, non-leaves by edge.
    captured = None
    target_of = None
    if inputs is not None:
        target_of = {}
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise TypeError("inputs to autograd.grad must be Tensors")
            if not t._requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not "
                                   "require grad")
            g = t._grad_fn
            key = id(t) if g is None else (id(g[0]), g[1]) if g.__class__ is tuple else (id(g), 0)
            target_of.setdefault(key, []).append(i)
        captured = [None] * len(inputs)

    # --- discover the graph and count dependencies (iterative DFS, no recursion).
    buffers = {}
    deps = {}
    root_nodes = []
    for r, g in zip(roots, grads):
        e = r._grad_fn
        if e is None:
            if not r._requires_grad:
                raise RuntimeError("element 0 of tensors does not require grad and does not "
                                   "have a grad_fn")
            _deliver_leaf(r, g, create_graph, target_of, captured)
            continue
        node, nr = (e if e.__class__ is tuple else (e, 0))
        _add_buffer(buffers, node, nr, g)
        if node not in deps:
            deps[node] = 0
            root_nodes.append(node)
    stack = list(root_nodes)
    _Node = Node
    # NOTE [ One accumulation per leaf ]: a leaf reached by several edges (w * w, a shared
    # weight) gets the sum of its contributions in one accumulation, as PyTorch's
    # AccumulateGrad does, so its tensor hooks and post-accumulate hooks run once per backward
    # on the full gradient. leaf_deps counts edges per leaf; partial sums wait in leaf_buf.
    # Only leaves met more than once get an entry in leaf_deps (the usual graph has none),
    # so delivery costs one truthiness test per leaf.
    seen_leaves = set()
    leaf_deps = {}
    while stack:
        for e in stack.pop().next:
            c = e.__class__
            if c.__base__ is not _Node:  # a grad_fn class (NOTE [ Edges ])
                if c is tuple:
                    e = e[0]
                else:
                    if e is not None:  # a leaf tensor
                        k = id(e)
                        if k in seen_leaves:
                            leaf_deps[k] = leaf_deps.get(k, 1) + 1
                        else:
                            seen_leaves.add(k)
                    continue
            d = deps.get(e)
            if d is None:
                deps[e] = 1
                stack.append(e)
            else:
                deps[e] = d + 1

    leaf_buf = {}
    ready = [n for n in root_nodes if deps[n] == 0]
    # Anomaly mode or a running profiler: each node's backward goes through _slow_bwd (one
    # local test per node otherwise; NOTE [ Anomaly mode rides on a dispatch mode ]).
    slow = _anomaly.STATE[0] or bool(_PROFILING)
    prev = GRAD.enabled
    GRAD.enabled = bool(create_graph)
    _Node, _Tensor = Node, Tensor
    try:
        while ready:
            node = ready.pop()
            g = buffers.pop(node)
            op = node.op
            multi = op.multi
            # tensor hooks and retain_grad registered on this node's outputs
            if node.pre_hooks:
                g = _run_pre_hooks(node, g, multi)
            if target_of is not None:
                _capture_nonleaf(node, g, multi, target_of, captured)
            if multi:
                like = next((gg for gg in g if gg is not None), None)
                g = [gg if gg is not None else _zeros(node.shape[i], node.dtype[i], like)
                     for i, gg in enumerate(g)]
            if op.bwd is None:
                raise RuntimeError(f"the derivative for '{op.name}' is not implemented")
            grads_in = _slow_bwd(node, g) if slow else op.bwd(node, g)
            if node.hooks:
                for h in node.hooks:
                    r = h(grads_in, (g,) if not multi else tuple(g))
                    if r is not None:
                        grads_in = tuple(r)
            if not retain_graph:
                if node.saved is not None:
                    node.saved = FREED
                if node.out is not None:
                    node.out = FREED
            nxt = node.next
            if len(grads_in) != len(nxt):
                raise RuntimeError(f"function {op.node_name} returned an incorrect number of "
                                   f"gradients (expected {len(nxt)}, got {len(grads_in)})")
            for e, gi in zip(nxt, grads_in):
                if e is None:
                    continue
                if gi is None:
                    if e.__class__ is tuple or e.__class__.__base__ is _Node:
                        _no_gradient(e, deps, buffers, ready)
                    continue
                if gi.__class__ is not _Tensor and not isinstance(gi, _Tensor):
                    raise TypeError(f"{op.node_name} returned a {type(gi).__name__} as a "
                                    "gradient; expected a Tensor or None")
                c = e.__class__
                if c.__base__ is _Node:
                    gd = gi._data
                    if gd.shape != e.shape or gd.dtype is not e.dtype:
                        gi = _fit(gi, e.shape, e.dtype)
                        if gi is None:
                            continue
                    prev_g = buffers.get(e)
                    buffers[e] = gi if prev_g is None else (
                        prev_g + gi if prev_g._data.__class__ is gi._data.__class__
                        else _add_grads(prev_g, gi))
                    d = deps[e] - 1
                    deps[e] = d
                    if d == 0:
                        ready.append(e)
                elif c is tuple:
                    n2, nr = e
                    shape, dtype = n2.shape[nr], n2.dtype[nr]
                    if gi._data.shape != shape or gi._data.dtype is not dtype:
                        gi = _fit(gi, shape, dtype)
                        if gi is None:
                            continue
                    _add_buffer(buffers, n2, nr, gi, True)
                    d = deps[n2] - 1
                    deps[n2] = d
                    if d == 0:
                        ready.append(n2)
                else:
                    ed = e._data
                    if gi._data.shape != ed.shape or gi._data.dtype is not ed.dtype:
                        gi = _fit(gi, ed.shape, ed.dtype)
                        if gi is None:
                            continue
                    if leaf_deps:
                        k = id(e)
                        n = leaf_deps.get(k, 1)
                        if n > 1:
                            leaf_deps[k] = n - 1
                            pend = leaf_buf.get(k)
                            leaf_buf[k] = (e, gi if pend is None else _add_grads(pend[1], gi))
                            continue
                        pend = leaf_buf.pop(k, None)
                        if pend is not None:
                            gi = _add_grads(pend[1], gi)
                    _deliver_leaf(e, gi, create_graph, target_of, captured)
        # Leaves some of whose edges carried no gradient (None) get what did arrive.
        for e, gi in leaf_buf.values():
            _deliver_leaf(e, gi, create_graph, target_of, captured)
    finally:
        GRAD.enabled = prev

    if captured is not None:
        for i, t in enumerate(inputs):
            if accumulate:
                if captured[i] is not None:
                    _accumulate(t, captured[i], create_graph)
            elif captured[i] is None and not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
    return captured


def _no_gradient(e, deps, buffers, ready):
    """A formula returned None for an input with a node: the edge still counts as delivered,
    so a node fed by several edges runs once the others arrive; a node none of whose edges
    carried a gradient passes "no gradient" on to its own inputs without running (PyTorch's
    undefined gradients). Without this count the node would never become ready and the
    gradients of its other consumers would be lost."""
    stack = [e[0] if e.__class__ is tuple else e]
    while stack:
        n = stack.pop()
        d = deps[n] - 1
        deps[n] = d
        if d:
            continue
        if n in buffers:
            ready.append(n)
            continue
        for e2 in n.next:
            if e2.__class__ is tuple:
                stack.append(e2[0])
            elif e2 is not None and e2.__class__.__base__ is Node:
                stack.append(e2)


def _slow_bwd(node, g):
    """One node's backward under anomaly mode (NaN check, forward traceback on errors)
    and/or inside the profiler's engine ranges."""
    if not _anomaly.STATE[0]:
        return _engine_node(node, g)
    cur = _anomaly.CURRENT
    prev = cur[0]
    cur[0] = node  # nodes made by this formula (create_graph) remember their parent
    try:
        grads = _engine_node(node, g) if _PROFILING else node.op.bwd(node, g)
        if _anomaly.STATE[1]:
            _anomaly.check_nan(node, grads)
        return grads
    except Exception as e:
        _anomaly.annotate(node, e)
        raise
    finally:
        cur[0] = prev


def _zeros(shape, dtype, like=None):
    """Zeros standing in for an output's missing gradient, on the device of ``like``."""
    import numpy as np

    from ember._backends import xp_of

    xp = xp_of(like._data) if like is not None else np
    return Tensor._wrap(xp.zeros(shape, dtype))


def _add_buffer(buffers, node, nr, g, multi=None):
    if multi is None:
        multi = node.op.multi
    if not multi:
        prev = buffers.get(node)
        buffers[node] = g if prev is None else _add_grads(prev, g)
        return
    lst = buffers.get(node)
    if lst is None:
        lst = buffers[node] = [None] * len(node.shape)
    lst[nr] = g if lst[nr] is None else _add_grads(lst[nr], g)


def _run_pre_hooks(node, g, multi):
    hooks = node.pre_hooks
    if not multi:
        for fn in list(hooks.get(0, ())):
            r = fn(g)
            if r is not None:
                g = r
        return g
    g = list(g)
    for nr, fns in hooks.items():
        if nr >= 0 and g[nr] is not None:
            for fn in list(fns):
                r = fn(g[nr])
                if r is not None:
                    g[nr] = r
    return g


def _capture_nonleaf(node, g, multi, target_of, captured):
    if multi:
        for nr, gg in enumerate(g):
            idx = target_of.get((id(node), nr))
            if idx is not None:
                for i in idx:
                    captured[i] = gg
    else:
        idx = target_of.get((id(node), 0))
        if idx is not None:
            for i in idx:
                captured[i] = g


def _deliver_leaf(t, g, create_graph, target_of, captured):
    hooks = t._meta_get("hooks") if t._meta is not None else None
    if hooks:
        for fn in list(hooks):
            r = fn(g)
            if r is not None:
                g = r
    if target_of is not None:
        idx = target_of.get(id(t))
        if idx is not None:
            for i in idx:
                captured[i] = g if captured[i] is None else _add_grads(captured[i], g)
        # grad() never touches .grad; backward(inputs=...) accumulates only into the
        # listed inputs, which run_backward does once at the end.
        return
    _accumulate(t, g, create_graph)


_refcount = sys.getrefcount
_OWNED = 0  # refs to a gradient nobody else holds, as seen from _accumulate: see _calibrate


def _accumulate(t, g, create_graph):
    if g._data.shape != t._data.shape:
        g = _sum_to(g, t._data.shape)
    if g._data.dtype is not t._data.dtype:
        g = Tensor._wrap(g._data.astype(t._data.dtype))
    cur = t._grad
    if cur is None:
        # The gradient may alias another tensor (add's backward hands the same g to both
        # inputs; a user's grad_output; a view): copy it unless nothing else can see it.
        # Reference counts: the caller's frame, our argument and getrefcount's own.
        if create_graph:
            t._grad = g
        elif (g._base is None and g._data.base is None and _refcount(g) <= _OWNED
              and _refcount(g._data) <= 2):
            t._grad = g
        else:
            t._grad = Tensor._wrap(g._data.copy())
    elif create_graph or cur._requires_grad:
        t._grad = _add_grads(cur, g)
    elif cur._data.__class__ is not _ndarray and g._data.__class__ is _ndarray:
        t._grad = g + cur  # a sparse .grad meets a dense gradient: the sum is dense
    else:
        # dense += dense; dense += sparse scatters in place; sparse += sparse appends the
        # entries (NOTE [ Sparse COO tensors ] in ember/_sparse.py: AccumulateGrad's rules)
        cur._data += g._data
        cur._bump()
    hooks = t._meta_get("post_accumulate_hooks") if t._meta is not None else None
    if hooks:
        for fn in list(hooks):
            fn(t)


def _add_grads(a, b):
    """Two gradients of one value summed; a dense operand goes first, since PyTorch's
    ``add(sparse, dense)`` is refused (NOTE [ Sparse COO tensors ] in ember/_sparse.py)."""
    if a._data.__class__ is not _ndarray and b._data.__class__ is _ndarray:
        return b + a
    return a + b


def _calibrate():
    """Measure how many references an unaliased gradient has when it reaches _accumulate.

    The count depends on the interpreter (frames, zip's reused result tuple), so it is
    measured once here rather than hard-coded; a gradient held anywhere else (twice in one
    backward's result, by the user, by a view) has more and is copied.
    """
    global _refcount, _OWNED
    import numpy as np

    seen = []

    def spy(obj):
        n = sys.getrefcount(obj) - 1  # as getrefcount would report it inside _accumulate
        seen.append(n)
        return n

    _refcount = spy
    prev = GRAD.enabled
    GRAD.enabled = True
    try:
        x = Tensor._wrap(np.ones(2)).requires_grad_()
        y = x * 2.0
        run_backward((y,), (Tensor._wrap(np.ones(2)),), False, False)
    finally:
        GRAD.enabled = prev
        _refcount = sys.getrefcount
    _OWNED = seen[0] if seen else 0
