"""``ember.testing.assert_close``: PyTorch's closeness assertion for tensors and containers."""

from __future__ import annotations

import numpy as np

from ember import _dtype as D
from ember._tensor import Tensor

# PyTorch's default tolerances by dtype: (rtol, atol)
_TOL = {D.float16: (1e-3, 1e-5), D.bfloat16: (1.6e-2, 1e-5), D.float32: (1.3e-6, 1e-5),
        D.float64: (1e-7, 1e-7), D.complex64: (1.3e-6, 1e-5), D.complex128: (1e-7, 1e-7)}


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    from ember._ops.creation import tensor

    return tensor(x)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close (recursively).

    Args:
        actual: the tensor (or number, or container) to check.
        expected: the reference.
        allow_subclasses: accept instances of subclasses (default True).
        rtol: the relative tolerance (default: by dtype).
        atol: the absolute tolerance (default: by dtype).
        equal_nan: count nan as equal to nan (default False).
        check_device: require the same device (default True).
        check_dtype: require the same dtype (default True).
        check_layout: require the same layout (default True).
        check_stride: require the same strides (default False).
        msg: a message (or a function of the default one) for the error.

    Returns:
        None; AssertionError (with a report of the mismatches) when the values differ.

    Example:
        >>> assert_close(ember.tensor([1.0]), ember.tensor([1.0 + 1e-7]))
    """
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    flags = dict(allow_subclasses=allow_subclasses, check_device=check_device,
                 check_dtype=check_dtype, check_layout=check_layout, check_stride=check_stride,
                 msg=msg)
    _number = (bool, int, float, complex)
    if not allow_subclasses and type(actual) is not type(expected) and not (
            isinstance(actual, _number) and isinstance(expected, _number)):
        raise AssertionError(msg or f"Except for Python scalars, type equality is required if "
                             f"allow_subclasses=False, but got {type(actual)} and "
                             f"{type(expected)} instead.")
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != "
                                 f"{len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, **flags)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(actual)} != "
                                 f"{sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         **flags)
        return
    if not isinstance(actual, Tensor) and not isinstance(expected, Tensor):
        if isinstance(actual, (int, float, complex)) and isinstance(expected,
                                                                    (int, float, complex)):
            a, e = _as_tensor(actual).double(), _as_tensor(expected).double()
            return assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, msg=msg)
        if actual != expected:
            raise AssertionError(msg or f"{actual!r} != {expected!r}")
        return
    a, e = _as_tensor(actual), _as_tensor(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                             f"{a.shape} != {e.shape}.")
    for attr, check, get in (("device", check_device, lambda t: t.device),
                             ("layout", check_layout, lambda t: t.layout),
                             ("stride()", check_stride, lambda t: t.stride())):
        if check and get(a) != get(e):
            raise AssertionError(msg or f"The values for attribute '{attr}' do not match: "
                                 f"{get(a)} != {get(e)}.")
    if a.device != e.device:  # check_device=False: compare on the CPU, as PyTorch does
        a, e = a.cpu(), e.cpu()
    if check_dtype and a.dtype is not e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                             f"{a.dtype} != {e.dtype}.")
    if rtol is None:
        rtol, atol = (max(_TOL.get(a.dtype, (0, 0))[i], _TOL.get(e.dtype, (0, 0))[i])
                      for i in (0, 1))
    ad = a.detach()._data
    ed = e.detach()._data
    if a.dtype is D.bfloat16 or e.dtype is D.bfloat16:
        ad, ed = ad.astype(np.float32), ed.astype(np.float32)
    if ad.dtype.kind in "biu" and ed.dtype.kind in "biu":
        bad = ad != ed
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~np.isclose(ad, ed, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bad.any():
        n = int(bad.sum())
        diff = np.abs(ad.astype(np.complex128) - ed.astype(np.complex128)) if ad.size else 0
        with np.errstate(all="ignore"):
            rel = diff / np.abs(ed.astype(np.complex128))
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(msg or (
            f"Tensor-likes are not close!\n\nMismatched elements: {n} / {ad.size} "
            f"({100.0 * n / max(ad.size, 1):.1f}%)\nGreatest absolute difference: "
            f"{np.nanmax(diff):.6g} at index {where} (up to {atol} allowed)\n"
            f"Greatest relative difference: {np.nanmax(rel):.6g} (up to {rtol} allowed)"))


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False):
    """A random tensor of ``shape`` and ``dtype`` with values in [low, high).

    Args:
        *shape: the shape (ints or one sequence).
        dtype: the dtype (required).
        device: the device.
        low: the lowest value (default: by dtype).
        high: the highest value (default: by dtype).
        requires_grad: make it require grad.
        noncontiguous: return a non-contiguous view.

    Returns:
        A new tensor of random values.

    Example:
        >>> t = ember.testing.make_tensor(2, 3, dtype=ember.int64, device='cpu', low=0, high=5)
        >>> t.shape, bool(((t >= 0) & (t < 5)).all())
        (torch.Size([2, 3]), True)
    """
    from ember._random import _gen

    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    g = _gen(None)
    dt = D.to_dtype(dtype)
    lo = -9 if low is None else low
    hi = 9 if high is None else high
    if dt is D.bool_:
        arr = g.random(shape) < 0.5
    elif dt.category == D.INT:
        lo = max(lo, 0) if dt is D.uint8 else lo
        arr = g.integers(int(lo), int(hi), shape)
    else:
        arr = g.uniform(lo, hi, shape)
        if dt.category == D.COMPLEX:
            arr = arr + 1j * g.uniform(lo, hi, shape)
    t = Tensor._wrap(np.asarray(arr).astype(dt.np))
    if noncontiguous and t.numel() > 1:
        t = Tensor._wrap(np.repeat(t._data, 2, axis=-1)[..., ::2])
    if device is not None:
        t = t.to(device)
    if requires_grad:
        t.requires_grad_()
    return t
