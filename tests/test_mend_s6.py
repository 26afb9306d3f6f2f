"""Review leftovers of session 6: one sigmoid, scalar-only arithmetic, special functions'
number arguments, complex clamp, unique benchmark names, process-wide grad mode."""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F

try:  # the oracle, where installed; tests that need none of it never skip without it
    import torch as _torch
except ImportError:
    _torch = None


# ------------------------------------------------------------------ 1. one accurate sigmoid
def _old_sig(x):
    # the activation module's own sigmoid before it used the op's: the reference for
    # "results unchanged"
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    e += 1
    return np.reciprocal(e, out=e)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("n", [8, 1000, 1 << 17])
def test_activation_sigmoid_bitwise_unchanged(dt, n):
    from ember.nn._functional_activation import _sig

    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 40).astype(dt)
    x[:8] = [np.inf, -np.inf, np.nan, 1e30, -1e30, 0.0, -0.0, np.finfo(dt).max]
    got, want = _sig(x), _old_sig(x)
    assert got.dtype == want.dtype
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8))


def test_activation_sigmoid_is_the_ops():
    from ember._ops.elementwise import _sigmoid, _sigmoid_passes
    from ember.nn._functional_activation import _sig

    assert _sig is _sigmoid_passes
    x = np.linspace(-90, 40, 999)  # below the kernel's size both give the same bits
    assert np.array_equal(_sig(x), _sigmoid(x))


@pytest.mark.parametrize("name", ["silu", "mish", "softplus", "logsigmoid"])
def test_activation_gradients_of_0dim(name):
    # the old sigmoid (and silu's forward) made a NumPy scalar of 0-dim input and failed on
    # out=: TypeError "return arrays must be of ArrayType" in every 0-dim backward
    torch = pytest.importorskip("torch")
    for v in (-30.0, -1.5, 0.0, 2.0, 30.0):
        x = ember.tensor(v, dtype=ember.float64, requires_grad=True)
        getattr(F, name)(x).backward()
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        getattr(torch.nn.functional, name)(t).backward()
        assert x.grad.shape == ()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=0)


def test_activation_gradient_of_0dim_without_oracle():
    x = ember.tensor(-30.0, dtype=ember.float64, requires_grad=True)
    F.logsigmoid(x).backward()
    assert float(x.grad) == pytest.approx(1 - 1 / (1 + np.exp(30.0)), rel=1e-15)
    x = ember.tensor(0.0, requires_grad=True)
    F.silu(x).backward()
    assert float(x.grad) == 0.5


def test_silu_forward_0dim_and_unchanged():
    for v in (-np.inf, -30.0, 0.0, 1.5, 100.0):
        y = F.silu(ember.tensor(v, dtype=ember.float64))
        assert y.shape == ()
        with np.errstate(over="ignore", invalid="ignore"):
            want = np.float64(v) / (1 + np.exp(-np.float64(v)))
        np.testing.assert_equal(y.numpy(), want)
    x = np.linspace(-50, 50, 1001, dtype=np.float32)
    with np.errstate(over="ignore"):
        want = x / (np.exp(-x) + 1)
    assert np.array_equal(F.silu(ember.from_numpy(x)).numpy(), want)


# ------------------------------------------------------------ 3. two numbers as operands
_TWO_NUMBER_OPS = ["add", "sub", "mul", "div", "divide", "true_divide", "multiply", "subtract",
                   "floor_divide"]
_NUMBER_PAIRS = [(2, 3), (2.0, 3), (True, False), (True, 2), (2j, 3), (2, 3.5), (-7, 2),
                 (7, 0), (7.0, 0), (np.float64(2), 3.0), (np.int32(5), 2)]


def _outcome(lib, fn):
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # NOTE [ Quiet kernels ]: the
            r = fn()  # filter that hides NumPy's warnings outside pytest is reset inside it
    except Exception as e:  # noqa: BLE001 - the outcome compared is the exception's type
        return type(e).__name__
    return (str(r.dtype).split(".")[-1], tuple(r.shape),
            complex(r.item()) if r.numel() == 1 else None)


