"""CIFAR-10 and CIFAR-100 read from their original pickled Python batches."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

from ember.vision.datasets.utils import download_unavailable
from ember.vision.datasets.vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(VisionDataset):
    """CIFAR-10 from ``root/cifar-10-batches-py/`` (the "python version" archive, extracted).

    The folder holds ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and
    ``batches.meta``: pickles of dicts with ``data`` (N x 3072 uint8, channel-major rows of
    32x32 images) and ``labels``, and ``label_names``. Checksums are not verified.

    Each sample is ``(image, target)``: ember returns the image as a uint8 NumPy array of
    shape (32, 32, 3) (HWC, what ``np.asarray`` of torchvision's PIL image would be), so
    ``transforms.ToTensor()`` gives a (3, 32, 32) float tensor; ``target`` is an int.
    ``data`` is the (N, 32, 32, 3) uint8 array and ``targets`` a list of ints, as in
    torchvision.

    Args:
        root: directory containing ``cifar-10-batches-py``.
        train: training batches if True, else ``test_batch``.
        transform: applied to the image.
        target_transform: applied to the target.
        download: ember cannot download; True raises ``RuntimeError`` when files are missing.

    Example:
        >>> ds = CIFAR10("data", train=False)  # doctest: +SKIP
        >>> ds.classes[:2]                     # doctest: +SKIP
        ['airplane', 'automobile']
    """

    base_folder = "cifar-10-batches-py"
    train_list = [[f"data_batch_{i}", None] for i in range(1, 6)]
    test_list = [["test_batch", None]]
    meta = {"filename": "batches.meta", "key": "label_names"}
    labels_key = "labels"

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = os.path.join(self.root, self.base_folder)
        if not self._check_integrity():
            if download:
                raise download_unavailable(type(self).__name__, folder)
            raise RuntimeError(f"Dataset not found or corrupted in {folder}. You can use "
                               "download=True to download it (ember cannot: place the "
                               "extracted batches there)")
        data, self.targets = [], []
        for name, _ in self.train_list if train else self.test_list:
            entry = self._unpickle(os.path.join(folder, name))
            data.append(np.asarray(entry["data"], dtype=np.uint8))
            self.targets.extend(int(t) for t in entry[self.labels_key])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        if len(self.data) != len(self.targets):
            raise RuntimeError(f"{type(self).__name__}: {len(self.data)} images but "
                               f"{len(self.targets)} labels")
        self._load_meta()

    @staticmethod
    def _unpickle(path: str) -> dict:
        with open(path, "rb") as f:
            # The batches were pickled by Python 2: byte strings decode as latin-1.
            entry = pickle.load(f, encoding="latin1")
        return {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}

    def _load_meta(self) -> None:
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not os.path.isfile(path):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use "
                               "download=True to download it")
        names = self._unpickle(path)[self.meta["key"]]
        self.classes = [n.decode() if isinstance(n, bytes) else n for n in names]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        folder = os.path.join(self.root, self.base_folder)
        return all(os.path.isfile(os.path.join(folder, name))
                   for name, _ in self.train_list + self.test_list)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self._apply(self.data[index], self.targets[index])

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 from ``root/cifar-100-python/`` (``train``, ``test``, ``meta``; fine labels).

    Args:
        root: the folder holding the dataset's folder.
        train: the training split (False: the test split).
        transform: applied to each image.
        target_transform: applied to each label.
        download: accepted when the files are already in place; ember never downloads
            (RuntimeError naming where to put them otherwise).

    Example:
        >>> CIFAR100.base_folder
        'cifar-100-python'
    """

    base_folder = "cifar-100-python"
    train_list = [["train", None]]
    test_list = [["test", None]]
    meta = {"filename": "meta", "key": "fine_label_names"}
    labels_key = "fine_labels"
