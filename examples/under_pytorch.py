"""Run one of these examples under real PyTorch, to compare results and run time with ember.

The examples are ordinary PyTorch programs that say ``import ember as torch``; this script
loads one, rewrites its ember imports to the torch ones (``ember.vision`` becomes
``torchvision``), and calls its ``main`` with the remaining arguments. PyTorch is limited to
one intra-op thread, as the examples limit NumPy's BLAS, so the comparison is like for like.
If torchvision is not installed, a stand-in providing ``transforms.RandomCrop`` (the only
torchvision piece the examples use) is put in its place.

Run::

    python examples/under_pytorch.py digits_cnn --no-progress --out runs/digits_torch
    python examples/under_pytorch.py char_lstm --out runs/char_lstm_torch

Needs PyTorch (the ``oracle`` extra); ember itself never imports it.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the examples do (see their tops)


def _random_crop_standin(torch):
    """A minimal ``torchvision.transforms`` module with RandomCrop for CHW tensors."""

    class RandomCrop:
        def __init__(self, size, padding=0):
            self.size = (size, size) if isinstance(size, int) else tuple(size)
            self.padding = padding

        def __call__(self, img):
            if self.padding:
                img = torch.nn.functional.pad(img, [self.padding] * 4)
            h, w = img.shape[-2:]
            th, tw = self.size
            i = int(torch.randint(0, h - th + 1, (1,)))
            j = int(torch.randint(0, w - tw + 1, (1,)))
            return img[..., i:i + th, j:j + tw]

    pkg = types.ModuleType("torchvision")
    pkg.transforms = types.ModuleType("torchvision.transforms")
    pkg.transforms.RandomCrop = RandomCrop
    sys.modules["torchvision"] = pkg
    sys.modules["torchvision.transforms"] = pkg.transforms


def load_under_pytorch(name: str) -> types.ModuleType:
    """Import ``examples/<name>.py`` with its ember imports pointed at PyTorch.

    Args:
        name: the example's file name without ``.py`` (e.g. ``"vae_digits"``).

    Example:
        >>> load_under_pytorch("vae_digits").torch.__name__
        'torch'
    """
    import torch

    torch.set_num_threads(1)
    try:
        import torchvision  # noqa: F401
    except ImportError:
        _random_crop_standin(torch)
    path = Path(__file__).resolve().parent / f"{name}.py"
    src = path.read_text()
    for old, new in (("import ember as torch", "import torch"),
                     ("import ember.vision.", "import torchvision."),
                     ("from ember.vision", "from torchvision"),
                     ("import ember.", "import torch."), ("from ember", "from torch")):
        src = src.replace(old, new)
    module = types.ModuleType(f"{name}_under_pytorch")
    module.__file__ = str(path)
    exec(compile(src, str(path), "exec"), module.__dict__)
    return module


def main(argv: list[str] | None = None):
    """``under_pytorch.py NAME [ARGS...]``: run example NAME's main(ARGS) under PyTorch."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-"):
        raise SystemExit(__doc__)
    print(f"running examples/{argv[0]}.py under PyTorch (1 thread)", flush=True)
    return load_under_pytorch(argv[0]).main(argv[1:])


if __name__ == "__main__":
    main()
