"""MNIST-family datasets read from the original IDX files (torchvision's file layout)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ember._tensor import Tensor
from ember.vision.datasets.utils import download_unavailable, read_idx
from ember.vision.datasets.vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST"]


class MNIST(VisionDataset):
    """The MNIST digits, read from ``root/MNIST/raw/`` (torchvision's layout).

    The raw folder holds the four original IDX files, plain or gzip-compressed:
    ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte`` (each optionally ending in ``.gz``).

    Each sample is ``(image, target)``: where torchvision returns a PIL image, ember returns
    the image as a ``uint8`` NumPy array of shape (H, W) (what ``np.asarray`` of that PIL
    image would be), so ``transforms.ToTensor()`` gives a (1, H, W) float tensor in [0, 1];
    ``target`` is a Python int. ``data`` is a uint8 tensor (N, H, W) and ``targets`` an int64
    tensor (N,), as in torchvision.

    Args:
        root: directory containing ``MNIST/raw``.
        train: the 60k training split if True, else the 10k test split.
        transform: applied to the image.
        target_transform: applied to the target.
        download: ember cannot download; True is accepted when the files are present and
            raises ``RuntimeError`` otherwise.

    Example:
        >>> ds = MNIST("data", train=False, transform=transforms.ToTensor())  # doctest: +SKIP
        >>> img, label = ds[0]                                                # doctest: +SKIP
    """

    resources = [("train-images-idx3-ubyte.gz", None), ("train-labels-idx1-ubyte.gz", None),
                 ("t10k-images-idx3-ubyte.gz", None), ("t10k-labels-idx1-ubyte.gz", None)]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if not self._check_exists():
            if download:
                raise download_unavailable(type(self).__name__, self.raw_folder)
            raise RuntimeError(f"Dataset not found in {self.raw_folder}. You can use "
                               "download=True to download it (ember cannot: place the IDX "
                               "files there)")
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def _find(self, stem: str) -> str | None:
        for name in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _stems(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _check_exists(self) -> bool:
        return all(self._find(s) is not None for s in self._stems())

    def _load_data(self) -> tuple[Tensor, Tensor]:
        images_stem, labels_stem = self._stems()
        images = read_idx(self._find(images_stem))
        labels = read_idx(self._find(labels_stem))
        if images.ndim != 3 or images.dtype != np.uint8:
            raise RuntimeError(f"{type(self).__name__}: {images_stem} should hold uint8 "
                               f"images (N, H, W), got {images.dtype} {images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise RuntimeError(f"{type(self).__name__}: {labels_stem} should hold "
                               f"{len(images)} labels, got shape {labels.shape}")
        return Tensor._wrap(images), Tensor._wrap(labels.astype(np.int64))

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data._data[index]
        return self._apply(img, int(self.targets._data[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST: the MNIST format and file names, in ``root/FashionMNIST/raw/``.

    Args:
        root: the folder holding the dataset's folder.
        train: the training split (False: the test split).
        transform: applied to each image.
        target_transform: applied to each label.
        download: accepted when the files are already in place; ember never downloads
            (RuntimeError naming where to put them otherwise).

    Example:
        >>> FashionMNIST.classes[0]
        'T-shirt/top'
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: the MNIST format and file names, in ``root/KMNIST/raw/``.

    Args:
        root: the folder holding ``KMNIST/``.
        train: the training split (False: the test split).
        transform: applied to each image.
        target_transform: applied to each label.
        download: accepted when the files are already in place; ember never downloads
            (RuntimeError naming where to put them otherwise).

    Example:
        >>> KMNIST.classes[:3]
        ['o', 'ki', 'su']
    """

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
