"""The modules and small names real PyTorch programs import (issue 19, items 1, 2 and 4).

accelerator, backends flags, float32 matmul precision, vision.utils (make_grid/save_image),
hub, utils.checkpoint, legacy typed constructors, Tensor.new/is_inference, GradScaler and
the autocast switch. PyTorch is the oracle where it has the feature (tests skip that part
without it); the rest checks values computed by hand.
"""

import importlib.util
import io
import os
import pickle
import subprocess
import sys
import urllib.error
import warnings

import numpy as np
import pytest

import ember


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ import cost
def test_new_modules_load_lazily():
    code = ("import sys, ember; mods = ['ember.accelerator', 'ember.backends', 'ember.hub', "
            "'ember.amp', 'ember.cpu', 'ember.as_torch', 'ember.vision', "
            "'ember.utils.checkpoint']; print([m for m in mods if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


# ------------------------------------------------------------------ accelerator
def test_accelerator_cpu_only_answers():
    acc = ember.accelerator
    assert acc.is_available() is False
    assert acc.current_accelerator() is None
    assert acc.current_accelerator(check_available=True) is None
    assert acc.device_count() == 0
    for fn in (acc.current_device_index, acc.synchronize, acc.empty_cache,
               acc.memory_allocated, acc.max_memory_allocated, acc.get_memory_info):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none"):
            fn()
    with pytest.raises(RuntimeError, match="none is available"):
        acc.set_device_index(0)
    with acc.device_index(None):
        pass
    with pytest.raises(RuntimeError):
        with acc.device_index(0):
            pass
    with pytest.warns(FutureWarning, match="current_device_index"), pytest.raises(RuntimeError):
        acc.current_device_idx()


def test_accelerator_matches_torch():
    torch = _torch()
    assert ember.accelerator.is_available() == torch.accelerator.is_available()
    assert ember.accelerator.device_count() == torch.accelerator.device_count()
    assert (ember.accelerator.current_accelerator() is None) == (
        torch.accelerator.current_accelerator() is None)
    for name in ("current_device_index", "synchronize", "memory_allocated", "empty_cache"):
        with pytest.raises(RuntimeError) as te:
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError) as ee:
            getattr(ember.accelerator, name)()
        assert str(ee.value) == str(te.value)


def test_common_device_selection_idiom():
    acc = ember.accelerator
    dev = acc.current_accelerator() if acc.is_available() else ember.device("cpu")
    assert ember.ones(2).to(dev).device == ember.device("cpu")


# ------------------------------------------------------------------ backends
@pytest.fixture
def restore_flags():
    cud, mkl = ember.backends.cudnn, ember.backends.mkldnn
    saved = ({k: getattr(cud, k) for k in ("enabled", "benchmark", "deterministic",
                                           "allow_tf32")},
             {k: getattr(mkl, k) for k in ("enabled", "deterministic")},
             ember.get_float32_matmul_precision(), ember.are_deterministic_algorithms_enabled(),
             ember.is_deterministic_algorithms_warn_only_enabled())
    yield
    for k, v in saved[0].items():
        setattr(cud, k, v)
    for k, v in saved[1].items():
        setattr(mkl, k, v)
    ember.set_float32_matmul_precision(saved[2])
    ember.use_deterministic_algorithms(saved[3], warn_only=saved[4])


