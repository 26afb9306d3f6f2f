"""Top-level ``ember.*`` names whose work lives in the libraries (``nn.functional``,
``linalg``, ``special``, ``func``): PyTorch exposes its ATen kernels at the top level with
ATen's argument order (``torch.layer_norm(input, normalized_shape, weight, bias, eps,
cudnn_enable)``, ``torch.batch_norm(input, weight, bias, running_mean, ...)``, integer
``reduction`` codes for losses), so each function here maps that order onto the library's
function.

NOTE [ Top-level names over the libraries ]
This module sits beside ``ember/__init__.py``, above layer 1: it imports the libraries
(layer 3) only inside the functions, on first call, so ``import ember`` stays light and the
op layer never imports a library. Each function does exactly what the library function does
(autograd, dtype checks and error messages included); the recurrent-cell functions
(``lstm_cell``, ``gru_cell``, ``rnn_tanh_cell``, ``rnn_relu_cell``) and the whole-sequence
``lstm``/``gru``/``rnn_tanh``/``rnn_relu`` with PyTorch's flat weight list are compositions
of ember ops, so their gradients come from the ops'.
"""

from __future__ import annotations

import builtins
import importlib

from ember._tensor import Tensor

TOP: dict = {}
METHODS: dict = {}

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _F():
    return importlib.import_module("ember.nn.functional")


def _top(fn):
    TOP[fn.__name__] = fn
    return fn


def _reduction(name, r):
    if isinstance(r, str):  # PyTorch's top-level functions take the int code only
        raise TypeError(f"{name}(): argument 'reduction' must be int, not str")
    if r not in _REDUCTIONS:
        raise ValueError(f"{name}(): {r} is not a valid value for reduction")
    return _REDUCTIONS[r]


def _doc(fn, target, args, example):
    fn.__doc__ = (f"PyTorch's top-level ``{fn.__name__}``: {target}.\n\n"
                  f"Args:\n{args}\n\nReturns:\n    The result of {target.split(' ')[0]}.\n\n"
                  f"Example:\n{example}\n")
    return fn


# --------------------------------------------------------------------------- activations
@_top
def celu(input, alpha=1.0):
    return _F().celu(input, alpha)


@_top
def celu_(input, alpha=1.0):
    return _F().celu_(input, alpha)


@_top
def selu(input):
    return _F().selu(input)


@_top
def selu_(input):
    return _F().selu_(input)


@_top
def rrelu(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu(): generator= (ember's rrelu draws from the default "
                                  "generator)")
    return _F().rrelu(input, lower, upper, training)


@_top
def rrelu_(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    if generator is not None:
        raise NotImplementedError("rrelu_(): generator= (ember's rrelu draws from the default "
                                  "generator)")
    return _F().rrelu(input, lower, upper, training, inplace=True)


@_top
def threshold(input, threshold, value):
    return _F().threshold(input, threshold, value)


@_top
def threshold_(input, threshold, value):
    return _F().threshold_(input, threshold, value)


@_top
def hardshrink(input, lambd=0.5):
    return _F().hardshrink(input, lambd)


@_top
def prelu(input, weight):
    return _F().prelu(input, weight)


_x = ("    >>> x = ember.tensor([-1.0, 0.5])\n")
_doc(celu, "``F.celu(input, alpha)``", "    input: the tensor.\n    alpha: the CELU scale.",
     _x + "    >>> ember.celu(x).shape\n    torch.Size([2])")
_doc(celu_, "``F.celu_(input, alpha)`` (in place)",
     "    input: the tensor (modified).\n    alpha: the CELU scale.",
     _x + "    >>> ember.celu_(x) is x\n    True")
_doc(selu, "``F.selu(input)``", "    input: the tensor.",
     _x + "    >>> ember.selu(x).shape\n    torch.Size([2])")
_doc(selu_, "``F.selu_(input)`` (in place)", "    input: the tensor (modified).",
     _x + "    >>> ember.selu_(x) is x\n    True")
_doc(rrelu, "``F.rrelu(input, lower, upper, training)``",
     "    input: the tensor.\n    lower, upper: the range of the random negative slope.\n"
     "    training: draw slopes (else use their mean).\n    generator: only None.",
     _x + "    >>> ember.rrelu(x).tolist()[1]\n    0.5")
_doc(rrelu_, "``F.rrelu(input, lower, upper, training, inplace=True)``",
     "    input: the tensor (modified).\n    lower, upper: the slope range.\n"
     "    training: draw slopes.\n    generator: only None.",
     _x + "    >>> ember.rrelu_(x) is x\n    True")
_doc(threshold, "``F.threshold(input, threshold, value)``",
     "    input: the tensor.\n    threshold: values at or below it are replaced.\n"
     "    value: the replacement.",
     _x + "    >>> ember.threshold(x, 0.0, 9.0).tolist()\n    [9.0, 0.5]")
_doc(threshold_, "``F.threshold_(input, threshold, value)`` (in place)",
     "    input: the tensor (modified).\n    threshold: the threshold.\n    value: the "
     "replacement.", _x + "    >>> ember.threshold_(x, 0.0, 9.0) is x\n    True")
_doc(hardshrink, "``F.hardshrink(input, lambd)``",
     "    input: the tensor.\n    lambd: values with ``|x| <= lambd`` become 0.",
     _x + "    >>> ember.hardshrink(x).tolist()\n    [-1.0, 0.0]")
_doc(prelu, "``F.prelu(input, weight)``",
     "    input: the tensor.\n    weight: the learnable negative slope(s).",
     _x + "    >>> ember.prelu(x, ember.tensor([0.5])).tolist()\n    [-0.5, 0.5]")


# --------------------------------------------------------------------------- dropout
def _check_p(name, p):
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"{name}(): dropout probability has to be between 0 and 1, but got "
                           f"{p}")


@_top
def dropout(input, p, train):
    _check_p("dropout", p)
    return _F().dropout(input, p, train)


@_top
def dropout_(input, p, train):
    _check_p("dropout_", p)
    return _F().dropout(input, p, train, inplace=True)


@_top
def alpha_dropout(input, p, train):
    _check_p("alpha_dropout", p)
    return _F().alpha_dropout(input, p, train)


@_top
def alpha_dropout_(input, p, train):
    _check_p("alpha_dropout_", p)
    return _F().alpha_dropout(input, p, train, inplace=True)


@_top
def feature_alpha_dropout(input, p, train):
    _check_p("feature_alpha_dropout", p)
    return _F().feature_alpha_dropout(input, p, train)


@_top
def feature_alpha_dropout_(input, p, train):
    _check_p("feature_alpha_dropout_", p)
    return _F().feature_alpha_dropout(input, p, train, inplace=True)


def _feature_mask(input, p):
    import ember

    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = list(input.shape[:2]) + [1] * (input.dim() - 2)
    keep = ember.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    return keep / (1 - p) if p < 1 else keep


@_top
def feature_dropout(input, p, train):
    _check_p("feature_dropout", p)
    if not train or p == 0:
        return input.clone() if train else input
    return input * _feature_mask(input, p)


@_top
def feature_dropout_(input, p, train):
    _check_p("feature_dropout_", p)
    if not train or p == 0:
        return input
    return input.mul_(_feature_mask(input, p))


_dx = "    >>> x = ember.ones(2, 3)\n"
for _f, _tgt in ((dropout, "``F.dropout(input, p, training=train)``"),
                 (dropout_, "``F.dropout(input, p, train, inplace=True)``"),
                 (alpha_dropout, "``F.alpha_dropout(input, p, training=train)``"),
                 (alpha_dropout_, "``F.alpha_dropout(input, p, train, inplace=True)``"),
                 (feature_alpha_dropout, "``F.feature_alpha_dropout(input, p, train)``"),
                 (feature_alpha_dropout_, "``F.feature_alpha_dropout(..., inplace=True)``"),
                 (feature_dropout, "dropout of whole channels: ``input[n, c]`` is zeroed with "
                                   "probability ``p``, the rest scaled by ``1 / (1 - p)``"),
                 (feature_dropout_, "in-place ``feature_dropout``")):
    _doc(_f, _tgt, "    input: the tensor.\n    p: the drop probability.\n"
                   "    train: apply dropout (False: the identity).",
         _dx + f"    >>> ember.{_f.__name__}(x, 0.5, False).tolist() == x.tolist()\n    True")


# --------------------------------------------------------------------------- normalisation
@_top
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):  # noqa: ARG001 - a kernel choice
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


