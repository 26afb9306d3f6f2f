"""Composite ops and the names PyTorch users expect beside the core ops: aliases and in-place
variants, infinity/real predicates, histogram and isin, combinations, statistics
(cov/corrcoef, dist, ...), integration (trapezoid, ...), splits, ``*_scatter``, renorm,
put, fill_diagonal_, sum_to_size, unravel_index, ...

Composites are built from existing ops so their gradients come for free; the few kernels
are records with their backward formula beside them (NOTE [ The op pattern ] in core.py).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ember._backends import DEFAULT, xp_of
from ember._ops.core import (FUNCTIONS, METHODS, OpDef, apply, make_inplace, register)
from ember._ops.core import check_tensor as _check_tensor
from ember._ops.core import float_input as _float_input
from ember._ops.elementwise import _not_implemented, unary, where
from ember._ops.index import _INDEX, _INDEX_PUT
from ember._tensor import Tensor, _wrap_dim

xp = DEFAULT.xp


# =============================================================================== aliases
for _alias, _orig in (("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh")):
    FUNCTIONS[_alias] = METHODS[_alias] = FUNCTIONS[_orig]
    FUNCTIONS[_alias + "_"] = METHODS[_alias + "_"] = METHODS[_orig + "_"]
for _alias, _orig in (("arcsin_", "asin_"), ("arccos_", "acos_"), ("arctan_", "atan_"),
                      ("fix_", "trunc_")):
    METHODS[_alias] = METHODS[_orig]
METHODS["cumprod_"] = make_inplace(FUNCTIONS["cumprod"], "cumprod_")
METHODS["ldexp_"] = make_inplace(FUNCTIONS["ldexp"], "ldexp_")


def _polygamma_(self, n):
    return make_inplace(lambda s: FUNCTIONS["polygamma"](n, s), "polygamma_")(self)


METHODS["polygamma_"] = _polygamma_


def _conj_physical_(self):
    """In-place conjugation (a no-op for real tensors)."""
    if self._data.dtype.kind != "c":
        return self
    return make_inplace(FUNCTIONS["conj_physical"], "conj_physical_")(self)


METHODS["conj_physical_"] = _conj_physical_


@register
def rsub(input: Tensor, other, *, alpha=1) -> Tensor:
    """``other - alpha * input``.

    Example:
        >>> ember.rsub(ember.tensor([1.0, 2.0]), 5.0)
        tensor([4., 3.])
    """
    _check_tensor("rsub", input)
    return FUNCTIONS["sub"](other, input, alpha=alpha) if isinstance(other, Tensor) else \
        (input * (-alpha) + other if alpha != 1 else -input + other)


# =============================================================================== predicates
def _isposinf(x):
    if x.dtype.kind == "c":
        raise RuntimeError("isposinf does not support complex inputs.")
    return xp.isposinf(x) if x.dtype.kind == "f" else xp.zeros(x.shape, bool)


def _isneginf(x):
    if x.dtype.kind == "c":
        raise RuntimeError("isneginf does not support complex inputs.")
    return xp.isneginf(x) if x.dtype.kind == "f" else xp.zeros(x.shape, bool)


def _isreal(x):
    return x.imag == 0 if x.dtype.kind == "c" else xp.ones(x.shape, bool)


isposinf = unary("isposinf", _isposinf, None, save="", to_float=False, differentiable=False,
                 inplace=False)
isneginf = unary("isneginf", _isneginf, None, save="", to_float=False, differentiable=False,
                 inplace=False)
isreal = unary("isreal", _isreal, None, save="", to_float=False, differentiable=False,
               inplace=False, method=True)


@register
def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


@register
def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor (PyTorch's errors otherwise)."""
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()))


# =============================================================================== histogram, isin
_Histogram = namedtuple("histogram", ["hist", "bin_edges"])


