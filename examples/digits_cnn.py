"""Train a small CNN on scikit-learn's handwritten digits: the README's main job.

The digits (1,797 8x8 greyscale images shipped inside scikit-learn, nothing downloaded) are
split 80/20 into training and validation sets with a fixed seed. A Conv2d/BatchNorm/ReLU/
MaxPool/Dropout/Linear network is trained on randomly shifted (+-1 pixel) images with AdamW
and a cosine learning-rate schedule; a tqdm bar shows the loss and the throughput in
samples/s. After each epoch the script evaluates on the held-out set, writes a checkpoint
(model, optimizer, scheduler, epoch, RNG state, history) with ``torch.save``, and redraws
the training/validation curves as a PNG. ``--resume`` reloads the checkpoint and carries on
from the next epoch; with the same ``--epochs`` the result is bit for bit that of an
uninterrupted run (a larger ``--epochs`` stretches the cosine schedule instead).

Run::

    python examples/digits_cnn.py                 # 20 epochs, ~98-99% held-out, ~15 s
    python examples/digits_cnn.py --stop-after 5  # stop after 5 epochs, as if interrupted
    python examples/digits_cnn.py --resume        # ... and continue from epoch 6

Outputs in ``--out`` (default ``runs/digits``): ``checkpoint.pt``, ``curves.png``,
``metrics.json``. The code is ordinary PyTorch: with ``import torch`` in place of
``import ember as torch`` (and torchvision for ``ember.vision``) it runs unchanged; see
``examples/under_pytorch.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

if __name__ == "__main__":
    # NumPy's OpenBLAS starts one spinning thread per core for every matrix product; for
    # layers this small that costs far more than it gains (measured ~10x slower per step on
    # a busy 2-core machine). Must be set before NumPy loads; an explicit setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import ember as torch  # noqa: E402
import ember.nn.functional as F  # noqa: E402
import ember.vision.transforms as T  # noqa: E402
from ember import nn  # noqa: E402
from ember.utils.data import DataLoader, Dataset, random_split  # noqa: E402


class Digits(Dataset):
    """scikit-learn's 8x8 digits as standardised (1, 8, 8) float tensors and int labels.

    Example:
        >>> image, label = Digits()[0]
        >>> image.shape, label
        (torch.Size([1, 8, 8]), 0)
    """

    def __init__(self) -> None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
        # Pixel statistics of the whole set: fixed constants, so no leak from validation.
        self.images = (images - images.mean()) / images.std()
        self.labels = torch.tensor(digits.target, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.images[i], int(self.labels[i])


class TransformedSubset(Dataset):
    """A view of ``dataset`` at ``indices`` with its own transform (train vs. validation)."""

    def __init__(self, dataset: Digits, indices, transform=None) -> None:
        self.dataset, self.indices, self.transform = dataset, list(indices), transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        image, label = self.dataset[self.indices[i]]
        return (self.transform(image) if self.transform else image), label


class DigitsNet(nn.Module):
    """Two conv blocks and a linear classifier for 8x8 images.

    Args:
        width: channels of the first block (the second has twice as many).
        dropout: dropout probability before the classifier.

    Example:
        >>> DigitsNet()(torch.randn(2, 1, 8, 8)).shape
        torch.Size([2, 10])
    """

    def __init__(self, width: int = 32, dropout: float = 0.25) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.MaxPool2d(2),                                            # 8x8 -> 4x4
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.MaxPool2d(2),                                            # 4x4 -> 2x2
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * width * 2 * 2, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=20, help="total epochs (counting resumed ones)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--out", default="runs/digits", help="checkpoint, plot and metrics folder")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.pt (starts fresh if there is none)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop each epoch after this many batches (smoke tests)")
    p.add_argument("--stop-after", type=int, default=None, metavar="N",
                   help="stop after N epochs of this run, as if interrupted (try --resume)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p.parse_args(argv)


def make_loaders(seed: int, batch_size: int):
    """Split the digits 80/20 with a fixed generator; random +-1 pixel shifts for training."""
    base = Digits()
    n_val = round(0.2 * len(base))
    split = torch.Generator().manual_seed(seed)
    train_idx, val_idx = random_split(range(len(base)), [len(base) - n_val, n_val],
                                      generator=split)
    train_set = TransformedSubset(base, train_idx.indices, T.RandomCrop(8, padding=1))
    val_set = TransformedSubset(base, val_idx.indices)
    # Shuffling draws from the global generator, whose state the checkpoint records.
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=512)
    return train_loader, val_loader


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader``."""
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            n += len(y)
    return total_loss / n, correct / n


