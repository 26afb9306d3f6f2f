"""Argument parsing shared by the public wrappers: PyTorch's refusals of bad argument types.

NOTE [ Argument checks by parameter name ]
PyTorch parses every argument of a public function against its declared type (``int``,
``bool``, ``Scalar``, ``int[]``, ``ScalarType``, ``Tensor``) before any kernel runs, so
``topk(k=True)``, ``sum(keepdim="yes")``, ``conv2d(stride="2")`` or ``clamp(min=[1, 2])`` are
TypeErrors. ember's wrappers are Python functions whose parameter names follow PyTorch's, and a
name means the same type across the API (``keepdim`` is always a bool, ``dim`` an int, a tuple
of ints or None, ``alpha`` a Scalar, ``dtype`` a dtype). ``checked(fn, name)`` therefore
generates, once per public function, a thin front with ``fn``'s own signature that checks the
parameters it recognises by name (``RULES``) and calls ``fn``:

* the common case costs one class test per checked parameter (``k.__class__ is int``); the
  parsing helpers below run only when that test fails, and either normalise (a NumPy integer
  or a one-element integer tensor for an int, as PyTorch accepts) or raise PyTorch's type:
  TypeError for a wrong type, ValueError for an int beyond int64, OverflowError for a Scalar
  beyond it;
* ``None`` passes only where the function's default is ``None`` (PyTorch's optional
  arguments);
* a non-Tensor where the wrapper expected a Tensor fails inside it with an AttributeError on a
  Tensor attribute; the front turns that into PyTorch's TypeError naming the argument (the
  ``try`` costs nothing when nothing is raised).

Wrappers keep their own value checks (ranges, shapes, dtypes), which need the tensors.

NOTE [ Varargs by keyword ]
PyTorch's sizes and dimension lists are ``*size``/``*dims`` in Python yet also keywords:
``x.flip(dims=[0])``, ``x.view(size=(2, 3))``, ``x.repeat(repeats=(2, 1))``, ``zeros(size=(2,))``.
A front over a wrapper with ``*name`` therefore also takes ``name=`` (PyTorch's spelling from
``VARARGS_KW`` where the wrapper's own differs) and passes it on as the single positional
sequence the wrapper already accepts; giving both is PyTorch's TypeError. The cost is one
identity test per call. ``tests/test_param_names.py`` compares every public name's keywords
with PyTorch's schemas.
"""

from __future__ import annotations

import inspect
import numbers
import operator

from ember import _dtype as D
from ember._tensor import Tensor

_I64_MIN, _I64_MAX = -(2 ** 63), 2 ** 63 - 1


def _tname(v):
    t = type(v)
    if t.__module__ == "builtins":
        return t.__name__
    return f"{t.__module__.split('.')[0]}.{t.__name__}"


def int_arg(op, arg, v):
    """An ``int`` argument: ints and objects with ``__index__`` (not bools), or a one-element
    integer tensor; beyond int64 is PyTorch's ValueError.

    Example:
        >>> int_arg("topk", "k", numpy.int64(2))
        2
    """
    if v.__class__ is not int:
        if isinstance(v, Tensor):
            if v.numel() == 1 and v._data.dtype.kind in "iu":
                return int(v._data.reshape(()))
            raise TypeError(f"{op}(): argument '{arg}' must be int, not Tensor")
        if isinstance(v, bool) or type(v).__name__ == "bool" or not hasattr(v, "__index__"):
            raise TypeError(f"{op}(): argument '{arg}' must be int, not {_tname(v)}")
        v = operator.index(v)
    if not _I64_MIN <= v <= _I64_MAX:
        raise ValueError(f"{op}(): argument '{arg}' overflows int64 ({v}): Overflow when "
                         "unpacking long long")
    return v


def ints_arg(op, arg, v):
    """An ``int[]`` argument (sizes, strides, paddings): an int or a sequence of ints.

    Example:
        >>> ints_arg("conv2d", "stride", (2, 2))
        (2, 2)
    """
    if isinstance(v, (tuple, list)):
        out = []
        for pos, x in enumerate(v):
            if x.__class__ is not int:
                try:
                    x = int_arg(op, arg, x)
                except TypeError:
                    raise TypeError(f"{op}(): argument '{arg}' must be tuple of ints, but found "
                                    f"element of type {_tname(x)} at pos {pos}") from None
            if not _I64_MIN <= x <= _I64_MAX:  # an item: PyTorch's int[] parser's TypeError
                raise TypeError(f"{op}(): argument '{arg}' failed to unpack the object at pos "
                                f"{pos + 1} with error \"Overflow when unpacking long long\"")
            out.append(x)
        return type(v)(out)
    try:
        return int_arg(op, arg, v)
    except TypeError:
        raise TypeError(f"{op}(): argument '{arg}' must be tuple of ints, not "
                        f"{_tname(v)}") from None