@register
def histogram(input: Tensor, bins=100, *, range=None, weight=None, density=False):
    """A histogram of ``input`` and its bin edges (float inputs only, as PyTorch).

    Args:
        input: the values (flattened).
        bins: the number of equal-width bins, or a 1-D tensor of monotonic edges.
        range: ``(min, max)`` for equal-width bins (default: the data's range).
        weight: per-element weights, same shape as ``input``.
        density: normalise so the histogram integrates to 1.

    Example:
        >>> ember.histogram(ember.tensor([1.0, 2.0, 1.0]), bins=2).hist
        tensor([2., 1.])
    """
    _check_tensor("histogram", input)
    d = input._data
    if d.dtype.kind not in "f":
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the "
                           f"same dtype, but got input {input.dtype} (histogram expects a "
                           f"floating point input)")
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError(f"histogram: if weight tensor is provided it should have the "
                               f"same shape as the input tensor ({list(weight.shape)} vs "
                               f"{list(input.shape)})")
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError("histogram: bins tensor should have one dimension and at "
                               f"least 1 element (got shape {list(edges.shape)})")
        if (np.diff(edges) < 0).any():
            raise RuntimeError("histogram: bin edges must be increasing")
    else:
        if not isinstance(bins, int) or bins <= 0:
            raise RuntimeError(f"histogram(): bins must be > 0, but got {bins}")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif d.size:
            lo, hi = float(np.min(d)), float(np.max(d))
        else:
            lo, hi = 0.0, 0.0
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"histogram(): range of [{lo}, {hi}] is not finite")
        if lo > hi:
            raise RuntimeError(f"histogram(): min should not exceed max, but got min {lo} "
                               f"max {hi}")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5  # PyTorch widens an empty range by one unit
        bins = FUNCTIONS["linspace"](lo, hi, bins + 1, dtype=input.dtype, device=input.device)
    ins = (input, bins) if weight is None else (input, bins, weight)
    return _Histogram(*apply(_HISTOGRAM, ins, (bool(density),)))


def _histogram_fwd(d, edges, *rest):
    *w, density = rest
    w = w[0].reshape(-1) if w else None
    hist, _ = np.histogram(d.reshape(-1), bins=edges.astype(np.float64), weights=w)
    hist = hist.astype(d.dtype)
    if density:
        widths = np.diff(edges).astype(d.dtype)
        total = hist.sum()
        hist = hist / (total * widths) if total else hist / widths * 0
    return hist.astype(d.dtype), edges.astype(d.dtype)


_HISTOGRAM = OpDef("histogram", _histogram_fwd, None, differentiable=False, multi=True,
                   attrs=("density",))


@register(method=False)
def isin(elements, test_elements, *, assume_unique=False, invert=False) -> Tensor:  # noqa: ARG001 - a speed hint in PyTorch; the result is the same for unique inputs
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a scalar).

    Example:
        >>> ember.isin(ember.tensor([1, 2, 3]), ember.tensor([2, 5]))
        tensor([False,  True, False])
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected at least one of elements and test_elements to be a "
                        "Tensor")
    ref = elements if isinstance(elements, Tensor) else test_elements
    a = elements if isinstance(elements, Tensor) else _like_device(ref, elements)
    b = test_elements if isinstance(test_elements, Tensor) else _like_device(ref, test_elements)
    if a._data.dtype.kind == "c" or b._data.dtype.kind == "c":
        raise _not_implemented("isin", np.complex64)
    return apply(_ISIN, (a, b), (bool(invert),))


def _like_device(ref, value):
    """A Python value as a tensor on ``ref``'s device."""
    return Tensor._wrap(np.asarray(value)).to(ref.device)


_ISIN = OpDef("isin", lambda a, b, invert: xp_of(a).isin(a, b, invert=invert), None,
              differentiable=False, attrs=("invert",))


# =============================================================================== combinatorics
@register(method=False)
def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """All length-``r`` combinations of a 1-D tensor's elements, as rows.

    Example:
        >>> ember.combinations(ember.tensor([1, 2, 3]))
        tensor([[1, 2],
                [1, 3],
                [2, 3]])
    """
    import itertools

    _check_tensor("combinations", input)
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    n = input._data.shape[0]
    gen = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(gen(range(n), r)), dtype=np.int64).reshape(-1, r)
    if r == 0:
        return Tensor._wrap(np.empty((0,), input._data.dtype))
    return apply(_INDEX, (input,), ((idx,), input._data.shape))