@_top
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):  # noqa: ARG001 - a kernel choice
    return _F().group_norm(input, num_groups, weight, bias, eps)


@_top
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):  # noqa: ARG001 - a kernel choice
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                           eps)


@_top
def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):  # noqa: ARG001 - a kernel choice
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                              momentum, eps)


@_top
def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _F().rms_norm(input, normalized_shape, weight, eps)


_nx = "    >>> x = ember.arange(8.0).reshape(2, 4)\n"
_doc(layer_norm, "``F.layer_norm(input, normalized_shape, weight, bias, eps)``",
     "    input: the tensor.\n    normalized_shape: the trailing shape to normalise over.\n"
     "    weight, bias: the affine parameters or None.\n    eps: added to the variance.\n"
     "    cudnn_enable: ignored (a kernel choice).",
     _nx + "    >>> ember.layer_norm(x, [4]).shape\n    torch.Size([2, 4])")
_doc(group_norm, "``F.group_norm(input, num_groups, weight, bias, eps)``",
     "    input: ``(N, C, *)``.\n    num_groups: groups the channels are split into.\n"
     "    weight, bias: per-channel affine parameters or None.\n    eps: added to the "
     "variance.\n    cudnn_enabled: ignored (a kernel choice).",
     _nx + "    >>> ember.group_norm(x, 2).shape\n    torch.Size([2, 4])")
_doc(batch_norm, "``F.batch_norm(input, running_mean, running_var, weight, bias, training, "
                 "momentum, eps)`` in ATen's argument order",
     "    input: ``(N, C, *)``.\n    weight, bias: per-channel affine parameters or None.\n"
     "    running_mean, running_var: running statistics (updated when training) or None.\n"
     "    training: use batch statistics.\n    momentum: the running-average factor.\n"
     "    eps: added to the variance.\n    cudnn_enabled: ignored (a kernel choice).",
     _nx + "    >>> ember.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False).shape"
     "\n    torch.Size([2, 4])")
_doc(instance_norm, "``F.instance_norm`` in ATen's argument order",
     "    input: ``(N, C, *)``.\n    weight, bias: per-channel affine parameters or None.\n"
     "    running_mean, running_var: running statistics or None.\n    use_input_stats: "
     "normalise with each instance's statistics.\n    momentum: the running-average factor.\n"
     "    eps: added to the variance.\n    cudnn_enabled: ignored (a kernel choice).",
     "    >>> x = ember.arange(8.0).reshape(1, 2, 4)\n    >>> ember.instance_norm(x, None, "
     "None, None, None, True, 0.1, 1e-5, False).shape\n    torch.Size([1, 2, 4])")
_doc(rms_norm, "``F.rms_norm(input, normalized_shape, weight, eps)``",
     "    input: the tensor.\n    normalized_shape: the trailing shape to normalise over.\n"
     "    weight: the scale or None.\n    eps: added to the mean square (None: the dtype's "
     "eps).", _nx + "    >>> ember.rms_norm(x, [4]).shape\n    torch.Size([2, 4])")


# --------------------------------------------------------------------------- layers
@_top
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    # ATen's -1 (any negative index) means "no padding index"; F.embedding's None does.
    pad = None if padding_idx is None or padding_idx < 0 else padding_idx
    return _F().embedding(indices, weight, pad, scale_grad_by_freq=scale_grad_by_freq,
                          sparse=sparse)


