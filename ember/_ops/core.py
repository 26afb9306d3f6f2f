"""The op pattern: OpDef records, the apply paths that run them, and variant generation.

NOTE [ The op pattern ]
An op is one ``OpDef``: an array-level forward (raw backend arrays in, raw array out), a
backward formula written in ember ops (so it is itself differentiable when
``create_graph=True``), and metadata (what to save, differentiability, dtype rule, view or
not, ONNX name, fusibility). Families build their OpDefs with one call each:

    unary("tanh", np.tanh, lambda g, x, y: g * (1 - y * y), save="y", onnx="Tanh")

``unary``/``binary`` also generate the public function, the Tensor method, the in-place
method (``tanh_``) and the ``out=`` keyword from that one record and register them in
``FUNCTIONS``/``METHODS``; ``ember/__init__.py`` and the Tensor class are filled from those
tables. Ops with richer signatures (reductions, shape ops, indexing) write a small public
wrapper that normalises arguments and calls ``apply(op, inputs, params)``; the wrapper is
registered with ``@register``.

NOTE [ The dispatch spine ]
Every op call reaches its record through one door, ``dispatch(op, inputs, params)``
(``apply`` is the same function): it tests one flag for active interception modes, then runs
``op.impl`` — for generic records ``_run``: take the raw arrays, pick the path from their
class (NumPy arrays run straight; any other backend's arrays go through ``_run_foreign``,
which checks that all inputs live on one device and takes that backend's route, e.g. the
``meta`` device's shape inference), call the record's forward, wrap the outputs in one place
(``make_tensor``) and record an autograd node when an input requires grad. The unary/binary
families keep their own inlined copy of that sequence (the per-op hot path, measured in
benchmarks/overhead.py) but test the same flag first and publish ``impl`` so that modes and
the generic path run them the same way. With a mode installed, ``_intercept`` hands the mode
the record, its inputs and its params, and a ``run`` callable for the rest of the chain
(the mode is disabled while its own handler runs, as PyTorch's dispatch modes are).
"""

from __future__ import annotations

import numpy as np

from ember import _dtype as D
from ember._graph import _MSG_FREED, FREED, GRAD, node_class, save_inputs, save_output
from ember._backends import _BY_TYPE as _BACKEND_TYPES
from ember._backends import xp_of
from ember._ops.args import checked
from ember._tensor import Tensor, _new, make_tensor

_ndarray = np.ndarray
_asarray = np.asarray
_FROM_NP = D.FROM_NP

FUNCTIONS: dict = {}  # public name -> callable, exported as ember.<name>
METHODS: dict = {}  # method name -> callable, attached to Tensor
OPS: dict = {}  # op name -> OpDef


