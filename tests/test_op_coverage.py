"""Every public op and every OpDef record has a test entry (issue 3's coverage check).

The op table lists itself (``ember._ops.__main__.public_names()`` and ``ember._ops.core.OPS``);
this file fails when a public op or a record has no entry. Coverage comes from:

* the test tables: ``tests/op_db.py`` entries (by public name, the part before the first
  '.') and ``tests/test_ops_extra.py`` CASES, whose keys name their op by the rule
  "the longest public name that equals the key or prefixes it followed by '_'"
  (``scatter_reduce_mean`` -> ``scatter_reduce``); a key naming no op fails the test;
* ``ALIASES``: a second name for a covered op. Checked: ``ember.<alias>`` and
  ``Tensor.<alias>`` are the very same objects as the canonical op's;
* ``ELSEWHERE``: ops tested in their own files (linalg, nn kernels, random sampling).
  Checked: the named test function exists and its source mentions the op (or the stated
  token, for tests that reach the op through ``getattr(F, name)``);
* for records: the record of a public op is covered by that op's entry; other records
  (private kernels, ``*_backward`` ops, linalg/special/nn kernels) need a rule in
  ``RECORD_RULES``. Every record's coverage is CHECKED by running the covering entry (or,
  for rules pointing at another file, a small call stated here) with the record's forward
  and backward instrumented: the record must actually run. A ``*_backward`` record must be
  reached through double backward (its own backward runs), and its covering entry must be a
  gradgradcheck (an ``op_db`` entry with ``gradgrad=True`` or a test function that calls
  ``gradgradcheck``).
"""

from __future__ import annotations

import ast
import contextlib
import pathlib
import re

import numpy as np
import pytest

import ember
import ember.distributions  # noqa: F401  (every library that defines records, imported up
import ember.fft  # noqa: F401      front so the record list doesn't depend on test order)
import ember.linalg  # noqa: F401
import ember.special  # noqa: F401
import ember.vision  # noqa: F401
import ember.nn._functional_seq as FS
import ember.nn.functional as F
from ember._ops import elementwise
from ember._ops.__main__ import public_names
from ember._ops.core import FUNCTIONS, METHODS, OPS, OpDef
from ember.distributions import _special as _DS
from op_db import OPS_BY_NAME, OP_DB
from test_ops import _fresh, _to_ember, call
from test_ops_extra import CASES

ROOT = pathlib.Path(__file__).resolve().parent.parent
PUBLIC = set(public_names())

# ----------------------------------------------------------------------------- public names
ALIASES = {
    "absolute": "abs", "arccos": "acos", "arccosh": "acosh", "arcsin": "asin",
    "arcsinh": "asinh", "arctan": "atan", "arctan2": "atan2", "arctanh": "atanh",
    "concat": "cat", "concatenate": "cat", "divide": "div", "fix": "trunc",
    "ger": "outer", "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
    "moveaxis": "movedim", "multiply": "mul", "negative": "neg", "not_equal": "ne",
    "row_stack": "vstack", "subtract": "sub", "swapdims": "transpose",
}

_LINALG = "tests/test_linalg.py"
# name -> ("file::test_function", token the function's source must contain, or None: the name)
ELSEWHERE = {
    "cholesky": (f"{_LINALG}::test_cholesky_qr_svd_eigh_eig_values", None),
    "qr": (f"{_LINALG}::test_gradcheck_qr", None),
    "svd": (f"{_LINALG}::test_torch_svd_semantics", None),
    "cross": (f"{_LINALG}::test_cross_multidot_vecdot_diagonal_triangular", None),
    "det": (f"{_LINALG}::test_inv_det_slogdet_batched", None),
    "logdet": (f"{_LINALG}::test_inv_det_slogdet_batched", None),
    "slogdet": (f"{_LINALG}::test_inv_det_slogdet_batched", None),
    "inverse": (f"{_LINALG}::test_inv_det_slogdet_batched", None),
    "matrix_exp": (f"{_LINALG}::test_matrix_exp_and_ex_variants", None),
    "matrix_power": (f"{_LINALG}::test_lstsq_pinv_rank_power", None),
    "pinverse": (f"{_LINALG}::test_lstsq_pinv_rank_power", None),
    "chain_matmul": (f"{_LINALG}::test_top_level_aliases_and_methods", None),
    "conv1d": ("tests/nn/test_conv.py::test_conv_matches_torch", "conv"),
    "conv2d": ("tests/nn/test_conv.py::test_conv_matches_torch", "conv"),
    "conv3d": ("tests/nn/test_conv.py::test_conv_matches_torch", "conv"),
    "conv_transpose1d": ("tests/nn/test_conv.py::test_conv_transpose_matches_torch",
                         "conv_transpose"),
    "conv_transpose2d": ("tests/nn/test_conv.py::test_conv_transpose_matches_torch",
                         "conv_transpose"),
    "conv_transpose3d": ("tests/nn/test_conv.py::test_conv_transpose_matches_torch",
                         "conv_transpose"),
    "max_pool1d": ("tests/nn/test_pooling.py::test_max_pool1d_and_3d", None),
    "max_pool2d": ("tests/nn/test_pooling.py::test_max_pool2d", None),
    "max_pool3d": ("tests/nn/test_pooling.py::test_max_pool1d_and_3d", None),
    "avg_pool1d": ("tests/nn/test_pooling.py::test_avg_pool1d", None),
    "rand": ("tests/test_tensor.py::test_random_shapes_and_dtypes", None),
    "randn": ("tests/test_tensor.py::test_random_shapes_and_dtypes", None),
    "randint": ("tests/test_random_no_oracle.py::test_random_ranges", None),
    "randperm": ("tests/test_random_no_oracle.py::test_random_ranges", None),
    "rand_like": ("tests/test_tensor.py::test_random_shapes_and_dtypes", None),
    "randn_like": ("tests/test_tensor.py::test_random_shapes_and_dtypes", None),
    "randint_like": ("tests/test_tensor.py::test_random_shapes_and_dtypes", None),
    "bernoulli": ("tests/test_ops_extra.py::test_random_functions", None),
    "normal": ("tests/test_ops_extra.py::test_random_functions", None),
    "poisson": ("tests/test_ops_extra.py::test_random_functions", None),
    "multinomial": ("tests/test_ops_extra.py::test_random_functions", None),
    # transpose under its own keywords (axis0, axis1), against PyTorch there
    "swapaxes": ("tests/test_param_names.py::test_swapaxes_is_transpose_with_numpy_keywords",
                 None),
}
# The nn kernels above are the same objects as ember.nn.functional's, which those tests call.
NN_KERNELS = [n for n, (where, _) in ELSEWHERE.items() if where.startswith("tests/nn/")]