@_top
def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    import ember

    if mode not in (0, 1, 2):
        raise RuntimeError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got "
                           f"{mode}")
    if indices.dim() != 1 or offsets is None or offsets.dim() != 1:
        raise RuntimeError(f"embedding_bag: expected 1-D indices and 1-D offsets, got indices "
                           f"of shape {list(indices.shape)} and offsets of shape "
                           f"{None if offsets is None else list(offsets.shape)}")
    pad = None if padding_idx is None or padding_idx < 0 else padding_idx
    out = _F().embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                             mode=("sum", "mean", "max")[mode], sparse=sparse,
                             per_sample_weights=per_sample_weights,
                             include_last_offset=include_last_offset, padding_idx=pad)
    with ember.no_grad():
        idx = indices.long()
        n = idx.numel()
        starts = (offsets[:-1] if include_last_offset else offsets).long()
        nb = starts.numel()
        pos = ember.arange(n, device=idx.device)
        o2b = ember.searchsorted(starts, pos, right=True) - 1
        keep = (idx != pad) if pad is not None else ember.ones(n, dtype=ember.bool,
                                                                device=idx.device)
        counts = ember.zeros(nb, dtype=ember.int64, device=idx.device).index_add_(
            0, o2b, keep.long())
        if mode == 0:
            # PyTorch's sum kernel skips the bag bookkeeping unless a padding index needs it
            o2b_out = o2b if pad is not None else ember.zeros(0, dtype=ember.int64,
                                                              device=idx.device)
            zeros = ember.zeros(nb, dtype=ember.int64, device=idx.device)
            return out, o2b_out, zeros, zeros.clone()
        if mode == 1:
            return out, o2b, counts, counts.clone()
        # max: the first position holding each bag's maximum, per column
        rows = weight.detach()[idx]
        at_max = keep.unsqueeze(1) & (rows == out.detach()[o2b])
        cand = ember.where(at_max, pos.unsqueeze(1).expand_as(rows), ember.full_like(
            rows, n, dtype=ember.int64))
        first = ember.full((nb, rows.shape[1]), n, dtype=ember.int64, device=idx.device)
        first = first.scatter_reduce(0, o2b.unsqueeze(1).expand_as(rows), cand, "amin")
        found = first < n
        max_idx = ember.where(found, idx[first.clamp(max=max(n - 1, 0))],
                              ember.zeros_like(first)) if n else first.zero_()
    return out, o2b, counts, max_idx


@_top
def embedding_renorm_(input, indices, max_norm, norm_type):
    import ember

    with ember.no_grad():
        rows = ember.unique(indices.reshape(-1))
        w = input.index_select(0, rows)
        norms = w.norm(p=norm_type, dim=1, keepdim=True)
        scale = ember.where(norms > max_norm, max_norm / (norms + 1e-7),
                            ember.ones_like(norms))
        input.index_copy_(0, rows, w * scale)
    return input


@_top
def bilinear(input1, input2, weight, bias=None):
    return _F().bilinear(input1, input2, weight, bias)


@_top
def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    return _F().cosine_similarity(x1, x2, dim, eps)


@_top
def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


@_top
def pixel_shuffle(input, upscale_factor):
    return _F().pixel_shuffle(input, upscale_factor)


@_top
def pixel_unshuffle(input, downscale_factor):
    return _F().pixel_unshuffle(input, downscale_factor)