class OpDef:
    """One op: forward on raw arrays, backward in ember ops, metadata.

    Metadata a compiler, exporter or interception mode can read:
      ``attrs``          names of the non-tensor arguments (``params``), in the order the
                         forward takes them; ``node.attrs`` maps them to values
      ``kind``           "elementwise", "reduction", "view" or "opaque"
      ``mutates``        indices of the inputs the op writes in place
      ``random``         the op draws from a generator (its state is an input of the record)
      ``data_dependent`` the output's shape depends on the input's values (nonzero, unique)
      ``expr``           for elementwise ops, a scalar expression over ``a``/``b`` for codegen
    """

    __slots__ = ("name", "fwd", "bwd", "save_x", "save_y", "differentiable", "view", "multi",
                 "node_name", "onnx", "fusible", "dtype_rule", "doc", "attrs", "kind",
                 "mutates", "random", "data_dependent", "expr", "shape_rule", "impl",
                 "node_cls", "save_idx", "public", "save_out", "node_pick")

    def __init__(self, name, fwd=None, bwd=None, *, save="", differentiable=True, view=False,
                 multi=False, onnx=None, fusible=False, dtype_rule="same", node_name=None,
                 doc=None, attrs=(), kind=None, mutates=(), random=False, data_dependent=False,
                 expr=None, shape_rule=None, public=0, save_out=None, node_names=None):
        self.name = name
        self.fwd = fwd
        self.bwd = bwd
        # save: "x" (all inputs), "y" (the output), "xy", or a tuple of input positions
        # (positions past the end of a call's inputs are skipped: optional inputs)
        self.save_idx = tuple(save) if isinstance(save, tuple) else None
        self.save_x = self.save_idx is not None or "x" in save
        self.save_y = self.save_idx is None and "y" in save
        # public=k: a multi record whose outputs past the first k are forward-time state
        # for its backward (NOTE [ Forward state as outputs ]): dispatch keeps them on the
        # node and returns outputs[0] (k == 1) or outputs[:k]
        self.public = public
        # save_out=k: a multi record keeps its output k (not output 0) for backward, as
        # PyTorch's MaxBackward0 keeps the indices; read back with ``ctx.output``
        self.save_out = save_out
        self.differentiable = differentiable
        self.view = view
        self.multi = multi
        self.onnx = onnx
        self.fusible = fusible
        self.dtype_rule = dtype_rule
        self.doc = doc
        self.attrs = tuple(attrs)
        self.kind = kind or ("elementwise" if fusible else "view" if view else "opaque")
        self.mutates = tuple(mutates)
        self.random = random
        self.data_dependent = data_dependent
        self.expr = expr
        self.shape_rule = shape_rule
        self.impl = _run  # how dispatch runs it once modes are done (families override)
        self.node_name = node_name or (
            "".join(p.capitalize() for p in name.strip("_").split("_")) + "Backward0")
        self.node_cls = node_class(self.node_name)
        # node_names(params) -> name: one record serving several PyTorch overloads (amax and
        # amin) names its node after the overload its attributes say was called; looked up
        # only when a node is recorded (NOTE [ Node names ] in _graph.py)
        self.node_pick = None if node_names is None else (
            lambda params: node_class(node_names(params)))
        OPS[name] = self

    def named(self, params):
        """The record's attributes as a dict ``{name: value}`` (positional names ``argN``
        for attributes the record has not named)."""
        if params is None:
            return {}
        if not isinstance(params, tuple):
            params = (params,)
        names = self.attrs
        return {(names[i] if i < len(names) else f"arg{i}"): v for i, v in enumerate(params)}

    def grad(self, bwd):
        """Decorator: attach the backward formula ``bwd(ctx, grad) -> tuple of grads``."""
        self.bwd = bwd
        return bwd

    def backward(self, node, g):
        if self.bwd is None:
            raise RuntimeError(f"the derivative for '{self.name}' is not implemented")
        return self.bwd(node, g)

    def __repr__(self):
        return f"<op {self.name}>"

    def __call__(self, *inputs, **attrs):
        """Run the record directly: ``op(*tensors, **named attrs)`` (modes see it too)."""
        return dispatch(self, inputs, self.unnamed(attrs))

    def unnamed(self, attrs):
        """The positional params tuple for ``attrs`` as ``named`` gives them."""
        if not attrs:
            return ()
        names = self.attrs
        keys = [names[i] if i < len(names) else f"arg{i}" for i in range(len(attrs))]
        try:
            return tuple(attrs[k] for k in keys)
        except KeyError as e:
            raise TypeError(f"{self.name}(): unknown or missing attribute {e} (expected "
                            f"{keys})") from None


def op(name, **meta):
    """Decorator form: ``@op("sum") def sum_fwd(x, axes, keepdim): ...``; then
    ``@sum_fwd.grad def _(ctx, g): ...`` attaches the formula next to it."""

    def deco(fwd):
        return OpDef(name, fwd, **meta)

    return deco


def register(fn=None, *, name=None, method=True, function=True, inplace=False):
    """Publish a wrapper as ``ember.<name>`` and/or ``Tensor.<name>``; ``inplace=True`` also
    generates ``Tensor.<name>_`` via the generic in-place path."""

    def deco(f):
        n = name or f.__name__
        pub = checked(f, n)  # NOTE [ Argument checks by parameter name ] (args.py)
        if function:
            FUNCTIONS[n] = pub
        if method:
            METHODS[n] = pub
        if inplace:
            METHODS[n + "_"] = make_inplace(pub, n + "_")
        return f

    return deco(fn) if fn is not None else deco


