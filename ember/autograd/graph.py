"""Graph introspection helpers (``grad_fn.next_functions`` and friends)."""

from __future__ import annotations

from ember._graph import Node


class AccumulateGrad:
    """The node PyTorch shows for a leaf in ``next_functions``; ``.variable`` is the leaf."""

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
    """An edge (NOTE [ Edges ]) as PyTorch's ``(node, output_nr)`` pair."""
    if e is None:
        return (None, 0)
    if e.__class__.__base__ is Node:
        return (e, 0)
    if e.__class__ is tuple:
        return e
    return (AccumulateGrad(e), 0)
