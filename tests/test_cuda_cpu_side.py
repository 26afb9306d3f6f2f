"""The CUDA backend, checked on a machine without a GPU (issue 15).

Three parts:

- *No CUDA*: ``import ember`` never imports CuPy; without CuPy (or without a device)
  ``ember.cuda`` answers as PyTorch's CPU-only build does and asking for the ``cuda`` device
  raises a RuntimeError naming the ``cuda`` extra.
- *Fake CuPy* (``tests/fake_cupy.py``: NumPy behind CuPy's module layout, arrays that
  refuse silent host conversion): the real ``ember._backends.cupy_backend`` loads on it, so
  device plumbing, the op table, nn layers, the matmul/convolution TF32 switches, memory
  counters, streams, events and pinned memory run end to end. When the real CuPy is
  installed, every NumPy function, ufunc and array method the op table reached is looked
  up in it.
- *CUDA C*: the CUDA dialect of the kernel generator compiles, with ``nvcc`` and with
  NVRTC (the run-time compiler CuPy uses) when present, for the kernels ember builds:
  every fusible record's expression, the eager kernels (GELU, layer norm, softmax,
  cross-entropy, batch norm, Adam, LSTM/GRU cells) and reductions; the slow variant
  replays every kernel the codegen test suites build. And it *runs* under a CPU emulation
  of CUDA's thread model (C++ with OpenMP: a block is a team of threads, ``__syncthreads``
  a barrier), launched by the GPU path's own plans, matching the host kernels.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember
import fake_cupy
from ember._backends import cupy_backend

HERE = os.path.dirname(os.path.abspath(__file__))


# ============================================================================ no CUDA
def test_import_ember_never_imports_cupy():
    code = ("import sys, ember\n"
            "x = ember.ones(3) * 2\n"
            "assert 'cupy' not in sys.modules, 'import ember loaded CuPy'\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


@pytest.fixture
def no_cupy(monkeypatch):
    """CuPy absent (``import cupy`` raises ImportError) for one test."""
    cupy_backend._reset_for_tests()
    monkeypatch.setitem(sys.modules, "cupy", None)
    yield
    cupy_backend._reset_for_tests()


@pytest.mark.parametrize("make", [
    lambda: ember.zeros(2, device="cuda"),
    lambda: ember.tensor([1.0], device="cuda:0"),
    lambda: ember.ones(2).cuda(),
    lambda: ember.ones(2).to("cuda"),
    lambda: ember.randn(2, device=ember.device("cuda")),
    lambda: ember.nn.Linear(2, 2).cuda(),
    lambda: ember.nn.Linear(2, 2, device="cuda"),
])
def test_cuda_without_cupy_names_the_extra(no_cupy, make):
    with pytest.raises(RuntimeError, match=r"not available.*the CUDA backend needs the "
                                           r"'cuda' extra and a GPU"):
        make()


def test_ember_cuda_without_cupy(no_cupy):
    cuda = ember.cuda
    assert cuda.is_available() is False and cuda.device_count() == 0
    assert not cuda.is_initialized()
    assert cuda.memory_allocated() == cuda.max_memory_allocated() == 0
    assert cuda.memory_reserved() == 0
    cuda.empty_cache()
    cuda.manual_seed(0)
    cuda.manual_seed_all(0)
    assert cuda.is_bf16_supported() is False
    with cuda.stream(None):
        pass
    for f in (cuda.current_device, cuda.synchronize, cuda.get_device_name,
              cuda.get_device_properties, cuda.reset_peak_memory_stats, cuda.Stream,
              cuda.Event, cuda.current_stream, lambda: cuda.set_device(0),
              cuda.mem_get_info, cuda.get_device_capability):
        with pytest.raises(RuntimeError, match="no CUDA device is available.*'cuda' extra"):
            f()
    assert ember.device("cuda:0").index == 0  # describing a device needs no CUDA
    assert not ember.ones(2).is_cuda


def test_pinned_memory_without_cuda(no_cupy):
    torch = pytest.importorskip("torch")
    msgs = []
    for lib in (torch, ember):
        row = []
        for f in (lambda: lib.ones(2).pin_memory(), lambda: lib.ones(2, pin_memory=True),
                  lambda: lib.tensor([1.0], pin_memory=True),
                  lambda: lib.empty(2, pin_memory=True)):
            with pytest.raises(RuntimeError) as e:
                f()
            row.append(str(e.value))
        msgs.append(row)
        assert lib.ones(2).is_pinned() is False
    assert msgs[0] == msgs[1]


def test_pinned_memory_without_cuda_no_oracle(no_cupy):
    with pytest.raises(RuntimeError, match="none is available"):
        ember.ones(2).pin_memory()
    with pytest.raises(RuntimeError, match="no pinned memory allocator"):
        ember.zeros(3, pin_memory=True)
    assert ember.zeros(3, pin_memory=False).tolist() == [0.0, 0.0, 0.0]


def test_cupy_without_a_device_is_unavailable():
    """With CuPy installed but no driver or GPU (this machine, typically), the reason says
    so; on a GPU machine CUDA is available instead."""
    try:
        import cupy  # noqa: F401
    except ImportError:
        pytest.skip("CuPy is not installed")
    cupy_backend._reset_for_tests()
    try:
        if ember.cuda.is_available():
            assert ember.cuda.device_count() >= 1
        else:
            assert "CuPy found no" in cupy_backend.unavailable_reason()
            with pytest.raises(RuntimeError, match=r"'cuda' extra and a GPU.*CuPy found no"):
                ember.ones(1, device="cuda")
    finally:
        cupy_backend._reset_for_tests()


# ============================================================================ fake CuPy
@pytest.fixture
def fake(monkeypatch):
    """Fake CuPy installed and ember's CUDA backend loaded on it, for one test."""
    fake_cupy.install(monkeypatch)
    yield sys.modules["cupy"]
    fake_cupy.uninstall()


