"""Image transforms (torchvision's ``transforms``) for ember tensors and NumPy images.

Example:
    >>> from ember.vision import transforms as T
    >>> pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
"""

from ember.vision.transforms import functional
from ember.vision.transforms.functional import InterpolationMode
from ember.vision.transforms.transforms import (CenterCrop, Compose, ConvertImageDtype, Lambda,
                                                Normalize, Pad, RandomApply, RandomChoice,
                                                RandomCrop, RandomHorizontalFlip, RandomOrder,
                                                RandomResizedCrop, RandomVerticalFlip, Resize,
                                                ToTensor, Transform)

__all__ = ["functional", "InterpolationMode", "CenterCrop", "Compose", "ConvertImageDtype",
           "Lambda", "Normalize", "Pad", "RandomApply", "RandomChoice", "RandomCrop",
           "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop", "RandomVerticalFlip",
           "Resize", "ToTensor", "Transform"]