# --------------------------------------------------------------------------- lazy libraries
class LazyModule:
    """A library module (layer 3, e.g. ``ember.linalg``) imported on first attribute use, so
    ops that publish its functions under top-level names keep ``import ember`` light."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        import importlib

        mod = importlib.import_module(self._name)
        return getattr(mod, attr)


def forward_to(lazy, attr, name):
    """A function named ``name`` that calls ``lazy.<attr>`` (resolved at call time)."""

    def f(*args, **kwargs):
        return getattr(lazy, attr)(*args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``torch.{name}``: see ``{lazy._name}.{attr}``."
    return f


# --------------------------------------------------------------------------- wrapping
def as_array(data):
    """A forward's result as a backend array: NumPy scalars and Python values become 0-d
    NumPy arrays; arrays of a registered backend (NumPy, meta, ...) pass unchanged."""
    if data.__class__ in _BACKEND_TYPES:
        return data
    return _asarray(data)


def wrap(data):
    """Raw array -> Tensor (no grad). Keep NumPy 0-d results as arrays, not scalars."""
    if data.__class__ is not _ndarray:
        data = as_array(data)
    return make_tensor(data)


def _edge(t):
    if t._base is not None:
        refresh_view(t)
    g = t._grad_fn
    if g is not None:
        return g
    return t if t._requires_grad else None


def record(op, y, inputs, params=None):
    """Attach a graph node for ``op`` to output ``y`` (all inputs are Tensors)."""
    n = _new(op.node_cls if op.node_pick is None else op.node_pick(params))
    n.op = op
    n.next = tuple([_edge(t) for t in inputs])
    n.params = params
    if op.save_x:
        idx = op.save_idx
        save_inputs(n, inputs if idx is None else
                    tuple([inputs[i] for i in idx if i < len(inputs)]))
    else:
        n.saved = None
        n.versions = None
    n.out = None
    if op.save_y:
        save_output(n, y)
    d = y._data
    n.shape = d.shape
    n.dtype = d.dtype
    n.pre_hooks = None
    n.hooks = None
    y._grad_fn = n
    y._requires_grad = True
    return n


def emit(op, data, inputs, params=None):
    """Wrap the forward result of ``op`` and record it if any input requires grad.

    Callers that computed ``data`` themselves (records whose forward is still inline) pass
    through here; active modes see them through ``_intercept`` as well.
    """
    if MODES:
        return _intercept(op, inputs, params, precomputed=(data,))
    return _emit(op, data, inputs, params)


def _emit(op, data, inputs, params):
    if data.__class__ is not _ndarray:
        data = as_array(data)
    y = _new(Tensor)  # make_tensor's body, inlined (NOTE [ Hot path ] in _tensor.py)
    y._data = data
    y._requires_grad = False
    y._grad_fn = None
    y._grad = None
    y._vc = None
    y._base = None
    y._meta = None
    if op.view:
        _mark_view(y, inputs[0], op, params)
    if GRAD.enabled and op.differentiable:
        for t in inputs:
            if t._requires_grad:
                record(op, y, inputs, params)
                break
    return y


def _mark_view(y, x, op, params):
    base = x._base if x._base is not None else x
    y._base = base
    y._vc = base._vc if base._vc is not None else base._share_version()
    if x._vc is None:
        x._vc = y._vc
    y._meta = {"view": (x, op, params), "base_fn": base._grad_fn, "tracked": GRAD.enabled}


def emit_view(op, x, data, params):
    """Wrap ``data``, a view of ``x._data`` that a view wrapper computed itself, as ``_emit``
    and ``_mark_view`` would: shared version counter, view bookkeeping, autograd node.

    The view ops' fast paths (NOTE [ View fast paths ] in shape.py) call it only when no
    mode is active (``MODES`` empty) and ``x._data`` is a NumPy array, so skipping
    ``dispatch`` changes nothing a caller can see; the body repeats ``make_tensor``'s slot
    stores (NOTE [ Hot path ] in _tensor.py).

    Args:
        op: the view record (``op.view`` true) whose forward gave ``data``.
        x: the one input Tensor.
        data: the NumPy view of ``x._data``.
        params: the record's attributes, in its forward's order.

    Returns:
        The view Tensor.

    Example:
        >>> from ember._ops.shape import _VIEW
        >>> x = ember.arange(6.0)
        >>> y = emit_view(_VIEW, x, x._data.reshape(2, 3), ((2, 3), (6,), "ViewBackward0"))
        >>> y._base is x, y.shape
        (True, ember.Size([2, 3]))
    """
    y = _new(Tensor)
    y._data = data
    y._requires_grad = False
    y._grad_fn = None
    y._grad = None
    base = x._base
    if base is None:
        base = x
    vc = base._vc
    if vc is None:
        vc = base._vc = [0]
    if x._vc is None:
        x._vc = vc
    y._vc = vc
    y._base = base
    tracked = GRAD.enabled
    y._meta = {"view": (x, op, params), "base_fn": base._grad_fn, "tracked": tracked}
    if tracked and x._requires_grad and op.differentiable:
        record(op, y, (x,), params)
    return y


def emit_pieces(op, x, datas, keys):
    """``emit_view`` for several views of ``x`` that record no node (split/unbind/chunk with
    no input requiring grad, NOTE [ Split as one node ] in shape.py): one Tensor per array
    of ``datas``, each remembered as ``op`` with attributes ``(key, x.shape)``.

    Args:
        op: the view record each piece replays as (``_INDEX_VIEW``).
        x: the input Tensor, which no grad is recorded for.
        datas: the NumPy views of ``x._data``.
        keys: the index key of each piece (its first attribute).

    Returns:
        A tuple of view Tensors.

    Example:
        >>> from ember._ops.index import _INDEX_VIEW
        >>> x = ember.arange(4.0)
        >>> a, b = emit_pieces(_INDEX_VIEW, x, [x._data[:2], x._data[2:]],
        ...                    [(slice(0, 2),), (slice(2, 4),)])
        >>> b._base is x, b.tolist()
        (True, [2.0, 3.0])
    """
    base = x._base
    if base is None:
        base = x
    vc = base._vc
    if vc is None:
        vc = base._vc = [0]
    if x._vc is None:
        x._vc = vc
    base_fn = base._grad_fn
    tracked = GRAD.enabled
    shape = x._data.shape
    out = []
    for data, k in zip(datas, keys):
        y = _new(Tensor)  # make_tensor's body (NOTE [ Hot path ] in _tensor.py)
        y._data = data
        y._requires_grad = False
        y._grad_fn = None
        y._grad = None
        y._vc = vc
        y._base = base
        y._meta = {"view": (x, op, (k, shape)), "base_fn": base_fn, "tracked": tracked}
        out.append(y)
    return tuple(out)


# --------------------------------------------------------------------------- dispatch
MODES: list = []  # active record-level interception modes, innermost last


def dispatch(op, inputs, params=()):
    """Run record ``op`` on ``inputs`` (Tensors) with ``params`` (its attributes, in the
    order its forward takes them). See NOTE [ The dispatch spine ]."""
    if MODES:
        return _intercept(op, inputs, params)
    if op.impl is not _run or len(inputs) != 1:
        return op.impl(op, inputs, params)
    # _run's one-input case, inlined: the per-op hot path (benchmarks/overhead.py)
    a = inputs[0]._data
    if a.__class__ is not _ndarray:
        return _run_foreign(op, inputs, params)
    try:
        r = op.fwd(a, *params)
    except (ValueError, np.exceptions.AxisError) as e:
        raise RuntimeError(f"{op.name}(): {e} (input shapes {[list(a.shape)]})") from None
    if op.mutates:
        _bump_mutated(op, inputs)
    if op.multi:
        return _emit_multi(op, r, inputs, params)
    return _emit(op, r, inputs, params)


apply = dispatch


def _run(op, inputs, params):
    """The generic record path below the modes: forward on raw arrays, wrap, record."""
    if not inputs:
        return _run_factory(op, params)
    if len(inputs) == 1:
        a = inputs[0]._data
        if a.__class__ is not _ndarray:
            return _run_foreign(op, inputs, params)
        arrays = (a,)
    else:
        arrays = [t._data for t in inputs]
        for a in arrays:
            if a.__class__ is not _ndarray:
                return _run_foreign(op, inputs, params)
    try:
        r = op.fwd(*arrays, *params)
    except (ValueError, np.exceptions.AxisError) as e:
        raise RuntimeError(f"{op.name}(): {e} (input shapes "
                           f"{[list(t._data.shape) for t in inputs]})") from None
    if op.mutates:
        _bump_mutated(op, inputs)
    if op.multi:
        return _emit_multi(op, r, inputs, params)
    return _emit(op, r, inputs, params)


def _bump_mutated(op, inputs):
    """A record that writes into some inputs (``op.mutates``) bumps their version counters
    here, once, so saved-tensor checks see the write (wrappers never bump by hand)."""
    for i in op.mutates:
        inputs[i]._bump()


def _run_factory(op, params):
    """A creation record (no tensor inputs): its last attribute is the device, which picks
    the backend; other devices build their array from the record's shape rule."""
    dev = params[-1]
    if dev.type == "cpu":
        r = op.fwd(*params[:-1])
    else:
        from ember._backends import for_device

        b = for_device(dev.type)
        r = b.factory(op, params[:-1], op.shape_rule(*params[:-1]))
    if op.multi:
        return _emit_multi(op, r, (), params)
    return _emit(op, r, (), params)


