"""Array backends, one per kind of device array, chosen from the arrays themselves.

A backend is a module (or object) exposing ``name``, ``device_type``, ``xp`` (its array
module) and the few kernels array modules lack. ``backend_of(array)`` finds it from the
array's class; forwards take their array module from it (``xp_of(a)``) instead of naming
NumPy, so the same record runs on NumPy, CuPy or a test backend.
"""

from ember._backends import meta_backend, numpy_backend

DEFAULT = numpy_backend
_BY_TYPE = {numpy_backend.xp.ndarray: numpy_backend, meta_backend.MetaArray: meta_backend}
_REGISTERED = [numpy_backend, meta_backend]


def register_backend(backend, array_types):
    """Make ``backend`` the one for arrays of ``array_types`` (classes)."""
    for t in array_types:
        _BY_TYPE[t] = backend
    if backend not in _REGISTERED:
        _REGISTERED.append(backend)


def unregister_backend(backend):
    """Forget ``backend`` (tests that register a temporary one)."""
    for t in [t for t, b in _BY_TYPE.items() if b is backend]:
        del _BY_TYPE[t]
    if backend in _REGISTERED:
        _REGISTERED.remove(backend)


def backend_of(array):
    """The backend owning ``array`` (NumPy's for NumPy arrays and scalars)."""
    b = _BY_TYPE.get(array.__class__)
    if b is not None:
        return b
    for t, b in _BY_TYPE.items():
        if isinstance(array, t):
            return b
    return DEFAULT


def xp_of(array):
    """The array module for ``array``: ``numpy`` for host arrays, the backend's otherwise."""
    return backend_of(array).xp


def empty_on(array, shape, dtype):
    """An uninitialised array of ``shape``/``dtype`` on ``array``'s backend (shape rules)."""
    return backend_of(array).xp.empty(shape, dtype)


def for_device(device_type):
    """The backend serving ``device_type`` ("cpu", "meta", ...); None if there is none."""
    for b in _REGISTERED:
        if b.device_type == device_type:
            return b
    if device_type == "cuda":
        # NOTE [ The CUDA backend ] (cupy_backend.py): CuPy is imported on the first request
        # for a cuda device, never by `import ember`; a failed load is remembered.
        from ember._backends import cupy_backend

        if cupy_backend.load():
            return cupy_backend
    return None


def device_mismatch(backends, name):
    """PyTorch's error for operands on two devices: "... found at least two devices, cuda:0
    and cpu! (when checking arguments for add)" (the accelerator named first, with its
    index, as PyTorch names it)."""
    def label(b):
        index = getattr(b, "current_index", None)
        return f"{b.device_type}:{index()}" if index is not None else b.device_type
    names = sorted({label(b) for b in backends}, key=lambda n: (n == "cpu", n))
    return RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                        f"two devices, {names[0]} and {names[1]}! (when checking arguments "
                        f"for {name})")


class _Kernels:
    """Backend kernels (``erf``, ``masked_select_zero``, ``scatter_add``, ...) dispatched on
    the backend of the call's first array argument, so a record's forward names the kernel
    once and runs it on whatever device its inputs live: ``KERNELS.erf(x)``."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            for a in args:
                b = _BY_TYPE.get(a.__class__)
                if b is not None:
                    return getattr(b, name)(*args, **kwargs)
            return getattr(DEFAULT, name)(*args, **kwargs)

        call.__name__ = name
        setattr(self, name, call)  # built once per kernel name
        return call


KERNELS = _Kernels()
