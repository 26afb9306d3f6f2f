"""A character-level LSTM language model trained on Python's own documentation.

The corpus is the docstrings of a fixed list of standard-library modules (and of their
public classes and functions), so it is present wherever Python is; under ``python -OO``,
which strips docstrings, the modules' source text is used instead. The model (Embedding ->
LSTM -> Linear) is trained with truncated backpropagation through time on random windows,
Adam and gradient-norm clipping; the held-out perplexity (the last 10% of the text) is
printed as it falls, a checkpoint is written at each evaluation (``--resume`` continues),
and at the end the model writes sample text at a few temperatures.

Run::

    python examples/char_lstm.py                    # ~1 minute on 2 cores
    python examples/char_lstm.py --steps 2000 --resume

The code is ordinary PyTorch: ``import torch`` in place of ``import ember as torch`` runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import math
import os
import sys
import time
import warnings

if __name__ == "__main__":
    # One BLAS thread: these matrix products are too small to gain from more, and OpenBLAS's
    # spinning threads cost ~10x on a busy 2-core machine. Must be set before NumPy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import ember as torch  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember import nn  # noqa: E402

MODULES = ("argparse", "collections", "json", "textwrap", "pathlib", "random", "statistics",
           "functools", "itertools", "string", "unittest", "logging", "dataclasses",
           "contextlib", "heapq", "bisect", "fractions", "decimal", "difflib", "shutil",
           "subprocess", "threading", "datetime", "calendar", "csv", "pickle", "zipfile",
           "tarfile", "urllib.parse", "abc", "enum", "operator", "re")


def load_corpus(modules=MODULES) -> str:
    """Docstrings of ``modules`` and their public classes/functions, in a fixed order.

    Args:
        modules: importable standard-library module names.

    Example:
        >>> load_corpus(["textwrap"])[:26]
        'Text wrapping and filling.'
    """
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some modules warn about deprecated members
        mods = [importlib.import_module(name) for name in modules]
    for mod in mods:
        if mod.__doc__:
            parts.append(inspect.cleandoc(mod.__doc__))
        for attr in sorted(vars(mod)):
            obj = getattr(mod, attr)
            if (not attr.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                    and getattr(obj, "__module__", None) == mod.__name__ and obj.__doc__):
                parts.append(inspect.cleandoc(obj.__doc__))
    text = "\n\n".join(parts)
    if sys.flags.optimize >= 2 or not text:  # -OO strips docstrings: learn the source code
        sources = []
        for mod in mods:
            with contextlib.suppress(TypeError, OSError):  # built-in modules have no source
                sources.append(inspect.getsource(mod))
        text = "\n\n".join(sources)[:300_000]
    return text


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear over a character vocabulary.

    Args:
        vocab_size: number of distinct characters.
        embed_dim: size of the character embedding.
        hidden_size: LSTM state size.
        num_layers: stacked LSTM layers.
        dropout: dropout between LSTM layers and before the output layer.

    Example:
        >>> logits, (h, c) = CharLSTM(50)(torch.randint(0, 50, (2, 7)))
        >>> logits.shape, h.shape
        (torch.Size([2, 7, 50]), torch.Size([1, 2, 256]))
    """

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(self.drop(out)), state


def get_batch(data, batch_size: int, seq_len: int):
    """Random windows of ``data``: inputs (B, T) and the next characters as targets."""
    starts = torch.randint(0, len(data) - seq_len - 1, (batch_size, 1))
    idx = starts + torch.arange(seq_len + 1)
    windows = data[idx]
    return windows[:, :-1], windows[:, 1:]


@torch.no_grad()
def perplexity(model: nn.Module, data, seq_len: int = 128, batch_size: int = 64) -> float:
    """exp(mean cross-entropy) over ``data`` cut into consecutive windows."""
    model.eval()
    n = (len(data) - 1) // seq_len
    x = data[:n * seq_len].reshape(n, seq_len)
    y = data[1:n * seq_len + 1].reshape(n, seq_len)
    total = 0.0
    for i in range(0, n, batch_size):
        logits, _ = model(x[i:i + batch_size])
        total += F.cross_entropy(logits.flatten(0, 1), y[i:i + batch_size].flatten(),
                                 reduction="sum").item()
    model.train()
    return math.exp(total / (n * seq_len))


@torch.no_grad()
def generate(model: CharLSTM, chars: str, prompt: str, length: int = 300,
             temperature: float = 1.0) -> str:
    """Sample ``length`` characters after ``prompt``, one at a time, carrying the LSTM state.

    Lower ``temperature`` sharpens the distribution (more conservative text).
    """
    model.eval()
    stoi = {c: i for i, c in enumerate(chars)}
    x = torch.tensor([[stoi[c] for c in prompt if c in stoi]])
    logits, state = model(x)
    out = []
    for _ in range(length):
        probs = F.softmax(logits[:, -1] / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1)
        out.append(chars[nxt.item()])
        logits, state = model(nxt, state)
    model.train()
    return prompt + "".join(out)


