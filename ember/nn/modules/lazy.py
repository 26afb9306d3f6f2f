"""Lazy modules: layers whose input size is inferred from the first call.

NOTE [ Lazy modules ]
A Lazy layer is built with :class:`UninitializedParameter` (and, for norm layers,
:class:`UninitializedBuffer`) placeholders and a forward pre-hook. The first call runs
``initialize_parameters(*args)``, which reads the input's size, materializes the
placeholders in place and resets them with the layer's usual initialisation; the hook then
removes itself and the object becomes its ``cls_to_become`` (``LazyConv2d`` -> ``Conv2d``),
so later calls cost what the plain layer costs. A state dict of an unused Lazy layer holds
the placeholders themselves; loading a real tensor into a placeholder materializes it with
the tensor's shape first (PyTorch's rules: the layer keeps its Lazy class until its first
call, and loading a placeholder into a real parameter raises ``RuntimeError``).
"""

from __future__ import annotations

import itertools

from ember import _dtype as D
from ember._ops.creation import tensor
from ember.autograd.grad_mode import no_grad
from ember.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from ember.nn.modules.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                                   ConvTranspose3d)
from ember.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from ember.nn.modules.module import Module
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

__all__ = ["LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]


class LazyModuleMixin:
    """Mixin for modules whose parameters are created on the first call
    (NOTE [ Lazy modules ]).

    A subclass defines ``initialize_parameters(*args, **kwargs)`` to materialize its
    uninitialized parameters from the first input and names the class to become in
    ``cls_to_become``.

    Example:
        >>> m = nn.LazyLinear(4)
        >>> m.has_uninitialized_params()
        True
        >>> _ = m(ember.randn(2, 3)); type(m).__name__, m.weight.shape
        ('Linear', torch.Size([4, 3]))
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _add_infer_hook(self)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # placeholders are saved as themselves (they have no data to detach)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if (keep_vars or is_lazy(param)) \
                    else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if (keep_vars or is_lazy(buf)) \
                    else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        both_lazy = []
        for name, t in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if t is None or key not in state_dict or not is_lazy(t):
                continue
            src = state_dict[key]
            if is_lazy(src):
                both_lazy.append(key)  # nothing to copy
            else:
                with no_grad():
                    t.materialize(src.shape)
        if both_lazy:
            state_dict = {k: v for k, v in state_dict.items() if k not in both_lazy}
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
        for key in both_lazy:
            if key in missing_keys:
                missing_keys.remove(key)

    def initialize_parameters(self, *args, **kwargs):
        """Materialize the parameters from the first call's arguments (subclasses)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer is still a placeholder.

        Returns:
            True until the first call (or a state dict) gives them data.

        Example:
            >>> nn.LazyConv2d(4, 3).has_uninitialized_params()
            True
        """
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                        self._buffers.values()))

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize "
                           "the modules")


def _add_infer_hook(module):
    module._initialize_hook_id = module.register_forward_pre_hook(_infer_parameters,
                                                                  with_kwargs=True).id


def _infer_parameters(module, args, kwargs=None):
    """The forward pre-hook: materialize from the first call, then become the plain layer."""
    module.initialize_parameters(*args, **(kwargs or {}))
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    # by id, not a handle: a handle's weak reference would not survive copy or pickle
    hid = module.__dict__.pop("_initialize_hook_id")
    module._forward_pre_hooks.pop(hid, None)
    module._forward_pre_hooks_with_kwargs.pop(hid, None)
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


# --------------------------------------------------------------------------- convolutions
class _LazyConvXdMixin(LazyModuleMixin):
    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _lazy_setup(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def _get_in_channels(self, input):
        nd = self._nd
        if input.dim() not in (nd + 1, nd + 2):
            raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input "
                               f"to {type(self).__name__}, but got input of size: "
                               f"{input.shape}")
        return input.shape[1] if input.dim() == nd + 2 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs) -> None:  # noqa: ARG002 - forward's other arguments (output_size) do not shape the weight
        """Read ``in_channels`` from the input and create the weight and bias."""
        if not self.has_uninitialized_params():
            return
        with no_grad():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups,
                         *self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups,
                         *self.kernel_size)
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _lazy_conv(base, nd):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        # the plain layer with no channels and no bias; the placeholders replace them
        base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                      padding_mode, device, dtype)
        _add_infer_hook(self)
        self._lazy_setup(out_channels, bias, device, dtype)

    name = f"Lazy{base.__name__}"
    doc = f"""A :class:`{base.__name__}` whose ``in_channels`` is inferred from the first
    input (``input.shape[1]``, or ``shape[0]`` unbatched); it becomes a
    :class:`{base.__name__}` on that call.

    Args:
        out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
        device, dtype: as :class:`{base.__name__}`.

    Shape:
        As :class:`{base.__name__}`.

    Example:
        >>> m = nn.{name}(4, 3)
        >>> _ = m(ember.randn(1, 2{', 5' * nd}))
        >>> type(m).__name__, m.in_channels
        ('{base.__name__}', 2)
    """
    return type(name, (_LazyConvXdMixin, base), {
        "__init__": __init__, "cls_to_become": base, "__doc__": doc, "_nd": nd,
        "__module__": __name__})


def _lazy_conv_transpose(base, nd):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False,
                      dilation, padding_mode, device, dtype)
        _add_infer_hook(self)
        self._lazy_setup(out_channels, bias, device, dtype)

    name = f"Lazy{base.__name__}"
    doc = f"""A :class:`{base.__name__}` whose ``in_channels`` is inferred from the first
    input; it becomes a :class:`{base.__name__}` on that call.

    Args:
        out_channels, kernel_size, stride, padding, output_padding, groups, bias, dilation,
        padding_mode, device, dtype: as :class:`{base.__name__}`.

    Shape:
        As :class:`{base.__name__}`.

    Example:
        >>> m = nn.{name}(4, 2, stride=2)
        >>> _ = m(ember.randn(1, 3{', 4' * nd}))
        >>> m.weight.shape[:2]
        torch.Size([3, 4])
    """
    return type(name, (_LazyConvXdMixin, base), {
        "__init__": __init__, "cls_to_become": base, "__doc__": doc, "_nd": nd,
        "__module__": __name__})


LazyConv1d = _lazy_conv(Conv1d, 1)
LazyConv2d = _lazy_conv(Conv2d, 2)
LazyConv3d = _lazy_conv(Conv3d, 3)
LazyConvTranspose1d = _lazy_conv_transpose(ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv_transpose(ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv_transpose(ConvTranspose3d, 3)


# --------------------------------------------------------------------------- norms
class _LazyNormBase(LazyModuleMixin):
    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:  # noqa: ARG002 - only the input shapes the parameters
        """Read ``num_features`` from ``input.shape[1]`` and create the parameters and
        running statistics."""
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[1]
        with no_grad():
            if self.affine:
                self.weight.materialize((self.num_features,))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()


def _lazy_norm(base):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True) -> None:
        # the plain layer with no features, parameters or statistics; placeholders follow
        base.__init__(self, 0, eps, momentum, False, False, device, dtype)
        _add_infer_hook(self)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=D.int64, device=device)

    name = f"Lazy{base.__name__}"
    dims = {"BatchNorm1d": "2, 5", "BatchNorm2d": "2, 5, 3, 3", "BatchNorm3d": "2, 5, 2, 2, 2",
            "InstanceNorm1d": "2, 5, 4", "InstanceNorm2d": "2, 5, 3, 3",
            "InstanceNorm3d": "2, 5, 2, 2, 2"}[base.__name__]
    doc = f"""A :class:`{base.__name__}` whose ``num_features`` is inferred from
    ``input.shape[1]`` on the first call; it becomes a :class:`{base.__name__}` then.

    Args:
        eps, momentum: as :class:`{base.__name__}`.
        affine: learn a per-channel scale and shift (default True).
        track_running_stats: keep running statistics (default True).
        device, dtype: where and how the parameters are created.
        bias: with ``affine``, learn the shift too.

    Shape:
        As :class:`{base.__name__}`.

    Example:
        >>> m = nn.{name}()
        >>> _ = m(ember.randn({dims}))
        >>> type(m).__name__, m.num_features
        ('{base.__name__}', 5)
    """
    return type(name, (_LazyNormBase, base), {
        "__init__": __init__, "cls_to_become": base, "__doc__": doc,
        "__module__": __name__})


LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d)
