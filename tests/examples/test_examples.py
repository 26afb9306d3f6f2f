"""Smoke tests for examples/: each script runs a few steps through its ``main(argv)``.

The full runs (the numbers in examples/RESULTS.md) are marked slow. Optional dependencies
(scikit-learn, tqdm, matplotlib, gymnasium: the ``examples`` extra) skip their tests when
missing; PyTorch is only an oracle here.
"""

import contextlib
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_example(name: str, torch_backend: bool = False):
    """Import examples/<name>.py as a fresh module (or, rewritten, under PyTorch)."""
    if torch_backend:
        return load_example("under_pytorch").load_under_pytorch(name)
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def one_blas_thread():
    """What the scripts do for themselves when run from the command line (see their tops)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def is_png(path: Path) -> bool:
    return path.exists() and path.read_bytes()[:8] == PNG_MAGIC


# ------------------------------------------------------------------ digits CNN (main job)
def _digits_deps():
    for name in ("sklearn", "tqdm", "matplotlib"):
        pytest.importorskip(name)


def test_digits_cnn_smoke(tmp_path, capsys):
    _digits_deps()
    digits = load_example("digits_cnn")
    m = digits.main(["--epochs", "2", "--max-steps", "3", "--out", str(tmp_path)])
    assert m["epochs_done"] == 2 and m["start_epoch"] == 0
    assert math.isfinite(m["val_loss"])
    # The reported accuracy is the saved model's, recomputed here independently.
    model = digits.DigitsNet()
    model.load_state_dict(ember.load(tmp_path / "checkpoint.pt")["model"])
    model.eval()
    _, val_loader = digits.make_loaders(seed=0, batch_size=64)
    correct = n = 0
    with ember.no_grad():
        for x, y in val_loader:
            correct += int((model(x).argmax(1) == y).sum())
            n += len(y)
    assert n == 359 and m["val_acc"] == correct / n
    assert is_png(tmp_path / "curves.png")
    assert json.loads((tmp_path / "metrics.json").read_text())["epochs_done"] == 2
    ckpt = ember.load(tmp_path / "checkpoint.pt")  # weights-only load of everything saved
    assert set(ckpt) == {"epoch", "model", "optimizer", "scheduler", "rng_state", "history"}
    assert ckpt["epoch"] == 2 and ckpt["scheduler"]["last_epoch"] == 2
    assert len(ckpt["history"]["val_acc"]) == 2
    assert "features.0.weight" in ckpt["model"] and ckpt["optimizer"]["state"]
    err = capsys.readouterr().err
    assert "sample/s" in err and "loss=" in err  # the tqdm bar: throughput and loss


def test_digits_cnn_resume_continues_bit_for_bit(tmp_path):
    _digits_deps()
    digits = load_example("digits_cnn")
    common = ["--epochs", "3", "--max-steps", "2", "--no-progress"]
    straight = digits.main(common + ["--out", str(tmp_path / "a")])
    stopped = digits.main(common + ["--stop-after", "2", "--out", str(tmp_path / "b")])
    assert stopped["epochs_done"] == 2
    assert ember.load(tmp_path / "b" / "checkpoint.pt")["epoch"] == 2
    resumed = digits.main(common + ["--resume", "--out", str(tmp_path / "b")])
    assert resumed["start_epoch"] == 2 and resumed["epochs_run"] == 1
    assert resumed["epochs_done"] == 3

    a = ember.load(tmp_path / "a" / "checkpoint.pt")
    b = ember.load(tmp_path / "b" / "checkpoint.pt")
    assert a["epoch"] == b["epoch"] == 3
    for key in a["model"]:  # weights, BN running stats and counters: identical
        assert ember.equal(a["model"][key], b["model"][key]), key
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert a["history"][key] == b["history"][key], key
    assert straight["val_acc"] == resumed["val_acc"]


def test_digits_cnn_resume_without_checkpoint_starts_fresh(tmp_path):
    _digits_deps()
    digits = load_example("digits_cnn")
    m = digits.main(["--epochs", "1", "--max-steps", "1", "--no-progress", "--resume",
                     "--out", str(tmp_path)])
    assert m["start_epoch"] == 0 and m["epochs_done"] == 1


def test_digits_dataset_and_model_shapes():
    pytest.importorskip("sklearn")
    digits = load_example("digits_cnn")
    data = digits.Digits()
    assert len(data) == 1797
    image, label = data[0]
    assert image.shape == (1, 8, 8) and label == 0
    assert abs(data.images.mean().item()) < 1e-5 and abs(data.images.std().item() - 1) < 1e-4
    train, val = digits.make_loaders(seed=0, batch_size=64)
    assert len(train.dataset) == 1438 and len(val.dataset) == 359
    assert not set(train.dataset.indices) & set(val.dataset.indices)
    assert digits.DigitsNet()(ember.randn(5, 1, 8, 8)).shape == (5, 10)


def test_digits_cnn_command_line(tmp_path):
    """The README's command, as a subprocess (few steps): exit 0, progress bar, outputs."""
    _digits_deps()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "digits_cnn.py"), "--epochs", "1", "--max-steps", "2",
         "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "held-out accuracy" in proc.stdout and "sample/s" in proc.stderr
    assert is_png(tmp_path / "curves.png") and (tmp_path / "checkpoint.pt").exists()


