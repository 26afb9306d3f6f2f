"""Shared helpers for the model zoo: the offline ``weights`` check and the model registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["check_weights", "register_model", "get_model", "get_model_builder", "list_models"]

_MODELS: dict[str, Callable[..., Any]] = {}


def check_weights(builder: str, weights: Any, kwargs: dict) -> None:
    """Refuse pretrained weights (ember downloads nothing) with a clear ``RuntimeError``.

    Also handles torchvision's deprecated ``pretrained=`` keyword (False is accepted).
    """
    pretrained = kwargs.pop("pretrained", False)
    kwargs.pop("progress", None)
    if weights is None and not pretrained:
        return
    raise RuntimeError(
        f"{builder}(weights={weights if weights is not None else 'pretrained'}): ember cannot "
        f"download pretrained weights (there may be no network). Build the model with "
        f"weights=None and load a torchvision state_dict file saved with torch.save: "
        f"model.load_state_dict(ember.load(path)).")


def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: make a model builder reachable through ``get_model(name)``."""
    _MODELS[fn.__name__] = fn
    return fn


def get_model_builder(name: str) -> Callable[..., Any]:
    """Return the builder function registered as ``name``.

    Args:
        name: the model's name (case-insensitive).

    Returns:
        The builder; ValueError for an unknown name.

    Example:
        >>> from ember.vision.models import resnet50
        >>> get_model_builder("ResNet50") is resnet50
        True
    """
    try:
        return _MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any) -> Any:
    """Build a model by name, e.g. ``get_model("resnet18", num_classes=10)``.

    Args:
        name: the model's name (see ``list_models``).
        **config: the builder's keyword arguments.

    Returns:
        The model.

    Example:
        >>> get_model("lenet").fc3.out_features
        10
    """
    return get_model_builder(name)(**config)


def list_models() -> list[str]:
    """Names of all registered model builders, sorted.

    Returns:
        A list of names.

    Example:
        >>> "resnet18" in list_models()
        True
    """
    return sorted(_MODELS)
