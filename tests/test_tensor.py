"""The Tensor object's semantics against PyTorch: dtypes and devices, conversions, the NumPy
bridge, metadata, repr, views and in-place ops, creation ops and errors on bad input.

Where both libraries share an API, a check is written once as ``fn(m)`` and run with
``m = torch`` and ``m = ember``; PyTorch is only the oracle, ember never imports it.
"""

import copy
import operator
import pickle
import re
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]


def _ver(t):
    """A tensor's version counter as an int (PyTorch's ``t._version``)."""
    return t._version


def _np(t):
    """Values of a torch or ember tensor as a NumPy array (bfloat16 widened)."""
    if isinstance(t, torch.Tensor):
        t = t.detach()
        return (t.float() if t.dtype is torch.bfloat16 else t).numpy()
    t = t.detach()
    return (t.float() if t.dtype is ember.bfloat16 else t).numpy()


def assert_same(e, t, *, exact=True):
    """ember tensor ``e`` has torch tensor ``t``'s dtype, shape and values."""
    assert isinstance(e, ember.Tensor), type(e)
    assert repr(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    if exact:
        np.testing.assert_array_equal(_np(e), _np(t))
    else:
        np.testing.assert_allclose(_np(e), _np(t), rtol=1e-6, atol=1e-6)


def both(fn, *, exact=True):
    """Run ``fn(torch)`` and ``fn(ember)``; compare tensors, exceptions or plain values."""
    try:
        want = fn(torch)
    except Exception as exc:  # torch refused: ember must refuse with the same type
        assert not isinstance(exc, (AttributeError, NameError)), f"bad test: {exc!r}"
        with pytest.raises(type(exc)):
            fn(ember)
        return
    got = fn(ember)
    if isinstance(want, torch.Tensor):
        assert_same(got, want, exact=exact)
    elif isinstance(want, torch.dtype):
        assert repr(got) == str(want)
    elif isinstance(want, torch.Size):
        assert isinstance(got, ember.Size) and tuple(got) == tuple(want)
    else:
        assert got == want and type(got) is type(want), (got, want)


@pytest.fixture
def float64_default():
    """Run a test with float64 as the default dtype in ember and torch; always restore."""
    prev_e, prev_t = ember.get_default_dtype(), torch.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        ember.set_default_dtype(prev_e)
        torch.set_default_dtype(prev_t)


# =========================================================================== dtypes, devices
@pytest.mark.parametrize("name", NAMES)
def test_dtype_objects(name):
    d, td = getattr(ember, name), getattr(torch, name)
    assert repr(d) == str(d) == str(td)
    assert d.is_floating_point == td.is_floating_point
    assert d.is_complex == td.is_complex
    assert d.is_signed == td.is_signed
    assert d.itemsize == td.itemsize
    assert ember.zeros(2, dtype=d).dtype is d
    assert ember.zeros(2, dtype=d).element_size() == torch.zeros(2, dtype=td).element_size()


@pytest.mark.parametrize("alias", ["float", "double", "half", "long", "int", "short", "cfloat",
                                   "cdouble"])
def test_dtype_aliases(alias):
    assert repr(getattr(ember, alias)) == str(getattr(torch, alias))


def test_devices():
    cpu = ember.device("cpu")
    assert cpu.type == "cpu" and cpu.index is None
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    assert cpu == ember.device("cpu") and cpu == "cpu" and hash(cpu) == hash(ember.device("cpu"))
    assert ember.zeros(2).device == cpu
    assert ember.zeros(2, device="cpu").device == cpu
    assert ember.zeros(2, device=cpu).is_cpu and not ember.zeros(2).is_cuda
    assert str(ember.device("cuda", 1)) == "cuda:1"  # describing a device is fine...
    with pytest.raises(RuntimeError):
        ember.device("tpu")


@pytest.mark.parametrize("make", [
    lambda: ember.zeros(2, device="cuda"),
    lambda: ember.tensor([1.0], device="cuda:0"),
    lambda: ember.ones(2).cuda(),
    lambda: ember.ones(2).to("cuda"),
    lambda: ember.ones(2).to(ember.device("cuda")),
    lambda: ember.ones(2).to(device="cuda", dtype=ember.float64),
    lambda: ember.arange(3, device="cuda"),
    lambda: ember.ones(2).type("torch.cuda.FloatTensor"),
])
@pytest.mark.skipif(ember.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_is_a_clear_error(make):
    # ...but allocating on it is not, without CuPy and a GPU.
    with pytest.raises(RuntimeError, match="cuda.*not available"):
        make()


def test_default_dtype(float64_default):
    assert ember.get_default_dtype() is ember.float64
    for fn in (lambda m: m.tensor([1.5]), lambda m: m.zeros(2), lambda m: m.arange(0.0, 3),
               lambda m: m.tensor([1j]), lambda m: m.rand(2), lambda m: m.full((2,), 1.5),
               lambda m: m.linspace(0, 1, 3), lambda m: m.tensor([1, 2]).exp()):
        both(lambda m: fn(m).dtype)


def test_default_dtype_is_float32_and_restored():
    assert ember.get_default_dtype() is ember.float32
    assert ember.tensor([1.0]).dtype is ember.float32
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)
    assert ember.get_default_dtype() is ember.float32


def test_to_variants():
    t = ember.ones(2)
    assert t.to(ember.float32) is t and t.to("cpu") is t and t.cpu() is t
    assert t.to(ember.device("cpu")) is t
    c = t.to(ember.float32, copy=True)
    assert c is not t and not np.shares_memory(c.numpy(), t.numpy())
    assert t.to(ember.float64).dtype is ember.float64
    assert t.to("cpu", ember.float16).dtype is ember.float16
    assert t.to(device="cpu", dtype=ember.int8).dtype is ember.int8
    assert t.to(ember.zeros(1, dtype=ember.int32)).dtype is ember.int32
    assert t.type_as(ember.zeros(1, dtype=ember.uint8)).dtype is ember.uint8
    x = ember.tensor([1.7, -1.7])
    np.testing.assert_array_equal(x.to(ember.int64).numpy(), [1, -1])  # truncation
    with pytest.raises(TypeError):
        t.to(ember.float32, bogus=1)


@pytest.mark.parametrize("method", ["float", "double", "half", "bfloat16", "long", "int",
                                    "short", "char", "byte", "bool", "cfloat", "cdouble"])
def test_conversion_methods(method):
    both(lambda m: getattr(m.tensor([0.0, 1.5, -2.0]), method)())
    both(lambda m: getattr(m.tensor([0.0, 1.5, -2.0]), method)().type())


def test_type_strings():
    t = ember.ones(2)
    assert t.type() == "torch.FloatTensor"
    assert t.type("torch.LongTensor").dtype is ember.int64
    assert t.type(ember.float64).type() == "torch.DoubleTensor"
    assert ember.typename(t.long()) == "torch.LongTensor"
    with pytest.raises(ValueError, match="invalid type"):
        t.type("torch.BogusTensor")


@pytest.mark.parametrize("name", NAMES)
def test_item_and_tolist(name):
    both(lambda m: m.tensor(1, dtype=getattr(m, name)).item())
    both(lambda m: m.tensor([[1, 0], [1, 1]], dtype=getattr(m, name)).tolist())
    both(lambda m: m.tensor([1], dtype=getattr(m, name)).tolist())


def test_python_number_protocols():
    for fn in (lambda m: float(m.tensor(2.5)), lambda m: int(m.tensor([2.7])),
               lambda m: int(m.tensor(-2.7)), lambda m: bool(m.tensor([0])),
               lambda m: bool(m.tensor(0.5)), lambda m: complex(m.tensor(1.5)),
               lambda m: [10, 20, 30][m.tensor(1)], lambda m: [10, 20][m.tensor([1])],
               lambda m: range(10)[m.tensor(3, dtype=m.int8)], lambda m: f"{m.tensor(2.5):.2f}",
               lambda m: len(m.zeros(3, 2)), lambda m: m.tensor(2.0).item(),
               # errors: each must be torch's exception type
               lambda m: float(m.tensor([1.0, 2.0])), lambda m: int(m.zeros(0)),
               lambda m: bool(m.tensor([1, 2])), lambda m: bool(m.tensor([])),
               lambda m: m.tensor([1.0, 2.0]).item(), lambda m: [1, 2][m.tensor(1.0)],
               lambda m: [1, 2][m.tensor([0, 1])], lambda m: len(m.tensor(1)),
               lambda m: iter(m.tensor(1))):
        both(fn)


def test_iteration():
    rows = list(ember.tensor([[1, 2], [3, 4]]))
    assert len(rows) == 2 and all(isinstance(r, ember.Tensor) for r in rows)
    assert rows[1].tolist() == [3, 4]
    rows[0][0] = 9  # rows are views
    assert [x.item() for x in ember.tensor([5, 6])] == [5, 6]
    assert 3 in ember.tensor([1, 2, 3]) and 7 not in ember.tensor([1, 2, 3])


def test_legacy_constructor_pickle_and_copy():
    both(lambda m: m.Tensor([1, 2]))
    both(lambda m: m.Tensor(2, 3).shape)
    both(lambda m: m.Tensor().shape)
    t = ember.arange(6.0).reshape(2, 3)[:, 1:].requires_grad_()
    for c in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert c.tolist() == t.tolist() and c.requires_grad and c.is_leaf
        assert not np.shares_memory(c.detach().numpy(), t.detach().numpy())
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(t * 2)


def test_grad_setter_checks():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        x.grad = ember.ones(3)
    with pytest.raises(RuntimeError):
        x.grad = ember.ones(2, dtype=ember.float64)
    with pytest.raises(TypeError):
        x.grad = [1.0, 2.0]
    x.grad = ember.full((2,), 3.0)
    assert x.grad.tolist() == [3, 3]
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


# =========================================================================== NumPy bridge
def test_from_numpy_shares_memory_both_ways():
    a = np.zeros(3, np.float32)
    t = ember.from_numpy(a)
    assert t.dtype is ember.float32
    t[0] = 5
    a[1] = 7
    t.add_(1)
    np.testing.assert_array_equal(a, [6, 8, 1])
    np.testing.assert_array_equal(t.numpy(), [6, 8, 1])
    assert np.shares_memory(t.numpy(), a)
    assert t.numpy() is t.numpy()  # zero copy: the same array every time


@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64, np.int8, np.int16,
                                np.int32, np.int64, np.uint8, np.bool_, np.complex64,
                                np.complex128])