def dim_arg(op, arg, v):
    """A ``dim`` argument: an int, a tuple/list of ints or None.

    Example:
        >>> dim_arg("sum", "dim", [0, 1])
        [0, 1]
    """
    if v is None:
        return v
    if isinstance(v, (tuple, list)):
        return ints_arg(op, arg, v)
    return int_arg(op, arg, v)


def var_dim_arg(op, arg, v):
    """``var``/``std``'s ``dim``, which may also be the legacy positional ``unbiased`` bool.

    Example:
        >>> var_dim_arg("var", "dim", True)
        True
    """
    return v if v is True or v is False else dim_arg(op, arg, v)


def max_dim_arg(op, arg, v):
    """``max``/``min``'s ``dim``, which may also be the ``other`` tensor of the binary form.

    Example:
        >>> max_dim_arg("max", "dim", 1)
        1
    """
    return v if isinstance(v, Tensor) else dim_arg(op, arg, v)


def layout_arg(op, arg, v, allowed=(D.strided,)):
    """A ``layout`` (NOTE [ Layouts ]): one of ``allowed`` (strided unless the op makes sparse
    tensors) or None; another layout is refused with NotImplementedError, never ignored, and
    anything but a layout is PyTorch's TypeError.

    Example:
        >>> layout_arg("zeros", "layout", ember.strided)
        torch.strided
        >>> layout_arg("zeros", "layout", ember.sparse_csr)
        Traceback (most recent call last):
        NotImplementedError: zeros(): layout=torch.sparse_csr is not supported here (...)
    """
    if v is None or v in allowed:
        return v
    if v.__class__ is not D.layout:
        raise TypeError(f"{op}(): argument '{arg}' must be torch.layout, not {_tname(v)}")
    names = ", ".join(map(repr, allowed))
    raise NotImplementedError(f"{op}(): {arg}={v!r} is not supported here (ember makes {names} "
                              "tensors)")


def bool_arg(op, arg, v):
    """A ``bool`` argument: only ``True``/``False`` (PyTorch refuses ints, NumPy bools and
    tensors here).

    Example:
        >>> bool_arg("sum", "keepdim", True)
        True
    """
    if v is True or v is False:
        return v
    raise TypeError(f"{op}(): argument '{arg}' must be bool, not {_tname(v)}")


def scalar_arg(op, arg, v, input=None):
    """A ``Scalar`` argument: a Python or NumPy number, or a 0-dim tensor (kept as is); a
    complex one is refused when ``input`` (the op's tensor, if given) is real.

    Example:
        >>> scalar_arg("add", "alpha", 2)
        2
    """
    if isinstance(v, complex) and isinstance(input, Tensor) and input._data.dtype.kind != "c":
        raise RuntimeError(f"{op}(): for non-complex input tensors, argument {arg} must not be "
                           "a complex number.")
    if isinstance(v, Tensor):
        if v._data.ndim:
            raise TypeError(f"{op}(): argument '{arg}' must be Number, not Tensor")
        return v
    if not isinstance(v, numbers.Number):
        raise TypeError(f"{op}(): argument '{arg}' must be Number, not {_tname(v)}")
    if isinstance(v, int) and not _I64_MIN <= v < 2 ** 64:
        raise OverflowError(f"{op}(): argument '{arg}' is an int too big to convert ({v})")
    return v


def float_arg(op, arg, v):
    """A ``float`` argument: a real number (a 0-dim real tensor is read).

    Example:
        >>> float_arg("isclose", "rtol", 1e-5)
        1e-05
    """
    if isinstance(v, Tensor) and v._data.ndim == 0 and v._data.dtype.kind in "biuf":
        return float(v._data)
    if isinstance(v, numbers.Real):
        return float(v)
    raise TypeError(f"{op}(): argument '{arg}' must be float, not {_tname(v)}")


