"""ember: a PyTorch-compatible deep learning framework in Python, on NumPy.

``import ember as torch`` runs ordinary PyTorch programs on the CPU.
"""

from __future__ import annotations

__version__ = "0.1.0"

# NOTE [ Quiet kernels ]
# PyTorch prints nothing for log(0), sqrt(-1), overflow or inf * 0: it returns inf/NaN. The
# NumPy kernels ember runs would warn, so RuntimeWarnings raised from ember's own modules are
# ignored. A warnings filter, not np.errstate: it costs nothing on the per-op path (errstate
# costs ~1-2 us per call), and it leaves NumPy's behaviour in the user's own code alone; a
# filter the user adds later (``-W error``, ``filterwarnings``) still takes precedence.
import warnings as _warnings

_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember(\.|$)")
del _warnings

from ember import _dtype
from ember._device import device, get_default_device, set_default_device
from ember._dtype import (bfloat16, can_cast, complex64, complex128, dtype, float16, float32,
                          float64, get_default_dtype, int8, int16, int32, int64, promote_types,
                          result_type, set_default_dtype, uint8)
from ember._dtype import bool_ as bool  # noqa: A001  (torch.bool)
from ember._dtype import finfo, iinfo
from ember._random import (Generator, default_generator, get_rng_state, initial_seed,
                           manual_seed, seed, set_rng_state)
from ember._tensor import Size, Tensor
from ember._legacy_types import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor,
                                 DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
                                 ShortTensor)
from ember._tensor_str import get_printoptions, set_printoptions  # noqa: F401
from ember import _ops
from ember._ops.core import FUNCTIONS as _FUNCTIONS
from ember import autograd
from ember.autograd import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                            is_inference_mode_enabled, no_grad, set_grad_enabled)
from ember.autograd.anomaly_mode import (is_anomaly_check_nan_enabled,  # noqa: F401
                                         is_anomaly_enabled, set_anomaly_enabled)

half, float, double = float16, float32, float64  # noqa: A001
cfloat, cdouble, complex32 = complex64, complex128, complex64
short, int, long = int16, int32, int64  # noqa: A001
chalf = complex64

globals().update({k: v for k, v in _FUNCTIONS.items() if not k.endswith("_") or k in (
    "abs_", "exp_", "relu_", "sigmoid_", "tanh_", "neg_", "clamp_", "sqrt_")
    or k.startswith(("_foreach_", "_fused_"))})

# PyTorch's second spellings of existing ops (NOTE [ Aliases of existing ops ]) and the
# top-level names that reach libraries lazily (ember/_toplevel.py).
from ember._ops import aliases as _aliases  # noqa: E402
from ember import _toplevel  # noqa: E402

_aliases.attach()
globals().update({k: v for k, v in {**_aliases.TOP, **_toplevel.TOP}.items()
                  if k not in globals()})


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_storage(obj):
    return False


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return input.item() != 0


def numel(input):
    return input.numel()


def typename(obj):
    return obj.type() if isinstance(obj, Tensor) else type(obj).__name__


def get_num_threads():
    """Threads the BLAS library uses for matrix products."""
    from ember._backends import DEFAULT

    return DEFAULT.get_num_threads()


def set_num_threads(n):
    """Limit BLAS threads (needs the optional ``threadpoolctl`` package, else a warning) and
    the OpenMP threads of generated kernels."""
    import builtins  # this module rebinds int/bool/float to dtypes, as torch does

    if not isinstance(n, builtins.int) or isinstance(n, builtins.bool) or n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n!r}")
    from ember._backends import DEFAULT
    from ember._codegen.kernel import set_num_threads as _kernel_threads

    _kernel_threads(n)  # OpenMP threads of the generated kernels (ember/_codegen)
    if not DEFAULT.set_num_threads(n):
        import warnings

        warnings.warn("ember.set_num_threads has no effect without the threadpoolctl package "
                      "(pip install threadpoolctl); set OPENBLAS_NUM_THREADS before starting "
                      "Python instead", RuntimeWarning, stacklevel=2)