def _run_foreign(op, inputs, params):
    """Inputs not all NumPy arrays: check they share one device, then let that device's
    backend run the record (``backend.run(op, arrays, params)``; default: the forward)."""
    from ember._backends import backend_of

    backends = {backend_of(t._data) for t in inputs}
    if len(backends) > 1:
        # 0-d CPU tensors join another device's op, as PyTorch's CPU scalars do
        dev = [b for b in backends if b.device_type != "cpu"]
        if len(dev) == 1 and all(t._data.ndim == 0 for t in inputs
                                 if t._data.__class__ is _ndarray):
            (b,) = dev
            arrays = [b.from_host(t._data) if t._data.__class__ is _ndarray else t._data
                      for t in inputs]
            return _finish_foreign(op, b, arrays, inputs, params)
        from ember._backends import device_mismatch

        raise device_mismatch(backends, op.name)
    (b,) = backends
    return _finish_foreign(op, b, [t._data for t in inputs], inputs, params)


def _finish_foreign(op, b, arrays, inputs, params):
    run = getattr(b, "run", None)
    r = run(op, arrays, params) if run is not None else op.fwd(*arrays, *params)
    if op.mutates:
        _bump_mutated(op, inputs)
    if op.multi:
        return _emit_multi(op, r, inputs, params)
    return _emit(op, r, inputs, params)


