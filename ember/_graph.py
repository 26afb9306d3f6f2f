"""Graph recording: grad mode, graph nodes and saved tensors.

This is the part of autograd that every op touches on its hot path, so it lives below the
op table (layer 1); the backward engine and the user-facing API are in ``ember.autograd``.

NOTE [ Edges ]
A node's ``next`` tuple has one entry per tensor input of the op:
  * ``None``             the input does not require grad;
  * a ``Tensor``         a leaf that requires grad: the engine accumulates into its ``.grad``
                         (PyTorch's AccumulateGrad node, without allocating one per leaf);
  * a ``Node``           output 0 of a single-output op;
  * ``(Node, nr)``       output ``nr`` of a multi-output op (``op.multi`` is True).
A tensor's ``_grad_fn`` slot holds exactly what an edge to it must hold, so recording an
input edge is one attribute read: ``x._grad_fn or x``.

NOTE [ Saved tensors ]
Inputs needed by a backward formula are saved as the Tensor objects themselves, together with
their version at save time; the output is saved as its raw array and version counter (saving
the Tensor would make a reference cycle output -> node -> output). Unpacking checks versions,
so a tensor modified in place after being saved makes backward raise, as in PyTorch.
"""

from __future__ import annotations


class _GradMode:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled = True
        self.inference = False


GRAD = _GradMode()


_NODE_CLASSES: dict = {}


def node_class(name):
    """The ``grad_fn`` class named ``name`` (``MulBackward0``): a slot-less subclass of
    ``Node``, one per name, so ``type(t.grad_fn).__name__`` reads as in PyTorch. Edges test
    ``e.__class__.__base__ is Node`` (NOTE [ Edges ])."""
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = _NODE_CLASSES[name] = type(name, (Node,), {"__slots__": (),
                                                          "__module__": "ember.autograd"})
    return cls


# NOTE [ Node names ]
# ``type(t.grad_fn).__name__`` is PyTorch's node name (logging and graph printers read it):
# ``OpDef(node_name=...)`` or the record's name in CamelCase + "Backward0". A record serving
# several PyTorch overloads names its node per call: ``OpDef(node_names=f)`` when the record's
# attributes tell the overload apart (amax/amin, max(dim)/min(dim)), looked up only when a
# node is recorded, so view replays keep it; ``renamed`` in the public wrapper when only the
# call's spelling does (``sum(x)`` is SumBackward0, ``sum(x, dim)`` SumBackward1, the same
# record). ``tests/test_grad_fn_names.py`` compares every op-table entry with PyTorch.
def renamed(y, op, name):
    """Give ``y``'s node, if ``op`` made it, the class ``name``; returns ``y``."""
    fn = y._grad_fn
    if fn is not None and fn.__class__ is not Node and getattr(fn, "op", None) is op:
        fn.__class__ = node_class(name)
    return y


class _Freed:
    __slots__ = ()


FREED = _Freed()

_MSG_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Node:
    """A recorded op application (PyTorch's ``grad_fn``)."""

    __slots__ = ("op", "next", "saved", "versions", "params", "shape", "dtype", "out",
                 "pre_hooks", "hooks", "__weakref__")

    # -- PyTorch-compatible introspection --------------------------------------------
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        from ember.autograd.graph import edge_to_pair

        return tuple(edge_to_pair(e) for e in self.next)

    @property
    def metadata(self):
        return {}

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node's backward."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)
        return _RemovableHandle(self.hooks, fn)

    def register_prehook(self, fn):
        return self._add_pre_hook(-1, fn)

    def _add_pre_hook(self, nr, fn):
        if self.pre_hooks is None:
            self.pre_hooks = {}
        lst = self.pre_hooks.setdefault(nr, [])
        lst.append(fn)
        return _RemovableHandle(lst, fn)

    # -- ctx API used by backward formulas ------------------------------------------
    @property
    def inputs(self):
        """The saved inputs, version-checked (Tensors, or raw Python values)."""
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(_MSG_FREED)
        versions = self.versions
        for i, t in enumerate(saved):
            c = getattr(t, "_vc", None)
            if c and c[0] != (0 if versions is None else versions[i]):
                _raise_modified(t, self, c[0], 0 if versions is None else versions[i])
        return saved

    @property
    def output(self):
        """The saved output as a Tensor (attached to this node when grad mode is on)."""
        out = self.out
        if out is FREED:
            raise RuntimeError(_MSG_FREED)
        data, counter, v = out
        if counter[0] != v:
            from ember._tensor import Tensor

            _raise_modified(Tensor._wrap(data), self, counter[0], v, output=True)
        return _output_tensor(data, self)

    @property
    def needs_input_grad(self):
        return tuple(e is not None for e in self.next)


def _output_tensor(data, node):
    from ember._tensor import Tensor

    t = Tensor._wrap(data)
    if GRAD.enabled:
        t._requires_grad = True
        t._grad_fn = node
    return t


def _raise_modified(t, node, cur, v, output=False):
    what = f"output 0 of {type(node).__name__}" if output else f"an input of {type(node).__name__}"
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.type()} {list(t.shape)}], which is {what}, is at version "
        f"{cur}; expected version {v} instead. Hint: the tensor was changed in place after "
        "it was saved for backward; use an out-of-place op or .clone() it first."
    )


class _RemovableHandle:
    __slots__ = ("lst", "fn")

    def __init__(self, lst, fn):
        self.lst = lst
        self.fn = fn

    def remove(self):
        try:
            self.lst.remove(self.fn)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def save_inputs(node, tensors):
    """Save input tensors (or scalar values) on ``node`` with their current versions.

    ``versions`` stays None in the common case where no saved tensor has been modified in
    place yet (all at version 0), so saving costs one loop of attribute reads.
    """
    node.saved = tensors
    versions = None
    for i, t in enumerate(tensors):
        c = getattr(t, "_vc", None)
        if c and c[0]:
            if versions is None:
                versions = [0] * len(tensors)
            versions[i] = c[0]
    node.versions = versions


def save_output(node, y):
    c = y._vc
    if c is None:
        c = y._vc = [0]
    node.out = (y._data, c, c[0])
