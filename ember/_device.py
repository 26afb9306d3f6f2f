"""Device objects: the CPU, the data-less ``meta`` device and ``cuda`` (the CuPy backend)."""

from __future__ import annotations


class device:
    """A device: ``ember.device("cpu")``, ``ember.device("cuda:0")``, ``ember.device("cuda", 0)``.

    Making the object never touches the hardware (as in PyTorch); placing data on ``cuda``
    loads the CuPy backend (NOTE [ The CUDA backend ]) or raises a RuntimeError naming the
    ``cuda`` extra.

    Args:
        type: "cpu", "cuda", "meta" or "mps", optionally with ":index"; an int means cuda.
        index: the device index (None: the current one when data is placed).

    Example::

        >>> ember.device("cuda:0")
        device(type='cuda', index=0)
        >>> str(ember.device("cpu"))
        'cpu'
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() expected a string or device, got {type!r}")
        if ":" in type:
            type, idx = type.split(":", 1)
            if index is not None:
                raise RuntimeError("device string with an index and a separate index given")
            try:
                index = int(idx)
            except ValueError:
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'") from None
        if type not in ("cpu", "cuda", "meta", "mps"):
            raise RuntimeError(
                "Expected one of cpu, cuda, meta, mps device type at start of device string: "
                f"{type}")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    # ``with ember.device("meta"):`` makes it the default device of factory functions.
    def __enter__(self):
        _DEFAULT.append(check_device(self, routed=True))
        return self

    def __exit__(self, *exc):
        _DEFAULT.pop()
        return False


CPU = device("cpu")
META = device("meta")
_DEFAULT = [CPU]  # the default device stack: set_default_device sets the bottom entry


def get_default_device() -> device:
    """The device factory functions use when none is given (``torch.get_default_device``)."""
    return _DEFAULT[-1]


def set_default_device(device) -> None:
    """Set the device factory functions use when none is given (None means the CPU)."""
    _DEFAULT[0] = CPU if device is None else check_device(device, routed=True)


def factory_device(d) -> device:
    """A factory function's ``device=`` argument, with the default device for None."""
    if d is None:
        return _DEFAULT[-1]
    return check_device(d, routed=True)


def check_device(d, routed=False) -> device:
    """Normalise a device argument; reject devices this build cannot run on.

    ``routed``: the caller places its result on the device (factories, ``to``); other
    callers only accept the CPU. A device type is available when a backend serves it
    (``ember._backends.for_device``): the CPU and ``meta`` always, others once registered.
    """
    if d is None or d is CPU:
        return CPU
    d = device(d)
    if d.type == "cpu":
        return CPU
    if d.type == "meta":
        if routed:
            return META
        raise NotImplementedError("this operation does not support the 'meta' device")
    from ember._backends import for_device

    b = for_device(d.type)
    if b is None:
        why = ""
        if d.type == "cuda":
            from ember._backends import cupy_backend

            reason = cupy_backend.unavailable_reason() or ""
            if not reason.startswith("CuPy is not installed"):  # CuPy there, no GPU: say why
                why = f" {reason}."
        raise RuntimeError(
            f"ember: device '{d}' is not available: no backend serves '{d.type}' in this "
            "process (the CUDA backend needs the 'cuda' extra and a GPU; pass "
            f"device='cpu').{why}")
    if not routed:
        raise NotImplementedError(f"this operation does not support the '{d.type}' device")
    if d.index is None:
        index = b.current_index() if hasattr(b, "current_index") else 0
        return device(d.type, index)
    if hasattr(b, "check_index"):
        b.check_index(d.index)
    return d


_NO_PINNING = {
    "pin_memory": "Cannot access accelerator device when none is available.",
    "factory": "pin_memory=True requires a CUDA or other accelerator backend; no pinned "
               "memory allocator is available on this system.",
}


def pin_host(array, what="pin_memory"):
    """A copy of host ``array`` in page-locked memory (CUDA's pinned allocator).

    Args:
        array: a host (NumPy) array.
        what: "pin_memory" (``Tensor.pin_memory``) or "factory" (``pin_memory=True`` on a
            creation function): picks PyTorch's error message when there is no CUDA.

    Returns:
        A NumPy array over pinned memory, equal to ``array``.

    Example::

        >>> import numpy as np
        >>> if ember.cuda.is_available():
        ...     assert (pin_host(np.ones(3)) == 1).all()
    """
    from ember._backends import for_device

    b = for_device("cuda")
    if b is None or not hasattr(b, "pinned_empty"):
        raise RuntimeError(_NO_PINNING[what])
    out = b.pinned_empty(array.shape, array.dtype)
    out[...] = array
    return out


def is_pinned_host(array) -> bool:
    """Whether host ``array`` lives in pinned memory; never loads CuPy to answer (memory
    can only be pinned once the CUDA backend is loaded).

    Example::

        >>> import numpy as np
        >>> is_pinned_host(np.ones(3))
        False
    """
    from ember._backends import cupy_backend

    if not cupy_backend._STATE["loaded"]:
        return False
    return cupy_backend.is_pinned(array)
