"""Graph introspection helpers (``grad_fn.next_functions`` and friends)."""

from __future__ import annotations

from ember._graph import Node


class AccumulateGrad:
    """The node PyTorch shows for a leaf in ``next_functions``; ``.variable`` is the leaf.

    ember records no node for leaves: ``next_functions`` makes these on the fly, so code
    walking the graph the PyTorch way finds the leaves where it expects them.

    Args:
        variable: the leaf tensor.

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> node = (w * 3).grad_fn.next_functions[0][0]
        >>> type(node).__name__, node.variable is w
        ('AccumulateGrad', True)
    """

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)


def edge_to_pair(e):
    """An edge (NOTE [ Edges ]) as PyTorch's ``(node, output_nr)`` pair.

    Args:
        e: an edge as ember stores it (None, a node, or a ``(node, output_nr)`` tuple).

    Returns:
        The pair ``(node, output_nr)``; ``(None, 0)`` for no edge.

    Example:
        >>> from ember.autograd.graph import edge_to_pair
        >>> edge_to_pair(None)
        (None, 0)
        >>> y = ember.ones(2, requires_grad=True) * 2
        >>> edge_to_pair(y.grad_fn)[1]
        0
    """
    if e is None:
        return (None, 0)
    if e.__class__.__base__ is Node:
        return (e, 0)
    if e.__class__ is tuple:
        return e
    return (AccumulateGrad(e), 0)


# --------------------------------------------------------------------------- printing
def _dtype_name(d):
    from ember._dtype import FROM_NP

    try:
        return str(FROM_NP[d]).split(".")[-1]
    except (KeyError, TypeError):
        return str(d)


def _out_meta(node, nr=0):
    shape, dtype = node.shape, node.dtype
    if isinstance(shape, list):
        shape, dtype = shape[nr], dtype[nr]
    return list(shape), _dtype_name(dtype)


def _walk(t):
    """Nodes and leaves reachable from tensor ``t``: (root edge, {node: index}) in a
    depth-first order without recursion."""
    root = t._grad_fn
    if root is None:
        return None, {}
    first = root[0] if root.__class__ is tuple else root
    order = {first: 0}
    stack = [first]
    while stack:
        n = stack.pop()
        for e in reversed(n.next):
            if e is None or e.__class__.__base__ is not Node and e.__class__ is not tuple:
                continue
            m = e[0] if e.__class__ is tuple else e
            if m not in order:
                order[m] = len(order)
                stack.append(m)
    return first, order


def _leaf_label(leaf, names):
    name = names.get(id(leaf))
    shape = list(leaf.shape)
    head = f"{name} " if name else "leaf "
    return f"{head}{shape} {_dtype_name(leaf._data.dtype)}"


def format_graph(t, params=None):
    """The autograd graph behind ``t`` as indented text (see ``print_graph``).

    Args:
        t: a tensor with history (``t.grad_fn`` set) or a leaf.
        params: optional mapping ``name -> tensor`` (e.g. ``dict(model.named_parameters())``)
            used to name the leaves.

    Returns:
        The text, one line per node: its name, output shape and dtype; leaves marked with
        "gets .grad".

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> print(ember.autograd.graph.format_graph((w * 3).sum(), {"w": w}))
        SumBackward0 #0 -> [] float32
        └─ MulBackward0 #1 -> [2] float32, 1 input(s) without grad
           └─ w [2] float32  (leaf, gets .grad)
        2 node(s); 1 leaf tensor(s) get gradients
    """
    names = {id(v): k for k, v in (params or {}).items()}
    if t._grad_fn is None:
        what = "gets .grad" if t._requires_grad else "no grad"
        return f"{_leaf_label(t, names)}  ({what}: a leaf, no graph)\n"
    first, order = _walk(t)
    lines = []
    shown = set()
    # (edge, depth, prefix-is-last flags) on an explicit stack: graphs can be deep
    stack = [(t._grad_fn, "", "")]
    while stack:
        e, indent, branch = stack.pop()
        if e.__class__.__base__ is Node or e.__class__ is tuple:
            n, nr = (e if e.__class__ is tuple else (e, 0))
            k = order[n]
            if n in shown:
                lines.append(f"{indent}{branch}{type(n).__name__} #{k} (shown above)")
                continue
            shown.add(n)
            shape, dt = _out_meta(n, nr)
            out = f" output {nr}" if e.__class__ is tuple else ""
            no_grad = sum(1 for x in n.next if x is None)
            extra = f", {no_grad} input(s) without grad" if no_grad else ""
            lines.append(f"{indent}{branch}{type(n).__name__} #{k}{out} -> {shape} {dt}{extra}")
            kids = [x for x in n.next if x is not None]
            child_indent = indent + ("" if branch == "" else "   " if branch == "└─ " else "│  ")
            for i in range(len(kids) - 1, -1, -1):
                stack.append((kids[i], child_indent, "└─ " if i == len(kids) - 1 else "├─ "))
        else:
            lines.append(f"{indent}{branch}{_leaf_label(e, names)}  (leaf, gets .grad)")
    leaves = {id(x): x for n in order for x in n.next
              if x is not None and x.__class__ is not tuple and x.__class__.__base__ is not Node}
    lines.append(f"{len(order)} node(s); {len(leaves)} leaf tensor(s) get gradients")
    return "\n".join(lines) + "\n"