def test_from_numpy_keeps_dtype(dt):
    a = np.ones((2, 3), dt)
    assert repr(ember.from_numpy(a).dtype) == str(torch.from_numpy(a).dtype)
    assert ember.from_numpy(a).stride() == torch.from_numpy(a).stride()


def test_numpy_of_a_view_shares_memory():
    x = ember.arange(6.0).reshape(2, 3)
    xt = x.T.numpy()
    xt[0, 1] = 100
    assert x[1, 0].item() == 100
    s = ember.from_numpy(np.arange(6.0)[::2])  # strided arrays share memory too
    assert s.stride() == (2,)
    s[1] = -1
    assert s.tolist() == [0, -1, 4]


def test_tensor_copies_and_as_tensor_shares():
    a = np.arange(6.0).reshape(2, 3)
    c = ember.tensor(a)
    c[0, 0] = -1
    assert a[0, 0] == 0
    s = ember.as_tensor(a)
    s[0, 0] = 100
    assert a[0, 0] == 100
    assert ember.asarray(a).numpy() is a or np.shares_memory(ember.asarray(a).numpy(), a)
    f32 = ember.as_tensor(a, dtype=ember.float32)  # conversion needs a copy
    f32[0, 1] = 55
    assert a[0, 1] == 1
    t = ember.ones(2)
    assert ember.as_tensor(t) is t
    assert ember.as_tensor([1, 2]).dtype is ember.int64


