"""``ember.backends.cuda``: CUDA's flags, for the CuPy backend (NOTE [ The CUDA backend ]).

``matmul.allow_tf32`` is tied to :func:`ember.set_float32_matmul_precision` as in PyTorch
(True means precision "high"); on ``cuda`` tensors it picks cuBLAS's float32 compute type
(TF32 unless the precision is "highest"), applied when a record runs on the CuPy backend.
The scaled-dot-product-attention switches choose among CUDA attention kernels ember does not
have, so they are recorded and read back but change nothing.

Example::

    >>> ember.backends.cuda.matmul.allow_tf32 = True
    >>> ember.get_float32_matmul_precision()
    'high'
    >>> ember.backends.cuda.matmul.allow_tf32 = False
"""

from __future__ import annotations

from ember import backends as _b


def is_built() -> bool:
    """Whether ember can use CUDA when a GPU is present: CuPy (the ``cuda`` extra) is
    installed. Looks the package up without importing it.

    Returns:
        bool: True when CuPy is installed (a GPU may still be absent).

    Example::

        >>> isinstance(ember.backends.cuda.is_built(), bool)
        True
    """
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


class _CuBLASFlags:
    """``backends.cuda.matmul``: cuBLAS's precision flags, with PyTorch's checks."""

    _reduced = {"allow_fp16_reduced_precision_reduction": True,
                "allow_bf16_reduced_precision_reduction": True}

    def __init__(self):
        object.__setattr__(self, "_values", dict(self._reduced, fp32_precision="none"))

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _b._fp32_matmul_precision[0] != "highest"
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _b._check_bool("set_allow_tf32_cublas", value)
            _b._fp32_matmul_precision[0] = "high" if value else "highest"
        elif name in self._reduced:
            ok = isinstance(value, bool) or (isinstance(value, (tuple, list)) and value
                                            and all(isinstance(v, bool) for v in value))
            if not ok:
                raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got "
                                f"{type(value)}")
            self._values[name] = value
        elif name == "fp32_precision":
            if value not in ("none", "ieee", "tf32"):
                raise RuntimeError(f"fp32_precision: unknown precision {value!r}")
            self._values[name] = value
        else:
            raise AttributeError(f"Unknown attribute {name}")

    def __repr__(self):
        return "<ember.backends.cuda.matmul>"


matmul = _CuBLASFlags()

_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def _sdp_pair(kind):
    def enable(enabled: bool) -> None:
        _SDP[kind] = _b._check_bool(f"enable_{kind}_sdp", enabled)

    def query() -> bool:
        return _SDP[kind]

    enable.__name__, query.__name__ = f"enable_{kind}_sdp", f"{kind}_sdp_enabled"
    enable.__doc__ = f"""Allow or forbid CUDA's {kind} attention kernel.

    The choice is recorded (and read back by ``{kind}_sdp_enabled``); it has no effect on
    ember's CPU attention, which always computes the math form.

    Args:
        enabled: bool.

    Returns:
        None.

    Example:
        >>> ember.backends.cuda.enable_{kind}_sdp(False)
        >>> ember.backends.cuda.{kind}_sdp_enabled()
        False
        >>> ember.backends.cuda.enable_{kind}_sdp(True)
    """
    query.__doc__ = f"""Whether CUDA's {kind} attention kernel is allowed (default True).

    Returns:
        bool, as last set by ``enable_{kind}_sdp``.

    Example:
        >>> ember.backends.cuda.{kind}_sdp_enabled()
        True
    """
    return enable, query


enable_flash_sdp, flash_sdp_enabled = _sdp_pair("flash")
enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _sdp_pair("mem_efficient")
enable_math_sdp, math_sdp_enabled = _sdp_pair("math")
enable_cudnn_sdp, cudnn_sdp_enabled = _sdp_pair("cudnn")
del _sdp_pair


def is_flash_attention_available() -> bool:
    """Whether CUDA's flash attention kernel exists here: False.

    Returns:
        bool: False.

    Example::

        >>> ember.backends.cuda.is_flash_attention_available()
        False
    """
    return False


def preferred_linalg_library(backend=None):
    """Which CUDA linear-algebra library to prefer; only ``None``/"default" apply here.

    Args:
        backend: None (query), or "default"; "cusolver"/"magma" need CUDA.

    Returns:
        The library in use: ``"default"``.

    Example::

        >>> ember.backends.cuda.preferred_linalg_library()
        'default'
    """
    if backend in (None, "default"):
        return "default"
    raise RuntimeError(f"preferred_linalg_library({backend!r}): CUDA is not available in "
                       "this build")


class sdp_kernel:
    """Deprecated context manager choosing CUDA attention kernels (recorded, then restored).

    Args:
        enable_flash, enable_math, enable_mem_efficient, enable_cudnn: bools, as the
            ``enable_*_sdp`` functions.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     with ember.backends.cuda.sdp_kernel(enable_flash=False):
        ...         ember.backends.cuda.flash_sdp_enabled()
        False
    """

    def __init__(self, enable_flash: bool = True, enable_math: bool = True,
                 enable_mem_efficient: bool = True, enable_cudnn: bool = True):
        import warnings

        warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this "
                      "context manager will be removed. Please see "
                      "`torch.nn.attention.sdpa_kernel()` for the new context manager, with "
                      "updated signature.", FutureWarning, stacklevel=2)
        self.new = {"flash": enable_flash, "math": enable_math,
                    "mem_efficient": enable_mem_efficient, "cudnn": enable_cudnn}
        for kind, v in self.new.items():
            _b._check_bool(f"enable_{kind}_sdp", v)
        self.prev = None

    def __enter__(self):
        self.prev = dict(_SDP)
        _SDP.update(self.new)
        return self

    def __exit__(self, *exc):
        _SDP.update(self.prev)
        return False