def print_graph(t, params=None, file=None):
    """Print the autograd graph behind ``t``: each node (``MulBackward0``) with the shape
    and dtype of the value it produced, indented under its consumer, and the leaves that
    will receive ``.grad`` (named through ``params`` when given).

    Args:
        t: the tensor whose history to print (usually the loss).
        params: optional mapping ``name -> tensor`` naming the leaves.
        file: stream to print to (default ``sys.stdout``).

    Returns:
        None (the graph is printed).

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> loss = (w * 3).sum()
        >>> ember.autograd.graph.print_graph(loss, {"w": w})
        SumBackward0 #0 -> [] float32
        └─ MulBackward0 #1 -> [2] float32, 1 input(s) without grad
           └─ w [2] float32  (leaf, gets .grad)
        2 node(s); 1 leaf tensor(s) get gradients
    """
    print(format_graph(t, params), end="", file=file)


def _dot_quote(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(t, params=None, name="ember_graph"):
    """The autograd graph behind ``t`` in Graphviz DOT (render with ``dot -Tsvg``).

    Nodes are boxes labelled with the node name and output shape; leaves that receive
    gradients are blue ellipses labelled with their name (through ``params``) and shape;
    ``t`` itself is green. Edges point from an input to the op that consumed it. No
    graphviz package is needed: the result is text.

    Args:
        t: the tensor whose history to export.
        params: optional mapping ``name -> tensor`` naming the leaves.
        name: the graph's name in the DOT text.

    Returns:
        The DOT source as a string.

    Example:
        >>> w = ember.ones(2, requires_grad=True)
        >>> dot = ember.autograd.graph.to_dot((w * 3).sum(), {"w": w})
        >>> dot.splitlines()[0], "MulBackward0" in dot
        ('digraph "ember_graph" {', True)
    """
    names = {id(v): k for k, v in (params or {}).items()}
    out = [f"digraph {_dot_quote(name)} {{",
           '  node [fontname="monospace", fontsize=10, shape=box, style=filled, '
           'fillcolor=lightgray];']
    out.append(f'  out [label={_dot_quote(f"output {list(t.shape)}")}, '
               'fillcolor=darkolivegreen1];')
    if t._grad_fn is None:
        if t._requires_grad:
            out.append(f'  leaf0 [label={_dot_quote(_leaf_label(t, names))}, '
                       'shape=ellipse, fillcolor=lightblue];')
            out.append("  leaf0 -> out;")
        out.append("}")
        return "\n".join(out) + "\n"
    first, order = _walk(t)
    leaves = {}
    for n, k in order.items():
        shape, dt = _out_meta(n)
        label = f"{type(n).__name__}\n{shape} {dt}"
        out.append(f"  n{k} [label={_dot_quote(label)}];")
    for n, k in order.items():
        for e in n.next:
            if e is None:
                continue
            if e.__class__ is tuple:
                out.append(f'  n{order[e[0]]} -> n{k} [label="{e[1]}"];')
            elif e.__class__.__base__ is Node:
                out.append(f"  n{order[e]} -> n{k};")
            else:
                lid = leaves.get(id(e))
                if lid is None:
                    lid = leaves[id(e)] = len(leaves)
                    out.append(f"  leaf{lid} [label={_dot_quote(_leaf_label(e, names))}, "
                               "shape=ellipse, fillcolor=lightblue];")
                out.append(f"  leaf{lid} -> n{k};")
    out.append(f"  n{order[first]} -> out;")
    out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- growth check
# NOTE [ Graph growth warning ]
# The classic leak: ``total_loss += loss`` (or appending outputs that carry history) keeps
# each iteration's graph alive through one tensor, so the graph grows without bound. With
# ``set_graph_growth_warning(True)`` a dispatch mode keeps a weak set of the nodes records
# create, and each backward call (``_WATCH``, one list test per backward when off) counts
# the live nodes that this backward does not reach. In a loop that rebinds ``loss`` every
# iteration that count stays flat (the previous graph died with the previous loss); when
# it grows at every one of ``patience`` backward passes in a row, a warning names the
# pattern and the node that ends the largest graph kept alive. Nodes of custom Functions
# are not counted (they do not pass through dispatch).
_WATCH: list = []


class _GrowthWatch:
    def __init__(self, patience):
        import weakref

        from ember._ops.core import DispatchMode

        watch = self
        self.live = weakref.WeakSet()
        self.history = []
        self.patience = patience
        self.warned = False

        class _Mode(DispatchMode):
            def __ember_dispatch__(self, op, inputs, params, run):
                out = run(inputs, params)
                items = out if isinstance(out, (tuple, list)) else (out,)
                for o in items:
                    e = getattr(o, "_grad_fn", None)
                    if e is not None:
                        watch.live.add(e[0] if e.__class__ is tuple else e)
                return out

        self.mode = _Mode()

    def __call__(self, roots):
        reached = set()
        stack = []
        for r in roots:
            e = getattr(r, "_grad_fn", None)
            if e is not None:
                stack.append(e[0] if e.__class__ is tuple else e)
        while stack:
            n = stack.pop()
            if n in reached:
                continue
            reached.add(n)
            for e in n.next:
                if e.__class__ is tuple:
                    stack.append(e[0])
                elif e.__class__.__base__ is Node:
                    stack.append(e)
        outside = [n for n in list(self.live) if n not in reached]
        h = self.history
        h.append(len(outside))
        del h[:-(self.patience + 1)]
        if (not self.warned and len(h) > self.patience
                and all(h[i] < h[i + 1] for i in range(len(h) - 1))):
            self.warned = True
            self._warn(outside)

    def _warn(self, outside):
        import warnings

        used = set()
        for n in outside:
            for e in n.next:
                if e.__class__ is tuple:
                    used.add(e[0])
                elif e.__class__.__base__ is Node:
                    used.add(e)
        tops = [n for n in outside if n not in used]
        detail = ""
        if tops:
            sizes = {}
            for top in tops:
                _, order = _walk_node(top)
                sizes[top] = len(order)
            top = max(sizes, key=sizes.get)
            detail = (f" The largest such graph ends in {type(top).__name__} and holds "
                      f"{sizes[top]} nodes.")
        warnings.warn(
            f"The autograd graph kept alive outside backward grew at each of the last "
            f"{self.patience} backward passes (now {len(outside)} nodes).{detail} A tensor "
            "that carries history across iterations (e.g. `total_loss += loss`) keeps every "
            "iteration's graph alive; accumulate `loss.item()` or `loss.detach()` instead. "
            "ember.utils.memory.memory_report() shows what holds memory.",
            UserWarning, stacklevel=4)


def _walk_node(node):
    class _T:  # _walk takes a tensor; give it the node as a grad_fn
        _grad_fn = node

    return _walk(_T)


def set_graph_growth_warning(enabled, patience=5):
    """Warn when a training loop keeps a growing autograd graph alive (opt-in).

    See NOTE [ Graph growth warning ]: at every backward call ember counts the live graph
    nodes that this backward does not reach; if that number grows at each of ``patience``
    backward passes in a row (the ``total_loss += loss`` leak) it warns once, naming the
    pattern. While on, every op pays for one dispatch mode (debugging use).

    Args:
        enabled: bool, turn the check on or off.
        patience: int >= 2, how many consecutive backward passes must grow the kept graph.

    Returns:
        None.

    Example:
        >>> import warnings
        >>> ember.autograd.set_graph_growth_warning(True, patience=2)
        >>> model, total_loss = nn.Linear(2, 1), 0
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     for step in range(6):
        ...         loss = model(ember.ones(1, 2)).sum()
        ...         loss.backward()
        ...         total_loss = total_loss + loss    # keeps every step's graph alive
        >>> len(caught) > 0
        True
        >>> ember.autograd.set_graph_growth_warning(False)
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"set_graph_growth_warning(): argument 'enabled' must be bool, not "
                        f"{type(enabled).__name__}")
    if not isinstance(patience, int) or patience < 2:
        raise ValueError(f"set_graph_growth_warning(): patience must be an int >= 2, got "
                         f"{patience!r}")
    from ember._ops.core import MODES

    if _WATCH:
        old = _WATCH.pop()
        if old.mode in MODES:
            MODES.remove(old.mode)
    if enabled:
        w = _GrowthWatch(patience)
        MODES.insert(0, w.mode)
        _WATCH.append(w)


def is_graph_growth_warning_enabled():
    """Whether ``set_graph_growth_warning(True)`` is in effect.

    Returns:
        bool.

    Example:
        >>> ember.autograd.graph.is_graph_growth_warning_enabled()
        False
    """
    return bool(_WATCH)
