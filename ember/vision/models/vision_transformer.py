"""Vision Transformer (ViT) in torchvision's layout, plus a small ``vit_tiny`` config."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

import ember
from ember import nn
from ember.vision.models._utils import check_weights, register_model

__all__ = ["VisionTransformer", "vit_tiny", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32",
           "vit_h_14"]


class MLPBlock(nn.Sequential):
    """Linear, GELU, Dropout, Linear, Dropout (keys ``0`` and ``3``, as torchvision's MLP)."""

    _version = 2

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(nn.Linear(in_dim, mlp_dim, bias=True), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(mlp_dim, in_dim, bias=True), nn.Dropout(dropout))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Checkpoints from before torchvision's version 2 name the layers linear_1/linear_2.
        if local_metadata.get("version") is None or local_metadata["version"] < 2:
            for i in range(2):
                for kind in ("weight", "bias"):
                    old = f"{prefix}linear_{i + 1}.{kind}"
                    if old in state_dict:
                        state_dict[f"{prefix}{3 * i}.{kind}"] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(.))."""

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float,
                 attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input: ember.Tensor) -> ember.Tensor:
        if input.ndim != 3:
            raise RuntimeError(f"Expected (batch_size, seq_length, hidden_dim) got "
                               f"{tuple(input.shape)}")
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Position embedding, a stack of ``EncoderBlock``, final LayerNorm."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, dropout: float, attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6)) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(ember.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                attention_dropout, norm_layer))
            for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input: ember.Tensor) -> ember.Tensor:
        if input.ndim != 3:
            raise RuntimeError(f"Expected (batch_size, seq_length, hidden_dim) got "
                               f"{tuple(input.shape)}")
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """ViT: patches by a strided convolution (``conv_proj``), a class token, a transformer
    ``encoder`` and ``heads``. State-dict keys follow torchvision.

    Args:
        image_size: input height and width (must be divisible by ``patch_size``).
        patch_size: patch side.
        num_layers: transformer blocks.
        num_heads: attention heads.
        hidden_dim: embedding width.
        mlp_dim: hidden width of each block's MLP.
        dropout: dropout probability.
        attention_dropout: dropout on attention weights.
        num_classes: output size.
        representation_size: optional pre-logits layer width (with Tanh).
        norm_layer: normalisation factory (LayerNorm with eps 1e-6).

    Example:
        >>> m = VisionTransformer(16, 8, 1, 2, 8, 16, num_classes=3)
        >>> m(ember.zeros(1, 3, 16, 16)).shape
        torch.Size([1, 3])
    """

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000,
                 representation_size: int | None = None,
                 norm_layer: Callable[..., nn.Module] = partial(nn.LayerNorm, eps=1e-6),
                 conv_stem_configs: Any = None) -> None:
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError(f"Input shape indivisible by patch size! ({image_size} % "
                             f"{patch_size})")
        if conv_stem_configs is not None:
            raise NotImplementedError("VisionTransformer: conv_stem_configs is not supported")
        self.image_size, self.patch_size = image_size, patch_size
        self.hidden_dim, self.mlp_dim = hidden_dim, mlp_dim
        self.attention_dropout, self.dropout = attention_dropout, dropout
        self.num_classes, self.representation_size = num_classes, representation_size
        self.norm_layer = norm_layer
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1  # + the class token
        self.class_token = nn.Parameter(ember.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout, norm_layer)
        self.seq_length = seq_length
        heads: OrderedDict[str, nn.Module] = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)
        fan_in = 3 * patch_size * patch_size
        nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(self.conv_proj.bias)
        if representation_size is not None:
            pre = self.heads.pre_logits
            nn.init.trunc_normal_(pre.weight, std=math.sqrt(1 / pre.in_features))
            nn.init.zeros_(pre.bias)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x: ember.Tensor) -> ember.Tensor:
        n, _, h, w = x.shape
        p = self.patch_size
        if h != self.image_size or w != self.image_size:
            raise RuntimeError(f"VisionTransformer: expected {self.image_size}x"
                               f"{self.image_size} images, got {h}x{w}")
        x = self.conv_proj(x)  # (n, hidden_dim, h/p, w/p)
        x = x.reshape(n, self.hidden_dim, (h // p) * (w // p))
        return x.permute(0, 2, 1)  # (n, seq, hidden_dim): what the attention expects

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = self._process_input(x)
        cls = self.class_token.expand(x.shape[0], -1, -1)
        x = self.encoder(ember.cat([cls, x], dim=1))
        return self.heads(x[:, 0])


def _vit(name: str, patch_size: int, num_layers: int, num_heads: int, hidden_dim: int,
         mlp_dim: int, weights: Any, kwargs: dict) -> VisionTransformer:
    check_weights(name, weights, kwargs)
    image_size = kwargs.pop("image_size", 224)
    return VisionTransformer(image_size=image_size, patch_size=patch_size,
                             num_layers=num_layers, num_heads=num_heads, hidden_dim=hidden_dim,
                             mlp_dim=mlp_dim, **kwargs)


@register_model
def vit_tiny(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:  # noqa: ARG001 - display only: no progress bar is drawn
    """ViT-Tiny/16 (DeiT-Ti's shape: 12 layers, 3 heads, width 192, MLP 768); ember extra.

    ``patch_size`` may be overridden, e.g. ``vit_tiny(image_size=32, patch_size=4)``.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise).
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VisionTransformer`` (``image_size``, ``num_classes``, ...);
        ``patch_size`` too (default 16).

    Returns:
        A ``VisionTransformer``.

    Example:
        >>> vit_tiny(image_size=32, patch_size=8, num_classes=10).heads.head.out_features
        10
    """
    patch_size = kwargs.pop("patch_size", 16)
    return _vit("vit_tiny", patch_size, 12, 3, 192, 768, weights, kwargs)


@register_model
def vit_b_16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:  # noqa: ARG001 - display only: no progress bar is drawn
    """ViT-B/16.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VisionTransformer`` (``num_classes``, ...).

    Returns:
        A ``VisionTransformer``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vit_b_16(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vit_b_16(weights=DEFAULT)
    """
    return _vit("vit_b_16", 16, 12, 12, 768, 3072, weights, kwargs)


@register_model
def vit_b_32(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:  # noqa: ARG001 - display only: no progress bar is drawn
    """ViT-B/32.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VisionTransformer`` (``num_classes``, ...).

    Returns:
        A ``VisionTransformer``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vit_b_32(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vit_b_32(weights=DEFAULT)
    """
    return _vit("vit_b_32", 32, 12, 12, 768, 3072, weights, kwargs)


@register_model
def vit_l_16(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:  # noqa: ARG001 - display only: no progress bar is drawn
    """ViT-L/16.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VisionTransformer`` (``num_classes``, ...).

    Returns:
        A ``VisionTransformer``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vit_l_16(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vit_l_16(weights=DEFAULT)
    """
    return _vit("vit_l_16", 16, 24, 16, 1024, 4096, weights, kwargs)


@register_model
def vit_l_32(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:  # noqa: ARG001 - display only: no progress bar is drawn
    """ViT-L/32.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VisionTransformer`` (``num_classes``, ...).

    Returns:
        A ``VisionTransformer``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vit_l_32(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vit_l_32(weights=DEFAULT)
    """
    return _vit("vit_l_32", 32, 24, 16, 1024, 4096, weights, kwargs)


@register_model
def vit_h_14(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> VisionTransformer:  # noqa: ARG001 - display only: no progress bar is drawn
    """ViT-H/14.

    Freshly initialised weights, with torchvision's architecture and ``state_dict`` keys:
    torchvision checkpoints saved with ``torch.save`` load into it.

    Args:
        weights: must be None: ember downloads nothing (RuntimeError otherwise; load a
            saved ``state_dict`` instead). ``pretrained=False`` is accepted too.
        progress: accepted for torchvision's signature (nothing is downloaded).
        **kwargs: passed to ``VisionTransformer`` (``num_classes``, ...).

    Returns:
        A ``VisionTransformer``.

    Example:
        >>> try:                       # pretrained weights cannot be fetched
        ...     vit_h_14(weights="DEFAULT")
        ... except RuntimeError as e:
        ...     print(str(e).split(":")[0])
        vit_h_14(weights=DEFAULT)
    """
    return _vit("vit_h_14", 14, 32, 16, 1280, 5120, weights, kwargs)