@pytest.fixture
def fake2(monkeypatch):
    """Fake CuPy with two devices."""
    fake_cupy.install(monkeypatch, device_count=2)
    yield sys.modules["cupy"]
    fake_cupy._DeviceCtx.current = 0
    fake_cupy.uninstall()


def test_fake_device_plumbing(fake):
    assert ember.cuda.is_available() and ember.cuda.device_count() == 1
    assert ember.cuda.is_initialized() and ember.cuda.current_device() == 0
    x = ember.ones(2, 3, device="cuda")
    assert isinstance(x._data, fake.ndarray)
    assert x.device == ember.device("cuda:0") and x.is_cuda and not x.is_cpu
    assert str(x.device) == "cuda:0"
    h = ember.arange(6.0).reshape(2, 3)
    for d in (h.cuda(), h.cuda(0), h.to("cuda"), h.to("cuda:0"), h.to(ember.device("cuda")),
              h.to("cuda", non_blocking=True), ember.tensor(h.tolist(), device="cuda")):
        assert d.is_cuda and d.cpu().tolist() == h.tolist()
        assert d.cpu().device.type == "cpu"
    y = (x * 2 + h.cuda()).sum(0)
    assert y.is_cuda and y.cpu().tolist() == [7.0, 9.0, 11.0]
    with pytest.raises(RuntimeError, match="at least two devices, cuda:0 and cpu! "
                                           r"\(when checking arguments for add\)"):
        x + h
    with pytest.raises(RuntimeError, match="cuda:0 and cpu!"):
        x @ h.t()  # not reported as a shape error
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.cat([x, h])
    assert (x + ember.tensor(1.0)).is_cuda  # 0-d CPU tensors join, as in PyTorch
    with pytest.raises(TypeError, match="cuda device type tensor to numpy"):
        x.numpy()
    with pytest.raises(TypeError, match="bfloat16"):
        ember.ones(2, dtype=ember.bfloat16).cuda()
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        ember.ones(2, device="cuda:3")


def test_fake_random_values_match_the_cpu(fake):
    ember.manual_seed(3)
    a = ember.randn(4, 5)
    ember.manual_seed(3)
    b = ember.randn(4, 5, device="cuda")
    assert b.is_cuda and b.cpu().tolist() == a.tolist()
    assert ember.arange(5, device="cuda").cpu().tolist() == [0, 1, 2, 3, 4]
    assert ember.eye(2, device="cuda").is_cuda
    assert ember.full((2,), 7, device="cuda").cpu().tolist() == [7, 7]


def test_fake_one_device_per_process(fake2):
    assert ember.cuda.device_count() == 2
    with pytest.raises(NotImplementedError, match=r"cuda:1 while the current device is "
                                                  r"cuda:0.*set_device\(1\)"):
        ember.ones(2, device="cuda:1")
    ember.cuda.set_device(1)
    assert ember.cuda.current_device() == 1
    assert ember.ones(2).cuda().device.type == "cuda"
    with ember.cuda.device(0):
        assert ember.cuda.current_device() == 0
    assert ember.cuda.current_device() == 1


def test_fake_modules_and_autograd(fake):
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    assert net.cuda() is net
    assert all(p.is_cuda for p in net.parameters())
    x = ember.randn(5, 4, device="cuda", requires_grad=True)
    net(x).pow(2).sum().backward()
    assert x.grad.is_cuda and all(p.grad.is_cuda for p in net.parameters())
    opt = ember.optim.SGD(net.parameters(), lr=0.1)
    opt.step()
    for make in (lambda p: ember.optim.Adam(p, lr=1e-3),
                 lambda p: ember.optim.AdamW(p, lr=1e-3, amsgrad=True),
                 lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                 lambda p: ember.optim.RMSprop(p, lr=1e-3)):
        o = make(net.parameters())
        before = [p.detach().cpu().numpy().copy() for p in net.parameters()]
        for _ in range(2):
            o.zero_grad()
            net(x).pow(2).sum().backward()
            o.step()
        after = [p.detach().cpu().numpy() for p in net.parameters()]
        assert all(p.is_cuda for p in net.parameters())
        assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert net.cpu() is net and all(not p.is_cuda for p in net.parameters())
    # a device-crossing copy is differentiable (ToCopyBackward0)
    h = ember.ones(3, requires_grad=True)
    (h.cuda() * 3).sum().backward()
    assert h.grad.tolist() == [3.0, 3.0, 3.0] and not h.grad.is_cuda


