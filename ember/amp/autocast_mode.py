"""``autocast``: automatic mixed precision, PyTorch's op lists for the CPU and for CUDA.

NOTE [ Autocast on records and wrappers ]
Inside ``autocast("cpu", dtype=ember.bfloat16)`` some ops run in the lower precision
(matrix products and convolutions), some are kept in float32 (losses, reductions that lose
precision, decompositions, FFTs), some promote mixed inputs to the widest float type, and
the rest run in whatever dtype their inputs have. PyTorch decides per ATen op; ember decides
in two places:

- records (``_AutocastMode``, a ``DispatchMode``): every dispatched record is looked up by
  name in ``LOWER_RECORDS``/``FP32_RECORDS``; eligible float inputs (float32 for the lower
  list; float16/bfloat16 for the float32 list; float64 never) are cast with the
  differentiable ``to``. This is where nn layers are caught, because modules call their
  kernels directly rather than through the public namespaces.
- wrappers (``_PATCHES``): public functions that are *composites* of several records
  (``addmm`` is matmul + add, ``mse_loss`` is sub, mul, mean) would otherwise get a mixed
  result (a bfloat16 product plus a float32 addend is float32). While an autocast region
  is active these names are replaced, in the namespaces that hold them (``ember``,
  ``Tensor``, ``nn.functional`` and the private modules nn layers call), by wrappers that
  cast the inputs by the op's policy and run the composite with record-level autocast
  suspended, as PyTorch runs a composite's inner ops (lower-precision composites keep the
  record rule on, so their product is computed as ``_run_lower`` does). Ops that PyTorch
  leaves alone but that ember builds from a lower-precision record (``mv``, ``dot``,
  ``outer``, ``addmv``)
  are suspended the same way, so they keep their input dtype.

Installing the mode and the wrappers costs microseconds, once per outermost region. The
regions, the suspension depth and the cache are per thread, as PyTorch's autocast state
is; the installed mode and wrappers are process-wide while any thread has an enabled
region, and consult the calling thread's state, so other threads run unchanged. The
weight cast cache (``cache_enabled=True``, the default) keeps one cast per leaf tensor that
requires grad for the life of the outermost region, as PyTorch's does. Backward formulas
are records too; they pass the mode like any other (a matmul in backward runs in the lower
precision, which is what its bfloat16 inputs give anyway).

NOTE [ Autocast on cuda ]
``autocast("cuda", dtype=ember.float16)`` uses PyTorch's CUDA lists, kept here as data
(``CUDA_LOWER_RECORDS``/``CUDA_FP32_RECORDS`` and ``_CUDA_COMPOSITES``): matrix products,
convolutions, ``linear``, ``prelu``, the RNN layers and attention run in float16;
pointwise ops that lose range (``exp``, ``log``, ``pow``, ``reciprocal``, ``rsqrt``, ...),
reductions (``sum``, ``prod``, ``cumsum``, ``softmax``, ``log_softmax``, ``norm``, ...),
the normalisations (``layer_norm``, ``group_norm``, ``rms_norm``, ``normalize``) and the
losses run in float32; ``addcmul``, ``atan2``, ``cat``, ``index_put``, ``scatter_add``, ...
promote to the widest input; ``binary_cross_entropy`` raises, as PyTorch's does. An op's
region is its inputs' device's: CUDA tensors follow the ``cuda`` region, CPU tensors the
``cpu`` one (both may be active). The wrappers and the mode are the same machinery as on
the CPU, one policy table per device; on cuda every wrapped public op runs its inner records
with autocast suspended (PyTorch runs one kernel in the chosen dtype), and lower-precision
records run natively in float16 (CuPy's float16 kernels, cuBLAS accumulating in float32)
rather than through the CPU's float32 emulation.

bfloat16 on cuda is refused with PyTorch's RuntimeError for a GPU without bfloat16: CuPy
14 has no bfloat16 arrays, so there is nothing to cast to. Other dtypes warn and disable
the region, as the CPU's check does.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading

from ember import _dtype as D
from ember._ops.core import DispatchMode
from ember._tensor import Tensor

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available",
           "is_autocast_enabled", "get_autocast_dtype"]

# records that run in the lower precision (PyTorch's CPU lower_precision_fp list)
LOWER_RECORDS = frozenset({"matmul", "linear", "convolution", "convolution_transpose",
                           "lstm_layer", "einsum"})
# records kept in float32 (PyTorch's CPU fp32 list, as ember's records implement them)
FP32_RECORDS = frozenset({
    "cross_entropy", "nll_loss", "ctc_loss", "prod", "fft_c2c", "fft_r2c", "fft_c2r",
    "linalg_inv", "linalg_cholesky", "linalg_solve", "linalg_svd", "linalg_qr", "linalg_eig",
    "linalg_eigh", "linalg_pinv", "linalg_lu_factor", "linalg_solve_triangular",
    "_cdist_forward", "histc",
})

# public ops whose ember kernels refuse bfloat16 (pooling): inside a region they run on
# float32 copies of low-precision inputs and return the low precision, the dtype PyTorch's
# bfloat16 kernels give (wrapper level: their records have several outputs, which the
# wrappers split themselves)
_EMULATE = "emulate"

# public composites: name -> (policy, [(module name or "Tensor", attribute), ...])
_LOWER, _FP32, _PROMOTE, _KEEP = "lower", "fp32", "promote", "keep"
_COMPOSITES = {
    # ember's convolution wrappers refuse bfloat16: rounded inputs, float32 kernel
    "lower_emulate": ["convolution", "convolution_transpose", "conv1d", "conv2d", "conv3d",
                      "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"],
    _LOWER: ["matmul", "mm", "bmm", "linear", "multi_head_attention_forward", "addmm",
             "baddbmm", "addbmm", "vecdot", "prelu", "scaled_dot_product_attention",
             "tensordot"],
    _FP32: ["cross_entropy", "nll_loss", "ctc_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
            "huber_loss", "kl_div",
            "binary_cross_entropy", "binary_cross_entropy_with_logits",
            "margin_ranking_loss", "soft_margin_loss", "hinge_embedding_loss",
            "cosine_embedding_loss", "poisson_nll_loss", "multilabel_margin_loss",
            "multi_margin_loss", "triplet_margin_loss", "multilabel_soft_margin_loss",
            "gaussian_nll_loss", "cdist", "pdist", "trace", "quantile", "nanquantile",
            "polar", "cholesky_solve", "cholesky_inverse", "inverse", "pinverse", "lu_solve",
            "matrix_rank", "cond", "svdvals", "eigvals", "eigvalsh", "tensorinv",
            "tensorsolve", "lstsq", "stft", "istft", "grid_sample"],
    _PROMOTE: ["cat", "stack", "index_copy", "concat", "concatenate", "hstack", "vstack",
               "dstack"],
    _EMULATE: ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d",
               "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
               "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
               "adaptive_max_pool3d", "max_pool2d_with_indices", "_fn"],
    _KEEP: ["mv", "dot", "vdot", "inner", "outer", "ger", "addmv", "addr", "chain_matmul",
            "multi_dot", "kron", "cross", "bilinear"],
}
_OWNERS = ("ember", "ember.linalg", "ember.nn.functional", "ember.nn._functional_loss",
           "ember.nn._functional_linear", "ember.nn._functional_activation",
           "ember.nn._functional_distance", "ember.nn._functional_spatial",
           "ember.nn._functional_seq", "ember.nn._functional_norm", "ember.fft",
           "ember._ops.signal", "ember._ops.conv")
# pooling layers bind their functional at class creation (``_fn``)
_POOL_CLASSES = ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d",
                 "AvgPool3d")

# ---- CUDA (NOTE [ Autocast on cuda ]): PyTorch's CUDA op lists, as data
# records run in the lower precision natively (cuBLAS/CuPy float16 kernels)
CUDA_LOWER_RECORDS = frozenset({"matmul", "linear", "convolution", "convolution_transpose",
                                "einsum", "lstm_layer", "gru_layer", "rnn_layer"})
# records kept in float32 (reached directly by nn layers, not through a public wrapper)
CUDA_FP32_RECORDS = frozenset({"softmax", "log_softmax", "layer_norm", "cumsum", "cumprod",
                               "prod", "logsumexp", "norm", "cross_entropy", "nll_loss",
                               "_cdist_forward"})
_BANNED = "banned"
_CUDA_COMPOSITES = {
    _LOWER: ["matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "linear", "addmm", "baddbmm",
             "addbmm", "addmv", "addr", "mv", "chain_matmul", "multi_dot", "vecdot", "prelu",
             "einsum", "scaled_dot_product_attention", "multi_head_attention_forward",
             "convolution", "convolution_transpose", "conv1d", "conv2d", "conv3d",
             "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc"],
    _FP32: ["acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
            "reciprocal", "rsqrt", "sinh", "tan", "pow", "__pow__", "__rpow__",
            "__rtruediv__", "__rdiv__", "softplus", "layer_norm", "group_norm", "rms_norm",
            "norm", "normalize", "cosine_similarity", "poisson_nll_loss",
            "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss", "kl_div", "l1_loss",
            "smooth_l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss",
            "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss",
            "multi_margin_loss", "binary_cross_entropy_with_logits", "cross_entropy", "dist",
            "pdist", "cdist", "renorm", "logsumexp", "softmax", "log_softmax", "softmin",
            "cumprod", "cumsum", "prod", "sum", "vector_norm", "matrix_norm", "interpolate",
            "upsample", "upsample_nearest", "upsample_bilinear"],
    _PROMOTE: ["addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sample",
               "index_put", "tensordot", "scatter_add", "cat", "stack", "index_copy", "concat",
               "concatenate", "hstack", "vstack", "dstack"],
    # ember composites built from ops of the float32 list that PyTorch runs in their input
    # dtype: their inner calls must not widen (see test_cuda_amp_cpu_side.py's sweep)
    _KEEP: ["outer", "ger", "inner", "kron"],
    _BANNED: ["binary_cross_entropy"],
}
_BCE_BANNED = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast "
    "(a float16 probability saturates). Combine the sigmoid and the loss: use "
    "torch.nn.functional.binary_cross_entropy_with_logits or torch.nn.BCEWithLogitsLoss, "
    "which are safe to autocast.")


def _policy_table(composites):
    table = {}
    for policy, names in composites.items():
        for name in names:
            table[name] = policy
    return table


# device type -> (lower records, float32 records, {public name: policy})
_DEVICE_LISTS = {"cpu": (LOWER_RECORDS, FP32_RECORDS, _policy_table(_COMPOSITES)),
                 "cuda": (CUDA_LOWER_RECORDS, CUDA_FP32_RECORDS,
                          _policy_table(_CUDA_COMPOSITES))}
_ANY_RECORD = LOWER_RECORDS | FP32_RECORDS | CUDA_LOWER_RECORDS | CUDA_FP32_RECORDS


def _device_type(vals):
    """"cuda" when a tensor among ``vals`` (lists walked one level) is a CUDA tensor, else
    "cpu": as PyTorch's autocast keys, an op's region is its inputs' device's (a CPU 0-d
    tensor beside CUDA ones does not make the op a CPU op)."""
    for v in vals:
        if isinstance(v, Tensor):
            if v.is_cuda:
                return "cuda"
        elif isinstance(v, (list, tuple)):
            for x in v:
                if isinstance(x, Tensor) and x.is_cuda:
                    return "cuda"
    return "cpu"

class _Local(threading.local):
    """Per-thread autocast state, as PyTorch's: regions (innermost last:
    ``(device_type, enabled, dtype, cache)``), the suspension depth and the cast cache."""

    def __init__(self):
        self.stack = []
        self.suspended = 0
        self.cache = {}
        self.enabled_regions = 0


_TLS = _Local()
# process-wide: the installed mode and wrappers, kept while any thread has an enabled region
_STATE = {"mode": None, "patched": [], "regions": 0, "devices": set()}
_LOCK = threading.Lock()


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast works for ``device_type``: "cpu", and "cuda" when a GPU is usable.

    Args:
        device_type: "cpu", "cuda", ...

    Returns:
        A bool.

    Example::

        >>> ember.amp.is_autocast_available("cpu")
        True
    """
    if device_type == "cuda":
        from ember import cuda

        return cuda.is_available()
    return device_type == "cpu"