@pytest.mark.parametrize("name", _TWO_NUMBER_OPS + ["pow", "remainder", "fmod", "maximum",
                                                    "atan2", "bitwise_and", "eq"])
def test_two_numbers_as_pytorch(name):
    torch = pytest.importorskip("torch")
    for a, b in _NUMBER_PAIRS:
        want = _outcome(torch, lambda: getattr(torch, name)(a, b))
        got = _outcome(ember, lambda: getattr(ember, name)(a, b))
        if isinstance(want, tuple) and want[2] != want[2]:  # nan
            assert got[:2] == want[:2] and got[2] != got[2]
        else:
            assert got == want, (name, a, b)


def test_two_numbers_without_oracle():
    r = ember.mul(2.0, 3.0)
    assert isinstance(r, ember.Tensor) and r.dtype == ember.float32 and r.shape == ()
    assert float(r) == 6.0 and not r.requires_grad
    assert ember.add(2, 3).dtype == ember.int64 and int(ember.add(2, 3, alpha=2)) == 8
    assert float(ember.div(7, 2)) == 3.5 and int(ember.div(-7, 2, rounding_mode="trunc")) == -3
    assert int(ember.div(-7, 2, rounding_mode="floor")) == -4
    assert ember.mul(np.float64(2), 3.0).dtype == ember.float32  # NumPy scalars are numbers
    out = ember.empty(())
    assert ember.add(2, 3, out=out) is out and float(out) == 5.0
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.mul(2.0, 3.0).dtype == ember.float64
        assert ember.mul(2j, 3.0).dtype == ember.complex128
    finally:
        ember.set_default_dtype(ember.float32)
    for name in ("pow", "remainder", "fmod", "maximum", "atan2", "bitwise_and"):
        with pytest.raises(TypeError, match=name):
            getattr(ember, name)(2.0, 3.0)
    with pytest.raises(TypeError, match="argument 'other'"):
        ember.add(2, "a")


def test_sub_bool_numbers_and_integral_alpha():
    msg = "Subtraction, the `-` operator, with a bool tensor"
    for a, b in ((True, 2), (2, True), (ember.tensor([True]), 1.5),
                 (ember.tensor([1]), True)):
        with pytest.raises(RuntimeError, match=msg):
            ember.sub(a, b)
    with pytest.raises(RuntimeError, match="two bool tensors"):
        ember.sub(ember.tensor([True]), True)
    alpha_msg = "For integral input tensors, argument alpha must not be a floating point"
    for a, b in ((2, 3), (ember.tensor([2]), 3), (ember.tensor([True]), True)):
        with pytest.raises(RuntimeError, match=alpha_msg):
            ember.add(a, b, alpha=1.5)
        with pytest.raises(RuntimeError, match=alpha_msg):
            ember.sub(a, b, alpha=0.5)
    with pytest.raises(RuntimeError, match=alpha_msg):
        ember.tensor([2]).add_(3, alpha=0.5)
    assert ember.add(ember.tensor([2]), 3.0, alpha=1.5).tolist() == [6.5]
    assert ember.add(ember.tensor([2.0]), 3, alpha=0.5).tolist() == [3.5]


# ------------------------------------------------- 4. special functions' number arguments
_SPECIAL_BINARY = ["gammainc", "gammaincc", "xlog1py", "xlogy", "zeta",
                   "chebyshev_polynomial_t", "hermite_polynomial_h", "laguerre_polynomial_l"]


@pytest.mark.parametrize("name", _SPECIAL_BINARY)
def test_special_number_operands_as_pytorch(name):
    torch = pytest.importorskip("torch")
    te, tt = ember.tensor([0.5, 1.5]), torch.tensor([0.5, 1.5])
    for make in (lambda m, t: (2.0, t), lambda m, t: (t, 2.0), lambda m, t: (2, t),
                 lambda m, t: (t, 2), lambda m, t: (2.0, 3.0), lambda m, t: (t, t)):
        want = _outcome(torch, lambda: getattr(torch.special, name)(*make(torch, tt)))
        got = _outcome(ember, lambda: getattr(ember.special, name)(*make(ember, te)))
        assert got[:2] == want[:2], (name, make(ember, te))