def test_fake_op_table_and_layers(fake):
    """Every op-table sample and the nn layers of the seam test, on the CuPy backend."""
    import test_backend_seam as seam
    from op_db import OP_DB
    from test_ops import _map, samples

    failing = {}
    for info in OP_DB:
        for s in samples(info, info.dtypes[0]):
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    x, args, kw = _map((s.input, s.args, s.kwargs), seam._to_ember_keep_dtypes)
                    real = info.op(ember, x, *args, **kw)
                except Exception:
                    continue
                try:
                    x, args, kw = _map((s.input, s.args, s.kwargs), seam._to_device)
                    dev = info.op(ember, x, *args, **kw)
                except Exception as e:
                    failing[info.name] = f"{type(e).__name__}: {e}"
                    break
            for r, d in zip(seam._outs(real), seam._outs(dev), strict=True):
                if isinstance(r, ember.Tensor):
                    if not (isinstance(d, ember.Tensor) and d.is_cuda):
                        failing[info.name] = f"result not on the device: {d!r}"
                    elif not seam._same(seam._host(r), seam._host(d)):
                        failing[info.name] = f"values differ for {s}"
            if info.name in failing:
                break
    assert failing == {}
    for name, (build, shape, loss) in seam.LAYERS.items():
        ref, ref_grads = seam._run_layer(build, shape, loss, "cpu")
        out, grads = seam._run_layer(build, shape, loss, "cuda")
        assert out.is_cuda and seam._same(seam._host(out), seam._host(ref)), name
        for (n, g), (_, gr) in zip(grads, ref_grads, strict=True):
            assert g.is_cuda and seam._same(seam._host(g), seam._host(gr)), (name, n)


def test_fake_matmul_and_conv_precision_flags(fake):
    calls = fake_cupy.CALLS["compute_type"]
    rl = fake._core._routines_linalg
    a = ember.ones(4, 4, device="cuda")
    old = ember.get_float32_matmul_precision()
    try:
        ember.set_float32_matmul_precision("high")
        a @ a
        assert calls[-2:] == [("float32", rl.COMPUTE_TYPE_TF32),
                              ("complex64", rl.COMPUTE_TYPE_TF32)]
        n = len(calls)
        a @ a
        assert len(calls) == n  # unchanged flags: no call
        ember.backends.cuda.matmul.allow_tf32 = False
        a @ a
        assert calls[-1] == ("complex64", rl.COMPUTE_TYPE_DEFAULT)
        # convolutions follow cudnn.allow_tf32 (default True), whatever the matmul flag
        x, w = ember.ones(1, 1, 4, 4, device="cuda"), ember.ones(1, 1, 3, 3, device="cuda")
        ember.nn.functional.conv2d(x, w)
        assert calls[-1] == ("complex64", rl.COMPUTE_TYPE_TF32)
        with ember.backends.cudnn.flags(enabled=True, allow_tf32=False):
            ember.nn.functional.conv2d(x, w)
            assert calls[-1] == ("complex64", rl.COMPUTE_TYPE_DEFAULT)
    finally:
        ember.set_float32_matmul_precision(old)


def test_fake_memory_streams_events(fake):
    cuda = ember.cuda
    assert cuda.is_available()  # loads the backend, which installs its tracking allocator
    alloc = fake.cuda.allocator[-1]
    base = cuda.memory_allocated()
    alloc(1000)
    assert cuda.memory_allocated() == base + 1000
    assert cuda.max_memory_allocated() >= base + 1000
    fake.get_default_memory_pool().used -= 1000  # the block is freed
    assert cuda.max_memory_allocated() >= base + 1000 > cuda.memory_allocated()
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == cuda.memory_allocated()
    assert cuda.memory_reserved() >= cuda.memory_allocated()
    cuda.empty_cache()
    assert fake.get_default_memory_pool().freed == 1
    assert cuda.mem_get_info() == (70 << 30, 80 << 30)
    assert cuda.get_device_name() == "Fake GPU" and cuda.get_device_capability() == (9, 0)
    p = cuda.get_device_properties(0)
    assert p.multi_processor_count == 132 and p.total_memory == 80 << 30
    cuda.synchronize()
    s = cuda.Stream()
    with cuda.stream(s) as entered:
        assert entered is s and cuda.current_stream() == s
        y = ember.ones(3, device="cuda") * 2
    assert cuda.current_stream() == cuda.default_stream()
    s.synchronize()
    assert s.query() and y.is_cuda
    a, b = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    a.record()
    b.record(s)
    b.synchronize()
    assert a.elapsed_time(b) >= 0 and a.query()
    s.wait_event(a)
    s.wait_stream(cuda.current_stream())
    assert isinstance(s.record_event(), cuda.Event)
    with pytest.raises(NotImplementedError, match="interprocess"):
        cuda.Event(interprocess=True)


