"""Tests for ember._tensor_str: fixed expectations plus a comparison against torch's repr."""

import importlib.util
import math
import pathlib
import sys

import numpy as np
import pytest

try:
    from ember import _tensor_str as ts
except Exception:  # ember/__init__.py may be mid-edit; load the module file on its own.
    _PATH = pathlib.Path(__file__).resolve().parents[1] / "ember" / "_tensor_str.py"
    _SPEC = importlib.util.spec_from_file_location("ember_tensor_str_standalone", _PATH)
    ts = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(ts)

NAN, INF = float("nan"), float("inf")


@pytest.fixture(autouse=True)
def _default_options():
    """Every test starts and ends with the default print options (torch's too, if loaded)."""
    ts.set_printoptions(profile="default")
    yield
    ts.set_printoptions(profile="default")
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_printoptions(profile="default")


# ---------------------------------------------------------------------------------------------
# (a) Hard-coded expectations, each checked against PyTorch 2.x.
# ---------------------------------------------------------------------------------------------

GRID = np.arange(8.0, dtype=np.float32).reshape(2, 2, 2)
CASES = [
    (np.array([[1.0, 2.0]], np.float32), ["requires_grad=True"],
     "tensor([[1., 2.]], requires_grad=True)"),
    (np.array([1.5, NAN, -0.0], np.float32), [], "tensor([1.5000,    nan, -0.0000])"),
    (np.array([0.0, NAN], np.float32), [], "tensor([0., nan])"),
    (np.array([1.0, -INF], np.float32), [], "tensor([1., -inf])"),
    (np.array([-0.0, 0.0], np.float32), [], "tensor([-0., 0.])"),
    (np.array(1.5, np.float32), [], "tensor(1.5000)"),
    (np.array(NAN, np.float32), [], "tensor(nan)"),
    (np.array([1e-5, 1.0]), ["dtype=torch.float64"],
     "tensor([1.0000e-05, 1.0000e+00], dtype=torch.float64)"),
    (np.array([1e-5, 0.0, -0.0], np.float32), [], "tensor([1.0000e-05, 0.0000e+00, -0.0000e+00])"),
    (np.array([1e8, 1.0], np.float32), [], "tensor([1.0000e+08, 1.0000e+00])"),
    (np.arange(4.0, dtype=np.float32) * 1e10, [],
     "tensor([0.0000e+00, 1.0000e+10, 2.0000e+10, 3.0000e+10])"),
    (np.arange(2000), [], "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (np.array([True, False]), [], "tensor([ True, False])"),
    (np.array([[1, 2], [3, 4]], np.uint8), ["dtype=torch.uint8"],
     "tensor([[1, 2],\n        [3, 4]], dtype=torch.uint8)"),
    (np.array([[1 + 2j, 3 - 0j], [NAN + 1j, 1e5j]], np.complex64), [],
     "tensor([[1.+2.0000e+00j, 3.+0.0000e+00j],\n        [nan+1.0000e+00j, 0.+1.0000e+05j]])"),
    (np.array([1.5, 2.5], np.complex128), ["dtype=torch.complex128"],
     "tensor([1.5000+0.j, 2.5000+0.j], dtype=torch.complex128)"),
    (np.array([1, -0.0 - 0.0j], np.complex64), [], "tensor([1.+0.j, -0.+0.j])"),
    (np.zeros((0, 3), np.float32), ["size=(0, 3)"], "tensor([], size=(0, 3))"),
    (np.zeros(0, np.int64), ["dtype=torch.int64"], "tensor([], dtype=torch.int64)"),
    (np.zeros((2, 0, 3), np.int32), ["size=(2, 0, 3)", "dtype=torch.int32"],
     "tensor([], size=(2, 0, 3), dtype=torch.int32)"),
    (GRID, [],
     "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"),
    (np.full(12, 1.5, np.float16), ["dtype=torch.float16"],
     "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000,\n"
     "        1.5000, 1.5000, 1.5000], dtype=torch.float16)"),
]


@pytest.mark.parametrize("arr, suffixes, expected", CASES)
def test_known_reprs(arr, suffixes, expected):
    assert ts.tensor_repr(arr, suffixes) == expected


def test_nested_rows_wrap_under_their_bracket():
    expected = ("tensor([[[1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000,\n"
                "          1.5000, 1.5000]]])")
    assert ts.tensor_repr(np.full((1, 1, 10), 1.5, np.float32), []) == expected


def test_suffix_moves_to_own_line_when_too_long():
    ts.set_printoptions(linewidth=40)
    expected = ("tensor([ 0.,  1.,  2.,  3.,  4.,  5.,\n         6.,  7.,  8.,  9., 10., 11.,\n"
                "        12., 13., 14., 15.],\n       grad_fn=<MulBackward0>)")
    assert ts.tensor_repr(np.arange(16.0, dtype=np.float32), ["grad_fn=<MulBackward0>"]) == expected


def test_sci_mode_override():
    ts.set_printoptions(sci_mode=True)
    assert (ts.tensor_repr(np.array([1.0, 2.0], np.float32), [])
            == "tensor([1.0000e+00, 2.0000e+00])")
    # Without a finite non-zero value torch never reaches the override.
    assert ts.tensor_repr(np.array([0.0, NAN], np.float32), []) == "tensor([0., nan])"
    ts.set_printoptions(sci_mode=False)
    assert (ts.tensor_repr(np.array([1e-8, 1e10], np.float32), [])
            == "tensor([          0.0000, 10000000000.0000])")


def test_edgeitems_zero_adds_size():
    ts.set_printoptions(edgeitems=0)
    assert (ts.tensor_repr(np.arange(5.0, dtype=np.float32), [])
            == "tensor([0., 1., 2., 3., 4.], size=(5,))")
    assert (ts.tensor_repr(np.arange(2000, dtype=np.int32).reshape(2, 1000), ["dtype=torch.int32"])
            == "tensor([...], size=(2, 1000), dtype=torch.int32)")


def test_custom_prefix_sets_indent():
    assert ts.tensor_repr(np.eye(2, dtype=np.int64), [], prefix="P(") == "P([[1, 0],\n   [0, 1]])"


def test_format_array_and_bfloat16():
    assert ts.format_array(np.array([[1, 2], [3, 4]])) == "[[1, 2],\n [3, 4]]"
    ml_dtypes = pytest.importorskip("ml_dtypes")
    arr = np.array([1.5, -2.0, 3.0], ml_dtypes.bfloat16)
    assert (ts.tensor_repr(arr, ["dtype=torch.bfloat16"])
            == "tensor([ 1.5000, -2.0000,  3.0000], dtype=torch.bfloat16)")


def test_print_options_api():
    assert ts.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                     "linewidth": 80, "sci_mode": None}
    ts.set_printoptions(precision=2, sci_mode=True)
    assert (ts.PRINT_OPTS.precision, ts.PRINT_OPTS.sci_mode) == (2, True)
    assert ts.tensor_repr(np.array([1.0, 2.5], np.float32), []) == "tensor([1.00e+00, 2.50e+00])"
    ts.set_printoptions(linewidth=100)  # like torch, omitting sci_mode resets it
    assert ts.get_printoptions()["sci_mode"] is None
    ts.set_printoptions(profile="full")
    assert ts.get_printoptions()["threshold"] == math.inf
    ts.set_printoptions(profile="no-such-profile")  # ignored, as torch does
    assert ts.get_printoptions()["threshold"] == math.inf
    ts.set_printoptions(profile="short", edgeitems=1)
    assert ts.get_printoptions() == {"precision": 2, "threshold": 1000, "edgeitems": 1,
                                     "linewidth": 80, "sci_mode": None}


