"""Image transform functions (torchvision's ``transforms.functional``) without Pillow.

Three kinds of image are accepted:

* an ember ``Tensor`` laid out ``(..., C, H, W)`` (or ``(..., H, W)``), as torchvision's
  tensor images;
* a NumPy array laid out ``(H, W)`` or ``(H, W, C)``, the layout ``np.asarray`` gives for a
  PIL image; this is what ember's datasets return, so pipelines written for PIL images work;
* a PIL image, only when Pillow happens to be installed (it is never required).

Every function returns the kind of image it was given. Crops and flips of tensors are views
or ember ops, so they keep autograd; padding and resizing compute on the raw array (they are
data-preparation steps and are not differentiable).
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Sequence
from enum import Enum

import numpy as np

import ember
from ember._dtype import BOOL, COMPLEX, to_dtype
from ember._tensor import Tensor

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels",
           "to_tensor", "normalize", "crop", "center_crop", "pad", "hflip", "vflip", "resize",
           "resized_crop", "convert_image_dtype"]


class InterpolationMode(Enum):
    """Interpolation modes, named like torchvision's (``InterpolationMode.BILINEAR``); their
    values are the names ``resize`` also accepts as strings.

    Example:
        >>> InterpolationMode.BILINEAR.value
        'bilinear'
        >>> resize(np.zeros((4, 4)), (2, 2), InterpolationMode.NEAREST).shape
        (2, 2)
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _interp_mode(mode) -> InterpolationMode:
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, str):
        try:
            return InterpolationMode(mode.lower())
        except ValueError:
            pass
    raise TypeError(f"Argument interpolation should be of type InterpolationMode or one of "
                    f"{[m.value for m in InterpolationMode]}, got {mode!r}")


# ---------------------------------------------------------------------------------------------
# Image kinds. Internally every function works on a "planar" NumPy array (..., H, W).


def _is_pil(img) -> bool:
    pil = sys.modules.get("PIL.Image")  # never import Pillow ourselves: it is optional
    return pil is not None and isinstance(img, pil.Image)


def _check_image(img, fn: str) -> None:
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"{fn}(): tensor is not a torch image: expected at least 2 "
                            f"dimensions (..., H, W), got shape {tuple(img.shape)}")
    elif isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise TypeError(f"{fn}(): a NumPy image must be (H, W) or (H, W, C), got shape "
                            f"{img.shape}")
    elif not _is_pil(img):
        raise TypeError(f"{fn}(): img should be a Tensor, a NumPy array or a PIL Image. "
                        f"Got {type(img)}")


def _to_planar(img, fn: str):
    """Return the image as a (..., H, W) array and a function that rebuilds its kind."""
    _check_image(img, fn)
    if isinstance(img, Tensor):
        return img._data, lambda a: Tensor._wrap(np.ascontiguousarray(a))
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            return img, np.ascontiguousarray
        return np.moveaxis(img, -1, 0), lambda a: np.ascontiguousarray(np.moveaxis(a, 0, -1))
    arr, restore = _to_planar(np.asarray(img), fn)
    pil, mode = sys.modules["PIL.Image"], img.mode
    return arr, lambda a: pil.fromarray(restore(a)).convert(mode)


def get_dimensions(img) -> list[int]:
    """Return ``[channels, height, width]`` of an image.

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).

    Returns:
        A list ``[channels, height, width]``.

    Example:
        >>> get_dimensions(np.zeros((4, 5, 3), np.uint8))
        [3, 4, 5]
    """
    arr, _ = _to_planar(img, "get_dimensions")
    c = arr.shape[-3] if arr.ndim >= 3 else 1
    return [int(c), int(arr.shape[-2]), int(arr.shape[-1])]