def test_cudnn_flags_defaults_match_torch():
    torch = _torch()
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(ember.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert ember.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert ember.backends.cudnn.version() == torch.backends.cudnn.version()
    assert ember.backends.mps.is_available() == torch.backends.mps.is_available()
    assert ember.backends.mps.is_built() == torch.backends.mps.is_built()
    # ember "is built" for CUDA when CuPy is installed; the CPU wheel of PyTorch never is
    assert ember.backends.cuda.is_built() == (importlib.util.find_spec("cupy") is not None)
    for name in ("enabled", "deterministic"):
        assert getattr(ember.backends.mkldnn, name) == getattr(torch.backends.mkldnn, name)
    m = ember.backends.cuda.matmul
    assert m.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    assert m.allow_fp16_reduced_precision_reduction == \
        torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction


def test_seed_everything_idiom(restore_flags):
    import ember.backends.cudnn as cudnn

    assert cudnn is ember.backends.cudnn
    ember.manual_seed(0)
    ember.backends.cudnn.deterministic = True
    ember.backends.cudnn.benchmark = False
    ember.use_deterministic_algorithms(True)
    assert cudnn.deterministic is True and cudnn.benchmark is False
    assert ember.are_deterministic_algorithms_enabled()
    # honoured: two identical runs give bitwise-identical results
    runs = []
    for _ in range(2):
        ember.manual_seed(3)
        net = ember.nn.Sequential(ember.nn.Conv2d(2, 4, 3), ember.nn.ReLU(), ember.nn.Flatten(),
                                  ember.nn.Linear(4 * 6 * 6, 2))
        x = ember.randn(3, 2, 8, 8)
        net(x).sum().backward()
        runs.append([p.grad.numpy().copy() for p in net.parameters()])
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def test_backend_flag_type_checks_match_torch(restore_flags):
    messages = {}
    for mod, name in (("cudnn", "benchmark"), ("cudnn", "deterministic"),
                      ("cudnn", "enabled"), ("mkldnn", "enabled")):
        with pytest.raises(RuntimeError) as e:
            setattr(getattr(ember.backends, mod), name, "yes")
        messages[mod, name] = str(e.value)
    assert messages["cudnn", "benchmark"] == "set_benchmark_cudnn expects a bool, but got str"
    torch = _torch()
    for (mod, name), msg in messages.items():
        with pytest.raises(RuntimeError) as e:
            setattr(getattr(torch.backends, mod), name, "yes")
        assert str(e.value) == msg


def test_backend_flags_context(restore_flags):
    cud = ember.backends.cudnn
    with cud.flags(enabled=False, benchmark=True, deterministic=True):
        assert (cud.enabled, cud.benchmark, cud.deterministic) == (False, True, True)
    assert (cud.enabled, cud.benchmark, cud.deterministic) == (True, False, False)
    with ember.backends.mkldnn.flags(enabled=False):
        assert ember.backends.mkldnn.enabled is False
    assert ember.backends.mkldnn.enabled is True
    cud.some_user_attribute = 3  # other attributes assign freely, as in PyTorch
    assert cud.some_user_attribute == 3
    del cud.some_user_attribute


def test_backends_is_available_is_honest():
    assert ember.backends.cudnn.is_available() is False
    assert ember.backends.cudnn.is_acceptable(ember.zeros(1)) is False
    assert ember.backends.mkldnn.is_available() is False
    assert ember.backends.openmp.is_available() is False
    assert ember.backends.mkl.is_available() is False
    assert ember.backends.mps.is_available() is False
    with pytest.raises(AttributeError):
        ember.backends.nosuch


def test_float32_matmul_precision_and_tf32_tie(restore_flags):
    m = ember.backends.cuda.matmul
    assert ember.get_float32_matmul_precision() == "highest" and m.allow_tf32 is False
    m.allow_tf32 = True
    assert ember.get_float32_matmul_precision() == "high"
    ember.set_float32_matmul_precision("medium")
    assert m.allow_tf32 is True
    ember.set_float32_matmul_precision("highest")
    assert m.allow_tf32 is False
    with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
        ember.set_float32_matmul_precision("low")
    assert ember.get_float32_matmul_precision() == "highest"
    with pytest.raises(RuntimeError, match="expects a str, but got int"):
        ember.set_float32_matmul_precision(3)
    with pytest.raises(RuntimeError, match="set_allow_tf32_cublas expects a bool"):
        m.allow_tf32 = 1
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        m.foo
    with pytest.raises(TypeError, match="expects a bool or a tuple/list of bools"):
        m.allow_fp16_reduced_precision_reduction = "x"
    # honoured: float32 products stay at full float32 precision under every setting
    a = ember.randn(64, 64)
    ref = (a.double() @ a.double()).float().numpy()
    for p in ("high", "medium"):
        ember.set_float32_matmul_precision(p)
        np.testing.assert_allclose((a @ a).numpy(), ref, rtol=1e-5, atol=1e-4)


def test_float32_matmul_precision_matches_torch(restore_flags):
    torch = _torch()
    prev = torch.get_float32_matmul_precision()
    try:
        for p in ("high", "medium", "highest"):
            torch.set_float32_matmul_precision(p)
            ember.set_float32_matmul_precision(p)
            assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
            assert ember.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.set_float32_matmul_precision(prev)


def test_deterministic_algorithms_flags(restore_flags):
    assert ember.are_deterministic_algorithms_enabled() is False
    ember.use_deterministic_algorithms(True, warn_only=True)
    assert ember.are_deterministic_algorithms_enabled()
    assert ember.is_deterministic_algorithms_warn_only_enabled()
    with pytest.raises(TypeError, match="must be bool"):
        ember.use_deterministic_algorithms("yes")
    torch = _torch()
    assert torch.are_deterministic_algorithms_enabled() is False  # same default


# ------------------------------------------------------------------ vision.utils
def test_make_grid_layout():
    from ember.vision.utils import make_grid

    imgs = ember.arange(1.0, 6.0).reshape(5, 1, 1, 1).expand(5, 3, 2, 3).contiguous()
    g = make_grid(imgs, nrow=2, padding=1, pad_value=-1.0)
    # 2 columns, 3 rows: W = 2 * (3 + 1) + 1, H = 3 * (2 + 1) + 1
    assert tuple(g.shape) == (3, 10, 9)
    a = g[0].numpy()
    assert (a[0] == -1).all() and (a[:, 0] == -1).all()
    for k in range(5):
        y, x = divmod(k, 2)
        block = a[1 + 3 * y: 3 + 3 * y, 1 + 4 * x: 4 + 4 * x]
        assert (block == k + 1).all(), k
    assert (a[7:9, 5:8] == -1).all()  # the empty sixth cell keeps the padding value
    # defaults: nrow=8, padding=2
    assert tuple(make_grid(ember.zeros(10, 3, 4, 4)).shape) == (3, 2 * 6 + 2, 8 * 6 + 2)


def test_make_grid_inputs_and_channels():
    from ember.vision.utils import make_grid

    gray = ember.rand(4, 1, 5, 5)
    g = make_grid(gray, nrow=4, padding=0)
    assert tuple(g.shape) == (3, 5, 20)
    assert np.array_equal(g[0].numpy(), g[2].numpy())
    assert np.array_equal(g[0, :, 5:10].numpy(), gray[1, 0].numpy())
    lst = make_grid([ember.ones(3, 2, 2), ember.zeros(3, 2, 2)], padding=0)
    assert lst[:, :, :2].min().item() == 1 and lst[:, :, 2:].max().item() == 0
    single = ember.rand(3, 4, 4)
    assert np.array_equal(make_grid(single).numpy(), single.numpy())  # unpadded
    assert tuple(make_grid(ember.rand(4, 4)).shape) == (3, 4, 4)
    with pytest.raises(TypeError):
        make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="value_range"):
        make_grid(ember.rand(2, 3, 2, 2), normalize=True, value_range=[0, 1])


