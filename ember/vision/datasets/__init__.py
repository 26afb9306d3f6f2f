"""Datasets with torchvision's names and file layouts, loaded from a local ``root``.

Nothing is downloaded: ``download=True`` is accepted when the files are present and raises
``RuntimeError`` otherwise. Images come back as uint8 NumPy arrays ((H, W) for MNIST,
(H, W, 3) for CIFAR and ImageFolder) where torchvision gives PIL images; every transform in
``ember.vision.transforms`` accepts them.

Example:
    >>> from ember.vision import datasets, transforms
    >>> ds = datasets.MNIST("data", train=False, transform=transforms.ToTensor())  # doctest: +SKIP
"""

from ember.vision.datasets.cifar import CIFAR10, CIFAR100
from ember.vision.datasets.folder import DatasetFolder, ImageFolder
from ember.vision.datasets.mnist import KMNIST, MNIST, FashionMNIST
from ember.vision.datasets.utils import read_idx
from ember.vision.datasets.vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "ImageFolder", "KMNIST", "MNIST",
           "FashionMNIST", "VisionDataset", "read_idx"]