def test_numpy_refuses_requires_grad():
    x = ember.ones(2, requires_grad=True)
    msg = "Can't call numpy\\(\\) on Tensor that requires grad"
    with pytest.raises(RuntimeError, match=msg):
        x.numpy()
    with pytest.raises(RuntimeError, match=msg):
        np.asarray(x)  # __array__ must not silently drop the graph either
    np.testing.assert_array_equal(x.detach().numpy(), [1, 1])
    assert x.numpy(force=True) is not None


def test_numpy_and_scipy_accept_tensors():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    scipy_special = pytest.importorskip("scipy.special")
    t = ember.tensor([3.0, 4.0])
    assert scipy_linalg.norm(t) == pytest.approx(5.0)
    np.testing.assert_allclose(scipy_special.expit(ember.zeros(2)), [0.5, 0.5])
    np.testing.assert_array_equal(np.asarray(t), [3, 4])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.concatenate([t, t]), [3, 4, 3, 4])
    assert np.transpose(ember.ones(2, 3)).shape == (3, 2)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "eq", "lt", "pow"])
def test_ndarray_on_the_left_gives_a_tensor(op):
    # The array acts like a dimensioned tensor of its dtype. (torch itself only manages some
    # of these: NumPy's own operator sees a sequence and fails; ember's __array_priority__
    # makes NumPy defer to the reflected Tensor operator.)
    f = getattr(operator, op)
    a = np.array([1.0, 2.0])
    got = f(a, ember.tensor([2.0, 4.0]))
    assert_same(got, f(torch.from_numpy(a), torch.tensor([2.0, 4.0])), exact=False)
    got = f(np.array([1, 2], np.int32), ember.tensor([2, 4], dtype=ember.int16))
    want = f(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([2, 4], dtype=torch.int16))
    assert_same(got, want, exact=False)


def test_numpy_scalar_operands():
    for fn in (lambda m: m.ones(2) * np.float64(2.0), lambda m: np.float64(2.0) * m.ones(2),
               lambda m: m.ones(2, dtype=m.int32) + np.int64(3)):
        both(fn)


def test_from_numpy_bad_input():
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])
    with pytest.raises(ValueError, match="byte order"):
        ember.from_numpy(np.zeros(2, ">f4"))
    with pytest.raises(TypeError):
        ember.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError):  # sharing needs an exact element type; ember lacks uint16
        ember.from_numpy(np.zeros(2, np.uint16))


def test_unsigned_numpy_arrays_widen():
    # torch has (barely supported) uint16/32/64; ember widens to a signed type holding them.
    t = ember.tensor(np.array([1, 65535], np.uint16))
    assert t.dtype is ember.int32 and t.tolist() == [1, 65535]
    assert ember.tensor(np.array([2**32 - 1], np.uint32)).tolist() == [2**32 - 1]
    assert (t + 1).tolist() == [2, 65536]


# =========================================================================== metadata
def test_size_object():
    s = ember.Size([2, 3])
    assert repr(s) == str(s) == "torch.Size([2, 3])"
    assert repr(ember.Size([])) == "torch.Size([])"
    assert s == (2, 3) and isinstance(s, tuple)
    assert s.numel() == 6
    for r in (s[1:], s + (4,), (1,) + s, s * 2):
        assert isinstance(r, ember.Size)
    assert (1,) + s == (1, 2, 3)
    assert ember.zeros(s).shape == s


def _strides(x, dim=None):
    # Strides of size-1 dims are arbitrary (they never change addressing or contiguity), and
    # NumPy picks other values than PyTorch for dims made by None-indexing.
    st = [s if n != 1 else None for s, n in zip(x.stride(), x.shape)]
    return st if dim is None else st[dim]


