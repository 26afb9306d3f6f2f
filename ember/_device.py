"""Device objects: the CPU and the data-less ``meta`` device; CUDA waits for its backend."""

from __future__ import annotations


class device:
    """``ember.device("cpu")``; ``"cuda"`` raises until the CuPy backend exists."""

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


def set_default_device(d) -> None:
    """Set the device factory functions use when none is given (None means the CPU)."""
    _DEFAULT[0] = CPU if d is None else check_device(d, routed=True)


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

    if for_device(d.type) is None:
        raise RuntimeError(
            f"ember: device '{d}' is not available: no backend serves '{d.type}' in this "
            "process (the CUDA backend needs the 'cuda' extra and a GPU; pass device='cpu').")
    if not routed:
        raise NotImplementedError(f"this operation does not support the '{d.type}' device")
    return d if d.index is not None else device(d.type, 0)