def _current(device_type="cpu"):
    for dev, enabled, dtype, cache in reversed(_TLS.stack):
        if dev == device_type:
            return enabled, dtype, cache
    return False, _DEFAULT_DTYPE.get(device_type, D.bfloat16), True


_DEFAULT_DTYPE = {"cpu": D.bfloat16, "cuda": D.float16}


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether an enabled autocast region for ``device_type`` is active.

    Args:
        device_type: the device type (PyTorch's default, "cuda", is never enabled here).

    Returns:
        A bool.

    Example::

        >>> with ember.autocast("cpu"):
        ...     ember.amp.is_autocast_enabled("cpu")
        True
    """
    return _current(device_type)[0]


def get_autocast_dtype(device_type: str):
    """The lower-precision dtype autocast uses for ``device_type``.

    Args:
        device_type: "cpu" (default bfloat16) or "cuda" (float16).

    Returns:
        An ``ember.dtype``.

    Example::

        >>> ember.amp.get_autocast_dtype("cpu")
        torch.bfloat16
    """
    return _current(device_type)[1]


def _eligible_lower(t):
    return isinstance(t, Tensor) and t._data.dtype.kind == "f" and t._data.dtype.itemsize == 4


def _cast(t, dtype, cache):
    """``t.to(dtype)``, through the weight cache for leaves that require grad."""
    if cache and t._requires_grad and t._grad_fn is None:
        key = (id(t), dtype)
        hit = _TLS.cache.get(key)
        if hit is not None and hit[0] is t and hit[1] == t._version:
            return hit[2]
        out = t.to(dtype)
        _TLS.cache[key] = (t, t._version, out)
        return out
    return t.to(dtype)


def _cast_lower(v, dtype, cache):
    if _eligible_lower(v) and v.dtype is not dtype:
        return _cast(v, dtype, cache)
    if isinstance(v, (list, tuple)):
        return type(v)(_cast_lower(x, dtype, cache) for x in v)
    return v


def _cast_fp32(v, cache):
    if isinstance(v, Tensor) and v.dtype in (D.bfloat16, D.float16):
        return _cast(v, D.float32, cache)
    if isinstance(v, (list, tuple)):
        return type(v)(_cast_fp32(x, cache) for x in v)
    return v


def _widest(vals, acc=None):
    """The promoted dtype of the floating tensors in ``vals`` (nested lists walked)."""
    for v in vals:
        if isinstance(v, Tensor) and v.dtype.is_floating_point:
            acc = v.dtype if acc is None else D.promote_types(acc, v.dtype)
        elif isinstance(v, (list, tuple)):
            acc = _widest(v, acc)
    return acc


def _low_dtype(vals):
    for v in vals:
        if isinstance(v, Tensor) and v.dtype in (D.bfloat16, D.float16):
            return v.dtype
        if isinstance(v, (list, tuple)):
            d = _low_dtype(v)
            if d is not None:
                return d
    return None


def _cast_promote(v, dtype, cache):
    if isinstance(v, Tensor) and v.dtype.is_floating_point and v.dtype is not dtype:
        return _cast(v, dtype, cache)
    if isinstance(v, (list, tuple)):
        return type(v)(_cast_promote(x, dtype, cache) for x in v)
    return v


class _AutocastMode(DispatchMode):
    """Record-level half of NOTE [ Autocast on records and wrappers ]."""

    def __ember_dispatch__(self, op, inputs, params, run):
        name = op.name
        if _TLS.suspended or name not in _ANY_RECORD:
            return run(inputs, params)
        dev = _device_type(inputs)
        enabled, dtype, cache = _current(dev)
        if not enabled:
            return run(inputs, params)
        lower, fp32, _ = _DEVICE_LISTS[dev]
        if name in lower:
            if dev == "cuda":  # float16 kernels exist on the GPU: run the record natively
                return run(tuple(_cast_lower(t, dtype, cache) if isinstance(t, Tensor) else t
                                 for t in inputs), params)
            return _run_lower(inputs, params, run, dtype, cache)
        if name in fp32:
            new = tuple(_cast(t, D.float32, cache) if isinstance(t, Tensor)
                        and t.dtype in (D.bfloat16, D.float16) else t for t in inputs)
            return run(new, params)
        return run(inputs, params)


def _run_lower(inputs, params, run, dtype, cache):
    """A lower-precision record: inputs rounded to ``dtype``, computed with float32
    accumulation, the result rounded to ``dtype`` (what PyTorch's CPU bfloat16 kernels do;
    ember's own kernels refuse or widen bfloat16, so the record runs on the rounded values
    in float32). Every cast is the differentiable ``to``, so float32 weights get float32
    gradients."""
    low = (D.bfloat16, D.float16)
    new = []
    any_low = False
    for t in inputs:
        if _eligible_lower(t) and t.dtype is not dtype:
            t = _cast(t, dtype, cache)
        if isinstance(t, Tensor) and t.dtype in low:
            any_low = True
            t = t.to(D.float32)
        new.append(t)
    out = run(tuple(new), params)
    if not any_low:
        return out
    if isinstance(out, Tensor):
        return out.to(dtype) if out.dtype is D.float32 else out
    return type(out)(o.to(dtype) if isinstance(o, Tensor) and o.dtype is D.float32 else o
                     for o in out)


def _patched(f, name):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        if _TLS.suspended or kwargs.get("dtype") is not None:
            return f(*args, **kwargs)
        dev = _device_type(args) if args else _device_type(kwargs.values())
        enabled, dtype, cache = _current(dev)
        policy = _DEVICE_LISTS[dev][2].get(name) if enabled else None
        if policy is None:
            return f(*args, **kwargs)
        if dev == "cuda":
            return _run_cuda(f, policy, dtype, cache, args, kwargs)
        if policy == _LOWER:
            args = _cast_lower(args, dtype, cache)
            kwargs = {k: _cast_lower(v, dtype, cache) for k, v in kwargs.items()}
        elif policy == _FP32:
            args = _cast_fp32(args, cache)
            kwargs = {k: _cast_fp32(v, cache) for k, v in kwargs.items()}
        elif policy == "lower_emulate":
            args = _cast_lower(args, dtype, cache)
            kwargs = {k: _cast_lower(v, dtype, cache) for k, v in kwargs.items()}
            low = _low_dtype(list(args) + list(kwargs.values()))
            if low is not None:
                args = _cast_fp32(args, False)
                kwargs = {k: _cast_fp32(v, False) for k, v in kwargs.items()}
                _TLS.suspended += 1
                try:
                    out = f(*args, **kwargs)
                finally:
                    _TLS.suspended -= 1
                return out.to(dtype) if isinstance(out, Tensor) and out.dtype is D.float32 \
                    else out
        elif policy == _EMULATE:
            low = _low_dtype(list(args) + list(kwargs.values()))
            if low is not None:
                args = _cast_fp32(args, False)
                kwargs = {k: _cast_fp32(v, False) for k, v in kwargs.items()}
                _TLS.suspended += 1
                try:
                    out = f(*args, **kwargs)
                finally:
                    _TLS.suspended -= 1
                if isinstance(out, Tensor):
                    return out.to(low) if out.dtype is D.float32 else out
                return type(out)(o.to(low) if isinstance(o, Tensor) and o.dtype is D.float32
                                 else o for o in out)
        elif policy == _PROMOTE:
            w = _widest(list(args) + list(kwargs.values()))
            if w is not None:
                args = _cast_promote(args, w, cache)
                kwargs = {k: _cast_promote(v, w, cache) for k, v in kwargs.items()}
        if policy == _LOWER:
            # inputs are in the lower precision now; the composite's records (matmul, add)
            # keep it, the product through the record-level rule
            return f(*args, **kwargs)
        _TLS.suspended += 1
        try:
            return f(*args, **kwargs)
        finally:
            _TLS.suspended -= 1

    wrapper._ember_autocast_plain = f
    return wrapper


def _run_cuda(f, policy, dtype, cache, args, kwargs):
    """A public op under ``autocast("cuda")``: inputs cast by the op's CUDA policy, then the
    op runs with record-level autocast suspended (its inner records keep the dtypes it was
    given, as PyTorch runs one ATen kernel in the chosen dtype)."""
    if policy == _BANNED:
        raise RuntimeError(_BCE_BANNED)
    if policy == _LOWER:
        args = _cast_lower(args, dtype, cache)
        kwargs = {k: _cast_lower(v, dtype, cache) for k, v in kwargs.items()}
    elif policy == _FP32:
        args = _cast_fp32(args, cache)
        kwargs = {k: _cast_fp32(v, cache) for k, v in kwargs.items()}
    elif policy == _PROMOTE:
        w = _widest(list(args) + list(kwargs.values()))
        if w is not None:
            args = _cast_promote(args, w, cache)
            kwargs = {k: _cast_promote(v, w, cache) for k, v in kwargs.items()}
    _TLS.suspended += 1
    try:
        return f(*args, **kwargs)
    finally:
        _TLS.suspended -= 1


def _install(device_type):
    """Install the mode (once) and the wrappers of ``device_type``'s list (once per device
    type while any region is active: CPU-only regions do not wrap CUDA's extra names)."""
    if device_type in _STATE["devices"]:
        return
    _STATE["devices"].add(device_type)
    if _STATE["mode"] is None:
        mode = _AutocastMode()
        mode.__enter__()
        _STATE["mode"] = mode
    patched = _STATE["patched"]
    owners = [sys.modules.get(n) or importlib.import_module(n) for n in _OWNERS]
    owners.append(Tensor)
    pooling = importlib.import_module("ember.nn.modules.pooling")
    owners.extend(getattr(pooling, c) for c in _POOL_CLASSES)
    for name in sorted(_DEVICE_LISTS[device_type][2]):
        for owner in owners:
            f = owner.__dict__.get(name) if isinstance(owner, type) else \
                getattr(owner, name, None)
            plain = f.__func__ if isinstance(f, staticmethod) else f
            if plain is None or not callable(plain) or \
                    hasattr(plain, "_ember_autocast_plain"):
                continue
            patched.append((owner, name, f))
            w = _patched(plain, name)
            setattr(owner, name, staticmethod(w) if isinstance(f, staticmethod) else w)


def _uninstall():
    for owner, name, f in reversed(_STATE["patched"]):
        setattr(owner, name, f)
    _STATE["patched"] = []
    _STATE["devices"] = set()
    if _STATE["mode"] is not None:
        _STATE["mode"].__exit__(None, None, None)
        _STATE["mode"] = None


class autocast:
    """Run the ops of a region in mixed precision (PyTorch's ``torch.autocast``).

    On CUDA tensors, PyTorch's CUDA lists apply (float16 only: NOTE [ Autocast on cuda ]).
    On the CPU, ops of PyTorch's lower-precision list (matmul, linear, convolutions, bmm,
    addmm, baddbmm, ...) run in ``dtype``; ops of its float32 list (losses, ``prod``,
    decompositions, FFTs, ``cdist``, ...) run in float32; ``cat``/``stack``/``index_copy``
    promote mixed inputs; other ops run in their inputs' dtype. NOTE [ Autocast on records
    and wrappers ] says how. Usable as a context manager or a decorator; regions nest
    (an inner ``enabled=False`` region turns it off).

    Args:
        device_type: "cpu" or "cuda" ("cuda" warns and disables itself without a GPU).
        dtype: the lower precision: ``ember.bfloat16`` (the CPU default) or
            ``ember.float16`` (the CUDA default and CUDA's only choice here).
        enabled: False makes the region a no-op (the usual "AMP off" switch).
        cache_enabled: keep one cast per weight (leaf requiring grad) within the outermost
            region (default True, as PyTorch).

    Example::

        >>> import ember
        >>> lin = ember.nn.Linear(4, 2)
        >>> with ember.autocast("cpu", dtype=ember.bfloat16):
        ...     y = lin(ember.ones(3, 4))
        >>> y.dtype
        torch.bfloat16
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError("Expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        if enabled and device_type == "cuda":
            from ember import cuda

            if not cuda.is_available():  # PyTorch disables itself the same way
                import warnings

                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", UserWarning, stacklevel=2)
                enabled = False
            elif dtype is D.bfloat16:
                # CuPy 14 has no bfloat16 arrays (NOTE [ Autocast on cuda ]); PyTorch raises
                # the same error on a GPU without bfloat16
                raise RuntimeError("Current CUDA Device does not support bfloat16. Please "
                                   "switch dtype to float16. (ember's CUDA backend stores "
                                   "arrays in CuPy, which has no bfloat16 dtype)")
        if device_type not in ("cpu", "cuda"):
            if enabled:
                raise RuntimeError(f"User specified an unsupported autocast device_type "
                                   f"'{device_type}'")
        self.device = device_type
        self.fast_dtype = _DEFAULT_DTYPE.get(device_type, D.bfloat16) if dtype is None \
            else dtype
        if enabled and device_type == "cpu" and self.fast_dtype not in (D.bfloat16,
                                                                         D.float16):
            import warnings

            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtype of torch.bfloat16, "
                          "torch.float16 currently.", UserWarning, stacklevel=2)
            enabled = False
        if enabled and device_type == "cuda" and self.fast_dtype is not D.float16:
            import warnings

            warnings.warn("In CUDA autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nember's CUDA autocast only supports dtype of "
                          "torch.float16 (CuPy has no bfloat16).", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)

    def __enter__(self):
        _TLS.stack.append((self.device, self._enabled, self.fast_dtype, self._cache_enabled))
        self._counted = self.device in ("cpu", "cuda") and self._enabled
        if self._counted:
            with _LOCK:
                _install(self.device)
                _STATE["regions"] += 1
        return self

    def __exit__(self, *exc):
        _TLS.stack.pop()
        if not any(e for _, e, _, _ in _TLS.stack):
            _TLS.cache = {}  # the cast cache lives as long as the thread's outermost region
        if self._counted:
            with _LOCK:
                _STATE["regions"] -= 1
                if _STATE["regions"] == 0:
                    _uninstall()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return wrapper


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a custom Function's ``forward`` for use under autocast (PyTorch's API).

    Inside an enabled region, ``cast_inputs=None`` runs ``forward`` with the region's state
    (and records it for :func:`custom_bwd`); a dtype casts floating inputs to it and runs
    ``forward`` with autocast off.

    Args:
        fwd: the forward to wrap (omit to use as ``@custom_fwd(device_type=...)``).
        device_type: "cpu" or "cuda" (required, as PyTorch).
        cast_inputs: dtype for floating inputs inside an enabled autocast region.

    Returns:
        The decorated ``forward``.

    Example::

        >>> class Double(ember.autograd.Function):
        ...     @staticmethod
        ...     @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     @ember.amp.custom_bwd(device_type="cpu")
        ...     def backward(ctx, g):
        ...         return g * 2
        >>> with ember.autocast("cpu"):
        ...     Double.apply(ember.ones(1, dtype=ember.bfloat16)).dtype
        torch.float32
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        enabled, dtype, _ = _current(device_type)
        ctx._dtype = dtype
        # with cast_inputs the forward runs with autocast off, and so will the backward
        ctx._fwd_used_autocast = enabled if cast_inputs is None else False
        if cast_inputs is None or not enabled:
            return fwd(*args, **kwargs)

        def cast(v):
            if isinstance(v, Tensor) and v.dtype.is_floating_point and v.dtype is not \
                    D.float64:
                return v.to(cast_inputs)
            if isinstance(v, (list, tuple)):
                return type(v)(cast(x) for x in v)
            return v

        with autocast(device_type, enabled=False):
            return fwd(*cast(args), **{k: cast(v) for k, v in kwargs.items()})

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom Function's ``backward`` to run with the forward's autocast state.

    Args:
        bwd: the backward to wrap (omit to use as ``@custom_bwd(device_type=...)``).
        device_type: "cpu" or "cuda" (required, as PyTorch).

    Returns:
        The decorated ``backward``.

    Example::

        >>> f = ember.amp.custom_bwd(lambda ctx, g: g, device_type="cpu")
        >>> f(None, 3)
        3
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        enabled = getattr(ctx, "_fwd_used_autocast", None)
        if enabled is None:
            return bwd(*args, **kwargs)
        with autocast(device_type, enabled=enabled, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