@pytest.mark.slow
def test_digits_cnn_full_run_reaches_97_percent(tmp_path):
    _digits_deps()
    digits = load_example("digits_cnn")
    m = digits.main(["--no-progress", "--out", str(tmp_path)])
    # RESULTS.md claims 98.89% (355/359); margin: two images
    assert m["val_acc"] >= 353 / 359
    assert m["seconds"] < 120  # the main job's two-minute budget


# ------------------------------------------------------------------ char LSTM
def test_char_lstm_corpus_is_stdlib_text():
    char = load_example("char_lstm")
    text = char.load_corpus()
    assert len(text) > 50_000
    assert text == char.load_corpus()  # deterministic order
    assert char.load_corpus(["textwrap"]).startswith("Text wrapping and filling")


def test_char_lstm_perplexity_falls_and_resumes(tmp_path):
    char = load_example("char_lstm")
    args = ["--hidden", "64", "--eval-every", "10", "--sample-len", "20", "--lr", "1e-2",
            "--out", str(tmp_path)]
    m = char.main(args + ["--max-steps", "20"])
    assert m["step"] == 20
    assert m["initial_val_ppl"] > 0.8 * m["vocab"]  # an untrained model is near uniform
    assert m["val_ppl"] < 0.5 * m["initial_val_ppl"]
    samples = (tmp_path / "samples.txt").read_text()
    assert samples.count("--- temperature") == 3
    ckpt = ember.load(tmp_path / "checkpoint.pt")
    assert ckpt["step"] == 20 and len(ckpt["history"]["val_ppl"]) == 3

    m2 = char.main(args + ["--max-steps", "10", "--resume"])
    assert m2["step"] == 30
    assert m2["initial_val_ppl"] == m["initial_val_ppl"]  # history carried over
    assert ember.load(tmp_path / "checkpoint.pt")["history"]["step"] == [0, 10, 20, 30]


def test_char_lstm_generate_uses_temperature():
    char = load_example("char_lstm")
    ember.manual_seed(0)
    model = char.CharLSTM(3, embed_dim=4, hidden_size=8)
    with ember.no_grad():
        model.head.bias.copy_(ember.tensor([0.0, 2.0, -2.0]))
        model.head.weight.zero_()
    cold = char.generate(model, "abc", "a", length=200, temperature=0.05)
    hot = char.generate(model, "abc", "a", length=200, temperature=5.0)
    assert cold == "a" + "b" * 200  # near-greedy: always the most likely character
    assert set(hot[1:]) == {"a", "b", "c"} and len(hot) == 201


@pytest.mark.slow
def test_char_lstm_full_run(tmp_path):
    char = load_example("char_lstm")
    m = char.main(["--out", str(tmp_path)])
    # RESULTS.md claims validation perplexity 100.5 -> 5.79; margin: 5%
    assert m["initial_val_ppl"] > 90
    assert m["val_ppl"] < 5.79 * 1.05


# ------------------------------------------------------------------ REINFORCE CartPole
def test_discounted_returns_normalised():
    cart = load_example("reinforce_cartpole")
    r = cart.discounted_returns([1.0, 1.0, 1.0], gamma=0.5)
    raw = np.array([1.75, 1.5, 1.0])
    expected = (raw - raw.mean()) / raw.std(ddof=1)
    np.testing.assert_allclose(r.numpy(), expected, rtol=1e-5)


