"""Sections appended to incomplete docstrings of ``ember.nn`` classes made by factories (the
padding family) or shared with other files."""


DOCS = {
    "ReflectionPad1d": """\
    Args:
        padding: an int (every side) or a 2-tuple (left, right).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 1 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ReflectionPad1d(1)(ember.ones(1, 1, 3)).shape
        torch.Size([1, 1, 5])
""",
    "ReflectionPad2d": """\
    Args:
        padding: an int (every side) or a 4-tuple (left, right, top, bottom).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 2 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.
""",
    "ReflectionPad3d": """\
    Args:
        padding: an int (every side) or a 6-tuple (left, right, top, bottom, front, back).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 3 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ReflectionPad3d(1)(ember.ones(1, 1, 3, 3, 3)).shape
        torch.Size([1, 1, 5, 5, 5])
""",
    "ReplicationPad1d": """\
    Args:
        padding: an int (every side) or a 2-tuple (left, right).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 1 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ReplicationPad1d(1)(ember.ones(1, 1, 3)).shape
        torch.Size([1, 1, 5])
""",
    "ReplicationPad2d": """\
    Args:
        padding: an int (every side) or a 4-tuple (left, right, top, bottom).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 2 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ReplicationPad2d(1)(ember.ones(1, 1, 3, 3)).shape
        torch.Size([1, 1, 5, 5])
""",
    "ReplicationPad3d": """\
    Args:
        padding: an int (every side) or a 6-tuple (left, right, top, bottom, front, back).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 3 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.ReplicationPad3d(1)(ember.ones(1, 1, 3, 3, 3)).shape
        torch.Size([1, 1, 5, 5, 5])
""",
    "CircularPad1d": """\
    Args:
        padding: an int (every side) or a 2-tuple (left, right).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 1 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.CircularPad1d(1)(ember.ones(1, 1, 3)).shape
        torch.Size([1, 1, 5])
""",
    "CircularPad2d": """\
    Args:
        padding: an int (every side) or a 4-tuple (left, right, top, bottom).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 2 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.CircularPad2d(1)(ember.ones(1, 1, 3, 3)).shape
        torch.Size([1, 1, 5, 5])
""",
    "CircularPad3d": """\
    Args:
        padding: an int (every side) or a 6-tuple (left, right, top, bottom, front, back).

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)`` with 3 padded dimension(s).
        - Output: each padded dimension grows by its two paddings.

    Example:
        >>> nn.CircularPad3d(1)(ember.ones(1, 1, 3, 3, 3)).shape
        torch.Size([1, 1, 5, 5, 5])
""",
    "Parameter": """\
    Args:
        data: the tensor to wrap (default: an empty tensor).
        requires_grad: whether it requires grad (default True).

    Example:
        >>> p = nn.Parameter(ember.zeros(2))
        >>> p.requires_grad, isinstance(p, ember.Tensor)
        (True, True)
""",
    "Buffer": """\
    Args:
        data: the tensor to wrap.
        persistent: include it in ``state_dict`` (default True).

    Example:
        >>> m = nn.Module()
        >>> m.stats = nn.Buffer(ember.zeros(3))
        >>> list(m.state_dict())
        ['stats']
""",
}
