"""``DatasetFolder`` and ``ImageFolder``: one sub-folder per class (torchvision's layout)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ember.vision.datasets.vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "find_classes",
           "make_dataset"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """Return the sorted sub-folder names of ``directory`` and their indices.

    Args:
        directory: the dataset's root folder.

    Returns:
        ``(classes, class_to_idx)``; FileNotFoundError when there is no sub-folder.

    Example:
        >>> import os
        >>> import numpy as np
        >>> for cls in ("cat", "dog"):
        ...     os.makedirs(f"data/{cls}", exist_ok=True)
        ...     np.save(f"data/{cls}/0.npy", np.zeros((4, 4, 3), np.uint8))
        >>> find_classes("data")
        (['cat', 'dog'], {'cat': 0, 'dog': 1})
    """
    classes = sorted(e.name for e in os.scandir(directory) if e.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {c: i for i, c in enumerate(classes)}


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int] | None = None,
                 extensions: tuple[str, ...] | str | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """List ``(path, class_index)`` for every valid file under each class folder, sorted.

    Args:
        directory: the dataset's root folder.
        class_to_idx: class folder -> index (None: from ``find_classes``).
        extensions: file endings that count (exactly one of this and ``is_valid_file``).
        is_valid_file: a predicate on paths (exactly one of this and ``extensions``).
        allow_empty: accept classes without a file (FileNotFoundError otherwise).

    Returns:
        A list of ``(path, class_index)``.

    Example:
        >>> import os
        >>> import numpy as np
        >>> for cls in ("cat", "dog"):
        ...     os.makedirs(f"data/{cls}", exist_ok=True)
        ...     np.save(f"data/{cls}/0.npy", np.zeros((4, 4, 3), np.uint8))
        >>> [(os.path.relpath(p), i) for p, i in make_dataset("data", extensions=".npy")]
        [('data/cat/0.npy', 0), ('data/dog/0.npy', 1)]
    """
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if is_valid_file is None:
        exts = tuple(e.lower() for e in ((extensions,) if isinstance(extensions, str)
                                         else extensions))
        is_valid_file = lambda p: p.lower().endswith(exts)  # noqa: E731
    samples, found = [], set()
    for cls in sorted(class_to_idx):
        root = os.path.join(directory, cls)
        if not os.path.isdir(root):
            continue
        for dirpath, _, names in sorted(os.walk(root, followlinks=True)):
            for name in sorted(names):
                path = os.path.join(dirpath, name)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[cls]))
                    found.add(cls)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions}"
        raise FileNotFoundError(msg)
    return samples


def default_loader(path: str) -> np.ndarray:
    """Load an image file as an RGB uint8 (H, W, 3) NumPy array (needs Pillow), or a ``.npy``
    file as the array it holds.

    Args:
        path: the file.

    Returns:
        A NumPy array.

    Example:
        >>> import numpy as np
        >>> np.save("img.npy", np.zeros((2, 3, 3), np.uint8))
        >>> default_loader("img.npy").shape
        (2, 3, 3)
    """
    if path.endswith(".npy"):
        return np.load(path)
    try:
        from PIL import Image
    except ImportError:
        raise RuntimeError(f"default_loader(): decoding {os.path.basename(path)} needs Pillow "
                           "(pip install pillow), or pass loader= to the dataset") from None
    with open(path, "rb") as f, Image.open(f) as img:
        return np.asarray(img.convert("RGB"))


class DatasetFolder(VisionDataset):
    """Samples stored as ``root/<class>/**/<file>``, loaded with ``loader``.

    Args:
        root: root directory.
        loader: callable turning a path into a sample.
        extensions: accepted file suffixes (or give ``is_valid_file``).
        transform: applied to the sample.
        target_transform: applied to the class index.
        is_valid_file: predicate on paths.
        allow_empty: accept class folders without valid files.

    Example:
        >>> ds = DatasetFolder("data", np.load, extensions=(".npy",))  # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike, loader: Callable[[str], Any],
                 extensions: tuple[str, ...] | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, self.class_to_idx, extensions,
                                         is_valid_file, allow_empty)
        self.loader, self.extensions = loader, extensions
        self.targets = [s[1] for s in self.samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False) -> list[tuple[str, int]]:
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory) -> tuple[list[str], dict[str, int]]:
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        return self._apply(self.loader(path), target)

    def __len__(self) -> int:
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images stored as ``root/<class>/<image>``; samples are RGB uint8 (H, W, 3) arrays.

    The default loader decodes with Pillow (optional: pass ``loader=`` without it) and also
    reads ``.npy`` arrays. torchvision returns PIL images here; ember returns NumPy arrays,
    which ``transforms`` accept.

    Args:
        root: the dataset's root folder (one sub-folder per class).
        transform: applied to each image.
        target_transform: applied to each class index.
        loader: reads a file into an image (default: ``default_loader``).
        is_valid_file: a predicate choosing the files (default: image and ``.npy``
            extensions).
        allow_empty: accept classes without a file.

    Example:
        >>> import os
        >>> import numpy as np
        >>> for cls in ("cat", "dog"):
        ...     os.makedirs(f"data/{cls}", exist_ok=True)
        ...     np.save(f"data/{cls}/0.npy", np.zeros((4, 4, 3), np.uint8))
        >>> ds = ImageFolder("data")
        >>> len(ds), ds.classes, ds[1][0].shape, ds[1][1]
        (2, ['cat', 'dog'], (4, 4, 3), 1)
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS + (".npy",) if is_valid_file is None
                         else None, transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
