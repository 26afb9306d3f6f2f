"""``DataParallel`` and ``data_parallel``: single-device passthrough, as PyTorch on a machine
without GPUs.

PyTorch's DataParallel splits a batch across GPUs of one process; without GPUs it runs the
wrapped module as is and ignores ``device_ids`` (it sets them to ``[]``). ember has no
multi-GPU replication, so it does exactly that; for several CPUs or machines use
``DistributedDataParallel``.
"""

from __future__ import annotations

from ember.nn.modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Wrap ``module``; calling the wrapper calls the module (state_dict keys get PyTorch's
    ``module.`` prefix).

    Args:
        module: the module to wrap.
        device_ids, output_device, dim: PyTorch's; with no GPUs PyTorch ignores them
            (``device_ids`` becomes ``[]``), and so does ember.

    Example:
        >>> net = DataParallel(nn.Linear(3, 2))
        >>> list(net.state_dict())
        ['module.weight', 'module.bias']
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):  # noqa: ARG002 - as PyTorch's DataParallel without CUDA devices: the module runs as is
        super().__init__()
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,  # noqa: ARG001 - as PyTorch's data_parallel without CUDA devices: the module runs as is
                  module_kwargs=None):
    """Evaluate ``module(*inputs, **module_kwargs)`` (the functional form of DataParallel).

    Args:
        module: the module to run.
        inputs: a tensor or tuple of positional inputs.
        device_ids: accepted for compatibility (one device).
        output_device: accepted for compatibility.
        dim: the batch dimension (default 0).
        module_kwargs: keyword arguments for the module.

    Returns:
        The module's output.

    Example:
        >>> y = data_parallel(nn.Linear(3, 2), ember.randn(4, 3))
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))