# ---------------------------------------------------------------------------------------------
# (b) Differential comparison against torch (skipped when torch is not installed).
# ---------------------------------------------------------------------------------------------

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool", "complex64", "complex128"]
OPTION_SETS = [
    {}, {"precision": 2}, {"linewidth": 40}, {"threshold": 20, "edgeitems": 1},
    {"sci_mode": True}, {"sci_mode": False, "precision": 6}, {"profile": "short"},
    {"threshold": 10, "edgeitems": 2, "linewidth": 120},
]


def _random_values(rng, shape):
    """Floats in one of several regimes chosen to hit every formatting branch."""
    kind = rng.integers(6)
    if kind == 0:  # integer-valued
        values = rng.integers(-20, 20, shape).astype(np.float64)
    elif kind == 1:  # ordinary fixed-point
        values = rng.normal(0, 3, shape)
    elif kind == 2:  # wide dynamic range -> scientific
        values = rng.normal(0, 1, shape) * 10.0 ** rng.uniform(-7, 11, shape)
    elif kind == 3:  # tiny values
        values = rng.uniform(-1e-4, 1e-4, shape)
    elif kind == 4:  # large integers near the 1e8 trigger
        values = np.round(rng.uniform(-2e8, 2e8, shape))
    else:
        values = rng.uniform(-1, 1, shape) * 999
    if values.size and rng.random() < 0.5:  # sprinkle specials, including negative zero
        flat = values.reshape(-1)
        for special in (NAN, INF, -INF, -0.0, 0.0):
            if rng.random() < 0.5:
                flat[rng.integers(flat.size)] = special
    return values