def test_incomplete_gamma_refuses_numbers():
    t = ember.tensor([0.5, 1.5])
    for fn, name in ((ember.special.gammainc, "special_gammainc"),
                     (ember.special.gammaincc, "special_gammaincc"),
                     (ember.igamma, "igamma"), (ember.igammac, "igammac")):
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'input' \(position 1\) "
                                            "must be Tensor, not float"):
            fn(2.0, t)
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'other' \(position 2\) "
                                            "must be Tensor, not int"):
            fn(t, 2)
    with pytest.raises(TypeError, match="must be Tensor"):
        t.igamma(2.0)
    with pytest.raises(TypeError, match="must be Tensor"):
        t.clone().igammac_(2.0)
    r = ember.special.gammainc(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))
    np.testing.assert_allclose(r.numpy(), [1 - np.exp(-1), 1 - 2 * np.exp(-1)], rtol=1e-6)


# ---------------------------------------------------------------- 5. clamp on complex
_Z_CASES = {
    "clamp()": (lambda m, z, r: m.clamp(z), RuntimeError),
    "clip()": (lambda m, z, r: m.clip(z), RuntimeError),
    "z.clamp()": (lambda m, z, r: z.clamp(), RuntimeError),
    "z.clamp_()": (lambda m, z, r: z.clone().clamp_(), RuntimeError),
    "z.clip_()": (lambda m, z, r: z.clone().clip_(), RuntimeError),
    "clamp(out=)": (lambda m, z, r: m.clamp(z, out=m.empty(2, dtype=m.complex64)),
                    RuntimeError),
    "clamp(min)": (lambda m, z, r: m.clamp(z, min=0), NotImplementedError),
    "clamp(max)": (lambda m, z, r: m.clamp(z, max=1), NotImplementedError),
    "clip(min, max)": (lambda m, z, r: m.clip(z, 0, 1), NotImplementedError),
    "clamp(tensor min)": (lambda m, z, r: m.clamp(z, min=r), NotImplementedError),
    "clamp(real, complex min)": (lambda m, z, r: m.clamp(r, min=z), NotImplementedError),
    "clamp(real, None, complex max)": (lambda m, z, r: m.clamp(r, None, z),
                                       NotImplementedError),
    "clamp_min": (lambda m, z, r: m.clamp_min(z, 0), NotImplementedError),
    "clamp_max": (lambda m, z, r: m.clamp_max(z, 1), NotImplementedError),
    "z.clamp_(0)": (lambda m, z, r: z.clone().clamp_(0), NotImplementedError),
    "z.clip_(max)": (lambda m, z, r: z.clone().clip_(max=1), NotImplementedError),
    "z.clamp_min_": (lambda m, z, r: z.clone().clamp_min_(0), NotImplementedError),
    "z.clamp_max_": (lambda m, z, r: z.clone().clamp_max_(0), NotImplementedError),
    "empty": (lambda m, z, r: m.clamp(m.zeros(0, dtype=m.complex64), 0), NotImplementedError),
}


@pytest.mark.parametrize("case", sorted(_Z_CASES))
def test_clamp_complex_exception_types(case):
    fn, exc = _Z_CASES[case]
    z, r = ember.tensor([1 + 2j, -3j]), ember.tensor([1.0, 2.0])
    msg = "At least one of 'min' or 'max'" if exc is RuntimeError else \
        "clamp is not supported for complex types"
    with pytest.raises(exc, match=msg):
        fn(ember, z, r)
    if _torch is not None:  # the expected types are PyTorch's
        with pytest.raises(exc):
            fn(_torch, _torch.tensor([1 + 2j, -3j]), _torch.tensor([1.0, 2.0]))


