"""``VisionDataset``: the base class of ember's datasets (torchvision's layout)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ember.utils.data import Dataset

__all__ = ["VisionDataset"]


class VisionDataset(Dataset):
    """A dataset stored under ``root`` with optional ``transform``/``target_transform``.

    Args:
        root: directory holding the data.
        transforms: callable taking and returning ``(image, target)``.
        transform: callable applied to the image.
        target_transform: callable applied to the target.

    Example:
        >>> VisionDataset("data", transform=lambda x: x).root
        'data'
    """

    _repr_indent = 4

    def __init__(self, root: str | os.PathLike | None = None,
                 transforms: Callable | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = os.fspath(root) if root is not None else None
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as "
                             "argument")
        self.transform, self.target_transform = transform, target_transform
        if has_separate:
            transforms = _StandardTransform(transform, target_transform)
        self.transforms = transforms

    def _apply(self, img: Any, target: Any) -> tuple[Any, Any]:
        if self.transforms is not None:
            return self.transforms(img, target)
        return img, target

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines += [x for x in self.extra_repr().splitlines() if x]
        if self.transforms is not None:
            lines += repr(self.transforms).splitlines()
        pad = " " * self._repr_indent
        return "\n".join([f"Dataset {type(self).__name__}"] + [pad + x for x in lines])


class _StandardTransform:
    def __init__(self, transform: Callable | None, target_transform: Callable | None):
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, img: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        out = []
        for name, t in (("Transform", self.transform),
                        ("Target transform", self.target_transform)):
            if t is not None:
                head, *rest = repr(t).splitlines()
                out += [f"{name}: {head}"] + [" " * (len(name) + 2) + x for x in rest]
        return "\n".join(out)