METADATA = [
    lambda m, x: x.shape, lambda m, x: x.size(), lambda m, x: x.size(1),
    lambda m, x: x.size(-1), lambda m, x: x.dim(), lambda m, x: x.ndim,
    lambda m, x: x.numel(), lambda m, x: x.nelement(), lambda m, x: _strides(x),
    lambda m, x: _strides(x, -1), lambda m, x: x.is_contiguous(),
    lambda m, x: x.storage_offset(), lambda m, x: x.element_size(),
    lambda m, x: x.is_floating_point(), lambda m, x: x.is_complex(),
    lambda m, x: x.size(5), lambda m, x: x.stride(-5),
]
VIEWS = [
    lambda x: x, lambda x: x.transpose(0, 2), lambda x: x[1, 1:], lambda x: x[:, :, 2],
    lambda x: x[:, ::2], lambda x: x.permute(2, 0, 1), lambda x: x[..., None, 1],
    lambda x: x[:1].expand(5, 3, 4), lambda x: x.unsqueeze(1), lambda x: x[1:, 2:].contiguous(),
    lambda x: x.narrow(2, 1, 2), lambda x: x[:, :1].squeeze(1),
    lambda x: x.reshape(6, 4), lambda x: x.transpose(0, 1).reshape(-1),
    lambda x: x[0, :0], lambda x: x.mT, lambda x: x[:, :, :1].mT,
]


@pytest.mark.parametrize("view", range(len(VIEWS)))
def test_metadata_matches_torch(view):
    for meta in METADATA:
        both(lambda m: meta(m, VIEWS[view](m.zeros(2, 3, 4))))


def test_metadata_of_empty_and_0_dim():
    for shape in [(), (0,), (0, 3), (3, 0), (2, 0, 1)]:
        for meta in METADATA[:15]:
            both(lambda m: meta(m, m.zeros(shape)) if shape else meta(m, m.tensor(1.0)))


def test_contiguous_and_transposes():
    x = ember.zeros(2, 3)
    assert x.contiguous() is x
    y = x.T.contiguous()
    assert y.is_contiguous() and y.shape == (3, 2) and y.stride() == (2, 1)
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert ember.zeros(2, 3, 4).mT.shape == (2, 4, 3)
    assert ember.zeros(2, 3, 4).T.shape == (4, 3, 2)
    assert ember.zeros(3).T.shape == (3,)
    with pytest.raises(RuntimeError, match="mT"):
        ember.zeros(3).mT
    with pytest.raises(RuntimeError):
        ember.zeros(2, 3, 4).t()


# =========================================================================== repr
def _repr_cases():
    rng = np.random.default_rng(0)
    yield np.array([1.0, 2.5, -3.0], np.float32)
    yield np.array(1.5, np.float32)
    yield np.array(3)
    yield np.array(True)
    yield np.arange(6).reshape(2, 3)
    yield rng.standard_normal((3, 4)).astype(np.float32)
    yield rng.standard_normal((2, 2, 3))
    yield (rng.standard_normal(5) * 1e6).astype(np.float32)
    yield np.array([1e-8, 1.0], np.float64)
    yield np.array([[True, False]])
    yield np.array([1 + 2j, -0.5j], np.complex64)
    yield np.array([1 + 2j], np.complex128)
    yield np.arange(2000, dtype=np.float32).reshape(40, 50)
    yield np.arange(3000)
    for dt in (np.float16, np.int8, np.int16, np.int32, np.uint8):
        yield np.array([[1, 2], [3, 4]], dt)
    for dt in (np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8,
               np.bool_, np.complex64, np.complex128):
        for shape in ((0,), (0, 3), (2, 0, 1)):
            yield np.zeros(shape, dt)


REPR_CASES = list(_repr_cases())


@pytest.mark.parametrize("i", range(len(REPR_CASES)))
def test_repr_matches_torch(i):
    a = REPR_CASES[i]
    assert repr(ember.from_numpy(a)) == repr(torch.from_numpy(a))
    assert str(ember.from_numpy(a)) == str(torch.from_numpy(a))


@pytest.mark.parametrize("shape", [(3,), (), (0,), (2, 0)])
def test_repr_bfloat16(shape):
    a = np.linspace(-2, 2, int(np.prod(shape))).reshape(shape).astype(np.float32)
    assert repr(ember.from_numpy(a).bfloat16()) == repr(torch.from_numpy(a).bfloat16())


def test_repr_with_default_float64(float64_default):
    for a in (np.array([1.5], np.float32), np.array([1.5]), np.zeros(0), np.zeros(0, np.float32),
              np.array([1j], np.complex64), np.array([1j]), np.zeros((0, 2), np.complex128)):
        assert repr(ember.from_numpy(a)) == repr(torch.from_numpy(a))


def test_repr_requires_grad_and_grad_fn():
    a = np.array([1.0, 2.0], np.float32)
    e = ember.from_numpy(a.copy()).requires_grad_()
    t = torch.from_numpy(a.copy()).requires_grad_()
    assert repr(e) == repr(t)
    assert repr(ember.zeros(0, requires_grad=True)) == repr(torch.zeros(0, requires_grad=True))
    e64 = ember.ones(2, dtype=ember.float64, requires_grad=True)
    assert repr(e64) == repr(torch.ones(2, dtype=torch.float64, requires_grad=True))
    pattern = re.compile(r"grad_fn=<\w*Backward\w*>\)$")
    for y_e, y_t in ((e * 2, t * 2), (e.sum(), t.sum()), (e64[0], None)):
        assert pattern.search(repr(y_e)), repr(y_e)
        if y_t is not None:  # everything before the node name is identical
            assert repr(y_e).split("grad_fn=")[0] == repr(y_t).split("grad_fn=")[0]
    assert repr(e64 * 2).endswith(", dtype=torch.float64, grad_fn=<MulBackward0>)")
    with ember.no_grad():
        assert repr(e * 2) == "tensor([2., 4.])"


