"""Docstrings of ``ember.nn.functional``, by name."""


DOCS = {
    "relu": """\
    Applies the rectified linear unit ``max(x, 0)`` elementwise.

    Args:
        input: the input tensor.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.relu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
""",
    "relu6": """\
    Applies ``min(max(x, 0), 6)`` elementwise.

    Args:
        input: the input tensor.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.relu6(ember.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
""",
    "leaky_relu": """\
    Applies ``x`` for positive elements and ``negative_slope * x`` otherwise.

    Args:
        input: the input tensor.
        negative_slope: the slope for negative inputs (default 0.01).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.leaky_relu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.0200,  0.0000,  2.0000])
""",
    "elu": """\
    Applies the exponential linear unit: ``x`` if positive, else ``alpha * (exp(x) - 1)``.

    Args:
        input: the input tensor.
        alpha: the scale of the negative part (default 1).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.elu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.8647,  0.0000,  2.0000])
""",
    "selu": """\
    Applies the scaled ELU with the self-normalising constants of Klambauer et al.

    Args:
        input: the input tensor.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.selu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-1.5202,  0.0000,  2.1014])
""",
    "celu": """\
    Applies ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` elementwise.

    Args:
        input: the input tensor.
        alpha: the scale (default 1).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.celu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.8647,  0.0000,  2.0000])
""",
    "gelu": """\
    Applies the Gaussian error linear unit ``x * Phi(x)`` elementwise.

    Args:
        input: the input tensor.
        approximate: ``'none'`` (default, exact with erf) or ``'tanh'`` (the tanh
            approximation).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.gelu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.0455,  0.0000,  1.9545])
""",
    "silu": """\
    Applies the sigmoid linear unit ``x * sigmoid(x)`` (swish) elementwise.

    Args:
        input: the input tensor.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.silu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.2384,  0.0000,  1.7616])
""",
    "mish": """\
    Applies ``x * tanh(softplus(x))`` elementwise.

    Args:
        input: the input tensor.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.mish(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.2525,  0.0000,  1.9440])
""",
    "sigmoid": """\
    Applies the logistic sigmoid ``1 / (1 + exp(-x))`` elementwise.

    Args:
        input: the input tensor.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.sigmoid(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([0.1192, 0.5000, 0.8808])
""",
    "tanh": """\
    Applies the hyperbolic tangent elementwise.

    Args:
        input: the input tensor.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.tanh(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.9640,  0.0000,  0.9640])
""",
    "logsigmoid": """\
    Applies ``log(sigmoid(x))`` elementwise, computed stably.

    Args:
        input: the input tensor.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.logsigmoid(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-2.1269, -0.6931, -0.1269])
""",
    "softplus": """\
    Applies ``log(1 + exp(beta * x)) / beta`` elementwise.

    Args:
        input: the input tensor.
        beta: the sharpness (default 1).
        threshold: above ``beta * x > threshold`` the result is ``x`` (default 20).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.softplus(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([0.1269, 0.6931, 2.1269])
""",
    "softsign": """\
    Applies ``x / (1 + |x|)`` elementwise.

    Args:
        input: the input tensor.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.softsign(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.6667,  0.0000,  0.6667])
""",
    "hardtanh": """\
    Clamps each element to [min_val, max_val].

    Args:
        input: the input tensor.
        min_val: the lower bound (default -1).
        max_val: the upper bound (default 1).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.hardtanh(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-1.,  0.,  1.])
""",
    "hardsigmoid": """\
    Applies the piecewise-linear sigmoid ``clamp(x / 6 + 1 / 2, 0, 1)``.

    Args:
        input: the input tensor.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.hardsigmoid(ember.tensor([-4.0, 0.0, 1.0]))
        tensor([0.0000, 0.5000, 0.6667])
""",
    "hardswish": """\
    Applies ``x * hardsigmoid(x)`` elementwise.

    Args:
        input: the input tensor.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.hardswish(ember.tensor([-4.0, 0.0, 1.0]))
        tensor([-0.0000, 0.0000, 0.6667])
""",
    "hardshrink": """\
    Zeroes the elements with ``|x| <= lambd``.

    Args:
        input: the input tensor.
        lambd: the threshold (default 0.5).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.hardshrink(ember.tensor([-1.0, 0.2, 0.7]))
        tensor([-1.0000,  0.0000,  0.7000])
""",
    "softshrink": """\
    Shrinks each element toward zero by ``lambd`` (zero inside [-lambd, lambd]).

    Args:
        input: the input tensor.
        lambd: the shrinkage (default 0.5).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.softshrink(ember.tensor([-1.0, 0.2, 0.7]))
        tensor([-0.5000,  0.0000,  0.2000])
""",
    "tanhshrink": """\
    Applies ``x - tanh(x)`` elementwise.

    Args:
        input: the input tensor.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.tanhshrink(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-1.0360,  0.0000,  1.0360])
""",
    "threshold": """\
    Replaces the elements not greater than ``threshold`` with ``value``.

    Args:
        input: the input tensor.
        threshold: the threshold.
        value: the replacement.
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.threshold(ember.tensor([-1.0, 0.5, 2.0]), 1.0, 0.0)
        tensor([0., 0., 2.])
""",
    "rrelu": """\
    Randomised leaky ReLU: negative elements get a random slope in training.

    The slope of each negative element is drawn from U(lower, upper) in training; otherwise it
    is their mean.

    Args:
        input: the input tensor.
        lower: the lowest slope (default 1/8).
        upper: the highest slope (default 1/3).
        training: draw random slopes (default False: use the mean slope).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.rrelu(ember.tensor([-2.0, 0.0, 2.0]))
        tensor([-0.4583,  0.0000,  2.0000])
""",
    "glu": """\
    The gated linear unit ``a * sigmoid(b)`` of the two halves ``a, b`` of ``input``.

    Args:
        input: the input tensor.
        dim: the dimension to split (default -1); its size must be even.

    Returns:
        A tensor with ``dim`` halved.

    Example:
        >>> F.glu(ember.tensor([[1.0, 2.0, 0.0, 100.0]]))
        tensor([[0.5000, 2.0000]])
""",
    "prelu": """\
    Applies ``x`` for positive elements and ``weight * x`` otherwise (learned slopes).

    Args:
        input: the input tensor.
        weight: the slopes: one value, or one per channel (dimension 1).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.prelu(ember.tensor([-2.0, 1.0]), ember.tensor([0.25]))
        tensor([-0.5000,  1.0000])
""",
    "softmax": """\
    Applies softmax along ``dim``: the entries along it become positive and sum to 1.

    Args:
        input: the input tensor.
        dim: the dimension to normalise over (pass it: None picks one as old PyTorch did, with a
            warning).
        dtype: cast ``input`` to this dtype first.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.softmax(ember.tensor([[1.0, 2.0, 3.0]]), dim=1)
        tensor([[0.0900, 0.2447, 0.6652]])
""",
    "softmin": """\
    Applies softmax to ``-input`` along ``dim``.

    Args:
        input: the input tensor.
        dim: the dimension to normalise over.
        dtype: cast ``input`` to this dtype first.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.softmin(ember.tensor([[1.0, 2.0, 3.0]]), dim=1)
        tensor([[0.6652, 0.2447, 0.0900]])
""",
    "log_softmax": """\
    Applies ``log(softmax(input))`` along ``dim``, computed stably.

    Pair it with ``nll_loss``; ``cross_entropy`` does both in one call.

    Args:
        input: the input tensor.
        dim: the dimension to normalise over.
        dtype: cast ``input`` to this dtype first.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.log_softmax(ember.tensor([[1.0, 2.0, 3.0]]), dim=1)
        tensor([[-2.4076, -1.4076, -0.4076]])
""",
    "gumbel_softmax": """\
    Samples from the Gumbel-softmax distribution.

    With ``hard=True`` the samples are one-hot vectors whose gradient is the soft sample's (the
    straight-through estimator).

    Args:
        logits: unnormalised log-probabilities.
        tau: the temperature (default 1).
        hard: return one-hot vectors, with the soft sample's gradient (default False).
        eps: a small number added for numerical stability.
        dim: the dimension of the categories (default -1).

    Returns:
        A tensor of ``logits``'s shape; its entries along ``dim`` sum to 1.

    Example:
        >>> y = F.gumbel_softmax(ember.zeros(2, 3), hard=True)
        >>> y.sum(dim=1)
        tensor([1., 1.])
""",
    "linear": """\
    Applies the affine map ``input @ weight.T + bias``.

    Args:
        input: a tensor ``(*, in_features)``.
        weight: a matrix ``(out_features, in_features)``.
        bias: optional ``(out_features,)`` vector.

    Returns:
        A tensor ``(*, out_features)``.

    Example:
        >>> F.linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4))
        tensor([[3., 3., 3., 3.],
                [3., 3., 3., 3.]])
""",
    "bilinear": """\
    Applies the bilinear map ``x1^T A x2 + b`` for each output feature.

    Args:
        input1: a tensor ``(*, in1)``.
        input2: a tensor ``(*, in2)``.
        weight: a tensor ``(out, in1, in2)``.
        bias: optional ``(out,)``.

    Returns:
        A tensor ``(*, out)``.

    Example:
        >>> F.bilinear(ember.ones(1, 2), ember.ones(1, 3), ember.ones(4, 2, 3))
        tensor([[6., 6., 6., 6.]])
""",
    "dropout": """\
    Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``.

    Only when ``training`` is True; otherwise ``input`` is returned unchanged. ``nn.Dropout``
    passes the module's mode.

    Args:
        input: the input tensor.
        p: the probability of zeroing an element (default 0.5).
        training: apply the operation (True) or return ``input`` unchanged (False).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> x = ember.ones(8)
        >>> y = F.dropout(x, p=0.5)
        >>> sorted(set(y.tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
        >>> F.dropout(x, p=0.5, training=False) is x
        True
""",
    "dropout1d": """\
    Zeroes whole channels of ``(N, C, L)`` input with probability ``p``.

    Args:
        input: the input tensor.
        p: the probability of zeroing an element (default 0.5).
        training: apply the operation (True) or return ``input`` unchanged (False).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.dropout1d(ember.ones(2, 3, 4), training=False).shape
        torch.Size([2, 3, 4])
""",
    "dropout2d": """\
    Zeroes whole channels of ``(N, C, H, W)`` input with probability ``p``.

    Args:
        input: the input tensor.
        p: the probability of zeroing an element (default 0.5).
        training: apply the operation (True) or return ``input`` unchanged (False).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> y = F.dropout2d(ember.ones(1, 8, 2, 2))
        >>> bool(((y == 0) | (y == 2)).all())
        True
""",
    "dropout3d": """\
    Zeroes whole channels of ``(N, C, D, H, W)`` input with probability ``p``.

    Args:
        input: the input tensor.
        p: the probability of zeroing an element (default 0.5).
        training: apply the operation (True) or return ``input`` unchanged (False).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.dropout3d(ember.ones(1, 2, 2, 2, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
""",
    "alpha_dropout": """\
    Dropout that keeps the mean and variance of SELU activations.

    Args:
        input: the input tensor.
        p: the probability of zeroing an element (default 0.5).
        training: apply the operation (True) or return ``input`` unchanged (False).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.alpha_dropout(ember.ones(4), training=False)
        tensor([1., 1., 1., 1.])
""",
    "feature_alpha_dropout": """\
    Alpha dropout of whole channels.

    Args:
        input: the input tensor.
        p: the probability of zeroing an element (default 0.5).
        training: apply the operation (True) or return ``input`` unchanged (False).
        inplace: overwrite ``input`` with the result (default False).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.feature_alpha_dropout(ember.ones(1, 2, 3), training=False).shape
        torch.Size([1, 2, 3])
""",
    "one_hot": """\
    Encodes integer class labels as one-hot vectors.

    Args:
        tensor: an int64 tensor of class indices.
        num_classes: the number of classes (default -1: ``tensor.max() + 1``).

    Returns:
        An int64 tensor with a new last dimension of length ``num_classes``.

    Example:
        >>> F.one_hot(ember.tensor([0, 2]), num_classes=3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
""",
    "embedding": """\
    Looks up rows of ``weight`` by index.

    Args:
        input: an int64 tensor of indices.
        weight: the embedding matrix ``(num_embeddings, embedding_dim)``.
        padding_idx: an index whose row gets no gradient.
        max_norm: renormalise looked-up rows whose norm exceeds this, in place.
        norm_type: the p of the norm for ``max_norm`` (default 2).
        scale_grad_by_freq: scale gradients by the inverse frequency of the indices in the
            batch.
        sparse: produce a sparse gradient for ``weight``.

    Returns:
        A tensor ``input.shape + (embedding_dim,)``.

    Example:
        >>> w = ember.arange(6.0).reshape(3, 2)
        >>> F.embedding(ember.tensor([2, 0]), w)
        tensor([[4., 5.],
                [0., 1.]])
""",
    "batch_norm": """\
    Normalises each channel (dimension 1) with batch statistics or running ones.

    Args:
        input: a tensor ``(N, C, *)``.
        running_mean: the per-channel running mean (updated in training), or None.
        running_var: the per-channel running variance, or None.
        weight: optional per-channel scale.
        bias: optional per-channel shift.
        training: normalise with the batch's statistics and update the running ones (default
            False: use the running ones).
        momentum: the running averages' update factor (default 0.1).
        eps: added to the variance (default 1e-5).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> x = ember.tensor([[1.0], [3.0]])
        >>> F.batch_norm(x, None, None, training=True)
        tensor([[-1.0000],
                [ 1.0000]])
""",
    "layer_norm": """\
    Normalises over the last dimensions given by ``normalized_shape``.

    Args:
        input: the input tensor.
        normalized_shape: the shape of the trailing dimensions to normalise over.
        weight: optional elementwise scale of that shape.
        bias: optional elementwise shift.
        eps: added to the variance (default 1e-5).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.layer_norm(ember.tensor([[1.0, 3.0]]), (2,))
        tensor([[-1.0000,  1.0000]])
""",
    "group_norm": """\
    Normalises groups of channels, each over its channels and positions.

    Args:
        input: the input tensor.
        num_groups: the number of groups; it must divide the channel count.
        weight: optional per-channel scale.
        bias: optional per-channel shift.
        eps: added to the variance (default 1e-5).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.group_norm(ember.randn(2, 4, 3), 2).shape
        torch.Size([2, 4, 3])
""",
    "instance_norm": """\
    Normalises each channel of each sample over its positions.

    Args:
        input: the input tensor.
        running_mean: optional running mean (updated when ``use_input_stats``).
        running_var: optional running variance.
        weight: optional per-channel scale.
        bias: optional per-channel shift.
        use_input_stats: normalise with the sample's own statistics (default True).
        momentum: the running averages' update factor (default 0.1).
        eps: added to the variance (default 1e-5).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.instance_norm(ember.tensor([[[1.0, 3.0]]]))
        tensor([[[-1.0000,  1.0000]]])
""",
    "rms_norm": """\
    Divides by the root mean square over the trailing ``normalized_shape`` dimensions.

    Args:
        input: the input tensor.
        normalized_shape: the shape of the trailing dimensions.
        weight: optional elementwise scale.
        eps: added to the mean square (default: the dtype's eps).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.rms_norm(ember.tensor([[3.0, 4.0]]), (2,))
        tensor([[0.8485, 1.1314]])
""",
    "local_response_norm": """\
    Normalises each element by the activity of neighbouring channels.

    Args:
        input: the input tensor.
        size: how many neighbouring channels.
        alpha: the multiplier (default 1e-4).
        beta: the exponent (default 0.75).
        k: the additive constant (default 1).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.local_response_norm(ember.ones(1, 4, 2, 2), 2).shape
        torch.Size([1, 4, 2, 2])
""",
    "normalize": """\
    Divides each vector along ``dim`` by its p-norm.

    Args:
        input: the input tensor.
        p: the norm order (default 2).
        dim: the dimension (default 1).
        eps: the smallest divisor (default 1e-12).
        out: optional tensor to write the result into (resized to the result's shape).

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> F.normalize(ember.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
""",
    "cross_entropy": """\
    The cross-entropy loss between logits and class targets.

    Applies ``log_softmax`` over the class dimension (1) and then ``nll_loss``. Targets are
    class indices, or class probabilities of ``input``'s shape.

    Args:
        input: unnormalised logits ``(N, C)`` (or ``(N, C, d1, ...)``).
        target: class indices ``(N,)`` in [0, C), or probabilities ``(N, C)``.
        weight: optional per-class weights ``(C,)``.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        ignore_index: a target value that contributes neither loss nor gradient (default -100).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        label_smoothing: the amount of probability spread uniformly over the classes (default
            0).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> logits = ember.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
        >>> F.cross_entropy(logits, ember.tensor([0, 2]))
        tensor(0.1672)
        >>> F.cross_entropy(logits, ember.tensor([0, 2]), reduction='none')
        tensor([0.2395, 0.0949])
""",
    "nll_loss": """\
    The negative log-likelihood loss of log-probabilities and class targets.

    Args:
        input: log-probabilities ``(N, C)`` (e.g. from ``log_softmax``).
        target: class indices ``(N,)``.
        weight: optional per-class weights.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        ignore_index: a target value to skip (default -100).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> logp = ember.log(ember.tensor([[0.5, 0.5], [0.9, 0.1]]))
        >>> F.nll_loss(logp, ember.tensor([0, 0]))
        tensor(0.3993)
""",
    "mse_loss": """\
    The mean squared error ``(input - target) ** 2``.

    Args:
        input: the input tensor.
        target: the targets.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        weight: optional elementwise weights (broadcast).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.mse_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor(2.5000)
""",
    "l1_loss": """\
    The mean absolute error ``|input - target|``.

    Args:
        input: the input tensor.
        target: the targets.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        weight: optional elementwise weights (broadcast).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.l1_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor(1.5000)
""",
    "smooth_l1_loss": """\
    Squared error below ``beta``, absolute error above it (smoothly joined).

    Args:
        input: the input tensor.
        target: the targets.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        beta: where the loss switches from squared to linear (default 1).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.smooth_l1_loss(ember.tensor([0.5, 3.0]), ember.zeros(2), reduction='none')
        tensor([0.1250, 2.5000])
""",
    "huber_loss": """\
    Squared error below ``delta``, linear above it: ``smooth_l1_loss`` scaled by ``delta``.

    Args:
        input: the input tensor.
        target: the targets.
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        delta: where the loss switches (default 1).
        weight: optional elementwise weights.

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.huber_loss(ember.tensor([0.5, 3.0]), ember.zeros(2), reduction='none')
        tensor([0.1250, 2.5000])
""",
    "binary_cross_entropy": """\
    The binary cross-entropy between probabilities and 0/1 targets.

    ``input`` must be in [0, 1]; the logarithms are clamped to >= -100 as in PyTorch. Prefer
    ``binary_cross_entropy_with_logits``, which is stabler.

    Args:
        input: probabilities.
        target: targets in [0, 1], of ``input``'s shape.
        weight: optional elementwise weights.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.binary_cross_entropy(ember.tensor([0.9, 0.2]), ember.tensor([1.0, 0.0]))
        tensor(0.1643)
""",
    "binary_cross_entropy_with_logits": """\
    The binary cross-entropy of ``sigmoid(input)``, computed stably from logits.

    Args:
        input: logits.
        target: targets in [0, 1].
        weight: optional elementwise weights.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        pos_weight: optional weight of the positive term, per class.

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.binary_cross_entropy_with_logits(ember.tensor([2.0, -1.0]), ember.tensor([1.0, 0.0]))
        tensor(0.2201)
""",
    "kl_div": """\
    The Kullback-Leibler divergence loss ``target * (log(target) - input)``.

    ``input`` holds log-probabilities. Use ``reduction='batchmean'`` for the mathematical KL
    divergence per sample (``'mean'`` divides by every element).

    Args:
        input: log-probabilities.
        target: probabilities (or log-probabilities with ``log_target``).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'``, ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target: ``target`` is given as log-probabilities (default False).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> p = ember.tensor([[0.5, 0.5]])
        >>> F.kl_div(ember.log(ember.tensor([[0.9, 0.1]])), p, reduction='batchmean')
        tensor(0.5108)
""",
    "poisson_nll_loss": """\
    The negative log-likelihood of a Poisson distribution.

    Args:
        input: the rate's logarithm (or the rate without ``log_input``).
        target: the observed counts.
        log_input: ``input`` is the log-rate (default True).
        full: add the Stirling term of ``log(target!)`` (default False).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        eps: added to the rate before its log when ``log_input`` is False.
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.poisson_nll_loss(ember.zeros(2), ember.tensor([1.0, 2.0]))
        tensor(1.)
""",
    "gaussian_nll_loss": """\
    The negative log-likelihood of a Gaussian with predicted mean and variance.

    Args:
        input: the predicted means.
        target: the observations.
        var: the predicted variances (positive; a tensor or a number).
        full: add the constant ``log(2 pi) / 2`` (default False).
        eps: the smallest variance used (default 1e-6).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.gaussian_nll_loss(ember.zeros(2), ember.ones(2), ember.ones(2))
        tensor(0.5000)
""",
    "hinge_embedding_loss": """\
    A loss for 1/-1 labelled distances: ``x`` for +1 pairs, ``max(0, margin - x)`` for -1.

    Args:
        input: the input tensor.
        target: labels 1 or -1.
        margin: the margin (default 1).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.hinge_embedding_loss(ember.tensor([0.3, 0.3]), ember.tensor([1.0, -1.0]))
        tensor(0.5000)
""",
    "margin_ranking_loss": """\
    ``max(0, -target * (input1 - input2) + margin)``: ranks pairs by the sign of ``target``.

    Args:
        input1: the first scores.
        input2: the second scores.
        target: 1 where ``input1`` should rank higher, -1 where lower.
        margin: the margin (default 0).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.margin_ranking_loss(ember.tensor([1.0]), ember.tensor([2.0]), ember.tensor([1.0]))
        tensor(1.)
""",
    "cosine_embedding_loss": """\
    A loss on cosine similarity: ``1 - cos`` for +1 pairs, ``max(0, cos - margin)`` for -1.

    Args:
        input1: the first vectors ``(N, D)``.
        input2: the second vectors.
        target: labels 1 or -1, ``(N,)``.
        margin: the margin (default 0).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> a, b = ember.tensor([[1.0, 0.0]]), ember.tensor([[0.0, 1.0]])
        >>> F.cosine_embedding_loss(a, b, ember.tensor([1.0]))
        tensor(1.)
""",
    "triplet_margin_loss": """\
    The triplet loss ``max(d(a, p) - d(a, n) + margin, 0)``.

    It pulls each positive closer to its anchor than the negative, by a margin.

    Args:
        anchor: the anchors ``(N, D)``.
        positive: the positives.
        negative: the negatives.
        margin: the margin (default 1).
        p: the norm order of the distance (default 2).
        eps: added inside the distance (default 1e-6).
        swap: use the distance between positive and negative when smaller (default False).
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> a, p, n = ember.zeros(1, 2), ember.zeros(1, 2), ember.ones(1, 2)
        >>> F.triplet_margin_loss(a, p, n)
        tensor(0.)
""",
    "soft_margin_loss": """\
    The two-class logistic loss ``log(1 + exp(-target * input))``.

    Args:
        input: the input tensor.
        target: labels 1 or -1.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.soft_margin_loss(ember.tensor([0.0]), ember.tensor([1.0]))
        tensor(0.6931)
""",
    "multilabel_soft_margin_loss": """\
    The multi-label one-versus-all loss on logits.

    Args:
        input: the input tensor.
        target: 0/1 labels ``(N, C)``.
        weight: optional per-class weights.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.multilabel_soft_margin_loss(ember.zeros(1, 2), ember.tensor([[1.0, 0.0]]))
        tensor(0.6931)
""",
    "multi_margin_loss": """\
    The multi-class hinge loss.

    Args:
        input: the input tensor.
        target: class indices ``(N,)``.
        p: 1 or 2 (default 1).
        margin: the margin (default 1).
        weight: optional per-class weights.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> F.multi_margin_loss(ember.tensor([[0.1, 0.8, 0.4]]), ember.tensor([1]))
        tensor(0.3000)
""",
    "multilabel_margin_loss": """\
    The multi-class multi-label hinge loss.

    Args:
        input: the input tensor.
        target: per sample, the target class indices, padded with -1 ``(N, C)``.
        size_average: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduce: deprecated spelling of ``reduction`` (None: use ``reduction``).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> x = ember.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> F.multilabel_margin_loss(x, ember.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
""",
    "ctc_loss": """\
    The connectionist temporal classification loss.

    Args:
        log_probs: log-probabilities ``(T, N, C)``.
        targets: the target sequences, ``(N, S)`` padded or concatenated 1-D.
        input_lengths: the length of each input sequence ``(N,)``.
        target_lengths: the length of each target sequence ``(N,)``.
        blank: the blank label (default 0).
        reduction: ``'mean'`` (default: the mean over the elements), ``'sum'`` or ``'none'``
            (the per-element losses).
        zero_infinity: replace infinite losses (impossible alignments) by 0.

    Returns:
        A 0-dim tensor, or per-element losses with ``reduction='none'``.

    Example:
        >>> lp = ember.randn(5, 1, 3).log_softmax(2)
        >>> F.ctc_loss(lp, ember.tensor([[1, 2]]), ember.tensor([5]), ember.tensor([2])).shape
        torch.Size([])
""",
    "cosine_similarity": """\
    The cosine of the angle between ``x1`` and ``x2`` along ``dim``.

    Args:
        x1: the first tensor.
        x2: the second (broadcast).
        dim: the dimension of the vectors (default 1).
        eps: the smallest norm used (default 1e-8).

    Returns:
        A tensor with ``dim`` removed.

    Example:
        >>> F.cosine_similarity(ember.tensor([[1.0, 0.0]]), ember.tensor([[1.0, 1.0]]))
        tensor([0.7071])
""",
    "pairwise_distance": """\
    The p-norm distance between the rows of ``x1`` and ``x2``.

    Args:
        x1: a tensor ``(N, D)``.
        x2: a tensor ``(N, D)`` (broadcast).
        p: the norm order (default 2).
        eps: added to the difference (default 1e-6).
        keepdim: keep the vector dimension (default False).

    Returns:
        A tensor ``(N,)``.

    Example:
        >>> F.pairwise_distance(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0]]))
        tensor([5.0000])
""",
    "pdist": """\
    The p-norm distances between every pair of rows of a 2-D tensor.

    Args:
        input: the input tensor.
        p: the norm order (default 2).

    Returns:
        A 1-D tensor of the ``N * (N - 1) / 2`` upper-triangle distances.

    Example:
        >>> F.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.0000, 1.0000, 4.2426])
""",
    "pad": """\
    Pads a tensor's trailing dimensions.

    Args:
        input: the input tensor.
        pad: the amounts, last dimension first: ``(left, right)``, ``(left, right, top,
            bottom)``, ...; negative values crop.
        mode: ``'constant'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``.
        value: the fill value for ``'constant'`` (default 0).

    Returns:
        A new tensor.

    Example:
        >>> F.pad(ember.tensor([[1, 2]]), (1, 2))
        tensor([[0, 1, 2, 0, 0]])
        >>> F.pad(ember.tensor([[[1.0, 2.0, 3.0]]]), (2, 0), mode='reflect')
        tensor([[[3., 2., 1., 2., 3.]]])
""",
    "interpolate": """\
    Resizes a batch of 1-D, 2-D or 3-D signals (up- or down-sampling).

    Args:
        input: a tensor ``(N, C, *spatial)``.
        size: the output spatial size.
        scale_factor: the multiplier of the spatial size (instead of ``size``).
        mode: ``'nearest'`` (default), ``'nearest-exact'``, ``'linear'``, ``'bilinear'``,
            ``'bicubic'``, ``'trilinear'`` or ``'area'``.
        align_corners: for the linear modes: align the corner pixels' centres (default False).
        recompute_scale_factor: compute the scale used from the output size.
        antialias: low-pass filter when downsampling (bilinear/bicubic).

    Returns:
        A tensor ``(N, C, *new_spatial)``.

    Example:
        >>> F.interpolate(ember.tensor([[[1.0, 2.0]]]), scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
        >>> F.interpolate(ember.tensor([[[1.0, 2.0]]]), size=3, mode='linear', align_corners=True)
        tensor([[[1.0000, 1.5000, 2.0000]]])
""",
    "upsample": """\
    Resizes a batch of signals (the older name of ``interpolate``).

    Args:
        input: a tensor ``(N, C, *spatial)``.
        size: the output size.
        scale_factor: the multiplier of the size.
        mode: as ``interpolate``.
        align_corners: as ``interpolate``.

    Returns:
        A resized tensor.

    Example:
        >>> F.upsample(ember.ones(1, 1, 2), scale_factor=2).shape
        torch.Size([1, 1, 4])
""",
    "pixel_shuffle": """\
    Rearranges ``(N, C*r*r, H, W)`` into ``(N, C, H*r, W*r)``.

    Args:
        input: the input tensor.
        upscale_factor: r.

    Returns:
        A rearranged tensor.

    Example:
        >>> F.pixel_shuffle(ember.zeros(1, 4, 2, 2), 2).shape
        torch.Size([1, 1, 4, 4])
""",
    "pixel_unshuffle": """\
    Rearranges ``(N, C, H*r, W*r)`` into ``(N, C*r*r, H, W)``.

    Args:
        input: the input tensor.
        downscale_factor: r.

    Returns:
        A rearranged tensor.

    Example:
        >>> F.pixel_unshuffle(ember.zeros(1, 1, 4, 4), 2).shape
        torch.Size([1, 4, 2, 2])
""",
    "unfold": """\
    Extracts sliding local blocks of a batch of images into columns (im2col).

    Args:
        input: a tensor ``(N, C, H, W)``.
        kernel_size: the block size.
        dilation: the spacing between block elements (default 1).
        padding: zero padding on both sides (default 0).
        stride: the step between blocks (default 1).

    Returns:
        A tensor ``(N, C * prod(kernel_size), L)`` with L the number of blocks.

    Example:
        >>> F.unfold(ember.zeros(1, 2, 4, 4), kernel_size=2, stride=2).shape
        torch.Size([1, 8, 4])
""",
    "fold": """\
    Combines columns of sliding blocks back into images, summing overlaps (col2im).

    Args:
        input: a tensor ``(N, C * prod(kernel_size), L)``.
        output_size: the spatial size of the result.
        kernel_size: the block size.
        dilation: as ``unfold``.
        padding: as ``unfold``.
        stride: as ``unfold``.

    Returns:
        A tensor ``(N, C, *output_size)``.

    Example:
        >>> F.fold(ember.ones(1, 4, 4), output_size=(4, 4), kernel_size=2, stride=2).shape
        torch.Size([1, 1, 4, 4])
""",
    "scaled_dot_product_attention": """\
    Attention ``softmax(q @ k.T * scale + mask) @ v`` over the last two dimensions.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        attn_mask: a bool mask (True: attend) or an additive float mask, broadcast to ``(..., L,
            S)``.
        dropout_p: dropout probability on the attention weights (default 0).
        is_causal: mask out future positions (cannot be combined with ``attn_mask``).
        scale: the factor on the scores (default ``1 / sqrt(E)``).
        enable_gqa: allow fewer key/value heads than query heads (grouped-query attention).

    Returns:
        A tensor ``(..., L, Ev)``.

    Example:
        >>> q = k = v = ember.ones(1, 2, 3, 4)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        torch.Size([1, 2, 3, 4])
""",
    "grid_sample": """\
    Samples ``input`` at the (x, y) locations of ``grid`` in [-1, 1] coordinates.

    Args:
        input: ``(N, C, H, W)`` (or 5-D).
        grid: ``(N, Ho, Wo, 2)`` sampling locations.
        mode: ``'bilinear'`` (default), ``'nearest'`` or ``'bicubic'``.
        padding_mode: ``'zeros'`` (default), ``'border'`` or ``'reflection'``.
        align_corners: whether -1 and 1 are the corner pixels' centres (default False).

    Returns:
        A tensor ``(N, C, Ho, Wo)``.

    Example:
        >>> grid = F.affine_grid(ember.eye(2, 3).unsqueeze(0), (1, 1, 2, 2), align_corners=False)
        >>> x = ember.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> F.grid_sample(x, grid, align_corners=False)
        tensor([[[[1., 2.],
                  [3., 4.]]]])
""",
    "affine_grid": """\
    Builds the sampling grid of an affine transform, for ``grid_sample``.

    Args:
        theta: affine matrices ``(N, 2, 3)`` (or ``(N, 3, 4)`` for 3-D).
        size: the target size ``(N, C, H, W)`` (or 5-D).
        align_corners: as ``grid_sample`` (default False).

    Returns:
        A grid ``(N, H, W, 2)`` (or ``(N, D, H, W, 3)``).

    Example:
        >>> F.affine_grid(ember.eye(2, 3).unsqueeze(0), (1, 1, 2, 2), align_corners=False).shape
        torch.Size([1, 2, 2, 2])
""",
    "avg_pool2d": """\
    2-D average pooling over ``(N, C, H, W)`` input.

    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit zero padding (default 0).
        ceil_mode: round the output size up (default False).
        count_include_pad: count the padding in the divisor (default True).
        divisor_override: divide by this instead of the window size.

    Returns:
        A tensor ``(N, C, Ho, Wo)``.

    Example:
        >>> F.avg_pool2d(ember.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
""",
    "avg_pool3d": """\
    3-D average pooling over ``(N, C, D, H, W)`` input.

    Args:
        input: the input tensor.
        kernel_size: the window size.
        stride: the step (default: the window size).
        padding: implicit zero padding (default 0).
        ceil_mode: round the output size up (default False).
        count_include_pad: count the padding in the divisor (default True).
        divisor_override: divide by this instead of the window size.

    Returns:
        A tensor ``(N, C, Do, Ho, Wo)``.

    Example:
        >>> F.avg_pool3d(ember.ones(1, 1, 2, 2, 2), 2).shape
        torch.Size([1, 1, 1, 1, 1])
""",
    "adaptive_avg_pool1d": """\
    1-D average pooling to a fixed output length.

    Args:
        input: the input tensor.
        output_size: the output length.

    Returns:
        A tensor ``(N, C, output_size)``.

    Example:
        >>> F.adaptive_avg_pool1d(ember.arange(6.0).reshape(1, 1, 6), 2)
        tensor([[[1., 4.]]])
""",
    "adaptive_avg_pool2d": """\
    2-D average pooling to a fixed output size.

    Args:
        input: the input tensor.
        output_size: the output ``(H, W)`` (an int for both; None keeps one).

    Returns:
        A tensor ``(N, C, *output_size)``.

    Example:
        >>> F.adaptive_avg_pool2d(ember.ones(1, 3, 7, 5), 1).shape
        torch.Size([1, 3, 1, 1])
""",
    "adaptive_max_pool1d": """\
    1-D max pooling to a fixed output length.

    Args:
        input: the input tensor.
        output_size: the output length.
        return_indices: also return the positions of the maxima.

    Returns:
        A tensor, or ``(values, indices)``.

    Example:
        >>> F.adaptive_max_pool1d(ember.tensor([[[1.0, 5.0, 2.0, 3.0]]]), 2)
        tensor([[[5., 3.]]])
""",
    "adaptive_max_pool2d": """\
    2-D max pooling to a fixed output size.

    Args:
        input: the input tensor.
        output_size: the output ``(H, W)``.
        return_indices: also return the positions of the maxima.

    Returns:
        A tensor, or ``(values, indices)``.

    Example:
        >>> F.adaptive_max_pool2d(ember.arange(16.0).reshape(1, 1, 4, 4), 1)
        tensor([[[[15.]]]])
""",
    "lp_pool1d": """\
    1-D power-average pooling: ``sum(x ** p) ** (1 / p)`` over each window.

    Args:
        input: the input tensor.
        norm_type: p.
        kernel_size: the window size.
        stride: the step (default: the window size).
        ceil_mode: round the output size up.

    Returns:
        A pooled tensor.

    Example:
        >>> F.lp_pool1d(ember.tensor([[[3.0, 4.0]]]), 2, 2)
        tensor([[[5.]]])
""",
    "lp_pool2d": """\
    2-D power-average pooling: ``sum(x ** p) ** (1 / p)`` over each window.

    Args:
        input: the input tensor.
        norm_type: p.
        kernel_size: the window size.
        stride: the step (default: the window size).
        ceil_mode: round the output size up.

    Returns:
        A pooled tensor.

    Example:
        >>> F.lp_pool2d(ember.ones(1, 1, 2, 2), 1, 2)
        tensor([[[[4.]]]])
""",
    "max_unpool1d": """\
    Inverts ``max_pool1d``: puts each value back at its index, zeros elsewhere.

    Args:
        input: the input tensor.
        indices: the indices from ``max_pool1d(..., return_indices=True)``.
        kernel_size: the pooling window.
        stride: the pooling step (default: the window).
        padding: the pooling padding.
        output_size: the exact output size, when ambiguous.

    Returns:
        A tensor of the pre-pooling size.

    Example:
        >>> v, i = F.max_pool1d(ember.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
        >>> F.max_unpool1d(v, i, 2)
        tensor([[[0., 3., 2., 0.]]])
""",
    "max_unpool2d": """\
    Inverts ``max_pool2d``: puts each value back at its index, zeros elsewhere.

    Args:
        input: the input tensor.
        indices: the indices from ``max_pool2d(..., return_indices=True)``.
        kernel_size: the pooling window.
        stride: the pooling step (default: the window).
        padding: the pooling padding.
        output_size: the exact output size, when ambiguous.

    Returns:
        A tensor of the pre-pooling size.

    Example:
        >>> v, i = F.max_pool2d(ember.arange(4.0).reshape(1, 1, 2, 2), 2, return_indices=True)
        >>> F.max_unpool2d(v, i, 2)
        tensor([[[[0., 0.],
                  [0., 3.]]]])
""",
    # sections appended to the docstring written in ember/nn/_functional_seq.py
    "multi_head_attention_forward": """\
    Args:
        query: ``(L, N, E)`` or unbatched ``(L, E)``.
        key: ``(S, N, E)`` or ``(S, E)``.
        value: ``(S, N, E)`` or ``(S, E)``.
        embed_dim_to_check: ``E``, checked against the inputs (AssertionError otherwise).
        num_heads: heads; ``E`` must be divisible by it.
        in_proj_weight: ``(3E, E)``, the stacked q, k, v projections (unless
            ``use_separate_proj_weight``).
        in_proj_bias: ``(3E,)`` or None.
        bias_k: ``(1, 1, E)`` appended to the keys, or None.
        bias_v: ``(1, 1, E)`` appended to the values, or None.
        add_zero_attn: append a zero key and value (one more source position).
        dropout_p: dropout on the attention weights while ``training``.
        out_proj_weight: ``(E, E)``, the output projection.
        out_proj_bias: ``(E,)`` or None.
        training: apply ``dropout_p``.
        key_padding_mask: ``(N, S)``; True (or ``-inf`` as a float mask) ignores a key.
        need_weights: also return the attention weights.
        attn_mask: ``(L, S)`` or ``(N * num_heads, L, S)``; boolean True blocks, a float mask
            is added to the scores.
        use_separate_proj_weight: use ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``.
        q_proj_weight: ``(E, E)`` with ``use_separate_proj_weight``.
        k_proj_weight: ``(E, kdim)`` with ``use_separate_proj_weight``.
        v_proj_weight: ``(E, vdim)`` with ``use_separate_proj_weight``.
        static_k: precomputed projected keys ``(N * num_heads, S, E / num_heads)``, or None.
        static_v: precomputed projected values, same shape, or None.
        average_attn_weights: average the returned weights over the heads.
        is_causal: a hint that ``attn_mask`` is the causal mask.

    Returns:
        ``(attn_output, attn_weights)``: ``(L, N, E)`` (``(L, E)`` unbatched), and the
        weights described above, or None when ``need_weights`` is False.

    Example:
        >>> E, heads = 4, 2
        >>> q = ember.randn(3, 1, E)        # (L, N, E)
        >>> out, w = F.multi_head_attention_forward(
        ...     q, q, q, E, heads, ember.randn(3 * E, E), ember.zeros(3 * E), None, None,
        ...     False, 0.0, ember.randn(E, E), ember.zeros(E))
        >>> out.shape, w.shape
        (torch.Size([3, 1, 4]), torch.Size([1, 3, 3]))
        >>> ember.allclose(w.sum(-1), ember.ones(1, 3))
        True
""",
}