@_top
def channel_shuffle(input, groups):
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with sizes {list(input.shape)}")
    if not isinstance(groups, builtins.int) or groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    rest = list(input.shape[2:])
    return (input.reshape([n, groups, c // groups] + rest).transpose(1, 2)
            .reshape([n, c] + rest))


@_top
def adaptive_avg_pool1d(input, output_size):
    return _F().adaptive_avg_pool1d(input, output_size)


@_top
def adaptive_max_pool1d(input, output_size):
    return tuple(_F().adaptive_max_pool1d(input, output_size, return_indices=True))


@_top
def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    stride = None if stride in ((), []) else stride
    return tuple(_F().max_pool1d(input, kernel_size, stride, padding, dilation,
                                 ceil_mode=ceil_mode, return_indices=True))


@_top
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    F = _F()
    nd = weight.dim() - 2
    if nd not in (1, 2, 3):
        raise RuntimeError(f"convolution(): expected a 3-D, 4-D or 5-D weight, got "
                           f"{weight.dim()}-D of shape {list(weight.shape)}")
    if transposed:
        return getattr(F, f"conv_transpose{nd}d")(input, weight, bias, stride, padding,
                                                   output_padding, groups, dilation)
    if any(builtins.int(p) for p in (output_padding or ())):
        raise RuntimeError("convolution(): output_padding is only supported for transposed "
                           "convolution")
    return getattr(F, f"conv{nd}d")(input, weight, bias, stride, padding, dilation, groups)


_lx = "    >>> x = ember.ones(2, 4)\n"
_doc(embedding, "``F.embedding(indices, weight, padding_idx)`` with the weight first",
     "    weight: the ``(num_embeddings, dim)`` table.\n    indices: int64 indices.\n"
     "    padding_idx: a row whose gradient stays zero (negative: none).\n"
     "    scale_grad_by_freq: scale gradients by the inverse frequency of each index.\n"
     "    sparse: produce a sparse gradient.",
     "    >>> ember.embedding(ember.eye(3), ember.tensor([2, 0])).tolist()\n"
     "    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]")
_doc(embedding_bag, "``F.embedding_bag`` in ATen's form, returning ``(output, offset2bag, "
                   "bag_size, max_indices)`` with PyTorch's CPU bookkeeping (for sum without a "
                   "padding index: an empty offset2bag and zero sizes)",
     "    weight: the table.\n    indices: 1-D indices.\n    offsets: 1-D starts of the bags.\n"
     "    scale_grad_by_freq: scale gradients by index frequency.\n    mode: 0 sum, 1 mean, "
     "2 max.\n    sparse: sparse gradient for the table.\n    per_sample_weights: weights "
     "(sum only).\n    include_last_offset: offsets has one more entry, the end.\n"
     "    padding_idx: an index left out of every bag (None or negative: none).",
     "    >>> out, o2b, size, imax = ember.embedding_bag(ember.eye(3), ember.tensor([0, 2, 1]), "
     "ember.tensor([0, 2]), mode=1)\n    >>> o2b.tolist(), size.tolist()\n"
     "    ([0, 0, 1], [2, 1])")
_doc(embedding_renorm_, "rescale the rows of ``input`` named in ``indices`` whose "
                        "``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm``, in "
                        "place, without autograd",
     "    input: the embedding table (modified).\n    indices: the rows to check.\n"
     "    max_norm: the largest norm kept.\n    norm_type: the p of the norm.",
     "    >>> w = ember.tensor([[3.0, 4.0]])\n    >>> ember.embedding_renorm_(w, "
     "ember.tensor([0]), 1.0, 2.0).norm().item() <= 1.0\n    True")
_doc(bilinear, "``F.bilinear(input1, input2, weight, bias)``",
     "    input1, input2: ``(*, in1)`` and ``(*, in2)``.\n    weight: ``(out, in1, in2)``.\n"
     "    bias: ``(out,)`` or None.",
     "    >>> ember.bilinear(ember.ones(1, 2), ember.ones(1, 3), ember.ones(4, 2, 3)).shape\n"
     "    torch.Size([1, 4])")
_doc(cosine_similarity, "``F.cosine_similarity(x1, x2, dim, eps)``",
     "    x1, x2: the tensors.\n    dim: the dimension of the vectors.\n    eps: the smallest "
     "norm used.", _lx + "    >>> ember.cosine_similarity(x, x).tolist()\n    [1.0, 1.0]")
_doc(pairwise_distance, "``F.pairwise_distance(x1, x2, p, eps, keepdim)``",
     "    x1, x2: the tensors.\n    p: the norm degree.\n    eps: added to the difference.\n"
     "    keepdim: keep the reduced dimension.",
     _lx + "    >>> ember.pairwise_distance(x, x, eps=0.0).tolist()\n    [0.0, 0.0]")
_doc(pixel_shuffle, "``F.pixel_shuffle(input, upscale_factor)``",
     "    input: ``(*, C * r * r, H, W)``.\n    upscale_factor: r.",
     "    >>> ember.pixel_shuffle(ember.ones(1, 4, 2, 2), 2).shape\n"
     "    torch.Size([1, 1, 4, 4])")
_doc(pixel_unshuffle, "``F.pixel_unshuffle(input, downscale_factor)``",
     "    input: ``(*, C, H * r, W * r)``.\n    downscale_factor: r.",
     "    >>> ember.pixel_unshuffle(ember.ones(1, 1, 4, 4), 2).shape\n"
     "    torch.Size([1, 4, 2, 2])")
_doc(channel_shuffle, "``nn.ChannelShuffle``'s operation: split the channels into "
                      "``groups`` and interleave them",
     "    input: ``(N, C, *)``.\n    groups: divides C.",
     "    >>> ember.channel_shuffle(ember.arange(4.0).reshape(1, 4, 1), 2).flatten().tolist()"
     "\n    [0.0, 2.0, 1.0, 3.0]")
_doc(adaptive_avg_pool1d, "``F.adaptive_avg_pool1d(input, output_size)``",
     "    input: ``(N, C, L)`` or ``(C, L)``.\n    output_size: the output length.",
     "    >>> ember.adaptive_avg_pool1d(ember.ones(1, 1, 4), 2).shape\n"
     "    torch.Size([1, 1, 2])")
_doc(adaptive_max_pool1d, "``F.adaptive_max_pool1d(input, output_size, return_indices=True)``",
     "    input: ``(N, C, L)`` or ``(C, L)``.\n    output_size: the output length.",
     "    >>> v, i = ember.adaptive_max_pool1d(ember.arange(4.0).reshape(1, 1, 4), 2)\n"
     "    >>> i.tolist()\n    [[[1, 3]]]")
_doc(max_pool1d_with_indices, "``F.max_pool1d(..., return_indices=True)``",
     "    input: ``(N, C, L)`` or ``(C, L)``.\n    kernel_size, stride, padding, dilation, "
     "ceil_mode: as for ``F.max_pool1d`` (an empty stride means kernel_size).",
     "    >>> v, i = ember.max_pool1d_with_indices(ember.arange(4.0).reshape(1, 1, 4), 2)\n"
     "    >>> i.tolist()\n    [[[1, 3]]]")
_doc(convolution, "``F.conv{1,2,3}d`` or ``F.conv_transpose{1,2,3}d`` chosen by the weight's "
                  "rank and ``transposed``",
     "    input: the batch.\n    weight: the filters.\n    bias: the bias or None.\n"
     "    stride, padding, dilation, output_padding: per spatial dim.\n"
     "    transposed: a transposed convolution.\n    groups: the channel groups.",
     "    >>> ember.convolution(ember.ones(1, 1, 5), ember.ones(1, 1, 3), None, [1], [0], "
     "[1], False, [0], 1).tolist()\n    [[[3.0, 3.0, 3.0]]]")


# --------------------------------------------------------------------------- losses
@_top
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _F().binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction("binary_cross_entropy_with_logits",
                                                    reduction), pos_weight=pos_weight)


@_top
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F().cosine_embedding_loss(input1, input2, target, margin,
                                      reduction=_reduction("cosine_embedding_loss", reduction))


@_top
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                         _reduction("ctc_loss", reduction), zero_infinity)


@_top
def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return _F().hinge_embedding_loss(input, target, margin,
                                     reduction=_reduction("hinge_embedding_loss", reduction))


@_top
def kl_div(input, target, reduction=1, *, log_target=False):
    r = _reduction("kl_div", reduction)
    if r == "mean":
        # ATen's kl_div with reduction=Mean averages over every element (F.kl_div's "mean"
        # does the same, with a warning that recommends "batchmean"; no warning here).
        return _F().kl_div(input, target, reduction="sum", log_target=log_target) / max(
            input.numel(), 1)
    return _F().kl_div(input, target, reduction=r, log_target=log_target)


@_top
def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F().margin_ranking_loss(input1, input2, target, margin,
                                    reduction=_reduction("margin_ranking_loss", reduction))


@_top
def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                 reduction=_reduction("poisson_nll_loss", reduction))


@_top
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False,
                        reduction=1):
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_reduction("triplet_margin_loss", reduction))


_lossargs = "\n    reduction: 0 none, 1 mean, 2 sum (ATen's integer codes)."
_doc(binary_cross_entropy_with_logits, "``F.binary_cross_entropy_with_logits``",
     "    input: logits.\n    target: targets in [0, 1].\n    weight: per-element weights.\n"
     "    pos_weight: weights of positive examples." + _lossargs,
     "    >>> ember.binary_cross_entropy_with_logits(ember.zeros(2), ember.ones(2)).item() > 0"
     "\n    True")
_doc(cosine_embedding_loss, "``F.cosine_embedding_loss``",
     "    input1, input2: ``(N, D)``.\n    target: 1 or -1 per row.\n    margin: for "
     "dissimilar pairs." + _lossargs,
     _lx + "    >>> ember.cosine_embedding_loss(x, x, ember.ones(2)).item()\n    0.0")
