"""dtype objects and PyTorch's type-promotion rules.

An ember ``dtype`` wraps a NumPy dtype (bfloat16 comes from ml_dtypes). Promotion follows
PyTorch, not NumPy: operands are grouped by priority (dimensioned tensors, 0-dim tensors,
Python scalars); each group is promoted within itself, and a lower-priority group only
matters when it brings a higher *category* (bool < integer < floating < complex).
See NOTE [ Type promotion ] below.
"""

from __future__ import annotations

import numpy as np

try:  # ml_dtypes is a declared dependency; import lazily-tolerant so numpy-only use works
    import ml_dtypes

    _bf16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    _bf16 = None

BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, e.g. ``ember.float32``."""

    __slots__ = ("name", "np", "category", "itemsize", "is_signed", "_short")

    def __init__(self, name, np_dtype, category, short):
        self.name = name
        self.np = np_dtype
        self.category = category
        self.itemsize = np_dtype.itemsize if np_dtype is not None else 0
        self.is_signed = category != BOOL and name != "uint8"
        self._short = short

    @property
    def is_floating_point(self):
        return self.category == FLOAT

    @property
    def is_complex(self):
        return self.category == COMPLEX

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float64": complex128, "float32": complex64, "float16": complex64,
                "bfloat16": complex64}.get(self.name, self)

    def __repr__(self):
        return "torch." + self.name if _REPR_AS_TORCH else "ember." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


# PyTorch code compares `str(t.dtype) == "torch.float32"`; keep that observable behaviour.
_REPR_AS_TORCH = True

float16 = dtype("float16", np.dtype(np.float16), FLOAT, "Half")
bfloat16 = dtype("bfloat16", _bf16, FLOAT, "BFloat16")
float32 = dtype("float32", np.dtype(np.float32), FLOAT, "Float")
float64 = dtype("float64", np.dtype(np.float64), FLOAT, "Double")
complex64 = dtype("complex64", np.dtype(np.complex64), COMPLEX, "ComplexFloat")
complex128 = dtype("complex128", np.dtype(np.complex128), COMPLEX, "ComplexDouble")
uint8 = dtype("uint8", np.dtype(np.uint8), INT, "Byte")
int8 = dtype("int8", np.dtype(np.int8), INT, "Char")
int16 = dtype("int16", np.dtype(np.int16), INT, "Short")
int32 = dtype("int32", np.dtype(np.int32), INT, "Int")
int64 = dtype("int64", np.dtype(np.int64), INT, "Long")
bool_ = dtype("bool", np.dtype(np.bool_), BOOL, "Bool")

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
       complex64, complex128)
_BY_NAME = {d.name: d for d in ALL}
# Keyed by NumPy dtype: NumPy's builtin dtypes are interned, so lookups hash cheaply.
FROM_NP = {d.np: d for d in ALL if d.np is not None}

ALIASES = dict(half=float16, float=float32, double=float64, cfloat=complex64,
               cdouble=complex128, short=int16, int=int32, long=int64, bool=bool_,
               complex32=complex64)


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_np(np_dtype) -> dtype:
    try:
        return FROM_NP[np_dtype]
    except KeyError:
        d = np.dtype(np_dtype)
        if d in FROM_NP:
            return FROM_NP[d]
        if d.kind == "U" or d.kind == "O" or d.kind == "S":
            raise TypeError(f"can't convert np.ndarray of type {d}. The only supported types "
                            "are: float64, float32, float16, complex64, complex128, int64, "
                            "int32, int16, int8, uint8, and bool.") from None
        # uint16/32/64: PyTorch has barely-supported types for these; ember widens to the
        # narrowest signed type that holds every value (uint64 has none: int64 is closest).
        if d.kind == "u":
            return int32 if d.itemsize <= 2 else int64
        raise TypeError(f"unsupported NumPy dtype {d}") from None


def to_dtype(d) -> dtype:
    """Accept an ember dtype, NumPy dtype, Python type or string."""
    if d.__class__ is dtype:
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return complex128
    if isinstance(d, str):
        name = d.replace("torch.", "").replace("ember.", "")
        if name in _BY_NAME:
            return _BY_NAME[name]
        if name in ALIASES:
            return ALIASES[name]
        raise TypeError(f"invalid dtype string {d!r}")
    return from_np(np.dtype(d))


# ---------------------------------------------------------------------------------------
# NOTE [ Type promotion ]
# promote_types(a, b) is PyTorch's pairwise table: an integer or bool meeting a float keeps
# the float (int32 + float16 -> float16, unlike NumPy); floats meeting complex give the
# complex type wide enough for both; float16 with bfloat16 gives float32; integers promote
# as NumPy does. result_type() then combines the three priority groups the way PyTorch's
# ResultTypeState does: a lower group only wins by bringing a higher category.
# ---------------------------------------------------------------------------------------
_promote_cache: dict = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    key = (a, b)
    r = _promote_cache.get(key)
    if r is None:
        _check_dtype_arg("promote_types", "type1", a)
        _check_dtype_arg("promote_types", "type2", b)
        r = _promote_cache[key] = _promote_uncached(a, b)
    return r


def _check_dtype_arg(fn, arg, value):
    if value.__class__ is not dtype:
        raise TypeError(f"{fn}(): argument '{arg}' must be torch.dtype, not "
                        f"{type(value).__name__}")


def can_cast(from_: dtype, to: dtype) -> bool:
    """``torch.can_cast``: casting may not lower the category (complex -> float, float ->
    integer, anything non-bool -> bool); widths do not matter."""
    _check_dtype_arg("can_cast", "from_", from_)
    _check_dtype_arg("can_cast", "to", to)
    return from_.category <= to.category and (to.category != BOOL or from_.category == BOOL)


def _promote_uncached(a, b):
    if a.category < b.category:
        a, b = b, a
    # now a has the higher (or equal) category
    if a.category == BOOL:
        return bool_
    if a.category > b.category:
        if a.category == COMPLEX and b.category == FLOAT:
            return complex128 if (b is float64 or a is complex128) else complex64
        return a
    if a.category == FLOAT:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a.itemsize >= b.itemsize else b
    if a.category == COMPLEX:
        return a if a.itemsize >= b.itemsize else b
    return FROM_NP[np.promote_types(a.np, b.np)]


_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError("only floating-point types are supported as the default type, "
                        f"got {d}")
    _default[0] = d
    _scalar_cache.clear()


def default_complex() -> dtype:
    return complex128 if _default[0] is float64 else complex64


_scalar_cache: dict = {}


def scalar_dtype(x) -> dtype:
    """The dtype a Python scalar takes when wrapped (PyTorch's "wrapped number")."""
    t = x.__class__
    if t is float:
        return _default[0]
    if t is int:
        return int64
    if t is bool:
        return bool_
    if t is complex:
        return default_complex()
    if isinstance(x, (np.bool_, bool)):
        return bool_
    if isinstance(x, np.integer):
        return int64
    if isinstance(x, np.floating):
        return _default[0]
    if isinstance(x, np.complexfloating):
        return default_complex()
    raise TypeError(f"expected a number, got {type(x).__name__}")


def _combine(higher, lower):
    """Combine two priority groups' results (PyTorch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == COMPLEX:
        return higher
    if lower.category == COMPLEX:
        return higher.to_complex() if higher.category == FLOAT else lower
    if higher.category == FLOAT:
        return higher
    if higher is bool_ or lower.category == FLOAT:
        return promote_types(higher, lower)
    return higher


def result_type_tt(a: dtype, a0: bool, b: dtype, b0: bool) -> dtype:
    """Result dtype of two tensors; a0/b0 say whether each is 0-dim."""
    if a0 == b0:
        return promote_types(a, b)
    if a0:
        return _combine(b, a)
    return _combine(a, b)


def result_type(tensor, other) -> dtype:
    """``torch.result_type`` for any mix of tensors and Python numbers."""
    a, b = tensor, other  # PyTorch's keywords
    a_dt = getattr(a, "dtype", None).__class__ is dtype and hasattr(a, "ndim")
    b_dt = getattr(b, "dtype", None).__class__ is dtype and hasattr(b, "ndim")
    if a_dt and b_dt:
        return result_type_tt(a.dtype, a.ndim == 0, b.dtype, b.ndim == 0)
    if a_dt:
        return result_type_ts(a.dtype, b)
    if b_dt:
        return result_type_ts(b.dtype, a)
    # Two numbers: both are "wrapped numbers" of the same priority.
    return promote_types(scalar_dtype(a), scalar_dtype(b))


def result_type_ts(a: dtype, scalar) -> dtype:
    """Result dtype of a tensor and a Python scalar (cached per (dtype, scalar type))."""
    key = (a, scalar.__class__)
    r = _scalar_cache.get(key)
    if r is None:
        r = _scalar_cache[key] = _combine(a, scalar_dtype(scalar))
    return r


class finfo:
    """Machine limits of a floating dtype (``ember.finfo(ember.float32).eps``)."""

    def __init__(self, type=None):
        d = to_dtype(type) if type is not None else get_default_dtype()
        if d.category not in (FLOAT, COMPLEX):
            raise TypeError(f"finfo(): argument 'type' must be a floating dtype, got {d}")
        d = d.to_real()
        import numpy

        info = ml_dtypes.finfo(d.np) if d is bfloat16 else numpy.finfo(d.np)
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)  # exact decimal, as PyTorch reports

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``ember.iinfo(ember.int32).max``)."""

    def __init__(self, type):
        d = to_dtype(type)
        if d.category not in (INT, BOOL):
            raise TypeError(f"iinfo(): argument 'type' must be an integer dtype, got {d}")
        import numpy

        info = numpy.iinfo(d.np) if d is not bool_ else numpy.iinfo(numpy.uint8)
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.max = int(info.max) if d is not bool_ else 1
        self.min = int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


# NOTE [ Layouts ]
# PyTorch's tensors report how their memory is organised as objects of type torch.layout,
# printed as torch.strided / torch.sparse_coo and compared by identity. ember has the same
# objects: dense tensors are strided, tensors whose array is a SparseCOOArray (NOTE [ Sparse
# COO tensors ]) sparse_coo. The other layouts exist so that code naming them runs as far as
# PyTorch's does: a creation op given one refuses it with NotImplementedError naming it
# (``layout_arg`` in _ops/args.py), never silently making a strided tensor.
class layout:
    """A tensor's memory layout: ``ember.strided`` (dense) or ``ember.sparse_coo``.

    Instances are the module-level constants (``ember.strided``, ``ember.sparse_coo``,
    ``ember.sparse_csr``, ...), compared by identity; the class cannot be instantiated, as in
    PyTorch.

    Args:
        args: none are accepted: constructing a layout raises TypeError (use the constants).

    Example:
        >>> ember.ones(2).layout
        torch.strided
        >>> ember.ones(2).layout is ember.strided, type(ember.strided) is ember.layout
        (True, True)
    """

    __slots__ = ("name",)

    def __init__(self, *args, **kwargs):  # noqa: ARG002 - refused, whatever is passed
        raise TypeError("cannot create 'torch.layout' instances")

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):  # pickles by name: unpickling gives the same constant back
        return (_layout_by_name, (self.name,))


def _new_layout(name):
    lay = object.__new__(layout)
    lay.name = name
    return lay


LAYOUTS = {n: _new_layout(n) for n in ("strided", "sparse_coo", "sparse_csr", "sparse_csc",
                                       "sparse_bsr", "sparse_bsc", "_mkldnn", "jagged")}
strided, sparse_coo, sparse_csr, sparse_csc = (LAYOUTS[n] for n in (
    "strided", "sparse_coo", "sparse_csr", "sparse_csc"))
sparse_bsr, sparse_bsc, _mkldnn, jagged = (LAYOUTS[n] for n in (
    "sparse_bsr", "sparse_bsc", "_mkldnn", "jagged"))


def _layout_by_name(name):
    return LAYOUTS[name]