# =========================================================================== views
VIEW_FNS = {
    "view": lambda b: b.view(12), "view_as": lambda b: b.view_as(b),
    "reshape": lambda b: b.reshape(4, 3), "slice": lambda b: b[1:, ::2],
    "int_index": lambda b: b[1], "ellipsis": lambda b: b[..., 1], "none": lambda b: b[None, 1:],
    "t": lambda b: b.t(), "T": lambda b: b.T, "mT": lambda b: b.mT,
    "transpose": lambda b: b.transpose(0, 1), "permute": lambda b: b.permute(1, 0),
    "movedim": lambda b: b.movedim(0, 1), "squeeze": lambda b: b[None].squeeze(0),
    "unsqueeze": lambda b: b.unsqueeze(1), "narrow": lambda b: b.narrow(1, 1, 2),
    "select": lambda b: b.select(1, 2), "unbind": lambda b: b.unbind(0)[1],
    "split": lambda b: b.split(2, 1)[1], "chunk": lambda b: b.chunk(2, 0)[1],
    "detach": lambda b: b.detach(), "flatten": lambda b: b.flatten(),
    "unflatten": lambda b: b.unflatten(1, (2, 2)), "view_dtype": lambda b: b.view(ember.int32),
}


@pytest.mark.parametrize("name", sorted(VIEW_FNS))
def test_views_share_memory_both_ways(name):
    b = ember.arange(12.0).reshape(3, 4)
    v = VIEW_FNS[name](b)
    assert np.shares_memory(v.numpy(), b.numpy())
    v0 = _ver(b)
    v[(0,) * v.dim()] = 7  # write through the view...
    assert (b.view(ember.int32) == 7).any() if name == "view_dtype" else (b == 7).any()
    assert _ver(b) > v0 and _ver(v) == _ver(b)  # one version counter per memory
    b.mul_(0).add_(-1)  # ...and through the base
    if name != "view_dtype":
        assert (v == -1).all()


def test_expand_shares_memory():
    b = ember.zeros(1, 3)
    v = b.expand(4, 3)
    assert v.stride() == (0, 1)
    b[0, 1] = 5
    assert v[:, 1].tolist() == [5, 5, 5, 5]
    # Several elements alias one location: torch raises for vectorised in-place writes.
    with pytest.raises(RuntimeError):
        v.exp_()
    with pytest.raises(RuntimeError, match="single memory location"):
        v[0, 0] = 1.0
    assert b.tolist() == [[0, 5, 0]]


def test_binary_inplace_on_expanded_raises_runtime_error():
    v = ember.zeros(1, 3).expand(4, 3)
    with pytest.raises(RuntimeError):
        v.add_(1)


def test_reshape_copies_when_it_must():
    b = ember.arange(6.0).reshape(2, 3)
    r = b.T.reshape(6)
    assert not np.shares_memory(r.numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        b.T.view(6)


# =========================================================================== in-place ops
INPLACE = {
    "add_": lambda m, v: v.add_(1), "sub_": lambda m, v: v.sub_(2, alpha=2),
    "mul_": lambda m, v: v.mul_(3), "div_": lambda m, v: v.div_(4),
    "zero_": lambda m, v: v.zero_(), "fill_": lambda m, v: v.fill_(2.5),
    "copy_": lambda m, v: v.copy_(m.ones(v.shape) * 9), "clamp_": lambda m, v: v.clamp_(1, 5),
    "exp_": lambda m, v: v.exp_(), "relu_": lambda m, v: v.sub_(5).relu_(),
    "masked_fill_": lambda m, v: v.masked_fill_(v > 5, -3.0),
    "iadd": lambda m, v: v.__iadd__(10), "imul": lambda m, v: v.__imul__(m.tensor(2.0)),
    "setitem_int": lambda m, v: v.__setitem__(0, 4.0),
    "setitem_slice": lambda m, v: v.__setitem__((slice(None), 1), m.tensor(3.0)),
    "setitem_advanced": lambda m, v: v.__setitem__(([0, 1], [1, 0]), m.tensor([8.0, 9.0])),
    "setitem_mask": lambda m, v: v.__setitem__(v > 5, 0.5),
    "setitem_tensor_index": lambda m, v: v.__setitem__(m.tensor([1]), 6.0),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_through_view_matches_torch(name):
    def run(m):
        base = m.arange(12.0).reshape(3, 4)
        v = base[1:, 1:3]  # a non-contiguous view
        before = _ver(base)
        out = INPLACE[name](m, v)
        assert _ver(base) > before and _ver(v) == _ver(base)
        if not name.startswith("setitem"):
            assert out is v  # in-place methods return self
        return base

    assert_same(run(ember), run(torch), exact=False)


def test_version_counter_counts_inplace_ops():
    t = ember.zeros(4)
    assert _ver(t) == 0
    t.add_(1)
    t[0] = 2
    t.mul_(3)
    t += 1
    assert _ver(t) == 4
    t + 1  # out-of-place ops leave it alone
    assert _ver(t) == 4


def test_version_attribute_is_an_int():
    t = ember.zeros(2)
    t.add_(1)
    assert t._version == 1


def test_modified_saved_tensor_makes_backward_raise():
    msg = "modified by an inplace operation"
    x = ember.ones(3, requires_grad=True)
    y = x.sigmoid()
    y.mul_(2)
    with pytest.raises(RuntimeError, match=msg):
        y.sum().backward()
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    z = y * y
    y[0] = 5
    with pytest.raises(RuntimeError, match=msg):
        z.sum().backward()
    # exp saves its output, not its input: changing the input afterwards is fine (as torch).
    x = ember.ones(3, requires_grad=True)
    y = x * 1
    z = y.exp()
    y.add_(1)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, np.e), rtol=1e-6)


