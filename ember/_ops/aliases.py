"""Top-level functions and Tensor methods that PyTorch spells in more than one place.

NOTE [ Aliases of existing ops ]
PyTorch exposes many ops a second time: ``torch.sin_(x)`` beside ``x.sin_()``,
``torch.unsafe_split`` beside ``split``, ``x.transpose_`` beside ``transpose``. Each name
here is a thin front over a record that already exists (the in-place path, the view ops,
``nonzero``, ``constant_pad_nd`` ...), so autograd, version counters, views and dispatch
modes behave exactly as through the original spelling; none of them adds a record. The
in-place *metadata* methods (``t_``, ``transpose_``, ``squeeze_``, ``unsqueeze_``,
``swapaxes_``, ``as_strided_``) run the view op and then give ``self`` the view's array and
history (NOTE [ Metadata changed in place ]). ``resize_``/``set_`` change which memory a
tensor holds, and, as in PyTorch, refuse tensors that require grad.

``TOP`` holds the functions ``ember/__init__.py`` exports; the methods are attached to
``Tensor`` by ``attach()``.
"""

from __future__ import annotations

import builtins
import math

from ember import _dtype as D
from ember._graph import GRAD
from ember._ops.args import layout_arg
from ember._tensor import Tensor

TOP: dict = {}

# In-place functions PyTorch has at the top level (``torch.<name>(input, ...)``) whose method
# ``Tensor.<name>`` ember already has.
_INPLACE_TOP = (
    "abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ "
    "atan_ atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ conj_physical_ cos_ cosh_ "
    "deg2rad_ detach_ erf_ erfc_ exp_ exp2_ expm1_ fill_ fix_ floor_ frac_ gcd_ i0_ "
    "index_put_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ "
    "rad2deg_ reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ "
    "tanh_ trunc_ xlogy_ zero_ resize_as_ as_strided_").split()


def _top(fn):
    TOP[fn.__name__] = fn
    return fn


def _inplace_function(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"In-place ``{name[:-1]}`` of ``input``: the same as ``input.{name}(...)``.\n\n"
        "Writes the result into ``input``'s memory, bumps its version counter and returns "
        "``input`` itself.\n\n"
        "Args:\n"
        "    input: the tensor to modify.\n"
        f"    *args, **kwargs: the other arguments of ``Tensor.{name}``.\n\n"
        "Returns:\n"
        "    ``input``.\n\n"
        "Example:\n"
        f"    >>> x = {_EXAMPLE_INPUT.get(name, 'ember.tensor([0.25, 0.5])')}\n"
        f"    >>> ember.{name}(x{_EXAMPLE_ARGS.get(name, '')}) is x\n"
        "    True\n")
    return fn


_EXAMPLE_INPUT = {"gcd_": "ember.tensor([2, 4])", "lcm_": "ember.tensor([2, 4])"}
_EXAMPLE_ARGS = {
    "addmv_": ", ember.ones(2, 2), ember.ones(2)", "as_strided_": ", (2,), (1,)",
    "clamp_": ", 0.3", "clamp_max_": ", 0.3", "clamp_min_": ", 0.3", "clip_": ", 0.3, 0.4",
    "fill_": ", 1.0", "gcd_": ", ember.tensor([6, 6])", "lcm_": ", ember.tensor([6, 6])",
    "index_put_": ", (ember.tensor([0]),), ember.tensor(1.0)", "ldexp_": ", ember.tensor([1, 2])",
    "xlogy_": ", ember.tensor([2.0, 3.0])", "resize_as_": ", ember.ones(2)",
}


# --------------------------------------------------------------------------- plain aliases
@_top
def detach(input):
    """A tensor sharing ``input``'s memory with no autograd history (``Tensor.detach``).

    Args:
        input: the tensor.

    Returns:
        A new tensor object over the same memory, ``requires_grad=False``.

    Example:
        >>> x = ember.ones(2, requires_grad=True)
        >>> ember.detach(x).requires_grad
        False
    """
    return input.detach()


@_top
def fill(input, value):
    """A new tensor shaped like ``input`` filled with ``value`` (out-of-place ``fill_``).

    Gradients flow to ``value`` when it is a tensor; ``input`` gets a zero gradient.

    Args:
        input: the tensor giving shape and dtype.
        value: a number or a 0-dim tensor.

    Returns:
        The filled tensor.

    Example:
        >>> ember.fill(ember.zeros(3), 2.0)
        tensor([2., 2., 2.])
    """
    return input.clone().fill_(value)


def is_neg(input):
    """Whether ``input`` has its lazy negation bit set: always False, since ember negates
    eagerly.

    Args:
        input: the tensor.

    Returns:
        False.

    Example:
        >>> ember.is_neg(-ember.ones(2))
        False
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"is_neg(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return False


def is_distributed(input):
    """Whether ``input`` is a distributed tensor: always False in ember (as on PyTorch's
    CPU).

    Args:
        input: the tensor.

    Returns:
        False.

    Example:
        >>> ember.is_distributed(ember.ones(2))
        False
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"is_distributed(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return False


TOP["is_neg"] = is_neg
TOP["is_distributed"] = is_distributed


def _method_alias(name, method):
    def fn(input, *args, **kwargs):
        return getattr(input, method)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"The same as ``input.{method}(...)`` (PyTorch's top-level ``{name}``).\n\n"
                  "Args:\n    input: the tensor.\n    *args, **kwargs: the other arguments "
                  f"of ``Tensor.{method}``.\n\nReturns:\n    What ``Tensor.{method}`` returns."
                  f"\n\nExample:\n    >>> ember.{name}(ember.ones(2)) == ember.ones(2)."
                  f"{method}()\n    True\n")
    return fn