def test_fake_pinned_memory(fake):
    t = ember.arange(4.0)
    p = t.pin_memory()
    assert p.is_pinned() and not t.is_pinned() and p.tolist() == t.tolist()
    assert p.pin_memory() is p
    z = ember.zeros(2, 2, pin_memory=True)
    assert z.is_pinned() and z.device.type == "cpu"
    assert ember.randn(3, pin_memory=True).is_pinned()
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        ember.ones(2, device="cuda").pin_memory()
    with pytest.raises(RuntimeError, match="Only dense CPU tensors can be pinned"):
        ember.ones(2, device="cuda", pin_memory=True)


# Names the op table reaches that CuPy lacks (name -> why it is fine or what to do).
CUPY_GAPS: dict[str, str] = {}


def test_cupy_has_what_the_op_table_calls(fake):
    """Run the op table on the fake, then look every reached name up in the real CuPy
    (in a subprocess: the fake occupies ``sys.modules['cupy']`` here)."""
    if shutil.which(sys.executable) is None:
        pytest.skip("no interpreter path")
    probe = subprocess.run([sys.executable, "-c", "import cupy"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("CuPy is not installed")
    for k in ("functions", "ufuncs", "methods"):
        fake_cupy.CALLS[k] = set()
    test_fake_op_table_and_layers(fake)
    names = {k: sorted(fake_cupy.CALLS[k]) for k in ("functions", "ufuncs", "methods")}
    code = (
        "import json, sys, cupy\n"
        "names = json.loads(sys.stdin.read())\n"
        "def has(mod, dotted):\n"
        "    for part in dotted.split('.'):\n"
        "        mod = getattr(mod, part, None)\n"
        "        if mod is None: return False\n"
        "    return True\n"
        "miss = [f for f in names['functions'] if not has(cupy, f)]\n"
        "miss += [u for u in names['ufuncs'] if not has(cupy, u)]\n"
        "miss += ['ndarray.' + m for m in names['methods'] if not has(cupy.ndarray, m)]\n"
        "print(json.dumps(miss))\n")
    r = subprocess.run([sys.executable, "-c", code], input=json.dumps(names),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    missing = set(json.loads(r.stdout))
    assert missing == set(CUPY_GAPS), sorted(missing)


# ============================================================================ CUDA C
def _programs():
    """Kernel programs ember builds: every fusible record's expression (float32, and int64
    where the expression is integer-safe), the eager kernels, and reductions."""
    from ember._codegen import eager, kernel
    from ember._ops.core import OPS

    progs = []
    for op in OPS.values():
        expr = getattr(op, "expr", None)
        if not expr:
            continue
        two = "b" in expr.replace("abs", "").replace("sub", "")
        ins = [("a", "float32")] + ([("b", "float32")] if two else [])
        progs.append(("elementwise", ins, [("y", expr)], [("y", "float32")]))
    log = []
    orig = kernel._log_program
    kernel._LOG = "memory"
    kernel._log_program = lambda i, b, o, s: log.append(
        ("staged" if s else "elementwise", [tuple(map(str, x)) for x in i], list(b),
         [(n, str(np.dtype(d))) for n, d in o]))
    eager._K.clear()
    try:
        _run_eager_kernels()
    finally:
        kernel._LOG = None
        kernel._log_program = orig
        eager._K.clear()
    progs += log
    for dt in ("float32", "float64", "int32", "int64", "bool"):
        for red in ("sum", "mean", "max", "min", "prod"):
            if dt == "bool" and red in ("mean",):
                continue
            progs.append(("staged", [("x", dt)], [("r", f"{red}(x)")],
                          [("r", "float64" if red == "mean" else dt)]))
    return progs


def _run_eager_kernels():
    """Run the ops whose forwards and backwards use eager kernels (float32 and float64)."""
    import ember.nn.functional as F
    from ember import nn

    for dt in (ember.float32, ember.float64):
        ember.manual_seed(0)
        x = ember.randn(4, 6, dtype=dt, requires_grad=True)
        t = ember.tensor([0, 2, 1, 5])
        for y in (F.gelu(x), F.gelu(x, approximate="tanh"), F.softmax(x, 1),
                  F.log_softmax(x, 1), F.layer_norm(x, (6,)), F.cross_entropy(x, t),
                  F.layer_norm(x, (6,), ember.ones(6, dtype=dt), ember.zeros(6, dtype=dt))):
            y.sum().backward()
        xb = ember.randn(3, 6, 2, 2, dtype=dt, requires_grad=True)
        bn = nn.BatchNorm2d(6, dtype=dt)
        bn(xb).sum().backward()
        for cell in (nn.LSTM(3, 4, dtype=dt), nn.GRU(3, 4, dtype=dt)):
            out = cell(ember.randn(5, 2, 3, dtype=dt))[0]
            out.sum().backward()
        for opt in (lambda p: ember.optim.Adam(p, lr=0.1),
                    lambda p: ember.optim.AdamW(p, lr=0.1, amsgrad=True),
                    lambda p: ember.optim.Adam(p, lr=0.1, weight_decay=0.1, maximize=True)):
            w = ember.randn(8, dtype=dt, requires_grad=True)
            o = opt([w])
            (w * w).sum().backward()
            o.step()


def _cuda_source(progs, full=True):
    from ember._codegen import cuda_emit
    from ember._codegen.ir import Unsupported, parse_program

    parts, n, skipped = [cuda_emit.PRELUDE], 0, []
    seen = set()
    for kind, ins, body, outs in progs:
        key = json.dumps([kind, ins, body, outs], default=str)
        if key in seen:
            continue
        seen.add(key)
        staged = kind == "staged"
        try:
            p = parse_program(ins, body, outs, staged=staged)
            # quick (full=False): one variant of each program, the others for every 4th
            more = full or n % 4 == 0
            if staged:
                for nk, nr in ((1, 1), (2, 2), (1, 3))[:3 if more else 1]:
                    parts.append(cuda_emit.emit_staged(p, f"k{n}_st_{nk}_{nr}", nk, nr))
            else:
                nops = len(ins) + len(outs)
                for modes in ("1" * nops, "0" + "g" * (nops - 1))[:2 if full else 1]:
                    parts.append(cuda_emit.emit_elementwise(p, f"k{n}_ew_{modes}", modes))
                if more:
                    parts.append(cuda_emit.emit_elementwise(p, f"k{n}_ew_nd", "", flat=False))
        except Unsupported as e:  # the C dialect refuses it too: the NumPy executor runs it
            skipped.append((body, str(e)))
        n += 1
    return "\n".join(parts), n, skipped


def _nvcc():
    return shutil.which("nvcc")


class _NVRTC:
    """The NVRTC library (the run-time compiler CuPy uses) through ctypes: found by
    ``cuda.pathfinder`` (pip's nvidia-cuda-nvrtc wheels) or the system's library path."""

    def __init__(self, lib):
        self.lib = lib

    def compile(self, src, options):
        """PTX of ``src`` (str); AssertionError with NVRTC's log on failure."""
        import ctypes

        lib, prog = self.lib, ctypes.c_void_p()
        assert lib.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), b"kernels.cu", 0,
                                      None, None) == 0
        try:
            opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
            rc = lib.nvrtcCompileProgram(prog, len(options), opts)
            if rc != 0:
                n = ctypes.c_size_t()
                lib.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
                log = ctypes.create_string_buffer(n.value)
                lib.nvrtcGetProgramLog(prog, log)
                raise AssertionError(f"NVRTC error {rc}:\n{log.value.decode()[-4000:]}")
            n = ctypes.c_size_t()
            lib.nvrtcGetPTXSize(prog, ctypes.byref(n))
            return n.value
        finally:
            lib.nvrtcDestroyProgram(ctypes.byref(prog))


def _nvrtc():
    """An :class:`_NVRTC`, or None when no libnvrtc can be loaded."""
    import ctypes
    import ctypes.util

    paths = []
    try:
        from cuda.pathfinder import load_nvidia_dynamic_lib

        paths.append(load_nvidia_dynamic_lib("nvrtc").abs_path)
    except Exception:
        pass
    found = ctypes.util.find_library("nvrtc")
    if found:
        paths.append(found)
    for p in paths:
        try:
            return _NVRTC(ctypes.CDLL(p))
        except OSError:
            continue
    return None


def _compile_all(src, tmp_path, nvcc_src=None):
    """Compile ``src`` with NVRTC (when present) and ``nvcc_src`` (default ``src``) with
    ``nvcc -c`` for sm_90 (when present); the names of the compilers that ran."""
    compiled = []
    nvcc = _nvcc()
    if nvcc is not None:
        cu = tmp_path / "kernels.cu"
        cu.write_text(src if nvcc_src is None else nvcc_src)
        r = subprocess.run([nvcc, "-c", "-arch=sm_90", "-diag-suppress=177", "-std=c++17",
                            str(cu), "-o", str(tmp_path / "kernels.o")],
                           capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, r.stderr[-4000:]
        compiled.append("nvcc")
    nvrtc = _nvrtc()
    if nvrtc is not None:
        assert nvrtc.compile(src, ["-arch=compute_90", "--std=c++17"]) > 0
        compiled.append("nvrtc")
    if not compiled:
        pytest.skip("neither nvcc nor NVRTC is available")
    return compiled


def test_cuda_dialect_compiles(tmp_path):
    """The CUDA C of the kernels ember builds compiles (nvcc -c and NVRTC)."""
    if _nvcc() is None and _nvrtc() is None:
        pytest.skip("neither nvcc nor NVRTC is available")
    progs = _programs()
    kinds = {k for k, *_ in progs}
    assert kinds == {"elementwise", "staged"} and len(progs) > 80
    src, n, skipped = _cuda_source(progs, full=False)
    assert n > 80 and len(skipped) < n // 4, skipped
    # nvcc (host compiler + ptxas: slow) builds a cross-section; NVRTC, the compiler CuPy
    # runs, builds them all (the slow test gives nvcc every variant)
    small, _, _ = _cuda_source(progs[::8] + [p for p in progs if p[0] == "staged"][::3],
                               full=False)
    _compile_all(src if _nvrtc() is not None else small, tmp_path, nvcc_src=small)


@pytest.mark.slow
def test_cuda_dialect_compiles_every_codegen_test_kernel(tmp_path):
    """Every kernel program the codegen test suites build (logged by EMBER_KERNEL_LOG in a
    subprocess run of those suites), compiled as CUDA C."""
    if _nvcc() is None and _nvrtc() is None:
        pytest.skip("neither nvcc nor NVRTC is available")
    log = tmp_path / "kernels.jsonl"
    env = dict(os.environ, EMBER_KERNEL_LOG=str(log))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        os.path.join(HERE, "test_codegen.py"),
                        os.path.join(HERE, "test_codegen_eager.py")],
                       env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:]
    progs = []
    for line in log.read_text().splitlines():
        rec = json.loads(line)
        progs.append(("staged" if rec["staged"] else "elementwise", rec["inputs"],
                      rec["body"], rec["outputs"]))
    src, n, skipped = _cuda_source(progs)
    assert n > 100
    _compile_all(src, tmp_path)


