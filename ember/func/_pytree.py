"""Minimal pytrees for ``ember.func``: tuples, lists, dicts and namedtuples of leaves.

Example::

    >>> leaves, spec = tree_flatten((1, [2, {"a": 3}]))
    >>> leaves, tree_unflatten([4, 5, 6], spec)
    ([1, 2, 3], (4, [5, {'a': 6}]))
"""

from __future__ import annotations

__all__ = ["LEAF", "tree_flatten", "tree_unflatten", "tree_map", "broadcast_prefix"]

LEAF = "*"


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def tree_flatten(tree):
    """Leaves of ``tree`` in order and a spec that :func:`tree_unflatten` inverts.

    Args:
        tree: nested tuples/lists/dicts/namedtuples; anything else is a leaf.

    Example::

        >>> tree_flatten({"b": 1, "a": (2,)})[0]
        [1, 2]
    """
    leaves = []

    def go(t):
        if _is_namedtuple(t):
            return ("namedtuple", type(t), [go(v) for v in t])
        if isinstance(t, tuple):
            return ("tuple", None, [go(v) for v in t])
        if isinstance(t, list):
            return ("list", None, [go(v) for v in t])
        if isinstance(t, dict):
            keys = list(t)
            return ("dict", keys, [go(t[k]) for k in keys])
        leaves.append(t)
        return LEAF

    return leaves, go(tree)


def tree_unflatten(leaves, spec):
    """Rebuild the structure ``spec`` (from :func:`tree_flatten`) around ``leaves``.

    Args:
        leaves: an iterable of leaves, as many as the spec holds.
        spec: the second result of :func:`tree_flatten`.

    Example::

        >>> tree_unflatten([7], tree_flatten([0])[1])
        [7]
    """
    it = iter(leaves)

    def go(s):
        if s == LEAF:
            return next(it)
        kind, extra, kids = s
        vals = [go(k) for k in kids]
        if kind == "tuple":
            return tuple(vals)
        if kind == "list":
            return vals
        if kind == "namedtuple":
            return extra(*vals)
        return dict(zip(extra, vals))

    return go(spec)


def tree_map(fn, tree):
    """``tree`` with ``fn`` applied to every leaf.

    Example::

        >>> tree_map(lambda v: v * 2, (1, [2]))
        (2, [4])
    """
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(v) for v in leaves], spec)


def spec_str(spec):
    """A short printable form of a spec (for error messages)."""
    if spec == LEAF:
        return "*"
    kind, extra, kids = spec
    inner = ", ".join(spec_str(k) for k in kids)
    if kind == "dict":
        inner = ", ".join(f"{k!r}: {spec_str(v)}" for k, v in zip(extra, kids))
        return "{" + inner + "}"
    return ("[" + inner + "]") if kind == "list" else ("(" + inner + ")")


def broadcast_prefix(prefix, tree, is_leaf_value=lambda v: v is None or isinstance(v, int)):
    """Expand ``prefix`` (a pytree prefix of ``tree``) to one value per leaf of ``tree``.

    Returns None when the structures do not match.

    Example::

        >>> broadcast_prefix((0, None), ([1, 2], 3))
        [0, 0, None]
    """
    out = []

    def go(p, t):
        if is_leaf_value(p):
            out.extend([p] * len(tree_flatten(t)[0]))
            return True
        if isinstance(p, (tuple, list)) and isinstance(t, (tuple, list)):
            if len(p) != len(t):
                return False
            return all(go(a, b) for a, b in zip(p, t))
        if isinstance(p, dict) and isinstance(t, dict):
            if set(p) != set(t):
                return False
            return all(go(p[k], t[k]) for k in t)
        return False

    return out if go(prefix, tree) else None