def _intercept(op, inputs, params, precomputed=None):
    """Hand the call to the innermost mode, disabled while its handler runs."""
    mode = MODES.pop()
    try:
        def run(ins=inputs, ps=params):
            if precomputed is not None:
                if ins is not inputs and tuple(ins) != tuple(inputs):
                    raise NotImplementedError(
                        f"{op.name}: this record computes outside its forward and cannot be "
                        "re-run on other inputs by a mode")
                if MODES:
                    return _intercept(op, inputs, params, precomputed)
                r = precomputed[0]
                return _emit_multi(op, r, inputs, params) if op.multi else \
                    _emit(op, r, inputs, params)
            return dispatch(op, tuple(ins), ps)

        run.precomputed = precomputed is not None  # a tracer cannot replay such a record
        return mode.__ember_dispatch__(op, tuple(inputs), params, run)
    finally:
        MODES.append(mode)


def emit_multi(op, results, inputs, params=None):
    """Several outputs from one node; outputs that are not differentiable pass None."""
    if MODES:
        return _intercept(op, inputs, params, precomputed=(results,))
    return _emit_multi(op, results, inputs, params)


def _emit_multi(op, results, inputs, params):
    outs = tuple(wrap(r) for r in results)
    if GRAD.enabled and op.differentiable and any(t._requires_grad for t in inputs):
        n = record(op, outs[0], inputs, params)
        if op.save_out is not None:
            save_output(n, outs[op.save_out])
        n.shape = [o._data.shape for o in outs]
        n.dtype = [o._data.dtype for o in outs]
        for i, o in enumerate(outs):
            if o._data.dtype.kind in "fcV":
                o._grad_fn = (n, i)
                o._requires_grad = True
            else:
                o._grad_fn = None
                o._requires_grad = False
    if op.public:
        return keep_state(outs, op.public)
    return outs


def keep_state(outs, k):
    """Split a multi-output record's outputs into its ``k`` public outputs and its
    forward-time state (NOTE [ Forward state as outputs ] in nn/_functional_common.py).

    Args:
        outs: the tuple ``apply`` returned for a ``multi=True`` record.
        k: how many leading outputs are public.

    Returns:
        ``outs[0]`` when ``k == 1``, else the tuple ``outs[:k]``.

    Example::

        >>> y = keep_state(apply(_LAYER_NORM, (x,), attrs), 1)
    """
    e = outs[0]._grad_fn
    if e is not None:
        node = e[0]
        node.out = tuple([o._data for o in outs[k:]])
        node.shape = node.shape[:k]
        node.dtype = node.dtype[:k]
        for o in outs[k:]:
            o._grad_fn = None
            o._requires_grad = False
    return outs[0] if k == 1 else outs[:k]


