"""A small DCGAN that learns to draw scikit-learn's 8x8 handwritten digits.

The generator turns a 16-dimensional noise vector into an 8x8 image with ConvTranspose2d/
BatchNorm/ReLU layers and a Tanh; the discriminator is Conv2d/BatchNorm/LeakyReLU down to
one logit. They play the usual non-saturating game with ``BCEWithLogitsLoss`` and Adam
(beta1 = 0.5). Losses and D(x), D(G(z)) are printed every few epochs; at the end an 8x8 grid
of samples from fixed noise is written as a PNG.

To put a number on "looks like digits", a logistic-regression digit classifier (trained on
the real digits with scikit-learn) scores the samples with a classifier-based Inception
score, exp(E[KL(p(y|x) || p(y))]): 10 means confident and evenly spread over the ten
classes, 1 means noise or a single class. The real images' score is printed alongside.

Run::

    python examples/dcgan_digits.py                 # ~1 minute on 2 cores

The code is ordinary PyTorch: ``import torch`` in place of ``import ember as torch`` runs it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

if __name__ == "__main__":
    # One BLAS thread: these products are tiny, and OpenBLAS's spinning threads cost far
    # more than they gain on a busy 2-core machine. Must be set before NumPy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import ember as torch  # noqa: E402
from ember import nn  # noqa: E402
from ember.utils.data import DataLoader, TensorDataset  # noqa: E402

NZ = 16  # noise dimensions


class Generator(nn.Module):
    """Noise (N, nz, 1, 1) -> images (N, 1, 8, 8) in [-1, 1].

    Example:
        >>> Generator()(torch.randn(2, 16, 1, 1)).shape
        torch.Size([2, 1, 8, 8])
    """

    def __init__(self, nz: int = NZ, width: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, width, 2, 1, 0, bias=False),              # 1 -> 2
            nn.BatchNorm2d(width), nn.ReLU(True),
            nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),      # 2 -> 4
            nn.BatchNorm2d(width // 2), nn.ReLU(True),
            nn.ConvTranspose2d(width // 2, 1, 4, 2, 1, bias=False),          # 4 -> 8
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    """Images (N, 1, 8, 8) -> one logit per image (N,).

    Example:
        >>> Discriminator()(torch.randn(2, 1, 8, 8)).shape
        torch.Size([2])
    """

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, width // 2, 4, 2, 1, bias=False),                   # 8 -> 4
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width // 2, width, 4, 2, 1, bias=False),               # 4 -> 2
            nn.BatchNorm2d(width), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 1, 2, 1, 0, bias=False),                        # 2 -> 1
        )

    def forward(self, x):
        return self.main(x).flatten()


def train_step(netG: Generator, netD: Discriminator, optG, optD, criterion, real):
    """One discriminator step, then one generator step, on the batch ``real``.

    Args:
        netG: the generator.
        netD: the discriminator.
        optG: the generator's optimizer.
        optD: the discriminator's optimizer.
        criterion: ``BCEWithLogitsLoss``.
        real: real images (N, 1, 8, 8) in [-1, 1].

    Returns:
        ``(loss_d, loss_g, out_real, out_fake)``: the two losses and the discriminator's
        logits on the real and the generated images.

    Example:
        >>> netG, netD = Generator(), Discriminator()
        >>> optG = torch.optim.Adam(netG.parameters())
        >>> optD = torch.optim.Adam(netD.parameters())
        >>> out = train_step(netG, netD, optG, optD, nn.BCEWithLogitsLoss(),
        ...                  torch.randn(4, 1, 8, 8))
        >>> out[2].shape
        torch.Size([4])
    """
    b = real.shape[0]
    ones, zeros = torch.ones(b), torch.zeros(b)

    # (1) discriminator: maximise log D(x) + log(1 - D(G(z)))
    fake = netG(torch.randn(b, NZ, 1, 1))
    out_real = netD(real)
    out_fake = netD(fake.detach())
    loss_d = criterion(out_real, ones) + criterion(out_fake, zeros)
    optD.zero_grad()
    loss_d.backward()
    optD.step()

    # (2) generator: maximise log D(G(z)) (the non-saturating loss)
    loss_g = criterion(netD(fake), ones)
    optG.zero_grad()
    loss_g.backward()
    optG.step()
    return loss_d, loss_g, out_real, out_fake


def weights_init(m: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) convolutions, N(1, 0.02) BatchNorm scales."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def digit_scorer():
    """A scikit-learn classifier of real digits and the score function built on it."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    d = load_digits()
    clf = LogisticRegression(max_iter=2000).fit(d.data / 16.0, d.target)

    def inception_score(images: np.ndarray) -> float:
        """exp(E_x KL(p(y|x) || p(y))) for images in [0, 1], shape (N, 64)."""
        p_yx = clf.predict_proba(images)
        p_y = p_yx.mean(0, keepdims=True)
        kl = (p_yx * (np.log(p_yx + 1e-12) - np.log(p_y + 1e-12))).sum(1)
        return float(math.exp(kl.mean()))

    return inception_score, inception_score(d.data / 16.0)