@pytest.mark.parametrize("op", [lambda x: x.add_(1), lambda x: x.__setitem__(0, 1.0),
                                lambda x: x[:2].mul_(2), lambda x: x.zero_(),
                                lambda x: x.fill_(1.0), lambda x: x.copy_(ember.zeros(3))])
def test_inplace_on_leaf_requiring_grad_raises(op):
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        op(x)
    assert x.tolist() == [1, 1, 1] and _ver(x) == 0
    with ember.no_grad():  # allowed without recording (e.g. optimizer steps)
        op(x)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


@pytest.mark.parametrize("fn", [
    lambda m: m.ones(3, dtype=m.int64).add_(1.5),
    lambda m: m.ones(3, dtype=m.int64).mul_(1.5),
    lambda m: m.ones(3, dtype=m.int64).div_(2),
    lambda m: m.ones(3, dtype=m.bool).add_(1),
    lambda m: m.ones(3, dtype=m.int32).add_(m.ones(3)),
    lambda m: m.ones(3).add_(1j),
    lambda m: m.ones(3, dtype=m.int64).exp_(),
    lambda m: m.ones(3, dtype=m.int64).__iadd__(0.5),
])
def test_inplace_result_that_cannot_be_cast_raises(fn):
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        fn(ember)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        fn(torch)


def test_failed_cast_leaves_tensor_untouched():
    t = ember.ones(3, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        t.add_(1.5)
    assert t.tolist() == [1, 1, 1] and _ver(t) == 0


def test_inplace_casts_that_are_allowed():
    for fn in (lambda m: m.ones(3).add_(m.ones(3, dtype=m.float64)),
               lambda m: m.ones(3, dtype=m.float16).mul_(m.tensor(2.5, dtype=m.float64)),
               lambda m: m.ones(3, dtype=m.int16).add_(m.ones(3, dtype=m.int64)),
               lambda m: m.ones(3, dtype=m.int8).copy_(m.tensor([1.7, -2.5, 300.0])[:2].sum()
                                                      .expand(3)),
               lambda m: m.zeros(2, dtype=m.float32).fill_(True)):
        both(fn)


def test_inplace_on_non_leaf_views_backward_matches_torch():
    w = np.arange(6.0).reshape(2, 3)

    def run(m, body):
        a = m.arange(6.0).reshape(2, 3).requires_grad_()
        x = a.clone()
        body(m, x)
        (x * m.tensor(w)).sum().backward()
        return a.grad

    bodies = [
        lambda m, x: x[:, 0].mul_(2),
        lambda m, x: x[1].exp_(),
        lambda m, x: x.__setitem__(x > 2, 0.0),
        lambda m, x: x.__setitem__(([0, 1], [1, 2]), m.tensor([7.0, 8.0])),
        lambda m, x: x[0].add_(x[1].detach()),
        lambda m, x: x.t()[1:].clamp_(max=2.5),
    ]
    for body in bodies:
        assert_same(run(ember, body), run(torch, body), exact=False)


def test_setitem_with_a_value_requiring_grad():
    def run(m):
        a = m.arange(6.0).reshape(2, 3).requires_grad_()
        w = m.ones(3, requires_grad=True)
        x = a * 1
        x[0] = w * 3
        (x * x).sum().backward()
        return a.grad, w.grad

    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)


# =========================================================================== creation ops
@pytest.mark.parametrize("data", [
    [[1, 2], [3, 4]], [1, 2.5], [True, False], [1, 2j], [True, 2], [True, 2.0], (1, 2),
    3, 2.5, True, 1 + 1j, [], [[]], [[1.0], [2.0]], range(3),
    np.float64(2), np.int16(3), np.bool_(True), np.float32(1.5),
    [np.float64(1), 1.0], [np.int32(1), 2], [np.int32(1), 2.5], [np.uint8(1), np.int8(1)],
    [np.float16(1), 2], np.array([1, 2], np.int32), np.array([[1.5]]),
])
def test_tensor_infers_dtype_like_torch(data):
    both(lambda m: m.tensor(data))


