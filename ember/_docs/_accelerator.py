"""Docstrings of ``ember.accelerator``'s memory queries (NOTE [ Docstring tables ]).

The eight memory functions are made by one factory in ``ember/accelerator.py``, so their
texts live here. Their examples hold on either kind of machine: without an accelerator the
call raises PyTorch's RuntimeError, which the example catches.
"""

_DEVICE = """device_index: the device (an int, ``"cuda:N"`` or an ``ember.device``); None: the
        current one."""
_NONE = ("RuntimeError (PyTorch's \"Cannot access accelerator device when none is available.\")"
         "\nwhen no accelerator is present, as on PyTorch's CPU-only builds.")


def _query(summary, returns, call, check, catch="RuntimeError", note=""):
    note = f"\n{note}\n" if note else ""
    return f"""{summary}
{note}
{_NONE}

Args:
    {_DEVICE}

Returns:
    {returns}

Example:
    >>> try:
    ...     result = {call}
    ... except {catch}:  # no accelerator on this machine
    ...     result = None
    >>> result is None or {check}
    True
"""


DOCS = {
    "get_memory_info": _query(
        "The free and total memory of an accelerator device, in bytes, from the driver.",
        "A tuple ``(free, total)`` of ints.",
        "ember.accelerator.get_memory_info()", "result[0] <= result[1]"),
    "memory_allocated": _query(
        "The bytes of accelerator memory that tensors occupy now.",
        "An int.", "ember.accelerator.memory_allocated()", "result >= 0"),
    "max_memory_allocated": _query(
        "The peak of ``memory_allocated`` since the program started or since "
        "``reset_peak_memory_stats``.",
        "An int (bytes).", "ember.accelerator.max_memory_allocated()", "result >= 0"),
    "memory_reserved": _query(
        "The bytes of accelerator memory the caching allocator (CuPy's pool) holds: in use "
        "plus cached.",
        "An int, at least ``memory_allocated()``.",
        "ember.accelerator.memory_reserved()", "result >= 0"),
    "max_memory_reserved": _query(
        "The peak of ``memory_reserved`` since the program started or since "
        "``reset_peak_memory_stats``.",
        "An int (bytes).", "ember.accelerator.max_memory_reserved()", "result >= 0"),
    "reset_peak_memory_stats": _query(
        "Restart the peaks that ``max_memory_allocated`` and ``max_memory_reserved`` report "
        "from the current values.",
        "None.", "ember.accelerator.reset_peak_memory_stats()", "result is None"),
    "memory_stats": _query(
        "PyTorch's allocator statistics dictionary; not supported by ember's CUDA backend.",
        "Never returns: NotImplementedError on a device (CuPy's pool keeps no per-event "
        "statistics;\n    use ``memory_allocated``/``memory_reserved`` and their peaks).",
        "ember.accelerator.memory_stats()", "isinstance(result, dict)",
        catch="(RuntimeError, NotImplementedError)"),
    "reset_accumulated_memory_stats": _query(
        "Reset the accumulated counters of ``memory_stats``; not supported by ember's CUDA "
        "backend.",
        "Never returns: NotImplementedError on a device (there are no such counters).",
        "ember.accelerator.reset_accumulated_memory_stats()", "result is None",
        catch="(RuntimeError, NotImplementedError)"),
}