@register(method=False)
def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: columns are powers of ``x``.

    Example:
        >>> ember.vander(ember.tensor([1, 2, 3]), N=3)
        tensor([[1, 1, 1],
                [4, 2, 1],
                [9, 3, 1]])
    """
    _check_tensor("vander", x, "x")
    if x._data.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor (got shape {list(x.shape)})")
    n = x._data.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError(f"N must be non-negative (got {n})")
    if x._data.dtype.kind == "b":
        x = x.long()
    if n == 0:
        return Tensor._wrap(np.empty((x._data.shape[0], 0), x._data.dtype))
    # cumulative products of [1, x, x, ...] keep the gradient exact at x == 0
    ones = x.unsqueeze(1) * 0 + 1
    cols = FUNCTIONS["cat"]([ones, x.unsqueeze(1).expand(-1, n - 1)], 1).cumprod(1)
    return cols if increasing else cols.flip(1)


# =============================================================================== statistics
@register
def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations are
    columns), optionally with integer frequency and float observation weights.

    Example:
        >>> ember.cov(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    _check_tensor("cov", input)
    if input.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    x = _float_input(x)
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        if fweights._data.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {fweights.dtype} dtype")
        if fweights.ndim > 1 or fweights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected fweights to have one dimension and {n_obs} "
                               f"elements (got shape {list(fweights.shape)})")
        if (fweights._data < 0).any():
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights.to(x.dtype)
    if aweights is not None:
        if aweights._data.dtype.kind not in "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {aweights.dtype} dtype")
        if aweights.ndim > 1 or aweights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected aweights to have one dimension and {n_obs} "
                               f"elements (got shape {list(aweights.shape)})")
        if (aweights._data < 0).any():
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        w_sum = x.new_full((), float(n_obs))
        avg = x.mean(1) if n_obs else x.sum(1) * math.nan
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
    if w is None or correction == 0:
        norm = w_sum - correction
    elif aweights is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * (w * aweights.to(x.dtype)).sum() / w_sum
    norm = norm.clamp(min=0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = xw.matmul(xm.transpose(0, 1).conj()) / norm
    return c.squeeze() if input.ndim < 2 else c


@register
def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in the rows of ``input``.

    Example:
        >>> ember.corrcoef(ember.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    sd = d.sqrt() if c._data.dtype.kind != "c" else d.real.sqrt()
    c = c / sd.unsqueeze(1)
    c = c / sd.unsqueeze(0)
    return c.clamp(-1, 1) if c._data.dtype.kind != "c" else c


@register
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of ``input - other`` (broadcast).

    Example:
        >>> ember.dist(ember.tensor([0.0, 3.0]), ember.tensor([4.0, 0.0]))
        tensor(5.)
    """
    _check_tensor("dist", input)
    _check_tensor("dist", other, "other")
    return (input - other).norm(p)


# =============================================================================== integration
def _trapz_dx(y, dx, d):
    n = y.shape[d]
    if n == 0:
        return y.sum(d) * 0
    a = y.narrow(d, 0, n - 1)
    b = y.narrow(d, 1, n - 1)
    return (a + b) * (0.5 * dx) if not isinstance(dx, Tensor) else (a + b) * dx * 0.5


def _trapz_terms(y, x, dx, dim, name):
    _check_tensor(name, y, "y")
    d = _wrap_dim(dim, y.ndim, name)
    if x is None:
        return _trapz_dx(y, 1.0 if dx is None else dx, d), d
    if not isinstance(x, Tensor):
        return _trapz_dx(y, float(x), d), d
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point "
                               f"(x has {x.shape[0]}, y has {y.shape[d]} along dim {d})")
        shape = [1] * y.ndim
        shape[d] = -1
        x = x.reshape(shape)
    n = y.shape[d]
    if n == 0:
        return y.sum(d) * 0, d
    dxs = x.narrow(d if x.ndim == y.ndim else -1, 1, n - 1) - \
        x.narrow(d if x.ndim == y.ndim else -1, 0, n - 1)
    return (y.narrow(d, 0, n - 1) + y.narrow(d, 1, n - 1)) * dxs * 0.5, d


@register(method=False)
def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``, with sample points ``x`` or spacing ``dx``.

    Example:
        >>> ember.trapezoid(ember.tensor([1.0, 2.0, 3.0]))
        tensor(4.)
    """
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments: x and dx")
    terms, d = _trapz_terms(y, x, dx, dim, "trapezoid")
    return terms.sum(d)


@register(method=False)
def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Alias of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


@register(method=False)
def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one element shorter than ``y``).

    Example:
        >>> ember.cumulative_trapezoid(ember.tensor([1.0, 2.0, 3.0]))
        tensor([1.5000, 4.0000])
    """
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid() received an invalid combination of arguments")
    terms, d = _trapz_terms(y, x, dx, dim, "cumulative_trapezoid")
    return terms.cumsum(d)