def test_cuda_sources_are_self_contained():
    """NVRTC has no C library headers: the source must not need any."""
    from ember._codegen import cuda_emit
    from ember._codegen.ir import parse_program

    p = parse_program([("x", "int64"), ("y", "float32")],
                      [("z", "where(x > 2, y, -inf)"), ("m", "maximum(z, nan)")],
                      [("m", "float32")])
    src = cuda_emit.PRELUDE + cuda_emit.emit_elementwise(p, "k", "111")
    rtc = src.split("#else")[0]
    assert "#include" not in rtc and "int64_t" in rtc and "INT64_MIN" in rtc
    assert 'extern "C" __global__ void k(' in src


def test_fake_repr_matches_pytorch_format(fake):
    x = ember.tensor([1.0, 2.0], device="cuda")
    assert repr(x) == "tensor([1., 2.], device='cuda:0')"
    y = ember.tensor([1, 2], dtype=ember.int32, device="cuda", requires_grad=False)
    assert repr(y) == "tensor([1, 2], device='cuda:0', dtype=torch.int32)"
    z = ember.ones(2, device="cuda", requires_grad=True) * 2
    assert repr(z) == "tensor([2., 2.], device='cuda:0', grad_fn=<MulBackward0>)"


def test_fake_accelerator_reports_cuda(fake):
    acc = ember.accelerator
    assert acc.is_available() and acc.device_count() == 1
    assert acc.current_accelerator() == ember.device("cuda")
    assert acc.current_device_index() == 0
    acc.synchronize()
    acc.empty_cache()
    acc.empty_host_cache()
    acc.set_device_index(0)
    assert acc.memory_allocated() >= 0 and acc.get_memory_info() == (70 << 30, 80 << 30)
    assert acc.get_device_capability() == (9, 0)
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    with pytest.raises(NotImplementedError, match="memory_stats"):
        acc.memory_stats()


