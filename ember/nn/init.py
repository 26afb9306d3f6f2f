"""``ember.nn.init``: parameter initialisation schemes (PyTorch's ``torch.nn.init``).

Every function fills its tensor in place without recording autograd history and returns it.
Gains and fan rules are PyTorch's documented ones, so a layer's default initialisation has
the same distribution as in PyTorch (the random streams differ: see ember/_random.py).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember._backends import DEFAULT, backend_of
from ember._random import _gen
from ember._tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant",
           "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal",
           "sparse", "eye", "dirac"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def _fill(tensor: Tensor, values) -> Tensor:
    """Write ``values`` into ``tensor``'s memory (no autograd) and bump its version. The
    values are drawn on the host (ember's generators are host ones): on a device they move
    over once, here."""
    d = tensor._data
    b = backend_of(d)
    if b is not DEFAULT and isinstance(values, np.ndarray):
        values = b.from_host(np.ascontiguousarray(values, d.dtype))
    b.xp.copyto(d, values, casting="unsafe")
    tensor._bump()
    return tensor


def _check(tensor, name):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Return the recommended gain for a nonlinearity (PyTorch's table).

    Args:
        nonlinearity: ``linear``, ``conv*``, ``sigmoid``, ``tanh``, ``relu``, ``leaky_relu``
            or ``selu``.
        param: the negative slope for ``leaky_relu`` (default 0.01).

    Returns:
        A float.

    Example::

        >>> nn.init.calculate_gain("leaky_relu", 0.2)
        1.3867504905630728
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)``: dim 1 and dim 0 sizes times the receptive field size."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    shape = tensor.shape
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with values from U(a, b).

    Args:
        tensor: the tensor to fill, in place.
        a: the lower bound (default 0).
        b: the upper bound (default 1).
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example::

        >>> w = nn.init.uniform_(ember.empty(3, 5), -0.1, 0.1)
        >>> bool(w.abs().max() <= 0.1)
        True
    """
    _check(tensor, "uniform_")
    return _fill(tensor, _gen(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with values from N(mean, std^2).

    Args:
        tensor: the tensor to fill, in place.
        mean: the mean (default 0).
        std: the standard deviation (default 1).
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example::

        >>> nn.init.normal_(ember.empty(3, 5), std=0.02).shape
        torch.Size([3, 5])
    """
    _check(tensor, "normal_")
    return _fill(tensor, _gen(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b] (inverse-CDF sampling).

    Args:
        tensor: the tensor to fill, in place.
        mean: the mean (default 0).
        std: the standard deviation (default 1).
        a: the lower cut-off (default -2).
        b: the upper cut-off (default 2).
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example::

        >>> w = nn.init.trunc_normal_(ember.empty(3, 5), std=0.02, a=-0.04, b=0.04)
        >>> bool(w.abs().max() <= 0.04)
        True
    """
    _check(tensor, "trunc_normal_")
    from ember._backends import DEFAULT

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    lo, hi = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)
    u = _gen(generator).uniform(2 * lo - 1, 2 * hi - 1, tensor.shape)
    v = DEFAULT.erfinv(np.asarray(u, np.float64)) * (std * math.sqrt(2.0)) + mean
    return _fill(tensor, np.clip(v, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the constant ``val``.

    Args:
        tensor: the tensor to fill, in place.
        val: the value.

    Returns:
        ``tensor``.

    Example:
        >>> nn.init.constant_(ember.empty(3), 0.5)
        tensor([0.5000, 0.5000, 0.5000])
    """
    _check(tensor, "constant_")
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    Args:
        tensor: the tensor to fill, in place.

    Returns:
        ``tensor``.

    Example:
        >>> nn.init.ones_(ember.empty(2))
        tensor([1., 1.])
    """
    return constant_(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    Args:
        tensor: the tensor to fill, in place.

    Returns:
        ``tensor``.

    Example:
        >>> nn.init.zeros_(ember.empty(2))
        tensor([0., 0.])
    """
    return constant_(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix.

    Args:
        tensor: the tensor to fill, in place.

    Returns:
        ``tensor``.

    Example:
        >>> nn.init.eye_(ember.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D conv weight with the Dirac delta (identity convolution per group).

    Args:
        tensor: the tensor to fill, in place.
        groups: the number of groups of output channels (default 1).

    Returns:
        ``tensor``.

    Example:
        >>> w = nn.init.dirac_(ember.empty(2, 2, 3))
        >>> w[:, :, 1]
        tensor([[1., 0.],
                [0., 1.]])
    """
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    w = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            w[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, w)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Args:
        tensor: the tensor to fill, in place.
        gain: the scaling factor (default 1).
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example:
        >>> w = nn.init.xavier_uniform_(ember.empty(30, 20))
        >>> bool(w.abs().max() <= (6 / 50) ** 0.5)
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Args:
        tensor: the tensor to fill, in place.
        gain: the scaling factor (default 1).
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example:
        >>> nn.init.xavier_normal_(ember.empty(30, 20)).shape
        torch.Size([30, 20])
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``.

    Args:
        tensor: the tensor to fill (>= 2-D).
        a: the negative slope of the rectifier that follows (for ``leaky_relu``).
        mode: ``fan_in`` (preserves forward variance) or ``fan_out`` (backward).
        nonlinearity: the name given to :func:`calculate_gain`.

    Returns:
        ``tensor``.

    Example::

        >>> w = nn.init.kaiming_uniform_(ember.empty(3, 5), mode="fan_in", nonlinearity="relu")
        >>> bool(w.abs().max() <= (6 / 5) ** 0.5)
        True
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std^2) with ``std = gain / sqrt(fan)``.

    Args:
        tensor: the tensor to fill, in place.
        a: the negative slope of the leaky ReLU that follows (default 0).
        mode: ``'fan_in'`` (default; keeps the forward variance) or ``'fan_out'`` (keeps the
            backward variance).
        nonlinearity: the nonlinearity after the layer, for the gain: ``'relu'``,
            ``'leaky_relu'`` (default), ``'linear'``, ``'tanh'``, ...
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example:
        >>> nn.init.kaiming_normal_(ember.empty(8, 50), mode='fan_out').shape
        torch.Size([8, 50])
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix from the QR decomposition of a Gaussian one.

    Args:
        tensor: the tensor to fill, in place.
        gain: the scaling factor (default 1).
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example:
        >>> w = nn.init.orthogonal_(ember.empty(3, 3))
        >>> ember.allclose(w @ w.T, ember.eye(3), atol=1e-5)
        True
    """
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _gen(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # make the decomposition unique (Haar-distributed q)
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor with N(0, std^2) and zero a ``sparsity`` fraction of each column.

    Args:
        tensor: the tensor to fill, in place.
        sparsity: the fraction of each column set to zero.
        std: the standard deviation of the rest (default 0.01).
        generator: the generator to draw from (default: the global one).

    Returns:
        ``tensor``.

    Example:
        >>> w = nn.init.sparse_(ember.empty(10, 3), sparsity=0.5)
        >>> (w == 0).sum(dim=0)
        tensor([5, 5, 5])
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    rng = _gen(generator)
    w = rng.normal(0.0, std, (rows, cols))
    for c in range(cols):
        w[rng.permutation(rows)[:num_zeros], c] = 0
    return _fill(tensor, w)


def _deprecated(fn):
    def alias(*args, **kwargs):
        warnings.warn(f"`nn.init.{fn.__name__[:-1]}` is now deprecated in favor of "
                      f"`nn.init.{fn.__name__}`.", FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)

    alias.__name__ = fn.__name__[:-1]
    alias.__doc__ = f"Deprecated alias of :func:`{fn.__name__}`."
    return alias


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
eye.__doc__ = """Deprecated alias of :func:`eye_` (warns FutureWarning, as PyTorch).

Args:
    tensor: a 2-D tensor, filled in place with the identity.

Returns:
    ``tensor``.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     nn.init.eye(ember.empty(2, 2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
"""
dirac.__doc__ = """Deprecated alias of :func:`dirac_` (warns FutureWarning, as PyTorch).

Args:
    tensor: a 3-, 4- or 5-D tensor, filled in place with the Dirac delta.
    groups: the number of groups along the output channels.

Returns:
    ``tensor``.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     nn.init.dirac(ember.empty(1, 1, 3)).tolist()
    [[[0.0, 1.0, 0.0]]]
"""


def _skip_meta(fn):
    """Initialisers have nothing to fill on the ``meta`` device: return the tensor as is
    (after the argument check), as PyTorch's do."""
    import functools

    @functools.wraps(fn)
    def init_fn(tensor, *args, **kwargs):
        if isinstance(tensor, Tensor) and tensor.is_meta:
            return tensor
        return fn(tensor, *args, **kwargs)

    return init_fn


for _name in ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
              "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
              "kaiming_normal_", "orthogonal_", "sparse_"):
    globals()[_name] = _skip_meta(globals()[_name])
del _name
