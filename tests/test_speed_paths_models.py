"""The model-level speed paths of issue 18 (third session) give the plain formulas' results
and gradients: linear on batched inputs as one 2-D GEMM, the channels-last convolution
packing, the compiled pooling and col2im kernels and the buffer pool. NumPy references
always; PyTorch as an oracle when installed."""

import os

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck


# ----------------------------------------------------------------------------- linear
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xshape", [(3, 4, 5), (2, 3, 4, 5), (0, 4, 5), (4, 5), (5,)])
def test_linear_batched_matches_numpy(dtype, xshape):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal(xshape).astype(dtype)
    wa = rng.standard_normal((6, 5)).astype(dtype)
    ba = rng.standard_normal(6).astype(dtype)
    ga = rng.standard_normal(xshape[:-1] + (6,)).astype(dtype)
    x = ember.tensor(xa, requires_grad=True)
    w = ember.tensor(wa, requires_grad=True)
    b = ember.tensor(ba, requires_grad=True)
    y = F.linear(x, w, b)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), xa @ wa.T + ba, rtol=tol, atol=tol)
    y.backward(ember.tensor(ga))
    np.testing.assert_allclose(x.grad.numpy(), ga @ wa, rtol=tol, atol=tol)
    g2, x2 = ga.reshape(-1, 6), xa.reshape(-1, 5)
    np.testing.assert_allclose(w.grad.numpy(), g2.T @ x2, rtol=tol, atol=tol)
    np.testing.assert_allclose(b.grad.numpy(), g2.sum(0), rtol=tol, atol=tol)