# =============================================================================== splits
def _split_dir(name, input, sections, dim, min_ndim, indices=None):
    _check_tensor(name, input)
    if (sections is None) == (indices is None):  # PyTorch's overloads: (sections) | (indices)
        raise TypeError(f"{name}() takes exactly one of 'sections' (int) or 'indices' (list)")
    if sections is None:
        sections = list(indices)
    if input.ndim < min_ndim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    if isinstance(sections, int) and input.shape[dim] % sections != 0:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {input.shape[dim]} is not divisible by the "
                           f"split_size {sections}!")
    return input.tensor_split(sections, dim)


@register
def hsplit(input: Tensor, sections=None, indices=None) -> tuple:
    """Split along dim 1 (dim 0 for 1-D tensors) into equal parts or at indices."""
    return _split_dir("hsplit", input, sections, 1 if input.ndim > 1 else 0, 1, indices)


@register
def vsplit(input: Tensor, sections=None, indices=None) -> tuple:
    """Split along dim 0 (tensors with at least 2 dims) into equal parts or at indices."""
    return _split_dir("vsplit", input, sections, 0, 2, indices)


@register
def dsplit(input: Tensor, sections=None, indices=None) -> tuple:
    """Split along dim 2 (tensors with at least 3 dims) into equal parts or at indices."""
    return _split_dir("dsplit", input, sections, 2, 3, indices)


@register
def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Split into pieces of the given sizes, which must sum to the size of ``dim``."""
    _check_tensor("split_with_sizes", input)
    d = _wrap_dim(dim, input.ndim, "split_with_sizes")
    if sum(split_sizes) != input.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[d]} (input tensor's size at dimension {d}), but got "
                           f"split_sizes={list(split_sizes)}")
    return input.split(list(split_sizes), d)


# =============================================================================== *_scatter
def _scatter_into(name, input, src, key):
    """``input`` with ``input[key]`` replaced by ``src`` (shapes must match exactly)."""
    _check_tensor(name, input)
    _check_tensor(name, src, "src")
    want = input._data[key].shape
    if tuple(src.shape) != tuple(want):
        raise RuntimeError(f"{name}(): expected src to have a size equal to the slice of self. "
                           f"src size = {list(src.shape)}, slice size = {list(want)}")
    s = src if src.dtype is input.dtype else src.to(input.dtype)
    return apply(_INDEX_PUT, (input, s), (key, False))


@register
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``input.select(dim, index)`` replaced by ``src`` (out of place)."""
    d = _wrap_dim(dim, input.ndim, "select_scatter")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return _scatter_into("select_scatter", input, src, (slice(None),) * d + (index % n,))


@register
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None,
                  step: int = 1) -> Tensor:
    """``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    d = _wrap_dim(dim, input.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice_scatter(): slice step must be positive")
    return _scatter_into("slice_scatter", input, src,
                         (slice(None),) * d + (slice(start, end, step),))


@register
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``."""
    _check_tensor("diagonal_scatter", input)
    nd = input.ndim
    d1, d2 = _wrap_dim(dim1, nd, "diagonal_scatter"), _wrap_dim(dim2, nd, "diagonal_scatter")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n1, n2 = input.shape[d1], input.shape[d2]
    rows = np.arange(max(0, -offset), n1)
    cols = rows + offset
    keep = cols < n2
    rows, cols = rows[keep], cols[keep]
    # advanced indices on d1 and d2 land first in NumPy's result when they are not
    # adjacent; build the key so the diagonal is the LAST dim, as diagonal() returns it.
    others = [i for i in range(nd) if i not in (d1, d2)]
    grids = np.ix_(*[np.arange(input.shape[i]) for i in others], np.arange(len(rows))) \
        if others else (np.arange(len(rows)),)
    key = [None] * nd
    for i, g in zip(others, grids[:-1]):
        key[i] = g
    key[d1] = rows[grids[-1]]
    key[d2] = cols[grids[-1]]
    return _scatter_into("diagonal_scatter", input, src, tuple(key))