def _random_case(seed):
    rng = np.random.default_rng(seed)
    ndim = int(rng.integers(0, 5))
    big = rng.random() < 0.2
    shape = tuple(int(rng.integers(0 if not big else 5, 60 if big else 6)) for _ in range(ndim))
    dtype = DTYPES[seed % len(DTYPES)]
    if dtype == "bool":
        values = rng.random(shape) < 0.5
    elif dtype in ("uint8", "int8", "int16", "int32", "int64"):
        info = np.iinfo(dtype)
        high = int(rng.choice([10, 1000, int(info.max)]))
        values = rng.integers(max(int(info.min), -high), min(int(info.max), high), shape,
                              dtype=dtype, endpoint=True)
    elif dtype.startswith("complex"):
        values = np.empty(shape, np.complex128)  # assign parts: 1j * inf would make nan
        values.real, values.imag = _random_values(rng, shape), _random_values(rng, shape)
    else:
        values = _random_values(rng, shape)
    grad = int(rng.integers(3)) if dtype.startswith(("float", "bfloat", "complex")) else 0
    return np.asarray(values), dtype, grad, OPTION_SETS[int(rng.integers(len(OPTION_SETS)))]


def _special_cases():
    yield np.array([1e-4, 1.0]), "float32"  # exactly on the small-value boundary
    yield np.array([1e8, 1.0]), "float64"
    yield np.array([1000.0, 1.0]), "float32"  # ratio exactly 1000 stays fixed
    yield np.array([1000.5, 1.0]), "float32"
    yield np.array([NAN, INF, -INF]), "float32"
    yield np.array([[-0.0, 0.5], [NAN, 2.0]]), "float64"
    yield np.arange(2000.0).reshape(40, 50), "float32"
    yield np.arange(6000).reshape(3, 40, 50) - 3000, "int32"
    yield np.linspace(-1, 1, 1500).reshape(5, 3, 100), "float16"
    yield np.arange(1200.0).reshape(2, 3, 4, 50) * 1e5 + 0.25, "float64"
    yield np.arange(1001) % 2 == 0, "bool"
    yield np.arange(1500) * (1 + 1j), "complex64"
    yield np.zeros((3, 0)), "float32"
    yield np.zeros(0), "complex64"
    yield np.zeros((0,)), "bool"
    yield np.array(-0.0), "float32"
    yield np.array(7), "int16"
    yield np.array(3 - 4j), "complex128"


def _to_torch(torch, values, dtype):
    """Build the torch tensor and the exactly matching NumPy array for ember."""
    if dtype == "bfloat16":
        with np.errstate(over="ignore"):
            single = np.array(values, np.float32)
        tensor = torch.from_numpy(single).to(torch.bfloat16)
        arr = tensor.float().numpy().astype(pytest.importorskip("ml_dtypes").bfloat16)
        return tensor, arr
    with np.errstate(over="ignore", invalid="ignore"):  # float16 overflow to inf is intended
        arr = np.array(values).astype(dtype)  # np.array keeps 0-d arrays 0-d
    return torch.from_numpy(arr.copy()), arr


def _torch_suffixes(torch, tensor):
    """The suffixes torch's repr adds for ``tensor`` (what ember's Tensor class will pass)."""
    dtype_name = str(tensor.dtype)
    suffixes = []
    if tensor.numel() == 0:
        if tensor.dim() != 1:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if tensor.dtype != torch.float32:
            suffixes.append(f"dtype={dtype_name}")
    elif tensor.dtype not in (torch.float32, torch.int64, torch.bool, torch.complex64):
        suffixes.append(f"dtype={dtype_name}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return suffixes


def _compare(values, dtype, grad=0, options=None):
    torch = pytest.importorskip("torch")
    options = options or {}
    torch.set_printoptions(**options)
    ts.set_printoptions(**options)
    tensor, arr = _to_torch(torch, values, dtype)
    if grad:
        tensor = tensor.requires_grad_()
        if grad == 2:  # clone, not "* 1": complex multiplication turns inf into nan
            tensor = tensor.clone()
    assert ts.tensor_repr(arr, _torch_suffixes(torch, tensor)) == repr(tensor)


@pytest.mark.parametrize("seed", range(240))
def test_matches_torch_random(seed):
    values, dtype, grad, options = _random_case(seed)
    _compare(values, dtype, grad, options)


@pytest.mark.parametrize("options", OPTION_SETS + [{"edgeitems": 0}, {"profile": "full"}])
@pytest.mark.parametrize("case", list(_special_cases()), ids=lambda c: f"{c[1]}{c[0].shape}")
def test_matches_torch_special(case, options):
    values, dtype = case
    _compare(values, dtype, grad=int(dtype.startswith("float")), options=options)