def save_grid(images, path: str, nrow: int = 8, scale: int = 4) -> None:
    """Write images (N, 1, 8, 8) in [-1, 1] as an nrow-wide grid PNG, pixels scaled up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = images.shape[0]
    ncol = math.ceil(n / nrow)
    pad = 1
    grid = np.ones((ncol * (8 + pad) + pad, nrow * (8 + pad) + pad), np.float32)
    arr = (images.detach().numpy()[:, 0] + 1) / 2
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[pad + r * (8 + pad):pad + r * (8 + pad) + 8,
             pad + c * (8 + pad):pad + c * (8 + pad) + 8] = 1 - arr[i]
    grid = np.kron(grid, np.ones((scale, scale), np.float32))  # nearest-neighbour upscale
    plt.imsave(path, grid, cmap="gray", vmin=0, vmax=1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--out", default="runs/dcgan")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop each epoch after this many batches (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=10, help="print every N epochs")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Train the GAN, write the sample grid, and return losses and scores.

    Args:
        argv: command-line arguments (default: ``sys.argv[1:]``).

    Example:
        >>> m = main(["--epochs", "1", "--max-steps", "2"])  # doctest: +SKIP
        >>> sorted(m)[:2]  # doctest: +SKIP
        ['d_loss', 'epochs']
    """
    from sklearn.datasets import load_digits

    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)

    images = torch.tensor(load_digits().images, dtype=torch.float32).unsqueeze(1)
    images = images / 8.0 - 1.0  # [0, 16] -> [-1, 1], the Tanh's range
    loader = DataLoader(TensorDataset(images), batch_size=args.batch_size, shuffle=True,
                        drop_last=True)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCEWithLogitsLoss()
    optG = torch.optim.Adam(netG.parameters(), lr=args.lr, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_noise = torch.randn(64, NZ, 1, 1)

    history = {"d_loss": [], "g_loss": []}
    for epoch in range(1, args.epochs + 1):
        sums = {"d_loss": 0.0, "g_loss": 0.0, "d_x": 0.0, "d_gz": 0.0}
        n = 0
        for step, (real,) in enumerate(loader):
            if args.max_steps is not None and step >= args.max_steps:
                break
            loss_d, loss_g, out_real, out_fake = train_step(netG, netD, optG, optD, criterion,
                                                            real)
            sums["d_loss"] += loss_d.item()
            sums["g_loss"] += loss_g.item()
            sums["d_x"] += torch.sigmoid(out_real).mean().item()
            sums["d_gz"] += torch.sigmoid(out_fake).mean().item()
            n += 1
        history["d_loss"].append(sums["d_loss"] / n)
        history["g_loss"].append(sums["g_loss"] / n)
        if epoch % args.log_every == 0 or epoch == args.epochs:
            print(f"epoch {epoch:3d}  loss D {sums['d_loss'] / n:.3f}  loss G "
                  f"{sums['g_loss'] / n:.3f}  D(x) {sums['d_x'] / n:.2f}  "
                  f"D(G(z)) {sums['d_gz'] / n:.2f}", flush=True)

    netG.eval()
    with torch.no_grad():
        grid = netG(fixed_noise)
        many = netG(torch.randn(1000, NZ, 1, 1))
    save_grid(grid, os.path.join(args.out, "samples.png"))
    torch.save({"netG": netG.state_dict(), "netD": netD.state_dict(),
                "optG": optG.state_dict(), "optD": optD.state_dict(), "epoch": args.epochs},
               os.path.join(args.out, "checkpoint.pt"))
    score, real_score = digit_scorer()
    samples_score = score(((many.numpy() + 1) / 2).reshape(-1, 64))
    metrics = {"d_loss": history["d_loss"][-1], "g_loss": history["g_loss"][-1],
               "epochs": args.epochs, "inception_score": samples_score,
               "real_inception_score": real_score, "seconds": time.perf_counter() - t0}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print(f"classifier-based Inception score of 1000 samples {samples_score:.2f} "
          f"(real digits {real_score:.2f}, noise ~1); {metrics['seconds']:.1f} s; "
          f"grid in {args.out}/samples.png")
    return metrics


if __name__ == "__main__":
    main()