def test_make_grid_normalize():
    from ember.vision.utils import make_grid

    x = ember.tensor([[[[0.0, 2.0]]], [[[4.0, 8.0]]]])
    src = x.clone()
    g = make_grid(x, normalize=True, padding=0)[0, 0].tolist()
    assert g == pytest.approx([0.0, 0.25, 0.5, 1.0])
    g = make_grid(x, normalize=True, scale_each=True, padding=0)[0, 0].tolist()
    assert g == pytest.approx([0.0, 1.0, 0.0, 1.0])
    g = make_grid(x, normalize=True, value_range=(0.0, 4.0), padding=0)[0, 0].tolist()
    assert g == pytest.approx([0.0, 0.5, 1.0, 1.0])  # clamped to the range
    assert np.array_equal(x.numpy(), src.numpy())  # input untouched


def test_save_image_png_roundtrip(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    from ember.vision.utils import save_image

    x = ember.rand(4, 3, 6, 5)
    path = tmp_path / "grid.png"
    save_image(x, str(path), nrow=2, padding=1, pad_value=1.0)
    im = np.asarray(pil.open(path))
    assert im.shape == (2 * 7 + 1, 2 * 6 + 1, 3) and im.dtype == np.uint8
    expect = np.clip(np.floor(x[3].numpy().transpose(1, 2, 0) * 255 + 0.5), 0, 255)
    assert np.array_equal(im[8:14, 7:12], expect.astype(np.uint8))
    assert (im[0] == 255).all()
    buf = io.BytesIO()
    save_image(x[0], buf, format="PNG")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    save_image(x, tmp_path / "pathlike.png")  # os.PathLike accepted
    assert (tmp_path / "pathlike.png").exists()


def test_save_image_torch_conversion_matches():
    torch = _torch()
    pil = pytest.importorskip("PIL.Image")
    from ember.vision.utils import save_image

    x = np.random.default_rng(0).random((3, 4, 4)).astype(np.float32) * 1.2 - 0.1
    buf = io.BytesIO()
    save_image(ember.tensor(x), buf, format="PNG")
    ours = np.asarray(pil.open(io.BytesIO(buf.getvalue())))
    # torchvision's conversion, written with torch ops
    ref = torch.tensor(x).mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(
        torch.uint8).numpy()
    assert np.array_equal(ours, ref)


# ------------------------------------------------------------------ hub
@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(ember.hub, "_hub_dir", None)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    return tmp_path


def _checkpoint_file(tmp_path, name="weights.pt"):
    sd = {"w": ember.arange(4.0), "b": ember.tensor([1, 2])}
    path = tmp_path / name
    ember.save(sd, str(path))
    return path, sd


def test_hub_dir_resolution(hub_dir, monkeypatch):
    assert ember.hub.get_dir() == str(hub_dir / "home" / "hub")
    monkeypatch.delenv("EMBER_HOME")
    monkeypatch.setenv("TORCH_HOME", str(hub_dir / "th"))
    assert ember.hub.get_dir() == str(hub_dir / "th" / "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(hub_dir / "xdg"))
    assert ember.hub.get_dir() == str(hub_dir / "xdg" / "ember" / "hub")
    ember.hub.set_dir(hub_dir / "explicit")
    assert ember.hub.get_dir() == str(hub_dir / "explicit")


def test_load_state_dict_from_url_file_and_cache(hub_dir):
    src, sd = _checkpoint_file(hub_dir)
    url = src.as_uri()
    got = ember.hub.load_state_dict_from_url(url, progress=False, weights_only=True)
    cached = hub_dir / "home" / "hub" / "checkpoints" / "weights.pt"
    assert cached.exists()
    assert got["w"].tolist() == sd["w"].tolist() and got["b"].dtype == ember.int64
    src.unlink()  # second call is served from the cache
    again = ember.hub.load_state_dict_from_url(url, progress=False)
    assert again["w"].tolist() == sd["w"].tolist()
    named = ember.hub.load_state_dict_from_url(cached.as_uri(), model_dir=str(hub_dir / "m"),
                                               file_name="other.pt", progress=False)
    assert (hub_dir / "m" / "other.pt").exists() and named["b"].tolist() == [1, 2]


def test_load_state_dict_from_url_hash_check(hub_dir):
    import hashlib

    src, _ = _checkpoint_file(hub_dir)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    good = hub_dir / f"net-{digest[:8]}.pt"
    good.write_bytes(src.read_bytes())
    out = ember.hub.load_state_dict_from_url(good.as_uri(), check_hash=True, progress=False)
    assert "w" in out
    bad = hub_dir / "net-deadbeef.pt"
    bad.write_bytes(src.read_bytes())
    with pytest.raises(RuntimeError, match='invalid hash value.*expected "deadbeef"'):
        ember.hub.load_state_dict_from_url(bad.as_uri(), check_hash=True, progress=False)
    # no partial file is left behind
    ckpt = hub_dir / "home" / "hub" / "checkpoints"
    assert sorted(p.name for p in ckpt.iterdir()) == [good.name]


def test_load_state_dict_from_url_torch_checkpoint(hub_dir):
    torch = _torch()
    path = hub_dir / "torch_weights.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), str(path))
    sd = ember.hub.load_state_dict_from_url(path.as_uri(), progress=False, weights_only=True)
    lin = ember.nn.Linear(3, 2)
    lin.load_state_dict(sd)
    ref = torch.load(str(path))
    assert np.array_equal(lin.weight.detach().numpy(), ref["weight"].numpy())


def test_unreachable_url_is_clear(hub_dir):
    with pytest.raises(urllib.error.URLError, match="cannot download.*missing.pt"):
        ember.hub.load_state_dict_from_url((hub_dir / "missing.pt").as_uri(), progress=False)
    with pytest.raises(urllib.error.URLError, match="http://127.0.0.1:9/w.pt"):
        ember.hub.download_url_to_file("http://127.0.0.1:9/w.pt", str(hub_dir / "w.pt"),
                                       progress=False)
    assert not (hub_dir / "w.pt").exists()


def test_download_progress_reports(hub_dir, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain fallback
    src = hub_dir / "blob.bin"
    src.write_bytes(os.urandom(200_000))
    ember.hub.download_url_to_file(src.as_uri(), str(hub_dir / "copy.bin"), progress=True)
    assert (hub_dir / "copy.bin").read_bytes() == src.read_bytes()
    assert "100%" in capsys.readouterr().err


HUBCONF = '''
dependencies = ["ember"]
import ember


def tiny(out_features=2, pretrained=False):
    """A tiny linear model."""
    return ember.nn.Linear(3, out_features)


def _private():
    pass
'''


def test_hub_load_local(hub_dir):
    repo = hub_dir / "repo"
    repo.mkdir()
    (repo / "hubconf.py").write_text(HUBCONF)
    m = ember.hub.load(str(repo), "tiny", source="local", out_features=4)
    assert isinstance(m, ember.nn.Linear) and m.out_features == 4
    assert ember.hub.list(str(repo)) == ["tiny"]
    assert ember.hub.help(str(repo), "tiny") == "A tiny linear model."
    with pytest.raises(RuntimeError, match="Cannot find callable nope in hubconf"):
        ember.hub.load(str(repo), "nope", source="local")
    with pytest.raises(ValueError, match='Unknown source: "gitlab"'):
        ember.hub.load(str(repo), "tiny", source="gitlab")
    (repo / "hubconf.py").write_text('dependencies = ["no_such_package_xyz"]\n')
    with pytest.raises(RuntimeError, match="Missing dependencies: no_such_package_xyz"):
        ember.hub.load(str(repo), "tiny", source="local")
    assert str(repo) not in sys.path


def test_hub_load_github_cache_offline(hub_dir):
    cached = hub_dir / "home" / "hub" / "someone_models_main"
    cached.mkdir(parents=True)
    (cached / "hubconf.py").write_text(HUBCONF)
    m = ember.hub.load("someone/models", "tiny", trust_repo=True, verbose=False)
    assert isinstance(m, ember.nn.Linear)
    assert "someone_models" in (hub_dir / "home" / "hub" / "trusted_list").read_text()
    # trusted now: "check" needs no prompt
    ember.hub.load("someone/models:main", "tiny", trust_repo="check", verbose=False)
    with pytest.raises(urllib.error.URLError, match="github.com/someone/other/zipball"):
        ember.hub.load("someone/other", "tiny", trust_repo=True, verbose=False)
    with pytest.raises(ValueError, match="repo_owner/repo_name"):
        ember.hub.load("not-a-repo", "tiny", trust_repo=True)


# ------------------------------------------------------------------ checkpoint
def _net():
    ember.manual_seed(0)
    return ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Dropout(0.5),
                               ember.nn.Linear(8, 3))


def _grads(net, x, run):
    net.zero_grad()
    x.grad = None
    ember.manual_seed(7)
    run().pow(2).sum().backward()
    return [p.grad.numpy().copy() for p in net.parameters()] + [x.grad.numpy().copy()]


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_gradients_equal_plain(reentrant):
    from ember.utils.checkpoint import checkpoint, checkpoint_sequential

    net = _net()
    x = ember.randn(5, 4, requires_grad=True)
    ref = _grads(net, x, lambda: net(x))
    got = _grads(net, x, lambda: checkpoint(net, x, use_reentrant=reentrant))
    seq = _grads(net, x, lambda: checkpoint_sequential(net, 2, x, use_reentrant=reentrant))
    for a, b, c in zip(ref, got, seq):  # dropout masks replayed: identical gradients
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-7)


def test_checkpoint_recomputes_in_backward():
    from ember.utils.checkpoint import checkpoint

    calls = []

    def f(a):
        calls.append(ember.is_grad_enabled())
        return a.sin() * 2

    x = ember.randn(3, requires_grad=True)
    y = checkpoint(f, x, use_reentrant=True)
    assert calls == [False]  # reentrant forward keeps no graph
    y.sum().backward()
    assert calls == [False, True]
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(x.detach().numpy()), rtol=1e-6)
    calls.clear()
    x.grad = None
    checkpoint(f, x, use_reentrant=False).sum().backward()
    assert calls == [True, True]
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(x.detach().numpy()), rtol=1e-6)


