"""Render NumPy arrays the way PyTorch 2.x prints tensors.

This module is standalone (it needs only NumPy) so the Tensor class can build its ``repr`` from
``tensor_repr(array, suffixes)``.  The layout rules reproduce torch's observable output:

* one formatter per tensor decides the style (integer-valued ``1.``, fixed ``1.5000`` or
  scientific ``1.5000e+08``) and a common width from the *shown* elements only;
* rows wrap at ``linewidth``, nested dimensions are indented under the opening bracket and
  separated by ``dim - 1`` newlines;
* tensors with more than ``threshold`` elements are summarised with ``...``, keeping
  ``edgeitems`` entries at each end of every dimension.
"""

import math

import numpy as np

__all__ = ["PRINT_OPTS", "set_printoptions", "get_printoptions", "tensor_repr", "format_array"]


class _PrinterOptions:
    """Mutable print settings shared by every tensor repr (mirrors ``torch._tensor_str``)."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"_PrinterOptions({fields})"


PRINT_OPTS = _PrinterOptions()

# (precision, threshold, edgeitems, linewidth) for each named profile.
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Change the print options; same semantics as ``torch.set_printoptions``.

    A ``profile`` ("default", "short" or "full") is applied first and explicit arguments
    override it.  Unknown profile names are ignored, as torch does.  ``sci_mode`` is always
    assigned, so any call that omits it resets it to ``None`` (automatic), again like torch.
    """
    if profile in _PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold,
         PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """Return the current print options as a dict (keys as in ``PRINT_OPTS``)."""
    return {name: getattr(PRINT_OPTS, name) for name in _PrinterOptions.__slots__}


class _Formatter:
    """Chooses one number style and width for a set of values, then pads each to it."""

    def __init__(self, values):
        values = np.asarray(values).reshape(-1)
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not self.floating:
            for value in values.tolist():
                self.max_width = max(self.max_width, len(str(value)))
            return
        # Zeros, nan and inf never influence the style or the width (torch ignores them too).
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            # Torch returns early here, so even a forced sci_mode does not apply.
            return
        magnitudes = np.abs(finite)
        lowest, highest = magnitudes.min(), magnitudes.max()
        with np.errstate(over="ignore"):
            wide_range = bool(highest / lowest > 1000.0) or bool(highest > 1.0e8)
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        precision = PRINT_OPTS.precision
        if self.int_mode:
            self.sci_mode = wide_range
        else:
            self.sci_mode = wide_range or bool(lowest < 1.0e-4)
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode
        # Widths follow the final style, so a forced sci_mode also changes the padding.
        if self.sci_mode:
            widths = [len(format(v, f".{precision}e")) for v in finite.tolist()]
        elif self.int_mode:
            # The trailing "." of integer-valued floats adds one column.
            widths = [len(format(v, ".0f")) + 1 for v in finite.tolist()]
        else:
            widths = [len(format(v, f".{precision}f")) for v in finite.tolist()]
        self.max_width = max(self.max_width, max(widths))

    def format(self, value):
        """Return ``value`` (a Python scalar) formatted and left-padded to the common width."""
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = format(value, f".{PRINT_OPTS.precision}e")
        elif self.int_mode:
            text = format(value, ".0f")
            if math.isfinite(value):
                text += "."
        else:
            text = format(value, f".{PRINT_OPTS.precision}f")
        return text.rjust(self.max_width)


def _as_printable(arr):
    """Convert dtypes that are formatted through float32 (float16, bfloat16 and friends)."""
    arr = np.asarray(arr)
    # ml_dtypes types (bfloat16, float8) report kind "V"; converting them needs no import.
    if arr.dtype.kind not in "biufc" or arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    return arr


def _shown_values(arr):
    """Flattened elements that a summarised print shows; the formatter sizes only these."""
    edge = PRINT_OPTS.edgeitems
    if arr.ndim == 0:
        return arr.reshape(-1)
    if arr.ndim == 1:
        # With edge == 0 torch's slices keep the whole row (x[-0:] is everything); so does NumPy.
        return np.concatenate([arr[:edge], arr[-edge:]]) if len(arr) > 2 * edge else arr
    if not edge:
        return arr.reshape(-1)[:0]
    rows = range(len(arr))
    if len(arr) > 2 * edge:
        rows = list(range(edge)) + list(range(len(arr) - edge, len(arr)))
    return np.concatenate([_shown_values(arr[i]) for i in rows])