def case_op(key: str) -> str | None:
    """The public op a test_ops_extra CASES key names (longest matching prefix)."""
    best = None
    for n in PUBLIC:
        if (key == n or key.startswith(n + "_")) and (best is None or len(n) > len(best)):
            best = n
    return best


TABLE = {info.fn_name for info in OP_DB} | {case_op(k) for k in CASES} - {None}


def test_case_keys_name_ops():
    bad = [k for k in CASES if case_op(k) is None]
    assert not bad, f"test_ops_extra CASES keys that name no public op: {bad}"


def test_every_public_op_has_a_test_entry():
    missing = sorted(PUBLIC - TABLE - set(ALIASES) - set(ELSEWHERE))
    assert not missing, f"public ops with no test entry: {missing}"


def test_mappings_are_not_stale():
    assert not (set(ALIASES) | set(ELSEWHERE)) - PUBLIC
    # a name that the tables cover needs no second mapping
    assert not set(ALIASES) & TABLE, sorted(set(ALIASES) & TABLE)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_is_the_canonical_op(alias):
    canon = ALIASES[alias]
    assert canon in TABLE, f"{alias} aliases {canon}, which has no table entry"
    assert alias in FUNCTIONS or alias in METHODS
    if alias in FUNCTIONS:
        assert FUNCTIONS[alias] is FUNCTIONS[canon]
    if alias in METHODS:
        assert METHODS[alias] is METHODS[canon]


def _test_function(where: str):
    path, func = where.split("::")
    src = (ROOT / path).read_text()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.FunctionDef) and node.name == func:
            return ast.get_source_segment(src, node)
    return None


@pytest.mark.parametrize("name", sorted(ELSEWHERE))
def test_elsewhere_test_exists_and_calls_the_op(name):
    where, token = ELSEWHERE[name]
    src = _test_function(where)
    assert src is not None, f"{where} does not exist"
    assert re.search(re.escape(token or name), src), f"{where} never mentions {token or name}"
    if name in NN_KERNELS:
        assert getattr(ember, name) is getattr(F, name)


# ----------------------------------------------------------------------------- records
class _Probe(OpDef):
    """A record under watch: counts reads of the attributes that every dispatch touches
    (``apply``/``emit``/``record`` read fwd, multi, view, differentiable, save_*; the engine
    reads bwd). Swapped in with ``__class__`` so modules holding the record see it too."""

    __slots__ = ()
    counts: dict = {}

    def __getattribute__(self, attr):
        if attr in ("bwd", "backward"):
            _Probe.counts["bwd"] += 1
        elif attr in ("fwd", "multi", "view", "differentiable", "save_x", "save_y"):
            _Probe.counts["fwd"] += 1
        return object.__getattribute__(self, attr)


@contextlib.contextmanager
def watch(op):
    """Count dispatches through a record's forward and backward while the block runs."""
    counts = {"fwd": 0, "bwd": 0}
    _Probe.counts = counts
    op.__class__ = _Probe
    try:
        yield counts
    finally:
        op.__class__ = OpDef


def _outputs(out):
    if isinstance(out, ember.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _outputs(o)]
    return []


def _differentiate(outs, leaves, order):
    """Backward through ``outs``; for order 2 also through the gradients, with respect to
    the inputs and the (requires-grad) incoming gradients, as gradgradcheck does."""
    outs = [o for o in outs if o.requires_grad and o.dtype.is_floating_point]
    if not outs or not leaves or order < 1:
        return
    vs = [ember.ones_like(o).requires_grad_() for o in outs]
    grads = ember.autograd.grad(outs, leaves, grad_outputs=vs, create_graph=order > 1,
                                allow_unused=True)
    grads = [g for g in grads if g is not None and g.requires_grad]
    if order > 1 and grads:
        ember.autograd.grad(sum((g * g).sum() for g in grads), leaves + vs, allow_unused=True)


