"""``ember.vision.utils``: tile image batches into one grid and save it (torchvision.utils).

Example::

    >>> import ember
    >>> from ember.vision.utils import make_grid
    >>> tuple(make_grid(ember.zeros(4, 3, 8, 8), nrow=2, padding=1).shape)
    (3, 19, 19)
"""

from __future__ import annotations

import math

import ember

__all__ = ["make_grid", "save_image"]


def _normalize_(img, low, high):
    img.clamp_(min=low, max=high)
    img.sub_(low).div_(max(high - low, 1e-5))


def _normalize_range_(t, value_range):
    if value_range is not None:
        _normalize_(t, value_range[0], value_range[1])
    else:
        _normalize_(t, float(t.min()), float(t.max()))


@ember.no_grad()
def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0):
    """Tile a batch of images into one image, ``nrow`` images per row.

    Args:
        tensor: a 4-D batch ``(B, C, H, W)``, a list of same-size ``(C, H, W)`` images, or
            one image ``(C, H, W)``/``(H, W)``. Single-channel images become 3-channel.
        nrow: images per row of the grid.
        padding: pixels of padding between images and around the grid.
        normalize: shift and scale to [0, 1] using ``value_range`` (default: the
            tensor's min and max).
        value_range: ``(min, max)`` used by ``normalize``; values are clamped to it.
        scale_each: normalize each image by its own min and max instead of the batch's.
        pad_value: value of the padding pixels.

    Returns:
        Tensor: ``(C, H', W')``; a single image is returned unpadded.

    Example::

        >>> g = make_grid(ember.ones(3, 1, 2, 2), nrow=3, padding=1)
        >>> tuple(g.shape), g[0, 1].tolist()
        ((3, 4, 10), [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0])
    """
    if isinstance(tensor, (list, tuple)):
        if not all(isinstance(t, ember.Tensor) for t in tensor):
            raise TypeError("make_grid: expected a tensor or a list of tensors, got a list "
                            f"holding {sorted({type(t).__name__ for t in tensor})}")
        tensor = ember.stack(list(tensor), dim=0)
    elif not isinstance(tensor, ember.Tensor):
        raise TypeError(f"make_grid: tensor or list of tensors expected, got {type(tensor)}")
    if tensor.dim() == 2:  # a single H x W image
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:  # a single C x H x W image
        if tensor.size(0) == 1:
            tensor = ember.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != 4:
        raise ValueError(f"make_grid: expected a 2-, 3- or 4-D tensor, got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.size(1) == 1:
        tensor = ember.cat((tensor, tensor, tensor), 1)

    if normalize:
        tensor = tensor.clone()  # normalizing works in place; leave the caller's data alone
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("make_grid: value_range has to be a tuple (min, max) if "
                            f"specified, got {type(value_range).__name__}")
        if scale_each:
            for t in tensor:  # each image is a view into the clone
                _normalize_range_(t, value_range)
        else:
            _normalize_range_(tensor, value_range)

    if tensor.size(0) == 1:
        return tensor.squeeze(0)

    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = tensor.size(2) + padding, tensor.size(3) + padding
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding),
                           pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            top, left = y * height + padding, x * width + padding
            grid[:, top:top + height - padding, left:left + width - padding] = tensor[k]
            k += 1
    return grid


@ember.no_grad()
def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Save a tensor (an image or a batch, values in [0, 1]) as an image file via Pillow.

    A batch is tiled with :func:`make_grid` first; values are scaled to 0..255, rounded and
    clamped. Needs the ``Pillow`` package.

    Args:
        tensor: an image ``(C, H, W)`` or a batch ``(B, C, H, W)`` / list of images.
        fp: a file name, path or binary file object.
        format: the image format (e.g. "PNG"); None picks it from the file name.
        **kwargs: :func:`make_grid`'s arguments (``nrow``, ``padding``, ``normalize``,
            ``value_range``, ``scale_each``, ``pad_value``).

    Returns:
        None.

    Example::

        >>> import io
        >>> buf = io.BytesIO()
        >>> save_image(ember.rand(4, 3, 8, 8), buf, format="PNG", nrow=2)
        >>> buf.getvalue()[:4] == b"\\x89PNG"
        True
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("ember.vision.utils.save_image needs Pillow: pip install pillow") \
            from None
    grid = make_grid(tensor, **kwargs)
    arr = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(ember.uint8).numpy()
    if arr.shape[2] == 1:
        arr = arr[:, :, 0]  # Pillow wants 2-D arrays for grey images
    Image.fromarray(arr).save(fp, format=format)