def _element(value, formatters):
    """Format one scalar; complex numbers join real and imaginary parts like ``1.+2.j``."""
    real_fmt, imag_fmt = formatters
    if imag_fmt is None:
        return real_fmt.format(value)
    real = real_fmt.format(value.real)
    imag = (imag_fmt.format(value.imag) + "j").lstrip()
    # A leading sign (including "-0.") doubles as the separator; otherwise add "+".
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _vector(arr, indent, summarize, formatters):
    """Render a 1-D array, wrapping so each line fits ``linewidth`` at this indent."""
    real_fmt, imag_fmt = formatters
    # Budget per element: its width plus ", " (complex adds the imaginary part and "j").
    item_width = real_fmt.max_width + 2
    if imag_fmt is not None:
        item_width += imag_fmt.max_width + 1
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / item_width)))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and len(arr) > 2 * edge:
        # " ..." counts as an element, which is why torch shows two spaces before it.
        items = ([_element(v, formatters) for v in arr[:edge].tolist()] + [" ..."]
                 + [_element(v, formatters) for v in arr[-edge:].tolist()])
    else:
        items = [_element(v, formatters) for v in arr.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _render(arr, indent, summarize, formatters):
    """Recursively render ``arr``; sub-blocks are indented one column per nesting level."""
    if arr.ndim == 0:
        return _element(arr.item(), formatters)
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, formatters)
    edge = PRINT_OPTS.edgeitems
    count = arr.shape[0]
    if summarize and count > 2 * edge:
        blocks = ([_render(arr[i], indent + 1, summarize, formatters) for i in range(edge)]
                  + ["..."]
                  + [_render(arr[i], indent + 1, summarize, formatters)
                     for i in range(count - edge, count)])
    else:
        blocks = [_render(arr[i], indent + 1, summarize, formatters) for i in range(count)]
    # Deeper blocks get blank lines between them: ndim - 1 newlines in total.
    separator = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def format_array(arr, indent=0):
    """Return the data part of a tensor repr (``[[1., 2.], ...]``) for a NumPy array.

    ``indent`` is the column of the opening bracket, i.e. the prefix length in a repr.
    """
    arr = _as_printable(arr)
    if arr.size == 0:
        return "[]"
    summarize = arr.size > PRINT_OPTS.threshold
    shown = _shown_values(arr) if summarize else arr
    if arr.dtype.kind == "c":
        formatters = (_Formatter(shown.real), _Formatter(shown.imag))
    else:
        formatters = (_Formatter(shown), None)
    return _render(arr, indent, summarize, formatters)


def _join_suffixes(text, suffixes, indent):
    """Append ``, suffix`` items, moving one to its own line when it would pass linewidth."""
    pieces = [text]
    column = len(text) - text.rfind("\n") - 1  # length of the current last line
    # Torch reserves two extra columns while still on the data's last line, not afterwards.
    reserve = 2
    for suffix in suffixes:
        if column + reserve + len(suffix) + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            column, reserve = indent + len(suffix), 0
        else:
            pieces.append(", " + suffix)
            column += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def tensor_repr(arr, suffixes, prefix="tensor("):
    """Return the full repr, e.g. ``tensor([[1., 2.]], requires_grad=True)``.

    ``suffixes`` (``dtype=...``, ``grad_fn=...``, ``size=...``) are chosen by the caller and
    placed after the data.  One suffix is added here because it depends on the print options:
    torch shows ``size=(...)`` for every non-empty tensor while ``edgeitems`` is 0.
    """
    arr = np.asarray(arr)
    suffixes = list(suffixes)
    if (arr.size and not PRINT_OPTS.edgeitems
            and not any(s.startswith("size=") for s in suffixes)):
        suffixes.insert(0, f"size={tuple(arr.shape)}")
    indent = len(prefix)
    return _join_suffixes(prefix + format_array(arr, indent), suffixes, indent)