def get_image_size(img) -> list[int]:
    """Return ``[width, height]`` of an image (torchvision's order).

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).

    Returns:
        A list ``[width, height]``.

    Example:
        >>> get_image_size(np.zeros((4, 5, 3), np.uint8))
        [5, 4]
    """
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    """Return the number of channels of an image.

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).

    Returns:
        An int.

    Example:
        >>> get_image_num_channels(np.zeros((4, 5, 3), np.uint8))
        3
    """
    return get_dimensions(img)[0]


# ---------------------------------------------------------------------------------------------
# Conversion


def to_tensor(pic) -> Tensor:
    """Convert an (H, W[, C]) NumPy array or a PIL image to a (C, H, W) tensor.

    ``uint8`` input is scaled to float in ``[0, 1]`` (default dtype); other dtypes keep their
    values and dtype, as in torchvision.

    Args:
        pic: NumPy array (H, W) or (H, W, C), or a PIL image (when Pillow is installed).

    Returns:
        A (C, H, W) tensor.

    Example:
        >>> to_tensor(np.full((2, 2), 255, np.uint8))
        tensor([[[1., 1.],
                 [1., 1.]]])
    """
    if _is_pil(pic):
        arr = np.array(pic, copy=True)
        if pic.mode == "1":
            arr = arr.astype(np.uint8) * 255
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if arr.dtype == np.uint8:
        return Tensor._wrap(arr.astype(ember.get_default_dtype().np) / np.float32(255))
    return Tensor._wrap(arr.copy() if arr.base is pic else arr)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """Normalize a float (..., C, H, W) tensor channel-wise: ``(x - mean) / std``.

    Args:
        tensor: float tensor image.
        mean: per-channel means (or one value for all channels).
        std: per-channel standard deviations.
        inplace: modify ``tensor`` in place.

    Returns:
        The normalized tensor (``tensor`` itself with ``inplace``).

    Example:
        >>> normalize(ember.ones(3, 2, 2), (0.5,) * 3, (0.5,) * 3)[0, 0, 0].item()
        1.0
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Input tensor should be a torch tensor. Got {type(tensor)}.")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tuple(tensor.shape)}")
    np_dt = tensor.dtype.np
    m = np.asarray(mean, dtype=np_dt).reshape(-1, 1, 1)
    s = np.asarray(std, dtype=np_dt).reshape(-1, 1, 1)
    if (s == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading "
                         "to division by zero.")
    if inplace:
        return tensor.sub_(Tensor._wrap(m)).div_(Tensor._wrap(s))
    return (tensor - Tensor._wrap(m)) / Tensor._wrap(s)


_INT_MAX = {np.dtype(t): np.iinfo(t).max for t in (np.uint8, np.int8, np.int16, np.int32,
                                                    np.int64)}


def convert_image_dtype(image: Tensor, dtype=None) -> Tensor:
    """Convert a tensor image to ``dtype``, rescaling values (ints: ``[0, MAX]``, floats:
    ``[0, 1]``).

    Args:
        image: tensor image.
        dtype: target dtype (default ``ember.float``).

    Returns:
        A tensor of ``dtype``.

    Example:
        >>> convert_image_dtype(ember.tensor([255], dtype=ember.uint8)).item()
        1.0
    """
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    dtype = ember.float32 if dtype is None else to_dtype(dtype)
    src, dst = image.dtype, dtype
    if src is dst:
        return image
    a = image._data
    if src.is_floating_point:
        if dst.is_floating_point:
            return image.to(dst)
        # float32 cannot represent every int32/int64 value (and float64 every int64 value).
        if (src.name == "float32" and dst.name in ("int32", "int64")) or (
                src.name == "float64" and dst.name == "int64"):
            raise RuntimeError(f"The cast from {src} to {dst} cannot be performed safely.")
        # Scale by MAX + 1 - eps so that 1.0 maps to MAX and the bins are equal in width.
        max_val = _INT_MAX[dst.np]
        return Tensor._wrap((a * (max_val + 1.0 - 1e-3)).astype(dst.np))
    if src.category in (BOOL, COMPLEX):
        raise TypeError(f"convert_image_dtype(): unsupported input dtype {src}")
    in_max = _INT_MAX[src.np]
    if dst.is_floating_point:
        return Tensor._wrap((a.astype(dst.np) / dst.np.type(in_max)).astype(dst.np))
    out_max = _INT_MAX[dst.np]
    if in_max > out_max:  # fewer bits: integer division by the ratio of ranges
        factor = (in_max + 1) // (out_max + 1)
        return Tensor._wrap((a // factor).astype(dst.np))
    factor = (out_max + 1) // (in_max + 1)
    return Tensor._wrap(a.astype(dst.np) * dst.np.type(factor))


# ---------------------------------------------------------------------------------------------
# Geometry


def _size_pair(size, name: str = "size") -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"Please provide only two dimensions (h, w) for {name}, got {size!r}")


def crop(img, top: int, left: int, height: int, width: int):
    """Crop ``img`` to the box at (``top``, ``left``) of size (``height``, ``width``).

    Parts of the box outside the image are filled with zeros, as torchvision does.

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).
        top: the box's top row.
        left: the box's left column.
        height: the box's height.
        width: the box's width.

    Returns:
        The cropped image, of ``img``'s type.

    Example:
        >>> crop(np.arange(16).reshape(4, 4), 1, 1, 2, 2)
        array([[ 5,  6],
               [ 9, 10]])
    """
    h, w = get_dimensions(img)[1:]
    inside = top >= 0 and left >= 0 and top + height <= h and left + width <= w
    if isinstance(img, Tensor) and inside:
        return img[..., top:top + height, left:left + width]  # a view: keeps autograd
    if not inside:
        pads = [max(-left, 0), max(-top, 0), max(left + width - w, 0), max(top + height - h, 0)]
        img = pad(img, pads)
        top, left = top + pads[1], left + pads[0]
    arr, restore = _to_planar(img, "crop")
    return restore(arr[..., top:top + height, left:left + width])


def center_crop(img, output_size):
    """Crop the centre of ``img`` to ``output_size`` (int or (h, w)); pads with zeros when the
    image is smaller.

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).
        output_size: an int (square) or (h, w).

    Returns:
        The cropped image, of ``img``'s type.

    Example:
        >>> center_crop(np.zeros((5, 6, 3)), 2).shape
        (2, 2, 3)
    """
    th, tw = _size_pair(output_size, "output_size")
    h, w = get_dimensions(img)[1:]
    if th > h or tw > w:
        pads = [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0]
        img = pad(img, pads)
        h, w = get_dimensions(img)[1:]
        if (h, w) == (th, tw):
            return img
    top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
    return crop(img, top, left, th, tw)


def _parse_padding(padding) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    if not isinstance(padding, Sequence) or len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not "
                         f"{padding!r}")
    p = [int(x) for x in padding]
    if len(p) == 1:
        return p[0], p[0], p[0], p[0]
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    return p[0], p[1], p[2], p[3]


_NP_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect",
                 "symmetric": "symmetric"}


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the borders of ``img``.

    Args:
        img: image to pad.
        padding: int (all borders), (left/right, top/bottom) or (left, top, right, bottom).
        fill: value for ``'constant'`` mode: a number, or one value per channel.
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.

    Returns:
        The padded image, of ``img``'s type.

    Example:
        >>> pad(np.ones((2, 2), np.uint8), 1).shape
        (4, 4)
    """
    if padding_mode not in _NP_PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_padding(padding)
    arr, restore = _to_planar(img, "pad")
    if min(left, top, right, bottom) < 0:  # negative padding crops, as in torchvision
        h, w = arr.shape[-2:]
        arr = arr[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return restore(np.pad(arr, widths, mode=_NP_PAD_MODES[padding_mode]))
    if fill is None:
        fill = 0
    if isinstance(fill, Sequence) and not isinstance(fill, str):
        fill = list(fill)
        if len(fill) == 1:
            fill = fill[0]
    if not isinstance(fill, list):
        return restore(np.pad(arr, widths, mode="constant", constant_values=fill))
    c = arr.shape[-3] if arr.ndim >= 3 else 1
    if len(fill) != c:
        raise ValueError(f"pad(): fill has {len(fill)} values but the image has {c} channels")
    out = np.empty(arr.shape[:-2] + (arr.shape[-2] + top + bottom, arr.shape[-1] + left + right),
                   dtype=arr.dtype)
    out[...] = np.asarray(fill, dtype=arr.dtype).reshape(-1, 1, 1)
    out[..., top:top + arr.shape[-2], left:left + arr.shape[-1]] = arr
    return restore(out)


def hflip(img):
    """Flip ``img`` left to right.

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).

    Returns:
        The flipped image, of ``img``'s type.

    Example:
        >>> hflip(np.array([[1, 2, 3]]))
        array([[3, 2, 1]])
    """
    if isinstance(img, Tensor):
        _check_image(img, "hflip")
        return ember.flip(img, (-1,))
    arr, restore = _to_planar(img, "hflip")
    return restore(arr[..., ::-1])


def vflip(img):
    """Flip ``img`` top to bottom.

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).

    Returns:
        The flipped image, of ``img``'s type.

    Example:
        >>> vflip(np.array([[1], [2]]))
        array([[2],
               [1]])
    """
    if isinstance(img, Tensor):
        _check_image(img, "vflip")
        return ember.flip(img, (-2,))
    arr, restore = _to_planar(img, "vflip")
    return restore(arr[..., ::-1, :])


# NOTE [ Resampling as matrices ]
# Separable resampling along one axis is a linear map from n_in samples to n_out samples, so
# each axis gets an (n_out, n_in) weight matrix and the image is resized as W_h @ img @ W_w.T.
# The weights follow PyTorch's interpolate: half-pixel centres (align_corners=False); linear
# clamps source coordinates below 0; bicubic uses the cubic-convolution kernel with A=-0.75
# and clamped border taps. With antialias the kernel is widened by the downscale factor and
# the weights of each row are normalised (the scheme of PIL's resampler, which torchvision's
# antialiased resize reproduces; bicubic then uses A=-0.5).


def _cubic(x: np.ndarray, a: float) -> np.ndarray:
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _resample_matrix(n_in: int, n_out: int, mode: InterpolationMode,
                     antialias: bool) -> np.ndarray:
    scale = n_in / n_out
    w = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    if antialias:
        taps = 1.0 if mode is InterpolationMode.BILINEAR else 2.0
        support = taps * scale if scale >= 1.0 else taps
        inv = 1.0 / scale if scale >= 1.0 else 1.0
        for r in rows:
            centre = scale * (r + 0.5)
            lo = max(int(centre - support + 0.5), 0)
            hi = min(int(centre + support + 0.5), n_in)
            x = (np.arange(lo, hi) - centre + 0.5) * inv
            k = np.maximum(1 - np.abs(x), 0) if mode is InterpolationMode.BILINEAR \
                else _cubic(x, -0.5)
            total = k.sum()
            w[r, lo:hi] = k / total if total != 0 else k
        return w
    src = (rows + 0.5) * scale - 0.5
    if mode is InterpolationMode.BILINEAR:
        src = np.maximum(src, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        frac = np.clip(src - i0, 0.0, 1.0)
        np.add.at(w, (rows, i0), 1 - frac)
        np.add.at(w, (rows, i1), frac)
        return w
    i = np.floor(src).astype(np.int64)
    t = src - i
    for off in (-1, 0, 1, 2):
        np.add.at(w, (rows, np.clip(i + off, 0, n_in - 1)), _cubic(t - off, -0.75))
    return w


def _nearest_index(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    # PyTorch computes the source index in float32; doing the same keeps equal results.
    scale = np.float32(n_in) / np.float32(n_out)
    pos = np.arange(n_out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(pos * scale).astype(np.int64), n_in - 1)


def _resize_planar(arr: np.ndarray, size: tuple[int, int], mode: InterpolationMode,
                   antialias: bool) -> np.ndarray:
    h, w = arr.shape[-2:]
    oh, ow = size
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = mode is InterpolationMode.NEAREST_EXACT
        return arr[..., _nearest_index(h, oh, exact)[:, None], _nearest_index(w, ow, exact)]
    work = arr.dtype if arr.dtype in (np.float64, np.float32) else np.dtype(np.float32)
    if arr.dtype == np.float16 or str(arr.dtype) == "bfloat16":
        work = np.dtype(np.float32)
    wh = _resample_matrix(h, oh, mode, antialias).astype(work)
    ww = _resample_matrix(w, ow, mode, antialias).astype(work)
    out = np.matmul(np.matmul(wh, arr.astype(work, copy=False)), ww.T)
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        return np.clip(np.round(out), info.min, info.max).astype(arr.dtype)
    return out.astype(arr.dtype, copy=False)


def _resize_output_size(h: int, w: int, size, max_size: int | None) -> tuple[int, int]:
    if isinstance(size, numbers.Number) or (isinstance(size, Sequence) and len(size) == 1):
        requested = int(size if isinstance(size, numbers.Number) else size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if isinstance(size, Sequence) and len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             f"length 1 in torchscript mode. Got size={size!r}")
        return int(size[0]), int(size[1])
    raise TypeError(f"Size should be int or sequence. Got {type(size)}")


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size: int | None = None,
           antialias: bool | None = True):
    """Resize ``img`` to ``size``.

    Args:
        img: image to resize.
        size: (h, w), or an int: the smaller edge is matched to it, keeping the aspect ratio.
        interpolation: an ``InterpolationMode`` or its name (``'bilinear'``, ``'nearest'``,
            ``'nearest-exact'``, ``'bicubic'``).
        max_size: upper bound for the longer edge when ``size`` is an int.
        antialias: low-pass filter when downscaling with bilinear/bicubic (torchvision's
            default ``True``); ignored for nearest modes.

    Returns:
        The resized image, of ``img``'s type.

    Example:
        >>> resize(ember.ones(3, 4, 8), 2).shape
        torch.Size([3, 2, 4])
    """
    mode = _interp_mode(interpolation)
    arr, restore = _to_planar(img, "resize")
    h, w = arr.shape[-2:]
    out_size = _resize_output_size(h, w, size, max_size)
    if out_size == (h, w):
        return img
    if min(out_size) <= 0:
        raise ValueError(f"resize(): output size {out_size} must be positive")
    return restore(_resize_planar(arr, out_size, mode, bool(antialias)))


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
    """Crop ``img`` then resize the crop to ``size``.

    Args:
        img: a NumPy array (H, W[, C]), a PIL image, or a tensor (..., C, H, W).
        top: the crop's top row.
        left: the crop's left column.
        height: the crop's height.
        width: the crop's width.
        size: the output size, as for ``resize``.
        interpolation: an ``InterpolationMode`` or its name.
        antialias: low-pass filter when downsampling (as ``resize``).

    Returns:
        The resized crop, of ``img``'s type.

    Example:
        >>> resized_crop(np.zeros((8, 8)), 0, 0, 4, 4, (2, 2)).shape
        (2, 2)
    """
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def _random_int(low: int, high: int, generator=None) -> int:
    """A uniform integer in [low, high) from ember's generator (so manual_seed applies)."""
    from ember._random import _gen

    return int(_gen(generator).integers(low, high))


def _random_uniform(low: float = 0.0, high: float = 1.0, generator=None) -> float:
    from ember._random import _gen

    return float(_gen(generator).uniform(low, high))


def _log_uniform(low: float, high: float) -> float:
    return math.exp(_random_uniform(math.log(low), math.log(high)))