def test_accelerator_without_cuda(no_cupy):
    acc = ember.accelerator
    assert acc.is_available() is False and acc.current_accelerator() is None
    assert acc.device_count() == 0
    for f in (acc.synchronize, acc.current_device_index, acc.empty_cache,
              acc.memory_allocated, lambda: acc.set_device_index(0)):
        with pytest.raises(RuntimeError, match="none is available"):
            f()


# ============================================================================ CUDA C, run
# The generated CUDA C run on the CPU: a shim maps CUDA's built-ins onto C++ with OpenMP (a
# block is an OpenMP team of THREADS threads, __syncthreads a barrier, __shared__ arrays
# statics shared by the team), and the launch plans of cuda_kernel.py (the ones the GPU
# path uses) give the shapes, strides and grid. Results must equal the host kernels'.
_SHIM = r"""
#include <math.h>
#include <string.h>
#include <omp.h>
struct ember_dim3 { unsigned int x, y, z; };
static thread_local ember_dim3 threadIdx, blockIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static
#define __syncthreads() _Pragma("omp barrier")
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static int ember_bad_team = 0;
"""

EMULATED = [
    ("elementwise", [("x", "float32")],
     [("y", "x * 0.5 * (1 + erf(x / 1.4142135623730951))")], [("y", "float32")], None),
    ("elementwise", [("x", "float64"), ("y", "float64")],
     [("z", "where(x > y, tanh(x) - y, maximum(x, y) / 3)"), ("w", "z > 0")],
     [("z", "float64"), ("w", "bool")], None),
    ("elementwise", [("i", "int64"), ("j", "int32")],
     [("k", "remainder(i, j) + i * 3")], [("k", "int64")], None),
    ("staged", [("x", "float32")],
     [("m", "max(x)"), ("e", "exp(x - m)"), ("s", "sum(e)"), ("y", "e / s")],
     [("y", "float32"), ("m", "float32")], -1),
    ("staged", [("x", "float64")],
     [("mu", "mean(x)"), ("d", "x - mu"), ("v", "mean(d * d)"), ("y", "d / sqrt(v + 1e-5)")],
     [("y", "float64"), ("mu", "float64"), ("v", "float64")], (1, 2)),
    ("staged", [("x", "int64")], [("s", "sum(x)"), ("mx", "max(x)"), ("b", "min(x > -5)")],
     [("s", "int64"), ("mx", "int64"), ("b", "bool")], (0, 2)),
    ("staged", [("x", "float32"), ("t", "int64", "row")],
     [("m", "max(x)"), ("lse", "log(sum(exp(x - m))) + m"),
      ("pick", "sum(where(rindex == t, x, 0))"), ("loss", "lse - pick")],
     [("loss", "float32")], -1),
]


