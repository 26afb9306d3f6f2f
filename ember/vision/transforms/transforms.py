"""Transform classes with torchvision's names, arguments and defaults.

Each transform is a callable object; random ones draw from ember's default generator, so
``ember.manual_seed`` makes a pipeline reproducible. See ``functional`` for the image kinds
accepted (ember tensors (..., C, H, W), NumPy (H, W[, C]) arrays, PIL images if installed).

Example:
    >>> import numpy as np
    >>> t = Compose([ToTensor(), Normalize((0.5,), (0.5,))])
    >>> t(np.zeros((28, 28), np.uint8)).shape
    torch.Size([1, 28, 28])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ember.vision.transforms import functional as F
from ember.vision.transforms.functional import InterpolationMode, _size_pair

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "Resize", "CenterCrop", "Pad", "Lambda", "ConvertImageDtype",
           "RandomResizedCrop", "RandomApply", "RandomChoice", "RandomOrder"]


class Transform:
    """Base class: ``__call__`` runs ``forward`` (the name torchvision's modules use).

    Example:
        >>> import numpy as np
        >>> class AddOne(Transform):
        ...     def forward(self, img):
        ...         return img + 1
        >>> AddOne()(np.zeros(2))
        array([1., 1.])
    """

    def forward(self, img):  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, img):
        return self.forward(img)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Compose(Transform):
    """Apply transforms one after another.

    Args:
        transforms: list of callables.

    Example:
        >>> import numpy as np
        >>> Compose([CenterCrop(2), ToTensor()])(np.zeros((4, 4), np.uint8)).shape
        torch.Size([1, 2, 2])
    """

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def forward(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor(Transform):
    """Convert an (H, W[, C]) NumPy array or PIL image to a (C, H, W) tensor; uint8 -> [0, 1].

    Example:
        >>> import numpy as np
        >>> ToTensor()(np.zeros((2, 3, 3), np.uint8)).shape
        torch.Size([3, 2, 3])
    """

    def forward(self, pic):
        return F.to_tensor(pic)


class Normalize(Transform):
    """Normalize a float tensor image channel-wise: ``(x - mean) / std``.

    Args:
        mean: per-channel means.
        std: per-channel standard deviations.
        inplace: modify the input tensor.

    Example:
        >>> Normalize((0.1307,), (0.3081,))
        Normalize(mean=(0.1307,), std=(0.3081,))
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class Resize(Transform):
    """Resize to ``size`` ((h, w), or an int for the smaller edge keeping the aspect ratio).

    Args:
        size: output size.
        interpolation: ``InterpolationMode`` (default bilinear).
        max_size: bound on the longer edge when ``size`` is an int.
        antialias: low-pass filter when downscaling (default ``True``, as torchvision).

    Example:
        >>> Resize((2, 2))(ember.ones(1, 4, 4)).shape
        torch.Size([1, 2, 2])
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True):
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = F._interp_mode(interpolation)

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def extra_repr(self) -> str:
        return (f"size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias}")


class CenterCrop(Transform):
    """Crop the centre to ``size`` (int or (h, w)); pads with zeros if the image is smaller.

    Args:
        size: an int (square) or (h, w).

    Example:
        >>> import numpy as np
        >>> CenterCrop(2)(np.zeros((4, 4, 3))).shape
        (2, 2, 3)
    """

    def __init__(self, size):
        self.size = _size_pair(size)

    def forward(self, img):
        return F.center_crop(img, self.size)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class Pad(Transform):
    """Pad the borders (see ``functional.pad``).

    Args:
        padding: int (all borders), (left/right, top/bottom) or (left, top, right, bottom).
        fill: the value for ``'constant'`` mode (one number or one per channel).
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.

    Example:
        >>> import numpy as np
        >>> Pad(2)(np.zeros((4, 4))).shape
        (8, 8)
    """

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        F._parse_padding(padding)  # validate early, like torchvision
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode}"


class RandomCrop(Transform):
    """Crop at a random location.

    Args:
        size: output size, int or (h, w).
        padding: optional padding applied first (as ``Pad``).
        pad_if_needed: pad the image when it is smaller than ``size``.
        fill: constant fill value.
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.

    Example:
        >>> import numpy as np
        >>> RandomCrop(32, padding=4)(np.zeros((32, 32, 3), np.uint8)).shape
        (32, 32, 3)
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant"):
        self.size = _size_pair(size)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size) -> tuple[int, int, int, int]:
        """Return a random crop box ``(top, left, height, width)`` of ``output_size``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if (h, w) == (th, tw):
            return 0, 0, h, w
        return F._random_int(0, h - th + 1), F._random_int(0, w - tw + 1), th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, h, w = F.get_dimensions(img)
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = F.pad(img, [tw - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = F.pad(img, [0, th - h], self.fill, self.padding_mode)
        i, j, ch, cw = self.get_params(img, self.size)
        return F.crop(img, i, j, ch, cw)

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class RandomHorizontalFlip(Transform):
    """Flip left-right with probability ``p``.

    Args:
        p: the probability of flipping (default 0.5).

    Example:
        >>> import numpy as np
        >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2]]))
        array([[2, 1]])
    """

    def __init__(self, p: float = 0.5):
        self.p = p

    def forward(self, img):
        return F.hflip(img) if F._random_uniform() < self.p else img

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Flip top-bottom with probability ``p``.

    Args:
        p: the probability of flipping (default 0.5).

    Example:
        >>> import numpy as np
        >>> RandomVerticalFlip(p=1.0)(np.array([[1], [2]]))
        array([[2],
               [1]])
    """

    def forward(self, img):
        return F.vflip(img) if F._random_uniform() < self.p else img


