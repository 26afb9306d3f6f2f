"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d (PyTorch's parameters, init,
``padding_mode`` and repr)."""

from __future__ import annotations

import math

import ember
from ember._tensor import Tensor
from ember.nn import _functional_spatial as F
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]

_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        v = tuple(int(a) for a in v)
        return v * n if len(v) == 1 else v
    return (int(v),) * n


class _ConvNd(Module):
    _nd = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, output_padding=0) -> None:  # noqa: ARG002 - applied by the Module constructor wrapper (NOTE [ Layer devices ])
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _MODES:
            raise ValueError(f"padding_mode must be one of {list(_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        ks = _ntuple(kernel_size, nd)
        st = _ntuple(stride, nd)
        dl = _ntuple(dilation, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in st):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pd = padding
        else:
            pd = _ntuple(padding, nd)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ks
        self.stride = st
        self.padding = pd
        self.dilation = dl
        self.output_padding = _ntuple(output_padding, nd)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad order (last dim first), each side repeated: what a non-zeros mode pads with.
        if isinstance(pd, str):
            rev = []
            if pd == "same":
                for d, k in zip(reversed(dl), reversed(ks)):
                    total = d * (k - 1)
                    rev += [total // 2, total - total // 2]
            else:
                rev = [0, 0] * nd
        else:
            rev = [p for p in reversed(pd) for _ in range(2)]
        self._reversed_padding_repeated_twice = rev
        dt = dtype if dtype is not None else ember.get_default_dtype()
        if self.transposed:
            shape = (in_channels, out_channels // groups, *ks)
        else:
            shape = (out_channels, in_channels // groups, *ks)
        self.weight = Parameter(ember.empty(*shape, dtype=dt))
        if bias:
            self.bias = Parameter(ember.empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) and bias ~ U(-1/sqrt(fan_in), ...)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        nd = self._nd
        if self.padding != (0,) * nd:
            s += ", padding={padding}"
        if self.dilation != (1,) * nd:
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * nd:
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        nd = self._nd
        name = f"conv{nd}d"
        if self.padding_mode != "zeros":
            x = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return ember._ops.conv.convolution(name, x, weight, bias, self.stride, 0,
                                               self.dilation, self.groups, nd)
        return ember._ops.conv.convolution(name, input, weight, bias, self.stride,
                                           self.padding, self.dilation, self.groups, nd)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out).

    Args:
        in_channels, out_channels, kernel_size: as in PyTorch.
        stride, padding (int, tuple, ``'valid'``, ``'same'``), dilation, groups, bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``.
        - Output: ``(N, C_out, L_out)``, each ``out = floor((in + 2 * padding - dilation *
          (kernel_size - 1) - 1) / stride + 1)``.

    Example:
        >>> nn.Conv1d(4, 8, 3, padding=1)(ember.randn(2, 4, 10)).shape
        torch.Size([2, 8, 10])
    """

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    Weight ``(C_out, C_in / groups, kH, kW)``, bias ``(C_out,)``, PyTorch's default init.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: the size of the kernel (an int or a tuple).
        stride: the step of the kernel (default 1).
        padding: implicit padding on both sides: an int, a tuple, ``'valid'`` (none) or
            ``'same'`` (output size equals input size; stride 1 only).
        dilation: the spacing between kernel elements (default 1).
        groups: split the channels into this many independent groups (default 1).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or
            ``'circular'``.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        - Output: ``(N, C_out, H_out, W_out)``, each ``out = floor((in + 2 * padding -
          dilation * (kernel_size - 1) - 1) / stride + 1)``.

    Example:
        >>> nn.Conv2d(3, 16, 3)(ember.randn(8, 3, 32, 32)).shape
        torch.Size([8, 16, 30, 30])
    """

    _nd = 2


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: the size of the kernel (an int or a tuple).
        stride: the step of the kernel (default 1).
        padding: implicit padding on both sides: an int, a tuple, ``'valid'`` (none) or
            ``'same'`` (output size equals input size; stride 1 only).
        dilation: the spacing between kernel elements (default 1).
        groups: split the channels into this many independent groups (default 1).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or
            ``'circular'``.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``.
        - Output: ``(N, C_out, D_out, H_out, W_out)``, each ``out = floor((in + 2 * padding
          - dilation * (kernel_size - 1) - 1) / stride + 1)``.

    Example:
        >>> nn.Conv3d(2, 4, 3)(ember.randn(1, 2, 5, 5, 5)).shape
        torch.Size([1, 4, 3, 3, 3])
    """

    _nd = 3


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{type(self).__name__}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        nd = self._nd
        return ember._ops.conv.convolution_transpose(
            f"conv_transpose{nd}d", input, self.weight, self.bias, self.stride, self.padding,
            self.output_padding, self.groups, self.dilation, nd, output_size)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: the size of the kernel (an int or a tuple).
        stride: the step of the kernel (default 1).
        padding: ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides of
            the input (default 0).
        output_padding: extra size added to one side of the output, to choose among the
            sizes a strided convolution maps to the same input (default 0).
        groups: split the channels into this many independent groups (default 1).
        bias: learn an additive bias (default True).
        dilation: the spacing between kernel elements (default 1).
        padding_mode: only ``'zeros'`` is supported.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``.
        - Output: ``(N, C_out, L_out)``, each ``out = (in - 1) * stride - 2 * padding +
          dilation * (kernel_size - 1) + output_padding + 1``.

    Example:
        >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(ember.randn(1, 4, 5)).shape
        torch.Size([1, 2, 11])
    """

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution; weight ``(C_in, C_out / groups, kH, kW)``.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: the size of the kernel (an int or a tuple).
        stride: the step of the kernel (default 1).
        padding: ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides of
            the input (default 0).
        output_padding: extra size added to one side of the output, to choose among the
            sizes a strided convolution maps to the same input (default 0).
        groups: split the channels into this many independent groups (default 1).
        bias: learn an additive bias (default True).
        dilation: the spacing between kernel elements (default 1).
        padding_mode: only ``'zeros'`` is supported.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        - Output: ``(N, C_out, H_out, W_out)``, each ``out = (in - 1) * stride - 2 * padding
          + dilation * (kernel_size - 1) + output_padding + 1``.

    Example:
        >>> nn.ConvTranspose2d(4, 2, 2, stride=2)(ember.randn(1, 4, 5, 5)).shape
        torch.Size([1, 2, 10, 10])
    """

    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: the size of the kernel (an int or a tuple).
        stride: the step of the kernel (default 1).
        padding: ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides of
            the input (default 0).
        output_padding: extra size added to one side of the output, to choose among the
            sizes a strided convolution maps to the same input (default 0).
        groups: split the channels into this many independent groups (default 1).
        bias: learn an additive bias (default True).
        dilation: the spacing between kernel elements (default 1).
        padding_mode: only ``'zeros'`` is supported.
        device: the device of the parameters and buffers (default: the default device).
        dtype: the dtype of the floating-point parameters and buffers (default: the default
            dtype).

    Shape:
        - Input: ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``.
        - Output: ``(N, C_out, D_out, H_out, W_out)``, each ``out = (in - 1) * stride - 2 *
          padding + dilation * (kernel_size - 1) + output_padding + 1``.

    Example:
        >>> nn.ConvTranspose3d(2, 2, 2, stride=2)(ember.randn(1, 2, 2, 2, 2)).shape
        torch.Size([1, 2, 4, 4, 4])
    """

    _nd = 3