def train_step(model: CharLSTM, optimizer, x, y, clip: float):
    """One optimisation step on the batch ``(x, y)``; returns the loss (a 0-dim tensor).

    Args:
        model: the language model.
        optimizer: its optimizer.
        x: input characters (B, T).
        y: target characters (B, T).
        clip: maximum global gradient norm.

    Example:
        >>> model = CharLSTM(20, hidden_size=8)
        >>> opt = torch.optim.Adam(model.parameters())
        >>> x = torch.randint(0, 20, (2, 5))
        >>> train_step(model, opt, x, x, 1.0).shape
        torch.Size([])
    """
    logits, _ = model(x)
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    optimizer.zero_grad()
    loss.backward()
    # LSTMs occasionally take a huge gradient step; clipping the global norm keeps
    # training stable without lowering the learning rate for every step.
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=1000, help="total training steps")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=64, help="BPTT window")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--clip", type=float, default=1.0, help="max gradient norm")
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--out", default="runs/char_lstm")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop after this many steps of this run (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-len", type=int, default=300)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Train (or resume), print perplexities and samples; return the metrics.

    Args:
        argv: command-line arguments (default: ``sys.argv[1:]``).

    Example:
        >>> main(["--max-steps", "2", "--out", "/tmp/char"])["step"]  # doctest: +SKIP
        2
    """
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)

    text = load_corpus()
    chars = "".join(sorted(set(text)))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.int64)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    print(f"corpus: {len(text):,} characters, vocabulary {len(chars)}")

    model = CharLSTM(len(chars), hidden_size=args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # Linear decay to 10% of the rate: steadier late steps, lower final perplexity.
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 1.0 - 0.9 * min(s, args.steps) / args.steps)
    step, history = 0, {"step": [], "train_loss": [], "val_ppl": []}

    if args.resume and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        if ckpt["chars"] != chars:
            raise RuntimeError("the corpus differs from the checkpoint's (another Python?)")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        torch.set_rng_state(ckpt["rng_state"])
        step, history = ckpt["step"], ckpt["history"]
        print(f"resumed from {ckpt_path} at step {step}")
    else:
        ppl = perplexity(model, val_data)
        history["step"].append(0)
        history["train_loss"].append(math.log(len(chars)))
        history["val_ppl"].append(ppl)
        print(f"step     0  val perplexity {ppl:7.2f}  (uniform guess: {len(chars)})")

    last = args.steps if args.max_steps is None else min(args.steps, step + args.max_steps)
    running, n_running, t_last = 0.0, 0, time.perf_counter()
    while step < last:
        x, y = get_batch(train_data, args.batch_size, args.seq_len)
        loss = train_step(model, optimizer, x, y, args.clip)
        scheduler.step()
        step += 1
        running, n_running = running + loss.item(), n_running + 1

        if step % args.eval_every == 0 or step == last:
            ppl = perplexity(model, val_data)
            rate = n_running * args.batch_size * args.seq_len / (time.perf_counter() - t_last)
            history["step"].append(step)
            history["train_loss"].append(running / n_running)
            history["val_ppl"].append(ppl)
            print(f"step {step:5d}  train loss {running / n_running:.3f}  "
                  f"val perplexity {ppl:7.2f}  {rate:,.0f} chars/s", flush=True)
            running, n_running = 0.0, 0
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step, "chars": chars,
                        "rng_state": torch.get_rng_state(), "history": history},
                       ckpt_path)
            t_last = time.perf_counter()

    samples = {}
    for temperature in (0.5, 0.8, 1.0):
        samples[temperature] = generate(model, chars, "The ", args.sample_len, temperature)
        print(f"\n--- sample, temperature {temperature} ---\n{samples[temperature]}")

    metrics = {"step": step, "initial_val_ppl": history["val_ppl"][0],
               "val_ppl": history["val_ppl"][-1], "seconds": time.perf_counter() - t0,
               "vocab": len(chars), "corpus_chars": len(text)}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    with open(os.path.join(args.out, "samples.txt"), "w") as f:
        f.writelines(f"--- temperature {t} ---\n{s}\n\n" for t, s in samples.items())
    print(f"\nval perplexity {metrics['initial_val_ppl']:.1f} -> {metrics['val_ppl']:.2f} "
          f"in {step} steps; {metrics['seconds']:.1f} s; outputs in {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
