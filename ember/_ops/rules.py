"""Dtype rules and kinds for every op record, in one table.

NOTE [ Dtype rules ]
A record's dtype rule says which dtypes its outputs have, from the dtypes of its inputs and
its attributes alone, without running it: the JIT types its IR with it, the ``meta`` device
and the exporters read it. A rule is a function ``rule(ins, params) -> [dtype, ...]`` (one
ember dtype per output) where ``ins`` describes the record's inputs in order:

* an ember ``dtype`` for a tensor with at least one dimension,
* ``Dim0(dtype)`` for a 0-dim tensor (it takes part in promotion only by category, as in
  PyTorch),
* the Python type (``bool``, ``int``, ``float``, ``complex``) of a number operand,
* ``None`` for an absent optional input,
* a list of these for a tensor-list input (the ``_foreach_*`` records).

``input_types(inputs)`` builds ``ins`` from real inputs; ``infer(op, inputs, params)`` runs
the record's rule on them. The named rules (``NAMED``) cover the common shapes: ``same``
(the first tensor input's dtype), ``promote`` (PyTorch's promotion of every tensor and
number input), ``float`` (promote, then integers and bool become the default float),
``float_first``, ``bool``, ``int64``, ``sum`` (integers and bool -> int64), ``real``
(complex -> its real dtype), ``complex``, ``index_and_same`` ((values, int64 indices)),
``nothing`` (in-place records that return no tensor); ``from_attr(pos)`` and ``factory(pos)``
read a dtype attribute (``to_copy``, ``sum(dtype=...)``, creation records). A record that
fits none gets a small function of its own in this file. Rules read the default dtype when
they run, so they follow ``set_default_dtype``.

Rules live here, in ``RULES`` (record name -> rule) next to ``KINDS`` (record name -> kind
where the record's own default is wrong), rather than in each record's file: one place to
read and to review, and records of lazily imported libraries (nn, linalg, fft,
distributions) are looked up by name when asked (``rule_for(op)``), so import order does not
matter. ``apply_rules()`` also writes each known rule onto ``op.dtype_rule`` and each kind
onto ``op.kind`` for the records defined so far; ``ember._ops`` calls it last, and calling it
again after a library is imported covers that library's records. ``tests/test_dtype_rules.py``
runs the op table, the extra op cases and a set of nn/linalg/fft calls under a dispatch
mode and checks every prediction against the real output dtypes, forward and backward, and
that every record in ``OPS`` has an entry here.
"""

from __future__ import annotations

from ember import _dtype as D


class Dim0:
    """A 0-dim tensor operand in a rule's ``ins`` (promotion treats it by category)."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def __eq__(self, other):
        return other.__class__ is Dim0 and other.dtype is self.dtype

    def __hash__(self):
        return hash(("Dim0", self.dtype))

    def __repr__(self):
        return f"Dim0({self.dtype})"


_SCALAR_TYPES = (bool, int, float, complex)


def input_types(inputs):
    """The ``ins`` list of NOTE [ Dtype rules ] for real record inputs."""
    out = []
    for x in inputs:
        if x is None:
            out.append(None)
            continue
        if x.__class__ is list or x.__class__ is tuple:  # a tensor list (foreach records)
            out.append(input_types(x))
            continue
        d = getattr(x, "_data", None)
        if d is not None:
            dt = D.FROM_NP[d.dtype]
            out.append(dt if d.ndim else Dim0(dt))
        else:
            out.append(number_type(x))
    return out


def number_type(x):
    """The Python type standing for number ``x`` in ``ins`` (a NumPy scalar counts as the
    Python number of its category, as in PyTorch)."""
    t = x.__class__
    if t in _SCALAR_TYPES:
        return t
    return (bool, int, float, complex)[D.scalar_dtype(x).category]


def _dtype_of(t):
    """The dtype of one entry of ``ins`` (Python numbers as wrapped numbers)."""
    if t.__class__ is Dim0:
        return t.dtype
    if t in _SCALAR_TYPES:
        return _SCALAR_DTYPE[t]()
    return t


_SCALAR_DTYPE = {bool: lambda: D.bool_, int: lambda: D.int64, float: D.get_default_dtype,
                 complex: D.default_complex}


def first(ins):
    """The dtype of the first tensor input."""
    for t in ins:
        if t is not None and t not in _SCALAR_TYPES:
            return _dtype_of(t)
    raise TypeError("dtype rule: the record has no tensor input")


def result_type(ins):
    """PyTorch's ``result_type`` over tensors (dimensioned, then 0-dim) and numbers."""
    groups = [None, None, None]  # dimensioned tensors, 0-dim tensors, Python numbers
    for t in ins:
        if t is None:
            continue
        if t.__class__ is Dim0:
            g, dt = 1, t.dtype
        elif t in _SCALAR_TYPES:
            g, dt = 2, _dtype_of(t)
        else:
            g, dt = 0, t
        groups[g] = dt if groups[g] is None else D.promote_types(groups[g], dt)
    r = None
    for dt in groups:
        r = D._combine(r, dt)
    return r