_doc(ctc_loss, "``F.ctc_loss``",
     "    log_probs: ``(T, N, C)`` log-probabilities.\n    targets: the label sequences.\n"
     "    input_lengths, target_lengths: per batch element.\n    blank: the blank label.\n"
     "    zero_infinity: replace infinite losses with 0." + _lossargs,
     "    >>> lp = ember.zeros(3, 1, 2).log_softmax(2)\n    >>> ember.ctc_loss(lp, "
     "ember.tensor([[1]]), [3], [1]).item() > 0\n    True")
_doc(hinge_embedding_loss, "``F.hinge_embedding_loss``",
     "    input: distances.\n    target: 1 or -1.\n    margin: for target -1." + _lossargs,
     _lx + "    >>> ember.hinge_embedding_loss(x, ember.ones(2, 4)).item()\n    1.0")
_doc(kl_div, "``F.kl_div`` (reduction 1 averages over every element, as ATen)",
     "    input: log-probabilities.\n    target: probabilities (log-probabilities with "
     "``log_target``)." + _lossargs + "\n    log_target: ``target`` is given as logs.",
     _lx + "    >>> ember.kl_div(x.log(), x).item()\n    0.0")
_doc(margin_ranking_loss, "``F.margin_ranking_loss``",
     "    input1, input2: scores.\n    target: 1 or -1.\n    margin: the margin." + _lossargs,
     _lx + "    >>> ember.margin_ranking_loss(x, x, ember.ones(2, 4)).item()\n    0.0")
_doc(poisson_nll_loss, "``F.poisson_nll_loss``",
     "    input: rates (their logs with ``log_input``).\n    target: counts.\n    log_input: "
     "whether input is a log-rate.\n    full: add Stirling's term.\n    eps: avoids log(0)."
     + _lossargs,
     _lx + "    >>> ember.poisson_nll_loss(x, x, True, False, 1e-8, 1).item() > 0\n    True")
_doc(triplet_margin_loss, "``F.triplet_margin_loss``",
     "    anchor, positive, negative: ``(N, D)``.\n    margin: the margin.\n    p: the norm "
     "degree.\n    eps: added to differences.\n    swap: use the distance swap." + _lossargs,
     _lx + "    >>> ember.triplet_margin_loss(x, x, x).item()\n    1.0")


# --------------------------------------------------------------------------- recurrent cells
def _linear(x, w, b):
    y = x.matmul(w.t())
    return y + b if b is not None else y


def _check_cell(input, hxs, w_ih, w_hh):
    # ATen's checks: the cell functions take batched (2-D) input only; nn.*Cell unsqueeze.
    if input.size(1) != w_ih.size(1):
        raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected "
                           f"{w_ih.size(1)}")
    for i, h in enumerate(hxs):
        if input.size(0) != h.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch "
                               f"size {h.size(0)}")
        if h.size(1) != w_hh.size(1):
            raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, "
                               f"expected {w_hh.size(1)}")


@_top
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, (hx,), w_ih, w_hh)
    return (_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh)).tanh()


@_top
def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, (hx,), w_ih, w_hh)
    return (_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh)).relu()


@_top
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    h, c = hx
    _check_cell(input, (h, c), w_ih, w_hh)
    gates = _linear(input, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c1 = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c1.tanh(), c1


@_top
def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, (hx,), w_ih, w_hh)
    gi = _linear(input, w_ih, b_ih).chunk(3, -1)
    gh = _linear(hx, w_hh, b_hh).chunk(3, -1)
    r = (gi[0] + gh[0]).sigmoid()
    z = (gi[1] + gh[1]).sigmoid()
    n = (gi[2] + r * gh[2]).tanh()
    return (1 - z) * n + z * hx


_cargs = ("    input: ``(N, input_size)``.\n    hx: the hidden state ``(N, hidden_size)``{}.\n"
          "    w_ih, w_hh: ``({}hidden_size, input_size)``, ``({}hidden_size, hidden_size)``.\n"
          "    b_ih, b_hh: the biases or None.")
_cx = ("    >>> x, h = ember.ones(1, 2), ember.zeros(1, 3)\n")
for _f, _k, _what in ((rnn_tanh_cell, 1, "an Elman RNN cell with tanh (``nn.RNNCell``)"),
                     (rnn_relu_cell, 1, "an Elman RNN cell with ReLU (``nn.RNNCell``)"),
                     (gru_cell, 3, "a GRU cell (``nn.GRUCell``)")):
    _m = f"{_k} * " if _k > 1 else ""
    _doc(_f, f"one step of {_what}", _cargs.format("", _m, _m),
         _cx + f"    >>> ember.{_f.__name__}(x, h, ember.ones({3 * _k}, 2), "
               f"ember.ones({3 * _k}, 3)).shape\n    torch.Size([1, 3])")
_doc(lstm_cell, "one step of an LSTM cell (``nn.LSTMCell``'s formula), returning ``(h, c)``",
     _cargs.format(" and cell state, as a pair ``(h, c)``", "4 * ", "4 * "),
     _cx + "    >>> h1, c1 = ember.lstm_cell(x, (h, h), ember.ones(12, 2), ember.ones(12, 3))"
           "\n    >>> h1.shape\n    torch.Size([1, 3])")


# --------------------------------------------------------------------------- whole sequences
def _run_rnn(name, cell, input, hx, params, has_biases, num_layers, dropout, train,
             bidirectional, batch_first):
    import ember

    lstm = name == "lstm"
    per = 4 if has_biases else 2
    dirs = 2 if bidirectional else 1
    params = list(params)
    if len(params) != per * dirs * num_layers:
        raise RuntimeError(f"{name}(): expected {per * dirs * num_layers} weight tensors for "
                           f"{num_layers} layer(s), {dirs} direction(s) and has_biases="
                           f"{has_biases}, got {len(params)}")
    unbatched = input.dim() == 2
    x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if batch_first else input)
    hs = list(hx) if lstm else [hx]
    if unbatched:
        hs = [h.unsqueeze(1) for h in hs]
    out_h, out_c = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            w = params[k * per:(k + 1) * per]
            w_ih, w_hh = w[0], w[1]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            h = hs[0][k]
            c = hs[1][k] if lstm else None
            steps = range(x.shape[0] - 1, -1, -1) if d else range(x.shape[0])
            ys = [None] * x.shape[0]
            for t in steps:
                if lstm:
                    h, c = cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
                else:
                    h = cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
                ys[t] = h
            outs.append(ember.stack(ys))
            out_h.append(h)
            if lstm:
                out_c.append(c)
        x = outs[0] if dirs == 1 else ember.cat(outs, -1)
        if dropout and train and layer < num_layers - 1:
            x = _F().dropout(x, dropout, True)
    y = x.squeeze(1) if unbatched else (x.transpose(0, 1) if batch_first else x)
    hn = ember.stack(out_h)
    if unbatched:
        hn = hn.squeeze(1)
    if lstm:
        cn = ember.stack(out_c)
        return y, hn, cn.squeeze(1) if unbatched else cn
    return y, hn


