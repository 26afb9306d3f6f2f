"""``ember.nn.utils``: gradient clipping, parameter/vector conversion, the hook-based
``weight_norm``/``spectral_norm``; ``parametrize``, ``parametrizations``, ``rnn`` and other
submodules load on first use."""

from ember.nn.utils.clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from ember.nn.utils.clip_grad import get_total_norm, clip_grads_with_norm_
from ember.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
# Importing the functions rebinds the names ``weight_norm``/``spectral_norm`` from the
# submodules to the functions, as in PyTorch (``nn.utils.weight_norm(m)`` is a call).
from ember.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from ember.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_", "parameters_to_vector", "vector_to_parameters",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def __getattr__(name):
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name == f"{__name__}.{name}":
            raise AttributeError(f"module '{__name__}' has no attribute '{name}'") from None
        raise