def to_float(dt):
    """Integers and bool compute in the default float dtype (exp of an int64 tensor)."""
    return D.get_default_dtype() if dt.category < D.FLOAT else dt


def to_real(dt):
    return dt.to_real()


def to_complex(dt):
    """The complex dtype holding ``dt`` (the default complex for integers and bool)."""
    if dt.category == D.COMPLEX:
        return dt
    return dt.to_complex() if dt.category == D.FLOAT else D.default_complex()


def int_to_int64(dt):
    return D.int64 if dt.category < D.FLOAT else dt


# --------------------------------------------------------------------------- named rules
def same(ins, params):
    """One output with the first tensor input's dtype."""
    return [first(ins)]


def promote(ins, params):
    """One output with PyTorch's promoted dtype of all tensor and number inputs."""
    return [result_type(ins)]


def float_(ins, params):
    """Promote, then integers and bool become the default float dtype."""
    return [to_float(result_type(ins))]


def float_first(ins, params):
    """The first input's dtype, integers and bool as the default float dtype."""
    return [to_float(first(ins))]


def bool_(ins, params):
    return [D.bool_]


def int64(ins, params):
    return [D.int64]


def sum_(ins, params):
    """Integer and bool inputs accumulate in int64 (``sum``, ``cumsum`` without dtype)."""
    return [int_to_int64(first(ins))]


def real(ins, params):
    """Complex inputs give their real dtype (``abs``, ``angle`` of complex)."""
    return [to_real(first(ins))]


def real_float(ins, params):
    """The real dtype of the first input, integers as the default float (``angle``)."""
    return [to_float(to_real(first(ins)))]


def complex_(ins, params):
    """The complex dtype holding the first input (``fft``, ``view_as_complex``)."""
    return [to_complex(first(ins))]


def index_and_same(ins, params):
    """(values, indices): ``max(dim)``, ``sort``, ``topk``, ``kthvalue``."""
    return [first(ins), D.int64]


def from_attr(pos, default=same):
    """One output whose dtype is the record's attribute at position ``pos`` of ``params``
    (factories, ``to_copy``, ``sum(dtype=...)``); ``default(ins, params)`` when it is None."""

    def rule(ins, params):
        v = params[pos] if pos < len(params) else None
        if v is None:
            return default(ins, params)
        return [D.to_dtype(v)]

    rule.__name__ = f"from_attr_{pos}"
    return rule


def nothing(ins, params):
    """In-place records that return no tensor."""
    return []


