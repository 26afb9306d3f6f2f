"""Instance normalisation: InstanceNorm1d/2d/3d."""

from __future__ import annotations

import warnings

from ember._tensor import Tensor
from ember.nn import _functional_norm as F
from ember.nn.modules.batchnorm import _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    _batched_dim = 3

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input_dim(self, input):
        nd = self._batched_dim
        if input.dim() not in (nd - 1, nd):
            raise ValueError(f"expected {nd - 1}D or {nd}D input (got {input.dim()}D input)")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if version is None and not self.track_running_stats:
            # old checkpoints saved running stats even when they were not tracked
            for name in ("running_mean", "running_var"):
                state_dict.pop(prefix + name, None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.dim() - (self._batched_dim - 1)
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          "can silence this warning by not passing in num_features, which is "
                          "not used because affine=False", stacklevel=2)
        unbatched = input.dim() == self._batched_dim - 1
        if unbatched:
            input = input.unsqueeze(0)
        use_stats = self.training or not self.track_running_stats
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                              self.bias, use_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over ``(N, C, L)`` or ``(C, L)`` input.

    Args:
        num_features: the number of channels C.
        eps: added to the variance (default 1e-5).
        momentum: the update factor of the running statistics (default 0.1; None: a
            cumulative average).
        affine: learn a per-channel scale and shift (default False).
        track_running_stats: keep running statistics for eval mode (default False).
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).
        bias: learn the shift when ``affine`` (default True).

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: the input's shape.

    Example::

        >>> nn.InstanceNorm1d(3)(ember.randn(2, 3, 8)).shape
        torch.Size([2, 3, 8])
    """

    _batched_dim = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over ``(N, C, H, W)`` or ``(C, H, W)`` input.

    Args:
        num_features: the number of channels C.
        eps: added to the variance (default 1e-5).
        momentum: the update factor of the running statistics (default 0.1; None: a
            cumulative average).
        affine: learn a per-channel scale and shift (default False).
        track_running_stats: keep running statistics for eval mode (default False).
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).
        bias: learn the shift when ``affine`` (default True).

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: the input's shape.

    Example::

        >>> nn.InstanceNorm2d(3, affine=True)(ember.randn(2, 3, 4, 4)).shape
        torch.Size([2, 3, 4, 4])
    """

    _batched_dim = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input.

    Args:
        num_features: the number of channels C.
        eps: added to the variance (default 1e-5).
        momentum: the update factor of the running statistics (default 0.1; None: a
            cumulative average).
        affine: learn a per-channel scale and shift (default False).
        track_running_stats: keep running statistics for eval mode (default False).
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).
        bias: learn the shift when ``affine`` (default True).

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - Output: the input's shape.

    Example:
        >>> nn.InstanceNorm3d(3)(ember.randn(2, 3, 4, 4, 4)).shape
        torch.Size([2, 3, 4, 4, 4])
    """

    _batched_dim = 5
