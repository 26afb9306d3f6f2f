"""Docstrings of ``ember.special``'s generated functions (NOTE [ Docstring tables ]).

The aliases of core ops (``expit`` is ``sigmoid``, ``gammaln`` is ``lgamma``, ...) are small
wrappers made in a loop, and the kernels only ``ember.special`` has (``i0e``, ``ndtr``, ...)
are made by a factory in ``ember/_ops/special_kernels.py``, so neither has a ``def`` to hold
its text. Functions written out in ``ember/special.py`` keep their docstrings there.
"""

_OUT = "out: optional tensor to write the result into."


def _unary(summary, returns, example):
    return f"""{summary}

Args:
    input: the input tensor (integer and bool inputs compute in the default float dtype).
    {_OUT}

Returns:
    {returns}

Example:
{example}
"""


DOCS = {
    "expit": _unary(
        "The logistic sigmoid ``1 / (1 + exp(-input))`` of each element (``ember.sigmoid``).",
        "A tensor of ``input``'s shape with values in (0, 1).",
        """    >>> ember.special.expit(ember.tensor([-2.0, 0.0, 2.0]))
    tensor([0.1192, 0.5000, 0.8808])"""),
    "erf": _unary(
        "The Gauss error function ``2/sqrt(pi) * integral_0^x exp(-t**2) dt`` elementwise.",
        "A tensor of ``input``'s shape with values in [-1, 1].",
        """    >>> ember.special.erf(ember.tensor([0.0, 0.5, 3.0]))
    tensor([0.0000, 0.5205, 1.0000])"""),
    "erfc": _unary(
        "The complementary error function ``1 - erf(input)`` elementwise.",
        "A tensor of ``input``'s shape; accurate for large inputs, where ``1 - erf`` "
        "rounds to 0.",
        """    >>> ember.special.erfc(ember.tensor([0.0, 1.0, 5.0]))
    tensor([1.0000e+00, 1.5730e-01, 1.5375e-12])"""),
    "erfinv": _unary(
        "The inverse error function: ``y`` with ``erf(y) == input``, elementwise.",
        "A tensor of ``input``'s shape; ``inf``/``-inf`` at 1/-1 and ``nan`` outside "
        "[-1, 1].",
        """    >>> ember.special.erfinv(ember.tensor([0.0, 0.5, 1.0]))
    tensor([0.0000, 0.4769,    inf])"""),
    "erfcx": _unary(
        "The scaled complementary error function ``exp(input**2) * erfc(input)`` "
        "elementwise.",
        "A tensor of ``input``'s shape, finite where ``exp(x**2)`` alone would overflow.",
        """    >>> ember.special.erfcx(ember.tensor([0.0, 1.0, 30.0]))
    tensor([1.0000, 0.4276, 0.0188])"""),
    "gammaln": _unary(
        "The log of the absolute value of the gamma function, elementwise "
        "(``ember.lgamma``).",
        "A tensor of ``input``'s shape; ``inf`` at 0 and the negative integers.",
        """    >>> ember.special.gammaln(ember.tensor([1.0, 0.5, 10.0]))
    tensor([ 0.0000,  0.5724, 12.8018])"""),
    "digamma": _unary(
        "The digamma function ``d/dx log(gamma(x))`` elementwise (also ``ember.special.psi``).",
        "A tensor of ``input``'s shape; ``-inf`` at 0 and ``nan`` at the negative integers, "
        "as in PyTorch.",
        """    >>> ember.special.digamma(ember.tensor([1.0, 2.0, 0.5]))
    tensor([-0.5772,  0.4228, -1.9635])"""),
    "i0": _unary(
        "The modified Bessel function of the first kind of order 0, elementwise.",
        "A tensor of ``input``'s shape (even in ``input``, at least 1).",
        """    >>> ember.special.i0(ember.tensor([0.0, 1.0, -2.0]))
    tensor([1.0000, 1.2661, 2.2796])"""),
    "i0e": _unary(
        "The exponentially scaled modified Bessel function ``exp(-|x|) * i0(x)`` of order 0.",
        "A tensor of ``input``'s shape, finite where ``i0`` overflows.",
        """    >>> ember.special.i0e(ember.tensor([0.0, 1.0, 100.0]))
    tensor([1.0000, 0.4658, 0.0399])"""),
    "i1": _unary(
        "The modified Bessel function of the first kind of order 1, elementwise.",
        "A tensor of ``input``'s shape (odd in ``input``).",
        """    >>> ember.special.i1(ember.tensor([0.0, 1.0, -2.0]))
    tensor([ 0.0000,  0.5652, -1.5906])"""),
    "i1e": _unary(
        "The exponentially scaled modified Bessel function ``exp(-|x|) * i1(x)`` of order 1.",
        "A tensor of ``input``'s shape, finite where ``i1`` overflows.",
        """    >>> ember.special.i1e(ember.tensor([0.0, 1.0, 100.0]))
    tensor([0.0000, 0.2079, 0.0397])"""),
    "sinc": _unary(
        "The normalised sinc function ``sin(pi x) / (pi x)`` elementwise, 1 at 0.",
        "A tensor of ``input``'s shape.",
        """    >>> ember.special.sinc(ember.tensor([0.0, 0.5, 1.0]))
    tensor([ 1.0000e+00,  6.3662e-01, -2.7828e-08])"""),
    "expm1": _unary(
        "``exp(input) - 1`` elementwise, accurate for inputs near 0.",
        "A tensor of ``input``'s shape.",
        """    >>> ember.special.expm1(ember.tensor([1e-10, 1.0]))
    tensor([1.0000e-10, 1.7183e+00])"""),
    "exp2": _unary(
        "``2 ** input`` elementwise.",
        "A tensor of ``input``'s shape.",
        """    >>> ember.special.exp2(ember.tensor([0.0, 3.0, -1.0]))
    tensor([1.0000, 8.0000, 0.5000])"""),
    "log1p": _unary(
        "``log(1 + input)`` elementwise, accurate for inputs near 0.",
        "A tensor of ``input``'s shape; ``nan`` below -1.",
        """    >>> ember.special.log1p(ember.tensor([1e-10, 1.0]))
    tensor([1.0000e-10, 6.9315e-01])"""),
    "ndtr": _unary(
        "The standard normal cumulative distribution function, elementwise.",
        "A tensor of ``input``'s shape with values in [0, 1]: ``P(Z <= x)`` for "
        "``Z ~ N(0, 1)``.",
        """    >>> ember.special.ndtr(ember.tensor([-1.0, 0.0, 1.96]))
    tensor([0.1587, 0.5000, 0.9750])"""),
    "ndtri": _unary(
        "The inverse of ``ndtr``: the standard normal quantile of each probability.",
        "A tensor of ``input``'s shape; ``-inf``/``inf`` at 0/1 and ``nan`` outside [0, 1].",
        """    >>> ember.special.ndtri(ember.tensor([0.5, 0.975, 0.0]))
    tensor([0.0000, 1.9600,   -inf])"""),
    "log_ndtr": _unary(
        "The log of the standard normal cumulative distribution function, elementwise.",
        "A tensor of ``input``'s shape, accurate far in the left tail where ``ndtr`` "
        "underflows to 0.",
        """    >>> ember.special.log_ndtr(ember.tensor([0.0, -10.0]))
    tensor([ -0.6931, -53.2313])"""),
    "entr": _unary(
        "The elementwise entropy term ``-x * log(x)``: 0 at 0 and ``-inf`` for negative x.",
        "A tensor of ``input``'s shape.",
        """    >>> ember.special.entr(ember.tensor([0.25, 0.5, -1.0]))
    tensor([0.3466, 0.3466,   -inf])"""),
}
