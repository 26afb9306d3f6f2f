"""``ember.special``: PyTorch's ``torch.special`` functions.

Most are the op table's own ops under SciPy-style names (``expit`` is ``sigmoid``, ``gammaln``
is ``lgamma``, ``psi`` is ``digamma``); the kernels that exist only here (``i0e``, ``i1``,
``i1e``, ``erfcx``, ``ndtr``, ``ndtri``, ``log_ndtr``, ``entr``, ``xlog1py``, ``zeta``,
``gammainc``/``gammaincc``, the Bessel and Airy functions, the orthogonal polynomials) are
records in ``ember/_ops/special_kernels.py`` with their gradients. Every function is
differentiable where PyTorch's is (``zeta``, the Bessel and Airy functions and the
polynomials are not; ``gammainc``/``gammaincc`` in ``other`` only). None needs SciPy: NOTE
[ Special functions without SciPy ] (``ember/_backends/special_math.py``).

Example:
    >>> import ember
    >>> ember.special.expit(ember.tensor([0.0]))
    tensor([0.5000])
"""

from __future__ import annotations

import ember
from ember._ops import special_kernels as _x
from ember._tensor import Tensor

__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "erfcx", "gammaln", "digamma", "psi",
           "polygamma", "multigammaln", "xlogy", "xlog1py", "i0", "i0e", "i1", "i1e", "sinc",
           "entr", "ndtr", "ndtri", "log_ndtr", "logsumexp", "log_softmax", "softmax", "round",
           "expm1", "exp2", "log1p", "zeta", "gammainc", "gammaincc", "airy_ai", "bessel_j0",
           "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p"]

i0e, i1, i1e = _x.i0e, _x.i1, _x.i1e
erfcx, ndtr, ndtri, log_ndtr, entr = _x.erfcx, _x.ndtr, _x.ndtri, _x.log_ndtr, _x.entr
gammainc, gammaincc = _x.gammainc, _x.gammaincc
airy_ai, spherical_bessel_j0 = _x.airy_ai, _x.spherical_bessel_j0
bessel_j0, bessel_j1, bessel_y0, bessel_y1 = _x.bessel_j0, _x.bessel_j1, _x.bessel_y0, _x.bessel_y1
modified_bessel_i0, modified_bessel_i1 = _x.modified_bessel_i0, _x.modified_bessel_i1
modified_bessel_k0, modified_bessel_k1 = _x.modified_bessel_k0, _x.modified_bessel_k1
scaled_modified_bessel_k0 = _x.scaled_modified_bessel_k0
scaled_modified_bessel_k1 = _x.scaled_modified_bessel_k1
chebyshev_polynomial_t = _x.chebyshev_polynomial_t
chebyshev_polynomial_u = _x.chebyshev_polynomial_u
chebyshev_polynomial_v = _x.chebyshev_polynomial_v
chebyshev_polynomial_w = _x.chebyshev_polynomial_w
shifted_chebyshev_polynomial_t = _x.shifted_chebyshev_polynomial_t
shifted_chebyshev_polynomial_u = _x.shifted_chebyshev_polynomial_u
shifted_chebyshev_polynomial_v = _x.shifted_chebyshev_polynomial_v
shifted_chebyshev_polynomial_w = _x.shifted_chebyshev_polynomial_w
hermite_polynomial_h, hermite_polynomial_he = _x.hermite_polynomial_h, _x.hermite_polynomial_he
laguerre_polynomial_l, legendre_polynomial_p = _x.laguerre_polynomial_l, _x.legendre_polynomial_p