def save_extra(y, tensors):
    """Keep ``tensors`` on the node that made ``y``, version-checked like saved inputs.

    NOTE [ Index tensors in attributes ]
    Indexing records (``index``, ``index_put``, ``scatter_reduce``) take their NumPy key as an
    attribute, so a compiler can replay them; the key holds the index tensors' arrays, not
    the tensors. PyTorch saves those index tensors for backward, so editing one in place
    before backward raises there. Wrappers pass them here after ``apply``: they join
    ``node.saved`` (after the record's own saved inputs) and the backward formula reads
    ``ctx.inputs``, which checks their versions.

    Args:
        y: the output ``apply`` returned (its ``_grad_fn`` is the node just recorded).
        tensors: the Tensors whose arrays the record's attributes hold.

    Returns:
        ``y``, unchanged.

    Example::

        >>> y = save_extra(apply(_INDEX, (x,), (key, x.shape)), [idx])
    """
    e = y._grad_fn
    if e is not None and tensors:
        node = e[0] if e.__class__ is tuple else e
        save_inputs(node, (node.saved or ()) + tuple(tensors))
    return y


def check_extra(ctx):
    """Check the versions of what ``save_extra`` kept on node ``ctx`` (a backward formula
    whose own saved inputs are none calls this; ``ctx.inputs`` checks them otherwise).

    Args:
        ctx: the node whose backward formula runs.

    Returns:
        The node's saved tuple, or None when it saved nothing.

    Example::

        >>> check_extra(ctx)  # raises if an index tensor was edited in place
    """
    return ctx.inputs if ctx.saved is not None else None


def state_of(ctx):
    """The forward-time state arrays ``keep_state`` stored on the node ``ctx``."""
    st = ctx.out
    if st is FREED:
        raise RuntimeError(_MSG_FREED)
    return st


class DispatchMode:
    """Record-level interception (in the spirit of PyTorch's ``TorchDispatchMode``).

    Subclasses override ``__ember_dispatch__(op, inputs, params, run)``: ``op`` is the
    ``OpDef`` (``op.named(params)`` gives its attributes by name), ``inputs`` its Tensor
    inputs (Python numbers for scalar operands of binary ops), and ``run(inputs, params)``
    runs the rest of the chain (outer modes, then the record) and returns its outputs. Used
    as a context manager; nested modes see calls innermost first. Ops that backward
    formulas run pass through too, so a mode sees the backward pass as well.
    """

    def __ember_dispatch__(self, op, inputs, params, run):
        return run(inputs, params)

    def __enter__(self):
        MODES.append(self)
        return self

    def __exit__(self, *exc):
        # Remove this mode even if an inner one was left installed by an error.
        for i in range(len(MODES) - 1, -1, -1):
            if MODES[i] is self:
                del MODES[i]
                break
        return False


# --------------------------------------------------------------------------- errors
def shape_error(name, a, b):
    sa, sb = a.shape, b.shape
    nd = max(len(sa), len(sb))
    pa = (1,) * (nd - len(sa)) + tuple(sa)
    pb = (1,) * (nd - len(sb)) + tuple(sb)
    for i in range(nd - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(
                f"{name}(): The size of tensor a ({pa[i]}) must match the size of tensor b "
                f"({pb[i]}) at non-singleton dimension {i} (shapes {list(sa)} and {list(sb)})")
    return RuntimeError(f"{name}(): shapes {list(sa)} and {list(sb)} are not broadcastable")


def check_tensor(name, v, arg="input"):
    """PyTorch's TypeError when argument ``arg`` of op ``name`` is not a Tensor."""
    if not isinstance(v, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(v).__name__}")


def float_input(x):
    """Integer/bool inputs compute in the default float dtype (PyTorch's rule for math)."""
    return x.to(D.get_default_dtype()) if x._data.dtype.kind in "biu" else x


def _type_error(name, arg, value):
    return TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(value).__name__}")


# --------------------------------------------------------------------------- out= and in-place
_CAN_CAST = {  # may a result of category [row] be written into a tensor of category [col]?
    (D.BOOL, D.BOOL): True, (D.INT, D.BOOL): False, (D.FLOAT, D.BOOL): False,
    (D.COMPLEX, D.BOOL): False, (D.FLOAT, D.INT): False, (D.COMPLEX, D.INT): False,
    (D.COMPLEX, D.FLOAT): False,
}


def check_cast(name, res_dtype, out_dtype):
    if not _CAN_CAST.get((res_dtype.category, out_dtype.category), True):
        raise RuntimeError(f"{name}: result type {res_dtype._short} can't be cast to the "
                           f"desired output type {out_dtype._short}")


