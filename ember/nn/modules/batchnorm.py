"""Batch normalisation: BatchNorm1d/2d/3d over the shared ``_NormBase`` state."""

from __future__ import annotations

from typing import Any

from ember import _dtype as D
from ember._ops.creation import empty, ones, tensor, zeros
from ember._tensor import Tensor
from ember.nn import _functional_norm as F
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """Common state of batch and instance norm: affine parameters and running statistics.

    ``running_mean``/``running_var``/``num_batches_tracked`` are buffers (in ``state_dict``);
    without ``track_running_stats`` they are registered as None, as in PyTorch.
    """

    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        from ember.nn.modules.linear import _factory

        super().__init__()
        dt = _factory(device, dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(empty(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dt))
            self.register_buffer("running_var", ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=D.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Zero the running mean and counter, set the running variance to one."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset running statistics, weight to ones and bias to zeros."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed load with a zero counter
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked
                                   is not None else tensor(0, dtype=D.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        eaf = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            # momentum=None: a cumulative moving average over all batches seen
            eaf = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                   else self.momentum)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            bn_training, eaf, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm over ``(N, C)`` or ``(N, C, L)`` input.

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: running-statistics update factor; None gives a cumulative average.
        affine: learn a per-channel scale and shift.
        track_running_stats: keep running statistics (used in eval mode).

    Shape:
        - Input: ``(N, C)`` or ``(N, C, L)``.
        - Output: the input's shape.

    Example::

        >>> nn.BatchNorm1d(100)(ember.randn(20, 100)).shape
        torch.Size([20, 100])
    """

    def _check_input_dim(self, input: Any) -> None:
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch norm over ``(N, C, H, W)`` input, per channel.

    Args:
        num_features: the number of channels C.
        eps: added to the variance (default 1e-5).
        momentum: the update factor of the running statistics (default 0.1; None: a
            cumulative average).
        affine: learn a per-channel scale and shift (default True).
        track_running_stats: keep running mean and variance for eval mode (default True);
            otherwise batch statistics are always used.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).
        bias: learn the shift when ``affine`` (default True).

    Shape:
        - Input: ``(N, C, H, W)``.
        - Output: the input's shape.

    Example::

        >>> nn.BatchNorm2d(3)(ember.randn(4, 3, 5, 5)).shape
        torch.Size([4, 3, 5, 5])
    """

    def _check_input_dim(self, input: Any) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch norm over ``(N, C, D, H, W)`` input, per channel.

    Args:
        num_features: the number of channels C.
        eps: added to the variance (default 1e-5).
        momentum: the update factor of the running statistics (default 0.1; None: a
            cumulative average).
        affine: learn a per-channel scale and shift (default True).
        track_running_stats: keep running mean and variance for eval mode (default True);
            otherwise batch statistics are always used.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).
        bias: learn the shift when ``affine`` (default True).

    Shape:
        - Input: ``(N, C, D, H, W)``.
        - Output: the input's shape.

    Example:
        >>> nn.BatchNorm3d(3)(ember.randn(2, 3, 4, 4, 4)).shape
        torch.Size([2, 3, 4, 4, 4])
    """

    def _check_input_dim(self, input: Any) -> None:
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")
