"""``parameters_to_vector`` and ``vector_to_parameters``."""

from __future__ import annotations

from collections.abc import Iterable

from ember._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Flatten and concatenate parameters into one 1-D tensor (differentiable).

    Args:
        parameters: an iterable of tensors.

    Returns:
        A 1-D tensor.

    Example::

        >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
        torch.Size([8])
    """
    from ember import cat

    vec = [p.reshape(-1) for p in parameters]
    if not vec:
        raise RuntimeError("parameters_to_vector(): expected a non-empty list of Tensors")
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of the 1-D ``vec`` into ``parameters`` (their ``.data`` is replaced).

    Args:
        vec: a 1-D tensor with as many elements as the parameters together.
        parameters: an iterable of tensors to write.

    Returns:
        None.

    Example::

        >>> m = nn.Linear(3, 2); nn.utils.vector_to_parameters(ember.zeros(8), m.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters(): vec of shape {list(vec.shape)} does not "
                           f"match the {total} elements of the parameters")
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
