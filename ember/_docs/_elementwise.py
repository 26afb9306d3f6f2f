"""Docstrings of ember's elementwise functions (also Tensor methods), by name."""


DOCS = {
    "abs": """\
    Absolute value of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.abs(ember.tensor([-1.5, 0.0, 2.0]))
        tensor([1.5000, 0.0000, 2.0000])
""",
    "acos": """\
    Inverse cosine (arccosine) of each element, in radians.

    Elements outside [-1, 1] give nan. ``ember.arccos`` is the same function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.acos(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([3.1416, 1.5708, 0.0000])
""",
    "acosh": """\
    Inverse hyperbolic cosine of each element.

    Elements below 1 give nan. ``ember.arccosh`` is the same function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.acosh(ember.tensor([1.0, 2.0, 10.0]))
        tensor([0.0000, 1.3170, 2.9932])
""",
    "asin": """\
    Inverse sine (arcsine) of each element, in radians.

    Elements outside [-1, 1] give nan. ``ember.arcsin`` is the same function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.asin(ember.tensor([-1.0, 0.0, 0.5]))
        tensor([-1.5708,  0.0000,  0.5236])
""",
    "asinh": """\
    Inverse hyperbolic sine of each element.

    ``ember.arcsinh`` is the same function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.asinh(ember.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.8814,  0.0000,  1.4436])
""",
    "atan": """\
    Inverse tangent (arctangent) of each element, in radians.

    ``ember.arctan`` is the same function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.atan(ember.tensor([-1.0, 0.0, 10.0]))
        tensor([-0.7854,  0.0000,  1.4711])
""",
    "atanh": """\
    Inverse hyperbolic tangent of each element.

    Elements outside [-1, 1] give nan, and +-1 give +-inf. ``ember.arctanh`` is the same
    function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.atanh(ember.tensor([-0.5, 0.0, 0.9]))
        tensor([-0.5493,  0.0000,  1.4722])
""",
    "bitwise_not": """\
    Bitwise NOT of each element of an integer or bool tensor.

    Bool inputs give the logical NOT. Floating-point inputs raise RuntimeError.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.bitwise_not(ember.tensor([0, 5, -3]))
        tensor([-1, -6,  2])
""",
    "ceil": """\
    Rounds each element up to the nearest integer.

    Integer inputs are returned unchanged (as a copy).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.ceil(ember.tensor([-1.5, 0.2, 2.0]))
        tensor([-1.,  1.,  2.])
""",
    "cos": """\
    Cosine of each element (in radians).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.cos(ember.tensor([0.0, 1.5708, 3.1416]))
        tensor([ 1.0000e+00, -3.6200e-06, -1.0000e+00])
""",
    "cosh": """\
    Hyperbolic cosine of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.cosh(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([1.5431, 1.0000, 1.5431])
""",
    "deg2rad": """\
    Converts each element from degrees to radians.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.deg2rad(ember.tensor([0.0, 90.0, 180.0]))
        tensor([0.0000, 1.5708, 3.1416])
""",
    "digamma": """\
    The digamma function (the derivative of ``lgamma``) of each element.

    At 0 the result is -inf, as in PyTorch.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.digamma(ember.tensor([0.5, 1.0, 3.0]))
        tensor([-1.9635, -0.5772,  0.9228])
""",
    "erf": """\
    The Gauss error function of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.erf(ember.tensor([-1.0, 0.0, 0.5]))
        tensor([-0.8427,  0.0000,  0.5205])
""",
    "erfc": """\
    The complementary error function ``1 - erf(x)`` of each element.

    Computed directly, so it stays accurate where ``erf`` is close to 1.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.erfc(ember.tensor([-1.0, 0.0, 2.0]))
        tensor([1.8427, 1.0000, 0.0047])
""",
    "erfinv": """\
    The inverse of the error function, elementwise.

    Defined on (-1, 1); +-1 give +-inf, outside values give nan.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.erfinv(ember.tensor([-0.5, 0.0, 0.9]))
        tensor([-0.4769,  0.0000,  1.1631])
""",
    "exp": """\
    The exponential ``e ** x`` of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.exp(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([0.3679, 1.0000, 2.7183])
""",
    "exp2": """\
    ``2 ** x`` of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.exp2(ember.tensor([-1.0, 0.0, 3.0]))
        tensor([0.5000, 1.0000, 8.0000])
""",
    "expm1": """\
    ``exp(x) - 1`` of each element, accurate for small ``x``.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.expm1(ember.tensor([-1e-3, 0.0, 1.0]))
        tensor([-9.9950e-04,  0.0000e+00,  1.7183e+00])
""",
    "floor": """\
    Rounds each element down to the nearest integer.

    Integer inputs are returned unchanged (as a copy).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.floor(ember.tensor([-1.5, 0.2, 2.0]))
        tensor([-2.,  0.,  2.])
""",
    "frac": """\
    The fractional part of each element, ``x - trunc(x)``.

    The result keeps the sign of the input.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.frac(ember.tensor([-1.5, 0.25, 2.0]))
        tensor([-0.5000,  0.2500,  0.0000])
""",
    "i0": """\
    The modified Bessel function of the first kind, order 0, of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.i0(ember.tensor([0.0, 1.0, 2.0]))
        tensor([1.0000, 1.2661, 2.2796])
""",
    "isfinite": """\
    Tests each element for being finite (not inf, -inf or nan).

    Integer and bool tensors are all finite.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.isfinite(ember.tensor([1.0, float('inf'), float('nan')]))
        tensor([ True, False, False])
""",
    "isinf": """\
    Tests each element for being positive or negative infinity.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.isinf(ember.tensor([1.0, float('-inf'), float('nan')]))
        tensor([False,  True, False])
""",
    "isnan": """\
    Tests each element for being nan.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.isnan(ember.tensor([1.0, float('nan')]))
        tensor([False,  True])
""",
    "isneginf": """\
    Tests each element for being negative infinity.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.isneginf(ember.tensor([1.0, float('-inf'), float('inf')]))
        tensor([False,  True, False])
""",
    "isposinf": """\
    Tests each element for being positive infinity.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.isposinf(ember.tensor([1.0, float('-inf'), float('inf')]))
        tensor([False, False,  True])
""",
    "isreal": """\
    Tests each element for having a zero imaginary part.

    Every element of a real tensor is real.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.isreal(ember.tensor([1 + 0j, 2 + 1j]))
        tensor([ True, False])
""",
    "lgamma": """\
    The natural logarithm of the absolute value of the gamma function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.lgamma(ember.tensor([0.5, 1.0, 5.0]))
        tensor([0.5724, 0.0000, 3.1781])
""",
    "log": """\
    The natural logarithm of each element.

    Zero gives -inf and negative elements give nan.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.log(ember.tensor([0.5, 1.0, 2.718281828]))
        tensor([-0.6931,  0.0000,  1.0000])
""",
    "log10": """\
    The base-10 logarithm of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.log10(ember.tensor([0.5, 1.0, 50.0]))
        tensor([-0.3010,  0.0000,  1.6990])
""",
    "log1p": """\
    ``log(1 + x)`` of each element, accurate for small ``x``.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.log1p(ember.tensor([-0.5, 0.0, 1e-4]))
        tensor([-6.9315e-01,  0.0000e+00,  9.9995e-05])
""",
    "log2": """\
    The base-2 logarithm of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.log2(ember.tensor([0.5, 1.0, 8.0]))
        tensor([-1.,  0.,  3.])
""",
    "logical_not": """\
    Logical NOT of each element: True where the element is zero.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.logical_not(ember.tensor([0.0, 1.5, -2.0]))
        tensor([ True, False, False])
""",
    "neg": """\
    The negation ``-x`` of each element.

    ``ember.negative`` is the same function; bool inputs raise RuntimeError.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.neg(ember.tensor([-1.5, 0.0, 2.0]))
        tensor([ 1.5000, -0.0000, -2.0000])
""",
    "rad2deg": """\
    Converts each element from radians to degrees.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.rad2deg(ember.tensor([0.0, 1.5708, 3.1416]))
        tensor([  0.0000,  90.0002, 180.0004])
""",
    "reciprocal": """\
    ``1 / x`` of each element.

    Zero gives inf. Integer inputs give the default float dtype.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.reciprocal(ember.tensor([-2.0, 0.5, 4.0]))
        tensor([-0.5000,  2.0000,  0.2500])
""",
    "relu": """\
    The rectified linear unit ``max(x, 0)`` of each element.

    ``ember.nn.functional.relu`` and ``ember.nn.ReLU`` compute the same.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.relu(ember.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
""",
    "rsqrt": """\
    ``1 / sqrt(x)`` of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.rsqrt(ember.tensor([0.25, 1.0, 4.0]))
        tensor([2.0000, 1.0000, 0.5000])
""",
    "sigmoid": """\
    The logistic sigmoid ``1 / (1 + exp(-x))`` of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.sigmoid(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([0.1192, 0.5000, 0.8808])
""",
    "sign": """\
    The sign (-1, 0 or 1) of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.sign(ember.tensor([-2.5, 0.0, 3.0]))
        tensor([-1.,  0.,  1.])
""",
    "signbit": """\
    Tests each element for having its sign bit set (negative, or -0.0).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of ``input``'s shape.

    Example:
        >>> ember.signbit(ember.tensor([-2.5, -0.0, 3.0]))
        tensor([ True,  True, False])
""",
    "sin": """\
    Sine of each element (in radians).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.sin(ember.tensor([0.0, 1.5708, 3.1416]))
        tensor([ 0.0000e+00,  1.0000e+00, -7.2400e-06])
""",
    "sinc": """\
    The normalised sinc function ``sin(pi x) / (pi x)`` of each element.

    At 0 the result is 1.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.sinc(ember.tensor([0.0, 0.5, 1.0]))
        tensor([ 1.0000e+00,  6.3662e-01, -2.7828e-08])
""",
    "sinh": """\
    Hyperbolic sine of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.sinh(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([-1.1752,  0.0000,  1.1752])
""",
    "sqrt": """\
    The square root of each element.

    Negative elements give nan.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.sqrt(ember.tensor([0.0, 2.0, 9.0]))
        tensor([0.0000, 1.4142, 3.0000])
""",
    "square": """\
    The square ``x * x`` of each element.

    Integer inputs keep their dtype, as with ``x * x``.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.square(ember.tensor([-1.5, 0.0, 3.0]))
        tensor([2.2500, 0.0000, 9.0000])
""",
    "tan": """\
    Tangent of each element (in radians).

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.tan(ember.tensor([-1.0, 0.0, 1.0]))
        tensor([-1.5574,  0.0000,  1.5574])
""",
    "tanh": """\
    Hyperbolic tangent of each element.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape. Integer and bool inputs compute in the default float
        dtype.

    Example:
        >>> ember.tanh(ember.tensor([-1.0, 0.0, 2.0]))
        tensor([-0.7616,  0.0000,  0.9640])
""",
    "trunc": """\
    Rounds each element toward zero.

    ``ember.fix`` is the same function.

    Args:
        input: the input tensor.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of ``input``'s shape and dtype.

    Example:
        >>> ember.trunc(ember.tensor([-1.7, 0.2, 2.9]))
        tensor([-1.,  0.,  2.])
""",
    "atan2": """\
    Arctangent of ``input / other`` in the quadrant of the point (other, input).

    ``ember.arctan2`` is the same function. Integer inputs give the default float dtype.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.atan2(ember.tensor([1.0, 1.0, -1.0]), ember.tensor([1.0, -1.0, -1.0]))
        tensor([ 0.7854,  2.3562, -2.3562])
""",
    "bitwise_and": """\
    Bitwise AND of integer or bool tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.bitwise_and(ember.tensor([12, 10]), ember.tensor([10, 6]))
        tensor([8, 2])
""",
    "bitwise_left_shift": """\
    Shifts the bits of each element of ``input`` left by ``other``.

    The ``<<`` operator on tensors.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.bitwise_left_shift(ember.tensor([1, 3]), ember.tensor([2, 4]))
        tensor([ 4, 48])
""",
    "bitwise_or": """\
    Bitwise OR of integer or bool tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.bitwise_or(ember.tensor([12, 10]), ember.tensor([10, 6]))
        tensor([14, 14])
""",
    "bitwise_right_shift": """\
    Shifts the bits of each element of ``input`` right by ``other``.

    The ``>>`` operator on tensors; signed types shift arithmetically.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.bitwise_right_shift(ember.tensor([16, -16]), ember.tensor([2, 2]))
        tensor([ 4, -4])
""",
    "bitwise_xor": """\
    Bitwise exclusive OR of integer or bool tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.bitwise_xor(ember.tensor([12, 10]), ember.tensor([10, 6]))
        tensor([ 6, 12])
""",
    "copysign": """\
    The magnitude of ``input`` with the sign of ``other``, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.copysign(ember.tensor([1.0, -2.0, 3.0]), ember.tensor([-1.0, 1.0, -0.0]))
        tensor([-1.,  2., -3.])
""",
    "eq": """\
    Tests ``input == other`` elementwise.

    ``ember.equal`` instead compares whole tensors and returns one Python bool.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.eq(ember.tensor([1, 2, 3]), ember.tensor([1, 0, 3]))
        tensor([ True, False,  True])
""",
    "float_power": """\
    ``input ** exponent`` computed in double precision.

    Args:
        input: the input tensor.
        exponent: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A float64 (or complex128) tensor of the broadcast shape.

    Example:
        >>> ember.float_power(ember.tensor([2, 3]), ember.tensor([0.5, 2.0]))
        tensor([1.4142, 9.0000], dtype=torch.float64)
""",
    "floor_divide": """\
    Divides elementwise and rounds the quotient down (toward -inf).

    The ``//`` operator on tensors; same as ``div(input, other, rounding_mode='floor')``.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.floor_divide(ember.tensor([7, -7]), ember.tensor([2, 2]))
        tensor([ 3, -4])
""",
    "fmax": """\
    Elementwise maximum that ignores nan: where one operand is nan, the other is taken.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.fmax(ember.tensor([1.0, ember.nan, 3.0]), ember.tensor([2.0, 0.0, ember.nan]))
        tensor([2., 0., 3.])
""",
    "fmin": """\
    Elementwise minimum that ignores nan: where one operand is nan, the other is taken.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.fmin(ember.tensor([1.0, ember.nan, 3.0]), ember.tensor([2.0, 0.0, ember.nan]))
        tensor([1., 0., 3.])
""",
    "fmod": """\
    The remainder of division with the sign of the dividend (C's ``fmod``).

    ``ember.remainder`` instead takes the sign of the divisor, as Python's ``%``.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.fmod(ember.tensor([-7.0, 7.0]), ember.tensor([3.0, 3.0]))
        tensor([-1.,  1.])
""",
    "gcd": """\
    The greatest common divisor of integer tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.gcd(ember.tensor([12, 9, 0]), ember.tensor([18, 6, 5]))
        tensor([6, 3, 5])
""",
    "ge": """\
    Tests ``input >= other`` elementwise.

    ``ember.greater_equal`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.ge(ember.tensor([1, 2, 3]), ember.tensor([2, 2, 2]))
        tensor([False,  True,  True])
""",
    "gt": """\
    Tests ``input > other`` elementwise.

    ``ember.greater`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.gt(ember.tensor([1, 2, 3]), ember.tensor([2, 2, 2]))
        tensor([False, False,  True])
""",
    "heaviside": """\
    The Heaviside step function of ``input``, taking ``values`` where ``input`` is zero.

    Args:
        input: the input tensor.
        values: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``values``, in their promoted dtype.

    Example:
        >>> ember.heaviside(ember.tensor([-1.5, 0.0, 2.0]), ember.tensor([0.5]))
        tensor([0.0000, 0.5000, 1.0000])
""",
    "hypot": """\
    ``sqrt(input**2 + other**2)`` elementwise, without overflow for large values.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.hypot(ember.tensor([3.0, 5.0]), ember.tensor([4.0, 12.0]))
        tensor([ 5., 13.])
""",
    "lcm": """\
    The least common multiple of integer tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.lcm(ember.tensor([4, 6, 0]), ember.tensor([6, 4, 5]))
        tensor([12, 12,  0])
""",
    "le": """\
    Tests ``input <= other`` elementwise.

    ``ember.less_equal`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.le(ember.tensor([1, 2, 3]), ember.tensor([2, 2, 2]))
        tensor([ True,  True, False])
""",
    "logaddexp": """\
    ``log(exp(input) + exp(other))`` elementwise, without overflow.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.logaddexp(ember.tensor([0.0, 100.0]), ember.tensor([0.0, 100.0]))
        tensor([  0.6931, 100.6931])
""",
    "logaddexp2": """\
    ``log2(2**input + 2**other)`` elementwise, without overflow.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.logaddexp2(ember.tensor([0.0, 1.0]), ember.tensor([0.0, 3.0]))
        tensor([1.0000, 3.3219])
""",
    "logical_and": """\
    Logical AND of the truth values of two tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.logical_and(ember.tensor([1, 0, 2]), ember.tensor([True, True, False]))
        tensor([ True, False, False])
""",
    "logical_or": """\
    Logical OR of the truth values of two tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.logical_or(ember.tensor([1, 0, 0]), ember.tensor([False, True, False]))
        tensor([ True,  True, False])
""",
    "logical_xor": """\
    Logical exclusive OR of the truth values of two tensors, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.logical_xor(ember.tensor([1, 0, 2]), ember.tensor([True, True, False]))
        tensor([False,  True,  True])
""",
    "lt": """\
    Tests ``input < other`` elementwise.

    ``ember.less`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.lt(ember.tensor([1, 2, 3]), ember.tensor([2, 2, 2]))
        tensor([ True, False, False])
""",
    "maximum": """\
    The elementwise maximum of two tensors.

    nan in either operand gives nan; ``ember.fmax`` ignores nan. ``ember.max`` with one tensor
    reduces instead.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.maximum(ember.tensor([1.0, 5.0]), ember.tensor([3.0, 2.0]))
        tensor([3., 5.])
""",
    "minimum": """\
    The elementwise minimum of two tensors.

    nan in either operand gives nan; ``ember.fmin`` ignores nan.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.minimum(ember.tensor([1.0, 5.0]), ember.tensor([3.0, 2.0]))
        tensor([1., 2.])
""",
    "mul": """\
    Multiplies ``input`` by ``other`` elementwise.

    The ``*`` operator on tensors; ``ember.multiply`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.mul(ember.tensor([1.0, 2.0, 3.0]), ember.tensor(2.0))
        tensor([2., 4., 6.])
""",
    "ne": """\
    Tests ``input != other`` elementwise.

    ``ember.not_equal`` is the same function.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A bool tensor of the broadcast shape of ``input`` and ``other``.

    Example:
        >>> ember.ne(ember.tensor([1, 2, 3]), ember.tensor([1, 0, 3]))
        tensor([False,  True, False])
""",
    "nextafter": """\
    The next representable floating-point value after ``input`` toward ``other``, elementwise.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.nextafter(ember.tensor([1.0]), ember.tensor([2.0])) - 1
        tensor([1.1921e-07])
        >>> ember.finfo(ember.float32).eps
        1.1920928955078125e-07
""",
    "pow": """\
    Raises ``input`` to the power ``exponent``, elementwise.

    The ``**`` operator on tensors. Integer tensors raised to negative integer powers raise
    RuntimeError, as in PyTorch.

    Args:
        input: the base: a tensor or a number (then ``exponent`` must be a tensor).
        exponent: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``exponent``, in their promoted
        dtype.

    Example:
        >>> ember.pow(ember.tensor([1.0, 2.0, 3.0]), 2)
        tensor([1., 4., 9.])
        >>> ember.pow(2, ember.tensor([0, 1, 4]))
        tensor([ 1,  2, 16])
""",
    "remainder": """\
    The remainder of division with the sign of the divisor (Python's ``%``).

    The ``%`` operator on tensors; ``ember.fmod`` takes the dividend's sign.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.remainder(ember.tensor([-7.0, 7.0]), ember.tensor([3.0, 3.0]))
        tensor([2., 1.])
""",
    "xlogy": """\
    ``input * log(other)`` elementwise, defined as 0 where ``input`` is 0.

    Where ``other`` is nan the result is nan.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast against ``input``.
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A new tensor of the broadcast shape of ``input`` and ``other``, in their promoted dtype.

    Example:
        >>> ember.xlogy(ember.tensor([0.0, 1.0, 2.0]), ember.tensor([0.0, 2.718281828, 4.0]))
        tensor([0.0000, 1.0000, 2.7726])
""",
}