def test_checkpoint_non_reentrant_grad_kwargs_double_backward():
    from ember.utils.checkpoint import checkpoint

    x = ember.randn(4, 3)
    w = ember.randn(3, requires_grad=True)

    def f(a, scale=1.0):
        return (a * w).sin() * scale

    y = checkpoint(f, x, scale=2.0, use_reentrant=False)  # x needs no grad, w does
    gw, = ember.autograd.grad(y.sum(), w, create_graph=True)
    ref, = ember.autograd.grad(f(x, 2.0).sum(), w, create_graph=True)
    np.testing.assert_allclose(gw.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    h, = ember.autograd.grad(gw.sum(), w)
    h_ref, = ember.autograd.grad(ref.sum(), w)
    np.testing.assert_allclose(h.numpy(), h_ref.numpy(), rtol=1e-5, atol=1e-6)


def test_checkpoint_tuple_outputs_and_non_tensor_args():
    from ember.utils.checkpoint import checkpoint

    x = ember.randn(3, requires_grad=True)
    for reentrant in (True, False):
        x.grad = None
        a, b, tag = checkpoint(lambda t, k: (t * k, t.exp(), "tag"), x, 3.0,
                               use_reentrant=reentrant)
        assert tag == "tag"
        (a.sum() + b.sum()).backward()
        np.testing.assert_allclose(x.grad.numpy(), 3 + np.exp(x.detach().numpy()), rtol=1e-6)


def test_checkpoint_preserve_rng_state_false_changes_mask():
    from ember.utils.checkpoint import checkpoint

    x = ember.ones(2000, requires_grad=True)
    ember.manual_seed(0)
    y = checkpoint(lambda t: ember.nn.functional.dropout(t, 0.5), x, use_reentrant=True,
                   preserve_rng_state=False)
    kept = y.detach().numpy() != 0
    y.sum().backward()
    assert not np.array_equal(kept, x.grad.numpy() != 0)  # the re-run drew a new mask


def test_checkpoint_errors_match_torch():
    from ember.utils.checkpoint import CheckpointError, checkpoint

    lin = ember.nn.Linear(2, 2)
    x = ember.randn(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint(lin, x, use_reentrant=True, foo=1)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(lin, x, use_reentrant=True, context_fn=lambda: (None, None))
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(lin, x, use_reentrant=False, determinism_check="x")
    with pytest.raises(NotImplementedError, match="debug"):
        checkpoint(lin, x, use_reentrant=False, debug=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        checkpoint(lin, x)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        checkpoint(lin, ember.randn(3, 2), use_reentrant=True)
    n = [0]

    def shape_changes(a):
        n[0] += 1
        return a[: n[0]] * 2

    y = checkpoint(shape_changes, x, use_reentrant=False)
    with pytest.raises(CheckpointError):
        y.sum().backward()


def test_checkpoint_context_fn():
    from contextlib import contextmanager

    from ember.utils.checkpoint import checkpoint

    seen = []

    @contextmanager
    def mark(name):
        seen.append(name)
        yield

    x = ember.randn(2, requires_grad=True)
    y = checkpoint(lambda t: t * 2, x, use_reentrant=False,
                   context_fn=lambda: (mark("forward"), mark("recompute")))
    y.sum().backward()
    assert seen == ["forward", "recompute"]


def test_checkpoint_matches_torch_gradients():
    torch = _torch()
    from ember.utils.checkpoint import checkpoint

    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((6, 4)), rng.standard_normal((2, 6))
    xv = rng.standard_normal((3, 4))

    def run(lib, ckpt, reentrant):
        a = lib.tensor(w1, requires_grad=True)
        b = lib.tensor(w2, requires_grad=True)
        x = lib.tensor(xv, requires_grad=True)
        y = ckpt(lambda t: (t @ a.T).tanh() @ b.T, x, use_reentrant=reentrant)
        y.pow(3).sum().backward()
        return [t.grad.numpy() for t in (a, b, x)]

    for reentrant in (True, False):
        ours = run(ember, checkpoint, reentrant)
        ref = run(torch, torch.utils.checkpoint.checkpoint, reentrant)
        for o, r in zip(ours, ref):
            np.testing.assert_allclose(o, r, rtol=1e-10)


# ------------------------------------------------------------------ legacy constructors
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
          "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors_match_torch(name):
    torch = _torch()
    E, T = getattr(ember, name), getattr(torch, name)
    assert str(E.dtype) == str(T.dtype)
    for args in [(), (2, 3), (ember.Size([2, 2]),), ([1.7, 0.0, 2.0],), ([[1, 0], [3, 4]],)]:
        targs = tuple(torch.Size(a) if isinstance(a, ember.Size) else a for a in args)
        e, t = E(*args), T(*targs)
        assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
        if args and not isinstance(args[0], (int, ember.Size)):
            np.testing.assert_array_equal(e.float().numpy(), t.float().numpy())
    assert isinstance(ember.zeros(2, dtype=E.dtype), E)
    assert not isinstance(ember.zeros(2, dtype=ember.complex64), E)
    assert not isinstance(3, E) and not issubclass(E, ember.Tensor)
    assert type(E(2)) is ember.Tensor


def test_legacy_constructor_errors_match_torch():
    torch = _torch()
    for args, kwargs in [((2.5,), {}), (("x",), {}), ((2,), {"dtype": ember.float64}),
                         ((ember.tensor([1, 2]),), {})]:
        targs = tuple(torch.tensor(a.tolist()) if isinstance(a, ember.Tensor) else a
                      for a in args)
        tkw = {"dtype": torch.float64} if kwargs else {}
        with pytest.raises(TypeError):
            torch.FloatTensor(*targs, **tkw)
        with pytest.raises(TypeError):
            ember.FloatTensor(*args, **kwargs)
    t = ember.tensor([1.0, 2.0])
    assert ember.FloatTensor(t) is t
    assert ember.FloatTensor([1], device="cpu").tolist() == [1.0]


def test_tensor_new_matches_torch():
    torch = _torch()
    for dtype in ("float32", "int64", "float64"):
        e = ember.ones(2, dtype=getattr(ember, dtype))
        t = torch.ones(2, dtype=getattr(torch, dtype))
        for args in [(), (2, 3), ([1.5, 2],), ([[1, 2]],)]:
            ne, nt = e.new(*args), t.new(*args)
            assert tuple(ne.shape) == tuple(nt.shape) and str(ne.dtype) == str(nt.dtype)
            if args and isinstance(args[0], list):
                np.testing.assert_array_equal(ne.numpy(), nt.numpy())
        assert tuple(e.new(ember.Size([3])).shape) == (3,)
        assert e.new(e) is e
    with pytest.raises(TypeError):
        ember.ones(1).new(ember.ones(1, dtype=ember.int64))


def test_is_inference():
    with ember.inference_mode():
        t = ember.ones(2)
    assert t.is_inference() is False and ember.ones(1).is_inference() is False
    (t * ember.ones(2, requires_grad=True)).sum().backward()  # usable in autograd later


def test_default_collate_from_dataloader_module():
    from ember.utils.data.dataloader import default_collate, default_convert, get_worker_info

    assert default_collate is ember.utils.data.default_collate
    assert default_convert is ember.utils.data.default_convert
    assert get_worker_info() is None
    batch = default_collate([(ember.ones(2), 1), (ember.zeros(2), 2)])
    assert tuple(batch[0].shape) == (2, 2) and batch[1].tolist() == [1, 2]


# ------------------------------------------------------------------ GradScaler
def _scaler_run(lib, scaler_cls, grads_seq, **kw):
    p = lib.nn.Parameter(lib.ones(3))
    opt = lib.optim.SGD([p], lr=0.1)
    s = scaler_cls("cpu", **kw)
    trace = []
    for g in grads_seq:
        opt.zero_grad()
        loss = s.scale((p * lib.tensor(g, dtype=lib.float32)).sum())
        loss.backward()
        s.step(opt)
        s.update()
        trace.append((s.get_scale(), s._get_growth_tracker(),
                      [round(v, 5) for v in p.detach().tolist()]))
    return trace, s.state_dict()


GRAD_SEQ = [[1.0, 2.0, 3.0], [float("inf"), 1.0, 1.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5],
            [float("nan"), 0.0, 0.0], [1.0, -1.0, 2.0], [2.0, 2.0, 2.0], [1.0, 1.0, 1.0]]


def test_grad_scaler_logic_by_hand():
    from ember.amp import GradScaler

    trace, sd = _scaler_run(ember, GradScaler, GRAD_SEQ, init_scale=8.0, growth_interval=2)
    scales = [t[0] for t in trace]
    # clean, inf (backoff), clean, clean (grow), nan (backoff), clean, clean (grow), clean
    assert scales == [8.0, 4.0, 4.0, 8.0, 4.0, 4.0, 8.0, 8.0]
    assert [t[1] for t in trace] == [1, 0, 1, 0, 0, 1, 0, 1]
    # skipped steps leave the parameters alone; others step with the unscaled gradient
    assert trace[1][2] == trace[0][2] and trace[4][2] == trace[3][2]
    assert trace[0][2] == pytest.approx([0.9, 0.8, 0.7])
    assert sd == {"scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                  "growth_interval": 2, "_growth_tracker": 1}


def test_grad_scaler_matches_torch():
    torch = _torch()
    from ember.amp import GradScaler

    for kw in ({}, {"init_scale": 8.0, "growth_interval": 2},
               {"init_scale": 3.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                "growth_interval": 1}):
        ours = _scaler_run(ember, GradScaler, GRAD_SEQ, **kw)
        ref = _scaler_run(torch, torch.amp.GradScaler, GRAD_SEQ, **kw)
        assert ours == ref, kw


def test_grad_scaler_stage_errors_match_torch():
    torch = _torch()
    from ember.amp import GradScaler

    def errors(lib, cls):
        out = []
        s = cls("cpu")
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=1.0)
        for action in ("step", "update", "scale", "update", "grad", "unscale_", "unscale_",
                       "step", "step", "unscale_", "closure"):
            try:
                if action == "scale":
                    s.scale(lib.ones(1))
                elif action == "grad":
                    p.grad = lib.tensor([1.0, 2.0]) * 65536
                elif action == "closure":
                    s.step(opt, closure=lambda: 0)
                else:
                    getattr(s, action)(opt) if action != "update" else s.update()
                out.append((action, None))
            except (AssertionError, RuntimeError, ValueError) as e:
                out.append((action, type(e).__name__, str(e)))
        return out

    assert errors(ember, GradScaler) == errors(torch, torch.amp.GradScaler)


def test_grad_scaler_unscale_before_clipping_and_fp16():
    from ember.amp import GradScaler

    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=1.0)
    s = GradScaler("cpu", init_scale=1024.0)
    s.scale((p * ember.tensor([3.0, 4.0])).sum()).backward()
    assert p.grad.tolist() == [3072.0, 4096.0]
    s.unscale_(opt)
    assert p.grad.tolist() == [3.0, 4.0]
    ember.nn.utils.clip_grad_norm_([p], 1.0)
    s.step(opt)
    s.update()
    assert p.detach().numpy() == pytest.approx([0.4, 0.2], rel=1e-5)
    h = ember.nn.Parameter(ember.ones(2, dtype=ember.float16))
    h.grad = ember.ones(2, dtype=ember.float16)
    s.scale(ember.ones(1))
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        s.unscale_(ember.optim.SGD([h], lr=1.0))


def test_grad_scaler_disabled_and_state():
    from ember.amp import GradScaler

    s = GradScaler("cpu", enabled=False)
    loss = ember.tensor(2.0, requires_grad=True)
    assert s.scale(loss) is loss and s.get_scale() == 1.0 and s.state_dict() == {}
    p = ember.nn.Parameter(ember.ones(1))
    p.grad = ember.tensor([float("inf")])
    s.step(ember.optim.SGD([p], lr=1.0))  # passthrough: the optimizer steps anyway
    assert not np.isfinite(p.detach().numpy()).all()
    s.update()
    s.load_state_dict({})
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling."):
        assert GradScaler().is_enabled() is False
    on = GradScaler("cpu")
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        on.load_state_dict({})
    on.load_state_dict({"scale": 4.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                        "growth_interval": 7, "_growth_tracker": 2})
    on.scale(ember.ones(1))
    clone = pickle.loads(pickle.dumps(on))
    assert clone.state_dict() == on.state_dict() == {
        "scale": 4.0, "growth_factor": 3.0, "backoff_factor": 0.25, "growth_interval": 7,
        "_growth_tracker": 2}
    assert on.scale([ember.ones(1), (ember.ones(2),)])[1][0].tolist() == [4.0, 4.0]
    with pytest.raises(ValueError, match="growth factor"):
        GradScaler("cpu", growth_factor=1.0)


def test_grad_scaler_state_dict_loads_into_torch():
    torch = _torch()
    from ember.amp import GradScaler

    trace, sd = _scaler_run(ember, GradScaler, GRAD_SEQ[:3], init_scale=8.0)
    t = torch.amp.GradScaler("cpu")
    t.load_state_dict(sd)
    assert t.state_dict() == sd


def test_cpu_amp_spellings_and_autocast_switch():
    with pytest.warns(FutureWarning, match="torch.cpu.amp.GradScaler"):
        s = ember.cpu.amp.GradScaler(init_scale=16.0)
    assert isinstance(s, ember.amp.GradScaler) and s.get_scale() == 16.0
    assert ember.cpu.is_available() and ember.cpu.device_count() == 1
    with ember.autocast("cpu", enabled=False):
        y = ember.ones(2) @ ember.ones(2)
    assert y.dtype == ember.float32
    with ember.amp.autocast("cpu", dtype=ember.bfloat16, enabled=False):
        pass
    with ember.autocast("cpu", dtype=ember.bfloat16):  # mixed precision (tests/test_amp.py)
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.bfloat16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with ember.cpu.amp.autocast():
            assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.bfloat16
        with ember.cpu.amp.autocast(enabled=False):
            pass
    assert ember.amp.is_autocast_available("cpu") is True


def test_custom_fwd_bwd_decorators():
    class Scale(ember.autograd.Function):
        @staticmethod
        @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
        def forward(ctx, x):
            return x * 3

        @staticmethod
        @ember.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g * 3

    x = ember.ones(2, requires_grad=True)
    Scale.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError):
        ember.amp.custom_fwd(lambda: 0)  # device_type is required, as in PyTorch


def test_sdp_flags_roundtrip_and_context():
    cuda = ember.backends.cuda
    assert cuda.flash_sdp_enabled() and cuda.math_sdp_enabled()
    cuda.enable_flash_sdp(False)
    try:
        assert cuda.flash_sdp_enabled() is False
        with pytest.raises(RuntimeError, match="expects a bool"):
            cuda.enable_math_sdp(1)
    finally:
        cuda.enable_flash_sdp(True)
    with pytest.warns(FutureWarning, match="sdp_kernel"):
        ctx = cuda.sdp_kernel(enable_math=False)
    with ctx:
        assert cuda.math_sdp_enabled() is False and cuda.flash_sdp_enabled() is True
    assert cuda.math_sdp_enabled() is True
    assert cuda.preferred_linalg_library() == "default"
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        cuda.preferred_linalg_library("magma")