@_top
def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
         batch_first):
    if isinstance(hx, Tensor) or len(hx) != 2:
        raise NotImplementedError("lstm(): only the (input, hx, params, ...) overload with hx = "
                                  "(h0, c0) (packed sequences: use nn.LSTM)")
    return _run_rnn("lstm", lstm_cell, input, hx, params, has_biases, num_layers, dropout,
                    train, bidirectional, batch_first)


@_top
def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    return _run_rnn("gru", gru_cell, input, hx, params, has_biases, num_layers, dropout, train,
                    bidirectional, batch_first)


@_top
def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    return _run_rnn("rnn_tanh", rnn_tanh_cell, input, hx, params, has_biases, num_layers,
                    dropout, train, bidirectional, batch_first)


@_top
def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    return _run_rnn("rnn_relu", rnn_relu_cell, input, hx, params, has_biases, num_layers,
                    dropout, train, bidirectional, batch_first)


_sargs = ("    input: ``(T, N, input_size)`` (``(N, T, ...)`` with ``batch_first``; ``(T, "
          "input_size)`` unbatched).\n    hx: the initial hidden state ``(layers * dirs, N, "
          "hidden)``{}.\n    params: the weights in ``nn.{}``'s ``_flat_weights`` order "
          "(w_ih, w_hh[, b_ih, b_hh] per layer and direction).\n    has_biases: whether "
          "params hold biases.\n    num_layers: stacked layers.\n    dropout: between layers "
          "when ``train``.\n    train: training mode.\n    bidirectional: two directions.\n"
          "    batch_first: the batch is dim 0.")
for _f, _cls, _g, _extra in ((lstm, "LSTM", 4, " and cell state, as a pair"),
                             (gru, "GRU", 3, ""), (rnn_tanh, "RNN", 1, ""),
                             (rnn_relu, "RNN", 1, "")):
    _hx = "(h, h)" if _f is lstm else "h"
    _doc(_f, f"``nn.{_cls}``'s whole-sequence computation on a flat weight list, returning "
             f"``(output, h_n{', c_n' if _f is lstm else ''})``",
         _sargs.format(_extra, _cls),
         f"    >>> x, h = ember.ones(5, 1, 2), ember.zeros(1, 1, 3)\n    >>> w = "
         f"[ember.ones({3 * _g}, 2), ember.ones({3 * _g}, 3)]\n    >>> ember.{_f.__name__}(x, "
         f"{_hx}, w, False, 1, 0.0, False, False, False)[0].shape\n    torch.Size([5, 1, 3])")


# --------------------------------------------------------------------------- linalg
@_top
def geqrf(input):
    """Householder QR in LAPACK's compact form: ``(a, tau)`` where ``a`` holds R on and above
    the diagonal and the Householder vectors below it (not differentiable, as PyTorch).

    Args:
        input: ``(*, m, n)`` float or complex.

    Returns:
        ``(a, tau)``; ``orgqr(a, tau)`` rebuilds Q.

    Example:
        >>> a, tau = ember.geqrf(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> ember.orgqr(a, tau).matmul(a.triu()).allclose(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
        True
    """
    import numpy as np

    if input.dim() < 2:
        raise RuntimeError(f"torch.geqrf: input must have at least 2 dimensions, got "
                           f"{input.dim()}")
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"torch.geqrf: Expected a floating point or complex tensor as input. "
                           f"Got {input.dtype}")
    x = input.detach().cpu().numpy()
    batch = x.shape[:-2]
    m, n = x.shape[-2:]
    flat = x.reshape((-1, m, n))
    a = np.empty_like(flat)
    tau = np.empty((flat.shape[0], min(m, n)), flat.dtype)
    for i, mat in enumerate(flat):
        h, t = np.linalg.qr(mat, mode="raw")  # h is the transposed (Fortran) compact form
        a[i] = h.T
        tau[i] = t
    dev = input.device
    import ember

    return (ember.from_numpy(a.reshape(x.shape)).to(dev),
            ember.from_numpy(tau.reshape(batch + (min(m, n),))).to(dev))