# =============================================================================== misc
@register(inplace=True)
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Rescale each slice along ``dim`` whose p-norm exceeds ``maxnorm`` to norm ``maxnorm``.

    Example:
        >>> ember.renorm(ember.ones(2, 2) * 3, 2, 0, 1.0).norm(dim=1)
        tensor([1.0000, 1.0000])
    """
    _check_tensor("renorm", input)
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p={p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           "dimensions")
    d = _wrap_dim(dim, input.ndim, "renorm")
    others = tuple(i for i in range(input.ndim) if i != d)
    norms = input.norm(p, dim=others, keepdim=True)
    # PyTorch's factor: maxnorm / (norm + 1e-7) where the norm exceeds maxnorm, else 1
    with_factor = maxnorm / (norms + 1e-7)
    factor = where(norms > maxnorm, with_factor, with_factor * 0 + 1)
    return input * factor


@register(inplace=True)
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` (flattened) with ``source`` written (or added) at linear ``index``."""
    _check_tensor("put", input)
    if not isinstance(index, Tensor) or index._data.dtype != np.int64:
        raise RuntimeError(f"put(): Expected a long tensor for index, but got "
                           f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.numel() != source.numel():
        raise RuntimeError(f"put(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    n = input.numel()
    idx = index._data.reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"put(): index {bad} is out of bounds for tensor with {n} elements")
    flat = input.reshape(-1)
    src = source.reshape(-1)
    src = src if src.dtype is input.dtype else src.to(input.dtype)
    return apply(_INDEX_PUT, (flat, src), ((idx % max(n, 1),), accumulate)).reshape(
        input.shape)


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (all dims equal, or a tall 2-D matrix) in place."""
    nd = self.ndim
    if nd < 2:
        raise RuntimeError("fill_diagonal_: dimensions must larger than 1")
    shape = self.shape
    if nd > 2 and len(set(shape)) != 1:
        raise RuntimeError("fill_diagonal_: all dimensions of input must be of equal length")
    if nd == 2:
        rows, cols = shape
        step = cols + 1
        total = rows * cols if wrap else min(rows, cols) * cols
        lin = np.arange(0, min(total, rows * cols), step)
        key = np.unravel_index(lin, shape)
    else:
        i = np.arange(shape[0])
        key = (i,) * nd
    val = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    self[tuple(Tensor._wrap(k.astype(np.int64)) for k in key)] = val
    return self


METHODS["fill_diagonal_"] = fill_diagonal_


def sum_to_size(self: Tensor, *size) -> Tensor:
    """Sum ``self`` down to ``size`` (which ``self`` must be expandable from)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(self.shape)
    if len(size) > len(shape):
        raise RuntimeError(f"size {list(size)} is not expandable to size {list(shape)}")
    lead = len(shape) - len(size)
    dims = list(range(lead))
    for i, s in enumerate(size):
        if s == shape[lead + i]:
            continue
        if s != 1:
            raise RuntimeError(f"size {list(size)} is not expandable to size {list(shape)}")
        dims.append(lead + i)
    r = self.sum(tuple(range(lead)), keepdim=False) if lead else self
    keep = [d - lead for d in dims if d >= lead]
    if keep:
        r = r.sum(tuple(keep), keepdim=True)
    return r


METHODS["sum_to_size"] = sum_to_size


@register(method=False)
def unravel_index(indices, shape) -> tuple:
    """Flat indices -> a tuple of coordinate tensors for ``shape`` (C order).

    Example:
        >>> ember.unravel_index(ember.tensor(5), (2, 3))
        (tensor(1), tensor(2))
    """
    if not isinstance(indices, Tensor):
        indices = Tensor._wrap(np.asarray(indices))
    d = indices._data
    if d.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    n = int(np.prod(shape))
    if d.size and (d.min() < -n or d.max() >= n):
        raise RuntimeError(f"unravel_index: 'indices' must be in range [{-n}, {n - 1}] for "
                           f"shape {list(shape)}")
    xp = xp_of(d)
    coords = xp.unravel_index(d % max(n, 1), shape) if d.size else \
        tuple(xp.zeros(d.shape, np.int64) for _ in shape)
    return tuple(Tensor._wrap(xp.asarray(c, np.int64)) for c in coords)