def test_linear_batched_noncontiguous_and_empty_features():
    x = ember.randn(2, 4, 5, dtype=ember.float64).transpose(0, 1).requires_grad_()
    w = ember.randn(3, 5, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradgradcheck(F.linear, (x, w, b))
    for xs, ws in [((2, 4, 5), (0, 5)), ((2, 4, 0), (3, 0))]:
        x = ember.randn(*xs, requires_grad=True)
        w = ember.randn(*ws, requires_grad=True)
        y = F.linear(x, w)
        y.sum().backward()
        assert tuple(y.shape) == xs[:-1] + (ws[0],)
        assert tuple(x.grad.shape) == xs and tuple(w.grad.shape) == ws


# ----------------------------------------------------------------------------- max pooling
def _pool_case(rng, trial):
    nd = int(rng.integers(1, 3))
    ks = tuple(int(v) for v in rng.integers(1, 4, nd))
    s = tuple(int(v) for v in rng.integers(1, 3, nd))
    p = tuple(int(rng.integers(0, k // 2 + 1)) for k in ks)
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    sp = tuple(int(v) for v in rng.integers(max(ks) * 2, 9, nd))
    dt = (np.float32, np.float64)[trial % 2]
    x = rng.integers(-3, 3, (2, 3) + sp).astype(dt)  # many ties
    if trial % 3 == 0:
        x[rng.random(x.shape) < 0.1] = np.nan
    if trial % 5 == 0:
        x[rng.random(x.shape) < 0.3] = -np.inf
    out = tuple((L + 2 * pi - di * (k - 1) - 1) // si + 1
                for L, pi, di, k, si in zip(sp, p, d, ks, s))
    return x, ks, s, p, d, out


def test_max_pool_backward_kernel_equals_numpy():
    from ember._codegen import cnn, kernel
    from ember._ops import pool as P

    rng = np.random.default_rng(0)
    ran = 0
    for trial in range(120):
        x, ks, s, p, d, out = _pool_case(rng, trial)
        y, arg = P.max_pool_arg(x, ks, s, p, d, out)
        g = rng.standard_normal(y.shape).astype(x.dtype)
        got = cnn.max_pool_backward(g, arg, ks, s, p, d, x.shape[2:])
        old = kernel.set_disabled(True)
        try:
            want = P._select_bwd_fwd(g, arg, ks, s, p, d, out, x.shape[2:])
        finally:
            kernel.set_disabled(old)
        if got is None:  # no compiler here: the NumPy code is the only path
            continue
        ran += 1
        tol = 1e-6 if x.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=str((ks, s, p, d)))
    from ember._codegen import build

    # the kernel ran unless there is no compiler or EMBER_JIT_DISABLE is set
    assert ran or build.compiler()[0] is None or kernel.disabled()


def test_max_pool_ties_pick_the_first_maximum():
    # [0, 0] windows: PyTorch takes the first position (the NumPy code once took the last)
    x = ember.zeros(1, 1, 4, requires_grad=True)
    y, idx = F.max_pool1d(x, 2, 1, return_indices=True)
    assert idx.tolist() == [[[0, 1, 2]]]
    y.sum().backward()
    assert x.grad.tolist() == [[[1.0, 1.0, 1.0, 0.0]]]
    x = ember.tensor([[[[1.0, 1.0], [1.0, 1.0]]]], requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.tolist() == [[[[0]]]]


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_max_pool_matches_torch_with_ties(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for trial in range(40):
        x, ks, s, p, d, out = _pool_case(rng, 2 * trial + (dtype == ember.float64))
        x[np.isneginf(x)] = -5  # PyTorch's index for all -inf windows is unspecified
        nd = len(ks)
        res = []
        for lib in (ember, torch):
            t = lib.tensor(x.astype(np.float64 if dtype == ember.float64 else np.float32),
                           requires_grad=True)
            fn = getattr(lib.nn.functional, f"max_pool{nd}d")
            y, idx = fn(t, ks, s, p, d, return_indices=True)
            y.backward(lib.ones_like(y))
            res.append((y.detach().numpy(), idx.numpy(), t.grad.numpy()))
        for a, b in zip(*res):
            np.testing.assert_array_equal(a, b, err_msg=str((ks, s, p, d)))


# ----------------------------------------------------------------------------- convolution
# shapes that reach the channels-last kernels (C >= output width), both packing orders (GEMM
# rows >= filters, and fewer: small maps), the stride-1 input gradient as a convolution, and
# the first-layer paths of the (C, N, S) kernels
CL_CASES = [
    ((6, 8, 7, 7), (5, 8, 3, 3), dict()),                       # valid, (*ks, C) order
    ((4, 8, 6, 6), (6, 8, 3, 3), dict(padding=1)),              # same padding
    ((2, 16, 2, 2), (40, 16, 3, 3), dict(padding=1)),           # rows < filters: old order
    ((3, 8, 7, 6), (4, 8, 3, 2), dict(stride=2, padding=(1, 0))),
    ((3, 9, 8, 7), (5, 9, 2, 3), dict(dilation=(2, 1), padding=(1, 2))),
    ((3, 8, 6, 6), (7, 8, 1, 1), dict(stride=2)),
    ((2, 10, 9), (4, 10, 3), dict(padding=2, dilation=2)),      # conv1d
    # first layers, (C, N, S) layout: per-sample GEMMs into NCHW, summed weight partials
    ((8, 1, 12, 12), (4, 1, 3, 3), dict()),
    ((6, 3, 10, 10), (5, 3, 7, 7), dict(stride=2, padding=3)),
    ((2, 8, 4, 4, 4), (5, 8, 3, 3, 3), dict(padding=1)),       # conv3d, channels-last
]


def _run_conv(xs, ws, kw, dtype, seed=0):
    rng = np.random.default_rng(seed)
    fn = getattr(F, f"conv{len(xs) - 2}d")
    x = ember.tensor(rng.standard_normal(xs).astype(dtype), requires_grad=True)
    w = ember.tensor(rng.standard_normal(ws).astype(dtype), requires_grad=True)
    b = ember.tensor(rng.standard_normal(ws[0]).astype(dtype), requires_grad=True)
    y = fn(x, w, b, **kw)
    gy = ember.tensor(rng.standard_normal(tuple(y.shape)).astype(dtype))
    return [y.detach().numpy(), *(g.numpy() for g in ember.autograd.grad(y, [x, w, b], gy))]


@pytest.mark.parametrize("block", ["default", 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channels_last_paths_equal_reference(monkeypatch, dtype, block):
    from ember._ops import conv as C

    if block != "default":
        monkeypatch.setattr(C, "_CONV_BLOCK", block)
    for xs, ws, kw in CL_CASES:
        got = _run_conv(xs, ws, kw, dtype)
        with monkeypatch.context() as m:  # the whole-batch (C, *kernel) order kernels
            m.setattr(C, "_blocked", lambda x, g: False)
            want = _run_conv(xs, ws, kw, dtype)
        tol = 1e-11 if dtype == np.float64 else 1e-4
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol, err_msg=f"{xs} {ws} {kw}")


def test_channels_last_paths_gradcheck():
    rng = np.random.default_rng(5)
    for xs, ws, kw in CL_CASES[:2] + CL_CASES[3:5]:
        xs = (2,) + xs[1:]
        fn = getattr(F, f"conv{len(xs) - 2}d")
        x = ember.tensor(rng.standard_normal(xs), requires_grad=True)
        w = ember.tensor(rng.standard_normal(ws), requires_grad=True)
        assert gradcheck(lambda a, b: fn(a, b, **kw), (x, w))
        assert gradgradcheck(lambda a, b: fn(a, b, **kw), (x, w))


def test_channels_last_paths_match_torch():
    torch = pytest.importorskip("torch")
    for xs, ws, kw in CL_CASES:
        got = _run_conv(xs, ws, kw, np.float64, seed=1)
        rng = np.random.default_rng(1)
        fn = getattr(torch.nn.functional, f"conv{len(xs) - 2}d")
        x = torch.tensor(rng.standard_normal(xs), requires_grad=True)
        w = torch.tensor(rng.standard_normal(ws), requires_grad=True)
        b = torch.tensor(rng.standard_normal(ws[0]), requires_grad=True)
        y = fn(x, w, b, **kw)
        gy = torch.tensor(rng.standard_normal(tuple(y.shape)))
        want = [y.detach().numpy(), *(g.numpy() for g in torch.autograd.grad(y, [x, w, b], gy))]
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-10, err_msg=f"{xs} {kw}")


# ----------------------------------------------------------------------------- heap reuse
_HEAP_SCRIPT = r"""
import json, sys
import numpy as np
import ember
import ember.cpu.allocator as allocator

def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

# "on": import ember's default (NOTE [ Heap reuse for host arrays ]); "off": EMBER_HEAP_REUSE=0
assert allocator.heap_reuse_enabled() == (sys.argv[1] == "on")
nn = ember.nn
ember.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3),
                      nn.ReLU(), nn.Flatten(), nn.Linear(32 * 11 * 11, 10))
opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
rng = np.random.default_rng(0)
x = ember.tensor(rng.standard_normal((16, 1, 28, 28)).astype(np.float32))
y = ember.tensor(rng.integers(0, 10, 16))
losses, rss = [], []
for step in range(int(sys.argv[2])):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
    rss.append(rss_kb())
allocator.disable_heap_reuse()
assert not allocator.heap_reuse_enabled()
print(json.dumps({"losses": losses, "rss": rss}))
"""


def test_heap_reuse_keeps_results_and_does_not_grow():
    import json
    import platform
    import subprocess
    import sys

    import ember.cpu.allocator as allocator

    if platform.system() != "Linux" or not allocator._glibc():
        assert not allocator.heap_reuse_enabled()  # the default does nothing off glibc
        with pytest.raises(NotImplementedError, match="glibc"):
            allocator.enable_heap_reuse()
        return
    steps = 100
    runs = {}
    env = {k: v for k, v in os.environ.items() if k not in allocator._USER_MALLOC_VARS
           and k not in ("EMBER_HEAP_REUSE", "GLIBC_TUNABLES")}
    for mode in ("off", "on"):
        r = subprocess.run([sys.executable, "-c", _HEAP_SCRIPT, mode, str(steps)],
                           capture_output=True, text=True, timeout=600,
                           env=dict(env, EMBER_HEAP_REUSE="0") if mode == "off" else env)
        assert r.returncode == 0, r.stderr[-2000:]
        runs[mode] = json.loads(r.stdout.strip().splitlines()[-1])
    assert runs["on"]["losses"] == runs["off"]["losses"]  # bitwise: only malloc changed
    rss = runs["on"]["rss"]
    # resident memory settles after the first steps and then stays (no growth per step)
    assert rss[-1] - rss[steps // 5] < 8 * 1024, (rss[steps // 5], rss[-1])


@pytest.mark.parametrize("env, on", [({}, True), ({"EMBER_HEAP_REUSE": "0"}, False),
                                     ({"EMBER_HEAP_REUSE": "off"}, False),
                                     ({"MALLOC_TOP_PAD_": "65536"}, False),
                                     ({"MALLOC_MMAP_THRESHOLD_": "131072"}, False),
                                     ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}, False)])
def test_heap_reuse_is_the_default_unless_turned_off(env, on):
    # import ember turns it on (glibc only), never over the user's own malloc tuning
    import subprocess
    import sys

    import ember.cpu.allocator as allocator

    base = {k: v for k, v in os.environ.items() if k not in allocator._USER_MALLOC_VARS
            and k not in ("EMBER_HEAP_REUSE", "GLIBC_TUNABLES")}
    code = ("import ember\nfrom ember.cpu import allocator as a\n"
            "print(a.heap_reuse_enabled(), a._STATE['by_default'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env=dict(base, **env))
    assert r.returncode == 0, r.stderr[-2000:]
    glibc = allocator._libc() is not None
    assert r.stdout.split() == [str(on and glibc)] * 2


_OB_SCRIPT = r"""
import ctypes, json, os, sys
import numpy as np
if sys.argv[1] == "numpy-first":
    a = np.ones((256, 256), np.float32)
    a @ a  # OpenBLAS's thread pool runs with the timeout it read at load
import ember
from ember._backends import openblas_threads as ob
read = []
for lib in ob._numpy_openblas():
    f = getattr(lib, "openblas_thread_timeout", None)
    if f is not None:
        f.restype = ctypes.c_uint
        read.append(f())
a = np.ones((256, 256), np.float32)
a @ a  # the restarted pool
print(json.dumps([os.environ.get("OPENBLAS_THREAD_TIMEOUT"), read]))
"""


@pytest.mark.parametrize("order", ["ember-first", "numpy-first"])
@pytest.mark.parametrize("user", [None, "28"])
def test_openblas_thread_timeout_default(order, user):
    # NOTE [ OpenBLAS thread timeout ]: import ember shortens OpenBLAS's idle spin, in either
    # import order (the library re-reads its environment), unless the user set the variable
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if user is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = user
    r = subprocess.run([sys.executable, "-c", _OB_SCRIPT, order], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    var, read = json.loads(r.stdout.strip().splitlines()[-1])
    want = user or "16"
    assert var == want
    # where NumPy bundles OpenBLAS, the library itself reports the value in force
    assert all(v == int(want) for v in read), read


def test_heap_reuse_argument_checks():
    import ember.cpu.allocator as allocator

    for bad in (0, -1, 2 ** 31, 1.5, True):
        with pytest.raises(ValueError, match="enable_heap_reuse"):
            allocator.enable_heap_reuse(mmap_threshold=bad)
    assert ember.cpu.allocator is allocator


@pytest.mark.parametrize("xs, ws, kw", [((4, 3, 9, 9), (5, 3, 3, 3), dict(padding=1)),
                                        ((4, 16, 3, 3), (40, 16, 3, 3), dict(padding=1)),
                                        ((4, 16, 5, 5), (8, 16, 3, 3), {}),
                                        ((4, 4, 6, 6), (6, 2, 3, 3), dict(groups=2))])
def test_conv_weight_grad_is_stored_without_copy(xs, ws, kw):
    # the engine keeps a leaf's first gradient as is only when its array owns its memory,
    # so the weight-gradient record returns one (not a reshaped view of the GEMM result)
    from ember._ops import conv as C

    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    g = kw.get("groups", 1)
    p = (kw.get("padding", 0),) * 2
    y = C._conv_fwd(x, w, ((1, 1), p, p, (1, 1), g))
    gw = C._conv_w_fwd(x, np.ones_like(y), ((1, 1), p, p, (1, 1), g, ws[2:]))
    assert gw.shape == ws and gw.base is None
    xt = ember.tensor(x)
    wt = ember.tensor(w, requires_grad=True)
    F.conv2d(xt, wt, **kw).sum().backward()
    np.testing.assert_allclose(wt.grad.numpy(), gw, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose_channels_last_stride1_matches_torch(dtype):
    # stride-1 transposed convolutions on small maps take the flipped-kernel convolution form
    torch = pytest.importorskip("torch")
    cases = [((3, 16, 5, 5), (16, 8, 3, 3), dict(padding=1)),
             ((3, 16, 4, 4), (16, 8, 3, 3), dict()),
             ((2, 12, 3, 3), (12, 6, 2, 3), dict(padding=(1, 0), dilation=(1, 2))),
             ((2, 16, 3, 3, 3), (16, 4, 3, 3, 3), dict(padding=1))]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for xs, ws, kw in cases:
        nd = len(xs) - 2
        rng = np.random.default_rng(2)
        arrays = [rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype),
                  rng.standard_normal(ws[1]).astype(dtype)]
        res = []
        for lib in (ember, torch):
            x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
            y = getattr(lib.nn.functional, f"conv_transpose{nd}d")(x, w, b, **kw)
            gy = lib.tensor(np.random.default_rng(3).standard_normal(tuple(y.shape))
                            .astype(dtype))
            res.append([y.detach().numpy(),
                        *(g.numpy() for g in lib.autograd.grad(y, [x, w, b], gy))])
        for a, e in zip(*res):
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol, err_msg=f"{xs} {ws} {kw}")


# ----------------------------------------------------------------------------- ReLU kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernel_bitwise_equals_numpy(dtype):
    from ember._codegen import eager

    rng = np.random.default_rng(4)
    n = eager.RELU_MIN + 37  # large enough to take the kernel
    xa = rng.standard_normal(n).astype(dtype)
    xa[:8] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1, -1, 0]
    ga = rng.standard_normal(n).astype(dtype)
    ga[:8] = [np.nan, np.inf, -np.inf, np.nan, 1, np.nan, 3, np.inf]
    x = ember.tensor(xa, requires_grad=True)
    y = F.relu(x)
    y.backward(ember.tensor(ga))
    want_y = np.maximum(xa, dtype(0))
    want_g = np.where(want_y > 0, ga, dtype(0))
    assert y.detach().numpy().tobytes() == want_y.tobytes()
    assert x.grad.numpy().tobytes() == want_g.tobytes()
    xs = ember.tensor(xa.reshape(-1, 1)[:: 1][:n - 37].reshape(-1, 128)[:, ::2])  # strided
    np.testing.assert_array_equal(F.relu(xs).numpy(), np.maximum(xs.numpy(), dtype(0)))