@_top
def orgqr(input, input2):
    """The Q of a ``geqrf`` factorisation: ``linalg.householder_product(input, input2)``.

    Args:
        input: the compact Householder form ``(*, m, n)``.
        input2: ``(*, k)`` scalar factors (``tau``; PyTorch's keyword is ``input2``).

    Returns:
        Q, ``(*, m, n)`` (differentiable).

    Example:
        >>> a, tau = ember.geqrf(ember.eye(2))
        >>> ember.orgqr(a, tau).abs().tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    from ember import linalg

    return linalg.householder_product(input, input2)


@_top
def ormqr(input, input2, input3, left=True, transpose=False):
    """Multiply ``input3`` by the full m-by-m Q of a ``geqrf`` factorisation: ``Q @ C``,
    ``C @ Q``, or with ``Q^H`` when ``transpose``.

    Args:
        input: the compact Householder form ``(*, mn, k)``.
        input2: tau ``(*, min(mn, k))``.
        input3: C ``(*, m, n)``.
        left: multiply Q from the left.
        transpose: use Q's conjugate transpose.

    Returns:
        The product (differentiable).

    Example:
        >>> a, tau = ember.geqrf(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> ember.ormqr(a, tau, a.triu()).round(decimals=4).abs().tolist()
        [[3.0, 1.0], [4.0, 2.0]]
    """
    import ember
    from ember import linalg

    a, tau, c = input, input2, input3
    mn = a.shape[-2]
    if (left and c.shape[-2] != mn) or (not left and c.shape[-1] != mn):
        raise RuntimeError(f"torch.ormqr: input.shape[-2] must be equal to "
                           f"other.shape[{-2 if left else -1}], got {mn} and "
                           f"{c.shape[-2 if left else -1]}")
    k = a.shape[-1]
    if k < mn:  # the full Q: zero Householder vectors (tau 0) are identities
        a = ember.cat([a, ember.zeros(*a.shape[:-1], mn - k, dtype=a.dtype,
                                      device=a.device)], -1)
    if tau.shape[-1] < mn:
        tau = ember.cat([tau, ember.zeros(*tau.shape[:-1], mn - tau.shape[-1],
                                          dtype=tau.dtype, device=tau.device)], -1)
    q = linalg.householder_product(a[..., :mn], tau[..., :mn])
    if transpose:
        q = q.mH
    return q.matmul(c) if left else c.matmul(q)


def _approximate_basis(a, q, niter, m=None):
    import ember

    n = a.shape[-1]
    r = ember.randn(*a.shape[:-2], n, q, dtype=a.dtype, device=a.device)
    x = a.matmul(r)
    if m is not None:
        x = x - m.matmul(r)
    basis = ember.linalg.qr(x).Q
    for _ in range(niter):
        z = a.mH.matmul(basis)
        if m is not None:
            z = z - m.mH.matmul(basis)
        z = ember.linalg.qr(z).Q
        x = a.matmul(z)
        if m is not None:
            x = x - m.matmul(z)
        basis = ember.linalg.qr(x).Q
    return basis


@_top
def svd_lowrank(A, q=6, niter=2, M=None):
    """A randomized truncated SVD of ``A - M`` (Halko, Martinsson and Tropp's algorithm, as
    PyTorch's): ``(U, S, V)`` with ``A - M ~= U diag(S) V^H``.

    Args:
        A: ``(*, m, n)``.
        q: the rank to find (default 6; at most ``min(m, n)``).
        niter: subspace iterations (more: more accurate).
        M: an optional ``(*, m, n)`` matrix subtracted from ``A``.

    Returns:
        ``U (*, m, q)``, ``S (*, q)``, ``V (*, n, q)`` (differentiable; random basis from the
        global generator).

    Example:
        >>> a = ember.ones(4, 1).matmul(ember.ones(1, 3))
        >>> U, S, V = ember.svd_lowrank(a, q=1)
        >>> round(S.item(), 4)
        3.4641
    """
    import ember

    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # work on the tall side, as PyTorch does
        At, Mt = A.mH, (M.mH if M is not None else None)
        basis = _approximate_basis(At, q, niter, Mt)
        B = basis.mH.matmul(At) - (basis.mH.matmul(Mt) if Mt is not None else 0)
        U, S, Vh = ember.linalg.svd(B, full_matrices=False)
        V = basis.matmul(U)
        return Vh.mH, S, V
    basis = _approximate_basis(A, q, niter, M)
    B = basis.mH.matmul(A) - (basis.mH.matmul(M) if M is not None else 0)
    U, S, Vh = ember.linalg.svd(B, full_matrices=False)
    return basis.matmul(U), S, Vh.mH


@_top
def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal component analysis of ``A``'s rows by ``svd_lowrank`` of the centred matrix.

    Args:
        A: ``(*, m, n)`` data, one observation per row.
        q: how many components (default ``min(6, m, n)``).
        center: subtract the column means first.
        niter: subspace iterations.

    Returns:
        ``(U, S, V)``: the principal directions are V's columns.

    Example:
        >>> a = ember.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
        >>> U, S, V = ember.pca_lowrank(a, q=1)
        >>> round(S.item(), 4)
        2.0
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (isinstance(q, builtins.int) and 0 <= q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not (isinstance(niter, builtins.int) and niter >= 0):
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter)
    return svd_lowrank(A - A.mean(dim=-2, keepdim=True), q, niter)


def _b_orthonormal_basis(S, B, eps):
    """Columns spanning ``S``'s range, orthonormal in the ``B`` inner product (tiny
    directions dropped), through the eigen-decomposition of the Gram matrix."""
    import ember

    BS = S if B is None else B.matmul(S)
    G = S.mT.matmul(BS)
    G = (G + G.mT) / 2
    d, V = ember.linalg.eigh(G)
    keep = d > eps * d.abs().max().clamp(min=1e-300)
    V, d = V[:, keep], d[keep]
    return S.matmul(V / d.sqrt())


def _lobpcg_one(A, B, X, iK, k, n, niter, tol, largest):
    import ember

    m = A.shape[-1]
    eps = ember.finfo(A.dtype).eps
    tol = eps ** 0.5 if tol is None else tol
    if X is None:
        X = ember.randn(m, n, dtype=A.dtype, device=A.device)
    X = _b_orthonormal_basis(X, B, eps * m)
    P = W = None
    a_norm = ember.linalg.matrix_norm(A).item()
    b_norm = 1.0 if B is None else ember.linalg.matrix_norm(B).item()
    it = 0
    while True:
        # Rayleigh-Ritz on the current trial subspace S = [X, W, P]
        S = ember.cat([t for t in (X, W, P) if t is not None], 1)
        Q = _b_orthonormal_basis(S, B, eps * m)
        H = Q.mT.matmul(A.matmul(Q))
        theta, C = ember.linalg.eigh((H + H.mT) / 2)
        order = theta.argsort(descending=largest)[:n]
        theta, C = theta[order], C[:, order]
        X_new = Q.matmul(C)
        if it > 0:
            # the search direction: X_new without its component along the old X
            BXo = X if B is None else B.matmul(X)
            P = X_new - X.matmul(BXo.mT.matmul(X_new))
        X = X_new
        BX = X if B is None else B.matmul(X)
        R = A.matmul(X) - BX * theta
        rerr = R.norm(dim=0) / (X.norm(dim=0) * (a_norm + theta.abs() * b_norm))
        it += 1
        if bool((rerr[:k] < tol).all()) or (niter >= 0 and it > niter):
            return theta[:k], X[:, :k]
        W = R if iK is None else iK.matmul(R)


@_top
def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None,
           method=None, tracker=None, ortho_iparams=None, ortho_fparams=None,
           ortho_bparams=None):
    """The ``k`` largest (or smallest) eigenpairs of the symmetric positive-definite
    generalized problem ``A x = lambda B x`` by LOBPCG (Knyazev's locally optimal block
    preconditioned conjugate gradient): Rayleigh-Ritz over ``[X, W, P]`` each step, with the
    trial basis B-orthonormalised through its Gram matrix (which also drops directions that
    became dependent, the role of PyTorch's "ortho" method).

    Args:
        A: ``(*, m, m)`` symmetric, dense.
        k: how many eigenpairs (default: ``X``'s columns, else 1).
        B: ``(*, m, m)`` symmetric positive definite, or None (identity).
        X: ``(*, m, n)`` initial guess (default: random from the global generator).
        n: the block size (default ``k``, or ``X``'s columns); ``m >= 3 n`` is required.
        iK: ``(*, m, m)`` preconditioner applied to the residuals, or None.
        niter: the most iterations (default 1000; -1: until converged).
        tol: the residual tolerance (default ``sqrt(eps)`` of the dtype).
        largest: the largest eigenvalues (default True), else the smallest.
        method: "ortho" (default) or "basic": the same iteration here.
        tracker: must be None (ember does not expose the iteration state).
        ortho_iparams, ortho_fparams, ortho_bparams: must be None.

    Returns:
        ``(E, X)``: eigenvalues ``(*, k)`` (descending when ``largest``, else ascending) and
        B-orthonormal eigenvectors ``(*, m, k)``. Not differentiable in ember (PyTorch
        differentiates dense ``A``): inputs that require grad are refused.

    Example:
        >>> A = ember.diag(ember.arange(1.0, 11.0, dtype=ember.float64))
        >>> E, X = ember.lobpcg(A, k=2)
        >>> [round(v, 6) for v in E.tolist()]
        [10.0, 9.0]
    """
    import ember

    for name, v in (("tracker", tracker), ("ortho_iparams", ortho_iparams),
                    ("ortho_fparams", ortho_fparams), ("ortho_bparams", ortho_bparams)):
        if v is not None:
            raise NotImplementedError(f"lobpcg(): {name} (ember runs one LOBPCG variant and "
                                      "exposes no iteration state)")
    if method not in (None, "basic", "ortho"):
        raise ValueError(f"LOBPCG method must be 'basic' or 'ortho', got {method!r}")
    if ember.is_grad_enabled() and any(t is not None and t.requires_grad
                                       for t in (A, B, X, iK)):
        raise NotImplementedError("lobpcg(): gradients (inputs that require grad); detach "
                                  "them, or use linalg.eigh for differentiable eigenpairs")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"A must be a (batch of) square matrix, got shape {list(A.shape)}")
    if not A.is_floating_point():
        A = A.to(ember.get_default_dtype())
    m = A.shape[-1]
    if k is None:
        k = 1 if X is None else X.shape[-1]
    if n is None:
        n = k if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m}) "
                         f"is smaller than 3 x the number of requested eigenpairs (={n})")
    if k > n:
        raise ValueError(f"lobpcg: k (={k}) must not exceed n (={n})")
    niter = 1000 if niter is None else niter
    largest = True if largest is None else largest
    batch = A.shape[:-2]
    with ember.no_grad():
        if not batch:
            return _lobpcg_one(A, B, X, iK, k, n, niter, tol, largest)
        flat = A.reshape(-1, m, m)
        parts = [_lobpcg_one(flat[i], None if B is None else B.reshape(-1, m, m)[i],
                             None if X is None else X.reshape(-1, m, X.shape[-1])[i],
                             None if iK is None else iK.reshape(-1, m, m)[i], k, n, niter, tol,
                             largest) for i in range(flat.shape[0])]
        E = ember.stack([p[0] for p in parts]).reshape(*batch, k)
        V = ember.stack([p[1] for p in parts]).reshape(*batch, m, k)
        return E, V


# --------------------------------------------------------------------------- other libraries
@_top
def igamma(input, other, *, out=None):
    """The regularised lower incomplete gamma function P(input, other):
    ``special.gammainc``.

    Args:
        input: a (the shape parameter), positive.
        other: x, non-negative.
        out: an optional output tensor.

    Returns:
        P(a, x).

    Example:
        >>> round(ember.igamma(ember.tensor(1.0), ember.tensor(1.0)).item(), 4)
        0.6321
    """
    from ember._ops.special_kernels import _gammainc_fn, _incomplete_gamma

    return _incomplete_gamma("igamma", _gammainc_fn, input, other, out)


@_top
def igammac(input, other, *, out=None):
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P:
    ``special.gammaincc``.

    Args:
        input: a (the shape parameter), positive.
        other: x, non-negative.
        out: an optional output tensor.

    Returns:
        Q(a, x).

    Example:
        >>> round(ember.igammac(ember.tensor(1.0), ember.tensor(1.0)).item(), 4)
        0.3679
    """
    from ember._ops.special_kernels import _gammaincc_fn, _incomplete_gamma

    return _incomplete_gamma("igammac", _gammaincc_fn, input, other, out)


@_top
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``ember.func.vmap``: vectorise ``func`` over a batch dimension.

    Args:
        func: the function of tensors.
        in_dims: the batch dim of each input (None: not batched).
        out_dims: where the batch dim goes in each output.
        randomness: "error", "different" or "same".
        chunk_size: evaluate this many batch elements at a time.

    Returns:
        The batched function.

    Example:
        >>> ember.vmap(lambda v: v.sum())(ember.ones(3, 2)).tolist()
        [2.0, 2.0, 2.0]
    """
    from ember.func import vmap as _vmap

    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


# Tensor methods over the same functions.
def _igamma_(self, other):
    """In-place ``igamma``.

    Args:
        other: x.

    Returns:
        ``self``.

    Example:
        >>> x = ember.tensor([1.0])
        >>> x.igamma_(ember.tensor([1.0])) is x
        True
    """
    return self.copy_(igamma(self, other))


def _igammac_(self, other):
    """In-place ``igammac``.

    Args:
        other: x.

    Returns:
        ``self``.

    Example:
        >>> x = ember.tensor([1.0])
        >>> x.igammac_(ember.tensor([1.0])) is x
        True
    """
    return self.copy_(igammac(self, other))


METHODS.update({"hardshrink": hardshrink, "prelu": prelu, "geqrf": geqrf, "orgqr": orgqr,
                "ormqr": ormqr, "igamma": igamma, "igammac": igammac, "igamma_": _igamma_,
                "igammac_": _igammac_})
for _name, _fn in METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)