# [mode, warn_only] as last set (NOTE [ Nondeterministic ops in ember ]: kernels without a
# deterministic algorithm call ember._deterministic.alert_not_deterministic; ember's CPU path
# has none).
from ember._deterministic import STATE as _deterministic  # noqa: E402


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Require deterministic algorithms: ops without one raise PyTorch's RuntimeError
    ("... does not have a deterministic implementation, but you set
    'torch.use_deterministic_algorithms(True)' ...") or, with ``warn_only``, warn.

    Which ember ops are nondeterministic: none on the CPU (NumPy kernels, ``np.add.at``
    for scatter-add/index_add/index_put(accumulate=True)/embedding backward, BLAS at a fixed
    thread count and the generated C kernels all repeat bit for bit), so the flag changes no
    result there; a kernel that is not deterministic calls
    ``ember._deterministic.alert_not_deterministic`` (NOTE [ Nondeterministic ops in
    ember ]). ``empty`` is zero-filled, so no uninitialised memory leaks out either way. The
    reproducibility recipe is in docs/debugging.md.

    Args:
        mode: bool, whether to require deterministic algorithms.
        warn_only: bool, warn instead of raising for nondeterministic ops.

    Example::

        >>> ember.use_deterministic_algorithms(True)
        >>> ember.are_deterministic_algorithms_enabled()
        True
        >>> ember.use_deterministic_algorithms(False)
    """
    import builtins

    for name, v in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(v, builtins.bool):
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}' must be bool, "
                            f"not {type(v).__name__}")
    _deterministic[:] = [mode, warn_only]


def are_deterministic_algorithms_enabled():
    """Whether ``use_deterministic_algorithms(True)`` is in effect (default False, as PyTorch).

    Example::

        >>> ember.are_deterministic_algorithms_enabled()
        False
    """
    return _deterministic[0]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether ``use_deterministic_algorithms`` was called with ``warn_only=True``.

    Example::

        >>> ember.is_deterministic_algorithms_warn_only_enabled()
        False
    """
    return _deterministic[1]


def set_float32_matmul_precision(precision):
    """Set the internal precision allowed for float32 matrix products.

    "highest" keeps full float32; "high" and "medium" *permit* TF32/bfloat16 internally
    (PyTorch's semantics). ember always multiplies float32 at full precision, which every
    setting allows; the value is stored and tied to ``backends.cuda.matmul.allow_tf32``.

    Args:
        precision: "highest", "high" or "medium"; another string warns and changes nothing
            (as PyTorch), a non-string raises RuntimeError.

    Example::

        >>> ember.set_float32_matmul_precision("high")
        >>> ember.get_float32_matmul_precision()
        'high'
        >>> ember.set_float32_matmul_precision("highest")
    """
    from ember import backends

    if not isinstance(precision, str):
        raise RuntimeError("set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in backends._MATMUL_PRECISIONS:
        import warnings

        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    backends._fp32_matmul_precision[0] = precision


def get_float32_matmul_precision():
    """The float32 matmul precision last set: "highest" (default), "high" or "medium".

    Example::

        >>> ember.get_float32_matmul_precision()
        'highest'
    """
    from ember import backends

    return backends._fp32_matmul_precision[0]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """``torch.compile`` on ember's tracing JIT: see ``ember.jit._compile.compile``."""
    from ember.jit._compile import compile as _compile

    return _compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                    options=options, disable=disable)


import math as _math

pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan
# NOTE [ Layouts ] (_dtype.py): torch.layout objects; only strided and sparse_coo tensors exist
from ember._dtype import layout  # noqa: E402, F401
from ember._dtype import (_mkldnn, jagged, sparse_bsc, sparse_bsr, sparse_csc,  # noqa: E402, F401
                          sparse_csr, strided)
# NOTE [ Sparse COO tensors ] (ember/_sparse.py): Tensor.to_sparse and friends attach here
from ember._sparse import sparse_coo, sparse_coo_tensor  # noqa: E402, F401
preserve_format = contiguous_format = channels_last = "torch.memory_format"

# Docstrings of the generated functions live in tables (NOTE [ Docstring tables ]).
from ember import _docs as _docs_tables  # noqa: E402

_docs_tables.attach(__name__, globals())


# Libraries above the core (layer 3+) load on first use, keeping `import ember` fast.
_LAZY_MODULES = ("nn", "optim", "utils", "multiprocessing", "linalg", "fft", "special",
                 "distributions", "serialization", "random", "testing", "backends", "cuda",
                 "jit", "onnx", "distributed", "profiler", "hub", "amp", "func", "overrides",
                 "vision", "accelerator", "cpu", "as_torch", "signal", "compiler",
                 "sparse")
_LAZY_ATTRS = {"save": "serialization", "load": "serialization", "autocast": "amp",
               "is_autocast_enabled": "amp", "get_autocast_dtype": "amp"}


def __getattr__(name):
    import importlib

    if name in _LAZY_MODULES:
        try:
            return importlib.import_module("ember." + name)
        except ModuleNotFoundError as e:
            if e.name == "ember." + name:
                raise AttributeError(f"module 'ember' has no attribute '{name}' (ember.{name} "
                                     "is not implemented yet)") from None
            raise
    if name in _LAZY_ATTRS:
        return getattr(importlib.import_module("ember." + _LAZY_ATTRS[name]), name)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")

# NOTE [ Heap reuse for host arrays ]: on glibc, keep freed multi-megabyte blocks in the C heap
# (process-wide, said so in README.md; EMBER_HEAP_REUSE=0 turns it off)
from ember._backends import heap as _heap  # noqa: E402

_heap._enable_by_default()

# NOTE [ OpenBLAS thread timeout ]: OpenBLAS's idle workers poll ~20 us, not ~0.1 s, after a
# product (process-wide, said so in README.md; OPENBLAS_THREAD_TIMEOUT set by the user wins)
from ember._backends import openblas_threads as _openblas_threads  # noqa: E402

_openblas_threads._apply_default()