def run_op_db(entry: str, order: int):
    """Run every sample of an op_db entry (float64 when supported) with gradients."""
    info = OPS_BY_NAME[entry]
    dt = np.dtype(np.float64) if np.dtype(np.float64) in info.dtypes else \
        np.dtype(info.dtypes[0])
    for s in info.sample_inputs(dt, np.random.default_rng(0)):
        leaves = {}
        for a in _arrays_of(s):
            if a.dtype.kind == "f" and info.differentiable:
                leaves[id(a)] = ember.from_numpy(_fresh(a)).requires_grad_()
        try:
            out = call(info, ember, s, _to_ember, leaves)
        except Exception:  # noqa: BLE001 - an error sample of the table; others still run
            continue
        _differentiate(_outputs(out), list(leaves.values()), order)


def _arrays_of(s):
    found = []

    def walk(v):
        if isinstance(v, np.ndarray):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk((s.input, s.args, s.kwargs))
    return found


def run_case(key: str, order: int):
    fn, arrays, diff = CASES[key]
    ts = [ember.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    _differentiate(_outputs(fn(ember, *ts)), [t for t in ts if t.requires_grad], order)


def _t(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


_ORDER = [2]  # how far the running check differentiates (set per record)


def _gg(f, *xs):
    """Forward and backward; for order 2 with create_graph and then backward again."""
    _differentiate(_outputs(f(*xs)), list(xs), _ORDER[0])


def _spd():
    a = np.random.default_rng(0).standard_normal((3, 3))
    return ember.tensor(a @ a.T + 3 * np.eye(3), requires_grad=True)


def _inplace_on_view():
    x = _t(3, 2)
    y = x * 1
    y[0].mul_(2.0)
    y.sum().backward()


_SPECIAL = "tests/test_special.py::test_gradgradcheck"
_SPECIAL_MORE = "tests/test_special_more.py"
_LIN = "tests/test_linalg.py"
# record -> (covering test, how to run it). A covering test is "op_db:<entry>",
# "cases:<key>" (run through the instrumented table entry itself) or "file::function" plus a
# call stated here that goes through the record the same way that test does.
def _sparse_records():
    from test_sparse import exercise_records

    exercise_records()


RECORD_RULES = {
    # private kernels behind public ops
    "clamp_tensor": ("op_db:clamp.tensor", None),
    "lerp_tensor": ("tests/test_worst_ops_s6.py::test_lerp_one_node_forward_and_gradients",
                    lambda: ember.lerp(ember.randn(3, requires_grad=True), ember.randn(3),
                                       ember.rand(3)).sum().backward()),
    "index": ("op_db:__getitem__", None),
    "select_view": ("op_db:__getitem__", None),
    "index_fill_zero": ("op_db:index_put", None),
    "max_dim": ("op_db:max.dim", None),
    "to_copy": ("op_db:softmax.dtype", None),
    "copy_slices": ("tests/test_autograd.py::test_inplace_on_view_updates_base_history",
                    _inplace_on_view),
    # the dispatch spine's records (tests/test_dispatch.py)
    **{k: ("tests/test_dispatch.py::test_factories_and_random_ops_are_records", f)
       for k, f in (("rand", lambda: ember.rand(2)), ("randn", lambda: ember.randn(2)),
                    ("randint", lambda: ember.randint(0, 4, (3,))),
                    ("randperm", lambda: ember.randperm(5)))},
    **{k: ("tests/test_dispatch.py::test_random_ops_are_records_that_mutate_or_draw", f)
       for k, f in (("uniform_", lambda: ember.empty(3).uniform_()),
                    ("normal_", lambda: ember.empty(3).normal_()),
                    ("bernoulli_", lambda: ember.empty(3).bernoulli_(0.5)),
                    ("bernoulli_tensor_", lambda: ember.empty(3).bernoulli_(ember.ones(3))),
                    ("exponential_", lambda: ember.empty(3).exponential_()),
                    ("random_", lambda: ember.empty(3).random_(0, 4)),
                    ("geometric_", lambda: ember.empty(3).geometric_(0.5)),
                    ("log_normal_", lambda: ember.empty(3).log_normal_()),
                    ("cauchy_", lambda: ember.empty(3).cauchy_()),
                    ("bernoulli", lambda: ember.bernoulli(ember.full((3,), 0.5))),
                    ("poisson", lambda: ember.poisson(ember.ones(3))),
                    ("normal_tensor", lambda: ember.normal(ember.zeros(3), 1.0)),
                    ("normal", lambda: ember.normal(0.0, 1.0, (3,))),
                    ("multinomial", lambda: ember.multinomial(ember.ones(3), 2)))},
    "cummax_indices": ("cases:cummax_idx", None),
    **{k: ("tests/test_dispatch.py::test_in_place_writes_are_visible_as_copy_records", f)
       for k, f in (("copy_", lambda: ember.zeros(3).copy_(ember.ones(3))),
                    ("fill_", lambda: ember.zeros(3).fill_(2.0)))},
    "to_copy_nondiff": ("tests/test_dispatch.py::test_records_carry_replayable_metadata",
                        lambda: ember.ones(2, requires_grad=True).to(ember.int64)),
    "to_device": ("tests/test_dispatch.py::test_to_meta_and_back_keeps_autograd",
                  lambda: ember.ones(2, requires_grad=True).to("meta")),
    # backward ops: exercised by gradgradcheck of their forward op
    "tanh_backward": ("op_db:tanh", None),
    "sigmoid_backward": ("op_db:sigmoid", None),
    "index_backward": ("op_db:__getitem__", None),
    "diagonal_backward": ("tests/test_views.py::test_diagonal_gradcheck_and_gradgradcheck",
                          lambda: _gg(lambda x: x.diagonal(1, 0, 2) ** 2, _t(3, 2, 4))),
    "avg_pool_backward": ("tests/nn/test_pooling.py::test_gradchecks",
                          lambda: _gg(lambda t: F.avg_pool2d(t, 3, 2, 1, True, False),
                                      _t(1, 1, 5, 5))),
    "max_pool_gather": ("tests/nn/test_pooling.py::test_gradchecks",
                        lambda: (lambda x: ember.autograd.grad(
                            (F.max_pool2d(x, 2) ** 2).sum(), x, create_graph=True)[0].sum()
                            .backward())(_t(1, 1, 4, 4))),
    "max_pool_indices": ("tests/nn/test_pooling.py::test_max_unpool_matches_torch",
                         lambda: F.max_pool2d(_t(1, 1, 4, 4), 2, return_indices=True)),
    "max_pool_backward": ("tests/nn/test_pooling.py::test_gradchecks",
                          lambda: _gg(lambda t: F.max_pool2d(t, 2, 1, dilation=2),
                                      _t(1, 1, 5, 5))),
    # circular (and cropping) pads; reflect/replicate are pad_edges (NOTE [ Reflection and
    # replication padding by slices ])
    "take_axis_backward": ("tests/test_fast_paths_s4.py::test_pad_edges_gradients_and_fallbacks",
                           lambda: _gg(lambda t: F.pad(t, (1, 2, 2, 1), mode="circular"),
                                       _t(1, 1, 4, 4))),
    # issue 18's fast paths, second round (tests/test_fast_paths_s4.py)
    **{k: ("tests/test_fast_paths_s4.py::test_pad_edges_gradients_and_fallbacks",
           lambda: _gg(lambda t: F.pad(t, (1, 2, 2, 1), mode="reflect"), _t(1, 1, 4, 4)))
       for k in ("pad_edges", "pad_edges_backward")},
    **{k: ("tests/test_fast_paths_s4.py::test_split_pieces_are_views_and_check_gradients",
           lambda: _gg(lambda t: [p * p for p in t.chunk(2)], _t(4, 3)))
       for k in ("split_views", "split_backward")},
    "softmax_backward_data": (
        "tests/test_fast_paths_s4.py::test_softmax_backward_record_matches_pytorch",
        lambda: _gg(lambda t: ember.softmax(t, 1), _t(2, 3))),
    "log_softmax_backward_data": (
        "tests/test_fast_paths_s4.py::test_softmax_backward_record_matches_pytorch",
        lambda: _gg(lambda t: ember.log_softmax(t, 1), _t(2, 3))),
    "cumsum_backward": ("tests/test_fast_paths_s4.py::test_cumsum_backward_reverse_scan",
                        lambda: _gg(lambda t: t.cumsum(1), _t(300, 200))),  # the kernel's size
    # issue 18's fast paths (tests/test_fast_paths.py)
    "_cdist_forward": ("tests/test_fast_paths.py::test_cdist_blocks_gradcheck",
                       lambda: _gg(lambda a, b: ember.cdist(a, b, 1.0), _t(3, 2), _t(2, 2))),
    "_cdist_backward": ("tests/test_fast_paths.py::test_cdist_blocks_gradcheck",
                        lambda: ember.cdist(_t(3, 2), _t(2, 2), 1.0).sum().backward()),
    "_euclidean_dist": ("tests/test_fast_paths.py::test_cdist_euclid_gradcheck",
                        lambda: _gg(lambda a, b: ember.cdist(
                            a, b, compute_mode="use_mm_for_euclid_dist"), _t(3, 2), _t(2, 2))),
    "grid_sampler_2d": (
        "tests/test_fast_paths.py::test_grid_sample_record_is_bit_identical_to_composite",
        lambda: F.grid_sample(ember.ones(1, 1, 2, 2), ember.zeros(1, 1, 1, 2),
                              align_corners=False)),
    "grid_sampler_2d_backward": (
        "tests/test_fast_paths_s5_struct.py::test_grid_sample_gradcheck_and_double_backward",
        lambda: F.grid_sample(_t(1, 1, 2, 2), _t(1, 1, 1, 2), align_corners=False).sum()
        .backward()),
    "adaptive_avg_pool_global": (
        "tests/test_nn_worst_s8.py::test_global_avg_pool_gradcheck",
        lambda: _gg(lambda t: F.adaptive_avg_pool2d(t, 1), _t(2, 3, 4, 5))),
    "upsample_linear_axis": (
        "tests/test_fast_paths_s5_struct.py::test_interpolate_linear_gradcheck",
        lambda: _gg(lambda t: F.interpolate(t, size=(3, 4), mode="bilinear"), _t(1, 1, 2, 2))),
    "upsample_linear_axis_backward": (
        "tests/test_fast_paths_s5_struct.py::test_interpolate_linear_gradcheck",
        lambda: _gg(lambda t: F.interpolate(t, size=(3, 4), mode="bilinear"), _t(1, 1, 2, 2))),
    # nn kernels, tested with nn
    "avg_pool": ("tests/nn/test_pooling.py::test_gradchecks",
                 lambda: _gg(lambda t: F.avg_pool2d(t, 2), _t(1, 1, 4, 4))),
    "max_pool": ("tests/nn/test_pooling.py::test_gradchecks",
                 lambda: _gg(lambda t: F.max_pool2d(t, 2), _t(1, 1, 4, 4))),
    "adaptive_max_pool": ("tests/nn/test_pooling.py::test_adaptive_pools",
                          lambda: _gg(lambda t: F.adaptive_max_pool2d(t, (2, 3)),
                                      _t(1, 1, 5, 7))),
    "take_axis": ("tests/test_fast_paths_s4.py::test_pad_edges_gradients_and_fallbacks",
                  lambda: _gg(lambda t: F.pad(t, (1, 1, 1, 1), mode="circular"),
                              _t(1, 1, 3, 3))),
    "constant_pad_nd": ("tests/nn/test_pooling.py::test_gradchecks",
                        lambda: _gg(lambda t: F.pad(t, (-1, 2, 0, 1), value=2.0),
                                    _t(1, 1, 3, 3))),
    "im2col": ("tests/nn/test_pooling.py::test_gradchecks",
               lambda: _gg(lambda t: F.unfold(t, 2, padding=1), _t(1, 1, 3, 3))),
    "col2im": ("tests/nn/test_pooling.py::test_gradchecks",
               lambda: _gg(lambda t: F.unfold(t, 2, padding=1), _t(1, 1, 3, 3))),
    "spatial_gather": ("tests/nn/test_pooling.py::test_max_unpool_matches_torch",
                       lambda: _gg(lambda t: F.max_unpool2d(*F.max_pool2d(
                           t, 2, return_indices=True), 2), _t(1, 1, 4, 4))),
    "spatial_scatter": ("tests/nn/test_pooling.py::test_max_unpool_matches_torch",
                        lambda: _gg(lambda t: F.max_unpool2d(*F.max_pool2d(
                            t, 2, return_indices=True), 2), _t(1, 1, 4, 4))),
    "convolution": ("tests/nn/test_conv.py::test_conv_gradcheck_and_gradgradcheck",
                    lambda: _gg(lambda x, w: F.conv2d(x, w), _t(1, 2, 4, 4), _t(3, 2, 2, 2))),
    "convolution_transpose": ("tests/nn/test_conv.py::test_conv_gradcheck_and_gradgradcheck",
                              lambda: _gg(lambda x, w: F.conv_transpose2d(x, w, None, 2),
                                          _t(1, 2, 3, 3), _t(2, 1, 2, 2))),
    "convolution_weight": ("tests/nn/test_conv.py::test_conv_gradcheck_and_gradgradcheck",
                           lambda: _gg(lambda x, w: F.conv2d(x, w), _t(1, 2, 4, 4),
                                       _t(3, 2, 2, 2))),
    # nn kernels (ember.nn.functional), tested in tests/nn
    **{k: (f"tests/nn/test_layers.py::{t}", (lambda f: lambda: _gg(f, _t(2, 3) + 0.01))(f))
       for k, t, f in (
           ("elu", "test_activation_double_backward", F.elu),
           ("elu_backward", "test_activation_double_backward", F.elu),
           ("gelu", "test_activation_double_backward", F.gelu),
           ("gelu_backward", "test_activation_double_backward", F.gelu),
           ("silu", "test_activation_double_backward", F.silu),
           ("silu_backward", "test_activation_double_backward", F.silu),
           ("mish", "test_activation_double_backward", F.mish),
           ("mish_backward", "test_activation_double_backward", F.mish),
           ("softplus", "test_activation_double_backward", F.softplus),
           ("softplus_backward", "test_activation_double_backward", F.softplus),
           ("log_sigmoid", "test_activation_double_backward", F.logsigmoid),
           ("log_sigmoid_backward", "test_activation_double_backward", F.logsigmoid),
           ("leaky_relu", "test_activation_double_backward", lambda x: F.leaky_relu(x, 0.1)),
           ("leaky_relu_backward", "test_activation_double_backward",
            lambda x: F.leaky_relu(x, 0.1)),
           ("hardswish", "test_activation_double_backward", F.hardswish),
           ("hardswish_backward", "test_activation_double_backward", F.hardswish),
           ("hardsigmoid", "test_activation_gradcheck", F.hardsigmoid),
           ("hardsigmoid_backward", "test_activation_gradcheck", F.hardsigmoid),
           ("hardtanh", "test_activation_gradcheck", lambda x: F.hardtanh(x, -0.5, 0.5)),
           ("hardtanh_backward", "test_activation_gradcheck",
            lambda x: F.hardtanh(x, -0.5, 0.5)),
           ("softsign", "test_activation_gradcheck", F.softsign),
           ("softsign_backward", "test_activation_gradcheck", F.softsign),
           ("shrink", "test_activation_gradcheck", F.softshrink),
           ("shrink_backward", "test_activation_gradcheck", F.softshrink),
           ("threshold", "test_activation_gradcheck", lambda x: F.threshold(x, 0.1, -1.0)),
           ("threshold_backward", "test_activation_gradcheck",
            lambda x: F.threshold(x, 0.1, -1.0)),
           ("linear", "test_functional_layers_gradcheck",
            lambda x: F.linear(x, x.new_ones(4, 3), x.new_ones(4))),
           # the first-order path (NOTE [ Linear backward as one record ])
           ("linear_backward", "test_functional_layers_gradcheck",
            lambda x: F.linear(x, x.new_ones(4, 3).requires_grad_(), x.new_ones(4))),
           ("layer_norm", "test_functional_layers_gradcheck",
            lambda x: F.layer_norm(x, (3,), x.new_ones(3), x.new_zeros(3))),
           ("batch_norm", "test_functional_layers_gradcheck",
            lambda x: F.batch_norm(x, None, None, x.new_ones(3), x.new_zeros(3),
                                   training=True)),
       )},
    "embedding": ("tests/nn/test_layers.py::test_functional_layers_gradcheck",
                  lambda: _gg(lambda w: F.embedding(ember.tensor([[0, 2], [1, 1]]), w) ** 2,
                              _t(3, 2))),
    "embedding_backward": ("tests/nn/test_layers.py::test_functional_layers_gradcheck",
                           lambda: _gg(lambda w: F.embedding(ember.tensor([[0, 2], [1, 1]]),
                                                             w) ** 2, _t(3, 2))),
    "segment_sum": ("tests/nn/test_layers.py::test_functional_layers_gradcheck",
                    lambda: _gg(lambda w: F.embedding_bag(ember.tensor([[0, 2], [1, 1]]), w,
                                                          mode="sum"), _t(3, 2))),
    "segment_max": ("tests/nn/test_layers.py::test_embedding_bag_offsets_matches_torch",
                    lambda: _gg(lambda w: F.embedding_bag(ember.tensor([[0, 2], [1, 1]]), w,
                                                          mode="max"), _t(3, 2))),
    "cross_entropy": ("tests/nn/test_losses.py::test_cross_entropy_double_backward",
                      lambda: _gg(lambda x: F.cross_entropy(x, ember.tensor([0, 2])),
                                  _t(2, 3))),
    "nll_loss": ("tests/nn/test_losses.py::test_loss_gradcheck",
                 lambda: _gg(lambda x: F.nll_loss(x, ember.tensor([0, 2])), _t(2, 3))),
    "nll_loss_backward": ("tests/test_ops_extra.py::test_nn_backward_records_double_backward",
                          lambda: _gg(lambda x: F.nll_loss(x, ember.tensor([0, 2])),
                                      _t(2, 3))),
    "ctc_loss": ("tests/nn/test_losses.py::test_ctc_matches_brute_force_and_gradcheck",
                 lambda: _gg(lambda x: F.ctc_loss(x.log_softmax(2), ember.tensor([[1, 2]]),
                                                  ember.tensor([4]), ember.tensor([2])),
                             _t(4, 1, 3))),
    "batch_norm_stats": ("tests/nn/test_records.py::"
                         "test_batch_norm_running_stats_are_a_declared_mutation",
                         lambda: _gg(lambda x: F.batch_norm(  # stats in x's dtype, as PyTorch
                             x, ember.zeros(3, dtype=x.dtype), ember.ones(3, dtype=x.dtype),
                             training=True), _t(4, 3))),
    "native_dropout": ("tests/nn/test_records.py::test_dropout_is_one_random_record",
                       lambda: _gg(lambda x: F.dropout(x, 0.5), _t(4, 3))),
    "rrelu_with_noise": ("tests/nn/test_records.py::test_rrelu_is_a_random_record",
                         lambda: _gg(lambda x: F.rrelu(x, training=True), _t(4, 3))),
    "instance_norm_update_stats": (
        "tests/nn/test_records.py::test_instance_norm_running_stats_are_a_declared_mutation",
        lambda: _gg(lambda x: F.instance_norm(x, ember.zeros(3), ember.ones(3)), _t(2, 3, 4))),
    **{k: ("tests/nn/test_rnn.py::test_fused_layers_gradcheck_and_double_backward", f)
       for k, f in (
           ("lstm_layer", lambda: _gg(lambda a, b, c, w: FS.lstm_layer(a, b, c, w)[2],
                                      _t(3, 2, 8), _t(2, 2), _t(2, 2), _t(8, 2))),
           ("lstm_layer_backward", lambda: _gg(lambda a, b, c, w: FS.lstm_layer(a, b, c, w)[2],
                                               _t(3, 2, 8), _t(2, 2), _t(2, 2), _t(8, 2))),
           ("gru_layer", lambda: _gg(lambda a, b, w, c: FS.gru_layer(a, b, w, c)[1],
                                     _t(3, 2, 9), _t(2, 3), _t(9, 3), _t(9))),
           ("gru_layer_backward", lambda: _gg(lambda a, b, w, c: FS.gru_layer(a, b, w, c)[1],
                                              _t(3, 2, 9), _t(2, 3), _t(9, 3), _t(9))),
           ("rnn_layer", lambda: _gg(lambda a, b, w: FS.rnn_layer(a, b, w)[1],
                                     _t(3, 2, 3), _t(2, 3), _t(3, 3))),
           ("rnn_layer_backward", lambda: _gg(lambda a, b, w: FS.rnn_layer(a, b, w)[1],
                                              _t(3, 2, 3), _t(2, 3), _t(3, 3))),
       )},
    # F.relu is the table's relu op: its double backward runs the relu_backward record
    "relu": ("tests/test_ops_extra.py::test_nn_relu_matches_the_table_relu",
             lambda: _gg(F.relu, _t(2, 3))),
    "relu_backward": ("tests/test_ops_extra.py::test_nn_relu_matches_the_table_relu",
                      lambda: _gg(F.relu, _t(2, 3))),
    # ember.special kernels
    "special_i0e": (_SPECIAL, lambda: _gg(ember.special.i0e, _t(3))),
    "special_i1": (_SPECIAL, lambda: _gg(ember.special.i1, _t(3))),
    "special_i1e": (_SPECIAL, lambda: _gg(ember.special.i1e, _t(3))),
    "special_erfcx": (_SPECIAL, lambda: _gg(ember.special.erfcx, _t(3))),
    "special_ndtr": (_SPECIAL, lambda: _gg(ember.special.ndtr, _t(3))),
    "special_ndtri": (_SPECIAL, lambda: _gg(lambda t: ember.special.ndtri(t.sigmoid()), _t(3))),
    "special_log_ndtr": (_SPECIAL, lambda: _gg(ember.special.log_ndtr, _t(3))),
    "special_entr": (_SPECIAL, lambda: _gg(lambda t: ember.special.entr(t.exp()), _t(3))),
    "special_xlog1py": (_SPECIAL, lambda: _gg(lambda a, b: ember.special.xlog1py(a, b.exp()),
                                              _t(3), _t(3, seed=1))),
    "special_zeta": ("tests/test_special.py::test_matches_scipy",
                     lambda: ember.special.zeta(ember.tensor([2.0, 3.0]), 1.5)),
    "special_gammainc": (f"{_SPECIAL_MORE}::test_gammainc_gradient_in_x_matches_torch",
                         lambda: _gg(lambda x: ember.special.gammainc(ember.tensor(
                             [1.5, 2.0, 3.0], dtype=x.dtype), x.exp()), _t(3))),
    "special_gammaincc": (f"{_SPECIAL_MORE}::test_gammainc_gradient_in_x_matches_torch",
                          lambda: _gg(lambda x: ember.special.gammaincc(ember.tensor(
                              [1.5, 2.0, 3.0], dtype=x.dtype), x.exp()), _t(3))),
    **{f"special_{_n}": (f"{_SPECIAL_MORE}::test_unary_matches_torch",
                         lambda _n=_n: getattr(ember.special, _n)(_t(3).exp()))
       for _n in ("airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
                  "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
                  "modified_bessel_k1", "scaled_modified_bessel_k0",
                  "scaled_modified_bessel_k1", "spherical_bessel_j0")},
    **{f"special_{_n}": (f"{_SPECIAL_MORE}::test_polynomial_matches_torch",
                         lambda _n=_n: getattr(ember.special, _n)(_t(3), 3))
       for _n in ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                  "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
                  "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
                  "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                  "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p")},
    # ember.fft kernels (tested in tests/test_fft.py; real views keep gradcheck real)
    "fft_c2c": ("tests/test_fft.py::test_gradgradcheck",
                lambda: _gg(lambda x: ember.view_as_real(ember.fft.fft(x)), _t(4))),
    "fft_r2c": ("tests/test_fft.py::test_gradgradcheck",
                lambda: _gg(lambda x: ember.view_as_real(ember.fft.rfft(x)), _t(4))),
    "fft_c2r": ("tests/test_fft.py::test_gradgradcheck",
                lambda: _gg(lambda x: ember.fft.irfft(ember.fft.rfft(x)), _t(4))),
    "fft_resize": ("tests/test_fft.py::test_gradgradcheck",
                   lambda: _gg(lambda x: ember.view_as_real(ember.fft.fft(x, n=6)), _t(4))),
    # ember.distributions' special functions and gamma sampler
    "distributions_digamma": ("tests/test_distributions.py::test_special_functions",
                              lambda: _gg(lambda x: _DS.digamma(x.exp() + 0.5), _t(3))),
    "distributions_lgamma": ("tests/test_distributions.py::test_special_functions",
                             lambda: _gg(lambda x: _DS.lgamma(x.exp() + 0.5), _t(3))),
    "distributions_polygamma": ("tests/test_distributions.py::test_special_functions",
                                lambda: _gg(lambda x: _DS.polygamma(1, x.exp() + 0.5), _t(3))),
    "distributions_standard_gamma": (
        "tests/test_distributions.py::test_rsample_gradients",
        lambda: _gg(lambda x: ember.distributions.Gamma(x.exp() + 1.0, 1.0).rsample(), _t(3))),
    # ember.linalg kernels
    "linalg_cholesky": (f"{_LIN}::test_gradcheck_cholesky_triangular",
                        lambda: _gg(ember.linalg.cholesky, _spd())),
    "linalg_det": (f"{_LIN}::test_gradcheck_inv_det_slogdet_solve",
                   lambda: _gg(ember.linalg.det, _t(3, 3))),
    "linalg_slogdet": (f"{_LIN}::test_gradcheck_inv_det_slogdet_solve",
                       lambda: _gg(lambda a: ember.linalg.slogdet(a)[1], _t(3, 3))),
    "linalg_inv": (f"{_LIN}::test_gradcheck_inv_det_slogdet_solve",
                   lambda: _gg(ember.linalg.inv, _t(3, 3))),
    "linalg_solve": (f"{_LIN}::test_gradcheck_inv_det_slogdet_solve",
                     lambda: _gg(ember.linalg.solve, _t(3, 3), _t(3, 2, seed=1))),
    "linalg_solve_triangular": (f"{_LIN}::test_gradcheck_cholesky_triangular",
                                lambda: _gg(lambda a, b: ember.linalg.solve_triangular(
                                    a.triu() + 3 * ember.eye(3, dtype=a.dtype), b, upper=True),
                                    _t(3, 3), _t(3, 2, seed=1))),
    "linalg_qr": (f"{_LIN}::test_gradcheck_qr", lambda: _gg(lambda a: ember.linalg.qr(a)[1],
                                                             _t(3, 3))),
    "linalg_svd": (f"{_LIN}::test_gradcheck_svd_eigh_eig",
                   lambda: _gg(ember.linalg.svdvals, _t(3, 3))),
    "linalg_eigh": (f"{_LIN}::test_gradcheck_svd_eigh_eig",
                    lambda: _gg(ember.linalg.eigvalsh, _spd())),
    "linalg_eig": (f"{_LIN}::test_gradcheck_svd_eigh_eig",
                   lambda: _gg(lambda a: ember.linalg.eigvals(a).abs(), _spd())),
    "linalg_pinv": (f"{_LIN}::test_gradcheck_pinv_lstsq_norms_power",
                    lambda: _gg(ember.linalg.pinv, _t(3, 2))),
    "linalg_diagonal": (f"{_LIN}::test_cross_multidot_vecdot_diagonal_triangular",
                        lambda: _gg(ember.linalg.diagonal, _t(3, 3))),
    "linalg_diag_embed": (f"{_LIN}::test_cross_multidot_vecdot_diagonal_triangular",
                          lambda: _gg(ember.linalg.diagonal, _t(3, 3))),
    "linalg_tril": (f"{_LIN}::test_gradcheck_cholesky_triangular",
                    lambda: _gg(ember.linalg.cholesky, _spd())),
    "linalg_lu_factor": ("cases:lu", None),  # ember.lu runs linalg.lu_factor's record
    "linalg_triu": (f"{_LIN}::test_gradcheck_qr",
                    lambda: _gg(lambda a: ember.linalg.qr(a)[0], _t(3, 3))),
    # sparse COO records (ember/_sparse.py): one gradcheck test runs them all, backwards too
    **{k: ("tests/test_sparse.py::test_gradcheck_through_sparse_records", _sparse_records)
       for k in ("sparse_coo_tensor", "sparse_gather", "sparse_to_dense", "sparse_mask",
                 "to_sparse", "sparse_coalesce", "sparse_values", "sparse_indices",
                 "sparse_mm", "sparse_sampled_mm", "sparse_sum", "sparse_sum_backward",
                 "sparse_softmax", "sparse_log_softmax", "sparse_softmax_backward",
                 "embedding_sparse", "embedding_sparse_backward")},
}


def _default_pointer(name):
    """A record named like a public op is covered by that op's own table entry."""
    if name in OPS_BY_NAME:
        return f"op_db:{name}"
    keys = sorted(k for k in CASES if case_op(k) == name)
    return f"cases:{keys[0]}" if keys else None


def _pointer(name):
    if name in RECORD_RULES:
        return RECORD_RULES[name]
    p = _default_pointer(name)
    return (p, None) if p else None


def _generated_from(name, op):
    return any(getattr(t.get(name), "op", None) is op
               for t in (FUNCTIONS, METHODS, elementwise._binary_defs))


def _is_backward(name):
    return name.endswith("_backward")


def test_every_record_has_a_rule_or_entry():
    missing = sorted(n for n in OPS if _pointer(n) is None)
    assert not missing, f"OpDef records with no test entry or rule: {missing}"
    assert not set(RECORD_RULES) - set(OPS), "rules for records that no longer exist"


@pytest.mark.parametrize("name", sorted(OPS))
def test_record_is_exercised_by_its_entry(name):
    pointer, thunk = _pointer(name)
    op = OPS[name]
    # a differentiable backward record runs under double backward; a non-differentiable one
    # is the fast first-order path (nn activations use a composite when create_graph=True)
    order = 2 if _is_backward(name) and op.differentiable and op.bwd is not None else 1
    _ORDER[0] = max(order, 1)
    if pointer.startswith("op_db:"):
        entry = pointer[len("op_db:"):]
        assert entry in OPS_BY_NAME, f"{pointer} is not an op_db entry"
        if _is_backward(name) and op.differentiable:
            assert OPS_BY_NAME[entry].gradgrad, f"{pointer} has no gradgradcheck"
        with watch(op) as n:
            run_op_db(entry, order)
    elif pointer.startswith("cases:"):
        key = pointer[len("cases:"):]
        assert key in CASES, f"{pointer} is not a test_ops_extra case"
        with watch(op) as n:
            run_case(key, order)
    else:
        src = _test_function(pointer)
        assert src is not None, f"{pointer} does not exist"
        if _is_backward(name):
            # a differentiable backward record needs double backward; the others a gradcheck
            need = "gradgradcheck" if op.differentiable and op.bwd else "gradcheck"
            assert need in src, f"{pointer} never runs {need}"
        with watch(op) as n:
            thunk()
    # Family-generated ops (unary/binary/bool reductions) run their array forward from a
    # closure, so a non-differentiable one shows no call: the public op must then be the
    # very function generated from this record (its ``.op``).
    assert n["fwd"] or n["bwd"] or _generated_from(name, op), \
        f"running {pointer} never reached record {name}"
    if _is_backward(name) and op.differentiable and op.bwd is not None:
        assert n["bwd"], f"double backward through {pointer} never ran {name}'s own backward"


# Records that share a name: OPS keeps the last one defined, so the other is invisible to
# the table. Each known case names its owner; a new duplicate (or a fixed one) fails.
KNOWN_DUPLICATES = {}


def test_record_names_are_unique():
    import gc

    seen = {}
    for o in gc.get_objects():
        if isinstance(o, OpDef) and o.name:
            seen.setdefault(o.name, set()).add(id(o))
    dup = {n for n, ids in seen.items() if len(ids) > 1}
    assert dup == set(KNOWN_DUPLICATES), f"records sharing a name: {sorted(dup)}"