class RandomResizedCrop(Transform):
    """Crop a random area and aspect ratio, then resize it to ``size``.

    Args:
        size: output size.
        scale: range of the crop's area as a fraction of the image's.
        ratio: range of the crop's aspect ratio (w / h), sampled log-uniformly.
        interpolation: ``InterpolationMode``.
        antialias: as for ``Resize``.

    Example:
        >>> import numpy as np
        >>> RandomResizedCrop(8)(np.zeros((16, 16, 3), np.uint8)).shape
        (8, 8, 3)
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
        self.size = _size_pair(size)
        self.scale, self.ratio, self.antialias = scale, ratio, antialias
        self.interpolation = F._interp_mode(interpolation)

    @staticmethod
    def get_params(img, scale, ratio) -> tuple[int, int, int, int]:
        """Return a random box ``(top, left, height, width)`` (10 tries, then the centre)."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        for _ in range(10):
            target = area * F._random_uniform(scale[0], scale[1])
            aspect = F._log_uniform(ratio[0], ratio[1])
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return F._random_int(0, height - h + 1), F._random_int(0, width - w + 1), h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, self.antialias)

    def extra_repr(self) -> str:
        return (f"size={self.size}, scale={self.scale}, ratio={self.ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias}")


class Lambda(Transform):
    """Apply a user function as a transform.

    Args:
        lambd: the function, called with the image.

    Example:
        >>> Lambda(lambda x: x * 2)(3)
        6
    """

    def __init__(self, lambd: Callable):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def forward(self, img):
        return self.lambd(img)


class ConvertImageDtype(Transform):
    """Convert a tensor image to ``dtype``, rescaling its values.

    Args:
        dtype: the target dtype.

    Example:
        >>> import ember
        >>> ConvertImageDtype(ember.float32)(ember.tensor([0, 255], dtype=ember.uint8))
        tensor([0., 1.])
    """

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)


class RandomApply(Transform):
    """Apply a list of transforms, all or none, with probability ``p``.

    Args:
        transforms: the transforms, applied in order.
        p: the probability of applying them (default 0.5).

    Example:
        >>> RandomApply([Lambda(lambda x: x * 10)], p=1.0)(2)
        20
        >>> RandomApply([Lambda(lambda x: x * 10)], p=0.0)(2)
        2
    """

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5):
        self.transforms, self.p = list(transforms), p

    def forward(self, img):
        if self.p < F._random_uniform():
            return img
        for t in self.transforms:
            img = t(img)
        return img


class RandomChoice(Transform):
    """Apply one transform picked at random (optionally weighted by ``p``).

    Args:
        transforms: the transforms to choose from.
        p: one weight per transform (None: equal weights); they need not sum to 1.

    Example:
        >>> pick = RandomChoice([Lambda(lambda x: x + 1), Lambda(lambda x: x - 1)], p=[1, 0])
        >>> pick(10)
        11
    """

    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None):
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != "
                             f"{len(transforms)}")
        self.transforms, self.p = list(transforms), p

    def forward(self, img):
        from ember._random import _gen

        weights = None
        if self.p is not None:
            total = float(sum(self.p))
            weights = [x / total for x in self.p]
        return self.transforms[int(_gen(None).choice(len(self.transforms), p=weights))](img)


class RandomOrder(Transform):
    """Apply the transforms in a random order (a new order each call).

    Args:
        transforms: the transforms.

    Example:
        >>> shuffled = RandomOrder([Lambda(lambda x: x + [1]), Lambda(lambda x: x + [2])])
        >>> sorted(shuffled([]))
        [1, 2]
    """

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def forward(self, img):
        from ember._random import _gen

        for i in _gen(None).permutation(len(self.transforms)):
            img = self.transforms[int(i)](img)
        return img