def _emulated_launcher(name, kind, nops):
    ptrs = ", ".join(f"char *p{k}" for k in range(nops))
    names = ", ".join(f"p{k}" for k in range(nops))
    first = "long long total, int nd" if kind == "elementwise" else "long long K, long long R"
    call = "total, nd" if kind == "elementwise" else "K, R"
    return (f'extern "C" int launch_{name}(int grid, {first}, const long long *shape, '
            f"const long long *strides, {ptrs}) {{\n"
            "  omp_set_dynamic(0);\n"
            "  for (int b = 0; b < grid; b++) {\n"
            f"    #pragma omp parallel num_threads({_threads()})\n"
            "    {\n"
            f"      if (omp_get_num_threads() != {_threads()}) ember_bad_team = 1;\n"
            "      blockIdx.x = b; threadIdx.x = omp_get_thread_num();\n"
            f"      blockDim.x = {_threads()}; gridDim.x = grid;\n"
            f"      if (!ember_bad_team) {name}({call}, (const int64_t *)shape, "
            f"(const int64_t *)strides, {names});\n"
            "    }\n"
            "  }\n"
            "  return ember_bad_team;\n"
            "}\n")


def _threads():
    from ember._codegen import cuda_emit

    return cuda_emit.THREADS


def _layouts(ins, rng, shape):
    """(layout name, input arrays) cases: contiguous, transposed (strided), broadcast."""
    def make(dt, j):
        a = rng.standard_normal(shape) * 3
        return a.astype(dt) if np.dtype(dt).kind == "f" else (a * 10).astype(dt) + j * 20 + 1

    base = [make(dt, j) for j, (_, dt, *_) in enumerate(ins)]
    strided = [np.ascontiguousarray(np.swapaxes(a, 0, 2)).swapaxes(0, 2) for a in base]
    bcast = [np.ascontiguousarray(a[:, :1, :]) if j == len(base) - 1 and len(base) > 1
             else a for j, a in enumerate(base)]
    return [("contiguous", base), ("strided", strided), ("broadcast", bcast)]