def test_reinforce_cartpole_smoke(tmp_path):
    pytest.importorskip("gymnasium")
    cart = load_example("reinforce_cartpole")
    m = cart.main(["--max-episodes", "3", "--eval-episodes", "2", "--log-every", "1",
                   "--out", str(tmp_path)])
    assert m["episodes"] == 3 and m["solved_at"] is None
    assert m["env_steps"] >= 3 * 8  # CartPole cannot fail faster than ~8 steps
    assert 8 <= m["eval_avg"] <= 500
    state = ember.load(tmp_path / "policy.pt")
    assert state["episode"] == 3 and "net.0.weight" in state["policy"]


@pytest.mark.slow
def test_reinforce_cartpole_solves(tmp_path):
    pytest.importorskip("gymnasium")
    cart = load_example("reinforce_cartpole")
    # CartPole-v1's own threshold is a 100-episode average of 475 (195 was v0's): train to
    # it, then the policy must hold it over 100 fresh evaluation episodes. (With the
    # script's default target of 195 the policy stops early: at seed 0 it averaged 417.5 in
    # evaluation; trained to 475 it reached it at episode 1027 and evaluated at 490.1.)
    m = cart.main(["--out", str(tmp_path), "--log-every", "1000", "--target", "475"])
    assert m["solved_at"] is not None
    assert m["train_avg100"] >= 475
    assert m["eval_avg"] >= 475


# ------------------------------------------------------------------ VAE
def test_vae_elbo_matches_closed_form():
    vae_mod = load_example("vae_digits")
    ember.manual_seed(0)
    model = vae_mod.VAE(n_pixels=4, hidden=8, latent=2)
    # Encoder output 0 -> q = N(0, 1) = prior: KL is 0 and rsample is a standard normal.
    with ember.no_grad():
        for p in model.encoder[-1].parameters():
            p.zero_()
        for p in model.decoder[-1].parameters():
            p.zero_()  # decoder logits 0 -> each pixel Bernoulli(0.5)
    x = ember.rand(5, 4)
    value = vae_mod.elbo(model, x)
    np.testing.assert_allclose(value.detach().numpy(), np.full(5, 4 * math.log(0.5)),
                               rtol=1e-6)


def test_vae_digits_smoke_elbo_improves(tmp_path):
    for name in ("sklearn", "matplotlib"):
        pytest.importorskip(name)
    vae_mod = load_example("vae_digits")
    m = vae_mod.main(["--epochs", "2", "--max-steps", "5", "--out", str(tmp_path)])
    assert m["val_elbo"] > m["initial_val_elbo"] + 5  # nats per image
    assert is_png(tmp_path / "vae_digits.png")
    assert (tmp_path / "checkpoint.pt").exists()


@pytest.mark.slow
def test_vae_digits_full_run(tmp_path):
    for name in ("sklearn", "matplotlib"):
        pytest.importorskip(name)
    m = load_example("vae_digits").main(["--out", str(tmp_path)])
    # RESULTS.md claims a held-out ELBO of -44.5 -> -23.76 nats/image; margin: 0.5 nat
    assert m["initial_val_elbo"] < -40
    assert m["val_elbo"] > -23.76 - 0.5


# ------------------------------------------------------------------ DCGAN
def test_dcgan_shapes_and_scorer():
    pytest.importorskip("sklearn")
    gan = load_example("dcgan_digits")
    assert gan.Generator()(ember.randn(3, gan.NZ, 1, 1)).shape == (3, 1, 8, 8)
    assert gan.Discriminator()(ember.randn(3, 1, 8, 8)).shape == (3,)
    score, real = gan.digit_scorer()
    assert real > 5.0
    noise = np.random.default_rng(0).random((500, 64))
    assert score(noise) < 0.5 * real


def test_dcgan_digits_smoke(tmp_path):
    for name in ("sklearn", "matplotlib"):
        pytest.importorskip(name)
    gan = load_example("dcgan_digits")
    m = gan.main(["--epochs", "1", "--max-steps", "3", "--out", str(tmp_path)])
    assert math.isfinite(m["d_loss"]) and math.isfinite(m["g_loss"])
    assert is_png(tmp_path / "samples.png")
    assert set(ember.load(tmp_path / "checkpoint.pt")) >= {"netG", "netD", "optG", "optD"}


