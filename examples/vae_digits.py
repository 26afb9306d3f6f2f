"""A variational autoencoder on scikit-learn's 8x8 digits, written with torch.distributions.

The encoder maps an image to the mean and log-variance of a diagonal Gaussian posterior
``q(z|x) = Normal(mu, sigma)``; ``rsample()`` draws ``z`` by reparameterisation so the
gradient flows through the sample; the decoder gives per-pixel Bernoulli logits. The loss
is the negative ELBO, ``-(E_q[log p(x|z)] - KL(q(z|x) || N(0, I)))`` with the KL term from
``torch.distributions.kl_divergence``. The held-out ELBO (nats per image) is printed each
epoch; at the end a PNG shows validation images, their reconstructions, and samples
decoded from the prior.

Run::

    python examples/vae_digits.py                   # ~20 s on 2 cores

The code is ordinary PyTorch: ``import torch`` in place of ``import ember as torch`` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import time

if __name__ == "__main__":
    # One BLAS thread: these products are tiny, and OpenBLAS's spinning threads cost far
    # more than they gain on a busy 2-core machine. Must be set before NumPy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import ember as torch  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember import nn  # noqa: E402
from ember.distributions import Normal, kl_divergence  # noqa: E402
from ember.utils.data import DataLoader, TensorDataset, random_split  # noqa: E402


class VAE(nn.Module):
    """MLP encoder to a diagonal Gaussian over ``latent`` dims; MLP decoder to pixel logits.

    Args:
        n_pixels: flattened image size.
        hidden: hidden units of encoder and decoder.
        latent: latent dimensions.

    Example:
        >>> logits, q = VAE()(torch.rand(3, 64))
        >>> logits.shape, q.loc.shape
        (torch.Size([3, 64]), torch.Size([3, 8]))
    """

    def __init__(self, n_pixels: int = 64, hidden: int = 256, latent: int = 8) -> None:
        super().__init__()
        self.latent = latent
        self.encoder = nn.Sequential(nn.Linear(n_pixels, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, n_pixels))

    def posterior(self, x) -> Normal:
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return Normal(mu, (0.5 * log_var).exp())

    def forward(self, x):
        q = self.posterior(x)
        return self.decoder(q.rsample()), q


def elbo(model: VAE, x):
    """Per-image ELBO (nats): Bernoulli log-likelihood of ``x`` minus KL to the prior."""
    logits, q = model(x)
    # Pixels are intensities in [0, 1]; the Bernoulli log-likelihood is the (negative)
    # binary cross-entropy, which accepts such "soft" targets.
    log_lik = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
    prior = Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale))
    return log_lik - kl_divergence(q, prior).sum(-1)


def train_step(model: VAE, optimizer, x):
    """One optimisation step on the negative mean ELBO of ``x``; returns that loss.

    Args:
        model: the VAE.
        optimizer: its optimizer.
        x: a batch of flattened images (N, 64) in [0, 1].

    Example:
        >>> model = VAE()
        >>> opt = torch.optim.Adam(model.parameters())
        >>> train_step(model, opt, torch.rand(4, 64)).shape
        torch.Size([])
    """
    loss = -elbo(model, x).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def load_digits_flat():
    """The 1,797 digits as (N, 64) floats in [0, 1] and their labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (torch.tensor(d.data, dtype=torch.float32) / 16.0,
            torch.tensor(d.target, dtype=torch.int64))


@torch.no_grad()
def evaluate(model: VAE, x) -> float:
    model.eval()
    value = elbo(model, x).mean().item()
    model.train()
    return value


def save_figure(model: VAE, x_val, path: str, n: int = 10) -> None:
    """Validation images, their reconstructions (posterior means), and prior samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with torch.no_grad():
        model.eval()
        recon = torch.sigmoid(model.decoder(model.posterior(x_val[:n]).loc))
        samples = torch.sigmoid(model.decoder(torch.randn(n, model.latent)))
        model.train()
    rows = [("data", x_val[:n]), ("reconstruction", recon), ("prior sample", samples)]
    fig, axes = plt.subplots(3, n, figsize=(n, 3.3))
    for r, (name, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c].reshape(8, 8).numpy(), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=150)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--latent", type=int, default=8)
    p.add_argument("--out", default="runs/vae")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop each epoch after this many batches (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=10, help="print every N epochs")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Train the VAE and return the held-out ELBO before and after.

    Args:
        argv: command-line arguments (default: ``sys.argv[1:]``).

    Example:
        >>> m = main(["--epochs", "1", "--max-steps", "2"])  # doctest: +SKIP
        >>> m["val_elbo"] > m["initial_val_elbo"]  # doctest: +SKIP
        True
    """
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)

    images, labels = load_digits_flat()
    n_val = round(0.2 * len(images))
    train_set, val_set = random_split(TensorDataset(images, labels),
                                      [len(images) - n_val, n_val],
                                      generator=torch.Generator().manual_seed(args.seed))
    x_val = images[val_set.indices]
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)

    model = VAE(latent=args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    history = [evaluate(model, x_val)]
    print(f"epoch   0  val ELBO {history[0]:8.2f} nats/image")
    for epoch in range(1, args.epochs + 1):
        total, n = 0.0, 0
        for step, (x, _) in enumerate(loader):
            if args.max_steps is not None and step >= args.max_steps:
                break
            loss = train_step(model, optimizer, x)
            total, n = total - loss.item() * len(x), n + len(x)
        history.append(evaluate(model, x_val))
        if epoch % args.log_every == 0 or epoch == args.epochs:
            print(f"epoch {epoch:3d}  train ELBO {total / n:8.2f}  val ELBO {history[-1]:8.2f} "
                  f"nats/image", flush=True)

    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": args.epochs, "rng_state": torch.get_rng_state()},
               os.path.join(args.out, "checkpoint.pt"))
    save_figure(model, x_val, os.path.join(args.out, "vae_digits.png"))
    metrics = {"initial_val_elbo": history[0], "val_elbo": history[-1],
               "best_val_elbo": max(history), "epochs": args.epochs,
               "seconds": time.perf_counter() - t0}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print(f"val ELBO {history[0]:.1f} -> {history[-1]:.2f} nats/image; "
          f"{metrics['seconds']:.1f} s; outputs in {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