# ------------------------------------------------------------- 6. unique sweep case names
def _op_sweep():
    import importlib.util
    import os
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.join(root, "tests"))  # op_sweep's table_cases reads op_db
    spec = importlib.util.spec_from_file_location(
        "op_sweep_mend", os.path.join(root, "benchmarks", "op_sweep.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_op_sweep_case_names_unique():
    sweep = _op_sweep()
    for size, target in sweep.SIZES.items():
        names = [n for n, *_ in sweep.table_cases(target)] + list(sweep._extras(target))
        sweep.refuse_duplicate_names(names)  # raises on a repeated name
        assert len(names) == len(set(names)) > 200, size
    with pytest.raises(ValueError, match="more than once: max_pool2d, add$"):
        sweep.refuse_duplicate_names(["add", "max_pool2d", "conv2d", "max_pool2d", "add",
                                      "add"])


# -------------------------------------------- 7. grad mode is process-wide (documented)
# NOTE [ Grad mode is process-wide ] (ARCHITECTURE.md, Autograd): these tests pin down
# ember's behaviour, which differs from PyTorch's per-thread grad mode on purpose (the hot
# path reads one slot); a change to per-thread mode must update them and the NOTE together.
def _in_thread(fn):
    import threading

    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(30)
    assert not t.is_alive()
    return out[0]


def test_grad_mode_set_in_a_thread_is_seen_by_the_main_thread():
    import threading

    entered, release = threading.Event(), threading.Event()

    def body():
        with ember.no_grad():
            entered.set()
            release.wait(30)

    t = threading.Thread(target=body)
    t.start()
    try:
        assert entered.wait(30)
        assert ember.is_grad_enabled() is False  # PyTorch: True (its mode is per thread)
        x = ember.ones(2, requires_grad=True)
        assert (x * 2).grad_fn is None  # nothing recorded in the main thread meanwhile
    finally:
        release.set()
        t.join(30)
    assert ember.is_grad_enabled() is True  # restored when the thread's block ends
    assert (ember.ones(2, requires_grad=True) * 2).grad_fn is not None


def test_a_new_thread_inherits_the_current_grad_mode():
    with ember.no_grad():
        assert _in_thread(ember.is_grad_enabled) is False  # PyTorch: True
    assert _in_thread(ember.is_grad_enabled) is True
    if _torch is not None:
        with _torch.no_grad():
            assert _in_thread(_torch.is_grad_enabled) is True  # the difference, for the record


def test_dataloader_workers_leave_the_main_grad_mode_alone():
    from ember.utils.data import DataLoader, Dataset

    class Leaky(Dataset):
        # a dataset that switches grad mode off and never back (in its worker process)
        def __len__(self):
            return 8

        def __getitem__(self, i):
            ember.set_grad_enabled(False)
            return ember.tensor([float(i)])

    for kw in ({"num_workers": 2}, {"num_workers": 2, "pin_memory": True}):
        with pytest.warns(UserWarning) if kw.get("pin_memory") and \
                not ember.cuda.is_available() else _nullcontext():
            batches = list(DataLoader(Leaky(), batch_size=4, **kw))
        assert len(batches) == 2
        assert ember.is_grad_enabled() is True
    # the pin thread copies batches only: a pinned loader's batches record as usual
    x = ember.ones(1, requires_grad=True)
    assert (x * batches[0]).grad_fn is not None


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()


def test_pin_thread_leaves_grad_mode_alone(monkeypatch):
    # the pin thread's work (dataloader._pin -> Tensor.pin_memory -> pin_host) on a host
    # without CUDA: pin_host stands in as a copy, the thread is the loader's executor kind
    from concurrent.futures import ThreadPoolExecutor

    import ember._device
    from ember.utils.data import dataloader

    seen = []

    def fake_pin(a, what):  # noqa: ARG001 - pin_host's signature
        seen.append(ember.is_grad_enabled())
        return a.copy()

    monkeypatch.setattr(ember._device, "pin_host", fake_pin)
    batch = {"x": ember.ones(2, 3), "y": [ember.zeros(2), ember.arange(2)]}
    with ThreadPoolExecutor(1) as pool:
        pinned = pool.submit(dataloader._pin, batch).result(30)
        with ember.no_grad():
            pool.submit(dataloader._pin, batch).result(30)
        assert ember.is_grad_enabled() is True
    assert seen == [True] * 3 + [False] * 3  # process-wide: the thread sees the main's mode
    assert pinned["x"].tolist() == batch["x"].tolist() and len(pinned["y"]) == 2


def test_backward_in_a_thread_turns_recording_off_for_all():
    import threading

    inside, release = threading.Event(), threading.Event()
    w = ember.ones(2, requires_grad=True)

    def hook(g):
        inside.set()
        release.wait(30)
        return g

    w.register_hook(hook)
    t = threading.Thread(target=lambda: (w * 3).sum().backward())
    t.start()
    try:
        assert inside.wait(30)
        assert ember.is_grad_enabled() is False  # the engine's create_graph=False, seen here
    finally:
        release.set()
        t.join(30)
    assert ember.is_grad_enabled() is True and w.grad.tolist() == [3.0, 3.0]


# --------------------------------------- 4b. mvlgamma as PyTorch 2.x: no domain check
def test_mvlgamma_outside_domain_and_integer_input():
    x = ember.tensor([0.4, 0.5, 1.5, -1.0, float("nan")])
    got = ember.mvlgamma(x, 2).numpy()
    want = [math.lgamma(v) + math.lgamma(v - 0.5) + 0.5 * math.log(math.pi) for v in (0.4, 1.5)]
    assert got[1] == got[3] == math.inf and np.isnan(got[4])  # lgamma's poles at 0 and -1
    np.testing.assert_allclose(got[[0, 2]], want, rtol=1e-6)
    r = ember.special.multigammaln(ember.tensor([1, 2]), 2)
    assert r.dtype == ember.float32
    np.testing.assert_allclose(r.numpy(), [1.1447299, 0.4515827], rtol=1e-6)
    with pytest.raises(RuntimeError, match="boolean"):
        ember.mvlgamma(ember.tensor([True]), 1)
    with pytest.raises(NotImplementedError, match="ComplexFloat"):
        ember.mvlgamma(ember.tensor([1j]), 1)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.tensor([1, 2]).mvlgamma_(2)
    if _torch is not None:
        t = _torch.mvlgamma(_torch.tensor([0.4, 0.5, 1.5, -1.0, float("nan")]), 2).numpy()
        np.testing.assert_allclose(got, t, rtol=1e-6)


# ------------------------------------------------- 2. _threaded without its unused kmin
def test_threaded_takes_no_size_and_its_callers_still_run():
    import inspect

    from ember._ops import elementwise as E

    assert list(inspect.signature(E._threaded).parameters) == ["expr", "kinds", "operands",
                                                               "out"]
    n = E._KMIN  # large enough for every caller's kernel path
    x = np.linspace(-3, 3, n, dtype=np.float32)
    t = ember.from_numpy(x.copy())
    np.testing.assert_array_equal(ember.rsqrt(t.abs() + 1).numpy(),
                                  (1 / np.sqrt(np.abs(x) + 1)).astype(np.float32))  # unary
    np.testing.assert_array_equal(ember.remainder(t, 0.7).numpy(),
                                  np.remainder(x, np.float32(0.7)))  # binary
    c = t.clone().clamp_(-1.0, 2.0)  # clamp_'s in-place kernel
    np.testing.assert_array_equal(c.numpy(), np.clip(x, -1, 2))
    ys = [ember.from_numpy(x.copy()) for _ in range(2)]
    ember._foreach_add_(ys, [t, t], alpha=0.5)  # foreach._kernel
    for y in ys:
        np.testing.assert_allclose(y.numpy(), x + 0.5 * x, rtol=1e-6)


def test_factories_require_a_size():
    # PyTorch: zeros() is a TypeError; zeros(()), zeros([]) and zeros(size=()) are 0-dim
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        f = getattr(ember, name)
        with pytest.raises(TypeError, match="size"):
            f()
        assert f(()).shape == f([]).shape == f(size=()).shape == ()