@pytest.mark.slow
def test_dcgan_digits_full_run(tmp_path):
    for name in ("sklearn", "matplotlib"):
        pytest.importorskip(name)
    m = load_example("dcgan_digits").main(["--out", str(tmp_path)])
    # RESULTS.md claims a classifier Inception score of 5.92 (real digits 7.46); margin: 0.4
    assert m["inception_score"] > 5.92 - 0.4


# ------------------------------------------------------------------ Hogwild
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs the fork start method")
def test_hogwild_full_run():
    # RESULTS.md claims a test loss of 0.924 -> 0.060 (2 processes x 300 steps); margin 0.02
    sys.path.insert(0, str(EXAMPLES))
    try:
        import hogwild
    finally:
        sys.path.remove(str(EXAMPLES))
    before, after = hogwild.main(procs=2, steps=300, start_method="fork")
    assert before > 0.8 and after < 0.08


# ------------------------------------------------------------------ the talk's tour
def test_talk_tour(capsys):
    tour = load_example("talk_tour")
    r = tour.main([])
    assert r["rnn_cell"]["next_h_shape"] == (20, 1)
    assert len(r["rnn_cell"]["errors"]) == 2  # as written: two RuntimeErrors
    assert r["rnn_cell"]["x_grad_error"] < 1e-5
    ho = r["higher_order"]
    assert ho["err1"] < 1e-12 and ho["err2"] < 1e-12 and ho["err6"] < 1e-4
    dg = r["dynamic_graph"]
    assert all(abs(g) == 2.0 ** dg["steps"] for g in dg["x_grad"])
    assert r["broadcasting"] == {"table_shape": (3, 4), "bias_grad": [8.0, 8.0, 8.0]}
    assert r["indexing"]["w_grad"] == [1.0, 10.0, 0.0, 0.0, 4.0]
    assert r["indexing"]["acc"] == [4.0, 0.0, 2.0]
    assert r["indexing"]["y"][0][:2] == [100.0, 101.0] and r["indexing"]["y"][2][1:] == [-1.0] * 3
    assert "grad(grad(grad(grad(grad(grad(torch.norm(x)))))))" in capsys.readouterr().out


def test_talk_tour_matches_pytorch():
    pytest.importorskip("torch")
    ours = load_example("talk_tour").main([])
    with contextlib.redirect_stdout(None):
        theirs = load_example("talk_tour", torch_backend=True).main([])
    np.testing.assert_allclose(ours["higher_order"]["d6"], theirs["higher_order"]["d6"],
                               rtol=1e-9)
    assert ours["broadcasting"] == theirs["broadcasting"]
    assert ours["indexing"] == theirs["indexing"]
    assert len(theirs["rnn_cell"]["errors"]) == 2


def test_vae_runs_unchanged_under_pytorch(tmp_path):
    """The 'ordinary PyTorch code' claim, checked on one example end to end."""
    pytest.importorskip("torch")
    for name in ("sklearn", "matplotlib"):
        pytest.importorskip(name)
    vae_torch = load_example("vae_digits", torch_backend=True)
    with contextlib.redirect_stdout(None):
        m = vae_torch.main(["--epochs", "1", "--max-steps", "3", "--out", str(tmp_path)])
    assert m["val_elbo"] > m["initial_val_elbo"]


def test_digits_cnn_runs_under_pytorch(tmp_path):
    pytest.importorskip("torch")
    _digits_deps()
    digits_torch = load_example("digits_cnn", torch_backend=True)
    assert digits_torch.torch.__name__ == "torch"
    with contextlib.redirect_stdout(None):
        m = digits_torch.main(["--epochs", "1", "--max-steps", "3", "--no-progress",
                               "--out", str(tmp_path)])
    assert m["epochs_done"] == 1 and math.isfinite(m["val_loss"])
    # an accuracy over the 359 held-out images, as recorded in metrics.json
    assert round(m["val_acc"] * 359) == pytest.approx(m["val_acc"] * 359, abs=1e-9)
    assert json.loads((tmp_path / "metrics.json").read_text())["val_acc"] == m["val_acc"]