def output_dtypes(out):
    """The dtypes of a record's real outputs, in the form rules give them."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [o.dtype if hasattr(o, "_data") else None for o in out]
    return [out.dtype]


# The named vocabulary (what a serialised graph or a reader calls each common rule).
NAMED = {"same": same, "promote": promote, "float": float_, "float_first": float_first,
         "bool": bool_, "int64": int64, "sum": sum_, "real": real, "real_float": real_float,
         "complex": complex_, "index_and_same": index_and_same, "nothing": nothing}


# --------------------------------------------------------------------------- per-record rules
def _no_tensor_default(ins, params):
    return [D.get_default_dtype()]


def factory(pos):
    """A creation record: its dtype attribute at ``pos`` (the default float when None)."""
    return from_attr(pos, _no_tensor_default)


def _square(ins, params):
    """``square`` is ``pow(x, 2)``: bool promotes with the integer 2 to int64."""
    return [result_type([first(ins), int])]


def _where(ins, params):
    """``where(cond, a, b)``: the condition does not take part in promotion."""
    return [result_type(ins[1:])]


def _clamp(ins, params):
    """``clamp(x, lo, hi)`` with number bounds: PyTorch promotes ``x`` with the bounds."""
    return [result_type(list(ins) + [number_type(b) for b in params if b is not None])]


def _float_power(ins, params):
    """``float_power``: float64, or complex128 when any operand is complex."""
    rt = result_type(ins)
    return [D.complex128 if rt.category == D.COMPLEX else D.float64]


def _slogdet(ins, params):
    dt = first(ins)
    return [dt, to_real(dt)]


def _svd(ins, params):
    dt = first(ins)
    return [dt, to_real(dt), dt]


def _eigh(ins, params):
    dt = first(ins)
    return [to_real(dt), dt]


def _eig(ins, params):
    dt = to_complex(first(ins))
    return [dt, dt]


def _ctc(ins, params):
    """(losses, d losses / d log_probs): the recursions run in float64 and the saved
    gradient stays float64 (the losses are cast back to the input's dtype)."""
    return [first(ins), D.float64]


def _all_same(n):
    def rule(ins, params):
        return [first(ins)] * n

    rule.__name__ = f"same_x{n}"
    return rule


def _adaptive_max_pool(ins, params):
    # values, int64 indices, and the indices' copy kept as forward state
    return [first(ins), D.int64, D.int64]


def _lstm(ins, params):
    # out, h_n, c_n and the saved gates/cells (7 with a projection weight: 8)
    return [first(ins)] * (8 if len(ins) > 4 else 7)


def _lstm_backward(ins, params):
    # gradients of xproj, h0, c0, whh (and the projection weight)
    return [first(ins)] * (5 if len(ins) > 8 else 4)


def _linear_backward(ins, params):
    # the wanted ones of the input, weight and bias gradients (need_* flags), in g's dtype
    return [first(ins)] * sum(bool(p) for p in params)


def _bincount(ins, params):
    """No weights: int64 counts; float weights: their dtype; other weights: float64."""
    w = ins[1] if len(ins) > 1 else None
    if w is None:
        return [D.int64]
    dt = _dtype_of(w)
    return [dt if dt.category == D.FLOAT else D.float64]


def _searchsorted(ins, params):
    """int64 positions, int32 with the ``out_int32`` attribute."""
    return [D.int32 if params[1] else D.int64]


def _unique(ins, params):
    # values, inverse indices, counts
    return [first(ins), D.int64, D.int64]


def _frexp(ins, params):
    # mantissa, int32 exponent
    return [first(ins), D.int32]


def _gru_backward(ins, params):
    # dx, dh, dwhh and, with a recurrent bias (attribute has_bias), dbhh
    return [first(ins)] * (4 if params[0] else 3)


def foreach_each(ins, params, *, with_scalar=True, post=None):
    """Out-of-place ``_foreach_<op>``: output ``i`` promotes ``self[i]`` with the other
    lists' tensor ``i`` (a one-element list broadcasts) and, with ``with_scalar``, the number
    (or the ``i``-th of a tuple of numbers) in the first attribute; ``post`` maps the result
    (true division: integers -> the default float)."""
    lists = [t for t in ins if isinstance(t, list)]
    scalar = params[0] if params and with_scalar else None
    out = []
    for i, x in enumerate(lists[0]):
        group = [x] + [lst[i] if len(lst) > 1 else lst[0] for lst in lists[1:]]
        if isinstance(scalar, tuple):
            group.append(number_type(scalar[i]))
        elif scalar is not None:
            group.append(number_type(scalar))
        rt = result_type(group)
        out.append(post(rt) if post is not None else rt)
    return out


def _foreach_each(ins, params):
    return foreach_each(ins, params)


def _foreach_true_div(ins, params):
    return foreach_each(ins, params, post=to_float)


def _foreach_tensors_only(ins, params):
    """``addcmul``/``addcdiv``/``lerp``: the number multiplies, it does not promote (PyTorch's
    ``_foreach_addcmul`` of int64 tensors with value 0.5 stays int64)."""
    return foreach_each(ins, params, with_scalar=False)


def _foreach_float(ins, params):
    """``_foreach_sqrt``/``_foreach_exp``/``_foreach_reciprocal``: integers -> default
    float."""
    return [to_float(_dtype_of(x)) for x in ins[0]]


def _foreach_each_first(ins, params):
    return [_dtype_of(x) for x in ins[0]]


def _foreach_norm(ins, params):
    dtype = params[1] if len(params) > 1 else None
    if dtype is not None:
        return [D.to_dtype(dtype)] * len(ins[0])
    return [to_real(_dtype_of(x)) for x in ins[0]]


# --------------------------------------------------------------------------- the table
def _names(text):
    return text.split()


def _max_pool(ins, params):
    """Values in the input's dtype, and the kernel offset of each maximum as forward-time
    state: int8 for kernels of fewer than 128 positions, else int32 (pool.max_pool_arg)."""
    n = 1
    for k in params[0]:
        n *= k
    return [_dtype_of(ins[0]), D.int8 if n < 128 else D.int32]


RULES: dict = {}
KINDS_EXTRA_ELEMENTWISE: list = []  # unary special-function records
for _n in _names("""
        view reshape permute transpose movedim expand contiguous cat flip roll repeat
        clone select_view index index_fill_zero tril triu diagonal as_strided unfold
        diagonal_backward amax neg sign floor ceil trunc frac round sgn bitwise_not relu
        conj to_device constant_pad_nd take_axis take_axis_backward im2col col2im
        spatial_gather spatial_scatter max_pool_gather max_pool_backward avg_pool avg_pool_backward
        scatter_reduce linalg_diagonal linalg_diag_embed linalg_tril linalg_triu linalg_inv
        linalg_det linalg_cholesky linalg_pinv linalg_lu_factor segment_sum segment_max
        fft_resize fft_c2c_same hardtanh leaky_relu elu gelu silu mish softplus softsign
        hardswish hardsigmoid shrink threshold log_sigmoid distributions_standard_gamma
        nll_loss_backward embedding index_backward index_put cumprod softmax histc poisson
        bernoulli uniform_ normal_ bernoulli_ exponential_ random_ geometric_ log_normal_
        cauchy_ bernoulli_tensor_
        log_softmax linalg_solve_triangular lerp lerp_tensor
        """):
    RULES[_n] = same
del RULES["fft_c2c_same"]
for _n in _names("""
        add sub mul pow maximum minimum fmax fmin remainder fmod floor_divide bitwise_and
        bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift gcd lcm nextafter
        heaviside matmul einsum clamp_tensor linear linalg_solve tanh_backward
        sigmoid_backward relu_backward convolution convolution_transpose convolution_weight
        hardtanh_backward leaky_relu_backward elu_backward gelu_backward silu_backward
        mish_backward softplus_backward softsign_backward hardswish_backward
        hardsigmoid_backward shrink_backward threshold_backward log_sigmoid_backward
        embedding_backward nll_loss normal_tensor
        """):
    RULES[_n] = promote
for _n in _names("div atan2 hypot logaddexp logaddexp2 xlogy copysign special_xlog1py "
                 "special_zeta"):
    RULES[_n] = float_
# ember.special's binary records (incomplete gamma, orthogonal polynomials: ``n`` promotes too)
for _n in _names("""
        special_gammainc special_gammaincc special_chebyshev_polynomial_t
        special_chebyshev_polynomial_u special_chebyshev_polynomial_v
        special_chebyshev_polynomial_w special_shifted_chebyshev_polynomial_t
        special_shifted_chebyshev_polynomial_u special_shifted_chebyshev_polynomial_v
        special_shifted_chebyshev_polynomial_w special_hermite_polynomial_h
        special_hermite_polynomial_he special_laguerre_polynomial_l
        special_legendre_polynomial_p
        """):
    RULES[_n] = float_
for _n in _names("""
        special_airy_ai special_bessel_j0 special_bessel_j1 special_bessel_y0
        special_bessel_y1 special_modified_bessel_i0 special_modified_bessel_i1
        special_modified_bessel_k0 special_modified_bessel_k1
        special_scaled_modified_bessel_k0 special_scaled_modified_bessel_k1
        special_spherical_bessel_j0
        """):
    RULES[_n] = float_first
    KINDS_EXTRA_ELEMENTWISE.append(_n)
for _n in _names("""
        exp exp2 expm1 log log2 log10 log1p sqrt rsqrt sin cos tan asin acos atan sinh cosh
        tanh asinh acosh atanh sigmoid erf erfc erfinv reciprocal lgamma digamma sinc i0
        deg2rad rad2deg special_i1 logit polygamma special_i0e special_i1e special_erfcx
        special_ndtr special_ndtri special_log_ndtr special_entr logsumexp logcumsumexp
        distributions_digamma distributions_polygamma distributions_lgamma
        """):
    RULES[_n] = float_first
for _n in _names("eq ne lt le gt ge logical_and logical_or logical_xor logical_not isnan "
                 "isinf isfinite isposinf isneginf isreal signbit all any"):
    RULES[_n] = bool_
RULES.update({
    "abs": real, "norm": real, "var": real, "std": real, "real": real, "imag": real,
    "view_as_real": real,
    "angle": real_float,
    "view_as_complex": complex_, "fft_r2c": complex_,
    "fft_c2c": complex_, "fft_c2r": real,
    "argmax": int64, "max_dim": index_and_same, "argsort": int64, "cummax_indices": int64,
    "nonzero": int64, "multinomial": int64, "isin": bool_, "bincount": _bincount,
    "searchsorted": _searchsorted, "unique": _unique, "unique_consecutive": _unique,
    "frexp": _frexp, "histogram": _all_same(2),
    "_cdist_forward": same, "_euclidean_dist": same, "_cdist_backward": _all_same(2),
    "grid_sampler_2d": same, "grid_sampler_2d_backward": _all_same(2),
    "upsample_linear_axis": same, "upsample_linear_axis_backward": same,
    "adaptive_avg_pool_global": same,
    # one-record backwards of softmax/log_softmax (grad_output, output) and reflect/replicate
    # padding and its fold: the first input's dtype
    "softmax_backward_data": same, "log_softmax_backward_data": same,
    "pad_edges": same, "pad_edges_backward": same,
    "sum": from_attr(2, sum_), "prod": from_attr(2, sum_), "mean": from_attr(2, same),
    "cumsum": from_attr(1, sum_), "count_nonzero": int64,
    "to_copy": from_attr(1), "to_copy_nondiff": from_attr(1),
    "zeros": factory(1), "ones": factory(1), "empty": factory(1), "full": factory(1),
    "arange": factory(3), "linspace": factory(3), "logspace": factory(4), "eye": factory(2),
    "rand": factory(1), "randn": factory(1), "randint": factory(1), "randperm": factory(1),
    "range": factory(3), "normal": factory(1), "tril_indices": factory(3),
    "hann_window": factory(3), "hamming_window": factory(3), "blackman_window": factory(3),
    "bartlett_window": factory(3), "kaiser_window": factory(3),
    "triu_indices": factory(3),
    "where": _where, "clamp": _clamp, "square": _square, "float_power": _float_power,
    "linalg_slogdet": _slogdet, "linalg_svd": _svd, "linalg_eigh": _eigh, "linalg_eig": _eig,
    "linalg_qr": _all_same(2), "native_dropout": _all_same(2),
    "rrelu_with_noise": _all_same(2),
    "cross_entropy": _all_same(2), "ctc_loss": _ctc, "batch_norm": _all_same(3),
    "batch_norm_stats": _all_same(3), "layer_norm": _all_same(3),
    "instance_norm_update_stats": _all_same(2),
    "lstm_layer": _lstm, "lstm_layer_backward": _lstm_backward,
    "linear_backward": _linear_backward,
    "gru_layer": _all_same(5), "gru_layer_backward": _gru_backward,
    "rnn_layer": _all_same(3), "rnn_layer_backward": _all_same(3),
    "copy_slices": same, "copy_": same, "fill_": same, "max_pool_indices": int64,
    "max_pool": _max_pool, "adaptive_max_pool": _adaptive_max_pool,
    "_foreach_norm": _foreach_norm,
    "_fused_adam_": nothing, "_fused_adamw_": nothing, "_fused_sgd_": nothing,
    "_fused_rmsprop_": nothing, "_fused_adagrad_": nothing, "_fused_adadelta_": nothing,
    "_fused_adamax_": nothing, "_fused_nadam_": nothing, "_fused_radam_": nothing,
    "_fused_rprop_": nothing, "_fused_asgd_": nothing,
    "_foreach_zero_": nothing, "_foreach_copy_": nothing,
})
for _n, _rule in (("add", _foreach_each), ("sub", _foreach_each), ("mul", _foreach_each),
                  ("div", _foreach_true_div), ("maximum", _foreach_each),
                  ("minimum", _foreach_each), ("addcmul", _foreach_tensors_only),
                  ("addcdiv", _foreach_tensors_only), ("lerp", _foreach_tensors_only)):
    RULES[f"_foreach_{_n}"] = _rule
    RULES[f"_foreach_{_n}_"] = nothing
for _n in _names("sqrt exp reciprocal"):
    RULES[f"_foreach_{_n}"] = _foreach_float
    RULES[f"_foreach_{_n}_"] = nothing
for _n in _names("neg sign abs"):
    RULES[f"_foreach_{_n}"] = _foreach_each_first
    RULES[f"_foreach_{_n}_"] = nothing

# Kinds where the record's own default ("elementwise" for fusible, "view" for views,
# "opaque" otherwise) is wrong.
KINDS: dict = dict.fromkeys(KINDS_EXTRA_ELEMENTWISE, "elementwise")
for _n in _names("""
        round sgn where clamp clamp_tensor clone conj angle to_copy to_copy_nondiff
        tanh_backward sigmoid_backward relu_backward special_i1 logit polygamma special_i0e
        special_i1e special_erfcx special_ndtr special_ndtri special_log_ndtr special_entr
        distributions_digamma distributions_polygamma distributions_lgamma
        hardtanh_backward leaky_relu_backward elu_backward gelu_backward silu_backward
        mish_backward softplus_backward softsign_backward hardswish_backward
        hardsigmoid_backward shrink_backward threshold_backward log_sigmoid_backward
        lerp lerp_tensor
        """):
    KINDS[_n] = "elementwise"
for _n in _names("sum mean prod amax argmax max_dim norm var logsumexp all any count_nonzero "
                 "_foreach_norm"):
    KINDS[_n] = "reduction"
del _n, _rule


def _split_views(ins, params):
    """``split_views`` (unbind/split/chunk as one record): one piece per split size."""
    return [first(ins)] * len(params[1])


RULES.update({"split_views": _split_views, "split_backward": same, "cumsum_backward": same})


def rule_for(op):
    """The dtype rule of record ``op`` (an ``OpDef`` or a record name); KeyError when the
    record has none here (``tests/test_dtype_rules.py`` keeps that list empty)."""
    return RULES[op if isinstance(op, str) else op.name]


def infer(op, inputs, params=()):
    """The output dtypes record ``op`` will give for ``inputs`` (Tensors, numbers, tensor
    lists) and ``params``, from its rule alone.

    Example:
        >>> from ember._ops.core import OPS
        >>> infer(OPS["sum"], (ember.tensor([1, 2]),), ((0,), False, None, (2,)))
        [torch.int64]
    """
    if params is None:
        params = ()
    elif not isinstance(params, tuple):
        params = (params,)
    return rule_for(op)(input_types(inputs), params)


def apply_rules(ops=None):
    """Write each known rule onto ``op.dtype_rule`` and each kind in ``KINDS`` onto
    ``op.kind`` for the records defined so far (``ember._ops`` calls it at import; call it
    again after importing a library to cover its records). Returns the names of records
    left without a rule."""
    if ops is None:
        from ember._ops.core import OPS as ops
    missing = []
    for name, op in ops.items():
        rule = RULES.get(name)
        if rule is None:
            missing.append(name)
        else:
            op.dtype_rule = rule
        kind = KINDS.get(name)
        if kind is not None:
            op.kind = kind
    return missing


apply_rules()  # the core records; library records get theirs by name (rule_for) or a rerun
