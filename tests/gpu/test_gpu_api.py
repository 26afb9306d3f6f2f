"""ember.cuda on a real device, device plumbing, the precision flags, and the generated
CUDA kernels (NVRTC through CuPy) against the host kernels. Tests that need a real GPU skip
in a dry run."""

from __future__ import annotations

import numpy as np
import pytest

import ember


@pytest.fixture
def cuda(dev):
    if dev != "cuda":
        pytest.skip("needs a real CUDA device (dry run)")
    return ember.cuda


def test_device_queries(cuda):
    assert cuda.is_available() and cuda.device_count() >= 1
    assert cuda.current_device() == 0
    name = cuda.get_device_name()
    p = cuda.get_device_properties(0)
    assert name == p.name and p.total_memory > 1 << 30 and p.multi_processor_count > 0
    assert cuda.get_device_capability() == (p.major, p.minor)
    free, total = cuda.mem_get_info()
    assert 0 < free <= total
    print(f"\n{name}: sm_{p.major}{p.minor}, {p.multi_processor_count} SMs, "
          f"{p.total_memory / 2**30:.0f} GiB")


def test_plumbing_and_errors(cuda):
    x = ember.arange(6.0).reshape(2, 3).cuda()
    assert x.is_cuda and x.device == ember.device("cuda:0")
    assert repr(x) == ("tensor([[0., 1., 2.],\n        [3., 4., 5.]], device='cuda:0')")
    assert (x * 2).sum().item() == 30.0
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x + ember.ones(2, 3)
    with pytest.raises(TypeError, match="cuda device type tensor to numpy"):
        x.numpy()
    ember.manual_seed(5)
    a = ember.randn(3, 4)
    ember.manual_seed(5)
    assert ember.randn(3, 4, device="cuda").cpu().tolist() == a.tolist()
    net = ember.nn.Linear(3, 2).cuda()
    assert net.weight.is_cuda and net(ember.ones(1, 3, device="cuda")).is_cuda


def test_memory_counters(cuda):
    cuda.synchronize()
    cuda.empty_cache()
    base = cuda.memory_allocated()
    cuda.reset_peak_memory_stats()
    x = ember.empty(1 << 20, device="cuda")  # 4 MiB
    assert cuda.memory_allocated() >= base + (4 << 20)
    del x
    assert cuda.memory_allocated() <= base + 4096
    assert cuda.max_memory_allocated() >= base + (4 << 20)
    assert cuda.memory_reserved() >= cuda.memory_allocated()
    cuda.empty_cache()


def test_streams_events_pinned(cuda):
    h = ember.arange(1 << 16, dtype=ember.float32).pin_memory()
    assert h.is_pinned()
    s = cuda.Stream()
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    with cuda.stream(s):
        start.record()
        d = h.to("cuda", non_blocking=True)
        y = (d * 2).sum()
        end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0
    s.synchronize()
    assert y.item() == float(np.arange(1 << 16, dtype=np.float64).sum() * 2)
    assert ember.zeros(4, pin_memory=True).is_pinned()


def test_tf32_flag_changes_matmul(cuda):
    """float32 matmul at precision "highest" matches float64; "high" (TF32) is allowed to be
    less exact (Ampere and later: measurably so on a 1024-deep product)."""
    ember.manual_seed(0)
    a, b = ember.randn(256, 1024), ember.randn(1024, 256)
    ref = (a.double() @ b.double()).numpy()
    old = ember.get_float32_matmul_precision()
    try:
        ember.set_float32_matmul_precision("highest")
        exact = (a.cuda() @ b.cuda()).cpu().numpy()
        ember.set_float32_matmul_precision("high")
        tf32 = (a.cuda() @ b.cuda()).cpu().numpy()
    finally:
        ember.set_float32_matmul_precision(old)
    err_exact = np.abs(exact - ref).max()
    err_tf32 = np.abs(tf32 - ref).max()
    print(f"\nmax |error| float32 {err_exact:.2e}, tf32 {err_tf32:.2e}")
    assert err_exact < 1e-3 and err_tf32 < 0.5


PROGRAMS = [
    ("elementwise", [("x", "float32")],
     [("y", "x * 0.5 * (1 + erf(x / 1.4142135623730951))")], [("y", "float32")], None),
    ("elementwise", [("x", "float64"), ("y", "float64")],
     [("z", "where(x > y, tanh(x) - y, maximum(x, y) / 3)")], [("z", "float64")], None),
    ("elementwise", [("i", "int64"), ("j", "int32")],
     [("k", "remainder(i, j) + i * 3")], [("k", "int64")], None),
    ("staged", [("x", "float32")],
     [("m", "max(x)"), ("e", "exp(x - m)"), ("s", "sum(e)"), ("y", "e / s")],
     [("y", "float32")], -1),
    ("staged", [("x", "float32")],
     [("mu", "mean(x)"), ("d", "x - mu"), ("v", "mean(d * d)"), ("y", "d / sqrt(v + 1e-5)")],
     [("y", "float32"), ("mu", "float32")], -1),
    ("staged", [("x", "int64")], [("s", "sum(x)"), ("mx", "max(x)")],
     [("s", "int64"), ("mx", "int64")], (0, 2)),
]


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p[2][-1][1][:30])
@pytest.mark.parametrize("layout", ["contiguous", "strided", "broadcast"])
def test_generated_kernels_match_the_host(cuda, prog, layout):
    import cupy as cp

    from ember._codegen import elementwise_kernel, staged_kernel

    kind, ins, body, outs, axis = prog
    g = np.random.default_rng(0)
    shape = (33, 7, 130)
    arrays = []
    for j, (_, dt) in enumerate(ins):
        a = g.standard_normal(shape) * 3
        a = a.astype(dt) if np.dtype(dt).kind == "f" else (a * 10).astype(dt) + (j * 20 + 1)
        if layout == "strided":
            a = np.ascontiguousarray(np.swapaxes(a, 0, 2)).swapaxes(0, 2)
        elif layout == "broadcast" and j == 0:
            a = np.ascontiguousarray(a[:, :1, :])
        arrays.append(a)
    k = elementwise_kernel(ins, body, outs) if kind == "elementwise" else \
        staged_kernel(ins, body, outs, axis=axis, keepdim=False)
    host = k(arrays)
    dev = k([cp.asarray(a) for a in arrays])
    for h, d in zip(host, dev, strict=True):
        assert isinstance(d, cp.ndarray) and d.shape == h.shape and d.dtype == h.dtype
        np.testing.assert_allclose(cp.asnumpy(d), h, rtol=2e-5 if h.dtype == np.float32
                                   else 1e-12, atol=1e-6)


def test_gelu_runs_the_generated_kernel(cuda):
    import ember.nn.functional as F
    from ember._codegen import eager

    x = ember.randn(1000, 100, requires_grad=True)
    y = F.gelu(x)
    y.sum().backward()
    xd = x.detach().cuda().requires_grad_(True)
    yd = F.gelu(xd)
    yd.sum().backward()
    assert any(key[0] == "gelu" for key in eager._K)
    np.testing.assert_allclose(yd.detach().cpu().numpy(), y.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(xd.grad.cpu().numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-6)
