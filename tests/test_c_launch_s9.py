"""NOTE [ A C entry for kernel launches ]: kernels launched through the small CPython
extension give the ctypes launch's results bit for bit; without the extension (no headers,
unconfirmed array layout) everything runs through ctypes."""

import threading

import numpy as np
import pytest

from ember._codegen import build, elementwise_kernel, kernel, ufuncs

HAVE_CC = build.compiler()[0] is not None
needs_launch = pytest.mark.skipif(not HAVE_CC or kernel._c_launch() is None,
                                  reason="no compiler or no Python headers")


def _operands(n=300_001, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    a[:3] = [np.nan, np.inf, -0.0]
    return a, b


@needs_launch
def test_c_launch_equals_ctypes_launch(monkeypatch):
    a, b = _operands()
    body = [("y", "where(a > b, a * b - 1.5, sqrt(abs(b)))")]
    k_c = elementwise_kernel([("a", "float32"), ("b", "float32")], body, [("y", "float32")])
    assert k_c._plan([a, b])[6] is not None  # planned with the C entry
    r_c = k_c([a, b])[0]
    monkeypatch.setattr(kernel, "_LAUNCH", [None])  # a process without the extension
    k_t = elementwise_kernel([("a", "float32"), ("b", "float32")], body, [("y", "float32")])
    k_t._plans.clear()
    assert k_t._plan([a, b])[6] is None
    r_t = k_t([a, b])[0]
    assert np.array_equal(r_c.view(np.uint32), r_t.view(np.uint32))
    ref = np.where(a > b, a * b - np.float32(1.5), np.sqrt(np.abs(b)))
    assert np.array_equal(r_c.view(np.uint32), ref.view(np.uint32))


@needs_launch
def test_launchers_and_broadcast_strides():
    a = np.arange(600 * 700, dtype=np.float64).reshape(600, 700)
    col = np.linspace(-1, 1, 600).reshape(600, 1)
    for _ in range(3):  # the checked call, then the cached launcher (NOTE [ Kernel launchers ])
        r = ufuncs.run("a * b + a", "fi", (a, col))
        assert np.array_equal(r, a * col + a)
    out = np.empty_like(a)
    for _ in range(3):
        assert ufuncs.run("-a", "fi", (a,), out=out) is out
        assert np.array_equal(out, -a)


@needs_launch
def test_launch_refuses_bad_calls():
    go = kernel._c_launch()
    with pytest.raises(TypeError):
        go(1, 2, 3)
    with pytest.raises(TypeError):
        go(1, 1, 0, 0, [np.zeros(2)], 16, 1)  # operands must be a tuple
    with pytest.raises(ValueError):
        go(1, 1, 0, 0, tuple(np.zeros(1) for _ in range(33)), 16, 1)
    with pytest.raises(ValueError):
        go(0, 1, 0, 0, (np.zeros(1),), 16, 1)  # no function


@needs_launch
def test_launches_from_two_python_threads():
    a, b = _operands(1 << 19, seed=3)
    ref = ufuncs.run("a * b", "fi", (a, b))
    errors = []

    def work():
        try:
            for _ in range(50):
                r = ufuncs.run("a * b", "fi", (a, b))
                if not np.array_equal(r.view(np.uint32), ref.view(np.uint32)):
                    errors.append("differs")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in ts)


def test_no_python_headers_means_no_extension(monkeypatch, tmp_path):
    import sysconfig

    paths = dict(sysconfig.get_paths())
    paths["include"] = str(tmp_path / "nowhere")
    monkeypatch.setattr(sysconfig, "get_paths", lambda *a, **k: paths)
    assert build.load_extension("_ember_launch", kernel._LAUNCH_SRC) is None


@pytest.mark.skipif(not HAVE_CC, reason="no compiler")
def test_a_broken_extension_source_gives_none(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path))
    assert build.load_extension("_ember_broken", "this is not C") is None