def _unary(name, doc):
    fn = getattr(ember, name)

    def f(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        return fn(input, out=out)

    f.__doc__ = doc
    return f


expit = _unary("sigmoid", "The logistic sigmoid ``1 / (1 + exp(-x))``.")
erf = _unary("erf", "The error function.")
erfc = _unary("erfc", "The complementary error function ``1 - erf(x)``.")
erfinv = _unary("erfinv", "The inverse error function on (-1, 1).")
gammaln = _unary("lgamma", "The log of the absolute value of the gamma function.")
digamma = _unary("digamma", "The logarithmic derivative of the gamma function.")
psi = digamma
i0 = _unary("i0", "The modified Bessel function of the first kind of order 0.")
sinc = _unary("sinc", "The normalised sinc ``sin(pi x) / (pi x)`` (1 at 0).")
expm1 = _unary("expm1", "``exp(x) - 1``, accurate near 0.")
exp2 = _unary("exp2", "``2 ** x``.")
log1p = _unary("log1p", "``log(1 + x)``, accurate near 0.")
for _f, _n in ((expit, "expit"), (erf, "erf"), (erfc, "erfc"), (erfinv, "erfinv"),
               (gammaln, "gammaln"), (digamma, "digamma"), (i0, "i0"), (sinc, "sinc"),
               (expm1, "expm1"), (exp2, "exp2"), (log1p, "log1p")):
    _f.__name__ = _f.__qualname__ = _n


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    Args:
        input: probabilities.
        eps: the clamp bound; None (default) leaves ``input`` as it is (0 and 1 map to
            ``-inf`` and ``inf``).
        out: optional tensor to write the result into.

    Returns:
        A tensor of ``input``'s shape: the log-odds (the inverse of ``expit``).

    Example:
        >>> ember.special.logit(ember.tensor([0.5]))
        tensor([0.])
    """
    return ember.logit(input, eps, out=out)


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The ``n``-th derivative of digamma, elementwise (``polygamma(0, x)`` is ``digamma``).

    Args:
        n: the order of the derivative, an int >= 0.
        input: the input tensor.
        out: optional tensor to write the result into.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.special.polygamma(1, ember.tensor([1.0, 2.0]))  # pi**2/6, pi**2/6 - 1
        tensor([1.6449, 0.6449])
    """
    return ember.polygamma(n, input, out=out)


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The multivariate log-gamma function of dimension ``p`` (``torch.mvlgamma``).

    Args:
        input: the input tensor; the domain is ``x > (p - 1) / 2`` (outside it the value
            comes back unchecked, as in PyTorch 2.x).
        p: the dimension, an int >= 1.
        out: optional tensor to write the result into.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.special.multigammaln(ember.tensor([2.5]), 2)
        tensor([0.8570])
    """
    r = ember.mvlgamma(input, p)
    return ember._ops.core.write_out("multigammaln", out, r) if out is not None else r


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * log(other)``, 0 where ``input == 0``; either operand may be a scalar.

    Args:
        input: the multiplier (a tensor or a number).
        other: the argument of the log (a tensor or a number).
        out: optional tensor to write the result into.

    Returns:
        A tensor of the broadcast shape of the operands.

    Example:
        >>> ember.special.xlogy(ember.tensor([0.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor([0.0000, 2.7726])
    """
    return ember.xlogy(input, other, out=out)


def xlog1py(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * log1p(other)``, 0 where ``input == 0``; either operand may be a scalar.

    Args:
        input: the multiplier (a tensor or a number).
        other: the argument of ``log1p`` (a tensor or a number).
        out: optional tensor to write the result into.

    Returns:
        A tensor of the broadcast shape of the operands.

    Example:
        >>> ember.special.xlog1py(ember.tensor([0.0, 2.0]), ember.tensor([-1.0, 0.0]))
        tensor([0., 0.])
    """
    return _x.xlog1py(input, other, out=out)


def zeta(input, other, *, out: Tensor | None = None) -> Tensor:
    """The Hurwitz zeta function ``sum_{k>=0} (k + other) ** -input`` (not differentiable).

    Args:
        input: the exponent ``s`` (a tensor or a number).
        other: the shift ``q`` (a tensor or a number); ``q = 1`` gives Riemann's zeta.
        out: optional tensor to write the result into.

    Returns:
        A tensor of the broadcast shape of the operands.

    Example:
        >>> ember.special.zeta(ember.tensor([2.0]), 1.0)  # pi**2 / 6
        tensor([1.6449])
    """
    return _x.zeta(input, other, out=out)


def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """``log(sum(exp(input)))`` over ``dim``, computed stably.

    Args:
        input: the input tensor.
        dim: a dim or a tuple of dims to reduce.
        keepdim: keep the reduced dims with size 1.
        out: optional tensor to write the result into.

    Returns:
        The reduced tensor.

    Example:
        >>> ember.special.logsumexp(ember.tensor([[0.0, 0.0], [1.0, 1.0]]), dim=1)
        tensor([0.6931, 1.6931])
    """
    r = ember.logsumexp(input, dim, keepdim)
    return ember._ops.core.write_out("logsumexp", out, r) if out is not None else r


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Softmax over ``dim``: ``exp(x) / sum(exp(x))``, computed stably.

    Args:
        input: the input tensor.
        dim: the dim whose slices sum to 1.
        dtype: cast ``input`` to this dtype first (None: keep it).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.special.softmax(ember.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([0.0900, 0.2447, 0.6652])
    """
    return ember.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Log-softmax over ``dim``: ``x - logsumexp(x)``, computed stably.

    Args:
        input: the input tensor.
        dim: the dim to normalise over.
        dtype: cast ``input`` to this dtype first (None: keep it).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> ember.special.log_softmax(ember.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([-2.4076, -1.4076, -0.4076])
    """
    return ember.log_softmax(input, dim, dtype=dtype)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Round each element to ``decimals`` decimal places, halves to even.

    Args:
        input: the input tensor.
        decimals: the number of decimal places (negative: round to tens, hundreds, ...).
        out: optional tensor to write the result into.

    Returns:
        A tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.special.round(ember.tensor([0.5, 1.5, 2.345]), decimals=0)
        tensor([0., 2., 2.])
    """
    return ember.round(input, decimals=decimals, out=out)


# The generated functions above get their docstrings from a table (NOTE [ Docstring tables ]).
from ember import _docs as _docs_tables  # noqa: E402

_docs_tables.attach(__name__, globals())
