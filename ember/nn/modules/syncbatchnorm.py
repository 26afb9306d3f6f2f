"""``SyncBatchNorm``: batch norm whose statistics span every process of a group."""

from __future__ import annotations

import sys

import ember
from ember._tensor import Tensor
from ember.autograd.function import Function
from ember.nn.modules.batchnorm import _BatchNorm

__all__ = ["SyncBatchNorm"]


def _dist():
    """``ember.distributed`` when it is loaded and initialised, else None. nn sits below
    distributed in the layering, so it looks the module up instead of importing it: a
    process group can only exist once the program has imported it."""
    d = sys.modules.get("ember.distributed")
    if d is not None and d.is_available() and d.is_initialized():
        return d
    return None


# NOTE [ Synchronised batch norm ]
# Training-mode statistics over the whole group: each rank sums its channels' values and
# counts, one all_reduce gives the global mean, a second the global sum of squared
# deviations (two passes: no cancellation of E[x^2] - E[x]^2); the running variance gets the
# unbiased variance of the global batch, as PyTorch's. The backward all-reduces the two
# per-channel sums the input gradient needs (sum of dy and of dy * xhat) and divides by the
# global count, so every rank's input gradient is that of one batch norm over the
# concatenated batch; weight and bias gradients stay local (DDP averages them as for any
# parameter). Outside a group of two or more processes, or in eval mode, it is BatchNorm.
class _SyncBatchNormFn(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, dist, group):
        dims = [0] + list(range(2, x.dim()))
        c = x.shape[1]
        stat = x.detach().double()
        local = ember.cat([stat.sum(dims), ember.tensor([x.numel() // max(c, 1)],
                                                        dtype=ember.float64)])
        dist.all_reduce(local, group=group)
        count = float(local[-1])
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {list(x.shape)}")
        shape = [1, c] + [1] * (x.dim() - 2)
        mean = (local[:c] / count).reshape(shape)
        sq = ((stat - mean) ** 2).sum(dims)
        dist.all_reduce(sq, group=group)
        var = sq / count
        invstd = (var + eps).rsqrt().reshape(shape).to(x.dtype)
        mean = mean.to(x.dtype)
        xhat = (x.detach() - mean) * invstd
        y = xhat
        if weight is not None:
            y = y * weight.detach().reshape(shape)
        if bias is not None:
            y = y + bias.detach().reshape(shape)
        if running_mean is not None:
            with ember.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(c).to(running_mean.dtype),
                                                     alpha=momentum)
                unbiased = (var * (count / (count - 1))).to(running_var.dtype)
                running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.meta = (dims, shape, count, dist, group, bias is not None)
        return y

    @staticmethod
    def backward(ctx, gy):
        xhat, invstd, weight = ctx.saved_tensors
        dims, shape, count, dist, group, has_bias = ctx.meta
        c = shape[1]
        sum_dy = gy.sum(dims)
        sum_dy_xhat = (gy * xhat).sum(dims)
        gw = sum_dy_xhat if weight is not None else None
        gb = sum_dy if has_bias else None
        both = ember.cat([sum_dy, sum_dy_xhat]).double()
        dist.all_reduce(both, group=group)
        mean_dy = (both[:c] / count).to(gy.dtype).reshape(shape)
        mean_dy_xhat = (both[c:] / count).to(gy.dtype).reshape(shape)
        scale = invstd if weight is None else invstd * weight.reshape(shape)
        gx = (gy - mean_dy - xhat * mean_dy_xhat) * scale
        return gx, gw, gb, None, None, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, +) whose training statistics span a process group.

    In training mode inside an initialised ``ember.distributed`` group of two or more
    processes, the mean and variance are those of the batch concatenated over the group
    (NOTE [ Synchronised batch norm ]); otherwise it is :class:`BatchNorm1d`/``2d``/``3d``.
    :meth:`convert_sync_batchnorm` swaps a model's batch norms for it.

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: running-statistics update factor; None gives a cumulative average.
        affine: learn a per-channel scale and shift.
        track_running_stats: keep running statistics (used in eval mode).
        process_group: the group to synchronise over (None: the default group).
        device, dtype: where and how the parameters are created.
        bias: with ``affine``, learn the shift too.

    Shape:
        (N, C, +) -> (N, C, +).

    Example:
        >>> nn.SyncBatchNorm(3)(ember.randn(4, 3, 5)).shape
        torch.Size([4, 3, 5])
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        dist = _dist() if self.training else None
        group = None
        if dist is not None:
            group = self.process_group if self.process_group is not None \
                else dist.group.WORLD
            if dist.get_world_size(group) <= 1:
                dist = None
        if dist is None:
            return super().forward(input)
        eaf = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            eaf = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                   else self.momentum)
        return _SyncBatchNormFn.apply(input, self.weight, self.bias, self.running_mean,
                                      self.running_var, self.eps, eaf, dist, group)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every ``BatchNorm*D`` in ``module`` by a :class:`SyncBatchNorm` sharing its
        parameters, running statistics and training mode.

        Args:
            module: a module containing batch norm layers (or one itself).
            process_group: the group the new layers synchronise over.

        Returns:
            The converted module (a new object when ``module`` itself is a batch norm).

        Example:
            >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
            >>> type(nn.SyncBatchNorm.convert_sync_batchnorm(net)[1]).__name__
            'SyncBatchNorm'
        """
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                with ember.no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out