for _n in ("is_signed", "is_inference", "get_device"):
    TOP[_n] = _method_alias(_n, _n)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` without the view tracking PyTorch skips for speed: the same pieces.

    Args:
        input: the tensor to split.
        chunks: how many pieces.
        dim: the dimension to split.

    Returns:
        A tuple of tensors.

    Example:
        >>> [t.tolist() for t in ember.unsafe_chunk(ember.arange(4), 2)]
        [[0, 1], [2, 3]]
    """
    return input.chunk(chunks, dim)


def unsafe_split(input, split_size, dim=0):
    """``split`` (PyTorch's unchecked spelling): the same pieces.

    Args:
        input: the tensor to split.
        split_size: the size of each piece (the last may be smaller), or a list of sizes.
        dim: the dimension to split.

    Returns:
        A tuple of tensors.

    Example:
        >>> [t.tolist() for t in ember.unsafe_split(ember.arange(5), 2)]
        [[0, 1], [2, 3], [4]]
    """
    return input.split(split_size, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes`` (PyTorch's unchecked spelling): the same pieces.

    Args:
        input: the tensor to split.
        split_sizes: the size of each piece; they must add up to ``input.size(dim)``.
        dim: the dimension to split.

    Returns:
        A tuple of tensors.

    Example:
        >>> [t.tolist() for t in ember.unsafe_split_with_sizes(ember.arange(5), [1, 4])]
        [[0], [1, 2, 3, 4]]
    """
    split_sizes = list(split_sizes)
    if sum(split_sizes) != input.size(dim):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.size(dim)} (input tensor's size at dimension {dim}), but "
                           f"got split_sizes={split_sizes}")
    return input.split(split_sizes, dim)


for _f in (unsafe_chunk, unsafe_split, unsafe_split_with_sizes):
    TOP[_f.__name__] = _f


@_top
def nonzero_static(input, *, size, fill_value=-1):
    """The indices of non-zero elements (as ``nonzero``), padded with ``fill_value`` or
    truncated to exactly ``size`` rows.

    Args:
        input: the tensor.
        size: the number of rows of the result.
        fill_value: the value of padding rows.

    Returns:
        An int64 tensor of shape ``(size, input.dim())``.

    Example:
        >>> ember.nonzero_static(ember.tensor([0, 3, 0, 4]), size=3)
        tensor([[ 1],
                [ 3],
                [-1]])
    """
    if not isinstance(size, builtins.int) or isinstance(size, builtins.bool):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not "
                        f"{type(size).__name__}")
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    idx = input.nonzero()
    n = idx.shape[0]
    if n >= size:
        return idx[:size]
    import ember

    pad = ember.full((size - n, idx.shape[1]), fill_value, dtype=D.int64, device=input.device)
    return ember.cat([idx, pad])


@_top
def constant_pad_nd(input, pad, value=0):
    """Pad the trailing dimensions with a constant (``F.pad(mode="constant")``'s kernel).

    Args:
        input: the tensor.
        pad: ``(left_last, right_last, left_prev, right_prev, ...)``; negative amounts crop.
        value: the fill value.

    Returns:
        The padded tensor (differentiable).

    Example:
        >>> ember.constant_pad_nd(ember.ones(2), [1, 0], 5.0)
        tensor([5., 1., 1.])
    """
    from ember._ops.core import apply
    from ember._ops.pool import PAD_CONST

    pad = [builtins.int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > input.dim():
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}"
                           if len(pad) % 2 else
                           f"Length of pad should be no more than twice the number of "
                           f"dimensions of the input. Pad length is {len(pad)} while the input "
                           f"has {input.dim()} dimensions.")
    pairs = tuple((pad[i], pad[i + 1]) for i in range(0, len(pad), 2))[::-1]
    return apply(PAD_CONST, (input,), (pairs, value))


def _factory_kwargs(dtype, device, requires_grad, layout, pin_memory, name):
    layout_arg(name, "layout", layout)
    if pin_memory:
        raise NotImplementedError(f"{name}(): pin_memory=True (ember has no pinned memory)")
    return dict(dtype=dtype, device=device, requires_grad=requires_grad)


@_top
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised (in ember: zero-filled) tensor with the given sizes and strides.

    Args:
        size: the shape.
        stride: the strides, in elements (non-negative).
        dtype, device, requires_grad: as for ``empty``.
        layout: only ``ember.strided``.
        pin_memory: only False.

    Returns:
        A tensor whose ``stride()`` is ``stride``.

    Example:
        >>> ember.empty_strided((2, 3), (1, 2)).stride()
        (1, 2)
    """
    import ember

    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(size)} vs "
                           f"{len(stride)})")
    kw = _factory_kwargs(dtype, device, False, layout, pin_memory, "empty_strided")
    n = 1 + builtins.sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    t = ember.empty(n, **kw).as_strided(size, stride, 0)
    # a fresh leaf (not a view of the hidden block), as in PyTorch
    t = t.detach()
    t._base = None
    t._meta = None
    return t.requires_grad_(requires_grad) if requires_grad else t


@_top
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """An uninitialised (zero-filled) tensor of shape ``size`` laid out in memory in the
    dimension order ``physical_layout`` (outermost first).

    Args:
        size: the logical shape.
        physical_layout: a permutation of ``range(len(size))``.
        dtype, device, requires_grad, layout, pin_memory: as for ``empty_strided``.

    Returns:
        The tensor.

    Example:
        >>> ember.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
        (12, 1, 3)
    """
    size, perm = tuple(size), tuple(physical_layout)
    if sorted(perm) != list(range(len(size))):
        raise RuntimeError(f"empty_permuted: physical_layout {list(perm)} is not a permutation "
                           f"of the {len(size)} dimensions of size {list(size)}")
    stride = [0] * len(size)
    acc = 1
    for d in reversed(perm):
        stride[d] = acc
        acc *= size[d]
    return empty_strided(size, stride, dtype=dtype, layout=layout, device=device,
                         requires_grad=requires_grad, pin_memory=pin_memory)


@_top
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the memory of an object with the buffer protocol (no copy: writes
    through either are seen by the other when the buffer is writable).

    Args:
        buffer: a ``bytearray``, ``array.array``, ``memoryview``, ...
        dtype: the element type to read the bytes as.
        count: how many elements (-1: all that fit after ``offset``).
        offset: bytes to skip at the start.
        requires_grad: make the result a leaf that requires grad.

    Returns:
        The 1-D tensor.

    Example:
        >>> ember.frombuffer(bytearray(b"\\x01\\x02"), dtype=ember.uint8)
        tensor([1, 2], dtype=torch.uint8)
    """
    import numpy as np

    if not isinstance(dtype, D.dtype):
        raise TypeError(f"frombuffer(): argument 'dtype' must be torch.dtype, not "
                        f"{type(dtype).__name__}")
    mv = memoryview(buffer)
    nbytes = mv.nbytes
    item = dtype.itemsize
    if offset < 0 or offset >= nbytes and nbytes:
        raise ValueError(f"both buffer length ({nbytes}) and offset ({offset}) must be "
                         "positive and buffer length must be greater than offset")
    if count == -1:
        if (nbytes - offset) % item:
            raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({item})")
        count = (nbytes - offset) // item
    elif count <= 0 or offset + count * item > nbytes:
        raise ValueError(f"requested buffer length ({count} * {item} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({nbytes} bytes)")
    arr = np.frombuffer(mv, dtype=dtype.np, count=count, offset=offset)
    if not arr.flags.writeable:
        import warnings

        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. ember shares the memory read-only; writing to "
                      "the tensor raises.", UserWarning, stacklevel=2)
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


# --------------------------------------------------------------------------- settings
_WARN_ALWAYS = [False]
_INTEROP = [1]
_DEBUG_MODE = {"default": 0, "warn": 1, "error": 2}


@_top
def set_warn_always(b):
    """Make warnings PyTorch issues only once per process be issued every time.

    ember stores the flag (read by ``is_warn_always_enabled``); its own once-only warnings
    go through Python's ``warnings``, whose filters decide repetition.

    Args:
        b: bool.

    Returns:
        None.

    Example:
        >>> ember.set_warn_always(False)
        >>> ember.is_warn_always_enabled()
        False
    """
    if not isinstance(b, builtins.bool):
        raise TypeError(f"set_warn_always(): argument 'enabled' must be bool, not "
                        f"{type(b).__name__}")
    _WARN_ALWAYS[0] = b


@_top
def is_warn_always_enabled():
    """Whether ``set_warn_always(True)`` is in effect (default False).

    Returns:
        bool.

    Example:
        >>> ember.is_warn_always_enabled()
        False
    """
    return _WARN_ALWAYS[0]


@_top
def set_deterministic_debug_mode(debug_mode):
    """``use_deterministic_algorithms`` by level: 0/"default" off, 1/"warn" warn only,
    2/"error" raise.

    Args:
        debug_mode: 0, 1, 2 or "default", "warn", "error".

    Returns:
        None.

    Example:
        >>> ember.set_deterministic_debug_mode("warn")
        >>> ember.get_deterministic_debug_mode()
        1
        >>> ember.set_deterministic_debug_mode(0)
    """
    import ember

    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODE:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODE[debug_mode]
    elif not isinstance(debug_mode, builtins.int) or isinstance(debug_mode, builtins.bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    ember.use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


@_top
def get_deterministic_debug_mode():
    """The level ``set_deterministic_debug_mode`` set: 0 off, 1 warn, 2 error.

    Returns:
        0, 1 or 2.

    Example:
        >>> ember.get_deterministic_debug_mode()
        0
    """
    import ember

    if not ember.are_deterministic_algorithms_enabled():
        return 0
    return 1 if ember.is_deterministic_algorithms_warn_only_enabled() else 2


@_top
def get_num_interop_threads():
    """Threads used for inter-op parallelism: ember runs ops one after another, so 1 unless
    ``set_num_interop_threads`` recorded another value.

    Returns:
        int.

    Example:
        >>> ember.get_num_interop_threads() >= 1
        True
    """
    return _INTEROP[0]


@_top
def set_num_interop_threads(num):
    """Record the inter-op thread count (ember runs ops sequentially; the value is kept for
    ``get_num_interop_threads``). Like PyTorch, it may be set once, before any parallel work.

    Args:
        num: a positive int.

    Returns:
        None.

    Example:
        >>> ember.get_num_interop_threads() >= 1
        True
    """
    if not isinstance(num, builtins.int) or isinstance(num, builtins.bool) or num < 1:
        raise RuntimeError(f"Expected positive number of threads, got {num!r}")
    _INTEROP[0] = num


@_top
def init_num_threads():
    """Initialise the intra-op thread pool of the calling thread: nothing to do in ember
    (BLAS and the generated kernels set their threads themselves).

    Returns:
        None.

    Example:
        >>> ember.init_num_threads()
    """


@_top
def set_flush_denormal(mode):
    """Flush denormal floats to zero: not supported by NumPy on this CPU; returns False
    (PyTorch's answer where the CPU lacks the feature) and changes nothing.

    Args:
        mode: bool.

    Returns:
        False.

    Example:
        >>> ember.set_flush_denormal(False)
        False
    """
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"set_flush_denormal(): argument 'mode' must be bool, not "
                        f"{type(mode).__name__}")
    return False


@_top
def get_device_module(device=None):
    """The module of a device type (``ember.cpu``, ``ember.cuda``), as PyTorch's.

    Args:
        device: a device, a device string, or None for the current accelerator (else cpu).

    Returns:
        The module.

    Example:
        >>> ember.get_device_module("cpu").__name__
        'ember.cpu'
    """
    import importlib

    import ember

    if device is None:
        acc = ember.accelerator.current_accelerator()
        kind = acc.type if acc is not None else "cpu"
    elif isinstance(device, ember.device):
        kind = device.type
    elif isinstance(device, str):
        kind = ember.device(device).type
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, "
                           "or None")
    try:
        return importlib.import_module("ember." + kind)
    except ModuleNotFoundError:
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered "
                           "as 'torch.{kind}'.") from None


@_top
def get_file_path(*path_components):
    """A path relative to the directory that holds the ``ember`` package (PyTorch's
    ``torch_parent``-relative helper).

    Args:
        *path_components: path parts to join.

    Returns:
        str.

    Example:
        >>> import os
        >>> os.path.isdir(ember.get_file_path("ember"))
        True
    """
    import os

    parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(os.path.dirname(parent), *path_components)


@_top
def prepare_multiprocessing_environment(path):
    """Set up the environment of worker processes: a hook that does nothing outside
    PyTorch's internal builds, and nothing in ember either.

    Args:
        path: a directory for the processes' files (unused).

    Returns:
        None.

    Example:
        >>> ember.prepare_multiprocessing_environment("/tmp")
    """
    if not isinstance(path, str):
        raise TypeError(f"prepare_multiprocessing_environment(): path must be str, not "
                        f"{type(path).__name__}")


# --------------------------------------------------------------------------- numeric
@_top
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimate the gradient of a sampled function by finite differences (second-order
    central differences inside, first- or second-order one-sided ones at the edges), as
    ``numpy.gradient``.

    Args:
        input: the samples.
        spacing: a number (the same step in every dim), a list of numbers (one step per
            dim), or a list of 1-D tensors (the sample coordinates along each dim).
        dim: an int or a list of ints (default: every dim).
        edge_order: 1 or 2.

    Returns:
        A tuple with one tensor per differentiated dim (differentiable).

    Example:
        >>> ember.gradient(ember.tensor([1.0, 2.0, 4.0, 8.0]))
        (tensor([1.0000, 1.5000, 3.0000, 4.0000]),)
    """
    nd = input.dim()
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, builtins.int):
        dims = [dim]
    else:
        dims = list(dim)
    dims = [d + nd if d < 0 else d for d in dims]
    if len(set(dims)) != len(dims) or any(not 0 <= d < nd for d in dims):
        raise RuntimeError(f"torch.gradient expected each dimension size to be at least "
                           f"edge_order+1 and dims in range, got dim={dim} for a {nd}-D input")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got "
                           f"{edge_order}")
    if isinstance(spacing, (builtins.int, builtins.float)) or (
            isinstance(spacing, Tensor) and spacing.dim() == 0):
        spacing = [spacing] * len(dims)
    else:
        spacing = list(spacing)
        for h in spacing:
            if isinstance(h, Tensor) and h.dim() != 1:
                raise RuntimeError("torch.gradient expected each element of spacing to have one "
                                   f"dimension, but got an element with {h.dim()} dimensions!")
        if len(spacing) == 1 and len(dims) > 1 and not isinstance(spacing[0], Tensor):
            spacing = spacing * len(dims)
    if len(spacing) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                           f"it's spacing and dim arguments to have the same length, but got "
                           f"a spacing argument of length {len(spacing)} and a dim argument "
                           f"of length {len(dims)}.")
    if not (input.is_floating_point() or input.is_complex()):
        input = input.to(D.get_default_dtype())
    out = []
    for d, h in zip(dims, spacing):
        n = input.size(d)
        if n < edge_order + 1:
            raise RuntimeError(f"torch.gradient expected each dimension size to be at least "
                               f"edge_order+1, got size {n} at dim {d}")
        out.append(_gradient_1d(input, d, h, edge_order))
    return tuple(out)


def _gradient_1d(f, d, h, edge_order):
    import ember

    def sl(a, b):
        return f.narrow(d, a, b - a) if b > a else f.narrow(d, a, 0)

    n = f.size(d)

    def shape_along(t):  # a 1-D tensor broadcast along dim d
        s = [1] * f.dim()
        s[d] = -1
        return t.reshape(s)

    if isinstance(h, Tensor) and h.dim() == 1:
        if h.numel() != n:
            raise RuntimeError(f"torch.gradient expected each tensor to be on the same device "
                               f"and of size {n} along dim {d}, got {h.numel()}")
        x = h.to(f.dtype) if f.is_floating_point() else h
        dx = x[1:] - x[:-1]
        a = shape_along(dx[:-1])  # h_{i-1}
        b = shape_along(dx[1:])   # h_i
        inner = (sl(2, n) * a * a - sl(0, n - 2) * b * b + sl(1, n - 1) * (b * b - a * a)) / (
            a * b * (a + b)) if n > 2 else None
        d0, d1 = dx[0], dx[-1]
        if edge_order == 1:
            first = (sl(1, 2) - sl(0, 1)) / d0
            last = (sl(n - 1, n) - sl(n - 2, n - 1)) / d1
        else:
            p, q = dx[0], dx[1]
            first = (-(2 * p + q) / (p * (p + q)) * sl(0, 1) + (p + q) / (p * q) * sl(1, 2)
                     - p / (q * (p + q)) * sl(2, 3))
            p, q = dx[-2], dx[-1]
            last = (q / (p * (p + q)) * sl(n - 3, n - 2) - (p + q) / (p * q) * sl(n - 2, n - 1)
                    + (2 * q + p) / (q * (p + q)) * sl(n - 1, n))
    else:
        if isinstance(h, Tensor):
            h = h.item()
        inner = (sl(2, n) - sl(0, n - 2)) / (2 * h) if n > 2 else None
        if edge_order == 1:
            first = (sl(1, 2) - sl(0, 1)) / h
            last = (sl(n - 1, n) - sl(n - 2, n - 1)) / h
        else:
            first = (-1.5 * sl(0, 1) + 2 * sl(1, 2) - 0.5 * sl(2, 3)) / h
            last = (0.5 * sl(n - 3, n - 2) - 2 * sl(n - 2, n - 1) + 1.5 * sl(n - 1, n)) / h
    parts = [first] + ([inner] if inner is not None else []) + [last]
    return ember.cat(parts, d)


@_top
def histogramdd(input, bins=10, *, range=None, weight=None, density=False):  # noqa: A002 - PyTorch's name
    """A multi-dimensional histogram of the rows of ``input`` (shape ``(N, D)`` or
    ``(..., D)``), as ``numpy.histogramdd``.

    Args:
        input: the points, float.
        bins: an int (bins per dim), a list of ints, or a list of 1-D tensors (bin edges).
        range: ``[min_0, max_0, min_1, max_1, ...]`` (default: each dim's min and max).
        weight: one weight per point (default 1).
        density: normalise to a density (integral 1).

    Returns:
        ``(hist, bin_edges)``: the counts, shape ``(bins_0, ..., bins_{D-1})``, and a list of
        D edge tensors.

    Example:
        >>> h, e = ember.histogramdd(ember.tensor([[0.0, 0.0], [1.0, 1.0]]), bins=[2, 2])
        >>> h
        tensor([[1., 0.],
                [0., 1.]])
    """
    from ember._backends import xp_of

    if not input.is_floating_point():
        raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the "
                           f"same dtype, but got input {input.dtype} (floating point expected)")
    if input.dim() < 1:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 1 dimension, "
                           "but got 0")
    x = input._data
    xp = xp_of(x)
    k = x.shape[-1]
    pts = x.reshape(-1, k)
    if isinstance(bins, builtins.int):
        b = [bins] * k
    else:
        bins = list(bins)
        if len(bins) != k:
            raise RuntimeError(f"torch.histogramdd: expected {k} sequences of bin edges for "
                               f"each dimension, but got {len(bins)}")
        b = [e._data if isinstance(e, Tensor) else builtins.int(e) for e in bins]
    rng = None
    if range is not None:
        range = list(range)
        if len(range) != 2 * k:
            raise RuntimeError(f"torch.histogramdd: for a {k}-dimensional histogram range "
                               f"should have {2 * k} elements, but got {len(range)}")
        rng = [(range[2 * i], range[2 * i + 1]) for i in builtins.range(k)]
    w = None if weight is None else weight._data.reshape(-1)
    hist, edges = xp.histogramdd(pts, bins=b, range=rng, weights=w, density=density)
    dt = x.dtype
    return (Tensor._wrap(xp.ascontiguousarray(hist.astype(dt))),
            [Tensor._wrap(e.astype(dt)) for e in edges])


@_top
def binomial(count, prob, generator=None):
    """Draw from Binomial(``count``, ``prob``) elementwise.

    Args:
        count: the number of trials (a float tensor).
        prob: the success probability, broadcast against ``count``.
        generator: the random generator (default: the global one).

    Returns:
        The draws, with ``count``'s dtype.

    Example:
        >>> ember.binomial(ember.tensor([0.0, 5.0]), ember.tensor([0.5, 1.0]))
        tensor([0., 5.])
    """
    from ember._random import _gen

    if not isinstance(count, Tensor) or not isinstance(prob, Tensor):
        raise TypeError("binomial(): arguments 'count' and 'prob' must be Tensor")
    if not (count.is_floating_point() and prob.is_floating_point()):
        raise RuntimeError(f"binomial: \"binomial_cpu\" not implemented for "
                           f"'{str(count.dtype).replace('torch.', '').title()}'")
    n, p = count._data, prob._data
    import numpy as np

    if ((p < 0) | (p > 1) | np.isnan(p)).any():
        raise RuntimeError("binomial: probability must be in [0, 1]")
    shape = np.broadcast_shapes(n.shape, p.shape)
    draw = _gen(generator).binomial(np.broadcast_to(n, shape).astype(np.int64),
                                    np.broadcast_to(p, shape))
    return Tensor._wrap(np.asarray(draw, dtype=n.dtype).reshape(shape))


@_top
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` written into the strided view ``input.as_strided(size,
    stride, storage_offset)`` (out-of-place; differentiable in both).

    Args:
        input: the tensor to copy.
        src: the values, shaped ``size``.
        size, stride, storage_offset: as for ``as_strided``.

    Returns:
        The new tensor.

    Example:
        >>> ember.as_strided_scatter(ember.zeros(4), ember.ones(2), (2,), (2,))
        tensor([1., 0., 1., 0.])
    """
    out = input.clone()
    view = out.as_strided(size, stride, 0 if storage_offset is None else storage_offset)
    if tuple(view.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size "
                           f"= {list(src.shape)}, slice size = {list(view.shape)}")
    view.copy_(src)
    return out


# --------------------------------------------------------------------------- Tensor methods
# NOTE [ Metadata changed in place ]
# ``x.t_()`` and friends make ``x`` itself the view ``x.t()``: the view op runs on a shadow
# that holds ``x``'s old array, history and view information, and ``x`` takes the result's
# array, history and view information, so gradients, view replay (for later in-place writes
# through ``x``) and the shared version counter stay right. PyTorch bumps the version; so do
# these. A leaf that requires grad is refused, as in PyTorch.
def _meta_inplace(self, fn):
    from ember._tensor import _new

    if self._requires_grad and self._grad_fn is None and GRAD.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    shadow = _new(Tensor)
    for s in ("_data", "_requires_grad", "_grad_fn", "_grad", "_vc", "_base", "_meta"):
        object.__setattr__(shadow, s, getattr(self, s))
    shadow._grad = None
    out = fn(shadow)
    self._data = out._data
    if self._grad_fn is not None or GRAD.enabled:
        self._grad_fn = out._grad_fn
        self._requires_grad = out._requires_grad
    # else: a leaf changed under no_grad stays a leaf that requires grad, as in PyTorch
    if shadow._base is not None:  # a view stays a view of the same base
        self._base = out._base
        self._meta = out._meta
    self._share_version()[0] += 1
    return self


def _transpose_(self, dim0, dim1):
    """In-place ``transpose``: ``self`` becomes its own transpose of ``dim0`` and ``dim1``.

    Args:
        dim0, dim1: the dimensions to swap.

    Returns:
        ``self``.

    Example:
        >>> x = ember.zeros(2, 3)
        >>> x.transpose_(0, 1).shape
        torch.Size([3, 2])
    """
    return _meta_inplace(self, lambda t: t.transpose(dim0, dim1))


def _t_(self):
    """In-place ``t``: a 2-D ``self`` becomes its transpose.

    Returns:
        ``self``.

    Example:
        >>> ember.zeros(2, 3).t_().shape
        torch.Size([3, 2])
    """
    if self.dim() > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                           f"{self.dim()}D")
    return _meta_inplace(self, lambda t: t.t())


def _squeeze_(self, dim=None):
    """In-place ``squeeze``: drop size-1 dimensions (all, or those in ``dim``).

    Args:
        dim: an int, a tuple of ints, or None (all size-1 dims).

    Returns:
        ``self``.

    Example:
        >>> ember.zeros(1, 3, 1).squeeze_().shape
        torch.Size([3])
    """
    return _meta_inplace(self, lambda t: t.squeeze() if dim is None else t.squeeze(dim))


def _unsqueeze_(self, dim):
    """In-place ``unsqueeze``: insert a size-1 dimension at ``dim``.

    Args:
        dim: where the new dimension goes.

    Returns:
        ``self``.

    Example:
        >>> ember.zeros(3).unsqueeze_(0).shape
        torch.Size([1, 3])
    """
    return _meta_inplace(self, lambda t: t.unsqueeze(dim))


def _swapaxes_(self, axis0, axis1):
    """In-place ``swapaxes`` (the same as ``transpose_``).

    Args:
        axis0, axis1: the dimensions to swap.

    Returns:
        ``self``.

    Example:
        >>> ember.zeros(2, 3).swapaxes_(0, 1).shape
        torch.Size([3, 2])
    """
    return _meta_inplace(self, lambda t: t.transpose(axis0, axis1))


def _swapdims_(self, dim0, dim1):
    """In-place ``swapdims`` (the same as ``transpose_``).

    Args:
        dim0, dim1: the dimensions to swap.

    Returns:
        ``self``.

    Example:
        >>> ember.zeros(2, 3).swapdims_(0, 1).shape
        torch.Size([3, 2])
    """
    return _meta_inplace(self, lambda t: t.transpose(dim0, dim1))


def _as_strided_(self, size, stride, storage_offset=None):
    """In-place ``as_strided``: ``self`` becomes the strided view of its own memory.

    Args:
        size, stride, storage_offset: as for ``as_strided``.

    Returns:
        ``self``.

    Example:
        >>> x = ember.arange(6.0)
        >>> x.as_strided_((2, 2), (1, 2)).tolist()
        [[0.0, 2.0], [1.0, 3.0]]
    """
    return _meta_inplace(self, lambda t: t.as_strided(size, stride, storage_offset))


def _no_grad_resize(self):
    if self._requires_grad:  # in any grad mode, as PyTorch
        raise RuntimeError("cannot resize variables that require grad")


def _resize_(self, *sizes, memory_format=None):  # noqa: ARG001 - a layout hint: results are the same in any format
    """Resize ``self`` in place to ``sizes``, keeping its leading elements in row-major
    order; new elements are zero (PyTorch leaves them uninitialised).

    Args:
        *sizes: the new shape (ints or one sequence).
        memory_format: a layout hint (ignored: ember results are the same in any format).

    Returns:
        ``self``.

    Example:
        >>> ember.arange(4.0).resize_(2, 3)
        tensor([[0., 1., 2.],
                [3., 0., 0.]])
    """
    from ember._backends import xp_of

    _no_grad_resize(self)
    if len(sizes) == 1 and not isinstance(sizes[0], builtins.int):
        sizes = tuple(sizes[0])
    sizes = tuple(builtins.int(s) for s in sizes)
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(sizes)}: {list(sizes)}")
    d = self._data
    n = math.prod(sizes)
    if tuple(d.shape) == sizes:
        return self
    flat = d.reshape(-1) if d.flags.c_contiguous else None
    root = d
    while getattr(root, "base", None) is not None and hasattr(root.base, "__array_interface__"):
        root = root.base
    if (flat is not None and root is not d and root.flags.c_contiguous
            and root.dtype == d.dtype and n <= root.size
            and root.__array_interface__["data"][0] == d.__array_interface__["data"][0]):
        flat = root.reshape(-1)  # the storage a smaller resize_ left behind, as in PyTorch
    if flat is not None and n <= flat.size:
        new = flat[:n].reshape(sizes)  # same memory, as PyTorch when the storage is big enough
    else:
        xp = xp_of(d)
        new = xp.zeros(n, d.dtype)
        k = builtins.min(n, d.size)
        new[:k] = d.reshape(-1)[:k]
        new = new.reshape(sizes)
    self._data = new
    self._share_version()[0] += 1
    return self


def _resize_as_(self, the_template, *, memory_format=None):
    """``self.resize_(the_template.shape)``.

    Args:
        the_template: the tensor whose shape ``self`` takes.
        memory_format: a layout hint (ignored).

    Returns:
        ``self``.

    Example:
        >>> ember.zeros(4).resize_as_(ember.ones(2, 2)).shape
        torch.Size([2, 2])
    """
    return _resize_(self, the_template.shape, memory_format=memory_format)


def _resize(self, *sizes):
    """Deprecated out-of-place ``resize``: a copy of ``self`` resized as ``resize_`` would.

    Args:
        *sizes: the new shape.

    Returns:
        A new tensor.

    Example:
        >>> ember.arange(4.0).resize(2, 2).shape
        torch.Size([2, 2])
    """
    import warnings

    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _resize_(self.detach().clone(), *sizes)


def _resize_as(self, tensor):
    """Deprecated out-of-place ``resize_as``.

    Args:
        tensor: the tensor whose shape the copy takes.

    Returns:
        A new tensor.

    Example:
        >>> ember.arange(4.0).resize_as(ember.ones(2, 2)).shape
        torch.Size([2, 2])
    """
    import warnings

    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resize_(self.detach().clone(), tensor.shape)


def _set_(self, source=None, storage_offset=None, size=None, stride=None):
    """Make ``self`` share ``source``'s memory, shape and strides (``set_()`` with no
    arguments: an empty tensor).

    Args:
        source: a tensor, or None.
        storage_offset, size, stride: with a tensor source, view its memory block this way
            (as ``as_strided``).

    Returns:
        ``self``.

    Example:
        >>> a, b = ember.zeros(2), ember.ones(3)
        >>> a.set_(b).tolist()
        [1.0, 1.0, 1.0]
    """
    import ember

    if self._requires_grad and self._grad_fn is None and GRAD.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if source is None:
        if size is not None or stride is not None or storage_offset is not None:
            raise NotImplementedError("Tensor.set_(): storage_offset/size/stride need a "
                                      "source tensor (ember has no storages)")
        self._data = self._data[:0].reshape(0) if self._data.size else self._data.reshape(0)
        self._vc = None
        self._base = None
        return self
    if not isinstance(source, Tensor):
        raise NotImplementedError(f"Tensor.set_(): source of type {type(source).__name__} "
                                  "(ember has no storages; pass a tensor)")
    if source.dtype != self.dtype:
        raise RuntimeError(f"Could not set tensor of type {source.dtype} to a tensor of type "
                           f"{self.dtype}")
    with ember.no_grad():
        src = source if size is None else source.as_strided(
            size, stride if stride is not None else ember.empty(size).stride(),
            storage_offset or 0)
    self._data = src._data
    self._vc = source._share_version()
    self._base = source._base if source._base is not None else source
    self._meta = None
    return self


def _is_set_to(self, tensor):
    """Whether ``self`` and ``tensor`` view the same memory with the same shape and strides.

    Args:
        tensor: the other tensor.

    Returns:
        bool.

    Example:
        >>> x = ember.ones(2)
        >>> x.is_set_to(x.detach()), x.is_set_to(x.clone())
        (True, False)
    """
    a, b = self._data, tensor._data
    return (a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
            and self.data_ptr() == tensor.data_ptr())


def _apply_(self, callable):  # noqa: A002 - PyTorch's name
    """Replace each element with ``callable(element)`` (a Python function on numbers; slow,
    CPU only, as PyTorch's).

    Args:
        callable: the function.

    Returns:
        ``self``.

    Example:
        >>> ember.tensor([1.0, 2.0]).apply_(lambda v: v * 10)
        tensor([10., 20.])
    """
    import numpy as np

    if self._requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                           "var.detach().apply_() instead.")
    d = self._data
    d[...] = np.frompyfunc(lambda v: callable(v.item() if hasattr(v, "item") else v), 1, 1)(
        d).astype(d.dtype) if d.size else d
    self._share_version()[0] += 1
    return self


def _map_(self, tensor, callable):  # noqa: A002 - PyTorch's name
    """Replace each element with ``callable(self_element, tensor_element)``, ``tensor``
    broadcast to ``self``'s shape.

    Args:
        tensor: the second operand.
        callable: a Python function of two numbers.

    Returns:
        ``self``.

    Example:
        >>> ember.tensor([1.0, 2.0]).map_(ember.tensor([3.0, 4.0]), lambda a, b: a * b)
        tensor([3., 8.])
    """
    return _map_n(self, "map_", (tensor,), callable)


def _map2_(self, x, y, callable):  # noqa: A002 - PyTorch's name
    """Replace each element with ``callable(self_element, x_element, y_element)``.

    Args:
        x, y: the other operands, broadcast to ``self``'s shape.
        callable: a Python function of three numbers.

    Returns:
        ``self``.

    Example:
        >>> ember.zeros(2).map2_(ember.ones(2), ember.ones(2), lambda a, b, c: a + b + c)
        tensor([2., 2.])
    """
    return _map_n(self, "map2_", (x, y), callable)


def _map_n(self, name, others, fn):
    import numpy as np

    if self._requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    d = self._data
    args = []
    for o in others:
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}(): argument 'tensor' must be Tensor, not "
                            f"{type(o).__name__}")
        if o.dtype != self.dtype:
            raise TypeError(f"{name}: expected {self.type()} for 'other' (got {o.type()})")
        try:
            args.append(np.broadcast_to(o._data, d.shape))
        except ValueError:
            raise RuntimeError(f"{name}: the expanded size of the tensor ({list(d.shape)}) "
                               f"must match the existing size ({list(o.shape)})") from None
    if d.size:
        ufn = np.frompyfunc(lambda *v: fn(*(a.item() if hasattr(a, "item") else a
                                             for a in v)), 1 + len(args), 1)
        d[...] = ufn(d, *args).astype(d.dtype)
    self._share_version()[0] += 1
    return self


def _new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                       requires_grad=False, pin_memory=False):
    """``empty_strided`` with ``self``'s dtype and device by default.

    Args:
        size, stride: the shape and strides.
        dtype, device: default to ``self``'s.
        layout, pin_memory, requires_grad: as for ``empty_strided``.

    Returns:
        The new tensor.

    Example:
        >>> ember.ones(1, dtype=ember.float64).new_empty_strided((2, 2), (1, 2)).dtype
        torch.float64
    """
    return empty_strided(size, stride, dtype=dtype or self.dtype, layout=layout,
                         device=device or self.device, requires_grad=requires_grad,
                         pin_memory=pin_memory)


def _chalf(self, memory_format=None):  # noqa: ARG001 - a layout hint
    """``self.to(ember.complex32)``; ember's ``complex32`` is complex64 (NumPy has no
    half-precision complex), so the result is complex64.

    Args:
        memory_format: a layout hint (ignored).

    Returns:
        The complex tensor.

    Example:
        >>> ember.ones(1).chalf().is_complex()
        True
    """
    return self.to(D.complex64)


def _dim_order(self, *, ambiguity_check=False):
    """The dimensions ordered from outermost to innermost in memory (by decreasing stride).

    Args:
        ambiguity_check: raise when equal strides make the order ambiguous.

    Returns:
        A tuple of ints.

    Example:
        >>> ember.zeros(2, 3).t().dim_order()
        (1, 0)
    """
    st = self.stride()
    if ambiguity_check:
        seen = [s for s, n in zip(st, self.shape) if n != 1]
        if len(set(seen)) != len(seen):
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                               "exact one of the given memory formats.")
    return tuple(sorted(range(len(st)), key=lambda i: -st[i]))


def _const_data_ptr(self):
    """The address of the first element (as ``data_ptr``), for read-only use.

    Returns:
        int.

    Example:
        >>> x = ember.ones(2)
        >>> x.const_data_ptr() == x.data_ptr()
        True
    """
    return self.data_ptr()


def _output_nr(self):
    """Which output of the producing node this tensor is (0 for leaves and single-output
    ops).

    Example:
        >>> ember.ones(2).output_nr
        0
    """
    fn = self._grad_fn
    return fn[1] if isinstance(fn, tuple) else 0


def _name(self):  # noqa: ARG001 - a property of every tensor
    """The tensor's name in the graph of a C++ frontend: None in Python, as PyTorch.

    Example:
        >>> ember.ones(2).name is None
        True
    """
    return None


def _false(self):  # noqa: ARG001 - a property of every tensor
    """False: ember has no MPS or IPU devices.

    Example:
        >>> ember.ones(2).is_mps
        False
    """
    return False


def _module_load(self, other, assign=False):
    """How ``Module.load_state_dict`` turns a state-dict value ``other`` into what is loaded
    into this parameter or buffer (the default: ``other`` itself; subclasses may override).

    Args:
        other: the value from the state dict.
        assign: whether the module assigns rather than copies.

    Returns:
        ``other`` (detached, as PyTorch's default).

    Example:
        >>> p = ember.zeros(2)
        >>> p.module_load(ember.ones(2)).tolist()
        [1.0, 1.0]
    """
    if type(self) is not Tensor and type(other) is Tensor and not assign:
        return other
    return other.detach() if isinstance(other, Tensor) else other


def _record_stream(self, stream):  # noqa: ARG001 - PyTorch's signature
    """Mark memory as in use by a CUDA stream: PyTorch allows it for CUDA tensors only, and
    ember has no caching allocator, so it raises.

    Args:
        stream: the stream.

    Returns:
        Nothing: raises RuntimeError.

    Example:
        >>> ember.ones(1).record_stream(None)
        Traceback (most recent call last):
        ...
        RuntimeError: record_stream(): expected a CUDA tensor, ...
    """
    raise RuntimeError(f"record_stream(): expected a CUDA tensor, got one on {self.device} "
                       "(ember has no CUDA caching allocator)")


def _reinforce(self, reward):  # noqa: ARG001 - PyTorch's signature
    """Removed in PyTorch: raises as PyTorch does.

    Args:
        reward: ignored.

    Returns:
        Nothing: raises RuntimeError.

    Example:
        >>> ember.ones(1).reinforce(1)
        Traceback (most recent call last):
        ...
        RuntimeError: reinforce() was removed...
    """
    raise RuntimeError("reinforce() was removed.\nUse torch.distributions instead.\nSee "
                       "https://pytorch.org/docs/main/distributions.html")


def _to_padded_tensor(self, padding, output_size=None):  # noqa: ARG001 - PyTorch's signature
    """Pad a nested tensor into a dense one: nested tensors only, which ember does not have,
    so it raises.

    Args:
        padding: the pad value.
        output_size: the dense shape.

    Returns:
        Nothing: raises RuntimeError.

    Example:
        >>> ember.ones(1).to_padded_tensor(0.0)
        Traceback (most recent call last):
        ...
        RuntimeError: to_padded_tensor(): expected a nested tensor (ember has none)
    """
    raise RuntimeError("to_padded_tensor(): expected a nested tensor (ember has none)")


def _volatile(self):  # noqa: ARG001 - a property of every tensor
    """Removed with ``Variable``: always False, with a warning (as PyTorch).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.ones(1).volatile
        False
    """
    import warnings

    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning,
                  stacklevel=2)
    return False


_METHODS = {
    "transpose_": _transpose_, "t_": _t_, "squeeze_": _squeeze_, "unsqueeze_": _unsqueeze_,
    "swapaxes_": _swapaxes_, "swapdims_": _swapdims_, "as_strided_": _as_strided_,
    "resize_": _resize_, "resize_as_": _resize_as_, "resize": _resize,
    "resize_as": _resize_as, "set_": _set_, "is_set_to": _is_set_to, "apply_": _apply_,
    "map_": _map_, "map2_": _map2_, "new_empty_strided": _new_empty_strided,
    "chalf": _chalf, "dim_order": _dim_order, "const_data_ptr": _const_data_ptr,
    "module_load": _module_load, "record_stream": _record_stream, "reinforce": _reinforce,
    "to_padded_tensor": _to_padded_tensor,
    "unsafe_chunk": unsafe_chunk, "unsafe_split": unsafe_split,
    "unsafe_split_with_sizes": unsafe_split_with_sizes, "nonzero_static": nonzero_static,
    "as_strided_scatter": as_strided_scatter, "is_neg": is_neg,
    "is_distributed": is_distributed,
}
_PROPERTIES = {"output_nr": _output_nr, "name": _name, "is_mps": _false, "is_ipu": _false}


def attach():
    """Attach the methods above to ``Tensor`` (leaving any that already exist) and fill
    ``TOP`` with the top-level in-place functions."""
    for name, fn in _METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name, fn in _PROPERTIES.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, property(fn, doc=fn.__doc__))
    if not hasattr(Tensor, "volatile"):
        Tensor.volatile = property(_volatile, doc=_volatile.__doc__)
    for name in _INPLACE_TOP:
        if hasattr(Tensor, name):
            TOP.setdefault(name, _inplace_function(name))