def test_tensor_from_tensors():
    both(lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]))
    both(lambda m: m.tensor([m.tensor(1, dtype=m.int32), 2]))
    both(lambda m: m.tensor([m.tensor(1.0, dtype=m.float64), 2.5]))
    both(lambda m: m.tensor([m.tensor(1.0, dtype=m.float16), 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch recommends clone() for tensor(tensor)
        both(lambda m: m.tensor(m.ones(2, dtype=m.int8)))
    src = ember.ones(2)
    copy = ember.tensor(src)
    copy[0] = 5
    assert src.tolist() == [1, 1]


@pytest.mark.parametrize("kwargs", [{"dtype": "int32"}, {"dtype": "float64"},
                                    {"dtype": "bool"}, {"dtype": "uint8"},
                                    {"dtype": "complex64"}, {"requires_grad": True}])
def test_tensor_keywords(kwargs):
    def fn(m):
        kw = dict(kwargs)
        if "dtype" in kw:
            kw["dtype"] = getattr(m, kw["dtype"])
        t = m.tensor([[1.7, -1.7], [0.0, 2.0]], **kw)
        return t.detach() if t.requires_grad else t

    both(fn)
    assert ember.tensor([1.0], requires_grad=True).requires_grad


@pytest.mark.parametrize("data", [
    "abc", [1, "a"], None, [None], object(), {1: 2}, [[1, 2], [3]], [[1, 2], 3],
    [[[1], [2]], [[3]]], 2**63, [2**64], -2**63 - 1,
])
def test_tensor_bad_input_raises_like_torch(data):
    with pytest.raises(Exception) as t_exc:
        torch.tensor(data)
    with pytest.raises(type(t_exc.value)):
        ember.tensor(data)


def test_tensor_bad_input_messages():
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 1\)"):
        ember.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        ember.tensor([1, "a"])
    with pytest.raises(RuntimeError, match="Could not infer dtype of NoneType"):
        ember.tensor([1, None])
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8 without "
                                           "overflow"):
        ember.tensor([300], dtype=ember.uint8)


CREATION = [
    lambda m: m.zeros(2, 3), lambda m: m.zeros((2, 3)), lambda m: m.zeros([2, 3]),
    lambda m: m.zeros(m.Size([2, 3])), lambda m: m.zeros(()), lambda m: m.zeros(0),
    lambda m: m.ones(2, dtype=m.int32), lambda m: m.ones(2, 3, dtype=m.bool),
    lambda m: m.empty(2, 3).shape, lambda m: m.empty((2, 3)).dtype,
    lambda m: m.full((2,), 1), lambda m: m.full((2,), True), lambda m: m.full((2,), 1.5),
    lambda m: m.full((2,), 1j), lambda m: m.full([2], 1.5, dtype=m.int64),
    lambda m: m.full((2,), m.tensor(2.5)),
    lambda m: m.zeros_like(m.ones(2, dtype=m.int32)),
    lambda m: m.ones_like(m.ones(2), dtype=m.float64),
    lambda m: m.full_like(m.ones(2, dtype=m.int32), 2.7),
    lambda m: m.empty_like(m.ones(2, 3, dtype=m.int8)).shape,
    lambda m: m.empty_like(m.ones(2, 3, dtype=m.int8)).dtype,
    lambda m: m.ones(2).new_zeros(3), lambda m: m.ones(2, dtype=m.int8).new_ones((2, 2)),
    lambda m: m.ones(2).new_full((2,), 7), lambda m: m.ones(2).new_tensor([1, 2]),
    lambda m: m.arange(5), lambda m: m.arange(5, 0, -1), lambda m: m.arange(1.0, 2.5, 0.5),
    lambda m: m.arange(0, 5, 2), lambda m: m.arange(0.0, 5), lambda m: m.arange(m.tensor(3)),
    lambda m: m.arange(10, dtype=m.float32), lambda m: m.arange(0, 10, 3, dtype=m.float64),
    lambda m: m.arange(0, 5.5, 1.5, dtype=m.int64), lambda m: m.arange(0.5, 5.2, 1.3,
                                                                       dtype=m.int64),
    lambda m: m.arange(0, 2**62, 2**60), lambda m: m.arange(np.float32(3)),
    lambda m: m.linspace(0, 1, 5), lambda m: m.linspace(0, 10, 5, dtype=m.int64),
    lambda m: m.linspace(0, 1, 1), lambda m: m.linspace(0, 1, 0), lambda m: m.linspace(-1, 1, 7),
    lambda m: m.logspace(0, 2, 3), lambda m: m.logspace(0, 3, 4, base=2),
    lambda m: m.eye(3), lambda m: m.eye(2, 3), lambda m: m.eye(2, dtype=m.bool),
    lambda m: m.eye(0), lambda m: m.scalar_tensor(3), lambda m: m.zeros(2, requires_grad=True),
    # bad input: torch's exception type
    lambda m: m.zeros(-1), lambda m: m.empty(2, -3), lambda m: m.ones(2.5),
    lambda m: m.zeros("x"), lambda m: m.ones((2, 3), 4), lambda m: m.eye(-1),
    lambda m: m.zeros(2, dtype=m.int64, requires_grad=True), lambda m: m.arange(0, 5, 0),
    lambda m: m.arange(5, 0), lambda m: m.arange("a"), lambda m: m.linspace(0, 1, -1),
]


@pytest.mark.parametrize("i", range(len(CREATION)))
def test_creation_ops_match_torch(i):
    # Not bit-exact: torch's linspace kernel rounds differently from NumPy's in float32.
    both(CREATION[i], exact=False)


@pytest.mark.parametrize("args", [(0, 1, 0.1), (-1.0, 1.0, 0.1), (0, 1, 1 / 3), (0.0, 0.9, 0.3),
                                  (1, -1, -0.25), (0, 10, 0.7)])
def test_float_arange_length_and_values(args):
    # torch computes the length as ceil((end - start) / step) in double; values agree to
    # rounding (torch's vectorised kernel rounds a little differently).
    both(lambda m: m.arange(*args), exact=False)
    both(lambda m: m.arange(*args, dtype=m.float64), exact=False)


def test_random_shapes_and_dtypes():
    for fn in (lambda m: m.rand(2, 3).shape, lambda m: m.rand((2, 3)).shape,
               lambda m: m.rand(()).shape, lambda m: m.rand(0).shape, lambda m: m.randn(4).dtype,
               lambda m: m.rand(2, dtype=m.float64).dtype, lambda m: m.randn(2, dtype=m.float16)
               .dtype, lambda m: m.rand(3, dtype=m.bfloat16).dtype,
               lambda m: m.randn(3, dtype=m.complex64).dtype,
               lambda m: m.rand(2, requires_grad=True).requires_grad,
               lambda m: m.randint(5, (2, 2)).shape, lambda m: m.randint(0, 3, (2,)).dtype,
               lambda m: m.randint(2, 5, (3,), dtype=m.int32).dtype,
               lambda m: m.randint(0, 3, (2,), dtype=m.float32).dtype,
               lambda m: m.randint(10, size=(3,)).shape,
               lambda m: m.randint(low=2, high=10, size=(3,)).shape,
               lambda m: m.randperm(5).dtype, lambda m: m.randperm(5, dtype=m.int32).dtype,
               lambda m: m.randperm(0).shape, lambda m: m.rand_like(m.ones(2, dtype=m.float64))
               .dtype, lambda m: m.randint_like(m.ones(2, dtype=m.float64), 5).dtype,
               # bad input
               lambda m: m.rand(2, dtype=m.int64), lambda m: m.randn(2, dtype=m.int32),
               lambda m: m.randn_like(m.ones(2, dtype=m.int64)), lambda m: m.rand(-1),
               lambda m: m.randint(5, 5, (2,)), lambda m: m.randint(3.5, (2,)),
               lambda m: m.randperm(-1)):
        both(fn)


# =========================================================================== bad input
@pytest.mark.parametrize("fn", [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: ember.add(a, b),
    lambda a, b: a == b, lambda a, b: a.add_(b), lambda a, b: ember.maximum(a, b),
])
def test_shape_mismatch_names_op_and_shapes(fn):
    a, b = ember.ones(2, 3), ember.ones(4)
    with pytest.raises(RuntimeError) as exc:
        fn(a, b)
    msg = str(exc.value)
    assert "[2, 3]" in msg and "[4]" in msg, msg
    assert re.match(r"(add|mul|eq|maximum)_?\(?", msg), msg


@pytest.mark.parametrize("fn", [
    lambda m: m.ones(2, 3)[2], lambda m: m.ones(2, 3)[0, 3], lambda m: m.ones(2, 3)[-3],
    lambda m: m.ones(2, 3)[0, 0, 0], lambda m: m.ones(2, 3)[m.tensor([5])],
    lambda m: m.ones(2, 3)[[0, 2]], lambda m: m.ones(2, 3)[m.tensor([1.0])],
    lambda m: m.ones(2, 3)[1.5], lambda m: m.ones(())[0],
    lambda m: m.zeros(3)[m.tensor([True, False])],
    lambda m: m.zeros(2, 3)[m.ones(2, 4, dtype=m.bool)],
    lambda m: m.ones(2, 3).size(2), lambda m: m.ones(2, 3).sum(dim=5),
    lambda m: m.ones(2, 3).transpose(0, 3), lambda m: m.ones(2, 3)[::-1],
])
def test_bad_indices_raise_like_torch(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both(fn)


def test_bad_mask_message():
    with pytest.raises(IndexError, match=r"The shape of the mask \[2\] at index 0 does not "
                                         r"match the shape of the indexed tensor \[3\]"):
        ember.zeros(3)[ember.tensor([True, False])]


@pytest.mark.parametrize("fn", [
    lambda m: m.ones(2) + "x", lambda m: m.add(m.ones(2), "x"), lambda m: m.ones(2) + None,
    lambda m: m.exp(3.0), lambda m: m.exp([1.0]), lambda m: m.ones(2, 3).view("x"),
    lambda m: m.zeros("x"), lambda m: m.ones(2).copy_([1, 2]),
])
def test_wrong_argument_types_raise_type_error(fn):
    with pytest.raises(TypeError):
        fn(torch)
    with pytest.raises(TypeError):
        fn(ember)


@pytest.mark.parametrize("fn", [
    lambda x: x.add_(ember.ones(4)),
    lambda x: x.mul_(ember.ones(2, 3)),
    lambda x: x.__setitem__(5, 1.0),
    lambda x: x.__setitem__([0, 1, 7], ember.tensor([1.0, 2.0, 3.0])),
    lambda x: x.__setitem__(ember.tensor([True, False]), 1.0),
    lambda x: x.__setitem__(slice(None), ember.ones(4)),
    lambda x: x.__setitem__(0, "a"),
    lambda x: x.index_put_((ember.tensor([0, 9]),), ember.tensor([1.0, 2.0])),
    lambda x: x.masked_fill_(ember.ones(3), 1.0),
    lambda x: x.copy_(ember.ones(5)),
    lambda x: x.clamp_(),
])
def test_failed_inplace_leaves_tensor_untouched(fn):
    x = ember.tensor([1.0, 2.0, 3.0])
    with pytest.raises((RuntimeError, IndexError, TypeError, ValueError)):
        fn(x)
    assert x.tolist() == [1.0, 2.0, 3.0] and _ver(x) == 0
    x.add_(1)  # and the tensor is still usable
    assert x.tolist() == [2.0, 3.0, 4.0]