def train_step(model: nn.Module, optimizer, x, y):
    """One optimisation step on the batch ``(x, y)``; returns ``(logits, loss)``.

    Args:
        model: the classifier.
        optimizer: its optimizer.
        x: images (N, 1, 8, 8).
        y: labels (N,).

    Example:
        >>> model = DigitsNet()
        >>> opt = torch.optim.AdamW(model.parameters())
        >>> logits, loss = train_step(model, opt, torch.randn(4, 1, 8, 8),
        ...                           torch.tensor([0, 1, 2, 3]))
        >>> logits.shape
        torch.Size([4, 10])
    """
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return logits, loss


def train_one_epoch(model, loader, optimizer, epoch: int, epochs: int, max_steps, progress):
    """One pass over ``loader``; returns (mean loss, accuracy, samples/s)."""
    from tqdm import tqdm

    model.train()
    total_loss, correct, n = 0.0, 0, 0
    start = time.perf_counter()
    bar = tqdm(total=len(loader.dataset), unit="sample", desc=f"epoch {epoch + 1}/{epochs}",
               disable=not progress, leave=True, dynamic_ncols=True)
    for step, (x, y) in enumerate(loader):
        if max_steps is not None and step >= max_steps:
            break
        logits, loss = train_step(model, optimizer, x, y)
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        n += len(y)
        bar.update(len(y))
        bar.set_postfix(loss=f"{total_loss / n:.4f}")  # the bar itself shows samples/s
    bar.close()
    return total_loss / n, correct / n, n / (time.perf_counter() - start)


def plot_curves(history: dict, path: str) -> None:
    """Write training/validation loss and accuracy per epoch to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["train_loss"], label="train")
    ax_loss.plot(epochs, history["val_loss"], label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="loss")
    ax_acc.plot(epochs, [100 * a for a in history["train_acc"]], label="train")
    ax_acc.plot(epochs, [100 * a for a in history["val_acc"]], label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_checkpoint(path: str, **state) -> None:
    """``torch.save`` to a temporary file, then rename: a crash never leaves half a file."""
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> dict:
    """Train (or resume) and return the final metrics.

    Args:
        argv: command-line arguments (default: ``sys.argv[1:]``).

    Example:
        >>> m = main(["--epochs", "1", "--max-steps", "2"])  # doctest: +SKIP
        >>> m["epochs_done"]  # doctest: +SKIP
        1
    """
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    t0 = time.perf_counter()

    torch.manual_seed(args.seed)
    train_loader, val_loader = make_loaders(args.seed, args.batch_size)
    model = DigitsNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                                  weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    history = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr",
                               "samples_per_s")}
    start_epoch = 0

    if args.resume and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        # A longer run than first planned stretches the cosine over the new total.
        scheduler.T_max = args.epochs
        torch.set_rng_state(ckpt["rng_state"])
        history = ckpt["history"]
        start_epoch = ckpt["epoch"]
        print(f"resumed from {ckpt_path} at epoch {start_epoch} "
              f"(val acc {100 * history['val_acc'][-1]:.2f}%)")

    last_epoch = args.epochs
    if args.stop_after is not None:
        last_epoch = min(last_epoch, start_epoch + args.stop_after)
    for epoch in range(start_epoch, last_epoch):
        train_loss, train_acc, rate = train_one_epoch(
            model, train_loader, optimizer, epoch, args.epochs, args.max_steps,
            progress=not args.no_progress)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        scheduler.step()
        val_loss, val_acc = evaluate(model, val_loader)
        for key, value in (("train_loss", train_loss), ("train_acc", train_acc),
                           ("val_loss", val_loss), ("val_acc", val_acc),
                           ("samples_per_s", rate)):
            history[key].append(value)
        print(f"epoch {epoch + 1:3d}  train loss {train_loss:.4f} acc {100 * train_acc:6.2f}%"
              f"  val loss {val_loss:.4f} acc {100 * val_acc:6.2f}%  {rate:,.0f} samples/s",
              flush=True)
        save_checkpoint(ckpt_path, epoch=epoch + 1, model=model.state_dict(),
                        optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                        rng_state=torch.get_rng_state(), history=history)
        plot_curves(history, os.path.join(args.out, "curves.png"))

    metrics = {
        "val_acc": history["val_acc"][-1] if history["val_acc"] else math.nan,
        "val_loss": history["val_loss"][-1] if history["val_loss"] else math.nan,
        "epochs_run": max(last_epoch - start_epoch, 0),
        "epochs_done": len(history["val_acc"]),
        "start_epoch": start_epoch,
        "seconds": time.perf_counter() - t0,
    }
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print(f"held-out accuracy {100 * metrics['val_acc']:.2f}% after {metrics['epochs_done']} "
          f"epochs; {metrics['seconds']:.1f} s; outputs in {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
