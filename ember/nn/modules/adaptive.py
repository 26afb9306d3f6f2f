"""``AdaptiveLogSoftmaxWithLoss``: the efficient softmax approximation of Grave et al."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import ember
from ember._tensor import Tensor
from ember.nn import _functional_activation as _act
from ember.nn.modules.container import ModuleList, Sequential
from ember.nn.modules.linear import Linear
from ember.nn.modules.module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


# NOTE [ Adaptive softmax ]
# Classes are split by ``cutoffs`` into a frequent shortlist [0, cutoffs[0]) and clusters
# [cutoffs[i], cutoffs[i+1]). The head is a Linear to ``shortlist_size + n_clusters`` logits:
# one per shortlist class and one per cluster. Cluster i's tail projects the input down to
# ``in_features // div_value ** (i + 1)`` features and up to the cluster's size. The log-
# probability of a class in cluster i is the head's log-probability of the cluster plus the
# tail's log-probability of the class inside it, so a target needs only its own cluster's
# tail. Parameter names (``head.weight``, ``tail.0.0.weight``, ``tail.0.1.weight``) are
# PyTorch's, so checkpoints load either way.
class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax for large vocabularies: log-probabilities of targets and their loss.

    Args:
        in_features: the number of input features.
        n_classes: the number of classes.
        cutoffs: increasing cluster boundaries, unique integers in [1, n_classes - 1].
        div_value: each cluster's hidden size is ``in_features // div_value ** (i + 1)``
            (default 4.0).
        head_bias: give the head a bias (default False).
        device, dtype: where and how the parameters are created.

    Shape:
        input (N, in_features) or (in_features,); target (N,) or () -> ``output`` (N,) or
        (), the targets' log-probabilities, and ``loss`` (), their negative mean.

    Example:
        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 8])
        >>> out, loss = asm(ember.randn(3, 8), ember.tensor([0, 5, 9]))
        >>> out.shape, loss.shape
        (torch.Size([3]), torch.Size([]))
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        fk = dict(device=device, dtype=dtype)
        self.head = Linear(in_features, self.head_size, bias=head_bias, **fk)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **fk),
                                        Linear(hsz, osz, bias=False, **fk)))

    def reset_parameters(self) -> None:
        """Re-initialise the head and every tail projection (Linear's default init)."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        n = target.size(0)
        # which head logit each row reads: its class (shortlist) or its cluster's slot
        head_index = target.clone()
        output = ember.zeros(n, dtype=input.dtype, device=input.device)
        used = 0
        bounds = [0] + self.cutoffs
        for i in range(len(bounds) - 1):
            lo, hi = bounds[i], bounds[i + 1]
            mask = (target >= lo) & (target < hi)
            rows = mask.nonzero().flatten()
            if rows.numel() == 0:
                continue
            used += rows.numel()
            if i == 0:
                continue
            rel = target[mask] - lo
            cluster_lp = _act.log_softmax(self.tail[i - 1](input.index_select(0, rows)), 1)
            local = cluster_lp.gather(1, rel.unsqueeze(1)).squeeze(1)
            output = output.index_add(0, rows, local)
            head_index = head_index.index_fill(0, rows, self.shortlist_size + i - 1)
        if used != n:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{target.min().item()}, "
                               f"{target.max().item()}] were found. ")
        head_lp = _act.log_softmax(self.head(input), 1)
        output = output + head_lp.gather(1, head_index.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_lp = _act.log_softmax(head_output, 1)
        parts = [head_lp[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_lp = _act.log_softmax(self.tail[i](input), 1)
            parts.append(cluster_lp + head_lp[:, self.shortlist_size + i].unsqueeze(1))
        return ember.cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of every class.

        Args:
            input: (N, in_features) or (in_features,).

        Returns:
            (N, n_classes) or (n_classes,) log-probabilities.

        Example:
            >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4])
            >>> asm.log_prob(ember.randn(2, 8)).exp().sum(1).allclose(ember.ones(2))
            True
        """
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row (cheaper than ``log_prob(input).argmax(1)``
        when the head already picks a shortlist class).

        Args:
            input: (N, in_features) or (in_features,).

        Returns:
            (N,) or () int64 classes.

        Example:
            >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4])
            >>> asm.predict(ember.randn(5, 8)).shape
            torch.Size([5])
        """
        batched = input.dim() > 1
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        out = head_output.argmax(1)
        outside = out >= self.shortlist_size
        if bool(outside.any()):
            if bool(outside.all()):
                out = self._get_full_log_prob(x, head_output).argmax(1)
            else:
                lp = self._get_full_log_prob(x[outside], head_output[outside])
                out = out.clone()
                out[outside] = lp.argmax(1)
        return out if batched else out.squeeze(0)