def write_out(name, out, res):
    """Implement ``out=``: resize ``out`` if needed, cast-check, copy, bump its version."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if GRAD.enabled and (res._requires_grad or out._requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    check_cast(name, res.dtype, out.dtype)
    if out._data.shape != res._data.shape:
        if out._base is not None:
            raise RuntimeError(f"{name}(): cannot resize a view used as out= from "
                               f"{list(out.shape)} to {list(res.shape)}")
        if out._data.size:
            import warnings

            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape "
                          f"{list(res.shape)}. This behavior is deprecated, and in a future "
                          "PyTorch release outputs will not be resized unless they have zero "
                          "elements. You can explicitly reuse an out tensor t by resizing it, "
                          "inplace, to zero elements with t.resize_(0).", UserWarning,
                          stacklevel=3)
        out._data = xp_of(out._data).empty(res._data.shape, out._data.dtype)
    dispatch(COPY_INTO, (out, res), (f"{name}()",))  # the write is a record; bumps out
    return out


def make_inplace(fn, name):
    """The in-place variant of an out-of-place op ``fn(self, *args)`` (generic path)."""

    def inplace(self, *args, **kwargs):
        return inplace_apply(fn, name, self, args, kwargs)

    inplace.__name__ = name
    inplace.__doc__ = f"In-place version of :meth:`{name[:-1]}`."
    inplace.__wrapped__ = fn  # its parameters are fn's (inspect.signature follows this)
    return inplace


def _check_inplace_autograd(name, self):
    if self._grad_fn is None and self._requires_grad:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    base = self._base
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used "
                           "in an in-place operation.")


def inplace_apply(fn, name, self, args, kwargs):
    """Run ``fn`` out of place and write the result into ``self``'s memory.

    With grad recording, ``self`` is rebased onto the new node (PyTorch's history rewrite):
    the op sees an alias carrying self's old autograd identity and a copy of its old values,
    so formulas that need the old input still get it. See NOTE [ In-place on views ].
    """
    if not isinstance(self, Tensor):
        raise _type_error(name, "self", self)
    needs_grad = GRAD.enabled and (
        self._requires_grad or any(getattr(a, "_requires_grad", False) for a in args)
        or (self._base is not None and self._base._requires_grad))
    if not needs_grad:
        res = fn(self, *args, **kwargs)
        _copy_into(name, self, res)
        return self
    _check_inplace_autograd(name, self)
    if self._base is not None:
        refresh_view(self)
    if MODES:  # a record, so a tracer sees where the old value comes from
        old = dispatch(OPS["clone"], (self,), ())
    else:
        old = wrap(self._data.copy())
        old._grad_fn = self._grad_fn
        old._requires_grad = self._requires_grad
    res = fn(old, *args, **kwargs)
    if _copy_into(name, self, res):
        return self  # the copy_ record rewrote self's history itself
    if res._requires_grad:
        self._grad_fn = res._grad_fn
        self._requires_grad = True
        if self._base is not None:
            _rebase_view(self, res)
    return self


def _copy_into(name, self, res):
    d = self._data
    r = res._data
    if r.shape != d.shape:
        try:
            bshape = np.broadcast_shapes(r.shape, d.shape)
        except ValueError:
            bshape = None
        if bshape != d.shape:
            raise RuntimeError(f"{name}: output with shape {list(d.shape)} doesn't match the "
                               f"broadcast shape {list(bshape or r.shape)}")
    if r.dtype is not d.dtype:
        check_cast(name, _FROM_NP[r.dtype], _FROM_NP[d.dtype])
    if MODES or r.__class__ is not _ndarray or d.__class__ is not _ndarray:
        dispatch(COPY_INTO, (self, res), (name,))  # the write is a record too (a mutation)
        return True
    if not _threaded_copy(d, r):
        try:
            np.copyto(d, r, casting="unsafe")
        except ValueError as e:
            raise RuntimeError(f"{name}: {e}") from None
    self._bump()
    return False


def _threaded_copy(dst, src):
    """A large host copy on the threads (np.copyto runs on one core: a 1e6 float32 ``copy_``
    took 94 us, PyTorch's 49): ``copy_kernels.copy_into`` for one dtype and shape; a cast
    (float64 into float32, ...) or a broadcast source as the generated kernel of
    ``astype(a, dst's dtype)`` (NumPy's conversions, NOTE [ Threaded elementwise kernels ]),
    which declines overlapping arrays and other dtypes. True when done."""
    if dst.__class__ is not _ndarray or src.__class__ is not _ndarray or \
            dst.size < _COPY_THREADS_MIN:
        return False
    if dst.dtype == src.dtype and dst.shape == src.shape:
        from ember._codegen.copy_kernels import copy_into

        if copy_into(dst, src):
            return True
    e = _CAST_EXPRS.get(dst.dtype)
    if e is None:
        e = _CAST_EXPRS[dst.dtype] = f"astype(a, '{dst.dtype.name}')"
    from ember._codegen.ufuncs import run

    return run(e, "fib", (src,), dst) is not None


_COPY_THREADS_MIN = 1 << 18  # elements (as the threaded elementwise copies, _KMIN_PASS)
_CAST_EXPRS: dict = {}


def _copy_into_fwd(dst, src, name):
    if _threaded_copy(dst, src):
        return dst
    try:
        xp_of(dst).copyto(dst, src, casting="unsafe")
    except ValueError as e:
        raise RuntimeError(f"{name}: {e}") from None
    return dst


# The write of an in-place op (or copy_) into its destination: a record that mutates input 0,
# so modes and tracers see every in-place update as ``op`` followed by ``copy_``.
COPY_INTO = OpDef("copy_", _copy_into_fwd, None, differentiable=False, mutates=(0,),
                  attrs=("op_name",), shape_rule=lambda dst, src, name: dst)


def _copy_into_impl(op, inputs, params):
    """The copy_ record: write, then (under grad) give the destination the source's
    history, as the eager in-place path does, so a replay of ``op`` + ``copy_`` rewrites
    history exactly as the original in-place call did (NOTE [ In-place on views ])."""
    out = _run(op, inputs, params)
    dst, src = inputs
    if GRAD.enabled and isinstance(src, Tensor) and src._requires_grad and \
            src._grad_fn is not None:
        dst._grad_fn = src._grad_fn
        dst._requires_grad = True
        if dst._base is not None:
            _rebase_view(dst, src)
    return out


COPY_INTO.impl = _copy_into_impl


# NOTE [ In-place on views ]
# When an in-place op changes a view ``v`` of ``base`` under autograd, ``base``'s history is
# rewritten too: base gets a COPY_SLICES node whose inputs are base's old history and v's new
# value, and v's history becomes "the same view, taken of the new base". A view remembers how
# it was made (``_meta["view"] = (parent, op, params)``) so it can be replayed on any tensor.
# Other views of the same base taken earlier are regenerated lazily, like PyTorch's: a view
# records its base's grad_fn, and ``refresh_view`` replays it when the base has moved on.
def replay_view(view, t):
    chain = []
    v = view
    while v._base is not None and v._meta and "view" in v._meta:
        parent, vop, params = v._meta["view"]
        chain.append((vop, params))
        v = parent
    for vop, params in reversed(chain):
        t = apply(vop, (t,), params)
    return t


def refresh_view(t):
    """Regenerate a view's history if an in-place op elsewhere rewrote its base's history.

    A view records its base's grad_fn when its own history was last set; if the base has
    moved on (an in-place op through another view, or on the base), the view is replayed on
    the base so gradients flow through the new history (PyTorch does the same lazily).
    """
    m = t._meta
    if m is None or "view" not in m:
        return
    base = t._base
    if m.get("base_fn") is base._grad_fn or not m.get("tracked"):
        return
    prev = GRAD.enabled
    GRAD.enabled = True
    try:
        fresh = replay_view(t, base)
    finally:
        GRAD.enabled = prev
    t._grad_fn = fresh._grad_fn
    t._requires_grad = fresh._requires_grad
    m["base_fn"] = base._grad_fn


def _rebase_view(view, res):
    base = view._base
    old_base = wrap(base._data)
    old_base._grad_fn = base._grad_fn
    old_base._requires_grad = base._requires_grad
    y = wrap(base._data)
    record(COPY_SLICES, y, (old_base, res), params=view)
    base._grad_fn = y._grad_fn
    base._requires_grad = True
    prev = GRAD.enabled
    GRAD.enabled = True
    try:
        view._grad_fn = replay_view(view, base)._grad_fn
    finally:
        GRAD.enabled = prev
    view._meta["base_fn"] = base._grad_fn


def _copy_slices_bwd(ctx, g):
    from ember.autograd.grad_mode import no_grad

    view = ctx.params
    gb = g.clone()
    with no_grad():
        replay_view(view, gb).fill_(0)
    return gb, replay_view(view, g).clone()


COPY_SLICES = OpDef("copy_slices", None, _copy_slices_bwd, node_name="CopySlices")