def tensor_arg(op, arg, v):
    """A ``Tensor`` argument.

    Example:
        >>> tensor_arg("lerp", "end", 1.0)
        Traceback (most recent call last):
        TypeError: lerp(): argument 'end' must be Tensor, not float
    """
    if not isinstance(v, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {_tname(v)}")
    return v


def tensors_arg(op, arg, v):
    """A ``Tensor[]`` argument: a list or tuple (its items are checked where they are used).

    Example:
        >>> tensors_arg("cat", "tensors", (a, b)) == (a, b)
        True
    """
    if not isinstance(v, (list, tuple)):
        raise TypeError(f"{op}(): argument '{arg}' must be tuple of Tensors, not {_tname(v)}")
    return v


def padding_arg(op, arg, v):
    """A convolution ``padding``: an int, a sequence of ints, or a mode string.

    Example:
        >>> padding_arg("conv2d", "padding", "same")
        'same'
    """
    if isinstance(v, str):
        return v
    return ints_arg(op, arg, v)


def int_list_arg(op, arg, v):
    """An ``int[]`` argument that must be a sequence (``flip``'s ``dims``).

    Example:
        >>> int_list_arg("flip", "dims", [0])
        [0]
    """
    if not isinstance(v, (list, tuple)):
        raise TypeError(f"{op}(): argument '{arg}' must be tuple of ints, not {_tname(v)}")
    return ints_arg(op, arg, v)


def not_bool_arg(op, arg, v):
    """An int, int list or tensor argument that PyTorch still refuses as a bool.

    Example:
        >>> not_bool_arg("tensor_split", "indices_or_sections", 2)
        2
    """
    if isinstance(v, bool) or type(v).__name__ == "bool":
        raise TypeError(f"{op}(): argument '{arg}' must be int, list of ints or Tensor, not "
                        f"{_tname(v)}")
    return v


def opt_ints_arg(op, arg, v):
    """An ``int?[]`` argument (an adaptive pool's ``output_size``): ints, None items allowed.

    Example:
        >>> opt_ints_arg("adaptive_avg_pool2d", "output_size", (None, 2))
        (None, 2)
    """
    if isinstance(v, (tuple, list)):
        return type(v)(x if x is None else ints_arg(op, arg, x) for x in v)
    return ints_arg(op, arg, v)


def nan_arg(op, arg, v):
    """``nan_to_num``'s ``nan``: None (meaning 0.0) or a real number.

    Example:
        >>> nan_arg("nan_to_num", "nan", None)
        0.0
    """
    return 0.0 if v is None else float_arg(op, arg, v)


def scalar_or_tensor_arg(op, arg, v, input=None):
    """A ``Scalar`` or ``Tensor`` argument (``clamp``'s bounds).

    Example:
        >>> scalar_or_tensor_arg("clamp", "min", 0.5)
        0.5
    """
    if isinstance(v, Tensor):
        return v
    if not isinstance(v, numbers.Number):
        raise TypeError(f"{op}(): argument '{arg}' must be Number or Tensor, not {_tname(v)}")
    if isinstance(v, complex) and isinstance(input, Tensor) and input._data.dtype.kind != "c":
        raise RuntimeError(f"{op}(): {arg}={v} cannot be converted to type "
                           f"{input.dtype._short} without overflow")
    return scalar_arg(op, arg, v)


def dtype_arg(op, arg, v):
    """A ``dtype`` argument: an ember dtype, or one of the Python types PyTorch maps
    (``float``, ``int``, ``bool``, ``complex``).

    Example:
        >>> dtype_arg("zeros", "dtype", float) is ember.float64
        True
    """
    if isinstance(v, D.dtype):
        return v
    if v in (float, int, bool, complex):
        return {float: D.float64, int: D.int64, bool: D.bool_, complex: D.complex128}[v]
    raise TypeError(f"{op}(): argument '{arg}' must be ember.dtype, not {_tname(v)}")


# parameter name -> (parser, the classes that pass without parsing)
_INT = (int_arg, int)
_BOOL = (bool_arg, bool)
RULES = {
    **dict.fromkeys(("keepdim", "descending", "largest", "sorted", "stable", "equal_nan",
                     "right", "replacement", "unbiased", "training", "ceil_mode",
                     "count_include_pad", "return_indices", "log_target",
                     "out_int32", "return_inverse", "return_counts", "align_corners",
                     "scale_grad_by_freq", "sparse"), _BOOL),
    **dict.fromkeys(("k", "chunks", "diagonal", "offset", "dim0", "dim1", "dim2", "start_dim",
                     "end_dim", "decimals", "minlength", "bins", "groups", "num_classes",
                     "padding_idx", "steps", "num_samples", "n"), _INT),
    "dim": (dim_arg, int),
    **dict.fromkeys(("alpha", "beta"), (scalar_arg, int)),
    **dict.fromkeys(("value", "min", "max"), (scalar_or_tensor_arg, float)),
    **dict.fromkeys(("rtol", "atol", "eps", "momentum", "label_smoothing"), (float_arg, float)),
    # Scalars in PyTorch's schemas (an int beyond int64 overflows), floats in ember
    **dict.fromkeys(("negative_slope", "min_val", "max_val", "threshold", "lambd"),
                    (scalar_arg, float)),
    **dict.fromkeys(("stride", "dilation", "kernel_size", "output_padding"), (ints_arg, int)),
    "padding": (padding_arg, int),
    "dtype": (dtype_arg, D.dtype),
    "tensors": (tensors_arg, list),
    "layout": (layout_arg, type(None)),
}
_TENSOR = (tensor_arg, Tensor)
_FLOAT = (float_arg, float)


class _Never:  # the fast class of rules whose values are always parsed (sequences)
    pass


_SCALAR_T = (scalar_or_tensor_arg, float)
_STRIDED_OR_COO = (D.strided, D.sparse_coo)
_LOSS = {"input": _TENSOR, "target": _TENSOR}
# function name -> its own rules, where a name means another type there than elsewhere
OVERRIDES = {
    "histogram": {"bins": None},  # an int or a Tensor of edges
    "histogramdd": {"bins": None},
    "local_response_norm": {"k": _FLOAT},
    **{n: {"dim": (var_dim_arg, int)} for n in ("var", "std", "var_mean", "std_mean")},
    **{n: {"dim": (max_dim_arg, int)} for n in ("max", "min")},
    "flip": {"dims": (int_list_arg, _Never)},
    # zeros/empty make sparse COO tensors too (NOTE [ Layouts ])
    **{n: {"layout": (lambda op, arg, v: layout_arg(op, arg, v, _STRIDED_OR_COO), type(None))}
       for n in ("zeros", "empty")},
    "tensor_split": {"indices_or_sections": (not_bool_arg, int)},
    "repeat_interleave": {"repeats": (not_bool_arg, Tensor)},
    **{n: {"input": _TENSOR, "tensor1": _TENSOR, "tensor2": _TENSOR}
       for n in ("addcmul", "addcdiv")},
    **{n: {"input": _TENSOR, "other": _TENSOR} for n in ("isclose", "allclose", "equal")},
    **{n: {"min": (scalar_or_tensor_arg, float)} for n in ("clamp", "clip", "clamp_min")},
    "narrow": {"start": _INT, "length": _INT},
    "select": {"index": _INT},
    "movedim": {"source": (dim_arg, int), "destination": (dim_arg, int)},
    "moveaxis": {"source": (dim_arg, int), "destination": (dim_arg, int)},
    "roll": {"shifts": (dim_arg, int), "dims": (dim_arg, int)},
    "split": {"split_size_or_sections": (dim_arg, int)},
    "tril_indices": {"row": _INT, "col": _INT},
    "triu_indices": {"row": _INT, "col": _INT},
    "eye": {"m": _INT},
    **{n: {"p": _FLOAT} for n in ("cdist", "pairwise_distance")},
    "dist": {"p": (scalar_arg, float)},  # a Scalar there
    **{n: {"start": (scalar_or_tensor_arg, float), "end": (scalar_or_tensor_arg, float)}
       for n in ("linspace", "logspace")},
    "scatter_add": {"src": _TENSOR},
    "quantile": {"q": (scalar_or_tensor_arg, float)},
    "nanquantile": {"q": (scalar_or_tensor_arg, float)},
    "full_like": {"fill_value": (scalar_arg, float)},
    "nan_to_num": {"nan": (nan_arg, float), "posinf": _FLOAT, "neginf": _FLOAT},
    "huber_loss": {"delta": _FLOAT},
    "pad": {"value": (float_arg, float), "pad": (ints_arg, _Never)},
    "lerp": {"input": _TENSOR, "end": _TENSOR, "weight": _SCALAR_T},
    "scatter": {"src": _SCALAR_T},
    "searchsorted": {"sorted_sequence": _TENSOR, "input": _SCALAR_T},
    "bucketize": {"input": _SCALAR_T, "boundaries": _TENSOR},
    **{n: {"output_size": (opt_ints_arg, int)} for n in (
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
        "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d")},
    **{n: _LOSS for n in ("mse_loss", "l1_loss", "kl_div", "nll_loss", "cross_entropy",
                          "binary_cross_entropy", "soft_margin_loss", "huber_loss")},
    "smooth_l1_loss": {**_LOSS, "beta": _FLOAT},
    "binary_cross_entropy_with_logits": {**_LOSS, "pos_weight": _TENSOR, "weight": _TENSOR},
    "cross_entropy": {**_LOSS, "ignore_index": _INT},
    "nll_loss": {**_LOSS, "ignore_index": _INT},
}
# NOTE [ Dtypes refused by name ]: the dtypes PyTorch's kernels refuse, checked by the same
# fronts: op -> [(parameters, dtype kinds refused, exception, message)]; ``{op}`` and
# ``{dt}`` (the dtype's PyTorch name) are filled in. "c" complex, "b" bool, "iu" integers.
_NI = NotImplementedError
_KERNEL = '"{op}" not implemented for \'{dt}\''
_IN = ("input",)
REFUSE = {
    **{n: [(_IN, "c", _NI, _KERNEL)] for n in (
        "erf", "erfc", "round", "amax", "amin", "aminmax", "kthvalue", "median", "mode",
        "cummax", "cummin", "softmax", "log_softmax", "gelu", "leaky_relu", "elu", "softplus",
        "layer_norm", "group_norm", "cross_entropy", "nll_loss", "mse_loss",
        "smooth_l1_loss", "binary_cross_entropy_with_logits", "interpolate",
        "adaptive_avg_pool2d", "adaptive_avg_pool1d", "avg_pool2d", "avg_pool1d")},
    # (clamp/clip: in their body, after PyTorch's first check that a bound is given)
    **{n: [(_IN, "c", _NI, "clamp is not supported for complex types")] for n in (
        "relu", "clamp_min", "clamp_max", "hardtanh", "relu6")},
    **{n: [(("input", "other"), "c", RuntimeError, "{op} not implemented for complex tensors.")]
       for n in ("maximum", "minimum", "fmax", "fmin")},
    **{n: [(_IN, "b", _NI, _KERNEL)] for n in ("trace",)},
    **{n: [(_IN, "bc", _NI, _KERNEL)] for n in ("ceil", "floor", "trunc", "fix", "frac")},
    "erfinv": [(_IN, "c", _NI, _KERNEL)],
    "bincount": [(_IN, "bfc", _NI, _KERNEL)],
    "histc": [(_IN, "c", _NI, _KERNEL)],
    "bmm": [(("input", "mat2"), "b", _NI, _KERNEL)],
    **{n: [(_IN, "c", _NI, _KERNEL)] for n in ("max_pool1d", "max_pool2d", "max_pool3d",
                                                "grid_sample")},
    "sign": [(_IN, "c", _NI, "Unlike NumPy, torch.sign is not intended to support complex "
              "numbers. Please use torch.sgn instead.")],
    "kthvalue": [(_IN, "bc", _NI, _KERNEL)],
    "median": [(_IN, "bc", _NI, _KERNEL)],
    "nansum": [(_IN, "c", RuntimeError, "nansum on CPU does not support complex inputs")],
    **{n: [(_IN, "b", RuntimeError, "{op}(): does not support bool input"),
           (_IN, "c", RuntimeError, "{op}(): does not support complex input")]
       for n in ("argmax", "argmin")},
    **{n: [(_IN, "c", RuntimeError, "{op}(): does not support complex input")]
       for n in ("max", "min")},
    "topk": [(_IN, "b", RuntimeError, "topk does not support bool dtypes on CPU"),
             (_IN, "c", RuntimeError, "topk does not support complex dtypes on CPU")],
    **{n: [(_IN, "c", RuntimeError, "Sort does not support complex dtypes on CPU")]
       for n in ("sort", "argsort", "msort")},
    "searchsorted": [(("sorted_sequence", "input"), "c", _NI, _KERNEL)],
    "bucketize": [(("input", "boundaries"), "c", _NI, _KERNEL)],
    "multinomial": [(_IN, "biuc", RuntimeError, "multinomial only supports floating-point "
                     "dtypes for input, got: {dt}")],
    "cdist": [(("x1", "x2"), "biuc", RuntimeError, "cdist only supports floating-point dtypes, "
               "got: {dt}")],
    **{n: [(("input", "other", "target", "x1", "x2"), "b", RuntimeError, "Subtraction, the "
            "`-` operator, with a bool tensor is not supported. If you are trying to invert a "
            "mask, use the `~` or `logical_not()` operator instead.")] for n in (
        "dist", "l1_loss", "pairwise_distance")},
    "binary_cross_entropy_with_logits": [
        (("target",), "biuc", RuntimeError, "result type Float can't be cast to the desired "
         "output type {dt}"), (("pos_weight",), "bc", RuntimeError, "binary_cross_entropy_with_"
         "logits(): pos_weight of dtype {dt} is not supported"), (_IN, "biuc", _NI, _KERNEL)],
    "kl_div": [(("input", "target"), "biu", RuntimeError, "kl_div: Integral inputs not "
                "supported."), (_IN, "c", RuntimeError, "kl_div: Complex inputs not supported.")],
    "cosine_similarity": [(("x1", "x2"), "c", RuntimeError, "expected common dtype to be "
                           "floating point, yet common dtype is {dt}")],
    "masked_select": [(("mask",), "iufc", RuntimeError,
                       "masked_select: expected BoolTensor for mask")],
}
REFUSE["dropout"] = [(_IN, "biu", RuntimeError, "result type Float can't be cast to the "
                      "desired output type {dt}"), (_IN, "c", _NI, _KERNEL)]
for _n in ("mse_loss", "smooth_l1_loss"):
    REFUSE[_n] = [(("input", "target"), "c", _NI, _KERNEL)]
REFUSE["nll_loss"] = [(_IN, "biuc", _NI, _KERNEL)]
for _n in ("interpolate", "adaptive_avg_pool2d", "adaptive_avg_pool1d"):
    REFUSE[_n] = [(_IN, "biuc", _NI, _KERNEL)]
REFUSE["avg_pool2d"] = REFUSE["avg_pool1d"] = [(_IN, "bc", _NI, _KERNEL)]
# op -> (parameters that must share one dtype, message with {a}/{b}: PyTorch's names)
SAME_DTYPE = {
    "lerp": (("input", "end"), "expected dtype {a} for `end` but got dtype {b}"),
    "addmm": (("input", "mat1", "mat2"), "self and mat2 must have the same dtype, but got {a} "
              "and {b}"),
    "addmv": (("input", "mat", "vec"), "addmv input tensors must have the same dtype, but got "
              "{a}, {b}"),
    "baddbmm": (("input", "batch1", "batch2"), "Input dtypes must be the same, got: input {a}, "
                "batch1: {b}"),
    "addbmm": (("input", "batch1", "batch2"), "Input dtypes must be the same, got: input {a}, "
               "batch1: {b}"),
    "scatter_add": (("input", "src"), "scatter(): Expected self.dtype to be equal to "
                    "src.dtype"),
    "scatter": (("input", "src"), "scatter(): Expected self.dtype to be equal to src.dtype"),
    "scatter_reduce": (("input", "src"), "scatter(): Expected self.dtype to be equal to "
                       "src.dtype"),
    "index_add": (("input", "source"), "index_add_(): self ({a}) and source ({b}) must have "
                  "the same scalar type"),
    "cdist": (("x1", "x2"), "expected scalar type {a} but found {b}"),
    "bilinear": (("input1", "input2", "weight", "bias"), "All tensors must have the same "
                 "dtype, got input1: {a}, input2 or weight: {b}"),
    "batch_norm": (("input", "running_mean", "running_var", "weight", "bias"), "mixed dtype "
                   "(CPU): all inputs must share same datatype."),
}


# ops whose PyTorch kernels (and their dtype checks) never run on a 0-dim or an empty input
_ZERO_DIM_PASSES = frozenset(("cummax", "cummin", "kthvalue", "median", "mode"))
_EMPTY_PASSES = frozenset(("softmax", "log_softmax", "amax", "amin"))  # and these on an empty one


def refuse_dtype(op, v, exc, msg):
    raise exc(msg.format(op=op, dt=v.dtype._short))


def mixed_dtypes(op, msg, *ts):
    ts = [t for t in ts if isinstance(t, Tensor)]
    a = ts[0].dtype
    for t in ts[1:]:
        if t.dtype is not a:
            # one "op(): " prefix: a message quoting PyTorch's own op prefix gets this op's
            text = msg.format(a=a._short, b=t.dtype._short)
            head, sep, rest = text.partition("(): ")
            if sep and head.isidentifier():
                text = rest
            raise RuntimeError(f"{op}(): {text}")


# a Tensor attribute whose absence on an argument means "this argument is not a Tensor"
_TENSOR_ATTRS = frozenset(n for c in Tensor.__mro__ for n in getattr(c, "__slots__", ())) | \
    frozenset(n for n in dir(Tensor) if not n.startswith("__"))


_NO_OBJ = object()
_RESERVED = frozenset(("_fn", "_nat", "_op", "_T", "_refuse", "_mixed", "_msame", "_t", "_va",
                       "_nokw"))

# PyTorch's keyword for a wrapper's *varargs where the wrapper names them otherwise
# (NOTE [ Varargs by keyword ])
VARARGS_KW = {"view": "size", "expand": "size", "repeat": "repeats", "resize_": "size"}


class _NoKeyword:
    """The default of a varargs keyword: told apart from any value a user passes."""

    __slots__ = ()

    def __repr__(self):
        return "<no keyword>"


_NOKW = _NoKeyword()


def not_a_tensor(op, fn_args, err):
    """Turn an AttributeError raised on a non-Tensor argument into PyTorch's TypeError."""
    obj = getattr(err, "obj", _NO_OBJ)
    if err.name not in _TENSOR_ATTRS or obj is _NO_OBJ or isinstance(obj, Tensor):
        return err
    for arg, v in fn_args:
        if v is obj:
            return TypeError(f"{op}(): argument '{arg}' must be Tensor, not {_tname(obj)}")
        if isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                if x is obj:
                    return TypeError(f"{op}(): expected Tensor as element {i} in argument "
                                     f"'{arg}', but got {_tname(obj)}")
    return err


def checked(fn, op=None, rules=None):
    """A front for ``fn`` with its signature that checks arguments by name (NOTE [ Argument
    checks by parameter name ]); attributes of ``fn`` (``op``, ``core``, ...) are kept.

    Args:
        fn: the wrapper to front.
        op: the name errors give (default ``fn.__name__``).
        rules: extra or overriding rules for this function, name -> (parser, fast class) or
            None to skip a name.

    Example:
        >>> ember.topk(ember.arange(4.0), k=True)
        Traceback (most recent call last):
        TypeError: topk(): argument 'k' must be int, not bool
    """
    if getattr(fn, "__ember_checked__", False) or (op or fn.__name__).startswith("_"):
        return fn  # private records' wrappers parse their own arguments
    if id(fn) in _FRONTS and _FRONTS[id(fn)][0] is fn:  # one front per function (aliases)
        return _FRONTS[id(fn)][1]
    front = _make_front(fn, op, rules)
    _FRONTS[id(fn)] = (fn, front)
    return front


_FRONTS = {}

# NOTE [ Pickling fronts ]
# pickle stores a function as (module, qualname) and checks that the lookup gives the same
# object back; a front's qualname is a key naming the wrapped function, and the module-level
# __getattr__ below turns the key back into checked(that function), the one memoised front.
_KEY_PREFIX = "front__"


def _front_key(fn):
    return _KEY_PREFIX + fn.__module__.replace(".", "_D_") + "__" + fn.__qualname__


def __getattr__(name):
    if not name.startswith(_KEY_PREFIX):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    mod, _, qual = name[len(_KEY_PREFIX):].rpartition("__")
    obj = importlib.import_module(mod.replace("_D_", "."))
    for part in qual.split("."):
        obj = getattr(obj, part)
    return checked(obj)


def _make_front(fn, op, rules):
    op = op or fn.__name__
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn
    table = {**RULES, **OVERRIDES.get(op, {}), **(rules or {})}
    ns = {"_fn": fn, "_nat": not_a_tensor, "_op": op}
    params, call, checks, names = [], [], [], []
    star = False
    varkw = None  # (the *varargs' keyword, its name in the wrapper)
    for i, p in enumerate(sig.parameters.values()):
        n = p.name
        if not n.isidentifier() or n.startswith("_") and (n in _RESERVED or n[1:2].isalpha()
                                                           and n[2:].isdigit()):
            return fn  # a name the generated code uses itself
        default = ""
        if p.default is not p.empty:
            ns[f"_d{i}"] = p.default
            default = f"=_d{i}"
        if p.kind is p.VAR_POSITIONAL:
            kw = VARARGS_KW.get(op, n)
            if kw in sig.parameters and kw != n:
                kw = None  # the keyword is a parameter of its own
            varkw = (kw, n) if kw else None
            params.append("*_va" if varkw else f"*{n}")
            if varkw:
                params.append(f"{kw}=_nokw")
                ns["_nokw"] = _NOKW
            call.append("*_va" if varkw else f"*{n}")
            star = True
            names.append("_va" if varkw else n)
            continue
        if p.kind is p.VAR_KEYWORD:
            params.append(f"**{n}")
            call.append(f"**{n}")
            names.append(n)
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            params.append("*")
            star = True
        params.append(n + default)
        call.append(n if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) else f"{n}={n}")
        names.append(n)
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(sig.parameters) or list(
                sig.parameters.values())[i + 1].kind is not p.POSITIONAL_ONLY):
            params.append("/")
        rule = table.get(n)
        if rule is None:
            continue
        parser, fast = rule
        ns[f"_p{i}"] = parser
        ns[f"_c{i}"] = fast
        cond = f"{n}.__class__ is not _c{i}"
        if fast is int:  # ints beyond int64 take the parser too
            cond = f"({cond} or not -9223372036854775808 <= {n} <= 9223372036854775807)"
        if p.default is None:
            cond = f"{n} is not None and " + cond
        extra = ", input" if parser in (scalar_arg, scalar_or_tensor_arg) and \
            "input" in sig.parameters and n != "input" else ""
        checks.append(f"    if {cond}:\n        {n} = _p{i}(_op, {n!r}, {n}{extra})")
    plain = {n for n in names if n in sig.parameters
             and sig.parameters[n].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                inspect.Parameter.VAR_KEYWORD)}
    ns["_T"] = Tensor
    ns["_refuse"] = refuse_dtype
    for j, (ps, kinds, exc, msg) in enumerate(REFUSE.get(op, ())):
        ns[f"_e{j}"], ns[f"_m{j}"] = exc, msg
        for n in ps:
            if n in plain:
                nd = f" and {n}._data.ndim and {n}._data.size" if op in _ZERO_DIM_PASSES \
                    else f" and {n}._data.size" if op in _EMPTY_PASSES else ""
                checks.append(f"    if isinstance({n}, _T) and {n}._data.dtype.kind in "
                              f"{kinds!r}{nd}:\n        _refuse(_op, {n}, _e{j}, _m{j})")
    same = SAME_DTYPE.get(op)
    if same is not None and sum(n in plain for n in same[0]) > 1:
        ns["_mixed"], ns["_msame"] = mixed_dtypes, same[1]
        ts = [n for n in same[0] if n in plain]
        cond = " or ".join(f"isinstance({n}, _T) and {n}._data.dtype is not {ts[0]}._data.dtype"
                           for n in ts[1:])
        checks.append(f"    if isinstance({ts[0]}, _T) and ({cond}):\n"
                      f"        _mixed(_op, _msame, {', '.join(ts)})")
    if not checks and not varkw and not any(n in ("input", "self", "tensors", "other")
                                            for n in names):
        return fn
    if varkw:
        kw, n = varkw
        checks.insert(0, f"    if {kw} is not _nokw:\n        if _va:\n"
                         f"            raise TypeError(\"{op}() got multiple values for "
                         f"argument '{kw}'\")\n        _va = ({kw},)")
    pairs = ", ".join(f"({(varkw[1] if n == '_va' else n)!r}, {n})" for n in names)
    src = (f"def {op if op.isidentifier() else 'front'}({', '.join(params)}):\n"
           + "".join(c + "\n" for c in checks)
           + f"    try:\n        return _fn({', '.join(call)})\n"
           + "    except AttributeError as e:\n"
           + f"        raise _nat(_op, ({pairs},), e) from None\n")
    exec(compile(src, f"<checked {op}>", "exec"), ns)  # noqa: S102 - generated from a signature
    front = next(v for k, v in ns.items() if callable(v) and getattr(v, "__code__", None)
                 and v.__code__.co_filename == f"<checked {op}>")
    front.__dict__.update(fn.__dict__)
    for a in ("__name__", "__doc__"):
        setattr(front, a, getattr(fn, a, None))
    # pickled by reference to this module, which finds (or makes) the front again: the
    # module's own name for fn is fn itself (NOTE [ Pickling fronts ])
    front.__module__ = __name__
    front.__qualname__ = _front_key(fn)
    front.__wrapped__ = fn
    front.__signature__ = sig
    front.__ember_checked__ = True
    if varkw:
        front.__ember_varargs_kw__ = (varkw[0],)
    return front
