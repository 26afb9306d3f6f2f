"""Legacy layers PyTorch still exports: ``CrossMapLRN2d`` (Lua Torch's local response norm)
and the deprecated ``Container``."""

from __future__ import annotations

import warnings

import ember
from ember._tensor import Tensor
from ember.autograd.function import Function
from ember.nn.modules.module import Module

__all__ = ["CrossMapLRN2d", "Container"]


# NOTE [ CrossMapLRN2d's windows ]
# PyTorch computes this layer with Lua Torch's legacy kernel, whose channel windows are not
# the symmetric ones of ``LocalResponseNorm``: with ``pre = (size - 1) // 2 + 1``, channel c's
# scale sums x**2 over channels [0, min(c + pre - 1, C - 1)] minus channels [1, c - pre] (a
# running sum that drops a channel as the window moves on but never drops channel 0), and the
# backward is the kernel's own formula (not this forward's exact derivative): with
# ``ipp = int(size - (size - 1) / 2)`` and ``r = grad * out / scale``,
# ``grad_in = scale**-beta * grad - 2 * alpha * beta / size * x * sum(r[c - ipp .. c + size -
# 1 - ipp])``. ember reproduces both, vectorised with prefix sums over the channels, so values
# and gradients match PyTorch's.
def _prefix_window(s, lo, hi):
    """sum(s[:, lo[c]:hi[c] + 1]) per channel c, from the channel prefix sums of ``s``."""
    p = ember.cat([ember.zeros_like(s[:, :1]), s.cumsum(1)], 1)
    top = p.index_select(1, ember.tensor([h + 1 for h in hi]))
    bottom = p.index_select(1, ember.tensor(list(lo)))
    return top - bottom


def _scale(x, size, alpha, k):
    c = x.shape[1]
    pre = int((size - 1) / 2 + 1)
    chans = list(range(c))
    hi = [min(i + pre - 1, c - 1) for i in chans]
    total = _prefix_window(x * x, [0] * c, hi)
    # drop channels [1, c - pre] once the window has moved past them (empty when c <= pre)
    lo2 = [1] * c
    hi2 = [i - pre if i > pre else 0 for i in chans]
    dropped = _prefix_window(x * x, lo2, hi2)
    dropped = dropped * ember.tensor([1.0 if i > pre else 0.0 for i in chans],
                                     dtype=x.dtype).reshape(1, c, 1, 1)
    return (total - dropped) * (alpha / size) + k


class _CrossMapLRN2dFn(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        xd = x.detach()
        scale = _scale(xd, size, alpha, k)
        out = xd * scale.pow(-beta)
        ctx.save_for_backward(xd, scale, out)
        ctx.hyper = (size, alpha, beta)
        return out

    @staticmethod
    def backward(ctx, g):
        x, scale, out = ctx.saved_tensors
        size, alpha, beta = ctx.hyper
        c = x.shape[1]
        ipp = int(size - (size - 1) / 2)
        lo = [max(i - ipp, 0) for i in range(c)]
        hi = [min(i + size - 1 - ipp, c - 1) for i in range(c)]
        valid = ember.tensor([1.0 if h >= lo_ else 0.0 for lo_, h in zip(lo, hi)],
                             dtype=x.dtype).reshape(1, c, 1, 1)
        hi = [max(h, lo_ - 1) for lo_, h in zip(lo, hi)]
        acc = _prefix_window(g * out / scale, lo, hi) * valid
        gx = scale.pow(-beta) * g - (2 * alpha * beta / size) * x * acc
        return gx, None, None, None, None


class CrossMapLRN2d(Module):
    """Local response normalisation across channels with Lua Torch's windows
    (NOTE [ CrossMapLRN2d's windows ]); :class:`LocalResponseNorm` is the usual layer.

    Args:
        size: the number of channels in a window.
        alpha: the multiplicative factor (default 1e-4).
        beta: the exponent (default 0.75).
        k: the additive factor (default 1).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    Example:
        >>> nn.CrossMapLRN2d(3)(ember.randn(2, 4, 5, 5)).shape
        torch.Size([2, 4, 5, 5])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             "instead.")
        return _CrossMapLRN2dFn.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)


class Container(Module):
    """Deprecated: a Module built from keyword arguments naming its children (subclass
    :class:`Module` instead); constructing one warns with ``FutureWarning``.

    Args:
        **kwargs: child modules by name.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     c = nn.Container(fc=nn.Linear(2, 2))
        >>> list(c.state_dict())
        ['fc.weight', 'fc.bias']
    """

    def __init__(self, **kwargs) -> None:
        super().__init__()
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now "
                      "implemented in `nn.Module`. Subclass that instead.", FutureWarning,
                      stacklevel=2)
        for key, value in kwargs.items():
            self.add_module(key, value)