def test_cuda_kernels_run_under_a_cpu_emulation(tmp_path):
    import ctypes

    from ember._codegen import cuda_emit, cuda_kernel, elementwise_kernel, staged_kernel

    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    rng = np.random.default_rng(0)
    shape = (5, 3, 70)
    cases, sources = [], []
    for kind, ins, body, outs, axis in EMULATED:
        k = elementwise_kernel(ins, body, outs) if kind == "elementwise" else \
            staged_kernel(ins, body, outs, axis=axis, keepdim=False)
        for layout, arrays in _layouts(ins, rng, shape):
            if kind == "staged" and any(len(i) == 3 for i in ins):  # the row input: (5, 3)
                arrays = [arrays[0], rng.integers(0, 70, shape[:2]).astype(np.int64)[..., None]]
            host = k(arrays)
            full = np.broadcast_shapes(*(a.shape for a in arrays))
            dev_outs = [np.full(h.shape, 77, h.dtype) for h in host]
            if kind == "elementwise":
                pl = cuda_kernel.elementwise_plan(k, arrays, dev_outs, full)
            else:
                pl = cuda_kernel.staged_plan(k, arrays, dev_outs, full, k._axes(len(full)))
            uniq = f"{pl['name']}_{len(cases)}"
            src = pl["make"]().replace(f" {pl['name']}(", f" {uniq}(")
            sources.append(src + "\n" + _emulated_launcher(uniq, kind, len(arrays) + len(outs)))
            cases.append((uniq, kind, pl, arrays, host, dev_outs, layout, body[-1][1]))
    so = tmp_path / "emulated.so"
    cpp = tmp_path / "emulated.cpp"
    cpp.write_text(_SHIM + cuda_emit.PRELUDE + "\n".join(sources))
    r = subprocess.run([cxx, "-std=c++17", "-O1", "-fopenmp", "-shared", "-fPIC",
                        "-w", str(cpp), "-o", str(so)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    lib = ctypes.CDLL(str(so))
    for uniq, kind, pl, arrays, host, dev_outs, layout, what in cases:
        fn = getattr(lib, f"launch_{uniq}")
        shp = np.array(pl["shape"], np.int64)
        stv = np.array(pl["strides"], np.int64)
        # a small grid, so the grid-stride loops take several turns
        grid = min(pl["grid"], 3)
        first = (ctypes.c_longlong(pl["total"]), ctypes.c_int(pl["nd"])) \
            if kind == "elementwise" else (ctypes.c_longlong(pl["K"]), ctypes.c_longlong(pl["R"]))
        rc = fn(ctypes.c_int(grid), *first, shp.ctypes.data_as(ctypes.c_void_p),
                stv.ctypes.data_as(ctypes.c_void_p),
                *[ctypes.c_void_p(a.ctypes.data) for a in list(arrays) + dev_outs])
        assert rc == 0, "OpenMP did not give a full team of threads"
        for h, d in zip(host, dev_outs, strict=True):
            np.testing.assert_allclose(d, h, rtol=1e-6 if h.dtype != np.float32 else 2e-6,
                                       atol=1e-6, err_msg=f"{uniq} {layout} {what}")


def test_fake_autocast_and_grad_scaler_on_cuda(fake):
    """With a CUDA device, autocast('cuda') runs PyTorch's CUDA lists in float16 and
    GradScaler('cuda') is enabled (tests/test_cuda_amp_cpu_side.py checks them in depth);
    bfloat16 is refused (CuPy has no bfloat16 arrays)."""
    with ember.autocast("cuda", dtype=ember.float16):
        assert (ember.ones(2, 2, device="cuda") @ ember.ones(2, 2, device="cuda")).dtype == \
            ember.float16
    with pytest.raises(RuntimeError, match="bfloat16"):
        ember.autocast("cuda", dtype=ember.bfloat16)
    assert ember.amp.GradScaler("cuda").is_enabled()
    with ember.autocast("cpu", dtype=ember.bfloat16):  # the CPU's autocast is unaffected
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.bfloat16


def test_dataloader_pins_batches_with_cuda(fake):
    import collections

    Pair = collections.namedtuple("Pair", "x y")
    data = [Pair(ember.full((2,), float(i)), {"label": ember.tensor(i)}) for i in range(4)]
    loader = ember.utils.data.DataLoader(data, batch_size=2, pin_memory=True)
    batches = list(loader)
    assert len(batches) == 2 and isinstance(batches[0], Pair)
    assert batches[0].x.is_pinned() and batches[0].y["label"].is_pinned()
    assert batches[1].x.tolist() == [[2.0, 2.0], [3.0, 3.0]]
    assert not next(iter(ember.utils.data.DataLoader(data, batch_size=2))).x.is_pinned()


def test_special_functions_on_cuda(fake):
    # cupyx.scipy.special where CuPy has the function, the host kernel on a copy otherwise
    x = ember.linspace(0.1, 3, 7)
    xc = x.cuda()
    for name in ("bessel_j0", "bessel_y1", "modified_bessel_k1", "scaled_modified_bessel_k0",
                 "airy_ai", "spherical_bessel_j0", "i0e", "erfcx", "log_ndtr"):
        f = getattr(ember.special, name)
        y = f(xc)
        assert y.is_cuda and ember.allclose(y.cpu(), f(x)), name
    for name in ("chebyshev_polynomial_t", "hermite_polynomial_h", "legendre_polynomial_p"):
        f = getattr(ember.special, name)
        assert ember.allclose(f(xc, 3).cpu(), f(x, 3)), name
    assert ember.allclose(ember.special.gammainc(xc, xc).cpu(), ember.special.gammainc(x, x))
