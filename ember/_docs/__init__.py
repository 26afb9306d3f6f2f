"""Docstrings of the public API, kept apart from the code and attached when a namespace loads.

NOTE [ Docstring tables ]
Most public functions are generated from the op table (``unary``/``binary`` families,
``@register`` fronts), so their docstrings cannot sit in a ``def``. They live here instead,
one table module per namespace (``DOCS = {public name: text}``), and ``attach`` copies them
onto the objects when the namespace is imported: ``ember/__init__.py`` calls
``attach("ember", globals())`` at the end of its setup, library namespaces do the same.
A table entry never replaces a docstring that is already complete (one with an example and a
Returns/Shape section), so a function documented in place keeps its own text.
``tests/test_docstrings.py`` checks every entry (summary, Args, Returns, a runnable example)
and that every key still names a public object. Loading the tables costs well under a
millisecond of ``import ember`` (their strings come from the cached bytecode).
"""

from __future__ import annotations

import importlib
import inspect
import textwrap

# namespace -> the table modules (in this package) that document it
TABLES = {
    "ember": ("_elementwise", "_torch", "_shape", "_tensor", "_extra"),
    "ember.nn.functional": ("_functional",),
    "ember.nn": ("_nn",),
    "ember.special": ("_special",),
    "ember.accelerator": ("_accelerator",),
}


_SECTIONS = ("Args:", "Returns:", "Example:", "Shape:")


def _complete(doc) -> bool:
    return bool(doc) and ">>>" in doc and ("Returns:" in doc or "Shape:" in doc)


def add_docstr(obj, text: str) -> bool:
    """Set ``obj.__doc__`` (a function, class or property) to ``text`` unless it is complete.

    A ``text`` that starts with a section (``Args:``, ``Returns:``, ...) is appended to the
    object's own docstring instead: the sections its author left out.

    Args:
        obj: the object to document.
        text: the docstring.

    Returns:
        True when the docstring was set.

    Example:
        >>> from ember._docs import add_docstr
        >>> def f():
        ...     pass
        >>> add_docstr(f, "Do nothing.")
        True
        >>> f.__doc__
        'Do nothing.'
    """
    old = getattr(obj, "__doc__", None)
    if _complete(old):
        return False
    if old and text.lstrip().startswith(_SECTIONS):
        # sections for a docstring written in place: append them to it
        text = inspect.cleandoc(old) + "\n\n" + textwrap.dedent(text).strip() + "\n"
    obj.__doc__ = text
    wrapped = getattr(obj, "__wrapped__", None)  # a checked front: document its target too
    if wrapped is not None and not _complete(getattr(wrapped, "__doc__", None)):
        try:
            wrapped.__doc__ = text
        except (AttributeError, TypeError):
            pass
    return True


def _lookup(namespace: dict, key: str):
    first, *rest = key.split(".")
    obj = namespace.get(first)
    for part in rest:
        if obj is None:
            return None
        obj = vars(obj).get(part) if isinstance(obj, type) else getattr(obj, part, None)
    return obj


def attach(name: str, namespace: dict) -> list[str]:
    """Copy the docstring tables of namespace ``name`` onto the objects of ``namespace``.

    Args:
        name: the namespace's module name (a key of ``TABLES``).
        namespace: the module's globals (or any mapping from public names to objects).

    Returns:
        The table keys that name no object (a renamed or removed function); tests keep this
        list empty.

    Example:
        >>> import ember
        >>> from ember._docs import attach
        >>> attach("ember", vars(ember))
        []
    """
    missing = []
    for table in TABLES.get(name, ()):
        docs = importlib.import_module(f"{__name__}.{table}").DOCS
        for key, text in docs.items():
            obj = _lookup(namespace, key)
            if obj is None:
                missing.append(key)
            else:
                add_docstr(obj, text)
    tensor = namespace.get("Tensor") if name == "ember" else None
    if tensor is not None:
        _document_inplace(vars(tensor), ":meth:`Tensor.{}`")
    elif name == "ember.nn.functional":
        _document_inplace(namespace, ":func:`{}`")
    return missing


def _document_inplace(attrs, ref: str) -> None:
    """Give each undocumented in-place function ``x_`` a reference to its out-of-place ``x``.

    PyTorch documents ``Tensor.add_`` as "In-place version of add()"; the out-of-place
    function carries the arguments and the example.
    """
    for n, fn in list(attrs.items()):
        if (n.endswith("_") and not n.startswith("_") and callable(fn)
                and not getattr(fn, "__doc__", None) and n[:-1] in attrs):
            try:
                fn.__doc__ = f"In-place version of {ref.format(n[:-1])}."
            except (AttributeError, TypeError):  # a builtin or slot wrapper
                pass
